//! Issue codes are data: one enum of stable kebab-case codes and one metadata
//! table (severity, scope, title, message template, how to fix). A finding is
//! an occurrence of a code; its text is rendered from this table.

use serde::{Deserialize, Serialize};

use crate::dictionary::{either, fill_template, list, ACTIONS, LIMITS, ROLES};

/// How bad a finding is. Errors exclude the row (header and file errors
/// exclude the file); warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The row (or file) is held back.
    Error,
    /// Reported; the row is kept.
    Warning,
}

impl Severity {
    /// `error` or `warning`, as in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Which pass of the validator raises a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// The file as a whole (encoding, syntax, emptiness).
    File,
    /// The header row.
    Header,
    /// One row, its cells and the rules between them.
    Row,
    /// Rows of one file together, or the two files.
    AcrossRows,
    /// The server, against the district's stored roster.
    StoredData,
}

/// Everything the product says about one code.
#[derive(Debug, Clone, Copy)]
pub struct CodeInfo {
    /// The stable kebab-case code.
    pub code: &'static str,
    /// Whether it is an error or a warning: every finding of the code has it.
    pub severity: Severity,
    /// The pass that raises it.
    pub scope: Scope,
    /// A short title, for people.
    pub title: &'static str,
    /// Message template; `{column}` and `{detail}` are filled from the
    /// finding, `{max}`, `{values}` and `{list}` from `max` and `values`
    /// (see `render`).
    pub message: &'static str,
    /// How to fix it, a template as `message` is.
    pub how_to_fix: &'static str,
    /// The limit the code is about (`dictionary::LIMITS`), for `{max}`.
    pub max: Option<usize>,
    /// The words the code is about (a value set of the dictionary), for
    /// `{values}` (`a, b or c`) and `{list}` (`a, b, c`).
    pub values: &'static [&'static str],
}

impl CodeInfo {
    /// One of this code's templates (`message`, `how_to_fix`) with
    /// `{column}` and `{detail}` filled as given, and `{max}`, `{values}`
    /// and `{list}` from the code's data.
    pub(crate) fn render(&self, template: &str, column: &str, detail: &str) -> String {
        fill_template(template, |name| match name {
            "column" => Some(column.into()),
            "detail" => Some(detail.into()),
            "max" => self.max.map(|max| max.to_string().into()),
            "values" => Some(either(self.values).into()),
            "list" => Some(list(self.values).into()),
            _ => None,
        })
    }
}

macro_rules! issue_codes {
    (@max) => { None };
    (@max $max:expr) => { Some($max) };
    (@values) => { &[] };
    (@values $values:expr) => { $values };
    ($( $variant:ident = $code:literal, $severity:ident, $scope:ident,
        title: $title:literal, message: $message:literal, fix: $fix:literal
        $(, max: $max:expr)? $(, values: $values:expr)?; )*) => {
        /// Stable identifiers of everything the validator can report.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum IssueCode {
            $( #[doc = $title] #[serde(rename = $code)] $variant, )*
        }

        impl IssueCode {
            /// Every code, in the order of the table.
            pub const ALL: &'static [IssueCode] = &[ $( IssueCode::$variant, )* ];

            /// The code's row of the table.
            pub fn info(self) -> &'static CodeInfo {
                match self {
                    $( IssueCode::$variant => &CodeInfo {
                        code: $code,
                        severity: Severity::$severity,
                        scope: Scope::$scope,
                        title: $title,
                        message: $message,
                        how_to_fix: $fix,
                        max: issue_codes!(@max $($max)?),
                        values: issue_codes!(@values $($values)?),
                    }, )*
                }
            }
        }
    };
}

