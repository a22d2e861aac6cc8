//! The Quality Management & Speech Analytics API (`/qm/{region}/v1/...`): interactions paged by
//! `page`/`size` with HATEOAS `links` (`nextUrl`, `prevUrl`), their count, transcriptions and
//! media. Every call must carry the `pbx` header naming the customer's PBX.

use crate::content::Content;
use crate::http::{Incoming, Reply};
use crate::state::State;
use crate::storage_catalog::{utc_timestamp, REGIONS};
use serde::Serialize;
use serde_json::{json, Value};

const DEFAULT_SIZE: u64 = 100;
const MAX_SIZE: u64 = 100;
/// 2018-03-02T07:14:53Z, the spec's example, in epoch ms: the first interaction's createdAt.
const FIRST_CREATED_MS: u64 = 1_519_974_893_000;
const TYPES: [&str; 4] = [
    "voiceInteraction",
    "screenRecording",
    "voiceScreen",
    "other",
];
/// Media recordings are this big: enough to stream in several chunks.
const MEDIA_BYTES: u64 = 200_000;

#[derive(Debug, PartialEq)]
pub(crate) struct Route {
    base_path: String,
    action: Action,
}

#[derive(Debug, PartialEq)]
enum Action {
    Interactions,
    Count,
    Transcriptions(String),
    Media(String),
    Other,
}

pub(crate) fn route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/qm/")?;
    let (region, rest) = rest.split_once('/')?;
    if !REGIONS.contains(&region) {
        return None;
    }
    let rest = rest.strip_prefix("v1")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let base_path = path[..path.len() - rest.len()].to_string();
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let action = match parts.as_slice() {
        ["interactions"] => Action::Interactions,
        ["interactions", "count"] => Action::Count,
        ["interactions", guid, "transcriptions"] => Action::Transcriptions(guid.to_string()),
        ["interactions", guid, "media"] => Action::Media(guid.to_string()),
        _ => Action::Other,
    };
    Some(Route { base_path, action })
}

/// QM's error body: the spec promises a machine-readable code and a message, and shows neither.
fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(status, &json!({"code": code, "message": message}))
}

pub(crate) fn handle(state: &State, req: &Incoming, route: Route) -> Reply {
    match req.header("pbx").map(str::trim) {
        None | Some("") => {
            return error(
                400,
                "MISSING_PBX_HEADER",
                "The pbx header with the pbx name is required on every call",
            )
        }
        Some(pbx) if pbx != state.qm_pbx => {
            return error(403, "UNKNOWN_PBX", &format!("Unknown pbx {pbx}"))
        }
        Some(_) => {}
    }
    if req.method != "GET" {
        return error(405, "METHOD_NOT_ALLOWED", "Method Not Allowed").header("Allow", "GET");
    }
    let all: Vec<Value> = (0..state.qm_interactions as u64).map(interaction).collect();
    let guid_exists = |guid: &str| all.iter().any(|i| i["interactionGuid"] == guid);
    match &route.action {
        Action::Interactions | Action::Count => {
            let matching = match filtered(req, all.clone()) {
                Ok(m) => m,
                Err(reply) => return reply,
            };
            if route.action == Action::Count {
                // A bare count, as the spec shows it.
                return Reply::raw(200, "application/json", matching.len().to_string());
            }
            let base = format!("{}{}", req.origin(state.tls), route.base_path);
            page(req, &base, matching)
        }
        Action::Transcriptions(guid) if guid_exists(guid) => Reply::json(200, &transcription()),
        Action::Media(guid) if guid_exists(guid) => {
            let content = Content::named(guid, MEDIA_BYTES);
            Reply::stream("audio/mpeg", content.len, content.chunks())
        }
        Action::Transcriptions(guid) | Action::Media(guid) => error(
            404,
            "NOT_FOUND",
            &format!("Interaction {guid} was not found"),
        ),
        Action::Other => error(404, "NOT_FOUND", "Not found"),
    }
}

