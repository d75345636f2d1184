//! Request bodies streamed to their handler (`RouteOptions::stream_body`,
//! `Request::read_body`): the handler runs once the head is in, on a handler thread, and
//! reads the body as it arrives; nothing is read before it asks (so `100 Continue` waits
//! for its first read); the server holds at most about the stream buffer of it; the
//! client's failures reach the reader as errors. Each wait is on an event, never on time.

mod common;

use std::io::Write;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use roost::{
    Config, Intake, Later, Limits, Matched, ReadError, Request, Response, RouteHandler,
    RouteOptions, Router, Timeouts,
};

/// Reads the whole body in pieces of `piece` bytes: its length and a checksum, or the
/// error that stopped it.
fn drain(req: &Request, piece: usize) -> Result<(u64, u64), ReadError> {
    let mut buf = vec![0; piece];
    let (mut len, mut sum) = (0u64, 0u64);
    loop {
        match req.read_body(&mut buf)? {
            0 => return Ok((len, sum)),
            n => {
                len += n as u64;
                sum = buf[..n]
                    .iter()
                    .fold(sum, |s, &b| s.wrapping_mul(31).wrapping_add(u64::from(b)));
            }
        }
    }
}

fn checksum(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0u64, |s, &b| s.wrapping_mul(31).wrapping_add(u64::from(b)))
}

/// Answers with the body's length and checksum, or with the status its error deserves.
fn count(req: &Request, res: &mut Response) {
    let thread = std::thread::current().name().unwrap_or("").to_string();
    res.add_header("X-Thread", thread.as_bytes()).unwrap();
    res.add_header("X-Streams", if req.streams_body() { b"1" } else { b"0" })
        .unwrap();
    match drain(req, 10_000) {
        Ok((len, sum)) => res.set_body(format!("{len} {sum}").as_bytes()),
        Err(e) => {
            res.set_status(e.status()).unwrap();
            res.set_body(format!("{e:?}").as_bytes());
        }
    }
}

struct Harness {
    server: roost::Server,
    /// What `/gate` read first, and the way to let it go on.
    gate: mpsc::Receiver<(Vec<u8>, mpsc::Sender<()>)>,
}

fn streamed() -> RouteOptions {
    RouteOptions {
        stream_body: true,
        max_body: Some(1 << 30),
        ..RouteOptions::default()
    }
}

fn harness(config: Config) -> Harness {
    let (gate_tx, gate) = mpsc::channel();
    let gate_tx = Mutex::new(gate_tx);
    let mut router = Router::new();
    let counter: Arc<dyn RouteHandler> =
        Arc::new(|req: &Request, _: &Matched<'_>, res: &mut Response| count(req, res));
    router
        .route_with("POST", "/count", counter.clone(), streamed())
        .unwrap();
    router
        .route_with(
            "POST",
            "/small",
            counter.clone(),
            RouteOptions {
                max_body: Some(1000),
                ..streamed()
            },
        )
        .unwrap();
    router.route("POST", "/whole", counter).unwrap();
    router
        .route_with(
            "POST",
            "/refuse",
            Arc::new(|_: &Request, _: &Matched<'_>, res: &mut Response| {
                res.set_status(401).unwrap();
            }),
            streamed(),
        )
        .unwrap();
    router
        .route_with(
            "POST",
            "/gate",
            Arc::new(move |req: &Request, _: &Matched<'_>, res: &mut Response| {
                let mut first = vec![0; 100];
                let n = req.read_body(&mut first).unwrap();
                first.truncate(n);
                let (go_tx, go) = mpsc::channel();
                gate_tx.lock().unwrap().send((first, go_tx)).unwrap();
                go.recv_timeout(PATIENCE).unwrap();
                count(req, res);
            }),
            streamed(),
        )
        .unwrap();
    Harness {
        server: start(config, router),
        gate,
    }
}

fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut raw = format!(
        "POST {path} HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    raw
}

