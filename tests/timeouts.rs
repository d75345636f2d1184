//! Slow and silent clients: each is cut off at its timeout while others are served.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use roost::Config;

fn quick_config() -> Config {
    let mut config = test_config();
    config.timeouts.header = Duration::from_millis(800);
    config.timeouts.keep_alive = Duration::from_millis(400);
    config.timeouts.body = Duration::from_millis(800);
    config.timeouts.write = Duration::from_millis(800);
    config.timeouts.linger = Duration::from_millis(500);
    config
}

#[test]
fn a_trickled_head_is_cut_off_with_408() {
    let server = start(quick_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    let mut writer = client.stream().try_clone().unwrap();
    // One byte every 100 ms: each byte is progress, but the whole head never arrives in time.
    let trickle = std::thread::spawn(move || {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        for &byte in head.iter() {
            if writer.write_all(&[byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    // Meanwhile other clients are served at once.
    assert_eq!(get(server.local_addr(), "/other").status, 200);
    let reply = client.response();
    assert_eq!(reply.status, 408);
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(client.closed());
    trickle.join().unwrap();
}

#[test]
fn a_trickled_body_is_cut_off_with_408() {
    let server = start(quick_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
    let reply = client.response();
    assert_eq!(reply.status, 408);
    assert!(client.closed());
}

#[test]
fn a_silent_connection_is_closed_without_a_response() {
    let server = start(quick_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    // The server closes it (end of stream, not a read that timed out), saying nothing.
    let received = client.read_until_closed().expect("closed by the server");
    assert_eq!(received, b"");
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let server = start(quick_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(client.response().status, 200);
    let received = client.read_until_closed().expect("closed by the server");
    assert_eq!(received, b"", "closed without another response");
}

#[test]
fn a_client_that_stops_reading_is_dropped() {
    let dir = docroot();
    let server = start(quick_config(), roost::StaticFiles::new(dir.path()).unwrap());
    let mut client = Client::connect(server.local_addr());
    stall_with_big_responses(&mut client, 64);
    wait_until("the connection accepted", || server.connections() == 1);
    wait_until("the server to drop the stalled client", || {
        server.connections() == 0
    });
    let received = client.read_to_end();
    assert!(
        received.len() < 64 * 1024 * 1024,
        "got everything: {}",
        received.len()
    );
    assert!(received.starts_with(b"HTTP/1.1 200 OK\r\n"));
}

#[test]
fn a_thousand_idle_connections_do_not_hold_up_a_request() {
    // One worker holds a thousand silent connections and serves a request meanwhile: a
    // server that waited on any of them (until its 60 s head timeout) would answer none
    // within PATIENCE. Idle connections whose first bytes are only a partial head hold it
    // no more than silent ones.
    let mut config = test_config();
    config.threads = 1;
    config.timeouts.header = Duration::from_secs(60);
    let server = start(config, Echo);
    let addr = server.local_addr();
    let mut idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    for stream in idle.iter_mut().step_by(2) {
        stream.write_all(b"GET /partial HTTP/1.1\r\nHo").unwrap();
    }
    wait_until("all idle connections accepted", || {
        server.connections() == 1000
    });
    let started = Instant::now();
    for i in 0..20 {
        let reply = get(addr, &format!("/busy/{i}"));
        assert_eq!(reply.status, 200);
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(server.connections() >= 1000, "idle connections were kept");
    drop(idle);
    wait_until("idle connections closed", || server.connections() == 0);
}

#[test]
fn the_keep_alive_timeout_counts_from_the_last_response() {
    // 400 ms keep-alive; requests 250 ms apart for over a second on one connection.
    let server = start(quick_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    for i in 0..5 {
        client.send(format!("GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
        assert_eq!(client.response().status, 200, "request {i}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn the_head_timeout_restarts_with_each_pipelined_request() {
    // 800 ms for a head; each write ends one head and starts the next, for two seconds.
    let server = start(quick_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"GET /0 HTTP/1.1\r\nHost:");
    for i in 1..10 {
        std::thread::sleep(Duration::from_millis(200));
        client.send(format!(" a\r\n\r\nGET /{i} HTTP/1.1\r\nHost:").as_bytes());
        assert_eq!(client.response().status, 200, "request {}", i - 1);
    }
}

#[test]
fn trickled_input_does_not_keep_a_non_reading_client_alive() {
    let dir = docroot();
    let server = start(quick_config(), roost::StaticFiles::new(dir.path()).unwrap());
    let mut client = Client::connect(server.local_addr());
    stall_with_big_responses(&mut client, 64);
    wait_until("the connection accepted", || server.connections() == 1);
    // A byte every 300 ms is input, not progress on the output: the 800 ms write timeout
    // still drops the client.
    let mut writer = client.stream().try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        for _ in 0..30 {
            std::thread::sleep(Duration::from_millis(300));
            if writer.write_all(b"G").is_err() {
                return;
            }
        }
    });
    wait_until("the server to drop the stalled client", || {
        server.connections() == 0
    });
    trickle.join().unwrap();
}

/// Sends a byte every 300 ms on `client`'s connection, `count` times or until it fails.
fn trickle_bytes(client: &Client, count: usize) -> std::thread::JoinHandle<()> {
    let mut writer = client.stream().try_clone().unwrap();
    std::thread::spawn(move || {
        for _ in 0..count {
            if writer.write_all(b"t").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    })
}

#[test]
fn a_body_trickled_below_the_minimum_rate_is_cut_off() {
    // A byte every 300 ms never leaves the 800 ms body timeout silent, but after it the
    // body must average 1 KiB/s.
    let server = start(quick_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n");
    // (Longer than PATIENCE: without the rate rule, no response would come in time.)
    let trickle = trickle_bytes(&client, 60);
    // Meanwhile other clients are served at once.
    assert_eq!(get(server.local_addr(), "/other").status, 200);
    let reply = client.response();
    assert_eq!(reply.status, 408);
    assert!(client.closed());
    trickle.join().unwrap();
}

#[test]
fn a_fast_start_buys_no_time_for_a_trickle() {
    // The minimum rate holds over every stretch of the body timeout: 1 MiB at once, then
    // a byte every 300 ms, is cut off within two stretches. (Averaged from the start, the
    // first MiB would have kept it going for 17 minutes.)
    let server = start(quick_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n");
    client.send(&vec![b'f'; 1 << 20]);
    let trickle = trickle_bytes(&client, 60);
    let reply = client.response();
    assert_eq!(reply.status, 408);
    assert!(client.closed());
    trickle.join().unwrap();
}

#[test]
fn a_slow_but_steady_upload_is_not_cut_off() {
    // 16 KiB in 4 KiB pieces every 300 ms: well above 1 KiB/s, over more than the timeout.
    let server = start(quick_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 16384\r\n\r\n");
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(300));
        client.send(&[b'y'; 4096]);
    }
    let reply = client.response();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.len(), 16384);
}

#[test]
fn each_body_gets_its_own_rate_clock() {
    // Once, the first body's clock ran on: a second body a while later was judged by the
    // whole time since the first and cut off with 408.
    let mut config = quick_config();
    config.timeouts.body = Duration::from_millis(500);
    config.timeouts.keep_alive = Duration::from_secs(5);
    let server = start(config, Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n");
    std::thread::sleep(Duration::from_millis(50));
    client.send(b"abcd");
    assert_eq!(client.response().status, 200);
    std::thread::sleep(Duration::from_millis(900));
    client.send(b"POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab");
    std::thread::sleep(Duration::from_millis(100));
    client.send(b"cd");
    assert_eq!(client.response().status, 200);
}

#[test]
fn draining_before_a_close_ends_at_the_linger_timeout() {
    // After an error the server shuts down its sending side and drains; a client that
    // never closes is let go once the linger timeout (500 ms here) passes.
    let server = start(quick_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"BAD\r\n\r\n");
    assert_eq!(client.response().status, 400);
    assert!(client.closed(), "end of stream after the response");
    wait_until("the lingering connection released", || {
        server.connections() == 0
    });
}
