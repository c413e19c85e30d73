-- Schema 8: the store's install key and the lineages it released (`licadmin release`).
-- The key pair itself is made in Rust right after the migrations, in the write transaction
-- that finds the table empty (SQL cannot make an ed25519 key): one key per store, shared by
-- every server on it. The seed is secret: never printed, never in JSON output.
CREATE TABLE install_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seed TEXT COLLATE "C" NOT NULL,
    public_key TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
-- A released lineage is refused from then on, whatever its generation (exit 16).
CREATE TABLE released (
    lineage TEXT COLLATE "C" PRIMARY KEY,
    file_id TEXT COLLATE "C" NOT NULL,
    generation BIGINT NOT NULL CHECK (generation >= 0),
    released_at BIGINT NOT NULL,
    receipt TEXT COLLATE "C" NOT NULL
);
