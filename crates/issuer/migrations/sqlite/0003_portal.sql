-- Schema 2 to 3: the portal's users, the accounts they may see, their API tokens (SHA-256
-- digests only), and activation file requests with their attachments.
CREATE TABLE portal_users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT NOT NULL CHECK (role IN ('staff', 'customer', 'partner')),
    certified     INTEGER NOT NULL DEFAULT 0 CHECK (certified IN (0, 1)),
    password_hash TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    INTEGER NOT NULL
);
CREATE TABLE portal_user_accounts (
    user_id    INTEGER NOT NULL REFERENCES portal_users(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    PRIMARY KEY (user_id, account_id)
) WITHOUT ROWID;
-- API tokens: only the SHA-256 of the token is kept.
CREATE TABLE portal_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES portal_users(id),
    digest     BLOB NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
-- Activation file requests (AFR-0000001 is id 1).
CREATE TABLE requests (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    requested_by TEXT NOT NULL,
    request_type TEXT NOT NULL,
    category     TEXT NOT NULL,
    file_type    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    description  TEXT NOT NULL,
    urgent       INTEGER NOT NULL CHECK (urgent IN (0, 1)),
    date_needed  TEXT NOT NULL,
    date_reason  TEXT NOT NULL,
    host_id      TEXT NOT NULL,
    backup_host_id TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    answer       TEXT,
    closed_by    TEXT,
    closed_at    INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX requests_account ON requests (account_id, id);
CREATE TABLE request_attachments (
    request_id   INTEGER NOT NULL REFERENCES requests(id),
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    PRIMARY KEY (request_id, position)
) WITHOUT ROWID;
CREATE TRIGGER request_attachments_immutable BEFORE UPDATE ON request_attachments
    BEGIN SELECT RAISE(ABORT, 'an attachment is kept as it was sent'); END;
CREATE TRIGGER request_attachments_no_delete BEFORE DELETE ON request_attachments
    BEGIN SELECT RAISE(ABORT, 'attachments are never deleted'); END;
