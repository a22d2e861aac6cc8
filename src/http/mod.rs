//! HTTP over ureq: one pooled agent per client (keep-alive, so a token fetch or API call rarely pays a new TCP
//! and TLS handshake), bounded in time and size, with ureq's errors mapped onto ours.

use std::time::Duration;

use ureq::http;
use ureq::tls::Certificate;
use ureq::ProxyProtocol;

use crate::config::origin::is_loopback_host;
use crate::config::{ProxySetting, Settings};
use crate::error::{Error, ErrorKind, Result};
use crate::rt::cancel::Cancel;
use crate::rt::clock::Deadline;

mod cancel;
mod resolver;
mod response;
mod shared;
mod stream;
mod tcp;
pub mod throttle;
mod tls;

pub use response::{apigee_errorcode, Response, MAX_FAULT_BODY};
pub use stream::{BodyRoute, Streamed, Upload};
use tcp::TcpConnector;
use ureq::unversioned::transport::{ConnectProxyConnector, Connector};

/// The methods x8 sends, and whether each is idempotent (RFC 9110 §9.2.2): an idempotent request that failed
/// on a reused connection before any reply arrived is sent once more on a fresh one. TRACE (which echoes the
/// Authorization header) and CONNECT are left out, and so are extension methods: the HTTP layer under us would
/// refuse them after the token was fetched.
pub const METHODS: [(&str, bool); 7] = [
    ("GET", true),
    ("HEAD", true),
    ("PUT", true),
    ("DELETE", true),
    ("OPTIONS", true),
    ("POST", false),
    ("PATCH", false),
];

pub fn method_is_supported(method: &str) -> bool {
    METHODS.iter().any(|(m, _)| *m == method)
}

pub(crate) fn method_is_idempotent(method: &str) -> bool {
    METHODS
        .iter()
        .any(|(m, idempotent)| *m == method && *idempotent)
}

pub struct Transport {
    /// Through the configured proxy, if any.
    agent: ureq::Agent,
    /// Without a proxy, for loopback and http:// targets; `None` when there is no proxy (then `agent` is direct).
    direct: Option<ureq::Agent>,
    /// The TLS configuration of both agents, shared with the client's `rediss://` store.
    tls: shared::SharedTls,
    default_timeout: Duration,
    connect_timeout: Duration,
    max_body_bytes: u64,
}

/// Which limit bounded an exchange, so that a timeout can say which one passed.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    connect: Duration,
    /// The client's timeout, or None when the call's own deadline was the shorter (a per-call timeout, a Go
    /// context, a .NET token, time spent fetching the token).
    client: Option<Duration>,
}

/// The largest header block a response may have (ureq's default is 64 KiB; 8x8's replies carry about 1 KiB).
const MAX_RESPONSE_HEADERS: usize = 32 * 1024;
/// Bytes each connection buffers from the server: more than the header limit, so that an endless header block
/// is refused by that limit (a protocol error) rather than by a full buffer.
const CONNECTION_INPUT_BUFFER: usize = MAX_RESPONSE_HEADERS + 16 * 1024;
/// Bytes each connection buffers towards the server (request head and body chunks).
const CONNECTION_OUTPUT_BUFFER: usize = 16 * 1024;

