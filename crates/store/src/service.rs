//! Service-quality tables: queue tickets, citizen ratings and administrative dossiers.
//!
//! - Tickets ([`Ticket`], [`TicketEvent`]) are keyed on (site, local day, number): ticket
//!   numbers restart every local day. Each event (issued, called, finished, no-show) and each
//!   imported row is an upsert that only fills in or replaces what it carries, so events may be
//!   re-sent and files re-imported without changing anything ([`Upsert::Unchanged`]).
//! - Ratings ([`Rating`]) are keyed on (site, device, client id) when the device sends an
//!   idempotency key: a resend from a kiosk that lost its connection is stored once.
//! - Dossiers ([`Dossier`]) are keyed on (site, code); an import replaces a dossier's fields.
//!
//! Reads are by time range: tickets by `issued`, ratings by `t`, dossiers by whether they were
//! open during the range.

use crate::error::sql_err;
use crate::{Store, StoreError};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// What an upsert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upsert {
    /// A new row.
    Inserted,
    /// An existing row whose values changed.
    Updated,
    /// An existing row that already held exactly these values.
    Unchanged,
}

/// One queue ticket (a row of `tickets`).
#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    /// Local date of `issued`, `YYYY-MM-DD`: numbers restart every day.
    pub day: String,
    /// The ticket number as printed (`A012`, `1034`).
    pub number: String,
    /// The service (thủ tục / lĩnh vực) chosen at the ticket machine; empty when unknown.
    pub service: String,
    /// When the ticket was issued, Unix seconds.
    pub issued: f64,
    /// When it was called to a counter.
    pub called: Option<f64>,
    /// The counter that called it.
    pub counter: Option<u32>,
    /// When service ended.
    pub finished: Option<f64>,
    /// When it was marked as not showing up.
    pub no_show: Option<f64>,
    /// How it arrived: `api` or the imported file's name.
    pub source: String,
}

impl Ticket {
    /// Wait in seconds: issued -> called (None until called, or if the times are reversed).
    pub fn wait_s(&self) -> Option<f64> {
        self.called.map(|c| c - self.issued).filter(|w| *w >= 0.0)
    }

    /// Service time in seconds: called -> finished (None until both are known and ordered).
    pub fn service_s(&self) -> Option<f64> {
        match (self.called, self.finished) {
            (Some(c), Some(f)) if f >= c => Some(f - c),
            _ => None,
        }
    }
}

/// What happened to a ticket, as a ticket system reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum TicketEventKind {
    /// Issued at the ticket machine for `service`.
    Issued {
        /// The service chosen; empty when unknown.
        service: String,
    },
    /// Called to `counter`.
    Called {
        /// Counter number.
        counter: u32,
    },
    /// Service at `counter` ended.
    Finished {
        /// Counter number.
        counter: u32,
    },
    /// The citizen did not come when called.
    NoShow,
}

/// One ticket event of one local day, at time `t` (Unix seconds).
#[derive(Clone, Debug, PartialEq)]
pub struct TicketEvent {
    /// Local date the ticket was issued on, `YYYY-MM-DD`.
    pub day: String,
    /// Ticket number.
    pub number: String,
    /// What happened.
    pub kind: TicketEventKind,
    /// When, Unix seconds.
    pub t: f64,
    /// `api` or a file name.
    pub source: String,
}

/// The hall's three-level satisfaction scale (Decision 766/QĐ-TTg style).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RatingLevel {
    /// Rất hài lòng.
    VerySatisfied,
    /// Hài lòng.
    Satisfied,
    /// Không hài lòng.
    Dissatisfied,
}

impl RatingLevel {
    /// All levels, best first.
    pub const ALL: [RatingLevel; 3] = [
        RatingLevel::VerySatisfied,
        RatingLevel::Satisfied,
        RatingLevel::Dissatisfied,
    ];

