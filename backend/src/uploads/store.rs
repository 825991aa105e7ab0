//! Loading a district's roster for reconciliation, and applying a plan in
//! one transaction.

use std::collections::{BTreeMap, HashMap};

use sqlx::{AnyPool, Row};

use super::reconcile::{
    ClassWrite, Plan, Stored, StoredClass, StoredEnrollment, StoredUser, UserWrite,
};
use crate::db::now_millis;
use shared::records::Role;

fn flag(value: i64) -> bool {
    value != 0
}

/// Parameters per multi-row statement, well under both backends' limits.
const MAX_PARAMS: usize = 2_000;

/// A value bound in a multi-row statement.
enum Param<'a> {
    Int(i64),
    OptInt(Option<i64>),
    Text(&'a str),
    OptText(Option<&'a str>),
}

/// Runs `head VALUES (…), (…) tail` over rows of `width` parameters, as many
/// rows per statement as fit: most of an upload is new rows, and one
/// statement per row makes a large commit slow. Returns what it returns.
///
/// On SQLite the placeholders are anonymous `?`: sqlx looks each numbered
/// placeholder up by name, and SQLite finds a name by a linear scan, so
/// `$1 … $2000` cost a quadratic 2,000,000 steps per statement (a quarter
/// of a large commit's time went there).
async fn insert_many(
    connection: &mut sqlx::AnyConnection,
    head: &str,
    tail: &str,
    width: usize,
    params: &[Param<'_>],
) -> anyhow::Result<Vec<sqlx::any::AnyRow>> {
    let numbered = connection.backend_name() != "SQLite";
    let mut returned = Vec::new();
    for chunk in params.chunks(MAX_PARAMS / width * width) {
        let mut statement = String::with_capacity(head.len() + tail.len() + chunk.len() * 6);
        statement.push_str(head);
        statement.push_str(" VALUES ");
        for row in 0..chunk.len() / width {
            statement.push_str(if row == 0 { "(" } else { ", (" });
            for column in 1..=width {
                if column > 1 {
                    statement.push_str(", ");
                }
                if numbered {
                    statement.push_str(&format!("${}", row * width + column));
                } else {
                    statement.push('?');
                }
            }
            statement.push(')');
        }
        statement.push(' ');
        statement.push_str(tail);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement));
        for param in chunk {
            query = match param {
                Param::Int(value) => query.bind(*value),
                Param::OptInt(value) => query.bind(*value),
                Param::Text(value) => query.bind(*value),
                Param::OptText(value) => query.bind(*value),
            };
        }
        returned.extend(query.fetch_all(&mut *connection).await?);
    }
    Ok(returned)
}

