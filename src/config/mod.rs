//! What a client is made from: the API key (`credentials`), the options with their defaults and environment
//! variables (here), and their validation (`settings`), done once so the rest of the library works on values
//! known to be sane. `origin` holds the URL rules: where a token may be sent.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::rt::log::Logger;
use crate::store::SharedStore;

mod credentials;
pub mod headers;
pub mod origin;
mod settings;

pub use credentials::Credentials;
pub(crate) use settings::check_token_param;
pub use settings::Settings;
pub(crate) use settings::REDIS_MISSING;

pub const DEFAULT_BASE_URL: &str = "https://api.8x8.com";
pub const TOKEN_PATH: &str = "/oauth/v2/token";

pub const ENV_CLIENT_ID: &str = "X8_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "X8_CLIENT_SECRET";
pub const ENV_BASE_URL: &str = "X8_BASE_URL";
pub const ENV_TOKEN_URL: &str = "X8_TOKEN_URL";
pub const ENV_TOKEN_CACHE: &str = "X8_TOKEN_CACHE";
pub const ENV_REDIS_URL: &str = "X8_REDIS_URL";
pub const ENV_CLIENT_AUTH: &str = "X8_CLIENT_AUTH";
pub const ENV_TOKEN_SCOPE: &str = "X8_TOKEN_SCOPE";
pub const ENV_TLS_ROOTS: &str = "X8_TLS_ROOTS";
pub const ENV_CA_FILE: &str = "X8_CA_FILE";
pub const ENV_CA_MODE: &str = "X8_CA_MODE";
pub const ENV_API_RETRIES: &str = "X8_API_RETRIES";
pub const ENV_RATE_LIMIT: &str = "X8_RATE_LIMIT";

/// How the client proves who it is at the token endpoint (RFC 6749 §2.3.1). The discriminants are the C API's
/// `X8_CLIENT_AUTH_*` (src/ffi/constants.rs checks them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(i32)]
pub enum ClientAuth {
    /// 8x8's: `Authorization: Basic base64(id ":" secret)` with the id and secret as they are (what 8x8's
    /// document shows). An id holding ':' cannot be sent this way.
    #[default]
    Basic = 0,
    /// RFC 6749 §2.3.1: the id and secret form-urlencoded before base64, for servers that insist on it (then
    /// an id may hold ':').
    BasicRfc6749 = 1,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body, no Authorization header.
    Post = 2,
}

impl ClientAuth {
    /// The names of the C API, the bindings, the CLI's config and `X8_CLIENT_AUTH`.
    pub const NAMES: [(&'static str, ClientAuth); 3] = [
        ("basic", ClientAuth::Basic),
        ("basic-rfc6749", ClientAuth::BasicRfc6749),
        ("post", ClientAuth::Post),
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, a)| *a == self)
            .map_or("basic", |(n, _)| *n)
    }

    pub fn from_code(code: i32) -> Option<ClientAuth> {
        Self::NAMES
            .iter()
            .map(|(_, a)| *a)
            .find(|a| *a as i32 == code)
    }

    pub fn from_name(name: &str) -> Result<ClientAuth> {
        Self::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(_, a)| *a)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Config,
                    format!(
                        "{name:?} is not a client authentication style: use basic (8x8's), basic-rfc6749 or post"
                    ),
                )
            })
    }
}

/// Which certificate authorities a client trusts for HTTPS. The discriminants are the C API's `X8_ROOTS_*`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum TlsRoots {
    /// The operating system's verifier (rustls-platform-verifier): the system store on Windows, the system
    /// bundle on Linux (`SSL_CERT_FILE`/`SSL_CERT_DIR` when set). A corporate CA installed there is trusted.
    /// Where the system has no CA bundle at all, the compiled-in roots are used instead, with a warning. On
    /// macOS (built without the Security framework, see Cargo.toml) the compiled-in roots.
    #[default]
    Platform = 0,
    /// Mozilla's roots compiled into x8 (webpki-roots), whatever the system holds.
    CompiledIn = 1,
}

impl TlsRoots {
    pub const NAMES: [(&'static str, TlsRoots); 2] = [
        ("platform", TlsRoots::Platform),
        ("compiled-in", TlsRoots::CompiledIn),
    ];

    pub fn name(self) -> &'static str {
        named(&Self::NAMES, self)
    }

