//! The web server: the browser app, the generated data dictionary and
//! templates, and the API.
//!
//! - `state`: what every handler shares (pools, configuration);
//! - `routes`: the one list of API routes, with each route's access and
//!   body limit, and the OpenAPI document made from it;
//! - `serve`: the router (access enforced from the route list, security
//!   headers, JSON errors, request log) and the listener;
//! - `headers`: the security headers; `json_errors`: axum's own rejections
//!   made JSON.

pub mod headers;
pub mod json_errors;
pub mod routes;
mod serve;
pub mod state;

pub use routes::{api_routes, openapi_document, ApiRoute};
pub use serve::{app, init_logging, serve};
pub use state::{AppState, Config};
