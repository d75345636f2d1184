//! A whole connection: an arbitrary byte stream, cut at arbitrary points, through the HTTP
//! session with a handler that echoes, some requests handed off and answered the way the
//! handler pool does. Nothing panics, every response starts with a status line, and once
//! the session says close it stays closed and writes nothing more.
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use roost::http::conditional;
use roost::http::inbuf::InBuf;
use roost::http::output::{Chunk, Output};
use roost::http::parse::{header_slots, parse_head, HeadResult};
use roost::http::session::{Env, Handoff, Next, Session};
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

    fn may_block(&self, req: &Request<'_>) -> bool {
        req.path().len() % 3 == 0
    }
}

/// Answers a handed-off request the way a pool thread does.
fn answer_handoff(handoff: &Handoff, limits: &Limits) -> Response {
    let mut slots = header_slots();
    let mut response = Response::new();
    match parse_head(&handoff.head, &mut slots, limits) {
        HeadResult::Complete(head, _) => {
            let req = Request::new(&head, &handoff.body, SocketAddr::from(([127, 0, 0, 1], 1)));
            Echo.handle(&req, &mut response);
            conditional::apply(&req, &mut response, 0);
        }
        _ => panic!("a handed-off head no longer parses"),
    }
    response
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
    let defer = split & 0x80 != 0;
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
                defer,
            };
            let before = sent.len();
            let next = session.process(&mut input, &mut out, &mut env);
            drain(&mut out, &mut sent);
            if closed {
                assert_eq!(sent.len(), before, "wrote after closing");
            }
            match next {
                Next::Pause => continue,
                Next::Wait => {
                    let handoff = session.take_handoff().expect("a handoff to answer");
                    let mut answer = answer_handoff(&handoff, &limits);
                    session.complete(&mut out, &mut answer, &mut env);
                    drain(&mut out, &mut sent);
                    continue;
                }
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
