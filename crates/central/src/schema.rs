//! The central PostgreSQL schema, as versioned migrations.
//!
//! `schema_migrations` records each applied version; every step runs in one transaction under
//! an advisory lock, so two centres starting at once do not both apply it. Fact tables share
//! the columns `site, key, epoch, seq, deleted` (the hall, the fact's natural key, and the
//! revision that wrote the row: a fact is only ever replaced by a higher `(epoch, seq)`); a
//! deleted fact stays as a tombstone (`deleted`) so that a late copy of an older revision
//! cannot bring it back. Visits and zone samples, the big tables, are partitioned by month
//! (UTC) of their time column; partitions are made as facts arrive.

/// One migration step.
pub(crate) struct Migration {
    pub version: i32,
    pub sql: &'static str,
}

/// All steps, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: r#"
CREATE TABLE halls (
    site          text PRIMARY KEY,
    name          text    NOT NULL,
    commune       text    NOT NULL DEFAULT '',
    province      text    NOT NULL DEFAULT '',
    timezone      text    NOT NULL DEFAULT 'Asia/Ho_Chi_Minh',
    registered    boolean NOT NULL DEFAULT false,
    epoch         bigint  NOT NULL DEFAULT 0,
    last_seq      bigint  NOT NULL DEFAULT 0,
    gaps          bigint  NOT NULL DEFAULT 0,
    facts         bigint  NOT NULL DEFAULT 0,
    last_fact_t   double precision,
    last_received timestamptz
);
CREATE TABLE visits (
    site text NOT NULL, key text NOT NULL, epoch bigint NOT NULL, seq bigint NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    camera text, session_id bigint, zone text, role text, counter integer,
    enter double precision NOT NULL, exit double precision, duration double precision,
    truncated integer,
    PRIMARY KEY (site, key, enter)
) PARTITION BY RANGE (enter);
CREATE TABLE zone_samples (
    site text NOT NULL, key text NOT NULL, epoch bigint NOT NULL, seq bigint NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    camera text, zone text, t double precision NOT NULL, people_now integer,
    people_smoothed double precision,
    PRIMARY KEY (site, key, t)
) PARTITION BY RANGE (t);
CREATE TABLE outages (
    site text NOT NULL, key text NOT NULL, epoch bigint NOT NULL, seq bigint NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    camera text, start_t double precision, end_t double precision, reason text,
    PRIMARY KEY (site, key)
);
CREATE TABLE abandonments (
    site text NOT NULL, key text NOT NULL, epoch bigint NOT NULL, seq bigint NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    camera text, zone text, session_id bigint, enter double precision, t double precision,
    PRIMARY KEY (site, key)
);
CREATE TABLE tickets (
    site text NOT NULL, key text NOT NULL, epoch bigint NOT NULL, seq bigint NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    day text, number text, service text, issued double precision, called double precision,
    counter integer, finished double precision, no_show double precision, source text,
    PRIMARY KEY (site, key)
);
CREATE TABLE ratings (
    site text NOT NULL, key text NOT NULL, epoch bigint NOT NULL, seq bigint NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    t double precision, counter integer, ticket text, level text, score integer,
    scale_max integer, has_comment boolean, device text, client_id text,
    PRIMARY KEY (site, key)
);
CREATE TABLE dossiers (
    site text NOT NULL, key text NOT NULL, epoch bigint NOT NULL, seq bigint NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    code text, service text, channel text, received double precision, due double precision,
    resolved double precision,
    PRIMARY KEY (site, key)
);
CREATE TABLE alerts (
    site text NOT NULL, key text NOT NULL, epoch bigint NOT NULL, seq bigint NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    rule text, kind text, severity text, camera text, zone text, counter integer,
    triggered double precision, value double precision, peak double precision, message text,
    acknowledged double precision, ack_by text, ack_note text, resolved double precision,
    PRIMARY KEY (site, key)
);
-- The latest live state each hall published (plain NATS subject, not the stream).
CREATE TABLE live_state (
    site     text PRIMARY KEY,
    t        double precision NOT NULL,
    body     jsonb NOT NULL,
    received timestamptz NOT NULL
);
-- Messages that could not be read as facts: kept for an operator, never retried.
CREATE TABLE rejected_facts (
    id       bigserial PRIMARY KEY,
    received timestamptz NOT NULL,
    subject  text NOT NULL,
    detail   text NOT NULL,
    body     text NOT NULL
);
"#,
    },
    Migration {
        version: 2,
        sql: r#"
-- Each hall's daily digests: per local day and kind of fact, how many it holds and the SHA-256
-- of their sorted keys; the centre compares them with its own rows (completeness).
CREATE TABLE digests (
    site text NOT NULL, key text NOT NULL, epoch bigint NOT NULL, seq bigint NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    day text, fact text, count bigint, hash text,
    PRIMARY KEY (site, key)
);
"#,
    },
    Migration {
        version: 3,
        sql: r#"
-- The league table reads each hall's month by range: (site, time) indexes, covering what it
-- aggregates so that they serve index-only scans.
CREATE INDEX visits_site_role_enter ON visits (site, role, enter) INCLUDE (exit, truncated, deleted);
CREATE INDEX ratings_site_t ON ratings (site, t) INCLUDE (level, deleted);
CREATE INDEX dossiers_site_resolved ON dossiers (site, resolved) INCLUDE (due, deleted);
CREATE INDEX abandonments_site_t ON abandonments (site, t) INCLUDE (deleted);
"#,
    },
    Migration {
        version: 4,
        sql: r#"
-- Each camera's working time against the hall's opening hours and its time without a picture,
-- per finished local day, from the hall (which alone knows its hours): the camera uptime.
CREATE TABLE camera_days (
    site text NOT NULL, key text NOT NULL, epoch bigint NOT NULL, seq bigint NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    day text, camera text, open_s double precision, down_s double precision,
    PRIMARY KEY (site, key)
);
-- Each commune's monthly score under Decision 766/QĐ-TTg as the national system publishes it,
-- imported at the centre (not recomputed): the total out of 100 and its five groups.
CREATE TABLE scores_766 (
    site       text NOT NULL,
    month      text NOT NULL,
    total      double precision NOT NULL,
    cong_khai  double precision,
    tien_do    double precision,
    truc_tuyen double precision,
    hai_long   double precision,
    so_hoa     double precision,
    source     text NOT NULL,
    imported   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, month)
);
"#,
    },
];

