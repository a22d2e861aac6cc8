//! Opt-in API retries and the client-side rate limit (issue 16 §4), against the emulator's fault injection.

mod common;

use common::*;
use std::time::{Duration, Instant};
use x8::{ErrorKind, RateLimit, Request};
use x8_emulator::{Fault, FaultTarget};

const QUEUES: &str = "/analytics/cc/v5/realtime-metrics/queues";

fn throttled(retry_after: &str) -> Fault {
    Fault::Status {
        status: 429,
        retry_after: Some(retry_after.to_owned()),
        body: None,
    }
}

#[test]
fn a_429_with_retry_after_one_second_is_waited_out_and_succeeds() {
    let emu = emulator();
    let c = client_with(&emu, |o| o.api_retries = 2);
    c.token(None).unwrap();
    emu.push_fault(FaultTarget::Api, throttled("1"), 1);
    let started = Instant::now();
    let r = c.request(&get(QUEUES)).unwrap();
    assert_eq!(r.status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(c.stats().api_retries, 1);
}

#[test]
fn a_retry_after_http_date_and_a_503_without_one_are_retried_too() {
    let emu = emulator();
    let c = client_with(&emu, |o| o.api_retries = 3);
    emu.push_fault(
        FaultTarget::Api,
        Fault::RetryAtDate {
            status: 503,
            secs: 1,
            body: None,
        },
        1,
    );
    emu.push_fault(
        FaultTarget::Api,
        Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
        1,
    );
    assert_eq!(c.request(&get(QUEUES)).unwrap().status, 200);
    assert_eq!(c.stats().api_retries, 2);
}

#[test]
fn post_and_patch_get_the_429_back_and_retries_are_off_by_default() {
    let emu = emulator();
    let c = client_with(&emu, |o| o.api_retries = 3);
    for method in ["POST", "PATCH"] {
        emu.push_fault(FaultTarget::Api, throttled("1"), 1);
        let req = Request {
            method,
            path: "/echo/x",
            body: Some(b"{}"),
            ..Request::default()
        };
        let r = c.request(&req).unwrap();
        assert_eq!(r.status, 429, "{method}");
    }
    assert_eq!(c.stats().api_retries, 0);
    let default = client(&emu);
    emu.push_fault(FaultTarget::Api, throttled("1"), 1);
    assert_eq!(default.request(&get(QUEUES)).unwrap().status, 429);
    assert_eq!(default.stats().api_retries, 0);
}

#[test]
fn a_wait_past_the_deadline_returns_the_429_at_once_and_the_count_bounds_retries() {
    let emu = emulator();
    let c = client_with(&emu, |o| {
        o.api_retries = 2;
        o.timeout = Duration::from_secs(10);
    });
    c.token(None).unwrap();
    emu.push_fault(FaultTarget::Api, throttled("30"), 1);
    let started = Instant::now();
    assert_eq!(c.request(&get(QUEUES)).unwrap().status, 429);
    // A client that waited would be back at its 10 s deadline at the earliest; half of it is room for a
    // loaded machine (a 2 s timeout and bound left one request's time no room at all).
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    emu.reset();
    emu.push_fault(FaultTarget::Api, throttled("0"), 5);
    assert_eq!(c.request(&get(QUEUES)).unwrap().status, 429);
    assert_eq!(c.stats().api_retries, 2, "two retries, then the 429");
}

#[test]
fn a_limit_of_5_per_second_spreads_20_calls_over_about_4_seconds() {
    let emu = emulator();
    let c = client_with(&emu, |o| {
        o.rate_limit = Some(RateLimit {
            requests: 5,
            interval: Duration::from_secs(1),
        });
        o.timeout = Duration::from_secs(30);
    });
    c.token(None).unwrap();
    // Released together, so that all 20 ask within the first interval however slowly threads start: a thread
    // that started a second late would find a free turn and not wait, and the count of 15 waits would not hold.
    let ready = std::sync::Arc::new(std::sync::Barrier::new(20));
    let started = Instant::now();
    let threads: Vec<_> = (0..20)
        .map(|_| {
            let (c, ready) = (c.clone(), ready.clone());
            std::thread::spawn(move || {
                ready.wait();
                c.request(&get(QUEUES)).unwrap().status
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(3),
        "20 calls at 5/s took {took:?}"
    );
    assert_eq!(c.stats().rate_limit_waits, 15, "the first 5 went at once");
}

#[test]
fn a_caller_whose_turn_comes_after_its_deadline_times_out_at_once_sending_nothing() {
    let emu = emulator();
    let c = client_with(&emu, |o| {
        o.rate_limit = Some(RateLimit {
            requests: 1,
            interval: Duration::from_secs(60),
        })
    });
    assert_eq!(c.request(&get(QUEUES)).unwrap().status, 200);
    let sent = emu.stats().api_requests;
    let started = Instant::now();
    let req = Request {
        timeout: Some(Duration::from_secs(10)),
        ..get(QUEUES)
    };
    let e = c.request(&req).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.to_string().contains("rate limit"), "{e}");
    // A caller that waited for its turn or its deadline would be back after 10 s at the earliest.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(emu.stats().api_requests, sent);
}

#[test]
fn the_environment_sets_retries_and_the_limit() {
    assert_eq!(
        RateLimit::parse("10/60").unwrap(),
        RateLimit {
            requests: 10,
            interval: Duration::from_secs(60)
        }
    );
    assert_eq!(
        RateLimit::parse(" 5 / 0.5 ").unwrap().interval,
        Duration::from_millis(500)
    );
    for bad in ["", "10", "0/1", "x/1", "5/0", "5/-1", "5/inf"] {
        assert!(RateLimit::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn a_timeout_names_the_limit_that_passed() {
    let emu = emulator();
    let c = client_with(&emu, |o| o.timeout = Duration::from_millis(800));
    c.token(None).unwrap();
    emu.push_fault(FaultTarget::Api, Fault::Delay { ms: 3000 }, 2);
    let e = c.request(&get(QUEUES)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(
        e.to_string()
            .contains("the client's timeout (800 ms) passed"),
        "{e}"
    );
    let req = Request {
        timeout: Some(Duration::from_millis(300)),
        ..get(QUEUES)
    };
    let e = c.request(&req).unwrap_err();
    assert!(e.to_string().contains("the call's timeout passed"), "{e}");
}
