-- Schema 6: what the administrator sets per user and the ACD workgroups.
-- user_settings: a user's Enable Licenses (licensing) and its right to a dynamic remote logon
-- (Interaction Administrator's "User-defined Telephone Number on Remote Login"); no row is
-- the default, both on. user_kept_grants: the licenses of a user whose licensing is off,
-- kept as settings (not counted) until it is turned on again.
CREATE TABLE user_settings (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    licensing INTEGER NOT NULL DEFAULT 1 CHECK (licensing IN (0, 1)),
    remote_logon INTEGER NOT NULL DEFAULT 1 CHECK (remote_logon IN (0, 1))
);
CREATE TABLE user_kept_grants (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    explicit INTEGER NOT NULL CHECK (explicit IN (0, 1)),
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
-- ACD workgroups: the media types each routes (comma-separated, in the order given) and
-- their members.
CREATE TABLE workgroups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    media TEXT NOT NULL
);
CREATE TABLE workgroup_members (
    workgroup_id INTEGER NOT NULL REFERENCES workgroups(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (workgroup_id, user_id)
) WITHOUT ROWID;
CREATE INDEX workgroup_members_user ON workgroup_members(user_id);
