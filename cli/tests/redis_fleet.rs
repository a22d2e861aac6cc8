//! Issue 8's fleet test on Redis: real `x8` processes, standing in for hosts, share one token through a real
//! `redis-server` (X8_REDIS_URL): twenty started at once cause one token fetch, twenty more none. Then Redis is
//! killed while a wave of processes runs: every process still gets a token (fetching its own), none fails.

mod common;
#[path = "../../tests/common/redis_server.rs"]
mod redis_server;

use common::*;
use redis_server::RedisServer;
use std::process::Child;

fn fleet(emu: &Emulator, redis_url: &str, home: &std::path::Path, n: usize) -> Vec<String> {
    finish_token_processes(
        (0..n)
            .map(|_| spawn_token_process(emu, home, "X8_REDIS_URL", redis_url))
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
        .map(|_| spawn_token_process(&emu, home.path(), "X8_REDIS_URL", &url))
        .collect();
    redis.kill();
    let during = finish_token_processes(wave);
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
