//! HTTPS from C: the server's certificates and client authentication, its listeners, and
//! reloading.

use std::ffi::c_char;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::options::parse_host;
use super::result::*;
use super::server::{configurable, roost_server, server_arg};
use super::strings::bytes_arg;
use super::versioned::{self, Layout};
use crate::server::Listen;
use crate::tls::{ClientAuth, Identity, MinVersion, Pem, Tls, TlsSettings};

/// Clients are not asked for a certificate (`roost_tls_options.client_auth`).
pub const ROOST_CLIENT_AUTH_OFF: u32 = 0;
/// Clients are asked; one that sends a certificate must send a valid one.
pub const ROOST_CLIENT_AUTH_OPTIONAL: u32 = 1;
/// A handshake without a valid client certificate fails.
pub const ROOST_CLIENT_AUTH_REQUIRED: u32 = 2;
/// TLS 1.2, by its number on the wire (`roost_tls_options.min_version`).
pub const ROOST_TLS_1_2: u32 = 0x0303;
/// TLS 1.3.
pub const ROOST_TLS_1_3: u32 = 0x0304;
/// A listener serves HTTPS (`roost_options.listen_flags`, `roost_server_listen`).
pub const ROOST_LISTEN_TLS: u32 = 1;
/// A plain listener answers every request with 308 to the same path and query on the
/// server's first TLS listener.
pub const ROOST_LISTEN_REDIRECT_HTTPS: u32 = 2;

/// A certificate and its key, and how clients are checked. Start from
/// `roost_tls_options_init`; versioned by `size` like `roost_options`. Each text is
/// (pointer, length), no NUL needed, copied by the call it is passed to.
///
/// The certificate chain (leaf first, then intermediates) and the private key are PEM,
/// each either a file (`cert_file`, `key_file`) or text in memory (`cert_pem`, `key_pem`);
/// a file is read again by `roost_server_reload_tls`. The key may be PKCS#8, PKCS#1 (RSA)
/// or SEC1 (EC).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct roost_tls_options {
    /// `sizeof(roost_tls_options)` as the caller compiled it.
    pub size: usize,
    pub cert_file: *const c_char,
    pub cert_file_len: usize,
    pub key_file: *const c_char,
    pub key_file_len: usize,
    pub cert_pem: *const c_char,
    pub cert_pem_len: usize,
    pub key_pem: *const c_char,
    pub key_pem_len: usize,
    /// The CA certificates (PEM) client certificates must chain to, as a file or in memory.
    pub client_ca_file: *const c_char,
    pub client_ca_file_len: usize,
    pub client_ca_pem: *const c_char,
    pub client_ca_pem_len: usize,
    /// `ROOST_CLIENT_AUTH_OFF` (the default), `_OPTIONAL` or `_REQUIRED`; the last two need
    /// a client CA.
    pub client_auth: u32,
    /// The oldest version accepted: `ROOST_TLS_1_2` (the default) or `ROOST_TLS_1_3`.
    pub min_version: u32,
}

const LAYOUTS: [Layout; 1] = [Layout::ending_at::<roost_tls_options>(std::mem::size_of::<
    roost_tls_options,
>())];

fn defaults() -> roost_tls_options {
    roost_tls_options {
        size: std::mem::size_of::<roost_tls_options>(),
        cert_file: std::ptr::null(),
        cert_file_len: 0,
        key_file: std::ptr::null(),
        key_file_len: 0,
        cert_pem: std::ptr::null(),
        cert_pem_len: 0,
        key_pem: std::ptr::null(),
        key_pem_len: 0,
        client_ca_file: std::ptr::null(),
        client_ca_file_len: 0,
        client_ca_pem: std::ptr::null(),
        client_ca_pem_len: 0,
        client_auth: ROOST_CLIENT_AUTH_OFF,
        min_version: ROOST_TLS_1_2,
    }
}

