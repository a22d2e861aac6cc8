//! `/_emulator/...`: the library's controls over HTTP, so tests in C, Go or .NET can drive the
//! binary. Admin requests are not counted, so they never disturb the stats they read.

use crate::config::{ReplyShape, TokenMode};
use crate::faults::{Fault, FaultMatch, FaultTarget};
use crate::http::{Incoming, Reply};
use crate::state::State;
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
        (_, "stats" | "token-requests" | "reset" | "revoke" | "expire" | "config" | "faults") => {
            Reply::json(405, &json!({"message": "Method Not Allowed"}))
        }
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
