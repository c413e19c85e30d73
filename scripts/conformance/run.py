#!/usr/bin/env python3
"""Compare the independent verifier (i3lic_verify.py, written from docs/FORMAT.md) with the
reference binaries on every test vector, every verifier case and generated host-binding cases,
and i3lic_receipt.py with licadmin and issuer on request codes and release receipts.

Usage: python3 scripts/conformance/run.py [--host-cases N] [--seed S] [-v]
Exit 0 when everything agrees, 1 otherwise.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import i3lic_verify as V  # noqa: E402

LICVERIFY = os.path.join(ROOT, 'target/release/licverify')
GETHOSTID = os.path.join(ROOT, 'target/release/gethostid')
FORMAT_KINDS = {'malformed', 'unsupported-version', 'untrusted-key', 'signature-invalid'}
DEFAULT_CODE = '1Q2H4-74KMZ-KWXDV-8K000-00KZQ'

# Disagreements explained by a gap in docs/FORMAT.md (the verifier here follows its own reading
# of the text; the reference does otherwise). Printed, but they do not fail the run.
SPEC_GAPS = {
    'state /1 with lineages': '13.4: "A file of the previous format i3lic-verify-state/1 (without lineages) is read too" '
                              '- the reference also accepts a /1 file that has lineages',
    'state /2 without lineages': '13.4: the members a /2 state file must have are not listed; the reference lets '
                                 'lineages be absent',
    'state /2 without newest': '13.4: "newest is null before the first file" - the reference also takes an absent newest as null',
    'state /1 without newest': '13.4: as above, for a /1 state file',
    'read-only lock file': '13.4: "Every load with a state file holds a lock ... (created with mode 0600 when '
                           'missing) ... shared for a read-only one" - a read-only load (--at) does not create a '
                           'missing lock file (with one present it takes a shared flock)',
    'state lineage gen 0': '13.4: no range is given for a lineage generation; the reference accepts 0',
    'state lineage gen 10M+1': '13.4: no range is given for a lineage generation; the reference accepts values '
                               'no file can have (above 10,000,000) and uses them',
}
disagreements = []
gaps = []
counts = {}


def note(section, ok, desc):
    counts.setdefault(section, [0, 0])
    counts[section][0] += 1
    if not ok:
        counts[section][1] += 1
        name = desc.split(':', 1)[0]
        if name in SPEC_GAPS:
            gaps.append((section, desc, SPEC_GAPS[name]))
        else:
            disagreements.append((section, desc))


def licverify(path, trust, host_id, at=None, product=None, version=None, state=None):
    cmd = [LICVERIFY, path, '--json', '--host-id', host_id]
    for t in trust:
        cmd += ['--trust', t]
    if at:
        cmd += ['--at', at]
    if product is not None:
        cmd += ['--product', product, '--version', version]
    if state:
        cmd += ['--state', state]
    p = subprocess.run(cmd, capture_output=True, text=True)
    kind, msg, lic = None, '', None
    try:
        j = json.loads(p.stdout)
        if j.get('error'):
            kind = j['error'].get('kind')
            msg = j['error'].get('message', '')
        lic = j.get('license')
    except Exception:
        kind = 'no-json'
        msg = p.stdout + p.stderr
    return p.returncode, kind, msg, lic


REF_VARIANT = [
    ('activation file is empty', 'Empty'), ('not UTF-8', 'NotUtf8'), ('is truncated', 'Truncated'),
    ("payload has no field", 'MissingField'), ('has no ', 'MissingSection'), ('has a second', 'DuplicateSection'),
    ('is unexpected', 'UnexpectedLine'), ('is not supported', 'UnsupportedVersion'),
    ('the Format header names', 'MalformedHeader'), ('the Key-Id header', 'MalformedHeader'),
    ('signature block is not', 'MalformedSignature'), ('unknown field', 'UnknownField'),
    ('malformed activation file: invalid ', 'InvalidValue'), ('twice', 'DuplicateField'), ('signed payload is malformed', 'MalformedPayload'),
    ('does not verify', 'SignatureInvalid'), ('not trusted', 'UntrustedKey'), ('invalid ', 'InvalidValue'),
    ('are accepted', 'TooLarge')]


def ref_variant(kind, msg):
    """The FormatError variant a licverify message names (by its wording)."""
    if kind not in FORMAT_KINDS:
        return None
    for key, v in REF_VARIANT:
        if key in msg:
            return v
    return '?'


def ref_warnings(lic):
    return sorted(((w.get('kind'), w.get('days_left')) for w in lic.get('warnings', [])), key=str)


def ref_offset(msg):
    import re
    m = re.search(r'offset (\d+)', msg)
    return m.group(1) if m else None


def read_kv(path):
    out = {}
    for line in open(path, encoding='utf-8'):
        line = line.rstrip('\n')
        if not line or line.startswith('#') or ':' not in line:
            continue
        k, v = line.split(':', 1)
        out.setdefault(k.strip(), []).append(v.strip())
    return out

# ------------------------------------------------------------------ 1a. format vectors


def plain(act):
    """The activation's contents as comparable values (numbers by value, hosts by code)."""
    def conv(v):
        if isinstance(v, V.Num):
            return ('num', int(v.text))
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items() if k not in ('hosts', 'key_id')}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v
    return conv(act)


