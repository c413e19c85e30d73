-- Schema 3 to 4: a portal user's sessions_epoch, raised when the user is disabled or given a
-- new password, so that every session started before it ends for good.
ALTER TABLE portal_users ADD COLUMN sessions_epoch INTEGER NOT NULL DEFAULT 0;
