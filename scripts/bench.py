#!/usr/bin/env python3
"""Run every benchmark of the workspace and print the ratios BENCHMARKS.md quotes.

    python3 scripts/bench.py [--quick] [crate ...]     # crates: hostid format issuer verify

Each figure is a ratio against a baseline measured in the same run (these machines are
noisy), or an absolute time where the target is absolute. The raw criterion lines are kept
in target/bench-*.log.
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
    ("verify", "load"),
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

    print("| benchmark | figure | measured | target |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
