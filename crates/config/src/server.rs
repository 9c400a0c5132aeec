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
    /// Take the client address from `X-Forwarded-For` (only behind a reverse proxy that sets
    /// it; otherwise clients could pick their own address and dodge the login limit).
    #[serde(default)]
    pub trust_forwarded_for: bool,
    /// Seconds between keep-alive comments on the live stream (`/api/v1/live`).
    #[serde(default = "default_sse_keepalive_s")]
    pub sse_keepalive_s: f64,
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
            trust_forwarded_for: false,
            sse_keepalive_s: default_sse_keepalive_s(),
        }
    }
}

impl ServerConfig {
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
        ] {
            if !(v.is_finite() && v > 0.0) {
                errors.push(ConfigError::new(
                    path,
                    format!("{v} must be a positive number"),
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
            ..ServerConfig::default()
        };
        let e = errors(&c).join("\n");
        for path in [
            "server.bind",
            "server.public_base_url",
            "server.dashboards_dir",
            "server.session_idle_h",
            "server.session_max_days",
            "server.login_max_failures",
            "server.login_window_s",
            "server.sse_keepalive_s",
        ] {
            assert!(e.contains(path), "{path} missing from:\n{e}");
        }
        assert!(
            toml::from_str::<ServerConfig>("sessions = 1").is_err(),
            "unknown keys refused"
        );
    }
}
