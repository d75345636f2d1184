//! The static file server over real sockets: what curl or a browser sees for each case.

mod common;

use common::*;

#[test]
fn serves_files_with_type_and_length() {
    let dir = docroot();
    let server = start_static(dir.path());
    let addr = server.local_addr();
    let cases: &[(&str, &str, &[u8])] = &[
        ("/hello.txt", "text/plain; charset=utf-8", b"Hello world!\n"),
        ("/style.css", "text/css; charset=utf-8", b"p{}\n"),
        ("/image.png", "image/png", b"\x89PNG\r\n\x1a\n"),
        (
            "/data.bin.unknownext",
            "application/octet-stream",
            b"\x00\x01",
        ),
        ("/with%20space.txt", "text/plain; charset=utf-8", b"space\n"),
        ("/empty.txt", "text/plain; charset=utf-8", b""),
        (
            "/hello.txt?query=ignored",
            "text/plain; charset=utf-8",
            b"Hello world!\n",
        ),
        (
            "/sub//page.html",
            "text/html; charset=utf-8",
            b"<p>page</p>\n",
        ),
        (
            "/sub/./page.html",
            "text/html; charset=utf-8",
            b"<p>page</p>\n",
        ),
        (
            "/noindex/../hello.txt",
            "text/plain; charset=utf-8",
            b"Hello world!\n",
        ),
        (
            "/hello%2etxt",
            "text/plain; charset=utf-8",
            b"Hello world!\n",
        ),
    ];
    for &(path, content_type, body) in cases {
        let reply = get(addr, path);
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("content-type"), Some(content_type), "{path}");
        assert_eq!(
            reply.header("content-length"),
            Some(body.len().to_string().as_str())
        );
        assert_eq!(reply.body, body, "{path}");
    }
}

#[test]
fn directories_serve_index_or_redirect() {
    let dir = docroot();
    let server = start_static(dir.path());
    let addr = server.local_addr();

    let root = get(addr, "/");
    assert_eq!(root.status, 200);
    assert_eq!(
        root.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(root.body, b"<h1>root</h1>\n");
    assert_eq!(get(addr, "/sub/").body, b"<h1>sub</h1>\n");

    let redirect = get(addr, "/sub");
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some("/sub/"));
    let redirect = get(addr, "/sub?a=1&b=2");
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some("/sub/?a=1&b=2"));

    // The location is rebuilt from the resolved path: a raw `//host` or `/\\host` prefix
    // would send a browser to another site.
    for sneaky in ["//evil.example/../sub", "/\\evil.example/../sub", "/./sub"] {
        let redirect = get(addr, sneaky);
        assert_eq!(redirect.status, 301, "{sneaky}");
        assert_eq!(redirect.header("location"), Some("/sub/"), "{sneaky}");
    }
    dir.write("odd dir;x/index.html", b"odd\n");
    let redirect = get(addr, "/odd%20dir%3bx");
    assert_eq!(redirect.header("location"), Some("/odd%20dir;x/"));
    assert_eq!(get(addr, "/odd%20dir;x/").body, b"odd\n");

    assert_eq!(get(addr, "/noindex/").status, 404, "no listing");
    assert_eq!(get(addr, "/noindex").status, 301);
    assert_eq!(
        get(addr, "/hello.txt/").status,
        404,
        "a file is not a directory"
    );
}

#[test]
fn missing_and_hidden_files_are_404() {
    let dir = docroot();
    let server = start_static(dir.path());
    let addr = server.local_addr();
    for path in [
        "/missing.txt",
        "/sub/missing/",
        "/.secret",
        "/.git/config",
        "/%2esecret",
        "/sub/../.secret",
        "/hello.txt/x",
    ] {
        let reply = get(addr, path);
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.text(), "404 Not Found\n");
    }
}

