-- Keys integration scripts authenticate with, each acting as one user: the key is shown
-- once; a keyed hash of its secret is kept, and the prefix finds it.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    prefix TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    expires_on DATE,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    revoked_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX api_keys_created_idx ON api_keys (created_at, id);
