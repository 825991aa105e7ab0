//! Staged uploads on SQLite and PostgreSQL: the clean files in gzip parts
//! give what the JSON routes give; parts out of order, other admins, gzip
//! bombs, encodings, invalid records and the per-district limit.

mod common;

use std::io::Write;

use axum::http::{Method, StatusCode};
use backend::accounts::{create_admin, ensure_district};
use backend::uploads::staged::{MAX_PART_BYTES, PER_DISTRICT};
use common::{databases, only_unchanged, sample_records, setup, tally, Client, BOTH};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};
use shared::csv_out::Audience;
use shared::export::{demographics_csv, users_csv};
use shared::records::Records;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Splits at odd places: inside the BOM, after one byte, then sizes that
/// land inside quoted values, multi-byte characters and line ends.
fn odd_slices(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    for size in [1usize, 2, 7, 333, 4_099, 10_007].into_iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (part, tail) = rest.split_at(size.min(rest.len()));
        out.push(part);
        rest = tail;
    }
    out
}

async fn start(client: &mut Client, mode: &str) -> String {
    let (status, created) = client
        .send(
            Method::POST,
            "/api/uploads/staged",
            Some(json!({"fileName": "users.csv", "mode": mode})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["maxPartBytes"], MAX_PART_BYTES);
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.len() >= 32, "an unguessable id: {id}");
    id
}

async fn put_part(
    client: &mut Client,
    id: &str,
    file: &str,
    n: usize,
    bytes: &[u8],
    gzipped: bool,
) -> (StatusCode, Value) {
    let path = format!("/api/uploads/staged/{id}/{file}/{n}");
    if gzipped {
        client
            .send_bytes(
                Method::PUT,
                &path,
                &[("content-encoding", "gzip")],
                gzip(bytes),
            )
            .await
    } else {
        client
            .send_bytes(Method::PUT, &path, &[], bytes.to_vec())
            .await
    }
}

/// A staged upload of these records' files, every part sent; its id.
async fn stage(client: &mut Client, records: &Records) -> String {
    let id = start(client, "upsert").await;
    let files = [
        ("users", users_csv(records, Audience::Program)),
        ("demographics", demographics_csv(records, Audience::Program)),
    ];
    for (file, bytes) in &files {
        let mut received = 0;
        for (n, slice) in odd_slices(bytes).into_iter().enumerate() {
            // Most parts gzip, every third as it is: both are accepted.
            let (status, answer) = put_part(client, &id, file, n, slice, n % 3 != 2).await;
            assert_eq!(status, StatusCode::OK, "{file} part {n}: {answer}");
            received += slice.len() as u64;
            assert_eq!(answer["received"], received);
            assert_eq!(answer["nextPart"], n + 1);
        }
    }
    id
}

/// `POST /api/uploads/staged/{id}/{step}` ("preview" or "commit") with `{}`.
async fn staged_step(client: &mut Client, id: &str, step: &str) -> (StatusCode, Value) {
    client
        .send(
            Method::POST,
            &format!("/api/uploads/staged/{id}/{step}"),
            Some(json!({})),
        )
        .await
}

fn same_report(a: &Value, b: &Value) {
    for key in [
        "counts",
        "perSchool",
        "changesTotal",
        "changes",
        "findings",
        "hold",
    ] {
        assert_eq!(a[key], b[key], "{key}");
    }
}

