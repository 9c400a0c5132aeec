//! The rule engine with an injected clock: observations at chosen times, events checked.

use hallwatch_alerts::{AlertEngine, AlertEvent, EventKind, Observation, ResolveReason};
use hallwatch_alerts::{SatisfactionFigures, Target};
use hallwatch_config::HoursConfig;
use hallwatch_config::alerts::{AlertKind, AlertRule, Severity};
use hallwatch_core::live::{CounterActivity, CounterState, HallState, WaitPrediction, ZoneState};
use hallwatch_core::{CameraHealth, CameraId, CameraState};

/// Monday 2026-10-05 00:00 in Asia/Ho_Chi_Minh.
const MONDAY: f64 = 1_791_133_200.0;
const H: f64 = 3600.0;

fn engine(rules: Vec<AlertRule>) -> AlertEngine {
    let hours = HoursConfig {
        holidays: vec!["2026-10-07".into()],
        ..HoursConfig::default()
    };
    AlertEngine::new(&rules, hours.build("Asia/Ho_Chi_Minh").unwrap())
}

fn queue_rule() -> AlertRule {
    AlertRule {
        zone: "khu-cho".into(),
        trigger: Some(10.0),
        clear_below: Some(6.0),
        for_s: 300.0,
        clear_for_s: 120.0,
        cooldown_s: 600.0,
        renotify_s: 0.0,
        ..AlertRule::new("hang-cho", AlertKind::QueueLength)
    }
}

fn hall(waiting: f64) -> HallState {
    HallState {
        site: "an-phu".into(),
        site_name: "Trung tâm PVHCC xã An Phú".into(),
        waiting_smoothed: waiting,
        waiting_now: waiting as u32,
        zones: vec![ZoneState {
            id: "khu-cho".into(),
            name: "Khu chờ A".into(),
            camera: "sanh".into(),
            role: "waiting".into(),
            people_now: waiting as u32,
            people_smoothed: waiting,
        }],
        ..HallState::default()
    }
}

/// Feeds `value(t)` every `step` seconds over `[from, to)`; returns the events with times.
fn run(
    e: &mut AlertEngine,
    from: f64,
    to: f64,
    step: f64,
    mut state: impl FnMut(f64) -> HallState,
) -> Vec<AlertEvent> {
    let mut out = Vec::new();
    let mut t = from;
    while t < to {
        let h = state(t);
        out.extend(e.evaluate(
            &Observation {
                hall: &h,
                satisfaction: &[],
            },
            t,
        ));
        t += step;
    }
    out
}

fn kinds(events: &[AlertEvent]) -> Vec<(EventKind, f64)> {
    events.iter().map(|e| (e.event, e.t)).collect()
}

#[test]
fn fires_after_for_s_and_a_dip_restarts_the_count() {
    let mut e = engine(vec![queue_rule()]);
    let t0 = MONDAY + 9.0 * H;
    // 11 people, but one sample at 9 after 200 s: the count starts again at t0 + 210.
    let events = run(&mut e, t0, t0 + 900.0, 10.0, |t| {
        hall(if t == t0 + 200.0 { 9.0 } else { 11.0 })
    });
    assert_eq!(kinds(&events), [(EventKind::Triggered, t0 + 510.0)]);
    let ev = &events[0];
    assert_eq!(ev.since, t0 + 210.0);
    assert_eq!(ev.raised, t0 + 510.0);
    assert_eq!(ev.value, 11.0);
    assert_eq!(ev.level, Some(10.0));
    assert_eq!(ev.kind, AlertKind::QueueLength);
    assert_eq!(ev.severity, Severity::Warning);
    assert_eq!(
        ev.target,
        Target {
            zone: "khu-cho".into(),
            ..Target::default()
        }
    );
    assert_eq!(ev.target_name, "Khu chờ A");
    assert_eq!(e.active().len(), 1);
}

