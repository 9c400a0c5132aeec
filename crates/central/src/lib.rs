//! hallwatch-central: the province centre of the roll-up.
//!
//! Every commune hall ships its facts (visits, zone samples, outages, abandonments, tickets,
//! ratings, dossiers, alerts, and per finished day its digests and camera days) to a NATS JetStream stream (crate `hallwatch-uplink`). The centre
//! reads them through one durable pull consumer and writes them into PostgreSQL:
//!
//! - idempotently: each row carries the `(epoch, seq)` of the hall's change that wrote it and
//!   is replaced only by a higher one, so a re-delivered or re-published fact changes nothing;
//!   deletions stay as tombstones;
//! - acknowledged to NATS only after the PostgreSQL commit: a centre killed mid-batch gets the
//!   batch again and writes nothing twice;
//! - with each hall's progress ([`HallProgress`]): the highest sequence received without a gap,
//!   how many facts were found missing (`gaps`), and how fresh its data is.
//!
//! Main types: [`CentralConfig`] (`central.toml`), [`Central`] (a PostgreSQL connection with
//! the schema migrated: [`Central::apply`] writes a batch of [`Fact`]s, [`Central::league`]
//! reads the province league table, [`Central::import_scores_766`] imports each commune's
//! Decision 766 scores ([`scores`])), [`run`] (the consumer and the live-state subscriber,
//! until shutdown), [`CentralStatus`], and the HTTP API ([`web::app`]).
#![deny(missing_docs)]

pub mod completeness;
pub mod config;
pub mod league;
mod schema;
pub mod scores;
pub mod web;

pub use config::{CentralConfig, HallEntry};

use async_nats::jetstream;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_postgres::{Client, NoTls, Statement};

/// Why the centre could not go on (it retries after logging it).
#[derive(Debug, thiserror::Error)]
pub enum CentralError {
    /// PostgreSQL refused or failed.
    #[error("PostgreSQL ({op}): {source}")]
    Postgres {
        /// What was being done.
        op: &'static str,
        /// The driver's error.
        source: tokio_postgres::Error,
    },
    /// NATS or JetStream failed.
    #[error("NATS ({op}): {detail}")]
    Nats {
        /// What was being done.
        op: &'static str,
        /// What went wrong.
        detail: String,
    },
}

fn pg(op: &'static str) -> impl FnOnce(tokio_postgres::Error) -> CentralError {
    move |source| CentralError::Postgres { op, source }
}

fn nats(op: &'static str) -> impl FnOnce(String) -> CentralError {
    move |detail| CentralError::Nats { op, detail }
}

/// One fact as a hall ships it (the JSON body of a stream message).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    /// The hall's site id.
    pub site: String,
    /// The kind (`visit`, `zone_sample`, ...).
    pub kind: String,
    /// The fact's natural key within its kind.
    pub key: String,
    /// The hall's outbox epoch.
    pub epoch: i64,
    /// The hall's sequence number of this change.
    pub seq: i64,
    /// When the hall stored the change (Unix seconds).
    pub t: f64,
    /// The fact was removed at the hall.
    #[serde(default)]
    pub deleted: bool,
    /// The row's columns.
    pub row: serde_json::Value,
}

impl Fact {
    /// Reads a message body; the error says what is wrong with it.
    pub fn parse(body: &[u8]) -> Result<Fact, String> {
        let f: Fact = serde_json::from_slice(body).map_err(|e| format!("not a fact: {e}"))?;
        let token_ok = !f.site.is_empty()
            && f.site
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !token_ok {
            return Err(format!("bad site id '{}'", f.site));
        }
        let Some(kind) = schema::kind(&f.kind) else {
            return Err(format!("unknown kind '{}'", f.kind));
        };
        if f.key.is_empty() || f.seq < 1 {
            return Err("empty key or sequence below 1".into());
        }
        let Some(obj) = f.row.as_object() else {
            return Err("row is not an object".into());
        };
        if let Some(p) = kind.partition
            && !obj
                .get(p)
                .is_some_and(|v| v.as_f64().is_some_and(f64::is_finite))
        {
            return Err(format!("{} without a finite '{p}'", f.kind));
        }
        Ok(f)
    }
}

