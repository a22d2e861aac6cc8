//! What clients sent to the token endpoint, so a test can check the credential style and the
//! optional parameters (`scope`, `audience`, `resource`) a client chose, without the secret.

use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use crate::http::Incoming;

/// Only the latest requests are kept, so a soak test cannot grow the log without bound.
const KEEP: usize = 1000;

/// Stands in for a secret in the log: a test learns that one was sent, never what it was.
pub const REDACTED: &str = "<redacted>";

/// One request to the token endpoint, as it arrived (before any injected fault answered it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    /// The Authorization header's scheme (`Basic`, ...), or None without the header.
    pub authorization_scheme: Option<String>,
    /// The user part of Basic credentials exactly as sent (before any form-decoding): an
    /// RFC 6749 client sends `my%3Aid` where an 8x8 one sends `my:id`... up to the first colon.
    pub basic_user: Option<String>,
    /// Whether the Basic credentials carried a password part.
    pub basic_password_sent: bool,
    /// The form body's parameters, decoded; `client_secret` is replaced by [`REDACTED`].
    pub form: BTreeMap<String, String>,
}

impl TokenRequest {
    pub(crate) fn of(req: &Incoming, body: &[u8]) -> TokenRequest {
        let authorization = req.header("Authorization").map(str::trim);
        let (scheme, credentials) = match authorization.map(|v| v.split_once(' ')) {
            Some(Some((scheme, rest))) => (Some(scheme.to_string()), Some(rest.trim())),
            Some(None) => (authorization.map(String::from), None),
            None => (None, None),
        };
        let basic = credentials
            .filter(|_| {
                scheme
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("Basic"))
            })
            .and_then(|c| {
                base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT
                    .decode(c)
                    .ok()
            })
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let (basic_user, basic_password_sent) = match basic {
            Some(text) => match text.split_once(':') {
                Some((user, _)) => (Some(user.to_string()), true),
                None => (Some(text), false),
            },
            None => (None, false),
        };
        let form = form_urlencoded::parse(body)
            .map(|(k, v)| {
                let v = if k == "client_secret" {
                    REDACTED.to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        TokenRequest {
            authorization_scheme: scheme,
            basic_user,
            basic_password_sent,
            form,
        }
    }
}

#[derive(Default)]
pub(crate) struct TokenLog {
    requests: Mutex<VecDeque<TokenRequest>>,
}

impl TokenLog {
    pub(crate) fn record(&self, request: TokenRequest) {
        let mut requests = self.lock();
        if requests.len() == KEEP {
            requests.pop_front();
        }
        requests.push_back(request);
    }

    pub(crate) fn all(&self) -> Vec<TokenRequest> {
        self.lock().iter().cloned().collect()
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<TokenRequest>> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incoming(authorization: Option<&str>) -> Incoming {
        Incoming {
            method: "POST".into(),
            path: "/oauth/v2/token".into(),
            query: String::new(),
            headers: authorization
                .map(|a| vec![("authorization".to_string(), a.to_string())])
                .unwrap_or_default(),
            connection: 1,
        }
    }

    #[test]
    fn basic_user_is_kept_as_sent_and_the_secret_never() {
        let creds = base64::engine::general_purpose::STANDARD.encode("my%3Aid:s%2Fcret");
        let r = TokenRequest::of(
            &incoming(Some(&format!("Basic {creds}"))),
            b"grant_type=client_credentials&scope=a+b&client_secret=zzz",
        );
        assert_eq!(r.authorization_scheme.as_deref(), Some("Basic"));
        assert_eq!(r.basic_user.as_deref(), Some("my%3Aid"));
        assert!(r.basic_password_sent);
        assert_eq!(r.form["scope"], "a b");
        assert_eq!(r.form["client_secret"], REDACTED);
        let none = TokenRequest::of(&incoming(None), b"");
        assert_eq!((none.authorization_scheme, none.basic_user), (None, None));
    }

    #[test]
    fn the_log_keeps_the_latest() {
        let log = TokenLog::default();
        for i in 0..KEEP + 5 {
            let mut r = TokenRequest::of(&incoming(None), b"");
            r.form.insert("n".into(), i.to_string());
            log.record(r);
        }
        let all = log.all();
        assert_eq!(all.len(), KEEP);
        assert_eq!(all[0].form["n"], "5");
    }
}
