//! Semantic checks on the parts of a config that parsed: source kinds, references between zones
//! and cameras, ranges and coordinates.
//!
//! Which keys were actually written is read from the raw TOML table, so that a key that does not
//! apply (e.g. `url` on a file source, `line` on a waiting zone) is reported even when it holds
//! the default value.

use crate::ConfigError;
use crate::ServerConfig;
use crate::model::*;
use crate::model::{authority_range, userinfo_range};
use std::collections::{HashMap, HashSet};

/// What the structural pass produced; `None` items had structural errors (already reported).
pub(crate) struct Parsed<'a> {
    pub raw: &'a toml::Table,
    pub site: Option<&'a SiteConfig>,
    pub cameras: &'a [Option<CameraConfig>],
    pub zones: &'a [Option<ZoneConfig>],
    pub storage: Option<&'a StorageConfig>,
    pub server: Option<&'a ServerConfig>,
    pub detector: Option<&'a DetectorConfig>,
    pub hall: Option<&'a HallConfig>,
    pub hours: Option<&'a crate::hours::HoursConfig>,
    pub alerts: Option<&'a crate::alerts::AlertsConfig>,
    pub service: Option<&'a crate::service::ServiceConfig>,
    pub uplink: Option<&'a crate::uplink::UplinkConfig>,
}

fn well_formed_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn check_id(path: String, id: &str, errors: &mut Vec<ConfigError>) {
    if id.is_empty() {
        errors.push(ConfigError::new(path, "missing"));
    } else if !well_formed_id(id) {
        errors.push(ConfigError::new(
            path,
            format!("'{id}' must be only letters, digits, '-' and '_'"),
        ));
    }
}

/// The keys written in the raw table `section[index].sub...`.
fn raw_keys<'a>(raw: &'a toml::Table, section: &str, index: usize, sub: &[&str]) -> Vec<&'a str> {
    let mut cur = raw
        .get(section)
        .and_then(|v| v.as_array())
        .and_then(|a| a.get(index));
    for s in sub {
        cur = cur.and_then(|v| v.get(*s));
    }
    cur.and_then(|v| v.as_table())
        .map(|t| t.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The string `key` of each item of the raw array `section` (`None` where it is not a string).
fn raw_ids<'a>(raw: &'a toml::Table, section: &str, key: &str) -> Vec<Option<&'a str>> {
    raw.get(section)
        .and_then(|v| v.as_array())
        .map(|items| {
            items
                .iter()
                .map(|item| item.get(key).and_then(|v| v.as_str()))
                .collect()
        })
        .unwrap_or_default()
}

/// Each present key of `keys` that is not in `allowed` is an error.
fn not_applicable(
    p: &str,
    keys: &[&str],
    allowed: &[&str],
    what: &str,
    errors: &mut Vec<ConfigError>,
) {
    for key in keys {
        if !allowed.contains(key) {
            errors.push(ConfigError::new(
                format!("{p}.{key}"),
                format!("does not apply to {what}"),
            ));
        }
    }
}

fn check_points(path: &str, points: &[[f64; 2]], errors: &mut Vec<ConfigError>) {
    for (i, [x, y]) in points.iter().enumerate() {
        for (name, v) in [("x", x), ("y", y)] {
            if !(v.is_finite() && (0.0..=1.0).contains(v)) {
                errors.push(ConfigError::new(
                    format!("{path}[{i}]"),
                    format!(
                        "{name} = {v} is outside [0, 1] (coordinates are fractions of the image \
                         width and height)"
                    ),
                ));
            }
        }
    }
}

fn check_polygon(path: &str, points: &[[f64; 2]], errors: &mut Vec<ConfigError>) {
    if points.len() < 3 {
        errors.push(ConfigError::new(
            path,
            format!("needs at least 3 points, has {}", points.len()),
        ));
    }
    check_points(path, points, errors);
    if points.len() >= 3 {
        // Shoelace formula: a polygon with no area covers nobody.
        let twice_area: f64 = points
            .iter()
            .zip(points.iter().cycle().skip(1))
            .map(|([x0, y0], [x1, y1])| x0 * y1 - x1 * y0)
            .sum();
        if twice_area.abs() < 1e-12 {
            errors.push(ConfigError::new(
                path,
                "has no area (all points lie on one line)",
            ));
        }
    }
}

fn positive(path: String, v: f64, errors: &mut Vec<ConfigError>) {
    if !(v.is_finite() && v > 0.0) {
        errors.push(ConfigError::new(
            path,
            format!("must be a positive number of seconds, is {v}"),
        ));
    }
}

fn kind_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Rtsp => "rtsp",
        SourceKind::File => "file",
        SourceKind::Test => "test",
    }
}

