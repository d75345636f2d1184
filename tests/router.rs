//! Routing over real sockets: patterns, specificity, 405 and OPTIONS with Allow, HEAD on
//! GET routes, and static mounts next to routes.

mod common;

use std::sync::Arc;

use common::*;
use roost::{Matched, Request, Response, Router, StaticFiles};

/// A route handler that answers with its name and its parameters.
fn named(name: &'static str) -> Arc<dyn roost::RouteHandler> {
    Arc::new(
        move |req: &Request, route: &Matched<'_>, res: &mut Response| {
            let mut body = format!("{name} {}", String::from_utf8_lossy(&route.path()));
            for (key, value) in route.params() {
                body.push_str(&format!(" {key}={}", String::from_utf8_lossy(value)));
            }
            res.add_header("X-Method", req.method().as_bytes()).unwrap();
            res.set_body(body.as_bytes());
        },
    )
}

fn router_with_routes() -> Router {
    let mut router = Router::new();
    for (method, pattern, name) in [
        ("GET", "/*", "catch-all"),
        ("GET", "/users/{id}", "user"),
        ("GET", "/users/me", "me"),
        ("GET", "/users/{id}/files/*", "files"),
        ("PUT", "/users/{id}", "put-user"),
        ("DELETE", "/users/{id}", "delete-user"),
        ("GET", "/a/{x}", "a-first"),
        ("GET", "/a/{y}", "a-second"),
        ("POST", "/only-post", "post"),
        ("HEAD", "/head", "explicit-head"),
        ("GET", "/head", "get-head"),
    ] {
        router.route(method, pattern, named(name)).unwrap();
    }
    router
}

#[test]
fn the_most_specific_route_wins_then_registration_order() {
    let server = start(test_config(), router_with_routes());
    let addr = server.local_addr();
    let cases = [
        ("/users/me", "me /users/me"),
        ("/users/42", "user /users/42 id=42"),
        ("/users/4%202", "user /users/4 2 id=4 2"),
        ("/users/a%2Fb", "user /users/a/b id=a/b"),
        (
            "/users/7/files/x/y.txt",
            "files /users/7/files/x/y.txt id=7 *=x/y.txt",
        ),
        ("/users/7/files", "files /users/7/files id=7 *="),
        ("/a/1", "a-first /a/1 x=1"),
        (
            "/elsewhere/deep",
            "catch-all /elsewhere/deep *=elsewhere/deep",
        ),
        ("/users/./me", "me /users/me"),
    ];
    for (path, want) in cases {
        let reply = get(addr, path);
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.text(), want, "{path}");
    }
}

