//! The store's error type.

use std::path::{Path, PathBuf};

/// Everything that can go wrong opening, writing or reading the store. Every variant that
/// concerns the database file names it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened or created at all (missing folder, permissions, a directory).
    #[error("cannot open event store {}: {source}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },

    /// The file is not an SQLite database, or SQLite's own checks found it damaged. The file is
    /// left exactly as it was: move it aside (keep it for recovery) and start a new store.
    #[error(
        "event store {} is corrupt: {detail}; the file was left untouched — move it aside \
         (and keep it for recovery) before starting with a new store",
        path.display()
    )]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What is wrong, as SQLite reported it (the first problems of an integrity check).
        detail: String,
    },

    /// A valid SQLite database that belongs to something else (another application id, or
    /// tables without a hallwatch schema version). Refused so that it is never written to.
    #[error("{} is an SQLite database but not a hallwatch event store: {detail}", path.display())]
    NotAStore {
        /// The database file.
        path: PathBuf,
        /// Why it was not recognised.
        detail: String,
    },

    /// The file was written by a newer hallwatch whose schema this build does not know.
    #[error(
        "event store {} has schema version {found}, but this build of hallwatch only knows \
         versions up to {supported}; upgrade hallwatch (the file was not modified)",
        path.display()
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// The file's schema version (`PRAGMA user_version`).
        found: i64,
        /// The newest version this build can migrate to.
        supported: i64,
    },

    /// A schema migration step failed; its transaction was rolled back, so the file stays at
    /// the previous version.
    #[error("event store {}: migration to schema version {version} failed: {source}", path.display())]
    Migration {
        /// The database file.
        path: PathBuf,
        /// The version the failed step would have produced.
        version: i64,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },

    /// The file cannot be run with the settings durability needs (WAL mode refused, e.g. on a
    /// network file system).
    #[error("event store {}: {detail}", path.display())]
    Unsupported {
        /// The database file.
        path: PathBuf,
        /// What was refused.
        detail: String,
    },

    /// An SQLite call failed during `op`.
    #[error("event store {}: {op}: {source}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What the store was doing.
        op: &'static str,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },

    /// A record cannot be stored as given (a time that is not a finite number, an id too
    /// large for SQLite's integers). Checked before it is queued, so nothing else is affected.
    #[error("invalid {what}: {detail}")]
    InvalidRecord {
        /// Which kind of record.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },

    /// The writer thread rejected one record inside a batch (the rest of the batch was
    /// committed).
    #[error("event store {}: record not stored: {detail}", path.display())]
    Rejected {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        detail: String,
    },

    /// A batch could not be committed after retries; none of its records were stored.
    #[error("event store {}: batch of {records} records not committed: {detail}", path.display())]
    Commit {
        /// The database file.
        path: PathBuf,
        /// Records in the failed batch.
        records: usize,
        /// What SQLite said.
        detail: String,
    },

    /// Fire-and-forget records ([`crate::StoreWriter::send`]) that failed to commit since the
    /// last flush. Reported by the next [`crate::StoreWriter::flush`] or
    /// [`crate::WriterHandle::close`].
    #[error("event store {}: {count} records sent without waiting were not stored; last error: {last_error}", path.display())]
    RecordsLost {
        /// The database file.
        path: PathBuf,
        /// How many.
        count: u64,
        /// The last failure.
        last_error: String,
    },

    /// The database refuses writes (full disk, I/O error): records sent without waiting are
    /// kept in memory and retried. Reported by [`crate::StoreWriter::flush`] meanwhile.
    #[error("event store {}: {count} records wait in memory because the database refuses writes; last error: {last_error}", path.display())]
    WritesPending {
        /// The database file.
        path: PathBuf,
        /// How many wait.
        count: u64,
        /// What the database said.
        last_error: String,
    },

    /// A stored row could not be turned back into its Rust type.
    #[error("event store {}: table {table}, row {row}: {detail}", path.display())]
    Decode {
        /// The database file.
        path: PathBuf,
        /// The table.
        table: &'static str,
        /// The row's `id`.
        row: i64,
        /// What is wrong.
        detail: String,
    },

    /// The writer was closed (or its thread ended); nothing more can be sent.
    #[error("event store writer is closed")]
    WriterClosed,

    /// The writer thread could not be started.
    #[error("cannot start the event store writer thread: {0}")]
    Spawn(#[source] std::io::Error),

    /// The writer thread panicked (a bug); records queued at that moment may not be stored.
    #[error("event store writer thread panicked")]
    WriterPanicked,

    /// A file system call around the database failed (syncing the folder of a new file).
    #[error("event store {}: {op}: {source}", path.display())]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// What the store was doing.
        op: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Maps an SQLite error to [`StoreError`], turning "not a database" and "malformed" into
/// [`StoreError::Corrupt`] whatever the operation.
pub(crate) fn sql_err(path: &Path, op: &'static str, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("not an SQLite database ({e})"),
        },
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("{op}: {e}"),
        },
        _ => StoreError::Sqlite {
            path: path.to_path_buf(),
            op,
            source: e,
        },
    }
}
