//! Generated artifacts: the human data dictionary (Markdown) and the CSV
//! templates, made from the dictionary and code tables. The committed copies
//! in `public/` are checked against these by a test.

use std::fmt::Write;

use crate::codes::{IssueCode, Scope};
use crate::csv_out::{write_row, Audience, BOM};
use crate::dictionary::{
    ColumnSpec, FileKind, Presence, BOOLEAN_WORDS, GRADES, GRADE_ALIASES, SEX_VALUES,
};

/// Where each generated file lives, relative to the repository root.
pub const DATA_DICTIONARY_PATH: &str = "public/data-dictionary.md";

/// Where a file's CSV template lives, relative to the repository root.
pub fn template_path(file: FileKind) -> String {
    format!("public/templates/{}", file.file_name())
}

/// A template: UTF-8 BOM and the header row, every column in dictionary order.
pub fn template_csv(file: FileKind) -> Vec<u8> {
    let mut out = BOM.to_vec();
    write_row(
        &mut out,
        file.columns().iter().map(|c| c.name),
        Audience::Person,
    );
    out
}

fn presence(spec: &ColumnSpec) -> &'static str {
    match spec.presence {
        Presence::Required => "required",
        Presence::Optional => "optional",
        Presence::Conditional => "with the class columns",
    }
}

fn escape(cell: &str) -> String {
    cell.replace('|', "\\|").replace('\n', " ")
}

fn column_table(out: &mut String, file: FileKind) {
    out.push_str("| Header | Column | Values | Description | Example |\n|---|---|---|---|---|\n");
    for spec in file.columns() {
        let example = if spec.example.is_empty() {
            String::new()
        } else {
            format!("`{}`", spec.example)
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            spec.name,
            presence(spec),
            escape(&spec.values()),
            escape(spec.description),
            example
        );
    }
}

fn scope_title(scope: Scope) -> &'static str {
    match scope {
        Scope::File => "File",
        Scope::Header => "Header",
        Scope::Row => "Row",
        Scope::AcrossRows => "Across rows",
        Scope::StoredData => "Against your stored roster",
    }
}

/// The data dictionary page.
pub fn data_dictionary_markdown() -> String {
    let mut out = String::new();
    out.push_str("# RosterGate data dictionary\n\n");
    out.push_str(
        "<!-- Generated from the schema crate (shared/src/dictionary.rs, shared/src/codes.rs). \
         Do not edit: run `ROSTERGATE_BLESS=1 cargo test -p shared --test generated`. -->\n\n",
    );
    out.push_str(
        "Upload one `users.csv` (one row per user per class) and, optionally, a \
         `demographics.csv` (one row per student) with it.\n\n\
         - Save as CSV UTF-8 (a byte-order mark is fine; UTF-16 with a byte-order mark is read too; \
         other bytes are read as Windows-1252 with a warning).\n\
         - Commas separate cells; quote cells that contain commas, quotes or line breaks.\n\
         - The first row holds the headers: exact and case-sensitive, in any order.\n\
         - Every value is text: identifiers keep their leading zeros. Spaces around values are ignored.\n\
         - Files RosterGate writes for you (downloads, error reports) put a `'` before a value that a \
         spreadsheet would run as a formula (one starting with `=`, `+`, `-`, `@`, a tab or a line \
         break), and before a value that already starts with `'` and one of those. A `'` directly \
         before one of those characters is read as that mark and removed, so a downloaded file \
         uploads again unchanged.\n\
         - Lists of values (roles, grades, yes/no) are matched in any case.\n\
         - Row numbers count the header as row 1, as a spreadsheet shows them.\n\n",
    );
    for file in [FileKind::Users, FileKind::Demographics] {
        let _ = writeln!(out, "## {}\n", file.file_name());
        if file == FileKind::Users {
            out.push_str(
                "A user without a class (typical for administrators) has one row with the class \
                 columns blank. If any class column is present, `classId`, `className` and \
                 `classGrade` must all be present; a staff-only file may leave them all out.\n\n",
            );
        } else {
            out.push_str(
                "One row per student of the accompanying users.csv. A column left out changes \
                 nothing; a blank cell clears the stored value.\n\n",
            );
        }
        column_table(&mut out, file);
        out.push('\n');
    }

    out.push_str("## Values\n\n");
    let _ = writeln!(
        out,
        "- Grades: {}.",
        GRADES
            .iter()
            .map(|g| format!("`{g}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "- Grade spellings also accepted: {}.",
        GRADE_ALIASES
            .iter()
            .map(|(a, g)| format!("`{a}` = `{g}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "- Yes/no: {}.",
        BOOLEAN_WORDS
            .iter()
            .map(|(w, b)| format!("`{w}` = {}", if *b { "yes" } else { "no" }))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "- sex: {}.\n",
        SEX_VALUES
            .iter()
            .map(|(w, c)| format!("`{w}` = {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    out.push_str("## Problems the validator reports\n\n");
    out.push_str(
        "Errors keep a row out of the upload (a header or file error refuses the whole file); \
         warnings do not.\n\n",
    );
    out.push_str(
        "| Code | Severity | Where | What it means | How to fix |\n|---|---|---|---|---|\n",
    );
    for code in IssueCode::ALL {
        let info = code.info();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            info.code,
            info.severity.as_str(),
            scope_title(info.scope),
            escape(info.title),
            escape(&info.render(info.how_to_fix, "the column", "the expected name"))
        );
    }
    out
}
