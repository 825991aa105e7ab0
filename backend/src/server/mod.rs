//! The web server: the browser app, the generated data dictionary and
//! templates, and the API (accounts, schools and the activation gate so far;
//! uploads and the roster arrive with their issues).

use std::path::PathBuf;
use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sqlx::AnyPool;
use tower_http::services::{ServeDir, ServeFile};

use crate::auth::{self, SignInLimiter};
use crate::{orgs, roster, uploads};

/// What the server needs to know; flags and environment fill it (see `cli`).
#[derive(Debug, Clone)]
pub struct Config {
    /// The built browser app (`trunk build` output).
    pub dist: PathBuf,
    /// Static files served as they are (data dictionary, templates).
    pub public: PathBuf,
    /// Mark the session cookie `Secure` (serve over HTTPS behind a proxy).
    pub secure_cookies: bool,
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub pool: AnyPool,
    pub config: Arc<Config>,
    pub sign_in_limiter: Arc<SignInLimiter>,
}

impl AppState {
    pub fn new(pool: AnyPool, config: Config) -> Self {
        AppState {
            pool,
            config: Arc::new(config),
            sign_in_limiter: Arc::new(SignInLimiter::default()),
        }
    }
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
}

async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// The whole app as a router, so tests can call it in process.
pub fn app(state: AppState) -> Router {
    let index = state.config.dist.join("index.html");
    let api = Router::new()
        .route("/api/health", get(health))
        .merge(auth::router())
        .merge(orgs::router())
        .merge(uploads::router())
        .merge(roster::router());
    api.with_state(state.clone())
        .nest_service("/public", ServeDir::new(&state.config.public))
        // The app's own routes all load index.html; Leptos routes in the browser.
        .fallback_service(ServeDir::new(&state.config.dist).fallback(ServeFile::new(index)))
}

/// Listens on `bind` until Ctrl-C.
pub async fn serve(bind: &str, state: AppState) -> anyhow::Result<()> {
    if !state.config.dist.join("index.html").exists() {
        anyhow::bail!(
            "{} has no index.html: build the browser app first (bash scripts/build-frontend.sh)",
            state.config.dist.display()
        );
    }
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    eprintln!(
        "RosterGate is running at http://{}/ (Ctrl-C stops it)",
        listener.local_addr()?
    );
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
