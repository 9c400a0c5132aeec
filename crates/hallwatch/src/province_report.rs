//! `hallwatch report --central central.toml --province`: the province monthly review (every
//! hall's indicators and the province as a whole) as HTML, PDF and XLSX, from the centre's
//! PostgreSQL.

use anyhow::{Context, Result};
use hallwatch_central::league::{LeagueRow, ProvinceReview};
use hallwatch_central::{Central, CentralConfig};
use hallwatch_report::{Lang, OutputFormat};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Column headers, Vietnamese or English.
fn headers(lang: Lang) -> [&'static str; 13] {
    match lang {
        Lang::En => [
            "Hall",
            "Waits",
            "Wait (median)",
            "Wait (P90)",
            "Within target",
            "Served",
            "Left unserved",
            "Ratings",
            "Satisfaction",
            "On time",
            "Camera uptime",
            "Decision 766 score",
            "Missing facts",
        ],
        _ => [
            "Trung tâm",
            "Lượt chờ",
            "Thời gian chờ (trung vị)",
            "Thời gian chờ (P90)",
            "Chờ trong mục tiêu",
            "Lượt phục vụ",
            "Bỏ về",
            "Lượt đánh giá",
            "Mức độ hài lòng",
            "Đúng hạn",
            "Thời gian hoạt động camera",
            "Điểm QĐ 766",
            "Số liệu thiếu",
        ],
    }
}

fn minutes(s: Option<f64>) -> String {
    s.map_or("–".into(), |s| format!("{:.1}", s / 60.0))
}

fn pct(x: Option<f64>) -> String {
    x.map_or("–".into(), |x| format!("{:.0}%", x * 100.0))
}

fn cells(r: &LeagueRow, name: &str) -> [String; 13] {
    [
        name.to_string(),
        r.waits.to_string(),
        minutes(r.wait_p50_s),
        minutes(r.wait_p90_s),
        pct(r.within_target),
        r.served.to_string(),
        r.abandoned.to_string(),
        r.ratings.to_string(),
        pct(r.satisfied_share),
        pct(r.on_time_rate),
        pct(r.camera_uptime),
        r.score_766.map_or("–".into(), |x| format!("{x:.1}")),
        r.gaps.to_string(),
    ]
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn total_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Province",
        _ => "Toàn tỉnh",
    }
}

