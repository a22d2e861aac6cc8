//! The Cloud Storage API: regions, search paging and FIQL, streamed content, presigned URLs on
//! the second origin, and bulk zips.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use ureq::Agent;
use x8_emulator::{
    ApiForms, ClientSpec, Emulator, EmulatorConfig, NewObject, PresignReply, OAUTH_PRODUCTS,
};

fn base(emu: &Emulator, region: &str) -> String {
    format!("{}/storage/{region}/v3", emu.base_url())
}

fn setup() -> (Emulator, Agent, String) {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    (emu, a, bearer)
}

fn search(a: &Agent, emu: &Emulator, bearer: &str, query: &str) -> (u16, Value) {
    let url = format!("{}/objects?{query}", base(emu, "us-west"));
    json(
        a.get(&url)
            .header("Authorization", bearer)
            .header("Content-Type", "application/json")
            .call()
            .unwrap(),
    )
}

fn filter(f: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(f.as_bytes()).collect();
    format!("filter={encoded}")
}

fn download(a: &Agent, url: &str, bearer: Option<&str>) -> (u16, Vec<u8>) {
    let mut reply = get(a, url, bearer);
    let status = reply.status().as_u16();
    let body = reply
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .unwrap();
    (status, body)
}

fn sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn regions_are_listed_from_any_region() {
    let (emu, a, bearer) = setup();
    for region in ["us-west", "ap", "ca"] {
        let url = format!("{}/regions", base(&emu, region));
        assert_eq!(
            json(get(&a, &url, Some(&bearer))),
            (200, json!(["us-west", "uk"]))
        );
    }
    let url = format!("{}/storage/eu/v3/regions", emu.base_url());
    assert_eq!(json(get(&a, &url, Some(&bearer))).0, 404);
}

#[test]
fn search_pages_by_page_key_until_last_page() {
    let (emu, a, bearer) = setup();
    let mut key = 0;
    let mut seen = Vec::new();
    loop {
        let (status, page) = search(&a, &emu, &bearer, &format!("pageKey={key}&limit=5"));
        assert_eq!(status, 200, "{page}");
        let content = page["content"].as_array().unwrap();
        assert_eq!(page["pageSize"], content.len());
        assert_eq!(page["pageKey"], key + 5);
        seen.extend(
            content
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_string()),
        );
        if page["lastPage"] == true {
            assert_eq!(content.len(), 1);
            break;
        }
        key = page["pageKey"].as_u64().unwrap();
    }
    // 12 samples, one of them REVOKED and so not listed.
    assert_eq!(seen.len(), 11);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 11);

    let (_, first) = search(&a, &emu, &bearer, "limit=1");
    let o = &first["content"][0];
    assert_eq!(o["type"], "callrecording");
    assert_eq!(o["mimeType"], "audio/mpeg");
    assert_eq!(o["createdTime"], "2022-06-24T05:22:35");
    assert_eq!(o["objectState"], "AVAILABLE");
    assert!(o["storedBytes"].is_u64());
    assert_eq!(o["tags"][0]["key"], "callId");
    let (_, last) = search(&a, &emu, &bearer, "limit=1&sortDirection=DESC");
    assert_ne!(last["content"][0]["id"], o["id"]);
    assert_eq!(search(&a, &emu, &bearer, "limit=101").0, 400);
    assert_eq!(search(&a, &emu, &bearer, "pageKey=x").0, 400);
    // An empty first page is a last page.
    let (_, empty) = search(&a, &emu, &bearer, &filter("type==meeting"));
    assert_eq!(
        (empty["lastPage"].as_bool(), empty["pageSize"].as_u64()),
        (Some(true), Some(0))
    );
}

#[test]
fn fiql_filters_and_the_available_only_default() {
    let (emu, a, bearer) = setup();
    let count = |f: &str| {
        let (status, page) = search(&a, &emu, &bearer, &filter(f));
        assert_eq!(status, 200, "{f}: {page}");
        page["content"].as_array().unwrap().len()
    };
    assert_eq!(count("type==callrecording"), 2);
    assert_eq!(count("type==callrecording,type==transcription"), 4);
    assert_eq!(count("type==callcenterrecording"), 1);
    assert_eq!(count("type==callcenterrecording;objectState==REVOKED"), 1);
    assert_eq!(count("(objectState==AVAILABLE,objectState==REVOKED)"), 12);
    assert_eq!(
        count("type==transcription;sourceObjectType==callrecording"),
        2
    );
    assert_eq!(count("storedBytes=gt=40000"), 2);
    assert_eq!(search(&a, &emu, &bearer, &filter("type=~x")).0, 400);
}

