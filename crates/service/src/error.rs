//! Error types: a rejected input names each bad field; an import names the file and, per bad
//! row, its line.

use std::fmt;
use std::path::PathBuf;

/// One bad field of an input.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field (`number`, `counter`, `t`, ...), or the column name for an imported row.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// An input (ticket event, rating, dossier row) that cannot be accepted, with every reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{}", .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct Invalid {
    /// Each bad field (never empty).
    pub errors: Vec<FieldError>,
}

impl Invalid {
    pub(crate) fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            errors: vec![FieldError {
                field: field.into(),
                message: message.into(),
            }],
        }
    }
}

/// Collects field errors while an input is checked.
#[derive(Default)]
pub(crate) struct Errors(Vec<FieldError>);

impl Errors {
    pub(crate) fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub(crate) fn extend(&mut self, e: Invalid) {
        self.0.extend(e.errors);
    }

    pub(crate) fn finish<T>(self, value: T) -> Result<T, Invalid> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(Invalid { errors: self.0 })
        }
    }
}

/// What stops a whole import or a service call.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The site's time zone is not an IANA name.
    #[error("site.timezone '{0}' is not an IANA time zone such as Asia/Ho_Chi_Minh")]
    TimeZone(String),
    /// The file could not be read.
    #[error("{}: {detail}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong (I/O, CSV or spreadsheet error).
        detail: String,
    },
    /// The file lacks columns the mapping in `[service]` requires.
    #[error(
        "{}: missing column(s) {} (the file has: {}); set the column names under [service.{section}]",
        path.display(),
        missing.join(", "),
        found.join(", ")
    )]
    MissingColumns {
        /// The file.
        path: PathBuf,
        /// `tickets` or `dossiers`.
        section: &'static str,
        /// Column names configured but not found.
        missing: Vec<String>,
        /// The file's header.
        found: Vec<String>,
    },
    /// The input was refused.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The event store failed.
    #[error(transparent)]
    Store(#[from] hallwatch_store::StoreError),
}
