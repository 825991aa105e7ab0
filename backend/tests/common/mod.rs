//! Test databases and an in-process HTTP client.
//!
//! Every database test runs on a fresh SQLite file and, when
//! `ROSTERGATE_TEST_POSTGRES` names a server (`.ci/run` starts one), on a
//! fresh PostgreSQL database. Without it the PostgreSQL runs are skipped
//! loudly, except under CI, where a missing server fails the run.
#![allow(dead_code)]

use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use backend::accounts::{create_admin, ensure_district, Permissions};
use backend::orgs::{insert_school, SchoolInput};
use backend::server::{app, AppState, Config};
use serde_json::Value;
use shared::records::Records;
use shared::sample::{generate, SampleOptions};
use shared::{validate, Options};
use sqlx::AnyPool;
use tower::ServiceExt;

pub struct TestDb {
    pub backend: &'static str,
    pub url: String,
    pub pool: AnyPool,
    /// (server URL, database name) to drop afterwards.
    drop: Option<(String, String)>,
}

impl TestDb {
    pub async fn close(self) {
        self.pool.close().await;
        if let Some((server, name)) = self.drop {
            let admin = sqlx::AnyPool::connect(&server).await.unwrap();
            // FORCE cannot end a server process of another role (such as
            // autovacuum on the fresh database), so try again a few times;
            // a database left behind is untidy, not a failed test.
            let mut attempts = 0;
            while let Err(error) = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin)
            .await
            {
                attempts += 1;
                if attempts == 10 {
                    eprintln!("could not drop the test database {name}: {error}");
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            admin.close().await;
        }
    }
}

fn unique(name: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "rg_{}_{}_{}",
        name,
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh SQLite database, for a test that needs one database of any kind.
pub async fn sqlite_database(test: &str) -> TestDb {
    sqlx::any::install_default_drivers();
    let dir = std::env::temp_dir().join(unique(test));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("roster.db").display());
    let pool = backend::db::connect(&url).await.unwrap();
    TestDb {
        backend: "sqlite",
        url,
        pool,
        drop: None,
    }
}

/// Fresh databases for one test: SQLite, and PostgreSQL where available.
pub async fn databases(test: &str) -> Vec<TestDb> {
    let mut out = vec![sqlite_database(test).await];
    out.extend(postgres_database(test).await);
    out
}

/// A fresh PostgreSQL database when `ROSTERGATE_TEST_POSTGRES` names a
/// server; without it the run is skipped loudly, except under CI, where a
/// missing server fails the test.
pub async fn postgres_database(test: &str) -> Option<TestDb> {
    sqlx::any::install_default_drivers();
    match std::env::var("ROSTERGATE_TEST_POSTGRES") {
        Ok(server) => {
            let name = unique(test);
            let admin = sqlx::AnyPool::connect(&server)
                .await
                .expect("the test PostgreSQL server");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
            let base = server.rsplit_once('/').map(|(base, _)| base).unwrap();
            let url = format!("{base}/{name}");
            let pool = backend::db::connect(&url).await.unwrap();
            Some(TestDb {
                backend: "postgres",
                url,
                pool,
                drop: Some((server, name)),
            })
        }
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("CI must test PostgreSQL: set ROSTERGATE_TEST_POSTGRES (scripts/start-postgres.sh prints it)")
        }
        Err(_) => {
            eprintln!(
                "\n!!! SKIPPED the PostgreSQL run of {test}: ROSTERGATE_TEST_POSTGRES is not set \
                 (bash scripts/start-postgres.sh starts a server and prints the URL)\n"
            );
            None
        }
    }
}

pub fn router(pool: &AnyPool) -> Router {
    router_with(pool, |_| {})
}

/// The app's state (to look into what a process holds) and its router.
pub fn state_and_router(pool: &AnyPool) -> (AppState, Router) {
    let dist = std::env::temp_dir().join("rostergate-test-dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<title>RosterGate</title>").unwrap();
    let config = Config::new(
        dist,
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../public"),
    );
    let state = AppState::new(pool.clone(), config).unwrap();
    (state.clone(), app(state))
}

