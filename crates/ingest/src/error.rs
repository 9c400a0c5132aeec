use std::path::PathBuf;

/// Why a camera's pipeline could not start or stopped delivering frames.
///
/// Every message is free of credentials: URLs have their userinfo replaced and the configured
/// user name and password are masked before an error is built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    /// A file source names a file that does not exist or cannot be read.
    #[error("file not found or unreadable: {path}")]
    FileNotFound {
        /// The configured path.
        path: PathBuf,
    },
    /// The pipeline template could not be turned into a pipeline.
    #[error("pipeline template '{template}' is invalid: {message}")]
    Template {
        /// Template file name under `pipelines/`.
        template: &'static str,
        /// GStreamer's parse error.
        message: String,
    },
    /// A GStreamer element the pipeline needs is not installed.
    #[error(
        "GStreamer element '{element}' is missing: install the GStreamer plugins named in the README"
    )]
    MissingElement {
        /// Factory name.
        element: String,
    },
    /// The pipeline refused to go to PLAYING.
    #[error("could not start the pipeline: {message}")]
    Start {
        /// What GStreamer said.
        message: String,
    },
    /// An element posted an error on the bus (unreachable camera, wrong credentials, decode
    /// error, unsupported format, ...).
    #[error("{element}: {message}")]
    Stream {
        /// The element that failed, e.g. `src` or `avdec_h264-0`.
        element: String,
        /// GStreamer's message, credentials removed, with its debug detail when short.
        message: String,
    },
    /// No frame arrived within the timeout.
    #[error("no frame for {seconds:.1} s")]
    NoFrames {
        /// The timeout that ran out.
        seconds: f64,
    },
    /// A live source ended its stream.
    #[error("live source ended the stream")]
    EndOfStream,
}

impl IngestError {
    /// True when retrying cannot help for this source: a file's bytes do not change between
    /// attempts. Live sources are always retried.
    pub fn is_permanent_for_file(&self) -> bool {
        !matches!(self, IngestError::NoFrames { .. })
    }
}
