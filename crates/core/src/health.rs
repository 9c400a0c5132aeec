use crate::CameraId;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// Where a camera's supervisor is in its life cycle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CameraState {
    /// Building the pipeline and waiting for the first frame.
    Starting,
    /// Frames are flowing.
    Running,
    /// The source failed; the supervisor waits `retry_in_s` before attempt number `attempt`.
    Reconnecting {
        /// The restart attempt that comes next (1 for the first retry).
        attempt: u32,
        /// Backoff chosen for this attempt, in seconds.
        retry_in_s: f64,
    },
    /// A file source reached its end (not an error).
    Finished,
    /// Given up: a file source that cannot be read or decoded (retrying would read the same
    /// bytes again). `last_error` says why.
    Failed,
    /// The supervisor was told to stop.
    Stopped,
}

/// A period during which a camera delivered no frames, in wall-clock time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Downtime {
    /// When the outage began (the last frame before it, or the failed start).
    pub start: SystemTime,
    /// When frames flowed again; None while still down.
    pub end: Option<SystemTime>,
    /// Why it went down (credentials removed).
    pub reason: String,
}

/// Outages a [`CameraHealth`] keeps in memory.
pub const RECENT_DOWNTIME: usize = 20;

/// Everything an operator wants to know about one camera, readable at any moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CameraHealth {
    /// The camera.
    pub camera: CameraId,
    /// Life-cycle state.
    pub state: CameraState,
    /// Decoded frames per second arriving from the source.
    pub input_fps: f64,
    /// Frames per second handed to analysis after rate limiting.
    pub analysed_fps: f64,
    /// Decoded frames seen since the camera was started.
    pub frames_decoded: u64,
    /// Frames handed to analysis.
    pub frames_analysed: u64,
    /// Frames thrown away because analysis lagged (the oldest queued frame is dropped).
    pub frames_dropped: u64,
    /// Frames dropped per second lately: above zero the detector cannot keep up with this
    /// camera's analysis rate (overload; see [`CameraHealth::overloaded`]).
    #[serde(default)]
    pub dropped_fps: f64,
    /// Restarts after a failure.
    pub reconnects: u32,
    /// Last failure, credentials removed.
    pub last_error: Option<String>,
    /// Recent outages, oldest first: at most [`RECENT_DOWNTIME`], so a camera that flaps for
    /// months does not grow the live state (the event store keeps every outage: `hallwatch run`
    /// writes each as it opens and again when it closes).
    pub downtime: Vec<Downtime>,
    /// Codec of the source as the decoder saw it, when known.
    pub codec: Option<String>,
    /// Source resolution before scaling, when known.
    pub source_size: Option<(u32, u32)>,
    /// Nominal frame rate of the source, when the stream states one.
    pub source_fps: Option<f64>,
    /// What analysing this camera cost and saved (filled by the detector pool).
    #[serde(default)]
    pub analysis: AnalysisCost,
}

/// One camera's analysis cost since the start: the frames each inference-saving rule skipped,
/// and the detector time spent on the rest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalysisCost {
    /// Frames the adaptive analysis rate skipped before the detector.
    pub skipped_by_rate: u64,
    /// Frames the motion gate found still (the previous detections were reused).
    pub skipped_still: u64,
    /// Frames the detector ran on.
    pub inferred: u64,
    /// Of the analysed frames, those taken at the raised rate while people moved.
    pub analysed_active: u64,
    /// Seconds spent in the detector (pre-processing, inference, decoding its output).
    pub inference_s: f64,
}

impl CameraHealth {
    /// A fresh record for a camera that is starting.
    pub fn new(camera: CameraId) -> Self {
        Self {
            camera,
            state: CameraState::Starting,
            input_fps: 0.0,
            analysed_fps: 0.0,
            frames_decoded: 0,
            frames_analysed: 0,
            frames_dropped: 0,
            dropped_fps: 0.0,
            reconnects: 0,
            last_error: None,
            downtime: Vec::new(),
            codec: None,
            source_size: None,
            source_fps: None,
            analysis: AnalysisCost::default(),
        }
    }

    /// True while the analysis drops more than one frame in ten of this camera's (and more
    /// than one every five seconds): the server has more cameras than its detector can serve
    /// at their analysis rates.
    pub fn overloaded(&self) -> bool {
        self.dropped_fps > 0.2 && self.dropped_fps > 0.1 * (self.analysed_fps + self.dropped_fps)
    }

    /// True while an outage is open.
    pub fn is_down(&self) -> bool {
        self.downtime.last().is_some_and(|d| d.end.is_none())
    }

    /// Opens an outage unless one is already open; forgets the oldest beyond
    /// [`RECENT_DOWNTIME`].
    pub fn open_downtime(&mut self, start: SystemTime, reason: impl Into<String>) {
        if !self.is_down() {
            self.downtime.push(Downtime {
                start,
                end: None,
                reason: reason.into(),
            });
            let extra = self.downtime.len().saturating_sub(RECENT_DOWNTIME);
            self.downtime.drain(..extra);
        }
    }

    /// Closes the open outage, if any.
    pub fn close_downtime(&mut self, end: SystemTime) {
        if let Some(d) = self.downtime.last_mut()
            && d.end.is_none()
        {
            d.end = Some(end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn overload_is_more_than_one_frame_in_ten_dropped() {
        let mut h = CameraHealth::new(CameraId::new("c"));
        assert!(!h.overloaded(), "an idle camera");
        h.analysed_fps = 5.0;
        h.dropped_fps = 0.4;
        assert!(!h.overloaded(), "a frame dropped now and then");
        h.dropped_fps = 1.0;
        assert!(h.overloaded());
        h.analysed_fps = 0.0;
        h.dropped_fps = 0.05;
        assert!(!h.overloaded());
    }

    #[test]
    fn only_recent_outages_are_kept() {
        let mut h = CameraHealth::new(CameraId::new("c"));
        for k in 0..(RECENT_DOWNTIME as u64 + 5) {
            let t = SystemTime::UNIX_EPOCH + Duration::from_secs(k * 10);
            h.open_downtime(t, "lost");
            h.open_downtime(t + Duration::from_secs(1), "still the same outage");
            h.close_downtime(t + Duration::from_secs(5));
        }
        assert_eq!(h.downtime.len(), RECENT_DOWNTIME);
        assert_eq!(
            h.downtime[0].start,
            SystemTime::UNIX_EPOCH + Duration::from_secs(50),
            "the oldest went first"
        );
        assert!(
            h.downtime
                .iter()
                .all(|d| d.end.is_some() && d.reason == "lost")
        );
    }

    #[test]
    fn downtime_opens_once_and_closes() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let mut h = CameraHealth::new("cam".into());
        h.open_downtime(t0, "eos");
        h.open_downtime(t0 + Duration::from_secs(1), "again");
        assert_eq!(h.downtime.len(), 1);
        assert!(h.is_down());
        h.close_downtime(t0 + Duration::from_secs(7));
        assert!(!h.is_down());
        assert_eq!(h.downtime[0].end, Some(t0 + Duration::from_secs(7)));
        assert_eq!(h.downtime[0].reason, "eos");
    }

    #[test]
    fn state_serialises_with_a_tag() {
        let s = serde_json::to_string(&CameraState::Reconnecting {
            attempt: 2,
            retry_in_s: 4.0,
        })
        .unwrap();
        assert_eq!(
            s,
            r#"{"state":"reconnecting","attempt":2,"retry_in_s":4.0}"#
        );
    }
}
