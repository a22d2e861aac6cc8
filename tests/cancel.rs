//! Cancellation: a call blocked on a slow API or a slow token fetch returns CANCELLED soon after its `Cancel`
//! is triggered from another thread; a cancelled request's connection is never reused; a caller that stops
//! waiting for the shared token fetch leaves it running for the others.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use x8::{Cancel, ErrorKind, Request};
use x8_emulator::{Emulator, Fault, FaultTarget};

/// How slow the slow answers are, and the bound (far above the 100 ms aimed at, far below the slow answer)
/// within which a cancelled call must have returned.
const SLOW: Duration = Duration::from_secs(3);
const PROMPT: Duration = Duration::from_secs(1);

/// Waits (polling the emulator, bounded) until `done` holds of its stats.
fn wait_for(emu: &Emulator, what: &str, done: impl Fn(&x8_emulator::Stats) -> bool) {
    let started = Instant::now();
    while !done(&emu.stats()) {
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        thread::sleep(Duration::from_millis(2));
    }
}

fn slow_api(emu: &Emulator) {
    emu.push_fault(
        FaultTarget::Api,
        Fault::Delay {
            ms: SLOW.as_millis() as u64,
        },
        1,
    );
}

#[test]
fn a_request_blocked_on_a_slow_api_returns_cancelled_and_its_connection_is_not_reused() {
    let emu = emulator();
    let c = client(&emu);
    c.request(&get("/echo/warm")).unwrap();
    // The token's connection was closed after its fetch; the API's is pooled.
    let warm = emu.stats().connections;

    slow_api(&emu);
    // Counted before the call starts: read after, it could already include the slow request, and the wait
    // below would then wait for one that never comes.
    let before = emu.stats().api_requests;
    let cancel = Cancel::new();
    let call = {
        let (c, cancel) = (c.clone(), cancel.clone());
        thread::spawn(move || {
            let req = Request {
                cancel: Some(&cancel),
                ..get("/echo/slow")
            };
            let result = c.request(&req);
            (result, Instant::now())
        })
    };
    wait_for(&emu, "the slow request reached the emulator", |s| {
        s.api_requests > before
    });
    let cancelled_at = Instant::now();
    cancel.cancel();
    let (result, returned_at) = call.join().unwrap();
    let err = result.expect_err("a cancelled request must not succeed");
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    let took = returned_at - cancelled_at;
    assert!(took < PROMPT, "returned {took:?} after the cancel");

    // The slow request went out on the pooled connection; the next one cannot have been given it after the
    // cancel: it makes a new one.
    let reply = c.request(&get("/echo/after")).unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(emu.stats().connections, warm + 1);
    // A cancel after the call returned touches nothing: the pooled connection keeps serving.
    cancel.cancel();
    c.request(&get("/echo/again")).unwrap();
    assert_eq!(emu.stats().connections, warm + 1);
}

#[test]
fn a_post_is_cancelled_too() {
    let emu = emulator();
    let c = client(&emu);
    slow_api(&emu);
    let cancel = Cancel::new();
    let call = {
        let (c, cancel) = (c.clone(), cancel.clone());
        thread::spawn(move || {
            c.request(&Request {
                method: "POST",
                path: "/echo/post",
                body: Some(b"{}"),
                cancel: Some(&cancel),
                ..Request::default()
            })
        })
    };
    wait_for(&emu, "the POST reached the emulator", |s| {
        s.api_requests > 0
    });
    cancel.cancel();
    let err = call.join().unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert_eq!(
        emu.stats().api_requests,
        1,
        "a cancelled POST is never sent again"
    );
}

#[test]
fn a_call_given_a_cancelled_handle_fails_at_once_without_a_request() {
    let emu = emulator();
    let c = client(&emu);
    let cancel = Cancel::new();
    cancel.cancel();
    let req = Request {
        cancel: Some(&cancel),
        ..get("/echo/never")
    };
    assert_eq!(c.request(&req).unwrap_err().kind(), ErrorKind::Cancelled);
    assert_eq!(
        c.token_cancellable(None, Some(&cancel)).unwrap_err().kind(),
        ErrorKind::Cancelled
    );
    let mut buf = [0u8; 4096];
    assert_eq!(
        c.copy_token_cancellable(&mut buf, None, Some(&cancel))
            .unwrap_err()
            .kind(),
        ErrorKind::Cancelled
    );
    let s = emu.stats();
    assert_eq!((s.token_requests, s.api_requests), (0, 0));
}

