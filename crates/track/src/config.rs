//! Tracker settings.

use serde::{Deserialize, Serialize};

/// Settings of one [`Tracker`](crate::Tracker).
///
/// The thresholds default to ByteTrack's published defaults (`track_thresh` 0.5,
/// `match_thresh` 0.8, `mot20 = false`), restated as similarities; the lost buffer is in
/// seconds of stream time instead of frames; `motion_margin` and `nominal_frame_interval_s`
/// adapt the matching and the Kalman filter to people analysed at 2-10 frames per second. Every field may be left out of a
/// config file; unknown fields are an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerConfig {
    /// Detections with `score >= high_score` take part in the first association stage (against
    /// every confirmed track, tracked or lost) and in the third (against tentative tracks).
    /// ByteTrack's `track_thresh`. Default 0.5.
    pub high_score: f32,
    /// Detections with `low_score <= score < high_score` take part only in the second stage:
    /// they can keep a currently tracked person alive through partial occlusion or motion
    /// blur (ByteTrack's low-score recovery) but never start a track nor revive a lost one.
    /// Detections below `low_score` are ignored. Default 0.1.
    pub low_score: f32,
    /// An unmatched high detection starts a (tentative) track only when `score >=
    /// new_track_score`. ByteTrack's `det_thresh = track_thresh + 0.1`. Must be at least
    /// `high_score`. Default 0.6.
    pub new_track_score: f32,
    /// Stage 1 (confirmed tracks vs high detections): the least similarity for a match, i.e.
    /// the assignment's cost limit is `1 - match_iou`. Similarity is the IoU of the track's
    /// predicted box with the detection, times the detection's score when `fuse_score` is set.
    /// ByteTrack's `match_thresh` 0.8 is a cost, so the default is 0.2.
    pub match_iou: f32,
    /// Multiply the IoU by the detection score in stages 1 and 3 (ByteTrack with
    /// `mot20 = false`): a confident detection wins a contested track. Default true.
    pub fuse_score: bool,
    /// Motion margin, an extension of ByteTrack for 2-5 fps (after C-BIoU's "buffered IoU",
    /// Yang et al., WACV 2023). Before the IoU of a track's predicted box with a detection is
    /// computed, both boxes are widened on each side by `motion_margin` times a bound on how
    /// far the track's centre can have moved since its last match: `(|v| + std(v)) * elapsed`,
    /// from the Kalman filter's velocity estimate and its uncertainty, horizontally and
    /// vertically apart, capped at two box widths (heights). A person standing still gets
    /// almost no margin, so dense queues match as with plain IoU and neighbours are not
    /// confused; a walker, a track just born (velocity unknown) or one lost for a while gets a
    /// search area that grows with its motion. Without it, a walker at 2 fps moves about a
    /// body width per frame, consecutive boxes do not overlap at all, and plain IoU gives a
    /// new id every frame or two. 0 gives ByteTrack's plain IoU. Default 1.0.
    pub motion_margin: f32,
    /// Stage 2 (still-tracked tracks left over from stage 1 vs low detections): the least IoU
    /// for a match (plain IoU, no score fusion). ByteTrack uses 0.5. Default 0.5.
    pub second_match_iou: f32,
    /// Stage 3 (tentative tracks vs high detections left over from stage 1): the least
    /// similarity for a match (fused with the score like stage 1). ByteTrack's cost limit 0.7,
    /// so the default is 0.3.
    pub unconfirmed_match_iou: f32,
    /// Seconds of stream time a lost track is kept (its position predicted) after its last
    /// match. A track unmatched in a frame whose time is more than `lost_buffer_s` after its
    /// `last_seen` is removed in that frame. Default 3.0: a person hidden behind another, a
    /// pillar or a counter for a few seconds keeps the id, while someone who left and came
    /// back half a minute later does not. ByteTrack's 30 frames at 30 fps is 1 s; people in a
    /// hall walk slowly and are occluded for longer.
    pub lost_buffer_s: f64,
    /// A new track is confirmed (reported in [`TrackUpdate::new`](crate::TrackUpdate::new)
    /// and given out by [`Tracker::tracks`](crate::Tracker::tracks)) once it has been matched
    /// in `confirm_frames` consecutive frames, its birth frame included; a tentative track
    /// that misses one frame is dropped. Exception: a track born while the tracker has seen
    /// fewer than `confirm_frames` frames since its start or last reset (the first frame of a
    /// stream, by default) is confirmed at birth, so that people already in view when a
    /// camera starts are reported at once. Default 2, ByteTrack's behaviour: one frame of
    /// confirmation filters single-frame false positives at the cost of reporting a person
    /// one frame (0.2 s at 5 fps) late. Must be at least 1; 1 confirms every track at birth.
    pub confirm_frames: u32,
    /// A detection scoring above this starts a track confirmed at once, without waiting for
    /// `confirm_frames` (it is clearly a person; the wait is for doubtful boxes). At a low
    /// analysis rate a frame of confirmation costs up to half a second of every visit: with
    /// the pipeline's 0.6 on TUD at 2 fps, visits matched went from 50 % to 60 % and count
    /// MAE from 0.594 to 0.478, the simulator unchanged. Must be at least `new_track_score`.
    /// Default 1, never (scores are at most 1): ByteTrack's behaviour.
    pub confirm_score: f32,
    /// The time step, in seconds, that the Kalman filter's per-step noise constants (SORT /
    /// DeepSORT / ByteTrack's `1/20` and `1/160` of the box height) are applied to. Predicting
    /// over `dt` seconds applies the motion and process noise of `dt /
    /// nominal_frame_interval_s` nominal steps (see the crate docs). It sets how quickly the
    /// filter believes a person can change speed: those trackers run the constants once per
    /// video frame at 25-30 fps; once per analysed frame at 2-5 fps would make the filter so
    /// sluggish that it overshoots every turn. Default 0.1: at 5 fps a frame is two nominal
    /// steps, at 2 fps five; this rate (between 0.2 and 1/30) gave the fewest id changes over
    /// the crate's synthetic hall scenarios (walkers at 2 and 5 fps, a dense queue, crossings).
    pub nominal_frame_interval_s: f64,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            high_score: 0.5,
            low_score: 0.1,
            new_track_score: 0.6,
            match_iou: 0.2,
            fuse_score: true,
            motion_margin: 1.0,
            second_match_iou: 0.5,
            unconfirmed_match_iou: 0.3,
            lost_buffer_s: 3.0,
            confirm_frames: 2,
            confirm_score: 1.0,
            nominal_frame_interval_s: 0.1,
        }
    }
}

