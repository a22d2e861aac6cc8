//! The bearer-token side: realtime-metrics queues, paging, the Apigee token faults and `/echo/`.

mod common;

use common::*;
use serde_json::{json, Value};
use x8_emulator::{ClientSpec, EmulatorConfig};

fn first_queue() -> Value {
    json!({"id": "103", "name": "Support EN", "metrics": [
        {"key": "entered.today", "value": 7},
        {"key": "waiting.longest", "value": "12"},
        {"key": "lastUpdated", "value": 1683045181383u64},
        {"key": "abandoned.today", "value": null},
    ]})
}

#[test]
fn queues_with_a_valid_token() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let reply = get(&a, &queues_url(&emu), Some(&bearer));
    assert_eq!(header(&reply, "content-type").unwrap(), "application/json");
    assert_eq!(header(&reply, "x-page-size").unwrap(), "100");
    assert_eq!(header(&reply, "x-page").unwrap(), "0");
    assert_eq!(header(&reply, "x-total-pages").unwrap(), "1");
    assert_eq!(header(&reply, "x-total-elements").unwrap(), "7");
    let (status, v) = json(reply);
    assert_eq!(status, 200);
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 7);
    assert_eq!(list[0], first_queue());
    let ids: Vec<&str> = list.iter().map(|q| q["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["103", "104", "105", "106", "107", "108", "109"]);
}

#[test]
fn every_region_prefix_is_served() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    for region in ["", "/eu", "/au", "/ca"] {
        let url = format!(
            "{}{region}/analytics/cc/v5/realtime-metrics/queues/103",
            emu.base_url()
        );
        assert_eq!(
            json(get(&a, &url, Some(&bearer))),
            (200, first_queue()),
            "{region}"
        );
    }
    let url = format!(
        "{}/us/analytics/cc/v5/realtime-metrics/queues",
        emu.base_url()
    );
    assert_eq!(json(get(&a, &url, Some(&bearer))).0, 404);
}

#[test]
fn one_queue_or_404() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let (status, v) = json(get(&a, &format!("{}/109", queues_url(&emu)), Some(&bearer)));
    assert_eq!((status, v["name"].as_str()), (200, Some("VIP")));
    assert_eq!(
        json(get(&a, &format!("{}/110", queues_url(&emu)), Some(&bearer))).0,
        404
    );
    let groups = queues_url(&emu).replace("/queues", "/groups");
    assert_eq!(json(get(&a, &groups, Some(&bearer))).0, 404);
}

#[test]
fn paging_headers_and_errors() {
    let emu = start_with(EmulatorConfig {
        queues: 25,
        ..EmulatorConfig::default()
    });
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let reply = get(
        &a,
        &format!("{}?page=2&size=10", queues_url(&emu)),
        Some(&bearer),
    );
    for (name, want) in [
        ("x-page-size", "10"),
        ("x-page", "2"),
        ("x-total-pages", "3"),
        ("x-total-elements", "25"),
    ] {
        assert_eq!(header(&reply, name).unwrap(), want, "{name}");
    }
    let (status, v) = json(reply);
    assert_eq!(status, 200);
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["123", "124", "125", "126", "127"]);

    assert_eq!(
        json(get(
            &a,
            &format!("{}?size=1001", queues_url(&emu)),
            Some(&bearer)
        )),
        (
            400,
            json!({"message": "Bad request: Field 'size' must be less than or equal to 1000"})
        )
    );
    assert_eq!(
        json(get(
            &a,
            &format!("{}?size=1000", queues_url(&emu)),
            Some(&bearer)
        ))
        .0,
        200
    );
    let (status, v) = json(get(
        &a,
        &format!("{}?page=3&size=10", queues_url(&emu)),
        Some(&bearer),
    ));
    assert_eq!(status, 400);
    assert!(v["message"].as_str().unwrap().contains("3 pages"), "{v}");
    assert_eq!(
        json(get(
            &a,
            &format!("{}?page=x", queues_url(&emu)),
            Some(&bearer)
        ))
        .0,
        400
    );
}

/// The status, body and WWW-Authenticate header of a rejected API call.
fn rejected(
    authorization: Option<&str>,
    emu: &x8_emulator::Emulator,
) -> (u16, Value, Option<String>) {
    let reply = get(&agent(), &queues_url(emu), authorization);
    let challenge = header(&reply, "www-authenticate");
    let (status, v) = json(reply);
    (status, v, challenge)
}

