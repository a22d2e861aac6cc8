//! A throwaway certificate authority for TLS tests against real servers (redis-server's TLS listener): made
//! fresh per test with rcgen, written as PEM files, removed when dropped.

#![allow(dead_code)]

/// A throwaway CA and a certificate it signs for 127.0.0.1, as PEM files in a folder, for redis-server's TLS
/// listener and for the client's CA bundle.
pub struct TestCa {
    pub dir: std::path::PathBuf,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let dir = std::env::temp_dir().join(format!("x8-ca-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(dir.join("server.pem"), leaf.pem()).unwrap();
        std::fs::write(dir.join("server.key"), leaf_key.serialize_pem()).unwrap();
        TestCa { dir }
    }

    pub fn ca_file(&self) -> std::path::PathBuf {
        self.dir.join("ca.pem")
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