#[test]
fn no_flapping_around_either_threshold() {
    let mut e = engine(vec![queue_rule()]);
    let t0 = MONDAY + 9.0 * H;
    let mut events = run(&mut e, t0, t0 + 300.0 + 1.0, 10.0, |_| hall(12.0));
    assert_eq!(kinds(&events), [(EventKind::Triggered, t0 + 300.0)]);
    // An hour hovering around the trigger level: 200 s at 7 to 9 (below the trigger, longer
    // than clear_for_s, but not below clear_below), 50 s at 11: still one alert.
    events = run(&mut e, t0 + 310.0, t0 + 310.0 + H, 10.0, |t| {
        let phase = (t - t0 - 310.0) % 250.0;
        hall(if phase < 100.0 {
            9.0
        } else if phase < 200.0 {
            7.0
        } else {
            11.0
        })
    });
    assert!(events.is_empty(), "{events:?}");
    // Hovering around the clear level (5 / 7): the calm never lasts 120 s.
    let t1 = t0 + 310.0 + H;
    let mut i = 0;
    events = run(&mut e, t1, t1 + H, 30.0, |_| {
        i += 1;
        hall(if i % 4 == 0 { 7.0 } else { 5.0 })
    });
    assert!(events.is_empty(), "{events:?}");
    // Calm for 120 s: resolved, once, with the peak kept.
    let t2 = t1 + H;
    events = run(&mut e, t2, t2 + 200.0, 10.0, |_| hall(4.0));
    assert_eq!(kinds(&events), [(EventKind::Resolved, t2 + 120.0)]);
    assert_eq!(events[0].reason, Some(ResolveReason::Cleared));
    assert_eq!(events[0].peak, 12.0);
    assert_eq!(events[0].value, 4.0);
    assert!(e.active().is_empty());
}

#[test]
fn cooldown_after_a_clear_is_respected() {
    let mut e = engine(vec![AlertRule {
        for_s: 60.0,
        ..queue_rule()
    }]);
    let t0 = MONDAY + 9.0 * H;
    let mut events = run(&mut e, t0, t0 + 100.0, 10.0, |_| hall(12.0));
    assert_eq!(kinds(&events), [(EventKind::Triggered, t0 + 60.0)]);
    events = run(&mut e, t0 + 100.0, t0 + 300.0, 10.0, |_| hall(3.0));
    let resolved = t0 + 100.0 + 120.0;
    assert_eq!(kinds(&events), [(EventKind::Resolved, resolved)]);
    // Long again at once: only after the 600 s cooldown, not after 60 s.
    events = run(&mut e, t0 + 300.0, t0 + 1200.0, 10.0, |_| hall(12.0));
    assert_eq!(kinds(&events), [(EventKind::Triggered, resolved + 600.0)]);
    assert_eq!(events[0].since, t0 + 300.0);
}

#[test]
fn renotifies_every_interval_while_active() {
    let mut e = engine(vec![AlertRule {
        renotify_s: 900.0,
        ..queue_rule()
    }]);
    let t0 = MONDAY + 9.0 * H;
    let events = run(&mut e, t0, t0 + 300.0 + 2000.0, 10.0, |_| hall(15.0));
    let raised = t0 + 300.0;
    assert_eq!(
        kinds(&events),
        [
            (EventKind::Triggered, raised),
            (EventKind::Renotify, raised + 900.0),
            (EventKind::Renotify, raised + 1800.0),
        ]
    );
    assert!(events.iter().all(|ev| ev.since == t0));
}

