"""Host-binding cases for run.py: codes built from generated component sets (FORMAT.md 11),
checked against `gethostid --check` (lenient parsing) and, for matching, against `licverify
--host-id` on files signed here with a generated key (which also tests the writer rules)."""
import hashlib
import os
import random
import re
import subprocess
import shutil
import tempfile

import i3lic_receipt as R

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GETHOSTID = os.path.join(ROOT, 'target/release/gethostid')

CPUS = ['GenuineIntel Xeon Gold 6230', 'AuthenticAMD  AMD EPYC 7B13 64-Core Processor',
        'GenuineIntel Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz', 'ARM\tNeoverse-N1', 'AuthenticAMD Ryzen 9']


def rand_hex(rng, n):
    return ''.join(rng.choice('0123456789abcdef') for _ in range(n))


def rand_uuid(rng):
    h = rand_hex(rng, 32).upper() if rng.random() < 0.5 else rand_hex(rng, 32)
    return f'{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}'


def rand_mac(rng):
    return bytes([rng.randrange(256) & 0xFC] + [rng.randrange(256) for _ in range(5)])


def machine(rng):
    return {'machine_id': rand_hex(rng, 32), 'dmi': rand_uuid(rng),
            'macs': [rand_mac(rng) for _ in range(rng.choice([0, 1, 1, 2, 3, 4]))], 'cpu': rng.choice(CPUS)}


def variant(rng, base, kind):
    m = {k: (list(v) if isinstance(v, list) else v) for k, v in base.items()}
    if kind == 'same':
        pass
    elif kind == 'same-reordered-macs':
        rng.shuffle(m['macs'])
    elif kind == 'nic-replaced':
        if m['macs']:
            m['macs'][rng.randrange(len(m['macs']))] = rand_mac(rng)
    elif kind == 'nic-added':
        m['macs'].append(rand_mac(rng))
    elif kind == 'nic-removed':
        if len(m['macs']) > 1:
            m['macs'].pop(rng.randrange(len(m['macs'])))
    elif kind == 'no-nics':
        m['macs'] = []
    elif kind == 'all-nics-replaced':
        m['macs'] = [rand_mac(rng) for _ in m['macs']]
    elif kind == 'clone':
        m['dmi'] = rand_uuid(rng)
        m['macs'] = [rand_mac(rng)]
    elif kind == 'missing-dmi':
        m['dmi'] = None
    elif kind == 'missing-dmi-nic-replaced':
        m['dmi'] = None
        m['macs'] = [rand_mac(rng)]
    elif kind == 'cpu-only':
        m['machine_id'] = rand_hex(rng, 32)
        m['dmi'] = rand_uuid(rng)
        m['macs'] = [rand_mac(rng)]
    elif kind == 'cpu-changed':
        m['cpu'] = rng.choice([c for c in CPUS if c != m['cpu']])
    elif kind == 'cpu-changed-nic-replaced':
        m['cpu'] = rng.choice([c for c in CPUS if c != m['cpu']])
        m['macs'] = [rand_mac(rng)]
    elif kind == 'no-cpu':
        m['cpu'] = None
    elif kind == 'machine-id-changed':
        m['machine_id'] = rand_hex(rng, 32)
    elif kind == 'whitespace-and-case':
        m['cpu'] = '  ' + m['cpu'].upper().replace(' ', ' \t ') + '\u00a0'
        m['dmi'] = m['dmi'].swapcase() if m['dmi'] else None
    elif kind == 'unrelated':
        return machine(rng)
    return m


KINDS = ['no-nics', 'same', 'same-reordered-macs', 'nic-replaced', 'nic-added', 'nic-removed', 'all-nics-replaced',
         'clone', 'missing-dmi', 'missing-dmi-nic-replaced', 'cpu-only', 'cpu-changed',
         'cpu-changed-nic-replaced', 'no-cpu', 'machine-id-changed', 'whitespace-and-case', 'unrelated']


def code_of(V, m, strong):
    return V.make_code(m['machine_id'], m['dmi'], m['macs'], m['cpu'], strong=strong)


