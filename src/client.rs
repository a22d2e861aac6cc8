//! The safe Rust API: a `Client` that hands out cached tokens and makes authenticated requests. Cloning a
//! client is cheap and shares its cache, connection pool and counters; it is `Send + Sync`.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::{Policy, TokenCache};
use crate::config::headers::validate_header;
use crate::config::origin::refuse_control_chars;
use crate::config::{Credentials, Options, Settings, SharedStoreSetting};
use crate::error::{Error, ErrorKind, Result};
use crate::http::throttle::ApiRetries;
use crate::http::Transport;
use crate::http::{BodyRoute, Response, Streamed};
use crate::oauth::TokenEndpoint;
use crate::rt::cancel::Cancel;
use crate::rt::clock::Deadline;
use crate::rt::fork;
use crate::rt::limiter::{RateLimiter, Turn};
use crate::rt::log::Level;
use crate::rt::stats::{Stats, StatsSnapshot};
#[cfg(unix)]
use crate::store::file::FileStore;
use crate::store::{store_key, Gate, SharedStore, StoreSource};
use crate::token::Token;
use crate::token::TokenSource;
use ureq::http::Uri;

/// Apigee fault codes that mean "this token is no good": a new token may fix the call.
const TOKEN_FAULTS: [&str; 4] = [
    "keymanagement.service.invalid_access_token",
    "keymanagement.service.access_token_expired",
    "oauth.v2.invalidaccesstoken",
    "oauth.v2.accesstokenexpired",
];
const NO_PRODUCT_FAULT: &str = "keymanagement.service.invalidapicallasnoapiproductmatchfound";

/// One API call. `path` is relative to the base URL, or an absolute URL on the same origin.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: Vec<(&'a str, &'a str)>,
    pub body: Option<&'a [u8]>,
    /// Overrides the client's overall timeout for this call.
    pub timeout: Option<Duration>,
    /// Cancels the call from another thread: it returns `ErrorKind::Cancelled` promptly, closing its
    /// connection (see `Cancel`).
    pub cancel: Option<&'a Cancel>,
}

#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    cache: Arc<TokenCache>,
    transport: Arc<Transport>,
    stats: Arc<Stats>,
    /// The client-side rate limit every API request waits for, if one is set.
    limiter: Option<RateLimiter>,
    api_retries: ApiRetries,
    /// Shut by `close_callbacks`: the shared store is not called after that.
    store_gate: Gate,
    fork_generation: u64,
}

enum Verdict {
    Accepted,
    TokenRejected,
    NotEntitled,
}

