//! `rostergate push` end to end, timed: a sample district's files pushed to
//! a real `rostergate serve` process (the bench build of both), the first
//! time and the same files again; with each push's wall time, the peak
//! memory of push and of the server, and the server's own split (load,
//! plan, apply) from its log.
//!
//!     cargo bench -p backend --bench push                  # 23,300 students, about 100,000 rows, SQLite
//!     ROSTERGATE_BENCH_STUDENTS=243000 cargo bench -p backend --bench push   # about 1,100,000 rows
//!     ROSTERGATE_BENCH_DATABASE=postgres://… cargo bench -p backend --bench push
//!
//! A PostgreSQL URL must name a server the bench may create a database on.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backend::accounts::{create_admin, ensure_district, Permissions};
use backend::orgs::{insert_school, SchoolInput};
use shared::sample::{generate, SampleOptions};

/// A process's peak resident memory (Linux), in MB, while it runs.
fn peak_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

fn main() -> anyhow::Result<()> {
    let students: usize = std::env::var("ROSTERGATE_BENCH_STUDENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(23_300);
    let database = std::env::var("ROSTERGATE_BENCH_DATABASE").ok();
    let bin = env!("CARGO_BIN_EXE_rostergate");
    let dir = std::env::temp_dir().join(format!("rostergate-push-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let runtime = tokio::runtime::Runtime::new()?;

    // The district, its schools, an admin and an embed token.
    let sample = generate(&SampleOptions {
        students,
        seed: 42,
        error_rate: 0.0,
    });
    std::fs::write(dir.join("users.csv"), &sample.users_csv)?;
    std::fs::write(dir.join("demographics.csv"), &sample.demographics_csv)?;
    std::fs::write(dir.join("index.html"), "<title>RosterGate</title>")?;
    let rows = sample.users_csv.iter().filter(|b| **b == b'\n').count() - 1;
    let token = "rge_bench_token";
    let (url, cleanup) = runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let (url, cleanup) = match &database {
            Some(server) if server.starts_with("postgres") => {
                let name = format!("rg_push_bench_{}", std::process::id());
                let admin = sqlx::AnyPool::connect(server).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await?;
                let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(server);
                (format!("{base}/{name}"), Some((admin, name)))
            }
            _ => (format!("sqlite://{}", dir.join("bench.db").display()), None),
        };
        let pool = backend::db::connect(&url).await?;
        let district = ensure_district(&pool, "Bench").await?;
        for school in &sample.schools {
            let input = SchoolInput {
                school_id: Some(school.school_id.clone()),
                name: school.name.clone(),
                low_grade: None,
                high_grade: None,
            };
            insert_school(&pool, district, &input).await?;
        }
        let both = Permissions {
            system_access: true,
            enrollment_access: true,
        };
        let admin = create_admin(&pool, district, "bench@bench.org", "bench", both).await?;
        sqlx::query(
            "INSERT INTO embed_tokens (district_id, created_by, label, token_hash, created_at, expires_at)
             VALUES ($1, $2, 'bench', $3, $4, $5)",
        )
        .bind(district)
        .bind(admin)
        .bind(backend::auth::token_hash(token))
        .bind(backend::db::now())
        .bind(backend::db::now() + 3600)
        .execute(&pool)
        .await?;
        pool.close().await;
        anyhow::Ok((url, cleanup))
    })?;
    drop(sample);

    // The server, in its own process.
    let mut server = Command::new(bin)
        .args(["serve", "--bind", "127.0.0.1:0", "--database", &url])
        .arg("--dist")
        .arg(&dir)
        .env("RUST_LOG", "info,sqlx=warn")
        .stderr(Stdio::piped())
        .spawn()?;
    let log = Arc::new(Mutex::new(String::new()));
    let (port_found, port) = std::sync::mpsc::channel();
    let lines = BufReader::new(server.stderr.take().expect("piped"));
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            if let Some(rest) = line.split("running at http://").nth(1) {
                let _ = port_found.send(rest.split('/').next().unwrap_or_default().to_string());
            }
            kept.lock().expect("log").push_str(&format!("{line}\n"));
        }
    });
    let address = port.recv_timeout(Duration::from_secs(60))?;
    let base = format!("http://{address}");

    for step in ["first", "again"] {
        let started = Instant::now();
        let push = Command::new(bin)
            .arg("push")
            .arg(dir.join("users.csv"))
            .arg("--demographics")
            .arg(dir.join("demographics.csv"))
            .args(["--server", &base, "--token", token])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let pid = push.id();
        // Sample push's peak memory while it runs (it is gone after).
        let watching = std::thread::spawn(move || {
            let mut peak: f64 = 0.0;
            while let Some(mb) = peak_mb(pid) {
                peak = peak.max(mb);
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        });
        let output = push.wait_with_output()?;
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            output.status.success(),
            "push {step}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let push_peak = watching.join().unwrap_or(0.0);
        let split: Vec<String> = log
            .lock()
            .expect("log")
            .lines()
            .filter(|l| l.contains("upload planned") || l.contains("upload committed"))
            .map(|l| l.split("INFO").last().unwrap_or(l).trim().to_string())
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "push": step,
                "rows": rows,
                "seconds": (seconds * 100.0).round() / 100.0,
                "pushPeakMb": push_peak.round(),
                "serverPeakMb": peak_mb(server.id()).unwrap_or(0.0).round(),
                "server": split.iter().rev().take(2).rev().collect::<Vec<_>>(),
            })
        );
    }
    let _ = server.kill();
    let _ = server.wait();
    runtime.block_on(async {
        if let Some((admin, name)) = cleanup {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin)
            .await;
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
