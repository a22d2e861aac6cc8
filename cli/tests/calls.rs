//! `x8 get` and `x8 request`: bodies, headers, --include, HTTP errors and --all-pages.

mod common;
use common::*;

#[test]
fn get_prints_the_body_and_only_the_body() {
    let emu = emulator();
    let out = X8::on(&emu).args(["get", QUEUES]).run();
    out.ok();
    assert_eq!(out.stderr, "");
    let queues = out.json();
    assert_eq!(queues.as_array().unwrap().len(), 7);
    assert_eq!(queues[0]["name"], "Support EN");
}

#[test]
fn include_prints_the_status_line_and_headers_first() {
    let emu = emulator();
    let out = X8::on(&emu)
        .args(["get", &format!("{QUEUES}?size=3"), "--include"])
        .run();
    out.ok();
    let (head, body) = out
        .stdout
        .split_once("\n\n")
        .expect("a blank line ends the head");
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("HTTP/1.1 200 OK"));
    assert!(
        lines.any(|l| l.eq_ignore_ascii_case("x-total-pages: 3")),
        "{head}"
    );
    let items: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(items.as_array().unwrap().len(), 3);
}

#[test]
fn http_errors_exit_6_with_status_and_body_on_stderr() {
    let emu = emulator();
    X8::on(&emu)
        .args(["get", &format!("{QUEUES}/999")])
        .run()
        .code(6)
        .no_stdout()
        .stderr_has("404 Not Found")
        .stderr_has("Not found: queue 999");
    // With --include the head is still data on stdout; the body stays on stderr.
    let out = X8::on(&emu)
        .args(["get", &format!("{QUEUES}?size=5000"), "-i"])
        .run();
    out.code(6)
        .stderr_has("400 Bad Request")
        .stderr_has("less than or equal to 1000");
    assert!(
        out.stdout.starts_with("HTTP/1.1 400 Bad Request\n"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("less than"), "{}", out.stdout);
    // A server error is an HTTP status too (not a network failure).
    emu.push_fault(
        FaultTarget::Api,
        Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
        1,
    );
    X8::on(&emu)
        .args(["get", QUEUES])
        .run()
        .code(6)
        .stderr_has("503");
}

#[test]
fn a_key_without_the_apis_product_exits_7() {
    let emu = emulator();
    X8::on(&emu)
        .env("X8_CLIENT_ID", BARE_ID)
        .env("X8_CLIENT_SECRET", BARE_SECRET)
        .args(["get", QUEUES])
        .run()
        .code(7)
        .no_stdout()
        .stderr_has("no API product match");
}

#[test]
fn request_sends_method_headers_and_a_literal_body() {
    let emu = emulator();
    let out = X8::on(&emu)
        .args([
            "request",
            "post",
            "/echo/things?x=1",
            "--data",
            r#"{"a":1}"#,
        ])
        .args(["-H", "X-Tenant-Info: acme", "-H", "Accept:application/json"])
        .run();
    out.ok();
    let echo = out.json();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/echo/things");
    assert_eq!(echo["query"], "x=1");
    assert_eq!(echo["body"], r#"{"a":1}"#);
    assert_eq!(echo["client_id"], ID);
    let headers = &echo["headers"];
    assert_eq!(headers["x-tenant-info"], "acme");
    assert_eq!(headers["accept"], "application/json");
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers["authorization"]
        .as_str()
        .unwrap()
        .starts_with("Bearer "));
}

#[test]
fn request_reads_the_body_from_a_file_or_stdin() {
    let emu = emulator();
    let x8 = X8::on(&emu);
    let file = x8.home().join("body.txt");
    std::fs::write(&file, "from a file").unwrap();
    let arg = format!("@{}", file.display());
    let out = x8
        .args([
            "request",
            "PUT",
            "/echo/f",
            "-d",
            &arg,
            "-H",
            "Content-Type: text/plain",
        ])
        .run();
    out.ok();
    assert_eq!(out.json()["body"], "from a file");
    assert_eq!(out.json()["headers"]["content-type"], "text/plain");

    for dash in ["-", "@-"] {
        let out = X8::on(&emu)
            .args(["request", "PATCH", "/echo/s", "--data", dash])
            .stdin(b"from stdin")
            .run();
        out.ok();
        assert_eq!(out.json()["body"], "from stdin");
        assert_eq!(out.json()["method"], "PATCH");
    }
}

#[test]
fn all_pages_joins_every_page_into_one_array() {
    let emu = emulator();
    let out = X8::on(&emu)
        .args(["get", &format!("{QUEUES}?size=3"), "--all-pages"])
        .run();
    out.ok();
    // Not a terminal: no progress line.
    assert_eq!(out.stderr, "");
    let ids: Vec<String> = out
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["103", "104", "105", "106", "107", "108", "109"]);
    assert_eq!(emu.stats().api_requests, 3);

    // Starting from the page asked for.
    let out = X8::on(&emu)
        .args(["get", &format!("{QUEUES}?page=1&size=3"), "--all-pages"])
        .run();
    out.ok();
    assert_eq!(out.json().as_array().unwrap().len(), 4);

    // An endpoint that answers one object is no listing.
    X8::on(&emu)
        .args(["get", &format!("{QUEUES}/103"), "--all-pages"])
        .run()
        .code(5)
        .no_stdout()
        .stderr_has("no content, data or items array");
}

