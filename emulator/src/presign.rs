//! The second loopback origin, standing in for the S3 bucket storage's presigned URLs point to.
//! It is another host to a client (another port), so a test proves the client fetched it without
//! the 8x8 bearer token: every request's headers are recorded (`GET /_emulator/presigned-requests`
//! on the main origin), and, as S3 does, a request carrying an Authorization header beside the
//! signature is refused with 400.

use crate::faults::FaultTarget;
use crate::http::{Incoming, Reply};
use crate::state::State;
use crate::tokens::random_alphanumeric;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

/// S3's presigned-URL lifetime in storage's sample (`X-Amz-Expires=1800`).
pub(crate) const EXPIRES: Duration = Duration::from_secs(1800);
const KEEP_REQUESTS: usize = 1000;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Target {
    Object { region: String, id: String },
    Zip(String),
}

/// One request the second origin received, exactly as it came.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresignedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Every header, by lower-cased name.
    pub headers: BTreeMap<String, String>,
}

#[derive(Default)]
pub(crate) struct PresignStore {
    grants: HashMap<String, (Target, Instant)>,
    requests: VecDeque<PresignedRequest>,
}

impl PresignStore {
    /// A URL on `origin` that serves `target` for [`EXPIRES`] to whoever holds it.
    pub(crate) fn grant(&mut self, origin: &str, target: Target, filename: &str) -> String {
        let now = Instant::now();
        self.grants.retain(|_, (_, until)| *until > now);
        let signature = random_alphanumeric(64).to_ascii_lowercase();
        let path = match &target {
            Target::Object { id, .. } => format!("/content/EPS/{id}"),
            Target::Zip(name) => format!("/bulk/{name}"),
        };
        self.grants
            .insert(signature.clone(), (target, now + EXPIRES));
        let disposition: String = form_urlencoded::byte_serialize(
            format!("attachment; filename=\"{filename}\"").as_bytes(),
        )
        .collect();
        format!(
            "{origin}{path}?response-content-disposition={disposition}\
             &X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires={}&X-Amz-Signature={signature}",
            EXPIRES.as_secs()
        )
    }

    pub(crate) fn requests(&self) -> Vec<PresignedRequest> {
        self.requests.iter().cloned().collect()
    }

    pub(crate) fn clear_requests(&mut self) {
        self.requests.clear();
    }

    /// Grants survive a reset, as URLs already handed out would.
    fn record(&mut self, request: PresignedRequest) {
        if self.requests.len() == KEEP_REQUESTS {
            self.requests.pop_front();
        }
        self.requests.push_back(request);
    }

    fn lookup(&self, signature: &str) -> Option<(Target, Instant)> {
        self.grants.get(signature).cloned()
    }
}

/// Everything the second origin answers.
pub(crate) async fn dispatch(state: &State, req: &Incoming) -> Reply {
    state.presign().record(PresignedRequest {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req.headers_joined(),
    });
    state.stats.bump(|s| &mut s.presigned_requests);
    state.stats.saw_connection(req.connection);
    match crate::injected(state, FaultTarget::Presigned, req).await {
        Err(reply) => reply,
        Ok(cut) => answer(state, req).cut_body(cut),
    }
}

/// HEAD is answered as S3 does: GET's status and headers (the object's Content-Length among them), no body
/// (hyper sends none for a HEAD, whatever the reply holds).
fn answer(state: &State, req: &Incoming) -> Reply {
    if req.method != "GET" && req.method != "HEAD" {
        return s3_error(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed",
        );
    }
    if req.header("Authorization").is_some() {
        return s3_error(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
             Signature query string parameter or the Authorization header should be specified",
        );
    }
    let Some(signature) = req.query_param("X-Amz-Signature") else {
        return s3_error(403, "AccessDenied", "Access Denied");
    };
    let grant = state.presign().lookup(&signature);
    let target = match grant {
        None => {
            return s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided",
            )
        }
        Some((_, until)) if Instant::now() >= until => {
            return s3_error(403, "AccessDenied", "Request has expired")
        }
        Some((target, _)) => target,
    };
    let served = match &target {
        Target::Object { id, .. } => req.path == format!("/content/EPS/{id}"),
        Target::Zip(name) => req.path == format!("/bulk/{name}"),
    };
    if !served {
        return s3_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided",
        );
    }
    let reply = match target {
        Target::Object { region, id } => crate::storage::object_content(state, &region, &id),
        Target::Zip(name) => crate::storage::zip_content(state, &name),
    };
    match req.query_param("response-content-disposition") {
        Some(disposition) if reply.status == 200 => {
            reply.header("Content-Disposition", disposition)
        }
        _ => reply,
    }
}

fn s3_error(status: u16, code: &str, message: &str) -> Reply {
    let id = random_alphanumeric(16);
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>{message}</Message><RequestId>{id}</RequestId></Error>"
    );
    Reply::raw(status, "application/xml", body)
}
