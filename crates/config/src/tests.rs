use super::*;

/// The errors of a config that must not parse, as `path: message` strings.
fn errors_of(text: &str) -> Vec<String> {
    match Config::from_toml_str(text) {
        Ok(c) => panic!("expected errors, config parsed: {c:#?}"),
        Err(e) => e.errors().iter().map(ToString::to_string).collect(),
    }
}

/// The paths of a config's errors.
fn paths_of(text: &str) -> Vec<String> {
    match Config::from_toml_str(text) {
        Ok(c) => panic!("expected errors, config parsed: {c:#?}"),
        Err(e) => e.errors().iter().map(|e| e.path.clone()).collect(),
    }
}

fn parse(text: &str) -> Config {
    Config::from_toml_str(text).unwrap_or_else(|e| panic!("config should be valid:\n{e}"))
}

const MINIMAL: &str = r#"
[site]
id = "an-phu"
"#;

#[test]
fn minimal_config_gets_defaults() {
    let c = parse(MINIMAL);
    assert_eq!(c.site.id, "an-phu");
    assert_eq!(c.site.name, "");
    assert_eq!(c.site.timezone, "Asia/Ho_Chi_Minh");
    assert!(c.cameras.is_empty());
    assert!(c.zones.is_empty());
    assert_eq!(c.storage, StorageConfig::default());
    assert_eq!(c.storage.data_dir, "data");
    assert!(!c.storage.save_frames);
    assert_eq!(
        (c.storage.sessions_days, c.storage.aggregates_days),
        (90, 400)
    );
    assert_eq!(c.server.bind, "127.0.0.1:8080");
}

#[test]
fn full_config_parses_with_defaults_filled() {
    let c = parse(
        r#"
[site]
id = "hall_1"
name = "Trung tâm Phục vụ hành chính công"
timezone = "Asia/Ho_Chi_Minh"

[[cameras]]
id = "cam1"
source = { kind = "rtsp", url = "rtsp://10.0.0.5/ch1", username = "u", password = "p" }
analysis = { fps = 1, queue = 2 }

[[cameras]]
id = "cam2"
enabled = false
source = { kind = "file", path = "a.mp4", loop = true }
supervision = { backoff_initial_s = 0.5, backoff_max_s = 0.5 }

[[cameras]]
id = "cam3"
source = { kind = "test", pattern = "smpte", width = 320 }

[[zones]]
id = "wait"
camera = "cam1"
role = "waiting"
polygon = [[0, 0], [1, 0], [1, 1]]

[[zones]]
id = "q1"
name = "Quầy 1"
camera = "cam1"
role = "counter"
counter = 1
polygon = [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]
staff_polygon = [[0.1, 0.0], [0.2, 0.0], [0.2, 0.05]]

[[zones]]
id = "q1-cam3"
camera = "cam3"
role = "counter"
counter = 1
polygon = [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]

[[zones]]
id = "door"
camera = "cam2"
role = "entrance"
line = [[0.5, 0.0], [0.5, 1.0]]
inside = "right"

[storage]
data_dir = "/var/lib/hallwatch"
save_frames = true

[server]
bind = "[::]:9000"
"#,
    );
    assert_eq!(c.site.name, "Trung tâm Phục vụ hành chính công");
    assert_eq!(c.cameras.len(), 3);

    let cam1 = &c.cameras[0];
    assert!(cam1.enabled);
    assert_eq!(cam1.name, "");
    assert_eq!(cam1.source.kind, SourceKind::Rtsp);
    assert_eq!(cam1.source.transport, RtspTransport::Tcp);
    assert_eq!(cam1.source.latency_ms, 200);
    assert_eq!(cam1.analysis.fps, 1.0); // an integer is accepted for a float
    assert_eq!(cam1.analysis.queue, 2);
    assert_eq!(cam1.analysis.width, 0);
    assert!(!cam1.analysis.keyframes_only);
    assert_eq!(cam1.supervision, SupervisionConfig::default());

    let cam2 = &c.cameras[1];
    assert!(!cam2.enabled);
    assert_eq!(cam2.source.kind, SourceKind::File);
    assert_eq!(cam2.source.path, "a.mp4");
    assert!(cam2.source.looping);
    assert_eq!(cam2.analysis, AnalysisConfig::default());
    assert_eq!(cam2.analysis.fps, 2.0);
    assert_eq!(cam2.analysis.queue, 4);
    assert_eq!(cam2.supervision.backoff_initial_s, 0.5);
    assert_eq!(cam2.supervision.no_frame_timeout_s, 10.0);
    assert_eq!(cam2.supervision.start_timeout_s, 20.0);

    let cam3 = &c.cameras[2];
    assert_eq!(cam3.source.pattern, "smpte");
    assert_eq!((cam3.source.width, cam3.source.height), (320, 480));
    assert_eq!(cam3.source.fps, 25);

    assert_eq!(c.zones.len(), 4);
    assert_eq!(c.zones[0].role, ZoneRole::Waiting);
    assert_eq!(c.zones[0].polygon, vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]);
    assert_eq!(c.zones[0].counter, 0);
    assert_eq!(c.zones[1].counter, 1);
    assert_eq!(c.zones[1].staff_polygon.len(), 3);
    assert_eq!(c.zones[3].role, ZoneRole::Entrance);
    assert_eq!(c.zones[3].inside, InsideSide::Right);
    assert_eq!(c.zones[0].inside, InsideSide::Left);

    assert_eq!(c.storage.data_dir, "/var/lib/hallwatch");
    assert!(c.storage.save_frames);
    assert_eq!(c.server.bind, "[::]:9000");
}