#[test]
fn silent_outside_working_hours_and_resolved_at_closing() {
    let mut e = engine(vec![queue_rule()]);
    // Long queue from 06:00: the hall opens at 07:30, the count starts then.
    let mut events = run(&mut e, MONDAY + 6.0 * H, MONDAY + 8.0 * H, 10.0, |_| {
        hall(20.0)
    });
    assert_eq!(
        kinds(&events),
        [(EventKind::Triggered, MONDAY + 7.5 * H + 300.0)]
    );
    assert_eq!(events[0].since, MONDAY + 7.5 * H);
    // Still long at lunch (11:30): resolved at closing, reason closed; nothing over lunch;
    // raised again 300 s after the afternoon session opens (no cooldown after a closing).
    events = run(&mut e, MONDAY + 8.0 * H, MONDAY + 14.0 * H, 10.0, |_| {
        hall(20.0)
    });
    assert_eq!(
        kinds(&events),
        [
            (EventKind::Resolved, MONDAY + 11.5 * H),
            (EventKind::Triggered, MONDAY + 13.5 * H + 300.0),
        ]
    );
    assert_eq!(events[0].reason, Some(ResolveReason::Closed));
    // Wednesday is a holiday and Saturday a weekend: silent all day.
    for day in [2.0, 5.0] {
        let mut e = engine(vec![queue_rule()]);
        let d = MONDAY + day * 86_400.0;
        let events = run(&mut e, d, d + 24.0 * H, 60.0, |_| hall(30.0));
        assert!(events.is_empty(), "day {day}: {events:?}");
    }
}

fn with_camera(state: CameraState) -> HallState {
    let mut cam = CameraHealth::new(CameraId::new("sanh"));
    cam.state = state;
    HallState {
        cameras: vec![cam],
        ..hall(0.0)
    }
}

#[test]
fn camera_down_is_detected_at_any_hour_when_the_rule_says_so() {
    let rule = AlertRule {
        severity: Severity::Critical,
        for_s: 120.0,
        clear_for_s: 30.0,
        working_hours: false,
        ..AlertRule::new("camera", AlertKind::CameraDown)
    };
    let mut e = engine(vec![rule]).with_camera_names(
        [("sanh".to_string(), "Sảnh chính".to_string())]
            .into_iter()
            .collect(),
    );
    let t0 = MONDAY + 2.0 * H; // 02:00, closed
    let down = CameraState::Reconnecting {
        attempt: 3,
        retry_in_s: 4.0,
    };
    let mut events = run(&mut e, t0, t0 + 60.0, 10.0, |_| {
        with_camera(CameraState::Running)
    });
    assert!(events.is_empty());
    events = run(&mut e, t0 + 60.0, t0 + 300.0, 10.0, |t| {
        with_camera(if t < t0 + 200.0 {
            down.clone()
        } else {
            CameraState::Failed
        })
    });
    assert_eq!(kinds(&events), [(EventKind::Triggered, t0 + 180.0)]);
    let ev = &events[0];
    assert_eq!(ev.value, 120.0, "seconds down");
    assert_eq!(ev.target.camera, "sanh");
    assert_eq!(ev.target_name, "Sảnh chính");
    assert_eq!(ev.severity, Severity::Critical);
    events = run(&mut e, t0 + 300.0, t0 + 400.0, 10.0, |_| {
        with_camera(CameraState::Running)
    });
    assert_eq!(kinds(&events), [(EventKind::Resolved, t0 + 330.0)]);
    assert_eq!(events[0].peak, 230.0);
    // A file that finished or a camera stopped on purpose is not down.
    for s in [
        CameraState::Finished,
        CameraState::Stopped,
        CameraState::Starting,
    ] {
        let events = run(&mut e, t0 + 2000.0, t0 + 3000.0, 10.0, |_| {
            with_camera(s.clone())
        });
        assert!(events.is_empty(), "{s:?}");
    }
    // The same rule following working hours stays silent at night.
    let mut e = engine(vec![AlertRule {
        working_hours: true,
        for_s: 120.0,
        ..AlertRule::new("camera", AlertKind::CameraDown)
    }]);
    let events = run(&mut e, t0, t0 + 1000.0, 10.0, |_| with_camera(down.clone()));
    assert!(events.is_empty());
}