impl Transport {
    pub fn new(settings: &Settings) -> Result<Transport> {
        let o = &settings.options;
        let proxy = match &o.proxy {
            ProxySetting::FromEnvironment => ureq::Proxy::try_from_env(),
            ProxySetting::Disabled => None,
            ProxySetting::Url(url) => Some(ureq::Proxy::new(url).map_err(|_| {
                Error::new(
                    ErrorKind::Config,
                    "the proxy URL is not valid (http://host:port)",
                )
            })?),
        };
        // ureq is built without SOCKS: a SOCKS proxy given by hand is refused, one from the environment ignored
        // (what ureq itself does, where it would otherwise panic on the first request).
        let proxy = match proxy {
            Some(p) if !matches!(p.protocol(), ProxyProtocol::Http | ProxyProtocol::Https) => {
                if !p.is_from_env() {
                    return Err(Error::new(
                        ErrorKind::Config,
                        "SOCKS proxies are not supported; use an http:// proxy",
                    ));
                }
                None
            }
            other => other,
        };
        // Shared with every client of the process with the same trust setting (the rustls config and its
        // roots or platform verifier are built once), and one name cache for all (see shared.rs).
        let trust = tls::Trust {
            roots: o.tls_roots,
            ca_file: o.ca_file.clone().map(|path| (path, o.ca_mode)),
        };
        let tls_shared = shared::tls(&trust, || {
            let certs = match &o.ca_file {
                Some(path) => load_ca_bundle(path)?,
                None => Vec::new(),
            };
            tls::client_config(&trust, certs, &o.logger)
        })?;
        let resolver = shared::resolver();
        let agent = |proxy: Option<ureq::Proxy>| {
            let config = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_connect(Some(o.connect_timeout))
                .timeout_global(Some(o.timeout))
                // Redirects are returned to the caller, not followed: a followed redirect is where
                // Authorization headers leak to other hosts, and 8x8's APIs do not redirect.
                .max_redirects(0)
                .max_redirects_will_error(false)
                .user_agent(o.user_agent.as_str())
                .proxy(proxy)
                // Every pooled connection keeps its buffers while idle: ureq's 128 KiB each way made an idle
                // client cost ~270 KiB (issue 15). A response's header block must fit the input buffer.
                .max_response_header_size(MAX_RESPONSE_HEADERS)
                .input_buffer_size(CONNECTION_INPUT_BUFFER)
                .output_buffer_size(CONNECTION_OUTPUT_BUFFER)
                .max_idle_connections(64)
                .max_idle_connections_per_host(32)
                .build();
            // ureq's default chain with our TCP layer (fewer system calls per pooled request, see tcp.rs), and
            // our resolver instead of ureq's default, which spawns a thread per request once a timeout is set.
            let connector =
                ().chain(ConnectProxyConnector::default())
                    .chain(TcpConnector)
                    .chain(tls_shared.clone());
            ureq::Agent::with_parts(config, connector, resolver.clone())
        };
        // Loopback and plain http:// never go through a proxy (see `bypasses_proxy`): they get an agent of
        // their own without one.
        let direct = proxy.is_some().then(|| agent(None));
        Ok(Transport {
            agent: agent(proxy),
            tls: tls_shared,
            direct,
            default_timeout: o.timeout,
            connect_timeout: o.connect_timeout,
            max_body_bytes: o.max_body_bytes,
        })
    }

    /// The rustls configuration HTTPS verifies with (the client's roots, CA file and mode): for the other TLS
    /// connections the client makes (`rediss://`), so that one setting decides what every one of them trusts.
    pub fn tls_config(&self) -> std::sync::Arc<rustls::ClientConfig> {
        self.tls.config()
    }

    /// The agent for `uri`: without a proxy for loopback hosts and for plain http://. A proxy is for reaching
    /// the internet: sending it a loopback request makes no sense (the proxy's loopback is not ours), and a
    /// plain-http request through it would hand the proxy the Basic credentials or the token in clear (with
    /// `HTTPS_PROXY` set, the emulator's token requests used to reach the proxy). As if `NO_PROXY` always held
    /// `localhost,127.0.0.0/8,::1`.
    fn agent_for(&self, uri: &http::Uri) -> &ureq::Agent {
        match &self.direct {
            Some(direct) if bypasses_proxy(uri) => direct,
            _ => &self.agent,
        }
    }

    /// Sends one request and reads the whole reply. Any HTTP status is a reply; only failures to get one are
    /// errors. A `cancel` of the call makes it return CANCELLED at once, its connection shut down and never
    /// pooled (see cancel.rs).
    pub fn send<U>(
        &self,
        method: &str,
        url: U,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        deadline: Deadline,
        cancel: Option<&Cancel>,
    ) -> Result<Response>
    where
        http::Uri: TryFrom<U>,
        <http::Uri as TryFrom<U>>::Error: Into<http::Error>,
    {
        self.send_capped(
            method,
            url,
            headers,
            body,
            deadline,
            self.max_body_bytes,
            cancel,
        )
    }

