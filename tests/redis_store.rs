//! Issue 8's fleet store: clients share one token through a real `redis-server` on a free loopback port, with
//! one fetch at the emulator however many ask at once; the record holds no secret; and a Redis that dies
//! mid-run only means each client fetches its own token: no request fails. Clients in this process stand in
//! for hosts here; cli/tests/redis_fleet.rs runs real processes.

#![cfg(feature = "redis")]

mod common;
#[path = "common/redis_server.rs"]
mod redis_server;

use common::*;
use redis_server::{RedisServer, Reply};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use x8::{Client, SharedStoreSetting};

fn redis_client(emu: &x8_emulator::Emulator, redis: &RedisServer) -> Client {
    client_with(emu, |o| {
        o.shared_store = SharedStoreSetting::Redis(redis.url())
    })
}

fn key(emu: &x8_emulator::Emulator) -> String {
    x8::store_key(&format!("{}/oauth/v2/token", emu.base_url()), ID)
}

/// The same through Redis's Unix socket (`unix:///path`, with a db), whose socket is made as the TCP ones are
/// (`rt::sockets`: registered before its connect, connected within the deadline).
#[cfg(unix)]
#[test]
fn clients_share_one_token_through_a_unix_socket() {
    let emu = emulator();
    let redis = RedisServer::start_unix();
    let url = format!("unix://{}?db=2", redis.unix_socket().display());
    let unix_client = || {
        client_with(&emu, |o| {
            o.shared_store = SharedStoreSetting::Redis(url.clone())
        })
    };
    let first = unix_client().token(None).unwrap();
    let second = unix_client();
    assert_eq!(
        second.token(None).unwrap().access_token(),
        first.access_token()
    );
    assert_eq!(second.stats().store_hits, 1);
    assert_eq!(second.stats().store_errors, 0);
    assert_eq!(emu.stats().token_requests, 1);
    // In db 2, not db 0.
    assert!(redis.keys().is_empty());
    assert_eq!(
        redis.command(&[
            "EVAL",
            "redis.call('SELECT', 2) return redis.call('DBSIZE')",
            "0"
        ]),
        Reply::Int(1)
    );
}

#[test]
fn clients_share_one_token_through_redis_and_it_holds_no_secret() {
    let emu = emulator();
    let redis = RedisServer::start();
    let first = redis_client(&emu, &redis).token(None).unwrap();
    for _ in 0..5 {
        let c = redis_client(&emu, &redis);
        let t = c.token(None).unwrap();
        assert_eq!(t.access_token(), first.access_token());
        assert_eq!(t.products(), first.products());
        assert_eq!(c.stats().store_hits, 1);
    }
    assert_eq!(emu.stats().token_requests, 1);

    let key = key(&emu);
    assert_eq!(redis.keys(), vec![key.clone()], "the lock is released");
    let record = redis.get(&key).expect("the token is in Redis");
    assert!(record.contains(first.access_token()));
    assert!(!record.contains(SECRET), "the secret must never be stored");
    assert!(!record.contains(ID), "nor the client id");
    // Redis forgets the record when the token expires: PX is the token's time to expiry.
    let Reply::Int(ttl) = redis.command(&["PTTL", &key]) else {
        panic!("PTTL")
    };
    let lifetime_ms = first.lifetime_secs() as i64 * 1000;
    assert!(
        ttl > lifetime_ms - 10_000 && ttl <= lifetime_ms,
        "PTTL {ttl} for a {lifetime_ms} ms token"
    );
}

#[test]
fn sixteen_clients_starting_together_cause_one_fetch() {
    let emu = emulator();
    let redis = RedisServer::start();
    let start = Arc::new(Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (base, url, start) = (emu.base_url(), redis.url(), start.clone());
            std::thread::spawn(move || {
                let mut o = x8::Options {
                    base_url: base,
                    shared_store: SharedStoreSetting::Redis(url),
                    ..x8::Options::default()
                };
                o.timeout = Duration::from_secs(10);
                let c = Client::new(x8::Credentials::new(ID, SECRET).unwrap(), o).unwrap();
                start.wait();
                c.token(None).unwrap().access_token().to_owned()
            })
        })
        .collect();
    let tokens: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(tokens.iter().all(|t| t == &tokens[0]), "{tokens:?}");
    assert_eq!(emu.stats().token_requests, 1);
}

