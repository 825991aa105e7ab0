//! The stored roster on SQLite and PostgreSQL: lists, search and paging,
//! portal edits flagged by the next upload, and downloads that upload again
//! as "no changes".

mod common;

use axum::http::{Method, StatusCode};
use backend::accounts::{create_admin, ensure_district, Permissions};
use backend::orgs::{insert_school, SchoolInput};
use common::{databases, router, Client};
use serde_json::{json, Value};
use shared::sample::{generate, SampleOptions};
use shared::{validate, Options};

const BOTH: Permissions = Permissions {
    system_access: true,
    enrollment_access: true,
};

async fn loaded(db: &common::TestDb) -> (Client, shared::Records, Vec<String>) {
    let sample = generate(&SampleOptions {
        students: 120,
        seed: 5,
        error_rate: 0.0,
    });
    let validated = validate(
        &sample.users_csv,
        Some(&sample.demographics_csv),
        Options::default(),
    );
    let district = ensure_district(&db.pool, "Maple").await.unwrap();
    let schools: Vec<String> = sample.schools.iter().map(|s| s.school_id.clone()).collect();
    for id in &schools {
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
    let (status, _) = client
        .send(
            Method::POST,
            "/api/uploads/commit",
            Some(json!({"fileName": "users.csv", "records": validated.records})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    (client, validated.records, schools)
}

async fn download(client: &mut Client, query: &str) -> Vec<u8> {
    let request = axum::http::Request::get(format!("/api/roster/download?{query}"))
        .header("cookie", client.cookie.clone().unwrap())
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(client.app.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    axum::body::to_bytes(response.into_body(), 1 << 26)
        .await
        .unwrap()
        .to_vec()
}

fn unchanged(report: &Value) -> bool {
    ["schools", "staff", "students", "classes", "enrollments"]
        .iter()
        .all(|e| {
            let t = &report["counts"][e];
            t["created"] == 0 && t["updated"] == 0 && t["removed"] == 0 && t["errors"] == 0
        })
}

#[tokio::test]
async fn lists_search_and_pages() {
    for db in databases("rosterlist").await {
        let b = db.backend;
        let (mut client, records, schools) = loaded(&db).await;
        let students = records
            .users
            .iter()
            .filter(|u| u.role == shared::records::Role::Student)
            .count();
        let (status, page) = client
            .send(
                Method::GET,
                "/api/roster/users?scope=students&pageSize=25",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert_eq!(page["total"], students);
        assert_eq!(page["items"].as_array().unwrap().len(), 25);
        let (_, last) = client
            .send(
                Method::GET,
                &format!(
                    "/api/roster/users?scope=students&pageSize=25&page={}",
                    students.div_ceil(25)
                ),
                None,
            )
            .await;
        assert_eq!(
            last["items"].as_array().unwrap().len(),
            (students - 1) % 25 + 1,
            "{b}"
        );

        let one = &records
            .users
            .iter()
            .find(|u| u.role == shared::records::Role::Student)
            .unwrap();
        let (_, found) = client
            .send(
                Method::GET,
                &format!("/api/roster/users?q={}", one.user_id),
                None,
            )
            .await;
        assert_eq!(found["total"], 1, "{b}: search by userId");
        assert_eq!(found["items"][0]["email"], one.email.as_str());
        assert_eq!(found["items"][0]["schoolIds"], json!(one.school_ids));

        let (_, staff) = client
            .send(
                Method::GET,
                &format!("/api/roster/users?scope=staff&school={}", schools[0]),
                None,
            )
            .await;
        assert!(
            staff["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|u| u["role"] != "student"
                    && u["schoolIds"]
                        .as_array()
                        .unwrap()
                        .contains(&json!(schools[0]))),
            "{b}"
        );
        let (_, admins) = client
            .send(Method::GET, "/api/roster/users?scope=admins", None)
            .await;
        assert!(admins["total"].as_i64().unwrap() >= 3);

        let (_, classes) = client
            .send(Method::GET, "/api/roster/classes?pageSize=500", None)
            .await;
        assert_eq!(classes["total"], records.classes.len(), "{b}");
        assert!(classes["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["teachers"].as_i64().unwrap() >= 1 && c["students"].as_i64().unwrap() >= 1));
        db.close().await;
    }
}

#[tokio::test]
async fn downloads_upload_again_as_no_changes() {
    for db in databases("rosterdownload").await {
        let b = db.backend;
        let (mut client, _, schools) = loaded(&db).await;
        for query in [
            "scope=all",
            "scope=students",
            "scope=staff",
            "scope=admins",
            &format!("scope=all&school={}", schools[1]),
        ] {
            let users = download(&mut client, query).await;
            assert!(
                users.starts_with(b"\xEF\xBB\xBFaction,schoolId,userId,"),
                "{b}: BOM and header"
            );
            // demographics.csv is for students.
            let demographics = download(&mut client, &format!("{query}&file=demographics")).await;
            let with_students = !query.contains("staff") && !query.contains("admins");
            let validated = validate(
                &users,
                with_students.then_some(&demographics[..]),
                Options::default(),
            );
            assert!(
                validated.report.valid,
                "{b} {query}: {:?}",
                validated.report.findings.first().map(|f| f.message())
            );
            let (status, preview) = client
                .send(
                    Method::POST,
                    "/api/uploads/preview",
                    Some(json!({"fileName": "users.csv", "records": validated.records})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{b} {query}: {preview}");
            assert!(unchanged(&preview), "{b} {query}: {}", preview["counts"]);
        }
        db.close().await;
    }
}

#[tokio::test]
async fn selected_users_download_with_their_classes_only() {
    for db in databases("rosterselected").await {
        let b = db.backend;
        let (mut client, records, _) = loaded(&db).await;
        let student = records
            .users
            .iter()
            .find(|u| u.role == shared::records::Role::Student)
            .unwrap();
        let teacher = records
            .users
            .iter()
            .find(|u| u.role == shared::records::Role::Teacher)
            .unwrap();
        let users = download(
            &mut client,
            &format!("scope=all&users={},{}", student.user_id, teacher.user_id),
        )
        .await;
        let validated = validate(&users, None, Options::default());
        assert!(validated.report.valid, "{b}");
        let mut ids: Vec<&str> = validated
            .records
            .users
            .iter()
            .map(|u| &*u.user_id)
            .collect();
        ids.sort();
        let mut expected = vec![&*student.user_id, &*teacher.user_id];
        expected.sort();
        assert_eq!(ids, expected, "{b}");
        let classes_of = |user: &str| {
            records
                .enrollments
                .iter()
                .filter(|e| &*e.user_id == user)
                .count()
        };
        assert_eq!(
            validated.records.enrollments.len(),
            classes_of(&student.user_id) + classes_of(&teacher.user_id),
            "{b}"
        );
        let (status, preview) = client
            .send(
                Method::POST,
                "/api/uploads/preview",
                Some(json!({"fileName": "users.csv", "records": validated.records})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}: {preview}");
        assert!(unchanged(&preview), "{b}: {}", preview["counts"]);
        db.close().await;
    }
}

#[tokio::test]
async fn portal_edits_follow_the_file_rules_and_are_flagged_by_the_next_upload() {
    for db in databases("rosteredit").await {
        let b = db.backend;
        let (mut client, records, _) = loaded(&db).await;
        let user = records
            .users
            .iter()
            .find(|u| u.role == shared::records::Role::Student)
            .unwrap();
        let path = format!("/api/roster/users/{}", user.user_id);
        let (status, error) = client
            .send(
                Method::PUT,
                &path,
                Some(json!({"firstName": "=cmd", "lastName": "X", "email": "a@b.org"})),
            )
            .await;
        assert_eq!(
            (status, error["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid-name")),
            "{b}"
        );
        let (status, error) = client
            .send(
                Method::PUT,
                &path,
                Some(json!({"firstName": "A", "lastName": "B", "email": records.users[0].email})),
            )
            .await;
        assert_eq!(
            (status, error["code"].as_str()),
            (StatusCode::CONFLICT, Some("email-in-use")),
            "{b}"
        );
        let (status, edited) = client
            .send(
                Method::PUT,
                &path,
                Some(json!({"firstName": " Zoé ", "lastName": "Núñez", "email": "ZOE@Maple.org"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert_eq!(edited["email"], "zoe@maple.org");
        assert_eq!(
            client
                .send(
                    Method::PUT,
                    "/api/roster/users/nobody",
                    Some(json!({"firstName": "A", "lastName": "B", "email": "n@b.org"}))
                )
                .await
                .0,
            StatusCode::NOT_FOUND
        );

        // The saved file still has the old values: the preview flags the overwrite.
        let (_, preview) = client
            .send(
                Method::POST,
                "/api/uploads/preview",
                Some(json!({"fileName": "users.csv", "records": records})),
            )
            .await;
        let change = preview["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == user.user_id.as_ref())
            .unwrap();
        assert_eq!(change["overwritesPortalEdit"], true, "{b}: {change}");
        assert_eq!(change["fields"].as_array().unwrap().len(), 3);
        db.close().await;
    }
}

#[tokio::test]
async fn roster_routes_need_a_permission_and_stay_in_the_district() {
    for db in databases("rosterperms").await {
        let b = db.backend;
        let (client, records, _) = loaded(&db).await;
        let other = ensure_district(&db.pool, "Elsewhere").await.unwrap();
        create_admin(&db.pool, other, "eve@elsewhere.org", "pw", BOTH)
            .await
            .unwrap();
        let district = ensure_district(&db.pool, "Maple").await.unwrap();
        create_admin(
            &db.pool,
            district,
            "none@maple.org",
            "pw",
            Permissions {
                system_access: false,
                enrollment_access: false,
            },
        )
        .await
        .unwrap();
        let user_path = format!("/api/roster/users/{}", records.users[0].user_id);
        let routes = [
            (Method::GET, "/api/roster/users".to_string(), None),
            (Method::GET, "/api/roster/classes".to_string(), None),
            (Method::GET, "/api/roster/download".to_string(), None),
            (
                Method::PUT,
                user_path.clone(),
                Some(json!({"firstName": "A", "lastName": "B", "email": "x@y.org"})),
            ),
        ];
        for (method, path, body) in routes {
            let mut anonymous = Client::new(client.app.clone());
            assert_eq!(
                anonymous.send(method.clone(), &path, body.clone()).await.0,
                StatusCode::UNAUTHORIZED,
                "{b} {path}"
            );
            let mut none = Client::new(client.app.clone());
            none.sign_in("none@maple.org", "pw").await;
            assert_eq!(
                none.send(method.clone(), &path, body.clone()).await.0,
                StatusCode::FORBIDDEN,
                "{b} {path}"
            );
            let mut outsider = Client::new(client.app.clone());
            outsider.sign_in("eve@elsewhere.org", "pw").await;
            let (status, body) = outsider.send(method.clone(), &path, body.clone()).await;
            if method == Method::PUT {
                assert_eq!(
                    status,
                    StatusCode::NOT_FOUND,
                    "{b}: another district's user"
                );
            } else if path.ends_with("users") || path.ends_with("classes") {
                assert_eq!(
                    (status, &body["total"]),
                    (StatusCode::OK, &json!(0)),
                    "{b}: {path} shows nothing of Maple"
                );
            }
        }
        db.close().await;
    }
}
