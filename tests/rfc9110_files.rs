//! RFC 9110 §8.8, §12.5.3, §13 and §14 for files, over real sockets. Each test names the
//! clause it checks.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use roost::http::date::format_http_date;
use roost::{Matched, Request, Response, Router, StaticFiles};

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
/// 2001-09-09 01:46:40 UTC, the modification time of the test files.
const OLD: u64 = 1_000_000_000;

fn date(secs: u64) -> String {
    String::from_utf8(format_http_date(secs).to_vec()).unwrap()
}

/// A site with alpha.txt (26 bytes, old mtime), app.js with .br and .gz forms, a
/// directory to list, and a server on it: static mount at / with Cache-Control, and a
/// POST route that answers with alpha.txt through `send_file` (a handler file response).
struct Site {
    dir: TempDir,
    server: roost::Server,
}

impl Site {
    fn new() -> Site {
        Site::revalidating(roost::files::DEFAULT_REVALIDATE)
    }

    /// A site whose mount looks files up again after `interval` (zero: every request).
    fn revalidating(interval: Duration) -> Site {
        let dir = TempDir::new("rfc9110");
        dir.write("alpha.txt", ALPHABET);
        dir.write("app.js", b"console.log('identity')\n");
        dir.write("app.js.br", b"BROTLI-BYTES");
        dir.write("app.js.gz", b"GZIP-BYTES");
        dir.write("list/b.txt", b"b");
        dir.write("list/a & <b>.txt", b"a");
        dir.write("list/sub/x", b"x");
        dir.write("list/.hidden", b"h");
        dir.write("list/c:d", b"c");
        dir.set_mtime("alpha.txt", OLD);
        let mut router = Router::new();
        let files = StaticFiles::new(dir.path())
            .unwrap()
            .with_cache_control("max-age=3600")
            .unwrap()
            .with_listing(true)
            .with_revalidation(interval);
        router.mount("/", files).unwrap();
        let path = dir.path().join("alpha.txt");
        router
            .route(
                "POST",
                "/handler-file",
                Arc::new(move |_: &Request, _: &Matched<'_>, res: &mut Response| {
                    let (file, meta) = roost::files::open_regular(&path).unwrap();
                    roost::files::send_file(file, &meta, b"alpha.txt", res);
                }),
            )
            .unwrap();
        let server = start(test_config(), router);
        Site { dir, server }
    }

    fn send(&self, method: &str, path: &str, headers: &[(&str, String)]) -> Reply {
        let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: a\r\n");
        for (name, value) in headers {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
        if method == "POST" {
            raw.push_str("Content-Length: 0\r\n");
        }
        raw.push_str("\r\n");
        exchange(self.server.local_addr(), raw.as_bytes())
    }

    fn get(&self, path: &str, headers: &[(&str, String)]) -> Reply {
        self.send("GET", path, headers)
    }

    /// GETs `path` with each set of fields and checks the status that comes back.
    fn expect_statuses(&self, path: &str, cases: &[(Vec<(&str, String)>, u16)]) {
        for (headers, status) in cases {
            assert_eq!(self.get(path, headers).status, *status, "{headers:?}");
        }
    }

    fn etag(&self, path: &str) -> String {
        self.get(path, &[]).header("etag").unwrap().to_string()
    }
}

fn h(name: &'static str, value: impl Into<String>) -> (&'static str, String) {
    (name, value.into())
}

#[test]
fn rfc9110_8_8_validators_on_200_206_and_304() {
    let site = Site::new();
    let full = site.get("/alpha.txt", &[]);
    let etag = full.header("etag").unwrap().to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"),
        "{etag}"
    );
    assert_eq!(full.header("last-modified"), Some(date(OLD).as_str()));
    assert_eq!(full.header("accept-ranges"), Some("bytes"));
    assert_eq!(site.etag("/alpha.txt"), etag, "same file state, same tag");
    let partial = site.get("/alpha.txt", &[h("Range", "bytes=0-0")]);
    assert_eq!(partial.status, 206);
    assert_eq!(partial.header("etag"), Some(etag.as_str()));
    assert_eq!(partial.header("last-modified"), Some(date(OLD).as_str()));
    let not_modified = site.get("/alpha.txt", &[h("If-None-Match", etag.clone())]);
    assert_eq!(not_modified.status, 304);
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    assert_eq!(
        not_modified.header("last-modified"),
        Some(date(OLD).as_str())
    );
}