#[tokio::test]
async fn staged_parts_give_what_the_json_way_gives() {
    let (records, schools) = sample_records(150);
    for db in databases("staged").await {
        let b = db.backend;
        let mut client = setup(&db, &schools).await;
        let body = json!({"fileName": "users.csv", "records": records});
        let (status, by_json) = client
            .send(Method::POST, "/api/uploads/preview", Some(body))
            .await;
        assert_eq!(status, StatusCode::OK, "{b}: {by_json}");

        let id = stage(&mut client, &records).await;
        let preview_path = format!("/api/uploads/staged/{id}/preview");
        let (status, staged) = client
            .send(Method::POST, &preview_path, Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::OK, "{b}: {staged}");
        same_report(&by_json, &staged);
        assert_eq!(staged["committed"], false);
        // Previewing again reuses the validation; a page of changes.
        let (_, page) = client
            .send(
                Method::POST,
                &preview_path,
                Some(json!({"changesOffset": 5, "changesLimit": 3})),
            )
            .await;
        assert_eq!(
            page["changes"],
            json!(staged["changes"].as_array().unwrap()[5..8])
        );
        // No more parts once previewed.
        let (status, _) = put_part(&mut client, &id, "demographics", 99, b"x", false).await;
        assert_eq!(status, StatusCode::CONFLICT, "{b}");

        let commit_path = format!("/api/uploads/staged/{id}/commit");
        let (status, committed) = client
            .send(Method::POST, &commit_path, Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::OK, "{b}: {committed}");
        assert_eq!(committed["committed"], true);
        assert!(committed["uploadId"].as_i64().is_some());
        same_report(&by_json, &committed);
        // Committed: its parts are gone; a preview is refused, and a commit
        // again (a client that lost the answer) gets the same counts.
        let (status, refused) = client
            .send(Method::POST, &preview_path, Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{b}: {refused}");
        assert_eq!(refused["code"], "upload-committed");
        let (status, again) = client
            .send(Method::POST, &commit_path, Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::OK, "{b}: {again}");
        assert_eq!(again["uploadId"], committed["uploadId"]);
        assert_eq!(again["counts"], committed["counts"]);
        let (_, standing) = client
            .send(Method::GET, &format!("/api/uploads/staged/{id}"), None)
            .await;
        assert_eq!(standing["state"], "committed", "{b}: {standing}");
        assert_eq!(standing["uploadId"], committed["uploadId"]);
        let parts: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM staged_parts WHERE upload_id = $1")
                .bind(&id)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(parts, 0, "{b}: the parts are deleted with the commit");

        // The same data again: only no changes, either way.
        let again = stage(&mut client, &records).await;
        let (status, second) = client
            .send(
                Method::POST,
                &format!("/api/uploads/staged/{again}/commit"),
                Some(json!({"confirm": false})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}: {second}");
        assert!(only_unchanged(&second), "{b}: {}", second["counts"]);
        let body = json!({"fileName": "users.csv", "records": records});
        let (_, json_again) = client
            .send(Method::POST, "/api/uploads/preview", Some(body))
            .await;
        assert!(only_unchanged(&json_again), "{b}");
        let (_, history) = client.send(Method::GET, "/api/uploads", None).await;
        assert_eq!(history.as_array().unwrap().len(), 2, "{b}: one per commit");
        assert_eq!(history[0]["fileName"], "users.csv");
        assert_eq!(history[0]["mode"], "upsert");
        db.close().await;
    }
}

#[tokio::test]
async fn staged_refusals_and_limits() {
    let (records, schools) = sample_records(30);
    let users = users_csv(&records, Audience::Program);
    let demographics = demographics_csv(&records, Audience::Program);
    for db in databases("stagedrefusals").await {
        let b = db.backend;
        let mut client = setup(&db, &schools).await;
        let id = start(&mut client, "upsert").await;

        // Out of order: part 1 before part 0; a users part after demographics.
        let (status, refused) = put_part(&mut client, &id, "users", 1, &users[..10], true).await;
        assert_eq!(status, StatusCode::CONFLICT, "{b}");
        assert_eq!(refused["code"], "part-out-of-order");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("the next part is 0"),
            "{refused}"
        );
        // A gzip bomb: a few kilobytes that decompress past the cap.
        let bomb = vec![b'a'; MAX_PART_BYTES + 1];
        let (status, refused) = put_part(&mut client, &id, "users", 0, &bomb, true).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{b}: {refused}");
        assert_eq!(refused["code"], "part-too-large");
        // Neither broken gzip nor another encoding.
        let (status, _) = client
            .send_bytes(
                Method::PUT,
                &format!("/api/uploads/staged/{id}/users/0"),
                &[("content-encoding", "gzip")],
                b"not gzip at all".to_vec(),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{b}");
        let (status, _) = client
            .send_bytes(
                Method::PUT,
                &format!("/api/uploads/staged/{id}/users/0"),
                &[("content-encoding", "br")],
                users.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{b}");
        // A refused part changes nothing: part 0 is still the next.
        let (status, _) = put_part(&mut client, &id, "users", 0, &users, true).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let (status, _) = put_part(&mut client, &id, "demographics", 0, &demographics, true).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let (status, refused) = put_part(&mut client, &id, "users", 1, b"", true).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::CONFLICT, Some("part-out-of-order")),
            "{b}"
        );

        // Another admin of the district, and an admin of another district: 404.
        let district = ensure_district(&db.pool, "Maple").await.unwrap();
        create_admin(&db.pool, district, "bea@maple.org", "pw", BOTH)
            .await
            .unwrap();
        let other_district = ensure_district(&db.pool, "Oak").await.unwrap();
        create_admin(&db.pool, other_district, "cy@oak.org", "pw", BOTH)
            .await
            .unwrap();
        let enrol_only = backend::accounts::Permissions {
            system_access: false,
            enrollment_access: true,
        };
        create_admin(&db.pool, district, "dee@maple.org", "pw", enrol_only)
            .await
            .unwrap();
        let mut dee = Client::new(client.app.clone());
        assert_eq!(dee.sign_in("dee@maple.org", "pw").await, StatusCode::OK);
        let mut anonymous = Client::new(client.app.clone());
        for (who, expected) in [
            (&mut dee, StatusCode::FORBIDDEN),
            (&mut anonymous, StatusCode::UNAUTHORIZED),
        ] {
            let (status, _) = who
                .send(
                    Method::POST,
                    "/api/uploads/staged",
                    Some(json!({"fileName": "u.csv", "mode": "upsert"})),
                )
                .await;
            assert_eq!(status, expected, "{b}");
        }
        let mut bea = Client::new(client.app.clone());
        assert_eq!(bea.sign_in("bea@maple.org", "pw").await, StatusCode::OK);
        let mut cy = Client::new(client.app.clone());
        assert_eq!(cy.sign_in("cy@oak.org", "pw").await, StatusCode::OK);
        for other in [&mut bea, &mut cy] {
            let (status, _) = put_part(other, &id, "demographics", 1, b"", true).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{b}");
            for action in ["preview", "commit"] {
                let (status, _) = other
                    .send(
                        Method::POST,
                        &format!("/api/uploads/staged/{id}/{action}"),
                        Some(json!({})),
                    )
                    .await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{b}: {action}");
            }
            let (status, _) = other
                .send(Method::DELETE, &format!("/api/uploads/staged/{id}"), None)
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{b}");
        }
        let (status, preview) = staged_step(&mut client, &id, "preview").await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{b}: the owner's upload survived: {preview}"
        );

        // At most two per district: the owner's own oldest makes way; another
        // admin is refused while two are held.
        assert_eq!(PER_DISTRICT, 2);
        let second = start(&mut client, "upsert").await;
        let (status, _) = bea
            .send(
                Method::POST,
                "/api/uploads/staged",
                Some(json!({"fileName": "u.csv", "mode": "upsert"})),
            )
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{b}");
        let third = start(&mut client, "upsert").await;
        let (status, _) = staged_step(&mut client, &id, "preview").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{b}: the oldest was dropped");
        // Dropping one makes room; a dropped upload is gone.
        let (status, _) = client
            .send(
                Method::DELETE,
                &format!("/api/uploads/staged/{second}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        let (status, _) = put_part(&mut client, &second, "users", 0, &users, true).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{b}");
        let bea_upload = start(&mut bea, "upsert").await;
        for (who, id) in [(&mut client, third), (&mut bea, bea_upload)] {
            let (status, _) = who
                .send(Method::DELETE, &format!("/api/uploads/staged/{id}"), None)
                .await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        }

        // Invalid records: 422 with the report, on every call; nothing stored.
        let mut crafted = records.clone();
        crafted.users[0].email = "not an email".into();
        let id = start(&mut client, "upsert").await;
        let (status, _) = put_part(
            &mut client,
            &id,
            "users",
            0,
            &users_csv(&crafted, Audience::Program),
            true,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        for action in ["preview", "commit", "commit"] {
            let (status, refused) = client
                .send(
                    Method::POST,
                    &format!("/api/uploads/staged/{id}/{action}"),
                    Some(json!({"confirm": true})),
                )
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {action}");
            assert_eq!(refused["code"], "invalid-records");
            assert!(refused["report"]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == "invalid-email"));
        }
        let (_, history) = client.send(Method::GET, "/api/uploads", None).await;
        assert_eq!(history, json!([]), "{b}: nothing stored");
        let (_, roster) = client.send(Method::GET, "/api/roster/users", None).await;
        assert_eq!(roster["total"], 0, "{b}: {roster}");
        db.close().await;
    }
}

/// The preview's plan is kept for the commit only while the roster is as
/// the preview saw it: a portal edit in between makes the commit plan
/// again, so its report (and what it writes) reflects the edit.
#[tokio::test]
async fn a_portal_edit_between_preview_and_commit_makes_the_commit_plan_again() {
    let (records, schools) = sample_records(40);
    let student = records
        .users
        .iter()
        .find(|u| u.role == shared::records::Role::Student)
        .unwrap()
        .clone();
    for db in databases("staged_replan").await {
        let b = db.backend;
        let mut client = setup(&db, &schools).await;
        let body = json!({"fileName": "users.csv", "records": records});
        let (status, _) = client
            .send(Method::POST, "/api/uploads/commit", Some(body))
            .await;
        assert_eq!(status, StatusCode::OK, "{b}");

        let id = stage(&mut client, &records).await;
        let (status, preview) = staged_step(&mut client, &id, "preview").await;
        assert_eq!(status, StatusCode::OK, "{b}: {preview}");
        assert!(only_unchanged(&preview), "{b}");

        let (status, edited) = client
            .send(
                Method::PUT,
                &format!("/api/roster/users/{}", student.user_id),
                Some(json!({"firstName": "Edited", "lastName": student.last_name, "email": student.email})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}: {edited}");

        let (status, committed) = staged_step(&mut client, &id, "commit").await;
        assert_eq!(status, StatusCode::OK, "{b}: {committed}");
        assert_eq!(tally(&committed, "students")[1], 1, "{b}: one updated");
        let change = committed["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == *student.user_id)
            .unwrap_or_else(|| panic!("{b}: the edited user is in the changes"));
        assert_eq!(change["overwritesPortalEdit"], true, "{b}");
        let (_, user) = client
            .send(
                Method::GET,
                &format!("/api/roster/users?q={}", student.user_id),
                None,
            )
            .await;
        assert!(
            !user.to_string().contains("Edited"),
            "{b}: the upload wrote the file's name: {user}"
        );
        db.close().await;
    }
}

/// Two staged uploads previewed against the same roster: the first commit
/// changes it, so the second plans again instead of writing a stale plan.
#[tokio::test]
async fn a_commit_after_another_upload_plans_again() {
    let (records, schools) = sample_records(30);
    for db in databases("staged_two").await {
        let b = db.backend;
        let mut client = setup(&db, &schools).await;
        let first = stage(&mut client, &records).await;
        let second = stage(&mut client, &records).await;
        for id in [&first, &second] {
            let (status, preview) = staged_step(&mut client, id, "preview").await;
            assert_eq!(status, StatusCode::OK, "{b}: {preview}");
            assert!(tally(&preview, "students")[0] > 0, "{b}: all new");
        }
        let (status, created) = staged_step(&mut client, &first, "commit").await;
        assert_eq!(status, StatusCode::OK, "{b}: {created}");
        assert!(tally(&created, "students")[0] > 0, "{b}");
        let (status, again) = staged_step(&mut client, &second, "commit").await;
        assert_eq!(status, StatusCode::OK, "{b}: {again}");
        assert!(only_unchanged(&again), "{b}: {}", again["counts"]);
        db.close().await;
    }
}

/// The history row is written in the commit's transaction: when it cannot
/// be written, nothing of the upload is.
#[tokio::test]
async fn a_commit_whose_history_row_fails_writes_nothing() {
    let (records, schools) = sample_records(20);
    for db in databases("staged_history_atomic").await {
        let b = db.backend;
        let mut client = setup(&db, &schools).await;
        let refuse = if b == "sqlite" {
            "CREATE TRIGGER refuse_history BEFORE INSERT ON uploads BEGIN SELECT RAISE(ABORT, 'refused'); END"
        } else {
            "CREATE FUNCTION refuse_history() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
             CREATE TRIGGER refuse_history BEFORE INSERT ON uploads FOR EACH ROW EXECUTE FUNCTION refuse_history();"
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(refuse))
            .execute(&db.pool)
            .await
            .unwrap();
        let id = stage(&mut client, &records).await;
        let (status, answer) = staged_step(&mut client, &id, "commit").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{b}: {answer}");
        assert!(
            !answer.to_string().contains("refused"),
            "{b}: nothing internal leaks"
        );
        for table in [
            "roster_users",
            "roster_classes",
            "roster_enrollments",
            "uploads",
        ] {
            let count: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
            assert_eq!(count, 0, "{b}: {table}");
        }
        db.close().await;
    }
}

/// A school edit changes which school IDs an upload may name: a commit
/// after one plans again (here the file's school is no longer known).
#[tokio::test]
async fn a_school_edit_between_preview_and_commit_makes_the_commit_plan_again() {
    let (records, schools) = sample_records(20);
    for db in databases("staged_school_edit").await {
        let b = db.backend;
        let mut client = setup(&db, &schools).await;
        let id = stage(&mut client, &records).await;
        let (status, preview) = staged_step(&mut client, &id, "preview").await;
        assert_eq!(status, StatusCode::OK, "{b}: {preview}");
        assert_eq!(tally(&preview, "schools")[4], 0, "{b}: all schools known");

        let (_, listed) = client.send(Method::GET, "/api/schools", None).await;
        let school = &listed.as_array().unwrap()[0];
        let (status, edited) = client
            .send(
                Method::PUT,
                &format!("/api/schools/{}", school["id"]),
                Some(json!({"schoolId": "RENAMED-1", "name": school["name"]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}: {edited}");

        let (status, committed) = staged_step(&mut client, &id, "commit").await;
        assert_eq!(status, StatusCode::OK, "{b}: {committed}");
        assert_eq!(
            tally(&committed, "schools")[4],
            1,
            "{b}: the old school ID is unknown now: {}",
            committed["counts"]
        );
        db.close().await;
    }
}
