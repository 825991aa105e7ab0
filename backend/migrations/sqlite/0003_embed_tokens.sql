-- Embed tokens: a district's System-access admin lets another site (a
-- portal) embed the upload widget, or a script push files, without a
-- session. The token is shown once; the table keeps only its hash. A token
-- acts as the admin who created it, for the staged upload routes only.
-- Revoking keeps the row (revoked_at), so the list shows what was revoked.

CREATE TABLE embed_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    district_id BIGINT NOT NULL REFERENCES districts (id),
    created_by BIGINT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX embed_tokens_by_district ON embed_tokens (district_id);

-- The web origins (scheme://host[:port], lower case, no trailing slash) a
-- token may be used from; a request without an Origin header (a script,
-- `rostergate push`) needs none. One row per origin, so a CORS preflight
-- finds a live token listing its origin with one indexed look-up.
CREATE TABLE embed_token_origins (
    token_id BIGINT NOT NULL REFERENCES embed_tokens (id) ON DELETE CASCADE,
    origin TEXT NOT NULL,
    PRIMARY KEY (token_id, origin)
);
CREATE INDEX embed_token_origins_by_origin ON embed_token_origins (origin);