fn chunked(pieces: &[&[u8]]) -> Vec<u8> {
    let mut raw = Vec::new();
    for piece in pieces {
        raw.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        raw.extend_from_slice(piece);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    raw
}

#[test]
fn a_streamed_body_reaches_its_handler_whole_and_the_connection_goes_on() {
    // No handler threads asked for: the server starts some for the streaming routes.
    let h = harness(test_config());
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut client = Client::connect(h.server.local_addr());
    let sender = {
        let raw = post("/count", &body);
        let mut stream = client.stream().try_clone().unwrap();
        std::thread::spawn(move || stream.write_all(&raw).unwrap())
    };
    let reply = client.response();
    sender.join().unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), format!("{} {}", body.len(), checksum(&body)));
    assert_eq!(reply.header("x-streams"), Some("1"));
    assert!(
        reply
            .header("x-thread")
            .unwrap()
            .starts_with("roost-handler"),
        "{:?}",
        reply.header("x-thread")
    );
    assert_eq!(
        reply.header("connection"),
        None,
        "read to its end: kept alive"
    );

    // Chunked, then a pipelined request behind it: answered after, on the same connection.
    let mut raw = b"POST /count HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    raw.extend_from_slice(&chunked(&[b"hello, ", &[b'x'; 70_000], b"world"]));
    raw.extend_from_slice(&post("/whole", b"in memory"));
    client.send(&raw);
    let mut expected = b"hello, ".to_vec();
    expected.extend_from_slice(&[b'x'; 70_000]);
    expected.extend_from_slice(b"world");
    assert_eq!(
        client.response().text(),
        format!("{} {}", expected.len(), checksum(&expected))
    );
    // A route that does not stream has the body in memory, and reads it the same way.
    let whole = client.response();
    assert_eq!(whole.text(), format!("9 {}", checksum(b"in memory")));
    assert_eq!(whole.header("x-streams"), Some("0"));
}

#[test]
fn the_handler_reads_the_first_bytes_before_the_client_has_sent_the_rest() {
    let h = harness(test_config());
    let mut client = Client::connect(h.server.local_addr());
    client.send(b"POST /gate HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nfirst");
    let (first, go) = h.gate.recv_timeout(PATIENCE).unwrap();
    assert_eq!(first, b"first");
    client.send(b"-last");
    go.send(()).unwrap();
    // The rest: 5 bytes ("-last"), counted after the first read.
    assert_eq!(
        client.response().text(),
        format!("5 {}", checksum(b"-last"))
    );
}

