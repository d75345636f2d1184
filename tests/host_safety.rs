//! No input may abort the host or make it hold memory without bound. Each server here runs
//! in a child process (see `common::child`), so that an abort shows as a dead child, and its
//! memory is read from the child's /proc status: `VmHWM` (the peak) and `VmRSS` (now).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use common::child::{child_role, serve_until_parent_leaves, ChildServer};
use common::*;
use roost::{Config, Handler, Placement, Request, Response, StaticFiles};

const MIB: usize = 1 << 20;

/// The handler of the child servers: `POST /echo` answers with the length of the body it
/// read, `GET /big/{n}` with n MiB, `/slow/...` blocks (on a handler thread) until a
/// `GET /release` (answered on the I/O thread) opens the gate.
struct Child {
    gate: Arc<(Mutex<bool>, Condvar)>,
}

impl Handler for Child {
    fn handle(&self, req: &Request, res: &mut Response) {
        let path = req.path();
        if path == "/release" {
            *self.gate.0.lock().unwrap() = true;
            self.gate.1.notify_all();
        } else if let Some(rest) = path.strip_prefix("/slow") {
            let mut open = self.gate.0.lock().unwrap();
            while !*open {
                open = self.gate.1.wait(open).unwrap();
            }
            res.set_body(rest.as_bytes());
        } else if let Some(n) = path.strip_prefix("/big/") {
            let n: usize = n.parse().unwrap_or(1);
            res.set_body(&vec![b'b'; n * MIB]);
        } else if path == "/echo" {
            res.set_body(req.body().len().to_string().as_bytes());
        } else {
            res.set_body(b"ok");
        }
    }

    fn placement(&self, req: &Request) -> Placement {
        if req.path().starts_with("/slow") || req.path() == "/echo" {
            Placement::Blocking
        } else {
            Placement::Here
        }
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| v.parse().unwrap())
}

/// The server side of every test here: started with the settings the parent passed.
#[test]
fn child() {
    let Some(role) = child_role() else {
        return;
    };
    let mut config = Config {
        listen: vec![roost::server::Listen::plain("127.0.0.1:0".parse().unwrap())],
        threads: 2,
        ..Config::default()
    };
    if let Some(n) = env_number("ROOST_MAX_BODY") {
        config.limits.max_body = n;
    }
    if let Some(ms) = env_number("ROOST_BODY_TIMEOUT_MS") {
        config.timeouts.body = Duration::from_millis(ms);
    }
    if let Some(n) = env_number("ROOST_HANDLER_THREADS") {
        config.handler_threads = n as usize;
    }
    if let Some(n) = env_number("ROOST_MAX_CONNECTIONS") {
        config.max_connections = n as usize;
    }
    let handler: Arc<dyn Handler> = match role.as_str() {
        "static" => Arc::new(StaticFiles::new(std::env::var("ROOST_ROOT").unwrap()).unwrap()),
        _ => Arc::new(Child {
            gate: Arc::default(),
        }),
    };
    let server = roost::Server::start(config, handler).unwrap();
    serve_until_parent_leaves(server.local_addr());
}

fn spawn(role: &str, env: &[(&str, String)], ulimit: &str) -> ChildServer {
    ChildServer::start("child", role, env, ulimit)
}

