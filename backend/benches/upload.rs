//! Processing an upload end to end, timed, the way the browser does it:
//! the clean files of a sample district go through the staged upload API
//! (gzip parts of at most `maxPartBytes`), in process, then preview, commit,
//! and the same data again (only "no changes").
//!
//!     cargo bench -p backend --bench upload                 # 23,300 students, about 100,000 rows, SQLite
//!     ROSTERGATE_BENCH_STUDENTS=243000 cargo bench -p backend --bench upload   # about 1,100,000 rows
//!     ROSTERGATE_BENCH_DATABASE=postgres://… cargo bench -p backend --bench upload
//!
//! A PostgreSQL URL must name a server the bench may create a database on.
//! `ROSTERGATE_BENCH_DATABASE=sqlite` (or nothing) uses a fresh SQLite file.

use std::io::Write;
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use backend::accounts::{create_admin, ensure_district, Permissions};
use backend::orgs::{insert_school, SchoolInput};
use backend::server::{app, AppState, Config};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};
use shared::csv_out::Audience;
use shared::export::{demographics_csv, users_csv};
use shared::sample::{generate, SampleOptions};
use shared::{validate, Options};
use tower::ServiceExt;

/// A signed-in browser, as far as the API can tell.
struct Browser {
    app: Router,
    cookie: String,
    csrf: String,
}

impl Browser {
    async fn send(
        &self,
        method: Method,
        path: &str,
        gzip: bool,
        body: Vec<u8>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header(header::CONTENT_TYPE, "application/json");
        if gzip {
            request = request.header(header::CONTENT_ENCODING, "gzip");
        }
        let response = self
            .app
            .clone()
            .oneshot(request.body(Body::from(body))?)
            .await?;
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 28).await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    async fn json(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let (status, answer) = self
            .send(Method::POST, path, false, body.to_string().into_bytes())
            .await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {answer}");
        Ok(answer)
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// The process's peak resident memory so far (Linux), for the report.
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.2} GB", kb / 1e6))
        })
        .unwrap_or_else(|| "?".into())
}

