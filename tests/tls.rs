//! HTTPS (`Config::listen` with TLS, `roost::tls`): handshakes, SNI, ALPN, client
//! certificates, reload, plain HTTP at a TLS port, slow and broken handshakes, and every
//! kind of response over TLS, checked with rustls as the client and with curl and
//! `openssl s_client` where they are installed.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use common::tls::{connect, connect_with, Pki};
use common::*;
use roost::server::Listen;
use roost::tls::{ClientAuth, MinVersion, Pem, Tls, TlsSettings};
use roost::{Config, Later, Matched, Request, Response, Router, Server, StaticFiles};

/// A router: `/tls` answers with what the request knows of its TLS connection, `/stream`
/// streams three pieces, `/later` hands its exchange to the test; the docroot for the rest.
fn site(root: &std::path::Path, laters: mpsc::Sender<Later>) -> Router {
    let mut router = Router::new();
    router
        .route(
            "GET",
            "/tls",
            Arc::new(|req: &Request, _: &Matched<'_>, res: &mut Response| {
                let body = match req.tls() {
                    None => "plain\n".to_string(),
                    Some(tls) => format!(
                        "version={}\ncipher={}\nsni={}\nalpn={}\nclient={}\n",
                        tls.version,
                        tls.cipher,
                        tls.server_name.as_deref().unwrap_or("-"),
                        tls.alpn.as_deref().unwrap_or("-"),
                        tls.client_subject.as_deref().unwrap_or("-"),
                    ),
                };
                res.set_body(body.as_bytes());
            }),
        )
        .unwrap();
    router
        .route(
            "GET",
            "/stream",
            Arc::new(|_: &Request, _: &Matched<'_>, res: &mut Response| {
                let stream = res.stream();
                std::thread::spawn(move || {
                    for piece in [&b"one "[..], b"two ", b"three"] {
                        stream.write(piece).unwrap();
                    }
                    stream.finish();
                });
            }),
        )
        .unwrap();
    let laters = Mutex::new(laters);
    router
        .route(
            "GET",
            "/later",
            Arc::new(move |_: &Request, _: &Matched<'_>, res: &mut Response| {
                let laters = laters.lock().unwrap().clone();
                res.defer(Box::new(move |later: Later| {
                    let _ = laters.send(later);
                }));
            }),
        )
        .unwrap();
    router.mount("/", StaticFiles::new(root).unwrap()).unwrap();
    router
}

struct Harness {
    server: Server,
    pki: Pki,
    _root: TempDir,
    laters: mpsc::Receiver<Later>,
    _sharing: Option<RwLockReadGuard<'static, ()>>,
}

/// One test counts the process's descriptors: while it runs, no other test opens or
/// closes any. The others hold this shared; that one holds it alone.
static DESCRIPTORS: RwLock<()> = RwLock::new(());

fn sharing_descriptors() -> RwLockReadGuard<'static, ()> {
    DESCRIPTORS.read().unwrap_or_else(|e| e.into_inner())
}

impl Harness {
    fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }
}

fn tls_config(settings: TlsSettings) -> Config {
    let mut config = test_config();
    config.listen = vec![Listen::tls("127.0.0.1:0".parse().unwrap())];
    config.tls = Some(Arc::new(
        Tls::new(settings).expect("the test certificates load"),
    ));
    config
}

fn harness_with(adjust: impl FnOnce(&Pki, &mut Config)) -> Harness {
    let sharing = sharing_descriptors();
    Harness {
        _sharing: Some(sharing),
        ..unguarded_harness(adjust)
    }
}

/// A harness for a test that holds `DESCRIPTORS` itself.
fn unguarded_harness(adjust: impl FnOnce(&Pki, &mut Config)) -> Harness {
    let pki = Pki::new();
    let root = docroot();
    let mut config = tls_config(pki.settings());
    adjust(&pki, &mut config);
    let (sent, laters) = mpsc::channel();
    let server = start(config, site(root.path(), sent));
    Harness {
        server,
        pki,
        _root: root,
        laters,
        _sharing: None,
    }
}

fn harness() -> Harness {
    harness_with(|_, _| {})
}

