//! hallwatch-uplink: the hall side of the province roll-up.
//!
//! The store's outbox (see `hallwatch_store::OutboxEvent`) holds every fact the centre needs,
//! numbered per site in the transaction that stored it. A [`Publisher`] ships them in that
//! order to a NATS JetStream stream and deletes them from the outbox only once JetStream
//! acknowledged them:
//!
//! - subject `<prefix>.facts.<site>.<kind>`; headers `Nats-Msg-Id` (see [`message_id`]: the
//!   stream drops a copy sent again within its duplicate window), `Hallwatch-Seq` and
//!   `Hallwatch-Epoch` (the centre sees gaps and restarted sequences);
//! - up to `window` facts are sent before their acknowledgements are awaited, in order; the
//!   outbox is trimmed to the last fact acknowledged without a gap before it;
//! - a missing or late acknowledgement (a timeout does not mean the fact was lost) sends again
//!   from the first unacknowledged fact with the same message ids, after a pause that doubles
//!   from 1 s to `retry_max_s`; while the link is down the outbox grows and is sent in full
//!   when it returns (backfill).
//! - Privacy: a dossier's code leaves the hall only as a hash, a rating without its comment;
//!   track ids never leave it.
//!
//! [`Publisher::status`] gives an [`UplinkStatus`] (connected, lag in facts and seconds, last
//! acknowledgement, last error) for health, metrics and the dashboard. The live hall state is
//! published on the plain subject `<prefix>.live.<site>` at most every `live_interval_s`
//! ([`Publisher::with_live`]).
//!
//! Every hour, for the last week's finished local days, it writes each day's digests (count and
//! SHA-256 of the keys per kind of fact) and, given [`Publisher::with_camera_days`], each
//! camera's open and down seconds ([`CameraDay`]) into the outbox, shipped like any fact
//! ([`Publisher::summarise_days`] does it for any days).
#![deny(missing_docs)]

use async_nats::jetstream;
use async_nats::jetstream::message::PublishMessage as Publish;
use bytes::Bytes;
use hallwatch_config::UplinkConfig;
use hallwatch_store::{OutboxEvent, Store, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// What can stop a shipping attempt; the publisher logs it, shows it in its status and tries
/// again.
#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    /// The store could not be read or written.
    #[error("uplink store: {0}")]
    Store(#[from] StoreError),
    /// The NATS connection could not be set up.
    #[error("connecting to {servers}: {detail}")]
    Connect {
        /// The configured servers.
        servers: String,
        /// What went wrong.
        detail: String,
    },
    /// The stream could not be found or made.
    #[error("JetStream stream {stream}: {detail}")]
    Stream {
        /// The stream name.
        stream: String,
        /// What went wrong.
        detail: String,
    },
    /// A fact could not be published or was not acknowledged in time.
    #[error("publishing fact {seq}: {detail}")]
    Publish {
        /// The first fact not acknowledged.
        seq: u64,
        /// What went wrong.
        detail: String,
    },
    /// A blocking store task failed.
    #[error("uplink store task: {0}")]
    Task(String),
}

/// Where the uplink stands, for health, metrics and the dashboard.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UplinkStatus {
    /// The NATS connection is up.
    pub connected: bool,
    /// The outbox epoch (Unix ms; see `hallwatch_store::OutboxStatus::epoch`).
    pub epoch: i64,
    /// The last fact recorded.
    pub last_seq: u64,
    /// The last fact acknowledged by the centre's stream.
    pub acked_seq: u64,
    /// Facts waiting to be shipped.
    pub lag_events: u64,
    /// Age in seconds of the oldest fact waiting (0 when none waits).
    pub lag_s: f64,
    /// Unix seconds of the last acknowledgement.
    pub last_ack_t: Option<f64>,
    /// Facts acknowledged by this process.
    pub shipped_total: u64,
    /// Facts sent again after a missing acknowledgement.
    pub resent_total: u64,
    /// Shipping attempts that failed (link down, acknowledgement missing) and were retried.
    pub retries_total: u64,
    /// Facts dropped unshipped by retention (see `hallwatch_store::OutboxStatus::dropped`).
    pub dropped: u64,
    /// Live-state messages published.
    pub live_total: u64,
    /// The last error, cleared by the next acknowledgement.
    pub last_error: String,
}

