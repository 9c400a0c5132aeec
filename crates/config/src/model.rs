//! The config structs. One struct per component, `deny_unknown_fields`, every field documented,
//! defaults instead of `Option` where a sensible default exists.

use crate::server::ServerConfig;
use serde::{Deserialize, Serialize};

/// The whole hallwatch config file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The hall this server watches.
    pub site: SiteConfig,
    /// Cameras, each with its own ingest pipeline.
    #[serde(default)]
    pub cameras: Vec<CameraConfig>,
    /// Zones drawn on the cameras' images.
    #[serde(default)]
    pub zones: Vec<ZoneConfig>,
    /// Where data is kept.
    #[serde(default)]
    pub storage: StorageConfig,
    /// The HTTP server.
    #[serde(default)]
    pub server: ServerConfig,
    /// The person detector shared by all cameras.
    #[serde(default)]
    pub detector: DetectorConfig,
    /// How tracks become zone visits and hall figures.
    #[serde(default)]
    pub hall: HallConfig,
    /// Opening hours: working days, sessions, holidays (local time of `site.timezone`).
    #[serde(default)]
    pub hours: crate::hours::HoursConfig,
    /// Alert rules and notification channels.
    #[serde(default)]
    pub alerts: crate::alerts::AlertsConfig,
    /// Ticket system, rating devices and dossier intake.
    #[serde(default)]
    pub service: crate::service::ServiceConfig,
    /// Shipping facts to the province centre (NATS JetStream); off unless servers are given.
    #[serde(default)]
    pub uplink: crate::uplink::UplinkConfig,
}

/// The hall itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// Short stable id (letters, digits, '-', '_'), used in exports and topics.
    pub id: String,
    /// Display name, e.g. "Trung tâm Phục vụ hành chính công xã An Phú".
    #[serde(default)]
    pub name: String,
    /// IANA time zone for local days and working hours.
    #[serde(default = "default_timezone")]
    pub timezone: String,
}

fn default_timezone() -> String {
    "Asia/Ho_Chi_Minh".into()
}

/// One camera.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    /// Unique id (letters, digits, '-', '_').
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// A disabled camera is validated but not started.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where the video comes from.
    pub source: SourceConfig,
    /// What is handed to analysis.
    #[serde(default)]
    pub analysis: AnalysisConfig,
    /// Restart policy.
    #[serde(default)]
    pub supervision: SupervisionConfig,
    /// How this camera's frames are run through the detector.
    #[serde(default)]
    pub detect: CameraDetectConfig,
}

fn yes() -> bool {
    true
}

/// Kind of video source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// An RTSP camera or NVR channel (H.264 or H.265).
    Rtsp,
    /// A video file of any container GStreamer's decodebin plays.
    File,
    /// GStreamer's videotestsrc, live.
    Test,
}

/// RTSP lower transport.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RtspTransport {
    /// RTP interleaved in the RTSP TCP connection: works through NAT and firewalls.
    #[default]
    Tcp,
    /// RTP over UDP: lower latency on a clean LAN.
    Udp,
    /// Let the server and client negotiate (UDP first, then TCP).
    Auto,
}

/// Where a camera's video comes from. Which fields apply depends on `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// `rtsp`, `file` or `test`.
    pub kind: SourceKind,
    /// rtsp: `rtsp://host[:port]/path`. Credentials may be embedded (`rtsp://user:pass@host/`)
    /// or given in `username`/`password`; they never appear in logs.
    #[serde(default)]
    pub url: String,
    /// rtsp: user name, if not in the URL.
    #[serde(default)]
    pub username: String,
    /// rtsp: password, if not in the URL.
    #[serde(default)]
    pub password: String,
    /// rtsp: `tcp` (default), `udp` or `auto`.
    #[serde(default)]
    pub transport: RtspTransport,
    /// rtsp: jitter buffer in milliseconds.
    #[serde(default = "default_latency_ms")]
    pub latency_ms: u32,
    /// file: path of the video file.
    #[serde(default)]
    pub path: String,
    /// file: start over at the end instead of finishing (demo cameras).
    #[serde(default, rename = "loop")]
    pub looping: bool,
    /// test: videotestsrc pattern name (e.g. `ball`, `smpte`).
    #[serde(default = "default_pattern")]
    pub pattern: String,
    /// test: width of the generated picture.
    #[serde(default = "default_test_width")]
    pub width: u32,
    /// test: height of the generated picture.
    #[serde(default = "default_test_height")]
    pub height: u32,
    /// test: frames per second of the generated stream.
    #[serde(default = "default_test_fps")]
    pub fps: u32,
}

