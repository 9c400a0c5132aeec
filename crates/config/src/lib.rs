//! hallwatch-config: the one TOML file that describes a hall — site, cameras, zones, storage,
//! server — as serde structs with documented fields and defaults.
//!
//! The main types:
//!
//! * [`Config`] — the whole file: [`SiteConfig`] (`[site]`), a list of [`CameraConfig`]
//!   (`[[cameras]]`, each with a [`SourceConfig`], [`AnalysisConfig`] and
//!   [`SupervisionConfig`]), a list of [`ZoneConfig`] (`[[zones]]`, each with a [`ZoneRole`]),
//!   [`StorageConfig`] (`[storage]`) and [`ServerConfig`] (`[server]`).
//! * [`ConfigErrors`] — everything wrong with a file, as a list of [`ConfigError`]s.
//!
//! [`Config::load`] and [`Config::from_toml_str`] report every error at once, each with the path
//! of the offending value in the file, e.g. `cameras[2].source.url: missing`,
//! `cameras[0].analysis.fps2: unknown field (expected one of ...)` or
//! `zones[0].polygon[3]: x = 1.4 is outside [0, 1] ...`, so an operator fixes a config in one
//! pass. A TOML syntax error is reported alone, at `line L, column C`. Otherwise structural errors
//! (unknown keys, wrong types, missing fields) are collected per section and per array item, so
//! one bad camera does not hide the mistakes in another; semantic checks (source kinds,
//! references between zones and cameras, ranges, coordinates) then run on every item that parsed.
//!
//! ```
//! let config = hallwatch_config::Config::from_toml_str(r#"
//!     [site]
//!     id = "an-phu"
//!
//!     [[cameras]]
//!     id = "cam1"
//!     source = { kind = "test" }
//! "#).expect("valid config");
//! assert_eq!(config.cameras[0].analysis.fps, 2.0);
//! assert_eq!(config.server.bind, "127.0.0.1:8080");
//! ```
#![deny(missing_docs)]

pub mod alerts;
pub mod hours;
mod model;
pub mod server;
pub mod service;
pub mod uplink;
mod validate;

pub use alerts::AlertsConfig;
pub use hours::{Calendar, HoursConfig};
pub use model::*;
pub use server::ServerConfig;
pub use service::ServiceConfig;
pub use uplink::UplinkConfig;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use std::fmt;
use std::path::Path;

/// One thing wrong with a config, at a path such as `cameras[2].source.url`.
///
/// Displays as `{path}: {message}`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// Where in the file: dotted keys with `[i]` for array items (`zones[1].role`), the file's
    /// path when it could not be read, or `line L, column C` for a TOML syntax error.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Every error found in a config (never empty when returned by the loader), grouped by section
/// (`site`, `cameras`, `zones`, `storage`, `server`) and array item. Displays as one
/// [`ConfigError`] per line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The errors.
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The top-level keys of a config file.
const SECTIONS: &[&str] = &[
    "site", "cameras", "zones", "storage", "server", "detector", "hall", "hours", "alerts",
    "service", "uplink",
];

impl Config {
    /// Reads and checks a config file. A file that cannot be read gives one error whose path is
    /// the file's path.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError::new(
                path.display().to_string(),
                format!("cannot read: {e}"),
            )])
        })?;
        Self::from_toml_str(&text)
    }

    /// Parses and checks config text, returning every error found.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigErrors> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigErrors(vec![syntax_error(text, &e)]))?;
        let mut errors = Vec::new();
        for key in table.keys() {
            if !SECTIONS.contains(&key.as_str()) {
                errors.push(ConfigError::new(
                    key.clone(),
                    format!("unknown section (expected one of {})", SECTIONS.join(", ")),
                ));
            }
        }
        let site = match table.get("site") {
            Some(v) => parse_item::<SiteConfig>(v.clone(), "site", &mut errors),
            None => {
                errors.push(ConfigError::new("site", "missing"));
                None
            }
        };
        let cameras = parse_array::<CameraConfig>(&table, "cameras", &mut errors);
        let zones = parse_array::<ZoneConfig>(&table, "zones", &mut errors);
        let storage = match table.get("storage") {
            Some(v) => parse_item::<StorageConfig>(v.clone(), "storage", &mut errors),
            None => Some(StorageConfig::default()),
        };
        let server = match table.get("server") {
            Some(v) => parse_item::<ServerConfig>(v.clone(), "server", &mut errors),
            None => Some(ServerConfig::default()),
        };
        let hall = match table.get("hall") {
            Some(v) => parse_item::<HallConfig>(v.clone(), "hall", &mut errors),
            None => Some(HallConfig::default()),
        };
        let detector = match table.get("detector") {
            Some(v) => parse_item::<DetectorConfig>(v.clone(), "detector", &mut errors),
            None => Some(DetectorConfig::default()),
        };
        let hours = optional_section::<HoursConfig>(&table, "hours", &mut errors);
        let alerts = optional_section::<AlertsConfig>(&table, "alerts", &mut errors);
        let service = optional_section::<ServiceConfig>(&table, "service", &mut errors);
        let uplink = optional_section::<UplinkConfig>(&table, "uplink", &mut errors);

        validate::check(
            &validate::Parsed {
                raw: &table,
                site: site.as_ref(),
                cameras: &cameras,
                zones: &zones,
                storage: storage.as_ref(),
                server: server.as_ref(),
                detector: detector.as_ref(),
                hall: hall.as_ref(),
                hours: hours.as_ref(),
                alerts: alerts.as_ref(),
                service: service.as_ref(),
                uplink: uplink.as_ref(),
            },
            &mut errors,
        );
        // Group the errors by section and item, keeping their order within an item.
        errors.sort_by_key(|e| error_position(&e.path));
        match (
            site, storage, server, detector, hall, hours, alerts, service, uplink,
        ) {
            (
                Some(site),
                Some(storage),
                Some(server),
                Some(detector),
                Some(hall),
                Some(hours),
                Some(alerts),
                Some(service),
                Some(uplink),
            ) if errors.is_empty() => {
                let zones: Vec<ZoneConfig> = zones.into_iter().flatten().collect();
                let mut cameras: Vec<CameraConfig> = cameras.into_iter().flatten().collect();
                for c in &mut cameras {
                    if c.detect.roi == model::Roi::Zones {
                        c.detect.zone_roi = model::zone_roi(&c.id, &zones);
                    }
                }
                Ok(Config {
                    site,
                    cameras,
                    zones,
                    storage,
                    server,
                    detector,
                    hall,
                    hours,
                    alerts,
                    service,
                    uplink,
                })
            }
            _ => {
                if errors.is_empty() {
                    // Not reachable: every item that fails to parse records an error.
                    errors.push(ConfigError::new("<config>", "invalid"));
                }
                Err(ConfigErrors(errors))
            }
        }
    }
}

