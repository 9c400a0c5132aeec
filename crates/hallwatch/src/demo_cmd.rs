//! `hallwatch demo`: the whole system on one command. The sample footage (vtest.avi) plays as
//! a looping live camera through the real detector, tracker and zones (examples/vtest.toml);
//! a simulated hall (crates/sim) plays the ticket system and the counters' rating devices in
//! real time into the same event store; the dashboard and API listen on 127.0.0.1:8080 with a
//! demo login printed on the console; alerts go to the console. Ctrl-C stops it cleanly.
//!
//! The demo hall is open around the clock, so it is alive whenever it is started: the
//! simulator runs on the wall clock (its day is today), and at start it first catches up on
//! what "happened" since local midnight, so today's figures are there at once.

use crate::run_cmd::{self, ServeOptions};
use anyhow::{Context, Result};
use hallwatch_config::{Config, HoursConfig};
use hallwatch_service::Intake;
use hallwatch_sim::{SimConfig, SimEvents, Simulator};
use hallwatch_store::{NewUser, Role, Store, unix_seconds};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

/// The demo's login name.
const DEMO_USER: &str = "demo";
/// Working days the simulated hall is planned for (days are simulated when reached).
const SIM_DAYS: u32 = 14;
/// Simulated citizens per hour on average: three counters at about 7.5 minutes a citizen
/// serve 24 an hour, so queues build in the busier stretches and clear in the quiet ones
/// (measured over three simulated days: median ticket wait 4 min, p90 20 min, longest 49 min,
/// about 2 % of ratings dissatisfied).
const SIM_PER_HOUR: f64 = 21.0;

/// Options of `hallwatch demo`.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Footage to use instead of the cached vtest.avi.
    #[arg(long)]
    pub footage: Option<PathBuf>,
    /// Dashboard address (port 0: any free port, printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Data folder for the demo's event store (default: `demo` in the setup cache,
    /// ~/.cache/hallwatch/demo).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Stop after this many seconds.
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Seed of the simulated hall (default: today's date, so a restart on the same day
    /// replays the same day).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Runs the demo.
pub fn run(args: &DemoArgs) -> Result<ExitCode> {
    let footage = match &args.footage {
        Some(f) => f.clone(),
        None => crate::default_footage()?,
    };
    if !footage.is_file() {
        anyhow::bail!("footage {} is not a file", footage.display());
    }
    let data_dir = match &args.data_dir {
        Some(d) => d.clone(),
        None => crate::cache_dir()?.join("demo"),
    };
    let cfg = demo_config(&footage, &data_dir, &args.bind)?;
    // The usual first-run problem, said in the demo's own terms (the port is taken again at
    // once by the server).
    if let Err(e) = std::net::TcpListener::bind(&args.bind) {
        anyhow::bail!(
            "cannot listen on {}: {e}. Is another program (or another demo) using it? \
             `--bind 127.0.0.1:8081` picks another port",
            args.bind
        );
    }
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating the data folder {}", data_dir.display()))?;
    let db = data_dir.join("hallwatch.db");
    let mut store = Store::open(&db).with_context(|| format!("opening {}", db.display()))?;
    let password = demo_login(&mut store)?;

    let now = unix_seconds(SystemTime::now());
    let mut feeder = Feeder::new(&cfg, store, now, args.seed)?;
    let (tickets, ratings) = feeder.feed_until(now);

    let stop = Arc::new(AtomicBool::new(false));
    {
        let flag = Arc::clone(&stop);
        ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
            .context("installing the Ctrl-C handler")?;
    }
    let feeding = {
        let stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("demo-hall".into())
            .spawn(move || feeder.run(&stop))
            .context("starting the simulated hall")?
    };
    let banner = format!(
        "demo login: user '{DEMO_USER}', password '{password}' (Đăng nhập: tài khoản \
         '{DEMO_USER}', mật khẩu '{password}')\n\
         camera 'sanh': {} played in a loop through the person detector, tracker and zones\n\
         simulated ticket system and rating devices: {tickets} ticket events and {ratings} \
         ratings since midnight, more as they happen\n\
         alerts (Cảnh báo) are written here; data in {}; Ctrl-C stops",
        footage.display(),
        data_dir.display()
    );
    println!("hallwatch demo: starting (the detector takes a few seconds to load)");
    let code = run_cmd::run(
        cfg,
        ServeOptions {
            seconds: args.seconds,
            banner: Some(banner),
            stop: Some(Arc::clone(&stop)),
            record: None,
        },
    );
    stop.store(true, Ordering::SeqCst);
    if feeding.join().is_err() {
        tracing::error!("the simulated hall's thread panicked");
    }
    if code.is_ok() {
        println!("hallwatch demo: stopped");
    }
    code
}

/// The demo config: examples/vtest.toml with its camera looping over `footage`, plus
/// demo_overlay.toml (data folder, address, round-the-clock hours, alerts to the console).
fn demo_config(footage: &Path, data_dir: &Path, bind: &str) -> Result<Config> {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let base = include_str!("../../../examples/vtest.toml");
    let camera_line = "source = { kind = \"file\", path = \"vtest.avi\" }";
    anyhow::ensure!(
        base.contains(camera_line),
        "examples/vtest.toml no longer has the line `{camera_line}` the demo replaces"
    );
    let base = base.replace(
        camera_line,
        &format!(
            "source = {{ kind = \"file\", path = {}, loop = true }}",
            quote(&footage.display().to_string())
        ),
    );
    let overlay = include_str!("demo_overlay.toml")
        .replace("\"@DATA_DIR@\"", &quote(&data_dir.display().to_string()))
        .replace("\"@BIND@\"", &quote(bind));
    Config::from_toml_str(&format!("{base}\n{overlay}"))
        .map_err(|e| anyhow::anyhow!("the demo config is invalid:\n{e}"))
}

/// Makes sure the demo user exists as an admin with a fresh password, and returns it.
fn demo_login(store: &mut Store) -> Result<String> {
    let password = random_password();
    let added = store.add_user(
        &NewUser {
            username: DEMO_USER,
            role: Role::Admin,
            password: &password,
        },
        unix_seconds(SystemTime::now()),
    )?;
    if added.is_none() {
        store.set_password(DEMO_USER, &password)?;
        store.set_role(DEMO_USER, Role::Admin)?;
    }
    Ok(password)
}

/// A fresh password from the operating system's randomness (std's hasher keys), in groups of
/// four lowercase letters and digits.
fn random_password() -> String {
    use std::hash::{BuildHasher, Hasher};
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut out = String::new();
    for group in 0..3 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(group);
        let mut v = h.finish();
        if group > 0 {
            out.push('-');
        }
        for _ in 0..4 {
            out.push(ALPHABET[(v % ALPHABET.len() as u64) as usize] as char);
            v /= ALPHABET.len() as u64;
        }
    }
    out
}

