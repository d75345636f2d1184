//! Choosing a certificate by the name the client asks for (SNI, RFC 6066 §3).

use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::identity::Loaded;

/// The certificates of a server; the first is the default.
#[derive(Debug)]
pub struct Resolver {
    identities: Vec<Loaded>,
}

impl Resolver {
    /// `identities` must not be empty.
    pub fn new(identities: Vec<Loaded>) -> Resolver {
        assert!(!identities.is_empty());
        Resolver { identities }
    }

    /// The certificate for `name`: the first with that exact DNS name, else the first with
    /// a wildcard matching it (`*.example.com` covers one label, RFC 6125 §6.4.3), else the
    /// default.
    fn choose(&self, name: Option<&str>) -> &Arc<CertifiedKey> {
        let default = &self.identities[0].key;
        let Some(name) = name.map(str::to_ascii_lowercase) else {
            return default;
        };
        let named = |exact: bool| {
            self.identities.iter().find(|id| {
                id.names.iter().any(|n| match n.strip_prefix("*.") {
                    Some(parent) if !exact => name
                        .split_once('.')
                        .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
                    _ => exact && *n == name,
                })
            })
        };
        named(true)
            .or_else(|| named(false))
            .map_or(default, |id| &id.key)
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.choose(hello.server_name()).clone())
    }
}