/// Where an error sorts: unknown sections first, then the sections in [`SECTIONS`] order, array
/// items by index.
fn error_position(path: &str) -> (usize, usize) {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    let section = SECTIONS
        .iter()
        .position(|s| *s == &path[..end])
        .map_or(0, |i| i + 1);
    let index = path[end..]
        .strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .and_then(|i| i.parse().ok())
        .unwrap_or(0);
    (section, index)
}

/// A TOML syntax error, located by line and column (1-based, in characters).
fn syntax_error(text: &str, e: &toml::de::Error) -> ConfigError {
    let message = format!("TOML syntax: {}", e.message().trim_end());
    let Some(span) = e.span() else {
        return ConfigError::new("<toml>", message);
    };
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = text[line_start..start].chars().count() + 1;
    ConfigError::new(format!("line {line}, column {column}"), message)
}

/// Each item of the array `key` (None for items with structural errors).
fn parse_array<T: DeserializeOwned>(
    table: &toml::Table,
    key: &str,
    errors: &mut Vec<ConfigError>,
) -> Vec<Option<T>> {
    match table.get(key) {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| parse_item::<T>(v.clone(), &format!("{key}[{i}]"), errors))
            .collect(),
        Some(_) => {
            errors.push(ConfigError::new(
                key,
                format!("expected an array of tables ([[{key}]])"),
            ));
            Vec::new()
        }
    }
}

/// One step of a path inside an item.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Key {
    Field(String),
    Index(usize),
}

/// The path as keys; `None` where serde_path_to_error could not tell.
fn to_keys(path: &serde_path_to_error::Path) -> Option<Vec<Key>> {
    path.iter()
        .filter_map(|seg| match seg {
            Segment::Map { key } => Some(Some(Key::Field(key.clone()))),
            Segment::Seq { index } => Some(Some(Key::Index(*index))),
            // Externally tagged enum variants are not part of a TOML path.
            Segment::Enum { .. } => None,
            Segment::Unknown => Some(None),
        })
        .collect()
}

