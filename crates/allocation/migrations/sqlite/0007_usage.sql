-- Schema 7: usage history (src/history.rs). Events for the log, and per-hour and per-day
-- peaks, denials and licensed counts, so a usage report reads aggregates, never the events.

-- The write transaction under way: its time (the allocator's clock, set first in every
-- write transaction, read by the peak triggers) and when old history was last purged.
CREATE TABLE history_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    tx_time INTEGER NOT NULL,
    purged_at INTEGER NOT NULL
);
INSERT INTO history_state (id, tx_time, purged_at) VALUES (1, 0, 0);

-- Every acquisition, release, denial, load and administrator change.
CREATE TABLE usage_events (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('acquire', 'release', 'deny', 'load', 'change')),
    who TEXT NOT NULL,
    key TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX usage_events_at ON usage_events(at);

-- Per hour (span 3600) and per day (span 86400) from `at`, and per key and count: the most
-- in use at any moment of the period (the level it started with included) and the level
-- it ended with. Kept by the triggers on usage_counts below.
CREATE TABLE usage_peaks (
    span INTEGER NOT NULL CHECK (span IN (3600, 86400)),
    at INTEGER NOT NULL,
    key TEXT NOT NULL,
    pool TEXT NOT NULL CHECK (pool IN ('assignable', 'concurrent')),
    peak INTEGER NOT NULL,
    level INTEGER NOT NULL,
    PRIMARY KEY (span, key, pool, at)
) WITHOUT ROWID;
CREATE INDEX usage_peaks_at ON usage_peaks(span, at);

-- Denials per hour and per day, key and reason (the refusal's kind).
CREATE TABLE usage_denials (
    span INTEGER NOT NULL CHECK (span IN (3600, 86400)),
    at INTEGER NOT NULL,
    key TEXT NOT NULL,
    reason TEXT NOT NULL,
    n INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (span, key, reason, at)
) WITHOUT ROWID;
CREATE INDEX usage_denials_at ON usage_denials(span, at);

-- The counts each loaded file granted, one snapshot per load (every key of the file).
CREATE TABLE usage_licensed (
    load_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    key TEXT NOT NULL,
    assigned INTEGER NOT NULL,
    pooled INTEGER NOT NULL,
    PRIMARY KEY (load_id, key)
) WITHOUT ROWID;
CREATE INDEX usage_licensed_at ON usage_licensed(at);

-- A change of a usage counter raises the peak of its hour and its day (tx_time 0: no
-- allocator transaction, as while a store is copied in, records nothing).
CREATE TRIGGER usage_counts_peak_ins AFTER INSERT ON usage_counts BEGIN
    INSERT INTO usage_peaks (span, at, key, pool, peak, level)
        SELECT s.span, h.tx_time - h.tx_time % s.span, NEW.key, NEW.pool, NEW.n, NEW.n
        FROM history_state h, (SELECT 3600 AS span UNION ALL SELECT 86400) s
        WHERE h.id = 1 AND h.tx_time > 0
        ON CONFLICT (span, key, pool, at) DO UPDATE
            SET peak = MAX(peak, excluded.peak), level = excluded.level;
END;
CREATE TRIGGER usage_counts_peak_upd AFTER UPDATE OF n ON usage_counts WHEN NEW.n != OLD.n BEGIN
    INSERT INTO usage_peaks (span, at, key, pool, peak, level)
        SELECT s.span, h.tx_time - h.tx_time % s.span, NEW.key, NEW.pool, MAX(OLD.n, NEW.n), NEW.n
        FROM history_state h, (SELECT 3600 AS span UNION ALL SELECT 86400) s
        WHERE h.id = 1 AND h.tx_time > 0
        ON CONFLICT (span, key, pool, at) DO UPDATE
            SET peak = MAX(peak, excluded.peak), level = excluded.level;
END;
