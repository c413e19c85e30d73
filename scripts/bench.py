#!/usr/bin/env python3
"""Run every benchmark of the workspace and print the ratios BENCHMARKS.md quotes.

    python3 scripts/bench.py [--quick] [crate ...]     # crates: hostid format issuer verify allocation portal

Each figure is a ratio against a baseline measured in the same run (these machines are
noisy), or an absolute time where the target is absolute. The raw criterion lines are kept
in target/bench-*.log. The portal's figures come from scripts/portal_bench.py (a load
generator, wrk, against the release server), run last; the allocation crate's usage history
and import figures from scripts/history_bench.py (with a PostgreSQL server of its own).
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNITS = {"ps": 1e-12, "ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}

# (crate, bench target)
BENCHES = [
    ("hostid", "gethostid"),
    ("format", "verify"),
    ("issuer", "issue"),
    ("issuer", "activity"),
    ("issuer", "deactivate"),
    ("verify", "load"),
    ("allocation", "allocation"),
]


def run(crate, bench, quick):
    args = ["cargo", "bench", "--locked", "-p", f"i3lic-{crate}", "--bench", bench, "--"]
    if quick:
        args += ["--warm-up-time", "1", "--measurement-time", "3"]
    log = os.path.join(ROOT, "target", f"bench-{crate}-{bench}.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    print(f"$ {' '.join(args)}", file=sys.stderr, flush=True)
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    with open(log, "w") as f:
        f.write(out.stdout + out.stderr)
    if out.returncode != 0:
        sys.exit(f"bench {crate}/{bench} failed, see {log}")
    return parse(out.stdout)


def parse(text):
    """criterion's `name  time: [low est high]` lines -> {name: seconds (estimate)}."""
    times, name = {}, None
    for line in text.splitlines():
        m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", line)
        head = line.split("time:")[0].strip()
        if head:
            name = head
        if m and name:
            times[name] = float(m.group(1)) * UNITS[m.group(2)]
            name = None
    return times


def peak_rss_kib(args):
    """Run a process to its end; its maximum resident set size in KiB. Through GNU time
    (`/usr/bin/time -f %M`, a small process that forks and execs) when there is one: a child
    forked from this Python process would count Python's own pages, mapped before the exec,
    in its peak (wait4 then gives an upper bound only, about 14 MiB here)."""
    time_bin = "/usr/bin/time"
    if os.access(time_bin, os.X_OK):
        out = subprocess.run([time_bin, "-f", "maxrss %M"] + args, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        if out.returncode != 0:
            sys.exit(f"{' '.join(args)} failed: {out.stderr}")
        return int(re.findall(r"maxrss (\d+)", out.stderr)[-1])
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(args)} failed")
    return usage.ru_maxrss


def licadmin_report_rss():
    """Peak memory of `licadmin report` on the bench's 100,000-user store (built by the
    allocation bench, with its key and host-ID code beside it)."""
    d = os.path.join(ROOT, "target", "tmp", "allocation-bench")
    exe = os.path.join(ROOT, "target", "release", "licadmin")
    store = os.path.join(d, "large.db")
    if not all(os.path.exists(p) for p in (exe, store, os.path.join(d, "large.pub"))):
        return None
    with open(os.path.join(d, "large.host")) as f:
        host = f.read().strip()
    print(f"$ {exe} --store {store} ... report  (peak memory)", file=sys.stderr, flush=True)
    return peak_rss_kib([exe, "--store", store, "--trust", os.path.join(d, "large.pub"),
                         "--host-id", host, "report"])


def history_rows(rows, quick):
    """scripts/history_bench.py (usage history and import, its own PostgreSQL server):
    its table's rows, prefixed with `allocation:`."""
    args = [sys.executable, os.path.join(ROOT, "scripts", "history_bench.py")]
    if quick:
        args.append("--quick")
    print(f"$ {' '.join(args)}", file=sys.stderr, flush=True)
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        rows.append(("allocation history benchmark", "not measured", out.stderr.strip()[-200:], ""))
    for line in out.stdout.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4:
            rows.append(("allocation: " + cells[0], *cells[1:]))


def find(times, *parts):
    for k, v in times.items():
        if all(p in k for p in parts):
            return v
    return None


