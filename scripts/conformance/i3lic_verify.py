#!/usr/bin/env python3
"""Independent reader, verifier and writer of i3lic activation files (formats 1 and 2),
written from docs/FORMAT.md only. Pure Python (hashlib for SHA-256/512; Ed25519 by hand, so the
strict rules of FORMAT.md section 6 are applied exactly).
"""
import base64
import hashlib
import json
import os
import re
import sys

# ---------------------------------------------------------------- errors

EXIT_FORMAT = {
    'Empty': 3, 'TooLarge': 3, 'NotUtf8': 3, 'Truncated': 3, 'MissingSection': 3,
    'DuplicateSection': 3, 'UnexpectedLine': 3, 'UnsupportedVersion': 3, 'MalformedHeader': 3,
    'MalformedSignature': 3, 'UntrustedKey': 11, 'KeyIdMismatch': 10, 'SignatureInvalid': 10,
    'UnknownField': 3, 'DuplicateField': 3, 'MissingField': 3, 'MalformedPayload': 3,
    'InvalidValue': 3, 'MalformedKey': 3,
}
EXIT_KIND = {
    'io': 4, 'not-regular-file': 4, 'malformed': 3, 'unsupported-version': 3, 'untrusted-key': 11,
    'signature-invalid': 10, 'product-mismatch': 15, 'version-mismatch': 15, 'host-mismatch': 12,
    'host-unreadable': 12, 'expired': 13, 'not-yet-valid': 14, 'clock-before-issuance': 14,
    'clock-set-back': 14, 'older-file': 16, 'older-generation': 16, 'superseded': 16,
    'state-corrupt': 3, 'state-io': 4, 'state-locked': 4, 'empty-trust-store': 3,
    'duplicate-trusted-key': 3, 'bad-trusted-key': 3, 'bad-host-id': 3,
    'trusted-key-io': 4, 'trusted-key-malformed': 3,
}


class FormatError(Exception):
    def __init__(self, kind, msg=''):
        super().__init__(f'{kind}: {msg}')
        self.kind = kind
        self.msg = msg


class VerifyError(Exception):
    def __init__(self, kind, msg='', fmt=None):
        super().__init__(f'{kind}: {msg}')
        self.kind = kind
        self.msg = msg
        self.fmt = fmt


def format_kind_to_verify(kind):
    if kind == 'UnsupportedVersion':
        return 'unsupported-version'
    if kind == 'UntrustedKey':
        return 'untrusted-key'
    if kind in ('SignatureInvalid', 'KeyIdMismatch'):
        return 'signature-invalid'
    return 'malformed'

# ---------------------------------------------------------------- Ed25519 (RFC 8032)

P = 2 ** 255 - 19
L_ORDER = 2 ** 252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(p1, p2):
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * t1 * t2 * D % P
    dd = 2 * z1 * z2 % P
    e, f, g, h = b - a, dd - c, dd + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _eq(p1, p2):
    x1, y1, z1, _ = p1
    x2, y2, z2, _ = p2
    return (x1 * z2 - x2 * z1) % P == 0 and (y1 * z2 - y2 * z1) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def decode_point(b):
    """Strict RFC 8032 5.1.3 decoding (y < p; x = 0 with sign set refused)."""
    if len(b) != 32:
        return None
    n = int.from_bytes(b, 'little')
    y = n & ((1 << 255) - 1)
    sign = n >> 255
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def encode_point(pt):
    x, y, z, _ = pt
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return int.to_bytes(y | ((x & 1) << 255), 32, 'little')


IDENT = (0, 1, 1, 0)
GY = 4 * pow(5, P - 2, P) % P
GX = _recover_x(GY, 0)
BASE = (GX, GY, 1, GX * GY % P)


def is_small_order(pt):
    return _eq(_mul(8, pt), IDENT)


def check_public_key(a):
    """FORMAT.md 6: on the curve, canonical, not small order."""
    pt = decode_point(a)
    if pt is None or encode_point(pt) != a or is_small_order(pt):
        return None
    return pt


def verify_strict(a_bytes, msg, sig):
    if len(sig) != 64:
        return False
    A = check_public_key(a_bytes)
    if A is None:
        return False
    rb, sb = sig[:32], sig[32:]
    s = int.from_bytes(sb, 'little')
    if s >= L_ORDER:
        return False
    R = decode_point(rb)
    if R is None or is_small_order(R):
        return False
    k = int.from_bytes(hashlib.sha512(rb + a_bytes + msg).digest(), 'little') % L_ORDER
    check = _add(_mul(s, BASE), _mul(L_ORDER - k, A))
    return encode_point(check) == rb


def secret_expand(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], 'little')
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def public_from_seed(seed):
    a, _ = secret_expand(seed)
    return encode_point(_mul(a, BASE))


def sign_ed25519(seed, msg):
    a, prefix = secret_expand(seed)
    A = encode_point(_mul(a, BASE))
    r = int.from_bytes(hashlib.sha512(prefix + msg).digest(), 'little') % L_ORDER
    R = encode_point(_mul(r, BASE))
    k = int.from_bytes(hashlib.sha512(R + A + msg).digest(), 'little') % L_ORDER
    s = (r + k * a) % L_ORDER
    return R + int.to_bytes(s, 32, 'little')

# ---------------------------------------------------------------- keys


def key_id(a):
    return hashlib.sha256(b'i3lic/key-id/v1\x00' + a).digest()[:8].hex()


def strict_b64(text):
    try:
        raw = base64.b64decode(text, validate=True)
    except Exception:
        return None
    if base64.b64encode(raw).decode('ascii') != text:
        return None
    return raw


def parse_public_key_text(data):
    """FORMAT.md 6 public key text form. Returns 32 bytes or raises FormatError(MalformedKey)."""
    if len(data) > 65536:
        raise FormatError('MalformedKey', 'too large')
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        raise FormatError('MalformedKey', 'not UTF-8')
    found = None
    for line in text.split('\n'):
        if line.endswith('\r'):
            line = line[:-1]
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('i3lic-secret-key-v1'):
            raise FormatError('MalformedKey', 'a secret key file')
        if not line.startswith('i3lic-public-key-v1 '):
            raise FormatError('MalformedKey', 'line of another form')
        if found is not None:
            raise FormatError('MalformedKey', 'second key line')
        raw = strict_b64(line[len('i3lic-public-key-v1 '):].strip())
        if raw is None or len(raw) != 32:
            raise FormatError('MalformedKey', 'bad base64 / length')
        found = raw
    if found is None:
        raise FormatError('MalformedKey', 'no key line')
    if check_public_key(found) is None:
        raise FormatError('MalformedKey', 'not an acceptable point')
    return found


