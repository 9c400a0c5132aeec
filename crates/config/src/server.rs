//! `[server]`: the HTTP server (API, dashboard, kiosk).

use crate::ConfigError;
use serde::{Deserialize, Serialize};

/// The HTTP server (API and dashboard).
///
/// The server speaks plain HTTP; put a TLS reverse proxy (nginx, Caddy) in front of it for
/// anything beyond one machine, set `public_base_url` to the `https://` address people use,
/// and session cookies get the `Secure` flag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// The address people reach the dashboard at, e.g. `https://hanhchinh.example.gov.vn`
    /// behind a reverse proxy; used for links in alerts and to decide `Secure` cookies.
    /// Empty: `http://<bind>`.
    #[serde(default)]
    pub public_base_url: String,
    /// The folder of the dashboard's static files (HTML, CSS, JS, the vendored chart library,
    /// the kiosk page). Relative paths are taken from the working directory.
    #[serde(default = "default_dashboards_dir")]
    pub dashboards_dir: String,
    /// Whether session cookies carry `Secure` (sent only over HTTPS): `auto` (when
    /// `public_base_url` starts with `https://`), `always` or `never`.
    #[serde(default)]
    pub secure_cookies: SecureCookies,
    /// A login session ends after this many hours without a request.
    #[serde(default = "default_session_idle_h")]
    pub session_idle_h: f64,
    /// A login session ends this many days after login whatever happens (a wall screen logs in
    /// again then).
    #[serde(default = "default_session_max_days")]
    pub session_max_days: f64,
    /// Failed logins allowed per client address and username within `login_window_s`; then
    /// that pair is refused (429) until the window passes. A client address gets four times
    /// as many failures across all usernames.
    #[serde(default = "default_login_max_failures")]
    pub login_max_failures: u32,
    /// The window of `login_max_failures`, seconds.
    #[serde(default = "default_login_window_s")]
    pub login_window_s: f64,
    /// Addresses (`"10.0.0.5"`) or networks (`"10.0.0.0/24"`, `"fd00::/8"`) of reverse proxies
    /// in front of the server. Only a request from one of them has its client address taken
    /// from `X-Forwarded-For` (the rightmost hop that is not a trusted proxy); from anyone else
    /// the header is ignored, so a client cannot pick its own address to dodge the login
    /// limit. Empty (the default): the socket's address always.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Replaced by `trusted_proxies`; still read so an old config gets a clear error.
    #[serde(default, skip_serializing)]
    pub trust_forwarded_for: bool,
    /// Seconds between keep-alive comments on the live stream (`/api/v1/live`).
    #[serde(default = "default_sse_keepalive_s")]
    pub sse_keepalive_s: f64,
    /// Live streams (`/api/v1/live`) open at once; one more is refused (503) until one closes.
    #[serde(default = "default_sse_max_clients")]
    pub sse_max_clients: u32,
    /// Connections served at once; more wait in the listen queue until one closes (a client
    /// that opens hundreds of idle connections cannot exhaust the server).
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// A request's headers must arrive within this many seconds of the connection being ready
    /// for it, or the connection is closed (slow-header attacks; idle keep-alive connections
    /// end then too).
    #[serde(default = "default_header_timeout_s")]
    pub header_timeout_s: f64,
    /// A request (its body and the answer's start) must be done within this many seconds, or
    /// it is answered 408 (slow bodies). Live streams only need to start within it.
    #[serde(default = "default_request_timeout_s")]
    pub request_timeout_s: f64,
}

/// When session cookies carry the `Secure` flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecureCookies {
    /// When `public_base_url` is `https://...`.
    #[default]
    Auto,
    /// Always (the dashboard is only reached over HTTPS).
    Always,
    /// Never (plain HTTP on a closed LAN).
    Never,
}

