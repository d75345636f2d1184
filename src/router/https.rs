//! The answers a server gives on the plain-HTTP side of HTTPS: a redirect to the HTTPS
//! origin, and a readable refusal of plain HTTP sent to a TLS port.

use crate::http::{Handler, Request, Response};

/// Answers every request with 308 to the same path and query on HTTPS at `port` (the port
/// is left out when it is 443). 308, not 301: the method and body are kept (RFC 9110
/// §15.4.9), so a redirected POST stays a POST.
#[derive(Clone, Copy, Debug)]
pub struct RedirectToHttps {
    pub port: u16,
}

impl Handler for RedirectToHttps {
    fn handle(&self, req: &Request, res: &mut Response) {
        let Some(host) = request_host(req) else {
            res.set_error(400);
            return;
        };
        let mut location = format!("https://{host}");
        if self.port != 443 {
            location.push_str(&format!(":{}", self.port));
        }
        location.push_str(req.path());
        if let Some(query) = req.query() {
            location.push('?');
            location.push_str(query);
        }
        let _ = res.set_status(308);
        let _ = res.add_header("Location", location.as_bytes());
        let _ = res.add_header("Content-Type", b"text/plain; charset=utf-8");
        res.set_body(format!("308 Permanent Redirect: {location}\n").as_bytes());
    }
}

/// The host the client asked for, without its port: from an absolute target's authority,
/// else from Host. Only the characters of a reg-name or IP literal are let into Location.
fn request_host(req: &Request) -> Option<String> {
    let authority = req.authority().or_else(|| req.header("host"))?;
    let authority = std::str::from_utf8(authority).ok()?;
    let host = match authority.strip_prefix('[') {
        Some(rest) => &authority[..rest.find(']')? + 2],
        None => authority.split(':').next()?,
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~[]:".contains(c);
    (!host.is_empty() && host.chars().all(allowed)).then(|| host.to_string())
}

/// Answers a plain HTTP request that came to a TLS port: 400 with a body saying so, then
/// the connection closes (nginx answers so too, where a silent close would leave the user
/// guessing).
#[derive(Clone, Copy, Debug)]
pub struct PlainHttpOnTlsPort;

impl Handler for PlainHttpOnTlsPort {
    fn handle(&self, _req: &Request, res: &mut Response) {
        res.set_error(400);
        res.close_connection();
        res.set_body(
            b"400 Bad Request: this port speaks HTTPS, and a plain HTTP request was sent \
              to it. Use an https:// URL.\n",
        );
    }
}