/// A shared, cheaply cloned view of a publisher's [`UplinkStatus`].
#[derive(Clone, Debug, Default)]
pub struct StatusHandle(Arc<Mutex<UplinkStatus>>);

impl StatusHandle {
    /// The current status.
    pub fn get(&self) -> UplinkStatus {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn update(&self, f: impl FnOnce(&mut UplinkStatus)) {
        if let Ok(mut s) = self.0.lock() {
            f(&mut s);
        }
    }
}

/// What a [`Publisher`] needs.
#[derive(Clone, Debug)]
pub struct PublisherOptions {
    /// `[site].id`: whose outbox is shipped, and the subject's site token.
    pub site: String,
    /// The hall's store file (opened again by the publisher).
    pub store: PathBuf,
    /// `[uplink]`.
    pub config: UplinkConfig,
    /// `[site].timezone`: daily digests and re-sends are by the hall's local day.
    pub timezone: String,
}

/// One camera's working time and time without a picture on one local day.
#[derive(Clone, Debug, PartialEq)]
pub struct CameraDay {
    /// The camera id.
    pub camera: String,
    /// Seconds the hall was open that day.
    pub open_s: f64,
    /// Seconds of those the camera gave no picture.
    pub down_s: f64,
}

/// Computes every camera's [`CameraDay`] over `[from, to)` (Unix seconds, one local day) from
/// the hall's store: the hall's analytics against its opening hours, given to the publisher
/// by the binary ([`Publisher::with_camera_days`]) so this crate needs no analytics.
pub type CameraDaysFn =
    Arc<dyn Fn(&Store, f64, f64) -> Result<Vec<CameraDay>, String> + Send + Sync>;

/// Ships one site's outbox; see the crate docs.
pub struct Publisher {
    site: String,
    tz: chrono_tz::Tz,
    cfg: UplinkConfig,
    store: Arc<Mutex<Store>>,
    status: StatusHandle,
    live: Option<watch::Receiver<serde_json::Value>>,
    camera_days: Option<CameraDaysFn>,
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The JetStream message id of a fact: `<site>:<kind>:<key>:<epoch>.<seq>`. Sending the same
/// fact again gives the same id; a later change of the same fact (same key) another.
pub fn message_id(site: &str, epoch: i64, e: &OutboxEvent) -> String {
    format!(
        "{site}:{}:{}:{epoch}.{}",
        e.kind,
        shipped_key(site, e),
        e.seq
    )
}

/// A dossier code, as it leaves the hall: the first 24 hex digits of SHA-256 of
/// `<site>:<code>`, so the centre can count and match dossiers without reading their codes.
pub fn hashed_code(site: &str, code: &str) -> String {
    let d = Sha256::digest(format!("{site}:{code}").as_bytes());
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!("h:{}", &hex[..24])
}

fn shipped_key(site: &str, e: &OutboxEvent) -> String {
    if e.kind == "dossier" {
        hashed_code(site, &e.key)
    } else {
        e.key.clone()
    }
}

/// The body of a fact on the wire.
#[derive(Serialize)]
struct Body<'a> {
    site: &'a str,
    kind: &'a str,
    key: String,
    epoch: i64,
    seq: u64,
    t: f64,
    deleted: bool,
    row: serde_json::Value,
}

/// The wire form of a fact: subject, message id and JSON body, privacy rules applied.
pub fn encode(
    cfg: &UplinkConfig,
    site: &str,
    epoch: i64,
    e: &OutboxEvent,
) -> (String, String, Bytes) {
    let mut row: serde_json::Value =
        serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = row.as_object_mut() {
        match e.kind.as_str() {
            "dossier" => {
                if let Some(code) = obj.get("code").and_then(|c| c.as_str()).map(str::to_owned) {
                    obj.insert("code".into(), hashed_code(site, &code).into());
                }
            }
            "rating" => {
                let has = obj
                    .remove("comment")
                    .and_then(|c| c.as_str().map(|s| !s.is_empty()))
                    .unwrap_or(false);
                obj.insert("has_comment".into(), has.into());
            }
            _ => {}
        }
    }
    let body = Body {
        site,
        kind: &e.kind,
        key: shipped_key(site, e),
        epoch,
        seq: e.seq,
        t: e.t,
        deleted: e.deleted,
        row,
    };
    let subject = format!("{}.facts.{site}.{}", cfg.subject_prefix, e.kind);
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    (subject, message_id(site, epoch, e), Bytes::from(bytes))
}

impl Publisher {
    /// A publisher for `opts.site`: opens the store again and switches its outbox on.
    pub fn build(opts: PublisherOptions) -> Result<Publisher, UplinkError> {
        let tz: chrono_tz::Tz = opts.timezone.parse().map_err(|_| {
            UplinkError::Task(format!(
                "unknown time zone '{}' ([site].timezone)",
                opts.timezone
            ))
        })?;
        let mut store = Store::open_again(&opts.store)?;
        store.set_outbox(true)?;
        Ok(Publisher {
            site: opts.site,
            tz,
            cfg: opts.config,
            store: Arc::new(Mutex::new(store)),
            status: StatusHandle::default(),
            live: None,
            camera_days: None,
        })
    }

