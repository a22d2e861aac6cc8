//! Where credentials and tokens may go. A bearer token is only ever sent to the API origin the client was made
//! for, credentials only to the token URL, and plain `http://` only to loopback (tests and the emulator):
//! anything else would hand a token to whoever sits on the network path.

use std::net::IpAddr;
use ureq::http::Uri;

use crate::error::{Error, ErrorKind, Result};

/// scheme + host + port, normalised (lower case, default port made explicit) so that two spellings of the
/// same origin compare equal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
    text: String,
}

impl Origin {
    /// Parses a base URL such as `https://api.8x8.com` or `http://127.0.0.1:8080/eu/`. Returns the origin and
    /// the URL without its trailing slash, to which request paths are appended.
    pub fn parse_base(url: &str) -> Result<(Origin, String)> {
        let config = |m: String| Error::new(ErrorKind::Config, m);
        refuse_control_chars(url, "URL").map_err(|e| config(e.message().to_owned()))?;
        let uri: Uri = url
            .parse()
            .map_err(|_| config(format!("{url:?} is not a valid URL")))?;
        let origin = Origin::of(&uri).map_err(|e| config(e.message().to_owned()))?;
        if uri.query().is_some() || url.contains('#') {
            return Err(config(format!("{url:?} must not have a query or fragment")));
        }
        let path = uri.path().trim_end_matches('/');
        Ok((origin.clone(), format!("{}{}", origin.text, path)))
    }

    fn of(uri: &Uri) -> Result<Origin> {
        let scheme = uri.scheme_str().unwrap_or("").to_ascii_lowercase();
        let authority = uri
            .authority()
            .ok_or_else(|| Error::invalid("the URL has no host"))?;
        if authority.as_str().contains('@') {
            return Err(Error::invalid(
                "credentials in a URL are refused: they would be logged and sent in clear",
            ));
        }
        let host = authority.host().to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            other => {
                return Err(Error::invalid(format!(
                    "scheme {other:?} is not supported; use https"
                )))
            }
        };
        if scheme == "http" && !is_loopback_host(&host) {
            return Err(Error::invalid(format!(
                "http:// is only allowed for loopback hosts (tests, the emulator); use https for {host}"
            )));
        }
        let port = port_of(uri, default_port)?;
        let text = format!("{scheme}://{}", authority.as_str().to_ascii_lowercase());
        Ok(Origin {
            scheme,
            host,
            port,
            text,
        })
    }

    /// `scheme://authority` as configured, e.g. `https://api.8x8.com`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn same_as(&self, other: &Origin) -> bool {
        self.scheme == other.scheme && self.host == other.host && self.port == other.port
    }

    /// The absolute URL for a request path: relative paths are appended to `prefix`; an absolute URL is
    /// accepted only when it is on this origin.
    /// The URL a request for `path` goes to, parsed once here and handed to the transport as is.
    pub fn resolve(&self, prefix: &str, path: &str) -> Result<Uri> {
        refuse_control_chars(path, "path")?;
        if path.contains(' ') {
            return Err(Error::invalid(
                "the path contains a space; percent-encode it as %20",
            ));
        }
        let starts_with = |scheme: &str| {
            path.as_bytes()
                .get(..scheme.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(scheme.as_bytes()))
        };
        if starts_with("http://") || starts_with("https://") {
            let uri: Uri = path
                .parse()
                .map_err(|_| Error::invalid(format!("{path:?} is not a valid URL")))?;
            let origin = Origin::of(&uri)?;
            if !origin.same_as(self) {
                return Err(Error::invalid(format!(
                    "refusing to send the bearer token to {}: the client is bound to {}",
                    origin.text, self.text
                )));
            }
            return Ok(uri);
        }
        if path.contains("://") {
            return Err(Error::invalid(
                "only http and https URLs, or paths relative to the base URL, are accepted",
            ));
        }
        let mut url = String::with_capacity(prefix.len() + 1 + path.len());
        url.push_str(prefix);
        if !path.is_empty() && !path.starts_with('/') {
            url.push('/');
        }
        url.push_str(path);
        Uri::try_from(url)
            .map_err(|_| Error::invalid(format!("{path:?} does not form a valid URL")))
    }
}

/// An absolute URL that may be fetched without credentials (a presigned download link): `https`, or `http` on
/// loopback only; no user info; a valid port; no control characters or spaces.
pub fn check_fetch_url(url: &str) -> Result<Uri> {
    refuse_control_chars(url, "URL")?;
    if url.contains(' ') {
        return Err(Error::invalid(
            "the URL contains a space; percent-encode it as %20",
        ));
    }
    let uri: Uri = url
        .parse()
        .map_err(|_| Error::invalid("the URL is not a valid absolute http(s) URL"))?;
    Origin::of(&uri)?;
    Ok(uri)
}

