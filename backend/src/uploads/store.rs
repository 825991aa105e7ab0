//! Loading a district's roster for reconciliation, and applying a plan in
//! one transaction.

use foldhash::{HashMap, HashMapExt};

use futures_util::TryStreamExt;
use sqlx::Row;

use super::reconcile::{
    ClassWrite, Plan, Stored, StoredClass, StoredEnrollment, StoredUser, UserWrite,
};
use crate::db::{now_millis, TypedPool};
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

/// Rows whose parameters are built at once; on PostgreSQL also the rows of
/// one statement (one JSON parameter).
const ROWS_PER_BATCH: usize = 20_000;

/// Inserts rows of `columns.len()` parameters each into `table`, many rows
/// per statement: most of an upload is new rows, and one statement per row
/// makes a large commit slow. `tail` follows (ON CONFLICT, RETURNING);
/// returns what it returns.
///
/// SQLite: `VALUES (?, …), (…)` with anonymous `?` (sqlx looks each
/// numbered placeholder up by name, and SQLite finds a name by a linear
/// scan, so `$1 … $2000` cost a quadratic 2,000,000 steps per statement).
///
/// PostgreSQL: `ROWS_PER_BATCH` rows per statement as one JSON array of
/// objects, expanded by `json_populate_recordset` into the table's row type
/// (the Any driver has no arrays for `UNNEST`), instead of 500-row
/// statements of bound values. This saves round trips and parsing, about a
/// tenth of a large commit; most of what remains is PostgreSQL checking
/// each row's foreign keys.
async fn insert_many(
    connection: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    tail: &str,
    params: &[Param<'_>],
) -> anyhow::Result<Vec<sqlx::any::AnyRow>> {
    let width = columns.len();
    let column_list = columns.join(", ");
    let mut returned = Vec::new();
    if connection.backend_name() == "PostgreSQL" {
        let statement = format!(
            "INSERT INTO {table} ({column_list}) SELECT {column_list}
             FROM json_populate_recordset(NULL::{table}, $1::json) {tail}"
        );
        for chunk in params.chunks(ROWS_PER_BATCH * width) {
            let mut json = Vec::with_capacity(chunk.len() * 16);
            json.push(b'[');
            for (row, values) in chunk.chunks(width).enumerate() {
                json.extend_from_slice(if row == 0 { b"{" } else { b",{" });
                for (column, (name, value)) in columns.iter().zip(values).enumerate() {
                    if column > 0 {
                        json.push(b',');
                    }
                    json.push(b'"');
                    json.extend_from_slice(name.as_bytes());
                    json.extend_from_slice(b"\":");
                    match value {
                        Param::Int(v) | Param::OptInt(Some(v)) => {
                            json.extend_from_slice(v.to_string().as_bytes())
                        }
                        Param::Text(v) | Param::OptText(Some(v)) => {
                            serde_json::to_writer(&mut json, v)?
                        }
                        Param::OptInt(None) | Param::OptText(None) => {
                            json.extend_from_slice(b"null")
                        }
                    }
                }
                json.push(b'}');
            }
            json.push(b']');
            let json = String::from_utf8(json)?;
            returned.extend(
                sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
                    .bind(json)
                    .fetch_all(&mut *connection)
                    .await?,
            );
        }
        return Ok(returned);
    }
    for chunk in params.chunks(MAX_PARAMS / width * width) {
        let mut statement = format!("INSERT INTO {table} ({column_list}) VALUES ");
        for row in 0..chunk.len() / width {
            statement.push_str(if row == 0 { "(" } else { ", (" });
            for column in 0..width {
                statement.push_str(if column == 0 { "?" } else { ", ?" });
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

/// An enrollment as one number, for loading: the class row id, whether the
/// teacher is primary (0, 1; 2 for a student's NULL) and active (0, 1).
const PACKED_ENROLLMENT: &str = "e.class_ref * 8 + COALESCE(e.primary_teacher, 2) * 2 + e.active";

/// The class row id and the enrollment of a `PACKED_ENROLLMENT` number.
fn unpack_enrollment(packed: i64) -> (i64, StoredEnrollment) {
    let primary = (packed >> 1) & 3;
    (
        packed >> 3,
        StoredEnrollment {
            primary_teacher: (primary != 2).then_some(primary == 1),
            active: packed & 1 == 1,
        },
    )
}

/// Reads a column by position alike from either driver's rows.
trait Columns {
    fn int(&self, index: usize) -> sqlx::Result<i64>;
    fn opt_int(&self, index: usize) -> sqlx::Result<Option<i64>>;
    fn text(&self, index: usize) -> sqlx::Result<String>;
    fn opt_text(&self, index: usize) -> sqlx::Result<Option<String>>;
    /// Borrowed from the row, for values parsed rather than kept.
    fn opt_str(&self, index: usize) -> sqlx::Result<Option<&str>>;
}

macro_rules! columns_of {
    ($($row:ty),*) => {$(
        impl Columns for $row {
            fn int(&self, index: usize) -> sqlx::Result<i64> {
                self.try_get(index)
            }
            fn opt_int(&self, index: usize) -> sqlx::Result<Option<i64>> {
                self.try_get(index)
            }
            fn text(&self, index: usize) -> sqlx::Result<String> {
                self.try_get(index)
            }
            fn opt_text(&self, index: usize) -> sqlx::Result<Option<String>> {
                self.try_get(index)
            }
            fn opt_str(&self, index: usize) -> sqlx::Result<Option<&str>> {
                self.try_get(index)
            }
        }
    )*};
}
columns_of!(sqlx::sqlite::SqliteRow, sqlx::postgres::PgRow);

/// An open read transaction on the typed pool: one snapshot of the roster.
enum Snapshot {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Snapshot {
    async fn begin(pool: &TypedPool) -> sqlx::Result<Snapshot> {
        Ok(match pool {
            // In WAL mode a read transaction sees the database as of its
            // first read, whatever commits meanwhile.
            TypedPool::Sqlite(pool) => Snapshot::Sqlite(pool.begin().await?),
            TypedPool::Postgres(pool) => Snapshot::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        })
    }

    fn is_sqlite(&self) -> bool {
        matches!(self, Snapshot::Sqlite(_))
    }

    /// Runs `statement` with the district id as `$1` and hands each row to
    /// `each` as it arrives (the rows are never all held at once).
    async fn for_each_row(
        &mut self,
        statement: &str,
        district_id: i64,
        mut each: impl FnMut(&dyn Columns) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let statement = || sqlx::AssertSqlSafe(statement.to_string());
        match self {
            Snapshot::Sqlite(tx) => {
                let query = sqlx::query(statement()).bind(district_id);
                let mut rows = query.fetch(&mut **tx);
                while let Some(row) = rows.try_next().await? {
                    each(&row)?;
                }
            }
            Snapshot::Postgres(tx) => {
                let query = sqlx::query(statement()).bind(district_id);
                let mut rows = query.fetch(&mut **tx);
                while let Some(row) = rows.try_next().await? {
                    each(&row)?;
                }
            }
        }
        Ok(())
    }
}

/// The district's schools and roster, and the version they are at.
pub async fn load(pool: &TypedPool, district_id: i64) -> anyhow::Result<Stored> {
    let mut snapshot = Snapshot::begin(pool).await?;
    let sqlite = snapshot.is_sqlite();
    let started = std::time::Instant::now();
    let phase = |name: &str| {
        tracing::debug!(
            phase = name,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "load"
        )
    };
    let mut stored = Stored::default();
    // First, in the same snapshot as the rest.
    snapshot
        .for_each_row(crate::db::ROSTER_VERSION_QUERY, district_id, |row| {
            stored.version = row.int(0)?;
            Ok(())
        })
        .await?;
    snapshot
        .for_each_row(
            "SELECT school_id, id FROM schools WHERE district_id = $1 AND school_id IS NOT NULL",
            district_id,
            |row| {
                stored.schools.insert(row.text(0)?, row.int(1)?);
                Ok(())
            },
        )
        .await?;
    // Each user in one row with their schools (`1,2`) and enrollments
    // (packed numbers, see `PACKED_ENROLLMENT`): every row fetched through
    // the driver costs more than parsing, and a per-user look-up in the
    // enrollments' primary key costs SQLite less than grouping a million
    // enrollments.
    let aggregate = if sqlite { "group_concat" } else { "string_agg" };
    let statement = format!(
        "SELECT id, user_id, role, first_name, last_name, email, grade, district_user_id, state_id, active,
                uploaded_at, edited_at,
                (SELECT {aggregate}(CAST(us.school_ref AS TEXT), ',') FROM roster_user_schools us
                 WHERE us.user_ref = u.id) AS schools,
                (SELECT {aggregate}(CAST({PACKED_ENROLLMENT} AS TEXT), ',') FROM roster_enrollments e
                 WHERE e.user_ref = u.id) AS enrollments
         FROM roster_users u WHERE district_id = $1 ORDER BY id"
    );
    snapshot
        .for_each_row(&statement, district_id, |row| {
            // By position, in the order of the SELECT.
            let id = row.int(0)?;
            let role = row.opt_str(2)?.unwrap_or_default();
            let uploaded_at = row.opt_int(10)?;
            let edited_at = row.opt_int(11)?;
            stored.users.push(StoredUser {
                id,
                user_id: row.text(1)?,
                role: Role::parse(role)
                    .ok_or_else(|| anyhow::anyhow!("stored user {id} has the role {role}"))?,
                first_name: row.text(3)?,
                last_name: row.text(4)?,
                email: row.text(5)?,
                grade: row.opt_text(6)?,
                district_id: row.opt_text(7)?,
                state_id: row.opt_text(8)?,
                active: flag(row.int(9)?),
                edited_since_upload: edited_at.is_some_and(|e| uploaded_at.is_none_or(|u| e > u)),
                schools: row
                    .opt_str(12)?
                    .iter()
                    .flat_map(|list| list.split(','))
                    .map(str::parse)
                    .collect::<Result<_, _>>()?,
            });
            for packed in row.opt_str(13)?.iter().flat_map(|list| list.split(',')) {
                let (class_ref, enrollment) = unpack_enrollment(packed.parse()?);
                stored.enrollments.insert((id, class_ref), enrollment);
            }
            Ok(())
        })
        .await?;
    phase("users and enrollments");
    snapshot
        .for_each_row(
            "SELECT id, class_id, school_ref, name, grade, display_name, active FROM roster_classes WHERE district_id = $1",
            district_id,
            |row| {
                stored.classes.push(StoredClass {
                    id: row.int(0)?,
                    class_id: row.text(1)?,
                    school: row.int(2)?,
                    name: row.text(3)?,
                    grade: row.text(4)?,
                    display_name: row.opt_text(5)?,
                    active: flag(row.int(6)?),
                });
                Ok(())
            },
        )
        .await?;
    phase("classes");
    snapshot
        .for_each_row(
            "SELECT d.user_ref, d.values_json FROM roster_demographics d
             JOIN roster_users u ON u.id = d.user_ref WHERE u.district_id = $1",
            district_id,
            |row| {
                stored.demographics.insert(row.int(0)?, row.text(1)?);
                Ok(())
            },
        )
        .await?;
    phase("demographics");
    Ok(stored)
}

/// The row ids the database gave the users and classes a commit inserted,
/// by their keys: with them the committed roster is known without reading
/// it back (`Stored::written`).
#[derive(Debug, Default)]
pub struct NewRows {
    pub users: HashMap<String, i64>,
    pub classes: HashMap<String, i64>,
}

/// Finds the row id of a user or class key.
type RowRefOf<'a> = &'a (dyn Fn(&str) -> Option<i64> + Sync);

/// Writes a plan. Call it in a transaction that also checks the roster
/// version (`db::roster_changed_from`), so the plan is written whole, or
/// not at all, and only onto the roster it was made for.
pub async fn apply(
    tx: &mut sqlx::AnyConnection,
    district_id: i64,
    stored: &Stored,
    plan: &Plan,
) -> anyhow::Result<NewRows> {
    let now = now_millis();
    let started = std::time::Instant::now();
    let phase = |name: &str| {
        tracing::debug!(
            phase = name,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "apply"
        )
    };
    let inserts: Vec<(&shared::records::UserRecord, &Vec<i64>)> = plan
        .users
        .iter()
        .filter_map(|write| match write {
            UserWrite::Insert { user, schools } => Some((user, schools)),
            _ => None,
        })
        .collect();
    let mut new_user_refs: HashMap<String, i64> = HashMap::with_capacity(inserts.len());
    for batch in inserts.chunks(ROWS_PER_BATCH) {
        let mut params = Vec::with_capacity(batch.len() * 11);
        for (user, _) in batch {
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
            &mut *tx,
            "roster_users",
            &[
                "district_id",
                "user_id",
                "role",
                "first_name",
                "last_name",
                "email",
                "grade",
                "district_user_id",
                "state_id",
                "active",
                "uploaded_at",
            ],
            "RETURNING id, user_id",
            &params,
        )
        .await?;
        for row in &inserted {
            new_user_refs.insert(row.try_get("user_id")?, row.try_get("id")?);
        }
        let mut params = Vec::new();
        for (user, schools) in batch {
            let user_ref = new_user_refs[&*user.user_id];
            for school in *schools {
                params.extend([Param::Int(user_ref), Param::Int(*school)]);
            }
        }
        insert_many(
            &mut *tx,
            "roster_user_schools",
            &["user_ref", "school_ref"],
            "",
            &params,
        )
        .await?;
    }
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
        &mut *tx,
        "roster_classes",
        &[
            "district_id",
            "class_id",
            "school_ref",
            "name",
            "grade",
            "display_name",
            "active",
        ],
        "RETURNING id, class_id",
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
    // Parameters a batch at a time: a million enrollments' worth at once
    // would hold a few hundred MB more at the peak of a large commit.
    for batch in plan.enrollments.chunks(ROWS_PER_BATCH) {
        let mut params = Vec::with_capacity(batch.len() * 4);
        for enrollment in batch {
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
            params.extend([
                Param::Int(user_ref),
                Param::Int(class_ref),
                Param::OptInt(enrollment.primary_teacher.map(i64::from)),
                Param::Int(i64::from(enrollment.active)),
            ]);
        }
        insert_many(
            &mut *tx,
            "roster_enrollments",
            &["user_ref", "class_ref", "primary_teacher", "active"],
            "ON CONFLICT (user_ref, class_ref) DO UPDATE
             SET primary_teacher = excluded.primary_teacher, active = excluded.active",
            &params,
        )
        .await?;
    }
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
    // The plan keeps only the students whose values change.
    let mut demographics: Vec<(i64, &str)> = Vec::with_capacity(plan.demographics.len());
    for write in &plan.demographics {
        if let Some(user_ref) = user_ref(&write.user_id) {
            demographics.push((user_ref, &write.values_json));
        }
    }
    let params: Vec<Param> = demographics
        .iter()
        .flat_map(|(user_ref, json)| [Param::Int(*user_ref), Param::Text(json)])
        .collect();
    insert_many(
        &mut *tx,
        "roster_demographics",
        &["user_ref", "values_json"],
        "ON CONFLICT (user_ref) DO UPDATE SET values_json = excluded.values_json",
        &params,
    )
    .await?;
    phase("demographics");
    Ok(NewRows {
        users: new_user_refs,
        classes: new_class_refs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_enrollments_unpack() {
        // class 12345: student (NULL → 2) active; primary teacher ended;
        // secondary teacher active.
        for (primary, active, expected) in [
            (2, 1, (None, true)),
            (1, 0, (Some(true), false)),
            (0, 1, (Some(false), true)),
        ] {
            let packed = 12345 * 8 + primary * 2 + active;
            let (class_ref, enrollment) = unpack_enrollment(packed);
            assert_eq!(class_ref, 12345);
            assert_eq!((enrollment.primary_teacher, enrollment.active), expected);
        }
    }
}
