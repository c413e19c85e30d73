#!/usr/bin/env python3
"""The license server's shift-change benchmark: `licadmin serve` under a logon burst.

    python3 scripts/serve_bench.py [--skip-postgres]

Starts its own PostgreSQL server (scripts/postgres-test.sh, fsync ON) under target/pg-bench
and removes it at the end. For a store on SQLite, then on PostgreSQL:

1. the 8:00 shift change: 500 users logging on through HTTP (`POST /v1/sessions`) from 64
   concurrent clients, each on a kept-alive connection: total time, p50 and p99 latency; and
   the same 500 logons through `Allocator::login` in process (the `shift_change inprocess`
   example), taking turns, three rounds: the ratio HTTP / in process;
2. (SQLite) heartbeats per second sustained for 5,000 open sessions from 64 clients, and the
   server's peak resident memory (VmHWM) with them.

The clients are Python threads: at the heartbeat rates reached, the client side is part of
what is measured (said beside the figure).
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

from pg_bench_server import ROOT, database, free_port, run_with_server, target_dir
ROUNDS = 3
USERS = 500
CLIENTS = 64










class Server:
    def __init__(self, licadmin, store, d):
        self.port = free_port()
        with open(os.path.join(d, "host")) as f:
            host = f.read().strip()
        self.log = open(os.path.join(d, f"serve-{self.port}.log"), "w")
        self.p = subprocess.Popen([licadmin, "--store", store, "--trust", os.path.join(d, "vendor.pub"),
                                   "--host-id", host, "serve", "--listen", f"127.0.0.1:{self.port}"],
                                  stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.p.kill()
        sys.exit("licadmin serve did not start; see " + self.log.name)

    def stop(self):
        self.p.terminate()
        self.p.wait()
        self.log.close()

    def peak_mib(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0


def burst(port, token, method, paths, bodies):
    """Each request of `paths` once, from CLIENTS threads on kept-alive connections:
    (seconds in all, latencies, answers)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    lock = threading.Lock()
    nxt = [0]
    lat, answers = [], [None] * len(paths)

    def client():
        c = http.client.HTTPConnection("127.0.0.1", port)
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(paths):
                return
            t = time.perf_counter()
            c.request(method, paths[i], bodies[i], headers)
            r = c.getresponse()
            body = r.read()
            dt = time.perf_counter() - t
            with lock:
                lat.append(dt)
            answers[i] = (r.status, body)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, sorted(lat), answers


def pct(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def shift_change(engine, store, licadmin, example, d, rows):
    subprocess.run([example, "setup", store, str(USERS), d], check=True)
    with open(os.path.join(d, "token")) as f:
        token = f.read().strip()
    totals, inproc, lats = [], [], []
    for _ in range(ROUNDS):
        s = Server(licadmin, store, d)
        try:
            bodies = [json.dumps({"user": f"u{i}", "lease_seconds": 600}) for i in range(USERS)]
            total, lat, answers = burst(s.port, token, "POST", ["/v1/sessions"] * USERS, bodies)
            bad = [a for a in answers if a[0] != 201]
            if bad:
                sys.exit(f"{engine}: {len(bad)} logons refused, first: {bad[0]}")
            ids = [json.loads(b)["session"] for _, b in answers]
            burst(s.port, token, "DELETE", [f"/v1/sessions/{i}" for i in ids], [None] * USERS)
        finally:
            s.stop()
        totals.append(total)
        lats += lat
        out = subprocess.run([example, "inprocess", store, str(USERS), d], capture_output=True, text=True,
                             check=True).stdout
        inproc.append(float(out.split()[0]))
    lats.sort()
    http_t, in_t = sum(totals) / len(totals), sum(inproc) / len(inproc)
    target = "≤ 2 s" if engine == "SQLite" else "≤ 3 s"
    rows.append((f"{engine}: 500 logons through HTTP from 64 clients (mean of {ROUNDS})", f"{http_t:.2f} s",
                 f"p50 {pct(lats, 0.5) * 1e3:.1f} ms, p99 {pct(lats, 0.99) * 1e3:.1f} ms (target p99 ≤ 50 ms)", target))
    rows.append((f"{engine}: the same through HTTP / `Allocator::login` in process", f"{http_t / in_t:.2f}x",
                 f"{http_t:.2f} s vs {in_t:.2f} s", "≤ 1.5×"))


def heartbeats(store, licadmin, example, d, rows):
    n = 5000
    subprocess.run([example, "setup", store, str(n), d], check=True)
    with open(os.path.join(d, "token")) as f:
        token = f.read().strip()
    s = Server(licadmin, store, d)
    try:
        bodies = [json.dumps({"user": f"u{i}", "lease_seconds": 600}) for i in range(n)]
        _, _, answers = burst(s.port, token, "POST", ["/v1/sessions"] * n, bodies)
        ids = [json.loads(b)["session"] for st, b in answers if st == 201]
        if len(ids) != n:
            sys.exit(f"only {len(ids)} of {n} sessions opened")
        paths = [f"/v1/sessions/{ids[i % n]}/heartbeat" for i in range(2 * n)]
        total, lat, answers = burst(s.port, token, "POST", paths, [b"{}"] * len(paths))
        if any(st != 200 for st, _ in answers):
            sys.exit("a heartbeat failed")
        peak = s.peak_mib()
    finally:
        s.stop()
    rows.append(("SQLite: heartbeats per second, 5,000 open sessions, 64 clients", f"{len(paths) / total:,.0f}/s",
                 f"p99 {pct(lat, 0.99) * 1e3:.1f} ms (Python clients)", ""))
    rows.append(("SQLite: server's peak resident memory with 5,000 sessions (VmHWM)", f"{peak:.1f} MiB", "",
                 "≤ 64 MiB"))


def main():
    run_with_server("serve_bench.py")
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "i3lic-allocation", "--bin", "licadmin",
                    "--example", "shift_change"], cwd=ROOT, check=True, capture_output=True)
    rel = os.path.join(target_dir(), "release")
    licadmin, example = os.path.join(rel, "licadmin"), os.path.join(rel, "examples", "shift_change")
    rows = []
    d = tempfile.mkdtemp(prefix="i3lic-serve-bench-")
    shift_change("SQLite", os.path.join(d, "alloc.db"), licadmin, example, d, rows)
    if "--skip-postgres" not in sys.argv:
        d2 = tempfile.mkdtemp(prefix="i3lic-serve-bench-")
        shift_change("PostgreSQL", database("bench_serve"), licadmin, example, d2, rows)
    d3 = tempfile.mkdtemp(prefix="i3lic-serve-bench-")
    heartbeats(os.path.join(d3, "alloc.db"), licadmin, example, d3, rows)
    print("| benchmark | figure | measured | target |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
