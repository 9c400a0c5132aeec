use std::path::PathBuf;

/// What can go wrong loading or running a detector. Each message says what is wrong and, where
/// there is one, the fix.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// The manifest is unreadable or inconsistent.
    #[error("model manifest {path}: {message}")]
    Manifest {
        /// The manifest file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The manifest names a model file that is not there.
    #[error("model file {path} (named by {manifest}) does not exist")]
    ModelMissing {
        /// The model path.
        path: PathBuf,
        /// The manifest that names it.
        manifest: PathBuf,
    },
    /// The model file is not the one the manifest describes.
    #[error(
        "model file {path} has sha256 {actual}, the manifest expects {expected}: wrong or corrupted file"
    )]
    Checksum {
        /// The model path.
        path: PathBuf,
        /// From the manifest.
        expected: String,
        /// Of the file.
        actual: String,
    },
    /// The ONNX Runtime shared library could not be found or loaded.
    #[error("ONNX Runtime library not found or not loadable. Looked in: {looked}. {hint}")]
    RuntimeMissing {
        /// Every place tried, in order.
        looked: String,
        /// How to install it.
        hint: String,
    },
    /// The model's input does not match its manifest.
    #[error("model input '{tensor}' does not match the manifest: {message}")]
    InputMismatch {
        /// Input name.
        tensor: String,
        /// What differs.
        message: String,
    },
    /// The model's outputs do not match their manifest.
    #[error("model output '{tensor}' does not match the manifest: {message}")]
    OutputMismatch {
        /// Output name.
        tensor: String,
        /// What differs.
        message: String,
    },
    /// ONNX Runtime reported an error.
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    /// An OpenCV image operation failed.
    #[error("image processing: {0}")]
    Image(String),
}

impl From<ort::Error> for DetectError {
    fn from(e: ort::Error) -> Self {
        DetectError::Runtime(e.to_string())
    }
}

impl From<opencv::Error> for DetectError {
    fn from(e: opencv::Error) -> Self {
        DetectError::Image(e.to_string())
    }
}
