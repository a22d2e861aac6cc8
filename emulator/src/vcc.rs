//! The Contact Center Chat API v2 (`/vcc/{region}/chat/v2/tenant/{tenant}/...`): conversations
//! paged by `page`/`size` with a `page` object (`pageIndex`, `pageCount`), and its
//! `application/problem+json` errors.

use crate::http::{Incoming, Reply};
use crate::state::State;
use crate::storage_catalog::utc_timestamp;
use serde_json::{json, Value};

pub(crate) const REGIONS: [&str; 4] = ["us", "eu", "ca", "ap"];
const DEFAULT_SIZE: u64 = 20;
const STATUSES: [&str; 4] = ["created", "pending", "handling", "deleted"];
/// The seed document's issued_at, to the second: the first conversation's start.
const FIRST_START_MS: u64 = 1_683_045_181_000;

#[derive(Debug, PartialEq)]
pub(crate) struct Route {
    tenant: String,
    action: Action,
}

#[derive(Debug, PartialEq)]
enum Action {
    Conversations,
    Conversation(String),
    Messages(String),
    Other,
}

pub(crate) fn route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/vcc/")?;
    let (region, rest) = rest.split_once('/')?;
    if !REGIONS.contains(&region) {
        return None;
    }
    let rest = rest.strip_prefix("chat/v2/tenant/")?;
    let (tenant, rest) = rest.split_once('/').unwrap_or((rest, ""));
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let action = match parts.as_slice() {
        ["conversations"] => Action::Conversations,
        ["conversations", id] => Action::Conversation(id.to_string()),
        ["conversations", id, "messages"] => Action::Messages(id.to_string()),
        _ => Action::Other,
    };
    Some(Route {
        tenant: tenant.to_string(),
        action,
    })
}

/// The spec's error shape: `{"message","errors":[...]}` as application/problem+json.
fn problem(status: u16, message: &str, errors: &[String]) -> Reply {
    let body = json!({"message": message, "errors": errors});
    Reply::raw(
        status,
        "application/problem+json",
        serde_json::to_vec(&body).expect("plain data"),
    )
}

fn not_found(kind: &str, id: &str) -> Reply {
    let message = format!("Resource of type {kind} with id {id} was not found.");
    problem(404, &message, std::slice::from_ref(&message))
}

pub(crate) fn handle(state: &State, req: &Incoming, body: &[u8], route: Route) -> Reply {
    if route.tenant != state.vcc_tenant {
        return problem(
            403,
            "The tenant does not belong to customer.",
            &[format!(
                "Tenant {} does not belong to customer {}.",
                route.tenant, state.vcc_tenant
            )],
        );
    }
    let count = state.vcc_conversations as u64;
    let find = |id: &str| {
        id.strip_prefix("ID-")
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|&n| n < count && id == format!("ID-{n}"))
    };
    match (&route.action, req.method.as_str()) {
        (Action::Conversations, "GET") => list(req, count),
        (Action::Conversations, "POST") => create(body, count),
        (Action::Conversation(id), "GET") => match find(id) {
            Some(n) => Reply::json(200, &conversation(n)),
            None => not_found("conversation", id),
        },
        (Action::Messages(id), "GET") => match find(id) {
            Some(n) => Reply::json(200, &messages(n)),
            None => not_found("conversation", id),
        },
        (Action::Other, _) => problem(404, "Not found", &[]),
        _ => problem(405, "Method Not Allowed", &[]),
    }
}

fn conversation(i: u64) -> Value {
    json!({
        "id": format!("ID-{i}"),
        "channelId": format!("channel-{}", i % 3),
        "startTime": utc_timestamp(FIRST_START_MS + 90_000 * i),
        "status": STATUSES[(i % 3) as usize],
        "customer": {"name": format!("Customer {i}"), "email": format!("customer{i}@example.com")},
        "interactions": [{"id": format!("int-{:012x}-chat-00-tenant01", 0x18a_0000 + i),
            "startTime": utc_timestamp(FIRST_START_MS + 90_000 * i), "endTime": null}],
    })
}

fn messages(i: u64) -> Value {
    let interaction = format!("int-{:012x}-chat-00-tenant01", 0x18a_0000 + i);
    json!({"messages": [
        {"interactionId": interaction, "originalText": "Hello!", "translatedText": "Hello!",
            "authorType": "customer"},
        {"interactionId": interaction, "originalText": "Hi, how can I help?",
            "translatedText": "Hi, how can I help?", "authorType": "user"},
    ]})
}

fn list(req: &Incoming, count: u64) -> Reply {
    let mut violations = Vec::new();
    let mut number = |name: &str, default: u64, min: u64| match req.query_param(name) {
        None => default,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n >= min => n,
            _ => {
                violations.push(format!("{name}: must be a number of at least {min}"));
                default
            }
        },
    };
    let page = number("page", 0, 0);
    let size = number("size", DEFAULT_SIZE, 1);
    let status = req
        .query_param("status")
        .unwrap_or_else(|| "all".to_string());
    if status != "all" && !STATUSES.contains(&status.as_str()) {
        violations.push(format!("status: must be one of {STATUSES:?} or all"));
    }
    let descending = match req.query_param("order").as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => {
            violations.push("order: must be asc or desc".to_string());
            false
        }
    };
    if !violations.is_empty() {
        return problem(400, "Constraint Violation", &violations);
    }
    let mut all: Vec<Value> = (0..count)
        .map(conversation)
        .filter(|c| status == "all" || c["status"] == status.as_str())
        .collect();
    if descending {
        all.reverse();
    }
    let elements = all.len() as u64;
    let data: Vec<Value> = all
        .into_iter()
        .skip(usize::try_from(page * size).unwrap_or(usize::MAX))
        .take(size as usize)
        .collect();
    Reply::json(
        200,
        &json!({"data": data, "page": {"pageSize": size, "pageIndex": page,
            "elementCount": elements, "pageCount": elements.div_ceil(size)}}),
    )
}

fn create(body: &[u8], count: u64) -> Reply {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut violations = Vec::new();
    if request["channelId"].as_str().is_none_or(str::is_empty) {
        violations.push("channelId: May not be empty.".to_string());
    }
    if !request["customer"].is_object() {
        violations.push("customer: May not be empty.".to_string());
    }
    if !violations.is_empty() {
        return problem(400, "Constraint Violation", &violations);
    }
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    // Accepted, not stored: the listing stays the deterministic sample.
    Reply::json(
        202,
        &json!({"conversationId": format!("ID-{count}"), "timestamp": timestamp}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = route("/vcc/eu/chat/v2/tenant/t1/conversations/ID-3/messages").unwrap();
        assert_eq!(r.tenant, "t1");
        assert_eq!(r.action, Action::Messages("ID-3".into()));
        assert!(route("/vcc/uk/chat/v2/tenant/t1/conversations").is_none());
    }
}
