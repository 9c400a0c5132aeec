//! Detection workers: dedicated threads, each owning an ONNX Runtime session, fed by the
//! bounded frame channels of all cameras. Never runs on the async runtime or on GStreamer's
//! streaming threads.

use crate::DetectError;
use crate::detector::{DetectorOptions, OrtDetector, Timings};
use crate::gate::{GateDecision, MotionGate};
use crate::manifest::LoadedManifest;
use crate::preprocess::Region;
use crossbeam_channel::{Receiver, Select, Sender, TryRecvError};
use hallwatch_config::CameraDetectConfig;
use hallwatch_core::{AnalysisCost, CameraId, Decimator, Detection, Frame};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One camera's frames and its detection settings.
pub struct CameraInput {
    /// The camera.
    pub camera: CameraId,
    /// Its analysis frames (ingest's bounded channel).
    pub frames: Receiver<Frame>,
    /// Its detection settings.
    pub config: CameraDetectConfig,
    /// Boxes scoring at least this are kept (0 = the camera's `score_threshold`, else the
    /// model's). The tracker's second stage recovers people from boxes below its own
    /// threshold, so the pipeline asks for those too.
    pub min_score: f32,
    /// Which delivered frames are analysed (the adaptive analysis rate); frames it skips are
    /// dropped here, before the motion gate and the detector, and never reach the output.
    pub rate: Decimator,
}

/// A frame with the people found in it, in frame pixels.
#[derive(Clone, Debug)]
pub struct Detected {
    /// The analysed frame.
    pub frame: Frame,
    /// People found (or, when the gate said nothing moved, the last ones found on this camera).
    pub detections: Vec<Detection>,
    /// Whether the detector ran, and why.
    pub decision: GateDecision,
    /// Time spent on this frame (zero when skipped).
    pub timings: Timings,
}

/// How the pool runs.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    /// Worker threads, each with its own session. One camera's frames go through one worker
    /// at a time, in order; several workers help when there are several cameras (0 = one per
    /// core, at most one per camera: on two cores, two single-threaded sessions infer 5 %
    /// more frames per CPU-second than one with two threads).
    pub workers: usize,
    /// Intra-op threads per session (0 = the cores divided among the workers).
    pub intra_threads: usize,
    /// Let ONNX Runtime's threads spin between runs ([`DetectorOptions::spin`]): for files
    /// processed back to back, not for live cameras.
    pub spin: bool,
}

struct CameraState {
    config: CameraDetectConfig,
    min_score: f32,
    rate: Decimator,
    gate: MotionGate,
    last: Vec<Detection>,
}

/// One camera as the workers share it. A worker takes a camera (`busy`) before it receives
/// one of its frames and keeps it until the result is sent, so with several workers a
/// camera's frames still reach the tracker in capture order, one at a time (its tracker and
/// motion gate need them in order; the frames of different cameras run in parallel).
struct CameraSlot {
    camera: CameraId,
    frames: Receiver<Frame>,
    busy: AtomicBool,
    open: AtomicBool,
    state: Mutex<CameraState>,
    /// When this camera last had a frame admitted (a tick of the pool's counter; 0 = never).
    /// Workers take the camera with frames that waited longest, so under overload every
    /// camera's rate falls evenly and none starves.
    last_admitted: AtomicU64,
    /// Apart from `state`, which a worker holds through inference: readable at any moment.
    cost: Mutex<AnalysisCost>,
}

/// Clears a camera's busy flag when dropped, also when the worker unwinds.
struct Taken<'a>(&'a AtomicBool);

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Counters of the pool since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Frames whose detection failed with an error (dropped, logged).
    pub errors: u64,
    /// Frames whose detection panicked (dropped, logged; the worker carries on).
    pub panics: u64,
}

#[derive(Default)]
struct Counters {
    errors: AtomicU64,
    panics: AtomicU64,
    /// Frames admitted across cameras: the clock of [`CameraSlot::last_admitted`].
    ticks: AtomicU64,
}

/// Running detection workers.
pub struct DetectorPool {
    workers: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    slots: Arc<Vec<CameraSlot>>,
}

