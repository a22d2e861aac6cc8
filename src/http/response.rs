//! An API's answer: status, headers and the whole body. Any status is a response; the caller decides what a
//! 404 or 500 means for it.

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// In the order received; names as the server sent them (HTTP/1.1 names are case-insensitive).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// First value of a header, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The Apigee fault code of an error body (`{"fault":{"detail":{"errorcode":"..."}}}`), if it has one.
    /// Only small JSON bodies of error replies are looked at, so successful calls pay nothing.
    pub fn apigee_errorcode(&self) -> Option<String> {
        apigee_errorcode(self.status, &self.body)
    }
}

/// The largest error body looked at for an Apigee fault code: a streamed reply reads this much (and one byte)
/// of an error body before deciding whether the token was refused.
pub const MAX_FAULT_BODY: usize = 64 * 1024;

/// The Apigee fault code of a reply with this status and body, if it has one (see `Response::apigee_errorcode`).
pub fn apigee_errorcode(status: u16, body: &[u8]) -> Option<String> {
    if status < 400 || body.len() > MAX_FAULT_BODY {
        return None;
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.pointer("/fault/detail/errorcode")
        .and_then(|c| c.as_str())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("X-Page".into(), "2".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn header_lookup_ignores_case() {
        let r = reply(200, "");
        assert_eq!(r.header("x-page"), Some("2"));
        assert_eq!(r.header("X-PAGE"), Some("2"));
        assert_eq!(r.header("x-total"), None);
    }

    #[test]
    fn reads_apigee_fault_codes_from_error_bodies_only() {
        let body = r#"{"fault":{"faultstring":"Access Token expired","detail":{"errorcode":"keymanagement.service.access_token_expired"}}}"#;
        assert_eq!(
            reply(500, body).apigee_errorcode().as_deref(),
            Some("keymanagement.service.access_token_expired")
        );
        assert_eq!(reply(200, body).apigee_errorcode(), None);
        assert_eq!(reply(401, "not json").apigee_errorcode(), None);
        assert_eq!(reply(401, r#"{"fault":{}}"#).apigee_errorcode(), None);
    }
}
