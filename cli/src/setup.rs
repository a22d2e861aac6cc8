//! Builds the one `x8::Client` a command uses, from (lowest to highest precedence) the library defaults, the
//! config file, the environment, and the command-line flags. The secret comes only from the environment or the
//! config file: a flag would show it to every user of the machine through `ps` and in shell history.

use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::args::GlobalArgs;
use crate::config::{self, FileConfig};
use crate::exit::Failure;
use crate::redact::Redactor;
use x8::SharedStoreSetting;

pub const ENV_CLIENT_ID: &str = "X8_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "X8_CLIENT_SECRET";
/// Connecting should take well under the whole call's budget.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// API retries when `--all-pages` reads a listing and neither `--api-retries` nor `X8_API_RETRIES` says
/// otherwise: a long listing is what meets an API's rate limit, and one 429 should not end it.
const ALL_PAGES_API_RETRIES: u32 = 3;

/// The client of a command; `paging` when it reads a listing with `--all-pages`.
pub fn client(
    global: &GlobalArgs,
    redactor: &Arc<Redactor>,
    paging: bool,
) -> Result<x8::Client, Failure> {
    // With the whole key in the environment, the file is read for its other settings only.
    let need = if env_text(ENV_CLIENT_ID)?.is_some() && env_text(ENV_CLIENT_SECRET)?.is_some() {
        config::Need::SettingsOnly
    } else {
        config::Need::Secret
    };
    let file = config::load(config::locate(global.config.as_deref()), need)?;
    let credentials = credentials(file.as_ref(), redactor)?;

    let mut options = x8::Options {
        user_agent: concat!("x8-cli/", env!("CARGO_PKG_VERSION")).to_owned(),
        timeout: global.timeout,
        connect_timeout: global.timeout.min(MAX_CONNECT_TIMEOUT),
        ..x8::Options::default()
    };
    if let Some(file) = &file {
        if let Some(url) = &file.base_url {
            options.base_url = url.clone();
        }
        options.token_url = file.token_url.clone();
        options.ca_file = file.ca_file.clone();
        if let Some(style) = &file.client_auth {
            options.client_auth = x8::ClientAuth::from_name(style).map_err(|e| {
                Failure::config(format!("config file {}: {e}", file.path.display()))
            })?;
        }
        options.token_scope = file.scope.clone();
    }
    if paging {
        options.api_retries = ALL_PAGES_API_RETRIES;
    }
    // X8_BASE_URL / X8_TOKEN_URL, read by the library so that the CLI and programs agree on their meaning.
    options.apply_env()?;
    if let Some(url) = &global.base_url {
        options.base_url = url.clone();
    }
    if let Some(url) = &global.token_url {
        options.token_url = Some(url.clone());
    }
    if let Some(style) = global.client_auth {
        options.client_auth = style;
    }
    if let Some(path) = &global.ca_file {
        options.ca_file = Some(path.clone());
    }
    if let Some(mode) = global.ca_mode {
        options.ca_mode = mode;
    }
    if let Some(roots) = global.tls_roots {
        options.tls_roots = roots;
    }
    if let Some(n) = global.api_retries {
        options.api_retries = n;
    }
    if let Some(limit) = global.rate_limit {
        options.rate_limit = Some(limit);
    }
    // A store named by a flag replaces the one named in the environment.
    if let Some(dir) = &global.token_cache {
        options.shared_store = SharedStoreSetting::CacheDir(dir.clone());
    }
    if let Some(url) = &global.redis {
        options.shared_store = SharedStoreSetting::Redis(url.clone());
    }
    if global.verbose > 0 {
        options.logger = stderr_logger(global.verbose, redactor.clone());
    }
    Ok(x8::Client::new(credentials, options)?)
}

/// Both halves of the key from one place: the environment when it has either variable, else the config file.
/// Mixing an id from one source with a secret from another would make "invalid client" errors unexplainable.
fn credentials(file: Option<&FileConfig>, redactor: &Redactor) -> Result<x8::Credentials, Failure> {
    let id = env_text(ENV_CLIENT_ID)?;
    let secret = env_text(ENV_CLIENT_SECRET)?.map(Zeroizing::new);
    let (id, secret, source) = match (id, secret) {
        (Some(id), Some(secret)) => (id, secret, "the environment".to_owned()),
        (Some(_), None) => {
            return Err(Failure::config(format!(
                "{ENV_CLIENT_ID} is set but {ENV_CLIENT_SECRET} is not; set both, or neither to use the config file"
            )))
        }
        (None, Some(_)) => {
            return Err(Failure::config(format!(
                "{ENV_CLIENT_SECRET} is set but {ENV_CLIENT_ID} is not; set both, or neither to use the config file"
            )))
        }
        (None, None) => from_file(file)?,
    };
    // Registered before any use, so even a message about these credentials cannot show the secret.
    redactor.add(&secret);
    x8::Credentials::new(&id, &secret).map_err(|e| Failure::config(format!("{source}: {e}")))
}

fn from_file(file: Option<&FileConfig>) -> Result<(String, Zeroizing<String>, String), Failure> {
    let Some(file) = file else {
        let where_ = config::default_path()
            .map(|p| format!(" in {}", p.display()))
            .unwrap_or_default();
        return Err(Failure::config(format!(
            "no credentials: set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}, or put client_id and client_secret \
             in a config file{where_} (chmod 600); see x8 --help"
        )));
    };
    let shown = file.path.display();
    match (&file.client_id, &file.client_secret) {
        (Some(id), Some(secret)) => Ok((
            id.clone(),
            secret.clone(),
            format!("config file {shown}"),
        )),
        _ => Err(Failure::config(format!(
            "config file {shown} needs both client_id and client_secret (or set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET})"
        ))),
    }
}

/// An environment variable, empty meaning unset (as the library reads them).
fn env_text(name: &str) -> Result<Option<String>, Failure> {
    match std::env::var(name) {
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Failure::config(format!("{name} is not valid UTF-8")))
        }
    }
}

/// `-v` shows what the library does (fetches, retries and why); `-vv` adds its debug detail.
fn stderr_logger(verbosity: u8, redactor: Arc<Redactor>) -> x8::Logger {
    let max = if verbosity >= 2 {
        x8::Level::Debug
    } else {
        x8::Level::Info
    };
    x8::Logger::new(
        Arc::new(move |level, message: &str| {
            let level = match level {
                x8::Level::Error => "error",
                x8::Level::Warn => "warning",
                x8::Level::Info => "info",
                x8::Level::Debug => "debug",
            };
            eprintln!("x8: {level}: {}", redactor.scrub(message));
        }),
        max,
    )
}
