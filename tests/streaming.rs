//! Response bodies produced over time (`Response::stream`, `Later::stream`): each piece
//! leaves as it is written, framed as the client and the handler's fields call for; a client
//! that does not read holds the producer back; a client that leaves is noticed. Each wait is
//! on an event (a channel, a read), never on time.

mod common;

use std::io::Read;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use common::*;
use roost::{Config, Later, Matched, Request, Response, Router, Stream, StreamError};

/// A router whose `/stream` route streams, sending the producer's end to the test, and
/// whose `/later` route defers, sending the exchange.
fn streaming(streams: mpsc::Sender<Stream>, laters: mpsc::Sender<Later>) -> Router {
    let streams = Mutex::new(streams);
    let laters = Mutex::new(laters);
    let mut router = Router::new();
    router
        .route(
            "GET",
            "/stream",
            Arc::new(move |req: &Request, _: &Matched<'_>, res: &mut Response| {
                res.add_header("Content-Type", b"text/plain").unwrap();
                if let Some(len) = req.query().and_then(|q| q.strip_prefix("len=")) {
                    res.add_header("Content-Length", len.as_bytes()).unwrap();
                }
                let stream = res.stream();
                streams.lock().unwrap().send(stream).unwrap();
            }),
        )
        .unwrap();
    router
        .route(
            "GET",
            "/later",
            Arc::new(move |_: &Request, _: &Matched<'_>, res: &mut Response| {
                let laters = laters.lock().unwrap().clone();
                res.defer(Box::new(move |later: Later| {
                    let _ = laters.send(later);
                }));
            }),
        )
        .unwrap();
    router
        .route(
            "GET",
            "/plain",
            Arc::new(|_: &Request, _: &Matched<'_>, res: &mut Response| {
                res.set_body(b"plain");
            }),
        )
        .unwrap();
    router
}

struct Harness {
    server: roost::Server,
    streams: mpsc::Receiver<Stream>,
    laters: mpsc::Receiver<Later>,
}

fn harness(config: Config) -> Harness {
    let (stream_tx, streams) = mpsc::channel();
    let (later_tx, laters) = mpsc::channel();
    Harness {
        server: start(config, streaming(stream_tx, later_tx)),
        streams,
        laters,
    }
}

fn one_worker() -> Config {
    Config {
        threads: 1,
        ..test_config()
    }
}

#[test]
fn each_piece_leaves_as_it_is_written_and_pipelined_answers_follow_in_order() {
    let h = harness(one_worker());
    let mut client = Client::connect(h.server.local_addr());
    client.send(b"GET /stream HTTP/1.1\r\nHost: a\r\n\r\nGET /plain HTTP/1.1\r\nHost: a\r\n\r\n");
    let stream = h.streams.recv().unwrap();
    let head = client.read_head().unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    assert_eq!(head.header("content-length"), None);
    assert_eq!(head.header("content-type"), Some("text/plain"));
    // Each piece arrives while the producer is still going, from another thread.
    let producer = std::thread::spawn(move || {
        stream.write(b"first").unwrap();
        stream
    });
    let stream = producer.join().unwrap();
    assert_eq!(client.read_chunk().unwrap(), b"first");
    // The only worker serves another client meanwhile.
    assert_eq!(get(h.server.local_addr(), "/plain").body, b"plain");
    stream.write(b"second").unwrap();
    assert_eq!(client.read_chunk().unwrap(), b"second");
    stream.finish();
    assert_eq!(client.read_chunk(), None);
    let next = client.response();
    assert_eq!((next.status, next.body.as_slice()), (200, &b"plain"[..]));
}

