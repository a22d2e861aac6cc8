//! Issue 8's fleet test: processes on one host share one token through X8_TOKEN_CACHE, so twenty processes
//! started at once on an empty cache cause one token fetch, and twenty more started later cause none.

mod common;

use common::*;

fn run_fleet(
    emu: &x8_emulator::Emulator,
    cache: &std::path::Path,
    home: &std::path::Path,
) -> Vec<String> {
    let cache = cache.to_str().expect("a UTF-8 temporary path");
    finish_token_processes(
        (0..20)
            .map(|_| spawn_token_process(emu, home, "X8_TOKEN_CACHE", cache))
            .collect(),
    )
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
