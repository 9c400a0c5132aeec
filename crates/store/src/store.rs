//! [`Store`]: opening (checks, pragmas, migrations), synchronous writes, reads, retention.

use crate::error::sql_err;
use crate::records::{parse_role, role_str};
use crate::schema::{APPLICATION_ID, LATEST_VERSION, MIGRATIONS};
use crate::{
    Abandonment, Counts, DowntimeInterval, Record, Retention, RetentionReport, SessionQuery,
    StoreError, ZoneSample,
};
use hallwatch_core::{CameraId, TrackId};
use hallwatch_zones::Session;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params, params_from_iter};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a statement waits for another connection's write lock before failing with "busy".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Seconds in a retention day.
const DAY_S: f64 = 86_400.0;

/// At most this many problems of a failed check are quoted in [`StoreError::Corrupt`].
const MAX_PROBLEMS: usize = 5;

/// An open event store: one connection to one SQLite file.
///
/// Reads and the synchronous [`Store::insert`] run on the caller's thread. For the live
/// pipeline, hand the store to [`Store::writer`], which batches writes on a dedicated thread;
/// readers (web, reports) open their own `Store` on the same file: WAL mode lets them read
/// while the writer writes. A `Store` is `Send` but not `Sync`: one per thread, or behind a
/// mutex.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Runs a read query and maps each row; errors name the operation and the file.
    pub(crate) fn query<T>(
        &self,
        op: &'static str,
        sql: &str,
        args: Vec<Value>,
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(op, e))?;
        let rows = stmt
            .query_map(params_from_iter(args), map)
            .map_err(|e| self.err(op, e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(op, e))
    }

    /// Opens the store at `path`, creating the file if it does not exist.
    ///
    /// In order: refuses a file that is not an SQLite database, that belongs to another
    /// application, whose schema version is newer than this build knows ([`StoreError::TooNew`])
    /// or that fails `PRAGMA quick_check` ([`StoreError::Corrupt`]) — before writing anything,
    /// and never moving, renaming or deleting the file. Then sets WAL mode,
    /// `synchronous=FULL`, foreign keys and a busy timeout, and applies the pending schema
    /// migrations, each in its own transaction.
    ///
    /// `quick_check` reads the whole file: a few seconds per GiB. Further connections of the
    /// same process use [`Store::open_again`].
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Self::open_with(path.as_ref(), true)
    }

    /// Another connection to a store this process has already opened with [`Store::open`]:
    /// the same checks and settings except `quick_check`, which reads the whole file and ran
    /// at that first open (a server opening connections on demand must not re-read a GiB
    /// each time).
    pub fn open_again(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Self::open_with(path.as_ref(), false)
    }

    fn open_with(path: &Path, quick_check: bool) -> Result<Store, StoreError> {
        let path = path.to_path_buf();
        let existed = path.try_exists().map_err(|source| StoreError::Io {
            path: path.clone(),
            op: "checking whether the file exists",
            source,
        })?;
        // No SQLITE_OPEN_URI: the path is a file name, never a `file:` URI with options.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| {
            match sql_err(&path, "opening", e) {
                StoreError::Sqlite { path, source, .. } => StoreError::Open { path, source },
                other => other,
            }
        })?;
        let mut store = Store { conn, path };
        store
            .conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| store.err("setting the busy timeout", e))?;
        store.check_identity()?;
        if quick_check {
            store.quick_check()?;
        }
        store.configure()?;
        store.migrate()?;
        if !existed {
            store.sync_parent_dir()?;
        }
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.pragma_i64("user_version")
    }

    /// The newest schema version this build knows; [`Store::open`] migrates every file to it.
    pub fn latest_schema_version() -> i64 {
        LATEST_VERSION
    }

    /// Runs the full `PRAGMA integrity_check` (slower than the `quick_check` of
    /// [`Store::open`]: it also checks indices against tables). Ok when SQLite answers "ok".
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        self.check("integrity_check")
    }

    /// Writes `records` for `site` in one transaction: all or nothing, durable when this
    /// returns Ok. Each record is an upsert (see [`Record`]). For the live pipeline prefer
    /// [`Store::writer`], which batches many producers' records.
    pub fn insert(&mut self, site: &str, records: &[Record]) -> Result<(), StoreError> {
        for r in records {
            r.validate()?;
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_err(&self.path, "beginning a write", e))?;
        for r in records {
            insert_one(&tx, site, r).map_err(|e| sql_err(&self.path, "inserting a record", e))?;
        }
        tx.commit()
            .map_err(|e| sql_err(&self.path, "committing records", e))
    }

    /// Sessions matching `q` (entered in `[q.from, q.to)`), oldest `enter` first.
    pub fn sessions(&self, q: &SessionQuery) -> Result<Vec<Session>, StoreError> {
        let (filter, mut args) = session_filter(q);
        let mut sql = format!(
            "SELECT id, camera, session_id, zone, role, counter, tracks, enter, exit, truncated \
             FROM sessions WHERE {filter} ORDER BY enter, id"
        );
        if let Some(n) = q.limit {
            sql.push_str(" LIMIT ?");
            args.push(Value::Integer(i64::try_from(n).unwrap_or(i64::MAX)));
        }
        let op = "reading sessions";
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(|e| self.err(op, e))?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                Ok(RawSession {
                    id: r.get(0)?,
                    camera: r.get(1)?,
                    session_id: r.get(2)?,
                    zone: r.get(3)?,
                    role: r.get(4)?,
                    counter: r.get(5)?,
                    tracks: r.get(6)?,
                    enter: r.get(7)?,
                    exit: r.get(8)?,
                    truncated: r.get(9)?,
                })
            })
            .map_err(|e| self.err(op, e))?;
        let mut out = Vec::new();
        for raw in rows {
            let raw = raw.map_err(|e| self.err(op, e))?;
            out.push(self.decode_session(raw)?);
        }
        Ok(out)
    }

    /// How many sessions match `q` (its `limit` is ignored).
    pub fn count_sessions(&self, q: &SessionQuery) -> Result<u64, StoreError> {
        let (filter, args) = session_filter(q);
        let sql = format!("SELECT count(*) FROM sessions WHERE {filter}");
        self.count(&sql, args, "counting sessions")
    }

    /// Zone samples of `site` taken in `[from, to)`, optionally of one zone, by time then zone.
    pub fn zone_samples(
        &self,
        site: &str,
        from: f64,
        to: f64,
        zone: Option<&str>,
    ) -> Result<Vec<ZoneSample>, StoreError> {
        let mut sql = String::from(
            "SELECT camera, zone, t, people_now, people_smoothed FROM zone_samples \
             WHERE site = ? AND t >= ? AND t < ?",
        );
        let mut args = vec![Value::Text(site.into()), Value::Real(from), Value::Real(to)];
        if let Some(z) = zone {
            sql.push_str(" AND zone = ?");
            args.push(Value::Text(z.into()));
        }
        sql.push_str(" ORDER BY t, zone, camera");
        self.query("reading zone samples", &sql, args, |r| {
            Ok(ZoneSample {
                camera: CameraId::new(r.get::<_, String>(0)?),
                zone: r.get(1)?,
                t: r.get(2)?,
                people_now: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                people_smoothed: r.get(4)?,
            })
        })
    }

    /// Camera outages of `site` that overlap `[from, to)`: began before `to` and ended at or
    /// after `from`, or are still open. Optionally of one camera; oldest first.
    pub fn downtime(
        &self,
        site: &str,
        from: f64,
        to: f64,
        camera: Option<&CameraId>,
    ) -> Result<Vec<DowntimeInterval>, StoreError> {
        let mut sql = String::from(
            "SELECT camera, start_t, end_t, reason FROM camera_health \
             WHERE site = ? AND start_t < ? AND (end_t IS NULL OR end_t >= ?)",
        );
        let mut args = vec![Value::Text(site.into()), Value::Real(to), Value::Real(from)];
        if let Some(c) = camera {
            sql.push_str(" AND camera = ?");
            args.push(Value::Text(c.as_str().into()));
        }
        sql.push_str(" ORDER BY start_t, camera");
        self.query("reading camera downtime", &sql, args, |r| {
            Ok(DowntimeInterval {
                camera: CameraId::new(r.get::<_, String>(0)?),
                start: r.get(1)?,
                end: r.get(2)?,
                reason: r.get(3)?,
            })
        })
    }

    /// Closes the visits a previous run left open (it was killed, or the machine lost power:
    /// visits are stored open when they begin): each ends, truncated, at the last sign of life
    /// of its camera in the store — its latest zone sample or closed visit, never before the
    /// visit began. Run at start, before new visits are written. Returns how many.
    pub fn close_open_sessions(&mut self, site: &str) -> Result<usize, StoreError> {
        self.conn
            .execute(
                "UPDATE sessions SET exit = c.last, duration = max(c.last - sessions.enter, 0.0), \
                     truncated = 1 \
                 FROM (SELECT o.id AS sid, max(o.enter, \
                          coalesce((SELECT max(z.t) FROM zone_samples z \
                                    WHERE z.site = o.site AND z.camera = o.camera), o.enter), \
                          coalesce((SELECT max(x.exit) FROM sessions x \
                                    WHERE x.site = o.site AND x.camera = o.camera \
                                      AND x.exit IS NOT NULL), o.enter)) AS last \
                       FROM sessions o WHERE o.site = ?1 AND o.exit IS NULL) AS c \
                 WHERE sessions.id = c.sid",
                params![site],
            )
            .map_err(|e| self.err("closing the visits a previous run left open", e))
    }

    /// Row counts of `site`.
    pub fn counts(&self, site: &str) -> Result<Counts, StoreError> {
        let one = |table: &str| {
            self.count(
                &format!("SELECT count(*) FROM {table} WHERE site = ?"),
                vec![Value::Text(site.into())],
                "counting rows",
            )
        };
        Ok(Counts {
            sessions: one("sessions")?,
            zone_samples: one("zone_samples")?,
            downtime: one("camera_health")?,
            abandonments: one("abandonments")?,
        })
    }

    /// Deletes, across all sites, in one transaction, what is older than `policy`'s windows
    /// (cutoff `now - days`):
    ///
    /// - per-person rows, with `sessions_days`: zone visits last seen (`exit`, or `enter`
    ///   while open) strictly before the cutoff; abandonments last seen before it;
    /// - with `aggregates_days`: zone samples taken before the cutoff; camera outages that ended
    ///   before it (an outage still open is kept whatever its age: the camera is still down);
    ///   tickets issued, ratings given, dossiers received, and alerts resolved before it (an
    ///   unresolved alert is kept).
    ///
    /// A row exactly at the cutoff is kept.
    pub fn apply_retention(
        &mut self,
        now: f64,
        policy: Retention,
    ) -> Result<RetentionReport, StoreError> {
        if !now.is_finite() {
            return Err(StoreError::InvalidRecord {
                what: "retention",
                detail: format!("now = {now} is not a finite time"),
            });
        }
        let sessions_cutoff = now - f64::from(policy.sessions_days) * DAY_S;
        let aggregates_cutoff = now - f64::from(policy.aggregates_days) * DAY_S;
        let op = "applying retention";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_err(&self.path, op, e))?;
        let run = |sql: &str, cutoff: f64| -> Result<u64, StoreError> {
            tx.execute(sql, params![cutoff])
                .map(|n| n as u64)
                .map_err(|e| sql_err(&self.path, op, e))
        };
        let mut service = 0;
        for sql in [
            "DELETE FROM tickets WHERE issued < ?1",
            "DELETE FROM ratings WHERE t < ?1",
            "DELETE FROM dossiers WHERE received < ?1",
            "DELETE FROM alerts WHERE resolved IS NOT NULL AND resolved < ?1",
        ] {
            service += run(sql, aggregates_cutoff)?;
        }
        let report = RetentionReport {
            sessions: run(
                "DELETE FROM sessions WHERE coalesce(exit, enter) < ?1",
                sessions_cutoff,
            )?,
            zone_samples: run("DELETE FROM zone_samples WHERE t < ?1", aggregates_cutoff)?,
            downtime: run(
                "DELETE FROM camera_health WHERE end_t IS NOT NULL AND end_t < ?1",
                aggregates_cutoff,
            )?,
            abandonments: run("DELETE FROM abandonments WHERE t < ?1", sessions_cutoff)?,
            service,
            outbox_dropped: crate::outbox::drop_stale(&tx, sessions_cutoff)
                .map_err(|e| sql_err(&self.path, op, e))?,
        };
        tx.commit().map_err(|e| sql_err(&self.path, op, e))?;
        tracing::info!(
            path = %self.path.display(),
            sessions = report.sessions,
            zone_samples = report.zone_samples,
            downtime = report.downtime,
            abandonments = report.abandonments,
            service = report.service,
            outbox_dropped = report.outbox_dropped,
            "event store retention applied"
        );
        Ok(report)
    }

    /// Abandonments of `site` seen leaving in `[from, to)`, optionally of one zone, oldest
    /// first.
    pub fn abandonments(
        &self,
        site: &str,
        from: f64,
        to: f64,
        zone: Option<&str>,
    ) -> Result<Vec<Abandonment>, StoreError> {
        let mut sql = String::from(
            "SELECT camera, zone, session_id, enter, t FROM abandonments \
             WHERE site = ? AND t >= ? AND t < ?",
        );
        let mut args = vec![Value::Text(site.into()), Value::Real(from), Value::Real(to)];
        if let Some(z) = zone {
            sql.push_str(" AND zone = ?");
            args.push(Value::Text(z.into()));
        }
        sql.push_str(" ORDER BY t, camera");
        self.query("reading abandonments", &sql, args, |r| {
            Ok(Abandonment {
                camera: CameraId::new(r.get::<_, String>(0)?),
                zone: r.get(1)?,
                track: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                enter: r.get(3)?,
                t: r.get(4)?,
            })
        })
    }

    pub(crate) fn err(&self, op: &'static str, e: rusqlite::Error) -> StoreError {
        sql_err(&self.path, op, e)
    }

    fn pragma_i64(&self, name: &'static str) -> Result<i64, StoreError> {
        self.conn
            .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .map_err(|e| self.err(name, e))
    }

    fn count(&self, sql: &str, args: Vec<Value>, op: &'static str) -> Result<u64, StoreError> {
        self.conn
            .query_row(sql, params_from_iter(args), |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(|e| self.err(op, e))
    }

    /// Refuses files that are not SQLite, belong to another application or are too new.
    /// Reads only the header and the schema table.
    fn check_identity(&self) -> Result<(), StoreError> {
        let app = self.pragma_i64("application_id")?;
        let version = self.schema_version()?;
        if app != APPLICATION_ID && app != 0 {
            return Err(StoreError::NotAStore {
                path: self.path.clone(),
                detail: format!("application id {app:#x}, expected {APPLICATION_ID:#x}"),
            });
        }
        if app == 0 {
            let objects: i64 = self
                .conn
                .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
                .map_err(|e| self.err("reading the schema", e))?;
            if version != 0 || objects != 0 {
                return Err(StoreError::NotAStore {
                    path: self.path.clone(),
                    detail: format!(
                        "no hallwatch application id, but it already has {objects} schema \
                         objects and user_version {version}"
                    ),
                });
            }
        }
        if version > LATEST_VERSION {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                supported: LATEST_VERSION,
            });
        }
        Ok(())
    }

    fn quick_check(&self) -> Result<(), StoreError> {
        self.check("quick_check")
    }

    fn check(&self, pragma: &'static str) -> Result<(), StoreError> {
        let mut problems = Vec::new();
        let mut stmt = self
            .conn
            .prepare(&format!("PRAGMA {pragma}"))
            .map_err(|e| self.err(pragma, e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(pragma, e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(pragma, e))? {
            let line: String = row.get(0).map_err(|e| self.err(pragma, e))?;
            if line != "ok" {
                problems.push(line);
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        let n = problems.len();
        problems.truncate(MAX_PROBLEMS);
        let mut detail = format!(
            "PRAGMA {pragma} found {n} problem(s): {}",
            problems.join("; ")
        );
        if n > MAX_PROBLEMS {
            detail.push_str("; ...");
        }
        Err(StoreError::Corrupt {
            path: self.path.clone(),
            detail,
        })
    }

    /// Connection and file settings. WAL + `synchronous=FULL`: every COMMIT fsyncs the WAL
    /// before it returns, so a committed transaction survives kill -9 and power loss.
    fn configure(&self) -> Result<(), StoreError> {
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| self.err("setting WAL mode", e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Unsupported {
                path: self.path.clone(),
                detail: format!("cannot switch to WAL mode: journal mode stayed {mode:?}"),
            });
        }
        self.conn
            .execute_batch(
                "PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA journal_size_limit = 67108864;",
            )
            .map_err(|e| self.err("setting pragmas", e))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        if self.schema_version()? == LATEST_VERSION {
            return Ok(());
        }
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| sql_err(&self.path, "beginning a migration", e))?;
            // Read again under the write lock: another process may have migrated meanwhile.
            let version: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(|e| sql_err(&self.path, "reading the schema version", e))?;
            if version > LATEST_VERSION {
                return Err(StoreError::TooNew {
                    path: self.path.clone(),
                    found: version,
                    supported: LATEST_VERSION,
                });
            }
            let Some(step) = usize::try_from(version)
                .ok()
                .and_then(|i| MIGRATIONS.get(i))
            else {
                return Ok(());
            };
            let migration_err = |source| StoreError::Migration {
                path: self.path.clone(),
                version: step.version,
                source,
            };
            if version == 0 {
                tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}"))
                    .map_err(migration_err)?;
            }
            tx.execute_batch(step.sql).map_err(migration_err)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", step.version))
                .map_err(migration_err)?;
            tx.commit().map_err(migration_err)?;
            tracing::info!(
                path = %self.path.display(),
                version = step.version,
                "event store schema migrated"
            );
        }
    }

    /// Makes the new file's directory entry durable too.
    fn sync_parent_dir(&self) -> Result<(), StoreError> {
        let parent = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(|source| StoreError::Io {
                path: parent.to_path_buf(),
                op: "syncing the folder of the new database",
                source,
            })
    }

    fn decode_session(&self, raw: RawSession) -> Result<Session, StoreError> {
        let bad = |detail: String| StoreError::Decode {
            path: self.path.clone(),
            table: "sessions",
            row: raw.id,
            detail,
        };
        let role =
            parse_role(&raw.role).ok_or_else(|| bad(format!("unknown role {:?}", raw.role)))?;
        let tracks: Vec<u64> = serde_json::from_str(&raw.tracks)
            .map_err(|e| bad(format!("tracks {:?}: {e}", raw.tracks)))?;
        Ok(Session {
            id: u64::try_from(raw.session_id)
                .map_err(|_| bad(format!("negative session id {}", raw.session_id)))?,
            camera: CameraId::new(&raw.camera),
            zone: raw.zone,
            role,
            counter: u32::try_from(raw.counter)
                .map_err(|_| bad(format!("counter {} out of range", raw.counter)))?,
            tracks: tracks.into_iter().map(TrackId).collect(),
            enter: raw.enter,
            exit: raw.exit,
            truncated: raw.truncated != 0,
        })
    }
}

