//! Name lookups that end at a deadline or a cancel. The system's resolver (getaddrinfo) takes neither: glibc
//! waits 5 s per attempt and server, so a DNS server that is down held a call for 10 s and more whatever its
//! deadline, and a cancelled call sat out the whole lookup. A name is looked up on a thread of its own and
//! waited for until the answer, the deadline or a cancel, whichever comes first; the thread is then left to
//! finish alone and its answer is dropped. IP literals need no lookup.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Instant;

use super::cancel::Cancel;

/// How a name becomes addresses: [`system`], or a stand-in in tests.
pub type Lookup = fn(&str, u16) -> io::Result<Vec<SocketAddr>>;

/// The system's resolver.
pub fn system(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    Ok((host, port).to_socket_addrs()?.collect())
}

/// The error of a lookup ended by `cancel`. Interrupted, which nothing retries here: callers map it to their
/// own cancelled error.
pub fn is_cancelled(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Interrupted
}

/// The addresses of `host` (a name or an IP literal) at `port`, by `deadline` (None: no bound) unless `cancel`
/// is cancelled first. Err TimedOut past the deadline, Interrupted on a cancel ([`is_cancelled`]).
pub fn resolve(
    host: &str,
    port: u16,
    deadline: Option<Instant>,
    cancel: Option<&Cancel>,
    lookup: Lookup,
) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    enum Ended {
        Answered(io::Result<Vec<SocketAddr>>),
        Cancelled,
    }
    // Room for the answer and the cancel: neither sender ever blocks, and the cancel's wake-up (run on the
    // cancelling thread) must not.
    let (tx, rx) = mpsc::sync_channel(2);
    let _on_cancel = match cancel {
        None => None,
        Some(cancel) => {
            let tx = tx.clone();
            match cancel.on_cancel(move || {
                let _ = tx.try_send(Ended::Cancelled);
            }) {
                Some(guard) => Some(guard),
                None => return Err(cancelled()),
            }
        }
    };
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("x8-lookup".into())
        .spawn(move || {
            let _ = tx.send(Ended::Answered(lookup(&name, port)));
        })?;
    let ended = match deadline {
        Some(deadline) => rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .ok(),
        None => rx.recv().ok(),
    };
    match ended {
        Some(Ended::Answered(found)) => found,
        Some(Ended::Cancelled) => Err(cancelled()),
        None => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("looking up {host} took longer than the call's deadline"),
        )),
    }
}

fn cancelled() -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, "the name lookup was cancelled")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn hangs(_: &str, _: u16) -> io::Result<Vec<SocketAddr>> {
        std::thread::sleep(Duration::from_secs(30));
        Ok(Vec::new())
    }

    fn answers(_: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::from(([10, 0, 0, 5], port))])
    }

    /// A DNS server that does not answer cannot hold a call past its deadline; a literal needs no lookup.
    #[test]
    fn a_name_lookup_that_hangs_is_bounded_by_the_deadline() {
        let started = Instant::now();
        let bound = Instant::now() + Duration::from_millis(200);
        let e = resolve("redis.internal", 6379, Some(bound), None, hangs).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        // Generous: the bound is 200 ms, the lookup takes 30 s.
        assert!(started.elapsed() < Duration::from_secs(10));
        let far = Some(Instant::now() + Duration::from_secs(5));
        assert_eq!(
            resolve("redis.internal", 6379, far, None, answers).unwrap(),
            [SocketAddr::from(([10, 0, 0, 5], 6379))]
        );
        for literal in ["::1", "[::1]"] {
            assert_eq!(
                resolve(literal, 6380, far, None, hangs).unwrap(),
                [SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 6380))]
            );
        }
    }

    /// A cancel ends a lookup that would otherwise last its whole (here: unbounded) wait.
    #[test]
    fn a_cancel_ends_a_hanging_lookup() {
        let cancel = Cancel::new();
        let waiting = {
            let cancel = cancel.clone();
            std::thread::spawn(move || {
                let result = resolve("api.8x8.com", 443, None, Some(&cancel), hangs);
                (result, Instant::now())
            })
        };
        // Whether the cancel comes before the lookup starts or while it runs, it ends it.
        std::thread::sleep(Duration::from_millis(50));
        let cancelled_at = Instant::now();
        cancel.cancel();
        let (result, returned_at) = waiting.join().unwrap();
        assert!(is_cancelled(&result.unwrap_err()));
        // Generous: the lookup takes 30 s.
        assert!(returned_at - cancelled_at < Duration::from_secs(10));
        // Cancelled before the call: no lookup at all.
        let e = resolve("api.8x8.com", 443, None, Some(&cancel), hangs).unwrap_err();
        assert!(is_cancelled(&e));
        // A cancel that never comes changes nothing.
        let idle = Cancel::new();
        assert_eq!(
            resolve("api.8x8.com", 443, None, Some(&idle), answers).unwrap(),
            [SocketAddr::from(([10, 0, 0, 5], 443))]
        );
    }
}