/// A fact kind: its table, the columns besides the common ones, and the partition column.
pub(crate) struct Kind {
    pub name: &'static str,
    pub table: &'static str,
    pub columns: &'static [&'static str],
    pub partition: Option<&'static str>,
}

/// Every kind a hall ships.
pub(crate) const KINDS: &[Kind] = &[
    Kind {
        name: "visit",
        table: "visits",
        columns: &[
            "camera",
            "session_id",
            "zone",
            "role",
            "counter",
            "exit",
            "duration",
            "truncated",
        ],
        partition: Some("enter"),
    },
    Kind {
        name: "zone_sample",
        table: "zone_samples",
        columns: &["camera", "zone", "people_now", "people_smoothed"],
        partition: Some("t"),
    },
    Kind {
        name: "outage",
        table: "outages",
        columns: &["camera", "start_t", "end_t", "reason"],
        partition: None,
    },
    Kind {
        name: "abandonment",
        table: "abandonments",
        columns: &["camera", "zone", "session_id", "enter", "t"],
        partition: None,
    },
    Kind {
        name: "ticket",
        table: "tickets",
        columns: &[
            "day", "number", "service", "issued", "called", "counter", "finished", "no_show",
            "source",
        ],
        partition: None,
    },
    Kind {
        name: "rating",
        table: "ratings",
        columns: &[
            "t",
            "counter",
            "ticket",
            "level",
            "score",
            "scale_max",
            "has_comment",
            "device",
            "client_id",
        ],
        partition: None,
    },
    Kind {
        name: "dossier",
        table: "dossiers",
        columns: &["code", "service", "channel", "received", "due", "resolved"],
        partition: None,
    },
    Kind {
        name: "digest",
        table: "digests",
        columns: &["day", "fact", "count", "hash"],
        partition: None,
    },
    Kind {
        name: "camera_day",
        table: "camera_days",
        columns: &["day", "camera", "open_s", "down_s"],
        partition: None,
    },
    Kind {
        name: "alert",
        table: "alerts",
        columns: &[
            "rule",
            "kind",
            "severity",
            "camera",
            "zone",
            "counter",
            "triggered",
            "value",
            "peak",
            "message",
            "acknowledged",
            "ack_by",
            "ack_note",
            "resolved",
        ],
        partition: None,
    },
];

impl Kind {
    /// The idempotent upsert of one fact, given as `$1` = the row as JSON with the common
    /// columns: a row is replaced only by a higher `(epoch, seq)`.
    pub(crate) fn upsert_sql(&self) -> String {
        let mut set: Vec<&str> = vec!["epoch", "seq", "deleted"];
        set.extend_from_slice(self.columns);
        let target = match self.partition {
            Some(p) => format!("site, key, {p}"),
            None => "site, key".into(),
        };
        format!(
            "INSERT INTO {t} AS x SELECT * FROM jsonb_populate_record(NULL::{t}, $1::jsonb) \
             ON CONFLICT ({target}) DO UPDATE SET ({cols}) = ROW({excl}) \
             WHERE (x.epoch, x.seq) < (EXCLUDED.epoch, EXCLUDED.seq)",
            t = self.table,
            cols = set.join(", "),
            excl = set
                .iter()
                .map(|c| format!("EXCLUDED.{c}"))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

/// The kind named `name`.
pub(crate) fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// Per kind of fact: the centre's table and the time column that dates a fact to a local day
/// (as the hall's digests date them).
pub(crate) const DATED: &[(&str, &str, &str)] = &[
    ("visit", "visits", "enter"),
    ("zone_sample", "zone_samples", "t"),
    ("outage", "outages", "start_t"),
    ("abandonment", "abandonments", "t"),
    ("ticket", "tickets", "issued"),
    ("rating", "ratings", "t"),
    ("dossier", "dossiers", "received"),
    ("alert", "alerts", "triggered"),
];
