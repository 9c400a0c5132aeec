//! `[alerts]`: alert rules (`[[alerts.rules]]`) and notification channels
//! (`[[alerts.channels]]`). Links in messages point at `[server].public_base_url`.
//!
//! A rule watches one figure of the live hall and raises an alert when it stays at or past its
//! `trigger` level for `for_s` seconds; the alert clears once the figure has stayed on the calm
//! side of the clear level (`clear_below`, or `clear_above` for satisfaction) for
//! `clear_for_s` seconds — hysteresis, so a figure hovering around the trigger does not flap.
//! After a clear, the same rule and target stay quiet for `cooldown_s`; an alert still active
//! is sent again every `renotify_s` until someone acknowledges it. Rules follow the shared `[hours]` calendar (no new alert
//! outside working hours) unless `working_hours = false` (e.g. a camera down at night).
//!
//! | kind | figure | `trigger` unit | target |
//! |---|---|---|---|
//! | `queue_length` | people waiting (smoothed) | people | `zone` (a waiting zone), or the whole hall when empty |
//! | `predicted_wait` | expected wait for a newcomer | minutes | the hall |
//! | `counter_unattended` | counter idle or staff absent while `min_waiting` people wait | — | `zone` (a counter zone), or every counter when empty |
//! | `camera_down` | camera not running | — | `camera`, or every camera when empty |
//! | `satisfaction` | share of satisfied ratings over `window_s` (0..1), with at least `min_ratings` ratings | share, alert when below | the hall |
//! | `store_failing` | the event store refuses writes (full disk, I/O errors); records wait in memory | — | the hall |
//! | `uplink_failing` | the province centre has acknowledged nothing for 5 minutes while facts wait in the outbox (needs an `[uplink]`) | — | the hall |
//!
//! ```toml
//! [alerts]
//! language = "vi"
//!
//! [[alerts.rules]]
//! id = "hang-cho-dai"
//! kind = "queue_length"
//! zone = "khu-cho"
//! severity = "warning"
//! trigger = 15          # people
//! clear_below = 10
//! for_s = 300
//!
//! [[alerts.rules]]
//! id = "camera-mat"
//! kind = "camera_down"
//! severity = "critical"
//! for_s = 120
//! working_hours = false
//!
//! [[alerts.rules]]
//! id = "luu-tru-loi"
//! kind = "store_failing"
//! severity = "critical"
//! for_s = 30
//! working_hours = false
//!
//! [[alerts.channels]]
//! id = "zalo-bridge"
//! kind = "webhook"
//! url = "http://127.0.0.1:9000/hook"
//! secret = "change-me"
//! ```

use crate::ConfigError;
use crate::validate::Parsed;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;

/// How serious an alert is.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For the record.
    Info,
    /// Someone should act soon.
    #[default]
    Warning,
    /// Someone should act now.
    Critical,
}

impl Severity {
    /// Every severity, mildest first.
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    /// The name as written in the config and stored: `info`, `warning`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// The severity named `s` (as [`Severity::as_str`] writes it).
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// People waiting in a zone (or the hall) at or above `trigger`.
    QueueLength,
    /// Expected wait for a newcomer at or above `trigger` minutes.
    PredictedWait,
    /// A counter idle or without staff while people wait.
    CounterUnattended,
    /// A camera not delivering frames.
    CameraDown,
    /// Share of satisfied ratings over a window below `trigger`.
    Satisfaction,
    /// The event store refusing writes (full disk, I/O errors): records wait in memory.
    StoreFailing,
    /// The uplink to the province centre failing: facts waiting unacknowledged for 5 minutes.
    UplinkFailing,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [AlertKind; 7] = [
        AlertKind::QueueLength,
        AlertKind::PredictedWait,
        AlertKind::CounterUnattended,
        AlertKind::CameraDown,
        AlertKind::Satisfaction,
        AlertKind::StoreFailing,
        AlertKind::UplinkFailing,
    ];

