//! `roost`: serve a folder over HTTP/1.1.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use roost::server::StopSignals;
use roost::{Config, Server, StaticFiles};

const HELP: &str = "\
roost: serve a folder over HTTP/1.1

usage: roost [DIR] [OPTIONS]

  DIR                        folder to serve (default: .)

options:
  --bind ADDR                IP address to listen on, IPv4 or IPv6, or localhost
                             (default: 127.0.0.1)
  --port N                   TCP port; 0 picks a free one (default: 8080)
  --threads N                worker threads; 0 means one per CPU (default: 0)
  --header-timeout SECS      time for a whole request head (then 408 and close), and for
                             a new connection's first byte (then close) (default: 10)
  --keepalive-timeout SECS   idle time allowed between requests (default: 5)
  --max-connections N        open connections at once; the one past it is closed
                             (default: 0, no limit but the descriptor limit)
  --cache-control VALUE      send `Cache-Control: VALUE` with every file, e.g.
                             max-age=3600 (default: none)
  --list                     list directories that have no index.html (default: 404)
  --revalidate SECS          a file changed on disk is served changed at most this long
                             after; 0: at once, looking every file up for every request
                             (default: 1)
  -h, --help                 show this help
  -V, --version              show the version

Once listening, roost prints one line, `roost: serving DIR on http://ADDR:PORT/`.
SIGINT or SIGTERM stops it gracefully. Bad arguments or a busy address exit with status 2.
";

struct Args {
    dir: PathBuf,
    bind: IpAddr,
    port: u16,
    config: Config,
    cache_control: Option<String>,
    list: bool,
    revalidate: Duration,
}

enum Parsed {
    Run(Box<Args>),
    Print(String),
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(message) => return fail(&message),
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("roost: {message}");
    ExitCode::from(2)
}

fn run(mut args: Box<Args>) -> Result<(), String> {
    let mut files = StaticFiles::new(&args.dir)
        .map_err(|e| e.to_string())?
        .with_listing(args.list)
        .with_revalidation(args.revalidate);
    if let Some(value) = &args.cache_control {
        files = files
            .with_cache_control(value)
            .map_err(|e| format!("--cache-control: {e}"))?;
    }
    args.config.bind = SocketAddr::new(args.bind, args.port);
    let signals = StopSignals::block().map_err(|e| format!("cannot block signals: {e}"))?;
    let mut server = Server::start(args.config, Arc::new(files)).map_err(|e| e.to_string())?;
    let addr = server.local_addr();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "roost: serving {} on http://{addr}/",
        args.dir.display()
    );
    let _ = out.flush();
    drop(out);
    signals
        .wait()
        .map_err(|e| format!("waiting for signals: {e}"))?;
    server.stop();
    Ok(())
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Parsed, String> {
    let mut dir = None;
    let mut bind = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut port = 8080;
    let mut config = Config::default();
    let mut cache_control = None;
    let mut list = false;
    let mut revalidate = roost::files::DEFAULT_REVALIDATE;
    while let Some(arg) = argv.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| argv.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Parsed::Print(HELP.to_string())),
            "-V" | "--version" => return Ok(Parsed::Print(format!("roost {}\n", roost::VERSION))),
            "--bind" => bind = parse_ip(&value("--bind")?)?,
            "--port" => port = number("--port", &value("--port")?)?,
            "--threads" => config.threads = number("--threads", &value("--threads")?)?,
            "--header-timeout" => {
                config.timeouts.header = seconds("--header-timeout", &value("--header-timeout")?)?
            }
            "--keepalive-timeout" => {
                config.timeouts.keep_alive =
                    seconds("--keepalive-timeout", &value("--keepalive-timeout")?)?
            }
            "--max-connections" => {
                config.max_connections = number("--max-connections", &value("--max-connections")?)?
            }
            "--cache-control" => cache_control = Some(value("--cache-control")?),
            "--list" => list = true,
            "--revalidate" => {
                revalidate = seconds_or_zero("--revalidate", &value("--revalidate")?)?
            }
            f if f.starts_with('-') && f != "-" => return Err(format!("unknown option {f}")),
            _ if dir.is_some() => return Err(format!("unexpected argument {arg:?}: one DIR only")),
            _ => dir = Some(PathBuf::from(arg)),
        }
    }
    Ok(Parsed::Run(Box::new(Args {
        dir: dir.unwrap_or_else(|| PathBuf::from(".")),
        bind,
        port,
        config,
        cache_control,
        list,
        revalidate,
    })))
}

fn parse_ip(text: &str) -> Result<IpAddr, String> {
    if text == "localhost" {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse()
        .map_err(|_| format!("--bind: {text:?} is not an IP address"))
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{flag}: {text:?} is not a valid number"))
}

fn seconds(flag: &str, text: &str) -> Result<Duration, String> {
    match seconds_or_zero(flag, text)? {
        d if d.is_zero() => Err(format!(
            "{flag}: {text:?} is not a positive number of seconds"
        )),
        d => Ok(d),
    }
}

fn seconds_or_zero(flag: &str, text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s >= 0.0 && s.is_finite() && s < 1e9 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("{flag}: {text:?} is not a number of seconds")),
    }
}
