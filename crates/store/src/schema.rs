//! The schema, as an ordered list of migration steps.
//!
//! The file's schema version is `PRAGMA user_version`: 0 for a new file, N once the first N
//! steps of [`MIGRATIONS`] have been applied. Each step runs in its own `BEGIN IMMEDIATE`
//! transaction together with the version bump, so a crash leaves the file at a whole version.
//! Steps are append-only: never edit a released step, add a new one.
//!
//! Conventions: every time is REAL seconds (Unix seconds for live cameras, media seconds for
//! files, as [`hallwatch_core::FrameTime::seconds`] gives them); every table has a `site`
//! column (`[site].id` of the config) so one file can hold several halls; tables are `STRICT`.

/// `PRAGMA application_id` of a hallwatch store: "HWST" in ASCII.
pub(crate) const APPLICATION_ID: i64 = 0x4857_5354;

/// One migration step.
pub(crate) struct Migration {
    /// The version the file has after this step.
    pub version: i64,
    /// The SQL, run with `execute_batch` inside the step's transaction.
    pub sql: &'static str,
}

/// The newest schema version this build knows.
pub(crate) const LATEST_VERSION: i64 = 6;

/// All steps, oldest first; `MIGRATIONS[i].version == i + 1`.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: r#"
-- One person's visit to one zone (hallwatch_zones::Session). `session_id` is the engine's id,
-- unique only within one engine run, hence the key includes `enter`. `tracks` is a JSON array
-- of track ids. `exit` and `duration` are NULL while the visit is open.
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    site        TEXT    NOT NULL,
    camera      TEXT    NOT NULL,
    session_id  INTEGER NOT NULL,
    zone        TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('waiting', 'counter', 'entrance', 'ignore')),
    counter     INTEGER NOT NULL DEFAULT 0,
    tracks      TEXT    NOT NULL DEFAULT '[]',
    enter       REAL    NOT NULL,
    exit        REAL,
    duration    REAL,
    truncated   INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1)),
    UNIQUE (site, camera, session_id, enter)
) STRICT;
CREATE INDEX sessions_site_enter ON sessions (site, enter);
CREATE INDEX sessions_site_zone_enter ON sessions (site, zone, enter);
-- Retention deletes by the time a visit was last seen.
CREATE INDEX sessions_last_seen ON sessions (coalesce(exit, enter));

-- Periodic hall figures per zone (hallwatch_zones::ZoneFigure), one row per zone and sample.
CREATE TABLE zone_samples (
    id              INTEGER PRIMARY KEY,
    site            TEXT    NOT NULL,
    camera          TEXT    NOT NULL,
    zone            TEXT    NOT NULL,
    t               REAL    NOT NULL,
    people_now      INTEGER NOT NULL CHECK (people_now >= 0),
    people_smoothed REAL    NOT NULL,
    UNIQUE (site, zone, t, camera)
) STRICT;
CREATE INDEX zone_samples_t ON zone_samples (t);

-- Camera outages (hallwatch_core::Downtime) in Unix seconds; `end_t` NULL while still down.
CREATE TABLE camera_health (
    id      INTEGER PRIMARY KEY,
    site    TEXT NOT NULL,
    camera  TEXT NOT NULL,
    start_t REAL NOT NULL,
    end_t   REAL,
    reason  TEXT NOT NULL DEFAULT '',
    UNIQUE (site, camera, start_t)
) STRICT;
CREATE INDEX camera_health_site_start ON camera_health (site, start_t);

-- Queue tickets (số thứ tự) from the hall's queue system: issued, called to a counter,
-- finished. Filled by a later integration; columns may grow by migration.
CREATE TABLE tickets (
    id       INTEGER PRIMARY KEY,
    site     TEXT NOT NULL,
    ticket   TEXT NOT NULL,
    service  TEXT,
    counter  INTEGER,
    issued   REAL NOT NULL,
    called   REAL,
    finished REAL,
    UNIQUE (site, ticket, issued)
) STRICT;
CREATE INDEX tickets_site_issued ON tickets (site, issued);

