#!/usr/bin/env bash
# Sourced by test.sh: unless I3LIC_TEST_POSTGRES names a server, starts a throwaway PostgreSQL
# cluster under target/pg-test on a free port (installing PostgreSQL where missing), exports
# I3LIC_TEST_POSTGRES for the tests, and stops and removes the cluster when the shell exits,
# also when tests fail or are interrupted. In CI (CI=true) failing to start one is fatal;
# elsewhere the PostgreSQL tests then skip. The server runs with fsync off (throwaway data)
# unless I3LIC_PG_FSYNC=on (the benchmarks, which measure durable commits).

i3lic_pg_fail() {
    if [ "${CI:-}" = true ]; then
        echo "error: cannot start a PostgreSQL test server: $*" >&2
        exit 1
    fi
    echo "warning: no PostgreSQL test server ($*); the PostgreSQL tests skip" >&2
}

i3lic_pg_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
    fi
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
    return 1
}

i3lic_pg_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local p
    for p in $(seq 25432 25532); do
        if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    return 1
}

# Runs a cluster command as the cluster's owner (root may not run a PostgreSQL server).
i3lic_pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

i3lic_pg_stop() {
    if [ -n "${I3LIC_PG_DIR:-}" ] && [ -d "$I3LIC_PG_DIR" ]; then
        i3lic_pg_as_owner "$I3LIC_PG_BIN/pg_ctl" stop -D "$I3LIC_PG_DIR/data" -m immediate -s >/dev/null 2>&1 || true
        rm -rf "$I3LIC_PG_DIR"
    fi
}

i3lic_pg_start() {
    local root bin port
    root="${I3LIC_PG_ROOT:-$(pwd)/target/pg-test}"
    if ! bin="$(i3lic_pg_bindir)"; then
        echo "Installing PostgreSQL (for the PostgreSQL store's tests)..." >&2
        if [ "$(id -u)" = 0 ]; then
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2 || true
        else
            { sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2 || true
        fi
        bin="$(i3lic_pg_bindir)" || { i3lic_pg_fail "PostgreSQL is not installed and could not be"; return 0; }
    fi
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres || { i3lic_pg_fail "cannot create the postgres user"; return 0; }
    fi
    port="$(i3lic_pg_free_port)" || { i3lic_pg_fail "no free port"; return 0; }
    rm -rf "$root"
    mkdir -p "$root/socket"
    I3LIC_PG_DIR="$root"
    I3LIC_PG_BIN="$bin"
    trap 'i3lic_pg_stop' EXIT
    trap 'i3lic_pg_stop; trap - INT; kill -INT $$' INT
    trap 'i3lic_pg_stop; trap - TERM; kill -TERM $$' TERM
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres "$root"
        # The postgres user must be able to reach the folder through the work tree.
        if ! runuser -u postgres -- test -w "$root"; then
            local d="$root"
            while [ "$d" != / ]; do d="$(dirname "$d")"; chmod o+x "$d" 2>/dev/null || true; done
        fi
    fi
    if ! i3lic_pg_as_owner "$bin/initdb" -D "$root/data" -A trust -U postgres --no-sync -E UTF8 --locale=C >"$root/initdb.log" 2>&1; then
        cat "$root/initdb.log" >&2
        i3lic_pg_fail "initdb failed"
        return 0
    fi
    # Everyone is trusted but one role, whose password the tests get wrong on purpose.
    { echo "host all i3lic_password_test 127.0.0.1/32 scram-sha-256"; cat "$root/data/pg_hba.conf"; } >"$root/pg_hba.conf"
    mv "$root/pg_hba.conf" "$root/data/pg_hba.conf"
    if [ "$(id -u)" = 0 ]; then chown postgres "$root/data/pg_hba.conf"; fi
    if ! i3lic_pg_as_owner "$bin/pg_ctl" start -w -s -D "$root/data" -l "$root/server.log" \
        -o "-p $port -k $root/socket -c listen_addresses=127.0.0.1 -c fsync=${I3LIC_PG_FSYNC:-off} -c max_connections=200"; then
        cat "$root/server.log" >&2 || true
        i3lic_pg_fail "the server did not start"
        return 0
    fi
    export I3LIC_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
    echo "PostgreSQL test server: $I3LIC_TEST_POSTGRES (removed at exit)" >&2
}

if [ -z "${I3LIC_TEST_POSTGRES:-}" ]; then
    i3lic_pg_start
fi
