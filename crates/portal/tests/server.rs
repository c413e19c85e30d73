//! The portal's connections over real sockets: a client that does not finish its request's
//! head is disconnected after the header read timeout, nor its body after the body read
//! timeout, an oversized head is refused, and connections beyond the cap wait.

mod common;

use std::time::{Duration, Instant};

use common::Portal;
use portal::server::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Serve a fresh portal with these limits; returns its address and a handle that stops it.
async fn start(
    limits: Limits,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    Portal,
) {
    let p = Portal::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = portal::router(p.state.clone());
    tokio::spawn(portal::server::serve(listener, app, limits, None, async {
        let _ = stopped.await;
    }));
    (addr, stop, p)
}

/// Everything the server sends until it closes the connection (or `within` passes).
async fn read_all(s: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let until = Instant::now() + within;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (out, false),
        }
    }
}

fn limits(timeout_ms: u64, connections: usize) -> Limits {
    Limits {
        header_read_timeout: Duration::from_millis(timeout_ms),
        max_connections: connections,
        ..Limits::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_a_request_line_is_disconnected_after_the_timeout() {
    let (addr, _stop, _p) = start(limits(400, 16)).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /hea").await.unwrap();
    let started = Instant::now();
    let (_, closed) = read_all(&mut s, Duration::from_secs(5)).await;
    assert!(closed, "the connection is closed");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(4),
        "{took:?}"
    );
    // A whole request is answered as before.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (got, _) = read_all(&mut s, Duration::from_secs(5)).await;
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_32_kib_header_block_is_refused() {
    let (addr, _stop, _p) = start(Limits::default()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut req = b"GET /health HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..32 {
        req.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "a".repeat(1000)).as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    // The server may close before reading it all: a failed write is part of the refusal.
    let _ = s.write_all(&req).await;
    let (got, closed) = read_all(&mut s, Duration::from_secs(5)).await;
    assert!(closed);
    let text = String::from_utf8_lossy(&got);
    // 431, or (when the reset for the unread rest overtakes it) nothing: never served.
    assert!(
        text.starts_with("HTTP/1.1 431") || text.is_empty(),
        "refused: {text}"
    );
    // 15 KiB of headers pass.
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut req = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".to_vec();
    for i in 0..15 {
        req.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "a".repeat(1000)).as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    s.write_all(&req).await.unwrap();
    let (got, _) = read_all(&mut s, Duration::from_secs(5)).await;
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let (addr, _stop, _p) = start(limits(800, 2)).await;
    let mut idle = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET").await.unwrap();
        idle.push(s);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (got, _) = read_all(&mut s, Duration::from_secs(10)).await;
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "served only once an idle connection was closed: {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_arrive_frees_its_connection_after_the_timeout() {
    let (addr, _stop, _p) = start(Limits {
        body_read_timeout: Duration::from_millis(500),
        ..limits(10_000, 1)
    })
    .await;
    // The only connection: a head, then a few bytes of the 100 promised, then nothing.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let (_, closed) = read_all(&mut s, Duration::from_secs(5)).await;
    assert!(closed, "the connection is closed");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(4),
        "{took:?}"
    );
    // Its slot is free again.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (got, _) = read_all(&mut s, Duration::from_secs(5)).await;
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}
