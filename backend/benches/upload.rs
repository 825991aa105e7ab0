//! Processing an upload end to end, timed: validate a sample district,
//! reconcile it against the stored roster (the preview), commit it, and
//! commit the same data again (only "no changes").
//!
//!     cargo bench -p backend --bench upload                 # 23,300 students, about 100,000 rows, SQLite
//!     ROSTERGATE_BENCH_STUDENTS=243000 cargo bench -p backend --bench upload   # about 1,100,000 rows
//!     ROSTERGATE_BENCH_DATABASE=postgres://… cargo bench -p backend --bench upload
//!
//! A PostgreSQL URL must name a server the bench may create a database on.

use std::time::Instant;

use backend::accounts::ensure_district;
use backend::orgs::{insert_school, SchoolInput};
use backend::uploads::reconcile::{plan, Mode};
use backend::uploads::store;
use shared::sample::{generate, SampleOptions};
use shared::{validate, Options};

fn main() -> anyhow::Result<()> {
    let students: usize = std::env::var("ROSTERGATE_BENCH_STUDENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(23_300);
    let server = std::env::var("ROSTERGATE_BENCH_DATABASE").ok();
    tokio::runtime::Runtime::new()?.block_on(async move {
        sqlx::any::install_default_drivers();
        let (url, cleanup) = match &server {
            Some(server) if server.starts_with("postgres") => {
                let name = format!("rg_bench_{}", std::process::id());
                let admin = sqlx::AnyPool::connect(server).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
                let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(server);
                (format!("{base}/{name}"), Some((admin, name)))
            }
            _ => {
                let dir = std::env::temp_dir().join(format!("rostergate-bench-{}", std::process::id()));
                let _ = std::fs::remove_dir_all(&dir);
                (format!("sqlite://{}", dir.join("bench.db").display()), None)
            }
        };
        let pool = backend::db::connect(&url).await?;
        let sample = generate(&SampleOptions { students, seed: 42, error_rate: 0.0 });
        let district = ensure_district(&pool, "Bench").await?;
        for school in &sample.schools {
            let input = SchoolInput { school_id: Some(school.school_id.clone()), name: school.name.clone(), low_grade: None, high_grade: None };
            insert_school(&pool, district, &input).await?;
        }
        let rows = sample.users_rows - 1;
        let backend_name = if cleanup.is_some() { "PostgreSQL" } else { "SQLite" };
        println!("{backend_name}: {rows} users.csv rows, {students} students");

        let started = Instant::now();
        let validated = validate(&sample.users_csv, Some(&sample.demographics_csv), Options::default());
        anyhow::ensure!(validated.report.valid, "the sample must be clean");
        println!("  validate            {:>8.2} s", started.elapsed().as_secs_f64());
        for round in ["first commit", "same data again"] {
            let started = Instant::now();
            let stored = store::load(&pool, district).await?;
            let planned = plan(&stored, &validated.records, Mode::Upsert);
            let preview = started.elapsed().as_secs_f64();
            store::apply(&pool, district, &stored, &planned).await?;
            let total = started.elapsed().as_secs_f64();
            println!(
                "  {round:<16} preview {preview:>6.2} s, commit (preview included) {total:>6.2} s; unchanged only: {}",
                planned.counts.only_unchanged()
            );
        }
        pool.close().await;
        if let Some((admin, name)) = cleanup {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&admin).await?;
        }
        Ok(())
    })
}
