"""File-system probes for run.py (FORMAT.md 12.1 step 0, 13.4, 15.3): the outcome FORMAT.md
gives is compared with licverify's directly (the Python verifier reads bytes, not paths)."""
import fcntl
import hashlib
import os
import stat
import subprocess
import shutil
import tempfile
import time

import hostcases as H

SHORT = '1Q2H4-74KMZ-KWXDV-8K000-00KZQ'


def run(args, note, licverify, V):
    tmp = tempfile.mkdtemp(prefix='i3lic-files-')
    seed = hashlib.sha256(b'conformance file key').digest()
    pub = V.public_from_seed(seed)
    pubpath = os.path.join(tmp, 'k.pub')
    open(pubpath, 'w').write(V.public_key_text(pub))
    good = os.path.join(tmp, 'good.i3lic')
    open(good, 'wb').write(V.sign_file(seed, H.base_payload(V, 2, SHORT), 2))
    fifo = os.path.join(tmp, 'fifo')
    os.mkfifo(fifo)
    link = os.path.join(tmp, 'link.i3lic')
    os.symlink(good, link)
    big = os.path.join(tmp, 'big.i3lic')
    open(big, 'wb').write(open(good, 'rb').read() + b'\n' * (3 << 20))
    at = '2024-06-01T00:00:00Z'

    def case(name, want_kind, want_rc, path=good, trust=(pubpath,), host=SHORT, at=at, state=None):
        rc, kind, msg, lic = licverify(path, list(trust), host, at, 'CIC', '4.0', state)
        got = kind or ('ok' if rc == 0 else f'rc{rc}')
        ok = got == want_kind and rc == want_rc
        note('probe-files', ok, f'{name}: spec={want_kind}/{want_rc} ref={got}/{rc} ({msg[:200]})')
        if getattr(args, 'verbose', False):
            print(('OK   ' if ok else 'DIFF ') + f'[probe-files] {name}: spec={want_kind}/{want_rc} ref={got}/{rc} {msg[:160]}')

    case('file is a folder', 'not-regular-file', 4, path=tmp)
    case('file is a FIFO', 'not-regular-file', 4, path=fifo)
    case('file is /dev/null', 'not-regular-file', 4, path='/dev/null')
    case('file is a symlink to a file', 'ok', 0, path=link)
    case('file missing', 'io', 4, path=os.path.join(tmp, 'nope'))
    case('file 3 MiB', 'malformed', 3, path=big)
    case('bad host-id, file missing', 'bad-host-id', 3, path=os.path.join(tmp, 'nope'), host='x')
    case('trusted key missing', 'trusted-key-io', 4, trust=[os.path.join(tmp, 'nope.pub')])
    case('trusted key is a folder', 'not-regular-file', 4, trust=[tmp])
    case('trusted key is a FIFO', 'not-regular-file', 4, trust=[fifo])
    st = os.path.join(tmp, 'state.json')
    case('state path is a folder', 'not-regular-file', 4, state=tmp)
    os.symlink(os.path.join(tmp, 'elsewhere.json'), st)
    case('state path is a dangling symlink', 'not-regular-file', 4, state=st)
    os.remove(st)
    open(os.path.join(tmp, 'real.json'), 'w').write('{"format": "i3lic-verify-state/2", "latest_seen": "2024-05-01T00:00:00Z", "newest": null, "superseded": [], "lineages": []}')
    os.symlink(os.path.join(tmp, 'real.json'), st)
    case('state path is a symlink to a state file', 'not-regular-file', 4, state=st)
    os.remove(st)
    os.symlink(os.path.join(tmp, 'x.lock'), st + '.lock')
    case('lock file is a symlink', 'not-regular-file', 4, state=st)
    os.remove(st + '.lock')
    os.mkfifo(st + '.lock')
    case('lock file is a FIFO', 'not-regular-file', 4, state=st)
    os.remove(st + '.lock')
    # a read-only load (--at) of a state file that does not exist: a first start, nothing written
    ro = os.path.join(tmp, 'ro', 'state.json')
    os.mkdir(os.path.dirname(ro))
    case('read-only load, no state file yet', 'ok', 0, state=ro)
    note('probe-files', not os.path.exists(ro), f'read-only first start left a state file: {os.path.exists(ro)}')
    print(f'[lock probe] read-only first start created the lock file: {os.path.exists(ro + ".lock")}')
    open(ro, 'w').write('{"format": "i3lic-verify-state/2", "latest_seen": "2024-05-01T00:00:00Z", "newest": null, "superseded": [], "lineages": []}')
    case('read-only load, state file without lock file', 'ok', 0, state=ro)
    note('probe-files', os.path.exists(ro + '.lock'),
         f'read-only lock file: created={os.path.exists(ro + ".lock")}, FORMAT.md 13.4: "(created with mode 0600 when missing)"')
    # first start without --at records the state and creates the lock file 0600
    case('first start (records)', 'ok', 0, at=None, state=st)
    mode = stat.S_IMODE(os.stat(st + '.lock').st_mode) if os.path.exists(st + '.lock') else None
    note('probe-files', mode == 0o600, f'lock file created with mode {oct(mode) if mode is not None else None}, spec 0600')
    os.chmod(st, 0o640)
    case('second recording load', 'ok', 0, at=None, state=st)
    mode = stat.S_IMODE(os.stat(st).st_mode)
    note('probe-files', mode == 0o640, f'state mode after rewrite {oct(mode)}, spec: kept (0640)')
    at = V.format_time(int(time.time()) + 60)  # read-only loads after the recording ones
    # locks: which OS lock?  flock (BSD) and fcntl (POSIX) do not see each other on Linux
    for lockname, lockfn in (('flock', fcntl.flock), ('fcntl', fcntl.lockf)):
        fd = os.open(st + '.lock', os.O_RDWR)
        lockfn(fd, fcntl.LOCK_EX)
        t0 = time.time()
        rc, kind, msg, lic = licverify(good, [pubpath], SHORT, at, 'CIC', '4.0', st)
        dt = time.time() - t0
        lockfn(fd, fcntl.LOCK_UN)
        os.close(fd)
        # FORMAT.md 13.4 says only "an OS lock"; the outcome per lock kind is recorded, not judged
        note('probe-files-lock', True, f'{lockname} exclusive lock held, read-only load: {kind or "ok"}/{rc} after {dt:.1f}s ({msg[:120]})')
        print(f'[lock probe] {lockname} exclusive lock held, read-only load: {kind or "ok"}/{rc} after {dt:.1f}s')
    fd = os.open(st + '.lock', os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_SH)
    t0 = time.time()
    rc, kind, msg, lic = licverify(good, [pubpath], SHORT, at, 'CIC', '4.0', st)
    dt1 = time.time() - t0
    t0 = time.time()
    rc2, kind2, msg2, _ = licverify(good, [pubpath], SHORT, None, 'CIC', '4.0', st)
    dt2 = time.time() - t0
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    note('probe-files', rc == 0, f'flock shared lock held, read-only load (shared): {kind or "ok"}/{rc} after {dt1:.1f}s')
    note('probe-files', kind2 == 'state-locked' and rc2 == 4,
         f'flock shared lock held, recording load (exclusive): {kind2 or "ok"}/{rc2} after {dt2:.1f}s, spec state-locked/4 after 10 s')
    shutil.rmtree(tmp, ignore_errors=True)
