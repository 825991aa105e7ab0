//! Normalized records: what a clean upload contains, one entity per key, with
//! canonical values. This is all that leaves the browser.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Student,
    Teacher,
    Administrator,
}

impl Role {
    pub fn parse(canonical: &str) -> Option<Role> {
        match canonical {
            "student" => Some(Role::Student),
            "teacher" => Some(Role::Teacher),
            "administrator" => Some(Role::Administrator),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Teacher => "teacher",
            Role::Administrator => "administrator",
        }
    }

    pub fn is_staff(self) -> bool {
        self != Role::Student
    }
}

/// The `action` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum Action {
    RemoveEnrollment,
    RemoveClass,
    DeactivateUser,
}

impl Action {
    pub fn parse(canonical: &str) -> Option<Action> {
        match canonical {
            "REMOVE-ENROLLMENT" => Some(Action::RemoveEnrollment),
            "REMOVE-CLASS" => Some(Action::RemoveClass),
            "DEACTIVATE-USER" => Some(Action::DeactivateUser),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::RemoveEnrollment => "REMOVE-ENROLLMENT",
            Action::RemoveClass => "REMOVE-CLASS",
            Action::DeactivateUser => "DEACTIVATE-USER",
        }
    }

    pub fn needs_class(self) -> bool {
        matches!(self, Action::RemoveEnrollment | Action::RemoveClass)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    /// Shared with the user's enrollments (identifiers are cloned, not copied).
    pub user_id: Arc<str>,
    pub role: Role,
    pub first_name: String,
    pub last_name: String,
    /// Lower case.
    pub email: String,
    /// Canonical grade code; always `None` for staff. Borrowed from the
    /// grade table when the validator makes it (no allocation).
    pub grade: Option<Cow<'static, str>>,
    pub district_id: Option<String>,
    pub state_id: Option<String>,
    /// The schools the user's rows name, in order of appearance.
    pub school_ids: Vec<String>,
    /// A `DEACTIVATE-USER` row: deactivate the user and end their enrollments.
    pub deactivate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassRecord {
    pub class_id: Arc<str>,
    pub school_id: String,
    pub name: String,
    /// Canonical grade code (see `UserRecord::grade`).
    pub grade: Cow<'static, str>,
    /// `None`: leave the stored display name unchanged.
    pub display_name: Option<String>,
    /// A `REMOVE-CLASS` row: deactivate the class and end its enrollments.
    pub remove: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentRecord {
    pub user_id: Arc<str>,
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
    pub user_id: String,
    /// Header name → canonical value.
    pub values: BTreeMap<String, Option<String>>,
}

/// The clean content of an upload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Records {
    pub users: Vec<UserRecord>,
    pub classes: Vec<ClassRecord>,
    pub enrollments: Vec<EnrollmentRecord>,
    pub demographics: Vec<DemographicsRecord>,
}
