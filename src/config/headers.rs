//! Which headers a caller may send, per call or as a client's default headers.

use super::origin::refuse_control_chars;
use crate::error::{Error, Result};

/// Headers the library sets itself: letting a caller set them would break authentication or message framing.
const RESERVED_HEADERS: [&str; 4] = [
    "authorization",
    "host",
    "content-length",
    "transfer-encoding",
];

/// A header name is an RFC 9110 token; neither name nor value may split the message (CR, LF, NUL); the
/// headers x8 sets itself are refused.
pub fn validate_header(name: &str, value: &str) -> Result<()> {
    refuse_control_chars(name, "header name")?;
    refuse_control_chars(value, "header value")?;
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        return Err(Error::invalid(format!(
            "{name:?} is not a valid header name"
        )));
    }
    if RESERVED_HEADERS
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
    {
        return Err(Error::invalid(format!(
            "the {name} header is set by x8 and cannot be supplied"
        )));
    }
    Ok(())
}
