//! Validation of ticket events, ratings and dossiers, shared by the API and the file imports:
//! an input becomes a store record or an [`Invalid`] naming every bad field.

use crate::error::{Errors, Invalid};
use crate::times::{self, TimeInput};
use chrono_tz::Tz;
use hallwatch_config::Config;
use hallwatch_config::service::{RatingScaleConfig, ScaleLevel, ServiceConfig};
use hallwatch_store::{Dossier, Rating, RatingLevel, Ticket, TicketEvent, TicketEventKind};
use serde::{Deserialize, Serialize};

/// Longest ticket number, dossier code, ticket reference or client id accepted.
pub const MAX_ID_CHARS: usize = 64;
/// Longest service name accepted.
pub const MAX_SERVICE_CHARS: usize = 200;
/// Highest counter number accepted.
pub const MAX_COUNTER: u32 = 999;
/// How far in the future (device clocks run fast) an input's time may lie, seconds.
pub const MAX_FUTURE_S: f64 = 300.0;
/// Oldest rating accepted, seconds before now (a kiosk's offline queue is sent within days).
pub const MAX_RATING_AGE_S: f64 = 7.0 * 86_400.0;
/// Earliest time accepted (2000-01-01 UTC): anything older is a broken clock.
pub const MIN_TIME: f64 = 946_684_800.0;

/// One ticket event as the API receives it (JSON).
///
/// ```json
/// {"event": "issued", "number": "A012", "service": "Hộ tịch", "t": "2026-10-05T08:01:02+07:00"}
/// {"event": "called", "number": "A012", "counter": 3, "t": 1791162062}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketEventInput {
    /// `issued`, `called`, `finished` or `no_show`.
    pub event: String,
    /// The ticket number as printed.
    pub number: String,
    /// The service (with `issued`).
    #[serde(default)]
    pub service: String,
    /// The counter (required with `called` and `finished`).
    #[serde(default)]
    pub counter: Option<u32>,
    /// When; the time of receipt when left out.
    #[serde(default)]
    pub t: Option<TimeInput>,
    /// The local date the ticket was issued on (`YYYY-MM-DD`); the local date of `t` when left
    /// out.
    #[serde(default)]
    pub day: Option<String>,
}

/// One rating as the kiosk or a rating device sends it (JSON): either a `level` or a device
/// `score` out of `scale_max`.
///
/// ```json
/// {"level": "satisfied", "counter": 2, "client_id": "k2-000123", "t": 1791162062}
/// {"score": 4, "scale_max": 5, "counter": 2, "ticket": "A012"}
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    /// `very_satisfied`, `satisfied` or `dissatisfied`.
    #[serde(default)]
    pub level: Option<String>,
    /// A device's raw score, 1..=`scale_max`.
    #[serde(default)]
    pub score: Option<u32>,
    /// The device's best score (a scale in `[service].rating_scales`).
    #[serde(default)]
    pub scale_max: Option<u32>,
    /// The counter rated.
    #[serde(default)]
    pub counter: Option<u32>,
    /// The ticket served, when known.
    #[serde(default)]
    pub ticket: Option<String>,
    /// When the citizen tapped (a queued kiosk resend keeps its original time); the time of
    /// receipt when left out.
    #[serde(default)]
    pub t: Option<TimeInput>,
    /// Optional comment.
    #[serde(default)]
    pub comment: String,
    /// The device's idempotency key (letters, digits, `-`, `_`, `.`, `:`).
    #[serde(default)]
    pub client_id: Option<String>,
}

/// Who sends a rating: the token's name and, for a kiosk token bound to one counter, that
/// counter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RatingSource {
    /// Device or kiosk name (the API token's name).
    pub device: String,
    /// The counter the token is bound to.
    pub counter: Option<u32>,
}

/// Validation rules of one site: its time zone and the `[service]` settings.
#[derive(Clone, Debug)]
pub struct Intake {
    tz: Tz,
    service: ServiceConfig,
}

fn clean_id(field: &str, v: &str, errors: &mut Errors) -> String {
    let v = v.trim();
    if v.is_empty() {
        errors.push(field, "missing");
    } else if v.chars().count() > MAX_ID_CHARS {
        errors.push(field, format!("longer than {MAX_ID_CHARS} characters"));
    } else if v.chars().any(char::is_control) {
        errors.push(field, "contains control characters");
    }
    v.to_string()
}

fn check_counter(field: &str, c: u32, errors: &mut Errors) {
    if c == 0 || c > MAX_COUNTER {
        errors.push(field, format!("counter {c} is outside 1..={MAX_COUNTER}"));
    }
}

fn check_day(field: &str, day: &str, errors: &mut Errors) {
    if chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_err() || day.len() != 10 {
        errors.push(field, format!("'{day}' is not a date as YYYY-MM-DD"));
    }
}