/// The simulated hall of the demo: open around the clock like the demo config, citizens in
/// waves of a few hours, three counters, starting today.
fn demo_sim_config(cfg: &Config, now: f64) -> Result<SimConfig> {
    let today = cfg
        .calendar()
        .map_err(|e| anyhow::anyhow!("the demo config's hours: {e:?}"))?
        .local_date(now);
    let mut sim = SimConfig {
        start_date: today.to_string(),
        timezone: cfg.site.timezone.clone(),
        hours: HoursConfig {
            // The demo config's days (every day).
            weekdays: cfg.hours.weekdays.clone(),
            // Ends before midnight: counters finish the day's last tickets before the next
            // day's hall opens.
            sessions: vec![["00:00".into(), "23:30".into()]],
            holidays: Vec::new(),
        },
        ..SimConfig::default()
    };
    sim.arrivals.per_day = SIM_PER_HOUR * 23.5;
    sim.arrivals.weekday_factors = [1.0; 7];
    // Busier and quieter stretches of two hours each.
    sim.arrivals.profile = (0..=23)
        .step_by(2)
        .map(|h| (format!("{h:02}:00"), if h % 4 == 0 { 0.75 } else { 1.35 }))
        .chain([("23:30".to_string(), 0.75)])
        .collect();
    Ok(sim)
}

/// Feeds the simulated hall's ticket events and ratings into the store as a ticket system
/// and rating devices would, validated by the same [`Intake`] rules as the API.
struct Feeder {
    sim: Simulator,
    intake: Intake,
    store: Store,
    site: String,
    /// Service id -> display name.
    services: HashMap<String, String>,
    finished_said: bool,
}

impl Feeder {
    fn new(cfg: &Config, store: Store, now: f64, seed: Option<u64>) -> Result<Self> {
        let sim_cfg = demo_sim_config(cfg, now)?;
        let seed = seed.unwrap_or_else(|| {
            // Days since the epoch: the same day replays the same hall.
            (now / 86_400.0).floor().max(0.0) as u64
        });
        let mut sim = Simulator::new(&sim_cfg, seed, SIM_DAYS)
            .map_err(|e| anyhow::anyhow!("the demo's simulated hall: {e}"))?;
        sim.set_camera(false);
        let services = sim_cfg
            .services
            .iter()
            .map(|s| (s.id.clone(), s.name.clone()))
            .collect();
        Ok(Self {
            sim,
            intake: Intake::from_config(cfg).context("the demo's [service] settings")?,
            store,
            site: cfg.site.id.clone(),
            services,
            finished_said: false,
        })
    }

