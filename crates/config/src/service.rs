//! `[service]`: ticket-system intake, rating devices and dossier imports.
//!
//! ```toml
//! [service]
//! rating_rate_per_min = 6      # ratings accepted per kiosk/device token and minute
//! rating_burst = 3             # ... of which this many at once
//!
//! [service.tickets]            # the columns of the ticket system's CSV/XLSX export
//! number = "So phieu"
//! service = "Linh vuc"
//! issued = "Gio lay so"
//! called = "Gio goi"
//! counter = "Quay"
//! finished = "Gio ket thuc"
//! no_show = ""                 # "" = the file has no such column
//! time_formats = ["%d/%m/%Y %H:%M:%S"]
//!
//! [[service.rating_scales]]    # a 5-star device: 5 -> Rất hài lòng, 3-4 -> Hài lòng
//! scale_max = 5
//! very_satisfied = [5]
//! satisfied = [3, 4]
//! dissatisfied = [1, 2]
//!
//! [service.dossiers]           # the one-stop software's dossier export
//! code = "Ma ho so"
//! channel = "Hinh thuc"
//! received = "Ngay nhan"
//! due = "Ngay hen tra"
//! resolved = "Ngay tra"
//! ```
//!
//! Times in imported files are local times of the site's time zone, read with the first of
//! `time_formats` (chrono `strftime` patterns, or `unix` for Unix seconds, `rfc3339` for times
//! with an offset) that fits; XLSX date-time cells are read as they are.

use crate::ConfigError;
use serde::{Deserialize, Serialize};

/// Ticket-system intake, rating devices and dossier imports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Ratings accepted per kiosk or rating-device token and minute (sustained rate).
    #[serde(default = "default_rate")]
    pub rating_rate_per_min: u32,
    /// Ratings a token may send at once before the rate applies.
    #[serde(default = "default_burst")]
    pub rating_burst: u32,
    /// Longest rating comment accepted, characters.
    #[serde(default = "default_comment_max")]
    pub comment_max_chars: usize,
    /// How devices with another scale (1-5 stars) map onto the three levels.
    #[serde(default = "default_scales")]
    pub rating_scales: Vec<RatingScaleConfig>,
    /// Columns of ticket-system exports.
    #[serde(default)]
    pub tickets: TicketImportConfig,
    /// Columns of dossier exports.
    #[serde(default)]
    pub dossiers: DossierImportConfig,
}

fn default_rate() -> u32 {
    6
}
fn default_burst() -> u32 {
    3
}
fn default_comment_max() -> usize {
    500
}

fn default_scales() -> Vec<RatingScaleConfig> {
    vec![
        RatingScaleConfig {
            scale_max: 5,
            very_satisfied: vec![5],
            satisfied: vec![3, 4],
            dissatisfied: vec![1, 2],
        },
        RatingScaleConfig {
            scale_max: 4,
            very_satisfied: vec![4],
            satisfied: vec![3],
            dissatisfied: vec![1, 2],
        },
        RatingScaleConfig {
            scale_max: 3,
            very_satisfied: vec![3],
            satisfied: vec![2],
            dissatisfied: vec![1],
        },
    ]
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            rating_rate_per_min: default_rate(),
            rating_burst: default_burst(),
            comment_max_chars: default_comment_max(),
            rating_scales: default_scales(),
            tickets: TicketImportConfig::default(),
            dossiers: DossierImportConfig::default(),
        }
    }
}

/// Which scores of a device's scale `1..=scale_max` mean which level; every score belongs to
/// exactly one level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingScaleConfig {
    /// The device's best score (5 for five stars).
    pub scale_max: u32,
    /// Scores meaning Rất hài lòng.
    pub very_satisfied: Vec<u32>,
    /// Scores meaning Hài lòng.
    pub satisfied: Vec<u32>,
    /// Scores meaning Không hài lòng.
    pub dissatisfied: Vec<u32>,
}

/// One of the three levels, as a scale maps a score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleLevel {
    /// Rất hài lòng.
    VerySatisfied,
    /// Hài lòng.
    Satisfied,
    /// Không hài lòng.
    Dissatisfied,
}

