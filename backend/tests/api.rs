//! The API on SQLite and PostgreSQL: signing in, sessions and CSRF, the
//! permission matrix of every route, schools and the activation gate, the
//! admin command and the demo district.

mod common;

use axum::http::{Method, StatusCode};
use backend::accounts::{create_admin, ensure_district, Permissions};
use common::{databases, router, sqlite_database, Client};
use serde_json::json;

const BOTH: Permissions = Permissions {
    system_access: true,
    enrollment_access: true,
};
const SYSTEM: Permissions = Permissions {
    system_access: true,
    enrollment_access: false,
};
const NONE: Permissions = Permissions {
    system_access: false,
    enrollment_access: false,
};

#[tokio::test]
async fn sign_in_session_and_sign_out() {
    for db in databases("sign_in").await {
        let district = ensure_district(&db.pool, "North").await.unwrap();
        create_admin(
            &db.pool,
            district,
            "Ada@North.example.org",
            "correct horse",
            BOTH,
        )
        .await
        .unwrap();
        let mut client = Client::new(router(&db.pool));
        let b = db.backend;

        assert_eq!(
            client.send(Method::GET, "/api/auth/me", None).await.0,
            StatusCode::UNAUTHORIZED,
            "{b}"
        );
        assert_eq!(
            client.sign_in("ada@north.example.org", "wrong").await,
            StatusCode::UNAUTHORIZED,
            "{b}"
        );
        assert_eq!(
            client
                .sign_in("ADA@north.example.org", "correct horse")
                .await,
            StatusCode::OK,
            "{b}"
        );
        let (status, me) = client.send(Method::GET, "/api/auth/me", None).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert_eq!(me["admin"]["email"], "ada@north.example.org");
        assert_eq!(me["admin"]["districtName"], "North");
        assert_eq!(me["admin"]["systemAccess"], true);
        assert_eq!(me["csrfToken"].as_str(), client.csrf.as_deref());

        // Without the CSRF header a state-changing request is refused.
        let csrf = client.csrf.take();
        assert_eq!(
            client
                .send(Method::POST, "/api/auth/sign-out", None)
                .await
                .0,
            StatusCode::FORBIDDEN,
            "{b}"
        );
        client.csrf = Some("not-the-token".into());
        assert_eq!(
            client
                .send(Method::POST, "/api/auth/sign-out", None)
                .await
                .0,
            StatusCode::FORBIDDEN,
            "{b}"
        );
        client.csrf = csrf;
        let stolen_cookie = client.cookie.clone();
        assert_eq!(
            client
                .send(Method::POST, "/api/auth/sign-out", None)
                .await
                .0,
            StatusCode::OK,
            "{b}"
        );
        assert_eq!(client.cookie, None, "the cookie is cleared");
        client.cookie = stolen_cookie;
        assert_eq!(
            client.send(Method::GET, "/api/auth/me", None).await.0,
            StatusCode::UNAUTHORIZED,
            "{b}: the session is gone"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_limited() {
    for db in databases("limit").await {
        let district = ensure_district(&db.pool, "North").await.unwrap();
        create_admin(
            &db.pool,
            district,
            "ada@north.example.org",
            "correct horse",
            BOTH,
        )
        .await
        .unwrap();
        let mut client = Client::new(router(&db.pool));
        for _ in 0..5 {
            assert_eq!(
                client.sign_in("ada@north.example.org", "guess").await,
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            client
                .sign_in("ada@north.example.org", "correct horse")
                .await,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            db.backend
        );
        // Another address is not held back by this one's failures.
        assert_eq!(
            client.sign_in("someone@else.org", "x").await,
            StatusCode::UNAUTHORIZED
        );
        db.close().await;
    }
}

/// Every route: no session → 401; signed in without a permission → 403;
/// another district's school → 404; the right admin → 2xx.
#[tokio::test]
async fn permission_matrix() {
    for db in databases("matrix").await {
        let b = db.backend;
        let north = ensure_district(&db.pool, "North").await.unwrap();
        let south = ensure_district(&db.pool, "South").await.unwrap();
        create_admin(&db.pool, north, "full@north.org", "pw-full-north", BOTH)
            .await
            .unwrap();
        create_admin(
            &db.pool,
            north,
            "system@north.org",
            "pw-system-north",
            SYSTEM,
        )
        .await
        .unwrap();
        create_admin(&db.pool, north, "none@north.org", "pw-none-north", NONE)
            .await
            .unwrap();
        create_admin(&db.pool, south, "full@south.org", "pw-full-south", BOTH)
            .await
            .unwrap();
        let app = router(&db.pool);

        let mut south_admin = Client::new(app.clone());
        assert_eq!(
            south_admin.sign_in("full@south.org", "pw-full-south").await,
            StatusCode::OK
        );
        let (status, south_school) = south_admin
            .send(
                Method::POST,
                "/api/schools",
                Some(json!({"schoolId": "S1", "name": "South High"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let south_path = format!("/api/schools/{}", south_school["id"]);

        let routes: Vec<(Method, String, Option<serde_json::Value>)> = vec![
            (Method::GET, "/api/schools".into(), None),
            (
                Method::POST,
                "/api/schools".into(),
                Some(json!({"schoolId": "N1", "name": "North Elementary"})),
            ),
            (
                Method::PUT,
                south_path.clone(),
                Some(json!({"schoolId": "N2", "name": "Taken over"})),
            ),
            (Method::GET, "/api/activation".into(), None),
            (Method::GET, "/api/auth/me".into(), None),
            (Method::POST, "/api/auth/sign-out".into(), None),
        ];
        for (method, path, body) in &routes {
            let mut anonymous = Client::new(app.clone());
            let (status, error) = anonymous.send(method.clone(), path, body.clone()).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{b}: {method} {path} without a session"
            );
            assert_eq!(error["code"], "unauthorized");

            let mut none = Client::new(app.clone());
            assert_eq!(
                none.sign_in("none@north.org", "pw-none-north").await,
                StatusCode::OK
            );
            let (status, _) = none.send(method.clone(), path, body.clone()).await;
            let expected = if path.starts_with("/api/auth") {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status, expected, "{b}: {method} {path} without permissions");

            let mut system = Client::new(app.clone());
            assert_eq!(
                system.sign_in("system@north.org", "pw-system-north").await,
                StatusCode::OK
            );
            let (status, _) = system.send(method.clone(), path, body.clone()).await;
            let expected = if *path == south_path {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            assert_eq!(status, expected, "{b}: {method} {path} with System access");
        }
        // North never sees South's school, and South's is unchanged.
        let mut north_admin = Client::new(app.clone());
        assert_eq!(
            north_admin.sign_in("full@north.org", "pw-full-north").await,
            StatusCode::OK
        );
        let (_, schools) = north_admin.send(Method::GET, "/api/schools", None).await;
        assert!(
            schools
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["name"] != "South High"),
            "{b}: {schools}"
        );
        let (_, schools) = south_admin.send(Method::GET, "/api/schools", None).await;
        assert_eq!(schools[0]["schoolId"], "S1", "{b}");
        db.close().await;
    }
}

#[tokio::test]
async fn schools_and_the_activation_gate() {
    for db in databases("gate").await {
        let b = db.backend;
        let district = ensure_district(&db.pool, "North").await.unwrap();
        create_admin(&db.pool, district, "ada@north.org", "pw", BOTH)
            .await
            .unwrap();
        let mut client = Client::new(router(&db.pool));
        assert_eq!(client.sign_in("ada@north.org", "pw").await, StatusCode::OK);

        let (_, gate) = client.send(Method::GET, "/api/activation", None).await;
        assert_eq!(
            gate,
            json!({"open": false, "blockingSchools": []}),
            "{b}: no schools, no uploads"
        );

        let (status, first) = client
            .send(
                Method::POST,
                "/api/schools",
                Some(json!({"name": " Maple Elementary ", "lowGrade": "k", "highGrade": "5"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert_eq!(first["name"], "Maple Elementary");
        assert_eq!(first["lowGrade"], "KG");
        assert_eq!(first["highGrade"], "05");
        let (status, _) = client
            .send(
                Method::POST,
                "/api/schools",
                Some(json!({"schoolId": "0042", "name": "Cedar Middle"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}");

        let (_, gate) = client.send(Method::GET, "/api/activation", None).await;
        assert_eq!(gate["open"], false, "{b}");
        assert_eq!(
            gate["blockingSchools"],
            json!([{"id": first["id"], "name": "Maple Elementary", "reason": "has no school ID"}])
        );

        let path = format!("/api/schools/{}", first["id"]);
        let (status, error) = client
            .send(
                Method::PUT,
                &path,
                Some(json!({"schoolId": "0042", "name": "Maple Elementary"})),
            )
            .await;
        assert_eq!(
            (status, error["code"].as_str()),
            (StatusCode::CONFLICT, Some("duplicate-school-id")),
            "{b}"
        );
        let (status, _) = client
            .send(
                Method::PUT,
                &path,
                Some(json!({"schoolId": "0041", "name": "Maple Elementary"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let (_, gate) = client.send(Method::GET, "/api/activation", None).await;
        assert_eq!(gate, json!({"open": true, "blockingSchools": []}), "{b}");

        // Bad input says what is wrong.
        let cases = [
            (json!({"name": ""}), "invalid-name"),
            (json!({"name": "X", "schoolId": "00 42"}), "invalid-id"),
            (json!({"name": "X", "lowGrade": "14"}), "invalid-grade"),
            (
                json!({"name": "X", "lowGrade": "09", "highGrade": "05"}),
                "invalid-grade",
            ),
        ];
        for (body, code) in cases {
            let (status, error) = client
                .send(Method::POST, "/api/schools", Some(body.clone()))
                .await;
            assert_eq!(
                (status, error["code"].as_str()),
                (StatusCode::BAD_REQUEST, Some(code)),
                "{b}: {body}"
            );
        }
        let (status, _) = client
            .send(
                Method::PUT,
                "/api/schools/999999",
                Some(json!({"name": "Ghost"})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{b}");
        db.close().await;
    }
}

#[tokio::test]
async fn demo_district_signs_in_and_is_open_for_uploads() {
    for db in databases("demo").await {
        let b = db.backend;
        assert!(backend::demo::database_is_empty(&db.pool).await.unwrap());
        let first = backend::demo::seed(&db.pool).await.unwrap();
        let second = backend::demo::seed(&db.pool).await.unwrap();
        assert_ne!(
            first.password, second.password,
            "each seed prints a fresh password"
        );
        let mut client = Client::new(router(&db.pool));
        assert_eq!(
            client.sign_in(first.email, &first.password).await,
            StatusCode::UNAUTHORIZED,
            "{b}"
        );
        assert_eq!(
            client.sign_in(second.email, &second.password).await,
            StatusCode::OK,
            "{b}"
        );
        let (_, schools) = client.send(Method::GET, "/api/schools", None).await;
        assert_eq!(
            schools.as_array().unwrap().len(),
            3,
            "{b}: schools seeded once"
        );
        let (_, gate) = client.send(Method::GET, "/api/activation", None).await;
        assert_eq!(gate["open"], true, "{b}");
        let (_, students) = client
            .send(Method::GET, "/api/roster/users?scope=students", None)
            .await;
        assert_eq!(
            students["total"], 1800,
            "{b}: the sample roster is seeded once"
        );
        let (_, classes) = client.send(Method::GET, "/api/roster/classes", None).await;
        assert!(classes["total"].as_i64().unwrap() > 50, "{b}");
        db.close().await;
    }
}

#[test]
fn admin_create_prints_a_password_that_signs_in() {
    let dir = std::env::temp_dir().join(format!("rostergate-admin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let url = format!("sqlite://{}", dir.join("nested/roster.db").display());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rostergate"))
        .args([
            "admin",
            "create",
            "--district",
            "East",
            "--email",
            "Eve@East.org",
            "--system",
            "--database",
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with("Created eve@east.org in East. Password: "),
        "{stdout}"
    );
    let password = stdout.trim().rsplit(' ').next().unwrap().to_string();
    assert_eq!(password.len(), 20);

    let again = std::process::Command::new(env!("CARGO_BIN_EXE_rostergate"))
        .args([
            "admin",
            "create",
            "--district",
            "East",
            "--email",
            "eve@east.org",
            "--database",
            &url,
        ])
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(2),
        "the same email twice is refused"
    );

    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = backend::db::connect(&url).await.unwrap();
        let mut client = Client::new(router(&pool));
        assert_eq!(
            client.sign_in("eve@east.org", &password).await,
            StatusCode::OK
        );
        let (_, me) = client.send(Method::GET, "/api/auth/me", None).await;
        assert_eq!(
            (
                me["admin"]["systemAccess"].as_bool(),
                me["admin"]["enrollmentAccess"].as_bool()
            ),
            (Some(true), Some(false))
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// The OpenAPI document lists every route the router serves, and every
/// route it lists answers (no 404 or 405) at its method.
#[tokio::test]
async fn openapi_lists_every_route() {
    let db = sqlite_database("openapi").await;
    let mut client = Client::new(router(&db.pool));
    let (status, doc) = client.send(Method::GET, "/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let listed: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, methods)| {
            methods
                .as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let routes: Vec<(String, String)> = backend::server::api_routes()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(listed.len(), routes.len());
    for route in &routes {
        assert!(listed.contains(route), "{route:?} is not documented");
    }
    assert!(routes.len() >= 18, "{routes:?}");
    for (method, path) in routes {
        let concrete = path
            .replace("{id}", "1")
            .replace("{user_id}", "U1")
            .replace("{n}", "0");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = (method != Method::GET).then(|| json!({}));
        let (status, _) = client.send(method.clone(), &concrete, body).await;
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {concrete}: {status}"
        );
    }
    db.close().await;
}

/// Failed sign-ins are limited per client IP address too, over all email
/// addresses; another address is not affected.
#[tokio::test]
async fn sign_in_limit_per_client_address() {
    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::Request;
    use tower::ServiceExt;

    for db in databases("sign_in_ip").await {
        let b = db.backend;
        let district = ensure_district(&db.pool, "North").await.unwrap();
        create_admin(&db.pool, district, "ada@north.org", "right", BOTH)
            .await
            .unwrap();
        let app = router(&db.pool);
        let attempt = |ip: [u8; 4], email: String, password: &str| {
            let mut request = Request::post("/api/auth/sign-in")
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({"email": email, "password": password}).to_string(),
                ))
                .unwrap();
            request
                .extensions_mut()
                .insert(ConnectInfo(std::net::SocketAddr::from((ip, 4000))));
            app.clone().oneshot(request)
        };
        let attacker = [10, 0, 0, 7];
        // 20 failures, each on another address: no single address reaches its limit.
        for n in 0..20 {
            let response = attempt(attacker, format!("guess{n}@north.org"), "x")
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{b}: {n}");
        }
        let response = attempt(attacker, "ada@north.org".into(), "right")
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{b}: that client is held back"
        );
        let response = attempt([10, 0, 0, 8], "ada@north.org".into(), "right")
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{b}: others are not");
        db.close().await;
    }
}
