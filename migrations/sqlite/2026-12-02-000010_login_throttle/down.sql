ALTER TABLE refresh_tokens DROP COLUMN session_expires_at;
DROP TABLE login_failures;
CREATE TABLE login_failures (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX login_failures_username_idx ON login_failures (username, failed_at);