    pub fn from_name(name: &str) -> Result<TlsRoots> {
        from_name(
            &Self::NAMES,
            name,
            "a trust store (X8_TLS_ROOTS): use platform or compiled-in",
        )
    }

    pub fn from_code(code: i32) -> Option<TlsRoots> {
        Self::NAMES
            .iter()
            .map(|(_, r)| *r)
            .find(|r| *r as i32 == code)
    }
}

/// What a CA file (`Options::ca_file`) does to the roots. The discriminants are the C API's `X8_CA_*`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum CaMode {
    /// Its certificates are trusted besides the roots (`TlsRoots`): one corporate CA is enough.
    #[default]
    Add = 0,
    /// Only its certificates are trusted.
    Replace = 1,
}

impl CaMode {
    pub const NAMES: [(&'static str, CaMode); 2] =
        [("add", CaMode::Add), ("replace", CaMode::Replace)];

    pub fn name(self) -> &'static str {
        named(&Self::NAMES, self)
    }

    pub fn from_name(name: &str) -> Result<CaMode> {
        from_name(
            &Self::NAMES,
            name,
            "a CA file mode (X8_CA_MODE): use add or replace",
        )
    }

    pub fn from_code(code: i32) -> Option<CaMode> {
        Self::NAMES
            .iter()
            .map(|(_, m)| *m)
            .find(|m| *m as i32 == code)
    }
}

fn named<T: PartialEq + Copy>(names: &[(&'static str, T)], value: T) -> &'static str {
    names
        .iter()
        .find(|(_, v)| *v == value)
        .map_or("", |(n, _)| *n)
}

fn from_name<T: Copy>(names: &[(&'static str, T)], name: &str, what: &str) -> Result<T> {
    names
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
        .map(|(_, v)| *v)
        .ok_or_else(|| Error::new(ErrorKind::Config, format!("{name:?} is not {what}")))
}

/// A client-side rate limit: at most `requests` API requests start in any `interval` (a sliding window).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub interval: Duration,
}

impl RateLimit {
    /// `N/SECONDS` as `X8_RATE_LIMIT` and the CLI take it: "10/60" is 10 requests per minute, "5/1" five a
    /// second; the seconds may have a fraction ("5/0.5").
    pub fn parse(text: &str) -> Result<RateLimit> {
        let bad = || {
            Error::new(
                ErrorKind::Config,
                format!("{text:?} is not a rate limit: write REQUESTS/SECONDS, e.g. 10/60 for 10 a minute"),
            )
        };
        let (n, secs) = text.trim().split_once('/').ok_or_else(bad)?;
        let requests: u32 = n.trim().parse().map_err(|_| bad())?;
        let secs: f64 = secs.trim().parse().map_err(|_| bad())?;
        if requests == 0 || !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 {
            return Err(bad());
        }
        Ok(RateLimit {
            requests,
            interval: Duration::from_secs_f64(secs),
        })
    }
}

pub(crate) fn env_var(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::new(
            ErrorKind::Config,
            format!("{name} is not valid UTF-8"),
        )),
    }
}

/// Proxy choice: the usual environment variables (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), none, or one URL.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum ProxySetting {
    #[default]
    FromEnvironment,
    Disabled,
    Url(String),
}

/// By hand: a proxy URL may carry a password (`http://user:pass@proxy:3128`); only its scheme and host:port
/// are shown.
impl fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySetting::FromEnvironment => f.write_str("FromEnvironment"),
            ProxySetting::Disabled => f.write_str("Disabled"),
            ProxySetting::Url(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("", url.as_str()));
                let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
                let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                let shown = if authority.contains('@') {
                    format!("{scheme}://[redacted]@{host}")
                } else {
                    format!("{scheme}://{host}")
                };
                f.debug_tuple("Url").field(&shown).finish()
            }
        }
    }
}

