"""Version-3 files, request codes and release receipts for run.py (FORMAT.md 11.12, 19, 20),
made with the real binaries: `licadmin request` / `request --check`, `issuer issue --host-id
REQUESTCODE`, `licadmin load` / `release`, and checked by `issuer deactivate ID --receipt`
against i3lic_receipt.py. Receipts signed here use a key whose request code was made here, so
any header can be varied under a good signature."""
import hashlib
import json
import os
import random
import shutil
import subprocess
import tempfile

import hostcases as H
import i3lic_receipt as R

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REL = os.path.join(ROOT, 'target/release')
ACCOUNT, SITE = 'Conformance', 'HQ'


class Env:
    """A throwaway issuer ledger with the demo key, and license stores beside it."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.env = dict(os.environ, I3LIC_DB=os.path.join(tmp, 'ledger.db'), NO_COLOR='1')
        for f in ('demo.key', 'demo.pub'):
            shutil.copy(os.path.join(ROOT, 'keys-example', f), os.path.join(tmp, f))
        os.chmod(os.path.join(tmp, 'demo.key'), 0o600)
        self.ok('issuer', 'account', 'add', ACCOUNT)
        self.ok('issuer', 'site', 'add', '--account', ACCOUNT, '--name', SITE)
        self.ok('issuer', 'order', 'add', '--account', ACCOUNT, '--part', 'SW-001-4.0-SL03', '--quantity', '1000')
        # A switchover pair needs a switchover server item available.
        self.ok('issuer', 'order', 'add', '--account', ACCOUNT, '--part', 'SW-001-4.0-SS03', '--quantity', '1000')

    def run(self, name, *args):
        p = subprocess.run([os.path.join(REL, name)] + list(args), capture_output=True, text=True,
                           cwd=self.tmp, env=self.env)
        return p.returncode, p.stdout, p.stderr

    def ok(self, name, *args):
        rc, out, err = self.run(name, *args)
        if rc != 0:
            raise RuntimeError(f'{name} {" ".join(args)}: exit {rc}: {err.strip()}')
        return out

    def issue(self, host, out, switch=None):
        a = ['issue', '--account', ACCOUNT, '--site', SITE, '--product', 'CIC', '--version', '4.0',
             '--type', 'production', '--host-id', host, '--machine', 'ic1', '--server-part', 'SW-001-4.0-SL03',
             '--key', 'demo.key', '--out', out]
        if switch:
            a += ['--switchover-host-id', switch, '--switchover-machine', 'ic2']
        return self.ok('issuer', *a).strip()

    def store(self, db, host, *args):
        return self.run('licadmin', '--store', db, '--trust', 'demo.pub', '--host-id', host, *args)


def strong_code(V, rng):
    while True:
        try:
            return V.parse_lenient(H.code_of(V, H.machine(rng), True))
        except V.HostIdError:
            continue


def request_variants(V, rng, code):
    """Typed variants of a request code, and codes with a valid check but a wrong inside."""
    alpha = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
    raw = code.replace('-', '')
    out = [code, code.lower(), raw, '  ' + code + '\t', code.replace('0', 'O')]
    i = rng.randrange(len(raw))
    out.append(raw[:i] + rng.choice([c for c in alpha if c != raw[i]]) + raw[i + 1:])
    j = rng.randrange(len(raw) - 1)
    if raw[j] != raw[j + 1]:
        out.append(raw[:j] + raw[j + 1] + raw[j] + raw[j + 2:])
    out += [raw[:i] + raw[i + 1:], raw + '0', code + 'U', code[:71], 'x' * 321]
    syms = [alpha.index(c) for c in raw[:-1]]

    def fixed(s):
        s = list(s)
        s.append(V.xmul(V.check_residue(s)))
        return ''.join(alpha[x] for x in s)
    out.append(fixed([2] + syms[1:]))                 # version 2
    out.append(fixed(syms[:110] + [syms[110] | 1]))   # key padding bit set
    out.append(fixed(syms[:1] + [0] + syms[2:]))      # flags: no component
    out.append(fixed(syms[:59] + [0] * 51 + [1 << 4]))  # key of small order (the point 1)
    return out


def run(args, note, licverify, V):
    if not all(os.path.exists(os.path.join(REL, b)) for b in ('issuer', 'licadmin', 'licverify')):
        note('receipts', False, 'release binaries missing: cargo build --release --locked')
        return
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix='i3lic-receipts-')
    try:
        _run(args, note, licverify, V, rng, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args, note, licverify, V, rng, tmp):
    e = Env(tmp)
    demo = [os.path.join(tmp, 'demo.pub')]
    demo_keys = [V.parse_public_key_text(open(demo[0], 'rb').read())]
    verbose = getattr(args, 'verbose', False)

    def say(section, ok, desc):
        note(section, ok, desc)
        if verbose:
            print(('OK   ' if ok else 'DIFF ') + f'[{section}] {desc}')

    # ---- request codes: licadmin request, and --check on typed variants
    host_a = strong_code(V, rng)
    rc, out, err = e.store('a.db', host_a.printed(), 'request', '--json')
    j = json.loads(out) if rc == 0 else {}
    code_a = j.get('request_code', '')
    try:
        h, key = R.parse_request(code_a)
        mine = (h.printed(), key.hex())
    except R.RequestError as x:
        mine = (x.kind, None)
    say('request-codes', mine == (j.get('host_id'), j.get('install_key')) and h.printed() == host_a.printed(),
        f'licadmin request: {code_a} mine={mine} ref=({j.get("host_id")}, {j.get("install_key")}) rc={rc} {err[:100]}')
    seed_k = hashlib.sha256(b'conformance install key %d' % args.seed).digest()
    pub_k = V.public_from_seed(seed_k)
    host_k = strong_code(V, rng)
    code_k = R.make_request(host_k, pub_k)
    codes = request_variants(V, rng, code_a) + request_variants(V, rng, code_k)
    for c in codes:
        # 11.12: the code's reader does not check the key; `licadmin request --check` reads the
        # key too (section 6), `gethostid --check` does not
        key_ok = True
        try:
            _, key = R.parse_request(c)
            mine = 'ok'
            key_ok = V.check_public_key(key) is not None
        except R.RequestError as x:
            mine = x.kind
        rc, out, err = e.run('licadmin', 'request', '--check', c)
        grc, gout, gerr = e.run('gethostid', '--check', c)
        ok = (mine == 'ok' and key_ok) == (rc == 0) and rc in (0, 3) and (grc == 0) == (mine == 'ok')
        mine += '' if key_ok else ' (key refused by section 6)'
        say('request-codes', ok, f'{c[:40]!r}...: mine={mine} licadmin={rc} gethostid={grc} '
            f'({(err or out).strip()[:120]} | {(gerr or gout).strip()[:80]})')

    small = request_variants(V, rng, code_k)[-1]
    rc, out, err = e.run('issuer', 'issue', '--account', ACCOUNT, '--site', SITE, '--product', 'CIC', '--version',
                         '4.0', '--type', 'production', '--host-id', small, '--machine', 'x', '--server-part',
                         'SW-001-4.0-SL03', '--key', 'demo.key', '--out', 'small.i3lic')
    say('request-codes', rc == 3, f'issuer issue for a request code whose key is of small order: {rc} {err.strip()[:120]}')
    # ---- version-3 files from the issuer: with an install key (request code) and without
    files = {}
    files['a'] = (e.issue(code_a, 'a.i3lic'), 'a.i3lic', host_a)
    files['k'] = (e.issue(code_k, 'k.i3lic'), 'k.i3lic', host_k)
    plain_host = strong_code(V, rng)
    files['plain'] = (e.issue(plain_host.printed(), 'plain.i3lic'), 'plain.i3lic', plain_host)
    other = strong_code(V, rng)
    files['ak'] = (e.issue(R.make_request(host_a, pub_k), 'ak.i3lic'), 'ak.i3lic', host_a)
    files['pair'] = (e.issue(code_k, 'pair.i3lic', R.make_request(other, pub_k)), 'pair.i3lic', host_k)
    acts = {}
    for name, (fid, path, host) in files.items():
        data = open(os.path.join(tmp, path), 'rb').read()
        try:
            act = V.read_file(data, demo_keys)
            acts[name] = act
            mine = f'ok v{act["version"]} keys={sorted(k for k, v in act["install_keys"].items() if v)}'
        except V.FormatError as x:
            mine = x.kind
        rc, kind, msg, lic = licverify(os.path.join(tmp, path), demo, host.printed())
        say('v3-files', mine.startswith('ok v3') and rc == 0, f'{name}: mine={mine} ref={kind or "ok"}/{rc} {msg[:100]}')
        # altered: one hex digit of the install key (or of the file id) changed
        text = data.decode()
        ik = acts.get(name, {}).get('install_keys', {}).get('primary_host')
        old = ik or fid
        new = old[:-1] + ('0' if old[-1] != '0' else '1')
        bad = os.path.join(tmp, 'altered.i3lic')
        open(bad, 'w').write(text.replace(old, new, 1))
        try:
            V.read_file(open(bad, 'rb').read(), demo_keys)
            mine = 'ok'
        except V.FormatError as x:
            mine = x.kind
        rc, kind, msg, lic = licverify(bad, demo, host.printed())
        say('v3-files', mine == 'SignatureInvalid' and kind == 'signature-invalid' and rc == 10,
            f'{name} altered: mine={mine} ref={kind}/{rc}')
    say('v3-files', acts['k']['install_keys']['primary_host'] == pub_k.hex(),
        'the install key of a request code made here is the one the issuer bound')

    # version-3 files written here (section 19's member order), read by licverify
    wseed = hashlib.sha256(b'conformance v3 writer').digest()
    wpub = os.path.join(tmp, 'w.pub')
    open(wpub, 'w').write(V.public_key_text(V.public_from_seed(wseed)))
    sw_code = strong_code(V, rng).printed()
    for desc, version, keys in (('v3, key on the primary', 3, (pub_k.hex(), None)),
                                ('v3, no key bound', 3, (None, None)),
                                ('v3, key on the switchover only', 3, (None, pub_k.hex())),
                                ('v3, upper-case key', 3, (pub_k.hex().upper(), None)),
                                ('v3, key of small order', 3, ('01' + '00' * 31, None)),
                                ('v2 with an install key', 2, (pub_k.hex(), None))):
        pl = H.base_payload(V, 2, host_k.printed(), sw_code)
        for hn, k in zip(('primary_host', 'switchover_host'), keys):
            h = pl[hn]
            if version == 3 or k is not None:
                pl[hn] = type(h)(list(h.items())[:2] + [('install_key', k)] + list(h.items())[2:])
        data = V.sign_file(wseed, pl, version)
        path = os.path.join(tmp, 'w.i3lic')
        open(path, 'wb').write(data)
        try:
            act = V.read_file(data, [V.public_from_seed(wseed)])
            mine = f'ok {sorted(k for k, v in act["install_keys"].items() if v)}'
        except V.FormatError as x:
            mine = x.kind
        rc, kind, msg, lic = licverify(path, [wpub], host_k.printed())
        ref = 'ok' if rc == 0 else kind
        ok = rc == 0 if mine.startswith('ok') else V.format_kind_to_verify(mine) == kind
        say('v3-files', ok,
            f'written here, {desc}: mine={mine} ref={ref}/{rc} {msg[:120]}')

    # ---- receipts, checked by issuer deactivate --receipt
    used = set()

    def check(desc, fid, act, receipt_bytes, want=None):
        path = os.path.join(tmp, 'r.txt')
        open(path, 'wb').write(receipt_bytes)
        try:
            r = R.check_receipt(receipt_bytes, act)
            sig = r['signature']
            mine = 'Replay' if sig in used else 'ok'
            if mine == 'ok':
                used.add(sig)
        except R.ReceiptError as x:
            mine = x.kind
        rc, out, err = e.run('issuer', 'deactivate', fid, '--receipt', 'r.txt')
        mine_rc = 0 if mine == 'ok' else 20 if mine == 'Replay' else R.EXIT[mine]
        ok = rc == mine_rc and (want is None or want == mine)
        say('receipts', ok, f'{desc}: mine={mine}/{mine_rc} want={want} ref={rc} ({(err or out).strip()[:160]})')

    # a genuine receipt from licadmin release (store a)
    fid_a, path_a, _ = files['a']
    e.store('a.db', host_a.printed(), 'load', path_a)
    rc, receipt, err = e.store('a.db', host_a.printed(), 'release')
    say('receipts', rc == 0 and receipt.startswith(R.BEGIN), f'licadmin release: rc={rc} {err[:120]}')
    rb = receipt.encode()
    act_a = acts['a']
    vals = R.parse_receipt(rb)['values']
    kseed2 = hashlib.sha256(b'another install key').digest()
    other_key = V.public_from_seed(kseed2).hex()
    variants = [
        ('altered generation', rb.replace(b'Generation: 1', b'Generation: 2'), 'SignatureInvalid'),
        ('altered time', rb.replace(vals['Released-At'].encode(), b'2020-01-01T00:00:00Z'), 'SignatureInvalid'),
        ('re-signed with another key, its key named', R.sign_receipt(kseed2, dict(vals, **{'Install-Key': other_key})),
         'WrongInstallKey'),
        ('re-signed with another key, the file key named', R.sign_receipt(kseed2, vals), 'SignatureInvalid'),
        ('upper-case install key', rb.replace(vals['Install-Key'].encode(), vals['Install-Key'].upper().encode()),
         'Malformed'),
        ('generation with a leading zero', rb.replace(b'Generation: 1', b'Generation: 01'), 'Malformed'),
        ('generation 10^11', rb.replace(b'Generation: 1', b'Generation: 100000000000'), 'Malformed'),
        ('generation 10,000,001', rb.replace(b'Generation: 1', b'Generation: 10000001'), None),
        ('generation 2^32', rb.replace(b'Generation: 1', b'Generation: 4294967296'), None),
        ('host id lower case', rb.replace(vals['Host-Id'].encode(), vals['Host-Id'].lower().encode()), 'Malformed'),
        ('bare date', rb.replace(vals['Released-At'].encode(), vals['Released-At'][:10].encode()), 'Malformed'),
        ('text before the begin marker', b'receipt:\n' + rb, 'Malformed'),
        ('text after the end marker', rb + b'thanks\n', 'Malformed'),
        ('headers swapped', _swap(rb, b'File-Id', b'Lineage'), 'Malformed'),
        ('signature wrapped', _wrap(rb), 'Malformed'),
        ('truncated', rb[:len(rb) // 2], 'Malformed'),
        ('empty', b'', 'Malformed'),
        ('not UTF-8', rb.replace(b'Format', b'\xffFormat', 1), 'Malformed'),
        ('4097 bytes', rb + b'\n' * (4097 - len(rb)), 'TooLarge'),
        ('another format', rb.replace(b'i3lic-release/1', b'i3lic-release/2'), 'Malformed'),
        ('an activation file', open(os.path.join(tmp, path_a), 'rb').read(), None),
    ]
    for desc, data, want in variants:
        check(desc, fid_a, act_a, data, want)
    # receipt a for other files: one without an install key, one with another key
    check('for a file without an install key', files['plain'][0], acts['plain'], rb, 'NoInstallKey')
    check('for another file of the same host, binding another key', files['ak'][0], acts['ak'], rb,
          'WrongInstallKey')
    check('for a file of another host', files['k'][0], acts['k'], rb, 'NoInstallKey')
    # the genuine receipt, with blank lines around, CRLF and trailing blanks (section 3 normalisation)
    crlf = b'\n\n' + rb.replace(b'\n', b' \t\r\n') + b'\n'
    check('CRLF and trailing blanks (then used)', fid_a, act_a, crlf, 'ok')
    check('the same receipt again', fid_a, act_a, rb, 'Replay')

    # receipts signed here, with the key of the request code made here
    fid_k = files['k'][0]
    act_k = acts['k']
    base = {'File-Id': fid_k, 'Lineage': act_k['lineage'], 'Generation': str(act_k['generation']),
            'Host-Id': host_k.printed(), 'Released-At': '2026-12-07T17:00:00Z', 'Install-Key': pub_k.hex()}
    signed = [
        ('another file id', {'File-Id': files['pair'][0]}, 'WrongFile'),
        ('another lineage', {'Lineage': files['pair'][0]}, 'WrongLineage'),
        ('generation 2 (newer)', {'Generation': '2'}, 'WrongGeneration'),
        ('generation 0', {'Generation': '0'}, 'WrongGeneration'),
        ('Host-Id: the short code of the host', {'Host-Id': host_k.to_short().printed()}, None),
        ('Host-Id: a host the file does not name', {'Host-Id': other.printed()}, None),
    ]
    for desc, change, want in signed:
        check(f'signed here: {desc}', fid_k, act_k, R.sign_receipt(seed_k, dict(base, **change)), want)
    check('signed here: valid', fid_k, act_k, R.sign_receipt(seed_k, base), 'ok')
    # Released-At is not compared with any time (20.2): each on a file of its own, since an
    # accepted receipt deactivates its file
    for n, at in enumerate(('2001-01-01T00:00:00Z', '2999-12-31T23:59:59Z', '1970-01-01T00:00:00Z')):
        fid = e.issue(code_k, f't{n}.i3lic')
        act = V.read_file(open(os.path.join(tmp, f't{n}.i3lic'), 'rb').read(), demo_keys)
        vals_t = dict(base, **{'File-Id': fid, 'Lineage': act['lineage'], 'Released-At': at})
        check(f'signed here: Released-At {at}', fid, act, R.sign_receipt(seed_k, vals_t), 'ok')
    # an older generation: the file updated after its receipt was made
    act_p = acts['pair']
    fid_p = files['pair'][0]
    e.ok('issuer', 'update', fid_p, '--mail-connector', 'Microsoft Exchange Server', '--key', 'demo.key',
         '--out', 'pair2.i3lic')
    act_p2 = V.read_file(open(os.path.join(tmp, 'pair2.i3lic'), 'rb').read(), demo_keys)
    old = R.sign_receipt(seed_k, dict(base, **{'File-Id': fid_p, 'Lineage': act_p['lineage'], 'Generation': '1'}))
    check('older generation (receipt of generation 1, file now generation 2)', act_p2['file_id'], act_p2, old, None)
    sw = R.sign_receipt(seed_k, dict(base, **{'File-Id': act_p2['file_id'], 'Lineage': act_p2['lineage'],
                                             'Generation': '2', 'Host-Id': other.printed()}))
    check('the switchover host of a pair, both binding the key', act_p2['file_id'], act_p2, sw, 'ok')


def _swap(rb, a, b):
    lines = rb.split(b'\n')
    i = next(k for k, x in enumerate(lines) if x.startswith(a))
    j = next(k for k, x in enumerate(lines) if x.startswith(b))
    lines[i], lines[j] = lines[j], lines[i]
    return b'\n'.join(lines)


def _wrap(rb):
    lines = rb.split(b'\n')
    k = lines.index(R.SIGM.encode()) + 1
    lines[k:k + 1] = [lines[k][:44], lines[k][44:]]
    return b'\n'.join(lines)