def public_key_text(a, name='key'):
    return (f'# i3lic public key "{name}" (key id {key_id(a)})\n'
            f'i3lic-public-key-v1 {base64.b64encode(a).decode()}\n')

# ---------------------------------------------------------------- armor (sections 2-4)


BEGIN = '-----BEGIN I3LIC ACTIVATION FILE-----'
SIGM = '-----BEGIN I3LIC SIGNATURE-----'
END = '-----END I3LIC ACTIVATION FILE-----'
MAX_SIZE = 1048576
HEX = set('0123456789abcdef')
HEXANY = set('0123456789abcdefABCDEF')


def _normalise(line):
    return line.rstrip(' \t\r')


def parse_armor(data):
    if len(data) > MAX_SIZE:
        raise FormatError('TooLarge')
    try:
        text = data.decode('utf-8', errors='strict')
    except UnicodeDecodeError as e:
        raise FormatError('NotUtf8', f'offset {e.start}')
    if text.startswith('\ufeff'):
        text = text[1:]
    if text.strip(' \t\r\n') == '':
        raise FormatError('Empty')
    lines = [_normalise(x) for x in text.split('\n')]
    n = len(lines)
    i = 0
    while i < n and lines[i] == '':
        i += 1
    # (text is not empty, so some non-blank line exists)
    if lines[i] != BEGIN:
        if i == n - 1 and BEGIN.startswith(lines[i]):
            raise FormatError('Truncated', 'begin marker')
        raise FormatError('MissingSection', 'begin marker')
    i += 1
    # Format header
    if i >= n:
        raise FormatError('Truncated', 'format header')
    line = lines[i]
    if not line.startswith('Format: '):
        if i == n - 1 and 'Format: '.startswith(line):
            raise FormatError('Truncated', 'format header')
        raise FormatError('MissingSection', 'format header')
    val = line[len('Format: '):]
    if val in ('i3lic-activation/1', 'i3lic-activation/2', 'i3lic-activation/3'):
        version = int(val[-1])
    else:
        if i == n - 1 and any(f'i3lic-activation/{v}'.startswith(val) for v in (1, 2, 3)):
            raise FormatError('Truncated', 'format value')
        if val.startswith('i3lic-activation/'):
            raise FormatError('UnsupportedVersion', val[:64])
        raise FormatError('MalformedHeader', 'format')
    fmt_line = line
    i += 1
    # Key-Id header
    if i >= n:
        raise FormatError('Truncated', 'key id')
    line = lines[i]
    if not line.startswith('Key-Id: '):
        if i == n - 1 and 'Key-Id: '.startswith(line):
            raise FormatError('Truncated', 'key id')
        if line.startswith('Format: '):
            raise FormatError('DuplicateSection', 'format header')
        raise FormatError('MissingSection', 'key id')
    kid = line[len('Key-Id: '):]
    if not (len(kid) == 16 and all(c in HEX for c in kid)):
        if i == n - 1 and len(kid) < 16 and all(c in HEXANY for c in kid):
            raise FormatError('Truncated', 'key id value')
        raise FormatError('MalformedHeader', 'key id')
    kid_line = line
    i += 1
    # payload
    payload = []
    while True:
        if i >= n:
            raise FormatError('Truncated', 'payload')
        line = lines[i]
        if line == SIGM:
            break
        if line == BEGIN:
            raise FormatError('DuplicateSection', 'begin marker')
        if line == END:
            raise FormatError('MissingSection', 'signature block')
        if line.startswith('Format: ') or line.startswith('Key-Id: '):
            raise FormatError('DuplicateSection', 'header')
        payload.append(line)
        i += 1
    if all(x == '' for x in payload):
        raise FormatError('MissingSection', 'payload')
    i += 1
    sig = ''
    while True:
        if i >= n:
            raise FormatError('Truncated', 'signature')
        line = lines[i]
        if line == END:
            break
        if line == SIGM or line == BEGIN:
            raise FormatError('DuplicateSection', 'marker in signature')
        sig += line
        if len(sig.encode('utf-8')) > 256:
            raise FormatError('MalformedSignature', 'too long')
        i += 1
    i += 1
    while i < n:
        if lines[i] == BEGIN:
            raise FormatError('DuplicateSection', 'second file')
        if lines[i] != '':
            raise FormatError('UnexpectedLine')
        i += 1
    if sig == '':
        raise FormatError('MissingSection', 'signature')
    raw = strict_b64(sig)
    if raw is None or len(raw) != 64:
        raise FormatError('MalformedSignature')
    return {'version': version, 'key_id': kid, 'format_line': fmt_line, 'kid_line': kid_line,
            'payload_lines': payload, 'signature': raw}


def signed_message(version, kid, fmt_line, kid_line, payload_lines):
    m = f'i3lic-activation/{version}'.encode() + b'\x00' + bytes.fromhex(kid)
    for ln in [fmt_line, kid_line] + list(payload_lines):
        m += ln.encode('utf-8') + b'\n'
    return m

# ---------------------------------------------------------------- JSON reader (section 7.5 step 1)


class _Obj:
    def __init__(self, name, members, required):
        self.name, self.members, self.required = name, members, required


class _Arr:
    def __init__(self, item):
        self.item = item


STR, STRN, NUM = 'string', 'string-or-null', 'number'
HOST = _Obj('host', {'host_id': STR, 'form': STR, 'install_key': STRN, 'machine': STR}, ['host_id', 'machine'])
HOSTN = ('nullable', HOST)
LICENSE = _Obj('license', {'name': STR, 'assigned': NUM, 'pooled': NUM}, ['name', 'assigned', 'pooled'])
ITEM = _Obj('item', {'part': STR, 'description': STR, 'quantity': NUM}, ['part', 'description', 'quantity'])
KEYRULE = _Obj('keyrule', {'key': STR, 'holders': _Arr(STR), 'methods': _Arr(STR)}, ['key', 'holders', 'methods'])
REQUIRES = _Obj('requires', {'key': STR, 'any_of': _Arr(STR)}, ['key', 'any_of'])
IMPLIES = _Obj('implies', {'key': STR, 'implied': STR}, ['key', 'implied'])
EXCLUDES = _Obj('excludes', {'keys': _Arr(STR)}, ['keys'])
RULES = _Obj('rules', {'keys': _Arr(KEYRULE), 'requires': _Arr(REQUIRES), 'implies': _Arr(IMPLIES),
                       'excludes': _Arr(EXCLUDES)}, ['keys', 'requires', 'implies', 'excludes'])