/// The URL's port, or the scheme's default when it names none. A port that is not a number in 1..=65535
/// (`:99999`, `:abc`, `:-1`, `:0`) is refused: taking the default instead would send the Basic credentials to
/// port 80 or 443 of the host, which nobody asked for.
pub fn port_of(uri: &Uri, default_port: u16) -> Result<u16> {
    // Read from the authority's text: the URL type's own port accessor answers "no port" for one that does
    // not parse, which is how `:99999` used to become port 80.
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or("");
    let host_end = match authority.rfind(']') {
        Some(bracket) => bracket + 1,
        None => 0,
    };
    let Some(colon) = authority[host_end..].rfind(':') else {
        return Ok(default_port);
    };
    let text = &authority[host_end + colon + 1..];
    if text.is_empty() {
        // `host:` with nothing after it means the default port (RFC 3986 §6.2.3).
        return Ok(default_port);
    }
    match text.parse::<u16>() {
        Ok(n) if n != 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(Error::invalid(format!(
            "port {text:?} is not a port number (1 to 65535)"
        ))),
    }
}

pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// CR, LF and NUL would let text split an HTTP message (header injection); other control characters are
/// never legitimate in a method, path or header either.
pub fn refuse_control_chars(text: &str, what: &str) -> Result<()> {
    // Nearly every path and header is printable ASCII: check that byte-wise first (the per-request cost), and
    // look for which character is wrong only when it is not.
    if text
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) || b == b'\t')
    {
        return Ok(());
    }
    match text.chars().find(|c| c.is_control() && *c != '\t') {
        None => Ok(()),
        Some('\r') | Some('\n') => Err(Error::invalid(format!(
            "the {what} contains CR or LF (header injection)"
        ))),
        Some('\0') => Err(Error::invalid(format!("the {what} contains a NUL byte"))),
        Some(_) => Err(Error::invalid(format!(
            "the {what} contains a control character"
        ))),
    }
}

pub fn is_header_value_safe(value: &str) -> bool {
    refuse_control_chars(value, "header").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(url: &str) -> (Origin, String) {
        Origin::parse_base(url).unwrap()
    }

    #[test]
    fn http_only_on_loopback() {
        for ok in [
            "http://127.0.0.1:1",
            "http://localhost:8080",
            "http://[::1]:9",
            "http://127.1.2.3",
            "https://api.8x8.com",
        ] {
            assert!(Origin::parse_base(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.8x8.com",
            "http://10.0.0.1",
            "http://192.168.1.1:80",
            "http://localhost.evil.com",
        ] {
            assert!(Origin::parse_base(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_ports_that_are_not_port_numbers_and_names_them() {
        for port in ["99999", "65536", "abc", "-1", "0", "+80", "8080a"] {
            for url in [
                format!("http://127.0.0.1:{port}"),
                format!("https://api.8x8.com:{port}/x"),
            ] {
                match Origin::parse_base(&url) {
                    Ok(o) => panic!("{url} accepted as {o:?}"),
                    Err(e) => {
                        assert_eq!(e.kind(), ErrorKind::Config, "{url}");
                        assert!(e.message().contains(port), "{url}: {}", e.message());
                    }
                }
            }
        }
        assert_eq!(origin("http://127.0.0.1:65535").0.port, 65535);
        assert_eq!(origin("http://127.0.0.1").0.port, 80);
        let (o, p) = origin("https://api.8x8.com");
        assert!(o.resolve(&p, "https://api.8x8.com:99999/x").is_err());
    }

    #[test]
    fn refuses_userinfo_queries_and_other_schemes() {
        for bad in [
            "https://u:p@api.8x8.com",
            "https://api.8x8.com/?a=b",
            "ftp://api.8x8.com",
            "api.8x8.com",
            "",
            "https://api.8x8.com/\r\n",
        ] {
            assert!(Origin::parse_base(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn resolves_relative_paths_against_the_prefix() {
        let (o, p) = origin("https://api.8x8.com/eu/");
        assert_eq!(
            o.resolve(&p, "/analytics/cc/v5/x?page=1")
                .unwrap()
                .to_string(),
            "https://api.8x8.com/eu/analytics/cc/v5/x?page=1"
        );
        assert_eq!(
            o.resolve(&p, "analytics").unwrap().to_string(),
            "https://api.8x8.com/eu/analytics"
        );
    }

    #[test]
    fn absolute_urls_must_stay_on_the_origin() {
        let (o, p) = origin("https://api.8x8.com");
        assert!(o
            .resolve(&p, "https://API.8x8.com:443/storage/uk/v3")
            .is_ok());
        for bad in [
            "https://evil.example/steal",
            "http://api.8x8.com/x",
            "https://api.8x8.com:8443/x",
            "https://api.8x8.com.evil.example/x",
            "HTTPS://evil.example/",
            "javascript://x",
        ] {
            let e = o.resolve(&p, bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn refuses_header_injection_in_paths() {
        let (o, p) = origin("https://api.8x8.com");
        for bad in ["/a\r\nX-Evil: 1", "/a\nb", "/a\0b", "/a b"] {
            assert!(o.resolve(&p, bad).is_err(), "{bad:?}");
        }
    }
}
