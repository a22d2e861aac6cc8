//! The deadline matrix (issue 13, defect 4): callers with short and long deadlines arriving before, during and
//! after a slow token fetch. The fetch runs under the client's own timeout whoever starts it; each caller waits
//! only until its own deadline and then gets TIMEOUT alone; nobody inherits another's deadline, no timeout of a
//! caller is remembered as the endpoint's failure, and one fetch serves everyone.

mod common;

use common::*;
use std::sync::{Arc, Barrier};
use std::time::Duration;
use x8::{Client, ErrorKind};

/// The fetch must still be in flight when the "during" callers arrive, after a first short caller's 100 ms and
/// a thread start: 2 s leaves them 1.9 s on a loaded machine (600 ms left 0.5 s, and a late caller found the
/// token landed and got it instead of its TIMEOUT).
const SLOW_MS: u64 = 2_000;
const SHORT: Duration = Duration::from_millis(100);
const LONG: Duration = Duration::from_secs(20);

fn token(c: &Client, timeout: Duration) -> Result<String, ErrorKind> {
    c.token(Some(timeout))
        .map(|t| t.access_token().to_owned())
        .map_err(|e| e.kind())
}

/// Waits until the emulator has received `n` token requests (it counts them on arrival, before its delay), so
/// a caller is known to arrive while the fetch is in flight.
fn until_token_requests(emu: &x8_emulator::Emulator, n: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while emu.stats().token_requests < n {
        assert!(
            std::time::Instant::now() < deadline,
            "the fetch never started"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_short_caller_first_then_long_and_short_callers_during_and_after() {
    let emu = emulator();
    emu.set_token_delay_ms(SLOW_MS);
    let c = client(&emu);
    // Before: a short caller starts the fetch and times out alone.
    assert_eq!(token(&c, SHORT), Err(ErrorKind::Timeout));
    until_token_requests(&emu, 1);
    // During: a long caller gets the token from the same fetch; a short one times out alone.
    let long = std::thread::spawn({
        let c = c.clone();
        move || token(&c, LONG)
    });
    assert_eq!(token(&c, SHORT), Err(ErrorKind::Timeout));
    let got = long
        .join()
        .unwrap()
        .expect("the long caller gets the token");
    // After: short and long callers get the cached token at once, not a cached TIMEOUT.
    assert_eq!(token(&c, SHORT).unwrap(), got);
    assert_eq!(token(&c, LONG).unwrap(), got);
    assert_eq!(emu.stats().token_requests, 1, "one fetch served everyone");
    let s = c.stats();
    assert_eq!(
        s.failures_network + s.failures_server + s.failures_protocol,
        0,
        "no caller's timeout counted as a failure"
    );
}

#[test]
fn only_short_callers_still_get_the_token_once_it_lands() {
    let emu = emulator();
    emu.set_token_delay_ms(SLOW_MS);
    let c = client(&emu);
    // Several short callers at once: all time out, one fetch runs on under the client's timeout...
    let barrier = Arc::new(Barrier::new(4));
    let shorts: Vec<_> = (0..4)
        .map(|_| {
            let (c, barrier) = (c.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                token(&c, SHORT)
            })
        })
        .collect();
    for s in shorts {
        assert_eq!(s.join().unwrap(), Err(ErrorKind::Timeout));
    }
    // ...and lands: a later short caller gets it (waiting for the landing in steps of its own deadline).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let got = loop {
        match token(&c, SHORT) {
            Ok(t) => break t,
            Err(ErrorKind::Timeout) => {
                assert!(std::time::Instant::now() < deadline, "it never landed")
            }
            Err(other) => panic!("a short caller got {other:?}: its timeout was cached"),
        }
    };
    assert!(!got.is_empty());
    assert_eq!(emu.stats().token_requests, 1);
}

#[test]
fn a_long_caller_first_is_not_cut_short_by_a_short_one() {
    let emu = emulator();
    emu.set_token_delay_ms(SLOW_MS);
    let c = client(&emu);
    let long = std::thread::spawn({
        let c = c.clone();
        move || token(&c, LONG)
    });
    until_token_requests(&emu, 1);
    assert_eq!(token(&c, SHORT), Err(ErrorKind::Timeout));
    assert!(long.join().unwrap().is_ok());
    assert_eq!(emu.stats().token_requests, 1);
}

#[test]
fn a_fetch_slower_than_the_clients_own_timeout_is_the_endpoints_failure_and_is_backed_off() {
    let emu = emulator();
    emu.set_token_delay_ms(1_500);
    let c = client_with(&emu, |o| {
        o.timeout = Duration::from_millis(400);
        o.max_retries = 0;
    });
    // The client's own timeout bounds the fetch: that failure is the endpoint's...
    let first = token(&c, Duration::from_millis(400));
    assert!(
        matches!(first, Err(ErrorKind::Timeout) | Err(ErrorKind::Transport)),
        "{first:?}"
    );
    // ...and is remembered for the backoff: the next caller gets it without a new request.
    assert_eq!(token(&c, Duration::from_millis(400)), first);
    assert_eq!(emu.stats().token_requests, 1);
}