fn default_latency_ms() -> u32 {
    200
}
fn default_pattern() -> String {
    "ball".into()
}
fn default_test_width() -> u32 {
    640
}
fn default_test_height() -> u32 {
    480
}
fn default_test_fps() -> u32 {
    25
}

/// What a camera hands to analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisConfig {
    /// Frames per second analysed while the hall is still (nobody moving in or near a zone).
    /// 0 = every decoded frame.
    #[serde(default = "default_analysis_fps")]
    pub fps: f64,
    /// Frames per second analysed while people move in or near a zone, for `active_hold_s`
    /// after the last movement: at 2 fps a walking person is lost and found again between
    /// frames and visits lose their ends. On TUD footage 50 % of the true zone visits were
    /// matched at a steady 2 fps, 80 % with 2 fps raised to 5 while people move, 90 % at every
    /// frame; on the simulated hall 5 fps while active cost 1.6x the inferences of a steady
    /// 2 fps. 0 = every decoded frame; set it to `fps` for a steady rate. Frames are dropped
    /// before colour conversion down to the higher of the two rates, and in front of the
    /// detector down to the one that applies.
    #[serde(default = "default_active_fps")]
    pub active_fps: f64,
    /// Seconds the active rate is kept after the last movement in or near a zone.
    #[serde(default = "default_active_hold")]
    pub active_hold_s: f64,
    /// Width of analysed frames in pixels; 0 = from `height` keeping the aspect, or the source's.
    #[serde(default)]
    pub width: u32,
    /// Height of analysed frames in pixels; 0 = from `width` keeping the aspect, or the source's.
    #[serde(default)]
    pub height: u32,
    /// Decode keyframes only (the decoder skips every delta frame). Cheapest, but the analysis
    /// rate is then bounded by the stream's keyframe interval.
    #[serde(default)]
    pub keyframes_only: bool,
    /// Frames held for analysis; when analysis lags, the oldest is dropped.
    #[serde(default = "default_queue")]
    pub queue: usize,
}

fn default_analysis_fps() -> f64 {
    2.0
}
fn default_active_fps() -> f64 {
    5.0
}
fn default_active_hold() -> f64 {
    2.0
}
fn default_queue() -> usize {
    4
}

impl AnalysisConfig {
    /// The rate frames are delivered at, before the choice between `fps` and `active_fps`:
    /// the higher of the two (0 = every decoded frame).
    pub fn delivered_fps(&self) -> f64 {
        if self.fps == 0.0 || self.active_fps == 0.0 {
            0.0
        } else {
            self.fps.max(self.active_fps)
        }
    }
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            fps: default_analysis_fps(),
            active_fps: default_active_fps(),
            active_hold_s: default_active_hold(),
            width: 0,
            height: 0,
            keyframes_only: false,
            queue: default_queue(),
        }
    }
}

/// How a failed camera is restarted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionConfig {
    /// First restart delay in seconds; doubles after each failed attempt.
    #[serde(default = "default_backoff_initial")]
    pub backoff_initial_s: f64,
    /// Upper bound of the restart delay in seconds.
    #[serde(default = "default_backoff_max")]
    pub backoff_max_s: f64,
    /// A running camera that delivers no frame for this many seconds is restarted.
    #[serde(default = "default_no_frame_timeout")]
    pub no_frame_timeout_s: f64,
    /// A starting camera must deliver its first frame within this many seconds.
    #[serde(default = "default_start_timeout")]
    pub start_timeout_s: f64,
}

