//! Zone and session logic driven by hand-advanced stream time.

use hallwatch_config::{Config, ZoneRole};
use hallwatch_core::{BBox, TrackId, TrackState, TrackStatus};
use hallwatch_zones::{CounterState, HallMetrics, ZoneEngine, ZoneEvent};

const W: u32 = 1000;
const H: u32 = 1000;

/// Waiting zone: the left half below y = 0.5. Counter 1: right half, x 0.6..0.9, y 0.6..0.9,
/// with staff behind it at y 0.2..0.4. Entrance: the line y = 0.5 across x 0.1..0.5... no, a
/// short line at the top left, inside below it.
fn config() -> Config {
    Config::from_toml_str(
        r#"
[site]
id = "t"

[[cameras]]
id = "cam"
source = { kind = "test" }

[[zones]]
id = "cho"
camera = "cam"
role = "waiting"
polygon = [[0.0, 0.5], [0.5, 0.5], [0.5, 1.0], [0.0, 1.0]]

[[zones]]
id = "quay-1"
camera = "cam"
role = "counter"
counter = 1
polygon = [[0.6, 0.6], [0.9, 0.6], [0.9, 0.9], [0.6, 0.9]]
staff_polygon = [[0.6, 0.2], [0.9, 0.2], [0.9, 0.4], [0.6, 0.4]]

[[zones]]
id = "cua"
camera = "cam"
role = "entrance"
line = [[0.0, 0.3], [0.4, 0.3]]
inside = "left"

[[zones]]
id = "poster"
camera = "cam"
role = "ignore"
polygon = [[0.0, 0.9], [0.1, 0.9], [0.1, 1.0], [0.0, 1.0]]

[hall]
enter_after_s = 0.0
exit_after_s = 3.0
merge_gap_s = 5.0
merge_distance = 0.08
queue_smoothing_s = 10.0
"#,
    )
    .expect("config")
}

fn engine() -> ZoneEngine {
    let c = config();
    ZoneEngine::new("cam".into(), &c.zones, &c.hall)
}

/// A track whose feet are at normalised (x, y).
fn at(id: u64, x: f64, y: f64, t: f64) -> TrackState {
    let (fx, fy) = ((x * W as f64) as f32, (y * H as f64) as f32);
    TrackState {
        id: TrackId(id),
        bbox: BBox::new(fx - 20.0, fy - 100.0, fx + 20.0, fy),
        score: 0.9,
        status: TrackStatus::Tracked,
        first_seen: 0.0,
        last_seen: t,
    }
}

fn lost(mut s: TrackState) -> TrackState {
    s.status = TrackStatus::Lost;
    s
}