#[test]
fn a_camera_retrying_between_attempts_stays_down() {
    // The supervisor alternates "reconnecting" (waiting out the backoff) and "starting" (the
    // next attempt) every 2 s while the outage stays open: that is one outage, not many.
    let rule = AlertRule {
        for_s: 30.0,
        clear_for_s: 5.0,
        working_hours: false,
        ..AlertRule::new("camera", AlertKind::CameraDown)
    };
    let mut e = engine(vec![rule]);
    let t0 = MONDAY + 9.0 * H;
    let flapping = |t: f64| {
        let mut h = with_camera(if ((t - t0) / 2.0).floor() as i64 % 2 == 0 {
            CameraState::Reconnecting {
                attempt: 5,
                retry_in_s: 2.0,
            }
        } else {
            CameraState::Starting
        });
        h.cameras[0].open_downtime(std::time::UNIX_EPOCH, "live source ended the stream");
        h
    };
    let events = run(&mut e, t0, t0 + 60.0, 1.0, flapping);
    assert_eq!(kinds(&events), [(EventKind::Triggered, t0 + 30.0)]);
    // Frames flow again: the outage is closed and the camera running.
    let events = run(&mut e, t0 + 60.0, t0 + 80.0, 1.0, |_| {
        with_camera(CameraState::Running)
    });
    assert_eq!(kinds(&events), [(EventKind::Resolved, t0 + 65.0)]);
}

fn with_counters(waiting: f64, activities: &[CounterActivity]) -> HallState {
    HallState {
        counters: activities
            .iter()
            .enumerate()
            .map(|(i, a)| CounterState {
                zone: format!("quay-{}", i + 1),
                name: format!("Quầy {}", i + 1),
                counter: i as u32 + 1,
                activity: *a,
                ..CounterState::default()
            })
            .collect(),
        ..hall(waiting)
    }
}

#[test]
fn counter_unattended_while_people_wait() {
    let rule = AlertRule {
        for_s: 180.0,
        clear_for_s: 30.0,
        min_waiting: 2,
        ..AlertRule::new("quay-vang", AlertKind::CounterUnattended)
    };
    let mut e = engine(vec![rule]);
    let t0 = MONDAY + 9.0 * H;
    use CounterActivity::*;
    // Counter 2 without staff, but nobody waiting: no problem.
    let mut events = run(&mut e, t0, t0 + 600.0, 10.0, |_| {
        with_counters(0.0, &[Serving, StaffAbsent, Serving])
    });
    assert!(events.is_empty());
    // People wait: counter 2 alerts after 180 s; counter 3 idle for only 100 s does not.
    let t1 = t0 + 600.0;
    events = run(&mut e, t1, t1 + 400.0, 10.0, |t| {
        let third = if t < t1 + 100.0 { Idle } else { Serving };
        with_counters(5.0, &[Serving, StaffAbsent, third])
    });
    assert_eq!(kinds(&events), [(EventKind::Triggered, t1 + 180.0)]);
    let ev = &events[0];
    assert_eq!(ev.target.counter, Some(2));
    assert_eq!(ev.target.zone, "quay-2");
    assert_eq!(ev.activity, Some(StaffAbsent));
    assert_eq!(ev.value, 5.0);
    // Staff back: resolved after 30 s.
    events = run(&mut e, t1 + 400.0, t1 + 500.0, 10.0, |_| {
        with_counters(5.0, &[Serving, Serving, Serving])
    });
    assert_eq!(kinds(&events), [(EventKind::Resolved, t1 + 430.0)]);
}

