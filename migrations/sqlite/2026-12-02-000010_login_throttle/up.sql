-- Failed logins are counted per (username, client address) and per client address; the
-- username is kept as a hash (a guess is not stored as typed, whatever its length).
DROP TABLE login_failures;
CREATE TABLE login_failures (
    id TEXT PRIMARY KEY,
    username_hash TEXT NOT NULL,
    client TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX login_failures_account_idx ON login_failures (username_hash, client, failed_at);
CREATE INDEX login_failures_client_idx ON login_failures (client, failed_at);

-- A login (a family of refresh tokens) ends at a fixed time however often it is refreshed.
ALTER TABLE refresh_tokens ADD COLUMN session_expires_at TEXT NOT NULL DEFAULT '';
UPDATE refresh_tokens SET session_expires_at = expires_at;