#[test]
fn rfc9110_8_8_2_1_a_future_modification_time_is_not_sent() {
    let site = Site::new();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    site.dir.write("future.txt", b"f");
    site.dir.set_mtime("future.txt", now + 86_400);
    let reply = site.get("/future.txt", &[]);
    let sent =
        roost::http::date::parse_http_date(reply.header("last-modified").unwrap().as_bytes());
    let date = roost::http::date::parse_http_date(reply.header("date").unwrap().as_bytes());
    assert!(sent <= date, "Last-Modified {sent:?} after Date {date:?}");
}

#[test]
fn rfc9110_8_8_3_validators_change_when_the_file_changes() {
    let site = Site::revalidating(Duration::ZERO);
    let before = site.etag("/alpha.txt");
    site.dir.write("alpha.txt", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    site.dir.set_mtime("alpha.txt", OLD + 1);
    let after = site.get("/alpha.txt", &[]);
    assert_ne!(after.header("etag"), Some(before.as_str()));
    assert_eq!(after.header("last-modified"), Some(date(OLD + 1).as_str()));
    // Same size, same second: the tag still changes (it has nanoseconds and the inode).
    let again = site.etag("/alpha.txt");
    site.dir.write("alpha.txt", ALPHABET);
    assert_ne!(site.etag("/alpha.txt"), again);
    let old = site.get("/alpha.txt", &[h("If-None-Match", before)]);
    assert_eq!(old.status, 200, "a stale tag does not match");
}

#[test]
fn rfc9110_13_1_1_if_match_uses_strong_comparison() {
    let site = Site::new();
    let etag = site.etag("/alpha.txt");
    let cases = [
        (etag.clone(), 200),
        (format!("\"other\", {etag}"), 200),
        ("*".to_string(), 200),
        ("\"other\"".to_string(), 412),
        (format!("W/{etag}"), 412),
        ("not a tag".to_string(), 412),
    ];
    for (value, status) in cases {
        let reply = site.get("/alpha.txt", &[h("If-Match", value.clone())]);
        assert_eq!(reply.status, status, "If-Match: {value}");
    }
}

#[test]
fn rfc9110_13_1_2_if_none_match_uses_weak_comparison() {
    let site = Site::new();
    let etag = site.etag("/alpha.txt");
    let cases = [
        (etag.clone(), 304),
        (format!("W/{etag}"), 304),
        (format!("\"a\", \"b\", {etag}"), 304),
        ("*".to_string(), 304),
        ("\"other\"".to_string(), 200),
    ];
    for (value, status) in cases {
        assert_eq!(
            site.get("/alpha.txt", &[h("If-None-Match", value.clone())])
                .status,
            status,
            "{value}"
        );
        let head = site.send("HEAD", "/alpha.txt", &[h("If-None-Match", value.clone())]);
        assert_eq!(head.status, status, "HEAD {value}");
    }
    // For other methods the handler has acted before it picks a file, and §13.2.1 wants
    // the check first: roost leaves it to such handlers instead of answering 412 after
    // the fact.
    let post = site.send("POST", "/handler-file", &[h("If-None-Match", etag.clone())]);
    assert_eq!(post.status, 200);
    // Empty list elements are skipped (§5.6.1.2).
    for list in [format!(", {etag}"), format!("\"x\",,{etag},")] {
        assert_eq!(
            site.get("/alpha.txt", &[h("If-None-Match", list.clone())])
                .status,
            304,
            "{list}"
        );
        assert_eq!(
            site.get("/alpha.txt", &[h("If-Match", list.clone())])
                .status,
            200,
            "{list}"
        );
    }
}

#[test]
fn rfc9110_13_1_3_if_modified_since() {
    let site = Site::new();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let cases = [
        (date(OLD), 304),
        (date(OLD + 86_400), 304),
        (date(OLD - 1), 200),
        ("Sunday, 09-Sep-01 01:46:40 GMT".to_string(), 304),
        ("Sun Sep  9 01:46:40 2001".to_string(), 304),
        ("not a date".to_string(), 200),
        (date(now + 86_400), 200),
    ];
    for (value, status) in cases {
        assert_eq!(
            site.get("/alpha.txt", &[h("If-Modified-Since", value.clone())])
                .status,
            status,
            "{value}"
        );
    }
    // Ignored when If-None-Match is present, and for methods other than GET and HEAD.
    let reply = site.get(
        "/alpha.txt",
        &[
            h("If-None-Match", "\"other\""),
            h("If-Modified-Since", date(OLD)),
        ],
    );
    assert_eq!(reply.status, 200);
    let post = site.send(
        "POST",
        "/handler-file",
        &[h("If-Modified-Since", date(OLD))],
    );
    assert_eq!(post.status, 200);
}

#[test]
fn rfc9110_13_1_4_if_unmodified_since() {
    let site = Site::new();
    let etag = site.etag("/alpha.txt");
    let cases = [
        (vec![h("If-Unmodified-Since", date(OLD))], 200),
        (vec![h("If-Unmodified-Since", date(OLD + 60))], 200),
        (vec![h("If-Unmodified-Since", date(OLD - 1))], 412),
        (vec![h("If-Unmodified-Since", "garbage")], 200),
        // Ignored when If-Match is present.
        (
            vec![h("If-Match", etag), h("If-Unmodified-Since", date(OLD - 1))],
            200,
        ),
    ];
    site.expect_statuses("/alpha.txt", &cases);
}

#[test]
fn rfc9110_13_2_2_precedence() {
    let site = Site::new();
    let etag = site.etag("/alpha.txt");
    let cases = [
        (
            vec![h("If-Match", "\"other\""), h("If-None-Match", etag.clone())],
            412,
        ),
        (
            vec![
                h("If-Match", etag.clone()),
                h("If-None-Match", etag.clone()),
            ],
            304,
        ),
        (
            vec![
                h("If-Unmodified-Since", date(OLD - 1)),
                h("If-None-Match", etag.clone()),
            ],
            412,
        ),
        (
            vec![
                h("If-None-Match", "\"x\""),
                h("If-Modified-Since", date(OLD)),
            ],
            200,
        ),
        (
            vec![
                h("If-None-Match", etag.clone()),
                h("If-Modified-Since", date(OLD - 1)),
            ],
            304,
        ),
        (
            vec![h("If-Match", etag.clone()), h("Range", "bytes=0-1")],
            206,
        ),
        (
            vec![h("If-None-Match", etag.clone()), h("Range", "bytes=0-1")],
            304,
        ),
        (
            vec![h("If-Match", "\"other\""), h("Range", "bytes=0-1")],
            412,
        ),
        (
            vec![h("If-Modified-Since", date(OLD)), h("Range", "bytes=0-1")],
            304,
        ),
    ];
    site.expect_statuses("/alpha.txt", &cases);
}

#[test]
fn rfc9110_13_2_1_preconditions_apply_only_where_the_answer_would_be_2xx() {
    let site = Site::new();
    for (name, value) in [
        ("If-Match", "*"),
        ("If-None-Match", "*"),
        ("If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ] {
        assert_eq!(
            site.get("/missing.txt", &[h(name, value)]).status,
            404,
            "{name}"
        );
        let post = site.send("POST", "/alpha.txt", &[h(name, value)]);
        assert_eq!(post.status, 405, "{name} on a method the mount refuses");
    }
}

#[test]
fn rfc9110_13_1_1_and_13_1_2_star_and_lists_without_validators() {
    // A listing has no validators, but it is a current representation.
    let site = Site::new();
    assert_eq!(site.get("/list/", &[h("If-None-Match", "*")]).status, 304);
    assert_eq!(
        site.get("/list/", &[h("If-None-Match", "\"x\"")]).status,
        200
    );
    assert_eq!(site.get("/list/", &[h("If-Match", "\"x\"")]).status, 412);
    assert_eq!(site.get("/list/", &[h("If-Match", "*")]).status, 200);
}

#[test]
fn a_handler_with_its_own_etag_checks_its_own_preconditions() {
    let mut router = Router::new();
    router
        .route(
            "GET",
            "/own",
            Arc::new(|_: &Request, _: &Matched<'_>, res: &mut Response| {
                res.add_header("ETag", b"\"mine\"").unwrap();
                res.set_body(b"generated");
            }),
        )
        .unwrap();
    let server = start(test_config(), router);
    let raw = b"GET /own HTTP/1.1\r\nHost: a\r\nIf-None-Match: *\r\n\r\n";
    assert_eq!(exchange(server.local_addr(), raw).status, 200);
}

#[test]
fn rfc9110_15_4_5_not_modified_carries_only_cache_fields() {
    let site = Site::new();
    let etag = site.etag("/app.js");
    let reply = site.get("/app.js", &[h("If-None-Match", etag.clone())]);
    assert_eq!(reply.status, 304);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("etag"), Some(etag.as_str()));
    assert!(reply.header("last-modified").is_some());
    assert_eq!(reply.header("cache-control"), Some("max-age=3600"));
    assert_eq!(reply.header("vary"), Some("Accept-Encoding"));
    assert_eq!(reply.header("date").map(str::len), Some(29));
    for absent in [
        "content-length",
        "content-type",
        "accept-ranges",
        "content-encoding",
    ] {
        assert_eq!(reply.header(absent), None, "{absent}");
    }
}

