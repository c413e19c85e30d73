-- Schema 4: the license server's bearer tokens (only their SHA-256 digests are kept) and,
-- for a day, why recently ended sessions ended (a client's heartbeat after the end is told).
CREATE TABLE tokens (
    name TEXT COLLATE "C" PRIMARY KEY,
    digest TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE ended_sessions (
    id TEXT COLLATE "C" PRIMARY KEY,
    reason TEXT COLLATE "C" NOT NULL,
    ended_at BIGINT NOT NULL
);
CREATE INDEX ended_sessions_at ON ended_sessions(ended_at);
