//! The historical-metrics report flow: create, poll until DONE, page, download; detailed reports
//! paged by cursor.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use ureq::http::Response;
use ureq::{Agent, Body};
use x8_emulator::{ApiForms, ClientSpec, Emulator, EmulatorConfig, Fault, FaultMatch, FaultTarget};

fn base(emu: &Emulator) -> String {
    format!("{}/analytics/cc/v8/historical-metrics", emu.base_url())
}

fn post_json(a: &Agent, url: &str, bearer: &str, body: Value) -> Response<Body> {
    a.post(url)
        .header("Authorization", bearer)
        .content_type("application/json")
        .send(body.to_string())
        .unwrap()
}

fn summary_request() -> Value {
    json!({"type": "queue", "title": "Daily queues", "granularity": "15m",
        "dateRange": {"start": "2022-08-29T00:00:00-04:00", "end": "2022-08-30T00:00:00-04:00"},
        "groupBy": {"name": "queue"}})
}

/// The URL in `Link` with that rel.
fn link(reply: &Response<Body>, rel: &str) -> Option<String> {
    let value = header(reply, "link")?;
    value.split(", ").find_map(|part| {
        let (url, params) = part.split_once(';')?;
        (params.trim() == format!("rel=\"{rel}\""))
            .then(|| url.trim().trim_matches(['<', '>']).to_string())
    })
}

/// Polls as a client would, with a pause between checks; bounded so a broken emulator fails.
fn wait_done(a: &Agent, status_url: &str, bearer: &str) -> Response<Body> {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = get(a, status_url, Some(bearer));
        if header(&reply, "link").is_some() {
            return reply;
        }
        assert!(Instant::now() < until, "report never became DONE");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn summary_report_from_create_to_the_last_page() {
    let emu = start();
    // Long enough that the report is still IN_PROGRESS for the checks below however slowly they run on a
    // loaded machine (150 ms was not: a late status request found it DONE).
    emu.set_report_delay_ms(1_500);
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let began = Instant::now();
    let reply = post_json(&a, &base(&emu), &bearer, summary_request());
    let status_url = link(&reply, "status").unwrap();
    let (status, created) = json(reply);
    assert_eq!(status, 200);
    assert_eq!(created["status"], "IN_PROGRESS");
    let id = created["id"].as_u64().unwrap();
    assert_eq!(status_url, format!("{}/{id}/status", base(&emu)));
    assert_eq!(
        json(get(&a, &status_url, Some(&bearer))).1,
        json!({"id": id, "status": "IN_PROGRESS"})
    );
    let data_url = format!("{}/{id}/data", base(&emu));
    assert_eq!(json(get(&a, &data_url, Some(&bearer))).0, 400);

    let done = wait_done(&a, &status_url, &bearer);
    assert!(began.elapsed() >= Duration::from_millis(1_500));
    assert_eq!(link(&done, "data").unwrap(), data_url);
    assert_eq!(
        link(&done, "download").unwrap(),
        format!("{}/{id}/download", base(&emu))
    );
    assert_eq!(json(done).1["status"], "DONE");

    let mut next = Some(format!("{data_url}?page=0&size=10"));
    let mut rows = Vec::new();
    let mut pages = 0;
    while let Some(url) = next {
        let reply = get(&a, &url, Some(&bearer));
        assert_eq!(header(&reply, "x-page").unwrap(), pages.to_string());
        assert_eq!(header(&reply, "x-page-size").unwrap(), "10");
        assert_eq!(header(&reply, "x-total-pages").unwrap(), "3");
        assert_eq!(header(&reply, "x-total-elements").unwrap(), "25");
        next = link(&reply, "next");
        let (status, page) = json(reply);
        assert_eq!(status, 200);
        rows.extend(page.as_array().unwrap().clone());
        pages += 1;
    }
    assert_eq!((pages, rows.len()), (3, 25));
    assert_eq!(
        rows[0],
        json!({"total": null, "items": [
            {"key": "startTime", "label": "Start Time", "value": "2022-08-29T00:00-04:00"},
            {"key": "queueName", "label": "Queue", "value": "Support EN"},
            {"key": "offered", "label": "Offered", "value": "10"}]})
    );
    assert!(rows.iter().all(|r| r["items"][2]["value"].is_string()));
    assert_eq!(
        json(get(
            &a,
            &format!("{data_url}?page=3&size=10"),
            Some(&bearer)
        ))
        .0,
        400
    );
    assert_eq!(
        json(get(&a, &format!("{data_url}?size=1001"), Some(&bearer))).0,
        400
    );

    let (_, links) = json(get(
        &a,
        &format!("{}/{id}/links", base(&emu)),
        Some(&bearer),
    ));
    let relations: Vec<&str> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["relation"].as_str().unwrap())
        .collect();
    assert_eq!(relations, ["status", "data", "download"]);
}

