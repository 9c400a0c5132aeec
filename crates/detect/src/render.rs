//! Pictures for people: privacy pixelation, zone and grid overlays, PNG encoding.
//!
//! Every picture that leaves the machine goes through [`pixelate`] first: each detected
//! person's box is reduced to coarse blocks, so nobody can be recognised.

use crate::DetectError;
use hallwatch_core::{BBox, Frame};
use opencv::boxed_ref::BoxedRefMut;
use opencv::core::{Mat, Point, Rect, Scalar, Size, Vec3b, Vector};
use opencv::imgproc;
use opencv::prelude::*;

/// An RGB picture being drawn on.
pub struct Canvas {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Packed RGB.
    pub data: Vec<u8>,
}

/// Blocks across the larger side of a pixelated person: a standing person's head is about an
/// eighth of their height, so it becomes one block of averaged colour at most.
pub const PIXEL_BLOCKS: i32 = 8;

impl Canvas {
    /// A copy of a frame.
    pub fn from_frame(f: &Frame) -> Self {
        Self {
            width: f.width,
            height: f.height,
            data: f.data.to_vec(),
        }
    }

    fn with_mat<T>(
        &mut self,
        f: impl FnOnce(&mut BoxedRefMut<'_, Mat>) -> opencv::Result<T>,
    ) -> Result<T, DetectError> {
        let (w, h) = (self.width as i32, self.height as i32);
        let mut m = Mat::new_rows_cols_with_bytes_mut::<Vec3b>(h, w, &mut self.data)?;
        Ok(f(&mut m)?)
    }

    /// Pixelates each box into at most [`PIXEL_BLOCKS`] blocks across its larger side, whatever
    /// the frame's resolution (a face is then well under one block at 1080p or 4K), and blocks
    /// of at least 2 px.
    pub fn pixelate(&mut self, boxes: &[BBox]) -> Result<(), DetectError> {
        let (w, h) = (self.width as f32, self.height as f32);
        self.with_mat(|m| {
            for b in boxes {
                let b = b.clip(w, h);
                let r = Rect::new(
                    b.x1.floor() as i32,
                    b.y1.floor() as i32,
                    (b.x2.ceil() - b.x1.floor()).max(1.0) as i32,
                    (b.y2.ceil() - b.y1.floor()).max(1.0) as i32,
                );
                if r.width < 2
                    || r.height < 2
                    || r.x + r.width > m.cols()
                    || r.y + r.height > m.rows()
                {
                    continue;
                }
                let side = r.width.max(r.height);
                let block = f64::from(((side + PIXEL_BLOCKS - 1) / PIXEL_BLOCKS).max(2));
                let mut roi = Mat::roi_mut(m, r)?;
                let small_size = Size::new(
                    ((r.width as f64 / block).ceil() as i32).max(1),
                    ((r.height as f64 / block).ceil() as i32).max(1),
                );
                let mut small = Mat::default();
                imgproc::resize(&roi, &mut small, small_size, 0.0, 0.0, imgproc::INTER_AREA)?;
                let mut big = Mat::default();
                imgproc::resize(
                    &small,
                    &mut big,
                    Size::new(r.width, r.height),
                    0.0,
                    0.0,
                    imgproc::INTER_NEAREST,
                )?;
                big.copy_to(&mut roi)?;
            }
            Ok(())
        })
    }

    /// A normalised grid every `step` (0.1 = tenths) with its coordinates written along the
    /// top and left edges, for drawing zones.
    pub fn grid(&mut self, step: f64) -> Result<(), DetectError> {
        let (w, h) = (self.width as i32, self.height as i32);
        let n = (1.0 / step).round() as i32;
        self.with_mat(|m| {
            for i in 1..n {
                let f = i as f64 * step;
                let x = (f * w as f64).round() as i32;
                let y = (f * h as f64).round() as i32;
                let strong = i % 5 == 0;
                let colour = if strong {
                    Scalar::new(255.0, 255.0, 0.0, 0.0)
                } else {
                    Scalar::new(200.0, 200.0, 200.0, 0.0)
                };
                imgproc::line(
                    m,
                    Point::new(x, 0),
                    Point::new(x, h - 1),
                    colour,
                    1,
                    imgproc::LINE_AA,
                    0,
                )?;
                imgproc::line(
                    m,
                    Point::new(0, y),
                    Point::new(w - 1, y),
                    colour,
                    1,
                    imgproc::LINE_AA,
                    0,
                )?;
                let label = format!("{f:.1}");
                imgproc::put_text(
                    m,
                    &label,
                    Point::new(x + 2, 14),
                    imgproc::FONT_HERSHEY_SIMPLEX,
                    0.4,
                    colour,
                    1,
                    imgproc::LINE_AA,
                    false,
                )?;
                imgproc::put_text(
                    m,
                    &label,
                    Point::new(2, y - 3),
                    imgproc::FONT_HERSHEY_SIMPLEX,
                    0.4,
                    colour,
                    1,
                    imgproc::LINE_AA,
                    false,
                )?;
            }
            Ok(())
        })
    }

    /// A closed polygon (normalised points) with a label at its first point.
    pub fn polygon(
        &mut self,
        points: &[[f64; 2]],
        rgb: [u8; 3],
        label: &str,
        closed: bool,
    ) -> Result<(), DetectError> {
        let (w, h) = (self.width as f64, self.height as f64);
        let pts: Vector<Point> = points
            .iter()
            .map(|p| Point::new((p[0] * w).round() as i32, (p[1] * h).round() as i32))
            .collect();
        let colour = Scalar::new(rgb[0] as f64, rgb[1] as f64, rgb[2] as f64, 0.0);
        self.with_mat(|m| {
            let all: Vector<Vector<Point>> = Vector::from_iter([pts.clone()]);
            imgproc::polylines(m, &all, closed, colour, 2, imgproc::LINE_AA, 0)?;
            if let Some(p) = pts.iter().next() {
                imgproc::put_text(
                    m,
                    label,
                    Point::new(p.x + 4, p.y + 16),
                    imgproc::FONT_HERSHEY_SIMPLEX,
                    0.5,
                    colour,
                    1,
                    imgproc::LINE_AA,
                    false,
                )?;
            }
            Ok(())
        })
    }

    /// Box outlines (pixels) with optional labels.
    pub fn boxes(&mut self, boxes: &[(BBox, String)], rgb: [u8; 3]) -> Result<(), DetectError> {
        let colour = Scalar::new(rgb[0] as f64, rgb[1] as f64, rgb[2] as f64, 0.0);
        self.with_mat(|m| {
            for (b, label) in boxes {
                let r = Rect::new(
                    b.x1 as i32,
                    b.y1 as i32,
                    b.width() as i32,
                    b.height() as i32,
                );
                imgproc::rectangle(m, r, colour, 2, imgproc::LINE_8, 0)?;
                if !label.is_empty() {
                    imgproc::put_text(
                        m,
                        label,
                        Point::new(r.x, (r.y - 4).max(10)),
                        imgproc::FONT_HERSHEY_SIMPLEX,
                        0.45,
                        colour,
                        1,
                        imgproc::LINE_AA,
                        false,
                    )?;
                }
            }
            Ok(())
        })
    }

    /// PNG bytes of the picture.
    pub fn png(&self) -> Result<Vec<u8>, DetectError> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width, self.height);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc
                .write_header()
                .map_err(|e| DetectError::Image(format!("png: {e}")))?;
            w.write_image_data(&self.data)
                .map_err(|e| DetectError::Image(format!("png: {e}")))?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixelation_removes_detail_inside_boxes_only() {
        // A checkerboard of 1-pixel squares, 64x64.
        let mut c = Canvas {
            width: 64,
            height: 64,
            data: (0..64 * 64)
                .flat_map(|i| {
                    let v = if (i % 64 + i / 64) % 2 == 0 { 255 } else { 0 };
                    [v, v, v]
                })
                .collect(),
        };
        c.pixelate(&[BBox::new(16.0, 16.0, 48.0, 48.0)])
            .expect("pixelate");
        let px = |x: usize, y: usize| c.data[(y * 64 + x) * 3];
        // Inside: blocks of averaged grey, no more 0/255 alternation.
        assert!((100..=155).contains(&px(30, 30)), "{}", px(30, 30));
        assert_eq!(px(30, 30), px(31, 30));
        // Outside: untouched.
        assert_eq!((px(2, 2), px(3, 2)), (255, 0));
        let png = c.png().expect("png");
        assert_eq!(&png[1..4], b"PNG");
    }

    #[test]
    fn a_person_at_1080p_is_at_most_eight_blocks_tall() {
        // A 1920x1080 frame of fine vertical detail; a person 480 px tall (a near camera).
        let (w, h) = (1920usize, 1080usize);
        let mut c = Canvas {
            width: w as u32,
            height: h as u32,
            data: (0..w * h)
                .flat_map(|i| {
                    let v = ((i / w) * 37 % 251) as u8;
                    [v, v, v]
                })
                .collect(),
        };
        c.pixelate(&[BBox::new(600.0, 300.0, 800.0, 780.0)])
            .expect("pixelate");
        let column: Vec<u8> = (300..780).map(|y| c.data[(y * w + 700) * 3]).collect();
        let mut runs = 1;
        for pair in column.windows(2) {
            if pair[0] != pair[1] {
                runs += 1;
            }
        }
        assert!(
            runs <= PIXEL_BLOCKS as usize,
            "{runs} blocks down the person"
        );
        // The block is 60 px: a 60 px face is one flat colour.
        assert!(column[..60].iter().all(|v| *v == column[0]));
    }
}
