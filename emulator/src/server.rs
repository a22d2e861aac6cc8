//! The transport: accepting connections (TLS or not) and serving HTTP/1 on each with hyper.
//!
//! Every accepted connection gets its own task at once, so no connection waits on another; the
//! thread-pool server this replaced could leave a new connection unread while others idled.

use crate::http::{self, Incoming};
use crate::state::State;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Accepts until the runtime shuts down, which drops this task and with it the listener.
/// Which origin a listener serves: the 8x8 API host, or the host of presigned URLs.
#[derive(Clone, Copy)]
pub(crate) enum Origin {
    Api,
    Presigned,
}

pub(crate) async fn accept(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    state: Arc<State>,
    origin: Origin,
) {
    let mut accepted: u64 = 0;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(conn) => conn,
            // Out of descriptors, or a client that gave up while queued: the listener is still
            // good, so pause rather than spin, then go on.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        accepted += 1;
        let connection = accepted;
        // Replies go out in one write; Nagle's algorithm would only hold back a reply's tail.
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                // The handshake runs in the connection's task, so a slow one holds up no other.
                Some(tls) => {
                    if let Ok(stream) = tls.accept(stream).await {
                        serve(stream, peer, connection, state, origin).await;
                    }
                }
                None => serve(stream, peer, connection, state, origin).await,
            }
        });
    }
}

/// Serves requests on one connection, kept alive for as long as the client keeps it.
async fn serve<S>(stream: S, peer: SocketAddr, connection: u64, state: Arc<State>, origin: Origin)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let state = state.clone();
        async move {
            let (parts, body) = request.into_parts();
            let incoming = Incoming::of(&parts, connection);
            let body = http::read_body(body).await;
            let reply = match origin {
                Origin::Api => crate::dispatch(&state, &incoming, &body).await,
                Origin::Presigned => crate::presign::dispatch(&state, &incoming).await,
            };
            let response = http::response(reply);
            if state.verbose.load(Ordering::Relaxed) {
                let shown = match &response {
                    Ok(r) => r.status().as_u16().to_string(),
                    Err(_) => "dropped".to_string(),
                };
                eprintln!("{peer} {} {} -> {shown}", incoming.method, incoming.path);
            }
            response
        }
    });
    // An error only means the connection ended badly (client gone, dropped reply); it has
    // nobody to be reported to.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