fn default_backoff_initial() -> f64 {
    1.0
}
fn default_backoff_max() -> f64 {
    30.0
}
fn default_no_frame_timeout() -> f64 {
    10.0
}
fn default_start_timeout() -> f64 {
    20.0
}

impl Default for SupervisionConfig {
    fn default() -> Self {
        Self {
            backoff_initial_s: default_backoff_initial(),
            backoff_max_s: default_backoff_max(),
            no_frame_timeout_s: default_no_frame_timeout(),
            start_timeout_s: default_start_timeout(),
        }
    }
}

/// What a zone means for the hall model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ZoneRole {
    /// Seats and queue line: people here are waiting.
    Waiting,
    /// The service point in front of a numbered counter (quầy).
    Counter,
    /// A line people cross to enter or leave the hall.
    Entrance,
    /// Nobody here is counted (corridors, posters with faces, staff-only areas).
    Ignore,
}

/// Which side of an entrance line is inside the hall, looking from its first point to its second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InsideSide {
    /// Left of the directed line.
    #[default]
    Left,
    /// Right of the directed line.
    Right,
}

/// A zone on one camera's image, in normalised `[0, 1]` coordinates (x right, y down).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    /// Unique id.
    pub id: String,
    /// Display name, e.g. "Khu chờ A".
    #[serde(default)]
    pub name: String,
    /// The camera whose image the zone is drawn on.
    pub camera: String,
    /// `waiting`, `counter`, `entrance` or `ignore`.
    pub role: ZoneRole,
    /// waiting / counter / ignore: polygon vertices, at least 3.
    #[serde(default)]
    pub polygon: Vec<[f64; 2]>,
    /// counter: the counter (quầy) number, 1 or more.
    #[serde(default)]
    pub counter: u32,
    /// counter: optional polygon behind the counter where staff sit; people there are never
    /// counted as citizens.
    #[serde(default)]
    pub staff_polygon: Vec<[f64; 2]>,
    /// entrance: the line's two end points.
    #[serde(default)]
    pub line: Vec<[f64; 2]>,
    /// entrance: which side of the line is inside.
    #[serde(default)]
    pub inside: InsideSide,
}

/// Where hallwatch keeps its data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Folder for the event store and exports.
    #[serde(default = "default_data_dir")]
    pub data_dir: String,
    /// Write video frames to disk (snapshots for debugging). Off by default: privacy by design.
    #[serde(default)]
    pub save_frames: bool,
    /// Days per-person rows (zone visits, abandonments) are kept; applied daily.
    #[serde(default = "default_sessions_days")]
    pub sessions_days: u32,
    /// Days everything else (queue samples, camera outages, tickets, ratings, dossiers,
    /// alerts) is kept; applied daily. At least `sessions_days`.
    #[serde(default = "default_aggregates_days")]
    pub aggregates_days: u32,
}

fn default_sessions_days() -> u32 {
    90
}

fn default_aggregates_days() -> u32 {
    400
}

fn default_data_dir() -> String {
    "data".into()
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: default_data_dir(),
            save_frames: false,
            sessions_days: default_sessions_days(),
            aggregates_days: default_aggregates_days(),
        }
    }
}

impl SourceConfig {
    /// True when the URL carries `user[:password]@`.
    pub fn url_has_userinfo(&self) -> bool {
        userinfo_range(&self.url).is_some()
    }

    /// The URL with any `user:password@` replaced by `***@`, safe to print:
    /// `rtsp://admin:secret@10.0.0.5/ch1` gives `rtsp://***@10.0.0.5/ch1`.
    pub fn redacted_url(&self) -> String {
        match userinfo_range(&self.url) {
            None => self.url.clone(),
            Some((start, at)) => format!("{}***{}", &self.url[..start], &self.url[at..]),
        }
    }