#[test]
fn every_mistake_is_reported_with_its_path() {
    let errors = errors_of(
        r#"
[site]
id = "an-phu"

[[cameras]]
id = "cam1"
source = { kind = "rtsp", url = "rtsp://10.0.0.5/ch1" }
analysis = { fps2 = 5 }

[[cameras]]
id = "cam2"
source = { kind = "rtsp" }

[[cameras]]
id = "cam1"
source = { kind = "test" }

[[zones]]
id = "wait"
camera = "cam1"
role = "waiting"
polygon = [[0, 0], [1.4, 0], [1, 1]]

[[zones]]
id = "q"
camera = "cam1"
role = "queue"
polygon = [[0, 0], [1, 0], [1, 1]]

[[zones]]
id = "door"
camera = "cam9"
role = "entrance"
line = [[0, 0], [0, 1]]
"#,
    );
    assert_eq!(
        errors,
        vec![
            "cameras[0].analysis.fps2: unknown field (expected one of `fps`, `active_fps`, \
             `active_hold_s`, `width`, `height`, `keyframes_only`, `queue`)",
            "cameras[1].source.url: missing",
            "cameras[2].id: 'cam1' is already used by cameras[0]",
            "zones[0].polygon[1]: x = 1.4 is outside [0, 1] (coordinates are fractions of the \
             image width and height)",
            "zones[1].role: unknown variant `queue`, expected one of `waiting`, `counter`, \
             `entrance`, `ignore`",
            "zones[2].camera: no camera with id 'cam9' (cameras: cam1, cam2)",
        ]
    );
    let joined = Config::from_toml_str("").err().map(|e| e.to_string());
    assert_eq!(joined.as_deref(), Some("site: missing"));
}

#[test]
fn display_is_one_error_per_line() {
    let e = ConfigErrors(vec![
        ConfigError::new("site.id", "missing"),
        ConfigError::new("cameras[0].source.url", "missing"),
    ]);
    assert_eq!(
        e.to_string(),
        "site.id: missing\ncameras[0].source.url: missing"
    );
    assert_eq!(e.errors()[1].to_string(), "cameras[0].source.url: missing");
}

