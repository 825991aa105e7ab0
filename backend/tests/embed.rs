//! Embed tokens on SQLite and PostgreSQL: who may manage them, staged
//! uploads with `Authorization: Bearer`, refused tokens (revoked, expired,
//! unknown, wrong origin, a creator without the permissions), and CORS.

mod common;

use std::io::Write;

use axum::body::{to_bytes, Body};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use backend::accounts::{create_admin, ensure_district, Permissions};
use common::{databases, only_unchanged, sample_records, setup, Client, TestDb};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};
use shared::csv_out::Audience;
use shared::export::{demographics_csv, users_csv};
use shared::records::Records;
use tower::ServiceExt;

const PORTAL: &str = "https://portal.example.org";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// One request as a browser on another site (or a script) sends it: no
/// cookie; the status, headers and JSON body of the answer.
async fn raw(
    app: &Router,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), 1 << 24).await.unwrap();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn new_token(client: &mut Client, label: &str, origins: &[&str]) -> (i64, String) {
    let (status, created) = client
        .send(
            Method::POST,
            "/api/embed/tokens",
            Some(json!({"label": label, "expiresInDays": 30, "allowedOrigins": origins})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["id"].as_i64().unwrap(),
        created["token"].as_str().unwrap().to_string(),
    )
}

/// A staged upload of these records with the token, from `origin` (or none),
/// committed: the final status and body (the first refusal, if any).
async fn bearer_upload(
    app: &Router,
    token: &str,
    origin: Option<&str>,
    records: &Records,
) -> (StatusCode, Value) {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("authorization", auth.as_str())];
    if let Some(origin) = origin {
        headers.push(("origin", origin));
    }
    let mut json_headers = headers.clone();
    json_headers.push(("content-type", "application/json"));
    let body = json!({"fileName": "users.csv", "mode": "upsert"}).to_string();
    let (status, _, created) = raw(
        app,
        Method::POST,
        "/api/uploads/staged",
        &json_headers,
        body.into_bytes(),
    )
    .await;
    if status != StatusCode::CREATED {
        return (status, created);
    }
    let id = created["id"].as_str().unwrap().to_string();
    let mut part_headers = headers.clone();
    part_headers.push(("content-encoding", "gzip"));
    for (file, bytes) in [
        ("users", users_csv(records, Audience::Program)),
        ("demographics", demographics_csv(records, Audience::Program)),
    ] {
        let path = format!("/api/uploads/staged/{id}/{file}/0");
        let (status, _, answer) = raw(app, Method::PUT, &path, &part_headers, gzip(&bytes)).await;
        if status != StatusCode::OK {
            return (status, answer);
        }
    }
    let path = format!("/api/uploads/staged/{id}/commit");
    let (status, _, report) = raw(app, Method::POST, &path, &json_headers, b"{}".to_vec()).await;
    (status, report)
}

async fn admin_client(db: &TestDb, app: &Router, email: &str, permissions: Permissions) -> Client {
    let district = ensure_district(&db.pool, "Maple").await.unwrap();
    create_admin(&db.pool, district, email, "pw", permissions)
        .await
        .unwrap();
    let mut client = Client::new(app.clone());
    assert_eq!(client.sign_in(email, "pw").await, StatusCode::OK);
    client
}