issue_codes! {
    // File level
    MalformedCsv = "malformed-csv", Error, File,
        title: "Malformed CSV",
        message: "The file is not valid CSV: {detail}.",
        fix: "Close the quoted value that begins on that line, or save the file again as CSV from your spreadsheet or SIS.";
    WrongDelimiter = "wrong-delimiter", Error, File,
        title: "Wrong delimiter",
        message: "The file is separated by {detail}, not by commas.",
        fix: "Save the file as \"CSV (Comma delimited)\"; semicolon- and tab-separated exports are not accepted.";
    EncodingWindows1252 = "encoding-windows-1252", Warning, File,
        title: "Not UTF-8",
        message: "{detail} not valid UTF-8 and read as Windows-1252.",
        fix: "Check the accented names in those rows; save the file as \"CSV UTF-8\" to be sure they are read as intended.";
    EmptyFile = "empty-file", Error, File,
        title: "Empty file",
        message: "The file has {detail}.",
        fix: "Export the roster again with a header row and at least one data row.";
    DemographicsWithoutUsers = "demographics-without-users", Error, File,
        title: "demographics.csv without users.csv",
        message: "A demographics.csv was given without a users.csv.",
        fix: "Upload demographics.csv together with the users.csv of the same students.";

    // Header
    MissingHeader = "missing-header", Error, Header,
        title: "Missing header",
        message: "The required column {column} is missing.",
        fix: "Add a column with the exact header {column}.";
    UnknownHeader = "unknown-header", Error, Header,
        title: "Unknown header",
        message: "The column {column} is not part of this file.{detail}",
        fix: "Rename the column to one of the headers in the data dictionary, or delete it.";
    HeaderWrongCase = "header-wrong-case", Error, Header,
        title: "Header in the wrong case",
        message: "The header {column} must be written exactly as {detail}.",
        fix: "Rename the column to {detail}; headers are case-sensitive.";
    DuplicateHeader = "duplicate-header", Error, Header,
        title: "Duplicate header",
        message: "The column {column} appears more than once.",
        fix: "Keep one column named {column} and delete the others.";
    BlankHeader = "blank-header", Error, Header,
        title: "Blank header",
        message: "Column {detail} has no header.",
        fix: "Give the column a header from the data dictionary, or delete it (check for stray commas at the end of the header row).";
    MissingConditionalHeader = "missing-conditional-header", Error, Header,
        title: "Incomplete class columns",
        message: "The column {column} is required because the file has class columns ({detail}).",
        fix: "Add the columns classId, className and classGrade, or remove all class columns for a file without classes.";

    // Row and cell
    MissingValue = "missing-value", Error, Row,
        title: "Missing value",
        message: "{column} is required{detail}.",
        fix: "Fill in {column}.";
    ExtraCell = "extra-cell", Error, Row,
        title: "Extra cells",
        message: "The row has {detail}.",
        fix: "Delete the extra cells (often stray commas at the end of the row), or quote values that contain commas.";
    MissingCell = "missing-cell", Error, Row,
        title: "Missing cells",
        message: "The row has {detail}.",
        fix: "Give the row one cell per header; quote values that contain commas or line breaks.";
    InvalidId = "invalid-id", Error, Row,
        title: "Invalid identifier",
        message: "{column} must be 1 to {max} characters of A-Z, a-z, 0-9, '-', '_' or '.'.",
        fix: "Use the identifier exactly as your SIS has it, without spaces or other characters.",
        max: LIMITS.identifier_chars;
    ExcelScientificNotation = "excel-scientific-notation", Error, Row,
        title: "Identifier damaged by a spreadsheet",
        message: "{column} looks like a number that a spreadsheet turned into scientific notation.",
        fix: "Export the file again from your SIS; in a spreadsheet, format the column as Text before pasting or opening.";
    InvalidRole = "invalid-role", Error, Row,
        title: "Invalid role",
        message: "{column} must be {values}.",
        fix: "Use one of {list}.",
        values: ROLES;
    InvalidName = "invalid-name", Error, Row,
        title: "Invalid name",
        message: "{column} {detail}.",
        fix: "Give a name of 1 to {max} characters without control characters that does not start with =, +, - or @.",
        max: LIMITS.name_chars;
    InvalidEmail = "invalid-email", Error, Row,
        title: "Invalid email",
        message: "{column} is not a valid email address{detail}.",
        fix: "Give one address like name@school.org, at most {max} characters.",
        max: LIMITS.email_chars;
    InvalidGrade = "invalid-grade", Error, Row,
        title: "Invalid grade",
        message: "{column} is not a grade code.",
        fix: "Use one of IT, PR, PK, TK, KG, 01-12, 13, PS, UG, Other (K and 1-9 are accepted too).";
    GradeIgnoredForStaff = "grade-ignored-for-staff", Warning, Row,
        title: "Grade ignored for staff",
        message: "{column} is ignored for teachers and administrators.",
        fix: "Leave userGrade blank for staff.";
    InvalidBoolean = "invalid-boolean", Error, Row,
        title: "Invalid yes/no value",
        message: "{column} must be TRUE or FALSE.",
        fix: "Use TRUE or FALSE (Y/N, yes/no and 1/0 are accepted too), or leave it blank.";
    PrimaryTeacherNotTeacher = "primary-teacher-not-teacher", Error, Row,
        title: "Primary teacher on the wrong row",
        message: "{column} can be TRUE only on a teacher's row with a class{detail}.",
        fix: "Set isPrimaryTeacher only on rows of teachers with a classId; leave it blank or FALSE elsewhere.";
    InvalidAction = "invalid-action", Error, Row,
        title: "Invalid action",
        message: "{column} must be blank, {values}.",
        fix: "Leave action blank to create or update, or use one of the three actions.",
        values: ACTIONS;
    ActionNeedsClass = "action-needs-class", Error, Row,
        title: "Action needs a class",
        message: "The action {detail} needs a classId on the same row.",
        fix: "Fill in classId, className and classGrade of the class concerned.";
    InvalidDate = "invalid-date", Error, Row,
        title: "Invalid date",
        message: "{column} is not a date.",
        fix: "Write the date as YYYY-MM-DD (M/D/YYYY is accepted too).";
    InvalidValue = "invalid-value", Error, Row,
        title: "Invalid value",
        message: "{column} {detail}.",
        fix: "See the data dictionary for the values {column} accepts.";
    BlankRow = "blank-row", Warning, Row,
        title: "Blank row",
        message: "The row is blank and was skipped.",
        fix: "Delete blank rows.";
    UnknownSchool = "unknown-school", Error, StoredData,
        title: "Unknown school",
        message: "{column} is not a school of your district.",
        fix: "Use the school ID registered for the school under Organizations, or add the school first.";

    // Across rows
    UserConflict = "user-conflict", Error, AcrossRows,
        title: "Rows of one user disagree",
        message: "The rows of this userId disagree on {detail}.",
        fix: "Give every row of the user the same role, names, email, grade and secondary IDs.";
    ClassConflict = "class-conflict", Error, AcrossRows,
        title: "Rows of one class disagree",
        message: "The rows of this classId disagree on {detail}.",
        fix: "Give every row of the class the same schoolId, className, classGrade and classDisplayName.";
    DuplicateEmail = "duplicate-email", Error, AcrossRows,
        title: "Email used by two users",
        message: "This email is also used by another userId{detail}.",
        fix: "Give each user their own email, or use one userId if they are the same person.";
    DuplicateSecondaryId = "duplicate-secondary-id", Error, AcrossRows,
        title: "Secondary ID used by two users",
        message: "{column} is also given to another userId{detail}.",
        fix: "Give each user their own userDistrictId and userStateId, or leave them blank.";
    StudentMultipleSchools = "student-multiple-schools", Error, AcrossRows,
        title: "Student in several schools",
        message: "A student may belong to one school only; this one appears with {detail}.",
        fix: "Keep the student's rows under one schoolId.";
    DuplicateRow = "duplicate-row", Warning, AcrossRows,
        title: "Duplicate row",
        message: "This row repeats row {detail}.",
        fix: "Delete the repeated row.";
    ConflictingEnrollment = "conflicting-enrollment", Error, AcrossRows,
        title: "Conflicting enrollment",
        message: "This user and class appear on several rows that differ (rows {detail}).",
        fix: "Keep one row per user and class.";
    PrimaryTeacherConflict = "primary-teacher-conflict", Error, AcrossRows,
        title: "Several primary teachers",
        message: "The class has more than one primary teacher (rows {detail}).",
        fix: "Set isPrimaryTeacher to TRUE for one teacher of the class only.";
    ClassSize = "class-size", Warning, AcrossRows,
        title: "Large class",
        message: "The class has {detail} students, more than {max}.",
        fix: "Check that the class is not several sections merged under one classId.",
        max: LIMITS.students_per_class as usize;
    ClassWithoutTeacher = "class-without-teacher", Warning, AcrossRows,
        title: "Class without a teacher",
        message: "The class has no teacher row.",
        fix: "Add a row for the class's teacher.";
    PossibleLeadingZeroLoss = "possible-leading-zero-loss", Warning, AcrossRows,
        title: "Leading zeros possibly lost",
        message: "{column} equals {detail} once leading zeros are removed.",
        fix: "A spreadsheet may have dropped leading zeros: export again from your SIS and keep identifiers as text.";
    DuplicateUser = "duplicate-user", Error, AcrossRows,
        title: "Student listed twice",
        message: "This userId already appears on row {detail}.",
        fix: "Keep one demographics row per student.";
    DemographicsUserNotInUsers = "demographics-user-not-in-users", Error, AcrossRows,
        title: "Student not in users.csv",
        message: "This userId is not in the accompanying users.csv.",
        fix: "Add the student to users.csv, or delete the row.";
    DemographicsUserNotStudent = "demographics-user-not-student", Error, AcrossRows,
        title: "Demographics for staff",
        message: "This userId is a {detail} in users.csv; demographics are for students only.",
        fix: "Delete the row, or correct the userId.";

    // Against stored data (server). No message names a stored value or
    // another record's key: the server answers whoever holds a credential.
    EmailInUse = "email-in-use", Error, StoredData,
        title: "Email in use",
        message: "This email belongs to another user of your district.",
        fix: "Give each user their own email, or use the existing user's userId.";
    RoleChange = "role-change", Error, StoredData,
        title: "Role change",
        message: "This userId is stored with another role; a role cannot change by upload.",
        fix: "Use a new userId for the new role, or ask support to change the role.";
    IdentifierCorrected = "identifier-corrected", Warning, StoredData,
        title: "Identifier corrected",
        message: "A stored user with this email, role and names had another userId; it is changed to this one.",
        fix: "Nothing to do if the SIS changed the ID; otherwise correct the userId in the file.";
    ClassSchoolMismatch = "class-school-mismatch", Error, StoredData,
        title: "Class in another school",
        message: "This classId is stored under another school.",
        fix: "Use the class's stored schoolId, or a new classId for a class in another school.";
    StoredLeadingZeros = "stored-leading-zeros", Error, StoredData,
        title: "Leading zeros differ from a stored ID",
        message: "This new {column} equals a stored {column} once leading zeros are removed.",
        fix: "A spreadsheet may have dropped or added leading zeros: export again from your SIS and keep identifiers as text, or use the stored ID.";
}

