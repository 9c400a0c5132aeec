//! Detection workers: dedicated threads, each owning an ONNX Runtime session, fed by the
//! bounded frame channels of all cameras. Never runs on the async runtime or on GStreamer's
//! streaming threads.

use crate::DetectError;
use crate::detector::{DetectorOptions, OrtDetector, Timings};
use crate::gate::{GateDecision, MotionGate};
use crate::manifest::LoadedManifest;
use crate::preprocess::Region;
use crossbeam_channel::{Receiver, Select, Sender};
use hallwatch_config::CameraDetectConfig;
use hallwatch_core::{CameraId, Decimator, Detection, Frame};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Worker threads, each with its own session.
    pub workers: usize,
    /// Intra-op threads per session (0 = the cores divided among the workers).
    pub intra_threads: usize,
}

struct CameraState {
    config: CameraDetectConfig,
    rate: Decimator,
    gate: MotionGate,
    last: Vec<Detection>,
}

/// Running detection workers.
pub struct DetectorPool {
    workers: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
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
        let workers = opts.workers.max(1);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
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
                },
            )?);
        }
        let states: Arc<HashMap<CameraId, Mutex<CameraState>>> = Arc::new(
            inputs
                .iter()
                .map(|i| {
                    (
                        i.camera.clone(),
                        Mutex::new(CameraState {
                            gate: MotionGate::new(i.config.motion_threshold, i.config.full_pass_s),
                            config: i.config.clone(),
                            rate: i.rate.clone(),
                            last: Vec::new(),
                        }),
                    )
                })
                .collect(),
        );
        let receivers: Vec<Receiver<Frame>> = inputs.iter().map(|i| i.frames.clone()).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::with_capacity(workers);
        for (n, detector) in detectors.into_iter().enumerate() {
            let receivers = receivers.clone();
            let states = Arc::clone(&states);
            let out = out.clone();
            let stop = Arc::clone(&stop);
            let h = std::thread::Builder::new()
                .name(format!("detect-{n}"))
                .spawn(move || worker(detector, receivers, states, out, stop))
                .map_err(|e| {
                    DetectError::Runtime(format!("cannot start a detection thread: {e}"))
                })?;
            handles.push(h);
        }
        Ok(Self {
            workers: handles,
            stop,
        })
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
    receivers: Vec<Receiver<Frame>>,
    states: Arc<HashMap<CameraId, Mutex<CameraState>>>,
    out: Sender<Detected>,
    stop: Arc<AtomicBool>,
) {
    let mut open: Vec<bool> = vec![true; receivers.len()];
    while !stop.load(Ordering::SeqCst) && open.iter().any(|o| *o) {
        let mut sel = Select::new();
        let mut index = Vec::new();
        for (i, r) in receivers.iter().enumerate() {
            if open[i] {
                sel.recv(r);
                index.push(i);
            }
        }
        let Ok(op) = sel.select_timeout(Duration::from_millis(100)) else {
            continue;
        };
        let i = index[op.index()];
        let frame = match op.recv(&receivers[i]) {
            Ok(f) => f,
            Err(_) => {
                open[i] = false;
                continue;
            }
        };
        let Some(state) = states.get(&frame.camera) else {
            continue;
        };
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        if !st.rate.admit(frame.time.seconds()) {
            continue;
        }
        let result = process(&mut detector, &mut st, &frame);
        drop(st);
        match result {
            Ok((detections, decision, timings)) => {
                let item = Detected {
                    frame,
                    detections,
                    decision,
                    timings,
                };
                if out.send(item).is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(camera = %frame.camera, seq = frame.seq, error = %e, "detection failed on a frame");
            }
        }
    }
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
    let (dets, timings) = detector.detect(frame, &regions, st.config.score_threshold)?;
    st.last = dets.clone();
    Ok((dets, decision, timings))
}
