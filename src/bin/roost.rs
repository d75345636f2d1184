//! `roost`: serve a folder over HTTP/1.1, plain or over TLS.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use roost::server::{Asked, Listen, StopSignals};
use roost::tls::{ClientAuth, Identity, MinVersion, Pem, Tls, TlsSettings};
use roost::{Config, Server, StaticFiles};

const HELP: &str = "\
roost: serve a folder over HTTP/1.1 and HTTPS

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
  --listen ADDR:PORT[,tls]   listen there, plain or TLS; repeatable, and replaces
                             --bind/--port (IPv6 as [::1]:8443)
  --tls-cert FILE            certificate chain (PEM) for TLS; with --tls-key, repeatable
                             for several names chosen by SNI (the first is the default)
  --tls-key FILE             the private key (PEM) of the --tls-cert before it
  --tls-self-signed          make a throwaway certificate for localhost and print its
                             SHA-256 fingerprint: HTTPS for local development
  --tls-client-ca FILE       ask clients for certificates signed by these CAs (PEM);
                             a handshake without one fails
  --tls-client-auth MODE     required (the default with --tls-client-ca) or optional
  --tls-min-version V        1.2 (default) or 1.3
  --redirect-https           plain listeners answer 308 to the same URL on the first
                             TLS listener
  --revalidate SECS          a file changed on disk is served changed at most this long
                             after; 0: at once, looking every file up for every request
                             (default: 1)
  -h, --help                 show this help
  -V, --version              show the version

