//! A whole connection: an arbitrary byte stream, cut at arbitrary points, through the HTTP
//! session with a handler that echoes. Nothing panics, every response starts with a status
//! line, and once the session says close it stays closed and writes nothing more.
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use roost::http::inbuf::InBuf;
use roost::http::output::{Chunk, Output};
use roost::http::session::{Env, Next, Session};
use roost::{Handler, Limits, Request, Response};

struct Echo;

impl Handler for Echo {
    fn handle(&self, req: &Request<'_>, res: &mut Response) {
        let _ = res.add_header("X-Path", req.path().as_bytes());
        if let Some(v) = req.header("x-status") {
            let code = v
                .iter()
                .fold(0u16, |n, &d| n.wrapping_mul(10).wrapping_add(u16::from(d)));
            let _ = res.set_status(code);
        }
        res.set_body(req.body());
    }

    fn wants_body(&self, req: &Request<'_>) -> bool {
        req.path().len() % 2 == 0
    }
}

fn drain(out: &mut Output, sent: &mut Vec<u8>) {
    while let Some(chunk) = out.front() {
        let n = match chunk {
            Chunk::Bytes { bytes, .. } => {
                sent.extend_from_slice(bytes);
                bytes.len()
            }
            Chunk::File { len, .. } => len as usize,
        };
        out.advance(n);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_head: 512,
        max_uri: 128,
        max_headers: 16,
        max_body: 1024,
    };
    let date = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    let mut response = Response::new();
    let mut session = Session::new();
    let mut input = InBuf::new();
    let mut out = Output::new();
    let mut sent = Vec::new();
    let mut closed = false;
    let step = usize::from(split % 32) + 1;
    for piece in rest.chunks(step) {
        input.prepare_read(piece.len()).extend_from_slice(piece);
        loop {
            let mut env = Env {
                handler: &Echo,
                limits: &limits,
                date: &date,
                now: 0,
                peer: SocketAddr::from(([127, 0, 0, 1], 1)),
                response: &mut response,
                stopping: false,
            };
            let before = sent.len();
            let next = session.process(&mut input, &mut out, &mut env);
            drain(&mut out, &mut sent);
            if closed {
                assert_eq!(sent.len(), before, "wrote after closing");
            }
            match next {
                Next::Pause => continue,
                Next::Close => closed = true,
                Next::Read { .. } => {}
            }
            break;
        }
    }
    if !sent.is_empty() {
        assert!(
            sent.starts_with(b"HTTP/1.1 "),
            "{:?}",
            String::from_utf8_lossy(&sent[..sent.len().min(40)])
        );
    }
});
