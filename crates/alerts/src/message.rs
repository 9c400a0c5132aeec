//! Alert messages: what, where, since when, the value now, and a link to the dashboard, in
//! Vietnamese (default) or English; and the JSON payload sent to webhooks and MQTT.

use crate::engine::{AlertEvent, EventKind, ResolveReason, Target};
use chrono::TimeZone;
use chrono_tz::Tz;
use hallwatch_config::alerts::{AlertKind, Language, Severity};
use hallwatch_core::live::CounterActivity;
use hallwatch_store::{AlertRecord, DeliveryEvent};
use serde::{Deserialize, Serialize};

/// What every message of a hall shares.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageContext {
    /// `[site].id`.
    pub site: String,
    /// `[site].name` (the id when empty).
    pub site_name: String,
    /// The hall's time zone, for local times.
    pub tz: Tz,
    /// The dashboard's address as people reach it, without a trailing '/'.
    pub base_url: String,
}

impl MessageContext {
    /// The dashboard link of alert `id`: `<base_url>/#/alerts/<id>`.
    pub fn link(&self, id: i64) -> String {
        format!("{}/#/alerts/{id}", self.base_url.trim_end_matches('/'))
    }

    fn local(&self, t: f64) -> Option<chrono::DateTime<Tz>> {
        self.tz.timestamp_opt(t.floor() as i64, 0).single()
    }
}

/// One alert event, as the notifier hands it to channels: the engine's event, or a stored
/// alert when a notification left pending by an earlier run is resumed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// The alert's row id in the store.
    pub alert_id: i64,
    /// Triggered, renotify or resolved.
    pub event: DeliveryEvent,
    /// Why it ended (resolved only).
    pub reason: Option<ResolveReason>,
    /// Rule id.
    pub rule: String,
    /// What the rule watches.
    pub kind: AlertKind,
    /// How serious.
    pub severity: Severity,
    /// What it is about.
    pub target: Target,
    /// Display name of the target.
    pub target_name: String,
    /// When the condition began.
    pub since: f64,
    /// When the alert was raised.
    pub raised: f64,
    /// Time of the event.
    pub t: f64,
    /// The figure at the event (see [`AlertEvent::value`]).
    pub value: f64,
    /// The worst figure while active.
    pub peak: f64,
    /// The trigger level.
    pub level: Option<f64>,
    /// counter_unattended: the counter's activity when raised.
    pub activity: Option<CounterActivity>,
    /// satisfaction: ratings in the window.
    pub ratings: Option<u32>,
}

impl Notice {
    /// The notice of an engine event about stored alert `alert_id`.
    pub fn from_event(ev: &AlertEvent, alert_id: i64) -> Self {
        Self {
            alert_id,
            event: match ev.event {
                EventKind::Triggered => DeliveryEvent::Triggered,
                EventKind::Renotify => DeliveryEvent::Renotify,
                EventKind::Resolved => DeliveryEvent::Resolved,
            },
            reason: ev.reason,
            rule: ev.rule.clone(),
            kind: ev.kind,
            severity: ev.severity,
            target: ev.target.clone(),
            target_name: ev.target_name.clone(),
            since: ev.since,
            raised: ev.raised,
            t: ev.t,
            value: ev.value,
            peak: ev.peak,
            level: ev.level,
            activity: ev.activity,
            ratings: ev.ratings,
        }
    }

    /// The notice of `event` rebuilt from a stored alert (the condition's start is not
    /// stored: `since` is the raise time). `target_name` and `level` come from the caller's
    /// config.
    pub fn from_record(
        rec: &AlertRecord,
        event: DeliveryEvent,
        target_name: String,
        level: Option<f64>,
    ) -> Self {
        let value = rec.value.unwrap_or(0.0);
        Self {
            alert_id: rec.id,
            event,
            reason: (event == DeliveryEvent::Resolved).then_some(ResolveReason::Cleared),
            rule: rec.rule.clone(),
            kind: rec.kind,
            severity: rec.severity,
            target: Target {
                zone: rec.zone.clone(),
                camera: rec.camera.clone(),
                counter: rec.counter,
            },
            target_name,
            since: rec.triggered,
            raised: rec.triggered,
            t: rec.resolved.unwrap_or(rec.triggered),
            value,
            peak: rec.peak.unwrap_or(value),
            level,
            activity: None,
            ratings: None,
        }
    }
}

