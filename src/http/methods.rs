//! Methods: which ones HTTP defines (RFC 9110 §9), and the `Allow` answers (§10.2.1) that
//! both the router and the file server give, built in one place.

use super::response::Response;

/// Whether RFC 9110 or RFC 5789 defines `method`. Any other method a server has no route
/// for is one it does not implement: 501 (§15.6.2). Methods are case-sensitive.
pub fn is_standard(method: &str) -> bool {
    matches!(
        method,
        "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "CONNECT" | "OPTIONS" | "TRACE" | "PATCH"
    )
}

/// Answers with `status` (204 for OPTIONS, else 405) and an `Allow` field naming `methods`
/// once each, in the order given, plus HEAD where GET is allowed and OPTIONS, which is
/// always answered.
pub fn respond_allow<'m>(
    status: u16,
    methods: impl IntoIterator<Item = &'m str>,
    res: &mut Response,
) {
    let mut allowed: Vec<&str> = Vec::new();
    for method in methods {
        if !allowed.contains(&method) {
            allowed.push(method);
        }
    }
    for implied in ["HEAD", "OPTIONS"] {
        let needed = implied == "OPTIONS" || allowed.contains(&"GET");
        if needed && !allowed.contains(&implied) {
            allowed.push(implied);
        }
    }
    if status == 204 {
        let _ = res.set_status(204);
    } else {
        res.set_error(status);
    }
    res.push_header("Allow", &[allowed.join(", ").as_bytes()]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_once_with_head_and_options() {
        let allow = |methods: &[&str]| {
            let mut res = Response::new();
            respond_allow(405, methods.iter().copied(), &mut res);
            String::from_utf8(res.header_value("allow").unwrap().to_vec()).unwrap()
        };
        assert_eq!(allow(&["GET", "GET", "GET"]), "GET, HEAD, OPTIONS");
        assert_eq!(allow(&["POST"]), "POST, OPTIONS");
        assert_eq!(
            allow(&["GET", "PUT", "HEAD", "GET"]),
            "GET, PUT, HEAD, OPTIONS"
        );
    }
}
