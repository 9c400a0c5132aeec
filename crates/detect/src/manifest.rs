//! Model manifests: everything hallwatch needs to know to run a detector, in a TOML file beside
//! the model (`models/*.toml`). A hall's own licensed model is a new manifest, not new code.

use crate::DetectError;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A detector model and how to feed it and read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Short name, e.g. `centernet_mb3_512`.
    pub name: String,
    /// Free text: what the model is and where it came from.
    #[serde(default)]
    pub description: String,
    /// The ONNX file, relative to the manifest's folder (or absolute).
    pub file: String,
    /// Expected SHA-256 of the file, lower-case hex; checked before loading.
    pub sha256: String,
    /// Licence of the weights, as known.
    #[serde(default)]
    pub licence: String,
    /// The input tensor.
    pub input: InputSpec,
    /// The output tensors and how to decode them.
    pub output: OutputSpec,
}

/// Tensor memory layout of the image input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// [1, height, width, channels]
    Nhwc,
    /// [1, channels, height, width]
    Nchw,
}

/// Element type of the image input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// 32-bit float.
    F32,
    /// 8-bit unsigned (the model does its own normalisation).
    U8,
}

/// Channel order of the image input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColourOrder {
    /// Red, green, blue.
    Rgb,
    /// Blue, green, red (OpenCV / Caffe habit).
    Bgr,
}

/// How a frame is fitted to the model's input size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResizeMode {
    /// Plain resize of the whole frame to the input size (aspect not kept).
    Stretch,
    /// Resize keeping the aspect ratio, centred, the rest filled with `pad_value`.
    Letterbox,
}

/// The model's image input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Tensor name in the ONNX graph.
    pub name: String,
    /// `nhwc` or `nchw`.
    pub layout: Layout,
    /// Input width in pixels.
    pub width: u32,
    /// Input height in pixels.
    pub height: u32,
    /// `f32` or `u8`.
    #[serde(default = "default_dtype")]
    pub dtype: DType,
    /// `rgb` or `bgr`.
    #[serde(default = "default_colour")]
    pub colour: ColourOrder,
    /// f32 only: pixel values 0..255 are mapped linearly onto `[range[0], range[1]]`.
    #[serde(default = "default_range")]
    pub range: [f32; 2],
    /// f32 only: per-channel mean subtracted after the range mapping (in the model's channel order).
    #[serde(default = "zero3")]
    pub mean: [f32; 3],
    /// f32 only: per-channel divisor applied after the mean.
    #[serde(default = "one3")]
    pub std: [f32; 3],
    /// `stretch` or `letterbox`.
    #[serde(default = "default_resize")]
    pub resize: ResizeMode,
    /// Letterbox fill, as a 0..255 pixel value before normalisation.
    #[serde(default = "default_pad")]
    pub pad_value: u8,
    /// How pictures are shrunk to the input: `area` (averaging, keeps small distant people;
    /// default) or `linear` (faster, what most Python code does). Enlarging is always linear.
    #[serde(default = "default_interp")]
    pub interpolation: Interpolation,
}

/// Resampling used when shrinking a picture to the model input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// Pixel-area averaging.
    Area,
    /// Bilinear.
    Linear,
}

fn default_interp() -> Interpolation {
    Interpolation::Area
}

fn default_dtype() -> DType {
    DType::F32
}
fn default_colour() -> ColourOrder {
    ColourOrder::Rgb
}
fn default_range() -> [f32; 2] {
    [0.0, 1.0]
}
fn zero3() -> [f32; 3] {
    [0.0; 3]
}
fn one3() -> [f32; 3] {
    [1.0; 3]
}
fn default_resize() -> ResizeMode {
    ResizeMode::Stretch
}
fn default_pad() -> u8 {
    114
}