/// Where a client shares its token with other processes (see `store`). One enum, so that conflicting stores
/// cannot be set at once.
#[derive(Clone, Default)]
pub enum SharedStoreSetting {
    /// The token stays in this process.
    #[default]
    InProcess,
    /// A folder for the token cache shared by this host's processes (see `store::file`).
    CacheDir(PathBuf),
    /// A Redis server that shares the token among processes on many hosts (see `store::redis`), e.g.
    /// `redis://redis.internal:6379/0`; needs the `redis` cargo feature (on by default).
    Redis(String),
    /// The application's own store (see `SharedStore`).
    Custom(Arc<dyn SharedStore>),
}

/// By hand: a Redis URL may carry a password.
impl fmt::Debug for SharedStoreSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SharedStoreSetting::InProcess => f.write_str("InProcess"),
            SharedStoreSetting::CacheDir(dir) => f.debug_tuple("CacheDir").field(dir).finish(),
            SharedStoreSetting::Redis(_) => f.write_str("Redis([redacted])"),
            SharedStoreSetting::Custom(store) => f.debug_tuple("Custom").field(store).finish(),
        }
    }
}

/// Client options. Every field has a sensible default; see `Default`.
#[derive(Clone)]
pub struct Options {
    /// Origin (and optional path prefix) of the APIs; requests' paths are relative to it.
    pub base_url: String,
    /// The token endpoint; `None` means `base_url` + `/oauth/v2/token`.
    pub token_url: Option<String>,
    pub connect_timeout: Duration,
    /// Bound on one whole call (`get_token` that fetches, or `request` including a token fetch and a replay).
    pub timeout: Duration,
    /// How long before expiry a token is renewed in the background. Shrunk to a fifth of a short lifetime.
    pub refresh_margin: Duration,
    /// A token is treated as expired this long before the server's expiry, to absorb latency and clock drift.
    pub expiry_safety: Duration,
    pub user_agent: String,
    /// Which roots HTTPS and a `rediss://` store trust: the platform's verifier (default) or the compiled-in
    /// Mozilla roots.
    pub tls_roots: TlsRoots,
    /// PEM file of CA certificates to trust (corporate TLS inspection, a test CA), besides the roots or instead
    /// of them (`ca_mode`).
    pub ca_file: Option<PathBuf>,
    pub ca_mode: CaMode,
    pub proxy: ProxySetting,
    pub max_body_bytes: u64,
    /// Retries of a failed token fetch (5xx, 429, network), after the first attempt.
    pub max_retries: u32,
    pub retry_base_delay: Duration,
    pub retry_max_delay: Duration,
    /// Replay a request once with a new token when the API says the token is invalid or expired.
    pub replay_on_401: bool,
    /// Retries of an idempotent API request answered 429 or 503 (after `Retry-After`, else a jittered backoff
    /// from `retry_base_delay` to `retry_max_delay`), within the call's deadline. 0 (the default) sends each
    /// request once; POST and PATCH are never retried.
    pub api_retries: u32,
    /// Makes callers wait their turn (within their deadline) rather than send more than this many requests per
    /// interval. None (the default) sends at once.
    pub rate_limit: Option<RateLimit>,
    /// Where the token is shared with other processes, if anywhere: one choice, so two stores cannot be set.
    pub shared_store: SharedStoreSetting,
    /// How the credentials go to the token endpoint; 8x8's raw Basic by default.
    pub client_auth: ClientAuth,
    /// An OAuth `scope` for the token request; 8x8 needs none, so none is sent by default.
    pub token_scope: Option<String>,
    /// Extra form parameters of the token request (`audience`, `resource`) for servers that need them.
    pub token_params: Vec<(String, String)>,
    /// Headers sent with every request of the client (`X-Tenant-Info` for a multi-tenant customer, QM's `pbx`);
    /// a per-call header of the same name replaces one of these. Checked like per-call headers.
    pub default_headers: Vec<(String, String)>,
    pub logger: Logger,
}

