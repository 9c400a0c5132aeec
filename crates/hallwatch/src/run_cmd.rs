//! `hallwatch run --config FILE`: the whole hall server — every camera through detection,
//! tracking and zones into the event store, the web server (API, live stream, dashboards) on
//! `[server].bind`, and the alert engine with its notification channels — until Ctrl-C or
//! SIGTERM, then a graceful stop: open visits closed as truncated, the store flushed, the
//! pipelines, the web server and the notifier stopped.

use crate::cli_ingest::{Publisher, RunOptions};
use crate::live_snapshot::LatestFrames;
use anyhow::{Context, Result};
use hallwatch_alerts::{AlertEngine, Notifier, Observation, SatisfactionFigures};
use hallwatch_config::Config;
use hallwatch_core::HallState;
use hallwatch_store::Store;
use hallwatch_web::{AppOptions, AppState, Server, Snapshot, SnapshotSource};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The web layer's view of the live pictures.
struct Pictures(Arc<LatestFrames>);

impl SnapshotSource for Pictures {
    fn snapshot(&self, camera: &str) -> Option<Snapshot> {
        match self.0.render_png(camera) {
            Ok(Some(png)) => Some(Snapshot {
                bytes: png.into(),
                content_type: "image/png",
                t: hallwatch_store::unix_seconds(std::time::SystemTime::now()),
            }),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(camera, error = %e, "could not render the live picture");
                None
            }
        }
    }
}

/// Satisfaction over the alert rules' windows, re-read from the store at most every 30 s.
struct Satisfaction {
    store: Option<Store>,
    site: String,
    windows: Vec<f64>,
    cached: Vec<SatisfactionFigures>,
    read_at: f64,
}

