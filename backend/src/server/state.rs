//! What every handler shares: the database pools, the configuration and
//! the response headers made once at start.

use std::path::PathBuf;
use std::sync::Arc;

use sqlx::AnyPool;

use super::headers::SecurityHeaders;
use crate::db::TypedPool;
use crate::uploads::rosters::RosterCache;
use crate::uploads::staged::StagedCache;

/// The spec's default row limit per file (`--max-rows`).
pub const DEFAULT_MAX_ROWS: u64 = 2_000_000;

/// What the server needs to know; flags and environment fill it (see `cli`).
#[derive(Debug, Clone)]
pub struct Config {
    /// The built browser app (`trunk build` output).
    pub dist: PathBuf,
    /// Static files served as they are (data dictionary, templates).
    pub public: PathBuf,
    /// Mark the session cookie `Secure` and send HSTS (served over HTTPS
    /// behind a proxy).
    pub secure_cookies: bool,
    /// Data rows a users.csv or demographics.csv of one upload may have.
    pub max_rows: u64,
}

impl Config {
    /// A configuration with the defaults for everything but the folders.
    pub fn new(dist: PathBuf, public: PathBuf) -> Self {
        Config {
            dist,
            public,
            secure_cookies: false,
            max_rows: DEFAULT_MAX_ROWS,
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub pool: AnyPool,
    /// The same database through its own driver, for loading whole rosters.
    pub typed_pool: TypedPool,
    pub config: Arc<Config>,
    /// What this process keeps of the staged uploads it read (their
    /// validated files and last plan); the uploads themselves are rows.
    pub staged: Arc<StagedCache>,
    /// The districts' rosters this process last read or wrote, each valid
    /// while the district's roster version is unchanged.
    pub rosters: Arc<RosterCache>,
    /// The headers every response gets (the CSP hashes `dist/index.html`'s
    /// inline scripts, read once here).
    pub security_headers: Arc<SecurityHeaders>,
    /// Password hashing runs on blocking threads, this many at a time: a
    /// burst of sign-ins waits here instead of taking every core.
    pub password_hashing: Arc<tokio::sync::Semaphore>,
}

/// Passwords checked at once (each takes a core for tens of milliseconds).
const PASSWORD_HASHING_PERMITS: usize = 2;

impl AppState {
    pub fn new(pool: AnyPool, config: Config) -> anyhow::Result<Self> {
        Ok(AppState {
            typed_pool: TypedPool::beside(&pool)?,
            security_headers: Arc::new(SecurityHeaders::new(&config)?),
            pool,
            config: Arc::new(config),
            staged: Arc::new(StagedCache::default()),
            rosters: Arc::new(RosterCache::default()),
            password_hashing: Arc::new(tokio::sync::Semaphore::new(PASSWORD_HASHING_PERMITS)),
        })
    }
}
