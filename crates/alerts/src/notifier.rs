//! [`Notifier`]: takes the engine's events, keeps every alert and notification in the event
//! store, and delivers through each channel independently.
//!
//! Tasks on the tokio runtime:
//!
//! - the core task receives events in order ([`NotifierSender::send`]): a triggered event
//!   stores the alert ([`hallwatch_store::Store::insert_alert`]), a re-notify is dropped once
//!   someone has acknowledged the alert, a resolved event stores the end and the peak. For each
//!   channel whose filters let the event through (enabled, `min_severity`, the rule's
//!   `channels`, `send_resolved`) it stores a pending delivery and hands it to that channel;
//! - one worker per channel makes the attempts, each bounded by the channel's `timeout_s`, and
//!   stores each result (attempts, last error, next try; delivered or failed). A failed attempt
//!   is retried after `[alerts.retry]`'s exponential backoff by a timer that puts it back in
//!   the worker's queue, so one notification waiting for its retry never holds up the next,
//!   and a slow or failing channel never delays another channel.
//!
//! The MQTT channels also keep the retained `<prefix>/<site>/state` topic up to date with the
//! active alerts (JSON: `active`, `by_severity`, `alerts`), published at start (no alert
//! active) and after every change.
//!
//! At start the notifier resumes the deliveries a previous run left pending (unless older than
//! a day: marked failed, "expired"), and resolves the alerts it left active — the engine
//! starts afresh and raises a new alert if the condition still holds — telling the channels
//! that had been notified of them (resolved, reason `restart`).
//!
//! Times stored for deliveries (created, attempts, next try) are the wall clock.