/// A message in one language.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rendered {
    /// What happened, e.g. "Hàng chờ dài" or "Quầy 3 vắng cán bộ khi có người chờ".
    pub title: String,
    /// One line for a mail subject or a notification: state, title, where, hall.
    pub subject: String,
    /// The full text: what, where, since when, the value now, the link.
    pub text: String,
    /// The dashboard link of the alert.
    pub url: String,
}

/// The JSON body of a webhook and the payload of an MQTT alert message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// Payload format version.
    pub version: u32,
    /// `triggered`, `renotify` or `resolved`.
    pub event: DeliveryEvent,
    /// `cleared`, `closed` or `restart` for resolved events.
    pub reason: Option<ResolveReason>,
    /// The alert's id (dashboard `#/alerts/<id>`).
    pub alert_id: i64,
    /// `[site].id`.
    pub site: String,
    /// `[site].name`.
    pub site_name: String,
    /// Rule id.
    pub rule: String,
    /// What the rule watches.
    pub kind: AlertKind,
    /// How serious.
    pub severity: Severity,
    /// Zone id ('' when not about one).
    pub zone: String,
    /// Camera id ('' when not about one).
    pub camera: String,
    /// Counter number.
    pub counter: Option<u32>,
    /// Display name of what it is about.
    pub target_name: String,
    /// When the condition began, Unix seconds.
    pub since: f64,
    /// The same in local time, RFC 3339 with offset.
    pub since_local: String,
    /// When the alert was raised, Unix seconds.
    pub raised: f64,
    /// Time of this event, Unix seconds.
    pub t: f64,
    /// The figure now.
    pub value: f64,
    /// The worst figure while active.
    pub peak: f64,
    /// The trigger level.
    pub level: Option<f64>,
    /// Unit of value, peak and level: `people`, `minutes`, `seconds` or `share`.
    pub unit: String,
    /// `vi` or `en`: the language of the texts below.
    pub language: String,
    /// What happened.
    pub title: String,
    /// One-line summary.
    pub subject: String,
    /// Full text.
    pub text: String,
    /// Dashboard link.
    pub url: String,
}

fn unit(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::QueueLength | AlertKind::CounterUnattended => "people",
        AlertKind::PredictedWait => "minutes",
        AlertKind::CameraDown => "seconds",
        AlertKind::Satisfaction => "share",
        AlertKind::StoreFailing | AlertKind::UplinkFailing => "records",
    }
}

fn severity_label(s: Severity, lang: Language) -> &'static str {
    match (lang, s) {
        (Language::Vi, Severity::Info) => "Thông tin",
        (Language::Vi, Severity::Warning) => "Cảnh báo",
        (Language::Vi, Severity::Critical) => "Khẩn cấp",
        (Language::En, Severity::Info) => "Info",
        (Language::En, Severity::Warning) => "Warning",
        (Language::En, Severity::Critical) => "Critical",
    }
}

fn round(v: f64) -> String {
    format!("{:.0}", v.max(0.0))
}

