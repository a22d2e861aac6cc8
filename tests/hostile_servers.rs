//! Servers that misbehave on purpose (issue 13's "hostile servers"): they close kept-alive connections
//! without warning, trickle bytes, send absurd headers, echo credentials, redirect elsewhere. Each test runs in
//! seconds against a fake on 127.0.0.1 (tests/common/fake_http.rs) and is deterministic: the fake decides per
//! request, never by timing.

mod common;
#[path = "common/fake_http.rs"]
mod fake_http;

use std::time::{Duration, Instant};

use common::*;
use fake_http::{is_token_request, response, token_reply, Action, FakeHttp};
use x8::{Client, Credentials, ErrorKind, Options, Request};

fn client_for(server: &FakeHttp, tweak: impl FnOnce(&mut Options)) -> Client {
    let mut o = Options {
        base_url: server.base_url(),
        retry_base_delay: Duration::from_millis(5),
        retry_max_delay: Duration::from_millis(20),
        timeout: Duration::from_secs(10),
        ..Options::default()
    };
    tweak(&mut o);
    Client::new(Credentials::new(ID, SECRET).unwrap(), o).unwrap()
}

/// What load balancers with short keep-alive timeouts do: every reply is the connection's last, but none says
/// `Connection: close`. The client learns it only when it reuses the connection.
#[test]
fn a_server_closing_each_connection_after_its_reply_fails_no_idempotent_request() {
    let server = FakeHttp::start(|r| {
        if is_token_request(r) {
            Action::ReplyThenClose(token_reply("tok-close"))
        } else {
            Action::ReplyThenClose(response(200, "{}"))
        }
    });
    let client = client_for(&server, |_| {});
    let mut failures = Vec::new();
    for i in 0..300 {
        let method = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"][i % 5];
        let req = Request {
            method,
            path: "/api/x",
            ..Request::default()
        };
        if let Err(e) = client.request(&req) {
            failures.push(format!("{method}: {}", no_secrets(&e, &["tok-close"])));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed: {failures:?}",
        failures.len()
    );
}

/// The deterministic form of the same race: the server takes the next request on a kept-alive connection and
/// closes without a byte of reply, always. A GET is sent again once on a fresh connection; a POST is not (the
/// server may have acted on it), and its failure is the caller's to see.
#[test]
fn a_request_lost_on_a_stale_connection_is_resent_only_when_idempotent() {
    let server = FakeHttp::start(|r| match (r.nth_on_connection, is_token_request(r)) {
        (0, true) => Action::Reply(token_reply("tok-stale")),
        (0, false) => Action::Reply(response(200, "{}")),
        _ => Action::Close,
    });
    let client = client_for(&server, |_| {});
    for _ in 0..50 {
        let reply = client.request(&get("/api/x")).unwrap();
        assert_eq!(reply.status, 200);
    }
    // Every GET after the first met a dead connection and was sent once more: never more than twice.
    let gets = server.count("GET", "/api/x");
    assert!((50..=100).contains(&gets), "{gets} GETs reached the server");

    let posts_before = server.count("POST", "/api/x");
    let post = Request {
        method: "POST",
        path: "/api/x",
        body: Some(b"{\"charge\":1}"),
        ..Request::default()
    };
    let err = client.request(&post).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(
        server.count("POST", "/api/x") - posts_before,
        1,
        "a POST must never be sent twice"
    );
}

/// A reply dripping one byte every 150 ms never holds a call past its deadline.
#[test]
fn a_trickling_api_reply_is_cut_off_at_the_call_deadline() {
    let server = FakeHttp::start(|r| {
        if is_token_request(r) {
            Action::Reply(token_reply("tok-trickle"))
        } else {
            Action::Trickle(response(200, &"x".repeat(400)), Duration::from_millis(150))
        }
    });
    let client = client_for(&server, |_| {});
    let started = Instant::now();
    let req = Request {
        timeout: Some(Duration::from_secs(2)),
        ..get("/api/x")
    };
    let err = client.request(&req).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

/// Headers without end: a million short ones, or one line of a gibibyte. Cut off, never buffered whole.
#[test]
fn endless_headers_are_refused_without_eating_memory() {
    for shape in ["many", "long"] {
        let server = FakeHttp::start(move |r| {
            if is_token_request(r) {
                return Action::Reply(token_reply("tok-headers"));
            }
            let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
            match shape {
                // 1 000 000 headers of 8 bytes: 8 MB, far past any header limit.
                "many" => (0..1_000_000).for_each(|_| head.extend_from_slice(b"a: b\r\n")),
                // The start of a 1 GiB header line: 16 MB of it is plenty to pass the limit.
                _ => {
                    head.extend_from_slice(b"x-long: ");
                    head.resize(16 << 20, b'a');
                }
            }
            Action::ReplyThenClose(head)
        });
        let client = client_for(&server, |_| {});
        let started = Instant::now();
        let err = client.request(&get("/api/x")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{shape}: {err}");
        assert!(started.elapsed() < Duration::from_secs(5), "{shape}");
    }
}

/// A 401 that echoes the request's `Authorization: Basic …` back: neither the base64 pair, nor the secret,
/// nor the client's message may quote it.
#[test]
fn a_token_endpoint_echoing_the_basic_credentials_is_redacted() {
    let server = FakeHttp::start(|r| {
        let echoed = format!(
            "{{\"error\":\"invalid_client\",\"error_description\":\"bad {} for {}\"}}",
            r.header("authorization").unwrap_or(""),
            SECRET
        );
        Action::Reply(response(401, &echoed))
    });
    let client = client_for(&server, |_| {});
    let err = client.token(None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    use base64::Engine;
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{ID}:{SECRET}"));
    let text = format!("{err} {err:?}");
    assert!(!text.contains(&pair), "the Basic pair leaked: {text}");
    no_secrets(&err, &[]);
    assert!(text.contains("invalid_client"), "{text}");
}

/// A token endpoint whose error text carries terminal escapes, a forged log line and a bidi override: the
/// message (what the CLI prints and the log callback receives) is one line of printable text.
#[test]
fn terminal_escapes_and_forged_lines_in_a_servers_error_never_reach_the_message() {
    let server = FakeHttp::start(|_| {
        Action::Reply(response(
            401,
            "{\"error\":\"invalid_client\",\"error_description\":\"bad\\u001b]0;owned\\u0007\\u001b[2J\\n[ERROR] forged\\u202e\"}",
        ))
    });
    let client = client_for(&server, |_| {});
    let err = client.token(None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let text = err.to_string();
    assert!(
        !text.chars().any(|c| c.is_control() || c == '\u{202e}'),
        "{text:?}"
    );
    assert!(
        text.contains("invalid_client") && text.contains("[ERROR] forged"),
        "{text}"
    );
}

/// The same with `client_secret_post`: the server echoes the form body, where the secret is form-encoded
/// (SECRET's `!` becomes `%21`).
#[test]
fn a_token_endpoint_echoing_the_posted_form_is_redacted() {
    let server = FakeHttp::start(|r| {
        let echoed = format!(
            "{{\"error\":\"invalid_client\",\"error_description\":\"bad form {}\"}}",
            String::from_utf8_lossy(&r.body)
        );
        Action::Reply(response(401, &echoed))
    });
    let client = client_for(&server, |o| o.client_auth = x8::ClientAuth::Post);
    let err = client.token(None).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("it-secret-Zq8%21pw"), "{text}");
    no_secrets(&err, &[]);
    assert!(text.contains("invalid_client"), "{text}");
}

/// A token endpoint answering 200 with 10 MB: read no further than a token reply could be (64 KiB), not up to
/// the API body limit.
#[test]
fn an_oversized_token_reply_is_cut_off_early() {
    let server = FakeHttp::start(|_| {
        let body = format!("{{\"access_token\":\"{}\"}}", "a".repeat(10 << 20));
        Action::ReplyThenClose(response(200, &body))
    });
    let client = client_for(&server, |o| o.max_retries = 0);
    let err = client.token(None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BodyTooLarge, "{err}");
    assert!(err.message().contains("65536"), "{err}");
}

/// A redirect to another origin is handed back, not followed: the token never goes there.
#[test]
fn a_redirect_to_another_origin_is_not_followed() {
    let elsewhere = FakeHttp::start(|_| Action::Reply(response(200, "{}")));
    let target = format!("{}/steal", elsewhere.base_url());
    let server = FakeHttp::start(move |r| {
        if is_token_request(r) {
            Action::Reply(token_reply("tok-redirect"))
        } else {
            Action::Reply(
                format!("HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\n\r\n")
                    .into_bytes(),
            )
        }
    });
    let client = client_for(&server, |_| {});
    let reply = client.request(&get("/api/x")).unwrap();
    assert_eq!(reply.status, 302);
    assert!(elsewhere.seen().is_empty(), "{:?}", elsewhere.seen());
}

/// An invalid port in the base or token URL is a configuration error naming it, never port 80.
#[test]
fn invalid_ports_are_configuration_errors_naming_the_port() {
    for port in ["99999", "65536", "abc", "-1"] {
        for (base, token) in [
            (format!("http://127.0.0.1:{port}"), None),
            (
                "http://127.0.0.1:8080".to_owned(),
                Some(format!("http://127.0.0.1:{port}/oauth/v2/token")),
            ),
        ] {
            let o = Options {
                base_url: base.clone(),
                token_url: token.clone(),
                ..Options::default()
            };
            let Err(err) = Client::new(Credentials::new(ID, SECRET).unwrap(), o) else {
                panic!("{base} {token:?} accepted");
            };
            assert_eq!(err.kind(), ErrorKind::Config, "{base} {token:?}");
            assert!(err.message().contains(port), "{}", err.message());
        }
    }
}

/// Methods x8 cannot send are refused before anything is fetched or sent.
#[test]
fn extension_and_lower_case_methods_are_refused_before_sending() {
    let server = FakeHttp::start(|_| Action::Reply(token_reply("tok-m")));
    let client = client_for(&server, |_| {});
    for method in ["PROPFIND", "PURGE", "get", "TRACE"] {
        let err = client
            .request(&Request {
                method,
                path: "/x",
                ..Request::default()
            })
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{method}: {err}");
    }
    assert!(server.seen().is_empty(), "{:?}", server.seen());
}