fn default_bind() -> String {
    "127.0.0.1:8080".into()
}
fn default_dashboards_dir() -> String {
    "dashboards".into()
}
fn default_session_idle_h() -> f64 {
    12.0
}
fn default_session_max_days() -> f64 {
    30.0
}
fn default_login_max_failures() -> u32 {
    5
}
fn default_login_window_s() -> f64 {
    900.0
}
fn default_sse_keepalive_s() -> f64 {
    15.0
}
fn default_sse_max_clients() -> u32 {
    1000
}
fn default_max_connections() -> u32 {
    1500
}
fn default_header_timeout_s() -> f64 {
    10.0
}
fn default_request_timeout_s() -> f64 {
    60.0
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: default_bind(),
            public_base_url: String::new(),
            dashboards_dir: default_dashboards_dir(),
            secure_cookies: SecureCookies::default(),
            session_idle_h: default_session_idle_h(),
            session_max_days: default_session_max_days(),
            login_max_failures: default_login_max_failures(),
            login_window_s: default_login_window_s(),
            trusted_proxies: Vec::new(),
            trust_forwarded_for: false,
            sse_keepalive_s: default_sse_keepalive_s(),
            sse_max_clients: default_sse_max_clients(),
            max_connections: default_max_connections(),
            header_timeout_s: default_header_timeout_s(),
            request_timeout_s: default_request_timeout_s(),
        }
    }
}

/// A parsed `trusted_proxies` entry: an address and its prefix length.
fn parse_proxy(entry: &str) -> Option<(std::net::IpAddr, u32)> {
    let (addr, bits) = match entry.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u32>().ok()?)),
        None => (entry, None),
    };
    let ip: std::net::IpAddr = addr.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((ip, bits))
}