TOP_MEMBERS = [
    ('file_id', STR), ('supersedes', STRN), ('lineage', STR), ('generation', NUM), ('product', STR),
    ('product_version', STR), ('license_type', STR), ('issued_at', STR), ('valid_from', STR),
    ('expires_at', STR), ('grace_days', NUM), ('generated_by', STR), ('sold_to', STR),
    ('install_site', STR), ('primary_host', HOST), ('switchover_host', HOSTN), ('system_type', STR),
    ('mail_connector', STR), ('bundle', STR), ('description', STR), ('features', _Arr(STR)),
    ('licenses', _Arr(LICENSE)), ('ordered_items', _Arr(ITEM)), ('restrictions', _Arr(STR)),
    ('rules', RULES)]
TOP = _Obj('top', dict(TOP_MEMBERS), [n for n, _ in TOP_MEMBERS if n not in ('lineage', 'generation', 'rules')])
V2_ONLY = ('lineage', 'generation', 'rules')


class Num:
    """A JSON number kept as its text."""

    def __init__(self, text):
        self.text = text


class _JsonReader:
    WS = ' \t\n\r'

    def __init__(self, text):
        self.t = text
        self.i = 0

    def err(self, kind, msg):
        raise FormatError(kind, f'{msg} at {self.i}')

    def ws(self):
        t = self.t
        while self.i < len(t) and t[self.i] in self.WS:
            self.i += 1

    def peek(self):
        self.ws()
        return self.t[self.i] if self.i < len(self.t) else ''

    def document(self):
        v = self.value(TOP)
        self.ws()
        if self.i != len(self.t):
            self.err('MalformedPayload', 'trailing characters')
        return v

    def value(self, schema):
        c = self.peek()
        if c == '':
            self.err('MalformedPayload', 'EOF')
        nullable = False
        if isinstance(schema, tuple):
            nullable, schema = True, schema[1]
        if c == '{':
            if not isinstance(schema, _Obj):
                self.err('MalformedPayload', 'object where another type expected')
            return self.obj(schema)
        if c == '[':
            if not isinstance(schema, _Arr):
                self.err('MalformedPayload', 'array where another type expected')
            return self.arr(schema)
        # scalar: read fully, then type check
        v = self.scalar()
        if v is None:
            if nullable or schema == STRN:
                return None
            self.err('MalformedPayload', 'null')
        if isinstance(v, str):
            if schema in (STR, STRN):
                return v
            self.err('MalformedPayload', 'string of wrong type')
        if isinstance(v, Num):
            if schema == NUM:
                return v
            self.err('MalformedPayload', 'number of wrong type')
        # bool
        self.err('MalformedPayload', 'bool')

    def scalar(self):
        t = self.t
        c = t[self.i]
        if c == '"':
            return self.string()
        if t.startswith('null', self.i):
            self.i += 4
            return None
        if t.startswith('true', self.i):
            self.i += 4
            return True
        if t.startswith('false', self.i):
            self.i += 5
            return False
        m = re.compile(r'-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?').match(t, self.i)
        if m and m.end() > self.i and (c == '-' or c.isdigit()):
            txt = m.group(0)
            # a number right after which a digit/letter follows would be a syntax error
            self.i = m.end()
            try:
                f = float(txt)
            except OverflowError:
                f = float('inf')
            if f in (float('inf'), float('-inf')):
                self.err('MalformedPayload', 'number out of range')
            return Num(txt)
        self.err('MalformedPayload', 'unexpected character')

    def string(self):
        t = self.t
        self.i += 1
        out = []
        while True:
            if self.i >= len(t):
                self.err('MalformedPayload', 'EOF in string')
            c = t[self.i]
            if c == '"':
                self.i += 1
                return ''.join(out)
            if ord(c) < 0x20:
                self.err('MalformedPayload', 'control in string')
            if c == '\\':
                self.i += 1
                if self.i >= len(t):
                    self.err('MalformedPayload', 'EOF in escape')
                e = t[self.i]
                simple = {'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}
                if e in simple:
                    out.append(simple[e])
                    self.i += 1
                    continue
                if e == 'u':
                    cp = self.hex4(self.i + 1)
                    self.i += 5
                    if 0xD800 <= cp <= 0xDBFF:
                        if t.startswith('\\u', self.i):
                            lo = self.hex4(self.i + 2)
                            if 0xDC00 <= lo <= 0xDFFF:
                                self.i += 6
                                out.append(chr(0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)))
                                continue
                        self.err('MalformedPayload', 'lone surrogate')
                    if 0xDC00 <= cp <= 0xDFFF:
                        self.err('MalformedPayload', 'lone surrogate')
                    out.append(chr(cp))
                    continue
                self.err('MalformedPayload', 'bad escape')
            out.append(c)
            self.i += 1

    def hex4(self, j):
        h = self.t[j:j + 4]
        if len(h) != 4 or not all(c in HEXANY for c in h):
            self.i = j
            self.err('MalformedPayload', 'bad \\u escape')
        return int(h, 16)

    def obj(self, schema):
        self.i += 1
        res = {}
        order = []
        c = self.peek()
        if c == '}':
            self.i += 1
        else:
            while True:
                c = self.peek()
                if c != '"':
                    self.err('MalformedPayload', 'expected member name')
                name = self.string()
                if name not in schema.members:
                    self.err('UnknownField', f'{schema.name}.{name}')
                if name in res:
                    self.err('DuplicateField', f'{schema.name}.{name}')
                if self.peek() != ':':
                    self.err('MalformedPayload', 'expected :')
                self.i += 1
                res[name] = self.value(schema.members[name])
                order.append(name)
                c = self.peek()
                if c == ',':
                    self.i += 1
                    continue
                if c == '}':
                    self.i += 1
                    break
                self.err('MalformedPayload', 'expected , or }')
        for r in schema.required:
            if r not in res:
                self.err('MissingField', f'{schema.name}.{r}')
        return res

    def arr(self, schema):
        self.i += 1
        res = []
        if self.peek() == ']':
            self.i += 1
            return res
        while True:
            res.append(self.value(schema.item))
            c = self.peek()
            if c == ',':
                self.i += 1
                continue
            if c == ']':
                self.i += 1
                return res
            self.err('MalformedPayload', 'expected , or ]')


