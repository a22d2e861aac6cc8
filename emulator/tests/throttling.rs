//! What issue 16 §4 and issue 15 test against: API calls answered 429/503 with `Retry-After`,
//! faults aimed at one page, a slow token endpoint, and the counters that prove what a client did.

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, SystemTime};
use x8_emulator::{EmulatorConfig, Fault, FaultMatch, FaultTarget};

fn admin_fault(emu: &x8_emulator::Emulator, body: serde_json::Value) {
    let reply = agent()
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .content_type("application/json")
        .send(body.to_string())
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
}

#[test]
fn api_calls_get_429_with_retry_after_seconds_then_503s_then_service() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    admin_fault(
        &emu,
        json!({"target": "api", "kind": "status", "status": 429, "retry_after": "1"}),
    );
    admin_fault(
        &emu,
        json!({"target": "api", "kind": "status", "status": 503, "count": 2}),
    );
    let reply = get(&a, &queues_url(&emu), Some(&bearer));
    assert_eq!(header(&reply, "retry-after").as_deref(), Some("1"));
    let (status, v) = json(reply);
    assert_eq!(status, 429);
    assert_eq!(
        v["fault"]["detail"]["errorcode"],
        "policies.ratelimit.QuotaViolation"
    );
    for _ in 0..2 {
        assert_eq!(json(get(&a, &queues_url(&emu), Some(&bearer))).0, 503);
    }
    assert_eq!(json(get(&a, &queues_url(&emu), Some(&bearer))).0, 200);
    assert_eq!(emu.stats().faults_injected, 3);
}

#[test]
fn retry_at_date_sends_an_http_date_that_many_seconds_ahead() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    admin_fault(
        &emu,
        json!({"target": "api", "kind": "retry_at_date", "status": 429, "secs": 2}),
    );
    let reply = get(&a, &queues_url(&emu), Some(&bearer));
    assert_eq!(reply.status().as_u16(), 429);
    let date = header(&reply, "retry-after").unwrap();
    let at = httpdate::parse_http_date(&date).unwrap();
    // HTTP dates have whole seconds, so "2 s ahead" reads as 1 to 2 s.
    let ahead = at.duration_since(SystemTime::now()).unwrap_or_default();
    assert!(ahead <= Duration::from_secs(2), "{date}");
    assert!(at > SystemTime::now() - Duration::from_secs(1), "{date}");
}

#[test]
fn a_matched_fault_fails_only_its_page_once() {
    let emu = start_with(EmulatorConfig {
        queues: 30,
        ..EmulatorConfig::default()
    });
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    emu.push_fault_matching(
        FaultTarget::Api,
        Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
        1,
        FaultMatch::path_contains("/queues").with_query("page", "1"),
    );
    let page = |p: u32| {
        let url = format!("{}?page={p}&size=10", queues_url(&emu));
        json(get(&a, &url, Some(&bearer))).0
    };
    assert_eq!(page(0), 200);
    assert_eq!(page(2), 200);
    assert_eq!(page(1), 503);
    assert_eq!(page(1), 200);
    // The same over HTTP.
    admin_fault(
        &emu,
        json!({"target": "api", "kind": "status", "status": 500,
            "match": {"query": {"page": "2"}}}),
    );
    assert_eq!(page(0), 200);
    assert_eq!(page(2), 500);
    assert_eq!(page(2), 200);
}

#[test]
fn slow_token_endpoint_shows_its_concurrency_in_the_stats() {
    // The gauge reads 3 only if the three requests overlap at the emulator: each is held 1.5 s, far longer
    // than three threads released together by a barrier take to send, however loaded the machine (300 ms
    // was not: a thread that started late found the others answered).
    let emu = start_with(EmulatorConfig {
        token_delay_ms: 1_500,
        ..EmulatorConfig::default()
    });
    let ready = std::sync::Barrier::new(3);
    let began = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let a = agent();
                ready.wait();
                token(&a, &emu)
            });
        }
    });
    assert!(began.elapsed() >= Duration::from_millis(1_500));
    assert_eq!(emu.stats().max_token_requests_in_flight, 3);
    // One after another, never more than one at a time.
    emu.reset();
    emu.set_token_delay_ms(0);
    let a = agent();
    for _ in 0..3 {
        token(&a, &emu);
    }
    assert_eq!(emu.stats().max_token_requests_in_flight, 1);
}

#[test]
fn token_delay_is_an_admin_setting_too() {
    let emu = start();
    let a = agent();
    let reply = a
        .post(format!("{}/_emulator/config", emu.base_url()))
        .content_type("application/json")
        .send(json!({"token_delay_ms": 150}).to_string())
        .unwrap();
    assert_eq!(json(reply).1["token_delay_ms"], 150);
    let began = std::time::Instant::now();
    token(&a, &emu);
    assert!(began.elapsed() >= Duration::from_millis(150));
}

#[test]
fn requests_are_counted_by_path() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    for _ in 0..2 {
        json(get(
            &a,
            &format!("{}?page=0", queues_url(&emu)),
            Some(&bearer),
        ));
    }
    json(get(&a, &format!("{}/103", queues_url(&emu)), Some(&bearer)));
    let by_path = emu.stats().requests_by_path;
    assert_eq!(by_path["/oauth/v2/token"], 1);
    assert_eq!(by_path["/analytics/cc/v5/realtime-metrics/queues"], 2);
    assert_eq!(by_path["/analytics/cc/v5/realtime-metrics/queues/103"], 1);
    assert_eq!(by_path.len(), 3);
}
