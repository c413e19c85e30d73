-- Schema 8 to 9: an index on the production file a disaster-recovery file belongs to. Every
-- deactivation and update looks up the production file's active recovery files; without it
-- that lookup read the whole files table, so deactivating took longer as the ledger grew.
CREATE INDEX files_related_production ON files (related_production);
