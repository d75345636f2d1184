//! Shared by the integration tests: servers on 127.0.0.1:0, a document root with known
//! files, and a client that speaks raw bytes and parses responses exactly.
#![allow(dead_code)]

pub mod child;
pub mod tls;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use roost::{Config, Handler, Request, Response, Server, StaticFiles};

/// How long a test waits on a socket before calling the server stuck.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("roost-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, relative: &str, contents: &[u8]) {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    /// Sets the modification time of `relative` to `secs` after the epoch.
    pub fn set_mtime(&self, relative: &str, secs: u64) {
        let file = std::fs::File::options()
            .write(true)
            .open(self.0.join(relative))
            .unwrap();
        file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
            .unwrap();
    }

    /// Writes `relative` dated a day back, as a file that has settled: the file server
    /// keeps the content of such a small file in memory for its revalidation interval.
    pub fn write_settled(&self, relative: &str, contents: &[u8]) {
        self.write(relative, contents);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        self.set_mtime(relative, now - 86_400);
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// 1 MiB of bytes that differ from position to position, so an offset error shows.
pub fn mebibyte() -> Vec<u8> {
    (0..1024 * 1024u32)
        .map(|i| (i * 7 + i / 251) as u8)
        .collect()
}

/// The document root most static tests use.
pub fn docroot() -> TempDir {
    let dir = TempDir::new("docroot");
    dir.write("hello.txt", b"Hello world!\n");
    dir.write("index.html", b"<h1>root</h1>\n");
    dir.write("sub/index.html", b"<h1>sub</h1>\n");
    dir.write("sub/page.html", b"<p>page</p>\n");
    dir.write("noindex/file.css", b"body{}\n");
    dir.write("style.css", b"p{}\n");
    dir.write("image.png", b"\x89PNG\r\n\x1a\n");
    dir.write("data.bin.unknownext", b"\x00\x01");
    dir.write("with space.txt", b"space\n");
    dir.write(".secret", b"hidden\n");
    dir.write(".git/config", b"hidden\n");
    dir.write("big.bin", &mebibyte());
    dir.write("empty.txt", b"");
    dir
}

/// A config for tests: loopback, port 0, two workers.
pub fn test_config() -> Config {
    Config {
        listen: vec![roost::server::Listen::plain("127.0.0.1:0".parse().unwrap())],
        threads: 2,
        ..Config::default()
    }
}

pub fn start(config: Config, handler: impl Handler + 'static) -> Server {
    Server::start(config, Arc::new(handler)).expect("server starts")
}

/// A static server on `root` with the test config.
pub fn start_static(root: &Path) -> Server {
    start(test_config(), StaticFiles::new(root).unwrap())
}

/// Answers with what it received: method, path, query and body length as fields, the body
/// as the body. Also honours a few test knobs in the path.
pub struct Echo;

impl Handler for Echo {
    fn handle(&self, req: &Request, res: &mut Response) {
        if req.path() == "/panic" {
            panic!("handler panics on purpose");
        }
        res.add_header("X-Method", req.method().as_bytes()).unwrap();
        res.add_header("X-Path", req.path().as_bytes()).unwrap();
        res.add_header("X-Query", req.query().unwrap_or("").as_bytes())
            .unwrap();
        let version: &[u8] = match req.version() {
            roost::http::Version::Http10 => b"1.0",
            roost::http::Version::Http11 => b"1.1",
        };
        res.add_header("X-Version", version).unwrap();
        if let Some(authority) = req.authority() {
            res.add_header("X-Authority", authority).unwrap();
        }
        res.add_header("X-Body-Length", req.body().len().to_string().as_bytes())
            .unwrap();
        res.set_body(req.body());
    }

    fn wants_body(&self, req: &Request) -> bool {
        req.path() != "/reject-body"
    }
}

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client connection that writes raw bytes and reads responses one at a time, over TCP
/// or anything else that reads and writes (TLS, see `tls::connect`).
pub struct Client<S = TcpStream> {
    pub reader: BufReader<S>,
}

impl Client<TcpStream> {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.set_write_timeout(Some(PATIENCE)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            reader: BufReader::new(stream),
        }
    }

    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }
}

