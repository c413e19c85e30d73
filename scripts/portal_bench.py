#!/usr/bin/env python3
"""The portal's load benchmark: wrk on loopback against the release `portal`, ratios in one run.

    python3 scripts/portal_bench.py [--duration SECONDS] [--against OLD_PORTAL_BINARY]

1. Account Summary and Activation File Activity pages of one account on a ledger of
   1,000,000 files (1,000 accounts of 1,000 files; built once by the `bench_ledger` example
   and kept in target/), 64 connections: p99 latency and requests/s, against the same
   server's static /health route in the same run, the loads taking turns. Beside them, the
   same pages of an account picked at random for each request (so nothing kept from an
   earlier request serves them), for information.
2. Generating files through the API (POST /api/v1/accounts/{id}/files, one durable
   transaction per file) from one client and from four, against `Ledger::issue` in process
   on the same kind of ledger (the `bench_ledger inprocess` loop, which goes on growing as
   the API's does).
3. The portal's peak resident memory (VmHWM) after the page load.

With --against, every load of 1 and 2 runs on this build's portal and on an older build's
binary (with its `bench_ledger` example in examples/ beside it) in the same turns, the two
servers up side by side, and the table adds each load's throughput, p99 and memory for both
with the new ÷ old ratios. Both ledgers are then made by the older build's `bench_ledger`
(a schema both open; the 1,000,000-file one kept in target/ under a name with a digest of
that example), each build runs on a copy of its own, and the newer build opens its copies
once before the run, which migrates them. The copies are deleted at the end.

Needs wrk (Debian package `wrk`).
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def target_dir():
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(out)["target_directory"]


def start(portal, db, key):
    p = subprocess.Popen([portal, "--db", db, "serve", "--key", key, "--listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    m = re.search(r"http://(\S+?)/", line)
    if not m:
        p.kill()
        sys.exit(f"the portal did not start: {line!r}")
    return p, f"http://{m.group(1)}"


def login(base, email, password):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    r = opener.open(base + "/login")
    cookie = r.headers["Set-Cookie"].split(";")[0]
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.read().decode()).group(1)
    body = urllib.parse.urlencode({"csrf": csrf, "email": email, "password": password}).encode()
    req = urllib.request.Request(base + "/login", data=body, headers={"Cookie": cookie})
    try:
        opener.open(req)
    except urllib.error.HTTPError as e:
        if e.code != 303:
            raise
        return e.headers["Set-Cookie"].split(";")[0]
    sys.exit("login did not redirect")


def wrk(url, conns, secs, headers=(), script=None, threads=2):
    args = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{secs}s", "--latency"]
    for h in headers:
        args += ["-H", h]
    if script:
        args += ["-s", script]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(p99.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        sys.exit(f"{url}: {bad.group(1)} answers were not 2xx/3xx:\n{out}")
    return rps, p99


ROUNDS = 4


def vm_hwm(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def option(name):
    """The value after `name` on the command line, or None."""
    if name not in sys.argv:
        return None
    i = sys.argv.index(name)
    if i + 1 >= len(sys.argv):
        sys.exit(f"{name} needs a value")
    return sys.argv[i + 1]


def digest(path):
    """A short digest of a file: names the ledger a given `bench_ledger` built."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


def copy_ledger(src, dst):
    """A ledger file and its write-ahead log, if any (SQLite's shared memory is remade)."""
    for suffix in ("", "-wal"):
        if os.path.exists(src + suffix):
            shutil.copyfile(src + suffix, dst + suffix)
            os.chmod(dst + suffix, 0o600)


def migrate(portal, db, key):
    """Let `portal` open its copy once, outside the measured run: a newer build migrates an
    older schema when it opens a ledger to write, before it listens."""
    began = time.monotonic()
    p, _ = start(portal, db, key)
    p.terminate()
    p.wait()
    print(f"{db}: opened once by {portal} ({time.monotonic() - began:.1f} s)", file=sys.stderr, flush=True)


