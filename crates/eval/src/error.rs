use std::path::PathBuf;

/// Everything that can go wrong while loading evaluation input.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A MOTChallenge file could not be read.
    #[error("cannot read MOTChallenge file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A row of a MOTChallenge file is malformed.
    #[error("{file}:{line}: {message}")]
    Parse {
        /// The file (or the name given to [`parse_mot`](crate::parse_mot)).
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the row.
        message: String,
    },
}