/// By hand, to keep credentials out of it (a proxy URL may carry a password): keep it in step with the fields.
impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("base_url", &self.base_url)
            .field("token_url", &self.token_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("refresh_margin", &self.refresh_margin)
            .field("expiry_safety", &self.expiry_safety)
            .field("user_agent", &self.user_agent)
            .field("tls_roots", &self.tls_roots)
            .field("ca_file", &self.ca_file)
            .field("ca_mode", &self.ca_mode)
            .field("proxy", &self.proxy)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_retries", &self.max_retries)
            .field("retry_base_delay", &self.retry_base_delay)
            .field("retry_max_delay", &self.retry_max_delay)
            .field("replay_on_401", &self.replay_on_401)
            .field("api_retries", &self.api_retries)
            .field("rate_limit", &self.rate_limit)
            .field("shared_store", &self.shared_store)
            .field("client_auth", &self.client_auth)
            .field("token_scope", &self.token_scope)
            .field("token_params", &self.token_params)
            .field("default_headers", &self.default_headers)
            .field("logger", &self.logger)
            .finish()
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token_url: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            refresh_margin: Duration::from_secs(300),
            expiry_safety: Duration::from_secs(30),
            user_agent: concat!("x8/", env!("CARGO_PKG_VERSION")).to_owned(),
            tls_roots: TlsRoots::Platform,
            ca_file: None,
            ca_mode: CaMode::Add,
            proxy: ProxySetting::FromEnvironment,
            max_body_bytes: 64 * 1024 * 1024,
            max_retries: 3,
            retry_base_delay: Duration::from_millis(250),
            retry_max_delay: Duration::from_secs(8),
            replay_on_401: true,
            api_retries: 0,
            rate_limit: None,
            shared_store: SharedStoreSetting::InProcess,
            client_auth: ClientAuth::Basic,
            token_scope: None,
            token_params: Vec::new(),
            default_headers: Vec::new(),
            logger: Logger::default(),
        }
    }
}

impl Options {
    /// Defaults, with `X8_BASE_URL` and `X8_TOKEN_URL` applied when set.
    pub fn from_env() -> Result<Options> {
        let mut opts = Options::default();
        opts.apply_env()?;
        Ok(opts)
    }

    /// Applies `X8_BASE_URL`, `X8_TOKEN_URL`, `X8_TOKEN_CACHE`, `X8_REDIS_URL`, `X8_CLIENT_AUTH`,
    /// `X8_TOKEN_SCOPE`, `X8_TLS_ROOTS`, `X8_CA_FILE`, `X8_CA_MODE`, `X8_API_RETRIES` and `X8_RATE_LIMIT` over what
    /// is set.
    pub fn apply_env(&mut self) -> Result<()> {
        // A shared store named in the environment replaces the one in the options; naming two is an error.
        match (env_var(ENV_TOKEN_CACHE)?, env_var(ENV_REDIS_URL)?) {
            (Some(_), Some(_)) => {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                    "choose one shared token store: {ENV_TOKEN_CACHE} or {ENV_REDIS_URL}, not both"
                ),
                ))
            }
            (Some(dir), None) => {
                self.shared_store = SharedStoreSetting::CacheDir(PathBuf::from(dir))
            }
            (None, Some(url)) => self.shared_store = SharedStoreSetting::Redis(url),
            (None, None) => {}
        }
        if let Some(base) = env_var(ENV_BASE_URL)? {
            self.base_url = base;
        }
        if let Some(token_url) = env_var(ENV_TOKEN_URL)? {
            self.token_url = Some(token_url);
        }
        if let Some(style) = env_var(ENV_CLIENT_AUTH)? {
            self.client_auth = ClientAuth::from_name(&style)?;
        }
        if let Some(scope) = env_var(ENV_TOKEN_SCOPE)? {
            self.token_scope = Some(scope);
        }
        if let Some(roots) = env_var(ENV_TLS_ROOTS)? {
            self.tls_roots = TlsRoots::from_name(&roots)?;
        }
        if let Some(path) = env_var(ENV_CA_FILE)? {
            self.ca_file = Some(PathBuf::from(path));
        }
        if let Some(mode) = env_var(ENV_CA_MODE)? {
            self.ca_mode = CaMode::from_name(&mode)?;
        }
        if let Some(n) = env_var(ENV_API_RETRIES)? {
            self.api_retries = n.trim().parse().map_err(|_| {
                Error::new(
                    ErrorKind::Config,
                    format!("{ENV_API_RETRIES}={n:?} is not a number of retries"),
                )
            })?;
        }
        if let Some(limit) = env_var(ENV_RATE_LIMIT)? {
            self.rate_limit = Some(RateLimit::parse(&limit)?);
        }
        Ok(())
    }
}
