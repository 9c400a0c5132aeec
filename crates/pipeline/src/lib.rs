//! hallwatch-pipeline: the one composition of a hall's analysis, used by `hallwatch run` (and
//! so the demo), `hallwatch replay` and the benchmarks, so that a rule about what is analysed
//! lands once and is tested once.
//!
//! ```text
//! Ingest (one supervised GStreamer pipeline per camera)
//!   -> DetectorPool (adaptive rate, motion gate, ONNX Runtime; frames of one camera in order)
//!   -> Analysis (per camera: tracker + zone engine; for the hall: figures + wait predictor)
//!   -> Sink (the store, the live state, the replay files, ...)
//! ```
//!
//! - [`Pipeline::start`] starts the cameras and the detector pool from a [`Config`]; each
//!   camera's adaptive analysis rate is raised by its own zone engine (people moving near the
//!   zones) through the [`hallwatch_core::RateSignal`] the pool's decimator reads.
//! - [`Analysis`] turns detected frames into tracks, zone events and hall figures, one camera
//!   at a time and in capture order ([`Analysis::drive`] is the consumer loop: a camera that
//!   goes down has its visits truncated; a panic on one camera's frame restarts only that
//!   camera's analysis).
//! - [`Sink`] receives each analysed frame ([`FrameStep`]) and the visits closed outside a
//!   frame; [`Sinks`] fans out to several. [`RecordFiles`] writes the replay files
//!   (MOTChallenge tracks, per-frame zone counts, visits) for `hallwatch eval-zones`.
//!
//! Detection and tracking agree on one threshold: the pool keeps boxes down to the tracker's
//! second-stage score ([`tracker_config`]), live and in replays alike.
#![deny(missing_docs)]

mod analysis;
mod files;
mod sink;

pub use analysis::{Analysis, STALE_AFTER};
pub use files::{RecordFiles, RecordSummary, ZoneSummary};
pub use sink::{FrameStep, Sink, Sinks};

use hallwatch_config::Config;
use hallwatch_core::Decimator;
use hallwatch_detect::{
    CameraInput, DetectError, Detected, DetectorPool, LoadedManifest, PoolOptions,
};
use hallwatch_ingest::{Ingest, IngestError};
use hallwatch_track::TrackerConfig;

/// Why the pipeline could not start.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The config enables no camera.
    #[error("the config has no enabled camera")]
    NoCamera,
    /// The cameras could not be started.
    #[error("starting cameras: {0}")]
    Ingest(#[from] IngestError),
    /// The detector could not be started (model, runtime).
    #[error("starting the detector: {0}")]
    Detect(#[from] DetectError),
    /// The wait predictor's settings are invalid.
    #[error("wait predictor: {0}")]
    Predictor(String),
}

/// The tracker settings used with a detector whose own threshold is `threshold`: tracks start
/// and match in the first stage at the detector's confidence, ByteTrack's second stage
/// recovers boxes down to `low_score` (which the detector is asked to keep), and a box
/// scoring 0.15 above the threshold starts a track confirmed at once (at 2 fps, waiting a
/// frame to confirm cost 10 points of visits matched on TUD; crates/zones/ACCURACY.md).
pub fn tracker_config(threshold: f32) -> TrackerConfig {
    TrackerConfig {
        high_score: threshold,
        new_track_score: threshold + 0.05,
        confirm_score: threshold + 0.15,
        low_score: 0.2_f32.min(threshold),
        ..TrackerConfig::default()
    }
}

/// How each camera's adaptive rate follows its analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pacing {
    /// The detector never waits for the analysis: which frames are taken at the raised rate
    /// depends on how far behind the analysis runs (live cameras, which cannot wait).
    Live,
    /// The detector decides on a camera's next frame only once the analysis has handled the
    /// ones before it ([`hallwatch_core::RateSignal::lockstep`]): the same frames on every run
    /// of a file, however loaded the machine.
    Lockstep,
}

/// The running front of the pipeline (cameras and detector) and the analysis to feed with
/// its output. The fields are public so that a caller can move the analysis and the receiver
/// to a thread of its own and keep the cameras and the pool to watch and stop them.
pub struct Pipeline {
    /// The cameras.
    pub ingest: Ingest,
    /// The detector workers.
    pub pool: DetectorPool,
    /// Detected frames, each camera's in capture order.
    pub detected: crossbeam_channel::Receiver<Detected>,
    /// Tracking, zones and hall figures for every camera.
    pub analysis: Analysis,
}

impl Pipeline {
    /// Starts every enabled camera of `cfg` and a detector pool running `model`, paced by
    /// `pacing`.
    pub fn start(
        cfg: &Config,
        model: &LoadedManifest,
        options: &PoolOptions,
        pacing: Pacing,
    ) -> Result<Self, PipelineError> {
        let ingest = Ingest::start(&cfg.cameras)?;
        if ingest.cameras().is_empty() {
            return Err(PipelineError::NoCamera);
        }
        let analysis = Analysis::new(cfg, model.manifest.output.score_threshold, pacing)?;
        let inputs: Vec<CameraInput> = ingest
            .cameras()
            .iter()
            .filter_map(|c| {
                let conf = cfg.cameras.iter().find(|k| k.id == c.id().as_str())?;
                Some(CameraInput {
                    camera: c.id().clone(),
                    frames: c.frames().clone(),
                    config: conf.detect.clone(),
                    min_score: analysis.min_score(c.id().as_str()),
                    rate: Decimator::new(
                        conf.analysis.fps,
                        conf.analysis.active_fps,
                        analysis.signal(c.id().as_str()),
                    ),
                })
            })
            .collect();
        let (tx, detected) = crossbeam_channel::bounded::<Detected>(64);
        let pool = DetectorPool::start(model, inputs, options, tx)?;
        Ok(Self {
            ingest,
            pool,
            detected,
            analysis,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_stage_never_asks_above_the_first() {
        let c = tracker_config(0.4);
        assert_eq!(c.high_score, 0.4);
        assert!((c.new_track_score - 0.45).abs() < 1e-6);
        assert_eq!(c.low_score, 0.2);
        assert!((c.confirm_score - 0.55).abs() < 1e-6);
        assert_eq!(c.validate(), Ok(()));
        // A model whose own threshold is below 0.2 keeps its threshold for both stages.
        assert_eq!(tracker_config(0.15).low_score, 0.15);
    }
}