def run_format_vectors(verbose):
    tmp = tempfile.mkdtemp(prefix='i3lic-conf-')
    for folder in ('crates/format/tests/vectors', 'crates/format/tests/vectors-v2', 'crates/format/tests/vectors-v3'):
        d = os.path.join(ROOT, folder)
        trust = [os.path.join(d, 'key-a.pub'), os.path.join(d, 'key-b.pub')]
        keys = [V.parse_public_key_text(open(t, 'rb').read()) for t in trust]
        valid_act = V.read_file(open(os.path.join(d, 'valid.i3lic'), 'rb').read(), keys)
        for name in sorted(os.listdir(d)):
            if not name.endswith('.expect'):
                continue
            case = name[:-len('.expect')]
            exp = read_kv(os.path.join(d, name))
            want, want_exit = exp['expect'][0], int(exp['exit'][0])
            if 'source' in exp:
                data = open(os.path.join(d, exp['source'][0]), 'rb').read()
                pad = int(exp['pad-to'][0])
                data = data + b'\n' * (pad - len(data))
                path = os.path.join(tmp, f'{os.path.basename(folder)}-{case}.i3lic')
                with open(path, 'wb') as f:
                    f.write(data)
            else:
                path = os.path.join(d, case + '.i3lic')
                data = open(path, 'rb').read()
            # ours
            act = None
            try:
                act = V.read_file(data, keys)
                mine = 'ok'
            except V.FormatError as e:
                mine = e.kind
            mine_exit = 0 if mine == 'ok' else V.EXIT_FORMAT[mine]
            mine_vkind = None if mine == 'ok' else V.format_kind_to_verify(mine)
            ok_ours = (mine == want and mine_exit == want_exit)
            if mine == 'ok' and act is not None:
                same = plain(act) == plain(valid_act)
                ok_ours = ok_ours and same
            # reference
            host = act['primary_host']['host_id'] if act else DEFAULT_CODE
            at = V.format_time(max(act['issued_at_t'], act['valid_from_t'])) if act else '2024-06-01T00:00:00Z'
            rc, kind, msg, _ = licverify(path, trust, host, at)
            ref = 'ok' if (kind is None or kind not in FORMAT_KINDS) else kind
            ref_exit = rc if ref != 'ok' else 0
            rvar = ref_variant(kind, msg) or 'ok'
            agree_ref = (ref == ('ok' if mine == 'ok' else mine_vkind)) and (ref_exit == mine_exit) and \
                        (mine != 'ok' or rc == 0) and rvar == mine
            ok = ok_ours and agree_ref and ref_exit == want_exit
            desc = (f'{folder}/{case}: expect={want}/{want_exit} mine={mine}/{mine_exit} '
                    f'ref={kind}:{rvar}/{rc} ({msg[:160]})')
            note('format-vectors', ok, desc)
            if verbose:
                print(('OK   ' if ok else 'DIFF ') + desc)
    shutil.rmtree(tmp)

# ------------------------------------------------------------------ 1b. verifier cases


