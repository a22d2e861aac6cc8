//! Name resolution for the transport. ureq's default resolver, once a timeout is configured, runs every lookup
//! on a newly spawned thread — and it resolves before it looks for a pooled connection, so every request paid a
//! thread and ~9 system calls even on a kept-alive connection (the benchmarks measured x8 at 2.4x libcurl's CPU
//! per GET because of it). This resolver answers IP literals at once and remembers names for a minute, asking
//! the default resolver (with its timeout) only on a miss.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a looked-up name is reused. Short enough to follow DNS changes of a long-lived process.
const NAME_TTL: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct CachingResolver {
    default: DefaultResolver,
    names: Mutex<HashMap<(String, u16), (Instant, ResolvedSocketAddrs)>>,
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
        let addrs = self.default.resolve(uri, config, timeout)?;
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
