//! Directory listings: an HTML page of a directory's entries, for mounts that ask for it.

use std::fs::File;

use super::url::{push_html_escaped, push_name_encoded, push_path_encoded};
use crate::http::Response;
use crate::sys::file::read_dir;

/// Answers with a listing of `dir`, whose URL path is `mount` + `/` + `relative` + `/`:
/// names HTML-escaped and links percent-encoded, directories first, then files, each
/// sorted by name; dotfiles left out, as the server hides them.
pub fn respond_listing(dir: File, mount: &[u8], relative: &[u8], res: &mut Response) {
    let Ok(mut entries) = read_dir(dir) else {
        return res.set_error(500);
    };
    entries.retain(|e| e.name.first() != Some(&b'.'));
    entries.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.name.cmp(&b.name)));

    let mut url_path = mount.to_vec();
    url_path.push(b'/');
    if !relative.is_empty() {
        push_path_encoded(&mut url_path, relative);
        url_path.push(b'/');
    }
    let shown_path = String::from_utf8_lossy(&url_path).into_owned();
    let mut page = Vec::with_capacity(256 + entries.len() * 64);
    page.extend_from_slice(
        b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ",
    );
    push_html_escaped(&mut page, &shown_path);
    page.extend_from_slice(b"</title></head>\n<body><h1>Index of ");
    push_html_escaped(&mut page, &shown_path);
    page.extend_from_slice(b"</h1>\n<ul>\n");
    if !relative.is_empty() {
        page.extend_from_slice(b"<li><a href=\"../\">../</a></li>\n");
    }
    for entry in &entries {
        let slash = if entry.is_dir { "/" } else { "" };
        page.extend_from_slice(b"<li><a href=\"");
        push_name_encoded(&mut page, &entry.name);
        page.extend_from_slice(slash.as_bytes());
        page.extend_from_slice(b"\">");
        push_html_escaped(&mut page, &String::from_utf8_lossy(&entry.name));
        page.extend_from_slice(slash.as_bytes());
        page.extend_from_slice(b"</a></li>\n");
    }
    page.extend_from_slice(b"</ul>\n</body></html>\n");
    res.push_header("Content-Type", &[b"text/html; charset=utf-8"]);
    res.set_body(&page);
}
