//! The 8x8 token endpoint as a `TokenSource`: `POST` with HTTP Basic `base64(clientId:secret)` and the form
//! body `grant_type=client_credentials`, retried with exponential backoff and jitter when the failure can pass
//! (5xx, 429, network), never when the credentials were refused. Other OAuth servers get the RFC 6749 styles
//! of client authentication (`ClientAuth`) and, when asked, a scope and extra form parameters.

use base64::Engine;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

use crate::config::{ClientAuth, Credentials, Settings};
use crate::error::{redact, truncate_for_message, Error, ErrorKind, Result};
use crate::http::throttle::{backoff, parse_retry_after};
use crate::http::Response;
use crate::http::Transport;
use crate::rt::clock::wall_ms;
use crate::rt::clock::Deadline;
use crate::rt::log::{Level, Logger};
use crate::rt::stats::Stats;
use crate::token::parse_token_reply;
use crate::token::{Fetched, SecretText, TokenSource};

/// The most of a token reply (or of the endpoint's error body) that is read: 8x8's is under 1 KiB, a token at
/// most 4 KiB. Without it a hostile or broken endpoint made every fetch read up to the API body limit (64 MiB by
/// default).
const MAX_TOKEN_REPLY_BYTES: u64 = 64 * 1024;

pub struct TokenEndpoint {
    transport: Arc<Transport>,
    url: String,
    client_id: String,
    /// The secret, the Authorization value and the form, in pages left out of core dumps.
    secrets: Secrets,
    style: ClientAuth,
    max_retries: u32,
    base_delay: Duration,
    max_delay: Duration,
    stats: Arc<Stats>,
    logger: Logger,
}

impl TokenEndpoint {
    pub fn new(
        credentials: &Credentials,
        settings: &Settings,
        transport: Arc<Transport>,
        stats: Arc<Stats>,
    ) -> Result<TokenEndpoint> {
        let o = &settings.options;
        credentials.check_for(o.client_auth)?;
        Ok(TokenEndpoint {
            transport,
            url: settings.token_url.clone(),
            client_id: credentials.client_id().to_owned(),
            secrets: Secrets::new(
                credentials.secret(),
                &authorization(credentials, o.client_auth),
                &token_form(credentials, settings),
            ),
            style: o.client_auth,
            max_retries: o.max_retries,
            base_delay: o.retry_base_delay,
            max_delay: o.retry_max_delay,
            stats,
            logger: o.logger.clone(),
        })
    }

