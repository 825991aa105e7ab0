//! Suggested fixes as data: where a finding has one obvious fix, the value
//! that fixes it. A header's did-you-mean or its case, a role or grade
//! written with extra words or in another form, an email with spaces
//! inside, a name that starts like a formula.
//!
//! A fix either names a value of the contract (a header, a canonical role
//! or grade: `from_value` false), which is safe in any report, or is made
//! from the cell's own value (the repaired email: `from_value` true),
//! which, like the value, stays with the person fixing the file.

use crate::cells::{cast, cast_grade};
use crate::codes::IssueCode;
use crate::dictionary::{ValueKind, ROLES};
use crate::header::suggest;
use crate::report::Finding;

/// The value that fixes a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestedFix {
    /// The cell's new value; for a header finding, the column's new name.
    pub value: String,
    /// Made from the cell's own value: never put in a report or message.
    pub from_value: bool,
}

impl SuggestedFix {
    fn of_contract(value: &str) -> Self {
        SuggestedFix {
            value: value.to_string(),
            from_value: false,
        }
    }

    fn from_value(value: String) -> Self {
        SuggestedFix {
            value,
            from_value: true,
        }
    }
}

/// Other words for a role, as rosters write them.
const ROLE_WORDS: &[(&str, &str)] = &[
    ("pupil", "student"),
    ("learner", "student"),
    ("instructor", "teacher"),
    ("admin", "administrator"),
];

/// Other ways of writing a grade, once words such as "grade" are dropped.
const GRADE_WORDS: &[(&str, &str)] = &[
    ("kindergarten", "KG"),
    ("kinder", "KG"),
    ("prek", "PK"),
    ("prekindergarten", "PK"),
    ("preschool", "PS"),
    ("infant", "IT"),
    ("ungraded", "UG"),
];

/// The fix of a finding, when it has one obvious fix.
pub fn suggested_fix(finding: &Finding) -> Option<SuggestedFix> {
    let column = finding.column.as_deref()?;
    match finding.code {
        IssueCode::UnknownHeader => suggest(finding.file, column).map(SuggestedFix::of_contract),
        // The detail is the column's exact header.
        IssueCode::HeaderWrongCase => finding.detail.as_deref().map(SuggestedFix::of_contract),
        IssueCode::InvalidRole => role(finding.value.as_deref()?).map(SuggestedFix::of_contract),
        IssueCode::InvalidGrade => grade(finding.value.as_deref()?).map(SuggestedFix::of_contract),
        IssueCode::InvalidEmail => email(finding.value.as_deref()?).map(SuggestedFix::from_value),
        IssueCode::InvalidName => name(finding.value.as_deref()?).map(SuggestedFix::from_value),
        _ => None,
    }
}

/// The fix of a finding as a report may carry it: only a fix that names a
/// value of the contract (a header, a canonical word or code), never one
/// made from the file's own value.
pub fn report_fix(finding: &Finding) -> Option<String> {
    suggested_fix(finding)
        .filter(|fix| !fix.from_value)
        .map(|fix| fix.value)
}

/// Lower-case words of a value: letters and digits, split at anything else.
fn words(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// The one role a value names ("Student (grade 5)", "teachers", "pupil").
fn role(value: &str) -> Option<&'static str> {
    let mut found = None;
    for word in words(value) {
        let singular = word.strip_suffix('s').unwrap_or(&word);
        let named = ROLES
            .iter()
            .copied()
            .find(|r| *r == word || *r == singular)
            .or_else(|| {
                ROLE_WORDS
                    .iter()
                    .find(|(w, _)| *w == word || *w == singular)
                    .map(|(_, r)| *r)
            });
        match (found, named) {
            (_, None) => {}
            (None, Some(r)) => found = Some(r),
            (Some(a), Some(b)) if a == b => {}
            _ => return None, // two roles: no obvious fix
        }
    }
    found
}

/// The grade a value names ("Grade 5", "5th", "Gr. 10", "Pre-K").
fn grade(value: &str) -> Option<&'static str> {
    let joined: String = words(value)
        .filter(|w| !matches!(w.as_str(), "grade" | "gr" | "grd" | "year" | "yr"))
        .collect();
    let ordinal = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|suffix| {
            joined
                .strip_suffix(suffix)
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .unwrap_or(&joined);
    let number = ordinal.trim_start_matches('0');
    let number = if number.is_empty() && !ordinal.is_empty() {
        "0"
    } else {
        number
    };
    cast_grade(number)
        .or_else(|| cast_grade(ordinal))
        .or_else(|| {
            GRADE_WORDS
                .iter()
                .find(|(w, _)| *w == ordinal)
                .map(|(_, g)| *g)
        })
        .filter(|g| !g.eq_ignore_ascii_case(value.trim()))
}

