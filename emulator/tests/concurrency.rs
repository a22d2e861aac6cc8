//! Many clients at once, as x8's tests and benchmarks drive the emulator: every connection must
//! be served promptly, whatever the others do.
//!
//! Regression: the tiny_http server this emulator once ran on served each connection on a pooled
//! thread and could leave a freshly accepted one unread, its requests waiting for some other
//! keep-alive connection to close, so clients stalled until their timeout.

mod common;

use common::*;
use std::sync::Barrier;
use std::time::{Duration, Instant};
use ureq::Agent;
use x8_emulator::{Emulator, EmulatorConfig, Fault, FaultTarget};

#[test]
fn thirty_two_fresh_connections_at_once_are_all_served() {
    let emu = start();
    clients_at_once(&emu, 32, 1);
    let stats = emu.stats();
    assert_eq!((stats.tokens_issued, stats.connections), (32, 32));
}

#[test]
fn eight_keep_alive_clients_making_fifty_requests_each_use_eight_connections() {
    let emu = start();
    clients_at_once(&emu, 8, 50);
    let stats = emu.stats();
    assert_eq!((stats.token_requests, stats.api_requests), (8, 8 * 49));
    assert_eq!(stats.connections, 8);
}

#[test]
fn a_delayed_reply_holds_up_no_other_connection_even_on_one_thread() {
    let emu = start_with(EmulatorConfig {
        threads: 1,
        ..EmulatorConfig::default()
    });
    emu.push_fault(FaultTarget::Token, Fault::Delay { ms: 1_000 }, 4);
    let began = Instant::now();
    clients_at_once(&emu, 4, 1);
    // Four one-second delays served one after another would take four seconds; served together, one. The
    // bound leaves two seconds for the threads and their requests on a loaded machine (with 500 ms delays and
    // a 1.5 s bound it left half a second).
    assert!(
        began.elapsed() < Duration::from_millis(3_000),
        "{:?}",
        began.elapsed()
    );
}

/// `clients` threads, each with an agent of its own (so its requests share one connection and no
/// other thread's), start together and make `requests` requests each: a token, then API calls
/// with it. Every request must be answered within 5 s.
///
/// Every agent, and so its connection, stays open until all threads are done: a connection
/// closing early could release a stalled one and hide the stall.
fn clients_at_once(emu: &Emulator, clients: usize, requests: usize) {
    let (ready, done) = (Barrier::new(clients), Barrier::new(clients));
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| {
                    let a: Agent = Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(5)))
                        .build()
                        .into();
                    ready.wait();
                    let statuses = session(&a, emu, requests);
                    // Reached even when a request failed, so that no thread waits here for ever.
                    done.wait();
                    statuses
                })
            })
            .collect();
        for t in threads {
            let statuses = t.join().unwrap().expect("answered within 5 s");
            assert_eq!(statuses, vec![200; requests]);
        }
    });
}

/// Errors are returned rather than panicked on, so that the thread still reaches the barrier.
fn session(a: &Agent, emu: &Emulator, requests: usize) -> Result<Vec<u16>, ureq::Error> {
    let mut reply = a
        .post(format!("{}/oauth/v2/token", emu.base_url()))
        .header("Authorization", basic(ID, SECRET))
        .send_form([("grant_type", "client_credentials")])?;
    let mut statuses = vec![reply.status().as_u16()];
    let body: serde_json::Value = serde_json::from_str(&reply.body_mut().read_to_string()?)
        .map_err(|e| ureq::Error::Other(e.into()))?;
    let bearer = format!(
        "Bearer {}",
        body["access_token"].as_str().unwrap_or_default()
    );
    for _ in 1..requests {
        let mut reply = a
            .get(queues_url(emu))
            .header("Authorization", &bearer)
            .call()?;
        statuses.push(reply.status().as_u16());
        reply.body_mut().read_to_string()?;
    }
    Ok(statuses)
}