    /// `(url without credentials, user, password)`.
    ///
    /// Credentials embedded in the URL (`rtsp://user:pass@host/...`, percent-decoded, so
    /// `p%40ss` gives `p@ss`) win over the `username` / `password` fields; a URL with a user but
    /// no password takes the password from the `password` field. Without credentials in the URL
    /// the URL is returned unchanged with the two fields. Empty strings mean "not given".
    pub fn credentials(&self) -> (String, String, String) {
        match userinfo_range(&self.url) {
            None => (
                self.url.clone(),
                self.username.clone(),
                self.password.clone(),
            ),
            Some((start, at)) => {
                let userinfo = &self.url[start..at];
                let (user, password) = match userinfo.split_once(':') {
                    Some((u, p)) => (percent_decode(u), percent_decode(p)),
                    None => (percent_decode(userinfo), self.password.clone()),
                };
                let url = format!("{}{}", &self.url[..start], &self.url[at + 1..]);
                (url, user, password)
            }
        }
    }
}

/// The authority of `scheme://authority/path...` as a byte range, if the URL has a scheme.
pub(crate) fn authority_range(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://")? + 3;
    let end = url[start..]
        .find(['/', '?', '#'])
        .map(|i| start + i)
        .unwrap_or(url.len());
    Some((start, end))
}

/// Where the URL's `user[:password]` starts and where its `@` is, when it has one.
pub(crate) fn userinfo_range(url: &str) -> Option<(usize, usize)> {
    let (start, end) = authority_range(url)?;
    // The last '@': an unencoded '@' in a password still splits correctly.
    url[start..end].rfind('@').map(|at| (start, start + at))
}

/// Decodes `%XX` escapes; invalid escapes are kept as written.
fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// The person detector: one model for all cameras, run on dedicated worker threads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorConfig {
    /// Model manifest (`models/*.toml`); relative paths are taken from the working directory.
    #[serde(default = "default_manifest")]
    pub model: String,
    /// Worker threads, each with its own ONNX Runtime session, fed by all cameras; 0 = one per
    /// CPU core, at most one per camera (a camera's frames go through one worker at a time).
    #[serde(default)]
    pub workers: usize,
    /// ONNX Runtime intra-op threads per worker; 0 = one per CPU core divided among workers.
    #[serde(default)]
    pub intra_threads: usize,
}

fn default_manifest() -> String {
    "models/centernet_mb3_512.toml".into()
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            model: default_manifest(),
            workers: 0,
            intra_threads: 0,
        }
    }
}

/// Whether a camera's frames are detected in tiles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tiles {
    /// The whole frame in one inference.
    #[default]
    Off,
    /// Overlapping tiles at the model's scale when the frame is much larger than its input.
    Auto,
}

/// Which part of the frame the detector looks at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Roi {
    /// The whole frame.
    #[default]
    Frame,
    /// Around the camera's zones only.
    Zones,
}

/// Widening of the zones' bounding box for `roi = "zones"`, as a share of the frame: sideways
/// and below (people walking up to a zone are tracked before they enter it).
pub const ROI_MARGIN: f64 = 0.08;
/// Raising of its top edge: zones hold people's floor points, their heads are up to this far
/// above (a standing person near the camera).
pub const ROI_HEAD_ROOM: f64 = 0.35;

