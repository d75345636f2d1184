//! Certificates for TLS tests (a CA, server certificates for two names, client
//! certificates from that CA and from another), written as PEM files, and a rustls client.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use roost::tls::{Identity, Pem, TlsSettings};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::{Client, TempDir, PATIENCE};

/// A TLS client connection over TCP.
pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// A certificate and its key, as DER and as PEM files.
pub struct Issued {
    pub der: CertificateDer<'static>,
    pub key_der: Vec<u8>,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Issued {
    pub fn identity(&self) -> Identity {
        Identity {
            chain: Pem::File(self.cert.clone()),
            key: Pem::File(self.key.clone()),
        }
    }
}

/// See the module docs.
pub struct Pki {
    pub dir: TempDir,
    /// The CA's certificate, PEM.
    pub ca: PathBuf,
    pub ca_der: CertificateDer<'static>,
    /// For `a.test`, `localhost` and 127.0.0.1.
    pub a: Issued,
    /// For the same names as `a`, with a key of its own: what a renewal brings.
    pub a2: Issued,
    /// For `b.test` and `*.wild.test`.
    pub b: Issued,
    /// A client certificate from the CA: `CN=alice,O=Example`.
    pub alice: Issued,
    /// A client certificate from another CA.
    pub mallory: Issued,
}

fn ca(name: &str) -> (Issuer<'static, KeyPair>, CertificateDer<'static>, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (Issuer::new(params, key), cert.der().clone(), cert.pem())
}

impl Pki {
    pub fn new() -> Pki {
        let dir = TempDir::new("pki");
        let (issuer, ca_der, ca_pem) = ca("roost test CA");
        let (other, _, _) = ca("another CA");
        let issue =
            |file: &str, names: &[&str], subject: &[(DnType, &str)], by: &Issuer<'_, KeyPair>| {
                let mut params =
                    CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                        .unwrap();
                for (ty, value) in subject {
                    params.distinguished_name.push(ty.clone(), *value);
                }
                let key = KeyPair::generate().unwrap();
                let cert = params.signed_by(&key, by).unwrap();
                let (cert_path, key_path) = (
                    dir.0.join(format!("{file}.pem")),
                    dir.0.join(format!("{file}.key")),
                );
                std::fs::write(&cert_path, cert.pem()).unwrap();
                std::fs::write(&key_path, key.serialize_pem()).unwrap();
                Issued {
                    der: cert.der().clone(),
                    key_der: key.serialize_der(),
                    cert: cert_path,
                    key: key_path,
                }
            };
        let a = issue(
            "a",
            &["a.test", "localhost", "127.0.0.1"],
            &[(DnType::CommonName, "a.test")],
            &issuer,
        );
        let a2 = issue(
            "a2",
            &["a.test", "localhost", "127.0.0.1"],
            &[(DnType::CommonName, "a.test")],
            &issuer,
        );
        let b = issue(
            "b",
            &["b.test", "*.wild.test"],
            &[(DnType::CommonName, "b.test")],
            &issuer,
        );
        let alice = issue(
            "alice",
            &[],
            &[
                (DnType::CommonName, "alice"),
                (DnType::OrganizationName, "Example"),
            ],
            &issuer,
        );
        let mallory = issue("mallory", &[], &[(DnType::CommonName, "mallory")], &other);
        let ca = dir.0.join("ca.pem");
        std::fs::write(&ca, ca_pem).unwrap();
        Pki {
            dir,
            ca,
            ca_der,
            a,
            a2,
            b,
            alice,
            mallory,
        }
    }

    /// Serves `a` (the default) and `b`.
    pub fn settings(&self) -> TlsSettings {
        TlsSettings {
            identities: vec![self.a.identity(), self.b.identity()],
            ..TlsSettings::default()
        }
    }

    /// A client config that trusts the CA, optionally presenting a client certificate,
    /// offering `alpn`.
    pub fn client(&self, cert: Option<&Issued>) -> ClientConfig {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        let builder = ClientConfig::builder_with_provider(roost::tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let mut config = match cert {
            Some(issued) => builder
                .with_client_auth_cert(
                    vec![issued.der.clone()],
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(issued.key_der.clone())),
                )
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config
    }
}

/// A TLS connection to `addr` asking for `name` (None: no SNI), handshake done.
pub fn connect_with(
    addr: SocketAddr,
    config: ClientConfig,
    name: Option<&str>,
) -> std::io::Result<TlsStream> {
    let mut config = config;
    let server_name = match name {
        Some(name) => ServerName::try_from(name.to_string()).unwrap(),
        None => {
            config.enable_sni = false;
            ServerName::try_from("a.test").unwrap()
        }
    };
    let conn = ClientConnection::new(Arc::new(config), server_name).unwrap();
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(PATIENCE)).unwrap();
    tcp.set_write_timeout(Some(PATIENCE)).unwrap();
    let mut stream = StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}

/// A TLS client (trusting the test CA, SNI `a.test`) for raw HTTP exchanges.
pub fn connect(pki: &Pki, addr: SocketAddr) -> Client<TlsStream> {
    Client::over(connect_with(addr, pki.client(None), Some("a.test")).expect("TLS handshake"))
}
