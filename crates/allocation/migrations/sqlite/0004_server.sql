-- Schema 4: the license server's bearer tokens (only their SHA-256 digests are kept) and,
-- for a day, why recently ended sessions ended (a client's heartbeat after the end is told).
CREATE TABLE tokens (
    name TEXT PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) WITHOUT ROWID;
CREATE TABLE ended_sessions (
    id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    ended_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ended_sessions_at ON ended_sessions(ended_at);