impl Client {
    pub fn new(credentials: Credentials, mut options: Options) -> Result<Client> {
        let fork_generation = fork::generation();
        options.logger = options.logger.attached();
        let settings = Settings::new(options)?;
        let stats = Arc::new(Stats::default());
        let transport = Arc::new(Transport::new(&settings)?);
        let o = &settings.options;
        let endpoint =
            TokenEndpoint::new(&credentials, &settings, transport.clone(), stats.clone())?;
        let store_gate = Gate::open();
        let source: Box<dyn TokenSource> = match shared_store(o, &transport)? {
            Some(store) => Box::new(StoreSource::new(
                Box::new(endpoint),
                store,
                store_key(&settings.token_url, credentials.client_id()),
                o.refresh_margin,
                o.logger.clone(),
                stats.clone(),
                store_gate.clone(),
            )),
            None => Box::new(endpoint),
        };
        let policy = Policy {
            refresh_margin_ms: o.refresh_margin.as_millis() as u64,
            expiry_safety_ms: o.expiry_safety.as_millis() as u64,
            fetch_timeout: o.timeout,
            failure_backoff_min_ms: 1_000,
            failure_backoff_max_ms: 30_000,
            jitter: true,
        };
        let cache = TokenCache::new(source, policy, stats.clone(), o.logger.clone());
        let limiter = o
            .rate_limit
            .map(|l| RateLimiter::new(l.requests, l.interval));
        let api_retries = ApiRetries {
            max: o.api_retries,
            base_delay: o.retry_base_delay,
            max_delay: o.retry_max_delay,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                settings,
                cache,
                transport,
                stats,
                limiter,
                api_retries,
                store_gate,
                fork_generation,
            }),
        })
    }

    /// Credentials from `X8_CLIENT_ID` / `X8_CLIENT_SECRET`; the option variables of `Options::apply_env`
    /// (`X8_BASE_URL`, `X8_TOKEN_URL`, `X8_TLS_ROOTS`, `X8_RATE_LIMIT`...) override `options`.
    pub fn from_env(mut options: Options) -> Result<Client> {
        options.apply_env()?;
        Client::new(Credentials::from_env()?, options)
    }

    pub fn options(&self) -> &Options {
        &self.inner.settings.options
    }

    /// The client's transport (its pool, proxy, CA and limits), for layers that send without a token.
    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// FORKED when this client was made before a fork() that this process is the child of.
    #[inline]
    pub(crate) fn check_fork(&self) -> Result<()> {
        if fork::changed_since(self.inner.fork_generation) {
            return Err(Error::new(
                ErrorKind::Forked,
                "this client was created before fork(); create a new client in the child process",
            ));
        }
        Ok(())
    }

    /// Runs `f` on a valid token without copying it: the allocation-free path behind `x8_get_token`.
    #[inline]
    pub fn with_token<R>(&self, f: impl FnOnce(&Token) -> R) -> Result<R> {
        self.check_fork()?;
        self.inner
            .cache
            .with_token(self.inner.settings.options.timeout, |t| f(t))
    }

    /// Copies a valid token and a NUL into `out`: the lock-free, allocation-free path behind `x8_get_token`.
    #[inline]
    pub fn copy_token(&self, out: &mut [u8]) -> Result<crate::cache::Copied> {
        self.check_fork()?;
        self.inner
            .cache
            .copy_token(self.inner.settings.options.timeout, out)
    }

    /// As `copy_token`, waiting at most `timeout` (`None`: the client's) and until `cancel` is cancelled
    /// (then `ErrorKind::Cancelled`; the fetch goes on for the other callers).
    pub fn copy_token_cancellable(
        &self,
        out: &mut [u8],
        timeout: Option<Duration>,
        cancel: Option<&Cancel>,
    ) -> Result<crate::cache::Copied> {
        self.check_fork()?;
        not_cancelled(cancel)?;
        self.inner.cache.copy_token_cancellable(
            timeout.unwrap_or(self.inner.settings.options.timeout),
            cancel,
            out,
        )
    }

    /// A valid token (fetched if none is cached or it is expiring), shared with the cache.
    pub fn token(&self, timeout: Option<Duration>) -> Result<Arc<Token>> {
        self.token_cancellable(timeout, None)
    }

    /// As `token`, giving up with `ErrorKind::Cancelled` when `cancel` is cancelled: at once when it is
    /// already, else as soon as it is while this waits for a token fetch, which goes on for the other callers.
    pub fn token_cancellable(
        &self,
        timeout: Option<Duration>,
        cancel: Option<&Cancel>,
    ) -> Result<Arc<Token>> {
        self.check_fork()?;
        not_cancelled(cancel)?;
        self.inner.cache.with_token_cancellable(
            timeout.unwrap_or(self.inner.settings.options.timeout),
            cancel,
            Arc::clone,
        )
    }

    pub fn has_product(&self, product: &str) -> Result<bool> {
        self.with_token(|t| t.has_product(product))
    }

    /// Drops the cached token: the next call fetches a new one (e.g. after products were added to the key).
    /// FORKED in a fork child: it would call the shared store's callbacks, with the parent's connections.
    pub fn invalidate(&self) -> Result<()> {
        self.check_fork()?;
        self.inner.cache.invalidate(None);
        Ok(())
    }

    /// Drops the cached token only if it is still `rejected` (a token the API refused): when many callers see
    /// the same token refused at once, the first drops it and the rest leave its successor alone. Returns
    /// whether it was dropped. FORKED in a fork child, as `invalidate`.
    pub fn invalidate_if_current(&self, rejected: &str) -> Result<bool> {
        self.check_fork()?;
        Ok(match self.inner.cache.current() {
            Some(current) if current.access_token() == rejected => {
                self.inner.cache.invalidate(Some(&current))
            }
            _ => false,
        })
    }

    /// Counts a replay done by the caller's own HTTP client after `invalidate_if_current` (see
    /// `x8_client_count_replay`).
    pub fn count_replay(&self) {
        Stats::bump(&self.inner.stats.replays_after_401);
    }

    /// Stops the diagnostics callback and the shared token store for good (waiting for calls in progress):
    /// after this, nothing this client still runs in the background calls them; a token fetch then goes
    /// straight to the token endpoint. The C API calls it from `x8_client_free`.
    pub fn close_callbacks(&self) {
        self.inner.settings.options.logger.close();
        self.inner.store_gate.close();
    }

    /// What `x8_client_free` does before dropping the client: closes the callbacks, then takes the cache off
    /// the renewal scheduler, waiting (bounded by the timeout) for a renewal running for it, so that once the
    /// client is dropped nothing of it runs anywhere, and freeing the process's last client ends every x8
    /// thread.
    ///
    /// In a fork child this does nothing at all: the gates' locks may have been held by parent threads that do
    /// not exist here (taking them would deadlock), no callback of an inherited client can run in the child
    /// (every call answers FORKED and its threads stayed in the parent), and dropping it afterwards releases
    /// only the child's copy of its memory and descriptors, never the parent's sockets or locks.
    pub fn release(&self) {
        if fork::changed_since(self.inner.fork_generation) {
            return;
        }
        self.close_callbacks();
        self.inner.cache.shutdown();
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot(self.inner.cache.seconds_left())
    }

    /// Sends an authenticated request. When the API says the token is invalid or expired (a 401, or an Apigee
    /// fault saying so whatever the status), the token is dropped — only if it is still the cached one — and the
    /// request is sent once more with a new token; a second rejection is returned as the response.
    pub fn request(&self, req: &Request) -> Result<Response> {
        let (url, deadline) = self.prepare(req)?;
        self.with_replay(deadline, req.cancel, |token| {
            let reply = self.send(token, req, &url, deadline)?;
            Ok(Attempt {
                verdict: classify(reply.status, &reply.body),
                status: reply.status,
                reply,
                replayable: true,
            })
        })
    }

    /// As `request`, but the reply comes back as soon as its status and headers have arrived, with its body
    /// unread: read it (`std::io::Read`, or `Streamed::copy_to`) as it arrives, in constant memory and with no
    /// size limit. The call's timeout covers reading the body too: set `req.timeout` for a large download.
    ///
    /// `upload`, if given, is the request body, read from its source as it is sent (`req.body` must then be
    /// `None`). Rules for sending again: a stale pooled connection, or a 401 answering a rejected token, makes
    /// the request go once more only while the upload's source has not given a byte (it cannot be rewound);
    /// after that the failure, or the 401, is the answer (the rejected token is still dropped, so the caller's
    /// own retry gets a new one). A reply's body is never read twice: whatever reaches the caller is the final
    /// reply's. Error bodies (status 400 and up) of at most 64 KiB are read first to look for Apigee's
    /// token faults, then handed over whole.
    pub fn request_reader(
        &self,
        req: &Request,
        mut upload: Option<&mut crate::http::Upload>,
    ) -> Result<crate::http::Streamed> {
        if req.body.is_some() && upload.is_some() {
            return Err(Error::invalid(
                "a request has either a body or a streamed upload, not both",
            ));
        }
        let (url, deadline) = self.prepare(req)?;
        self.with_replay(deadline, req.cancel, |token| {
            let bearer = bearer(token);
            let headers = self.headers(&bearer, req);
            let reply =
                self.open_with_retries(req, &url, &headers, upload.as_deref_mut(), deadline)?;
            let status = reply.status;
            let (verdict, reply) = classify_streamed(reply)?;
            Ok(Attempt {
                verdict,
                status,
                reply,
                replayable: upload.as_ref().is_none_or(|up| !up.started()),
            })
        })
    }

    /// As `request_reader`, writing the body to `sink` as it arrives. The returned response has the status and
    /// headers and an empty body. A failing sink ends the call with `Aborted`.
    pub fn request_to(
        &self,
        req: &Request,
        upload: Option<&mut crate::http::Upload>,
        sink: &mut dyn std::io::Write,
    ) -> Result<Response> {
        self.request_to_with_head(req, upload, sink, |_| Ok(BodyRoute::Stream))
    }

    /// As `request_to`, but `head` sees the final reply's status and headers before any byte reaches `sink`
    /// (never those of a 401 that is replayed) and says where the body goes: streamed into `sink`, or held in
    /// the returned response under `max_body_bytes` with nothing written — so an error body never lands in a
    /// caller's file. An error from `head` ends the call with it, nothing written.
    pub fn request_to_with_head(
        &self,
        req: &Request,
        upload: Option<&mut crate::http::Upload>,
        sink: &mut dyn std::io::Write,
        head: impl FnOnce(&Streamed) -> Result<BodyRoute>,
    ) -> Result<Response> {
        // The body is read here, on this thread, so the call's cancel covers it too.
        crate::http::cancellable(req.cancel, || {
            let reply = self.request_reader(req, upload)?;
            let route = head(&reply)?;
            reply.deliver(route, sink, self.options().max_body_bytes)
        })
    }

    /// The checks every request makes before anything is sent: its URL and its deadline.
    fn prepare(&self, req: &Request) -> Result<(Uri, Deadline)> {
        self.check_fork()?;
        not_cancelled(req.cancel)?;
        let s = &self.inner.settings;
        validate_method(req.method)?;
        for (name, value) in &req.headers {
            validate_header(name, value)?;
        }
        let url = s.api_origin.resolve(&s.api_prefix, req.path)?;
        let deadline = match req.timeout {
            Some(t) => Deadline::after(t),
            None => Deadline::client_timeout(s.options.timeout),
        };
        Stats::bump(&self.inner.stats.requests);
        Ok((url, deadline))
    }

    /// Runs `attempt` with a valid token, and once more with a new one when the API rejected the first (unless
    /// replays are off or the attempt says it cannot be repeated).
    fn with_replay<R>(
        &self,
        deadline: Deadline,
        cancel: Option<&Cancel>,
        mut attempt: impl FnMut(&Token) -> Result<Attempt<R>>,
    ) -> Result<R> {
        let s = &self.inner.settings;
        let token = self.token_within(deadline, cancel)?;
        let first = attempt(&token)?;
        match first.verdict {
            Verdict::Accepted => Ok(first.reply),
            Verdict::NotEntitled => Err(not_entitled(&token, first.status)),
            Verdict::TokenRejected => {
                self.inner.cache.invalidate(Some(&token));
                if !s.options.replay_on_401 {
                    return Ok(first.reply);
                }
                if !first.replayable {
                    s.options.logger.log(Level::Info, || {
                        format!(
                            "the API rejected the token ({}); not replaying: the streamed upload was already read",
                            first.status
                        )
                    });
                    return Ok(first.reply);
                }
                Stats::bump(&self.inner.stats.replays_after_401);
                s.options.logger.log(Level::Info, || {
                    format!(
                        "the API rejected the token ({}); replaying once with a new token",
                        first.status
                    )
                });
                drop(first);
                let token = self.token_within(deadline, cancel)?;
                let again = attempt(&token)?;
                match again.verdict {
                    Verdict::NotEntitled => Err(not_entitled(&token, again.status)),
                    Verdict::TokenRejected => {
                        self.inner.cache.invalidate(Some(&token));
                        Ok(again.reply)
                    }
                    Verdict::Accepted => Ok(again.reply),
                }
            }
        }
    }

    fn token_within(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<Arc<Token>> {
        self.inner
            .cache
            .with_token_cancellable(deadline.remaining(), cancel, Arc::clone)
    }

    /// The headers of one attempt: the bearer token, the client's defaults, the call's own.
    fn headers<'h>(&'h self, bearer: &'h str, req: &'h Request) -> Vec<(&'h str, &'h str)> {
        let defaults = &self.inner.settings.options.default_headers;
        let mut headers = Vec::with_capacity(req.headers.len() + defaults.len() + 1);
        headers.push(("Authorization", bearer));
        // A per-call header replaces the client's default of the same name.
        headers.extend(
            defaults
                .iter()
                .filter(|(name, _)| {
                    !req.headers
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case(name))
                })
                .map(|(n, v)| (n.as_str(), v.as_str())),
        );
        headers.extend(req.headers.iter().copied());
        headers
    }

    fn send(
        &self,
        token: &Token,
        req: &Request,
        url: &Uri,
        deadline: Deadline,
    ) -> Result<Response> {
        let bearer = bearer(token);
        let headers = self.headers(&bearer, req);
        let mut attempt = 0;
        loop {
            self.wait_for_turn(deadline, req.cancel)?;
            let reply = self.inner.transport.send(
                req.method,
                url.clone(),
                &headers,
                req.body,
                deadline,
                req.cancel,
            )?;
            let Some(wait) = self
                .inner
                .api_retries
                .wait_before_retry(req.method, &reply, attempt, deadline)
            else {
                return Ok(reply);
            };
            attempt += 1;
            let status = reply.status;
            drop(reply);
            self.pause_before_retry(req, url, status, attempt, wait)?;
        }
    }

    /// `send` for a streamed call: the same rate limit and the same API retries (429/503 with Retry-After), which
    /// go by the status and headers alone, before any of the body is handed out; never once the upload's source
    /// has given a byte.
    fn open_with_retries(
        &self,
        req: &Request,
        url: &Uri,
        headers: &[(&str, &str)],
        mut upload: Option<&mut crate::http::Upload>,
        deadline: Deadline,
    ) -> Result<crate::http::Streamed> {
        let mut attempt = 0;
        loop {
            self.wait_for_turn(deadline, req.cancel)?;
            let reply = self.inner.transport.open(
                req.method,
                url.clone(),
                headers,
                upload.as_deref_mut(),
                deadline,
                req.cancel,
            )?;
            if upload.as_ref().is_some_and(|up| up.started()) || !matches!(reply.status, 429 | 503)
            {
                return Ok(reply);
            }
            let head = Response {
                status: reply.status,
                headers: reply.headers.clone(),
                body: Vec::new(),
            };
            let Some(wait) = self
                .inner
                .api_retries
                .wait_before_retry(req.method, &head, attempt, deadline)
            else {
                return Ok(reply);
            };
            attempt += 1;
            let status = reply.status;
            drop(reply);
            self.pause_before_retry(req, url, status, attempt, wait)?;
        }
    }

    /// Counts and logs API retry number `attempt` (the API answered `status`), then waits `wait` for it, or
    /// until the call's cancel: CANCELLED then, and nothing more is sent.
    fn pause_before_retry(
        &self,
        req: &Request,
        url: &Uri,
        status: u16,
        attempt: u32,
        wait: Duration,
    ) -> Result<()> {
        Stats::bump(&self.inner.stats.api_retries);
        self.inner.settings.options.logger.log(Level::Info, || {
            format!(
                "the API answered {status} to {} {}; retry {attempt} in {} ms",
                req.method,
                url.path(),
                wait.as_millis()
            )
        });
        if crate::rt::cancel::sleep_unless_cancelled(req.cancel, wait) {
            return Err(Error::new(
                ErrorKind::Cancelled,
                "the call was cancelled by its caller while it waited to retry",
            ));
        }
        Ok(())
    }

    /// Waits for a turn of the client's rate limit, if it has one; TIMEOUT when the turn would come after the
    /// call's deadline (nothing is sent then).
    fn wait_for_turn(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let Some(limiter) = &self.inner.limiter else {
            return Ok(());
        };
        match limiter.acquire(deadline, cancel) {
            Turn::Now => Ok(()),
            Turn::Cancelled => Err(Error::new(
                ErrorKind::Cancelled,
                "the call was cancelled by its caller while it waited for its rate-limit turn; nothing was sent",
            )),
            Turn::Waited(_) => {
                Stats::bump(&self.inner.stats.rate_limit_waits);
                Ok(())
            }
            Turn::TooLate(wait) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "the client's rate limit has no free turn before the call's deadline (the next is in {} ms); \
                     nothing was sent",
                    wait.as_millis()
                ),
            )),
        }
    }
}

