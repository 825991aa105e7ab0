//! `rostergate serve`: placeholder until the server issue lands.

use super::ServeArgs;

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    anyhow::bail!(
        "the server is not built yet (it comes with the server issue); \
         meanwhile open {}/index.html through any static file server, \
         or use `rostergate validate` (would bind {})",
        args.dist.display(),
        args.bind
    )
}
