//! `[server]`: the HTTP server (API, dashboard, kiosk).

use crate::ConfigError;
use serde::{Deserialize, Serialize};

/// The HTTP server (API and dashboard).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on.
    #[serde(default = "default_bind")]
    pub bind: String,
}

fn default_bind() -> String {
    "127.0.0.1:8080".into()
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: default_bind(),
        }
    }
}

impl ServerConfig {
    /// Adds this section's semantic errors to `errors`.
    pub(crate) fn check(&self, errors: &mut Vec<ConfigError>) {
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            errors.push(ConfigError::new(
                "server.bind",
                format!("'{}' is not an address:port such as 127.0.0.1:8080 or [::]:8080", self.bind),
            ));
        }
    }
}