    /// The name as written in the config and stored, e.g. `queue_length`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::QueueLength => "queue_length",
            AlertKind::PredictedWait => "predicted_wait",
            AlertKind::CounterUnattended => "counter_unattended",
            AlertKind::CameraDown => "camera_down",
            AlertKind::Satisfaction => "satisfaction",
            AlertKind::StoreFailing => "store_failing",
            AlertKind::UplinkFailing => "uplink_failing",
        }
    }

    /// The kind named `s` (as [`AlertKind::as_str`] writes it).
    pub fn parse(s: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// True when the rule has a numeric `trigger` level.
    pub fn has_level(self) -> bool {
        matches!(
            self,
            AlertKind::QueueLength | AlertKind::PredictedWait | AlertKind::Satisfaction
        )
    }

    /// True when the alert is about a figure falling below its level (satisfaction), false
    /// when about a figure rising to it.
    pub fn alerts_when_low(self) -> bool {
        self == AlertKind::Satisfaction
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Language of alert messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Vietnamese (default).
    #[default]
    Vi,
    /// English.
    En,
}

/// Alert rules and notification channels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// Master switch: false evaluates nothing and sends nothing.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Language of messages (a channel may override it).
    #[serde(default)]
    pub language: Language,
    /// Retries of undelivered notifications.
    #[serde(default)]
    pub retry: RetryConfig,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<AlertRule>,
    /// Where notifications go; every channel gets every alert its filters let through.
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
}

fn yes() -> bool {
    true
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            language: Language::Vi,
            retry: RetryConfig::default(),
            rules: Vec::new(),
            channels: Vec::new(),
        }
    }
}

/// Exponential backoff for a notification that could not be delivered: the n-th retry waits
/// `min(initial_s * factor^(n-1), max_s)`; after `max_attempts` attempts it is marked failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Wait before the first retry, seconds.
    #[serde(default = "default_retry_initial")]
    pub initial_s: f64,
    /// Each wait is this many times the previous one.
    #[serde(default = "default_retry_factor")]
    pub factor: f64,
    /// Longest wait between two attempts, seconds.
    #[serde(default = "default_retry_max")]
    pub max_s: f64,
    /// Attempts (the first included) before a notification is marked failed.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
}

fn default_retry_initial() -> f64 {
    5.0
}
fn default_retry_factor() -> f64 {
    2.0
}
fn default_retry_max() -> f64 {
    600.0
}
fn default_max_attempts() -> u32 {
    10
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            initial_s: default_retry_initial(),
            factor: default_retry_factor(),
            max_s: default_retry_max(),
            max_attempts: default_max_attempts(),
        }
    }
}

impl RetryConfig {
    /// Seconds to wait after failed attempt number `attempt` (1 = the first attempt).
    pub fn delay_after(&self, attempt: u32) -> f64 {
        let exp = attempt.saturating_sub(1).min(64) as i32;
        (self.initial_s * self.factor.powi(exp)).min(self.max_s)
    }
}

/// One alert rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Unique id (letters, digits, '-', '_'), stored with each alert.
    pub id: String,
    /// What it watches.
    pub kind: AlertKind,
    /// How serious its alerts are.
    #[serde(default)]
    pub severity: Severity,
    /// A disabled rule is checked but never evaluated.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `queue_length`: a waiting zone (empty: people waiting in the whole hall);
    /// `counter_unattended`: a counter zone (empty: every counter).
    #[serde(default)]
    pub zone: String,
    /// `camera_down`: a camera id (empty: every camera).
    #[serde(default)]
    pub camera: String,
    /// The level that raises an alert: people (`queue_length`), minutes (`predicted_wait`),
    /// share of satisfied ratings 0..1 (`satisfaction`, alert when below). Required by these
    /// kinds, not used by the others.
    #[serde(default)]
    pub trigger: Option<f64>,
    /// `queue_length`, `predicted_wait`: the alert clears once the figure stays below this
    /// (at most `trigger`; default `trigger`).
    #[serde(default)]
    pub clear_below: Option<f64>,
    /// `satisfaction`: the alert clears once the share stays at or above this (at least
    /// `trigger`; default `trigger`).
    #[serde(default)]
    pub clear_above: Option<f64>,
    /// `counter_unattended`: only while at least this many people wait in the hall.
    #[serde(default = "default_min_waiting")]
    pub min_waiting: u32,
    /// The condition must hold this long before the alert is raised, seconds.
    #[serde(default = "default_for_s")]
    pub for_s: f64,
    /// The figure must stay on the calm side this long before the alert clears, seconds.
    #[serde(default = "default_clear_for_s")]
    pub clear_for_s: f64,
    /// After a clear, no new alert of this rule for the same target during this many seconds.
    #[serde(default = "default_cooldown_s")]
    pub cooldown_s: f64,
    /// An alert still active is notified again every this many seconds; 0 never.
    #[serde(default = "default_renotify_s")]
    pub renotify_s: f64,
    /// Follow the `[hours]` calendar: no new alert while the hall is closed.
    #[serde(default = "yes")]
    pub working_hours: bool,
    /// `satisfaction`: the window the share is computed over, seconds.
    #[serde(default = "default_window_s")]
    pub window_s: f64,
    /// `satisfaction`: no alert on fewer ratings than this in the window.
    #[serde(default = "default_min_ratings")]
    pub min_ratings: u32,
    /// Channel ids to notify (empty: every channel).
    #[serde(default)]
    pub channels: Vec<String>,
}

