//! Writing CSV: RFC 4180 quoting, and the spreadsheet-formula guard that
//! every CSV the product hands to people gets (and the validator reads back).
//!
//! The guard is a `'` before a value that a spreadsheet would run as a
//! formula (one starting with `=`, `+`, `-`, `@`, tab or CR), and before a
//! value that already looks guarded (`'=x` is written `''=x`), so reading
//! removes exactly one `'` and every value comes back as it was.

/// UTF-8 byte-order mark: Excel needs it to show accents.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The guard's prefix.
const GUARD: u8 = b'\'';

/// Who reads a CSV the product writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A person, in a spreadsheet: UTF-8 with a BOM, formulas guarded.
    Person,
    /// One of the product's own parts (browser, widget, command line to the
    /// server): the exact values, no BOM, no guard.
    Program,
}

impl Audience {
    /// The start of a file for this reader: the BOM for a person.
    pub fn file_start(self) -> Vec<u8> {
        match self {
            Audience::Person => BOM.to_vec(),
            Audience::Program => Vec::new(),
        }
    }
}

/// Whether a spreadsheet would run the cell as a formula.
fn starts_like_formula(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// Whether a value is written with the guard: it starts like a formula
/// after any `'`s of its own (`=x`, `'=x`, `''-1`).
fn needs_formula_guard(value: &str) -> bool {
    starts_like_formula(value.trim_start_matches(GUARD as char))
}

/// A cell as read, without the guard `write_cell` put before it: one `'`
/// removed from a cell of `'` followed by a value that `needs_formula_guard`.
/// (Inlined: read for every cell of a row the full path checks.)
#[inline(always)]
pub(crate) fn strip_formula_guard(cell: &str) -> &str {
    match cell.as_bytes() {
        [GUARD, ..] if needs_formula_guard(&cell[1..]) => &cell[1..],
        _ => cell,
    }
}

/// Appends one cell, quoted when it needs to be. For a person, a cell that
/// a spreadsheet would read as a formula is prefixed with `'`; for either
/// reader, so is a cell that would otherwise read as guarded (`'=x`).
fn write_cell(out: &mut Vec<u8>, cell: &str, audience: Audience) {
    let guard = needs_formula_guard(cell)
        && (audience == Audience::Person || cell.as_bytes().first() == Some(&GUARD));
    let quote = cell
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        || cell.starts_with(' ')
        || cell.ends_with(' ');
    if quote {
        out.push(b'"');
    }
    if guard {
        out.push(b'\'');
    }
    for byte in cell.bytes() {
        if byte == b'"' {
            out.push(b'"');
        }
        out.push(byte);
    }
    if quote {
        out.push(b'"');
    }
}

/// Appends one CRLF-terminated row for `audience`.
pub fn write_row<'a>(
    out: &mut Vec<u8>,
    cells: impl IntoIterator<Item = &'a str>,
    audience: Audience,
) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_cell(out, cell, audience);
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells() {
        // (cell, for a person, written)
        let cases: &[(&str, bool, &str)] = &[
            ("plain", true, "plain"),
            ("a,b", false, "\"a,b\""),
            ("say \"hi\"", false, "\"say \"\"hi\"\"\""),
            ("two\nlines", false, "\"two\nlines\""),
            ("=SUM(A1)", true, "'=SUM(A1)"),
            ("=SUM(A1)", false, "=SUM(A1)"),
            ("-1", true, "'-1"),
            ("@x", true, "'@x"),
            ("+1,2", true, "\"'+1,2\""),
            ("\tx", true, "'\tx"),
            (" padded ", false, "\" padded \""),
            // A value that looks guarded already gets one more quote.
            ("'=x", true, "''=x"),
            ("''-1", true, "'''-1"),
            ("'plain", true, "'plain"),
            ("'", true, "'"),
            // For a program only what would read as guarded is.
            ("'=x", false, "''=x"),
            ("-5", false, "-5"),
            ("'plain", false, "'plain"),
        ];
        for (cell, person, expected) in cases {
            let audience = if *person {
                Audience::Person
            } else {
                Audience::Program
            };
            let mut out = Vec::new();
            write_cell(&mut out, cell, audience);
            assert_eq!(String::from_utf8(out).unwrap(), *expected, "{cell:?}");
        }
    }

    #[test]
    fn the_guard_reads_back_to_the_value() {
        let values = [
            "-5",
            "=Algebra",
            "'=x",
            "''=x",
            "+ann@x.org",
            "@home",
            "'",
            "''",
            "'plain",
            "plain",
            "",
            "a'=b",
        ];
        for (value, audience) in values
            .into_iter()
            .flat_map(|v| [(v, Audience::Person), (v, Audience::Program)])
        {
            let mut out = Vec::new();
            write_cell(&mut out, value, audience);
            let written = String::from_utf8(out).unwrap();
            assert_eq!(
                strip_formula_guard(&written),
                value,
                "{audience:?}: written {written:?}"
            );
        }
        // A quote before anything else is the value's own.
        assert_eq!(strip_formula_guard("'abc"), "'abc");
        assert_eq!(strip_formula_guard("'=x"), "=x");
        assert_eq!(strip_formula_guard("''=x"), "'=x");
    }
}
