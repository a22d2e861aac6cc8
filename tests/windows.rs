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

/// shutdown() from the cancelling thread must wake a recv blocked on the socket here too (tests/cancel.rs has
/// the whole story on Linux).
#[test]
fn a_cancel_wakes_a_request_blocked_on_a_slow_api() {
    use std::time::{Duration, Instant};
    let emu = emulator();
    let c = client(&emu);
    emu.push_fault(
        x8_emulator::FaultTarget::Api,
        x8_emulator::Fault::Delay { ms: 5_000 },
        1,
    );
    let cancel = x8::Cancel::new();
    let call = {
        let (c, cancel) = (c.clone(), cancel.clone());
        std::thread::spawn(move || {
            let req = x8::Request {
                cancel: Some(&cancel),
                ..get("/echo/slow")
            };
            c.request(&req).map(|r| r.status)
        })
    };
    let started = Instant::now();
    while emu.stats().api_requests == 0 {
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(2));
    }
    let cancelled_at = Instant::now();
    cancel.cancel();
    let err = call.join().unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert!(cancelled_at.elapsed() < Duration::from_secs(2));
}
