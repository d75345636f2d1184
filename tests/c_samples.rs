//! The C samples in bindings/c, built with -Wall -Wextra -Werror against include/roost.h
//! and the library this test run built, then run: hello, long_poll, stream, workers and
//! upload over HTTP, https over TLS, the test programs (test_abi, test_stop, test_fork,
//! test_defer, test_stream, test_queue, test_routes, test_upload, test_tls) under valgrind
//! when it is installed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::*;

/// Builds the samples once per test binary and returns where they are.
fn samples() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let lib = library_dir();
        assert!(
            lib.join("libroost.so").exists(),
            "no libroost.so in {}",
            lib.display()
        );
        let out = lib.join("c-samples");
        let status = Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bindings/c"))
            .arg(format!("LIBDIR={}", lib.display()))
            .arg(format!("OUT={}", out.display()))
            .status()
            .expect("make runs");
        assert!(status.success(), "building the C samples failed");
        out
    })
}

/// A command that runs `program` (a C sample, or valgrind running one) against this run's
/// library. The samples' RUNPATH names it, but cargo's LD_LIBRARY_PATH, which takes
/// precedence over a RUNPATH, lists target/<profile> too, whose copy of the library only
/// `cargo build` refreshes: without this, a change to the library could go untested.
fn c_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command.env("LD_LIBRARY_PATH", library_dir());
    command
}

