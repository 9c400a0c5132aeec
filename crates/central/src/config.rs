//! `central.toml`: the centre's NATS server, PostgreSQL database, web server and hall registry.
//!
//! ```toml
//! [nats]
//! servers = ["nats://127.0.0.1:4222"]
//! token = "..."                   # as the halls' [uplink]
//! subject_prefix = "hallwatch"
//! stream = "HALLWATCH"
//! consumer = "central"            # the durable consumer's name
//!
//! [postgres]
//! url = "host=/var/run/postgresql dbname=province user=hallwatch"
//!
//! [server]
//! bind = "127.0.0.1:8090"
//!
//! [[halls]]
//! site = "an-phu"                 # the hall's [site].id
//! name = "Trung tâm Phục vụ hành chính công xã An Phú"
//! commune = "An Phú"
//! province = "Tây Ninh"
//! timezone = "Asia/Ho_Chi_Minh"
//! ```

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The whole `central.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CentralConfig {
    /// Where the halls' facts arrive.
    pub nats: NatsConfig,
    /// Where they are kept.
    pub postgres: PostgresConfig,
    /// The province dashboard and API.
    #[serde(default)]
    pub server: CentralServerConfig,
    /// The halls of the province. Facts from a hall not listed are kept too, and the hall is
    /// registered under its site id until it is listed.
    #[serde(default)]
    pub halls: Vec<HallEntry>,
}

/// The centre's NATS connection and JetStream consumer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// NATS server URLs.
    pub servers: Vec<String>,
    /// A NATS token.
    #[serde(default)]
    pub token: String,
    /// A NATS user (with `password`).
    #[serde(default)]
    pub user: String,
    /// The password of `user`.
    #[serde(default)]
    pub password: String,
    /// Subject prefix, as the halls' `uplink.subject_prefix`.
    #[serde(default = "default_prefix")]
    pub subject_prefix: String,
    /// The stream, as the halls' `uplink.stream`; made when missing.
    #[serde(default = "default_stream")]
    pub stream: String,
    /// The durable consumer's name: a restarted centre goes on where it stopped.
    #[serde(default = "default_consumer")]
    pub consumer: String,
    /// Facts fetched and committed to PostgreSQL per transaction, at most.
    #[serde(default = "default_batch")]
    pub batch: usize,
}

/// The central database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// A libpq-style connection string (`host=... port=... user=... dbname=...`) or a
    /// `postgresql://` URL.
    pub url: String,
}

/// The centre's web server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CentralServerConfig {
    /// Address to listen on.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// Bearer tokens that may read the province API (`Authorization: Bearer <token>`); none:
    /// the API answers 401 to everyone and only `/healthz` is open.
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Waits no longer than this many minutes count as on target in the league table (the
    /// halls' `hall.wait_target_min`).
    #[serde(default = "default_wait_target")]
    pub wait_target_min: f64,
}

impl Default for CentralServerConfig {
    fn default() -> Self {
        Self {
            bind: default_bind(),
            tokens: Vec::new(),
            wait_target_min: default_wait_target(),
        }
    }
}

fn default_wait_target() -> f64 {
    15.0
}

/// One hall of the province.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallEntry {
    /// The hall's `[site].id`.
    pub site: String,
    /// Its name, as shown in the league table.
    pub name: String,
    /// The commune (xã / phường) it serves.
    #[serde(default)]
    pub commune: String,
    /// The province.
    #[serde(default)]
    pub province: String,
    /// Its IANA time zone.
    #[serde(default = "default_tz")]
    pub timezone: String,
}

fn default_prefix() -> String {
    "hallwatch".into()
}
fn default_stream() -> String {
    "HALLWATCH".into()
}
fn default_consumer() -> String {
    "central".into()
}
fn default_batch() -> usize {
    500
}
fn default_bind() -> String {
    "127.0.0.1:8090".into()
}
fn default_tz() -> String {
    "Asia/Ho_Chi_Minh".into()
}

/// A `central.toml` that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {detail}")]
pub struct CentralConfigError {
    /// Where (the file, or the offending key).
    pub path: String,
    /// What is wrong.
    pub detail: String,
}

impl CentralConfig {
    /// Reads and checks a `central.toml`.
    pub fn load(path: &Path) -> Result<CentralConfig, CentralConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| CentralConfigError {
            path: path.display().to_string(),
            detail: format!("cannot read: {e}"),
        })?;
        Self::from_toml_str(&text).map_err(|e| CentralConfigError {
            path: format!("{}: {}", path.display(), e.path),
            detail: e.detail,
        })
    }

    /// Parses and checks `central.toml` text.
    pub fn from_toml_str(text: &str) -> Result<CentralConfig, CentralConfigError> {
        let cfg: CentralConfig = toml::from_str(text).map_err(|e| CentralConfigError {
            path: "central.toml".into(),
            detail: e.to_string(),
        })?;
        let bad = |path: String, detail: String| Err(CentralConfigError { path, detail });
        if cfg.nats.servers.is_empty() {
            return bad(
                "nats.servers".into(),
                "give at least one NATS server".into(),
            );
        }
        if cfg.nats.batch == 0 {
            return bad("nats.batch".into(), "must be at least 1".into());
        }
        let mut seen = std::collections::HashSet::new();
        for (i, h) in cfg.halls.iter().enumerate() {
            let ok = !h.site.is_empty()
                && h.site
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return bad(
                    format!("halls[{i}].site"),
                    format!("'{}' must be letters, digits, '-' and '_'", h.site),
                );
            }
            if !seen.insert(h.site.as_str()) {
                return bad(
                    format!("halls[{i}].site"),
                    format!("'{}' is listed twice", h.site),
                );
            }
        }
        Ok(cfg)
    }
}
