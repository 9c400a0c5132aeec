//! The camera page's live picture: the latest analysed frame of each camera kept in memory
//! (never on disk), rendered on request with every person unrecognisable — the whole picture is
//! pixelated into coarse blocks, so a person the detector missed is hidden too — and the zones
//! and tracked boxes drawn over it.

use anyhow::Result;
use hallwatch_config::{ZoneConfig, ZoneRole};
use hallwatch_core::{BBox, Frame, TrackState, TrackStatus};
use hallwatch_detect::render::Canvas;
use std::collections::HashMap;
use std::sync::Mutex;

struct Latest {
    frame: Frame,
    tracks: Vec<(BBox, u64)>,
}

/// The latest frame and tracks per camera.
pub struct LatestFrames {
    inner: Mutex<HashMap<String, Latest>>,
    zones: Vec<ZoneConfig>,
}

fn colour(role: ZoneRole) -> [u8; 3] {
    match role {
        ZoneRole::Waiting => [255, 200, 0],
        ZoneRole::Counter => [0, 220, 120],
        ZoneRole::Entrance => [0, 160, 255],
        ZoneRole::Ignore => [160, 160, 160],
    }
}

impl LatestFrames {
    /// For the config's zones.
    pub fn new(zones: &[ZoneConfig]) -> Self {
        Self {
            inner: Mutex::new(HashMap::new()),
            zones: zones.to_vec(),
        }
    }

    /// Keeps `frame` (shared, not copied) and its tracked people as the camera's latest.
    pub fn update(&self, frame: &Frame, tracks: &[TrackState]) {
        let latest = Latest {
            frame: frame.clone(),
            tracks: tracks
                .iter()
                .filter(|t| t.status == TrackStatus::Tracked)
                .map(|t| (t.bbox, t.id.0))
                .collect(),
        };
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(frame.camera.to_string(), latest);
    }

    /// The camera's latest picture as PNG; `None` before its first frame.
    pub fn render_png(&self, camera: &str) -> Result<Option<Vec<u8>>> {
        let (frame, tracks) = {
            let all = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            match all.get(camera) {
                Some(l) => (l.frame.clone(), l.tracks.clone()),
                None => return Ok(None),
            }
        };
        let mut canvas = Canvas::from_frame(&frame);
        let whole = BBox {
            x1: 0.0,
            y1: 0.0,
            x2: frame.width as f32,
            y2: frame.height as f32,
        };
        canvas.pixelate(&[whole])?;
        for z in self.zones.iter().filter(|z| z.camera == camera) {
            let label = if z.name.is_empty() { &z.id } else { &z.name };
            if z.role == ZoneRole::Entrance {
                canvas.polygon(&z.line, colour(z.role), label, false)?;
            } else {
                canvas.polygon(&z.polygon, colour(z.role), label, true)?;
                if !z.staff_polygon.is_empty() {
                    canvas.polygon(&z.staff_polygon, [200, 80, 200], "", true)?;
                }
            }
        }
        let boxes: Vec<(BBox, String)> = tracks
            .iter()
            .map(|(b, id)| (*b, format!("#{id}")))
            .collect();
        canvas.boxes(&boxes, [255, 60, 60])?;
        Ok(Some(canvas.png()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallwatch_core::{CameraId, FrameTime, TrackId};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn every_pixel_is_blocky_and_unknown_cameras_have_none() {
        let (w, h) = (96u32, 64u32);
        // A fine checkerboard: any block that survived unpixelated keeps its 1-px pattern.
        let data: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let v = if (i % w + i / w) % 2 == 0 { 255 } else { 0 };
                [v, v, v]
            })
            .collect();
        let frame = Frame {
            camera: CameraId::new("c1"),
            seq: 0,
            source_index: 1,
            time: FrameTime::media(Duration::ZERO),
            width: w,
            height: h,
            data: Arc::from(data),
        };
        let latest = LatestFrames::new(&[]);
        assert!(latest.render_png("c1").expect("render").is_none());
        latest.update(
            &frame,
            &[TrackState {
                id: TrackId(7),
                bbox: BBox {
                    x1: 10.0,
                    y1: 10.0,
                    x2: 30.0,
                    y2: 50.0,
                },
                score: 0.9,
                status: TrackStatus::Tracked,
                first_seen: 0.0,
                last_seen: 0.0,
            }],
        );
        let png = latest.render_png("c1").expect("render").expect("picture");
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().expect("png");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        reader.next_frame(&mut buf).expect("frame");
        // Far from the drawn box, neighbouring pixels inside a block are equal: no 1-px
        // checkerboard is left.
        let px = |x: u32, y: u32| buf[((y * w + x) * 3) as usize];
        let same = (60..90).filter(|&x| px(x, 40) == px(x + 1, 40)).count();
        assert!(
            same >= 20,
            "only {same} of 30 neighbours equal: not pixelated"
        );
    }
}
