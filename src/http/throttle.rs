//! When a request answered 429 (too many requests) or 503 (unavailable) may go again, and after how long:
//! `Retry-After` when the server gives one (seconds or an HTTP date), else exponential backoff with jitter.
//! Shared by the token endpoint's retries and the opt-in API retries.

use std::time::Duration;

use super::{method_is_idempotent, Response};
use crate::rt::clock::Deadline;

/// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3). A date in the past means "now".
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(24 * 3600)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries from many
/// processes spread out without any of them retrying at once.
pub fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(16)).min(max);
    let half = exp / 2;
    half + half.mul_f64(fastrand::f64())
}

/// The API retry policy of a client (`Options::api_retries` and the backoff delays).
#[derive(Clone, Copy, Debug)]
pub struct ApiRetries {
    pub max: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl ApiRetries {
    /// How long to wait before sending `method` again after `reply`, on retry number `attempt` (0 for the
    /// first), or None to hand the reply out: not a 429/503, not idempotent (POST and PATCH never go twice),
    /// no retries left, or a wait that would pass the deadline (the caller then gets the 429 at once instead
    /// of a timeout later).
    pub fn wait_before_retry(
        &self,
        method: &str,
        reply: &Response,
        attempt: u32,
        deadline: Deadline,
    ) -> Option<Duration> {
        if attempt >= self.max
            || !matches!(reply.status, 429 | 503)
            || !method_is_idempotent(method)
        {
            return None;
        }
        let wait = reply
            .header("retry-after")
            .and_then(parse_retry_after)
            .unwrap_or_else(|| backoff(self.base_delay, self.max_delay, attempt));
        (wait < deadline.remaining()).then_some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        let future =
            httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(120));
        let d = parse_retry_after(&future).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    fn reply(status: u16, retry_after: Option<&str>) -> Response {
        Response {
            status,
            headers: retry_after
                .map(|v| vec![("retry-after".to_owned(), v.to_owned())])
                .unwrap_or_default(),
            body: Vec::new(),
        }
    }

    #[test]
    fn only_idempotent_429s_and_503s_within_the_count_and_the_deadline_are_retried() {
        let r = ApiRetries {
            max: 2,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        let d = Deadline::after(Duration::from_secs(10));
        let throttled = reply(429, Some("1"));
        assert_eq!(
            r.wait_before_retry("GET", &throttled, 0, d),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            r.wait_before_retry("DELETE", &throttled, 1, d),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            r.wait_before_retry("GET", &throttled, 2, d),
            None,
            "count used up"
        );
        assert_eq!(r.wait_before_retry("POST", &throttled, 0, d), None);
        assert_eq!(r.wait_before_retry("PATCH", &throttled, 0, d), None);
        assert_eq!(
            r.wait_before_retry("GET", &reply(500, Some("1")), 0, d),
            None
        );
        let backed_off = r.wait_before_retry("GET", &reply(503, None), 0, d).unwrap();
        assert!(
            backed_off >= Duration::from_millis(50) && backed_off <= Duration::from_millis(100)
        );
        let short = Deadline::after(Duration::from_millis(500));
        assert_eq!(
            r.wait_before_retry("GET", &throttled, 0, short),
            None,
            "past the deadline"
        );
        let off = ApiRetries { max: 0, ..r };
        assert_eq!(off.wait_before_retry("GET", &throttled, 0, d), None);
    }
}
