//! Every documented exit code, and the help that documents them.

mod common;
use common::*;

use std::time::{Duration, Instant};

#[test]
fn usage_errors_exit_2_before_any_network_call() {
    let emu = emulator();
    for args in [
        vec!["nope"],
        vec!["token", "--bogus"],
        vec!["get"],
        vec!["get", QUEUES, "-H", "no colon here"],
        vec!["get", QUEUES, "-H", ": empty name"],
        vec![
            "request",
            "POST",
            "/echo/x",
            "--data",
            "@/nonexistent/body.json",
        ],
        vec!["get", QUEUES, "--all-pages", "--paging", "sideways"],
        vec!["get", QUEUES, "--paging", "auto"],
        vec!["--timeout", "0", "token"],
        // The secret can never be a flag.
        vec!["--client-secret", "x", "token"],
    ] {
        X8::on(&emu).args(&args).run().code(2).no_stdout();
    }
    assert_eq!(emu.stats().token_requests, 0);
}

#[test]
fn arguments_the_library_refuses_exit_2() {
    let emu = emulator();
    X8::on(&emu)
        .args(["get", "/echo/x", "-H", "Authorization: Bearer mine"])
        .run()
        .code(2)
        .stderr_has("Authorization");
    X8::on(&emu)
        .args(["request", "GE T", "/echo/x"])
        .run()
        .code(2);
    X8::on(&emu)
        .args(["get", "https://elsewhere.example.com/steal"])
        .run()
        .code(2)
        .stderr_has("refusing to send the bearer token");
}

#[test]
fn config_errors_exit_3() {
    X8::bare()
        .env("X8_CLIENT_ID", ID)
        .env("X8_CLIENT_SECRET", SECRET)
        .env("X8_BASE_URL", "http://example.com")
        .args(["token"])
        .run()
        .code(3)
        .stderr_has("base URL");
    X8::bare()
        .env("X8_CLIENT_ID", "has:colon")
        .env("X8_CLIENT_SECRET", SECRET)
        .args(["token"])
        .run()
        .code(3);
}

#[test]
fn refused_credentials_exit_4() {
    let emu = emulator();
    X8::on(&emu)
        .env("X8_CLIENT_SECRET", WRONG_SECRET)
        .args(["token"])
        .run()
        .code(4)
        .no_stdout()
        .stderr_has("401")
        .stderr_has(ID);
    X8::on(&emu)
        .env("X8_CLIENT_SECRET", WRONG_SECRET)
        .args(["get", QUEUES])
        .run()
        .code(4);
}

#[test]
fn network_failures_exit_5() {
    // A port nothing listens on: the emulator is gone.
    let url = emulator().base_url();
    X8::bare()
        .env("X8_CLIENT_ID", ID)
        .env("X8_CLIENT_SECRET", SECRET)
        .env("X8_BASE_URL", &url)
        .args(["--timeout", "5", "token"])
        .run()
        .code(5)
        .no_stdout();
}

#[test]
fn a_timeout_exits_5_in_about_the_time_given() {
    let emu = emulator();
    emu.push_fault(FaultTarget::Api, Fault::Delay { ms: 5_000 }, 1);
    let started = Instant::now();
    X8::on(&emu)
        .args(["--timeout", "1", "get", QUEUES])
        .run()
        .code(5)
        .no_stdout();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_failing_token_endpoint_exits_5() {
    let emu = emulator();
    emu.push_fault(
        FaultTarget::Token,
        Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
        10,
    );
    X8::on(&emu).args(["token"]).run().code(5).stderr_has("503");
}

#[test]
fn tls_failures_exit_5_and_ca_file_fixes_them() {
    let emu = emulator_with(|c| c.tls_self_signed = true);
    X8::on(&emu).args(["token"]).run().code(5);

    let x8 = X8::on(&emu);
    let ca = x8.home().join("ca.pem");
    std::fs::write(&ca, emu.ca_cert_pem().unwrap()).unwrap();
    let ca = ca.to_str().unwrap().to_owned();
    x8.args(["--ca-file", &ca, "get", QUEUES]).run().ok();
}

#[test]
fn an_unwritable_stdout_exits_1() {
    let emu = emulator();
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full");
        return;
    };
    X8::on(&emu)
        .args(["token"])
        .stdout_to(full)
        .run()
        .code(1)
        .stderr_has("cannot write to stdout");
}

#[test]
fn help_documents_every_command_and_exit_code() {
    let out = X8::bare().args(["--help"]).run();
    out.ok();
    for text in [
        "token",
        "products",
        "check",
        "get",
        "request",
        "X8_CLIENT_ID",
        "X8_CLIENT_SECRET",
        "X8_BASE_URL",
        "chmod 600",
        "Exit codes",
    ] {
        assert!(out.stdout.contains(text), "--help lacks {text:?}");
    }
    for code in 0..=7 {
        assert!(
            out.stdout.contains(&format!("\n  {code}  ")),
            "exit code {code}"
        );
    }
    for command in ["token", "products", "check", "get", "request"] {
        let out = X8::bare().args([command, "--help"]).run();
        out.ok();
        assert!(
            out.stdout.contains(&format!("Usage: x8 {command}")),
            "{}",
            out.stdout
        );
    }
    // No arguments: the help, as a usage error.
    X8::bare().run().code(2);
}

#[test]
fn verbose_tells_what_happens_on_stderr_without_secrets() {
    let emu = emulator();
    let out = X8::on(&emu).args(["-vv", "get", QUEUES]).run();
    out.ok()
        .stderr_has("fetched a token")
        .stderr_has("HTTP/1.1 200 OK");
    assert!(out.json().is_array());
}

#[test]
fn a_closed_stdout_exits_1_even_for_help() {
    // `>&-` closes fd 1; Rust's runtime would quietly reopen it on /dev/null.
    let emu = emulator();
    for args in ["--help", "--version", "token"] {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" {args} >&-"))
            .arg(env!("CARGO_BIN_EXE_x8"))
            .env_clear()
            .env("X8_CLIENT_ID", ID)
            .env("X8_CLIENT_SECRET", SECRET)
            .env("X8_BASE_URL", emu.base_url())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args}: {stderr}");
        assert!(stderr.contains("stdout"), "{args}: {stderr}");
    }
    assert_eq!(
        emu.stats().tokens_issued,
        1,
        "the token was fetched, then could not be printed"
    );
    // Redirected to /dev/null on purpose is fine.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_x8"))
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}
