//! TLS settings and what they become: certificates and keys from PEM (files or memory),
//! chosen by SNI; optional client certificates; a rustls `ServerConfig` that reloads
//! without a restart. The bytes of a TLS connection are moved by `server::transport`.

mod der;
mod identity;
mod self_signed;
mod sni;

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::server::{ProducesTickets, StoresServerSessions, WebPkiClientVerifier};
use rustls::ServerConfig;

pub use self_signed::self_signed;

/// PEM text, or the file that holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pem {
    File(PathBuf),
    Memory(Vec<u8>),
}

impl Pem {
    /// What error messages call it: the file's path, or "(memory)".
    pub fn name(&self) -> String {
        match self {
            Pem::File(path) => path.display().to_string(),
            Pem::Memory(_) => "(memory)".to_string(),
        }
    }

    fn read(&self) -> Result<Vec<u8>, TlsError> {
        match self {
            Pem::File(path) => std::fs::read(path).map_err(|e| {
                let reason = match e.kind() {
                    std::io::ErrorKind::NotFound => "no such file".to_string(),
                    std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                    _ => e.to_string(),
                };
                TlsError::new(self, &format!("cannot read it: {reason}"))
            }),
            Pem::Memory(bytes) => Ok(bytes.clone()),
        }
    }
}

/// A certificate chain (leaf first) and its private key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub chain: Pem,
    pub key: Pem,
}

/// Whether clients are asked for a certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// Not asked.
    #[default]
    Off,
    /// Asked; one that is sent must be valid for `TlsSettings::client_ca`, but a client may
    /// send none.
    Optional,
    /// Required: a handshake without a valid one fails.
    Required,
}

/// The oldest protocol version accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MinVersion {
    #[default]
    Tls12,
    Tls13,
}

/// How a server's TLS listeners are set up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// The certificates, chosen by the name a client asks for (SNI) among the DNS names of
    /// each; the first serves clients that ask for none, or for a name none has.
    pub identities: Vec<Identity>,
    /// The certificate authorities client certificates must chain to.
    pub client_ca: Option<Pem>,
    pub client_auth: ClientAuth,
    pub min_version: MinVersion,
}

/// Why TLS settings could not be loaded: one line that names the file and the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsError(String);

impl TlsError {
    fn new(source: &Pem, problem: &str) -> TlsError {
        TlsError(format!("{}: {problem}", source.name()))
    }

    fn plain(message: String) -> TlsError {
        TlsError(message)
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

/// The crypto every TLS connection uses: rustls's aws-lc-rs provider with its default
/// suites and key exchanges, the suites in the order of Mozilla's "intermediate" server
/// configuration (AES-128-GCM, then AES-256-GCM, then ChaCha20-Poly1305; ECDSA before RSA
/// within each), which the server prefers (`ignore_client_order`): testssl.sh counts a
/// server without an order of its own as "NOT ok", and AES-128's SHA-256 key schedule
/// costs a handshake less than AES-256's SHA-384.
pub fn provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.cipher_suites.sort_by_key(|suite| {
        let name = suite.suite().as_str().unwrap_or("");
        let cipher = ["AES_128_GCM", "AES_256_GCM", "CHACHA20"]
            .iter()
            .position(|c| name.contains(c))
            .unwrap_or(3);
        // TLS 1.3 first (rustls puts them first too), then ECDSA before RSA.
        (suite.tls13().is_none(), cipher, name.contains("_RSA_"))
    });
    Arc::new(provider)
}

/// A server's TLS: its settings and the rustls config they gave, swapped whole on reload.
/// Shared by every TLS listener of the server; any thread may reload it.
pub struct Tls {
    settings: Mutex<TlsSettings>,
    current: RwLock<Arc<ServerConfig>>,
    /// Kept across reloads, so that sessions resumed after a reload still resume.
    sessions: Arc<dyn StoresServerSessions>,
    tickets: Arc<dyn ProducesTickets>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

/// TLS sessions kept for resumption by session ID (TLS 1.2) or by stateful ticket.
const SESSION_CACHE: usize = 4096;

impl Tls {
    /// Loads `settings`; the error names the file that failed and why.
    pub fn new(settings: TlsSettings) -> Result<Tls, TlsError> {
        let sessions: Arc<dyn StoresServerSessions> =
            rustls::server::ServerSessionMemoryCache::new(SESSION_CACHE);
        let tickets = rustls::crypto::aws_lc_rs::Ticketer::new()
            .map_err(|e| TlsError::plain(format!("session tickets: {e}")))?;
        let config = build(&settings, &sessions, &tickets)?;
        Ok(Tls {
            settings: Mutex::new(settings),
            current: RwLock::new(config),
            sessions,
            tickets,
        })
    }

