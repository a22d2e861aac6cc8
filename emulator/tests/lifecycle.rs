//! Starting and stopping: what a client sees once the emulator is dropped.

mod common;

use common::*;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use ureq::Agent;

#[test]
fn a_pooled_connection_fails_fast_after_drop() {
    let emu = start();
    let a: Agent = Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    token(&a, &emu);
    let url = format!("{}/oauth/v2/token", emu.base_url());
    let began = Instant::now();
    drop(emu);
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    let err = a
        .post(&url)
        .header("Authorization", basic(ID, SECRET))
        .send_form([("grant_type", "client_credentials")])
        .unwrap_err();
    assert!(!matches!(err, ureq::Error::Timeout(_)), "{err:?}");
}

#[test]
fn the_port_is_released_on_drop() {
    let emu = start();
    let port = emu.port();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(emu);
    // Normally closed by the time drop returns; a bounded moment spares a loaded machine.
    let until = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < until, "port {port} still accepting");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn two_emulators_run_side_by_side() {
    let one = start();
    let two = start();
    assert_ne!(one.port(), two.port());
    let a = agent();
    let t = token(&a, &one);
    // Tokens are per emulator.
    let (status, _) = json(get(&a, &queues_url(&two), Some(&format!("Bearer {t}"))));
    assert_eq!(status, 401);
    assert_eq!(one.stats().tokens_issued, 1);
    assert_eq!(two.stats().tokens_issued, 0);
}

/// An async test may own an emulator: dropping it there must neither panic (tokio refuses to
/// block inside a runtime) nor leave the port open.
#[test]
fn dropping_inside_an_async_runtime() {
    let outer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let port = outer.block_on(async {
        let emu = start();
        token(&agent(), &emu);
        let port = emu.port();
        drop(emu);
        port
    });
    let until = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < until, "port {port} still accepting");
        std::thread::sleep(Duration::from_millis(10));
    }
}