#[test]
fn several_structural_errors_in_one_item_are_all_reported() {
    let errors = errors_of(
        r#"
[site]
idd = "x"

[[cameras]]
name = 5
source = { kind = "rtsp", url = 5, fps2 = 1 }
analysis = { fps2 = 3, queue = -1 }
supervision = { backoff_max_s = "long" }

[[zones]]
id = "z"
camera = "cam1"
role = "counter"
counter = 1
polygon = [[0.1, "x"], [0.2, 0.3]]
line = 7
"#,
    );
    assert_eq!(
        errors,
        vec![
            "site.idd: unknown field (expected one of `id`, `name`, `timezone`)",
            "site.id: missing",
            "cameras[0].analysis.fps2: unknown field (expected one of `fps`, `active_fps`, \
             `active_hold_s`, `width`, `height`, `keyframes_only`, `queue`)",
            "cameras[0].analysis.queue: invalid value: integer `-1`, expected usize",
            "cameras[0].name: invalid type: integer `5`, expected a string",
            "cameras[0].source.fps2: unknown field (expected one of `kind`, `url`, `username`, \
             `password`, `transport`, `latency_ms`, `path`, `loop`, `pattern`, `width`, \
             `height`, `fps`)",
            "cameras[0].source.url: invalid type: integer `5`, expected a string",
            "cameras[0].supervision.backoff_max_s: invalid type: string \"long\", expected f64",
            "cameras[0].id: missing",
            "zones[0].line: invalid type: integer `7`, expected a sequence",
            "zones[0].polygon[0][1]: invalid type: string \"x\", expected f64",
        ]
    );
}

#[test]
fn missing_required_fields_do_not_hide_other_errors() {
    let paths = paths_of(
        r#"
[site]
name = "x"

[[cameras]]
analysis = { fps = "fast" }

[[cameras]]
id = "b"
source = { url = "rtsp://h/", oops = 1 }

[[zones]]
polygon = [[0, 0]]
role = "gate"
"#,
    );
    assert_eq!(
        paths,
        vec![
            "site.id",
            "cameras[0].analysis.fps",
            "cameras[0].id",
            "cameras[0].source",
            "cameras[1].source.oops",
            "cameras[1].source.kind",
            "zones[0].role",
            "zones[0].id",
            "zones[0].camera",
        ]
    );
    let errors = errors_of("[site]\n[[cameras]]\nid = \"c\"\nsource = 5\n");
    assert_eq!(
        errors,
        vec![
            "site.id: missing",
            "cameras[0].source: invalid type: integer `5`, expected struct SourceConfig",
        ]
    );
}

#[test]
fn toml_syntax_error_gives_line_and_column() {
    let err = Config::from_toml_str("[site]\nid = \"x\"\nname = \"Quầy\" oops\n")
        .err()
        .map(|e| e.0)
        .unwrap_or_default();
    assert_eq!(err.len(), 1, "{err:?}");
    assert_eq!(err[0].path, "line 3, column 15");
    assert!(
        err[0].message.starts_with("TOML syntax: "),
        "{}",
        err[0].message
    );

    let err = Config::from_toml_str("[site]\nid = \"x\"\nid = \"y\"\n")
        .err()
        .map(|e| e.0)
        .unwrap_or_default();
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(err[0].path.starts_with("line 3, "), "{err:?}");
}

#[test]
fn unknown_top_level_key_is_reported() {
    let errors = errors_of(
        r#"
camera = []
[site]
id = "a b"
[[zone]]
id = "z"
"#,
    );
    assert_eq!(
        errors,
        vec![
            "camera: unknown section (expected one of site, cameras, zones, storage, server, detector, hall, hours, alerts, service, uplink)",
            "zone: unknown section (expected one of site, cameras, zones, storage, server, detector, hall, hours, alerts, service, uplink)",
            "site.id: 'a b' must be only letters, digits, '-' and '_'",
        ]
    );
    assert_eq!(
        errors_of("[site]\nid = \"a\"\n[cameras]\nid = \"c\"\n"),
        vec!["cameras: expected an array of tables ([[cameras]])"]
    );
}

