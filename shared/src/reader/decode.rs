//! Encodings: the byte-order mark sniffed at the start, UTF-16 transcoded
//! to UTF-8 as it streams, and Windows-1252 for the records that are not
//! valid UTF-8.

/// The encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8 (BOM)",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
        }
    }
}

#[derive(Debug)]
pub(super) enum Sniff {
    /// Fewer than three bytes seen: the BOM may still be coming.
    Pending(Vec<u8>),
    Known(Encoding),
}

/// Streaming UTF-16 → UTF-8 transcoder (only for files that start with a UTF-16 BOM).
#[derive(Debug, Default)]
pub(super) struct Utf16Transcoder {
    big_endian: bool,
    odd_byte: Option<u8>,
    high_surrogate: Option<u16>,
}

impl Utf16Transcoder {
    pub(super) fn new(big_endian: bool) -> Self {
        Utf16Transcoder {
            big_endian,
            ..Default::default()
        }
    }

    pub(super) fn transcode(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        let mut units = Vec::with_capacity(input.len() / 2 + 1);
        if let Some(first) = self.odd_byte.take() {
            match input.split_first() {
                Some((&second, rest)) => {
                    units.push(self.unit(first, second));
                    input = rest;
                }
                None => {
                    self.odd_byte = Some(first);
                    return;
                }
            }
        }
        let mut pairs = input.chunks_exact(2);
        for pair in &mut pairs {
            units.push(self.unit(pair[0], pair[1]));
        }
        if let [last] = pairs.remainder() {
            self.odd_byte = Some(*last);
        }
        for unit in units {
            self.push_unit(unit, out);
        }
    }

    fn unit(&self, a: u8, b: u8) -> u16 {
        if self.big_endian {
            u16::from_be_bytes([a, b])
        } else {
            u16::from_le_bytes([a, b])
        }
    }

    fn push_unit(&mut self, unit: u16, out: &mut Vec<u8>) {
        let ch = match (self.high_surrogate.take(), unit) {
            (Some(high), 0xDC00..=0xDFFF) => {
                let code = 0x10000 + (((high as u32) - 0xD800) << 10) + (unit as u32 - 0xDC00);
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
            }
            (previous, 0xD800..=0xDBFF) => {
                if previous.is_some() {
                    push_char(char::REPLACEMENT_CHARACTER, out);
                }
                self.high_surrogate = Some(unit);
                return;
            }
            (previous, _) => {
                if previous.is_some() {
                    push_char(char::REPLACEMENT_CHARACTER, out);
                }
                char::from_u32(unit as u32).unwrap_or(char::REPLACEMENT_CHARACTER)
            }
        };
        push_char(ch, out);
    }

    pub(super) fn finish(&mut self, out: &mut Vec<u8>) {
        if self.odd_byte.take().is_some() || self.high_surrogate.take().is_some() {
            push_char(char::REPLACEMENT_CHARACTER, out);
        }
    }
}

fn push_char(ch: char, out: &mut Vec<u8>) {
    let mut buf = [0; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
}

/// Windows-1252 code points for bytes 0x80..=0x9F (the rest equal Latin-1).
const WINDOWS_1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
];

pub(super) fn windows_1252_char(byte: u8) -> char {
    match byte {
        0x80..=0x9F => WINDOWS_1252_HIGH[(byte - 0x80) as usize],
        _ => byte as char,
    }
}
