//! Shared by the integration tests: an in-process emulator, a client pointed at it, and the redaction check
//! that every error message the suite sees goes through.

#![allow(dead_code)]

use std::time::Duration;
use x8::{Client, Credentials, Error, Options, Request};
use x8_emulator::{ClientSpec, Emulator, EmulatorConfig};

pub const ID: &str = "it-client";
pub const SECRET: &str = "it-secret-Zq8!pw";

pub fn emulator() -> Emulator {
    emulator_with(|_| {})
}

pub fn emulator_with(tweak: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let mut cfg = EmulatorConfig {
        clients: vec![
            ClientSpec::new(
                ID,
                SECRET,
                &["analytics realtime-api", "storage", "QM - API", "vcc"],
            ),
            ClientSpec::new("bare-client", "bare-secret", &[]),
        ],
        ..EmulatorConfig::default()
    };
    tweak(&mut cfg);
    Emulator::start(cfg).expect("emulator starts")
}

/// Options for tests: fast retries, so fault tests do not wait seconds.
pub fn options(emu: &Emulator) -> Options {
    Options {
        base_url: emu.base_url(),
        retry_base_delay: Duration::from_millis(10),
        retry_max_delay: Duration::from_millis(50),
        timeout: Duration::from_secs(10),
        ..Options::default()
    }
}

/// A GET request for `path`, relative to the base URL.
pub fn get(path: &str) -> Request<'_> {
    Request {
        method: "GET",
        path,
        ..Request::default()
    }
}

pub fn client(emu: &Emulator) -> Client {
    client_with(emu, |_| {})
}

pub fn client_with(emu: &Emulator, tweak: impl FnOnce(&mut Options)) -> Client {
    let mut o = options(emu);
    tweak(&mut o);
    Client::new(Credentials::new(ID, SECRET).unwrap(), o).unwrap()
}

/// Every error message a test looks at passes through here: neither the secret nor any token may appear.
pub fn no_secrets(err: &Error, tokens: &[&str]) -> String {
    let text = format!("{err} {err:?}");
    assert!(!text.contains(SECRET), "secret leaked: {text}");
    assert!(!text.contains("bare-secret"), "secret leaked: {text}");
    for t in tokens {
        assert!(!text.contains(t), "token leaked: {text}");
    }
    err.message().to_owned()
}
