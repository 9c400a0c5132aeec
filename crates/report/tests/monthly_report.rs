//! A review of a constructed month whose every KPI is known by hand: the store is filled with
//! known visits, samples, outages, tickets, ratings, dossiers and alerts; the PDF (printed by
//! headless Chromium) is read back with pdftotext/pdfinfo and the XLSX with calamine.
//!
//! The hall is open on Mondays 08:00-12:00 only, so October 2026 (Mondays 5, 12, 19, 26) has
//! 16 open hours and September 2026 (7, 14, 21, 28) too.

use calamine::{Data, DataType, Reader, open_workbook_auto};
use hallwatch_config::Config;
use hallwatch_config::alerts::{AlertKind, Severity};
use hallwatch_core::{CameraId, TrackId};
use hallwatch_report::{Lang, Month, OutputFormat, ReportRequest, Scope, build, generate};
use hallwatch_store::{
    Abandonment, Channel, Dossier, DowntimeInterval, NewAlert, Rating, RatingLevel, Record, Store,
    Ticket, ZoneSample,
};
use hallwatch_zones::Session;
use std::path::Path;
use std::process::Command;

const SITE: &str = "an-phu";
/// Monday 2026-10-05 00:00 +07.
const OCT5: f64 = 1_791_133_200.0;
const H: f64 = 3600.0;
const M: f64 = 60.0;
const DAY: f64 = 86_400.0;
/// Monday 2026-09-07 00:00 +07.
const SEP7: f64 = OCT5 - 28.0 * DAY;

const CONFIG: &str = r#"
[site]
id = "an-phu"
name = "Bộ phận Một cửa phường An Phú"

[[cameras]]
id = "cam1"
source = { kind = "test" }

[[zones]]
id = "khu-cho"
camera = "cam1"
role = "waiting"
polygon = [[0.0, 0.0], [0.4, 0.0], [0.4, 0.4], [0.0, 0.4]]

[[zones]]
id = "quay-1"
camera = "cam1"
role = "counter"
counter = 1
polygon = [[0.5, 0.0], [0.7, 0.0], [0.7, 0.3], [0.5, 0.3]]

[[zones]]
id = "quay-2"
camera = "cam1"
role = "counter"
counter = 2
polygon = [[0.75, 0.0], [0.95, 0.0], [0.95, 0.3], [0.75, 0.3]]

[hall]
wait_target_min = 15

[hours]
weekdays = ["mon"]
sessions = [["08:00", "12:00"]]
"#;

struct Fixture {
    next_id: u64,
    records: Vec<Record>,
}

impl Fixture {
    fn visit(&mut self, zone: &str, counter: u32, enter: f64, minutes: f64) {
        self.next_id += 1;
        self.records.push(Record::Session(Session {
            id: self.next_id,
            camera: CameraId::new("cam1"),
            zone: zone.into(),
            role: if counter == 0 {
                hallwatch_config::ZoneRole::Waiting
            } else {
                hallwatch_config::ZoneRole::Counter
            },
            counter,
            tracks: vec![TrackId(self.next_id)],
            enter,
            exit: Some(enter + minutes * M),
            truncated: false,
        }));
    }

    fn sample(&mut self, t: f64, people: f64) {
        self.records.push(Record::ZoneSample(ZoneSample {
            camera: CameraId::new("cam1"),
            zone: "khu-cho".into(),
            t,
            people_now: people as u64,
            people_smoothed: people,
        }));
    }
}