fn role_name(role: ZoneRole) -> &'static str {
    match role {
        ZoneRole::Waiting => "waiting",
        ZoneRole::Counter => "counter",
        ZoneRole::Entrance => "entrance",
        ZoneRole::Ignore => "ignore",
    }
}

fn check_source(p: &str, s: &SourceConfig, keys: &[&str], errors: &mut Vec<ConfigError>) {
    let allowed: &[&str] = match s.kind {
        SourceKind::Rtsp => &[
            "kind",
            "url",
            "username",
            "password",
            "transport",
            "latency_ms",
        ],
        SourceKind::File => &["kind", "path", "loop"],
        SourceKind::Test => &["kind", "pattern", "width", "height", "fps"],
    };
    not_applicable(
        p,
        keys,
        allowed,
        &format!("kind = \"{}\"", kind_name(s.kind)),
        errors,
    );
    match s.kind {
        SourceKind::Rtsp => {
            if s.url.is_empty() {
                errors.push(ConfigError::new(format!("{p}.url"), "missing"));
            } else if !(s.url.starts_with("rtsp://") || s.url.starts_with("rtsps://")) {
                errors.push(ConfigError::new(
                    format!("{p}.url"),
                    format!("'{}' must start with rtsp:// or rtsps://", s.redacted_url()),
                ));
            } else if host(&s.url).is_empty() {
                errors.push(ConfigError::new(
                    format!("{p}.url"),
                    format!("'{}' has no host", s.redacted_url()),
                ));
            }
            match userinfo_range(&s.url) {
                Some((start, at)) => {
                    if !s.username.is_empty() {
                        errors.push(ConfigError::new(
                            format!("{p}.username"),
                            "the url already has a user name (give credentials in one place)",
                        ));
                    }
                    if !s.password.is_empty() && s.url[start..at].contains(':') {
                        errors.push(ConfigError::new(
                            format!("{p}.password"),
                            "the url already has a password (give credentials in one place)",
                        ));
                    }
                }
                None => {
                    if !s.password.is_empty() && s.username.is_empty() {
                        errors.push(ConfigError::new(
                            format!("{p}.username"),
                            "missing (a password is set)",
                        ));
                    }
                }
            }
        }
        SourceKind::File => {
            if s.path.is_empty() {
                errors.push(ConfigError::new(format!("{p}.path"), "missing"));
            }
        }
        SourceKind::Test => {
            for (field, v) in [("width", s.width), ("height", s.height), ("fps", s.fps)] {
                if v == 0 {
                    errors.push(ConfigError::new(
                        format!("{p}.{field}"),
                        "must be at least 1",
                    ));
                }
            }
        }
    }
}

/// The host (and port) of a URL, without any userinfo.
fn host(url: &str) -> &str {
    let Some((start, end)) = authority_range(url) else {
        return "";
    };
    let authority = &url[start..end];
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

fn check_camera(p: &str, c: &CameraConfig, source_keys: &[&str], errors: &mut Vec<ConfigError>) {
    check_id(format!("{p}.id"), &c.id, errors);
    check_source(&format!("{p}.source"), &c.source, source_keys, errors);
    let a = &c.analysis;
    if !(a.fps.is_finite() && a.fps >= 0.0) {
        errors.push(ConfigError::new(
            format!("{p}.analysis.fps"),
            format!("must be 0 (every frame) or a positive rate, is {}", a.fps),
        ));
    }
    if !(a.active_fps.is_finite() && a.active_fps >= 0.0) {
        errors.push(ConfigError::new(
            format!("{p}.analysis.active_fps"),
            format!(
                "must be 0 (every frame) or a positive rate, is {}",
                a.active_fps
            ),
        ));
    }
    if !(a.active_hold_s.is_finite() && a.active_hold_s >= 0.0) {
        errors.push(ConfigError::new(
            format!("{p}.analysis.active_hold_s"),
            format!("must be 0 or more seconds, is {}", a.active_hold_s),
        ));
    }
    if a.queue == 0 {
        errors.push(ConfigError::new(
            format!("{p}.analysis.queue"),
            "must be at least 1",
        ));
    }
    let d = &c.detect;
    if !(0.0..=1.0).contains(&d.score_threshold) {
        errors.push(ConfigError::new(
            format!("{p}.detect.score_threshold"),
            format!("{} is outside [0, 1]", d.score_threshold),
        ));
    }
    for (i, r) in d.regions.iter().enumerate() {
        let inside = r.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v));
        if !inside || r[2] <= r[0] || r[3] <= r[1] {
            errors.push(ConfigError::new(
                format!("{p}.detect.regions[{i}]"),
                format!(
                    "{r:?} must be [x1, y1, x2, y2] with 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1"
                ),
            ));
        }
    }
    if !(d.motion_threshold.is_finite() && (0.0..=1.0).contains(&d.motion_threshold)) {
        errors.push(ConfigError::new(
            format!("{p}.detect.motion_threshold"),
            format!("{} is outside [0, 1]", d.motion_threshold),
        ));
    }
    positive(format!("{p}.detect.full_pass_s"), d.full_pass_s, errors);
    let s = &c.supervision;
    positive(
        format!("{p}.supervision.backoff_initial_s"),
        s.backoff_initial_s,
        errors,
    );
    if s.backoff_max_s < s.backoff_initial_s {
        errors.push(ConfigError::new(
            format!("{p}.supervision.backoff_max_s"),
            format!(
                "{} is below backoff_initial_s = {}",
                s.backoff_max_s, s.backoff_initial_s
            ),
        ));
    } else {
        positive(
            format!("{p}.supervision.backoff_max_s"),
            s.backoff_max_s,
            errors,
        );
    }
    positive(
        format!("{p}.supervision.no_frame_timeout_s"),
        s.no_frame_timeout_s,
        errors,
    );
    positive(
        format!("{p}.supervision.start_timeout_s"),
        s.start_timeout_s,
        errors,
    );
}

