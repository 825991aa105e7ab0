//! Normalized records: what a clean upload contains, one entity per key, with
//! canonical values. This is all that leaves the browser.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::dictionary::{ACTIONS, DEMOGRAPHICS_COLUMNS, ROLES};

/// A user's role (`userRole`); its words are `dictionary::ROLES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// `student`
    Student,
    /// `teacher` (staff)
    Teacher,
    /// `administrator` (staff)
    Administrator,
}

impl Role {
    /// Every role, in the order of `dictionary::ROLES`, their words.
    pub const ALL: [Role; 3] = [Role::Student, Role::Teacher, Role::Administrator];

    /// The role of a canonical word (`dictionary::ROLES`).
    pub fn parse(canonical: &str) -> Option<Role> {
        let index = ROLES.iter().position(|word| *word == canonical)?;
        Role::ALL.get(index).copied()
    }

    /// The role's word in files and in JSON (`dictionary::ROLES`).
    pub fn as_str(self) -> &'static str {
        ROLES[self as usize]
    }

    /// Teachers and administrators are staff.
    pub(crate) fn is_staff(self) -> bool {
        self != Role::Student
    }
}

/// The `action` column (records carry what it does: `deactivate`, `remove`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Action {
    /// `REMOVE-ENROLLMENT`: end this user's enrollment in the class.
    RemoveEnrollment,
    /// `REMOVE-CLASS`: deactivate the class and end its enrollments.
    RemoveClass,
    /// `DEACTIVATE-USER`: deactivate the user and end their enrollments.
    DeactivateUser,
}

impl Action {
    /// Every action, in the order of `dictionary::ACTIONS`, their words.
    pub(crate) const ALL: [Action; 3] = [
        Action::RemoveEnrollment,
        Action::RemoveClass,
        Action::DeactivateUser,
    ];

    /// The action of a canonical word (`dictionary::ACTIONS`).
    pub(crate) fn parse(canonical: &str) -> Option<Action> {
        let index = ACTIONS.iter().position(|word| *word == canonical)?;
        Action::ALL.get(index).copied()
    }

    /// The action's word in files (`dictionary::ACTIONS`).
    pub(crate) fn as_str(self) -> &'static str {
        ACTIONS[self as usize]
    }

    /// REMOVE-ENROLLMENT and REMOVE-CLASS name a class.
    pub(crate) fn needs_class(self) -> bool {
        matches!(self, Action::RemoveEnrollment | Action::RemoveClass)
    }
}

/// A user: the canonical values of its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    /// Shared with the user's enrollments (identifiers are cloned, not copied).
    pub user_id: Arc<str>,
    /// `userRole`
    pub role: Role,
    /// `userFirstName`
    pub first_name: String,
    /// `userLastName`
    pub last_name: String,
    /// Lower case.
    pub email: String,
    /// Canonical grade code; always `None` for staff. Borrowed from the
    /// grade table when the validator makes it (no allocation).
    pub grade: Option<Cow<'static, str>>,
    /// `userDistrictId`, if given.
    pub district_id: Option<String>,
    /// `userStateId`, if given.
    pub state_id: Option<String>,
    /// The schools the user's rows name, in order of appearance.
    pub school_ids: Vec<String>,
    /// A `DEACTIVATE-USER` row: deactivate the user and end their enrollments.
    pub deactivate: bool,
}

/// A class: the canonical values of its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassRecord {
    /// `classId` (shared with the class's enrollments).
    pub class_id: Arc<str>,
    /// `schoolId`
    pub school_id: String,
    /// `className`
    pub name: String,
    /// Canonical grade code (see `UserRecord::grade`).
    pub grade: Cow<'static, str>,
    /// `None`: leave the stored display name unchanged.
    pub display_name: Option<String>,
    /// A `REMOVE-CLASS` row: deactivate the class and end its enrollments.
    pub remove: bool,
}

/// A user in a class: one per (userId, classId).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentRecord {
    /// `userId`
    pub user_id: Arc<str>,
    /// `classId`
    pub class_id: Arc<str>,
    /// `isPrimaryTeacher` as given; `None` when blank.
    pub primary_teacher: Option<bool>,
    /// A `REMOVE-ENROLLMENT` row: end this enrollment.
    pub remove: bool,
}

/// One student's demographics. A column absent from the file is absent from
/// `values` (change nothing); a blank cell is `None` (clear the stored value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemographicsRecord {
    /// `userId`: a student of the accompanying users.csv.
    pub user_id: String,
    /// Header name → canonical value.
    pub values: DemographicsValues,
}

/// One student's demographics values by column, in column-name order (the
/// JSON is an object of header name to value). Compact, since a district
/// has hundreds of thousands of them: a column is its index in the
/// dictionary, and the values are one text, so a record is three
/// allocations whatever its columns (it was one per column, 40 bytes each).
#[derive(Clone, Default)]
pub struct DemographicsValues {
    /// The file's columns in column-name order, each with its value's place
    /// in `text`, or blank.
    entries: Vec<ValueEntry>,
    /// The values, one after another.
    text: String,
}

#[derive(Debug, Clone, Copy)]
struct ValueEntry {
    /// The column's index in `DEMOGRAPHICS_COLUMNS`.
    column: u8,
    /// A blank cell (clear the stored value).
    blank: bool,
    start: u32,
    len: u32,
}

const _: () = assert!(DEMOGRAPHICS_COLUMNS.len() <= u8::MAX as usize);

/// The dictionary's index of a demographics column.
fn column_index(column: &str) -> Option<u8> {
    DEMOGRAPHICS_COLUMNS
        .iter()
        .position(|c| c.name == column)
        .map(|at| at as u8)
}