impl RatingScaleConfig {
    /// The level of `score`; None when the scale does not list it.
    pub fn level_of(&self, score: u32) -> Option<ScaleLevel> {
        if self.very_satisfied.contains(&score) {
            Some(ScaleLevel::VerySatisfied)
        } else if self.satisfied.contains(&score) {
            Some(ScaleLevel::Satisfied)
        } else if self.dissatisfied.contains(&score) {
            Some(ScaleLevel::Dissatisfied)
        } else {
            None
        }
    }
}

fn default_time_formats() -> Vec<String> {
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%Y-%m-%d",
        "%d/%m/%Y",
        "rfc3339",
        "unix",
    ]
    .map(String::from)
    .to_vec()
}

fn default_delimiter() -> String {
    ",".into()
}

fn s(v: &str) -> String {
    v.to_string()
}

/// The columns (header names, matched case-insensitively and trimmed) of a ticket export with
/// one row per ticket. An empty name means the file has no such column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketImportConfig {
    /// Ticket number (required).
    #[serde(default = "d_number")]
    pub number: String,
    /// Service chosen at the machine.
    #[serde(default = "d_service")]
    pub service: String,
    /// Issue time (required).
    #[serde(default = "d_issued")]
    pub issued: String,
    /// Call time.
    #[serde(default = "d_called")]
    pub called: String,
    /// Counter number.
    #[serde(default = "d_counter")]
    pub counter: String,
    /// End of service.
    #[serde(default = "d_finished")]
    pub finished: String,
    /// No-show: a time, or a mark (`1`, `x`, `yes`, `true`, `có`) meaning it at the call time.
    #[serde(default = "d_no_show")]
    pub no_show: String,
    /// Time formats tried in order (chrono strftime, `unix`, `rfc3339`).
    #[serde(default = "default_time_formats")]
    pub time_formats: Vec<String>,
    /// CSV field delimiter, one character.
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    /// XLSX sheet to read; empty for the first.
    #[serde(default)]
    pub sheet: String,
}

fn d_number() -> String {
    s("number")
}
fn d_service() -> String {
    s("service")
}
fn d_issued() -> String {
    s("issued")
}
fn d_called() -> String {
    s("called")
}
fn d_counter() -> String {
    s("counter")
}
fn d_finished() -> String {
    s("finished")
}
fn d_no_show() -> String {
    s("no_show")
}

impl Default for TicketImportConfig {
    fn default() -> Self {
        Self {
            number: d_number(),
            service: d_service(),
            issued: d_issued(),
            called: d_called(),
            counter: d_counter(),
            finished: d_finished(),
            no_show: d_no_show(),
            time_formats: default_time_formats(),
            delimiter: default_delimiter(),
            sheet: String::new(),
        }
    }
}

/// The columns of a dossier export, one row per dossier. An empty name means no such column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DossierImportConfig {
    /// Dossier code (required).
    #[serde(default = "d_code")]
    pub code: String,
    /// Procedure name.
    #[serde(default = "d_service")]
    pub service: String,
    /// Channel (required): one of `online_values` or `in_person_values`.
    #[serde(default = "d_channel")]
    pub channel: String,
    /// Received (required).
    #[serde(default = "d_received")]
    pub received: String,
    /// Due date (hẹn trả).
    #[serde(default = "d_due")]
    pub due: String,
    /// Resolved (trả kết quả); empty while in progress.
    #[serde(default = "d_resolved")]
    pub resolved: String,
    /// Channel values meaning online, matched case-insensitively.
    #[serde(default = "d_online")]
    pub online_values: Vec<String>,
    /// Channel values meaning in person, matched case-insensitively.
    #[serde(default = "d_in_person")]
    pub in_person_values: Vec<String>,
    /// Time formats tried in order (chrono strftime, `unix`, `rfc3339`).
    #[serde(default = "default_time_formats")]
    pub time_formats: Vec<String>,
    /// CSV field delimiter, one character.
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    /// XLSX sheet to read; empty for the first.
    #[serde(default)]
    pub sheet: String,
}

fn d_code() -> String {
    s("code")
}
fn d_channel() -> String {
    s("channel")
}
fn d_received() -> String {
    s("received")
}
fn d_due() -> String {
    s("due")
}
fn d_resolved() -> String {
    s("resolved")
}
fn d_online() -> Vec<String> {
    ["online", "trực tuyến", "truc tuyen", "dvc"]
        .map(s)
        .to_vec()
}
fn d_in_person() -> Vec<String> {
    ["in_person", "trực tiếp", "truc tiep", "một cửa", "mot cua"]
        .map(s)
        .to_vec()
}