    /// Also ship each camera's working and down time per finished day (with the daily
    /// digests), computed by `f`: the centre's camera uptime.
    pub fn with_camera_days(mut self, f: CameraDaysFn) -> Publisher {
        self.camera_days = Some(f);
        self
    }

    /// Also publish the hall's live state (the latest value of `live`) on
    /// `<prefix>.live.<site>`, at most every `live_interval_s`.
    pub fn with_live(mut self, live: watch::Receiver<serde_json::Value>) -> Publisher {
        self.live = Some(live);
        self
    }

    /// The status, updated while [`Publisher::run`] runs.
    pub fn status(&self) -> StatusHandle {
        self.status.clone()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, UplinkError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut s = store
                .lock()
                .map_err(|_| UplinkError::Task("store lock poisoned".into()))?;
            f(&mut s).map_err(UplinkError::from)
        })
        .await
        .map_err(|e| UplinkError::Task(e.to_string()))?
    }

    async fn refresh(&self) -> Result<hallwatch_store::OutboxStatus, UplinkError> {
        let site = self.site.clone();
        let st = self.blocking(move |s| s.outbox_status(&site)).await?;
        let now = now_s();
        self.status.update(|u| {
            u.epoch = st.epoch;
            u.last_seq = st.last_seq;
            u.acked_seq = st.acked_seq;
            u.lag_events = st.pending;
            u.lag_s = st.oldest_pending_t.map_or(0.0, |t| (now - t).max(0.0));
            u.last_ack_t = st.acked_t;
            u.dropped = st.dropped;
        });
        Ok(st)
    }

    async fn connect(&self) -> Result<async_nats::Client, UplinkError> {
        let c = &self.cfg;
        connect_nats(&NatsConnection {
            servers: &c.servers,
            token: &c.token,
            user: &c.user,
            password: &c.password,
            credentials_file: &c.credentials_file,
            tls_ca_file: &c.tls_ca_file,
            name: format!("hallwatch-{}", self.site),
        })
        .await
        .map_err(|detail| UplinkError::Connect {
            servers: c.servers.join(","),
            detail,
        })
    }

    /// Ships until `shutdown` turns true: connects (retrying), makes sure the stream exists,
    /// sends the outbox in order, trims it on acknowledgement, and starts again from the last
    /// acknowledged fact after any failure. At shutdown it ships what the outbox holds while
    /// the link is up, stopping at the first failure (bound the wait from outside).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let _ = self.refresh().await;
        let client = loop {
            match self.connect().await {
                Ok(c) => break c,
                Err(e) => {
                    tracing::error!(error = %e, "uplink: cannot set up the NATS connection");
                    self.status.update(|u| u.last_error = e.to_string());
                    if sleep_or_shutdown(
                        Duration::from_secs_f64(self.cfg.retry_max_s),
                        &mut shutdown,
                    )
                    .await
                    {
                        return;
                    }
                }
            }
        };
        tokio::join!(
            self.ship_loop(&client, shutdown.clone()),
            self.answer_resends(client.clone(), shutdown.clone()),
            self.digest_loop(shutdown.clone()),
        );
        let _ = client.flush().await;
        let _ = self.refresh().await;
    }

    /// Ships sessions one after another, pausing after each failure, until shutdown.
    async fn ship_loop(&self, client: &async_nats::Client, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Duration::from_secs(1);
        let mut stream_ready = false;
        // The highest fact ever sent: a fact at or below it sent again is a resend.
        let mut max_sent = 0u64;
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self
                .ship(client, &mut stream_ready, &mut max_sent, &mut shutdown)
                .await
            {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_s = backoff.as_secs_f64(), "uplink: shipping paused");
                    self.status.update(|u| {
                        u.retries_total += 1;
                        u.last_error = e.to_string();
                        u.connected =
                            client.connection_state() == async_nats::connection::State::Connected;
                    });
                    let _ = self.refresh().await;
                    if sleep_or_shutdown(backoff, &mut shutdown).await {
                        break;
                    }
                    backoff = (backoff * 2).min(Duration::from_secs_f64(self.cfg.retry_max_s));
                }
            }
        }
    }

    /// The daily digests: at start, then every hour, until shutdown.
    async fn digest_loop(&self, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.write_digests().await {
                Ok(n) if n > 0 => tracing::info!(digests = n, "uplink: daily digests updated"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "uplink: daily digests not written"),
            }
            if sleep_or_shutdown(Duration::from_secs(3600), &mut shutdown).await {
                return;
            }
        }
    }

    /// One shipping session; returns Ok at shutdown, Err on the first failure.
    async fn ship(
        &self,
        client: &async_nats::Client,
        stream_ready: &mut bool,
        max_sent: &mut u64,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), UplinkError> {
        let ack_timeout = Duration::from_secs_f64(self.cfg.ack_timeout_s);
        let js = jetstream::ContextBuilder::new()
            .timeout(ack_timeout)
            .build(client.clone());
        if !*stream_ready {
            js.get_or_create_stream(stream_config(&self.cfg.stream, &self.cfg.subject_prefix))
                .await
                .map_err(|e| UplinkError::Stream {
                    stream: self.cfg.stream.clone(),
                    detail: e.to_string(),
                })?;
            *stream_ready = true;
        }
        let st = self.refresh().await?;
        let mut acked = st.acked_seq;
        let epoch = st.epoch;
        let mut last_live: Option<std::time::Instant> = None;
        loop {
            // At shutdown, what is already in the outbox is still shipped while the link is
            // up (the last visits a stopping server closes); the rest waits for the next start.
            let stopping = *shutdown.borrow();
            let connected = client.connection_state() == async_nats::connection::State::Connected;
            self.status.update(|u| u.connected = connected);
            if stopping && !connected {
                return Ok(());
            }
            if !stopping {
                self.publish_live(client, &mut last_live).await;
            }
            let site = self.site.clone();
            let window = self.cfg.window;
            let events = self
                .blocking(move |s| s.outbox_after(&site, acked, window))
                .await?;
            if events.is_empty() {
                self.refresh().await?;
                if stopping {
                    return Ok(());
                }
                // Woken early by a shutdown: the next round ships what is left.
                sleep_or_shutdown(Duration::from_millis(250), shutdown).await;
                continue;
            }
            // Epoch of the site: read again when the outbox was empty at the start.
            let epoch = if epoch == 0 {
                self.refresh().await?.epoch
            } else {
                epoch
            };
            let mut pending = Vec::with_capacity(events.len());
            for e in &events {
                let (subject, id, body) = encode(&self.cfg, &self.site, epoch, e);
                let msg = Publish::build()
                    .payload(body)
                    .message_id(id)
                    .header("Hallwatch-Seq", e.seq.to_string().as_str())
                    .header("Hallwatch-Epoch", epoch.to_string().as_str());
                let fut =
                    js.send_publish(subject, msg)
                        .await
                        .map_err(|err| UplinkError::Publish {
                            seq: e.seq,
                            detail: err.to_string(),
                        })?;
                pending.push((e.seq, fut));
            }
            let resent = events.iter().filter(|e| e.seq <= *max_sent).count() as u64;
            if resent > 0 {
                self.status.update(|u| u.resent_total += resent);
            }
            *max_sent = (*max_sent).max(events.last().map_or(0, |e| e.seq));
            let mut last_ok = acked;
            let mut failure = None;
            for (seq, fut) in pending {
                match fut.await {
                    Ok(_) => last_ok = seq,
                    Err(err) => {
                        failure = Some(UplinkError::Publish {
                            seq,
                            detail: err.to_string(),
                        });
                        break;
                    }
                }
            }
            if last_ok > acked {
                let site = self.site.clone();
                let n = last_ok - acked;
                self.blocking(move |s| s.outbox_acked(&site, last_ok, now_s()))
                    .await?;
                self.status.update(|u| {
                    u.shipped_total += n;
                    u.last_error.clear();
                });
                acked = last_ok;
                self.refresh().await?;
            }
            if let Some(f) = failure {
                return Err(f);
            }
        }
    }

    async fn publish_live(
        &self,
        client: &async_nats::Client,
        last: &mut Option<std::time::Instant>,
    ) {
        let Some(live) = &self.live else { return };
        if self.cfg.live_interval_s <= 0.0 {
            return;
        }
        if last.is_some_and(|t| t.elapsed().as_secs_f64() < self.cfg.live_interval_s) {
            return;
        }
        let value = live.borrow().clone();
        let body = serde_json::json!({ "site": self.site, "t": now_s(), "live": value });
        let subject = format!("{}.live.{}", self.cfg.subject_prefix, self.site);
        match client
            .publish(
                subject,
                Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
            )
            .await
        {
            Ok(()) => {
                *last = Some(std::time::Instant::now());
                self.status.update(|u| u.live_total += 1);
            }
            Err(e) => tracing::debug!(error = %e, "uplink: live state not published"),
        }
    }
}

