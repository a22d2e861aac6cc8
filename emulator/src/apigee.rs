//! The error bodies of 8x8's Apigee gateway, written in the gateway's key order (a
//! serde_json::Value would sort the keys).

use serde::Serialize;

#[derive(Serialize)]
struct OAuthError<'a> {
    #[serde(rename = "ErrorCode")]
    code: &'a str,
    #[serde(rename = "Error")]
    message: &'a str,
}

/// The token endpoint's `{"ErrorCode":...,"Error":...}`.
pub(crate) fn oauth_error(code: &str, message: &str) -> String {
    to_json(&OAuthError { code, message })
}

#[derive(Serialize)]
struct Fault<'a> {
    fault: FaultBody<'a>,
}

#[derive(Serialize)]
struct FaultBody<'a> {
    faultstring: &'a str,
    detail: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    errorcode: &'a str,
}

/// A policy fault: `{"fault":{"faultstring":...,"detail":{"errorcode":...}}}`.
pub(crate) fn fault(faultstring: &str, errorcode: &str) -> String {
    to_json(&Fault {
        fault: FaultBody {
            faultstring,
            detail: Detail { errorcode },
        },
    })
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("error bodies are plain strings")
}

#[cfg(test)]
mod tests {
    #[test]
    fn bodies_keep_the_gateway_key_order() {
        assert_eq!(
            super::oauth_error("invalid_client", "ClientId is Invalid"),
            r#"{"ErrorCode":"invalid_client","Error":"ClientId is Invalid"}"#
        );
        assert_eq!(
            super::fault("Invalid access token", "oauth.v2.InvalidAccessToken"),
            r#"{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}"#
        );
    }
}
