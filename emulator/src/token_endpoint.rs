//! `POST /oauth/v2/token`: the client-credentials grant as 8x8's Apigee gateway answers it.

use crate::apigee;
use crate::config::{ReplyShape, TokenMode};
use crate::http::{Incoming, Reply};
use crate::state::{Client, State};
use base64::Engine;
use serde::Serialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) const PATH: &str = "/oauth/v2/token";

pub(crate) fn handle(state: &State, req: &Incoming, body: &[u8]) -> Reply {
    let mode = state.settings().token_mode;
    let minted = match mode {
        TokenMode::Apigee8x8 => mint(state, req, body),
        TokenMode::Rfc6749 => crate::rfc6749::mint(state, req, body),
    };
    match minted {
        Ok(reply) => {
            state.stats.bump(|s| &mut s.tokens_issued);
            reply
        }
        Err(reply) => {
            state.stats.bump(|s| &mut s.token_failures);
            reply
        }
    }
}

fn mint(state: &State, req: &Incoming, body: &[u8]) -> Result<Reply, Reply> {
    if req.method != "POST" {
        return Err(error(
            405,
            "invalid_request",
            &format!("Unsupported method : {}", req.method),
        )
        .header("Allow", "POST"));
    }
    let client = authenticate(state, req.header("Authorization"))?;
    // The gateway reads parameters only from a form body; credentials or a grant type sent any
    // other way are simply not there.
    if !is_form(req.header("Content-Type")) {
        return Err(missing("grant_type"));
    }
    let grant = form_urlencoded::parse(body)
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.into_owned());
    match grant.as_deref() {
        None => Err(missing("grant_type")),
        Some("client_credentials") => Ok(issue(state, client)),
        Some(other) => Err(error(
            400,
            "invalid_request",
            &format!("Unsupported grant type : {other}"),
        )),
    }
}

fn authenticate<'s>(state: &'s State, authorization: Option<&str>) -> Result<&'s Client, Reply> {
    // Without Basic credentials the gateway looks for a client_id parameter, and finds none.
    let encoded = authorization
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Basic"))
        .map(|(_, creds)| creds.trim())
        .ok_or_else(|| missing("client_id"))?;
    let invalid = || error(401, "invalid_client", "ClientId is Invalid");
    let decoded = base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(invalid)?;
    state
        .clients
        .iter()
        .find(|c| c.spec.id == id && c.spec.secret == secret)
        .ok_or_else(invalid)
}

pub(crate) fn is_form(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn issue(state: &State, client: &Client) -> Reply {
    let settings = state.settings().clone();
    let products = &client.spec.products;
    let lifetime = Duration::from_secs(settings.token_lifetime);
    let access_token = state.tokens().issue(&client.spec.id, products, lifetime);
    let issued_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
        .to_string();
    let expires_in = settings.token_lifetime.to_string();
    // Written from structs, not a serde_json::Value, whose keys would come out sorted: the
    // emulator's replies keep the order of the published examples.
    let body = match settings.reply_shape {
        ReplyShape::Doc => serde_json::to_string(&DocReply {
            access_token: &access_token,
            token_type: "BearerToken",
            api_product_list: format!("[{}]", products.join(", ")),
            status: "approved",
            scope: "",
            refresh_token_expires_in: "0",
            expires_in: &expires_in,
            refresh_count: "0",
            developer_email: "deprecated",
            issued_at: &issued_at,
            client_id: "deprecated",
            api_product_list_json: products,
        }),
        ReplyShape::Chat => serde_json::to_string(&ChatReply {
            refresh_token_expires_in: "0",
            api_product_list: products,
            api_product_list_json: products,
            organization_name: "8x8gateway",
            developer_email: "deprecated",
            token_type: "BearerToken",
            issued_at: &issued_at,
            client_id: "deprecated",
            access_token: &access_token,
            application_name: &client.application_name,
            scope: "",
            expires_in: &expires_in,
            refresh_count: "0",
            status: "approved",
        }),
    };
    Reply::raw(
        200,
        "application/json",
        body.expect("token replies are plain strings and lists"),
    )
}

/// Field for field, in order, the reply in 8x8's OAuth document; every number is a string.
#[derive(Serialize)]
struct DocReply<'a> {
    access_token: &'a str,
    token_type: &'a str,
    api_product_list: String,
    status: &'a str,
    scope: &'a str,
    refresh_token_expires_in: &'a str,
    expires_in: &'a str,
    refresh_count: &'a str,
    #[serde(rename = "developer.email")]
    developer_email: &'a str,
    issued_at: &'a str,
    client_id: &'a str,
    api_product_list_json: &'a [String],
}

/// The Chat spec's `AuthResponse`, in the order Apigee writes it.
#[derive(Serialize)]
struct ChatReply<'a> {
    refresh_token_expires_in: &'a str,
    api_product_list: &'a [String],
    api_product_list_json: &'a [String],
    organization_name: &'a str,
    #[serde(rename = "developer.email")]
    developer_email: &'a str,
    token_type: &'a str,
    issued_at: &'a str,
    client_id: &'a str,
    access_token: &'a str,
    application_name: &'a str,
    scope: &'a str,
    expires_in: &'a str,
    refresh_count: &'a str,
    status: &'a str,
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::raw(
        status,
        "application/json",
        apigee::oauth_error(code, message),
    )
}

fn missing(parameter: &str) -> Reply {
    error(
        400,
        "invalid_request",
        &format!("The request is missing a required parameter : {parameter}"),
    )
}