def check_ref(code):
    p = subprocess.run([GETHOSTID, '--check', code], capture_output=True, text=True)
    out = p.stdout + p.stderr
    if p.returncode == 0:
        mm = re.search(r'valid host ID (\S+)', out)
        return 'ok', mm.group(1) if mm else None, out
    kinds = [('is empty', 'empty'), ('bytes long', 'too-long'), ('is not part of a host ID', 'invalid-character'),
             ('is not part of a request code', 'invalid-character'), ('dashes not counted', 'wrong-length'), ('check character', 'check-failed'),
             ('version', 'unsupported-version'), ('inconsistent', 'inconsistent'),
             ('strong component', 'too-few-components'), ('components', 'too-few-components')]
    for key, k in kinds:
        if key in out:
            pos = None
            mm = re.search(r'character (\d+)', out)
            if k == 'invalid-character' and mm:
                pos = mm.group(1)
            mm = re.search(r'has (\d+) symbols.*should have (\d+)', out)
            if k == 'wrong-length' and mm:
                pos = f'{mm.group(1)} symbols, {mm.group(2)} expected'
            return k, pos, out
    return 'unknown', None, out


def typo_variants(rng, code):
    out = []
    raw = code.replace('-', '')
    alpha = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
    out.append(code.lower())
    out.append(raw)
    out.append(' '.join(code[i:i + 5] for i in range(0, len(code), 6)))
    out.append('  ' + code + '\t\u3000')
    out.append(code.replace('0', 'O').replace('1', 'l'))
    out.append(code.replace('1', 'I'))
    i = rng.randrange(len(raw))
    out.append(raw[:i] + rng.choice([c for c in alpha if c != raw[i]]) + raw[i + 1:])
    j = rng.randrange(len(raw) - 1)
    if raw[j] != raw[j + 1]:
        out.append(raw[:j] + raw[j + 1] + raw[j] + raw[j + 2:])
    out.append(raw[:i] + raw[i + 1:])
    out.append(raw[:i] + 'U' + raw[i:])
    out.append(raw[:i] + rng.choice(alpha) + raw[i:])
    out.append(code + '-' + code)
    out.append(code.replace('-', '_', 1))
    out.append(code.replace('-', '\u2013', 1))
    out.append(code.replace('-', '--'))
    out.append(code.replace('-', '\u00a0'))
    out.append(code.upper().replace('A', '\uff21'))
    for first in '0123Z':
        for n in (1, 24, 26, 42, 43, 59, 61):
            out.append(first + raw[1:n] if n <= len(raw) else first + (raw[1:] * 3)[:n - 1])
    # different version symbol with a valid check symbol
    syms = [alpha.index(c) for c in raw[:-1]]
    syms[0] = 2 if syms[0] == 1 else 1
    syms.append(xmul_check(syms))
    out.append(''.join(alpha[s] for s in syms))
    # flags tampered with a valid check symbol
    syms = [alpha.index(c) for c in raw[:-1]]
    syms[1] = rng.randrange(32)
    syms.append(xmul_check(syms))
    out.append(''.join(alpha[s] for s in syms))
    return out


def xmul_check(syms):
    r = 0
    for s in syms:
        r = ((r << 1) ^ 37 if r >= 16 else r << 1) ^ s
    return (r << 1) ^ 37 if r >= 16 else r << 1


def base_payload(V, version, primary, switch=None, fid=None):
    from collections import OrderedDict as OD
    fid = fid or hashlib.sha256(primary.encode()).hexdigest()[:32]

    def host(code, name):
        h = OD([('host_id', code)])
        if version == 2:
            h['form'] = 'strong' if len(code) == 71 else 'short'
        h['machine'] = name
        return h
    p = OD()
    p['file_id'] = fid
    p['supersedes'] = None
    if version == 2:
        p['lineage'] = fid
        p['generation'] = 1
    p['product'] = 'CIC'
    p['product_version'] = '4.0'
    p['license_type'] = 'production'
    p['issued_at'] = '2024-01-01T00:00:00Z'
    p['valid_from'] = '2024-01-01T00:00:00Z'
    p['expires_at'] = '2100-01-01T00:00:00Z'
    p['grace_days'] = 30
    p['generated_by'] = 'conformance'
    p['sold_to'] = 'Example "Customer" \\ Ltd'
    p['install_site'] = 'Site ünïcode'
    p['primary_host'] = host(primary, 'primary')
    p['switchover_host'] = host(switch, 'backup') if switch else None
    p['system_type'] = ''
    p['mail_connector'] = ''
    p['bundle'] = ''
    p['description'] = ''
    p['features'] = ['I3_FEATURE_ACD']
    p['licenses'] = [OD([('name', 'I3_ACCESS_CLIENT'), ('assigned', 1), ('pooled', 0)])]
    p['ordered_items'] = [OD([('part', 'SW-1'), ('description', ''), ('quantity', 1)])]
    p['restrictions'] = []
    if version == 2:
        p['rules'] = OD([('keys', []), ('requires', []), ('implies', []), ('excludes', [])])
    return p


