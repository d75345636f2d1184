//! What a handler may know about the TLS connection a request came over.

/// The TLS side of a connection, fixed when its handshake finished.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// "TLSv1.3" or "TLSv1.2" (as OpenSSL and nginx's `$ssl_protocol` name them).
    pub version: &'static str,
    /// The cipher suite's IANA name, e.g. "TLS_AES_128_GCM_SHA256".
    pub cipher: String,
    /// The host name the client asked for (SNI), if it sent one.
    pub server_name: Option<String>,
    /// The protocol agreed by ALPN ("http/1.1"), if the client offered any.
    pub alpn: Option<String>,
    /// The subject of the certificate the client presented and the server verified, in
    /// RFC 4514 form ("CN=alice,O=Example"); None if it sent none.
    pub client_subject: Option<String>,
}
