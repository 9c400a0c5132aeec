//! hallwatch-service: what the ticket machine knows and what citizens say, brought in beside
//! what the cameras see.
//!
//! - [`Intake`] validates ticket events ([`TicketEventInput`]), ratings ([`RatingInput`] from a
//!   kiosk or rating device, [`RatingSource`]) and dossiers with one set of rules for the API
//!   and the file imports; a refusal is an [`Invalid`] naming every bad field. Device scores
//!   (1-5 stars) map to the three levels with `[service].rating_scales`.
//! - [`import_tickets`] / [`import_dossiers`] read CSV or XLSX exports with the column mapping
//!   of `[service.tickets]` / `[service.dossiers]`: bad rows come back as [`RowError`]s with
//!   their line numbers while good rows are stored; rows are upserts, so re-importing a file
//!   changes nothing ([`ImportReport`]).
//! - [`RateLimiter`]: token buckets per kiosk token for the rating API.
//! - [`fusion`]: ticket-measured waits beside camera-measured waits ([`WaitComparison`]).
//! - [`DurationStats`]: count, mean, p50, p90, max, share within target, as the analytics crate
//!   computes them.
//!
//! Times are Unix seconds; "now" is always passed in.
#![deny(missing_docs)]

mod error;
pub mod fusion;
mod import;
mod intake;
mod ratelimit;
mod stats;
mod table;
pub mod times;

pub use error::{FieldError, Invalid, ServiceError};
pub use fusion::WaitComparison;
pub use import::{ImportReport, RowError, import_dossiers, import_tickets};
pub use intake::{Intake, MAX_COUNTER, MAX_FUTURE_S, RatingInput, RatingSource, TicketEventInput};
pub use ratelimit::RateLimiter;
pub use stats::{DurationStats, quantile_sorted};
pub use times::TimeInput;
