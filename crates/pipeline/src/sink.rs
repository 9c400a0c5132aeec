//! What receives the analysis: [`Sink`] and a fan-out to several, [`Sinks`].

use hallwatch_core::{CameraId, TrackState};
use hallwatch_detect::Detected;
use hallwatch_predict::Prediction;
use hallwatch_zones::{HallSnapshot, ZoneCount, ZoneEvent};

/// One analysed frame: what the detector found, the camera's tracks and zone events, and the
/// hall's figures after it.
pub struct FrameStep<'a> {
    /// The frame, its detections and whether the detector ran.
    pub detected: &'a Detected,
    /// The camera's current tracks (tracked and lost).
    pub tracks: &'a [TrackState],
    /// Zone events of this frame (visits opened, closed, discarded; abandonments).
    pub events: &'a [ZoneEvent],
    /// The camera's zone counts after this frame.
    pub counts: &'a [ZoneCount],
    /// The hall's figures after this frame (all cameras).
    pub snapshot: &'a HallSnapshot,
    /// The expected wait for someone arriving now.
    pub prediction: &'a Prediction,
}

/// Receives the analysis. Called on the analysis thread: a sink must not block for long.
pub trait Sink {
    /// An analysed frame.
    fn frame(&mut self, step: &FrameStep<'_>) -> std::io::Result<()>;

    /// Visits closed outside a frame: a camera went down, its analysis restarted after a
    /// panic, or the run ended. `snapshot` is the hall's figures after them.
    fn closed(
        &mut self,
        camera: &CameraId,
        events: &[ZoneEvent],
        snapshot: &HallSnapshot,
    ) -> std::io::Result<()>;

    /// Writes out what is buffered (at the end of a run).
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Several sinks, each called in turn; the first error ends the call.
#[derive(Default)]
pub struct Sinks(pub Vec<Box<dyn Sink + Send>>);

impl Sinks {
    /// Adds a sink.
    pub fn push(&mut self, sink: impl Sink + Send + 'static) {
        self.0.push(Box::new(sink));
    }
}

impl Sink for Sinks {
    fn frame(&mut self, step: &FrameStep<'_>) -> std::io::Result<()> {
        for s in &mut self.0 {
            s.frame(step)?;
        }
        Ok(())
    }

    fn closed(
        &mut self,
        camera: &CameraId,
        events: &[ZoneEvent],
        snapshot: &HallSnapshot,
    ) -> std::io::Result<()> {
        for s in &mut self.0 {
            s.closed(camera, events, snapshot)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        for s in &mut self.0 {
            s.flush()?;
        }
        Ok(())
    }
}