-- Citizen satisfaction ratings (đánh giá mức độ hài lòng) given at a counter: `score` from 1
-- to `scale_max` (3, 4 or 5 depending on the device), optionally tied to a ticket.
CREATE TABLE ratings (
    id        INTEGER PRIMARY KEY,
    site      TEXT    NOT NULL,
    counter   INTEGER,
    ticket    TEXT,
    t         REAL    NOT NULL,
    score     INTEGER NOT NULL,
    scale_max INTEGER NOT NULL,
    CHECK (score >= 1 AND score <= scale_max)
) STRICT;
CREATE INDEX ratings_site_t ON ratings (site, t);

-- Alerts raised by rules (long waits, counter unstaffed, camera down): `camera`/`zone` are ''
-- when not about one; `cleared` NULL while active; `acknowledged` when an operator saw it.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY,
    site         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    severity     TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    camera       TEXT NOT NULL DEFAULT '',
    zone         TEXT NOT NULL DEFAULT '',
    raised       REAL NOT NULL,
    cleared      REAL,
    acknowledged REAL,
    message      TEXT NOT NULL DEFAULT '',
    UNIQUE (site, kind, camera, zone, raised)
) STRICT;
CREATE INDEX alerts_site_raised ON alerts (site, raised);
"#,
    },
    Migration {
        version: 2,
        sql: r#"
-- The tables reserved in version 1 were never written; they are replaced by their real shape.
DROP TABLE tickets;
DROP TABLE ratings;
DROP TABLE alerts;

-- Visitors who left a waiting zone without reaching a counter (hallwatch_zones::ZoneEvent::
-- Abandoned): `enter` is when their waiting visit began, `t` when they were seen leaving.
CREATE TABLE abandonments (
    id         INTEGER PRIMARY KEY,
    site       TEXT    NOT NULL,
    camera     TEXT    NOT NULL,
    zone       TEXT    NOT NULL,
    session_id INTEGER NOT NULL,
    enter      REAL    NOT NULL,
    t          REAL    NOT NULL,
    UNIQUE (site, camera, session_id, enter)
) STRICT;
CREATE INDEX abandonments_site_t ON abandonments (site, t);

-- Queue tickets (số thứ tự) from the hall's ticket system. Numbers restart every local day,
-- so the natural key is (site, day, number); `day` is the local date YYYY-MM-DD of `issued`.
-- `source` says how it arrived ('api' or the imported file's name).
CREATE TABLE tickets (
    id       INTEGER PRIMARY KEY,
    site     TEXT    NOT NULL,
    day      TEXT    NOT NULL,
    number   TEXT    NOT NULL,
    service  TEXT    NOT NULL DEFAULT '',
    issued   REAL    NOT NULL,
    called   REAL,
    counter  INTEGER,
    finished REAL,
    no_show  REAL,
    source   TEXT    NOT NULL DEFAULT 'api',
    UNIQUE (site, day, number)
) STRICT;
CREATE INDEX tickets_site_issued ON tickets (site, issued);

-- Citizen ratings from kiosks and rating devices. `level` is the hall's three-level scale
-- (very_satisfied, satisfied, dissatisfied); devices with another scale keep their raw `score`
-- out of `scale_max`. `client_id` is the device's idempotency key so a resend is not counted
-- twice.
CREATE TABLE ratings (
    id        INTEGER PRIMARY KEY,
    site      TEXT    NOT NULL,
    t         REAL    NOT NULL,
    counter   INTEGER,
    ticket    TEXT,
    level     TEXT    NOT NULL CHECK (level IN ('very_satisfied', 'satisfied', 'dissatisfied')),
    score     INTEGER,
    scale_max INTEGER,
    comment   TEXT    NOT NULL DEFAULT '',
    device    TEXT    NOT NULL DEFAULT '',
    client_id TEXT,
    UNIQUE (site, device, client_id)
) STRICT;
CREATE INDEX ratings_site_t ON ratings (site, t);

-- Administrative dossiers (hồ sơ) imported from the one-stop software, for the on-time rate.
-- Times are Unix seconds; `resolved` NULL while in progress.
CREATE TABLE dossiers (
    id       INTEGER PRIMARY KEY,
    site     TEXT NOT NULL,
    code     TEXT NOT NULL,
    service  TEXT NOT NULL DEFAULT '',
    channel  TEXT NOT NULL CHECK (channel IN ('online', 'in_person')),
    received REAL NOT NULL,
    due      REAL,
    resolved REAL,
    UNIQUE (site, code)
) STRICT;
CREATE INDEX dossiers_site_received ON dossiers (site, received);

-- Alerts raised by rules: triggered -> acknowledged (who, note) -> resolved. `camera`/`zone`
-- are '' when not applicable; `value` is the measured value when triggered, `peak` the worst.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY,
    site         TEXT    NOT NULL,
    rule         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    severity     TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    camera       TEXT    NOT NULL DEFAULT '',
    zone         TEXT    NOT NULL DEFAULT '',
    counter      INTEGER,
    triggered    REAL    NOT NULL,
    value        REAL,
    peak         REAL,
    message      TEXT    NOT NULL DEFAULT '',
    acknowledged REAL,
    ack_by       TEXT,
    ack_note     TEXT,
    resolved     REAL,
    UNIQUE (site, rule, camera, zone, triggered)
) STRICT;
CREATE INDEX alerts_site_triggered ON alerts (site, triggered);

-- One notification of one alert event on one channel, with its delivery state.
CREATE TABLE alert_deliveries (
    id         INTEGER PRIMARY KEY,
    alert      INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    channel    TEXT    NOT NULL,
    event      TEXT    NOT NULL CHECK (event IN ('triggered', 'renotify', 'resolved')),
    state      TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT '',
    next_try   REAL,
    created    REAL    NOT NULL,
    delivered  REAL
) STRICT;
CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert);