impl Default for DossierImportConfig {
    fn default() -> Self {
        Self {
            code: d_code(),
            service: d_service(),
            channel: d_channel(),
            received: d_received(),
            due: d_due(),
            resolved: d_resolved(),
            online_values: d_online(),
            in_person_values: d_in_person(),
            time_formats: default_time_formats(),
            delimiter: default_delimiter(),
            sheet: String::new(),
        }
    }
}

/// True when `f` is a usable time format: `unix`, `rfc3339` or a chrono pattern that
/// chrono understands.
pub fn valid_time_format(f: &str) -> bool {
    if f == "unix" || f == "rfc3339" {
        return true;
    }
    !f.trim().is_empty()
        && chrono::format::StrftimeItems::new(f).all(|i| !matches!(i, chrono::format::Item::Error))
}

fn check_required(path: &str, value: &str, errors: &mut Vec<ConfigError>) {
    if value.trim().is_empty() {
        errors.push(ConfigError::new(
            path,
            "this column is required and cannot be empty",
        ));
    }
}

fn check_file(path: &str, formats: &[String], delimiter: &str, errors: &mut Vec<ConfigError>) {
    if formats.is_empty() {
        errors.push(ConfigError::new(
            format!("{path}.time_formats"),
            "at least one time format is needed",
        ));
    }
    for (i, f) in formats.iter().enumerate() {
        if !valid_time_format(f) {
            errors.push(ConfigError::new(
                format!("{path}.time_formats[{i}]"),
                format!("'{f}' is not a chrono time format (e.g. %d/%m/%Y %H:%M), unix or rfc3339"),
            ));
        }
    }
    if delimiter.len() != 1 || !delimiter.is_ascii() {
        errors.push(ConfigError::new(
            format!("{path}.delimiter"),
            format!("'{delimiter}' must be one ASCII character such as , or ;"),
        ));
    }
}

impl ServiceConfig {
    /// The scale of devices whose best score is `scale_max`.
    pub fn scale(&self, scale_max: u32) -> Option<&RatingScaleConfig> {
        self.rating_scales.iter().find(|s| s.scale_max == scale_max)
    }

