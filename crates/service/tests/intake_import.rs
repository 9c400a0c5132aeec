//! Ticket events, ratings and file imports against a real store file.

use hallwatch_config::Config;
use hallwatch_service::{
    Intake, RatingInput, RatingSource, TicketEventInput, TimeInput, fusion, import_dossiers,
    import_tickets,
};
use hallwatch_store::{RatingLevel, Store, Upsert};
use std::path::Path;

/// Monday 2026-10-05 00:00 in Asia/Ho_Chi_Minh.
const MONDAY: f64 = 1_791_133_200.0;
const H: f64 = 3600.0;
/// "Now" for every check: a month after the data.
const NOW: f64 = MONDAY + 30.0 * 86_400.0;

fn config(extra: &str) -> Config {
    Config::from_toml_str(&format!("[site]\nid = \"an-phu\"\n{extra}")).expect("config")
}

fn store(dir: &Path) -> Store {
    Store::open(dir.join("hallwatch.db")).expect("store")
}

fn event(json: &str) -> TicketEventInput {
    serde_json::from_str(json).expect("json")
}

#[test]
fn ticket_events_from_the_api_give_waits_and_service_times() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let intake = Intake::from_config(&config("")).unwrap();
    let events = [
        // Local text time, RFC 3339 and Unix seconds all name the same clock.
        r#"{"event": "issued", "number": "A001", "service": "Hộ tịch", "t": "2026-10-05 08:00:00"}"#,
        r#"{"event": "issued", "number": "A002", "t": "2026-10-05T08:05:00+07:00"}"#,
        r#"{"event": "called", "number": "A001", "counter": 2, "t": 1791162720}"#,
        r#"{"event": "finished", "number": "A001", "counter": 2, "t": "2026-10-05 08:20:30"}"#,
        r#"{"event": "called", "number": "A002", "counter": 1, "t": "2026-10-05 08:35:00"}"#,
        r#"{"event": "no_show", "number": "A002", "t": "2026-10-05 08:40:00"}"#,
    ];
    for e in events {
        let ev = intake
            .ticket_event(&event(e), NOW)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ev.day, "2026-10-05");
        s.apply_ticket_event("an-phu", &ev).unwrap();
    }
    // Re-sending an event changes nothing.
    let again = intake.ticket_event(&event(events[3]), NOW).unwrap();
    assert_eq!(
        s.apply_ticket_event("an-phu", &again).unwrap(),
        Upsert::Unchanged
    );

    let tickets = s.tickets("an-phu", MONDAY, MONDAY + 86_400.0).unwrap();
    assert_eq!(tickets.len(), 2);
    let a1 = &tickets[0];
    assert_eq!(a1.number, "A001");
    assert_eq!(a1.wait_s(), Some(12.0 * 60.0)); // 08:00 -> 08:12
    assert_eq!(a1.service_s(), Some(8.0 * 60.0 + 30.0)); // 08:12 -> 08:20:30
    assert_eq!(a1.counter, Some(2));
    let a2 = &tickets[1];
    assert_eq!(a2.wait_s(), Some(30.0 * 60.0));
    assert_eq!(a2.service_s(), None);
    assert_eq!(a2.no_show, Some(MONDAY + 8.0 * H + 40.0 * 60.0));

    let (waits, service) = fusion::ticket_durations(&tickets);
    assert_eq!(waits, [720.0, 1800.0]);
    assert_eq!(service, [510.0]);
}

