-- Schema 6 to 7: requests done once. A page form's one-time token or an API request's
-- Idempotency-Key, per portal user, with the SHA-256 of the request it came with and the
-- answer it got (status and body), written in the same transaction as the work. The same
-- key again answers that; with another request it is refused. Kept 24 hours.
CREATE TABLE idempotency (
    actor          TEXT NOT NULL,
    key            TEXT NOT NULL,
    request_sha256 BLOB NOT NULL CHECK (length(request_sha256) = 32),
    status         INTEGER NOT NULL,
    body           BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (actor, key)
);
CREATE INDEX idempotency_created ON idempotency (created_at);
