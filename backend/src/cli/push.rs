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
//! When the server cannot be reached or answers 5xx, each step is tried
//! again with growing waits (about a minute in all); a part is not sent
//! twice: after a failure push asks where the upload stands
//! (`GET /api/uploads/staged/{id}`) and goes on from its `nextPart`.
//! Committing again after a lost answer gets the same report.
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
use serde::de::DeserializeOwned;
use serde::Serialize;
use shared::api::{
    ChangesPage, CommitRequest, ErrorBody, Mode, RefusedRecords, StagedCreated, Standing,
    Submission, UploadReport,
};
use shared::csv_out::Audience;
use shared::export::{CsvRows, DemographicsCsv, UsersCsv};
use shared::report::FileStats;
use shared::Options;

use super::validate::validate_files;
use super::{PushArgs, EXIT_INVALID, EXIT_USAGE_OR_IO, EXIT_VALID};

/// The waits between tries of a request the server could not answer, as
/// far as `--retry-seconds` goes.
const RETRY_WAITS_MS: [u64; 8] = [250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000];
/// The largest answer read (a report with its page of changes).
const MAX_ANSWER_BYTES: u64 = 256 << 20;

/// The server's answer: its status and body, read as the API's types.
struct Answer {
    status: u16,
    text: String,
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as `T` (a 2xx answer's type).
    fn read<T: DeserializeOwned>(&self) -> anyhow::Result<T> {
        serde_json::from_str(&self.text).with_context(|| {
            format!(
                "the server's answer is not what push expects: {}",
                self.text
            )
        })
    }

    /// The `{code, message}` of a refusal (none when the body is not one).
    fn error(&self) -> Option<ErrorBody> {
        serde_json::from_str(&self.text).ok()
    }

    /// `{code, message}` of a refusal, for people.
    fn describe(&self) -> String {
        match self.error() {
            Some(ErrorBody { code, message }) => format!("{} {code}: {message}", self.status),
            None => format!("HTTP {}", self.status),
        }
    }

    fn code_is(&self, code: &str) -> bool {
        self.error().is_some_and(|e| e.code == code)
    }
}

struct Server {
    agent: ureq::Agent,
    base: String,
    authorization: String,
    /// The waits between tries (`RETRY_WAITS_MS` within `--retry-seconds`).
    retry_waits: Vec<Duration>,
}

/// The waits that fit in `budget`: each of `RETRY_WAITS_MS` while the sum
/// stays within it (at least one short wait).
fn retry_waits(budget: Duration) -> Vec<Duration> {
    let mut total = Duration::ZERO;
    let mut waits = Vec::new();
    for wait in RETRY_WAITS_MS.map(Duration::from_millis) {
        total += wait;
        if total > budget && !waits.is_empty() {
            break;
        }
        waits.push(wait);
    }
    waits
}

impl Server {
    fn new(base: &str, token: &str, retry_budget: Duration) -> anyhow::Result<Server> {
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
            retry_waits: retry_waits(retry_budget),
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
        Ok(Answer { status, text })
    }

    fn post_json(&self, path: &str, body: &impl Serialize) -> anyhow::Result<Answer> {
        let response = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("authorization", &self.authorization)
            .content_type("application/json")
            .send(serde_json::to_string(body)?);
        self.answer(response, path)
    }

    /// Sends one part, already gzip-compressed.
    fn put_gzip(&self, path: &str, gzip: &[u8]) -> anyhow::Result<Answer> {
        let response = self
            .agent
            .put(format!("{}{path}", self.base))
            .header("authorization", &self.authorization)
            .header("content-encoding", "gzip")
            .content_type("text/csv")
            .send(gzip);
        self.answer(response, path)
    }

    fn get(&self, path: &str) -> anyhow::Result<Answer> {
        let response = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("authorization", &self.authorization)
            .call();
        self.answer(response, path)
    }

    /// `send` until it gets an answer below 500, waiting longer after each
    /// failure (the server restarting, a dropped connection): the answer, or
    /// the last failure.
    fn retrying(
        &self,
        what: &str,
        mut send: impl FnMut() -> anyhow::Result<Answer>,
    ) -> anyhow::Result<Answer> {
        for wait in &self.retry_waits {
            let ms = wait.as_millis();
            match send() {
                Ok(answer) if answer.status < 500 => return Ok(answer),
                Ok(answer) => eprintln!(
                    "rostergate push: {what}: the server answered {}; trying again in {ms} ms",
                    answer.describe()
                ),
                Err(error) => {
                    eprintln!("rostergate push: {what}: {error:#}; trying again in {ms} ms")
                }
            }
            std::thread::sleep(*wait);
        }
        send()
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
    if answer.status == 409 && answer.code_is("safety-hold") {
        eprintln!("rostergate push: run again with --confirm to go ahead.");
    }
    if let Ok(refused) = serde_json::from_str::<RefusedRecords>(&answer.text) {
        println!("{}", serde_json::to_string_pretty(&refused)?);
    }
    Ok(ExitCode::from(if (400..500).contains(&answer.status) {
        EXIT_INVALID
    } else {
        EXIT_USAGE_OR_IO
    }))
}

/// A refused part: the answer, and which part it was.
struct Refusal {
    answer: Answer,
    step: String,
}

/// Where the upload's `file` stands on the server: the next part it takes.
fn next_part(server: &Server, staged: &str, file: &str) -> anyhow::Result<Result<usize, Answer>> {
    let standing = server.retrying("asking where the upload stands", || server.get(staged))?;
    if !standing.ok() {
        return Ok(Err(standing));
    }
    let standing: Standing = standing.read()?;
    let received = match file {
        "users" => standing.users,
        _ => standing.demographics,
    };
    Ok(Ok(received.next_part as usize))
}

/// A part compressed for sending. Level 1: several times faster than the
/// default and a little larger, which is the better trade on the networks
/// an upload takes (and the compression runs beside the sending).
fn gzip(part: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(part.len() / 4), Compression::fast());
    encoder.write_all(part)?;
    Ok(encoder.finish()?)
}

/// Writes `rows` in parts of at most `part_bytes` and compresses them on
/// another thread while `send` sends the ones before: the file is never
/// held whole, only the part being sent and the next.
fn in_parts<R: CsvRows + Send>(
    rows: R,
    part_bytes: usize,
    send: impl FnOnce(
        &mut dyn Iterator<Item = anyhow::Result<Vec<u8>>>,
    ) -> anyhow::Result<Option<Refusal>>,
) -> anyhow::Result<Option<Refusal>> {
    std::thread::scope(|scope| {
        let (parts, received) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            let mut rows = rows;
            while let Some(part) = rows.next_part(part_bytes) {
                if parts.send(gzip(&part)).is_err() {
                    break; // the sender stopped
                }
            }
        });
        send(&mut received.into_iter())
    })
}

