//! Cell rules: one cast-and-normalize function per value kind. A cast only
//! says whether a value is of its kind and gives its canonical form;
//! constraints that depend on other cells ("grade not allowed for staff")
//! belong to the row rules in `users` and `demographics`.

use std::borrow::Cow;

use crate::codes::IssueCode;
use crate::csv_out::strip_formula_guard;
use crate::dictionary::{
    either, FileKind, ValueKind, ACTIONS, BOOLEAN_WORDS, FREE_REDUCED_LUNCH_VALUES, GRADES,
    GRADE_ALIASES, ISO_639_1, LIMITS, ROLES, SEX_VALUES,
};
use crate::report::Finding;

/// Why a value is not of its kind: the code, and a detail for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellProblem {
    /// The code the value fails with.
    pub code: IssueCode,
    /// Fills `{detail}` in the code's message.
    pub detail: Option<String>,
}

impl CellProblem {
    fn new(code: IssueCode) -> Self {
        CellProblem { code, detail: None }
    }

    fn with_detail(code: IssueCode, detail: impl Into<String>) -> Self {
        CellProblem {
            code,
            detail: Some(detail.into()),
        }
    }

    /// `invalid-value`, for the kinds without a code of their own.
    fn invalid_value(detail: impl Into<String>) -> Self {
        CellProblem::with_detail(IssueCode::InvalidValue, detail)
    }

    /// The problem as the finding of a file's cell, with the value as
    /// written: the one place where a cast's problem becomes a finding.
    pub(crate) fn finding(
        self,
        file: FileKind,
        row: u64,
        column: &'static str,
        value: &str,
    ) -> Finding {
        let mut finding = Finding::in_cell(self.code, file, row, column, value);
        finding.detail = self.detail;
        finding
    }
}

/// `missing-value`: the cell of `column` is blank and must not be;
/// `detail` says when (`""`: always). The one place it is raised, for both
/// files' row rules.
pub(crate) fn missing_value(
    file: FileKind,
    row: u64,
    column: &'static str,
    detail: &str,
) -> Finding {
    Finding::in_cell(IssueCode::MissingValue, file, row, column, "").with_detail(detail)
}

/// A cell's value as the contract reads it: trimmed, and without the
/// formula guard the product writes into files for people
/// (`csv_out::strip_formula_guard`), so a downloaded file uploads unchanged.
#[inline]
pub(crate) fn cell_value(raw: &str) -> &str {
    strip_formula_guard(trim_cell(raw))
}

/// Whether a cast value, written as a cell as it is, reads as itself
/// (`cell_value`). Cast values are trimmed, so only a start that reads as
/// the formula guard (`'`), or a tab or CR, which can be left at the start
/// once a guard is removed, can read otherwise (a value that starts with
/// `'` and reads as itself all the same, such as `'abc`, gets `false` too).
#[inline]
pub(crate) fn reads_as_itself(value: &[u8]) -> bool {
    !matches!(value.first(), Some(b'\'' | b'\t' | b'\r'))
}

/// Trims the whitespace the spec says to ignore around every cell (any
/// Unicode whitespace; the check is cheap when there is none, as is usual).
#[inline]
pub(crate) fn trim_cell(raw: &str) -> &str {
    let bytes = raw.as_bytes();
    let printable_ascii = |b: u8| b > b' ' && b < 0x80;
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) if printable_ascii(first) && printable_ascii(last) => raw,
        (Some(&first), Some(&last)) if may_start_whitespace(first) || may_end_whitespace(last) => {
            trim_unicode(raw)
        }
        _ => raw,
    }
}

#[inline(never)]
fn trim_unicode(raw: &str) -> &str {
    raw.trim()
}

/// Whether a character that starts with this UTF-8 byte may be whitespace:
/// ASCII space and controls, and the lead bytes of U+0085, U+00A0, U+1680
/// and U+2000..U+3000 (so accented letters need no decoding).
fn may_start_whitespace(byte: u8) -> bool {
    byte <= b' ' || matches!(byte, 0xC2 | 0xE1 | 0xE2 | 0xE3)
}

