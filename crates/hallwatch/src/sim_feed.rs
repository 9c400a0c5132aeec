//! A simulated hall's ticket events and ratings into the event store, as a ticket system and
//! counter rating devices would send them: through the same [`Intake`] checks as the API.
//! Used by the demo (on the wall clock) and by `hallwatch simulate --hall` (a month at once).

use hallwatch_service::{Intake, RatingInput, RatingSource, TicketEventInput, TimeInput};
use hallwatch_sim::SimEvents;
use hallwatch_store::Store;
use std::collections::HashMap;

/// Where the simulated events go and how they are labelled.
pub(crate) struct FeedTarget<'a> {
    /// The hall's intake rules (`[service]`).
    pub intake: &'a Intake,
    /// The hall id the rows are stored under.
    pub site: &'a str,
    /// Simulator service id -> display name.
    pub services: &'a HashMap<String, String>,
    /// The ticket events' `source` and the rating device's name.
    pub source: &'a str,
}

/// Stores `events`' ticket events and ratings, received at `now`; returns how many of each
/// were stored (a refused one is logged and skipped).
pub(crate) fn feed(
    to: &FeedTarget<'_>,
    store: &mut Store,
    events: &SimEvents,
    now: f64,
) -> (usize, usize) {
    let mut tickets = 0;
    for e in &events.tickets {
        let input = TicketEventInput {
            event: e.event.as_str().into(),
            number: e.number.clone(),
            service: to
                .services
                .get(&e.service)
                .cloned()
                .unwrap_or_else(|| e.service.clone()),
            counter: e.counter,
            t: Some(TimeInput::Unix(e.t)),
            day: None,
        };
        let stored = to
            .intake
            .ticket_event(&input, now)
            .map_err(|e| e.to_string())
            .and_then(|mut ev| {
                ev.source = to.source.into();
                store
                    .apply_ticket_event(to.site, &ev)
                    .map_err(|e| e.to_string())
            });
        match stored {
            Ok(_) => tickets += 1,
            Err(err) => {
                tracing::warn!(ticket = %e.number, "simulated ticket event refused: {err}")
            }
        }
    }
    let mut ratings = 0;
    let source = RatingSource {
        device: format!("{}-rating-device", to.source),
        counter: None,
    };
    for r in &events.ratings {
        let input = RatingInput {
            level: Some(r.level.as_str().into()),
            counter: Some(r.counter),
            ticket: Some(r.ticket.clone()),
            t: Some(TimeInput::Unix(r.t)),
            client_id: Some(format!("sim-{}-{}", to.intake.local_day(r.t), r.ticket)),
            ..RatingInput::default()
        };
        let stored = to
            .intake
            .rating(&input, &source, now)
            .map_err(|e| e.to_string())
            .and_then(|rating| {
                store
                    .insert_rating(to.site, &rating)
                    .map_err(|e| e.to_string())
            });
        match stored {
            Ok(_) => ratings += 1,
            Err(err) => tracing::warn!(ticket = %r.ticket, "simulated rating refused: {err}"),
        }
    }
    (tickets, ratings)
}
