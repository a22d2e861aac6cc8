//! The bearer-token side: which API a path belongs to, the product its token must hold, and the
//! hand-off to that API's module once the token passes.

use crate::bearer;
use crate::config::{REALTIME_PRODUCT, STORAGE_PRODUCT};
use crate::http::{Incoming, Reply};
use crate::state::State;
use crate::{echo, historical, realtime, storage};

/// Contact Center analytics: US has no prefix; EU, APAC and Canada insert theirs after the host.
pub(crate) const CC_REGION_PREFIXES: [&str; 4] = ["", "/eu", "/au", "/ca"];

/// The path after a Contact Center analytics region prefix (none for the US).
pub(crate) fn strip_cc_region(path: &str) -> Option<&str> {
    // The US form is tried last, so "/eu/analytics..." is not read as an unprefixed path.
    CC_REGION_PREFIXES.iter().rev().find_map(|prefix| {
        path.strip_prefix(prefix)
            .filter(|r| r.starts_with("/analytics/"))
    })
}

#[derive(Debug, PartialEq)]
pub(crate) enum Route {
    Realtime(realtime::Route),
    Historical(historical::Route),
    Storage(storage::Route),
    Echo,
}

impl Route {
    /// The product a token must hold for this API; None for `/echo/`.
    fn product(&self) -> Option<&'static str> {
        match self {
            Route::Realtime(_) | Route::Historical(_) => Some(REALTIME_PRODUCT),
            Route::Storage(_) => Some(STORAGE_PRODUCT),
            Route::Echo => None,
        }
    }
}

pub(crate) fn route(path: &str) -> Option<Route> {
    if path.starts_with(echo::PREFIX) {
        return Some(Route::Echo);
    }
    if let Some(r) = storage::route(path) {
        return Some(Route::Storage(r));
    }
    if let Some(r) = historical::route(path) {
        return Some(Route::Historical(r));
    }
    realtime::route(path).map(Route::Realtime)
}

pub(crate) fn handle(state: &State, req: &Incoming, body: &[u8], route: Route) -> Reply {
    let record = match bearer::authorize(state, req, route.product()) {
        Ok(record) => record,
        Err(rejection) => {
            state.stats.bump(|s| &mut s.api_rejected);
            return rejection;
        }
    };
    match route {
        Route::Echo => echo::handle(req, body, &record.client_id),
        Route::Realtime(r) => realtime::handle(state, req, r),
        Route::Historical(r) => historical::handle(state, req, body, r),
        Route::Storage(r) => storage::handle(state, req, body, r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_and_realtime_are_routed() {
        assert_eq!(route("/echo/x/y"), Some(Route::Echo));
        assert_eq!(
            route("/eu/analytics/cc/v5/realtime-metrics/queues"),
            Some(Route::Realtime(realtime::Route::Queues))
        );
        assert_eq!(route("/oauth/v2/token"), None);
    }
}
