//! The `/_emulator/...` controls, and the counters they read.

mod common;

use common::*;
use serde_json::{json, Value};
use ureq::Agent;
use x8_emulator::Emulator;

fn admin_post(a: &Agent, emu: &Emulator, action: &str, body: Value) -> (u16, Value) {
    let reply = a
        .post(format!("{}/_emulator/{action}", emu.base_url()))
        .content_type("application/json")
        .send(body.to_string())
        .unwrap();
    json(reply)
}

fn admin_stats(a: &Agent, emu: &Emulator) -> Value {
    let (status, v) = json(get(a, &format!("{}/_emulator/stats", emu.base_url()), None));
    assert_eq!(status, 200);
    v
}

#[test]
fn stats_over_http_match_the_library_and_admin_is_not_counted() {
    let emu = start();
    let a = agent();
    token(&a, &emu);
    json(token_reply(&a, &emu, ID, "wrong"));
    admin_post(&a, &emu, "revoke", json!({}));
    let v = admin_stats(&a, &emu);
    assert_eq!(v, serde_json::to_value(emu.stats()).unwrap());
    assert_eq!(
        v,
        json!({"token_requests": 2, "tokens_issued": 1, "token_failures": 1,
            "api_requests": 0, "api_rejected": 0, "connections": 1, "faults_injected": 0,
            "max_token_requests_in_flight": 1, "requests_by_path": {"/oauth/v2/token": 2},
            "presigned_requests": 0})
    );
}

#[test]
fn reset_zeroes_the_counters() {
    let emu = start();
    let a = agent();
    token(&a, &emu);
    assert_eq!(
        admin_post(&a, &emu, "reset", json!({})),
        (200, json!({"ok": true}))
    );
    assert_eq!(emu.stats(), x8_emulator::Stats::default());
}

#[test]
fn revoke_and_expire() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    admin_post(&a, &emu, "expire", json!({}));
    let (status, v) = json(get(&a, &queues_url(&emu), Some(&bearer)));
    assert_eq!(status, 401);
    assert_eq!(v["fault"]["faultstring"], "Access Token expired");

    let bearer = format!("Bearer {}", token(&a, &emu));
    admin_post(&a, &emu, "revoke", json!({}));
    let (status, v) = json(get(&a, &queues_url(&emu), Some(&bearer)));
    assert_eq!(status, 401);
    assert_eq!(v["fault"]["faultstring"], "Invalid Access Token");
}

#[test]
fn config_changes_lifetime_expired_status_and_shape() {
    let emu = start();
    let a = agent();
    let (status, v) = admin_post(&a, &emu, "config", json!({"token_lifetime": 3}));
    assert_eq!(status, 200);
    assert_eq!(v["token_lifetime"], 3);
    let (_, t) = json(token_reply(&a, &emu, ID, SECRET));
    assert_eq!(t["expires_in"], "3");

    let (_, v) = admin_post(
        &a,
        &emu,
        "config",
        json!({"expired_status": 500, "reply_shape": "chat"}),
    );
    // The reply is every setting; these are the ones this test touched.
    for (key, want) in [
        ("token_lifetime", json!(3)),
        ("expired_status", json!(500)),
        ("reply_shape", json!("chat")),
        ("token_mode", json!("8x8")),
    ] {
        assert_eq!(v[key], want, "{key} in {v}");
    }
    let (_, t) = json(token_reply(&a, &emu, ID, SECRET));
    assert!(t["api_product_list"].is_array());
    emu.expire_all_tokens();
    let bearer = format!("Bearer {}", t["access_token"].as_str().unwrap());
    assert_eq!(json(get(&a, &queues_url(&emu), Some(&bearer))).0, 500);

    let (status, _) = admin_post(&a, &emu, "config", json!({"token_lifetme": 3}));
    assert_eq!(status, 400);
}