/// Whether a character that ends with this UTF-8 byte may be whitespace:
/// ASCII space and controls, and the last bytes of the other whitespace
/// characters (U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029,
/// U+202F, U+205F, U+3000).
fn may_end_whitespace(byte: u8) -> bool {
    byte <= b' ' || matches!(byte, 0x80..=0x8A | 0x9F | 0xA0 | 0xA8 | 0xA9 | 0xAF)
}

/// Casts a trimmed, non-blank value to its kind and returns its canonical form.
pub fn cast(kind: ValueKind, value: &str) -> Result<Cow<'_, str>, CellProblem> {
    match kind {
        ValueKind::Action => canonical_word(value, ACTIONS).ok_or(IssueCode::InvalidAction),
        ValueKind::Identifier => return cast_identifier(value).map(Cow::Borrowed),
        ValueKind::Role => canonical_word(value, ROLES).ok_or(IssueCode::InvalidRole),
        ValueKind::Name => return cast_name(value).map(Cow::Borrowed),
        ValueKind::Email => return cast_email(value),
        ValueKind::Grade => cast_grade(value)
            .map(Cow::Borrowed)
            .ok_or(IssueCode::InvalidGrade),
        ValueKind::Text { max } => return cast_text(value, max).map(Cow::Borrowed),
        ValueKind::Boolean => cast_boolean(value)
            .map(|b| Cow::Borrowed(if b { "TRUE" } else { "FALSE" }))
            .ok_or(IssueCode::InvalidBoolean),
        ValueKind::Date => cast_date(value)
            .map(Cow::Owned)
            .ok_or(IssueCode::InvalidDate),
        ValueKind::Sex => {
            return SEX_VALUES
                .iter()
                .find(|(word, _)| word.eq_ignore_ascii_case(value))
                .map(|(_, canonical)| Cow::Borrowed(*canonical))
                .ok_or_else(|| CellProblem::invalid_value(sex_values()))
        }
        ValueKind::FreeReducedLunch => {
            return canonical_word(value, FREE_REDUCED_LUNCH_VALUES).ok_or_else(|| {
                CellProblem::invalid_value(format!("must be {}", either(FREE_REDUCED_LUNCH_VALUES)))
            })
        }
        ValueKind::Language => {
            return cast_language(value).ok_or_else(|| {
                CellProblem::invalid_value("must be an ISO 639 language code such as en, es or spa")
            })
        }
    }
    .map_err(CellProblem::new)
}

/// `must be male, female, other or unspecified (M, F, X)`: the canonical
/// values of `SEX_VALUES`, then their aliases.
fn sex_values() -> String {
    let (canonical, aliases): (Vec<_>, Vec<_>) = SEX_VALUES
        .iter()
        .partition(|(word, canonical)| word == canonical);
    let words = |values: Vec<&(&'static str, &str)>| -> Vec<&'static str> {
        values.into_iter().map(|(word, _)| *word).collect()
    };
    format!(
        "must be {} ({})",
        either(&words(canonical)),
        words(aliases).join(", ")
    )
}

/// Case-insensitive match against a list of canonical words.
fn canonical_word<'a>(value: &str, words: &[&'static str]) -> Option<Cow<'a, str>> {
    words
        .iter()
        .find(|w| w.eq_ignore_ascii_case(value))
        .map(|w| Cow::Borrowed(*w))
}

/// An identifier: 1 to `LIMITS.identifier_chars` characters of
/// `A-Z a-z 0-9 - _ .` (the server checks school IDs with it too).
pub fn is_identifier(value: &str) -> bool {
    // Without early exits: vector code for the whole (short) value.
    !value.is_empty()
        && value.len() <= LIMITS.identifier_chars
        && value.bytes().fold(true, |ok, b| {
            ok & (b.is_ascii_alphanumeric() | (b == b'-') | (b == b'_') | (b == b'.'))
        })
}

