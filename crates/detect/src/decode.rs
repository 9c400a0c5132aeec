//! Output decoders for the detector families a manifest can name, and NMS.
//!
//! Each decoder reads plain `f32` tensors (the session converts integer outputs) and returns
//! person boxes in pixels of the model input, above the score threshold, after NMS where the
//! family needs it.

use crate::DetectError;
use crate::manifest::{Activation, BoxFormat, BoxUnits, Family, OutputSpec};
use hallwatch_core::{BBox, Detection};

/// An output tensor copied out of the session as `f32`.
#[derive(Clone, Debug, PartialEq)]
pub struct OutTensor {
    /// Tensor name.
    pub name: String,
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f32>,
}

impl OutTensor {
    fn rows(&self, want_cols: Option<usize>) -> Result<(usize, usize), DetectError> {
        // Accept [N, C] or [1, N, C].
        let dims: Vec<usize> = match self.shape.as_slice() {
            [1, n, c] => vec![*n, *c],
            [n, c] => vec![*n, *c],
            other => {
                return Err(self.mismatch(format!("expected [1, N, C], got {other:?}")));
            }
        };
        if let Some(c) = want_cols
            && dims[1] != c
        {
            return Err(self.mismatch(format!(
                "expected {c} values per row, got shape {:?}",
                self.shape
            )));
        }
        if dims[0] * dims[1] != self.data.len() {
            return Err(self.mismatch(format!(
                "shape {:?} does not match {} values",
                self.shape,
                self.data.len()
            )));
        }
        Ok((dims[0], dims[1]))
    }

    fn mismatch(&self, message: String) -> DetectError {
        DetectError::OutputMismatch {
            tensor: self.name.clone(),
            message,
        }
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn make_box(v: [f32; 4], format: BoxFormat, units: BoxUnits, w: f32, h: f32) -> BBox {
    let b = match format {
        BoxFormat::Xyxy => BBox::new(v[0], v[1], v[2], v[3]),
        BoxFormat::Yxyx => BBox::new(v[1], v[0], v[3], v[2]),
        BoxFormat::Cxcywh => BBox::from_cxcywh(v[0], v[1], v[2], v[3]),
    };
    match units {
        BoxUnits::Pixels => b,
        BoxUnits::Normalized => b.scale_shift(w, h, 0.0, 0.0),
    }
}

/// Greedy non-maximum suppression: keeps boxes in descending score order, dropping any whose
/// IoU with a kept box exceeds `iou`; at most `max` are kept. `iou = 0` keeps all (sorted).
pub fn nms(mut dets: Vec<Detection>, iou: f32, max: usize) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    if iou <= 0.0 {
        dets.truncate(max);
        return dets;
    }
    let mut kept: Vec<Detection> = Vec::new();
    for d in dets {
        if kept.len() >= max {
            break;
        }
        if kept
            .iter()
            .all(|k| k.class != d.class || k.bbox.iou(&d.bbox) <= iou)
        {
            kept.push(d);
        }
    }
    kept
}

fn find<'a>(outputs: &'a [OutTensor], name: &str) -> Result<&'a OutTensor, DetectError> {
    outputs
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| DetectError::OutputMismatch {
            tensor: name.to_string(),
            message: "the model has no such output".into(),
        })
}

