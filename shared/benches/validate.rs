//! Native validation speed on a sample district.
//!
//! `cargo bench -p shared --bench validate` runs ~100,000 rows;
//! `ROSTERGATE_BENCH_ROWS=1000000 cargo bench -p shared --bench validate`
//! the 1,000,000-row figure. Criterion reports rows/s as "elem/s".

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shared::sample::{generate, Sample, SampleOptions};
use shared::{Options, Validator};

/// A sample district of about `rows` rows (students average ~4.3 rows).
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

fn validate_users(c: &mut Criterion) {
    let rows: usize = std::env::var("ROSTERGATE_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let sample = sample_of(rows);
    let data_rows = sample.users_rows - 1;
    let mut group = c.benchmark_group("validate users.csv");
    group.sample_size(10);
    group.throughput(Throughput::Elements(data_rows));
    // 64 KiB chunks, as the browser and the command line feed them.
    group.bench_with_input(
        BenchmarkId::from_parameter(data_rows),
        &sample.users_csv,
        |b, bytes| {
            b.iter(|| {
                let mut validator = Validator::new(Options::default());
                for chunk in bytes.chunks(64 * 1024) {
                    validator.push_users(chunk);
                }
                let validated = validator.finish();
                assert!(validated.report.valid);
                validated.records.enrollments.len()
            })
        },
    );
    group.finish();
}

criterion_group!(benches, validate_users);
criterion_main!(benches);
