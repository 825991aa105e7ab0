//! A part's bytes: the encoding it was sent in, and decoding it within the
//! part limit (a small gzip bomb cannot fill the memory).

use std::io::Read;

use axum::http::{header, HeaderMap};
use flate2::read::MultiGzDecoder;

use super::MAX_PART_BYTES;
use crate::error::{ApiError, ApiResult};

/// How a part was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
}

impl Encoding {
    /// The `Content-Encoding` of a part: gzip or none (415 for others).
    pub fn of(headers: &HeaderMap) -> ApiResult<Encoding> {
        let Some(value) = headers.get(header::CONTENT_ENCODING) else {
            return Ok(Encoding::Identity);
        };
        match value
            .to_str()
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            Ok("gzip" | "x-gzip") => Ok(Encoding::Gzip),
            Ok("identity" | "") => Ok(Encoding::Identity),
            _ => Err(ApiError::UnsupportedEncoding(
                "Send parts with Content-Encoding gzip (or none).".into(),
            )),
        }
    }
}

fn part_too_large() -> ApiError {
    ApiError::too_large(
        "part-too-large",
        format!("A part may hold at most {MAX_PART_BYTES} bytes once decompressed; send smaller slices."),
    )
}

/// A part's bytes, decompressed, at most `MAX_PART_BYTES` of them.
pub fn decode(body: &[u8], encoding: Encoding) -> ApiResult<std::borrow::Cow<'_, [u8]>> {
    match encoding {
        Encoding::Identity if body.len() > MAX_PART_BYTES => Err(part_too_large()),
        Encoding::Identity => Ok(body.into()),
        Encoding::Gzip => {
            let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(MAX_PART_BYTES + 1));
            MultiGzDecoder::new(body)
                .take(MAX_PART_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|_| {
                    ApiError::bad_request("invalid-gzip", "The part is not valid gzip data.")
                })?;
            if out.len() > MAX_PART_BYTES {
                return Err(part_too_large());
            }
            Ok(out.into())
        }
    }
}
