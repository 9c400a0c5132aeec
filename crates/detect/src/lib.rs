//! hallwatch-detect: finding people in analysis frames with ONNX Runtime.
//!
//! - [`Manifest`] (`models/*.toml`): the model file and its checksum, the input tensor (name,
//!   layout, size, type, colour order, value range, resize mode) and how to decode the outputs
//!   ([`manifest::Family`]: CenterNet-style final detections, YOLO raw heads, YOLOX, SSD with
//!   NMS inside, DETR-style). Replacing the model is a config change.
//! - [`OrtDetector`]: one ONNX Runtime session (`ort`, `load-dynamic`; the library is found by
//!   [`runtime`]) with pre-processing (OpenCV resize, stretch or letterbox), decoding and NMS
//!   ([`decode`]), optional region-of-interest crops merged across seams ([`roi`]).
//! - [`render::Canvas`]: privacy pixelation of people, zone and grid overlays, PNG.
//! - [`MotionGate`]: skips inference on still frames, with a periodic full pass.
//! - [`DetectorPool`]: worker threads that own the sessions and are fed by all cameras'
//!   bounded frame channels, producing [`Detected`] frames.
#![deny(missing_docs)]

pub mod decode;
mod detector;
mod error;
mod gate;
pub mod manifest;
mod pool;
pub mod preprocess;
pub mod render;
pub mod roi;
pub mod runtime;

pub use detector::{DetectorOptions, OrtDetector, Timings};
pub use error::DetectError;
pub use gate::{GateDecision, MotionGate};
pub use manifest::{LoadedManifest, Manifest};
pub use pool::{CameraInput, Detected, DetectorPool, PoolOptions, PoolStats};
