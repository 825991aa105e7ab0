//! The stored roster: list, search and page users and classes, edit a
//! user's names and email, and download the data as files that upload again
//! as "no changes".

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Json;
use shared::api::{
    ClassQuery, DownloadQuery, EditedUser, ListQuery, Page, RosterClass, RosterUser, Scope,
    UserEdit,
};
use shared::cells::cast;
use shared::csv_out::Audience;
use shared::dictionary::{FileKind, ValueKind};
use shared::export::{demographics_csv, users_csv};
use shared::records::{
    ClassRecord, DemographicsRecord, DemographicsValues, EnrollmentRecord, Records, Role,
    UserRecord,
};
use shared::IssueCode;
use sqlx::{AnyPool, Row};

use crate::access::{Access, Admin};
use crate::db::{now_millis, roster_changed};
use crate::error::{ApiError, ApiResult};
use crate::server::{ApiRoute, AppState};
use crate::uploads::reconcile::{Stored, StoredEnrollment};

const MAX_PAGE_SIZE: i64 = 500;

/// SQL for the active users of a district matching the filters; the
/// parameters are $1 district, $2 school ID (or NULL), $3 search (or NULL).
fn user_filter(scope: Scope) -> String {
    let roles: Vec<String> = scope
        .roles()
        .iter()
        .map(|r| format!("'{}'", r.as_str()))
        .collect();
    format!(
        "FROM roster_users u WHERE u.district_id = $1 AND u.active = 1 AND u.role IN ({})
           AND ($2 IS NULL OR EXISTS (SELECT 1 FROM roster_user_schools us JOIN schools s ON s.id = us.school_ref
                                      WHERE us.user_ref = u.id AND s.school_id = $2))
           AND ($3 IS NULL OR LOWER(u.first_name) LIKE $3 OR LOWER(u.last_name) LIKE $3
                OR LOWER(u.email) LIKE $3 OR LOWER(u.user_id) LIKE $3)",
        roles.join(", ")
    )
}

/// (page, page size, rows to skip) from the query, within bounds: any page
/// number, however large, gives an empty page past the end, never an
/// overflow.
fn paging(page: Option<i64>, page_size: Option<i64>) -> (i64, i64, i64) {
    let page_size = page_size.unwrap_or(50).clamp(1, MAX_PAGE_SIZE);
    let page = page.unwrap_or(1).max(1);
    (page, page_size, (page - 1).saturating_mul(page_size))
}

fn search_pattern(q: Option<&str>) -> Option<String> {
    q.map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", q.to_lowercase().replace(['%', '_'], "")))
}

/// The school IDs of these users (row ids: a page of the list).
async fn schools_of_users(
    pool: &AnyPool,
    district_id: i64,
    refs: &[i64],
) -> Result<HashMap<i64, Vec<String>>, sqlx::Error> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    if refs.is_empty() {
        return Ok(out);
    }
    let placeholders: Vec<String> = (2..refs.len() + 2).map(|n| format!("${n}")).collect();
    let statement = format!(
        "SELECT us.user_ref, s.school_id FROM roster_user_schools us JOIN schools s ON s.id = us.school_ref
         WHERE s.district_id = $1 AND us.user_ref IN ({}) ORDER BY s.school_id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(statement)).bind(district_id);
    for user_ref in refs {
        query = query.bind(*user_ref);
    }
    for row in query.fetch_all(pool).await? {
        out.entry(row.try_get("user_ref")?)
            .or_default()
            .push(row.try_get("school_id")?);
    }
    Ok(out)
}

