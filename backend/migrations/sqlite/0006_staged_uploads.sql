-- Staged uploads live in the database, so that any server process answers
-- any request of any upload and a restart loses nothing. Only the clean,
-- normalized files the browser, the widget or `rostergate push` send are
-- stored (never rows with errors), as the gzip parts arrived, and never
-- longer than the upload lives: a commit, a cancel or the sweeper deletes
-- them.

-- One upload. owner_kind/owner_id: the admin, embed token or upload
-- session that started it (nobody else may see it); admin_id: whom it acts
-- as. state: receiving (parts arriving), previewed (the input has ended),
-- committed (parts deleted; history_id names the history entry, for a
-- client that lost the commit's answer). Times are Unix seconds, but
-- created_at is in milliseconds (to order uploads started in one second);
-- expires_at moves 30 minutes past every request.
CREATE TABLE staged_uploads (
    id TEXT PRIMARY KEY,
    district_id BIGINT NOT NULL REFERENCES districts (id),
    admin_id BIGINT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    owner_kind TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    mode TEXT NOT NULL,
    state TEXT NOT NULL,
    users_parts BIGINT NOT NULL DEFAULT 0,
    users_bytes BIGINT NOT NULL DEFAULT 0,
    demographics_parts BIGINT NOT NULL DEFAULT 0,
    demographics_bytes BIGINT NOT NULL DEFAULT 0,
    history_id BIGINT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX staged_uploads_by_district ON staged_uploads (district_id, last_used_at);
CREATE INDEX staged_uploads_by_expiry ON staged_uploads (expires_at);

-- The parts of an upload's files, as received (gzip, or plain when sent
-- so); decompressed_bytes is what they hold once decompressed.
CREATE TABLE staged_parts (
    upload_id TEXT NOT NULL REFERENCES staged_uploads (id) ON DELETE CASCADE,
    file TEXT NOT NULL,
    n BIGINT NOT NULL,
    gzip BIGINT NOT NULL,
    decompressed_bytes BIGINT NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (upload_id, file, n)
);

-- One row per district, locked while one of its uploads is created, so
-- that the per-district cap holds across processes. (Not the district's
-- own row: a long commit holds that one.)
CREATE TABLE staged_upload_locks (
    district_id BIGINT PRIMARY KEY REFERENCES districts (id)
);

-- The sign-in limits and upload sessions are rows already (0005).