/// Sends a POST head announcing `length` bytes and the first `sent` of them.
fn start_upload(addr: SocketAddr, length: u64, sent: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let head = format!("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: {length}\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&vec![b'u'; sent]).unwrap();
    stream
}

/// Ends each upload (a client that stops in the middle of a request is closed at once) and
/// waits for the server to close it, so that whatever the server did with the bytes has
/// happened (an abort closes the connections only once the process is gone); then asserts
/// that the child is alive and answers a request on a new connection.
fn assert_serving(child: &mut ChildServer, uploads: Vec<TcpStream>) {
    for mut upload in uploads {
        let _ = upload.shutdown(std::net::Shutdown::Write);
        let _ = upload.read_to_end(&mut Vec::new());
    }
    assert_eq!(child.exited(), None, "the child died");
    let reply = get(child.addr, "/hello");
    assert_eq!((reply.status, reply.text().as_str()), (200, "ok"));
    assert_eq!(child.exited(), None, "the child died");
}

#[test]
fn a_huge_announced_body_does_not_abort_the_host() {
    // With the body limit raised as far as it goes, one request announcing a terabyte once
    // made the server reserve it all when the second piece arrived: the allocator aborted
    // the host process.
    let mut child = spawn("echo", &[("ROOST_MAX_BODY", u64::MAX.to_string())], "");
    let mut upload = start_upload(child.addr, 1 << 40, 1);
    for _ in 0..5 {
        // Separate pieces, so that the server reads more than once.
        std::thread::sleep(Duration::from_millis(20));
        upload.write_all(b"x").unwrap();
    }
    assert_serving(&mut child, vec![upload]);
}

#[test]
fn announced_bodies_reserve_nothing_under_an_address_space_limit() {
    // 1,000 connections each announcing the default 16 MiB limit and sending 2 bytes:
    // reserving the announced size, the server ran out of 2 GiB of address space at the
    // 127th and aborted.
    let mut child = spawn("echo", &[], "-v 2097152");
    let mut uploads: Vec<TcpStream> = (0..1000)
        .map(|_| start_upload(child.addr, 16 * MIB as u64, 1))
        .collect();
    for upload in &mut uploads {
        upload.write_all(b"x").unwrap();
    }
    assert_serving(&mut child, uploads);
    assert!(
        child.memory_kib("VmHWM") < 256 * 1024,
        "peak {} KiB",
        child.memory_kib("VmHWM")
    );
}

/// Reads one response from `stream`, or None if it closes or PATIENCE passes first.
fn status_of(stream: TcpStream) -> Option<u16> {
    let mut client = Client {
        reader: std::io::BufReader::new(stream),
    };
    client.try_read(false).map(|r| r.status)
}

#[test]
fn buffered_bodies_are_bounded_server_wide() {
    // 40 uploads that each send almost 16 MiB at once and then trickle: the server once held
    // all of them (640 MiB), and the fast start kept the average above the minimum rate for
    // hours. Now the bodies share a 256 MiB budget (reading pauses past it; a connection
    // paused longer than the body timeout gets 503), and the rate is measured over the last
    // body timeout, so the trickle is cut off with 408, while it goes on.
    let child = spawn("echo", &[("ROOST_BODY_TIMEOUT_MS", "1000".into())], "");
    let addr = child.addr;
    let senders: Vec<_> = (0..40)
        .map(|_| {
            std::thread::spawn(move || {
                let length = 16 * MIB as u64 - 64;
                let mut upload = start_upload(addr, length, 0);
                upload.set_write_timeout(Some(PATIENCE)).unwrap();
                let body = vec![b'u'; length as usize - 32];
                if upload.write_all(&body).is_ok() {
                    // A byte every 300 ms, for longer than any timeout here, unless the
                    // server answers meanwhile.
                    upload
                        .set_read_timeout(Some(Duration::from_millis(300)))
                        .unwrap();
                    let mut byte = [0u8; 1];
                    for _ in 0..30 {
                        if upload.peek(&mut byte).is_ok() || upload.write_all(b"t").is_err() {
                            break;
                        }
                    }
                }
                upload
                    .set_read_timeout(Some(Duration::from_millis(1)))
                    .unwrap();
                let answered = upload.peek(&mut [0u8; 1]).is_ok_and(|n| n > 0);
                upload.set_read_timeout(Some(PATIENCE)).unwrap();
                (answered, status_of(upload))
            })
        })
        .collect();
    let results: Vec<(bool, Option<u16>)> =
        senders.into_iter().map(|s| s.join().unwrap()).collect();
    let peak = child.memory_kib("VmHWM");
    assert!(
        results
            .iter()
            .all(|&(answered, status)| answered && matches!(status, Some(408 | 503))),
        "answered while still sending, with: {results:?}"
    );
    assert!(peak < 320 * 1024, "peak resident memory {peak} KiB");
}

/// Whether the server has read everything sent on `stream`: nothing waits in its send
/// queue nor unread in the server's receive queue (/proc/net/tcp, both sockets on
/// loopback here).
fn read_by_server(stream: &TcpStream) -> bool {
    let hex = |addr: SocketAddr| match addr {
        SocketAddr::V4(a) => format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(a.ip().octets()),
            a.port()
        ),
        SocketAddr::V6(_) => unreachable!("IPv4 loopback only"),
    };
    let (ours, theirs) = (
        hex(stream.local_addr().unwrap()),
        hex(stream.peer_addr().unwrap()),
    );
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let queues = |local: &str, remote: &str| {
        table.lines().find_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            (f.len() > 4 && f[1] == local && f[2] == remote).then(|| f[4].to_string())
        })
    };
    let client = queues(&ours, &theirs);
    let server = queues(&theirs, &ours);
    let tx_empty = client.is_some_and(|q| q.starts_with("00000000:"));
    let rx_empty = server.is_some_and(|q| q.ends_with(":00000000"));
    tx_empty && rx_empty
}

