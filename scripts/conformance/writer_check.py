"""Writer check for run.py: rebuild the complete examples of FORMAT.md sections 17, 18 and 19
from their parsed contents with this writer and the published demo key, and the receipt of
section 20.3 with its test install key (seed: 32 bytes d4), and compare byte for byte."""
import base64
import json
import os
import re
from collections import OrderedDict

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(args, note, licverify, V):
    doc = open(os.path.join(ROOT, 'docs/FORMAT.md'), encoding='utf-8').read()
    blocks = re.findall(r'```text\n(-----BEGIN I3LIC ACTIVATION FILE-----\n.*?)```', doc, re.S)
    key = open(os.path.join(ROOT, 'keys-example/demo.key')).read()
    seed = base64.b64decode(re.search(r'i3lic-secret-key-v1 (\S+)', key).group(1))
    for b in blocks:
        arm = V.parse_armor(b.encode())
        obj = json.loads('\n'.join(arm['payload_lines']), object_pairs_hook=OrderedDict)
        out = V.sign_file(seed, obj, arm['version'])
        note('writer-examples', out == b.encode(),
             f'version {arm["version"]} example: rewritten file differs ({len(out)} vs {len(b.encode())} bytes)')
    import i3lic_receipt as R
    for b in re.findall(r'```text\n(-----BEGIN I3LIC RELEASE RECEIPT-----\n.*?)```', doc, re.S):
        if '<' in b:
            continue  # the template of section 20.1
        vals = R.parse_receipt(b.encode())['values']
        out = R.sign_receipt(bytes([0xd4]) * 32, vals)
        note('writer-examples', out == b.encode(), f'receipt example: re-signed receipt differs ({len(out)} vs {len(b)} bytes)')