    /// As `send`, reading at most `max_body` bytes of the reply (and never more than the client's maximum).
    #[allow(clippy::too_many_arguments)]
    pub fn send_capped<U>(
        &self,
        method: &str,
        url: U,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        deadline: Deadline,
        max_body: u64,
        cancel: Option<&Cancel>,
    ) -> Result<Response>
    where
        http::Uri: TryFrom<U>,
        <http::Uri as TryFrom<U>>::Error: Into<http::Error>,
    {
        cancellable(cancel, || {
            let mut body = Payload::Bytes(body.unwrap_or(&[]));
            let (status, headers, mut reply, limits) =
                self.exchange(method, url, headers, &mut body, deadline, cancel)?;
            let body = read_limited(reply.body_mut(), max_body.min(self.max_body_bytes), limits)?;
            Ok(Response {
                status,
                headers,
                body,
            })
        })
    }

    /// Sends one request and returns the reply's status and headers with its body unread (no size limit: the
    /// caller reads it as it arrives). The upload, if any, is read from its source as it is sent.
    pub fn open<U>(
        &self,
        method: &str,
        url: U,
        headers: &[(&str, &str)],
        upload: Option<&mut Upload>,
        deadline: Deadline,
        cancel: Option<&Cancel>,
    ) -> Result<Streamed>
    where
        http::Uri: TryFrom<U>,
        <http::Uri as TryFrom<U>>::Error: Into<http::Error>,
    {
        // The cancel covers sending and the head of the reply here; a caller reading the body on the same
        // thread puts that in a `cancellable` of its own (`Client::request_to` does).
        cancellable(cancel, || {
            let mut body = match upload {
                Some(up) => Payload::Stream(up),
                None => Payload::Bytes(&[]),
            };
            let (status, headers, reply, limits) =
                self.exchange(method, url, headers, &mut body, deadline, cancel)?;
            Ok(Streamed::new(
                status,
                headers,
                Box::new(reply.into_body().into_reader()),
                limits,
            ))
        })
    }

