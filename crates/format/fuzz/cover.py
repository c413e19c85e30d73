#!/usr/bin/env python3
"""Greedy set cover over a libFuzzer merge control file: every edge (COV) first, then
features (FT) until MAXFILES. usage: cover.py CONTROL OUTDIR MAXFILES [KEEP_DIR...]
Files under a KEEP_DIR are always kept, under their own names; others are named by SHA-1."""
import sys, os, shutil, hashlib
ctl, out, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
keep = [os.path.abspath(d) for d in sys.argv[4:]]
lines = open(ctl).read().split('\n')
n = int(lines[0]); files = lines[2:2+n]
sets = {'FT': {}, 'COV': {}}
for l in lines[2+n:]:
    p = l.split()
    if p and p[0] in sets:
        sets[p[0]][int(p[1])] = set(p[2:])
kept = lambda f: any(os.path.abspath(f).startswith(k + '/') for k in keep)
chosen = [i for i, f in enumerate(files) if kept(f)]
size = lambda i: os.path.getsize(files[i])
def greedy(kind):
    s = sets[kind]
    covered = set().union(*(s.get(i, set()) for i in chosen)) if chosen else set()
    rest = [i for i in s if i not in chosen]
    while len(chosen) < cap:
        best = max(rest, key=lambda i: (len(s[i] - covered), -size(i)), default=None)
        if best is None or not (s[best] - covered):
            break
        chosen.append(best); covered |= s[best]; rest.remove(best)
greedy('COV'); greedy('FT')
def frac(kind):
    s = sets[kind]; allf = set().union(*s.values()) if s else set()
    got = set().union(*(s.get(i, set()) for i in chosen)) if chosen else set()
    return f"{len(got)}/{len(allf)} {kind.lower()}"
os.makedirs(out, exist_ok=True)
for i in chosen:
    src = files[i]
    name = os.path.basename(src) if kept(src) else hashlib.sha1(open(src, 'rb').read()).hexdigest()
    shutil.copy(src, os.path.join(out, name))
print(f"{len(chosen)} files of {len(files)}: {frac('COV')} edges, {frac('FT')} features")
