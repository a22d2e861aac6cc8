//! Apigee's checks of an API call's bearer token, shared by every emulated API.

use crate::apigee;
use crate::http::{Incoming, Reply};
use crate::state::State;
use crate::tokens::{Lookup, TokenRecord};

/// Apigee's checks, in its order: a well-formed header, a known live token, not expired, and a
/// key entitled to the API's product (None: any valid token will do, as for `/echo/`).
pub(crate) fn authorize(
    state: &State,
    req: &Incoming,
    product: Option<&str>,
) -> Result<TokenRecord, Reply> {
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
            if product.is_some_and(|p| !record.products.iter().any(|held| held == p)) =>
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