def build_big(ledgers, big):
    if not (os.path.exists(big) and os.path.exists(big + ".token")):
        for suffix in ("", "-wal", "-shm", ".token"):
            if os.path.exists(big + suffix):
                os.remove(big + suffix)
        print(f"building the 1,000,000-file ledger {big} (once) ...", file=sys.stderr, flush=True)
        subprocess.run([ledgers, "big", big], check=True)


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "n/a"


def page_loads(servers, turn, tmp):
    """The page loads in turns on every server (`servers`: label, binary, ledger, key); returns
    {label: (mean requests/s per load, worst p99 per load, VmHWM in MiB)}."""
    rand = os.path.join(tmp, "random-account.lua")
    with open(rand, "w") as f:
        f.write('local page = os.getenv("I3LIC_BENCH_PAGE")\n'
                'request = function()\n'
                '  return wrk.format(nil, "/accounts/" .. math.random(1, 1000) .. "/" .. page)\n'
                'end\n')
    loads = [
        ("health", "/health", False, None),
        ("summary", "/accounts/1/summary", True, None),
        ("activity", "/accounts/1/activity", True, None),
        ("summary-any", "/", True, "summary"),
        ("activity-any", "/", True, "activity"),
    ]
    got = {label: {name: [] for name, *_ in loads} for label, *_ in servers}
    running, rss = [], {}
    try:
        for label, portal, db, key in servers:
            p, base = start(portal, db, key)
            running.append((label, p, base))
        cookies = {label: "Cookie: " + login(base, "bench@vendor.example", "load-test-secret-1")
                   for label, _, base in running}
        # Each load runs on every server in turn before the next load (first one build,
        # then the other, by rounds), so that whatever else the machine does falls on the
        # builds alike too.
        for i in range(ROUNDS):
            for name, path, auth, page in loads:
                if page:
                    os.environ["I3LIC_BENCH_PAGE"] = page
                for label, _, base in (running if i % 2 == 0 else running[::-1]):
                    got[label][name].append(wrk(base + path, 64, turn, [cookies[label]] if auth else [],
                                                script=rand if page else None))
        rss = {label: vm_hwm(p.pid) for label, p, _ in running}
    finally:
        for _, p, _ in running:
            p.terminate()
            p.wait()
    out = {}
    for label, by_load in got.items():
        mean = {n: sum(r for r, _ in v) / len(v) for n, v in by_load.items()}
        worst = {n: max(q for _, q in v) for n, v in by_load.items()}
        out[label] = (mean, worst, rss[label])
    return out


def page_rows(mean, worst, rss):
    rows = []
    health = mean["health"]
    rows.append(("health route (baseline), 64 connections", f"{health:,.0f}/s", f"p99 {worst['health']:.2f} ms", ""))
    for name, key_ in (("Account Summary", "summary"), ("Activation File Activity", "activity")):
        r, q = mean[key_], worst[key_]
        rows.append((f"{name} page of one account, 1,000,000-file ledger, 64 connections: p99", f"{q:.1f} ms", f"{r:,.0f}/s", "p99 <= 50 ms"))
        rows.append((f"{name} throughput / health route", f"{r / health:.2f}x", f"{r:,.0f}/s vs {health:,.0f}/s", ">= 0.3x"))
    for name, key_ in (("Account Summary", "summary-any"), ("Activation File Activity", "activity-any")):
        r, q = mean[key_], worst[key_]
        rows.append((f"{name} page of any of the 1,000 accounts (nothing kept from an earlier request): p99 / throughput", f"{q:.1f} ms", f"{r:,.0f}/s, {r / health:.2f}x health", "(not a target)"))
    rows.append(("portal peak resident memory under that load (VmHWM)", f"{rss:.1f} MiB", "", "<= 100 MiB"))
    return rows


PAGES = (
    ("health", "health route", ""),
    ("summary", "Account Summary page of one account", "p99 <= 50 ms, >= 0.3x health"),
    ("activity", "Activation File Activity page of one account", "p99 <= 50 ms, >= 0.3x health"),
    ("summary-any", "Account Summary page of any account", "(not a target)"),
    ("activity-any", "Activation File Activity page of any account", "(not a target)"),
)


