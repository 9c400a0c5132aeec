//! Alerts and their notifications: the `alerts` and `alert_deliveries` tables.
//!
//! An alert's lifecycle is triggered → acknowledged (who, note) → resolved; acknowledging
//! after the alert resolved is allowed (an operator may see it late), and the first
//! acknowledgement is kept. Each notification of an alert event on one channel is a delivery:
//! pending (with its next try) → delivered, or failed once retries are given up.
//!
//! - Writes: [`Store::insert_alert`] (idempotent on rule, target and trigger time),
//!   [`Store::set_alert_peak`], [`Store::acknowledge_alert`], [`Store::resolve_alert`],
//!   [`Store::insert_delivery`], [`Store::record_delivery_attempt`].
//! - Reads: [`Store::alert`], [`Store::alerts`] ([`AlertQuery`]: time range, state, zone,
//!   camera, kind, severity), [`Store::deliveries_of`], [`Store::deliveries`]
//!   ([`DeliveryQuery`]), [`Store::delivery_counts`] per channel, and
//!   [`Store::alert_summary`] for the monthly report (counts per kind and severity, mean and
//!   median time to acknowledge).

use crate::StoreError;
use crate::store::Store;
use hallwatch_config::alerts::{AlertKind, Severity};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};
use serde::{Deserialize, Serialize};

/// A new alert, as the alert engine raises it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAlert {
    /// Id of the rule that raised it.
    pub rule: String,
    /// What the rule watches.
    pub kind: AlertKind,
    /// How serious.
    pub severity: Severity,
    /// Camera concerned ('' when not about one).
    pub camera: String,
    /// Zone concerned ('' when not about one).
    pub zone: String,
    /// Counter number concerned, if any.
    pub counter: Option<u32>,
    /// When the alert was raised (Unix seconds); time to acknowledge counts from here.
    pub triggered: f64,
    /// The measured value when it was raised.
    pub value: Option<f64>,
    /// The message as first sent.
    pub message: String,
}

/// Where an alert is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Raised, nobody has acknowledged it, still active.
    Triggered,
    /// Acknowledged by an operator, still active.
    Acknowledged,
    /// Over (acknowledged or not).
    Resolved,
}

impl AlertState {
    /// `triggered`, `acknowledged` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Triggered => "triggered",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }
}

/// One stored alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Row id (stable; the dashboard links `#/alerts/<id>`).
    pub id: i64,
    /// `[site].id`.
    pub site: String,
    /// Id of the rule that raised it.
    pub rule: String,
    /// What the rule watches.
    pub kind: AlertKind,
    /// How serious.
    pub severity: Severity,
    /// Camera concerned ('' when not about one).
    pub camera: String,
    /// Zone concerned ('' when not about one).
    pub zone: String,
    /// Counter number concerned, if any.
    pub counter: Option<u32>,
    /// When the alert was raised (Unix seconds).
    pub triggered: f64,
    /// Measured value when raised.
    pub value: Option<f64>,
    /// Worst value while active.
    pub peak: Option<f64>,
    /// The message as first sent.
    pub message: String,
    /// When it was acknowledged.
    pub acknowledged: Option<f64>,
    /// Who acknowledged it.
    pub ack_by: Option<String>,
    /// The acknowledger's note.
    pub ack_note: Option<String>,
    /// When it ended.
    pub resolved: Option<f64>,
    /// Where it is in its lifecycle (derived from the times above).
    pub state: AlertState,
}

/// Which alerts [`Store::alerts`] returns by state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStateFilter {
    /// Not resolved yet (triggered or acknowledged).
    Active,
    /// Active and not acknowledged.
    Triggered,
    /// Active and acknowledged.
    Acknowledged,
    /// Resolved.
    Resolved,
    /// Never acknowledged, active or resolved.
    Unacknowledged,
}

impl AlertStateFilter {
    fn sql(self) -> &'static str {
        match self {
            AlertStateFilter::Active => "resolved IS NULL",
            AlertStateFilter::Triggered => "resolved IS NULL AND acknowledged IS NULL",
            AlertStateFilter::Acknowledged => "resolved IS NULL AND acknowledged IS NOT NULL",
            AlertStateFilter::Resolved => "resolved IS NOT NULL",
            AlertStateFilter::Unacknowledged => "acknowledged IS NULL",
        }
    }
}

/// Which alerts to read: all filters combine; `None` does not filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertQuery {
    /// `[site].id`.
    pub site: String,
    /// Triggered at or after this time.
    pub from: Option<f64>,
    /// Triggered before this time.
    pub to: Option<f64>,
    /// Lifecycle state.
    pub state: Option<AlertStateFilter>,
    /// Zone id.
    pub zone: Option<String>,
    /// Camera id.
    pub camera: Option<String>,
    /// Rule kind.
    pub kind: Option<AlertKind>,
    /// At least this severe.
    pub min_severity: Option<Severity>,
    /// Rule id.
    pub rule: Option<String>,
    /// At most this many (the newest).
    pub limit: Option<usize>,
}

