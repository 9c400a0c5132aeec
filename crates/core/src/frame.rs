use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Identifier of a camera as written in the config (`cameras[].id`). Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CameraId(Arc<str>);

impl CameraId {
    /// Wraps a camera id.
    pub fn new(id: impl AsRef<str>) -> Self {
        Self(Arc::from(id.as_ref()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CameraId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for CameraId {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

/// When a frame was captured, on the stream's own clock.
///
/// `media` is always set: the frame's presentation time in stream time, i.e. its position from
/// the start of the file or stream. `wall` is set for live sources only: the presentation time
/// mapped through the pipeline's real-time clock to a wall-clock instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameTime {
    /// Presentation time from the start of the stream.
    pub media: Duration,
    /// Wall-clock capture time, for live sources.
    pub wall: Option<SystemTime>,
}

impl FrameTime {
    /// Media time only (files).
    pub fn media(media: Duration) -> Self {
        Self { media, wall: None }
    }

    /// The time in seconds that downstream stages use for dwell and rate arithmetic: Unix
    /// seconds for live sources, media seconds for files. Monotonic within one stream run.
    pub fn seconds(&self) -> f64 {
        match self.wall {
            Some(w) => w
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            None => self.media.as_secs_f64(),
        }
    }
}

/// One analysed video frame: packed RGB, 3 bytes a pixel, rows without padding.
#[derive(Clone)]
pub struct Frame {
    /// The camera that produced it.
    pub camera: CameraId,
    /// Sequence number among the frames this camera handed over (0-based, continues across
    /// reconnects so that a gap shows up as a jump in `source_index` and time, not in `seq`).
    pub seq: u64,
    /// 0-based index of the decoded source frame within the current stream run (the MOT
    /// "frame" column is `source_index + 1`).
    pub source_index: u64,
    /// The stream's time for this frame.
    pub time: FrameTime,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel data, `width * height * 3` bytes, RGB order.
    pub data: Arc<[u8]>,
}

impl Frame {
    /// The RGB value at (x, y), or None outside the frame.
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        self.data.get(i..i + 3).map(|p| [p[0], p[1], p[2]])
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("camera", &self.camera)
            .field("seq", &self.seq)
            .field("source_index", &self.source_index)
            .field("time", &self.time)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_prefers_wall_clock_for_live_frames() {
        let file = FrameTime::media(Duration::from_millis(2500));
        assert_eq!(file.seconds(), 2.5);
        let live = FrameTime {
            media: Duration::from_secs(3),
            wall: Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
        };
        assert_eq!(live.seconds(), 1_700_000_000.0);
    }

    #[test]
    fn pixel_reads_rgb_and_rejects_outside() {
        let f = Frame {
            camera: "c".into(),
            seq: 0,
            source_index: 0,
            time: FrameTime::media(Duration::ZERO),
            width: 2,
            height: 1,
            data: Arc::from(vec![1u8, 2, 3, 4, 5, 6]),
        };
        assert_eq!(f.pixel(1, 0), Some([4, 5, 6]));
        assert_eq!(f.pixel(2, 0), None);
    }
}
