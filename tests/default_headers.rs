//! Per-client default headers (issue 16 §5): sent with every request, replaced by a per-call header of the same
//! name, checked like per-call headers.

mod common;

use common::*;
use x8::{Client, Credentials, ErrorKind, Request};

fn echoed(c: &Client, headers: Vec<(&str, &str)>) -> serde_json::Value {
    let r = c
        .request(&Request {
            headers,
            ..get("/echo/h")
        })
        .unwrap();
    assert_eq!(r.status, 200);
    serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["headers"].clone()
}

#[test]
fn default_headers_go_with_every_request_and_a_per_call_one_replaces_them() {
    let emu = emulator();
    let c = client_with(&emu, |o| {
        o.default_headers = vec![
            ("X-Tenant-Info".into(), "acme".into()),
            ("pbx".into(), "demo-pbx".into()),
        ];
    });
    let h = echoed(&c, vec![]);
    assert_eq!(h["x-tenant-info"], "acme");
    assert_eq!(h["pbx"], "demo-pbx");
    assert!(h["authorization"].as_str().unwrap().starts_with("Bearer "));
    // Same name, any case: the call's value, sent once.
    let h = echoed(&c, vec![("x-tenant-info", "other")]);
    assert_eq!(h["x-tenant-info"], "other");
    assert_eq!(h["pbx"], "demo-pbx");
    // QM takes the default pbx header: a paged call needs nothing more.
    let r = c
        .request(&get("/qm/us-west/v1/interactions?size=2"))
        .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

#[test]
fn default_headers_are_checked_when_the_client_is_made() {
    let emu = emulator();
    for (name, value) in [
        ("Authorization", "Bearer stolen"),
        ("Host", "evil.example"),
        ("X-Bad", "a\r\nInjected: 1"),
        ("Bad Name", "x"),
        ("", "x"),
    ] {
        let mut o = options(&emu);
        o.default_headers = vec![(name.into(), value.into())];
        let e = Client::new(Credentials::new(ID, SECRET).unwrap(), o)
            .err()
            .unwrap_or_else(|| panic!("{name:?} was accepted"));
        assert_eq!(e.kind(), ErrorKind::Config, "{name:?}: {e}");
        assert!(e.message().starts_with("default header"), "{e}");
    }
}
