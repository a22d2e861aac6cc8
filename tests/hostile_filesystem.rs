//! The token cache folder as an attacker on the same host would prepare it (issue 13's "hostile
//! filesystem"): a folder another user owns or can write, symlinks and FIFOs in place of the record or the
//! lock, device nodes, oversized and planted records. In each case no planted token is taken, no file is made
//! where a link points, nothing hangs, and the client still gets its token (fetching it itself). The
//! foreign-owner cases need root (CI runs the suite as root) to `chown` a folder to `nobody`.

mod common;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use x8::{Client, Level, Logger, SharedStoreSetting};

const NOBODY: u32 = 65534;

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("x8-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// A client on the cache folder `dir` whose warnings are collected.
fn cached_client(
    emu: &x8_emulator::Emulator,
    dir: &Path,
) -> (Client, Arc<parking_lot::Mutex<Vec<String>>>) {
    let warnings = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let w = warnings.clone();
    let logger = Logger::new(
        Arc::new(move |level: Level, m: &str| {
            if level <= Level::Warn {
                w.lock().push(m.to_owned());
            }
        }),
        Level::Warn,
    );
    let client = client_with(emu, |o| {
        o.shared_store = SharedStoreSetting::CacheDir(dir.to_owned());
        o.logger = logger;
    });
    (client, warnings)
}

/// The record name x8 uses for the emulator's token URL and our client id: found by letting a client in a
/// clean folder write it.
fn record_and_lock_names(emu: &x8_emulator::Emulator) -> (String, String) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = fresh_dir(&format!("names{n}"));
    cached_client(emu, &dir).0.token(None).unwrap();
    let name = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".json"))
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let lock = name.replace(".json", ".lock");
    (name, lock)
}

