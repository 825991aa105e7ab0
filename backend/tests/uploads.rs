//! Processing uploads on SQLite and PostgreSQL: preview, commit, the same
//! data again, updates, actions, full sync with the safety hold, stored-data
//! checks, refused payloads, permissions and history.

mod common;

use axum::http::{Method, StatusCode};
use backend::accounts::{create_admin, ensure_district, Permissions};
use common::{databases, only_unchanged, sample_records, setup, tally, Client};
use serde_json::{json, Value};
use shared::records::Records;
use shared::{validate, Options};

async fn upload(
    client: &mut Client,
    action: &str,
    records: &Records,
    extra: Value,
) -> (StatusCode, Value) {
    let mut body = json!({"fileName": "users.csv", "records": records});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    client
        .send(Method::POST, &format!("/api/uploads/{action}"), Some(body))
        .await
}

#[tokio::test]
async fn preview_commit_again_update_and_actions() {
    let (records, schools) = sample_records(150);
    for db in databases("uploads").await {
        let b = db.backend;
        let mut client = setup(&db, &schools).await;
        let students = records
            .users
            .iter()
            .filter(|u| u.role == shared::records::Role::Student)
            .count() as u64;

        let (status, preview) = upload(&mut client, "preview", &records, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{b}: {preview}");
        assert_eq!(tally(&preview, "students"), [students, 0, 0, 0, 0], "{b}");
        assert_eq!(
            tally(&preview, "enrollments")[0],
            records.enrollments.len() as u64,
            "{b}"
        );
        assert_eq!(preview["committed"], false);
        // A preview writes nothing.
        let (_, again) = upload(&mut client, "preview", &records, json!({})).await;
        assert_eq!(tally(&again, "students"), [students, 0, 0, 0, 0], "{b}");

        let (status, committed) = upload(&mut client, "commit", &records, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{b}: {committed}");
        assert_eq!(committed["committed"], true);
        assert_eq!(
            tally(&committed, "classes")[0],
            records.classes.len() as u64,
            "{b}"
        );
        let per_school = committed["perSchool"].as_object().unwrap();
        assert_eq!(per_school.len(), schools.len(), "{b}: counts per school");

        let (_, second) = upload(&mut client, "commit", &records, json!({})).await;
        assert!(
            only_unchanged(&second),
            "{b}: the same data twice gives only no changes: {}",
            second["counts"]
        );
        assert_eq!(tally(&second, "students")[2], students);

        // An update shows its field changes.
        let mut changed = records.clone();
        let target = changed
            .users
            .iter_mut()
            .find(|u| u.role == shared::records::Role::Student)
            .unwrap();
        target.last_name = "Renamed".into();
        let renamed = target.user_id.to_string();
        let (_, preview) = upload(&mut client, "preview", &changed, json!({})).await;
        assert_eq!(tally(&preview, "students")[1], 1, "{b}");
        let change = preview["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == renamed.as_str())
            .unwrap();
        assert_eq!(
            change["fields"],
            json!([{"field": "userLastName", "from": records.users.iter().find(|u| *u.user_id == *renamed).unwrap().last_name, "to": "Renamed"}])
        );
        upload(&mut client, "commit", &changed, json!({})).await;

        // Actions: remove one enrollment, deactivate a user, remove a class.
        let mut actions = changed.clone();
        actions.enrollments[0].remove = true;
        let deactivated = actions
            .users
            .iter()
            .position(|u| {
                u.role == shared::records::Role::Student
                    && *u.user_id != *actions.enrollments[0].user_id
            })
            .unwrap();
        actions.users[deactivated].deactivate = true;
        actions
            .enrollments
            .retain(|e| e.user_id != actions.users[deactivated].user_id);
        let removed_class = actions.classes.len() - 1;
        actions.classes[removed_class].remove = true;
        let removed_class_id = actions.classes[removed_class].class_id.clone();
        actions
            .enrollments
            .retain(|e| e.class_id != removed_class_id);
        let (status, report) = upload(&mut client, "commit", &actions, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{b}: {report}");
        assert_eq!(tally(&report, "students")[3], 1, "{b}: one deactivated");
        assert_eq!(tally(&report, "classes")[3], 1, "{b}: one class removed");
        assert!(tally(&report, "enrollments")[3] >= 1, "{b}");
        // A later plain upload restores them.
        let (_, restored) = upload(&mut client, "commit", &changed, json!({})).await;
        assert_eq!(
            tally(&restored, "students")[1],
            1,
            "{b}: reactivated: {}",
            restored["counts"]
        );
        assert_eq!(tally(&restored, "classes")[1], 1, "{b}");
        let (_, settled) = upload(&mut client, "commit", &changed, json!({})).await;
        assert!(only_unchanged(&settled), "{b}: {}", settled["counts"]);

        // The browser's path: records → users.csv → validated → the same records.
        let csv = shared::export::users_csv(&changed, shared::csv_out::Audience::Program);
        let revalidated = validate(&csv, None, Options::default());
        let mut without_demographics = changed.clone();
        without_demographics.demographics.clear();
        let (_, reupload) = upload(&mut client, "preview", &revalidated.records, json!({})).await;
        assert!(only_unchanged(&reupload), "{b}: {}", reupload["counts"]);

        // History.
        let (_, history) = client.send(Method::GET, "/api/uploads", None).await;
        assert_eq!(history.as_array().unwrap().len(), 6, "{b}: one per commit");
        assert_eq!(history[0]["adminEmail"], "ada@maple.org");
        db.close().await;
    }
}

#[tokio::test]
async fn full_sync_and_the_safety_hold() {
    let (records, schools) = sample_records(150);
    for db in databases("fullsync").await {
        let b = db.backend;
        let mut client = setup(&db, &schools).await;
        upload(&mut client, "commit", &records, json!({})).await;
        // A file with a fifth of the students: full sync removes the rest of its schools'.
        let mut subset = records.clone();
        let keep: Vec<_> = subset
            .users
            .iter()
            .filter(|u| u.role == shared::records::Role::Student)
            .take(30)
            .map(|u| u.user_id.clone())
            .collect();
        subset
            .users
            .retain(|u| u.role != shared::records::Role::Student || keep.contains(&u.user_id));
        subset
            .enrollments
            .retain(|e| subset.users.iter().any(|u| u.user_id == e.user_id));
        subset
            .demographics
            .retain(|d| keep.iter().any(|k| **k == *d.user_id));

        let (_, plain) = upload(&mut client, "preview", &subset, json!({})).await;
        assert_eq!(
            tally(&plain, "students")[3],
            0,
            "{b}: upserts remove nothing"
        );
        let (_, preview) = upload(
            &mut client,
            "preview",
            &subset,
            json!({"mode": "full-sync"}),
        )
        .await;
        assert!(
            tally(&preview, "students")[3] > 0,
            "{b}: {}",
            preview["counts"]
        );
        assert!(
            !preview["hold"]["reasons"].as_array().unwrap().is_empty(),
            "{b}: {}",
            preview["hold"]
        );
        let (status, refused) =
            upload(&mut client, "commit", &subset, json!({"mode": "full-sync"})).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::CONFLICT, Some("safety-hold")),
            "{b}"
        );
        let (_, still) = upload(&mut client, "preview", &records, json!({})).await;
        assert!(only_unchanged(&still), "{b}: nothing was removed");
        let (status, done) = upload(
            &mut client,
            "commit",
            &subset,
            json!({"mode": "full-sync", "confirm": true}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b}: {done}");
        assert!(tally(&done, "students")[3] > 0);
        db.close().await;
    }
}

#[tokio::test]
async fn stored_data_checks_and_refusals() {
    let (records, schools) = sample_records(60);
    for db in databases("storedchecks").await {
        let b = db.backend;
        let mut client = setup(&db, &schools).await;
        upload(&mut client, "commit", &records, json!({})).await;
        let student = records
            .users
            .iter()
            .find(|u| u.role == shared::records::Role::Student)
            .unwrap()
            .clone();

        let mut next = Records {
            users: vec![],
            classes: vec![],
            enrollments: vec![],
            demographics: vec![],
        };
        // Role change.
        let mut teacher = student.clone();
        teacher.role = shared::records::Role::Teacher;
        teacher.grade = None;
        // Email in use by another user.
        let mut thief = student.clone();
        thief.user_id = "X-999".into();
        thief.first_name = "Someone".into();
        thief.email = records.users[1].email.clone();
        (thief.district_id, thief.state_id) = (None, None);
        // Identifier correction: same email, role and names, new id.
        let mut corrected = records
            .users
            .iter()
            .filter(|u| u.role == shared::records::Role::Student)
            .nth(2)
            .unwrap()
            .clone();
        let old_id = corrected.user_id.clone();
        corrected.user_id = "NEW-7".into();
        // Leading zeros lost: 000001 stored, 1 new.
        let mut zeros = student.clone();
        zeros.user_id = student.user_id.trim_start_matches('0').into();
        zeros.email = "zeros@x.org".into();
        (zeros.district_id, zeros.state_id) = (None, None);
        // A class moved to another school.
        let mut moved = records.classes[0].clone();
        moved.school_id = schools
            .iter()
            .find(|s| **s != moved.school_id)
            .unwrap()
            .clone();
        // A class is only in a file with a row: its teacher.
        let mut mover = records
            .users
            .iter()
            .find(|u| u.role == shared::records::Role::Teacher)
            .unwrap()
            .clone();
        mover.user_id = "T-NEW".into();
        mover.email = "t-new@x.org".into();
        (mover.district_id, mover.state_id) = (None, None);
        // A secondary ID a stored user (not in this file) already has.
        let mut copycat = records
            .users
            .iter()
            .rev()
            .find(|u| u.role == shared::records::Role::Student && u.state_id.is_some())
            .unwrap()
            .clone();
        copycat.user_id = "DUP-1".into();
        copycat.email = "dup-1@x.org".into();
        copycat.first_name = "Copy".into();
        copycat.district_id = None;
        mover.school_ids = vec![moved.school_id.clone()];
        next.enrollments = vec![shared::records::EnrollmentRecord {
            user_id: mover.user_id.clone(),
            class_id: moved.class_id.clone(),
            primary_teacher: Some(true),
            remove: false,
        }];
        next.users = vec![teacher, thief, corrected, zeros, mover, copycat];
        next.classes = vec![moved];
        let (status, report) = upload(&mut client, "preview", &next, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{b}: {report}");
        let mut codes: Vec<(String, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["key"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        codes.sort();
        let mut expected = vec![
            (
                "class-school-mismatch".to_string(),
                records.classes[0].class_id.to_string(),
            ),
            ("duplicate-secondary-id".into(), "DUP-1".into()),
            ("email-in-use".into(), "X-999".into()),
            ("identifier-corrected".into(), "NEW-7".into()),
            (
                "stored-leading-zeros".into(),
                student.user_id.trim_start_matches('0').to_string(),
            ),
            ("role-change".into(), student.user_id.to_string()),
        ];
        expected.sort();
        assert_eq!(codes, expected, "{b}");
        assert_eq!(
            tally(&report, "students")[1],
            1,
            "{b}: the corrected user is an update"
        );
        assert_eq!(tally(&report, "classes")[4], 1, "{b}");
        let (status, _) = upload(&mut client, "commit", &next, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let (_, history) = client.send(Method::GET, "/api/uploads", None).await;
        let id = history[0]["id"].as_i64().unwrap();
        let (status, _) = client
            .send(Method::GET, &format!("/api/uploads/{id}"), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(history[0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["key"] == old_id.to_string() || f["key"] == "NEW-7"));

        // A crafted payload that breaks the contract is refused, nothing stored.
        let mut crafted = records.clone();
        crafted.users[0].email = "not an email".into();
        crafted.users[0].first_name = "=HYPERLINK(\"x\")".into();
        let (status, refused) = upload(&mut client, "commit", &crafted, json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(refused["code"], "invalid-records");
        assert!(refused["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "invalid-email"));
        let (_, history_after) = client.send(Method::GET, "/api/uploads", None).await;
        assert_eq!(
            history_after.as_array().unwrap().len(),
            history.as_array().unwrap().len(),
            "{b}"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn permissions_and_the_gate() {
    let (records, schools) = sample_records(20);
    for db in databases("uploadperms").await {
        let b = db.backend;
        let mut client = setup(&db, &schools).await;
        let district = ensure_district(&db.pool, "Maple").await.unwrap();
        create_admin(
            &db.pool,
            district,
            "enrol@maple.org",
            "pw2",
            Permissions {
                system_access: false,
                enrollment_access: true,
            },
        )
        .await
        .unwrap();
        let mut partial = Client::new(client.app.clone());
        assert_eq!(
            partial.sign_in("enrol@maple.org", "pw2").await,
            StatusCode::OK
        );
        for action in ["preview", "commit"] {
            assert_eq!(
                upload(&mut partial, action, &records, json!({})).await.0,
                StatusCode::FORBIDDEN,
                "{b}"
            );
            let mut anonymous = Client::new(client.app.clone());
            assert_eq!(
                upload(&mut anonymous, action, &records, json!({})).await.0,
                StatusCode::UNAUTHORIZED,
                "{b}"
            );
        }
        assert_eq!(
            partial.send(Method::GET, "/api/uploads", None).await.0,
            StatusCode::OK,
            "{b}: history needs one permission"
        );
        assert_eq!(
            partial.send(Method::GET, "/api/uploads/999", None).await.0,
            StatusCode::NOT_FOUND,
            "{b}"
        );
        // A school without an ID closes the gate.
        client
            .send(
                Method::POST,
                "/api/schools",
                Some(json!({"name": "New school"})),
            )
            .await;
        let (status, closed) = upload(&mut client, "preview", &records, json!({})).await;
        assert_eq!(
            (status, closed["code"].as_str()),
            (StatusCode::CONFLICT, Some("upload-closed")),
            "{b}"
        );
        db.close().await;
    }
}

/// A roster in an order that does not depend on how it was read.
fn normalized(
    mut stored: backend::uploads::reconcile::Stored,
) -> backend::uploads::reconcile::Stored {
    stored.users.sort_by_key(|u| u.id);
    for user in &mut stored.users {
        user.schools.sort_unstable();
    }
    stored.classes.sort_by_key(|c| c.id);
    stored
}

/// The first differences between two rosters, for the failure message.
fn differences(
    a: &backend::uploads::reconcile::Stored,
    b: &backend::uploads::reconcile::Stored,
) -> Vec<String> {
    let mut out = Vec::new();
    if a.version != b.version {
        out.push(format!("version {} / {}", a.version, b.version));
    }
    out.extend(
        a.users
            .iter()
            .zip(&b.users)
            .filter(|(x, y)| x != y)
            .map(|(x, y)| format!("{x:?} / {y:?}")),
    );
    out.extend(
        a.classes
            .iter()
            .zip(&b.classes)
            .filter(|(x, y)| x != y)
            .map(|(x, y)| format!("{x:?} / {y:?}")),
    );
    for (key, e) in &a.enrollments {
        if b.enrollments.get(key) != Some(e) {
            out.push(format!(
                "enrollment {key:?} {e:?} / {:?}",
                b.enrollments.get(key)
            ));
        }
    }
    for (key, e) in &a.demographics {
        if b.demographics.get(key) != Some(e) {
            out.push(format!("demographics {key:?}"));
        }
    }
    out.push(format!(
        "sizes {} {} {} {} / {} {} {} {}",
        a.users.len(),
        a.classes.len(),
        a.enrollments.len(),
        a.demographics.len(),
        b.users.len(),
        b.classes.len(),
        b.enrollments.len(),
        b.demographics.len()
    ));
    out.truncate(6);
    out
}

/// After each commit the process holds the roster it wrote, made in memory
/// (`Stored::written`): it equals the roster read back from the database,
/// through creates, updates, portal-edit flags, renames, every action,
/// demographics and a full sync.
#[tokio::test]
async fn the_roster_written_in_memory_equals_the_roster_read_back() {
    let (records, schools) = sample_records(120);
    for db in databases("written").await {
        let b = db.backend;
        let mut ada = setup(&db, &schools).await;
        let (state, app) = common::state_and_router(&db.pool);
        ada.app = app;
        let district: i64 = sqlx::query_scalar("SELECT id FROM districts")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        // The uploads, one after another.
        let mut changed = records.clone();
        changed.users[0].first_name = "Renamed".into();
        let student = changed
            .users
            .iter_mut()
            .find(|u| u.role == shared::records::Role::Student)
            .unwrap();
        student.deactivate = true;
        let student_id = student.user_id.clone();
        changed.enrollments.retain(|e| e.user_id != student_id);
        changed.classes[0].remove = true;
        let removed_class = changed.classes[0].class_id.clone();
        changed.enrollments.retain(|e| e.class_id != removed_class);
        if let Some(e) = changed.enrollments.first_mut() {
            e.remove = true;
        }
        if let Some(d) = changed.demographics.first_mut() {
            d.values.insert("sex", Some("other".into()));
        }
        let mut corrected = records.clone();
        let teacher = corrected
            .users
            .iter_mut()
            .find(|u| u.role == shared::records::Role::Teacher)
            .unwrap();
        let old_id = teacher.user_id.clone();
        teacher.user_id = "NEW-ID".into();
        for e in corrected
            .enrollments
            .iter_mut()
            .filter(|e| e.user_id == old_id)
        {
            e.user_id = "NEW-ID".into();
        }
        let mut quarter = records.clone();
        quarter.users.truncate(records.users.len() / 4);
        let kept: std::collections::HashSet<&str> =
            quarter.users.iter().map(|u| &*u.user_id).collect();
        quarter.enrollments.retain(|e| kept.contains(&*e.user_id));
        quarter
            .demographics
            .retain(|d| kept.contains(d.user_id.as_str()));
        let steps = [
            (records.clone(), json!({})),
            (changed, json!({"confirm": true})),
            (corrected, json!({"confirm": true})),
            (quarter, json!({"mode": "full-sync", "confirm": true})),
        ];
        for (n, (upload_records, extra)) in steps.into_iter().enumerate() {
            if n == 2 {
                // A portal edit between uploads: the next one reads again.
                let user = &records.users[1];
                let (status, _) = ada
                    .send(
                        Method::PUT,
                        &format!("/api/roster/users/{}", user.user_id),
                        Some(json!({"firstName": "Edited", "lastName": user.last_name, "email": user.email})),
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "{b}");
            }
            let (status, report) = upload(&mut ada, "commit", &upload_records, extra).await;
            assert_eq!(status, StatusCode::OK, "{b} step {n}: {report}");
            let version: i64 =
                sqlx::query_scalar("SELECT roster_version FROM districts WHERE id = $1")
                    .bind(district)
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
            // Made off the async workers after the answer: wait for it.
            let mut held = None;
            for _ in 0..500 {
                held = state.rosters.at_version(district, version);
                if held.is_some() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            let held = held.unwrap_or_else(|| panic!("{b} step {n}: no roster held"));
            let read = backend::uploads::store::load(&state.typed_pool, district)
                .await
                .unwrap();
            let (held, read) = (normalized((*held).clone()), normalized(read));
            assert!(
                held == read,
                "{b} step {n}: the roster made in memory differs from the one read back: {:?}",
                differences(&held, &read)
            );
        }
        db.close().await;
    }
}