fn interaction(i: u64) -> Value {
    let guid = format!(
        "int-{:012x}-phone-{:02}-sample",
        0x15bd_0000_0000 + i,
        i % 100
    );
    json!({
        "createdAt": utc_timestamp(FIRST_CREATED_MS + 60_000 * i),
        "interactionGuid": guid,
        "agent": {"userReference": 283 + i % 3, "agentId": format!("agent{}", 123 + i % 3)},
        "telephony": {"direction": if i.is_multiple_of(2) { "inbound" } else { "outbound" },
            "vccTransactionId": 12345 + i},
        "media": {"interactionType": TYPES[(i % 4) as usize], "interactionDuration": 435 + i},
        "customFields": {"customField1": {"value": format!("case-{i}"), "displayName": "Case"}},
        "links": [{"rel": "transcriptions", "href": format!("interactions/{guid}/transcriptions"),
            "type": "GET"}],
    })
}

fn transcription() -> Value {
    json!([
        {"text": "Good morning.", "confidence": 100, "channel": 1, "emotion": "Positive",
            "timestampStart": 10, "timestampEnd": 11},
        {"text": "How can I help?", "confidence": 97, "channel": 0, "emotion": "Neutral",
            "timestampStart": 12, "timestampEnd": 14},
    ])
}

fn filtered(req: &Incoming, all: Vec<Value>) -> Result<Vec<Value>, Reply> {
    let mut out = all;
    if let Some(kind) = req.query_param("interactionType") {
        if !TYPES.contains(&kind.as_str()) {
            return Err(error(
                400,
                "INVALID_PARAMETER",
                &format!("interactionType must be one of {TYPES:?}"),
            ));
        }
        out.retain(|i| i["media"]["interactionType"] == kind.as_str());
    }
    if let Some(guids) = req.query_param("interactionGuid") {
        let wanted: Vec<&str> = guids.split(',').map(str::trim).collect();
        if wanted.len() > 10 {
            return Err(error(
                400,
                "INVALID_PARAMETER",
                "interactionGuid takes at most 10 values",
            ));
        }
        out.retain(|i| wanted.iter().any(|g| i["interactionGuid"] == *g));
    }
    Ok(out)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    page_number: u64,
    page_size: u64,
    page_result_size: usize,
    content: Vec<Value>,
    links: Vec<Value>,
}

fn page(req: &Incoming, base: &str, matching: Vec<Value>) -> Reply {
    let number = |name: &str, default: u64| match req.query_param(name) {
        None => Ok(default),
        Some(v) => v.parse::<u64>().map_err(|_| {
            error(
                400,
                "INVALID_PARAMETER",
                &format!("{name} must be a number"),
            )
        }),
    };
    let (page, size) = match (number("page", 0), number("size", DEFAULT_SIZE)) {
        (Ok(p), Ok(s)) => (p, s),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    if !(1..=MAX_SIZE).contains(&size) {
        return error(
            400,
            "INVALID_PARAMETER",
            &format!("size must be between 1 and {MAX_SIZE}"),
        );
    }
    let total = matching.len() as u64;
    let content: Vec<Value> = matching
        .into_iter()
        .skip(usize::try_from(page * size).unwrap_or(usize::MAX))
        .take(size as usize)
        .collect();
    // The other filters ride along in the links, with page replaced.
    let link = |rel: &str, to: u64| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in req
            .query_pairs()
            .filter(|(k, _)| k != "page" && k != "size")
        {
            query.append_pair(&k, &v);
        }
        query.append_pair("page", &to.to_string());
        query.append_pair("size", &size.to_string());
        json!({"rel": rel, "href": format!("{base}/interactions?{}", query.finish()), "type": "GET"})
    };
    let mut links = Vec::new();
    if page > 0 {
        links.push(link("prevUrl", page - 1));
    }
    if (page + 1) * size < total {
        links.push(link("nextUrl", page + 1));
    }
    Reply::json(
        200,
        &Page {
            page_number: page,
            page_size: size,
            page_result_size: content.len(),
            content,
            links,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_the_first_interaction() {
        let r = route("/qm/uk/v1/interactions/int-1/transcriptions").unwrap();
        assert_eq!(r.base_path, "/qm/uk/v1");
        assert_eq!(r.action, Action::Transcriptions("int-1".into()));
        assert!(route("/qm/eu/v1/interactions").is_none());
        assert_eq!(interaction(0)["createdAt"], "2018-03-02T07:14:53");
    }
}
