//! The vcc chat API: conversations paged by the `page` object, and problem+json errors.

mod common;

use common::*;
use serde_json::{json, Value};
use ureq::Agent;
use x8_emulator::{ClientSpec, Emulator, EmulatorConfig, OAUTH_PRODUCTS};

fn base(emu: &Emulator, region: &str) -> String {
    format!("{}/vcc/{region}/chat/v2/tenant/tenant01", emu.base_url())
}

fn setup() -> (Emulator, Agent, String) {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    (emu, a, bearer)
}

#[test]
fn conversations_page_until_page_count() {
    let (emu, a, bearer) = setup();
    let mut index = 0;
    let mut ids = Vec::new();
    loop {
        let url = format!("{}/conversations?page={index}&size=20", base(&emu, "eu"));
        let (status, v) = json(get(&a, &url, Some(&bearer)));
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            v["page"],
            json!({"pageSize": 20, "pageIndex": index, "elementCount": 45, "pageCount": 3})
        );
        ids.extend(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].clone()),
        );
        index += 1;
        if index >= v["page"]["pageCount"].as_u64().unwrap() {
            break;
        }
    }
    assert_eq!(ids.len(), 45);
    assert_eq!(ids[0], "ID-0");
    // Defaults: page 0, size 20; a filter and the order.
    let (_, v) = json(get(
        &a,
        &format!("{}/conversations", base(&emu, "us")),
        Some(&bearer),
    ));
    assert_eq!(v["page"]["pageSize"], 20);
    let url = format!(
        "{}/conversations?status=pending&order=desc",
        base(&emu, "us")
    );
    let (_, v) = json(get(&a, &url, Some(&bearer)));
    assert_eq!(v["page"]["elementCount"], 15);
    assert_eq!(v["data"][0]["id"], "ID-43");
    // Past the end: an empty page.
    let url = format!("{}/conversations?page=9", base(&emu, "us"));
    let (_, v) = json(get(&a, &url, Some(&bearer)));
    assert_eq!(v["data"], json!([]));
}

#[test]
fn errors_are_problem_json() {
    let (emu, a, bearer) = setup();
    let reply = get(
        &a,
        &format!("{}/conversations?size=0", base(&emu, "us")),
        Some(&bearer),
    );
    assert_eq!(
        header(&reply, "content-type").unwrap(),
        "application/problem+json"
    );
    let (status, v) = json(reply);
    assert_eq!(
        (status, v["message"].as_str()),
        (400, Some("Constraint Violation"))
    );
    assert!(v["errors"][0].as_str().unwrap().starts_with("size:"));

    let (status, v) = json(get(
        &a,
        &format!("{}/conversations/ID-99", base(&emu, "us")),
        Some(&bearer),
    ));
    assert_eq!(status, 404);
    assert_eq!(
        v["message"],
        "Resource of type conversation with id ID-99 was not found."
    );
    let other = format!(
        "{}/vcc/us/chat/v2/tenant/tenant02/conversations",
        emu.base_url()
    );
    let (status, v) = json(get(&a, &other, Some(&bearer)));
    assert_eq!(status, 403);
    assert_eq!(v["message"], "The tenant does not belong to customer.");
}

#[test]
fn one_conversation_its_messages_and_a_new_one() {
    let (emu, a, bearer) = setup();
    let (status, c) = json(get(
        &a,
        &format!("{}/conversations/ID-4", base(&emu, "ap")),
        Some(&bearer),
    ));
    assert_eq!((status, c["id"].as_str()), (200, Some("ID-4")));
    assert!(c["interactions"][0]["id"]
        .as_str()
        .unwrap()
        .contains("-chat-"));
    let (_, m) = json(get(
        &a,
        &format!("{}/conversations/ID-4/messages", base(&emu, "ap")),
        Some(&bearer),
    ));
    assert_eq!(m["messages"][0]["originalText"], "Hello!");
    let post = |body: Value| {
        json(
            a.post(format!("{}/conversations", base(&emu, "ca")))
                .header("Authorization", &bearer)
                .content_type("application/json")
                .send(body.to_string())
                .unwrap(),
        )
    };
    let (status, v) = post(json!({"channelId": "channel-1", "customer": {"name": "Ann"}}));
    assert_eq!(status, 202);
    assert!(v["conversationId"].as_str().unwrap().starts_with("ID-"));
    assert_eq!(post(json!({"customer": {}})).0, 400);
}

#[test]
fn vcc_is_gated_by_its_product() {
    let emu = start_with(EmulatorConfig {
        clients: vec![
            ClientSpec::new(ID, SECRET, &OAUTH_PRODUCTS),
            ClientSpec::new("no-vcc", "s", &["storage"]),
        ],
        ..EmulatorConfig::default()
    });
    let a = agent();
    let bearer = format!("Bearer {}", token_for(&a, &emu, "no-vcc", "s"));
    let (status, v) = json(get(
        &a,
        &format!("{}/conversations", base(&emu, "us")),
        Some(&bearer),
    ));
    assert_eq!(status, 401);
    assert_eq!(
        v["fault"]["faultstring"],
        "Invalid API call as no apiproduct match found"
    );
}
