//! Routes answered by the host's own threads (`HostRoute`, `Server::host_queue`): threads
//! that are not the server's take each request with `HostQueue::next` and answer it as a
//! deferred response; the queue is bounded; a stop tells the waiting threads.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use roost::{Config, HostRoute, Matched, NextError, Request, Response, Router};

fn router() -> Router {
    let mut router = Router::new();
    router
        .route("GET", "/jobs/{id}", Arc::new(HostRoute))
        .unwrap();
    router
        .route(
            "GET",
            "/now",
            Arc::new(|_: &Request, _: &Matched<'_>, res: &mut Response| res.set_body(b"now")),
        )
        .unwrap();
    router
}

#[test]
fn several_host_threads_answer_the_queued_requests() {
    let server = start(
        Config {
            threads: 1,
            ..test_config()
        },
        router(),
    );
    let queue = server.host_queue();
    let workers: Vec<_> = (0..3)
        .map(|n| {
            let queue = queue.clone();
            std::thread::spawn(move || {
                let mut answered = 0;
                while let Ok(later) = queue.next(None) {
                    let mut res = Response::new();
                    let body = format!("{} by {n}", later.request().path());
                    res.set_body(body.as_bytes());
                    later.finish(res);
                    answered += 1;
                }
                answered
            })
        })
        .collect();
    let addr = server.local_addr();
    let clients: Vec<_> = (0..12)
        .map(|i| std::thread::spawn(move || get(addr, &format!("/jobs/{i}"))))
        .collect();
    // The I/O thread is not held by them.
    assert_eq!(get(addr, "/now").body, b"now");
    for (i, client) in clients.into_iter().enumerate() {
        let reply = client.join().unwrap();
        assert_eq!(reply.status, 200);
        assert!(
            reply.text().starts_with(&format!("/jobs/{i} by ")),
            "{}",
            reply.text()
        );
    }
    assert_eq!(
        queue.next(Some(Duration::from_millis(10))).err(),
        Some(NextError::Timeout)
    );
    drop(server);
    let answered: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(answered, 12, "a stop tells the waiting threads");
}

#[test]
fn a_host_thread_streams_and_a_full_queue_answers_503() {
    let server = start(
        Config {
            handler_queue: 1,
            ..test_config()
        },
        router(),
    );
    let addr = server.local_addr();
    let queue = server.host_queue();
    let mut first = Client::connect(addr);
    first.send(b"GET /jobs/1 HTTP/1.1\r\nHost: a\r\n\r\n");
    let held = queue.next(Some(PATIENCE)).unwrap();
    assert_eq!(held.request().path(), "/jobs/1");
    // Two more while nobody takes: the queue's one place takes one, the other gets 503.
    let waiting: Vec<_> = (2..4)
        .map(|i| std::thread::spawn(move || get(addr, &format!("/jobs/{i}"))))
        .collect();
    wait_until("one queued", || queue.waiting() == 1);
    wait_until("the other refused", || {
        waiting.iter().any(|w| w.is_finished())
    });
    let queued = queue.next(Some(PATIENCE)).unwrap();
    let queued_path = queued.request().path().to_string();
    let mut res = Response::new();
    res.set_body(b"taken");
    queued.finish(res);
    let mut statuses: Vec<_> = waiting
        .into_iter()
        .map(|w| w.join().unwrap())
        .map(|r| (r.status, r.text()))
        .collect();
    statuses.sort();
    assert_eq!(statuses[0], (200, "taken".to_string()), "{queued_path}");
    assert_eq!(statuses[1].0, 503);
    // The held one streams.
    let stream = held.stream(Response::new());
    stream.write(b"streamed ").unwrap();
    stream.write(b"from the host").unwrap();
    stream.finish();
    first.read_head().unwrap();
    assert_eq!(first.read_chunked_body(), b"streamed from the host");
}

#[test]
fn requests_not_taken_when_the_server_stops_get_500() {
    let mut server = start(test_config(), router());
    let addr = server.local_addr();
    let queue = server.host_queue();
    let mut client = Client::connect(addr);
    client.send(b"GET /jobs/1 HTTP/1.1\r\nHost: a\r\n\r\n");
    wait_until("the request arrived", || server.connections() == 1);
    let stopper = std::thread::spawn(move || {
        server.stop();
        server
    });
    assert_eq!(client.response().status, 500);
    assert_eq!(queue.next(None).err(), Some(NextError::Stopping));
    drop(stopper.join().unwrap());
}