fn default_min_waiting() -> u32 {
    1
}
fn default_for_s() -> f64 {
    300.0
}
fn default_clear_for_s() -> f64 {
    60.0
}
fn default_cooldown_s() -> f64 {
    600.0
}
fn default_renotify_s() -> f64 {
    1800.0
}
fn default_window_s() -> f64 {
    3600.0
}
fn default_min_ratings() -> u32 {
    10
}

impl AlertRule {
    /// A rule of `kind` with id `id` and every default (no trigger level set).
    pub fn new(id: impl Into<String>, kind: AlertKind) -> Self {
        Self {
            id: id.into(),
            kind,
            severity: Severity::default(),
            enabled: true,
            zone: String::new(),
            camera: String::new(),
            trigger: None,
            clear_below: None,
            clear_above: None,
            min_waiting: default_min_waiting(),
            for_s: default_for_s(),
            clear_for_s: default_clear_for_s(),
            cooldown_s: default_cooldown_s(),
            renotify_s: default_renotify_s(),
            working_hours: true,
            window_s: default_window_s(),
            min_ratings: default_min_ratings(),
            channels: Vec::new(),
        }
    }

    /// The clear level: `clear_below` (or `clear_above` for satisfaction), else `trigger`;
    /// `None` for kinds without a level.
    pub fn clear_level(&self) -> Option<f64> {
        let t = self.trigger?;
        Some(if self.kind.alerts_when_low() {
            self.clear_above.unwrap_or(t)
        } else {
            self.clear_below.unwrap_or(t)
        })
    }
}

/// Kind of notification channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// JSON POST to `url`, signed with `secret` (header `X-Hallwatch-Signature`).
    Webhook,
    /// Mail through an SMTP server.
    Email,
    /// Publish to an MQTT broker.
    Mqtt,
    /// Write the message to the log (for demos and tests).
    Log,
}

impl ChannelKind {
    /// The name as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::Email => "email",
            ChannelKind::Mqtt => "mqtt",
            ChannelKind::Log => "log",
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required); port 587 by default.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS); port 465 by default.
    Tls,
    /// No encryption (a relay on the same machine or LAN); port 25 by default.
    Plain,
}

impl SmtpSecurity {
    /// The usual port.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::Plain => 25,
        }
    }
}

