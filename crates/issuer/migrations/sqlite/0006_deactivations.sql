-- Schema 5 to 6: deactivations that hold (docs/DEACTIVATION.md). Each account may rehost a
-- number of files a year without a release receipt (default 0). Each deactivation recorded
-- from this schema on has a row: how its units came back ('receipt', 'allowance',
-- 'approved') or that they are still used ('pending', until staff approve); the SHA-256 of
-- the receipt that returned them is unique, so a receipt is used once. Files deactivated
-- before this schema have no row: their units came back then.
ALTER TABLE accounts ADD COLUMN rehosts_per_year INTEGER NOT NULL DEFAULT 0
    CHECK (rehosts_per_year >= 0);
CREATE TABLE deactivations (
    file_seq       INTEGER PRIMARY KEY REFERENCES files(seq),
    account_id     INTEGER NOT NULL REFERENCES accounts(id),
    at             INTEGER NOT NULL,
    actor          TEXT NOT NULL,
    how            TEXT NOT NULL CHECK (how IN ('pending', 'receipt', 'allowance', 'approved')),
    resolved_at    INTEGER,
    resolved_by    TEXT,
    receipt_sha256 BLOB UNIQUE CHECK (receipt_sha256 IS NULL OR length(receipt_sha256) = 32)
);
CREATE INDEX deactivations_account ON deactivations (account_id, how, at);
