//! The token endpoint, checked over real HTTP against 8x8's document and the Apigee error bodies.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use x8_emulator::{ClientSpec, EmulatorConfig, ReplyShape};

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn assert_token_value(v: &Value) {
    let token = v["access_token"].as_str().unwrap();
    assert_eq!(token.len(), 28, "{token}");
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()), "{token}");
}

fn assert_issued_now(v: &Value, before: u128) {
    let issued: u128 = v["issued_at"].as_str().unwrap().parse().unwrap();
    assert!(
        issued >= before && issued <= now_ms(),
        "issued_at {issued} is epoch ms"
    );
}

#[test]
fn doc_shape_has_exactly_the_documents_fields_as_strings() {
    let emu = start();
    let before = now_ms();
    let reply = token_reply(&agent(), &emu, ID, SECRET);
    assert_eq!(header(&reply, "content-type").unwrap(), "application/json");
    let (status, v) = json(reply);
    assert_eq!(status, 200);
    let mut expected_keys = vec![
        "access_token",
        "token_type",
        "api_product_list",
        "status",
        "scope",
        "refresh_token_expires_in",
        "expires_in",
        "refresh_count",
        "developer.email",
        "issued_at",
        "client_id",
        "api_product_list_json",
    ];
    let mut got = keys(&v);
    got.sort_unstable();
    expected_keys.sort_unstable();
    assert_eq!(got, expected_keys);
    assert_token_value(&v);
    assert_eq!(v["token_type"], "BearerToken");
    assert_eq!(
        v["api_product_list"],
        "[analytics realtime-api, storage, QM - API, vcc]"
    );
    assert_eq!(v["status"], "approved");
    assert_eq!(v["scope"], "");
    assert_eq!(v["refresh_token_expires_in"], "0");
    assert_eq!(v["expires_in"], "1799");
    assert_eq!(v["refresh_count"], "0");
    assert_eq!(v["developer.email"], "deprecated");
    assert_eq!(v["client_id"], "deprecated");
    assert_eq!(
        v["api_product_list_json"],
        json!(["analytics realtime-api", "storage", "QM - API", "vcc"])
    );
    assert_issued_now(&v, before);
}

