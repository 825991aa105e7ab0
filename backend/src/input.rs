//! Checks of the text fields clients send: bounded, and free of NUL and
//! other control characters (PostgreSQL refuses NUL in text; nothing a
//! person types into a name or label needs a control character).

use crate::error::{ApiError, ApiResult};

/// The longest file name an upload may carry.
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// A client's text, trimmed: 1 to `max_chars` characters without control
/// characters, else 400 with `code` and a message naming the field and the
/// limit (never the value).
pub fn bounded_text(
    value: &str,
    field: &str,
    max_chars: usize,
    code: &'static str,
) -> ApiResult<String> {
    let value = value.trim();
    let chars = value.chars().count();
    if chars == 0 || chars > max_chars || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            code,
            format!("{field} must be 1 to {max_chars} characters, without control characters."),
        ));
    }
    Ok(value.to_string())
}

/// A path or query that holds a NUL byte (`%00`): refused before any
/// handler reads it, since no identifier, search or name may hold one.
pub fn has_encoded_nul(path_and_query: &str) -> bool {
    path_and_query
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_bounded_and_free_of_controls() {
        assert_eq!(bounded_text("  a b ", "label", 3, "x").unwrap(), "a b");
        for bad in ["", "   ", "abcd", "a\0", "a\u{7}b", "a\u{85}b"] {
            assert!(bounded_text(bad, "label", 3, "x").is_err(), "{bad:?}");
        }
        assert!(has_encoded_nul("/api/roster/users?q=a%00b"));
        assert!(!has_encoded_nul("/api/roster/users?q=a%20b"));
    }
}