impl Satisfaction {
    fn figures(&mut self, t: f64) -> &[SatisfactionFigures] {
        if self.windows.is_empty() || t - self.read_at < 30.0 {
            return &self.cached;
        }
        self.read_at = t;
        let Some(store) = &self.store else {
            return &self.cached;
        };
        let mut out = Vec::new();
        for &w in &self.windows {
            match store.ratings(&self.site, t - w, t) {
                Ok(r) if !r.is_empty() => {
                    let satisfied = r.iter().filter(|x| x.level.is_satisfied()).count();
                    out.push(SatisfactionFigures {
                        window_s: w,
                        ratings: u32::try_from(r.len()).unwrap_or(u32::MAX),
                        satisfied_share: satisfied as f64 / r.len() as f64,
                    });
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not read ratings for alerts"),
            }
        }
        self.cached = out;
        &self.cached
    }
}

/// What `run` needs beyond the config.
#[derive(Default)]
pub struct ServeOptions {
    /// Stop after this many seconds.
    pub seconds: Option<f64>,
    /// Printed once the dashboard listens (the demo prints its login here).
    pub banner: Option<String>,
    /// Set to stop. Without it `run` stops on Ctrl-C and SIGTERM itself; with it the caller
    /// sets it on those signals (the demo also stops its simulated hall with it).
    pub stop: Option<Arc<AtomicBool>>,
    /// Also writes each camera's tracks, zone counts and visits into `<folder>/<camera>/`
    /// (as `replay` does), for `eval-zones` on a live run.
    pub record: Option<PathBuf>,
}

/// Runs the hall server for `cfg`.
pub fn run(cfg: Config, options: ServeOptions) -> Result<ExitCode> {
    let cfg = Arc::new(cfg);
    let db = PathBuf::from(&cfg.storage.data_dir).join("hallwatch.db");
    std::fs::create_dir_all(&cfg.storage.data_dir)
        .with_context(|| format!("creating the data folder {}", cfg.storage.data_dir))?;
    let latest = Arc::new(LatestFrames::new(&cfg.zones));
    let state = AppState::new(
        AppOptions::new(Arc::clone(&cfg)).snapshots(Arc::new(Pictures(Arc::clone(&latest)))),
    )
    .context("starting the web layer")?;
    let server = Server::start(state.clone(), &cfg.server.bind)
        .with_context(|| format!("listening on {} ([server].bind)", cfg.server.bind))?;
    println!("dashboard: http://{}/", server.local_addr());
    if let Some(b) = &options.banner {
        println!("{b}");
    }

    // Alerts: the engine is evaluated on every published state; notifications go out on
    // their own runtime so a slow channel never holds up the pipeline.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("hallwatch-alerts")
        .enable_all()
        .build()
        .context("starting the alerts runtime")?;
    let engine = AlertEngine::from_config(&cfg).context("alert rules")?;
    // The web layer opened (and checked) the store above; further connections skip the check.
    let notifier = Notifier::from_config(&cfg, Store::open_again(&db)?)
        .context("alert channels")?
        .spawn_on(runtime.handle());
    let sender = notifier.sender();

    // The uplink to the province centre ([uplink]): ships the store's outbox on the same
    // runtime, and the live figures at most every `live_interval_s`.
    let (live_tx, live_rx) = tokio::sync::watch::channel(serde_json::Value::Null);
    let (uplink_stop, uplink_stop_rx) = tokio::sync::watch::channel(false);
    let mut uplink_task = None;
    let mut uplink_health = None;
    if !cfg.uplink.enabled() {
        // No centre (any more): facts are no longer queued for one.
        Store::open_again(&db)?.set_outbox(false)?;
    } else {
        let publisher = hallwatch_uplink::Publisher::build(hallwatch_uplink::PublisherOptions {
            site: cfg.site.id.clone(),
            store: db.clone(),
            config: cfg.uplink.clone(),
            timezone: cfg.site.timezone.clone(),
        })
        .context("starting the uplink ([uplink])")?
        .with_live(live_rx)
        .with_camera_days(camera_days_of(&cfg));
        let status = publisher.status();
        uplink_health = Some(Arc::new(move || uplink_health_of(&status.get()))
            as Arc<dyn Fn() -> hallwatch_core::UplinkHealth + Send + Sync>);
        uplink_task = Some(runtime.spawn(publisher.run(uplink_stop_rx)));
        tracing::info!(servers = %cfg.uplink.servers.join(","), "uplink to the province centre started");
    }
    let satisfaction = Mutex::new(Satisfaction {
        store: Store::open_again(&db).ok(),
        site: cfg.site.id.clone(),
        windows: engine.satisfaction_windows(),
        cached: Vec::new(),
        read_at: f64::NEG_INFINITY,
    });
    let engine = Mutex::new(engine);
    let web = state.clone();
    let publish: Publisher = Arc::new(move |s: &HallState| {
        web.publish(s.clone());
        if s.uplink.configured {
            live_tx.send_replace(live_summary(s));
        }
        let mut sat = satisfaction.lock().unwrap_or_else(|p| p.into_inner());
        let figures = sat.figures(s.t).to_vec();
        drop(sat);
        let events = engine.lock().unwrap_or_else(|p| p.into_inner()).evaluate(
            &Observation {
                hall: s,
                satisfaction: &figures,
            },
            s.t,
        );
        if let Err(e) = sender.send(events) {
            tracing::error!(error = %e, "alert notifier is gone");
        }
    });
    let metrics = state.clone();
    let latency_metrics = state.clone();
    let code = crate::cli_ingest::run_with(
        &cfg,
        RunOptions {
            seconds: options.seconds,
            publish: Some(publish),
            stop: options.stop,
            latest: Some(latest),
            on_inference: Some(Arc::new(move |camera: &str, seconds: f64| {
                metrics.metrics().observe_inference(camera, seconds)
            })),
            on_live_latency: Some(Arc::new(move |camera: &str, seconds: f64| {
                latency_metrics
                    .metrics()
                    .observe_live_latency(camera, seconds)
            })),
            store_checked: true,
            record: options.record,
            uplink_health,
        },
    );
    // The uplink ships what the pipeline stored last (bounded: it waits at most one
    // acknowledgement timeout); what it could not ship stays in the outbox for the next start.
    let _ = uplink_stop.send(true);
    if let Some(task) = uplink_task {
        let limit = Duration::from_secs_f64(cfg.uplink.ack_timeout_s + 5.0);
        if runtime
            .block_on(async { tokio::time::timeout(limit, task).await })
            .is_err()
        {
            tracing::warn!(
                "uplink did not stop within {limit:?}; unshipped facts stay in the outbox"
            );
        }
    }
    // Stop in order: pipelines (done), web server, then the notifier (it delivers what is
    // queued within the grace).
    if let Err(e) = server.stop() {
        tracing::warn!(error = %e, "web server did not stop cleanly");
    }
    if let Err(e) = runtime.block_on(notifier.shutdown(Duration::from_secs(5))) {
        tracing::warn!(error = %e, "alert notifier did not stop cleanly");
    }
    code
}

/// The uplink's status as the live state shows it.
fn uplink_health_of(s: &hallwatch_uplink::UplinkStatus) -> hallwatch_core::UplinkHealth {
    hallwatch_core::UplinkHealth {
        configured: true,
        connected: s.connected,
        lag_events: s.lag_events,
        lag_s: s.lag_s,
        acked_seq: s.acked_seq,
        last_ack_t: s.last_ack_t,
        dropped: s.dropped,
        last_error: s.last_error.clone(),
    }
}

/// What the province centre sees of the hall live: the headline figures, not every zone.
fn live_summary(s: &HallState) -> serde_json::Value {
    serde_json::json!({
        "t": s.t,
        "waiting_now": s.waiting_now,
        "waiting_smoothed": s.waiting_smoothed,
        "expected_wait_s": s.prediction.as_ref().map(|p| p.expected_s),
        "counters_staffed": s.counters.iter().filter(|c| c.activity != hallwatch_core::CounterActivity::StaffAbsent).count(),
        "counters": s.counters.len(),
        "cameras": s.cameras.len(),
        "cameras_down": s.cameras.iter().filter(|c| c.is_down()).count(),
        "today": s.today,
    })
}

/// The hall's camera uptime per day for the province centre: each camera's open and down
/// seconds against `cfg`'s opening hours, as the monthly review counts them.
pub(crate) fn camera_days_of(cfg: &Config) -> hallwatch_uplink::CameraDaysFn {
    let cfg = cfg.clone();
    Arc::new(move |store: &Store, from: f64, to: f64| {
        hallwatch_report::camera_days(store, &cfg, from, to)
            .map(|cams| {
                cams.into_iter()
                    .map(|c| hallwatch_uplink::CameraDay {
                        camera: c.camera,
                        open_s: c.open_s,
                        down_s: c.down_s,
                    })
                    .collect()
            })
            .map_err(|e| e.to_string())
    })
}
