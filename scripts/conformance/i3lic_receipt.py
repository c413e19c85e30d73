"""Request codes (FORMAT.md 11.12) and release receipts (FORMAT.md 20), written from the text
alone, on top of i3lic_verify.py's host-ID codes, Ed25519 and time forms.

    python3 i3lic_receipt.py receipt RECEIPT --file FILE --trust PUB [--trust PUB ...]
    python3 i3lic_receipt.py request CODE

Exit codes as FORMAT.md 20.2: 0 accepted, 3 malformed, 10 wrong key or bad signature; 3 also
for a file without an install key and for the issuer's rules of step 5 (another file, lineage or
generation), as `issuer deactivate --receipt` answers them.
"""
import base64
import sys

import i3lic_verify as V

BEGIN = '-----BEGIN I3LIC RELEASE RECEIPT-----'
SIGM = '-----BEGIN I3LIC SIGNATURE-----'
END = '-----END I3LIC RELEASE RECEIPT-----'
FORMAT = 'i3lic-release/1'
HEADERS = ('Format', 'File-Id', 'Lineage', 'Generation', 'Host-Id', 'Released-At', 'Install-Key')
MAX_RECEIPT = 4096
# Section 20.1: a generation from 0 to 2^32 - 1.
MAX_GENERATION = 2 ** 32 - 1
EXIT = {'TooLarge': 3, 'Malformed': 3, 'NoInstallKey': 3, 'WrongInstallKey': 10, 'SignatureInvalid': 10,
        'WrongFile': 3, 'WrongLineage': 3, 'WrongGeneration': 3}


class ReceiptError(Exception):
    """kind: one of EXIT's keys; msg names what is wrong."""

    def __init__(self, kind, msg=''):
        super().__init__(f'{kind}: {msg}')
        self.kind, self.msg = kind, msg


def _hex(v, n):
    return len(v) == n and all(c in V.HEX for c in v)


def parse_receipt(data):
    """Section 20.1. Returns dict(headers, values, signature, message)."""
    if len(data) > MAX_RECEIPT:
        raise ReceiptError('TooLarge', f'{len(data)} bytes')
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as e:
        raise ReceiptError('Malformed', f'not UTF-8 at offset {e.start}')
    if text.startswith('\ufeff'):
        text = text[1:]
    lines = [V._normalise(x) for x in text.split('\n')]
    i = 0
    while i < len(lines) and lines[i] == '':
        i += 1

    def line(what):
        if i >= len(lines):
            raise ReceiptError('Malformed', f'ends before {what}')
        return lines[i]
    if line('the begin marker') != BEGIN:
        raise ReceiptError('Malformed', f'line {i + 1}: not the begin marker')
    i += 1
    vals = {}
    for name in HEADERS:
        ln = line(name)
        if not ln.startswith(name + ': '):
            raise ReceiptError('Malformed', f'line {i + 1}: expected {name}')
        vals[name] = ln[len(name) + 2:]
        i += 1
    if line('the signature marker') != SIGM:
        raise ReceiptError('Malformed', f'line {i + 1}: not the signature marker')
    i += 1
    sig_text = line('the signature')
    i += 1
    if line('the end marker') != END:
        raise ReceiptError('Malformed', f'line {i + 1}: not the end marker')
    i += 1
    if any(x != '' for x in lines[i:]):
        raise ReceiptError('Malformed', 'text after the end marker')
    if vals['Format'] != FORMAT:
        raise ReceiptError('Malformed', 'Format')
    for name in ('File-Id', 'Lineage'):
        if not _hex(vals[name], 32):
            raise ReceiptError('Malformed', name)
    g = vals['Generation']
    if not (g.isascii() and g.isdigit()) or (len(g) > 1 and g[0] == '0') or int(g) > MAX_GENERATION:
        raise ReceiptError('Malformed', 'Generation')
    try:
        V.parse_canonical(vals['Host-Id'])
    except V.HostIdError as e:
        raise ReceiptError('Malformed', f'Host-Id: {e.kind}')
    try:
        released = V.parse_time(vals['Released-At'], 'Released-At')
    except V.FormatError:
        raise ReceiptError('Malformed', 'Released-At')
    key = vals['Install-Key']
    if not _hex(key, 64) or V.check_public_key(bytes.fromhex(key)) is None:
        raise ReceiptError('Malformed', 'Install-Key')
    sig = V.strict_b64(sig_text) if len(sig_text) == 88 else None
    if sig is None or len(sig) != 64:
        raise ReceiptError('Malformed', 'signature')
    return {'values': vals, 'generation': int(g), 'released_at': released, 'signature': sig,
            'message': receipt_message(vals)}


def receipt_message(vals):
    """Section 20.2: the signed bytes M."""
    m = FORMAT.encode() + b'\x00'
    for name in HEADERS:
        m += f'{name}: {vals[name]}\n'.encode()
    return m


