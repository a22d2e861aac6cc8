//! A loopback emulator of 8x8's OAuth token endpoint and Contact Center realtime-metrics API,
//! answering as 8x8's Apigee gateway does (string numbers, Apigee fault bodies), with faults on
//! demand. It runs in-process for Rust tests ([`Emulator::start`]) or as the `x8-emulator`
//! binary for tests in other languages, which drive it through `/_emulator/...`.

mod admin;
mod api;
mod apigee;
mod bearer;
mod config;
mod content;
mod data;
mod echo;
mod faults;
mod fiql;
mod historical;
mod http;
mod presign;
mod realtime;
mod rfc6749;
mod server;
mod state;
mod stats;
mod storage;
mod storage_catalog;
mod tls;
mod token_endpoint;
mod token_log;
mod tokens;
mod zip;

pub use config::{
    ApiForms, ClientSpec, EmulatorConfig, ReplyShape, TokenMode, OAUTH_PRODUCTS, QM_PRODUCT,
    REALTIME_PRODUCT, STORAGE_PRODUCT, VCC_PRODUCT,
};
pub use faults::{Fault, FaultMatch, FaultTarget};
pub use presign::PresignedRequest;
pub use stats::Stats;
pub use storage::PresignReply;
pub use storage_catalog::NewObject;
pub use token_log::{TokenRequest, REDACTED};

use http::{Incoming, Reply};
use state::State;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Runtime;

/// How long Drop waits for the runtime's threads to finish. Stopping drops every task at its
/// next await, so this only bounds a handler caught mid-computation.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// A running emulator, listening on 127.0.0.1. Dropping it stops it.
pub struct Emulator {
    state: Arc<State>,
    /// Owns every task: the accept loop and one per connection. Only None once dropped.
    runtime: Option<Runtime>,
    port: u16,
    presign_port: u16,
    ca_pem: Option<String>,
}

impl Emulator {
    /// Binds 127.0.0.1 (never another interface) and starts serving. The port is accepting
    /// connections when this returns.
    pub fn start(cfg: EmulatorConfig) -> io::Result<Emulator> {
        let tls = if cfg.tls_self_signed {
            Some(tls::generate()?)
        } else {
            None
        };
        let acceptor = tls.as_ref().map(|m| m.acceptor()).transpose()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cfg.threads.max(1))
            .thread_name("x8-emulator")
            .enable_io()
            .enable_time()
            .build()?;
        // Bound here rather than in the accept task, so that binding errors reach the caller and
        // the ports listen before start returns.
        let bind = |port: u16| -> io::Result<(tokio::net::TcpListener, u16)> {
            let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
            listener.set_nonblocking(true)?;
            let port = listener.local_addr()?.port();
            let _in_runtime = runtime.enter();
            Ok((tokio::net::TcpListener::from_std(listener)?, port))
        };
        let (listener, port) = bind(cfg.port)?;
        // The presigned-URL host: another port, so another origin to any client.
        let (presign_listener, presign_port) = bind(0)?;
        let scheme = if cfg.tls_self_signed { "https" } else { "http" };
        let presign_origin = format!("{scheme}://127.0.0.1:{presign_port}");
        let state = Arc::new(State::new(&cfg, &presign_origin));
        runtime.spawn(server::accept(
            listener,
            acceptor.clone(),
            state.clone(),
            server::Origin::Api,
        ));
        runtime.spawn(server::accept(
            presign_listener,
            acceptor,
            state.clone(),
            server::Origin::Presigned,
        ));
        Ok(Emulator {
            state,
            runtime: Some(runtime),
            port,
            presign_port,
            ca_pem: tls.map(|m| m.ca_pem),
        })
    }

    pub fn base_url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The second origin, which storage's presigned URLs point to (in TLS mode, with the same
    /// certificate).
    pub fn presign_base_url(&self) -> String {
        self.state.presign_origin.clone()
    }

    pub fn presign_port(&self) -> u16 {
        self.presign_port
    }

    /// Every request the second origin received since the start or the last reset, with all
    /// its headers (the latest 1000).
    pub fn presigned_requests(&self) -> Vec<PresignedRequest> {
        self.state.presign().requests()
    }

    /// Adds a storage object with generated content (e.g. 200 MB, never held in memory) and
    /// returns its id.
    pub fn add_storage_object(&self, spec: NewObject) -> String {
        admin::add_storage_object(&self.state, spec)
            .map(|(id, _)| id)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// SHA-256 (hex) of a storage object's content, computed (once) by reading it all.
    pub fn storage_object_sha256(&self, id: &str) -> Option<String> {
        admin::storage_object(&self.state, id).map(|o| o.sha256())
    }

    /// The body of `presignUrl=true` replies from now on.
    pub fn set_presign_reply(&self, form: PresignReply) {
        self.state.settings().presign_reply = form;
    }

    /// In TLS mode, the PEM certificate a client must trust (as its CA bundle) to reach this emulator.
    pub fn ca_cert_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    pub fn stats(&self) -> Stats {
        self.state.stats.snapshot()
    }

    /// The next `count` requests to `target` get `fault` (after any faults pushed before it).
    pub fn push_fault(&self, target: FaultTarget, fault: Fault, count: u32) {
        self.state
            .faults
            .push(target, fault, count, FaultMatch::default());
    }

    /// The next `count` requests to `target` that `matcher` matches get `fault`; other requests
    /// pass it by (e.g. fail page 2 of a listing once, so a client's retry of one page is seen).
    pub fn push_fault_matching(
        &self,
        target: FaultTarget,
        fault: Fault,
        count: u32,
        matcher: FaultMatch,
    ) {
        self.state.faults.push(target, fault, count, matcher);
    }

    /// Every token request waits this long before it is answered (0: no wait), so clients'
    /// concurrent fetches overlap and can be seen to be coalesced.
    pub fn set_token_delay_ms(&self, ms: u64) {
        self.state.settings().token_delay_ms = ms;
    }

    /// Every token issued so far becomes invalid, as when a key is deleted in the Admin Console.
    pub fn revoke_all_tokens(&self) {
        self.state.tokens().revoke_all();
    }

    /// Every token issued so far is treated as expired, whatever its `expires_in` said.
    pub fn expire_all_tokens(&self) {
        self.state.tokens().expire_all();
    }

    /// The lifetime of tokens issued from now on.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.state.settings().token_lifetime = secs;
    }

    /// The status of the "Access Token expired" fault from now on.
    pub fn set_expired_status(&self, status: u16) {
        self.state.settings().expired_status = status;
    }

    /// The shape of token replies from now on.
    pub fn set_reply_shape(&self, shape: ReplyShape) {
        self.state.settings().reply_shape = shape;
    }

    /// How the token endpoint authenticates and answers from now on.
    pub fn set_token_mode(&self, mode: TokenMode) {
        self.state.settings().token_mode = mode;
    }

    /// The token requests received since the start or the last reset, oldest first (the latest
    /// 1000), secrets redacted.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.state.token_log.all()
    }

    /// How long historical summary reports (and bulk downloads) take to be DONE, from now on.
    pub fn set_report_delay_ms(&self, ms: u64) {
        self.state.settings().report_delay_ms = ms;
    }

    /// Which of the specs' and guides' reply shapes disputed replies take from now on.
    pub fn set_api_forms(&self, forms: ApiForms) {
        self.state.settings().api_forms = forms;
    }

    /// Logs one line per request to stderr.
    pub fn set_verbose(&self, on: bool) {
        self.state.verbose.store(on, Ordering::Relaxed);
    }

    /// Zeroes the counters (the connection count starts afresh) and drops pending faults.
    /// Tokens stay valid.
    pub fn reset(&self) {
        self.state.reset();
    }
}

