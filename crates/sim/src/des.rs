//! One working day of the hall as a discrete-event simulation: arrivals, the kiosk, seats,
//! counters calling tickets, services, officers' absences, no-shows, abandonment, ratings.

use crate::config::{SimConfig, parse_hm};
use crate::layout::{Layout, P};
use crate::model::{
    CitizenTruth, Outcome, QueueSample, RatingEvent, RatingLevel, TicketEvent, TicketEventKind,
};
use crate::path::{Path, Stream};
use chrono::NaiveDate;
use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal, StandardNormal};
use rand_pcg::Pcg64;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A citizen of the day: the truth, where they walk, when they are hidden from the camera.
#[derive(Clone, Debug)]
pub(crate) struct Citizen {
    pub truth: CitizenTruth,
    pub path: Path,
    /// Occlusion episodes `[from, to)`.
    pub episodes: Vec<(f64, f64)>,
    service: usize,
    speed: f64,
    /// Seat (`Some(i)`), standing place (`Some(seats + i)`) or overflow (`None`).
    place: Option<usize>,
    gone: bool,
    called: bool,
    no_show_at: f64,
    patience_at: f64,
}

/// An officer: at their chair during `present` intervals.
#[derive(Clone, Debug)]
pub(crate) struct Staff {
    pub spot: P,
    pub present: Vec<(f64, f64)>,
}

/// A simulated day, ready to be emitted.
#[derive(Clone, Debug)]
pub(crate) struct DayPlan {
    /// Frames cover `[window.0, window.1]`.
    pub window: (f64, f64),
    /// Citizens in order of arrival.
    pub citizens: Vec<Citizen>,
    /// One per counter.
    pub staff: Vec<Staff>,
    /// In time order.
    pub tickets: Vec<TicketEvent>,
    /// In time order.
    pub ratings: Vec<RatingEvent>,
    /// Indices into `citizens` in the order they left.
    pub leave_order: Vec<usize>,
}

