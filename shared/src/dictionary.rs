//! The data dictionary, as data: one table of column specs per file, the
//! contract's limits (`LIMITS`) and its value sets (roles, actions, grades,
//! ...). The validator, the generated data dictionary page, the CSV
//! templates, the issue messages, the server and the browser app all read
//! them here; no column rule or limit is restated elsewhere.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// The contract's limits. The casts (`cells`), the issue messages
/// (`{max}` in `codes`), the columns' accepted values (`{max}` in
/// `ColumnSpec::values`), the server's checks and the browser app's pages
/// read them here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// An identifier (`schoolId`, `userId`, `classId`, `userDistrictId`,
    /// `userStateId`) is 1 to this many characters of `A-Z a-z 0-9 - _ .`.
    pub identifier_chars: usize,
    /// A first or last name is 1 to this many characters.
    pub name_chars: usize,
    /// An email address is at most this many characters.
    pub email_chars: usize,
    /// A `className` is 1 to this many characters, a `classDisplayName` at
    /// most this many.
    pub class_text_chars: usize,
    /// A school's name (the server's organizations) is 1 to this many
    /// characters.
    pub school_name_chars: usize,
    /// A class with more distinct students than this gets `class-size`.
    pub students_per_class: u32,
}

/// The limits of the contract (v1).
pub const LIMITS: Limits = Limits {
    identifier_chars: 64,
    name_chars: 100,
    email_chars: 254,
    class_text_chars: 200,
    school_name_chars: 200,
    students_per_class: 80,
};

/// The two files of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FileKind {
    /// `users.csv`: one row per user per class.
    #[serde(rename = "users.csv")]
    Users,
    /// `demographics.csv`: one row per student.
    #[serde(rename = "demographics.csv")]
    Demographics,
}

impl FileKind {
    /// `users.csv` or `demographics.csv`.
    pub fn file_name(self) -> &'static str {
        match self {
            FileKind::Users => "users.csv",
            FileKind::Demographics => "demographics.csv",
        }
    }

    /// Name of the errors report made for this file.
    pub fn errors_file_name(self) -> &'static str {
        match self {
            FileKind::Users => "users-errors.csv",
            FileKind::Demographics => "demographics-errors.csv",
        }
    }

    pub(crate) fn columns(self) -> &'static [ColumnSpec] {
        match self {
            FileKind::Users => USERS_COLUMNS,
            FileKind::Demographics => DEMOGRAPHICS_COLUMNS,
        }
    }

    /// The column spec for a header name, exactly as written.
    pub(crate) fn column(self, name: &str) -> Option<&'static ColumnSpec> {
        self.columns().iter().find(|c| c.name == name)
    }
}

/// Whether a header must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Presence {
    Required,
    Optional,
    /// Part of the class group: all of classId, className, classGrade must be
    /// present as soon as any class column is.
    Conditional,
}

/// What a cell holds; each kind has one cast-and-normalize rule in `cells`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// The `action` column's words (`dictionary::ACTIONS`).
    Action,
    /// An identifier: `LIMITS.identifier_chars` characters of `A-Z a-z 0-9 - _ .` at most.
    Identifier,
    /// A role (`records::Role`).
    Role,
    /// A person's name: 1-100 characters, no control characters, no formula prefix.
    Name,
    /// An email address (HTML's `<input type=email>`), at most `LIMITS.email_chars`.
    Email,
    /// A grade code, or one of its aliases.
    Grade,
    /// Free text up to `max` characters.
    Text {
        /// The most characters.
        max: usize,
    },
    /// TRUE or FALSE, or another spelling of them.
    Boolean,
    /// A calendar day, `YYYY-MM-DD` or `M/D/YYYY`.
    Date,
    /// A value of `sex`, or one of its aliases.
    Sex,
    /// A value of `freeReducedLunch`.
    FreeReducedLunch,
    /// An ISO 639 language code.
    Language,
}

impl ValueKind {
    /// The most characters a value of this kind has, if the contract
    /// limits it (`LIMITS`).
    pub(crate) fn max_chars(self) -> Option<usize> {
        match self {
            ValueKind::Identifier => Some(LIMITS.identifier_chars),
            ValueKind::Name => Some(LIMITS.name_chars),
            ValueKind::Email => Some(LIMITS.email_chars),
            ValueKind::Text { max } => Some(max),
            _ => None,
        }
    }

