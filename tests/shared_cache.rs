//! The token cache file shared by a host's processes (issue 8): clients in this process stand in for
//! processes here; cli/tests/shared_cache.rs starts real ones. Unix only: Windows refuses the file (tests/windows.rs).
#![cfg(unix)]

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use x8::{Client, SharedStoreSetting};

fn cache_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("x8-shared-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn cached_client(emu: &x8_emulator::Emulator, dir: &Path) -> Client {
    client_with(emu, |o| {
        o.shared_store = SharedStoreSetting::CacheDir(dir.to_owned())
    })
}

fn the_cache_file(dir: &Path) -> PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn clients_share_one_token_through_the_file() {
    let emu = emulator();
    let dir = cache_dir("share");
    let first = cached_client(&emu, &dir).token(None).unwrap();
    for _ in 0..5 {
        let t = cached_client(&emu, &dir).token(None).unwrap();
        assert_eq!(t.access_token(), first.access_token());
        assert_eq!(t.products(), first.products());
    }
    assert_eq!(emu.stats().token_requests, 1);
    let file = the_cache_file(&dir);
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(SECRET), "the secret must never be written");
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn corrupt_and_group_readable_files_are_ignored_and_replaced() {
    let emu = emulator();
    let dir = cache_dir("distrust");
    cached_client(&emu, &dir).token(None).unwrap();
    let file = the_cache_file(&dir);

    std::fs::write(&file, "{\"format\":1,\"access_token\":\"trunc").unwrap();
    let t = cached_client(&emu, &dir).token(None).unwrap();
    assert_eq!(
        emu.stats().token_requests,
        2,
        "a corrupt file is not trusted"
    );
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains(t.access_token()),
        "and is replaced"
    );

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    cached_client(&emu, &dir).token(None).unwrap();
    assert_eq!(
        emu.stats().token_requests,
        3,
        "a group-readable file is not trusted"
    );
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_unwritable_folder_degrades_to_the_process_cache() {
    let emu = emulator();
    // A regular file where the folder should be: nothing can be created under it, whoever runs the test.
    let blocker = cache_dir("blocked");
    std::fs::write(&blocker, "not a folder").unwrap();
    let c = cached_client(&emu, &blocker.join("cache"));
    let t = c.token(None).unwrap();
    assert_eq!(c.token(None).unwrap().access_token(), t.access_token());
    assert_eq!(emu.stats().token_requests, 1);
    std::fs::remove_file(&blocker).ok();
}

#[test]
fn a_revoked_token_is_dropped_from_the_file_too() {
    let emu = emulator();
    let dir = cache_dir("revoke");
    let a = cached_client(&emu, &dir);
    let old = a.token(None).unwrap();
    emu.revoke_all_tokens();
    let r = a
        .request(&x8::Request {
            method: "GET",
            path: "/echo/x",
            ..x8::Request::default()
        })
        .unwrap();
    assert_eq!(r.status, 200);
    // A new process must get the replacement, not the revoked token from the file.
    let b = cached_client(&emu, &dir).token(None).unwrap();
    assert_ne!(b.access_token(), old.access_token());
    assert_eq!(emu.stats().token_requests, 2);
    std::fs::remove_dir_all(&dir).ok();
}
