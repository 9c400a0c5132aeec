//! `hallwatch simulate --hall DIR`: a simulated hall as if hallwatch had watched it. The
//! simulator's virtual camera (its person detections, with the noise model) goes through the
//! live path's analysis (decimator, tracker, zones, hall metrics) into the event store by the
//! same store writer and sink as `hallwatch run`; its ticket system and rating devices go
//! through the API's checks ([`crate::sim_feed`]). What comes out is a hall's store a month
//! long, in seconds, for `hallwatch report` and — with an `[uplink]` in the hall's config — for
//! the province centre, shipped by the same publisher as a live hall's.

use crate::cli_ingest::StoreSink;
use crate::sim_feed::{FeedTarget, feed};
use anyhow::{Context, Result, anyhow, bail};
use hallwatch_config::Config;
use hallwatch_core::{Decimator, Frame, FrameTime};
use hallwatch_detect::{Detected, GateDecision, Timings};
use hallwatch_pipeline::{Analysis, Pacing};
use hallwatch_service::Intake;
use hallwatch_sim::{HALL_TOML, SimConfig, Simulator};
use hallwatch_store::{Retention, Store, WriterOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

/// The detector score threshold the simulated detections are made for (see `sim_cmd`).
const SIM_DETECTOR_THRESHOLD: f32 = 0.45;

/// One `--hall` run.
pub(crate) struct HallRun<'a> {
    /// The hall folder.
    pub dir: &'a Path,
    /// The hall id of a new hall.toml.
    pub site: Option<&'a str>,
    /// The simulator's seed.
    pub seed: u64,
    /// Working days.
    pub days: u32,
    /// The longest wait for the centre's acknowledgements.
    pub ship_timeout: Duration,
}

/// The simulated hall's config with `site` as its id and its data in `dir/data`.
fn hall_toml(dir: &Path, site: Option<&str>) -> Result<String> {
    let data = std::path::absolute(dir.join("data"))
        .with_context(|| format!("resolving {}", dir.display()))?;
    let data = data
        .to_str()
        .ok_or_else(|| anyhow!("{}: the folder's path is not UTF-8", data.display()))?;
    let mut text = HALL_TOML.to_string();
    if let Some(site) = site {
        let from = "id = \"sim-hall\"";
        if !text.contains(from) {
            bail!("the simulator's hall.toml has no `{from}` to replace");
        }
        text = text.replacen(from, &format!("id = {}", toml::Value::from(site)), 1);
    }
    text.push_str(&format!(
        "\n# Written by `hallwatch simulate --hall`: the store of the simulated hall.\n\
         [storage]\ndata_dir = {}\n",
        toml::Value::from(data)
    ));
    Ok(text)
}

/// Runs the simulation into the hall folder, then ships it when the config has an [uplink].
pub(crate) fn simulate_hall(sim_cfg: &SimConfig, run: &HallRun<'_>) -> Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(run.dir).with_context(|| format!("creating {}", run.dir.display()))?;
    let cfg_path = run.dir.join("hall.toml");
    if cfg_path.exists() {
        if run.site.is_some() {
            bail!(
                "{} exists and its [site] id is used: leave --site out, or remove the file",
                cfg_path.display()
            );
        }
    } else {
        let text = hall_toml(run.dir, run.site)?;
        // Checked before it is written, so a bad --site leaves nothing behind.
        Config::from_toml_str(&text).map_err(|e| anyhow!("the new hall config:\n{e}"))?;
        std::fs::write(&cfg_path, text)
            .with_context(|| format!("writing {}", cfg_path.display()))?;
    }
    let cfg = Config::load(&cfg_path)
        .map_err(|e| anyhow!("{}: invalid config:\n{e}", cfg_path.display()))?;
    if cfg.site.timezone != sim_cfg.timezone {
        bail!(
            "{}: the hall's time zone {} is not the simulator's {}",
            cfg_path.display(),
            cfg.site.timezone,
            sim_cfg.timezone
        );
    }
    let mut sim = Simulator::new(sim_cfg, run.seed, run.days)?;
    let (camera, width, height) = sim.camera();
    let analysis_cfg = cfg
        .cameras
        .iter()
        .find(|c| c.id == camera.as_str())
        .map(|c| c.analysis.clone())
        .ok_or_else(|| {
            anyhow!(
                "{}: no camera `{camera}`: the simulated detections are of that camera, \
                 through its zones",
                cfg_path.display()
            )
        })?;

    let data = PathBuf::from(&cfg.storage.data_dir);
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let db = data.join("hallwatch.db");
    if db.exists() {
        bail!(
            "{} already holds an event store: simulate into a new folder, or remove {} first",
            db.display(),
            data.display()
        );
    }
    let mut store = Store::open(&db).with_context(|| format!("opening {}", db.display()))?;
    store.set_outbox(cfg.uplink.enabled())?;
    let site = cfg.site.id.clone();
    store.close_open_sessions(&site)?;
    let (writer, writer_handle) = Store::open_again(&db)?.writer(
        site.clone(),
        WriterOptions {
            retention: Some(Retention {
                sessions_days: cfg.storage.sessions_days,
                aggregates_days: cfg.storage.aggregates_days,
            }),
            ..WriterOptions::default()
        },
    )?;
    let intake = Intake::from_config(&cfg).context("the hall's [service] settings")?;
    let services: HashMap<String, String> = sim_cfg
        .services
        .iter()
        .map(|s| (s.id.clone(), s.name.clone()))
        .collect();
    let target = FeedTarget {
        intake: &intake,
        site: &site,
        services: &services,
        source: "simulator",
    };

    let mut analysis = Analysis::new(&cfg, SIM_DETECTOR_THRESHOLD, Pacing::Lockstep)?;
    let mut rate = Decimator::new(
        analysis_cfg.fps,
        analysis_cfg.active_fps,
        analysis.signal(camera.as_str()),
    );
    let mut sink = StoreSink::new(writer.clone(), cfg.zones.clone());
    let pixels: Arc<[u8]> = Arc::from(Vec::new());
    let (mut frames, mut analysed, mut tickets, mut ratings) = (0u64, 0u64, 0usize, 0usize);
    while let Some(next) = sim.next_time() {
        let events = sim.advance_to(next + 600.0);
        for f in &events.frames {
            frames += 1;
            if !rate.admit(f.t) {
                continue;
            }
            analysed += 1;
            let detected = Detected {
                frame: Frame {
                    camera: f.camera.clone(),
                    seq: analysed - 1,
                    source_index: f.index.saturating_sub(1),
                    time: FrameTime {
                        media: Duration::ZERO,
                        wall: Some(UNIX_EPOCH + Duration::from_secs_f64(f.t.max(0.0))),
                    },
                    width,
                    height,
                    data: Arc::clone(&pixels),
                },
                detections: f.detections.clone(),
                decision: GateDecision::FullPass,
                timings: Timings::default(),
            };
            analysis.frame(&detected, &mut sink)?;
        }
        // The ticket system and the rating devices send as things happen.
        let now = events
            .tickets
            .iter()
            .map(|t| t.t)
            .chain(events.ratings.iter().map(|r| r.t))
            .fold(next, f64::max);
        let (t, r) = feed(&target, &mut store, &events, now);
        tickets += t;
        ratings += r;
    }
    analysis.finish(&mut sink)?;
    drop(sink);
    writer.flush().context("storing the last visits")?;
    drop(writer);
    writer_handle.close().context("closing the store writer")?;
    println!(
        "simulated {} working days of {site} into {} (seed {}): {frames} frames, {analysed} analysed, \
         {tickets} ticket events, {ratings} ratings ({:.1} s)",
        sim.dates().len(),
        db.display(),
        run.seed,
        started.elapsed().as_secs_f64()
    );
    if cfg.uplink.enabled() {
        ship(&cfg, &db, sim.dates(), run.ship_timeout)?;
    }
    println!(
        "review it: hallwatch report --config {} --month YYYY-MM",
        cfg_path.display()
    );
    Ok(())
}