/// `^[0-9]+(\.[0-9]+)?[eE]\+[0-9]+$`: what Excel makes of a long numeric ID.
fn looks_like_scientific_notation(value: &str) -> bool {
    let bytes = value.as_bytes();
    let digits = |start: usize| {
        bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut i = digits(0);
    if i == 0 {
        return false;
    }
    if bytes.get(i) == Some(&b'.') {
        let fraction = digits(i + 1);
        if fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    }
    if !matches!(bytes.get(i), Some(b'e' | b'E')) || bytes.get(i + 1) != Some(&b'+') {
        return false;
    }
    let exponent = digits(i + 2);
    exponent > 0 && i + 2 + exponent == bytes.len()
}

fn cast_identifier(value: &str) -> Result<&str, CellProblem> {
    // An identifier has no `+`, so it never looks like scientific notation.
    if is_identifier(value) {
        Ok(value)
    } else if looks_like_scientific_notation(value) {
        Err(CellProblem::new(IssueCode::ExcelScientificNotation))
    } else {
        Err(CellProblem::new(IssueCode::InvalidId))
    }
}

fn cast_name(value: &str) -> Result<&str, CellProblem> {
    let problem = |detail: &str| Err(CellProblem::with_detail(IssueCode::InvalidName, detail));
    if exceeds_chars(value, LIMITS.name_chars) {
        return problem(&format!("is longer than {} characters", LIMITS.name_chars));
    }
    if has_control(value) {
        return problem("contains a control character");
    }
    if let Some(first @ ('=' | '+' | '-' | '@')) = value.chars().next() {
        return problem(&format!(
            "starts with '{first}', which spreadsheets read as a formula"
        ));
    }
    Ok(value)
}

/// More than `max` characters (a byte count settles most values).
fn exceeds_chars(value: &str, max: usize) -> bool {
    value.len() > max && value.chars().count() > max
}

fn has_control(value: &str) -> bool {
    let bytes = value.as_bytes();
    // Without early exits, into one byte of flags: vector code for the
    // whole (short) value. The other control characters, U+0080..U+009F,
    // are C2 80..C2 9F in UTF-8: only a value with a C2 at all (rare) has
    // its pairs looked at.
    const ASCII_CONTROL: u8 = 1;
    const C2: u8 = 2;
    let flags = bytes.iter().fold(0u8, |flags, &b| {
        let control = u8::from((b < b' ') | (b == 0x7F)) * ASCII_CONTROL;
        flags | control | (u8::from(b == 0xC2) * C2)
    });
    flags & ASCII_CONTROL != 0
        || flags & C2 != 0
            && bytes
                .windows(2)
                .any(|w| w[0] == 0xC2 && matches!(w[1], 0x80..=0x9F))
}

fn cast_text(value: &str, max: usize) -> Result<&str, CellProblem> {
    if exceeds_chars(value, max) {
        return Err(CellProblem::invalid_value(format!(
            "is longer than {max} characters"
        )));
    }
    if has_control(value) {
        return Err(CellProblem::invalid_value("contains a control character"));
    }
    Ok(value)
}

/// The syntax of HTML's `<input type=email>`, at most `LIMITS.email_chars`
/// characters (bytes: a valid address is ASCII); the canonical form is
/// lower case.
fn cast_email(value: &str) -> Result<Cow<'_, str>, CellProblem> {
    if value.len() > LIMITS.email_chars {
        return Err(CellProblem::with_detail(
            IssueCode::InvalidEmail,
            format!(" (longer than {} characters)", LIMITS.email_chars),
        ));
    }
    if !is_html_email(value) {
        return Err(CellProblem::new(IssueCode::InvalidEmail));
    }
    // Without early exits: vector code (addresses are rarely in upper case).
    if value
        .bytes()
        .fold(false, |upper, b| upper | b.is_ascii_uppercase())
    {
        Ok(Cow::Owned(value.to_ascii_lowercase()))
    } else {
        Ok(Cow::Borrowed(value))
    }
}

fn is_html_email(value: &str) -> bool {
    let bytes = value.as_bytes();
    let Some(at) = bytes.iter().position(|b| *b == b'@') else {
        return false;
    };
    let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
    let local_ok = !local.is_empty() && local.iter().all(|b| EMAIL_LOCAL_BYTES[*b as usize]);
    local_ok && is_email_domain(domain)
}

/// The bytes of the local part of an email address: letters, digits and
/// these (a table: the usual address is checked a byte a step).
const EMAIL_LOCAL_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = (byte as u8).is_ascii_alphanumeric();
        byte += 1;
    }
    let others = b".!#$%&'*+/=?^_`{|}~-";
    let mut i = 0;
    while i < others.len() {
        table[others[i] as usize] = true;
        i += 1;
    }
    table
};

