use crate::BBox;
use serde::{Deserialize, Serialize};

/// A tracker's id for one followed person on one camera. Ids are never reused within a
/// tracker's life; they mean nothing across cameras or days (privacy by design).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackId(pub u64);

impl std::fmt::Display for TrackId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a track is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackStatus {
    /// Seen in the current frame.
    Tracked,
    /// Not seen in the current frame; kept (position predicted) for the lost buffer.
    Lost,
}

/// A track as the tracker reports it after an update.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackState {
    /// The track.
    pub id: TrackId,
    /// Current box (the matched detection's box when tracked, the prediction when lost), in
    /// frame pixels.
    pub bbox: BBox,
    /// Score of the last matched detection.
    pub score: f32,
    /// Tracked or lost.
    pub status: TrackStatus,
    /// Stream time (seconds) the track was first confirmed.
    pub first_seen: f64,
    /// Stream time (seconds) it was last matched to a detection.
    pub last_seen: f64,
}
