//! `rostergate sample`: a sample district on disk.

use std::fs;

use anyhow::{ensure, Context};
use shared::csv_out::{write_row, Audience};
use shared::sample::{generate, SampleOptions};

use super::SampleArgs;

pub fn run(args: &SampleArgs) -> anyhow::Result<()> {
    ensure!(
        (0.0..=1.0).contains(&args.errors),
        "--errors must be between 0 and 1, not {}",
        args.errors
    );
    let sample = generate(&SampleOptions {
        students: args.students,
        seed: args.seed,
        error_rate: args.errors,
    });
    fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let write = |name: &str, bytes: &[u8]| {
        let path = args.out.join(name);
        fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    };
    write("users.csv", &sample.users_csv)?;
    write("demographics.csv", &sample.demographics_csv)?;
    let mut schools = Vec::new();
    write_row(
        &mut schools,
        ["schoolId", "name", "lowGrade", "highGrade"],
        Audience::Program,
    );
    for school in &sample.schools {
        write_row(
            &mut schools,
            [
                school.school_id.as_str(),
                &school.name,
                school.low_grade,
                school.high_grade,
            ],
            Audience::Program,
        );
    }
    write("schools.csv", &schools)?;
    if args.errors > 0.0 {
        write("damage.csv", &sample.damage_csv())?;
    }
    eprintln!(
        "Wrote {} users.csv rows ({} students, {} schools){} to {}",
        sample.users_rows - 1,
        args.students,
        sample.schools.len(),
        if args.errors > 0.0 {
            format!(
                ", {} damaged rows listed in damage.csv",
                sample.damage.len()
            )
        } else {
            String::new()
        },
        args.out.display()
    );
    Ok(())
}
