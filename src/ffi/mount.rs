//! Static mounts: a directory served at a URL prefix, with its options.

use std::ffi::{c_char, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use super::result::*;
use super::server::{roost_server, routable, server_arg};
use super::strings::bytes_arg;
use super::versioned::{self, Layout};
use crate::StaticFiles;

/// How a static mount serves its files. Start from `roost_mount_options_init`, then change
/// what you need; like `roost_options`, it is versioned by `size`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct roost_mount_options {
    /// `sizeof(roost_mount_options)` as the caller compiled it.
    pub size: usize,
    /// A `Cache-Control` value sent with every file of the mount (200, 206 and 304), e.g.
    /// "max-age=3600"; `cache_control_len` bytes. NULL: none (the default).
    pub cache_control: *const c_char,
    pub cache_control_len: usize,
    /// List directories that have no index.html (an HTML page of their entries) instead
    /// of answering 404. Default false.
    pub listing: bool,
    /// How long, in milliseconds, each worker trusts what it found for a path (the file,
    /// its fields, the content of a small file) before looking again: a file changed on
    /// disk is served changed at most this long after, always with validators that match
    /// what is sent. Default 1000; 0 looks every file up for every request.
    pub revalidate_ms: u64,
}

/// The published layouts of roost_mount_options.
const LAYOUTS: [Layout; 2] = [
    Layout::ending_at::<roost_mount_options>(std::mem::offset_of!(
        roost_mount_options,
        revalidate_ms
    )),
    Layout::ending_at::<roost_mount_options>(std::mem::size_of::<roost_mount_options>()),
];

fn defaults() -> roost_mount_options {
    roost_mount_options {
        size: std::mem::size_of::<roost_mount_options>(),
        cache_control: std::ptr::null(),
        cache_control_len: 0,
        listing: false,
        revalidate_ms: crate::files::DEFAULT_REVALIDATE.as_millis() as u64,
    }
}

/// Fills `opts` with the defaults; `size` must be `sizeof *opts`.
///
/// # Safety
/// `opts` must be NULL or point to `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn roost_mount_options_init(
    opts: *mut roost_mount_options,
    size: usize,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: roost_mount_options is repr(C) with `size` first; `opts` per the contract.
        unsafe { versioned::init(opts, size, &LAYOUTS, defaults(), "roost_mount_options_init") }
    })
}

/// Serves the files under directory `dir` at URL `prefix` ("/" for the whole site,
/// "/static" for /static/...) with default options: GET and HEAD, index.html for
/// directories, validators, conditional requests and ranges, precompressed `.br`/`.gz`
/// forms, and no way out of the directory. Routes are tried first; a path no route matches
/// falls to the mount with the longest matching prefix.
///
/// Only while the server is not running (else `ROOST_ERR_STATE`). `ROOST_ERR_IO` if `dir`
/// cannot be opened as a directory, `ROOST_ERR_INVALID` for a bad prefix.
///
/// # Safety
/// `srv` must be NULL or a live handle; `prefix` and `dir` must point to `prefix_len` and
/// `dir_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn roost_server_static(
    srv: *mut roost_server,
    prefix: *const c_char,
    prefix_len: usize,
    dir: *const c_char,
    dir_len: usize,
) -> roost_result {
    // SAFETY: the same contract, with default options.
    unsafe { roost_server_static_with(srv, prefix, prefix_len, dir, dir_len, std::ptr::null()) }
}

/// Like `roost_server_static`, with options (NULL: the defaults). `ROOST_ERR_INVALID` for
/// a Cache-Control value that is not a valid field value.
///
/// # Safety
/// As for `roost_server_static`; `opts` must be NULL or point to a roost_mount_options set
/// up by `roost_mount_options_init` whose `cache_control` points to `cache_control_len`
/// readable bytes.
#[no_mangle]
pub unsafe extern "C" fn roost_server_static_with(
    srv: *mut roost_server,
    prefix: *const c_char,
    prefix_len: usize,
    dir: *const c_char,
    dir_len: usize,
    opts: *const roost_mount_options,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        const FUNC: &str = "roost_server_static";
        // SAFETY: `srv` is NULL or a live handle, per the contract.
        let server = match unsafe { server_arg(srv, FUNC) } {
            Ok(s) => s,
            Err(code) => return code,
        };
        let opts = if opts.is_null() {
            defaults()
        } else {
            // SAFETY: repr(C) with `size` first; `opts` per the contract.
            match unsafe { versioned::read(opts, &LAYOUTS, defaults(), FUNC) } {
                Ok(opts) => opts,
                Err(code) => return code,
            }
        };
        // SAFETY: the caller passes (pointer, length) pairs describing readable bytes.
        let (prefix, dir) = unsafe { (bytes_arg(prefix, prefix_len), bytes_arg(dir, dir_len)) };
        let (Some(prefix), Some(dir)) = (prefix, dir) else {
            return fail(ROOST_ERR_NULL, &format!("{FUNC}: prefix or dir is NULL"));
        };
        let Ok(prefix) = std::str::from_utf8(prefix) else {
            return fail(ROOST_ERR_INVALID, &format!("{FUNC}: prefix is not UTF-8"));
        };
        let mut files = match StaticFiles::new(OsStr::from_bytes(dir)) {
            Ok(files) => files
                .with_listing(opts.listing)
                .with_revalidation(Duration::from_millis(opts.revalidate_ms)),
            Err(e) => return fail(ROOST_ERR_IO, &format!("{FUNC}: {e}")),
        };
        if !opts.cache_control.is_null() {
            // SAFETY: per the contract, `cache_control` describes readable bytes.
            let value = unsafe { bytes_arg(opts.cache_control, opts.cache_control_len) };
            let value = value.and_then(|v| std::str::from_utf8(v).ok());
            files = match value.map(|v| files.with_cache_control(v)) {
                Some(Ok(files)) => files,
                _ => {
                    return fail(
                        ROOST_ERR_INVALID,
                        &format!("{FUNC}: cache_control is not a valid field value"),
                    )
                }
            };
        }
        finish(server, prefix, files)
    })
}

/// Registers the mount, if the server is not running.
fn finish(server: &roost_server, prefix: &str, files: StaticFiles) -> roost_result {
    const FUNC: &str = "roost_server_static";
    let mut state = match server.settled(FUNC) {
        Ok(state) => state,
        Err(code) => return code,
    };
    let Some(router) = routable(&mut state, FUNC) else {
        return ROOST_ERR_STATE;
    };
    match router.mount(prefix, files) {
        Ok(()) => ROOST_OK,
        Err(e) => fail(ROOST_ERR_INVALID, &format!("{FUNC}: {e}")),
    }
}