#[test]
fn rfc9110_14_1_single_ranges() {
    let site = Site::new();
    let cases: &[(&str, u16, &[u8], Option<&str>)] = &[
        ("bytes=0-4", 206, b"abcde", Some("bytes 0-4/26")),
        ("bytes=20-", 206, b"uvwxyz", Some("bytes 20-25/26")),
        ("bytes=-3", 206, b"xyz", Some("bytes 23-25/26")),
        ("bytes=24-100", 206, b"yz", Some("bytes 24-25/26")),
        ("bytes=-100", 206, ALPHABET, Some("bytes 0-25/26")),
        ("bytes=0-4,3-8", 206, b"abcdefghi", Some("bytes 0-8/26")),
        ("bytes=2-3,0-1", 206, b"abcd", Some("bytes 0-3/26")),
        ("BYTES=1-1", 206, b"b", Some("bytes 1-1/26")),
        (
            "bytes=26-",
            416,
            b"416 Range Not Satisfiable\n",
            Some("bytes */26"),
        ),
        (
            "bytes=-0",
            416,
            b"416 Range Not Satisfiable\n",
            Some("bytes */26"),
        ),
        ("bytes=5-1", 200, ALPHABET, None),
        ("bytes=x-y", 200, ALPHABET, None),
        ("items=0-1", 200, ALPHABET, None),
        ("bytes 0-1", 200, ALPHABET, None),
    ];
    for &(range, status, body, content_range) in cases {
        let reply = site.get("/alpha.txt", &[h("Range", range)]);
        assert_eq!(reply.status, status, "{range}");
        assert_eq!(reply.body, body, "{range}");
        assert_eq!(reply.header("content-range"), content_range, "{range}");
        if status != 416 {
            assert_eq!(reply.header("accept-ranges"), Some("bytes"), "{range}");
        }
    }
}

