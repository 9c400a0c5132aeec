//! Fitting a frame (or a region of it) to the model input, and mapping boxes back.

use crate::DetectError;
use crate::manifest::{ColourOrder, DType, InputSpec, Interpolation, Layout, ResizeMode};
use hallwatch_core::{BBox, Frame};
use opencv::core::{CV_32FC3, Mat, Rect, Size, Vec3b, Vec3f};
use opencv::imgproc;
use opencv::prelude::*;

/// A rectangle of the frame in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// Left.
    pub x: u32,
    /// Top.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl Region {
    /// The whole frame.
    pub fn full(frame: &Frame) -> Self {
        Self {
            x: 0,
            y: 0,
            w: frame.width,
            h: frame.height,
        }
    }

    /// A normalised `[x1, y1, x2, y2]` rectangle on a `w x h` frame, rounded to whole pixels
    /// and kept inside it (at least one pixel).
    pub fn from_normalised(r: [f64; 4], w: u32, h: u32) -> Self {
        let px = |v: f64, max: u32| ((v.clamp(0.0, 1.0) * max as f64).round() as u32).min(max);
        let (x1, y1) = (px(r[0], w), px(r[1], h));
        let (x2, y2) = (
            px(r[2], w).max(x1 + 1).min(w),
            px(r[3], h).max(y1 + 1).min(h),
        );
        Self {
            x: x1.min(w.saturating_sub(1)),
            y: y1.min(h.saturating_sub(1)),
            w: x2.saturating_sub(x1).max(1),
            h: y2.saturating_sub(y1).max(1),
        }
    }
}

/// Least model pixels per frame pixel that [`auto_tiles`] keeps: a frame shrunk more than this
/// to fit the model input is cut into overlapping tiles instead.
pub const TILE_MIN_SCALE: f64 = 0.8;

/// Share of a tile that overlaps its neighbour, so that a person cut by one seam is whole in
/// the next tile.
const TILE_OVERLAP: f64 = 0.25;

/// Overlapping tiles that cover a `w x h` frame with each tile shrunk at most to
/// [`TILE_MIN_SCALE`] when resized to the `in_w x in_h` model input (letterboxed); empty when the
/// whole frame already fits at that scale (e.g. 640x480 into 512x512: 0.8). A 1920x1080 frame
/// and a 512x512 model give 4 x 2 tiles of 640x640: eight inferences a frame instead of one.
pub fn auto_tiles(w: u32, h: u32, in_w: u32, in_h: u32) -> Vec<Region> {
    let (fw, fh) = (f64::from(w.max(1)), f64::from(h.max(1)));
    let scale = (f64::from(in_w) / fw).min(f64::from(in_h) / fh);
    if scale >= TILE_MIN_SCALE - 1e-9 || in_w == 0 || in_h == 0 {
        return Vec::new();
    }
    let tw = (f64::from(in_w) / TILE_MIN_SCALE).min(fw);
    let th = (f64::from(in_h) / TILE_MIN_SCALE).min(fh);
    let count = |full: f64, tile: f64| {
        if tile >= full {
            1
        } else {
            (((full - tile) / (tile * (1.0 - TILE_OVERLAP))).ceil() as u32 + 1).max(1)
        }
    };
    let (cols, rows) = (count(fw, tw), count(fh, th));
    let step = |full: f64, tile: f64, n: u32| {
        if n > 1 {
            (full - tile) / f64::from(n - 1)
        } else {
            0.0
        }
    };
    let (sx, sy) = (step(fw, tw, cols), step(fh, th, rows));
    let mut out = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let x = (f64::from(c) * sx).round() as u32;
            let y = (f64::from(r) * sy).round() as u32;
            out.push(Region {
                x,
                y,
                w: (tw.round() as u32).min(w - x.min(w)).max(1),
                h: (th.round() as u32).min(h - y.min(h)).max(1),
            });
        }
    }
    out
}

/// How model-input pixels map back to frame pixels for one inference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mapping {
    /// Model pixels per frame pixel, horizontally.
    pub sx: f32,
    /// Model pixels per frame pixel, vertically.
    pub sy: f32,
    /// Letterbox offset in model pixels.
    pub pad_x: f32,
    /// Letterbox offset in model pixels.
    pub pad_y: f32,
    /// The region in the frame.
    pub region: Region,
}