/// Fills `opts` with the defaults (no certificate, no client authentication, TLS 1.2 and
/// up); `size` must be `sizeof *opts`.
///
/// `ROOST_ERR_NULL` if `opts` is NULL, `ROOST_ERR_INVALID` for a size this library does
/// not know.
///
/// # Safety
/// `opts` must be NULL or point to `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn roost_tls_options_init(
    opts: *mut roost_tls_options,
    size: usize,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: roost_tls_options is repr(C) with `size` first; `opts` per the contract.
        unsafe { versioned::init(opts, size, &LAYOUTS, defaults(), "roost_tls_options_init") }
    })
}

/// One PEM source from a (file, memory) pair of views; None when neither is set.
///
/// # Safety
/// Each pointer must be NULL or point to its length in readable bytes.
unsafe fn pem(
    what: &str,
    file: (*const c_char, usize),
    memory: (*const c_char, usize),
) -> Result<Option<Pem>, String> {
    // SAFETY: per the contract.
    let file = unsafe { bytes_arg(file.0, file.1) }.ok_or(format!("{what}_file is NULL"))?;
    // SAFETY: per the contract.
    let memory = unsafe { bytes_arg(memory.0, memory.1) }.ok_or(format!("{what}_pem is NULL"))?;
    match (file.is_empty(), memory.is_empty()) {
        (true, true) => Ok(None),
        (false, true) => {
            let path =
                std::str::from_utf8(file).map_err(|_| format!("{what}_file is not UTF-8"))?;
            Ok(Some(Pem::File(PathBuf::from(path))))
        }
        (true, false) => Ok(Some(Pem::Memory(memory.to_vec()))),
        (false, false) => Err(format!("{what}_file and {what}_pem are both set")),
    }
}

/// The certificate and key of `opts`.
///
/// # Safety
/// As for `pem`, for every view in `opts`.
unsafe fn identity(opts: &roost_tls_options) -> Result<Identity, String> {
    // SAFETY: per the contract.
    let chain = unsafe {
        pem(
            "cert",
            (opts.cert_file, opts.cert_file_len),
            (opts.cert_pem, opts.cert_pem_len),
        )
    }?;
    // SAFETY: per the contract.
    let key = unsafe {
        pem(
            "key",
            (opts.key_file, opts.key_file_len),
            (opts.key_pem, opts.key_pem_len),
        )
    }?;
    match (chain, key) {
        (Some(chain), Some(key)) => Ok(Identity { chain, key }),
        _ => Err("a certificate and its key are both needed (cert_file or cert_pem, key_file or key_pem)".into()),
    }
}

/// Reads a caller's options for a call on `srv`, or fails naming `func` (NULL `srv` first,
/// as every call on a server does).
///
/// # Safety
/// `opts` must be NULL or a roost_tls_options of its stated size.
unsafe fn read(
    srv: *mut roost_server,
    opts: *const roost_tls_options,
    func: &str,
) -> Result<roost_tls_options, roost_result> {
    if srv.is_null() {
        return Err(fail(ROOST_ERR_NULL, &format!("{func}: srv is NULL")));
    }
    if opts.is_null() {
        return Err(fail(ROOST_ERR_NULL, &format!("{func}: opts is NULL")));
    }
    // SAFETY: per the contract.
    unsafe { versioned::read(opts, &LAYOUTS, defaults(), func) }
}

/// Sets up the server's TLS: `opts` gives its first certificate (the default, for clients
/// that ask for no name or for one no certificate has), how clients are checked, and the
/// oldest version accepted. Files are read now: a bad one is `ROOST_ERR_INVALID` with a
/// last error naming it and saying what is wrong. Replaces TLS set up before (and the
/// certificates added to it). Before `roost_server_start`; which listeners serve TLS is
/// `roost_options.listen_flags` and `roost_server_listen`.
///
/// # Safety
/// `srv` must be NULL or a live handle; `opts` NULL or set up by `roost_tls_options_init`,
/// its views pointing to their lengths in readable bytes.
#[no_mangle]
pub unsafe extern "C" fn roost_server_tls(
    srv: *mut roost_server,
    opts: *const roost_tls_options,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        const FUNC: &str = "roost_server_tls";
        // SAFETY: per the contract.
        let opts = match unsafe { read(srv, opts, FUNC) } {
            Ok(opts) => opts,
            Err(code) => return code,
        };
        // SAFETY: the views of `opts` are readable, per the contract.
        let settings = match unsafe { settings(&opts) } {
            Ok(settings) => settings,
            Err(message) => return fail(ROOST_ERR_INVALID, &format!("{FUNC}: {message}")),
        };
        // SAFETY: per the contract.
        unsafe { install(srv, FUNC, settings) }
    })
}