/// Where one hall's data stands at the centre.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HallProgress {
    /// The hall's site id.
    pub site: String,
    /// Its name (the site id until it is listed in `central.toml`).
    pub name: String,
    /// Listed in `central.toml`.
    pub registered: bool,
    /// The outbox epoch of its latest facts.
    pub epoch: i64,
    /// The highest sequence received with nothing missing before it (within the epoch).
    pub last_seq: i64,
    /// Facts found missing (a jump in the sequence).
    pub gaps: i64,
    /// Facts applied.
    pub facts: i64,
    /// Hall time (Unix seconds) of its newest fact.
    pub last_fact_t: Option<f64>,
}

/// What one [`Central::apply`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Facts written (inserted, replaced, or found already newer).
    pub applied: u64,
    /// Facts skipped as already received (same epoch, sequence not above the hall's).
    pub duplicates: u64,
}

/// Counters of a running centre.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CentralStatus {
    /// Connected to PostgreSQL and consuming.
    pub consuming: bool,
    /// Facts written.
    pub applied_total: u64,
    /// Facts skipped as already received.
    pub duplicates_total: u64,
    /// Messages that were not facts (kept in `rejected_facts`).
    pub rejected_total: u64,
    /// Batches committed.
    pub batches_total: u64,
    /// Live-state messages kept.
    pub live_total: u64,
    /// The last error, cleared by the next commit.
    pub last_error: String,
}

/// A shared view of a running centre's [`CentralStatus`].
#[derive(Clone, Debug, Default)]
pub struct StatusHandle(Arc<Mutex<CentralStatus>>);

