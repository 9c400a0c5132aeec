//! Motion gating: skip inference when nothing moved, but run a full pass at least every K
//! seconds of stream time so that seated, still people are never lost.

use crate::DetectError;
use hallwatch_core::Frame;
use opencv::core::{BORDER_DEFAULT, Mat, Size, Vec3b};
use opencv::imgproc;
use opencv::prelude::*;

/// Width of the grey copy motion is measured on.
const SMALL_WIDTH: i32 = 160;
/// Grey-level change that counts a pixel as moved.
const PIXEL_DELTA: f64 = 18.0;

/// Why the gate decided as it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateDecision {
    /// Run the detector: something moved.
    Motion,
    /// Run the detector: the periodic full pass is due (or it is the first frame).
    FullPass,
    /// Skip: nothing moved since the last analysed frame.
    Still,
}

impl GateDecision {
    /// True when the detector must run.
    pub fn run(self) -> bool {
        !matches!(self, GateDecision::Still)
    }
}

/// Per-camera motion gate over consecutive analysed frames.
pub struct MotionGate {
    threshold: f64,
    full_pass_s: f64,
    previous: Option<Mat>,
    last_run: Option<f64>,
    /// Share of pixels that changed between the last two frames.
    pub last_change: f64,
}

impl MotionGate {
    /// A gate that runs the detector when more than `threshold` of the pixels changed, and at
    /// least every `full_pass_s` seconds.
    pub fn new(threshold: f64, full_pass_s: f64) -> Self {
        Self {
            threshold,
            full_pass_s,
            previous: None,
            last_run: None,
            last_change: 1.0,
        }
    }

    fn small_grey(frame: &Frame) -> Result<Mat, DetectError> {
        let src = Mat::new_rows_cols_with_bytes::<Vec3b>(
            frame.height as i32,
            frame.width as i32,
            &frame.data,
        )?;
        let h = ((SMALL_WIDTH as f64 * frame.height as f64 / frame.width.max(1) as f64).round()
            as i32)
            .max(1);
        let mut small = Mat::default();
        imgproc::resize(
            &src,
            &mut small,
            Size::new(SMALL_WIDTH, h),
            0.0,
            0.0,
            imgproc::INTER_AREA,
        )?;
        let mut grey = Mat::default();
        imgproc::cvt_color(&small, &mut grey, imgproc::COLOR_RGB2GRAY, 0)?;
        let mut blurred = Mat::default();
        imgproc::gaussian_blur(
            &grey,
            &mut blurred,
            Size::new(5, 5),
            0.0,
            0.0,
            BORDER_DEFAULT,
        )?;
        Ok(blurred)
    }

    /// Decides for `frame` (its stream time is the clock) and remembers it for the next one.
    pub fn decide(&mut self, frame: &Frame) -> Result<GateDecision, DetectError> {
        let t = frame.time.seconds();
        let grey = Self::small_grey(frame)?;
        let change = match &self.previous {
            Some(prev) if prev.size()? == grey.size()? => {
                let mut diff = Mat::default();
                opencv::core::absdiff(prev, &grey, &mut diff)?;
                let mut moved = Mat::default();
                imgproc::threshold(
                    &diff,
                    &mut moved,
                    PIXEL_DELTA,
                    255.0,
                    imgproc::THRESH_BINARY,
                )?;
                let n = opencv::core::count_non_zero(&moved)? as f64;
                n / (grey.rows() as f64 * grey.cols() as f64).max(1.0)
            }
            _ => 1.0,
        };
        self.previous = Some(grey);
        self.last_change = change;
        // Stream time going backwards (a looped file, a restarted camera) forces a full pass.
        let due = self
            .last_run
            .is_none_or(|last| t - last >= self.full_pass_s || t < last);
        let decision = if due {
            GateDecision::FullPass
        } else if change >= self.threshold {
            GateDecision::Motion
        } else {
            GateDecision::Still
        };
        if decision.run() {
            self.last_run = Some(t);
        }
        Ok(decision)
    }
}
