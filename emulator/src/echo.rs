//! `/echo/...`: shows a client's tests exactly what the client sent (any valid token, no product).

use crate::http::{Incoming, Reply};
use serde::Serialize;
use std::collections::BTreeMap;

pub(crate) const PREFIX: &str = "/echo/";

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

pub(crate) fn handle(req: &Incoming, body: &[u8], client_id: &str) -> Reply {
    Reply::json(
        200,
        &Echo {
            method: &req.method,
            path: &req.path,
            query: &req.query,
            headers: req.headers_joined(),
            body: String::from_utf8_lossy(body).into_owned(),
            client_id,
        },
    )
}
