//! The server hardened against its own callers, on SQLite and PostgreSQL:
//! sign-in attempts counted before the password check (parallel attempts
//! included) and checked off the async workers, the row limit, body
//! limits, bounded NUL-free strings, paging that cannot overflow, JSON
//! answers for every rejection (axum's own included), the security
//! headers, and no demo district without `--demo`.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use backend::accounts::{create_admin, ensure_district};
use common::{databases, router, router_with, sample_records, setup, Client, BOTH};
use serde_json::{json, Value};
use shared::csv_out::Audience;
use shared::export::users_csv;
use tower::ServiceExt;

fn sign_in_request(email: &str, password: &str) -> Request<Body> {
    let mut request = Request::post("/api/auth/sign-in")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"email": email, "password": password}).to_string(),
        ))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(std::net::SocketAddr::from((
            [10, 0, 0, 9],
            4000,
        ))));
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_sign_ins_get_at_most_the_limit() {
    for db in databases("parallelsignin").await {
        let b = db.backend;
        let district = ensure_district(&db.pool, "North").await.unwrap();
        create_admin(&db.pool, district, "ada@north.org", "right", BOTH)
            .await
            .unwrap();
        let app = router(&db.pool);
        let attempts: Vec<_> = (0..50)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move {
                    app.oneshot(sign_in_request("ada@north.org", "wrong"))
                        .await
                        .unwrap()
                        .status()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for attempt in attempts {
            statuses.push(attempt.await.unwrap());
        }
        let unauthorized = statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count();
        let limited = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert!(
            unauthorized <= 5,
            "{b}: {unauthorized} wrong passwords checked"
        );
        assert_eq!(unauthorized + limited, 50, "{b}: {statuses:?}");
        // The right password is held back too now.
        let response = app
            .clone()
            .oneshot(sign_in_request("ada@north.org", "right"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{b}");
        db.close().await;
    }
}

/// Passwords are checked off the async workers: while a burst of correct
/// sign-ins is being checked, health answers at once, not after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_many_sign_ins_hash_their_passwords() {
    const SIGN_INS: u8 = 48;
    let db = common::sqlite_database("signinburst").await;
    let district = ensure_district(&db.pool, "North").await.unwrap();
    for n in 0..SIGN_INS {
        create_admin(
            &db.pool,
            district,
            &format!("a{n}@north.org"),
            "right",
            BOTH,
        )
        .await
        .unwrap();
    }
    let app = router(&db.pool);
    // How long one password check takes on this machine.
    let hash = backend::accounts::hash_password("right").unwrap();
    let one_check = Instant::now();
    assert!(backend::accounts::verify_password("right", &hash));
    let one_check = one_check.elapsed();
    let started = Instant::now();
    let sign_ins: Vec<_> = (0..SIGN_INS)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut request = sign_in_request(&format!("a{n}@north.org"), "right");
                // Each from its own address: this test is not about the limit.
                request
                    .extensions_mut()
                    .insert(ConnectInfo(std::net::SocketAddr::from((
                        [10, 1, 0, n],
                        4000,
                    ))));
                let status = app.oneshot(request).await.unwrap().status();
                (status, started.elapsed())
            })
        })
        .collect();
    // A while into the burst its passwords are being checked; then health
    // asks the same workers (a task of the runtime, as a real request is).
    // This thread waits without the runtime's timer.
    std::thread::sleep(Duration::from_millis(150));
    let health_sent = started.elapsed();
    let health = tokio::spawn({
        let app = app.clone();
        async move {
            let status = app
                .oneshot(Request::get("/api/health").body(Body::empty()).unwrap())
                .await
                .unwrap()
                .status();
            (status, started.elapsed())
        }
    });
    let (health_status, health_done) = health.await.unwrap();
    assert_eq!(health_status, StatusCode::OK);
    let mut done = Vec::new();
    for sign_in in sign_ins {
        let (status, at) = sign_in.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        done.push(at);
    }
    let last = done.iter().max().copied().unwrap_or_default();
    assert!(
        health_sent < last,
        "inconclusive: the burst was over ({last:?}) before health was sent"
    );
    let waited = health_done - health_sent;
    let rest_of_burst = last.saturating_sub(health_sent);
    eprintln!(
        "health waited {waited:?} (one check {one_check:?}); the burst went on {rest_of_burst:?}"
    );
    // Checked on the workers, health would wait behind passwords being
    // checked; off them, it waits for none.
    assert!(
        waited < one_check && waited * 2 < rest_of_burst,
        "health waited {waited:?} (one password check: {one_check:?}) of the burst's remaining {rest_of_burst:?}"
    );
    db.close().await;
}