/// Output family: how the output tensors are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Final detections `[1, N, 6]` = x1, y1, x2, y2, score, class (CenterNet exports, and
    /// any model with NMS and top-k inside that emits that row shape).
    Centernet,
    /// YOLO raw head: `[1, 4+C, N]` (YOLOv8/11, `transposed = true`) or `[1, N, 5+C]` with
    /// objectness (YOLOv5, `objectness = true`). Boxes cx, cy, w, h in input pixels. NMS after.
    Yolo,
    /// YOLOX raw head `[1, N, 5+C]` with grid offsets: decoded with `strides`. NMS after.
    Yolox,
    /// SSD-style with NMS inside: `boxes [1,N,4]`, `scores [1,N]`, `classes [1,N]`,
    /// `count [1]` (TensorFlow Object Detection API exports).
    Ssd,
    /// DETR-style set prediction: `boxes [1,Q,4]` (cx, cy, w, h normalised) and `logits [1,Q,C]`
    /// (softmax with a trailing no-object class, or sigmoid for RT-DETR / D-FINE).
    Detr,
}

/// Coordinates of boxes in the outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoxFormat {
    /// x1, y1, x2, y2
    Xyxy,
    /// y1, x1, y2, x2 (TensorFlow)
    Yxyx,
    /// centre x, centre y, width, height
    Cxcywh,
}

/// Units of box coordinates in the outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoxUnits {
    /// Pixels of the model input.
    Pixels,
    /// Fractions of the model input's width and height.
    Normalized,
}

/// How class scores are turned into probabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// Already probabilities.
    None,
    /// Logistic per class.
    Sigmoid,
    /// Softmax over classes (DETR: the last class is "no object").
    Softmax,
}

/// The outputs and how to decode them. Which tensor names are needed depends on `family`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// `centernet`, `yolo`, `yolox`, `ssd` or `detr`.
    pub family: Family,
    /// centernet / yolo / yolox: the single output tensor.
    #[serde(default)]
    pub detections: String,
    /// ssd / detr: box tensor.
    #[serde(default)]
    pub boxes: String,
    /// ssd: score tensor.
    #[serde(default)]
    pub scores: String,
    /// ssd: class tensor.
    #[serde(default)]
    pub classes: String,
    /// ssd: number of valid rows (optional: all rows when empty).
    #[serde(default)]
    pub count: String,
    /// detr: class logits tensor.
    #[serde(default)]
    pub logits: String,
    /// Box coordinate order; the family's usual one when not given.
    #[serde(default)]
    pub box_format: Option<BoxFormat>,
    /// Box units; the family's usual ones when not given.
    #[serde(default)]
    pub box_units: Option<BoxUnits>,
    /// yolo: `[1, 4+C, N]` (true, YOLOv8/11) rather than `[1, N, 4+C]`.
    #[serde(default = "yes")]
    pub transposed: bool,
    /// yolo: rows carry an objectness score before the class scores (YOLOv5).
    #[serde(default)]
    pub objectness: bool,
    /// yolox: strides of the output grids, in order.
    #[serde(default = "default_strides")]
    pub strides: Vec<u32>,
    /// Score activation; the family's usual one when not given.
    #[serde(default)]
    pub activation: Option<Activation>,
    /// Added to class ids read from the model before comparing with `person_class` (SSD
    /// exports that count from 1 use -1).
    #[serde(default)]
    pub class_offset: i32,
    /// The class id that means "person".
    #[serde(default)]
    pub person_class: u32,
    /// Default score threshold (a camera may override it).
    #[serde(default = "default_threshold")]
    pub score_threshold: f32,
    /// IoU above which the lower-scored of two boxes is suppressed; 0 turns NMS off.
    #[serde(default = "default_nms")]
    pub nms_iou: f32,
    /// At most this many boxes are kept after NMS.
    #[serde(default = "default_max")]
    pub max_detections: usize,
}

fn yes() -> bool {
    true
}
fn default_strides() -> Vec<u32> {
    vec![8, 16, 32]
}
fn default_threshold() -> f32 {
    0.45
}
fn default_nms() -> f32 {
    0.5
}
fn default_max() -> usize {
    300
}

impl OutputSpec {
    /// Box format in effect.
    pub fn box_format(&self) -> BoxFormat {
        self.box_format.unwrap_or(match self.family {
            Family::Centernet => BoxFormat::Xyxy,
            Family::Yolo | Family::Yolox | Family::Detr => BoxFormat::Cxcywh,
            Family::Ssd => BoxFormat::Yxyx,
        })
    }