/// The cancelled caller is the one that started the fetch: it stops waiting, the fetch goes on, and a caller
/// waiting beside it gets the token from that same one fetch.
#[test]
fn a_caller_cancelled_while_waiting_for_the_token_fetch_leaves_it_running_for_the_others() {
    let emu = emulator();
    emu.set_token_delay_ms(SLOW.as_millis() as u64);
    let c = client(&emu);
    let cancel = Cancel::new();
    let (started_tx, started_rx) = mpsc::channel();
    let cancelled_caller = {
        let (c, cancel) = (c.clone(), cancel.clone());
        thread::spawn(move || {
            started_tx.send(()).unwrap();
            let result = c.token_cancellable(None, Some(&cancel));
            (result.map(|t| t.access_token().to_owned()), Instant::now())
        })
    };
    started_rx.recv().unwrap();
    wait_for(&emu, "the fetch reached the token endpoint", |s| {
        s.token_requests == 1
    });
    // A second caller with the same handle, on the copy-out path.
    let cancelled_copier = {
        let (c, cancel) = (c.clone(), cancel.clone());
        thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            c.copy_token_cancellable(&mut buf, None, Some(&cancel))
                .map(|_| ())
        })
    };
    let patient = {
        let c = c.clone();
        thread::spawn(move || c.token(None).map(|t| t.access_token().to_owned()))
    };
    let copier = {
        let c = c.clone();
        thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            c.copy_token_cancellable(&mut buf, None, None).map(|_| ())
        })
    };
    let cancelled_at = Instant::now();
    cancel.cancel();
    let (result, returned_at) = cancelled_caller.join().unwrap();
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Cancelled);
    let took = returned_at - cancelled_at;
    assert!(took < PROMPT, "returned {took:?} after the cancel");

    assert_eq!(
        cancelled_copier.join().unwrap().unwrap_err().kind(),
        ErrorKind::Cancelled
    );
    let token = patient
        .join()
        .unwrap()
        .expect("the other waiter gets the token");
    copier.join().unwrap().unwrap();
    assert!(!token.is_empty());
    assert_eq!(emu.stats().token_requests, 1, "one fetch served everyone");
    assert_eq!(c.stats().token_fetches, 1);
}

/// Here the fetch was started by a caller with no cancel; one with a cancel waits beside it and gives up.
#[test]
fn a_waiter_with_a_cancel_gives_up_while_the_fetch_started_by_another_lands() {
    let emu = emulator();
    emu.set_token_delay_ms(SLOW.as_millis() as u64);
    let c = client(&emu);
    let first = {
        let c = c.clone();
        thread::spawn(move || c.token(None).map(|t| t.access_token().to_owned()))
    };
    wait_for(&emu, "the fetch reached the token endpoint", |s| {
        s.token_requests == 1
    });
    let cancel = Cancel::new();
    let (waiting_tx, waiting_rx) = mpsc::channel();
    let waiter = {
        let (c, cancel) = (c.clone(), cancel.clone());
        thread::spawn(move || {
            waiting_tx.send(()).unwrap();
            let mut buf = vec![0u8; 4096];
            let result = c.copy_token_cancellable(&mut buf, None, Some(&cancel));
            (result.map(|_| ()), Instant::now())
        })
    };
    waiting_rx.recv().unwrap();
    // The waiter is about to block on the flight (or has); either way it must come back CANCELLED.
    thread::sleep(Duration::from_millis(50));
    let cancelled_at = Instant::now();
    cancel.cancel();
    let (result, returned_at) = waiter.join().unwrap();
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Cancelled);
    assert!(returned_at - cancelled_at < PROMPT);
    first
        .join()
        .unwrap()
        .expect("the fetch lands for its caller");
    assert_eq!(emu.stats().token_requests, 1);
}

/// A request waiting for the token (not yet on the network) is cancelled the same way.
#[test]
fn a_request_waiting_for_its_token_returns_cancelled() {
    let emu = emulator();
    emu.set_token_delay_ms(SLOW.as_millis() as u64);
    let c = client(&emu);
    let cancel = Cancel::new();
    let call = {
        let (c, cancel) = (c.clone(), cancel.clone());
        thread::spawn(move || {
            let req = Request {
                cancel: Some(&cancel),
                ..get("/echo/x")
            };
            c.request(&req).map(|r| r.status)
        })
    };
    wait_for(&emu, "the fetch reached the token endpoint", |s| {
        s.token_requests == 1
    });
    let cancelled_at = Instant::now();
    cancel.cancel();
    assert_eq!(
        call.join().unwrap().unwrap_err().kind(),
        ErrorKind::Cancelled
    );
    assert!(cancelled_at.elapsed() < PROMPT);
    // The fetch went on: its token is cached for the next call.
    c.request(&get("/echo/y")).unwrap();
    assert_eq!(emu.stats().token_requests, 1);
}