impl DayPlan {
    /// The true queue at `t`.
    pub fn queue_at(&self, t: f64) -> QueueSample {
        let mut q = QueueSample {
            t,
            waiting: 0,
            pending_tickets: 0,
            serving: 0,
        };
        for c in &self.citizens {
            let tr = &c.truth;
            if tr.ticket_at <= t {
                if t < tr.wait_end() {
                    q.waiting += 1;
                }
                if tr.called_at.is_none_or(|c| t < c) {
                    q.pending_tickets += 1;
                }
            }
            if let (Some(a), Some(b)) = (tr.service_start, tr.service_end)
                && a <= t
                && t < b
            {
                q.serving += 1;
            }
        }
        q
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Ticket(usize),
    GiveUp(usize),
    Ready(usize),
    BreakDue(usize),
    BreakEnd(usize),
    SessionStart,
    SessionEnd,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Ev {
    t: f64,
    seq: u64,
    kind: Kind,
}

impl Eq for Ev {}

impl Ord for Ev {
    fn cmp(&self, o: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and the earliest event comes first.
        o.t.total_cmp(&self.t).then(o.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Ev {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

struct Counter {
    number: u32,
    speed: f64,
    serves: Vec<bool>,
    open: bool,
    busy: bool,
    on_break: bool,
    break_pending: bool,
    present_since: Option<f64>,
}

struct Day<'a> {
    cfg: &'a SimConfig,
    layout: &'a Layout,
    sessions: &'a [(f64, f64)],
    rng: Pcg64,
    heap: BinaryHeap<Ev>,
    seq: u64,
    citizens: Vec<Citizen>,
    counters: Vec<Counter>,
    staff: Vec<Staff>,
    pending: Vec<usize>,
    /// Occupant of each seat then standing place.
    places: Vec<Option<usize>>,
    tickets: Vec<(f64, u64, TicketEvent)>,
    ratings: Vec<RatingEvent>,
}

/// How far (image widths) towards the door a citizen leaving a counter steps back.
const STEP_ASIDE: f64 = 0.07;

/// Seconds to sit down or stand up.
const SIT_S: f64 = 1.5;

/// People come through the door at this fraction of their walking speed (opening it, looking
/// for the kiosk).
const DOOR_SPEED: f64 = 0.4;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Day<'_> {
    fn push(&mut self, t: f64, kind: Kind) {
        self.seq += 1;
        self.heap.push(Ev {
            t,
            seq: self.seq,
            kind,
        });
    }

    fn ticket_event(&mut self, i: usize, event: TicketEventKind, counter: Option<u32>, t: f64) {
        let c = &self.citizens[i].truth;
        let e = TicketEvent {
            number: c.ticket.clone(),
            service: c.service.clone(),
            event,
            counter,
            t,
        };
        self.seq += 1;
        self.tickets.push((t, self.seq, e));
    }

    fn in_session(&self, t: f64) -> bool {
        self.sessions.iter().any(|&(s, e)| s <= t && t < e)
    }

    fn place_point(&mut self, place: Option<usize>) -> (P, bool) {
        let seats = self.layout.seats.len();
        match place {
            Some(k) if k < seats => (self.layout.seats[k], true),
            Some(k) => (self.layout.standing[k - seats], false),
            None => {
                let o = self.layout.overflow;
                let x = self.rng.random_range(o[0]..=o[1]);
                let y = self.rng.random_range(o[2]..=o[3]);
                ((x, y), false)
            }
        }
    }

    fn take_ticket(&mut self, i: usize, t: f64) {
        self.ticket_event(i, TicketEventKind::Issued, None, t);
        // A free seat at random, else the first free standing place, else the overflow.
        let seats = self.layout.seats.len();
        let free: Vec<usize> = (0..seats).filter(|&k| self.places[k].is_none()).collect();
        let place = if free.is_empty() {
            (seats..self.places.len()).find(|&k| self.places[k].is_none())
        } else {
            Some(free[self.rng.random_range(0..free.len())])
        };
        if let Some(k) = place {
            self.places[k] = Some(i);
        }
        let (p, seated) = self.place_point(place);
        let c = &mut self.citizens[i];
        c.place = place;
        let from = c.path.at(t).map(|(q, _)| q).unwrap_or(self.layout.kiosk);
        let route = self.layout.route(from, p);
        let at = c.path.walk(self.layout, &route, c.speed);
        if seated {
            c.path.hold(at + SIT_S, 1.0);
        }
        c.path.stay();
        c.truth.seated_at = Some(at);
        self.pending.push(i);
        let leave = c.no_show_at.min(c.patience_at);
        self.push(leave, Kind::GiveUp(i));
        for k in 0..self.counters.len() {
            self.dispatch(k, t);
        }
    }

    fn free_place(&mut self, i: usize) {
        if let Some(k) = self.citizens[i].place.take() {
            self.places[k] = None;
        }
    }

    /// Walks citizen `i` from where they are at `t` out of the door. From a counter they step
    /// back diagonally towards the door, out of the way of the next citizen coming up.
    fn walk_out(&mut self, i: usize, t: f64) {
        let l = self.layout;
        let c = &mut self.citizens[i];
        let sit = c.path.cut(t);
        c.path.hold(t + SIT_S * sit, 0.0);
        let from = c.path.at(t).map(|(q, _)| q).unwrap_or(l.door_in);
        let mut route = vec![from];
        let at_counter = l.counters.values().any(|s| s.citizen == from);
        let start = if at_counter {
            let side = (from.0 - STEP_ASIDE, l.aisle_y);
            route.push(side);
            side
        } else {
            from
        };
        route.extend(l.route(start, l.door_in));
        route.push(l.door_out);
        c.truth.left_at = c.path.walk(l, &route, c.speed);
        c.path.close();
    }

    fn give_up(&mut self, i: usize, t: f64) {
        if self.citizens[i].called || self.citizens[i].gone {
            return;
        }
        self.free_place(i);
        let c = &mut self.citizens[i];
        c.gone = true;
        c.truth.gave_up_at = Some(t);
        c.truth.outcome = if c.no_show_at <= c.patience_at {
            Outcome::NoShow
        } else {
            Outcome::Abandoned
        };
        self.walk_out(i, t);
    }

    fn close(&mut self, k: usize, t: f64) {
        let c = &mut self.counters[k];
        c.open = false;
        if let Some(s) = c.present_since.take()
            && t > s
        {
            self.staff[k].present.push((s, t));
        }
    }

    fn dispatch(&mut self, k: usize, t: f64) {
        {
            let c = &self.counters[k];
            if !c.open || c.busy || c.on_break {
                return;
            }
        }
        let in_session = self.in_session(t);
        let queue = {
            let serves = &self.counters[k].serves;
            self.pending
                .iter()
                .filter(|&&i| serves[self.citizens[i].service])
                .count()
        };
        // An officer puts a break off while more than a few citizens wait for the counter.
        let can_leave = queue <= self.cfg.staff.max_queue_for_break as usize;
        if self.counters[k].break_pending && (can_leave || !in_session) {
            self.counters[k].break_pending = false;
            if in_session {
                let mean = self.cfg.staff.break_mean_min * 60.0;
                let d = Exp::new(1.0 / mean).map_or(mean, |e| e.sample(&mut self.rng));
                let c = &mut self.counters[k];
                c.on_break = true;
                if let Some(s) = c.present_since.take()
                    && t > s
                {
                    self.staff[k].present.push((s, t));
                }
                self.push(t + d, Kind::BreakEnd(k));
                return;
            }
        }
        let serves = &self.counters[k].serves;
        let pick = self
            .pending
            .iter()
            .position(|&i| serves[self.citizens[i].service]);
        let Some(pos) = pick else {
            if !in_session {
                self.close(k, t);
            }
            return;
        };
        let i = self.pending.remove(pos);
        self.call(k, i, t);
    }

    fn call(&mut self, k: usize, i: usize, t: f64) {
        let number = self.counters[k].number;
        self.counters[k].busy = true;
        self.ticket_event(i, TicketEventKind::Called, Some(number), t);
        {
            let c = &mut self.citizens[i];
            c.truth.called_at = Some(t);
            c.truth.counter = Some(number);
        }
        if self.citizens[i].gone {
            let wait = self.cfg.citizens.no_show_wait_s;
            self.ticket_event(i, TicketEventKind::NoShow, Some(number), t + wait);
            self.push(t + wait, Kind::Ready(k));
            return;
        }
        self.free_place(i);
        let l = self.layout;
        let spot = l.counters.get(&number).map_or(l.door_in, |s| s.citizen);
        let svc = &self.cfg.services[self.citizens[i].service];
        let (mean, cv) = (svc.mean_s, svc.cv);
        let raw = LogNormal::from_mean_cv(mean, cv).map_or(mean, |d| d.sample(&mut self.rng));
        let service_s = (raw / self.counters[k].speed).max(30.0);
        let rate = self.rng.random::<f64>();
        let level_u = self.rng.random::<f64>();
        let rating_delay = self.rng.random_range(2.0..8.0);
        let [r0, r1] = self.cfg.citizens.call_reaction_s;
        let react = self.rng.random_range(r0..=r1);
        let c = &mut self.citizens[i];
        c.called = true;
        let sit = c.path.cut(t);
        c.path.hold(t + react, sit);
        c.path.hold(t + react + SIT_S * sit, 0.0);
        let from = c.path.at(t).map(|(q, _)| q).unwrap_or(spot);
        let route = l.route(from, spot);
        let start = c.path.walk(l, &route, c.speed);
        let end = start + service_s;
        c.path.hold(end, 0.0);
        c.truth.service_start = Some(start);
        c.truth.service_end = Some(end);
        c.truth.outcome = Outcome::Served;
        let waited_min = (t - c.truth.ticket_at) / 60.0;
        self.walk_out(i, end);
        self.ticket_event(i, TicketEventKind::Finished, Some(number), end);
        let r = &self.cfg.ratings;
        if rate < r.prob {
            let very = sigmoid((r.very_until_min - waited_min) / r.scale_min);
            let dis = sigmoid((waited_min - r.satisfied_until_min) / r.scale_min);
            let level = if level_u < very {
                RatingLevel::VerySatisfied
            } else if level_u < very + dis {
                RatingLevel::Dissatisfied
            } else {
                RatingLevel::Satisfied
            };
            self.citizens[i].truth.rating = Some(level);
            self.ratings.push(RatingEvent {
                t: end + rating_delay,
                counter: number,
                ticket: self.citizens[i].truth.ticket.clone(),
                level,
            });
        }
        self.push(end, Kind::Ready(k));
    }

    fn run(&mut self) {
        while let Some(ev) = self.heap.pop() {
            let t = ev.t;
            match ev.kind {
                Kind::Ticket(i) => self.take_ticket(i, t),
                Kind::GiveUp(i) => self.give_up(i, t),
                Kind::Ready(k) => {
                    self.counters[k].busy = false;
                    self.dispatch(k, t);
                }
                Kind::BreakDue(k) => {
                    self.counters[k].break_pending = true;
                    self.dispatch(k, t);
                }
                Kind::BreakEnd(k) => {
                    let c = &mut self.counters[k];
                    c.on_break = false;
                    c.present_since = Some(t);
                    self.dispatch(k, t);
                }
                Kind::SessionStart => {
                    for k in 0..self.counters.len() {
                        let c = &mut self.counters[k];
                        c.break_pending = false;
                        // A counter still finishing the previous session's tickets stays as
                        // it is.
                        if !c.open {
                            c.open = true;
                            c.present_since = Some(t);
                        }
                        self.dispatch(k, t);
                    }
                }
                Kind::SessionEnd => {
                    for k in 0..self.counters.len() {
                        self.dispatch(k, t);
                    }
                }
            }
        }
        // Anyone still at a counter's chair when the day's events ran out leaves now.
        let last = self.sessions.last().map_or(0.0, |s| s.1);
        for k in 0..self.counters.len() {
            if self.counters[k].open {
                self.close(k, last);
            }
        }
    }
}

/// The rate profile's weight at `tod` seconds after local midnight.
fn weight(profile: &[(f64, f64)], tod: f64) -> f64 {
    let k = profile.partition_point(|p| p.0 <= tod);
    if k == 0 || k == profile.len() && tod > profile[k - 1].0 {
        return 0.0;
    }
    let a = profile[k - 1];
    match profile.get(k) {
        None => a.1,
        Some(b) => a.1 + (b.1 - a.1) * (tod - a.0) / (b.0 - a.0),
    }
}

/// Simulates the working day `date` with sessions `sessions` (Unix seconds), local midnight
/// at `midnight`; `index` numbers the day within the run (ids, random streams).
pub(crate) fn simulate_day(
    cfg: &SimConfig,
    layout: &Layout,
    seed: u64,
    index: u64,
    date: NaiveDate,
    midnight: f64,
    sessions: &[(f64, f64)],
) -> DayPlan {
    let mut rng = crate::path::rng(seed, Stream::Day, index);
    let profile: Vec<(f64, f64)> = cfg
        .arrivals
        .profile
        .iter()
        .filter_map(|(t, w)| parse_hm(t).map(|s| (s, *w)))
        .collect();
    // Tickets are issued inside sessions, until `last_ticket_min` before each one ends.
    let cutoff = cfg.arrivals.last_ticket_min * 60.0;
    let windows: Vec<(f64, f64)> = sessions
        .iter()
        .map(|&(s, e)| (s, (e - cutoff).max(s)))
        .filter(|(s, e)| e > s)
        .collect();
    let step: f64 = 5.0;
    let mut integral = 0.0;
    let mut wmax: f64 = 0.0;
    for &(s, e) in &windows {
        let mut t = s;
        while t < e {
            let w = weight(&profile, t - midnight);
            integral += w * step.min(e - t);
            wmax = wmax.max(w);
            t += step;
        }
        wmax = wmax.max(weight(&profile, e - midnight));
    }
    // Thinning of a homogeneous process at the highest rate.
    let mut arrivals = Vec::new();
    let per_day = cfg.arrivals.per_day
        * cfg.arrivals.weekday_factors
            [chrono::Datelike::weekday(&date).num_days_from_monday() as usize];
    if integral > 0.0 && wmax > 0.0 && per_day > 0.0 {
        let scale = per_day / integral;
        let lmax = wmax * scale;
        for &(s, e) in &windows {
            let mut t = s;
            loop {
                t += -(1.0 - rng.random::<f64>()).ln() / lmax;
                if t >= e {
                    break;
                }
                if rng.random::<f64>() * wmax < weight(&profile, t - midnight) {
                    arrivals.push(t);
                }
            }
        }
    }

    let shares: f64 = cfg.services.iter().map(|s| s.share).sum();
    let mut numbers = vec![0u32; cfg.services.len()];
    let mut citizens = Vec::with_capacity(arrivals.len());
    let c = &cfg.citizens;
    let patience_mean = c.patience_mean_min * 60.0;
    let patience = LogNormal::from_mean_cv(patience_mean, c.patience_cv).ok();
    let mut heap_init = Vec::new();
    for (n, &a) in arrivals.iter().enumerate() {
        let z: f64 = StandardNormal.sample(&mut rng);
        let speed = c.walk_speed * (1.0 + 0.15 * z).max(0.5);
        let mut u = rng.random::<f64>() * shares;
        let mut service = cfg.services.len() - 1;
        for (k, s) in cfg.services.iter().enumerate() {
            if u < s.share {
                service = k;
                break;
            }
            u -= s.share;
        }
        numbers[service] += 1;
        let kiosk_s = rng.random_range(c.kiosk_s[0]..=c.kiosk_s[1]);
        let no_show = rng.random::<f64>() < c.no_show_prob;
        let no_show_after =
            rng.random_range(c.no_show_after_min[0]..=c.no_show_after_min[1]) * 60.0;
        let patience_s = patience.map_or(patience_mean, |d| d.sample(&mut rng));
        let kiosk_dx = rng.random_range(-0.015..=0.015);
        // Appear outside the door at `a`, come through it slowly, walk to the kiosk.
        let mut path = Path::new(a, layout.door_out);
        path.walk(layout, &[layout.door_in], DOOR_SPEED * speed);
        let kiosk = (layout.kiosk.0 + kiosk_dx, layout.kiosk.1);
        let at_kiosk = path.walk(layout, &layout.route(layout.door_in, kiosk), speed);
        let ticket_at = at_kiosk + kiosk_s;
        path.hold(ticket_at, 0.0);
        path.stay();
        let svc = &cfg.services[service];
        let id = index * 100_000 + n as u64 + 1;
        citizens.push(Citizen {
            truth: CitizenTruth {
                id,
                date: date.format("%Y-%m-%d").to_string(),
                service: svc.id.clone(),
                ticket: format!("{}{:03}", svc.letter, numbers[service]),
                arrival: a,
                ticket_at,
                seated_at: None,
                called_at: None,
                service_start: None,
                service_end: None,
                counter: None,
                gave_up_at: None,
                left_at: ticket_at,
                outcome: Outcome::Abandoned,
                rating: None,
            },
            path,
            episodes: Vec::new(),
            service,
            speed,
            place: None,
            gone: false,
            called: false,
            no_show_at: if no_show {
                ticket_at + no_show_after
            } else {
                f64::INFINITY
            },
            patience_at: ticket_at + patience_s,
        });
        heap_init.push((ticket_at, Kind::Ticket(n)));
    }

    let counters: Vec<Counter> = cfg
        .counters
        .iter()
        .map(|k| Counter {
            number: k.number,
            speed: k.speed,
            serves: cfg
                .services
                .iter()
                .map(|s| k.services.is_empty() || k.services.contains(&s.id))
                .collect(),
            open: false,
            busy: false,
            on_break: false,
            break_pending: false,
            present_since: None,
        })
        .collect();
    let staff = cfg
        .counters
        .iter()
        .map(|k| Staff {
            spot: layout
                .counters
                .get(&k.number)
                .map_or(layout.door_in, |s| s.staff),
            present: Vec::new(),
        })
        .collect();
    let places = layout.seats.len() + layout.standing.len();
    let mut day = Day {
        cfg,
        layout,
        sessions,
        rng,
        heap: BinaryHeap::new(),
        seq: 0,
        citizens,
        counters,
        staff,
        pending: Vec::new(),
        places: vec![None; places],
        tickets: Vec::new(),
        ratings: Vec::new(),
    };
    for &(s, e) in sessions {
        day.push(s, Kind::SessionStart);
        day.push(e, Kind::SessionEnd);
        let rate = cfg.staff.breaks_per_hour / 3600.0;
        if rate > 0.0 {
            for k in 0..day.counters.len() {
                let mut t = s;
                loop {
                    t += -(1.0 - day.rng.random::<f64>()).ln() / rate;
                    if t >= e {
                        break;
                    }
                    day.push(t, Kind::BreakDue(k));
                }
            }
        }
    }
    for (t, k) in heap_init {
        day.push(t, k);
    }
    day.run();

    let Day {
        mut citizens,
        staff,
        mut tickets,
        mut ratings,
        ..
    } = day;
    // Occlusion episodes, from each citizen's own stream.
    let noise = &cfg.camera.noise;
    let rate = noise.episodes_per_hour / 3600.0;
    for c in &mut citizens {
        if rate <= 0.0 {
            break;
        }
        let mut r = crate::path::rng(seed, Stream::Episodes, c.truth.id);
        let (start, end) = (c.path.start(), c.path.end().min(c.truth.left_at));
        let mut t = start;
        loop {
            t += -(1.0 - r.random::<f64>()).ln() / rate;
            if t >= end {
                break;
            }
            let d = -(1.0 - r.random::<f64>()).ln() * noise.episode_mean_s;
            c.episodes.push((t, t + d));
        }
    }
    tickets.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    ratings.sort_by(|a, b| a.t.total_cmp(&b.t));
    let mut leave_order: Vec<usize> = (0..citizens.len()).collect();
    leave_order.sort_by(|&a, &b| {
        citizens[a]
            .truth
            .left_at
            .total_cmp(&citizens[b].truth.left_at)
            .then(a.cmp(&b))
    });
    let margin = cfg.camera.margin_min * 60.0;
    let first = sessions.first().map_or(midnight, |s| s.0);
    let mut last = sessions.last().map_or(midnight, |s| s.1);
    for c in &citizens {
        last = last.max(c.truth.left_at);
    }
    for s in &staff {
        for p in &s.present {
            last = last.max(p.1);
        }
    }
    for t in &tickets {
        last = last.max(t.0);
    }
    for r in &ratings {
        last = last.max(r.t);
    }
    DayPlan {
        window: ((first - margin).floor(), (last + margin).ceil()),
        citizens,
        staff,
        tickets: tickets.into_iter().map(|t| t.2).collect(),
        ratings,
        leave_order,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::hall_config;

    fn day(cfg: &SimConfig, seed: u64) -> DayPlan {
        let layout = Layout::from_config(&hall_config().expect("hall")).expect("layout");
        let cal = cfg.hours.build(&cfg.timezone).expect("hours");
        let date = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let sessions = cal.day_sessions(date);
        let midnight = sessions[0].0 - 7.5 * 3600.0;
        simulate_day(cfg, &layout, seed, 0, date, midnight, &sessions)
    }

    #[test]
    fn profile_is_linear_between_points_and_zero_outside() {
        let p = [(100.0, 1.0), (200.0, 3.0)];
        assert_eq!(weight(&p, 50.0), 0.0);
        assert_eq!(weight(&p, 150.0), 2.0);
        assert_eq!(weight(&p, 200.0), 3.0);
        assert_eq!(weight(&p, 201.0), 0.0);
    }

    #[test]
    fn a_day_is_consistent() {
        let cfg = SimConfig::default();
        let plan = day(&cfg, 1);
        let n = plan.citizens.len();
        // A Monday: the busiest day.
        assert!((110..=200).contains(&n), "{n} citizens");
        let mut served = 0;
        for c in &plan.citizens {
            let t = &c.truth;
            assert!(t.arrival < t.ticket_at && t.ticket_at < t.left_at, "{t:?}");
            match t.outcome {
                Outcome::Served => {
                    served += 1;
                    let (call, start, end) = (
                        t.called_at.expect("called"),
                        t.service_start.expect("start"),
                        t.service_end.expect("end"),
                    );
                    assert!(t.ticket_at <= call && call < start && start < end && end < t.left_at);
                    assert!(t.gave_up_at.is_none());
                }
                _ => {
                    let g = t.gave_up_at.expect("gave up");
                    assert!(t.service_start.is_none());
                    assert!(g < t.left_at);
                    // The ticket is called later, after they left.
                    if let Some(call) = t.called_at {
                        assert!(call >= g);
                    }
                }
            }
        }
        assert!(served as f64 >= 0.75 * n as f64, "{served} of {n} served");
        // Every ticket issued was called exactly once, and ends finished or no-show.
        let count = |k: TicketEventKind| plan.tickets.iter().filter(|e| e.event == k).count();
        assert_eq!(count(TicketEventKind::Issued), n);
        assert_eq!(count(TicketEventKind::Called), n);
        assert_eq!(count(TicketEventKind::Finished), served);
        assert_eq!(count(TicketEventKind::NoShow), n - served);
        assert!(plan.tickets.windows(2).all(|w| w[0].t <= w[1].t));
        // A counter serves one citizen at a time.
        for k in 1..=3 {
            let mut spans: Vec<(f64, f64)> = plan
                .citizens
                .iter()
                .filter(|c| c.truth.counter == Some(k) && c.truth.outcome == Outcome::Served)
                .map(|c| {
                    (
                        c.truth.called_at.expect("c"),
                        c.truth.service_end.expect("e"),
                    )
                })
                .collect();
            spans.sort_by(|a, b| a.0.total_cmp(&b.0));
            assert!(
                spans.windows(2).all(|w| w[0].1 <= w[1].0 + 1e-9),
                "counter {k}"
            );
        }
        // Officers are there in both sessions, with the odd absence.
        for s in &plan.staff {
            let total: f64 = s.present.iter().map(|p| p.1 - p.0).sum();
            assert!(total > 6.0 * 3600.0, "{total}");
        }
        // Before opening and after everyone left, the queue is empty.
        assert_eq!(plan.queue_at(plan.window.0).waiting, 0);
        assert_eq!(plan.queue_at(plan.window.1).waiting, 0);
    }

    #[test]
    fn a_seed_gives_one_day() {
        let cfg = SimConfig::default();
        let (a, b) = (day(&cfg, 5), day(&cfg, 5));
        assert_eq!(a.tickets, b.tickets);
        let c = day(&cfg, 6);
        assert_ne!(a.tickets, c.tickets);
    }
}