fn have(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg(if tool == "openssl" {
            "version"
        } else {
            "--version"
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("skipped: {tool} is not installed");
    }
    found
}

/// The lines of `/tls`'s answer as (key, value) pairs.
fn tls_fields(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {fields:?}"))
}

#[test]
fn static_files_and_routes_are_served_over_tls_and_see_the_handshake() {
    let h = harness();
    let mut client = connect(&h.pki, h.addr());
    client.send(b"GET /hello.txt HTTP/1.1\r\nHost: a.test\r\n\r\n");
    let reply = client.response();
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (200, "Hello world!\n")
    );
    // The same connection goes on (keep-alive over TLS).
    client.send(b"GET /tls HTTP/1.1\r\nHost: a.test\r\n\r\n");
    let fields = tls_fields(&client.response().body);
    assert_eq!(field(&fields, "version"), "TLSv1.3");
    assert!(field(&fields, "cipher").starts_with("TLS_"), "{fields:?}");
    assert_eq!(field(&fields, "sni"), "a.test");
    assert_eq!(field(&fields, "alpn"), "http/1.1");
    assert_eq!(field(&fields, "client"), "-");
}

#[test]
fn a_mebibyte_file_comes_byte_exact_over_tls() {
    let h = harness();
    let mut client = connect(&h.pki, h.addr());
    for _ in 0..2 {
        client.send(b"GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n");
        let reply = client.response();
        assert_eq!(reply.status, 200);
        assert!(reply.body == mebibyte(), "the body differs");
    }
    // A range of it, from the middle.
    client.send(b"GET /big.bin HTTP/1.1\r\nHost: a.test\r\nRange: bytes=500000-500099\r\n\r\n");
    let reply = client.response();
    assert_eq!(reply.status, 206);
    assert_eq!(reply.body, mebibyte()[500000..500100]);
}

#[test]
fn streamed_and_deferred_responses_go_out_over_tls() {
    let h = harness();
    let mut client = connect(&h.pki, h.addr());
    client.send(b"GET /stream HTTP/1.1\r\nHost: a.test\r\n\r\n");
    assert_eq!(client.read_head().unwrap().status, 200);
    assert_eq!(client.read_chunked_body(), b"one two three");
    client.send(b"GET /later HTTP/1.1\r\nHost: a.test\r\n\r\n");
    let later = h.laters.recv().unwrap();
    std::thread::spawn(move || {
        let mut res = Response::new();
        res.set_body(b"answered from another thread");
        later.finish(res);
    });
    assert_eq!(client.response().text(), "answered from another thread");
}

#[test]
fn sni_chooses_the_certificate_and_no_sni_gets_the_first() {
    let h = harness();
    let leaf = |name: Option<&str>| {
        let stream = connect_with(h.addr(), h.pki.client(None), name).unwrap();
        stream.conn.peer_certificates().unwrap()[0].clone()
    };
    assert_eq!(leaf(Some("b.test")), h.pki.b.der);
    assert_eq!(leaf(Some("x.wild.test")), h.pki.b.der, "a wildcard name");
    assert_eq!(leaf(Some("a.test")), h.pki.a.der);
    assert_eq!(leaf(Some("localhost")), h.pki.a.der);
    // A client that sends no name (checked here against a.test) gets the default.
    assert_eq!(leaf(None), h.pki.a.der);
}

