//! Path resolution: no path ever resolves to a name that could leave the document root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roost::files::resolve;
use roost::http::path::normalize;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(path) = normalize(raw) {
        for segment in &path.segments {
            assert!(!segment.contains(&0));
            // Not even read with its decoded slashes as separators is there a dot or
            // empty segment: a handler joining a parameter to a directory stays in it.
            for part in segment.split(|&b| b == b'/') {
                assert!(!part.is_empty() && part != b"." && part != b"..", "{raw:?}");
            }
        }
    }
    if let Ok(resolved) = resolve(raw) {
        let relative = &resolved.relative;
        assert!(!relative.starts_with(b"/"), "absolute: {relative:?}");
        assert!(!relative.contains(&0));
        // Empty is the root itself; otherwise every segment is a plain name.
        for segment in relative
            .split(|&b| b == b'/')
            .filter(|_| !relative.is_empty())
        {
            assert!(!segment.is_empty(), "empty segment in {relative:?}");
            assert!(segment[0] != b'.', "dot segment in {relative:?}");
        }
    }
});
