-- Districts, their schools (organizations) and the admins who sign in.
-- Integers are 64-bit and booleans 0/1 on both backends, so the same queries
-- read the same types from SQLite and PostgreSQL. Times are Unix seconds.

CREATE TABLE districts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- school_id is the SIS identifier that roster files use; NULL until an admin
-- sets it. Batch upload opens only when every school of the district has a
-- unique one (the activation gate).
CREATE TABLE schools (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    district_id BIGINT NOT NULL REFERENCES districts (id),
    school_id TEXT,
    name TEXT NOT NULL,
    low_grade TEXT,
    high_grade TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX schools_by_district ON schools (district_id);

-- email is stored in lower case; system_access and enrollment_access are 0/1.
CREATE TABLE admins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    district_id BIGINT NOT NULL REFERENCES districts (id),
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    system_access BIGINT NOT NULL,
    enrollment_access BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A signed-in browser: the cookie holds a random token, the table its hash.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    admin_id BIGINT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_admin ON sessions (admin_id);