/// How to reach NATS: the connection fields of a hall's `[uplink]` and of the centre's
/// `[nats]`, which connect alike.
pub struct NatsConnection<'a> {
    /// `nats://` or `tls://` URLs.
    pub servers: &'a [String],
    /// A token, or empty.
    pub token: &'a str,
    /// A user (with `password`), or empty.
    pub user: &'a str,
    /// The user's password.
    pub password: &'a str,
    /// A `.creds` file, or empty.
    pub credentials_file: &'a str,
    /// A PEM file of the server's certificate authority (TLS required), or empty.
    pub tls_ca_file: &'a str,
    /// The client name the server shows.
    pub name: String,
}

/// Connects (a 5 s timeout per attempt; retried in the background by the client while the
/// servers are unreachable at first); the error says what is wrong with the settings.
pub async fn connect_nats(c: &NatsConnection<'_>) -> Result<async_nats::Client, String> {
    let mut opts = async_nats::ConnectOptions::new()
        .name(c.name.clone())
        .connection_timeout(Duration::from_secs(5))
        .retry_on_initial_connect();
    if !c.token.is_empty() {
        opts = opts.token(c.token.to_string());
    }
    if !c.user.is_empty() {
        opts = opts.user_and_password(c.user.to_string(), c.password.to_string());
    }
    if !c.credentials_file.is_empty() {
        opts = opts
            .credentials_file(c.credentials_file)
            .await
            .map_err(|e| format!("credentials_file {}: {e}", c.credentials_file))?;
    }
    if !c.tls_ca_file.is_empty() {
        opts = opts
            .add_root_certificates(PathBuf::from(c.tls_ca_file))
            .require_tls(true);
    }
    let addrs: Vec<async_nats::ServerAddr> = c
        .servers
        .iter()
        .map(|s| s.parse::<async_nats::ServerAddr>())
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    opts.connect(addrs).await.map_err(|e| e.to_string())
}

