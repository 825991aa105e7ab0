//! Schools, the activation gate, and the stored roster's lists, edits and
//! downloads.

use serde::{Deserialize, Serialize};

use crate::records::Role;

/// A school (organization) of the district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct School {
    /// Its row id.
    pub id: i64,
    /// The SIS identifier roster files use; `None` until set.
    pub school_id: Option<String>,
    /// Its name.
    pub name: String,
    /// Its lowest grade code.
    pub low_grade: Option<String>,
    /// Its highest grade code.
    pub high_grade: Option<String>,
}

/// What an admin sends to add or edit a school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchoolInput {
    /// The SIS identifier; blank or absent for none yet.
    pub school_id: Option<String>,
    /// 1 to `LIMITS.school_name_chars` characters.
    pub name: String,
    /// A grade code.
    pub low_grade: Option<String>,
    /// A grade code, not before `low_grade`.
    pub high_grade: Option<String>,
}

/// A school that keeps the activation gate closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockingSchool {
    /// Its row id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Why it blocks (no school ID, or one another school has).
    pub reason: String,
}

/// The activation gate: batch upload opens when every school has a unique,
/// non-empty school ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activation {
    /// Batch upload is open.
    pub open: bool,
    /// The schools that keep it closed.
    pub blocking_schools: Vec<BlockingSchool>,
}

/// Which users a list or download covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// All students and staff.
    #[default]
    All,
    /// Students.
    Students,
    /// Teachers and administrators.
    Staff,
    /// Teachers.
    Teachers,
    /// Administrators.
    Admins,
}

impl Scope {
    /// The roles it covers.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Scope::All => &Role::ALL,
            Scope::Students => &[Role::Student],
            Scope::Staff => &[Role::Teacher, Role::Administrator],
            Scope::Teachers => &[Role::Teacher],
            Scope::Admins => &[Role::Administrator],
        }
    }

    /// Whether it covers a role.
    pub fn includes(self, role: Role) -> bool {
        self.roles().contains(&role)
    }

    /// Its word in a query (`?scope=students`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::Students => "students",
            Scope::Staff => "staff",
            Scope::Teachers => "teachers",
            Scope::Admins => "admins",
        }
    }
}

/// `GET /api/roster/users` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    /// Which users.
    #[serde(default)]
    pub scope: Scope,
    /// A school ID: only that school's users.
    pub school: Option<String>,
    /// Matches names, email and IDs, case-insensitively.
    pub q: Option<String>,
    /// From 1.
    pub page: Option<i64>,
    /// 1 to 500.
    #[serde(rename = "pageSize")]
    pub page_size: Option<i64>,
}

/// `GET /api/roster/classes` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassQuery {
    /// A school ID: only that school's classes.
    pub school: Option<String>,
    /// Matches the class's name and ID, case-insensitively.
    pub q: Option<String>,
    /// From 1.
    pub page: Option<i64>,
    /// 1 to 500.
    #[serde(rename = "pageSize")]
    pub page_size: Option<i64>,
}

/// `GET /api/roster/download` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadQuery {
    /// Which users.
    #[serde(default)]
    pub scope: Scope,
    /// A school ID: only that school.
    pub school: Option<String>,
    /// `users` (the default) or `demographics`.
    pub file: Option<String>,
    /// Only these users (comma-separated userIds), as selected in a list.
    pub users: Option<String>,
}

/// A stored user in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RosterUser {
    /// The user's key.
    pub user_id: String,
    /// student, teacher or administrator.
    pub role: Role,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email, lower case.
    pub email: String,
    /// A student's grade code.
    pub grade: Option<String>,
    /// `userDistrictId`.
    pub district_id: Option<String>,
    /// `userStateId`.
    pub state_id: Option<String>,
    /// The user's schools' IDs.
    pub school_ids: Vec<String>,
}

/// A stored class in a list, with its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RosterClass {
    /// The class's key.
    pub class_id: String,
    /// Its school's ID.
    pub school_id: String,
    /// `className`.
    pub name: String,
    /// `classGrade`.
    pub grade: String,
    /// `classDisplayName`.
    pub display_name: Option<String>,
    /// Active students enrolled.
    pub students: i64,
    /// Active teachers enrolled.
    pub teachers: i64,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// Items over all pages.
    pub total: i64,
    /// This page's number, from 1.
    pub page: i64,
    /// Items per page.
    pub page_size: i64,
    /// This page's items.
    pub items: Vec<T>,
}

/// `PUT /api/roster/users/{userId}`: a portal edit of names and email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserEdit {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    pub email: String,
}

/// The answer to a portal edit: the values as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditedUser {
    /// The user's key.
    pub user_id: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email, lower case.
    pub email: String,
}