-- Dashboard users (argon2id PHC strings) and API tokens for machines (stored as SHA-256 hex
-- of the secret). Not per site: one server, one user list.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'reviewer', 'admin')),
    password_hash TEXT    NOT NULL,
    created       REAL    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
) STRICT;
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    scope      TEXT    NOT NULL,
    counter    INTEGER,
    token_hash TEXT    NOT NULL UNIQUE,
    created    REAL    NOT NULL
) STRICT;
"#,
    },
    Migration {
        version: 3,
        sql: r#"
-- Who changed which user account or API token, and when: added, role changed, password set,
-- deleted, token created or revoked. Never a password or a secret. `actor` is the admin's
-- username, or `cli:<system user>` for the command line.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    t       REAL    NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    detail  TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_log_t ON audit_log (t);
"#,
    },
    Migration {
        version: 4,
        sql: r#"
-- The uplink outbox (issue 16): every stored or changed fact a province centre needs gets a
-- per-site sequence number in the same transaction that stores it, by triggers, so no write
-- path can forget it. The publisher ships rows in `seq` order and deletes them once the
-- centre's NATS JetStream acknowledged them (`acked_seq`). `key` is the fact's natural key
-- within its kind; `payload` the row as that change left it (JSON; a deletion carries the row
-- as it was); `deleted` marks a fact removed at the hall (a staff member's open visit discarded). Retention deletes are not
-- shipped: the centre keeps what the hall forgets. `epoch` (Unix ms when the site's first
-- fact was recorded here) tells the centre a restarted sequence (a new file) from a gap.
-- (No INSERT OR IGNORE in the triggers: the conflict clause of the statement that fires a
-- trigger overrides the trigger's own.)
CREATE TABLE outbox_meta (
    site      TEXT    PRIMARY KEY,
    epoch     INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL DEFAULT 0,
    acked_seq INTEGER NOT NULL DEFAULT 0,
    acked_t   REAL,
    dropped   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE outbox (
    site    TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    t       REAL    NOT NULL,
    payload TEXT    NOT NULL,
    PRIMARY KEY (site, seq)
) STRICT, WITHOUT ROWID;
-- Facts are recorded in the outbox only while an uplink is configured (`hallwatch run` sets
-- this at start), so a hall without a centre does not keep a second copy of its history.
CREATE TABLE outbox_switch (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1))
) STRICT;
INSERT INTO outbox_switch (id, enabled) VALUES (1, 0);
CREATE TRIGGER outbox_sessions_insert AFTER INSERT ON sessions WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'visit', NEW.camera || '/' || NEW.session_id || '/' || NEW.enter, 0,
            unixepoch('subsec'), json_object('camera', NEW.camera, 'session_id', NEW.session_id, 'zone', NEW.zone, 'role', NEW.role, 'counter', NEW.counter, 'enter', NEW.enter, 'exit', NEW.exit, 'duration', NEW.duration, 'truncated', NEW.truncated));
END;
CREATE TRIGGER outbox_sessions_update AFTER UPDATE ON sessions WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'visit', NEW.camera || '/' || NEW.session_id || '/' || NEW.enter, 0,
            unixepoch('subsec'), json_object('camera', NEW.camera, 'session_id', NEW.session_id, 'zone', NEW.zone, 'role', NEW.role, 'counter', NEW.counter, 'enter', NEW.enter, 'exit', NEW.exit, 'duration', NEW.duration, 'truncated', NEW.truncated));