impl DetectorPool {
    /// Builds one session per worker (so a bad model fails here, before anything runs) and
    /// starts the workers. Results go to `out`; the workers end when every camera channel is
    /// closed, `out` is dropped, or [`DetectorPool::stop`] is called.
    pub fn start(
        model: &LoadedManifest,
        inputs: Vec<CameraInput>,
        opts: &PoolOptions,
        out: Sender<Detected>,
    ) -> Result<Self, DetectError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let workers = if opts.workers == 0 {
            cores.min(inputs.len()).max(1)
        } else {
            opts.workers
        };
        let intra = if opts.intra_threads > 0 {
            opts.intra_threads
        } else {
            (cores / workers).max(1)
        };
        let mut detectors = Vec::with_capacity(workers);
        for _ in 0..workers {
            detectors.push(OrtDetector::from_manifest(
                model,
                &DetectorOptions {
                    intra_threads: intra,
                    spin: opts.spin,
                },
            )?);
        }
        let slots: Arc<Vec<CameraSlot>> = Arc::new(
            inputs
                .into_iter()
                .map(|i| CameraSlot {
                    camera: i.camera,
                    cost: Mutex::new(AnalysisCost::default()),
                    frames: i.frames,
                    busy: AtomicBool::new(false),
                    open: AtomicBool::new(true),
                    last_admitted: AtomicU64::new(0),
                    state: Mutex::new(CameraState {
                        gate: MotionGate::new(i.config.motion_threshold, i.config.full_pass_s),
                        config: i.config,
                        min_score: i.min_score,
                        rate: i.rate,
                        last: Vec::new(),
                    }),
                })
                .collect(),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let mut handles = Vec::with_capacity(workers);
        for (n, detector) in detectors.into_iter().enumerate() {
            let slots = Arc::clone(&slots);
            let out = out.clone();
            let stop = Arc::clone(&stop);
            let counters = Arc::clone(&counters);
            let h = std::thread::Builder::new()
                .name(format!("detect-{n}"))
                .spawn(move || worker(detector, &slots, &out, &stop, &counters))
                .map_err(|e| {
                    DetectError::Runtime(format!("cannot start a detection thread: {e}"))
                })?;
            handles.push(h);
        }
        Ok(Self {
            workers: handles,
            stop,
            counters,
            slots,
        })
    }

    /// Each camera's analysis cost so far: frames skipped by the adaptive rate and by the
    /// motion gate, frames inferred and the detector time they took.
    pub fn costs(&self) -> Vec<(CameraId, AnalysisCost)> {
        self.slots
            .iter()
            .map(|s| {
                let c = s.cost.lock().unwrap_or_else(|p| p.into_inner()).clone();
                (s.camera.clone(), c)
            })
            .collect()
    }

    /// Frames that failed or panicked so far.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            errors: self.counters.errors.load(Ordering::Relaxed),
            panics: self.counters.panics.load(Ordering::Relaxed),
        }
    }

    /// Asks the workers to finish and waits for them.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }

    /// Waits until the workers end by themselves (all cameras closed).
    pub fn join(mut self) {
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }
}

