//! `PUT|POST /upload/{name}`: a sink for streamed uploads. None of 8x8's OAuth APIs documents an
//! upload that a client would stream, so this generic one lets x8's streamed-upload path be
//! tested: the body is counted and hashed as it arrives (never held, whatever its size), and
//! what arrived is answered and kept for `GET /_emulator/uploads`. Any valid token will do.

use crate::bearer;
use crate::faults::FaultTarget;
use crate::http::{Incoming, Reply};
use crate::state::State;
use hyper::body::Body as _;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Mutex;

pub(crate) const PREFIX: &str = "/upload/";
const KEEP: usize = 1000;

/// One upload as received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub path: String,
    pub method: String,
    pub content_type: Option<String>,
    /// The Content-Length header, if the client sent one (None when it was chunked).
    pub content_length: Option<u64>,
    pub transfer_encoding: Option<String>,
    /// Bytes that arrived.
    pub bytes: u64,
    /// SHA-256 of them, hex.
    pub sha256: String,
    /// Whether the body arrived whole (false: the client broke off).
    pub complete: bool,
}

#[derive(Default)]
pub(crate) struct UploadLog {
    uploads: Mutex<VecDeque<Upload>>,
}

impl UploadLog {
    fn record(&self, upload: Upload) {
        let mut uploads = self.lock();
        if uploads.len() == KEEP {
            uploads.pop_front();
        }
        uploads.push_back(upload);
    }

    pub(crate) fn all(&self) -> Vec<Upload> {
        self.lock().iter().cloned().collect()
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Upload>> {
        self.uploads.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn is_upload(path: &str) -> bool {
    path.starts_with(PREFIX)
}

/// Counted, faulted and authenticated as any API call, then read to its end.
pub(crate) async fn receive(state: &State, req: &Incoming, body: hyper::body::Incoming) -> Reply {
    state.stats.bump(|s| &mut s.api_requests);
    state.stats.saw_connection(req.connection);
    state.stats.saw_path(&req.path);
    let cut = match crate::injected(state, FaultTarget::Api, req).await {
        Err(reply) => return reply,
        Ok(cut) => cut,
    };
    read(state, req, body).await.cut_body(cut)
}

async fn read(state: &State, req: &Incoming, mut body: hyper::body::Incoming) -> Reply {
    if let Err(rejection) = bearer::authorize(state, req, None) {
        state.stats.bump(|s| &mut s.api_rejected);
        return rejection;
    }
    if req.method != "PUT" && req.method != "POST" {
        return Reply::message(405, "Method Not Allowed").header("Allow", "PUT, POST");
    }
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut bytes = 0u64;
    let mut complete = true;
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    bytes += data.len() as u64;
                    ctx.update(&data);
                }
            }
            Err(_) => {
                complete = false;
                break;
            }
        }
    }
    let upload = Upload {
        path: req.path.clone(),
        method: req.method.clone(),
        content_type: req.header("Content-Type").map(String::from),
        content_length: req.header("Content-Length").and_then(|v| v.parse().ok()),
        transfer_encoding: req.header("Transfer-Encoding").map(String::from),
        bytes,
        sha256: crate::content::hex(ctx.finish().as_ref()),
        complete,
    };
    state.uploads.record(upload.clone());
    Reply::json(200, &upload)
}
