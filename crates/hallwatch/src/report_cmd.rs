//! `hallwatch report`: the monthly service-quality review (Báo cáo tháng) as HTML, PDF and
//! XLSX, with a progress bar.

use anyhow::{Context, Result};
use hallwatch_config::Config;
use hallwatch_report::{Lang, Month, OutputFormat, ReportRequest, Scope, generate};
use hallwatch_store::Store;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

/// Options of `hallwatch report`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The hall config (site, time zone, opening hours, data folder).
    #[arg(
        long,
        short,
        env = "HALLWATCH_CONFIG",
        required_unless_present = "province"
    )]
    pub config: Option<PathBuf>,
    /// The province centre's central.toml (with --province).
    #[arg(long, requires = "province")]
    pub central: Option<PathBuf>,
    /// The province review: every hall of the centre and the province as a whole, from the
    /// centre's PostgreSQL (needs --central).
    #[arg(long, requires = "central", conflicts_with_all = ["hall", "all"])]
    pub province: bool,
    /// The month, YYYY-MM.
    #[arg(long)]
    pub month: String,
    /// One hall of the store by id (default: the config's site).
    #[arg(long, conflicts_with = "all")]
    pub hall: Option<String>,
    /// Every hall with data in the store.
    #[arg(long)]
    pub all: bool,
    /// Comma-separated: html, pdf, xlsx.
    #[arg(long, default_value = "html,pdf,xlsx")]
    pub format: String,
    /// Language: vi or en.
    #[arg(long, default_value = "vi")]
    pub lang: String,
    /// Output folder.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
}

/// Runs the command.
pub fn run(a: &ReportArgs) -> Result<()> {
    let formats = a
        .format
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            OutputFormat::parse(s)
                .with_context(|| format!("--format {s}: expected html, pdf or xlsx"))
        })
        .collect::<Result<Vec<_>>>()?;
    if let (true, Some(central)) = (a.province, &a.central) {
        let lang = Lang::parse(&a.lang)
            .with_context(|| format!("--lang {}: expected vi or en", a.lang))?;
        anyhow::ensure!(
            !formats.is_empty(),
            "--format: name at least one of html, pdf, xlsx"
        );
        for f in crate::province_report::run(central, &a.month, &formats, lang, &a.out)? {
            println!("{}", f.display());
        }
        return Ok(());
    }
    let config = a.config.as_ref().context("--config: the hall config")?;
    let cfg = Config::load(config)
        .map_err(|e| anyhow::anyhow!("{}: invalid config:\n{e}", config.display()))?;
    let month = Month::parse(&a.month)
        .with_context(|| format!("--month {}: expected YYYY-MM, e.g. 2026-10", a.month))?;
    anyhow::ensure!(
        !formats.is_empty(),
        "--format: name at least one of html, pdf, xlsx"
    );
    let lang =
        Lang::parse(&a.lang).with_context(|| format!("--lang {}: expected vi or en", a.lang))?;
    let db = PathBuf::from(&cfg.storage.data_dir).join("hallwatch.db");
    anyhow::ensure!(
        db.is_file(),
        "no event store at {} (storage.data_dir)",
        db.display()
    );
    let store = Store::open(&db)?;
    let scope = match (&a.hall, a.all) {
        (_, true) => Scope::All,
        (Some(h), false) => Scope::Hall(h.clone()),
        (None, false) => Scope::ConfigSite,
    };
    let now = hallwatch_store::unix_seconds(std::time::SystemTime::now());
    let mut req = ReportRequest::new(month, &a.out, now);
    req.scope = scope;
    req.formats = formats;
    req.lang = lang;
    let pb = ProgressBar::new(1);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let files = generate(&store, &cfg, &req, &mut |done, total, what| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
        pb.set_message(what.to_string());
    })?;
    pb.finish_and_clear();
    for f in &files {
        println!("{}", f.display());
    }
    Ok(())
}