#[test]
fn bad_ticket_events_name_every_field() {
    let intake = Intake::from_config(&config("")).unwrap();
    let e = intake
        .ticket_event(
            &event(r#"{"event": "called", "number": " ", "t": "yesterday"}"#),
            NOW,
        )
        .unwrap_err();
    let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["number", "t", "counter"], "{e}");
    let e = intake
        .ticket_event(&event(r#"{"event": "served", "number": "1"}"#), NOW)
        .unwrap_err();
    assert!(e.to_string().contains("'served' is not one of"), "{e}");
    let future = TicketEventInput {
        t: Some(TimeInput::Unix(NOW + 3600.0)),
        ..event(r#"{"event": "issued", "number": "1"}"#)
    };
    let e = intake.ticket_event(&future, NOW).unwrap_err();
    assert!(e.to_string().contains("in the future"), "{e}");
    assert!(
        serde_json::from_str::<TicketEventInput>(r#"{"event": "issued", "number": "1", "x": 1}"#)
            .is_err()
    );
}

#[test]
fn ratings_map_stars_bind_kiosk_counters_and_deduplicate() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let intake = Intake::from_config(&config("")).unwrap();
    let kiosk = RatingSource {
        device: "kiosk-quay-2".into(),
        counter: Some(2),
    };
    let tap = RatingInput {
        level: Some("very_satisfied".into()),
        client_id: Some("k2-0001".into()),
        t: Some(TimeInput::Unix(MONDAY + 9.0 * H)),
        comment: "  Cán bộ nhiệt tình \u{7}".into(),
        ..RatingInput::default()
    };
    // Received an hour after the visit (a kiosk sends at once, or within days when offline).
    let rated_at = MONDAY + 10.0 * H;
    let r = intake.rating(&tap, &kiosk, rated_at).unwrap();
    assert_eq!(
        (r.level, r.counter, r.comment.as_str()),
        (RatingLevel::VerySatisfied, Some(2), "Cán bộ nhiệt tình")
    );
    assert!(s.insert_rating("an-phu", &r).unwrap());
    assert!(
        !s.insert_rating("an-phu", &r).unwrap(),
        "a resend is stored once"
    );

    let wrong_counter = RatingInput {
        counter: Some(3),
        ..tap.clone()
    };
    let e = intake.rating(&wrong_counter, &kiosk, rated_at).unwrap_err();
    assert!(e.to_string().contains("belongs to counter 2"), "{e}");

    let device = RatingSource {
        device: "hanet-1".into(),
        counter: None,
    };
    for (score, level) in [
        (5, RatingLevel::VerySatisfied),
        (4, RatingLevel::Satisfied),
        (3, RatingLevel::Satisfied),
        (2, RatingLevel::Dissatisfied),
        (1, RatingLevel::Dissatisfied),
    ] {
        let input = RatingInput {
            score: Some(score),
            scale_max: Some(5),
            counter: Some(4),
            ..RatingInput::default()
        };
        let r = intake.rating(&input, &device, rated_at).unwrap();
        assert_eq!(
            (r.level, r.score, r.scale_max),
            (level, Some(score), Some(5))
        );
    }
    let bad = RatingInput {
        score: Some(7),
        scale_max: Some(10),
        ..RatingInput::default()
    };
    let e = intake.rating(&bad, &device, rated_at).unwrap_err();
    assert!(
        e.to_string()
            .contains("no rating scale with scale_max = 10"),
        "{e}"
    );
    let both = RatingInput {
        level: Some("satisfied".into()),
        score: Some(3),
        scale_max: Some(5),
        ..RatingInput::default()
    };
    assert!(intake.rating(&both, &device, rated_at).is_err());
    let long = RatingInput {
        level: Some("satisfied".into()),
        comment: "x".repeat(501),
        client_id: Some("bad id!".into()),
        ..RatingInput::default()
    };
    let e = intake.rating(&long, &device, rated_at).unwrap_err();
    let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["comment", "client_id"]);
    // The same tap received a month later is refused: it would rewrite a reviewed month.
    let e = intake.rating(&tap, &kiosk, NOW).unwrap_err();
    assert!(e.to_string().contains("older than 7 days"), "{e}");
}

const TICKETS_CSV: &str = "\u{feff}So phieu;Linh vuc;Gio lay so;Gio goi;Quay;Gio xong
A001;Hộ tịch;05/10/2026 08:00:00;05/10/2026 08:10:00;Quầy 1;05/10/2026 08:16:00
A002;Đất đai;05/10/2026 08:02:00;05/10/2026 08:22:00;2;05/10/2026 08:40:00

A003;Hộ tịch;05/10/2026 08:05:00;;;
A004;Hộ tịch;05/10/2026 25:00:00;05/10/2026 08:30:00;1;
;Hộ tịch;05/10/2026 08:07:00;05/10/2026 08:30:00;1;
A006;Hộ tịch;05/10/2026 08:09:00;05/10/2026 08:01:00;1;
A001;Hộ tịch;05/10/2026 08:00:00;05/10/2026 08:10:00;Quầy 1;05/10/2026 08:16:00
A002;Đất đai;05/10/2026 08:02:00;05/10/2026 08:25:00;2;05/10/2026 08:40:00
A007;Hộ tịch;05/10/2026 08:10:00;05/10/2026 08:40:00;Quầy 1 và 2;
";

fn ticket_mapping() -> Config {
    config(
        r#"
[service.tickets]
number = "So phieu"
service = "Linh vuc"
issued = "Gio lay so"
called = "gio goi"
counter = "Quay"
finished = "Gio xong"
no_show = ""
time_formats = ["%d/%m/%Y %H:%M:%S"]
delimiter = ";"
"#,
    )
}

#[test]
fn csv_import_keeps_good_rows_reports_bad_ones_by_line_and_reimports_to_no_change() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("phieu-2026-10-05.csv");
    std::fs::write(&file, TICKETS_CSV).unwrap();
    let mut s = store(dir.path());
    let cfg = ticket_mapping();
    let intake = Intake::from_config(&cfg).unwrap();
    let report = import_tickets(&mut s, "an-phu", &intake, &file, NOW).unwrap();
    let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "line 6, column 'Gio lay so': '05/10/2026 25:00:00' is not a time in any of the formats %d/%m/%Y %H:%M:%S",
            "line 7, column 'So phieu': empty, but required",
            "line 8, column 'Gio goi': is before the ticket was issued",
            "line 10: ticket A002 of 2026-10-05 is already on line 3 with other values",
            "line 11, column 'Quay': 'Quầy 1 và 2' is not a counter number",
        ],
        "{report}"
    );
    assert_eq!(
        (
            report.rows,
            report.inserted,
            report.updated,
            report.unchanged,
            report.duplicates
        ),
        (9, 3, 0, 0, 1),
        "{report}"
    );
    let tickets = s.tickets("an-phu", MONDAY, MONDAY + 86_400.0).unwrap();
    type Row<'a> = (&'a str, Option<f64>, Option<f64>, Option<u32>);
    let got: Vec<Row> = tickets
        .iter()
        .map(|t| (t.number.as_str(), t.wait_s(), t.service_s(), t.counter))
        .collect();
    assert_eq!(
        got,
        [
            ("A001", Some(600.0), Some(360.0), Some(1)),
            ("A002", Some(1200.0), Some(1080.0), Some(2)),
            ("A003", None, None, None),
        ]
    );
    assert_eq!(tickets[0].source, "phieu-2026-10-05.csv");

    let again = import_tickets(&mut s, "an-phu", &intake, &file, NOW).unwrap();
    assert_eq!(
        (
            again.inserted,
            again.updated,
            again.unchanged,
            again.errors.len()
        ),
        (0, 0, 3, 5),
        "{again}"
    );
    assert_eq!(
        s.tickets("an-phu", MONDAY, MONDAY + 86_400.0).unwrap(),
        tickets
    );
}