#[test]
fn source_fields_must_fit_the_kind() {
    let errors = errors_of(
        r#"
[site]
id = "s"

[[cameras]]
id = "file"
source = { kind = "file", url = "rtsp://x/", transport = "udp" }

[[cameras]]
id = "rtsp"
source = { kind = "rtsp", url = "http://x/", path = "a.mp4", loop = false }

[[cameras]]
id = "test"
source = { kind = "test", width = 0, fps = 0, username = "u" }

[[cameras]]
id = "pw"
source = { kind = "rtsp", url = "rtsps://", password = "p" }

[[cameras]]
id = "both"
source = { kind = "rtsp", url = "rtsp://a:b@h/", username = "a", password = "b" }
"#,
    );
    assert_eq!(
        errors,
        vec![
            "cameras[0].source.transport: does not apply to kind = \"file\"",
            "cameras[0].source.url: does not apply to kind = \"file\"",
            "cameras[0].source.path: missing",
            "cameras[1].source.loop: does not apply to kind = \"rtsp\"",
            "cameras[1].source.path: does not apply to kind = \"rtsp\"",
            "cameras[1].source.url: 'http://x/' must start with rtsp:// or rtsps://",
            "cameras[2].source.username: does not apply to kind = \"test\"",
            "cameras[2].source.width: must be at least 1",
            "cameras[2].source.fps: must be at least 1",
            "cameras[3].source.url: 'rtsps://' has no host",
            "cameras[3].source.username: missing (a password is set)",
            "cameras[4].source.username: the url already has a user name (give credentials in \
             one place)",
            "cameras[4].source.password: the url already has a password (give credentials in \
             one place)",
        ]
    );
}

#[test]
fn camera_ranges_are_checked() {
    let errors = errors_of(
        r#"
[site]
id = "s"
timezone = ""

[[cameras]]
id = "cam 1"
source = { kind = "test" }
analysis = { fps = -1, queue = 0 }
supervision = { backoff_initial_s = 0, backoff_max_s = 5, no_frame_timeout_s = nan, start_timeout_s = -2 }

[[cameras]]
id = "c2"
source = { kind = "test" }
analysis = { fps = inf }
supervision = { backoff_initial_s = 10, backoff_max_s = 5 }

[storage]
data_dir = ""
sessions_days = 500

[server]
bind = "localhost"
"#,
    );
    assert_eq!(
        errors,
        vec![
            "site.timezone: must not be empty (e.g. \"Asia/Ho_Chi_Minh\")",
            "cameras[0].id: 'cam 1' must be only letters, digits, '-' and '_'",
            "cameras[0].analysis.fps: must be 0 (every frame) or a positive rate, is -1",
            "cameras[0].analysis.queue: must be at least 1",
            "cameras[0].supervision.backoff_initial_s: must be a positive number of seconds, is 0",
            "cameras[0].supervision.no_frame_timeout_s: must be a positive number of seconds, \
             is NaN",
            "cameras[0].supervision.start_timeout_s: must be a positive number of seconds, is -2",
            "cameras[1].analysis.fps: must be 0 (every frame) or a positive rate, is inf",
            "cameras[1].supervision.backoff_max_s: 5 is below backoff_initial_s = 10",
            "storage.data_dir: must not be empty",
            "storage.aggregates_days: 400 is below sessions_days = 500 (aggregates outlive the visits they summarise)",
            "server.bind: 'localhost' is not an address:port such as 127.0.0.1:8080 or [::]:8080",
        ]
    );
    // fps = 0 means every frame.
    parse(
        "[site]\nid = \"s\"\n[[cameras]]\nid = \"c\"\nsource = { kind = \"test\" }\nanalysis = { fps = 0 }\n",
    );
}

