"""Edge-case probes for run.py: files signed here (so the signature is good and the later checks
are reached), armor variants, trust-store keys, verifier times, versions and state files. Each
probe is run through the independent verifier and through licverify and the outcomes compared;
there is no expected outcome beyond what both should agree on."""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

import hostcases as H

EX = {'machine_id': '0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'dmi': '4C4C4544-004B-4B10-804B-B4C04F4D3732',
      'macs': [bytes.fromhex('001b213a4b5c')], 'cpu': 'GenuineIntel Xeon Gold 6230'}
SHORT = '1Q2H4-74KMZ-KWXDV-8K000-00KZQ'
STRONG = '2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4T'


def R(old, new, count=1):
    def f(t):
        assert old in t, old
        return t.replace(old, new, count)
    return f


def chain(*fs):
    def f(t):
        for g in fs:
            t = g(t)
        return t
    return f


RULES_EMPTY = '''  "rules": {
    "keys": [],
    "requires": [],
    "implies": [],
    "excludes": []
  }'''


def rules(keys='[]', requires='[]', implies='[]', excludes='[]'):
    return R(RULES_EMPTY, f'''  "rules": {{
    "keys": {keys},
    "requires": {requires},
    "implies": {implies},
    "excludes": {excludes}
  }}''')


def imp(*pairs):
    return '[' + ', '.join(f'{{"key": "{a}", "implied": "{b}"}}' for a, b in pairs) + ']'


def exc(*sets):
    return '[' + ', '.join('{"keys": [' + ', '.join(f'"{k}"' for k in s) + ']}' for s in sets) + ']'


def req(*rs):
    return '[' + ', '.join(f'{{"key": "{k}", "any_of": [' + ', '.join(f'"{x}"' for x in a) + ']}' for k, a in rs) + ']'


def krule(*rs):
    return '[' + ', '.join(f'{{"key": "{k}", "holders": [' + ', '.join(f'"{x}"' for x in h) + '], "methods": ['
                          + ', '.join(f'"{x}"' for x in m) + ']}' for k, h, m in rs) + ']'


def text_value(member, value):
    return lambda t: _set_member(t, member, json.dumps(value, ensure_ascii=False))


def raw_value(member, raw):
    return lambda t: _set_member(t, member, raw)


def _set_member(t, member, raw):
    key = f'"{member}": '
    i = t.index(key) + len(key)
    j = t.index('\n', i)
    end = ',' if t[j - 1] == ',' else ''
    return t[:i] + raw + end + t[j:]


SW_LINE = '  "switchover_host": null,'


def switch(code, machine='backup', form=True, version=2):
    f = f'\n    "form": "{"strong" if len(code) == 71 else "short"}",' if (form and version == 2) else ''
    return R(SW_LINE, f'  "switchover_host": {{\n    "host_id": "{code}",{f}\n    "machine": "{machine}"\n  }},')


def _code(V, syms):
    syms = list(syms)
    syms.append(V.xmul(V.check_residue(syms)))
    return V.printed(syms)


