-- The ledger on PostgreSQL, created at schema 4 (the schema the SQLite ledger reaches with
-- migrations 0001 to 0004): the same tables, columns, keys and checks. Text compares
-- byte for byte (COLLATE "C", as SQLite's BINARY); foreign keys are DEFERRABLE so that a
-- whole ledger copied in (`issuer ledger copy`) is checked at its commit.

-- `nocase(x)`: x with ASCII letters folded, as SQLite's NOCASE compares (the SQLite engine
-- defines the same function), so one query text compares names without case on both.
CREATE FUNCTION nocase(t TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT translate(t, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$;
-- `instr(haystack, needle)`: SQLite's name for PostgreSQL's strpos.
CREATE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS BIGINT LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT strpos(haystack, needle)::BIGINT $$;

CREATE TABLE accounts (
    id          BIGINT PRIMARY KEY,
    name        TEXT COLLATE "C" NOT NULL UNIQUE,
    active      BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  BIGINT NOT NULL
);
CREATE TABLE sites (
    id          BIGINT PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id) DEFERRABLE,
    name        TEXT COLLATE "C" NOT NULL,
    address1    TEXT COLLATE "C" NOT NULL DEFAULT '',
    address2    TEXT COLLATE "C" NOT NULL DEFAULT '',
    address3    TEXT COLLATE "C" NOT NULL DEFAULT '',
    city        TEXT COLLATE "C" NOT NULL DEFAULT '',
    state       TEXT COLLATE "C" NOT NULL DEFAULT '',
    country     TEXT COLLATE "C" NOT NULL DEFAULT '',
    postal_code TEXT COLLATE "C" NOT NULL DEFAULT '',
    active      BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, name)
);
CREATE TABLE orders (
    id            BIGINT PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts(id) DEFERRABLE,
    part          TEXT COLLATE "C" NOT NULL,
    quantity      BIGINT NOT NULL CHECK (quantity > 0),
    used          BIGINT NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= quantity),
    perpetual     BIGINT NOT NULL CHECK (perpetual IN (0, 1)),
    mirrored      BIGINT NOT NULL DEFAULT 0 CHECK (mirrored IN (0, 1)),
    active        BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    upgraded_from BIGINT REFERENCES orders(id) DEFERRABLE,
    included_with BIGINT REFERENCES orders(id) DEFERRABLE,
    added_at      BIGINT NOT NULL,
    added_by      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX orders_account_part ON orders (account_id, part);