/// The JetStream stream of the facts, as both the halls and the centre make it when missing:
/// subjects `<prefix>.facts.>`, file storage, a 2-minute duplicate window.
pub fn stream_config(name: &str, prefix: &str) -> jetstream::stream::Config {
    jetstream::stream::Config {
        name: name.to_string(),
        subjects: vec![format!("{prefix}.facts.>")],
        storage: jetstream::stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    }
}

/// How many finished local days back the daily digests cover (recomputed every hour; a digest
/// that did not change is not sent again).
pub const DIGEST_DAYS: i64 = 7;

/// `[from, to)` in Unix seconds of local day `day` in `tz`.
pub fn day_bounds(tz: chrono_tz::Tz, day: chrono::NaiveDate) -> Option<(f64, f64)> {
    use chrono::TimeZone;
    let start = |d: chrono::NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
            .earliest()
            .map(|t| t.timestamp() as f64)
    };
    Some((start(day)?, start(day.succ_opt()?)?))
}

/// The digest of a day's facts of one kind: how many, and the SHA-256 (hex) of their keys as
/// shipped, sorted bytewise and joined by newlines. The centre computes the same from its rows.
pub fn digest(mut keys: Vec<String>) -> (u64, String) {
    keys.sort_unstable();
    let d = Sha256::digest(keys.join("\n").as_bytes());
    (
        keys.len() as u64,
        d.iter().map(|b| format!("{b:02x}")).collect(),
    )
}