#[test]
fn a_file_without_the_mapped_columns_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.csv");
    std::fs::write(&file, "number,when\n1,2026-10-05 08:00:00\n").unwrap();
    let mut s = store(dir.path());
    let intake = Intake::from_config(&config("")).unwrap();
    let e = import_tickets(&mut s, "an-phu", &intake, &file, NOW).unwrap_err();
    assert!(
        e.to_string()
            .contains("missing column(s) issued (the file has: number, when)"),
        "{e}"
    );
}

#[test]
fn xlsx_import_reads_date_cells_and_text_cells() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("phieu.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("Phieu").unwrap();
    let fmt = Format::new().set_num_format("dd/mm/yyyy hh:mm:ss");
    for (c, h) in [
        "So phieu",
        "Linh vuc",
        "Gio lay so",
        "Gio goi",
        "Quay",
        "Gio xong",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let dt = |s: &str| ExcelDateTime::parse_from_str(s).unwrap();
    // Row 2: real date-time cells; row 3: text times; row 4: a bad counter.
    ws.write_number(1, 0, 1.0).unwrap();
    ws.write_string(1, 1, "Hộ tịch").unwrap();
    ws.write_datetime_with_format(1, 2, dt("2026-10-05 09:00:00"), &fmt)
        .unwrap();
    ws.write_datetime_with_format(1, 3, dt("2026-10-05 09:07:30"), &fmt)
        .unwrap();
    ws.write_number(1, 4, 3.0).unwrap();
    ws.write_datetime_with_format(1, 5, dt("2026-10-05 09:15:00"), &fmt)
        .unwrap();
    ws.write_string(2, 0, "2").unwrap();
    ws.write_string(2, 2, "05/10/2026 09:01:00").unwrap();
    ws.write_string(2, 3, "05/10/2026 09:21:00").unwrap();
    ws.write_string(2, 4, "1").unwrap();
    ws.write_string(3, 0, "3").unwrap();
    ws.write_string(3, 2, "05/10/2026 09:02:00").unwrap();
    ws.write_number(3, 4, 1.5).unwrap();
    wb.save(&file).unwrap();

    let mut s = store(dir.path());
    let intake = Intake::from_config(&ticket_mapping()).unwrap();
    let report = import_tickets(&mut s, "an-phu", &intake, &file, NOW).unwrap();
    let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        ["line 4, column 'Quay': '1.5' is not a counter number"]
    );
    assert_eq!((report.rows, report.inserted), (3, 2));
    let tickets = s.tickets("an-phu", MONDAY, MONDAY + 86_400.0).unwrap();
    assert_eq!(tickets[0].number, "1");
    assert_eq!(tickets[0].issued, MONDAY + 9.0 * H);
    assert_eq!(tickets[0].wait_s(), Some(450.0));
    assert_eq!(tickets[0].service_s(), Some(450.0));
    assert_eq!(tickets[1].wait_s(), Some(1200.0));
    let again = import_tickets(&mut s, "an-phu", &intake, &file, NOW).unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 2));
}