def run(args, note, licverify, V):
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix='i3lic-host-')
    seed = hashlib.sha256(b'conformance test key %d' % args.seed).digest()
    pub = V.public_from_seed(seed)
    pubpath = os.path.join(tmp, 'conf.pub')
    with open(pubpath, 'w') as f:
        f.write(V.public_key_text(pub, 'conformance'))
    # the worked examples of 11.9
    ex = {'machine_id': '0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'dmi': '4C4C4544-004B-4B10-804B-B4C04F4D3732',
          'macs': [bytes.fromhex('001b213a4b5c')], 'cpu': 'GenuineIntel Xeon Gold 6230'}
    doc = open(os.path.join(ROOT, 'docs/FORMAT.md'), encoding='utf-8').read()
    examples = [('same', ex),
                ('nic', dict(ex, macs=[bytes.fromhex('001b21998877')])),
                ('clone', dict(ex, dmi='9b1e3f00-1111-4a2b-9c3d-0123456789ab', macs=[bytes.fromhex('005056010203')])),
                ('nodmi', dict(ex, dmi=None)),
                ('cpuonly', dict(ex, machine_id='ffeeddccbbaa99887766554433221100',
                                 dmi='9b1e3f00-1111-4a2b-9c3d-0123456789ab', macs=[bytes.fromhex('005056010203')]))]
    for name, m in examples:
        for strong in (False, True):
            c = code_of(V, m, strong)
            note('host-doc-examples', c in doc, f'{name} strong={strong}: my code {c} not in FORMAT.md 11.9')
    # adapters whose 25-bit MAC fingerprints collide (found by a birthday search, seed 5):
    # FORMAT.md 11.2 says both forms then keep the same adapters, so the strong code cut to 25 bits
    # is the short code, and a strong reading checks a short binding.
    pairs = [('02b75670357b', '02e78850bd16'), ('021ca1ff5cd2', '02dfc8533cc2'), ('0225dacb3c80', '02032559ad9a')]
    for k, (a, b) in enumerate(pairs):
        for extra in ([], [rand_mac(rng)], [rand_mac(rng), rand_mac(rng)]):
            m = {'machine_id': rand_hex(rng, 32), 'dmi': None, 'macs': [bytes.fromhex(a), bytes.fromhex(b)] + extra,
                 'cpu': 'x'}
            short = code_of(V, m, False)
            strong = code_of(V, m, True)
            cut = V.parse_lenient(strong).to_short().printed()
            note('host-mac-collision', cut == short, f'collision {k} +{len(extra)}: short {short} strong->short {cut}')
            for exp_code, found in ((short, strong), (strong, strong), (short, short)):
                data = V.sign_file(seed, base_payload(V, 2, exp_code), 2)
                path = os.path.join(tmp, 'coll.i3lic')
                open(path, 'wb').write(data)
                rc, kk, msg, lic = licverify(path, [pubpath], found, '2024-06-01T00:00:00Z', 'CIC', '4.0')
                mine = V.match_codes(V.parse_lenient(exp_code), V.parse_lenient(found))
                note('host-mac-collision', (rc == 0) == mine,
                     f'collision {k} +{len(extra)} expected={exp_code} found={found}: mine match={mine} ref rc={rc} {msg[:100]}')
            rc, out, _ = check_ref(strong)
            note('host-mac-collision', rc == 'ok', f'gethostid --check {strong}: {rc}')
    # the lenient column of the table in FORMAT.md 11.7
    table = [('1Q2H4-74KMZ-KWXDV-8K000-00KZQ', 'ok'), ('1q2h4 74kmz kwxdv 8kooo ookzq', 'ok'),
             ('1Q2H474KMZKWXDV8K00000KZQ', 'ok'), ('1Q2H4-74KMZ-KWXDV-8K000-00KZR', 'check-failed'),
             ('1Q2H4-74KMZ-KWXDV-8K000-0K0ZQ', 'check-failed'), ('1Q2H4-74KMZ-KWXDV-8K000-00KZ', 'wrong-length'),
             ('2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4', 'wrong-length'),
             ('2q2h4-74ba6-jqbb1-kmzkw-hy4w2-we9xd-v8kfm-bkswp-a0000-00000-0000k-zwj4t', 'ok')]
    for code, want in table:
        try:
            V.parse_lenient(code)
            mine = 'ok'
        except V.HostIdError as e:
            mine = e.kind
        ref = check_ref(code)[0]
        note('host-doc-examples', mine == want == ref, f'11.7 table {code}: doc={want} mine={mine} ref={ref}')
    n = 0
    while n < args.host_cases:
        base = machine(rng)
        kind = KINDS[n % len(KINDS)]
        var = variant(rng, base, kind)
        exp_strong = rng.random() < 0.5
        found_strong = rng.random() < 0.6
        try:
            E = code_of(V, base, exp_strong)
        except V.HostIdError:
            continue
        try:
            F = code_of(V, var, found_strong)
        except V.HostIdError as e:
            F = None
        n += 1
        # lenient parsing of both codes and typo variants
        for code in ([E] + ([F] if F else []) + typo_variants(rng, E)):
            try:
                if R.looks_like_request(code):
                    # FORMAT.md 11.12: gethostid --check reads it as a request code
                    h, _ = R.parse_request(code)
                else:
                    h = V.parse_lenient(code)
                mine, mine_extra = 'ok', h.printed()
            except (V.HostIdError, R.RequestError) as e:
                mine, mine_extra = e.kind, None
                if e.kind == 'invalid-character':
                    mine_extra = re.search(r'\d+', str(e)).group(0)
                if e.kind == 'wrong-length':
                    mine_extra = str(e).split(': ', 1)[1]
            ref, ref_extra, out = check_ref(code)
            note('host-lenient-parse', (mine, mine_extra) == (ref, ref_extra),
                 f'{code!r}: mine={mine} {mine_extra} ref={ref} {ref_extra} ({out.strip()[:200]})')
        if F is None:
            continue
        # matching, through a signed file
        version = 2 if (exp_strong or rng.random() < 0.5) else 1
        switch = None
        if rng.random() < 0.3:
            try:
                other = machine(rng)
                switch = code_of(V, other, exp_strong if version == 2 else False)
                if rng.random() < 0.5:
                    # check on (a variant of) the switchover machine instead
                    F = code_of(V, variant(rng, other, kind), found_strong)
            except V.HostIdError:
                switch = None
        payload = base_payload(V, version, E, switch)
        data = V.sign_file(seed, payload, version)
        path = os.path.join(tmp, f'case{n}.i3lic')
        with open(path, 'wb') as f:
            f.write(data)
        try:
            r = V.verify(data, [pub], V.parse_lenient(F), V.parse_time('2024-06-01T00:00:00Z'), 'CIC', '4.0.1')
            mine = 'ok:' + r['role']
        except V.VerifyError as e:
            mine = e.kind + ('' if e.kind != 'malformed' else ':' + str(e.fmt) + ':' + e.msg)
        rc, k, msg, lic = licverify(path, [pubpath], F, '2024-06-01T00:00:00Z', 'CIC', '4.0.1')
        ref = ('ok:' + lic.get('role')) if rc == 0 and lic else (k or f'rc{rc}')
        note('host-matching', mine == ref and rc == V.EXIT_KIND.get(mine.split(':')[0], 0),
             f'{kind} v{version} expected={E} found={F}: mine={mine} ref={ref}/{rc} ({msg[:200]})')
    shutil.rmtree(tmp, ignore_errors=True)