def run_verify_cases(verbose):
    d = os.path.join(ROOT, 'crates/verify/tests/data')
    for case in sorted(os.listdir(d)):
        cdir = os.path.join(d, case)
        if not os.path.isfile(os.path.join(cdir, 'case.txt')):
            continue
        c = read_kv(os.path.join(cdir, 'case.txt'))
        trust = [os.path.join(d, 'keys', t) for t in c.get('trust', [])]
        host = c['host-id'][0]
        at = c['at'][0]
        product = c.get('product', [None])[0]
        version = c.get('version', [None])[0]
        tmp = tempfile.mkdtemp(prefix='i3lic-conf-')
        state = None
        if 'state' in c:
            state = os.path.join(tmp, 'state.json')
            shutil.copy(os.path.join(cdir, c['state'][0]), state)
        path = os.path.join(cdir, 'license.i3lic')
        # ours
        extra = ''
        try:
            keys = [V.parse_public_key_text(open(t, 'rb').read()) for t in trust]
            hid = V.parse_lenient(host)
            sb = open(state, 'rb').read() if state else None
            r = V.verify(open(path, 'rb').read(V.MAX_SIZE + 1), keys, hid, V.parse_time(at), product, version,
                         sb, state is not None)
            mine = 'ok'
            extra = f"role={r['role']} in-grace={str(r['in_grace']).lower()} demo-key={str(r['demo_key']).lower()}"
            mine_w = r['warnings']
        except V.VerifyError as e:
            mine = e.kind
        except V.FormatError:
            mine = 'trusted-key-malformed'
        except V.HostIdError:
            mine = 'bad-host-id'
        mine_exit = 0 if mine == 'ok' else V.EXIT_KIND[mine]
        rc, kind, msg, lic = licverify(path, trust, host, at, product, version, state)
        ref = kind or 'ok'
        ref_extra = ''
        if lic:
            ref_extra = (f"role={lic.get('role')} in-grace={str(lic.get('in_grace')).lower()} "
                         f"demo-key={str(lic.get('signed_with_demo_key')).lower()}")
        want = c['expect'][0]
        want_exit = int(c['exit'][0])
        want_extra = ''
        if want == 'ok':
            want_extra = f"role={c['role'][0]} in-grace={c['in-grace'][0]} demo-key={c['demo-key'][0]}"
        ok = (mine == want == ref and mine_exit == want_exit == rc and extra == want_extra == ref_extra)
        if mine == 'ok' and lic:
            ok = ok and mine_w == ref_warnings(lic)
            extra += f' warnings={mine_w}'
            ref_extra += f' warnings={ref_warnings(lic)}'
        desc = (f'verify/{case}: expect={want}/{want_exit} {want_extra} | mine={mine}/{mine_exit} {extra} | '
                f'ref={ref}/{rc} {ref_extra} ({msg[:160]})')
        note('verify-cases', ok, desc)
        if verbose:
            print(('OK   ' if ok else 'DIFF ') + desc)
        shutil.rmtree(tmp)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--host-cases', type=int, default=240)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('-v', '--verbose', action='store_true')
    ap.add_argument('--no-probes', action='store_true')
    ap.add_argument('--no-receipts', action='store_true', help='skip the request-code and receipt cases')
    ap.add_argument('--files', action='store_true', help='also the file-system and lock probes (about 40 s)')
    args = ap.parse_args()
    run_format_vectors(args.verbose)
    run_verify_cases(args.verbose)
    try:
        import hostcases
        hostcases.run(args, note, licverify, V)
    except ImportError:
        pass
    if args.files:
        import fileprobes
        fileprobes.run(args, note, licverify, V)
    import writer_check
    writer_check.run(args, note, licverify, V)
    if not args.no_receipts:
        import receiptcases
        receiptcases.run(args, note, licverify, V)
    if not args.no_probes:
        import probes
        probes.run(args, note, licverify, V)
    print()
    for s, (n, bad) in counts.items():
        print(f'{s}: {n} compared, {bad} disagreements')
    for s, dsc, why in gaps:
        print(f'SPEC GAP [{s}] {dsc}\n    FORMAT.md {why}')
    for s, dsc in disagreements:
        print(f'DISAGREE [{s}] {dsc}')
    print(f'{len(disagreements)} unexplained disagreements, {len(gaps)} explained by gaps in FORMAT.md')
    sys.exit(1 if disagreements else 0)
