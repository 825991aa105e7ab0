//! A fixed workload for instruction counts (callgrind) and memory profiles.
//!
//! `cargo run --release -p shared --example profile -- write ROWS FILE [ERROR_RATE]`
//! writes the benchmark's sample district of about ROWS rows (the same as
//! `benches/validate.rs`, with damaged rows at ERROR_RATE); `... -- validate FILE [SCHOOLS]` validates it in 64 KiB
//! chunks, as the benchmark does (with the known schools of a schools.csv), e.g. under
//! `valgrind --tool=callgrind target/release/examples/profile validate FILE`.
//! `... -- stream FILE` reads the file 64 KiB at a time, as the CLI does
//! (for max RSS without the file). `... -- report FILE [DEMOGRAPHICS|-] [SCHOOLS]` prints the whole
//! report (values included) and records as JSON, to check that a change
//! leaves them byte-identical; SCHOOLS is a schools.csv as `rostergate
//! sample` writes it (its first column: the known school IDs).

use shared::sample::{generate, Sample, SampleOptions};
use std::time::Instant;

use shared::{Options, Validator};

/// A sample district of about `rows` rows (as in `benches/validate.rs`).
fn sample_of(rows: usize, error_rate: f64) -> Sample {
    let mut students = rows * 10 / 43;
    loop {
        let sample = generate(&SampleOptions {
            students,
            seed: 42,
            error_rate,
        });
        if sample.users_rows as usize >= rows || students > rows {
            return sample;
        }
        students += students / 20 + 1;
    }
}

/// The school IDs of a schools.csv as `rostergate sample` writes it (its
/// first column).
fn known_schools(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(file).expect("schools.csv can be read");
    let ids = text.lines().skip(1).filter_map(|l| l.split(',').next());
    ids.map(String::from).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1..).unwrap_or_default() {
        [mode, rows, file, rest @ ..] if mode == "write" && rest.len() <= 1 => {
            let rows = rows.parse().expect("ROWS is a number");
            let error_rate = rest.first().map_or(0.0, |r| r.parse().expect("a rate"));
            let sample = sample_of(rows, error_rate);
            std::fs::write(file, &sample.users_csv).expect("FILE can be written");
            println!("{} rows", sample.users_rows - 1);
        }
        [mode, file, rest @ ..] if mode == "validate" && rest.len() <= 1 => {
            let bytes = std::fs::read(file).expect("FILE can be read");
            // Phase times go to stderr (the figures to compare are on stdout).
            let start = Instant::now();
            let mut validator = Validator::new(Options {
                known_school_ids: rest.first().map(|schools| known_schools(schools)),
                ..Options::default()
            });
            for chunk in bytes.chunks(64 * 1024) {
                validator.push_users(chunk);
            }
            let pushed = Instant::now();
            let validated = validator.finish();
            let finished = Instant::now();
            println!(
                "valid {} findings {} users {} classes {} enrollments {}",
                validated.report.valid,
                validated.report.findings.len(),
                validated.records.users.len(),
                validated.records.classes.len(),
                validated.records.enrollments.len()
            );
            drop(validated);
            eprintln!(
                "push {:.3} s, finish {:.3} s, drop {:.3} s",
                (pushed - start).as_secs_f64(),
                (finished - pushed).as_secs_f64(),
                finished.elapsed().as_secs_f64()
            );
        }
        [mode, file] if mode == "stream" => {
            // As the CLI does: the file is read 64 KiB at a time, never whole,
            // so max RSS is the validator's own memory.
            use std::io::Read;
            let mut input = std::fs::File::open(file).expect("FILE can be read");
            let mut chunk = vec![0; 64 * 1024];
            let mut validator = Validator::new(Options::default());
            loop {
                let read = input.read(&mut chunk).expect("FILE can be read");
                if read == 0 {
                    break;
                }
                validator.push_users(&chunk[..read]);
            }
            let validated = validator.finish();
            println!(
                "valid {} findings {} users {} classes {} enrollments {}",
                validated.report.valid,
                validated.report.findings.len(),
                validated.records.users.len(),
                validated.records.classes.len(),
                validated.records.enrollments.len()
            );
        }
        [mode, file, rest @ ..] if mode == "report" && rest.len() <= 2 => {
            let read = |file: &str| std::fs::read(file).expect("the file can be read");
            let known_school_ids = rest.get(1).map(|schools| known_schools(schools));
            let mut validator = Validator::new(Options {
                known_school_ids,
                ..Options::default()
            });
            for chunk in read(file).chunks(64 * 1024) {
                validator.push_users(chunk);
            }
            if let Some(demographics) = rest.first().filter(|d| *d != "-") {
                for chunk in read(demographics).chunks(64 * 1024) {
                    validator.push_demographics(chunk);
                }
            }
            let validated = validator.finish();
            // The findings' values too (the JSON report leaves them out).
            let values: Vec<_> = validated.report.findings.iter().map(|f| &f.value).collect();
            let json = serde_json::json!({
                "report": validated.report,
                "values": values,
                "records": validated.records,
            });
            println!("{json:#}");
        }
        _ => {
            eprintln!("usage: profile write ROWS FILE [ERROR_RATE] | profile validate FILE [SCHOOLS] | profile stream FILE | profile report FILE [DEMOGRAPHICS|-] [SCHOOLS]");
            std::process::exit(2);
        }
    }
}