fn worker(
    mut detector: OrtDetector,
    slots: &[CameraSlot],
    out: &Sender<Detected>,
    stop: &AtomicBool,
    counters: &Counters,
) {
    while !stop.load(Ordering::SeqCst) && slots.iter().any(|s| s.open.load(Ordering::Acquire)) {
        let Some(i) = fair_pick(slots).or_else(|| wait_for_frame(slots)) else {
            continue;
        };
        let slot = &slots[i];
        if slot
            .busy
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            continue;
        }
        let _taken = Taken(&slot.busy);
        let frame = match slot.frames.try_recv() {
            Ok(f) => f,
            Err(TryRecvError::Empty) => continue,
            Err(TryRecvError::Disconnected) => {
                slot.open.store(false, Ordering::Release);
                continue;
            }
        };
        let mut st = slot.state.lock().unwrap_or_else(|p| p.into_inner());
        let admitted = st.rate.admit(frame.time.seconds());
        {
            let mut cost = slot.cost.lock().unwrap_or_else(|p| p.into_inner());
            cost.skipped_by_rate = st.rate.skipped;
            cost.analysed_active = st.rate.admitted_active;
        }
        if !admitted {
            // Skipping is cheap: the same camera stays first in line and drains its queue.
            continue;
        }
        slot.last_admitted.store(
            counters.ticks.fetch_add(1, Ordering::Relaxed) + 1,
            Ordering::Relaxed,
        );
        // A panic on one frame (a decoder or pre-processing bug meeting an odd frame) costs
        // that frame, not the worker: the others cameras' frames keep flowing.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            process(&mut detector, &mut st, &frame)
        }));
        match result {
            Ok(Ok((detections, decision, timings))) => {
                {
                    let mut cost = slot.cost.lock().unwrap_or_else(|p| p.into_inner());
                    if decision.run() {
                        cost.inferred += 1;
                        cost.inference_s +=
                            (timings.pre_ms + timings.infer_ms + timings.post_ms) / 1000.0;
                    } else {
                        cost.skipped_still += 1;
                    }
                }
                let item = Detected {
                    frame,
                    detections,
                    decision,
                    timings,
                };
                // Sent while the camera is held: its results leave in order.
                if out.send(item).is_err() {
                    return;
                }
            }
            Ok(Err(e)) => {
                // The analysis will not see this frame: it is done with it.
                st.rate.signal().frame_done();
                counters.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(camera = %frame.camera, seq = frame.seq, error = %e, "detection failed on a frame");
            }
            Err(panic) => {
                st.rate.signal().frame_done();
                let n = counters.panics.fetch_add(1, Ordering::Relaxed) + 1;
                let what = hallwatch_core::panic_message(panic.as_ref());
                tracing::error!(
                    camera = %frame.camera, seq = frame.seq, panics = n, panic = %what,
                    "detection panicked on a frame; the frame is dropped and the worker carries on"
                );
            }
        }
    }
}

/// The camera whose frames should be taken next: of the open cameras that no worker holds and
/// that have a frame waiting, the one whose last admitted frame is oldest (round robin under
/// overload, whatever order the frames arrive in).
fn fair_pick(slots: &[CameraSlot]) -> Option<usize> {
    slots
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.open.load(Ordering::Acquire)
                && !s.busy.load(Ordering::Acquire)
                && !s.frames.is_empty()
        })
        .min_by_key(|(_, s)| s.last_admitted.load(Ordering::Relaxed))
        .map(|(i, _)| i)
}

/// Waits (briefly) until a camera no worker holds has a frame, or its channel closed.
fn wait_for_frame(slots: &[CameraSlot]) -> Option<usize> {
    let mut sel = Select::new();
    let mut index = Vec::new();
    for (i, s) in slots.iter().enumerate() {
        if s.open.load(Ordering::Acquire) && !s.busy.load(Ordering::Acquire) {
            sel.recv(&s.frames);
            index.push(i);
        }
    }
    if index.is_empty() {
        // Every camera with frames is being worked on.
        std::thread::sleep(Duration::from_millis(2));
        return None;
    }
    let k = sel.ready_timeout(Duration::from_millis(20)).ok()?;
    index.get(k).copied()
}

fn process(
    detector: &mut OrtDetector,
    st: &mut CameraState,
    frame: &Frame,
) -> Result<(Vec<Detection>, GateDecision, Timings), DetectError> {
    let decision = if st.config.motion_gating {
        st.gate.decide(frame)?
    } else {
        GateDecision::FullPass
    };
    if !decision.run() {
        return Ok((st.last.clone(), decision, Timings::default()));
    }
    let regions: Vec<Region> = detector.regions(&st.config, frame.width, frame.height);
    let threshold = if st.min_score > 0.0 {
        st.min_score
    } else {
        st.config.score_threshold
    };
    let (dets, timings) = detector.detect(frame, &regions, threshold)?;
    st.last = dets.clone();
    Ok((dets, decision, timings))
}