/// Labels separated by dots, each of 1 to 63 letters, digits and hyphens,
/// not starting or ending with a hyphen. The bytes, and each byte with the
/// next, are checked in loops without early exits (the compiler makes
/// vector code of them): no label is empty or starts or ends with a hyphen
/// when no dot or hyphen is next to a dot and the domain neither starts
/// nor ends with one. The labels' lengths are counted only in a domain
/// longer than the longest label.
fn is_email_domain(domain: &[u8]) -> bool {
    let allowed = domain.iter().fold(true, |allowed, &byte| {
        allowed & (byte.is_ascii_alphanumeric() | (byte == b'-') | (byte == b'.'))
    });
    let pairs_ok = domain
        .iter()
        .zip(domain.iter().skip(1))
        .fold(true, |ok, (&a, &b)| {
            ok & !(((a == b'.') & ((b == b'.') | (b == b'-'))) | ((a == b'-') & (b == b'.')))
        });
    let edge = |byte: Option<&u8>| matches!(byte, None | Some(b'.' | b'-'));
    const MAX_LABEL: usize = 63;
    allowed
        && pairs_ok
        && !edge(domain.first())
        && !edge(domain.last())
        && (domain.len() <= MAX_LABEL || domain.split(|b| *b == b'.').all(|l| l.len() <= MAX_LABEL))
}

/// A canonical grade code, or `None`.
pub fn cast_grade(value: &str) -> Option<&'static str> {
    // Canonical codes are the common case: find them without a scan.
    if value.len() == 2 && value.as_bytes()[0].is_ascii_digit() {
        if let Some(grade) = GRADES.iter().find(|g| **g == value) {
            return Some(grade);
        }
    }
    GRADES
        .iter()
        .find(|g| g.eq_ignore_ascii_case(value))
        .or_else(|| {
            GRADE_ALIASES
                .iter()
                .find(|(alias, _)| alias.eq_ignore_ascii_case(value))
                .map(|(_, canonical)| canonical)
        })
        .copied()
}

pub(crate) fn cast_boolean(value: &str) -> Option<bool> {
    BOOLEAN_WORDS
        .iter()
        .find(|(word, _)| word.eq_ignore_ascii_case(value))
        .map(|(_, b)| *b)
}