#[test]
fn a_deferred_exchange_streams_from_another_thread() {
    let h = harness(test_config());
    let mut client = Client::connect(h.server.local_addr());
    client.send(b"GET /later HTTP/1.1\r\nHost: a\r\n\r\n");
    let later = h.laters.recv().unwrap();
    let writer = std::thread::spawn(move || {
        let mut res = Response::new();
        res.set_status(201).unwrap();
        let stream = later.stream(res);
        assert_eq!(stream.request().map(|r| r.path()), Some("/later"));
        stream.write(b"made ").unwrap();
        stream.write(b"later").unwrap();
        stream.finish();
    });
    let head = client.read_head().unwrap();
    assert_eq!(head.status, 201);
    writer.join().unwrap();
    assert_eq!(client.read_chunked_body(), b"made later");
}

#[test]
fn a_declared_length_is_kept_and_a_short_body_closes_the_connection() {
    let h = harness(test_config());
    let mut client = Client::connect(h.server.local_addr());
    client.send(b"GET /stream?len=5 HTTP/1.1\r\nHost: a\r\n\r\n");
    let stream = h.streams.recv().unwrap();
    stream.write(b"abc").unwrap();
    assert_eq!(stream.write(b"def"), Err(StreamError::TooLong));
    stream.write(b"de").unwrap();
    stream.finish();
    let reply = client.response();
    assert_eq!(reply.header("content-length"), Some("5"));
    assert_eq!(reply.header("transfer-encoding"), None);
    assert_eq!(reply.body, b"abcde");
    // Kept alive: the length was met.
    client.send(b"GET /plain HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(client.response().body, b"plain");

    client.send(b"GET /stream?len=10 HTTP/1.1\r\nHost: a\r\n\r\n");
    let stream = h.streams.recv().unwrap();
    stream.write(b"short").unwrap();
    stream.finish();
    let head = client.read_head().unwrap();
    assert_eq!(head.header("content-length"), Some("10"));
    let mut rest = Vec::new();
    client.reader.read_to_end(&mut rest).unwrap();
    assert_eq!(
        rest, b"short",
        "the promise cannot be kept: the connection closes"
    );
}

#[test]
fn an_http_1_0_client_gets_a_body_ended_by_the_close() {
    let h = harness(test_config());
    let mut client = Client::connect(h.server.local_addr());
    client.send(b"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let stream = h.streams.recv().unwrap();
    stream.write(b"no chunks ").unwrap();
    stream.write(b"for 1.0").unwrap();
    stream.finish();
    let head = client.read_head().unwrap();
    assert_eq!(head.header("transfer-encoding"), None);
    assert_eq!(head.header("content-length"), None);
    assert_eq!(head.header("connection"), Some("close"));
    assert_eq!(client.read_until_closed().unwrap(), b"no chunks for 1.0");
}

#[test]
fn head_gets_the_fields_only_and_the_connection_goes_on_at_once() {
    let h = harness(test_config());
    let mut client = Client::connect(h.server.local_addr());
    // An HTTP/1.0 HEAD keeps its connection: it needs no close to end a body.
    client.send(b"HEAD /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let _stream = h.streams.recv().unwrap();
    let head = client.read(true);
    assert_eq!(head.header("connection"), Some("keep-alive"));
    assert_eq!(head.header("transfer-encoding"), None);
    drop((client, h));

    let h = harness(test_config());
    let mut client = Client::connect(h.server.local_addr());
    client.send(b"HEAD /stream HTTP/1.1\r\nHost: a\r\n\r\nGET /plain HTTP/1.1\r\nHost: a\r\n\r\n");
    let stream = h.streams.recv().unwrap();
    let head = client.read(true);
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    // Answered before the producer finished: nothing of the body would be sent.
    assert_eq!(client.response().body, b"plain");
    assert_eq!(stream.write(b"unread"), Err(StreamError::Gone));
    stream.finish();
}

#[test]
fn a_close_delimited_body_cut_short_ends_with_a_reset() {
    let h = harness(test_config());
    let mut client = Client::connect(h.server.local_addr());
    client.send(b"GET /stream HTTP/1.0\r\n\r\n");
    let stream = h.streams.recv().unwrap();
    stream.write(b"partial").unwrap();
    client.read_head().unwrap();
    drop(stream);
    // A graceful close would pass the body off as complete.
    let end = client.read_until_closed();
    assert!(
        end.as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "{end:?}"
    );
}

#[test]
fn a_producer_that_fails_cuts_the_body_short() {
    let h = harness(test_config());
    let mut client = Client::connect(h.server.local_addr());
    client.send(b"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
    let stream = h.streams.recv().unwrap();
    stream.write(b"partial").unwrap();
    drop(stream);
    client.read_head().unwrap();
    let mut rest = Vec::new();
    client.reader.read_to_end(&mut rest).unwrap();
    assert_eq!(
        rest, b"7\r\npartial\r\n",
        "no last chunk: the client sees it cut"
    );
}

/// Writes 64 KiB pieces until the stream refuses them and its writable hook stays quiet
/// for a while: the client's buffers, the connection's output and the stream's bound are
/// full. Returns the bytes accepted and where the pending hook will signal.
fn fill(stream: &Stream) -> (usize, mpsc::Receiver<()>) {
    let piece = vec![b'x'; 64 * 1024];
    let mut accepted = 0usize;
    loop {
        match stream.write(&piece) {
            Ok(()) => accepted += piece.len(),
            Err(StreamError::Full) => {
                let (tx, writable) = mpsc::channel();
                stream.on_writable(Box::new(move || {
                    let _ = tx.send(());
                }));
                // A quiet spell, not a readiness wait: a hook that is merely slow only
                // ends the filling early.
                match writable.recv_timeout(std::time::Duration::from_millis(300)) {
                    Ok(()) => continue,
                    Err(_) => return (accepted, writable),
                }
            }
            Err(e) => panic!("{e}"),
        }
        assert!(accepted < 64 << 20, "never held back: no backpressure");
    }
}

#[test]
fn a_client_that_does_not_read_holds_the_producer_back() {
    let h = harness(test_config());
    let mut client = Client::connect(h.server.local_addr());
    client.send(b"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
    let stream = h.streams.recv().unwrap();
    let (accepted, writable) = fill(&stream);
    // The client reads everything accepted so far: the queue drains and the hook runs.
    let head = client.read_head().unwrap();
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    let mut got = 0;
    while got < accepted {
        got += client.read_chunk().unwrap().len();
    }
    writable
        .recv_timeout(PATIENCE)
        .expect("the hook runs once the queue drains");
    stream.write(b"more").unwrap();
    stream.finish();
    assert_eq!(client.read_chunked_body(), b"more");
}

#[test]
fn a_client_that_leaves_mid_stream_is_noticed() {
    let h = harness(test_config());
    let mut client = Client::connect(h.server.local_addr());
    client.send(b"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
    let stream = h.streams.recv().unwrap();
    stream.write(b"hello").unwrap();
    client.read_head().unwrap();
    assert_eq!(client.read_chunk().unwrap(), b"hello");
    // With the queue full the hook waits; leaving runs it.
    let (_, gone) = fill(&stream);
    drop(client);
    gone.recv_timeout(PATIENCE)
        .expect("the hook runs when the client leaves");
    assert!(stream.is_gone());
    assert_eq!(stream.write(b"x"), Err(StreamError::Gone));
    wait_until("the connection closed", || h.server.connections() == 0);
}

#[test]
fn an_idle_stream_whose_client_leaves_is_closed() {
    let h = harness(test_config());
    let mut client = Client::connect(h.server.local_addr());
    client.send(b"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
    let stream = h.streams.recv().unwrap();
    client.read_head().unwrap();
    // An event stream writes seldom: the close is noticed without a write.
    drop(client);
    wait_until("the connection closed", || h.server.connections() == 0);
    assert_eq!(stream.write(b"x"), Err(StreamError::Gone));
}
