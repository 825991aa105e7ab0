//! The demo district: schools and a roster from the sample generator, and an
//! admin with both permissions, so a newcomer can sign in at once. The roster
//! goes in through the same reconciliation as any upload.

use shared::sample::{generate, SampleOptions};
use shared::{validate, Options};
use sqlx::{AnyPool, Row};

use crate::accounts::{
    create_admin, ensure_district, generate_password, hash_password, Permissions,
};
use crate::db::{roster_changed, TypedPool};
use crate::orgs::{insert_school, SchoolInput};
use crate::uploads::reconcile::{self, Mode};
use crate::uploads::store;

pub const DEMO_DISTRICT: &str = "Maple Valley Unified (demo)";
pub const DEMO_EMAIL: &str = "demo@maplevalley.example.org";
const DEMO_STUDENTS: usize = 1800;

/// A sign-in to print.
pub struct DemoSignIn {
    pub email: &'static str,
    pub password: String,
}

/// Whether the database has no district yet (a first start).
pub async fn database_is_empty(pool: &AnyPool) -> anyhow::Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM districts")
        .fetch_one(pool)
        .await?;
    Ok(row.try_get::<i64, _>("n")? == 0)
}

/// Creates the demo district if missing, and gives its admin a new password.
pub async fn seed(pool: &AnyPool) -> anyhow::Result<DemoSignIn> {
    let district_id = ensure_district(pool, DEMO_DISTRICT).await?;
    let schools = sqlx::query("SELECT COUNT(*) AS n FROM schools WHERE district_id = $1")
        .bind(district_id)
        .fetch_one(pool)
        .await?;
    if schools.try_get::<i64, _>("n")? == 0 {
        let sample = generate(&SampleOptions {
            students: DEMO_STUDENTS,
            seed: 1,
            error_rate: 0.0,
        });
        for school in &sample.schools {
            let input = SchoolInput {
                school_id: Some(school.school_id.clone()),
                name: school.name.clone(),
                low_grade: Some(school.low_grade.to_string()),
                high_grade: Some(school.high_grade.to_string()),
            };
            insert_school(pool, district_id, &input).await?;
        }
        let validated = validate(
            &sample.users_csv,
            Some(&sample.demographics_csv),
            Options::default(),
        );
        anyhow::ensure!(validated.report.valid, "the demo sample does not validate");
        let stored = store::load(&TypedPool::beside(pool)?, district_id).await?;
        let plan = reconcile::plan(&stored, &validated.records, Mode::Upsert);
        let mut tx = pool.begin().await?;
        roster_changed(&mut *tx, district_id).await?;
        store::apply(&mut tx, district_id, &stored, &plan).await?;
        tx.commit().await?;
    }
    let password = generate_password();
    let updated = sqlx::query("UPDATE admins SET password_hash = $1 WHERE email = $2")
        .bind(hash_password(&password)?)
        .bind(DEMO_EMAIL)
        .execute(pool)
        .await?;
    if updated.rows_affected() == 0 {
        let both = Permissions {
            system_access: true,
            enrollment_access: true,
        };
        create_admin(pool, district_id, DEMO_EMAIL, &password, both).await?;
    }
    Ok(DemoSignIn {
        email: DEMO_EMAIL,
        password,
    })
}
