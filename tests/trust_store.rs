//! The trust store (issue 16 §3): the platform's verifier by default (on Linux the system bundle, which
//! `SSL_CERT_FILE` names), the compiled-in Mozilla roots on request, and a CA file that adds to the roots or
//! replaces them. The platform roots are read from the environment when the first client of a trust setting is
//! made, so each test that sets `SSL_CERT_FILE` runs in a child process of its own.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use x8::{CaMode, ErrorKind, TlsRoots};
use x8_emulator::Emulator;

const CHILD: &str = "X8_TRUST_STORE_CHILD";

/// Runs `body` in a child process of this test binary (only the test `name`), with `SSL_CERT_FILE` set by the
/// body itself; the parent checks that the child passed.
fn in_child(name: &str, body: impl FnOnce()) {
    if std::env::var(CHILD).as_deref() == Ok(name) {
        body();
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD, name)
        .env_remove("SSL_CERT_DIR")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
}

fn tls_emulator() -> Emulator {
    emulator_with(|c| c.tls_self_signed = true)
}

fn write_ca(emu: &Emulator, dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, emu.ca_cert_pem().unwrap()).unwrap();
    path
}

fn temp_dir(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("x8-trust-{what}-{}", std::process::id()))
}

/// Whether a client with these settings gets a token over the emulator's TLS, or the TLS error it got.
fn trusts(emu: &Emulator, roots: TlsRoots, ca: Option<(&Path, CaMode)>) -> bool {
    let c = client_with(emu, |o| {
        o.tls_roots = roots;
        if let Some((path, mode)) = ca {
            o.ca_file = Some(path.to_owned());
            o.ca_mode = mode;
        }
    });
    match c.token(None) {
        Ok(_) => true,
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
            false
        }
    }
}

#[test]
fn the_platform_verifier_trusts_the_system_bundle_and_the_compiled_in_roots_do_not() {
    in_child(
        "the_platform_verifier_trusts_the_system_bundle_and_the_compiled_in_roots_do_not",
        || {
            let emu = tls_emulator();
            let dir = temp_dir("system");
            let system = write_ca(&emu, &dir, "system.pem");
            std::env::set_var("SSL_CERT_FILE", &system);
            assert!(trusts(&emu, TlsRoots::Platform, None), "platform roots");
            assert!(
                !trusts(&emu, TlsRoots::CompiledIn, None),
                "compiled-in roots"
            );
            std::fs::remove_dir_all(&dir).ok();
        },
    );
}

#[test]
fn a_ca_file_adds_to_the_roots_by_default_and_can_replace_them() {
    in_child(
        "a_ca_file_adds_to_the_roots_by_default_and_can_replace_them",
        || {
            // The system trusts `in_system`'s CA; the CA file holds `in_file`'s.
            let (in_system, in_file) = (tls_emulator(), tls_emulator());
            let dir = temp_dir("modes");
            std::env::set_var("SSL_CERT_FILE", write_ca(&in_system, &dir, "system.pem"));
            let file = write_ca(&in_file, &dir, "file.pem");
            let add = Some((file.as_path(), CaMode::Add));
            let replace = Some((file.as_path(), CaMode::Replace));
            assert!(trusts(&in_file, TlsRoots::Platform, add));
            assert!(
                trusts(&in_system, TlsRoots::Platform, add),
                "added, not replaced"
            );
            assert!(trusts(&in_file, TlsRoots::Platform, replace));
            assert!(!trusts(&in_system, TlsRoots::Platform, replace), "replaced");
            assert!(trusts(&in_file, TlsRoots::CompiledIn, add));
            assert!(!trusts(&in_system, TlsRoots::CompiledIn, add));
            std::fs::remove_dir_all(&dir).ok();
        },
    );
}

#[test]
fn the_environment_names_the_roots_and_the_mode() {
    in_child("the_environment_names_the_roots_and_the_mode", || {
        std::env::set_var("X8_TLS_ROOTS", "compiled-in");
        std::env::set_var("X8_CA_FILE", "/etc/x8-ca.pem");
        std::env::set_var("X8_CA_MODE", "replace");
        let o = x8::Options::from_env().unwrap();
        assert_eq!(o.tls_roots, TlsRoots::CompiledIn);
        assert_eq!(o.ca_file.as_deref(), Some(Path::new("/etc/x8-ca.pem")));
        assert_eq!(o.ca_mode, CaMode::Replace);
        std::env::set_var("X8_CA_MODE", "append");
        let e = x8::Options::from_env().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("add or replace"), "{e}");
    });
}
