//! The safe client end to end against the emulator: token reuse, requests, replay, errors, concurrency.

mod common;

use common::*;
use std::sync::Arc;
use std::time::Duration;
use x8::{Client, Credentials, ErrorKind, Options, Request};
use x8_emulator::ReplyShape;

#[test]
fn fetches_one_token_and_reuses_it() {
    let emu = emulator();
    let c = client(&emu);
    let first = c.token(None).unwrap();
    for _ in 0..100 {
        assert_eq!(c.token(None).unwrap().access_token(), first.access_token());
    }
    assert_eq!(emu.stats().token_requests, 1);
    assert_eq!(first.token_type(), "BearerToken");
    assert_eq!(first.lifetime_secs(), 1799);
    assert!(first.has_product("analytics realtime-api"));
    assert!(!first.has_product("Chat"));
    let stats = c.stats();
    assert_eq!(stats.token_fetches, 1);
    assert_eq!(stats.cache_hits, 100);
    assert!(stats.token_seconds_left > 1700);
}

#[test]
fn reads_the_chat_spec_reply_shape() {
    let emu = emulator_with(|c| c.reply_shape = ReplyShape::Chat);
    let t = client(&emu).token(None).unwrap();
    assert!(t.has_product("vcc"));
    assert_eq!(t.products().len(), 4);
}

#[test]
fn sends_the_bearer_scheme_and_caller_headers() {
    let emu = emulator();
    let c = client(&emu);
    let token = c.token(None).unwrap();
    let req = Request {
        method: "POST",
        path: "/echo/x?a=1",
        headers: vec![
            ("X-Tenant-Info", "acme"),
            ("Content-Type", "application/json"),
        ],
        body: Some(b"{\"k\":1}"),
        ..Request::default()
    };
    let r = c.request(&req).unwrap();
    assert_eq!(r.status, 200);
    let echo: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(
        echo["headers"]["authorization"],
        format!("Bearer {}", token.access_token())
    );
    assert_eq!(echo["headers"]["x-tenant-info"], "acme");
    assert_eq!(echo["body"], "{\"k\":1}");
    assert!(echo["headers"]["user-agent"]
        .as_str()
        .unwrap()
        .starts_with("x8/"));
}

#[test]
fn calls_the_queues_endpoint_with_paging_in_every_region() {
    let emu = emulator();
    let c = client(&emu);
    for prefix in ["", "/eu", "/au", "/ca"] {
        let path = format!("{prefix}/analytics/cc/v5/realtime-metrics/queues?page=1&size=3");
        let r = c.request(&get(&path)).unwrap();
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("x-page"), Some("1"));
        assert_eq!(r.header("X-Total-Pages"), Some("3"));
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body.as_array().unwrap().len(), 3);
    }
    assert_eq!(emu.stats().token_requests, 1);
    // An error status is a response, not an error.
    let r = c
        .request(&get("/analytics/cc/v5/realtime-metrics/queues?size=5000"))
        .unwrap();
    assert_eq!(r.status, 400);
}