    /// Sends the request (once more on a stale pooled connection, when that is safe) and returns the reply
    /// with its body unread.
    fn exchange<U>(
        &self,
        method: &str,
        url: U,
        headers: &[(&str, &str)],
        body: &mut Payload,
        deadline: Deadline,
        cancel: Option<&Cancel>,
    ) -> Result<Exchanged>
    where
        http::Uri: TryFrom<U>,
        <http::Uri as TryFrom<U>>::Error: Into<http::Error>,
    {
        let remaining = deadline.remaining();
        if remaining.is_zero() {
            return Err(Error::new(
                ErrorKind::Timeout,
                "the call's deadline passed before the request was sent",
            ));
        }
        let uri = http::Uri::try_from(url)
            .map_err(|e| Error::invalid(format!("invalid URL: {}", e.into())))?;
        let idempotent = method_is_idempotent(method);
        let method = http::Method::from_bytes(method.as_bytes())
            .map_err(|_| Error::invalid(format!("{method:?} is not a valid HTTP method")))?;
        let agent = self.agent_for(&uri);
        let limits = Limits {
            connect: self.connect_timeout,
            client: deadline.client_limit(),
        };
        let response = match self.run(agent, &method, &uri, headers, body, deadline) {
            // The server had closed the pooled connection before the request reached it (a load balancer's
            // short keep-alive): nothing was processed, so an idempotent request goes again, once, on a new
            // connection — what curl and browsers do. A POST or PATCH never does, and neither does a request
            // whose streamed upload has been read from (it cannot be read again): the failure is returned.
            Err(e)
                if idempotent
                    && body.can_resend()
                    && tcp::is_stale_connection(&e)
                    && !deadline.remaining().is_zero()
                    && !cancel.is_some_and(Cancel::is_cancelled) =>
            {
                self.run(agent, &method, &uri, headers, body, deadline)
            }
            other => other,
        };
        let response = match response {
            Ok(r) => r,
            // The upload's source failed: its own words, not the transport's.
            Err(e) => return Err(body.take_failure().unwrap_or_else(|| map_error(e, limits))),
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    with_room_for_nul(n.as_str()),
                    with_room_for_nul(&String::from_utf8_lossy(v.as_bytes())),
                )
            })
            .collect();
        Ok((status, headers, response, limits))
    }

    /// One attempt: builds the request and runs it on `agent` within what is left of `deadline`.
    fn run(
        &self,
        agent: &ureq::Agent,
        method: &http::Method,
        uri: &http::Uri,
        headers: &[(&str, &str)],
        body: &mut Payload,
        deadline: Deadline,
    ) -> std::result::Result<http::Response<ureq::Body>, ureq::Error> {
        let mut builder = http::Request::builder()
            .method(method.clone())
            .uri(uri.clone());
        for (name, value) in headers {
            builder = match wiped_header_value(name, value) {
                Some(wiped) => builder.header(*name, wiped),
                None => builder.header(*name, *value),
            };
        }
        match body {
            Payload::Bytes(bytes) => {
                let request = builder.body(*bytes).map_err(ureq::Error::Http)?;
                self.run_within(agent, request, deadline)
            }
            Payload::Stream(upload) => {
                // Known length: a Content-Length (ureq then sends it as given); unknown: chunked.
                if let Some(len) = upload.announced_len() {
                    builder = builder.header(http::header::CONTENT_LENGTH, len);
                }
                let source: &mut dyn std::io::Read = &mut **upload;
                let request = builder
                    .body(ureq::SendBody::from_reader(source))
                    .map_err(ureq::Error::Http)?;
                self.run_within(agent, request, deadline)
            }
        }
    }

    fn run_within<B: ureq::AsSendBody>(
        &self,
        agent: &ureq::Agent,
        request: http::Request<B>,
        deadline: Deadline,
    ) -> std::result::Result<http::Response<ureq::Body>, ureq::Error> {
        // The agent's own global timeout covers the usual case; a tighter per-call deadline (a Go context, a
        // .NET CancellationToken, time already spent fetching a token) costs a per-request config copy.
        let remaining = deadline.remaining();
        if remaining.is_zero() {
            return Err(ureq::Error::Timeout(ureq::Timeout::Global));
        }
        let request = if remaining < self.default_timeout {
            agent
                .configure_request(request)
                .timeout_global(Some(remaining))
                .build()
        } else {
            request
        };
        agent.run(request)
    }
}

/// A reply's status, its headers (as `Response` has them) and the reply with its body unread.
type Exchanged = (
    u16,
    Vec<(String, String)>,
    http::Response<ureq::Body>,
    Limits,
);

/// What a request sends: bytes it holds (which can be sent again), or a streamed upload.
enum Payload<'a, 'b> {
    Bytes(&'a [u8]),
    Stream(&'a mut Upload<'b>),
}

impl Payload<'_, '_> {
    fn can_resend(&self) -> bool {
        match self {
            Payload::Bytes(_) => true,
            Payload::Stream(up) => !up.started(),
        }
    }

