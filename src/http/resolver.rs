//! Name resolution for the transport. ureq's default resolver, once a timeout is configured, runs every lookup
//! on a newly spawned thread — and it resolves before it looks for a pooled connection, so every request paid a
//! thread and ~9 system calls even on a kept-alive connection (the benchmarks measured x8 at 2.4x libcurl's CPU
//! per GET because of it). This resolver answers IP literals at once and remembers names for a minute; on a miss
//! it looks the name up with `rt::lookup`, which ends at the call's timeout as ureq's did and also at the call's
//! cancel (ureq's could not be cancelled: a cancelled call sat out a lookup of a dead DNS server).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

use crate::rt::lookup::{self, Lookup};

/// How long a looked-up name is reused. Short enough to follow DNS changes of a long-lived process.
const NAME_TTL: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct CachingResolver {
    lookup: Lookup,
    names: Mutex<HashMap<(String, u16), (Instant, ResolvedSocketAddrs)>>,
}

impl Default for CachingResolver {
    fn default() -> Self {
        CachingResolver::with_lookup(lookup::system)
    }
}

impl CachingResolver {
    fn with_lookup(lookup: Lookup) -> Self {
        CachingResolver {
            lookup,
            names: Mutex::default(),
        }
    }

    /// `host`'s addresses of the family `config` wants, at most as many as ureq takes, by the timeout and
    /// unless the call is cancelled.
    fn look_up(
        &self,
        host: &str,
        port: u16,
        config: &Config,
        timeout: &NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let deadline = if timeout.after.is_not_happening() {
            None
        } else {
            Some(Instant::now() + *timeout.after)
        };
        let found = lookup::resolve(
            host,
            port,
            deadline,
            super::cancel::current().as_ref(),
            self.lookup,
        )
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut => ureq::Error::Timeout(timeout.reason),
            _ if lookup::is_cancelled(&e) => super::cancel::cancelled_call(),
            _ => ureq::Error::Io(e),
        })?;
        let mut addrs = self.empty();
        for addr in config.ip_family().keep_wanted(found.into_iter()) {
            if addrs.try_push(addr).is_err() {
                break; // as many as ureq takes (16)
            }
        }
        if addrs.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(addrs)
    }
}

/// The port to connect to. Origins are checked when the client is made, so a bad port here is a URL that
/// slipped past them: refused rather than replaced by the scheme's default port.
fn port_of(uri: &Uri) -> Result<u16, ureq::Error> {
    let default = if uri.scheme_str() == Some("http") {
        80
    } else {
        443
    };
    crate::config::origin::port_of(uri, default).map_err(|_| ureq::Error::BadUri(uri.to_string()))
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or("");
        let port = port_of(uri)?;
        if let Ok(ip) = host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
        {
            let mut addrs = self.empty();
            addrs.push(SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        let key = (host.to_ascii_lowercase(), port);
        if let Some((at, addrs)) = self.names.lock().get(&key) {
            if at.elapsed() < NAME_TTL {
                return Ok(addrs.clone());
            }
        }
        let addrs = self.look_up(host, port, config, &timeout)?;
        self.names
            .lock()
            .insert(key, (Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(r: &CachingResolver, url: &str) -> Vec<SocketAddr> {
        let uri: Uri = url.parse().unwrap();
        let config = Config::default();
        let timeout = NextTimeout {
            after: ureq::unversioned::transport::time::Duration::Exact(Duration::from_secs(5)),
            reason: ureq::Timeout::Resolve,
            per_read: None,
            per_write: None,
        };
        r.resolve(&uri, &config, timeout)
            .unwrap()
            .iter()
            .copied()
            .collect()
    }

    #[test]
    fn ip_literals_are_answered_without_lookup() {
        let r = CachingResolver::default();
        assert_eq!(
            resolve(&r, "http://127.0.0.1:8080/x"),
            ["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            resolve(&r, "https://[::1]/x"),
            ["[::1]:443".parse::<SocketAddr>().unwrap()]
        );
        assert!(r.names.lock().is_empty());
    }

    #[test]
    fn a_port_that_is_not_a_number_is_refused_not_replaced() {
        let r = CachingResolver::default();
        let config = Config::default();
        for url in ["http://127.0.0.1:99999/", "http://127.0.0.1:abc/"] {
            let uri: Uri = match url.parse() {
                Ok(u) => u,
                Err(_) => continue, // refused by the URL parser itself: as good
            };
            let timeout = NextTimeout {
                after: ureq::unversioned::transport::time::Duration::Exact(Duration::from_secs(5)),
                reason: ureq::Timeout::Resolve,
                per_read: None,
                per_write: None,
            };
            assert!(r.resolve(&uri, &config, timeout).is_err(), "{url}");
        }
    }

    fn hangs(_: &str, _: u16) -> std::io::Result<Vec<SocketAddr>> {
        std::thread::sleep(Duration::from_secs(30));
        Ok(Vec::new())
    }

    fn timeout_of(d: Duration) -> NextTimeout {
        NextTimeout {
            after: ureq::unversioned::transport::time::Duration::Exact(d),
            reason: ureq::Timeout::Resolve,
            per_read: None,
            per_write: None,
        }
    }

    /// The lookup of a dead DNS server ends at the call's timeout, as a resolve timeout.
    #[test]
    fn a_hanging_lookup_ends_at_the_timeout() {
        let r = CachingResolver::with_lookup(hangs);
        let uri: Uri = "https://api.8x8.com/x".parse().unwrap();
        let e = r
            .resolve(
                &uri,
                &Config::default(),
                timeout_of(Duration::from_millis(100)),
            )
            .unwrap_err();
        assert!(
            matches!(e, ureq::Error::Timeout(ureq::Timeout::Resolve)),
            "{e}"
        );
        assert!(
            r.names.lock().is_empty(),
            "a failed lookup is not remembered"
        );
    }

    /// A cancel of the call on this thread ends its lookup, however long the timeout.
    #[test]
    fn a_cancel_ends_the_lookup_of_the_call_it_belongs_to() {
        let cancel = crate::rt::cancel::Cancel::new();
        let call = {
            let cancel = cancel.clone();
            std::thread::spawn(move || {
                let r = CachingResolver::with_lookup(hangs);
                let uri: Uri = "https://api.8x8.com/x".parse().unwrap();
                let (result, _) = crate::http::cancel::scoped(Some(&cancel), || {
                    r.resolve(
                        &uri,
                        &Config::default(),
                        timeout_of(Duration::from_secs(60)),
                    )
                });
                (result.map(|a| a.len()), Instant::now())
            })
        };
        std::thread::sleep(Duration::from_millis(50)); // before or during the lookup: either must end it
        let cancelled_at = Instant::now();
        cancel.cancel();
        let (result, returned_at) = call.join().unwrap();
        let e = result.unwrap_err();
        assert!(crate::http::cancel::is_cancelled(&e), "{e}");
        // Generous: the lookup takes 30 s, the timeout is 60 s.
        assert!(returned_at - cancelled_at < Duration::from_secs(10));
    }

    #[test]
    fn names_are_remembered() {
        let r = CachingResolver::default();
        let first = resolve(&r, "http://localhost:9/");
        assert!(!first.is_empty());
        assert_eq!(r.names.lock().len(), 1);
        assert_eq!(resolve(&r, "http://LOCALHOST:9/"), first);
        assert_eq!(r.names.lock().len(), 1);
    }
}