    /// The stored name: `very_satisfied`, `satisfied`, `dissatisfied`.
    pub fn as_str(self) -> &'static str {
        match self {
            RatingLevel::VerySatisfied => "very_satisfied",
            RatingLevel::Satisfied => "satisfied",
            RatingLevel::Dissatisfied => "dissatisfied",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// True for the two satisfied levels.
    pub fn is_satisfied(self) -> bool {
        !matches!(self, RatingLevel::Dissatisfied)
    }
}

/// One citizen rating (a row of `ratings`).
#[derive(Clone, Debug, PartialEq)]
pub struct Rating {
    /// When it was given, Unix seconds.
    pub t: f64,
    /// The counter rated.
    pub counter: Option<u32>,
    /// The ticket served, when known.
    pub ticket: Option<String>,
    /// The level on the hall's scale.
    pub level: RatingLevel,
    /// The device's raw score (stars), when it has another scale.
    pub score: Option<u32>,
    /// The device's scale maximum, with `score`.
    pub scale_max: Option<u32>,
    /// Optional comment (góp ý).
    pub comment: String,
    /// The device or kiosk (token name); empty when unknown.
    pub device: String,
    /// The device's idempotency key: the same (device, client id) is stored once.
    pub client_id: Option<String>,
}

/// How a dossier was submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Trực tuyến (online public service portal).
    Online,
    /// Trực tiếp (at the hall).
    InPerson,
}

impl Channel {
    /// The stored name: `online` or `in_person`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::InPerson => "in_person",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "online" => Some(Channel::Online),
            "in_person" => Some(Channel::InPerson),
            _ => None,
        }
    }
}

/// One administrative dossier (hồ sơ) from the one-stop software (a row of `dossiers`).
#[derive(Clone, Debug, PartialEq)]
pub struct Dossier {
    /// The dossier code (mã hồ sơ).
    pub code: String,
    /// The procedure; empty when unknown.
    pub service: String,
    /// Online or in person.
    pub channel: Channel,
    /// Received, Unix seconds.
    pub received: f64,
    /// Due (hẹn trả), Unix seconds.
    pub due: Option<f64>,
    /// Resolved (trả kết quả); None while in progress.
    pub resolved: Option<f64>,
}

fn invalid(what: &'static str, detail: String) -> StoreError {
    StoreError::InvalidRecord { what, detail }
}

fn finite(what: &'static str, field: &str, v: f64) -> Result<(), StoreError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(invalid(what, format!("{field} = {v} is not a finite time")))
    }
}

fn finite_opt(what: &'static str, field: &str, v: Option<f64>) -> Result<(), StoreError> {
    v.map_or(Ok(()), |v| finite(what, field, v))
}

fn nonempty(what: &'static str, field: &str, v: &str) -> Result<(), StoreError> {
    if v.trim().is_empty() {
        Err(invalid(what, format!("{field} is empty")))
    } else {
        Ok(())
    }
}

fn check_day(day: &str) -> Result<(), StoreError> {
    let b = day.as_bytes();
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(invalid("ticket", format!("day '{day}' is not YYYY-MM-DD")))
    }
}

impl Ticket {
    fn validate(&self) -> Result<(), StoreError> {
        check_day(&self.day)?;
        nonempty("ticket", "number", &self.number)?;
        finite("ticket", "issued", self.issued)?;
        finite_opt("ticket", "called", self.called)?;
        finite_opt("ticket", "finished", self.finished)?;
        finite_opt("ticket", "no_show", self.no_show)
    }
}

impl Dossier {
    fn validate(&self) -> Result<(), StoreError> {
        nonempty("dossier", "code", &self.code)?;
        finite("dossier", "received", self.received)?;
        finite_opt("dossier", "due", self.due)?;
        finite_opt("dossier", "resolved", self.resolved)
    }
}

impl Rating {
    fn validate(&self) -> Result<(), StoreError> {
        finite("rating", "t", self.t)?;
        if let (Some(s), Some(m)) = (self.score, self.scale_max)
            && (s < 1 || s > m)
        {
            return Err(invalid("rating", format!("score {s} is outside 1..={m}")));
        }
        if self.score.is_some() != self.scale_max.is_some() {
            return Err(invalid(
                "rating",
                "score and scale_max go together".to_string(),
            ));
        }
        Ok(())
    }
}

