-- Schema 6: what the administrator sets per user and the ACD workgroups (as SQLite's).
-- user_settings: a user's Enable Licenses (licensing) and its right to a dynamic remote logon
-- (Interaction Administrator's "User-defined Telephone Number on Remote Login"); no row is
-- the default, both on. user_kept_grants: the licenses of a user whose licensing is off,
-- kept as settings (not counted) until it is turned on again.
CREATE TABLE user_settings (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE DEFERRABLE,
    licensing BIGINT NOT NULL DEFAULT 1 CHECK (licensing IN (0, 1)),
    remote_logon BIGINT NOT NULL DEFAULT 1 CHECK (remote_logon IN (0, 1))
);
CREATE TABLE user_kept_grants (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE,
    key TEXT COLLATE "C" NOT NULL,
    explicit BIGINT NOT NULL CHECK (explicit IN (0, 1)),
    PRIMARY KEY (user_id, key)
);
-- ACD workgroups: the media types each routes (comma-separated, in the order given) and
-- their members.
CREATE TABLE workgroups (
    id BIGINT PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    media TEXT COLLATE "C" NOT NULL
);
CREATE TABLE workgroup_members (
    workgroup_id BIGINT NOT NULL REFERENCES workgroups(id) ON DELETE CASCADE DEFERRABLE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE,
    PRIMARY KEY (workgroup_id, user_id)
);
CREATE INDEX workgroup_members_user ON workgroup_members(user_id);