#[test]
fn continue_waits_for_the_first_read_and_a_handler_that_does_not_read_gets_no_body() {
    let h = harness(test_config());
    let mut client = Client::connect(h.server.local_addr());
    client.send(
        b"POST /refuse HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    );
    let reply = client.response();
    assert_eq!(
        reply.status, 401,
        "no 100 Continue before it: {}",
        reply.head
    );
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(client.closed());

    let mut client = Client::connect(h.server.local_addr());
    client.send(
        b"POST /gate HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    );
    let interim = client.read_head().unwrap();
    assert_eq!(interim.status, 100, "sent once the handler reads");
    client.send(b"hello");
    let (first, go) = h.gate.recv_timeout(PATIENCE).unwrap();
    assert_eq!(first, b"hello");
    go.send(()).unwrap();
    assert_eq!(client.response().text(), "0 0");
}

#[test]
fn past_the_route_limit_a_declared_body_gets_413_from_the_head_and_a_chunked_one_an_error() {
    let h = harness(test_config());
    let mut client = Client::connect(h.server.local_addr());
    client.send(
        b"POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\nExpect: 100-continue\r\n\r\n",
    );
    let reply = client.response();
    assert_eq!(reply.status, 413, "no 100 Continue first: {}", reply.head);

    let mut client = Client::connect(h.server.local_addr());
    let mut raw = b"POST /small HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    raw.extend_from_slice(&chunked(&[&[b'a'; 600], &[b'b'; 600]]));
    client.send(&raw);
    let reply = client.response();
    assert_eq!(
        (reply.status, reply.text()),
        (413, "Invalid(413)".to_string())
    );
    assert_eq!(reply.header("connection"), Some("close"));

    let reply = exchange(
        h.server.local_addr(),
        b"POST /count HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n",
    );
    assert_eq!(
        (reply.status, reply.text()),
        (400, "Invalid(400)".to_string())
    );
}

#[test]
fn a_client_that_leaves_or_stalls_is_an_error_for_the_reader() {
    let (tx, errors) = mpsc::channel();
    let tx = Mutex::new(tx);
    let mut router = Router::new();
    router
        .route_with(
            "POST",
            "/upload",
            Arc::new(move |req: &Request, _: &Matched<'_>, res: &mut Response| {
                let result = drain(req, 1000);
                tx.lock().unwrap().send(result).unwrap();
                if let Err(e) = result {
                    res.set_status(e.status()).unwrap();
                }
            }),
            streamed(),
        )
        .unwrap();
    let config = Config {
        timeouts: Timeouts {
            body: Duration::from_millis(300),
            ..Timeouts::default()
        },
        ..test_config()
    };
    let server = start(config, router);
    let mut client = Client::connect(server.local_addr());
    client.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\npart");
    drop(client);
    assert_eq!(
        errors.recv_timeout(PATIENCE).unwrap(),
        Err(ReadError::Closed)
    );

    let mut client = Client::connect(server.local_addr());
    client.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\npart");
    assert_eq!(
        errors.recv_timeout(PATIENCE).unwrap(),
        Err(ReadError::Timeout)
    );
    let reply = client.response();
    assert_eq!(reply.status, 408);
    assert!(client.closed());
}

#[test]
fn a_handler_that_does_not_read_holds_the_client_back_within_the_buffer() {
    let limits = Limits {
        stream_buffer: 64 * 1024,
        ..Limits::default()
    };
    let h = harness(Config {
        limits,
        ..test_config()
    });
    // More than the loopback socket buffers can hold, so the client is still sending.
    let body = vec![7u8; 32 << 20];
    let mut client = Client::connect(h.server.local_addr());
    let sender = {
        let raw = post("/gate", &body);
        let mut stream = client.stream().try_clone().unwrap();
        std::thread::spawn(move || stream.write_all(&raw).unwrap())
    };
    let (first, go) = h.gate.recv_timeout(PATIENCE).unwrap();
    assert_eq!(first.len(), 100);
    // The queue fills to its bound and the server stops reading: what it holds stays
    // within the bound and a read's worth, however much the client has to send.
    wait_until("the queue to fill", || {
        h.server.buffered_body_bytes() >= 64 * 1024
    });
    let held = h.server.buffered_body_bytes();
    assert!(held <= 64 * 1024 + 64 * 1024, "held {held}");
    assert!(!sender.is_finished(), "the client is held back");
    go.send(()).unwrap();
    let reply = client.response();
    sender.join().unwrap();
    assert_eq!(
        reply.text(),
        format!("{} {}", body.len() - 100, checksum(&body[100..]))
    );
    assert_eq!(h.server.buffered_body_bytes(), 0, "all memory given back");
}

/// Reads one byte, waits for the test's word, then reads the rest; the result goes back.
fn pausing(
    results: mpsc::Sender<Result<(u64, u64), ReadError>>,
    go: mpsc::Receiver<()>,
) -> Arc<dyn RouteHandler> {
    let (results, go) = (Mutex::new(results), Mutex::new(go));
    Arc::new(move |req: &Request, _: &Matched<'_>, res: &mut Response| {
        let mut one = [0u8; 1];
        let first = req.read_body(&mut one);
        let _ = go.lock().unwrap().recv_timeout(PATIENCE);
        let result = first.and_then(|_| drain(req, 4096));
        results.lock().unwrap().send(result).unwrap();
        if let Err(e) = result {
            res.set_status(e.status()).unwrap();
        }
    })
}

