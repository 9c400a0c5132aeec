//! The ONNX Runtime detector: one session, its manifest, and the steps around inference.

use crate::decode::{OutTensor, decode};
use crate::manifest::{DType, Layout, LoadedManifest, Manifest};
use crate::preprocess::{Preprocessor, Region};
use crate::roi::merge_regions;
use crate::{DetectError, runtime};
use hallwatch_core::{Detection, Frame};
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::{TensorElementType, TensorRef, ValueType};
use std::path::Path;
use std::time::Instant;

/// How a detector runs.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct DetectorOptions {
    /// ONNX Runtime intra-op threads (0 = ONNX Runtime's default: one per core).
    pub intra_threads: usize,
    /// Let the intra-op threads spin between runs: quicker back-to-back inference (a file
    /// processed as fast as it goes), but a live camera's idle gaps between frames would burn
    /// CPU (one 5 fps camera: 74 % of a core with spinning, 50 % without).
    pub spin: bool,
}

/// Time spent in each step of one detection, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    /// Resize and tensor layout.
    pub pre_ms: f64,
    /// ONNX Runtime `run`.
    pub infer_ms: f64,
    /// Output copy, decoding, NMS and mapping back.
    pub post_ms: f64,
}

impl std::ops::AddAssign for Timings {
    fn add_assign(&mut self, o: Timings) {
        self.pre_ms += o.pre_ms;
        self.infer_ms += o.infer_ms;
        self.post_ms += o.post_ms;
    }
}

/// A person detector backed by an ONNX Runtime session. Not shared: each worker thread owns one.
pub struct OrtDetector {
    session: Session,
    manifest: Manifest,
    pre: Preprocessor,
    outputs: Vec<String>,
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

impl OrtDetector {
    /// Loads the manifest at `path`, checks the model file and builds a session.
    pub fn load(path: &Path, opts: &DetectorOptions) -> Result<Self, DetectError> {
        Self::from_manifest(&crate::manifest::Manifest::load(path)?, opts)
    }

    /// Builds a session for a loaded manifest: checks the file's checksum, that ONNX Runtime
    /// loads, and that the model's tensors are the ones the manifest describes.
    pub fn from_manifest(
        loaded: &LoadedManifest,
        opts: &DetectorOptions,
    ) -> Result<Self, DetectError> {
        loaded.verify_file()?;
        let (env, _) = runtime::environment()?;
        // Full graph optimisation and one inter-op thread, as onnxruntime's Python defaults;
        // the intra-op pool does the parallel work.
        let mut builder = Session::builder(env)?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| DetectError::Runtime(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| DetectError::Runtime(e.to_string()))?
            .with_intra_op_spinning(opts.spin)
            .map_err(|e| DetectError::Runtime(e.to_string()))?;
        if opts.intra_threads > 0 {
            builder = builder
                .with_intra_threads(opts.intra_threads)
                .map_err(|e| DetectError::Runtime(e.to_string()))?;
        }
        let session = builder
            .commit_from_file(&loaded.model_path)
            .map_err(|e| DetectError::Runtime(format!("{}: {e}", loaded.model_path.display())))?;
        let manifest = loaded.manifest.clone();
        check_tensors(&session, &manifest)?;
        let outputs = manifest
            .output
            .tensor_names()
            .into_iter()
            .map(String::from)
            .collect();
        Ok(Self {
            pre: Preprocessor::new(&manifest.input),
            session,
            manifest,
            outputs,
        })
    }

    /// The manifest in use.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The regions a `w x h` frame of a camera with these settings is detected in: its
    /// configured regions of interest, else with `tiles = "auto"` overlapping tiles at the
    /// model's scale ([`auto_tiles`](crate::preprocess::auto_tiles)), else none (the whole
    /// frame in one inference).
    pub fn regions(
        &self,
        cfg: &hallwatch_config::CameraDetectConfig,
        w: u32,
        h: u32,
    ) -> Vec<Region> {
        if !cfg.regions.is_empty() {
            return cfg
                .regions
                .iter()
                .map(|r| Region::from_normalised(*r, w, h))
                .collect();
        }
        let (in_w, in_h) = (self.manifest.input.width, self.manifest.input.height);
        // roi = "zones": only the part of the frame around the zones, tiled at the model's
        // scale when it is still too large for one inference.
        if cfg.roi == hallwatch_config::Roi::Zones
            && let Some(r) = cfg.zone_roi
        {
            let roi = Region::from_normalised(r, w, h);
            return match cfg.tiles {
                hallwatch_config::Tiles::Auto => {
                    let tiles = crate::preprocess::auto_tiles(roi.w, roi.h, in_w, in_h);
                    if tiles.is_empty() {
                        vec![roi]
                    } else {
                        tiles
                            .into_iter()
                            .map(|t| Region {
                                x: t.x + roi.x,
                                y: t.y + roi.y,
                                ..t
                            })
                            .collect()
                    }
                }
                hallwatch_config::Tiles::Off => vec![roi],
            };
        }
        match cfg.tiles {
            hallwatch_config::Tiles::Auto => crate::preprocess::auto_tiles(w, h, in_w, in_h),
            hallwatch_config::Tiles::Off => Vec::new(),
        }
    }

    /// The manifest's score threshold, or `threshold` when it is positive.
    pub fn threshold(&self, threshold: f32) -> f32 {
        if threshold > 0.0 {
            threshold
        } else {
            self.manifest.output.score_threshold
        }
    }

