//! A folder only this user can change, and files in it opened without following links (POSIX `openat`).
//!
//! The token cache lives in a folder other processes also use, perhaps one another user made first (a
//! `/tmp/x8`). Checking a path and then opening it is a race an attacker wins (swap the file for a symlink
//! between the two), and a symlink or FIFO in place of the record or the lock made x8 read a planted token,
//! create a file where the attacker chose, or hang. So: the folder is opened once per operation and checked
//! on its descriptor (a real directory, owned by the effective uid, writable by no one else: then nobody else
//! can add, remove or swap its entries), and every file is opened relative to that descriptor with
//! `O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC` and checked on *its* descriptor (a regular file of ours, mode 0600).

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::Path;

use super::record::MAX_RECORD_BYTES;

/// Why a folder or file was not used: said in the warning x8 logs.
#[derive(Debug)]
pub enum Refusal {
    Io(io::Error),
    /// Exists but is not what we can trust; the text says why.
    Untrusted(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Io(e) => write!(f, "{e}"),
            Refusal::Untrusted(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Refusal {}

impl From<io::Error> for Refusal {
    fn from(e: io::Error) -> Refusal {
        Refusal::Io(e)
    }
}

fn euid() -> u32 {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}

fn c_name(name: &str) -> io::Result<CString> {
    if name.contains('/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a file name in the cache folder has no '/'",
        ));
    }
    CString::new(name).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a name"))
}

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// An open, checked folder.
pub struct PrivateDir {
    /// The folder's descriptor (a `File` only to have `metadata` on it).
    fd: File,
}

impl PrivateDir {
    /// Opens `path` (creating it, mode 0700, when missing) and checks it: a directory, not a symlink to one,
    /// owned by the effective uid, not writable by group or others.
    pub fn open(path: &Path) -> Result<PrivateDir, Refusal> {
        match std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
        {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in the folder path"))?;
        // SAFETY: a NUL-terminated path; the descriptor returned is owned below.
        let fd = cvt(unsafe {
            libc::open(
                c_path.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        })
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) | Some(libc::ENOTDIR) => {
                Refusal::Untrusted("it is a symbolic link or not a directory".into())
            }
            _ => Refusal::Io(e),
        })?;
        // SAFETY: `fd` was just opened and is owned by nobody else.
        let fd = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        let meta = fd.metadata()?;
        if !meta.is_dir() {
            return Err(Refusal::Untrusted("it is not a directory".into()));
        }
        if meta.uid() != euid() {
            return Err(Refusal::Untrusted(format!(
                "it is owned by uid {}, not by this process's user (uid {})",
                meta.uid(),
                euid()
            )));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(Refusal::Untrusted(format!(
                "it is writable by group or others (mode {:o})",
                meta.mode() & 0o777
            )));
        }
        Ok(PrivateDir { fd })
    }