CREATE TABLE files (
    seq                BIGINT PRIMARY KEY,
    id                 TEXT COLLATE "C" NOT NULL UNIQUE,
    account_id         BIGINT NOT NULL REFERENCES accounts(id) DEFERRABLE,
    site_id            BIGINT NOT NULL REFERENCES sites(id) DEFERRABLE,
    license_type       TEXT COLLATE "C" NOT NULL,
    product            TEXT COLLATE "C" NOT NULL,
    version            TEXT COLLATE "C" NOT NULL,
    server_part        TEXT COLLATE "C" NOT NULL,
    primary_host       TEXT COLLATE "C" NOT NULL,
    primary_machine    TEXT COLLATE "C" NOT NULL,
    switchover_host    TEXT COLLATE "C",
    switchover_machine TEXT COLLATE "C",
    system_type        TEXT COLLATE "C" NOT NULL,
    mail_connector     TEXT COLLATE "C" NOT NULL,
    generated_by       TEXT COLLATE "C" NOT NULL,
    partner            BIGINT NOT NULL CHECK (partner IN (0, 1)),
    generated_at       BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    active             BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    supersedes         BIGINT UNIQUE REFERENCES files(seq) DEFERRABLE,
    related_production BIGINT REFERENCES files(seq) DEFERRABLE,
    deactivated_at     BIGINT,
    deactivated_by     TEXT COLLATE "C",
    key_id             TEXT COLLATE "C" NOT NULL,
    sha256             TEXT COLLATE "C" NOT NULL,
    bytes              BYTEA NOT NULL,
    activation         TEXT COLLATE "C"
);
CREATE INDEX files_account ON files (account_id, generated_at);
CREATE INDEX files_site ON files (site_id);
CREATE TABLE file_usage (
    file_seq BIGINT NOT NULL REFERENCES files(seq) DEFERRABLE,
    order_id BIGINT NOT NULL REFERENCES orders(id) DEFERRABLE,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (file_seq, order_id)
);
CREATE INDEX file_usage_order ON file_usage (order_id, file_seq);
CREATE TABLE file_licenses (
    file_seq BIGINT NOT NULL REFERENCES files(seq) DEFERRABLE,
    name     TEXT COLLATE "C" NOT NULL,
    assigned BIGINT NOT NULL,
    pooled   BIGINT NOT NULL,
    PRIMARY KEY (file_seq, name)
);
CREATE TABLE audit (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT COLLATE "C" NOT NULL,
    action    TEXT COLLATE "C" NOT NULL,
    subject   TEXT COLLATE "C" NOT NULL,
    before    TEXT COLLATE "C",
    after     TEXT COLLATE "C",
    prev_hash BYTEA NOT NULL,
    hash      BYTEA NOT NULL
);
CREATE TABLE portal_users (
    id             BIGINT PRIMARY KEY,
    email          TEXT COLLATE "C" NOT NULL,
    role           TEXT COLLATE "C" NOT NULL CHECK (role IN ('staff', 'customer', 'partner')),
    certified      BIGINT NOT NULL DEFAULT 0 CHECK (certified IN (0, 1)),
    password_hash  TEXT COLLATE "C" NOT NULL,
    active         BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at     BIGINT NOT NULL,
    sessions_epoch BIGINT NOT NULL DEFAULT 0
);
-- SQLite's `email UNIQUE COLLATE NOCASE`.
CREATE UNIQUE INDEX portal_users_email ON portal_users (nocase(email));
CREATE TABLE portal_user_accounts (
    user_id    BIGINT NOT NULL REFERENCES portal_users(id) DEFERRABLE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) DEFERRABLE,
    PRIMARY KEY (user_id, account_id)
);
CREATE TABLE portal_tokens (
    id         BIGINT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES portal_users(id) DEFERRABLE,
    digest     BYTEA NOT NULL UNIQUE,
    label      TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE requests (
    id             BIGINT PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES accounts(id) DEFERRABLE,
    requested_by   TEXT COLLATE "C" NOT NULL,
    request_type   TEXT COLLATE "C" NOT NULL,
    category       TEXT COLLATE "C" NOT NULL,
    file_type      TEXT COLLATE "C" NOT NULL,
    subject        TEXT COLLATE "C" NOT NULL,
    description    TEXT COLLATE "C" NOT NULL,
    urgent         BIGINT NOT NULL CHECK (urgent IN (0, 1)),
    date_needed    TEXT COLLATE "C" NOT NULL,
    date_reason    TEXT COLLATE "C" NOT NULL,
    host_id        TEXT COLLATE "C" NOT NULL,
    backup_host_id TEXT COLLATE "C" NOT NULL,
    status         TEXT COLLATE "C" NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    answer         TEXT COLLATE "C",
    closed_by      TEXT COLLATE "C",
    closed_at      BIGINT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX requests_account ON requests (account_id, id);
CREATE TABLE request_attachments (
    request_id   BIGINT NOT NULL REFERENCES requests(id) DEFERRABLE,
    position     BIGINT NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    content_type TEXT COLLATE "C" NOT NULL,
    sha256       TEXT COLLATE "C" NOT NULL,
    bytes        BYTEA NOT NULL,
    PRIMARY KEY (request_id, position)
);

-- What SQLite's triggers refuse, refused the same way.
CREATE FUNCTION i3lic_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    FOR EACH ROW EXECUTE FUNCTION i3lic_refuse('the audit log is append-only');
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION i3lic_refuse('the audit log is append-only');
CREATE TRIGGER files_immutable BEFORE UPDATE OF seq, id, account_id, site_id, license_type,
    product, version, primary_host, switchover_host, generated_at, expires_at, supersedes,
    key_id, sha256, bytes, activation ON files
    FOR EACH ROW EXECUTE FUNCTION i3lic_refuse('an issued file is immutable; issue a new one');
CREATE TRIGGER files_no_delete BEFORE DELETE ON files
    FOR EACH ROW EXECUTE FUNCTION i3lic_refuse('issued files are never deleted; deactivate them');
CREATE TRIGGER request_attachments_immutable BEFORE UPDATE ON request_attachments
    FOR EACH ROW EXECUTE FUNCTION i3lic_refuse('an attachment is kept as it was sent');
CREATE TRIGGER request_attachments_no_delete BEFORE DELETE ON request_attachments
    FOR EACH ROW EXECUTE FUNCTION i3lic_refuse('attachments are never deleted');
