#!/usr/bin/env python3
"""The portal's load benchmark: wrk on loopback against the release `portal`, ratios in one run.

    python3 scripts/portal_bench.py [--duration SECONDS]

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

Needs wrk (Debian package `wrk`).
"""
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


def main():
    secs = 12
    if "--duration" in sys.argv:
        secs = int(sys.argv[sys.argv.index("--duration") + 1])
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (apt-get install wrk)")
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "i3lic-portal",
                    "--bins", "--examples"], cwd=ROOT, check=True)
    rel = os.path.join(target_dir(), "release")
    portal, ledgers = os.path.join(rel, "portal"), os.path.join(rel, "examples", "bench_ledger")
    tmp = tempfile.mkdtemp(prefix="portal-bench-")
    key = os.path.join(tmp, "demo.key")
    shutil.copy(os.path.join(ROOT, "keys-example", "demo.key"), key)
    os.chmod(key, 0o600)
    # The name changes whenever the example builds a different ledger (v2: no ANALYZE; v3:
    # through Ledger::import_files, with an audit row per file).
    big = os.path.join(target_dir(), "portal-bench-1m-v3.db")
    if not (os.path.exists(big) and os.path.exists(big + ".token")):
        for suffix in ("", "-wal", "-shm", ".token"):
            if os.path.exists(big + suffix):
                os.remove(big + suffix)
        print("building the 1,000,000-file ledger (once) ...", file=sys.stderr, flush=True)
        subprocess.run([ledgers, "big", big], check=True)

    rows = []
    # The loads run in turns, ROUNDS times each (health, summary, activity, the same pages
    # for accounts picked at random, health, ...), so that whatever else the machine does
    # falls on all of them alike; throughput is the mean over the turns and p99 the worst.
    turn = max(1, secs // ROUNDS)
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
    got = {name: [] for name, *_ in loads}
    p, base = start(portal, big, key)
    try:
        cookie = "Cookie: " + login(base, "bench@vendor.example", "load-test-secret-1")
        for _ in range(ROUNDS):
            for name, path, auth, page in loads:
                if page:
                    os.environ["I3LIC_BENCH_PAGE"] = page
                got[name].append(wrk(base + path, 64, turn, [cookie] if auth else [],
                                     script=rand if page else None))
        rss = vm_hwm(p.pid)
    finally:
        p.terminate()
        p.wait()
    mean = {n: sum(r for r, _ in v) / len(v) for n, v in got.items()}
    worst = {n: max(q for _, q in v) for n, v in got.items()}
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

    idb = os.path.join(tmp, "issue.db")
    subprocess.run([ledgers, "issue", idb], check=True)
    with open(idb + ".token") as f:
        token = f.read().strip()
    body = json.dumps({"site": "HQ", "product": "CIC", "version": "4.0", "type": "production",
                       "host_id": "1NKRG-23000-002B3-BW000-00GGJ", "machine": "ic1", "server_part": "SW-001-4.0-SL03",
                       "add": [{"part": "SW-001-4.0-AL02", "quantity": 5}]})
    lua = os.path.join(tmp, "post.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n'
                'wrk.headers["Authorization"] = "Bearer %s"\n' % (json.dumps(body), token))
    # In turns as well: the API from one client (one request at a time, as the loop in
    # process issues), as many files in process, the API from four clients, ROUNDS times.
    api1, api4, inproc = [], [], []
    p, base = start(portal, idb, key)
    try:
        for i in range(ROUNDS):
            for conns, got_api in ((1, api1), (4, api4)):
                rate = wrk(base + "/api/v1/accounts/1/files", conns, turn, script=lua, threads=1)[0]
                got_api.append(rate)
                n = max(100, int(rate * turn))
                out = subprocess.run([ledgers, "inprocess", os.path.join(tmp, "inprocess.db"), str(n)],
                                     capture_output=True, text=True, check=True).stdout
                inproc.append(float(out.split()[0]))
    finally:
        p.terminate()
        p.wait()
    inproc = sum(inproc) / len(inproc)
    for conns, got_api in ((1, api1), (4, api4)):
        api = sum(got_api) / len(got_api)
        rows.append((f"files generated through the API, {conns} client{'s' if conns > 1 else ''} / Ledger::issue in process",
                     f"{api / inproc:.2f}x", f"{api:,.0f}/s vs {inproc:,.0f}/s", ">= 0.8x"))
    shutil.rmtree(tmp, ignore_errors=True)

    print("| benchmark | figure | measured | target |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