/// CANCELLED for a call given a handle that is cancelled already, before it does anything.
fn not_cancelled(cancel: Option<&Cancel>) -> Result<()> {
    match cancel {
        Some(c) if c.is_cancelled() => Err(Error::new(
            ErrorKind::Cancelled,
            "the call was cancelled by its caller before it started",
        )),
        _ => Ok(()),
    }
}

/// One attempt's reply and what `with_replay` needs to know of it.
struct Attempt<R> {
    verdict: Verdict,
    status: u16,
    reply: R,
    /// Whether the request can be sent once more (a streamed upload that was read from cannot).
    replayable: bool,
}

fn bearer(token: &Token) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(format!("Bearer {}", token.access_token()))
}

/// The verdict on a streamed reply: an error body small enough to be an Apigee fault is read to look, then put
/// back in front of the rest.
fn classify_streamed(mut reply: crate::http::Streamed) -> Result<(Verdict, crate::http::Streamed)> {
    if reply.status < 400 {
        return Ok((Verdict::Accepted, reply));
    }
    let prefix = reply.read_prefix(crate::http::MAX_FAULT_BODY as u64 + 1)?;
    let verdict = classify(reply.status, &prefix);
    Ok((verdict, reply.unread(prefix)))
}

/// Why the shared token-cache file is refused on Windows.
#[cfg(windows)]
const FILE_CACHE_ON_WINDOWS: &str = "the shared token-cache file (X8_TOKEN_CACHE, x8_options_set_token_cache) is not \
     available on Windows: x8 cannot yet check that only its owner can read it; share the token through Redis \
     (X8_REDIS_URL) or an x8_token_store instead";