    fn take_failure(&mut self) -> Option<Error> {
        match self {
            Payload::Bytes(_) => None,
            Payload::Stream(up) => up.take_failure(),
        }
    }
}

/// Runs `f` (requests and body reads on this thread) answering to `cancel`: CANCELLED at once when it is
/// cancelled already, and whatever `f` got is not trusted once a cancel shut one of its sockets down (a shut-down
/// socket may read as a clean EOF, which a close-delimited body takes for its end).
pub fn cancellable<R>(cancel: Option<&Cancel>, f: impl FnOnce() -> Result<R>) -> Result<R> {
    if cancel.is_some_and(Cancel::is_cancelled) {
        return Err(cancelled_error());
    }
    let (result, cut) = cancel::scoped(cancel, f);
    if cut || (result.is_err() && cancel.is_some_and(Cancel::is_cancelled)) {
        return Err(cancelled_error());
    }
    result
}

/// What a cancelled call returns.
pub fn cancelled_error() -> Error {
    Error::new(
        ErrorKind::Cancelled,
        "the call was cancelled by its caller; its connection was closed",
    )
}

/// Loopback hosts and plain http:// are always reached directly (see `Transport::agent_for`).
fn bypasses_proxy(uri: &http::Uri) -> bool {
    uri.scheme_str() != Some("https") || is_loopback_host(uri.host().unwrap_or(""))
}

/// The C API hands every string and the body out NUL-terminated: one spare byte now saves a reallocation and a
/// copy per header later.
fn with_room_for_nul(s: &str) -> String {
    let mut owned = String::with_capacity(s.len() + 1);
    owned.push_str(s);
    owned
}

/// The most a Content-Length header can make us allocate before the bytes have arrived.
const MAX_PREALLOCATED_BODY: u64 = 1 << 20;

/// Reads the body to its end (which returns the connection to the pool) but no further than `limit` bytes: an
/// endless or oversized body is cut off with a clear error instead of eating memory. The buffer is sized from
/// Content-Length (and the NUL the C API appends), so that it is not grown and copied step by step.
fn read_limited(body: &mut ureq::Body, limit: u64, limits: Limits) -> Result<Vec<u8>> {
    use std::io::Read;
    let expected = body
        .content_length()
        .unwrap_or(0)
        .min(limit)
        .min(MAX_PREALLOCATED_BODY);
    let mut buf = Vec::with_capacity(expected as usize + 1);
    body.with_config()
        .limit(limit)
        .reader()
        .read_to_end(&mut buf)
        .map_err(|e| map_error(ureq::Error::from(e), limits))?;
    Ok(buf)
}

pub(crate) fn too_large(limit: u64) -> Error {
    Error::new(
        ErrorKind::BodyTooLarge,
        format!("the response body is larger than the configured maximum of {limit} bytes; it was cut off"),
    )
}

fn load_ca_bundle(
    path: &std::path::Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>> {
    let config = |m: String| Error::new(ErrorKind::Config, m);
    let pem = std::fs::read(path)
        .map_err(|e| config(format!("cannot read CA bundle {}: {e}", path.display())))?;
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| {
            config(format!(
                "CA bundle {} is not valid PEM: {e}",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(config(format!(
            "CA bundle {} holds no certificates",
            path.display()
        )));
    }
    Ok(certs
        .iter()
        .map(|c| rustls::pki_types::CertificateDer::from(c.der().to_vec()))
        .collect())
}

/// "timed out (receive response): the client's timeout (30000 ms) passed": the stage, and which limit.
fn timeout_message(which: ureq::Timeout, limits: Limits) -> String {
    use ureq::Timeout as T;
    let limit = match (which, limits.client) {
        (T::Connect, _) => format!("the connect timeout ({} ms)", limits.connect.as_millis()),
        (_, Some(client)) => format!("the client's timeout ({} ms)", client.as_millis()),
        (_, None) => "the call's timeout".to_owned(),
    };
    let stage = match which {
        T::Global | T::PerCall => String::new(),
        other => format!(" ({other})"),
    };
    format!("timed out{stage}: {limit} passed")
}

pub(crate) fn map_error(e: ureq::Error, limits: Limits) -> Error {
    if cancel::is_cancelled(&e) {
        return cancelled_error();
    }
    use ureq::Error as U;
    let (kind, message) = match &e {
        U::Timeout(which) => (ErrorKind::Timeout, timeout_message(*which, limits)),
        U::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            (ErrorKind::Timeout, format!("timed out: {io}"))
        }
        U::Io(io)
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>()) =>
        {
            (
                ErrorKind::Tls,
                format!("TLS failed: {io} (check the CA bundle and the host name)"),
            )
        }
        U::Io(io) => (ErrorKind::Transport, format!("network error: {io}")),
        U::HostNotFound => (ErrorKind::Transport, "host not found (DNS)".to_owned()),
        U::ConnectionFailed => (ErrorKind::Transport, "connection failed".to_owned()),
        U::BodyExceedsLimit(limit) => return too_large(*limit),
        U::Tls(m) => (ErrorKind::Tls, format!("TLS failed: {m}")),
        U::Pem(p) => (ErrorKind::Tls, format!("TLS certificate problem: {p}")),
        U::Rustls(r) => (ErrorKind::Tls, format!("TLS failed: {r}")),
        U::BadUri(u) => (ErrorKind::InvalidArgument, format!("invalid URL: {u}")),
        U::Http(h) => (ErrorKind::InvalidArgument, format!("invalid request: {h}")),
        U::Protocol(p) => (
            ErrorKind::Protocol,
            format!("the server broke the HTTP protocol: {p}"),
        ),
        U::LargeResponseHeader(..) => (
            ErrorKind::Protocol,
            "the server sent oversized response headers".to_owned(),
        ),
        U::InvalidProxyUrl | U::ConnectProxyFailed(_) => {
            (ErrorKind::Transport, format!("proxy failed: {e}"))
        }
        U::BodyStalled => (
            ErrorKind::Timeout,
            "the server stopped sending the body".to_owned(),
        ),
        other => (ErrorKind::Transport, other.to_string()),
    };
    Error::new(kind, message)
}

/// The Authorization header's value (a bearer token, or the Basic credentials) as an `http::HeaderValue` whose
/// bytes are wiped when the last reference to it is dropped; `None` for other headers. `HeaderValue::from_str`
/// copies into a plain buffer that ureq frees without wiping, which left a token copy in freed memory after
/// every request; `Bytes` with a `Zeroizing` owner is taken by `from_maybe_shared` as is, without a copy. An
/// invalid value (which the callers never build) is also `None`, for the request builder to refuse as before.
fn wiped_header_value(name: &str, value: &str) -> Option<http::HeaderValue> {
    if !name.eq_ignore_ascii_case("authorization") {
        return None;
    }
    header_value_owning(zeroize::Zeroizing::new(value.as_bytes().to_vec()))
}

/// A header value over `owner`'s bytes themselves, not a copy of them.
fn header_value_owning(owner: zeroize::Zeroizing<Vec<u8>>) -> Option<http::HeaderValue> {
    let mut value = http::HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(owner)).ok()?;
    value.set_sensitive(true);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_says_which_limit_passed() {
        let limits = |client| Limits {
            connect: Duration::from_secs(10),
            client,
        };
        let client = limits(Some(Duration::from_secs(30)));
        assert_eq!(
            timeout_message(ureq::Timeout::Global, client),
            "timed out: the client's timeout (30000 ms) passed"
        );
        assert_eq!(
            timeout_message(ureq::Timeout::RecvResponse, limits(None)),
            "timed out (receive response): the call's timeout passed"
        );
        assert_eq!(
            timeout_message(ureq::Timeout::Connect, client),
            "timed out (connect): the connect timeout (10000 ms) passed"
        );
    }

    /// The header value is the wiped buffer itself: had `from_maybe_shared` copied it (as `from_str` does,
    /// into a buffer freed unwiped), the pointer would differ.
    #[test]
    fn the_authorization_value_is_its_wiped_buffer_not_a_copy() {
        let bytes = b"Bearer x8-token-value".to_vec();
        let at = bytes.as_ptr();
        let value = header_value_owning(zeroize::Zeroizing::new(bytes)).unwrap();
        assert_eq!(value.as_bytes().as_ptr(), at);
        assert!(value.is_sensitive());
        assert!(wiped_header_value("Authorization", "Bearer t").is_some());
        assert!(wiped_header_value("X-Other", "v").is_none());
        assert!(wiped_header_value("authorization", "bad\r\nvalue").is_none());
    }
}