#[test]
fn the_spec_form_is_an_array_with_total() {
    let (emu, a, bearer) = setup();
    emu.set_api_forms(ApiForms::Spec);
    let (_, pages) = search(&a, &emu, &bearer, "limit=5");
    assert_eq!(pages[0]["total"], 3);
    assert_eq!(pages[0]["content"].as_array().unwrap().len(), 5);
}

#[test]
fn content_is_streamed_with_its_type_and_checksum() {
    let (emu, a, bearer) = setup();
    let (_, page) = search(&a, &emu, &bearer, "limit=1");
    let o = &page["content"][0];
    let id = o["id"].as_str().unwrap();
    let url = format!("{}/objects/{id}/content", base(&emu, "us-west"));
    let reply = get(&a, &url, Some(&bearer));
    assert_eq!(header(&reply, "content-type").unwrap(), "audio/mpeg");
    assert_eq!(
        header(&reply, "content-length").unwrap(),
        o["storedBytes"].to_string()
    );
    let name = o["objectName"].as_str().unwrap();
    assert_eq!(
        header(&reply, "content-disposition").unwrap(),
        format!("attachment; filename=\"{name}\"")
    );
    let (status, body) = download(&a, &url, Some(&bearer));
    assert_eq!(status, 200);
    assert_eq!(sha256(&body), o["checksum"].as_str().unwrap());
    // Metadata, in its region only.
    let meta = format!("{}/objects/{id}/metadata", base(&emu, "us-west"));
    assert_eq!(json(get(&a, &meta, Some(&bearer))).1["id"], id);
    let elsewhere = format!("{}/objects/{id}/content", base(&emu, "uk"));
    assert_eq!(json(get(&a, &elsewhere, Some(&bearer))).0, 404);
    // A REVOKED object is listed when asked for, and cannot be downloaded.
    let (_, revoked) = search(&a, &emu, &bearer, &filter("objectState==REVOKED"));
    let rid = revoked["content"][0]["id"].as_str().unwrap();
    let url = format!("{}/objects/{rid}/content", base(&emu, "us-west"));
    assert_eq!(json(get(&a, &url, Some(&bearer))).0, 400);
}

#[test]
fn a_large_generated_object_streams_whole_and_repeatably() {
    let (emu, a, bearer) = setup();
    let bytes = 24 * 1024 * 1024 + 3;
    let id = emu.add_storage_object(NewObject {
        bytes,
        object_name: Some("big.mp3".into()),
        ..NewObject::default()
    });
    let url = format!("{}/objects/{id}/content", base(&emu, "us-west"));
    let mut reply = get(&a, &url, Some(&bearer));
    assert_eq!(header(&reply, "content-length").unwrap(), bytes.to_string());
    // Read and hashed piecewise, as a streaming client would.
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut reader = reply.body_mut().with_config().limit(u64::MAX).reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = std::io::Read::read(&mut reader, &mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
        ctx.update(&buf[..n]);
    }
    assert_eq!(total, bytes);
    let digest: String = ctx
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(Some(digest.clone()), emu.storage_object_sha256(&id));
    let over_http = json(get(
        &a,
        &format!("{}/_emulator/storage/objects/{id}/sha256", emu.base_url()),
        None,
    ));
    assert_eq!(over_http.1["sha256"], digest);
    // Above 64 MiB metadata leaves the checksum out; this one is below.
    let meta = json(get(
        &a,
        &format!("{}/objects/{id}", base(&emu, "us-west")),
        Some(&bearer),
    ));
    assert_eq!(meta.1["checksum"], digest);
}

#[test]
fn objects_can_be_added_over_http() {
    let (emu, a, bearer) = setup();
    let reply = a
        .post(format!("{}/_emulator/storage/objects", emu.base_url()))
        .content_type("application/json")
        .send(
            json!({"region": "uk", "type": "screenrecording", "bytes": 10,
                "tags": {"agent": "a1"}})
            .to_string(),
        )
        .unwrap();
    let (status, o) = json(reply);
    assert_eq!((status, o["mimeType"].as_str()), (200, Some("video/mp4")));
    let url = format!("{}/objects?{}", base(&emu, "uk"), filter("agent==a1"));
    let (_, page) = json(get(&a, &url, Some(&bearer)));
    assert_eq!(page["content"][0]["id"], o["id"]);
    let bad = a
        .post(format!("{}/_emulator/storage/objects", emu.base_url()))
        .content_type("application/json")
        .send(json!({"region": "eu", "bytes": 1}).to_string())
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
}