/// The normalised region `[x1, y1, x2, y2]` holding the zones of `camera` (every zone but
/// ignore areas: polygons, staff areas, entrance lines) with [`ROI_MARGIN`] and
/// [`ROI_HEAD_ROOM`]; `None` without zones or when it would cover more than 90 % of the frame.
pub fn zone_roi(camera: &str, zones: &[ZoneConfig]) -> Option<[f64; 4]> {
    let points = zones
        .iter()
        .filter(|z| z.camera == camera && z.role != ZoneRole::Ignore)
        .flat_map(|z| z.polygon.iter().chain(&z.staff_polygon).chain(&z.line));
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in points {
        b = [
            b[0].min(p[0]),
            b[1].min(p[1]),
            b[2].max(p[0]),
            b[3].max(p[1]),
        ];
    }
    if !b.iter().all(|v| v.is_finite()) {
        return None;
    }
    let r = [
        (b[0] - ROI_MARGIN).clamp(0.0, 1.0),
        (b[1] - ROI_HEAD_ROOM).clamp(0.0, 1.0),
        (b[2] + ROI_MARGIN).clamp(0.0, 1.0),
        (b[3] + ROI_MARGIN).clamp(0.0, 1.0),
    ];
    let area = (r[2] - r[0]) * (r[3] - r[1]);
    (area > 0.0 && area <= 0.9).then_some(r)
}

/// Per-camera detection settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraDetectConfig {
    /// Score threshold; 0 = the model manifest's default.
    #[serde(default)]
    pub score_threshold: f32,
    /// Regions of interest `[x1, y1, x2, y2]` in normalised image coordinates. Each is cropped
    /// and resized to the model input, so distant people get more pixels; boxes cut by crop
    /// seams are merged. Empty = the whole frame.
    #[serde(default)]
    pub regions: Vec<[f64; 4]>,
    /// `"auto"`: when no `regions` are given and the frame would be shrunk below 0.8 of its
    /// size to fit the model input (a 1080p or 720p camera into a 512 px model), detect in
    /// overlapping tiles at the model's scale instead: far, small people are found, at the cost
    /// of one inference per tile (8 for 1080p). `"off"` (default): the whole frame at once.
    #[serde(default)]
    pub tiles: Tiles,
    /// `"zones"`: detect only in the part of the frame that holds this camera's zones and
    /// entrance lines (their bounding box, widened by a margin and raised by a standing
    /// person's height above the floor points), cropped and scaled to the model on its own:
    /// with `tiles = "auto"` only the tiles that meet it run. `"frame"` (default): the whole
    /// frame. Explicit `regions` win over both.
    #[serde(default)]
    pub roi: Roi,
    /// The zones' region, normalised `[x1, y1, x2, y2]`, computed when the config is loaded
    /// (`roi = "zones"`); `None` when the zones cover nearly the whole frame.
    #[serde(skip)]
    pub zone_roi: Option<[f64; 4]>,
    /// Skip inference on frames where nothing moved (the last detections stand).
    #[serde(default = "yes")]
    pub motion_gating: bool,
    /// Share of the small grey picture's pixels that must change to count as motion.
    #[serde(default = "default_motion_threshold")]
    pub motion_threshold: f64,
    /// A full detection runs at least this often (stream seconds), motion or not, so seated,
    /// still people are never lost.
    #[serde(default = "default_full_pass")]
    pub full_pass_s: f64,
}

fn default_motion_threshold() -> f64 {
    0.002
}
fn default_full_pass() -> f64 {
    10.0
}

impl Default for CameraDetectConfig {
    fn default() -> Self {
        Self {
            score_threshold: 0.0,
            regions: Vec::new(),
            tiles: Tiles::Off,
            roi: Roi::Frame,
            zone_roi: None,
            motion_gating: true,
            motion_threshold: default_motion_threshold(),
            full_pass_s: default_full_pass(),
        }
    }
}

/// The point of a person's box that decides which zone they are in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// Bottom-centre: where a standing person touches the floor (default).
    #[default]
    BottomCentre,
    /// Centre of the box: better for cameras looking straight down.
    Centre,
}