/// Fills a store with the known month (October 2026) and the month before.
fn fill(store: &mut Store) {
    let mut f = Fixture {
        next_id: 0,
        records: Vec::new(),
    };
    // October: 8 waits of 4, 6, 8, 10, 12, 14, 20, 30 min (mean 13.0, p50 11.0, p90 23.0,
    // max 30.0, within 15 min: 6 of 8 = 75.0 %).
    for (i, w) in [4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 20.0, 30.0]
        .into_iter()
        .enumerate()
    {
        f.visit("khu-cho", 0, OCT5 + 8.0 * H + i as f64 * 5.0 * M, w);
    }
    // Counter 1: 4 x 24 min = 1.6 h of 16 open hours = 10.0 %; counter 2: 4 x 48 min = 20.0 %.
    // Service mean (96 + 192) / 8 = 36.0 min.
    for i in 0..4 {
        f.visit("quay-1", 1, OCT5 + 8.0 * H + f64::from(i) * 30.0 * M, 24.0);
        f.visit("quay-2", 2, OCT5 + 8.0 * H + f64::from(i) * H, 48.0);
    }
    // Queue samples: the longest queue is 7 on 05/10 09:10, then 5 on 12/10 10:00.
    for (t, p) in [
        (OCT5 + 9.0 * H, 3.0),
        (OCT5 + 9.0 * H + 10.0 * M, 7.0),
        (OCT5 + 9.0 * H + 20.0 * M, 2.0),
        (OCT5 + 7.0 * DAY + 10.0 * H, 5.0),
        (OCT5 + 14.0 * DAY + 8.0 * H + 30.0 * M, 4.0),
    ] {
        f.sample(t, p);
    }
    // One person left unserved.
    f.records.push(Record::Abandonment(Abandonment {
        camera: CameraId::new("cam1"),
        zone: "khu-cho".into(),
        track: 999,
        enter: OCT5 + 10.0 * H,
        t: OCT5 + 10.0 * H + 25.0 * M,
    }));
    // Camera down 2.4 h of 16 open hours on 12/10: uptime 85.0 %.
    f.records.push(Record::CameraDowntime(DowntimeInterval {
        camera: CameraId::new("cam1"),
        start: OCT5 + 7.0 * DAY + 8.0 * H,
        end: Some(OCT5 + 7.0 * DAY + 8.0 * H + 2.4 * H),
        reason: "rtsp timeout".into(),
    }));
    // September: 4 waits of 10 min.
    for i in 0..4 {
        f.visit("khu-cho", 0, SEP7 + 9.0 * H + f64::from(i) * 10.0 * M, 10.0);
    }
    store.insert(SITE, &f.records).expect("insert");

    // Tickets: waits 10, 14, 18, 22 min (mean 16.0: +3.0 min against the cameras); a no-show.
    let mut tickets = Vec::new();
    for (i, w) in [10.0, 14.0, 18.0, 22.0].into_iter().enumerate() {
        let issued = OCT5 + 8.0 * H;
        tickets.push(Ticket {
            day: "2026-10-05".into(),
            number: format!("A{:03}", i + 1),
            service: "Hộ tịch".into(),
            issued,
            called: Some(issued + w * M),
            counter: Some(if i < 2 { 1 } else { 2 }),
            finished: Some(issued + (w + 5.0) * M),
            no_show: None,
            source: "api".into(),
        });
    }
    tickets.push(Ticket {
        day: "2026-10-05".into(),
        number: "A005".into(),
        service: String::new(),
        issued: OCT5 + 8.5 * H,
        called: None,
        counter: None,
        finished: None,
        no_show: Some(OCT5 + 8.5 * H + 10.0 * M),
        source: "api".into(),
    });
    store.upsert_tickets(SITE, &tickets).expect("tickets");

    // Ratings: October 6 very satisfied, 3 satisfied, 1 dissatisfied (90.0 % satisfied);
    // September 2 and 2 (50.0 %).
    let rating = |t: f64, level, counter| Rating {
        t,
        counter: Some(counter),
        ticket: None,
        level,
        score: None,
        scale_max: None,
        comment: String::new(),
        device: "kiosk".into(),
        client_id: None,
    };
    for i in 0..10 {
        let level = match i {
            0..6 => RatingLevel::VerySatisfied,
            6..9 => RatingLevel::Satisfied,
            _ => RatingLevel::Dissatisfied,
        };
        store
            .insert_rating(
                SITE,
                &rating(OCT5 + 9.0 * H + f64::from(i) * M, level, 1 + i % 2),
            )
            .expect("rating");
    }
    for (i, level) in [
        RatingLevel::VerySatisfied,
        RatingLevel::VerySatisfied,
        RatingLevel::Dissatisfied,
        RatingLevel::Dissatisfied,
    ]
    .into_iter()
    .enumerate()
    {
        store
            .insert_rating(SITE, &rating(SEP7 + 9.0 * H + i as f64 * M, level, 1))
            .expect("rating");
    }

    // Dossiers received in October, due 15/10: 5 resolved early, 3 on the day, 2 late (on time
    // 80.0 %, overdue 20.0 %); 6 online, 4 in person.
    let due = OCT5 + 10.0 * DAY; // 2026-10-15 00:00
    let mut dossiers = Vec::new();
    for i in 0..10u32 {
        let resolved_day = match i {
            0..5 => 9.0,
            5..8 => 10.0,
            _ => 11.0,
        };
        dossiers.push(Dossier {
            code: format!("HS-{i:02}"),
            service: "Cấp giấy phép".into(),
            channel: if i < 6 {
                Channel::Online
            } else {
                Channel::InPerson
            },
            received: OCT5 - 4.0 * DAY + 8.0 * H + f64::from(i) * H,
            due: Some(due),
            resolved: Some(OCT5 + resolved_day * DAY + 10.0 * H),
        });
    }
    store.upsert_dossiers(SITE, &dossiers).expect("dossiers");

    // Alerts: three in October, acknowledged after 2 and 4 min, one never (mean 3.0 min).
    for (i, ack) in [Some(2.0), Some(4.0), None].into_iter().enumerate() {
        let t = OCT5 + 9.0 * H + i as f64 * 20.0 * M;
        let id = store
            .insert_alert(
                SITE,
                &NewAlert {
                    rule: "hang-cho-dai".into(),
                    kind: AlertKind::QueueLength,
                    severity: if i == 0 {
                        Severity::Critical
                    } else {
                        Severity::Warning
                    },
                    camera: String::new(),
                    zone: "khu-cho".into(),
                    counter: None,
                    triggered: t,
                    value: Some(12.0),
                    message: "Hàng chờ dài".into(),
                },
            )
            .expect("alert");
        if let Some(a) = ack {
            store
                .acknowledge_alert(id, "truong-bo-phan", "", t + a * M)
                .expect("ack");
        }
    }
}