impl Mapping {
    /// A box in model-input pixels, in frame pixels, clipped to the region.
    pub fn to_frame(&self, b: &BBox) -> BBox {
        let r = self.region;
        let (x0, y0) = (r.x as f32, r.y as f32);
        let (x1, y1) = ((r.x + r.w) as f32, (r.y + r.h) as f32);
        let x = |v: f32| ((v - self.pad_x) / self.sx + x0).clamp(x0, x1);
        let y = |v: f32| ((v - self.pad_y) / self.sy + y0).clamp(y0, y1);
        BBox::new(x(b.x1), y(b.y1), x(b.x2), y(b.y2))
    }
}

/// The model input for one region, ready for the session.
pub struct Prepared {
    /// f32 input (when the model takes f32).
    pub f32: Vec<f32>,
    /// u8 input (when the model takes u8).
    pub u8: Vec<u8>,
    /// Tensor shape.
    pub shape: [usize; 4],
    /// Mapping back to the frame.
    pub mapping: Mapping,
}

/// Reusable buffers for preparing inputs.
pub struct Preprocessor {
    spec: InputSpec,
    resized: Vec<u8>,
    /// Per-channel `a * p + b` taking a 0..255 pixel to the model's value, in model channel order.
    affine: [(f32, f32); 3],
}

impl Preprocessor {
    /// For a model input.
    pub fn new(spec: &InputSpec) -> Self {
        let (lo, hi) = (spec.range[0], spec.range[1]);
        let scale = (hi - lo) / 255.0;
        let affine =
            std::array::from_fn(|c| (scale / spec.std[c], (lo - spec.mean[c]) / spec.std[c]));
        Self {
            spec: spec.clone(),
            resized: Vec::new(),
            affine,
        }
    }

