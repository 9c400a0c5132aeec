//! `hallwatch central`: the province centre — the JetStream consumer writing every hall's
//! facts into PostgreSQL, and the province API — until Ctrl-C or SIGTERM.

use anyhow::{Context, Result};
use hallwatch_central::web::{CentralState, app};
use hallwatch_central::{Central, CentralConfig, StatusHandle};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Runs the centre of `config` (a `central.toml`).
pub fn run(config: &Path, seconds: Option<f64>) -> Result<ExitCode> {
    let cfg = CentralConfig::load(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("hallwatch-central")
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(serve(cfg, seconds))
}

async fn serve(cfg: CentralConfig, seconds: Option<f64>) -> Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(&cfg.server.bind)
        .await
        .with_context(|| format!("listening on {} ([server].bind)", cfg.server.bind))?;
    let addr = listener.local_addr().context("the listening address")?;
    let status = StatusHandle::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let consumer = tokio::spawn(hallwatch_central::run(cfg.clone(), status.clone(), stop_rx));
    // The API's own connection (the consumer keeps one for writing). PostgreSQL may still be
    // starting: wait for it, as the consumer does.
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
    let nats = hallwatch_central::connect_nats(&cfg.nats)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("province API: http://{addr}/");
    let state = CentralState {
        db: Arc::new(db),
        status,
        tokens: Arc::new(cfg.server.tokens.clone()),
        wait_target_s: cfg.server.wait_target_min * 60.0,
        nats: Some((nats, cfg.nats.subject_prefix.clone())),
    };
    let shutdown = async move {
        let limit = async {
            match seconds {
                Some(s) => tokio::time::sleep(Duration::from_secs_f64(s.max(0.0))).await,
                None => std::future::pending().await,
            }
        };
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let sigterm = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = sigterm => {}
            _ = limit => {}
        }
    };
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving the province API")?;
    let _ = stop_tx.send(true);
    match tokio::time::timeout(Duration::from_secs(20), consumer).await {
        Ok(Ok(Ok(()))) => Ok(ExitCode::SUCCESS),
        Ok(Ok(Err(e))) => Err(anyhow::anyhow!("{e}")),
        Ok(Err(e)) => Err(anyhow::anyhow!("the consumer task failed: {e}")),
        Err(_) => Err(anyhow::anyhow!("the consumer did not stop within 20 s")),
    }
}