#[test]
fn tls_1_2_works_and_a_1_3_minimum_refuses_it() {
    let h = harness();
    let tls12 = |addr| {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(h.pki.ca_der.clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(roost::tls::provider())
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        connect_with(addr, config, Some("a.test"))
    };
    let stream = tls12(h.addr()).expect("a TLS 1.2 handshake");
    let mut client = Client::over(stream);
    client.send(b"GET /tls HTTP/1.1\r\nHost: a.test\r\n\r\n");
    let fields = tls_fields(&client.response().body);
    assert_eq!(field(&fields, "version"), "TLSv1.2");
    assert!(
        field(&fields, "cipher").starts_with("TLS_ECDHE_"),
        "{fields:?}"
    );

    // Covered by `h`'s share of DESCRIPTORS (a second share taken by this thread could wait
    // behind the counting test's turn, which waits for the first).
    let strict = unguarded_harness(|pki, config| {
        let settings = TlsSettings {
            min_version: MinVersion::Tls13,
            ..pki.settings()
        };
        *config = tls_config(settings);
    });
    // Its own certificates: trust them for the attempt.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(strict.pki.ca_der.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(roost::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    assert!(connect_with(strict.addr(), config, Some("a.test")).is_err());
}

fn client_auth_harness(auth: ClientAuth) -> Harness {
    harness_with(|pki, config| {
        let settings = TlsSettings {
            client_ca: Some(Pem::File(pki.ca.clone())),
            client_auth: auth,
            ..pki.settings()
        };
        *config = tls_config(settings);
    })
}

/// The client subject `/tls` reports, or the handshake's error.
fn client_subject(h: &Harness, cert: Option<&common::tls::Issued>) -> Result<String, String> {
    let stream =
        connect_with(h.addr(), h.pki.client(cert), Some("a.test")).map_err(|e| e.to_string())?;
    let mut client = Client::over(stream);
    client.send(b"GET /tls HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
    // With TLS 1.3 the server's verdict on the certificate comes after the client's
    // handshake is done: a refusal shows at the first read.
    match client.try_read(false) {
        Some(reply) => Ok(field(&tls_fields(&reply.body), "client").to_string()),
        None => Err("no answer".into()),
    }
}

/// Alice's subject as RFC 4514 text: rcgen writes her CN before her O, and RFC 4514 lists
/// the last first. `openssl x509 -nameopt RFC2253` agrees, where it is installed.
fn alice(pki: &Pki) -> &'static str {
    let expected = "O=Example,CN=alice";
    if let Ok(out) = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in"])
        .arg(&pki.alice.cert)
        .output()
    {
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("subject={expected}")
        );
    }
    expected
}

#[test]
fn required_client_certificates_are_checked_and_shown_to_handlers() {
    let h = client_auth_harness(ClientAuth::Required);
    assert_eq!(
        client_subject(&h, Some(&h.pki.alice)).unwrap(),
        alice(&h.pki)
    );
    assert!(
        client_subject(&h, None).is_err(),
        "no certificate was let in"
    );
    assert!(
        client_subject(&h, Some(&h.pki.mallory)).is_err(),
        "a certificate from another CA was let in"
    );
}

#[test]
fn optional_client_certificates_may_be_left_out_but_not_wrong() {
    let h = client_auth_harness(ClientAuth::Optional);
    assert_eq!(
        client_subject(&h, Some(&h.pki.alice)).unwrap(),
        alice(&h.pki)
    );
    assert_eq!(client_subject(&h, None).unwrap(), "-");
    assert!(client_subject(&h, Some(&h.pki.mallory)).is_err());
}

#[test]
fn a_reload_changes_new_handshakes_and_keeps_connections_open() {
    let _sharing = sharing_descriptors();
    let pki = Pki::new();
    let root = docroot();
    // The served files are copies, to overwrite.
    let cert = pki.dir.0.join("served.pem");
    let key = pki.dir.0.join("served.key");
    std::fs::copy(&pki.a.cert, &cert).unwrap();
    std::fs::copy(&pki.a.key, &key).unwrap();
    let settings = TlsSettings {
        identities: vec![roost::tls::Identity {
            chain: Pem::File(cert.clone()),
            key: Pem::File(key.clone()),
        }],
        ..TlsSettings::default()
    };
    let (sent, _laters) = mpsc::channel();
    let server = start(tls_config(settings), site(root.path(), sent));
    let addr = server.local_addr();
    let mut open = connect(&pki, addr);
    open.send(b"GET /hello.txt HTTP/1.1\r\nHost: a.test\r\n\r\n");
    assert_eq!(open.response().status, 200);

    // Requests keep coming on other connections while the reload happens.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (stop, config) = (stop.clone(), pki.client(None));
        std::thread::spawn(move || {
            let mut answered = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Both certificates are from the CA and name a.test.
                let stream = connect_with(addr, config.clone(), Some("a.test")).unwrap();
                let mut client = Client::over(stream);
                client.send(b"GET /hello.txt HTTP/1.1\r\nHost: a.test\r\n\r\n");
                assert_eq!(client.response().status, 200);
                answered += 1;
            }
            answered
        })
    };
    // A bad file: the reload fails, naming it, and the old certificate stays.
    std::fs::write(&cert, "not a certificate").unwrap();
    let tls = server.tls().unwrap();
    let err = tls.reload().unwrap_err().to_string();
    assert!(
        err.contains("served.pem") && err.contains("no certificate"),
        "{err}"
    );
    let leaf = |name| {
        let stream = connect_with(addr, pki.client(None), Some(name)).unwrap();
        stream.conn.peer_certificates().unwrap()[0].clone()
    };
    assert_eq!(leaf("a.test"), pki.a.der);
    // The renewed certificate replaces the first.
    std::fs::copy(&pki.a2.cert, &cert).unwrap();
    std::fs::copy(&pki.a2.key, &key).unwrap();
    tls.reload().unwrap();
    assert_eq!(leaf("a.test"), pki.a2.der);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(load.join().unwrap() > 0);
    // The connection from before the reloads goes on with its own keys.
    open.send(b"GET /hello.txt HTTP/1.1\r\nHost: a.test\r\n\r\n");
    assert_eq!(open.response().text(), "Hello world!\n");
}

