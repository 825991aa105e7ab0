//! Signing in: the admin and their permissions.

use serde::{Deserialize, Serialize};

/// What an admin may do. Processing uploads needs both; viewing the roster
/// and managing schools needs at least one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permissions {
    /// System access: embed tokens, and with Enrollment access, uploads.
    pub system_access: bool,
    /// Enrollment access: the roster, and with System access, uploads.
    pub enrollment_access: bool,
}

impl Permissions {
    /// System access or Enrollment access.
    pub fn any(self) -> bool {
        self.system_access || self.enrollment_access
    }

    /// System access and Enrollment access.
    pub fn both(self) -> bool {
        self.system_access && self.enrollment_access
    }
}

/// A signed-in admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminAccount {
    /// The admin's row id.
    pub id: i64,
    /// Their district's row id.
    pub district_id: i64,
    /// Their district's name.
    pub district_name: String,
    /// Their sign-in, in lower case.
    pub email: String,
    /// What they may do (`systemAccess`, `enrollmentAccess` in the JSON).
    #[serde(flatten)]
    pub permissions: Permissions,
}

/// `POST /api/auth/sign-in`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    /// The admin's email address.
    pub email: String,
    /// Their password.
    pub password: String,
}

/// The answer to signing in, and `GET /api/auth/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// Who is signed in.
    pub admin: AdminAccount,
    /// To send as `X-CSRF-Token` on requests that change state.
    pub csrf_token: String,
}
