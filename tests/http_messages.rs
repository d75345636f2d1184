//! RFC 9112 message handling over real sockets: persistence, pipelining, bodies, framing
//! errors and limits, each with the status a client sees.

mod common;

use common::*;
use roost::Limits;

/// One line per rule: the raw request, the status, and whether the server closes after.
#[test]
fn framing_rules_table() {
    let server = start(test_config(), Echo);
    let addr = server.local_addr();
    let cases: &[(&str, &[u8], u16, bool)] = &[
        ("plain GET", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 200, false),
        ("missing Host", b"GET / HTTP/1.1\r\n\r\n", 400, true),
        ("repeated Host", b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, true),
        ("invalid Host", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, true),
        ("HTTP/1.0 without Host", b"GET / HTTP/1.0\r\n\r\n", 200, true),
        (
            "Content-Length with Transfer-Encoding",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            true,
        ),
        (
            "repeated Content-Length",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
            400,
            true,
        ),
        ("signed Content-Length", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400, true),
        ("negative Content-Length", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\n", 400, true),
        ("hex Content-Length", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc", 400, true),
        ("non-numeric Content-Length", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400, true),
        ("list Content-Length", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 400, true),
        ("gzip coding alone", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400, true),
        ("chunked with a parameter", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 400, true),
        ("gzip then chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, true),
        ("chunked not last", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400, true),
        ("chunked twice", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400, true),
        ("chunked in HTTP/1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, true),
        ("space before colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, true),
        ("obs-fold", b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  2\r\n\r\n", 400, true),
        ("bare CR in value", b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r2\r\n\r\n", 400, true),
        ("NUL in value", b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\x002\r\n\r\n", 400, true),
        ("control byte in value", b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\x1b2\r\n\r\n", 400, true),
        ("DEL in value", b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\x7f2\r\n\r\n", 400, true),
        ("NUL in name", b"GET / HTTP/1.1\r\nHost: a\r\nX\x00Y: 1\r\n\r\n", 400, true),
        ("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, true),
        ("HTTP/0.9 style version", b"GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505, true),
        ("not a version", b"GET / HTTX/1.1\r\nHost: a\r\n\r\n", 400, true),
        ("space in target", b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400, true),
        ("fragment in target", b"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400, true),
        ("relative target", b"GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400, true),
        ("asterisk for GET", b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, true),
        ("unknown expectation", b"GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417, true),
        ("empty expectation, ignored", b"GET / HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n", 200, false),
        ("missing Host beats a bad expectation", b"GET / HTTP/1.1\r\nExpect: magic\r\n\r\n", 400, true),
        ("leading empty lines", b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 200, false),
        ("leading empty line, HTTP/2.0", b"\r\nGET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, true),
        ("two spaces in request line", b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400, true),
        ("raw UTF-8 in target", b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400, true),
        ("angle brackets in target", b"GET /<script> HTTP/1.1\r\nHost: a\r\n\r\n", 400, true),
        ("quote in query", b"GET /?q=\"x\" HTTP/1.1\r\nHost: a\r\n\r\n", 400, true),
        ("braces and pipes in query", b"GET /?q={x}|y HTTP/1.1\r\nHost: a\r\n\r\n", 200, false),
        ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, true),
    ];
    for &(name, raw, status, closes) in cases {
        let mut client = Client::connect(addr);
        client.send(raw);
        let reply = client.read(false);
        assert_eq!(reply.status, status, "{name}: {}", reply.head);
        assert_eq!(reply.header("server"), Some("roost"), "{name}");
        assert_eq!(reply.header("date").map(str::len), Some(29), "{name}");
        if status >= 400 {
            let want = format!("{status} ");
            assert!(
                reply.text().starts_with(&want),
                "{name}: error body {:?}",
                reply.text()
            );
            assert_eq!(
                reply.header("content-type"),
                Some("text/plain; charset=utf-8")
            );
        }
        if closes {
            assert_eq!(reply.header("connection"), Some("close"), "{name}");
            assert!(client.closed(), "{name}: closed after the response");
        } else {
            client.send(b"GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
            assert_eq!(client.response().status, 200, "{name}: connection reusable");
        }
    }
}

#[test]
fn higher_minor_version_is_served_as_http_1_1() {
    let server = start(test_config(), Echo);
    let reply = exchange(server.local_addr(), b"GET /v HTTP/1.7\r\nHost: a\r\n\r\n");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-version"), Some("1.1"));
}

#[test]
fn methods_are_case_sensitive() {
    let dir = docroot();
    let server = start_static(dir.path());
    let addr = server.local_addr();
    assert_eq!(
        exchange(addr, b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n").status,
        200
    );
    let lower = exchange(addr, b"get /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(lower.status, 501, "get is not GET");
    let echo = start(test_config(), Echo);
    let reply = exchange(echo.local_addr(), b"Get / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(reply.header("x-method"), Some("Get"));
}

#[test]
fn absolute_form_target_uses_its_authority() {
    let server = start(test_config(), Echo);
    let reply = exchange(
        server.local_addr(),
        b"GET http://example.org:8080/p/q?x=1 HTTP/1.1\r\nHost: ignored\r\n\r\n",
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-path"), Some("/p/q"));
    assert_eq!(reply.header("x-query"), Some("x=1"));
    assert_eq!(reply.header("x-authority"), Some("example.org:8080"));
}

#[test]
fn options_asterisk_is_answered() {
    let dir = docroot();
    let server = start_static(dir.path());
    let reply = exchange(
        server.local_addr(),
        b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(reply.header("content-length"), None);
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let server = start(test_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    for i in 0..50 {
        client.send(format!("GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
        let reply = client.response();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("x-path"), Some(format!("/{i}").as_str()));
        assert_eq!(reply.header("connection"), None);
    }
}

#[test]
fn connection_close_from_client_is_honoured() {
    let server = start(test_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    let reply = client.response();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(client.closed());
}

#[test]
fn http_1_0_closes_unless_keep_alive_was_asked() {
    let server = start(test_config(), Echo);
    let addr = server.local_addr();

    let mut client = Client::connect(addr);
    client.send(b"GET / HTTP/1.0\r\n\r\n");
    let reply = client.response();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(client.closed());

    let mut client = Client::connect(addr);
    for _ in 0..3 {
        client.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let reply = client.response();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("connection"), Some("keep-alive"));
    }
    client.send(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(client.response().header("connection"), Some("close"));
    assert!(client.closed());
}

fn pipelined_requests(n: usize) -> Vec<u8> {
    let mut all = Vec::new();
    for i in 0..n {
        all.extend_from_slice(format!("GET /{i}?q={i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
        all.extend_from_slice(
            format!(
                "POST /p{i} HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nbody{}",
                i % 10
            )
            .as_bytes(),
        );
        all.extend_from_slice(
            format!(
                "PUT /c{i} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\n{:02}\r\n0\r\nT: 1\r\n\r\n",
                i % 100
            )
            .as_bytes(),
        );
    }
    all
}

fn check_pipelined_replies(client: &mut Client, n: usize) {
    for i in 0..n {
        let get = client.response();
        assert_eq!(get.header("x-path"), Some(format!("/{i}").as_str()));
        assert_eq!(get.header("x-query"), Some(format!("q={i}").as_str()));
        let post = client.response();
        assert_eq!(post.header("x-path"), Some(format!("/p{i}").as_str()));
        assert_eq!(post.text(), format!("body{}", i % 10));
        let put = client.response();
        assert_eq!(put.header("x-path"), Some(format!("/c{i}").as_str()));
        assert_eq!(put.text(), format!("abc{:02}", i % 100));
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = start(test_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(&pipelined_requests(100));
    check_pipelined_replies(&mut client, 100);
}

#[test]
fn pipelined_requests_split_into_tiny_writes() {
    let server = start(test_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    let all = pipelined_requests(5);
    for chunk in all.chunks(3) {
        client.send(chunk);
    }
    check_pipelined_replies(&mut client, 5);
    let mut client = Client::connect(server.local_addr());
    for byte in pipelined_requests(2) {
        client.send(&[byte]);
    }
    check_pipelined_replies(&mut client, 2);
}

#[test]
fn content_length_body_is_delivered() {
    let server = start(test_config(), Echo);
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut client = Client::connect(server.local_addr());
    client.send(
        format!(
            "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    client.send(&body);
    let reply = client.response();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, body);
}

#[test]
fn chunked_body_is_decoded_with_extensions_and_trailers() {
    let server = start(test_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(
        b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
          5;name=value\r\nhello\r\n1\r\n \r\n6;a=\"q;x\"\r\nworld!\r\n0\r\nX-Trailer: yes\r\n\r\n",
    );
    let reply = client.response();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "hello world!");
    // The connection is still in step: a second request works.
    client.send(b"GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(client.response().header("x-path"), Some("/after"));
}

#[test]
fn malformed_chunked_body_is_400_and_close() {
    let server = start(test_config(), Echo);
    let long_extension = [&b"5;"[..], &vec![b'a'; 8192], b"\r\nhello\r\n0\r\n\r\n"].concat();
    for bad in [
        &b"zz\r\nhello\r\n0\r\n\r\n"[..],
        b"5\r\nhelloXX0\r\n\r\n",
        b"5\nhello\r\n0\r\n\r\n",
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"5 garbage\r\nhello\r\n0\r\n\r\n",
        b"5;\r\nhello\r\n0\r\n\r\n",
        b"5\r\nhello\r\n0\r\nno-colon\r\n\r\n",
        &long_extension,
    ] {
        let mut client = Client::connect(server.local_addr());
        client.send(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        client.send(bad);
        let reply = client.response();
        assert_eq!(reply.status, 400, "{:?}", String::from_utf8_lossy(bad));
        assert!(client.closed());
    }
}

#[test]
fn many_tiny_chunks_up_to_the_limit_are_accepted() {
    let server = limited_server(Limits {
        max_body: 1000,
        ..Limits::default()
    });
    let mut client = Client::connect(server.local_addr());
    let mut raw = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for i in 0..1000 {
        raw.extend_from_slice(format!("1;n={i}\r\n{}\r\n", i % 10).as_bytes());
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    client.send(&raw);
    let reply = client.response();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.len(), 1000);
    assert!(reply
        .body
        .iter()
        .enumerate()
        .all(|(i, &b)| b == b'0' + (i % 10) as u8));
}

#[test]
fn errors_to_head_requests_have_no_body() {
    let server = start(test_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"\r\nHEAD /x HTTP/1.1\r\nHost: a b\r\n\r\n");
    let reply = client.read(true);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.header("content-length"), Some("16"));
    assert_eq!(client.read_to_end(), b"", "no content after the head");
}

#[test]
fn expect_100_continue_when_the_body_will_be_read() {
    let server = start(test_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client
        .send(b"PUT /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    let interim = client.response();
    assert_eq!(interim.status, 100);
    assert_eq!(interim.head, "HTTP/1.1 100 Continue\r\n\r\n");
    client.send(b"hello");
    let reply = client.response();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "hello");
}

#[test]
fn expect_100_continue_gets_final_status_when_body_is_not_wanted() {
    let server = start(test_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"PUT /reject-body HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    let reply = client.response();
    assert_eq!(reply.status, 200, "a final status, not 100");
    assert_eq!(reply.header("x-body-length"), Some("0"));
    assert_eq!(reply.header("connection"), Some("close"));

    let limits = Limits {
        max_body: 10,
        ..Limits::default()
    };
    let mut config = test_config();
    config.limits = limits;
    let small = start(config, Echo);
    let mut client = Client::connect(small.local_addr());
    client.send(b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(client.response().status, 413);

    // Static files never read a body: the answer comes at once.
    let dir = docroot();
    let files = start_static(dir.path());
    let mut client = Client::connect(files.local_addr());
    client.send(
        b"POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    );
    let reply = client.response();
    assert_eq!(reply.status, 405);
    assert!(client.closed());
}

fn limited_server(limits: Limits) -> roost::Server {
    let mut config = test_config();
    config.limits = limits;
    start(config, Echo)
}

#[test]
fn limits_have_their_statuses() {
    let server = start(test_config(), Echo);
    let addr = server.local_addr();
    // Request head past 16 KiB: 431.
    let mut big_head = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    for i in 0..40 {
        big_head.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "v".repeat(500)).as_bytes());
    }
    big_head.extend_from_slice(b"\r\n");
    assert!(big_head.len() > 16 * 1024);
    assert_eq!(exchange(addr, &big_head).status, 431);
    // URI past 8 KiB: 414, complete or not.
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "u".repeat(8200));
    assert_eq!(exchange(addr, long_uri.as_bytes()).status, 414);
    let mut client = Client::connect(addr);
    client.send(format!("GET /{}", "u".repeat(9000)).as_bytes());
    assert_eq!(client.response().status, 414);
    // More than 100 fields: 431.
    let mut many = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    for i in 0..101 {
        many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    assert_eq!(exchange(addr, &many).status, 431);
    let mut hundred = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..99 {
        hundred.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    hundred.extend_from_slice(b"Host: a\r\n\r\n");
    assert_eq!(
        exchange(addr, &hundred).status,
        200,
        "exactly 100 fields are fine"
    );
    // Body past 16 MiB: 413 before any of it is read.
    let reply = exchange(
        addr,
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 16777217\r\n\r\n",
    );
    assert_eq!(reply.status, 413);
    let reply = exchange(
        addr,
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    );
    assert_eq!(reply.status, 413);
}

#[test]
fn limits_are_configurable() {
    let server = limited_server(Limits {
        max_head: 200,
        max_uri: 20,
        max_headers: 3,
        max_body: 8,
        ..Limits::default()
    });
    let addr = server.local_addr();
    assert_eq!(
        exchange(
            addr,
            b"GET /0123456789012345678901 HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        .status,
        414
    );
    assert_eq!(
        exchange(
            addr,
            b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        )
        .status,
        431
    );
    let long_field = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n",
        "x".repeat(200)
    );
    assert_eq!(exchange(addr, long_field.as_bytes()).status, 431);
    assert_eq!(
        exchange(
            addr,
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n123456789"
        )
        .status,
        413
    );
    assert_eq!(
        exchange(
            addr,
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n12345678"
        )
        .status,
        200
    );
    let chunked = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n";
    assert_eq!(exchange(addr, chunked).status, 413);
}

#[test]
fn oversized_head_is_answered_not_reset() {
    // The client is still sending a 1 MiB head when the server answers 431; the server
    // drains instead of resetting, so the client reads the status.
    let server = start(test_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    let mut head = b"GET / HTTP/1.1\r\nHost: a\r\nX-Huge: ".to_vec();
    head.resize(1024 * 1024, b'a');
    let stream = client.stream().try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut stream = stream;
        let _ = stream.write_all(&head);
        let _ = stream.shutdown(std::net::Shutdown::Write);
    });
    let reply = client.response();
    assert_eq!(reply.status, 431);
    assert!(client.closed());
    writer.join().unwrap();
}

#[test]
fn body_past_the_limit_is_answered_not_reset() {
    let server = limited_server(Limits {
        max_body: 1024,
        ..Limits::default()
    });
    let mut client = Client::connect(server.local_addr());
    let body = vec![b'b'; 4 * 1024 * 1024];
    let mut raw = format!(
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(&body);
    let stream = client.stream().try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut stream = stream;
        let _ = stream.write_all(&raw);
        let _ = stream.shutdown(std::net::Shutdown::Write);
    });
    let reply = client.response();
    assert_eq!(reply.status, 413);
    assert!(client.closed());
    writer.join().unwrap();
}

#[test]
fn half_close_mid_request_closes_at_once() {
    let server = start(test_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"GET / HTTP/1.1\r\nHost: a\r\n");
    client.stream().shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(client.read_to_end(), b"", "no response to half a request");

    let mut client = Client::connect(server.local_addr());
    client.send(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    client.stream().shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(client.read_to_end(), b"");
}

#[test]
fn complete_requests_before_a_half_close_are_answered() {
    let server = start(test_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    client.stream().shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(client.response().header("x-path"), Some("/1"));
    assert_eq!(client.response().header("x-path"), Some("/2"));
    assert!(client.closed());
}

#[test]
fn head_requests_get_no_body() {
    let server = start(test_config(), Echo);
    let mut client = Client::connect(server.local_addr());
    client.send(b"HEAD / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
    let reply = client.read(true);
    assert_eq!(reply.header("content-length"), Some("3"));
    client.send(b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(client.response().header("x-path"), Some("/next"));
}

#[test]
fn a_panicking_handler_gets_500_and_the_server_goes_on() {
    // The same answer on the I/O thread as on handler threads (tests/handler_pool.rs).
    let server = start(test_config(), Echo);
    let mut victim = Client::connect(server.local_addr());
    victim.send(b"GET /panic HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(victim.response().status, 500);
    victim.send(b"GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(victim.response().status, 200, "the connection goes on");
    assert_eq!(get(server.local_addr(), "/fine").status, 200);
}

#[test]
fn a_half_closed_client_gets_every_response_without_a_reset() {
    // A valid request, then a malformed one with plenty of junk, then a half-close. The
    // server answers both and drains before closing, so nothing is lost to a reset.
    let dir = docroot();
    let server = start_static(dir.path());
    let mut client = Client::connect(server.local_addr());
    let mut raw = b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\nBAD REQUEST\r\n".to_vec();
    raw.extend_from_slice(&vec![b'j'; 100 * 1024]);
    client.send(&raw);
    client.stream().shutdown(std::net::Shutdown::Write).unwrap();
    let big = client.response();
    assert_eq!(big.status, 200);
    assert!(big.body == mebibyte());
    assert_eq!(client.response().status, 400);
    assert!(client.closed());
}

#[test]
fn urgent_data_does_not_stall_a_request() {
    // recv(2) stops at TCP's urgent mark; the server must still read the rest of the
    // request. Python sends the urgent byte (std has no MSG_OOB).
    let server = start(test_config(), Echo);
    let script = format!(
        "import socket\n\
         s = socket.create_connection(('127.0.0.1', {}))\n\
         s.settimeout(5)\n\
         s.sendall(b'GET /oob HTTP/1.1\\r\\nHost: a\\r\\n')\n\
         s.send(b'!', socket.MSG_OOB)\n\
         s.sendall(b'\\r\\n')\n\
         print(s.recv(100).split(b'\\r\\n')[0].decode())\n",
        server.local_addr().port()
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "HTTP/1.1 200 OK"
    );
}

#[test]
fn empty_lines_before_a_request_count_against_the_head_limit() {
    // A client sending nothing but CRLF was once buffered without bound (and re-scanned on
    // every read) until the head timeout: 163 MiB in 9 s from one connection.
    let mut config = test_config();
    config.timeouts.header = std::time::Duration::from_secs(60);
    let server = start(config, Echo);
    let mut client = Client::connect(server.local_addr());
    let writer = {
        let mut stream = client.stream().try_clone().unwrap();
        std::thread::spawn(move || {
            use std::io::Write;
            let lines = b"\r\n".repeat(1024);
            for _ in 0..64 {
                if stream.write_all(&lines).is_err() {
                    break;
                }
            }
        })
    };
    let reply = client.response();
    assert_eq!(reply.status, 431);
    assert!(client.closed());
    writer.join().unwrap();
    // A few empty lines are still ignored (RFC 9112 §2.2).
    let reply = exchange(
        server.local_addr(),
        b"\r\n\r\n\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert_eq!(reply.status, 200);
}

#[test]
fn a_second_content_type_replaces_the_first() {
    struct Twice;
    impl roost::Handler for Twice {
        fn handle(&self, _req: &roost::Request, res: &mut roost::Response) {
            res.add_header("Content-Type", b"text/plain").unwrap();
            res.add_header("X-Kept", b"1").unwrap();
            res.add_header("content-type", b"application/json").unwrap();
            res.set_body(b"{}");
        }
    }
    let server = start(test_config(), Twice);
    let reply = get(server.local_addr(), "/");
    assert_eq!(reply.count("content-type"), 1, "{}", reply.head);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("x-kept"), Some("1"));
}