impl Publisher {
    /// Writes the digests of the last [`DIGEST_DAYS`] finished local days (queued like facts
    /// when they changed). Returns how many changed.
    async fn write_digests(&self) -> Result<u64, UplinkError> {
        let today = chrono::Utc::now().with_timezone(&self.tz).date_naive();
        let days = (1..=DIGEST_DAYS)
            .filter_map(|back| today.checked_sub_days(chrono::Days::new(back as u64)))
            .collect();
        self.summarise_days(days).await
    }

    /// Writes the daily digests (and, with [`Publisher::with_camera_days`], the camera days)
    /// of the given finished local days into the outbox, to be shipped like any fact; the
    /// publisher does it every hour for the last week on its own. Returns how many changed
    /// (the same figures again ship nothing).
    pub async fn summarise_days(&self, days: Vec<chrono::NaiveDate>) -> Result<u64, UplinkError> {
        let site = self.site.clone();
        let tz = self.tz;
        let camera_days = self.camera_days.clone();
        self.blocking(move |s| {
            let mut changed = 0;
            for day in days {
                let Some((from, to)) = day_bounds(tz, day) else {
                    continue;
                };
                for kind in hallwatch_store::FACT_KINDS {
                    let mut keys = s.fact_keys(&site, kind, from, to)?;
                    if *kind == "dossier" {
                        keys = keys.iter().map(|k| hashed_code(&site, k)).collect();
                    }
                    let (n, hash) = digest(keys);
                    if s.put_digest(&site, &day.to_string(), kind, n, &hash, now_s())? {
                        changed += 1;
                    }
                }
                let Some(f) = &camera_days else { continue };
                match f(s, from, to) {
                    Ok(cams) => {
                        for c in cams {
                            let day = day.to_string();
                            if s.put_camera_day(
                                &site,
                                &day,
                                &c.camera,
                                c.open_s,
                                c.down_s,
                                now_s(),
                            )? {
                                changed += 1;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(%day, error = %e, "uplink: camera uptime not computed")
                    }
                }
            }
            Ok(changed)
        })
        .await
    }

    /// Answers the centre's requests to send a local day again (`<prefix>.resend.<site>`,
    /// body `{"day": "YYYY-MM-DD"}`, reply `{"queued": n}` or `{"error": ...}`).
    async fn answer_resends(
        &self,
        client: async_nats::Client,
        mut shutdown: watch::Receiver<bool>,
    ) {
        use futures_util::StreamExt;
        let subject = format!("{}.resend.{}", self.cfg.subject_prefix, self.site);
        let mut sub = match client.subscribe(subject.clone()).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, %subject, "uplink: cannot listen for re-send requests");
                return;
            }
        };
        loop {
            let msg = tokio::select! {
                m = sub.next() => m,
                _ = shutdown.changed() => None,
            };
            let Some(msg) = msg else { break };
            let answer = match self.resend(&msg.payload).await {
                Ok(n) => serde_json::json!({ "queued": n }),
                Err(e) => serde_json::json!({ "error": e }),
            };
            if let Some(reply) = msg.reply {
                let body = Bytes::from(serde_json::to_vec(&answer).unwrap_or_default());
                if let Err(e) = client.publish(reply, body).await {
                    tracing::debug!(error = %e, "uplink: re-send reply lost");
                }
            }
        }
    }

    async fn resend(&self, body: &[u8]) -> Result<u64, String> {
        #[derive(serde::Deserialize)]
        struct Req {
            day: String,
        }
        let req: Req = serde_json::from_slice(body).map_err(|e| format!("bad request: {e}"))?;
        let day: chrono::NaiveDate = req
            .day
            .parse()
            .map_err(|_| format!("day '{}' must be YYYY-MM-DD", req.day))?;
        let (from, to) = day_bounds(self.tz, day).ok_or("day out of range")?;
        let site = self.site.clone();
        let n = self
            .blocking(move |s| s.requeue(&site, from, to))
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(day = %req.day, facts = n, "uplink: the centre asked for a day again; queued");
        Ok(n)
    }
}

