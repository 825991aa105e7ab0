//! `rostergate push`: validate roster files here, then send only the clean,
//! normalized records to a RosterGate server as a staged upload, with an
//! embed token (`POST /api/embed/tokens`), the way the browser does:
//!
//! 1. validate with the schema crate; print the local summary on standard
//!    error (rows with errors are held back, never sent);
//! 2. `POST /api/uploads/staged`, then the clean users.csv (and
//!    demographics.csv) in gzip parts of at most `maxPartBytes`;
//! 3. preview; without `--preview`, commit (`--confirm` passes the safety
//!    hold); print the server's report as JSON on standard output.
//!
//! Exit 0: done; 1: refused (locally, or by the server: 4xx such as 422
//! invalid records, 409 safety hold, 401/403 token); 2: usage, I/O, network
//! or a server error.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};
use shared::csv_out::Audience;
use shared::export::{demographics_csv, users_csv};
use shared::report::FileStats;
use shared::Options;

use super::validate::validate_files;
use super::{PushArgs, EXIT_INVALID, EXIT_USAGE_OR_IO, EXIT_VALID};

/// The part size when the server names none (or a larger one).
const DEFAULT_PART_BYTES: usize = 8 << 20;
/// The largest answer read (a report with its page of changes).
const MAX_ANSWER_BYTES: u64 = 256 << 20;

/// The server's answer: status and JSON body (`Null` when not JSON).
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `{code, message}` of a refusal, for people.
    fn describe(&self) -> String {
        match (self.body["code"].as_str(), self.body["message"].as_str()) {
            (Some(code), Some(message)) => format!("{} {code}: {message}", self.status),
            _ => format!("HTTP {}", self.status),
        }
    }
}

struct Server {
    agent: ureq::Agent,
    base: String,
    authorization: String,
}

impl Server {
    fn new(base: &str, token: &str) -> anyhow::Result<Server> {
        let base = base.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("--server must be an http:// or https:// URL, not {base:?}");
        }
        if token.trim().is_empty() {
            bail!("--token is empty");
        }
        let config = ureq::Agent::config_builder()
            // Refusals are answers to read, not transport errors.
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .user_agent(concat!("rostergate-push/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Server {
            agent: config.into(),
            base,
            authorization: format!("Bearer {}", token.trim()),
        })
    }

    fn answer(
        &self,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        what: &str,
    ) -> anyhow::Result<Answer> {
        let mut response =
            response.with_context(|| format!("cannot reach {} ({what})", self.base))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .with_context(|| format!("cannot read the server's answer ({what})"))?;
        Ok(Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        })
    }

    fn post_json(&self, path: &str, body: &Value) -> anyhow::Result<Answer> {
        let response = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("authorization", &self.authorization)
            .content_type("application/json")
            .send(body.to_string());
        self.answer(response, path)
    }

    fn put_gzip(&self, path: &str, data: &[u8]) -> anyhow::Result<Answer> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data)?;
        let response = self
            .agent
            .put(format!("{}{path}", self.base))
            .header("authorization", &self.authorization)
            .header("content-encoding", "gzip")
            .content_type("text/csv")
            .send(encoder.finish()?);
        self.answer(response, path)
    }

    fn delete(&self, path: &str) -> anyhow::Result<Answer> {
        let response = self
            .agent
            .delete(format!("{}{path}", self.base))
            .header("authorization", &self.authorization)
            .call();
        self.answer(response, path)
    }
}

fn summary(name: &str, stats: &FileStats) -> String {
    format!(
        "{name}: {} rows, {} clean, {} with errors (held back), {} with warnings{}",
        stats.rows - stats.blank_rows,
        stats.valid_rows,
        stats.rows_with_errors,
        stats.rows_with_warnings,
        if stats.header_accepted {
            ""
        } else {
            "; the header was refused"
        }
    )
}