END;
CREATE TRIGGER outbox_zone_samples_insert AFTER INSERT ON zone_samples WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'zone_sample', NEW.camera || '/' || NEW.zone || '/' || NEW.t, 0,
            unixepoch('subsec'), json_object('camera', NEW.camera, 'zone', NEW.zone, 't', NEW.t, 'people_now', NEW.people_now, 'people_smoothed', NEW.people_smoothed));
END;
CREATE TRIGGER outbox_zone_samples_update AFTER UPDATE ON zone_samples WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'zone_sample', NEW.camera || '/' || NEW.zone || '/' || NEW.t, 0,
            unixepoch('subsec'), json_object('camera', NEW.camera, 'zone', NEW.zone, 't', NEW.t, 'people_now', NEW.people_now, 'people_smoothed', NEW.people_smoothed));
END;
CREATE TRIGGER outbox_camera_health_insert AFTER INSERT ON camera_health WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'outage', NEW.camera || '/' || NEW.start_t, 0,
            unixepoch('subsec'), json_object('camera', NEW.camera, 'start_t', NEW.start_t, 'end_t', NEW.end_t, 'reason', NEW.reason));
END;
CREATE TRIGGER outbox_camera_health_update AFTER UPDATE ON camera_health WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'outage', NEW.camera || '/' || NEW.start_t, 0,
            unixepoch('subsec'), json_object('camera', NEW.camera, 'start_t', NEW.start_t, 'end_t', NEW.end_t, 'reason', NEW.reason));
END;
CREATE TRIGGER outbox_abandonments_insert AFTER INSERT ON abandonments WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'abandonment', NEW.camera || '/' || NEW.session_id || '/' || NEW.enter, 0,
            unixepoch('subsec'), json_object('camera', NEW.camera, 'zone', NEW.zone, 'session_id', NEW.session_id, 'enter', NEW.enter, 't', NEW.t));
END;
CREATE TRIGGER outbox_abandonments_update AFTER UPDATE ON abandonments WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'abandonment', NEW.camera || '/' || NEW.session_id || '/' || NEW.enter, 0,
            unixepoch('subsec'), json_object('camera', NEW.camera, 'zone', NEW.zone, 'session_id', NEW.session_id, 'enter', NEW.enter, 't', NEW.t));