/// The district's schools and roster.
pub async fn load(pool: &AnyPool, district_id: i64) -> anyhow::Result<Stored> {
    let mut connection = pool.acquire().await?;
    let sqlite = connection.backend_name() == "SQLite";
    let started = std::time::Instant::now();
    let phase = |name: &str| {
        tracing::debug!(
            phase = name,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "load"
        )
    };
    let mut stored = Stored::default();
    for row in sqlx::query(
        "SELECT id, school_id FROM schools WHERE district_id = $1 AND school_id IS NOT NULL",
    )
    .bind(district_id)
    .fetch_all(&mut *connection)
    .await?
    {
        stored
            .schools
            .insert(row.try_get("school_id")?, row.try_get("id")?);
    }
    // Each user with their schools (`1,2`) in one row: every row fetched
    // through the driver costs more than the parsing.
    let aggregate = if sqlite { "group_concat" } else { "string_agg" };
    let statement = format!(
        "SELECT id, user_id, role, first_name, last_name, email, grade, district_user_id, state_id, active,
                uploaded_at, edited_at,
                (SELECT {aggregate}(CAST(us.school_ref AS TEXT), ',') FROM roster_user_schools us
                 WHERE us.user_ref = u.id) AS schools
         FROM roster_users u WHERE district_id = $1 ORDER BY id"
    );
    for row in sqlx::query(sqlx::AssertSqlSafe(statement))
        .bind(district_id)
        .fetch_all(&mut *connection)
        .await?
    {
        // By position, in the order of the SELECT.
        let id: i64 = row.try_get(0)?;
        let role: String = row.try_get(2)?;
        let uploaded_at: Option<i64> = row.try_get(10)?;
        let edited_at: Option<i64> = row.try_get(11)?;
        let schools: Option<String> = row.try_get(12)?;
        stored.users.push(StoredUser {
            id,
            user_id: row.try_get(1)?,
            role: Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("stored user {id} has the role {role}"))?,
            first_name: row.try_get(3)?,
            last_name: row.try_get(4)?,
            email: row.try_get(5)?,
            grade: row.try_get(6)?,
            district_id: row.try_get(7)?,
            state_id: row.try_get(8)?,
            active: flag(row.try_get(9)?),
            edited_since_upload: edited_at.is_some_and(|e| uploaded_at.is_none_or(|u| e > u)),
            schools: schools
                .iter()
                .flat_map(|list| list.split(','))
                .map(str::parse)
                .collect::<Result<_, _>>()?,
        });
    }
    phase("users");
    for row in sqlx::query(
        "SELECT id, class_id, school_ref, name, grade, display_name, active FROM roster_classes WHERE district_id = $1",
    )
    .bind(district_id)
    .fetch_all(&mut *connection)
    .await?
    {
        stored.classes.push(StoredClass {
            id: row.try_get("id")?,
            class_id: row.try_get("class_id")?,
            school: row.try_get("school_ref")?,
            name: row.try_get("name")?,
            grade: row.try_get("grade")?,
            display_name: row.try_get("display_name")?,
            active: flag(row.try_get("active")?),
        });
    }
    // One row per user with all their enrollments, `class:primary:active`
    // joined by commas: a large roster has millions of enrollments, and
    // each row fetched through the driver costs far more than its parsing.
    let aggregate = if sqlite { "group_concat" } else { "string_agg" };
    let statement = format!(
        "SELECT e.user_ref, {aggregate}(CAST(e.class_ref AS TEXT) || ':' || CAST(COALESCE(e.primary_teacher, 2) AS TEXT)
                || ':' || CAST(e.active AS TEXT), ',') AS list
         FROM roster_enrollments e JOIN roster_classes c ON c.id = e.class_ref
         WHERE c.district_id = $1 GROUP BY e.user_ref"
    );
    for row in sqlx::query(sqlx::AssertSqlSafe(statement))
        .bind(district_id)
        .fetch_all(&mut *connection)
        .await?
    {
        let user_ref: i64 = row.try_get(0)?;
        let list: String = row.try_get(1)?;
        for item in list.split(',') {
            let mut fields = item.split(':').map(str::parse::<i64>);
            let (Some(Ok(class_ref)), Some(Ok(primary)), Some(Ok(active))) =
                (fields.next(), fields.next(), fields.next())
            else {
                anyhow::bail!("stored enrollments of user {user_ref} do not read back");
            };
            stored.enrollments.insert(
                (user_ref, class_ref),
                StoredEnrollment {
                    primary_teacher: (primary != 2).then_some(primary != 0),
                    active: flag(active),
                },
            );
        }
    }
    phase("enrollments");
    for row in sqlx::query(
        "SELECT d.user_ref, d.values_json FROM roster_demographics d
         JOIN roster_users u ON u.id = d.user_ref WHERE u.district_id = $1",
    )
    .bind(district_id)
    .fetch_all(&mut *connection)
    .await?
    {
        stored.demographics.insert(row.try_get(0)?, row.try_get(1)?);
    }
    phase("demographics");
    Ok(stored)
}

/// Finds the row id of a user or class key.
type RowRefOf<'a> = &'a (dyn Fn(&str) -> Option<i64> + Sync);