def payload_probes(V):
    one = _code(V, [1, 1] + [5] * 5 + [0] * 17)            # machine identity only: too few components
    mac2only = _code(V, [1, 1 | 2 | 8] + [5] * 10 + [0] * 5 + [7] * 5 + [0, 0])   # MAC 2 without MAC 1
    zero_field = _code(V, [1, 1 | 2] + [0] * 5 + [5] * 5 + [0] * 12)   # a present component with a zero field
    mid2 = dict(EX, dmi='aaaa', macs=[bytes.fromhex('020000000001')], cpu='Other CPU')  # shares machine id only
    two_cpu = dict(EX, macs=[bytes.fromhex('020000000001')], cpu='Other CPU')  # machine id + dmi equal, MAC and CPU differ
    two = dict(EX, macs=[bytes.fromhex('020000000001')])  # machine id + dmi equal, MAC differs
    c = lambda m, s=False: V.make_code(m['machine_id'], m['dmi'], m['macs'], m['cpu'], strong=s)
    P = []
    both = (1, 2)
    # JSON and types
    P += [('top-array', both, lambda t: '[]\n'),
          ('top-string', both, lambda t: '"x"\n'),
          ('grace-string', both, raw_value('grace_days', '"30"')),
          ('grace-fraction', both, raw_value('grace_days', '30.0')),
          ('grace-exponent', both, raw_value('grace_days', '3E1')),
          ('grace-1e400', both, raw_value('grace_days', '1e400')),
          ('grace-2^64', both, raw_value('grace_days', '18446744073709551616')),
          ('grace-huge-int', both, raw_value('grace_days', '1' + '0' * 400)),
          ('grace-1e-400', both, raw_value('grace_days', '1e-400')),
          ('grace-neg-1e400', both, raw_value('grace_days', '-1e400')),
          ('grace-neg-fraction', both, raw_value('grace_days', '-1.5')),
          ('grace-10^19', both, raw_value('grace_days', '10000000000000000000')),
          ('grace-10^300-int', both, raw_value('grace_days', '1' + '0' * 300)),
          # section 9 "numbers": the double bound, and -0 in an exponent (7.5 step 2)
          ('grace-exponent-minus-zero', both, raw_value('grace_days', '3e-01')),
          ('grace-exponent-minus-zero-upper', both, raw_value('grace_days', '25E-0')),
          ('grace-minus-zero-half', both, raw_value('grace_days', '-0.5')),
          ('grace-largest-double', both, raw_value('grace_days', '1.7976931348623157e308')),
          ('grace-rounds-to-largest-double', both, raw_value('grace_days', '1.7976931348623158e308')),
          ('grace-beyond-double', both, raw_value('grace_days', '1.7976931348623159e308')),
          ('grace-double-bound-int', both, raw_value('grace_days', str(2 ** 1024 - 2 ** 970))),
          ('grace-below-double-bound-int', both, raw_value('grace_days', str(2 ** 1024 - 2 ** 970 - 1))),
          ('features-4096', (2,), R('"I3_FEATURE_ACD"', ', '.join(f'"F{i}"' for i in range(4096)))),
          ('features-4097', (2,), R('"I3_FEATURE_ACD"', ', '.join(f'"F{i}"' for i in range(4097)))),
          ('grace-negative', both, raw_value('grace_days', '-1')),
          ('grace-minus-zero', both, raw_value('grace_days', '-0')),
          ('grace-minus-zero-fraction', both, raw_value('grace_days', '-0.0')),
          ('grace-3661', both, raw_value('grace_days', '3661')),
          ('grace-3660', both, raw_value('grace_days', '3660')),
          ('grace-null', both, raw_value('grace_days', 'null')),
          ('grace-true', both, raw_value('grace_days', 'true')),
          ('grace-leading-zero', both, raw_value('grace_days', '030')),
          ('grace-plus', both, raw_value('grace_days', '+30')),
          ('supersedes-number', both, raw_value('supersedes', '5')),
          ('product-number-minus-zero', both, raw_value('product', '-0')),
          ('product-1e400', both, raw_value('product', '1e400')),
          ('switchover-array', both, raw_value('switchover_host', '[]')),
          ('features-object', both, raw_value('features', '{}')),
          ('features-string', both, raw_value('features', '"I3_FEATURE_ACD"')),
          ('features-null', both, raw_value('features', 'null')),
          ('product-object-dup-inside', both, raw_value('product', '{"a": 1, "a": 2}')),
          ('product-object-unknown-inside', both, raw_value('product', '{"zzz": 1}')),
          ('unknown-then-syntax', both, chain(R('  "product": "CIC",', '  "zzz": 1,\n  "product": "CIC",'),
                                             R('"bundle": ""', '"bundle": ""x'))),
          ('syntax-then-unknown', both, chain(R('"product": "CIC",', '"product": "CIC",,'),
                                             R('  "bundle": "",', '  "zzz": 1,\n  "bundle": "",'))),
          ('type-then-unknown', both, chain(raw_value('grace_days', '"30"'),
                                           R('  "bundle": "",', '  "zzz": 1,\n  "bundle": "",'))),
          ('missing-then-unknown-same-object', both, chain(R('    "machine": "primary"\n', '    "zzz": "primary"\n'))),
          ('missing-nested-then-unknown-later', both, chain(R(',\n    "machine": "primary"\n', '\n'),
                                                           R('  "bundle": "",', '  "zzz": 1,\n  "bundle": "",'))),
          ('dup-then-type', both, chain(R('  "bundle": "",', '  "bundle": "",\n  "bundle": 5,'))),
          ('type-in-dup', both, chain(R('  "bundle": "",', '  "bundle": 5,\n  "bundle": "",'))),
          ('escaped-member-name', both, R('"product":', '"\\u0070roduct":')),
          ('escaped-unknown-member-name', both, R('"product": "CIC",', '"product": "CIC",\n  "zz\\n": 1,')),
          ('escape-slash', both, text_value('product', 'C/C') if False else R('"CIC"', '"C\\/C"')),
          ('escape-in-unused-name-and-missing', both, R('"supersedes": null,', '"supersedes\\u0000": null,')),
          ('escape-lone-surrogate', both, R('"CIC"', '"C\\ud800C"')),
          ('escape-pair', both, R('"CIC"', '"C\\ud83d\\ude00C"')),
          ('escape-bad', both, R('"CIC"', '"C\\xC"')),
          ('escape-in-text-then-missing-field', both, chain(R('"CIC"', '"C\\nC"'), R('  "bundle": "",\n', ''))),
          ('minus-zero-then-missing-version-member', (2,), chain(raw_value('grace_days', '-0'),
                                                                 R('  "generation": 1,\n', ''))),
          ('form-feed-ws', both, R('"product": "CIC"', '"product":\f"CIC"')),
          ('lone-cr-ws', both, R('"product": "CIC"', '"product":\r "CIC"')),
          ('nbsp-between-tokens', both, R('"product": "CIC"', '"product":\u00a0"CIC"')),
          ('bom-before-object', both, lambda t: '\ufeff' + t),
          ('blank-first-payload-line', both, lambda t: '\n' + t),
          ('blank-payload-lines-end', both, lambda t: t + '\n\n'),
          ('payload-one-line', both, lambda t: json.dumps(json.loads(t), ensure_ascii=False) + '\n'),
          ('payload-reordered', both, lambda t: json.dumps(dict(reversed(list(json.loads(t).items()))),
                                                         ensure_ascii=False, indent=1) + '\n'),
          ('trailing-value', both, lambda t: t + '{}\n'),
          ('trailing-comma-object', both, R('"excludes": []\n', '"excludes": [],\n') if False else R('  "restrictions": []', '  "restrictions": [],', 1)),
          ('raw-tab-in-string', both, R('"CIC"', '"C\tC"')),
          ('raw-del-in-string', both, R('"CIC"', '"C\x7fC"')),
          ('uppercase-null', both, raw_value('supersedes', 'Null')),
          ]
    # version members
    P += [('v1-lineage-wrong-type', (1,), R('  "product": "CIC",', '  "lineage": 5,\n  "product": "CIC",')),
          ('v1-lineage-ok-type', (1,), R('  "product": "CIC",', '  "lineage": "x",\n  "product": "CIC",')),
          ('v1-generation-fraction', (1,), R('  "product": "CIC",', '  "generation": 1.5,\n  "product": "CIC",')),
          ('v1-rules-empty-object', (1,), R('  "restrictions": []', '  "restrictions": [],\n  "rules": {}')),
          ('v1-rules-partial', (1,), R('  "restrictions": []', '  "restrictions": [],\n  "rules": {"keys": []}')),
          ('v1-rules-full', (1,), R('  "restrictions": []', '  "restrictions": [],\n  "rules": {"keys": [], "requires": [], "implies": [], "excludes": []}')),
          ('v1-rules-full-escape', (1,), chain(R('  "restrictions": []', '  "restrictions": [],\n  "rules": {"keys": [], "requires": [], "implies": [], "excludes": []}'), R('"CIC"', '"C\\/C"'))),
          ('v1-form-wrong-type', (1,), R('    "machine": "primary"', '    "form": 1,\n    "machine": "primary"')),
          ('v1-form-bad-file-id', (1,), chain(R('    "machine": "primary"', '    "form": "short",\n    "machine": "primary"'),
                                              raw_value('file_id', '"X"'))),
          ('v1-form-bad-license-count', (1,), chain(R('    "machine": "primary"', '    "form": "short",\n    "machine": "primary"'),
                                                    raw_value('assigned', '-1'))),
          ('v1-form-bad-grace', (1,), chain(R('    "machine": "primary"', '    "form": "short",\n    "machine": "primary"'),
                                            raw_value('grace_days', '9999'))),
          ('v1-form-bad-product-text', (1,), chain(R('    "machine": "primary"', '    "form": "short",\n    "machine": "primary"'),
                                                   raw_value('product', '" CIC"'))),
          ('v1-form-and-lineage', (1,), chain(R('    "machine": "primary"', '    "form": "short",\n    "machine": "primary"'),
                                              R('  "product": "CIC",', '  "lineage": "x",\n  "product": "CIC",'))),
          ('v1-form-in-switchover-bad-primary', (1,), chain(switch(c(two), form=False, version=1),
                                                            R('"backup"', '"backup",\n    "form": "short"'),
                                                            R(SHORT, SHORT.lower()))),
          ('v1-form-in-primary-bad-switchover', (1,), chain(switch('1Q2H4-74KMZ-KWXDV-8K000-00KZR', form=False, version=1),
                                                            R('    "machine": "primary"', '    "form": "short",\n    "machine": "primary"'))),
          ('v2-missing-form-bad-switchover', (2,), chain(switch('1Q2H4-74KMZ-KWXDV-8K000-00KZR'),
                                                         R('    "form": "short",\n    "machine": "primary"', '    "machine": "primary"'))),
          ('v2-missing-lineage-and-generation', (2,), chain(R('  "lineage": "9b7e38e79ebf821fd467d56bfcbd3091",\n', ''),
                                                            R('  "generation": 1,\n', ''))),
          ('v2-rules-null', (2,), R(RULES_EMPTY, '  "rules": null')),
          ('v2-rules-empty-object', (2,), R(RULES_EMPTY, '  "rules": {}')),
          ('v2-missing-rules-bad-file-id', (2,), chain(R(',\n' + RULES_EMPTY, ''), raw_value('file_id', '"X"'))),
          ('v2-form-null', (2,), R('"form": "short"', '"form": null')),
          ('v2-form-Short', (2,), R('"form": "short"', '"form": "Short"')),
          ]
    # values
    P += [('text-leading-space', both, text_value('product', ' CIC')),
          ('text-nbsp-only', both, text_value('product', '\u00a0')),
          ('text-description-spaces', both, text_value('description', ' ')),
          ('text-description-nbsp', both, text_value('description', '\u3000')),
          ('text-u2065', both, text_value('product', 'C\u2065C')),
          ('text-shy', both, text_value('product', 'C\u00adC')),
          ('text-zwsp', both, text_value('product', 'C\u200bC')),
          ('text-nel', both, text_value('product', 'C\u0085C')),
          ('text-ogham-inside', both, text_value('sold_to', 'C\u1680C')),
          ('text-ogham-end', both, text_value('product', 'CC\u1680')),
          ('text-mvs-180e', both, text_value('product', 'C\u180eC')),
          ('text-fffc', both, text_value('sold_to', 'C\ufffcC')),
          ('text-e0080', both, text_value('sold_to', 'C\U000e0080C')),
          ('text-e007f', both, text_value('product', 'C\U000e007fC')),
          ('text-u2028', both, text_value('product', 'C\u2028C')),
          ('text-u061c', both, text_value('product', 'C\u061cC')),
          ('text-u13440', both, text_value('product', 'C\U00013440C')),
          ('text-u1343f', both, text_value('product', 'C\U0001343fC')),
          ('text-ufff9', both, text_value('product', 'C\ufff9C')),
          ('text-ufe0f-variation-selector', both, text_value('sold_to', 'C\ufe0fC')),
          ('text-u200a-inside', both, text_value('sold_to', 'C\u200aC')),
          ('text-512-bytes', both, text_value('sold_to', 'é' * 256)),
          ('text-513-bytes', both, text_value('product', 'é' * 256 + 'x')),
          ('text-machine-empty', both, R('"machine": "primary"', '"machine": ""')),
          ('text-part-empty', both, R('"part": "SW-1"', '"part": ""')),
          ('text-item-description-space', both, R('      "description": ""', '      "description": " "')),
          ('time-leap-day', both, text_value('issued_at', '2024-02-29T00:00:00Z')),
          ('time-non-leap-day', both, text_value('issued_at', '2023-02-29T00:00:00Z')),
          ('time-1900-not-leap', both, text_value('issued_at', '1900-02-29T00:00:00Z')),
          ('time-before-1970', both, text_value('issued_at', '1969-12-31T23:59:59Z')),
          ('time-epoch', both, text_value('issued_at', '1970-01-01T00:00:00Z')),
          ('time-9999', both, text_value('issued_at', '9999-12-31T23:59:59Z')),
          ('time-lower-t', both, text_value('issued_at', '2024-01-01t00:00:00Z')),
          ('time-hour-24', both, text_value('issued_at', '2024-01-01T24:00:00Z')),
          ('time-second-60', both, text_value('issued_at', '2024-01-01T00:00:60Z')),
          ('time-fraction', both, text_value('issued_at', '2024-01-01T00:00:00.0Z')),
          ('time-offset', both, text_value('issued_at', '2024-01-01T00:00:00+00:00')),
          ('time-month-13', both, text_value('issued_at', '2024-13-01T00:00:00Z')),
          ('time-day-00', both, text_value('issued_at', '2024-01-00T00:00:00Z')),
          ('time-fullwidth-digit', both, text_value('issued_at', '2024-01-0\uff11T00:00:00Z')),
          ('valid-from-eq-expires', both, chain(text_value('valid_from', '2030-01-01T00:00:00Z'), text_value('expires_at', '2030-01-01T00:00:00Z'))),
          ('valid-from-after-expires', both, chain(text_value('valid_from', '2030-01-01T00:00:01Z'), text_value('expires_at', '2030-01-01T00:00:00Z'))),
          ('expires-after-perpetual', both, text_value('expires_at', '2100-01-01T00:00:01Z')),
          ('supersedes-upper', both, raw_value('supersedes', '"9B7E38E79EBF821FD467D56BFCBD3091"')),
          ('supersedes-self', both, raw_value('supersedes', '"9b7e38e79ebf821fd467d56bfcbd3091"')),
          ('supersedes-31', both, raw_value('supersedes', '"9b7e38e79ebf821fd467d56bfcbd309"')),
          ('license-type-v1-spelling', both, text_value('license_type', 'efaq-production')),
          ('license-type-v2-spelling', both, text_value('license_type', 'e-faq-production')),
          ('restriction-twice', both, R('"restrictions": []', '"restrictions": ["hourly-disconnect", "hourly-disconnect"]')),
          ('restriction-both', both, R('"restrictions": []', '"restrictions": ["not-for-production", "hourly-disconnect"]')),
          ('restriction-unknown', both, R('"restrictions": []', '"restrictions": ["hourly"]')),
          ('assigned-10M', both, raw_value('assigned', '10000000')),
          ('assigned-10M+1', both, raw_value('assigned', '10000001')),
          ('quantity-0', both, raw_value('quantity', '0')),
          ('feature-short-name', both, R('"I3_FEATURE_ACD"', '"A"')),
          ('feature-lower', both, R('"I3_FEATURE_ACD"', '"I3_FEATURE_acd"')),
          ('feature-no-tail', both, R('"I3_FEATURE_ACD"', '"I3_FEATURE_"')),
          ('feature-128', both, R('"I3_FEATURE_ACD"', '"I3_FEATURE_' + 'A' * 117 + '"')),
          ('feature-129', both, R('"I3_FEATURE_ACD"', '"I3_FEATURE_' + 'A' * 118 + '"')),
          ('feature-digit-first', both, R('"I3_FEATURE_ACD"', '"9A"')),
          ('feature-twice', both, R('"I3_FEATURE_ACD"', '"I3_FEATURE_ACD", "I3_FEATURE_ACD"')),
          ('license-name-feature-prefix', both, R('"I3_ACCESS_CLIENT"', '"I3_FEATURE_X"')),
          ('license-name-license-prefix', both, R('"I3_ACCESS_CLIENT"', '"I3_LICENSE_X"')),
          ('part-twice', both, R('"ordered_items": [', '"ordered_items": [{"part": "SW-1", "description": "", "quantity": 2},')),
          ('host-lower', both, R(SHORT, SHORT.lower())),
          ('host-too-few-components', both, R(SHORT, one)),
          ('host-mac2-without-mac1', both, R(SHORT, mac2only)),
          ('host-present-zero-field', both, R(SHORT, zero_field)),
          ('host-space-around', both, R(SHORT, ' ' + SHORT)),
          ('host-strong-form-short', (2,), R(f'"{SHORT}"', f'"{STRONG}"')),
          ('host-strong-in-v1', (1,), R(SHORT, STRONG)),
          ('host-lookalike-O', both, R(SHORT, SHORT.replace('0', 'O'))),
          ]
    # hosts (switchover)
    P += [('switch-same-code', both, switch(SHORT)),
          ('switch-strong-primary-short-same', (2,), chain(R(f'"{SHORT}",\n    "form": "short"', f'"{STRONG}",\n    "form": "strong"'), switch(SHORT))),
          ('switch-short-primary-strong-same', (2,), switch(STRONG)),
          ('switch-shares-one-strong', both, switch(c(mid2))),
          ('switch-shares-two-strong-cpu-differs', both, switch(c(two_cpu))),
          ('switch-shares-two-strong', both, switch(c(two))),
          ('switch-machine-empty', both, switch(c(mid2), machine='')),
          ('switch-machine-space', both, switch(c(mid2), machine='a ')),
          ('switch-strong-shares-one', (2,), switch(c(mid2, True))),
          ]
    # chain and rules (version 2)
    P += [('gen-10M', (2,), chain(raw_value('generation', '10000000'), raw_value('lineage', '"' + 'a' * 32 + '"'), raw_value('supersedes', '"' + 'b' * 32 + '"'))),
          ('gen-10M+1', (2,), chain(raw_value('generation', '10000001'), raw_value('lineage', '"' + 'a' * 32 + '"'), raw_value('supersedes', '"' + 'b' * 32 + '"'))),
          ('gen-2-no-supersedes', (2,), chain(raw_value('generation', '2'), raw_value('lineage', '"' + 'a' * 32 + '"'))),
          ('gen-2-own-lineage', (2,), chain(raw_value('generation', '2'), raw_value('supersedes', '"' + 'b' * 32 + '"'))),
          ('gen-1-with-supersedes', (2,), raw_value('supersedes', '"' + 'b' * 32 + '"')),
          ('gen-2-supersedes-is-lineage', (2,), chain(raw_value('generation', '2'), raw_value('lineage', '"' + 'a' * 32 + '"'), raw_value('supersedes', '"' + 'a' * 32 + '"'))),
          ('gen-fraction', (2,), raw_value('generation', '1.0')),
          ('rules-holders-order', (2,), rules(keys=krule(('A', ['station', 'user'], ['assignable'])))),
          ('rules-holders-ok', (2,), rules(keys=krule(('A', ['user', 'station'], ['assignable', 'concurrent'])))),
          ('rules-holders-dup', (2,), rules(keys=krule(('A', ['user', 'user'], ['assignable'])))),
          ('rules-holders-empty', (2,), rules(keys=krule(('A', [], ['assignable'])))),
          ('rules-methods-order', (2,), rules(keys=krule(('A', ['user'], ['concurrent', 'assignable'])))),
          ('rules-key-lower', (2,), rules(keys=krule(('a', ['user'], ['assignable'])))),
          ('rules-key-twice', (2,), rules(keys=krule(('A', ['user'], ['assignable']), ('A', ['station'], ['assignable'])))),
          ('rules-key-empty-name', (2,), rules(keys=krule(('', ['user'], ['assignable'])))),
          ('rules-holder-unknown-and-bad-name', (2,), rules(keys=krule(('a', ['admin'], ['assignable'])))),
          ('rules-req-ok', (2,), rules(requires=req(('A', ['B', 'C'])))),
          ('rules-req-unsorted', (2,), rules(requires=req(('A', ['C', 'B'])))),
          ('rules-req-self', (2,), rules(requires=req(('A', ['A', 'B'])))),
          ('rules-req-empty', (2,), rules(requires=req(('A', [])))),
          ('rules-req-twice', (2,), rules(requires=req(('A', ['B']), ('A', ['B'])))),
          ('rules-req-same-key-other-set', (2,), rules(requires=req(('A', ['B']), ('A', ['C'])))),
          ('rules-byte-order-ok', (2,), rules(requires=req(('A', ['A1', 'AB', 'A_'])))),
          ('rules-byte-order-bad', (2,), rules(requires=req(('A', ['A_', 'AB'])))),
          ('rules-imp-self', (2,), rules(implies=imp(('A', 'A')))),
          ('rules-imp-twice', (2,), rules(implies=imp(('A', 'B'), ('A', 'B')))),
          ('rules-imp-cycle2', (2,), rules(implies=imp(('A', 'B'), ('B', 'A')))),
          ('rules-imp-cycle3', (2,), rules(implies=imp(('A', 'B'), ('B', 'C'), ('C', 'A')))),
          ('rules-imp-chain-ok', (2,), rules(implies=imp(('A', 'B'), ('B', 'C'), ('A', 'C')))),
          ('rules-imp-excl-direct', (2,), rules(implies=imp(('A', 'B')), excludes=exc(['A', 'B']))),
          ('rules-imp-excl-transitive', (2,), rules(implies=imp(('A', 'B'), ('B', 'C')), excludes=exc(['A', 'C']))),
          ('rules-imp-two-implied-exclude-each-other', (2,), rules(implies=imp(('A', 'B'), ('A', 'C')), excludes=exc(['B', 'C']))),
          ('rules-imp-excl-three-set', (2,), rules(implies=imp(('B', 'C')), excludes=exc(['A', 'B', 'C']))),
          ('rules-exc-one', (2,), rules(excludes=exc(['A']))),
          ('rules-exc-dup-key', (2,), rules(excludes=exc(['A', 'A']))),
          ('rules-exc-unsorted', (2,), rules(excludes=exc(['B', 'A']))),
          ('rules-exc-twice', (2,), rules(excludes=exc(['A', 'B'], ['A', 'B']))),
          ('rules-exc-overlap', (2,), rules(excludes=exc(['A', 'B'], ['A', 'B', 'C']))),
          # FORMAT.md 10.3: at most 4096 rules in all, 64 keys in one rule's set.
          ('rules-4096-in-all', (2,), rules(implies=imp(*[(f'K{i:04}', f'K{i + 1:04}') for i in range(4095)]), excludes=exc(['X', 'Y']))),
          ('rules-4097-in-all', (2,), rules(implies=imp(*[(f'K{i:04}', f'K{i + 1:04}') for i in range(4095)]), excludes=exc(['X', 'Y'], ['X', 'Z']))),
          ('rules-req-64-keys', (2,), rules(requires=req(('A', [f'B{i:02}' for i in range(64)])))),
          ('rules-req-65-keys', (2,), rules(requires=req(('A', [f'B{i:02}' for i in range(65)])))),
          ('rules-exc-65-keys', (2,), rules(excludes=exc([f'B{i:02}' for i in range(65)]))),
          ('rules-unknown-member', (2,), R('    "excludes": []', '    "excludes": [],\n    "extra": []')),
          ('rules-keyrule-unknown-member', (2,), rules(keys='[{"key": "A", "holders": ["user"], "methods": ["assignable"], "x": 1}]')),
          ('rules-keyrule-missing-methods', (2,), rules(keys='[{"key": "A", "holders": ["user"]}]')),
          ('rules-v2-feature-any-name', (2,), R('"I3_FEATURE_ACD"', '"ANY_NAME_1"')),
          ]
    return P


