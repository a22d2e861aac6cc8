//! `/upload/...`: streamed uploads are counted and hashed as they arrive, whatever their size.

mod common;

use common::*;
use std::io::Read;

fn sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Bytes that differ along their length, so a reordered or dropped chunk changes the hash.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn a_chunked_upload_larger_than_any_buffer_is_hashed_whole() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let data = payload(5 * 1024 * 1024 + 11);
    let mut reader = std::io::Cursor::new(data.clone()).take(u64::MAX);
    let reply = a
        .put(format!("{}/upload/recording.mp3", emu.base_url()))
        .header("Authorization", &bearer)
        .content_type("audio/mpeg")
        .send(ureq::SendBody::from_reader(&mut reader))
        .unwrap();
    let (status, v) = json(reply);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["bytes"], data.len());
    assert_eq!(v["sha256"], sha256(&data));
    assert_eq!(v["transfer_encoding"], "chunked");
    assert_eq!(v["complete"], true);
    let uploads = emu.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].path, "/upload/recording.mp3");
    assert_eq!(uploads[0].content_type.as_deref(), Some("audio/mpeg"));
    assert_eq!(emu.stats().requests_by_path["/upload/recording.mp3"], 1);
}

#[test]
fn a_sized_upload_reports_its_length_and_shows_over_http() {
    let emu = start();
    let a = agent();
    let bearer = format!("Bearer {}", token(&a, &emu));
    let data = payload(3000);
    let reply = a
        .post(format!("{}/upload/notes.txt", emu.base_url()))
        .header("Authorization", &bearer)
        .send(&data[..])
        .unwrap();
    let (_, v) = json(reply);
    assert_eq!(v["content_length"], 3000);
    assert_eq!(v["bytes"], 3000);
    let (_, log) = json(get(
        &a,
        &format!("{}/_emulator/uploads", emu.base_url()),
        None,
    ));
    assert_eq!(log[0]["sha256"], sha256(&data));
    emu.reset();
    assert!(emu.uploads().is_empty());
}

#[test]
fn uploads_need_a_token_and_take_faults() {
    let emu = start();
    let a = agent();
    let url = format!("{}/upload/x", emu.base_url());
    let reply = a.put(&url).send(&b"abc"[..]).unwrap();
    assert_eq!(reply.status().as_u16(), 401);
    let bearer = format!("Bearer {}", token(&a, &emu));
    emu.push_fault(
        x8_emulator::FaultTarget::Api,
        x8_emulator::Fault::Status {
            status: 503,
            retry_after: Some("1".into()),
            body: None,
        },
        1,
    );
    let put = || {
        a.put(&url)
            .header("Authorization", &bearer)
            .send(&b"abc"[..])
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(put(), 503);
    assert_eq!(put(), 200);
    assert_eq!(emu.uploads().len(), 1);
}