async fn list_users(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Page<RosterUser>>> {
    let district_id = admin.district_id;
    let (page, page_size, offset) = paging(query.page, query.page_size);
    let pattern = search_pattern(query.q.as_deref());
    let filter = user_filter(query.scope);
    let total: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n {filter}"
    )))
    .bind(district_id)
    .bind(query.school.as_deref())
    .bind(pattern.as_deref())
    .fetch_one(&state.pool)
    .await?
    .try_get("n")?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT u.id, u.user_id, u.role, u.first_name, u.last_name, u.email, u.grade, u.district_user_id, u.state_id
         {filter} ORDER BY u.last_name, u.first_name, u.user_id LIMIT $4 OFFSET $5"
    )))
    .bind(district_id)
    .bind(query.school.as_deref())
    .bind(pattern.as_deref())
    .bind(page_size)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    let refs = rows
        .iter()
        .map(|row| row.try_get::<i64, _>("id"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut schools = schools_of_users(&state.pool, district_id, &refs).await?;
    let items = rows
        .iter()
        .map(|row| {
            let role: String = row.try_get("role")?;
            Ok(RosterUser {
                user_id: row.try_get("user_id")?,
                role: Role::parse(&role)
                    .ok_or_else(|| anyhow::anyhow!("a stored user with the role {role}"))?,
                first_name: row.try_get("first_name")?,
                last_name: row.try_get("last_name")?,
                email: row.try_get("email")?,
                grade: row.try_get("grade")?,
                district_id: row.try_get("district_user_id")?,
                state_id: row.try_get("state_id")?,
                school_ids: schools
                    .remove(&row.try_get::<i64, _>("id")?)
                    .unwrap_or_default(),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(Page {
        total,
        page,
        page_size,
        items,
    }))
}

async fn list_classes(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Query(query): Query<ClassQuery>,
) -> ApiResult<Json<Page<RosterClass>>> {
    let (page, page_size, offset) = paging(query.page, query.page_size);
    let pattern = search_pattern(query.q.as_deref());
    let filter = "FROM roster_classes c JOIN schools s ON s.id = c.school_ref
        WHERE c.district_id = $1 AND c.active = 1 AND ($2 IS NULL OR s.school_id = $2)
          AND ($3 IS NULL OR LOWER(c.name) LIKE $3 OR LOWER(c.class_id) LIKE $3)";
    let total: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n {filter}"
    )))
    .bind(admin.district_id)
    .bind(query.school.as_deref())
    .bind(pattern.as_deref())
    .fetch_one(&state.pool)
    .await?
    .try_get("n")?;
    let count = |role: &str| {
        format!(
            "(SELECT COUNT(*) FROM roster_enrollments e JOIN roster_users u ON u.id = e.user_ref
              WHERE e.class_ref = c.id AND e.active = 1 AND u.active = 1 AND u.role = '{role}')"
        )
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT c.class_id, s.school_id, c.name, c.grade, c.display_name, {} AS students, {} AS teachers
         {filter} ORDER BY s.school_id, c.class_id LIMIT $4 OFFSET $5",
        count(Role::Student.as_str()),
        count(Role::Teacher.as_str())
    )))
    .bind(admin.district_id)
    .bind(query.school.as_deref())
    .bind(pattern.as_deref())
    .bind(page_size)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    let items = rows
        .iter()
        .map(|row| {
            Ok(RosterClass {
                class_id: row.try_get("class_id")?,
                school_id: row.try_get("school_id")?,
                name: row.try_get("name")?,
                grade: row.try_get("grade")?,
                display_name: row.try_get("display_name")?,
                students: row.try_get("students")?,
                teachers: row.try_get("teachers")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Json(Page {
        total,
        page,
        page_size,
        items,
    }))
}

/// Edits a user's names and email in the portal, with the file's rules; the
/// next upload that would overwrite the edit is flagged in its preview.
async fn edit_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(user_id): Path<String>,
    Json(edit): Json<UserEdit>,
) -> ApiResult<Json<EditedUser>> {
    let check = |kind: ValueKind, column: &'static str, value: &str| -> ApiResult<String> {
        let value = value.trim();
        if value.is_empty() {
            return Err(ApiError::bad_request(
                IssueCode::MissingValue.as_str(),
                IssueCode::MissingValue.message(column, ""),
            ));
        }
        cast(kind, value)
            .map(|v| v.into_owned())
            .map_err(|problem| {
                let finding = shared::Finding::new(problem.code, FileKind::Users).in_column(column);
                let finding = match problem.detail {
                    Some(detail) => finding.with_detail(detail),
                    None => finding,
                };
                ApiError::bad_request(problem.code.as_str(), finding.message())
            })
    };
    let first_name = check(ValueKind::Name, "userFirstName", &edit.first_name)?;
    let last_name = check(ValueKind::Name, "userLastName", &edit.last_name)?;
    let email = check(ValueKind::Email, "userEmail", &edit.email)?;
    let district_id = admin.district_id;
    let taken = sqlx::query(
        "SELECT user_id FROM roster_users WHERE district_id = $1 AND email = $2 AND user_id <> $3",
    )
    .bind(district_id)
    .bind(&email)
    .bind(&user_id)
    .fetch_optional(&state.pool)
    .await?;
    if taken.is_some() {
        return Err(ApiError::conflict(
            IssueCode::EmailInUse.as_str(),
            IssueCode::EmailInUse.message("userEmail", ""),
        ));
    }
    let mut tx = state.pool.begin().await?;
    // A staged upload's preview no longer describes this roster. First, so
    // that every writer locks the district's row before roster rows (no
    // deadlock with an upload's commit on PostgreSQL).
    roster_changed(&mut *tx, district_id).await?;
    let updated = sqlx::query(
        "UPDATE roster_users SET first_name = $1, last_name = $2, email = $3, edited_at = $4
         WHERE district_id = $5 AND user_id = $6",
    )
    .bind(&first_name)
    .bind(&last_name)
    .bind(&email)
    .bind(now_millis())
    .bind(district_id)
    .bind(&user_id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::NotFound); // rolled back on drop
    }
    tx.commit().await?;
    Ok(Json(EditedUser {
        user_id,
        first_name,
        last_name,
        email,
    }))
}

