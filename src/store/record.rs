//! The stored form of a token, the same in every store, and the rule for when a stored token may be taken.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::SKEW_MARGIN_MS;
use crate::token::{Fetched, Token};

/// The stored form of a token: JSON, the same in every store. No secret: only what the token endpoint sent
/// back, and when (on the writer's wall clock) it arrived.
#[derive(Serialize, Deserialize)]
struct Record {
    format: u32,
    access_token: String,
    token_type: String,
    products: Vec<String>,
    lifetime_secs: u64,
    issued_at_ms: Option<i64>,
    received_wall_ms: i64,
}

const FORMAT: u32 = 1;

/// The record for `token`. Wiped from memory when dropped, like the token itself.
pub(crate) fn encode(token: &Token) -> Zeroizing<String> {
    let record = Record {
        format: FORMAT,
        access_token: token.access_token().to_owned(),
        token_type: token.token_type().to_owned(),
        products: token.products().to_vec(),
        lifetime_secs: token.lifetime_secs(),
        issued_at_ms: token.issued_at_ms(),
        received_wall_ms: token.received_wall_ms(),
    };
    // Serialising plain strings and numbers cannot fail.
    let text = Zeroizing::new(serde_json::to_string(&record).unwrap_or_default());
    drop(Zeroizing::new(record.access_token));
    text
}

/// What a stored record holds.
#[derive(Debug)]
pub(crate) enum Decoded {
    Token(Token),
    /// Written by another version of x8 in a format this one does not know: left alone, not a failure.
    OtherFormat,
    /// Not a record at all, or one whose token is not acceptable.
    Corrupt,
}

pub(crate) fn decode(text: &str) -> Decoded {
    #[derive(Deserialize)]
    struct Version {
        format: u32,
    }
    match serde_json::from_str::<Version>(text) {
        Ok(v) if v.format != FORMAT => return Decoded::OtherFormat,
        Ok(_) => {}
        Err(_) => return Decoded::Corrupt,
    }
    let Ok(record) = serde_json::from_str::<Record>(text) else {
        return Decoded::Corrupt;
    };
    match Token::new(
        record.access_token,
        record.token_type,
        record.products,
        record.lifetime_secs,
        record.issued_at_ms,
        record.received_wall_ms,
    ) {
        Ok(token) => Decoded::Token(token),
        Err(_) => Decoded::Corrupt,
    }
}

/// `token` as a cache entry if it has enough life left at wall-clock `now`: more than its refresh margin (a
/// fifth of a short lifetime) plus the skew margin. A token whose receipt lies in the future was written by a
/// clock that cannot be trusted.
pub(crate) fn usable(token: Token, now: i64, refresh_margin_ms: i64) -> Option<Fetched> {
    let left = token.expires_at_wall_ms() - now;
    let margin = refresh_margin_ms.min(token.lifetime_secs() as i64 * 200) + SKEW_MARGIN_MS;
    if left <= margin || token.received_wall_ms() > now + SKEW_MARGIN_MS {
        return None;
    }
    Some(Fetched {
        token,
        valid_for_ms: (left - SKEW_MARGIN_MS) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_hold_no_more_than_the_token() {
        let token = Token::new(
            "abc".into(),
            "BearerToken".into(),
            vec!["vcc".into()],
            1799,
            Some(5),
            1_000,
        )
        .unwrap();
        let text = encode(&token);
        let Decoded::Token(back) = decode(&text) else {
            panic!("{}", *text)
        };
        assert_eq!(back.access_token(), "abc");
        assert_eq!(back.products(), ["vcc"]);
        assert_eq!(back.issued_at_ms(), Some(5));
        assert_eq!(back.received_wall_ms(), 1_000);
        assert!(matches!(
            decode(r#"{"format":2,"anything":1}"#),
            Decoded::OtherFormat
        ));
        assert!(matches!(decode("{\"format\":1,\"acc"), Decoded::Corrupt));
        let bad_token = text.replace("abc", "a\\r\\nb");
        assert!(matches!(decode(&bad_token), Decoded::Corrupt));
    }

    #[test]
    fn a_token_needs_its_margins_of_life_left() {
        let now = 10_000_000;
        let t =
            |received| Token::new("a".into(), "B".into(), vec![], 1799, None, received).unwrap();
        let fresh = usable(t(now), now, 300_000).unwrap();
        assert_eq!(fresh.valid_for_ms, 1_799_000 - 30_000);
        // 330 s left is not more than margin + skew.
        assert!(usable(t(now - 1_469_000), now, 300_000).is_none());
        assert!(usable(t(now - 1_468_000), now, 300_000).is_some());
        // Received a minute in the future: a clock not to trust.
        assert!(usable(t(now + 60_000), now, 300_000).is_none());
    }
}
