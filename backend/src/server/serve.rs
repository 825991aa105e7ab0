//! The router made from the route list, and serving it.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;

use super::{api_routes, headers, json_errors, AppState};
use crate::access::{enforce, RouteGuard};

/// Logs go to standard error; `RUST_LOG` chooses what (default: info, with
/// the database driver's statement logging only for warnings).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal, plain text for log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Error answers that are not JSON yet (a wrong method, a path no route
/// has) become JSON `{code, message}`.
async fn json_errors_layer(request: Request, next: Next) -> Response {
    json_errors::with_json_body(next.run(request).await, None)
}

/// The whole app as a router, so tests can call it in process.
pub fn app(state: AppState) -> Router {
    let index = state.config.dist.join("index.html");
    let mut api = Router::new();
    for route in api_routes() {
        let guard = RouteGuard {
            state: state.clone(),
            access: route.access,
            body_limit: route.body_limit,
        };
        // The access check and the body limit come from the route list,
        // never from the handler.
        let handler = route
            .handler
            .route_layer(from_fn_with_state(guard, enforce))
            .layer(DefaultBodyLimit::max(route.body_limit));
        api = api.route(route.path, handler);
    }
    // An /api/ path that no route has is a JSON 404, not the app's page.
    api = api.route(
        "/api/{*rest}",
        any(|| async { json_errors::unknown_api_path() }),
    );
    // One line per API request: method, route template (never the concrete
    // path or query, which may carry IDs or searched names), status, latency.
    let request_log = TraceLayer::new_for_http()
        .make_span_with(|request: &axum::http::Request<axum::body::Body>| {
            let route = request
                .extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str)
                .unwrap_or("unmatched");
            tracing::info_span!("request", method = %request.method(), route)
        })
        .on_request(())
        .on_body_chunk(())
        .on_eos(())
        .on_response(
            DefaultOnResponse::new()
                .level(Level::INFO)
                .latency_unit(LatencyUnit::Millis),
        )
        .on_failure(DefaultOnFailure::new().latency_unit(LatencyUnit::Millis));
    api.layer(from_fn(json_errors_layer))
        .layer(request_log)
        .with_state(state.clone())
        .nest_service("/public", ServeDir::new(&state.config.public))
        // The app's own routes all load index.html; Leptos routes in the browser.
        .fallback_service(ServeDir::new(&state.config.dist).fallback(ServeFile::new(index)))
        .layer(from_fn(crate::embed::cors))
        .layer(from_fn_with_state(state, headers::add))
}

/// Waits for SIGTERM (what service managers and container runtimes send)
/// or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Listens on `bind` until SIGTERM or Ctrl-C; then stops accepting, lets
/// the requests in flight finish for up to `shutdown`, and returns. A
/// request still running then is dropped with the process, and its
/// transaction rolls back (a commit is written whole or not at all).
pub async fn serve(bind: &str, state: AppState, shutdown: Duration) -> anyhow::Result<()> {
    if !state.config.dist.join("index.html").exists() {
        anyhow::bail!(
            "{} has no index.html: build the browser app first (bash scripts/build-frontend.sh)",
            state.config.dist.display()
        );
    }
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    tracing::info!(
        "RosterGate is running at http://{}/ (SIGTERM or Ctrl-C stops it)",
        listener.local_addr()?
    );
    tokio::spawn(crate::db::sweep_expired_rows(state.pool.clone()));
    let stopping = Arc::new(tokio::sync::Notify::new());
    let signalled = stopping.clone();
    // The client's address, for the sign-in limit per IP address.
    let server = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        stop_signal().await;
        tracing::info!(
            "stopping: no new connections; requests in flight have {} s to finish",
            shutdown.as_secs()
        );
        signalled.notify_one();
    });
    tokio::select! {
        served = server => served?,
        _ = async {
            stopping.notified().await;
            tokio::time::sleep(shutdown).await;
        } => {
            tracing::warn!("stopping: the deadline passed; requests still in flight are dropped and roll back");
        }
    }
    tracing::info!("stopped");
    Ok(())
}