    fn fetch_once(&self, deadline: Deadline) -> Result<Fetched> {
        // Connection: close, so the token request's socket is not pooled: the next fetch is a lifetime away
        // (half an hour for 8x8), past any server's keep-alive, and a socket kept meanwhile would make every
        // idle client of a process hold a descriptor (10,000 keys ran into RLIMIT_NOFILE, issue 15).
        let form = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
            ("Connection", "close"),
        ];
        let with_basic;
        let headers: &[(&str, &str)] = if self.secrets.authorization().is_empty() {
            &form
        } else {
            with_basic = [
                ("Authorization", self.secrets.authorization()),
                form[0],
                form[1],
                form[2],
            ];
            &with_basic
        };
        let mut reply = self
            .transport
            .send_capped(
                "POST",
                &self.url,
                headers,
                Some(self.secrets.form().as_bytes()),
                deadline,
                MAX_TOKEN_REPLY_BYTES,
            )
            .map_err(|e| e.context("token endpoint"))?;
        let received = wall_ms();
        let outcome = self.judge(&reply, received);
        // The body held the token (or, echoed, the credentials): wiped whatever the outcome.
        zeroize::Zeroize::zeroize(&mut reply.body);
        outcome
    }

    /// The token in a reply, or the error it stands for.
    fn judge(&self, reply: &Response, received: i64) -> Result<Fetched> {
        match reply.status {
            200..=299 => {
                let token = parse_token_reply(&reply.body, received)
                    .map_err(|e| e.with_http_status(reply.status))?;
                let valid_for_ms = token.lifetime_secs() * 1000;
                Ok(Fetched {
                    token,
                    valid_for_ms,
                })
            }
            400 | 401 | 403 => {
                let said = self.describe_error_body(reply);
                Err(Error::new(
                    ErrorKind::Auth,
                    format!(
                        "token endpoint answered {} {said} — {} (client id {:?})",
                        reply.status,
                        advice(self.style, &said),
                        self.client_id
                    ),
                )
                .with_http_status(reply.status))
            }
            408 | 429 | 500..=599 => Err(Error::new(
                ErrorKind::TokenEndpoint,
                format!(
                    "token endpoint answered {} {}",
                    reply.status,
                    self.describe_error_body(reply)
                ),
            )
            .with_http_status(reply.status)
            .with_retry_after(reply.header("retry-after").and_then(parse_retry_after))),
            other => Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "token endpoint answered {other} {} — check the token URL {}",
                    self.describe_error_body(reply),
                    self.url
                ),
            )
            .with_http_status(other)),
        }
    }

    /// The server's own words, from Apigee's `{"ErrorCode","Error"}` or RFC 6749's `{"error",
    /// "error_description"}`, else the start of the body; with the secret scrubbed in case it was echoed.
    fn describe_error_body(&self, reply: &Response) -> String {
        let text = match serde_json::from_slice::<serde_json::Value>(&reply.body) {
            Ok(v) => {
                let field = |names: &[&str]| {
                    names
                        .iter()
                        .find_map(|n| v.get(*n).and_then(|x| x.as_str()))
                };
                match (
                    field(&["ErrorCode", "error"]),
                    field(&["Error", "error_description", "message"]),
                ) {
                    (Some(code), Some(msg)) => format!("{code}: {msg}"),
                    (Some(one), None) | (None, Some(one)) => one.to_owned(),
                    (None, None) => String::from_utf8_lossy(&reply.body).into_owned(),
                }
            }
            Err(_) => String::from_utf8_lossy(&reply.body).into_owned(),
        };
        let pair = self
            .secrets
            .authorization()
            .strip_prefix("Basic ")
            .unwrap_or_default();
        // The secret as the body of a client_secret_post request carried it, should the server echo the form.
        let form_secret = form_encode(self.secrets.secret());
        let text = Zeroizing::new(text);
        let text = truncate_for_message(
            &redact(&text, &[self.secrets.secret(), pair, form_secret.as_str()]),
            300,
        );
        if text.is_empty() {
            "(empty body)".to_owned()
        } else {
            text
        }
    }

    /// Exponential backoff with equal jitter (see `throttle::backoff`).
    fn backoff(&self, attempt: u32) -> Duration {
        backoff(self.base_delay, self.max_delay, attempt)
    }
}

impl TokenSource for TokenEndpoint {
    fn fetch(&self, deadline: Deadline) -> Result<Fetched> {
        let mut attempt = 0;
        loop {
            let err = match self.fetch_once(deadline) {
                Ok(fetched) => return Ok(fetched),
                Err(err) => err,
            };
            if !err.is_transient() || attempt >= self.max_retries {
                return Err(err);
            }
            let delay = err.retry_after().unwrap_or_else(|| self.backoff(attempt));
            if delay >= deadline.remaining() {
                return Err(err.context(&format!(
                    "gave up after {} attempt(s): the next retry (in {} ms) would pass the call's timeout",
                    attempt + 1,
                    delay.as_millis()
                )));
            }
            attempt += 1;
            Stats::bump(&self.stats.fetch_retries);
            self.logger.log(Level::Warn, || {
                format!(
                    "token fetch attempt {attempt} failed ({err}); retrying in {} ms",
                    delay.as_millis()
                )
            });
            std::thread::sleep(delay);
        }
    }
}

