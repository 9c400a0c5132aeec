//! hallwatch-alerts: alerts on the live hall — a long queue while it can still be fixed, a
//! counter left unattended while people wait, a camera down, satisfaction falling — timely,
//! calm (no flicker) and traceable.
//!
//! - [`AlertEngine`] (module [`engine`]): the `[alerts]` rules applied to successive
//!   [`Observation`]s of the [`hallwatch_core::live::HallState`] with an injected clock;
//!   trigger after `for_s`, hysteresis, cooldown, re-notify, working hours. Returns
//!   [`AlertEvent`]s.
//! - [`Notifier`] (module [`notifier`]): async (tokio); stores each alert and each
//!   notification in the event store ([`hallwatch_store::Store::insert_alert`] and friends)
//!   and delivers through every configured channel independently with retries and
//!   exponential backoff.
//! - Channels (module [`channels`]): webhook (signed JSON POST), e-mail (SMTP via lettre),
//!   MQTT (rumqttc; a topic per zone or camera and a retained state topic) and log.
//! - Messages (module [`message`]): Vietnamese by default, English on request: what, where,
//!   since when, the value now, a dashboard link.
//!
//! Wiring, in the binary:
//!
//! ```no_run
//! # async fn wire(config: hallwatch_config::Config, db: std::path::PathBuf,
//! #     hall: hallwatch_core::live::HallState) -> Result<(), hallwatch_alerts::AlertsError> {
//! use hallwatch_alerts::{AlertEngine, Notifier, Observation};
//! let mut engine = AlertEngine::from_config(&config)?;
//! let store = hallwatch_store::Store::open(&db)?; // its own connection
//! let notifier = Notifier::from_config(&config, store)?.spawn()?;
//! let sender = notifier.sender(); // clone into the thread that publishes HallState
//! // whenever a new HallState is published:
//! let events = engine.evaluate(&Observation { hall: &hall, satisfaction: &[] }, hall.t);
//! sender.send(events)?;
//! // at exit:
//! notifier.shutdown(std::time::Duration::from_secs(5)).await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod channels;
pub mod engine;
pub mod message;
pub mod notifier;

pub use engine::{
    ActiveAlert, AlertEngine, AlertEvent, EventKind, Observation, ResolveReason,
    SatisfactionFigures, Target,
};
pub use notifier::{Notifier, NotifierHandle, NotifierSender, NotifierSetup};

use hallwatch_config::{ConfigError, ConfigErrors};
use hallwatch_store::StoreError;

/// What can go wrong building or running alerts. Delivery failures are not errors: they are
/// retried and recorded in the store.
#[derive(Debug, thiserror::Error)]
pub enum AlertsError {
    /// The config cannot give what alerts need (the calendar).
    #[error("alerts config: {0}")]
    Config(ConfigErrors),
    /// The event store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// [`Notifier::spawn`] was called outside a tokio runtime.
    #[error("the alert notifier must be started inside a tokio runtime")]
    NoRuntime,
    /// The notifier has stopped; nothing more can be sent.
    #[error("the alert notifier has stopped")]
    Stopped,
    /// A notifier task failed or did not stop in time.
    #[error("alert notifier task: {0}")]
    Task(String),
    /// A thread panicked while holding the store.
    #[error("the alert store lock is poisoned (a thread panicked while using it)")]
    Poisoned,
    /// A re-notify or resolve event for an alert the notifier does not know (events must come
    /// from one engine, in order).
    #[error("no active alert of rule '{0}' for this target")]
    UnknownAlert(String),
}

impl AlertsError {
    pub(crate) fn config(errors: Vec<ConfigError>) -> Self {
        AlertsError::Config(ConfigErrors(errors))
    }
}