fn opened(ev: &[ZoneEvent]) -> Vec<&hallwatch_zones::Session> {
    ev.iter()
        .filter_map(|e| match e {
            ZoneEvent::Opened(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn closed(ev: &[ZoneEvent]) -> Vec<&hallwatch_zones::Session> {
    ev.iter()
        .filter_map(|e| match e {
            ZoneEvent::Closed(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// Runs frames every `dt` seconds from `from` to `to` with `f(t)` giving the tracks.
fn run(
    e: &mut ZoneEngine,
    from: f64,
    to: f64,
    dt: f64,
    mut f: impl FnMut(f64) -> (Vec<TrackState>, Vec<TrackState>),
) -> Vec<ZoneEvent> {
    let mut all = Vec::new();
    let mut t = from;
    while t <= to + 1e-9 {
        let (tracks, removed) = f(t);
        all.extend(e.update(&tracks, &removed, W, H, t));
        t += dt;
    }
    all
}

#[test]
fn the_count_follows_the_edge_band_at_once_and_visits_are_dated_by_the_crossings() {
    let mut e = engine();
    let cho = |e: &ZoneEngine| {
        e.counts()
            .iter()
            .find(|c| c.zone == "cho")
            .map(|c| c.people)
    };
    // Walking right along y = 0.7 at 0.1 per second from x = 0.7: outside "cho" (x < 0.5).
    // Box height 100 px of 1000: the edge band is 5 px, 0.005 of the width.
    let ev = run(&mut e, 0.0, 1.0, 0.5, |t| {
        (vec![at(1, 0.7 - 0.1 * t, 0.7, t)], vec![])
    });
    assert!(opened(&ev).is_empty());
    assert_eq!(cho(&e), Some(0));
    // At t = 2.5 the anchor is at 0.45: counted at once, the visit dated from the crossing of
    // x = 0.5 at t = 2.0 (interpolated between the frames at 2.0 and 2.5).
    let ev = run(&mut e, 1.5, 2.5, 0.5, |t| {
        (vec![at(1, 0.7 - 0.1 * t, 0.7, t)], vec![])
    });
    let o = opened(&ev);
    assert_eq!(o.len(), 1, "{ev:?}");
    assert!((o[0].enter - 2.0).abs() < 1e-6, "{}", o[0].enter);
    assert_eq!(cho(&e), Some(1));
    // Standing at the edge, the box jittering 3 px either side of it: still counted (inside
    // the band), no new visit, nothing closed.
    let ev = run(&mut e, 3.0, 10.0, 0.5, |t| {
        let x = if (t * 2.0) as i64 % 2 == 0 {
            0.497
        } else {
            0.503
        };
        (vec![at(1, x, 0.7, t)], vec![])
    });
    assert!(opened(&ev).is_empty() && closed(&ev).is_empty(), "{ev:?}");
    assert_eq!(cho(&e), Some(1));
    // Walking out to the right: the count drops as soon as the anchor is past the band, and
    // the visit, once `exit_after_s` (3 s) has passed, ends at the crossing of x = 0.5.
    let ev = run(&mut e, 10.5, 11.0, 0.5, |t| {
        (vec![at(1, 0.49 + 0.04 * (t - 10.0), 0.7, t)], vec![])
    });
    assert!(closed(&ev).is_empty());
    assert_eq!(cho(&e), Some(0), "out of the band at 0.53");
    let ev = run(&mut e, 11.5, 14.5, 0.5, |t| {
        (vec![at(1, 0.6, 0.7, t)], vec![])
    });
    let c = closed(&ev);
    assert_eq!(c.len(), 1, "{ev:?}");
    // From 0.51 (t = 10.5) to 0.53 (t = 11): the last crossing... the anchor crossed 0.5
    // between t = 10.0 (0.497 or 0.503) and 10.5 (0.51).
    let exit = c[0].exit.expect("exit");
    assert!((10.0..=10.5).contains(&exit), "{exit}");
    assert!(!c[0].truncated);
    // Stepping out and back in within exit_after_s continues the visit.
    let ev = run(&mut e, 20.0, 30.0, 0.5, |t| {
        let x = if (24.0..25.0).contains(&t) { 0.6 } else { 0.3 };
        (vec![at(1, x, 0.7, t)], vec![])
    });
    assert_eq!(opened(&ev).len(), 1, "{ev:?}");
    assert!(closed(&ev).is_empty(), "{ev:?}");
}

#[test]
fn passers_by_at_a_counter_are_not_served() {
    let mut e = engine();
    // Through counter 1 (x 0.6..0.9, y 0.6..0.9) in 1.5 s: under service_min_s (2 s).
    let ev = run(&mut e, 0.0, 3.0, 0.5, |t| {
        (vec![at(1, 0.55 + 0.15 * t, 0.75, t)], vec![])
    });
    assert!(opened(&ev).is_empty(), "{ev:?}");
    // Staying 3 s: a service dated from the step in.
    let ev = run(&mut e, 5.0, 9.0, 0.5, |t| {
        (vec![at(2, 0.7, 0.75, t)], vec![])
    });
    let o = opened(&ev);
    assert_eq!(o.len(), 1);
    assert_eq!((o[0].role, o[0].enter), (ZoneRole::Counter, 5.0));
}

#[test]
fn a_new_track_where_a_stranger_walks_is_not_their_visit() {
    let mut e = engine();
    // Person 1 walks left through the waiting zone at 0.05/s and is lost at x = 0.3 (t = 4);
    // person 2 stands outside the zone all the while.
    let ev = run(&mut e, 0.0, 4.0, 0.5, |t| {
        (
            vec![at(1, 0.5 - 0.05 * t + 0.001, 0.7, t), at(2, 0.3, 0.3, t)],
            vec![],
        )
    });
    assert_eq!(opened(&ev).len(), 1);
    run(&mut e, 4.5, 4.5, 0.5, |t| {
        (vec![at(2, 0.3, 0.3, t)], vec![lost(at(1, 0.3, 0.7, 4.0))])
    });
    // Person 2, seen already (born at t = 0 outside the zone), steps onto that very spot 1 s
    // later: two tracks at once are two people, a new visit.
    let ev = run(&mut e, 5.0, 8.0, 0.5, |t| {
        (vec![at(2, 0.3, 0.7, t)], vec![])
    });
    let o = opened(&ev);
    assert_eq!(o.len(), 1, "{ev:?}");
    assert_eq!(o[0].tracks, vec![TrackId(2)]);
    // A track born after person 1 vanished, where they would be by now (walking on at
    // 0.05/s): the same visit continues.
    let mut e = engine();
    run(&mut e, 0.0, 4.0, 0.5, |t| {
        (vec![at(1, 0.5 - 0.05 * t + 0.001, 0.7, t)], vec![])
    });
    run(&mut e, 4.5, 4.5, 0.5, |_| {
        (vec![], vec![lost(at(1, 0.3, 0.7, 4.0))])
    });
    let ev = run(&mut e, 6.0, 7.0, 0.5, |t| {
        (vec![at(3, 0.3 - 0.05 * (t - 4.0), 0.7, t)], vec![])
    });
    assert!(opened(&ev).is_empty(), "{ev:?}");
    assert_eq!(e.open_sessions()[0].tracks, vec![TrackId(1), TrackId(3)]);
    // Someone born then but walking the other way, far from the prediction: not them.
    let mut e = engine();
    run(&mut e, 0.0, 4.0, 0.5, |t| {
        (vec![at(1, 0.5 - 0.05 * t + 0.001, 0.7, t)], vec![])
    });
    run(&mut e, 4.5, 4.5, 0.5, |_| {
        (vec![], vec![lost(at(1, 0.3, 0.7, 4.0))])
    });
    let ev = run(&mut e, 8.0, 9.0, 0.5, |t| {
        (vec![at(4, 0.45, 0.7, t)], vec![])
    });
    assert_eq!(opened(&ev).len(), 1, "{ev:?}");
}

#[test]
fn an_id_switch_continues_the_visit_but_a_late_return_is_a_new_one() {
    let mut e = engine();
    let ev = run(&mut e, 0.0, 10.0, 0.5, |t| {
        (vec![at(1, 0.2, 0.7, t)], vec![])
    });
    assert_eq!(opened(&ev).len(), 1);
    // Track 1 is lost at 10.5 (occlusion) and removed at 12; track 2 appears at 12.5 a few
    // pixels away: same visit.
    let ev = run(&mut e, 10.5, 12.0, 0.5, |t| {
        if t < 12.0 {
            (vec![lost(at(1, 0.2, 0.7, 10.0))], vec![])
        } else {
            (vec![], vec![lost(at(1, 0.2, 0.7, 10.0))])
        }
    });
    assert!(closed(&ev).is_empty(), "{ev:?}");
    // Track 2 sits until 25 s, then walks off to the right.
    let x = |t: f64| 0.22 + (t - 25.0).max(0.0) * 0.04;
    let ev = run(&mut e, 12.5, 30.0, 0.5, |t| {
        (vec![at(2, x(t), 0.71, t)], vec![])
    });
    assert!(opened(&ev).is_empty(), "no new visit: {ev:?}");
    let open = e.open_sessions();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].tracks, vec![TrackId(1), TrackId(2)]);
    assert_eq!(open[0].enter, 0.0);
    // Track 2 is lost while walking at 30 s: after the merge gap the visit closes at 30 s.
    let ev = run(&mut e, 30.5, 36.0, 0.5, |t| {
        (
            vec![],
            if t == 30.5 {
                vec![lost(at(2, x(30.0), 0.71, 30.0))]
            } else {
                vec![]
            },
        )
    });
    let c = closed(&ev);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].exit, Some(30.0));
    // Track 3 at the same place 10 s later: a new visit (longer than the gap).
    let ev = run(&mut e, 40.0, 43.0, 0.5, |t| {
        (vec![at(3, x(30.0), 0.71, t)], vec![])
    });
    let o = opened(&ev);
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].tracks, vec![TrackId(3)]);
}

#[test]
fn someone_hidden_while_sitting_still_keeps_their_visit_for_longer() {
    let mut e = engine();
    // Seated from 0 to 20 s, then hidden: lost at 20.5, removed at 22.
    let ev = run(&mut e, 0.0, 20.0, 0.5, |t| {
        (vec![at(1, 0.2, 0.7, t)], vec![])
    });
    assert_eq!(opened(&ev).len(), 1);
    let ev = run(&mut e, 20.5, 34.5, 0.5, |t| {
        if t < 22.0 {
            (vec![lost(at(1, 0.2, 0.7, 20.0))], vec![])
        } else if t == 22.0 {
            (vec![], vec![lost(at(1, 0.2, 0.7, 20.0))])
        } else {
            (vec![], vec![])
        }
    });
    assert!(closed(&ev).is_empty(), "still waiting for them: {ev:?}");
    // Back 15 s after last seen, in the same seat as track 2: the same visit, no abandonment.
    let ev = run(&mut e, 35.0, 80.0, 0.5, |t| {
        (vec![at(2, 0.21, 0.71, t)], vec![])
    });
    assert!(opened(&ev).is_empty(), "{ev:?}");
    assert!(
        !ev.iter().any(|x| matches!(x, ZoneEvent::Abandoned { .. })),
        "{ev:?}"
    );
    let open = e.open_sessions();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].enter, &open[0].tracks),
        (0.0, &vec![TrackId(1), TrackId(2)])
    );
    // Hidden again, this time for good: after 20 s of waiting for them the visit ends, dated
    // when they were last seen.
    let ev = run(&mut e, 80.5, 99.0, 0.5, |t| {
        if t == 80.5 {
            (vec![], vec![lost(at(2, 0.21, 0.71, 80.0))])
        } else {
            (vec![], vec![])
        }
    });
    assert!(closed(&ev).is_empty(), "{ev:?}");
    let ev = run(&mut e, 99.5, 101.0, 0.5, |_| (vec![], vec![]));
    let c = closed(&ev);
    assert_eq!(c.len(), 1, "{ev:?}");
    assert_eq!(c[0].exit, Some(80.0));
}