/// A connect in progress is aborted too (Linux: shutdown(2) of a connecting socket resets it). The server is a
/// loopback listener whose accept queue is full, which drops further SYNs, so connects to it hang.
#[cfg(target_os = "linux")]
#[test]
fn a_connect_in_progress_is_cancelled() {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    // Fill the queue until a connect no longer gets through.
    let mut queued = Vec::new();
    loop {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        let filled = s
            .connect_timeout(&addr.into(), Duration::from_millis(200))
            .is_err();
        queued.push(s);
        if filled {
            break;
        }
        assert!(queued.len() < 64, "the listener's queue never filled");
    }
    let emu = emulator();
    let c = client_with(&emu, |o| {
        o.base_url = format!("http://{addr}");
        o.token_url = Some(format!("{}/oauth/v2/token", emu.base_url()));
        o.connect_timeout = Duration::from_secs(8);
    });
    c.token(None).unwrap();
    let cancel = Cancel::new();
    let call = {
        let (c, cancel) = (c.clone(), cancel.clone());
        thread::spawn(move || {
            let req = Request {
                cancel: Some(&cancel),
                ..get("/echo/x")
            };
            let result = c.request(&req).map(|r| r.status);
            (result, Instant::now())
        })
    };
    // Time for the connect to start (a cancel before it is answered as promptly, by another path).
    thread::sleep(Duration::from_millis(200));
    let cancelled_at = Instant::now();
    cancel.cancel();
    let (result, returned_at) = call.join().unwrap();
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    let took = returned_at - cancelled_at;
    assert!(took < PROMPT, "returned {took:?} after the cancel");
}

/// A pager keeps the cancel of the request it was made from: a page in flight and every later one are cancelled.
#[test]
fn a_pager_answers_to_the_cancel_of_its_request() {
    let emu = emulator();
    let c = client(&emu);
    c.token(None).unwrap();
    slow_api(&emu);
    let cancel = Cancel::new();
    let mut pager = x8::Pager::new(
        &c,
        &Request {
            cancel: Some(&cancel),
            ..get("/analytics/cc/v5/realtime-metrics/queues?page=0&size=2")
        },
        x8::PageStyle::Auto,
    );
    let call = thread::spawn(move || {
        let first = pager.next_page().map(|p| p.map(|r| r.status));
        (first, pager.next_page().map(|p| p.map(|r| r.status)))
    });
    wait_for(&emu, "the first page reached the emulator", |s| {
        s.api_requests > 0
    });
    cancel.cancel();
    let (first, second) = call.join().unwrap();
    assert_eq!(first.unwrap_err().kind(), ErrorKind::Cancelled);
    assert_eq!(second.unwrap_err().kind(), ErrorKind::Cancelled);
    assert_eq!(emu.stats().api_requests, 1);
}

/// Two callers with one handle, the copy-out one first (it starts the fetch), the snapshot one beside it.
#[test]
fn two_callers_with_one_handle_both_leave() {
    let emu = emulator();
    emu.set_token_delay_ms(SLOW.as_millis() as u64);
    let c = client(&emu);
    let cancel = Cancel::new();
    let copier = {
        let (c, cancel) = (c.clone(), cancel.clone());
        thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            let r = c.copy_token_cancellable(&mut buf, None, Some(&cancel));
            (r.map(|_| ()), Instant::now())
        })
    };
    let snapshot = {
        let (c, cancel) = (c.clone(), cancel.clone());
        thread::spawn(move || {
            let r = c.token_cancellable(None, Some(&cancel));
            (r.map(|_| ()), Instant::now())
        })
    };
    wait_for(&emu, "the fetch reached the token endpoint", |s| {
        s.token_requests == 1
    });
    let cancelled_at = Instant::now();
    cancel.cancel();
    for call in [copier, snapshot] {
        let (result, at) = call.join().unwrap();
        assert_eq!(result.unwrap_err().kind(), ErrorKind::Cancelled);
        assert!(at - cancelled_at < PROMPT, "{:?}", at - cancelled_at);
    }
}

