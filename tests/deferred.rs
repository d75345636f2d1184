//! Responses finished later, from other threads (`Response::defer`, `Later`): the worker
//! goes on serving meanwhile, pipelined responses keep their order, the rules for
//! conditional requests apply at the finish, and the holder of an exchange hears when its
//! client leaves. Each wait is on an event (a channel, a server count), never on time.

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use common::*;
use roost::{Config, Later, Matched, Request, Response, Router};

/// A router whose `/later` handler defers, sending each `Later` to the test.
fn deferring(sent: mpsc::Sender<Later>, site: &TempDir) -> Router {
    let sent = Mutex::new(sent);
    let mut router = Router::new();
    router
        .mount("/", roost::StaticFiles::new(site.path()).unwrap())
        .unwrap();
    router
        .route(
            "GET",
            "/later",
            Arc::new(move |_: &Request, _: &Matched<'_>, res: &mut Response| {
                let sent = sent.lock().unwrap().clone();
                res.set_body(b"not sent");
                res.defer(Box::new(move |later: Later| {
                    let _ = sent.send(later);
                }));
            }),
        )
        .unwrap();
    router
}

fn one_worker() -> Config {
    Config {
        threads: 1,
        ..test_config()
    }
}

#[test]
fn a_deferred_response_leaves_when_finished_and_the_worker_serves_others_meanwhile() {
    let site = docroot();
    let (tx, rx) = mpsc::channel();
    let server = start(one_worker(), deferring(tx, &site));
    let addr = server.local_addr();
    let mut client = Client::connect(addr);
    client
        .send(b"GET /later HTTP/1.1\r\nHost: a\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    let later = rx.recv().unwrap();
    assert_eq!(later.request().path(), "/later");
    // The only worker answers another client while the exchange waits.
    assert_eq!(get(addr, "/hello.txt").body, b"Hello world!\n");
    let mut byte = [0u8; 1];
    client.stream().set_nonblocking(true).unwrap();
    assert!(
        client.stream().peek(&mut byte).is_err(),
        "nothing before the finish"
    );
    client.stream().set_nonblocking(false).unwrap();
    let finisher = std::thread::spawn(move || {
        let mut res = Response::new();
        res.set_status(202).unwrap();
        res.set_body(b"done later");
        later.finish(res);
    });
    finisher.join().unwrap();
    let first = client.response();
    assert_eq!(first.status, 202);
    assert_eq!(first.body, b"done later");
    let second = client.response();
    assert_eq!(second.status, 200);
    assert_eq!(second.body, b"Hello world!\n");
}

#[test]
fn a_finish_applies_the_conditional_rules() {
    let site = docroot();
    let (tx, rx) = mpsc::channel();
    let server = start(one_worker(), deferring(tx, &site));
    let mut client = Client::connect(server.local_addr());
    client.send(b"GET /later HTTP/1.1\r\nHost: a\r\nRange: bytes=0-3\r\n\r\n");
    let later = rx.recv().unwrap();
    let file = site.path().join("hello.txt");
    let mut res = Response::new();
    let (f, meta) = roost::files::open_regular(&file).unwrap();
    roost::files::send_file(f, &meta, b"hello.txt", &mut res);
    later.finish(res);
    let reply = client.response();
    assert_eq!(reply.status, 206);
    assert_eq!(reply.body, b"Hell");
}

#[test]
fn the_holder_hears_when_the_client_leaves_and_a_late_finish_goes_nowhere() {
    let site = docroot();
    let (tx, rx) = mpsc::channel();
    let server = start(one_worker(), deferring(tx, &site));
    let mut client = Client::connect(server.local_addr());
    client.send(b"GET /later HTTP/1.1\r\nHost: a\r\n\r\n");
    let later = rx.recv().unwrap();
    let (gone_tx, gone_rx) = mpsc::channel();
    later.on_gone(Box::new(move || gone_tx.send(()).unwrap()));
    assert!(!later.is_gone());
    drop(client);
    gone_rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("told that the client left");
    assert!(later.is_gone());
    wait_until("the connection closed", || server.connections() == 0);
    later.finish(Response::new());
    // The server goes on.
    assert_eq!(get(server.local_addr(), "/hello.txt").status, 200);
}

#[test]
fn an_exchange_dropped_unfinished_is_answered_500() {
    let site = docroot();
    let (tx, rx) = mpsc::channel();
    let server = start(one_worker(), deferring(tx, &site));
    let mut client = Client::connect(server.local_addr());
    client.send(b"GET /later HTTP/1.1\r\nHost: a\r\n\r\n");
    drop(rx.recv().unwrap());
    assert_eq!(client.response().status, 500);
}

#[test]
fn a_handler_thread_may_defer_too() {
    let site = docroot();
    let (tx, rx) = mpsc::channel();
    let config = Config {
        handler_threads: 2,
        ..one_worker()
    };
    let server = start(config, deferring(tx, &site));
    let mut client = Client::connect(server.local_addr());
    client.send(b"GET /later HTTP/1.1\r\nHost: a\r\n\r\n");
    let later = rx.recv().unwrap();
    let mut res = Response::new();
    res.set_body(b"from the pool");
    later.finish(res);
    assert_eq!(client.response().body, b"from the pool");
}