#[test]
fn far_away_new_tracks_are_not_merged() {
    let mut e = engine();
    run(&mut e, 0.0, 5.0, 0.5, |t| {
        (vec![at(1, 0.1, 0.6, t)], vec![])
    });
    run(&mut e, 5.5, 5.5, 0.5, |_| {
        (vec![], vec![lost(at(1, 0.1, 0.6, 5.0))])
    });
    // Someone else, across the zone, appears right away.
    let ev = run(&mut e, 6.0, 9.0, 0.5, |t| {
        (vec![at(2, 0.45, 0.95, t)], vec![])
    });
    let o = opened(&ev);
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].tracks, vec![TrackId(2)]);
}

#[test]
fn open_visits_are_truncated_at_shutdown() {
    let mut e = engine();
    run(&mut e, 0.0, 8.0, 0.5, |t| {
        (vec![at(1, 0.2, 0.7, t), at(2, 0.7, 0.7, t)], vec![])
    });
    assert_eq!(e.open_sessions().len(), 2);
    let ev = e.close_all(9.0);
    let c = closed(&ev);
    assert_eq!(c.len(), 2);
    assert!(c.iter().all(|s| s.truncated && s.exit == Some(9.0)));
    assert!(e.open_sessions().is_empty());
}

#[test]
fn staff_are_never_citizens_and_counter_states_follow() {
    let mut e = engine();
    let mut m = HallMetrics::new(&config().hall);
    let mut feed = |e: &mut ZoneEngine, from: f64, to: f64, f: &dyn Fn(f64) -> Vec<TrackState>| {
        let mut t = from;
        let mut all = Vec::new();
        while t <= to + 1e-9 {
            let ev = e.update(&f(t), &[], W, H, t);
            m.observe(&e.counts(), &ev, t);
            all.extend(ev);
            t += 0.5;
        }
        (all, m.snapshot(to))
    };
    // Nobody at all: the counter's staff area is empty.
    let (_, s) = feed(&mut e, 0.0, 1.0, &|_| vec![]);
    assert_eq!(s.counters[0].state, CounterState::StaffAbsent);
    // A staff member sits behind the counter.
    let (ev, s) = feed(&mut e, 1.5, 5.0, &|t| vec![at(9, 0.75, 0.3, t)]);
    assert!(opened(&ev).is_empty());
    assert_eq!(s.counters[0].state, CounterState::Idle);
    // The staff member walks round through the counter zone: still not a citizen.
    let (ev, _) = feed(&mut e, 5.5, 9.0, &|t| vec![at(9, 0.75, 0.75, t)]);
    assert!(opened(&ev).is_empty(), "{ev:?}");
    // Back behind the counter; a citizen comes and is served for 20 s.
    let (ev, s) = feed(&mut e, 9.5, 30.0, &|t| {
        vec![at(9, 0.75, 0.3, t), at(4, 0.7, 0.8, t)]
    });
    assert_eq!(opened(&ev).len(), 1);
    assert_eq!(opened(&ev)[0].role, ZoneRole::Counter);
    assert_eq!(s.counters[0].state, CounterState::Serving);
    let serving = s.counters[0].serving_for_s.expect("serving");
    assert!((serving - 20.5).abs() < 1e-9, "{serving}");
    // The citizen vanishes (no successor within merge_gap_s, 5 s): the service ends when
    // they were last seen.
    let (ev, s) = feed(&mut e, 30.5, 35.5, &|t| vec![at(9, 0.75, 0.3, t)]);
    assert_eq!(closed(&ev).len(), 1);
    assert_eq!(s.counters[0].served, 1);
    assert_eq!(s.counters[0].mean_service_s, Some(20.5));
    assert_eq!(s.counters[0].state, CounterState::Idle);
}

