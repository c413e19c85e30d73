//! The client address of a request: the socket's peer, or, when that peer is a trusted
//! reverse proxy (`portal serve --trusted-proxy ADDR`), the address the proxy names in its
//! header. Only the proxy's own entries are believed: a proxy appends the address it saw to
//! the end of `X-Forwarded-For` (or `Forwarded`), so the client is the last entry that is
//! not itself a trusted proxy; anything a client wrote into the header comes before it and
//! is never read.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// The header a trusted proxy names the client in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, ...` (nginx, HAProxy, most load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

impl std::str::FromStr for ProxyHeader {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ProxyHeader::XForwardedFor),
            "forwarded" => Ok(ProxyHeader::Forwarded),
            _ => Err(format!(
                "'{}' is not x-forwarded-for or forwarded",
                s.escape_debug()
            )),
        }
    }
}

/// Trusted reverse proxies and the header they name the client in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    /// The proxies' addresses (the socket peer a request comes from).
    pub addrs: Vec<IpAddr>,
    /// Which header they set.
    pub header: ProxyHeader,
}

/// One address of a header entry: `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]:4711`,
/// `192.0.2.1:4711`, optionally in quotes (`Forwarded`).
fn parse_addr(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            s.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.parse().ok())
        })
        .map(|a: IpAddr| a.to_canonical())
}

impl TrustedProxies {
    fn trusted(&self, a: IpAddr) -> bool {
        self.addrs.iter().any(|t| t.to_canonical() == a)
    }

    /// The entries of the configured header, first to last (every line of it, in order).
    fn entries(&self, headers: &HeaderMap) -> Vec<String> {
        let name = match self.header {
            ProxyHeader::XForwardedFor => "x-forwarded-for",
            ProxyHeader::Forwarded => "forwarded",
        };
        let mut out = Vec::new();
        for v in headers.get_all(name) {
            let Ok(v) = v.to_str() else {
                out.push(String::new());
                continue;
            };
            for e in v.split(',') {
                let e = match self.header {
                    ProxyHeader::XForwardedFor => e.trim().to_string(),
                    ProxyHeader::Forwarded => e
                        .split(';')
                        .filter_map(|kv| kv.split_once('='))
                        .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                        .map(|(_, v)| v.trim().to_string())
                        .unwrap_or_default(),
                };
                out.push(e);
            }
        }
        out
    }

    /// The client a request comes from: `peer` itself unless it is a trusted proxy; then the
    /// last entry of the header that is not a trusted proxy (`peer` when there is none, or
    /// when that entry is not an address: an `unknown` or obfuscated `Forwarded` node).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusted(peer) {
            return peer;
        }
        for e in self.entries(headers).iter().rev() {
            match parse_addr(e) {
                Some(a) if self.trusted(a) => continue,
                Some(a) => return a,
                None => return peer,
            }
        }
        peer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(name, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_proxys_own_entry_names_the_client() {
        let t = TrustedProxies {
            addrs: vec![ip("10.0.0.1"), ip("10.0.0.2")],
            header: ProxyHeader::XForwardedFor,
        };
        let h = headers("x-forwarded-for", &["6.6.6.6, 198.51.100.7"]);
        assert_eq!(
            t.client(ip("10.0.0.1"), &h),
            ip("198.51.100.7"),
            "the last hop"
        );
        let h = headers("x-forwarded-for", &["6.6.6.6", "198.51.100.7, 10.0.0.2"]);
        assert_eq!(
            t.client(ip("10.0.0.1"), &h),
            ip("198.51.100.7"),
            "a trusted proxy before it is skipped, lines read in order"
        );
        assert_eq!(
            t.client(ip("203.0.113.9"), &h),
            ip("203.0.113.9"),
            "a peer that is not trusted is the client, whatever it sends"
        );
        assert_eq!(t.client(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
        let h = headers("x-forwarded-for", &["198.51.100.7, garbage"]);
        assert_eq!(t.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        let mapped = ip("::ffff:10.0.0.1");
        let h = headers("x-forwarded-for", &["[2001:db8::7]:4711"]);
        assert_eq!(t.client(mapped, &h), ip("2001:db8::7"));
    }

    #[test]
    fn forwarded_is_read_when_configured() {
        let t = TrustedProxies {
            addrs: vec![ip("10.0.0.1")],
            header: ProxyHeader::Forwarded,
        };
        let h = headers(
            "forwarded",
            &["for=6.6.6.6, for=\"[2001:db8::1]:4711\";proto=https;by=10.0.0.1"],
        );
        assert_eq!(t.client(ip("10.0.0.1"), &h), ip("2001:db8::1"));
        let xff = headers("x-forwarded-for", &["198.51.100.7"]);
        assert_eq!(
            t.client(ip("10.0.0.1"), &xff),
            ip("10.0.0.1"),
            "the other header is not read"
        );
        let h = headers("forwarded", &["for=unknown"]);
        assert_eq!(t.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }
}
