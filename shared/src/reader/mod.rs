//! The file pass: bytes in any chunking → decoded CSV records.
//!
//! A pure state machine in the manner of `csv-core`: it is fed byte chunks as
//! they arrive and hands out each complete record, so the browser, the
//! command line and the server stream through the same code. It knows
//! encodings (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252 as a
//! per-record fallback) and RFC 4180 quoting, and reports where an
//! unterminated quote began.
//!
//! `decode` holds the encodings, `split` the splitting of a plain record
//! into its fields (with the one `unsafe` block, for SSE2).

mod decode;
mod split;

pub use self::decode::Encoding;
use self::decode::{windows_1252_char, Sniff, Utf16Transcoder};
use self::split::{split_at_commas, split_plain_record};

/// One CSV record, decoded to text.
#[derive(Debug)]
pub struct Record<'a> {
    /// Spreadsheet row number: the first record of the file is row 1.
    pub row: u64,
    /// The record's text: either its line in the input, or its fields
    /// unescaped; `spans` says where each field is.
    text: &'a str,
    /// (start, end) of each field in `text`.
    spans: &'a [(usize, usize)],
    /// The record was not valid UTF-8 and was decoded as Windows-1252.
    pub windows_1252: bool,
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// The raw (untrimmed) text of field `index`.
    #[inline]
    pub fn field(&self, index: usize) -> &'a str {
        let (start, end) = self.spans[index];
        &self.text[start..end]
    }

    /// The raw field as bytes: no `str` slicing, for comparing.
    #[inline]
    pub fn field_bytes(&self, index: usize) -> &'a [u8] {
        let (start, end) = self.spans[index];
        &self.text.as_bytes()[start..end]
    }

    pub fn fields(&self) -> impl Iterator<Item = &'a str> + '_ {
        (0..self.len()).map(|i| self.field(i))
    }

    /// Every field is empty once trimmed (a blank line, or `,,,`).
    pub fn is_blank(&self) -> bool {
        self.fields().all(|field| match field.as_bytes().first() {
            None => true,
            // Usually settled by the first byte of the first field or two.
            Some(byte) if *byte > b' ' && *byte < 0x80 => false,
            Some(_) => field.trim().is_empty(),
        })
    }
}

/// The file ended inside a quoted field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnterminatedQuote {
    /// Physical line (1-based) where the quoted field began.
    pub line: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field.
    FieldStart,
    Unquoted,
    Quoted,
    /// Just read a `"` inside a quoted field: either an escaped quote or the end.
    QuoteInQuoted,
}

/// Streaming CSV record reader.
#[derive(Debug)]
pub struct RecordReader {
    sniff: Sniff,
    utf16: Option<Utf16Transcoder>,
    transcoded: Vec<u8>,
    state: State,
    /// Bytes of the current record's fields, unescaped, with a `,` between
    /// fields (so that a field boundary is never inside a UTF-8 sequence).
    field_bytes: Vec<u8>,
    /// Where the field being read starts in `field_bytes`.
    field_start: usize,
    /// The fields of the current record: in `field_bytes`, or in the input
    /// when a record is lent from there.
    spans: Vec<(usize, usize)>,
    /// The current record has seen at least one byte (a blank line has none).
    record_started: bool,
    /// A CR ended the last record; a LF right after it belongs to it.
    after_cr: bool,
    line: u64,
    quote_line: u64,
    records: u64,
    bytes: u64,
    /// Windows-1252 fallback output and its fields.
    decoded: String,
    decoded_spans: Vec<(usize, usize)>,
}

impl Default for RecordReader {
    fn default() -> Self {
        RecordReader::new()
    }
}

impl RecordReader {
    pub fn new() -> Self {
        RecordReader {
            sniff: Sniff::Pending(Vec::new()),
            utf16: None,
            transcoded: Vec::new(),
            state: State::FieldStart,
            field_bytes: Vec::with_capacity(256),
            field_start: 0,
            spans: Vec::with_capacity(32),
            record_started: false,
            after_cr: false,
            line: 1,
            quote_line: 0,
            records: 0,
            bytes: 0,
            decoded: String::new(),
            decoded_spans: Vec::new(),
        }
    }

    /// The encoding, once the first bytes have been seen.
    pub fn encoding(&self) -> Option<Encoding> {
        match self.sniff {
            Sniff::Known(encoding) => Some(encoding),
            Sniff::Pending(_) => None,
        }
    }