#[test]
fn grand_total_region_and_versions() {
    let emu = start();
    emu.set_report_delay_ms(0);
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let eu = format!("{}/eu/analytics/cc/v4/historical-metrics", emu.base_url());
    let mut request = summary_request();
    request["includeGrandTotal"] = json!(true);
    let reply = post_json(&a, &format!("{eu}/"), &bearer, request);
    assert!(link(&reply, "status").unwrap().starts_with(&eu));
    let id = json(reply).1["id"].as_u64().unwrap();
    let reply = get(&a, &format!("{eu}/{id}/data"), Some(&bearer));
    assert_eq!(header(&reply, "x-total-elements").unwrap(), "26");
    assert_eq!(link(&reply, "next"), None);
    let (_, rows) = json(reply);
    let total = &rows[25];
    assert_eq!(
        total["total"],
        json!({"type": "grandtotal", "startIndex": 0, "endIndex": 24})
    );
    assert_eq!(total["items"][0]["value"], Value::Null);
}

#[test]
fn csv_download_has_every_row() {
    let emu = start();
    emu.set_report_delay_ms(0);
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let id = json(post_json(&a, &base(&emu), &bearer, summary_request())).1["id"]
        .as_u64()
        .unwrap();
    let url = format!("{}/{id}/download", base(&emu));
    let mut reply = a
        .get(&url)
        .header("Authorization", &bearer)
        .header("Accept", "text/csv")
        .call()
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(header(&reply, "content-type").unwrap(), "text/csv");
    assert_eq!(
        header(&reply, "content-disposition").unwrap(),
        r#"attachment; filename="Daily queues.csv""#
    );
    let csv = reply.body_mut().read_to_string().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 26);
    assert_eq!(lines[0], "Start Time,Queue,Offered");
    assert_eq!(lines[1], "2022-08-29T00:00-04:00,Support EN,10");
    let xlsx = a
        .get(&url)
        .header("Authorization", &bearer)
        .header("Accept", "application/vnd.ms-excel")
        .call()
        .unwrap();
    assert_eq!(xlsx.status().as_u16(), 406);
}

