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
pub mod origin;
mod settings;

pub use credentials::Credentials;
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

/// How the client proves who it is at the token endpoint (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// 8x8's: `Authorization: Basic base64(id ":" secret)` with the id and secret as they are (what 8x8's
    /// document shows). An id holding ':' cannot be sent this way.
    #[default]
    Basic,
    /// RFC 6749 §2.3.1: the id and secret form-urlencoded before base64, for servers that insist on it (then
    /// an id may hold ':').
    BasicRfc6749,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body, no Authorization header.
    Post,
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
    /// PEM file of CA certificates to trust instead of the built-in Mozilla roots (corporate TLS inspection).
    pub ca_file: Option<PathBuf>,
    pub proxy: ProxySetting,
    pub max_body_bytes: u64,
    /// Retries of a failed token fetch (5xx, 429, network), after the first attempt.
    pub max_retries: u32,
    pub retry_base_delay: Duration,
    pub retry_max_delay: Duration,
    /// Replay a request once with a new token when the API says the token is invalid or expired.
    pub replay_on_401: bool,
    /// Where the token is shared with other processes, if anywhere: one choice, so two stores cannot be set.
    pub shared_store: SharedStoreSetting,
    /// How the credentials go to the token endpoint; 8x8's raw Basic by default.
    pub client_auth: ClientAuth,
    /// An OAuth `scope` for the token request; 8x8 needs none, so none is sent by default.
    pub token_scope: Option<String>,
    /// Extra form parameters of the token request (`audience`, `resource`) for servers that need them.
    pub token_params: Vec<(String, String)>,
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
            .field("ca_file", &self.ca_file)
            .field("proxy", &self.proxy)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_retries", &self.max_retries)
            .field("retry_base_delay", &self.retry_base_delay)
            .field("retry_max_delay", &self.retry_max_delay)
            .field("replay_on_401", &self.replay_on_401)
            .field("shared_store", &self.shared_store)
            .field("client_auth", &self.client_auth)
            .field("token_scope", &self.token_scope)
            .field("token_params", &self.token_params)
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
            ca_file: None,
            proxy: ProxySetting::FromEnvironment,
            max_body_bytes: 64 * 1024 * 1024,
            max_retries: 3,
            retry_base_delay: Duration::from_millis(250),
            retry_max_delay: Duration::from_secs(8),
            replay_on_401: true,
            shared_store: SharedStoreSetting::InProcess,
            client_auth: ClientAuth::Basic,
            token_scope: None,
            token_params: Vec::new(),
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

    /// Applies `X8_BASE_URL`, `X8_TOKEN_URL`, `X8_TOKEN_CACHE`, `X8_REDIS_URL`, `X8_CLIENT_AUTH` and
    /// `X8_TOKEN_SCOPE` over what is set.
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
        Ok(())
    }
}