    /// Bytes fed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Feeds a chunk; `on_record` is called for each record it completes.
    pub fn feed(&mut self, chunk: &[u8], on_record: &mut dyn FnMut(Record<'_>)) {
        self.bytes += chunk.len() as u64;
        match &mut self.sniff {
            Sniff::Known(_) => self.feed_decoded(chunk, on_record),
            Sniff::Pending(head) => {
                head.extend_from_slice(chunk);
                if head.len() >= 3 {
                    let head = std::mem::take(head);
                    self.start(&head, on_record);
                }
            }
        }
    }

    /// Ends the input: completes the last record, or reports an unterminated quote.
    pub fn finish(
        &mut self,
        on_record: &mut dyn FnMut(Record<'_>),
    ) -> Result<(), UnterminatedQuote> {
        if let Sniff::Pending(head) = &mut self.sniff {
            let head = std::mem::take(head);
            self.start(&head, on_record);
        }
        if let Some(mut utf16) = self.utf16.take() {
            let mut tail = Vec::new();
            utf16.finish(&mut tail);
            self.scan(&tail, on_record);
        }
        match self.state {
            State::Quoted => Err(UnterminatedQuote {
                line: self.quote_line,
            }),
            _ => {
                if self.record_started {
                    self.end_record(on_record);
                }
                Ok(())
            }
        }
    }

    fn start(&mut self, head: &[u8], on_record: &mut dyn FnMut(Record<'_>)) {
        let (encoding, bom_len) = match head {
            [0xEF, 0xBB, 0xBF, ..] => (Encoding::Utf8Bom, 3),
            [0xFF, 0xFE, ..] => (Encoding::Utf16Le, 2),
            [0xFE, 0xFF, ..] => (Encoding::Utf16Be, 2),
            _ => (Encoding::Utf8, 0),
        };
        self.sniff = Sniff::Known(encoding);
        if matches!(encoding, Encoding::Utf16Le | Encoding::Utf16Be) {
            self.utf16 = Some(Utf16Transcoder::new(encoding == Encoding::Utf16Be));
        }
        self.feed_decoded(&head[bom_len..], on_record);
    }

    fn feed_decoded(&mut self, chunk: &[u8], on_record: &mut dyn FnMut(Record<'_>)) {
        match &mut self.utf16 {
            Some(utf16) => {
                let mut transcoded = std::mem::take(&mut self.transcoded);
                transcoded.clear();
                utf16.transcode(chunk, &mut transcoded);
                self.scan(&transcoded, on_record);
                self.transcoded = transcoded;
            }
            None => self.scan(chunk, on_record),
        }
    }

    /// The RFC 4180 state machine over (UTF-8 or undecoded) bytes.
    fn scan(&mut self, input: &[u8], on_record: &mut dyn FnMut(Record<'_>)) {
        // UTF-8 is checked once for the whole chunk rather than once per
        // record: a record lent from the valid prefix needs no check of its
        // own (its ends are ASCII line breaks, so they are char boundaries).
        let valid: &str = match std::str::from_utf8(input) {
            Ok(text) => text,
            Err(error) => std::str::from_utf8(&input[..error.valid_up_to()]).unwrap_or_default(),
        };
        let mut i = 0;
        while i < input.len() {
            let byte = input[i];
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    i += 1;
                    continue;
                }
            }
            match self.state {
                State::FieldStart | State::Unquoted => {
                    if self.state == State::FieldStart && self.spans.is_empty() {
                        // The usual record lies wholly in the chunk and needs no
                        // unescaping: lend it out as it is rather than copy it.
                        if let Some(len) = split_plain_record(&input[i..], &mut self.spans) {
                            let line = match valid.get(i..i + len) {
                                Some(text) => Line::Text(text),
                                None => Line::Bytes(&input[i..i + len]),
                            };
                            self.emit_record(line, on_record);
                            i += len;
                            self.end_line(input[i]);
                            i += 1;
                            continue;
                        }
                        self.spans.clear();
                    }
                    if self.state == State::FieldStart && byte == b'"' {
                        self.state = State::Quoted;
                        self.quote_line = self.line;
                        self.record_started = true;
                        i += 1;
                        continue;
                    }
                    // Up to the next line break or quote, only commas
                    // matter; split that run without leaving it.
                    let run =
                        memchr::memchr3(b'\n', b'\r', b'"', &input[i..]).unwrap_or(input.len() - i);
                    if run > 0 {
                        let base = self.field_bytes.len();
                        // Commas are copied too: they are the separators between fields.
                        self.field_bytes.extend_from_slice(&input[i..i + run]);
                        self.field_start = split_at_commas(
                            &self.field_bytes,
                            base,
                            self.field_start,
                            &mut self.spans,
                        );
                        self.record_started = true;
                        // After a comma the next field starts (and may be quoted).
                        self.state = if self.field_start == self.field_bytes.len() {
                            State::FieldStart
                        } else {
                            State::Unquoted
                        };
                        i += run;
                        continue;
                    }
                    if byte == b'"' {
                        // A quote inside an unquoted field is an ordinary character.
                        self.field_bytes.push(byte);
                        self.state = State::Unquoted;
                        i += 1;
                        continue;
                    }
                    self.delimiter_or_terminator(byte, on_record);
                }
                State::Quoted => {
                    let run = memchr::memchr2(b'"', b'\n', &input[i..]).unwrap_or(input.len() - i);
                    self.field_bytes.extend_from_slice(&input[i..i + run]);
                    i += run;
                    match input.get(i) {
                        Some(b'"') => self.state = State::QuoteInQuoted,
                        Some(b'\n') => {
                            self.field_bytes.push(b'\n');
                            self.line += 1;
                        }
                        _ => continue,
                    }
                }
                State::QuoteInQuoted => match byte {
                    b'"' => {
                        self.field_bytes.push(b'"');
                        self.state = State::Quoted;
                    }
                    b',' | b'\n' | b'\r' => self.delimiter_or_terminator(byte, on_record),
                    _ => {
                        // Lenient, like most spreadsheets: `"ab"c` reads as `abc`.
                        self.field_bytes.push(byte);
                        self.state = State::Unquoted;
                    }
                },
            }
            i += 1;
        }
    }

    fn delimiter_or_terminator(&mut self, byte: u8, on_record: &mut dyn FnMut(Record<'_>)) {
        self.end_field();
        if byte == b',' {
            self.field_bytes.push(b',');
            self.field_start = self.field_bytes.len();
            self.record_started = true;
            self.state = State::FieldStart;
        } else {
            self.emit_record(Line::Copied, on_record);
            self.end_line(byte);
        }
    }

    fn end_field(&mut self) {
        self.spans.push((self.field_start, self.field_bytes.len()));
    }

    /// After a record's line break (`\n` or `\r`).
    fn end_line(&mut self, terminator: u8) {
        self.after_cr = terminator == b'\r';
        self.line += 1;
    }

    /// Completes the record being read at the end of the input.
    fn end_record(&mut self, on_record: &mut dyn FnMut(Record<'_>)) {
        self.end_field();
        self.emit_record(Line::Copied, on_record);
    }

    /// Hands out the record whose `spans` are complete (in `line`, when lent
    /// from the input, else in `field_bytes`), then starts the next.
    fn emit_record(&mut self, line: Line<'_>, on_record: &mut dyn FnMut(Record<'_>)) {
        let bytes = match line {
            Line::Text(text) => text.as_bytes(),
            Line::Bytes(bytes) => bytes,
            Line::Copied => &self.field_bytes,
        };
        self.records += 1;
        let row = self.records;
        let text = match line {
            Line::Text(text) => Ok(text),
            _ => std::str::from_utf8(bytes),
        };
        match text {
            Ok(text) => on_record(Record {
                row,
                text,
                spans: &self.spans,
                windows_1252: false,
            }),
            Err(_) => {
                self.decoded.clear();
                self.decoded_spans.clear();
                for &(start, end) in &self.spans {
                    let decoded_start = self.decoded.len();
                    self.decoded
                        .extend(bytes[start..end].iter().map(|&b| windows_1252_char(b)));
                    self.decoded_spans.push((decoded_start, self.decoded.len()));
                }
                on_record(Record {
                    row,
                    text: &self.decoded,
                    spans: &self.decoded_spans,
                    windows_1252: true,
                })
            }
        }
        self.field_bytes.clear();
        self.field_start = 0;
        self.spans.clear();
        self.record_started = false;
        self.state = State::FieldStart;
    }
}

/// Where the record being handed out is.
#[derive(Clone, Copy)]
enum Line<'a> {
    /// Lent from the input, and known to be UTF-8.
    Text(&'a str),
    /// Lent from the input, not yet checked.
    Bytes(&'a [u8]),
    /// Copied (unescaped) into `field_bytes`.
    Copied,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8]) -> Result<Vec<(u64, Vec<String>, bool)>, UnterminatedQuote> {
        read_chunked(input, input.len().max(1))
    }

    fn read_chunked(
        input: &[u8],
        chunk: usize,
    ) -> Result<Vec<(u64, Vec<String>, bool)>, UnterminatedQuote> {
        let mut reader = RecordReader::new();
        let mut out = Vec::new();
        let mut collect = |r: Record<'_>| {
            out.push((
                r.row,
                r.fields().map(String::from).collect(),
                r.windows_1252,
            ))
        };
        for piece in input.chunks(chunk) {
            reader.feed(piece, &mut collect);
        }
        reader.finish(&mut collect)?;
        Ok(out)
    }

    fn fields(input: &[u8]) -> Vec<Vec<String>> {
        read(input)
            .unwrap()
            .into_iter()
            .map(|(_, f, _)| f)
            .collect()
    }

    #[test]
    fn table() {
        // (input, expected records)
        let cases: &[(&[u8], &[&[&str]])] = &[
            (b"a,b\n1,2\n", &[&["a", "b"], &["1", "2"]]),
            (b"a,b\r\n1,2", &[&["a", "b"], &["1", "2"]]),
            (b"a,b\r1,2\r", &[&["a", "b"], &["1", "2"]]),
            (b"\xEF\xBB\xBFa,b\n", &[&["a", "b"]]),
            (b"a,\"x, \"\"y\"\"\"\n", &[&["a", "x, \"y\""]]),
            (b"\"multi\nline\",z\n", &[&["multi\nline", "z"]]),
            (b"a\n\n,\n", &[&["a"], &[""], &["", ""]]),
            (b"a,b,\n", &[&["a", "b", ""]]),
            (b"\"ab\"c,d\n", &[&["abc", "d"]]),
            (b"a\"b,c\n", &[&["a\"b", "c"]]),
            (b"", &[]),
            (b"x", &[&["x"]]),
        ];
        for (input, expected) in cases {
            let got = fields(input);
            let expected: Vec<Vec<String>> = expected
                .iter()
                .map(|r| r.iter().map(|s| s.to_string()).collect())
                .collect();
            assert_eq!(got, expected, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn rows_count_records_not_lines() {
        let got = read(b"h\n\"a\nb\"\nc\n").unwrap();
        let rows: Vec<u64> = got.iter().map(|r| r.0).collect();
        assert_eq!(rows, [1, 2, 3]);
    }

    #[test]
    fn unterminated_quote_names_its_line() {
        assert_eq!(
            read(b"a,b\n1,2\n3,\"open\n4,5\n"),
            Err(UnterminatedQuote { line: 3 })
        );
    }

    #[test]
    fn utf16_with_bom_is_transcoded() {
        for big_endian in [false, true] {
            let text = "név,👍\nÅ,b\n";
            let mut bytes = if big_endian {
                vec![0xFE, 0xFF]
            } else {
                vec![0xFF, 0xFE]
            };
            for unit in text.encode_utf16() {
                bytes.extend(if big_endian {
                    unit.to_be_bytes()
                } else {
                    unit.to_le_bytes()
                });
            }
            for chunk in [1, 2, 3, 5, 64] {
                let got: Vec<Vec<String>> = read_chunked(&bytes, chunk)
                    .unwrap()
                    .into_iter()
                    .map(|r| r.1)
                    .collect();
                assert_eq!(got, [vec!["név", "👍"], vec!["Å", "b"]], "chunk {chunk}");
            }
        }
    }

    #[test]
    fn windows_1252_fallback_is_per_record() {
        let got = read(b"name\nJos\xE9\nplain\n\x80uro\n").unwrap();
        let decoded: Vec<(&str, bool)> = got.iter().map(|r| (r.1[0].as_str(), r.2)).collect();
        assert_eq!(
            decoded,
            [
                ("name", false),
                ("José", true),
                ("plain", false),
                ("€uro", true)
            ]
        );
    }

    #[test]
    fn chunking_does_not_change_records() {
        let input = "\u{FEFF}a,b,c\r\n\"q,\"\"x\"\"\",é,\r\n\n1,\"2\r\n3\",4\n".as_bytes();
        let whole = read(input).unwrap();
        for chunk in 1..input.len() {
            assert_eq!(read_chunked(input, chunk).unwrap(), whole, "chunk {chunk}");
        }
    }

    #[test]
    fn lent_and_copied_records_agree() {
        // Whole, most of these records are lent from the input; byte by byte
        // they are all copied.
        let inputs: &[&[u8]] = &[
            b"a,\"b, c\",d\n\"e\",f\r\n,,\"\"\n",
            b"a,\"b\"\"c\",d\n\"x\"y,z\n",
            b"a\"b,\"c\"\n\"multi\nline\",z\r\n",
            b"0123456789,abcdefgh,ijklmnop,\"qrstuvw\",xyz\n,\n",
            b"\xC3,\xA9\n\"\xC3\",\xA9\n\"Jos\xE9\",\"\"\n",
            // Quoted fields that close inside an eight-byte word, control
            // characters, fields across word boundaries.
            b"\"a\",b,\"c,d\",e\tf,\"\",g\x01h\n\"0123456789\",x\"y,z\n",
            b"1,2,3,4,5,6,7,8,9,10,11,12,\"thirteen, 13\",fourteen\r\nlast,\"\"\"q\"\n",
            b",,,,,,,,,,,,,,,,\n\"\",\"\",\"\"\r\n\x0B,\x0C\n",
        ];
        for input in inputs {
            let whole = read(input).unwrap();
            assert_eq!(
                read_chunked(input, 1).unwrap(),
                whole,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn a_field_boundary_never_splits_a_character() {
        // `\xC3` and `\xA9` make `é` only if the comma between them is dropped.
        let got = read(b"\xC3,\xA9\n").unwrap();
        assert_eq!(got, [(1, vec!["Ã".to_string(), "©".to_string()], true)]);
    }
}
