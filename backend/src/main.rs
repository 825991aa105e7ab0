//! `rostergate`: validate roster files, make sample districts, run the server.

use std::process::ExitCode;

use clap::Parser;

// mimalloc: the validator allocates a few small strings per user, and the
// server frees a district's records on other threads than made them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = backend::cli::Cli::parse();
    match backend::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("rostergate: {error:#}");
            ExitCode::from(backend::cli::EXIT_USAGE_OR_IO)
        }
    }
}
