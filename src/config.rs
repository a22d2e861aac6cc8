//! What a client is made from: the API key (credentials) and the options, with their defaults and checks.
//! Validation happens once, in `Settings::new`, so the rest of the library works on values known to be sane.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::log::Logger;
use crate::origin::Origin;
use crate::store::SharedStore;

pub const DEFAULT_BASE_URL: &str = "https://api.8x8.com";
pub const TOKEN_PATH: &str = "/oauth/v2/token";

pub const ENV_CLIENT_ID: &str = "X8_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "X8_CLIENT_SECRET";
pub const ENV_BASE_URL: &str = "X8_BASE_URL";
pub const ENV_TOKEN_URL: &str = "X8_TOKEN_URL";
pub const ENV_TOKEN_CACHE: &str = "X8_TOKEN_CACHE";
pub const ENV_REDIS_URL: &str = "X8_REDIS_URL";

/// An API key from 8x8 Admin Console. The secret is wiped from memory when the credentials are dropped and
/// never appears in `Debug` output.
#[derive(Clone)]
pub struct Credentials {
    client_id: String,
    secret: Zeroizing<String>,
}

impl Credentials {
    /// Basic auth joins id and secret with ':', so an id containing ':' could never be sent correctly; the
    /// secret may hold any character.
    pub fn new(client_id: &str, secret: &str) -> Result<Credentials> {
        if client_id.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                "the client id is empty; use the key's id from 8x8 Admin Console",
            ));
        }
        if client_id.contains(':') {
            return Err(Error::new(
                ErrorKind::Config,
                "the client id contains ':', which HTTP Basic authentication cannot carry; check that id and secret are not swapped or joined",
            ));
        }
        if client_id.chars().any(char::is_control) {
            return Err(Error::new(
                ErrorKind::Config,
                "the client id contains control characters",
            ));
        }
        if secret.is_empty() {
            return Err(Error::new(ErrorKind::Config, "the client secret is empty"));
        }
        Ok(Credentials {
            client_id: client_id.to_owned(),
            secret: Zeroizing::new(secret.to_owned()),
        })
    }

    /// Reads `X8_CLIENT_ID` and `X8_CLIENT_SECRET`.
    pub fn from_env() -> Result<Credentials> {
        let id = env_var(ENV_CLIENT_ID)?
            .ok_or_else(|| Error::new(ErrorKind::Config, format!("{ENV_CLIENT_ID} is not set")))?;
        let secret = Zeroizing::new(env_var(ENV_CLIENT_SECRET)?.ok_or_else(|| {
            Error::new(ErrorKind::Config, format!("{ENV_CLIENT_SECRET} is not set"))
        })?);
        Credentials::new(&id, &secret)
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

fn env_var(name: &str) -> Result<Option<String>> {
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProxySetting {
    #[default]
    FromEnvironment,
    Disabled,
    Url(String),
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
    /// A folder for the token cache shared by this host's processes (see `file_cache`); `None` keeps the
    /// token in this process only.
    pub token_cache_dir: Option<PathBuf>,
    /// A Redis server that shares the token among processes on many hosts (see `redis_store`), e.g.
    /// `redis://redis.internal:6379/0`; needs the `redis` cargo feature (on by default).
    pub redis_url: Option<String>,
    /// The application's own store for the shared token (see `SharedStore`).
    ///
    /// At most one of `token_cache_dir`, `redis_url` and `token_store` may be set.
    pub token_store: Option<Arc<dyn SharedStore>>,
    pub logger: Logger,
}

/// By hand, to redact the Redis URL (it may carry a password): keep it in step with the fields.
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
            .field("token_cache_dir", &self.token_cache_dir)
            // A Redis URL may carry a password.
            .field("redis_url", &self.redis_url.as_ref().map(|_| "[redacted]"))
            .field("token_store", &self.token_store)
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
            token_cache_dir: None,
            redis_url: None,
            token_store: None,
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

    /// Applies `X8_BASE_URL`, `X8_TOKEN_URL`, `X8_TOKEN_CACHE` and `X8_REDIS_URL` over what is set.
    pub fn apply_env(&mut self) -> Result<()> {
        // A shared store named in the environment replaces the one in the options; naming two is an error
        // (`Settings::new`).
        let (dir, redis) = (env_var(ENV_TOKEN_CACHE)?, env_var(ENV_REDIS_URL)?);
        if dir.is_some() || redis.is_some() {
            self.token_cache_dir = dir.map(PathBuf::from);
            self.redis_url = redis;
            self.token_store = None;
        }
        if let Some(base) = env_var(ENV_BASE_URL)? {
            self.base_url = base;
        }
        if let Some(token_url) = env_var(ENV_TOKEN_URL)? {
            self.token_url = Some(token_url);
        }
        Ok(())
    }
}

/// Options after validation: URLs parsed into origins, limits checked.
#[derive(Debug)]
pub struct Settings {
    pub options: Options,
    pub api_origin: Origin,
    /// `base_url` without a trailing slash; request paths are appended to it.
    pub api_prefix: String,
    pub token_url: String,
}

const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

pub(crate) const REDIS_MISSING: &str =
    "this x8 was built without Redis support: rebuild it with the cargo feature `redis` (on by default)";

impl Settings {
    pub fn new(options: Options) -> Result<Settings> {
        let config_err = |m: String| Error::new(ErrorKind::Config, m);
        let (api_origin, api_prefix) =
            Origin::parse_base(&options.base_url).map_err(|e| e.context("base URL"))?;
        let token_url = match &options.token_url {
            Some(u) => u.clone(),
            None => format!(
                "{api_prefix_origin}{TOKEN_PATH}",
                api_prefix_origin = api_origin.as_str()
            ),
        };
        Origin::parse_base(&token_url).map_err(|e| e.context("token URL"))?;
        for (name, d) in [
            ("connect timeout", options.connect_timeout),
            ("timeout", options.timeout),
        ] {
            if d.is_zero() || d > MAX_TIMEOUT {
                return Err(config_err(format!(
                    "{name} must be between 1 ms and 24 hours"
                )));
            }
        }
        if options.refresh_margin > MAX_TIMEOUT || options.expiry_safety > MAX_TIMEOUT {
            return Err(config_err(
                "refresh margin and expiry safety must be under 24 hours".into(),
            ));
        }
        if options.max_body_bytes == 0 {
            return Err(config_err(
                "the maximum body size must be at least 1 byte".into(),
            ));
        }
        if options.max_retries > 20 {
            return Err(config_err(
                "at most 20 retries; the overall timeout bounds them anyway".into(),
            ));
        }
        if options.retry_base_delay > options.retry_max_delay {
            return Err(config_err(
                "the retry base delay must not exceed the maximum delay".into(),
            ));
        }
        if options.user_agent.is_empty()
            || !crate::origin::is_header_value_safe(&options.user_agent)
        {
            return Err(config_err(
                "the user agent must be non-empty printable text without CR/LF".into(),
            ));
        }
        if let Some(path) = &options.ca_file {
            if !path.is_file() {
                return Err(config_err(format!(
                    "CA bundle {} is not a readable file",
                    path.display()
                )));
            }
        }
        if options
            .token_cache_dir
            .as_ref()
            .is_some_and(|d| d.as_os_str().is_empty())
        {
            return Err(config_err("the token cache folder is empty".into()));
        }
        let stores = [
            options.token_cache_dir.is_some(),
            options.redis_url.is_some(),
            options.token_store.is_some(),
        ];
        if stores.iter().filter(|set| **set).count() > 1 {
            return Err(config_err(format!(
                "choose one shared token store: a token cache folder ({ENV_TOKEN_CACHE}), Redis ({ENV_REDIS_URL}) \
                 or the application's own store"
            )));
        }
        if options.redis_url.as_ref().is_some_and(|u| u.is_empty()) {
            return Err(config_err("the Redis URL is empty".into()));
        }
        if options.redis_url.is_some() && !cfg!(feature = "redis") {
            return Err(config_err(REDIS_MISSING.into()));
        }
        if let ProxySetting::Url(p) = &options.proxy {
            if p.is_empty() {
                return Err(config_err(
                    "the proxy URL is empty; disable the proxy instead".into(),
                ));
            }
        }
        Ok(Settings {
            options,
            api_origin,
            api_prefix,
            token_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_refuse_a_colon_in_the_id_but_not_in_the_secret() {
        let e = Credentials::new("a:b", "s").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains("':'"));
        let c = Credentials::new("id", "p:ss w\u{e9}rd:").unwrap();
        assert_eq!(c.secret(), "p:ss w\u{e9}rd:");
    }

    #[test]
    fn credentials_debug_hides_the_secret() {
        let c = Credentials::new("id", "hunter2-secret").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn debug_output_hides_the_redis_password() {
        let o = Options {
            redis_url: Some("redis://:hunter2@10.0.0.1".into()),
            ..Options::default()
        };
        assert!(!format!("{o:?}").contains("hunter2"));
    }

    #[test]
    fn default_token_url_is_on_the_base_origin() {
        let s = Settings::new(Options::default()).unwrap();
        assert_eq!(s.token_url, "https://api.8x8.com/oauth/v2/token");
        assert_eq!(s.api_prefix, "https://api.8x8.com");
    }

    #[test]
    fn token_url_ignores_the_base_path_prefix() {
        let opts = Options {
            base_url: "http://127.0.0.1:9/eu/".into(),
            ..Options::default()
        };
        let s = Settings::new(opts).unwrap();
        assert_eq!(s.token_url, "http://127.0.0.1:9/oauth/v2/token");
        assert_eq!(s.api_prefix, "http://127.0.0.1:9/eu");
    }

    #[test]
    fn rejects_bad_options() {
        let bad = [
            Options {
                base_url: "http://example.com".into(),
                ..Options::default()
            },
            Options {
                base_url: "ftp://127.0.0.1".into(),
                ..Options::default()
            },
            Options {
                token_url: Some("http://10.0.0.1/t".into()),
                ..Options::default()
            },
            Options {
                timeout: Duration::ZERO,
                ..Options::default()
            },
            Options {
                max_body_bytes: 0,
                ..Options::default()
            },
            Options {
                user_agent: "a\r\nb".into(),
                ..Options::default()
            },
            Options {
                ca_file: Some("/nonexistent/ca.pem".into()),
                ..Options::default()
            },
            Options {
                retry_base_delay: Duration::from_secs(9),
                ..Options::default()
            },
            Options {
                token_cache_dir: Some("/tmp/x8".into()),
                redis_url: Some("redis://127.0.0.1".into()),
                ..Options::default()
            },
            Options {
                redis_url: Some(String::new()),
                ..Options::default()
            },
        ];
        for o in bad {
            assert!(Settings::new(o.clone()).is_err(), "{o:?}");
        }
    }
}