#[test]
fn bad_certificates_and_keys_are_errors_that_name_the_file() {
    let pki = Pki::new();
    let garbage = pki.dir.0.join("garbage.pem");
    std::fs::write(&garbage, "hello").unwrap();
    let missing = pki.dir.0.join("missing.pem");
    let load = |chain: &std::path::Path, key: &std::path::Path| {
        Tls::new(TlsSettings {
            identities: vec![roost::tls::Identity {
                chain: Pem::File(chain.to_path_buf()),
                key: Pem::File(key.to_path_buf()),
            }],
            ..TlsSettings::default()
        })
        .map(|_| ())
        .unwrap_err()
        .to_string()
    };
    let err = load(&missing, &pki.a.key);
    assert!(
        err.contains("missing.pem: cannot read it: no such file"),
        "{err}"
    );
    let err = load(&garbage, &pki.a.key);
    assert!(err.contains("garbage.pem: no certificate"), "{err}");
    let err = load(&pki.a.cert, &garbage);
    assert!(err.contains("garbage.pem: no private key"), "{err}");
    let err = load(&pki.a.cert, &pki.b.key);
    assert!(
        err.contains("b.key: the key does not belong to the certificate in")
            && err.contains("a.pem"),
        "{err}"
    );
    // Client certificates without a CA bundle.
    let err = Tls::new(TlsSettings {
        client_auth: ClientAuth::Required,
        ..pki.settings()
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("CA bundle"), "{err}");
}

#[test]
fn plain_http_at_a_tls_port_gets_a_readable_400_and_garbage_is_closed() {
    let h = harness();
    let reply = exchange(h.addr(), b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
    assert_eq!(reply.status, 400);
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(
        reply.text().contains("this port speaks HTTPS"),
        "{}",
        reply.text()
    );
    let mut garbage = Client::connect(h.addr());
    garbage.send(b"\x00\x01\x02\x03 not TLS at all\r\n\r\n");
    assert!(garbage.closed());
    // The server goes on.
    let mut client = connect(&h.pki, h.addr());
    client.send(b"GET /hello.txt HTTP/1.1\r\nHost: a.test\r\n\r\n");
    assert_eq!(client.response().status, 200);
}

/// The bytes a rustls client sends first: its ClientHello.
fn client_hello(pki: &Pki) -> Vec<u8> {
    let mut conn =
        rustls::ClientConnection::new(Arc::new(pki.client(None)), "a.test".try_into().unwrap())
            .unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    hello
}

#[test]
fn a_handshake_trickled_byte_by_byte_completes() {
    let h = harness();
    // A real client over a socket that passes on one byte per write.
    struct Trickle(TcpStream);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0.read(buf)
        }
    }
    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if buf.is_empty() {
                return Ok(0);
            }
            self.0.write_all(&buf[..1])?;
            self.0.flush()?;
            Ok(1)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let tcp = TcpStream::connect(h.addr()).unwrap();
    tcp.set_nodelay(true).unwrap();
    tcp.set_read_timeout(Some(PATIENCE)).unwrap();
    let conn =
        rustls::ClientConnection::new(Arc::new(h.pki.client(None)), "a.test".try_into().unwrap())
            .unwrap();
    let mut stream = rustls::StreamOwned::new(conn, Trickle(tcp));
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock).unwrap();
    }
    let mut client = Client::over(stream);
    client.send(b"GET /hello.txt HTTP/1.1\r\nHost: a.test\r\n\r\n");
    assert_eq!(client.response().text(), "Hello world!\n");
}

