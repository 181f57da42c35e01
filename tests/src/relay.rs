//! A relay on 127.0.0.1 in front of the emulator that adds one header to every 429 it passes
//! back. The emulator cannot put `Retry-After` (or a reset date without `msBeforeNext`) on a
//! 429 of its own: an injected `Fault::respond` sets only the content type. Every request still
//! reaches, and is journaled by, the emulator.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// Starts a relay on 127.0.0.1 that passes every request to `upstream` unchanged (one
/// connection per request: `Connection: close` both ways) and adds `name: value` to every 429
/// it passes back. Returns the relay's base URL. The thread lives as long as the test process.
pub fn relay_adding_to_429(upstream: SocketAddr, name: &'static str, value: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("the relay binds 127.0.0.1");
    let addr = listener.local_addr().expect("the relay's address");
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            let Ok(connection) = connection else { continue };
            if let Err(e) = relay_one(connection, upstream, name, &value) {
                eprintln!("relay: {e}");
            }
        }
    });
    format!("http://{addr}")
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Relays one request and its answer.
fn relay_one(
    mut downstream: TcpStream,
    upstream: SocketAddr,
    name: &str,
    value: &str,
) -> std::io::Result<()> {
    let limit = Some(Duration::from_secs(30));
    downstream.set_read_timeout(limit)?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = downstream.read(&mut chunk)?;
        if n == 0 {
            // A connection opened and closed without a request.
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let lines: Vec<&str> = head
        .trim_end()
        .split("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    let body_len = lines
        .iter()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    while buf.len() < head_end + body_len {
        let n = downstream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut up = TcpStream::connect(upstream)?;
    up.set_read_timeout(limit)?;
    up.write_all(format!("{}\r\nconnection: close\r\n\r\n", lines.join("\r\n")).as_bytes())?;
    up.write_all(&buf[head_end..head_end + body_len])?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    let status_end = find(&answer, b"\r\n").unwrap_or(answer.len());
    let is_429 = String::from_utf8_lossy(&answer[..status_end])
        .split(' ')
        .nth(1)
        == Some("429");
    if is_429 {
        let extra = format!("\r\n{name}: {value}");
        answer.splice(status_end..status_end, extra.into_bytes());
    }
    downstream.write_all(&answer)?;
    downstream.shutdown(std::net::Shutdown::Both)
}
