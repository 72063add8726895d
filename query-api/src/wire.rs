//! Serving HTTP so that every error is JSON, even those the HTTP library
//! answers by itself.
//!
//! axum's handlers and fallbacks answer JSON (see [`crate::error`]). A
//! request hyper cannot parse never reaches them: a raw 0xff byte in the
//! request line, a URI over 64 KiB, headers too large. hyper then writes a
//! bare `400`, `414` or `431` with an empty body and closes the connection.
//! [`JsonErrorsListener`] wraps each connection so that such an empty error
//! response is rewritten on its way out into the same JSON as every other
//! error (`{"error": "...", "code": "...", "status": N}`).
//!
//! Only a response that is an error (4xx or 5xx), has no body and is
//! written whole in one write, from one buffer, is rewritten: that is what
//! hyper's automatic answers look like (a head alone); trawl's own
//! handlers never answer an error without a body.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::Router;
use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Serves `router` on `listener` until `shutdown` resolves, with every
/// error answered as JSON: unknown paths (404) and methods (405) too.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_app(listener, with_json_fallbacks(router), false, shutdown).await
}

/// `router` with unknown paths (404) and methods (405) answered as JSON.
/// Layers added after this wrap those answers too (CORS must).
pub fn with_json_fallbacks(router: Router) -> Router {
    router
        .fallback(crate::error::not_found)
        .method_not_allowed_fallback(crate::error::method_not_allowed)
}

/// Serves an app whose fallbacks are set ([`with_json_fallbacks`]), with
/// each request's peer address ([`PeerAddr`]) when `peer_addresses`: the
/// rate limit's client. Without a rate limit nothing reads it, and adding
/// it to every request cost 1.7% of the cache hits a second
/// (BENCHMARKS.md §17).
pub async fn serve_app(
    listener: TcpListener,
    router: Router,
    peer_addresses: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = JsonErrorsListener(listener);
    if peer_addresses {
        let service = router.into_make_service_with_connect_info::<PeerAddr>();
        axum::serve(listener, service)
            .with_graceful_shutdown(shutdown)
            .await
    } else {
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// The address a connection comes from, for the rate limit
/// ([`crate::access`]).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, JsonErrorsListener>>
    for PeerAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, JsonErrorsListener>) -> PeerAddr {
        PeerAddr(*stream.remote_addr())
    }
}

/// A TCP listener whose connections answer hyper's own errors as JSON.
pub struct JsonErrorsListener(pub TcpListener);

impl Listener for JsonErrorsListener {
    type Io = JsonErrorsIo;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.0).await;
        (
            JsonErrorsIo {
                stream,
                rewritten: None,
            },
            addr,
        )
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// One connection; see the module.
pub struct JsonErrorsIo {
    stream: TcpStream,
    /// A rewritten response being written: its bytes, how many are written,
    /// and how many bytes of the caller's buffer it stands for.
    rewritten: Option<(Vec<u8>, usize, usize)>,
}

impl AsyncRead for JsonErrorsIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl JsonErrorsIo {
    /// Writes the rewritten response to its end; answers the length of the
    /// caller's buffer it stands for.
    fn poll_rewritten(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let (bytes, written, stands_for) = self.rewritten.as_mut().expect("a rewritten response");
        while *written < bytes.len() {
            let n = ready!(Pin::new(&mut self.stream).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        let stands_for = *stands_for;
        self.rewritten = None;
        Poll::Ready(Ok(stands_for))
    }
}

impl AsyncWrite for JsonErrorsIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.rewritten.is_none() {
            match json_error_response(buf) {
                Some(bytes) => this.rewritten = Some((bytes, 0, buf.len())),
                None => return Pin::new(&mut this.stream).poll_write(cx, buf),
            }
        }
        this.poll_rewritten(cx)
    }

    /// hyper writes a response's head and its body's chunks together,
    /// each from its own buffer (a search answer's body is not copied). An
    /// automatic error response has no body: it is one buffer, its head.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.rewritten.is_none() {
            let mut filled = bufs.iter().filter(|buf| !buf.is_empty());
            let rewritten = match (filled.next(), filled.next()) {
                (Some(only), None) => json_error_response(only).map(|bytes| (bytes, 0, only.len())),
                _ => None,
            };
            match rewritten {
                Some(rewritten) => this.rewritten = Some(rewritten),
                None => return Pin::new(&mut this.stream).poll_write_vectored(cx, bufs),
            }
        }
        this.poll_rewritten(cx)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }
}

/// The JSON version of `head` if it is a whole HTTP/1.1 error response
/// without a body; `None` for anything else.
pub fn json_error_response(head: &[u8]) -> Option<Vec<u8>> {
    // Every response passes here: answers (a search's, kilobytes long)
    // are told apart before any byte is read twice.
    if head.len() > 4096 || !head.ends_with(b"\r\n\r\n") || !head.starts_with(b"HTTP/1.1 ") {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let rest = text.strip_prefix("HTTP/1.1 ")?;
    let (status_line, headers) = rest.split_once("\r\n")?;
    let status: u16 = status_line.get(..3)?.parse().ok()?;
    if !(400..600).contains(&status) {
        return None;
    }
    let mut kept = Vec::new();
    for line in headers.split("\r\n").filter(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" if value.trim() == "0" => {}
            // A body, or one to come: not an empty answer.
            "content-length" | "transfer-encoding" => return None,
            "connection" | "content-type" => {}
            _ => kept.push(line),
        }
    }
    let reason = status_line.get(4..).unwrap_or("").trim();
    let (code, message) = match status {
        400 => (
            "malformed_request",
            "bad request: the request could not be parsed (invalid bytes or syntax)".to_string(),
        ),
        414 => ("uri_too_long", "URI too long".to_string()),
        431 => ("headers_too_large", "request headers too large".to_string()),
        _ => ("http_error", reason.to_lowercase()),
    };
    let body = serde_json::json!({ "error": message, "code": code, "status": status }).to_string();
    let mut out = format!(
        "HTTP/1.1 {status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for line in kept {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&body);
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_error_responses_become_json() {
        let head =
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: Thu, 03 Dec 2026 10:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(json_error_response(head).unwrap()).unwrap();
        let (headers, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(headers.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{headers}");
        assert!(headers.contains("content-type: application/json"));
        assert!(headers.contains(&format!("content-length: {}", body.len())));
        assert!(headers.contains("date: Thu"));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["status"], 400);
        assert_eq!(json["code"], "malformed_request");
        assert!(json["error"].as_str().unwrap().contains("could not be parsed"));

        let head = b"HTTP/1.1 414 URI Too Long\r\n\r\n";
        assert!(json_error_response(head).is_some());
    }

    #[test]
    fn other_responses_pass_untouched() {
        for head in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n",
            b"HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{\"body\": 1}",
            b"{\"error\": \"HTTP/1.1 400\"}",
        ] {
            assert_eq!(
                json_error_response(head),
                None,
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }
}