/// Two callers with a handle each (as the .NET binding makes one per call), the second arriving after the
/// fetch started; both handles are cancelled, and both callers leave.
#[test]
fn two_callers_with_a_handle_each_both_leave() {
    let emu = emulator();
    emu.set_token_delay_ms(SLOW.as_millis() as u64);
    let c = client(&emu);
    let (first_cancel, second_cancel) = (Cancel::new(), Cancel::new());
    let first = {
        let (c, cancel) = (c.clone(), first_cancel.clone());
        thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            let r = c.copy_token_cancellable(&mut buf, None, Some(&cancel));
            (r.map(|_| ()), Instant::now())
        })
    };
    wait_for(&emu, "the fetch reached the token endpoint", |s| {
        s.token_requests == 1
    });
    let second = {
        let (c, cancel) = (c.clone(), second_cancel.clone());
        thread::spawn(move || {
            let r = c.token_cancellable(None, Some(&cancel));
            (r.map(|_| ()), Instant::now())
        })
    };
    thread::sleep(Duration::from_millis(50));
    let cancelled_at = Instant::now();
    second_cancel.cancel();
    first_cancel.cancel();
    for call in [first, second] {
        let (result, at) = call.join().unwrap();
        assert_eq!(result.unwrap_err().kind(), ErrorKind::Cancelled);
        assert!(at - cancelled_at < PROMPT, "{:?}", at - cancelled_at);
    }
}

/// Runs `call` with a cancel on another thread, cancels it once `started` says it is waiting, and checks it
/// returned CANCELLED promptly.
fn cancelled_promptly(c: &x8::Client, started: impl Fn() -> bool, path: &'static str) -> Duration {
    let cancel = Cancel::new();
    let call = {
        let (c, cancel) = (c.clone(), cancel.clone());
        thread::spawn(move || {
            let req = Request {
                cancel: Some(&cancel),
                ..get(path)
            };
            (c.request(&req), Instant::now())
        })
    };
    let waiting = Instant::now();
    while !started() {
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "the call never started waiting"
        );
        thread::sleep(Duration::from_millis(2));
    }
    let cancelled_at = Instant::now();
    cancel.cancel();
    let (result, returned_at) = call.join().unwrap();
    let err = result.expect_err("a cancelled call must not succeed");
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    returned_at - cancelled_at
}

#[test]
fn a_cancel_ends_the_wait_before_an_api_retry() {
    let emu = emulator();
    let c = client_with(&emu, |o| {
        o.api_retries = 2;
        // Longer than the Retry-After: the retry is within the call's deadline, so the call waits for it.
        o.timeout = Duration::from_secs(60);
    });
    c.token(None).unwrap();
    emu.push_fault(
        FaultTarget::Api,
        Fault::Status {
            status: 429,
            retry_after: Some("20".to_owned()),
            body: None,
        },
        1,
    );
    let before = emu.stats().api_requests;
    let took = cancelled_promptly(
        &c,
        || c.stats().api_retries == 1 && emu.stats().api_requests > before,
        "/echo/throttled",
    );
    assert!(
        took < PROMPT,
        "returned {took:?} after the cancel, not after Retry-After"
    );
    assert_eq!(
        emu.stats().api_requests,
        before + 1,
        "the retry was not sent"
    );
}

#[test]
fn a_cancel_ends_the_wait_for_a_rate_limit_turn() {
    let emu = emulator();
    let c = client_with(&emu, |o| {
        o.rate_limit = Some(x8::RateLimit {
            requests: 1,
            interval: Duration::from_secs(20),
        });
        // Longer than the interval: the next turn is within the call's deadline, so the call waits for it.
        o.timeout = Duration::from_secs(60);
    });
    c.request(&get("/echo/first")).unwrap(); // takes the one turn of the next 20 s
    let waits = c.stats().rate_limit_waits;
    let before = emu.stats().api_requests;
    let took = cancelled_promptly(
        &c,
        // Counted before it waits; a cancel that comes before the wait begins ends it just the same.
        || c.stats().requests >= 2,
        "/echo/second",
    );
    assert!(
        took < PROMPT,
        "returned {took:?} after the cancel, not at the next turn"
    );
    assert_eq!(emu.stats().api_requests, before, "nothing was sent");
    assert_eq!(
        c.stats().rate_limit_waits,
        waits,
        "a cancelled wait is not a wait served"
    );
}