/// Splits a multipart/byteranges body into (Content-Type, Content-Range, bytes) parts.
fn parse_multipart(reply: &Reply) -> Vec<(String, String, Vec<u8>)> {
    let content_type = reply.header("content-type").unwrap();
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    let delimiter = format!("\r\n--{boundary}");
    let body = &reply.body;
    let mut parts = Vec::new();
    let mut at = 0;
    loop {
        let start =
            find(&body[at..], delimiter.as_bytes()).expect("delimiter") + at + delimiter.len();
        if body[start..].starts_with(b"--\r\n") {
            assert_eq!(start + 4, body.len(), "nothing after the close delimiter");
            break;
        }
        let head_end = find(&body[start..], b"\r\n\r\n").unwrap() + start;
        let head = std::str::from_utf8(&body[start + 2..head_end]).unwrap();
        let field = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .unwrap()
                .to_string()
        };
        let next = find(&body[head_end..], delimiter.as_bytes()).unwrap() + head_end;
        parts.push((
            field("Content-Type"),
            field("Content-Range"),
            body[head_end + 4..next].to_vec(),
        ));
        at = next;
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn rfc9110_14_6_multiple_ranges_are_multipart_byteranges() {
    let site = Site::new();
    let reply = site.get("/alpha.txt", &[h("Range", "bytes=0-1, 20-, 5-6")]);
    assert_eq!(reply.status, 206);
    assert_eq!(reply.header("content-range"), None);
    let parts = parse_multipart(&reply);
    let text = "text/plain; charset=utf-8".to_string();
    assert_eq!(
        parts,
        vec![
            (text.clone(), "bytes 0-1/26".to_string(), b"ab".to_vec()),
            (
                text.clone(),
                "bytes 20-25/26".to_string(),
                b"uvwxyz".to_vec()
            ),
            (text, "bytes 5-6/26".to_string(), b"fg".to_vec()),
        ]
    );
    // Overlapping and adjacent ranges are coalesced; past the cap, the whole file.
    let reply = site.get("/alpha.txt", &[h("Range", "bytes=0-2,2-4,10-11,12-13")]);
    let parts = parse_multipart(&reply);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].2, b"abcde");
    assert_eq!(parts[1].2, b"klmn");
    // Parts keep the order they were asked in (§15.3.7.2).
    let reply = site.get("/alpha.txt", &[h("Range", "bytes=20-21,0-0")]);
    let order: Vec<Vec<u8>> = parse_multipart(&reply).into_iter().map(|p| p.2).collect();
    assert_eq!(order, [b"uv".to_vec(), b"a".to_vec()]);
    let many: Vec<String> = (0..17).map(|i| format!("{i}-{i}")).collect();
    let reply = site.get(
        "/alpha.txt",
        &[h("Range", format!("bytes={}", many.join(",")))],
    );
    assert_eq!((reply.status, reply.body.as_slice()), (200, ALPHABET));
}

