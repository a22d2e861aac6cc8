//! Every OAuth API of 8x8's document against the emulator: each paging style to its last page, both body forms
//! where the specs and guides disagree, and Storage's presigned downloads fetched without a token.

mod common;

use common::*;
use x8::{ErrorKind, PageStyle, Pager, Request};

const HISTORICAL: &str = "/analytics/cc/v8/historical-metrics";
const STORAGE: &str = "/storage/us-west/v3";
const QM: &str = "/qm/us-west/v1";
const VCC: &str = "/vcc/us/chat/v2/tenant/tenant01";

fn json(r: &x8::Response) -> serde_json::Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&r.body)))
}

/// Every page of a listing, and how many items they held.
fn read_all(
    c: &x8::Client,
    req: &Request,
    style: PageStyle,
) -> (Vec<x8::Response>, usize, PageStyle) {
    let mut pager = Pager::new(c, req, style);
    let pages: Vec<_> = pager.by_ref().collect::<Result<_, _>>().unwrap();
    for p in &pages {
        assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
    }
    let items = pages
        .iter()
        .map(|p| x8::page_items(&json(p)).map_or(0, |i| i.len()))
        .sum();
    (pages, items, pager.style())
}

fn post_json<'a>(path: &'a str, body: &'a [u8]) -> Request<'a> {
    Request {
        method: "POST",
        path,
        headers: vec![("Content-Type", "application/json")],
        body: Some(body),
        ..Request::default()
    }
}

