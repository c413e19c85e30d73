#!/usr/bin/env python3
"""Usage history and import benchmarks (issue 22, "Speed"), each beside a baseline of the
same run:

    python3 scripts/history_bench.py [--quick] [--skip-postgres] [--users N]

1. `cargo bench -p i3lic-allocation --bench history`: `Allocator::usage` by day over 400
   days at 50,000 events a day (20,000,000 events; the store is built once under
   target/tmp/allocation-bench/, about 2 GB) against one read of the day counters; the
   whole `licadmin usage --by day` process; logon + logoff with history recorded against
   the same with it switched off in the bench's own store. Then the peak resident memory of
   `licadmin usage --by day` over those 400 days (GNU time's maximum RSS).
2. `import users` of N users (10,000 by default) with licenses, on SQLite and on a
   PostgreSQL server of its own (fsync on, under target/pg-bench, removed at the end),
   through the release `import_bench` example; against plain single-row inserts of the same
   users and keys in one transaction on the same engine.

Prints a table in BENCHMARKS.md's form; the criterion output is kept in
target/bench-allocation-history.log.
"""
import os
import re
import subprocess
import sys
import tempfile

from pg_bench_server import ROOT, database, run_with_server, target_dir

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (parse, find, fmt_time, peak_rss_kib)


def arg(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


def history(rows, quick):
    t = bench.run("allocation", "history", quick)
    usage, bare = bench.find(t, "usage/by_day_400_days"), bench.find(t, "usage/bare_day_counters")
    rows.append(("`usage` by day, 400 days of 50,000 events a day (20 M events)",
                 bench.fmt_time(usage) if usage else "not measured", "", "≤ 200 ms"))
    if usage and bare:
        rows.append(("  the same / one read of the day counters of the range", f"{usage / bare:.2f}×",
                     f"{bench.fmt_time(usage)} vs {bench.fmt_time(bare)}", ""))
    proc = bench.find(t, "usage/licadmin_usage_by_day")
    rows.append(("the whole `licadmin usage --by day` process, the same store",
                 bench.fmt_time(proc) if proc else "not measured", "", "≤ 200 ms"))
    d = os.path.join(target_dir(), "tmp", "allocation-bench")
    exe = os.path.join(target_dir(), "release", "licadmin")
    with open(os.path.join(d, "history.host")) as f:
        host = f.read().strip()
    with open(os.path.join(d, "history.range")) as f:
        first, last = f.read().split()
    kib = bench.peak_rss_kib([exe, "--store", os.path.join(d, "history.db"), "--trust",
                              os.path.join(d, "history.pub"), "--host-id", host, "usage", "--by",
                              "day", "--from", first, "--to", last])
    rows.append(("`licadmin usage --by day` peak memory, the same store", f"{kib / 1024:.1f} MiB",
                 f"{kib:,} KiB maximum resident set", "≤ 64 MiB"))
    on, off = t.get("record/logon_logoff_4_keys"), t.get("record/logon_logoff_4_keys_unrecorded")
    if on and off:
        rows.append(("logon + logoff (4 keys) with history / with history switched off", f"{on / off:.2f}×",
                     f"{bench.fmt_time(on)} vs {bench.fmt_time(off)}", "≤ 1.15×"))


def run_import(example, store, n):
    out = subprocess.run([example, store, str(n)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"import_bench {store} failed: {out.stderr[-2000:]}")
    return {k: float(v) for k, v in re.findall(r"^(\w+) ([0-9.]+)$", out.stdout, re.M)}


def imports(rows, n, engines):
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "i3lic-allocation", "--example",
                    "import_bench"], cwd=ROOT, check=True, capture_output=True)
    example = os.path.join(target_dir(), "release", "examples", "import_bench")
    for engine in engines:
        if engine == "SQLite":
            d = tempfile.mkdtemp(prefix="i3lic-import-bench-", dir=os.path.join(target_dir(), "tmp"))
            store = os.path.join(d, "alloc.db")
        else:
            store = database("bench_import")
        print(f"$ {example} {engine} {n}", file=sys.stderr, flush=True)
        r = run_import(example, store, n)
        rows.append((f"{engine}: `import users` of {n:,} users with licenses (one transaction)",
                     f"{r['import']:.2f} s", "", "≤ 5 s"))
        rows.append((f"  {engine}: the same / single-row inserts of the users and keys, no triggers",
                     f"{r['import'] / r['bare']:.1f}×", f"{r['import']:.2f} s vs {r['bare']:.3f} s", ""))
        if engine == "SQLite":
            for f in os.listdir(d):
                os.remove(os.path.join(d, f))
            os.rmdir(d)


def main():
    skip_pg = "--skip-postgres" in sys.argv
    if not skip_pg:
        run_with_server("history_bench.py")
    rows = []
    if "--only-import" not in sys.argv:
        history(rows, "--quick" in sys.argv)
    imports(rows, int(arg("--users", "10000")), ["SQLite"] if skip_pg else ["SQLite", "PostgreSQL"])
    print("| benchmark | figure | measured | target |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
