//! The live state of a hall, as the pipeline publishes it and the web layer, the SSE stream and
//! the alert engine read it. Plain serde data: the binary fills it from the zone engine, hall
//! metrics, wait predictor and camera supervisors; nothing here computes.

use crate::CameraHealth;
use serde::{Deserialize, Serialize};

/// The hall now. Published whenever a figure changes; `seq` increases with every publication.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HallState {
    /// `[site].id`.
    pub site: String,
    /// `[site].name`, for display.
    pub site_name: String,
    /// Unix seconds of the newest frame behind these figures.
    pub t: f64,
    /// Publication counter, increasing by one per change.
    pub seq: u64,
    /// Số người đang chờ: people in waiting zones now, all cameras.
    pub waiting_now: u32,
    /// Waiting people averaged over the smoothing window (the figure to display).
    pub waiting_smoothed: f64,
    /// Each waiting, counter and entrance zone.
    pub zones: Vec<ZoneState>,
    /// Each counter (quầy).
    pub counters: Vec<CounterState>,
    /// Expected wait for someone arriving now; `None` until it can be estimated (no open
    /// counter has served anyone yet).
    pub prediction: Option<WaitPrediction>,
    /// Each camera's health.
    pub cameras: Vec<CameraHealth>,
    /// Figures for the local day so far.
    pub today: TodayFigures,
    /// Whether the event store takes writes.
    #[serde(default)]
    pub storage: StorageHealth,
    /// Faults inside the analysis pipeline since the start.
    #[serde(default)]
    pub pipeline: PipelineHealth,
    /// Shipping facts to the province centre (`configured` false without an `[uplink]`).
    #[serde(default)]
    pub uplink: UplinkHealth,
}

/// The uplink to the province centre, as the hall sees it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UplinkHealth {
    /// An `[uplink]` is configured.
    pub configured: bool,
    /// The NATS connection is up.
    pub connected: bool,
    /// Facts waiting to be acknowledged by the centre's stream.
    pub lag_events: u64,
    /// Age in seconds of the oldest fact waiting (0 when none waits).
    pub lag_s: f64,
    /// The last fact acknowledged.
    pub acked_seq: u64,
    /// Unix seconds of the last acknowledgement.
    pub last_ack_t: Option<f64>,
    /// Facts dropped unshipped by retention since the outbox began.
    pub dropped: u64,
    /// The last error, empty once facts are acknowledged again.
    pub last_error: String,
}

impl UplinkHealth {
    /// Seconds of lag after which the uplink counts as failing in health checks and on the
    /// dashboard (a link may drop for a minute; five without any acknowledgement is a fault).
    pub const FAILING_AFTER_S: f64 = 300.0;

    /// The uplink is configured and facts have waited longer than [`Self::FAILING_AFTER_S`].
    pub fn failing(&self) -> bool {
        self.configured && self.lag_s > Self::FAILING_AFTER_S
    }
}

/// Faults the analysis pipeline survived: each cost a frame (or restarted one camera's
/// tracking), was logged, and the rest carried on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineHealth {
    /// Frames whose detection failed with an error.
    pub detector_errors: u64,
    /// Frames whose detection panicked.
    pub detector_panics: u64,
    /// Times a camera's tracking and zones panicked and started afresh.
    pub analysis_restarts: u64,
}

/// The event store's writer: whether the database takes writes, and what it has written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageHealth {
    /// True while the database refuses writes (full disk, I/O errors) or records wait in
    /// memory for a retry.
    pub failing: bool,
    /// When writes began failing (Unix seconds).
    pub failing_since: Option<f64>,
    /// Records waiting in memory for the database.
    pub pending: u64,
    /// Records given up since the start: the in-memory backlog was full.
    pub dropped: u64,
    /// Records the database rejected (or refused while their sender waited).
    pub failed: u64,
    /// Failed commit attempts since the start.
    pub commit_failures: u64,
    /// Records committed since the start.
    pub records: u64,
    /// Transactions committed since the start.
    pub batches: u64,
}

/// One zone now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ZoneState {
    /// Zone id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Camera that sees it.
    pub camera: String,
    /// `waiting`, `counter`, `entrance` or `ignore`.
    pub role: String,
    /// People in it now.
    pub people_now: u32,
    /// Mean over the smoothing window.
    pub people_smoothed: f64,
}

/// What a counter is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterActivity {
    /// A citizen is being served.
    Serving,
    /// Nobody at the counter.
    #[default]
    Idle,
    /// The staff area behind the counter is empty.
    StaffAbsent,
}

/// One counter now and today.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CounterState {
    /// Zone id of the counter.
    pub zone: String,
    /// Display name of the zone.
    pub name: String,
    /// Counter number (Quầy N).
    pub counter: u32,
    /// What it is doing.
    pub activity: CounterActivity,
    /// Seconds the current citizen has been served (Thời gian phục vụ so far).
    pub serving_for_s: Option<f64>,
    /// Citizens served today (Lượt phục vụ).
    pub served_today: u64,
    /// Mean service time today, seconds.
    pub mean_service_s: Option<f64>,
}

/// Expected wait for someone arriving now (Dự kiến chờ).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WaitPrediction {
    /// Expected wait, seconds.
    pub expected_s: f64,
    /// Lower end of the uncertainty band, seconds.
    pub low_s: f64,
    /// Upper end of the uncertainty band, seconds.
    pub high_s: f64,
    /// How it was estimated, e.g. `service-rate` or `little`.
    pub method: String,
}

/// Figures for the local day so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TodayFigures {
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    /// People who started waiting.
    pub arrivals: u64,
    /// Services finished (Lượt phục vụ).
    pub served: u64,
    /// People who left the waiting area without being served.
    pub abandoned: u64,
    /// Mean finished wait, seconds (Thời gian chờ).
    pub mean_wait_s: Option<f64>,
    /// Share of finished waits within the target, 0..1.
    pub within_target: Option<f64>,
    /// Arrivals per local hour 0..23.
    pub arrivals_by_hour: Vec<u64>,
}
