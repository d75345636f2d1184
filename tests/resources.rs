//! Descriptors and memory: nothing leaks per connection, memory stays flat under steady
//! load, and a client that pipelines faster than it reads does not make the server queue
//! without bound. These tests measure the whole process (`/proc/self`), so they take turns.

mod common;

use std::io::{Read, Write};
use std::sync::Mutex;
use std::time::Duration;

use common::*;
use roost::StaticFiles;

/// Serializes the tests of this file: each counts the process's descriptors or memory.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn no_descriptor_survives_its_connection() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = docroot();
    let server = start_static(dir.path());
    let addr = server.local_addr();
    assert_eq!(get(addr, "/hello.txt").status, 200);
    wait_until("idle", || server.connections() == 0);
    let baseline = open_descriptors();

    for round in 0..20 {
        // Aborted in the middle of a request head.
        let mut half = Client::connect(addr);
        half.send(b"GET /hello.txt HTTP/1.1\r\nHo");
        drop(half);
        // Closed in the middle of a 1 MiB response, with unread data: the client's
        // kernel answers with a reset.
        let mut reset = Client::connect(addr);
        reset.send(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
        let mut some = [0u8; 4096];
        reset.reader.get_mut().read_exact(&mut some).unwrap();
        drop(reset);
        // Closed in the middle of a request body.
        let mut body = Client::connect(addr);
        body.send(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
        drop(body);
        // A complete exchange, then a close by the client.
        assert_eq!(get(addr, &format!("/hello.txt?{round}")).status, 200);
    }
    wait_until("all connections closed", || server.connections() == 0);
    let links: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.unwrap().path()).ok())
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(
        open_descriptors(),
        baseline,
        "descriptors leaked: {links:?}"
    );
}

#[test]
fn memory_stays_flat_across_keep_alive_requests() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let server = start(test_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    let request = b"POST /flat HTTP/1.1\r\nHost: a\r\nContent-Length: 64\r\n\r\n\
                    0123456789012345678901234567890123456789012345678901234567890123";
    let mut exchange = |n: usize| {
        for _ in 0..n {
            client.send(request);
            assert_eq!(client.response().body.len(), 64);
        }
    };
    exchange(10_000);
    let before = resident_kib();
    exchange(100_000);
    let after = resident_kib();
    assert!(
        after < before + 2048,
        "resident memory grew from {before} KiB to {after} KiB over 100,000 requests"
    );
}

#[test]
fn a_client_that_pipelines_without_reading_is_not_buffered_without_bound() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = TempDir::new("backpressure");
    dir.write("k.bin", &vec![b'k'; 1024]);
    let server = start(test_config(), StaticFiles::new(dir.path()).unwrap());
    let mut client = Client::connect(server.local_addr());
    // 50,000 requests of 1 KiB each (padded, so that they outgrow the kernel's socket
    // buffers) for a 1 KiB file: 50 MiB each way if the server read and queued it all.
    const COUNT: usize = 50_000;
    let request = format!(
        "GET /k.bin HTTP/1.1\r\nHost: a\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(980)
    );
    let request = request.as_bytes();
    let all: Vec<u8> = request.repeat(COUNT);
    let mut writer = client.stream().try_clone().unwrap();
    writer
        .set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let before = resident_kib();
    // Write until the server stops reading (a write times out) or everything is sent.
    let mut offset = 0;
    while offset < all.len() {
        match writer.write(&all[offset..]) {
            Ok(n) => offset += n,
            Err(_) => break,
        }
    }
    assert!(
        offset < all.len(),
        "the server kept reading while nobody read its answers"
    );
    let stalled = resident_kib();
    assert!(
        stalled < before + 16 * 1024,
        "the server buffered {} KiB for one stalled client",
        stalled.saturating_sub(before)
    );
    // Now read: every response arrives, in order, and the rest of the requests go through.
    let reader = std::thread::spawn(move || {
        let mut answered = 0;
        while answered < COUNT {
            let reply = client.response();
            assert_eq!((reply.status, reply.body.len()), (200, 1024));
            answered += 1;
        }
        answered
    });
    writer.set_write_timeout(None).unwrap();
    writer.write_all(&all[offset..]).unwrap();
    assert_eq!(reader.join().unwrap(), COUNT);
}