impl StatusHandle {
    /// The current counters.
    pub fn get(&self) -> CentralStatus {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn update(&self, f: impl FnOnce(&mut CentralStatus)) {
        if let Ok(mut s) = self.0.lock() {
            f(&mut s);
        }
    }
}

/// A connection to the central database, schema migrated.
pub struct Central {
    client: Client,
    /// The connection string, for a second connection when two queries can run at once.
    url: String,
    upserts: HashMap<&'static str, Statement>,
    partitions: HashSet<String>,
    /// `(epoch, last_seq, gaps)` per hall, as committed.
    progress: HashMap<String, (i64, i64, i64)>,
}

/// The month partition holding Unix time `t`: its name suffix and `[from, to)` bounds.
fn month_of(t: f64) -> Option<(String, f64, f64)> {
    use chrono::{Datelike, TimeZone, Utc};
    let dt = Utc.timestamp_opt(t.floor() as i64, 0).single()?;
    let start = Utc
        .with_ymd_and_hms(dt.year(), dt.month(), 1, 0, 0, 0)
        .single()?;
    let (ny, nm) = if dt.month() == 12 {
        (dt.year() + 1, 1)
    } else {
        (dt.year(), dt.month() + 1)
    };
    let end = Utc.with_ymd_and_hms(ny, nm, 1, 0, 0, 0).single()?;
    let name = if dt.year() < 0 {
        format!("m{}_{:02}", -dt.year(), dt.month())
    } else {
        format!("y{}m{:02}", dt.year(), dt.month())
    };
    Some((name, start.timestamp() as f64, end.timestamp() as f64))
}

impl Central {
    /// Connects (`url`: libpq key=value or `postgresql://`), applies pending migrations and
    /// records the halls of `halls` in the registry.
    pub async fn connect(url: &str, halls: &[HallEntry]) -> Result<Central, CentralError> {
        let (client, conn) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(pg("connecting"))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::warn!(error = %e, "central: PostgreSQL connection ended");
            }
        });
        // Sorts of a month's waits (the province's pooled percentiles: about 1 M values) fit
        // in memory instead of spilling to disk at the default 4 MB; a query uses a few such
        // areas at most, well under the centre's memory.
        client
            .batch_execute("SET work_mem = '64MB'")
            .await
            .map_err(pg("setting work_mem"))?;
        let mut c = Central {
            client,
            url: url.to_string(),
            upserts: HashMap::new(),
            partitions: HashSet::new(),
            progress: HashMap::new(),
        };
        c.migrate().await?;
        for k in schema::KINDS {
            let st = c
                .client
                .prepare(&k.upsert_sql())
                .await
                .map_err(pg("preparing an upsert"))?;
            c.upserts.insert(k.name, st);
        }
        for h in halls {
            c.client
                .execute(
                    "INSERT INTO halls (site, name, commune, province, timezone, registered) \
                     VALUES ($1, $2, $3, $4, $5, true) ON CONFLICT (site) DO UPDATE SET \
                     name = EXCLUDED.name, commune = EXCLUDED.commune, \
                     province = EXCLUDED.province, timezone = EXCLUDED.timezone, registered = true",
                    &[&h.site, &h.name, &h.commune, &h.province, &h.timezone],
                )
                .await
                .map_err(pg("registering halls"))?;
        }
        c.load_progress().await?;
        Ok(c)
    }

    /// Another connection to the same database (same settings), for a query that runs beside
    /// one on this connection: PostgreSQL runs one query per connection at a time.
    pub(crate) async fn second_connection(&self) -> Result<Client, CentralError> {
        let (client, conn) = tokio_postgres::connect(&self.url, NoTls)
            .await
            .map_err(pg("connecting"))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "central: second connection ended");
            }
        });
        client
            .batch_execute("SET work_mem = '64MB'")
            .await
            .map_err(pg("setting work_mem"))?;
        Ok(client)
    }

    /// The underlying client, for reading figures.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn migrate(&mut self) -> Result<(), CentralError> {
        let tx = self
            .client
            .transaction()
            .await
            .map_err(pg("starting migrations"))?;
        // One migrating centre at a time: a transaction-scoped advisory lock.
        tx.execute("SELECT pg_advisory_xact_lock(4857535401)", &[])
            .await
            .map_err(pg("locking migrations"))?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, \
             applied timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .map_err(pg("creating schema_migrations"))?;
        let done: i32 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )
            .await
            .map_err(pg("reading the schema version"))?
            .get(0);
        for m in schema::MIGRATIONS.iter().filter(|m| m.version > done) {
            tx.batch_execute(m.sql).await.map_err(pg("migrating"))?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&m.version],
            )
            .await
            .map_err(pg("recording a migration"))?;
            tracing::info!(version = m.version, "central: schema migrated");
        }
        tx.commit().await.map_err(pg("committing migrations"))
    }

    async fn load_progress(&mut self) -> Result<(), CentralError> {
        let rows = self
            .client
            .query("SELECT site, epoch, last_seq, gaps FROM halls", &[])
            .await
            .map_err(pg("reading hall progress"))?;
        self.progress = rows
            .iter()
            .map(|r| (r.get::<_, String>(0), (r.get(1), r.get(2), r.get(3))))
            .collect();
        Ok(())
    }

    async fn ensure_partition(&mut self, table: &str, t: f64) -> Result<(), CentralError> {
        let Some((suffix, from, to)) = month_of(t) else {
            return Ok(());
        };
        let name = format!("{table}_{suffix}");
        if self.partitions.contains(&name) {
            return Ok(());
        }
        self.client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} \
                 FOR VALUES FROM ({from}) TO ({to})"
            ))
            .await
            .map_err(pg("making a month partition"))?;
        self.partitions.insert(name);
        Ok(())
    }

    /// Writes a batch of facts in one transaction, in order, and the halls' progress with
    /// them. Facts already received (same epoch, sequence at or below the hall's) are skipped;
    /// any other fact is written only if newer than the row it would replace.
    pub async fn apply(&mut self, facts: &[Fact]) -> Result<ApplyReport, CentralError> {
        for f in facts {
            if let Some(k) = schema::kind(&f.kind)
                && let Some(p) = k.partition
                && let Some(t) = f.row.get(p).and_then(|v| v.as_f64())
            {
                self.ensure_partition(k.table, t).await?;
            }
        }
        let mut progress = self.progress.clone();
        let mut touched: HashMap<String, (i64, Option<f64>)> = HashMap::new();
        let mut report = ApplyReport::default();
        let tx = self
            .client
            .transaction()
            .await
            .map_err(pg("starting a batch"))?;
        let mut writes: Vec<(&Statement, serde_json::Value)> = Vec::with_capacity(facts.len());
        for f in facts {
            let p = progress.entry(f.site.clone()).or_insert((f.epoch, 0, 0));
            if f.epoch == p.0 && f.seq <= p.1 {
                report.duplicates += 1;
                continue;
            }
            if f.epoch > p.0 {
                // A new outbox at the hall (a new file): its sequence starts again.
                *p = (f.epoch, f.seq, p.2 + (f.seq - 1).max(0));
            } else if f.epoch == p.0 {
                p.2 += (f.seq - p.1 - 1).max(0);
                p.1 = f.seq;
            }
            let Some(st) = self.upserts.get(f.kind.as_str()) else {
                continue;
            };
            let mut row = f.row.clone();
            if let Some(obj) = row.as_object_mut() {
                obj.insert("site".into(), f.site.clone().into());
                obj.insert("key".into(), f.key.clone().into());
                obj.insert("epoch".into(), f.epoch.into());
                obj.insert("seq".into(), f.seq.into());
                obj.insert("deleted".into(), f.deleted.into());
            }
            writes.push((st, row));
            report.applied += 1;
            let e = touched.entry(f.site.clone()).or_insert((0, None));
            e.0 += 1;
            e.1 = Some(e.1.map_or(f.t, |t: f64| t.max(f.t)));
        }
        // Pipelined: every upsert of the batch is sent without waiting for the one before;
        // PostgreSQL runs them in order within the transaction.
        let params: Vec<[&(dyn tokio_postgres::types::ToSql + Sync); 1]> =
            writes.iter().map(|(_, row)| [row as _]).collect();
        futures_util::future::try_join_all(
            writes
                .iter()
                .zip(&params)
                .map(|((st, _), p)| tx.execute(*st, p)),
        )
        .await
        .map_err(pg("writing a fact"))?;
        for (site, (n, last_t)) in &touched {
            let (epoch, last_seq, gaps) = progress.get(site).copied().unwrap_or_default();
            tx.execute(
                "INSERT INTO halls (site, name, epoch, last_seq, gaps, facts, last_fact_t, last_received) \
                 VALUES ($1, $1, $2, $3, $4, $5, $6, now()) ON CONFLICT (site) DO UPDATE SET \
                 epoch = EXCLUDED.epoch, last_seq = EXCLUDED.last_seq, gaps = EXCLUDED.gaps, \
                 facts = halls.facts + EXCLUDED.facts, \
                 last_fact_t = greatest(halls.last_fact_t, EXCLUDED.last_fact_t), \
                 last_received = now()",
                &[site, &epoch, &last_seq, &gaps, n, last_t],
            )
            .await
            .map_err(pg("recording hall progress"))?;
        }
        tx.commit().await.map_err(pg("committing a batch"))?;
        self.progress = progress;
        Ok(report)
    }

    /// Keeps the latest live state of a hall.
    pub async fn keep_live(
        &self,
        site: &str,
        t: f64,
        body: &serde_json::Value,
    ) -> Result<(), CentralError> {
        self.client
            .execute(
                "INSERT INTO live_state (site, t, body, received) VALUES ($1, $2, $3, now()) \
                 ON CONFLICT (site) DO UPDATE SET t = EXCLUDED.t, body = EXCLUDED.body, \
                 received = now() WHERE live_state.t <= EXCLUDED.t",
                &[&site, &t, body],
            )
            .await
            .map(|_| ())
            .map_err(pg("keeping the live state"))
    }

    /// Keeps a message that is not a fact, for an operator.
    pub async fn reject(
        &self,
        subject: &str,
        detail: &str,
        body: &[u8],
    ) -> Result<(), CentralError> {
        let body = String::from_utf8_lossy(body);
        self.client
            .execute(
                "INSERT INTO rejected_facts (received, subject, detail, body) VALUES (now(), $1, $2, $3)",
                &[&subject, &detail, &body.as_ref()],
            )
            .await
            .map(|_| ())
            .map_err(pg("keeping a rejected message"))
    }

    /// Every hall's progress, by site.
    pub async fn halls(&self) -> Result<Vec<HallProgress>, CentralError> {
        let rows = self
            .client
            .query(
                "SELECT site, name, registered, epoch, last_seq, gaps, facts, last_fact_t \
                 FROM halls ORDER BY site",
                &[],
            )
            .await
            .map_err(pg("reading halls"))?;
        Ok(rows
            .iter()
            .map(|r| HallProgress {
                site: r.get(0),
                name: r.get(1),
                registered: r.get(2),
                epoch: r.get(3),
                last_seq: r.get(4),
                gaps: r.get(5),
                facts: r.get(6),
                last_fact_t: r.get(7),
            })
            .collect())
    }
}

