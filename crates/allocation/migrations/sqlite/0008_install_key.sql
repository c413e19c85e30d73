-- Schema 8: the store's install key and the lineages it released (`licadmin release`).
-- The key pair itself is made in Rust right after the migrations, in the write transaction
-- that finds the table empty (SQL cannot make an ed25519 key): one key per store, kept by
-- `licadmin store copy`. The seed is secret: never printed, never in JSON output.
CREATE TABLE install_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seed TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
-- A released lineage is refused from then on, whatever its generation (exit 16).
CREATE TABLE released (
    lineage TEXT PRIMARY KEY,
    file_id TEXT NOT NULL,
    generation INTEGER NOT NULL CHECK (generation >= 0),
    released_at INTEGER NOT NULL,
    receipt TEXT NOT NULL
) WITHOUT ROWID;
