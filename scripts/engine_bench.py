#!/usr/bin/env python3
"""The ledger engines' benchmark: SQLite and PostgreSQL, ratios measured in one run.

    python3 scripts/engine_bench.py [--seconds N] [--skip-copy]

Starts its own PostgreSQL server (scripts/postgres-test.sh, with fsync ON: the figures are
for durable commits) under target/pg-bench, and removes it at the end. Prints the
"ledger engines" table of BENCHMARKS.md:

1. `cargo bench -p i3lic-issuer --bench issue -- ledger`: one issue transaction against one
   bare durable commit of a 2 KiB row (BEGIN, INSERT, COMMIT as they are), on SQLite and on
   PostgreSQL, same server, same run.
2. Files generated through the API with two `portal serve` processes on one PostgreSQL
   ledger (a client per portal, one request at a time each), against `Ledger::issue` in
   process on PostgreSQL (the `bench_ledger inprocess` loop), taking turns.
3. `issuer ledger copy` of the 1,000,000-file bench ledger (`bench_ledger big`, built once
   and kept in target/) from SQLite into PostgreSQL: files per second and the peak resident
   memory of the process.
"""
import http.client
import json
import shutil
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

from pg_bench_server import ROOT, database, free_port, run_with_server, target_dir
ROUNDS = 3










def criterion(args):
    """criterion's `name  time: [low est high]` lines -> {name: seconds}."""
    env = dict(os.environ)
    out = subprocess.run(["cargo", "bench", "--locked", "-p", "i3lic-issuer", "--bench", "issue", "--"] + args,
                         cwd=ROOT, capture_output=True, text=True, env=env)
    text = out.stdout + out.stderr
    with open(os.path.join(target_dir(), "bench-engines.log"), "w") as f:
        f.write(text)
    if out.returncode != 0:
        sys.exit(text[-4000:])
    units = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    times, name = {}, None
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("change:") or "%" in s:
            continue
        if "time:" in s:
            head = s.split("time:")[0].strip()
            if head:
                name = head
            est = s.split("[")[1].split("]")[0].split()
            times[name] = float(est[2]) * units[est[3]]
        elif s and not s.startswith(("Benchmarking", "Found", "Warning", "change", "thrpt", "Performance", "No change")) and " " not in s:
            name = s
    return times




def start_portal(portal, db, key, log):
    port = free_port()
    # Its log goes to a file: a pipe nobody reads would fill and stop the server.
    err = open(log, "w")
    p = subprocess.Popen([portal, "--db", db, "serve", "--key", key, "--listen", f"127.0.0.1:{port}"],
                         stdout=subprocess.DEVNULL, stderr=err)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    with open(log) as f:
        sys.exit("portal did not start: " + f.read())


def api_load(ports, token, seconds):
    """One client per port, each one request at a time; files per second in all."""
    body = json.dumps({"site": "HQ", "product": "CIC", "version": "4.0", "type": "production",
                       "host_id": "1NKRG-23000-002B3-BW000-00GGJ", "machine": "ic1",
                       "server_part": "SW-001-4.0-SL03", "add": [{"part": "SW-001-4.0-AL02", "quantity": 5}]})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    counts = [0] * len(ports)
    stop = time.monotonic() + seconds

    def client(i, port):
        c = http.client.HTTPConnection("127.0.0.1", port)
        while time.monotonic() < stop:
            c.request("POST", "/api/v1/accounts/1/files", body, headers)
            r = c.getresponse()
            r.read()
            if r.status != 201:
                raise SystemExit(f"API answered {r.status}")
            counts[i] += 1

    threads = [threading.Thread(target=client, args=(i, p)) for i, p in enumerate(ports)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - t0)