END;
CREATE TRIGGER outbox_tickets_insert AFTER INSERT ON tickets WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'ticket', NEW.day || '/' || NEW.number, 0,
            unixepoch('subsec'), json_object('day', NEW.day, 'number', NEW.number, 'service', NEW.service, 'issued', NEW.issued, 'called', NEW.called, 'counter', NEW.counter, 'finished', NEW.finished, 'no_show', NEW.no_show, 'source', NEW.source));
END;
CREATE TRIGGER outbox_tickets_update AFTER UPDATE ON tickets WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'ticket', NEW.day || '/' || NEW.number, 0,
            unixepoch('subsec'), json_object('day', NEW.day, 'number', NEW.number, 'service', NEW.service, 'issued', NEW.issued, 'called', NEW.called, 'counter', NEW.counter, 'finished', NEW.finished, 'no_show', NEW.no_show, 'source', NEW.source));
END;
CREATE TRIGGER outbox_ratings_insert AFTER INSERT ON ratings WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'rating', NEW.device || '/' || coalesce(NEW.client_id, '#' || NEW.id), 0,
            unixepoch('subsec'), json_object('t', NEW.t, 'counter', NEW.counter, 'ticket', NEW.ticket, 'level', NEW.level, 'score', NEW.score, 'scale_max', NEW.scale_max, 'comment', NEW.comment, 'device', NEW.device, 'client_id', NEW.client_id));
END;
CREATE TRIGGER outbox_ratings_update AFTER UPDATE ON ratings WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'rating', NEW.device || '/' || coalesce(NEW.client_id, '#' || NEW.id), 0,
            unixepoch('subsec'), json_object('t', NEW.t, 'counter', NEW.counter, 'ticket', NEW.ticket, 'level', NEW.level, 'score', NEW.score, 'scale_max', NEW.scale_max, 'comment', NEW.comment, 'device', NEW.device, 'client_id', NEW.client_id));
END;
CREATE TRIGGER outbox_dossiers_insert AFTER INSERT ON dossiers WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'dossier', NEW.code, 0,
            unixepoch('subsec'), json_object('code', NEW.code, 'service', NEW.service, 'channel', NEW.channel, 'received', NEW.received, 'due', NEW.due, 'resolved', NEW.resolved));
END;
CREATE TRIGGER outbox_dossiers_update AFTER UPDATE ON dossiers WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'dossier', NEW.code, 0,
            unixepoch('subsec'), json_object('code', NEW.code, 'service', NEW.service, 'channel', NEW.channel, 'received', NEW.received, 'due', NEW.due, 'resolved', NEW.resolved));
END;
CREATE TRIGGER outbox_alerts_insert AFTER INSERT ON alerts WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'alert', NEW.rule || '/' || NEW.camera || '/' || NEW.zone || '/' || NEW.triggered, 0,
            unixepoch('subsec'), json_object('rule', NEW.rule, 'kind', NEW.kind, 'severity', NEW.severity, 'camera', NEW.camera, 'zone', NEW.zone, 'counter', NEW.counter, 'triggered', NEW.triggered, 'value', NEW.value, 'peak', NEW.peak, 'message', NEW.message, 'acknowledged', NEW.acknowledged, 'ack_by', NEW.ack_by, 'ack_note', NEW.ack_note, 'resolved', NEW.resolved));
END;
CREATE TRIGGER outbox_alerts_update AFTER UPDATE ON alerts WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'alert', NEW.rule || '/' || NEW.camera || '/' || NEW.zone || '/' || NEW.triggered, 0,
            unixepoch('subsec'), json_object('rule', NEW.rule, 'kind', NEW.kind, 'severity', NEW.severity, 'camera', NEW.camera, 'zone', NEW.zone, 'counter', NEW.counter, 'triggered', NEW.triggered, 'value', NEW.value, 'peak', NEW.peak, 'message', NEW.message, 'acknowledged', NEW.acknowledged, 'ack_by', NEW.ack_by, 'ack_note', NEW.ack_note, 'resolved', NEW.resolved));
