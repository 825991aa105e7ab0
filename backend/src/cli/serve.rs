//! `rostergate serve`: open the database, seed the demo if asked, and run
//! the web app.

use super::ServeArgs;
use crate::server::{init_logging, serve, AppState, Config};
use crate::{db, demo};

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let config = Config {
        secure_cookies: args.secure_cookies,
        max_rows: args.max_rows,
        ..Config::new(args.dist.clone(), args.public.clone())
    };
    init_logging();
    tokio::runtime::Runtime::new()?.block_on(async {
        let pool = db::connect(&args.database.url).await?;
        if args.demo {
            let sign_in = demo::seed(&pool).await?;
            eprintln!(
                "Demo district \"{}\": sign in as {} with the password {}",
                demo::DEMO_DISTRICT,
                sign_in.email,
                sign_in.password
            );
        } else if demo::database_is_empty(&pool).await? {
            eprintln!(
                "The database has no district yet. Create the first admin (and district) with\n  \
                 rostergate admin create --district \"NAME\" --email you@example.org --system --enrollment --database {}\n\
                 or start with --demo for a sample district.",
                db::redact(&args.database.url)
            );
        }
        let shutdown = std::time::Duration::from_secs(args.shutdown_seconds);
        serve(&args.bind, AppState::new(pool, config)?, shutdown).await
    })
}
