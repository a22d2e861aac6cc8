//! `x8 token`, `x8 products` and `x8 check`: what the key's current token is and what it is good for.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::args::{CheckArgs, ProductsArgs, TokenArgs};
use crate::exit::{Exit, Failure};
use crate::out::write_stdout;

/// `x8 token --json`. Field order is fixed (a struct, not a map) so people reading it see the token first.
#[derive(Serialize)]
struct TokenJson<'a> {
    access_token: &'a str,
    /// As the endpoint sent it ("BearerToken" for 8x8).
    token_type: &'a str,
    /// The scheme x8 sends it with: `Authorization: Bearer <token>`, whatever `token_type` says.
    scheme: &'static str,
    expires_at: String,
    expires_at_ms: i64,
    seconds_left: i64,
    products: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    stats: Option<x8::StatsSnapshot>,
}

/// `2023-05-02T16:33:01.383Z` (UTC, milliseconds) for an epoch-milliseconds instant; jiff's range (years -9999 to
/// 9999) covers every instant a token can expire at, and one outside it prints as the raw number.
fn rfc3339_ms(epoch_ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(epoch_ms) {
        Ok(at) => format!("{at:.3}"),
        Err(_) => epoch_ms.to_string(),
    }
}

pub fn token(client: &x8::Client, args: &TokenArgs) -> Result<(), Failure> {
    let token = client.token(None)?;
    if !args.json {
        return write_stdout(&[token.access_token().as_bytes(), b"\n"]);
    }
    let expires_at_ms = token.expires_at_wall_ms();
    let json = TokenJson {
        access_token: token.access_token(),
        token_type: token.token_type(),
        scheme: "Bearer",
        expires_at: rfc3339_ms(expires_at_ms),
        expires_at_ms,
        seconds_left: ((expires_at_ms - now_ms()) / 1000).max(0),
        products: token.products(),
        // Read after the token call, so the counters include the fetch this command made.
        stats: args.stats.then(|| client.stats()),
    };
    let text = serde_json::to_string_pretty(&json)
        .map_err(|e| Failure::new(Exit::Other, format!("cannot write JSON: {e}")))?;
    write_stdout(&[text.as_bytes(), b"\n"])
}

pub fn products(client: &x8::Client, args: &ProductsArgs) -> Result<(), Failure> {
    let token = client.token(None)?;
    let text = if args.json {
        serde_json::to_string(token.products())
            .map_err(|e| Failure::new(Exit::Other, format!("cannot write JSON: {e}")))?
            + "\n"
    } else {
        token.products().iter().map(|p| format!("{p}\n")).collect()
    };
    write_stdout(&[text.as_bytes()])
}

/// Silent on success, like `test`: scripts branch on the exit code.
pub fn check(client: &x8::Client, args: &CheckArgs) -> Result<(), Failure> {
    let token = client.token(None)?;
    let missing: Vec<&str> = args
        .products
        .iter()
        .map(String::as_str)
        .filter(|p| !token.has_product(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let carried = if token.products().is_empty() {
        "no products".to_owned()
    } else {
        format!("only [{}]", token.products().join(", "))
    };
    Err(Failure::new(
        Exit::ProductMissing,
        format!(
            "the key's token does not carry {}; it carries {carried}. Add the product to the key in 8x8 Admin \
             Console; new tokens carry it after a few minutes",
            missing
                .iter()
                .map(|p| format!("{p:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::rfc3339_ms;

    #[test]
    fn expiry_is_rfc3339_in_utc_with_milliseconds() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        // The seed document's issued_at.
        assert_eq!(rfc3339_ms(1_683_045_181_383), "2023-05-02T16:33:01.383Z");
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_ms(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_ms(i64::MAX), i64::MAX.to_string());
    }
}
