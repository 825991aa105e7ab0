//! Schools (organizations) of a district, and the activation gate: batch
//! upload opens only when every school has a unique, non-empty school ID.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::{get, post, put};
use axum::Json;
pub use shared::api::{Activation, BlockingSchool, School, SchoolInput};
use shared::cells::{cast_grade, is_identifier};
use shared::dictionary::{GRADES, LIMITS};
use shared::IssueCode;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::access::{Access, Admin};
use crate::db::{now, roster_changed};
use crate::error::{ApiError, ApiResult};
use crate::input::bounded_text;
use crate::server::{ApiRoute, AppState};

/// The school an input makes, as stored with row id `id`.
fn school_from_input(id: i64, input: SchoolInput) -> School {
    School {
        id,
        school_id: input.school_id,
        name: input.name,
        low_grade: input.low_grade,
        high_grade: input.high_grade,
    }
}

fn school_of(row: &AnyRow) -> Result<School, sqlx::Error> {
    Ok(School {
        id: row.try_get("id")?,
        school_id: row.try_get("school_id")?,
        name: row.try_get("name")?,
        low_grade: row.try_get("low_grade")?,
        high_grade: row.try_get("high_grade")?,
    })
}

pub async fn list_schools(pool: &AnyPool, district_id: i64) -> Result<Vec<School>, sqlx::Error> {
    sqlx::query(
        "SELECT id, school_id, name, low_grade, high_grade FROM schools WHERE district_id = $1 ORDER BY name, id",
    )
    .bind(district_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(school_of)
    .collect()
}

/// The activation gate of a district.
pub fn activation(schools: &[School]) -> Activation {
    let mut blocking = Vec::new();
    for school in schools {
        let reason = match school.school_id.as_deref() {
            None => Some("has no school ID".to_string()),
            Some(id)
                if schools
                    .iter()
                    .filter(|s| s.school_id.as_deref() == Some(id))
                    .count()
                    > 1 =>
            {
                Some(format!("shares the school ID {id} with another school"))
            }
            Some(_) => None,
        };
        if let Some(reason) = reason {
            blocking.push(BlockingSchool {
                id: school.id,
                name: school.name.clone(),
                reason,
            });
        }
    }
    Activation {
        open: !schools.is_empty() && blocking.is_empty(),
        blocking_schools: blocking,
    }
}

/// Checks and normalizes a school as sent by an admin.
fn validated(input: SchoolInput) -> ApiResult<SchoolInput> {
    let name = bounded_text(
        &input.name,
        "A school's name",
        LIMITS.school_name_chars,
        "invalid-name",
    )?;
    let school_id = input
        .school_id
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(id) = &school_id {
        if !is_identifier(id) {
            return Err(ApiError::bad_request(
                IssueCode::InvalidId.as_str(),
                IssueCode::InvalidId.message("A school ID", ""),
            ));
        }
    }
    let grade = |value: Option<String>, which: &str| -> ApiResult<Option<String>> {
        match value
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
        {
            None => Ok(None),
            Some(g) => cast_grade(&g).map(|g| Some(g.to_string())).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid-grade",
                    format!("The {which} grade is not a grade code (see the data dictionary)."),
                )
            }),
        }
    };
    let low_grade = grade(input.low_grade, "low")?;
    let high_grade = grade(input.high_grade, "high")?;
    if let (Some(low), Some(high)) = (&low_grade, &high_grade) {
        let order = |g: &str| GRADES.iter().position(|x| *x == g);
        if order(low) > order(high) {
            return Err(ApiError::bad_request(
                "invalid-grade",
                "The low grade comes after the high grade.",
            ));
        }
    }
    Ok(SchoolInput {
        school_id,
        name,
        low_grade,
        high_grade,
    })
}

/// Another school of the district already has this ID.
async fn ensure_unique_id(
    pool: &AnyPool,
    district_id: i64,
    school_id: Option<&str>,
    except: i64,
) -> ApiResult<()> {
    let Some(school_id) = school_id else {
        return Ok(());
    };
    let taken = sqlx::query(
        "SELECT id FROM schools WHERE district_id = $1 AND school_id = $2 AND id <> $3",
    )
    .bind(district_id)
    .bind(school_id)
    .bind(except)
    .fetch_optional(pool)
    .await?;
    match taken {
        Some(_) => Err(ApiError::conflict(
            "duplicate-school-id",
            format!("Another school of your district has the school ID {school_id}."),
        )),
        None => Ok(()),
    }
}

pub async fn insert_school(
    pool: &AnyPool,
    district_id: i64,
    input: &SchoolInput,
) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Uploads check school IDs: a plan made before is stale. First, as in
    // every writer: the district's row is locked before any other.
    roster_changed(&mut *tx, district_id).await?;
    let row = sqlx::query(
        "INSERT INTO schools (district_id, school_id, name, low_grade, high_grade, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(district_id)
    .bind(input.school_id.as_deref())
    .bind(&input.name)
    .bind(input.low_grade.as_deref())
    .bind(input.high_grade.as_deref())
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    row.try_get("id")
}

async fn list(State(state): State<AppState>, Admin(admin): Admin) -> ApiResult<Json<Vec<School>>> {
    Ok(Json(list_schools(&state.pool, admin.district_id).await?))
}

async fn add(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Json(input): Json<SchoolInput>,
) -> ApiResult<Json<School>> {
    let input = validated(input)?;
    let district_id = admin.district_id;
    ensure_unique_id(&state.pool, district_id, input.school_id.as_deref(), -1).await?;
    let id = insert_school(&state.pool, district_id, &input).await?;
    Ok(Json(school_from_input(id, input)))
}

async fn edit(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
    Json(input): Json<SchoolInput>,
) -> ApiResult<Json<School>> {
    let input = validated(input)?;
    let district_id = admin.district_id;
    ensure_unique_id(&state.pool, district_id, input.school_id.as_deref(), id).await?;
    // The district condition keeps other districts' schools out of reach.
    let mut tx = state.pool.begin().await?;
    // Uploads check school IDs: a plan made before is stale. First, as in
    // every writer: the district's row is locked before any other.
    roster_changed(&mut *tx, district_id).await?;
    let updated = sqlx::query(
        "UPDATE schools SET school_id = $1, name = $2, low_grade = $3, high_grade = $4, updated_at = $5
         WHERE id = $6 AND district_id = $7",
    )
    .bind(input.school_id.as_deref())
    .bind(&input.name)
    .bind(input.low_grade.as_deref())
    .bind(input.high_grade.as_deref())
    .bind(now())
    .bind(id)
    .bind(district_id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::NotFound); // rolled back on drop
    }
    tx.commit().await?;
    Ok(Json(school_from_input(id, input)))
}

async fn gate(State(state): State<AppState>, Admin(admin): Admin) -> ApiResult<Json<Activation>> {
    let schools = list_schools(&state.pool, admin.district_id).await?;
    Ok(Json(activation(&schools)))
}

pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::new(
            Method::GET,
            "/api/schools",
            get(list),
            Access::AnyPermission,
            "The district's schools",
        ),
        ApiRoute::new(
            Method::POST,
            "/api/schools",
            post(add),
            Access::AnyPermission,
            "Add a school",
        ),
        ApiRoute::new(
            Method::PUT,
            "/api/schools/{id}",
            put(edit),
            Access::AnyPermission,
            "Edit a school",
        ),
        ApiRoute::new(
            Method::GET,
            "/api/activation",
            get(gate),
            Access::AnyPermission,
            "Whether batch upload is open, and the schools that block it",
        ),
    ]
}
