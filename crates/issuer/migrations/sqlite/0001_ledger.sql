-- Schema 1, as the first release created it: accounts, install sites, order lines, issued
-- files with their exact bytes, their usage and licenses, and the hash-chained audit log.
CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL
);
CREATE TABLE sites (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    address1    TEXT NOT NULL DEFAULT '',
    address2    TEXT NOT NULL DEFAULT '',
    address3    TEXT NOT NULL DEFAULT '',
    city        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT '',
    country     TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL,
    UNIQUE (account_id, name)
);
-- One row per order line. An upgrade (3.0 -> 4.0) retires a row (active = 0) and adds its
-- successor with upgraded_from set; a server's included development system points at it.
CREATE TABLE orders (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    part          TEXT NOT NULL,
    quantity      INTEGER NOT NULL CHECK (quantity > 0),
    -- Units used by active files: kept in step with file_usage in the same transaction, so
    -- the database itself refuses more than ordered (Ledger::verify_usage recomputes it).
    used          INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= quantity),
    perpetual     INTEGER NOT NULL CHECK (perpetual IN (0, 1)),
    mirrored      INTEGER NOT NULL DEFAULT 0 CHECK (mirrored IN (0, 1)),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    upgraded_from INTEGER REFERENCES orders(id),
    included_with INTEGER REFERENCES orders(id),
    added_at      INTEGER NOT NULL,
    added_by      TEXT NOT NULL
);
CREATE INDEX orders_account_part ON orders (account_id, part);
-- Issued files. `bytes` is the exact file handed out; `issuer download` returns it.
-- A file replaced by an update names what it supersedes; only one file may supersede another.
CREATE TABLE files (
    seq                INTEGER PRIMARY KEY,
    id                 TEXT NOT NULL UNIQUE,
    account_id         INTEGER NOT NULL REFERENCES accounts(id),
    site_id            INTEGER NOT NULL REFERENCES sites(id),
    license_type       TEXT NOT NULL,
    product            TEXT NOT NULL,
    version            TEXT NOT NULL,
    server_part        TEXT NOT NULL,
    primary_host       TEXT NOT NULL,
    primary_machine    TEXT NOT NULL,
    switchover_host    TEXT,
    switchover_machine TEXT,
    system_type        TEXT NOT NULL,
    mail_connector     TEXT NOT NULL,
    generated_by       TEXT NOT NULL,
    partner            INTEGER NOT NULL CHECK (partner IN (0, 1)),
    generated_at       INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    active             INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    supersedes         INTEGER UNIQUE REFERENCES files(seq),
    related_production INTEGER REFERENCES files(seq),
    deactivated_at     INTEGER,
    deactivated_by     TEXT,
    key_id             TEXT NOT NULL,
    sha256             TEXT NOT NULL,
    bytes              BLOB NOT NULL
);
CREATE INDEX files_account ON files (account_id, generated_at);
CREATE INDEX files_site ON files (site_id);
-- Ordered units each file uses (only active files count as used).
CREATE TABLE file_usage (
    file_seq INTEGER NOT NULL REFERENCES files(seq),
    order_id INTEGER NOT NULL REFERENCES orders(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (file_seq, order_id)
) WITHOUT ROWID;
CREATE INDEX file_usage_order ON file_usage (order_id, file_seq);
-- License keys and counts each file grants (for disaster recovery limits and `show`).
CREATE TABLE file_licenses (
    file_seq INTEGER NOT NULL REFERENCES files(seq),
    name     TEXT NOT NULL,
    assigned INTEGER NOT NULL,
    pooled   INTEGER NOT NULL,
    PRIMARY KEY (file_seq, name)
) WITHOUT ROWID;
-- Append-only, hash-chained log of every change: hash = SHA-256 of the domain string, the
-- previous row's hash and this row's fields (see `audit_hash`).
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    before    TEXT,
    after     TEXT,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER files_immutable BEFORE UPDATE OF seq, id, account_id, site_id, license_type,
    product, version, primary_host, switchover_host, generated_at, expires_at, supersedes,
    key_id, sha256, bytes ON files
    BEGIN SELECT RAISE(ABORT, 'an issued file is immutable; issue a new one'); END;
CREATE TRIGGER files_no_delete BEFORE DELETE ON files
    BEGIN SELECT RAISE(ABORT, 'issued files are never deleted; deactivate them'); END;
