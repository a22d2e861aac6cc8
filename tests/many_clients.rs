//! Many clients in one process (issue 15): one renewal scheduler for all, its threads bounded whatever the
//! number of clients, every x8 thread gone once the last client is freed, no renewal or callback of a freed
//! client (renewal jitter has its own file, renewal_jitter.rs, for its fixed seed).
//!
//! The tests in this file count the process's x8 threads, so they run one at a time (`SERIAL`).

mod common;

use common::*;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use x8::{Client, Credentials, Level, Logger};
use x8_emulator::ClientSpec;

/// The scheduler's bound: one timer thread and three workers.
const MAX_X8_THREADS: usize = 4;

static SERIAL: Mutex<()> = Mutex::new(());

/// Threads of this process that the x8 library started: all of them are the renewal scheduler's, named
/// `x8-renew...` (the in-process emulator's are `x8-emulator`).
fn x8_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("x8-renew"))
        .count()
}

fn free(clients: Vec<Client>) {
    for c in clients {
        c.release();
    }
}

fn until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn five_hundred_clients_renew_on_a_bounded_scheduler_and_freeing_them_ends_every_thread() {
    let _serial = SERIAL.lock();
    // 4 s tokens: the refresh window is [3.2 s, 3.6 s), so every client renews within the test.
    let emu = emulator_with(|c| c.token_lifetime_secs = 4);
    let clients: Vec<Client> = (0..500).map(|_| client(&emu)).collect();
    let mut most = 0;
    for c in &clients {
        c.token(None).unwrap();
        most = most.max(x8_threads());
    }
    let fetched = emu.stats().token_requests;
    assert_eq!(fetched, 500);
    // Keep every client in use until each has renewed once, watching the thread count all along.
    until("every client renewed", Duration::from_secs(60), || {
        for c in &clients {
            c.token(None).unwrap();
        }
        most = most.max(x8_threads());
        clients.iter().all(|c| c.stats().background_refreshes >= 1)
    });
    assert!(most <= MAX_X8_THREADS, "{most} x8 threads for 500 clients");
    free(clients);
    assert_eq!(x8_threads(), 0, "a thread outlived the last client");
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

#[test]
fn idle_clients_with_a_cached_token_hold_no_descriptor() {
    let _serial = SERIAL.lock();
    let emu = emulator();
    let before = open_fds();
    let clients: Vec<Client> = (0..300).map(|_| client(&emu)).collect();
    for c in &clients {
        c.token(None).unwrap();
    }
    // The token request's socket is closed once its reply is read (Connection: close), and the emulator, in this
    // process too, closes its end when it sees that: a kept-alive socket per client would be 600 descriptors here.
    until(
        "the token requests' sockets are closed",
        Duration::from_secs(20),
        || open_fds() <= before + 8,
    );
    // A request keeps its connection alive in the client's pool, for the next one: one descriptor for it in
    // the client and one for the emulator's end; not a second one in the client for ureq's shutdown handle,
    // which made 300 here. Counted over 100 clients, so a descriptor of an earlier test closing meanwhile
    // cannot tip it.
    let idle = open_fds();
    for c in &clients[..100] {
        let reply = c
            .request(&get("/analytics/cc/v5/realtime-metrics/queues"))
            .unwrap();
        assert_eq!(reply.status, 200);
    }
    until(
        "100 pooled connections hold one descriptor at each end",
        Duration::from_secs(20),
        || (190..=210).contains(&open_fds().saturating_sub(idle)),
    );
    free(clients);
    until("every socket is closed", Duration::from_secs(20), || {
        open_fds() <= before + 2
    });
}

/// A log sink that counts what it is given once its client has been freed.
fn counting_logger(freed: Arc<AtomicBool>, after_free: Arc<AtomicUsize>) -> Logger {
    Logger::new(
        Arc::new(move |_level: Level, _msg: &str| {
            if freed.load(Ordering::SeqCst) {
                after_free.fetch_add(1, Ordering::SeqCst);
            }
        }),
        Level::Debug,
    )
}

#[test]
fn a_client_freed_while_its_renewal_is_queued_never_renews_or_calls_back() {
    let _serial = SERIAL.lock();
    const N: usize = 12;
    let ids: Vec<String> = (0..N).map(|i| format!("queued-{i}")).collect();
    let emu = emulator_with(|c| {
        c.token_lifetime_secs = 2;
        c.clients = ids
            .iter()
            .map(|id| ClientSpec::new(id, "queued-secret", &["vcc"]))
            .collect();
    });
    let after_free = Arc::new(AtomicUsize::new(0));
    let flags: Vec<Arc<AtomicBool>> = (0..N).map(|_| Arc::default()).collect();
    let clients: Vec<Client> = ids
        .iter()
        .zip(&flags)
        .map(|(id, freed)| {
            let mut o = options(&emu);
            o.logger = counting_logger(freed.clone(), after_free.clone());
            Client::new(Credentials::new(id, "queued-secret").unwrap(), o).unwrap()
        })
        .collect();
    for c in &clients {
        c.token(None).unwrap();
    }
    // A slow endpoint from now on: the three workers stall on the first renewals, the rest queue behind them.
    emu.set_token_delay_ms(1_500);
    until("the tokens are stale", Duration::from_secs(10), || {
        clients.iter().all(|c| c.token(None).is_ok()) && emu.stats().token_requests > N as u64
    });
    let (keep, gone) = clients.split_at(3);
    for (c, freed) in gone.iter().zip(&flags[3..]) {
        // Waits for a renewal of this client already running; a queued one is dropped.
        c.release();
        freed.store(true, Ordering::SeqCst);
    }
    // Whatever the freed clients sent, they sent before their release returned.
    let at_free: HashMap<String, usize> = count_by_client(&emu);
    // Give the kept clients' renewals (1.5 s each) time to land, then check what the freed ones did.
    until("the kept clients renewed", Duration::from_secs(30), || {
        keep.iter().all(|c| c.stats().background_refreshes >= 1)
    });
    std::thread::sleep(Duration::from_millis(200));
    let after: HashMap<String, usize> = count_by_client(&emu);
    for id in &ids[3..] {
        let (b, a) = (
            at_free.get(id).copied().unwrap_or(0),
            after.get(id).copied().unwrap_or(0),
        );
        assert_eq!(a, b, "{id} sent a token request after it was freed");
    }
    assert_eq!(
        after_free.load(Ordering::SeqCst),
        0,
        "a freed client's callback ran"
    );
    free(keep.to_vec());
    drop(clients);
}

/// Token requests the emulator received, by client id.
fn count_by_client(emu: &x8_emulator::Emulator) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in emu.token_requests() {
        if let Some(user) = r.basic_user {
            *counts.entry(user).or_insert(0) += 1;
        }
    }
    counts
}
