//! `rostergate serve`: open the database, seed the demo if asked or on a
//! first start, and run the web app.

use super::ServeArgs;
use crate::server::{init_logging, serve, AppState, Config};
use crate::{db, demo};

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let config = Config {
        dist: args.dist.clone(),
        public: args.public.clone(),
        secure_cookies: args.secure_cookies,
    };
    init_logging();
    tokio::runtime::Runtime::new()?.block_on(async {
        let pool = db::connect(&args.database.url).await?;
        if args.demo || demo::database_is_empty(&pool).await? {
            let sign_in = demo::seed(&pool).await?;
            eprintln!(
                "Demo district \"{}\": sign in as {} with the password {}",
                demo::DEMO_DISTRICT,
                sign_in.email,
                sign_in.password
            );
        }
        serve(&args.bind, AppState::new(pool, config)?).await
    })
}