fn in_network(ip: std::net::IpAddr, net: std::net::IpAddr, bits: u32) -> bool {
    use std::net::IpAddr;
    let ip = match (ip, net) {
        (IpAddr::V6(v6), IpAddr::V4(_)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        _ => ip,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl ServerConfig {
    /// Whether `ip` is one of `trusted_proxies` (entries that do not parse match nothing; the
    /// config check reports them).
    pub fn is_trusted_proxy(&self, ip: std::net::IpAddr) -> bool {
        self.trusted_proxies
            .iter()
            .filter_map(|e| parse_proxy(e))
            .any(|(net, bits)| in_network(ip, net, bits))
    }

    /// The `trusted_proxies` entries that are not an address or a network.
    pub fn bad_proxies(&self) -> Vec<(usize, String)> {
        self.trusted_proxies
            .iter()
            .enumerate()
            .filter(|(_, e)| parse_proxy(e).is_none())
            .map(|(i, e)| (i, e.clone()))
            .collect()
    }

    /// The base address for links: `public_base_url` without a trailing `/`, or
    /// `http://<bind>`.
    pub fn base_url(&self) -> String {
        if self.public_base_url.is_empty() {
            format!("http://{}", self.bind)
        } else {
            self.public_base_url.trim_end_matches('/').to_string()
        }
    }

    /// Whether session cookies get the `Secure` flag.
    pub fn cookies_secure(&self) -> bool {
        match self.secure_cookies {
            SecureCookies::Always => true,
            SecureCookies::Never => false,
            SecureCookies::Auto => self.public_base_url.starts_with("https://"),
        }
    }

    /// Adds this section's semantic errors to `errors`.
    pub(crate) fn check(&self, errors: &mut Vec<ConfigError>) {
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            errors.push(ConfigError::new(
                "server.bind",
                format!(
                    "'{}' is not an address:port such as 127.0.0.1:8080 or [::]:8080",
                    self.bind
                ),
            ));
        }
        let url = &self.public_base_url;
        if !url.is_empty()
            && !((url.starts_with("http://") || url.starts_with("https://"))
                && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty())
                && !url.contains(char::is_whitespace))
        {
            errors.push(ConfigError::new(
                "server.public_base_url",
                format!("'{url}' is not an http:// or https:// address"),
            ));
        }
        if self.dashboards_dir.trim().is_empty() {
            errors.push(ConfigError::new("server.dashboards_dir", "empty"));
        }
        for (path, v) in [
            ("server.session_idle_h", self.session_idle_h),
            ("server.session_max_days", self.session_max_days),
            ("server.login_window_s", self.login_window_s),
            ("server.sse_keepalive_s", self.sse_keepalive_s),
            ("server.header_timeout_s", self.header_timeout_s),
            ("server.request_timeout_s", self.request_timeout_s),
        ] {
            if !(v.is_finite() && v > 0.0) {
                errors.push(ConfigError::new(
                    path,
                    format!("{v} must be a positive number"),
                ));
            }
        }
        for (i, e) in self.bad_proxies() {
            errors.push(ConfigError::new(
                format!("server.trusted_proxies[{i}]"),
                format!("'{e}' is not an address (10.0.0.5) or a network (10.0.0.0/24)"),
            ));
        }
        if self.trust_forwarded_for {
            errors.push(ConfigError::new(
                "server.trust_forwarded_for",
                "replaced by trusted_proxies = [\"<your proxy's address>\"]: X-Forwarded-For is \
                 believed only from those addresses",
            ));
        }
        for (path, v) in [
            ("server.sse_max_clients", self.sse_max_clients),
            ("server.max_connections", self.max_connections),
        ] {
            if v == 0 {
                errors.push(ConfigError::new(
                    path,
                    "0 would serve nobody; use at least 1",
                ));
            }
        }
        if self.login_max_failures == 0 {
            errors.push(ConfigError::new(
                "server.login_max_failures",
                "0 would refuse every login; use at least 1",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(c: &ServerConfig) -> Vec<String> {
        let mut e = Vec::new();
        c.check(&mut e);
        e.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn defaults_are_valid_and_parse_from_an_empty_section() {
        let c: ServerConfig = toml::from_str("").unwrap();
        assert_eq!(c, ServerConfig::default());
        assert!(errors(&c).is_empty());
        assert_eq!(c.base_url(), "http://127.0.0.1:8080");
        assert!(!c.cookies_secure());
    }

    #[test]
    fn trusted_proxies_match_addresses_and_networks() {
        let c = ServerConfig {
            trusted_proxies: vec![
                "10.0.0.5".into(),
                "192.168.1.0/24".into(),
                "fd00::/8".into(),
            ],
            ..ServerConfig::default()
        };
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(c.is_trusted_proxy(ip("10.0.0.5")));
        assert!(!c.is_trusted_proxy(ip("10.0.0.6")));
        assert!(c.is_trusted_proxy(ip("192.168.1.200")));
        assert!(!c.is_trusted_proxy(ip("192.168.2.1")));
        assert!(c.is_trusted_proxy(ip("fd12::1")));
        assert!(c.is_trusted_proxy(ip("::ffff:10.0.0.5")), "IPv4-mapped");
        assert!(!ServerConfig::default().is_trusted_proxy(ip("127.0.0.1")));
    }

    #[test]
    fn secure_cookies_follow_an_https_base_url() {
        let c: ServerConfig =
            toml::from_str("public_base_url = \"https://hcc.example.vn/\"").unwrap();
        assert!(c.cookies_secure());
        assert_eq!(c.base_url(), "https://hcc.example.vn");
        let never: ServerConfig = toml::from_str(
            "public_base_url = \"https://hcc.example.vn\"\nsecure_cookies = \"never\"",
        )
        .unwrap();
        assert!(!never.cookies_secure());
    }

    #[test]
    fn every_bad_value_is_reported_with_its_path() {
        let c = ServerConfig {
            bind: "localhost".into(),
            public_base_url: "ftp://x".into(),
            dashboards_dir: " ".into(),
            session_idle_h: 0.0,
            session_max_days: f64::NAN,
            login_max_failures: 0,
            login_window_s: -1.0,
            sse_keepalive_s: 0.0,
            sse_max_clients: 0,
            max_connections: 0,
            header_timeout_s: 0.0,
            request_timeout_s: f64::INFINITY,
            trusted_proxies: vec!["10.0.0.1".into(), "10.0.0.0/33".into(), "proxy".into()],
            trust_forwarded_for: true,
            ..ServerConfig::default()
        };
        let e = errors(&c).join("\n");
        assert!(!e.contains("trusted_proxies[0]"), "{e}");
        for path in [
            "server.bind",
            "server.public_base_url",
            "server.dashboards_dir",
            "server.session_idle_h",
            "server.session_max_days",
            "server.login_max_failures",
            "server.login_window_s",
            "server.sse_keepalive_s",
            "server.sse_max_clients",
            "server.max_connections",
            "server.header_timeout_s",
            "server.request_timeout_s",
            "server.trusted_proxies[1]: '10.0.0.0/33' is not an address",
            "server.trusted_proxies[2]",
            "server.trust_forwarded_for: replaced by trusted_proxies",
        ] {
            assert!(e.contains(path), "{path} missing from:\n{e}");
        }
        assert!(
            toml::from_str::<ServerConfig>("sessions = 1").is_err(),
            "unknown keys refused"
        );
    }
}
