//! hallwatch-report: the monthly service-quality review (Báo cáo tháng) of one hall or of every
//! hall in a store.
//!
//! [`build`] computes a [`HallReport`]: the figures of the month and of the month before
//! ([`HallMonth`]: visitors, served, waits measured by camera and by ticket, longest queues and
//! when, the weekday x hour heatmap, service time and utilisation per counter, camera uptime,
//! alerts and time to acknowledge, satisfaction and the Decision 766-style indicator, dossiers
//! and the on-time rate). [`generate`] renders it as HTML (charts as inline SVG pictures), PDF
//! (the HTML printed by headless Chromium, [`pdf::print`]) and XLSX (rust_xlsxwriter), in
//! Vietnamese or English ([`Lang`]), reporting progress through a callback.
//!
//! Camera-side figures come from hallwatch-analytics (polars) over the event store; ticket,
//! rating and dossier figures from the store's service tables (hallwatch-service for the
//! ticket/camera fusion); alert figures from [`hallwatch_store::Store::alert_figures`].
#![deny(missing_docs)]

mod figures;
mod format;
mod html;
mod kpis;
mod month;
pub mod pdf;
mod svg;
mod xlsx;

pub use figures::{
    CameraFigures, CounterFigures, DayFigures, DossierFigures, HallMonth, QueuePeak, RatingFigures,
    TicketFigures, camera_days, hall_month,
};
pub use format::Lang;
pub use kpis::{KpiRow, Unit, kpi_rows};
pub use month::Month;

use chrono_tz::Tz;
use hallwatch_config::Config;
use hallwatch_store::Store;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What can stop a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] hallwatch_store::StoreError),
    /// The analytics failed.
    #[error(transparent)]
    Analytics(#[from] hallwatch_analytics::AnalyticsError),
    /// The site's time zone is unknown.
    #[error("site.timezone '{0}' is not an IANA time zone")]
    TimeZone(String),
    /// The hall asked for has no data and is not the config's site.
    #[error("no hall '{hall}' in the store (halls: {})", known.join(", "))]
    UnknownHall {
        /// The hall asked for.
        hall: String,
        /// The halls there are.
        known: Vec<String>,
    },
    /// A file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The workbook could not be written.
    #[error("XLSX {}: {detail}", path.display())]
    Xlsx {
        /// The file.
        path: PathBuf,
        /// What rust_xlsxwriter said.
        detail: String,
    },
    /// Chromium was not found or failed to print.
    #[error("PDF: {0}")]
    Chromium(String),
}

/// One hall's review of one month: the figures and how to present them.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HallReport {
    /// Site id.
    pub site: String,
    /// Site name (the id when it has none).
    pub name: String,
    /// The month.
    #[serde(serialize_with = "ser_month")]
    pub month: Month,
    /// Figures of the month.
    pub current: HallMonth,
    /// Figures of the month before.
    pub previous: HallMonth,
    /// The wait target, minutes (`[hall] wait_target_min`).
    pub target_min: f64,
    /// The site's time zone.
    #[serde(skip)]
    pub tz: Tz,
    /// Language.
    pub lang: Lang,
    /// When the report was made, Unix seconds.
    pub generated: f64,
}

fn ser_month<S: serde::Serializer>(m: &Month, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&m.to_string())
}

impl HallReport {
    /// The summary rows (this month against the previous).
    pub fn kpis(&self) -> Vec<KpiRow> {
        kpi_rows(&self.current, &self.previous, self.lang, self.target_min)
    }

    /// The review as one HTML document.
    pub fn html(&self) -> String {
        html::render(self)
    }

    /// Writes the XLSX workbook.
    pub fn write_xlsx(&self, path: &Path) -> Result<(), ReportError> {
        xlsx::write(self, path).map_err(|e| ReportError::Xlsx {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
    }
}

/// Computes `site`'s review of `month` (with the month before) at time `now`.
pub fn build(
    store: &Store,
    config: &Config,
    site: &str,
    month: Month,
    lang: Lang,
    now: f64,
) -> Result<HallReport, ReportError> {
    let cfg = figures::config_for(config, site);
    let tz: Tz = cfg
        .site
        .timezone
        .parse()
        .map_err(|_| ReportError::TimeZone(cfg.site.timezone.clone()))?;
    let (from, to) = month.bounds(tz);
    let (pfrom, pto) = month.prev().bounds(tz);
    Ok(HallReport {
        site: site.to_string(),
        name: if cfg.site.name.is_empty() {
            site.to_string()
        } else {
            cfg.site.name.clone()
        },
        month,
        current: hall_month(store, &cfg, from, to)?,
        previous: hall_month(store, &cfg, pfrom, pto)?,
        target_min: cfg.hall.wait_target_min,
        tz,
        lang,
        generated: now,
    })
}

/// Which halls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The config's own site.
    ConfigSite,
    /// One hall by id.
    Hall(String),
    /// Every hall with data in the store (and the config's site).
    All,
}

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// One HTML file, charts inline.
    Html,
    /// The HTML printed by headless Chromium.
    Pdf,
    /// The tables as a workbook.
    Xlsx,
}