    /// The canonical words of a kind that is a list of words (roles,
    /// actions, free or reduced lunch); empty for the others.
    pub(crate) fn words(self) -> &'static [&'static str] {
        match self {
            ValueKind::Role => ROLES,
            ValueKind::Action => ACTIONS,
            ValueKind::FreeReducedLunch => FREE_REDUCED_LUNCH_VALUES,
            _ => &[],
        }
    }
}

/// Every column of both files, so code can name a column without strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Field {
    Action,
    SchoolId,
    UserId,
    UserRole,
    UserFirstName,
    UserLastName,
    UserEmail,
    UserGrade,
    UserDistrictId,
    UserStateId,
    ClassId,
    ClassName,
    ClassGrade,
    ClassDisplayName,
    IsPrimaryTeacher,
    // demographics.csv (its userId is `UserId` too)
    BirthDate,
    Sex,
    AmericanIndianOrAlaskaNative,
    Asian,
    BlackOrAfricanAmerican,
    NativeHawaiianOrOtherPacificIslander,
    White,
    DemographicRaceTwoOrMoreRaces,
    HispanicOrLatinoEthnicity,
    EnglishLanguageLearner,
    Iep,
    Section504,
    GiftedTalented,
    Migrant,
    Homeless,
    FreeReducedLunch,
    HomeLanguage,
}

/// Number of `Field`s (`HomeLanguage` is the last variant).
pub(crate) const FIELD_COUNT: usize = Field::HomeLanguage as usize + 1;

/// One column of a file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnSpec {
    pub(crate) field: Field,
    /// The exact, case-sensitive header.
    pub(crate) name: &'static str,
    pub(crate) presence: Presence,
    /// Whether a row must have a value (beyond the conditional rules that
    /// `users` applies: grade for students, class columns with a classId).
    pub(crate) value_required: bool,
    pub(crate) kind: ValueKind,
    /// The accepted values, for people, as a template: `{max}` is the
    /// kind's `max_chars`, `{list}` its `words` (`values` fills them in).
    pub values_template: &'static str,
    pub description: &'static str,
    pub example: &'static str,
}

impl ColumnSpec {
    /// The accepted values, for people: `values_template` with the kind's
    /// limit and words filled in.
    pub(crate) fn values(&self) -> String {
        let kind = self.kind;
        fill_template(self.values_template, |name| match name {
            "max" => kind.max_chars().map(|max| max.to_string().into()),
            "list" => Some(list(kind.words()).into()),
            _ => None,
        })
    }
}

