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
        (&[root, "--tls-cert", "c.pem"], "come in pairs"),
        (&[root, "--listen", "127.0.0.1"], "--listen"),
        (&[root, "--listen", "127.0.0.1:0,tls"], "needs --tls-cert"),
        (&[root, "--redirect-https"], "needs a TLS listener"),
        (
            &[root, "--tls-self-signed", "--tls-client-auth", "optional"],
            "--tls-client-ca",
        ),
        (
            &[root, "--tls-self-signed", "--tls-min-version", "1.1"],
            "--tls-min-version",
        ),
        (
            &[root, "--tls-cert", "/no/c.pem", "--tls-key", "/no/k.pem"],
            "/no/c.pem: cannot read it",
        ),
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
        "--listen",
        "--tls-cert",
        "--tls-key",
        "--tls-self-signed",
        "--tls-client-ca",
        "--tls-client-auth",
        "--tls-min-version",
        "--redirect-https",
        "--help",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

/// Reads `n` lines from the child's stdout.
fn lines(child: &mut Child, n: usize) -> Vec<String> {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::new(child.stdout.as_mut().unwrap());
    (0..n)
        .map(|_| {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            line
        })
        .collect()
}

fn spawn_lines(args: &[&str], n: usize) -> (Child, Vec<String>) {
    let mut child = Command::new(ROOST)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("roost runs");
    let lines = lines(&mut child, n);
    (child, lines)
}

#[test]
fn tls_self_signed_serves_https_and_prints_the_fingerprint() {
    let dir = docroot();
    let root = dir.path().to_str().unwrap();
    let (child, lines) = spawn_lines(&[root, "--port", "0", "--tls-self-signed"], 2);
    let fingerprint = lines[0]
        .strip_prefix("roost: self-signed certificate for localhost, SHA-256 fingerprint ")
        .unwrap_or_else(|| panic!("{:?}", lines[0]))
        .trim()
        .to_string();
    assert_eq!(fingerprint.len(), 32 * 3 - 1, "{fingerprint}");
    let addr = url_addr(&lines[1], "https");
    assert_eq!(
        lines[1],
        format!("roost: serving {root} on https://{addr}/\n")
    );
    // The certificate served is the one printed: its SHA-256 is the fingerprint.
    let config = roost_cli_client();
    let stream = common::tls::connect_with(addr, config, Some("localhost")).unwrap();
    let leaf = stream.conn.peer_certificates().unwrap()[0].clone();
    assert_eq!(sha256_hex(&leaf), fingerprint);
    let mut client = Client::over(stream);
    client.send(b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(client.response().text(), "Hello world!\n");
    signal(&child, "TERM");
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(0));
}

/// A rustls client that takes any certificate: the test checks the one it got by its
/// fingerprint instead.
fn roost_cli_client() -> rustls::ClientConfig {
    #[derive(Debug)]
    struct AnyCertificate(std::sync::Arc<rustls::crypto::CryptoProvider>);
    impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _: &rustls::pki_types::CertificateDer<'_>,
            _: &[rustls::pki_types::CertificateDer<'_>],
            _: &rustls::pki_types::ServerName<'_>,
            _: &[u8],
            _: rustls::pki_types::UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
    let provider = roost::tls::provider();
    rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(AnyCertificate(provider)))
        .with_no_client_auth()
}

fn sha256_hex(bytes: &[u8]) -> String {
    let suite = rustls::crypto::aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256;
    let digest = suite.tls13().unwrap().common.hash_provider.hash(bytes);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn listen_flags_serve_plain_and_tls_side_by_side_and_redirect() {
    let dir = docroot();
    let root = dir.path().to_str().unwrap();
    let pki = common::tls::Pki::new();
    let (a, b) = (&pki.a, &pki.b);
    let (child, lines) = spawn_lines(
        &[
            root,
            "--listen",
            "127.0.0.1:0,tls",
            "--listen",
            "127.0.0.1:0",
            "--redirect-https",
            "--tls-cert",
            a.cert.to_str().unwrap(),
            "--tls-key",
            a.key.to_str().unwrap(),
            "--tls-cert",
            b.cert.to_str().unwrap(),
            "--tls-key",
            b.key.to_str().unwrap(),
        ],
        2,
    );
    let https = url_addr(&lines[0], "https");
    assert_eq!(
        lines[0],
        format!("roost: serving {root} on https://{https}/\n")
    );
    let plain = url_addr(&lines[1], "http");
    assert_eq!(
        lines[1],
        format!("roost: redirecting http://{plain}/ to https://{https}/\n")
    );
    let reply = get(plain, "/hello.txt?x=1");
    assert_eq!(reply.status, 308);
    assert_eq!(
        reply.header("location"),
        Some(format!("https://test:{}/hello.txt?x=1", https.port()).as_str())
    );
    let stream = common::tls::connect_with(https, pki.client(None), Some("b.test")).unwrap();
    assert_eq!(stream.conn.peer_certificates().unwrap()[0], b.der);
    let mut client = Client::over(stream);
    client.send(b"GET /hello.txt HTTP/1.1\r\nHost: b.test\r\n\r\n");
    assert_eq!(client.response().status, 200);
    signal(&child, "TERM");
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(0));
}

#[test]
fn sighup_reloads_the_certificates_and_a_bad_file_keeps_the_old_ones() {
    use std::io::BufRead;
    let dir = docroot();
    let pki = common::tls::Pki::new();
    let cert = pki.dir.0.join("live.pem");
    let key = pki.dir.0.join("live.key");
    std::fs::copy(&pki.a.cert, &cert).unwrap();
    std::fs::copy(&pki.a.key, &key).unwrap();
    let (mut child, lines) = spawn_lines(
        &[
            dir.path().to_str().unwrap(),
            "--port",
            "0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        1,
    );
    let addr = url_addr(&lines[0], "https");
    let leaf = || {
        let stream = common::tls::connect_with(addr, pki.client(None), Some("a.test")).unwrap();
        stream.conn.peer_certificates().unwrap()[0].clone()
    };
    assert_eq!(leaf(), pki.a.der);
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut next_line = || {
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        line
    };
    std::fs::copy(&pki.a2.cert, &cert).unwrap();
    std::fs::copy(&pki.a2.key, &key).unwrap();
    signal(&child, "HUP");
    assert_eq!(next_line(), "roost: reloaded the TLS certificates\n");
    assert_eq!(leaf(), pki.a2.der);
    std::fs::write(&key, "garbage").unwrap();
    signal(&child, "HUP");
    let line = next_line();
    assert!(
        line.starts_with("roost: reload failed, the old certificates stay: ")
            && line.contains("live.key"),
        "{line}"
    );
    assert_eq!(leaf(), pki.a2.der);
    signal(&child, "TERM");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