/// A refusal: its reason on standard error, its body (a report, for 422)
/// on standard output, exit 1 (4xx) or 2 (anything else).
fn refused(answer: &Answer, step: &str) -> anyhow::Result<ExitCode> {
    eprintln!(
        "rostergate push: the server refused the {step}: {}",
        answer.describe()
    );
    if answer.status == 409 && answer.body["code"] == "safety-hold" {
        eprintln!("rostergate push: run again with --confirm to go ahead.");
    }
    if answer.body["report"].is_object() {
        println!("{}", serde_json::to_string_pretty(&answer.body)?);
    }
    Ok(ExitCode::from(if (400..500).contains(&answer.status) {
        EXIT_INVALID
    } else {
        EXIT_USAGE_OR_IO
    }))
}

pub fn run(args: &PushArgs) -> anyhow::Result<ExitCode> {
    let server = Server::new(&args.server, &args.token)?;

    // 1. Here: validate, keep the clean records.
    let validated = validate_files(
        &args.users,
        args.demographics.as_deref(),
        Options::default(),
    )?;
    let stats = &validated.report.stats;
    eprintln!("{}", summary("users.csv", &stats.users_file));
    if let Some(demographics) = &stats.demographics_file {
        eprintln!("{}", summary("demographics.csv", demographics));
    }
    if !stats.by_code.is_empty() {
        let codes: Vec<String> = stats
            .by_code
            .iter()
            .map(|(code, n)| format!("{} × {n}", code.as_str()))
            .collect();
        eprintln!(
            "findings: {} (rostergate validate shows the rows)",
            codes.join(", ")
        );
    }
    let refused_file = !stats.users_file.header_accepted
        || stats
            .demographics_file
            .as_ref()
            .is_some_and(|d| !d.header_accepted);
    if refused_file {
        eprintln!("rostergate push: nothing sent: a file's header was refused.");
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    if validated.records.users.is_empty() {
        eprintln!("rostergate push: nothing sent: no clean rows.");
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    let users = users_csv(&validated.records, Audience::Program);
    let demographics = (!validated.records.demographics.is_empty())
        .then(|| demographics_csv(&validated.records, Audience::Program));
    drop(validated);

    // 2. The staged upload, in gzip parts.
    let file_name = Path::new(&args.users)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "users.csv".into());
    let mode = if args.full_sync {
        "full-sync"
    } else {
        "upsert"
    };
    let created = server.post_json(
        "/api/uploads/staged",
        &json!({"fileName": file_name, "mode": mode}),
    )?;
    if !created.ok() {
        return refused(&created, "upload");
    }
    let Some(id) = created.body["id"].as_str().map(String::from) else {
        bail!("the server's answer has no upload id: {}", created.body);
    };
    let part_bytes = created.body["maxPartBytes"]
        .as_u64()
        .map_or(DEFAULT_PART_BYTES, |n| {
            (n as usize).clamp(1, DEFAULT_PART_BYTES)
        });
    let staged = format!("/api/uploads/staged/{id}");
    let files = [("users", Some(users)), ("demographics", demographics)];
    for (file, bytes) in files.iter().filter_map(|(f, b)| Some((f, b.as_ref()?))) {
        for (n, part) in bytes.chunks(part_bytes).enumerate() {
            let sent = server.put_gzip(&format!("{staged}/{file}/{n}"), part)?;
            if !sent.ok() {
                let _ = server.delete(&staged);
                return refused(&sent, &format!("{file}.csv part {n}"));
            }
        }
    }

    // 3. Preview; commit unless only a preview was asked for.
    let page = json!({"changesLimit": args.changes});
    let preview = server.post_json(&format!("{staged}/preview"), &page)?;
    if !preview.ok() {
        let _ = server.delete(&staged);
        return refused(&preview, "preview");
    }
    let report = if args.preview {
        let _ = server.delete(&staged);
        preview
    } else {
        let committed = server.post_json(
            &format!("{staged}/commit"),
            &json!({"confirm": args.confirm, "changesLimit": args.changes}),
        )?;
        if !committed.ok() {
            let _ = server.delete(&staged);
            return refused(&committed, "commit");
        }
        committed
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &report.body)?;
    writeln!(out)?;
    Ok(ExitCode::from(EXIT_VALID))
}
