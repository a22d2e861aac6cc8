//! Misbehaviour injected on demand, so a client's error paths can be tested deterministically.

use crate::apigee;
use crate::http::{Body, Incoming, Reply};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

const TARGETS: usize = 3;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultTarget {
    /// `POST /oauth/v2/token`.
    #[default]
    Token,
    /// Every emulated API (realtime, historical, storage, QM, vcc), `/echo/` and `/upload/`.
    Api,
    /// The second origin, which serves presigned URLs.
    Presigned,
}

/// Which requests of its target a fault is for; the default matches all of them. With several
/// queued faults, a request gets the first one that matches it, so "fail page 2 once" can wait
/// behind no other fault.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultMatch {
    /// The request's path contains this.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// The request's query has every one of these parameters with exactly this (decoded) value.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
}

impl FaultMatch {
    pub fn path_contains(part: &str) -> FaultMatch {
        FaultMatch {
            path_contains: Some(part.to_string()),
            ..FaultMatch::default()
        }
    }

    pub fn with_query(mut self, name: &str, value: &str) -> FaultMatch {
        self.query.insert(name.to_string(), value.to_string());
        self
    }

    fn matches(&self, req: &Incoming) -> bool {
        if let Some(part) = &self.path_contains {
            if !req.path.contains(part.as_str()) {
                return false;
            }
        }
        self.query
            .iter()
            .all(|(name, value)| req.query_pairs().any(|(k, v)| &k == name && &v == value))
    }
}

/// Tagged by `kind` so the admin endpoint takes e.g. `{"kind":"delay","ms":2000}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Fault {
    /// An error status; without `body`, the body a gateway would send with that status.
    /// `retry_after` is sent verbatim: delay seconds ("2") or an HTTP date.
    Status {
        status: u16,
        #[serde(default)]
        retry_after: Option<String>,
        #[serde(default)]
        body: Option<String>,
    },
    /// Exactly this reply: malformed or wrong-typed token replies, Apigee faults with any status.
    Raw {
        status: u16,
        #[serde(default = "json_content_type")]
        content_type: String,
        #[serde(default)]
        body: String,
    },
    /// An error status whose `Retry-After` is the HTTP date `secs` seconds after the fault is
    /// served, which a test could not write in advance.
    #[serde(rename = "retry_at_date")]
    RetryAtDate {
        status: u16,
        secs: u64,
        #[serde(default)]
        body: Option<String>,
    },
    /// Waits, then answers normally.
    Delay { ms: u64 },
    /// No reply: the connection is shut down.
    Close,
    /// 200 with a body that never ends.
    Endless,
    /// 200 with a body of this many bytes (and a Content-Length saying so).
    Oversized { bytes: u64 },
}

fn json_content_type() -> String {
    "application/json".to_string()
}

impl Fault {
    /// The reply that replaces normal processing, or None for a fault that only delays it.
    pub(crate) fn reply(&self) -> Option<Reply> {
        Some(match self {
            Fault::Status {
                status,
                retry_after,
                body,
            } => {
                let body = body.clone().unwrap_or_else(|| gateway_body(*status));
                let reply = Reply::raw(*status, "application/json", body);
                match retry_after {
                    Some(v) => reply.header("Retry-After", v.clone()),
                    None => reply,
                }
            }
            Fault::RetryAtDate { status, secs, body } => {
                let at = SystemTime::now() + Duration::from_secs(*secs);
                let body = body.clone().unwrap_or_else(|| gateway_body(*status));
                Reply::raw(*status, "application/json", body)
                    .header("Retry-After", httpdate::fmt_http_date(at))
            }
            Fault::Raw {
                status,
                content_type,
                body,
            } => Reply::raw(*status, content_type, body.clone()),
            Fault::Delay { .. } => return None,
            Fault::Close => Reply::generated(Body::Close),
            Fault::Endless => Reply::generated(Body::Endless),
            Fault::Oversized { bytes } => Reply::generated(Body::Sized(*bytes)),
        })
    }
}

/// Apigee's fault bodies for the statuses a client must retry or give up on.
fn gateway_body(status: u16) -> String {
    let (faultstring, errorcode) = match status {
        429 => (
            "Rate limit quota violation. Quota limit exceeded.",
            "policies.ratelimit.QuotaViolation",
        ),
        502 => ("Bad Gateway", "messaging.adaptors.http.flow.BadGateway"),
        503 => (
            "The Service is temporarily unavailable",
            "messaging.adaptors.http.flow.ServiceUnavailable",
        ),
        504 => (
            "Gateway Timeout",
            "messaging.adaptors.http.flow.GatewayTimeout",
        ),
        _ => ("Internal Server Error", "messaging.runtime.UnknownError"),
    };
    apigee::fault(faultstring, errorcode)
}

struct Pending {
    fault: Fault,
    left: u32,
    matcher: FaultMatch,
}

type Queues = [VecDeque<Pending>; TARGETS];

/// Faults waiting for the next requests to each target, served in the order pushed.
#[derive(Default)]
pub(crate) struct FaultQueues {
    queues: Mutex<Queues>,
}

