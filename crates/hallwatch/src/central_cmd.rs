//! `hallwatch central`: the province centre — the JetStream consumer writing every hall's
//! facts into PostgreSQL, and the province dashboard and API (the hall web app with the
//! province routes: same login, roles and tokens, the centre's own users) — until Ctrl-C or
//! SIGTERM.

use anyhow::{Context, Result};
use hallwatch_central::web::{CentralState, routes};
use hallwatch_central::{Central, CentralConfig, StatusHandle};
use hallwatch_web::{AppOptions, AppState, Server};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Runs the centre of `config` (a `central.toml`).
pub fn run(config: &Path, seconds: Option<f64>) -> Result<ExitCode> {
    let cfg = CentralConfig::load(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let web_cfg = Arc::new(cfg.web_config().map_err(|e| anyhow::anyhow!("{e}"))?);
    std::fs::create_dir_all(&cfg.storage.data_dir)
        .with_context(|| format!("creating the data folder {}", cfg.storage.data_dir))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("hallwatch-central")
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let status = StatusHandle::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let consumer = runtime.spawn(hallwatch_central::run(cfg.clone(), status.clone(), stop_rx));
    // The API's own connections (the consumer keeps one for writing). PostgreSQL may still be
    // starting: wait for it, as the consumer does.
    let (db, nats) = runtime.block_on(async {
        let mut pause = Duration::from_millis(500);
        let db = loop {
            match Central::connect(&cfg.postgres.url, &cfg.halls).await {
                Ok(db) => break db,
                Err(e) => {
                    tracing::warn!(error = %e, "central API: waiting for PostgreSQL");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(10));
                }
            }
        };
        let nats = hallwatch_central::connect_nats(&cfg.nats).await;
        (db, nats)
    });
    let nats = nats.map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = AppState::new(AppOptions::new(Arc::clone(&web_cfg)))
        .context("starting the web layer (the centre's users and tokens)")?;
    let province = CentralState {
        db: Arc::new(db),
        status,
        wait_target_s: cfg.province.wait_target_min * 60.0,
        nats: Some((nats, cfg.nats.subject_prefix.clone())),
    };
    let server = Server::start_with(state, &web_cfg.server.bind, routes(province))
        .with_context(|| format!("listening on {} ([server].bind)", web_cfg.server.bind))?;
    println!(
        "province dashboard: http://{}/province.html",
        server.local_addr()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C/SIGTERM handler")?;
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed)
        && seconds.is_none_or(|s| started.elapsed().as_secs_f64() < s)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    if let Err(e) = server.stop() {
        tracing::warn!(error = %e, "web server did not stop cleanly");
    }
    let _ = stop_tx.send(true);
    match runtime.block_on(async { tokio::time::timeout(Duration::from_secs(20), consumer).await })
    {
        Ok(Ok(Ok(()))) => Ok(ExitCode::SUCCESS),
        Ok(Ok(Err(e))) => Err(anyhow::anyhow!("{e}")),
        Ok(Err(e)) => Err(anyhow::anyhow!("the consumer task failed: {e}")),
        Err(_) => Err(anyhow::anyhow!("the consumer did not stop within 20 s")),
    }
}

/// `hallwatch central --config central.toml --import-766 FILE`: each commune's monthly
/// Decision 766 scores into the centre's database; every problem of the file is listed and
/// nothing is imported unless all rows are good.
pub fn import_766(config: &Path, file: &Path) -> Result<ExitCode> {
    let cfg = CentralConfig::load(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let scores = match hallwatch_central::scores::parse_scores_766(&text) {
        Ok(s) => s,
        Err(errors) => {
            eprintln!("{}: nothing imported:", file.display());
            for e in errors {
                eprintln!("  {e}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let source = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let imported = runtime.block_on(async {
        let db = Central::connect(&cfg.postgres.url, &cfg.halls)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        match db.import_scores_766(&scores, &source).await {
            Ok(n) => Ok(Ok(n)),
            Err(hallwatch_central::scores::ImportError::Invalid(errors)) => Ok(Err(errors)),
            Err(e) => Err(anyhow::anyhow!("{e}")),
        }
    })?;
    match imported {
        Ok(n) => {
            println!("imported {n} Decision 766 scores from {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("{}: nothing imported:", file.display());
            for e in errors {
                eprintln!("  {e}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
