//! hallwatch-sim: a simulated one-stop hall (Bộ phận Một cửa) with ground truth, so that every
//! estimator of hallwatch can be measured against what really happened, and a newcomer gets a
//! living hall without a camera.
//!
//! - [`SimConfig`]: the hall's behaviour (arrivals by time of day, kinds of dossier, counters,
//!   citizens, officers, ratings, camera noise), defaults from a real district hall: about 110
//!   dossiers per working day, 7:30-11:30 and 13:30-17:00, Monday to Friday.
//! - [`Simulator`]: a run of working days as a discrete-event simulation, given out in time
//!   order by [`Simulator::advance_to`] as [`SimEvents`]: camera frames of person detections
//!   ([`SimFrame`]) for the real tracker and zones, ticket events ([`TicketEvent`]), ratings
//!   ([`RatingEvent`]), true queue samples ([`QueueSample`]) and each citizen's truth
//!   ([`CitizenTruth`]).
//! - [`hall_config`]: the hallwatch config (camera and zones) of the simulated hall.
//! - [`output`]: a run written to a folder (`truth.csv`, `tickets.csv`, `ratings.csv`,
//!   `queue_truth.csv`, MOTChallenge detections, `manifest.json`) and read back.
//! - [`eval`]: the real pipeline (tracker, zones, hall metrics, wait predictor) over a written
//!   run, with its errors against the truth.
//!
//! Randomness is seeded ([`rand_pcg::Pcg64`], exact crate versions): a seed gives the same
//! files byte for byte. Each day, each citizen's occlusions and each frame's detector noise
//! draw from their own stream, so a frame can be rendered on its own and stepping the
//! simulator finely or coarsely gives the same output.
#![deny(missing_docs)]

mod config;
mod des;
pub mod eval;
mod layout;
mod model;
pub mod output;
mod path;
mod render;
mod simulator;

pub use config::{
    ArrivalsConfig, CameraConfig, CitizenConfig, CounterConfig, NoiseConfig, RatingConfig,
    ServiceConfig, SimConfig, StaffConfig,
};
pub use layout::{HALL_TOML, hall_config};
pub use model::{
    CitizenTruth, Outcome, QueueSample, RatingEvent, RatingLevel, SimEvents, SimFrame,
    TicketEvent, TicketEventKind,
};
pub use simulator::Simulator;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A setting is wrong; the message names each field.
    #[error("invalid simulator config:\n{0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file of a run does not read as expected.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line (0 for the whole file).
        line: usize,
        /// What is wrong.
        message: String,
    },
}
