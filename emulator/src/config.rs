//! What an emulator is started with: its clients and how it answers.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The products 8x8's document lists as using this OAuth flow; a default client holds all of them.
pub const OAUTH_PRODUCTS: [&str; 4] = ["analytics realtime-api", "storage", "QM - API", "vcc"];

/// The product the realtime- and historical-metrics APIs require of a token.
pub const REALTIME_PRODUCT: &str = "analytics realtime-api";
/// The product of the Cloud Storage Service API.
pub const STORAGE_PRODUCT: &str = "storage";
/// The product of the Quality Management & Speech Analytics API.
pub const QM_PRODUCT: &str = "QM - API";
/// The product of the Contact Center Chat API.
pub const VCC_PRODUCT: &str = "vcc";

/// One API key as the Admin Console would issue it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSpec {
    pub id: String,
    pub secret: String,
    pub products: Vec<String>,
}

impl ClientSpec {
    pub fn new(id: impl Into<String>, secret: impl Into<String>, products: &[&str]) -> ClientSpec {
        ClientSpec {
            id: id.into(),
            secret: secret.into(),
            products: products.iter().map(|p| p.to_string()).collect(),
        }
    }
}

/// Parses the CLI's `ID:SECRET[:PRODUCT,PRODUCT...]`. Without products the client gets
/// [`OAUTH_PRODUCTS`]; an empty product list (`ID:SECRET:`) gives a key entitled to nothing,
/// which is how a test reaches the "no apiproduct match" fault.
impl FromStr for ClientSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<ClientSpec, String> {
        let mut parts = s.splitn(3, ':');
        let id = parts.next().unwrap_or_default();
        let secret = parts
            .next()
            .ok_or_else(|| format!("expected ID:SECRET[:PRODUCT,...], got {s:?}"))?;
        if id.is_empty() || secret.is_empty() {
            return Err(format!("client id and secret must not be empty in {s:?}"));
        }
        let products = match parts.next() {
            None => OAUTH_PRODUCTS.iter().map(|p| p.to_string()).collect(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
        };
        Ok(ClientSpec {
            id: id.to_string(),
            secret: secret.to_string(),
            products,
        })
    }
}

/// 8x8 publishes two shapes of the token reply; a client must parse both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyShape {
    /// The OAuth document's: `api_product_list` is a bracketed string.
    #[default]
    Doc,
    /// The Contact Center Chat spec's `AuthResponse`: `api_product_list` is an array,
    /// plus `organization_name` and `application_name`.
    Chat,
}

impl FromStr for ReplyShape {
    type Err = String;

    fn from_str(s: &str) -> Result<ReplyShape, String> {
        match s.to_ascii_lowercase().as_str() {
            "doc" => Ok(ReplyShape::Doc),
            "chat" => Ok(ReplyShape::Chat),
            _ => Err(format!("reply shape must be doc or chat, got {s:?}")),
        }
    }
}

impl fmt::Display for ReplyShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReplyShape::Doc => "doc",
            ReplyShape::Chat => "chat",
        })
    }
}

/// How the token endpoint authenticates clients and answers them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenMode {
    /// 8x8's Apigee gateway: raw `Basic base64(id:secret)`, string numbers, product lists,
    /// `{"ErrorCode","Error"}` errors.
    #[default]
    #[serde(rename = "8x8")]
    Apigee8x8,
    /// A strict RFC 6749 server: form-encoded Basic credentials or `client_secret_post`,
    /// `token_type` `Bearer`, numeric `expires_in`, `{"error","error_description"}` errors.
    #[serde(rename = "rfc6749")]
    Rfc6749,
}

/// Where 8x8's specs and guides disagree on a reply's shape (storage search and bulk replies,
/// detailed-report creation), which one the emulator sends; clients must accept both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiForms {
    /// The guides': single objects.
    #[default]
    Guide,
    /// The OpenAPI specs': arrays (and storage search's `total`).
    Spec,
}

impl ApiForms {
    pub(crate) fn spec(self) -> bool {
        self == ApiForms::Spec
    }
}

#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    pub clients: Vec<ClientSpec>,
    /// Seconds, sent as the string `expires_in`; 8x8's is 1799.
    pub token_lifetime_secs: u64,
    pub reply_shape: ReplyShape,
    /// How many queues the sample realtime-metrics data has.
    pub queues: usize,
    /// HTTP status of the "Access Token expired" fault: some Apigee deployments send 500 or 400.
    pub expired_status: u16,
    pub tls_self_signed: bool,
    /// 0 picks a free port.
    pub port: u16,
    /// Threads answering requests; at least one is always started. Every connection is served
    /// concurrently whatever the number: a delay or an endless reply holds up no other.
    pub threads: usize,
    /// Every token request waits this long before it is answered (0: no wait).
    pub token_delay_ms: u64,
    pub token_mode: TokenMode,
    /// How long a historical summary report stays IN_PROGRESS (and a bulk download before DONE).
    pub report_delay_ms: u64,
    /// Rows in every historical report (summary and detailed).
    pub report_rows: u64,
    pub api_forms: ApiForms,
    /// The customer's storage regions (`/regions`), each holding `storage_objects` samples.
    pub storage_regions: Vec<String>,
    pub storage_objects: usize,
    pub presign_reply: crate::storage::PresignReply,
}

impl Default for EmulatorConfig {
    fn default() -> EmulatorConfig {
        EmulatorConfig {
            clients: vec![ClientSpec::new(
                "demo-client",
                "demo-secret",
                &OAUTH_PRODUCTS,
            )],
            token_lifetime_secs: 1799,
            reply_shape: ReplyShape::Doc,
            queues: 7,
            expired_status: 401,
            tls_self_signed: false,
            port: 0,
            threads: 8,
            token_delay_ms: 0,
            token_mode: TokenMode::Apigee8x8,
            report_delay_ms: 300,
            report_rows: 25,
            api_forms: ApiForms::Guide,
            storage_regions: vec!["us-west".to_string(), "uk".to_string()],
            storage_objects: 12,
            presign_reply: crate::storage::PresignReply::Json,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_spec_without_products_gets_the_oauth_products() {
        let c: ClientSpec = "id:secret".parse().unwrap();
        assert_eq!(c.id, "id");
        assert_eq!(c.secret, "secret");
        assert_eq!(c.products, OAUTH_PRODUCTS);
    }

    #[test]
    fn client_spec_with_products() {
        let c: ClientSpec = "id:secret:storage, QM - API".parse().unwrap();
        assert_eq!(c.products, ["storage", "QM - API"]);
        let none: ClientSpec = "id:secret:".parse().unwrap();
        assert!(none.products.is_empty());
    }

    #[test]
    fn client_spec_rejects_missing_secret() {
        assert!("id".parse::<ClientSpec>().is_err());
        assert!(":secret".parse::<ClientSpec>().is_err());
        assert!("id:".parse::<ClientSpec>().is_err());
    }

    #[test]
    fn reply_shape_parses() {
        assert_eq!("doc".parse::<ReplyShape>().unwrap(), ReplyShape::Doc);
        assert_eq!("Chat".parse::<ReplyShape>().unwrap(), ReplyShape::Chat);
        assert!("json".parse::<ReplyShape>().is_err());
    }
}
