//! The config file: where it is, whether it is private enough to trust, and what it says.
//!
//! Format: TOML with string keys only. TOML rather than an ad-hoc `key = value` format because a secret
//! may hold any character (`#`, `=`, quotes, leading or trailing blanks) and TOML already defines exactly how
//! to quote such a value ('literal strings' take anything but a single quote); it is also what people know from
//! Cargo and most modern tools, and it leaves room for profiles later.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::exit::Failure;

pub const ENV_CONFIG: &str = "X8_CONFIG";
const KEYS: &str = "client_id, client_secret, base_url, token_url, ca_file, client_auth, scope";
/// A config file is a few lines; anything bigger is the wrong file.
const MAX_BYTES: u64 = 64 * 1024;

/// What the file says; every key is optional.
#[derive(Default)]
pub struct FileConfig {
    pub path: PathBuf,
    pub client_id: Option<String>,
    pub client_secret: Option<Zeroizing<String>>,
    pub base_url: Option<String>,
    pub token_url: Option<String>,
    pub ca_file: Option<PathBuf>,
    /// `basic`, `basic-rfc6749` or `post`; checked when the client is built.
    pub client_auth: Option<String>,
    pub scope: Option<String>,
}

/// Where to look, and whether the file must exist: a path the user named must, the default one need not.
pub struct Location {
    pub path: PathBuf,
    pub required: bool,
}

/// `--config`, else `X8_CONFIG`, else `$XDG_CONFIG_HOME/x8/config.toml` (XDG's default `~/.config`).
pub fn locate(flag: Option<&Path>) -> Option<Location> {
    if let Some(path) = flag {
        return Some(Location {
            path: path.to_owned(),
            required: true,
        });
    }
    if let Some(path) = std::env::var_os(ENV_CONFIG).filter(|v| !v.is_empty()) {
        return Some(Location {
            path: path.into(),
            required: true,
        });
    }
    default_path().map(|path| Location {
        path,
        required: false,
    })
}

pub fn default_path() -> Option<PathBuf> {
    // XDG says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".config"))
    })?;
    Some(base.join("x8").join("config.toml"))
}

/// What the file is read for: a file that may hold the secret x8 will use must be private; when the secret
/// comes from elsewhere, a file others may read (but not write) is only a risk to its owner, not to x8's calls.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Secret,
    SettingsOnly,
}

/// Reads the file if there is one. The permission check runs on the opened file, not the path, so the file
/// checked is the file read. With `Need::SettingsOnly` its client_id and client_secret are dropped.
pub fn load(location: Option<Location>, need: Need) -> Result<Option<FileConfig>, Failure> {
    let Some(Location { path, required }) = location else {
        return Ok(None);
    };
    let shown = path.display();
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(e) => return Err(Failure::config(format!("config file {shown}: {e}"))),
    };
    let meta = file
        .metadata()
        .map_err(|e| Failure::config(format!("config file {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(Failure::config(format!(
            "config file {shown} is not a regular file"
        )));
    }
    check_private(&path, &meta, need)?;
    if meta.len() > MAX_BYTES {
        return Err(Failure::config(format!(
            "config file {shown} is larger than {MAX_BYTES} bytes; is it the right file?"
        )));
    }
    let mut text = Zeroizing::new(String::with_capacity(meta.len() as usize + 1));
    file.read_to_string(&mut text).map_err(|e| {
        Failure::config(format!(
            "config file {shown}: cannot read it as UTF-8 text: {}",
            e.kind()
        ))
    })?;
    let mut config = parse(&text, &path)?;
    if need == Need::SettingsOnly {
        config.client_id = None;
        config.client_secret = None;
    }
    Ok(Some(config))
}

/// The file holds the API secret, so like ssh with a private key we refuse it when anyone but its owner may
/// read it, or write it: a writable file could point `token_url` at another host and collect the secret. When
/// the secret comes from the environment, only writing matters.
#[cfg(unix)]
fn check_private(path: &Path, meta: &std::fs::Metadata, need: Need) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    let refused = match need {
        Need::Secret => 0o066,
        Need::SettingsOnly => 0o022,
    };
    if mode & refused != 0 {
        let shown = path.display();
        return Err(Failure::config(format!(
            "config file {shown} is readable or writable by group or others (mode {mode:04o}); it holds the API \
             secret, so x8 refuses it. Make it private: chmod 600 {shown}"
        )));
    }
    Ok(())
}

