//! The QM API: the pbx header, interactions followed through `links[rel=nextUrl]`, count,
//! transcriptions and media.

mod common;

use common::*;
use serde_json::Value;
use ureq::Agent;
use x8_emulator::{ClientSpec, Emulator, EmulatorConfig, FaultMatch, FaultTarget, OAUTH_PRODUCTS};

fn base(emu: &Emulator) -> String {
    format!("{}/qm/us-west/v1", emu.base_url())
}

fn qm_get(a: &Agent, url: &str, bearer: &str, pbx: Option<&str>) -> (u16, Value) {
    let mut rq = a
        .get(url)
        .header("Authorization", bearer)
        .header("Accept", "application/json")
        .header("Content-Type", "application/json");
    if let Some(p) = pbx {
        rq = rq.header("pbx", p);
    }
    json(rq.call().unwrap())
}

fn next_url(page: &Value) -> Option<String> {
    page["links"]
        .as_array()?
        .iter()
        .find(|l| l["rel"] == "nextUrl")
        .map(|l| l["href"].as_str().unwrap().to_string())
}

#[test]
fn interactions_follow_next_url_to_the_end() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let mut url = Some(format!("{}/interactions?size=5", base(&emu)));
    let mut guids = Vec::new();
    let mut pages = 0;
    while let Some(u) = url {
        let (status, page) = qm_get(&a, &u, &bearer, Some("demo-pbx"));
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["pageNumber"], pages);
        assert_eq!(page["pageSize"], 5);
        let content = page["content"].as_array().unwrap();
        assert_eq!(page["pageResultSize"], content.len());
        guids.extend(content.iter().map(|i| i["interactionGuid"].clone()));
        if pages > 0 {
            assert!(page["links"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["rel"] == "prevUrl"));
        }
        url = next_url(&page);
        pages += 1;
    }
    assert_eq!((pages, guids.len()), (3, 12));
    let (_, first) = qm_get(
        &a,
        &format!("{}/interactions?size=1", base(&emu)),
        &bearer,
        Some("demo-pbx"),
    );
    let i = &first["content"][0];
    assert_eq!(i["createdAt"], "2018-03-02T07:14:53");
    assert_eq!(i["media"]["interactionType"], "voiceInteraction");
    assert_eq!(i["links"][0]["rel"], "transcriptions");
    // Filters ride along in the links.
    let url = format!(
        "{}/interactions?size=1&interactionType=voiceInteraction",
        base(&emu)
    );
    let (_, page) = qm_get(&a, &url, &bearer, Some("demo-pbx"));
    let next = next_url(&page).unwrap();
    assert!(next.contains("interactionType=voiceInteraction"), "{next}");
    assert!(next.starts_with(&base(&emu)));
    let (_, count) = qm_get(
        &a,
        &format!("{}/interactions/count", base(&emu)),
        &bearer,
        Some("demo-pbx"),
    );
    assert_eq!(count, 12);
    assert_eq!(
        qm_get(
            &a,
            &format!("{}/interactions?size=101", base(&emu)),
            &bearer,
            Some("demo-pbx")
        )
        .0,
        400
    );
}

#[test]
fn the_pbx_header_is_required() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let url = format!("{}/interactions", base(&emu));
    let (status, v) = qm_get(&a, &url, &bearer, None);
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("MISSING_PBX_HEADER"))
    );
    assert!(v["message"].is_string());
    assert_eq!(qm_get(&a, &url, &bearer, Some("other-pbx")).0, 403);
}

#[test]
fn transcriptions_and_media() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let (_, page) = qm_get(
        &a,
        &format!("{}/interactions?size=1", base(&emu)),
        &bearer,
        Some("demo-pbx"),
    );
    let guid = page["content"][0]["interactionGuid"].as_str().unwrap();
    let (status, t) = qm_get(
        &a,
        &format!("{}/interactions/{guid}/transcriptions", base(&emu)),
        &bearer,
        Some("demo-pbx"),
    );
    assert_eq!(status, 200);
    assert_eq!(t[0]["text"], "Good morning.");
    assert_eq!(t[0]["channel"], 1);
    let missing = format!("{}/interactions/int-nope/transcriptions", base(&emu));
    assert_eq!(qm_get(&a, &missing, &bearer, Some("demo-pbx")).0, 404);
    let mut media = a
        .get(format!("{}/interactions/{guid}/media", base(&emu)))
        .header("Authorization", &bearer)
        .header("pbx", "demo-pbx")
        .call()
        .unwrap();
    assert_eq!(header(&media, "content-type").unwrap(), "audio/mpeg");
    let bytes = media
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .unwrap();
    assert_eq!(bytes.len(), 200_000);
}

#[test]
fn qm_is_gated_and_faults_apply() {
    let emu = start_with(EmulatorConfig {
        clients: vec![
            ClientSpec::new(ID, SECRET, &OAUTH_PRODUCTS),
            ClientSpec::new("no-qm", "s", &["storage", "vcc"]),
        ],
        ..EmulatorConfig::default()
    });
    let a = agent();
    let other = format!("Bearer {}", token_for(&a, &emu, "no-qm", "s"));
    let url = format!("{}/interactions", base(&emu));
    let (status, v) = qm_get(&a, &url, &other, Some("demo-pbx"));
    assert_eq!(status, 401);
    assert_eq!(
        v["fault"]["detail"]["errorcode"],
        "keymanagement.service.InvalidAPICallAsNoApiProductMatchFound"
    );
    let bearer = format!("Bearer {}", token(&a, &emu));
    emu.push_fault_matching(
        FaultTarget::Api,
        x8_emulator::Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
        1,
        FaultMatch::path_contains("/qm/").with_query("page", "1"),
    );
    let page1 = format!("{url}?page=1&size=5");
    assert_eq!(qm_get(&a, &page1, &bearer, Some("demo-pbx")).0, 503);
    assert_eq!(qm_get(&a, &page1, &bearer, Some("demo-pbx")).0, 200);
}