    /// The config for a new connection.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reads the certificate, key and CA files again: handshakes from now on use what they
    /// hold, connections already open keep what they had. On an error nothing changes.
    pub fn reload(&self) -> Result<(), TlsError> {
        let settings = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        let config = build(&settings, &self.sessions, &self.tickets)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = config;
        Ok(())
    }

    /// The settings, as given.
    pub fn settings(&self) -> TlsSettings {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The protocol names offered in ALPN: HTTP/1.1 only, until HTTP/2 comes.
const ALPN: &[&[u8]] = &[b"http/1.1"];

fn build(
    settings: &TlsSettings,
    sessions: &Arc<dyn StoresServerSessions>,
    tickets: &Arc<dyn ProducesTickets>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = provider();
    if settings.identities.is_empty() {
        return Err(TlsError::plain(
            "TLS needs a certificate and its key".into(),
        ));
    }
    let identities = settings
        .identities
        .iter()
        .map(|identity| identity::load(identity, &provider))
        .collect::<Result<Vec<_>, _>>()?;
    let versions: &[&rustls::SupportedProtocolVersion] = match settings.min_version {
        MinVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        MinVersion::Tls13 => &[&rustls::version::TLS13],
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| TlsError::plain(format!("TLS versions: {e}")))?;
    let builder = match (settings.client_auth, &settings.client_ca) {
        (ClientAuth::Off, _) => builder.with_no_client_auth(),
        (_, None) => {
            return Err(TlsError::plain(
                "client certificates need a CA bundle to check them against".into(),
            ))
        }
        (auth, Some(ca)) => {
            let roots = identity::load_roots(ca)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = match auth {
                ClientAuth::Optional => verifier.allow_unauthenticated(),
                _ => verifier,
            };
            let verifier = verifier
                .build()
                .map_err(|e| TlsError::new(ca, &format!("cannot use it: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(Arc::new(sni::Resolver::new(identities)));
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    config.session_storage = sessions.clone();
    config.ticketer = tickets.clone();
    // One TLS 1.3 ticket per handshake, not rustls's two: every resumed connection brings
    // a fresh one, so a client always holds an unused ticket for its next connection
    // (RFC 8446 §C.4), as OpenSSL (nginx) does after a resumption; the second ticket cost
    // a tenth of the rate of new connections (benches/tls.py).
    config.send_tls13_tickets = 1;
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

/// What a finished handshake agreed, for handlers to see.
pub fn info(conn: &rustls::ServerConnection) -> crate::http::TlsInfo {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
        _ => "",
    };
    let cipher = conn
        .negotiated_cipher_suite()
        .map_or(String::new(), |suite| {
            let name = suite.suite().as_str().unwrap_or("");
            // rustls marks the TLS 1.3 suites TLS13_; IANA names them TLS_.
            match name.strip_prefix("TLS13_") {
                Some(rest) => format!("TLS_{rest}"),
                None => name.to_string(),
            }
        });
    crate::http::TlsInfo {
        version,
        cipher,
        server_name: conn.server_name().map(str::to_string),
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        client_subject: conn
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| der::subject(leaf)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn suites_go_in_mozillas_intermediate_order() {
        let names: Vec<_> = super::provider()
            .cipher_suites
            .iter()
            .map(|s| s.suite().as_str().unwrap_or("?"))
            .collect();
        assert_eq!(
            names,
            [
                "TLS13_AES_128_GCM_SHA256",
                "TLS13_AES_256_GCM_SHA384",
                "TLS13_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            ]
        );
    }
}