/// `prefix` followed by the keys: `cameras[0]` + `source.url` = `cameras[0].source.url`.
fn fmt_path(prefix: &str, keys: &[Key]) -> String {
    let mut s = prefix.to_string();
    for k in keys {
        match k {
            Key::Field(f) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(f);
            }
            Key::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// The name inside the first pair of backticks of a serde message.
fn quoted(msg: &str) -> Option<&str> {
    let start = msg.find('`')? + 1;
    let end = msg[start..].find('`')? + start;
    Some(&msg[start..end])
}

fn value_at_mut<'a>(root: &'a mut toml::Value, keys: &[Key]) -> Option<&'a mut toml::Value> {
    let mut cur = root;
    for k in keys {
        cur = match (k, cur) {
            (Key::Field(f), toml::Value::Table(t)) => t.get_mut(f)?,
            (Key::Index(i), toml::Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Removes the table entry at `keys`; false if there is none.
fn remove_at(root: &mut toml::Value, keys: &[Key]) -> bool {
    let Some((Key::Field(last), parents)) = keys.split_last() else {
        return false;
    };
    match value_at_mut(root, parents) {
        Some(toml::Value::Table(t)) => t.remove(last).is_some(),
        _ => false,
    }
}

/// Sets the table entry at `keys`; false if its parent is not a table.
fn set_at(root: &mut toml::Value, keys: &[Key], value: toml::Value) -> bool {
    let Some((Key::Field(last), parents)) = keys.split_last() else {
        return false;
    };
    match value_at_mut(root, parents) {
        Some(toml::Value::Table(t)) => {
            t.insert(last.clone(), value);
            true
        }
        _ => false,
    }
}

/// A stand-in of the type a serde message asks for, for a required field that is missing (or
/// was removed), so that the rest of the item can still be checked.
fn placeholder_for(msg: &str) -> Option<toml::Value> {
    let expected = &msg[msg.find("expected")?..];
    if msg.starts_with("unknown variant") {
        return quoted(expected).map(|v| toml::Value::String(v.to_string()));
    }
    let e = expected.trim_start_matches("expected").trim();
    Some(
        if e.starts_with("struct") || e.contains("map") || e.contains("table") {
            toml::Value::Table(toml::Table::new())
        } else if e.contains("bool") {
            toml::Value::Boolean(false)
        } else if e.starts_with('u') || e.starts_with('i') || e.contains("integer") {
            toml::Value::Integer(0)
        } else if e.starts_with('f') {
            toml::Value::Float(0.0)
        } else if e.contains("sequence") || e.contains("array") || e.contains("tuple") {
            toml::Value::Array(Vec::new())
        } else if e.contains("string") || e.contains("char") {
            toml::Value::String(String::new())
        } else {
            return None;
        },
    )
}

/// How many times one item is deserialised at most.
const MAX_ROUNDS: usize = 100;

/// Deserialises one section or array item, recording every structural error with its path.
///
/// After each error the offending key is removed (unknown field, wrong type or value) or a
/// stand-in is inserted (missing required field) and the item is parsed again, so that several
/// mistakes in one item are all reported. Returns `None` when the item had any error.
/// A section that may be left out (its defaults apply).
fn optional_section<T: DeserializeOwned + Default>(
    table: &toml::Table,
    name: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<T> {
    match table.get(name) {
        Some(v) => parse_item::<T>(v.clone(), name, errors),
        None => Some(T::default()),
    }
}

fn parse_item<T: DeserializeOwned>(
    mut value: toml::Value,
    prefix: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<T> {
    // Paths already reported (or removed): errors at or below them are consequences, not news.
    let mut reported: Vec<Vec<Key>> = Vec::new();
    // Stand-ins inserted for missing fields, with how many types have been tried.
    let mut standins: Vec<(Vec<Key>, usize)> = Vec::new();
    let mut clean = true;
    let report =
        |errors: &mut Vec<ConfigError>, reported: &mut Vec<Vec<Key>>, at: &[Key], msg: String| {
            if !reported.iter().any(|r| at.starts_with(r)) {
                errors.push(ConfigError::new(fmt_path(prefix, at), msg));
            }
            reported.push(at.to_vec());
        };
    for _ in 0..MAX_ROUNDS {
        let e = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            Ok(v) => return clean.then_some(v),
            Err(e) => e,
        };
        clean = false;
        let msg = e.inner().message().trim_end().to_string();
        let Some(keys) = to_keys(e.path()) else {
            errors.push(ConfigError::new(fmt_path(prefix, &[]), msg));
            return None;
        };

        if msg.starts_with("missing field") {
            let field = quoted(&msg).unwrap_or("?").to_string();
            let mut at = keys;
            at.push(Key::Field(field));
            report(errors, &mut reported, &at, "missing".into());
            if !set_at(&mut value, &at, toml::Value::String(String::new())) {
                return None;
            }
            standins.push((at, 0));
        } else if msg.starts_with("unknown field") {
            let field = quoted(&msg).unwrap_or("?").to_string();
            let mut at = keys;
            if at.last() != Some(&Key::Field(field.clone())) {
                at.push(Key::Field(field));
            }
            let expected = msg
                .find("expected")
                .map(|i| format!(" ({})", &msg[i..]))
                .unwrap_or_default();
            report(
                errors,
                &mut reported,
                &at,
                format!("unknown field{expected}"),
            );
            if !remove_at(&mut value, &at) {
                return None;
            }
        } else if let Some((_, tries)) = standins.iter_mut().find(|(p, _)| *p == keys) {
            // A stand-in of the wrong type: try the type the message asks for.
            *tries += 1;
            let v = placeholder_for(&msg).filter(|_| *tries < 4)?;
            if !set_at(&mut value, &keys, v) {
                return None;
            }
        } else {
            report(errors, &mut reported, &keys, msg);
            // Remove the nearest table entry holding the bad value (e.g. the whole `polygon`
            // for a bad coordinate in it).
            let field_end = keys.iter().rposition(|k| matches!(k, Key::Field(_)))?;
            let at = &keys[..=field_end];
            reported.push(at.to_vec());
            if !remove_at(&mut value, at) {
                return None;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