def armor_probes(V, good):
    """good: a correctly signed version-2 file (bytes). Returns (name, bytes)."""
    t = good.decode()
    lines = t.split('\n')
    sig_i = lines.index(V.SIGM)
    sig = lines[sig_i + 1]
    P = []

    def L(ls):
        return '\n'.join(ls).encode()
    P += [('format-trailing-space', t.replace('Format: i3lic-activation/2\n', 'Format: i3lic-activation/2 \t\r\n').encode()),
          ('format-double-space', t.replace('Format: ', 'Format:  ').encode()),
          ('format-lower', t.replace('Format: ', 'format: ').encode()),
          ('format-v20', t.replace('activation/2\n', 'activation/20\n', 1).encode()),
          ('format-upper-name', t.replace('Format: i3lic', 'Format: I3LIC').encode()),
          ('format-long-version', t.replace('activation/2\n', 'activation/' + 'x' * 200 + '\n', 1).encode()),
          ('begin-leading-space', (' ' + t).encode()),
          ('begin-then-blank', t.replace(V.BEGIN + '\n', V.BEGIN + '\n\n').encode()),
          ('only-begin', (V.BEGIN + '\n').encode()),
          ('only-begin-no-lf', V.BEGIN.encode()),
          ('begin-prefix-last', b'-----BEGIN I3LIC'),
          ('begin-prefix-not-last', b'-----BEGIN I3LIC\n'),
          ('begin-prefix-then-blank', b'-----BEGIN I3LIC\n\n'),
          ('begin-prefix-with-cr', b'-----BEGIN I3LIC\r'),
          ('format-prefix-last', (V.BEGIN + '\nFormat: i3lic-act').encode()),
          ('format-prefix-lf', (V.BEGIN + '\nFormat: i3lic-act\n').encode()),
          ('format-tag-prefix-last', (V.BEGIN + '\nForm').encode()),
          ('format-tag-prefix-lf', (V.BEGIN + '\nForm\n').encode()),
          ('format-version-only-slash-last', (V.BEGIN + '\nFormat: i3lic-activation/').encode()),
          ('format-v3-last', (V.BEGIN + '\nFormat: i3lic-activation/3').encode()),
          ('format-empty-value', (V.BEGIN + '\nFormat: \n').encode()),
          ('keyid-missing-last', (V.BEGIN + '\nFormat: i3lic-activation/2\n').encode()),
          ('keyid-prefix-last', (V.BEGIN + '\nFormat: i3lic-activation/2\nKey-I').encode()),
          ('keyid-short-last', (V.BEGIN + '\nFormat: i3lic-activation/2\nKey-Id: abc').encode()),
          ('keyid-short-upper-last', (V.BEGIN + '\nFormat: i3lic-activation/2\nKey-Id: ABC').encode()),
          ('keyid-short-bad-last', (V.BEGIN + '\nFormat: i3lic-activation/2\nKey-Id: abg').encode()),
          ('keyid-short-lf', (V.BEGIN + '\nFormat: i3lic-activation/2\nKey-Id: abc\n').encode()),
          ('keyid-16-upper-last', (V.BEGIN + '\nFormat: i3lic-activation/2\nKey-Id: ABCDEF0123456789').encode()),
          ('keyid-17', t.replace('Key-Id: ', 'Key-Id: 0', 1).encode()),
          ('keyid-no-space', t.replace('Key-Id: ', 'Key-Id:', 1).encode()),
          ('keyid-format-dup', t.replace('Key-Id: ', 'Format: i3lic-activation/2\nKey-Id: ', 1).encode()),
          ('payload-keyid-line', t.replace('{\n', '{\nKey-Id: 0000000000000000\n', 1).encode()),
          ('payload-format-line-indented', t.replace('{\n', '{\n Format: x\n', 1).encode()),
          ('payload-end-marker', t.replace('{\n', '{\n' + V.END + '\n', 1).encode()),
          ('payload-begin-marker', t.replace('{\n', '{\n' + V.BEGIN + '\n', 1).encode()),
          ('payload-begin-marker-trailing-space', t.replace('{\n', '{\n' + V.BEGIN + '  \n', 1).encode()),
          ('only-blank-payload', L(lines[:3] + ['', '  '] + lines[sig_i:])),
          ('no-payload', L(lines[:3] + lines[sig_i:])),
          ('sig-wrapped-blank', L(lines[:sig_i + 1] + [sig[:10], '', sig[10:]] + lines[sig_i + 2:])),
          ('sig-leading-space', L(lines[:sig_i + 1] + [' ' + sig] + lines[sig_i + 2:])),
          ('sig-no-padding', L(lines[:sig_i + 1] + [sig.rstrip('=')] + lines[sig_i + 2:])),
          ('sig-urlsafe', L(lines[:sig_i + 1] + [sig.replace('+', '-').replace('/', '_')] + lines[sig_i + 2:])),
          ('sig-too-long-no-end', L(lines[:sig_i + 1] + [sig * 3])),
          ('sig-257-bytes-then-end', L(lines[:sig_i + 1] + ['A' * 257] + lines[sig_i + 2:])),
          ('sig-256-bytes-then-end', L(lines[:sig_i + 1] + ['A' * 256] + lines[sig_i + 2:])),
          ('sig-nonzero-unused-bits', L(lines[:sig_i + 1] + [sig[:-3] + chr(ord(sig[-3]) ^ 1) + '=='] + lines[sig_i + 2:])),
          ('sig-empty-block', L(lines[:sig_i + 1] + lines[sig_i + 2:])),
          ('sig-empty-block-text-after', L(lines[:sig_i + 1] + lines[sig_i + 2:] + ['x'])),
          ('sig-marker-in-sig', L(lines[:sig_i + 1] + [V.SIGM] + lines[sig_i + 1:])),
          ('sig-marker-after-end', (t + V.SIGM + '\n').encode()),
          ('end-marker-after-end', (t + V.END + '\n').encode()),
          ('begin-after-text-after-end', (t + 'x\n' + V.BEGIN + '\n').encode()),
          ('two-files', (t + t).encode()),
          ('text-after-end-and-bad-sig', L(lines[:sig_i + 1] + ['!!'] + lines[sig_i + 2:]) + b'x\n'),
          ('end-missing', L(lines[:sig_i + 2])),
          ('end-prefix-last', L(lines[:sig_i + 2] + ['-----END I3LIC'])),
          ('crlf', t.replace('\n', '\r\n').encode()),
          ('cr-only', t.replace('\n', '\r').encode()),
          ('bom-bom', ('\ufeff\ufeff' + t).encode()),
          ('bom-blank-begin', ('\ufeff\n\n' + t).encode()),
          ('blank-bom-begin', ('\n\ufeff' + t).encode()),
          ('only-bom', '\ufeff'.encode()),
          ('bom-blanks', '\ufeff \r\n\t\n'.encode()),
          ('bom-formfeed', '\ufeff\f'.encode()),
          ('empty', b''),
          ('nul-byte-before', b'\x00' + good),
          ('overlong', good.replace(b'"CIC"', b'"C\xc0\x80"')),
          ('surrogate-bytes', good.replace(b'"CIC"', b'"C\xed\xa0\x80"')),
          ('above-10ffff', good.replace(b'"CIC"', b'"C\xf4\x90\x80\x80"')),
          ('truncated-utf8-at-end', good + b'\xe2\x82'),
          ('not-utf8-and-too-large', good + b'\xff' + b'\n' * (1048577 - len(good) - 1)),
          ('size-limit-crlf', good.replace(b'\n', b'\r\n') + b' ' * (1048576 - len(good.replace(b'\n', b'\r\n')))),
          ('size-limit-with-bom', b'\xef\xbb\xbf' + good + b'\n' * (1048576 - len(good) - 3)),
          ('size-limit+1-with-bom', b'\xef\xbb\xbf' + good + b'\n' * (1048577 - len(good) - 3)),
          ('trailing-blanks-lines-after-end', good + b'\n \t\r\n\n'),
          ('trailing-formfeed-after-end', good + b'\f\n'),
          ('vt-after-end', good + b'\x0b\n'),
          ('keyid-empty-value-last', (V.BEGIN + '\nFormat: i3lic-activation/2\nKey-Id: ').encode()),
          ('keyid-empty-value-lf', (V.BEGIN + '\nFormat: i3lic-activation/2\nKey-Id: \n').encode()),
          ('format-v1-extra', t.replace('activation/2\n', 'activation/2 x\n', 1).encode()),
          ('format-2x', t.replace('activation/2\n', 'activation/2x\n', 1).encode()),
          ('format-v1-trunc-last', (V.BEGIN + '\nFormat: i3lic-activation/1').encode()),
          ('format-line-in-sig', L(lines[:sig_i + 1] + ['Format: x'] + lines[sig_i + 1:])),
          ('keyid-line-in-sig', L(lines[:sig_i + 1] + ['Key-Id: x'] + lines[sig_i + 1:])),
          ('end-marker-with-trailing-tab', t.replace(V.END, V.END + '\t').encode()),
          ('not-utf8-after-bom', b'\xef\xbb\xbf' + good.replace(b'"CIC"', b'"C\xff"')),
          ('not-utf8-in-first-line', b'-----BEGIN \xff'),
          ('not-utf8-before-begin', b'\n\xc3\n' + good),
          ('payload-line-trailing-nbsp', t.replace('"CIC",\n', '"CIC",\u00a0\n').encode()),
          ]
    return P


