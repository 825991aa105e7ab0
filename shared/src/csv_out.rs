//! Writing CSV: RFC 4180 quoting, and the spreadsheet-formula guard that
//! every CSV the product hands to people gets.

/// UTF-8 byte-order mark: Excel needs it to show accents.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether a spreadsheet would run the cell as a formula.
pub fn starts_like_formula(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// Appends one cell, quoted when it needs to be. With `formula_safe`, a cell
/// that a spreadsheet would read as a formula is prefixed with `'`.
pub fn write_cell(out: &mut Vec<u8>, cell: &str, formula_safe: bool) {
    let guard = formula_safe && starts_like_formula(cell);
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

/// Appends one CRLF-terminated row.
pub fn write_row<'a>(
    out: &mut Vec<u8>,
    cells: impl IntoIterator<Item = &'a str>,
    formula_safe: bool,
) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_cell(out, cell, formula_safe);
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells() {
        // (cell, formula_safe, written)
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
        ];
        for (cell, safe, expected) in cases {
            let mut out = Vec::new();
            write_cell(&mut out, cell, *safe);
            assert_eq!(String::from_utf8(out).unwrap(), *expected, "{cell:?}");
        }
    }
}