impl Intake {
    /// Rules for a site in IANA zone `tz` with `service` settings (already checked by the
    /// config loader).
    pub fn new(tz: &str, service: &ServiceConfig) -> Result<Self, crate::ServiceError> {
        Ok(Self {
            tz: tz
                .parse()
                .map_err(|_| crate::ServiceError::TimeZone(tz.to_string()))?,
            service: service.clone(),
        })
    }

    /// Rules of a loaded config's site.
    pub fn from_config(config: &Config) -> Result<Self, crate::ServiceError> {
        Self::new(&config.site.timezone, &config.service)
    }

    /// The site's time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The `[service]` settings.
    pub fn settings(&self) -> &ServiceConfig {
        &self.service
    }

    /// The local date (`YYYY-MM-DD`) of instant `t`: the day of a ticket issued then.
    pub fn local_day(&self, t: f64) -> String {
        times::local_day(self.tz, t)
    }

    /// Checks a time against the clock: finite, after 2000, not more than
    /// [`MAX_FUTURE_S`] ahead of `now`.
    pub(crate) fn check_time(&self, field: &str, t: f64, now: f64, errors: &mut Errors) {
        if !t.is_finite() || t < MIN_TIME {
            errors.push(field, format!("{t} is not a plausible time (before 2000)"));
        } else if t > now + MAX_FUTURE_S {
            errors.push(
                field,
                format!("{:.0} s in the future; check the device's clock", t - now),
            );
        }
    }

    fn time_of(&self, field: &str, t: &Option<TimeInput>, now: f64, errors: &mut Errors) -> f64 {
        match t {
            None => now,
            Some(input) => match times::from_input(self.tz, input) {
                Some(v) => {
                    self.check_time(field, v, now, errors);
                    v
                }
                None => {
                    errors.push(
                        field,
                        format!(
                            "{input:?} is not a time (Unix seconds, RFC 3339, or local \
                             YYYY-MM-DD HH:MM:SS)"
                        ),
                    );
                    now
                }
            },
        }
    }

    /// A ticket event from the API, received at `now` (Unix seconds).
    pub fn ticket_event(&self, input: &TicketEventInput, now: f64) -> Result<TicketEvent, Invalid> {
        let mut errors = Errors::default();
        let number = clean_id("number", &input.number, &mut errors);
        let t = self.time_of("t", &input.t, now, &mut errors);
        let need_counter = |errors: &mut Errors| match input.counter {
            Some(c) => {
                check_counter("counter", c, errors);
                c
            }
            None => {
                errors.push("counter", format!("required with event '{}'", input.event));
                0
            }
        };
        let kind = match input.event.as_str() {
            "issued" => {
                if input.service.chars().count() > MAX_SERVICE_CHARS {
                    errors.push(
                        "service",
                        format!("longer than {MAX_SERVICE_CHARS} characters"),
                    );
                }
                Some(TicketEventKind::Issued {
                    service: input.service.trim().to_string(),
                })
            }
            "called" => Some(TicketEventKind::Called {
                counter: need_counter(&mut errors),
            }),
            "finished" => Some(TicketEventKind::Finished {
                counter: need_counter(&mut errors),
            }),
            "no_show" => Some(TicketEventKind::NoShow),
            other => {
                errors.push(
                    "event",
                    format!("'{other}' is not one of issued, called, finished, no_show"),
                );
                None
            }
        };
        let day = match &input.day {
            Some(d) => {
                check_day("day", d, &mut errors);
                d.clone()
            }
            None => self.local_day(t),
        };
        let ev = kind.map(|kind| TicketEvent {
            day,
            number,
            kind,
            t,
            source: "api".into(),
        });
        match ev {
            Some(ev) => errors.finish(ev),
            None => Err(errors
                .finish(())
                .err()
                .unwrap_or_else(|| Invalid::one("event", "missing"))),
        }
    }

    /// Checks a whole ticket (an imported row): its times are ordered and plausible.
    pub fn check_ticket(&self, t: &Ticket, now: f64) -> Result<(), Invalid> {
        let mut errors = Errors::default();
        clean_id("number", &t.number, &mut errors);
        self.check_time("issued", t.issued, now, &mut errors);
        for (field, v) in [
            ("called", t.called),
            ("finished", t.finished),
            ("no_show", t.no_show),
        ] {
            if let Some(v) = v {
                self.check_time(field, v, now, &mut errors);
            }
        }
        if let Some(c) = t.called
            && c < t.issued
        {
            errors.push("called", "is before the ticket was issued");
        }
        match (t.called, t.finished) {
            (Some(c), Some(f)) if f < c => errors.push("finished", "is before the call"),
            (None, Some(_)) => errors.push("finished", "a finished ticket needs its call time"),
            _ => {}
        }
        if let Some(c) = t.counter {
            check_counter("counter", c, &mut errors);
        }
        errors.finish(())
    }