Without --listen, a certificate (or --tls-self-signed) makes the --bind/--port
listener serve TLS. Once listening, roost prints one line per listener,
`roost: serving DIR on http://ADDR:PORT/` (https:// for TLS). SIGINT or SIGTERM stops it
gracefully; SIGHUP reads the certificate files again (handshakes after it use them;
a bad file keeps the old ones) and says how it went on stderr. Bad arguments, a bad
certificate or key, or a busy address exit with status 2.
";

struct Args {
    dir: PathBuf,
    bind: IpAddr,
    port: u16,
    /// From --listen: replaces bind and port.
    listen: Vec<Listen>,
    redirect_https: bool,
    tls: TlsSettings,
    self_signed: bool,
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
    let mut out = std::io::stdout().lock();
    if args.self_signed {
        let (identity, fingerprint) = roost::tls::self_signed().map_err(|e| e.to_string())?;
        args.tls.identities.insert(0, identity);
        let _ = writeln!(
            out,
            "roost: self-signed certificate for localhost, SHA-256 fingerprint {fingerprint}"
        );
    }
    let has_tls = !args.tls.identities.is_empty();
    let mut listen = std::mem::take(&mut args.listen);
    if listen.is_empty() {
        let addr = SocketAddr::new(args.bind, args.port);
        listen.push(if has_tls {
            Listen::tls(addr)
        } else {
            Listen::plain(addr)
        });
    }
    if listen.iter().any(|l| l.tls) && !has_tls {
        return Err("--listen ...,tls needs --tls-cert and --tls-key, or --tls-self-signed".into());
    }
    if args.redirect_https {
        if !listen.iter().any(|l| l.tls) {
            return Err("--redirect-https needs a TLS listener".into());
        }
        for l in listen.iter_mut().filter(|l| !l.tls) {
            l.redirect_https = true;
        }
    }
    if has_tls {
        let tls = Tls::new(std::mem::take(&mut args.tls)).map_err(|e| e.to_string())?;
        args.config.tls = Some(Arc::new(tls));
    }
    args.config.listen = listen.clone();
    let signals = StopSignals::block().map_err(|e| format!("cannot block signals: {e}"))?;
    let mut server = Server::start(args.config, Arc::new(files)).map_err(|e| e.to_string())?;
    let https = listen
        .iter()
        .zip(server.local_addrs())
        .find(|(l, _)| l.tls)
        .map(|(_, addr)| *addr);
    for (l, addr) in listen.iter().zip(server.local_addrs()) {
        let scheme = if l.tls { "https" } else { "http" };
        let _ = match (l.redirect_https, https) {
            (true, Some(to)) => writeln!(out, "roost: redirecting http://{addr}/ to https://{to}/"),
            _ => writeln!(
                out,
                "roost: serving {} on {scheme}://{addr}/",
                args.dir.display()
            ),
        };
    }
    let _ = out.flush();
    drop(out);
    loop {
        let asked = signals
            .wait()
            .map_err(|e| format!("waiting for signals: {e}"))?;
        match (asked, server.tls()) {
            (Asked::Reload, Some(tls)) => match tls.reload() {
                Ok(()) => eprintln!("roost: reloaded the TLS certificates"),
                Err(e) => eprintln!("roost: reload failed, the old certificates stay: {e}"),
            },
            _ => break,
        }
    }
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
    let mut listen = Vec::new();
    let mut redirect_https = false;
    let mut tls = TlsSettings::default();
    let mut self_signed = false;
    let mut certs = Vec::new();
    let mut keys = Vec::new();
    let mut client_auth = None;
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
            "--listen" => listen.push(parse_listen(&value("--listen")?)?),
            "--redirect-https" => redirect_https = true,
            "--tls-cert" => certs.push(PathBuf::from(value("--tls-cert")?)),
            "--tls-key" => keys.push(PathBuf::from(value("--tls-key")?)),
            "--tls-self-signed" => self_signed = true,
            "--tls-client-ca" => {
                tls.client_ca = Some(Pem::File(PathBuf::from(value("--tls-client-ca")?)))
            }
            "--tls-client-auth" => {
                client_auth = Some(match value("--tls-client-auth")?.as_str() {
                    "required" => ClientAuth::Required,
                    "optional" => ClientAuth::Optional,
                    other => {
                        return Err(format!(
                            "--tls-client-auth: {other:?} is not required or optional"
                        ))
                    }
                })
            }
            "--tls-min-version" => {
                tls.min_version = match value("--tls-min-version")?.as_str() {
                    "1.2" => MinVersion::Tls12,
                    "1.3" => MinVersion::Tls13,
                    other => return Err(format!("--tls-min-version: {other:?} is not 1.2 or 1.3")),
                }
            }
            "--revalidate" => {
                revalidate = seconds_or_zero("--revalidate", &value("--revalidate")?)?
            }
            f if f.starts_with('-') && f != "-" => return Err(format!("unknown option {f}")),
            _ if dir.is_some() => return Err(format!("unexpected argument {arg:?}: one DIR only")),
            _ => dir = Some(PathBuf::from(arg)),
        }
    }
    if certs.len() != keys.len() {
        return Err(format!(
            "--tls-cert and --tls-key come in pairs ({} certificates, {} keys)",
            certs.len(),
            keys.len()
        ));
    }
    tls.identities = certs
        .into_iter()
        .zip(keys)
        .map(|(chain, key)| Identity {
            chain: Pem::File(chain),
            key: Pem::File(key),
        })
        .collect();
    tls.client_auth = match (&tls.client_ca, client_auth) {
        (None, Some(_)) => return Err("--tls-client-auth needs --tls-client-ca".into()),
        (None, None) => ClientAuth::Off,
        (Some(_), mode) => mode.unwrap_or(ClientAuth::Required),
    };
    if tls.identities.is_empty() && !self_signed && tls.client_ca.is_some() {
        return Err("--tls-client-ca needs --tls-cert and --tls-key".into());
    }
    Ok(Parsed::Run(Box::new(Args {
        dir: dir.unwrap_or_else(|| PathBuf::from(".")),
        bind,
        port,
        listen,
        redirect_https,
        tls,
        self_signed,
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

/// `ADDR:PORT` or `ADDR:PORT,tls`.
fn parse_listen(text: &str) -> Result<Listen, String> {
    let (addr, tls) = match text.strip_suffix(",tls") {
        Some(addr) => (addr, true),
        None => (text, false),
    };
    let addr = addr.replace("localhost:", "127.0.0.1:");
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| format!("--listen: {text:?} is not ADDR:PORT or ADDR:PORT,tls"))?;
    Ok(if tls {
        Listen::tls(addr)
    } else {
        Listen::plain(addr)
    })
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