END;
CREATE TRIGGER outbox_sessions_delete AFTER DELETE ON sessions WHEN OLD.exit IS NULL AND (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT OLD.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = OLD.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = OLD.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (OLD.site, (SELECT last_seq FROM outbox_meta WHERE site = OLD.site), 'visit', OLD.camera || '/' || OLD.session_id || '/' || OLD.enter, 1,
            unixepoch('subsec'), json_object('camera', OLD.camera, 'session_id', OLD.session_id, 'zone', OLD.zone, 'role', OLD.role, 'counter', OLD.counter, 'enter', OLD.enter, 'exit', OLD.exit, 'duration', OLD.duration, 'truncated', OLD.truncated));
END;
"#,
    },
    Migration {
        version: 5,
        sql: r#"
-- A daily digest per site, local day and kind of fact: how many facts of that day the hall
-- holds and a SHA-256 of their sorted keys, written by the uplink for days that are over and
-- shipped like any fact, so the centre can tell whether it holds a hall's day completely.
CREATE TABLE digests (
    site     TEXT    NOT NULL,
    day      TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    count    INTEGER NOT NULL,
    hash     TEXT    NOT NULL,
    computed REAL    NOT NULL,
    PRIMARY KEY (site, day, kind)
) STRICT;
CREATE TRIGGER outbox_digests_insert AFTER INSERT ON digests WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'digest', NEW.day || '/' || NEW.kind, 0,
            unixepoch('subsec'), json_object('day', NEW.day, 'fact', NEW.kind, 'count', NEW.count, 'hash', NEW.hash));
END;
CREATE TRIGGER outbox_digests_update AFTER UPDATE ON digests WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'digest', NEW.day || '/' || NEW.kind, 0,
            unixepoch('subsec'), json_object('day', NEW.day, 'fact', NEW.kind, 'count', NEW.count, 'hash', NEW.hash));
END;
"#,
    },
    Migration {
        version: 6,
        sql: r#"
-- Each camera's working time and time without a picture per finished local day (against the
-- hall's opening hours, which only the hall knows), written by the uplink with the digests and
-- shipped like any fact: the centre's league table sums them into each hall's camera uptime.
CREATE TABLE camera_days (
    site     TEXT NOT NULL,
    day      TEXT NOT NULL,
    camera   TEXT NOT NULL,
    open_s   REAL NOT NULL,
    down_s   REAL NOT NULL,
    computed REAL NOT NULL,
    PRIMARY KEY (site, day, camera)
) STRICT;
CREATE TRIGGER outbox_camera_days_insert AFTER INSERT ON camera_days WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'camera_day', NEW.day || '/' || NEW.camera, 0,
            unixepoch('subsec'), json_object('day', NEW.day, 'camera', NEW.camera, 'open_s', NEW.open_s, 'down_s', NEW.down_s));
END;
CREATE TRIGGER outbox_camera_days_update AFTER UPDATE ON camera_days WHEN (SELECT enabled FROM outbox_switch) BEGIN
    INSERT INTO outbox_meta (site, epoch) SELECT NEW.site, CAST(unixepoch('subsec') * 1000 AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM outbox_meta WHERE site = NEW.site);
    UPDATE outbox_meta SET last_seq = last_seq + 1 WHERE site = NEW.site;
    INSERT INTO outbox (site, seq, kind, key, deleted, t, payload)
    VALUES (NEW.site, (SELECT last_seq FROM outbox_meta WHERE site = NEW.site), 'camera_day', NEW.day || '/' || NEW.camera, 0,
            unixepoch('subsec'), json_object('day', NEW.day, 'camera', NEW.camera, 'open_s', NEW.open_s, 'down_s', NEW.down_s));
END;
"#,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_and_latest_matches() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(LATEST_VERSION));
    }
}
