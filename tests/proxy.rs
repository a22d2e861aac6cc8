//! Proxies: a client configured with an HTTP proxy reaches the API and the token endpoint only through it (an
//! HTTP CONNECT tunnel, the way corporate proxies carry HTTPS), and a SOCKS proxy, which x8 cannot speak, is
//! refused with a clear error instead of being bypassed.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use common::*;
use x8::{Client, Credentials, ErrorKind, ProxySetting};

/// A minimal CONNECT proxy on loopback: it counts the tunnels it opened and the targets asked for.
struct ConnectProxy {
    url: String,
    tunnels: Arc<AtomicUsize>,
    targets: Arc<parking_lot::Mutex<Vec<String>>>,
}

impl ConnectProxy {
    fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let tunnels = Arc::new(AtomicUsize::new(0));
        let targets = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let (t, g) = (tunnels.clone(), targets.clone());
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (t, g) = (t.clone(), g.clone());
                thread::spawn(move || tunnel(client, &t, &g));
            }
        });
        ConnectProxy {
            url,
            tunnels,
            targets,
        }
    }
}

fn tunnel(client: TcpStream, tunnels: &AtomicUsize, targets: &parking_lot::Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
    }
    let mut words = request_line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (words.next(), words.next()) else {
        let _ =
            (&client).write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    targets.lock().push(target.to_owned());
    let upstream = TcpStream::connect(target).unwrap();
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

#[test]
fn token_and_api_requests_go_through_an_http_connect_proxy() {
    let emu = emulator();
    let proxy = ConnectProxy::start();
    let client = client_with(&emu, |o| o.proxy = ProxySetting::Url(proxy.url.clone()));
    for _ in 0..3 {
        let reply = client
            .request(&get("/analytics/cc/v5/realtime-metrics/queues"))
            .unwrap();
        assert_eq!(reply.status, 200);
    }
    let target = format!("127.0.0.1:{}", emu.port());
    let targets = proxy.targets.lock().clone();
    assert!(!targets.is_empty());
    assert!(targets.iter().all(|t| *t == target), "{targets:?}");
    // Pooled: the token fetch and three API calls did not each open a tunnel.
    assert!(proxy.tunnels.load(Ordering::SeqCst) <= 2, "{targets:?}");
    assert_eq!(emu.stats().token_requests, 1);
    assert_eq!(emu.stats().api_requests, 3);
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