/// Creates a historical report and returns its id, from the guide's single object or the spec's array of one.
fn create_report(c: &x8::Client, path: &str, body: &[u8]) -> String {
    let created = c.request(&post_json(path, body)).unwrap();
    assert_eq!(
        created.status,
        200,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let v = json(&created);
    v.get("id").or_else(|| v[0].get("id")).unwrap().to_string()
}

/// A summary report: created, polled until DONE, then read page by page through its `Link` headers.
#[test]
fn a_historical_summary_report_is_paged_by_its_link_headers() {
    let emu = emulator_with(|c| {
        c.report_delay_ms = 0;
        c.report_rows = 23;
    });
    let c = client(&emu);
    let id = create_report(
        &c,
        &format!("{HISTORICAL}/"),
        br#"{"type":"queue","title":"t","granularity":"day","dateRange":{"start":"2026-01-01","end":"2026-01-02"},"groupBy":{"name":"queue"}}"#,
    );
    let data = format!("{HISTORICAL}/{id}/data?size=10");
    let (pages, items, style) = read_all(&c, &get(&data), PageStyle::Auto);
    assert_eq!(style, PageStyle::PageHeaders);
    assert_eq!(pages.len(), 3);
    assert_eq!(items, 23);
}

#[test]
fn a_detailed_report_is_paged_by_its_cursor_until_the_cursor_is_gone() {
    let emu = emulator_with(|c| c.report_rows = 25);
    let c = client(&emu);
    let id = create_report(
        &c,
        &format!("{HISTORICAL}/detailed-reports"),
        br#"{"type":"interactions","title":"d","dateRange":{"start":"2026-01-01","end":"2026-01-02"}}"#,
    );
    let data = format!("{HISTORICAL}/detailed-reports/{id}/data?size=10");
    let (pages, items, style) = read_all(&c, &get(&data), PageStyle::Auto);
    assert_eq!(style, PageStyle::HeaderCursor);
    assert_eq!(pages.len(), 3);
    assert_eq!(items, 25);
}

#[test]
fn storage_search_stops_on_last_page_in_both_forms() {
    for spec_forms in [false, true] {
        let emu = emulator_with(|c| c.storage_objects = 12);
        if spec_forms {
            emu.set_api_forms(x8_emulator::ApiForms::Spec);
        }
        let c = client(&emu);
        // What one big page holds is what the small pages must add up to.
        let (_, all, _) = read_all(
            &c,
            &get(&format!("{STORAGE}/objects?limit=100")),
            PageStyle::Auto,
        );
        let path = format!("{STORAGE}/objects?limit=4");
        let (pages, items, style) = read_all(&c, &get(&path), PageStyle::Auto);
        assert_eq!(style, PageStyle::BodyOffset, "spec forms: {spec_forms}");
        assert!(all > 8, "{all}");
        assert_eq!(items, all, "spec forms: {spec_forms}");
        assert_eq!(pages.len(), all.div_ceil(4));
    }
}

#[test]
fn qm_interactions_follow_next_url_with_the_pbx_header() {
    let emu = emulator_with(|c| c.qm_interactions = 12);
    let c = client(&emu);
    let path = format!("{QM}/interactions?size=5");
    let missing = c.request(&get(&path)).unwrap();
    assert_eq!(missing.status, 400, "the pbx header is required");
    let req = Request {
        headers: vec![("pbx", "demo-pbx")],
        ..get(&path)
    };
    let (pages, items, style) = read_all(&c, &req, PageStyle::Auto);
    assert_eq!(style, PageStyle::BodyLinks);
    assert_eq!(items, 12);
    assert_eq!(pages.len(), 3);
}

#[test]
fn vcc_conversations_are_counted_by_their_page_object() {
    let emu = emulator_with(|c| c.vcc_conversations = 45);
    let c = client(&emu);
    let path = format!("{VCC}/conversations?size=20");
    let (pages, items, style) = read_all(&c, &get(&path), PageStyle::Auto);
    assert_eq!(style, PageStyle::PageObject);
    assert_eq!((pages.len(), items), (3, 45));
}

#[test]
fn a_page_that_fails_once_is_read_again_and_the_listing_completes() {
    let emu = emulator_with(|c| c.vcc_conversations = 45);
    let c = client(&emu);
    emu.push_fault_matching(
        x8_emulator::FaultTarget::Api,
        x8_emulator::Fault::Close,
        // Twice: a GET that dies on a reused connection is sent once more by the transport itself.
        2,
        x8_emulator::FaultMatch::path_contains("/conversations").with_query("page", "1"),
    );
    let path = format!("{VCC}/conversations?size=20");
    let mut pager = Pager::new(&c, &get(&path), PageStyle::Auto);
    let mut items = 0;
    let mut failures = 0;
    loop {
        match pager.next_page() {
            Ok(Some(p)) => items += x8::page_items(&json(&p)).map_or(0, |i| i.len()),
            Ok(None) => break,
            Err(e) => {
                assert!(
                    matches!(e.kind(), ErrorKind::Transport | ErrorKind::Protocol),
                    "{e}"
                );
                failures += 1;
                assert!(failures < 3, "the failed page is asked for again: {e}");
            }
        }
    }
    assert_eq!(items, 45);
    assert!((1..=2).contains(&failures), "{failures}");
}

#[test]
fn storage_regions_are_discovered_from_any_region() {
    let emu = emulator();
    let c = client(&emu);
    let r = c.request(&get("/storage/ap/v3/regions")).unwrap();
    assert_eq!(r.status, 200);
    let regions: Vec<String> = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(regions, ["us-west", "uk"]);
}

#[test]
fn a_presigned_download_carries_no_token_and_its_query_is_never_shown() {
    let emu = emulator();
    let c = client(&emu);
    let id = emu.add_storage_object(x8_emulator::NewObject {
        bytes: 100_000,
        ..Default::default()
    });
    let direct = c
        .request(&get(&format!("{STORAGE}/objects/{id}/content")))
        .unwrap();
    assert_eq!(direct.status, 200);
    assert_eq!(direct.body.len(), 100_000);
    let link = c
        .request(&get(&format!(
            "{STORAGE}/objects/{id}/content?presignUrl=true"
        )))
        .unwrap();
    let url = json(&link)["presignedUrl"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&emu.presign_base_url()), "{url}");
    // The bearer token is never sent off the API origin, not even by mistake through request().
    let refused = c.request(&get(&url)).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidArgument);
    let body = c.fetch_url("GET", &url, &[], None).unwrap();
    assert_eq!(body.status, 200);
    assert_eq!(
        body.body, direct.body,
        "the same bytes through either route"
    );
    let seen = emu.presigned_requests();
    assert_eq!(seen.len(), 1);
    assert!(
        !seen[0]
            .headers
            .keys()
            .any(|h| h.eq_ignore_ascii_case("authorization")),
        "{:?}",
        seen[0].headers
    );
    // Caller headers that x8 owns are refused, as for request().
    let e = c
        .fetch_url("GET", &url, &[("Authorization", "Bearer x")], None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    // A failure names the URL without its query (the signature is a credential).
    let (bare, query) = url.split_once('?').unwrap();
    let dead = format!(
        "http://127.0.0.1:1/{}?{query}",
        bare.rsplit('/').next().unwrap()
    );
    let e = c.fetch_url("GET", &dead, &[], None).unwrap_err();
    assert!(!e.message().contains(query), "{e}");
    assert!(!format!("{e:?}").contains("X-Amz-Signature="), "{e:?}");
    // Only GET and HEAD; only http(s), plain http only on loopback.
    assert!(c.fetch_url("POST", &url, &[], None).is_err());
    assert!(c.fetch_url("GET", "ftp://127.0.0.1/x", &[], None).is_err());
    assert!(c
        .fetch_url("GET", "http://example.com/x", &[], None)
        .is_err());
}
