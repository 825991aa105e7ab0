//! `rostergate serve`: run the web app.

use super::ServeArgs;
use crate::server::{serve, Config};

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let config = Config {
        dist: args.dist.clone(),
        public: args.public.clone(),
    };
    tokio::runtime::Runtime::new()?.block_on(serve(&args.bind, config))
}