impl OutputFormat {
    /// Parses `html`, `pdf` or `xlsx`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" => Some(Self::Html),
            "pdf" => Some(Self::Pdf),
            "xlsx" => Some(Self::Xlsx),
            _ => None,
        }
    }

    /// The file extension.
    pub fn ext(self) -> &'static str {
        match self {
            Self::Html => "html",
            Self::Pdf => "pdf",
            Self::Xlsx => "xlsx",
        }
    }
}

/// What to produce.
#[derive(Clone, Debug)]
pub struct ReportRequest {
    /// The month.
    pub month: Month,
    /// Which halls.
    pub scope: Scope,
    /// Which files.
    pub formats: Vec<OutputFormat>,
    /// Language.
    pub lang: Lang,
    /// Output folder (created if missing).
    pub out_dir: PathBuf,
    /// Now, Unix seconds (printed as the generation time).
    pub now: f64,
    /// Chromium for PDF; found with [`pdf::find_chromium`] when None.
    pub chromium: Option<PathBuf>,
    /// How long one PDF may take.
    pub pdf_timeout: Duration,
}

impl ReportRequest {
    /// A request for `month` of the config's site as HTML, PDF and XLSX in Vietnamese.
    pub fn new(month: Month, out_dir: impl Into<PathBuf>, now: f64) -> Self {
        Self {
            month,
            scope: Scope::ConfigSite,
            formats: vec![OutputFormat::Html, OutputFormat::Pdf, OutputFormat::Xlsx],
            lang: Lang::Vi,
            out_dir: out_dir.into(),
            now,
            chromium: None,
            pdf_timeout: Duration::from_secs(120),
        }
    }
}

/// The halls a scope covers.
pub fn halls(store: &Store, config: &Config, scope: &Scope) -> Result<Vec<String>, ReportError> {
    let mut known = store.sites()?;
    if !known.contains(&config.site.id) {
        known.push(config.site.id.clone());
        known.sort();
    }
    Ok(match scope {
        Scope::ConfigSite => vec![config.site.id.clone()],
        Scope::All => known,
        Scope::Hall(h) if known.contains(h) => vec![h.clone()],
        Scope::Hall(h) => {
            return Err(ReportError::UnknownHall {
                hall: h.clone(),
                known,
            });
        }
    })
}

/// Produces the files of `req` (`hallwatch-{site}-{month}.{html,pdf,xlsx}` in
/// `req.out_dir`); `progress(done, total, what)` is called before each step and once at the end.
pub fn generate(
    store: &Store,
    config: &Config,
    req: &ReportRequest,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Vec<PathBuf>, ReportError> {
    let halls = halls(store, config, &req.scope)?;
    std::fs::create_dir_all(&req.out_dir).map_err(|e| ReportError::Io {
        path: req.out_dir.clone(),
        source: e,
    })?;
    let chromium = if req.formats.contains(&OutputFormat::Pdf) {
        Some(match &req.chromium {
            Some(c) => c.clone(),
            None => pdf::find_chromium().ok_or_else(|| {
                ReportError::Chromium(
                    "no chromium found (install it, or set HALLWATCH_CHROMIUM)".into(),
                )
            })?,
        })
    } else {
        None
    };
    let total = halls.len() * (1 + req.formats.len());
    let mut done = 0;
    let mut files = Vec::new();
    for site in &halls {
        progress(done, total, &format!("{site}: figures"));
        let report = build(store, config, site, req.month, req.lang, req.now)?;
        done += 1;
        let path_for = |ext: &str| {
            req.out_dir
                .join(format!("hallwatch-{site}-{}.{ext}", req.month))
        };
        let html_path = path_for("html");
        let mut html_written = false;
        let mut write_html = |files: &mut Vec<PathBuf>| -> Result<(), ReportError> {
            if !html_written {
                std::fs::write(&html_path, report.html()).map_err(|e| ReportError::Io {
                    path: html_path.clone(),
                    source: e,
                })?;
                html_written = true;
                if req.formats.contains(&OutputFormat::Html) {
                    files.push(html_path.clone());
                }
            }
            Ok(())
        };
        for f in &req.formats {
            progress(done, total, &format!("{site}: {}", f.ext()));
            match f {
                OutputFormat::Html => write_html(&mut files)?,
                OutputFormat::Pdf => {
                    write_html(&mut files)?;
                    let pdf = path_for("pdf");
                    if let Some(c) = &chromium {
                        pdf::print(c, &html_path, &pdf, req.pdf_timeout)?;
                    }
                    files.push(pdf);
                }
                OutputFormat::Xlsx => {
                    let x = path_for("xlsx");
                    report.write_xlsx(&x)?;
                    files.push(x);
                }
            }
            done += 1;
        }
        if html_written && !req.formats.contains(&OutputFormat::Html) {
            let _ = std::fs::remove_file(&html_path);
        }
    }
    progress(done, total, "done");
    Ok(files)
}