impl IssueCode {
    /// The kebab-case code, as in reports.
    pub fn as_str(self) -> &'static str {
        self.info().code
    }

    pub(crate) fn severity(self) -> Severity {
        self.info().severity
    }

    /// The code's message for a value in `column` (`{detail}` as given):
    /// for the server's checks of single values, outside a file.
    pub fn message(self, column: &str, detail: &str) -> String {
        let info = self.info();
        info.render(info.message, column, detail)
    }
}

impl std::fmt::Display for IssueCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A code by its kebab-case name.
    fn parse(code: &str) -> Option<IssueCode> {
        IssueCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }

    #[test]
    fn codes_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &code in IssueCode::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "duplicate code {name}");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{name} is not kebab-case"
            );
            assert_eq!(parse(name), Some(code));
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{name}\""));
        }
        assert_eq!(parse("no-such-code"), None);
    }

    /// Every placeholder of a template is one the code fills, and the
    /// limits and words come from the dictionary.
    #[test]
    fn templates_fill_every_placeholder() {
        for &code in IssueCode::ALL {
            let info = code.info();
            let templates = [info.message, info.how_to_fix];
            for template in templates {
                let rendered = info.render(template, "col", "det");
                assert!(!rendered.contains('{'), "{code}: {rendered}");
            }
            let uses = |name: &str| templates.iter().any(|t| t.contains(name));
            assert_eq!(uses("{max}"), info.max.is_some(), "{code}");
            let needs_values = uses("{values}") || uses("{list}");
            assert_eq!(needs_values, !info.values.is_empty(), "{code}");
        }
        // (code, column, detail, message)
        let cases = [
            (
                IssueCode::InvalidId,
                "schoolId",
                "",
                "schoolId must be 1 to 64 characters of A-Z, a-z, 0-9, '-', '_' or '.'.",
            ),
            (
                IssueCode::InvalidRole,
                "userRole",
                "",
                "userRole must be student, teacher or administrator.",
            ),
            (
                IssueCode::InvalidAction,
                "action",
                "",
                "action must be blank, REMOVE-ENROLLMENT, REMOVE-CLASS or DEACTIVATE-USER.",
            ),
            (
                IssueCode::ClassSize,
                "classId",
                "81",
                "The class has 81 students, more than 80.",
            ),
            // What is filled in is not read again.
            (
                IssueCode::DuplicateHeader,
                "{detail}",
                "x",
                "The column {detail} appears more than once.",
            ),
        ];
        for (code, column, detail, message) in cases {
            assert_eq!(code.message(column, detail), message);
        }
        let role = IssueCode::InvalidRole.info();
        assert_eq!(
            role.render(role.how_to_fix, "", ""),
            "Use one of student, teacher, administrator."
        );
    }

    #[test]
    fn spec_warnings_are_warnings() {
        let warnings: Vec<&str> = IssueCode::ALL
            .iter()
            .filter(|c| c.severity() == Severity::Warning)
            .map(|c| c.as_str())
            .collect();
        assert_eq!(
            warnings,
            [
                "encoding-windows-1252",
                "grade-ignored-for-staff",
                "blank-row",
                "duplicate-row",
                "class-size",
                "class-without-teacher",
                "possible-leading-zero-loss",
                "identifier-corrected",
            ]
        );
    }
}
