//! The command line: argument parsing and dispatch.

mod admin;
mod push;
mod sample;
mod serve;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// No finding of severity error.
pub const EXIT_VALID: u8 = 0;
/// At least one error finding.
pub const EXIT_INVALID: u8 = 1;
/// A usage or I/O problem (clap uses 2 for usage errors too).
pub const EXIT_USAGE_OR_IO: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "rostergate",
    version,
    about = "Validate and load school roster files (users.csv, demographics.csv)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a users.csv (and optionally a demographics.csv) against the
    /// data dictionary. Exit 0: no errors; 1: errors; 2: usage or I/O problem.
    Validate(ValidateArgs),
    /// Write a realistic sample district (users.csv, demographics.csv,
    /// schools.csv; with --errors, damage.csv listing the damage made).
    Sample(SampleArgs),
    /// Run the web app: the browser validator, data dictionary, templates and API.
    Serve(ServeArgs),
    /// Validate roster files here and send the clean records to a RosterGate
    /// server with an embed token: preview, then commit. Prints the server's
    /// report as JSON. Exit 0: done; 1: refused; 2: usage, I/O or network.
    Push(PushArgs),
    /// Manage admin accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin (and the district, if new); prints a generated password.
    Create(AdminCreateArgs),
}

#[derive(Debug, clap::Args)]
pub struct AdminCreateArgs {
    /// The district's name.
    #[arg(long)]
    pub district: String,
    /// The admin's email address (their sign-in).
    #[arg(long)]
    pub email: String,
    /// Grant System access.
    #[arg(long)]
    pub system: bool,
    /// Grant Enrollment access.
    #[arg(long)]
    pub enrollment: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    /// sqlite://path/to/file.db (the default) or postgres://user:password@host/db.
    #[arg(long = "database", env = "DATABASE_URL", default_value = crate::db::DEFAULT_DATABASE_URL)]
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: counts first, then each problem with its first rows.
    Text,
    /// Exactly one JSON object: {valid, findings, stats}.
    Json,
    /// The errors report (users-errors.csv), as the browser makes it.
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The users.csv file.
    pub users: PathBuf,
    /// A demographics.csv to validate with it.
    #[arg(long)]
    pub demographics: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// With --format csv: write users-errors.csv (and demographics-errors.csv)
    /// into this folder instead of printing the users report.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// School IDs of the district, comma-separated: other schools get unknown-school.
    #[arg(long, value_delimiter = ',')]
    pub schools: Option<Vec<String>>,
}

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The users.csv file.
    pub users: PathBuf,
    /// A demographics.csv to send with it.
    #[arg(long)]
    pub demographics: Option<PathBuf>,
    /// The server's address, e.g. https://rostergate.example.org
    #[arg(long, env = "ROSTERGATE_SERVER")]
    pub server: String,
    /// An embed token of the district (POST /api/embed/tokens, by an admin
    /// with System access); the environment keeps it out of the process list.
    #[arg(long, env = "ROSTERGATE_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Only show what the upload would change; store nothing.
    #[arg(long)]
    pub preview: bool,
    /// Full sync: users and enrollments of the file's schools that the file
    /// does not list are deactivated or ended.
    #[arg(long)]
    pub full_sync: bool,
    /// Go ahead although the safety hold applies (more than 10 % removed).
    #[arg(long)]
    pub confirm: bool,
    /// List this many field changes in the report (its counts are always there).
    #[arg(long, default_value_t = 0)]
    pub changes: usize,
    /// Bytes of the clean files per part, before compression (at most the
    /// server's maxPartBytes, 8 MiB): smaller parts resend less after a
    /// lost connection on a slow link.
    #[arg(long, default_value_t = 8 << 20, value_parser = clap::value_parser!(u64).range(1024..))]
    pub part_bytes: u64,
    /// How long to keep trying a request while the server cannot be
    /// reached or answers 5xx (it may be restarting), with growing waits.
    #[arg(long, default_value_t = 60)]
    pub retry_seconds: u64,
}

#[derive(Debug, clap::Args)]
pub struct SampleArgs {
    /// How many students.
    #[arg(long)]
    pub students: usize,
    /// Seed of the generator: the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Share of student rows to damage, from 0 to 1 (listed in damage.csv).
    #[arg(long, default_value_t = 0.0)]
    pub errors: f64,
    /// Folder to write the files into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ROSTERGATE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// The built browser app (trunk build output).
    #[arg(long, env = "ROSTERGATE_DIST", default_value = "dist")]
    pub dist: PathBuf,
    /// Static files served under /public (data dictionary, CSV templates).
    #[arg(long, env = "ROSTERGATE_PUBLIC", default_value = "public")]
    pub public: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Seed the demo district (a sample roster and an admin with both
    /// permissions) and print a fresh sign-in for it. Without it, a new
    /// database starts empty: `rostergate admin create` makes the first admin.
    #[arg(long)]
    pub demo: bool,
    /// Served over HTTPS (behind a proxy): mark the session cookie Secure
    /// and send Strict-Transport-Security.
    #[arg(long, env = "ROSTERGATE_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// The most data rows a users.csv or demographics.csv of one upload may
    /// have (413 beyond).
    #[arg(long, env = "ROSTERGATE_MAX_ROWS", default_value_t = crate::server::state::DEFAULT_MAX_ROWS)]
    pub max_rows: u64,
    /// On SIGTERM or Ctrl-C: seconds the requests in flight get to finish
    /// before the server exits (what is still running then rolls back).
    #[arg(long, env = "ROSTERGATE_SHUTDOWN_SECONDS", default_value_t = 30)]
    pub shutdown_seconds: u64,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Sample(args) => sample::run(&args).map(|()| ExitCode::from(EXIT_VALID)),
        Command::Push(args) => push::run(&args),
        Command::Serve(args) => serve::run(&args).map(|()| ExitCode::from(EXIT_VALID)),
        Command::Admin(AdminCommand::Create(args)) => {
            admin::create(&args).map(|()| ExitCode::from(EXIT_VALID))
        }
    }
}