const TICKET_COLUMNS: &str =
    "day, number, service, issued, called, counter, finished, no_show, source";

fn ticket_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Ticket> {
    Ok(Ticket {
        day: r.get(0)?,
        number: r.get(1)?,
        service: r.get(2)?,
        issued: r.get(3)?,
        called: r.get(4)?,
        counter: r
            .get::<_, Option<i64>>(5)?
            .and_then(|c| u32::try_from(c).ok()),
        finished: r.get(6)?,
        no_show: r.get(7)?,
        source: r.get(8)?,
    })
}

/// Merges `new` into `old`: what `new` carries replaces, what it leaves out is kept.
fn merge_ticket(old: &Ticket, new: &Ticket) -> Ticket {
    Ticket {
        day: old.day.clone(),
        number: old.number.clone(),
        service: if new.service.is_empty() {
            old.service.clone()
        } else {
            new.service.clone()
        },
        issued: new.issued,
        called: new.called.or(old.called),
        counter: new.counter.or(old.counter),
        finished: new.finished.or(old.finished),
        no_show: new.no_show.or(old.no_show),
        // The first source that brought the ticket is kept: re-imports change nothing.
        source: old.source.clone(),
    }
}

impl Store {
    fn begin(&mut self, op: &'static str) -> Result<rusqlite::Transaction<'_>, StoreError> {
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_err(&self.path, op, e))
    }

    /// Upserts whole tickets (an import's rows) in one transaction. Fields a row leaves empty
    /// keep what is stored; fields it carries replace it; the result of each row says whether
    /// anything changed, so re-importing a file reports every row [`Upsert::Unchanged`].
    pub fn upsert_tickets(
        &mut self,
        site: &str,
        tickets: &[Ticket],
    ) -> Result<Vec<Upsert>, StoreError> {
        for t in tickets {
            t.validate()?;
        }
        let op = "upserting tickets";
        let path = self.path.clone();
        let tx = self.begin(op)?;
        let mut out = Vec::with_capacity(tickets.len());
        for t in tickets {
            let r = upsert_ticket_tx(&tx, site, t).map_err(|e| sql_err(&path, op, e))?;
            out.push(r);
        }
        tx.commit().map_err(|e| sql_err(&path, op, e))?;
        Ok(out)
    }

    /// Applies one ticket event. `Issued` creates the ticket (or replaces its issue time and
    /// service); the others need the ticket to exist ([`StoreError::InvalidRecord`] names it
    /// otherwise) and set their time (and counter). Re-sending an event changes nothing.
    pub fn apply_ticket_event(
        &mut self,
        site: &str,
        ev: &TicketEvent,
    ) -> Result<Upsert, StoreError> {
        check_day(&ev.day)?;
        nonempty("ticket event", "number", &ev.number)?;
        finite("ticket event", "t", ev.t)?;
        let op = "applying a ticket event";
        let path = self.path.clone();
        let tx = self.begin(op)?;
        let old = read_ticket(&tx, site, &ev.day, &ev.number).map_err(|e| sql_err(&path, op, e))?;
        let new = match (&ev.kind, old) {
            (TicketEventKind::Issued { service }, old) => {
                let fresh = Ticket {
                    day: ev.day.clone(),
                    number: ev.number.clone(),
                    service: service.clone(),
                    issued: ev.t,
                    called: None,
                    counter: None,
                    finished: None,
                    no_show: None,
                    source: ev.source.clone(),
                };
                match old {
                    Some(o) => merge_ticket(&o, &fresh),
                    None => fresh,
                }
            }
            (_, None) => {
                return Err(invalid(
                    "ticket event",
                    format!(
                        "ticket {} of {} was never issued (send its 'issued' event first)",
                        ev.number, ev.day
                    ),
                ));
            }
            (TicketEventKind::Called { counter }, Some(o)) => Ticket {
                called: Some(ev.t),
                counter: Some(*counter),
                ..o
            },
            (TicketEventKind::Finished { counter }, Some(o)) => Ticket {
                finished: Some(ev.t),
                counter: Some(*counter),
                ..o
            },
            (TicketEventKind::NoShow, Some(o)) => Ticket {
                no_show: Some(ev.t),
                ..o
            },
        };
        let r = write_ticket(&tx, site, &new).map_err(|e| sql_err(&path, op, e))?;
        tx.commit().map_err(|e| sql_err(&path, op, e))?;
        Ok(r)
    }

