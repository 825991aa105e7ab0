//! Embed tokens and upload sessions on SQLite and PostgreSQL: who may
//! manage tokens; a token works from a script and is refused from a browser;
//! upload sessions (one origin, one upload, until they expire); removals
//! only with `allowRemovals`; no stored value in a token's or session's
//! answers; every use in the history; refused tokens; CORS.

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
    new_token_with(client, label, origins, false).await
}

async fn new_token_with(
    client: &mut Client,
    label: &str,
    origins: &[&str],
    allow_removals: bool,
) -> (i64, String) {
    let (status, created) = client
        .send(
            Method::POST,
            "/api/embed/tokens",
            Some(
                json!({"label": label, "expiresInDays": 30, "allowedOrigins": origins,
                        "allowRemovals": allow_removals}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["allowRemovals"], allow_removals);
    (
        created["id"].as_i64().unwrap(),
        created["token"].as_str().unwrap().to_string(),
    )
}

/// A credential as a request carries it: `Authorization: Bearer <secret>`,
/// and the `Origin` header a browser adds (none from a script).
#[derive(Clone, Copy)]
struct Bearer<'a> {
    secret: &'a str,
    origin: Option<&'a str>,
}

impl<'a> Bearer<'a> {
    fn script(secret: &'a str) -> Self {
        Bearer {
            secret,
            origin: None,
        }
    }

    fn page(secret: &'a str, origin: &'a str) -> Self {
        Bearer {
            secret,
            origin: Some(origin),
        }
    }

    async fn call(
        self,
        app: &Router,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, Value) {
        let auth = format!("Bearer {}", self.secret);
        let mut headers = vec![("authorization", auth.as_str())];
        if let Some(origin) = self.origin {
            headers.push(("origin", origin));
        }
        headers.extend_from_slice(extra);
        raw(app, method, path, &headers, body).await
    }

    async fn json(
        self,
        app: &Router,
        method: Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let (status, _, answer) = self
            .call(
                app,
                method,
                path,
                &[("content-type", "application/json")],
                body.to_string().into_bytes(),
            )
            .await;
        (status, answer)
    }
}

/// How far `staged` takes an upload.
#[derive(Clone, Copy, PartialEq)]
enum Step {
    Preview,
    Commit { confirm: bool },
}

/// A staged upload of these records with this credential, in `mode`, up to
/// `step`: the final status and body (the first refusal, if any).
async fn staged(
    app: &Router,
    bearer: Bearer<'_>,
    mode: &str,
    records: &Records,
    step: Step,
) -> (StatusCode, Value) {
    let (status, created) = bearer
        .json(
            app,
            Method::POST,
            "/api/uploads/staged",
            json!({"fileName": "users.csv", "mode": mode}),
        )
        .await;
    if status != StatusCode::CREATED {
        return (status, created);
    }
    let id = created["id"].as_str().unwrap().to_string();
    let mut files = vec![("users", users_csv(records, Audience::Program))];
    if !records.demographics.is_empty() {
        files.push(("demographics", demographics_csv(records, Audience::Program)));
    }
    for (file, bytes) in files {
        let path = format!("/api/uploads/staged/{id}/{file}/0");
        let (status, _, answer) = bearer
            .call(
                app,
                Method::PUT,
                &path,
                &[("content-encoding", "gzip")],
                gzip(&bytes),
            )
            .await;
        if status != StatusCode::OK {
            return (status, answer);
        }
    }
    let (status, preview) = bearer
        .json(
            app,
            Method::POST,
            &format!("/api/uploads/staged/{id}/preview"),
            json!({}),
        )
        .await;
    if status != StatusCode::OK {
        return (status, preview);
    }
    // A later page of the same preview's findings, as the app's table
    // fetches it: not another use in the history.
    let (status, page) = bearer
        .json(
            app,
            Method::POST,
            &format!("/api/uploads/staged/{id}/preview"),
            json!({"findingsOffset": 1, "changesLimit": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["findingsTotal"], preview["findingsTotal"]);
    let Step::Commit { confirm } = step else {
        return (status, preview);
    };
    bearer
        .json(
            app,
            Method::POST,
            &format!("/api/uploads/staged/{id}/commit"),
            json!({"confirm": confirm}),
        )
        .await
}

async fn mint_session(app: &Router, token: Bearer<'_>, body: Value) -> (StatusCode, Value) {
    token
        .json(app, Method::POST, "/api/embed/sessions", body)
        .await
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

/// The history's (status, credential) pairs, newest first.
async fn history_uses(ada: &mut Client) -> Vec<(String, Option<String>)> {
    let (_, history) = ada.send(Method::GET, "/api/uploads", None).await;
    history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["status"].as_str().unwrap().to_string(),
                h["credential"].as_str().map(String::from),
            )
        })
        .collect()
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
            json!({"label": "Por\u{0}tal", "expiresInDays": 30, "allowedOrigins": []}),
            json!({"label": "x".repeat(101), "expiresInDays": 30, "allowedOrigins": []}),
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
        assert_eq!(list[0]["allowRemovals"], false, "{b}: off unless asked for");
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
async fn a_token_uploads_from_a_script_and_every_use_is_in_the_history() {
    let (records, schools) = sample_records(40);
    for db in databases("embedupload").await {
        let b = db.backend;
        let mut ada = setup(&db, &schools).await;
        let app = ada.app.clone();
        let (_, token) = new_token(&mut ada, "District portal", &[PORTAL]).await;
        let script = Bearer::script(&token);

        let (status, report) = staged(
            &app,
            script,
            "upsert",
            &records,
            Step::Commit { confirm: false },
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b}: {report}");
        assert_eq!(report["committed"], true);
        assert!(common::tally(&report, "students")[0] > 0, "{b}: created");
        // The same file again: no changes.
        let (status, again) = staged(
            &app,
            script,
            "upsert",
            &records,
            Step::Commit { confirm: false },
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b}: {again}");
        assert!(only_unchanged(&again), "{b}: {}", again["counts"]);
        // A preview alone stores nothing, and is in the history too.
        let (status, _) = staged(&app, script, "upsert", &records, Step::Preview).await;
        assert_eq!(status, StatusCode::OK, "{b}");

        let label = Some("embed token \"District portal\"".to_string());
        let uses = history_uses(&mut ada).await;
        let expected: Vec<(String, Option<String>)> = [
            "previewed",
            "committed",
            "previewed",
            "committed",
            "previewed",
        ]
        .iter()
        .map(|s| (s.to_string(), label.clone()))
        .collect();
        assert_eq!(uses, expected, "{b}");
        let (_, history) = ada.send(Method::GET, "/api/uploads", None).await;
        assert_eq!(history[1]["fileName"], "users.csv");
        assert_eq!(history[1]["adminEmail"], "ada@maple.org");

        // Uploading only: the token opens no other route.
        for path in ["/api/uploads", "/api/roster/users", "/api/embed/tokens"] {
            let (status, _, _) = script.call(&app, Method::GET, path, &[], vec![]).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}: {path}");
        }
        // A token's staged upload is not the session's, nor the reverse.
        let (status, created) = script
            .json(
                &app,
                Method::POST,
                "/api/uploads/staged",
                json!({"fileName": "users.csv"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{b}");
        let path = format!("/api/uploads/staged/{}", created["id"].as_str().unwrap());
        let (status, _) = ada.send(Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{b}");
        let (status, _, _) = script.call(&app, Method::DELETE, &path, &[], vec![]).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        db.close().await;
    }
}

#[tokio::test]
async fn a_token_is_refused_from_a_browser() {
    let (records, schools) = sample_records(10);
    for db in databases("embedbrowser").await {
        let b = db.backend;
        let mut ada = setup(&db, &schools).await;
        let app = ada.app.clone();
        let (_, token) = new_token(&mut ada, "Portal", &[PORTAL]).await;
        // Even from an allowed origin: a token in a page is public.
        for origin in [PORTAL, "https://evil.example.com", "null"] {
            let (status, refused) = staged(
                &app,
                Bearer::page(&token, origin),
                "upsert",
                &records,
                Step::Preview,
            )
            .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {origin} {refused}");
            assert_eq!(refused["code"], "token-from-browser");
            assert!(refused["message"].as_str().unwrap().contains("session"));
            let (status, refused) = mint_session(
                &app,
                Bearer::page(&token, origin),
                json!({"origin": PORTAL}),
            )
            .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {refused}");
            assert_eq!(refused["code"], "token-from-browser");
        }
        assert_eq!(history_uses(&mut ada).await, [], "{b}: nothing done");
        db.close().await;
    }
}

#[tokio::test]
async fn an_upload_session_works_for_one_upload_from_its_origin_until_it_expires() {
    let (records, schools) = sample_records(20);
    for db in databases("embedsession").await {
        let b = db.backend;
        let mut ada = setup(&db, &schools).await;
        let app = ada.app.clone();
        let other = "https://other.example.org";
        let (_, token) = new_token(&mut ada, "Portal", &[PORTAL, other]).await;
        let host = Bearer::script(&token);

        // Minting: an allowed origin, 1 to 60 minutes (15 by default).
        for (body, status, code) in [
            (
                json!({"origin": "https://evil.example.com"}),
                StatusCode::FORBIDDEN,
                "origin-not-allowed",
            ),
            (
                json!({"origin": "not an origin"}),
                StatusCode::BAD_REQUEST,
                "invalid-origin",
            ),
            (
                json!({"origin": PORTAL, "expiresInMinutes": 0}),
                StatusCode::BAD_REQUEST,
                "invalid-expiry",
            ),
            (
                json!({"origin": PORTAL, "expiresInMinutes": 61}),
                StatusCode::BAD_REQUEST,
                "invalid-expiry",
            ),
        ] {
            let (got, answer) = mint_session(&app, host, body.clone()).await;
            assert_eq!(
                (got, answer["code"].as_str()),
                (status, Some(code)),
                "{b}: {body}"
            );
        }
        let (status, minted) =
            mint_session(&app, host, json!({"origin": "HTTPS://Portal.Example.org/"})).await;
        assert_eq!(status, StatusCode::CREATED, "{b}: {minted}");
        let session = minted["session"].as_str().unwrap().to_string();
        assert!(session.starts_with("rgs_"), "{session}");
        let lifetime = minted["expiresAt"].as_i64().unwrap() - backend::db::now();
        assert!((14 * 60..=15 * 60).contains(&lifetime), "{b}: {lifetime}");
        let stored: Vec<String> = sqlx::query_scalar("SELECT session_hash FROM embed_sessions")
            .fetch_all(&db.pool)
            .await
            .unwrap();
        assert!(
            stored.iter().all(|h| !h.contains(&session)),
            "{b}: only the hash"
        );
        // A session mints nothing, and the admin's routes do not take it.
        let (status, _) =
            mint_session(&app, Bearer::script(&session), json!({"origin": PORTAL})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}");
        let (status, _, _) = Bearer::page(&session, PORTAL)
            .call(&app, Method::GET, "/api/roster/users", &[], vec![])
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}");

        // From another origin (even one the token lists), or none: 403.
        for bearer in [Bearer::page(&session, other), Bearer::script(&session)] {
            let (status, refused) = staged(&app, bearer, "upsert", &records, Step::Preview).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {refused}");
            assert_eq!(refused["code"], "origin-not-allowed");
        }
        // From its page: one upload, committed.
        let page = Bearer::page(&session, PORTAL);
        let (status, report) = staged(
            &app,
            page,
            "upsert",
            &records,
            Step::Commit { confirm: false },
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b}: {report}");
        assert_eq!(report["committed"], true);
        // A second upload: 403.
        let (status, refused) = staged(&app, page, "upsert", &records, Step::Preview).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {refused}");
        assert_eq!(refused["code"], "session-used");
        // A session never removes: a full sync is refused when it starts.
        let (_, minted) = mint_session(&app, host, json!({"origin": PORTAL})).await;
        let second = minted["session"].as_str().unwrap().to_string();
        let (status, refused) = staged(
            &app,
            Bearer::page(&second, PORTAL),
            "full-sync",
            &records,
            Step::Preview,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {refused}");
        assert_eq!(refused["code"], "removals-not-allowed");
        // Expired: 401, even in the middle of an upload.
        let (_, minted) =
            mint_session(&app, host, json!({"origin": PORTAL, "expiresInMinutes": 1})).await;
        let third = minted["session"].as_str().unwrap().to_string();
        let page = Bearer::page(&third, PORTAL);
        let (status, created) = page
            .json(
                &app,
                Method::POST,
                "/api/uploads/staged",
                json!({"fileName": "users.csv"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{b}: {created}");
        sqlx::query("UPDATE embed_sessions SET expires_at = $1 WHERE session_hash = $2")
            .bind(backend::db::now() - 1)
            .bind(backend::auth::token_hash(&third))
            .execute(&db.pool)
            .await
            .unwrap();
        let path = format!(
            "/api/uploads/staged/{}/preview",
            created["id"].as_str().unwrap()
        );
        let (status, refused) = page.json(&app, Method::POST, &path, json!({})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}: {refused}");
        assert_eq!(refused["code"], "invalid-session");
        assert!(refused["message"].as_str().unwrap().contains("expired"));
        // A revoked token's sessions end with it.
        let (id, token2) = new_token(&mut ada, "Short-lived", &[PORTAL]).await;
        let (_, minted) =
            mint_session(&app, Bearer::script(&token2), json!({"origin": PORTAL})).await;
        let orphan = minted["session"].as_str().unwrap().to_string();
        ada.send(Method::DELETE, &format!("/api/embed/tokens/{id}"), None)
            .await;
        let (status, _) = staged(
            &app,
            Bearer::page(&orphan, PORTAL),
            "upsert",
            &records,
            Step::Preview,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}");

        // Every use is in the history, named by the session's token.
        let session_label = Some("upload session of embed token \"Portal\"".to_string());
        let token_label = Some("embed token \"Portal\"".to_string());
        let uses = history_uses(&mut ada).await;
        assert!(
            uses.contains(&("committed".to_string(), session_label.clone())),
            "{b}: {uses:?}"
        );
        assert!(
            uses.contains(&("previewed".to_string(), session_label)),
            "{b}: {uses:?}"
        );
        let minted_count = uses
            .iter()
            .filter(|u| **u == ("session-created".to_string(), token_label.clone()))
            .count();
        assert_eq!(minted_count, 3, "{b}: {uses:?}");
        let (_, history) = ada.send(Method::GET, "/api/uploads", None).await;
        let minted_entry = history
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["status"] == "session-created")
            .unwrap();
        assert_eq!(
            minted_entry["fileName"], PORTAL,
            "{b}: the session's origin"
        );
        db.close().await;
    }
}

/// The stored roster's values as a JSON string would carry them.
fn quoted(value: &str) -> String {
    serde_json::to_string(value).unwrap()
}

#[tokio::test]
async fn a_token_or_session_learns_nothing_stored() {
    let (records, schools) = sample_records(40);
    for db in databases("embedsecret").await {
        let b = db.backend;
        let mut ada = setup(&db, &schools).await;
        let app = ada.app.clone();
        let (status, _) = ada
            .send(
                Method::POST,
                "/api/uploads/commit",
                Some(json!({"fileName": "users.csv", "records": records})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let (_, token) = new_token(&mut ada, "Portal", &[PORTAL]).await;

        // One row naming a stored student, other names and email (as in
        // the report that found this hole), and a new user with another
        // stored user's email.
        let stored = records
            .users
            .iter()
            .find(|u| u.role == shared::records::Role::Student && u.district_id.is_some())
            .or_else(|| {
                records
                    .users
                    .iter()
                    .find(|u| u.role == shared::records::Role::Student)
            })
            .unwrap()
            .clone();
        let owner = records
            .users
            .iter()
            .find(|u| u.user_id != stored.user_id)
            .unwrap();
        let mut probe = stored.clone();
        probe.first_name = "Zz".into();
        probe.last_name = "Zz".into();
        probe.email = "zz@x.org".into();
        probe.district_id = None;
        probe.state_id = None;
        let mut thief = stored.clone();
        thief.user_id = "NEW-1".into();
        thief.email = owner.email.clone();
        thief.first_name = "Yy".into();
        let file = Records {
            users: vec![probe, thief],
            ..Records::default()
        };
        let secrets: Vec<String> = [
            Some(stored.first_name.as_str()),
            Some(stored.last_name.as_str()),
            Some(stored.email.as_str()),
            stored.district_id.as_deref(),
            stored.state_id.as_deref(),
            Some(&*owner.user_id),
        ]
        .into_iter()
        .flatten()
        .map(String::from)
        .collect();

        let (_, minted) =
            mint_session(&app, Bearer::script(&token), json!({"origin": PORTAL})).await;
        let session = minted["session"].as_str().unwrap().to_string();
        for bearer in [Bearer::script(&token), Bearer::page(&session, PORTAL)] {
            let (status, report) = staged(&app, bearer, "upsert", &file, Step::Preview).await;
            assert_eq!(status, StatusCode::OK, "{b}: {report}");
            let text = report.to_string();
            for secret in &secrets {
                assert!(
                    !text.contains(&quoted(secret)) && !text.contains(&format!("userId {secret}")),
                    "{b}: {secret} in {text}"
                );
            }
            let change = report["changes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["key"] == quoted(&stored.user_id).trim_matches('"'))
                .unwrap_or_else(|| panic!("{b}: {report}"));
            assert_eq!(change["kind"], "updated");
            assert_eq!(change["fields"], json!([]), "{b}: no field values");
            let codes: Vec<&str> = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["code"].as_str().unwrap())
                .collect();
            assert_eq!(
                codes,
                ["email-in-use"],
                "{b}: the caller's own findings stay"
            );
        }
        // The district's admin sees the whole preview.
        let (_, full) = ada
            .send(
                Method::POST,
                "/api/uploads/preview",
                Some(json!({"fileName": "users.csv", "records": file})),
            )
            .await;
        assert!(
            full.to_string().contains(&quoted(&stored.first_name)),
            "{b}: {full}"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn removals_need_a_token_that_may_remove() {
    let (records, schools) = sample_records(40);
    for db in databases("embedremove").await {
        let b = db.backend;
        let mut ada = setup(&db, &schools).await;
        let app = ada.app.clone();
        let (status, _) = ada
            .send(
                Method::POST,
                "/api/uploads/commit",
                Some(json!({"fileName": "users.csv", "records": records})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let (_, plain) = new_token(&mut ada, "Upserts only", &[]).await;
        let (_, remover) = new_token_with(&mut ada, "Nightly sync", &[], true).await;
        let (_, list) = ada.send(Method::GET, "/api/embed/tokens", None).await;
        assert_eq!(list[0]["allowRemovals"], true, "{b}");

        // A quarter of the users: a full sync would remove the rest.
        let mut quarter = records.clone();
        quarter.users.truncate(records.users.len() / 4);
        let kept: std::collections::HashSet<&str> =
            quarter.users.iter().map(|u| &*u.user_id).collect();
        quarter.enrollments.retain(|e| kept.contains(&*e.user_id));
        let used: std::collections::HashSet<&str> =
            quarter.enrollments.iter().map(|e| &*e.class_id).collect();
        quarter.classes.retain(|c| used.contains(&*c.class_id));
        quarter
            .demographics
            .retain(|d| kept.contains(d.user_id.as_str()));
        // Rows with an action.
        let mut deactivating = Records {
            users: vec![records.users[0].clone()],
            ..Records::default()
        };
        deactivating.users[0].deactivate = true;

        let plain = Bearer::script(&plain);
        let (status, refused) = plain
            .json(
                &app,
                Method::POST,
                "/api/uploads/staged",
                json!({"fileName": "u.csv", "mode": "full-sync"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b}: at the start");
        assert_eq!(refused["code"], "removals-not-allowed");
        assert!(refused["message"].as_str().unwrap().contains("full sync"));
        for step in [Step::Preview, Step::Commit { confirm: true }] {
            let (status, refused) = staged(&app, plain, "upsert", &deactivating, step).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {refused}");
            assert_eq!(refused["code"], "removals-not-allowed");
        }
        // confirm without a hold pending is ignored.
        let (status, report) = staged(
            &app,
            plain,
            "upsert",
            &quarter,
            Step::Commit { confirm: true },
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b}: {report}");

        // The token that may remove: the hold (without the roster's
        // totals), then confirmed. Its report lists only its own records.
        let remover = Bearer::script(&remover);
        let (status, held) = staged(
            &app,
            remover,
            "full-sync",
            &quarter,
            Step::Commit { confirm: false },
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{b}: {held}");
        assert_eq!(held["code"], "safety-hold");
        let message = held["message"].as_str().unwrap();
        let totals = message
            .split(" of ")
            .skip(1)
            .any(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        assert!(!totals, "{b}: no roster totals in {message}");
        let (status, report) = staged(
            &app,
            remover,
            "full-sync",
            &quarter,
            Step::Commit { confirm: true },
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b}: {report}");
        assert!(common::tally(&report, "students")[3] > 0, "{b}: removed");
        let listed: std::collections::HashSet<String> = quarter
            .users
            .iter()
            .map(|u| u.user_id.to_string())
            .chain(quarter.classes.iter().map(|c| c.class_id.to_string()))
            .chain(
                quarter
                    .enrollments
                    .iter()
                    .map(|e| format!("{}/{}", e.user_id, e.class_id)),
            )
            .collect();
        for change in report["changes"].as_array().unwrap() {
            assert!(
                listed.contains(change["key"].as_str().unwrap()),
                "{b}: {change}"
            );
        }
        assert_eq!(
            report["changesTotal"].as_u64(),
            Some(0),
            "{b}: the quarter is unchanged"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn revoked_expired_unknown_and_powerless_tokens_are_refused() {
    let (records, schools) = sample_records(10);
    for db in databases("embedrefused").await {
        let b = db.backend;
        let mut ada = setup(&db, &schools).await;
        let app = ada.app.clone();

        let (status, refused) = staged(
            &app,
            Bearer::script("rge_0000"),
            "upsert",
            &records,
            Step::Preview,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}");
        assert_eq!(refused["code"], "invalid-token");
        let (status, _) = staged(
            &app,
            Bearer::script("something"),
            "upsert",
            &records,
            Step::Preview,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}");

        let (id, token) = new_token(&mut ada, "Soon gone", &[]).await;
        sqlx::query("UPDATE embed_tokens SET expires_at = $1 WHERE id = $2")
            .bind(backend::db::now() - 1)
            .bind(id)
            .execute(&db.pool)
            .await
            .unwrap();
        let (status, refused) = staged(
            &app,
            Bearer::script(&token),
            "upsert",
            &records,
            Step::Preview,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}: {refused}");
        assert!(refused["message"].as_str().unwrap().contains("expired"));
        let (_, list) = ada.send(Method::GET, "/api/embed/tokens", None).await;
        assert_eq!(list[0]["status"], "expired", "{b}");

        let (id, token) = new_token(&mut ada, "Revoked", &[PORTAL]).await;
        let (status, _) = ada
            .send(Method::DELETE, &format!("/api/embed/tokens/{id}"), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, refused) = staged(
            &app,
            Bearer::script(&token),
            "upsert",
            &records,
            Step::Preview,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}: {refused}");
        assert!(refused["message"].as_str().unwrap().contains("revoked"));
        let (status, _) =
            mint_session(&app, Bearer::script(&token), json!({"origin": PORTAL})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}");

        // A token acts as its creator: without Enrollment access, no upload.
        let system_only = Permissions {
            system_access: true,
            enrollment_access: false,
        };
        let mut sam = admin_client(&db, &app, "sam@maple.org", system_only).await;
        let (_, token) = new_token(&mut sam, "Sam's", &[PORTAL]).await;
        let (status, refused) = staged(
            &app,
            Bearer::script(&token),
            "upsert",
            &records,
            Step::Preview,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {refused}");
        let (status, _) =
            mint_session(&app, Bearer::script(&token), json!({"origin": PORTAL})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b}");

        assert_eq!(history_uses(&mut ada).await, [], "{b}: nothing stored");
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
            assert_eq!(h("access-control-allow-methods"), "GET, POST, PUT, DELETE");
            assert!(h("vary").to_lowercase().contains("origin"));
            assert!(headers.get("access-control-allow-credentials").is_none());
        }
        // Any web origin may read the answers (the credential, not CORS,
        // keeps other sites out); a non-origin may not.
        let (status, headers, _) =
            preflight("https://elsewhere.example.com", "/api/uploads/staged").await;
        assert!(status.is_success(), "{b}: {status}");
        assert_eq!(
            headers.get("access-control-allow-origin").unwrap(),
            "https://elsewhere.example.com"
        );
        let (status, headers, body) = preflight("null", "/api/uploads/staged").await;
        assert!(!status.is_success(), "{b}: {status}");
        assert!(headers.get("access-control-allow-origin").is_none());
        assert_eq!(body["code"], "origin-not-allowed");

        // The answer to the real request carries the origin too, even a refusal.
        let (status, headers, _) = raw(
            &app,
            Method::POST,
            "/api/uploads/staged",
            &[("origin", PORTAL), ("authorization", "Bearer rgs_nope")],
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

        // Revoked: the page still reads the refusal that says so.
        ada.send(Method::DELETE, &format!("/api/embed/tokens/{id}"), None)
            .await;
        let (status, headers, _) = preflight(PORTAL, "/api/uploads/staged").await;
        assert!(status.is_success(), "{b}: {status}");
        assert_eq!(headers.get("access-control-allow-origin").unwrap(), PORTAL);

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
