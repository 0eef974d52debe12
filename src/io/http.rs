//! The HTTP listener for `/metrics` and `/healthz` (config `metrics_listen`).
//!
//! A deliberately small HTTP/1.1 server: GET only, one response per
//! connection, bounded request size. Nothing else is served.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the listener asks for on each request.
pub trait Endpoints: Send + Sync + 'static {
    /// The Prometheus text.
    fn metrics(&self) -> String;
    /// `Ok(body)` when healthy, `Err(body)` when not.
    fn health(&self) -> Result<String, String>;
}

/// Serves until `stop` fires.
pub async fn serve(listener: Arc<TcpListener>, endpoints: Arc<dyn Endpoints>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let endpoints = endpoints.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), handle(stream, endpoints)).await;
                });
            }
            _ = stop.changed() => break,
        }
    }
}

async fn handle(mut stream: TcpStream, endpoints: Arc<dyn Endpoints>) -> std::io::Result<()> {
    let mut buf = vec![0u8; 8192];
    let mut len = 0;
    while len < buf.len() {
        let n = stream.read(&mut buf[len..]).await?;
        if n == 0 {
            break;
        }
        len += n;
        if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") || buf[..len].windows(2).any(|w| w == b"\n\n") {
            break;
        }
    }
    let request = String::from_utf8_lossy(&buf[..len]);
    let mut words = request.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, ctype, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/metrics") => ("200 OK", "text/plain; version=0.0.4; charset=utf-8", endpoints.metrics()),
        ("GET", "/healthz") => match endpoints.health() {
            Ok(b) => ("200 OK", "text/plain; charset=utf-8", b),
            Err(b) => ("503 Service Unavailable", "text/plain; charset=utf-8", b),
        },
        ("GET", _) => ("404 Not Found", "text/plain; charset=utf-8", "not found\n".to_string()),
        _ => ("405 Method Not Allowed", "text/plain; charset=utf-8", "GET only\n".to_string()),
    };
    let head = format!("HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}