fn percent(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

fn minutes(seconds: f64) -> String {
    format!("{:.0}", (seconds / 60.0).max(0.0))
}

/// What happened, in `lang`.
pub fn title(n: &Notice, lang: Language) -> String {
    let counter = n.target.counter.unwrap_or(0);
    match (lang, n.kind) {
        (Language::Vi, AlertKind::QueueLength) => "Hàng chờ dài".into(),
        (Language::En, AlertKind::QueueLength) => "Long queue".into(),
        (Language::Vi, AlertKind::PredictedWait) => "Thời gian chờ dự kiến quá lâu".into(),
        (Language::En, AlertKind::PredictedWait) => "Long expected wait".into(),
        (Language::Vi, AlertKind::CounterUnattended) => match n.activity {
            Some(CounterActivity::StaffAbsent) => {
                format!("Quầy {counter} vắng cán bộ khi có người chờ")
            }
            _ => format!("Quầy {counter} không phục vụ khi có người chờ"),
        },
        (Language::En, AlertKind::CounterUnattended) => match n.activity {
            Some(CounterActivity::StaffAbsent) => {
                format!("Counter {counter} unstaffed while people wait")
            }
            _ => format!("Counter {counter} not serving while people wait"),
        },
        (Language::Vi, AlertKind::CameraDown) => "Camera mất tín hiệu".into(),
        (Language::En, AlertKind::CameraDown) => "Camera down".into(),
        (Language::Vi, AlertKind::Satisfaction) => "Mức độ hài lòng thấp".into(),
        (Language::En, AlertKind::Satisfaction) => "Low satisfaction".into(),
        (Language::Vi, AlertKind::StoreFailing) => "Không ghi được dữ liệu".into(),
        (Language::En, AlertKind::StoreFailing) => "Event store refuses writes".into(),
        (Language::Vi, AlertKind::UplinkFailing) => {
            "Không gửi được số liệu về Trung tâm tỉnh".into()
        }
        (Language::En, AlertKind::UplinkFailing) => {
            "Figures not reaching the province centre".into()
        }
    }
}

/// Where, in `lang`: the zone, counter or camera name, or the whole hall.
fn place(n: &Notice, lang: Language) -> String {
    let t = &n.target;
    if t.zone.is_empty() && t.camera.is_empty() && t.counter.is_none() {
        return match lang {
            Language::Vi => "Toàn sảnh".into(),
            Language::En => "Whole hall".into(),
        };
    }
    match (lang, n.kind) {
        (Language::Vi, AlertKind::CameraDown) => format!("Camera {}", n.target_name),
        (Language::En, AlertKind::CameraDown) => format!("Camera {}", n.target_name),
        _ => n.target_name.clone(),
    }
}

/// The figure, in `lang`.
fn value_line(n: &Notice, lang: Language) -> String {
    let level = n.level.unwrap_or(0.0);
    match (lang, n.kind) {
        (Language::Vi, AlertKind::QueueLength) => format!(
            "Số người đang chờ: {} (ngưỡng {}, cao nhất {})",
            round(n.value),
            round(level),
            round(n.peak)
        ),
        (Language::En, AlertKind::QueueLength) => format!(
            "People waiting: {} (threshold {}, highest {})",
            round(n.value),
            round(level),
            round(n.peak)
        ),
        (Language::Vi, AlertKind::PredictedWait) => format!(
            "Dự kiến chờ: {} phút (ngưỡng {} phút, cao nhất {} phút)",
            round(n.value),
            round(level),
            round(n.peak)
        ),
        (Language::En, AlertKind::PredictedWait) => format!(
            "Expected wait: {} min (threshold {} min, highest {} min)",
            round(n.value),
            round(level),
            round(n.peak)
        ),
        (Language::Vi, AlertKind::CounterUnattended) => {
            format!("Số người đang chờ: {}", round(n.value))
        }
        (Language::En, AlertKind::CounterUnattended) => {
            format!("People waiting: {}", round(n.value))
        }
        (Language::Vi, AlertKind::CameraDown) => {
            format!("Mất tín hiệu: {} phút", minutes(n.value.max(n.peak)))
        }
        (Language::En, AlertKind::CameraDown) => {
            format!("Down for: {} min", minutes(n.value.max(n.peak)))
        }
        (Language::Vi, AlertKind::Satisfaction) => {
            let count = n
                .ratings
                .map(|c| format!("{c} đánh giá, "))
                .unwrap_or_default();
            format!(
                "Mức độ hài lòng: {} ({count}ngưỡng {})",
                percent(n.value),
                percent(level)
            )
        }
        (Language::En, AlertKind::Satisfaction) => {
            let count = n
                .ratings
                .map(|c| format!("{c} ratings, "))
                .unwrap_or_default();
            format!(
                "Satisfied: {} ({count}threshold {})",
                percent(n.value),
                percent(level)
            )
        }
        (Language::Vi, AlertKind::StoreFailing) => format!(
            "Bản ghi đang chờ ghi trong bộ nhớ: {} (ổ đĩa đầy hoặc lỗi ghi; xem /healthz và nhật ký)",
            round(n.value.max(n.peak))
        ),
        (Language::En, AlertKind::StoreFailing) => format!(
            "Records waiting in memory: {} (full disk or write errors; see /healthz and the log)",
            round(n.value.max(n.peak))
        ),
        (Language::Vi, AlertKind::UplinkFailing) => format!(
            "Bản ghi chờ gửi về Trung tâm tỉnh: {} (đường truyền hoặc máy chủ tỉnh gặp sự cố; số liệu vẫn được giữ tại đây)",
            round(n.value.max(n.peak))
        ),
        (Language::En, AlertKind::UplinkFailing) => format!(
            "Records waiting for the province centre: {} (link or centre down; kept here meanwhile)",
            round(n.value.max(n.peak))
        ),
    }
}

/// The message of notice `n` in `lang`.
pub fn render(n: &Notice, lang: Language, ctx: &MessageContext) -> Rendered {
    let title = title(n, lang);
    let place = place(n, lang);
    let url = ctx.link(n.alert_id);
    let sev = severity_label(n.severity, lang);
    let hm = |t: f64| {
        ctx.local(t)
            .map(|d| d.format("%H:%M").to_string())
            .unwrap_or_default()
    };
    let since = ctx.local(n.since);
    let since_line = match (lang, since) {
        (Language::Vi, Some(d)) => format!("Từ lúc: {}", d.format("%H:%M ngày %d/%m/%Y")),
        (Language::En, Some(d)) => format!("Since: {}", d.format("%H:%M on %Y-%m-%d")),
        (_, None) => String::new(),
    };
    let state = match (lang, n.event) {
        (Language::Vi, DeliveryEvent::Triggered) => format!("[{sev}]"),
        (Language::Vi, DeliveryEvent::Renotify) => format!("[Nhắc lại – {sev}]"),
        (Language::Vi, DeliveryEvent::Resolved) => "[Đã kết thúc]".into(),
        (Language::En, DeliveryEvent::Triggered) => format!("[{sev}]"),
        (Language::En, DeliveryEvent::Renotify) => format!("[Reminder – {sev}]"),
        (Language::En, DeliveryEvent::Resolved) => "[Resolved]".into(),
    };
    let subject = format!("{state} {title} – {place} – {}", ctx.site_name);
    let mut lines = vec![
        format!("{state} {title}"),
        match lang {
            Language::Vi => format!("Nơi: {place} – {}", ctx.site_name),
            Language::En => format!("Where: {place} – {}", ctx.site_name),
        },
        since_line,
        value_line(n, lang),
    ];
    if n.event == DeliveryEvent::Resolved {
        let lasted = minutes(n.t - n.since);
        lines.push(match (lang, n.reason) {
            (Language::Vi, Some(ResolveReason::Closed)) => {
                format!("Kết thúc lúc {} (hết giờ làm việc)", hm(n.t))
            }
            (Language::Vi, Some(ResolveReason::Restart)) => {
                format!("Kết thúc lúc {} (hệ thống khởi động lại)", hm(n.t))
            }
            (Language::Vi, _) => format!("Kết thúc lúc {} (kéo dài {lasted} phút)", hm(n.t)),
            (Language::En, Some(ResolveReason::Closed)) => {
                format!("Ended at {} (hall closed)", hm(n.t))
            }
            (Language::En, Some(ResolveReason::Restart)) => {
                format!("Ended at {} (hallwatch restarted)", hm(n.t))
            }
            (Language::En, _) => format!("Ended at {} (lasted {lasted} min)", hm(n.t)),
        });
    }
    lines.push(match lang {
        Language::Vi => format!("Xem chi tiết: {url}"),
        Language::En => format!("Details: {url}"),
    });
    lines.retain(|l| !l.is_empty());
    Rendered {
        title,
        subject,
        text: lines.join("\n"),
        url,
    }
}

/// The JSON payload of notice `n` in `lang`.
pub fn payload(n: &Notice, lang: Language, ctx: &MessageContext) -> Payload {
    let r = render(n, lang, ctx);
    Payload {
        version: 1,
        event: n.event,
        reason: n.reason,
        alert_id: n.alert_id,
        site: ctx.site.clone(),
        site_name: ctx.site_name.clone(),
        rule: n.rule.clone(),
        kind: n.kind,
        severity: n.severity,
        zone: n.target.zone.clone(),
        camera: n.target.camera.clone(),
        counter: n.target.counter,
        target_name: n.target_name.clone(),
        since: n.since,
        since_local: ctx
            .local(n.since)
            .map(|d| d.to_rfc3339())
            .unwrap_or_default(),
        raised: n.raised,
        t: n.t,
        value: n.value,
        peak: n.peak,
        level: n.level,
        unit: unit(n.kind).into(),
        language: match lang {
            Language::Vi => "vi",
            Language::En => "en",
        }
        .into(),
        title: r.title,
        subject: r.subject,
        text: r.text,
        url: r.url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: f64 = 1_791_133_200.0 + 9.0 * 3600.0 + 12.0 * 60.0; // 2026-10-05 09:12 +07

    fn ctx() -> MessageContext {
        MessageContext {
            site: "an-phu".into(),
            site_name: "Trung tâm PVHCC xã An Phú".into(),
            tz: chrono_tz::Asia::Ho_Chi_Minh,
            base_url: "https://hcc.example.gov.vn/".into(),
        }
    }

    fn notice(kind: AlertKind) -> Notice {
        Notice {
            alert_id: 42,
            event: DeliveryEvent::Triggered,
            reason: None,
            rule: "r".into(),
            kind,
            severity: Severity::Warning,
            target: Target {
                zone: "quay-3".into(),
                camera: String::new(),
                counter: Some(3),
            },
            target_name: "Quầy 3".into(),
            since: T0,
            raised: T0 + 300.0,
            t: T0 + 300.0,
            value: 12.4,
            peak: 12.4,
            level: None,
            activity: Some(CounterActivity::StaffAbsent),
            ratings: None,
        }
    }

    #[test]
    fn vietnamese_message_says_what_where_since_value_and_link() {
        let r = render(&notice(AlertKind::CounterUnattended), Language::Vi, &ctx());
        assert_eq!(r.title, "Quầy 3 vắng cán bộ khi có người chờ");
        assert_eq!(
            r.subject,
            "[Cảnh báo] Quầy 3 vắng cán bộ khi có người chờ – Quầy 3 – Trung tâm PVHCC xã An Phú"
        );
        assert_eq!(
            r.text,
            "[Cảnh báo] Quầy 3 vắng cán bộ khi có người chờ\n\
             Nơi: Quầy 3 – Trung tâm PVHCC xã An Phú\n\
             Từ lúc: 09:12 ngày 05/10/2026\n\
             Số người đang chờ: 12\n\
             Xem chi tiết: https://hcc.example.gov.vn/#/alerts/42"
        );
    }

    #[test]
    fn english_resolved_queue_message() {
        let mut n = notice(AlertKind::QueueLength);
        n.event = DeliveryEvent::Resolved;
        n.reason = Some(ResolveReason::Cleared);
        n.target = Target {
            zone: "khu-cho".into(),
            ..Target::default()
        };
        n.target_name = "Khu chờ A".into();
        n.level = Some(15.0);
        n.value = 8.0;
        n.peak = 22.0;
        n.t = T0 + 53.0 * 60.0;
        let r = render(&n, Language::En, &ctx());
        assert_eq!(
            r.text,
            "[Resolved] Long queue\n\
             Where: Khu chờ A – Trung tâm PVHCC xã An Phú\n\
             Since: 09:12 on 2026-10-05\n\
             People waiting: 8 (threshold 15, highest 22)\n\
             Ended at 10:05 (lasted 53 min)\n\
             Details: https://hcc.example.gov.vn/#/alerts/42"
        );
        let p = payload(&n, Language::En, &ctx());
        assert_eq!(p.since_local, "2026-10-05T09:12:00+07:00");
        assert_eq!(p.unit, "people");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["event"], "resolved");
        assert_eq!(json["reason"], "cleared");
        assert_eq!(json["kind"], "queue_length");
    }

    #[test]
    fn hall_wide_and_camera_places() {
        let mut n = notice(AlertKind::PredictedWait);
        n.target = Target::default();
        n.level = Some(30.0);
        n.value = 42.2;
        n.peak = 45.0;
        let r = render(&n, Language::Vi, &ctx());
        assert!(r.text.contains("Nơi: Toàn sảnh"), "{}", r.text);
        assert!(
            r.text
                .contains("Dự kiến chờ: 42 phút (ngưỡng 30 phút, cao nhất 45 phút)"),
            "{}",
            r.text
        );
        let mut n = notice(AlertKind::CameraDown);
        n.target = Target {
            camera: "sanh".into(),
            ..Target::default()
        };
        n.target_name = "Sảnh chính".into();
        n.value = 310.0;
        let r = render(&n, Language::Vi, &ctx());
        assert!(
            r.subject
                .contains("Camera mất tín hiệu – Camera Sảnh chính")
        );
        assert!(r.text.contains("Mất tín hiệu: 5 phút"), "{}", r.text);
    }
}