#[tokio::test]
async fn overlong_emails_and_passwords_are_refused_before_the_limiter() {
    for db in databases("longsignin").await {
        let b = db.backend;
        let mut client = Client::new(router(&db.pool));
        let long_email = format!("{}@x.org", "a".repeat(250));
        for _ in 0..8 {
            let (status, body) = client
                .send(
                    Method::POST,
                    "/api/auth/sign-in",
                    Some(json!({"email": long_email, "password": "x"})),
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{b}: {body}");
            assert_eq!(body["code"], "invalid-email");
        }
        let counted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_limits")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(counted, 0, "{b}");
        let (status, body) = client
            .send(
                Method::POST,
                "/api/auth/sign-in",
                Some(json!({"email": "a@x.org", "password": "p".repeat(2000)})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{b}: {body}");
        db.close().await;
    }
}

/// Every error answer is JSON {code, message} and echoes nothing sent.
fn assert_json_error(status: StatusCode, body: &Value, expected: StatusCode, sent: &str) {
    assert_eq!(status, expected, "{body}");
    assert!(
        body["code"].is_string() && body["message"].is_string(),
        "{body}"
    );
    assert!(!body.to_string().contains(sent), "{sent} echoed in {body}");
}

#[tokio::test]
async fn every_rejection_is_json_and_echoes_nothing() {
    let (records, schools) = sample_records(5);
    for db in databases("rejections").await {
        let b = db.backend;
        let mut ada = setup(&db, &schools).await;
        let marker = "EchoMarker7";
        // Malformed JSON, and JSON of the wrong shape.
        for body in [
            format!("{{\"label\": \"{marker}"),
            format!("{{\"label\": 5, \"expiresInDays\": \"{marker}\"}}"),
        ] {
            let (status, answer) = ada
                .send_bytes(
                    Method::POST,
                    "/api/embed/tokens",
                    &[("content-type", "application/json")],
                    body.into_bytes(),
                )
                .await;
            assert!(status.is_client_error(), "{b}: {status}");
            assert_json_error(status, &answer, status, marker);
        }
        // No JSON content type.
        let (status, answer) = ada
            .send_bytes(Method::POST, "/api/schools", &[], b"{}".to_vec())
            .await;
        assert_json_error(status, &answer, StatusCode::UNSUPPORTED_MEDIA_TYPE, marker);
        // A path parameter that does not parse.
        let (status, answer) = ada
            .send(Method::GET, &format!("/api/uploads/{marker}"), None)
            .await;
        assert_json_error(status, &answer, StatusCode::BAD_REQUEST, marker);
        // An /api path no route has: JSON 404, not the app's page.
        let (status, answer) = ada.send(Method::GET, &format!("/api/{marker}"), None).await;
        assert_json_error(status, &answer, StatusCode::NOT_FOUND, marker);
        // A wrong method: JSON 405.
        let (status, answer) = ada.send(Method::DELETE, "/api/health", None).await;
        assert_json_error(status, &answer, StatusCode::METHOD_NOT_ALLOWED, marker);
        // A query that does not parse.
        let (status, answer) = ada
            .send(
                Method::GET,
                &format!("/api/roster/users?page={marker}"),
                None,
            )
            .await;
        assert_json_error(status, &answer, StatusCode::BAD_REQUEST, marker);

        // A NUL in a file name, a label, a school name, a query: 400, and
        // PostgreSQL never sees it.
        let (status, answer) = ada
            .send(
                Method::POST,
                "/api/uploads/staged",
                Some(json!({"fileName": "users\u{0}.csv"})),
            )
            .await;
        assert_json_error(status, &answer, StatusCode::BAD_REQUEST, marker);
        assert_eq!(answer["code"], "invalid-file-name", "{b}");
        let (status, answer) = ada
            .send(
                Method::POST,
                "/api/uploads/preview",
                Some(json!({"fileName": "x".repeat(256), "records": records})),
            )
            .await;
        assert_eq!(
            (status, &answer["code"]),
            (StatusCode::BAD_REQUEST, &json!("invalid-file-name")),
            "{b}"
        );
        let (status, answer) = ada
            .send(
                Method::POST,
                "/api/schools",
                Some(json!({"name": "North\u{0}High"})),
            )
            .await;
        assert_json_error(status, &answer, StatusCode::BAD_REQUEST, marker);
        let (status, answer) = ada
            .send(Method::GET, "/api/roster/users?q=a%00b", None)
            .await;
        assert_json_error(status, &answer, StatusCode::BAD_REQUEST, marker);
        assert_eq!(answer["code"], "invalid-text", "{b}");

        // Paging past any end: an empty page, not an overflow.
        let (status, page) = ada
            .send(
                Method::GET,
                "/api/roster/users?page=9223372036854775807&pageSize=500",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}: {page}");
        assert_eq!(page["items"], json!([]), "{b}");
        db.close().await;
    }
}

#[tokio::test]
async fn bodies_and_rows_over_the_limits_are_refused_with_the_limit_named() {
    let (records, schools) = sample_records(5);
    for db in databases("limits").await {
        let b = db.backend;
        let app = router_with(&db.pool, |config| config.max_rows = 10);
        let district = ensure_district(&db.pool, "Maple").await.unwrap();
        for id in &schools {
            let input = backend::orgs::SchoolInput {
                school_id: Some(id.clone()),
                name: format!("School {id}"),
                low_grade: None,
                high_grade: None,
            };
            backend::orgs::insert_school(&db.pool, district, &input)
                .await
                .unwrap();
        }
        create_admin(&db.pool, district, "ada@maple.org", "pw", BOTH)
            .await
            .unwrap();
        let mut ada = Client::new(app);
        assert_eq!(ada.sign_in("ada@maple.org", "pw").await, StatusCode::OK);

        // 11 data rows: the JSON route and the staged route refuse them.
        let users = users_csv(&records, Audience::Program);
        let text = String::from_utf8(users).unwrap();
        let eleven: Vec<&str> = text.lines().take(12).collect();
        assert_eq!(eleven.len(), 12, "{b}: the sample has 11 rows to spare");
        let eleven = eleven.join("\n") + "\n";
        let ten = text.lines().take(11).collect::<Vec<_>>().join("\n") + "\n";
        // The parts are taken; the preview reads them through the validator
        // and stops at the limit.
        let (ok, status, answer) = stage_users(&mut ada, ten).await;
        assert_eq!(status, StatusCode::OK, "{b}: {answer}");
        let (status, answer) = ada
            .send(
                Method::POST,
                &format!("/api/uploads/staged/{ok}/preview"),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}: {answer}");
        let (id, status, answer) = stage_users(&mut ada, eleven.clone()).await;
        assert_eq!(status, StatusCode::OK, "{b}: {answer}");
        let preview = format!("/api/uploads/staged/{id}/preview");
        let (status, answer) = ada.send(Method::POST, &preview, Some(json!({}))).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{b}: {answer}");
        assert_eq!(answer["code"], "too-many-rows");
        assert!(
            answer["message"].as_str().unwrap().contains("10 data rows"),
            "{answer}"
        );
        // The refused upload is gone: it cannot go on with a file too large.
        let (status, _) = ada.send(Method::POST, &preview, Some(json!({}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{b}");
        let eleven_rows = shared::validate(eleven.as_bytes(), None, shared::Options::default());
        let (status, answer) = ada
            .send(
                Method::POST,
                "/api/uploads/preview",
                Some(json!({"fileName": "u.csv", "records": eleven_rows.records})),
            )
            .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{b}: {answer}");
        assert_eq!(answer["code"], "too-many-rows");

        // A body over a route's limit, refused before it is read, with the
        // limit named (and, for the JSON uploads, where larger files go).
        for (path, limit) in [
            ("/api/uploads/preview", "64 MiB"),
            ("/api/schools", "1 MiB"),
        ] {
            let (status, answer) = ada
                .send_bytes(
                    Method::POST,
                    path,
                    &[
                        ("content-type", "application/json"),
                        ("content-length", &(65u64 << 20).to_string()),
                    ],
                    Vec::new(),
                )
                .await;
            assert_eq!(
                status,
                StatusCode::PAYLOAD_TOO_LARGE,
                "{b}: {path} {answer}"
            );
            assert_eq!(answer["code"], "body-too-large");
            let message = answer["message"].as_str().unwrap();
            assert!(message.contains(limit), "{message}");
            assert_eq!(
                message.contains("staged"),
                path.starts_with("/api/uploads"),
                "{message}"
            );
        }
        // A chunked body over the limit (no Content-Length): the same JSON.
        let (status, answer) = ada
            .send_bytes(
                Method::POST,
                "/api/schools",
                &[("content-type", "application/json")],
                vec![b' '; (1 << 20) + 10],
            )
            .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{b}: {answer}");
        assert_eq!(answer["code"], "body-too-large");
        db.close().await;
    }
}

/// A staged upload of one users.csv part: its id, and the part's answer.
async fn stage_users(ada: &mut Client, file: String) -> (String, StatusCode, Value) {
    let (_, created) = ada
        .send(
            Method::POST,
            "/api/uploads/staged",
            Some(json!({"fileName": "u.csv"})),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let path = format!("/api/uploads/staged/{id}/users/0");
    let (status, answer) = ada
        .send_bytes(Method::PUT, &path, &[], file.into_bytes())
        .await;
    (id, status, answer)
}

fn header<'h>(headers: &'h axum::http::HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn security_headers_on_the_app_the_api_and_the_widget() {
    let db = common::sqlite_database("headers").await;
    let dist = std::env::temp_dir().join(format!("rostergate-headers-{}", std::process::id()));
    std::fs::create_dir_all(dist.join("widget")).unwrap();
    let inline = "import init from '/app.js'; init();";
    std::fs::write(
        dist.join("index.html"),
        format!("<html><head><script type=\"module\">{inline}</script></head></html>"),
    )
    .unwrap();
    std::fs::write(dist.join("widget/roster-validator.js"), "export {};").unwrap();
    for secure in [false, true] {
        let dist = dist.clone();
        let app = router_with(&db.pool, move |config| {
            config.dist = dist;
            config.secure_cookies = secure;
        });
        let mut client = Client::new(app);
        let hash = {
            use base64::Engine;
            use sha2::Digest;
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(inline))
        };
        for path in [
            "/",
            "/upload",
            "/api/health",
            "/api/nope",
            "/widget/roster-validator.js",
        ] {
            let (status, headers, _) = client.exchange(Method::GET, path, &[], Vec::new()).await;
            assert!(
                status == StatusCode::OK || path == "/api/nope",
                "{path}: {status}"
            );
            assert_eq!(
                header(&headers, "x-content-type-options"),
                "nosniff",
                "{path}"
            );
            assert_eq!(header(&headers, "referrer-policy"), "no-referrer", "{path}");
            let policy = header(&headers, "content-security-policy");
            assert!(
                policy.contains("frame-ancestors 'none'"),
                "{path}: {policy}"
            );
            if path.starts_with("/api/") {
                assert!(policy.starts_with("default-src 'none'"), "{path}: {policy}");
            } else {
                assert!(
                    policy.contains(&format!(
                        "script-src 'self' 'wasm-unsafe-eval' 'sha256-{hash}'"
                    )),
                    "{path}: {policy}"
                );
                // Inline style attributes (Leptos sets them), nothing else inline.
                assert_eq!(policy.matches("'unsafe-inline'").count(), 1, "{policy}");
                assert!(
                    policy.contains("style-src-attr 'unsafe-inline'"),
                    "{policy}"
                );
                assert!(!policy.contains("script-src-attr"), "{policy}");
            }
            if path.starts_with("/widget/") {
                assert_eq!(header(&headers, "access-control-allow-origin"), "*");
                assert!(
                    headers.get("x-frame-options").is_none(),
                    "the widget may be used anywhere"
                );
            } else {
                assert_eq!(header(&headers, "x-frame-options"), "DENY", "{path}");
            }
            assert_eq!(
                headers.get("strict-transport-security").is_some(),
                secure,
                "{path}: HSTS only over HTTPS"
            );
        }
    }
    db.close().await;
}

/// `rostergate serve` on a new database without --demo seeds nothing and
/// says how to create the first admin.
#[test]
fn serve_without_demo_starts_empty() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("rostergate-nodemo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::write(dir.join("dist/index.html"), "<title>RosterGate</title>").unwrap();
    let url = format!("sqlite://{}", dir.join("roster.db").display());
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_rostergate"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database", &url])
        .arg("--dist")
        .arg(dir.join("dist"))
        .stderr(std::process::Stdio::piped())
        .env_remove("DATABASE_URL")
        .spawn()
        .unwrap();
    let mut said = String::new();
    for line in BufReader::new(server.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.contains("is running at") {
            break;
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(said.contains("rostergate admin create"), "{said}");
    assert!(!said.contains("password"), "no sign-in printed: {said}");
    let districts = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = backend::db::connect(&url).await.unwrap();
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM districts")
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    assert_eq!(districts, 0);
    let _ = std::fs::remove_dir_all(&dir);
}
