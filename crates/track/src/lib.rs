//! hallwatch-track: follows the people on one camera from frame to frame.
//!
//! Detection gives boxes per frame; this crate links them into tracks with stable
//! [`TrackId`](hallwatch_core::TrackId)s so that the zones and analytics stages can measure
//! how long each person waits, queues and is served. It implements ByteTrack (Zhang et al.,
//! 2022): a Kalman filter predicts each track's box, high-score detections are matched to
//! tracks by IoU with an optimal (Hungarian) assignment, then low-score detections rescue
//! tracks that are still being followed (partly hidden people give weak detections), and
//! only confident, twice-seen detections start new tracks.
//!
//! Hall cameras are analysed at 2-5 frames per second, and not at a steady rate: motion gating
//! skips still frames and live streams drop frames. So everything here runs on the stream's
//! own time in seconds, not on frame counts: the Kalman filter predicts over the real elapsed
//! time (velocities per *nominal* step, transition and process noise scaled by
//! `dt / nominal`), and a lost track is kept for [`TrackerConfig::lost_buffer_s`] seconds.
//! At 2 fps a walking person moves about a body width between frames, so consecutive boxes
//! need not overlap: boxes are compared with a *motion margin* that widens them by how far
//! the track may have moved since its last match ([`TrackerConfig::motion_margin`]; zero for
//! people standing still, so a dense queue is matched as with plain IoU).
//!
//! Main types:
//! - [`TrackerConfig`]: thresholds and buffers, with ByteTrack's defaults; `validate` checks
//!   them.
//! - [`Tracker`]: one per camera, a plain synchronous value; `update(detections, t)` per frame,
//!   `tracks()` for the current confirmed tracks, `reset()`.
//! - [`TrackUpdate`]: what one frame changed: tracks newly confirmed, updated, lost and
//!   removed, as core [`TrackState`](hallwatch_core::TrackState)s.
//!
//! See [`Tracker`] for the algorithm step by step and its limits.
#![deny(missing_docs)]

mod assignment;
mod config;
mod kalman;
mod tracker;

pub use config::TrackerConfig;
pub use tracker::{TrackUpdate, Tracker};
