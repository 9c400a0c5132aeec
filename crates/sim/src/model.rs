//! What the simulator gives out: ground truth per citizen, ticket events, ratings, true queue
//! samples and camera frames of detections. Times are Unix seconds (`f64`).

use hallwatch_core::{CameraId, Detection};
use serde::{Deserialize, Serialize};

/// How a citizen's visit ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Called and served at a counter.
    Served,
    /// Left before being called for reasons of their own (an errand, wrong papers).
    NoShow,
    /// Gave up waiting (patience ran out) and left before being called.
    Abandoned,
}

impl Outcome {
    /// The name as written in `truth.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Served => "served",
            Outcome::NoShow => "no_show",
            Outcome::Abandoned => "abandoned",
        }
    }
}

/// One citizen's visit as it really happened (`truth.csv`, one row each).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CitizenTruth {
    /// Unique over the run: `day_index * 100000 + n`, n from 1 in order of arrival.
    pub id: u64,
    /// Local date `YYYY-MM-DD`.
    pub date: String,
    /// Service id.
    pub service: String,
    /// Ticket number, e.g. `A007`.
    pub ticket: String,
    /// Came to the door (in view of the camera; through the door a few seconds later).
    pub arrival: f64,
    /// Ticket printed at the kiosk: the wait starts.
    pub ticket_at: f64,
    /// Sat down (or stood) in the waiting area; `None` when called before getting there.
    pub seated_at: Option<f64>,
    /// Their ticket was called (also for those who had already left).
    pub called_at: Option<f64>,
    /// Reached the counter and service began (served only).
    pub service_start: Option<f64>,
    /// Service ended (served only).
    pub service_end: Option<f64>,
    /// The counter that called the ticket.
    pub counter: Option<u32>,
    /// Left their place without being served (no-shows and abandonment).
    pub gave_up_at: Option<f64>,
    /// Crossed the door outwards.
    pub left_at: f64,
    /// How it ended.
    pub outcome: Outcome,
    /// The rating they gave, if any.
    pub rating: Option<RatingLevel>,
}

impl CitizenTruth {
    /// When they stopped waiting: called (served) or gave up.
    pub fn wait_end(&self) -> f64 {
        match self.outcome {
            Outcome::Served => self.called_at.unwrap_or(self.ticket_at),
            _ => self.gave_up_at.unwrap_or(self.ticket_at),
        }
    }

    /// Seconds from the ticket to the end of the wait (Thời gian chờ as the ticket system would
    /// measure it for the served; time spent waiting before leaving for the others).
    pub fn waited_s(&self) -> f64 {
        (self.wait_end() - self.ticket_at).max(0.0)
    }
}

/// What happened to a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketEventKind {
    /// Printed at the kiosk.
    Issued,
    /// Called to a counter.
    Called,
    /// Service finished.
    Finished,
    /// Called, but nobody came: the counter moved on.
    NoShow,
}

impl TicketEventKind {
    /// The name as written in `tickets.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketEventKind::Issued => "issued",
            TicketEventKind::Called => "called",
            TicketEventKind::Finished => "finished",
            TicketEventKind::NoShow => "no_show",
        }
    }
}

/// One event of the ticket system (`tickets.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TicketEvent {
    /// Ticket number, e.g. `A007` (numbers restart every day).
    pub number: String,
    /// Service id.
    pub service: String,
    /// What happened.
    pub event: TicketEventKind,
    /// The counter; `None` for `issued`.
    pub counter: Option<u32>,
    /// When.
    pub t: f64,
}

/// A rating level on the counter's device (Mức độ hài lòng).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingLevel {
    /// Rất hài lòng.
    VerySatisfied,
    /// Hài lòng.
    Satisfied,
    /// Không hài lòng.
    Dissatisfied,
}

impl RatingLevel {
    /// The name as written in `ratings.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            RatingLevel::VerySatisfied => "very_satisfied",
            RatingLevel::Satisfied => "satisfied",
            RatingLevel::Dissatisfied => "dissatisfied",
        }
    }
}

/// One rating (`ratings.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RatingEvent {
    /// When the button was pressed.
    pub t: f64,
    /// The counter.
    pub counter: u32,
    /// The ticket served.
    pub ticket: String,
    /// The level.
    pub level: RatingLevel,
}

/// The true queue at one instant (`queue_truth.csv`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueSample {
    /// When.
    pub t: f64,
    /// Citizens in the hall holding a ticket not yet called: Số người đang chờ as it really is.
    pub waiting: u32,
    /// Tickets issued and not yet called, including those of people who already left: what the
    /// ticket system would show.
    pub pending_tickets: u32,
    /// Citizens being served at a counter.
    pub serving: u32,
}

/// One analysed frame of a virtual camera: what a person detector would report.
#[derive(Clone, Debug, PartialEq)]
pub struct SimFrame {
    /// The camera.
    pub camera: CameraId,
    /// Frame number, from 1, increasing over the whole run (MOTChallenge `frame`).
    pub index: u64,
    /// Stream time, Unix seconds.
    pub t: f64,
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Person detections (class 0) with the noise model applied.
    pub detections: Vec<Detection>,
}

/// Everything that happened in a stretch of simulated time, each list in time order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SimEvents {
    /// Camera frames.
    pub frames: Vec<SimFrame>,
    /// Ticket system events.
    pub tickets: Vec<TicketEvent>,
    /// Ratings.
    pub ratings: Vec<RatingEvent>,
    /// True queue samples (every `queue_sample_s`).
    pub queue: Vec<QueueSample>,
    /// Citizens whose visit ended (they walked out), in the order they left.
    pub citizens: Vec<CitizenTruth>,
}

impl SimEvents {
    /// True when nothing happened.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
            && self.tickets.is_empty()
            && self.ratings.is_empty()
            && self.queue.is_empty()
            && self.citizens.is_empty()
    }
}