/// Keeps only the given users, with their enrollments, the classes of those
/// enrollments and their demographics.
fn only_users(mut records: Records, user_ids: &HashSet<&str>) -> Records {
    records.users.retain(|u| user_ids.contains(&*u.user_id));
    records
        .enrollments
        .retain(|e| user_ids.contains(&*e.user_id));
    let classes: HashSet<&str> = records.enrollments.iter().map(|e| &*e.class_id).collect();
    records.classes.retain(|c| classes.contains(&*c.class_id));
    records
        .demographics
        .retain(|d| user_ids.contains(d.user_id.as_str()));
    records
}

/// The active roster of a district (or one school) as records, read with
/// the one roster loader (`store::load`, the same the upload planner uses):
/// users in the order they were created, each class with its first
/// enrollment, enrollments by class, demographics of the students listed.
pub async fn stored_records(
    state: &AppState,
    district_id: i64,
    scope: Scope,
    school: Option<&str>,
) -> anyhow::Result<Records> {
    let stored = crate::uploads::store::load(&state.typed_pool, district_id).await?;
    Ok(records_of(&stored, scope, school))
}

/// The records of `stored` that a download of `scope` (and `school`) holds.
fn records_of(stored: &Stored, scope: Scope, school: Option<&str>) -> Records {
    let school_id_of: HashMap<i64, &str> = stored
        .schools
        .iter()
        .map(|(id, row)| (*row, id.as_str()))
        .collect();
    let mut records = Records::default();
    let mut users_by_ref: HashMap<i64, usize> = HashMap::new();
    for user in stored
        .users
        .iter()
        .filter(|u| u.active && scope.includes(u.role))
    {
        let mut school_ids: Vec<String> = user
            .schools
            .iter()
            .filter_map(|s| school_id_of.get(s).map(|id| id.to_string()))
            .collect();
        school_ids.sort();
        if let Some(school) = school {
            if !school_ids.iter().any(|s| s == school) {
                continue;
            }
            school_ids = vec![school.to_string()];
        }
        users_by_ref.insert(user.id, records.users.len());
        records.users.push(UserRecord {
            user_id: Arc::from(user.user_id.as_str()),
            role: user.role,
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            email: user.email.clone(),
            grade: user.grade.clone().map(Cow::Owned),
            district_id: user.district_id.clone(),
            state_id: user.state_id.clone(),
            school_ids,
            deactivate: false,
        });
    }
    let classes: HashMap<i64, ClassRecord> = stored
        .classes
        .iter()
        .filter(|c| c.active)
        .filter_map(|c| {
            let school_id = *school_id_of.get(&c.school)?;
            school.is_none_or(|s| s == school_id).then(|| {
                let class = ClassRecord {
                    class_id: Arc::from(c.class_id.as_str()),
                    school_id: school_id.to_string(),
                    name: c.name.clone(),
                    grade: Cow::Owned(c.grade.clone()),
                    display_name: c.display_name.clone(),
                    remove: false,
                };
                (c.id, class)
            })
        })
        .collect();
    let mut enrollments: Vec<(&(i64, i64), &StoredEnrollment)> = stored
        .enrollments
        .iter()
        .filter(|(_, e)| e.active)
        .collect();
    enrollments.sort_unstable_by_key(|((user_ref, class_ref), _)| (*class_ref, *user_ref));
    let mut listed_classes: HashSet<i64> = HashSet::new();
    for ((user_ref, class_ref), enrollment) in enrollments {
        let (Some(&user), Some(class)) = (users_by_ref.get(user_ref), classes.get(class_ref))
        else {
            continue;
        };
        // A class goes into the file with its first enrollment.
        if listed_classes.insert(*class_ref) {
            records.classes.push(class.clone());
        }
        let user = &records.users[user];
        records.enrollments.push(EnrollmentRecord {
            user_id: user.user_id.clone(),
            class_id: class.class_id.clone(),
            primary_teacher: enrollment
                .primary_teacher
                .filter(|_| user.role == Role::Teacher),
            remove: false,
        });
    }
    let mut demographics: Vec<(&i64, &String)> = stored.demographics.iter().collect();
    demographics.sort_unstable_by_key(|(user_ref, _)| **user_ref);
    for (user_ref, json) in demographics {
        let Some(&user) = users_by_ref.get(user_ref) else {
            continue;
        };
        let user = &records.users[user];
        // The server wrote every stored value; one that does not read is skipped.
        let Ok(values) = serde_json::from_str::<DemographicsValues>(json) else {
            continue;
        };
        if user.role == Role::Student {
            records.demographics.push(DemographicsRecord {
                user_id: user.user_id.to_string(),
                values,
            });
        }
    }
    records
}