impl TrackerConfig {
    /// Checks that the settings make sense together; the error names the first bad field.
    pub fn validate(&self) -> Result<(), String> {
        let unit = |name: &str, v: f32| {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("tracker.{name} must be in [0, 1], got {v}"))
            }
        };
        let open_unit = |name: &str, v: f32| {
            if v.is_finite() && v > 0.0 && v <= 1.0 {
                Ok(())
            } else {
                Err(format!("tracker.{name} must be in (0, 1], got {v}"))
            }
        };
        unit("high_score", self.high_score)?;
        unit("low_score", self.low_score)?;
        unit("new_track_score", self.new_track_score)?;
        if self.low_score > self.high_score {
            return Err(format!(
                "tracker.low_score ({}) must not exceed tracker.high_score ({})",
                self.low_score, self.high_score
            ));
        }
        if self.new_track_score < self.high_score {
            return Err(format!(
                "tracker.new_track_score ({}) must be at least tracker.high_score ({}): only high \
                 detections can start tracks",
                self.new_track_score, self.high_score
            ));
        }
        if !(self.motion_margin.is_finite() && self.motion_margin >= 0.0) {
            return Err(format!(
                "tracker.motion_margin must be finite and >= 0, got {}",
                self.motion_margin
            ));
        }
        open_unit("match_iou", self.match_iou)?;
        open_unit("second_match_iou", self.second_match_iou)?;
        open_unit("unconfirmed_match_iou", self.unconfirmed_match_iou)?;
        if !(self.lost_buffer_s.is_finite() && self.lost_buffer_s >= 0.0) {
            return Err(format!(
                "tracker.lost_buffer_s must be a finite number of seconds >= 0, got {}",
                self.lost_buffer_s
            ));
        }
        if self.confirm_frames < 1 {
            return Err("tracker.confirm_frames must be at least 1".to_string());
        }
        if !(self.confirm_score.is_finite() && self.confirm_score >= self.new_track_score) {
            return Err(format!(
                "tracker.confirm_score must be at least new_track_score ({}), got {}",
                self.new_track_score, self.confirm_score
            ));
        }
        if !(self.nominal_frame_interval_s.is_finite() && self.nominal_frame_interval_s > 0.0) {
            return Err(format!(
                "tracker.nominal_frame_interval_s must be a finite number of seconds > 0, got {}",
                self.nominal_frame_interval_s
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let c = TrackerConfig::default();
        assert_eq!(c.validate(), Ok(()));
        let json = serde_json::to_string(&c).unwrap();
        let back: TrackerConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn partial_config_takes_defaults_and_unknown_fields_fail() {
        let c: TrackerConfig = serde_json::from_str(r#"{"lost_buffer_s": 5.0}"#).unwrap();
        assert_eq!(c.lost_buffer_s, 5.0);
        assert_eq!(c.high_score, 0.5);
        assert!(serde_json::from_str::<TrackerConfig>(r#"{"lost_buffer": 5.0}"#).is_err());
    }

    #[test]
    fn bad_values_are_rejected() {
        let bad = [
            TrackerConfig {
                low_score: 0.7,
                ..Default::default()
            },
            TrackerConfig {
                new_track_score: 0.4,
                ..Default::default()
            },
            TrackerConfig {
                match_iou: 0.0,
                ..Default::default()
            },
            TrackerConfig {
                second_match_iou: 1.5,
                ..Default::default()
            },
            TrackerConfig {
                high_score: f32::NAN,
                ..Default::default()
            },
            TrackerConfig {
                lost_buffer_s: -1.0,
                ..Default::default()
            },
            TrackerConfig {
                lost_buffer_s: f64::INFINITY,
                ..Default::default()
            },
            TrackerConfig {
                confirm_frames: 0,
                ..Default::default()
            },
            TrackerConfig {
                nominal_frame_interval_s: 0.0,
                ..Default::default()
            },
        ];
        for c in bad {
            assert!(c.validate().is_err(), "{c:?} should be rejected");
        }
    }
}
