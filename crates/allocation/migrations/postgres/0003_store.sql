-- The allocation store on PostgreSQL, created at schema 3 (the schema the SQLite store
-- reaches with migrations 0001 to 0003): the same tables, columns, keys, checks and
-- counters. Text compares byte for byte (COLLATE "C", as SQLite's BINARY). The counters
-- an availability check reads (usage_counts, configured_counts) are kept by triggers, as
-- in SQLite.

CREATE TABLE license (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    file_id TEXT COLLATE "C" NOT NULL,
    product TEXT COLLATE "C" NOT NULL,
    lineage TEXT COLLATE "C" NOT NULL,
    generation BIGINT,
    issued_at TEXT COLLATE "C" NOT NULL,
    supersedes TEXT COLLATE "C",
    loaded_at BIGINT NOT NULL,
    signer_key TEXT COLLATE "C"
);
CREATE TABLE ceilings (
    key TEXT COLLATE "C" NOT NULL,
    pool TEXT COLLATE "C" NOT NULL CHECK (pool IN ('assignable', 'concurrent', 'organizations')),
    ceiling BIGINT NOT NULL,
    PRIMARY KEY (key, pool)
);
CREATE TABLE orgs (
    id BIGINT PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE
);
CREATE TABLE org_limits (
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE DEFERRABLE,
    key TEXT COLLATE "C" NOT NULL,
    min BIGINT NOT NULL CHECK (min >= 0),
    max BIGINT CHECK (max IS NULL OR max >= min),
    PRIMARY KEY (org_id, key)
);
CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    method TEXT COLLATE "C" NOT NULL CHECK (method IN ('assignable', 'concurrent')),
    org_id BIGINT REFERENCES orgs(id) DEFERRABLE
);
CREATE INDEX users_org ON users(org_id);
CREATE TABLE stations (
    id BIGINT PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('workstation', 'remote', 'phone', 'fax')),
    enabled BIGINT NOT NULL CHECK (enabled IN (0, 1))
);
CREATE TABLE user_grants (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE,
    key TEXT COLLATE "C" NOT NULL,
    explicit BIGINT NOT NULL CHECK (explicit IN (0, 1)),
    consumes BIGINT NOT NULL CHECK (consumes IN (0, 1)),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX user_grants_key ON user_grants(key);
CREATE TABLE station_grants (
    station_id BIGINT NOT NULL REFERENCES stations(id) ON DELETE CASCADE DEFERRABLE,
    key TEXT COLLATE "C" NOT NULL,
    explicit BIGINT NOT NULL CHECK (explicit IN (0, 1)),
    consumes BIGINT NOT NULL CHECK (consumes IN (0, 1)),
    PRIMARY KEY (station_id, key)
);
CREATE INDEX station_grants_key ON station_grants(key);
CREATE TABLE sessions (
    id TEXT COLLATE "C" PRIMARY KEY,
    user_id BIGINT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE DEFERRABLE,
    station_id BIGINT UNIQUE REFERENCES stations(id) ON DELETE CASCADE DEFERRABLE,
    remote_number TEXT COLLATE "C",
    lease BIGINT NOT NULL CHECK (lease > 0),
    started_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE TABLE session_licenses (
    session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions(id) ON DELETE CASCADE DEFERRABLE,
    key TEXT COLLATE "C" NOT NULL,
    pool TEXT COLLATE "C" NOT NULL CHECK (pool IN ('assignable', 'concurrent')),
    PRIMARY KEY (session_id, key)
);
CREATE INDEX session_licenses_key ON session_licenses(key);
CREATE INDEX org_limits_key ON org_limits(key);

-- What is consumed of each count (usage_counts) and what is configured (configured_counts),
-- kept by the triggers below so that an availability check is one lookup.
CREATE TABLE usage_counts (
    key TEXT COLLATE "C" NOT NULL,
    pool TEXT COLLATE "C" NOT NULL CHECK (pool IN ('assignable', 'concurrent')),
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (key, pool)
);
CREATE TABLE configured_counts (
    key TEXT COLLATE "C" NOT NULL,
    pool TEXT COLLATE "C" NOT NULL CHECK (pool IN ('assignable', 'concurrent')),
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (key, pool)
);

-- Add `d` to a counter (created at `d` when missing and `d` is positive: the row an
-- INSERT proposes is checked before its conflict is, so a negative one never is).
CREATE FUNCTION i3la_count(tbl TEXT, k TEXT, p TEXT, d BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    IF tbl = 'usage' THEN
        IF d >= 0 THEN
            INSERT INTO usage_counts (key, pool, n) VALUES (k, p, d)
                ON CONFLICT (key, pool) DO UPDATE SET n = usage_counts.n + d;
        ELSE
            UPDATE usage_counts SET n = n + d WHERE key = k AND pool = p;
        END IF;
    ELSE
        IF d >= 0 THEN
            INSERT INTO configured_counts (key, pool, n) VALUES (k, p, d)
                ON CONFLICT (key, pool) DO UPDATE SET n = configured_counts.n + d;
        ELSE
            UPDATE configured_counts SET n = n + d WHERE key = k AND pool = p;
        END IF;
    END IF;
END $$;

-- user_grants: a consuming grant counts as assignable use; every grant is configured, in
-- the assignable count when it consumes, else the concurrent one.
CREATE FUNCTION user_grants_count() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.consumes = 1 THEN
            PERFORM i3la_count('usage', NEW.key, 'assignable', 1);
        END IF;
        PERFORM i3la_count('configured', NEW.key,
            CASE NEW.consumes WHEN 1 THEN 'assignable' ELSE 'concurrent' END, 1);
        RETURN NEW;
    ELSE
        IF OLD.consumes = 1 THEN
            UPDATE usage_counts SET n = n - 1 WHERE key = OLD.key AND pool = 'assignable';
        END IF;
        UPDATE configured_counts SET n = n - 1
            WHERE key = OLD.key AND pool = CASE OLD.consumes WHEN 1 THEN 'assignable' ELSE 'concurrent' END;
        RETURN OLD;
    END IF;
END $$;
CREATE TRIGGER user_grants_count AFTER INSERT OR DELETE ON user_grants
    FOR EACH ROW EXECUTE FUNCTION user_grants_count();

-- station_grants: a consuming grant (the station's licensing on) counts in both.
CREATE FUNCTION station_grants_count() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.consumes = 1 THEN
            PERFORM i3la_count('usage', NEW.key, 'assignable', 1);
            PERFORM i3la_count('configured', NEW.key, 'assignable', 1);
        END IF;
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.consumes = 1 THEN
            UPDATE usage_counts SET n = n - 1 WHERE key = OLD.key AND pool = 'assignable';
            UPDATE configured_counts SET n = n - 1 WHERE key = OLD.key AND pool = 'assignable';
        END IF;
        RETURN OLD;
    ELSE
        IF NEW.consumes != OLD.consumes THEN
            PERFORM i3la_count('usage', NEW.key, 'assignable', NEW.consumes - OLD.consumes);
            PERFORM i3la_count('configured', NEW.key, 'assignable', NEW.consumes - OLD.consumes);
        END IF;
        RETURN NEW;
    END IF;
END $$;
CREATE TRIGGER station_grants_count AFTER INSERT OR DELETE OR UPDATE OF consumes ON station_grants
    FOR EACH ROW EXECUTE FUNCTION station_grants_count();

-- A station's licensing turned on or off: its grants consume or not.
CREATE FUNCTION stations_enabled() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.enabled != OLD.enabled THEN
        UPDATE station_grants SET consumes = NEW.enabled WHERE station_id = NEW.id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER stations_enabled AFTER UPDATE OF enabled ON stations
    FOR EACH ROW EXECUTE FUNCTION stations_enabled();

-- The licenses of sessions not yet purged count as used.
CREATE FUNCTION session_licenses_count() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM i3la_count('usage', NEW.key, NEW.pool, 1);
        RETURN NEW;
    ELSE
        UPDATE usage_counts SET n = n - 1 WHERE key = OLD.key AND pool = OLD.pool;
        RETURN OLD;
    END IF;
END $$;
CREATE TRIGGER session_licenses_count AFTER INSERT OR DELETE ON session_licenses
    FOR EACH ROW EXECUTE FUNCTION session_licenses_count();

-- The store's identity and history (schema 3).
CREATE TABLE store_hosts (
    code TEXT COLLATE "C" PRIMARY KEY
);
CREATE TABLE store_keys (
    key_id TEXT COLLATE "C" PRIMARY KEY,
    public_key TEXT COLLATE "C" NOT NULL
);
CREATE TABLE store_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    latest_seen BIGINT NOT NULL CHECK (latest_seen >= 0),
    newest_file TEXT COLLATE "C",
    newest_issued_at TEXT COLLATE "C"
);
CREATE TABLE lineages (
    lineage TEXT COLLATE "C" PRIMARY KEY,
    generation BIGINT NOT NULL CHECK (generation >= 1),
    file_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL
);
CREATE TABLE superseded (
    file_id TEXT COLLATE "C" PRIMARY KEY,
    seq BIGINT NOT NULL
);
CREATE TABLE admin_log (
    id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    detail TEXT COLLATE "C" NOT NULL
);
INSERT INTO store_state (id, latest_seen, newest_file, newest_issued_at) VALUES (1, 0, NULL, NULL);
