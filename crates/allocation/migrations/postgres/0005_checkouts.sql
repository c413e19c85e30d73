-- Schema 5: session licenses checked out by applications, one per connection. A row stays
-- after it ends (ended_at, end_reason) for a day: a late heartbeat is told why, and a
-- time-based key's connections count for the window after they end.
CREATE TABLE checkouts (
    id TEXT COLLATE "C" PRIMARY KEY,
    key TEXT COLLATE "C" NOT NULL,
    application TEXT COLLATE "C",
    lease BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT,
    end_reason TEXT COLLATE "C"
);
CREATE INDEX checkouts_key ON checkouts(key, ended_at);
CREATE INDEX checkouts_expires ON checkouts(expires_at);
