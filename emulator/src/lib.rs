//! A loopback emulator of 8x8's OAuth token endpoint and Contact Center realtime-metrics API,
//! answering as 8x8's Apigee gateway does (string numbers, Apigee fault bodies), with faults on
//! demand. It runs in-process for Rust tests ([`Emulator::start`]) or as the `x8-emulator`
//! binary for tests in other languages, which drive it through `/_emulator/...`.

mod admin;
mod api;
mod apigee;
mod config;
mod data;
mod faults;
mod http;
mod sockets;
mod state;
mod stats;
mod tls;
mod token_endpoint;
mod tokens;

pub use config::{ClientSpec, EmulatorConfig, ReplyShape, OAUTH_PRODUCTS, REALTIME_PRODUCT};
pub use faults::{Fault, FaultTarget};
pub use stats::Stats;

use http::{Incoming, Reply};
use state::State;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use tiny_http::{ConfigListenAddr, Server, ServerConfig, SslConfig};

/// How long a worker waits for a request before looking at the stop flag again.
const POLL: Duration = Duration::from_millis(100);
/// How long Drop waits for workers busy with a reply before leaving them behind. Generated
/// bodies are cut off at once; this bounds anything else a client can stall.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// A running emulator, listening on 127.0.0.1. Dropping it stops it.
pub struct Emulator {
    state: Arc<State>,
    server: Option<Arc<Server>>,
    workers: Vec<JoinHandle<()>>,
    port: u16,
    ca_pem: Option<String>,
}

impl Emulator {
    /// Binds 127.0.0.1 (never another interface) and starts the workers. The port is accepting
    /// connections when this returns.
    pub fn start(cfg: EmulatorConfig) -> io::Result<Emulator> {
        let tls = if cfg.tls_self_signed {
            Some(tls::generate()?)
        } else {
            None
        };
        let server = Server::new(ServerConfig {
            addr: ConfigListenAddr::from_socket_addrs(("127.0.0.1", cfg.port))?,
            ssl: tls.as_ref().map(|m| SslConfig {
                certificate: m.chain_pem.clone().into_bytes(),
                private_key: m.key_pem.clone().into_bytes(),
            }),
        })
        .map_err(io::Error::other)?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| io::Error::other("listener has no IP address"))?;
        let server = Arc::new(server);
        let state = Arc::new(State::new(&cfg, addr));
        let workers = (0..cfg.threads.max(1))
            .map(|i| {
                let server = Arc::downgrade(&server);
                let state = state.clone();
                thread::Builder::new()
                    .name(format!("x8-emulator-{i}"))
                    .spawn(move || work(&server, &state))
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Emulator {
            state,
            server: Some(server),
            workers,
            port: addr.port(),
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

    /// In TLS mode, the PEM certificate a client must trust (as its CA bundle) to reach this emulator.
    pub fn ca_cert_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    pub fn stats(&self) -> Stats {
        self.state.stats.snapshot()
    }

    /// The next `count` requests to `target` get `fault` (after any faults pushed before it).
    pub fn push_fault(&self, target: FaultTarget, fault: Fault, count: u32) {
        self.state.faults.push(target, fault, count);
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
    fn drop(&mut self) {
        self.state.wire.stop();
        if let Some(server) = &self.server {
            for _ in &self.workers {
                server.unblock();
            }
        }
        let deadline = Instant::now() + STOP_GRACE;
        for worker in self.workers.drain(..) {
            while !worker.is_finished() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(5));
            }
            if worker.is_finished() {
                let _ = worker.join();
            }
            // Otherwise it is left to finish on its own: it holds no strong reference to the
            // server, so the listener still closes below.
        }
        // tiny_http's Drop stops its accept thread and closes the listening socket.
        self.server.take();
        // Connections accepted while the workers were stopping.
        self.state.wire.close_connections();
    }
}

/// A worker holds the server weakly and only while waiting, so a worker stuck in a reply never
/// keeps the listener alive after the emulator is dropped.
fn work(server: &Weak<Server>, state: &State) {
    while !state.stopping() {
        let Some(server) = server.upgrade() else {
            return;
        };
        let request = server.recv_timeout(POLL);
        drop(server);
        match request {
            Ok(Some(request)) => serve(state, request),
            Ok(None) => {}
            // Only the accept thread failing gets here; there is nothing more to serve.
            Err(_) => thread::sleep(POLL),
        }
    }
}

fn serve(state: &State, mut request: tiny_http::Request) {
    let incoming = Incoming::of(&request);
    let body = http::read_body(&mut request);
    let reply = dispatch(state, &incoming, &body);
    let status = http::send(request, reply, &state.wire);
    if state.verbose.load(Ordering::Relaxed) {
        let peer = incoming.peer.map(|p| p.to_string()).unwrap_or_default();
        let shown = if status == 0 {
            "dropped".to_string()
        } else {
            status.to_string()
        };
        eprintln!("{peer} {} {} -> {shown}", incoming.method, incoming.path);
    }
}

fn dispatch(state: &State, req: &Incoming, body: &[u8]) -> Reply {
    if req.path.starts_with(admin::PREFIX) {
        return admin::handle(state, req, body);
    }
    if req.path == token_endpoint::PATH {
        state.stats.bump(|s| &mut s.token_requests);
        state.stats.saw_connection(req.peer.as_ref());
        if let Some(reply) = injected(state, FaultTarget::Token) {
            state.stats.bump(|s| &mut s.token_failures);
            return reply;
        }
        return token_endpoint::handle(state, req, body);
    }
    if let Some(route) = api::route(&req.path) {
        state.stats.bump(|s| &mut s.api_requests);
        state.stats.saw_connection(req.peer.as_ref());
        if let Some(reply) = injected(state, FaultTarget::Api) {
            return reply;
        }
        return api::handle(state, req, body, route);
    }
    Reply::json(404, &serde_json::json!({"message": "Not found"}))
}

/// The reply replacing normal processing, if a fault is due; a delay fault waits here and lets
/// processing go on.
fn injected(state: &State, target: FaultTarget) -> Option<Reply> {
    let fault = state.faults.next(target)?;
    state.stats.bump(|s| &mut s.faults_injected);
    if let Fault::Delay { ms } = fault {
        wait(state, Duration::from_millis(ms));
    }
    fault.reply()
}

/// Sleeps in short steps so that dropping the emulator is not held up by a long delay fault.
fn wait(state: &State, total: Duration) {
    let until = Instant::now() + total;
    while !state.stopping() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        thread::sleep(left.min(Duration::from_millis(20)));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn emulator_can_be_shared_between_test_threads() {
        fn is<T: Send + Sync>() {}
        is::<super::Emulator>();
    }
}
