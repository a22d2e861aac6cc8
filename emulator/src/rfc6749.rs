//! The token endpoint in RFC 6749 mode: what a strict OAuth 2.0 server (a staging gateway, an
//! identity provider, a CI mock) insists on, so each of x8's credential styles is tested against
//! a server that refuses the others.
//!
//! - Basic credentials are `base64(urlencode(id) ":" urlencode(secret))` (§2.3.1): an id or
//!   secret holding a character the form encoding escapes (`:`, `/`, `%`...) sent raw is
//!   refused with 400 `invalid_request`, told apart from wrong credentials (401
//!   `invalid_client`).
//! - `client_secret_post`: `client_id` and `client_secret` in the form body instead.
//! - The reply is §5.1's: `token_type` `Bearer`, a numeric `expires_in`, no product lists.

use crate::http::{Incoming, Reply};
use crate::state::{Client, State};
use base64::Engine;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

pub(crate) fn mint(state: &State, req: &Incoming, body: &[u8]) -> Result<Reply, Reply> {
    if req.method != "POST" {
        return Err(
            error(405, "invalid_request", "The token endpoint takes POST").header("Allow", "POST"),
        );
    }
    if !crate::token_endpoint::is_form(req.header("Content-Type")) {
        return Err(error(
            400,
            "invalid_request",
            "The body must be application/x-www-form-urlencoded",
        ));
    }
    let form = parameters(body)?;
    let client = authenticate(state, req, &form)?;
    match form.get("grant_type").map(String::as_str) {
        None => Err(error(
            400,
            "invalid_request",
            "Missing parameter: grant_type",
        )),
        Some("client_credentials") => Ok(issue(state, client, form.get("scope"))),
        Some(other) => Err(error(
            400,
            "unsupported_grant_type",
            &format!("Grant type {other} is not supported"),
        )),
    }
}

/// §3.2: "Request and response parameters MUST NOT be included more than once."
fn parameters(body: &[u8]) -> Result<BTreeMap<String, String>, Reply> {
    let mut form = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if form.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(error(
                400,
                "invalid_request",
                &format!("Parameter {k} is included more than once"),
            ));
        }
    }
    Ok(form)
}

fn authenticate<'s>(
    state: &'s State,
    req: &Incoming,
    form: &BTreeMap<String, String>,
) -> Result<&'s Client, Reply> {
    let basic = match req.header("Authorization") {
        Some(value) => Some(basic_credentials(value)?),
        None => None,
    };
    let posted = match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
        _ => None,
    };
    let (id, secret) = match (basic, posted) {
        // §2.3: "The client MUST NOT use more than one authentication method in each request."
        (Some(_), Some(_)) => {
            return Err(error(
                400,
                "invalid_request",
                "More than one client authentication method was used",
            ))
        }
        (Some(creds), None) => creds,
        (None, Some(creds)) => creds,
        (None, None) => {
            return Err(error(
                401,
                "invalid_client",
                "Client authentication is required",
            ))
        }
    };
    let used_basic = req.header("Authorization").is_some();
    state
        .clients
        .iter()
        .find(|c| c.spec.id == id && c.spec.secret == secret)
        .ok_or_else(|| {
            let reply = error(401, "invalid_client", "Client authentication failed");
            // §5.2: a client that authenticated through the Authorization header is challenged
            // in the scheme it used.
            if used_basic {
                reply.header("WWW-Authenticate", r#"Basic realm="x8-emulator""#)
            } else {
                reply
            }
        })
}

/// The id and secret from `Basic base64(urlencode(id):urlencode(secret))`, decoded.
fn basic_credentials(value: &str) -> Result<(String, String), Reply> {
    let unauthorized = || {
        error(401, "invalid_client", "Client authentication failed")
            .header("WWW-Authenticate", r#"Basic realm="x8-emulator""#)
    };
    let encoded = value
        .trim()
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Basic"))
        .map(|(_, creds)| creds.trim())
        .ok_or_else(unauthorized)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            error(
                400,
                "invalid_request",
                "The authorization header is not valid base64",
            )
        })?;
    let badly_encoded = || {
        error(
            400,
            "invalid_request",
            "client_id and client_secret in the authorization header are not properly encoded",
        )
    };
    // The first colon separates: an encoded id has none of its own.
    let (id, secret) = decoded.split_once(':').ok_or_else(badly_encoded)?;
    if !is_form_encoded(id) || !is_form_encoded(secret) {
        return Err(badly_encoded());
    }
    Ok((form_decode(id), form_decode(secret)))
}

/// Whether `s` could have come out of application/x-www-form-urlencoded encoding: only
/// characters it leaves as they are, and `%XX` escapes. `~` is let through too, since RFC 3986
/// encoders leave it alone and it cannot be misread.
pub(crate) fn is_form_encoded(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 3;
            }
            c if c.is_ascii_alphanumeric() || b"-._~*+".contains(&c) => i += 1,
            _ => return false,
        }
    }
    true
}

fn form_decode(s: &str) -> String {
    // A lone value decodes as the key of a one-pair form; '+' becomes a space as in any form.
    form_urlencoded::parse(s.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

#[derive(Serialize)]
struct TokenReply<'a> {
    access_token: &'a str,
    token_type: &'a str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

fn issue(state: &State, client: &Client, scope: Option<&String>) -> Reply {
    let lifetime = state.settings().token_lifetime;
    let access_token = state.tokens().issue(
        &client.spec.id,
        &client.spec.products,
        Duration::from_secs(lifetime),
    );
    Reply::json(
        200,
        &TokenReply {
            access_token: &access_token,
            token_type: "Bearer",
            expires_in: lifetime,
            // §5.1: the granted scope, here whatever was asked for.
            scope: scope.map(String::as_str),
        },
    )
    .header("Cache-Control", "no-store")
    .header("Pragma", "no-cache")
}

#[derive(Serialize)]
struct ErrorReply<'a> {
    error: &'a str,
    error_description: &'a str,
}

/// §5.2's error body.
fn error(status: u16, code: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &ErrorReply {
            error: code,
            error_description: description,
        },
    )
    .header("Cache-Control", "no-store")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_is_recognised() {
        assert!(is_form_encoded("demo-secret"));
        assert!(is_form_encoded("a%3Ab%2Fc%25d+e~*"));
        assert!(is_form_encoded(""));
        assert!(!is_form_encoded("a:b"));
        assert!(!is_form_encoded("a/b"));
        assert!(!is_form_encoded("100%"));
        assert!(!is_form_encoded("%zz"));
        assert!(!is_form_encoded("a b"));
        assert_eq!(form_decode("a%3Ab%2Fc%25d+e"), "a:b/c%d e");
    }

    #[test]
    fn basic_credentials_are_decoded_or_refused_as_unencoded() {
        let b64 = |s: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(s)
            )
        };
        assert_eq!(
            basic_credentials(&b64("my%3Aid:s%3A%2F%25")).ok(),
            Some(("my:id".to_string(), "s:/%".to_string()))
        );
        let refused = basic_credentials(&b64("id:s:/%")).unwrap_err();
        assert_eq!(refused.status, 400);
        assert_eq!(basic_credentials("Bearer x").unwrap_err().status, 401);
        assert_eq!(basic_credentials("Basic !!!").unwrap_err().status, 400);
    }
}