fn column_name(index: u8) -> &'static str {
    DEMOGRAPHICS_COLUMNS[index as usize].name
}

impl DemographicsValues {
    /// Room for `columns` values.
    pub fn with_capacity(columns: usize) -> Self {
        DemographicsValues {
            entries: Vec::with_capacity(columns),
            text: String::new(),
        }
    }

    fn position(&self, column: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|e| column_name(e.column).cmp(column))
    }

    fn value(&self, entry: &ValueEntry) -> Option<&str> {
        let start = entry.start as usize;
        (!entry.blank).then(|| &self.text[start..start + entry.len as usize])
    }

    /// The value of `column`: `None` when the file does not have it,
    /// `Some(None)` for a blank cell.
    pub fn get(&self, column: &str) -> Option<Option<&str>> {
        let at = self.position(column).ok()?;
        Some(self.value(&self.entries[at]))
    }

    /// Whether the file has `column`.
    pub fn contains_key(&self, column: &str) -> bool {
        self.position(column).is_ok()
    }

    /// Sets `column` (a demographics column of the dictionary; false for
    /// any other name, which is left out). Setting a column again leaves
    /// its old value unused in the text (a file has each column once).
    pub fn insert(&mut self, column: &str, value: Option<Cow<'_, str>>) -> bool {
        let Some(index) = column_index(column) else {
            return false;
        };
        let blank = value.is_none();
        let value = value.as_deref().unwrap_or("");
        let entry = ValueEntry {
            column: index,
            blank,
            start: self.text.len() as u32,
            len: value.len() as u32,
        };
        self.text.push_str(value);
        match self.position(column) {
            Ok(at) => self.entries[at] = entry,
            Err(at) => self.entries.insert(at, entry),
        }
        true
    }

    /// Gives back the room a record did not use, once its values are set.
    pub fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
        self.text.shrink_to_fit();
    }

    /// Each column the file has and its value.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Option<&str>)> + '_ {
        self.entries
            .iter()
            .map(|e| (column_name(e.column), self.value(e)))
    }

    /// How many columns.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No column.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl PartialEq for DemographicsValues {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for DemographicsValues {}

impl std::fmt::Debug for DemographicsValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for DemographicsValues {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for DemographicsValues {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, Option<String>>::deserialize(deserializer)?;
        let mut values = DemographicsValues::with_capacity(map.len());
        for (column, value) in map {
            if !values.insert(&column, value.map(Cow::Owned)) {
                return Err(serde::de::Error::custom(format!(
                    "{column} is not a demographics.csv column"
                )));
            }
        }
        values.shrink_to_fit();
        Ok(values)
    }
}

/// The clean content of an upload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Records {
    /// One per userId, in order of their first clean rows.
    pub users: Vec<UserRecord>,
    /// One per classId, in order of their first clean rows.
    pub classes: Vec<ClassRecord>,
    /// One per (userId, classId).
    pub enrollments: Vec<EnrollmentRecord>,
    /// One per student of demographics.csv.
    pub demographics: Vec<DemographicsRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of the dictionary are the variants', in files and (roles)
    /// in JSON.
    #[test]
    fn roles_and_actions_are_the_dictionary_words() {
        assert_eq!(Role::ALL.map(Role::as_str), ROLES);
        assert_eq!(Action::ALL.map(Action::as_str), ACTIONS);
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        assert_eq!(Role::parse("Student"), None, "canonical words only");
    }

    fn values(cells: &[(&str, Option<&str>)]) -> DemographicsValues {
        let mut values = DemographicsValues::with_capacity(cells.len());
        for (column, value) in cells {
            assert!(values.insert(column, value.map(Cow::Borrowed)), "{column}");
        }
        values.shrink_to_fit();
        values
    }

    #[test]
    fn demographics_values_keep_absent_blank_and_set_apart_in_column_name_order() {
        let v = values(&[
            ("sex", Some("female")),
            ("iep", None),
            ("birthDate", Some("")),
        ]);
        assert_eq!(v.get("sex"), Some(Some("female")));
        assert_eq!(v.get("iep"), Some(None), "blank: clear the stored value");
        assert_eq!(v.get("birthDate"), Some(Some("")));
        assert_eq!(v.get("homeLanguage"), None, "absent: change nothing");
        assert!(!v.contains_key("homeLanguage") && v.contains_key("iep"));
        let columns: Vec<_> = v.iter().map(|(c, _)| c).collect();
        assert_eq!(columns, ["birthDate", "iep", "sex"]);
        assert_eq!(v.len(), 3);
        // Another order, and a column set twice: the same values.
        let mut again = values(&[
            ("iep", Some("TRUE")),
            ("birthDate", Some("")),
            ("sex", Some("female")),
        ]);
        assert_ne!(again, v);
        again.insert("iep", None);
        assert_eq!(again, v);
        assert!(!again.insert("notAColumn", Some(Cow::Borrowed("x"))));
        assert_eq!(again.len(), 3);
    }

    #[test]
    fn demographics_values_read_back_their_json() {
        let v = values(&[
            ("white", Some("FALSE")),
            ("homeLanguage", Some("spa")),
            ("iep", None),
        ]);
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, r#"{"homeLanguage":"spa","iep":null,"white":"FALSE"}"#);
        assert_eq!(
            serde_json::from_str::<DemographicsValues>(&json).unwrap(),
            v
        );
        assert_eq!(
            format!("{v:?}"),
            r#"{"homeLanguage": Some("spa"), "iep": None, "white": Some("FALSE")}"#
        );
        assert!(serde_json::from_str::<DemographicsValues>(r#"{"shoeSize":"9"}"#).is_err());
    }
}