def check_receipt(data, act):
    """Section 20.2 steps 1-5 (without the replay check) for the activation `act` the vendor has
    on record (as i3lic_verify.read_file returns it). Returns the parsed receipt."""
    r = parse_receipt(data)
    vals = r['values']
    # Step 2: the key of the file's host the receipt names (section 20.2).
    hn = host_of(act, vals['Host-Id'])
    key = act.get('install_keys', {}).get(hn) if hn else None
    if key is None:
        raise ReceiptError('NoInstallKey', 'the file binds no install key for that host')
    if vals['Install-Key'] != key:
        raise ReceiptError('WrongInstallKey', 'another install key than the file binds')
    if not V.verify_strict(bytes.fromhex(key), r['message'], r['signature']):
        raise ReceiptError('SignatureInvalid', 'the signature does not verify')
    if vals['File-Id'] != act['file_id']:
        raise ReceiptError('WrongFile', 'another file')
    lineage = act['lineage'] if act['version'] >= 2 else act['file_id']
    generation = act['generation'] if act['version'] >= 2 else 0
    if vals['Lineage'] != lineage:
        raise ReceiptError('WrongLineage', 'another lineage')
    if r['generation'] != generation:
        raise ReceiptError('WrongGeneration', 'another generation')
    return r


def host_of(act, code):
    """The file's host (primary_host / switchover_host) whose printed code the receipt names."""
    for hn in ('primary_host', 'switchover_host'):
        h = act[hn]
        if h is not None and h['host_id'] == code:
            return hn
    return None


def sign_receipt(seed, vals):
    """A receipt with the given header values (Format added), signed with the 32-byte seed."""
    vals = dict({'Format': FORMAT}, **vals)
    sig = base64.b64encode(V.sign_ed25519(seed, receipt_message(vals))).decode()
    lines = [BEGIN] + [f'{n}: {vals[n]}' for n in HEADERS] + [SIGM, sig, END]
    return ''.join(x + '\n' for x in lines).encode()

# ---------------------------------------------------------------- request codes (section 11.12)


class RequestError(Exception):
    def __init__(self, kind, msg=''):
        super().__init__(f'{kind}: {msg}')
        self.kind, self.msg = kind, msg


def parse_request(text):
    """Section 11.12. Returns (strong HostId, 32-byte install key)."""
    t = text
    i, j = 0, len(t)
    while i < j and t[i] in V.WHITE:
        i += 1
    while j > i and t[j - 1] in V.WHITE:
        j -= 1
    t = t[i:j]
    if t == '':
        raise RequestError('empty')
    if len(t.encode('utf-8')) > 320:
        raise RequestError('too-long')
    syms = []
    for pos, c in enumerate(t, 1):
        if c in '- ':
            continue
        u = c.upper() if 'a' <= c <= 'z' else c
        u = {'O': '0', 'I': '1', 'L': '1'}.get(u, u)
        if u not in V.SYM:
            raise RequestError('invalid-character', f'position {pos}')
        syms.append(V.SYM[u])
    if len(syms) != 112:
        raise RequestError('wrong-length', f'{len(syms)} symbols, 112 expected')
    if V.check_residue(syms) != 0:
        raise RequestError('check-failed')
    if syms[0] != 3:
        raise RequestError('unsupported-version')
    field = V._unfield(syms[59:111])
    if field & 15:
        raise RequestError('key-padding')
    key = (field >> 4).to_bytes(32, 'big')
    code = [2] + syms[1:59]
    code.append(V.xmul(V.check_residue(code)))
    try:
        h = V.parse_lenient(V.printed(code))
    except V.HostIdError as e:
        raise RequestError(e.kind)
    return h, key


def looks_like_request(text):
    """Section 11.12: whether a reader that takes either kind of code reads `text` as a
    request code."""
    t = text
    i, j = 0, len(t)
    while i < j and t[i] in V.WHITE:
        i += 1
    while j > i and t[j - 1] in V.WHITE:
        j -= 1
    chars = [c for c in t[i:j] if c not in '- ']
    if not chars:
        return False
    c = chars[0].upper() if 'a' <= chars[0] <= 'z' else chars[0]
    return V.SYM.get({'O': '0', 'I': '1', 'L': '1'}.get(c, c)) == 3 or len(chars) > 70


def make_request(strong_code, key):
    """The request code of a strong HostId and a 32-byte key (section 11.12)."""
    field = int.from_bytes(key, 'big') << 4
    syms = [3] + strong_code.syms[1:59] + V._field(field, 260)
    syms.append(V.xmul(V.check_residue(syms)))
    return V.printed(syms)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description='release receipts and request codes (FORMAT.md 20, 11.12)')
    sub = ap.add_subparsers(dest='cmd', required=True)
    rp = sub.add_parser('receipt')
    rp.add_argument('receipt')
    rp.add_argument('--file', required=True)
    rp.add_argument('--trust', action='append', default=[])
    qp = sub.add_parser('request')
    qp.add_argument('code')
    args = ap.parse_args(argv)
    if args.cmd == 'request':
        try:
            h, key = parse_request(args.code)
        except RequestError as e:
            print('bad-request-code', e.kind, e.msg)
            return 3
        print('ok', h.printed(), key.hex())
        return 0
    try:
        keys = [V.parse_public_key_text(open(t, 'rb').read()) for t in args.trust]
        act = V.read_file(open(args.file, 'rb').read(V.MAX_SIZE + 1), keys)
    except V.FormatError as e:
        print('file', e.kind, e.msg)
        return V.EXIT_FORMAT[e.kind]
    try:
        r = check_receipt(open(args.receipt, 'rb').read(MAX_RECEIPT + 1), act)
    except ReceiptError as e:
        print(e.kind, e.msg)
        return EXIT[e.kind]
    print('ok', r['values']['File-Id'], r['values']['Released-At'])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
