//! Real `rostergate serve` processes on one database: requests of one
//! staged upload alternating between two processes, a process killed with
//! SIGKILL after half the parts and during a commit, SIGTERM during a
//! commit, concurrent uploads through two processes, and `rostergate push`
//! against a server killed and restarted mid-upload. Mostly on PostgreSQL
//! (the store for more than one process); the single-process faults on
//! SQLite too.

mod common;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::{postgres_database, sample_records, setup, sqlite_database, Client, TestDb};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};
use shared::csv_out::Audience;
use shared::export::{demographics_csv, users_csv};
use shared::records::Records;
use sqlx::AnyPool;

/// A `rostergate serve` process.
struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
}

fn dist() -> PathBuf {
    let dist = std::env::temp_dir().join("rostergate-processes-dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<title>RosterGate</title>").unwrap();
    dist
}

impl Server {
    /// Starts a server on `url`, on `port` (0: any free one), and waits
    /// until it listens.
    fn start(url: &str, port: u16) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rostergate"))
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--database",
                url,
            ])
            .arg("--dist")
            .arg(dist())
            .env("RUST_LOG", "info,sqlx=warn")
            .env_remove("DATABASE_URL")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (listening, port_found) = std::sync::mpsc::channel();
        let lines = BufReader::new(child.stderr.take().unwrap());
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                if let Some(rest) = line.split("running at http://127.0.0.1:").nth(1) {
                    let port: u16 = rest.split('/').next().unwrap().parse().unwrap();
                    let _ = listening.send(port);
                }
                kept.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let port = port_found
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the server did not start:\n{}", log.lock().unwrap()));
        Server { child, port, log }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// SIGKILL: no chance to finish anything.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then the exit code.
    fn terminate(&mut self) -> Option<i32> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid()])
            .status()
            .unwrap();
        assert!(sent.success());
        self.child.wait().unwrap().code()
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP request with an embed token, as a script sends it (blocking;
/// the tests call it off the async workers): status and JSON body.
fn call(base: &str, token: &str, method: Method, path: &str, body: Option<Body>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let url = format!("{base}{path}");
    let auth = format!("Bearer {token}");
    let response = match (method.as_str(), body) {
        ("GET", _) => agent.get(&url).header("authorization", &auth).call(),
        ("DELETE", _) => agent.delete(&url).header("authorization", &auth).call(),
        ("PUT", Some(Body::Gzip(bytes))) => agent
            .put(&url)
            .header("authorization", &auth)
            .header("content-encoding", "gzip")
            .send(&bytes[..]),
        ("POST", Some(Body::Json(value))) => agent
            .post(&url)
            .header("authorization", &auth)
            .content_type("application/json")
            .send(value.to_string()),
        other => panic!("no such call: {other:?}"),
    };
    match response {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        }
        // The process was killed under the request.
        Err(_) => (0, Value::Null),
    }
}

/// `POST /api/uploads/staged`: a new upload named `file_name`.
fn create_upload(base: &str, token: &str, file_name: &str) -> (u16, Value) {
    let body = json!({ "fileName": file_name });
    call(
        base,
        token,
        Method::POST,
        "/api/uploads/staged",
        Some(Body::Json(body)),
    )
}

/// Part `n` of `file` of upload `id`, gzip-compressed.
fn put_part(
    base: &str,
    token: &str,
    id: &str,
    file: &str,
    n: usize,
    gzip: Vec<u8>,
) -> (u16, Value) {
    let path = format!("/api/uploads/staged/{id}/{file}/{n}");
    call(base, token, Method::PUT, &path, Some(Body::Gzip(gzip)))
}

/// The preview of upload `id`, its first page.
fn preview_upload(base: &str, token: &str, id: &str) -> (u16, Value) {
    let path = format!("/api/uploads/staged/{id}/preview");
    call(
        base,
        token,
        Method::POST,
        &path,
        Some(Body::Json(json!({}))),
    )
}

/// The commit of upload `id`, without confirming a safety hold.
fn commit_upload(base: &str, token: &str, id: &str) -> (u16, Value) {
    let path = format!("/api/uploads/staged/{id}/commit");
    call(
        base,
        token,
        Method::POST,
        &path,
        Some(Body::Json(json!({}))),
    )
}