impl Drop for Emulator {
    /// Shutting the runtime down drops every task: the listener closes, and so does every
    /// connection, idle kept-alive ones and those stalled in a delay or an endless body included,
    /// so a client's pooled connection fails at once instead of waiting for a reply.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Inside another runtime (an async test) blocking is refused, so the threads are left
            // to finish on their own, which they do as soon as they see the shutdown.
            if tokio::runtime::Handle::try_current().is_ok() {
                runtime.shutdown_background();
            } else {
                runtime.shutdown_timeout(STOP_GRACE);
            }
        }
    }
}

async fn dispatch(state: &State, req: &Incoming, body: &[u8]) -> Reply {
    if req.path.starts_with(admin::PREFIX) {
        return admin::handle(state, req, body);
    }
    if req.path == token_endpoint::PATH {
        let _in_flight = state.stats.token_started();
        state
            .token_log
            .record(token_log::TokenRequest::of(req, body));
        state.stats.bump(|s| &mut s.token_requests);
        state.stats.saw_connection(req.connection);
        state.stats.saw_path(&req.path);
        let delay = state.settings().token_delay_ms;
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if let Some(reply) = injected(state, FaultTarget::Token, req).await {
            state.stats.bump(|s| &mut s.token_failures);
            return reply;
        }
        return token_endpoint::handle(state, req, body);
    }
    if let Some(route) = api::route(&req.path) {
        state.stats.bump(|s| &mut s.api_requests);
        state.stats.saw_connection(req.connection);
        state.stats.saw_path(&req.path);
        if let Some(reply) = injected(state, FaultTarget::Api, req).await {
            return reply;
        }
        return api::handle(state, req, body, route);
    }
    Reply::json(404, &serde_json::json!({"message": "Not found"}))
}

/// The reply replacing normal processing, if a fault is due; a delay fault waits here (without
/// holding a thread) and lets processing go on.
pub(crate) async fn injected(state: &State, target: FaultTarget, req: &Incoming) -> Option<Reply> {
    let fault = state.faults.next(target, req)?;
    state.stats.bump(|s| &mut s.faults_injected);
    if let Fault::Delay { ms } = fault {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    fault.reply()
}

#[cfg(test)]
mod tests {
    #[test]
    fn emulator_can_be_shared_between_test_threads() {
        fn is<T: Send + Sync>() {}
        is::<super::Emulator>();
    }
}