    /// Box units in effect.
    pub fn box_units(&self) -> BoxUnits {
        self.box_units.unwrap_or(match self.family {
            Family::Centernet | Family::Yolo | Family::Yolox => BoxUnits::Pixels,
            Family::Ssd | Family::Detr => BoxUnits::Normalized,
        })
    }

    /// Score activation in effect.
    pub fn activation(&self) -> Activation {
        self.activation.unwrap_or(match self.family {
            Family::Detr => Activation::Softmax,
            _ => Activation::None,
        })
    }

    /// The output tensor names this family reads, in decoding order.
    pub fn tensor_names(&self) -> Vec<&str> {
        match self.family {
            Family::Centernet | Family::Yolo | Family::Yolox => vec![self.detections.as_str()],
            Family::Ssd => {
                let mut v = vec![
                    self.boxes.as_str(),
                    self.scores.as_str(),
                    self.classes.as_str(),
                ];
                if !self.count.is_empty() {
                    v.push(self.count.as_str());
                }
                v
            }
            Family::Detr => vec![self.boxes.as_str(), self.logits.as_str()],
        }
    }
}

/// A manifest with the model file resolved to a path.
#[derive(Clone, Debug)]
pub struct LoadedManifest {
    /// The manifest.
    pub manifest: Manifest,
    /// Where the manifest was read from.
    pub manifest_path: PathBuf,
    /// Absolute or manifest-relative path of the ONNX file.
    pub model_path: PathBuf,
}

impl Manifest {
    /// Parses manifest text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Manifest, DetectError> {
        let m: Manifest = toml::from_str(text).map_err(|e| DetectError::Manifest {
            path: origin.into(),
            message: e.to_string().trim().to_string(),
        })?;
        m.validate().map_err(|message| DetectError::Manifest {
            path: origin.into(),
            message,
        })?;
        Ok(m)
    }

    /// Reads and checks a manifest file; the model path is resolved against its folder.
    pub fn load(path: &Path) -> Result<LoadedManifest, DetectError> {
        let text = std::fs::read_to_string(path).map_err(|e| DetectError::Manifest {
            path: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        let manifest = Self::from_toml_str(&text, &path.display().to_string())?;
        let file = Path::new(&manifest.file);
        let model_path = if file.is_absolute() {
            file.to_path_buf()
        } else {
            path.parent().unwrap_or(Path::new(".")).join(file)
        };
        Ok(LoadedManifest {
            manifest,
            manifest_path: path.to_path_buf(),
            model_path,
        })
    }

    /// Every inconsistency, one per line.
    pub fn validate(&self) -> Result<(), String> {
        let mut errs = Vec::new();
        if self.name.is_empty() {
            errs.push("name: missing".to_string());
        }
        if self.file.is_empty() {
            errs.push("file: missing".into());
        }
        if self.sha256.len() != 64 || !self.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            errs.push(format!("sha256: '{}' is not 64 hex digits", self.sha256));
        }
        let i = &self.input;
        if i.name.is_empty() {
            errs.push("input.name: missing".into());
        }
        if i.width == 0 || i.height == 0 {
            errs.push(format!(
                "input: size {}x{} must be positive",
                i.width, i.height
            ));
        }
        if i.std.iter().any(|s| *s == 0.0 || !s.is_finite()) {
            errs.push("input.std: must be non-zero".into());
        }
        if i.range[0] == i.range[1] {
            errs.push("input.range: the two ends must differ".into());
        }
        let o = &self.output;
        let need = |name: &str, field: &str, errs: &mut Vec<String>| {
            if name.is_empty() {
                errs.push(format!(
                    "output.{field}: missing (needed by family {:?})",
                    o.family
                ));
            }
        };
        match o.family {
            Family::Centernet | Family::Yolo | Family::Yolox => {
                need(&o.detections, "detections", &mut errs)
            }
            Family::Ssd => {
                need(&o.boxes, "boxes", &mut errs);
                need(&o.scores, "scores", &mut errs);
                need(&o.classes, "classes", &mut errs);
            }
            Family::Detr => {
                need(&o.boxes, "boxes", &mut errs);
                need(&o.logits, "logits", &mut errs);
            }
        }
        if o.family == Family::Yolox && (o.strides.is_empty() || o.strides.contains(&0)) {
            errs.push("output.strides: needs positive strides for yolox".into());
        }
        if !(0.0..=1.0).contains(&o.score_threshold) {
            errs.push(format!(
                "output.score_threshold: {} is outside [0, 1]",
                o.score_threshold
            ));
        }
        if !(0.0..=1.0).contains(&o.nms_iou) {
            errs.push(format!("output.nms_iou: {} is outside [0, 1]", o.nms_iou));
        }
        if o.max_detections == 0 {
            errs.push("output.max_detections: must be at least 1".into());
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("; "))
        }
    }
}