def fmt_time(s):
    for unit, f in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= f:
            return f"{s / f:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def main():
    quick = "--quick" in sys.argv
    wanted = [a for a in sys.argv[1:] if not a.startswith("--")]
    rows = []

    def ratio(name, num, den, target, invert=False):
        if num is None or den is None:
            rows.append((name, "not measured", "", target))
            return
        r = den / num if invert else num / den
        rows.append((name, f"{r:.2f}×", f"{fmt_time(num)} vs {fmt_time(den)}", target))

    def absolute(name, t, target, per_second=False):
        if t is None:
            rows.append((name, "not measured", "", target))
            return
        shown = f"{1 / t:,.0f}/s" if per_second else fmt_time(t)
        rows.append((name, shown, fmt_time(t), target))

    for crate, bench in BENCHES:
        if wanted and crate not in wanted:
            continue
        t = run(crate, bench, quick)
        if (crate, bench) == ("hostid", "gethostid"):
            ratio("gethostid process / trivial process", find(t, "process/gethostid"),
                  find(t, "process/trivial"), "≤ 2×")
            absolute("hostid::current() host probe", find(t, "in-process/current"), "< 1 ms")
            absolute("hostid strong-code probe", find(t, "in-process/probe_strong"), "< 1 ms")
        elif (crate, bench) == ("format", "verify"):
            ratio("format parse + verify / bare verify_strict", find(t, "parse + verify"),
                  find(t, "bare verify_strict"), "≤ 1.3×")
            ratio("format v3 file bound to an install key: parse + verify / bare verify_strict",
                  find(t, "verify-v3", "parse + verify"), find(t, "verify-v3", "bare verify_strict"),
                  "≤ 1.3×")
            ratio("format sign throughput / bare ed25519 sign", find(t, "validate + encode + sign"),
                  find(t, "bare sign"), "≥ 0.8×", invert=True)
        elif (crate, bench) == ("issuer", "issue"):
            ratio("issuer signing path throughput / bare ed25519 sign",
                  find(t, "sign/activation_file"), find(t, "sign/ed25519_bare"), "≥ 0.8×",
                  invert=True)
            absolute("issuer durable issues per second (one file per transaction)",
                     find(t, "ledger/issue"), "(fsync-bound)", per_second=True)
            ratio("issuer issue transaction / bare durable SQLite commit",
                  find(t, "ledger/issue"), find(t, "ledger/bare_durable_commit"), "")
            batch = find(t, "ledger/issue_batch_100")
            absolute("issuer durable issues per second (100 files per transaction)",
                     None if batch is None else batch / 100, "≥ 1,000/s", per_second=True)
        elif (crate, bench) == ("issuer", "deactivate"):
            ratio("issuer deactivate --receipt / issuer deactivate (no receipt)",
                  find(t, "deactivate/with_receipt"), find(t, "deactivate/without_receipt"),
                  "≤ 1.2×")
        elif (crate, bench) == ("issuer", "activity"):
            absolute("issuer activity --account on 1,000,000 files (process)",
                     find(t, "activity/process_account"), "≤ 50 ms")
            ratio("  the same / `issuer --version` process", find(t, "activity/process_account"),
                  find(t, "baseline/process_version"), "")
        elif (crate, bench) == ("verify", "load"):
            ratio("verify load / bare verify_strict (given host)", find(t, "load (given host)"),
                  find(t, "verify_strict (baseline)"), "≤ 1.3×")
            absolute("verify host probe (hostid::current_strong())", find(t, "host probe"),
                     "< 1 ms")

        elif (crate, bench) == ("allocation", "allocation"):
            ratio("allocation logon + logoff (4 keys) / two bare durable transactions",
                  find(t, "session/logon_logoff_4_keys"), find(t, "session/bare_two_transactions"),
                  "≤ 3×")
            ratio("allocation logons one after another / as many bare durable transactions",
                  find(t, "sequence/logons_"), find(t, "sequence/bare_transactions_"), "≤ 3×")
            absolute("allocation report, 100,000 users and 20,000 stations",
                     find(t, "large/report"), "≤ 50 ms")
            absolute("allocation check_compliance, the same store",
                     find(t, "large/check_compliance"), "≤ 50 ms")
            absolute("  beside: SELECT COUNT(*) of the user grants", find(t, "large/bare_count"), "")
            absolute("  beside: SELECT COUNT(*) of the six tables",
                     find(t, "large/bare_count_all"), "")
            absolute("allocation `licadmin report` process, the same store",
                     find(t, "large/licadmin_report"), "")
            kib = licadmin_report_rss()
            rows.append(("allocation `licadmin report` peak memory, the same store",
                         "not measured" if kib is None else f"{kib / 1024:.1f} MiB",
                         "" if kib is None else f"{kib:,} KiB maximum resident set", "≤ 64 MiB"))
            history_rows(rows, quick)

    if not wanted or "portal" in wanted:
        args = [sys.executable, os.path.join(ROOT, "scripts", "portal_bench.py"),
                "--duration", "8" if quick else "12"]
        print(f"$ {' '.join(args)}", file=sys.stderr, flush=True)
        out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
        if out.returncode != 0:
            rows.append(("portal load benchmark", "not measured", out.stderr.strip()[-200:], ""))
        for line in out.stdout.splitlines()[2:]:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 4:
                rows.append(("portal: " + cells[0], *cells[1:]))

    print("| benchmark | figure | measured | target |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
