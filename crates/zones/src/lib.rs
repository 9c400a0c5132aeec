//! hallwatch-zones: the hall model. Tracks from each camera's tracker become zone visits and
//! live figures, all in stream time (never the processing clock), so every rule is tested by
//! advancing time by hand.
//!
//! - [`ZoneEngine`] (one per camera): places each person by an anchor point of their box in
//!   the camera's zones (`waiting`, `counter` with an optional `staff` area, `entrance` lines,
//!   `ignore`); counts the people inside now with spatial hysteresis at the edge (no time lag);
//!   opens and closes [`Session`]s (one per zone visit) dated by the edge crossings,
//!   bridges ID switches and short occlusions (longer for someone who vanished sitting still),
//!   reports entrance crossings and abandonment ([`ZoneEvent`]; a waiting person who vanished
//!   is counted 30 s later unless someone never seen waiting reached a counter meanwhile: an
//!   ID switch on the way), and closes what is open as truncated at shutdown.
//! - [`HallMetrics`]: across cameras, smoothed queue lengths (Số người đang chờ), counter
//!   states and service times (Quầy, Thời gian phục vụ, Lượt phục vụ), waits (Thời gian chờ),
//!   arrivals per hour and abandonment, as a [`HallSnapshot`].
//! - [`geometry`]: polygons and directed lines in normalised image coordinates.
//!
//! Limits: people are followed per camera only; a person who waits on one camera and is served
//! on another counts as served only if the cameras' zones share the same tracks (they do not),
//! so abandonment is meaningful where waiting and counters are on one camera.
//!
//! How accurate this is on real footage and on the simulator, and how to measure it:
//! `crates/zones/ACCURACY.md`.
#![deny(missing_docs)]

mod engine;
pub mod geometry;
mod hall;

pub use engine::{ACTIVE_MARGIN_H, ACTIVE_SPEED_H, Session, ZoneCount, ZoneEngine, ZoneEvent};
pub use hall::{CounterFigure, CounterState, HallMetrics, HallSnapshot, ZoneFigure};
