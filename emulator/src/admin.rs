//! `/_emulator/...`: the library's controls over HTTP, so tests in C, Go or .NET can drive the
//! binary. Admin requests are not counted, so they never disturb the stats they read.

use crate::config::{ApiForms, ReplyShape, TokenMode};
use crate::faults::{Fault, FaultMatch, FaultTarget};
use crate::http::{Incoming, Reply};
use crate::state::State;
use crate::storage::PresignReply;
use crate::storage_catalog::{NewObject, StorageObject, REGIONS};
use serde::Deserialize;
use serde_json::json;

pub(crate) const PREFIX: &str = "/_emulator/";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigChange {
    token_lifetime: Option<u64>,
    expired_status: Option<u16>,
    reply_shape: Option<ReplyShape>,
    token_delay_ms: Option<u64>,
    token_mode: Option<TokenMode>,
    report_delay_ms: Option<u64>,
    report_rows: Option<u64>,
    api_forms: Option<ApiForms>,
    presign_reply: Option<PresignReply>,
}

#[derive(Deserialize)]
struct FaultRequest {
    #[serde(default)]
    target: FaultTarget,
    #[serde(default = "one")]
    count: u32,
    /// Which requests the fault is for; all of the target's by default.
    #[serde(default, rename = "match")]
    matcher: FaultMatch,
    #[serde(flatten)]
    fault: Fault,
}

fn one() -> u32 {
    1
}

pub(crate) fn handle(state: &State, req: &Incoming, body: &[u8]) -> Reply {
    let action = &req.path[PREFIX.len()..];
    match (req.method.as_str(), action) {
        ("GET", "stats") => Reply::json(200, &state.stats.snapshot()),
        ("GET", "token-requests") => Reply::json(200, &state.token_log.all()),
        ("GET", "presigned-requests") => Reply::json(200, &state.presign().requests()),
        ("GET", "info") => Reply::json(
            200,
            &json!({"presign_base_url": state.presign_origin, "storage_regions": state.storage_regions}),
        ),
        ("POST", "storage/objects") => match serde_json::from_slice::<NewObject>(body) {
            Ok(spec) => match add_storage_object(state, spec) {
                Ok((_, object)) => Reply::json(200, &object),
                Err(e) => Reply::json(400, &json!({"message": format!("Bad request: {e}")})),
            },
            Err(e) => bad_request(&e),
        },
        ("GET", a) if a.starts_with("storage/objects/") && a.ends_with("/sha256") => {
            let id = &a["storage/objects/".len()..a.len() - "/sha256".len()];
            match storage_object(state, id) {
                Some(o) => Reply::json(200, &json!({"id": id, "sha256": o.sha256()})),
                None => Reply::json(404, &json!({"message": format!("No object {id}")})),
            }
        }
        ("POST", "reset") => {
            state.reset();
            ok()
        }
        ("POST", "revoke") => {
            state.tokens().revoke_all();
            ok()
        }
        ("POST", "expire") => {
            state.tokens().expire_all();
            ok()
        }
        ("POST", "config") => match serde_json::from_slice::<ConfigChange>(body) {
            Ok(change) => {
                let mut settings = state.settings();
                if let Some(v) = change.token_lifetime {
                    settings.token_lifetime = v;
                }
                if let Some(v) = change.expired_status {
                    settings.expired_status = v;
                }
                if let Some(v) = change.reply_shape {
                    settings.reply_shape = v;
                }
                if let Some(v) = change.token_delay_ms {
                    settings.token_delay_ms = v;
                }
                if let Some(v) = change.token_mode {
                    settings.token_mode = v;
                }
                if let Some(v) = change.report_delay_ms {
                    settings.report_delay_ms = v;
                }
                if let Some(v) = change.report_rows {
                    settings.report_rows = v;
                }
                if let Some(v) = change.api_forms {
                    settings.api_forms = v;
                }
                if let Some(v) = change.presign_reply {
                    settings.presign_reply = v;
                }
                Reply::json(200, &*settings)
            }
            Err(e) => bad_request(&e),
        },
        ("POST", "faults") => match serde_json::from_slice::<FaultRequest>(body) {
            Ok(r) => {
                state.faults.push(r.target, r.fault, r.count, r.matcher);
                ok()
            }
            Err(e) => bad_request(&e),
        },
        (
            _,
            "stats" | "token-requests" | "presigned-requests" | "info" | "storage/objects"
            | "reset" | "revoke" | "expire" | "config" | "faults",
        ) => Reply::json(405, &json!({"message": "Method Not Allowed"})),
        _ => Reply::json(
            404,
            &json!({"message": format!("Unknown admin endpoint {}", req.path)}),
        ),
    }
}

fn ok() -> Reply {
    Reply::json(200, &json!({"ok": true}))
}

fn bad_request(e: &serde_json::Error) -> Reply {
    Reply::json(400, &json!({"message": format!("Bad request: {e}")}))
}

/// Adds an object to storage; Err names what is wrong with the request.
pub(crate) fn add_storage_object(
    state: &State,
    spec: NewObject,
) -> Result<(String, StorageObject), String> {
    if let Some(region) = &spec.region {
        if !REGIONS.contains(&region.as_str()) {
            return Err(format!("region must be one of {REGIONS:?}, got {region:?}"));
        }
    }
    let id = crate::state::random_uuid();
    let created_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let object = StorageObject::new(id.clone(), spec, created_ms);
    state.storage().objects.push(object.clone());
    Ok((id, object))
}

pub(crate) fn storage_object(state: &State, id: &str) -> Option<StorageObject> {
    state.storage().objects.iter().find(|o| o.id == id).cloned()
}
