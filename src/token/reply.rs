//! Parsing the token endpoint's reply.
//!
//! 8x8 sends every number as a string (`"expires_in": "1799"`, `"issued_at": "1683045181383"`) and the product
//! list twice (a bracketed string and a JSON array), while the Contact Center Chat spec's variant sends the list
//! as an array in `api_product_list`. RFC 6749 servers send numbers as numbers. We accept all of these and
//! nothing vaguer: a reply we cannot read with certainty is a protocol error, never a guess.

use serde_json::Value;

use super::{protocol, Token};
use crate::error::Result;

/// Parses a 2xx reply body. Error messages describe the shape, never quote the body: a truncated reply may still
/// hold most of a token.
pub fn parse_token_reply(body: &[u8], received_wall_ms: i64) -> Result<Token> {
    let mut value: Value = serde_json::from_slice(body).map_err(|e| {
        if body.iter().all(|b| b.is_ascii_whitespace()) {
            protocol("the body is empty")
        } else {
            protocol(format!(
                "the body is not JSON ({} bytes; {})",
                body.len(),
                json_error_position(&e)
            ))
        }
    })?;
    if !value.is_object() {
        return Err(protocol(format!(
            "expected a JSON object, got {}",
            kind_of(&value)
        )));
    }
    // The token is moved out of the parsed value, not copied: the value is not wiped when dropped, so it must
    // not keep one (and what is moved out is wiped, by `Token::new` or here on an error).
    let access_token = match value.as_object_mut().and_then(|o| o.remove("access_token")) {
        Some(Value::String(s)) => zeroize::Zeroizing::new(s),
        Some(other) => {
            return Err(protocol(format!(
                "access_token is {}, not a string",
                kind_of(&other)
            )))
        }
        None => return Err(protocol("access_token is missing")),
    };
    let Some(obj) = value.as_object() else {
        return Err(protocol("expected a JSON object"));
    };

    let token_type = match obj.get("token_type") {
        Some(Value::String(s)) if is_bearer_type(s) => s.clone(),
        Some(Value::String(s)) => {
            return Err(protocol(format!(
                "token_type {:?} is not a bearer type",
                crate::error::truncate_for_message(s, 40)
            )))
        }
        Some(other) => {
            return Err(protocol(format!(
                "token_type is {}, not a string",
                kind_of(other)
            )))
        }
        // RFC 6749 makes token_type required, but a missing one is harmless: we only ever send Bearer.
        None => "Bearer".to_owned(),
    };
    let lifetime_secs = match obj.get("expires_in") {
        Some(v) => integer_field("expires_in", v)?,
        None => return Err(protocol("expires_in is missing")),
    };
    if lifetime_secs <= 0 {
        return Err(protocol(format!(
            "expires_in is {lifetime_secs}; a token must live at least a second"
        )));
    }
    let issued_at_ms = match obj.get("issued_at") {
        Some(Value::Null) | None => None,
        Some(v) => Some(integer_field("issued_at", v)?),
    };
    let products = products_of(obj)?;
    let mut access_token = access_token;
    Token::new(
        std::mem::take(&mut *access_token),
        token_type,
        products,
        lifetime_secs as u64,
        issued_at_ms,
        received_wall_ms,
    )
}

fn is_bearer_type(s: &str) -> bool {
    s.eq_ignore_ascii_case("bearer") || s.eq_ignore_ascii_case("bearertoken")
}

/// A whole number sent as a JSON number or as a decimal string (8x8's habit).
fn integer_field(name: &str, v: &Value) -> Result<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| protocol(format!("{name} is not a whole number"))),
        Value::String(s) => s.trim().parse::<i64>().map_err(|_| {
            protocol(format!(
                "{name} {:?} is not a whole number",
                crate::error::truncate_for_message(s, 24)
            ))
        }),
        other => Err(protocol(format!(
            "{name} is {}, not a number",
            kind_of(other)
        ))),
    }
}

/// Products from `api_product_list_json` (the document's array), else `api_product_list` as an array (the Chat
/// spec's variant) or as the bracketed string `"[a, b]"`. A reply without any list has no products.
fn products_of(obj: &serde_json::Map<String, Value>) -> Result<Vec<String>> {
    if let Some(v) = obj.get("api_product_list_json") {
        if !v.is_null() {
            return string_array("api_product_list_json", v);
        }
    }
    match obj.get("api_product_list") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v @ Value::Array(_)) => string_array("api_product_list", v),
        Some(Value::String(s)) => Ok(parse_bracketed_list(s)),
        Some(other) => Err(protocol(format!("api_product_list is {}", kind_of(other)))),
    }
}

fn string_array(name: &str, v: &Value) -> Result<Vec<String>> {
    let items = v
        .as_array()
        .ok_or_else(|| protocol(format!("{name} is {}, not an array", kind_of(v))))?;
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.trim().to_owned()),
            other => Err(protocol(format!(
                "{name} holds {}, not strings",
                kind_of(other)
            ))),
        })
        .collect()
}

