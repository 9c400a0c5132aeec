use serde::{Deserialize, Serialize};

/// An axis-aligned box in pixels: `x1,y1` top-left, `x2,y2` bottom-right (x2 >= x1, y2 >= y1).
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct BBox {
    /// Left edge.
    pub x1: f32,
    /// Top edge.
    pub y1: f32,
    /// Right edge.
    pub x2: f32,
    /// Bottom edge.
    pub y2: f32,
}

impl BBox {
    /// A box from its corners (swapped corners are put in order).
    pub fn new(x1: f32, y1: f32, x2: f32, y2: f32) -> Self {
        Self {
            x1: x1.min(x2),
            y1: y1.min(y2),
            x2: x1.max(x2),
            y2: y1.max(y2),
        }
    }

    /// A box from its top-left corner and size (the MOTChallenge `x,y,w,h`).
    pub fn from_xywh(x: f32, y: f32, w: f32, h: f32) -> Self {
        Self::new(x, y, x + w, y + h)
    }

    /// A box from its centre and size.
    pub fn from_cxcywh(cx: f32, cy: f32, w: f32, h: f32) -> Self {
        Self::new(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)
    }

    /// Width.
    pub fn width(&self) -> f32 {
        (self.x2 - self.x1).max(0.0)
    }

    /// Height.
    pub fn height(&self) -> f32 {
        (self.y2 - self.y1).max(0.0)
    }

    /// Area.
    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    /// Area of the overlap with `o`.
    pub fn intersection(&self, o: &BBox) -> f32 {
        let w = (self.x2.min(o.x2) - self.x1.max(o.x1)).max(0.0);
        let h = (self.y2.min(o.y2) - self.y1.max(o.y1)).max(0.0);
        w * h
    }

    /// Intersection over union, 0 for disjoint or empty boxes.
    pub fn iou(&self, o: &BBox) -> f32 {
        let inter = self.intersection(o);
        let union = self.area() + o.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    /// The smallest box holding both.
    pub fn union(&self, o: &BBox) -> BBox {
        BBox {
            x1: self.x1.min(o.x1),
            y1: self.y1.min(o.y1),
            x2: self.x2.max(o.x2),
            y2: self.y2.max(o.y2),
        }
    }

    /// The box scaled by `sx` horizontally and `sy` vertically, then shifted by `(dx, dy)`.
    pub fn scale_shift(&self, sx: f32, sy: f32, dx: f32, dy: f32) -> BBox {
        BBox {
            x1: self.x1 * sx + dx,
            y1: self.y1 * sy + dy,
            x2: self.x2 * sx + dx,
            y2: self.y2 * sy + dy,
        }
    }

    /// The box clipped to `[0, w] x [0, h]`.
    pub fn clip(&self, w: f32, h: f32) -> BBox {
        BBox {
            x1: self.x1.clamp(0.0, w),
            y1: self.y1.clamp(0.0, h),
            x2: self.x2.clamp(0.0, w),
            y2: self.y2.clamp(0.0, h),
        }
    }

    /// Bottom-centre point: where a standing person touches the floor.
    pub fn foot(&self) -> (f32, f32) {
        ((self.x1 + self.x2) / 2.0, self.y2)
    }

    /// Centre point.
    pub fn centre(&self) -> (f32, f32) {
        ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)
    }
}

/// One detected object.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Where, in the pixels of the frame the detector was given (or the source, once mapped).
    pub bbox: BBox,
    /// Confidence in [0, 1].
    pub score: f32,
    /// Class id of the model (the manifest says which one is a person).
    pub class: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_known_boxes() {
        let a = BBox::new(0.0, 0.0, 10.0, 10.0);
        let b = BBox::new(5.0, 0.0, 15.0, 10.0);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&BBox::new(20.0, 20.0, 30.0, 30.0)), 0.0);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(
            BBox::from_xywh(1.0, 2.0, 3.0, 4.0),
            BBox::new(1.0, 2.0, 4.0, 6.0)
        );
        assert_eq!(
            BBox::from_cxcywh(5.0, 5.0, 2.0, 4.0),
            BBox::new(4.0, 3.0, 6.0, 7.0)
        );
        assert_eq!(a.foot(), (5.0, 10.0));
        assert_eq!(
            a.scale_shift(2.0, 0.5, 1.0, 1.0),
            BBox::new(1.0, 1.0, 21.0, 6.0)
        );
    }
}
