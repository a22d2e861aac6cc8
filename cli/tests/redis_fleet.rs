//! Issue 8's fleet test on Redis: real `x8` processes, standing in for hosts, share one token through a real
//! `redis-server` (X8_REDIS_URL): twenty started at once cause one token fetch, twenty more none. Then Redis is
//! killed while a wave of processes runs: every process still gets a token (fetching its own), none fails.

mod common;
#[path = "../../tests/common/redis_server.rs"]
mod redis_server;

use common::*;
use redis_server::RedisServer;
use std::process::{Child, Command, Stdio};

fn start_x8_token(emu: &Emulator, redis_url: &str, home: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_x8"))
        .args(["token", "--timeout", "10"])
        .env_clear()
        .env("HOME", home)
        .env("X8_CLIENT_ID", ID)
        .env("X8_CLIENT_SECRET", SECRET)
        .env("X8_BASE_URL", emu.base_url())
        .env("X8_REDIS_URL", redis_url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("x8 starts")
}

fn finish(children: Vec<Child>) -> Vec<String> {
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("x8 finishes");
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "x8 token failed: {stderr}");
            assert!(!stderr.contains(SECRET));
            let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
            assert_eq!(token.len(), 28, "{token:?}");
            token
        })
        .collect()
}

fn fleet(emu: &Emulator, redis_url: &str, home: &std::path::Path, n: usize) -> Vec<String> {
    finish(
        (0..n)
            .map(|_| start_x8_token(emu, redis_url, home))
            .collect(),
    )
}

#[test]
fn processes_share_one_token_through_redis_and_survive_its_death() {
    let emu = emulator();
    let mut redis = RedisServer::start();
    let home = tempfile::tempdir().unwrap();
    let url = redis.url();

    let first = fleet(&emu, &url, home.path(), 20);
    assert_eq!(
        emu.stats().token_requests,
        1,
        "twenty processes at once on an empty Redis"
    );
    assert!(first.iter().all(|t| t == &first[0]), "{first:?}");
    let later = fleet(&emu, &url, home.path(), 20);
    assert!(later.iter().all(|t| t == &first[0]));
    assert_eq!(emu.stats().token_requests, 1, "twenty more processes later");

    // What Redis holds: the token record under one key, no secret, no lock left behind.
    let keys = redis.keys();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let record = redis.get(&keys[0]).unwrap();
    assert!(record.contains(&first[0]));
    assert!(!record.contains(SECRET));

    // Redis dies while a wave of processes is starting: each one either got the shared token or fetches its
    // own; none fails.
    let wave: Vec<Child> = (0..10)
        .map(|_| start_x8_token(&emu, &url, home.path()))
        .collect();
    redis.kill();
    let during = finish(wave);
    let after = fleet(&emu, &url, home.path(), 10);
    let fetched = emu.stats().token_requests;
    assert!(
        (11..=21).contains(&fetched),
        "after Redis died each process fetched its own token: {fetched} fetches"
    );
    assert_eq!(during.len() + after.len(), 20);
}

#[test]
fn the_redis_flag_works_like_the_variable_and_excludes_the_token_cache() {
    let emu = emulator();
    let redis = RedisServer::start();
    for _ in 0..3 {
        X8::on(&emu)
            .args(["token", "--redis", &redis.url()])
            .run()
            .ok();
    }
    assert_eq!(emu.stats().token_requests, 1);
    X8::on(&emu)
        .args(["token", "--redis", &redis.url(), "--token-cache", "/tmp/x"])
        .run()
        .code(2);
    X8::on(&emu)
        .args(["token", "--redis", "http://not-redis"])
        .run()
        .code(3)
        .stderr_has("Redis URL");
}