/// Sends the parts of `file` in order, going on from the server's next part
/// after a failure: the part in hand is sent again when the server lacks it,
/// never one it has. None when all are in, else the refusal.
fn send_parts(
    server: &Server,
    staged: &str,
    file: &str,
    parts: &mut dyn Iterator<Item = anyhow::Result<Vec<u8>>>,
) -> anyhow::Result<Option<Refusal>> {
    let mut n = 0;
    let mut failures = 0;
    let mut in_hand = parts.next().transpose()?;
    while let Some(part) = &in_hand {
        let sent = server.put_gzip(&format!("{staged}/{file}/{n}"), part);
        let lost = match &sent {
            Ok(answer) if answer.ok() => {
                n += 1;
                failures = 0;
                in_hand = parts.next().transpose()?;
                continue;
            }
            // Refused for what it is (not for its place): final.
            Ok(answer) if answer.status < 500 && !answer.code_is("part-out-of-order") => {
                return Ok(Some(Refusal {
                    answer: Answer {
                        status: answer.status,
                        text: answer.text.clone(),
                    },
                    step: format!("{file}.csv part {n}"),
                }));
            }
            Ok(answer) => answer.describe(),
            Err(error) => format!("{error:#}"),
        };
        let Some(wait) = server.retry_waits.get(failures) else {
            sent?;
            bail!("{file}.csv part {n}: the server kept failing ({lost})");
        };
        failures += 1;
        eprintln!(
            "rostergate push: {file}.csv part {n}: {lost}; going on from where the server stands in {} ms",
            wait.as_millis()
        );
        std::thread::sleep(*wait);
        match next_part(server, staged, file)? {
            Ok(next) if next == n => {} // not stored: send it again
            Ok(next) if next == n + 1 => {
                // Stored; only the answer was lost.
                n = next;
                in_hand = parts.next().transpose()?;
            }
            Ok(next) => {
                bail!("{file}.csv: the server expects part {next}, but part {n} is the one in hand")
            }
            Err(answer) => {
                return Ok(Some(Refusal {
                    answer,
                    step: format!("{file}.csv part {n}"),
                }))
            }
        }
    }
    Ok(None)
}

pub fn run(args: &PushArgs) -> anyhow::Result<ExitCode> {
    let server = Server::new(
        &args.server,
        &args.token,
        Duration::from_secs(args.retry_seconds),
    )?;

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
    // 2. The staged upload, in gzip parts.
    let file_name = Path::new(&args.users)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "users.csv".into());
    let submission = Submission {
        file_name,
        mode: if args.full_sync {
            Mode::FullSync
        } else {
            Mode::Upsert
        },
    };
    let created = server.retrying("starting the upload", || {
        server.post_json("/api/uploads/staged", &submission)
    })?;
    if !created.ok() {
        return refused(&created, "upload");
    }
    let created: StagedCreated = created.read()?;
    let part_bytes = (args.part_bytes as usize).clamp(1, created.max_part_bytes.max(1));
    let staged = format!("/api/uploads/staged/{}", created.id);
    let records = &validated.records;
    let mut refusal = in_parts(
        UsersCsv::new(records, Audience::Program),
        part_bytes,
        |parts| send_parts(&server, &staged, "users", parts),
    )?;
    if refusal.is_none() && !records.demographics.is_empty() {
        let demographics = DemographicsCsv::new(records, Audience::Program);
        refusal = in_parts(demographics, part_bytes, |parts| {
            send_parts(&server, &staged, "demographics", parts)
        })?;
    }
    // The records are sent: what follows needs none of them.
    drop(validated);
    if let Some(refusal) = refusal {
        let _ = server.delete(&staged);
        return refused(&refusal.answer, &refusal.step);
    }

    // 3. Preview; commit unless only a preview was asked for.
    let page = ChangesPage {
        changes_limit: Some(args.changes),
        ..ChangesPage::default()
    };
    let preview = server.retrying("the preview", || {
        server.post_json(&format!("{staged}/preview"), &page)
    })?;
    if !preview.ok() {
        let _ = server.delete(&staged);
        return refused(&preview, "preview");
    }
    let report = if args.preview {
        let _ = server.delete(&staged);
        preview
    } else {
        let body = CommitRequest {
            confirm: args.confirm,
            page,
        };
        // Committing again after a lost answer gets the committed report.
        let committed = server.retrying("the commit", || {
            server.post_json(&format!("{staged}/commit"), &body)
        })?;
        if !committed.ok() {
            let _ = server.delete(&staged);
            return refused(&committed, "commit");
        }
        committed
    };
    let report: UploadReport = report.read()?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &report)?;
    writeln!(out)?;
    Ok(ExitCode::from(EXIT_VALID))
}