#[derive(Debug)]
enum Body {
    Json(Value),
    Gzip(Vec<u8>),
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The files of an upload, in parts of about `part_bytes`: (file, n, gzip).
fn parts(records: &Records, part_bytes: usize) -> Vec<(&'static str, usize, Vec<u8>)> {
    let mut out = Vec::new();
    for (file, bytes) in [
        ("users", users_csv(records, Audience::Program)),
        ("demographics", demographics_csv(records, Audience::Program)),
    ] {
        for (n, part) in bytes.chunks(part_bytes).enumerate() {
            out.push((file, n, gzip(part)));
        }
    }
    out
}

/// The district's roster by its natural keys (row ids differ between
/// databases), hashed: two rosters with the same hash hold the same.
async fn roster_hash(pool: &AnyPool) -> u64 {
    let statements = [
        "SELECT user_id || '|' || role || '|' || first_name || '|' || last_name || '|' || email || '|' || COALESCE(grade, '') || '|' || COALESCE(district_user_id, '') || '|' || COALESCE(state_id, '') || '|' || CAST(active AS TEXT) AS line FROM roster_users ORDER BY user_id",
        "SELECT u.user_id || '|' || s.school_id AS line FROM roster_user_schools us JOIN roster_users u ON u.id = us.user_ref JOIN schools s ON s.id = us.school_ref ORDER BY u.user_id, s.school_id",
        "SELECT c.class_id || '|' || s.school_id || '|' || c.name || '|' || c.grade || '|' || COALESCE(c.display_name, '') || '|' || CAST(c.active AS TEXT) AS line FROM roster_classes c JOIN schools s ON s.id = c.school_ref ORDER BY c.class_id",
        "SELECT u.user_id || '|' || c.class_id || '|' || COALESCE(CAST(e.primary_teacher AS TEXT), '') || '|' || CAST(e.active AS TEXT) AS line FROM roster_enrollments e JOIN roster_users u ON u.id = e.user_ref JOIN roster_classes c ON c.id = e.class_ref ORDER BY u.user_id, c.class_id",
        "SELECT u.user_id || '|' || d.values_json AS line FROM roster_demographics d JOIN roster_users u ON u.id = d.user_ref ORDER BY u.user_id",
    ];
    let mut hasher = DefaultHasher::new();
    for statement in statements {
        let lines: Vec<String> = sqlx::query_scalar(statement).fetch_all(pool).await.unwrap();
        lines.hash(&mut hasher);
    }
    hasher.finish()
}

/// A district with the sample's schools and an embed token (made through
/// the in-process app on the same database).
async fn district_with_token(db: &TestDb, schools: &[String], label: &str) -> (Client, String) {
    let mut ada = setup(db, schools).await;
    let token = token(&mut ada, label).await;
    (ada, token)
}

async fn token(ada: &mut Client, label: &str) -> String {
    let (status, created) = ada
        .send(
            Method::POST,
            "/api/embed/tokens",
            Some(json!({"label": label, "expiresInDays": 1, "allowedOrigins": []})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["token"].as_str().unwrap().to_string()
}

/// The parts of a report that must agree between two runs of one upload.
fn report_key(report: &Value) -> Value {
    json!({
        "counts": report["counts"],
        "perSchool": report["perSchool"],
        "changesTotal": report["changesTotal"],
        "findings": report["findings"],
    })
}

/// The same upload in one process (the in-process app on a fresh database
/// of the same backend): its report and roster, for comparing.
async fn reference(fresh: TestDb, records: &Records, schools: &[String]) -> (Value, u64) {
    let mut ada = setup(&fresh, schools).await;
    let (status, report) = ada
        .send(
            Method::POST,
            "/api/uploads/commit",
            Some(json!({"fileName": "users.csv", "records": records})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let hash = roster_hash(&fresh.pool).await;
    fresh.close().await;
    (report_key(&report), hash)
}

/// Runs a blocking call off the async workers.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_upload_alternates_between_two_processes() {
    let Some(db) = postgres_database("alternate").await else {
        return;
    };
    let (records, schools) = sample_records(120);
    let (_ada, token) = district_with_token(&db, &schools, "Alternating").await;
    let a = Server::start(&db.url, 0);
    let b = Server::start(&db.url, 0);
    let (a_url, b_url) = (a.url(), b.url());
    let pieces = parts(&records, 12_000);
    assert!(pieces.iter().filter(|(f, _, _)| *f == "users").count() >= 2);
    let report = blocking(move || {
        let (status, created) = create_upload(&a_url, &token, "users.csv");
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_string();
        // Part 0 on B, part 1 on A, and so on; the preview on B, the commit on A.
        for (i, (file, n, bytes)) in pieces.into_iter().enumerate() {
            let base = if i % 2 == 0 { &b_url } else { &a_url };
            let (status, answer) = put_part(base, &token, &id, file, n, bytes);
            assert_eq!(status, 200, "{file} {n}: {answer}");
        }
        let (status, preview) = preview_upload(&b_url, &token, &id);
        assert_eq!(status, 200, "{preview}");
        let (status, committed) = commit_upload(&a_url, &token, &id);
        assert_eq!(status, 200, "{committed}");
        assert_eq!(report_key(&preview), report_key(&committed));
        committed
    })
    .await;
    let hash = roster_hash(&db.pool).await;
    let (expected, expected_hash) = reference(
        postgres_database("alternate_ref").await.unwrap(),
        &records,
        &schools,
    )
    .await;
    assert_eq!(
        report_key(&report),
        expected,
        "the same report as one process"
    );
    assert_eq!(hash, expected_hash, "the same roster");
    drop((a, b));
    db.close().await;
}

/// SIGKILL after half the parts; restarted, the process finishes the upload.
async fn killed_after_half_the_parts(db: TestDb, fresh: TestDb) {
    let b = db.backend;
    let (records, schools) = sample_records(120);
    let (_ada, token) = district_with_token(&db, &schools, "Interrupted").await;
    let mut server = Server::start(&db.url, 0);
    let port = server.port;
    let pieces = parts(&records, 12_000);
    let half = pieces.len() / 2;
    let base = server.url();
    let (id, rest) = {
        let token = token.clone();
        blocking(move || {
            let (status, created) = create_upload(&base, &token, "users.csv");
            assert_eq!(status, 201, "{created}");
            let id = created["id"].as_str().unwrap().to_string();
            let mut pieces = pieces.into_iter();
            for (file, n, bytes) in pieces.by_ref().take(half) {
                let (status, _) = put_part(&base, &token, &id, file, n, bytes);
                assert_eq!(status, 200);
            }
            (id, pieces.collect::<Vec<_>>())
        })
        .await
    };
    server.kill();
    let server = Server::start(&db.url, port);
    let base = server.url();
    let report = blocking(move || {
        // Where it stands: the parts before the kill are all there.
        let (status, standing) = call(
            &base,
            &token,
            Method::GET,
            &format!("/api/uploads/staged/{id}"),
            None,
        );
        assert_eq!(status, 200, "{standing}");
        assert_eq!(standing["state"], "receiving");
        let (file, n, _) = &rest[0];
        assert_eq!(
            standing[*file]["nextPart"].as_u64(),
            Some(*n as u64),
            "{standing}"
        );
        for (file, n, bytes) in rest {
            let (status, answer) = put_part(&base, &token, &id, file, n, bytes);
            assert_eq!(status, 200, "{answer}");
        }
        let (status, committed) = commit_upload(&base, &token, &id);
        assert_eq!(status, 200, "{committed}");
        committed
    })
    .await;
    let hash = roster_hash(&db.pool).await;
    let (expected, expected_hash) = reference(fresh, &records, &schools).await;
    assert_eq!(
        report_key(&report),
        expected,
        "{b}: the report of an uninterrupted upload"
    );
    assert_eq!(
        hash, expected_hash,
        "{b}: the roster of an uninterrupted upload"
    );
    drop(server);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_after_half_the_parts_loses_nothing() {
    killed_after_half_the_parts(
        sqlite_database("killparts").await,
        sqlite_database("killparts_ref").await,
    )
    .await;
    if let Some(db) = postgres_database("killparts").await {
        killed_after_half_the_parts(db, postgres_database("killparts_ref").await.unwrap()).await;
    }
}

/// Waits until the server's commit is writing the roster: an insert into
/// a roster table is running in the database (PostgreSQL's own view).
async fn wait_for_a_commit_in_progress(db: &TestDb) {
    let name = db.url.rsplit('/').next().unwrap().to_string();
    let started = Instant::now();
    loop {
        let writing: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND state = 'active'
             AND query ILIKE 'INSERT INTO roster_%'",
        )
        .bind(&name)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        if writing > 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no commit started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An upload staged and previewed through `base`, ready to commit: its id.
fn staged_and_previewed(base: &str, token: &str, records: &Records) -> String {
    let (status, created) = create_upload(base, token, "users.csv");
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    for (file, n, bytes) in parts(records, 4 << 20) {
        let (status, answer) = put_part(base, token, &id, file, n, bytes);
        assert_eq!(status, 200, "{answer}");
    }
    let (status, preview) = preview_upload(base, token, &id);
    assert_eq!(status, 200, "{preview}");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_during_a_commit_changes_nothing_and_the_upload_commits_after() {
    let Some(db) = postgres_database("killcommit").await else {
        return;
    };
    // Large enough that the commit's inserts take a while.
    let (records, schools) = sample_records(6_000);
    let (_ada, token) = district_with_token(&db, &schools, "Killed").await;
    let before = roster_hash(&db.pool).await;
    let mut server = Server::start(&db.url, 0);
    let port = server.port;
    let base = server.url();
    let id = {
        let (base, token, records) = (base.clone(), token.clone(), records.clone());
        blocking(move || staged_and_previewed(&base, &token, &records)).await
    };
    let commit = {
        let (base, token, id) = (base.clone(), token.clone(), id.clone());
        tokio::task::spawn_blocking(move || commit_upload(&base, &token, &id))
    };
    wait_for_a_commit_in_progress(&db).await;
    server.kill();
    let (status, _) = commit.await.unwrap();
    assert_eq!(status, 0, "the commit got no answer");
    assert_eq!(
        roster_hash(&db.pool).await,
        before,
        "every roster table as before"
    );
    let committed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE status = 'committed'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(committed, 0, "no committed history entry either");

    let server = Server::start(&db.url, port);
    let base = server.url();
    let committed = blocking(move || {
        let (status, standing) = call(
            &base,
            &token,
            Method::GET,
            &format!("/api/uploads/staged/{id}"),
            None,
        );
        assert_eq!(
            (status, standing["state"].as_str()),
            (200, Some("previewed")),
            "{standing}"
        );
        commit_upload(&base, &token, &id)
    })
    .await;
    assert_eq!(committed.0, 200, "{}", committed.1);
    assert_eq!(committed.1["committed"], true);
    assert_ne!(
        roster_hash(&db.pool).await,
        before,
        "committed after the restart"
    );
    drop(server);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_commit_lets_it_finish_and_exits_0() {
    let Some(db) = postgres_database("termcommit").await else {
        return;
    };
    let (records, schools) = sample_records(6_000);
    let (_ada, token) = district_with_token(&db, &schools, "Terminated").await;
    let before = roster_hash(&db.pool).await;
    let mut server = Server::start(&db.url, 0);
    let base = server.url();
    let id = {
        let (base, token, records) = (base.clone(), token.clone(), records.clone());
        blocking(move || staged_and_previewed(&base, &token, &records)).await
    };
    let commit = tokio::task::spawn_blocking(move || commit_upload(&base, &token, &id));
    wait_for_a_commit_in_progress(&db).await;
    let code = blocking(move || {
        let code = server.terminate();
        (code, server.log())
    })
    .await;
    assert_eq!(code.0, Some(0), "{}", code.1);
    let (status, report) = commit.await.unwrap();
    // The commit in flight finished (within the shutdown deadline), whole.
    assert_eq!(status, 200, "{report}\n{}", code.1);
    assert_eq!(report["committed"], true);
    let (fresh_report, fresh_hash) = reference(
        postgres_database("termcommit_ref").await.unwrap(),
        &records,
        &schools,
    )
    .await;
    assert_eq!(report_key(&report), fresh_report);
    assert_eq!(roster_hash(&db.pool).await, fresh_hash);
    assert_ne!(fresh_hash, before);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_uploads_through_two_processes() {
    let Some(db) = postgres_database("eight").await else {
        return;
    };
    let (records, schools) = sample_records(60);
    let mut ada = setup(&db, &schools).await;
    let mut tokens = Vec::new();
    for k in 0..8 {
        tokens.push(token(&mut ada, &format!("Uploader {k}")).await);
    }
    let a = Server::start(&db.url, 0);
    let b = Server::start(&db.url, 0);
    let bases = [a.url(), b.url()];
    // Upload k renames the same student, so the roster depends on the order
    // the commits land in.
    let variant = |k: usize| {
        let mut records = records.clone();
        let student = records
            .users
            .iter_mut()
            .find(|u| u.role == shared::records::Role::Student)
            .unwrap();
        student.first_name = format!("Name{k}");
        records
    };
    let uploads: Vec<_> = (0..8)
        .map(|k| {
            let (token, bases, records) = (tokens[k].clone(), bases.clone(), variant(k));
            tokio::task::spawn_blocking(move || -> (u16, Value) {
                let base = |i: usize| bases[(k + i) % 2].clone();
                let (status, created) = create_upload(&base(0), &token, &format!("upload-{k}.csv"));
                if status != 201 {
                    return (status, created);
                }
                let id = created["id"].as_str().unwrap().to_string();
                for (i, (file, n, bytes)) in parts(&records, 6_000).into_iter().enumerate() {
                    let (status, answer) = put_part(&base(i + 1), &token, &id, file, n, bytes);
                    if status != 200 {
                        return (status, answer);
                    }
                }
                commit_upload(&base(1), &token, &id)
            })
        })
        .collect();
    let mut committed = 0;
    for upload in uploads {
        let (status, answer) = upload.await.unwrap();
        match status {
            200 => {
                assert_eq!(answer["committed"], true);
                committed += 1;
            }
            409 | 429 => assert!(
                answer["code"].is_string() && answer["message"].is_string(),
                "{answer}"
            ),
            other => panic!("{other}: {answer}"),
        }
    }
    assert!(committed >= 1, "at least the first uploads get through");
    // The roster equals the committed uploads applied one after another,
    // in the order the history has them.
    let order: Vec<String> =
        sqlx::query_scalar("SELECT file_name FROM uploads WHERE status = 'committed' ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(order.len(), committed);
    let fresh = postgres_database("eight_ref").await.unwrap();
    let mut reference = setup(&fresh, &schools).await;
    for file_name in &order {
        let k: usize = file_name
            .trim_start_matches("upload-")
            .trim_end_matches(".csv")
            .parse()
            .unwrap();
        let (status, _) = reference
            .send(
                Method::POST,
                "/api/uploads/commit",
                Some(json!({"fileName": file_name, "records": variant(k)})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(roster_hash(&db.pool).await, roster_hash(&fresh.pool).await);
    fresh.close().await;
    drop((a, b));
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_finishes_when_the_server_is_killed_and_restarted_mid_upload() {
    for db in [
        Some(sqlite_database("pushkill").await),
        postgres_database("pushkill").await,
    ]
    .into_iter()
    .flatten()
    {
        let b = db.backend;
        let (records, schools) = sample_records(120);
        let (_ada, token) = district_with_token(&db, &schools, "Nightly").await;
        let dir = std::env::temp_dir().join(format!("rg-pushkill-{}-{b}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let users = dir.join("users.csv");
        std::fs::write(&users, users_csv(&records, Audience::Person)).unwrap();
        let demographics = dir.join("demographics.csv");
        std::fs::write(&demographics, demographics_csv(&records, Audience::Person)).unwrap();
        let mut server = Server::start(&db.url, 0);
        let port = server.port;
        let push = Command::new(env!("CARGO_BIN_EXE_rostergate"))
            .arg("push")
            .arg(&users)
            .arg("--demographics")
            .arg(&demographics)
            .args([
                "--server",
                &server.url(),
                "--token",
                &token,
                "--part-bytes",
                "2048",
            ])
            .env_remove("ROSTERGATE_TOKEN")
            .env_remove("ROSTERGATE_SERVER")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Once some parts are in, the server is killed, then restarted.
        let started = Instant::now();
        loop {
            let parts: i64 =
                sqlx::query_scalar("SELECT COALESCE(MAX(users_parts), 0) FROM staged_uploads")
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
            if parts >= 3 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{b}: push sent no parts"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.kill();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let server = Server::start(&db.url, port);
        let output = blocking(move || push.wait_with_output().unwrap()).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{b}: {stderr}");
        assert!(
            stderr.contains("going on from where the server stands")
                || stderr.contains("trying again"),
            "{b}: {stderr}"
        );
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["committed"], true, "{b}");
        let (expected, expected_hash) = reference(
            if b == "sqlite" {
                sqlite_database("pushkill_ref").await
            } else {
                postgres_database("pushkill_ref").await.unwrap()
            },
            &records,
            &schools,
        )
        .await;
        assert_eq!(report_key(&report)["counts"], expected["counts"], "{b}");
        assert_eq!(roster_hash(&db.pool).await, expected_hash, "{b}");
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
        db.close().await;
    }
}

/// SQLite takes one writer at a time: a writer holding the lock longer than
/// the old 5-second busy timeout (as a large commit does) makes a portal
/// edit wait, then succeed; never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_portal_edit_waits_for_a_long_writer() {
    let db = sqlite_database("sqlitewait").await;
    let (records, schools) = sample_records(20);
    let mut ada = setup(&db, &schools).await;
    let (status, _) = ada
        .send(
            Method::POST,
            "/api/uploads/commit",
            Some(json!({"fileName": "users.csv", "records": records})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let user = &records.users[0];
    // Another connection takes the write lock and holds it for 6 seconds.
    let holder = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&db.url)
        .await
        .unwrap();
    let mut writer = holder.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *writer)
        .await
        .unwrap();
    let held = Duration::from_secs(6);
    let release = tokio::spawn(async move {
        tokio::time::sleep(held).await;
        sqlx::query("COMMIT").execute(&mut *writer).await.unwrap();
    });
    let started = Instant::now();
    let (status, answer) = ada
        .send(
            Method::PUT,
            &format!("/api/roster/users/{}", user.user_id),
            Some(json!({"firstName": "Waited", "lastName": user.last_name, "email": user.email})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        started.elapsed() >= held - Duration::from_millis(200),
        "it waited for the lock"
    );
    release.await.unwrap();
    db.close().await;
}

/// Two free ports on this machine.
fn free_ports() -> [u16; 2] {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    [
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    ]
}

fn health(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        && call(
            &format!("http://127.0.0.1:{port}"),
            "",
            Method::GET,
            "/api/health",
            None,
        )
        .0 == 200
}

/// `scripts/serve-two.sh` starts two processes on one database, which
/// answer for each other's uploads, and stops both on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scale_out_script_starts_two_processes_on_one_database() {
    let Some(db) = postgres_database("servetwo").await else {
        return;
    };
    let (_ada, token) = district_with_token(&db, &["0001".to_string()], "Trial").await;
    let ports = free_ports();
    let mut script = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scripts/serve-two.sh"
        ))
        .arg("--dist")
        .arg(dist())
        .env("DATABASE_URL", &db.url)
        .env("ROSTERGATE_BIN", env!("CARGO_BIN_EXE_rostergate"))
        .env("ROSTERGATE_PORTS", format!("{} {}", ports[0], ports[1]))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let answered = blocking(move || {
        let started = Instant::now();
        while !(health(ports[0]) && health(ports[1])) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the servers did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let [a, b] = ports.map(|p| format!("http://127.0.0.1:{p}"));
        let (status, created) = create_upload(&a, &token, "users.csv");
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap();
        call(
            &b,
            &token,
            Method::GET,
            &format!("/api/uploads/staged/{id}"),
            None,
        )
    })
    .await;
    assert_eq!(answered.0, 200, "the other process answers: {}", answered.1);
    let stopped = Command::new("kill")
        .args(["-TERM", &script.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = blocking(move || script.wait().unwrap()).await;
    assert!(status.success(), "{status:?}");
    assert!(!health(ports[0]) && !health(ports[1]), "both stopped");
    db.close().await;
}