def spelling_scan(text):
    """Section 7.5 step 2 over a text known to be valid JSON."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while text[i] != '"':
                if text[i] == '\\':
                    if text[i + 1] not in '"\\':
                        raise FormatError('InvalidValue', 'escape other than \\" and \\\\')
                    i += 2
                else:
                    i += 1
            i += 1
            continue
        # a number's sign, not an exponent's (3e-01 does not start with -0)
        if c == '-' and i + 1 < n and text[i + 1] == '0' and (i == 0 or text[i - 1] not in 'eE'):
            raise FormatError('InvalidValue', 'number starting with -0')
        i += 1

# ---------------------------------------------------------------- values (section 9)


WHITE = set([chr(c) for c in range(0x09, 0x0E)] + ['\u0020', '\u0085', '\u00a0', '\u1680'] +
            [chr(c) for c in range(0x2000, 0x200B)] + ['\u2028', '\u2029', '\u202f', '\u205f', '\u3000'])
REFUSED_RANGES = [(0x00, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD),
                  (0x70F, 0x70F), (0x890, 0x891), (0x8E2, 0x8E2), (0x180E, 0x180E), (0x200B, 0x200F),
                  (0x2028, 0x2029), (0x202A, 0x202E), (0x2060, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB),
                  (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3),
                  (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F)]


def is_refused_char(c):
    o = ord(c)
    return any(a <= o <= b for a, b in REFUSED_RANGES)


def check_text(v, what, may_be_empty=False):
    if len(v.encode('utf-8')) > 512:
        raise FormatError('InvalidValue', f'{what}: longer than 512 bytes')
    if not may_be_empty and (v == '' or all(c in WHITE for c in v)):
        raise FormatError('InvalidValue', f'{what}: empty')
    if any(is_refused_char(c) for c in v):
        raise FormatError('InvalidValue', f'{what}: refused character')
    if v and (v[0] in WHITE or v[-1] in WHITE):
        raise FormatError('InvalidValue', f'{what}: leading/trailing white space')


DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def _leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def days_from_civil(y, m, d):
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_time(v, what='time'):
    if not isinstance(v, str) or len(v) != 20 or not re.fullmatch(r'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z', v):
        raise FormatError('InvalidValue', f'{what}: not a time')
    y, mo, d = int(v[0:4]), int(v[5:7]), int(v[8:10])
    hh, mm, ss = int(v[11:13]), int(v[14:16]), int(v[17:19])
    if y < 1970 or not 1 <= mo <= 12:
        raise FormatError('InvalidValue', f'{what}: date')
    dim = 29 if (mo == 2 and _leap(y)) else DAYS[mo - 1]
    if not 1 <= d <= dim or hh > 23 or mm > 59 or ss > 59:
        raise FormatError('InvalidValue', f'{what}: date/time')
    return days_from_civil(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss


def format_time(t):
    days, rem = divmod(t, 86400)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    y += m <= 2
    return f'{y:04d}-{m:02d}-{d:02d}T{rem // 3600:02d}:{rem // 60 % 60:02d}:{rem % 60:02d}Z'


PERPETUAL = 4102444800
MAX_TIME = parse_time('9999-12-31T23:59:59Z')


def parse_int(v, lo, hi, what):
    txt = v.text
    if not re.fullmatch(r'-?(0|[1-9][0-9]*)', txt):
        raise FormatError('InvalidValue', f'{what}: fraction or exponent')
    n = int(txt)
    if n < 0:
        raise FormatError('InvalidValue', f'{what}: negative')
    if n >= 2 ** 64 or not lo <= n <= hi:
        raise FormatError('InvalidValue', f'{what}: out of range')
    return n


def parse_id(v, what):
    if not (len(v) == 32 and all(c in HEX for c in v)):
        raise FormatError('InvalidValue', f'{what}: not an id')
    return v


LICENSE_TYPES_COMMON = ['production', 'switchover', 'development-small', 'development-large', 'trial',
                        'evaluation', 'disaster-recovery', 'media-server', 'multi-site-administration',
                        'trial-system']
LICENSE_TYPES = {1: set(LICENSE_TYPES_COMMON + ['efaq-production']),
                 2: set(LICENSE_TYPES_COMMON + ['e-faq-production']),
                 3: set(LICENSE_TYPES_COMMON + ['e-faq-production'])}
RESTRICTIONS = ('hourly-disconnect', 'not-for-production')
HOLDERS = ('user', 'station')
METHODS = ('assignable', 'concurrent')


def is_key_name(v):
    return 1 <= len(v) <= 128 and re.fullmatch(r'[A-Z][A-Z0-9_]*', v) is not None


def check_feature(v, version):
    if version == 1:
        ok = len(v) <= 128 and re.fullmatch(r'I3_FEATURE_[A-Z0-9_]+', v) is not None
    else:
        ok = is_key_name(v)
    if not ok:
        raise FormatError('InvalidValue', f'feature name {v!r}')


def check_license_name(v, version):
    if version == 1:
        ok = len(v) <= 128 and re.fullmatch(r'I3_(ACCESS|LICENSE)_[A-Z0-9_]+', v) is not None
    else:
        ok = is_key_name(v)
    if not ok:
        raise FormatError('InvalidValue', f'license name {v!r}')


def check_set(vals, order, what):
    """A set of one spelling: non-empty, no duplicates, ascending in `order` (None: byte order)."""
    if len(vals) == 0:
        raise FormatError('InvalidValue', f'{what}: empty set')
    if order is not None:
        for v in vals:
            if v not in order:
                raise FormatError('InvalidValue', f'{what}: unknown {v!r}')
        keys = [order.index(v) for v in vals]
    else:
        keys = [v.encode('utf-8') for v in vals]
    for a, b in zip(keys, keys[1:]):
        if not a < b:
            raise FormatError('InvalidValue', f'{what}: not ascending / duplicate')

# ---------------------------------------------------------------- host-ID codes (section 11)


ALPHA = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
SYM = {c: i for i, c in enumerate(ALPHA)}


class HostIdError(Exception):
    def __init__(self, kind, msg=''):
        super().__init__(f'{kind}: {msg}')
        self.kind = kind


def xmul(v):
    return (v << 1) ^ 37 if v >= 16 else v << 1


def check_residue(syms):
    r = 0
    for s in syms:
        r = xmul(r) ^ s
    return r


def fingerprint(domain, value, bits):
    d = hashlib.sha256(domain.encode() + b'\x00' + value).digest()
    return int.from_bytes(d, 'big') >> (256 - bits)


def normalise_text(v):
    pieces = []
    cur = ''
    for c in v:
        if c in WHITE:
            if cur:
                pieces.append(cur)
            cur = ''
        else:
            cur += c
    if cur:
        pieces.append(cur)
    s = ' '.join(pieces)
    return ''.join(chr(ord(c) + 32) if 'A' <= c <= 'Z' else c for c in s)


def _field(n, bits):
    return [(n >> (bits - 5 * (j + 1))) & 31 for j in range(bits // 5)]


def _unfield(syms):
    n = 0
    for s in syms:
        n = (n << 5) | s
    return n


def make_code(machine_id=None, dmi=None, macs=(), cpu=None, strong=False):
    """Build a host-ID code from components (values given directly: normalisation only).
    Returns (printed code) or raises HostIdError('too-few-components')."""
    b = 65 if strong else 25
    cb = 25 if strong else 10
    flags = 0
    f_mid = f_dmi = f_m1 = f_m2 = f_cpu = 0
    if machine_id is not None:
        nv = normalise_text(machine_id)
        if nv:
            flags |= 1
            f_mid = fingerprint('i3lic/hostid/v1/machine-id', nv.encode(), b)
    if dmi is not None:
        nv = normalise_text(dmi)
        if nv:
            flags |= 2
            f_dmi = fingerprint('i3lic/hostid/v1/dmi-uuid', nv.encode(), b)
    fps = sorted(fingerprint('i3lic/hostid/v1/mac', bytes(m), b) for m in macs)
    kept = []
    for fp in fps:
        if not kept or (kept[-1] >> (b - 25)) != (fp >> (b - 25)):
            kept.append(fp)
    if kept:
        flags |= 4
        f_m1 = kept[0]
    if len(kept) > 1:
        flags |= 8
        f_m2 = kept[1]
    if cpu is not None:
        nv = normalise_text(cpu)
        if nv:
            flags |= 16
            f_cpu = fingerprint('i3lic/hostid/v1/cpu', nv.encode(), cb)
    if bin(flags & 7).count('1') < 2:
        raise HostIdError('too-few-components')
    syms = [2 if strong else 1, flags]
    for f in (f_mid, f_dmi, f_m1, f_m2):
        syms += _field(f, b)
    syms += _field(f_cpu, cb)
    syms.append(xmul(check_residue(syms)))
    return printed(syms)


def printed(syms):
    s = ''.join(ALPHA[x] for x in syms)
    return '-'.join(s[i:i + 5] for i in range(0, len(s), 5))


class HostId:
    def __init__(self, syms):
        self.syms = syms
        self.strong = len(syms) == 60
        b = 65 if self.strong else 25
        k = b // 5
        self.flags = syms[1]
        self.fields = []
        for j in range(4):
            self.fields.append(_unfield(syms[2 + j * k: 2 + (j + 1) * k]))
        self.cpu = _unfield(syms[2 + 4 * k: -1])
        self.bits = b

    def printed(self):
        return printed(self.syms)

    def to_short(self):
        if not self.strong:
            return self
        s = self.syms
        syms = [1, s[1]] + s[2:7] + s[15:20] + s[28:33] + s[41:46] + s[54:56]
        syms.append(xmul(check_residue(syms)))
        return HostId(syms)


def parse_lenient(text):
    t = text
    # trim Unicode white space (White_Space property)
    i, j = 0, len(t)
    while i < j and t[i] in WHITE:
        i += 1
    while j > i and t[j - 1] in WHITE:
        j -= 1
    t = t[i:j]
    if t == '':
        raise HostIdError('empty')
    if len(t.encode('utf-8')) > 128:
        raise HostIdError('too-long')
    syms = []
    for pos, c in enumerate(t, 1):
        if c in '- ':
            continue
        u = c.upper() if 'a' <= c <= 'z' else c
        u = {'O': '0', 'I': '1', 'L': '1'}.get(u, u)
        if u not in SYM:
            raise HostIdError('invalid-character', f'position {pos}')
        syms.append(SYM[u])
    n = len(syms)
    if n not in (25, 60):
        if syms and syms[0] == 1:
            want = 25
        elif syms and syms[0] == 2:
            want = 60
        else:
            want = 25 if n <= 42 else 60
        raise HostIdError('wrong-length', f'{n} symbols, {want} expected')
    if check_residue(syms) != 0:
        raise HostIdError('check-failed')
    if syms[0] != (1 if n == 25 else 2):
        raise HostIdError('unsupported-version')
    h = HostId(syms)
    for bit, idx in ((1, 0), (2, 1), (4, 2), (8, 3)):
        if not (h.flags & bit) and h.fields[idx] != 0:
            raise HostIdError('inconsistent', 'absent component with field')
    if not (h.flags & 16) and h.cpu != 0:
        raise HostIdError('inconsistent', 'absent cpu with field')
    if (h.flags & 8) and not (h.flags & 4):
        raise HostIdError('inconsistent', 'mac2 without mac1')
    if h.flags & 8:
        if (h.fields[2] >> (h.bits - 25)) >= (h.fields[3] >> (h.bits - 25)):
            raise HostIdError('inconsistent', 'mac order')
    # flags above bit 4: the spec names 5 flag bits; a symbol holds 5 bits, so none exist.
    if bin(h.flags & 7).count('1') < 2:
        raise HostIdError('too-few-components')
    return h


def parse_canonical(text):
    h = parse_lenient(text)
    if h.printed() != text:
        raise HostIdError('not-canonical')
    return h


def compare(expected, found):
    """Returns (equal_strong, differ) per 11.9 at the given (same) form."""
    eq_strong = 0
    differ = 0
    both = expected.flags & found.flags
    for bit, idx in ((1, 0), (2, 1)):
        if both & bit:
            if expected.fields[idx] == found.fields[idx]:
                eq_strong += 1
            else:
                differ += 1
    if both & 4:
        em = [expected.fields[2]] + ([expected.fields[3]] if expected.flags & 8 else [])
        fm = [found.fields[2]] + ([found.fields[3]] if found.flags & 8 else [])
        if set(em) & set(fm):
            eq_strong += 1
        else:
            differ += 1
    if both & 16:
        if expected.cpu != found.cpu:
            differ += 1
    return eq_strong, differ


def match_codes(expected, found):
    if expected.strong and not found.strong:
        return False
    if not expected.strong and found.strong:
        found = found.to_short()
    eq, differ = compare(expected, found)
    return eq >= 2 and differ <= 1

# ---------------------------------------------------------------- payload (sections 7-10)


def parse_payload(version, lines):
    text = ''.join(ln + '\n' for ln in lines)
    doc = _JsonReader(text).document()
    spelling_scan(text)
    for m in V2_ONLY:
        if version == 1 and m in doc:
            raise FormatError('UnknownField', m)
        if version >= 2 and m not in doc:
            raise FormatError('MissingField', m)
    a = dict(doc)
    # step 4: values
    parse_id(doc['file_id'], 'file_id')
    if version >= 2:
        parse_id(doc['lineage'], 'lineage')
        a['generation'] = parse_int(doc['generation'], 1, 10_000_000, 'generation')
    if doc['supersedes'] is not None:
        parse_id(doc['supersedes'], 'supersedes')
    if doc['license_type'] not in LICENSE_TYPES[version]:
        raise FormatError('InvalidValue', 'license_type')
    a['issued_at_t'] = parse_time(doc['issued_at'], 'issued_at')
    a['valid_from_t'] = parse_time(doc['valid_from'], 'valid_from')
    a['expires_at_t'] = parse_time(doc['expires_at'], 'expires_at')
    a['grace_days'] = parse_int(doc['grace_days'], 0, 3660, 'grace_days')
    hosts = {}
    install_keys = {'primary_host': None, 'switchover_host': None}
    for hn in ('primary_host', 'switchover_host'):
        h = doc[hn]
        if h is None:
            hosts[hn] = None
            continue
        try:
            hid = parse_canonical(h['host_id'])
        except HostIdError as e:
            raise FormatError('InvalidValue', f'{hn}.host_id: {e.kind}')
        if version == 1 and hid.strong:
            raise FormatError('InvalidValue', f'{hn}.host_id: strong code in version 1')
        if version == 1 and 'form' in h:
            raise FormatError('UnknownField', f'{hn}.form')
        if version >= 2:
            if 'form' not in h:
                raise FormatError('MissingField', f'{hn}.form')
            if h['form'] != ('strong' if hid.strong else 'short'):
                raise FormatError('InvalidValue', f'{hn}.form')
        # section 7.5 step 4 and section 9 (install_key, version 3 only)
        if version < 3 and 'install_key' in h:
            raise FormatError('UnknownField', f'{hn}.install_key')
        if version == 3:
            if 'install_key' not in h:
                raise FormatError('MissingField', f'{hn}.install_key')
            ik = h['install_key']
            if ik is not None:
                if not (len(ik) == 64 and all(c in HEX for c in ik)) or not check_public_key(bytes.fromhex(ik)):
                    raise FormatError('InvalidValue', f'{hn}.install_key')
            install_keys[hn] = ik
        hosts[hn] = hid
    a['install_keys'] = install_keys
    a['hosts'] = hosts
    for lic in doc['licenses']:
        parse_int(lic['assigned'], 0, 10_000_000, 'assigned')
        parse_int(lic['pooled'], 0, 10_000_000, 'pooled')
    for it in doc['ordered_items']:
        parse_int(it['quantity'], 0, 10_000_000, 'quantity')
    for r in doc['restrictions']:
        if r not in RESTRICTIONS:
            raise FormatError('InvalidValue', 'restriction')
    if version >= 2:
        for kr in doc['rules']['keys']:
            check_set(kr['holders'], HOLDERS, 'holders')
            check_set(kr['methods'], METHODS, 'methods')
    # step 5: validation
    validate(version, doc, a)
    return a


def validate(version, doc, a):
    if version >= 2:
        g = a['generation']
        if (g == 1) != (doc['lineage'] == doc['file_id']):
            raise FormatError('InvalidValue', 'generation/lineage')
        if g > 1 and doc['supersedes'] is None:
            raise FormatError('InvalidValue', 'generation > 1 without supersedes')
    for m in ('product', 'product_version', 'generated_by', 'sold_to', 'install_site'):
        check_text(doc[m], m)
    check_text(doc['primary_host']['machine'], 'primary_host.machine')
    sw = doc['switchover_host']
    if sw is not None:
        check_text(sw['machine'], 'switchover_host.machine')
        if sw['host_id'] == doc['primary_host']['host_id']:
            raise FormatError('InvalidValue', 'switchover host id equals primary')
        p, s = a['hosts']['primary_host'], a['hosts']['switchover_host']
        if match_codes(p, s) or match_codes(s, p):
            raise FormatError('InvalidValue', 'switchover host matches primary')
    if doc['supersedes'] is not None and doc['supersedes'] == doc['file_id']:
        raise FormatError('InvalidValue', 'supersedes itself')
    for m in ('system_type', 'mail_connector', 'bundle', 'description'):
        check_text(doc[m], m, may_be_empty=True)
    if a['valid_from_t'] > a['expires_at_t']:
        raise FormatError('InvalidValue', 'valid_from after expires_at')
    if a['expires_at_t'] > PERPETUAL:
        raise FormatError('InvalidValue', 'expires_at after 2100')
    for m in ('features', 'licenses', 'ordered_items', 'restrictions'):
        if len(doc[m]) > 4096:
            raise FormatError('InvalidValue', f'{m}: too many')
    seen = set()
    for f in doc['features']:
        check_feature(f, version)
        if f in seen:
            raise FormatError('InvalidValue', 'feature twice')
        seen.add(f)
    seen = set()
    for lic in doc['licenses']:
        check_license_name(lic['name'], version)
        if lic['name'] in seen:
            raise FormatError('InvalidValue', 'license twice')
        seen.add(lic['name'])
    seen = set()
    for it in doc['ordered_items']:
        check_text(it['part'], 'part')
        check_text(it['description'], 'item description', may_be_empty=True)
        if it['part'] in seen:
            raise FormatError('InvalidValue', 'part twice')
        seen.add(it['part'])
    if len(set(doc['restrictions'])) != len(doc['restrictions']):
        raise FormatError('InvalidValue', 'restriction twice')
    if version >= 2:
        validate_rules(doc['rules'])


def validate_rules(r):
    if sum(len(r[m]) for m in ('keys', 'requires', 'implies', 'excludes')) > 4096:
        raise FormatError('InvalidValue', 'rules: more than 4096 in all')
    seen = set()
    for kr in r['keys']:
        if not is_key_name(kr['key']):
            raise FormatError('InvalidValue', 'rules key name')
        check_set(kr['holders'], HOLDERS, 'holders')
        check_set(kr['methods'], METHODS, 'methods')
        if kr['key'] in seen:
            raise FormatError('InvalidValue', 'two key rules for one key')
        seen.add(kr['key'])
    seen = set()
    for rq in r['requires']:
        if not is_key_name(rq['key']):
            raise FormatError('InvalidValue', 'requires key')
        if len(rq['any_of']) > 64:
            raise FormatError('InvalidValue', 'any_of too many')
        for k in rq['any_of']:
            if not is_key_name(k):
                raise FormatError('InvalidValue', 'any_of name')
        check_set(rq['any_of'], None, 'any_of')
        if rq['key'] in rq['any_of']:
            raise FormatError('InvalidValue', 'key requires itself')
        sig = (rq['key'], tuple(rq['any_of']))
        if sig in seen:
            raise FormatError('InvalidValue', 'requires twice')
        seen.add(sig)
    seen = set()
    graph = {}
    for im in r['implies']:
        if not is_key_name(im['key']) or not is_key_name(im['implied']):
            raise FormatError('InvalidValue', 'implies name')
        if im['key'] == im['implied']:
            raise FormatError('InvalidValue', 'implies itself')
        sig = (im['key'], im['implied'])
        if sig in seen:
            raise FormatError('InvalidValue', 'implies twice')
        seen.add(sig)
        graph.setdefault(im['key'], set()).add(im['implied'])
    seen = set()
    for ex in r['excludes']:
        if len(ex['keys']) > 64:
            raise FormatError('InvalidValue', 'excludes too many')
        for k in ex['keys']:
            if not is_key_name(k):
                raise FormatError('InvalidValue', 'excludes name')
        check_set(ex['keys'], None, 'excludes')
        if len(ex['keys']) < 2:
            raise FormatError('InvalidValue', 'excludes fewer than two')
        sig = tuple(ex['keys'])
        if sig in seen:
            raise FormatError('InvalidValue', 'excludes twice')
        seen.add(sig)

    def closure(k):
        out, todo = set(), [k]
        while todo:
            x = todo.pop()
            for y in graph.get(x, ()):
                if y not in out:
                    out.add(y)
                    todo.append(y)
        return out
    for k in graph:
        if k in closure(k):
            raise FormatError('InvalidValue', 'implies cycle')
    for k in graph:
        cl = closure(k)
        for ex in r['excludes']:
            if k in ex['keys'] and cl & set(ex['keys']):
                raise FormatError('InvalidValue', 'implies an excluded key')

# ---------------------------------------------------------------- reading a whole file


def read_file(data, trusted):
    """Parse and verify bytes against a list of 32-byte trusted keys. Returns the activation."""
    arm = parse_armor(data)
    keys = [k for k in trusted if key_id(k) == arm['key_id']]
    if not keys:
        raise FormatError('UntrustedKey', arm['key_id'])
    msg = signed_message(arm['version'], arm['key_id'], arm['format_line'], arm['kid_line'], arm['payload_lines'])
    if not any(verify_strict(k, msg, arm['signature']) for k in keys):
        raise FormatError('SignatureInvalid')
    act = parse_payload(arm['version'], arm['payload_lines'])
    act['version'] = arm['version']
    act['key_id'] = arm['key_id']
    return act

# ---------------------------------------------------------------- verifier (sections 12-13)


DEMO_KEY_ID = '7eaf4b54563d793c'


def version_matches(f, s):
    return s == f or (s.startswith(f + '.') and len(s) > len(f) + 1)


def parse_state(data):
    def bad(m):
        raise VerifyError('state-corrupt', m)
    if len(data) > 65536:
        bad('too large')
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        bad('not utf-8')
    if text.strip() == '':
        bad('empty')
    try:
        def no_dup(pairs):
            d = {}
            for k, v in pairs:
                if k in d:
                    raise ValueError('duplicate')
                d[k] = v
            return d
        st = json.loads(text, object_pairs_hook=no_dup)
    except Exception:
        bad('not JSON')
    if not isinstance(st, dict):
        bad('not an object')
    fmt = st.get('format')
    if fmt == 'i3lic-verify-state/2':
        allowed = {'format', 'latest_seen', 'newest', 'superseded', 'lineages'}
    elif fmt == 'i3lic-verify-state/1':
        allowed = {'format', 'latest_seen', 'newest', 'superseded'}
    else:
        bad('format')
    if set(st) != allowed:
        bad('members')
    try:
        latest = parse_time(st['latest_seen'])
        newest = st['newest']
        if newest is not None:
            if not isinstance(newest, dict) or set(newest) != {'file_id', 'issued_at'}:
                bad('newest')
            newest = (parse_id(newest['file_id'], 'id'), parse_time(newest['issued_at']))
        sup = st['superseded']
        if not isinstance(sup, list) or len(sup) > 1000:
            bad('superseded')
        sup = [parse_id(x, 'id') for x in sup]
        lins = st.get('lineages', [])
        if not isinstance(lins, list) or len(lins) > 100:
            bad('lineages')
        lin = []
        for e in lins:
            if not isinstance(e, dict) or set(e) != {'lineage', 'generation', 'file_id'}:
                bad('lineage entry')
            g = e['generation']
            if not isinstance(g, int) or isinstance(g, bool) or not 1 <= g <= 10_000_000:
                bad('generation')
            lin.append((parse_id(e['lineage'], 'id'), g, parse_id(e['file_id'], 'id')))
    except (FormatError, TypeError, AttributeError):
        bad('value')
    return {'latest_seen': latest, 'newest': newest, 'superseded': sup, 'lineages': lin}


def verify(data, trusted, host_code, at, product=None, pversion=None, state_bytes=None,
           state_exists=False, tolerance=86400):
    """Section 12.1 steps 1-9 (read-only). trusted: list of 32-byte keys. host_code: HostId.
    at: seconds since the epoch. Returns dict(role, in_grace, demo_key)."""
    try:
        act = read_file(data, trusted)
    except FormatError as e:
        raise VerifyError(format_kind_to_verify(e.kind), e.msg, fmt=e.kind)
    if product is not None:
        if act['product'] != product:
            raise VerifyError('product-mismatch')
        if not version_matches(act['product_version'], pversion):
            raise VerifyError('version-mismatch')
    hosts = act['hosts']
    if match_codes(hosts['primary_host'], host_code):
        role = 'primary'
    elif hosts['switchover_host'] is not None and match_codes(hosts['switchover_host'], host_code):
        role = 'switchover'
    else:
        raise VerifyError('host-mismatch')
    st = None
    t = at
    if state_exists:
        st = parse_state(state_bytes)
        if at + tolerance < st['latest_seen']:
            raise VerifyError('clock-set-back')
        t = max(at, st['latest_seen'])
    E = act['expires_at_t']
    if E == PERPETUAL:
        end = MAX_TIME
    else:
        end = min(E + act['grace_days'] * 86400, MAX_TIME)
    if t < act['issued_at_t']:
        raise VerifyError('clock-before-issuance')
    if t < act['valid_from_t']:
        raise VerifyError('not-yet-valid')
    if t > end:
        raise VerifyError('expired')
    in_grace = E != PERPETUAL and t > E
    if st is not None:
        if act['file_id'] in st['superseded']:
            raise VerifyError('superseded')
        if act['version'] >= 2:
            for lin, g, fid in st['lineages']:
                if lin == act['lineage']:
                    if act['generation'] < g or (act['generation'] == g and act['file_id'] != fid):
                        raise VerifyError('older-generation')
        else:
            n = st['newest']
            if n is not None and act['file_id'] != n[0] and act['issued_at_t'] < n[1]:
                raise VerifyError('older-file')
    warnings = []
    if in_grace:
        warnings.append(('in-grace', (end - t) // 86400))
    elif E != PERPETUAL and E <= t + 30 * 86400:
        warnings.append(('expiring-soon', (E - t) // 86400))
    if act['key_id'] == DEMO_KEY_ID:
        warnings.append(('demo-key', None))
    # section 12.3: the install key of the matched host goes to the store (version 3)
    ik = act['install_keys']['primary_host' if role == 'primary' else 'switchover_host']
    return {'role': role, 'in_grace': in_grace, 'demo_key': act['key_id'] == DEMO_KEY_ID, 'activation': act,
            'install_key': ik,
            'warnings': sorted(warnings, key=str)}

def record(st, act, now):
    """Section 13.3: the state after accepting `act` at `now` (st as parse_state returns, or None
    for a first start). Returns the state as the JSON object section 13.4 shows."""
    if st is None:
        st = {'latest_seen': now, 'newest': None, 'superseded': [], 'lineages': []}
    latest = max(st['latest_seen'], now)
    sup = list(st['superseded'])
    lins = list(st['lineages'])
    newest = st['newest']

    def add(i):
        # guess: an id already held is not added a second time
        if i is not None and i not in sup:
            sup.append(i)
    if act['version'] >= 2:
        lins = [e for e in lins if e[0] != act['lineage']] + [(act['lineage'], act['generation'], act['file_id'])]
        if len(lins) > 100:
            lins = lins[len(lins) - 100:]
        add(act['supersedes'])
    if newest is None or act['issued_at_t'] >= newest[1]:
        add(act['supersedes'])
        newest = (act['file_id'], act['issued_at_t'])
    if len(sup) > 1000:
        sup = sup[len(sup) - 1000:]
    return {'format': 'i3lic-verify-state/2', 'latest_seen': format_time(latest),
            'newest': None if newest is None else {'file_id': newest[0], 'issued_at': format_time(newest[1])},
            'superseded': sup,
            'lineages': [{'lineage': a, 'generation': g, 'file_id': f} for a, g, f in lins]}

# ---------------------------------------------------------------- writer (sections 4, 5, 7.3)


def _jstr(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def _pretty(v, ind=0):
    pad = '  ' * ind
    if v is None:
        return 'null'
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _jstr(v)
    if isinstance(v, list):
        if not v:
            return '[]'
        return '[\n' + ',\n'.join('  ' * (ind + 1) + _pretty(x, ind + 1) for x in v) + '\n' + pad + ']'
    if isinstance(v, dict):
        if not v:
            return '{}'
        return '{\n' + ',\n'.join('  ' * (ind + 1) + _jstr(k) + ': ' + _pretty(x, ind + 1)
                                  for k, x in v.items()) + '\n' + pad + '}'
    raise TypeError(v)


def sign_file(seed, payload_obj, version=2):
    """payload_obj: an ordered dict in writer order. Returns the file bytes."""
    a = public_from_seed(seed)
    kid = key_id(a)
    fmt_line = f'Format: i3lic-activation/{version}'
    kid_line = f'Key-Id: {kid}'
    lines = _pretty(payload_obj).split('\n')
    msg = signed_message(version, kid, fmt_line, kid_line, lines)
    sig = base64.b64encode(sign_ed25519(seed, msg)).decode()
    out = [BEGIN, fmt_line, kid_line] + lines + [SIGM, sig, END]
    return ''.join(x + '\n' for x in out).encode('utf-8')


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description='independent i3lic verifier')
    ap.add_argument('file')
    ap.add_argument('--trust', action='append', default=[])
    ap.add_argument('--host-id')
    ap.add_argument('--at')
    ap.add_argument('--product')
    ap.add_argument('--version')
    ap.add_argument('--state')
    ap.add_argument('--format-only', action='store_true')
    args = ap.parse_args(argv)
    # section 15.3: the --host-id code before any file is read
    try:
        hid = parse_lenient(args.host_id)
    except HostIdError as e:
        print('bad-host-id', e.kind)
        return 3
    keys = []
    try:
        for t in args.trust:
            keys.append(parse_public_key_text(open(t, 'rb').read()))
    except FormatError:
        print('trusted-key-malformed')
        return 3
    data = open(args.file, 'rb').read(MAX_SIZE + 1)
    if args.format_only:
        try:
            act = read_file(data, keys)
            print('ok', act['version'])
            return 0
        except FormatError as e:
            print(e.kind, e.msg)
            return EXIT_FORMAT[e.kind]
    try:
        sb = None
        ex = False
        if args.state and os.path.exists(args.state):
            sb = open(args.state, 'rb').read()
            ex = True
        r = verify(data, keys, hid, parse_time(args.at), args.product, args.version, sb, ex)
        print('ok', r['role'], 'in-grace' if r['in_grace'] else '', 'demo-key' if r['demo_key'] else '')
        return 0
    except VerifyError as e:
        print(e.kind, e.fmt or '', e.msg)
        return EXIT_KIND[e.kind]


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