/// Sleeps `d`, or less when `shutdown` turns true; returns whether it did.
async fn sleep_or_shutdown(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => *shutdown.borrow(),
        r = shutdown.changed() => r.is_err() || *shutdown.borrow(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, key: &str, payload: &str) -> OutboxEvent {
        OutboxEvent {
            seq: 7,
            kind: kind.into(),
            key: key.into(),
            deleted: false,
            t: 1.5,
            payload: payload.into(),
        }
    }

    #[test]
    fn dossier_codes_and_rating_comments_stay_at_the_hall() {
        let cfg = UplinkConfig::default();
        let d = event(
            "dossier",
            "000.00.12.H34-261201-0001",
            r#"{"code":"000.00.12.H34-261201-0001","channel":"online"}"#,
        );
        let (subject, id, body) = encode(&cfg, "an-phu", 42, &d);
        assert_eq!(subject, "hallwatch.facts.an-phu.dossier");
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("H34") && !id.contains("H34"), "{text} {id}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let h = hashed_code("an-phu", "000.00.12.H34-261201-0001");
        assert_eq!(v["key"], h.as_str());
        assert_eq!(v["row"]["code"], h.as_str());
        assert_eq!(id, format!("an-phu:dossier:{h}:42.7"));
        // Same code, another hall: another hash.
        assert_ne!(h, hashed_code("binh-an", "000.00.12.H34-261201-0001"));

        let r = event(
            "rating",
            "kiosk1/abc",
            r#"{"level":"dissatisfied","comment":"Nguyễn Văn A chờ lâu"}"#,
        );
        let (_, _, body) = encode(&cfg, "an-phu", 42, &r);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(v["row"].get("comment").is_none());
        assert_eq!(v["row"]["has_comment"], true);
        assert_eq!(v["row"]["level"], "dissatisfied");
        assert_eq!(
            (v["seq"].as_u64(), v["epoch"].as_i64()),
            (Some(7), Some(42))
        );
    }

    #[test]
    fn message_ids_are_stable_per_change_and_differ_between_changes() {
        let a = event("visit", "cam1/7/100.0", "{}");
        let mut b = a.clone();
        b.seq = 8;
        assert_eq!(message_id("s", 1, &a), message_id("s", 1, &a.clone()));
        assert_ne!(message_id("s", 1, &a), message_id("s", 1, &b));
        assert_ne!(message_id("s", 1, &a), message_id("s", 2, &a));
    }
}