    fn open_at(&self, name: &str, flags: libc::c_int) -> io::Result<File> {
        let c = c_name(name)?;
        // SAFETY: a valid directory descriptor and a NUL-terminated name without '/'; the descriptor returned
        // is owned by the File.
        let fd = cvt(unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                flags | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC,
                0o600 as libc::c_uint,
            )
        })?;
        // SAFETY: just opened, owned by nobody else.
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// Opens `name` and checks the descriptor: a regular file owned by us, readable by no one else.
    /// `Ok(None)` when there is no such file.
    fn open_checked(&self, name: &str, flags: libc::c_int) -> Result<Option<File>, Refusal> {
        let file = match self.open_at(name, flags) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(Refusal::Untrusted(format!("{name} is a symbolic link")))
            }
            Err(e) => return Err(e.into()),
        };
        let meta = file.metadata()?;
        if !meta.file_type().is_file() {
            return Err(Refusal::Untrusted(format!(
                "{name} is not a regular file (a FIFO, device or folder)"
            )));
        }
        if meta.uid() != euid() || meta.mode() & 0o077 != 0 {
            return Err(Refusal::Untrusted(format!(
                "{name} is not a private file of this user (uid {}, mode {:o})",
                meta.uid(),
                meta.mode() & 0o777
            )));
        }
        Ok(Some(file))
    }

    /// The text of `name`, at most [`MAX_RECORD_BYTES`]; `Ok(None)` when there is no such file.
    pub fn read(&self, name: &str) -> Result<Option<zeroize::Zeroizing<String>>, Refusal> {
        let Some(file) = self.open_checked(name, libc::O_RDONLY)? else {
            return Ok(None);
        };
        let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(4096));
        file.take(MAX_RECORD_BYTES as u64 + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(Refusal::Untrusted(format!(
                "{name} is larger than {MAX_RECORD_BYTES} bytes"
            )));
        }
        match std::str::from_utf8(&bytes) {
            Ok(text) => Ok(Some(zeroize::Zeroizing::new(text.to_owned()))),
            Err(_) => Err(Refusal::Untrusted(format!("{name} is not UTF-8 text"))),
        }
    }

    /// Opens (creating it, mode 0600) `name` for a lock: checked like a record.
    pub fn open_lock(&self, name: &str) -> Result<File, Refusal> {
        self.open_checked(name, libc::O_RDWR | libc::O_CREAT)?
            .ok_or_else(|| Refusal::Io(io::ErrorKind::NotFound.into()))
    }

    /// Creates `name`, which must not exist, mode 0600.
    pub fn create_new(&self, name: &str) -> io::Result<File> {
        self.open_at(name, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL)
    }

    /// Renames `from` over `to` inside the folder, atomically (a symlink at `to` is replaced, not followed).
    pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let (from, to) = (c_name(from)?, c_name(to)?);
        let fd = self.fd.as_raw_fd();
        // SAFETY: a valid directory descriptor and NUL-terminated names.
        cvt(unsafe { libc::renameat(fd, from.as_ptr(), fd, to.as_ptr()) }).map(drop)
    }

    /// The names of the folder's entries (not `.` and `..`), read through its descriptor, not its path.
    pub fn names(&self) -> io::Result<Vec<String>> {
        // SAFETY: duplicates a valid descriptor; the copy is owned by the DIR stream below (closedir closes it).
        let copy = cvt(unsafe { libc::fcntl(self.fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) })?;
        // SAFETY: `copy` is a directory descriptor of ours; on success the stream owns it.
        let dir = unsafe { libc::fdopendir(copy) };
        if dir.is_null() {
            let e = io::Error::last_os_error();
            // SAFETY: fdopendir failed, so `copy` is still ours to close.
            unsafe { libc::close(copy) };
            return Err(e);
        }
        let mut names = Vec::new();
        // SAFETY: `dir` is a valid stream used by this thread alone; each entry is read before the next call
        // to readdir, and the stream is closed once, at the end. A copied descriptor shares its offset, so the
        // stream starts from the top.
        unsafe {
            libc::rewinddir(dir);
            loop {
                let entry = libc::readdir(dir);
                if entry.is_null() {
                    break;
                }
                let name = std::ffi::CStr::from_ptr((*entry).d_name.as_ptr());
                if let Ok(name) = name.to_str() {
                    if name != "." && name != ".." {
                        names.push(name.to_owned());
                    }
                }
            }
            libc::closedir(dir);
        }
        Ok(names)
    }

    /// Whether `name` is a regular file of this user (a symlink is not followed, so it is not one) last
    /// changed longer than `age` ago.
    pub fn is_own_file_older_than(&self, name: &str, age: std::time::Duration) -> io::Result<bool> {
        let c = c_name(name)?;
        // SAFETY: an all-zero stat is a valid value for fstatat to fill.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: a valid directory descriptor, a NUL-terminated name and a stat to fill.
        cvt(unsafe {
            libc::fstatat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        })?;
        if st.st_mode & libc::S_IFMT != libc::S_IFREG || st.st_uid != euid() {
            return Ok(false);
        }
        let changed =
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(st.st_mtime.max(0) as u64);
        Ok(changed.elapsed().is_ok_and(|since| since > age))
    }

    /// Removes `name` (the entry itself, never what a symlink points to); a missing one is not an error.
    pub fn remove(&self, name: &str) -> io::Result<()> {
        let c = c_name(name)?;
        // SAFETY: a valid directory descriptor and a NUL-terminated name.
        match cvt(unsafe { libc::unlinkat(self.fd.as_raw_fd(), c.as_ptr(), 0) }) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other.map(drop),
        }
    }
}
