//! `x8 get PATH -o FILE` streams the body to a file (hashed against the emulator's object), never creates it
//! for an HTTP error, shows a progress bar on a terminal; `--data @FILE` streams a large upload.

mod common;
use common::*;

fn sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn object(emu: &x8_emulator::Emulator, bytes: u64) -> (String, String) {
    let id = emu.add_storage_object(x8_emulator::NewObject {
        bytes,
        ..Default::default()
    });
    (
        format!("/storage/us-west/v3/objects/{id}/content"),
        emu.storage_object_sha256(&id).unwrap(),
    )
}

#[test]
fn get_o_writes_the_whole_object_to_the_file() {
    let emu = emulator();
    let (path, sha) = object(&emu, 30 << 20);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("recording.wav");
    let out = X8::on(&emu)
        .args(["get", &path, "-o", file.to_str().unwrap()])
        .run();
    out.ok();
    assert_eq!(out.stdout, "", "the body went to the file, not stdout");
    assert_eq!(out.stderr, "", "no progress bar off a terminal");
    let written = std::fs::read(&file).unwrap();
    assert_eq!(written.len(), 30 << 20);
    assert_eq!(sha256_hex(&written), sha);
}

#[test]
fn get_o_creates_no_file_for_an_http_error() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("missing.wav");
    let out = X8::on(&emu)
        .args([
            "get",
            "/storage/us-west/v3/objects/nope/content",
            "-o",
            file.to_str().unwrap(),
        ])
        .run();
    out.code(6);
    assert!(out.stderr.contains("404"), "{}", out.stderr);
    assert!(!file.exists());
}

#[test]
fn get_o_removes_a_file_cut_off_midway() {
    let emu = emulator();
    let (path, _) = object(&emu, 4 << 20);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cut.wav");
    // The token fetch first, so that the fault meets the download.
    X8::on(&emu).args(["token"]).run().ok();
    emu.push_fault(
        x8_emulator::FaultTarget::Api,
        x8_emulator::Fault::CutBody { after: 1 << 20 },
        1,
    );
    let out = X8::on(&emu)
        .args(["get", &path, "-o", file.to_str().unwrap()])
        .run();
    assert_ne!(out.code, 0, "{out:?}");
    assert!(!file.exists(), "a partial file is not left behind");
}

#[test]
fn get_o_shows_bytes_and_rate_on_a_terminal() {
    // `script` (util-linux) runs the command on a pseudo-terminal.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: `script` is not installed");
        return;
    }
    let emu = emulator();
    let (path, sha) = object(&emu, 20 << 20);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("o.bin");
    let command = format!(
        "'{}' get '{path}' -o '{}'",
        env!("CARGO_BIN_EXE_x8"),
        file.display()
    );
    let out = X8::on(&emu)
        // A terminal that says what it is: with no TERM (or TERM=dumb) the bar is not drawn, as for curl.
        .env("TERM", "xterm")
        .run_program("script", &["-qec", &command, "/dev/null"]);
    out.ok();
    assert!(out.stdout.contains("of 20.00 MiB"), "{:?}", out.stdout);
    assert!(out.stdout.contains("/s"), "{:?}", out.stdout);
    assert_eq!(sha256_hex(&std::fs::read(&file).unwrap()), sha);
}

#[test]
fn data_at_file_streams_a_large_upload() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.bin");
    let content: Vec<u8> = (0..(3u32 << 20)).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&file, &content).unwrap();
    let out = X8::on(&emu)
        .args([
            "request",
            "PUT",
            "/upload/big",
            "-H",
            "Content-Type: application/octet-stream",
            "--data",
            &format!("@{}", file.display()),
        ])
        .run();
    out.ok();
    let up = &emu.uploads()[0];
    assert_eq!(up.content_length, Some(3 << 20));
    assert_eq!(up.bytes, 3 << 20);
    assert_eq!(up.sha256, sha256_hex(&content));
    assert!(out.stdout.contains(&up.sha256), "the reply went to stdout");
}