/// The store that shares the token among processes, if the options name one.
fn shared_store(o: &Options, transport: &Transport) -> Result<Option<Arc<dyn SharedStore>>> {
    Ok(match &o.shared_store {
        SharedStoreSetting::InProcess => None,
        // A folder others could write is refused: the token then stays in this process.
        #[cfg(unix)]
        SharedStoreSetting::CacheDir(dir) => match FileStore::open(dir, o.logger.clone()) {
            Ok(store) => Some(Arc::new(store)),
            Err(why) => {
                o.logger.log(Level::Warn, || {
                    format!(
                        "token cache {}: {why}; keeping the token in this process instead",
                        dir.display()
                    )
                });
                None
            }
        },
        // Its privacy rests on Unix owner and mode bits; without an owner-only ACL check it would be unprotected.
        #[cfg(windows)]
        SharedStoreSetting::CacheDir(_) => {
            return Err(Error::new(ErrorKind::Config, FILE_CACHE_ON_WINDOWS))
        }
        #[cfg(feature = "redis")]
        SharedStoreSetting::Redis(url) => Some(Arc::new(
            // `rediss://` trusts what the client's HTTPS trusts: the same configuration, not a second one.
            crate::store::redis::RedisStore::open(url, transport.tls_config())?,
        )),
        #[cfg(not(feature = "redis"))]
        SharedStoreSetting::Redis(_) => {
            return Err(Error::new(ErrorKind::Config, crate::config::REDIS_MISSING))
        }
        SharedStoreSetting::Custom(store) => Some(store.clone()),
    })
}