/// A well-formed record holding a token of the attacker's choosing, received just now.
fn planted_record() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    format!(
        r#"{{"format":1,"access_token":"planted-token","token_type":"BearerToken","products":["vcc"],"lifetime_secs":1799,"issued_at_ms":null,"received_wall_ms":{now}}}"#
    )
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn chown(path: &Path, uid: u32) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path; lchown changes the entry itself.
    let rc = unsafe { libc::lchown(c.as_ptr(), uid, uid) };
    assert_eq!(
        rc,
        0,
        "chown to nobody failed ({}): the hostile-filesystem suite runs as root",
        std::io::Error::last_os_error()
    );
}

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn a_folder_owned_by_someone_else_is_refused_and_its_token_never_taken() {
    let emu = emulator();
    let (record, _) = record_and_lock_names(&emu);
    let dir = fresh_dir("foreign");
    write_private(&dir.join(&record), &planted_record());
    // The attacker's folder, e.g. a /tmp/x8 made first by another user.
    chown(&dir, NOBODY);
    let before = emu.stats().token_requests;
    let (a, warnings) = cached_client(&emu, &dir);
    assert_ne!(a.token(None).unwrap().access_token(), "planted-token");
    let (b, _) = cached_client(&emu, &dir);
    assert_ne!(b.token(None).unwrap().access_token(), "planted-token");
    assert_eq!(
        emu.stats().token_requests - before,
        2,
        "no sharing through it"
    );
    assert!(
        warnings.lock().iter().any(|w| w.contains("owned by uid")),
        "{:?}",
        warnings.lock()
    );
    assert!(std::fs::read_to_string(dir.join(&record))
        .unwrap()
        .contains("planted-token"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_group_or_world_writable_folder_is_refused() {
    let emu = emulator();
    let (record, _) = record_and_lock_names(&emu);
    for mode in [0o770, 0o703, 0o1777] {
        let dir = fresh_dir("writable");
        write_private(&dir.join(&record), &planted_record());
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        let (c, warnings) = cached_client(&emu, &dir);
        assert_ne!(
            c.token(None).unwrap().access_token(),
            "planted-token",
            "{mode:o}"
        );
        assert!(
            warnings.lock().iter().any(|w| w.contains("writable")),
            "{mode:o}: {:?}",
            warnings.lock()
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn a_symlinked_folder_is_refused() {
    let emu = emulator();
    let real = fresh_dir("link-target");
    let link = std::env::temp_dir().join(format!("x8-hostile-link-{}", std::process::id()));
    let _ = std::fs::remove_file(&link);
    symlink(&real, &link).unwrap();
    let (c, warnings) = cached_client(&emu, &link);
    c.token(None).unwrap();
    assert!(
        std::fs::read_dir(&real).unwrap().next().is_none(),
        "nothing written through the link"
    );
    assert!(!warnings.lock().is_empty());
    std::fs::remove_file(&link).ok();
    std::fs::remove_dir_all(&real).ok();
}

#[test]
fn a_symlink_in_place_of_the_record_is_not_followed_and_is_replaced() {
    let emu = emulator();
    let (record, _) = record_and_lock_names(&emu);
    let dir = fresh_dir("record-link");
    let elsewhere = fresh_dir("record-link-target");
    let planted = elsewhere.join("planted.json");
    let text = planted_record();
    write_private(&planted, &text);
    symlink(&planted, dir.join(&record)).unwrap();
    let (c, warnings) = cached_client(&emu, &dir);
    assert_ne!(c.token(None).unwrap().access_token(), "planted-token");
    assert!(
        warnings.lock().iter().any(|w| w.contains("symbolic link")),
        "{:?}",
        warnings.lock()
    );
    // Replaced by a private regular file; the link's target untouched.
    let meta = std::fs::symlink_metadata(dir.join(&record)).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(std::fs::read_to_string(&planted).unwrap(), text);
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&elsewhere).ok();
}

/// A `.lock` symlink used to make the victim create a file wherever it pointed.
#[test]
fn a_symlink_in_place_of_the_lock_creates_nothing_where_it_points() {
    let emu = emulator();
    let (_, lock) = record_and_lock_names(&emu);
    let dir = fresh_dir("lock-link");
    let target = std::env::temp_dir().join(format!("x8-hostile-victim-{}", std::process::id()));
    let _ = std::fs::remove_file(&target);
    symlink(&target, dir.join(&lock)).unwrap();
    let (c, warnings) = cached_client(&emu, &dir);
    c.token(None).unwrap();
    assert!(
        !target.exists(),
        "a file was created through the lock symlink"
    );
    assert!(
        warnings.lock().iter().any(|w| w.contains("symbolic link")),
        "{:?}",
        warnings.lock()
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// FIFOs in place of the record or the lock: opening one for reading or writing without a peer blocks
/// forever (and held the store gate with it).
#[test]
fn fifos_in_place_of_the_record_or_the_lock_do_not_hang_a_fetch() {
    let emu = emulator();
    let (record, lock) = record_and_lock_names(&emu);
    for name in [&record, &lock] {
        let dir = fresh_dir("fifo");
        mkfifo(&dir.join(name));
        let (c, _) = cached_client(&emu, &dir);
        // On a thread, so that a regression fails the test instead of hanging the suite.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(c.token(Some(Duration::from_secs(5))).is_ok()));
        let started = Instant::now();
        let ok = rx.recv_timeout(Duration::from_secs(10));
        assert_eq!(ok, Ok(true), "{name}: hung or failed");
        assert!(started.elapsed() < Duration::from_secs(3), "{name}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// `/dev/zero` behind a link, a device node of it in the folder, and a record of 1 MiB: none is read whole.
#[test]
fn endless_and_oversized_records_are_not_read_whole() {
    let emu = emulator();
    let (record, _) = record_and_lock_names(&emu);
    let dir = fresh_dir("zero");
    symlink("/dev/zero", dir.join(&record)).unwrap();
    let (c, _) = cached_client(&emu, &dir);
    c.token(Some(Duration::from_secs(5))).unwrap();
    std::fs::remove_dir_all(&dir).ok();

    let dir = fresh_dir("zero-node");
    let node = CString::new(dir.join(&record).as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path; /dev/zero is character device 1:5.
    let rc = unsafe { libc::mknod(node.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 5)) };
    assert_eq!(
        rc,
        0,
        "mknod needs root: {}",
        std::io::Error::last_os_error()
    );
    let (c, warnings) = cached_client(&emu, &dir);
    c.token(Some(Duration::from_secs(5))).unwrap();
    assert!(warnings
        .lock()
        .iter()
        .any(|w| w.contains("not a regular file")));
    std::fs::remove_dir_all(&dir).ok();

    let dir = fresh_dir("big");
    let mut big = planted_record();
    big.insert_str(
        big.len() - 1,
        &format!(",\"pad\":\"{}\"", "x".repeat(1 << 20)),
    );
    write_private(&dir.join(&record), &big);
    let (c, warnings) = cached_client(&emu, &dir);
    assert_ne!(c.token(None).unwrap().access_token(), "planted-token");
    assert!(
        warnings.lock().iter().any(|w| w.contains("larger than")),
        "{:?}",
        warnings.lock()
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A record owned by someone else in our own folder (left by another user before the folder was ours).
#[test]
fn a_record_owned_by_someone_else_is_ignored_and_replaced() {
    let emu = emulator();
    let (record, _) = record_and_lock_names(&emu);
    let dir = fresh_dir("foreign-record");
    write_private(&dir.join(&record), &planted_record());
    chown(&dir.join(&record), NOBODY);
    let (c, _) = cached_client(&emu, &dir);
    assert_ne!(c.token(None).unwrap().access_token(), "planted-token");
    let meta = std::fs::metadata(dir.join(&record)).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(meta.uid(), unsafe { libc::geteuid() });
    std::fs::remove_dir_all(&dir).ok();
}

/// Records with extreme times or lifetimes, written by whoever can write the folder: never pin a token.
#[test]
fn records_with_extreme_times_are_replaced() {
    let emu = emulator();
    let (record, _) = record_and_lock_names(&emu);
    let dir = fresh_dir("extreme");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for (lifetime, received) in [
        (60u64, i64::MIN),
        (1799, i64::MAX),
        (315_360_000, now),
        (1799, now + 3_600_000),
    ] {
        let text = format!(
            r#"{{"format":1,"access_token":"planted-token","token_type":"BearerToken","products":[],"lifetime_secs":{lifetime},"issued_at_ms":null,"received_wall_ms":{received}}}"#
        );
        write_private(&dir.join(&record), &text);
        let (c, warnings) = cached_client(&emu, &dir);
        let t = c.token(None).unwrap();
        assert_ne!(t.access_token(), "planted-token", "{lifetime} {received}");
        assert!(
            c.stats().token_seconds_left <= 1800,
            "{lifetime} {received}"
        );
        assert!(
            warnings
                .lock()
                .iter()
                .any(|w| w.contains("ignoring the stored token")),
            "{:?}",
            warnings.lock()
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A writer killed between creating its temporary record and renaming it left that file (a token in it)
/// for good. The next write removes such leftovers once they are a minute old — only regular files of ours
/// named as x8 names them: a fresh one (a writer at work), a symlink or someone else's file stay.
#[test]
fn temporary_records_left_by_killed_writers_are_removed_by_the_next_write() {
    let emu = emulator();
    let (record, _) = record_and_lock_names(&emu);
    let dir = fresh_dir("abandoned-temporaries");
    let two_minutes_ago = SystemTime::now() - Duration::from_secs(120);
    let plant = |name: &str, age: Option<SystemTime>| {
        let path = dir.join(name);
        write_private(&path, "{\"access_token\":\"left-behind\"}");
        if let Some(at) = age {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(at)
                .unwrap();
        }
        path
    };
    let abandoned = plant(&format!("{record}.tmp4242.0badc0de"), Some(two_minutes_ago));
    let other_key = plant(
        "x8-token-00000000000000000000000000000000.json.tmp7.00c0ffee",
        Some(two_minutes_ago),
    );
    let in_progress = plant(&format!("{record}.tmp4343.00000001"), None);
    let not_ours = plant("notes.json.tmp1.00000002", Some(two_minutes_ago));
    let foreign = plant(&format!("{record}.tmp4444.00000003"), Some(two_minutes_ago));
    chown(&foreign, NOBODY);
    let linked = dir.join(format!("{record}.tmp4545.00000004"));
    symlink(&not_ours, &linked).unwrap();

    let (c, _) = cached_client(&emu, &dir);
    c.token(None).unwrap();
    assert!(dir.join(&record).is_file(), "the record was written");
    assert!(
        !abandoned.exists(),
        "an abandoned temporary of this record stayed"
    );
    assert!(
        !other_key.exists(),
        "an abandoned temporary of another key stayed"
    );
    for kept in [&in_progress, &not_ours, &foreign] {
        assert!(kept.exists(), "{} was removed", kept.display());
    }
    assert!(
        std::fs::symlink_metadata(&linked).is_ok(),
        "the symlink was removed"
    );
    std::fs::remove_dir_all(&dir).ok();
}