fn check_zone(
    p: &str,
    z: &ZoneConfig,
    keys: &[&str],
    cameras: &HashSet<&str>,
    errors: &mut Vec<ConfigError>,
) {
    check_id(format!("{p}.id"), &z.id, errors);
    if !cameras.contains(z.camera.as_str()) {
        let mut known: Vec<&str> = cameras.iter().copied().collect();
        known.sort_unstable();
        errors.push(ConfigError::new(
            format!("{p}.camera"),
            if known.is_empty() {
                format!(
                    "no camera with id '{}' (no cameras are configured)",
                    z.camera
                )
            } else {
                format!(
                    "no camera with id '{}' (cameras: {})",
                    z.camera,
                    known.join(", ")
                )
            },
        ));
    }
    let allowed: &[&str] = match z.role {
        ZoneRole::Waiting | ZoneRole::Ignore => &["id", "name", "camera", "role", "polygon"],
        ZoneRole::Counter => &[
            "id",
            "name",
            "camera",
            "role",
            "polygon",
            "counter",
            "staff_polygon",
        ],
        ZoneRole::Entrance => &["id", "name", "camera", "role", "line", "inside"],
    };
    not_applicable(
        p,
        keys,
        allowed,
        &format!("role = \"{}\"", role_name(z.role)),
        errors,
    );
    let has = |key: &str| keys.contains(&key);
    match z.role {
        ZoneRole::Waiting | ZoneRole::Counter | ZoneRole::Ignore => {
            if has("polygon") {
                check_polygon(&format!("{p}.polygon"), &z.polygon, errors);
            } else {
                errors.push(ConfigError::new(
                    format!("{p}.polygon"),
                    "missing (at least 3 points)",
                ));
            }
        }
        ZoneRole::Entrance => {
            let path = format!("{p}.line");
            if !has("line") {
                errors.push(ConfigError::new(path, "missing (2 points)"));
            } else if z.line.len() != 2 {
                errors.push(ConfigError::new(
                    path,
                    format!("needs exactly 2 points, has {}", z.line.len()),
                ));
            } else {
                check_points(&path, &z.line, errors);
                if z.line[0] == z.line[1] {
                    errors.push(ConfigError::new(path, "the two points are the same"));
                }
            }
        }
    }
    if z.role == ZoneRole::Counter {
        if !has("counter") {
            errors.push(ConfigError::new(
                format!("{p}.counter"),
                "missing (the counter number, 1 or more)",
            ));
        } else if z.counter == 0 {
            errors.push(ConfigError::new(
                format!("{p}.counter"),
                "must be at least 1",
            ));
        }
        if has("staff_polygon") {
            check_polygon(&format!("{p}.staff_polygon"), &z.staff_polygon, errors);
        }
    }
}

