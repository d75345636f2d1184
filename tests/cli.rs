//! The `roost` command: ready line, port 0, flags, errors, and stopping on signals.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Output, Stdio};

use common::*;

const ROOST: &str = env!("CARGO_BIN_EXE_roost");

/// A running `roost` and the address from its ready line.
struct Running {
    child: Child,
    line: String,
    addr: SocketAddr,
}

fn spawn(args: &[&str]) -> Running {
    let mut child = Command::new(ROOST)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("roost runs");
    let (line, addr) = ready_line(&mut child);
    Running { child, line, addr }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn run(args: &[&str]) -> Output {
    Command::new(ROOST).args(args).output().expect("roost runs")
}

#[test]
fn prints_one_ready_line_and_stops_on_sigterm() {
    let dir = docroot();
    let root = dir.path().to_str().unwrap();
    let running = spawn(&[root, "--port", "0", "--threads", "2"]);
    assert_ne!(running.addr.port(), 0);
    assert_eq!(
        running.line,
        format!(
            "roost: serving {root} on http://127.0.0.1:{}/\n",
            running.addr.port()
        )
    );
    assert_eq!(get(running.addr, "/hello.txt").body, b"Hello world!\n");
    signal(&running.child, "TERM");
    let output = running.child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty(), "only the ready line on stdout");
}

#[test]
fn sigterm_lets_a_download_in_flight_finish() {
    let dir = docroot();
    let big: Vec<u8> = (0..16 * 1024 * 1024u32).map(|i| (i % 241) as u8).collect();
    dir.write("huge.bin", &big);
    let mut running = spawn(&[dir.path().to_str().unwrap(), "--port", "0"]);
    let mut download = Client::connect(running.addr);
    download.send(b"GET /huge.bin HTTP/1.1\r\nHost: a\r\n\r\n");
    let mut first = vec![0u8; 64 * 1024];
    std::io::Read::read_exact(&mut download.reader, &mut first).unwrap();
    signal(&running.child, "TERM");
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut download.reader, &mut rest).unwrap();
    first.extend_from_slice(&rest);
    let head_end = first.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(
        first[head_end..] == big[..],
        "download cut short by SIGTERM"
    );
    assert_eq!(running.child.wait().unwrap().code(), Some(0));
}

#[test]
fn stops_on_sigint_too() {
    let dir = docroot();
    let mut running = spawn(&[dir.path().to_str().unwrap(), "--port=0"]);
    signal(&running.child, "INT");
    assert_eq!(running.child.wait().unwrap().code(), Some(0));
}

#[test]
fn serves_the_current_directory_by_default() {
    let dir = docroot();
    let mut child = Command::new(ROOST)
        .args(["--port", "0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (line, _) = ready_line(&mut child);
    assert!(
        line.starts_with("roost: serving . on http://127.0.0.1:"),
        "{line}"
    );
    signal(&child, "TERM");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn options_are_applied() {
    let dir = docroot();
    let mut running = spawn(&[
        dir.path().to_str().unwrap(),
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "--threads",
        "1",
        "--header-timeout",
        "0.5",
        "--keepalive-timeout",
        "0.3",
        "--max-connections",
        "2",
    ]);
    // The keep-alive timeout closes an idle connection after a response.
    let mut client = Client::connect(running.addr);
    client.send(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(client.response().status, 200);
    assert_eq!(client.read_to_end(), b"");
    // The header timeout answers a stalled head with 408.
    let mut client = Client::connect(running.addr);
    client.send(b"GET /hello.txt HTTP/1.1\r\n");
    assert_eq!(client.response().status, 408);
    drop(client);
    // --max-connections 2: a third connection is closed at once.
    let mut held: Vec<Client> = (0..2).map(|_| Client::connect(running.addr)).collect();
    for c in &mut held {
        c.send(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(c.response().status, 200);
    }
    let mut third = Client::connect(running.addr);
    third.send(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(
        third.try_read(false).is_none(),
        "the third connection is closed"
    );
    signal(&running.child, "TERM");
    assert_eq!(running.child.wait().unwrap().code(), Some(0));
}

#[test]
fn cache_control_and_list_flags() {
    let dir = docroot();
    let mut running = spawn(&[
        dir.path().to_str().unwrap(),
        "--port",
        "0",
        "--cache-control",
        "max-age=60, public",
        "--list",
    ]);
    let file = get(running.addr, "/hello.txt");
    assert_eq!(file.header("cache-control"), Some("max-age=60, public"));
    let listing = get(running.addr, "/noindex/");
    assert_eq!(listing.status, 200);
    assert!(listing.text().contains("<a href=\"file.css\">file.css</a>"));
    signal(&running.child, "TERM");
    assert_eq!(running.child.wait().unwrap().code(), Some(0));

    let out = run(&[dir.path().to_str().unwrap(), "--cache-control", "a\u{7f}b"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cache-control"));
}

#[test]
fn revalidate_zero_serves_changes_at_once() {
    let dir = docroot();
    let mut running = spawn(&[
        dir.path().to_str().unwrap(),
        "--port",
        "0",
        "--revalidate",
        "0",
    ]);
    for round in 0..3 {
        let text = format!("round {round}\n");
        dir.write_settled("hello.txt", text.as_bytes());
        assert_eq!(get(running.addr, "/hello.txt").body, text.as_bytes());
    }
    signal(&running.child, "TERM");
    assert_eq!(running.child.wait().unwrap().code(), Some(0));
    let out = run(&[dir.path().to_str().unwrap(), "--revalidate", "-1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--revalidate"));
}

#[test]
fn serves_on_ipv6() {
    let dir = docroot();
    if TcpListener::bind("[::1]:0").is_err() {
        return;
    }
    let mut running = spawn(&[dir.path().to_str().unwrap(), "--bind", "::1", "--port", "0"]);
    assert!(running.line.contains("http://[::1]:"), "{}", running.line);
    assert_eq!(get(running.addr, "/hello.txt").status, 200);
    signal(&running.child, "TERM");
    assert_eq!(running.child.wait().unwrap().code(), Some(0));
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    let dir = docroot();
    let root = dir.path().to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&[root, "--port", "abc"], "--port"),
        (&[root, "--port", "70000"], "--port"),
        (&[root, "--port"], "--port needs a value"),
        (&[root, "--bogus"], "unknown option --bogus"),
        (&[root, "--threads", "-1"], "--threads"),
        (&[root, "--bind", "not-an-ip"], "--bind"),
        (&[root, "--header-timeout", "-1"], "--header-timeout"),
        (&[root, "--keepalive-timeout", "x"], "--keepalive-timeout"),
        (&[root, "--max-connections", "-3"], "--max-connections"),
        (&[root, root], "one DIR only"),
        (&["/no/such/dir", "--port", "0"], "/no/such/dir"),
    ];
    for (args, needle) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("roost: ") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_busy_address_exits_2() {
    let dir = docroot();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = run(&[dir.path().to_str().unwrap(), "--port", &port]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err,
        format!("roost: bind 127.0.0.1:{port}: address in use\n")
    );
}

#[test]
fn help_describes_every_flag() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "DIR",
        "--bind",
        "--port",
        "--threads",
        "--header-timeout",
        "--keepalive-timeout",
        "--max-connections",
        "--cache-control",
        "--list",
        "--help",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}
