//! The token endpoint's RFC 6749 mode: each client-authentication style against a server that
//! insists on it, and the parameters a client sent, as a test reads them back.

mod common;

use base64::Engine;
use common::*;
use serde_json::{json, Value};
use ureq::http::Response;
use ureq::Body;
use x8_emulator::{ClientSpec, Emulator, EmulatorConfig, TokenMode, OAUTH_PRODUCTS, REDACTED};

/// An id and a secret holding every character RFC 6749's encoding changes.
const RFC_ID: &str = "my:app";
const RFC_SECRET: &str = "s3cr:t/%x+y z";

fn start_rfc() -> Emulator {
    start_with(EmulatorConfig {
        clients: vec![
            ClientSpec::new(RFC_ID, RFC_SECRET, &OAUTH_PRODUCTS),
            ClientSpec::new(ID, SECRET, &OAUTH_PRODUCTS),
        ],
        token_mode: TokenMode::Rfc6749,
        ..EmulatorConfig::default()
    })
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn basic_raw(user_colon_password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_colon_password)
    )
}

fn post(emu: &Emulator, authorization: Option<&str>, form: &[(&str, &str)]) -> Response<Body> {
    let mut rq = agent().post(format!("{}/oauth/v2/token", emu.base_url()));
    if let Some(a) = authorization {
        rq = rq.header("Authorization", a);
    }
    rq.send_form(form.iter().copied()).unwrap()
}

fn rfc_basic() -> String {
    basic_raw(&format!("{}:{}", urlencode(RFC_ID), urlencode(RFC_SECRET)))
}

const GRANT: (&str, &str) = ("grant_type", "client_credentials");

#[test]
fn form_encoded_basic_gets_an_rfc_token_reply() {
    let emu = start_rfc();
    let reply = post(&emu, Some(&rfc_basic()), &[GRANT]);
    assert_eq!(header(&reply, "cache-control").as_deref(), Some("no-store"));
    let (status, v) = json(reply);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 1799);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access_token", "expires_in", "token_type"]);
    // The token is as good on the APIs as an 8x8 one.
    let bearer = format!("Bearer {}", v["access_token"].as_str().unwrap());
    assert_eq!(json(get(&agent(), &queues_url(&emu), Some(&bearer))).0, 200);
}

#[test]
fn a_raw_secret_is_refused_as_badly_encoded_not_as_wrong() {
    let emu = start_rfc();
    let raw = basic_raw("demo-client:s3cr:t/%x");
    assert_eq!(
        json(post(&emu, Some(&raw), &[GRANT])),
        (
            400,
            json!({"error": "invalid_request",
                "error_description": "client_id and client_secret in the authorization header are not properly encoded"})
        )
    );
    // A secret with nothing to encode reads the same either way.
    assert_eq!(json(post(&emu, Some(&basic(ID, SECRET)), &[GRANT])).0, 200);
}