fn main() -> anyhow::Result<()> {
    let students: usize = std::env::var("ROSTERGATE_BENCH_STUDENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(23_300);
    let server = std::env::var("ROSTERGATE_BENCH_DATABASE").ok();
    // RUST_LOG=info shows where a commit's time goes (load, plan, apply);
    // RUST_LOG=backend=debug each phase of load and apply.
    if std::env::var_os("RUST_LOG").is_some() {
        backend::server::init_logging();
    }
    tokio::runtime::Runtime::new()?.block_on(async move {
        sqlx::any::install_default_drivers();
        let dir = std::env::temp_dir().join(format!("rostergate-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let (url, cleanup) = match &server {
            Some(server) if server.starts_with("postgres") => {
                let name = format!("rg_bench_{}", std::process::id());
                let admin = sqlx::AnyPool::connect(server).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
                let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(server);
                (format!("{base}/{name}"), Some((admin, name)))
            }
            _ => (format!("sqlite://{}", dir.join("bench.db").display()), None),
        };
        let pool = backend::db::connect(&url).await?;
        let sample = generate(&SampleOptions { students, seed: 42, error_rate: 0.0 });
        let district = ensure_district(&pool, "Bench").await?;
        for school in &sample.schools {
            let input = SchoolInput { school_id: Some(school.school_id.clone()), name: school.name.clone(), low_grade: None, high_grade: None };
            insert_school(&pool, district, &input).await?;
        }
        let both = Permissions { system_access: true, enrollment_access: true };
        create_admin(&pool, district, "bench@bench.org", "bench", both).await?;
        std::fs::write(dir.join("index.html"), "<title>RosterGate</title>")?;
        let config = Config::new(dir.clone(), dir.clone());
        let app = app(AppState::new(pool.clone(), config)?);
        let sign_in = Request::post("/api/auth/sign-in")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"email": "bench@bench.org", "password": "bench"}).to_string()))?;
        let response = app.clone().oneshot(sign_in).await?;
        let cookie = response.headers()[header::SET_COOKIE].to_str()?.split(';').next().unwrap_or_default().to_string();
        let session: Value = serde_json::from_slice(&to_bytes(response.into_body(), 1 << 20).await?)?;
        let browser = Browser { app, cookie, csrf: session["csrfToken"].as_str().unwrap_or_default().to_string() };

        let rows = sample.users_rows - 1;
        let backend_name = if cleanup.is_some() { "PostgreSQL" } else { "SQLite" };
        println!("{backend_name}: {rows} users.csv rows, {students} students");

        // The browser's side, not the server's: validate, write the clean files, gzip the parts.
        let started = Instant::now();
        let validated = validate(&sample.users_csv, Some(&sample.demographics_csv), Options::default());
        anyhow::ensure!(validated.report.valid, "the sample must be clean");
        let files = [("users", users_csv(&validated.records, Audience::Program)), ("demographics", demographics_csv(&validated.records, Audience::Program))];
        drop(validated);
        println!("  peak memory of the process before the first request (the sample and its files): {}", peak_memory());
        let created = browser.json("/api/uploads/staged", json!({"fileName": "users.csv", "mode": "upsert"})).await?;
        let max_part = created["maxPartBytes"].as_u64().unwrap_or(1 << 20) as usize;
        browser.send(Method::DELETE, &format!("/api/uploads/staged/{}", created["id"].as_str().unwrap_or_default()), false, Vec::new()).await?;
        let parts: Vec<(&str, Vec<Vec<u8>>)> =
            files.iter().map(|(file, bytes)| (*file, bytes.chunks(max_part).map(gzip).collect())).collect();
        let raw: usize = files.iter().map(|(_, b)| b.len()).sum();
        let sent: usize = parts.iter().flat_map(|(_, p)| p).map(Vec::len).sum();
        let count: usize = parts.iter().map(|(_, p)| p.len()).sum();
        println!(
            "  browser: validate, write and gzip {:>6.2} s ({count} parts, {:.1} MB → {:.1} MB gzip)",
            started.elapsed().as_secs_f64(),
            raw as f64 / 1e6,
            sent as f64 / 1e6
        );

        for round in ["first commit", "same data again"] {
            let created = browser.json("/api/uploads/staged", json!({"fileName": "users.csv", "mode": "upsert"})).await?;
            let id = created["id"].as_str().unwrap_or_default().to_string();
            let started = Instant::now();
            for (file, file_parts) in &parts {
                for (n, part) in file_parts.iter().enumerate() {
                    let (status, answer) =
                        browser.send(Method::PUT, &format!("/api/uploads/staged/{id}/{file}/{n}"), true, part.clone()).await?;
                    anyhow::ensure!(status.is_success(), "{file} part {n}: {status} {answer}");
                }
            }
            let validate = started.elapsed().as_secs_f64();
            let peak_parts = peak_memory();
            let started = Instant::now();
            browser.json(&format!("/api/uploads/staged/{id}/preview"), json!({})).await?;
            let preview = started.elapsed().as_secs_f64();
            let peak_preview = peak_memory();
            let started = Instant::now();
            let report = browser.json(&format!("/api/uploads/staged/{id}/commit"), json!({})).await?;
            let commit = started.elapsed().as_secs_f64();
            let peak_commit = peak_memory();
            let unchanged_only = ["schools", "staff", "students", "classes", "enrollments"].iter().all(|e| {
                let t = &report["counts"][e];
                ["created", "updated", "removed", "errors"].iter().all(|k| t[k] == 0)
            });
            println!(
                "  {round:<16} parts (decompress + validate) {validate:>6.2} s, preview (finish + load + plan) {preview:>6.2} s, commit (plan again if the roster changed + write) {commit:>6.2} s; unchanged only: {unchanged_only}"
            );
            println!("  {:<16} peak memory of the process after the parts {peak_parts}, the preview {peak_preview}, the commit {peak_commit}", "");
        }
        pool.close().await;
        if let Some((admin, name)) = cleanup {
            // FORCE cannot end another role's process (autovacuum on the
            // fresh database): try again a few times, as the tests do.
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let mut attempts = 0;
            while let Err(error) = sqlx::query(sqlx::AssertSqlSafe(drop.clone())).execute(&admin).await {
                attempts += 1;
                if attempts == 10 {
                    eprintln!("could not drop the bench database {name}: {error}");
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    })
}