def key_probes(V, good_pub):
    b64 = base64.b64encode(good_pub).decode()
    p = 2 ** 255 - 19

    def le(n):
        return n.to_bytes(32, 'little')
    pts = {
        'y=p+1 (non-canonical y=1)': le(p + 1),
        'y=p+1 sign (non-canonical)': le(p + 1 + (1 << 255)),
        'y=p+3 (non-canonical y=3)': le(p + 3),
        'y=p+2 (not a point)': le(p + 2),
        'y=1 sign set (x=0)': bytes.fromhex('01' + '00' * 30 + '80'),
        'y=p-1 sign set': bytes.fromhex('ec' + 'ff' * 30 + 'ff'),
        'order1': bytes.fromhex('01' + '00' * 31),
        'order4': bytes(32),
        'order8': bytes.fromhex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'),
        'not-on-curve': le(2),
        'mixed-order (A + small)': None,
    }
    # A + T for a torsion point T: canonical, not small order, but with a torsion component
    A = V.decode_point(good_pub)
    T = V.decode_point(bytes.fromhex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'))
    pts['mixed-order (A + small)'] = V.encode_point(V._add(A, T))
    P = []
    for name, raw in pts.items():
        P.append((f'key {name}', f'i3lic-public-key-v1 {base64.b64encode(raw).decode()}\n'.encode()))
    P += [('key crlf', f'# c\r\ni3lic-public-key-v1 {b64}\r\n'.encode()),
          ('key two spaces', f'i3lic-public-key-v1  {b64}\n'.encode()),
          ('key tab separator', f'i3lic-public-key-v1\t{b64}\n'.encode()),
          ('key indented', f'   i3lic-public-key-v1 {b64}   \n'.encode()),
          ('key comment indented', f'  # x\ni3lic-public-key-v1 {b64}\n'.encode()),
          ('key twice', f'i3lic-public-key-v1 {b64}\ni3lic-public-key-v1 {b64}\n'.encode()),
          ('key no padding', f'i3lic-public-key-v1 {b64.rstrip("=")}\n'.encode()),
          ('key secret tag', f'i3lic-secret-key-v1 {b64}\n'.encode()),
          ('key other line', f'i3lic-public-key-v1 {b64}\nhello\n'.encode()),
          ('key empty', b''),
          ('key bom', f'\ufeffi3lic-public-key-v1 {b64}\n'.encode()),
          ('key nbsp around', f'\u00a0i3lic-public-key-v1 {b64}\u00a0\n'.encode()),
          ('key 64KiB+1', (f'i3lic-public-key-v1 {b64}\n' + '#' * 65536).encode()),
          ('key uppercase tag', f'I3LIC-PUBLIC-KEY-V1 {b64}\n'.encode()),
          ]
    return P


def run(args, note, licverify, V):
    tmp = tempfile.mkdtemp(prefix='i3lic-probe-')
    seed = hashlib.sha256(b'conformance probe key').digest()
    pub = V.public_from_seed(seed)
    pubpath = os.path.join(tmp, 'probe.pub')
    with open(pubpath, 'w') as f:
        f.write(V.public_key_text(pub, 'probe'))
    at = '2024-06-01T00:00:00Z'

    def compare(section, name, data, trust_paths, host=SHORT, at=at, product='CIC', version='4.0',
                state=None, state_exists=False, check_key_malformed=True):
        path = os.path.join(tmp, 'probe.i3lic')
        with open(path, 'wb') as f:
            f.write(data)
        stpath = os.path.join(tmp, 'state.json')
        if os.path.exists(stpath):
            os.remove(stpath)
        if state is not None:
            with open(stpath, 'wb') as f:
                f.write(state)
        # ours
        mvar = None
        mine_msg = ''
        try:
            keys = []
            for tp in trust_paths:
                keys.append(V.parse_public_key_text(open(tp, 'rb').read()))
            if len(set(keys)) != len(keys) or len(set(V.key_id(k) for k in keys)) != len(keys):
                raise V.VerifyError('duplicate-trusted-key')
            hid = V.parse_lenient(host)
            r = V.verify(data, keys, hid, V.parse_time(at), product, version,
                         state if state is not None else None, state is not None)
            mine = 'ok:' + r['role'] + (':grace' if r['in_grace'] else '') + ':' + str(r['warnings'])
        except V.VerifyError as e:
            mine, mvar, mine_msg = e.kind, e.fmt, e.msg
        except V.FormatError as e:
            mine = 'trusted-key-malformed'
        except V.HostIdError:
            mine = 'bad-host-id'
        import run as RUN
        rc, kind, msg, lic = licverify(path, trust_paths, host, at, product, version,
                                       stpath if state is not None else None)
        if rc == 0 and lic:
            ref = 'ok:' + lic.get('role') + (':grace' if lic.get('in_grace') else '') + ':' + str(RUN.ref_warnings(lic))
        else:
            ref = kind or f'rc{rc}'
        import run as RUN
        rvar = RUN.ref_variant(kind, msg)
        mexit = 0 if mine.startswith('ok') else V.EXIT_KIND.get(mine, -1)
        ok = mine == ref and mexit == rc and (mvar is None or rvar is None or mvar == rvar)
        mmsg = ''
        if mvar == 'NotUtf8':
            mmsg = ' mine-offset=' + str(RUN.ref_offset(mine_msg)) + ' ref-offset=' + str(RUN.ref_offset(msg))
            ok = ok and RUN.ref_offset(mine_msg) == RUN.ref_offset(msg)
        note(section, ok, f'{name}: mine={mine}:{mvar}/{mexit} ref={ref}:{rvar}/{rc}{mmsg} ({msg[:220]})')
        if getattr(args, 'verbose', False):
            print(('OK   ' if ok else 'DIFF ') + f'[{section}] {name}: mine={mine}:{mvar} ref={ref}:{rvar}/{rc} {msg[:150]}')

    # payload probes
    base = {v: V._pretty(H.base_payload(V, v, SHORT, None, fid='9b7e38e79ebf821fd467d56bfcbd3091')) + '\n'
            for v in (1, 2)}
    for name, versions, fn in payload_probes(V):
        for v in versions:
            text = fn(base[v])
            lines = text.split('\n')
            if lines and lines[-1] == '':
                lines = lines[:-1]
            kid = V.key_id(pub)
            fl, kl = f'Format: i3lic-activation/{v}', f'Key-Id: {kid}'
            msg = V.signed_message(v, kid, fl, kl, lines)
            sig = base64.b64encode(V.sign_ed25519(seed, msg)).decode()
            data = ''.join(x + '\n' for x in [V.BEGIN, fl, kl] + lines + [V.SIGM, sig, V.END]).encode()
            compare('probe-payload', f'v{v} {name}', data, [pubpath])
    # armor probes
    good = V.sign_file(seed, H.base_payload(V, 2, SHORT), 2)
    for name, data in armor_probes(V, good):
        compare('probe-armor', name, data, [pubpath])
    # signature probes
    t = good.decode()
    lines = t.split('\n')
    si = lines.index(V.SIGM) + 1
    raw = base64.b64decode(lines[si])
    s = int.from_bytes(raw[32:], 'little')
    for name, sraw in [('S+L', raw[:32] + (s + V.L_ORDER).to_bytes(32, 'little')),
                       ('zero', bytes(64)),
                       ('R identity S 0', bytes.fromhex('01' + '00' * 31) + bytes(32)),
                       ('R not a point', (2).to_bytes(32, 'little') + raw[32:]),
                       ('S = L', raw[:32] + V.L_ORDER.to_bytes(32, 'little')),
                       ('S top bit', raw[:63] + bytes([raw[63] | 0x80]))]:
        ls = list(lines)
        ls[si] = base64.b64encode(sraw).decode()
        compare('probe-signature', name, '\n'.join(ls).encode(), [pubpath])
    # a signature that verifies only cofactored: A' = A + T (mixed order), sign with A's secret;
    # [S]B - [k]A' = R - [k]T, which equals R only when [k]T = 0.
    # trust-store probes
    for name, kdata in key_probes(V, pub):
        kp = os.path.join(tmp, 'k.pub')
        with open(kp, 'wb') as f:
            f.write(kdata)
        compare('probe-keys', name, good, [kp])
    compare('probe-keys', 'same key twice', good, [pubpath, pubpath])
    kp2 = os.path.join(tmp, 'copy.pub')
    shutil.copy(pubpath, kp2)
    compare('probe-keys', 'same key in two files', good, [pubpath, kp2])
    # verifier: times, product/version, host
    def signed(mod=None, v=2, primary=SHORT, switch=None):
        p = H.base_payload(V, v, primary, switch)
        if mod:
            mod(p)
        return V.sign_file(seed, p, v)

    def exp(E, g=30, issued='2024-01-01T00:00:00Z', vf='2024-01-01T00:00:00Z'):
        def m(p):
            p['expires_at'], p['grace_days'], p['issued_at'], p['valid_from'] = E, g, issued, vf
        return m
    f1 = signed(exp('2024-06-01T00:00:00Z', 30))
    for a in ['2024-06-01T00:00:00Z', '2024-06-01T00:00:01Z', '2024-07-01T00:00:00Z', '2024-07-01T00:00:01Z',
              '2023-12-31T23:59:59Z', '2024-01-01T00:00:00Z']:
        compare('probe-verifier', f'expiry E=2024-06-01 grace=30 at={a}', f1, [pubpath], at=a)
    for a in ['2024-05-02T00:00:00Z', '2024-05-01T23:59:59Z', '2024-05-31T00:00:01Z', '2024-05-31T23:59:59Z',
              '2024-06-30T00:00:01Z', '2024-06-30T23:59:59Z', '2024-06-02T00:00:00Z']:
        compare('probe-verifier', f'warnings E=2024-06-01 grace=30 at={a}', f1, [pubpath], at=a)
    f0 = signed(exp('2024-06-01T00:00:00Z', 0))
    for a in ['2024-06-01T00:00:00Z', '2024-06-01T00:00:01Z']:
        compare('probe-verifier', f'expiry grace=0 at={a}', f0, [pubpath], at=a)
    fp = signed(exp('2100-01-01T00:00:00Z', 0))
    compare('probe-verifier', 'perpetual at 2200', fp, [pubpath], at='2200-01-01T00:00:00Z')
    compare('probe-verifier', 'perpetual at 9999-12-31T23:59:59Z', fp, [pubpath], at='9999-12-31T23:59:59Z')
    fn = signed(exp('2099-12-31T23:59:59Z', 3660))
    compare('probe-verifier', 'non-perpetual 2099 grace 3660 at 2109', fn, [pubpath], at='2109-12-01T00:00:00Z')
    fi = signed(exp('2030-01-01T00:00:00Z', 0, issued='2024-03-01T00:00:00Z', vf='2024-02-01T00:00:00Z'))
    compare('probe-verifier', 'before issuance after valid_from', fi, [pubpath], at='2024-02-15T00:00:00Z')
    fv = signed(exp('2030-01-01T00:00:00Z', 0, issued='2024-01-01T00:00:00Z', vf='2024-03-01T00:00:00Z'))
    compare('probe-verifier', 'after issuance before valid_from', fv, [pubpath], at='2024-02-15T00:00:00Z')
    for fv_, sv in [('4.0', '4.0'), ('4.0', '4.0.3'), ('4.0', '4.0.'), ('4.0', '4.01'), ('4', '4.0'), ('4.0', '4'),
                    ('4.0', '4.0..'), ('4.0', '4.0.x'), ('4.0', '4.0 '), ('4.0', '')]:
        f = signed(lambda p: p.__setitem__('product_version', fv_))
        compare('probe-verifier', f'version file={fv_!r} server={sv!r}', f, [pubpath], version=sv)
    compare('probe-verifier', 'product case', good, [pubpath], product='cic')
    compare('probe-verifier', 'product mismatch and host mismatch', good, [pubpath], product='X',
            host='1Z9K8-EE16R-PK8ZV-PXR0D-E8A0B')
    compare('probe-verifier', 'host mismatch and expired', f1, [pubpath], at='2030-01-01T00:00:00Z',
            host='1Z9K8-EE16R-PK8ZV-PXR0D-E8A0B')
    compare('probe-verifier', 'bad host-id and bad file', b'x', [pubpath], host='1Q2H4')
    compare('probe-verifier', 'strong found, short binding', good, [pubpath], host=STRONG)
    fs = signed(primary=STRONG)
    compare('probe-verifier', 'short found, strong binding', fs, [pubpath], host=SHORT)
    compare('probe-verifier', 'strong found, strong binding', fs, [pubpath], host=STRONG)
    two = dict(EX, macs=[bytes.fromhex('020000000001')], cpu='Other')
    code2 = V.make_code(two['machine_id'], two['dmi'], two['macs'], two['cpu'])
    mid2 = dict(EX, dmi='aaaa', macs=[bytes.fromhex('020000000001')], cpu='Other CPU')
    sw = V.make_code(mid2['machine_id'], mid2['dmi'], mid2['macs'], mid2['cpu'])
    fsw = signed(switch=sw)
    compare('probe-verifier', 'switchover role', fsw, [pubpath], host=sw)
    compare('probe-verifier', 'switchover strong found', fsw, [pubpath],
            host=V.make_code(mid2['machine_id'], mid2['dmi'], mid2['macs'], mid2['cpu'], strong=True))
    compare('probe-verifier', 'two strong equal, mac and cpu differ', good, [pubpath], host=code2)
    # a found code that matches both hosts: primary first
    P_ = dict(EX)
    S_ = dict(EX, dmi='other-dmi', macs=[bytes.fromhex('020000000009')])
    F_ = dict(EX, macs=[bytes.fromhex('020000000009')])
    cc = lambda m, s=False: V.make_code(m['machine_id'], m['dmi'], m['macs'], m['cpu'], strong=s)
    fboth = signed(primary=cc(P_), switch=cc(S_))
    compare('probe-verifier', 'found matches both hosts', fboth, [pubpath], host=cc(F_))
    compare('probe-verifier', 'found matches both hosts (strong found)', fboth, [pubpath], host=cc(F_, True))
    for w in ['\u0085', '\u200b', '\u2028', '\u00a0', '\ufeff', '\t\n', '\u180e']:
        compare('probe-verifier', f'host-id with {w!r} around', good, [pubpath], host=w + SHORT + w)
    compare('probe-verifier', 'host-id typed leniently', good, [pubpath], host=' ' + SHORT.lower().replace('0', 'o') + ' ')
    # state files
    fid = '9b7e38e79ebf821fd467d56bfcbd3091'
    lin = 'a' * 32

    def st(**kw):
        d = {'format': 'i3lic-verify-state/2', 'latest_seen': '2024-05-01T00:00:00Z', 'newest': None,
             'superseded': [], 'lineages': []}
        d.update(kw)
        return json.dumps({k: v for k, v in d.items() if v != '<absent>'}).encode()
    g3 = signed(lambda p: p.update(lineage=lin, generation=3, supersedes='b' * 32))
    v1f = signed(v=1)
    S = [('empty state', good, st()),
         ('state /1', v1f, st(format='i3lic-verify-state/1', lineages='<absent>')),
         ('state /1 with lineages', v1f, st(format='i3lic-verify-state/1')),
         ('state /2 without lineages', good, st(lineages='<absent>')),
         ('state /3', good, st(format='i3lic-verify-state/3')),
         ('state unknown member', good, st(extra=1)),
         ('state whitespace', good, b'  \n'),
         ('state empty file', good, b''),
         ('state not object', good, b'[]'),
         ('state latest bare date', good, st(latest_seen='2024-05-01')),
         ('state latest bad', good, st(latest_seen='yesterday')),
         ('state latest after 2100', good, st(latest_seen='2200-01-01T00:00:00Z')),
         ('state superseded upper', good, st(superseded=['F' * 32])),
         ('state superseded not id', good, st(superseded=['x'])),
         ('state superseded dup', good, st(superseded=['c' * 32, 'c' * 32])),
         ('state superseded 1000', good, st(superseded=['%032x' % i for i in range(1000)])),
         ('state superseded 1001', good, st(superseded=['%032x' % i for i in range(1001)])),
         ('state lineages 100', good, st(lineages=[{'lineage': '%032x' % i, 'generation': 1, 'file_id': '%032x' % i} for i in range(100)])),
         ('state lineages 101', good, st(lineages=[{'lineage': '%032x' % i, 'generation': 1, 'file_id': '%032x' % i} for i in range(101)])),
         ('state lineage gen 0', g3, st(lineages=[{'lineage': lin, 'generation': 0, 'file_id': 'c' * 32}])),
         ('state lineage gen 10M+1', g3, st(lineages=[{'lineage': lin, 'generation': 10000001, 'file_id': 'c' * 32}])),
         ('state lineage gen fraction', g3, st(lineages=[{'lineage': lin, 'generation': 2.0, 'file_id': 'c' * 32}])),
         ('state lineage dup', g3, st(lineages=[{'lineage': lin, 'generation': 2, 'file_id': 'c' * 32}] * 2)),
         ('state lineage extra member', g3, st(lineages=[{'lineage': lin, 'generation': 2, 'file_id': 'c' * 32, 'x': 1}])),
         ('state newest missing issued', good, st(newest={'file_id': 'c' * 32})),
         ('state dup member', good, b'{"format": "i3lic-verify-state/2", "format": "i3lic-verify-state/2", "latest_seen": "2024-05-01T00:00:00Z", "newest": null, "superseded": [], "lineages": []}'),
         ('state dup nested member', g3, st(lineages=[{'lineage': lin, 'generation': 2, 'file_id': 'c' * 32}]).replace(b'"generation": 2', b'"generation": 2, "generation": 1')),
         ('state dup newest member', good, st(newest={'file_id': 'c' * 32, 'issued_at': '2024-04-01T00:00:00Z'}).replace(b'"file_id"', b'"file_id": "' + b'd' * 32 + b'", "file_id"')),
         ('state 64KiB+1', good, st() + b' ' * (65537 - len(st()))),
         ('state 64KiB', good, st() + b' ' * (65536 - len(st()))),
         ('state not utf8', good, st(latest_seen='2024-05-01T00:00:00Z').replace(b'"newest"', b'"newest\xff"')),
         ('state bom', good, b'\xef\xbb\xbf' + st()),
         ('gen lower', g3, st(lineages=[{'lineage': lin, 'generation': 4, 'file_id': 'c' * 32}])),
         ('gen equal other file', g3, st(lineages=[{'lineage': lin, 'generation': 3, 'file_id': 'c' * 32}])),
         ('gen equal same file', g3, st(lineages=[{'lineage': lin, 'generation': 3, 'file_id': fid}])),
         ('gen higher', g3, st(lineages=[{'lineage': lin, 'generation': 2, 'file_id': 'c' * 32}])),
         ('gen higher but superseded', g3, st(superseded=[fid], lineages=[{'lineage': lin, 'generation': 2, 'file_id': 'c' * 32}])),
         ('v2 issued before newest', g3, st(newest={'file_id': 'c' * 32, 'issued_at': '2024-04-01T00:00:00Z'})),
         ('v1 issued before newest', v1f, st(newest={'file_id': 'c' * 32, 'issued_at': '2024-04-01T00:00:00Z'})),
         ('v1 same issued', v1f, st(newest={'file_id': 'c' * 32, 'issued_at': '2024-01-01T00:00:00Z'})),
         ('v1 is newest', v1f, st(newest={'file_id': fid, 'issued_at': '2024-04-01T00:00:00Z'})),
         ('state /2 without superseded', good, st(superseded='<absent>')),
         ('state /2 without newest', good, st(newest='<absent>')),
         ('state /2 without latest_seen', good, st(latest_seen='<absent>')),
         ('state /2 without format', good, st(format='<absent>')),
         ('state /1 without newest', v1f, st(format='i3lic-verify-state/1', lineages='<absent>', newest='<absent>')),
         ('state lineages null', good, st(lineages=None)),
         ('state newest null /1', v1f, st(format='i3lic-verify-state/1', lineages='<absent>', newest=None)),
         ('state lineage gen negative', g3, st(lineages=[{'lineage': lin, 'generation': -1, 'file_id': 'c' * 32}])),
         ('state lineage gen 2^32', g3, st(lineages=[{'lineage': lin, 'generation': 2 ** 32, 'file_id': 'c' * 32}])),
         ('state lineage id upper', g3, st(lineages=[{'lineage': lin.upper(), 'generation': 2, 'file_id': 'c' * 32}])),
         ('state latest 1969', good, st(latest_seen='1969-12-31T23:59:59Z')),
         ('host mismatch and corrupt state', signed(primary=STRONG), b'{'),
         ('expired and corrupt state', f1, b'{'),
         ('superseded and expired', signed(exp('2024-03-01T00:00:00Z', 0)), st(superseded=[fid])),
         ('older-file and expired', signed(exp('2024-03-01T00:00:00Z', 0), v=1), st(newest={'file_id': 'c' * 32, 'issued_at': '2024-04-01T00:00:00Z'})),
         ('clock exactly tolerance back', good, st(latest_seen='2024-06-02T00:00:00Z')),
         ('clock tolerance+1 back', good, st(latest_seen='2024-06-02T00:00:01Z')),
         ('clock back within tol pushes into grace', f1, st(latest_seen='2024-06-01T12:00:00Z')),
         ('clock back within tol pushes past end', signed(exp('2024-06-01T00:00:00Z', 0)), st(latest_seen='2024-06-01T00:00:01Z')),
         ('latest before issuance uses now', good, st(latest_seen='1970-01-01T00:00:00Z')),
         ('superseded and corrupt', good, st(superseded=[fid], latest_seen='x')),
         ('clock-set-back and expired', f1, st(latest_seen='2030-01-01T00:00:00Z')),
         ]
    for name, f, sb in S:
        compare('probe-state', name, f, [pubpath], state=sb)
    # recording (section 13.3): licverify without --at records at the real clock
    import time
    import run as RUN
    recs = [('first start', g3, None),
            ('empty state', g3, st()),
            ('v2 new lineage, newer than newest', g3, st(newest={'file_id': 'c' * 32, 'issued_at': '2023-01-01T00:00:00Z'})),
            ('v2 older than newest', g3, st(newest={'file_id': 'c' * 32, 'issued_at': '2025-01-01T00:00:00Z'})),
            ('v2 lineage moves to end', g3, st(lineages=[{'lineage': lin, 'generation': 2, 'file_id': 'c' * 32},
                                                          {'lineage': 'd' * 32, 'generation': 1, 'file_id': 'd' * 32}])),
            ('v2 101st lineage', g3, st(lineages=[{'lineage': '%032x' % i, 'generation': 1, 'file_id': '%032x' % i} for i in range(100)])),
            ('v2 supersedes already held', g3, st(superseded=['b' * 32])),
            ('1001st superseded', g3, st(superseded=['%032x' % i for i in range(1000)])),
            ('v1 newer', signed(lambda p: p.update(supersedes='e' * 32), v=1), st(newest={'file_id': 'c' * 32, 'issued_at': '2023-01-01T00:00:00Z'})),
            ('v1 same issued as newest', signed(lambda p: p.update(supersedes='e' * 32), v=1), st(newest={'file_id': 'c' * 32, 'issued_at': '2024-01-01T00:00:00Z'})),
            ('state /1 upgraded', signed(v=1), st(format='i3lic-verify-state/1', lineages='<absent>')),
            ('latest in future within tolerance', g3, st(latest_seen=V.format_time(int(time.time()) + 3600))),
            ]
    for name, f, sb in recs:
        path = os.path.join(tmp, 'rec.i3lic')
        with open(path, 'wb') as fh:
            fh.write(f)
        stpath = os.path.join(tmp, 'rec-state.json')
        for x in (stpath, stpath + '.lock'):
            if os.path.exists(x):
                os.remove(x)
        if sb is not None:
            with open(stpath, 'wb') as fh:
                fh.write(sb)
        now0 = int(time.time())
        rc, kind, msg, lic = licverify(path, [pubpath], SHORT, None, 'CIC', '4.0', stpath)
        now1 = int(time.time())
        try:
            got = json.load(open(stpath))
        except Exception as e:
            got = f'unreadable: {e}'
        act = V.read_file(f, [pub])
        before = V.parse_state(sb) if sb is not None else None
        want = V.record(before, act, now0)
        ok = rc == 0 and isinstance(got, dict)
        if ok:
            lt = V.parse_time(got['latest_seen'])
            lo = max(before['latest_seen'], now0) if before else now0
            hi = max(before['latest_seen'], now1) if before else now1
            ok = lo <= lt <= hi
            got2 = dict(got, latest_seen=None)
            want2 = dict(want, latest_seen=None)
            ok = ok and got2 == want2
        note('probe-record', ok, f'{name}: rc={rc} {kind} {msg[:100]} | mine={json.dumps(want)[:600]} | ref={json.dumps(got)[:600]}')
    shutil.rmtree(tmp)
