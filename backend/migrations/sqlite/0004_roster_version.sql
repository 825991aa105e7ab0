-- A counter every writer of a district's roster bumps in its transaction
-- (uploads, portal edits of users, school edits): a preview's plan may be
-- committed as it is only while the counter still has the value the
-- preview read; otherwise the commit plans again.
ALTER TABLE districts ADD COLUMN roster_version BIGINT NOT NULL DEFAULT 0;
