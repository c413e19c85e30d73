-- Schema 1 to 2: each file keeps its signed payload as JSON (NULL for files recorded by
-- schema 1, whose payload is rebuilt from their rows), and the immutability trigger covers it.
ALTER TABLE files ADD COLUMN activation TEXT;
DROP TRIGGER files_immutable;
CREATE TRIGGER files_immutable BEFORE UPDATE OF seq, id, account_id, site_id, license_type,
    product, version, primary_host, switchover_host, generated_at, expires_at, supersedes,
    key_id, sha256, bytes, activation ON files
    BEGIN SELECT RAISE(ABORT, 'an issued file is immutable; issue a new one'); END;