#[test]
fn a_queued_request_frees_its_body_when_its_client_resets() {
    // A handler thread is held; uploads queue behind it and their clients reset (the unread
    // 100 Continue makes the close a reset). The server once kept every queued body: 100
    // clients of 16 MiB held 1.6 GiB with ten connections allowed.
    let mut child = spawn(
        "echo",
        &[
            ("ROOST_HANDLER_THREADS", "1".into()),
            ("ROOST_MAX_CONNECTIONS", "10".into()),
        ],
        "",
    );
    let mut held = Client::connect(child.addr);
    held.send(b"GET /slow/held HTTP/1.1\r\nHost: a\r\n\r\n");
    let body = vec![b'q'; 16 * MIB];
    for i in 0..100 {
        let mut upload = TcpStream::connect(child.addr).unwrap();
        let head = format!(
            "POST /slow/{i} HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        upload.write_all(head.as_bytes()).unwrap();
        // Leave the 100 Continue unread, so that closing resets the connection.
        upload.peek(&mut [0u8; 1]).unwrap();
        upload.write_all(&body).unwrap();
        wait_until("the upload read", || read_by_server(&upload));
        drop(upload);
    }
    let peak = child.memory_kib("VmHWM");
    assert!(peak < 400 * 1024, "peak resident memory {peak} KiB");
    assert_eq!(get(child.addr, "/release").status, 200);
    assert_eq!(held.response().text(), "/held");
    assert_eq!(child.exited(), None);
}

#[test]
fn large_buffers_go_back_to_the_system_after_use() {
    // Once, the memory of 16 MiB uploads answered on handler threads stayed resident (610
    // MiB after a burst), and so did that of a 100 MB response (343 MiB).
    let child = spawn("echo", &[("ROOST_HANDLER_THREADS", "2".into())], "");
    let addr = child.addr;
    assert_eq!(get(addr, "/hello").status, 200);
    let baseline = child.memory_kib("VmRSS");
    let uploads: Vec<_> = (0..20)
        .map(|_| {
            std::thread::spawn(move || {
                let mut upload = start_upload(addr, 16 * MIB as u64, 16 * MIB);
                let _ = upload.flush();
                status_of(upload)
            })
        })
        .collect();
    for upload in uploads {
        assert_eq!(upload.join().unwrap(), Some(200));
    }
    let settled = |what: &str| {
        wait_until(what, || child.memory_kib("VmRSS") < baseline + 48 * 1024);
    };
    settled("the uploads' memory returned");
    let big = get(addr, "/big/100");
    assert_eq!(big.body.len(), 100 * MIB);
    drop(big);
    settled("the large response's memory returned");
}

fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

#[test]
fn static_files_answer_503_when_descriptors_run_out() {
    let dir = docroot();
    let mut child = spawn(
        "static",
        &[("ROOST_ROOT", dir.path().display().to_string())],
        "-n 64",
    );
    let mut first = Client::connect(child.addr);
    first.send(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(first.response().status, 200);
    // Idle connections until every descriptor of the child is taken.
    let _idle: Vec<TcpStream> = (0..80)
        .map(|_| TcpStream::connect(child.addr).unwrap())
        .collect();
    let pid = child.pid();
    wait_until("the child out of descriptors", || {
        open_descriptors(pid) >= 64
    });
    first.send(b"GET /sub/page.html HTTP/1.1\r\nHost: a\r\n\r\n");
    let reply = first.response();
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(child.exited(), None);
}

#[test]
fn starting_raises_the_soft_descriptor_limit_to_the_hard_limit() {
    let dir = docroot();
    let child = spawn(
        "static",
        &[("ROOST_ROOT", dir.path().display().to_string())],
        "-S -n 256",
    );
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.pid())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_ne!(fields[3], "256", "the soft limit was not raised: {line}");
    assert_eq!(fields[3], fields[4], "soft limit equals hard limit: {line}");
}

fn small_budget(bytes: usize, body_timeout: Duration) -> Config {
    let mut config = test_config();
    config.max_buffered_body_bytes = bytes;
    config.timeouts.body = body_timeout;
    config
}

#[test]
fn bodies_waiting_for_each_other_never_all_wait_out_the_timeout() {
    // Two uploads of 800 KiB against a 1 MiB budget, at once: each holds part of it and
    // waits for more. They once both waited for the body timeout (60 s here) and got 503.
    // Now the one that finds every holder waiting gives way (503) at once, and the other
    // completes.
    let server = start(small_budget(1 << 20, Duration::from_secs(60)), Echo);
    let addr = server.local_addr();
    for _ in 0..5 {
        let uploads: Vec<_> = (0..2)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut upload = start_upload(addr, 800 * 1024, 800 * 1024);
                    let _ = upload.flush();
                    status_of(upload)
                })
            })
            .collect();
        let statuses: Vec<Option<u16>> = uploads.into_iter().map(|u| u.join().unwrap()).collect();
        assert!(
            statuses.iter().all(|s| matches!(s, Some(200 | 503))) && statuses.contains(&Some(200)),
            "{statuses:?}"
        );
    }
    wait_until("every charge given back", || {
        server.buffered_body_bytes() == 0
    });
}

