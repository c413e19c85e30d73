-- Schema 5: session licenses checked out by applications, one per connection. A row stays
-- after it ends (ended_at, end_reason) for a day: a late heartbeat is told why, and a
-- time-based key's connections count for the window after they end.
CREATE TABLE checkouts (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    application TEXT,
    lease INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER,
    end_reason TEXT
) WITHOUT ROWID;
CREATE INDEX checkouts_key ON checkouts(key, ended_at);
CREATE INDEX checkouts_expires ON checkouts(expires_at);
