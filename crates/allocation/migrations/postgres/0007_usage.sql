-- Schema 7: usage history (src/history.rs), as SQLite's 0008_usage.sql. Events for the log,
-- and per-hour and per-day peaks, denials and licensed counts, so a usage report reads
-- aggregates, never the events.

-- The write transaction under way: its time (the allocator's clock, set first in every
-- write transaction, read by the peak trigger) and when old history was last purged.
CREATE TABLE history_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    tx_time BIGINT NOT NULL,
    purged_at BIGINT NOT NULL
);
INSERT INTO history_state (id, tx_time, purged_at) VALUES (1, 0, 0);

-- Every acquisition, release, denial, load and administrator change.
CREATE TABLE usage_events (
    id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('acquire', 'release', 'deny', 'load', 'change')),
    who TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C",
    detail TEXT COLLATE "C" NOT NULL
);
CREATE INDEX usage_events_at ON usage_events(at);

-- Per hour (span 3600) and per day (span 86400) from `at`, and per key and count: the most
-- in use at any moment of the period (the level it started with included) and the level
-- it ended with. Kept by the trigger on usage_counts below.
CREATE TABLE usage_peaks (
    span BIGINT NOT NULL CHECK (span IN (3600, 86400)),
    at BIGINT NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    pool TEXT COLLATE "C" NOT NULL CHECK (pool IN ('assignable', 'concurrent')),
    peak BIGINT NOT NULL,
    level BIGINT NOT NULL,
    PRIMARY KEY (span, key, pool, at)
);
CREATE INDEX usage_peaks_at ON usage_peaks(span, at);

-- Denials per hour and per day, key and reason (the refusal's kind).
CREATE TABLE usage_denials (
    span BIGINT NOT NULL CHECK (span IN (3600, 86400)),
    at BIGINT NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    reason TEXT COLLATE "C" NOT NULL,
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (span, key, reason, at)
);
CREATE INDEX usage_denials_at ON usage_denials(span, at);

-- The counts each loaded file granted, one snapshot per load (every key of the file).
CREATE TABLE usage_licensed (
    load_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    assigned BIGINT NOT NULL,
    pooled BIGINT NOT NULL,
    PRIMARY KEY (load_id, key)
);
CREATE INDEX usage_licensed_at ON usage_licensed(at);

-- A change of a usage counter raises the peak of its hour and its day (tx_time 0: no
-- allocator transaction, as while a store is copied in, records nothing).
CREATE FUNCTION usage_counts_peak() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    t BIGINT;
    before BIGINT;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.n = OLD.n THEN
            RETURN NEW;
        END IF;
        before := OLD.n;
    ELSE
        before := NEW.n;
    END IF;
    SELECT tx_time INTO t FROM history_state WHERE id = 1;
    IF t IS NULL OR t <= 0 THEN
        RETURN NEW;
    END IF;
    INSERT INTO usage_peaks (span, at, key, pool, peak, level)
        SELECT s.span, t - t % s.span, NEW.key, NEW.pool, GREATEST(before, NEW.n), NEW.n
        FROM (VALUES (3600::BIGINT), (86400::BIGINT)) AS s(span)
        ON CONFLICT (span, key, pool, at) DO UPDATE
            SET peak = GREATEST(usage_peaks.peak, excluded.peak), level = excluded.level;
    RETURN NEW;
END $$;
CREATE TRIGGER usage_counts_peak AFTER INSERT OR UPDATE OF n ON usage_counts
    FOR EACH ROW EXECUTE FUNCTION usage_counts_peak();