/// Fills a template in one pass: each `{name}` is replaced by `fill(name)`,
/// and kept as written where that is `None`. (Text put in is not read
/// again: a header named `{detail}` stays `{detail}`.)
pub(crate) fn fill_template<'t>(
    template: &str,
    fill: impl Fn(&str) -> Option<Cow<'t, str>>,
) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let (before, from_brace) = rest.split_at(open);
        out.push_str(before);
        let filled = from_brace
            .find('}')
            .and_then(|close| Some((close, fill(&from_brace[1..close])?)));
        match filled {
            Some((close, value)) => {
                out.push_str(&value);
                rest = &from_brace[close + 1..];
            }
            None => {
                out.push('{');
                rest = &from_brace[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `a, b, c`
pub(crate) fn list(words: &[&str]) -> String {
    words.join(", ")
}

/// `a, b or c`
pub(crate) fn either(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [only] => (*only).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

// One argument per table column: the tables below read as rows.
#[allow(clippy::too_many_arguments)]
const fn column(
    field: Field,
    name: &'static str,
    presence: Presence,
    value_required: bool,
    kind: ValueKind,
    values_template: &'static str,
    description: &'static str,
    example: &'static str,
) -> ColumnSpec {
    ColumnSpec {
        field,
        name,
        presence,
        value_required,
        kind,
        values_template,
        description,
        example,
    }
}

use Presence::{Conditional, Optional, Required};

const ID_VALUES: &str =
    "1 to {max} characters of A-Z a-z 0-9 - _ . (case-sensitive; leading zeros count)";
const NAME_VALUES: &str =
    "1 to {max} characters; no control characters; must not start with =, +, - or @";
/// `className` and `classDisplayName`.
const CLASS_TEXT: ValueKind = ValueKind::Text {
    max: LIMITS.class_text_chars,
};
const BOOLEAN_VALUES: &str = "TRUE or FALSE (also Y/N, yes/no, 1/0); blank clears";

pub(crate) const USERS_COLUMNS: &[ColumnSpec] = &[
    column(Field::Action, "action", Optional, false, ValueKind::Action,
        "blank, {list}",
        "Blank creates or updates the row's user, class and enrollment. REMOVE-ENROLLMENT ends this user's enrollment in the class; REMOVE-CLASS deactivates the class and ends all its enrollments; DEACTIVATE-USER deactivates the user and ends their enrollments. Removals are soft and undone by a later plain row.",
        ""),
    column(Field::SchoolId, "schoolId", Required, true, ValueKind::Identifier, ID_VALUES,
        "The school's ID as registered under Organizations for your district.",
        "0042"),
    column(Field::UserId, "userId", Required, true, ValueKind::Identifier, ID_VALUES,
        "The user's ID from your SIS, unique in the district; the key of the user.",
        "000123"),
    column(Field::UserRole, "userRole", Required, true, ValueKind::Role,
        "{list}",
        "Teachers and administrators are staff.",
        "student"),
    column(Field::UserFirstName, "userFirstName", Required, true, ValueKind::Name, NAME_VALUES,
        "The user's first name.",
        "José"),
    column(Field::UserLastName, "userLastName", Required, true, ValueKind::Name, NAME_VALUES,
        "The user's last name.",
        "García"),
    column(Field::UserEmail, "userEmail", Required, true, ValueKind::Email,
        "an email address, at most {max} characters",
        "Unique per user in the district; compared case-insensitively and stored in lower case.",
        "jose.garcia@students.example.org"),
    column(Field::UserGrade, "userGrade", Required, false, ValueKind::Grade,
        "IT PR PK TK KG 01-12 13 PS UG Other (K and 1-9 accepted)",
        "The student's grade; required for students, ignored with a warning for staff.",
        "05"),
    column(Field::UserDistrictId, "userDistrictId", Optional, false, ValueKind::Identifier, ID_VALUES,
        "A secondary ID, unique among users if given.",
        "D-77881"),
    column(Field::UserStateId, "userStateId", Optional, false, ValueKind::Identifier, ID_VALUES,
        "The state's ID for the user, unique among users if given.",
        "1002003004"),
    column(Field::ClassId, "classId", Conditional, false, ValueKind::Identifier, ID_VALUES,
        "The class's ID; blank for a row with a user only (typical for administrators).",
        "MATH-5A"),
    column(Field::ClassName, "className", Conditional, false, CLASS_TEXT,
        "1 to {max} characters",
        "The class's name; required when classId is set.",
        "Math 5, period 2"),
    column(Field::ClassGrade, "classGrade", Conditional, false, ValueKind::Grade,
        "one grade code (K and 1-9 accepted)",
        "The class's grade; required when classId is set.",
        "05"),
    column(Field::ClassDisplayName, "classDisplayName", Optional, false, CLASS_TEXT,
        "at most {max} characters",
        "The name shown to students; blank leaves it unchanged.",
        "Math with Ms. Lee"),
    column(Field::IsPrimaryTeacher, "isPrimaryTeacher", Optional, false, ValueKind::Boolean,
        "TRUE or FALSE (also Y/N, yes/no, 1/0), blank",
        "TRUE marks the class's primary teacher; only on teacher rows with a class, at most one per class.",
        ""),
];

pub(crate) const DEMOGRAPHICS_COLUMNS: &[ColumnSpec] = &[
    column(
        Field::UserId,
        "userId",
        Required,
        true,
        ValueKind::Identifier,
        ID_VALUES,
        "The student's userId, as in users.csv; one row per student.",
        "000123",
    ),
    column(
        Field::BirthDate,
        "birthDate",
        Optional,
        false,
        ValueKind::Date,
        "YYYY-MM-DD (also M/D/YYYY)",
        "Date of birth.",
        "2014-09-02",
    ),
    column(
        Field::Sex,
        "sex",
        Optional,
        false,
        ValueKind::Sex,
        "male, female, other, unspecified (also M, F, X)",
        "Sex as recorded in the SIS.",
        "female",
    ),
    column(
        Field::AmericanIndianOrAlaskaNative,
        "americanIndianOrAlaskaNative",
        Optional,
        false,
        ValueKind::Boolean,
        BOOLEAN_VALUES,
        "Race: American Indian or Alaska Native.",
        "FALSE",
    ),
    column(
        Field::Asian,
        "asian",
        Optional,
        false,
        ValueKind::Boolean,
        BOOLEAN_VALUES,
        "Race: Asian.",
        "FALSE",
    ),
    column(
        Field::BlackOrAfricanAmerican,
        "blackOrAfricanAmerican",
        Optional,
        false,
        ValueKind::Boolean,
        BOOLEAN_VALUES,
        "Race: Black or African American.",
        "FALSE",
    ),
    column(
        Field::NativeHawaiianOrOtherPacificIslander,
        "nativeHawaiianOrOtherPacificIslander",
        Optional,
        false,
        ValueKind::Boolean,
        BOOLEAN_VALUES,
        "Race: Native Hawaiian or Other Pacific Islander.",
        "FALSE",
    ),
    column(
        Field::White,
        "white",
        Optional,
        false,
        ValueKind::Boolean,
        BOOLEAN_VALUES,
        "Race: White.",
        "TRUE",
    ),
    column(
        Field::DemographicRaceTwoOrMoreRaces,
        "demographicRaceTwoOrMoreRaces",
        Optional,
        false,
        ValueKind::Boolean,
        BOOLEAN_VALUES,
        "Two or more races.",
        "FALSE",
    ),
    column(
        Field::HispanicOrLatinoEthnicity,
        "hispanicOrLatinoEthnicity",
        Optional,
        false,
        ValueKind::Boolean,
        BOOLEAN_VALUES,
        "Ethnicity: Hispanic or Latino.",
        "TRUE",
    ),
    column(
        Field::EnglishLanguageLearner,
        "englishLanguageLearner",
        Optional,
        false,
        ValueKind::Boolean,
        BOOLEAN_VALUES,
        "English language learner.",
        "FALSE",
    ),
    column(
        Field::Iep,
        "iep",
        Optional,
        false,
        ValueKind::Boolean,
        BOOLEAN_VALUES,
        "Has an individualized education program.",
        "FALSE",
    ),
    column(
        Field::Section504,
        "section504",
        Optional,
        false,
        ValueKind::Boolean,
        BOOLEAN_VALUES,
        "Has a Section 504 plan.",
        "FALSE",
    ),
    column(
        Field::GiftedTalented,
        "giftedTalented",
        Optional,
        false,
        ValueKind::Boolean,
        BOOLEAN_VALUES,
        "In a gifted and talented program.",
        "FALSE",
    ),
    column(
        Field::Migrant,
        "migrant",
        Optional,
        false,
        ValueKind::Boolean,
        BOOLEAN_VALUES,
        "Migrant status.",
        "FALSE",
    ),
    column(
        Field::Homeless,
        "homeless",
        Optional,
        false,
        ValueKind::Boolean,
        BOOLEAN_VALUES,
        "Homeless status.",
        "FALSE",
    ),
    column(
        Field::FreeReducedLunch,
        "freeReducedLunch",
        Optional,
        false,
        ValueKind::FreeReducedLunch,
        "{list}",
        "Free or reduced-price lunch status.",
        "paid",
    ),
    column(
        Field::HomeLanguage,
        "homeLanguage",
        Optional,
        false,
        ValueKind::Language,
        "an ISO 639 code: two letters (639-1, such as en, es) or three (639-2/3, such as spa)",
        "The language spoken at home.",
        "es",
    ),
];

/// The class group of users.csv: if any of these headers is present, the
/// conditional ones must all be.
pub(crate) const CLASS_GROUP: &[Field] = &[
    Field::ClassId,
    Field::ClassName,
    Field::ClassGrade,
    Field::ClassDisplayName,
    Field::IsPrimaryTeacher,
];

/// Canonical grade codes, in school order.
pub const GRADES: &[&str] = &[
    "IT", "PR", "PK", "TK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11",
    "12", "13", "PS", "UG", "Other",
];

/// Accepted spellings that map to a canonical grade.
pub(crate) const GRADE_ALIASES: &[(&str, &str)] = &[
    ("K", "KG"),
    ("1", "01"),
    ("2", "02"),
    ("3", "03"),
    ("4", "04"),
    ("5", "05"),
    ("6", "06"),
    ("7", "07"),
    ("8", "08"),
    ("9", "09"),
];

/// Spellings of a yes/no value: (accepted word, canonical value).
pub(crate) const BOOLEAN_WORDS: &[(&str, bool)] = &[
    ("TRUE", true),
    ("FALSE", false),
    ("Y", true),
    ("N", false),
    ("YES", true),
    ("NO", false),
    ("1", true),
    ("0", false),
];

/// Values of `sex` and their aliases, canonical value first.
pub(crate) const SEX_VALUES: &[(&str, &str)] = &[
    ("male", "male"),
    ("female", "female"),
    ("other", "other"),
    ("unspecified", "unspecified"),
    ("M", "male"),
    ("F", "female"),
    ("X", "other"),
];

pub(crate) const FREE_REDUCED_LUNCH_VALUES: &[&str] = &["free", "reduced", "paid", "other"];

/// ISO 639-1 two-letter language codes.
pub(crate) const ISO_639_1: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh",
    "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da",
    "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr",
    "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz",
    "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj",
    "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln",
    "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb",
    "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi",
    "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
    "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti",
    "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo",
    "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// Roles of users.csv: the words of `records::Role`, in the order of its
/// variants.
pub(crate) const ROLES: &[&str] = &["student", "teacher", "administrator"];

/// Values of the `action` column (blank is the default: create or
/// update): the words of `records::Action`, in the order of its variants.
pub(crate) const ACTIONS: &[&str] = &["REMOVE-ENROLLMENT", "REMOVE-CLASS", "DEACTIVATE-USER"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_unique_per_file() {
        for file in [FileKind::Users, FileKind::Demographics] {
            let mut names: Vec<_> = file.columns().iter().map(|c| c.name).collect();
            names.sort();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "{file:?} repeats a header");
        }
    }

    #[test]
    fn every_class_group_field_is_a_users_column() {
        for field in CLASS_GROUP {
            assert!(USERS_COLUMNS.iter().any(|c| c.field == *field), "{field:?}");
        }
    }

    #[test]
    fn templates_fill_in_one_pass() {
        let fill = |name: &str| match name {
            "a" => Some(Cow::Borrowed("{b}")),
            "b" => Some(Cow::Borrowed("B")),
            _ => None,
        };
        assert_eq!(
            fill_template("{a}, {b}, {c}, {, }{", fill),
            "{b}, B, {c}, {, }{"
        );
        assert_eq!(either(&["x", "y", "z"]), "x, y or z");
        assert_eq!(either(&["x"]), "x");
        assert_eq!(list(&["x", "y"]), "x, y");
    }

    #[test]
    fn column_values_name_their_limits_and_words() {
        let values = |file: FileKind, name: &str| file.column(name).unwrap().values();
        assert_eq!(
            values(FileKind::Users, "userId"),
            "1 to 64 characters of A-Z a-z 0-9 - _ . (case-sensitive; leading zeros count)"
        );
        assert_eq!(
            values(FileKind::Users, "userRole"),
            "student, teacher, administrator"
        );
        assert_eq!(
            values(FileKind::Users, "action"),
            "blank, REMOVE-ENROLLMENT, REMOVE-CLASS, DEACTIVATE-USER"
        );
        assert_eq!(values(FileKind::Users, "className"), "1 to 200 characters");
        for file in [FileKind::Users, FileKind::Demographics] {
            for column in file.columns() {
                assert!(!column.values().contains('{'), "{}", column.name);
            }
        }
    }

    #[test]
    fn grade_aliases_point_at_grades() {
        for (_, canonical) in GRADE_ALIASES {
            assert!(GRADES.contains(canonical));
        }
    }
}