impl AlertQuery {
    /// Every alert of `site`.
    pub fn site(site: impl Into<String>) -> Self {
        Self {
            site: site.into(),
            ..Self::default()
        }
    }
}

/// What [`Store::acknowledge_alert`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum AckOutcome {
    /// Acknowledged now; the alert as it is after.
    Acknowledged(AlertRecord),
    /// Someone acknowledged it before; kept as it was.
    AlreadyAcknowledged(AlertRecord),
    /// No alert with that id.
    NotFound,
}

/// Which alert event a notification is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryEvent {
    /// The alert was raised.
    Triggered,
    /// Reminder: the alert is still active.
    Renotify,
    /// The alert ended.
    Resolved,
}

impl DeliveryEvent {
    /// `triggered`, `renotify` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryEvent::Triggered => "triggered",
            DeliveryEvent::Renotify => "renotify",
            DeliveryEvent::Resolved => "resolved",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Triggered, Self::Renotify, Self::Resolved]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Where a notification is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not delivered yet; tried again at `next_try`.
    Pending,
    /// Accepted by the channel.
    Delivered,
    /// Given up after the last attempt.
    Failed,
}

impl DeliveryState {
    /// `pending`, `delivered` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A notification to deliver.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDelivery {
    /// The alert's row id.
    pub alert: i64,
    /// Channel id (`[[alerts.channels]].id`).
    pub channel: String,
    /// Which event.
    pub event: DeliveryEvent,
    /// When it was queued (Unix seconds); also its first try.
    pub created: f64,
}

/// One stored notification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// Row id.
    pub id: i64,
    /// The alert's row id.
    pub alert: i64,
    /// Channel id.
    pub channel: String,
    /// Which event.
    pub event: DeliveryEvent,
    /// Where it is.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: u32,
    /// The last failure ('' if none).
    pub last_error: String,
    /// Next attempt while pending.
    pub next_try: Option<f64>,
    /// When it was queued.
    pub created: f64,
    /// When the channel accepted it.
    pub delivered: Option<f64>,
}

/// The result of one delivery attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum DeliveryAttempt {
    /// The channel accepted it at `t`.
    Delivered {
        /// When.
        t: f64,
    },
    /// The attempt failed at `t`.
    Failed {
        /// When.
        t: f64,
        /// What went wrong.
        error: String,
        /// When to try again; `None` gives up (state failed).
        retry_at: Option<f64>,
    },
}

/// Which deliveries [`Store::deliveries`] returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeliveryQuery {
    /// `[site].id` (of the alert).
    pub site: String,
    /// Only in this state.
    pub state: Option<DeliveryState>,
    /// Only on this channel.
    pub channel: Option<String>,
    /// At most this many (the newest).
    pub limit: Option<usize>,
}

/// Deliveries of one channel by state, for the dashboard's channel health.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelDeliveryCounts {
    /// Channel id.
    pub channel: String,
    /// Waiting for their next try.
    pub pending: u64,
    /// Accepted.
    pub delivered: u64,
    /// Given up.
    pub failed: u64,
    /// The newest failure message on this channel ('' if none).
    pub last_error: String,
    /// When this channel last accepted a notification.
    pub last_delivered: Option<f64>,
}

/// Alerts of one kind and severity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindSeverityCount {
    /// The kind.
    pub kind: AlertKind,
    /// The severity.
    pub severity: Severity,
    /// How many were raised.
    pub count: u64,
}

/// Alerts raised in a period, for the monthly report (Báo cáo tháng).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertSummary {
    /// Start of the period (Unix seconds).
    pub from: f64,
    /// End of the period (exclusive).
    pub to: f64,
    /// Alerts raised in the period.
    pub total: u64,
    /// By kind and severity, kinds in [`AlertKind::ALL`] order, then mildest severity first.
    pub by_kind: Vec<KindSeverityCount>,
    /// Of these, acknowledged (at any time up to now).
    pub acknowledged: u64,
    /// Of these, never acknowledged.
    pub unacknowledged: u64,
    /// Of these, resolved.
    pub resolved: u64,
    /// Mean seconds from raise to acknowledgement, over the acknowledged ones.
    pub mean_ack_s: Option<f64>,
    /// Median seconds from raise to acknowledgement.
    pub median_ack_s: Option<f64>,
    /// Mean seconds from raise to resolution, over the resolved ones.
    pub mean_duration_s: Option<f64>,
}

const ALERT_COLUMNS: &str = "id, site, rule, kind, severity, camera, zone, counter, triggered, \
     value, peak, message, acknowledged, ack_by, ack_note, resolved";

const DELIVERY_COLUMNS: &str = "d.id, d.alert, d.channel, d.event, d.state, d.attempts, \
     d.last_error, d.next_try, d.created, d.delivered";