#[test]
fn wrong_credentials_are_invalid_client_with_a_basic_challenge() {
    let emu = start_rfc();
    let wrong = basic_raw(&format!("{}:nope", urlencode(RFC_ID)));
    let reply = post(&emu, Some(&wrong), &[GRANT]);
    assert_eq!(
        header(&reply, "www-authenticate").as_deref(),
        Some(r#"Basic realm="x8-emulator""#)
    );
    let (status, v) = json(reply);
    assert_eq!((status, v["error"].as_str()), (401, Some("invalid_client")));
    // The raw 8x8 form of the right secret is wrong here: the `+` would read as a space... and
    // its ':' makes it unencoded anyway.
    let raw = basic(RFC_ID, RFC_SECRET);
    assert_eq!(json(post(&emu, Some(&raw), &[GRANT])).0, 400);
}

#[test]
fn client_secret_post() {
    let emu = start_rfc();
    let form = [GRANT, ("client_id", RFC_ID), ("client_secret", RFC_SECRET)];
    let (status, v) = json(post(&emu, None, &form));
    assert_eq!((status, v["token_type"].as_str()), (200, Some("Bearer")));
    let wrong = [GRANT, ("client_id", RFC_ID), ("client_secret", "nope")];
    let reply = post(&emu, None, &wrong);
    assert_eq!(header(&reply, "www-authenticate"), None);
    assert_eq!(json(reply).1["error"], "invalid_client");
    // Both methods at once is refused; neither is unauthenticated.
    assert_eq!(
        json(post(&emu, Some(&rfc_basic()), &form)).1["error"],
        "invalid_request"
    );
    let (status, v) = json(post(&emu, None, &[GRANT]));
    assert_eq!((status, v["error"].as_str()), (401, Some("invalid_client")));
}

#[test]
fn grant_errors_use_rfc_codes() {
    let emu = start_rfc();
    let (status, v) = json(post(&emu, Some(&rfc_basic()), &[]));
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, v) = json(post(
        &emu,
        Some(&rfc_basic()),
        &[("grant_type", "password")],
    ));
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let dup = [GRANT, GRANT];
    assert_eq!(json(post(&emu, Some(&rfc_basic()), &dup)).0, 400);
}

#[test]
fn scope_audience_and_resource_are_recorded_and_scope_granted() {
    let emu = start_rfc();
    let form = [
        GRANT,
        ("client_id", RFC_ID),
        ("client_secret", RFC_SECRET),
        ("scope", "read write"),
        ("audience", "https://api.example"),
        ("resource", "urn:x8"),
    ];
    let (status, v) = json(post(&emu, None, &form));
    assert_eq!((status, v["scope"].as_str()), (200, Some("read write")));
    post(&emu, Some(&rfc_basic()), &[GRANT]);
    let log = emu.token_requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].authorization_scheme, None);
    assert_eq!(log[0].form["scope"], "read write");
    assert_eq!(log[0].form["audience"], "https://api.example");
    assert_eq!(log[0].form["resource"], "urn:x8");
    assert_eq!(log[0].form["client_id"], RFC_ID);
    assert_eq!(log[0].form["client_secret"], REDACTED);
    assert_eq!(log[1].authorization_scheme.as_deref(), Some("Basic"));
    assert_eq!(log[1].basic_user.as_deref(), Some("my%3Aapp"));
    assert!(log[1].basic_password_sent);
    assert!(!log[1].form.contains_key("scope"));

    // The same over HTTP, never holding a secret; a reset clears it.
    let (status, over_http) = json(get(
        &agent(),
        &format!("{}/_emulator/token-requests", emu.base_url()),
        None,
    ));
    assert_eq!(status, 200);
    assert_eq!(over_http, serde_json::to_value(&log).unwrap());
    assert!(!over_http.to_string().contains("s3cr"));
    emu.reset();
    assert!(emu.token_requests().is_empty());
}

#[test]
fn the_mode_switches_at_run_time() {
    let emu = start();
    let a = agent();
    let set = |mode: &str| {
        let reply = a
            .post(format!("{}/_emulator/config", emu.base_url()))
            .content_type("application/json")
            .send(json!({ "token_mode": mode }).to_string())
            .unwrap();
        json(reply)
    };
    assert_eq!(
        json(token_reply(&a, &emu, ID, SECRET)).1["expires_in"],
        "1799"
    );
    let (status, v) = set("rfc6749");
    assert_eq!((status, v["token_mode"].as_str()), (200, Some("rfc6749")));
    let (_, t): (u16, Value) = json(token_reply(&a, &emu, ID, SECRET));
    assert_eq!(t["expires_in"], 1799);
    assert!(t.get("api_product_list").is_none());
    set("8x8");
    let (_, t) = json(token_reply(&a, &emu, ID, SECRET));
    assert_eq!(t["token_type"], "BearerToken");
    assert_eq!(set("oauth").0, 400);
    // 8x8's mode records what it was sent too.
    assert_eq!(emu.token_requests().len(), 3);
}