fn fault(faultstring: &str, errorcode: &str) -> Value {
    json!({"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}})
}

fn challenge(description: &str) -> Option<String> {
    Some(format!(
        r#"Bearer realm="null",error="invalid_token",error_description="{description}""#
    ))
}

#[test]
fn missing_or_malformed_header_is_an_invalid_access_token() {
    let emu = start();
    let token = token(&agent(), &emu);
    let want = fault("Invalid access token", "oauth.v2.InvalidAccessToken");
    let malformed = [
        None,
        Some(format!("BearerToken {token}")),
        Some(format!("bearer {token}")),
        Some(format!("Bearer  {token}")),
        Some("Bearer ".to_string()),
        Some(token.clone()),
        Some(basic(ID, SECRET)),
    ];
    for header in &malformed {
        let (status, v, www) = rejected(header.as_deref(), &emu);
        assert_eq!(status, 401, "{header:?}");
        assert_eq!(v, want, "{header:?}");
        assert_eq!(www, challenge("Invalid access token"));
    }
    assert_eq!(emu.stats().api_rejected, malformed.len() as u64);
}

#[test]
fn unknown_and_revoked_tokens_are_invalid() {
    let emu = start();
    let a = agent();
    let token = token(&a, &emu);
    let want = fault(
        "Invalid Access Token",
        "keymanagement.service.invalid_access_token",
    );
    let (status, v, www) = rejected(Some("Bearer 3yKcgVwWCJM14dXxKDBAEDGcythJ"), &emu);
    assert_eq!(
        (status, v, www),
        (401, want.clone(), challenge("Invalid Access Token"))
    );

    assert_eq!(
        json(get(&a, &queues_url(&emu), Some(&format!("Bearer {token}")))).0,
        200
    );
    emu.revoke_all_tokens();
    let (status, v, _) = rejected(Some(&format!("Bearer {token}")), &emu);
    assert_eq!((status, v), (401, want));
    // Tokens issued after the revocation work.
    let fresh = common::token(&a, &emu);
    assert_eq!(
        json(get(&a, &queues_url(&emu), Some(&format!("Bearer {fresh}")))).0,
        200
    );
}

#[test]
fn expired_tokens_are_expired() {
    let emu = start();
    let token = token(&agent(), &emu);
    emu.expire_all_tokens();
    let (status, v, www) = rejected(Some(&format!("Bearer {token}")), &emu);
    assert_eq!(status, 401);
    assert_eq!(
        v,
        fault(
            "Access Token expired",
            "keymanagement.service.access_token_expired"
        )
    );
    assert_eq!(www, challenge("Access Token expired"));
}

#[test]
fn a_zero_lifetime_token_is_expired_at_once() {
    let emu = start_with(EmulatorConfig {
        token_lifetime_secs: 0,
        ..EmulatorConfig::default()
    });
    let token = token(&agent(), &emu);
    let (status, v, _) = rejected(Some(&format!("Bearer {token}")), &emu);
    assert_eq!(status, 401);
    assert_eq!(v["fault"]["faultstring"], "Access Token expired");
}

#[test]
fn expired_status_can_mimic_deployments_that_send_500() {
    let emu = start_with(EmulatorConfig {
        expired_status: 500,
        ..EmulatorConfig::default()
    });
    let token = token(&agent(), &emu);
    emu.expire_all_tokens();
    let (status, v, www) = rejected(Some(&format!("Bearer {token}")), &emu);
    assert_eq!(status, 500);
    assert_eq!(
        v["fault"]["detail"]["errorcode"],
        "keymanagement.service.access_token_expired"
    );
    assert_eq!(www, None);
    emu.set_expired_status(400);
    assert_eq!(rejected(Some(&format!("Bearer {token}")), &emu).0, 400);
}

#[test]
fn a_key_without_the_product_gets_no_apiproduct_match() {
    let emu = start_with(EmulatorConfig {
        clients: vec![ClientSpec::new("store", "s", &["storage", "vcc"])],
        ..EmulatorConfig::default()
    });
    let a = agent();
    let token = token_for(&a, &emu, "store", "s");
    let (status, v, www) = rejected(Some(&format!("Bearer {token}")), &emu);
    assert_eq!(status, 401);
    assert_eq!(
        v,
        fault(
            "Invalid API call as no apiproduct match found",
            "keymanagement.service.InvalidAPICallAsNoApiProductMatchFound"
        )
    );
    assert_eq!(
        www,
        challenge("Invalid API call as no apiproduct match found")
    );
    // The echo endpoint needs no product.
    let echo = format!("{}/echo/x", emu.base_url());
    assert_eq!(
        json(get(&a, &echo, Some(&format!("Bearer {token}")))).0,
        200
    );
}

#[test]
fn echo_shows_exactly_what_was_sent() {
    let emu = start();
    let a = agent();
    let token = token(&a, &emu);
    let reply = a
        .put(format!("{}/echo/some/path?a=1&b=x%20y", emu.base_url()))
        .header("Authorization", format!("Bearer {token}"))
        .header("X-Custom", "Value")
        .content_type("text/plain")
        .send(&b"hello \xff"[..])
        .unwrap();
    let (status, v) = json(reply);
    assert_eq!(status, 200);
    assert_eq!(v["method"], "PUT");
    assert_eq!(v["path"], "/echo/some/path");
    assert_eq!(v["query"], "a=1&b=x%20y");
    assert_eq!(v["headers"]["authorization"], format!("Bearer {token}"));
    assert_eq!(v["headers"]["x-custom"], "Value");
    assert_eq!(v["headers"]["content-type"], "text/plain");
    assert_eq!(v["body"], "hello \u{fffd}");
    assert_eq!(v["client_id"], ID);
}

#[test]
fn echo_is_authenticated() {
    let emu = start();
    let (status, v) = json(get(&agent(), &format!("{}/echo/x", emu.base_url()), None));
    assert_eq!(status, 401);
    assert_eq!(
        v["fault"]["detail"]["errorcode"],
        "oauth.v2.InvalidAccessToken"
    );
}

#[test]
fn api_requests_are_counted() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    json(get(&a, &queues_url(&emu), Some(&bearer)));
    json(get(
        &a,
        &format!("{}/echo/x", emu.base_url()),
        Some(&bearer),
    ));
    json(get(&a, &queues_url(&emu), None));
    json(get(&a, &format!("{}/nothing-here", emu.base_url()), None));
    let stats = emu.stats();
    assert_eq!(stats.api_requests, 3);
    assert_eq!(stats.api_rejected, 1);
    assert_eq!(stats.token_requests, 1);
}