/// Applies a plan in one transaction: all of it, or nothing.
pub async fn apply(
    pool: &AnyPool,
    district_id: i64,
    stored: &Stored,
    plan: &Plan,
) -> anyhow::Result<()> {
    let now = now_millis();
    let started = std::time::Instant::now();
    let phase = |name: &str| {
        tracing::debug!(
            phase = name,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "apply"
        )
    };
    let mut tx = pool.begin().await?;
    let inserts: Vec<(&shared::records::UserRecord, &Vec<i64>)> = plan
        .users
        .iter()
        .filter_map(|write| match write {
            UserWrite::Insert { user, schools } => Some((user, schools)),
            _ => None,
        })
        .collect();
    let mut params = Vec::with_capacity(inserts.len() * 11);
    for (user, _) in &inserts {
        params.extend([
            Param::Int(district_id),
            Param::Text(&user.user_id),
            Param::Text(user.role.as_str()),
            Param::Text(&user.first_name),
            Param::Text(&user.last_name),
            Param::Text(&user.email),
            Param::OptText(user.grade.as_deref()),
            Param::OptText(user.district_id.as_deref()),
            Param::OptText(user.state_id.as_deref()),
            Param::Int(i64::from(!user.deactivate)),
            Param::Int(now),
        ]);
    }
    let inserted = insert_many(
        &mut tx,
        "INSERT INTO roster_users (district_id, user_id, role, first_name, last_name, email, grade,
            district_user_id, state_id, active, uploaded_at)",
        "RETURNING id, user_id",
        11,
        &params,
    )
    .await?;
    let mut new_user_refs: HashMap<String, i64> = HashMap::with_capacity(inserted.len());
    for row in &inserted {
        new_user_refs.insert(row.try_get("user_id")?, row.try_get("id")?);
    }
    let mut params = Vec::new();
    for (user, schools) in &inserts {
        let user_ref = new_user_refs[&*user.user_id];
        for school in *schools {
            params.extend([Param::Int(user_ref), Param::Int(*school)]);
        }
    }
    insert_many(
        &mut tx,
        "INSERT INTO roster_user_schools (user_ref, school_ref)",
        "",
        2,
        &params,
    )
    .await?;

    phase("new users");
    for write in &plan.users {
        match write {
            UserWrite::Insert { .. } => {} // written above, many per statement
            UserWrite::Update {
                id,
                user,
                add_schools,
            } => {
                sqlx::query(
                    "UPDATE roster_users SET user_id = $1, role = $2, first_name = $3, last_name = $4, email = $5,
                        grade = $6, district_user_id = $7, state_id = $8, active = 1, uploaded_at = $9
                     WHERE id = $10",
                )
                .bind(&*user.user_id)
                .bind(user.role.as_str())
                .bind(&user.first_name)
                .bind(&user.last_name)
                .bind(&user.email)
                .bind(user.grade.as_deref())
                .bind(user.district_id.as_deref())
                .bind(user.state_id.as_deref())
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                for school in add_schools {
                    sqlx::query(
                        "INSERT INTO roster_user_schools (user_ref, school_ref) VALUES ($1, $2)",
                    )
                    .bind(id)
                    .bind(school)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            UserWrite::Deactivate { id } => {
                sqlx::query("UPDATE roster_users SET active = 0, uploaded_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    phase("user updates");
    for write in &plan.classes {
        match write {
            ClassWrite::Insert { .. } => {} // written below, many per statement
            ClassWrite::Update { id, class, school } => {
                sqlx::query(
                    "UPDATE roster_classes SET school_ref = $1, name = $2, grade = $3, display_name = $4, active = 1
                     WHERE id = $5",
                )
                .bind(school)
                .bind(&class.name)
                .bind(&*class.grade)
                .bind(class.display_name.as_deref())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            ClassWrite::Deactivate { id } => {
                sqlx::query("UPDATE roster_classes SET active = 0 WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }

    let mut params = Vec::new();
    for write in &plan.classes {
        if let ClassWrite::Insert { class, school } = write {
            params.extend([
                Param::Int(district_id),
                Param::Text(&class.class_id),
                Param::Int(*school),
                Param::Text(&class.name),
                Param::Text(&class.grade),
                Param::OptText(class.display_name.as_deref()),
                Param::Int(i64::from(!class.remove)),
            ]);
        }
    }
    let inserted = insert_many(
        &mut tx,
        "INSERT INTO roster_classes (district_id, class_id, school_ref, name, grade, display_name, active)",
        "RETURNING id, class_id",
        7,
        &params,
    )
    .await?;
    let mut new_class_refs: HashMap<String, i64> = HashMap::with_capacity(inserted.len());
    for row in &inserted {
        new_class_refs.insert(row.try_get("class_id")?, row.try_get("id")?);
    }
    phase("classes");
    // Users and classes now all exist: their row ids are the stored ones,
    // those of renamed users, and those the inserts returned.
    let mut stored_user_refs: HashMap<&str, i64> = stored
        .users
        .iter()
        .map(|u| (u.user_id.as_str(), u.id))
        .collect();
    for write in &plan.users {
        if let UserWrite::Update { id, user, .. } = write {
            stored_user_refs.insert(&user.user_id, *id);
        }
    }
    let stored_class_refs: HashMap<&str, i64> = stored
        .classes
        .iter()
        .map(|c| (c.class_id.as_str(), c.id))
        .collect();
    let user_ref = |key: &str| {
        new_user_refs
            .get(key)
            .or_else(|| stored_user_refs.get(key))
            .copied()
    };
    let class_ref = |key: &str| {
        new_class_refs
            .get(key)
            .or_else(|| stored_class_refs.get(key))
            .copied()
    };
    phase("row ids");
    // Enrollments are most of an upload's rows: write them many per statement.
    let mut enrollments: Vec<(i64, i64, Option<i64>, i64)> =
        Vec::with_capacity(plan.enrollments.len());
    for enrollment in &plan.enrollments {
        let (Some(user_ref), Some(class_ref)) = (
            user_ref(&enrollment.user_id),
            class_ref(&enrollment.class_id),
        ) else {
            anyhow::bail!(
                "enrollment {}/{} names an unknown user or class",
                enrollment.user_id,
                enrollment.class_id
            );
        };
        enrollments.push((
            user_ref,
            class_ref,
            enrollment.primary_teacher.map(i64::from),
            i64::from(enrollment.active),
        ));
    }
    let params: Vec<Param> = enrollments
        .iter()
        .flat_map(|(user_ref, class_ref, primary, active)| {
            [
                Param::Int(*user_ref),
                Param::Int(*class_ref),
                Param::OptInt(*primary),
                Param::Int(*active),
            ]
        })
        .collect();
    insert_many(
        &mut tx,
        "INSERT INTO roster_enrollments (user_ref, class_ref, primary_teacher, active)",
        "ON CONFLICT (user_ref, class_ref) DO UPDATE
         SET primary_teacher = excluded.primary_teacher, active = excluded.active",
        4,
        &params,
    )
    .await?;
    phase("enrollments");
    // Deactivated users and removed classes end all their enrollments.
    let ends: [(&str, &Vec<std::sync::Arc<str>>, RowRefOf); 2] = [
        (
            "UPDATE roster_enrollments SET active = 0 WHERE user_ref = $1",
            &plan.end_enrollments_of_users,
            &user_ref,
        ),
        (
            "UPDATE roster_enrollments SET active = 0 WHERE class_ref = $1",
            &plan.end_enrollments_of_classes,
            &class_ref,
        ),
    ];
    for (statement, keys, row_ref_of) in ends {
        for row_ref in keys.iter().filter_map(|key| row_ref_of(key)) {
            sqlx::query(statement)
                .bind(row_ref)
                .execute(&mut *tx)
                .await?;
        }
    }
    let mut demographics: Vec<(i64, String)> = Vec::new();
    for record in &plan.demographics {
        let Some(user_ref) = user_ref(&record.user_id) else {
            continue;
        };
        // An omitted column changes nothing; a blank one clears the value.
        let before = stored.demographics.get(&user_ref);
        if let Some(json) = before {
            // The usual case, the same values again: they serialize to the
            // stored JSON (a BTreeMap's keys come out in order).
            if serde_json::to_string(&record.values)? == *json {
                continue;
            }
        }
        let before: Option<BTreeMap<String, Option<String>>> =
            before.map(|json| serde_json::from_str(json)).transpose()?;
        if before.as_ref().is_some_and(|before| {
            record
                .values
                .iter()
                .all(|(column, value)| before.get(column) == Some(value))
        }) {
            continue; // stored has more columns, and these are the same
        }
        let mut values = before.unwrap_or_default();
        values.extend(record.values.clone());
        demographics.push((user_ref, serde_json::to_string(&values)?));
    }
    let params: Vec<Param> = demographics
        .iter()
        .flat_map(|(user_ref, json)| [Param::Int(*user_ref), Param::Text(json)])
        .collect();
    insert_many(
        &mut tx,
        "INSERT INTO roster_demographics (user_ref, values_json)",
        "ON CONFLICT (user_ref) DO UPDATE SET values_json = excluded.values_json",
        2,
        &params,
    )
    .await?;
    phase("demographics");
    tx.commit().await?;
    phase("commit");
    Ok(())
}