impl<S: Read + Write> Client<S> {
    /// A client over `stream`, already connected.
    pub fn over(stream: S) -> Client<S> {
        Client {
            reader: BufReader::new(stream),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("send");
    }

    /// Reads one response; a HEAD response or a 1xx/204/304 has no body.
    pub fn read(&mut self, head_request: bool) -> Reply {
        self.try_read(head_request).expect("a response")
    }

    pub fn response(&mut self) -> Reply {
        self.read(false)
    }

    pub fn try_read(&mut self, head_request: bool) -> Option<Reply> {
        let mut reply = self.read_head()?;
        let no_body =
            head_request || reply.status < 200 || reply.status == 204 || reply.status == 304;
        if !no_body {
            let len: usize = reply
                .header("content-length")
                .expect("every response with content has Content-Length")
                .parse()
                .unwrap();
            reply.body = vec![0; len];
            self.reader.read_exact(&mut reply.body).ok()?;
        }
        Some(reply)
    }

    /// Reads the next chunk of a chunked body: its data, or `None` for the last chunk
    /// (whose empty trailer section is read too).
    pub fn read_chunk(&mut self) -> Option<Vec<u8>> {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("a chunk-size line");
        let size = usize::from_str_radix(line.trim_end(), 16)
            .unwrap_or_else(|_| panic!("chunk-size line {line:?}"));
        let mut data = vec![0; size + 2];
        self.reader.read_exact(&mut data).expect("chunk data");
        assert_eq!(&data[size..], b"\r\n", "chunk data ends with CRLF");
        data.truncate(size);
        (size > 0).then_some(data)
    }

    /// Reads the rest of a chunked body.
    pub fn read_chunked_body(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        while let Some(chunk) = self.read_chunk() {
            body.extend_from_slice(&chunk);
        }
        body
    }

    /// Reads a response's status line and fields, not its body.
    pub fn read_head(&mut self) -> Option<Reply> {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).ok()?;
            if n == 0 {
                return None;
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
            assert!(line.ends_with("\r\n"), "line without CRLF: {line:?}");
        }
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        assert!(
            status_line.starts_with("HTTP/1.1 "),
            "status line {status_line:?}"
        );
        let status: u16 = status_line[9..12].parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(':').expect("field line has a colon");
                (n.to_string(), v.trim().to_string())
            })
            .collect();
        Some(Reply {
            status,
            head,
            headers,
            body: Vec::new(),
        })
    }

    /// Whether the server closed the connection: the next read gives end of stream or a
    /// reset. Data, or nothing within PATIENCE, means it is still open.
    pub fn closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.reader.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        }
    }

    /// Everything until the server closes (or the connection fails, or PATIENCE passes:
    /// see [`Client::read_until_closed`] to tell them apart).
    pub fn read_to_end(&mut self) -> Vec<u8> {
        let mut all = Vec::new();
        let _ = self.reader.read_to_end(&mut all);
        all
    }

    /// Everything until the server closes the connection; an error if the read failed or
    /// PATIENCE passed with the connection still open.
    pub fn read_until_closed(&mut self) -> std::io::Result<Vec<u8>> {
        let mut all = Vec::new();
        self.reader.read_to_end(&mut all)?;
        Ok(all)
    }
}

/// Sends `raw` on a new connection and reads one response.
pub fn exchange(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut client = Client::connect(addr);
    client.send(raw);
    client.read(raw.starts_with(b"HEAD "))
}

/// GET `path` with HTTP/1.1 on a new connection.
pub fn get(addr: SocketAddr, path: &str) -> Reply {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes(),
    )
}

/// Polls `cond` until it holds or PATIENCE runs out.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The directory holding the libroost.so that `cargo test` built for this run, next to
/// the test binaries (the uplifted copy in target/<profile> is only refreshed by
/// `cargo build`).
pub fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().to_path_buf()
}

/// Reads a child's ready line (the first line on its stdout) and returns it with the
/// address of the `http://ADDR:PORT/` URL in it.
pub fn ready_line(child: &mut Child) -> (String, SocketAddr) {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout is piped"))
        .read_line(&mut line)
        .unwrap();
    let addr = url_addr(&line, "http");
    (line, addr)
}

/// The ADDR:PORT of the `scheme://ADDR:PORT/` URL in `line`.
pub fn url_addr(line: &str, scheme: &str) -> SocketAddr {
    let prefix = format!("{scheme}://");
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.split('/').next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no {prefix}ADDR:PORT/ in {line:?}"))
}

/// Sends `count` pipelined GETs of /big.bin (1 MiB each) and never reads: far more than
/// socket buffers hold, so the server's writes stall.
pub fn stall_with_big_responses<S: Read + Write>(client: &mut Client<S>, count: usize) {
    let mut batch = Vec::new();
    for _ in 0..count {
        batch.extend_from_slice(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
    }
    client.send(&batch);
}
