//! `x8 token`, `x8 products`, `x8 check`.

mod common;
use common::*;

#[test]
fn token_prints_the_token_and_nothing_else() {
    let emu = emulator();
    let out = X8::on(&emu).args(["token"]).run();
    out.ok();
    assert_eq!(out.stderr, "");
    let token = out.stdout.strip_suffix('\n').expect("one line");
    assert!(
        !token.is_empty() && token.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{token:?}"
    );
    assert_eq!(emu.stats().tokens_issued, 1);
}

#[test]
fn token_json_has_expiry_type_and_products() {
    let emu = emulator();
    let out = X8::on(&emu).args(["token", "--json"]).run();
    out.ok();
    let v = out.json();
    assert!(v["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(v["token_type"], "BearerToken");
    assert_eq!(
        v["scheme"], "Bearer",
        "the scheme x8 sends, beside what 8x8 calls it"
    );
    assert_eq!(v["products"], serde_json::json!(OAUTH_PRODUCTS));
    let left = v["seconds_left"].as_i64().unwrap();
    assert!((1790..=1799).contains(&left), "{left}");
    let at_ms = v["expires_at_ms"].as_i64().unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (at_ms - now_ms - 1_799_000).abs() < 10_000,
        "{at_ms} vs {now_ms}"
    );
    // RFC 3339 in UTC with milliseconds, and the same instant as expires_at_ms.
    let at = v["expires_at"].as_str().unwrap();
    assert_eq!(at.len(), "2023-05-02T16:33:01.383Z".len(), "{at}");
    assert!(at.ends_with('Z') && at.as_bytes()[10] == b'T', "{at}");
    assert!(
        at.ends_with(&format!(".{:03}Z", at_ms % 1000)),
        "{at} vs {at_ms}"
    );
    assert!(v.get("stats").is_none());
}

#[test]
fn token_json_stats_adds_the_clients_counters() {
    let emu = emulator();
    let out = X8::on(&emu).args(["token", "--json", "--stats"]).run();
    out.ok();
    let stats = &out.json()["stats"];
    assert_eq!(stats["token_fetches"], 1);
    assert_eq!(stats["failures_auth"], 0);
    assert!(stats["token_seconds_left"].as_i64().unwrap() > 0);

    // --stats means nothing without --json.
    X8::on(&emu)
        .args(["token", "--stats"])
        .run()
        .code(2)
        .no_stdout()
        .stderr_has("--json");
}

#[test]
fn products_lists_one_per_line_or_as_json() {
    let emu = emulator();
    let out = X8::on(&emu).args(["products"]).run();
    out.ok();
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), OAUTH_PRODUCTS);
    let out = X8::on(&emu).args(["products", "--json"]).run();
    out.ok();
    assert_eq!(out.json(), serde_json::json!(OAUTH_PRODUCTS));

    let bare = X8::on(&emu)
        .env("X8_CLIENT_ID", BARE_ID)
        .env("X8_CLIENT_SECRET", BARE_SECRET)
        .args(["products"])
        .run();
    bare.ok().no_stdout();
}

#[test]
fn check_exits_0_when_every_product_is_carried() {
    let emu = emulator();
    let out = X8::on(&emu)
        .args(["check", "analytics realtime-api", "STORAGE", " vcc "])
        .run();
    out.ok().no_stdout();
    assert_eq!(out.stderr, "");
}

#[test]
fn check_exits_7_naming_what_is_missing() {
    let emu = emulator();
    X8::on(&emu)
        .args(["check", "storage", "Chat"])
        .run()
        .code(7)
        .no_stdout()
        .stderr_has("\"Chat\"")
        .stderr_has("QM - API");
    X8::on(&emu)
        .env("X8_CLIENT_ID", BARE_ID)
        .env("X8_CLIENT_SECRET", BARE_SECRET)
        .args(["check", "storage"])
        .run()
        .code(7)
        .stderr_has("no products");
    // A product is required.
    X8::on(&emu).args(["check"]).run().code(2);
}