#[test]
fn presigned_url_is_on_the_second_origin_and_refuses_a_bearer_token() {
    let (emu, a, bearer) = setup();
    let (_, page) = search(&a, &emu, &bearer, "limit=1");
    let id = page["content"][0]["id"].as_str().unwrap().to_string();
    let direct = format!("{}/objects/{id}/content", base(&emu, "us-west"));
    let (_, want) = download(&a, &direct, Some(&bearer));
    let (status, v) = json(get(&a, &format!("{direct}?presignUrl=true"), Some(&bearer)));
    assert_eq!(status, 200);
    let url = v["presignedUrl"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("{}/content/EPS/{id}?", emu.presign_base_url())),
        "{url}"
    );
    assert_ne!(emu.presign_base_url(), emu.base_url());
    assert!(url.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"));
    assert!(url.contains("X-Amz-Expires=1800"));

    let before = emu.stats();
    let reply = get(&a, &url, None);
    assert!(header(&reply, "content-disposition")
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(download(&a, &url, None), (200, want));
    let seen = emu.presigned_requests();
    assert_eq!(seen.len(), 2);
    assert!(seen
        .iter()
        .all(|r| !r.headers.contains_key("authorization")));
    assert_eq!(seen[0].path, format!("/content/EPS/{id}"));
    assert!(seen[0].headers.contains_key("host"));
    assert_eq!(emu.stats().presigned_requests, 2);
    assert_eq!(emu.stats().api_requests, before.api_requests);

    // S3 refuses a second auth mechanism; the request is recorded all the same.
    let mut reply = get(&a, &url, Some(&bearer));
    assert_eq!(reply.status().as_u16(), 400);
    assert!(reply
        .body_mut()
        .read_to_string()
        .unwrap()
        .contains("<Code>InvalidArgument</Code>"));
    let (_, over_http) = json(get(
        &a,
        &format!("{}/_emulator/presigned-requests", emu.base_url()),
        None,
    ));
    assert_eq!(over_http[2]["headers"]["authorization"], bearer);
    let tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0");
    assert_eq!(get(&a, &tampered, None).status().as_u16(), 403);
    emu.reset();
    assert!(emu.presigned_requests().is_empty());
    // Handed-out URLs outlive a reset.
    assert_eq!(get(&a, &url, None).status().as_u16(), 200);

    emu.set_presign_reply(PresignReply::Text);
    let mut reply = get(&a, &format!("{direct}?presignUrl=true"), Some(&bearer));
    assert_eq!(header(&reply, "content-type").unwrap(), "text/plain");
    let bare = reply.body_mut().read_to_string().unwrap();
    assert!(bare.starts_with(&emu.presign_base_url()));
}

#[test]
fn the_second_origin_answers_head_like_get_without_a_body() {
    let (emu, a, bearer) = setup();
    let (_, page) = search(&a, &emu, &bearer, "limit=1");
    let id = page["content"][0]["id"].as_str().unwrap().to_string();
    let direct = format!("{}/objects/{id}/content", base(&emu, "us-west"));
    let (_, want) = download(&a, &direct, Some(&bearer));
    let url = json(get(&a, &format!("{direct}?presignUrl=true"), Some(&bearer))).1["presignedUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let mut reply = a.head(&url).call().unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(
        header(&reply, "content-length"),
        Some(want.len().to_string())
    );
    assert!(reply.body_mut().read_to_vec().unwrap().is_empty());
    assert_eq!(emu.presigned_requests().last().unwrap().method, "HEAD");
    // Any other method is still S3's 405.
    let put = a.put(&url).send("x").unwrap();
    assert_eq!(put.status().as_u16(), 405);
}

#[test]
fn presigned_faults_hit_only_the_second_origin() {
    let (emu, a, bearer) = setup();
    let (_, page) = search(&a, &emu, &bearer, "limit=1");
    let id = page["content"][0]["id"].as_str().unwrap();
    let direct = format!("{}/objects/{id}/content", base(&emu, "us-west"));
    let url = json(get(&a, &format!("{direct}?presignUrl=true"), Some(&bearer))).1["presignedUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = a
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .content_type("application/json")
        .send(json!({"target": "presigned", "kind": "status", "status": 503}).to_string())
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(download(&a, &direct, Some(&bearer)).0, 200);
    assert_eq!(get(&a, &url, None).status().as_u16(), 503);
    assert_eq!(get(&a, &url, None).status().as_u16(), 200);
}

/// (name, data) of each entry, read through the central directory as unzip does.
fn unzip(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
    let u32_at = |i: usize| u32::from_le_bytes(zip[i..i + 4].try_into().unwrap()) as usize;
    let end = zip.len() - 22;
    assert_eq!(u32_at(end), 0x0605_4b50);
    let mut at = u32_at(end + 16);
    let mut out = Vec::new();
    for _ in 0..u16_at(end + 10) {
        assert_eq!(u32_at(at), 0x0201_4b50);
        let size = u32_at(at + 24);
        let name_len = u16_at(at + 28);
        let local = u32_at(at + 42);
        let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).unwrap();
        assert_eq!(u32_at(local), 0x0403_4b50);
        let data_at = local + 30 + u16_at(local + 26) + u16_at(local + 28);
        out.push((name, zip[data_at..data_at + size].to_vec()));
        at += 46 + name_len;
    }
    out
}

#[test]
fn bulk_download_start_status_and_zip() {
    let (emu, a, bearer) = setup();
    // Long enough that the job is still IN_PROGRESS for the two checks below however slowly they run on a
    // loaded machine (100 ms was not).
    emu.set_report_delay_ms(1_000);
    let (_, page) = search(&a, &emu, &bearer, "limit=2");
    let objects: Vec<&Value> = page["content"].as_array().unwrap().iter().collect();
    let ids: Vec<&str> = objects.iter().map(|o| o["id"].as_str().unwrap()).collect();
    let bulk = format!("{}/bulk/download", base(&emu, "us-west"));
    let reply = a
        .post(format!("{bulk}/start"))
        .header("Authorization", &bearer)
        .content_type("application/json")
        .send(json!([ids[0], ids[1], "no-such-object"]).to_string())
        .unwrap();
    let (status, started) = json(reply);
    assert_eq!(
        (status, started["status"].as_str()),
        (200, Some("NOT_STARTED"))
    );
    let zip_name = started["zipName"].as_str().unwrap().to_string();
    assert!(zip_name.ends_with(".zip"));
    let status_url = format!("{bulk}/status/{zip_name}");
    assert_eq!(
        json(get(&a, &status_url, Some(&bearer))).1["status"],
        "IN_PROGRESS"
    );
    assert_eq!(
        json(get(&a, &format!("{bulk}/{zip_name}"), Some(&bearer))).0,
        400
    );

    let until = Instant::now() + Duration::from_secs(10);
    let done = loop {
        let (_, v) = json(get(
            &a,
            &format!("{status_url}?presignUrl=true"),
            Some(&bearer),
        ));
        if v["status"] != "IN_PROGRESS" {
            break v;
        }
        assert!(Instant::now() < until);
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(done["status"], "PARTIAL_DONE");
    assert_eq!(
        done["content"][2],
        json!({"objectId": "no-such-object", "status": "FAILED"})
    );
    let all = json(get(&a, &format!("{bulk}/status"), Some(&bearer))).1;
    assert_eq!(all[0]["zipName"], zip_name.as_str());

    let (status, zip) = download(&a, &format!("{bulk}/{zip_name}"), Some(&bearer));
    assert_eq!(status, 200);
    let entries = unzip(&zip);
    assert_eq!(entries.len(), 2);
    for (entry, object) in entries.iter().zip(&objects) {
        assert_eq!(entry.0, object["objectName"].as_str().unwrap());
        assert_eq!(sha256(&entry.1), object["checksum"].as_str().unwrap());
    }
    // The presigned zip is the same bytes, fetched with no token.
    let url = done["url"].as_str().unwrap();
    assert!(url.starts_with(&emu.presign_base_url()));
    assert_eq!(download(&a, url, None), (200, zip));
}

#[test]
fn storage_is_gated_by_its_product() {
    let emu = start_with(EmulatorConfig {
        clients: vec![
            ClientSpec::new(ID, SECRET, &OAUTH_PRODUCTS),
            ClientSpec::new("rt", "s", &["analytics realtime-api"]),
        ],
        ..EmulatorConfig::default()
    });
    let a = agent();
    let bearer = format!("Bearer {}", token_for(&a, &emu, "rt", "s"));
    let (status, v) = json(get(
        &a,
        &format!("{}/regions", base(&emu, "uk")),
        Some(&bearer),
    ));
    assert_eq!(status, 401);
    assert_eq!(
        v["fault"]["faultstring"],
        "Invalid API call as no apiproduct match found"
    );
}

#[test]
fn a_download_cut_mid_body_once_then_served_whole() {
    let (emu, a, bearer) = setup();
    let id = emu.add_storage_object(NewObject {
        bytes: 1 << 20,
        ..NewObject::default()
    });
    let url = format!("{}/objects/{id}/content", base(&emu, "us-west"));
    let reply = a
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .content_type("application/json")
        .send(
            json!({"target": "api", "kind": "cut_body", "after": 100_000,
                "match": {"path_contains": "/content"}})
            .to_string(),
        )
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    let mut reply = get(&a, &url, Some(&bearer));
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(
        header(&reply, "content-length").unwrap(),
        (1u64 << 20).to_string()
    );
    let mut got = Vec::new();
    let err = std::io::Read::read_to_end(
        &mut reply.body_mut().with_config().limit(u64::MAX).reader(),
        &mut got,
    );
    assert!(err.is_err(), "a cut body must not read as complete");
    assert_eq!(got.len(), 100_000);
    let (status, whole) = download(&a, &url, Some(&bearer));
    assert_eq!((status, whole.len()), (200, 1 << 20));
    assert_eq!(&whole[..100_000], &got[..]);
}