/// How tracks turn into zone visits (sessions) and live hall figures. Times are seconds of
/// stream time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallConfig {
    /// Which point of the box places a person in a zone.
    #[serde(default)]
    pub anchor: Anchor,
    /// The edge band, as a fraction of the person's box height: a person counts as inside a
    /// zone once their anchor is this far inside its edge, and as outside once it is this far
    /// outside (a box jittering over the edge does not flicker the count). Counts change at
    /// once, with no time lag; visits are dated from the moment the anchor crossed the edge.
    #[serde(default = "default_edge_margin")]
    pub edge_margin: f64,
    /// A person counted inside must stay inside this long before their visit is recorded
    /// (the visit is then dated from when they stepped in); 0 records every visit.
    #[serde(default = "default_enter_after")]
    pub enter_after_s: f64,
    /// At counters: a citizen must stay this long for the visit to be a service (Lượt phục
    /// vụ); someone passing through a counter zone is not served. The service is dated from
    /// when they stepped in; the stay also leaves an ID switch on the way to the counter time
    /// to be bridged before a second service opens.
    #[serde(default = "default_service_min")]
    pub service_min_s: f64,
    /// A visit whose person stepped out continues if they step back in within this many
    /// seconds; otherwise it ends when they crossed out.
    #[serde(default = "default_exit_after")]
    pub exit_after_s: f64,
    /// A track lost and a new one appearing within this many seconds near the same place
    /// continue the same visit (ID switch, short occlusion).
    #[serde(default = "default_merge_gap")]
    pub merge_gap_s: f64,
    /// The same in waiting areas for a person lost while keeping still (within half of
    /// `merge_distance` for the 10 s before): someone seated who vanishes is hidden (a person
    /// in front, a pillar), not gone — people leave walking. A new track appearing near where
    /// they were within this many seconds continues their visit. Not at counters, where the
    /// next citizen steps onto the same spot. 0 uses `merge_gap_s`.
    #[serde(default = "default_merge_gap_still")]
    pub merge_gap_still_s: f64,
    /// "Near the same place", as a fraction of the image diagonal.
    #[serde(default = "default_merge_distance")]
    pub merge_distance: f64,
    /// Queue lengths are averaged over this many seconds.
    #[serde(default = "default_smoothing")]
    pub queue_smoothing_s: f64,
    /// Target wait in minutes (share of waits within it is reported).
    #[serde(default = "default_wait_target")]
    pub wait_target_min: f64,
}

fn default_edge_margin() -> f64 {
    0.05
}
fn default_service_min() -> f64 {
    2.0
}
fn default_enter_after() -> f64 {
    0.0
}
fn default_exit_after() -> f64 {
    3.0
}
fn default_merge_gap() -> f64 {
    5.0
}
fn default_merge_gap_still() -> f64 {
    20.0
}
fn default_merge_distance() -> f64 {
    0.08
}
fn default_smoothing() -> f64 {
    10.0
}
fn default_wait_target() -> f64 {
    15.0
}

impl Default for HallConfig {
    fn default() -> Self {
        Self {
            anchor: Anchor::default(),
            edge_margin: default_edge_margin(),
            enter_after_s: default_enter_after(),
            service_min_s: default_service_min(),
            exit_after_s: default_exit_after(),
            merge_gap_s: default_merge_gap(),
            merge_gap_still_s: default_merge_gap_still(),
            merge_distance: default_merge_distance(),
            queue_smoothing_s: default_smoothing(),
            wait_target_min: default_wait_target(),
        }
    }
}

impl ZoneConfig {
    /// The role as written in the config.
    pub fn role_name(&self) -> &'static str {
        match self.role {
            ZoneRole::Waiting => "waiting",
            ZoneRole::Counter => "counter",
            ZoneRole::Entrance => "entrance",
            ZoneRole::Ignore => "ignore",
        }
    }
}

impl Config {
    /// The opening-hours calendar in the site's time zone (a loaded config always has one).
    pub fn calendar(&self) -> Result<crate::Calendar, Vec<crate::ConfigError>> {
        self.hours.build(&self.site.timezone)
    }
}
