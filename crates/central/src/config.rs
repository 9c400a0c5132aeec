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
//! [server]                        # as a hall's [server]: bind, sessions, login limits
//! bind = "127.0.0.1:8090"
//!
//! [storage]
//! data_dir = "/var/lib/hallwatch-central"   # the centre's users and tokens
//!
//! [province]
//! name = "Trung tâm Phục vụ hành chính công tỉnh Tây Ninh"
//! wait_target_min = 15
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
    /// The province dashboard and API: a hall config's `[server]` section (bind, sessions,
    /// login limits...), checked as in a hall's config.
    #[serde(default = "empty_table")]
    pub server: toml::Table,
    /// The centre's own files.
    #[serde(default)]
    pub storage: CentralStorage,
    /// The province.
    #[serde(default)]
    pub province: ProvinceSection,
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
    /// A NATS credentials file (`.creds`).
    #[serde(default)]
    pub credentials_file: String,
    /// A PEM file of the certificate authority of the NATS server (TLS required).
    #[serde(default)]
    pub tls_ca_file: String,
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

/// Where the centre keeps its own files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CentralStorage {
    /// The folder of the centre's users and API tokens (`hallwatch.db`, as a hall's).
    #[serde(default = "default_data_dir")]
    pub data_dir: String,
}

impl Default for CentralStorage {
    fn default() -> Self {
        Self {
            data_dir: default_data_dir(),
        }
    }
}

/// The province itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvinceSection {
    /// Its name, on the dashboard.
    #[serde(default = "default_province_name")]
    pub name: String,
    /// The centre's time zone.
    #[serde(default = "default_tz")]
    pub timezone: String,
    /// Waits no longer than this many minutes count as on target in the league table (the
    /// halls' `hall.wait_target_min`).
    #[serde(default = "default_wait_target")]
    pub wait_target_min: f64,
}

impl Default for ProvinceSection {
    fn default() -> Self {
        Self {
            name: default_province_name(),
            timezone: default_tz(),
            wait_target_min: default_wait_target(),
        }
    }
}

fn default_data_dir() -> String {
    "/var/lib/hallwatch-central".into()
}
fn default_province_name() -> String {
    "Trung tâm tỉnh".into()
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
fn empty_table() -> toml::Table {
    toml::Table::new()
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
        cfg.web_config()?;
        Ok(cfg)
    }

    /// The hall-style config the centre's web app runs with: site `province`, this file's
    /// `[server]` and `[storage].data_dir`; `[server]` errors are named as in a hall config.
    pub fn web_config(&self) -> Result<hallwatch_config::Config, CentralConfigError> {
        let mut doc = toml::Table::new();
        let mut site = toml::Table::new();
        site.insert("id".into(), "province".into());
        site.insert("name".into(), self.province.name.clone().into());
        site.insert("timezone".into(), self.province.timezone.clone().into());
        doc.insert("site".into(), site.into());
        let mut server = self.server.clone();
        server
            .entry("bind")
            .or_insert_with(|| "127.0.0.1:8090".into());
        doc.insert("server".into(), server.into());
        let mut storage = toml::Table::new();
        storage.insert("data_dir".into(), self.storage.data_dir.clone().into());
        doc.insert("storage".into(), storage.into());
        let text = toml::to_string(&doc).map_err(|e| CentralConfigError {
            path: "server".into(),
            detail: e.to_string(),
        })?;
        hallwatch_config::Config::from_toml_str(&text).map_err(|e| CentralConfigError {
            path: "central.toml".into(),
            detail: e.to_string(),
        })
    }
}
