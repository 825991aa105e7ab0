//! Districts and admin accounts: creation, passwords (argon2), permissions.

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sqlx::{AnyPool, Row};

use crate::db::now;
pub use shared::api::{AdminAccount, Permissions};

/// Random bytes from the operating system, as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system's random source");
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// A password for people to type: 20 characters without look-alikes.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut buffer = [0u8; 20];
    getrandom::fill(&mut buffer).expect("the operating system's random source");
    buffer
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The district's id, creating the district if it does not exist.
pub async fn ensure_district(pool: &AnyPool, name: &str) -> anyhow::Result<i64> {
    if let Some(row) = sqlx::query("SELECT id FROM districts WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?
    {
        return Ok(row.try_get("id")?);
    }
    let row = sqlx::query("INSERT INTO districts (name, created_at) VALUES ($1, $2) RETURNING id")
        .bind(name)
        .bind(now())
        .fetch_one(pool)
        .await
        .with_context(|| format!("cannot create the district {name}"))?;
    Ok(row.try_get("id")?)
}

/// Creates an admin of a district; returns the admin's id.
pub async fn create_admin(
    pool: &AnyPool,
    district_id: i64,
    email: &str,
    password: &str,
    permissions: Permissions,
) -> anyhow::Result<i64> {
    let email = email.trim().to_lowercase();
    anyhow::ensure!(email.contains('@'), "{email} is not an email address");
    let exists = sqlx::query("SELECT id FROM admins WHERE email = $1")
        .bind(&email)
        .fetch_optional(pool)
        .await?;
    anyhow::ensure!(
        exists.is_none(),
        "an admin with the email {email} exists already"
    );
    let row = sqlx::query(
        "INSERT INTO admins (district_id, email, password_hash, system_access, enrollment_access, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(district_id)
    .bind(&email)
    .bind(hash_password(password)?)
    .bind(i64::from(permissions.system_access))
    .bind(i64::from(permissions.enrollment_access))
    .bind(now())
    .fetch_one(pool)
    .await?;
    Ok(row.try_get("id")?)
}

/// Loads an admin with their district's name.
pub async fn load_admin(pool: &AnyPool, admin_id: i64) -> anyhow::Result<Option<AdminAccount>> {
    let row = sqlx::query(
        "SELECT a.id, a.district_id, d.name AS district_name, a.email, a.system_access, a.enrollment_access
         FROM admins a JOIN districts d ON d.id = a.district_id WHERE a.id = $1",
    )
    .bind(admin_id)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(AdminAccount {
            id: row.try_get("id")?,
            district_id: row.try_get("district_id")?,
            district_name: row.try_get("district_name")?,
            email: row.try_get("email")?,
            permissions: Permissions {
                system_access: row.try_get::<i64, _>("system_access")? != 0,
                enrollment_access: row.try_get::<i64, _>("enrollment_access")? != 0,
            },
        })
    })
    .transpose()
}