#[test]
fn detailed_report_pages_by_last_document_id() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let create = format!("{}/detailed-reports", base(&emu));
    let body = json!({"type": "interactions", "title": "Calls"});
    let (status, created) = json(post_json(&a, &create, &bearer, body.clone()));
    assert_eq!((status, created["status"].as_str()), (200, Some("DONE")));
    let id = created["id"].as_u64().unwrap();
    let data = format!("{create}/{id}/data");

    let mut url = format!("{data}?size=10");
    let mut cursors = Vec::new();
    let mut records = Vec::new();
    loop {
        let reply = get(&a, &url, Some(&bearer));
        assert_eq!(header(&reply, "x-total-elements").unwrap(), "25");
        assert_eq!(header(&reply, "x-total-pages").unwrap(), "3");
        let cursor = header(&reply, "last-document-id");
        assert_eq!(cursor.is_some(), link(&reply, "next").is_some());
        let (status, page) = json(reply);
        assert_eq!(status, 200);
        records.extend(page.as_array().unwrap().clone());
        match cursor {
            Some(c) => {
                url = format!("{data}?size=10&lastDocumentId={c}");
                cursors.push(c);
            }
            None => break,
        }
    }
    assert_eq!((records.len(), cursors.len()), (25, 2));
    assert_eq!(
        records[0]["items"][1]["value"],
        json!({"value": "Phone", "ongoing": true})
    );
    assert!(records[0]["items"][2]["value"].is_array());
    // The same position twice gets two different cursors.
    let again = header(
        &get(&a, &format!("{data}?size=10"), Some(&bearer)),
        "last-document-id",
    );
    assert_ne!(again.as_deref(), Some(cursors[0].as_str()));
    assert_eq!(
        json(get(
            &a,
            &format!("{data}?lastDocumentId=bogus"),
            Some(&bearer)
        ))
        .0,
        400
    );
    // The spec's form: an array of {id, status}.
    emu.set_api_forms(ApiForms::Spec);
    let (_, created) = json(post_json(&a, &create, &bearer, body));
    assert_eq!(created[0]["status"], "DONE");
}

#[test]
fn a_failed_page_is_answered_once_then_served() {
    let emu = start();
    emu.set_report_delay_ms(0);
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let id = json(post_json(&a, &base(&emu), &bearer, summary_request())).1["id"]
        .as_u64()
        .unwrap();
    emu.push_fault_matching(
        FaultTarget::Api,
        Fault::Status {
            status: 503,
            retry_after: Some("0".into()),
            body: None,
        },
        1,
        FaultMatch::path_contains("/data").with_query("page", "1"),
    );
    let page = |p| format!("{}/{id}/data?page={p}&size=10", base(&emu));
    assert_eq!(json(get(&a, &page(0), Some(&bearer))).0, 200);
    assert_eq!(json(get(&a, &page(1), Some(&bearer))).0, 503);
    assert_eq!(json(get(&a, &page(1), Some(&bearer))).0, 200);
}

#[test]
fn validation_script_paths_and_product_gating() {
    let emu = start_with(EmulatorConfig {
        clients: vec![
            ClientSpec::new(ID, SECRET, &x8_emulator::OAUTH_PRODUCTS),
            ClientSpec::new("storage-only", "s", &["storage"]),
        ],
        report_delay_ms: 0,
        ..EmulatorConfig::default()
    });
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let (status, v) = json(post_json(
        &a,
        &base(&emu),
        &bearer,
        json!({"type": "queue"}),
    ));
    assert_eq!(status, 400);
    assert_eq!(v["message"], "Bad request: Field 'title' is required");
    let scripts = json!({"type": "script-paths", "title": "Paths", "granularity": "day"});
    assert_eq!(json(post_json(&a, &base(&emu), &bearer, scripts)).0, 400);
    let scripts = json!({"type": "script-paths", "title": "Paths"});
    let id = json(post_json(&a, &base(&emu), &bearer, scripts)).1["id"]
        .as_u64()
        .unwrap();
    assert_eq!(
        json(get(&a, &format!("{}/{id}/data", base(&emu)), Some(&bearer))).0,
        400
    );
    assert_eq!(
        json(get(
            &a,
            &format!("{}/999/status", base(&emu)),
            Some(&bearer)
        ))
        .0,
        404
    );

    let other = format!("Bearer {}", token_for(&a, &emu, "storage-only", "s"));
    let (status, v) = json(post_json(&a, &base(&emu), &other, summary_request()));
    assert_eq!(status, 401);
    assert_eq!(
        v["fault"]["detail"]["errorcode"],
        "keymanagement.service.InvalidAPICallAsNoApiProductMatchFound"
    );
}