#[test]
fn predicted_wait_and_hall_wide_queue() {
    let rules = vec![
        AlertRule {
            trigger: Some(30.0),
            clear_below: Some(20.0),
            for_s: 60.0,
            ..AlertRule::new("cho-lau", AlertKind::PredictedWait)
        },
        AlertRule {
            trigger: Some(25.0),
            for_s: 60.0,
            severity: Severity::Critical,
            ..AlertRule::new("dong-nguoi", AlertKind::QueueLength)
        },
    ];
    let mut e = engine(rules);
    let t0 = MONDAY + 9.0 * H;
    // No prediction yet: nothing, whatever the queue.
    let mut events = run(&mut e, t0, t0 + 300.0, 10.0, |_| hall(10.0));
    assert!(events.is_empty());
    events = run(&mut e, t0 + 300.0, t0 + 400.0, 10.0, |_| HallState {
        prediction: Some(WaitPrediction {
            expected_s: 40.0 * 60.0,
            low_s: 1500.0,
            high_s: 3000.0,
            method: "service-rate".into(),
        }),
        ..hall(26.0)
    });
    assert_eq!(
        events
            .iter()
            .map(|e| (e.rule.as_str(), e.t, e.value))
            .collect::<Vec<_>>(),
        [
            ("cho-lau", t0 + 360.0, 40.0),
            ("dong-nguoi", t0 + 360.0, 26.0)
        ]
    );
    assert_eq!(events[1].target, Target::default());
    assert_eq!(events[1].target_name, "Trung tâm PVHCC xã An Phú");
    // The prediction disappears (no counter open): no figure counts as calm.
    events = run(&mut e, t0 + 400.0, t0 + 500.0, 10.0, |_| hall(26.0));
    assert_eq!(
        events
            .iter()
            .map(|e| (e.rule.as_str(), e.event))
            .collect::<Vec<_>>(),
        [("cho-lau", EventKind::Resolved)]
    );
}

#[test]
fn satisfaction_below_a_level_over_a_window() {
    let rule = AlertRule {
        trigger: Some(0.8),
        clear_above: Some(0.85),
        for_s: 600.0,
        window_s: 3600.0,
        min_ratings: 10,
        ..AlertRule::new("hai-long", AlertKind::Satisfaction)
    };
    let mut e = engine(vec![rule]);
    assert_eq!(e.satisfaction_windows(), [3600.0]);
    let t0 = MONDAY + 9.0 * H;
    let h = hall(3.0);
    let mut fire = |t: f64, ratings: u32, share: f64| {
        let figures = [SatisfactionFigures {
            window_s: 3600.0,
            ratings,
            satisfied_share: share,
        }];
        e.evaluate(
            &Observation {
                hall: &h,
                satisfaction: &figures,
            },
            t,
        )
    };
    // Too few ratings to judge.
    for i in 0..100 {
        assert!(fire(t0 + f64::from(i) * 10.0, 9, 0.3).is_empty());
    }
    // 20 ratings, 70 % satisfied for 600 s.
    let t1 = t0 + 1000.0;
    let mut events = Vec::new();
    for i in 0..=60 {
        events.extend(fire(t1 + f64::from(i) * 10.0, 20, 0.7));
    }
    assert_eq!(kinds(&events), [(EventKind::Triggered, t1 + 600.0)]);
    assert_eq!(events[0].ratings, Some(20));
    assert_eq!(events[0].value, 0.7);
    // 82 %: between the levels, stays; 90 % for clear_for_s (60 s): resolved.
    let t2 = t1 + 700.0;
    for i in 0..30 {
        assert!(fire(t2 + f64::from(i) * 10.0, 25, 0.82).is_empty());
    }
    let t3 = t2 + 300.0;
    events.clear();
    for i in 0..=6 {
        events.extend(fire(t3 + f64::from(i) * 10.0, 30, 0.9));
    }
    assert_eq!(kinds(&events), [(EventKind::Resolved, t3 + 60.0)]);
    assert_eq!(events[0].peak, 0.7, "the lowest share");
}

