//! The web server. For now it serves the browser app (which validates files
//! locally), the generated data dictionary and templates, and a health check;
//! uploads, the roster and accounts arrive with the server issue.

use std::path::{Path, PathBuf};

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tower_http::services::{ServeDir, ServeFile};

/// What the server needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// The built browser app (`trunk build` output).
    pub dist: PathBuf,
    /// Static files served as they are (data dictionary, templates).
    pub public: PathBuf,
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
pub fn app(config: &Config) -> Router {
    let index = config.dist.join("index.html");
    Router::new()
        .route("/api/health", get(health))
        .nest_service("/public", ServeDir::new(&config.public))
        // The app's own routes all load index.html; Leptos routes in the browser.
        .fallback_service(ServeDir::new(&config.dist).fallback(ServeFile::new(index)))
}

/// Listens on `bind` until Ctrl-C.
pub async fn serve(bind: &str, config: Config) -> anyhow::Result<()> {
    if !Path::new(&config.dist).join("index.html").exists() {
        anyhow::bail!(
            "{} has no index.html: build the browser app first (bash scripts/build-frontend.sh)",
            config.dist.display()
        );
    }
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    eprintln!(
        "RosterGate is running at http://{}/ (Ctrl-C stops it)",
        listener.local_addr()?
    );
    axum::serve(listener, app(&config))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