use crate::AlertsError;
use crate::channels::{Channel, MqttState};
use crate::engine::{AlertEvent, EventKind, ResolveReason, Target};
use crate::message::{MessageContext, Notice, render};
use hallwatch_config::Config;
use hallwatch_config::alerts::{ChannelConfig, ChannelKind, Language, RetryConfig, Severity};
use hallwatch_store::{
    AlertQuery, AlertRecord, AlertStateFilter, DeliveryAttempt, DeliveryEvent, DeliveryQuery,
    DeliveryState, NewAlert, NewDelivery, Store, StoreError,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// Pending deliveries older than this at start are given up.
const RESUME_MAX_AGE_S: f64 = 86_400.0;

fn now() -> f64 {
    hallwatch_store::unix_seconds(SystemTime::now())
}

/// Display names and levels from the config, for notices rebuilt from the store.
#[derive(Clone, Debug, Default)]
struct Names {
    zones: HashMap<String, String>,
    cameras: HashMap<String, String>,
    levels: HashMap<String, Option<f64>>,
}

/// The notification side of alerts, ready to start: build with [`Notifier::from_config`] (or
/// [`Notifier::new`]), start with [`Notifier::spawn`].
pub struct Notifier {
    site: String,
    ctx: MessageContext,
    language: Language,
    retry: RetryConfig,
    channels: Vec<ChannelConfig>,
    store: Store,
    names: Names,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("site", &self.site)
            .field(
                "channels",
                &self.channels.iter().map(|c| &c.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// What [`Notifier::new`] needs.
#[derive(Clone, Debug)]
pub struct NotifierSetup {
    /// Site id, names, time zone and dashboard address of the messages.
    pub ctx: MessageContext,
    /// Default message language (a channel may override it).
    pub language: Language,
    /// Backoff of failed deliveries.
    pub retry: RetryConfig,
    /// The channels (disabled ones are skipped).
    pub channels: Vec<ChannelConfig>,
}

impl Notifier {
    /// A notifier writing to `store` (its own connection: open a `Store` on the same file as
    /// the pipeline's writer).
    pub fn new(setup: NotifierSetup, store: Store) -> Self {
        Self {
            site: setup.ctx.site.clone(),
            ctx: setup.ctx,
            language: setup.language,
            retry: setup.retry,
            channels: setup.channels.into_iter().filter(|c| c.enabled).collect(),
            store,
            names: Names::default(),
        }
    }

    /// The notifier of a loaded config: `[alerts]` channels (none when `[alerts].enabled` is
    /// false), language and retry; links to `[server].public_base_url` (or
    /// `http://<server.bind>`); local times in `[site].timezone`.
    pub fn from_config(config: &Config, store: Store) -> Result<Self, AlertsError> {
        let tz = config.calendar().map_err(AlertsError::config)?.tz();
        let base_url = if config.server.public_base_url.is_empty() {
            format!("http://{}", config.server.bind)
        } else {
            config.server.public_base_url.clone()
        };
        let site_name = if config.site.name.is_empty() {
            config.site.id.clone()
        } else {
            config.site.name.clone()
        };
        let a = &config.alerts;
        let mut n = Self::new(
            NotifierSetup {
                ctx: MessageContext {
                    site: config.site.id.clone(),
                    site_name,
                    tz,
                    base_url,
                },
                language: a.language,
                retry: a.retry.clone(),
                channels: if a.enabled {
                    a.channels.clone()
                } else {
                    Vec::new()
                },
            },
            store,
        );
        let name = |id: &String, name: &String| {
            (id.clone(), if name.is_empty() { id } else { name }.clone())
        };
        n.names = Names {
            zones: config.zones.iter().map(|z| name(&z.id, &z.name)).collect(),
            cameras: config
                .cameras
                .iter()
                .map(|c| name(&c.id, &c.name))
                .collect(),
            levels: a.rules.iter().map(|r| (r.id.clone(), r.trigger)).collect(),
        };
        Ok(n)
    }

    /// Starts the core task and one worker per channel on the current tokio runtime.
    /// Fails outside a runtime.
    pub fn spawn(self) -> Result<NotifierHandle, AlertsError> {
        let rt = tokio::runtime::Handle::try_current().map_err(|_| AlertsError::NoRuntime)?;
        Ok(self.spawn_on(&rt))
    }

    /// Starts the core task and one worker per channel on runtime `rt`.
    pub fn spawn_on(self, rt: &tokio::runtime::Handle) -> NotifierHandle {
        let store = Arc::new(Mutex::new(self.store));
        let (stop_tx, stop_rx) = watch::channel(false);
        let (state_tx, state_rx) = watch::channel(String::new());
        let mut routes = Vec::new();
        let mut workers = Vec::new();
        for cfg in self.channels {
            let (tx, rx) = mpsc::unbounded_channel();
            let language = cfg.language.unwrap_or(self.language);
            let channel = Channel::new(cfg.clone(), language, self.ctx.clone());
            let worker = Worker {
                channel,
                queue: tx.clone(),
                store: Arc::clone(&store),
                retry: self.retry.clone(),
                stop: stop_rx.clone(),
                state: state_rx.clone(),
            };
            workers.push(rt.spawn(worker.run(rx)));
            routes.push(Route { cfg, tx });
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let core = Core {
            site: self.site,
            ctx: self.ctx,
            language: self.language,
            store,
            routes,
            names: self.names,
            active: BTreeMap::new(),
            state: state_tx,
        };
        let core = rt.spawn(core.run(rx));
        NotifierHandle {
            sender: NotifierSender { tx },
            core,
            workers,
            stop: stop_tx,
        }
    }
}

enum Command {
    Events(Vec<AlertEvent>),
    Flush(oneshot::Sender<()>),
    Close,
}

/// Hands events to a running notifier; cheap to clone, usable from any thread (no runtime
/// needed to send).
#[derive(Clone, Debug)]
pub struct NotifierSender {
    tx: mpsc::UnboundedSender<Command>,
}

impl NotifierSender {
    /// Queues `events` (from [`crate::AlertEngine::evaluate`]) in order. Never blocks.
    pub fn send(&self, events: Vec<AlertEvent>) -> Result<(), AlertsError> {
        if events.is_empty() {
            return Ok(());
        }
        self.tx
            .send(Command::Events(events))
            .map_err(|_| AlertsError::Stopped)
    }
}

/// A running notifier.
#[derive(Debug)]
pub struct NotifierHandle {
    sender: NotifierSender,
    core: JoinHandle<()>,
    workers: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl NotifierHandle {
    /// A sender of events.
    pub fn sender(&self) -> NotifierSender {
        self.sender.clone()
    }

    /// Returns once every event sent before has been stored and its deliveries handed to
    /// their channels (not necessarily delivered yet).
    pub async fn flush(&self) -> Result<(), AlertsError> {
        let (tx, rx) = oneshot::channel();
        self.sender
            .tx
            .send(Command::Flush(tx))
            .map_err(|_| AlertsError::Stopped)?;
        rx.await.map_err(|_| AlertsError::Stopped)
    }

    /// Stops: stores the events already sent, lets each channel finish the attempt in hand,
    /// and stops within `grace` (tasks still busy then are aborted). Deliveries not yet made
    /// stay pending in the store and are resumed by the next start.
    pub async fn shutdown(self, grace: Duration) -> Result<(), AlertsError> {
        let deadline = tokio::time::Instant::now() + grace;
        let _ = self.sender.tx.send(Command::Close);
        let mut core = self.core;
        let core_result = match tokio::time::timeout_at(deadline, &mut core).await {
            Ok(r) => r.map_err(|e| AlertsError::Task(e.to_string())),
            Err(_) => {
                core.abort();
                Err(AlertsError::Task(
                    "the core task did not stop in time".into(),
                ))
            }
        };
        let _ = self.stop.send(true);
        for mut w in self.workers {
            if tokio::time::timeout_at(deadline, &mut w).await.is_err() {
                w.abort();
            }
        }
        core_result
    }
}

/// Runs `f` on the store in a blocking thread.
async fn db<T: Send + 'static>(
    store: &Arc<Mutex<Store>>,
    f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, AlertsError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || {
        let mut s = store.lock().map_err(|_| AlertsError::Poisoned)?;
        f(&mut s).map_err(AlertsError::Store)
    })
    .await
    .map_err(|e| AlertsError::Task(e.to_string()))?
}

struct Job {
    delivery: i64,
    attempts: u32,
    notice: Arc<Notice>,
}

struct Route {
    cfg: ChannelConfig,
    tx: mpsc::UnboundedSender<Job>,
}

struct ActiveEntry {
    /// The stored alert; 0 while the store refused it (see `unstored`).
    id: i64,
    notice: Notice,
    /// The alert as it should be stored, while the event store refuses writes (a full disk
    /// raises `store_failing` exactly then): the notice goes out anyway and the alert is
    /// stored at its next event.
    unstored: Option<NewAlert>,
}

/// The retained MQTT state: the active alerts of the hall.
#[derive(Serialize)]
struct StateJson<'a> {
    site: &'a str,
    site_name: &'a str,
    t: f64,
    active: usize,
    by_severity: BTreeMap<&'static str, usize>,
    alerts: Vec<StateAlert<'a>>,
}

#[derive(Serialize)]
struct StateAlert<'a> {
    id: i64,
    rule: &'a str,
    kind: &'static str,
    severity: Severity,
    zone: &'a str,
    camera: &'a str,
    counter: Option<u32>,
    target_name: &'a str,
    title: String,
    since: f64,
    raised: f64,
    value: f64,
    url: String,
}

struct Core {
    site: String,
    ctx: MessageContext,
    language: Language,
    store: Arc<Mutex<Store>>,
    routes: Vec<Route>,
    names: Names,
    active: BTreeMap<(String, Target), ActiveEntry>,
    state: watch::Sender<String>,
}

impl Core {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        if let Err(e) = self.recover().await {
            tracing::error!(error = %e, "alerts: cannot recover the previous run's alerts");
        }
        self.publish_state();
        while let Some(cmd) = rx.recv().await {
            match cmd {
                Command::Events(events) => {
                    for ev in events {
                        if let Err(e) = self.handle(&ev).await {
                            tracing::error!(
                                error = %e,
                                rule = %ev.rule,
                                event = ?ev.event,
                                "alerts: event not stored or not notified"
                            );
                        }
                    }
                }
                Command::Flush(reply) => {
                    let _ = reply.send(());
                }
                Command::Close => break,
            }
        }
    }

    /// Resolves the previous run's active alerts and resumes its pending deliveries.
    async fn recover(&mut self) -> Result<(), AlertsError> {
        let site = self.site.clone();
        let t = now();
        // Alerts left active, resolved now, with the channels that were told about them.
        let closed = db(&self.store, move |s| {
            let active = s.alerts(&AlertQuery {
                state: Some(AlertStateFilter::Active),
                ..AlertQuery::site(site)
            })?;
            let mut out = Vec::new();
            for mut a in active {
                s.resolve_alert(a.id, t)?;
                a.resolved = Some(t);
                let mut told: Vec<String> = s
                    .deliveries_of(a.id)?
                    .into_iter()
                    .map(|d| d.channel)
                    .collect();
                told.sort();
                told.dedup();
                out.push((a, told));
            }
            Ok(out)
        })
        .await?;
        if !closed.is_empty() {
            tracing::info!(
                count = closed.len(),
                "alerts: resolved the alerts a previous run left active"
            );
        }
        let site = self.site.clone();
        let pending = db(&self.store, move |s| {
            let pending = s.deliveries(&DeliveryQuery {
                site,
                state: Some(DeliveryState::Pending),
                ..DeliveryQuery::default()
            })?;
            let mut out = Vec::new();
            for d in pending {
                let alert = s.alert(d.alert)?;
                out.push((d, alert));
            }
            Ok(out)
        })
        .await?;
        for (d, alert) in pending {
            let route = self.routes.iter().find(|r| r.cfg.id == d.channel);
            let give_up = match (&alert, route) {
                (None, _) => Some("alert deleted".to_string()),
                (_, None) => Some(format!("channel '{}' no longer configured", d.channel)),
                _ if t - d.created > RESUME_MAX_AGE_S => {
                    Some("expired: still pending after a day when hallwatch restarted".into())
                }
                _ => None,
            };
            if let Some(reason) = give_up {
                db(&self.store, move |s| {
                    s.record_delivery_attempt(
                        d.id,
                        &DeliveryAttempt::Failed {
                            t,
                            error: reason,
                            retry_at: None,
                        },
                    )
                })
                .await?;
                continue;
            }
            let (Some(alert), Some(route)) = (alert, route) else {
                continue;
            };
            let notice = self.notice_from_record(&alert, d.event);
            let _ = route.tx.send(Job {
                delivery: d.id,
                attempts: d.attempts,
                notice: Arc::new(notice),
            });
        }
        // Then tell the channels that heard of the closed alerts that they are over.
        for (alert, told) in closed {
            let mut notice = self.notice_from_record(&alert, DeliveryEvent::Resolved);
            notice.reason = Some(ResolveReason::Restart);
            let notice = Arc::new(notice);
            for route in &self.routes {
                if !(route.cfg.send_resolved && told.contains(&route.cfg.id)) {
                    continue;
                }
                let new = NewDelivery {
                    alert: alert.id,
                    channel: route.cfg.id.clone(),
                    event: DeliveryEvent::Resolved,
                    created: t,
                };
                let delivery = db(&self.store, move |s| s.insert_delivery(&new)).await?;
                let _ = route.tx.send(Job {
                    delivery,
                    attempts: 0,
                    notice: Arc::clone(&notice),
                });
            }
        }
        Ok(())
    }

    /// The notice of `event` about a stored alert, with names and level from the config.
    fn notice_from_record(&self, alert: &AlertRecord, event: DeliveryEvent) -> Notice {
        let target_name = if !alert.zone.is_empty() {
            self.names.zones.get(&alert.zone).cloned()
        } else if !alert.camera.is_empty() {
            self.names.cameras.get(&alert.camera).cloned()
        } else {
            Some(self.ctx.site_name.clone())
        }
        .unwrap_or_else(|| format!("{}{}", alert.zone, alert.camera));
        let level = self.names.levels.get(&alert.rule).copied().flatten();
        Notice::from_record(alert, event, target_name, level)
    }

    async fn handle(&mut self, ev: &AlertEvent) -> Result<(), AlertsError> {
        let key = ev.key();
        let notice = match ev.event {
            EventKind::Triggered => {
                let message = render(&Notice::from_event(ev, 0), self.language, &self.ctx).title;
                let new = NewAlert {
                    rule: ev.rule.clone(),
                    kind: ev.kind,
                    severity: ev.severity,
                    camera: ev.target.camera.clone(),
                    zone: ev.target.zone.clone(),
                    counter: ev.target.counter,
                    triggered: ev.raised,
                    value: Some(ev.value),
                    message,
                };
                let (id, unstored) = match self.store_alert(new.clone()).await {
                    Ok(id) => (id, None),
                    Err(e) => {
                        tracing::error!(
                            error = %e, rule = %ev.rule,
                            "alerts: alert not stored; notified anyway and stored once the store takes writes"
                        );
                        (0, Some(new))
                    }
                };
                let notice = Notice::from_event(ev, id);
                self.active.insert(
                    key,
                    ActiveEntry {
                        id,
                        notice: notice.clone(),
                        unstored,
                    },
                );
                self.publish_state();
                notice
            }
            EventKind::Renotify => {
                let Some(entry) = self.active.get(&key) else {
                    return Err(AlertsError::UnknownAlert(ev.rule.clone()));
                };
                let mut id = entry.id;
                if let Some(new) = entry.unstored.clone()
                    && let Ok(stored) = self.store_alert(new).await
                    && let Some(entry) = self.active.get_mut(&key)
                {
                    id = stored;
                    entry.id = stored;
                    entry.unstored = None;
                }
                if let Some(entry) = self.active.get_mut(&key) {
                    entry.notice = Notice::from_event(ev, id);
                }
                if id != 0 {
                    let peak = ev.peak;
                    let acknowledged = db(&self.store, move |s| {
                        if peak.is_finite() {
                            s.set_alert_peak(id, peak)?;
                        }
                        Ok(s.alert(id)?.and_then(|a| a.acknowledged).is_some())
                    })
                    .await;
                    match acknowledged {
                        Ok(true) => return Ok(()),
                        Ok(false) => {}
                        Err(e) => tracing::error!(
                            error = %e, alert = id,
                            "alerts: cannot read the alert's acknowledgement; notifying again"
                        ),
                    }
                }
                Notice::from_event(ev, id)
            }
            EventKind::Resolved => {
                let Some(entry) = self.active.remove(&key) else {
                    return Err(AlertsError::UnknownAlert(ev.rule.clone()));
                };
                let mut id = entry.id;
                if let Some(new) = entry.unstored {
                    match self.store_alert(new).await {
                        Ok(stored) => id = stored,
                        Err(e) => tracing::error!(
                            error = %e, rule = %ev.rule,
                            "alerts: resolved alert not stored: the event store still refuses writes"
                        ),
                    }
                }
                if id != 0 {
                    let (peak, t) = (ev.peak, ev.t);
                    if let Err(e) = db(&self.store, move |s| {
                        if peak.is_finite() {
                            s.set_alert_peak(id, peak)?;
                        }
                        s.resolve_alert(id, t)
                    })
                    .await
                    {
                        tracing::error!(error = %e, alert = id, "alerts: the alert's end not stored");
                    }
                }
                self.publish_state();
                Notice::from_event(ev, id)
            }
        };
        let notice = Arc::new(notice);
        for route in &self.routes {
            if !accepts(&route.cfg, ev) {
                continue;
            }
            // Notified even when the store cannot record the delivery (delivery 0): a
            // notification matters more than its bookkeeping.
            let delivery = if notice.alert_id == 0 {
                0
            } else {
                let new = NewDelivery {
                    alert: notice.alert_id,
                    channel: route.cfg.id.clone(),
                    event: notice.event,
                    created: now(),
                };
                match db(&self.store, move |s| s.insert_delivery(&new)).await {
                    Ok(id) => id,
                    Err(e) => {
                        tracing::error!(error = %e, channel = %route.cfg.id, "alerts: delivery not stored; notifying anyway");
                        0
                    }
                }
            };
            let _ = route.tx.send(Job {
                delivery,
                attempts: 0,
                notice: Arc::clone(&notice),
            });
        }
        Ok(())
    }

    /// Stores a raised alert; its id.
    async fn store_alert(&self, new: NewAlert) -> Result<i64, AlertsError> {
        let site = self.site.clone();
        db(&self.store, move |s| s.insert_alert(&site, &new)).await
    }

    /// Updates the state every MQTT channel keeps retained.
    fn publish_state(&self) {
        let mut by_severity: BTreeMap<&'static str, usize> =
            Severity::ALL.iter().map(|s| (s.as_str(), 0)).collect();
        let alerts: Vec<StateAlert<'_>> = self
            .active
            .values()
            .map(|e| {
                let n = &e.notice;
                *by_severity.entry(n.severity.as_str()).or_default() += 1;
                StateAlert {
                    id: e.id,
                    rule: &n.rule,
                    kind: n.kind.as_str(),
                    severity: n.severity,
                    zone: &n.target.zone,
                    camera: &n.target.camera,
                    counter: n.target.counter,
                    target_name: &n.target_name,
                    title: crate::message::title(n, self.language),
                    since: n.since,
                    raised: n.raised,
                    value: n.value,
                    url: self.ctx.link(e.id),
                }
            })
            .collect();
        let json = StateJson {
            site: &self.site,
            site_name: &self.ctx.site_name,
            t: now(),
            active: alerts.len(),
            by_severity,
            alerts,
        };
        match serde_json::to_string(&json) {
            Ok(s) => {
                self.state.send_replace(s);
            }
            Err(e) => tracing::error!(error = %e, "alerts: cannot encode the state"),
        }
    }
}

/// Whether channel `cfg` takes event `ev`.
fn accepts(cfg: &ChannelConfig, ev: &AlertEvent) -> bool {
    cfg.enabled
        && ev.severity >= cfg.min_severity
        && (ev.channels.is_empty() || ev.channels.contains(&cfg.id))
        && (ev.event != EventKind::Resolved || cfg.send_resolved)
}

struct Worker {
    channel: Channel,
    queue: mpsc::UnboundedSender<Job>,
    store: Arc<Mutex<Store>>,
    retry: RetryConfig,
    stop: watch::Receiver<bool>,
    state: watch::Receiver<String>,
}

impl Worker {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>) {
        let mut watch_state = self.channel.cfg.kind == ChannelKind::Mqtt;
        loop {
            tokio::select! {
                biased;
                _ = self.stop.changed() => break,
                job = rx.recv() => match job {
                    Some(job) => self.attempt(job).await,
                    None => break,
                },
                changed = self.state.changed(), if watch_state => {
                    if changed.is_err() {
                        watch_state = false;
                        continue;
                    }
                    let json = self.state.borrow_and_update().clone();
                    if json.is_empty() {
                        continue;
                    }
                    let r = tokio::time::timeout(
                        self.timeout(),
                        self.channel.publish_state(&json),
                    )
                    .await
                    .unwrap_or_else(|_| Err("timed out".into()));
                    if let Err(e) = r {
                        tracing::warn!(
                            channel = %self.channel.cfg.id,
                            error = %e,
                            "alerts: retained state not published (sent again with the next alert)"
                        );
                    }
                }
            }
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.channel.cfg.timeout_s.max(0.001))
    }

    async fn attempt(&mut self, mut job: Job) {
        let state = self.state.borrow_and_update().clone();
        let timeout = self.timeout();
        let result = tokio::time::timeout(
            timeout,
            self.channel
                .deliver(&job.notice, job.delivery, MqttState { json: &state }),
        )
        .await
        .unwrap_or_else(|_| Err(format!("timed out after {} s", timeout.as_secs_f64())));
        job.attempts += 1;
        let t = now();
        let (attempt, retry_in) = match result {
            Ok(()) => (DeliveryAttempt::Delivered { t }, None),
            Err(error) => {
                let retry_in = (job.attempts < self.retry.max_attempts)
                    .then(|| self.retry.delay_after(job.attempts));
                tracing::warn!(
                    channel = %self.channel.cfg.id,
                    alert = job.notice.alert_id,
                    attempt = job.attempts,
                    retry_in_s = ?retry_in,
                    %error,
                    "alerts: notification not delivered"
                );
                (
                    DeliveryAttempt::Failed {
                        t,
                        error,
                        retry_at: retry_in.map(|d| t + d),
                    },
                    retry_in,
                )
            }
        };
        let delivery = job.delivery;
        if delivery != 0
            && let Err(e) = db(&self.store, move |s| {
                s.record_delivery_attempt(delivery, &attempt)
            })
            .await
        {
            tracing::error!(error = %e, delivery, "alerts: delivery attempt not stored");
        }
        if let Some(delay) = retry_in {
            let queue = self.queue.clone();
            let mut stop = self.stop.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs_f64(delay)) => {
                        let _ = queue.send(job);
                    }
                    _ = stop.changed() => {}
                }
            });
        }
    }
}
