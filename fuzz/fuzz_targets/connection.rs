//! A whole connection: an arbitrary byte stream, cut at arbitrary points, through the HTTP
//! session with a handler that echoes, some requests taken out and answered later with
//! `http::answer`, as a handler thread does, and some of those reading their bodies as
//! they stream in. Nothing panics, every response starts with a status line, and once the
//! session says close it stays closed and writes nothing more.
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use roost::h1::inbuf::InBuf;
use roost::h1::output::{Chunk, Output};
use roost::h1::{Env, Next, Session};
use roost::http::upload::mark_io_thread;
use roost::http::{answer, Intake};
use roost::{Handler, Limits, Placement, ReadError, Request, Response};

struct Echo;

impl Handler for Echo {
    fn handle(&self, req: &Request, res: &mut Response) {
        let _ = res.add_header("X-Path", req.path().as_bytes());
        if let Some(v) = req.header("x-status") {
            let code = v
                .iter()
                .fold(0u16, |n, &d| n.wrapping_mul(10).wrapping_add(u16::from(d)));
            let _ = res.set_status(code);
        }
        res.set_body(req.body());
    }

    fn wants_body(&self, req: &Request) -> bool {
        req.path().len() % 2 == 0
    }

    fn intake(&self, req: &Request) -> Intake {
        Intake {
            stream: req.path().len() % 5 == 0,
            buffer: Some(req.path().len()),
            ..Intake::default()
        }
    }

    fn placement(&self, req: &Request) -> Placement {
        if req.path().len() % 3 == 0 {
            Placement::Blocking
        } else {
            Placement::Here
        }
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

/// Reads what has streamed in of the taken request's body, without waiting (this thread
/// counts as an I/O thread). Returns whether the body has ended (or failed).
fn read_streamed(request: &Request) -> bool {
    let mut buf = [0u8; 7];
    loop {
        match request.read_body(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(ReadError::WouldBlock) => return false,
            Err(_) => return true,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    mark_io_thread();
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_head: 512,
        max_uri: 128,
        max_headers: 16,
        max_body: 1024,
        ..Limits::default()
    };
    let date = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    let env = Env {
        limits: &limits,
        date: &date,
        stopping: false,
    };
    let mut response = Response::new();
    let mut session = Session::new(SocketAddr::from(([127, 0, 0, 1], 1)), None);
    let mut input = InBuf::new();
    let mut out = Output::new();
    let mut sent = Vec::new();
    let mut closed = false;
    let step = usize::from(split % 32) + 1;
    let divert = split & 0x80 != 0;
    // A taken request whose body streams in: answered once its body has ended.
    let mut streaming: Option<Box<Request>> = None;
    for piece in rest.chunks(step) {
        input.prepare_read(piece.len()).extend_from_slice(piece);
        loop {
            let before = sent.len();
            // Requests that may block are taken out and answered after `serve` returns, as
            // a handler thread's answer comes back later.
            let mut taken = None;
            let next = session.serve(
                &mut input,
                &mut out,
                &env,
                &Echo,
                &mut response,
                0,
                &mut |session, _, _| {
                    let blocking = Echo.placement(session.request()) == Placement::Blocking;
                    if divert && (blocking || session.inlet().is_some()) {
                        taken = Some(session.take_request());
                        return true;
                    }
                    false
                },
            );
            drain(&mut out, &mut sent);
            if closed {
                assert_eq!(sent.len(), before, "wrote after closing");
            }
            match next {
                Next::Pause => continue,
                Next::Answering | Next::Read { .. }
                    if taken.as_ref().is_some_and(|r| r.streams_body()) || streaming.is_some() =>
                {
                    let request = streaming.take().or(taken).expect("a streamed request");
                    if !read_streamed(&request) {
                        streaming = Some(request);
                        if matches!(next, Next::Read { .. }) {
                            break;
                        }
                        continue;
                    }
                    let mut answer_to = Response::new();
                    answer(&Echo, &request, &mut answer_to, 0);
                    session.respond(&mut out, &mut answer_to, &env);
                    drain(&mut out, &mut sent);
                    continue;
                }
                Next::Answering => {
                    let request = taken.expect("a request to answer");
                    let mut answer_to = Response::new();
                    answer(&Echo, &request, &mut answer_to, 0);
                    session.respond(&mut out, &mut answer_to, &env);
                    drain(&mut out, &mut sent);
                    continue;
                }
                Next::Close => closed = true,
                Next::Read { .. } | Next::Stalled => {}
                Next::Head | Next::Request => unreachable!("serve answers these"),
                Next::Deferred => unreachable!("Echo answers at once"),
                Next::Streaming => unreachable!("Echo does not stream"),
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
