
CREATE TABLE license (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    file_id TEXT NOT NULL,
    product TEXT NOT NULL,
    lineage TEXT NOT NULL,
    generation INTEGER,
    issued_at TEXT NOT NULL,
    supersedes TEXT,
    loaded_at INTEGER NOT NULL
);
CREATE TABLE ceilings (
    key TEXT NOT NULL,
    pool TEXT NOT NULL CHECK (pool IN ('assignable', 'concurrent', 'organizations')),
    ceiling INTEGER NOT NULL,
    PRIMARY KEY (key, pool)
) WITHOUT ROWID;
CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE org_limits (
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    min INTEGER NOT NULL CHECK (min >= 0),
    max INTEGER CHECK (max IS NULL OR max >= min),
    PRIMARY KEY (org_id, key)
) WITHOUT ROWID;
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    method TEXT NOT NULL CHECK (method IN ('assignable', 'concurrent')),
    org_id INTEGER REFERENCES orgs(id)
);
CREATE INDEX users_org ON users(org_id);
CREATE TABLE stations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('workstation', 'remote', 'phone', 'fax')),
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1))
);
CREATE TABLE user_grants (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    explicit INTEGER NOT NULL CHECK (explicit IN (0, 1)),
    consumes INTEGER NOT NULL CHECK (consumes IN (0, 1)),
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE INDEX user_grants_key ON user_grants(key);
CREATE TABLE station_grants (
    station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    explicit INTEGER NOT NULL CHECK (explicit IN (0, 1)),
    consumes INTEGER NOT NULL CHECK (consumes IN (0, 1)),
    PRIMARY KEY (station_id, key)
) WITHOUT ROWID;
CREATE INDEX station_grants_key ON station_grants(key);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    station_id INTEGER UNIQUE REFERENCES stations(id) ON DELETE CASCADE,
    remote_number TEXT,
    lease INTEGER NOT NULL CHECK (lease > 0),
    started_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE TABLE session_licenses (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    pool TEXT NOT NULL CHECK (pool IN ('assignable', 'concurrent')),
    PRIMARY KEY (session_id, key)
) WITHOUT ROWID;
CREATE INDEX session_licenses_key ON session_licenses(key);
CREATE INDEX org_limits_key ON org_limits(key);
-- What is consumed of each count, kept by triggers so that an availability check is one
-- lookup: grants that consume (assignable users, stations with licensing enabled) and the
-- licenses of sessions not yet purged (every change purges lapsed sessions first).
CREATE TABLE usage_counts (
    key TEXT NOT NULL,
    pool TEXT NOT NULL CHECK (pool IN ('assignable', 'concurrent')),
    n INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (key, pool)
) WITHOUT ROWID;
CREATE TRIGGER user_grants_ins AFTER INSERT ON user_grants WHEN NEW.consumes = 1 BEGIN
    INSERT INTO usage_counts (key, pool, n) VALUES (NEW.key, 'assignable', 1)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER user_grants_del AFTER DELETE ON user_grants WHEN OLD.consumes = 1 BEGIN
    UPDATE usage_counts SET n = n - 1 WHERE key = OLD.key AND pool = 'assignable';
END;
CREATE TRIGGER station_grants_ins AFTER INSERT ON station_grants WHEN NEW.consumes = 1 BEGIN
    INSERT INTO usage_counts (key, pool, n) VALUES (NEW.key, 'assignable', 1)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER station_grants_del AFTER DELETE ON station_grants WHEN OLD.consumes = 1 BEGIN
    UPDATE usage_counts SET n = n - 1 WHERE key = OLD.key AND pool = 'assignable';
END;
CREATE TRIGGER station_grants_upd AFTER UPDATE OF consumes ON station_grants
    WHEN NEW.consumes != OLD.consumes BEGIN
    INSERT INTO usage_counts (key, pool, n) VALUES (NEW.key, 'assignable', NEW.consumes)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + NEW.consumes - OLD.consumes;
END;
CREATE TRIGGER stations_enabled AFTER UPDATE OF enabled ON stations
    WHEN NEW.enabled != OLD.enabled BEGIN
    UPDATE station_grants SET consumes = NEW.enabled WHERE station_id = NEW.id;
END;
CREATE TRIGGER session_licenses_ins AFTER INSERT ON session_licenses BEGIN
    INSERT INTO usage_counts (key, pool, n) VALUES (NEW.key, NEW.pool, 1)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER session_licenses_del AFTER DELETE ON session_licenses BEGIN
    UPDATE usage_counts SET n = n - 1 WHERE key = OLD.key AND pool = OLD.pool;
END;
