//! The one list of API routes: the router and the OpenAPI document are both
//! made from it, so neither can forget a route, and each route's access and
//! body limit are enforced from it (`access::enforce`).

use axum::http::Method;
use axum::routing::{get, MethodRouter};
use axum::Json;
use serde_json::{json, Value};
use shared::api::Health;

use super::AppState;
use crate::access::Access;
use crate::{auth, embed, orgs, roster, uploads};

/// The largest request body of a route that names no other limit.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// One API route.
pub struct ApiRoute {
    pub method: Method,
    pub path: &'static str,
    pub handler: MethodRouter<AppState>,
    pub access: Access,
    pub summary: &'static str,
    /// The largest request body it takes, in bytes (413 beyond).
    pub body_limit: usize,
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
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// Takes bodies of up to `bytes`.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
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
    routes.extend(embed::routes());
    routes
}

async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

async fn openapi() -> Json<Value> {
    Json(openapi_document())
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
            "x-body-limit-bytes": route.body_limit,
            "responses": {
                "200": {"description": "OK"},
                "4XX": {"description": "JSON {code, message}", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        let security = match route.access {
            Access::Public => None,
            Access::Uploader => {
                Some(json!([{"session": []}, {"embedToken": []}, {"uploadSession": []}]))
            }
            Access::EmbedToken => Some(json!([{"embedToken": []}])),
            _ => Some(json!([{"session": []}])),
        };
        if let Some(security) = security {
            operation["security"] = security;
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
                               "description": "An embed token (POST /api/embed/tokens), a server-side secret: refused on any request with an Origin header."},
                "uploadSession": {"type": "http", "scheme": "bearer",
                                  "description": "An upload session (POST /api/embed/sessions): staged upload routes only, from its origin, for one upload, until it expires."}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message"],
                          "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}
            }
        }
    })
}
