//! Every fault kind, on both targets, and that none of them can hang the emulator's shutdown.

mod common;

use common::*;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use ureq::Agent;
use x8_emulator::{Emulator, Fault, FaultTarget};

#[test]
fn status_faults_with_retry_after_then_normal_service() {
    let emu = start();
    let a = agent();
    emu.push_fault(
        FaultTarget::Token,
        Fault::Status {
            status: 503,
            retry_after: Some("2".into()),
            body: None,
        },
        2,
    );
    for _ in 0..2 {
        let reply = token_reply(&a, &emu, ID, SECRET);
        assert_eq!(header(&reply, "retry-after").as_deref(), Some("2"));
        let (status, v) = json(reply);
        assert_eq!(status, 503);
        assert_eq!(
            v["fault"]["detail"]["errorcode"],
            "messaging.adaptors.http.flow.ServiceUnavailable"
        );
    }
    token(&a, &emu);
    let stats = emu.stats();
    assert_eq!(
        (
            stats.token_requests,
            stats.token_failures,
            stats.tokens_issued,
            stats.faults_injected
        ),
        (3, 2, 1, 2)
    );
}

#[test]
fn rate_limit_with_an_http_date_and_a_given_body() {
    let emu = start();
    let date = "Wed, 21 Oct 2015 07:28:00 GMT";
    emu.push_fault(
        FaultTarget::Token,
        Fault::Status {
            status: 429,
            retry_after: Some(date.into()),
            body: Some(r#"{"slow":"down"}"#.into()),
        },
        1,
    );
    let reply = token_reply(&agent(), &emu, ID, SECRET);
    assert_eq!(header(&reply, "retry-after").as_deref(), Some(date));
    assert_eq!(json(reply), (429, json!({"slow": "down"})));
}

#[test]
fn status_fault_without_retry_after_sends_none() {
    let emu = start();
    emu.push_fault(
        FaultTarget::Token,
        Fault::Status {
            status: 500,
            retry_after: None,
            body: None,
        },
        1,
    );
    let reply = token_reply(&agent(), &emu, ID, SECRET);
    assert_eq!(header(&reply, "retry-after"), None);
    assert_eq!(json(reply).0, 500);
}

#[test]
fn raw_faults_are_sent_verbatim() {
    let emu = start();
    let a = agent();
    let cases = [
        (
            200,
            "application/json",
            r#"{"access_token":"abc","expires_in":"#,
        ),
        (200, "text/html", "<html><body>Gateway</body></html>"),
        (
            200,
            "application/json",
            r#"{"access_token":"abc","expires_in":1799}"#,
        ),
        (
            502,
            "application/json",
            r#"{"fault":{"faultstring":"Unexpected EOF at target","detail":{"errorcode":"messaging.adaptors.http.flow.UnexpectedEOFAtTarget"}}}"#,
        ),
    ];
    for (status, content_type, body) in cases {
        emu.push_fault(
            FaultTarget::Token,
            Fault::Raw {
                status,
                content_type: content_type.into(),
                body: body.into(),
            },
            1,
        );
    }
    for (status, content_type, body) in cases {
        let mut reply = token_reply(&a, &emu, ID, SECRET);
        assert_eq!(reply.status().as_u16(), status);
        assert_eq!(header(&reply, "content-type").unwrap(), content_type);
        assert_eq!(reply.body_mut().read_to_string().unwrap(), body);
    }
}

#[test]
fn api_faults_hit_only_the_api() {
    let emu = start();
    let a = agent();
    emu.push_fault(
        FaultTarget::Api,
        Fault::Raw {
            status: 500,
            content_type: "application/json".into(),
            body: r#"{"fault":{"faultstring":"Access Token expired","detail":{"errorcode":"keymanagement.service.access_token_expired"}}}"#.into(),
        },
        1,
    );
    let bearer = format!("Bearer {}", token(&a, &emu));
    let (status, v) = json(get(&a, &queues_url(&emu), Some(&bearer)));
    assert_eq!(status, 500);
    assert_eq!(v["fault"]["faultstring"], "Access Token expired");
    assert_eq!(json(get(&a, &queues_url(&emu), Some(&bearer))).0, 200);
    let stats = emu.stats();
    assert_eq!((stats.api_requests, stats.api_rejected), (2, 0));
}

#[test]
fn delay_then_normal_answer() {
    let emu = start();
    emu.push_fault(FaultTarget::Token, Fault::Delay { ms: 300 }, 1);
    let began = Instant::now();
    token(&agent(), &emu);
    assert!(began.elapsed() >= Duration::from_millis(300));
    assert_eq!(emu.stats().tokens_issued, 1);
}

#[test]
fn delay_outlasts_a_client_timeout_and_not_the_emulator() {
    let emu = start();
    emu.push_fault(FaultTarget::Token, Fault::Delay { ms: 60_000 }, 1);
    let impatient: Agent = Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(200)))
        .build()
        .into();
    let err = impatient
        .post(format!("{}/oauth/v2/token", emu.base_url()))
        .header("Authorization", basic(ID, SECRET))
        .send_form([("grant_type", "client_credentials")])
        .unwrap_err();
    assert!(matches!(err, ureq::Error::Timeout(_)), "{err:?}");
    // Other workers still serve while one waits.
    token(&agent(), &emu);
    let began = Instant::now();
    drop(emu);
    assert!(began.elapsed() < Duration::from_secs(2));
}