/// The review as a standalone HTML page.
pub fn html(r: &ProvinceReview, province: &str, lang: Lang) -> String {
    let (title, note) = match lang {
        Lang::En => (
            "Monthly review of the halls",
            "Waits in minutes. The province row pools every hall's waits; its camera uptime \
             and Decision 766 score are the halls' mean. Decision 766 scores are imported as the \
             national system publishes them.",
        ),
        _ => (
            "Báo cáo tháng các trung tâm",
            "Thời gian chờ tính bằng phút. Dòng Toàn tỉnh gộp lượt chờ của mọi trung tâm; \
             thời gian hoạt động camera và điểm QĐ 766 là trung bình các trung tâm. Điểm QĐ 766 \
             lấy theo kết quả của hệ thống quốc gia.",
        ),
    };
    let mut out = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{title} {m}</title>\
         <style>body{{font-family:'DejaVu Sans',sans-serif;margin:24px}}table{{border-collapse:collapse;width:100%}}\
         th,td{{border-bottom:1px solid #ccc;padding:4px 6px;text-align:right}}th:first-child,td:first-child{{text-align:left}}\
         tr.total td{{font-weight:bold;border-top:2px solid #333}}</style></head><body>\
         <h1>{title} {m}</h1><p>{province}</p><table><thead><tr>",
        if lang == Lang::En { "en" } else { "vi" },
        m = escape(&r.month),
        province = escape(province),
    );
    for h in headers(lang) {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr></thead><tbody>");
    for h in &r.halls {
        let name = if h.name.is_empty() { &h.site } else { &h.name };
        out.push_str(&format!("<tr data-site=\"{}\">", escape(&h.site)));
        for c in cells(h, name) {
            out.push_str(&format!("<td>{}</td>", escape(&c)));
        }
        out.push_str("</tr>");
    }
    out.push_str("<tr class=\"total\">");
    for c in cells(&r.total, total_name(lang)) {
        out.push_str(&format!("<td>{}</td>", escape(&c)));
    }
    out.push_str(&format!(
        "</tr></tbody></table><p>{}</p></body></html>",
        escape(note)
    ));
    out
}

/// The review as a workbook: one sheet, a row per hall and the province, numbers as numbers.
pub fn xlsx(r: &ProvinceReview, lang: Lang, path: &Path) -> Result<()> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(&r.month).context("naming the sheet")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in headers(lang).iter().enumerate() {
        ws.write_with_format(0, c as u16, *h, &bold)
            .context("writing the header")?;
    }
    let rows: Vec<(&LeagueRow, String)> = r
        .halls
        .iter()
        .map(|h| {
            (
                h,
                if h.name.is_empty() {
                    h.site.clone()
                } else {
                    h.name.clone()
                },
            )
        })
        .chain(std::iter::once((&r.total, total_name(lang).to_string())))
        .collect();
    for (i, (row, name)) in rows.iter().enumerate() {
        let y = (i + 1) as u32;
        ws.write(y, 0, name.as_str()).context("writing a row")?;
        let nums: [Option<f64>; 12] = [
            Some(row.waits as f64),
            row.wait_p50_s.map(|s| s / 60.0),
            row.wait_p90_s.map(|s| s / 60.0),
            row.within_target,
            Some(row.served as f64),
            Some(row.abandoned as f64),
            Some(row.ratings as f64),
            row.satisfied_share,
            row.on_time_rate,
            row.camera_uptime,
            row.score_766,
            Some(row.gaps as f64),
        ];
        for (c, v) in nums.iter().enumerate() {
            if let Some(v) = v {
                ws.write(y, (c + 1) as u16, *v)
                    .context("writing a figure")?;
            }
        }
    }
    wb.save(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Runs the province review of `month` (`YYYY-MM`) into `out`; returns the files written.
pub fn run(
    central_toml: &Path,
    month: &str,
    formats: &[OutputFormat],
    lang: Lang,
    out: &Path,
) -> Result<Vec<PathBuf>> {
    let cfg = CentralConfig::load(central_toml).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hallwatch_report::Month { year: y, month: m } = hallwatch_report::Month::parse(month)
        .with_context(|| format!("--month {month}: expected YYYY-MM, e.g. 2026-10"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let review = runtime.block_on(async {
        let central = Central::connect(&cfg.postgres.url, &cfg.halls)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        central
            .province_review(y, m, cfg.province.wait_target_min * 60.0)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let stem = format!(
        "province-{}-{}",
        review.month,
        if lang == Lang::En { "en" } else { "vi" }
    );
    let mut files = Vec::new();
    let html_path = out.join(format!("{stem}.html"));
    let page = html(&review, &cfg.province.name, lang);
    if formats.contains(&OutputFormat::Html) || formats.contains(&OutputFormat::Pdf) {
        std::fs::write(&html_path, &page)
            .with_context(|| format!("writing {}", html_path.display()))?;
        if formats.contains(&OutputFormat::Html) {
            files.push(html_path.clone());
        }
    }
    if formats.contains(&OutputFormat::Pdf) {
        let chromium = hallwatch_report::pdf::find_chromium()
            .context("PDF needs Chromium (Debian's chromium package)")?;
        let pdf = out.join(format!("{stem}.pdf"));
        hallwatch_report::pdf::print(&chromium, &html_path, &pdf, Duration::from_secs(60))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if !formats.contains(&OutputFormat::Html) {
            let _ = std::fs::remove_file(&html_path);
        }
        files.push(pdf);
    }
    if formats.contains(&OutputFormat::Xlsx) {
        let path = out.join(format!("{stem}.xlsx"));
        xlsx(&review, lang, &path)?;
        files.push(path);
    }
    Ok(files)
}
