//! A throwaway certificate for local development (`roost --tls-self-signed`).

use super::{Identity, Pem, TlsError};

/// The names a development certificate is for.
const NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A new self-signed ECDSA P-256 certificate for localhost (and its loopback addresses),
/// in memory, and its SHA-256 fingerprint as colon-separated hex (what browsers and
/// `openssl x509 -fingerprint -sha256` show).
pub fn self_signed() -> Result<(Identity, String), TlsError> {
    let names: Vec<String> = NAMES.iter().map(|n| n.to_string()).collect();
    let generated = rcgen::generate_simple_self_signed(names)
        .map_err(|e| TlsError::plain(format!("self-signed certificate: {e}")))?;
    let fingerprint = sha256(generated.cert.der())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let identity = Identity {
        chain: Pem::Memory(generated.cert.pem().into_bytes()),
        key: Pem::Memory(generated.signing_key.serialize_pem().into_bytes()),
    };
    Ok((identity, fingerprint))
}

/// SHA-256 from the TLS provider (a TLS 1.3 suite's hash), so no hash crate is needed.
fn sha256(bytes: &[u8]) -> Vec<u8> {
    let suite = rustls::crypto::aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256;
    let tls13 = suite.tls13().expect("a TLS 1.3 suite");
    tls13.common.hash_provider.hash(bytes).as_ref().to_vec()
}
