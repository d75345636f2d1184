//! The request path without sockets, so that a regression shows without wrk: batches of 16
//! pipelined requests go through the HTTP session (parse, route, handler, response writer)
//! into a connection's output queue, which is then emptied as if sent.
//!
//!     cargo bench --bench hot_path
//!
//! Prints nanoseconds per request for each case: the median of 9 samples of 0.2 s.

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use roost::h1::inbuf::InBuf;
use roost::h1::output::{Chunk, Output};
use roost::h1::parse::{header_slots, parse_head, HeadResult};
use roost::h1::{Env, Next, Session};
use roost::{Handler, Limits, Matched, Request, Response, Router, StaticFiles};

const BATCH: usize = 16;
const SAMPLES: usize = 9;
const SAMPLE_TIME: Duration = Duration::from_millis(200);

/// What wrk sends.
fn request(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n").into_bytes()
}

/// Nanoseconds per call of `batch`, which handles `per_batch` requests. With
/// `ROOST_HOT_PATH_BATCHES=N` in the environment, runs each case exactly N times and
/// prints nothing: run that under `valgrind --tool=callgrind` for instruction counts, which
/// do not drift with the machine as times do. `ROOST_HOT_PATH_ONLY=TEXT` runs only the
/// cases whose name contains TEXT.
fn measure(name: &str, per_batch: usize, mut batch: impl FnMut()) {
    if std::env::var("ROOST_HOT_PATH_ONLY").is_ok_and(|only| !name.contains(&only)) {
        return;
    }
    if let Some(n) = std::env::var("ROOST_HOT_PATH_BATCHES")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        let _ = (name, per_batch);
        for _ in 0..n {
            batch();
        }
        return;
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = Instant::now();
        let mut requests = 0;
        while start.elapsed() < SAMPLE_TIME {
            for _ in 0..64 {
                batch();
            }
            requests += 64 * per_batch;
        }
        samples.push(start.elapsed().as_nanos() as f64 / requests as f64);
    }
    samples.sort_by(f64::total_cmp);
    println!("{name:44} {:8.1} ns/request", samples[SAMPLES / 2]);
}

/// Runs pipelined batches of `raw` through a session with `handler`, checking each
/// response batch once.
fn session_case(name: &str, handler: &dyn Handler, raw: &[u8], expect: &[u8]) {
    let limits = Limits::default();
    let date = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    let mut response = Response::new();
    let mut session = Session::new(SocketAddr::from(([127, 0, 0, 1], 40000)), None);
    let mut input = InBuf::new();
    let mut output = Output::new();
    let batch: Vec<u8> = raw.repeat(BATCH);
    let mut checked = false;
    let env = Env {
        limits: &limits,
        date: &date,
        stopping: false,
    };
    measure(name, BATCH, || {
        input.prepare_read(batch.len()).extend_from_slice(&batch);
        let next = session.serve(
            &mut input,
            &mut output,
            &env,
            handler,
            &mut response,
            0,
            &mut |_, _, _| false,
        );
        assert!(matches!(next, Next::Read { .. }), "{name}: {next:?}");
        let mut sent = 0;
        while let Some(chunk) = output.front() {
            let n = match chunk {
                Chunk::Bytes { bytes, .. } => {
                    if !checked {
                        let text = String::from_utf8_lossy(bytes);
                        assert_eq!(text.matches("HTTP/1.1 200 OK").count(), BATCH, "{text}");
                        assert!(bytes.ends_with(expect), "{name}: {text}");
                        checked = true;
                    }
                    bytes.len()
                }
                Chunk::File { len, .. } => len as usize,
            };
            output.advance(n);
            sent += n;
        }
        black_box(sent);
    });
}

fn main() {
    let get = request("/hello.txt");
    let limits = Limits::default();
    measure("parse a request head (httparse and checks)", 1, || {
        let mut slots = header_slots();
        match parse_head(black_box(&get), &mut slots, &limits) {
            HeadResult::Complete(head, used) => {
                black_box(&head);
                black_box(used);
            }
            _ => panic!("the request does not parse"),
        }
    });

    let mut router = Router::new();
    router
        .route(
            "GET",
            "/hello",
            Arc::new(|_: &Request, _: &Matched<'_>, res: &mut Response| {
                let _ = res.add_header("Content-Type", b"text/plain");
                res.set_body(b"Hello world!\n");
            }),
        )
        .unwrap();
    session_case(
        "route answering 13 bytes, pipelined x16",
        &router,
        &request("/hello"),
        b"Hello world!\n",
    );
    // The same route among 100,000 others: a lookup must not grow with their number.
    for i in 0..100_000 {
        let (method, pattern) = match i % 4 {
            0 => ("GET", format!("/r{i}")),
            1 => ("POST", format!("/hello/r{i}")),
            2 => ("GET", format!("/users/{{id}}/r{i}")),
            _ => ("PUT", format!("/r{i}/*")),
        };
        let handler = Arc::new(|_: &Request, _: &Matched<'_>, res: &mut Response| {
            res.set_body(b"other");
        });
        router.route(method, &pattern, handler).unwrap();
    }
    session_case(
        "route among 100,000 routes, pipelined x16",
        &router,
        &request("/hello"),
        b"Hello world!\n",
    );

    let dir = std::env::temp_dir().join(format!("roost-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Files as a site has them: written a while ago, so the file server holds small ones
    // in memory (it waits a second after a change, in case a rewrite is under way).
    let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for (name, content) in [
        ("hello.txt", b"Hello world!\n".to_vec()),
        ("4k.bin", vec![b'x'; 4096]),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(an_hour_ago).unwrap();
    }
    let files = StaticFiles::new(&dir).unwrap();
    session_case(
        "static 13 B file, pipelined x16",
        &files,
        &get,
        b"Hello world!\n",
    );
    session_case(
        "static 4 KiB file, pipelined x16",
        &files,
        &request("/4k.bin"),
        &[b'x'; 64],
    );
    let _ = std::fs::remove_dir_all(&dir);
}