#[test]
fn a_client_that_stalls_once_the_queue_is_full_still_times_out() {
    let (tx, results) = mpsc::channel();
    let (go_tx, go) = mpsc::channel();
    let mut router = Router::new();
    router
        .route_with("POST", "/up", pausing(tx, go), streamed())
        .unwrap();
    let config = Config {
        limits: Limits {
            stream_buffer: 64 * 1024,
            ..Limits::default()
        },
        timeouts: Timeouts {
            body: Duration::from_millis(300),
            ..Timeouts::default()
        },
        ..test_config()
    };
    let server = start(config, router);
    let mut client = Client::connect(server.local_addr());
    // The queue's bound and a byte, then silence: the read that filled the queue emptied
    // the socket, and the connection waits for the reader, not for the client.
    let mut raw = b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n".to_vec();
    raw.resize(raw.len() + 64 * 1024 + 1, b'x');
    client.send(&raw);
    wait_until("the queue to fill", || {
        server.buffered_body_bytes() >= 64 * 1024
    });
    go_tx.send(()).unwrap();
    // Once the reader has drained it, the client's silence counts again.
    assert_eq!(
        results.recv_timeout(PATIENCE).unwrap(),
        Err(ReadError::Timeout)
    );
    assert_eq!(client.response().status, 408);
}

#[test]
fn a_buffer_of_one_byte_still_flows() {
    let (tx, results) = mpsc::channel();
    let (go_tx, go) = mpsc::channel();
    let mut router = Router::new();
    let options = RouteOptions {
        stream_buffer: Some(1),
        ..streamed()
    };
    router
        .route_with("POST", "/up", pausing(tx, go), options)
        .unwrap();
    let server = start(test_config(), router);
    go_tx.send(()).unwrap();
    let body = vec![b'o'; 20_000];
    let reply = exchange(server.local_addr(), &post("/up", &body));
    assert_eq!(reply.status, 200);
    assert_eq!(
        results.recv_timeout(PATIENCE).unwrap(),
        Ok((body.len() as u64 - 1, checksum(&body[1..])))
    );
}

/// Streams bodies and defers every request to a thread of its own, which reads the body;
/// it does not say `streams_bodies`, so the server has no handler threads for it.
struct DeferToReader;

impl roost::Handler for DeferToReader {
    fn handle(&self, _req: &Request, res: &mut Response) {
        res.defer(Box::new(|later: Later| {
            std::thread::spawn(move || {
                let mut res = Response::new();
                match drain(later.request(), 1000) {
                    Ok((len, _)) => res.set_body(len.to_string().as_bytes()),
                    Err(e) => res.set_error(e.status()),
                }
                later.finish(res);
            });
        }));
    }

    fn intake(&self, _req: &Request) -> Intake {
        Intake {
            stream: true,
            ..Intake::default()
        }
    }
}

#[test]
fn a_deferred_exchange_reads_its_body_from_another_thread() {
    let server = start(test_config(), DeferToReader);
    let reply = exchange(server.local_addr(), &post("/any", &[b'd'; 300_000]));
    assert_eq!((reply.status, reply.text()), (200, "300000".to_string()));
}

#[test]
fn an_answer_streamed_before_the_body_is_read_says_the_connection_closes() {
    let mut router = Router::new();
    router
        .route_with(
            "POST",
            "/echo",
            // The head leaves when the handler returns; another thread reads the body.
            Arc::new(|req: &Request, _: &Matched<'_>, res: &mut Response| {
                let upload = req.upload().cloned().unwrap();
                let stream = res.stream();
                std::thread::spawn(move || {
                    stream.write(b"reading\n").unwrap();
                    let mut buf = [0; 1000];
                    let mut body = Vec::new();
                    let result = loop {
                        match upload.read(&mut buf) {
                            Ok(0) => break Ok((body.len(), checksum(&body))),
                            Ok(n) => body.extend_from_slice(&buf[..n]),
                            Err(e) => break Err(e),
                        }
                    };
                    stream.write(format!("{result:?}").as_bytes()).unwrap();
                    stream.finish();
                });
            }),
            streamed(),
        )
        .unwrap();
    let server = start(test_config(), router);
    let mut client = Client::connect(server.local_addr());
    client.send(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
    let head = client.read_head().unwrap();
    assert_eq!(head.header("connection"), Some("close"), "{}", head.head);
    assert_eq!(client.read_chunk().unwrap(), b"reading\n");
    client.send(b"hello");
    assert_eq!(
        client.read_chunked_body(),
        format!("Ok((5, {}))", checksum(b"hello")).into_bytes()
    );
    assert!(client.closed());
}
