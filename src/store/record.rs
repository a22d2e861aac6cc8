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

/// The most a record may hold: a token of `MAX_TOKEN_LEN` and its products fit many times over. Anything
/// larger (a 60 MB Redis value, `/dev/zero`) is not a record, and no store reads further than this.
pub(crate) const MAX_RECORD_BYTES: usize = 64 * 1024;

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

/// The longest lifetime a stored record may claim before this client has fetched a token itself (and so
/// knows what the endpoint grants): 8x8 grants 30 minutes.
pub(crate) const DEFAULT_LIFETIME_CAP_SECS: u64 = 24 * 3600;

/// Why a stored token is not taken.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unusable {
    /// Too little life left: the normal end of a shared token, replaced without a word.
    Expiring,
    /// A record no honest writer makes: received in the future or before its lifetime began, or a lifetime
    /// longer than this endpoint grants. Whoever can write the store could otherwise pin their own token for
    /// the victim (a receipt time of `i64::MIN` once gave it 290 million years). Warned about and replaced.
    Implausible(String),
}

/// `token` as a cache entry, if the record is plausible and has enough life left at wall-clock `now`: it was
/// received within [now − lifetime, now + skew margin], its lifetime is at most `max_lifetime_secs`, and more
/// than its refresh margin (a fifth of a short lifetime) plus the skew margin is left. Every sum and difference
/// of times from the record is checked: they come from outside.
pub(crate) fn usable(
    token: Token,
    now: i64,
    refresh_margin_ms: i64,
    max_lifetime_secs: u64,
) -> Result<Fetched, Unusable> {
    let lifetime = token.lifetime_secs();
    if lifetime > max_lifetime_secs {
        return Err(Unusable::Implausible(format!(
            "it claims a lifetime of {lifetime} s, longer than the {max_lifetime_secs} s this endpoint grants"
        )));
    }
    let lifetime_ms = (lifetime as i64).saturating_mul(1000);
    let received = token.received_wall_ms();
    let plausible = now
        .checked_sub(lifetime_ms)
        .zip(now.checked_add(SKEW_MARGIN_MS))
        .is_some_and(|(earliest, latest)| (earliest..=latest).contains(&received));
    if !plausible {
        return Err(Unusable::Implausible(format!(
            "its receipt time {received} (epoch ms) is not within its lifetime before now ({now}) or the skew margin after it"
        )));
    }
    // Both are within a lifetime (≤ 24 h by default, ≤ 10 years ever) of `now`: no overflow from here on.
    let left = received + lifetime_ms - now;
    let margin = refresh_margin_ms.min((lifetime as i64).saturating_mul(200)) + SKEW_MARGIN_MS;
    if left <= margin {
        return Err(Unusable::Expiring);
    }
    Ok(Fetched {
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
        let cap = DEFAULT_LIFETIME_CAP_SECS;
        let t =
            |received| Token::new("a".into(), "B".into(), vec![], 1799, None, received).unwrap();
        let fresh = usable(t(now), now, 300_000, cap).unwrap();
        assert_eq!(fresh.valid_for_ms, 1_799_000 - 30_000);
        // 330 s left is not more than margin + skew.
        assert!(matches!(
            usable(t(now - 1_469_000), now, 300_000, cap),
            Err(Unusable::Expiring)
        ));
        assert!(usable(t(now - 1_468_000), now, 300_000, cap).is_ok());
        // Received a minute in the future: a clock not to trust.
        assert!(matches!(
            usable(t(now + 60_000), now, 300_000, cap),
            Err(Unusable::Implausible(_))
        ));
    }

    #[test]
    fn extreme_times_and_lifetimes_are_refused_without_overflow() {
        let now = 1_800_000_000_000; // 2027, epoch ms
        let t = |lifetime, received| {
            Token::new("a".into(), "B".into(), vec![], lifetime, None, received).unwrap()
        };
        let implausible = |r: Result<Fetched, Unusable>| matches!(r, Err(Unusable::Implausible(_)));
        for received in [
            i64::MIN,
            i64::MIN + 1,
            -1,
            0,
            now - 1_800_001,
            i64::MAX,
            now + 30_001,
        ] {
            assert!(
                implausible(usable(t(1800, received), now, 300_000, 1800)),
                "{received}"
            );
        }
        // Ten years, the most a token may say: longer than this endpoint grants, or than 24 h unseen.
        let ten_years = 10 * 365 * 24 * 3600;
        assert!(implausible(usable(t(ten_years, now), now, 300_000, 1800)));
        assert!(implausible(usable(
            t(ten_years, now),
            now,
            300_000,
            DEFAULT_LIFETIME_CAP_SECS
        )));
        assert!(implausible(usable(
            t(90_000, now),
            now,
            300_000,
            DEFAULT_LIFETIME_CAP_SECS
        )));
        // Extreme clocks on our side do not overflow either.
        for clock in [i64::MIN, i64::MAX, 0] {
            let _ = usable(t(1800, now), clock, i64::MAX, 1800);
        }
        assert!(usable(t(1800, now - 1_000), now, 300_000, 1800).is_ok());
    }
}