/// The settings `opts` asks for, with its certificate as the first.
///
/// # Safety
/// As for `pem`, for every view in `opts`.
unsafe fn settings(opts: &roost_tls_options) -> Result<TlsSettings, String> {
    // SAFETY: per the contract.
    let identity = unsafe { identity(opts) }?;
    // SAFETY: per the contract.
    let client_ca = unsafe {
        pem(
            "client_ca",
            (opts.client_ca_file, opts.client_ca_file_len),
            (opts.client_ca_pem, opts.client_ca_pem_len),
        )
    }?;
    let client_auth = match opts.client_auth {
        ROOST_CLIENT_AUTH_OFF => ClientAuth::Off,
        ROOST_CLIENT_AUTH_OPTIONAL => ClientAuth::Optional,
        ROOST_CLIENT_AUTH_REQUIRED => ClientAuth::Required,
        other => {
            return Err(format!(
                "client_auth {other} is not a ROOST_CLIENT_AUTH_* value"
            ))
        }
    };
    let min_version = match opts.min_version {
        ROOST_TLS_1_2 => MinVersion::Tls12,
        ROOST_TLS_1_3 => MinVersion::Tls13,
        other => {
            return Err(format!(
                "min_version {other:#x} is not ROOST_TLS_1_2 or ROOST_TLS_1_3"
            ))
        }
    };
    Ok(TlsSettings {
        identities: vec![identity],
        client_ca,
        client_auth,
        min_version,
    })
}

/// Loads `settings` and makes them the server's TLS.
///
/// # Safety
/// `srv` must be NULL or a live handle.
unsafe fn install(srv: *mut roost_server, func: &str, settings: TlsSettings) -> roost_result {
    // SAFETY: per the contract.
    let server = match unsafe { server_arg(srv, func) } {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut state = match configurable(server, func) {
        Ok(state) => state,
        Err(code) => return code,
    };
    match Tls::new(settings) {
        Ok(tls) => {
            state.config_mut().tls = Some(Arc::new(tls));
            ROOST_OK
        }
        Err(e) => fail(ROOST_ERR_INVALID, &format!("{func}: {e}")),
    }
}

/// Adds a certificate, chosen for the clients that ask (by SNI) for one of the DNS names
/// in it (its subjectAltName, `*.example.com` covering one label). Only the certificate
/// and key of `opts` are read. After `roost_server_tls`, before `roost_server_start`.
///
/// # Safety
/// As for `roost_server_tls`.
#[no_mangle]
pub unsafe extern "C" fn roost_server_add_certificate(
    srv: *mut roost_server,
    opts: *const roost_tls_options,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        const FUNC: &str = "roost_server_add_certificate";
        // SAFETY: per the contract.
        let opts = match unsafe { read(srv, opts, FUNC) } {
            Ok(opts) => opts,
            Err(code) => return code,
        };
        // SAFETY: the views of `opts` are readable, per the contract.
        let identity = match unsafe { identity(&opts) } {
            Ok(identity) => identity,
            Err(message) => return fail(ROOST_ERR_INVALID, &format!("{FUNC}: {message}")),
        };
        // SAFETY: per the contract.
        let server = match unsafe { server_arg(srv, FUNC) } {
            Ok(s) => s,
            Err(code) => return code,
        };
        let mut settings = {
            let mut state = match configurable(server, FUNC) {
                Ok(state) => state,
                Err(code) => return code,
            };
            match &state.config_mut().tls {
                Some(tls) => tls.settings(),
                None => {
                    return fail(
                        ROOST_ERR_STATE,
                        &format!("{FUNC}: call roost_server_tls first"),
                    )
                }
            }
        };
        settings.identities.push(identity);
        // SAFETY: per the contract.
        unsafe { install(srv, FUNC, settings) }
    })
}