/// `YYYY-MM-DD` or `M/D/YYYY`, a real calendar day; canonical `YYYY-MM-DD`.
fn cast_date(value: &str) -> Option<String> {
    let number = |s: &str, min_len: usize, max_len: usize| -> Option<u32> {
        (s.len() >= min_len && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (year, month, day) = if let Some((y, rest)) = value.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        (number(y, 4, 4)?, number(m, 2, 2)?, number(d, 2, 2)?)
    } else {
        let mut parts = value.split('/');
        let m = number(parts.next()?, 1, 2)?;
        let d = number(parts.next()?, 1, 2)?;
        let y = number(parts.next()?, 4, 4)?;
        if parts.next().is_some() {
            return None;
        }
        (y, m, d)
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (year >= 1 && day >= 1 && day <= days_in_month)
        .then(|| format!("{year:04}-{month:02}-{day:02}"))
}

fn cast_language(value: &str) -> Option<Cow<'_, str>> {
    let letters = value.bytes().all(|b| b.is_ascii_alphabetic());
    let lower = value.to_ascii_lowercase();
    let known = match value.len() {
        2 => letters && ISO_639_1.contains(&lower.as_str()),
        3 => letters,
        _ => false,
    };
    known.then(|| {
        if lower == value {
            Cow::Borrowed(value)
        } else {
            Cow::Owned(lower)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use IssueCode::*;
    use ValueKind as K;

    /// (kind, input, expected canonical value or the code it fails with)
    const CASES: &[(ValueKind, &str, Result<&str, IssueCode>)] = &[
        (K::Action, "remove-class", Ok("REMOVE-CLASS")),
        (K::Action, "DEACTIVATE-USER", Ok("DEACTIVATE-USER")),
        (K::Action, "REMOVE", Err(InvalidAction)),
        (K::Identifier, "000123", Ok("000123")),
        (K::Identifier, "a.b_c-9", Ok("a.b_c-9")),
        (K::Identifier, "12 34", Err(InvalidId)),
        (K::Identifier, "é1", Err(InvalidId)),
        (K::Identifier, "1.23457E+11", Err(ExcelScientificNotation)),
        (K::Identifier, "1E+05", Err(ExcelScientificNotation)),
        (K::Identifier, "1e5", Ok("1e5")),
        (K::Identifier, "1.2E+", Err(InvalidId)),
        (K::Role, "Student", Ok("student")),
        (K::Role, "ADMINISTRATOR", Ok("administrator")),
        (K::Role, "pupil", Err(InvalidRole)),
        (K::Name, "José", Ok("José")),
        (K::Name, "Smith, Jr.", Ok("Smith, Jr.")),
        (K::Name, "=HYPERLINK()", Err(InvalidName)),
        (K::Name, "-Ann", Err(InvalidName)),
        (K::Name, "a\u{7}b", Err(InvalidName)),
        (
            K::Email,
            "Jose.Garcia@Example.ORG",
            Ok("jose.garcia@example.org"),
        ),
        (K::Email, "a@localhost", Ok("a@localhost")),
        (K::Email, "no-at-sign", Err(InvalidEmail)),
        (K::Email, "a@b@c.org", Err(InvalidEmail)),
        (K::Email, "a@-b.org", Err(InvalidEmail)),
        (K::Email, "a b@c.org", Err(InvalidEmail)),
        (K::Email, "a@b..org", Err(InvalidEmail)),
        (K::Grade, "k", Ok("KG")),
        (K::Grade, "5", Ok("05")),
        (K::Grade, "12", Ok("12")),
        (K::Grade, "other", Ok("Other")),
        (K::Grade, "pk", Ok("PK")),
        (K::Grade, "14", Err(InvalidGrade)),
        (K::Grade, "005", Err(InvalidGrade)),
        (K::Text { max: 5 }, "abcde", Ok("abcde")),
        (K::Text { max: 5 }, "abcdef", Err(InvalidValue)),
        (K::Boolean, "yes", Ok("TRUE")),
        (K::Boolean, "n", Ok("FALSE")),
        (K::Boolean, "0", Ok("FALSE")),
        (K::Boolean, "maybe", Err(InvalidBoolean)),
        (K::Date, "2014-09-02", Ok("2014-09-02")),
        (K::Date, "9/2/2014", Ok("2014-09-02")),
        (K::Date, "2/29/2016", Ok("2016-02-29")),
        (K::Date, "2015-02-29", Err(InvalidDate)),
        (K::Date, "2014-9-2", Err(InvalidDate)),
        (K::Date, "13/1/2014", Err(InvalidDate)),
        (K::Date, "yesterday", Err(InvalidDate)),
        (K::Sex, "F", Ok("female")),
        (K::Sex, "Unspecified", Ok("unspecified")),
        (K::Sex, "q", Err(InvalidValue)),
        (K::FreeReducedLunch, "Reduced", Ok("reduced")),
        (K::FreeReducedLunch, "none", Err(InvalidValue)),
        (K::Language, "EN", Ok("en")),
        (K::Language, "spa", Ok("spa")),
        (K::Language, "xx", Err(InvalidValue)),
        (K::Language, "english", Err(InvalidValue)),
    ];

    #[test]
    fn casts() {
        for (kind, input, expected) in CASES {
            let got = cast(*kind, input).map_err(|p| p.code);
            assert_eq!(
                got.as_deref().map_err(|c| *c),
                *expected,
                "{kind:?} {input:?}"
            );
        }
    }

    #[test]
    fn whitespace_bytes_are_all_known() {
        for ch in (0..=char::MAX as u32).filter_map(char::from_u32) {
            if ch.is_whitespace() {
                let mut buf = [0; 4];
                let bytes = ch.encode_utf8(&mut buf).as_bytes();
                assert!(may_start_whitespace(bytes[0]), "{ch:?}");
                assert!(may_end_whitespace(bytes[bytes.len() - 1]), "{ch:?}");
            }
        }
        for cell in [
            "",
            " ",
            "a",
            " a ",
            "\u{A0}é\u{3000}",
            "Zoë",
            "é",
            "\t\u{2029}",
        ] {
            assert_eq!(trim_cell(cell), cell.trim(), "{cell:?}");
        }
    }

    /// `is_email_domain` against the rule as written: labels split at dots.
    #[test]
    fn email_domains() {
        let by_labels = |domain: &[u8]| {
            domain.split(|b| *b == b'.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                    && label[0] != b'-'
                    && label[label.len() - 1] != b'-'
            })
        };
        let long = "a".repeat(63);
        let too_long = "a".repeat(64);
        let domains = [
            "",
            ".",
            "a",
            "a.",
            ".a",
            "a..b",
            "a.b",
            "a-b.c",
            "-a.b",
            "a-.b",
            "a.-b",
            "a.b-",
            "a--b",
            "-",
            "a.-",
            "x.y.z",
            "é.org",
            "a_b.org",
            "a@b",
            "1.2",
            &long,
            &too_long,
            &format!("{long}.org"),
            &format!("{too_long}.org"),
        ];
        for domain in domains {
            assert_eq!(
                is_email_domain(domain.as_bytes()),
                by_labels(domain.as_bytes()),
                "{domain:?}"
            );
        }
        for a in 0..=255u8 {
            for b in [b'a', b'-', b'.', b'@'] {
                for domain in [[a, b], [b, a]] {
                    assert_eq!(is_email_domain(&domain), by_labels(&domain), "{domain:?}");
                }
            }
        }
    }

    /// A cast value that `reads_as_itself` reads as itself, whatever the
    /// cell it was cast from.
    #[test]
    fn values_that_read_as_themselves() {
        let cells = [
            "Ann",
            " Ann ",
            "'=Ann",
            "''=Ann",
            "'''=x",
            "'abc",
            "'\t x",
            "'\u{A0}x",
            "=x",
            "José",
            "\u{A0}é\u{3000}",
            "'-5",
            "'",
            "''",
            "a@x.org",
            "''=a@x.org",
            "05",
            "'\r\n=x",
        ];
        for cell in cells {
            let value = cell_value(cell);
            for kind in [K::Text { max: 100 }, K::Name, K::Email, K::Grade] {
                if let Ok(canonical) = cast(kind, value) {
                    if reads_as_itself(canonical.as_bytes()) {
                        assert_eq!(cell_value(&canonical), canonical, "{kind:?} {cell:?}");
                    }
                }
            }
            if reads_as_itself(value.as_bytes()) {
                assert_eq!(cell_value(value), value, "{cell:?}");
            }
        }
        assert!(!reads_as_itself(b"'=x") && !reads_as_itself(b"\tx"));
    }

    #[test]
    fn control_characters() {
        for ch in (0..=0x3000).filter_map(char::from_u32) {
            for value in [format!("{ch}"), format!("a{ch}b"), format!("é{ch}")] {
                assert_eq!(
                    has_control(&value),
                    value.chars().any(char::is_control),
                    "{value:?}"
                );
            }
        }
    }

    /// The details of the messages name the dictionary's values and limits.
    #[test]
    fn details_come_from_the_dictionary() {
        let detail = |kind: ValueKind, value: &str| cast(kind, value).unwrap_err().detail;
        assert_eq!(
            detail(K::Sex, "q").as_deref(),
            Some("must be male, female, other or unspecified (M, F, X)")
        );
        assert_eq!(
            detail(K::FreeReducedLunch, "none").as_deref(),
            Some("must be free, reduced, paid or other")
        );
        assert_eq!(
            detail(K::Name, &"a".repeat(101)).as_deref(),
            Some("is longer than 100 characters")
        );
        let email = format!("{}@x.org", "a".repeat(250));
        assert_eq!(
            detail(K::Email, &email).as_deref(),
            Some(" (longer than 254 characters)")
        );
    }

    #[test]
    fn long_values() {
        let id = "9".repeat(65);
        assert_eq!(cast(K::Identifier, &id).unwrap_err().code, InvalidId);
        assert!(cast(K::Identifier, &id[..64]).is_ok());
        let name = "é".repeat(101);
        assert_eq!(cast(K::Name, &name).unwrap_err().code, InvalidName);
        assert!(cast(K::Name, &name[..200]).is_ok(), "100 characters fit");
        let email = format!("{}@example.org", "a".repeat(243));
        assert_eq!(email.len(), 255);
        assert_eq!(cast(K::Email, &email).unwrap_err().code, InvalidEmail);
        assert!(cast(K::Email, &email[1..]).is_ok());
    }
}
