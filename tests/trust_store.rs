//! The trust store (issue 16 §3): the platform's verifier by default (on Linux the system bundle, which
//! `SSL_CERT_FILE` names), the compiled-in Mozilla roots on request, and a CA file that adds to the roots or
//! replaces them. The platform roots are read from the environment when the first client of a trust setting is
//! made, so each test that sets `SSL_CERT_FILE` runs in a child process of its own. `rediss://` (a real
//! `redis-server` TLS listener) trusts exactly what HTTPS does (issue 13, defect 6).

mod common;
#[cfg(feature = "redis")]
#[path = "common/redis_server.rs"]
mod redis_server;
#[cfg(feature = "redis")]
#[path = "common/test_ca.rs"]
mod test_ca;

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

/// What a client with these trust settings made of a `rediss://` store: whether the TLS connection to Redis was
/// trusted (the client's token is then in Redis), and the warnings it logged. Its API requests succeed either
/// way: a store that cannot be used never breaks a request.
#[cfg(feature = "redis")]
fn rediss_outcome(
    emu: &Emulator,
    redis: &redis_server::RedisServer,
    roots: TlsRoots,
    ca: Option<(&Path, CaMode)>,
) -> (bool, Vec<String>) {
    use std::sync::Arc;
    use x8::{Level, Logger, SharedStoreSetting};
    let key = x8::store_key(&format!("{}/oauth/v2/token", emu.base_url()), ID);
    redis.command(&["DEL", &key]);
    let warnings = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let w = warnings.clone();
    let c = client_with(emu, |o| {
        o.tls_roots = roots;
        if let Some((path, mode)) = ca {
            o.ca_file = Some(path.to_owned());
            o.ca_mode = mode;
        }
        o.shared_store =
            SharedStoreSetting::Redis(format!("rediss://127.0.0.1:{}", redis.tls_port()));
        o.logger = Logger::new(
            Arc::new(move |level: Level, m: &str| {
                if level <= Level::Warn {
                    w.lock().push(m.to_owned());
                }
            }),
            Level::Warn,
        );
    });
    let token = c.token(None).unwrap();
    assert_eq!(c.request(&get("/echo/rediss")).unwrap().status, 200);
    let stats = c.stats();
    let trusted = stats.store_errors == 0;
    assert_eq!(
        trusted,
        redis
            .get(&key)
            .is_some_and(|r| r.contains(token.access_token())),
        "a trusted store holds the token, an untrusted one does not"
    );
    let warnings = warnings.lock().clone();
    (trusted, warnings)
}

/// The warning an untrusted Redis certificate gives says what is wrong and what to do.
#[cfg(feature = "redis")]
fn says_not_trusted(warnings: &[String]) -> bool {
    warnings
        .iter()
        .any(|w| w.contains("Redis's TLS certificate is not trusted") && w.contains("CA file"))
}

/// The system's trust store holds the test CA (`SSL_CERT_FILE`): `rediss://` trusts it by default, as HTTPS
/// does, with no CA file; with the compiled-in roots, or a CA file that replaces the roots, it does not. (Before,
/// `rediss://` trusted the compiled-in roots or the CA file alone, whatever the client's trust setting.)
#[cfg(feature = "redis")]
#[test]
fn rediss_trusts_the_system_store_by_default() {
    in_child("rediss_trusts_the_system_store_by_default", || {
        let (system, other) = (
            test_ca::TestCa::new("rediss-system"),
            test_ca::TestCa::new("rediss-other"),
        );
        std::env::set_var("SSL_CERT_FILE", system.ca_file());
        let redis = redis_server::RedisServer::start_tls(&system.dir, None);
        let emu = emulator();
        let other_ca = other.ca_file();
        let (trusted, warnings) = rediss_outcome(&emu, &redis, TlsRoots::Platform, None);
        assert!(trusted, "platform roots: {warnings:?}");
        let add = Some((other_ca.as_path(), CaMode::Add));
        let (trusted, warnings) = rediss_outcome(&emu, &redis, TlsRoots::Platform, add);
        assert!(trusted, "a CA file added keeps the system's: {warnings:?}");
        let (trusted, warnings) = rediss_outcome(&emu, &redis, TlsRoots::CompiledIn, None);
        assert!(!trusted, "compiled-in roots");
        assert!(says_not_trusted(&warnings), "{warnings:?}");
        let replace = Some((other_ca.as_path(), CaMode::Replace));
        let (trusted, warnings) = rediss_outcome(&emu, &redis, TlsRoots::Platform, replace);
        assert!(!trusted, "a CA file that replaces the roots");
        assert!(says_not_trusted(&warnings), "{warnings:?}");
    });
}

/// The system's trust store does not hold the test CA: the default refuses Redis's certificate, with a warning
/// that says so, and requests still succeed; the test CA given as the client's CA file (added, or replacing the
/// roots) is trusted, with the platform's roots and with the compiled-in ones.
#[cfg(feature = "redis")]
#[test]
fn rediss_trusts_the_clients_ca_file_and_the_default_does_not_trust_a_private_ca() {
    in_child(
        "rediss_trusts_the_clients_ca_file_and_the_default_does_not_trust_a_private_ca",
        || {
            let (ca, system) = (
                test_ca::TestCa::new("rediss-private"),
                test_ca::TestCa::new("rediss-unrelated-system"),
            );
            std::env::set_var("SSL_CERT_FILE", system.ca_file());
            let redis = redis_server::RedisServer::start_tls(&ca.dir, None);
            let emu = emulator();
            let ca_file = ca.ca_file();
            let (trusted, warnings) = rediss_outcome(&emu, &redis, TlsRoots::Platform, None);
            assert!(!trusted, "the platform's roots do not know a private CA");
            assert!(says_not_trusted(&warnings), "{warnings:?}");
            for (roots, mode) in [
                (TlsRoots::Platform, CaMode::Add),
                (TlsRoots::Platform, CaMode::Replace),
                (TlsRoots::CompiledIn, CaMode::Add),
            ] {
                let (trusted, warnings) =
                    rediss_outcome(&emu, &redis, roots, Some((ca_file.as_path(), mode)));
                assert!(trusted, "{roots:?} {mode:?}: {warnings:?}");
            }
        },
    );
}
