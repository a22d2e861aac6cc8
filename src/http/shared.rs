//! State every client of a process can share instead of building its own (issue 15): the TLS connector with its
//! rustls `ClientConfig` and root store (or platform verifier), one per trust setting (roots, CA file and its
//! mode: see `tls::Trust`), built by the first client with that setting; and the
//! resolver with its cache of looked-up names. Each is built by the first client that needs it, shared by every
//! later one with the same setting, and released with the last of them (nothing stays allocated once every
//! client is freed). Connection pools stay per client: they hold the client's own sockets.
//!
//! fork(): the registries are locked across fork() and emptied in the child, so a child's new clients build
//! their own instead of sharing state a parent thread may have been in the middle of (a rustls config being
//! built, a name being cached) when fork() copied it.

use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError, Weak};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{ConnectionDetails, Connector, NextTimeout, Transport};

use super::resolver::CachingResolver;
use super::tls::{TlsConnector, Trust};
use crate::error::Result as X8Result;
use crate::rt::fork::{self, ForkHooks};

#[derive(Default)]
struct Registry {
    tls: Vec<(Trust, Weak<TlsEntry>)>,
    resolver: Weak<ResolverEntry>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    tls: Vec::new(),
    resolver: Weak::new(),
});

thread_local! {
    static HELD_FOR_FORK: RefCell<Option<MutexGuard<'static, Registry>>> = const { RefCell::new(None) };
}

fn registry() -> MutexGuard<'static, Registry> {
    static HOOKS: Once = Once::new();
    HOOKS.call_once(|| {
        fork::on_fork(ForkHooks {
            name: "shared transport state",
            prepare: || {
                let held = registry_unhooked();
                HELD_FOR_FORK.with(|h| *h.borrow_mut() = Some(held));
            },
            parent: || HELD_FOR_FORK.with(|h| drop(h.borrow_mut().take())),
            child: || {
                HELD_FOR_FORK.with(|h| {
                    if let Some(mut held) = h.borrow_mut().take() {
                        // The parent's clients answer FORKED here and never connect: new clients start afresh.
                        *held = Registry::default();
                    }
                })
            },
        })
    });
    registry_unhooked()
}

fn registry_unhooked() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

struct TlsEntry {
    connector: TlsConnector,
}

impl Drop for TlsEntry {
    fn drop(&mut self) {
        let mut reg = registry_unhooked();
        reg.tls.retain(|(_, entry)| entry.strong_count() > 0);
        if reg.tls.is_empty() {
            reg.tls = Vec::new();
        }
    }
}

/// The TLS connector for clients with this trust setting.
#[derive(Clone)]
pub struct SharedTls(Arc<TlsEntry>);

impl fmt::Debug for SharedTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedTls")
    }
}

/// The shared connector for `trust`, built with `build` (which reads the CA file and makes the rustls
/// configuration) when no live client has the same setting.
pub fn tls(
    trust: &Trust,
    build: impl FnOnce() -> X8Result<Arc<rustls::ClientConfig>>,
) -> X8Result<SharedTls> {
    let mut reg = registry();
    if let Some(entry) = reg
        .tls
        .iter()
        .find(|(k, _)| k == trust)
        .and_then(|(_, e)| e.upgrade())
    {
        return Ok(SharedTls(entry));
    }
    let entry = Arc::new(TlsEntry {
        connector: TlsConnector { config: build()? },
    });
    reg.tls.retain(|(_, e)| e.strong_count() > 0);
    reg.tls.push((trust.clone(), Arc::downgrade(&entry)));
    Ok(SharedTls(entry))
}

impl SharedTls {
    pub fn config(&self) -> Arc<rustls::ClientConfig> {
        self.0.connector.config.clone()
    }
}

impl<In: Transport> Connector<In> for SharedTls {
    type Out = <TlsConnector as Connector<In>>::Out;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        self.0.connector.connect(details, chained)
    }
}

#[derive(Debug, Default)]
struct ResolverEntry {
    resolver: CachingResolver,
}

impl Drop for ResolverEntry {
    fn drop(&mut self) {
        // The registry's weak reference would keep this allocation alive: let it go too, unless a new
        // resolver has replaced this one meanwhile.
        let mut reg = registry_unhooked();
        if reg.resolver.strong_count() == 0 {
            reg.resolver = Weak::new();
        }
    }
}

/// The process's resolver and its name cache.
#[derive(Clone, Debug)]
pub struct SharedResolver(Arc<ResolverEntry>);

pub fn resolver() -> SharedResolver {
    let mut reg = registry();
    if let Some(r) = reg.resolver.upgrade() {
        return SharedResolver(r);
    }
    let r = Arc::new(ResolverEntry::default());
    reg.resolver = Arc::downgrade(&r);
    SharedResolver(r)
}

impl Resolver for SharedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        self.0.resolver.resolve(uri, config, timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::{CaMode, TlsRoots};
    use std::path::PathBuf;

    fn config() -> X8Result<Arc<rustls::ClientConfig>> {
        let trust = Trust {
            roots: TlsRoots::CompiledIn,
            ca_file: None,
        };
        super::super::tls::client_config(&trust, Vec::new(), &Default::default())
    }

    #[test]
    fn clients_with_one_trust_setting_share_one_connector_and_the_last_releases_it() {
        let with = |path: &str, mode| Trust {
            roots: TlsRoots::Platform,
            ca_file: Some((PathBuf::from(path), mode)),
        };
        let path = "/nonexistent/x8-shared-test-ca.pem";
        let (a, b) = (
            tls(&with(path, CaMode::Add), config).unwrap(),
            tls(&with(path, CaMode::Add), config).unwrap(),
        );
        assert!(Arc::ptr_eq(&a.0, &b.0));
        let other = tls(&with("/nonexistent/x8-other-ca.pem", CaMode::Add), config).unwrap();
        assert!(!Arc::ptr_eq(&a.0, &other.0));
        let replacing = tls(&with(path, CaMode::Replace), config).unwrap();
        assert!(
            !Arc::ptr_eq(&a.0, &replacing.0),
            "the mode is part of the key"
        );
        let compiled_in = Trust {
            roots: TlsRoots::CompiledIn,
            ca_file: Some((PathBuf::from(path), CaMode::Add)),
        };
        let c = tls(&compiled_in, config).unwrap();
        assert!(!Arc::ptr_eq(&a.0, &c.0), "so are the roots");
        drop((a, b));
        let again = tls(&with(path, CaMode::Add), config).unwrap();
        assert_eq!(
            Arc::strong_count(&again.0),
            1,
            "a new one after the last was released"
        );
        let (r1, r2) = (resolver(), resolver());
        assert!(Arc::ptr_eq(&r1.0, &r2.0));
    }
}