#[test]
fn disabled_rules_and_sections_evaluate_nothing() {
    let e = engine(vec![AlertRule {
        enabled: false,
        ..queue_rule()
    }]);
    assert!(e.is_empty());
    let config = hallwatch_config::Config::from_toml_str(
        r#"
        [site]
        id = "an-phu"
        [alerts]
        enabled = false
        [[alerts.rules]]
        id = "q"
        kind = "queue_length"
        trigger = 3
        "#,
    )
    .unwrap();
    assert!(AlertEngine::from_config(&config).unwrap().is_empty());
}

#[test]
fn the_example_config_builds_an_engine() {
    let path = manifest_dir().join("../../examples/hall.toml");
    let config = hallwatch_config::Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let e = AlertEngine::from_config(&config).unwrap();
    assert!(!e.is_empty());
    assert_eq!(e.satisfaction_windows(), [3600.0]);
    assert_eq!(config.alerts.rules.len(), 6);
}

/// This package's folder: cargo's run-time `CARGO_MANIFEST_DIR` (right even when the binary was
/// built in another checkout sharing the target folder), else the compile-time one.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

#[test]
fn a_store_refusing_writes_is_alerted_with_the_records_waiting() {
    let rule = AlertRule {
        severity: Severity::Critical,
        for_s: 30.0,
        clear_for_s: 10.0,
        working_hours: false,
        ..AlertRule::new("luu-tru", AlertKind::StoreFailing)
    };
    let mut e = engine(vec![rule]);
    let t0 = MONDAY + 3.0 * H; // at night too
    let failing = |t: f64| {
        let mut h = hall(0.0);
        h.storage.failing = t >= t0 + 100.0 && t < t0 + 300.0;
        h.storage.pending = if h.storage.failing {
            (t - t0) as u64
        } else {
            0
        };
        h
    };
    let events = run(&mut e, t0, t0 + 500.0, 10.0, failing);
    assert_eq!(
        kinds(&events),
        [
            (EventKind::Triggered, t0 + 130.0),
            (EventKind::Resolved, t0 + 310.0)
        ]
    );
    assert_eq!(events[0].value, 130.0, "records waiting");
    assert_eq!(events[0].target, Target::default(), "the whole hall");
    assert_eq!(events[1].peak, 290.0);
}

#[test]
fn an_uplink_failing_for_five_minutes_is_alerted_with_the_facts_waiting() {
    let rule = AlertRule {
        severity: Severity::Warning,
        for_s: 60.0,
        clear_for_s: 10.0,
        working_hours: false,
        ..AlertRule::new("duong-truyen-tinh", AlertKind::UplinkFailing)
    };
    let mut e = engine(vec![rule]);
    let t0 = MONDAY + 3.0 * H;
    // The link drops at t0 + 100 and returns at t0 + 800: the oldest fact's age grows from
    // then, and the uplink counts as failing once it passes 300 s.
    let hall_at = |t: f64| {
        let mut h = hall(0.0);
        h.uplink.configured = true;
        let down = t >= t0 + 100.0 && t < t0 + 800.0;
        h.uplink.connected = !down;
        h.uplink.lag_s = if down { t - (t0 + 100.0) } else { 0.0 };
        h.uplink.lag_events = if down {
            ((t - t0 - 100.0) / 10.0) as u64
        } else {
            0
        };
        h
    };
    let events = run(&mut e, t0, t0 + 1000.0, 10.0, hall_at);
    assert_eq!(
        kinds(&events),
        [
            (EventKind::Triggered, t0 + 470.0),
            (EventKind::Resolved, t0 + 810.0)
        ],
        "failing after 300 s of lag, held for 60 s"
    );
    assert_eq!(events[0].value, 37.0, "facts waiting");
    // A hall without an [uplink] never raises it.
    let mut e = engine(vec![AlertRule::new("u", AlertKind::UplinkFailing)]);
    let events = run(&mut e, t0, t0 + 1000.0, 10.0, |_| hall(0.0));
    assert!(events.is_empty());
}
