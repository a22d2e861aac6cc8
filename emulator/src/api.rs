//! The bearer-token side: the realtime-metrics queues API, and `/echo/` which shows a client's
//! tests exactly what the client sent.

use crate::apigee;
use crate::config::REALTIME_PRODUCT;
use crate::data;
use crate::http::{Incoming, Reply};
use crate::state::State;
use crate::tokens::{Lookup, TokenRecord};
use serde::Serialize;
use std::collections::BTreeMap;

const REALTIME_BASE: &str = "/analytics/cc/v5/realtime-metrics";
/// US has no prefix; EU, APAC and Canada insert theirs after the host.
const REGION_PREFIXES: [&str; 4] = ["", "/eu", "/au", "/ca"];

#[derive(Debug, PartialEq)]
pub(crate) enum Route {
    Queues,
    Queue(String),
    /// Under the realtime-metrics base but not emulated (groups, agents...): authenticated, then 404.
    OtherRealtime,
    Echo,
}

pub(crate) fn route(path: &str) -> Option<Route> {
    if path.starts_with("/echo/") {
        return Some(Route::Echo);
    }
    let rest = REGION_PREFIXES
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix)?.strip_prefix(REALTIME_BASE))?;
    let rest = rest.strip_prefix('/')?;
    Some(match rest.split_once('/') {
        None if rest == "queues" => Route::Queues,
        Some(("queues", id)) if !id.is_empty() && !id.contains('/') => Route::Queue(id.to_string()),
        _ => Route::OtherRealtime,
    })
}

pub(crate) fn handle(state: &State, req: &Incoming, body: &[u8], route: Route) -> Reply {
    let record = match authorize(state, req, route != Route::Echo) {
        Ok(record) => record,
        Err(rejection) => {
            state.stats.bump(|s| &mut s.api_rejected);
            return rejection;
        }
    };
    match route {
        Route::Echo => echo(req, body, &record.client_id),
        _ if req.method != "GET" => message(405, "Method Not Allowed").header("Allow", "GET"),
        Route::Queues => queues(state, req),
        Route::Queue(id) => match data::find(state.queues, &id) {
            Some(q) => json(200, &q),
            None => message(404, &format!("Not found: queue {id}")),
        },
        Route::OtherRealtime => message(404, "Not found"),
    }
}

/// Apigee's checks, in its order: a well-formed header, a known live token, not expired, and a
/// key entitled to the API's product.
fn authorize(state: &State, req: &Incoming, needs_product: bool) -> Result<TokenRecord, Reply> {
    // The scheme must be exactly "Bearer": `BearerToken x` (what a client echoing token_type
    // sends) is a malformed header to the gateway.
    let token = req
        .header("Authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty() && !t.contains(char::is_whitespace))
        .ok_or_else(|| reject(401, "Invalid access token", "oauth.v2.InvalidAccessToken"))?;
    let invalid = || {
        reject(
            401,
            "Invalid Access Token",
            "keymanagement.service.invalid_access_token",
        )
    };
    let lookup = state.tokens().lookup(token);
    match lookup {
        Lookup::Unknown | Lookup::Revoked => Err(invalid()),
        Lookup::Expired => {
            let status = state.settings().expired_status;
            Err(reject(
                status,
                "Access Token expired",
                "keymanagement.service.access_token_expired",
            ))
        }
        Lookup::Valid(record)
            if needs_product && !record.products.iter().any(|p| p == REALTIME_PRODUCT) =>
        {
            Err(reject(
                401,
                "Invalid API call as no apiproduct match found",
                "keymanagement.service.InvalidAPICallAsNoApiProductMatchFound",
            ))
        }
        Lookup::Valid(record) => Ok(record),
    }
}

fn reject(status: u16, faultstring: &str, errorcode: &str) -> Reply {
    let reply = Reply::raw(
        status,
        "application/json",
        apigee::fault(faultstring, errorcode),
    );
    // The challenge belongs to a 401; a deployment that answers expiry with 500 has no reason to send it.
    if status == 401 {
        reply.header(
            "WWW-Authenticate",
            format!(
                r#"Bearer realm="null",error="invalid_token",error_description="{faultstring}""#
            ),
        )
    } else {
        reply
    }
}

fn queues(state: &State, req: &Incoming) -> Reply {
    let mut page = None;
    let mut size = None;
    for (k, v) in req.query_pairs() {
        match k.as_str() {
            "page" => page = Some(v),
            "size" => size = Some(v),
            _ => {}
        }
    }
    match data::page(state.queues, page.as_deref(), size.as_deref()) {
        Ok(p) => json(200, &p.items)
            .header("X-Page-Size", p.size.to_string())
            .header("X-Page", p.page.to_string())
            .header("X-Total-Pages", p.total_pages.to_string())
            .header("X-Total-Elements", p.total_elements.to_string()),
        Err(m) => message(400, &m),
    }
}

#[derive(Serialize)]
struct Echo<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: BTreeMap<String, String>,
    body: String,
    /// Which key the bearer token was issued to, for tests with several clients.
    client_id: &'a str,
}

fn echo(req: &Incoming, body: &[u8], client_id: &str) -> Reply {
    let mut headers = BTreeMap::<String, String>::new();
    for (name, value) in &req.headers {
        headers
            .entry(name.to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(value);
            })
            .or_insert_with(|| value.clone());
    }
    json(
        200,
        &Echo {
            method: &req.method,
            path: &req.path,
            query: &req.query,
            headers,
            body: String::from_utf8_lossy(body).into_owned(),
            client_id,
        },
    )
}

fn json(status: u16, value: &impl Serialize) -> Reply {
    Reply::json(status, value)
}

fn message(status: u16, text: &str) -> Reply {
    #[derive(Serialize)]
    struct Message<'a> {
        message: &'a str,
    }
    json(status, &Message { message: text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_every_region() {
        for prefix in REGION_PREFIXES {
            let base = format!("{prefix}{REALTIME_BASE}");
            assert_eq!(route(&format!("{base}/queues")), Some(Route::Queues));
            assert_eq!(
                route(&format!("{base}/queues/103")),
                Some(Route::Queue("103".into()))
            );
            assert_eq!(route(&format!("{base}/groups")), Some(Route::OtherRealtime));
            assert_eq!(
                route(&format!("{base}/queues/103/agents")),
                Some(Route::OtherRealtime)
            );
        }
        assert_eq!(route("/echo/x/y"), Some(Route::Echo));
        assert_eq!(route("/us/analytics/cc/v5/realtime-metrics/queues"), None);
        assert_eq!(route("/analytics/cc/v5/realtime-metricsX/queues"), None);
        assert_eq!(route("/oauth/v2/token"), None);
    }
}