/// One notification channel. Which keys apply depends on `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// Unique id (letters, digits, '-', '_'), stored with each delivery.
    pub id: String,
    /// `webhook`, `email`, `mqtt` or `log`.
    pub kind: ChannelKind,
    /// A disabled channel is checked but sends nothing.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Message language for this channel; default `[alerts].language`.
    #[serde(default)]
    pub language: Option<Language>,
    /// Only alerts at least this severe.
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    /// Also notify when an alert clears.
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// Seconds one attempt may take (connect, send, answer).
    #[serde(default = "default_timeout_s")]
    pub timeout_s: f64,
    /// webhook: the address to POST to (`http://` or `https://`).
    #[serde(default)]
    pub url: String,
    /// webhook: key of the HMAC-SHA256 signature of the body, sent as
    /// `X-Hallwatch-Signature: sha256=<hex>` (empty: unsigned).
    #[serde(default)]
    pub secret: String,
    /// email, mqtt: server host name or address.
    #[serde(default)]
    pub host: String,
    /// email, mqtt: server port; 0 for the usual one (587/465/25 by `security`, 1883 for
    /// MQTT).
    #[serde(default)]
    pub port: u16,
    /// email: `starttls`, `tls` or `plain`.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// email, mqtt: login (empty: none).
    #[serde(default)]
    pub username: String,
    /// email, mqtt: password.
    #[serde(default)]
    pub password: String,
    /// email: sender address.
    #[serde(default)]
    pub from: String,
    /// email: recipients.
    #[serde(default)]
    pub to: Vec<String>,
    /// email: a PEM file of CA certificates trusted besides the system's, for a mail server
    /// whose certificate an internal CA signed (`starttls` and `tls` only).
    #[serde(default)]
    pub ca_file: String,
    /// mqtt: client id (empty: `hallwatch-<site id>`).
    #[serde(default)]
    pub client_id: String,
    /// mqtt: first topic level; topics are `<prefix>/<site>/alerts/<zone or camera>` and the
    /// retained `<prefix>/<site>/state`.
    #[serde(default = "default_topic_prefix")]
    pub topic_prefix: String,
    /// mqtt: quality of service 0, 1 or 2.
    #[serde(default = "default_qos")]
    pub qos: u8,
}

fn default_min_severity() -> Severity {
    Severity::Info
}
fn default_timeout_s() -> f64 {
    10.0
}
fn default_topic_prefix() -> String {
    "hallwatch".into()
}
fn default_qos() -> u8 {
    1
}

impl ChannelConfig {
    /// A channel of `kind` with id `id` and every default.
    pub fn new(id: impl Into<String>, kind: ChannelKind) -> Self {
        Self {
            id: id.into(),
            kind,
            enabled: true,
            language: None,
            min_severity: default_min_severity(),
            send_resolved: true,
            timeout_s: default_timeout_s(),
            url: String::new(),
            secret: String::new(),
            host: String::new(),
            port: 0,
            security: SmtpSecurity::default(),
            username: String::new(),
            password: String::new(),
            from: String::new(),
            to: Vec::new(),
            ca_file: String::new(),
            client_id: String::new(),
            topic_prefix: default_topic_prefix(),
            qos: default_qos(),
        }
    }

    /// The port to connect to: `port`, or the usual one for the kind and security.
    pub fn effective_port(&self) -> u16 {
        match (self.port, self.kind) {
            (0, ChannelKind::Mqtt) => 1883,
            (0, _) => self.security.default_port(),
            (p, _) => p,
        }
    }
}

fn well_formed_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn check_id(path: String, id: &str, seen: &mut HashSet<String>, errors: &mut Vec<ConfigError>) {
    if id.is_empty() {
        errors.push(ConfigError::new(path, "missing"));
    } else if !well_formed_id(id) {
        errors.push(ConfigError::new(
            path,
            format!("'{id}' must be only letters, digits, '-' and '_'"),
        ));
    } else if !seen.insert(id.to_string()) {
        errors.push(ConfigError::new(path, format!("'{id}' is used twice")));
    }
}

fn non_negative(path: String, v: f64, errors: &mut Vec<ConfigError>) {
    if !(v.is_finite() && v >= 0.0) {
        errors.push(ConfigError::new(path, format!("must be 0 or more, is {v}")));
    }
}

fn positive(path: String, v: f64, errors: &mut Vec<ConfigError>) {
    if !(v.is_finite() && v > 0.0) {
        errors.push(ConfigError::new(
            path,
            format!("must be more than 0, is {v}"),
        ));
    }
}

