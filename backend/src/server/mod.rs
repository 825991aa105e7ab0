//! The web server: the browser app, the generated data dictionary and
//! templates, and the API (accounts, schools and the activation gate so far;
//! uploads and the roster arrive with their issues).

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::MatchedPath;
use axum::http::Method;
use axum::routing::{get, MethodRouter};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::AnyPool;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;

use crate::auth::{self, SignInLimiter};
use crate::db::TypedPool;
use crate::uploads::staged::StagedUploads;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Any signed-in admin.
    Session,
    /// System access or Enrollment access.
    AnyPermission,
    /// Both System access and Enrollment access.
    BothPermissions,
    /// System access.
    SystemAccess,
    /// A session with both permissions, or an embed token (`embed.rs`).
    EmbedToken,
}

impl Access {
    fn describe(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::Session => "a session",
            Access::AnyPermission => "System access or Enrollment access",
            Access::BothPermissions => "System access and Enrollment access",
            Access::SystemAccess => "System access",
            Access::EmbedToken => {
                "System access and Enrollment access, or an embed token (Authorization: Bearer)"
            }
        }
    }
}

/// One API route: the router and the OpenAPI document are both made from
/// the list of these, so neither can forget a route.
pub struct ApiRoute {
    pub method: Method,
    pub path: &'static str,
    pub handler: MethodRouter<AppState>,
    pub access: Access,
    pub summary: &'static str,
}

impl ApiRoute {
    pub fn new(
        method: Method,
        path: &'static str,
        handler: MethodRouter<AppState>,
        access: Access,
        summary: &'static str,
    ) -> Self {
        ApiRoute {
            method,
            path,
            handler,
            access,
            summary,
        }
    }
}

/// Every API route.
pub fn api_routes() -> Vec<ApiRoute> {
    let mut routes = vec![
        ApiRoute::new(
            Method::GET,
            "/api/health",
            get(health),
            Access::Public,
            "Health check",
        ),
        ApiRoute::new(
            Method::GET,
            "/api/openapi.json",
            get(openapi),
            Access::Public,
            "This document",
        ),
    ];
    routes.extend(auth::routes());
    routes.extend(orgs::routes());
    routes.extend(uploads::routes());
    routes.extend(roster::routes());
    routes.extend(crate::embed::routes());
    routes
}

/// The OpenAPI 3.1 document of the API, made from `api_routes`.
pub fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    for route in api_routes() {
        let parameters: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut operation = json!({
            "summary": route.summary,
            "operationId": format!("{} {}", route.method, route.path),
            "x-access": route.access.describe(),
            "responses": {
                "200": {"description": "OK"},
                "4XX": {"description": "JSON {code, message}", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if route.access == Access::EmbedToken {
            operation["security"] = json!([{"session": []}, {"embedToken": []}]);
        } else if route.access != Access::Public {
            operation["security"] = json!([{"session": []}]);
        }
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        entry[route.method.as_str().to_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "RosterGate API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": auth::SESSION_COOKIE,
                            "description": "Requests that change state also need the X-CSRF-Token header."},
                "embedToken": {"type": "http", "scheme": "bearer",
                               "description": "An embed token (POST /api/embed/tokens); staged upload routes only."}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message"],
                          "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}
            }
        }
    })
}

async fn openapi() -> Json<Value> {
    Json(openapi_document())
}
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
    /// The same database through its own driver, for loading whole rosters.
    pub typed_pool: TypedPool,
    pub config: Arc<Config>,
    pub sign_in_limiter: Arc<SignInLimiter>,
    /// Uploads whose files are arriving in parts.
    pub staged: Arc<StagedUploads>,
}

impl AppState {
    pub fn new(pool: AnyPool, config: Config) -> anyhow::Result<Self> {
        Ok(AppState {
            typed_pool: TypedPool::beside(&pool)?,
            pool,
            config: Arc::new(config),
            sign_in_limiter: Arc::new(SignInLimiter::default()),
            staged: Arc::new(StagedUploads::default()),
        })
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

/// The whole app as a router, so tests can call it in process.
pub fn app(state: AppState) -> Router {
    let index = state.config.dist.join("index.html");
    let mut api = Router::new();
    for route in api_routes() {
        api = api.route(route.path, route.handler);
    }
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
    api.layer(request_log)
        .with_state(state.clone())
        .nest_service("/public", ServeDir::new(&state.config.public))
        // The app's own routes all load index.html; Leptos routes in the browser.
        .fallback_service(ServeDir::new(&state.config.dist).fallback(ServeFile::new(index)))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::embed::cors,
        ))
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
    tracing::info!(
        "RosterGate is running at http://{}/ (Ctrl-C stops it)",
        listener.local_addr()?
    );
    // The client's address, for the sign-in limit per IP address.
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
