//! The uplink outbox: facts waiting to be shipped to a province centre.
//!
//! Triggers (schema version 4) append one row per stored or changed fact — visit, zone sample,
//! outage, abandonment, ticket, rating, dossier, alert — in the same transaction as the write
//! itself, numbered per site `1, 2, 3, ...` without gaps, while the outbox is switched on
//! ([`Store::set_outbox`]). The publisher reads them in order ([`Store::outbox_after`]) and
//! deletes them once the centre acknowledged them ([`Store::outbox_acked`]). Rows nobody
//! acknowledged for longer than the per-person retention window are dropped by retention and
//! counted ([`OutboxStatus::dropped`]): a hall never fills its disk waiting for a centre.

use crate::Store;
use crate::StoreError;
use crate::error::sql_err;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// One fact in the outbox.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEvent {
    /// Per-site sequence number, from 1, without gaps.
    pub seq: u64,
    /// `visit`, `zone_sample`, `outage`, `abandonment`, `ticket`, `rating`, `dossier` or
    /// `alert`.
    pub kind: String,
    /// The fact's natural key within its kind (e.g. `camera/session_id/enter` of a visit):
    /// a later change of the same fact has the same key and a higher `seq`.
    pub key: String,
    /// The fact was removed at the hall (a staff member's open visit, discarded).
    pub deleted: bool,
    /// Unix seconds when the change was stored.
    pub t: f64,
    /// The row as the change left it, a JSON object of its columns (as it was, when deleted).
    pub payload: String,
}

/// Where the outbox of one site stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutboxStatus {
    /// The triggers record facts (an uplink is configured).
    pub enabled: bool,
    /// Unix milliseconds when this file recorded the site's first fact; 0 before that. A centre
    /// that sees a new epoch knows the sequence restarted (a new file), not that it has a gap.
    pub epoch: i64,
    /// The last sequence number given out.
    pub last_seq: u64,
    /// The last sequence number the centre acknowledged.
    pub acked_seq: u64,
    /// Unix seconds of the last acknowledgement.
    pub acked_t: Option<f64>,
    /// Facts waiting (given out and not acknowledged).
    pub pending: u64,
    /// Unix seconds when the oldest waiting fact was stored.
    pub oldest_pending_t: Option<f64>,
    /// Facts dropped unshipped by retention.
    pub dropped: u64,
}

impl Store {
    /// Switches the outbox triggers on or off for every site of the file. While off, facts are
    /// stored as always but not queued for a centre.
    pub fn set_outbox(&mut self, enabled: bool) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox_switch SET enabled = ?1 WHERE id = 1",
                params![i64::from(enabled)],
            )
            .map(|_| ())
            .map_err(|e| self.err("switching the outbox", e))
    }

    /// The outbox of `site`.
    pub fn outbox_status(&self, site: &str) -> Result<OutboxStatus, StoreError> {
        let op = "reading the outbox status";
        let enabled: i64 = self
            .conn
            .query_row("SELECT enabled FROM outbox_switch WHERE id = 1", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(op, e))?;
        let meta = self
            .conn
            .query_row(
                "SELECT epoch, last_seq, acked_seq, acked_t, dropped FROM outbox_meta WHERE site = ?1",
                params![site],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<f64>>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(op, e))?;
        // The outbox is a gapless run of sequence numbers (acknowledged ones are deleted from
        // the front, stale ones by time, which grows with the sequence): its first row tells
        // how many wait without counting them.
        let first: Option<(i64, f64)> = self
            .conn
            .query_row(
                "SELECT seq, t FROM outbox WHERE site = ?1 ORDER BY seq LIMIT 1",
                params![site],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(op, e))?;
        let u = |v: i64| u64::try_from(v).unwrap_or(0);
        let mut s = OutboxStatus {
            enabled: enabled != 0,
            oldest_pending_t: first.map(|f| f.1),
            ..OutboxStatus::default()
        };
        if let Some((epoch, last, acked, acked_t, dropped)) = meta {
            s.epoch = epoch;
            s.last_seq = u(last);
            s.pending = first.map_or(0, |(seq, _)| u(last - seq + 1));
            s.acked_seq = u(acked);
            s.acked_t = acked_t;
            s.dropped = u(dropped);
        }
        Ok(s)
    }

    /// Up to `limit` facts of `site` with `seq > after`, in order.
    pub fn outbox_after(
        &self,
        site: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(
            "reading the outbox",
            "SELECT seq, kind, key, deleted, t, payload FROM outbox \
             WHERE site = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            vec![site.to_string().into(), after.into(), limit.into()],
            |r| {
                Ok(OutboxEvent {
                    seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    kind: r.get(1)?,
                    key: r.get(2)?,
                    deleted: r.get::<_, i64>(3)? != 0,
                    t: r.get(4)?,
                    payload: r.get(5)?,
                })
            },
        )
    }

    /// Records that the centre acknowledged every fact of `site` up to `seq` (at Unix time
    /// `now`) and deletes them from the outbox, in one transaction. An acknowledgement below
    /// the recorded one changes nothing.
    pub fn outbox_acked(&mut self, site: &str, seq: u64, now: f64) -> Result<(), StoreError> {
        let op = "recording an uplink acknowledgement";
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_err(&self.path, op, e))?;
        tx.execute(
            "UPDATE outbox_meta SET acked_seq = ?2, acked_t = ?3 WHERE site = ?1 AND acked_seq < ?2",
            params![site, seq, now],
        )
        .map_err(|e| sql_err(&self.path, op, e))?;
        tx.execute(
            "DELETE FROM outbox WHERE site = ?1 AND seq <= ?2",
            params![site, seq],
        )
        .map_err(|e| sql_err(&self.path, op, e))?;
        tx.commit().map_err(|e| sql_err(&self.path, op, e))
    }
}