def comparison_rows(new, old):
    """New against old, load by load: the figure is new ÷ old throughput; p99 and each
    build's throughput / its own health route beside it."""
    (nm, nw, nrss), (om, ow, orss) = new, old
    rows = []
    for key_, name, target in PAGES:
        health = "" if key_ == "health" else \
            f"; {nm[key_] / nm['health']:.2f}x / {om[key_] / om['health']:.2f}x health"
        rows.append((f"new / old: {name}, 64 connections (throughput ratio)", ratio(nm[key_], om[key_]),
                     f"{nm[key_]:,.0f}/s vs {om[key_]:,.0f}/s; p99 {nw[key_]:.1f} ms vs {ow[key_]:.1f} ms"
                     f" ({ratio(nw[key_], ow[key_])}){health}", target))
    rows.append(("new / old: peak resident memory (VmHWM)", ratio(nrss, orss), f"{nrss:.1f} MiB vs {orss:.1f} MiB", "<= 100 MiB"))
    return rows


def issue_body(with_account):
    """The API's issue request; the release before the restructure took the account in the
    body too (empty: the address's), the restructured API takes it from the address only."""
    req = {"site": "HQ", "product": "CIC", "version": "4.0", "type": "production",
           "host_id": "1NKRG-23000-002B3-BW000-00GGJ", "machine": "ic1", "server_part": "SW-001-4.0-SL03",
           "add": [{"part": "SW-001-4.0-AL02", "quantity": 5}]}
    if with_account:
        req = {"account": "", **req}
    return json.dumps(req)