/// The (id, role) of each zone and the id of each camera, as written in the file (so that an
/// item with another mistake still counts as existing).
fn raw_items<'a>(raw: &'a toml::Table, section: &str) -> Vec<(&'a str, &'a str)> {
    raw.get(section)
        .and_then(|v| v.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    let id = item.get("id")?.as_str()?;
                    let role = item.get("role").and_then(|r| r.as_str()).unwrap_or("");
                    Some((id, role))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl AlertsConfig {
    /// Adds this section's semantic errors to `errors`, each with its path under `alerts`
    /// (e.g. `alerts.rules[2].clear_below`). Zone and camera references are checked against
    /// the ids written in the file.
    pub(crate) fn check(&self, parsed: &Parsed<'_>, errors: &mut Vec<ConfigError>) {
        let zones = raw_items(parsed.raw, "zones");
        let cameras = raw_items(parsed.raw, "cameras");
        let r = &self.retry;
        positive("alerts.retry.initial_s".into(), r.initial_s, errors);
        if !(r.factor.is_finite() && r.factor >= 1.0) {
            errors.push(ConfigError::new(
                "alerts.retry.factor",
                format!("must be 1 or more, is {}", r.factor),
            ));
        }
        if !(r.max_s.is_finite() && r.max_s >= r.initial_s) {
            errors.push(ConfigError::new(
                "alerts.retry.max_s",
                format!("{} is below initial_s = {}", r.max_s, r.initial_s),
            ));
        }
        if r.max_attempts == 0 {
            errors.push(ConfigError::new(
                "alerts.retry.max_attempts",
                "must be at least 1",
            ));
        }

        let mut channel_ids = HashSet::new();
        for (i, c) in self.channels.iter().enumerate() {
            check_channel(
                &format!("alerts.channels[{i}]"),
                c,
                &mut channel_ids,
                errors,
            );
        }
        let mut rule_ids = HashSet::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let p = format!("alerts.rules[{i}]");
            check_id(format!("{p}.id"), &rule.id, &mut rule_ids, errors);
            check_rule(&p, rule, &zones, &cameras, errors);
            for (j, ch) in rule.channels.iter().enumerate() {
                if !self.channels.iter().any(|c| &c.id == ch) {
                    let known: Vec<&str> = self.channels.iter().map(|c| c.id.as_str()).collect();
                    errors.push(ConfigError::new(
                        format!("{p}.channels[{j}]"),
                        format!("no channel with id '{ch}' (channels: {})", known.join(", ")),
                    ));
                }
            }
        }
    }
}

fn check_rule(
    p: &str,
    rule: &AlertRule,
    zones: &[(&str, &str)],
    cameras: &[(&str, &str)],
    errors: &mut Vec<ConfigError>,
) {
    let kind = rule.kind;
    let not_for = |field: &str, errors: &mut Vec<ConfigError>| {
        errors.push(ConfigError::new(
            format!("{p}.{field}"),
            format!("does not apply to kind {kind}"),
        ));
    };
    // The level and its clear level.
    match (kind.has_level(), rule.trigger) {
        (true, None) => errors.push(ConfigError::new(
            format!("{p}.trigger"),
            format!("missing (the level that raises a {kind} alert)"),
        )),
        (true, Some(t)) => {
            if kind == AlertKind::Satisfaction {
                if !(t.is_finite() && t > 0.0 && t <= 1.0) {
                    errors.push(ConfigError::new(
                        format!("{p}.trigger"),
                        format!("{t} is outside (0, 1] (a share of satisfied ratings)"),
                    ));
                }
            } else {
                positive(format!("{p}.trigger"), t, errors);
            }
            if let Some(c) = rule.clear_below {
                if kind.alerts_when_low() {
                    not_for("clear_below", errors);
                } else if !(c.is_finite() && c >= 0.0 && c <= t) {
                    errors.push(ConfigError::new(
                        format!("{p}.clear_below"),
                        format!("{c} must be between 0 and trigger ({t})"),
                    ));
                }
            }
            if let Some(c) = rule.clear_above {
                if !kind.alerts_when_low() {
                    not_for("clear_above", errors);
                } else if !(c.is_finite() && c >= t && c <= 1.0) {
                    errors.push(ConfigError::new(
                        format!("{p}.clear_above"),
                        format!("{c} must be between trigger ({t}) and 1"),
                    ));
                }
            }
        }
        (false, _) => {
            for (field, set) in [
                ("trigger", rule.trigger.is_some()),
                ("clear_below", rule.clear_below.is_some()),
                ("clear_above", rule.clear_above.is_some()),
            ] {
                if set {
                    not_for(field, errors);
                }
            }
        }
    }
    // The target.
    let zone_role = |id: &str| zones.iter().find(|(z, _)| *z == id).map(|(_, r)| *r);
    let zone_list = |role: &str| {
        zones
            .iter()
            .filter(|(_, r)| *r == role)
            .map(|(z, _)| *z)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let want_role = match kind {
        AlertKind::QueueLength => Some("waiting"),
        AlertKind::CounterUnattended => Some("counter"),
        _ => None,
    };
    if !rule.zone.is_empty() {
        match want_role {
            None => not_for("zone", errors),
            Some(role) => match zone_role(&rule.zone) {
                Some(r) if r == role => {}
                Some(r) => errors.push(ConfigError::new(
                    format!("{p}.zone"),
                    format!(
                        "zone '{}' is a {r} zone; kind {kind} needs a {role} zone ({})",
                        rule.zone,
                        zone_list(role)
                    ),
                )),
                None => errors.push(ConfigError::new(
                    format!("{p}.zone"),
                    format!(
                        "no zone with id '{}' ({role} zones: {})",
                        rule.zone,
                        zone_list(role)
                    ),
                )),
            },
        }
    }
    if !rule.camera.is_empty() {
        if kind != AlertKind::CameraDown {
            not_for("camera", errors);
        } else if !cameras.iter().any(|(c, _)| *c == rule.camera) {
            let known: Vec<&str> = cameras.iter().map(|(c, _)| *c).collect();
            errors.push(ConfigError::new(
                format!("{p}.camera"),
                format!(
                    "no camera with id '{}' (cameras: {})",
                    rule.camera,
                    known.join(", ")
                ),
            ));
        }
    }
    if kind == AlertKind::CounterUnattended && rule.min_waiting == 0 {
        errors.push(ConfigError::new(
            format!("{p}.min_waiting"),
            "must be at least 1 (an idle counter with nobody waiting is no problem)",
        ));
    }
    for (field, v) in [
        ("for_s", rule.for_s),
        ("clear_for_s", rule.clear_for_s),
        ("cooldown_s", rule.cooldown_s),
        ("renotify_s", rule.renotify_s),
    ] {
        non_negative(format!("{p}.{field}"), v, errors);
    }
    positive(format!("{p}.window_s"), rule.window_s, errors);
}

fn check_channel(
    p: &str,
    c: &ChannelConfig,
    seen: &mut HashSet<String>,
    errors: &mut Vec<ConfigError>,
) {
    check_id(format!("{p}.id"), &c.id, seen, errors);
    positive(format!("{p}.timeout_s"), c.timeout_s, errors);
    let kind = c.kind;
    let defaults = ChannelConfig::new("", kind);
    // (field, written with a non-default value, kinds it applies to)
    let fields: [(&str, bool, &[ChannelKind]); 12] = [
        ("url", !c.url.is_empty(), &[ChannelKind::Webhook]),
        ("secret", !c.secret.is_empty(), &[ChannelKind::Webhook]),
        (
            "host",
            !c.host.is_empty(),
            &[ChannelKind::Email, ChannelKind::Mqtt],
        ),
        (
            "port",
            c.port != 0,
            &[ChannelKind::Email, ChannelKind::Mqtt],
        ),
        (
            "security",
            c.security != defaults.security,
            &[ChannelKind::Email],
        ),
        (
            "username",
            !c.username.is_empty(),
            &[ChannelKind::Email, ChannelKind::Mqtt],
        ),
        (
            "password",
            !c.password.is_empty(),
            &[ChannelKind::Email, ChannelKind::Mqtt],
        ),
        ("from", !c.from.is_empty(), &[ChannelKind::Email]),
        ("to", !c.to.is_empty(), &[ChannelKind::Email]),
        ("ca_file", !c.ca_file.is_empty(), &[ChannelKind::Email]),
        ("client_id", !c.client_id.is_empty(), &[ChannelKind::Mqtt]),
        (
            "topic_prefix",
            c.topic_prefix != defaults.topic_prefix,
            &[ChannelKind::Mqtt],
        ),
    ];
    for (field, set, kinds) in fields {
        if set && !kinds.contains(&kind) {
            errors.push(ConfigError::new(
                format!("{p}.{field}"),
                format!("does not apply to a {} channel", kind.as_str()),
            ));
        }
    }
    let missing = |field: &str, what: &str, errors: &mut Vec<ConfigError>| {
        errors.push(ConfigError::new(
            format!("{p}.{field}"),
            format!("missing ({what})"),
        ));
    };
    match kind {
        ChannelKind::Webhook => {
            if c.url.is_empty() {
                missing("url", "the address to POST to", errors);
            } else if !(c.url.starts_with("http://") || c.url.starts_with("https://")) {
                errors.push(ConfigError::new(
                    format!("{p}.url"),
                    format!("'{}' must start with http:// or https://", c.url),
                ));
            }
        }
        ChannelKind::Email => {
            if c.host.is_empty() {
                missing("host", "the SMTP server", errors);
            }
            if c.from.is_empty() {
                missing("from", "the sender address", errors);
            } else if !c.from.contains('@') {
                errors.push(ConfigError::new(
                    format!("{p}.from"),
                    format!("'{}' is not a mail address", c.from),
                ));
            }
            if c.to.is_empty() {
                missing("to", "at least one recipient", errors);
            }
            for (i, a) in c.to.iter().enumerate() {
                if !a.contains('@') {
                    errors.push(ConfigError::new(
                        format!("{p}.to[{i}]"),
                        format!("'{a}' is not a mail address"),
                    ));
                }
            }
            if !c.ca_file.is_empty() && c.security == SmtpSecurity::Plain {
                errors.push(ConfigError::new(
                    format!("{p}.ca_file"),
                    "does not apply to security = \"plain\" (no TLS)",
                ));
            }
            if c.password.is_empty() != c.username.is_empty() {
                errors.push(ConfigError::new(
                    format!("{p}.password"),
                    "username and password go together",
                ));
            }
        }
        ChannelKind::Mqtt => {
            if c.host.is_empty() {
                missing("host", "the MQTT broker", errors);
            }
            if c.qos > 2 {
                errors.push(ConfigError::new(
                    format!("{p}.qos"),
                    format!("{} is not 0, 1 or 2", c.qos),
                ));
            }
            if c.topic_prefix.is_empty()
                || c.topic_prefix.contains(['+', '#'])
                || c.topic_prefix.starts_with('/')
                || c.topic_prefix.ends_with('/')
            {
                errors.push(ConfigError::new(
                    format!("{p}.topic_prefix"),
                    format!(
                        "'{}' must be a topic without wildcards or leading/trailing '/'",
                        c.topic_prefix
                    ),
                ));
            }
        }
        ChannelKind::Log => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, alerts::*};

    const BASE: &str = r#"
        [site]
        id = "an-phu"

        [[cameras]]
        id = "sanh"
        source = { kind = "test" }

        [[zones]]
        id = "khu-cho"
        camera = "sanh"
        role = "waiting"
        polygon = [[0, 0], [0.5, 0], [0.5, 0.5]]

        [[zones]]
        id = "quay-1"
        camera = "sanh"
        role = "counter"
        counter = 1
        polygon = [[0.5, 0.5], [1, 0.5], [1, 1]]
    "#;

    fn errors_of(alerts: &str) -> Vec<String> {
        match Config::from_toml_str(&format!("{BASE}\n{alerts}")) {
            Ok(_) => Vec::new(),
            Err(e) => e.errors().iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn a_full_section_loads_with_defaults() {
        let cfg = Config::from_toml_str(&format!(
            "{BASE}\n{}",
            r#"
            [[alerts.rules]]
            id = "hang-cho"
            kind = "queue_length"
            zone = "khu-cho"
            trigger = 15
            clear_below = 10

            [[alerts.rules]]
            id = "camera"
            kind = "camera_down"
            severity = "critical"
            working_hours = false
            channels = ["mail"]

            [[alerts.rules]]
            id = "hai-long"
            kind = "satisfaction"
            trigger = 0.8
            clear_above = 0.85

            [[alerts.channels]]
            id = "mail"
            kind = "email"
            host = "127.0.0.1"
            security = "plain"
            from = "hallwatch@example.gov.vn"
            to = ["truong-bo-phan@example.gov.vn"]

            [[alerts.channels]]
            id = "mqtt"
            kind = "mqtt"
            host = "127.0.0.1"
            "#
        ))
        .expect("valid");
        let a = &cfg.alerts;
        assert!(a.enabled);
        assert_eq!(a.language, Language::Vi);
        assert_eq!(a.rules[0].clear_level(), Some(10.0));
        assert_eq!(a.rules[0].for_s, 300.0);
        assert_eq!(a.rules[1].severity, Severity::Critical);
        assert_eq!(a.rules[1].clear_level(), None);
        assert_eq!(a.rules[2].clear_level(), Some(0.85));
        assert_eq!(a.channels[0].effective_port(), 25);
        assert_eq!(a.channels[1].effective_port(), 1883);
        assert_eq!(a.retry.delay_after(1), 5.0);
        assert_eq!(a.retry.delay_after(3), 20.0);
        assert_eq!(a.retry.delay_after(30), 600.0);
    }

    #[test]
    fn every_mistake_is_named_with_its_path() {
        let errs = errors_of(
            r#"
            [alerts]
            retry = { initial_s = 0 }

            [[alerts.rules]]
            id = "a"
            kind = "queue_length"
            zone = "quay-1"
            trigger = 10

            [[alerts.rules]]
            id = "a"
            kind = "predicted_wait"

            [[alerts.rules]]
            id = "c"
            kind = "queue_length"
            trigger = 10
            clear_below = 12

            [[alerts.rules]]
            id = "d"
            kind = "camera_down"
            camera = "nope"
            trigger = 3
            channels = ["pager"]

            [[alerts.rules]]
            id = "e"
            kind = "satisfaction"
            trigger = 80
            clear_below = 0.9

            [[alerts.channels]]
            id = "hook"
            kind = "webhook"
            host = "x"

            [[alerts.channels]]
            id = "mail"
            kind = "email"
            to = ["nobody"]
            "#,
        );
        assert_eq!(
            errs,
            [
                "alerts.retry.initial_s: must be more than 0, is 0",
                "alerts.channels[0].host: does not apply to a webhook channel",
                "alerts.channels[0].url: missing (the address to POST to)",
                "alerts.channels[1].host: missing (the SMTP server)",
                "alerts.channels[1].from: missing (the sender address)",
                "alerts.channels[1].to[0]: 'nobody' is not a mail address",
                "alerts.rules[0].zone: zone 'quay-1' is a counter zone; kind queue_length needs a waiting zone (khu-cho)",
                "alerts.rules[1].id: 'a' is used twice",
                "alerts.rules[1].trigger: missing (the level that raises a predicted_wait alert)",
                "alerts.rules[2].clear_below: 12 must be between 0 and trigger (10)",
                "alerts.rules[3].trigger: does not apply to kind camera_down",
                "alerts.rules[3].camera: no camera with id 'nope' (cameras: sanh)",
                "alerts.rules[3].channels[0]: no channel with id 'pager' (channels: hook, mail)",
                "alerts.rules[4].trigger: 80 is outside (0, 1] (a share of satisfied ratings)",
                "alerts.rules[4].clear_below: does not apply to kind satisfaction",
            ]
        );
    }

    #[test]
    fn unknown_keys_and_kinds_are_structural_errors() {
        let errs = errors_of(
            r#"
            [[alerts.rules]]
            id = "a"
            kind = "queue_lenght"
            trigger = 3

            [[alerts.rules]]
            id = "b"
            kind = "queue_length"
            trigger = 3
            for = 10
            "#,
        );
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0].starts_with("alerts.rules[0].kind: unknown variant"),
            "{errs:?}"
        );
        assert!(
            errs[1].starts_with("alerts.rules[1].for: unknown field"),
            "{errs:?}"
        );
    }

    #[test]
    fn severities_and_kinds_round_trip_their_names() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.as_str()), Some(k));
        }
        assert!(Severity::Critical > Severity::Warning);
    }
}
