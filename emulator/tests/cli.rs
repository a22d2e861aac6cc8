//! The `x8-emulator` binary as a test in another language would run it.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_x8-emulator");

/// Starts the binary and reads its first stdout line, the base URL.
fn spawn(args: &[&str]) -> (Child, String, BufReader<ChildStdout>) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    (child, line.trim_end().to_string(), stdout)
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// The emulator's own token and admin calls, over plain HTTP.
fn token_and_stats(base: &str, id: &str, secret: &str) -> (u16, serde_json::Value) {
    let a = common::agent();
    let reply = a
        .post(format!("{base}/oauth/v2/token"))
        .header("Authorization", common::basic(id, secret))
        .send_form([("grant_type", "client_credentials")])
        .unwrap();
    let (status, _) = common::json(reply);
    let (_, stats) = common::json(a.get(format!("{base}/_emulator/stats")).call().unwrap());
    (status, stats)
}

#[test]
fn prints_its_url_first_and_exits_when_stdin_closes() {
    let (mut child, url, _stdout) = spawn(&[
        "--exit-on-stdin-eof",
        "--client",
        "cli-id:cli-secret:storage",
        "--token-lifetime",
        "42",
        "--threads",
        "2",
        "--verbose",
    ]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let (status, stats) = token_and_stats(&url, "cli-id", "cli-secret");
    assert_eq!(status, 200);
    assert_eq!(stats["tokens_issued"], 1);
    assert_eq!(token_and_stats(&url, "demo-client", "demo-secret").0, 401);

    drop(child.stdin.take());
    let status = wait_exit(&mut child, Duration::from_secs(10));
    if status.is_none() {
        let _ = child.kill();
    }
    assert!(status.expect("exits after stdin closes").success());
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("POST /oauth/v2/token -> 200"), "{log}");
}

#[test]
fn tls_mode_writes_the_ca_before_printing_the_url() {
    let dir = std::env::temp_dir().join(format!("x8-emulator-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    let (mut child, url, _stdout) = spawn(&[
        "--exit-on-stdin-eof",
        "--tls-self-signed",
        "--write-ca",
        ca.to_str().unwrap(),
        "--reply-shape",
        "chat",
    ]);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let pem = std::fs::read_to_string(&ca).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    drop(child.stdin.take());
    assert!(wait_exit(&mut child, Duration::from_secs(10)).is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_describes_every_option() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for option in [
        "--port",
        "--client",
        "--token-lifetime",
        "--reply-shape",
        "--queues",
        "--expired-status",
        "--threads",
        "--tls-self-signed",
        "--write-ca",
        "--exit-on-stdin-eof",
        "--verbose",
        "--token-delay-ms",
        "--rfc6749",
        "not properly encoded",
        "client_secret_post",
        "/_emulator/faults",
        "/_emulator/token-requests",
    ] {
        assert!(help.contains(option), "--help lacks {option}:\n{help}");
    }
}

#[test]
fn rfc6749_flag_answers_numeric_expires_in() {
    let (mut child, url, _stdout) = spawn(&["--exit-on-stdin-eof", "--rfc6749"]);
    let reply = common::agent()
        .post(format!("{url}/oauth/v2/token"))
        .header("Authorization", common::basic("demo-client", "demo-secret"))
        .send_form([("grant_type", "client_credentials")])
        .unwrap();
    let (status, v) = common::json(reply);
    assert_eq!((status, v["token_type"].as_str()), (200, Some("Bearer")));
    assert!(v["expires_in"].is_u64(), "{v}");
    drop(child.stdin.take());
    assert!(wait_exit(&mut child, Duration::from_secs(10)).is_some());
}

#[test]
fn bad_arguments_are_refused() {
    for args in [
        &["--client", "no-secret"][..],
        &["--reply-shape", "xml"],
        &["--write-ca", "x.pem"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
