//! Prometheus metrics (`/metrics`, text format 0.0.4).
//!
//! The pipeline records inference latency per camera with [`Metrics::observe_inference`] and
//! the delay from a frame's capture to the live state it changed with
//! [`Metrics::observe_live_latency`];
//! everything else is derived at scrape time from the latest published
//! [`hallwatch_core::HallState`]: camera frame rates, drops, reconnects and state, people per
//! zone, waiting people, counters, served today, the predicted wait, the event store writer
//! (committed, refused, waiting in memory, dropped).

use hallwatch_core::{CameraState, CounterActivity, HallState};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Buckets per histogram.
const BUCKETS: usize = 12;

/// Upper bounds (seconds) of the inference latency histogram's buckets.
pub const INFERENCE_BUCKETS_S: [f64; BUCKETS] = [
    0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5,
];

/// Upper bounds (seconds) of the capture-to-live-state latency histogram's buckets.
pub const LIVE_LATENCY_BUCKETS_S: [f64; BUCKETS] = [
    0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0,
];

#[derive(Clone, Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS],
    count: u64,
    sum: f64,
}

/// Adds `seconds` to `camera`'s histogram in `map` with bucket bounds `bounds`.
fn observe(
    map: &Mutex<BTreeMap<String, Histogram>>,
    bounds: &[f64; BUCKETS],
    camera: &str,
    seconds: f64,
) {
    if !seconds.is_finite() || seconds < 0.0 {
        return;
    }
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    let h = map.entry(camera.to_string()).or_default();
    for (i, le) in bounds.iter().enumerate() {
        if seconds <= *le {
            h.counts[i] += 1;
        }
    }
    h.count += 1;
    h.sum += seconds;
}

/// Writes one histogram family per camera.
fn render_histogram(
    o: &mut String,
    name: &str,
    site: &str,
    map: &Mutex<BTreeMap<String, Histogram>>,
    bounds: &[f64; BUCKETS],
) {
    let map = map.lock().unwrap_or_else(|p| p.into_inner());
    for (cam, h) in map.iter() {
        let cam = escape(cam);
        for (le, n) in bounds.iter().zip(h.counts) {
            let _ = writeln!(
                o,
                "{name}_bucket{{site=\"{site}\",camera=\"{cam}\",le=\"{le}\"}} {n}"
            );
        }
        let _ = writeln!(
            o,
            "{name}_bucket{{site=\"{site}\",camera=\"{cam}\",le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(
            o,
            "{name}_sum{{site=\"{site}\",camera=\"{cam}\"}} {}",
            num(h.sum)
        );
        let _ = writeln!(
            o,
            "{name}_count{{site=\"{site}\",camera=\"{cam}\"}} {}",
            h.count
        );
    }
}

/// Metrics the pipeline feeds and the server counts. Shared through
/// [`crate::AppState::metrics`].
#[derive(Debug, Default)]
pub struct Metrics {
    inference: Mutex<BTreeMap<String, Histogram>>,
    live_latency: Mutex<BTreeMap<String, Histogram>>,
    sse_clients: AtomicI64,
    sse_events: AtomicU64,
    logins_failed: AtomicU64,
}

impl Metrics {
    /// Records one inference of `camera` that took `seconds`.
    pub fn observe_inference(&self, camera: &str, seconds: f64) {
        observe(&self.inference, &INFERENCE_BUCKETS_S, camera, seconds);
    }

    /// Records that a frame of `camera` captured `seconds` ago reached the live state.
    pub fn observe_live_latency(&self, camera: &str, seconds: f64) {
        observe(&self.live_latency, &LIVE_LATENCY_BUCKETS_S, camera, seconds);
    }

