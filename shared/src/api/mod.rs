//! The HTTP API's types: every request and answer body of the server, as
//! the server writes them and the browser app, the web component and
//! `rostergate push` read them. One definition each, so a change on one
//! side breaks the other at compile time. Plain serde data (camelCase
//! JSON), with the little logic both sides need.

mod accounts;
mod embed;
mod roster;
mod uploads;

pub use accounts::{AdminAccount, Permissions, SessionInfo, SignIn};
pub use embed::{CreatedSession, CreatedToken, NewSession, NewToken, TokenStatus, TokenSummary};
pub use roster::{
    Activation, BlockingSchool, ClassQuery, DownloadQuery, EditedUser, ListQuery, Page,
    RosterClass, RosterUser, School, SchoolInput, Scope, UserEdit,
};
pub use uploads::{
    Change, ChangeEntity, ChangeKind, ChangesPage, CommitRequest, Counts, FieldChange,
    HistoryStatus, Hold, Mode, Received, ServerFinding, StagedCreated, Standing, Submission, Tally,
    UploadReport, UploadRequest, UploadState, UploadSummary,
};

use serde::{Deserialize, Serialize};

/// The body of every error answer: a stable kebab-case code and a message
/// for people (a 422 of records that break the contract adds the report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, for programs (`invalid-token`, `safety-hold`, …).
    pub code: String,
    /// What went wrong, for people; it never repeats the request's values.
    pub message: String,
}

/// The 422 answer to records that break the contract: nothing was stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedRecords {
    /// `invalid-records`.
    pub code: String,
    /// For people.
    pub message: String,
    /// The validator's report of the records as sent.
    pub report: crate::report::ReportView,
}

/// `GET /api/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The server's version.
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(value: impl Serialize) -> String {
        serde_json::to_value(value)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    }

    /// The words the types spell themselves with agree with their JSON.
    #[test]
    fn words_agree_with_json() {
        assert_eq!(word(Mode::FullSync), Mode::FullSync.as_str());
        assert_eq!(word(Mode::Upsert), Mode::Upsert.as_str());
        for status in [
            HistoryStatus::Committed,
            HistoryStatus::Previewed,
            HistoryStatus::SessionCreated,
        ] {
            assert_eq!(word(status), status.as_str());
        }
        for status in [
            TokenStatus::Active,
            TokenStatus::Expired,
            TokenStatus::Revoked,
        ] {
            assert_eq!(word(status), status.as_str());
        }
        for scope in [
            Scope::All,
            Scope::Students,
            Scope::Staff,
            Scope::Teachers,
            Scope::Admins,
        ] {
            assert_eq!(word(scope), scope.as_str());
        }
        for entity in [
            ChangeEntity::User,
            ChangeEntity::Class,
            ChangeEntity::Enrollment,
        ] {
            assert_eq!(word(entity), entity.to_string());
        }
        for kind in [
            ChangeKind::Created,
            ChangeKind::Updated,
            ChangeKind::Removed,
        ] {
            assert_eq!(word(kind), kind.to_string());
        }
    }
}
