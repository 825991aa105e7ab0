-- The stored roster of each district, and the history of uploads.
-- Removals are soft: `active` = 0 keeps the row and its history, and a later
-- upload that lists it again makes it active.

CREATE TABLE roster_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    district_id BIGINT NOT NULL REFERENCES districts (id),
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    grade TEXT,
    district_user_id TEXT,
    state_id TEXT,
    active BIGINT NOT NULL,
    -- When an upload last changed the user, and when an admin last edited
    -- them in the portal, in Unix milliseconds (both can fall in one second):
    -- an upload that would overwrite a newer edit is flagged.
    uploaded_at BIGINT,
    edited_at BIGINT,
    UNIQUE (district_id, user_id)
);
CREATE INDEX roster_users_by_email ON roster_users (district_id, email);

CREATE TABLE roster_user_schools (
    user_ref BIGINT NOT NULL REFERENCES roster_users (id),
    school_ref BIGINT NOT NULL REFERENCES schools (id),
    PRIMARY KEY (user_ref, school_ref)
);

CREATE TABLE roster_classes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    district_id BIGINT NOT NULL REFERENCES districts (id),
    class_id TEXT NOT NULL,
    school_ref BIGINT NOT NULL REFERENCES schools (id),
    name TEXT NOT NULL,
    grade TEXT NOT NULL,
    display_name TEXT,
    active BIGINT NOT NULL,
    UNIQUE (district_id, class_id)
);

-- primary_teacher: NULL for students, 0/1 for teachers.
CREATE TABLE roster_enrollments (
    user_ref BIGINT NOT NULL REFERENCES roster_users (id),
    class_ref BIGINT NOT NULL REFERENCES roster_classes (id),
    primary_teacher BIGINT,
    active BIGINT NOT NULL,
    PRIMARY KEY (user_ref, class_ref)
);
CREATE INDEX roster_enrollments_by_class ON roster_enrollments (class_ref);

-- One row per student: the demographics columns as a JSON object of
-- header name to canonical value.
CREATE TABLE roster_demographics (
    user_ref BIGINT PRIMARY KEY REFERENCES roster_users (id),
    values_json TEXT NOT NULL
);

-- Raw files are never stored: only who, when, what, and the outcome.
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    district_id BIGINT NOT NULL REFERENCES districts (id),
    admin_id BIGINT NOT NULL REFERENCES admins (id),
    file_name TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    counts_json TEXT NOT NULL,
    findings_json TEXT NOT NULL
);
CREATE INDEX uploads_by_district ON uploads (district_id, created_at);
