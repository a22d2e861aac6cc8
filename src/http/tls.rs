//! HTTPS for ureq with a rustls configuration of our own. ureq's connector can trust the platform's verifier or
//! a list of certificates, but not both: adding a corporate CA to the system's roots (`CaMode::Add`, the
//! default) needs rustls-platform-verifier's extra roots, so x8 builds the `ClientConfig` itself (once per
//! trust setting, see shared.rs) and this connector wraps each connection in it, as ureq's own does.

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

use crate::config::{CaMode, TlsRoots};
use crate::error::{Error, ErrorKind, Result};
use crate::rt::log::{Level, Logger};

/// What a client trusts: the key of the process's shared TLS configurations.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Trust {
    pub roots: TlsRoots,
    /// The CA file's path and what it does to the roots; None without a CA file.
    pub ca_file: Option<(std::path::PathBuf, CaMode)>,
}

/// The rustls configuration for `trust`, `ca_certs` being the CA file's certificates.
pub fn client_config(
    trust: &Trust,
    ca_certs: Vec<CertificateDer<'static>>,
    logger: &Logger,
) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(tls_setup)?;
    let replace = matches!(trust.ca_file, Some((_, CaMode::Replace)));
    let compiled_in = |extra: Vec<CertificateDer<'static>>| -> Result<RootCertStore> {
        let mut store = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for cert in extra {
            store.add(cert).map_err(bad_ca)?;
        }
        Ok(store)
    };
    let config = if replace {
        let mut store = RootCertStore::empty();
        for cert in ca_certs {
            store.add(cert).map_err(bad_ca)?;
        }
        builder.with_root_certificates(store)
    } else if trust.roots == TlsRoots::CompiledIn {
        builder.with_root_certificates(compiled_in(ca_certs)?)
    } else {
        platform(builder, provider, ca_certs, logger, compiled_in)?
    };
    Ok(Arc::new(config.with_no_client_auth()))
}

type RootsBuilder = rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>;
type ClientBuilder = rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>;

/// The platform's verifier with the CA file's certificates added.
#[cfg(not(target_vendor = "apple"))]
fn platform(
    builder: RootsBuilder,
    provider: Arc<rustls::crypto::CryptoProvider>,
    ca_certs: Vec<CertificateDer<'static>>,
    logger: &Logger,
    compiled_in: impl FnOnce(Vec<CertificateDer<'static>>) -> Result<RootCertStore>,
) -> Result<ClientBuilder> {
    // Without a CA file, no extra engine (on Windows, extra roots are a second chain engine of their own).
    let verifier = if ca_certs.is_empty() {
        rustls_platform_verifier::Verifier::new(provider)
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(ca_certs.clone(), provider)
    };
    match verifier {
        // Not dangerous: the platform's verifier checks the chain, the name and (where the OS does) revocation;
        // rustls only calls it "custom".
        Ok(verifier) => Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))),
        // A Linux without a CA bundle (a minimal container): better Mozilla's roots than no HTTPS at all.
        Err(e) => {
            logger.log(Level::Warn, || {
                format!(
                    "the system's trust store could not be used ({e}); trusting the compiled-in Mozilla roots instead"
                )
            });
            Ok(builder.with_root_certificates(compiled_in(ca_certs)?))
        }
    }
}

/// On macOS this build has no platform verifier (see Cargo.toml): the compiled-in roots, said once per setting.
#[cfg(target_vendor = "apple")]
fn platform(
    builder: RootsBuilder,
    _provider: Arc<rustls::crypto::CryptoProvider>,
    ca_certs: Vec<CertificateDer<'static>>,
    logger: &Logger,
    compiled_in: impl FnOnce(Vec<CertificateDer<'static>>) -> Result<RootCertStore>,
) -> Result<ClientBuilder> {
    logger.log(Level::Info, || {
        "this macOS build of x8 does not read the system's keychain: trusting the compiled-in Mozilla roots \
         (add a corporate CA with a CA file)"
            .to_owned()
    });
    Ok(builder.with_root_certificates(compiled_in(ca_certs)?))
}

fn tls_setup(e: rustls::Error) -> Error {
    Error::new(ErrorKind::Tls, format!("TLS setup failed: {e}"))
}

fn bad_ca(e: rustls::Error) -> Error {
    Error::new(
        ErrorKind::Config,
        format!("the CA file holds a certificate rustls cannot use as a root: {e}"),
    )
}

/// Wraps https connections in TLS with one shared configuration.
#[derive(Clone)]
pub struct TlsConnector {
    pub config: Arc<ClientConfig>,
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.host().unwrap_or("");
        // An IPv6 literal comes bracketed in a URI, not in a server name.
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let name = ServerName::try_from(host)
            .map_err(|_| ureq::Error::Tls("the host is not a valid TLS server name"))?
            .to_owned();
        let mut conn = ClientConnection::new(self.config.clone(), name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        // The handshake counts against the connect timeout, as in ureq's own connector.
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned { conn, sock },
        })))
    }
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConnector")
    }
}

pub struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsTransport")
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: NextTimeout,
    ) -> std::result::Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}
