//! Misbehaviour injected on demand, so a client's error paths can be tested deterministically.

use crate::apigee;
use crate::http::{Body, Reply};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultTarget {
    /// `POST /oauth/v2/token`.
    #[default]
    Token,
    /// The realtime-metrics API and `/echo/`.
    Api,
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

/// Faults waiting for the next requests to each target, served in the order pushed.
#[derive(Default)]
pub(crate) struct FaultQueues {
    queues: Mutex<[VecDeque<(Fault, u32)>; 2]>,
}

impl FaultQueues {
    pub(crate) fn push(&self, target: FaultTarget, fault: Fault, count: u32) {
        if count > 0 {
            self.lock()[index(target)].push_back((fault, count));
        }
    }

    pub(crate) fn next(&self, target: FaultTarget) -> Option<Fault> {
        let mut queues = self.lock();
        let queue = &mut queues[index(target)];
        let (fault, left) = queue.front_mut()?;
        let fault = fault.clone();
        *left -= 1;
        if *left == 0 {
            queue.pop_front();
        }
        Some(fault)
    }

    pub(crate) fn clear(&self) {
        self.lock().iter_mut().for_each(VecDeque::clear);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, [VecDeque<(Fault, u32)>; 2]> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn index(target: FaultTarget) -> usize {
    match target {
        FaultTarget::Token => 0,
        FaultTarget::Api => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_served_in_order_and_count_down() {
        let q = FaultQueues::default();
        q.push(FaultTarget::Token, Fault::Close, 2);
        q.push(FaultTarget::Token, Fault::Endless, 1);
        q.push(FaultTarget::Api, Fault::Delay { ms: 1 }, 0);
        assert_eq!(q.next(FaultTarget::Token), Some(Fault::Close));
        assert_eq!(q.next(FaultTarget::Token), Some(Fault::Close));
        assert_eq!(q.next(FaultTarget::Token), Some(Fault::Endless));
        assert_eq!(q.next(FaultTarget::Token), None);
        assert_eq!(q.next(FaultTarget::Api), None);
        q.push(FaultTarget::Api, Fault::Close, 3);
        q.clear();
        assert_eq!(q.next(FaultTarget::Api), None);
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
