//! `rostergate admin create`.

use super::AdminCreateArgs;
use crate::accounts::{create_admin, ensure_district, generate_password, Permissions};
use crate::db;

pub fn create(args: &AdminCreateArgs) -> anyhow::Result<()> {
    let permissions = Permissions {
        system_access: args.system,
        enrollment_access: args.enrollment,
    };
    let password = generate_password();
    tokio::runtime::Runtime::new()?.block_on(async {
        let pool = db::connect(&args.database.url).await?;
        let district_id = ensure_district(&pool, args.district.trim()).await?;
        create_admin(&pool, district_id, &args.email, &password, permissions).await
    })?;
    if !permissions.any() {
        eprintln!("note: without --system or --enrollment this admin can sign in but see nothing");
    }
    println!(
        "Created {} in {}. Password: {password}",
        args.email.trim().to_lowercase(),
        args.district.trim()
    );
    Ok(())
}