/// What to check when the token endpoint refuses the credentials. A server that says the credentials are not
/// encoded as it wants is told apart from one that says they are wrong.
fn advice(style: ClientAuth, said: &str) -> String {
    let lower = said.to_ascii_lowercase();
    if lower.contains("encod") && style == ClientAuth::Basic {
        return "the server wants the id and secret form-encoded before base64 (RFC 6749 §2.3.1): \
                use the basic-rfc6749 client authentication style"
            .to_owned();
    }
    match style {
        ClientAuth::Basic => {
            "check the client id and secret of the API key in 8x8 Admin Console".to_owned()
        }
        other => format!(
            "check the client id and secret, and that this server takes the {} client authentication style",
            other.name()
        ),
    }
}

/// A client's three secret texts in one `SecretText`: one page for all three instead of a page each, 8 KiB less
/// per client (a process holding 10,000 keys, issue 15).
struct Secrets {
    text: SecretText,
    /// Where the secret and the Authorization value end in `text`; the form runs to its end.
    ends: [usize; 2],
}

impl Secrets {
    fn new(secret: &str, authorization: &str, form: &str) -> Secrets {
        // Sized up front, so that growing leaves no copy behind; wiped when dropped.
        let mut joined = Zeroizing::new(String::with_capacity(
            secret.len() + authorization.len() + form.len(),
        ));
        joined.push_str(secret);
        joined.push_str(authorization);
        joined.push_str(form);
        Secrets {
            text: SecretText::new(&joined),
            ends: [secret.len(), secret.len() + authorization.len()],
        }
    }

    fn secret(&self) -> &str {
        &self.text[..self.ends[0]]
    }

    /// `Basic …`, or empty for `client_secret_post`.
    fn authorization(&self) -> &str {
        &self.text[self.ends[0]..self.ends[1]]
    }

    /// The form body: `grant_type=client_credentials` and whatever the style and options add (with
    /// `client_secret_post`, the secret).
    fn form(&self) -> &str {
        &self.text[self.ends[1]..]
    }
}

/// The Authorization header of the style, or empty for `client_secret_post`. Every intermediate is wiped.
fn authorization(credentials: &Credentials, style: ClientAuth) -> Zeroizing<String> {
    let pair = match style {
        ClientAuth::Post => return Zeroizing::new(String::new()),
        ClientAuth::Basic => Zeroizing::new(format!(
            "{}:{}",
            credentials.client_id(),
            credentials.secret()
        )),
        ClientAuth::BasicRfc6749 => Zeroizing::new(format!(
            "{}:{}",
            *form_encode(credentials.client_id()),
            *form_encode(credentials.secret())
        )),
    };
    let encoded = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()));
    Zeroizing::new(format!("Basic {}", encoded.as_str()))
}

/// `application/x-www-form-urlencoded` text of one value, wiped when dropped.
fn form_encode(value: &str) -> Zeroizing<String> {
    // Sized for the worst case ("%XX" per byte), so that growing leaves no copy behind.
    let mut out = Zeroizing::new(String::with_capacity(value.len() * 3));
    out.extend(form_urlencoded::byte_serialize(value.as_bytes()));
    out
}

/// The token request's form: the grant type, the id and secret for `client_secret_post`, the scope and the
/// extra parameters, in that order. Sized up front, so that no reallocation leaves a copy of the secret behind.
fn token_form(credentials: &Credentials, settings: &Settings) -> Zeroizing<String> {
    let o = &settings.options;
    let mut pairs: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
    if o.client_auth == ClientAuth::Post {
        pairs.push(("client_id", credentials.client_id()));
        pairs.push(("client_secret", credentials.secret()));
    }
    if let Some(scope) = &o.token_scope {
        pairs.push(("scope", scope));
    }
    pairs.extend(o.token_params.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let encoded: Vec<(Zeroizing<String>, Zeroizing<String>)> = pairs
        .iter()
        .map(|(n, v)| (form_encode(n), form_encode(v)))
        .collect();
    let len = encoded.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut form = Zeroizing::new(String::with_capacity(len));
    for (name, value) in &encoded {
        if !form.is_empty() {
            form.push('&');
        }
        form.push_str(name);
        form.push('=');
        form.push_str(value);
    }
    form
}
