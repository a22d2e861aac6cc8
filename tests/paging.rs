//! The pager end to end against the emulator: every page of a listing, from where the request starts, with
//! token renewal, replay and errors applying per page.

mod common;

use common::*;
use x8::{ErrorKind, PageStyle, Pager};
use x8_emulator::{Fault, FaultTarget};

const QUEUES: &str = "/analytics/cc/v5/realtime-metrics/queues";

fn ids(pages: &[x8::Response]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| {
            let v: serde_json::Value = serde_json::from_slice(&p.body).unwrap();
            x8::page_items(&v)
                .unwrap()
                .into_iter()
                .map(|q| q["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn realtime_pages_are_read_to_the_last_one_and_their_style_detected() {
    let emu = emulator_with(|c| c.queues = 7);
    let c = client(&emu);
    let path = format!("{QUEUES}?size=3");
    let mut pager = Pager::new(&c, &get(&path), PageStyle::Auto);
    let pages: Vec<_> = pager.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(pager.style(), PageStyle::PageHeaders);
    let all = ids(&pages);
    assert_eq!(all.len(), 7);
    let mut unique = all.clone();
    unique.dedup();
    assert_eq!(unique.len(), 7, "no page read twice: {all:?}");
    assert_eq!(
        emu.stats().token_requests,
        1,
        "one token for the whole listing"
    );
}

#[test]
fn a_listing_starts_where_the_request_says() {
    let emu = emulator_with(|c| c.queues = 7);
    let c = client(&emu);
    let path = format!("{QUEUES}?size=3&page=1");
    let pages: Vec<_> = Pager::new(&c, &get(&path), PageStyle::PageHeaders)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(ids(&pages).len(), 4);
}

#[test]
fn an_empty_listing_is_one_page() {
    let emu = emulator_with(|c| c.queues = 0);
    let c = client(&emu);
    let pages: Vec<_> = Pager::new(&c, &get(QUEUES), PageStyle::Auto)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(pages.len(), 1);
    assert!(ids(&pages).is_empty());
}

#[test]
fn a_token_revoked_in_the_middle_is_renewed_and_the_listing_completes() {
    let emu = emulator_with(|c| c.queues = 9);
    let c = client(&emu);
    let path = format!("{QUEUES}?size=3");
    let mut pager = Pager::new(&c, &get(&path), PageStyle::Auto);
    let first = pager.next_page().unwrap().unwrap();
    emu.revoke_all_tokens();
    let mut pages = vec![first];
    pages.extend(pager.collect::<Result<Vec<_>, _>>().unwrap());
    assert_eq!(ids(&pages).len(), 9);
    assert_eq!(emu.stats().token_requests, 2);
    assert_eq!(c.stats().replays_after_401, 1);
}

#[test]
fn an_error_status_ends_the_listing_and_a_network_error_can_be_retried() {
    let emu = emulator_with(|c| c.queues = 9);
    let c = client(&emu);
    let path = format!("{QUEUES}?size=3");
    let mut pager = Pager::new(&c, &get(&path), PageStyle::Auto);
    pager.next_page().unwrap().unwrap();
    emu.push_fault(FaultTarget::Api, Fault::Close, 1);
    // The dropped connection is an error; the pager stays on page 1, so asking again reads it.
    let mut retried = None;
    for _ in 0..3 {
        match pager.next_page() {
            Ok(page) => {
                retried = page;
                break;
            }
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::Transport | ErrorKind::Protocol),
                "{e}"
            ),
        }
    }
    let page1 = retried.expect("page 1 after the retry");
    assert_eq!(page1.header("x-page"), Some("1"));
    emu.push_fault(
        FaultTarget::Api,
        Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
        1,
    );
    let failed = pager.next_page().unwrap().unwrap();
    assert_eq!(failed.status, 503);
    assert!(pager.is_done());
    assert!(pager.next_page().unwrap().is_none());
}

#[test]
fn a_page_limit_stops_a_listing_that_never_ends() {
    let emu = emulator_with(|c| c.queues = 50);
    let c = client(&emu);
    let path = format!("{QUEUES}?size=1");
    let mut pager = Pager::new(&c, &get(&path), PageStyle::Auto).with_max_pages(4);
    for _ in 0..4 {
        assert!(pager.next_page().unwrap().is_some());
    }
    let e = pager.next_page().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert!(e.message().contains("4 pages"), "{e}");
}

#[test]
fn a_listing_in_a_style_the_replies_do_not_have_fails_clearly() {
    let emu = emulator_with(|c| c.queues = 5);
    let c = client(&emu);
    let mut pager = Pager::new(&c, &get(QUEUES), PageStyle::BodyOffset);
    let e = pager.next_page().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert!(e.message().contains("body-offset"), "{e}");
}
