-- Schema 4 to 5: the portal's browser sessions, kept in the ledger so that every portal
-- process on it knows them and a restart keeps them. A session is found by the SHA-256 of
-- its cookie's 32 random bytes (the cookie itself is never kept); user_id is NULL for an
-- anonymous session (the login form); epoch is the user's sessions_epoch at login; csrf is
-- the session's anti-forgery token; created_at and last_seen are Unix milliseconds.
CREATE TABLE portal_sessions (
    digest     BLOB PRIMARY KEY CHECK (length(digest) = 32),
    user_id    INTEGER REFERENCES portal_users(id),
    epoch      INTEGER NOT NULL,
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX portal_sessions_user ON portal_sessions (user_id);
CREATE INDEX portal_sessions_last_seen ON portal_sessions (last_seen);
CREATE INDEX portal_sessions_created_at ON portal_sessions (created_at);