#[test]
fn zone_rules_are_checked() {
    let errors = errors_of(
        r#"
[site]
id = "s"

[[cameras]]
id = "c"
source = { kind = "test" }

[[zones]]
id = "w"
camera = "c"
role = "waiting"
polygon = [[0, 0], [1, 1]]
counter = 3
line = [[0, 0], [1, 1]]

[[zones]]
id = "q1"
camera = "c"
role = "counter"
polygon = [[0, 0], [0.5, 0.5], [1, 1]]
staff_polygon = [[0, 0], [1, 0], [1, -0.1]]

[[zones]]
id = "q1b"
camera = "c"
role = "counter"
counter = 0
polygon = [[0, 0], [1, 0], [1, 1]]

[[zones]]
id = "q2"
camera = "c"
role = "counter"
counter = 2
polygon = [[0, 0], [1, 0], [1, 1]]

[[zones]]
id = "q2-again"
camera = "c"
role = "counter"
counter = 2
polygon = [[0, 0], [1, 0], [1, 1]]

[[zones]]
id = "door"
camera = "c"
role = "entrance"
polygon = [[0, 0], [1, 0], [1, 1]]
line = [[0.5, 0.5], [0.5, 0.5]]
staff_polygon = []

[[zones]]
id = "door2"
camera = "c"
role = "entrance"
line = [[0, 0], [1, 1], [1, 0]]

[[zones]]
id = "door"
camera = "c"
role = "entrance"

[[zones]]
id = "ign"
camera = "c"
role = "ignore"
inside = "left"
"#,
    );
    assert_eq!(
        errors,
        vec![
            "zones[0].counter: does not apply to role = \"waiting\"",
            "zones[0].line: does not apply to role = \"waiting\"",
            "zones[0].polygon: needs at least 3 points, has 2",
            "zones[1].polygon: has no area (all points lie on one line)",
            "zones[1].counter: missing (the counter number, 1 or more)",
            "zones[1].staff_polygon[2]: y = -0.1 is outside [0, 1] (coordinates are fractions \
             of the image width and height)",
            "zones[2].counter: must be at least 1",
            "zones[4].counter: counter 2 on camera 'c' is already drawn by zones[3]",
            "zones[5].polygon: does not apply to role = \"entrance\"",
            "zones[5].staff_polygon: does not apply to role = \"entrance\"",
            "zones[5].line: the two points are the same",
            "zones[6].line: needs exactly 2 points, has 3",
            "zones[7].id: 'door' is already used by zones[5]",
            "zones[7].line: missing (2 points)",
            "zones[8].inside: does not apply to role = \"ignore\"",
            "zones[8].polygon: missing (at least 3 points)",
        ]
    );
}

#[test]
fn zones_may_name_a_camera_that_has_other_errors() {
    // cam1 has an unknown field, so it does not parse; the zone that names it must not get a
    // second, misleading error.
    let errors = errors_of(
        r#"
[site]
id = "s"
[[cameras]]
id = "cam1"
source = { kind = "test", colour = "red" }
[[zones]]
id = "w"
camera = "cam1"
role = "waiting"
polygon = [[0, 0], [1, 0], [1, 1]]
"#,
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("cameras[0].source.colour: unknown field"));
}

#[test]
fn load_reports_an_unreadable_file_at_its_path() {
    let path = Path::new("/nonexistent/hallwatch/hall.toml");
    let err = Config::load(path).err().map(|e| e.0).unwrap_or_default();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].path, "/nonexistent/hallwatch/hall.toml");
    assert!(
        err[0].message.starts_with("cannot read: "),
        "{}",
        err[0].message
    );
}