fn setup() -> (tempfile::TempDir, Store, Config) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("hallwatch.db")).unwrap();
    fill(&mut store);
    let config = Config::from_toml_str(CONFIG).expect("config");
    (dir, store, config)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn every_kpi_of_the_constructed_month() {
    let (_dir, store, config) = setup();
    let r = build(
        &store,
        &config,
        SITE,
        Month::parse("2026-10").unwrap(),
        Lang::Vi,
        OCT5 + 40.0 * DAY,
    )
    .unwrap();
    let c = &r.current;
    assert_eq!((c.visitors, c.served, c.abandoned), (8, 8, 1));
    let w = c.waits.camera.expect("camera waits");
    assert_eq!(w.count, 8);
    assert!(close(w.mean_s, 13.0 * M) && close(w.p50_s, 11.0 * M) && close(w.p90_s, 23.0 * M));
    assert!(close(w.max_s, 30.0 * M) && close(w.within_target, 0.75));
    let tw = c.waits.ticket.expect("ticket waits");
    assert!(close(tw.mean_s, 16.0 * M));
    assert!(close(c.waits.mean_diff_s.unwrap(), 3.0 * M));
    assert_eq!(
        (c.tickets.issued, c.tickets.no_show, c.tickets.finished),
        (5, 1, 4)
    );
    assert!(close(c.service.unwrap().mean_s, 36.0 * M));
    let util: Vec<f64> = c.counters.iter().map(|k| k.utilisation.unwrap()).collect();
    assert!(close(util[0], 0.10) && close(util[1], 0.20), "{util:?}");
    assert!(close(c.utilisation.unwrap(), 0.15));
    assert!(close(c.uptime.unwrap(), 0.85));
    assert_eq!(c.longest_queues.len(), 3);
    assert_eq!(
        (c.longest_queues[0].t, c.longest_queues[0].people),
        (OCT5 + 9.0 * H + 10.0 * M, 7.0)
    );
    assert_eq!(c.longest_queues[1].people, 5.0);
    assert_eq!(c.heatmap, [(1, 8, 4.0), (1, 9, 4.0), (1, 10, 5.0)]);
    assert_eq!(
        (
            c.ratings.very_satisfied,
            c.ratings.satisfied,
            c.ratings.dissatisfied
        ),
        (6, 3, 1)
    );
    let d = c.dossiers.as_ref().expect("dossiers");
    assert_eq!((d.received, d.online, d.in_person), (10, 6, 4));
    assert_eq!(
        (
            d.resolved_early,
            d.resolved_on_time,
            d.resolved_late,
            d.in_progress
        ),
        (5, 3, 2, 0)
    );
    assert!(close(d.on_time_rate().unwrap(), 0.8));
    // 100 % - 20 % overdue - 10 % dissatisfied.
    assert!(close(c.satisfaction_index().unwrap(), 0.7));
    assert_eq!((c.alerts.total, c.alerts.acknowledged), (3, 2));
    assert!(close(c.alerts.mean_ack_s.unwrap(), 3.0 * M));
    assert_eq!(c.daily.len(), 31, "every day of October");
    assert_eq!(c.daily[4].day, "2026-10-05");
    assert_eq!((c.daily[4].visitors, c.daily[4].served), (8, 8));
    assert_eq!(c.daily[4].ticket_wait_s, Some(16.0 * M));
    assert_eq!(c.daily[5].visitors, 0);

    let p = &r.previous;
    assert_eq!(p.visitors, 4);
    assert!(close(p.waits.camera.unwrap().mean_s, 10.0 * M));
    assert!(p.dossiers.is_none());
    assert!(
        close(p.satisfaction_index().unwrap(), 0.5),
        "no dossiers: the share satisfied"
    );
    assert!(close(p.uptime.unwrap(), 1.0));
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} must be installed (poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn cell(range: &calamine::Range<Data>, key: &str, col: usize) -> f64 {
    let row = range
        .rows()
        .find(|r| r.first().and_then(|c| c.get_string()) == Some(key))
        .unwrap_or_else(|| panic!("no row {key}"));
    match &row[col] {
        Data::Float(v) => *v,
        Data::Int(v) => *v as f64,
        other => panic!("{key}: {other:?}"),
    }
}

#[test]
fn pdf_and_xlsx_of_the_constructed_month_hold_the_kpis() {
    let (dir, store, config) = setup();
    let out = dir.path().join("out");
    let mut req = ReportRequest::new(Month::parse("2026-10").unwrap(), &out, OCT5 + 40.0 * DAY);
    req.formats = vec![OutputFormat::Html, OutputFormat::Pdf, OutputFormat::Xlsx];
    req.scope = Scope::Hall(SITE.into());
    let mut steps = Vec::new();
    let files = generate(&store, &config, &req, &mut |done, total, what| {
        steps.push((done, total, what.to_string()))
    })
    .expect("report");
    assert_eq!(files.len(), 3);
    assert_eq!(steps.first().map(|s| (s.0, s.1)), Some((0, 4)));
    assert_eq!(
        steps.last().map(|s| (s.0, s.1, s.2.as_str())),
        Some((4, 4, "done"))
    );

    // HALLWATCH_KEEP_REPORT=DIR keeps the files for a look.
    if let Some(keep) = std::env::var_os("HALLWATCH_KEEP_REPORT") {
        std::fs::create_dir_all(&keep).unwrap();
        for f in &files {
            std::fs::copy(f, Path::new(&keep).join(f.file_name().unwrap())).unwrap();
        }
    }
    let pdf = out.join("hallwatch-an-phu-2026-10.pdf");
    let info = run("pdfinfo", &[pdf.to_str().unwrap()]);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|p| p.trim().parse().ok())
        .expect("page count");
    assert_eq!(
        pages, 4,
        "summary, waits, counters, satisfaction: one page each\n{info}"
    );
    let text = run("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"]);
    for want in [
        "Báo cáo tháng — Tháng 10/2026",
        "Bộ phận Một cửa phường An Phú",
        "Thời gian chờ trung bình (camera) (phút)",
        "13,0",             // mean wait
        "11,0",             // p50
        "23,0",             // p90
        "30,0",             // max
        "75,0%",            // within 15 min
        "16,0",             // ticket mean wait
        "3,0",              // tickets - camera
        "36,0",             // mean service
        "15,0%",            // utilisation
        "85,0%",            // camera uptime
        "90,0%",            // share satisfied
        "70,0%",            // satisfaction indicator
        "80,0%",            // on time
        "20,0%",            // overdue
        "05/10/2026 09:10", // longest queue, when
        "Rất hài lòng",
        "Không hài lòng",
        "Đúng hạn",
    ] {
        assert!(
            contains_token(&text, want),
            "PDF text lacks {want:?} (as a whole figure, not inside another):\n{text}"
        );
    }

    let xlsx = out.join("hallwatch-an-phu-2026-10.xlsx");
    let mut wb = open_workbook_auto(&xlsx).expect("xlsx");
    let sum = wb.worksheet_range("Tổng hợp").expect("summary sheet");
    assert_eq!(cell(&sum, "visitors", 3), 8.0);
    assert_eq!(cell(&sum, "visitors", 4), 4.0);
    assert_eq!(cell(&sum, "visitors", 5), 4.0);
    assert!(close(cell(&sum, "wait_mean_s", 3), 13.0));
    assert!(close(cell(&sum, "wait_mean_s", 4), 10.0));
    assert!(close(cell(&sum, "wait_p90_s", 3), 23.0));
    assert!(close(cell(&sum, "ticket_wait_mean_s", 3), 16.0));
    assert!(close(cell(&sum, "wait_diff_s", 3), 3.0));
    assert!(close(cell(&sum, "utilisation", 3), 0.15));
    assert!(close(cell(&sum, "camera_uptime", 3), 0.85));
    assert!(close(cell(&sum, "satisfaction_index", 3), 0.7));
    assert!(close(cell(&sum, "satisfaction_index", 4), 0.5));
    assert!(close(cell(&sum, "dossiers_on_time", 3), 0.8));
    assert!(close(cell(&sum, "alert_ack_mean_s", 3), 3.0));
    assert_eq!(cell(&sum, "alerts", 3), 3.0);
    let counters = wb.worksheet_range("Quầy").expect("counters sheet");
    let rows: Vec<&[Data]> = counters.rows().skip(1).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], Data::Float(1.0));
    assert_eq!(rows[0][6], Data::Float(0.1));
    assert_eq!(rows[1][6], Data::Float(0.2));
    let sat = wb.worksheet_range("Hài lòng").expect("satisfaction sheet");
    assert_eq!(sat.get((1, 1)), Some(&Data::Float(6.0)));
    assert_eq!(sat.get((3, 1)), Some(&Data::Float(1.0)));
}