/// Windows ACLs have no mode bits to check; the user profile folder is private by default.
#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &std::fs::Metadata, _need: Need) -> Result<(), Failure> {
    Ok(())
}

/// Parses the text. Messages name the line and the key, never a value: the line may be the secret's.
pub fn parse(text: &str, path: &Path) -> Result<FileConfig, Failure> {
    let shown = path.display();
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let at = line.map(|l| format!(" line {l}:")).unwrap_or_default();
        // toml's message (without its source snippet) describes the syntax, not the value; it is still
        // scrubbed on the way out like every message.
        Failure::config(format!(
            "config file {shown}:{at} not valid TOML: {}. Write each setting as key = \"value\"",
            e.message().trim_end_matches('.')
        ))
    })?;
    let mut config = FileConfig {
        path: path.to_owned(),
        ..FileConfig::default()
    };
    for (key, value) in &table {
        let Some(text) = value.as_str() else {
            return Err(Failure::config(format!(
                "config file {shown}: {key} must be a quoted string, like {key} = \"...\""
            )));
        };
        match key.as_str() {
            "client_id" => config.client_id = Some(text.to_owned()),
            "client_secret" => config.client_secret = Some(Zeroizing::new(text.to_owned())),
            "base_url" => config.base_url = Some(text.to_owned()),
            "token_url" => config.token_url = Some(text.to_owned()),
            // Relative to the file, not to wherever x8 happens to run.
            "ca_file" => config.ca_file = Some(path.parent().unwrap_or(Path::new("")).join(text)),
            "client_auth" => config.client_auth = Some(text.to_owned()),
            "scope" => config.scope = Some(text.to_owned()),
            _ => {
                return Err(Failure::config(format!(
                    "config file {shown}: unknown key {key:?}; the keys are {KEYS}"
                )))
            }
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "Zq9-very-secret-value";

    fn parse_str(text: &str) -> Result<FileConfig, Failure> {
        parse(text, Path::new("/cfg/config.toml"))
    }

    #[test]
    fn reads_every_key() {
        let c = parse_str(&format!(
            "# comment\nclient_id = \"id\"\nclient_secret = '{SECRET}#=\"'\nbase_url = \"http://127.0.0.1:1\"\n\
             token_url = \"http://127.0.0.1:2/t\"\nca_file = \"ca.pem\"\n"
        ))
        .unwrap();
        assert_eq!(c.client_id.as_deref(), Some("id"));
        assert_eq!(
            c.client_secret.as_deref().map(String::as_str),
            Some(format!("{SECRET}#=\"").as_str())
        );
        assert_eq!(c.base_url.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(c.token_url.as_deref(), Some("http://127.0.0.1:2/t"));
        assert_eq!(c.ca_file.as_deref(), Some(Path::new("/cfg/ca.pem")));
    }

    #[test]
    fn errors_never_quote_a_value() {
        let cases = [
            (format!("client_secret = {SECRET}\n"), "line 1"),
            (
                format!("client_id = \"x\"\nclient_secret = \"{SECRET}\n"),
                "line 2",
            ),
            (format!("client_secret = \"{SECRET}\"\"\n"), "line 1"),
            (format!("client_secret = '{SECRET}\n"), "line 1"),
            (format!("client_secret = \"{SECRET}\\q\"\n"), "line 1"),
            (format!("{SECRET}\n"), "line 1"),
            (
                format!("client_secret = [\"{SECRET}\"]\n"),
                "must be a quoted string",
            ),
            (
                format!("client_secret = {{ a = \"{SECRET}\" }}\n"),
                "must be a quoted string",
            ),
            (
                "client_secret = 12345678\n".to_owned(),
                "must be a quoted string",
            ),
            (
                "client_sercet = \"x\"\n".to_owned(),
                "unknown key \"client_sercet\"",
            ),
            (
                format!("client_secret = \"{SECRET}\"\nclient_secret = \"{SECRET}\"\n"),
                "line 2",
            ),
        ];
        for (text, expected) in cases {
            let err = parse_str(&text).err().unwrap_or_else(|| panic!("{text}"));
            assert!(err.message.contains(expected), "{text}: {}", err.message);
            assert!(!err.message.contains(SECRET), "{}", err.message);
            assert!(!err.message.contains("12345678"), "{}", err.message);
        }
    }
}
