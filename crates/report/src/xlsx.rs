//! The review's tables as an XLSX workbook (rust_xlsxwriter): numbers stay numbers — counts,
//! minutes, and shares as fractions with a percent format — so reviewers can compute on them.

use crate::HallReport;
use crate::kpis::{Unit, kpi_rows};
use hallwatch_config::alerts::Severity;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use std::path::Path;

struct Formats {
    head: Format,
    minutes: Format,
    pct: Format,
    int: Format,
    dec: Format,
}

fn header(ws: &mut Worksheet, f: &Formats, cols: &[&str]) -> Result<(), XlsxError> {
    for (i, c) in cols.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *c, &f.head)?;
        ws.set_column_width(i as u16, if i == 0 { 34 } else { 16 })?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

fn put(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    v: Option<f64>,
    fmt: &Format,
) -> Result<(), XlsxError> {
    match v {
        Some(v) if v.is_finite() => {
            ws.write_number_with_format(row, col, v, fmt)?;
        }
        _ => {}
    }
    Ok(())
}

/// Writes the workbook of one hall's review to `path`.
pub fn write(r: &HallReport, path: &Path) -> Result<(), XlsxError> {
    let lang = r.lang;
    let t = |vi, en| lang.t(vi, en);
    let f = Formats {
        head: Format::new().set_bold().set_background_color("#E8F0F8"),
        minutes: Format::new().set_num_format("0.0"),
        pct: Format::new().set_num_format("0.0%"),
        int: Format::new().set_num_format("0"),
        dec: Format::new().set_num_format("0.0"),
    };
    let cur_name = lang.month(r.month);
    let prev_name = lang.month(r.month.prev());
    let mut wb = Workbook::new();

    // Summary.
    let ws = wb.add_worksheet().set_name(t("Tổng hợp", "Summary"))?;
    header(
        ws,
        &f,
        &[
            t("Mã", "Key"),
            t("Chỉ tiêu", "Indicator"),
            t("Đơn vị", "Unit"),
            &cur_name,
            &prev_name,
            t("Thay đổi", "Change"),
        ],
    )?;
    ws.set_column_width(0, 22)?;
    ws.set_column_width(1, 40)?;
    for (i, k) in kpi_rows(&r.current, &r.previous, lang, r.target_min)
        .iter()
        .enumerate()
    {
        let row = i as u32 + 1;
        let (unit, fmt, scale) = match k.unit {
            Unit::Count => (t("lượt", "count"), &f.int, 1.0),
            Unit::Minutes => (t("phút", "min"), &f.minutes, 1.0 / 60.0),
            Unit::Share => ("%", &f.pct, 1.0),
        };
        ws.write_string(row, 0, k.key)?;
        ws.write_string(row, 1, &k.label)?;
        ws.write_string(row, 2, unit)?;
        put(ws, row, 3, k.current.map(|v| v * scale), fmt)?;
        put(ws, row, 4, k.previous.map(|v| v * scale), fmt)?;
        put(
            ws,
            row,
            5,
            k.current.zip(k.previous).map(|(c, p)| (c - p) * scale),
            fmt,
        )?;
    }

    // Per day.
    let ws = wb.add_worksheet().set_name(t("Theo ngày", "Daily"))?;
    header(
        ws,
        &f,
        &[
            t("Ngày", "Day"),
            t("Lượt khách đến", "Visitors"),
            t("Lượt phục vụ", "Served"),
            t("Chờ TB camera (phút)", "Mean wait camera (min)"),
            t("Chờ TB phiếu (phút)", "Mean wait tickets (min)"),
        ],
    )?;
    for (i, d) in r.current.daily.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &d.day)?;
        ws.write_number(row, 1, d.visitors as f64)?;
        ws.write_number(row, 2, d.served as f64)?;
        put(ws, row, 3, d.camera_wait_s.map(|s| s / 60.0), &f.minutes)?;
        put(ws, row, 4, d.ticket_wait_s.map(|s| s / 60.0), &f.minutes)?;
    }

    // Counters.
    let ws = wb.add_worksheet().set_name(t("Quầy", "Counters"))?;
    header(
        ws,
        &f,
        &[
            t("Quầy", "Counter"),
            t("Lượt phục vụ", "Served"),
            t("Phục vụ TB (phút)", "Mean service (min)"),
            t("Phục vụ trung vị (phút)", "Median service (min)"),
            t("Có khách (giờ)", "Busy (h)"),
            t("Giờ làm việc (giờ)", "Open (h)"),
            t("Hiệu suất", "Utilisation"),
            t("Phiếu hoàn thành", "Tickets finished"),
            t("Phục vụ TB theo phiếu (phút)", "Mean service tickets (min)"),
            t("Lượt đánh giá", "Ratings"),
            t("Tỷ lệ hài lòng", "Satisfied"),
        ],
    )?;
    for (i, c) in r.current.counters.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_number(row, 0, c.counter)?;
        ws.write_number(row, 1, c.served as f64)?;
        put(ws, row, 2, c.mean_service_s.map(|s| s / 60.0), &f.minutes)?;
        put(ws, row, 3, c.p50_service_s.map(|s| s / 60.0), &f.minutes)?;
        put(ws, row, 4, Some(c.busy_s / 3600.0), &f.dec)?;
        put(ws, row, 5, Some(c.open_s / 3600.0), &f.dec)?;
        put(ws, row, 6, c.utilisation, &f.pct)?;
        ws.write_number(row, 7, c.tickets_finished as f64)?;
        put(
            ws,
            row,
            8,
            c.ticket_mean_service_s.map(|s| s / 60.0),
            &f.minutes,
        )?;
        ws.write_number(row, 9, c.ratings as f64)?;
        put(ws, row, 10, c.satisfied_share, &f.pct)?;
    }

    // Cameras.
    let ws = wb.add_worksheet().set_name("Camera")?;
    header(
        ws,
        &f,
        &[
            "Camera",
            t("Giờ làm việc (giờ)", "Open (h)"),
            t("Mất tín hiệu (giờ)", "Down (h)"),
            t("Hoạt động", "Uptime"),
        ],
    )?;
    for (i, c) in r.current.cameras.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &c.camera)?;
        put(ws, row, 1, Some(c.open_s / 3600.0), &f.dec)?;
        put(ws, row, 2, Some(c.down_s / 3600.0), &f.dec)?;
        put(ws, row, 3, c.uptime, &f.pct)?;
    }

    // Longest queues and the heatmap.
    let ws = wb.add_worksheet().set_name(t("Hàng chờ", "Queues"))?;
    header(
        ws,
        &f,
        &[
            t("Thời điểm", "When"),
            t("Số người đang chờ", "People waiting"),
        ],
    )?;
    for (i, p) in r.current.longest_queues.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, lang.datetime(r.tz, p.t))?;
        put(ws, row, 1, Some(p.people), &f.dec)?;
    }
    let base = r.current.longest_queues.len() as u32 + 3;
    ws.write_string_with_format(
        base,
        0,
        t(
            "Số người chờ TB theo thứ (hàng) và giờ (cột)",
            "Mean queue by weekday (rows) and hour (columns)",
        ),
        &f.head,
    )?;
    for h in 0..24u16 {
        ws.write_number_with_format(base + 1, h + 1, f64::from(h), &f.head)?;
    }
    for w in 1..=7u32 {
        ws.write_string(base + 1 + w, 0, lang.weekday(w))?;
    }
    for &(w, h, v) in &r.current.heatmap {
        put(ws, base + 1 + w, h as u16 + 1, Some(v), &f.dec)?;
    }

    // Satisfaction.
    let ws = wb.add_worksheet().set_name(t("Hài lòng", "Satisfaction"))?;
    header(
        ws,
        &f,
        &[t("Mức", "Level"), &cur_name, "%", &prev_name, "%"],
    )?;
    let (c, p) = (&r.current.ratings, &r.previous.ratings);
    let share = |n: u64, total: u64| (total > 0).then(|| n as f64 / total as f64);
    for (i, (name, a, b)) in [
        ("Rất hài lòng", c.very_satisfied, p.very_satisfied),
        ("Hài lòng", c.satisfied, p.satisfied),
        ("Không hài lòng", c.dissatisfied, p.dissatisfied),
    ]
    .into_iter()
    .enumerate()
    {
        let row = i as u32 + 1;
        ws.write_string(row, 0, name)?;
        ws.write_number(row, 1, a as f64)?;
        put(ws, row, 2, share(a, c.total()), &f.pct)?;
        ws.write_number(row, 3, b as f64)?;
        put(ws, row, 4, share(b, p.total()), &f.pct)?;
    }
    ws.write_string_with_format(4, 0, t("Tổng", "Total"), &f.head)?;
    ws.write_number(4, 1, c.total() as f64)?;
    ws.write_number(4, 3, p.total() as f64)?;
    ws.write_string(
        6,
        0,
        t(
            "Chỉ số hài lòng (QĐ 766)",
            "Satisfaction indicator (Decision 766)",
        ),
    )?;
    put(ws, 6, 1, r.current.satisfaction_index(), &f.pct)?;
    put(ws, 6, 3, r.previous.satisfaction_index(), &f.pct)?;

    // Dossiers.
    let ws = wb.add_worksheet().set_name(t("Hồ sơ", "Dossiers"))?;
    header(ws, &f, &[t("Chỉ tiêu", "Indicator"), &cur_name, &prev_name])?;
    type Row<'a> = (&'a str, fn(&crate::DossierFigures) -> f64);
    let rows: [Row; 9] = [
        (t("Tiếp nhận", "Received"), |d| d.received as f64),
        (t("Trực tuyến", "Online"), |d| d.online as f64),
        (t("Trực tiếp", "In person"), |d| d.in_person as f64),
        (t("Giải quyết trước hạn", "Resolved early"), |d| {
            d.resolved_early as f64
        }),
        (
            t("Giải quyết đúng ngày hẹn", "Resolved on the due date"),
            |d| d.resolved_on_time as f64,
        ),
        (t("Giải quyết quá hạn", "Resolved late"), |d| {
            d.resolved_late as f64
        }),
        (
            t("Giải quyết (không có hạn)", "Resolved (no due date)"),
            |d| d.resolved_no_due as f64,
        ),
        (
            t("Đang giải quyết cuối tháng", "In progress at month end"),
            |d| d.in_progress as f64,
        ),
        (
            t("Đang giải quyết đã quá hạn", "In progress, overdue"),
            |d| d.in_progress_overdue as f64,
        ),
    ];
    for (i, (label, get)) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, *label)?;
        put(ws, row, 1, r.current.dossiers.as_ref().map(get), &f.int)?;
        put(ws, row, 2, r.previous.dossiers.as_ref().map(get), &f.int)?;
    }
    ws.write_string(10, 0, t("Tỷ lệ đúng hạn", "On time (Đúng hạn)"))?;
    put(
        ws,
        10,
        1,
        r.current.dossiers.as_ref().and_then(|d| d.on_time_rate()),
        &f.pct,
    )?;
    put(
        ws,
        10,
        2,
        r.previous.dossiers.as_ref().and_then(|d| d.on_time_rate()),
        &f.pct,
    )?;
    ws.write_string(11, 0, t("Tỷ lệ quá hạn", "Overdue (Quá hạn)"))?;
    put(
        ws,
        11,
        1,
        r.current.dossiers.as_ref().and_then(|d| d.overdue_rate()),
        &f.pct,
    )?;
    put(
        ws,
        11,
        2,
        r.previous.dossiers.as_ref().and_then(|d| d.overdue_rate()),
        &f.pct,
    )?;

    // Alerts.
    let ws = wb.add_worksheet().set_name(t("Cảnh báo", "Alerts"))?;
    header(ws, &f, &[t("Chỉ tiêu", "Indicator"), &cur_name, &prev_name])?;
    let (a, b) = (&r.current, &r.previous);
    let alert_rows: [(&str, Option<f64>, Option<f64>, &Format); 6] = [
        (
            t("Số cảnh báo", "Alerts"),
            Some(a.alerts.total as f64),
            Some(b.alerts.total as f64),
            &f.int,
        ),
        (
            t("Nghiêm trọng", "Critical"),
            Some(a.alerts_of(Severity::Critical) as f64),
            Some(b.alerts_of(Severity::Critical) as f64),
            &f.int,
        ),
        (
            t("Cảnh báo", "Warning"),
            Some(a.alerts_of(Severity::Warning) as f64),
            Some(b.alerts_of(Severity::Warning) as f64),
            &f.int,
        ),
        (
            t("Đã xác nhận", "Acknowledged"),
            Some(a.alerts.acknowledged as f64),
            Some(b.alerts.acknowledged as f64),
            &f.int,
        ),
        (
            t("Xác nhận TB (phút)", "Mean time to acknowledge (min)"),
            a.alerts.mean_ack_s.map(|s| s / 60.0),
            b.alerts.mean_ack_s.map(|s| s / 60.0),
            &f.minutes,
        ),
        (
            t(
                "Xác nhận trung vị (phút)",
                "Median time to acknowledge (min)",
            ),
            a.alerts.median_ack_s.map(|s| s / 60.0),
            b.alerts.median_ack_s.map(|s| s / 60.0),
            &f.minutes,
        ),
    ];
    for (i, (label, x, y, fmt)) in alert_rows.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, *label)?;
        put(ws, row, 1, *x, fmt)?;
        put(ws, row, 2, *y, fmt)?;
    }

    wb.save(path)
}
