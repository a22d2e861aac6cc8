//! What the user hands a request: `-H 'Name: value'` headers and the `--data` body. Read before any network
//! call, so a typo fails fast with exit 2 and never costs a token fetch.

use std::io::Read;
use std::path::PathBuf;

use crate::exit::Failure;

/// `Name: value` as curl takes it: split at the first colon, blanks around the value dropped. The library
/// checks names and values again (CR/LF, reserved headers) before sending.
pub fn parse_header(text: &str) -> Result<(String, String), Failure> {
    let (name, value) = text.split_once(':').ok_or_else(|| {
        Failure::usage(format!(
            "header {text:?} has no colon; write it as 'Name: value'"
        ))
    })?;
    let name = name.trim();
    if name.is_empty() {
        return Err(Failure::usage(format!(
            "header {text:?} has no name; write it as 'Name: value'"
        )));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// A request body: in memory, or a file streamed as it is sent.
pub enum Body {
    Bytes(Vec<u8>),
    File { path: PathBuf, len: u64 },
}

/// Files up to this size are read whole, so that a request the API answers with a 401 can be sent again with
/// a new token; larger ones are streamed (a stream cannot be replayed: the 401 is then the answer).
pub const STREAM_ABOVE: u64 = 1 << 20;

/// As `read_body`, except that an `@FILE` of more than `STREAM_ABOVE` bytes is opened later and streamed.
pub fn body(data: &str) -> Result<Body, Failure> {
    if let Some(path) = data.strip_prefix('@').filter(|p| *p != "-") {
        let len = std::fs::metadata(path)
            .map_err(|e| Failure::usage(format!("cannot read the body from {path}: {e}")))?
            .len();
        if len > STREAM_ABOVE {
            return Ok(Body::File {
                path: PathBuf::from(path),
                len,
            });
        }
    }
    read_body(data).map(Body::Bytes)
}

/// `@FILE` reads a file, `-` or `@-` reads stdin, anything else is the body itself.
pub fn read_body(data: &str) -> Result<Vec<u8>, Failure> {
    if data == "-" || data == "@-" {
        let mut body = Vec::new();
        std::io::stdin()
            .read_to_end(&mut body)
            .map_err(|e| Failure::usage(format!("cannot read the body from stdin: {e}")))?;
        return Ok(body);
    }
    match data.strip_prefix('@') {
        Some(path) => std::fs::read(path)
            .map_err(|e| Failure::usage(format!("cannot read the body from {path}: {e}"))),
        None => Ok(data.as_bytes().to_vec()),
    }
}

pub fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headers_like_curl() {
        assert_eq!(
            parse_header("X-Tenant-Info: acme").unwrap(),
            ("X-Tenant-Info".into(), "acme".into())
        );
        assert_eq!(
            parse_header("Accept:application/json; q=1").unwrap(),
            ("Accept".into(), "application/json; q=1".into())
        );
        assert_eq!(
            parse_header("X-Empty:").unwrap(),
            ("X-Empty".into(), String::new())
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header(": value").is_err());
    }

    #[test]
    fn body_sources() {
        assert_eq!(read_body("{\"a\":1}").unwrap(), b"{\"a\":1}");
        let missing = read_body("@/nonexistent/body.json").unwrap_err();
        assert!(missing.message.contains("/nonexistent/body.json"));
    }
}