#[test]
fn close_drops_the_connection_without_a_reply() {
    let emu = start();
    let a = agent();
    emu.push_fault(FaultTarget::Token, Fault::Close, 1);
    let err = a
        .post(format!("{}/oauth/v2/token", emu.base_url()))
        .header("Authorization", basic(ID, SECRET))
        .send_form([("grant_type", "client_credentials")])
        .unwrap_err();
    assert!(!matches!(err, ureq::Error::StatusCode(_)), "{err:?}");
    token(&a, &emu);
    assert_eq!(emu.stats().token_requests, 2);
}

#[test]
fn close_reads_as_end_of_stream_on_a_raw_socket() {
    let emu = start();
    emu.push_fault(FaultTarget::Api, Fault::Close, 1);
    let mut socket = TcpStream::connect(("127.0.0.1", emu.port())).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    socket
        .write_all(b"GET /echo/x HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let n = socket.read_to_end(&mut got).unwrap_or(0);
    assert_eq!(n, 0, "{}", String::from_utf8_lossy(&got));
}

#[test]
fn endless_body_never_ends_and_frees_its_worker_when_the_client_leaves() {
    let emu = start_with(x8_emulator::EmulatorConfig {
        threads: 1,
        ..Default::default()
    });
    emu.push_fault(FaultTarget::Token, Fault::Endless, 1);
    let mut reply = token_reply(&agent(), &emu, ID, SECRET);
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(header(&reply, "content-length"), None);
    let err = reply
        .body_mut()
        .with_config()
        .limit(4 << 20)
        .read_to_vec()
        .unwrap_err();
    assert!(matches!(err, ureq::Error::BodyExceedsLimit(_)), "{err:?}");
    drop(reply);
    // The only worker is free again once the client hung up.
    token(&agent(), &emu);
}

#[test]
fn oversized_body_has_the_length_it_announces() {
    let emu = start();
    let bytes = 3 * 1024 * 1024 + 7;
    emu.push_fault(FaultTarget::Api, Fault::Oversized { bytes }, 1);
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let mut reply = get(&a, &queues_url(&emu), Some(&bearer));
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(header(&reply, "content-length").unwrap(), bytes.to_string());
    let body = reply
        .body_mut()
        .with_config()
        .limit(bytes + 1)
        .read_to_vec()
        .unwrap();
    assert_eq!(body.len() as u64, bytes);
    assert!(body.starts_with(br#"{"access_token":"xxx"#));
}

#[test]
fn faults_queue_in_order_and_reset_clears_them() {
    let emu = start();
    let a = agent();
    let status = |s| Fault::Status {
        status: s,
        retry_after: None,
        body: None,
    };
    emu.push_fault(FaultTarget::Token, status(502), 1);
    emu.push_fault(FaultTarget::Token, status(504), 1);
    assert_eq!(json(token_reply(&a, &emu, ID, SECRET)).0, 502);
    assert_eq!(json(token_reply(&a, &emu, ID, SECRET)).0, 504);
    emu.push_fault(FaultTarget::Token, status(503), 5);
    emu.reset();
    assert_eq!(json(token_reply(&a, &emu, ID, SECRET)).0, 200);
    assert_eq!(emu.stats().faults_injected, 0);
}

/// A client that asks for an endless body and never reads it stalls its worker in a write;
/// dropping the emulator must not wait on that worker.
#[test]
fn drop_is_prompt_even_with_a_stalled_endless_reply() {
    let emu = start();
    emu.push_fault(FaultTarget::Api, Fault::Endless, 1);
    let mut socket = TcpStream::connect(("127.0.0.1", emu.port())).unwrap();
    socket
        .write_all(b"GET /echo/x HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 12];
    socket.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    // Not a readiness wait: it gives the worker time to fill the socket buffers and block in a
    // write. Should it not have blocked yet, the test still checks a prompt drop.
    std::thread::sleep(Duration::from_millis(300));
    let began = Instant::now();
    drop::<Emulator>(emu);
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    drop(socket);
}
