//! Servers in a child process: the test binary runs itself again with `ROOST_CHILD` set, so
//! that an abort, an out-of-memory kill or a descriptor limit hits the child, and the test
//! sees a dead or a living process instead of dying with it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};

/// A server running in a child process.
pub struct ChildServer {
    child: Child,
    /// Closing it (on drop) tells the child to exit.
    _stdin: ChildStdin,
    pub addr: SocketAddr,
}

/// The value the child was started with, when this process is a child.
pub fn child_role() -> Option<String> {
    std::env::var("ROOST_CHILD").ok()
}

/// In the child: prints the ready line the parent waits for, then serves until the parent
/// closes stdin.
pub fn serve_until_parent_leaves(addr: SocketAddr) {
    println!("roost-child: http://{addr}/");
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
        line.clear();
    }
}

impl ChildServer {
    /// Runs the test `child_test` of this binary as a child with `ROOST_CHILD=role` and
    /// `env`, under the shell limits `ulimit` (e.g. `-v 2097152`, or "" for none), and
    /// waits for its ready line.
    pub fn start(
        child_test: &str,
        role: &str,
        env: &[(&str, String)],
        ulimit: &str,
    ) -> ChildServer {
        let exe = std::env::current_exe().unwrap();
        let script = if ulimit.is_empty() {
            "exec \"$0\" \"$@\"".to_string()
        } else {
            format!("ulimit {ulimit} && exec \"$0\" \"$@\"")
        };
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(script)
            .arg(exe)
            .args([child_test, "--exact", "--nocapture", "--test-threads", "1"])
            .env("ROOST_CHILD", role)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the child starts");
        let stdin = child.stdin.take().unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let addr = loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                panic!("the child ended before it was ready: {:?}", child.wait());
            }
            // The test harness may print on the same line first.
            if let Some((_, rest)) = line.trim().split_once("roost-child: http://") {
                break rest.trim_end_matches('/').parse().unwrap();
            }
        };
        // Keep reading the child's stdout, so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).unwrap_or(0) > 0 {
                sink.clear();
            }
        });
        ChildServer {
            child,
            _stdin: stdin,
            addr,
        }
    }

    /// How the child ended, if it has.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A field of the child's /proc status in KiB: `VmRSS` now, `VmHWM` at its peak.
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in the child's status"))
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
