//! Rows as written, for editing a file in place (the browser's "Fix it
//! here"): where each record lies in the file's bytes, so that a row nobody
//! edited is written back byte for byte, its cells as the reader reads
//! them, and an edited row written for a person (the formula guard, which
//! the validator reads back).
//!
//! `split_rows` finds record boundaries without decoding: the reader's
//! quoting rules (a `"` opens a quoted field only at the start of a field,
//! `""` inside one is a quote, CR, LF and CRLF end a record outside
//! quotes). The test at the end holds it to the reader's own records, so
//! the two cannot drift apart unnoticed.

use crate::csv_out::{strip_formula_guard, write_row, Audience, BOM};
use crate::dictionary::{FileKind, ValueKind};
use crate::reader::RecordReader;

/// Where each record of a file starts, after any UTF-8 byte-order mark.
/// Record `i` (spreadsheet row `i + 1`) is `bytes[start(i)..end(i)]`,
/// its line break included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowSpans {
    /// Start of each record, then the end of the last one.
    bounds: Vec<usize>,
}

impl RowSpans {
    /// Records in the file.
    pub fn len(&self) -> usize {
        self.bounds.len().saturating_sub(1)
    }

    /// Whether the file has no record at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The byte range of record `index` (0 = the first record), with its
    /// line break.
    pub fn span(&self, index: usize) -> std::ops::Range<usize> {
        self.bounds[index]..self.bounds[index + 1]
    }

    /// The byte-order mark's length before the first record (0 or 3).
    pub fn bom_len(&self) -> usize {
        self.bounds.first().copied().unwrap_or(0)
    }
}

/// Splits a file's bytes (UTF-8, or Windows-1252 in places) into records.
pub fn split_rows(bytes: &[u8]) -> RowSpans {
    let start = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
    let mut bounds = vec![start];
    let mut i = start;
    let mut field_start = true;
    while i < bytes.len() {
        if field_start && bytes[i] == b'"' {
            // A quoted field: up to its closing quote (a `""` is a quote).
            i += 1;
            loop {
                match memchr::memchr(b'"', &bytes[i..]) {
                    Some(at) if bytes.get(i + at + 1) == Some(&b'"') => i += at + 2,
                    Some(at) => {
                        i += at + 1;
                        break;
                    }
                    None => {
                        i = bytes.len();
                        break;
                    }
                }
            }
            field_start = false;
            continue;
        }
        // Unquoted: a quote here is an ordinary character; a comma starts
        // the next field, a line break ends the record.
        let Some(at) = memchr::memchr3(b',', b'\n', b'\r', &bytes[i..]) else {
            break;
        };
        i += at;
        match bytes[i] {
            b',' => {
                i += 1;
                field_start = true;
            }
            byte => {
                i += 1;
                if byte == b'\r' && bytes.get(i) == Some(&b'\n') {
                    i += 1;
                }
                bounds.push(i);
                field_start = true;
            }
        }
    }
    if *bounds.last().unwrap_or(&0) < bytes.len() {
        bounds.push(bytes.len());
    }
    RowSpans { bounds }
}

/// One record's cells as the reader reads them (decoded; untrimmed; the
/// formula guard still on), and whether it is a blank line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowCells {
    /// The fields, as written.
    pub cells: Vec<String>,
    /// Every field is empty once trimmed (the validator skips such a row).
    pub blank: bool,
}

/// Reads one record (a span from `split_rows`).
pub fn read_row(record: &[u8]) -> RowCells {
    let mut reader = RecordReader::new();
    let mut row = None;
    let mut keep = |record: crate::reader::Record<'_>| {
        if row.is_none() {
            row = Some(RowCells {
                cells: record.fields().map(String::from).collect(),
                blank: record.is_blank(),
            });
        }
    };
    reader.feed(record, &mut keep);
    let _ = reader.finish(&mut keep);
    // A quote never closed (the validator refuses such a file): the text
    // as one cell, so nothing of it is lost from view.
    row.unwrap_or_else(|| RowCells {
        cells: vec![String::from_utf8_lossy(record).into_owned()],
        blank: false,
    })
}

/// A cell's value without the formula guard the product writes for people
/// (what an edited cell starts from, and what the grid shows).
pub fn unguarded(cell: &str) -> &str {
    strip_formula_guard(cell)
}