async fn download(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Query(query): Query<DownloadQuery>,
) -> ApiResult<Response> {
    let records = stored_records(
        &state,
        admin.district_id,
        query.scope,
        query.school.as_deref(),
    )
    .await?;
    let records = match query.users.as_deref() {
        Some(list) => only_users(
            records,
            &list.split(',').filter(|id| !id.is_empty()).collect(),
        ),
        None => records,
    };
    let (name, bytes) = match query.file.as_deref().unwrap_or("users") {
        "users" => ("users.csv", users_csv(&records, Audience::Person)),
        "demographics" => (
            "demographics.csv",
            demographics_csv(&records, Audience::Person),
        ),
        _ => {
            return Err(ApiError::bad_request(
                "invalid-file",
                "file must be users or demographics.",
            ))
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::new(Method::GET, "/api/roster/users", get(list_users), Access::AnyPermission,
            "Students and staff: ?scope=all|students|staff|teachers|admins&school=&q=&page=&pageSize="),
        ApiRoute::new(Method::PUT, "/api/roster/users/{user_id}", put(edit_user), Access::AnyPermission,
            "Edit a user's names and email"),
        ApiRoute::new(Method::GET, "/api/roster/classes", get(list_classes), Access::AnyPermission,
            "Classes with their sizes: ?school=&q=&page=&pageSize="),
        ApiRoute::new(Method::GET, "/api/roster/download", get(download), Access::AnyPermission,
            "Download users.csv (or ?file=demographics) for ?scope= and ?school=, or only ?users=ID,ID"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_stays_in_bounds() {
        assert_eq!(paging(None, None), (1, 50, 0));
        assert_eq!(paging(Some(3), Some(10)), (3, 10, 20));
        assert_eq!(paging(Some(0), Some(0)), (1, 1, 0));
        assert_eq!(paging(Some(-5), Some(100_000)), (1, MAX_PAGE_SIZE, 0));
        let (page, size, skip) = paging(Some(i64::MAX), Some(MAX_PAGE_SIZE));
        assert_eq!((page, size, skip), (i64::MAX, MAX_PAGE_SIZE, i64::MAX));
    }
}