#[test]
fn dossier_import_maps_channels_and_checks_dates() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hoso.csv");
    std::fs::write(
        &file,
        "code,service,channel,received,due,resolved\n\
         HS1,Cấp phép,Trực tuyến,2026-10-01 08:00,2026-10-05,2026-10-04 10:00\n\
         HS2,Cấp phép,Trực tiếp,2026-10-01 09:00,2026-10-05,\n\
         HS3,Cấp phép,fax,2026-10-01 09:00,2026-10-05,\n\
         HS4,Cấp phép,DVC,2026-10-03 09:00,2026-10-02,\n\
         HS1,Cấp phép,Trực tuyến,2026-10-01 08:00,2026-10-05,2026-10-04 10:00\n",
    )
    .unwrap();
    let mut s = store(dir.path());
    let intake = Intake::from_config(&config("")).unwrap();
    let report = import_dossiers(&mut s, "an-phu", &intake, &file, NOW).unwrap();
    let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("line 4, column 'channel': 'fax' is neither online"),
        "{errors:?}"
    );
    assert_eq!(
        errors[1],
        "line 5, column 'due': is before the dossier was received"
    );
    assert_eq!((report.inserted, report.duplicates), (2, 1));
    let d = s.dossiers("an-phu", MONDAY - 7.0 * 86_400.0, NOW).unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].channel, hallwatch_store::Channel::Online);
    assert_eq!(d[1].resolved, None);
    let again = import_dossiers(&mut s, "an-phu", &intake, &file, NOW).unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 2));
}