def main():
    seconds = 10
    if "--seconds" in sys.argv:
        seconds = int(sys.argv[sys.argv.index("--seconds") + 1])
    run_with_server("engine_bench.py")

    rows = []
    t = criterion(["ledger"])
    for group, engine in (("ledger", "SQLite"), ("ledger-postgres", "PostgreSQL")):
        issue, bare = t[f"{group}/issue"], t[f"{group}/bare_durable_commit"]
        rows.append((f"{engine}: issue transaction / bare durable commit", f"{issue / bare:.2f}x",
                     f"{issue * 1e6:,.0f} µs vs {bare * 1e6:,.0f} µs", "≤ 3×" if engine == "PostgreSQL" else ""))
    rows.append(("SQLite: durable issues per second, 100 files per transaction",
                 f"{100 / t['ledger/issue_batch_100']:,.0f}/s", f"{t['ledger/issue_batch_100'] * 1e3:.1f} ms per batch", "≥ 1,000/s"))

    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "i3lic-portal", "-p", "i3lic-issuer",
                    "--example", "bench_ledger", "--bin", "portal", "--bin", "issuer"],
                   cwd=ROOT, check=True, capture_output=True)
    rel = os.path.join(target_dir(), "release")
    portal, issuer, ledgers = (os.path.join(rel, "portal"), os.path.join(rel, "issuer"),
                               os.path.join(rel, "examples", "bench_ledger"))
    tmp = tempfile.mkdtemp(prefix="i3lic-engine-bench-")
    # A secret key others may read is refused: a private copy of the demo key.
    key = os.path.join(tmp, "demo.key")
    shutil.copy(os.path.join(ROOT, "keys-example", "demo.key"), key)
    os.chmod(key, 0o600)
    env = dict(os.environ, I3LIC_BENCH_TOKEN=os.path.join(tmp, "token"))
    api_db, inproc_db = database("bench_api"), database("bench_inprocess")
    subprocess.run([ledgers, "issue", api_db], check=True, env=env)
    with open(env["I3LIC_BENCH_TOKEN"]) as f:
        token = f.read().strip()
    portals = [start_portal(portal, api_db, key, os.path.join(tmp, f"portal{n}.log")) for n in range(2)]
    api, inproc = [], []
    try:
        for _ in range(ROUNDS):
            rate = api_load([port for _, port in portals], token, seconds)
            api.append(rate)
            n = max(100, int(rate * seconds))
            out = subprocess.run([ledgers, "inprocess", inproc_db, str(n)], capture_output=True, text=True,
                                 check=True, env=env).stdout
            inproc.append(float(out.split()[0]))
    finally:
        for p, _ in portals:
            p.terminate()
            p.wait()
    a, i = sum(api) / len(api), sum(inproc) / len(inproc)
    rows.append(("PostgreSQL: files through the API, two portal processes / Ledger::issue in process",
                 f"{a / i:.2f}x", f"{a:,.0f}/s vs {i:,.0f}/s", "≥ 0.8×"))

    if "--skip-copy" not in sys.argv:
        big = os.path.join(target_dir(), "portal-bench-1m-v3.db")
        if not os.path.exists(big):
            subprocess.run([ledgers, "big", big], check=True)
        dst = database("bench_copy")
        t0 = time.monotonic()
        # GNU time's %M: the copy's own peak resident set, in KiB.
        out = subprocess.run(["/usr/bin/time", "-f", "%M", issuer, "--db", big, "--json", "ledger", "copy", dst,
                              "--quiet"], capture_output=True, text=True)
        elapsed = time.monotonic() - t0
        if out.returncode != 0:
            sys.exit(out.stderr)
        peak = int(out.stderr.strip().splitlines()[-1])
        files = json.loads(out.stdout)["files"]
        rows.append(("`ledger copy` of the 1,000,000-file bench ledger, SQLite to PostgreSQL",
                     f"{files / elapsed:,.0f} files/s", f"{files:,} files in {elapsed:,.0f} s", ""))
        rows.append(("the same: peak resident memory of the copy", f"{peak / 1024:,.0f} MiB", "",
                     "≤ 200 MiB"))

    print("| benchmark | figure | measured | target |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
