//! `[uplink]`: shipping this hall's facts to the province centre over NATS JetStream.
//!
//! ```toml
//! [uplink]
//! servers = ["nats://trungtam.tinh.gov.vn:4222"]   # empty (the default): no uplink
//! token = "..."                 # or user/password, or credentials_file (a NATS .creds file)
//! tls_ca_file = "/etc/hallwatch/ca.pem"            # the centre's CA, for tls:// servers
//! subject_prefix = "hallwatch"  # facts go to <prefix>.<site>.<kind>
//! stream = "HALLWATCH"          # the JetStream stream that stores them (made if missing)
//! live_interval_s = 10          # live state on <prefix>.live.<site> at most this often
//! ```

use crate::ConfigError;
use serde::{Deserialize, Serialize};

/// The uplink to a province centre. With no `servers` nothing is shipped and the outbox is
/// off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UplinkConfig {
    /// NATS server URLs (`nats://host:4222`, `tls://host:4222`), tried in turn. Empty: off.
    #[serde(default)]
    pub servers: Vec<String>,
    /// A NATS token, when the centre's server uses token authentication.
    #[serde(default)]
    pub token: String,
    /// A NATS user name (with `password`).
    #[serde(default)]
    pub user: String,
    /// The password of `user`.
    #[serde(default)]
    pub password: String,
    /// A NATS credentials file (`.creds`: a user JWT and its nkey seed).
    #[serde(default)]
    pub credentials_file: String,
    /// A PEM file of the certificate authority that signed the centre's server certificate.
    #[serde(default)]
    pub tls_ca_file: String,
    /// Subjects are `<subject_prefix>.<site id>.<kind>`.
    #[serde(default = "default_prefix")]
    pub subject_prefix: String,
    /// The JetStream stream that stores the facts; the publisher makes it (subjects
    /// `<subject_prefix>.>`, file storage) when the centre has not.
    #[serde(default = "default_stream")]
    pub stream: String,
    /// Facts sent before waiting for their acknowledgements.
    #[serde(default = "default_window")]
    pub window: usize,
    /// Seconds to wait for one acknowledgement before sending again from the last
    /// acknowledged fact (same message ids: the stream drops the copies).
    #[serde(default = "default_ack_timeout")]
    pub ack_timeout_s: f64,
    /// Longest pause between attempts while the centre is unreachable (the pause doubles from
    /// 1 s up to this).
    #[serde(default = "default_retry_max")]
    pub retry_max_s: f64,
    /// The hall's live state is published at most this often, seconds; 0 turns it off.
    #[serde(default = "default_live_interval")]
    pub live_interval_s: f64,
}

fn default_prefix() -> String {
    "hallwatch".into()
}
fn default_stream() -> String {
    "HALLWATCH".into()
}
fn default_window() -> usize {
    256
}
fn default_ack_timeout() -> f64 {
    10.0
}
fn default_retry_max() -> f64 {
    30.0
}
fn default_live_interval() -> f64 {
    10.0
}

impl Default for UplinkConfig {
    fn default() -> Self {
        Self {
            servers: Vec::new(),
            token: String::new(),
            user: String::new(),
            password: String::new(),
            credentials_file: String::new(),
            tls_ca_file: String::new(),
            subject_prefix: default_prefix(),
            stream: default_stream(),
            window: default_window(),
            ack_timeout_s: default_ack_timeout(),
            retry_max_s: default_retry_max(),
            live_interval_s: default_live_interval(),
        }
    }
}

/// A NATS subject token: no dots, spaces or wildcards.
fn subject_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl UplinkConfig {
    /// An uplink is configured.
    pub fn enabled(&self) -> bool {
        !self.servers.is_empty()
    }

    pub(crate) fn check(&self, errors: &mut Vec<ConfigError>) {
        for (i, s) in self.servers.iter().enumerate() {
            let ok = ["nats://", "tls://"]
                .iter()
                .any(|p| s.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
            if !ok {
                errors.push(ConfigError::new(
                    format!("uplink.servers[{i}]"),
                    format!("'{s}' must be a nats://host:port or tls://host:port URL"),
                ));
            }
        }
        if !self.token.is_empty() && !self.user.is_empty() {
            errors.push(ConfigError::new(
                "uplink.token",
                "give either token or user/password, not both",
            ));
        }
        if self.user.is_empty() != self.password.is_empty() {
            errors.push(ConfigError::new(
                "uplink.password",
                "user and password go together",
            ));
        }
        if !self.subject_prefix.split('.').all(subject_token) {
            errors.push(ConfigError::new(
                "uplink.subject_prefix",
                format!(
                    "'{}' must be dot-separated letters, digits, '-' and '_'",
                    self.subject_prefix
                ),
            ));
        }
        if !subject_token(&self.stream) {
            errors.push(ConfigError::new(
                "uplink.stream",
                format!("'{}' must be letters, digits, '-' and '_'", self.stream),
            ));
        }
        if self.window == 0 || self.window > 10_000 {
            errors.push(ConfigError::new(
                "uplink.window",
                format!("{} must be between 1 and 10000", self.window),
            ));
        }
        for (name, v, min) in [
            ("ack_timeout_s", self.ack_timeout_s, 0.1),
            ("retry_max_s", self.retry_max_s, 1.0),
        ] {
            if !(v.is_finite() && v >= min) {
                errors.push(ConfigError::new(
                    format!("uplink.{name}"),
                    format!("{v} must be a number of seconds >= {min}"),
                ));
            }
        }
        if !(self.live_interval_s.is_finite() && self.live_interval_s >= 0.0) {
            errors.push(ConfigError::new(
                "uplink.live_interval_s",
                format!("{} must be a number of seconds >= 0", self.live_interval_s),
            ));
        }
    }
}