#[test]
fn entrance_crossings_count_arrivals_and_ignore_zones_hide_people() {
    let mut e = engine();
    let mut m = HallMetrics::new(&config().hall);
    // Walks in across the entrance line (y from 0.2 to 0.4 at x = 0.2): inward (inside is
    // the left of the line's direction, i.e. below it on screen... checked by the sign).
    let mut events = Vec::new();
    for (i, y) in [0.2, 0.25, 0.35, 0.4].iter().enumerate() {
        let t = i as f64 * 0.5;
        let ev = e.update(&[at(1, 0.2, *y, t)], &[], W, H, t);
        m.observe(&e.counts(), &ev, t);
        events.extend(ev);
    }
    let crossings: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            ZoneEvent::Crossed { inward, .. } => Some(*inward),
            _ => None,
        })
        .collect();
    assert_eq!(crossings.len(), 1);
    let s = m.snapshot(2.0);
    assert_eq!(
        s.arrivals_total,
        crossings.iter().filter(|c| **c).count() as u64
    );
    // Someone standing in the ignore zone (inside the waiting zone too) is never counted.
    let ev = run(&mut e, 3.0, 10.0, 0.5, |t| {
        (vec![at(7, 0.05, 0.95, t)], vec![])
    });
    assert!(opened(&ev).is_empty());
}

