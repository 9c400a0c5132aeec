//! The summary rows of a review — one KPI each, this month against the previous — shared by
//! the HTML/PDF summary and the XLSX `Tổng hợp` sheet.

use crate::figures::HallMonth;
use crate::format::Lang;

/// How a KPI's value reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A count.
    Count,
    /// Seconds, shown as minutes with one decimal.
    Minutes,
    /// A share 0..=1, shown as a percentage.
    Share,
}

/// One summary row.
#[derive(Clone, Debug, PartialEq)]
pub struct KpiRow {
    /// Stable machine name (`visitors`, `wait_mean_s`, ...): the XLSX's first column.
    pub key: &'static str,
    /// The label in the report's language.
    pub label: String,
    /// How to read the values.
    pub unit: Unit,
    /// This month (seconds for [`Unit::Minutes`], 0..=1 for [`Unit::Share`]).
    pub current: Option<f64>,
    /// The previous month.
    pub previous: Option<f64>,
}

impl KpiRow {
    /// The value as the report prints it.
    pub fn show(&self, lang: Lang, v: Option<f64>) -> String {
        match v {
            None => "—".to_string(),
            Some(v) => match self.unit {
                Unit::Count => lang.num(v, 0),
                Unit::Minutes => lang.minutes(v),
                Unit::Share => lang.pct(v),
            },
        }
    }

    /// Change against the previous month, as printed (`+3`, `-1,5`, `+2,0 điểm %`).
    pub fn change(&self, lang: Lang) -> String {
        match (self.current, self.previous) {
            (Some(c), Some(p)) => {
                let d = c - p;
                let sign = if d > 0.0 { "+" } else { "" };
                match self.unit {
                    Unit::Count => format!("{sign}{}", lang.num(d, 0)),
                    Unit::Minutes => format!("{sign}{}", lang.minutes(d)),
                    Unit::Share => format!(
                        "{sign}{} {}",
                        lang.num(d * 100.0, 1),
                        lang.t("điểm %", "pts")
                    ),
                }
            }
            _ => "—".to_string(),
        }
    }
}

fn c(v: u64) -> Option<f64> {
    Some(v as f64)
}

/// The summary rows of `cur` against `prev`; ticket rows only when either month has tickets,
/// dossier rows only when either has dossiers.
pub fn kpi_rows(cur: &HallMonth, prev: &HallMonth, lang: Lang, target_min: f64) -> Vec<KpiRow> {
    let l = |vi: &'static str, en: &'static str| lang.t(vi, en).to_string();
    let mut rows = Vec::new();
    let mut push = |key, label: String, unit, f: &dyn Fn(&HallMonth) -> Option<f64>| {
        rows.push(KpiRow {
            key,
            label,
            unit,
            current: f(cur),
            previous: f(prev),
        })
    };
    use Unit::*;
    push(
        "visitors",
        l("Lượt khách đến", "Visitors"),
        Count,
        &|m| c(m.visitors),
    );
    push("served", l("Lượt phục vụ", "Served"), Count, &|m| {
        c(m.served)
    });
    push(
        "abandoned",
        l("Bỏ về khi chưa được phục vụ", "Left unserved"),
        Count,
        &|m| c(m.abandoned),
    );
    push(
        "wait_mean_s",
        l("Thời gian chờ trung bình (camera)", "Mean wait (camera)"),
        Minutes,
        &|m| m.waits.camera.map(|s| s.mean_s),
    );
    push(
        "wait_p50_s",
        l("Thời gian chờ trung vị (P50)", "Median wait (P50)"),
        Minutes,
        &|m| m.waits.camera.map(|s| s.p50_s),
    );
    push(
        "wait_p90_s",
        l("Thời gian chờ P90", "Wait P90"),
        Minutes,
        &|m| m.waits.camera.map(|s| s.p90_s),
    );
    push(
        "wait_max_s",
        l("Thời gian chờ dài nhất", "Longest wait"),
        Minutes,
        &|m| m.waits.camera.map(|s| s.max_s),
    );
    let within = match lang {
        Lang::Vi => format!("Tỷ lệ chờ không quá {} phút", lang.num(target_min, 0)),
        Lang::En => format!("Share of waits within {} min", lang.num(target_min, 0)),
    };
    push("wait_within_target", within, Share, &|m| {
        m.waits
            .camera
            .map(|s| s.within_target)
            .filter(|v| v.is_finite())
    });
    if cur.tickets.issued + prev.tickets.issued > 0 {
        push(
            "tickets_issued",
            l("Số phiếu đã cấp", "Tickets issued"),
            Count,
            &|m| c(m.tickets.issued),
        );
        push(
            "tickets_no_show",
            l("Phiếu vắng mặt khi gọi", "No-shows"),
            Count,
            &|m| c(m.tickets.no_show),
        );
        push(
            "ticket_wait_mean_s",
            l("Thời gian chờ trung bình (phiếu)", "Mean wait (tickets)"),
            Minutes,
            &|m| m.waits.ticket.map(|s| s.mean_s),
        );
        push(
            "wait_diff_s",
            l(
                "Chênh lệch chờ: phiếu − camera",
                "Wait difference: tickets − camera",
            ),
            Minutes,
            &|m| m.waits.mean_diff_s,
        );
    }
    push(
        "service_mean_s",
        l("Thời gian phục vụ trung bình", "Mean service time"),
        Minutes,
        &|m| m.service.map(|s| s.mean_s),
    );
    push(
        "utilisation",
        l("Hiệu suất sử dụng quầy", "Counter utilisation"),
        Share,
        &|m| m.utilisation,
    );
    push(
        "camera_uptime",
        l("Thời gian hoạt động camera", "Camera uptime"),
        Share,
        &|m| m.uptime,
    );
    push("alerts", l("Số cảnh báo", "Alerts"), Count, &|m| {
        c(m.alerts.total)
    });
    push(
        "alert_ack_mean_s",
        l("Thời gian xác nhận cảnh báo TB", "Mean time to acknowledge"),
        Minutes,
        &|m| m.alerts.mean_ack_s,
    );
    push(
        "ratings",
        l("Lượt đánh giá", "Ratings"),
        Count,
        &|m| c(m.ratings.total()),
    );
    push(
        "satisfied_share",
        l("Tỷ lệ hài lòng", "Share satisfied"),
        Share,
        &|m| m.ratings.satisfied_share(),
    );
    push(
        "satisfaction_index",
        l(
            "Chỉ số hài lòng (QĐ 766)",
            "Satisfaction indicator (Decision 766)",
        ),
        Share,
        &|m| m.satisfaction_index(),
    );
    if cur.dossiers.is_some() || prev.dossiers.is_some() {
        push(
            "dossiers_received",
            l("Hồ sơ tiếp nhận", "Dossiers received"),
            Count,
            &|m| m.dossiers.as_ref().map(|d| d.received as f64),
        );
        push(
            "dossiers_on_time",
            l("Tỷ lệ giải quyết đúng hạn", "Resolved on time (Đúng hạn)"),
            Share,
            &|m| m.dossiers.as_ref().and_then(|d| d.on_time_rate()),
        );
        push(
            "dossiers_overdue",
            l("Tỷ lệ quá hạn", "Overdue (Quá hạn)"),
            Share,
            &|m| m.dossiers.as_ref().and_then(|d| d.overdue_rate()),
        );
    }
    rows
}