#[test]
fn a_stalled_handshake_is_cut_off_at_the_header_timeout() {
    let h = harness_with(|_, config| config.timeouts.header = Duration::from_millis(500));
    let hello = client_hello(&h.pki);
    let mut client = Client::connect(h.addr());
    client.send(&hello[..hello.len() / 2]);
    let started = Instant::now();
    assert!(client.closed(), "the half handshake was kept open");
    assert!(started.elapsed() < PATIENCE / 2);
}

#[test]
fn broken_handshakes_leave_no_descriptor_behind() {
    let _alone = DESCRIPTORS.write().unwrap_or_else(|e| e.into_inner());
    // A connection that is not closed when its client goes would be kept until this
    // timeout, long past the test's patience.
    let h = unguarded_harness(|_, config| config.timeouts.header = Duration::from_secs(60));
    let hello = client_hello(&h.pki);
    let fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    // Warm up: the first connections make per-thread buffers.
    for _ in 0..4 {
        let mut client = connect(&h.pki, h.addr());
        client.send(b"GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n");
        client.response();
    }
    wait_until("the warm-up connections close", || {
        h.server.connections() == 0
    });
    let before = fds();
    for i in 0..50 {
        let mut tcp = TcpStream::connect(h.addr()).unwrap();
        // Closed mid-handshake, after part or all of the hello; or reset mid-response.
        match i % 3 {
            0 => tcp.write_all(&hello[..hello.len() / 3]).unwrap(),
            1 => tcp.write_all(&hello).unwrap(),
            _ => {
                let mut client = connect(&h.pki, h.addr());
                client.send(b"GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n");
                client.read_head();
            }
        }
        drop(tcp);
    }
    wait_until("the broken connections close", || {
        h.server.connections() == 0
    });
    assert_eq!(fds(), before);
}

#[test]
fn a_graceful_close_sends_close_notify() {
    let h = harness();
    let mut stream = connect_with(h.addr(), h.pki.client(None), Some("a.test")).unwrap();
    stream
        .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut all = Vec::new();
    // rustls reports a TCP end without close_notify as an error (UnexpectedEof).
    stream.read_to_end(&mut all).expect("a clean TLS end");
    assert!(all.ends_with(b"Hello world!\n"));
}

