//! A throwaway certificate authority and a server certificate it signs, made fresh per emulator.
//!
//! A CA plus a leaf, rather than one self-signed leaf: every TLS stack (rustls/webpki, OpenSSL,
//! Go, .NET) accepts a CA bundle holding a real CA, while some refuse a leaf acting as its own
//! trust anchor.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::io;
use std::sync::Arc;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{crypto, ServerConfig};
use tokio_rustls::TlsAcceptor;

pub(crate) struct TlsMaterial {
    /// What a client trusts: the CA's certificate.
    pub(crate) ca_pem: String,
    /// What the server presents: its certificate, then the CA's.
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl TlsMaterial {
    /// The server side of the handshake. The ring provider is named rather than taken from the
    /// process default, which is ambiguous when another crate in the build enables aws-lc-rs.
    pub(crate) fn acceptor(&self) -> io::Result<TlsAcceptor> {
        let config =
            ServerConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .and_then(|b| {
                    b.with_no_client_auth()
                        .with_single_cert(self.chain.clone(), self.key.clone_key().into())
                })
                .map_err(io::Error::other)?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

pub(crate) fn generate() -> io::Result<TlsMaterial> {
    generate_inner().map_err(io::Error::other)
}

fn generate_inner() -> Result<TlsMaterial, rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name
        .push(DnType::CommonName, "x8-emulator throwaway CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let leaf_key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
    leaf.distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;

    Ok(TlsMaterial {
        ca_pem: ca_cert.pem(),
        chain: vec![leaf_cert.der().clone(), ca_cert.der().clone()],
        key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn material_makes_an_acceptor() {
        let m = super::generate().unwrap();
        assert!(m.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(m.chain.len(), 2);
        assert!(m.acceptor().is_ok());
    }
}
