
CREATE TABLE configured_counts (
    key TEXT NOT NULL,
    pool TEXT NOT NULL CHECK (pool IN ('assignable', 'concurrent')),
    n INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (key, pool)
) WITHOUT ROWID;
CREATE TRIGGER user_grants_cfg_ins AFTER INSERT ON user_grants BEGIN
    INSERT INTO configured_counts (key, pool, n)
        VALUES (NEW.key, CASE NEW.consumes WHEN 1 THEN 'assignable' ELSE 'concurrent' END, 1)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER user_grants_cfg_del AFTER DELETE ON user_grants BEGIN
    UPDATE configured_counts SET n = n - 1
        WHERE key = OLD.key AND pool = CASE OLD.consumes WHEN 1 THEN 'assignable' ELSE 'concurrent' END;
END;
CREATE TRIGGER station_grants_cfg_ins AFTER INSERT ON station_grants WHEN NEW.consumes = 1 BEGIN
    INSERT INTO configured_counts (key, pool, n) VALUES (NEW.key, 'assignable', 1)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER station_grants_cfg_del AFTER DELETE ON station_grants WHEN OLD.consumes = 1 BEGIN
    UPDATE configured_counts SET n = n - 1 WHERE key = OLD.key AND pool = 'assignable';
END;
CREATE TRIGGER station_grants_cfg_upd AFTER UPDATE OF consumes ON station_grants
    WHEN NEW.consumes != OLD.consumes BEGIN
    INSERT INTO configured_counts (key, pool, n) VALUES (NEW.key, 'assignable', NEW.consumes)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + NEW.consumes - OLD.consumes;
END;
INSERT INTO configured_counts (key, pool, n)
    SELECT key, pool, COUNT(*) FROM (
        SELECT key, CASE consumes WHEN 1 THEN 'assignable' ELSE 'concurrent' END AS pool FROM user_grants
        UNION ALL SELECT key, 'assignable' FROM station_grants WHERE consumes = 1)
    GROUP BY key, pool;