/// An address with spaces inside ("ann lee@x.org", "ann at x.org").
fn email(value: &str) -> Option<String> {
    let trimmed = value.trim();
    if !trimmed.contains(char::is_whitespace) {
        return None;
    }
    let at = if trimmed.contains('@') {
        trimmed.to_string()
    } else {
        trimmed.replacen(" at ", "@", 1)
    };
    let joined: String = at.split_whitespace().collect();
    let valid = cast(ValueKind::Email, &joined).is_ok();
    valid.then_some(joined)
}

/// A name that starts like a formula ("=José"), without that start.
fn name(value: &str) -> Option<String> {
    let rest = value
        .trim()
        .trim_start_matches(['=', '+', '-', '@'])
        .trim_start();
    (rest.len() < value.trim().len() && !rest.is_empty())
        .then(|| rest.to_string())
        .filter(|rest| cast(ValueKind::Name, rest).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dictionary::FileKind;

    fn fix(code: IssueCode, column: &'static str, value: &str) -> Option<(String, bool)> {
        let finding = Finding::in_cell(code, FileKind::Users, 2, column, value);
        suggested_fix(&finding).map(|f| (f.value, f.from_value))
    }

    /// (code, column, value, fix and whether it is made from the value)
    type Case<'a> = (IssueCode, &'a str, &'a str, Option<(&'a str, bool)>);

    #[test]
    fn table() {
        use IssueCode::*;
        let cases: &[Case] = &[
            (InvalidRole, "userRole", "pupil", Some(("student", false))),
            (
                InvalidRole,
                "userRole",
                "Students",
                Some(("student", false)),
            ),
            (
                InvalidRole,
                "userRole",
                "Teacher (primary)",
                Some(("teacher", false)),
            ),
            (InvalidRole, "userRole", "teacher/student", None),
            (InvalidRole, "userRole", "janitor", None),
            (InvalidGrade, "userGrade", "Grade 5", Some(("05", false))),
            (InvalidGrade, "userGrade", "5th", Some(("05", false))),
            (InvalidGrade, "classGrade", "Gr. 10", Some(("10", false))),
            (InvalidGrade, "userGrade", "Grade K", Some(("KG", false))),
            (
                InvalidGrade,
                "userGrade",
                "Kindergarten",
                Some(("KG", false)),
            ),
            (InvalidGrade, "userGrade", "Pre-K", Some(("PK", false))),
            (InvalidGrade, "userGrade", "Grade 14", None),
            (InvalidGrade, "userGrade", "senior", None),
            (
                InvalidEmail,
                "userEmail",
                "ann lee@x.org",
                Some(("annlee@x.org", true)),
            ),
            (
                InvalidEmail,
                "userEmail",
                "ann at x.org",
                Some(("ann@x.org", true)),
            ),
            (InvalidEmail, "userEmail", "not-an-email", None),
            (InvalidName, "userFirstName", "=José", Some(("José", true))),
            (InvalidName, "userFirstName", "=", None),
            (MissingValue, "userLastName", "", None),
        ];
        for (code, column, value, expected) in cases {
            let expected = expected.map(|(v, from)| (v.to_string(), from));
            assert_eq!(fix(*code, column, value), expected, "{code:?} {value:?}");
        }
    }

    #[test]
    fn a_report_carries_only_fixes_that_repeat_no_value() {
        let grade = Finding::in_cell(
            IssueCode::InvalidGrade,
            FileKind::Users,
            2,
            "userGrade",
            "Grade 5",
        );
        assert_eq!(report_fix(&grade).as_deref(), Some("05"));
        let email = Finding::in_cell(
            IssueCode::InvalidEmail,
            FileKind::Users,
            2,
            "userEmail",
            "a b@x.org",
        );
        assert!(suggested_fix(&email).is_some());
        assert_eq!(report_fix(&email), None);
    }

    #[test]
    fn header_fixes_name_the_known_column() {
        let unknown = Finding::new(IssueCode::UnknownHeader, FileKind::Users).in_column("usrRole");
        assert_eq!(
            suggested_fix(&unknown),
            Some(SuggestedFix {
                value: "userRole".into(),
                from_value: false
            })
        );
        let shoe = Finding::new(IssueCode::UnknownHeader, FileKind::Users).in_column("shoeSize");
        assert_eq!(suggested_fix(&shoe), None);
        let case = Finding::new(IssueCode::HeaderWrongCase, FileKind::Users)
            .in_column("userid")
            .with_detail("userId");
        assert_eq!(suggested_fix(&case).unwrap().value, "userId");
    }
}