#[test]
fn example_hall_config_is_valid() {
    let path = manifest_dir().join("../../examples/hall.toml");
    let c = Config::load(&path).unwrap_or_else(|e| panic!("{}:\n{e}", path.display()));
    assert_eq!(c.site.id, "an-phu");
    assert_eq!(c.cameras.len(), 2);
    let rtsp = &c.cameras[0].source;
    assert_eq!(rtsp.kind, SourceKind::Rtsp);
    assert_eq!(rtsp.transport, RtspTransport::Tcp);
    assert!(!rtsp.username.is_empty() && !rtsp.password.is_empty());
    assert!(!rtsp.url_has_userinfo());
    assert_eq!(c.cameras[1].source.kind, SourceKind::File);
    let roles: Vec<ZoneRole> = c.zones.iter().map(|z| z.role).collect();
    for role in [
        ZoneRole::Waiting,
        ZoneRole::Counter,
        ZoneRole::Entrance,
        ZoneRole::Ignore,
    ] {
        assert!(roles.contains(&role), "no {role:?} zone");
    }
    let counters: Vec<(&str, u32, usize)> = c
        .zones
        .iter()
        .filter(|z| z.role == ZoneRole::Counter)
        .map(|z| (z.name.as_str(), z.counter, z.staff_polygon.len()))
        .collect();
    assert_eq!(counters, vec![("Quầy 1", 1, 4), ("Quầy 2", 2, 4)]);
    assert!(c.zones.iter().any(|z| z.name == "Khu chờ"));
}

fn rtsp(url: &str, username: &str, password: &str) -> SourceConfig {
    SourceConfig {
        kind: SourceKind::Rtsp,
        url: url.into(),
        username: username.into(),
        password: password.into(),
        transport: RtspTransport::Tcp,
        latency_ms: 200,
        path: String::new(),
        looping: false,
        pattern: String::new(),
        width: 0,
        height: 0,
        fps: 0,
    }
}

#[test]
fn credentials_are_split_from_the_url() {
    let s = rtsp(
        "rtsp://admin:s%40cret%3A1@10.0.0.5:554/Streaming/Channels/101?x=a@b",
        "",
        "",
    );
    assert!(s.url_has_userinfo());
    assert_eq!(
        s.credentials(),
        (
            "rtsp://10.0.0.5:554/Streaming/Channels/101?x=a@b".to_string(),
            "admin".to_string(),
            "s@cret:1".to_string()
        )
    );
    assert_eq!(
        s.redacted_url(),
        "rtsp://***@10.0.0.5:554/Streaming/Channels/101?x=a@b"
    );

    // An unencoded '@' in the password still splits at the last '@' of the host part.
    let s = rtsp("rtsp://u:p@ss@h/x", "", "");
    assert_eq!(
        s.credentials(),
        (
            "rtsp://h/x".to_string(),
            "u".to_string(),
            "p@ss".to_string()
        )
    );
    assert_eq!(s.redacted_url(), "rtsp://***@h/x");

    // User in the URL, password from the field.
    let s = rtsp("rtsp://viewer@h/", "", "pw");
    assert_eq!(
        s.credentials(),
        (
            "rtsp://h/".to_string(),
            "viewer".to_string(),
            "pw".to_string()
        )
    );
    assert_eq!(s.redacted_url(), "rtsp://***@h/");

    // Bad escapes and non-ASCII are kept as written.
    let s = rtsp("rtsp://%zz:m%E1%BA%ADt-kh%E1%BA%A9u%@h", "", "");
    assert_eq!(
        s.credentials(),
        (
            "rtsp://h".to_string(),
            "%zz".to_string(),
            "mật-khẩu%".to_string()
        )
    );
}

#[test]
fn credentials_fall_back_to_the_fields() {
    let s = rtsp("rtsp://10.0.0.5/ch1", "admin", "mat-khau");
    assert!(!s.url_has_userinfo());
    assert_eq!(
        s.credentials(),
        (
            "rtsp://10.0.0.5/ch1".to_string(),
            "admin".to_string(),
            "mat-khau".to_string()
        )
    );
    assert_eq!(s.redacted_url(), "rtsp://10.0.0.5/ch1");
    let s = rtsp("", "", "");
    assert_eq!(
        s.credentials(),
        (String::new(), String::new(), String::new())
    );
    assert_eq!(s.redacted_url(), "");
}

/// This package's folder: cargo's run-time `CARGO_MANIFEST_DIR` (right even when the binary was
/// built in another checkout sharing the target folder), else the compile-time one.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