    /// One ticket.
    pub fn ticket(
        &self,
        site: &str,
        day: &str,
        number: &str,
    ) -> Result<Option<Ticket>, StoreError> {
        read_ticket(&self.conn, site, day, number).map_err(|e| self.err("reading a ticket", e))
    }

    /// Tickets of `site` issued in `[from, to)`, oldest first.
    pub fn tickets(&self, site: &str, from: f64, to: f64) -> Result<Vec<Ticket>, StoreError> {
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE site = ? AND issued >= ? AND issued < ? \
             ORDER BY issued, number"
        );
        self.query_rows(
            "reading tickets",
            &sql,
            vec![Value::Text(site.into()), Value::Real(from), Value::Real(to)],
            ticket_from_row,
        )
    }

    /// Stores a rating. Returns false (and stores nothing) when the same device already sent
    /// the same client id: a kiosk's resend after a lost answer.
    pub fn insert_rating(&mut self, site: &str, r: &Rating) -> Result<bool, StoreError> {
        r.validate()?;
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO ratings (site, t, counter, ticket, level, score, scale_max, \
                     comment, device, client_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (site, device, client_id) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    site,
                    r.t,
                    r.counter.map(i64::from),
                    r.ticket,
                    r.level.as_str(),
                    r.score.map(i64::from),
                    r.scale_max.map(i64::from),
                    r.comment,
                    r.device,
                    r.client_id,
                ])
            })
            .map_err(|e| self.err("inserting a rating", e))?;
        Ok(n == 1)
    }

    /// Ratings of `site` given in `[from, to)`, oldest first.
    pub fn ratings(&self, site: &str, from: f64, to: f64) -> Result<Vec<Rating>, StoreError> {
        let op = "reading ratings";
        let rows = self.query_rows(
            op,
            "SELECT t, counter, ticket, level, score, scale_max, comment, device, client_id, id \
             FROM ratings WHERE site = ? AND t >= ? AND t < ? ORDER BY t, id",
            vec![Value::Text(site.into()), Value::Real(from), Value::Real(to)],
            |r| {
                Ok((
                    r.get::<_, i64>(9)?,
                    r.get::<_, String>(3)?,
                    Rating {
                        t: r.get(0)?,
                        counter: r
                            .get::<_, Option<i64>>(1)?
                            .and_then(|c| u32::try_from(c).ok()),
                        ticket: r.get(2)?,
                        level: RatingLevel::Dissatisfied,
                        score: r
                            .get::<_, Option<i64>>(4)?
                            .and_then(|c| u32::try_from(c).ok()),
                        scale_max: r
                            .get::<_, Option<i64>>(5)?
                            .and_then(|c| u32::try_from(c).ok()),
                        comment: r.get(6)?,
                        device: r.get(7)?,
                        client_id: r.get(8)?,
                    },
                ))
            },
        )?;
        rows.into_iter()
            .map(|(id, level, mut rating)| {
                rating.level = RatingLevel::parse(&level).ok_or_else(|| StoreError::Decode {
                    path: self.path.clone(),
                    table: "ratings",
                    row: id,
                    detail: format!("unknown level {level:?}"),
                })?;
                Ok(rating)
            })
            .collect()
    }

    /// Upserts dossiers (an import's rows) in one transaction; each result says whether the
    /// stored dossier changed.
    pub fn upsert_dossiers(
        &mut self,
        site: &str,
        dossiers: &[Dossier],
    ) -> Result<Vec<Upsert>, StoreError> {
        for d in dossiers {
            d.validate()?;
        }
        let op = "upserting dossiers";
        let path = self.path.clone();
        let tx = self.begin(op)?;
        let mut out = Vec::with_capacity(dossiers.len());
        for d in dossiers {
            let old = tx
                .prepare_cached(
                    "SELECT code, service, channel, received, due, resolved FROM dossiers \
                     WHERE site = ?1 AND code = ?2",
                )
                .and_then(|mut s| {
                    s.query_row(params![site, d.code], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, f64>(3)?,
                            r.get::<_, Option<f64>>(4)?,
                            r.get::<_, Option<f64>>(5)?,
                        ))
                    })
                    .optional()
                })
                .map_err(|e| sql_err(&path, op, e))?;
            let result = match old {
                Some((_, service, channel, received, due, resolved))
                    if service == d.service
                        && channel == d.channel.as_str()
                        && received == d.received
                        && due == d.due
                        && resolved == d.resolved =>
                {
                    Upsert::Unchanged
                }
                old => {
                    tx.prepare_cached(
                        "INSERT INTO dossiers (site, code, service, channel, received, due, \
                             resolved) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                         ON CONFLICT (site, code) DO UPDATE SET service = excluded.service, \
                             channel = excluded.channel, received = excluded.received, \
                             due = excluded.due, resolved = excluded.resolved",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            site,
                            d.code,
                            d.service,
                            d.channel.as_str(),
                            d.received,
                            d.due,
                            d.resolved
                        ])
                    })
                    .map_err(|e| sql_err(&path, op, e))?;
                    if old.is_some() {
                        Upsert::Updated
                    } else {
                        Upsert::Inserted
                    }
                }
            };
            out.push(result);
        }
        tx.commit().map_err(|e| sql_err(&path, op, e))?;
        Ok(out)
    }

    /// Dossiers of `site` open at some time in `[from, to)`: received before `to` and not
    /// resolved before `from`. Oldest received first.
    pub fn dossiers(&self, site: &str, from: f64, to: f64) -> Result<Vec<Dossier>, StoreError> {
        let op = "reading dossiers";
        let rows = self.query_rows(
            op,
            "SELECT code, service, channel, received, due, resolved, id FROM dossiers \
             WHERE site = ? AND received < ? AND (resolved IS NULL OR resolved >= ?) \
             ORDER BY received, code",
            vec![Value::Text(site.into()), Value::Real(to), Value::Real(from)],
            |r| {
                Ok((
                    r.get::<_, i64>(6)?,
                    r.get::<_, String>(2)?,
                    Dossier {
                        code: r.get(0)?,
                        service: r.get(1)?,
                        channel: Channel::InPerson,
                        received: r.get(3)?,
                        due: r.get(4)?,
                        resolved: r.get(5)?,
                    },
                ))
            },
        )?;
        rows.into_iter()
            .map(|(id, channel, mut d)| {
                d.channel = Channel::parse(&channel).ok_or_else(|| StoreError::Decode {
                    path: self.path.clone(),
                    table: "dossiers",
                    row: id,
                    detail: format!("unknown channel {channel:?}"),
                })?;
                Ok(d)
            })
            .collect()
    }

    /// Every site with any stored history (visits, samples, tickets, ratings or dossiers),
    /// sorted.
    pub fn sites(&self) -> Result<Vec<String>, StoreError> {
        self.query_rows(
            "listing sites",
            "SELECT site FROM sessions UNION SELECT site FROM zone_samples \
             UNION SELECT site FROM tickets UNION SELECT site FROM ratings \
             UNION SELECT site FROM dossiers ORDER BY 1",
            Vec::new(),
            |r| r.get(0),
        )
    }

    fn query_rows<T>(
        &self,
        op: &'static str,
        sql: &str,
        args: Vec<Value>,
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(op, e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), map)
            .map_err(|e| self.err(op, e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(op, e))
    }
}

