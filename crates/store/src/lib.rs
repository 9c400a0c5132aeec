//! hallwatch-store: the durable event store, the source of truth for a hall's history.
//!
//! One SQLite file (bundled SQLite, WAL mode) holds zone visits, periodic zone figures and
//! camera outages, with a `site` column in every table so one file can hold several halls.
//! All times are REAL seconds on the stream's clock: Unix seconds for live cameras.
//!
//! - [`Store`]: opens the file ([`Store::open`]) — refusing, without touching it, a file that
//!   is not SQLite, is corrupt, belongs to another application or has a newer schema — and
//!   applies the versioned migrations; synchronous writes ([`Store::insert`]); reads for the
//!   web and report layers ([`Store::sessions`], [`Store::zone_samples`], [`Store::downtime`],
//!   counts); retention ([`Store::apply_retention`]).
//! - [`Store::writer`] moves the store onto a dedicated thread: producers hold a cloneable
//!   [`StoreWriter`] and [`StoreWriter::send`] (fire-and-forget) or
//!   [`StoreWriter::send_and_wait`] (returns after COMMIT) [`Record`]s; the thread commits
//!   whatever is queued in one transaction. The [`WriterHandle`] closes it, committing
//!   everything queued.
//! - [`Record`] ([`hallwatch_zones::Session`], [`ZoneSample`], [`DowntimeInterval`]) is what is
//!   written; [`SessionQuery`] selects sessions to read.
//!
//! # Durability
//!
//! The file is in WAL mode with `synchronous=FULL`: every COMMIT fsyncs the write-ahead log
//! before it returns. A write acknowledged by [`Store::insert`], [`StoreWriter::send_and_wait`]
//! or [`StoreWriter::flush`] therefore survives the process being killed (kill -9, tested) and
//! power loss (provided the disk honours flushes — no volatile write cache that lies). A crash
//! loses at most the records queued but not yet acknowledged. The folder of a newly created
//! file is fsynced too. Every record is an upsert on its natural key, so re-sending after an
//! uncertain failure never duplicates.
//!
//! # Schema
//!
//! Versioned by `PRAGMA user_version` and an ordered list of migration steps, each applied in
//! its own transaction; see the SQL in `schema.rs`. Tables: `sessions`, `zone_samples`,
//! `camera_health`, `abandonments`, and the service tables (`tickets`, `ratings`, `dossiers`,
//! `alerts`, `alert_deliveries`, `users`, `api_tokens`) whose APIs live in their own modules,
//! and the uplink outbox (`outbox`, `outbox_meta`: [`OutboxEvent`], [`Store::outbox_after`]).
#![deny(missing_docs)]

mod alerts;
mod auth;
mod error;
mod outbox;
mod records;
mod schema;
mod service;
mod store;
mod writer;

#[cfg(test)]
mod tests;

pub use alerts::{
    AckOutcome, AlertQuery, AlertRecord, AlertState, AlertStateFilter, AlertSummary,
    ChannelDeliveryCounts, DeliveryAttempt, DeliveryEvent, DeliveryQuery, DeliveryRecord,
    DeliveryState, KindSeverityCount, NewAlert, NewDelivery,
};
pub use auth::{
    AUDIT_LOG_MAX, ApiToken, AuditEntry, IssuedToken, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, NewToken,
    NewUser, Role, TOKEN_PREFIX, TokenScope, User, hash_password, sha256_hex,
};
pub use error::StoreError;
pub use outbox::{FACT_KINDS, OutboxEvent, OutboxStatus};
pub use records::{
    Abandonment, Counts, DowntimeInterval, Record, Retention, RetentionReport, SessionQuery,
    ZoneSample, unix_seconds,
};
pub use service::{
    Channel, Dossier, Rating, RatingLevel, Ticket, TicketEvent, TicketEventKind, Upsert,
};
pub use store::{BUSY_TIMEOUT, Store};
pub use writer::{StoreWriter, WriterHandle, WriterOptions, WriterStats};
