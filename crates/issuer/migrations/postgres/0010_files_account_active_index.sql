-- Schema 9 to 10: an index on an account's files by whether they are active. Activation File
-- Activity lists active files by default (Active: Yes); with only files_account, its count
-- and its page read every file row of the account to test `active`, where this index
-- answers the count by itself and gives the page's rows in order.
CREATE INDEX files_account_active ON files (account_id, active, generated_at);