    /// Resizes `region` of `frame` to the model input and lays it out as the model wants.
    pub fn prepare(&mut self, frame: &Frame, region: Region) -> Result<Prepared, DetectError> {
        let (iw, ih) = (self.spec.width as i32, self.spec.height as i32);
        let expected = frame.width as usize * frame.height as usize * 3;
        if frame.data.len() != expected || frame.width == 0 || frame.height == 0 {
            return Err(DetectError::Image(format!(
                "frame {}x{} has {} bytes, expected {expected}",
                frame.width,
                frame.height,
                frame.data.len()
            )));
        }
        let src = Mat::new_rows_cols_with_bytes::<Vec3b>(
            frame.height as i32,
            frame.width as i32,
            &frame.data,
        )?;
        let rect = Rect::new(
            region.x as i32,
            region.y as i32,
            region.w as i32,
            region.h as i32,
        );
        let roi = Mat::roi(&src, rect)?;
        let (nw, nh, pad_x, pad_y) = match self.spec.resize {
            ResizeMode::Stretch => (iw, ih, 0, 0),
            ResizeMode::Letterbox => {
                let s = (iw as f32 / region.w as f32).min(ih as f32 / region.h as f32);
                let nw = ((region.w as f32 * s).round() as i32).clamp(1, iw);
                let nh = ((region.h as f32 * s).round() as i32).clamp(1, ih);
                (nw, nh, (iw - nw) / 2, (ih - nh) / 2)
            }
        };
        self.resized.clear();
        self.resized
            .resize(iw as usize * ih as usize * 3, self.spec.pad_value);
        {
            let mut dst = Mat::new_rows_cols_with_bytes_mut::<Vec3b>(ih, iw, &mut self.resized)?;
            let mut target = Mat::roi_mut(&mut dst, Rect::new(pad_x, pad_y, nw, nh))?;
            // Area averaging when shrinking if the manifest asks for it (distant people keep
            // their pixels' worth of evidence), linear otherwise and when enlarging.
            let shrinking = nw < region.w as i32 || nh < region.h as i32;
            let interp = if shrinking && self.spec.interpolation == Interpolation::Area {
                imgproc::INTER_AREA
            } else {
                imgproc::INTER_LINEAR
            };
            // Straight into the (letterboxed) input picture: no intermediate copy.
            imgproc::resize(&roi, &mut target, Size::new(nw, nh), 0.0, 0.0, interp)?;
        }
        let mapping = Mapping {
            sx: nw as f32 / region.w as f32,
            sy: nh as f32 / region.h as f32,
            pad_x: pad_x as f32,
            pad_y: pad_y as f32,
            region,
        };
        let (w, h) = (iw as usize, ih as usize);
        let shape = match self.spec.layout {
            Layout::Nhwc => [1, h, w, 3],
            Layout::Nchw => [1, 3, h, w],
        };
        // Model channel c reads frame channel order[c].
        let order = match self.spec.colour {
            ColourOrder::Rgb => [0usize, 1, 2],
            ColourOrder::Bgr => [2, 1, 0],
        };
        let px = &self.resized;
        let mut prepared = Prepared {
            f32: Vec::new(),
            u8: Vec::new(),
            shape,
            mapping,
        };
        let uniform = self.affine.iter().all(|a| *a == self.affine[0]);
        match (self.spec.dtype, self.spec.layout) {
            (DType::F32, Layout::Nhwc) if uniform && self.spec.colour == ColourOrder::Rgb => {
                // One vectorised pass: value = pixel * a + b into the tensor buffer.
                let mut out = vec![0f32; w * h * 3];
                {
                    let src = Mat::new_rows_cols_with_bytes::<Vec3b>(ih, iw, px)?;
                    let bytes: &mut [u8] = bytemuck_f32(&mut out);
                    let mut dst = Mat::new_rows_cols_with_bytes_mut::<Vec3f>(ih, iw, bytes)?;
                    let (a, b) = self.affine[0];
                    src.convert_to(&mut dst, CV_32FC3, a as f64, b as f64)?;
                }
                prepared.f32 = out;
            }
            (DType::F32, Layout::Nhwc) => {
                let a = self.affine;
                prepared.f32 = px
                    .chunks_exact(3)
                    .flat_map(|p| {
                        [
                            p[order[0]] as f32 * a[0].0 + a[0].1,
                            p[order[1]] as f32 * a[1].0 + a[1].1,
                            p[order[2]] as f32 * a[2].0 + a[2].1,
                        ]
                    })
                    .collect();
            }
            (DType::F32, Layout::Nchw) => {
                let mut out = vec![0f32; w * h * 3];
                for c in 0..3 {
                    let (m, b) = self.affine[c];
                    let plane = &mut out[c * w * h..(c + 1) * w * h];
                    for (o, p) in plane.iter_mut().zip(px.chunks_exact(3)) {
                        *o = p[order[c]] as f32 * m + b;
                    }
                }
                prepared.f32 = out;
            }
            (DType::U8, Layout::Nhwc) => {
                prepared.u8 = px
                    .chunks_exact(3)
                    .flat_map(|p| [p[order[0]], p[order[1]], p[order[2]]])
                    .collect();
            }
            (DType::U8, Layout::Nchw) => {
                let mut out = vec![0u8; w * h * 3];
                for c in 0..3 {
                    let plane = &mut out[c * w * h..(c + 1) * w * h];
                    for (o, p) in plane.iter_mut().zip(px.chunks_exact(3)) {
                        *o = p[order[c]];
                    }
                }
                prepared.u8 = out;
            }
        }
        Ok(prepared)
    }
}

/// The bytes of an f32 slice, for handing it to OpenCV as a Mat's storage.
fn bytemuck_f32(v: &mut [f32]) -> &mut [u8] {
    let len = std::mem::size_of_val(v);
    // SAFETY: f32 has no padding and every byte pattern is a valid u8; the returned slice
    // covers exactly the same memory and borrows `v` mutably for its lifetime.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), len) }
}

#[cfg(test)]
mod tests {

    #[test]
    fn auto_tiles_keep_the_model_scale() {
        // Fits at 0.8: no tiles.
        assert!(auto_tiles(640, 480, 512, 512).is_empty());
        // 1920x1080 into 512x512: 640x640 tiles, 4 across and 2 down, overlapping, covering
        // the frame edge to edge.
        let t = auto_tiles(1920, 1080, 512, 512);
        assert_eq!(t.len(), 8, "{t:?}");
        assert!(t.iter().all(|r| r.w == 640 && r.h == 640));
        assert_eq!((t[0].x, t[0].y), (0, 0));
        assert_eq!(t[3].x + t[3].w, 1920);
        assert_eq!(t[7].y + t[7].h, 1080);
        for pair in t[..4].windows(2) {
            let overlap = pair[0].x + pair[0].w - pair[1].x;
            assert!(overlap >= 160, "{pair:?}");
        }
        // 1280x720: 3 x 2.
        assert_eq!(auto_tiles(1280, 720, 512, 512).len(), 6);
    }