/// Drops outbox rows stored before `cutoff` (never acknowledged within the retention window),
/// counting them per site; runs inside retention's transaction. Returns how many were dropped.
pub(crate) fn drop_stale(tx: &rusqlite::Transaction<'_>, cutoff: f64) -> rusqlite::Result<u64> {
    tx.execute(
        "UPDATE outbox_meta SET dropped = dropped + \
         (SELECT count(*) FROM outbox o WHERE o.site = outbox_meta.site AND o.t < ?1)",
        params![cutoff],
    )?;
    tx.execute("DELETE FROM outbox WHERE t < ?1", params![cutoff])
        .map(|n| n as u64)
}

/// Per kind of fact: its table, the time column that dates it (for daily digests and
/// re-sends), and its key as the outbox triggers write it.
const FACT_TABLES: &[(&str, &str, &str, &str)] = &[
    (
        "visit",
        "sessions",
        "enter",
        "camera || '/' || session_id || '/' || enter",
    ),
    (
        "zone_sample",
        "zone_samples",
        "t",
        "camera || '/' || zone || '/' || t",
    ),
    (
        "outage",
        "camera_health",
        "start_t",
        "camera || '/' || start_t",
    ),
    (
        "abandonment",
        "abandonments",
        "t",
        "camera || '/' || session_id || '/' || enter",
    ),
    ("ticket", "tickets", "issued", "day || '/' || number"),
    (
        "rating",
        "ratings",
        "t",
        "device || '/' || coalesce(client_id, '#' || id)",
    ),
    ("dossier", "dossiers", "received", "code"),
    (
        "alert",
        "alerts",
        "triggered",
        "rule || '/' || camera || '/' || zone || '/' || triggered",
    ),
];

/// The kinds of fact a digest covers, in a fixed order.
pub const FACT_KINDS: &[&str] = &[
    "visit",
    "zone_sample",
    "outage",
    "abandonment",
    "ticket",
    "rating",
    "dossier",
    "alert",
];

impl Store {
    /// The keys (as the outbox writes them) of the facts of `kind` of `site` dated in
    /// `[from, to)` by their kind's time column (visit: enter; zone sample, rating,
    /// abandonment: t; outage: start; ticket: issued; dossier: received; alert: triggered).
    pub fn fact_keys(
        &self,
        site: &str,
        kind: &str,
        from: f64,
        to: f64,
    ) -> Result<Vec<String>, StoreError> {
        let Some((_, table, time, key)) = FACT_TABLES.iter().find(|k| k.0 == kind) else {
            return Err(StoreError::InvalidRecord {
                what: "fact kind",
                detail: format!("'{kind}' is not one of {}", FACT_KINDS.join(", ")),
            });
        };
        self.query(
            "reading fact keys",
            &format!("SELECT {key} FROM {table} WHERE site = ?1 AND {time} >= ?2 AND {time} < ?3"),
            vec![site.to_string().into(), from.into(), to.into()],
            |r| r.get(0),
        )
    }

