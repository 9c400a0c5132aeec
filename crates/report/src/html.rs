//! The review as one HTML page per A4 sheet: summary, waits and queues, counters and cameras,
//! satisfaction and dossiers. Charts are inline SVG; the page prints to PDF as it looks.

use crate::HallReport;
use crate::format::esc;
use crate::kpis::kpi_rows;
use crate::svg::{BarSeries, bars, heatmap};
use hallwatch_config::alerts::Severity;
use std::fmt::Write;

const CSS: &str = r#"
@page { size: A4; margin: 12mm 12mm 12mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; font-size: 10.5pt; color: #222; margin: 0; }
section.page { break-after: page; page-break-after: always; }
section.page:last-of-type { break-after: auto; page-break-after: auto; }
h1 { font-size: 16pt; margin: 0 0 2mm 0; color: #0b4f8a; }
h2 { font-size: 12.5pt; margin: 4mm 0 2mm 0; color: #0b4f8a; border-bottom: 1px solid #0b4f8a; }
.sub { color: #555; margin-bottom: 3mm; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2mm; }
th, td { border: 1px solid #bbb; padding: 1.2mm 2mm; text-align: right; }
th { background: #e8f0f8; }
td:first-child, th:first-child { text-align: left; }
.big { font-size: 22pt; font-weight: bold; color: #0b4f8a; }
.box { border: 1px solid #0b4f8a; padding: 3mm; margin: 3mm 0; }
.note { font-size: 8.5pt; color: #555; }
.foot { font-size: 8pt; color: #777; margin-top: 2mm; }
"#;

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "—".to_string(), f)
}

/// Renders the review of one hall.
pub fn render(r: &HallReport) -> String {
    let lang = r.lang;
    let cur = &r.current;
    let prev = &r.previous;
    let t = |vi, en| lang.t(vi, en);
    let mut h = String::new();
    let title = format!(
        "{} — {}",
        t("Báo cáo tháng", "Monthly review"),
        lang.month(r.month)
    );
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="{}"><head><meta charset="utf-8"><title>{} — {}</title><style>{CSS}</style></head><body>"#,
        if lang == crate::Lang::Vi { "vi" } else { "en" },
        esc(&title),
        esc(&r.name)
    );

    // Page 1: summary.
    let _ = write!(
        h,
        r#"<section class="page"><h1>{}</h1><div class="sub">{}: <b>{}</b> ({}) · {} {} · {}: {}</div>"#,
        esc(&title),
        t("Đơn vị", "Hall"),
        esc(&r.name),
        esc(&r.site),
        t("so với", "against"),
        esc(&lang.month(r.month.prev())),
        t("Lập lúc", "Generated"),
        esc(&lang.datetime(r.tz, r.generated))
    );
    let _ = write!(
        h,
        r#"<div class="box"><div>{}</div><div class="big">{}</div><div class="note">{}</div></div>"#,
        t(
            "Chỉ số hài lòng (theo QĐ 766/QĐ-TTg)",
            "Satisfaction indicator (Decision 766/QĐ-TTg style)"
        ),
        opt(cur.satisfaction_index(), |v| lang.pct(v)),
        if cur
            .dossiers
            .as_ref()
            .and_then(|d| d.overdue_rate())
            .is_some()
        {
            t(
                "= 100% − tỷ lệ hồ sơ quá hạn − tỷ lệ đánh giá \"Không hài lòng\"",
                "= 100% − overdue dossier rate − share of \"Không hài lòng\" ratings",
            )
        } else {
            t(
                "= tỷ lệ đánh giá Rất hài lòng và Hài lòng",
                "= share of Rất hài lòng and Hài lòng ratings",
            )
        }
    );
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("Tổng hợp", "Summary"),
        t("Chỉ tiêu", "Indicator"),
        esc(&lang.month(r.month)),
        esc(&lang.month(r.month.prev())),
        t("Thay đổi", "Change")
    );
    for k in kpi_rows(cur, prev, lang, r.target_min) {
        let unit = match k.unit {
            crate::kpis::Unit::Minutes => t(" (phút)", " (min)"),
            _ => "",
        };
        let _ = write!(
            h,
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&k.label),
            unit,
            k.show(lang, k.current),
            k.show(lang, k.previous),
            k.change(lang)
        );
    }
    h.push_str("</table>");
    let _ = write!(
        h,
        r#"<div class="note">{}</div></section>"#,
        t(
            "Lượt khách đến: lượt vào khu chờ do camera đếm. Lượt phục vụ: lượt công dân rời quầy sau khi được phục vụ. Thời gian chờ (camera): từ khi vào khu chờ đến khi rời khu chờ. Thời gian chờ (phiếu): từ khi lấy số đến khi được gọi. Hiệu suất quầy và thời gian hoạt động camera tính trong giờ làm việc.",
            "Visitors: entries into the waiting area counted by the cameras. Served: citizens leaving a counter after service. Wait (camera): from entering to leaving the waiting area. Wait (tickets): from ticket issue to call. Counter utilisation and camera uptime count working hours only."
        )
    );

    // Page 2: waits and queues.
    let _ = write!(
        h,
        r#"<section class="page"><h1>{}</h1>"#,
        t("Lượt khách và thời gian chờ", "Visitors and waits")
    );
    let days: Vec<String> = cur.daily.iter().map(|d| d.day[8..10].to_string()).collect();
    let _ = write!(
        h,
        "<h2>{}</h2>",
        t(
            "Lượt khách đến và lượt phục vụ theo ngày",
            "Visitors and served per day"
        )
    );
    h.push_str(&bars(
        lang,
        &days,
        &[
            BarSeries {
                name: t("Lượt khách đến", "Visitors"),
                color: "#5b8fc7",
                values: cur.daily.iter().map(|d| Some(d.visitors as f64)).collect(),
            },
            BarSeries {
                name: t("Lượt phục vụ", "Served"),
                color: "#f0a030",
                values: cur.daily.iter().map(|d| Some(d.served as f64)).collect(),
            },
        ],
        700.0,
        190.0,
        0,
    ));
    let _ = write!(
        h,
        "<h2>{}</h2>",
        t(
            "Thời gian chờ trung bình theo ngày (phút)",
            "Mean wait per day (min)"
        )
    );
    let mut wait_series = vec![BarSeries {
        name: t("Camera", "Camera"),
        color: "#5b8fc7",
        values: cur
            .daily
            .iter()
            .map(|d| d.camera_wait_s.map(|s| s / 60.0))
            .collect(),
    }];
    if cur.daily.iter().any(|d| d.ticket_wait_s.is_some()) {
        wait_series.push(BarSeries {
            name: t("Phiếu", "Tickets"),
            color: "#9b59b6",
            values: cur
                .daily
                .iter()
                .map(|d| d.ticket_wait_s.map(|s| s / 60.0))
                .collect(),
        });
    }
    h.push_str(&bars(lang, &days, &wait_series, 700.0, 170.0, 1));
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th></tr>",
        t("Hàng chờ dài nhất", "Longest queues"),
        t("Thời điểm", "When"),
        t("Số người đang chờ", "People waiting")
    );
    if cur.longest_queues.is_empty() {
        let _ = write!(h, "<tr><td colspan=2>—</td></tr>");
    }
    for p in &cur.longest_queues {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(&lang.datetime(r.tz, p.t)),
            lang.num(p.people, 1)
        );
    }
    h.push_str("</table>");
    let _ = write!(
        h,
        "<h2>{}</h2>",
        t(
            "Số người chờ trung bình theo thứ và giờ",
            "Mean queue by weekday and hour"
        )
    );
    let (lo, hi) = cur
        .heatmap
        .iter()
        .fold((7u32, 17u32), |(lo, hi), c| (lo.min(c.1), hi.max(c.1)));
    h.push_str(&heatmap(lang, &cur.heatmap, lo..=hi.min(lo + 15)));
    h.push_str("</section>");

    // Page 3: counters, cameras, alerts.
    let _ = write!(
        h,
        r#"<section class="page"><h1>{}</h1>"#,
        t("Quầy, camera và cảnh báo", "Counters, cameras and alerts")
    );
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t(
            "Thời gian phục vụ và hiệu suất theo quầy",
            "Service time and utilisation per counter"
        ),
        t("Quầy", "Counter"),
        t("Lượt phục vụ", "Served"),
        t("Thời gian phục vụ TB (phút)", "Mean service (min)"),
        t("Hiệu suất", "Utilisation"),
        t("Phiếu hoàn thành", "Tickets finished"),
        t("Lượt đánh giá", "Ratings"),
        t("Tỷ lệ hài lòng", "Satisfied")
    );
    for c in &cur.counters {
        let _ = write!(
            h,
            "<tr><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            t("Quầy", "Counter"),
            c.counter,
            lang.count(c.served),
            opt(c.mean_service_s, |v| lang.minutes(v)),
            opt(c.utilisation, |v| lang.pct(v)),
            lang.count(c.tickets_finished),
            lang.count(c.ratings),
            opt(c.satisfied_share, |v| lang.pct(v))
        );
    }
    h.push_str("</table>");
    let labels: Vec<String> = cur
        .counters
        .iter()
        .map(|c| format!("{} {}", t("Quầy", "C."), c.counter))
        .collect();
    h.push_str(&bars(
        lang,
        &labels,
        &[BarSeries {
            name: t("Hiệu suất (%)", "Utilisation (%)"),
            color: "#2e8b57",
            values: cur
                .counters
                .iter()
                .map(|c| c.utilisation.map(|u| u * 100.0))
                .collect(),
        }],
        700.0,
        160.0,
        0,
    ));
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t(
            "Thời gian hoạt động camera (trong giờ làm việc)",
            "Camera uptime (working hours)"
        ),
        t("Camera", "Camera"),
        t("Giờ làm việc (giờ)", "Open (h)"),
        t("Mất tín hiệu (giờ)", "Down (h)"),
        t("Hoạt động", "Uptime")
    );
    for c in &cur.cameras {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.camera),
            lang.num(c.open_s / 3600.0, 1),
            lang.num(c.down_s / 3600.0, 1),
            opt(c.uptime, |v| lang.pct(v))
        );
    }
    h.push_str("</table>");
    let a = &cur.alerts;
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th></tr>\
         <tr><td>{}</td><td>{}</td></tr><tr><td>{}</td><td>{}</td></tr><tr><td>{}</td><td>{}</td></tr>\
         <tr><td>{}</td><td>{}</td></tr><tr><td>{}</td><td>{}</td></tr><tr><td>{}</td><td>{}</td></tr></table>",
        t("Cảnh báo", "Alerts"),
        t("Chỉ tiêu", "Indicator"),
        esc(&lang.month(r.month)),
        t("Số cảnh báo", "Alerts"),
        lang.count(a.total),
        t("Nghiêm trọng", "Critical"),
        lang.count(cur.alerts_of(Severity::Critical)),
        t("Cảnh báo", "Warning"),
        lang.count(cur.alerts_of(Severity::Warning)),
        t("Đã xác nhận", "Acknowledged"),
        lang.count(a.acknowledged),
        t(
            "Thời gian xác nhận TB (phút)",
            "Mean time to acknowledge (min)"
        ),
        opt(a.mean_ack_s, |v| lang.minutes(v)),
        t(
            "Thời gian xác nhận trung vị (phút)",
            "Median time to acknowledge (min)"
        ),
        opt(a.median_ack_s, |v| lang.minutes(v))
    );
    if !a.by_kind.is_empty() {
        let kinds: Vec<String> = a
            .by_kind
            .iter()
            .map(|k| {
                format!(
                    "{} / {} ({})",
                    k.kind.as_str(),
                    k.severity.as_str(),
                    k.count
                )
            })
            .collect();
        let _ = write!(
            h,
            r#"<div class="note">{}: {}</div>"#,
            t("Theo loại", "By kind"),
            kinds.join(", ")
        );
    }
    h.push_str("</section>");

    // Page 4: satisfaction and dossiers.
    let _ = write!(
        h,
        r#"<section class="page"><h1>{}</h1>"#,
        t("Mức độ hài lòng và hồ sơ", "Satisfaction and dossiers")
    );
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>%</th><th>{}</th><th>%</th></tr>",
        t("Mức độ hài lòng", "Satisfaction"),
        t("Mức", "Level"),
        esc(&lang.month(r.month)),
        esc(&lang.month(r.month.prev()))
    );
    let share = |n: u64, total: u64| {
        if total > 0 {
            lang.pct(n as f64 / total as f64)
        } else {
            "—".into()
        }
    };
    for (name, c, p) in [
        (
            "Rất hài lòng",
            cur.ratings.very_satisfied,
            prev.ratings.very_satisfied,
        ),
        ("Hài lòng", cur.ratings.satisfied, prev.ratings.satisfied),
        (
            "Không hài lòng",
            cur.ratings.dissatisfied,
            prev.ratings.dissatisfied,
        ),
    ] {
        let _ = write!(
            h,
            "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            lang.count(c),
            share(c, cur.ratings.total()),
            lang.count(p),
            share(p, prev.ratings.total())
        );
    }
    let _ = write!(
        h,
        "<tr><th>{}</th><th>{}</th><th></th><th>{}</th><th></th></tr></table>",
        t("Tổng", "Total"),
        lang.count(cur.ratings.total()),
        lang.count(prev.ratings.total())
    );
    h.push_str(&bars(
        lang,
        &[
            "Rất hài lòng".to_string(),
            "Hài lòng".to_string(),
            "Không hài lòng".to_string(),
        ],
        &[
            BarSeries {
                name: &lang.month(r.month),
                color: "#5b8fc7",
                values: vec![
                    Some(cur.ratings.very_satisfied as f64),
                    Some(cur.ratings.satisfied as f64),
                    Some(cur.ratings.dissatisfied as f64),
                ],
            },
            BarSeries {
                name: &lang.month(r.month.prev()),
                color: "#c0c0c0",
                values: vec![
                    Some(prev.ratings.very_satisfied as f64),
                    Some(prev.ratings.satisfied as f64),
                    Some(prev.ratings.dissatisfied as f64),
                ],
            },
        ],
        500.0,
        170.0,
        0,
    ));
    let _ = write!(
        h,
        "<h2>{}</h2>",
        t("Hồ sơ thủ tục hành chính", "Administrative dossiers")
    );
    match (&cur.dossiers, &prev.dossiers) {
        (None, None) => {
            let _ = write!(
                h,
                r#"<p class="note">{}</p>"#,
                t(
                    "Chưa nhập dữ liệu hồ sơ cho tháng này.",
                    "No dossier data imported for this month."
                )
            );
        }
        (c, p) => {
            let _ = write!(
                h,
                "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
                t("Chỉ tiêu", "Indicator"),
                esc(&lang.month(r.month)),
                esc(&lang.month(r.month.prev()))
            );
            let cnt = |d: &Option<crate::DossierFigures>, f: fn(&crate::DossierFigures) -> u64| {
                d.as_ref().map_or("—".to_string(), |d| lang.count(f(d)))
            };
            type Row<'a> = (&'a str, fn(&crate::DossierFigures) -> u64);
            let rows: [Row; 9] = [
                (t("Tiếp nhận", "Received"), |d| d.received),
                (t("Trực tuyến", "Online"), |d| d.online),
                (t("Trực tiếp", "In person"), |d| d.in_person),
                (t("Giải quyết trước hạn", "Resolved early"), |d| {
                    d.resolved_early
                }),
                (
                    t("Giải quyết đúng hạn (ngày hẹn)", "Resolved on the due date"),
                    |d| d.resolved_on_time,
                ),
                (t("Giải quyết quá hạn", "Resolved late"), |d| {
                    d.resolved_late
                }),
                (
                    t("Giải quyết (không có hạn)", "Resolved (no due date)"),
                    |d| d.resolved_no_due,
                ),
                (
                    t("Đang giải quyết cuối tháng", "In progress at month end"),
                    |d| d.in_progress,
                ),
                (
                    t("— trong đó đã quá hạn", "— of which overdue"),
                    |d| d.in_progress_overdue,
                ),
            ];
            for (label, f) in rows {
                let _ = write!(
                    h,
                    "<tr><td>{label}</td><td>{}</td><td>{}</td></tr>",
                    cnt(c, f),
                    cnt(p, f)
                );
            }
            let rate = |d: &Option<crate::DossierFigures>,
                        f: fn(&crate::DossierFigures) -> Option<f64>| {
                opt(d.as_ref().and_then(f), |v| lang.pct(v))
            };
            let _ = write!(
                h,
                "<tr><th>{}</th><th>{}</th><th>{}</th></tr><tr><th>{}</th><th>{}</th><th>{}</th></tr></table>",
                t("Tỷ lệ đúng hạn", "On time (Đúng hạn)"),
                rate(c, crate::DossierFigures::on_time_rate),
                rate(p, crate::DossierFigures::on_time_rate),
                t("Tỷ lệ quá hạn", "Overdue (Quá hạn)"),
                rate(c, crate::DossierFigures::overdue_rate),
                rate(p, crate::DossierFigures::overdue_rate)
            );
        }
    }
    let _ = write!(
        h,
        r#"<p class="note">{}</p><div class="foot">hallwatch · {} · {}</div></section></body></html>"#,
        t(
            "Đúng hạn: trả kết quả trước hoặc trong ngày hẹn trả; quá hạn: sau ngày hẹn trả. Tỷ lệ tính trên hồ sơ đã giải quyết trong tháng có ngày hẹn trả. Không có nhận dạng khuôn mặt; camera chỉ đếm người.",
            "On time: resolved before or on the due date; overdue: after it. Rates count dossiers resolved in the month that have a due date. No face recognition; cameras only count people."
        ),
        esc(&r.site),
        r.month
    );
    h
}