def body_for(base, token):
    """The request body this server takes: one file issued to find out."""
    for with_account in (False, True):
        body = issue_body(with_account)
        req = urllib.request.Request(base + "/api/v1/accounts/1/files", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
        try:
            urllib.request.urlopen(req).read()
            return body
        except urllib.error.HTTPError as e:
            if e.code not in (400, 422):
                sys.exit(f"{base}: issuing a file answered {e.code}: {e.read()[:300]!r}")
    sys.exit(f"{base}: the API refused the issue request with and without an account in the body")


def api_loads(servers, turn, tmp, ledgers):
    """Files generated through the API on every server, in turns with `Ledger::issue` in
    process; returns ({label: (1-client rate, 4-client rate)}, in-process rate)."""
    rates = {label: {1: [], 4: []} for label, *_ in servers}
    inproc, running = [], []
    try:
        for label, portal, db, key in servers:
            p, base = start(portal, db, key)
            with open(db + ".token") as f:
                token = f.read().strip()
            lua = os.path.join(tmp, f"post-{label or 'portal'}.lua")
            with open(lua, "w") as f:
                f.write('wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n'
                        'wrk.headers["Authorization"] = "Bearer %s"\n' % (json.dumps(body_for(base, token)), token))
            running.append((label, p, base, lua))
        # In turns: the API from one client (one request at a time, as the loop in process
        # issues) on each server, as many files in process, the same from four clients,
        # ROUNDS times.
        for i in range(ROUNDS):
            for conns in (1, 4):
                for label, _, base, lua in (running if i % 2 == 0 else running[::-1]):
                    rates[label][conns].append(wrk(base + "/api/v1/accounts/1/files", conns, turn, script=lua, threads=1)[0])
                n = max(100, int(rates[running[0][0]][conns][-1] * turn))
                out = subprocess.run([ledgers, "inprocess", os.path.join(tmp, "inprocess.db"), str(n)],
                                     capture_output=True, text=True, check=True).stdout
                inproc.append(float(out.split()[0]))
    finally:
        for _, p, _, _ in running:
            p.terminate()
            p.wait()
    mean = {label: tuple(sum(v[c]) / len(v[c]) for c in (1, 4)) for label, v in rates.items()}
    return mean, sum(inproc) / len(inproc)


def api_rows(api1, api4, inproc):
    rows = []
    for conns, api in ((1, api1), (4, api4)):
        rows.append((f"files generated through the API, {conns} client{'s' if conns > 1 else ''} / Ledger::issue in process",
                     f"{api / inproc:.2f}x", f"{api:,.0f}/s vs {inproc:,.0f}/s", ">= 0.8x"))
    return rows


def main():
    secs = int(option("--duration") or 12)
    against = option("--against")
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (apt-get install wrk)")
    old_ledgers = None
    if against:
        against = os.path.abspath(against)
        if not (os.path.isfile(against) and os.access(against, os.X_OK)):
            sys.exit(f"--against {against}: not an executable file")
        old_ledgers = os.path.join(os.path.dirname(against), "examples", "bench_ledger")
        if not (os.path.isfile(old_ledgers) and os.access(old_ledgers, os.X_OK)):
            sys.exit(f"--against: the same build's bench_ledger example is needed at {old_ledgers} "
                     "(cargo build --release -p i3lic-portal --bin portal --example bench_ledger there)")
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "i3lic-portal",
                    "--bins", "--examples"], cwd=ROOT, check=True)
    rel = os.path.join(target_dir(), "release")
    portal, ledgers = os.path.join(rel, "portal"), os.path.join(rel, "examples", "bench_ledger")
    tmp = tempfile.mkdtemp(prefix="portal-bench-")
    try:
        rows = run(secs, against, old_ledgers, portal, ledgers, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("| benchmark | figure | measured | target |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")


def run(secs, against, old_ledgers, portal, ledgers, tmp):
    key = os.path.join(tmp, "demo.key")
    shutil.copy(os.path.join(ROOT, "keys-example", "demo.key"), key)
    os.chmod(key, 0o600)
    # The loads run in turns, ROUNDS times each (health, summary, activity, the same pages
    # for accounts picked at random, health, ...), so that whatever else the machine does
    # falls on all of them alike; throughput is the mean over the turns and p99 the worst.
    turn = max(1, secs // ROUNDS)
    if not against:
        # The name changes whenever the example builds a different ledger (v2: no ANALYZE;
        # v3: through Ledger::import_files, with an audit row per file).
        big = os.path.join(target_dir(), "portal-bench-1m-v3.db")
        build_big(ledgers, big)
        pages = page_loads([("", portal, big, key)], turn, tmp)[""]
        rows = page_rows(*pages)
        idb = os.path.join(tmp, "issue.db")
        subprocess.run([ledgers, "issue", idb], check=True)
        api, inproc = api_loads([("", portal, idb, key)], turn, tmp, ledgers)
        return rows + api_rows(*api[""], inproc)

    # Against an older build: the ledgers are made by the older build's bench_ledger (a
    # schema both builds open), kept pristine, and each build gets a copy of its own, the
    # new build's migrated before the run.
    big = os.path.join(target_dir(), f"portal-bench-1m-v3-{digest(old_ledgers)}.db")
    build_big(old_ledgers, big)
    idb = os.path.join(tmp, "issue.db")
    subprocess.run([old_ledgers, "issue", idb], check=True)
    servers = {}
    for label, binary in (("new", portal), ("old", against)):
        db, small = os.path.join(tmp, f"big-{label}.db"), os.path.join(tmp, f"issue-{label}.db")
        copy_ledger(big, db)
        copy_ledger(idb, small)
        shutil.copyfile(idb + ".token", small + ".token")
        if label == "new":
            migrate(binary, db, key)
            migrate(binary, small, key)
        servers[label] = (binary, db, small)
    pages = page_loads([(label, b, db, key) for label, (b, db, _) in servers.items()], turn, tmp)
    for label, (_, db, _) in servers.items():
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
    api, inproc = api_loads([(label, b, small, key) for label, (b, _, small) in servers.items()], turn, tmp, ledgers)
    rows = page_rows(*pages["new"]) + api_rows(*api["new"], inproc)
    rows += comparison_rows(pages["new"], pages["old"])
    for i, conns in enumerate((1, 4)):
        n, o = api["new"][i], api["old"][i]
        rows.append((f"new / old: files generated through the API, {conns} client{'s' if conns > 1 else ''}",
                     ratio(n, o), f"{n:,.0f}/s vs {o:,.0f}/s; {n / inproc:.2f}x / {o / inproc:.2f}x in process",
                     ">= 0.8x in process" if conns == 4 else "(see BENCHMARKS.md)"))
    return rows


if __name__ == "__main__":
    main()
