//! The per-camera supervisor thread.

use crate::IngestError;
use crate::pipeline::{self, Built};
use crossbeam_channel::{Receiver, Sender, TrySendError};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;
use hallwatch_config::{CameraConfig, SourceKind};
use hallwatch_core::{CameraHealth, CameraId, CameraState, Frame, FrameTime, redact};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A running camera: its frame channel, its health, and the thread that supervises it.
///
/// Dropping the handle stops the camera and joins its thread.
pub struct CameraHandle {
    id: CameraId,
    frames: Receiver<Frame>,
    health: Arc<Mutex<CameraHealth>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CameraHandle {
    /// Starts supervising the camera `cfg` on a thread of its own. Failures of the source are
    /// not errors here: they show in [`CameraHandle::health`] and the camera is retried. The
    /// only error is a thread that cannot be started.
    pub fn spawn(cfg: &CameraConfig) -> Result<Self, IngestError> {
        crate::init()?;
        let id = CameraId::new(&cfg.id);
        let (tx, rx) = crossbeam_channel::bounded(cfg.analysis.queue.max(1));
        let health = Arc::new(Mutex::new(CameraHealth::new(id.clone())));
        let stop = Arc::new(AtomicBool::new(false));
        let (_, _, password) = cfg.source.credentials();
        let supervisor = Supervisor {
            cfg: cfg.clone(),
            id: id.clone(),
            tx,
            rx: rx.clone(),
            health: Arc::clone(&health),
            stop: Arc::clone(&stop),
            secrets: vec![password],
            seq: 0,
            live: pipeline::is_live(cfg),
        };
        let thread = std::thread::Builder::new()
            .name(format!("camera-{}", cfg.id))
            .spawn(move || supervisor.run())
            .map_err(|e| IngestError::Start {
                message: format!("could not start the camera thread: {e}"),
            })?;
        Ok(Self {
            id,
            frames: rx,
            health,
            stop,
            thread: Some(thread),
        })
    }

    /// The camera's id.
    pub fn id(&self) -> &CameraId {
        &self.id
    }

    /// The channel analysis frames arrive on.
    pub fn frames(&self) -> &Receiver<Frame> {
        &self.frames
    }

    /// A copy of the camera's health right now.
    pub fn health(&self) -> CameraHealth {
        lock(&self.health).clone()
    }

    /// A handle that reads this camera's health from another thread.
    pub fn health_watch(&self) -> HealthWatch {
        HealthWatch(Arc::clone(&self.health))
    }

    /// Stops the camera and waits for its thread (the pipeline is set to NULL first).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one camera's health from any thread (see [`CameraHandle::health_watch`]).
#[derive(Clone)]
pub struct HealthWatch(Arc<Mutex<CameraHealth>>);

impl HealthWatch {
    /// A copy of the camera's health right now.
    pub fn get(&self) -> CameraHealth {
        lock(&self.0).clone()
    }
}

impl Drop for CameraHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// All enabled cameras of a config, each supervised on its own.
pub struct Ingest {
    cameras: Vec<CameraHandle>,
}

impl Ingest {
    /// Starts every enabled camera in `cameras`.
    pub fn start(cameras: &[CameraConfig]) -> Result<Self, IngestError> {
        let cameras = cameras
            .iter()
            .filter(|c| c.enabled)
            .map(CameraHandle::spawn)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { cameras })
    }

    /// The running cameras.
    pub fn cameras(&self) -> &[CameraHandle] {
        &self.cameras
    }

    /// The camera with this id.
    pub fn camera(&self, id: &str) -> Option<&CameraHandle> {
        self.cameras.iter().find(|c| c.id.as_str() == id)
    }

    /// Health of every camera, in config order.
    pub fn health(&self) -> Vec<CameraHealth> {
        self.cameras.iter().map(CameraHandle::health).collect()
    }

    /// Stops every camera.
    pub fn stop(mut self) {
        for c in &mut self.cameras {
            c.stop();
        }
    }
}

/// Delay before restart attempt `attempt` (1-based): `initial`, doubled each attempt, capped at
/// `max` seconds.
pub fn backoff_delay(initial: f64, max: f64, attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(30) as i32;
    let secs = (initial * 2f64.powi(exp)).min(max);
    Duration::from_secs_f64(secs.max(0.0))
}

fn lock(h: &Mutex<CameraHealth>) -> MutexGuard<'_, CameraHealth> {
    h.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

enum RunEnd {
    Stopped,
    Finished,
    Failed {
        error: IngestError,
        delivered: bool,
        last_frame: Option<SystemTime>,
    },
}

struct Supervisor {
    cfg: CameraConfig,
    id: CameraId,
    tx: Sender<Frame>,
    /// A second receiver, so that a full queue can give up its oldest frame.
    rx: Receiver<Frame>,
    health: Arc<Mutex<CameraHealth>>,
    stop: Arc<AtomicBool>,
    secrets: Vec<String>,
    seq: u64,
    live: bool,
}

/// Sets the pipeline to NULL however a run ends.
struct NullOnDrop(gst::Pipeline);

impl Drop for NullOnDrop {
    fn drop(&mut self) {
        let _ = self.0.set_state(gst::State::Null);
    }
}

impl Supervisor {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn set_state(&self, state: CameraState) {
        let mut h = lock(&self.health);
        if h.state != state {
            tracing::info!(camera = %self.id, state = ?state, "camera state");
            h.state = state;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let s = &self.cfg.supervision;
        backoff_delay(s.backoff_initial_s, s.backoff_max_s, attempt)
    }