#[test]
fn detection_tiles_and_hall_edge_rules_parse_and_are_checked() {
    let c = parse(
        r#"
[site]
id = "t"

[[cameras]]
id = "wide"
source = { kind = "test" }
detect = { tiles = "auto" }

[hall]
edge_margin = 0.1
service_min_s = 5
"#,
    );
    assert_eq!(c.cameras[0].detect.tiles, Tiles::Auto);
    assert_eq!((c.hall.edge_margin, c.hall.service_min_s), (0.1, 5.0));
    assert_eq!(parse(MINIMAL).hall.enter_after_s, 0.0);
    let errors = errors_of(
        r#"
[site]
id = "t"

[[cameras]]
id = "wide"
source = { kind = "test" }
detect = { tiles = "always" }
"#,
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("cameras[0].detect.tiles:")
                && e.contains("`off`")
                && e.contains("`auto`")),
        "{errors:?}"
    );
    let paths = paths_of(
        r#"
[site]
id = "t"

[hall]
edge_margin = -1
service_min_s = -2
"#,
    );
    assert_eq!(paths, vec!["hall.edge_margin", "hall.service_min_s"]);
}

#[test]
fn roi_zones_is_the_zones_box_with_room_for_heads() {
    let cfg = parse(
        r#"
[site]
id = "t"

[[cameras]]
id = "sanh"
source = { kind = "test" }
detect = { roi = "zones" }

[[cameras]]
id = "cua"
source = { kind = "test" }

[[zones]]
id = "cho"
camera = "sanh"
role = "waiting"
polygon = [[0.5, 0.6], [0.8, 0.6], [0.8, 0.8], [0.5, 0.8]]

[[zones]]
id = "quay-1"
camera = "sanh"
role = "counter"
counter = 1
polygon = [[0.6, 0.5], [0.7, 0.5], [0.7, 0.6]]

[[zones]]
id = "bo-qua"
camera = "sanh"
role = "ignore"
polygon = [[0.0, 0.0], [0.1, 0.0], [0.1, 0.1]]
"#,
    );
    let roi = cfg.cameras[0].detect.zone_roi.expect("a region");
    let want = [0.42, 0.15, 0.88, 0.88];
    for (a, b) in roi.iter().zip(want) {
        assert!((a - b).abs() < 1e-9, "{roi:?}");
    }
    // Off by default; and zones over nearly the whole frame leave the whole frame.
    assert_eq!(cfg.cameras[1].detect.zone_roi, None);
    assert_eq!(
        crate::zone_roi(
            "sanh",
            &[crate::ZoneConfig {
                polygon: vec![[0.05, 0.3], [0.95, 0.3], [0.95, 0.95]],
                ..cfg.zones[0].clone()
            }]
        ),
        None
    );
}

#[test]
fn uplink_is_off_by_default_and_checked_when_given() {
    assert!(!parse(MINIMAL).uplink.enabled());
    let c = parse(&format!(
        "{MINIMAL}\n[uplink]\nservers = [\"nats://127.0.0.1:4222\"]\ntoken = \"s3cret\"\n"
    ));
    assert!(c.uplink.enabled());
    assert_eq!(
        (c.uplink.subject_prefix.as_str(), c.uplink.stream.as_str()),
        ("hallwatch", "HALLWATCH")
    );
    let paths = paths_of(&format!(
        "{MINIMAL}\n[uplink]\nservers = [\"http://x\"]\ntoken = \"a\"\nuser = \"u\"\n\
         subject_prefix = \"a.*\"\nstream = \"A B\"\nwindow = 0\nack_timeout_s = -1\n"
    ));
    assert_eq!(
        paths,
        vec![
            "uplink.servers[0]",
            "uplink.token",
            "uplink.password",
            "uplink.subject_prefix",
            "uplink.stream",
            "uplink.window",
            "uplink.ack_timeout_s"
        ]
    );
    assert_eq!(
        paths_of(&format!("{MINIMAL}\n[uplink]\nserver = \"nats://x\"\n")),
        vec!["uplink.server"]
    );
}
