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

pub(crate) struct TlsMaterial {
    /// What a client trusts: the CA's certificate.
    pub(crate) ca_pem: String,
    /// What the server presents: its certificate, then the CA's.
    pub(crate) chain_pem: String,
    /// The server key, PKCS#8, which tiny_http's rustls loader expects.
    pub(crate) key_pem: String,
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
        chain_pem: format!("{}{}", leaf_cert.pem(), ca_cert.pem()),
        key_pem: leaf_key.serialize_pem(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn material_is_pem() {
        let m = super::generate().unwrap();
        assert!(m.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(m.chain_pem.matches("BEGIN CERTIFICATE").count(), 2);
        assert!(m.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    }
}
