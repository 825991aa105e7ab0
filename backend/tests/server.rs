//! The server's static files and health check, called in process.

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use backend::server::{app, AppState, Config};
use tower::ServiceExt;

async fn state() -> AppState {
    // One folder per call: tests run in parallel and each migrates its own file.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rostergate-server-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<title>RosterGate</title>").unwrap();
    let url = format!("sqlite://{}", dir.join("static.db").display());
    let pool = backend::db::connect(&url).await.unwrap();
    AppState::new(
        pool,
        Config::new(
            dir,
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../public"),
        ),
    )
    .unwrap()
}

async fn get(path: &str) -> (StatusCode, String) {
    let response = app(state().await)
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn health_answers() {
    let (status, body) = get("/api/health").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"status\":\"ok\""), "{body}");
}

#[tokio::test]
async fn serves_the_app_on_its_routes_and_the_generated_files() {
    assert_eq!(get("/").await.1, "<title>RosterGate</title>");
    assert_eq!(
        get("/upload").await.1,
        "<title>RosterGate</title>",
        "app routes load the app"
    );
    let (status, template) = get("/public/templates/users.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        template.starts_with("\u{FEFF}action,schoolId,userId,"),
        "{template}"
    );
    let (status, dictionary) = get("/public/data-dictionary.md").await;
    assert_eq!(status, StatusCode::OK);
    assert!(dictionary.contains("| `userEmail` |"));
    assert_eq!(get("/public/no-such-file").await.0, StatusCode::NOT_FOUND);
}