    /// Everything the simulated hall did up to `now` into the store; returns how many ticket
    /// events and ratings were stored (a refused one is logged and skipped).
    fn feed_until(&mut self, now: f64) -> (usize, usize) {
        let events = self.sim.advance_to(now);
        if self.sim.is_finished() && !self.finished_said {
            self.finished_said = true;
            tracing::warn!("the demo's simulated hall has run all its {SIM_DAYS} days");
        }
        self.apply(events, now)
    }

    fn apply(&mut self, events: SimEvents, now: f64) -> (usize, usize) {
        crate::sim_feed::feed(
            &crate::sim_feed::FeedTarget {
                intake: &self.intake,
                site: &self.site,
                services: &self.services,
                source: "demo-simulator",
            },
            &mut self.store,
            &events,
            now,
        )
    }

    /// Follows the wall clock every half second until `stop`.
    fn run(mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(500));
            self.feed_until(unix_seconds(SystemTime::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_config_is_valid_and_open_around_the_clock() {
        let cfg = demo_config(
            Path::new("/tmp/vtest \"x\".avi"),
            Path::new("/tmp/demo data"),
            "127.0.0.1:0",
        )
        .unwrap();
        assert_eq!(cfg.cameras[0].source.path, "/tmp/vtest \"x\".avi");
        assert!(cfg.cameras[0].source.looping);
        assert_eq!(cfg.storage.data_dir, "/tmp/demo data");
        assert_eq!(cfg.server.bind, "127.0.0.1:0");
        assert_eq!(cfg.alerts.rules.len(), 3);
        let cal = cfg.calendar().unwrap();
        // Sunday 2026-11-29 03:00 local is open.
        assert!(cal.is_open(1_795_896_000.0));
    }

    #[test]
    fn the_simulated_hall_feeds_tickets_and_ratings_since_midnight() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = demo_config(Path::new("/x.avi"), dir.path(), "127.0.0.1:0").unwrap();
        // Saturday 2026-11-28 15:00 local: the demo hall is open on weekends.
        let now = 1_795_852_800.0;
        let store = Store::open(dir.path().join("hallwatch.db")).unwrap();
        let mut feeder = Feeder::new(&cfg, store, now, Some(3)).unwrap();
        let (tickets, ratings) = feeder.feed_until(now);
        // About 21 citizens an hour for 15 hours, three events each for most of them.
        assert!((400..1200).contains(&tickets), "{tickets} ticket events");
        assert!(ratings > 50, "{ratings} ratings");
        let store = Store::open(dir.path().join("hallwatch.db")).unwrap();
        let stored = store.tickets("vtest", now - 86_400.0, now + 1.0).unwrap();
        assert!(
            stored.iter().all(|t| t.day == "2026-11-28"),
            "{:?}",
            stored.first()
        );
        assert!(stored.iter().any(|t| t.service == "Chứng thực"));
        assert!(stored.iter().all(|t| t.issued <= now));
        let served = stored.iter().filter(|t| t.finished.is_some()).count();
        assert!(
            served * 10 > stored.len() * 7,
            "{served} of {}",
            stored.len()
        );
        assert_eq!(
            store
                .ratings("vtest", now - 86_400.0, now + 1.0)
                .unwrap()
                .len(),
            ratings
        );
        // Half a minute later only the new events are fed...
        let (more, _) = feeder.feed_until(now + 30.0);
        assert!(more < 20, "{more}");
        let count = |store: &Store| {
            (
                store.tickets("vtest", now - 86_400.0, now + 31.0).unwrap(),
                store
                    .ratings("vtest", now - 86_400.0, now + 31.0)
                    .unwrap()
                    .len(),
            )
        };
        let before = count(&store);
        // ...and a restart the same day replays the same hall without doubling anything.
        let store2 = Store::open(dir.path().join("hallwatch.db")).unwrap();
        let mut again = Feeder::new(&cfg, store2, now + 30.0, Some(3)).unwrap();
        let (replayed, _) = again.feed_until(now + 30.0);
        assert_eq!(replayed, tickets + more);
        assert_eq!(count(&store), before);
    }

    #[test]
    fn passwords_differ() {
        let a = random_password();
        assert_eq!(a.len(), 14);
        assert_ne!(a, random_password());
    }
}