#[test]
fn bad_credentials_are_reported_with_the_endpoint_text_and_never_retried() {
    let emu = emulator();
    let c = Client::new(
        Credentials::new(ID, "wrong-secret-value").unwrap(),
        options(&emu),
    )
    .unwrap();
    let e = c.token(None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(e.http_status(), 401);
    let msg = no_secrets(&e, &[]);
    assert!(!msg.contains("wrong-secret-value"), "{msg}");
    assert!(
        msg.contains("invalid_client") && msg.contains("ClientId is Invalid"),
        "{msg}"
    );
    assert!(msg.contains("Admin Console"), "{msg}");
    assert_eq!(emu.stats().token_requests, 1);
}

#[test]
fn a_key_without_the_product_gets_a_message_naming_its_products() {
    let emu = emulator();
    let c = Client::new(
        Credentials::new("bare-client", "bare-secret").unwrap(),
        options(&emu),
    )
    .unwrap();
    assert!(!c.has_product("analytics realtime-api").unwrap());
    let e = c
        .request(&get("/analytics/cc/v5/realtime-metrics/queues"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotEntitled);
    let msg = no_secrets(&e, &[]);
    assert!(msg.contains("[]") && msg.contains("replicate"), "{msg}");
    // Not an invalid token: no new token was fetched for it.
    assert_eq!(emu.stats().token_requests, 1);
}

#[test]
fn a_revoked_token_is_replaced_and_the_request_replayed_once() {
    let emu = emulator();
    let c = client(&emu);
    let old = c.token(None).unwrap();
    emu.revoke_all_tokens();
    let r = c
        .request(&get("/analytics/cc/v5/realtime-metrics/queues"))
        .unwrap();
    assert_eq!(r.status, 200);
    assert_ne!(c.token(None).unwrap().access_token(), old.access_token());
    assert_eq!(emu.stats().token_requests, 2);
    assert_eq!(c.stats().replays_after_401, 1);
}

#[test]
fn an_expired_token_fault_with_status_500_is_recognised_by_its_errorcode() {
    let emu = emulator_with(|c| c.expired_status = 500);
    let c = client(&emu);
    c.token(None).unwrap();
    emu.expire_all_tokens();
    let r = c
        .request(&get("/analytics/cc/v5/realtime-metrics/queues"))
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(emu.stats().token_requests, 2);
}

#[test]
fn a_second_rejection_is_returned_and_replay_can_be_turned_off() {
    let emu = emulator();
    let c = client(&emu);
    c.token(None).unwrap();
    let fault = x8_emulator::Fault::Raw {
        status: 401,
        content_type: "application/json".into(),
        body: "{}".into(),
    };
    emu.push_fault(x8_emulator::FaultTarget::Api, fault.clone(), 2);
    let r = c.request(&get("/echo/a")).unwrap();
    assert_eq!(r.status, 401, "the second 401 is the caller's to see");
    assert_eq!(emu.stats().token_requests, 2);

    let quiet = client_with(&emu, |o| o.replay_on_401 = false);
    quiet.token(None).unwrap();
    emu.push_fault(x8_emulator::FaultTarget::Api, fault, 1);
    let before = emu.stats().api_requests;
    assert_eq!(quiet.request(&get("/echo/a")).unwrap().status, 401);
    assert_eq!(emu.stats().api_requests, before + 1, "no replay");
    // ... but the rejected token was dropped, so the next call gets a new one.
    assert_eq!(quiet.request(&get("/echo/a")).unwrap().status, 200);
}

#[test]
fn refuses_other_origins_and_header_injection_before_sending_anything() {
    let emu = emulator();
    let c = client(&emu);
    let bad = [
        Request {
            method: "GET",
            path: "https://evil.example/x",
            ..Request::default()
        },
        Request {
            method: "GET",
            path: "http://127.0.0.1:1/x",
            ..Request::default()
        },
        Request {
            method: "GET",
            path: "/x\r\nX-Evil: 1",
            ..Request::default()
        },
        Request {
            method: "GE\nT",
            path: "/x",
            ..Request::default()
        },
        Request {
            method: "GET",
            path: "/x",
            headers: vec![("X-A", "1\r\nX-Evil: 1")],
            ..Request::default()
        },
        Request {
            method: "GET",
            path: "/x",
            headers: vec![("Authorization", "Basic abc")],
            ..Request::default()
        },
    ];
    for req in &bad {
        let e = c.request(req).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{req:?}");
        no_secrets(&e, &[]);
    }
    let s = emu.stats();
    assert_eq!((s.token_requests, s.api_requests), (0, 0));
}

#[test]
fn sixteen_threads_cause_one_token_fetch() {
    let emu = emulator();
    emu.set_verbose(std::env::var_os("EMU_VERBOSE").is_some());
    let c = Arc::new(client(&emu));
    let barrier = Arc::new(std::sync::Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let (c, barrier) = (c.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                if i % 2 == 0 {
                    c.token(None).map(|_| 200)
                } else {
                    c.request(&get("/analytics/cc/v5/realtime-metrics/queues"))
                        .map(|r| r.status)
                }
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap(), 200);
    }
    assert_eq!(emu.stats().token_requests, 1);
}

#[test]
fn a_short_lived_token_is_renewed_without_a_fetch_per_call() {
    let emu = emulator_with(|c| c.token_lifetime_secs = 2);
    let c = client(&emu);
    let start = std::time::Instant::now();
    let mut calls = 0;
    while start.elapsed() < Duration::from_millis(2500) {
        c.token(None).unwrap();
        calls += 1;
    }
    let fetches = emu.stats().token_requests;
    // Two lifetimes' worth of calls: a few fetches at most (renewal at 1.6 s), never one per call.
    assert!(
        (2..=4).contains(&fetches),
        "{fetches} fetches for {calls} calls"
    );
}

#[test]
fn the_environment_builds_a_client() {
    // The only test that touches the process environment, so no other test races with it.
    let emu = emulator();
    std::env::set_var("X8_CLIENT_ID", ID);
    std::env::set_var("X8_CLIENT_SECRET", SECRET);
    std::env::set_var("X8_BASE_URL", emu.base_url());
    let c = Client::from_env(Options::default()).unwrap();
    assert!(c.has_product("storage").unwrap());
    std::env::remove_var("X8_CLIENT_SECRET");
    let e = Client::from_env(Options::default()).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.message().contains("X8_CLIENT_SECRET"));
    std::env::remove_var("X8_CLIENT_ID");
    std::env::remove_var("X8_BASE_URL");
}