/// SHA-256 of a file, lower-case hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

impl LoadedManifest {
    /// Checks that the model file exists and has the manifest's checksum.
    pub fn verify_file(&self) -> Result<(), DetectError> {
        if !self.model_path.is_file() {
            return Err(DetectError::ModelMissing {
                path: self.model_path.clone(),
                manifest: self.manifest_path.clone(),
            });
        }
        let actual = sha256_file(&self.model_path).map_err(|e| DetectError::ModelMissing {
            path: self.model_path.clone(),
            manifest: PathBuf::from(format!("{} ({e})", self.manifest_path.display())),
        })?;
        if !actual.eq_ignore_ascii_case(&self.manifest.sha256) {
            return Err(DetectError::Checksum {
                path: self.model_path.clone(),
                expected: self.manifest.sha256.clone(),
                actual,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_manifest_is_valid() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/centernet_mb3_512.toml");
        let m = Manifest::load(&path).expect("load");
        assert_eq!(m.manifest.output.family, Family::Centernet);
        assert_eq!(m.manifest.input.layout, Layout::Nhwc);
        assert_eq!(m.manifest.input.range, [0.0, 255.0]);
        assert!(m.model_path.ends_with("centernet_mb3_512.onnx"));
        m.verify_file().expect("checksum of the committed model");
    }

    #[test]
    fn validation_names_every_problem() {
        let text = "name = \"\"\nfile = \"m.onnx\"\nsha256 = \"abc\"\n[input]\nname = \"in\"\nlayout = \"nchw\"\nwidth = 0\nheight = 64\n[output]\nfamily = \"ssd\"\nboxes = \"b\"\nscore_threshold = 1.5\n";
        let e = Manifest::from_toml_str(text, "bad.toml")
            .expect_err("invalid")
            .to_string();
        for part in [
            "bad.toml",
            "name: missing",
            "sha256: 'abc' is not 64 hex digits",
            "size 0x64",
            "output.scores: missing",
            "output.classes: missing",
            "score_threshold: 1.5",
        ] {
            assert!(e.contains(part), "{part:?} not in {e}");
        }
        let e = Manifest::from_toml_str(
            "name = \"x\"\nfile = \"m\"\nsha256 = \"0\"\ncolour = \"rgb\"\n",
            "t",
        )
        .expect_err("unknown key")
        .to_string();
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn missing_and_wrong_model_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let manifest = dir.path().join("m.toml");
        let text = format!(
            "name = \"m\"\nfile = \"m.onnx\"\nsha256 = \"{}\"\n[input]\nname = \"in\"\nlayout = \"nhwc\"\nwidth = 8\nheight = 8\n[output]\nfamily = \"centernet\"\ndetections = \"d\"\n",
            "ab".repeat(32)
        );
        std::fs::write(&manifest, text).expect("write");
        let m = Manifest::load(&manifest).expect("load");
        let e = m.verify_file().expect_err("missing").to_string();
        assert!(e.contains("m.onnx") && e.contains("does not exist"), "{e}");
        std::fs::write(dir.path().join("m.onnx"), b"not a model").expect("write");
        let e = m.verify_file().expect_err("checksum").to_string();
        assert!(e.contains("sha256") && e.contains(&"ab".repeat(32)), "{e}");
    }
}