struct RawSession {
    id: i64,
    camera: String,
    session_id: i64,
    zone: String,
    role: String,
    counter: i64,
    tracks: String,
    enter: f64,
    exit: Option<f64>,
    truncated: i64,
}

fn session_filter(q: &SessionQuery) -> (String, Vec<Value>) {
    let mut sql = String::from("site = ? AND enter >= ? AND enter < ?");
    let mut args = vec![
        Value::Text(q.site.clone()),
        Value::Real(q.from),
        Value::Real(q.to),
    ];
    if let Some(c) = &q.camera {
        sql.push_str(" AND camera = ?");
        args.push(Value::Text(c.as_str().into()));
    }
    if let Some(z) = &q.zone {
        sql.push_str(" AND zone = ?");
        args.push(Value::Text(z.clone()));
    }
    if let Some(r) = q.role {
        sql.push_str(" AND role = ?");
        args.push(Value::Text(role_str(r).into()));
    }
    (sql, args)
}

/// Writes one record (an upsert on its natural key). Records must have been validated.
pub(crate) fn insert_one(conn: &Connection, site: &str, record: &Record) -> rusqlite::Result<()> {
    match record {
        Record::Session(s) => {
            let tracks = format!(
                "[{}]",
                s.tracks
                    .iter()
                    .map(|t| t.0.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let duration = s.exit.map(|x| (x - s.enter).max(0.0));
            conn.prepare_cached(
                "INSERT INTO sessions (site, camera, session_id, zone, role, counter, tracks, \
                     enter, exit, duration, truncated) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
                 ON CONFLICT (site, camera, session_id, enter) DO UPDATE SET \
                     zone = excluded.zone, role = excluded.role, counter = excluded.counter, \
                     tracks = excluded.tracks, exit = excluded.exit, \
                     duration = excluded.duration, truncated = excluded.truncated \
                 WHERE excluded.exit IS NOT NULL OR sessions.exit IS NULL",
            )?
            .execute(params![
                site,
                s.camera.as_str(),
                i64::try_from(s.id).unwrap_or(i64::MAX),
                s.zone,
                role_str(s.role),
                i64::from(s.counter),
                tracks,
                s.enter,
                s.exit,
                duration,
                s.truncated,
            ])?;
        }
        Record::ZoneSample(z) => {
            conn.prepare_cached(
                "INSERT INTO zone_samples (site, camera, zone, t, people_now, people_smoothed) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (site, zone, t, camera) DO UPDATE SET \
                     people_now = excluded.people_now, \
                     people_smoothed = excluded.people_smoothed",
            )?
            .execute(params![
                site,
                z.camera.as_str(),
                z.zone,
                z.t,
                i64::try_from(z.people_now).unwrap_or(i64::MAX),
                z.people_smoothed,
            ])?;
        }
        Record::Abandonment(a) => {
            conn.prepare_cached(
                "INSERT INTO abandonments (site, camera, zone, session_id, enter, t) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (site, camera, session_id, enter) DO UPDATE SET \
                     zone = excluded.zone, t = excluded.t",
            )?
            .execute(params![
                site,
                a.camera.as_str(),
                a.zone,
                i64::try_from(a.track).unwrap_or(i64::MAX),
                a.enter,
                a.t,
            ])?;
        }
        Record::DiscardOpen(s) => {
            conn.prepare_cached(
                "DELETE FROM sessions WHERE site = ?1 AND camera = ?2 AND session_id = ?3 \
                     AND enter = ?4 AND exit IS NULL",
            )?
            .execute(params![
                site,
                s.camera.as_str(),
                i64::try_from(s.id).unwrap_or(i64::MAX),
                s.enter,
            ])?;
        }
        Record::CameraDowntime(d) => {
            conn.prepare_cached(
                "INSERT INTO camera_health (site, camera, start_t, end_t, reason) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (site, camera, start_t) DO UPDATE SET \
                     end_t = excluded.end_t, reason = excluded.reason \
                 WHERE excluded.end_t IS NOT NULL OR camera_health.end_t IS NULL",
            )?
            .execute(params![site, d.camera.as_str(), d.start, d.end, d.reason])?;
        }
    }
    Ok(())
}
