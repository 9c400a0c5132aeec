//! hallwatch-ingest: one supervised GStreamer pipeline per camera, handing analysis frames over
//! a bounded channel.
//!
//! Each camera runs on its own thread ([`CameraHandle::spawn`]): it builds a pipeline from the
//! template in `pipelines/` for its source kind (RTSP, file, test source), pulls RGB frames from
//! an appsink with fixed caps, stamps each with the stream's own time and pushes it into a
//! bounded channel. Nothing but counting and the hand-off happens on GStreamer's streaming
//! threads; analysis runs on the consumers' threads.
//!
//! - Analysis rate: a pad probe after the decoder drops the frames the configured rate does not
//!   need, before scaling and colour conversion; optionally only keyframes are decoded.
//! - Back-pressure: live sources drop the oldest queued frame when analysis lags (counted in
//!   [`hallwatch_core::CameraHealth::frames_dropped`]); files block the decoder instead, so a
//!   replay sees every analysed frame.
//! - Supervision: a camera that fails (unreachable, live end of stream, decode error, no frame
//!   for N seconds) is restarted with capped exponential backoff while the others carry on; its
//!   [`hallwatch_core::CameraHealth`] (state, fps, drops, reconnects, last error, downtime) is
//!   readable at any time and state changes are logged with `tracing`.
//!
//! Main types: [`CameraHandle`], [`Ingest`] (all cameras of a config), [`IngestError`].
#![deny(missing_docs)]

mod camera;
mod error;
mod pipeline;

pub use camera::{CameraHandle, HealthWatch, Ingest, backoff_delay};
pub use error::IngestError;
pub use pipeline::{PIPELINE_TEMPLATES, launch_description};

/// Initialises GStreamer once; safe to call from any thread, any number of times.
pub fn init() -> Result<(), IngestError> {
    gstreamer::init().map_err(|e| IngestError::Start {
        message: format!("GStreamer could not be initialised: {e}"),
    })
}