#[tokio::test]
async fn managing_tokens_needs_system_access_in_the_district() {
    for db in databases("embedmanage").await {
        let b = db.backend;
        let mut ada = setup(&db, &[]).await;
        let app = ada.app.clone();

        // No session: 401 on every route.
        let mut nobody = Client::new(app.clone());
        for (method, path) in [
            (Method::POST, "/api/embed/tokens"),
            (Method::GET, "/api/embed/tokens"),
            (Method::DELETE, "/api/embed/tokens/1"),
        ] {
            let body = (method == Method::POST).then(|| json!({"label": "x", "expiresInDays": 1}));
            let (status, answer) = nobody.send(method, path, body).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}: {path} {answer}");
        }
        // Enrollment access only: 403.
        let enrollment = Permissions {
            system_access: false,
            enrollment_access: true,
        };
        let mut eve = admin_client(&db, &app, "eve@maple.org", enrollment).await;
        let (status, answer) = eve.send(Method::GET, "/api/embed/tokens", None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {answer}");
        let (status, _) = eve
            .send(
                Method::POST,
                "/api/embed/tokens",
                Some(json!({"label": "x", "expiresInDays": 1, "allowedOrigins": []})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b}");

        // Refused inputs.
        for bad in [
            json!({"label": "Portal", "expiresInDays": 0, "allowedOrigins": []}),
            json!({"label": "Portal", "expiresInDays": 366, "allowedOrigins": []}),
            json!({"label": "  ", "expiresInDays": 30, "allowedOrigins": []}),
            json!({"label": "Portal", "expiresInDays": 30, "allowedOrigins": ["*"]}),
            json!({"label": "Portal", "expiresInDays": 30, "allowedOrigins": ["https://portal.example.org/upload"]}),
            json!({"label": "Portal", "expiresInDays": 30, "allowedOrigins": ["portal.example.org"]}),
        ] {
            let (status, answer) = ada
                .send(Method::POST, "/api/embed/tokens", Some(bad.clone()))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{b}: {bad} {answer}");
            assert!(answer["code"].is_string() && answer["message"].is_string());
        }

        // Created: shown once, stored as a hash, origins normalized.
        let (status, created) = ada
            .send(
                Method::POST,
                "/api/embed/tokens",
                Some(json!({"label": " Portal ", "expiresInDays": 30,
                            "allowedOrigins": ["HTTPS://Portal.Example.org/", PORTAL]})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{b}: {created}");
        let token = created["token"].as_str().unwrap();
        assert!(token.starts_with("rge_") && token.len() >= 68, "{token}");
        assert_eq!(created["label"], "Portal");
        assert_eq!(created["allowedOrigins"], json!([PORTAL]));
        let days = (created["expiresAt"].as_i64().unwrap()
            - created["createdAt"].as_i64().unwrap())
            / 86_400;
        assert_eq!(days, 30);
        let id = created["id"].as_i64().unwrap();
        let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM embed_tokens")
            .fetch_all(&db.pool)
            .await
            .unwrap();
        assert!(
            stored.iter().all(|h| !h.contains(token)),
            "{b}: only the hash"
        );

        let (status, list) = ada.send(Method::GET, "/api/embed/tokens", None).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["status"], "active");
        assert_eq!(list[0]["createdBy"], "ada@maple.org");
        assert_eq!(list[0]["allowedOrigins"], json!([PORTAL]));
        assert!(!list.to_string().contains(token), "{b}: never listed");

        // Another district's admin sees none of it and gets 404.
        let elsewhere = ensure_district(&db.pool, "Oak").await.unwrap();
        create_admin(&db.pool, elsewhere, "olga@oak.org", "pw", common::BOTH)
            .await
            .unwrap();
        let mut olga = Client::new(app.clone());
        assert_eq!(olga.sign_in("olga@oak.org", "pw").await, StatusCode::OK);
        let (_, theirs) = olga.send(Method::GET, "/api/embed/tokens", None).await;
        assert_eq!(theirs, json!([]), "{b}");
        let path = format!("/api/embed/tokens/{id}");
        let (status, _) = olga.send(Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{b}");
        let (status, _) = ada
            .send(Method::DELETE, "/api/embed/tokens/999999", None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{b}");

        // Revoked: listed as such; revoking again changes nothing.
        let (status, _) = ada.send(Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        let (_, list) = ada.send(Method::GET, "/api/embed/tokens", None).await;
        assert_eq!(list[0]["status"], "revoked");
        let revoked_at = list[0]["revokedAt"].clone();
        assert!(revoked_at.is_i64());
        let (status, _) = ada.send(Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        let (_, list) = ada.send(Method::GET, "/api/embed/tokens", None).await;
        assert_eq!(list[0]["revokedAt"], revoked_at);
        db.close().await;
    }
}

#[tokio::test]
async fn a_bearer_token_uploads_and_the_upload_is_in_the_history() {
    let (records, schools) = sample_records(40);
    for db in databases("embedupload").await {
        let b = db.backend;
        let mut ada = setup(&db, &schools).await;
        let app = ada.app.clone();
        let (_, token) = new_token(&mut ada, "District portal", &[PORTAL]).await;

        // From the portal, as the widget sends it.
        let (status, report) = bearer_upload(&app, &token, Some(PORTAL), &records).await;
        assert_eq!(status, StatusCode::OK, "{b}: {report}");
        assert_eq!(report["committed"], true);
        assert!(common::tally(&report, "students")[0] > 0, "{b}: created");
        // Without Origin (a script), the same file again: no changes.
        let (status, again) = bearer_upload(&app, &token, None, &records).await;
        assert_eq!(status, StatusCode::OK, "{b}: {again}");
        assert!(only_unchanged(&again), "{b}: {}", again["counts"]);

        let (_, history) = ada.send(Method::GET, "/api/uploads", None).await;
        assert_eq!(history.as_array().unwrap().len(), 2, "{b}: {history}");
        assert_eq!(
            history[0]["fileName"],
            "users.csv (embed token \"District portal\")"
        );
        assert_eq!(history[0]["adminEmail"], "ada@maple.org");

        // Uploading only: the token opens no other route.
        let auth = format!("Bearer {token}");
        for path in ["/api/uploads", "/api/roster/users", "/api/embed/tokens"] {
            let (status, _, _) =
                raw(&app, Method::GET, path, &[("authorization", &auth)], vec![]).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}: {path}");
        }
        // A token's staged upload is not the session's, nor the reverse.
        let (status, _, created) = raw(
            &app,
            Method::POST,
            "/api/uploads/staged",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            br#"{"fileName": "users.csv"}"#.to_vec(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{b}");
        let path = format!("/api/uploads/staged/{}", created["id"].as_str().unwrap());
        let (status, _) = ada.send(Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{b}");
        let (status, _, _) = raw(
            &app,
            Method::DELETE,
            &path,
            &[("authorization", &auth)],
            vec![],
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        db.close().await;
    }
}

#[tokio::test]
async fn revoked_expired_unknown_and_wrong_origin_tokens_are_refused() {
    let (records, schools) = sample_records(10);
    for db in databases("embedrefused").await {
        let b = db.backend;
        let mut ada = setup(&db, &schools).await;
        let app = ada.app.clone();

        let (_, token) = new_token(&mut ada, "Portal", &[PORTAL]).await;
        let (status, refused) =
            bearer_upload(&app, &token, Some("https://evil.example.com"), &records).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {refused}");
        assert_eq!(refused["code"], "origin-not-allowed");
        assert!(refused["message"].as_str().unwrap().contains("origin"));
        let (status, refused) = bearer_upload(&app, &token, Some("null"), &records).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {refused}");

        let (status, refused) = bearer_upload(&app, "rge_0000", None, &records).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}");
        assert_eq!(refused["code"], "invalid-token");

        let (id, token) = new_token(&mut ada, "Soon gone", &[]).await;
        sqlx::query("UPDATE embed_tokens SET expires_at = $1 WHERE id = $2")
            .bind(backend::db::now() - 1)
            .bind(id)
            .execute(&db.pool)
            .await
            .unwrap();
        let (status, refused) = bearer_upload(&app, &token, None, &records).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}: {refused}");
        assert!(refused["message"].as_str().unwrap().contains("expired"));
        let (_, list) = ada.send(Method::GET, "/api/embed/tokens", None).await;
        assert_eq!(list[0]["status"], "expired", "{b}");

        let (id, token) = new_token(&mut ada, "Revoked", &[PORTAL]).await;
        let (status, _) = ada
            .send(Method::DELETE, &format!("/api/embed/tokens/{id}"), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, refused) = bearer_upload(&app, &token, Some(PORTAL), &records).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}: {refused}");
        assert!(refused["message"].as_str().unwrap().contains("revoked"));

        // A token acts as its creator: without Enrollment access, no upload.
        let system_only = Permissions {
            system_access: true,
            enrollment_access: false,
        };
        let mut sam = admin_client(&db, &app, "sam@maple.org", system_only).await;
        let (_, token) = new_token(&mut sam, "Sam's", &[]).await;
        let (status, refused) = bearer_upload(&app, &token, None, &records).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {refused}");

        let (_, history) = ada.send(Method::GET, "/api/uploads", None).await;
        assert_eq!(history, json!([]), "{b}: nothing stored");
        db.close().await;
    }
}

#[tokio::test]
async fn cors_for_live_token_origins_and_the_widget_files() {
    for db in databases("embedcors").await {
        let b = db.backend;
        let mut ada = setup(&db, &[]).await;
        let app = ada.app.clone();
        let (id, _) = new_token(&mut ada, "Portal", &[PORTAL]).await;

        let preflight = |origin: &'static str, path: &'static str| {
            let app = app.clone();
            async move {
                raw(
                    &app,
                    Method::OPTIONS,
                    path,
                    &[
                        ("origin", origin),
                        ("access-control-request-method", "PUT"),
                        (
                            "access-control-request-headers",
                            "authorization, content-encoding",
                        ),
                    ],
                    vec![],
                )
                .await
            }
        };
        for path in [
            "/api/uploads/staged",
            "/api/uploads/staged/abc/users/0",
            "/api/uploads/staged/abc/commit",
        ] {
            let (status, headers, _) = preflight(PORTAL, path).await;
            assert!(status.is_success(), "{b}: {path} {status}");
            let h = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_string();
            assert_eq!(h("access-control-allow-origin"), PORTAL);
            assert_eq!(
                h("access-control-allow-headers"),
                "authorization, content-type, content-encoding"
            );
            assert_eq!(h("access-control-allow-methods"), "POST, PUT, DELETE");
            assert!(h("vary").to_lowercase().contains("origin"));
            assert!(headers.get("access-control-allow-credentials").is_none());
        }
        let (status, headers, body) =
            preflight("https://evil.example.com", "/api/uploads/staged").await;
        assert!(!status.is_success(), "{b}: {status}");
        assert!(headers.get("access-control-allow-origin").is_none());
        assert_eq!(body["code"], "origin-not-allowed");

        // The answer to the real request carries the origin too, even a refusal.
        let (status, headers, _) = raw(
            &app,
            Method::POST,
            "/api/uploads/staged",
            &[("origin", PORTAL), ("authorization", "Bearer rge_nope")],
            vec![],
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}");
        assert_eq!(headers.get("access-control-allow-origin").unwrap(), PORTAL);
        // Other API routes get no CORS.
        let (_, headers, _) = raw(
            &app,
            Method::GET,
            "/api/health",
            &[("origin", PORTAL)],
            vec![],
        )
        .await;
        assert!(headers.get("access-control-allow-origin").is_none(), "{b}");

        // Revoked: the origin is no longer allowed.
        ada.send(Method::DELETE, &format!("/api/embed/tokens/{id}"), None)
            .await;
        let (status, headers, _) = preflight(PORTAL, "/api/uploads/staged").await;
        assert!(!status.is_success(), "{b}: {status}");
        assert!(headers.get("access-control-allow-origin").is_none());

        // The widget's files load from any origin.
        let (_, headers, _) = raw(
            &app,
            Method::GET,
            "/widget/rostergate-widget.js",
            &[("origin", PORTAL)],
            vec![],
        )
        .await;
        assert_eq!(
            headers.get("access-control-allow-origin").unwrap(),
            "*",
            "{b}"
        );
        let (_, headers, _) = raw(&app, Method::GET, "/index.html", &[], vec![]).await;
        assert!(headers.get("access-control-allow-origin").is_none(), "{b}");
        db.close().await;
    }
}
