//! The Contact Center realtime-metrics API: `/queues` and `/queues/{id}`, paged by `page` and
//! `size` with `X-Page*` headers.

use crate::data;
use crate::http::{Incoming, Reply};
use crate::state::State;

const BASE: &str = "/analytics/cc/v5/realtime-metrics";

#[derive(Debug, PartialEq)]
pub(crate) enum Route {
    Queues,
    Queue(String),
    /// Under the realtime-metrics base but not emulated (groups, agents...): authenticated, then 404.
    Other,
}

pub(crate) fn route(path: &str) -> Option<Route> {
    let rest = crate::api::strip_cc_region(path)?.strip_prefix(BASE)?;
    let rest = rest.strip_prefix('/')?;
    Some(match rest.split_once('/') {
        None if rest == "queues" => Route::Queues,
        Some(("queues", id)) if !id.is_empty() && !id.contains('/') => Route::Queue(id.to_string()),
        _ => Route::Other,
    })
}

pub(crate) fn handle(state: &State, req: &Incoming, route: Route) -> Reply {
    if req.method != "GET" {
        return Reply::message(405, "Method Not Allowed").header("Allow", "GET");
    }
    match route {
        Route::Queues => queues(state, req),
        Route::Queue(id) => match data::find(state.queues, &id) {
            Some(q) => Reply::json(200, &q),
            None => Reply::message(404, &format!("Not found: queue {id}")),
        },
        Route::Other => Reply::message(404, "Not found"),
    }
}

fn queues(state: &State, req: &Incoming) -> Reply {
    let page = req.query_param("page");
    let size = req.query_param("size");
    match data::page(state.queues, page.as_deref(), size.as_deref()) {
        Ok(p) => Reply::json(200, &p.items)
            .header("X-Page-Size", p.size.to_string())
            .header("X-Page", p.page.to_string())
            .header("X-Total-Pages", p.total_pages.to_string())
            .header("X-Total-Elements", p.total_elements.to_string()),
        Err(m) => Reply::message(400, &m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::CC_REGION_PREFIXES;

    #[test]
    fn routes_every_region() {
        for prefix in CC_REGION_PREFIXES {
            let base = format!("{prefix}{BASE}");
            assert_eq!(route(&format!("{base}/queues")), Some(Route::Queues));
            assert_eq!(
                route(&format!("{base}/queues/103")),
                Some(Route::Queue("103".into()))
            );
            assert_eq!(route(&format!("{base}/groups")), Some(Route::Other));
            assert_eq!(
                route(&format!("{base}/queues/103/agents")),
                Some(Route::Other)
            );
        }
        assert_eq!(route("/us/analytics/cc/v5/realtime-metrics/queues"), None);
        assert_eq!(route("/analytics/cc/v5/realtime-metricsX/queues"), None);
        assert_eq!(route("/oauth/v2/token"), None);
    }
}