#[test]
fn a_body_waiting_for_memory_is_still_asked_about_first() {
    // The budget is held by an upload in progress; a request whose whole body came with its
    // head, and whose handler does not want it, is answered at once, not after waiting (60
    // s here) for memory it never needed.
    let server = start(small_budget(64 * 1024, Duration::from_secs(60)), Echo);
    let addr = server.local_addr();
    let mut holder = Client::connect(addr);
    holder.send(b"POST /hold HTTP/1.1\r\nHost: a\r\nContent-Length: 63000\r\n\r\n");
    holder.send(&[b'h'; 60000]);
    wait_until("the budget taken", || server.buffered_body_bytes() >= 60000);
    let mut refused = Client::connect(addr);
    let mut whole =
        b"POST /reject-body HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n".to_vec();
    whole.extend_from_slice(&[b'r'; 5000]);
    refused.send(&whole);
    let reply = refused.response();
    assert_eq!(reply.header("x-body-length"), Some("0"));
    holder.send(&[b'h'; 3000]);
    assert_eq!(holder.response().header("x-body-length"), Some("63000"));
}

#[test]
fn announcing_a_body_holds_no_memory() {
    // Bodies are charged as their bytes arrive: heads announcing the whole budget and
    // sending nothing hold none of it, and a small upload goes through at once.
    let server = start(small_budget(64 * 1024, Duration::from_secs(60)), Echo);
    let addr = server.local_addr();
    let _announced: Vec<TcpStream> = (0..4).map(|_| start_upload(addr, 60000, 0)).collect();
    let mut small = Client::connect(addr);
    small.send(b"POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(small.response().text(), "ok");
}
