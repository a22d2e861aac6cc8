//! Where credentials come from: the environment, the config file (and its permission check), and which
//! setting wins.
#![cfg(unix)]

mod common;
use common::*;

#[test]
fn reads_the_default_xdg_config_file() {
    let emu = emulator();
    let x8 = X8::bare().args(["token"]);
    write_file(&x8.default_config_path(), &config_text(&emu), 0o600);
    x8.run().ok();
    assert_eq!(emu.stats().tokens_issued, 1);
}

#[test]
fn falls_back_to_home_dot_config_without_xdg_config_home() {
    let emu = emulator();
    let x8 = X8::bare();
    let path = x8.home().join(".config/x8/config.toml");
    write_file(&path, &config_text(&emu), 0o600);
    let home = x8.home().to_str().unwrap().to_owned();
    // A relative XDG_CONFIG_HOME is invalid per XDG and ignored.
    x8.env("XDG_CONFIG_HOME", "relative/dir")
        .env("HOME", &home)
        .args(["products"])
        .run()
        .ok();
}

#[test]
fn config_flag_and_x8_config_name_a_file_that_must_exist() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("elsewhere.toml");
    write_file(&path, &config_text(&emu), 0o400);
    let shown = path.to_str().unwrap();
    X8::bare().args(["--config", shown, "token"]).run().ok();
    X8::bare()
        .env("X8_CONFIG", shown)
        .args(["token"])
        .run()
        .ok();
    assert_eq!(emu.stats().tokens_issued, 2);

    X8::bare()
        .args(["--config", "/nonexistent/x8.toml", "token"])
        .run()
        .code(3)
        .stderr_has("/nonexistent/x8.toml");
}

#[test]
fn refuses_a_config_file_others_can_read_or_write() {
    let emu = emulator();
    for mode in [0o644, 0o640, 0o604, 0o660, 0o602, 0o620] {
        let x8 = X8::bare().args(["token"]);
        let path = x8.default_config_path();
        write_file(&path, &config_text(&emu), mode);
        let out = x8.run();
        out.code(3)
            .no_stdout()
            .stderr_has(&format!("mode {mode:04o}"))
            .stderr_has(&format!("chmod 600 {}", path.display()));
    }
    assert_eq!(emu.stats().token_requests, 0, "nothing was sent");
}

#[test]
fn with_the_key_in_the_environment_a_readable_file_is_no_error_but_a_writable_one_is() {
    // The file's secret is not used, so others reading it cannot hurt this run; others writing it could
    // still point token_url elsewhere and collect the secret from the environment.
    let emu = emulator();
    let x8 = X8::on(&emu).args(["token"]);
    write_file(&x8.default_config_path(), &config_text(&emu), 0o644);
    x8.run().ok();
    for mode in [0o664, 0o646, 0o622] {
        let x8 = X8::on(&emu).args(["token"]);
        write_file(&x8.default_config_path(), &config_text(&emu), mode);
        x8.run().code(3).stderr_has("chmod 600");
    }
    // The file's own key is never mixed in: the environment's is used whole.
    let x8 = X8::on(&emu)
        .env("X8_CLIENT_SECRET", "wrong")
        .args(["token"]);
    write_file(&x8.default_config_path(), &config_text(&emu), 0o644);
    x8.run().code(4);
}

#[test]
fn malformed_files_fail_with_the_line_and_never_the_value() {
    let emu = emulator();
    let cases = [
        (
            format!("client_id = \"{ID}\"\nclient_secret = {SECRET}\n"),
            "line 2",
        ),
        (
            format!("client_id = \"{ID}\"\nclient_secret = \"{SECRET}\n"),
            "line 2",
        ),
        (format!("{SECRET}\n"), "line 1"),
        (
            format!("client_id = \"{ID}\"\nclient_secert = \"{SECRET}\"\n"),
            "unknown key \"client_secert\"",
        ),
        (
            format!("client_id = \"{ID}\"\n"),
            "needs both client_id and client_secret",
        ),
        (
            format!("client_secret = [\"{SECRET}\"]\n"),
            "must be a quoted string",
        ),
    ];
    for (text, expected) in cases {
        let x8 = X8::bare()
            .env("X8_BASE_URL", &emu.base_url())
            .args(["token"]);
        write_file(&x8.default_config_path(), &text, 0o600);
        x8.run().code(3).no_stdout().stderr_has(expected);
    }
}

