//! A minimal HTTP/1.1 client for the tests and the benchmark: one request, or a Server-Sent
//! Events stream read event by event. Raw tokio sockets, no client library.
#![allow(dead_code)]

use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One SSE stream.
pub struct SseClient {
    reader: BufReader<TcpStream>,
    chunked: bool,
}

/// One event (or a keep-alive comment, with `event` "comment").
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub event: String,
    pub id: String,
    pub data: String,
}

impl SseClient {
    /// Opens `path` with `Authorization: Bearer <token>`; fails unless the answer is 200
    /// `text/event-stream`.
    pub async fn connect(addr: SocketAddr, path: &str, token: &str) -> std::io::Result<Self> {
        let mut s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await?;
        let mut reader = BufReader::new(s);
        let mut status = String::new();
        reader.read_line(&mut status).await?;
        let mut chunked = false;
        let mut is_sse = false;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await?;
            let l = line.trim_end().to_ascii_lowercase();
            if l.is_empty() {
                break;
            }
            chunked |= l == "transfer-encoding: chunked";
            is_sse |= l.starts_with("content-type: text/event-stream");
        }
        if !status.contains(" 200 ") || !is_sse {
            return Err(std::io::Error::other(format!(
                "not an event stream: {}",
                status.trim()
            )));
        }
        Ok(Self { reader, chunked })
    }

    async fn line(&mut self) -> std::io::Result<Option<String>> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
    }

    /// The next event or comment; `None` at the end of the stream.
    pub async fn next(&mut self) -> std::io::Result<Option<SseEvent>> {
        let mut ev = SseEvent {
            event: String::new(),
            id: String::new(),
            data: String::new(),
        };
        let mut any = false;
        loop {
            let Some(line) = self.line().await? else {
                return Ok(None);
            };
            // Chunk-size lines of chunked encoding are hex numbers alone on a line; SSE lines
            // always contain a colon or are empty.
            if self.chunked
                && !line.is_empty()
                && !line.contains(':')
                && line.chars().all(|c| c.is_ascii_hexdigit())
            {
                if line == "0" {
                    return Ok(None);
                }
                continue;
            }
            if line.is_empty() {
                if any {
                    return Ok(Some(ev));
                }
                continue;
            }
            any = true;
            if let Some(c) = line.strip_prefix(':') {
                ev.event = "comment".into();
                ev.data = c.trim().to_string();
            } else if let Some(v) = line.strip_prefix("event:") {
                ev.event = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("id:") {
                ev.id = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                ev.data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
    }

    /// The next `state` event (skipping comments).
    pub async fn next_state(&mut self) -> std::io::Result<Option<SseEvent>> {
        loop {
            match self.next().await? {
                Some(e) if e.event == "state" => return Ok(Some(e)),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }
}

/// A keep-alive HTTP/1.1 connection for repeated GETs (the load benchmark).
pub struct HttpConn {
    reader: BufReader<TcpStream>,
    addr: SocketAddr,
}

impl HttpConn {
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Self {
            reader: BufReader::new(s),
            addr,
        })
    }

    /// GET `path` with a bearer token; returns the status and body length.
    pub async fn get(&mut self, path: &str, token: &str) -> std::io::Result<(u16, usize)> {
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\r\n",
            self.addr
        );
        self.reader.get_mut().write_all(req.as_bytes()).await?;
        let mut status = String::new();
        self.reader.read_line(&mut status).await?;
        let code: u16 = status
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).await? == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            let l = line.trim_end().to_ascii_lowercase();
            if l.is_empty() {
                break;
            }
            if let Some(v) = l.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; len];
        self.reader.read_exact(&mut body).await?;
        Ok((code, len))
    }
}