#[test]
fn rfc9110_13_1_5_if_range() {
    let site = Site::new();
    let etag = site.etag("/alpha.txt");
    let cases = [
        (etag.clone(), 206),
        ("\"stale\"".to_string(), 200),
        (format!("W/{etag}"), 200),
        (date(OLD), 206),
        (date(OLD - 1), 200),
        ("garbage".to_string(), 200),
    ];
    for (value, status) in cases {
        let reply = site.get(
            "/alpha.txt",
            &[h("Range", "bytes=0-1"), h("If-Range", value.clone())],
        );
        assert_eq!(reply.status, status, "If-Range: {value}");
        let want: &[u8] = if status == 206 { b"ab" } else { ALPHABET };
        assert_eq!(reply.body, want, "If-Range: {value}");
    }
}

#[test]
fn rfc9110_9_3_2_head_equals_get_minus_the_body() {
    let site = Site::new();
    let etag = site.etag("/alpha.txt");
    let requests = [
        vec![],
        vec![h("If-None-Match", etag.clone())],
        vec![h("If-Match", "\"other\"")],
        vec![h("If-Modified-Since", date(OLD))],
        vec![h("Accept-Encoding", "gzip")],
    ];
    for path in ["/alpha.txt", "/app.js", "/list/", "/missing"] {
        for headers in &requests {
            let get = site.get(path, headers);
            let head = site.send("HEAD", path, headers);
            let fields = |r: &Reply| {
                r.headers
                    .iter()
                    .filter(|(n, _)| n != "Date")
                    .cloned()
                    .collect::<Vec<_>>()
            };
            assert_eq!(head.status, get.status, "{path} {headers:?}");
            assert_eq!(fields(&head), fields(&get), "{path} {headers:?}");
            assert!(head.body.is_empty());
        }
    }
    // §14.2: range handling is defined for GET only, so HEAD ignores Range.
    let head = site.send("HEAD", "/alpha.txt", &[h("Range", "bytes=0-1")]);
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("26"))
    );
}