/// `"[CE-PCS-Product, QM - API, vcc]"` → `["CE-PCS-Product", "QM - API", "vcc"]`. Product names contain spaces
/// and dashes but not commas, so the comma is the only separator.
fn parse_bracketed_list(s: &str) -> Vec<String> {
    let inner = s.trim();
    let inner = inner.strip_prefix('[').unwrap_or(inner);
    let inner = inner.strip_suffix(']').unwrap_or(inner);
    inner
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde_json's syntax errors name a line and column and, for a few kinds, the offending text; keep only the
/// position so no part of the body leaks into the message.
fn json_error_position(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "truncated",
        serde_json::error::Category::Syntax => "syntax error",
        _ => "unreadable",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    const DOC_REPLY: &str = r#"{
        "access_token": "3yKcgVwWCJM14dXxKDBAEDGcythJ",
        "token_type": "BearerToken",
        "api_product_list": "[CE-PCS-Product, CE-RCS-Product, Chat, QM - API, analytics product, analytics realtime-api, chat-gateway, storage, vcc]",
        "status": "approved", "scope": "", "refresh_token_expires_in": "0",
        "expires_in": "1799", "refresh_count": "0", "developer.email": "deprecated",
        "issued_at": "1683045181383", "client_id": "deprecated",
        "api_product_list_json": ["QM - API", "analytics product", "analytics realtime-api"]
    }"#;

    fn parse(s: &str) -> Result<Token> {
        parse_token_reply(s.as_bytes(), 1_000_000)
    }

    #[test]
    fn parses_the_documented_reply() {
        let t = parse(DOC_REPLY).unwrap();
        assert_eq!(t.access_token(), "3yKcgVwWCJM14dXxKDBAEDGcythJ");
        assert_eq!(t.token_type(), "BearerToken");
        assert_eq!(t.lifetime_secs(), 1799);
        assert_eq!(t.issued_at_ms(), Some(1_683_045_181_383));
        // The JSON array wins over the bracketed string when both are present.
        assert_eq!(
            t.products(),
            ["QM - API", "analytics product", "analytics realtime-api"]
        );
        assert!(t.has_product("analytics realtime-api"));
        assert!(t.has_product(" Analytics Realtime-API "));
        assert!(!t.has_product("storage"));
        assert_eq!(t.expires_at_wall_ms(), 1_000_000 + 1_799_000);
    }

    #[test]
    fn parses_the_chat_spec_variant_with_an_array_list() {
        let t = parse(
            r#"{"access_token":"abc","token_type":"BearerToken","expires_in":"3600","issued_at":"1",
                "api_product_list":["vcc","storage"],"organization_name":"8x8gateway","application_name":"x"}"#,
        )
        .unwrap();
        assert_eq!(t.products(), ["vcc", "storage"]);
        assert_eq!(t.lifetime_secs(), 3600);
    }

    #[test]
    fn falls_back_to_the_bracketed_string() {
        let t = parse(r#"{"access_token":"abc","token_type":"Bearer","expires_in":60,"api_product_list":"[a, QM - API ,b]"}"#)
            .unwrap();
        assert_eq!(t.products(), ["a", "QM - API", "b"]);
        assert_eq!(t.issued_at_ms(), None);
    }

    #[test]
    fn accepts_numbers_as_numbers_and_any_bearer_case() {
        let t = parse(
            r#"{"access_token":"abc","token_type":"bearer","expires_in":1799.0,"issued_at":5}"#,
        )
        .unwrap();
        assert_eq!(t.lifetime_secs(), 1799);
        assert!(t.products().is_empty());
    }

    #[test]
    fn rejects_malformed_replies_with_protocol_errors() {
        let cases = [
            ("", "empty"),
            ("   ", "empty"),
            ("<html>", "not JSON"),
            (r#"{"access_token":"abcdef"#, "truncated"),
            ("[]", "JSON object"),
            (
                r#"{"token_type":"Bearer","expires_in":"1"}"#,
                "access_token is missing",
            ),
            (r#"{"access_token":7,"expires_in":"1"}"#, "not a string"),
            (r#"{"access_token":"","expires_in":"1"}"#, "empty"),
            (r#"{"access_token":"a b","expires_in":"1"}"#, "HTTP header"),
            (
                r#"{"access_token":"a\r\nX: y","expires_in":"1"}"#,
                "HTTP header",
            ),
            (r#"{"access_token":"abc"}"#, "expires_in is missing"),
            (
                r#"{"access_token":"abc","expires_in":"soon"}"#,
                "not a whole number",
            ),
            (
                r#"{"access_token":"abc","expires_in":"0"}"#,
                "at least a second",
            ),
            (
                r#"{"access_token":"abc","expires_in":-5}"#,
                "at least a second",
            ),
            (
                r#"{"access_token":"abc","expires_in":"99999999999999"}"#,
                "outside",
            ),
            (
                r#"{"access_token":"abc","expires_in":true}"#,
                "not a number",
            ),
            (
                r#"{"access_token":"abc","expires_in":"1","token_type":"mac"}"#,
                "not a bearer type",
            ),
            (
                r#"{"access_token":"abc","expires_in":"1","api_product_list_json":"x"}"#,
                "not an array",
            ),
            (
                r#"{"access_token":"abc","expires_in":"1","api_product_list_json":[1]}"#,
                "not strings",
            ),
            (
                r#"{"access_token":"abc","expires_in":"1","issued_at":"yesterday"}"#,
                "issued_at",
            ),
        ];
        for (body, expected) in cases {
            let err = parse(body).expect_err(body);
            assert_eq!(err.kind(), ErrorKind::Protocol, "{body}");
            assert!(
                err.message().contains(expected),
                "{body}: {}",
                err.message()
            );
        }
    }

    #[test]
    fn protocol_errors_never_quote_the_token() {
        let secretish = "SECRETTOKENVALUE1234567890";
        for body in [
            format!(r#"{{"access_token":"{secretish}"#),
            format!(r#"{{"access_token":"{secretish}","expires_in":"x"}}"#),
            format!(r#"{{"access_token":"{secretish}","expires_in":"1","token_type":7}}"#),
        ] {
            let err = parse(&body).unwrap_err();
            assert!(!err.message().contains(secretish), "{}", err.message());
        }
    }

    #[test]
    fn debug_output_redacts_the_token() {
        let t = parse(DOC_REPLY).unwrap();
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("3yKcgVwWCJM14dXxKDBAEDGcythJ"));
        assert!(dbg.contains("[redacted]"));
    }
}
