//! `hallwatch import tickets|dossiers FILE`: a ticket-system or one-stop-software export (CSV
//! or XLSX) into the event store, with the column mapping of `[service]`.

use anyhow::Result;
use hallwatch_config::Config;
use hallwatch_service::{Intake, import_dossiers, import_tickets};
use hallwatch_store::Store;
use std::path::PathBuf;
use std::process::ExitCode;

/// What a file holds.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ImportKind {
    /// Queue tickets, one row per ticket ([service.tickets]).
    Tickets,
    /// Administrative dossiers, one row per dossier ([service.dossiers]).
    Dossiers,
}

/// Options of `hallwatch import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// tickets or dossiers.
    #[arg(value_enum)]
    pub what: ImportKind,
    /// The exported file (.csv, .xlsx).
    pub file: PathBuf,
    /// The hall config (site, time zone, column mapping, data folder).
    #[arg(long, short, env = "HALLWATCH_CONFIG")]
    pub config: PathBuf,
    /// Store the rows under this hall id instead of the config's site.
    #[arg(long)]
    pub hall: Option<String>,
}

/// Rejected rows printed at most.
const MAX_PRINTED: usize = 50;

/// Runs the command: exit 0 when every row was imported, 1 when some were rejected (the good
/// ones are stored all the same).
pub fn run(a: &ImportArgs) -> Result<ExitCode> {
    let cfg = Config::load(&a.config)
        .map_err(|e| anyhow::anyhow!("{}: invalid config:\n{e}", a.config.display()))?;
    let intake = Intake::from_config(&cfg)?;
    let dir = PathBuf::from(&cfg.storage.data_dir);
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
    let mut store = Store::open(dir.join("hallwatch.db"))?;
    // With an [uplink], what is imported is shipped to the centre too (by `run`'s publisher).
    store.set_outbox(cfg.uplink.enabled())?;
    let site = a.hall.clone().unwrap_or_else(|| cfg.site.id.clone());
    let now = hallwatch_store::unix_seconds(std::time::SystemTime::now());
    let report = match a.what {
        ImportKind::Tickets => import_tickets(&mut store, &site, &intake, &a.file, now)?,
        ImportKind::Dossiers => import_dossiers(&mut store, &site, &intake, &a.file, now)?,
    };
    println!("{report}");
    for e in report.errors.iter().take(MAX_PRINTED) {
        eprintln!("  {e}");
    }
    if report.errors.len() > MAX_PRINTED {
        eprintln!("  ... and {} more", report.errors.len() - MAX_PRINTED);
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
