//! Proxies: a client configured with an HTTP proxy reaches remote HTTPS hosts only through it (an HTTP CONNECT
//! tunnel, the way corporate proxies carry HTTPS); loopback and plain http:// targets never go through a proxy
//! (the proxy would see the Basic credentials and tokens in clear); and a SOCKS proxy, which x8 cannot speak,
//! is refused with a clear error instead of being bypassed.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use common::*;
use std::time::Duration;
use x8::{Client, Credentials, ErrorKind, Options, ProxySetting};

/// A minimal CONNECT proxy on loopback: it counts the tunnels it opened and the targets asked for.
struct ConnectProxy {
    url: String,
    tunnels: Arc<AtomicUsize>,
    targets: Arc<parking_lot::Mutex<Vec<String>>>,
    /// Every byte of every request head the proxy received, whatever it was.
    heads: Arc<parking_lot::Mutex<Vec<String>>>,
}

impl ConnectProxy {
    fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let tunnels = Arc::new(AtomicUsize::new(0));
        let targets = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let heads = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let (t, g, h) = (tunnels.clone(), targets.clone(), heads.clone());
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (t, g, h) = (t.clone(), g.clone(), h.clone());
                thread::spawn(move || tunnel(client, &t, &g, &h));
            }
        });
        ConnectProxy {
            url,
            tunnels,
            targets,
            heads,
        }
    }
}

fn tunnel(
    client: TcpStream,
    tunnels: &AtomicUsize,
    targets: &parking_lot::Mutex<Vec<String>>,
    heads: &parking_lot::Mutex<Vec<String>>,
) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut head = request_line.clone();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    heads.lock().push(head);
    let mut words = request_line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (words.next(), words.next()) else {
        let _ =
            (&client).write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    targets.lock().push(target.to_owned());
    let Ok(upstream) = TcpStream::connect(target) else {
        let _ = (&client).write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    tunnels.fetch_add(1, Ordering::SeqCst);
    (&client)
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
    let mut down_write = client;
    thread::spawn(move || {
        let _ = std::io::copy(&mut up_read, &mut down_write);
        let _ = down_write.shutdown(std::net::Shutdown::Both);
    });
    // The reader may hold bytes the client sent right after the CONNECT head: they go upstream first.
    let _ = up_write.write_all(reader.buffer());
    let _ = std::io::copy(reader.get_mut(), &mut up_write);
    let _ = up_write.shutdown(std::net::Shutdown::Both);
}

/// An https:// host that is not loopback is reached through the proxy's CONNECT tunnel, by name (the proxy
/// resolves it), and the CONNECT head carries no credentials of ours. The name does not exist, so the proxy
/// answers 502 and the call fails: what matters is what the proxy was asked.
#[test]
fn a_remote_https_host_is_reached_through_the_connect_proxy() {
    let proxy = ConnectProxy::start();
    let o = Options {
        base_url: "https://api.x8-proxy.test".into(),
        proxy: ProxySetting::Url(proxy.url.clone()),
        timeout: Duration::from_secs(5),
        max_retries: 0,
        ..Options::default()
    };
    let client = Client::new(Credentials::new(ID, SECRET).unwrap(), o).unwrap();
    let err = client.token(None).unwrap_err();
    no_secrets(&err, &[]);
    assert_eq!(*proxy.targets.lock(), ["api.x8-proxy.test:443"]);
    let heads = proxy.heads.lock().join("");
    assert!(
        !heads.to_ascii_lowercase().contains("authorization"),
        "{heads}"
    );
}

/// Loopback targets (the emulator, a sidecar) and plain http:// never go through a proxy, whether it was set
/// by hand or by `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`: the proxy receives nothing, in particular not the
/// Basic credentials that a plain-http token request carries.
#[test]
fn loopback_targets_never_go_through_a_proxy() {
    let emu = emulator();
    let proxy = ConnectProxy::start();
    let with_password = proxy.url.replace("http://", "http://proxyuser:proxypass@");
    for name in [
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "ALL_PROXY",
        "https_proxy",
        "http_proxy",
    ] {
        std::env::set_var(name, &with_password);
    }
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
    for setting in [
        ProxySetting::FromEnvironment,
        ProxySetting::Url(with_password.clone()),
    ] {
        let client = client_with(&emu, |o| o.proxy = setting.clone());
        for _ in 0..3 {
            let reply = client
                .request(&get("/analytics/cc/v5/realtime-metrics/queues"))
                .unwrap();
            assert_eq!(reply.status, 200, "{setting:?}");
        }
    }
    for name in [
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "ALL_PROXY",
        "https_proxy",
        "http_proxy",
    ] {
        std::env::remove_var(name);
    }
    assert!(proxy.heads.lock().is_empty(), "{:?}", proxy.heads.lock());
    assert_eq!(proxy.tunnels.load(Ordering::SeqCst), 0);
    assert_eq!(emu.stats().token_requests, 2);
}

#[test]
fn a_socks_proxy_is_refused_rather_than_bypassed() {
    let emu = emulator();
    let mut o = options(&emu);
    o.proxy = ProxySetting::Url("socks5://127.0.0.1:1080".into());
    let Err(err) = Client::new(Credentials::new(ID, SECRET).unwrap(), o) else {
        panic!("a SOCKS proxy was accepted");
    };
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(no_secrets(&err, &[]).contains("SOCKS"), "{err}");
}
