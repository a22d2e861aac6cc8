//! Issue 8's fleet test: processes on one host share one token through X8_TOKEN_CACHE, so twenty processes
//! started at once on an empty cache cause one token fetch, and twenty more started later cause none.

mod common;

use common::*;
use std::process::{Child, Command, Stdio};

fn start_x8_token(
    emu: &x8_emulator::Emulator,
    cache: &std::path::Path,
    home: &std::path::Path,
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_x8"))
        .arg("token")
        .env_clear()
        .env("HOME", home)
        .env("X8_CLIENT_ID", ID)
        .env("X8_CLIENT_SECRET", SECRET)
        .env("X8_BASE_URL", emu.base_url())
        .env("X8_TOKEN_CACHE", cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("x8 starts")
}

fn run_fleet(
    emu: &x8_emulator::Emulator,
    cache: &std::path::Path,
    home: &std::path::Path,
) -> Vec<String> {
    let children: Vec<Child> = (0..20).map(|_| start_x8_token(emu, cache, home)).collect();
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("x8 finishes");
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "x8 token failed: {stderr}");
            assert!(!stderr.contains(SECRET));
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        })
        .collect()
}

#[test]
fn twenty_processes_share_one_token_fetch() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("token-cache");
    let first = run_fleet(&emu, &cache, home.path());
    assert_eq!(
        emu.stats().token_requests,
        1,
        "twenty processes at once on an empty cache"
    );
    assert!(
        first.iter().all(|t| t == &first[0] && t.len() == 28),
        "{first:?}"
    );
    let later = run_fleet(&emu, &cache, home.path());
    assert_eq!(emu.stats().token_requests, 1, "twenty more processes later");
    assert!(later.iter().all(|t| t == &first[0]));
}

#[test]
fn the_token_cache_flag_works_like_the_variable() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("flag-cache");
    for _ in 0..3 {
        let out = X8::on(&emu)
            .args(["token", "--token-cache"])
            .args([&dir])
            .run();
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    assert_eq!(emu.stats().token_requests, 1);
}