#[test]
fn rfc9110_12_5_3_precompressed_forms_by_accept_encoding() {
    let site = Site::new();
    let identity_tag = site.etag("/app.js");
    let cases: &[(Option<&str>, &[u8], Option<&str>)] = &[
        (None, b"console.log('identity')\n", None),
        (Some("gzip"), b"GZIP-BYTES", Some("gzip")),
        (Some("x-gzip"), b"GZIP-BYTES", Some("gzip")),
        (Some("gzip, br"), b"BROTLI-BYTES", Some("br")),
        (Some("br;q=0.5, gzip"), b"GZIP-BYTES", Some("gzip")),
        (Some("*"), b"BROTLI-BYTES", Some("br")),
        (Some("br;q=0, gzip;q=0"), b"console.log('identity')\n", None),
        (Some("*;q=0"), b"console.log('identity')\n", None),
        (Some("deflate"), b"console.log('identity')\n", None),
    ];
    for &(accept, body, encoding) in cases {
        let headers: Vec<_> = accept
            .map(|a| h("Accept-Encoding", a))
            .into_iter()
            .collect();
        let reply = site.get("/app.js", &headers);
        assert_eq!(reply.status, 200, "{accept:?}");
        assert_eq!(reply.body, body, "{accept:?}");
        assert_eq!(reply.header("content-encoding"), encoding, "{accept:?}");
        assert_eq!(reply.header("vary"), Some("Accept-Encoding"), "{accept:?}");
        let content_type = reply.header("content-type").unwrap();
        assert!(
            content_type.contains("javascript"),
            "{accept:?}: {content_type}"
        );
        if encoding.is_some() {
            assert_ne!(reply.header("etag"), Some(identity_tag.as_str()), "own tag");
        }
    }
    // The precompressed form has its own validators and ranges.
    let gz_tag = site
        .get("/app.js", &[h("Accept-Encoding", "gzip")])
        .header("etag")
        .unwrap()
        .to_string();
    let reply = site.get(
        "/app.js",
        &[h("Accept-Encoding", "gzip"), h("If-None-Match", gz_tag)],
    );
    assert_eq!(reply.status, 304);
    let reply = site.get(
        "/app.js",
        &[h("Accept-Encoding", "gzip"), h("Range", "bytes=0-3")],
    );
    assert_eq!((reply.status, reply.body.as_slice()), (206, &b"GZIP"[..]));
    // Several ranges of a precompressed form: the whole form, not a multipart body under
    // a top-level Content-Encoding.
    let reply = site.get(
        "/app.js",
        &[h("Accept-Encoding", "gzip"), h("Range", "bytes=0-1,4-5")],
    );
    assert_eq!(
        (reply.status, reply.body.as_slice()),
        (200, &b"GZIP-BYTES"[..])
    );
    // Several Accept-Encoding lines are one list.
    let reply = site.get(
        "/app.js",
        &[h("Accept-Encoding", "*"), h("Accept-Encoding", "br;q=0")],
    );
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    // A file without forms says nothing about Accept-Encoding.
    assert_eq!(
        site.get("/alpha.txt", &[h("Accept-Encoding", "gzip")])
            .header("vary"),
        None
    );
}

#[test]
fn cache_control_is_per_mount_and_only_on_files() {
    let site = Site::new();
    assert_eq!(
        site.get("/alpha.txt", &[]).header("cache-control"),
        Some("max-age=3600")
    );
    let partial = site.get("/alpha.txt", &[h("Range", "bytes=0-0")]);
    assert_eq!(partial.header("cache-control"), Some("max-age=3600"));
    assert_eq!(site.get("/missing", &[]).header("cache-control"), None);
    let plain = StaticFiles::new(site.dir.path()).unwrap();
    let server = start(test_config(), plain);
    assert_eq!(
        get(server.local_addr(), "/alpha.txt").header("cache-control"),
        None,
        "off by default"
    );
    assert!(StaticFiles::new(site.dir.path())
        .unwrap()
        .with_cache_control("a\r\nb")
        .is_err());
}

#[test]
fn directory_listings_are_escaped_sorted_and_optional() {
    let site = Site::new();
    let reply = site.get("/list/", &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let page = reply.text();
    let links: Vec<&str> = page.lines().filter(|l| l.starts_with("<li>")).collect();
    assert_eq!(
        links,
        [
            "<li><a href=\"../\">../</a></li>",
            "<li><a href=\"sub/\">sub/</a></li>",
            "<li><a href=\"a%20%26%20%3Cb%3E.txt\">a &amp; &lt;b&gt;.txt</a></li>",
            "<li><a href=\"b.txt\">b.txt</a></li>",
            "<li><a href=\"c%3Ad\">c:d</a></li>",
        ]
    );
    assert!(page.contains("<title>Index of /list/</title>"));
    assert!(!page.contains("hidden"));
    assert_eq!(
        get(site.server.local_addr(), "/list/a%20%26%20%3Cb%3E.txt").body,
        b"a"
    );
    let plain = start(test_config(), StaticFiles::new(site.dir.path()).unwrap());
    assert_eq!(
        get(plain.local_addr(), "/list/").status,
        404,
        "off by default"
    );
}

#[test]
fn options_on_a_file_and_on_the_server() {
    let site = Site::new();
    let reply = site.send("OPTIONS", "/alpha.txt", &[]);
    assert_eq!(
        (reply.status, reply.header("allow")),
        (204, Some("GET, HEAD, OPTIONS"))
    );
    let reply = site.send("OPTIONS", "*", &[]);
    assert_eq!(reply.status, 204);
    assert!(reply.header("allow").unwrap().contains("GET"));
}