#[test]
fn english_labels_and_every_hall() {
    let (dir, mut store, config) = setup();
    // A second hall in the same store, with one visit.
    store
        .insert(
            "ben-thanh",
            &[Record::Session(Session {
                id: 1,
                camera: CameraId::new("c"),
                zone: "cho".into(),
                role: hallwatch_config::ZoneRole::Waiting,
                counter: 0,
                tracks: vec![],
                enter: OCT5 + 9.0 * H,
                exit: Some(OCT5 + 9.0 * H + 6.0 * M),
                truncated: false,
            })],
        )
        .unwrap();
    let r = build(
        &store,
        &config,
        SITE,
        Month::parse("2026-10").unwrap(),
        Lang::En,
        0.0,
    )
    .unwrap();
    let html = r.html();
    for want in [
        "Monthly review — October 2026",
        "Mean wait (camera) (min)",
        "13.0",
        "70.0%",
        "Overdue (Quá hạn)",
    ] {
        assert!(html.contains(want), "{want}");
    }
    let out = dir.path().join("all");
    let mut req = ReportRequest::new(Month::parse("2026-10").unwrap(), &out, 0.0);
    req.formats = vec![OutputFormat::Xlsx];
    req.scope = Scope::All;
    req.lang = Lang::En;
    let files = generate(&store, &config, &req, &mut |_, _, _| {}).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "hallwatch-an-phu-2026-10.xlsx",
            "hallwatch-ben-thanh-2026-10.xlsx"
        ]
    );
    let mut wb = open_workbook_auto(Path::new(&files[1])).unwrap();
    let sum = wb.worksheet_range("Summary").unwrap();
    assert_eq!(cell(&sum, "visitors", 3), 1.0);
    assert!(close(cell(&sum, "wait_mean_s", 3), 6.0));
    let e = generate(
        &store,
        &config,
        &ReportRequest {
            scope: Scope::Hall("nope".into()),
            ..req
        },
        &mut |_, _, _| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("no hall 'nope'"), "{e}");
}

/// Whether `want` occurs in `text` as a whole token: "3,0" is not found inside "13,0" or "3,05".
fn contains_token(text: &str, want: &str) -> bool {
    let part = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == ',' || c == '.');
    text.match_indices(want).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + want.len()..].chars().next();
        let ends_in_word = want.chars().next_back().is_some_and(char::is_alphanumeric);
        let glued_after = after == Some(',') || (ends_in_word && part(after));
        !(part(before) || glued_after)
    })
}

#[test]
fn whole_tokens_only() {
    assert!(!contains_token("mean 13,0 min", "3,0"));
    assert!(!contains_token("x 3,05", "3,0"));
    assert!(contains_token("diff 3,0 min", "3,0"));
    assert!(contains_token("share 75,0%", "75,0%"));
    assert!(!contains_token("share 175,0%", "75,0%"));
}