#[test]
fn a_revoked_token_is_replaced_in_redis_too() {
    let emu = emulator();
    let redis = RedisServer::start();
    let a = redis_client(&emu, &redis);
    let old = a.token(None).unwrap();
    emu.revoke_all_tokens();
    assert_eq!(a.request(&get("/echo/x")).unwrap().status, 200);
    // Another host must get the replacement, not the revoked token.
    let b = redis_client(&emu, &redis).token(None).unwrap();
    assert_ne!(b.access_token(), old.access_token());
    assert_eq!(emu.stats().token_requests, 2);
    assert!(redis.get(&key(&emu)).unwrap().contains(b.access_token()));
}

#[test]
fn a_redis_that_is_not_there_costs_a_fetch_not_a_failure() {
    let emu = emulator();
    let mut redis = RedisServer::start();
    let url = redis.url();
    redis.kill();
    let c = client_with(&emu, |o| o.shared_store = SharedStoreSetting::Redis(url));
    let started = Instant::now();
    c.token(None).unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(emu.stats().token_requests, 1);
    assert!(c.stats().store_errors >= 1);
}

#[test]
fn a_restarted_redis_is_reconnected_without_a_failure() {
    let emu = emulator();
    let mut redis = RedisServer::start();
    let a = redis_client(&emu, &redis);
    a.token(None).unwrap();
    redis.restart();
    assert_eq!(redis.get(&key(&emu)), None, "a new, empty Redis");
    // The kept connection is dead; the next calls replace it instead of failing.
    a.invalidate().unwrap();
    let t = a.token(None).unwrap();
    assert_eq!(a.stats().store_errors, 0);
    assert!(redis.get(&key(&emu)).unwrap().contains(t.access_token()));
}

/// Four clients (hosts) make requests without pause. Once each has its token, Redis is killed; then every
/// token is revoked, so each client must fetch a new one with Redis gone, and a new client (a host joining)
/// starts too. Not one request may fail.
#[test]
fn killing_redis_mid_run_degrades_to_local_fetching_without_a_failed_request() {
    let emu = emulator();
    let mut redis = RedisServer::start();
    let clients: Vec<Client> = (0..4).map(|_| redis_client(&emu, &redis)).collect();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let counts: Vec<Arc<AtomicUsize>> = (0..4).map(|_| Arc::default()).collect();
    let workers: Vec<_> = clients
        .iter()
        .cloned()
        .zip(counts.iter().cloned())
        .map(|(c, count)| {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                while !done.load(Ordering::SeqCst) {
                    match c.request(&get("/analytics/cc/v5/realtime-metrics/queues?size=1")) {
                        Ok(r) if r.status == 200 => {}
                        Ok(r) => failures.push(format!("HTTP {}", r.status)),
                        Err(e) => failures.push(e.to_string()),
                    }
                    count.fetch_add(1, Ordering::SeqCst);
                }
                failures
            })
        })
        .collect();
    // Until every client has made `n` more requests.
    let each_makes = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(30);
        let targets: Vec<usize> = counts
            .iter()
            .map(|c| c.load(Ordering::SeqCst) + n)
            .collect();
        for (count, target) in counts.iter().zip(targets) {
            while count.load(Ordering::SeqCst) < target {
                assert!(Instant::now() < deadline, "requests stalled");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    };
    each_makes(50);
    assert_eq!(emu.stats().token_requests, 1, "one fetch for four hosts");
    let shared: u64 = clients.iter().map(|c| c.stats().store_hits).sum();
    assert_eq!(shared, 3, "three hosts took the token from Redis");

    redis.kill();
    each_makes(50);
    emu.revoke_all_tokens();
    each_makes(50);
    let late = redis_client(&emu, &redis);
    assert_eq!(late.request(&get("/echo/late")).unwrap().status, 200);
    each_makes(50);

    done.store(true, Ordering::SeqCst);
    for w in workers {
        let failures = w.join().unwrap();
        assert!(failures.is_empty(), "failed requests: {failures:?}");
    }
    // Each client fetched its own replacement (a failed store costs no request), the late one too.
    let fetches = emu.stats().token_requests;
    let client_stats: Vec<_> = clients.iter().map(|c| c.stats()).collect();
    assert_eq!(
        fetches,
        6,
        "one shared fetch, four replacements, the late client's own: {:?} {client_stats:?}",
        emu.stats()
    );
    assert!(clients.iter().all(|c| c.stats().store_errors > 0));
    assert!(late.stats().store_errors > 0);
}
