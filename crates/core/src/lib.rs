//! hallwatch-core: the plain types that flow through hallwatch, and nothing that does I/O.
//!
//! Data moves one way through the system: ingest -> detect -> track -> analytics -> serve/alerts.
//! This crate holds the vocabulary every stage shares:
//!
//! - [`CameraId`], [`Frame`] and [`FrameTime`]: an analysed video frame with the time the stream
//!   itself gave it (media time for files, wall clock for live sources), never the processing clock.
//! - [`CameraHealth`], [`CameraState`] and [`Downtime`]: what an operator reads about each camera.
//! - [`BBox`] and [`Detection`]: boxes in pixels and what a detector reports.
//! - [`TrackId`], [`TrackState`]: what a tracker reports about each followed person.
//! - [`live`]: [`HallState`], the hall now, as the web layer and the alert engine read it.
//! - [`RateSignal`] and [`Decimator`]: the adaptive analysis rate (more frames while people
//!   move in or near a zone, fewer while the hall is still).
//! - [`redact`]: strips credentials from URLs and messages before they reach logs or errors.
#![deny(missing_docs)]

mod frame;
mod geometry;
mod health;
pub mod live;
mod rate;
pub mod redact;
mod track;

pub use frame::{CameraId, Frame, FrameTime};
pub use geometry::{BBox, Detection};
pub use health::{AnalysisCost, CameraHealth, CameraState, Downtime, RECENT_DOWNTIME};
pub use live::{
    CounterActivity, CounterState, HallState, PipelineHealth, StorageHealth, TodayFigures,
    UplinkHealth, WaitPrediction, ZoneState,
};
pub use rate::{Decimator, RateSignal};
pub use track::{TrackId, TrackState, TrackStatus};

/// What a caught panic said (its `&str` or `String` payload), for the log.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}