/// Adds every semantic error of the parsed parts to `errors`.
pub(crate) fn check(parsed: &Parsed<'_>, errors: &mut Vec<ConfigError>) {
    if let Some(h) = parsed.hall {
        for (field, v) in [
            ("edge_margin", h.edge_margin),
            ("enter_after_s", h.enter_after_s),
            ("service_min_s", h.service_min_s),
            ("exit_after_s", h.exit_after_s),
            ("merge_gap_s", h.merge_gap_s),
            ("merge_gap_still_s", h.merge_gap_still_s),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                errors.push(ConfigError::new(
                    format!("hall.{field}"),
                    format!("must be 0 or more, is {v}"),
                ));
            }
        }
        positive("hall.queue_smoothing_s".into(), h.queue_smoothing_s, errors);
        positive("hall.wait_target_min".into(), h.wait_target_min, errors);
        if !(h.merge_distance.is_finite() && (0.0..=1.0).contains(&h.merge_distance)) {
            errors.push(ConfigError::new(
                "hall.merge_distance",
                format!(
                    "{} is outside [0, 1] (a fraction of the image diagonal)",
                    h.merge_distance
                ),
            ));
        }
    }
    if let Some(d) = parsed.detector
        && d.model.trim().is_empty()
    {
        errors.push(ConfigError::new(
            "detector.model",
            "missing (a model manifest path)",
        ));
    }
    if let Some(site) = parsed.site {
        check_id("site.id".into(), &site.id, errors);
        if site.timezone.trim().is_empty() {
            errors.push(ConfigError::new(
                "site.timezone",
                "must not be empty (e.g. \"Asia/Ho_Chi_Minh\")",
            ));
        } else if site.timezone.parse::<chrono_tz::Tz>().is_err() {
            errors.push(ConfigError::new(
                "site.timezone",
                format!(
                    "'{}' is not an IANA time zone such as Asia/Ho_Chi_Minh",
                    site.timezone
                ),
            ));
        }
    }
    if let Some(storage) = parsed.storage {
        if storage.data_dir.trim().is_empty() {
            errors.push(ConfigError::new("storage.data_dir", "must not be empty"));
        }
        if storage.sessions_days == 0 {
            errors.push(ConfigError::new(
                "storage.sessions_days",
                "must be at least 1",
            ));
        }
        if storage.aggregates_days < storage.sessions_days {
            errors.push(ConfigError::new(
                "storage.aggregates_days",
                format!(
                    "{} is below sessions_days = {} (aggregates outlive the visits they summarise)",
                    storage.aggregates_days, storage.sessions_days
                ),
            ));
        }
    }
    if let Some(server) = parsed.server {
        server.check(errors);
    }
    if let Some(h) = parsed.hours {
        h.check(errors);
    }
    if let Some(a) = parsed.alerts {
        a.check(parsed, errors);
    }
    if let Some(sv) = parsed.service {
        sv.check(errors);
    }
    if let Some(u) = parsed.uplink {
        u.check(errors);
    }

    // Camera ids are read from the raw file, so that a camera with a structural error still
    // counts as existing (and as taken) when its id could be read: one mistake, one error.
    let camera_ids = raw_ids(parsed.raw, "cameras", "id");
    let mut first_camera: HashMap<&str, usize> = HashMap::new();
    for (i, id) in camera_ids.iter().enumerate() {
        let Some(id) = id else { continue };
        if let Some(j) = first_camera.get(id) {
            errors.push(ConfigError::new(
                format!("cameras[{i}].id"),
                format!("'{id}' is already used by cameras[{j}]"),
            ));
        } else {
            first_camera.insert(id, i);
        }
    }
    for (i, c) in parsed.cameras.iter().enumerate() {
        let Some(c) = c else { continue };
        let keys = raw_keys(parsed.raw, "cameras", i, &["source"]);
        check_camera(&format!("cameras[{i}]"), c, &keys, errors);
    }

    let known: HashSet<&str> = first_camera.keys().copied().collect();
    let zone_ids = raw_ids(parsed.raw, "zones", "id");
    let mut first_zone: HashMap<&str, usize> = HashMap::new();
    for (i, id) in zone_ids.iter().enumerate() {
        let Some(id) = id else { continue };
        if let Some(j) = first_zone.get(id) {
            errors.push(ConfigError::new(
                format!("zones[{i}].id"),
                format!("'{id}' is already used by zones[{j}]"),
            ));
        } else {
            first_zone.insert(id, i);
        }
    }
    let mut counters: HashMap<(&str, u32), usize> = HashMap::new();
    for (i, z) in parsed.zones.iter().enumerate() {
        let Some(z) = z else { continue };
        let p = format!("zones[{i}]");
        let keys = raw_keys(parsed.raw, "zones", i, &[]);
        check_zone(&p, z, &keys, &known, errors);
        if z.role == ZoneRole::Counter && z.counter > 0 {
            if let Some(j) = counters.get(&(z.camera.as_str(), z.counter)) {
                errors.push(ConfigError::new(
                    format!("{p}.counter"),
                    format!(
                        "counter {} on camera '{}' is already drawn by zones[{j}]",
                        z.counter, z.camera
                    ),
                ));
            } else {
                counters.insert((z.camera.as_str(), z.counter), i);
            }
        }
    }
}
