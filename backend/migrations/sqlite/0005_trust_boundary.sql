-- The trust boundary between RosterGate and the sites that embed it.

-- Removals (full sync, rows with an action, confirming a safety hold) are
-- opt-in per embed token: off unless the admin who creates it turns it on.
ALTER TABLE embed_tokens ADD COLUMN allow_removals BIGINT NOT NULL DEFAULT 0;

-- Upload sessions: a host site's server mints one with its embed token for
-- one person's page. It works on the staged upload routes only, from its
-- one origin, for one upload, until it expires. The table keeps its hash.
CREATE TABLE embed_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_id BIGINT NOT NULL REFERENCES embed_tokens (id) ON DELETE CASCADE,
    session_hash TEXT NOT NULL UNIQUE,
    origin TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- The staged upload it started, once it has (its one upload).
    staged_upload TEXT
);
CREATE INDEX embed_sessions_by_expiry ON embed_sessions (expires_at);

-- Sign-in attempts per key (an email address, or "ip " and a client
-- address) in the window that began at window_start (Unix seconds). An
-- attempt is counted before its password is checked, in one statement, so
-- parallel attempts cannot pass the limit; a success takes its count back.
CREATE TABLE sign_in_limits (
    limit_key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    attempts BIGINT NOT NULL
);
CREATE INDEX sign_in_limits_by_window ON sign_in_limits (window_start);

-- The history records every use of an embed token or upload session, not
-- only commits: credential names it (NULL for an admin's own session) and
-- status says what it did: committed, previewed, or session-created (then
-- file_name holds the session's origin and the counts are zero).
ALTER TABLE uploads ADD COLUMN credential TEXT;
ALTER TABLE uploads ADD COLUMN embed_token_id BIGINT REFERENCES embed_tokens (id) ON DELETE SET NULL;