/// Adds a listener on `host` (as `roost_options.host`) and `port` (0 picks a free one:
/// see `roost_server_listener_port`), beside the one of `roost_options`. `flags`:
/// `ROOST_LISTEN_TLS` for HTTPS (after `roost_server_tls`), `ROOST_LISTEN_REDIRECT_HTTPS`
/// for a plain listener that redirects to the first TLS one, or 0. At most 63 listeners
/// are added. Before `roost_server_start`.
///
/// # Safety
/// `srv` must be NULL or a live handle; `host` must point to `host_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn roost_server_listen(
    srv: *mut roost_server,
    host: *const c_char,
    host_len: usize,
    port: u16,
    flags: u32,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        const FUNC: &str = "roost_server_listen";
        // SAFETY: per the contract.
        let server = match unsafe { server_arg(srv, FUNC) } {
            Ok(s) => s,
            Err(code) => return code,
        };
        // SAFETY: per the contract.
        let ip = match unsafe { parse_host(host, host_len) } {
            Ok(ip) => ip,
            Err(message) => return fail(ROOST_ERR_INVALID, &format!("{FUNC}: {message}")),
        };
        let listen = match listen_of(SocketAddr::new(ip, port), flags) {
            Ok(listen) => listen,
            Err(message) => return fail(ROOST_ERR_INVALID, &format!("{FUNC}: {message}")),
        };
        let mut state = match configurable(server, FUNC) {
            Ok(state) => state,
            Err(code) => return code,
        };
        let config = state.config_mut();
        if config.listen.len() >= MAX_LISTENERS {
            return fail(
                ROOST_ERR_INVALID,
                &format!("{FUNC}: at most {MAX_LISTENERS} listeners"),
            );
        }
        config.listen.push(listen);
        ROOST_OK
    })
}

/// The most listeners a server has, the options' one included.
const MAX_LISTENERS: usize = 64;

/// The listener at `addr` with `flags` (`ROOST_LISTEN_*`).
pub(super) fn listen_of(addr: SocketAddr, flags: u32) -> Result<Listen, String> {
    if flags & !(ROOST_LISTEN_TLS | ROOST_LISTEN_REDIRECT_HTTPS) != 0 {
        return Err(format!(
            "flags {flags:#x} has bits that are not ROOST_LISTEN_*"
        ));
    }
    let tls = flags & ROOST_LISTEN_TLS != 0;
    let redirect_https = flags & ROOST_LISTEN_REDIRECT_HTTPS != 0;
    if tls && redirect_https {
        return Err("a TLS listener cannot redirect to HTTPS".into());
    }
    Ok(Listen {
        addr,
        tls,
        redirect_https,
    })
}

/// Reads the certificate, key and CA files of the server's TLS again: handshakes from now
/// on use them, connections already open keep theirs. On an error (`ROOST_ERR_INVALID`,
/// the last error naming the file) the certificates in use stay. Certificates given in
/// memory stay as they were. Any thread may call it, a handler too, while the server runs
/// or not.
///
/// `ROOST_ERR_STATE` when the server has no TLS.
///
/// # Safety
/// `srv` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn roost_server_reload_tls(srv: *mut roost_server) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        const FUNC: &str = "roost_server_reload_tls";
        // SAFETY: per the contract.
        let server = match unsafe { server_arg(srv, FUNC) } {
            Ok(s) => s,
            Err(code) => return code,
        };
        let Some(tls) = server.tls() else {
            return fail(ROOST_ERR_STATE, &format!("{FUNC}: the server has no TLS"));
        };
        match tls.reload() {
            Ok(()) => ROOST_OK,
            Err(e) => fail(ROOST_ERR_INVALID, &format!("{FUNC}: {e}")),
        }
    })
}