    /// Detects people in one region of the frame; boxes in frame pixels.
    pub fn detect_region(
        &mut self,
        frame: &Frame,
        region: Region,
        threshold: f32,
    ) -> Result<(Vec<Detection>, Timings), DetectError> {
        let threshold = self.threshold(threshold);
        let t0 = Instant::now();
        let prepared = self.pre.prepare(frame, region)?;
        let pre_ms = ms(t0);
        let t1 = Instant::now();
        let name = self.manifest.input.name.as_str();
        let outputs = match self.manifest.input.dtype {
            DType::F32 => {
                let input = TensorRef::from_array_view((prepared.shape, prepared.f32.as_slice()))?;
                self.session.run(ort::inputs![name => input])?
            }
            DType::U8 => {
                let input = TensorRef::from_array_view((prepared.shape, prepared.u8.as_slice()))?;
                self.session.run(ort::inputs![name => input])?
            }
        };
        let infer_ms = ms(t1);
        let t2 = Instant::now();
        let mut tensors = Vec::with_capacity(self.outputs.len());
        for n in &self.outputs {
            let v = outputs
                .get(n.as_str())
                .ok_or_else(|| DetectError::OutputMismatch {
                    tensor: n.clone(),
                    message: "missing from the run's outputs".into(),
                })?;
            tensors.push(to_f32(n, v)?);
        }
        drop(outputs);
        let (iw, ih) = (self.manifest.input.width, self.manifest.input.height);
        let dets = decode(&self.manifest.output, &tensors, iw, ih, threshold)?
            .into_iter()
            .map(|d| Detection {
                bbox: prepared.mapping.to_frame(&d.bbox),
                ..d
            })
            .filter(|d| d.bbox.area() > 0.0)
            .collect();
        let post_ms = ms(t2);
        Ok((
            dets,
            Timings {
                pre_ms,
                infer_ms,
                post_ms,
            },
        ))
    }

    /// Detects people in the frame, or in each of `regions` (merging boxes cut by the seams
    /// between regions); boxes in frame pixels.
    pub fn detect(
        &mut self,
        frame: &Frame,
        regions: &[Region],
        threshold: f32,
    ) -> Result<(Vec<Detection>, Timings), DetectError> {
        if regions.is_empty() {
            return self.detect_region(frame, Region::full(frame), threshold);
        }
        let mut total = Timings::default();
        let mut per_region = Vec::with_capacity(regions.len());
        for r in regions {
            let (d, t) = self.detect_region(frame, *r, threshold)?;
            total += t;
            per_region.push((*r, d));
        }
        let t = Instant::now();
        let merged = merge_regions(
            per_region,
            frame.width,
            frame.height,
            self.manifest.output.nms_iou.max(0.5),
        );
        total.post_ms += ms(t);
        Ok((merged, total))
    }
}

fn to_f32(name: &str, v: &ort::value::DynValue) -> Result<OutTensor, DetectError> {
    let bad = |m: String| DetectError::OutputMismatch {
        tensor: name.to_string(),
        message: m,
    };
    let (shape, data): (Vec<usize>, Vec<f32>) = if let Ok((s, d)) = v.try_extract_tensor::<f32>() {
        (s.iter().map(|&x| x.max(0) as usize).collect(), d.to_vec())
    } else if let Ok((s, d)) = v.try_extract_tensor::<i64>() {
        (
            s.iter().map(|&x| x.max(0) as usize).collect(),
            d.iter().map(|&x| x as f32).collect(),
        )
    } else if let Ok((s, d)) = v.try_extract_tensor::<i32>() {
        (
            s.iter().map(|&x| x.max(0) as usize).collect(),
            d.iter().map(|&x| x as f32).collect(),
        )
    } else {
        return Err(bad(format!("unsupported element type {:?}", v.dtype())));
    };
    Ok(OutTensor {
        name: name.to_string(),
        shape,
        data,
    })
}

fn check_tensors(session: &Session, m: &Manifest) -> Result<(), DetectError> {
    let i = &m.input;
    let inputs: Vec<&str> = session.inputs().iter().map(|o| o.name()).collect();
    let Some(input) = session.inputs().iter().find(|o| o.name() == i.name) else {
        return Err(DetectError::InputMismatch {
            tensor: i.name.clone(),
            message: format!(
                "the model has no such input (it has: {})",
                inputs.join(", ")
            ),
        });
    };
    if let ValueType::Tensor { ty, shape, .. } = input.dtype() {
        let want = match i.dtype {
            DType::F32 => TensorElementType::Float32,
            DType::U8 => TensorElementType::Uint8,
        };
        if *ty != want {
            return Err(DetectError::InputMismatch {
                tensor: i.name.clone(),
                message: format!("element type is {ty:?}, the manifest says {:?}", i.dtype),
            });
        }
        let expected: [i64; 4] = match i.layout {
            Layout::Nhwc => [1, i.height as i64, i.width as i64, 3],
            Layout::Nchw => [1, 3, i.height as i64, i.width as i64],
        };
        let dims: &[i64] = shape;
        let fits = dims.len() == 4 && dims.iter().zip(expected).all(|(&d, e)| d < 0 || d == e);
        if !fits {
            return Err(DetectError::InputMismatch {
                tensor: i.name.clone(),
                message: format!(
                    "shape is {dims:?}, the manifest ({:?}, {}x{}) needs {expected:?}",
                    i.layout, i.width, i.height
                ),
            });
        }
    }
    let outputs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
    for name in m.output.tensor_names() {
        if !outputs.contains(&name) {
            return Err(DetectError::OutputMismatch {
                tensor: name.to_string(),
                message: format!(
                    "the model has no such output (it has: {})",
                    outputs.join(", ")
                ),
            });
        }
    }
    Ok(())
}