fn classify(status: u16, body: &[u8]) -> Verdict {
    if status < 400 {
        return Verdict::Accepted;
    }
    match crate::http::apigee_errorcode(status, body).map(|c| c.to_ascii_lowercase()) {
        Some(code) if code == NO_PRODUCT_FAULT => Verdict::NotEntitled,
        Some(code) if TOKEN_FAULTS.contains(&code.as_str()) => Verdict::TokenRejected,
        _ if status == 401 => Verdict::TokenRejected,
        _ => Verdict::Accepted,
    }
}

fn not_entitled(token: &Token, status: u16) -> Error {
    Error::new(
        ErrorKind::NotEntitled,
        format!(
            "the API answered {} \"no API product match\": this key's token carries [{}], not the product this API needs. \
             Products added to a key in 8x8 Admin Console take a few minutes to replicate; then have the client \
             drop its cached token (its invalidate call) so that the next call fetches one with the new products",
            status,
            token.products().join(", ")
        ),
    )
    .with_http_status(status)
}

/// Only the methods of [`crate::http::METHODS`], spelled exactly (methods are case-sensitive): anything else
/// (`PROPFIND`, `PURGE`, `get`, `TRACE`, which would echo the Authorization header back) is refused before
/// anything is sent, rather than failing inside the HTTP layer as if the server had broken the protocol.
fn validate_method(method: &str) -> Result<()> {
    refuse_control_chars(method, "method")?;
    if crate::http::method_is_supported(method) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "{method:?} is not a supported HTTP method: use one of {} (upper case)",
        crate::http::METHODS
            .iter()
            .map(|(m, _)| *m)
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_reply(r: &Response) -> Verdict {
        classify(r.status, &r.body)
    }

    fn reply(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn classifies_token_rejections_by_fault_code_whatever_the_status() {
        let expired = r#"{"fault":{"faultstring":"Access Token expired","detail":{"errorcode":"keymanagement.service.access_token_expired"}}}"#;
        let no_product = r#"{"fault":{"faultstring":"Invalid API call as no apiproduct match found","detail":{"errorcode":"keymanagement.service.InvalidAPICallAsNoApiProductMatchFound"}}}"#;
        let malformed = r#"{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}"#;
        assert!(matches!(
            classify_reply(&reply(500, expired)),
            Verdict::TokenRejected
        ));
        assert!(matches!(
            classify_reply(&reply(400, malformed)),
            Verdict::TokenRejected
        ));
        assert!(matches!(
            classify_reply(&reply(401, "")),
            Verdict::TokenRejected
        ));
        assert!(matches!(
            classify_reply(&reply(401, no_product)),
            Verdict::NotEntitled
        ));
        assert!(matches!(
            classify_reply(&reply(403, no_product)),
            Verdict::NotEntitled
        ));
        assert!(matches!(
            classify_reply(&reply(500, "{}")),
            Verdict::Accepted
        ));
        assert!(matches!(classify_reply(&reply(404, "")), Verdict::Accepted));
        assert!(matches!(
            classify_reply(&reply(200, expired)),
            Verdict::Accepted
        ));
    }

    #[test]
    fn validates_methods_and_headers() {
        for ok in ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
            assert!(validate_method(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "GE T",
            "GET\r\n",
            "G\0",
            "GET/",
            &"A".repeat(40),
            "PROPFIND",
            "PURGE",
            "get",
            "Get",
            "TRACE",
            "CONNECT",
        ] {
            let e = validate_method(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}");
        }
        assert!(validate_header("X-Tenant-Info", "acme").is_ok());
        assert!(validate_header("Accept", "application/json; q=1\t").is_ok());
        for (n, v) in [
            ("X\r\nEvil", "1"),
            ("X", "a\r\nEvil: 1"),
            ("X", "a\nb"),
            ("", "v"),
            ("A B", "v"),
            ("authorization", "Bearer x"),
            ("Host", "evil"),
        ] {
            assert!(validate_header(n, v).is_err(), "{n:?}: {v:?}");
        }
    }
}
