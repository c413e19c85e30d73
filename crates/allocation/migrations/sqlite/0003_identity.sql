
ALTER TABLE license ADD COLUMN signer_key TEXT;
CREATE TABLE store_hosts (
    code TEXT PRIMARY KEY
) WITHOUT ROWID;
CREATE TABLE store_keys (
    key_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE store_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    latest_seen INTEGER NOT NULL CHECK (latest_seen >= 0),
    newest_file TEXT,
    newest_issued_at TEXT
);
CREATE TABLE lineages (
    lineage TEXT PRIMARY KEY,
    generation INTEGER NOT NULL CHECK (generation >= 1),
    file_id TEXT NOT NULL,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE superseded (
    file_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE admin_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
INSERT INTO store_state (id, latest_seen, newest_file, newest_issued_at)
    VALUES (1, 0, (SELECT file_id FROM license WHERE id = 1), (SELECT issued_at FROM license WHERE id = 1));
INSERT INTO lineages (lineage, generation, file_id, seq)
    SELECT lineage, generation, file_id, 1 FROM license WHERE generation IS NOT NULL;
INSERT INTO superseded (file_id, seq)
    SELECT supersedes, 1 FROM license WHERE supersedes IS NOT NULL;
