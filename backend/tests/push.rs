//! `rostergate push` (the built binary) against the app listening on a real
//! port, on SQLite and PostgreSQL: preview stores nothing, a push creates
//! the records and shows in the history, the same files again are only "no
//! changes", rows with errors are held back, the safety hold needs
//! --confirm, and refusals and unreachable servers have their exit codes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::{Method, StatusCode};
use common::{databases, only_unchanged, setup, sqlite_database, tally, Client, TestDb};
use serde_json::{json, Value};
use shared::sample::{generate, SampleOptions};

struct Pushed {
    code: i32,
    report: Value,
    stderr: String,
}

/// Runs the binary off the async workers (the server answers on them).
async fn push(args: Vec<String>) -> Pushed {
    tokio::task::spawn_blocking(move || {
        let output = Command::new(env!("CARGO_BIN_EXE_rostergate"))
            .arg("push")
            .args(&args)
            .env_remove("ROSTERGATE_TOKEN")
            .env_remove("ROSTERGATE_SERVER")
            .output()
            .unwrap();
        Pushed {
            code: output.status.code().unwrap(),
            report: serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

fn args(users: &Path, extra: &[&str]) -> Vec<String> {
    let mut out = vec![users.display().to_string()];
    out.extend(extra.iter().map(|s| s.to_string()));
    out
}

async fn roster_size(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM roster_users WHERE active = 1")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// The app on 127.0.0.1 with a free port: its base URL.
async fn listen(client: &Client) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = client.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn write_files(dir: &Path, students: usize, error_rate: f64) -> (PathBuf, PathBuf, Vec<String>) {
    let sample = generate(&SampleOptions {
        students,
        seed: 5,
        error_rate,
    });
    std::fs::create_dir_all(dir).unwrap();
    let users = dir.join("users.csv");
    let demographics = dir.join("demographics.csv");
    std::fs::write(&users, &sample.users_csv).unwrap();
    std::fs::write(&demographics, &sample.demographics_csv).unwrap();
    let schools = sample.schools.iter().map(|s| s.school_id.clone()).collect();
    (users, demographics, schools)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_previews_commits_and_is_idempotent() {
    for db in databases("push").await {
        let b = db.backend;
        let dir = std::env::temp_dir().join(format!("rg-push-{}-{b}", std::process::id()));
        let (users, demographics, schools) = write_files(&dir, 25, 0.0);
        let mut ada = setup(&db, &schools).await;
        let (status, created) = ada
            .send(
                Method::POST,
                "/api/embed/tokens",
                Some(json!({"label": "Nightly SIS export", "expiresInDays": 7, "allowedOrigins": [], "allowRemovals": true})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let token = created["token"].as_str().unwrap().to_string();
        let base = listen(&ada).await;
        let demo = demographics.display().to_string();
        let common = [
            "--demographics",
            &demo,
            "--server",
            &base,
            "--token",
            &token,
        ];

        // --preview: the report, nothing stored.
        let preview = push(args(&users, &[&common[..], &["--preview"]].concat())).await;
        assert_eq!(preview.code, 0, "{b}: {}", preview.stderr);
        assert!(preview.stderr.contains("users.csv:"), "{}", preview.stderr);
        assert_eq!(preview.report["committed"], false, "{b}");
        let [created_students, ..] = tally(&preview.report, "students");
        assert!(created_students > 0, "{b}: {}", preview.report);
        assert_eq!(roster_size(&db).await, 0, "{b}: a preview stores nothing");

        // Pushed: created, in the history as the token.
        let pushed = push(args(&users, &common)).await;
        assert_eq!(pushed.code, 0, "{b}: {}", pushed.stderr);
        assert_eq!(pushed.report["committed"], true, "{b}");
        assert_eq!(tally(&pushed.report, "students")[0], created_students);
        assert!(pushed.report["counts"]["enrollments"]["created"].as_u64() > Some(0));
        assert!(roster_size(&db).await > 0, "{b}");
        // Every use is in the history: both previews and the commit.
        let (_, history) = ada.send(Method::GET, "/api/uploads", None).await;
        let statuses: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["committed", "previewed", "previewed"], "{b}");
        for entry in history.as_array().unwrap() {
            assert_eq!(entry["fileName"], "users.csv", "{b}");
            assert_eq!(entry["credential"], "embed token \"Nightly SIS export\"");
        }
        assert_eq!(
            tally(&history[1], "students")[0],
            created_students,
            "{b}: the preview's counts"
        );

        // The same files again: only no changes.
        let again = push(args(&users, &common)).await;
        assert_eq!(again.code, 0, "{b}: {}", again.stderr);
        assert!(
            only_unchanged(&again.report),
            "{b}: {}",
            again.report["counts"]
        );

        // A quarter of the file in full sync: the safety hold, then --confirm.
        let text = std::fs::read_to_string(&users).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let part = dir.join("part.csv");
        std::fs::write(&part, lines[..lines.len() / 4].join("\n") + "\n").unwrap();
        let sync = ["--server", &base, "--token", &token, "--full-sync"];
        let held = push(args(&part, &sync)).await;
        assert_eq!(held.code, 1, "{b}: {}", held.stderr);
        assert!(held.stderr.contains("safety-hold") && held.stderr.contains("--confirm"));
        let before = roster_size(&db).await;
        let confirmed = push(args(&part, &[&sync[..], &["--confirm"]].concat())).await;
        assert_eq!(confirmed.code, 0, "{b}: {}", confirmed.stderr);
        assert!(roster_size(&db).await < before, "{b}: deactivated");

        // Refusals: a wrong token (1), no server (2), no file (2).
        let wrong = push(args(&users, &["--server", &base, "--token", "rge_wrong"])).await;
        assert_eq!(wrong.code, 1, "{b}: {}", wrong.stderr);
        assert!(wrong.stderr.contains("invalid-token"), "{}", wrong.stderr);
        let gone = push(args(
            &users,
            &[
                "--server",
                "http://127.0.0.1:9",
                "--token",
                &token,
                "--retry-seconds",
                "1",
            ],
        ))
        .await;
        assert!(gone.stderr.contains("trying again"), "{b}: {}", gone.stderr);
        assert_eq!(gone.code, 2, "{b}: {}", gone.stderr);
        let missing = push(args(&dir.join("nope.csv"), &common)).await;
        assert_eq!(missing.code, 2, "{b}: {}", missing.stderr);
        let _ = std::fs::remove_dir_all(&dir);
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_holds_back_rows_with_errors() {
    let db = sqlite_database("pusherrors").await;
    let dir = std::env::temp_dir().join(format!("rg-push-errors-{}", std::process::id()));
    let (users, _, schools) = write_files(&dir, 40, 0.2);
    let mut ada = setup(&db, &schools).await;
    let (_, created) = ada
        .send(
            Method::POST,
            "/api/embed/tokens",
            Some(json!({"label": "CLI", "expiresInDays": 1, "allowedOrigins": []})),
        )
        .await;
    let token = created["token"].as_str().unwrap().to_string();
    let base = listen(&ada).await;
    let pushed = push(args(&users, &["--server", &base, "--token", &token])).await;
    assert_eq!(pushed.code, 0, "{}", pushed.stderr);
    assert!(
        pushed.stderr.contains("(held back)") && !pushed.stderr.contains(" 0 with errors"),
        "{}",
        pushed.stderr
    );
    assert_eq!(pushed.report["committed"], true);
    assert!(roster_size(&db).await > 0);
    let _ = std::fs::remove_dir_all(&dir);
    db.close().await;
}

/// Values that look like spreadsheet formulas (and one that looks guarded)
/// reach the server as validated, are stored as they are, and come back
/// from "Download your data" (guarded for spreadsheets) as a file that
/// pushes again as only "no changes".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_like_formulas_round_trip_through_push_and_download() {
    for db in databases("pushformula").await {
        let b = db.backend;
        let dir = std::env::temp_dir().join(format!("rg-push-formula-{}-{b}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let users = dir.join("users.csv");
        std::fs::write(
            &users,
            "schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,classId,className,classGrade,classDisplayName\n\
             S1,-5,student,Ann,Lee,+ann@x.org,05,C1,=Algebra,05,@home\n\
             S1,T-1,teacher,Bo,Kim,bo@x.org,,C1,=Algebra,05,@home\n\
             S1,T-1,teacher,Bo,Kim,bo@x.org,,C2,''=x,05,\n",
        )
        .unwrap();
        let mut ada = setup(&db, &["S1".to_string()]).await;
        let (_, created) = ada
            .send(
                Method::POST,
                "/api/embed/tokens",
                Some(json!({"label": "SIS", "expiresInDays": 1, "allowedOrigins": []})),
            )
            .await;
        let token = created["token"].as_str().unwrap().to_string();
        let base = listen(&ada).await;
        let pushed = push(args(&users, &["--server", &base, "--token", &token])).await;
        assert_eq!(pushed.code, 0, "{b}: {}", pushed.stderr);
        assert_eq!(
            tally(&pushed.report, "students")[0],
            1,
            "{b}: {}",
            pushed.report
        );

        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT user_id, email FROM roster_users ORDER BY user_id")
                .fetch_all(&db.pool)
                .await
                .unwrap();
        let stored: Vec<(&str, &str)> = stored
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(stored, [("-5", "+ann@x.org"), ("T-1", "bo@x.org")], "{b}");
        let classes: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT name, display_name FROM roster_classes ORDER BY class_id")
                .fetch_all(&db.pool)
                .await
                .unwrap();
        assert_eq!(
            classes,
            [
                ("=Algebra".to_string(), Some("@home".to_string())),
                ("'=x".to_string(), None)
            ],
            "{b}"
        );

        // Downloaded for a spreadsheet (guarded), pushed again: no changes.
        let (status, file) = ada.get_bytes("/api/roster/download?scope=all").await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let text = String::from_utf8_lossy(&file);
        assert!(
            text.contains(",'-5,") && text.contains(",''=x,"),
            "{b}: {text}"
        );
        let downloaded = dir.join("downloaded.csv");
        std::fs::write(&downloaded, &file).unwrap();
        let again = push(args(&downloaded, &["--server", &base, "--token", &token])).await;
        assert_eq!(again.code, 0, "{b}: {}", again.stderr);
        assert!(
            only_unchanged(&again.report),
            "{b}: {}",
            again.report["counts"]
        );
        let _ = std::fs::remove_dir_all(&dir);
        db.close().await;
    }
}