#[test]
fn doc_shape_keeps_the_documents_field_order() {
    let emu = start();
    let mut reply = token_reply(&agent(), &emu, ID, SECRET);
    let text = reply.body_mut().read_to_string().unwrap();
    assert!(text.starts_with(r#"{"access_token":""#), "{text}");
    let order = [
        "\"token_type\"",
        "\"api_product_list\"",
        "\"issued_at\"",
        "\"api_product_list_json\"",
    ];
    let positions: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[test]
fn chat_shape_sends_the_list_as_an_array_with_org_and_app() {
    let emu = start_with(EmulatorConfig {
        reply_shape: ReplyShape::Chat,
        ..EmulatorConfig::default()
    });
    let before = now_ms();
    let (status, v) = json(token_reply(&agent(), &emu, ID, SECRET));
    assert_eq!(status, 200);
    let products = json!(["analytics realtime-api", "storage", "QM - API", "vcc"]);
    assert_token_value(&v);
    assert_eq!(v["api_product_list"], products);
    assert_eq!(v["api_product_list_json"], products);
    assert_eq!(v["organization_name"], "8x8gateway");
    assert!(!v["application_name"].as_str().unwrap().is_empty());
    for (k, want) in [
        ("token_type", "BearerToken"),
        ("status", "approved"),
        ("scope", ""),
        ("refresh_token_expires_in", "0"),
        ("expires_in", "1799"),
        ("refresh_count", "0"),
        ("developer.email", "deprecated"),
        ("client_id", "deprecated"),
    ] {
        assert_eq!(v[k], want, "{k}");
    }
    assert_issued_now(&v, before);
    assert_eq!(keys(&v).len(), 14);
}

#[test]
fn lifetime_and_products_come_from_the_config() {
    let emu = start_with(EmulatorConfig {
        clients: vec![ClientSpec::new("k", "s", &["storage"])],
        token_lifetime_secs: 60,
        ..EmulatorConfig::default()
    });
    let (_, v) = json(token_reply(&agent(), &emu, "k", "s"));
    assert_eq!(v["expires_in"], "60");
    assert_eq!(v["api_product_list"], "[storage]");
    emu.set_token_lifetime(5);
    let (_, v) = json(token_reply(&agent(), &emu, "k", "s"));
    assert_eq!(v["expires_in"], "5");
    // The default client was replaced.
    assert_eq!(json(token_reply(&agent(), &emu, ID, SECRET)).0, 401);
}

#[test]
fn tokens_are_distinct() {
    let emu = start();
    let a = agent();
    assert_ne!(token(&a, &emu), token(&a, &emu));
}

#[test]
fn bad_credentials_are_invalid_client() {
    let emu = start();
    let a = agent();
    let want = json!({"ErrorCode": "invalid_client", "Error": "ClientId is Invalid"});
    for (id, secret) in [(ID, "wrong"), ("nobody", SECRET), ("", "")] {
        let (status, v) = json(token_reply(&a, &emu, id, secret));
        assert_eq!((status, &v), (401, &want), "{id}:{secret}");
    }
    // Undecodable Basic credentials are bad credentials too.
    let reply = a
        .post(format!("{}/oauth/v2/token", emu.base_url()))
        .header("Authorization", "Basic %%%")
        .send_form([("grant_type", "client_credentials")])
        .unwrap();
    assert_eq!(json(reply), (401, want));
}

#[test]
fn missing_authorization_is_a_missing_client_id() {
    let emu = start();
    let want = json!({"ErrorCode": "invalid_request",
        "Error": "The request is missing a required parameter : client_id"});
    // Credentials in the form body, a mistake public scripts make, are not what 8x8 reads.
    let reply = agent()
        .post(format!("{}/oauth/v2/token", emu.base_url()))
        .send_form([
            ("grant_type", "client_credentials"),
            ("client_id", ID),
            ("client_secret", SECRET),
        ])
        .unwrap();
    assert_eq!(header(&reply, "content-type").unwrap(), "application/json");
    assert_eq!(json(reply), (400, want));
}

fn post_token(body: &str, content_type: &str) -> (u16, Value) {
    let emu = start();
    let reply = agent()
        .post(format!("{}/oauth/v2/token", emu.base_url()))
        .header("Authorization", basic(ID, SECRET))
        .content_type(content_type)
        .send(body)
        .unwrap();
    json(reply)
}

#[test]
fn unsupported_grant_type() {
    assert_eq!(
        post_token("grant_type=password", "application/x-www-form-urlencoded"),
        (
            400,
            json!({"ErrorCode": "invalid_request", "Error": "Unsupported grant type : password"})
        )
    );
    // The value is reported decoded.
    let (status, v) = post_token(
        "grant_type=client+credentials",
        "application/x-www-form-urlencoded",
    );
    assert_eq!(status, 400);
    assert_eq!(v["Error"], "Unsupported grant type : client credentials");
}

#[test]
fn missing_grant_type() {
    let want = (
        400,
        json!({"ErrorCode": "invalid_request",
            "Error": "The request is missing a required parameter : grant_type"}),
    );
    assert_eq!(
        post_token("scope=x", "application/x-www-form-urlencoded"),
        want
    );
    assert_eq!(post_token("", "application/x-www-form-urlencoded"), want);
    // A grant type outside a form body is not read at all.
    assert_eq!(
        post_token(r#"{"grant_type":"client_credentials"}"#, "application/json"),
        want
    );
    assert_eq!(
        post_token("grant_type=client_credentials", "text/plain"),
        want
    );
}

#[test]
fn the_form_is_decoded_properly() {
    for (body, content_type) in [
        (
            "grant_type=client%5Fcredentials",
            "application/x-www-form-urlencoded",
        ),
        (
            "a=1&grant_type=client_credentials&b=%26",
            "application/x-www-form-urlencoded",
        ),
        (
            "grant_type=client_credentials",
            "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
        ),
    ] {
        let (status, v) = post_token(body, content_type);
        assert_eq!(status, 200, "{body} as {content_type}: {v}");
    }
}

#[test]
fn only_post_is_allowed() {
    let emu = start();
    let a = agent();
    let reply = a
        .get(format!("{}/oauth/v2/token", emu.base_url()))
        .header("Authorization", basic(ID, SECRET))
        .call()
        .unwrap();
    assert_eq!(header(&reply, "allow").unwrap(), "POST");
    let (status, v) = json(reply);
    assert_eq!(status, 405);
    assert_eq!(v["ErrorCode"], "invalid_request");
}

#[test]
fn token_requests_are_counted() {
    let emu = start();
    let a = agent();
    token(&a, &emu);
    token(&a, &emu);
    json(token_reply(&a, &emu, ID, "wrong"));
    let stats = emu.stats();
    assert_eq!(stats.token_requests, 3);
    assert_eq!(stats.tokens_issued, 2);
    assert_eq!(stats.token_failures, 1);
    assert_eq!(stats.api_requests, 0);
}