#[test]
fn leaving_after_a_wait_without_a_counter_visit_is_abandonment() {
    let mut e = engine();
    let mut m = HallMetrics::new(&config().hall);
    let mut all = Vec::new();
    let mut step =
        |e: &mut ZoneEngine, tracks: Vec<TrackState>, removed: Vec<TrackState>, t: f64| {
            let ev = e.update(&tracks, &removed, W, H, t);
            m.observe(&e.counts(), &ev, t);
            all.extend(ev);
        };
    // Person 1 waits 60 s then goes to counter 1: served. Person 2 waits in the zone until
    // 30 s, stands still (seen at the same spot) until 60 s, walks out of every zone and is
    // gone at 70 s.
    let mut t = 0.0;
    while t <= 60.0 {
        step(
            &mut e,
            vec![at(1, 0.2, 0.7, t), at(2, 0.3, 0.8, t.min(30.0))],
            vec![],
            t,
        );
        t += 0.5;
    }
    // (Counted once nobody has turned up at a counter for them for 30 s: by 100 s.)
    let mut t: f64 = 60.5;
    while t <= 110.0 {
        let removed = if (t - 70.0).abs() < 1e-9 {
            vec![at(2, 0.7, 0.3, 69.5)]
        } else {
            vec![]
        };
        let mut tracks = vec![at(1, 0.7, 0.7, t)];
        if t < 70.0 {
            tracks.push(at(2, 0.95, 0.45, t));
        }
        step(&mut e, tracks, removed, t);
        t += 0.5;
    }
    let abandoned: Vec<_> = all
        .iter()
        .filter_map(|e| match e {
            ZoneEvent::Abandoned { track, zone, .. } => Some((*track, zone.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(abandoned, vec![(TrackId(2), "cho".to_string())], "{all:?}");
    let s = m.snapshot(110.0);
    assert_eq!(s.abandoned, 1);
    assert_eq!(s.waits, 2);
}

#[test]
fn a_new_track_at_a_counter_right_after_a_seat_emptied_is_the_same_person() {
    let mut e = engine();
    let mut all = Vec::new();
    // Track 1 waits 60 s, then walks towards the counters and is lost on the way at 62 s
    // (an ID switch); track 2 appears and reaches counter 1 at 66 s, never seen waiting.
    all.extend(run(&mut e, 0.0, 62.0, 0.5, |t| {
        let x = if t <= 60.0 {
            0.2
        } else {
            0.2 + (t - 60.0) * 0.1
        };
        (vec![at(1, x, 0.7, t)], vec![])
    }));
    all.extend(run(&mut e, 62.5, 120.0, 0.5, |t| {
        let removed = if (t - 65.0).abs() < 1e-9 {
            vec![lost(at(1, 0.4, 0.7, 62.0))]
        } else {
            vec![]
        };
        let tracks = if t >= 64.0 {
            vec![at(2, 0.7, 0.7, t)]
        } else {
            vec![]
        };
        (tracks, removed)
    }));
    let counter_visits = opened(&all).iter().filter(|s| s.zone == "quay-1").count();
    assert_eq!(counter_visits, 1, "{all:?}");
    assert!(
        !all.iter().any(|x| matches!(x, ZoneEvent::Abandoned { .. })),
        "the wait ended at the counter: {all:?}"
    );
    // Someone walking straight to a counter with no seat emptied nearby changes nothing, and
    // a seat emptied with nobody turning up is an abandonment after 30 s.
    let mut e = engine();
    let ev = run(&mut e, 0.0, 40.0, 0.5, |t| {
        (vec![at(5, 0.7, 0.7, t), at(6, 0.2, 0.7, t)], vec![])
    });
    assert_eq!(opened(&ev).len(), 2);
    // (Sitting still, the visit waits 20 s for them to reappear, closes at 90 s; counted as
    // an abandonment 30 s after they were last seen: by 110 s.)
    let ev = run(&mut e, 40.5, 110.0, 0.5, |t| {
        let tracks = if t <= 70.0 {
            vec![at(6, 0.2, 0.7, t)]
        } else {
            vec![]
        };
        let removed = if (t - 72.0).abs() < 1e-9 {
            vec![lost(at(6, 0.2, 0.7, 70.0))]
        } else {
            vec![]
        };
        (tracks, removed)
    });
    let gone: Vec<f64> = ev
        .iter()
        .filter_map(|x| match x {
            ZoneEvent::Abandoned { t, .. } => Some(*t),
            _ => None,
        })
        .collect();
    assert_eq!(gone, vec![70.0], "{ev:?}");
    // Someone who crossed the waiting area in 10 s and vanished did not give up waiting.
    let mut e = engine();
    let ev = run(&mut e, 0.0, 10.0, 0.5, |t| {
        (vec![at(7, 0.05 + 0.04 * t, 0.7, t)], vec![])
    });
    assert_eq!(opened(&ev).len(), 1);
    let ev = run(&mut e, 10.5, 80.0, 0.5, |t| {
        let removed = if (t - 12.0).abs() < 1e-9 {
            vec![lost(at(7, 0.45, 0.7, 10.0))]
        } else {
            vec![]
        };
        (vec![], removed)
    });
    assert!(
        !ev.iter().any(|x| matches!(x, ZoneEvent::Abandoned { .. })),
        "{ev:?}"
    );
}

#[test]
fn queue_length_is_smoothed_over_the_window() {
    let c = config();
    let mut e = ZoneEngine::new("cam".into(), &c.zones, &c.hall);
    let mut m = HallMetrics::new(&c.hall);
    // Three people waiting from t = 0; at t = 20 two get up and walk out of the zone.
    let mut t = 0.0;
    while t <= 40.0 + 1e-9 {
        let mut tracks = vec![at(1, 0.1, 0.6, t)];
        if t < 20.0 {
            tracks.push(at(2, 0.2, 0.7, t));
            tracks.push(at(3, 0.3, 0.8, t));
        } else {
            tracks.push(at(2, 0.7, 0.3, t));
            tracks.push(at(3, 0.8, 0.3, t));
        }
        let ev = e.update(&tracks, &[], W, H, t);
        m.observe(&e.counts(), &ev, t);
        t += 1.0;
        if (t - 19.0).abs() < 1e-9 {
            let s = m.snapshot(18.0);
            let z = s.zones.iter().find(|z| z.zone == "cho").expect("zone");
            assert_eq!(z.people_now, 3);
            assert!((z.people_smoothed - 3.0).abs() < 1e-9, "{z:?}");
        }
        if (t - 25.0).abs() < 1e-9 {
            // At t = 24: 2 and 3 were last inside at 19 and walked out; the count dropped at
            // once, at 20 (the visits close 3 s later, dated when they stepped out). The 10 s window holds the samples 14..24: 3 people at 14..19
            // (6 samples), 1 at 20..24 (5).
            let s = m.snapshot(24.0);
            let z = s.zones.iter().find(|z| z.zone == "cho").expect("zone");
            assert_eq!(z.people_now, 1);
            assert!(
                (z.people_smoothed - (6.0 * 3.0 + 5.0) / 11.0).abs() < 1e-9,
                "{z:?}"
            );
            assert_eq!(s.waiting_now, 1);
        }
        if (t - 26.0).abs() < 1e-9 {
            // The step from 3 to 1 at t = 20 is past half-way (2) by half the window (10 s)
            // after it: the smoothing lags a step by no more than half its window.
            let s = m.snapshot(25.0);
            let z = s.zones.iter().find(|z| z.zone == "cho").expect("zone");
            assert!(z.people_smoothed <= 2.0 + 1e-9, "{z:?}");
        }
    }
}

#[test]
fn the_analysis_rate_rises_only_for_movement_near_zones() {
    let mut z = engine();
    // A citizen sitting in the waiting area: new at first, then still.
    z.update(&[at(1, 0.25, 0.75, 0.0)], &[], W, H, 0.0);
    assert!(
        z.moving_near_zones(),
        "a person just confirmed counts as movement"
    );
    for k in 1..=10 {
        let t = f64::from(k) * 0.5;
        // A jittering box (2 px) is not walking.
        let x = 0.25 + if k % 2 == 0 { 0.002 } else { 0.0 };
        z.update(&[at(1, x, 0.75, t)], &[], W, H, t);
    }
    assert!(!z.moving_near_zones(), "a seated person keeps the rate low");

    // Someone walking along the top of the picture, far from every zone and the entrance line.
    let mut z = engine();
    for k in 0..=10 {
        let t = f64::from(k) * 0.5;
        z.update(&[at(2, 0.6 + 0.03 * f64::from(k), 0.08, t)], &[], W, H, t);
    }
    assert!(
        !z.moving_near_zones(),
        "walking far from the zones does not count"
    );

    // Walking towards the waiting area, 50 px (half a box height) outside its edge.
    let mut z = engine();
    for (k, y) in [0.30, 0.35, 0.40, 0.45].iter().enumerate() {
        let t = 1.0 + k as f64 * 0.5;
        z.update(&[at(3, 0.45, *y, t)], &[], W, H, t);
    }
    assert!(
        z.moving_near_zones(),
        "a walker about to enter raises the rate"
    );

    // A seated person the tracker lost for a moment: more frames help find them again.
    let mut z = engine();
    for k in 0..=6 {
        let t = f64::from(k) * 0.5;
        z.update(&[at(4, 0.25, 0.75, t)], &[], W, H, t);
    }
    assert!(!z.moving_near_zones());
    z.update(&[lost(at(4, 0.25, 0.75, 3.0))], &[], W, H, 3.5);
    assert!(
        z.moving_near_zones(),
        "a lost track near a zone raises the rate"
    );
}

#[test]
fn todays_figures_start_again_at_local_midnight() {
    let c = config();
    let mut e = engine();
    let mut m = HallMetrics::new(&c.hall).with_calendar(c.calendar().expect("calendar"));
    // 2026-12-07 23:50 in Asia/Ho_Chi_Minh (the default site time zone).
    let t0 = 1_796_662_200.0;
    let feed = |e: &mut ZoneEngine,
                m: &mut HallMetrics,
                from: f64,
                to: f64,
                f: &dyn Fn(f64) -> Vec<TrackState>| {
        let mut t = from;
        while t <= to + 1e-9 {
            let ev = e.update(&f(t), &[], W, H, t);
            m.observe(&e.counts(), &ev, t);
            t += 0.5;
        }
        m.snapshot(to)
    };
    // A citizen waits 2 minutes, then is served for a minute at counter 1 and leaves.
    feed(&mut e, &mut m, t0, t0 + 120.0, &|t| {
        vec![at(1, 0.25, 0.75, t)]
    });
    feed(&mut e, &mut m, t0 + 120.5, t0 + 180.0, &|t| {
        vec![at(1, 0.75, 0.75, t)]
    });
    let s = feed(&mut e, &mut m, t0 + 180.5, t0 + 200.0, &|_| vec![]);
    assert_eq!(s.waits, 1);
    assert!(
        s.mean_wait_s.is_some_and(|w| (w - 120.0).abs() < 1.0),
        "{s:?}"
    );
    assert_eq!(s.counters[0].served, 1);
    let day = m.day().expect("day");
    assert_eq!(day.to_string(), "2026-12-07");
    // Still the same local day at 23:59:59.
    let s = feed(&mut e, &mut m, t0 + 599.0, t0 + 599.0, &|_| vec![]);
    assert_eq!((s.waits, s.counters[0].served), (1, 1));
    // The clock passes local midnight: today's totals start at zero.
    let s = feed(&mut e, &mut m, t0 + 600.5, t0 + 601.0, &|_| vec![]);
    assert_eq!(m.day().expect("day").to_string(), "2026-12-08");
    assert_eq!((s.waits, s.abandoned, s.arrivals_total), (0, 0, 0));
    assert_eq!(s.mean_wait_s, None);
    assert_eq!(s.within_target, None);
    assert_eq!(s.counters[0].served, 0);
    assert_eq!(s.counters[0].mean_service_s, None);
}
