//! Renewal jitter (issue 15): 200 clients created together renew spread over their refresh window instead of
//! at one instant, with the renewal points drawn from a fixed seed. In a file of its own: the seed is read when
//! the process makes its first client.

mod common;

use common::*;
use std::time::{Duration, Instant};
use x8::Client;

#[test]
fn two_hundred_clients_created_together_renew_spread_over_their_window() {
    // SAFETY (of set_var): the only test in this binary, before any thread of ours reads the environment.
    std::env::set_var("X8_RENEWAL_SEED", "20261201");
    // 30 s tokens: refresh margin 6 s, safety 3 s: the renewals are drawn over the window's first 1.5 s.
    let emu = emulator_with(|c| c.token_lifetime_secs = 30);
    let clients: Vec<Client> = (0..200).map(|_| client(&emu)).collect();
    for c in &clients {
        c.token(None).unwrap();
    }
    // All in use until each has renewed; note when each renewal is first seen.
    let mut renewed_at: Vec<Option<Instant>> = vec![None; clients.len()];
    let deadline = Instant::now() + Duration::from_secs(90);
    while renewed_at.iter().any(Option::is_none) {
        assert!(Instant::now() < deadline, "not every client renewed");
        for (c, seen) in clients.iter().zip(renewed_at.iter_mut()) {
            c.token(None).unwrap();
            if seen.is_none() && c.stats().background_refreshes >= 1 {
                *seen = Some(Instant::now());
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let times: Vec<Instant> = renewed_at.into_iter().flatten().collect();
    let first = *times.iter().min().unwrap();
    let span = times.iter().max().unwrap().duration_since(first);
    // Renewals at one instant would all land within a few milliseconds (a token endpoint on loopback answers in
    // well under one); spread over the 1.5 s half-window they span most of it. A slow machine only spreads them
    // further, so this bound cannot fail for lack of speed.
    assert!(
        span >= Duration::from_millis(500),
        "200 renewals within {span:?}"
    );
    let stats = emu.stats();
    assert_eq!(stats.token_requests, 400, "one renewal each");
    // The emulator's gauge: a handful at once at most (the scheduler's three workers).
    assert!(
        stats.max_token_requests_in_flight <= 3,
        "{} token requests in flight at once",
        stats.max_token_requests_in_flight
    );
    for c in clients {
        c.release();
    }
}