#[test]
fn other_methods_get_405_with_allow_and_options_gets_204() {
    let server = start(test_config(), router_with_routes());
    let addr = server.local_addr();
    let reply = exchange(
        addr,
        b"POST /users/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(reply.status, 405);
    // The catch-all GET also matches, so GET leads; HEAD comes with GET.
    assert_eq!(
        reply.header("allow"),
        Some("GET, PUT, DELETE, HEAD, OPTIONS")
    );
    let reply = exchange(addr, b"OPTIONS /users/1 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(reply.status, 204);
    assert_eq!(
        reply.header("allow"),
        Some("GET, PUT, DELETE, HEAD, OPTIONS")
    );
    let reply = exchange(
        addr,
        b"PUT /users/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(reply.text(), "put-user /users/1 id=1");

    let mut router = Router::new();
    router.route("POST", "/only-post", named("post")).unwrap();
    let server = start(test_config(), router);
    let reply = get(server.local_addr(), "/only-post");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST, OPTIONS"));
    assert_eq!(get(server.local_addr(), "/nothing").status, 404);
    let reply = exchange(
        server.local_addr(),
        b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("allow"), Some("POST, OPTIONS"));
}

#[test]
fn a_get_route_answers_head_unless_a_head_route_exists() {
    let server = start(test_config(), router_with_routes());
    let addr = server.local_addr();
    let head = exchange(addr, b"HEAD /users/5 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("x-method"), Some("HEAD"));
    assert_eq!(
        head.header("content-length"),
        Some("18"),
        "user /users/5 id=5"
    );
    assert!(head.body.is_empty());
    let head = exchange(addr, b"HEAD /head HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(
        head.header("content-length"),
        Some("19"),
        "explicit-head /head"
    );
}

#[test]
fn routes_come_before_mounts_and_the_longest_mount_wins() {
    let site = docroot();
    let assets = TempDir::new("assets");
    assets.write("app.js", b"console.log(1)\n");
    assets.write("sub/index.html", b"assets sub\n");
    let mut router = Router::new();
    router
        .mount("/", StaticFiles::new(site.path()).unwrap())
        .unwrap();
    router
        .mount("/assets/", StaticFiles::new(assets.path()).unwrap())
        .unwrap();
    router.route("GET", "/api/{x}", named("api")).unwrap();
    router
        .route("POST", "/hello.txt", named("post-hello"))
        .unwrap();
    let server = start(test_config(), router);
    let addr = server.local_addr();

    assert_eq!(get(addr, "/api/1").text(), "api /api/1 x=1");
    assert_eq!(get(addr, "/hello.txt").body, b"Hello world!\n");
    assert_eq!(get(addr, "/").body, b"<h1>root</h1>\n");
    assert_eq!(get(addr, "/assets/app.js").body, b"console.log(1)\n");
    let redirect = get(addr, "/assets/sub");
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some("/assets/sub/"));
    let redirect = get(addr, "/assets");
    assert_eq!(redirect.header("location"), Some("/assets/"));
    assert_eq!(get(addr, "/assets/sub/").body, b"assets sub\n");
    assert_eq!(get(addr, "/assets/.hidden").status, 404);
    assert_eq!(get(addr, "/assets/..%2f..%2fetc/passwd").status, 400);
    assert_eq!(get(addr, "/assets/a%2fb").status, 404);
    assert_eq!(get(addr, "/../etc/passwd").status, 400);
    let reply = exchange(
        addr,
        b"POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(reply.text(), "post-hello /hello.txt");
    let reply = exchange(addr, b"DELETE /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST, GET, HEAD, OPTIONS"));
    let reply = exchange(addr, b"DELETE /style.css HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[test]
fn bad_routes_and_mounts_are_refused() {
    let mut router = Router::new();
    for method in ["get", "", "GE T", "G\u{e9}T"] {
        assert!(
            router.route(method, "/x", named("x")).is_err(),
            "{method:?}"
        );
    }
    for pattern in ["x", "/a/*/b", "/{a}/{a}", "/a{b}"] {
        assert!(
            router.route("GET", pattern, named("x")).is_err(),
            "{pattern:?}"
        );
    }
    let dir = docroot();
    assert!(router
        .mount("files", StaticFiles::new(dir.path()).unwrap())
        .is_err());
    assert!(router
        .mount("/a/../..", StaticFiles::new(dir.path()).unwrap())
        .is_err());
}

#[test]
fn expect_continue_is_granted_only_to_routes() {
    let dir = docroot();
    let mut router = Router::new();
    router
        .mount("/", StaticFiles::new(dir.path()).unwrap())
        .unwrap();
    router.route("PUT", "/upload", named("upload")).unwrap();
    let server = start(test_config(), router);
    let mut client = Client::connect(server.local_addr());
    client.send(
        b"PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
    );
    assert_eq!(client.response().status, 100);
    client.send(b"abc");
    assert_eq!(client.response().text(), "upload /upload");
    let mut client = Client::connect(server.local_addr());
    client.send(
        b"PUT /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
    );
    assert_eq!(client.response().status, 405);
}

#[test]
fn an_encoded_slash_never_brings_back_a_dot_segment() {
    // `..%2F..%2Fetc` once reached handlers as `../../etc`: a host joining a parameter to a
    // directory served files outside it. Decoded paths and parameters never hold `.` or
    // `..` segments, nor an empty one (`%2F%2F`, a leading `%2F`).
    let server = start(test_config(), router_with_routes());
    let addr = server.local_addr();
    for path in [
        "/p/..%2F..%2Fetc",
        "/users/..%2F..%2Fetc",
        "/users/7/files/a/..%2F..%2F..%2Fetc%2Fpasswd",
        "/users/.%2Fx",
        "/users/x%2F..",
        "/users/%2Fetc%2Fpasswd",
        "/users/a%2F%2Fb",
        "/users/a%2F",
    ] {
        let reply = get(addr, path);
        assert_eq!(reply.status, 400, "{path}: {}", reply.text());
    }
    // An encoded slash between ordinary names is still part of its parameter.
    assert_eq!(get(addr, "/users/a%2Fb").text(), "user /users/a/b id=a/b");
}

#[test]
fn allow_names_each_method_once() {
    let site = docroot();
    let mut router = Router::new();
    router.route("GET", "/hello", named("hello")).unwrap();
    router.route("GET", "/other", named("other")).unwrap();
    router
        .mount("/", StaticFiles::new(site.path()).unwrap())
        .unwrap();
    let server = start(test_config(), router);
    let addr = server.local_addr();
    let reply = exchange(addr, b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(
        (reply.status, reply.header("allow")),
        (204, Some("GET, HEAD, OPTIONS"))
    );
    let reply = exchange(
        addr,
        b"POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(
        (reply.status, reply.header("allow")),
        (405, Some("GET, HEAD, OPTIONS"))
    );
}

#[test]
fn connect_and_unknown_methods_get_one_answer_everywhere() {
    // With routes, CONNECT once got 400 (its target is not a path) while a static mount
    // answered 405; an unknown method got 405 on a routed path and 501 on a file.
    let site = docroot();
    let mut router = router_with_routes();
    router
        .mount("/static", StaticFiles::new(site.path()).unwrap())
        .unwrap();
    let routed = start(test_config(), router);
    let files = start_static(site.path());
    for server in [&routed, &files] {
        let addr = server.local_addr();
        let reply = exchange(
            addr,
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        );
        assert_eq!(reply.status, 405, "{}", reply.head);
        assert!(reply.header("allow").is_some_and(|a| a.contains("GET")));
        for path in ["/users/1", "/hello.txt", "/static/hello.txt", "/nothing"] {
            let raw = format!("BREW {path} HTTP/1.1\r\nHost: a\r\n\r\n");
            assert_eq!(exchange(addr, raw.as_bytes()).status, 501, "BREW {path}");
        }
    }
}

#[test]
fn a_route_may_have_its_own_content_limit() {
    let mut router = Router::new();
    let length = || -> Arc<dyn roost::RouteHandler> {
        Arc::new(|req: &Request, _: &Matched<'_>, res: &mut Response| {
            res.set_body(req.body().len().to_string().as_bytes());
        })
    };
    let small = roost::RouteOptions {
        max_body: Some(5),
        ..Default::default()
    };
    let big = roost::RouteOptions {
        max_body: Some(20),
        placement: roost::Placement::Here,
        ..Default::default()
    };
    router
        .route_with("POST", "/small", length(), small)
        .unwrap();
    router.route_with("POST", "/big", length(), big).unwrap();
    router.route("POST", "/plain", length()).unwrap();
    let mut config = test_config();
    config.limits.max_body = 10;
    let server = start(config, router);
    let addr = server.local_addr();
    let post = |path: &str, body: &str, expect: &str| {
        let raw = format!(
            "POST {path} HTTP/1.1\r\nHost: a\r\n{expect}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        exchange(addr, raw.as_bytes())
    };
    assert_eq!(post("/small", "12345", "").body, b"5");
    assert_eq!(post("/small", "123456", "").status, 413);
    assert_eq!(post("/big", "123456789012345", "").body, b"15");
    assert_eq!(post("/plain", "123456789012345", "").status, 413);
    // From the head alone: a client waiting on 100-continue is refused, never told to go on.
    let mut client = Client::connect(addr);
    client.send(
        b"POST /small HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n",
    );
    assert_eq!(client.response().status, 413);
}