fn finite(what: &'static str, field: &str, v: f64) -> Result<(), StoreError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(StoreError::InvalidRecord {
            what,
            detail: format!("{field} = {v} is not a finite time or value"),
        })
    }
}

/// A row as read, before decoding the enum columns.
struct RawAlert {
    rec: AlertRecord,
    kind: String,
    severity: String,
}

fn read_alert(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawAlert> {
    let acknowledged: Option<f64> = r.get(12)?;
    let resolved: Option<f64> = r.get(15)?;
    let state = match (acknowledged, resolved) {
        (_, Some(_)) => AlertState::Resolved,
        (Some(_), None) => AlertState::Acknowledged,
        (None, None) => AlertState::Triggered,
    };
    Ok(RawAlert {
        kind: r.get(3)?,
        severity: r.get(4)?,
        rec: AlertRecord {
            id: r.get(0)?,
            site: r.get(1)?,
            rule: r.get(2)?,
            kind: AlertKind::QueueLength,
            severity: Severity::Info,
            camera: r.get(5)?,
            zone: r.get(6)?,
            counter: r
                .get::<_, Option<i64>>(7)?
                .and_then(|c| u32::try_from(c).ok()),
            triggered: r.get(8)?,
            value: r.get(9)?,
            peak: r.get(10)?,
            message: r.get(11)?,
            acknowledged,
            ack_by: r.get(13)?,
            ack_note: r.get(14)?,
            resolved,
            state,
        },
    })
}

struct RawDelivery {
    rec: DeliveryRecord,
    event: String,
    state: String,
}

fn read_delivery(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawDelivery> {
    Ok(RawDelivery {
        event: r.get(3)?,
        state: r.get(4)?,
        rec: DeliveryRecord {
            id: r.get(0)?,
            alert: r.get(1)?,
            channel: r.get(2)?,
            event: DeliveryEvent::Triggered,
            state: DeliveryState::Pending,
            attempts: u32::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
            last_error: r.get(6)?,
            next_try: r.get(7)?,
            created: r.get(8)?,
            delivered: r.get(9)?,
        },
    })
}

fn limit_arg(n: usize) -> Value {
    Value::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

impl Store {
    fn decode_alert(&self, raw: RawAlert) -> Result<AlertRecord, StoreError> {
        let bad = |detail: String| StoreError::Decode {
            path: self.path.clone(),
            table: "alerts",
            row: raw.rec.id,
            detail,
        };
        let kind = AlertKind::parse(&raw.kind)
            .ok_or_else(|| bad(format!("unknown kind {:?}", raw.kind)))?;
        let severity = Severity::parse(&raw.severity)
            .ok_or_else(|| bad(format!("unknown severity {:?}", raw.severity)))?;
        Ok(AlertRecord {
            kind,
            severity,
            ..raw.rec
        })
    }

    fn decode_delivery(&self, raw: RawDelivery) -> Result<DeliveryRecord, StoreError> {
        let bad = |detail: String| StoreError::Decode {
            path: self.path.clone(),
            table: "alert_deliveries",
            row: raw.rec.id,
            detail,
        };
        let event = DeliveryEvent::parse(&raw.event)
            .ok_or_else(|| bad(format!("unknown event {:?}", raw.event)))?;
        let state = DeliveryState::parse(&raw.state)
            .ok_or_else(|| bad(format!("unknown state {:?}", raw.state)))?;
        Ok(DeliveryRecord {
            event,
            state,
            ..raw.rec
        })
    }

    fn read_alerts(
        &self,
        sql: &str,
        args: Vec<Value>,
        op: &'static str,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(op, e))?;
        let rows = stmt
            .query_map(params_from_iter(args), read_alert)
            .map_err(|e| self.err(op, e))?;
        let mut out = Vec::new();
        for raw in rows {
            out.push(self.decode_alert(raw.map_err(|e| self.err(op, e))?)?);
        }
        Ok(out)
    }

    fn read_deliveries(
        &self,
        sql: &str,
        args: Vec<Value>,
        op: &'static str,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(op, e))?;
        let rows = stmt
            .query_map(params_from_iter(args), read_delivery)
            .map_err(|e| self.err(op, e))?;
        let mut out = Vec::new();
        for raw in rows {
            out.push(self.decode_delivery(raw.map_err(|e| self.err(op, e))?)?);
        }
        Ok(out)
    }

    /// Stores a new alert of `site` and returns its id. Idempotent: the same rule, target and
    /// trigger time give the same row (its severity, value and message are updated).
    pub fn insert_alert(&mut self, site: &str, alert: &NewAlert) -> Result<i64, StoreError> {
        finite("alert", "triggered", alert.triggered)?;
        if let Some(v) = alert.value {
            finite("alert", "value", v)?;
        }
        if alert.rule.is_empty() {
            return Err(StoreError::InvalidRecord {
                what: "alert",
                detail: "empty rule id".into(),
            });
        }
        // In its own transaction: with RETURNING in autocommit mode the commit happens when
        // the statement is reset after its row was read, and a failed commit (full disk)
        // would go unnoticed — the id of a row that was never stored.
        let tx = self
            .conn
            .transaction()
            .map_err(|e| crate::error::sql_err(&self.path, "inserting an alert", e))?;
        let id = tx
            .prepare_cached(
                "INSERT INTO alerts (site, rule, kind, severity, camera, zone, counter, \
                     triggered, value, peak, message) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10) \
                 ON CONFLICT (site, rule, camera, zone, triggered) DO UPDATE SET \
                     kind = excluded.kind, severity = excluded.severity, \
                     counter = excluded.counter, value = excluded.value, \
                     message = excluded.message \
                 RETURNING id",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![
                        site,
                        alert.rule,
                        alert.kind.as_str(),
                        alert.severity.as_str(),
                        alert.camera,
                        alert.zone,
                        alert.counter.map(i64::from),
                        alert.triggered,
                        alert.value,
                        alert.message,
                    ],
                    |r| r.get(0),
                )
            })
            .and_then(|id: i64| tx.commit().map(|()| id))
            .map_err(|e| crate::error::sql_err(&self.path, "inserting an alert", e))?;
        Ok(id)
    }

    /// Sets the worst value seen while alert `id` is active. False when there is no such
    /// alert.
    pub fn set_alert_peak(&mut self, id: i64, peak: f64) -> Result<bool, StoreError> {
        finite("alert", "peak", peak)?;
        self.conn
            .execute(
                "UPDATE alerts SET peak = ?2 WHERE id = ?1",
                params![id, peak],
            )
            .map(|n| n > 0)
            .map_err(|e| self.err("updating an alert's peak", e))
    }

    /// Records that `who` acknowledged alert `id` at `t`, with an optional `note`. The first
    /// acknowledgement is kept: a second one changes nothing and says so. A resolved alert may
    /// still be acknowledged.
    pub fn acknowledge_alert(
        &mut self,
        id: i64,
        who: &str,
        note: &str,
        t: f64,
    ) -> Result<AckOutcome, StoreError> {
        finite("acknowledgement", "t", t)?;
        if who.trim().is_empty() {
            return Err(StoreError::InvalidRecord {
                what: "acknowledgement",
                detail: "who acknowledged is empty".into(),
            });
        }
        let changed = self
            .conn
            .execute(
                "UPDATE alerts SET acknowledged = max(?2, triggered), ack_by = ?3, ack_note = ?4 \
                 WHERE id = ?1 AND acknowledged IS NULL",
                params![id, t, who, note],
            )
            .map_err(|e| self.err("acknowledging an alert", e))?;
        Ok(match (changed, self.alert(id)?) {
            (_, None) => AckOutcome::NotFound,
            (0, Some(a)) => AckOutcome::AlreadyAcknowledged(a),
            (_, Some(a)) => AckOutcome::Acknowledged(a),
        })
    }

    /// Marks alert `id` resolved at `t` (never before it was raised). False when there is no
    /// such alert or it was already resolved.
    pub fn resolve_alert(&mut self, id: i64, t: f64) -> Result<bool, StoreError> {
        finite("alert", "resolved", t)?;
        self.conn
            .execute(
                "UPDATE alerts SET resolved = max(?2, triggered) \
                 WHERE id = ?1 AND resolved IS NULL",
                params![id, t],
            )
            .map(|n| n > 0)
            .map_err(|e| self.err("resolving an alert", e))
    }

    /// Alert `id`, if it exists.
    pub fn alert(&self, id: i64) -> Result<Option<AlertRecord>, StoreError> {
        let op = "reading an alert";
        let raw = self
            .conn
            .prepare_cached(&format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1"))
            .and_then(|mut s| s.query_row(params![id], read_alert).optional())
            .map_err(|e| self.err(op, e))?;
        raw.map(|r| self.decode_alert(r)).transpose()
    }

    /// Alerts matching `q`, newest first.
    pub fn alerts(&self, q: &AlertQuery) -> Result<Vec<AlertRecord>, StoreError> {
        let mut sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE site = ?");
        let mut args = vec![Value::Text(q.site.clone())];
        if let Some(from) = q.from {
            sql.push_str(" AND triggered >= ?");
            args.push(Value::Real(from));
        }
        if let Some(to) = q.to {
            sql.push_str(" AND triggered < ?");
            args.push(Value::Real(to));
        }
        if let Some(s) = q.state {
            sql.push_str(" AND ");
            sql.push_str(s.sql());
        }
        for (col, v) in [("zone", &q.zone), ("camera", &q.camera), ("rule", &q.rule)] {
            if let Some(v) = v {
                sql.push_str(&format!(" AND {col} = ?"));
                args.push(Value::Text(v.clone()));
            }
        }
        if let Some(k) = q.kind {
            sql.push_str(" AND kind = ?");
            args.push(Value::Text(k.as_str().into()));
        }
        if let Some(min) = q.min_severity {
            let allowed: Vec<&str> = Severity::ALL
                .into_iter()
                .filter(|s| *s >= min)
                .map(Severity::as_str)
                .collect();
            sql.push_str(&format!(
                " AND severity IN ({})",
                vec!["?"; allowed.len()].join(", ")
            ));
            args.extend(allowed.into_iter().map(|s| Value::Text(s.into())));
        }
        sql.push_str(" ORDER BY triggered DESC, id DESC");
        if let Some(n) = q.limit {
            sql.push_str(" LIMIT ?");
            args.push(limit_arg(n));
        }
        self.read_alerts(&sql, args, "reading alerts")
    }

    /// Queues a notification (state pending, first try at `created`) and returns its id.
    pub fn insert_delivery(&mut self, d: &NewDelivery) -> Result<i64, StoreError> {
        finite("delivery", "created", d.created)?;
        // Its own transaction, so a failed commit is seen (see `insert_alert`).
        let tx = self
            .conn
            .transaction()
            .map_err(|e| crate::error::sql_err(&self.path, "queuing a notification", e))?;
        let id = tx
            .prepare_cached(
                "INSERT INTO alert_deliveries (alert, channel, event, state, attempts, \
                     next_try, created) \
                 VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?4) RETURNING id",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![d.alert, d.channel, d.event.as_str(), d.created],
                    |r| r.get(0),
                )
            })
            .and_then(|id: i64| tx.commit().map(|()| id))
            .map_err(|e| crate::error::sql_err(&self.path, "queuing a notification", e))?;
        Ok(id)
    }

    /// Records one attempt at delivery `id`: one more attempt, then delivered, pending until
    /// `retry_at`, or failed. An attempt on a delivery no longer pending changes nothing.
    /// Returns the delivery as it is after, `None` when there is no such delivery.
    pub fn record_delivery_attempt(
        &mut self,
        id: i64,
        attempt: &DeliveryAttempt,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        let op = "recording a delivery attempt";
        match attempt {
            DeliveryAttempt::Delivered { t } => {
                finite("delivery attempt", "t", *t)?;
                self.conn
                    .execute(
                        "UPDATE alert_deliveries SET state = 'delivered', \
                             attempts = attempts + 1, delivered = ?2, next_try = NULL \
                         WHERE id = ?1 AND state = 'pending'",
                        params![id, t],
                    )
                    .map_err(|e| self.err(op, e))?;
            }
            DeliveryAttempt::Failed { t, error, retry_at } => {
                finite("delivery attempt", "t", *t)?;
                if let Some(r) = retry_at {
                    finite("delivery attempt", "retry_at", *r)?;
                }
                let state = if retry_at.is_some() {
                    DeliveryState::Pending
                } else {
                    DeliveryState::Failed
                };
                self.conn
                    .execute(
                        "UPDATE alert_deliveries SET state = ?2, attempts = attempts + 1, \
                             last_error = ?3, next_try = ?4 \
                         WHERE id = ?1 AND state = 'pending'",
                        params![id, state.as_str(), error, retry_at],
                    )
                    .map_err(|e| self.err(op, e))?;
            }
        }
        self.delivery(id)
    }

    /// Delivery `id`, if it exists.
    pub fn delivery(&self, id: i64) -> Result<Option<DeliveryRecord>, StoreError> {
        let op = "reading a delivery";
        let raw = self
            .conn
            .prepare_cached(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries d WHERE d.id = ?1"
            ))
            .and_then(|mut s| s.query_row(params![id], read_delivery).optional())
            .map_err(|e| self.err(op, e))?;
        raw.map(|r| self.decode_delivery(r)).transpose()
    }

    /// The notifications of alert `id`, oldest first.
    pub fn deliveries_of(&self, alert: i64) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.read_deliveries(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries d WHERE d.alert = ? \
                 ORDER BY d.created, d.id"
            ),
            vec![Value::Integer(alert)],
            "reading an alert's deliveries",
        )
    }

    /// Notifications of `q.site`'s alerts, newest first (pending ones: the next to try
    /// first).
    pub fn deliveries(&self, q: &DeliveryQuery) -> Result<Vec<DeliveryRecord>, StoreError> {
        let mut sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries d JOIN alerts a ON a.id = d.alert \
             WHERE a.site = ?"
        );
        let mut args = vec![Value::Text(q.site.clone())];
        if let Some(s) = q.state {
            sql.push_str(" AND d.state = ?");
            args.push(Value::Text(s.as_str().into()));
        }
        if let Some(c) = &q.channel {
            sql.push_str(" AND d.channel = ?");
            args.push(Value::Text(c.clone()));
        }
        if q.state == Some(DeliveryState::Pending) {
            sql.push_str(" ORDER BY d.next_try, d.id");
        } else {
            sql.push_str(" ORDER BY d.created DESC, d.id DESC");
        }
        if let Some(n) = q.limit {
            sql.push_str(" LIMIT ?");
            args.push(limit_arg(n));
        }
        self.read_deliveries(&sql, args, "reading deliveries")
    }

    /// Per channel: deliveries of `site`'s alerts by state, the newest error and the last
    /// success. Channels by id.
    pub fn delivery_counts(&self, site: &str) -> Result<Vec<ChannelDeliveryCounts>, StoreError> {
        let op = "counting deliveries";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT d.channel, \
                     sum(d.state = 'pending'), sum(d.state = 'delivered'), \
                     sum(d.state = 'failed'), max(d.delivered), \
                     (SELECT e.last_error FROM alert_deliveries e JOIN alerts ea \
                          ON ea.id = e.alert \
                      WHERE ea.site = a.site AND e.channel = d.channel AND e.last_error != '' \
                      ORDER BY e.created DESC, e.id DESC LIMIT 1) \
                 FROM alert_deliveries d JOIN alerts a ON a.id = d.alert \
                 WHERE a.site = ?1 GROUP BY d.channel ORDER BY d.channel",
            )
            .map_err(|e| self.err(op, e))?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        let rows = stmt
            .query_map(params![site], |r| {
                Ok(ChannelDeliveryCounts {
                    channel: r.get(0)?,
                    pending: n(r.get(1)?),
                    delivered: n(r.get(2)?),
                    failed: n(r.get(3)?),
                    last_delivered: r.get(4)?,
                    last_error: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                })
            })
            .map_err(|e| self.err(op, e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(op, e))
    }

    /// Alerts of `site` raised in `[from, to)`: counts per kind and severity, how many were
    /// acknowledged and resolved, and the mean and median time to acknowledge.
    pub fn alert_summary(
        &self,
        site: &str,
        from: f64,
        to: f64,
    ) -> Result<AlertSummary, StoreError> {
        let alerts = self.alerts(&AlertQuery {
            site: site.into(),
            from: Some(from),
            to: Some(to),
            ..AlertQuery::default()
        })?;
        let mut by_kind: Vec<KindSeverityCount> = Vec::new();
        for kind in AlertKind::ALL {
            for severity in Severity::ALL {
                let count = alerts
                    .iter()
                    .filter(|a| a.kind == kind && a.severity == severity)
                    .count() as u64;
                if count > 0 {
                    by_kind.push(KindSeverityCount {
                        kind,
                        severity,
                        count,
                    });
                }
            }
        }
        let mut ack: Vec<f64> = alerts
            .iter()
            .filter_map(|a| a.acknowledged.map(|t| (t - a.triggered).max(0.0)))
            .collect();
        ack.sort_by(f64::total_cmp);
        let durations: Vec<f64> = alerts
            .iter()
            .filter_map(|a| a.resolved.map(|t| (t - a.triggered).max(0.0)))
            .collect();
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        let median = match ack.len() {
            0 => None,
            n if n % 2 == 1 => Some(ack[n / 2]),
            n => Some((ack[n / 2 - 1] + ack[n / 2]) / 2.0),
        };
        Ok(AlertSummary {
            from,
            to,
            total: alerts.len() as u64,
            by_kind,
            acknowledged: ack.len() as u64,
            unacknowledged: (alerts.len() - ack.len()) as u64,
            resolved: durations.len() as u64,
            mean_ack_s: mean(&ack),
            median_ack_s: median,
            mean_duration_s: mean(&durations),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: f64 = 1_791_133_200.0 + 9.0 * 3600.0; // Monday 2026-10-05 09:00 +07

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("hallwatch.db")).unwrap();
        (dir, store)
    }

    fn queue_alert(zone: &str, t: f64) -> NewAlert {
        NewAlert {
            rule: "hang-cho".into(),
            kind: AlertKind::QueueLength,
            severity: Severity::Warning,
            camera: String::new(),
            zone: zone.into(),
            counter: None,
            triggered: t,
            value: Some(16.0),
            message: "Hàng chờ dài".into(),
        }
    }

    #[test]
    fn lifecycle_triggered_acknowledged_resolved() {
        let (_d, mut s) = open();
        let id = s
            .insert_alert("an-phu", &queue_alert("khu-cho", T0))
            .unwrap();
        assert_eq!(
            s.insert_alert("an-phu", &queue_alert("khu-cho", T0))
                .unwrap(),
            id,
            "idempotent"
        );
        let a = s.alert(id).unwrap().unwrap();
        assert_eq!(a.state, AlertState::Triggered);
        assert_eq!((a.value, a.peak), (Some(16.0), Some(16.0)));
        assert!(s.set_alert_peak(id, 22.0).unwrap());

        let AckOutcome::Acknowledged(a) = s
            .acknowledge_alert(id, "truong-bo-phan", "đã mở thêm quầy 4", T0 + 90.0)
            .unwrap()
        else {
            panic!("not acknowledged")
        };
        assert_eq!(a.state, AlertState::Acknowledged);
        assert_eq!(a.ack_by.as_deref(), Some("truong-bo-phan"));
        assert_eq!(a.ack_note.as_deref(), Some("đã mở thêm quầy 4"));
        assert_eq!(a.peak, Some(22.0));
        // A second acknowledgement keeps the first.
        let AckOutcome::AlreadyAcknowledged(a) =
            s.acknowledge_alert(id, "admin", "", T0 + 200.0).unwrap()
        else {
            panic!("acknowledged twice")
        };
        assert_eq!(a.acknowledged, Some(T0 + 90.0));
        assert_eq!(
            s.acknowledge_alert(id + 100, "admin", "", T0).unwrap(),
            AckOutcome::NotFound
        );

        assert!(s.resolve_alert(id, T0 + 600.0).unwrap());
        assert!(!s.resolve_alert(id, T0 + 700.0).unwrap(), "resolved once");
        let a = s.alert(id).unwrap().unwrap();
        assert_eq!(a.state, AlertState::Resolved);
        assert_eq!(a.resolved, Some(T0 + 600.0));
        assert!(s.acknowledge_alert(id, " ", "", T0).is_err());
        assert!(s.resolve_alert(id, f64::NAN).is_err());
    }

    #[test]
    fn history_filters_by_time_state_zone_kind_and_severity() {
        let (_d, mut s) = open();
        let a = s
            .insert_alert("an-phu", &queue_alert("khu-cho", T0))
            .unwrap();
        let b = s
            .insert_alert("an-phu", &queue_alert("khu-cho-b", T0 + 3600.0))
            .unwrap();
        let c = s
            .insert_alert(
                "an-phu",
                &NewAlert {
                    rule: "camera".into(),
                    kind: AlertKind::CameraDown,
                    severity: Severity::Critical,
                    camera: "sanh".into(),
                    zone: String::new(),
                    counter: None,
                    triggered: T0 + 7200.0,
                    value: None,
                    message: String::new(),
                },
            )
            .unwrap();
        s.insert_alert("other-hall", &queue_alert("khu-cho", T0))
            .unwrap();
        s.acknowledge_alert(b, "admin", "", T0 + 3700.0).unwrap();
        s.resolve_alert(a, T0 + 100.0).unwrap();

        let ids = |q: AlertQuery| -> Vec<i64> {
            s.alerts(&q).unwrap().into_iter().map(|a| a.id).collect()
        };
        assert_eq!(ids(AlertQuery::site("an-phu")), [c, b, a], "newest first");
        let state = |st| AlertQuery {
            state: Some(st),
            ..AlertQuery::site("an-phu")
        };
        assert_eq!(ids(state(AlertStateFilter::Active)), [c, b]);
        assert_eq!(ids(state(AlertStateFilter::Triggered)), [c]);
        assert_eq!(ids(state(AlertStateFilter::Acknowledged)), [b]);
        assert_eq!(ids(state(AlertStateFilter::Resolved)), [a]);
        assert_eq!(ids(state(AlertStateFilter::Unacknowledged)), [c, a]);
        assert_eq!(
            ids(AlertQuery {
                from: Some(T0 + 1.0),
                to: Some(T0 + 7200.0),
                ..AlertQuery::site("an-phu")
            }),
            [b]
        );
        assert_eq!(
            ids(AlertQuery {
                zone: Some("khu-cho".into()),
                ..AlertQuery::site("an-phu")
            }),
            [a]
        );
        assert_eq!(
            ids(AlertQuery {
                kind: Some(AlertKind::CameraDown),
                ..AlertQuery::site("an-phu")
            }),
            [c]
        );
        assert_eq!(
            ids(AlertQuery {
                min_severity: Some(Severity::Critical),
                ..AlertQuery::site("an-phu")
            }),
            [c]
        );
        assert_eq!(
            ids(AlertQuery {
                limit: Some(1),
                ..AlertQuery::site("an-phu")
            }),
            [c]
        );
    }

    #[test]
    fn deliveries_retry_then_deliver_or_fail_and_are_counted_per_channel() {
        let (_d, mut s) = open();
        let id = s
            .insert_alert("an-phu", &queue_alert("khu-cho", T0))
            .unwrap();
        let hook = s
            .insert_delivery(&NewDelivery {
                alert: id,
                channel: "hook".into(),
                event: DeliveryEvent::Triggered,
                created: T0,
            })
            .unwrap();
        let mail = s
            .insert_delivery(&NewDelivery {
                alert: id,
                channel: "mail".into(),
                event: DeliveryEvent::Triggered,
                created: T0,
            })
            .unwrap();
        let pending = s
            .deliveries(&DeliveryQuery {
                site: "an-phu".into(),
                state: Some(DeliveryState::Pending),
                ..DeliveryQuery::default()
            })
            .unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[0].next_try, Some(T0));

        for (i, t) in [T0, T0 + 5.0].into_iter().enumerate() {
            let d = s
                .record_delivery_attempt(
                    hook,
                    &DeliveryAttempt::Failed {
                        t,
                        error: format!("HTTP 500 ({i})"),
                        retry_at: Some(t + 5.0),
                    },
                )
                .unwrap()
                .unwrap();
            assert_eq!(d.state, DeliveryState::Pending);
            assert_eq!(d.next_try, Some(t + 5.0));
        }
        let d = s
            .record_delivery_attempt(hook, &DeliveryAttempt::Delivered { t: T0 + 15.0 })
            .unwrap()
            .unwrap();
        assert_eq!(
            (d.state, d.attempts, d.delivered, d.next_try),
            (DeliveryState::Delivered, 3, Some(T0 + 15.0), None)
        );
        assert_eq!(d.last_error, "HTTP 500 (1)");
        // A late attempt result does not reopen a delivered notification.
        let d = s
            .record_delivery_attempt(
                hook,
                &DeliveryAttempt::Failed {
                    t: T0 + 16.0,
                    error: "late".into(),
                    retry_at: None,
                },
            )
            .unwrap()
            .unwrap();
        assert_eq!((d.state, d.attempts), (DeliveryState::Delivered, 3));

        s.record_delivery_attempt(
            mail,
            &DeliveryAttempt::Failed {
                t: T0,
                error: "connection refused".into(),
                retry_at: None,
            },
        )
        .unwrap();
        let counts = s.delivery_counts("an-phu").unwrap();
        assert_eq!(
            counts,
            [
                ChannelDeliveryCounts {
                    channel: "hook".into(),
                    pending: 0,
                    delivered: 1,
                    failed: 0,
                    last_error: "HTTP 500 (1)".into(),
                    last_delivered: Some(T0 + 15.0),
                },
                ChannelDeliveryCounts {
                    channel: "mail".into(),
                    pending: 0,
                    delivered: 0,
                    failed: 1,
                    last_error: "connection refused".into(),
                    last_delivered: None,
                },
            ]
        );
        let of = s.deliveries_of(id).unwrap();
        assert_eq!(of.iter().map(|d| d.id).collect::<Vec<_>>(), [hook, mail]);
        assert!(s.delivery(9999).unwrap().is_none());

        // Deliveries go with their alert when retention deletes it.
        s.resolve_alert(id, T0 + 60.0).unwrap();
        s.apply_retention(
            T0 + 400.0 * 86_400.0,
            crate::Retention {
                sessions_days: 30,
                aggregates_days: 365,
            },
        )
        .unwrap();
        assert!(s.alert(id).unwrap().is_none());
        assert!(s.deliveries_of(id).unwrap().is_empty());
    }

    #[test]
    fn summary_counts_kinds_and_times_to_acknowledge() {
        let (_d, mut s) = open();
        let mut ids = Vec::new();
        for (i, zone) in ["a", "b", "c", "d"].into_iter().enumerate() {
            ids.push(
                s.insert_alert("an-phu", &queue_alert(zone, T0 + i as f64 * 1000.0))
                    .unwrap(),
            );
        }
        let cam = s
            .insert_alert(
                "an-phu",
                &NewAlert {
                    rule: "camera".into(),
                    kind: AlertKind::CameraDown,
                    severity: Severity::Critical,
                    camera: "sanh".into(),
                    zone: String::new(),
                    counter: None,
                    triggered: T0 + 50.0,
                    value: None,
                    message: String::new(),
                },
            )
            .unwrap();
        // Outside the range: not counted.
        s.insert_alert("an-phu", &queue_alert("a", T0 + 40.0 * 86_400.0))
            .unwrap();
        // Times to acknowledge: 60, 120, 300 s; one never acknowledged.
        for (id, after) in [(ids[0], 60.0), (ids[1], 120.0), (cam, 300.0)] {
            let t = s.alert(id).unwrap().unwrap().triggered + after;
            s.acknowledge_alert(id, "admin", "", t).unwrap();
        }
        s.resolve_alert(ids[0], T0 + 600.0).unwrap();
        let sum = s
            .alert_summary("an-phu", T0 - 3600.0, T0 + 30.0 * 86_400.0)
            .unwrap();
        assert_eq!(sum.total, 5);
        assert_eq!(
            sum.by_kind,
            [
                KindSeverityCount {
                    kind: AlertKind::QueueLength,
                    severity: Severity::Warning,
                    count: 4
                },
                KindSeverityCount {
                    kind: AlertKind::CameraDown,
                    severity: Severity::Critical,
                    count: 1
                },
            ]
        );
        assert_eq!(
            (sum.acknowledged, sum.unacknowledged, sum.resolved),
            (3, 2, 1)
        );
        assert_eq!(sum.mean_ack_s, Some(160.0));
        assert_eq!(sum.median_ack_s, Some(120.0));
        assert_eq!(sum.mean_duration_s, Some(600.0));
        let empty = s.alert_summary("an-phu", 0.0, 1.0).unwrap();
        assert_eq!((empty.total, empty.mean_ack_s), (0, None));
    }
}