    /// Records the digest of one local day and kind; a digest equal to the stored one changes
    /// nothing (and queues nothing). Returns whether it changed.
    pub fn put_digest(
        &mut self,
        site: &str,
        day: &str,
        kind: &str,
        count: u64,
        hash: &str,
        now: f64,
    ) -> Result<bool, StoreError> {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        self.conn
            .execute(
                "INSERT INTO digests (site, day, kind, count, hash, computed) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (site, day, kind) DO UPDATE SET \
                 count = excluded.count, hash = excluded.hash, computed = excluded.computed \
                 WHERE count <> excluded.count OR hash <> excluded.hash",
                params![site, day, kind, count, hash, now],
            )
            .map(|n| n > 0)
            .map_err(|e| self.err("recording a digest", e))
    }

    /// Records one camera's working time `open_s` and time without a picture `down_s` on the
    /// finished local `day` (for the centre's camera uptime). Returns whether anything changed:
    /// the same figures again (within a second) write nothing and ship nothing.
    pub fn put_camera_day(
        &mut self,
        site: &str,
        day: &str,
        camera: &str,
        open_s: f64,
        down_s: f64,
        now: f64,
    ) -> Result<bool, StoreError> {
        if !(open_s.is_finite() && down_s.is_finite() && open_s >= 0.0 && down_s >= 0.0) {
            return Err(StoreError::InvalidRecord {
                what: "camera day",
                detail: format!("{camera} on {day}: open {open_s} s, down {down_s} s"),
            });
        }
        self.conn
            .execute(
                "INSERT INTO camera_days (site, day, camera, open_s, down_s, computed) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (site, day, camera) DO UPDATE SET \
                 open_s = excluded.open_s, down_s = excluded.down_s, computed = excluded.computed \
                 WHERE abs(open_s - excluded.open_s) >= 1 OR abs(down_s - excluded.down_s) >= 1",
                params![site, day, camera, open_s, down_s, now],
            )
            .map(|n| n > 0)
            .map_err(|e| self.err("recording a camera day", e))
    }

    /// Queues again, for the centre, every fact of `site` dated in `[from, to)` (as
    /// [`Store::fact_keys`] dates them), in one transaction: the centre asked for them after
    /// finding a day incomplete. Each gets a new sequence number; the centre keeps one row per
    /// fact whatever it receives twice. Returns how many were queued (0 while the outbox is
    /// off).
    pub fn requeue(&mut self, site: &str, from: f64, to: f64) -> Result<u64, StoreError> {
        let op = "queueing facts again";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_err(&self.path, op, e))?;
        let before: i64 = tx
            .query_row(
                "SELECT coalesce((SELECT last_seq FROM outbox_meta WHERE site = ?1), 0)",
                params![site],
                |r| r.get(0),
            )
            .map_err(|e| sql_err(&self.path, op, e))?;
        for (_, table, time, _) in FACT_TABLES {
            // A no-op update fires the outbox triggers: the row as it is now, numbered anew.
            tx.execute(
                &format!(
                    "UPDATE {table} SET site = site WHERE site = ?1 AND {time} >= ?2 AND {time} < ?3"
                ),
                params![site, from, to],
            )
            .map_err(|e| sql_err(&self.path, op, e))?;
        }
        let after: i64 = tx
            .query_row(
                "SELECT coalesce((SELECT last_seq FROM outbox_meta WHERE site = ?1), 0)",
                params![site],
                |r| r.get(0),
            )
            .map_err(|e| sql_err(&self.path, op, e))?;
        tx.commit().map_err(|e| sql_err(&self.path, op, e))?;
        Ok(u64::try_from(after - before).unwrap_or(0))
    }
}