impl FaultQueues {
    pub(crate) fn push(&self, target: FaultTarget, fault: Fault, count: u32, matcher: FaultMatch) {
        if count > 0 {
            self.lock()[index(target)].push_back(Pending {
                fault,
                left: count,
                matcher,
            });
        }
    }

    /// The first pending fault of `target` that matches `req`, counted down.
    pub(crate) fn next(&self, target: FaultTarget, req: &Incoming) -> Option<Fault> {
        let mut queues = self.lock();
        let queue = &mut queues[index(target)];
        let at = queue.iter().position(|p| p.matcher.matches(req))?;
        let pending = &mut queue[at];
        let fault = pending.fault.clone();
        pending.left -= 1;
        if pending.left == 0 {
            queue.remove(at);
        }
        Some(fault)
    }

    pub(crate) fn clear(&self) {
        self.lock().iter_mut().for_each(VecDeque::clear);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn index(target: FaultTarget) -> usize {
    match target {
        FaultTarget::Token => 0,
        FaultTarget::Api => 1,
        FaultTarget::Presigned => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, query: &str) -> Incoming {
        Incoming {
            method: "GET".into(),
            path: path.into(),
            query: query.into(),
            headers: Vec::new(),
            connection: 1,
        }
    }

    #[test]
    fn faults_are_served_in_order_and_count_down() {
        let q = FaultQueues::default();
        let any = request("/x", "");
        let all = FaultMatch::default;
        q.push(FaultTarget::Token, Fault::Close, 2, all());
        q.push(FaultTarget::Token, Fault::Endless, 1, all());
        q.push(FaultTarget::Api, Fault::Delay { ms: 1 }, 0, all());
        assert_eq!(q.next(FaultTarget::Token, &any), Some(Fault::Close));
        assert_eq!(q.next(FaultTarget::Token, &any), Some(Fault::Close));
        assert_eq!(q.next(FaultTarget::Token, &any), Some(Fault::Endless));
        assert_eq!(q.next(FaultTarget::Token, &any), None);
        assert_eq!(q.next(FaultTarget::Api, &any), None);
        q.push(FaultTarget::Api, Fault::Close, 3, all());
        q.clear();
        assert_eq!(q.next(FaultTarget::Api, &any), None);
    }

    #[test]
    fn a_matching_fault_waits_for_its_request_and_lets_others_pass() {
        let q = FaultQueues::default();
        let page2 = FaultMatch::path_contains("/data").with_query("page", "2");
        q.push(FaultTarget::Api, Fault::Close, 1, page2);
        q.push(FaultTarget::Api, Fault::Endless, 1, FaultMatch::default());
        let first = request("/r/1/data", "page=0&size=10");
        let second = request("/r/1/data", "size=10&page=2");
        assert_eq!(q.next(FaultTarget::Api, &first), Some(Fault::Endless));
        assert_eq!(q.next(FaultTarget::Api, &first), None);
        assert_eq!(q.next(FaultTarget::Api, &request("/r/1/x", "page=2")), None);
        assert_eq!(q.next(FaultTarget::Api, &second), Some(Fault::Close));
        assert_eq!(q.next(FaultTarget::Api, &second), None);
    }

    #[test]
    fn retry_at_date_sends_a_future_http_date() {
        let reply = Fault::RetryAtDate {
            status: 503,
            secs: 30,
            body: None,
        }
        .reply()
        .unwrap();
        let at = httpdate::parse_http_date(&reply.headers[0].1).unwrap();
        let ahead = at.duration_since(SystemTime::now()).unwrap();
        assert!(ahead > Duration::from_secs(25) && ahead <= Duration::from_secs(30));
    }

    #[test]
    fn faults_deserialize_by_kind() {
        let f: Fault =
            serde_json::from_str(r#"{"kind":"status","status":503,"retry_after":"1"}"#).unwrap();
        assert_eq!(
            f,
            Fault::Status {
                status: 503,
                retry_after: Some("1".into()),
                body: None
            }
        );
        let f: Fault = serde_json::from_str(r#"{"kind":"raw","status":200,"body":"{"}"#).unwrap();
        assert!(matches!(f, Fault::Raw { content_type, .. } if content_type == "application/json"));
        let f: Fault = serde_json::from_str(r#"{"kind":"oversized","bytes":10}"#).unwrap();
        assert_eq!(f, Fault::Oversized { bytes: 10 });
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"explode"}"#).is_err());
    }

    #[test]
    fn status_fault_defaults_to_a_gateway_body() {
        let reply = Fault::Status {
            status: 429,
            retry_after: Some("2".into()),
            body: None,
        }
        .reply()
        .unwrap();
        assert_eq!(reply.status, 429);
        assert_eq!(
            reply.headers,
            [("Retry-After".to_string(), "2".to_string())]
        );
        let Body::Bytes(body) = reply.body else {
            panic!("expected bytes")
        };
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v["fault"]["detail"]["errorcode"],
            "policies.ratelimit.QuotaViolation"
        );
    }
}
