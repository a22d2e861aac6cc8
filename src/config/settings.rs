//! Options after validation.

use std::time::Duration;

use super::headers::validate_header;
use super::origin::{is_header_value_safe, Origin};
use super::{Options, ProxySetting, SharedStoreSetting, TOKEN_PATH};
use crate::error::{Error, ErrorKind, Result};

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
        if options.api_retries > 20 {
            return Err(config_err(
                "at most 20 API retries; the call's deadline bounds them anyway".into(),
            ));
        }
        if let Some(limit) = options.rate_limit {
            if limit.requests == 0
                || limit.requests > 100_000
                || limit.interval.is_zero()
                || limit.interval > MAX_TIMEOUT
            {
                return Err(config_err(
                    "a rate limit needs 1 to 100000 requests per interval of 1 ms to 24 hours"
                        .into(),
                ));
            }
        }
        if options.retry_base_delay > options.retry_max_delay {
            return Err(config_err(
                "the retry base delay must not exceed the maximum delay".into(),
            ));
        }
        if options.user_agent.is_empty() || !is_header_value_safe(&options.user_agent) {
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
        match &options.shared_store {
            SharedStoreSetting::CacheDir(dir) if dir.as_os_str().is_empty() => {
                return Err(config_err("the token cache folder is empty".into()));
            }
            SharedStoreSetting::Redis(url) if url.is_empty() => {
                return Err(config_err("the Redis URL is empty".into()));
            }
            SharedStoreSetting::Redis(_) if !cfg!(feature = "redis") => {
                return Err(config_err(REDIS_MISSING.into()));
            }
            _ => {}
        }
        if let ProxySetting::Url(p) = &options.proxy {
            if p.is_empty() {
                return Err(config_err(
                    "the proxy URL is empty; disable the proxy instead".into(),
                ));
            }
        }
        check_token_form(&options)?;
        for (name, value) in &options.default_headers {
            validate_header(name, value).map_err(|e| {
                Error::new(
                    ErrorKind::Config,
                    format!("default header: {}", e.message()),
                )
            })?;
        }
        Ok(Settings {
            options,
            api_origin,
            api_prefix,
            token_url,
        })
    }
}

/// Form parameters that x8 sets itself in the token request: a caller's would make it ambiguous.
const RESERVED_TOKEN_PARAMS: [&str; 4] = ["grant_type", "client_id", "client_secret", "scope"];

/// The scope and extra parameters of the token request: printable text, no parameter x8 sets itself.
fn check_token_form(options: &Options) -> Result<()> {
    let config_err = |m: String| Error::new(ErrorKind::Config, m);
    if let Some(scope) = &options.token_scope {
        if scope.is_empty() || !is_header_value_safe(scope) {
            return Err(config_err(
                "the token scope must be non-empty text without control characters".into(),
            ));
        }
    }
    for (name, value) in &options.token_params {
        check_token_param(name, value)?;
    }
    Ok(())
}

/// One extra form parameter of the token request (also checked by `x8_options_add_token_param` as it is added).
pub fn check_token_param(name: &str, value: &str) -> Result<()> {
    let config_err = |m: String| Error::new(ErrorKind::Config, m);
    if name.is_empty() || !is_header_value_safe(name) || !is_header_value_safe(value) {
        return Err(config_err(format!(
            "token request parameter {name:?}: names must be non-empty and neither may hold control characters"
        )));
    }
    if RESERVED_TOKEN_PARAMS
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
    {
        return Err(config_err(format!(
            "token request parameter {name:?} is set by x8 itself (use the scope option for scope)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_redis_password() {
        let o = Options {
            shared_store: SharedStoreSetting::Redis("redis://:hunter2@10.0.0.1".into()),
            ..Options::default()
        };
        assert!(!format!("{o:?}").contains("hunter2"));
    }

    #[test]
    fn debug_output_hides_the_proxy_password() {
        for url in [
            "http://alice:hunter2@proxy.corp:3128",
            "http://hunter2@proxy.corp:3128/x",
            "hunter2:x@proxy.corp",
        ] {
            let o = Options {
                proxy: ProxySetting::Url(url.into()),
                ..Options::default()
            };
            let text = format!("{o:?} {:?}", o.proxy);
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("proxy.corp"), "{text}");
        }
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
                shared_store: SharedStoreSetting::Redis(String::new()),
                ..Options::default()
            },
            Options {
                shared_store: SharedStoreSetting::CacheDir("".into()),
                ..Options::default()
            },
            Options {
                api_retries: 21,
                ..Options::default()
            },
            Options {
                rate_limit: Some(super::super::RateLimit {
                    requests: 0,
                    interval: Duration::from_secs(1),
                }),
                ..Options::default()
            },
            Options {
                rate_limit: Some(super::super::RateLimit {
                    requests: 5,
                    interval: Duration::ZERO,
                }),
                ..Options::default()
            },
        ];
        for o in bad {
            assert!(Settings::new(o.clone()).is_err(), "{o:?}");
        }
    }
}