fn read_ticket(
    conn: &rusqlite::Connection,
    site: &str,
    day: &str,
    number: &str,
) -> rusqlite::Result<Option<Ticket>> {
    conn.prepare_cached(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE site = ?1 AND day = ?2 AND number = ?3"
    ))?
    .query_row(params![site, day, number], ticket_from_row)
    .optional()
}

/// Writes `t` (insert or update); says what changed.
fn write_ticket(conn: &rusqlite::Connection, site: &str, t: &Ticket) -> rusqlite::Result<Upsert> {
    let old = read_ticket(conn, site, &t.day, &t.number)?;
    if old.as_ref() == Some(t) {
        return Ok(Upsert::Unchanged);
    }
    conn.prepare_cached(
        "INSERT INTO tickets (site, day, number, service, issued, called, counter, finished, \
             no_show, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
         ON CONFLICT (site, day, number) DO UPDATE SET service = excluded.service, \
             issued = excluded.issued, called = excluded.called, counter = excluded.counter, \
             finished = excluded.finished, no_show = excluded.no_show, source = excluded.source",
    )?
    .execute(params![
        site,
        t.day,
        t.number,
        t.service,
        t.issued,
        t.called,
        t.counter.map(i64::from),
        t.finished,
        t.no_show,
        t.source,
    ])?;
    Ok(if old.is_some() {
        Upsert::Updated
    } else {
        Upsert::Inserted
    })
}