    use super::*;
    use crate::manifest::Manifest;
    use hallwatch_core::FrameTime;
    use std::sync::Arc;
    use std::time::Duration;

    fn spec(extra: &str) -> InputSpec {
        let text = format!(
            "name = \"t\"\nfile = \"m\"\nsha256 = \"{}\"\n[input]\nname = \"in\"\nwidth = 4\nheight = 2\n{extra}\n[output]\nfamily = \"centernet\"\ndetections = \"d\"\n",
            "0".repeat(64)
        );
        Manifest::from_toml_str(&text, "t").expect("manifest").input
    }

    fn frame() -> Frame {
        // 8x4 frame: left half red (200, 10, 0), right half blue (0, 10, 100).
        let mut data = Vec::new();
        for _y in 0..4 {
            for x in 0..8 {
                data.extend_from_slice(if x < 4 { &[200, 10, 0] } else { &[0, 10, 100] });
            }
        }
        Frame {
            camera: "c".into(),
            seq: 0,
            source_index: 0,
            time: FrameTime::media(Duration::ZERO),
            width: 8,
            height: 4,
            data: Arc::from(data),
        }
    }

    #[test]
    fn nhwc_rgb_raw_range() {
        let mut p = Preprocessor::new(&spec("layout = \"nhwc\"\nrange = [0.0, 255.0]"));
        let out = p
            .prepare(&frame(), Region::full(&frame()))
            .expect("prepare");
        assert_eq!(out.shape, [1, 2, 4, 3]);
        assert_eq!(&out.f32[..3], &[200.0, 10.0, 0.0]);
        assert_eq!(&out.f32[out.f32.len() - 3..], &[0.0, 10.0, 100.0]);
        let b = out.mapping.to_frame(&BBox::new(0.0, 0.0, 2.0, 1.0));
        assert_eq!(b, BBox::new(0.0, 0.0, 4.0, 2.0));
    }

    #[test]
    fn nchw_bgr_with_mean_and_std() {
        let mut p = Preprocessor::new(&spec(
            "layout = \"nchw\"\ncolour = \"bgr\"\nmean = [0.5, 0.0, 0.0]\nstd = [0.5, 1.0, 1.0]",
        ));
        let out = p
            .prepare(&frame(), Region::full(&frame()))
            .expect("prepare");
        assert_eq!(out.shape, [1, 3, 2, 4]);
        // Channel 0 is blue: (0/255 - 0.5) / 0.5 = -1 on the left, (100/255 - 0.5)/0.5 on the right.
        assert!((out.f32[0] + 1.0).abs() < 1e-6);
        assert!((out.f32[3] - (100.0 / 255.0 - 0.5) / 0.5).abs() < 1e-6);
        // Channel 2 is red: 200/255 on the left.
        assert!((out.f32[16] - 200.0 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn letterbox_pads_and_maps_back() {
        let mut p = Preprocessor::new(&spec(
            "layout = \"nhwc\"\ndtype = \"u8\"\nresize = \"letterbox\"\npad_value = 7",
        ));
        // A 2x2 region of the frame into a 4x2 input: scaled by 1, centred with 1 column of
        // padding each side.
        let region = Region {
            x: 3,
            y: 1,
            w: 2,
            h: 2,
        };
        let out = p.prepare(&frame(), region).expect("prepare");
        assert_eq!(&out.u8[..3], &[7, 7, 7]);
        assert_eq!(&out.u8[3..6], &[200, 10, 0]);
        assert_eq!(&out.u8[6..9], &[0, 10, 100]);
        let b = out.mapping.to_frame(&BBox::new(1.0, 0.0, 3.0, 2.0));
        assert_eq!(b, BBox::new(3.0, 1.0, 5.0, 3.0));
    }
}
