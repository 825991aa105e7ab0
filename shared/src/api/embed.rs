//! Embed tokens (server-side secrets of a host site) and the upload
//! sessions a host's server mints with them for its pages.

use serde::{Deserialize, Serialize};

/// `POST /api/embed/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewToken {
    /// Where it is used (shown in the token list and the history).
    pub label: String,
    /// 1 to 365.
    pub expires_in_days: i64,
    /// The origins (`https://host[:port]`) of the pages its upload
    /// sessions are for.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// May the token remove: full sync, rows with an action, confirming a
    /// safety hold (off unless asked for).
    #[serde(default)]
    pub allow_removals: bool,
}

/// A new token: the only time the token itself is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    /// Its row id (to revoke it).
    pub id: i64,
    /// `rge_…`; the server keeps only its hash.
    pub token: String,
    /// Where it is used.
    pub label: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Normalized origins.
    pub allowed_origins: Vec<String>,
    /// May it remove.
    pub allow_removals: bool,
}

/// Whether a token works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStatus {
    /// It works.
    Active,
    /// Past its expiry.
    Expired,
    /// Revoked by an admin.
    Revoked,
}

impl TokenStatus {
    /// Its word in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
        }
    }
}

/// A token in the list (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenSummary {
    /// Its row id.
    pub id: i64,
    /// Where it is used.
    pub label: String,
    /// The email of the admin who created it (and whom it acts as).
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Unix seconds, once revoked.
    pub revoked_at: Option<i64>,
    /// Active, expired or revoked.
    pub status: TokenStatus,
    /// Normalized origins.
    pub allowed_origins: Vec<String>,
    /// May it remove.
    pub allow_removals: bool,
}

/// `POST /api/embed/sessions`, from the host's server with its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSession {
    /// The host page's origin: one of the token's allowed origins.
    pub origin: String,
    /// 1 to 60 (15 when left out).
    pub expires_in_minutes: Option<i64>,
}

/// A minted upload session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedSession {
    /// `rgs_…`: for the page's `<roster-validator session="…">`.
    pub session: String,
    /// Unix seconds.
    pub expires_at: i64,
}