/// The app with its test configuration changed by `configure` first.
pub fn router_with(pool: &AnyPool, configure: impl FnOnce(&mut Config)) -> Router {
    let dist = std::env::temp_dir().join("rostergate-test-dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<title>RosterGate</title>").unwrap();
    let mut config = Config::new(
        dist,
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../public"),
    );
    configure(&mut config);
    app(AppState::new(pool.clone(), config).unwrap())
}

/// A browser, as far as the API can tell: it keeps the session cookie and
/// sends the CSRF token on requests that change state.
pub struct Client {
    pub app: Router,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl Client {
    pub fn new(app: Router) -> Self {
        Client {
            app,
            cookie: None,
            csrf: None,
        }
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        match body {
            Some(body) => {
                self.send_bytes(
                    method,
                    path,
                    &[(header::CONTENT_TYPE.as_str(), "application/json")],
                    body.to_string().into_bytes(),
                )
                .await
            }
            None => self.send_bytes(method, path, &[], Vec::new()).await,
        }
    }

    /// A request with these headers and this body, as it is: the status and
    /// the JSON body of the answer (Null when not JSON).
    pub async fn send_bytes(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let (status, _, bytes) = self.exchange(method, path, headers, body).await;
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A GET: the status and the body's bytes (a download).
    pub async fn get_bytes(&mut self, path: &str) -> (StatusCode, Vec<u8>) {
        let (status, _, bytes) = self.exchange(Method::GET, path, &[], Vec::new()).await;
        (status, bytes)
    }

    /// A request as it is: the status, headers and body of the answer.
    pub async fn exchange(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut request = Request::builder().method(method.clone()).uri(path);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(csrf) = &self.csrf {
            if method != Method::GET {
                request = request.header("x-csrf-token", csrf);
            }
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Body::from(body)).unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        if let Some(set) = response.headers().get(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            assert!(
                set.contains("HttpOnly") && set.contains("SameSite=Strict"),
                "{set}"
            );
            let pair = set.split(';').next().unwrap().to_string();
            self.cookie = pair
                .split_once('=')
                .filter(|(_, v)| !v.is_empty())
                .map(|_| pair.clone());
        }
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), 1 << 26).await.unwrap();
        (status, headers, bytes.to_vec())
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> StatusCode {
        let (status, body) = self
            .send(
                Method::POST,
                "/api/auth/sign-in",
                Some(serde_json::json!({"email": email, "password": password})),
            )
            .await;
        if status == StatusCode::OK {
            self.csrf = body["csrfToken"].as_str().map(String::from);
        }
        status
    }
}

// Uploads: a sample district's clean records, a signed-in admin with both
// permissions, and reading the counts of a report.

pub const BOTH: Permissions = Permissions {
    system_access: true,
    enrollment_access: true,
};

pub fn sample_records(students: usize) -> (Records, Vec<String>) {
    let sample = generate(&SampleOptions {
        students,
        seed: 21,
        error_rate: 0.0,
    });
    let validated = validate(
        &sample.users_csv,
        Some(&sample.demographics_csv),
        Options::default(),
    );
    assert!(validated.report.valid);
    (
        validated.records,
        sample.schools.iter().map(|s| s.school_id.clone()).collect(),
    )
}

pub async fn setup(db: &TestDb, school_ids: &[String]) -> Client {
    let district = ensure_district(&db.pool, "Maple").await.unwrap();
    for id in school_ids {
        let input = SchoolInput {
            school_id: Some(id.clone()),
            name: format!("School {id}"),
            low_grade: None,
            high_grade: None,
        };
        insert_school(&db.pool, district, &input).await.unwrap();
    }
    create_admin(&db.pool, district, "ada@maple.org", "pw", BOTH)
        .await
        .unwrap();
    let mut client = Client::new(router(&db.pool));
    assert_eq!(client.sign_in("ada@maple.org", "pw").await, StatusCode::OK);
    client
}

pub fn tally(report: &Value, entity: &str) -> [u64; 5] {
    let t = &report["counts"][entity];
    ["created", "updated", "unchanged", "removed", "errors"].map(|k| t[k].as_u64().unwrap())
}

pub fn only_unchanged(report: &Value) -> bool {
    ["schools", "staff", "students", "classes", "enrollments"]
        .iter()
        .all(|e| {
            let [c, u, _, r, x] = tally(report, e);
            c + u + r + x == 0
        })
}
