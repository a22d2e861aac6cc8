//! TLS mode: HTTPS with a fresh certificate that a client trusts through `ca_cert_pem()`.

mod common;

use common::*;
use std::sync::Arc;
use std::time::Duration;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::Agent;
use x8_emulator::{Emulator, EmulatorConfig};

fn tls_emulator() -> Emulator {
    start_with(EmulatorConfig {
        tls_self_signed: true,
        ..EmulatorConfig::default()
    })
}

fn trusting(pem: &str) -> Agent {
    let ca = Certificate::from_pem(pem.as_bytes()).unwrap();
    Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::Specific(Arc::new(vec![ca])))
                .build(),
        )
        .build()
        .into()
}

#[test]
fn https_with_the_ca_trusted() {
    let emu = tls_emulator();
    assert_eq!(emu.base_url(), format!("https://127.0.0.1:{}", emu.port()));
    let pem = emu.ca_cert_pem().expect("TLS mode has a certificate");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let a = trusting(&pem);
    let bearer = format!("Bearer {}", token(&a, &emu));
    let (status, v) = json(get(&a, &queues_url(&emu), Some(&bearer)));
    assert_eq!(status, 200);
    assert_eq!(v.as_array().unwrap().len(), 7);
    // Keep-alive holds over TLS too.
    assert_eq!(emu.stats().connections, 1);
}

#[test]
fn the_certificate_names_localhost_too() {
    let emu = tls_emulator();
    let a = trusting(&emu.ca_cert_pem().unwrap());
    let url = format!("https://localhost:{}/_emulator/stats", emu.port());
    assert_eq!(json(get(&a, &url, None)).0, 200);
}

#[test]
fn an_untrusted_client_is_refused() {
    let emu = tls_emulator();
    // The default roots do not include a certificate made a moment ago.
    let err = agent()
        .get(format!("{}/_emulator/stats", emu.base_url()))
        .call()
        .unwrap_err();
    assert!(
        matches!(
            err,
            ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Io(_)
        ),
        "{err:?}"
    );
    // And another emulator's CA does not vouch for this one.
    let other = tls_emulator();
    let err = trusting(&other.ca_cert_pem().unwrap())
        .get(format!("{}/_emulator/stats", emu.base_url()))
        .call()
        .unwrap_err();
    assert!(!matches!(err, ureq::Error::StatusCode(_)), "{err:?}");
}

#[test]
fn plain_mode_has_no_certificate() {
    let emu = start();
    assert!(emu.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(emu.ca_cert_pem(), None);
}

#[test]
fn the_presign_origin_speaks_https_with_the_same_ca() {
    let emu = tls_emulator();
    let a = trusting(&emu.ca_cert_pem().unwrap());
    assert_eq!(
        emu.presign_base_url(),
        format!("https://127.0.0.1:{}", emu.presign_port())
    );
    let bearer = format!("Bearer {}", token(&a, &emu));
    let search = format!("{}/storage/us-west/v3/objects?limit=1", emu.base_url());
    let (_, page) = json(get(&a, &search, Some(&bearer)));
    let id = page["content"][0]["id"].as_str().unwrap();
    let content = format!(
        "{}/storage/us-west/v3/objects/{id}/content?presignUrl=true",
        emu.base_url()
    );
    let (_, v) = json(get(&a, &content, Some(&bearer)));
    let url = v["presignedUrl"].as_str().unwrap();
    assert!(url.starts_with("https://"), "{url}");
    assert_eq!(get(&a, url, None).status().as_u16(), 200);
}