    pub(crate) fn sse_connected(&self) {
        self.sse_clients.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn sse_disconnected(&self) {
        self.sse_clients.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn sse_sent(&self) {
        self.sse_events.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn login_failed(&self) {
        self.logins_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// Live SSE clients now.
    pub fn sse_clients(&self) -> i64 {
        self.sse_clients.load(Ordering::Relaxed)
    }

    /// The exposition text for `hall` and the counters here.
    pub fn render(&self, hall: &HallState, sessions: usize) -> String {
        let mut o = String::with_capacity(4096);
        let site = escape(&hall.site);
        let family = |o: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        family(
            &mut o,
            "hallwatch_camera_up",
            "gauge",
            "1 while the camera delivers frames.",
        );
        for c in &hall.cameras {
            let up = u8::from(matches!(c.state, CameraState::Running));
            let _ = writeln!(
                o,
                "hallwatch_camera_up{{site=\"{site}\",camera=\"{}\"}} {up}",
                escape(c.camera.as_str())
            );
        }
        family(
            &mut o,
            "hallwatch_camera_input_fps",
            "gauge",
            "Decoded frames per second from the source.",
        );
        for c in &hall.cameras {
            let _ = writeln!(
                o,
                "hallwatch_camera_input_fps{{site=\"{site}\",camera=\"{}\"}} {}",
                escape(c.camera.as_str()),
                num(c.input_fps)
            );
        }
        family(
            &mut o,
            "hallwatch_camera_analysed_fps",
            "gauge",
            "Frames per second handed to analysis.",
        );
        for c in &hall.cameras {
            let _ = writeln!(
                o,
                "hallwatch_camera_analysed_fps{{site=\"{site}\",camera=\"{}\"}} {}",
                escape(c.camera.as_str()),
                num(c.analysed_fps)
            );
        }
        family(
            &mut o,
            "hallwatch_camera_frames_dropped_total",
            "counter",
            "Frames dropped because analysis lagged.",
        );
        for c in &hall.cameras {
            let _ = writeln!(
                o,
                "hallwatch_camera_frames_dropped_total{{site=\"{site}\",camera=\"{}\"}} {}",
                escape(c.camera.as_str()),
                c.frames_dropped
            );
        }
        for (name, help, value) in [
            (
                "hallwatch_camera_frames_skipped_rate_total",
                "Frames the adaptive analysis rate skipped before the detector.",
                (|c: &hallwatch_core::CameraHealth| c.analysis.skipped_by_rate as f64)
                    as fn(&hallwatch_core::CameraHealth) -> f64,
            ),
            (
                "hallwatch_camera_frames_skipped_still_total",
                "Frames the motion gate found still (detections reused, no inference).",
                |c| c.analysis.skipped_still as f64,
            ),
            (
                "hallwatch_camera_frames_inferred_total",
                "Frames the detector ran on.",
                |c| c.analysis.inferred as f64,
            ),
            (
                "hallwatch_camera_frames_active_total",
                "Analysed frames taken at the raised rate while people moved near zones.",
                |c| c.analysis.analysed_active as f64,
            ),
            (
                "hallwatch_camera_detector_seconds_total",
                "Seconds spent in the detector for this camera (its CPU cost).",
                |c| c.analysis.inference_s,
            ),
        ] {
            family(&mut o, name, "counter", help);
            for c in &hall.cameras {
                let _ = writeln!(
                    o,
                    "{name}{{site=\"{site}\",camera=\"{}\"}} {}",
                    escape(c.camera.as_str()),
                    num(value(c))
                );
            }
        }
        family(
            &mut o,
            "hallwatch_camera_dropped_fps",
            "gauge",
            "Frames dropped per second lately because analysis lags (overload when above a tenth of the frames).",
        );
        for c in &hall.cameras {
            let _ = writeln!(
                o,
                "hallwatch_camera_dropped_fps{{site=\"{site}\",camera=\"{}\"}} {}",
                escape(c.camera.as_str()),
                num(c.dropped_fps)
            );
        }
        family(
            &mut o,
            "hallwatch_camera_overloaded",
            "gauge",
            "1 while the detector cannot keep up with this camera's analysis rate.",
        );
        for c in &hall.cameras {
            let _ = writeln!(
                o,
                "hallwatch_camera_overloaded{{site=\"{site}\",camera=\"{}\"}} {}",
                escape(c.camera.as_str()),
                u8::from(c.overloaded())
            );
        }
        family(
            &mut o,
            "hallwatch_camera_reconnects_total",
            "counter",
            "Restarts after a failure.",
        );
        for c in &hall.cameras {
            let _ = writeln!(
                o,
                "hallwatch_camera_reconnects_total{{site=\"{site}\",camera=\"{}\"}} {}",
                escape(c.camera.as_str()),
                c.reconnects
            );
        }
        let st = &hall.storage;
        for (name, kind, help, value) in [
            (
                "hallwatch_store_failing",
                "gauge",
                "1 while the event store refuses writes or records wait in memory for it.",
                u64::from(st.failing),
            ),
            (
                "hallwatch_store_pending_records",
                "gauge",
                "Records waiting in memory because the event store refused them.",
                st.pending,
            ),
            (
                "hallwatch_store_records_total",
                "counter",
                "Records the event store writer committed.",
                st.records,
            ),
            (
                "hallwatch_store_batches_total",
                "counter",
                "Transactions the event store writer committed.",
                st.batches,
            ),
            (
                "hallwatch_store_commit_failures_total",
                "counter",
                "Commit attempts the event store refused (full disk, I/O errors, locks).",
                st.commit_failures,
            ),
            (
                "hallwatch_store_failed_records_total",
                "counter",
                "Records not stored: rejected by the database, or refused while their sender waited.",
                st.failed,
            ),
            (
                "hallwatch_store_dropped_records_total",
                "counter",
                "Records given up because the in-memory backlog was full.",
                st.dropped,
            ),
            (
                "hallwatch_detector_errors_total",
                "counter",
                "Frames whose detection failed (dropped, logged).",
                hall.pipeline.detector_errors,
            ),
            (
                "hallwatch_detector_panics_total",
                "counter",
                "Frames whose detection panicked (dropped, logged; the worker carried on).",
                hall.pipeline.detector_panics,
            ),
            (
                "hallwatch_analysis_restarts_total",
                "counter",
                "Times a camera's tracking and zones panicked and started afresh.",
                hall.pipeline.analysis_restarts,
            ),
        ] {
            family(&mut o, name, kind, help);
            let _ = writeln!(o, "{name}{{site=\"{site}\"}} {value}");
        }
        let up = &hall.uplink;
        if up.configured {
            for (name, kind, help, value) in [
                (
                    "hallwatch_uplink_connected",
                    "gauge",
                    "1 while the NATS connection to the province centre is up.",
                    f64::from(u8::from(up.connected)),
                ),
                (
                    "hallwatch_uplink_lag_events",
                    "gauge",
                    "Facts waiting in the outbox for the centre's acknowledgement.",
                    up.lag_events as f64,
                ),
                (
                    "hallwatch_uplink_lag_seconds",
                    "gauge",
                    "Age of the oldest fact waiting in the outbox.",
                    up.lag_s,
                ),
                (
                    "hallwatch_uplink_acked_seq",
                    "gauge",
                    "The last fact the centre's stream acknowledged.",
                    up.acked_seq as f64,
                ),
                (
                    "hallwatch_uplink_dropped_total",
                    "counter",
                    "Facts dropped unshipped by retention.",
                    up.dropped as f64,
                ),
            ] {
                family(&mut o, name, kind, help);
                let _ = writeln!(o, "{name}{{site=\"{site}\"}} {value}");
            }
        }
        family(
            &mut o,
            "hallwatch_inference_seconds",
            "histogram",
            "Person detector inference latency per frame.",
        );
        render_histogram(
            &mut o,
            "hallwatch_inference_seconds",
            &site,
            &self.inference,
            &INFERENCE_BUCKETS_S,
        );
        family(
            &mut o,
            "hallwatch_live_latency_seconds",
            "histogram",
            "Delay from a frame's capture (its arrival from the camera) to the live state it updated.",
        );
        render_histogram(
            &mut o,
            "hallwatch_live_latency_seconds",
            &site,
            &self.live_latency,
            &LIVE_LATENCY_BUCKETS_S,
        );
        family(
            &mut o,
            "hallwatch_waiting_people",
            "gauge",
            "People waiting now (Số người đang chờ), all waiting zones.",
        );
        let _ = writeln!(
            o,
            "hallwatch_waiting_people{{site=\"{site}\"}} {}",
            hall.waiting_now
        );
        family(
            &mut o,
            "hallwatch_zone_people",
            "gauge",
            "People in each zone now.",
        );
        for z in &hall.zones {
            let _ = writeln!(
                o,
                "hallwatch_zone_people{{site=\"{site}\",zone=\"{}\",role=\"{}\"}} {}",
                escape(&z.id),
                escape(&z.role),
                z.people_now
            );
        }
        family(
            &mut o,
            "hallwatch_queue_length",
            "gauge",
            "Smoothed people per waiting zone (the displayed queue length).",
        );
        for z in hall.zones.iter().filter(|z| z.role == "waiting") {
            let _ = writeln!(
                o,
                "hallwatch_queue_length{{site=\"{site}\",zone=\"{}\"}} {}",
                escape(&z.id),
                num(z.people_smoothed)
            );
        }
        family(
            &mut o,
            "hallwatch_counter_serving",
            "gauge",
            "1 while the counter serves a citizen.",
        );
        for c in &hall.counters {
            let v = u8::from(c.activity == CounterActivity::Serving);
            let _ = writeln!(
                o,
                "hallwatch_counter_serving{{site=\"{site}\",counter=\"{}\"}} {v}",
                c.counter
            );
        }
        family(
            &mut o,
            "hallwatch_counter_staffed",
            "gauge",
            "1 while staff are at the counter.",
        );
        for c in &hall.counters {
            let v = u8::from(c.activity != CounterActivity::StaffAbsent);
            let _ = writeln!(
                o,
                "hallwatch_counter_staffed{{site=\"{site}\",counter=\"{}\"}} {v}",
                c.counter
            );
        }
        family(
            &mut o,
            "hallwatch_served_today",
            "gauge",
            "Services finished today (Lượt phục vụ).",
        );
        let _ = writeln!(
            o,
            "hallwatch_served_today{{site=\"{site}\"}} {}",
            hall.today.served
        );
        family(
            &mut o,
            "hallwatch_arrivals_today",
            "gauge",
            "People who started waiting today.",
        );
        let _ = writeln!(
            o,
            "hallwatch_arrivals_today{{site=\"{site}\"}} {}",
            hall.today.arrivals
        );
        if let Some(p) = &hall.prediction {
            family(
                &mut o,
                "hallwatch_predicted_wait_seconds",
                "gauge",
                "Expected wait for someone arriving now.",
            );
            let _ = writeln!(
                o,
                "hallwatch_predicted_wait_seconds{{site=\"{site}\"}} {}",
                num(p.expected_s)
            );
        }
        family(
            &mut o,
            "hallwatch_state_seq",
            "gauge",
            "Publication counter of the live hall state.",
        );
        let _ = writeln!(o, "hallwatch_state_seq{{site=\"{site}\"}} {}", hall.seq);
        family(
            &mut o,
            "hallwatch_sse_clients",
            "gauge",
            "Live-stream clients connected.",
        );
        let _ = writeln!(o, "hallwatch_sse_clients {}", self.sse_clients());
        family(
            &mut o,
            "hallwatch_sse_events_total",
            "counter",
            "State events sent to live-stream clients.",
        );
        let _ = writeln!(
            o,
            "hallwatch_sse_events_total {}",
            self.sse_events.load(Ordering::Relaxed)
        );
        family(
            &mut o,
            "hallwatch_login_sessions",
            "gauge",
            "Open login sessions.",
        );
        let _ = writeln!(o, "hallwatch_login_sessions {sessions}");
        family(
            &mut o,
            "hallwatch_logins_failed_total",
            "counter",
            "Failed or refused logins.",
        );
        let _ = writeln!(
            o,
            "hallwatch_logins_failed_total {}",
            self.logins_failed.load(Ordering::Relaxed)
        );
        o
    }
}

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else if v.is_nan() {
        "NaN".into()
    } else if v > 0.0 {
        "+Inf".into()
    } else {
        "-Inf".into()
    }
}

/// A label value escaped for the text format.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_labels_escaped() {
        let m = Metrics::default();
        m.observe_inference("sanh\"1", 0.004);
        m.observe_inference("sanh\"1", 0.06);
        m.observe_inference("sanh\"1", 9.0);
        m.observe_inference("sanh\"1", f64::NAN);
        let text = m.render(&HallState::default(), 0);
        assert!(
            text.contains(
                "hallwatch_inference_seconds_bucket{site=\"\",camera=\"sanh\\\"1\",le=\"0.005\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("le=\"0.075\"} 2"));
        assert!(text.contains("le=\"2.5\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 3"));
        assert!(
            text.contains("hallwatch_inference_seconds_count{site=\"\",camera=\"sanh\\\"1\"} 3")
        );
    }

    #[test]
    fn live_latency_has_its_own_buckets_per_camera() {
        let m = Metrics::default();
        m.observe_live_latency("a", 0.0625);
        m.observe_live_latency("a", 0.5);
        m.observe_live_latency("b", 12.0);
        m.observe_live_latency("b", -1.0);
        let text = m.render(&HallState::default(), 0);
        assert!(
            text.contains("# TYPE hallwatch_live_latency_seconds histogram"),
            "{text}"
        );
        let line = |cam: &str, le: &str| {
            format!(
                "hallwatch_live_latency_seconds_bucket{{site=\"\",camera=\"{cam}\",le=\"{le}\"}}"
            )
        };
        assert!(text.contains(&format!("{} 0", line("a", "0.05"))), "{text}");
        assert!(text.contains(&format!("{} 1", line("a", "0.1"))), "{text}");
        assert!(text.contains(&format!("{} 2", line("a", "0.5"))), "{text}");
        assert!(text.contains(&format!("{} 0", line("b", "10"))), "{text}");
        assert!(text.contains(&format!("{} 1", line("b", "+Inf"))), "{text}");
        assert!(text.contains("hallwatch_live_latency_seconds_sum{site=\"\",camera=\"a\"} 0.5625"));
        // Inference buckets stay apart.
        assert!(!text.contains("hallwatch_inference_seconds_bucket{site=\"\",camera=\"a\""));
    }
}
