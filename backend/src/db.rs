//! The database: SQLite by default (a file, no setup), PostgreSQL for scale.
//! One pool type (`sqlx::AnyPool`) and one set of queries serve both: every
//! query uses `$1`-style placeholders, which both drivers accept, and the
//! schemas keep to types both read the same way (BIGINT, TEXT, 0/1 flags).
//! Migrations are kept per backend, as commented SQL never edited once applied.
//!
//! Reading a whole roster (a million rows) is the one place where the `Any`
//! driver's cost per row shows: it converts every row and value once more.
//! There a [`TypedPool`] beside the `Any` pool reads the same database
//! through its own driver, with the same SQL text.

use std::path::Path;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{Any, AnyPool, Executor, Row};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which server a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!("unsupported database URL (use sqlite:// or postgres://): {url}")
        }
    }
}

/// The default database: a SQLite file under ./data/, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/rostergate.db";

/// How long a SQLite writer waits for the lock that another holds: longer
/// than the largest commit (a million-row upload takes seconds), so a
/// sign-in or a portal edit during a commit waits instead of failing. A
/// request still refused answers 503 with Retry-After (`ApiError::Busy`).
pub const SQLITE_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// SQLite's settings, the same on every connection of both pools: a
/// write-ahead log (readers do not wait for the writer, and a commit
/// appends instead of rewriting pages twice); with it, NORMAL syncs at
/// checkpoints, not every commit (still consistent after a crash; the last
/// commits may only be lost on a power cut); and the busy timeout.
fn sqlite_pragmas() -> [(&'static str, String); 3] {
    [
        ("journal_mode", "WAL".to_string()),
        ("synchronous", "NORMAL".to_string()),
        ("busy_timeout", SQLITE_BUSY_TIMEOUT.as_millis().to_string()),
    ]
}

/// Opens the pool (creating a SQLite file and its folder if missing) and
/// brings the schema up to date.
pub async fn connect(url: &str) -> anyhow::Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of(url)?;
    let mut url = url.to_string();
    if backend == Backend::Sqlite {
        if let Some(path) = sqlite_path(&url) {
            if let Some(parent) = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
        }
        if !url.contains("mode=") {
            url.push_str(if url.contains('?') {
                "&mode=rwc"
            } else {
                "?mode=rwc"
            });
        }
    }
    let options = AnyConnectOptions::from_str(&url).context("invalid database URL")?;
    let pool = AnyPoolOptions::new()
        // SQLite takes one writer at a time; more connections only wait.
        .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
        .after_connect(move |connection, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    let pragmas: String = sqlite_pragmas()
                        .iter()
                        .map(|(name, value)| format!("PRAGMA {name} = {value}; "))
                        .collect();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(pragmas))
                        .execute(connection)
                        .await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the database {}", redact(&url)))?;
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator
        .run(&pool)
        .await
        .context("database migrations failed")?;
    Ok(pool)
}

/// The database of an `Any` pool through its own driver, for bulk reads.
#[derive(Debug, Clone)]
pub enum TypedPool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl TypedPool {
    /// A second, small pool on the database `any` is connected to (opened
    /// on first use), with the same SQLite settings (`sqlite_pragmas`).
    pub fn beside(any: &AnyPool) -> anyhow::Result<TypedPool> {
        let url = any.connect_options().database_url.to_string();
        // Loading a roster reads on one connection; a second serves
        // another district's upload meanwhile.
        let max_connections = 2;
        Ok(match Backend::of(&url)? {
            Backend::Sqlite => {
                let mut options = SqliteConnectOptions::from_str(&url)
                    .context("invalid database URL")?
                    // SQLite runs on its own thread and hands rows over in
                    // batches of this size: fewer hand-offs per large read.
                    .row_buffer_size(4096);
                for (name, value) in sqlite_pragmas() {
                    options = options.pragma(name, value);
                }
                TypedPool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(max_connections)
                        .connect_lazy_with(options),
                )
            }
            Backend::Postgres => TypedPool::Postgres(
                PgPoolOptions::new()
                    .max_connections(max_connections)
                    .connect_lazy(&url)
                    .context("invalid database URL")?,
            ),
        })
    }
}

/// The version of a district's roster: every writer of the roster bumps it
/// in its own transaction (migration 0004), so a plan made at one version
/// is still right while the version has not moved.
pub const ROSTER_VERSION_QUERY: &str = "SELECT roster_version FROM districts WHERE id = $1";

pub async fn roster_version<'c>(
    executor: impl Executor<'c, Database = Any>,
    district_id: i64,
) -> sqlx::Result<i64> {
    sqlx::query(ROSTER_VERSION_QUERY)
        .bind(district_id)
        .fetch_one(executor)
        .await?
        .try_get(0)
}

/// Marks the district's roster as changed. Call it in the transaction of
/// the change (a portal edit, a school edit), before the change itself:
/// every writer then locks the district's row first, so two writers never
/// wait for each other's rows in opposite order (a PostgreSQL deadlock).
pub async fn roster_changed<'c>(
    executor: impl Executor<'c, Database = Any>,
    district_id: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE districts SET roster_version = roster_version + 1 WHERE id = $1")
        .bind(district_id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Marks the district's roster as changed if it is still at `version`;
/// false when another writer came first (then a plan made at `version`
/// may be stale). It also takes the row's lock, so writers of one district
/// commit one after the other.
pub async fn roster_changed_from<'c>(
    executor: impl Executor<'c, Database = Any>,
    district_id: i64,
    version: i64,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE districts SET roster_version = roster_version + 1 WHERE id = $1 AND roster_version = $2",
    )
    .bind(district_id)
    .bind(version)
    .execute(executor)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// How often the server deletes what has expired.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Deletes expired rows (admin sessions, upload sessions, sign-in counts
/// whose window has passed, staged uploads and their parts) every minute,
/// for as long as the server runs.
/// Safe with several server processes on one database: each statement
/// deletes what is expired, whoever runs it first.
pub async fn sweep_expired_rows(pool: AnyPool) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    loop {
        every.tick().await;
        let now = now();
        let statements: [(&str, i64); 3] = [
            ("DELETE FROM sessions WHERE expires_at <= $1", now),
            ("DELETE FROM embed_sessions WHERE expires_at <= $1", now),
            (
                "DELETE FROM sign_in_limits WHERE window_start <= $1",
                now - crate::auth::SIGN_IN_WINDOW_SECONDS,
            ),
        ];
        for (statement, bound) in statements {
            if let Err(error) = sqlx::query(statement).bind(bound).execute(&pool).await {
                tracing::warn!("sweeping expired rows: {error}");
            }
        }
        if let Err(error) = crate::uploads::staged::rows::sweep(&pool).await {
            tracing::warn!("sweeping expired staged uploads: {error}");
        }
    }
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Unix seconds now.
pub fn now() -> i64 {
    now_millis() / 1000
}

/// Unix milliseconds now, where seconds are too coarse to order two events.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(Backend::of("sqlite://data/x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::of("postgres://u:p@h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::of("mysql://h/db").is_err());
        assert_eq!(
            sqlite_path("sqlite://data/x.db?mode=rwc"),
            Some("data/x.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(
            redact("postgres://user:secret@host/db"),
            "postgres://user:***@host/db"
        );
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