#[test]
fn all_pages_fails_whole_when_a_page_fails() {
    let emu = emulator();
    // The second page's request gets a 500: nothing partial reaches stdout.
    emu.push_fault(FaultTarget::Api, Fault::Delay { ms: 0 }, 1);
    emu.push_fault(
        FaultTarget::Api,
        Fault::Raw {
            status: 500,
            content_type: "application/json".into(),
            body: r#"{"message":"boom"}"#.into(),
        },
        1,
    );
    X8::on(&emu)
        .args(["get", &format!("{QUEUES}?size=3"), "--all-pages"])
        .run()
        .code(6)
        .no_stdout()
        .stderr_has("page=1")
        .stderr_has("boom");
}

#[test]
fn all_pages_shows_progress_when_stderr_is_a_terminal() {
    // `script` (util-linux) runs the command on a pseudo-terminal.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: `script` is not installed");
        return;
    }
    let emu = emulator();
    let command = format!(
        "'{}' get '{QUEUES}?size=2' --all-pages",
        env!("CARGO_BIN_EXE_x8")
    );
    let out = X8::on(&emu)
        // A terminal that says what it is: with no TERM (or TERM=dumb) the bar is not drawn, as for curl.
        .env("TERM", "xterm")
        .run_program("script", &["-qec", &command, "/dev/null"]);
    out.ok();
    assert!(
        out.stdout.contains("fetched page 3 of 4"),
        "{:?}",
        out.stdout
    );
    assert!(out.stdout.contains(r#""id":"109""#), "{:?}", out.stdout);
}

#[test]
fn include_and_all_pages_do_not_mix() {
    let emu = emulator();
    X8::on(&emu)
        .args(["get", QUEUES, "--all-pages", "--include"])
        .run()
        .code(2);
    assert_eq!(emu.stats().token_requests, 0);
}

#[test]
fn all_pages_waits_out_a_429_and_the_rate_limit_spreads_the_pages() {
    let emu = emulator();
    // The second page is throttled once: --all-pages retries it after its Retry-After.
    emu.push_fault(FaultTarget::Api, Fault::Delay { ms: 0 }, 1);
    emu.push_fault(
        FaultTarget::Api,
        Fault::Status {
            status: 429,
            retry_after: Some("1".into()),
            body: None,
        },
        1,
    );
    let started = std::time::Instant::now();
    let out = X8::on(&emu)
        .args([
            "get",
            &format!("{QUEUES}?size=3"),
            "--all-pages",
            "--rate-limit",
            "2/1",
        ])
        .run();
    out.ok();
    assert_eq!(out.json().as_array().unwrap().len(), 7);
    assert_eq!(emu.stats().api_requests, 4, "three pages and one retry");
    // Four requests at two a second, one of them after a Retry-After of 1 s.
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));

    // Without --all-pages a 429 is the answer (exit 6), unless retries are asked for.
    emu.push_fault(
        FaultTarget::Api,
        Fault::Status {
            status: 429,
            retry_after: Some("0".into()),
            body: None,
        },
        1,
    );
    X8::on(&emu).args(["get", QUEUES]).run().code(6);
    emu.push_fault(
        FaultTarget::Api,
        Fault::Status {
            status: 429,
            retry_after: Some("0".into()),
            body: None,
        },
        1,
    );
    X8::on(&emu)
        .args(["get", QUEUES, "--api-retries", "1"])
        .run()
        .ok();
    X8::on(&emu)
        .args(["get", QUEUES, "--rate-limit", "ten"])
        .run()
        .code(2)
        .stderr_has("REQUESTS/SECONDS");
}
