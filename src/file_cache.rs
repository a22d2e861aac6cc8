//! A token cache shared by the processes of one host, in a file: for short-lived processes (cron jobs, CGI,
//! one process per call) that would otherwise each fetch a token — exactly what 8x8 asks clients not to do.
//!
//! One file per token URL and client id (a SHA-256 of both names it), mode 0600, replaced atomically (temporary
//! file + rename) under an exclusive `flock` on a companion lock file, so that processes starting together on an
//! empty or stale cache fetch once and the others read what it wrote. The secret is never written. Expiry in
//! the file is wall-clock time (processes share no monotonic clock); a token is taken from the file only while
//! it has more than its refresh margin plus `SKEW_MARGIN` left, which absorbs clock adjustments between writer
//! and reader. A file that is corrupt, truncated, owned by someone else or readable by group or others is
//! ignored with a warning and replaced; a folder that cannot be written degrades to this process's own cache
//! with a warning. The shared cache never turns a working fetch into an error.

use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cache::{Fetched, TokenSource};
use crate::clock::wall_ms;
use crate::error::Result;
use crate::log::{Level, Logger};
use crate::token::Token;
use crate::transport::Deadline;

/// Wall-clock slack between processes: a token must have this much more than its refresh margin left to be
/// taken from the file.
pub const SKEW_MARGIN_MS: i64 = 30_000;

#[derive(Serialize, Deserialize)]
struct CachedToken {
    format: u32,
    access_token: String,
    token_type: String,
    products: Vec<String>,
    lifetime_secs: u64,
    issued_at_ms: Option<i64>,
    received_wall_ms: i64,
}

const FORMAT: u32 = 1;

pub struct FileCache {
    inner: Box<dyn TokenSource>,
    file: PathBuf,
    lock: PathBuf,
    refresh_margin_ms: i64,
    logger: Logger,
}

impl FileCache {
    pub fn new(
        inner: Box<dyn TokenSource>,
        dir: &Path,
        token_url: &str,
        client_id: &str,
        refresh_margin: Duration,
        logger: Logger,
    ) -> FileCache {
        let digest = ring::digest::digest(
            &ring::digest::SHA256,
            format!("{token_url}\n{client_id}").as_bytes(),
        );
        let name: String = digest.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        FileCache {
            inner,
            file: dir.join(format!("x8-token-{name}.json")),
            lock: dir.join(format!("x8-token-{name}.lock")),
            refresh_margin_ms: refresh_margin.as_millis() as i64,
            logger,
        }
    }

    fn warn(&self, what: impl FnOnce() -> String) {
        self.logger.log(Level::Warn, what);
    }

    /// Takes the lock, polling until `deadline`: flock has no timeout of its own.
    fn lock(&self, deadline: Deadline) -> std::io::Result<File> {
        if let Some(dir) = self.file.parent() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&self.lock)?;
        loop {
            // SAFETY: flock on a descriptor we own; released when `file` is closed.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(file);
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(err);
            }
            if deadline.expired() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "waiting for the cache lock",
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A token from the file if the file is trustworthy and the token has enough life left.
    fn read(&self, now: i64) -> Option<Fetched> {
        let meta = match fs::symlink_metadata(&self.file) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                self.warn(|| format!("token cache {}: {e}; ignoring it", self.file.display()));
                return None;
            }
        };
        // SAFETY: geteuid cannot fail.
        let me = unsafe { libc::geteuid() };
        if !meta.file_type().is_file() || meta.uid() != me || meta.permissions().mode() & 0o077 != 0
        {
            self.warn(|| {
                format!(
                    "token cache {} is not a private file of this user (mode {:o}); ignoring and replacing it",
                    self.file.display(),
                    meta.permissions().mode() & 0o777
                )
            });
            return None;
        }
        let mut text = String::new();
        if File::open(&self.file)
            .and_then(|mut f| f.read_to_string(&mut text))
            .is_err()
        {
            return None;
        }
        let cached: CachedToken = match serde_json::from_str(&text) {
            Ok(c) => c,
            Err(_) => {
                self.warn(|| {
                    format!(
                        "token cache {} is corrupt; ignoring and replacing it",
                        self.file.display()
                    )
                });
                return None;
            }
        };
        if cached.format != FORMAT {
            return None;
        }
        let token = Token::new(
            cached.access_token,
            cached.token_type,
            cached.products,
            cached.lifetime_secs,
            cached.issued_at_ms,
            cached.received_wall_ms,
        )
        .ok()?;
        let left = token.expires_at_wall_ms() - now;
        let margin = self
            .refresh_margin_ms
            .min(token.lifetime_secs() as i64 * 200)
            + SKEW_MARGIN_MS;
        // A token whose recorded receipt lies in the future was written by a clock we cannot trust.
        if left <= margin || token.received_wall_ms() > now + SKEW_MARGIN_MS {
            return None;
        }
        Some(Fetched {
            token,
            valid_for_ms: (left - SKEW_MARGIN_MS) as u64,
        })
    }

    /// Writes the token atomically: a private temporary file renamed over the old one.
    fn write(&self, token: &Token) -> std::io::Result<()> {
        let cached = CachedToken {
            format: FORMAT,
            access_token: token.access_token().to_owned(),
            token_type: token.token_type().to_owned(),
            products: token.products().to_vec(),
            lifetime_secs: token.lifetime_secs(),
            issued_at_ms: token.issued_at_ms(),
            received_wall_ms: token.received_wall_ms(),
        };
        let text =
            zeroize::Zeroizing::new(serde_json::to_vec(&cached).map_err(std::io::Error::other)?);
        drop(zeroize::Zeroizing::new(cached.access_token));
        let tmp = self
            .file
            .with_extension(format!("tmp{}", std::process::id()));
        let result = (|| {
            let mut f = OpenOptions::new()
                .create_new(true)
                .write(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()?;
            fs::rename(&tmp, &self.file)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

impl TokenSource for FileCache {
    fn fetch(&self, deadline: Deadline) -> Result<Fetched> {
        let _lock = match self.lock(deadline) {
            Ok(lock) => lock,
            Err(e) => {
                self.warn(|| {
                    format!(
                        "token cache {} is unusable ({e}); fetching without it",
                        self.file.display()
                    )
                });
                return self.inner.fetch(deadline);
            }
        };
        if let Some(found) = self.read(wall_ms()) {
            self.logger.log(Level::Info, || {
                format!("took a token from the shared cache {}", self.file.display())
            });
            return Ok(found);
        }
        let fetched = self.inner.fetch(deadline)?;
        if let Err(e) = self.write(&fetched.token) {
            self.warn(|| {
                format!(
                    "cannot write the token cache {} ({e}); other processes will fetch their own",
                    self.file.display()
                )
            });
        }
        Ok(fetched)
    }

    fn rejected(&self, token: &Token) {
        // Under the lock, drop the file only if it still holds the token the API refused; another process may
        // already have replaced it.
        let Ok(_lock) = self.lock(Deadline::after(Duration::from_secs(2))) else {
            return;
        };
        if let Some(found) = self.read(wall_ms()) {
            if found.token.access_token() == token.access_token() {
                let _ = fs::remove_file(&self.file);
            }
        }
    }
}