#[test]
fn the_environment_beats_the_file_and_flags_beat_both() {
    let emu = emulator();
    let other = emulator();
    // The file's key is the bare one, on `other`; the environment's key is the good one.
    let file = format!(
        "client_id = \"{BARE_ID}\"\nclient_secret = '{BARE_SECRET}'\nbase_url = \"{}\"\n",
        other.base_url()
    );

    let x8 = X8::bare()
        .env("X8_CLIENT_ID", ID)
        .env("X8_CLIENT_SECRET", SECRET)
        .args(["products"]);
    write_file(&x8.default_config_path(), &file, 0o600);
    let out = x8.run();
    out.ok();
    assert_eq!(
        out.stdout.lines().count(),
        4,
        "the environment's key was used"
    );
    assert_eq!(
        other.stats().tokens_issued,
        1,
        "the file's base_url was used"
    );

    let x8 = X8::bare()
        .env("X8_CLIENT_ID", ID)
        .env("X8_CLIENT_SECRET", SECRET)
        .env("X8_BASE_URL", &emu.base_url())
        .args(["token"]);
    write_file(&x8.default_config_path(), &file, 0o600);
    x8.run().ok();
    assert_eq!(emu.stats().tokens_issued, 1, "X8_BASE_URL beat the file");

    let third = emulator();
    let x8 = X8::on(&emu).args(["--base-url", &third.base_url(), "token"]);
    x8.run().ok();
    assert_eq!(
        third.stats().tokens_issued,
        1,
        "--base-url beat X8_BASE_URL"
    );
    assert_eq!(emu.stats().tokens_issued, 1);
}

#[test]
fn the_file_alone_supplies_the_key_when_the_environment_has_none() {
    let emu = emulator();
    let x8 = X8::bare().args(["check", "storage"]);
    write_file(
        &x8.default_config_path(),
        &format!(
            "client_id = \"{BARE_ID}\"\nclient_secret = \"{BARE_SECRET}\"\nbase_url = \"{}\"\n",
            emu.base_url()
        ),
        0o600,
    );
    x8.run().code(7);
}

#[test]
fn half_a_key_in_the_environment_is_refused() {
    let emu = emulator();
    X8::bare()
        .env("X8_BASE_URL", &emu.base_url())
        .env("X8_CLIENT_ID", ID)
        .args(["token"])
        .run()
        .code(3)
        .stderr_has("X8_CLIENT_SECRET is not");
    X8::bare()
        .env("X8_CLIENT_SECRET", SECRET)
        .args(["token"])
        .run()
        .code(3)
        .stderr_has("X8_CLIENT_ID is not");
}

#[test]
fn no_credentials_anywhere_says_where_to_put_them() {
    X8::bare()
        .args(["token"])
        .run()
        .code(3)
        .no_stdout()
        .stderr_has("X8_CLIENT_ID")
        .stderr_has("x8/config.toml");
}

#[test]
fn ca_file_in_the_config_file_is_relative_to_it() {
    let emu = emulator_with(|c| c.tls_self_signed = true);
    let x8 = X8::bare().args(["get", QUEUES]);
    let path = x8.default_config_path();
    write_file(
        &path,
        &format!("{}ca_file = \"ca.pem\"\n", config_text(&emu)),
        0o600,
    );
    std::fs::write(path.with_file_name("ca.pem"), emu.ca_cert_pem().unwrap()).unwrap();
    x8.run().ok();
}

#[test]
fn client_auth_and_scope_come_from_the_file_and_flags_override_them() {
    let emu = emulator_with(|c| c.token_mode = x8_emulator::TokenMode::Rfc6749);
    let x8 = X8::bare().args(["token"]);
    let text = format!(
        "{}client_auth = \"post\"\nscope = \"read\"\n",
        config_text(&emu)
    );
    write_file(&x8.default_config_path(), &text, 0o600);
    x8.run().ok();
    let sent = emu.token_requests();
    assert_eq!(sent[0].authorization_scheme, None, "client_secret_post");
    assert_eq!(sent[0].form.get("scope").map(String::as_str), Some("read"));

    let x8 = X8::bare().args(["--client-auth", "basic-rfc6749", "token"]);
    write_file(&x8.default_config_path(), &text, 0o600);
    x8.run().ok();
    assert_eq!(
        emu.token_requests()[1].authorization_scheme.as_deref(),
        Some("Basic")
    );

    let x8 = X8::bare().args(["token"]);
    let bad = format!("{}client_auth = \"kerberos\"\n", config_text(&emu));
    write_file(&x8.default_config_path(), &bad, 0o600);
    x8.run().code(3).stderr_has("basic-rfc6749");
}

#[test]
fn token_url_flag_and_fractional_timeouts() {
    let emu = emulator();
    // A token URL on a closed port: the flag must win over the base URL's default.
    X8::on(&emu)
        .args([
            "--token-url",
            "http://127.0.0.1:1/oauth/v2/token",
            "--timeout",
            "0.5",
            "token",
        ])
        .run()
        .code(5);
    assert_eq!(emu.stats().tokens_issued, 0);
    X8::on(&emu)
        .args([
            "--token-url",
            &format!("{}/oauth/v2/token", emu.base_url()),
            "token",
        ])
        .run()
        .ok();
    X8::on(&emu).args(["--timeout", "0", "token"]).run().code(2);
    X8::on(&emu)
        .args(["--timeout", "soon", "token"])
        .run()
        .code(2);
}