/// Decodes `outputs` as `spec` says, for a model input of `input_w x input_h` pixels. Returns
/// person detections (class = `spec.person_class`) scoring at least `threshold`.
pub fn decode(
    spec: &OutputSpec,
    outputs: &[OutTensor],
    input_w: u32,
    input_h: u32,
    threshold: f32,
) -> Result<Vec<Detection>, DetectError> {
    let (w, h) = (input_w as f32, input_h as f32);
    let fmt = spec.box_format();
    let units = spec.box_units();
    let act = spec.activation();
    let person = spec.person_class;
    let activate = |x: f32| match act {
        Activation::Sigmoid => sigmoid(x),
        _ => x,
    };
    let mut dets = Vec::new();
    let mut push = |b: BBox, score: f32| {
        if score >= threshold && b.area() > 0.0 {
            dets.push(Detection {
                bbox: b.clip(w, h),
                score,
                class: person,
            });
        }
    };
    match spec.family {
        Family::Centernet => {
            let t = find(outputs, &spec.detections)?;
            let (n, _) = t.rows(Some(6))?;
            for r in t.data.chunks_exact(6).take(n) {
                let class = r[5].round() as i64 + spec.class_offset as i64;
                if class == person as i64 {
                    push(
                        make_box([r[0], r[1], r[2], r[3]], fmt, units, w, h),
                        activate(r[4]),
                    );
                }
            }
        }
        Family::Yolo => {
            let t = find(outputs, &spec.detections)?;
            let extra = if spec.objectness { 5 } else { 4 };
            // Normalise to rows of [4 (+1) + C] values.
            let (n, c) = if spec.transposed {
                let (c, n) = t.rows(None)?;
                (n, c)
            } else {
                t.rows(None)?
            };
            let class_col = extra + person as usize;
            if class_col >= c {
                return Err(t.mismatch(format!(
                    "person class {person} needs at least {} values per box, the model has {c}",
                    class_col + 1
                )));
            }
            let at = |i: usize, j: usize| {
                if spec.transposed {
                    t.data[j * n + i]
                } else {
                    t.data[i * c + j]
                }
            };
            for i in 0..n {
                // The box only counts as a person when person is its best class.
                let pscore = activate(at(i, class_col));
                let best_other = (extra..c)
                    .filter(|&j| j != class_col)
                    .map(|j| activate(at(i, j)))
                    .fold(f32::MIN, f32::max);
                if pscore < best_other {
                    continue;
                }
                let obj = if spec.objectness {
                    activate(at(i, 4))
                } else {
                    1.0
                };
                let b = make_box([at(i, 0), at(i, 1), at(i, 2), at(i, 3)], fmt, units, w, h);
                push(b, obj * pscore);
            }
        }
        Family::Yolox => {
            let t = find(outputs, &spec.detections)?;
            let (n, c) = t.rows(None)?;
            let class_col = 5 + person as usize;
            if class_col >= c {
                return Err(t.mismatch(format!("person class {person} is beyond {c} columns")));
            }
            // Grid cells of each stride, in order, as the YOLOX export lays them out.
            let mut cells = Vec::with_capacity(n);
            for &s in &spec.strides {
                let (gw, gh) = (input_w / s, input_h / s);
                for gy in 0..gh {
                    for gx in 0..gw {
                        cells.push((gx as f32, gy as f32, s as f32));
                    }
                }
            }
            if cells.len() != n {
                return Err(t.mismatch(format!(
                    "strides {:?} on {input_w}x{input_h} make {} cells, the output has {n} rows",
                    spec.strides,
                    cells.len()
                )));
            }
            for (r, (gx, gy, s)) in t.data.chunks_exact(c).zip(cells) {
                let pscore = activate(r[class_col]);
                let best_other = (5..c)
                    .filter(|&j| j != class_col)
                    .map(|j| activate(r[j]))
                    .fold(f32::MIN, f32::max);
                if pscore < best_other {
                    continue;
                }
                let cx = (r[0] + gx) * s;
                let cy = (r[1] + gy) * s;
                let bw = r[2].exp() * s;
                let bh = r[3].exp() * s;
                push(BBox::from_cxcywh(cx, cy, bw, bh), activate(r[4]) * pscore);
            }
        }
        Family::Ssd => {
            let boxes = find(outputs, &spec.boxes)?;
            let scores = find(outputs, &spec.scores)?;
            let classes = find(outputs, &spec.classes)?;
            let (n, _) = boxes.rows(Some(4))?;
            if scores.data.len() < n || classes.data.len() < n {
                return Err(scores.mismatch(format!(
                    "{n} boxes but {} scores and {} classes",
                    scores.data.len(),
                    classes.data.len()
                )));
            }
            let count = if spec.count.is_empty() {
                n
            } else {
                let c = find(outputs, &spec.count)?;
                c.data.first().map(|v| (*v as usize).min(n)).unwrap_or(0)
            };
            for i in 0..count {
                let class = classes.data[i].round() as i64 + spec.class_offset as i64;
                if class != person as i64 {
                    continue;
                }
                let v = &boxes.data[i * 4..i * 4 + 4];
                push(
                    make_box([v[0], v[1], v[2], v[3]], fmt, units, w, h),
                    activate(scores.data[i]),
                );
            }
        }
        Family::Detr => {
            let boxes = find(outputs, &spec.boxes)?;
            let logits = find(outputs, &spec.logits)?;
            let (q, _) = boxes.rows(Some(4))?;
            let (ql, c) = logits.rows(None)?;
            if ql != q {
                return Err(logits.mismatch(format!("{ql} queries of logits, {q} of boxes")));
            }
            if person as usize >= c {
                return Err(logits.mismatch(format!("person class {person} is beyond {c} classes")));
            }
            for i in 0..q {
                let row = &logits.data[i * c..(i + 1) * c];
                let score = match act {
                    Activation::Softmax => {
                        let m = row.iter().copied().fold(f32::MIN, f32::max);
                        let sum: f32 = row.iter().map(|x| (x - m).exp()).sum();
                        let p = (row[person as usize] - m).exp() / sum;
                        // Person must be the most likely class (the last one is "no object").
                        let best = row.iter().copied().fold(f32::MIN, f32::max);
                        if row[person as usize] < best {
                            continue;
                        }
                        p
                    }
                    Activation::Sigmoid => sigmoid(row[person as usize]),
                    Activation::None => row[person as usize],
                };
                let v = &boxes.data[i * 4..i * 4 + 4];
                push(make_box([v[0], v[1], v[2], v[3]], fmt, units, w, h), score);
            }
        }
    }
    Ok(nms(dets, spec.nms_iou, spec.max_detections))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    fn spec(family: &str, extra: &str) -> OutputSpec {
        let text = format!(
            "name = \"t\"\nfile = \"m.onnx\"\nsha256 = \"{}\"\n[input]\nname = \"in\"\nlayout = \"nchw\"\nwidth = 64\nheight = 64\n[output]\nfamily = \"{family}\"\n{extra}\n",
            "0".repeat(64)
        );
        Manifest::from_toml_str(&text, "test")
            .expect("manifest")
            .output
    }

    fn t(name: &str, shape: &[usize], data: &[f32]) -> OutTensor {
        OutTensor {
            name: name.into(),
            shape: shape.to_vec(),
            data: data.to_vec(),
        }
    }

    #[test]
    fn centernet_keeps_persons_above_threshold() {
        let s = spec("centernet", "detections = \"det\"\nnms_iou = 0.0");
        let out = [t(
            "det",
            &[1, 3, 6],
            &[
                10.0, 10.0, 20.0, 40.0, 0.9, 0.0, // person
                30.0, 30.0, 50.0, 50.0, 0.95, 2.0, // car
                0.0, 0.0, 5.0, 5.0, 0.3, 0.0, // person, too weak
            ],
        )];
        let d = decode(&s, &out, 64, 64, 0.45).expect("decode");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].bbox, BBox::new(10.0, 10.0, 20.0, 40.0));
        assert_eq!(d[0].score, 0.9);
    }

    #[test]
    fn yolov8_transposed_head_with_nms() {
        let s = spec("yolo", "detections = \"out\"\nnms_iou = 0.5");
        // [1, 4+2, 3]: rows are cx, cy, w, h, person, other; columns are anchors.
        let out = [t(
            "out",
            &[1, 6, 3],
            &[
                20.0, 40.0, 21.0, // cx
                20.0, 40.0, 20.0, // cy
                10.0, 10.0, 10.0, // w
                20.0, 20.0, 20.0, // h
                0.9, 0.1, 0.8, // person
                0.05, 0.7, 0.1, // other
            ],
        )];
        let d = decode(&s, &out, 64, 64, 0.25).expect("decode");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].bbox, BBox::new(15.0, 10.0, 25.0, 30.0));
        assert_eq!(d[0].score, 0.9);
    }

    #[test]
    fn yolov5_rows_with_objectness() {
        let s = spec(
            "yolo",
            "detections = \"out\"\ntransposed = false\nobjectness = true",
        );
        let out = [t(
            "out",
            &[1, 2, 7],
            &[
                32.0, 32.0, 8.0, 16.0, 0.5, 0.9, 0.1, // obj 0.5 * person 0.9
                10.0, 10.0, 4.0, 4.0, 0.9, 0.2, 0.8, // another class
            ],
        )];
        let d = decode(&s, &out, 64, 64, 0.25).expect("decode");
        assert_eq!(d.len(), 1);
        assert!((d[0].score - 0.45).abs() < 1e-6);
        assert_eq!(d[0].bbox, BBox::new(28.0, 24.0, 36.0, 40.0));
    }

    #[test]
    fn yolox_grid_decoding() {
        let s = spec("yolox", "detections = \"out\"\nstrides = [32]");
        // 64x64 input, stride 32: a 2x2 grid, rows in (y, x) order.
        let mut data = vec![0.0f32; 4 * 7];
        // Cell (x=1, y=0): offsets 0.5, 0.5, log size 0 -> 32x32 box centred at (48, 16).
        data[7..14].copy_from_slice(&[0.5, 0.5, 0.0, 0.0, 0.8, 0.9, 0.1]);
        let out = [t("out", &[1, 4, 7], &data)];
        let d = decode(&s, &out, 64, 64, 0.25).expect("decode");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].bbox, BBox::new(32.0, 0.0, 64.0, 32.0));
        assert!((d[0].score - 0.72).abs() < 1e-6);
        // A grid that does not fit the output is a clear error.
        let s = spec("yolox", "detections = \"out\"\nstrides = [16]");
        let e = decode(&s, &out, 64, 64, 0.25).expect_err("mismatch");
        assert!(e.to_string().contains("16 cells"), "{e}");
    }

    #[test]
    fn ssd_with_count_and_one_based_classes() {
        let s = spec(
            "ssd",
            "boxes = \"b\"\nscores = \"s\"\nclasses = \"c\"\ncount = \"n\"\nclass_offset = -1",
        );
        let out = [
            t(
                "b",
                &[1, 3, 4],
                &[
                    0.25, 0.5, 0.75, 1.0, // y1 x1 y2 x2 normalised
                    0.0, 0.0, 0.5, 0.5, //
                    0.0, 0.0, 1.0, 1.0, // beyond count
                ],
            ),
            t("s", &[1, 3], &[0.8, 0.7, 0.99]),
            t("c", &[1, 3], &[1.0, 3.0, 1.0]),
            t("n", &[1], &[2.0]),
        ];
        let d = decode(&s, &out, 64, 64, 0.5).expect("decode");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].bbox, BBox::new(32.0, 16.0, 64.0, 48.0));
    }

    #[test]
    fn detr_softmax_with_no_object_class() {
        let s = spec("detr", "boxes = \"boxes\"\nlogits = \"logits\"");
        let out = [
            t(
                "boxes",
                &[1, 2, 4],
                &[0.5, 0.5, 0.25, 0.5, 0.2, 0.2, 0.1, 0.1],
            ),
            // classes: person, other, no-object
            t("logits", &[1, 2, 3], &[4.0, 0.0, 0.0, 0.0, 0.0, 5.0]),
        ];
        let d = decode(&s, &out, 64, 64, 0.5).expect("decode");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].bbox, BBox::new(24.0, 16.0, 40.0, 48.0));
        let p = 4f32.exp() / (4f32.exp() + 2.0);
        assert!((d[0].score - p).abs() < 1e-5);
    }

    #[test]
    fn detr_sigmoid_variant() {
        let s = spec(
            "detr",
            "boxes = \"boxes\"\nlogits = \"logits\"\nactivation = \"sigmoid\"",
        );
        let out = [
            t("boxes", &[1, 1, 4], &[0.5, 0.5, 0.5, 0.5]),
            t("logits", &[1, 1, 2], &[2.0, -1.0]),
        ];
        let d = decode(&s, &out, 64, 64, 0.5).expect("decode");
        assert_eq!(d.len(), 1);
        assert!((d[0].score - 1.0 / (1.0 + (-2f32).exp())).abs() < 1e-6);
    }

    #[test]
    fn wrong_shapes_and_names_are_clear_errors() {
        let s = spec("centernet", "detections = \"det\"");
        let e = decode(&s, &[t("det", &[1, 2, 5], &[0.0; 10])], 64, 64, 0.5).expect_err("shape");
        assert!(e.to_string().contains("expected 6 values per row"), "{e}");
        let e = decode(&s, &[t("other", &[1, 1, 6], &[0.0; 6])], 64, 64, 0.5).expect_err("name");
        assert!(e.to_string().contains("'det'"), "{e}");
    }

    #[test]
    fn nms_suppresses_overlaps_of_one_class_only() {
        let d = |x: f32, s: f32, c: u32| Detection {
            bbox: BBox::new(x, 0.0, x + 10.0, 10.0),
            score: s,
            class: c,
        };
        let kept = nms(
            vec![
                d(0.0, 0.5, 0),
                d(1.0, 0.9, 0),
                d(1.0, 0.8, 1),
                d(30.0, 0.4, 0),
            ],
            0.5,
            10,
        );
        let scores: Vec<f32> = kept.iter().map(|k| k.score).collect();
        assert_eq!(scores, vec![0.9, 0.8, 0.4]);
        assert_eq!(nms(vec![d(0.0, 0.5, 0), d(1.0, 0.9, 0)], 0.0, 1).len(), 1);
    }
}
