//! Normalized records: what a clean upload contains, one entity per key, with
//! canonical values. This is all that leaves the browser.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::dictionary::{
    ACTIONS, DEMOGRAPHICS_COLUMNS, FREE_REDUCED_LUNCH_VALUES, ROLES, SEX_VALUES,
};

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
/// has hundreds of thousands of them: the column names are the
/// dictionary's own, and the values of enumerations (booleans, sex, lunch)
/// are its canonical words, so most cells take no allocation of their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemographicsValues(Vec<(&'static str, Option<Cow<'static, str>>)>);

/// The dictionary's name of a demographics column.
fn column_name(column: &str) -> Option<&'static str> {
    DEMOGRAPHICS_COLUMNS
        .iter()
        .map(|c| c.name)
        .find(|name| *name == column)
}

impl DemographicsValues {
    /// Room for `columns` values, so that a record takes no more memory
    /// than its columns need.
    pub fn with_capacity(columns: usize) -> Self {
        DemographicsValues(Vec::with_capacity(columns))
    }

    /// The value of `column`: `None` when the file does not have it,
    /// `Some(None)` for a blank cell.
    pub fn get(&self, column: &str) -> Option<Option<&str>> {
        let at = self.0.binary_search_by(|(c, _)| (*c).cmp(column)).ok()?;
        Some(self.0[at].1.as_deref())
    }

    /// Whether the file has `column`.
    pub fn contains_key(&self, column: &str) -> bool {
        self.get(column).is_some()
    }

    /// Sets `column` (a demographics column of the dictionary; false for
    /// any other name, which is left out). A canonical word of an
    /// enumeration is kept as the dictionary's own.
    pub fn insert(&mut self, column: &str, value: Option<Cow<'_, str>>) -> bool {
        let Some(name) = column_name(column) else {
            return false;
        };
        let value = value.map(|v| match static_word(&v) {
            Some(word) => Cow::Borrowed(word),
            None => Cow::Owned(v.into_owned()),
        });
        match self.0.binary_search_by(|(c, _)| (*c).cmp(name)) {
            Ok(at) => self.0[at].1 = value,
            Err(at) => self.0.insert(at, (name, value)),
        }
        true
    }

    /// Each column the file has and its value.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Option<&str>)> + '_ {
        self.0.iter().map(|(c, v)| (*c, v.as_deref()))
    }

    /// How many columns.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No column.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A canonical word of the demographics enumerations, as the dictionary's
/// own `&'static str`.
fn static_word(value: &str) -> Option<&'static str> {
    const BOOLEANS: &[&str] = &["TRUE", "FALSE"];
    BOOLEANS
        .iter()
        .copied()
        .chain(SEX_VALUES.iter().map(|(_, canonical)| *canonical))
        .chain(FREE_REDUCED_LUNCH_VALUES.iter().copied())
        .find(|word| *word == value)
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
}
