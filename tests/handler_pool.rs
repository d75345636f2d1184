//! The handler pool: host handlers that block do not stall the I/O of other connections.
//! The blocking handler waits for the test to release it, so "not stalled" is shown by
//! other requests being answered before the release, without timing anything.

mod common;

use std::sync::{Arc, Condvar, Mutex};

use common::*;
use roost::{Config, Matched, Request, Response, Router, Server, StaticFiles};

/// A gate a handler blocks on until the test opens it; it also records that a handler
/// is waiting.
#[derive(Default)]
struct Gate {
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Gate {
    fn wait(&self) {
        let mut state = self.state.lock().unwrap();
        state.0 += 1;
        self.changed.notify_all();
        while !state.1 {
            state = self.changed.wait(state).unwrap();
        }
    }

    fn wait_for_waiters(&self, n: usize) {
        let mut state = self.state.lock().unwrap();
        while state.0 < n {
            state = self.changed.wait(state).unwrap();
        }
    }

    fn open(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

fn pooled(threads: usize, queue: usize) -> Config {
    Config {
        threads: 1,
        handler_threads: threads,
        handler_queue: queue,
        ..test_config()
    }
}

fn router(gate: &Arc<Gate>, site: &TempDir) -> Router {
    let mut router = Router::new();
    router
        .mount("/", StaticFiles::new(site.path()).unwrap())
        .unwrap();
    let blocked = gate.clone();
    router
        .route(
            "GET",
            "/block",
            Arc::new(move |_: &Request, _: &Matched<'_>, res: &mut Response| {
                blocked.wait();
                res.set_body(b"released");
            }),
        )
        .unwrap();
    router
        .route(
            "GET",
            "/fast/{n}",
            Arc::new(|_: &Request, m: &Matched<'_>, res: &mut Response| {
                res.set_body(m.param("n").unwrap());
            }),
        )
        .unwrap();
    router
        .route(
            "GET",
            "/panic",
            Arc::new(|_: &Request, _: &Matched<'_>, _: &mut Response| panic!("on purpose")),
        )
        .unwrap();
    let file = site.path().join("big.bin");
    router
        .route(
            "GET",
            "/file",
            Arc::new(move |_: &Request, _: &Matched<'_>, res: &mut Response| {
                let (f, meta) = roost::files::open_regular(&file).unwrap();
                roost::files::send_file(f, &meta, b"big.bin", res);
            }),
        )
        .unwrap();
    router
}

fn blocked_request(addr: std::net::SocketAddr) -> std::thread::JoinHandle<Reply> {
    std::thread::spawn(move || get(addr, "/block"))
}

/// A server with one handler thread and room for one waiting request, both taken: the first
/// request blocks on `gate` in the thread, the second waits in the queue.
fn full_queue(gate: &Arc<Gate>, site: &TempDir) -> (Server, [std::thread::JoinHandle<Reply>; 2]) {
    let server = start(pooled(1, 1), router(gate, site));
    let addr = server.local_addr();
    let first = blocked_request(addr);
    gate.wait_for_waiters(1);
    let second = blocked_request(addr);
    wait_until("the second request queued", || server.connections() == 2);
    (server, [first, second])
}

#[test]
fn a_blocked_handler_does_not_stall_other_connections() {
    let site = docroot();
    let gate = Arc::new(Gate::default());
    // One I/O worker: without the pool, the blocked handler would hold it.
    let server = start(pooled(2, 16), router(&gate, &site));
    let addr = server.local_addr();
    let slow = blocked_request(addr);
    gate.wait_for_waiters(1);
    assert_eq!(
        get(addr, "/hello.txt").body,
        b"Hello world!\n",
        "static files go on"
    );
    assert_eq!(get(addr, "/fast/7").text(), "7", "other handlers go on");
    let big = get(addr, "/big.bin");
    assert!(big.body == mebibyte());
    gate.open();
    assert_eq!(slow.join().unwrap().text(), "released");
}

#[test]
fn pipelined_responses_stay_in_order_through_the_pool() {
    let site = docroot();
    let gate = Arc::new(Gate::default());
    let server = start(pooled(2, 16), router(&gate, &site));
    let mut client = Client::connect(server.local_addr());
    client.send(
        b"GET /block HTTP/1.1\r\nHost: a\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /fast/2 HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    gate.wait_for_waiters(1);
    gate.open();
    assert_eq!(client.response().text(), "released");
    assert_eq!(client.response().body, b"Hello world!\n");
    assert_eq!(client.response().text(), "2");
}

#[test]
fn a_full_queue_answers_503_and_a_panic_500() {
    let site = docroot();
    let gate = Arc::new(Gate::default());
    let (server, [first, second]) = full_queue(&gate, &site);
    let addr = server.local_addr();
    let mut third = Client::connect(addr);
    let mut attempts = 0;
    let busy = loop {
        third.send(b"GET /fast/3 HTTP/1.1\r\nHost: a\r\n\r\n");
        let reply = third.response();
        attempts += 1;
        if reply.status == 503 || attempts == 50 {
            break reply;
        }
    };
    assert_eq!(busy.status, 503);
    gate.open();
    assert_eq!(first.join().unwrap().status, 200);
    assert_eq!(second.join().unwrap().status, 200);
    assert_eq!(get(addr, "/panic").status, 500);
    assert_eq!(
        get(addr, "/fast/4").text(),
        "4",
        "the pool goes on after a panic"
    );
}

#[test]
fn pooled_file_responses_get_ranges_and_conditionals() {
    let site = docroot();
    let gate = Arc::new(Gate::default());
    let server = start(pooled(2, 16), router(&gate, &site));
    let addr = server.local_addr();
    let full = get(addr, "/file");
    let etag = full.header("etag").unwrap().to_string();
    let part = exchange(
        addr,
        b"GET /file HTTP/1.1\r\nHost: a\r\nRange: bytes=0-9\r\n\r\n",
    );
    assert_eq!(
        (part.status, part.body.as_slice()),
        (206, &mebibyte()[..10])
    );
    let raw = format!("GET /file HTTP/1.1\r\nHost: a\r\nIf-None-Match: {etag}\r\n\r\n");
    assert_eq!(exchange(addr, raw.as_bytes()).status, 304);
}

#[test]
fn stop_waits_for_a_pooled_handler_and_sends_its_response() {
    let site = docroot();
    let gate = Arc::new(Gate::default());
    let mut server = start(pooled(1, 4), router(&gate, &site));
    let addr = server.local_addr();
    let slow = blocked_request(addr);
    gate.wait_for_waiters(1);
    let stopper = std::thread::spawn(move || {
        server.stop();
        server
    });
    wait_until("new connections refused", || {
        std::net::TcpStream::connect(addr).is_err()
    });
    gate.open();
    let reply = slow.join().unwrap();
    assert_eq!(reply.text(), "released");
    assert_eq!(reply.header("connection"), Some("close"));
    drop(stopper.join().unwrap());
}

#[test]
fn pipelining_against_a_full_queue_gets_503s_in_order() {
    // Once, each 503 was sent by a nested call per request: a long pipeline overflowed the
    // worker's stack and aborted the process.
    let site = docroot();
    let gate = Arc::new(Gate::default());
    let (server, [first, second]) = full_queue(&gate, &site);
    let addr = server.local_addr();
    let mut client = Client::connect(addr);
    let count = 5000;
    let writer = {
        let mut stream = client.stream().try_clone().unwrap();
        std::thread::spawn(move || {
            use std::io::Write;
            let batch = b"GET /fast/1 HTTP/1.1\r\nHost: a\r\n\r\n".repeat(count);
            stream.write_all(&batch).unwrap();
        })
    };
    for _ in 0..count {
        assert_eq!(client.response().status, 503);
    }
    writer.join().unwrap();
    gate.open();
    assert_eq!(first.join().unwrap().status, 200);
    assert_eq!(second.join().unwrap().status, 200);
    assert_eq!(get(addr, "/fast/9").text(), "9");
}

#[test]
fn stop_drops_queued_requests_and_runs_only_the_running_handler() {
    let site = docroot();
    let gate = Arc::new(Gate::default());
    let mut config = pooled(1, 8);
    config.timeouts.shutdown = std::time::Duration::from_millis(300);
    let mut server = start(config, router(&gate, &site));
    let addr = server.local_addr();
    // Clients that accept having no answer.
    let clients: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut client = Client::connect(addr);
                client.send(b"GET /block HTTP/1.1\r\nHost: a\r\n\r\n");
                client.try_read(false)
            })
        })
        .collect();
    gate.wait_for_waiters(1);
    wait_until("all four connected", || server.connections() == 4);
    let stopper = std::thread::spawn(move || {
        server.stop();
        server
    });
    wait_until("new connections refused", || {
        std::net::TcpStream::connect(addr).is_err()
    });
    // The shutdown deadline closes the connections; the three queued requests are
    // dropped, not run later. The running handler finishes once released.
    let replies: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert!(
        replies.iter().all(Option::is_none),
        "no connection outlived the deadline"
    );
    gate.open();
    drop(stopper.join().unwrap());
    assert_eq!(
        gate.state.lock().unwrap().0,
        1,
        "only the running handler ran"
    );
}
