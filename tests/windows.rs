//! What is different on Windows (issue 14). Run by release/check_targets.sh under Wine.
#![cfg(windows)]

mod common;

use common::*;
use x8::{Client, Credentials, ErrorKind, SharedStoreSetting};

#[test]
fn the_shared_token_cache_file_is_refused_never_left_unprotected() {
    let emu = emulator();
    let mut o = options(&emu);
    o.shared_store = SharedStoreSetting::CacheDir(std::env::temp_dir().join("x8-windows-cache"));
    let err = match Client::new(Credentials::new(ID, SECRET).unwrap(), o) {
        Ok(_) => panic!("a token-cache file was accepted on Windows"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("Windows"), "{}", err.message());
}

#[test]
fn a_token_from_the_emulator() {
    let emu = emulator();
    let token = client(&emu).token(None).unwrap();
    assert!(!token.access_token().is_empty());
    assert_eq!(emu.stats().token_requests, 1);
}
