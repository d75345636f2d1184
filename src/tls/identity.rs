//! Certificates, keys and CA bundles read from PEM, with errors that say which file and
//! what is wrong with it.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;

use super::{der, Identity, Pem, TlsError};

/// A certificate ready to serve, and the DNS names SNI chooses it by.
#[derive(Debug)]
pub struct Loaded {
    pub key: Arc<CertifiedKey>,
    pub names: Vec<String>,
}

fn certificates(pem: &Pem) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let text = pem.read()?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::new(pem, &format!("not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::new(
            pem,
            "no certificate in it (no BEGIN CERTIFICATE block)",
        ));
    }
    Ok(certs)
}

/// Reads the chain and the key of `identity` and checks that they belong together.
pub fn load(identity: &Identity, provider: &CryptoProvider) -> Result<Loaded, TlsError> {
    let chain = certificates(&identity.chain)?;
    let text = identity.key.read()?;
    let key = PrivateKeyDer::from_pem_slice(&text).map_err(|e| {
        let problem = match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "no private key in it (no BEGIN PRIVATE KEY block)".to_string()
            }
            e => format!("not valid PEM: {e}"),
        };
        TlsError::new(&identity.key, &problem)
    })?;
    let signer = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| TlsError::new(&identity.key, &format!("cannot use the key: {e}")))?;
    let names = der::dns_names(&chain[0]);
    let key = CertifiedKey::new(chain, signer);
    if key.keys_match().is_err() {
        return Err(TlsError::plain(format!(
            "{}: the key does not belong to the certificate in {}",
            identity.key.name(),
            identity.chain.name()
        )));
    }
    Ok(Loaded {
        key: Arc::new(key),
        names,
    })
}

/// The certificate authorities in a CA bundle.
pub fn load_roots(pem: &Pem) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(pem)? {
        roots
            .add(cert)
            .map_err(|e| TlsError::new(pem, &format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}