    /// Adds this section's semantic errors to `errors`.
    pub(crate) fn check(&self, errors: &mut Vec<ConfigError>) {
        if self.rating_rate_per_min == 0 {
            errors.push(ConfigError::new(
                "service.rating_rate_per_min",
                "must be at least 1",
            ));
        }
        if self.rating_burst == 0 {
            errors.push(ConfigError::new(
                "service.rating_burst",
                "must be at least 1",
            ));
        }
        if self.comment_max_chars == 0 {
            errors.push(ConfigError::new(
                "service.comment_max_chars",
                "must be at least 1",
            ));
        }
        for (i, sc) in self.rating_scales.iter().enumerate() {
            let path = format!("service.rating_scales[{i}]");
            if !(2..=10).contains(&sc.scale_max) {
                errors.push(ConfigError::new(
                    format!("{path}.scale_max"),
                    format!("{} is outside 2..=10", sc.scale_max),
                ));
                continue;
            }
            if let Some(j) = self.rating_scales[..i]
                .iter()
                .position(|o| o.scale_max == sc.scale_max)
            {
                errors.push(ConfigError::new(
                    format!("{path}.scale_max"),
                    format!(
                        "scale {} is already defined by service.rating_scales[{j}]",
                        sc.scale_max
                    ),
                ));
            }
            let lists = [
                ("very_satisfied", &sc.very_satisfied),
                ("satisfied", &sc.satisfied),
                ("dissatisfied", &sc.dissatisfied),
            ];
            let mut seen: Vec<u32> = Vec::new();
            for (name, list) in lists {
                for &score in list.iter() {
                    if score < 1 || score > sc.scale_max {
                        errors.push(ConfigError::new(
                            format!("{path}.{name}"),
                            format!("score {score} is outside 1..={}", sc.scale_max),
                        ));
                    } else if seen.contains(&score) {
                        errors.push(ConfigError::new(
                            format!("{path}.{name}"),
                            format!("score {score} is already mapped to another level"),
                        ));
                    } else {
                        seen.push(score);
                    }
                }
            }
            let missing: Vec<String> = (1..=sc.scale_max)
                .filter(|s| !seen.contains(s))
                .map(|s| s.to_string())
                .collect();
            if !missing.is_empty() {
                errors.push(ConfigError::new(
                    path.clone(),
                    format!("scores {} are not mapped to any level", missing.join(", ")),
                ));
            }
        }
        let t = &self.tickets;
        check_required("service.tickets.number", &t.number, errors);
        check_required("service.tickets.issued", &t.issued, errors);
        check_file("service.tickets", &t.time_formats, &t.delimiter, errors);
        let d = &self.dossiers;
        check_required("service.dossiers.code", &d.code, errors);
        check_required("service.dossiers.channel", &d.channel, errors);
        check_required("service.dossiers.received", &d.received, errors);
        check_file("service.dossiers", &d.time_formats, &d.delimiter, errors);
        if d.online_values.is_empty() {
            errors.push(ConfigError::new(
                "service.dossiers.online_values",
                "at least one value is needed",
            ));
        }
        if d.in_person_values.is_empty() {
            errors.push(ConfigError::new(
                "service.dossiers.in_person_values",
                "at least one value is needed",
            ));
        }
        for (i, v) in d.online_values.iter().enumerate() {
            if d.in_person_values
                .iter()
                .any(|p| p.to_lowercase() == v.to_lowercase())
            {
                errors.push(ConfigError::new(
                    format!("service.dossiers.online_values[{i}]"),
                    format!("'{v}' is also an in-person value"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;

    fn paths(text: &str) -> Vec<String> {
        match Config::from_toml_str(text) {
            Ok(_) => panic!("expected errors"),
            Err(e) => e.errors().iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn defaults_map_five_stars_and_need_no_section() {
        let c = Config::from_toml_str("[site]\nid = \"h\"\n").unwrap();
        let five = c.service.scale(5).unwrap();
        assert_eq!(five.level_of(5), Some(super::ScaleLevel::VerySatisfied));
        assert_eq!(five.level_of(3), Some(super::ScaleLevel::Satisfied));
        assert_eq!(five.level_of(2), Some(super::ScaleLevel::Dissatisfied));
        assert_eq!(five.level_of(6), None);
        assert_eq!(c.service.tickets.number, "number");
        assert_eq!(c.service.rating_rate_per_min, 6);
    }

    #[test]
    fn a_mapping_is_read() {
        let c = Config::from_toml_str(
            r#"
[site]
id = "h"
[service.tickets]
number = "So phieu"
no_show = ""
time_formats = ["%d/%m/%Y %H:%M"]
delimiter = ";"
[[service.rating_scales]]
scale_max = 2
very_satisfied = [2]
satisfied = []
dissatisfied = [1]
"#,
        )
        .unwrap();
        assert_eq!(c.service.tickets.number, "So phieu");
        assert_eq!(c.service.tickets.issued, "issued");
        assert_eq!(c.service.rating_scales.len(), 1);
    }

    #[test]
    fn every_mistake_is_named_with_its_path() {
        let errs = paths(
            r#"
[site]
id = "h"
[service]
rating_rate_per_min = 0
[service.tickets]
number = ""
time_formats = ["%Q-%d"]
delimiter = ";;"
[service.dossiers]
received = " "
online_values = ["Trực tiếp"]
in_person_values = ["trực tiếp"]
[[service.rating_scales]]
scale_max = 5
very_satisfied = [5, 6]
satisfied = [4, 5]
dissatisfied = [1]
"#,
        );
        let want = [
            "service.rating_rate_per_min: must be at least 1",
            "service.rating_scales[0].very_satisfied: score 6 is outside 1..=5",
            "service.rating_scales[0].satisfied: score 5 is already mapped to another level",
            "service.rating_scales[0]: scores 2, 3 are not mapped to any level",
            "service.tickets.number: this column is required and cannot be empty",
            "service.tickets.time_formats[0]: '%Q-%d' is not a chrono time format (e.g. %d/%m/%Y %H:%M), unix or rfc3339",
            "service.tickets.delimiter: ';;' must be one ASCII character such as , or ;",
            "service.dossiers.received: this column is required and cannot be empty",
            "service.dossiers.online_values[0]: 'Trực tiếp' is also an in-person value",
        ];
        assert_eq!(errs, want);
    }
}
