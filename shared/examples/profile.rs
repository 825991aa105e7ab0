//! A fixed workload for instruction counts (callgrind) and memory profiles.
//!
//! `cargo run --release -p shared --example profile -- write ROWS FILE`
//! writes the benchmark's sample district of about ROWS rows (the same as
//! `benches/validate.rs`); `... -- validate FILE` validates it in 64 KiB
//! chunks, as the benchmark does, e.g. under
//! `valgrind --tool=callgrind target/release/examples/profile validate FILE`.

use shared::sample::{generate, Sample, SampleOptions};
use shared::{Options, Validator};

/// A sample district of about `rows` rows (as in `benches/validate.rs`).
fn sample_of(rows: usize) -> Sample {
    let mut students = rows * 10 / 43;
    loop {
        let sample = generate(&SampleOptions {
            students,
            seed: 42,
            error_rate: 0.0,
        });
        if sample.users_rows as usize >= rows || students > rows {
            return sample;
        }
        students += students / 20 + 1;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1..).unwrap_or_default() {
        [mode, rows, file] if mode == "write" => {
            let rows = rows.parse().expect("ROWS is a number");
            let sample = sample_of(rows);
            std::fs::write(file, &sample.users_csv).expect("FILE can be written");
            println!("{} rows", sample.users_rows - 1);
        }
        [mode, file] if mode == "validate" => {
            let bytes = std::fs::read(file).expect("FILE can be read");
            let mut validator = Validator::new(Options::default());
            for chunk in bytes.chunks(64 * 1024) {
                validator.push_users(chunk);
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
        _ => {
            eprintln!("usage: profile write ROWS FILE | profile validate FILE");
            std::process::exit(2);
        }
    }
}
