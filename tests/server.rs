//! Server lifecycle: binding, port 0, IPv6, threads, connection limits, graceful stop.

mod common;

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use roost::{Server, StaticFiles};

#[test]
fn port_zero_reports_the_real_port() {
    let server = start(test_config(), Echo);
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);
    assert_eq!(get(addr, "/").status, 200);
}

#[test]
fn ipv6_loopback_is_served() {
    let mut config = test_config();
    config.bind("[::1]:0".parse().unwrap());
    let server = match Server::start(config, Arc::new(Echo)) {
        Ok(s) => s,
        // A machine without IPv6 cannot run this test.
        Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => return,
        Err(e) => panic!("{e}"),
    };
    assert!(server.local_addr().is_ipv6());
    let reply = get(server.local_addr(), "/six");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-path"), Some("/six"));
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = test_config();
    config.bind(taken.local_addr().unwrap());
    let err = Server::start(config, Arc::new(Echo))
        .err()
        .expect("bind fails");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    assert_eq!(
        err.to_string(),
        format!("bind {}: address in use", taken.local_addr().unwrap())
    );
}

#[test]
fn two_servers_cannot_share_a_port() {
    let first = start(test_config(), Echo);
    let mut config = test_config();
    config.bind(first.local_addr());
    assert!(Server::start(config, Arc::new(Echo)).is_err());
}

/// Answers with the name of the thread that answered.
struct WhichThread;

impl roost::Handler for WhichThread {
    fn handle(&self, _req: &roost::Request, res: &mut roost::Response) {
        let name = std::thread::current().name().unwrap_or("?").to_string();
        res.set_body(name.as_bytes());
    }
}

#[test]
fn the_thread_count_is_the_configured_one() {
    // The threads this server started, and the names of those that answered: with one
    // thread, one name; with three, none beyond the third.
    for threads in [1, 3] {
        let mut config = test_config();
        config.threads = threads;
        let server = start(config, WhichThread);
        assert_eq!(server.worker_threads().len(), threads);
        let mut answered = std::collections::BTreeSet::new();
        let mut clients: Vec<Client> = (0..40)
            .map(|_| Client::connect(server.local_addr()))
            .collect();
        for client in &mut clients {
            client.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        }
        for client in &mut clients {
            answered.insert(client.response().text());
        }
        for name in &answered {
            assert!(name.starts_with("roost-worker-"), "{name}");
            let index: usize = name["roost-worker-".len()..].parse().unwrap();
            assert!(index < threads, "{name} with {threads} thread(s)");
        }
        if threads == 1 {
            assert_eq!(answered.len(), 1, "one thread served all: {answered:?}");
        }
    }
}

#[test]
fn max_connections_closes_the_one_past_the_limit() {
    let mut config = test_config();
    config.max_connections = 3;
    let server = start(config, Echo);
    let addr = server.local_addr();
    let mut held: Vec<Client> = (0..3).map(|_| Client::connect(addr)).collect();
    wait_until("three connections", || server.connections() == 3);
    let mut extra = Client::connect(addr);
    extra.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(
        extra.try_read(false).is_none(),
        "the fourth connection is closed"
    );
    for client in &mut held {
        client.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(client.response().status, 200);
    }
    drop(held);
    wait_until("room again", || server.connections() == 0);
    assert_eq!(get(addr, "/").status, 200);
}

#[test]
fn stop_refuses_new_connections_and_finishes_a_download_in_flight() {
    let dir = docroot();
    let big: Vec<u8> = (0..32 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    dir.write("huge.bin", &big);
    let mut server = start(test_config(), StaticFiles::new(dir.path()).unwrap());
    let addr = server.local_addr();

    let mut idle = Client::connect(addr);
    let mut download = Client::connect(addr);
    download.send(b"GET /huge.bin HTTP/1.1\r\nHost: a\r\n\r\n");
    // Read the head and a little of the body so the response is surely in flight.
    let mut first = vec![0u8; 64 * 1024];
    download.reader.read_exact(&mut first).unwrap();
    wait_until("both connections accepted", || server.connections() == 2);

    let stopper = std::thread::spawn(move || {
        server.stop();
        server.stop(); // a second call does nothing
        server
    });
    wait_until("new connections refused", || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err()
    });
    assert!(idle.closed(), "an idle connection is closed by stop");
    let mut rest = Vec::new();
    download.reader.read_to_end(&mut rest).unwrap();
    let mut all = first;
    all.extend_from_slice(&rest);
    let head_end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&all[..head_end]);
    assert!(head.contains("Content-Length: 33554432"), "{head}");
    assert!(all[head_end..] == big[..], "download incomplete after stop");
    let server = stopper.join().unwrap();
    assert!(TcpStream::connect(server.local_addr()).is_err());
}

#[test]
fn dropping_a_server_stops_it() {
    let addr: SocketAddr;
    {
        let server = start(test_config(), Echo);
        addr = server.local_addr();
        assert_eq!(get(addr, "/").status, 200);
    }
    assert!(TcpStream::connect(addr).is_err());
}
