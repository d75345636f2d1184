//! Content-Type for a file name.

/// The media type for `name`, guessed from its extension by `mime_guess`, as the parts of a
/// field value: text types get `; charset=utf-8` (browsers would otherwise guess the
/// charset); unknown extensions are `application/octet-stream`.
pub fn content_type(name: &[u8]) -> [&'static [u8]; 2] {
    let file_name = name.rsplit(|&b| b == b'/').next().unwrap_or(name);
    let ext = match file_name.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot > 0 => std::str::from_utf8(&file_name[dot + 1..]).ok(),
        _ => None,
    };
    let mime = ext
        .and_then(|e| mime_guess::from_ext(e).first_raw())
        .unwrap_or("application/octet-stream");
    let charset: &[u8] = if mime.starts_with("text/") || mime == "application/javascript" {
        b"; charset=utf-8"
    } else {
        b""
    };
    [mime.as_bytes(), charset]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(name: &str) -> String {
        String::from_utf8(content_type(name.as_bytes()).concat()).unwrap()
    }

    #[test]
    fn types() {
        assert_eq!(joined("index.html"), "text/html; charset=utf-8");
        assert_eq!(joined("dir/a.TXT"), "text/plain; charset=utf-8");
        assert_eq!(joined("a.css"), "text/css; charset=utf-8");
        assert_eq!(joined("a.png"), "image/png");
        assert_eq!(joined("a.json"), "application/json");
        assert_eq!(joined("noext"), "application/octet-stream");
        assert_eq!(joined("a.unknownext"), "application/octet-stream");
        assert_eq!(joined("dir.d/noext"), "application/octet-stream");
    }
}