#[test]
fn hello_serves_a_folder_and_a_route() {
    let dir = docroot();
    let mut child = c_command(samples().join("hello"))
        .args([dir.path().to_str().unwrap(), "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (_, addr) = ready_line(&mut child);

    let reply = get(addr, "/hello/world");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.text(), "hi world\n");
    assert_eq!(get(addr, "/hello/caf%C3%A9").text(), "hi café\n");
    assert_eq!(get(addr, "/hello.txt").body, b"Hello world!\n");
    assert_eq!(get(addr, "/").body, b"<h1>root</h1>\n");
    assert_eq!(get(addr, "/hello").status, 404);
    assert_eq!(
        exchange(
            addr,
            b"POST /hello/x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
        )
        .status,
        405
    );

    stops_cleanly_on_sigterm(child);
}

/// Runs a C test program from the samples, under valgrind when it is installed (no leaks,
/// no invalid reads or writes), and checks that it passes.
fn run_c_test(name: &str) {
    run_c_test_with(name, &[]);
}

fn run_c_test_with(name: &str, args: &[&std::path::Path]) {
    let program = samples().join(name);
    let valgrind = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let output = if valgrind {
        c_command("valgrind")
            .args([
                "--quiet",
                "--error-exitcode=99",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite,indirect",
                "--show-leak-kinds=definite,indirect",
            ])
            .arg(&program)
            .args(args)
            .output()
    } else {
        c_command(&program).args(args).output()
    }
    .expect("the C test runs");
    assert!(
        output.status.success(),
        "{name} failed (valgrind: {valgrind}):\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("all checks passed"));
}

#[test]
fn test_abi_passes_under_valgrind_when_installed() {
    run_c_test("test_abi");
}

#[test]
fn stop_under_load_finishes_the_download_refuses_new_connections_and_leaks_nothing() {
    run_c_test("test_stop");
}

#[test]
fn test_fork_passes_under_valgrind_when_installed() {
    run_c_test("test_fork");
}

#[test]
fn test_defer_passes_under_valgrind_when_installed() {
    run_c_test("test_defer");
}

#[test]
fn test_stream_passes_under_valgrind_when_installed() {
    run_c_test("test_stream");
}

#[test]
fn test_queue_passes_under_valgrind_when_installed() {
    run_c_test("test_queue");
}

#[test]
fn test_routes_passes_under_valgrind_when_installed() {
    run_c_test("test_routes");
}

#[test]
fn test_upload_passes_under_valgrind_when_installed() {
    run_c_test("test_upload");
}

#[test]
fn upload_counts_a_body_larger_than_its_buffers_as_it_arrives() {
    let mut child = c_command(samples().join("upload"))
        .arg("0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (_, addr) = ready_line(&mut child);
    // Far more than the stream buffer and the socket buffers, declared and chunked.
    let size = 20 << 20;
    let mut client = Client::connect(addr);
    let mut raw =
        format!("PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: {size}\r\n\r\n").into_bytes();
    raw.resize(raw.len() + size, b'u');
    raw.extend_from_slice(
        b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for _ in 0..100 {
        raw.extend_from_slice(b"2710\r\n");
        raw.resize(raw.len() + 10_000, b'c');
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let sender = {
        let mut stream = client.stream().try_clone().unwrap();
        std::thread::spawn(move || std::io::Write::write_all(&mut stream, &raw).unwrap())
    };
    let first = client.response();
    assert_eq!(first.status, 200);
    assert_eq!(first.text(), format!("received {size} bytes\n"));
    assert_eq!(client.response().text(), "received 1000000 bytes\n");
    sender.join().unwrap();
    stops_cleanly_on_sigterm(child);
}

#[test]
fn long_poll_answers_each_waiting_client_at_the_next_tick() {
    let mut child = c_command(samples().join("long_poll"))
        .args(["0", "300"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (_, addr) = ready_line(&mut child);
    // A client that leaves before its tick, then two that wait for the same one.
    drop(std::net::TcpStream::connect(addr).and_then(|mut s| {
        std::io::Write::write_all(&mut s, b"GET /poll HTTP/1.1\r\nHost: a\r\n\r\n")
    }));
    let waiters: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || get(addr, "/poll")))
        .collect();
    let replies: Vec<_> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
    for reply in &replies {
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some("text/plain"));
        assert!(reply.text().starts_with("tick "), "{:?}", reply.text());
    }
    stops_cleanly_on_sigterm(child);
}

#[test]
fn stream_sends_a_body_written_by_a_producer_thread() {
    let dir = docroot();
    let mut child = c_command(samples().join("stream"))
        .args(["0", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (_, addr) = ready_line(&mut child);
    // More than the stream's bound and the socket buffers: the producer waits for room.
    let size = 3 << 20;
    let mut client = Client::connect(addr);
    client.send(format!("GET /bytes/{size} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
    let head = client.read_head().unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    assert_eq!(
        head.header("content-type"),
        Some("application/octet-stream")
    );
    let body = client.read_chunked_body();
    assert_eq!(body.len(), size);
    assert!(body
        .iter()
        .enumerate()
        .all(|(i, &b)| b == b'a' + (i % 26) as u8));
    // The same connection goes on; the folder is served beside the route.
    client.send(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(client.response().body, b"Hello world!\n");
    stops_cleanly_on_sigterm(child);
}

#[test]
fn workers_answers_from_the_hosts_own_threads() {
    let mut child = c_command(samples().join("workers"))
        .args(["0", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (_, addr) = ready_line(&mut child);
    let clients: Vec<_> = [100, 1000, 10]
        .into_iter()
        .map(|n| std::thread::spawn(move || get(addr, &format!("/primes/{n}"))))
        .collect();
    let answers: Vec<String> = clients
        .into_iter()
        .map(|c| c.join().unwrap().text())
        .collect();
    assert_eq!(answers, ["25\n", "168\n", "4\n"]);
    assert_eq!(get(addr, "/elsewhere").status, 404);
    stops_cleanly_on_sigterm(child);
}

#[test]
fn test_tls_passes_under_valgrind_when_installed() {
    let pki = common::tls::Pki::new();
    run_c_test_with(
        "test_tls",
        &[&pki.a.cert, &pki.a.key, &pki.b.cert, &pki.b.key],
    );
}

#[test]
fn https_serves_over_tls_redirects_plain_http_and_reloads_on_sighup() {
    use std::io::BufRead;
    let dir = docroot();
    let pki = common::tls::Pki::new();
    let (cert, key) = (pki.dir.0.join("live.pem"), pki.dir.0.join("live.key"));
    std::fs::copy(&pki.a.cert, &cert).unwrap();
    std::fs::copy(&pki.a.key, &key).unwrap();
    let mut child = c_command(samples().join("https"))
        .arg(dir.path())
        .args([&cert, &key])
        .args(["0", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = |scheme| {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        url_addr(&line, scheme)
    };
    let (https, plain) = (line("https"), line("http"));
    let mut client = common::tls::connect(&pki, https);
    client.send(b"GET /whoami HTTP/1.1\r\nHost: a.test\r\n\r\n");
    let text = client.response().text();
    assert!(
        text.starts_with("TLSv1.3 TLS_") && text.contains("sni=a.test"),
        "{text}"
    );
    client.send(b"GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n");
    assert!(client.response().body == mebibyte());
    let reply = get(plain, "/hello.txt");
    assert_eq!(reply.status, 308);
    assert_eq!(
        reply.header("location"),
        Some(format!("https://test:{}/hello.txt", https.port()).as_str())
    );
    // SIGHUP: the renewed certificate for new handshakes.
    std::fs::copy(&pki.a2.cert, &cert).unwrap();
    std::fs::copy(&pki.a2.key, &key).unwrap();
    let status = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    stderr.read_line(&mut said).unwrap();
    assert!(said.starts_with("https: reloaded"), "{said}");
    let stream = common::tls::connect_with(https, pki.client(None), Some("a.test")).unwrap();
    assert_eq!(stream.conn.peer_certificates().unwrap()[0], pki.a2.der);
    stops_cleanly_on_sigterm(child);
}

/// Sends SIGTERM to a sample and checks that it exits with status 0.
fn stops_cleanly_on_sigterm(mut child: std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