    /// Sleeps `d` unless told to stop first; false when stopped.
    fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        while Instant::now() < end {
            if self.stopped() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20).min(end - Instant::now()));
        }
        !self.stopped()
    }

    fn run(mut self) {
        tracing::info!(camera = %self.id, source = %self.describe_source(), "camera starting");
        let mut attempt = 0u32;
        loop {
            if self.stopped() {
                break;
            }
            self.set_state(CameraState::Starting);
            match self.run_once() {
                RunEnd::Stopped => break,
                RunEnd::Finished => {
                    self.set_state(CameraState::Finished);
                    return;
                }
                RunEnd::Failed {
                    error,
                    delivered,
                    last_frame,
                } => {
                    let message = error.to_string();
                    tracing::warn!(camera = %self.id, error = %message, "camera failed");
                    {
                        let mut h = lock(&self.health);
                        h.last_error = Some(message.clone());
                        h.open_downtime(last_frame.unwrap_or_else(SystemTime::now), message);
                    }
                    let file = self.cfg.source.kind == SourceKind::File && !self.cfg.source.looping;
                    if file && error.is_permanent_for_file() {
                        self.set_state(CameraState::Failed);
                        return;
                    }
                    if delivered {
                        attempt = 0;
                    }
                    attempt += 1;
                    let delay = self.backoff(attempt);
                    self.set_state(CameraState::Reconnecting {
                        attempt,
                        retry_in_s: delay.as_secs_f64(),
                    });
                    if !self.sleep(delay) {
                        break;
                    }
                    lock(&self.health).reconnects += 1;
                }
            }
        }
        self.set_state(CameraState::Stopped);
    }

    fn describe_source(&self) -> String {
        let s = &self.cfg.source;
        match s.kind {
            SourceKind::Rtsp => s.redacted_url(),
            SourceKind::File => s.path.clone(),
            SourceKind::Test => format!("test:{}", s.pattern),
        }
    }

    fn clean(&self, text: &str) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        redact::message(text, &secrets)
    }

    fn bus_error(&self, msg: &gst::Message) -> Option<IngestError> {
        match msg.view() {
            gst::MessageView::Error(err) => {
                let element = msg
                    .src()
                    .map(|s| s.name().to_string())
                    .unwrap_or_else(|| "pipeline".into());
                let mut message = err.error().to_string();
                if let Some(debug) = err.debug() {
                    // GStreamer's debug text ends with the useful line ("streaming stopped,
                    // reason not-negotiated", "Unauthorized", ...).
                    if let Some(last) = debug.lines().last().map(str::trim)
                        && !last.is_empty()
                        && last.len() < 300
                        && !message.contains(last)
                    {
                        message = format!("{message} ({last})");
                    }
                }
                Some(IngestError::Stream {
                    element,
                    message: self.clean(&message),
                })
            }
            gst::MessageView::Warning(w) => {
                tracing::warn!(camera = %self.id, warning = %self.clean(&w.error().to_string()), "pipeline warning");
                None
            }
            _ => None,
        }
    }

    fn first_bus_error(&self, bus: &gst::Bus, wait: Duration) -> Option<IngestError> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = bus.timed_pop_filtered(
                gst::ClockTime::from_nseconds(left.as_nanos() as u64),
                &[gst::MessageType::Error],
            )?;
            if let Some(e) = self.bus_error(&msg) {
                return Some(e);
            }
        }
    }

    fn run_once(&mut self) -> RunEnd {
        let failed = |error| RunEnd::Failed {
            error,
            delivered: false,
            last_frame: None,
        };
        if self.cfg.source.kind == SourceKind::File {
            let path = Path::new(&self.cfg.source.path);
            if std::fs::File::open(path).is_err() || !path.is_file() {
                return failed(IngestError::FileNotFound { path: path.into() });
            }
        }
        let built = match pipeline::build(&self.cfg) {
            Ok(b) => b,
            Err(e) => return failed(e),
        };
        let Built {
            pipeline,
            sink,
            gate,
            shared,
        } = built;
        let guard = NullOnDrop(pipeline.clone());
        let Some(bus) = pipeline.bus() else {
            return failed(IngestError::Start {
                message: "pipeline has no bus".into(),
            });
        };
        if let Err(e) = pipeline.set_state(gst::State::Playing) {
            let error = self
                .first_bus_error(&bus, Duration::from_millis(500))
                .unwrap_or(IngestError::Start {
                    message: e.to_string(),
                });
            return failed(error);
        }

        let sup = self.cfg.supervision.clone();
        let started = Instant::now();
        let mut last_frame_at: Option<Instant> = None;
        let mut last_frame_wall: Option<SystemTime> = None;
        let mut stats_at = Instant::now();
        let mut decoded_then = 0u64;
        let mut analysed_then = lock(&self.health).frames_analysed;
        let mut dropped_then = lock(&self.health).frames_dropped;
        let mut video_info: Option<(gst::Caps, gst_video::VideoInfo)> = None;
        let end = loop {
            if self.stopped() {
                break RunEnd::Stopped;
            }
            let mut bus_failure = None;
            while let Some(msg) =
                bus.pop_filtered(&[gst::MessageType::Error, gst::MessageType::Warning])
            {
                if let Some(e) = self.bus_error(&msg) {
                    bus_failure = Some(e);
                    break;
                }
            }
            if let Some(error) = bus_failure {
                break RunEnd::Failed {
                    error,
                    delivered: last_frame_at.is_some(),
                    last_frame: last_frame_wall,
                };
            }

            match sink.try_pull_sample(gst::ClockTime::from_mseconds(100)) {
                Some(sample) => {
                    let frame = match self.make_frame(&sample, &pipeline, &mut video_info) {
                        Some(f) => f,
                        None => continue,
                    };
                    if last_frame_at.is_none() {
                        self.on_first_frame(&gate, &shared);
                    }
                    let wall = frame.time.wall;
                    if !self.push(frame) {
                        break RunEnd::Stopped;
                    }
                    last_frame_at = Some(Instant::now());
                    last_frame_wall = Some(wall.unwrap_or_else(SystemTime::now));
                }
                None if sink.is_eos() => {
                    if self.live && self.cfg.source.kind != SourceKind::File {
                        break RunEnd::Failed {
                            error: IngestError::EndOfStream,
                            delivered: last_frame_at.is_some(),
                            last_frame: last_frame_wall,
                        };
                    } else if self.cfg.source.looping {
                        tracing::debug!(camera = %self.id, "end of file, looping");
                        if let Err(e) = pipeline.seek_simple(
                            gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT,
                            gst::ClockTime::ZERO,
                        ) {
                            break RunEnd::Failed {
                                error: IngestError::Stream {
                                    element: "pipeline".into(),
                                    message: format!("could not loop: {e}"),
                                },
                                delivered: last_frame_at.is_some(),
                                last_frame: last_frame_wall,
                            };
                        }
                    } else {
                        break RunEnd::Finished;
                    }
                }
                None => {}
            }

            let (since, limit) = match last_frame_at {
                Some(t) => (t.elapsed(), sup.no_frame_timeout_s),
                None => (started.elapsed(), sup.start_timeout_s),
            };
            if since.as_secs_f64() > limit {
                break RunEnd::Failed {
                    error: IngestError::NoFrames { seconds: limit },
                    delivered: last_frame_at.is_some(),
                    last_frame: last_frame_wall,
                };
            }

            let dt = stats_at.elapsed().as_secs_f64();
            if dt >= 1.0 {
                let decoded = shared.decoded.load(Ordering::Relaxed);
                let mut h = lock(&self.health);
                h.input_fps = decoded.saturating_sub(decoded_then) as f64 / dt;
                h.analysed_fps = h.frames_analysed.saturating_sub(analysed_then) as f64 / dt;
                h.dropped_fps = h.frames_dropped.saturating_sub(dropped_then) as f64 / dt;
                h.frames_decoded += decoded.saturating_sub(decoded_then);
                decoded_then = decoded;
                analysed_then = h.frames_analysed;
                dropped_then = h.frames_dropped;
                stats_at = Instant::now();
            }
        };
        let decoded = shared.decoded.load(Ordering::Relaxed);
        {
            let mut h = lock(&self.health);
            h.frames_decoded += decoded.saturating_sub(decoded_then);
            h.input_fps = 0.0;
            h.analysed_fps = 0.0;
            h.dropped_fps = 0.0;
        }
        drop(guard);
        end
    }

    fn on_first_frame(&self, gate: &gst::Element, shared: &pipeline::Shared) {
        let caps = gate.static_pad("sink").and_then(|p| p.current_caps());
        let mut h = lock(&self.health);
        if let Some(st) = caps.as_ref().and_then(|c| c.structure(0)) {
            if let (Ok(w), Ok(hgt)) = (st.get::<i32>("width"), st.get::<i32>("height")) {
                h.source_size = Some((w.max(0) as u32, hgt.max(0) as u32));
            }
            if let Ok(fr) = st.get::<gst::Fraction>("framerate")
                && fr.numer() > 0
                && fr.denom() > 0
            {
                h.source_fps = Some(fr.numer() as f64 / fr.denom() as f64);
            }
        }
        if let Some(codec) = shared.codec.get() {
            h.codec = Some(codec.clone());
        }
        h.close_downtime(SystemTime::now());
        if h.state != CameraState::Running {
            tracing::info!(camera = %self.id, state = ?CameraState::Running, codec = ?h.codec, size = ?h.source_size, "camera state");
            h.state = CameraState::Running;
        }
    }

    fn make_frame(
        &mut self,
        sample: &gst::Sample,
        pipeline: &gst::Pipeline,
        cache: &mut Option<(gst::Caps, gst_video::VideoInfo)>,
    ) -> Option<Frame> {
        let caps = sample.caps()?;
        let stale = cache.as_ref().is_none_or(|(c, _)| c.as_ref() != caps);
        if stale {
            let info = gst_video::VideoInfo::from_caps(caps).ok()?;
            *cache = Some((caps.to_owned(), info));
        }
        let (_, info) = cache.as_ref()?;
        let buffer = sample.buffer()?;
        let vframe = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, info).ok()?;
        let (w, h) = (info.width(), info.height());
        let row = w as usize * 3;
        let stride = *vframe.plane_stride().first()? as usize;
        let plane = vframe.plane_data(0).ok()?;
        let mut data = Vec::with_capacity(row * h as usize);
        for y in 0..h as usize {
            data.extend_from_slice(plane.get(y * stride..y * stride + row)?);
        }

        let pts = buffer.pts();
        let segment = sample
            .segment()
            .and_then(|s| s.downcast_ref::<gst::ClockTime>());
        let media = pts
            .and_then(|p| segment.and_then(|s| s.to_stream_time(p)).or(Some(p)))
            .map(|t| Duration::from_nanos(t.nseconds()))
            .unwrap_or_default();
        let wall = if self.live {
            let running = pts.and_then(|p| segment.and_then(|s| s.to_running_time(p)));
            match (running, pipeline.base_time()) {
                (Some(r), Some(base)) => {
                    Some(UNIX_EPOCH + Duration::from_nanos((base + r).nseconds()))
                }
                _ => Some(SystemTime::now()),
            }
        } else {
            None
        };
        let source_index = match buffer.offset() {
            o if o != gst::format::Buffers::OFFSET_NONE => o,
            _ => 0,
        };
        let frame = Frame {
            camera: self.id.clone(),
            seq: self.seq,
            source_index,
            time: FrameTime { media, wall },
            width: w,
            height: h,
            data: Arc::from(data),
        };
        self.seq += 1;
        Some(frame)
    }

    /// Hands a frame to analysis. Live sources drop the oldest queued frame when the queue is
    /// full; files wait for room. False when told to stop while waiting.
    fn push(&self, frame: Frame) -> bool {
        if self.live {
            let mut dropped = 0;
            let mut frame = frame;
            loop {
                match self.tx.try_send(frame) {
                    Ok(()) => break,
                    Err(TrySendError::Full(f)) => {
                        if self.rx.try_recv().is_ok() {
                            dropped += 1;
                        }
                        frame = f;
                    }
                    Err(TrySendError::Disconnected(_)) => return false,
                }
            }
            let mut h = lock(&self.health);
            h.frames_dropped += dropped;
            h.frames_analysed += 1;
            true
        } else {
            let mut frame = frame;
            loop {
                match self.tx.send_timeout(frame, Duration::from_millis(100)) {
                    Ok(()) => {
                        lock(&self.health).frames_analysed += 1;
                        return true;
                    }
                    Err(crossbeam_channel::SendTimeoutError::Timeout(f)) => {
                        if self.stopped() {
                            return false;
                        }
                        frame = f;
                    }
                    Err(crossbeam_channel::SendTimeoutError::Disconnected(_)) => return false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_delay;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let secs: Vec<f64> = (1..=8)
            .map(|a| backoff_delay(1.0, 30.0, a).as_secs_f64())
            .collect();
        assert_eq!(secs, vec![1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]);
        assert_eq!(backoff_delay(0.5, 2.0, 100).as_secs_f64(), 2.0);
    }
}