/// Connects to the centre's NATS servers (retrying in the background until they answer).
pub async fn connect_nats(cfg: &config::NatsConfig) -> Result<async_nats::Client, CentralError> {
    hallwatch_uplink::connect_nats(&hallwatch_uplink::NatsConnection {
        servers: &cfg.servers,
        token: &cfg.token,
        user: &cfg.user,
        password: &cfg.password,
        credentials_file: &cfg.credentials_file,
        tls_ca_file: &cfg.tls_ca_file,
        name: "hallwatch-central".into(),
    })
    .await
    .map_err(nats("connecting"))
}

/// Runs the centre until `shutdown` turns true: the durable consumer writing facts into
/// PostgreSQL (acknowledging each batch after its commit), and the live-state subscriber.
/// Failures are logged, shown in `status` and retried with a growing pause; only a config
/// that cannot work returns an error.
pub async fn run(
    cfg: CentralConfig,
    status: StatusHandle,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), CentralError> {
    let client = connect_nats(&cfg.nats).await?;
    let mut backoff = Duration::from_millis(500);
    loop {
        if *shutdown.borrow() {
            break;
        }
        match consume(&cfg, &client, &status, &mut shutdown).await {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(error = %e, retry_in_s = backoff.as_secs_f64(), "central: consuming paused");
                status.update(|s| {
                    s.consuming = false;
                    s.last_error = e.to_string();
                });
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
    let _ = client.flush().await;
    Ok(())
}

async fn consume(
    cfg: &CentralConfig,
    client: &async_nats::Client,
    status: &StatusHandle,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), CentralError> {
    let mut central = Central::connect(&cfg.postgres.url, &cfg.halls).await?;
    let js = jetstream::new(client.clone());
    let stream = js
        .get_or_create_stream(hallwatch_uplink::stream_config(
            &cfg.nats.stream,
            &cfg.nats.subject_prefix,
        ))
        .await
        .map_err(|e| nats("making the stream")(e.to_string()))?;
    let consumer = stream
        .get_or_create_consumer(
            &cfg.nats.consumer,
            jetstream::consumer::pull::Config {
                durable_name: Some(cfg.nats.consumer.clone()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                max_ack_pending: 20_000,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| nats("making the consumer")(e.to_string()))?;
    let mut live = client
        .subscribe(format!("{}.live.*", cfg.nats.subject_prefix))
        .await
        .map_err(|e| nats("subscribing to live states")(e.to_string()))?;
    status.update(|s| s.consuming = true);
    // Days asked for again, and when: at most once per 10 minutes each.
    let mut asked: HashMap<(String, String), std::time::Instant> = HashMap::new();
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        // Latest live states first: cheap, and never behind the stream's backlog.
        while let Some(Some(m)) = futures_util::FutureExt::now_or_never(live.next()) {
            let site = m
                .subject
                .as_str()
                .rsplit('.')
                .next()
                .unwrap_or("")
                .to_string();
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&m.payload) {
                let t = v.get("t").and_then(|t| t.as_f64()).unwrap_or(0.0);
                central.keep_live(&site, t, &v).await?;
                status.update(|s| s.live_total += 1);
            }
        }
        let mut batch = consumer
            .fetch()
            .max_messages(cfg.nats.batch)
            .expires(Duration::from_millis(500))
            .messages()
            .await
            .map_err(|e| nats("fetching")(e.to_string()))?;
        let mut msgs = Vec::new();
        while let Some(m) = batch.next().await {
            match m {
                Ok(m) => msgs.push(m),
                Err(e) => {
                    tracing::debug!(error = %e, "central: fetch ended early");
                    break;
                }
            }
        }
        if msgs.is_empty() {
            continue;
        }
        let mut facts = Vec::with_capacity(msgs.len());
        let mut rejected = 0;
        for m in &msgs {
            match Fact::parse(&m.payload) {
                Ok(f) => facts.push(f),
                Err(detail) => {
                    tracing::warn!(subject = %m.subject, %detail, "central: message is not a fact; kept in rejected_facts");
                    central
                        .reject(m.subject.as_str(), &detail, &m.payload)
                        .await?;
                    rejected += 1;
                }
            }
        }
        let report = central.apply(&facts).await?;
        check_digests(&central, client, cfg, &facts, &mut asked).await;
        for m in &msgs {
            if let Err(e) = m.ack().await {
                // Not acknowledged: it comes again and changes nothing.
                tracing::debug!(error = %e, "central: ack failed");
            }
        }
        status.update(|s| {
            s.applied_total += report.applied;
            s.duplicates_total += report.duplicates;
            s.rejected_total += rejected;
            s.batches_total += 1;
            s.last_error.clear();
        });
    }
}

/// After digests arrive, checks their days against the centre's rows and asks the hall to send
/// an incomplete day again (in the background; at most once per day and 10 minutes).
async fn check_digests(
    central: &Central,
    client: &async_nats::Client,
    cfg: &CentralConfig,
    facts: &[Fact],
    asked: &mut HashMap<(String, String), std::time::Instant>,
) {
    let mut months: HashSet<(String, i32, u32)> = HashSet::new();
    let mut days: HashSet<(String, String)> = HashSet::new();
    for f in facts.iter().filter(|f| f.kind == "digest") {
        let Some(day) = f.row.get("day").and_then(|d| d.as_str()) else {
            continue;
        };
        let Ok(date) = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
            continue;
        };
        use chrono::Datelike;
        months.insert((f.site.clone(), date.year(), date.month()));
        days.insert((f.site.clone(), day.to_string()));
    }
    for (site, y, m) in months {
        let checks = match central.completeness(&site, y, m).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, %site, "central: completeness not checked");
                continue;
            }
        };
        for d in checks.iter().filter(|d| !d.complete) {
            let key = (site.clone(), d.day.clone());
            if !days.contains(&key)
                || asked
                    .get(&key)
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(600))
            {
                continue;
            }
            asked.insert(key, std::time::Instant::now());
            tracing::warn!(%site, day = %d.day, "central: a day is incomplete; asking the hall for it again");
            let (client, prefix, site, day) = (
                client.clone(),
                cfg.nats.subject_prefix.clone(),
                site.clone(),
                d.day.clone(),
            );
            tokio::spawn(async move {
                match completeness::resend_day(&client, &prefix, &site, &day).await {
                    Ok(n) => tracing::info!(%site, %day, facts = n, "central: hall re-sends a day"),
                    Err(e) => {
                        tracing::warn!(error = %e, %site, %day, "central: re-send request failed")
                    }
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_partitions_cover_the_month_in_utc() {
        // 2026-12-06T05:00:00Z
        let (name, from, to) = month_of(1_796_533_200.0).unwrap();
        assert_eq!(name, "y2026m12");
        assert_eq!(from, 1_796_083_200.0); // 2026-12-01
        assert_eq!(to, 1_798_761_600.0); // 2027-01-01
        let (name, ..) = month_of(12.5).unwrap();
        assert_eq!(name, "y1970m01");
    }

    #[test]
    fn facts_are_checked_before_they_reach_the_database() {
        let ok = br#"{"site":"an-phu","kind":"visit","key":"c/1/5.0","epoch":1,"seq":3,"t":9.0,"row":{"enter":5.0}}"#;
        assert_eq!(Fact::parse(ok).unwrap().seq, 3);
        for (body, what) in [
            (&br#"{"site":"a b","kind":"visit","key":"k","epoch":1,"seq":1,"t":0,"row":{"enter":1}}"#[..], "bad site"),
            (br#"{"site":"a","kind":"selfie","key":"k","epoch":1,"seq":1,"t":0,"row":{}}"#, "unknown kind"),
            (br#"{"site":"a","kind":"visit","key":"k","epoch":1,"seq":1,"t":0,"row":{}}"#, "finite 'enter'"),
            (br#"{"site":"a","kind":"ticket","key":"k","epoch":1,"seq":0,"t":0,"row":{}}"#, "sequence below 1"),
            (b"nope", "not a fact"),
        ] {
            let e = Fact::parse(body).unwrap_err();
            assert!(e.contains(what), "{e}");
        }
    }

    #[test]
    fn upserts_replace_only_with_a_newer_revision() {
        let sql = schema::kind("visit").unwrap().upsert_sql();
        assert!(sql.contains("ON CONFLICT (site, key, enter)"), "{sql}");
        assert!(sql.contains("WHERE (x.epoch, x.seq) < (EXCLUDED.epoch, EXCLUDED.seq)"));
        let sql = schema::kind("ticket").unwrap().upsert_sql();
        assert!(sql.contains("ON CONFLICT (site, key)"), "{sql}");
    }
}