/// Ships the store's outbox to the centre with the hall's own publisher and waits until every
/// fact is acknowledged (or `limit` passes: what is left stays in the outbox for `run`).
fn ship(cfg: &Config, db: &Path, days: &[chrono::NaiveDate], limit: Duration) -> Result<()> {
    let publisher = hallwatch_uplink::Publisher::build(hallwatch_uplink::PublisherOptions {
        site: cfg.site.id.clone(),
        store: db.to_path_buf(),
        config: cfg.uplink.clone(),
        timezone: cfg.site.timezone.clone(),
    })
    .context("starting the uplink ([uplink])")?
    .with_camera_days(crate::run_cmd::camera_days_of(cfg));
    let status = publisher.status();
    let store = Store::open_again(db)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // The digests and camera uptime of every day of the simulated months, whatever today is
    // (the publisher itself summarises the last week): the monthly review counts a month's
    // opening hours, and so must the centre.
    let summarised = runtime
        .block_on(publisher.summarise_days(whole_months(days)))
        .context("summarising the simulated days for the centre")?;
    tracing::info!(summarised, "daily digests and camera days written");
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = runtime.spawn(publisher.run(stop_rx));
    let started = Instant::now();
    let mut last_said = Instant::now();
    let outcome = loop {
        let s = store.outbox_status(&cfg.site.id)?;
        if s.pending == 0 {
            break Ok(s.acked_seq);
        }
        if started.elapsed() > limit {
            let u = status.get();
            break Err(anyhow!(
                "the centre acknowledged {} of {} facts within {limit:?} ({}); the rest stay \
                 in the outbox and `hallwatch run` ships them",
                s.acked_seq,
                s.last_seq,
                if u.last_error.is_empty() {
                    "no error".to_string()
                } else {
                    u.last_error
                }
            ));
        }
        if last_said.elapsed() > Duration::from_secs(10) {
            last_said = Instant::now();
            println!("shipping: {} facts waiting", s.pending);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = stop.send(true);
    let _ = runtime.block_on(async { tokio::time::timeout(Duration::from_secs(10), task).await });
    runtime.shutdown_timeout(Duration::from_secs(1));
    let acked = outcome?;
    println!(
        "shipped to the province centre ({}): {acked} facts acknowledged ({:.1} s)",
        cfg.uplink.servers.join(","),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Every day of the months `days` fall in.
fn whole_months(days: &[chrono::NaiveDate]) -> Vec<chrono::NaiveDate> {
    use chrono::Datelike;
    let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else {
        return Vec::new();
    };
    let mut d = first.with_day(1).unwrap_or(*first);
    let mut out = Vec::new();
    while d.year() < last.year() || (d.year() == last.year() && d.month() <= last.month()) {
        out.push(d);
        match d.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn whole_months_cover_the_simulated_days_months() {
        let d = |m, day| chrono::NaiveDate::from_ymd_opt(2026, m, day).expect("date");
        let all = super::whole_months(&[d(11, 2), d(12, 3)]);
        assert_eq!(all.len(), 61);
        assert_eq!((all[0], all[60]), (d(11, 1), d(12, 31)));
        assert!(super::whole_months(&[]).is_empty());
    }
}