#[test]
fn faults_over_http_default_to_one_token_request() {
    let emu = start();
    let a = agent();
    let (status, _) = admin_post(
        &a,
        &emu,
        "faults",
        json!({"target": "token", "kind": "status", "status": 503, "retry_after": "1", "count": 2}),
    );
    assert_eq!(status, 200);
    admin_post(
        &a,
        &emu,
        "faults",
        json!({"kind": "raw", "status": 200, "body": "{"}),
    );
    for _ in 0..2 {
        let reply = token_reply(&a, &emu, ID, SECRET);
        assert_eq!(header(&reply, "retry-after").as_deref(), Some("1"));
        assert_eq!(json(reply).0, 503);
    }
    let mut reply = token_reply(&a, &emu, ID, SECRET);
    assert_eq!(header(&reply, "content-type").unwrap(), "application/json");
    assert_eq!(reply.body_mut().read_to_string().unwrap(), "{");
    token(&a, &emu);
}

#[test]
fn every_fault_kind_is_accepted_over_http() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    for body in [
        json!({"target": "api", "kind": "raw", "status": 500, "content_type": "text/plain", "body": "boom"}),
        json!({"target": "api", "kind": "delay", "ms": 1}),
        json!({"target": "api", "kind": "oversized", "bytes": 10}),
        json!({"target": "api", "kind": "close"}),
    ] {
        assert_eq!(
            admin_post(&a, &emu, "faults", body.clone()).0,
            200,
            "{body}"
        );
    }
    let url = format!("{}/echo/x", emu.base_url());
    let mut reply = get(&a, &url, Some(&bearer));
    assert_eq!(reply.status().as_u16(), 500);
    assert_eq!(reply.body_mut().read_to_string().unwrap(), "boom");
    assert_eq!(json(get(&a, &url, Some(&bearer))).0, 200);
    let mut reply = get(&a, &url, Some(&bearer));
    assert_eq!(reply.body_mut().read_to_string().unwrap(), r#"{"access_t"#);
    assert!(a.get(&url).header("Authorization", &bearer).call().is_err());
    assert_eq!(emu.stats().faults_injected, 4);

    // Endless is accepted too (not triggered here: its own test covers the stream).
    assert_eq!(
        admin_post(&a, &emu, "faults", json!({"kind": "endless"})).0,
        200
    );
    let (status, v) = admin_post(&a, &emu, "faults", json!({"kind": "explode"}));
    assert_eq!(status, 400);
    assert!(v["message"].as_str().unwrap().starts_with("Bad request"));
}

#[test]
fn unknown_admin_paths_and_methods() {
    let emu = start();
    let a = agent();
    assert_eq!(
        json(get(&a, &format!("{}/_emulator/nope", emu.base_url()), None)).0,
        404
    );
    assert_eq!(
        json(get(
            &a,
            &format!("{}/_emulator/reset", emu.base_url()),
            None
        ))
        .0,
        405
    );
    assert_eq!(admin_post(&a, &emu, "stats", json!({})).0, 405);
}

#[test]
fn keep_alive_shows_as_one_connection() {
    let emu = start();
    let a = agent();
    for _ in 0..3 {
        let bearer = format!("Bearer {}", token(&a, &emu));
        json(get(&a, &queues_url(&emu), Some(&bearer)));
    }
    let stats = emu.stats();
    assert_eq!((stats.token_requests, stats.api_requests), (3, 3));
    assert_eq!(stats.connections, 1);

    // A second agent is a second connection; after a reset only the connections used since count.
    token(&agent(), &emu);
    assert_eq!(emu.stats().connections, 2);
    emu.reset();
    token(&a, &emu);
    assert_eq!(emu.stats().connections, 1);
}

#[test]
fn concurrent_clients_are_served_concurrently() {
    use std::time::{Duration, Instant};
    use x8_emulator::{Fault, FaultTarget};
    let emu = start();
    emu.push_fault(FaultTarget::Token, Fault::Delay { ms: 1_000 }, 4);
    let ready = std::sync::Barrier::new(4);
    let began = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let a = agent();
                ready.wait();
                token(&a, &emu)
            });
        }
    });
    // Four one-second delays served one after another would take four seconds; served together, one. The
    // bound leaves two seconds for the threads and their requests on a loaded machine (with 500 ms delays and
    // a 1.5 s bound it left half a second).
    assert!(
        began.elapsed() < Duration::from_millis(3_000),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(emu.stats().connections, 4);
}