fn upsert_ticket_tx(
    conn: &rusqlite::Connection,
    site: &str,
    t: &Ticket,
) -> rusqlite::Result<Upsert> {
    let merged = match read_ticket(conn, site, &t.day, &t.number)? {
        Some(old) => merge_ticket(&old, t),
        None => t.clone(),
    };
    write_ticket(conn, site, &merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: f64 = 1_791_133_200.0 + 8.0 * 3600.0; // Monday 2026-10-05 08:00 +07

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path().join("s.db")).unwrap();
        (dir, s)
    }

    fn ev(number: &str, kind: TicketEventKind, t: f64) -> TicketEvent {
        TicketEvent {
            day: "2026-10-05".into(),
            number: number.into(),
            kind,
            t,
            source: "api".into(),
        }
    }

    #[test]
    fn ticket_events_build_a_ticket_and_resends_change_nothing() {
        let (_d, mut s) = store();
        let issued = ev(
            "A001",
            TicketEventKind::Issued {
                service: "Hộ tịch".into(),
            },
            T0,
        );
        assert_eq!(
            s.apply_ticket_event("hall", &issued).unwrap(),
            Upsert::Inserted
        );
        assert_eq!(
            s.apply_ticket_event("hall", &issued).unwrap(),
            Upsert::Unchanged
        );
        let called = ev("A001", TicketEventKind::Called { counter: 3 }, T0 + 600.0);
        assert_eq!(
            s.apply_ticket_event("hall", &called).unwrap(),
            Upsert::Updated
        );
        let finished = ev("A001", TicketEventKind::Finished { counter: 3 }, T0 + 900.0);
        assert_eq!(
            s.apply_ticket_event("hall", &finished).unwrap(),
            Upsert::Updated
        );
        assert_eq!(
            s.apply_ticket_event("hall", &finished).unwrap(),
            Upsert::Unchanged
        );
        // A late duplicate 'issued' keeps what the later events set.
        assert_eq!(
            s.apply_ticket_event("hall", &issued).unwrap(),
            Upsert::Unchanged
        );
        let t = s.ticket("hall", "2026-10-05", "A001").unwrap().unwrap();
        assert_eq!(t.wait_s(), Some(600.0));
        assert_eq!(t.service_s(), Some(300.0));
        assert_eq!(t.counter, Some(3));
        assert_eq!(t.service, "Hộ tịch");
        // The same number on another site or day is another ticket.
        let other_day = TicketEvent {
            day: "2026-10-06".into(),
            t: T0 + 86_400.0,
            ..issued.clone()
        };
        assert_eq!(
            s.apply_ticket_event("hall", &other_day).unwrap(),
            Upsert::Inserted
        );
        assert_eq!(s.tickets("hall", T0, T0 + 2.0 * 86_400.0).unwrap().len(), 2);
        assert_eq!(s.tickets("hall", T0, T0 + 3600.0).unwrap().len(), 1);
        assert!(
            s.tickets("other", T0, T0 + 2.0 * 86_400.0)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn an_event_for_a_ticket_never_issued_is_refused_and_named() {
        let (_d, mut s) = store();
        let e = s
            .apply_ticket_event("hall", &ev("B7", TicketEventKind::NoShow, T0))
            .unwrap_err();
        assert!(
            e.to_string().contains("B7 of 2026-10-05 was never issued"),
            "{e}"
        );
        let bad = TicketEvent {
            day: "05/10/2026".into(),
            ..ev("B7", TicketEventKind::NoShow, T0)
        };
        assert!(s.apply_ticket_event("hall", &bad).is_err());
    }

    #[test]
    fn imported_rows_merge_and_reimport_is_unchanged() {
        let (_d, mut s) = store();
        let row = Ticket {
            day: "2026-10-05".into(),
            number: "12".into(),
            service: String::new(),
            issued: T0,
            called: Some(T0 + 120.0),
            counter: Some(2),
            finished: None,
            no_show: None,
            source: "day.csv".into(),
        };
        assert_eq!(
            s.upsert_tickets("h", std::slice::from_ref(&row)).unwrap(),
            [Upsert::Inserted]
        );
        assert_eq!(
            s.upsert_tickets("h", std::slice::from_ref(&row)).unwrap(),
            [Upsert::Unchanged]
        );
        let later = Ticket {
            finished: Some(T0 + 400.0),
            called: None,
            ..row.clone()
        };
        assert_eq!(s.upsert_tickets("h", &[later]).unwrap(), [Upsert::Updated]);
        let t = s.ticket("h", "2026-10-05", "12").unwrap().unwrap();
        assert_eq!((t.wait_s(), t.service_s()), (Some(120.0), Some(280.0)));
    }

    #[test]
    fn ratings_are_stored_once_per_client_id() {
        let (_d, mut s) = store();
        let r = Rating {
            t: T0,
            counter: Some(1),
            ticket: None,
            level: RatingLevel::Satisfied,
            score: None,
            scale_max: None,
            comment: "nhanh".into(),
            device: "kiosk-1".into(),
            client_id: Some("c-1".into()),
        };
        assert!(s.insert_rating("h", &r).unwrap());
        assert!(!s.insert_rating("h", &r).unwrap());
        let other_device = Rating {
            device: "kiosk-2".into(),
            ..r.clone()
        };
        assert!(s.insert_rating("h", &other_device).unwrap());
        let stars = Rating {
            score: Some(2),
            scale_max: Some(5),
            level: RatingLevel::Dissatisfied,
            client_id: None,
            ..r.clone()
        };
        assert!(s.insert_rating("h", &stars).unwrap());
        assert!(
            s.insert_rating("h", &stars).unwrap(),
            "no client id: no deduplication"
        );
        let bad = Rating {
            score: Some(6),
            ..stars.clone()
        };
        assert!(s.insert_rating("h", &bad).is_err());
        let got = s.ratings("h", T0, T0 + 1.0).unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], r);
    }

    #[test]
    fn dossiers_upsert_and_open_in_range() {
        let (_d, mut s) = store();
        let d = Dossier {
            code: "HS-1".into(),
            service: "Cấp phép".into(),
            channel: Channel::Online,
            received: T0,
            due: Some(T0 + 3.0 * 86_400.0),
            resolved: None,
        };
        assert_eq!(
            s.upsert_dossiers("h", std::slice::from_ref(&d)).unwrap(),
            [Upsert::Inserted]
        );
        assert_eq!(
            s.upsert_dossiers("h", std::slice::from_ref(&d)).unwrap(),
            [Upsert::Unchanged]
        );
        let done = Dossier {
            resolved: Some(T0 + 86_400.0),
            ..d.clone()
        };
        assert_eq!(
            s.upsert_dossiers("h", std::slice::from_ref(&done)).unwrap(),
            [Upsert::Updated]
        );
        assert_eq!(s.dossiers("h", T0, T0 + 10.0).unwrap(), [done]);
        // Resolved before the range: not open in it.
        assert!(
            s.dossiers("h", T0 + 2.0 * 86_400.0, T0 + 3.0 * 86_400.0)
                .unwrap()
                .is_empty()
        );
        assert_eq!(s.sites().unwrap(), ["h"]);
    }
}