    /// Checks a dossier (an imported row).
    pub fn check_dossier(&self, d: &Dossier, now: f64) -> Result<(), Invalid> {
        let mut errors = Errors::default();
        clean_id("code", &d.code, &mut errors);
        self.check_time("received", d.received, now, &mut errors);
        if let Some(r) = d.resolved {
            self.check_time("resolved", r, now, &mut errors);
            if r < d.received {
                errors.push("resolved", "is before the dossier was received");
            }
        }
        if let Some(due) = d.due
            && due < d.received
        {
            errors.push("due", "is before the dossier was received");
        }
        errors.finish(())
    }

    /// The level a device's `score` out of `scale_max` maps to (`[service].rating_scales`).
    pub fn level_of(&self, score: u32, scale_max: u32) -> Result<RatingLevel, Invalid> {
        let scale: &RatingScaleConfig = self.service.scale(scale_max).ok_or_else(|| {
            let known: Vec<String> = self
                .service
                .rating_scales
                .iter()
                .map(|s| s.scale_max.to_string())
                .collect();
            Invalid::one(
                "scale_max",
                format!(
                    "no rating scale with scale_max = {scale_max} in [service].rating_scales \
                     (known: {})",
                    known.join(", ")
                ),
            )
        })?;
        match scale.level_of(score) {
            Some(ScaleLevel::VerySatisfied) => Ok(RatingLevel::VerySatisfied),
            Some(ScaleLevel::Satisfied) => Ok(RatingLevel::Satisfied),
            Some(ScaleLevel::Dissatisfied) => Ok(RatingLevel::Dissatisfied),
            None => Err(Invalid::one(
                "score",
                format!("{score} is outside 1..={scale_max}"),
            )),
        }
    }

    /// A rating from a kiosk or device `source`, received at `now`.
    pub fn rating(
        &self,
        input: &RatingInput,
        source: &RatingSource,
        now: f64,
    ) -> Result<Rating, Invalid> {
        let mut errors = Errors::default();
        let t = self.time_of("t", &input.t, now, &mut errors);
        // A rating is given at the visit; a kiosk that was offline sends its queue within
        // days. One dated further back would rewrite a month already reviewed.
        if t.is_finite() && t >= MIN_TIME && t < now - MAX_RATING_AGE_S {
            errors.push(
                "t",
                format!(
                    "{:.1} days old; ratings older than {} days are not accepted",
                    (now - t) / 86_400.0,
                    MAX_RATING_AGE_S / 86_400.0
                ),
            );
        }
        let (level, score, scale_max) = match (&input.level, input.score, input.scale_max) {
            (Some(l), None, None) => match RatingLevel::parse(l) {
                Some(level) => (Some(level), None, None),
                None => {
                    errors.push(
                        "level",
                        format!("'{l}' is not one of very_satisfied, satisfied, dissatisfied"),
                    );
                    (None, None, None)
                }
            },
            (None, Some(score), Some(max)) => match self.level_of(score, max) {
                Ok(level) => (Some(level), Some(score), Some(max)),
                Err(e) => {
                    errors.extend(e);
                    (None, None, None)
                }
            },
            (None, Some(_), None) => {
                errors.push("scale_max", "required with score");
                (None, None, None)
            }
            _ => {
                errors.push("level", "send either level, or score with scale_max");
                (None, None, None)
            }
        };
        let counter = match (input.counter, source.counter) {
            (Some(c), Some(bound)) if c != bound => {
                errors.push(
                    "counter",
                    format!("this kiosk token belongs to counter {bound}, not {c}"),
                );
                Some(bound)
            }
            (c, bound) => c.or(bound),
        };
        if let Some(c) = counter {
            check_counter("counter", c, &mut errors);
        }
        let ticket = input
            .ticket
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| clean_id("ticket", s, &mut errors));
        let comment: String = input
            .comment
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .collect::<String>()
            .trim()
            .to_string();
        let max = self.service.comment_max_chars;
        if comment.chars().count() > max {
            errors.push("comment", format!("longer than {max} characters"));
        }
        let client_id = input.client_id.as_deref().map(|c| {
            let c = c.trim();
            if c.is_empty()
                || c.len() > MAX_ID_CHARS
                || !c
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.:".contains(ch))
            {
                errors.push(
                    "client_id",
                    format!("must be 1..={MAX_ID_CHARS} letters, digits, '-', '_', '.' or ':'"),
                );
            }
            c.to_string()
        });
        let rating = level.map(|level| Rating {
            t,
            counter,
            ticket,
            level,
            score,
            scale_max,
            comment,
            device: source.device.clone(),
            client_id,
        });
        match rating {
            Some(r) => errors.finish(r),
            None => Err(errors
                .finish(())
                .err()
                .unwrap_or_else(|| Invalid::one("level", "missing"))),
        }
    }
}