/// Whether the column with this exact header holds identifiers (where
/// spreadsheets drop leading zeros).
pub fn is_identifier_column(file: FileKind, header: &str) -> bool {
    file.column(header)
        .is_some_and(|spec| spec.kind == ValueKind::Identifier)
}

/// The line break at the end of a record (`\r\n`, `\n`, `\r` or none).
pub fn line_break(record: &[u8]) -> &[u8] {
    match record {
        [.., b'\r', b'\n'] => b"\r\n",
        [.., b'\n'] => b"\n",
        [.., b'\r'] => b"\r",
        _ => b"",
    }
}

/// Appends a row of values for a person: quoted where needed, the formula
/// guard before a value a spreadsheet would run, then `line_break`.
pub fn write_values<'a>(
    out: &mut Vec<u8>,
    values: impl IntoIterator<Item = &'a str>,
    line_break: &[u8],
) {
    write_row(out, values, Audience::Person);
    out.truncate(out.len() - 2); // write_row's CRLF
    out.extend_from_slice(line_break);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::Record;

    /// Every record as the streaming reader reads it: (row, fields).
    fn reader_records(bytes: &[u8]) -> Vec<(u64, Vec<String>)> {
        let mut reader = RecordReader::new();
        let mut out = Vec::new();
        let mut collect = |r: Record<'_>| out.push((r.row, r.fields().map(String::from).collect()));
        reader.feed(bytes, &mut collect);
        let _ = reader.finish(&mut collect);
        out
    }

    /// The records of `split_rows`, each read on its own.
    fn split_records(bytes: &[u8]) -> Vec<(u64, Vec<String>)> {
        let spans = split_rows(bytes);
        (0..spans.len())
            .map(|i| (i as u64 + 1, read_row(&bytes[spans.span(i)]).cells))
            .collect()
    }

    fn assert_agrees(bytes: &[u8]) {
        let mut split = split_records(bytes);
        let read = reader_records(bytes);
        // The reader gives up at a quote that is never closed: the split's
        // last record then holds the rest of the file.
        assert!(split.len() == read.len() || split.len() == read.len() + 1);
        split.truncate(read.len());
        assert_eq!(split, read, "{:?}", String::from_utf8_lossy(bytes));
        // The spans cover the file exactly.
        let spans = split_rows(bytes);
        let covered: usize = (0..spans.len()).map(|i| spans.span(i).len()).sum();
        assert_eq!(spans.bom_len() + covered, bytes.len());
    }

    #[test]
    fn records_are_the_readers() {
        let cases: &[&[u8]] = &[
            b"",
            b"a,b\n1,2\n",
            b"a,b\r\n1,2",
            b"a,b\r1,2\r",
            b"\xEF\xBB\xBFa,b\n1,2\n",
            b"a,\"x, \"\"y\"\"\"\n3,4\n",
            b"\"multi\nline\",z\n\"cr\rinside\",q\r\n",
            b"\n\nh1,h2\n\n1,2\n,,\n",
            b"a,b\"c,d\ne\"f,g\n",
            b"\"ab\"c,d\n\"x\"\"\",y\n",
            b"a,\"unterminated\nb,c\n",
            b"caf\xE9,ol\xE9\nok,1\n",
            b"a\r\r\nb\n\r",
        ];
        for case in cases {
            assert_agrees(case);
        }
    }

    #[test]
    fn random_files_split_as_the_reader_reads() {
        // Small alphabet, many quotes and line breaks: every path of both.
        let alphabet: &[u8] = b"ab,\"\r\n \xE9";
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        for _ in 0..3000 {
            let mut bytes = Vec::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 24) as usize;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            assert_agrees(&bytes);
        }
    }

    #[test]
    fn an_edited_row_reads_back_as_its_values() {
        let values = ["=SUM(A1)", "'=x", "a,b", "plain", " padded ", "-5"];
        let mut out = Vec::new();
        write_values(&mut out, values, b"\n");
        assert!(out.ends_with(b"\n") && !out.ends_with(b"\r\n"));
        let read = read_row(&out);
        let back: Vec<&str> = read.cells.iter().map(|c| unguarded(c)).collect();
        assert_eq!(back, values);
        assert_eq!(line_break(b"a,b\r\n"), b"\r\n");
        assert_eq!(line_break(b"a,b"), b"");
        assert!(read_row(b" , \n").blank);
        assert!(is_identifier_column(FileKind::Users, "userId"));
        assert!(!is_identifier_column(FileKind::Users, "userEmail"));
    }
}
