"""What the benchmarks that need PostgreSQL share (scripts/engine_bench.py,
scripts/serve_bench.py): their own server with fsync on, fresh databases on it, free ports."""
import json
import os
import shutil
import socket
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def target_dir():
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(out)["target_directory"]


def run_with_server(script):
    """Unless this is already the inner run, run `script` again (with --inner) in a shell
    that started a PostgreSQL server for it (scripts/postgres-test.sh, fsync ON: the figures
    are durable commits) under target/pg-bench; the server is stopped and removed when that
    shell exits. Returns only in the inner run."""
    if "--inner" in sys.argv:
        return
    env = dict(os.environ, I3LIC_PG_FSYNC="on", I3LIC_PG_ROOT=os.path.join(target_dir(), "pg-bench"))
    env.pop("I3LIC_TEST_POSTGRES", None)
    cmd = f". scripts/postgres-test.sh && python3 scripts/{script} --inner " + " ".join(sys.argv[1:])
    sys.exit(subprocess.run(["bash", "-c", cmd], cwd=ROOT, env=env).returncode)


def psql():
    found = shutil.which("psql") or "psql"
    for d in sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(x) for x in v.split(".") if x.isdigit()]):
        p = os.path.join("/usr/lib/postgresql", d, "bin", "psql")
        if os.path.exists(p):
            found = p
    return found


def database(name):
    """A fresh database on the bench server; its URL."""
    base = os.environ["I3LIC_TEST_POSTGRES"]
    subprocess.run([psql(), base, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True,
                   capture_output=True)
    subprocess.run([psql(), base, "-qc",
                    f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"],
                   check=True, capture_output=True)
    return base.rsplit("/", 1)[0] + "/" + name


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