#[test]
fn nothing_outside_the_root_is_served() {
    let outside = TempDir::new("outside");
    outside.write("secret.txt", b"TOP SECRET\n");
    let dir = docroot();
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        dir.path().join("link-out.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("dir-out")).unwrap();
    std::os::unix::fs::symlink("../../", dir.path().join("sub/up")).unwrap();
    std::os::unix::fs::symlink("hello.txt", dir.path().join("link-in.txt")).unwrap();
    let server = start_static(dir.path());
    let addr = server.local_addr();
    // The root's parent holds `outside` next to the docroot, so every climb would reach it.
    let name = outside
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let attempts = [
        format!("/../{name}/secret.txt"),
        format!("/%2e%2e/{name}/secret.txt"),
        format!("/%2E%2E/{name}/secret.txt"),
        format!("/.%2e/{name}/secret.txt"),
        format!("/sub/../../{name}/secret.txt"),
        format!("/..%2f{name}%2fsecret.txt"),
        format!("/%2e%2e%2f{name}%2fsecret.txt"),
        format!("/..%5c{name}%5csecret.txt"),
        format!("/sub%5c..%5c..%5c{name}%5csecret.txt"),
        format!("/%252e%252e/{name}/secret.txt"),
        "/hello.txt%00.html".to_string(),
        "/%00".to_string(),
        "/link-out.txt".to_string(),
        "/dir-out/secret.txt".to_string(),
        format!("/sub/up/{name}/secret.txt"),
        "/sub/up/".to_string(),
    ];
    for path in &attempts {
        let mut client = Client::connect(addr);
        client.send(format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
        let reply = client.response();
        assert!(
            reply.status == 400 || reply.status == 404,
            "{path} gave {}",
            reply.status
        );
        assert!(!reply.text().contains("SECRET"), "{path} leaked");
    }
    // A symlink that stays inside the root is fine.
    assert_eq!(get(addr, "/link-in.txt").body, b"Hello world!\n");
}

#[test]
fn special_files_are_not_served() {
    let dir = docroot();
    let fifo = dir.path().join("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("socket")).unwrap();
    let server = start_static(dir.path());
    assert_eq!(get(server.local_addr(), "/fifo").status, 404);
    assert_eq!(get(server.local_addr(), "/socket").status, 404);
}

#[test]
fn a_file_without_permission_is_403() {
    let dir = docroot();
    let path = dir.path().join("locked.txt");
    std::fs::write(&path, b"x").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    // root reads anything: the check only means something for other users.
    if std::fs::read(&path).is_ok() {
        return;
    }
    let server = start_static(dir.path());
    assert_eq!(get(server.local_addr(), "/locked.txt").status, 403);
}

#[test]
fn a_mebibyte_arrives_byte_exact() {
    let dir = docroot();
    let server = start_static(dir.path());
    let mut client = Client::connect(server.local_addr());
    for _ in 0..3 {
        client.send(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
        let reply = client.response();
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.header("content-type"),
            Some("application/octet-stream")
        );
        assert_eq!(reply.header("content-length"), Some("1048576"));
        assert!(reply.body == mebibyte(), "body differs");
    }
}

#[test]
fn pipelined_file_requests_interleave_heads_and_bodies() {
    let dir = docroot();
    let server = start_static(dir.path());
    let mut client = Client::connect(server.local_addr());
    let mut batch = Vec::new();
    for path in [
        "/hello.txt",
        "/big.bin",
        "/style.css",
        "/big.bin",
        "/missing",
    ] {
        batch.extend_from_slice(format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
    }
    client.send(&batch);
    assert_eq!(client.response().body, b"Hello world!\n");
    assert!(client.response().body == mebibyte());
    assert_eq!(client.response().body, b"p{}\n");
    assert!(client.response().body == mebibyte());
    assert_eq!(client.response().status, 404);
}

#[test]
fn head_is_get_without_the_body() {
    let dir = docroot();
    let server = start_static(dir.path());
    let addr = server.local_addr();
    for path in ["/hello.txt", "/", "/big.bin", "/sub", "/missing"] {
        let got = get(addr, path);
        let head = exchange(
            addr,
            format!("HEAD {path} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes(),
        );
        assert_eq!(head.status, got.status, "{path}");
        let strip_date = |r: &Reply| {
            r.headers
                .iter()
                .filter(|(n, _)| n != "Date")
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(strip_date(&head), strip_date(&got), "{path}");
        assert!(head.body.is_empty());
    }
    // Nothing follows a HEAD response: the next response on the connection starts clean.
    let mut client = Client::connect(addr);
    client.send(
        b"HEAD /big.bin HTTP/1.1\r\nHost: a\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert_eq!(client.read(true).header("content-length"), Some("1048576"));
    assert_eq!(client.response().body, b"Hello world!\n");
}

#[test]
fn methods_other_than_get_and_head() {
    let dir = docroot();
    let server = start_static(dir.path());
    let addr = server.local_addr();
    let options = exchange(addr, b"OPTIONS /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(options.status, 204);
    assert_eq!(options.header("allow"), Some("GET, HEAD, OPTIONS"));
    for method in ["POST", "PUT", "DELETE", "PATCH", "TRACE"] {
        let reply = exchange(
            addr,
            format!("{method} /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS"));
    }
    assert_eq!(
        exchange(addr, b"BREW /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n").status,
        501
    );
    // A body sent with a refused method is read and skipped: the connection goes on.
    let mut client = Client::connect(addr);
    client.send(b"POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(client.response().status, 405);
    assert_eq!(client.response().body, b"Hello world!\n");
}

#[test]
fn files_changed_on_disk_are_served_fresh_within_the_revalidation_interval() {
    let dir = docroot();
    let server = start_static(dir.path());
    let addr = server.local_addr();
    let first = get(addr, "/hello.txt");
    assert_eq!(first.body, b"Hello world!\n");
    let first_tag = first.header("etag").unwrap().to_string();
    dir.write("hello.txt", b"changed\n");
    // Until a worker looks again (within a second), it may send what it had: but always
    // the content that its validators describe.
    wait_until("the changed file", || {
        let reply = get(addr, "/hello.txt");
        let tag = reply.header("etag").unwrap();
        if reply.body == b"Hello world!\n" {
            assert_eq!(tag, first_tag);
            false
        } else {
            assert_eq!(reply.body, b"changed\n");
            assert_ne!(tag, first_tag);
            true
        }
    });
    // A name that was missing is looked up at once: only what was found is kept.
    dir.write("new.txt", b"new\n");
    assert_eq!(get(addr, "/new.txt").body, b"new\n");
}

#[test]
fn large_files_are_checked_on_every_request() {
    let dir = docroot();
    let server = start_static(dir.path());
    let addr = server.local_addr();
    dir.write("large.bin", &vec![b'a'; 20_000]);
    for _ in 0..4 {
        assert_eq!(get(addr, "/large.bin").body, vec![b'a'; 20_000]);
    }
    dir.write("large.bin", &vec![b'b'; 30_000]);
    for _ in 0..4 {
        assert_eq!(get(addr, "/large.bin").body, vec![b'b'; 30_000]);
    }
}

#[test]
fn without_revalidation_interval_every_request_looks_again() {
    let dir = docroot();
    let files = roost::StaticFiles::new(dir.path())
        .unwrap()
        .with_revalidation(std::time::Duration::ZERO);
    let server = start(test_config(), files);
    let addr = server.local_addr();
    // Settled files of one size: with an interval, the content held in memory would be
    // sent again.
    for round in 0..4 {
        let text = format!("version {round}\n");
        dir.write_settled("hello.txt", text.as_bytes());
        assert_eq!(get(addr, "/hello.txt").body, text.as_bytes());
    }
}

#[test]
fn a_handler_that_sets_content_type_keeps_it_when_serving_a_file() {
    struct Typed(roost::StaticFiles);
    impl roost::Handler for Typed {
        fn handle(&self, req: &roost::Request, res: &mut roost::Response) {
            res.add_header("Content-Type", b"text/x-custom").unwrap();
            self.0.serve(req, res);
        }
    }
    let dir = docroot();
    let server = start(
        test_config(),
        Typed(roost::StaticFiles::new(dir.path()).unwrap()),
    );
    // The first answer finds the file, the second comes from what was found.
    for _ in 0..2 {
        let reply = get(server.local_addr(), "/hello.txt");
        assert_eq!(reply.count("content-type"), 1);
        assert_eq!(reply.header("content-type"), Some("text/x-custom"));
        assert_eq!(reply.body, b"Hello world!\n");
    }
}

#[test]
fn a_missing_root_is_an_error() {
    let err = roost::StaticFiles::new("/definitely/not/here").unwrap_err();
    assert!(err.to_string().contains("/definitely/not/here"), "{err}");
}

#[test]
fn a_refused_request_with_a_body_is_answered_at_once() {
    // A 404 or 405 once waited for the whole declared body (up to the body timeout) before
    // answering. Now it answers at once and closes, as nginx does; a body that has already
    // arrived whole is consumed and the connection kept.
    let dir = docroot();
    let mut config = test_config();
    config.timeouts.body = std::time::Duration::from_secs(60);
    let server = start(config, roost::StaticFiles::new(dir.path()).unwrap());
    let addr = server.local_addr();
    for raw in [
        &b"POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\nabc"[..],
        b"GET /missing HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n",
        b"PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    ] {
        let mut client = Client::connect(addr);
        client.send(raw);
        let reply = client.response();
        assert!(matches!(reply.status, 404 | 405), "{}", reply.head);
        assert_eq!(reply.header("connection"), Some("close"));
        assert!(client.closed());
    }
    let mut client = Client::connect(addr);
    client.send(b"POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(client.response().status, 405);
    client.send(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(client.response().body, b"Hello world!\n");
}