#[test]
fn a_plain_listener_beside_a_tls_one_can_redirect_to_it() {
    let h = harness_with(|_, config| {
        config
            .listen
            .push(Listen::plain("127.0.0.1:0".parse().unwrap()));
        config.listen.push(Listen {
            redirect_https: true,
            ..Listen::plain("127.0.0.1:0".parse().unwrap())
        });
    });
    let addrs = h.server.local_addrs().to_vec();
    let https = addrs[0].port();
    assert_eq!(get(addrs[1], "/tls").text(), "plain\n");
    let reply = exchange(
        addrs[2],
        b"POST /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.test:8080\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(reply.status, 308);
    assert_eq!(
        reply.header("location"),
        Some(format!("https://example.test:{https}/a/b?x=1&y=2").as_str())
    );
    let reply = exchange(addrs[2], b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
    assert_eq!(
        reply.header("location"),
        Some(format!("https://[::1]:{https}/").as_str())
    );
}

#[test]
fn curl_fetches_over_https_with_the_ca() {
    if !have("curl") {
        return;
    }
    let h = harness();
    let port = h.addr().port();
    let out = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(&h.pki.ca)
        .args(["--resolve", &format!("a.test:{port}:127.0.0.1")])
        .arg(format!("https://a.test:{port}/big.bin"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == mebibyte(), "the body differs");
    let out = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(&h.pki.ca)
        .arg(format!("https://localhost:{port}/tls"))
        .output()
        .unwrap();
    let fields = tls_fields(&out.stdout);
    assert_eq!(field(&fields, "sni"), "localhost");
    assert_eq!(field(&fields, "alpn"), "http/1.1");
}

/// `openssl s_client` with `args`, sending `request`; its whole output.
fn s_client(addr: SocketAddr, args: &[&str], request: &str) -> String {
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string(), "-ign_eof"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn openssl_s_client_sees_versions_alpn_sni_and_resumption() {
    if !have("openssl") {
        return;
    }
    let h = harness();
    let ca = h.pki.ca.to_str().unwrap().to_string();
    let request = "GET /tls HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n";
    for (flag, version) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
        let out = s_client(
            h.addr(),
            &[
                flag,
                "-alpn",
                "http/1.1",
                "-servername",
                "b.test",
                "-CAfile",
                &ca,
            ],
            request,
        );
        assert!(
            out.contains(&format!("Protocol  : {version}"))
                || out.contains(&format!("New, {version}")),
            "{out}"
        );
        assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
        assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
        assert!(out.contains("subject=CN = b.test"), "{out}");
        assert!(out.contains(&format!("version={version}")), "{out}");
    }
    // No SNI: the default certificate.
    let out = s_client(h.addr(), &["-noservername", "-CAfile", &ca], request);
    assert!(out.contains("subject=CN = a.test"), "{out}");
    assert!(out.contains("sni=-"), "{out}");
    // Resumption, with TLS 1.2 tickets and TLS 1.3 tickets (one per handshake), also
    // across a reload of the certificates.
    let session = h.pki.dir.0.join("session");
    let session = session.to_str().unwrap();
    for flag in ["-tls1_2", "-tls1_3"] {
        let out = s_client(
            h.addr(),
            &[flag, "-CAfile", &ca, "-sess_out", session],
            request,
        );
        assert!(out.contains("HTTP/1.1 200 OK"), "{out}");
        if flag == "-tls1_3" {
            let tickets = out
                .matches("Post-Handshake New Session Ticket arrived")
                .count();
            assert_eq!(tickets, 1, "{out}");
        }
        h.server.tls().unwrap().reload().unwrap();
        let out = s_client(
            h.addr(),
            &[flag, "-CAfile", &ca, "-sess_in", session],
            request,
        );
        assert!(
            out.contains("Reused, TLSv1."),
            "not resumed with {flag}: {out}"
        );
    }
    // A client that does not take tickets resumes TLS 1.2 by session ID (the cache).
    let no_ticket = ["-tls1_2", "-no_ticket", "-CAfile", &ca];
    let out = s_client(
        h.addr(),
        &[&no_ticket[..], &["-sess_out", session]].concat(),
        request,
    );
    assert!(out.contains("HTTP/1.1 200 OK"), "{out}");
    let out = s_client(
        h.addr(),
        &[&no_ticket[..], &["-sess_in", session]].concat(),
        request,
    );
    assert!(
        out.contains("Reused, TLSv1.2"),
        "not resumed by session ID: {out}"
    );
}

#[test]
fn a_client_offering_the_post_quantum_hybrid_gets_it() {
    let h = harness();
    let stream = connect_with(h.addr(), h.pki.client(None), Some("a.test")).unwrap();
    let group = stream.conn.negotiated_key_exchange_group().unwrap().name();
    assert_eq!(group, rustls::NamedGroup::X25519MLKEM768);
}

#[test]
fn small_files_kept_in_memory_are_served_over_tls() {
    let _sharing = sharing_descriptors();
    let pki = Pki::new();
    let root = docroot();
    root.write_settled("cached.txt", b"from memory\n");
    // Trusted for an hour: what the file server holds is what is sent.
    let files = StaticFiles::new(root.path())
        .unwrap()
        .with_revalidation(Duration::from_secs(3600));
    let server = start(tls_config(pki.settings()), files);
    // One connection, so one worker and its cache.
    let mut client = connect(&pki, server.local_addr());
    client.send(b"GET /cached.txt HTTP/1.1\r\nHost: a.test\r\n\r\n");
    assert_eq!(client.response().text(), "from memory\n");
    root.write("cached.txt", b"from disk!!\n");
    client.send(b"GET /cached.txt HTTP/1.1\r\nHost: a.test\r\n\r\n");
    assert_eq!(client.response().text(), "from memory\n");
}

#[test]
fn a_server_takes_at_most_64_listeners() {
    let _sharing = sharing_descriptors();
    let pki = Pki::new();
    let mut config = tls_config(pki.settings());
    config.listen = vec![Listen::plain("127.0.0.1:0".parse().unwrap()); 65];
    let err = Server::start(config, Arc::new(Router::new()))
        .map(|_| ())
        .unwrap_err();
    assert!(err.to_string().contains("at most 64 listeners"), "{err}");
}
