//! Per-camera zone engine: tracks in, zone visits and crossings out, in stream time.

use crate::geometry::{Line, Point, Polygon};
use hallwatch_config::{Anchor, HallConfig, InsideSide, ZoneConfig, ZoneRole};
use hallwatch_core::{CameraId, TrackId, TrackState, TrackStatus};
use serde::Serialize;
use std::collections::HashMap;

/// One person's visit to one zone.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Session {
    /// Unique within the engine.
    pub id: u64,
    /// The camera.
    pub camera: CameraId,
    /// Zone id.
    pub zone: String,
    /// Zone role (waiting or counter).
    pub role: ZoneRole,
    /// Counter number for counter zones, else 0.
    pub counter: u32,
    /// The tracks that made up the visit: more than one when an ID switch or a short occlusion
    /// was bridged.
    pub tracks: Vec<TrackId>,
    /// Stream time the person first stepped in (seconds).
    pub enter: f64,
    /// Stream time they were last inside; None while the visit is open.
    pub exit: Option<f64>,
    /// Closed because the camera or the process stopped, not because the person left.
    pub truncated: bool,
}

impl Session {
    /// Seconds between entering and leaving (or `now` while open).
    pub fn duration(&self, now: f64) -> f64 {
        (self.exit.unwrap_or(now) - self.enter).max(0.0)
    }

    /// The track the visit started with.
    pub fn first_track(&self) -> TrackId {
        self.tracks.first().copied().unwrap_or(TrackId(0))
    }
}

/// What the engine reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ZoneEvent {
    /// A visit began (its `enter` lies `enter_after_s` in the past).
    Opened(Session),
    /// A visit ended (or was truncated).
    Closed(Session),
    /// An open visit turned out to be a staff member's: it never counts.
    Discarded(Session),
    /// A track crossed an entrance line.
    Crossed {
        /// Entrance zone id.
        zone: String,
        /// The track.
        track: TrackId,
        /// True when walking in.
        inward: bool,
        /// Stream time.
        t: f64,
    },
    /// A person left after waiting, without a counter visit.
    Abandoned {
        /// The waiting zone they left.
        zone: String,
        /// Their (last) track.
        track: TrackId,
        /// How long they had waited, seconds.
        waited_s: f64,
        /// Stream time they were last seen.
        t: f64,
    },
}

#[derive(Clone, Debug)]
struct ZoneRt {
    id: String,
    role: ZoneRole,
    counter: u32,
    polygon: Option<Polygon>,
    staff: Option<Polygon>,
    line: Option<Line>,
}

#[derive(Clone, Debug, Default)]
struct Membership {
    /// Start of the current unbroken stretch inside.
    inside_since: Option<f64>,
    /// Last time seen inside.
    last_inside: Option<f64>,
    /// The open visit, as an index into `open`.
    session: Option<u64>,
}

#[derive(Clone, Debug, Default)]
struct TrackRt {
    anchor: Option<Point>,
    last_seen: f64,
    staff_since: Option<f64>,
    is_staff: bool,
    in_staff_area: bool,
    zones: HashMap<usize, Membership>,
    /// Waiting seconds accumulated in finished waiting visits.
    waited_s: f64,
    /// Last waiting zone visited.
    waited_in: Option<String>,
    /// Had a counter visit.
    served: bool,
}

/// An open visit and where its person was last seen.
#[derive(Clone, Debug)]
struct Open {
    session: Session,
    zone_index: usize,
    track: TrackId,
    last_inside: f64,
    last_anchor: Point,
    /// Where the person has kept still since `still_since` (within half of `merge_distance`).
    still_anchor: Point,
    still_since: f64,
    /// Set once the track is lost or removed: the visit waits `merge_gap_s` (or
    /// `merge_gap_still_s`) for a new track.
    orphaned: bool,
}

/// Seconds a person must keep still before vanishing to count as hidden rather than gone.
const STILL_S: f64 = 10.0;

impl Open {
    /// The person was seen inside at `t`, at `p`.
    fn seen(&mut self, t: f64, p: Point, merge_distance: f64) {
        self.last_inside = t;
        self.last_anchor = p;
        self.orphaned = false;
        if dist(self.still_anchor, p) > merge_distance / 2.0 {
            self.still_anchor = p;
            self.still_since = t;
        }
    }

    /// How long this visit waits for a successor track once orphaned. Only waiting areas get
    /// the longer gap: at a counter the next citizen steps onto the same spot moments later.
    fn merge_gap(&self, cfg: &HallConfig) -> f64 {
        if self.session.role == ZoneRole::Waiting && self.last_inside - self.still_since >= STILL_S
        {
            cfg.merge_gap_s.max(cfg.merge_gap_still_s)
        } else {
            cfg.merge_gap_s
        }
    }
}

/// Current occupancy of one zone.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ZoneCount {
    /// Zone id.
    pub zone: String,
    /// Role.
    pub role: ZoneRole,
    /// Counter number for counter zones.
    pub counter: u32,
    /// Citizens with an open visit.
    pub people: usize,
    /// Counter zones with a staff polygon: a staff member is in it now.
    pub staff_present: Option<bool>,
    /// Counter zones: when the current citizen's visit began.
    pub serving_since: Option<f64>,
}

/// Turns one camera's tracks into zone visits, crossings and counts. A plain synchronous
/// struct, driven by the stream time passed to [`ZoneEngine::update`].
pub struct ZoneEngine {
    camera: CameraId,
    cfg: HallConfig,
    zones: Vec<ZoneRt>,
    ignore: Vec<Polygon>,
    tracks: HashMap<TrackId, TrackRt>,
    open: HashMap<u64, Open>,
    next_session: u64,
    now: f64,
    /// Waiting people who vanished unserved, not yet counted as abandonments: a person who
    /// turns up at a counter soon after without having been seen waiting may be them under a
    /// new track (an ID switch on the walk from a seat to the counter).
    departed: Vec<Departed>,
    /// Counter visits opened by tracks never seen waiting, and when: the other half of the
    /// same match, for when the old track is given up only after the new one reached the
    /// counter.
    unwaited: Vec<f64>,
}

/// A waiting person who vanished without reaching a counter.
#[derive(Clone, Debug)]
struct Departed {
    zone: String,
    track: TrackId,
    waited_s: f64,
    /// Last seen.
    t: f64,
}

/// Seconds between a waiting person vanishing and someone never seen waiting opening a counter
/// visit for the two to be taken as one person (the walk from a seat to a counter).
const HANDOVER_S: f64 = 30.0;

fn dist(a: Point, b: Point) -> f64 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt() / std::f64::consts::SQRT_2
}

impl ZoneEngine {
    /// An engine for `camera` with the config's zones drawn on that camera.
    pub fn new(camera: CameraId, zones: &[ZoneConfig], cfg: &HallConfig) -> Self {
        let mine: Vec<&ZoneConfig> = zones
            .iter()
            .filter(|z| z.camera == camera.as_str())
            .collect();
        let ignore = mine
            .iter()
            .filter(|z| z.role == ZoneRole::Ignore)
            .filter_map(|z| Polygon::from_config(&z.polygon))
            .collect();
        let zones = mine
            .iter()
            .filter(|z| z.role != ZoneRole::Ignore)
            .map(|z| ZoneRt {
                id: z.id.clone(),
                role: z.role,
                counter: z.counter,
                polygon: Polygon::from_config(&z.polygon),
                staff: Polygon::from_config(&z.staff_polygon),
                line: (z.line.len() == 2).then(|| Line {
                    a: (z.line[0][0], z.line[0][1]),
                    b: (z.line[1][0], z.line[1][1]),
                    inside_left: z.inside == InsideSide::Left,
                }),
            })
            .collect();
        Self {
            camera,
            cfg: cfg.clone(),
            zones,
            ignore,
            tracks: HashMap::new(),
            open: HashMap::new(),
            next_session: 1,
            now: 0.0,
            departed: Vec::new(),
            unwaited: Vec::new(),
        }
    }

    fn anchor(&self, t: &TrackState, w: f64, h: f64) -> Point {
        let (x, y) = match self.cfg.anchor {
            Anchor::BottomCentre => t.bbox.foot(),
            Anchor::Centre => t.bbox.centre(),
        };
        (x as f64 / w.max(1.0), y as f64 / h.max(1.0))
    }

    /// Feeds one frame's tracks (all current tracks, tracked and lost) and the tracks the
    /// tracker removed, at stream time `t`, for a `width x height` frame.
    pub fn update(
        &mut self,
        tracks: &[TrackState],
        removed: &[TrackState],
        width: u32,
        height: u32,
        t: f64,
    ) -> Vec<ZoneEvent> {
        let mut events = Vec::new();
        self.now = t;
        let (w, h) = (width as f64, height as f64);
        for tr in tracks {
            let rt = self.tracks.entry(tr.id).or_default();
            if tr.status != TrackStatus::Tracked {
                continue;
            }
            rt.last_seen = t;
            let p = self.anchor(tr, w, h);
            let ignored = self.ignore.iter().any(|g| g.contains(p));
            self.track_seen(tr.id, p, ignored, t, &mut events);
        }
        // Lost tracks: their visits wait for them (or a successor) to come back.
        for tr in tracks.iter().filter(|tr| tr.status == TrackStatus::Lost) {
            self.orphan_sessions(tr.id);
        }
        for tr in removed {
            self.orphan_sessions(tr.id);
        }
        self.expire(t, &mut events);
        for tr in removed {
            self.forget(tr.id);
        }
        self.sweep(&mut events);
        events
    }

    fn track_seen(
        &mut self,
        id: TrackId,
        p: Point,
        ignored: bool,
        t: f64,
        events: &mut Vec<ZoneEvent>,
    ) {
        let enter_after = self.cfg.enter_after_s;
        let prev = self.tracks.get(&id).and_then(|r| r.anchor);
        // Entrance crossings.
        if let Some(q) = prev {
            for z in &self.zones {
                if let Some(inward) = z.line.as_ref().and_then(|l| l.crossing(q, p)) {
                    events.push(ZoneEvent::Crossed {
                        zone: z.id.clone(),
                        track: id,
                        inward,
                        t,
                    });
                }
            }
        }
        // Staff: someone who stays in a staff area is staff for the rest of their track.
        let in_staff = !ignored
            && self
                .zones
                .iter()
                .any(|z| z.staff.as_ref().is_some_and(|s| s.contains(p)));
        let became_staff = {
            let rt = self.tracks.entry(id).or_default();
            rt.anchor = Some(p);
            rt.in_staff_area = in_staff;
            if in_staff {
                let since = *rt.staff_since.get_or_insert(t);
                if !rt.is_staff && t - since >= enter_after {
                    rt.is_staff = true;
                    true
                } else {
                    false
                }
            } else {
                rt.staff_since = None;
                false
            }
        };
        if became_staff {
            let mine: Vec<u64> = self
                .open
                .iter()
                .filter(|(_, o)| o.track == id)
                .map(|(k, _)| *k)
                .collect();
            for k in mine {
                if let Some(o) = self.open.remove(&k) {
                    events.push(ZoneEvent::Discarded(o.session));
                }
            }
            if let Some(rt) = self.tracks.get_mut(&id) {
                rt.zones.clear();
            }
        }
        let is_staff = self.tracks.get(&id).is_some_and(|r| r.is_staff);
        for zi in 0..self.zones.len() {
            let Some(poly) = self.zones[zi].polygon.as_ref() else {
                continue;
            };
            let inside = !ignored && !is_staff && !in_staff && poly.contains(p);
            let session = self
                .tracks
                .get(&id)
                .and_then(|r| r.zones.get(&zi))
                .and_then(|m| m.session);
            if inside {
                let since = {
                    let m = self
                        .tracks
                        .entry(id)
                        .or_default()
                        .zones
                        .entry(zi)
                        .or_default();
                    m.last_inside = Some(t);
                    *m.inside_since.get_or_insert(t)
                };
                match session {
                    Some(s) => {
                        if let Some(o) = self.open.get_mut(&s) {
                            o.seen(t, p, self.cfg.merge_distance);
                        }
                    }
                    None => {
                        // A visit orphaned by a lost track nearby continues with this track.
                        if let Some(k) = self.merge_candidate(zi, p, t) {
                            self.adopt(k, id, zi, p, t);
                        } else if t - since >= enter_after {
                            self.open_session(id, zi, since, p, t, events);
                        }
                    }
                }
            } else if let Some(m) = self.tracks.get_mut(&id).and_then(|r| r.zones.get_mut(&zi)) {
                m.inside_since = None;
            }
        }
    }

    fn merge_candidate(&self, zi: usize, p: Point, t: f64) -> Option<u64> {
        self.open
            .iter()
            .filter(|(_, o)| {
                o.zone_index == zi
                    && o.orphaned
                    && t - o.last_inside <= o.merge_gap(&self.cfg)
                    && dist(o.last_anchor, p) <= self.cfg.merge_distance
            })
            .min_by(|a, b| dist(a.1.last_anchor, p).total_cmp(&dist(b.1.last_anchor, p)))
            .map(|(k, _)| *k)
    }

    fn adopt(&mut self, k: u64, id: TrackId, zi: usize, p: Point, t: f64) {
        let Some(o) = self.open.get_mut(&k) else {
            return;
        };
        let old = o.track;
        o.track = id;
        o.seen(t, p, self.cfg.merge_distance);
        if !o.session.tracks.contains(&id) {
            o.session.tracks.push(id);
        }
        // The old track no longer owns the visit; its history moves to the new one.
        let (waited_s, waited_in, served) = match self.tracks.get_mut(&old) {
            Some(r) => {
                r.zones.remove(&zi);
                // Merged away: the old track's history is the new one's now.
                (
                    std::mem::take(&mut r.waited_s),
                    r.waited_in.take(),
                    std::mem::take(&mut r.served),
                )
            }
            None => (0.0, None, false),
        };
        let rt = self.tracks.entry(id).or_default();
        rt.waited_s += waited_s;
        if rt.waited_in.is_none() {
            rt.waited_in = waited_in;
        }
        rt.served |= served;
        let m = rt.zones.entry(zi).or_default();
        m.session = Some(k);
        m.inside_since.get_or_insert(t);
        m.last_inside = Some(t);
    }

    fn open_session(
        &mut self,
        id: TrackId,
        zi: usize,
        since: f64,
        p: Point,
        t: f64,
        events: &mut Vec<ZoneEvent>,
    ) {
        let z = &self.zones[zi];
        let k = self.next_session;
        self.next_session += 1;
        let session = Session {
            id: k,
            camera: self.camera.clone(),
            zone: z.id.clone(),
            role: z.role,
            counter: z.counter,
            tracks: vec![id],
            enter: since,
            exit: None,
            truncated: false,
        };
        if z.role == ZoneRole::Counter
            && let Some(rt) = self.tracks.get_mut(&id)
        {
            let never_waited = !rt.served && rt.waited_in.is_none();
            rt.served = true;
            if never_waited {
                // Someone who vanished from a seat a moment ago, under a new track?
                match self
                    .departed
                    .iter()
                    .position(|d| (0.0..=HANDOVER_S).contains(&(since - d.t)))
                {
                    Some(i) => {
                        self.departed.remove(i);
                    }
                    None => self.unwaited.push(since),
                }
            }
        }
        events.push(ZoneEvent::Opened(session.clone()));
        self.open.insert(
            k,
            Open {
                session,
                zone_index: zi,
                track: id,
                last_inside: t,
                last_anchor: p,
                still_anchor: p,
                still_since: t,
                orphaned: false,
            },
        );
        if let Some(m) = self.tracks.get_mut(&id).and_then(|r| r.zones.get_mut(&zi)) {
            m.session = Some(k);
        }
    }

    fn orphan_sessions(&mut self, id: TrackId) {
        for o in self.open.values_mut().filter(|o| o.track == id) {
            o.orphaned = true;
        }
    }

    /// Closes visits whose person has been outside for `exit_after_s`, or whose track has
    /// been gone for `merge_gap_s` (`merge_gap_still_s` if they kept still; no successor came).
    fn expire(&mut self, t: f64, events: &mut Vec<ZoneEvent>) {
        let exit_after = self.cfg.exit_after_s;
        let done: Vec<u64> = self
            .open
            .iter()
            .filter(|(_, o)| {
                let wait = if o.orphaned {
                    o.merge_gap(&self.cfg).max(exit_after)
                } else {
                    exit_after
                };
                t - o.last_inside >= wait
            })
            .map(|(k, _)| *k)
            .collect();
        let mut done = done;
        done.sort_unstable();
        for k in done {
            if let Some(o) = self.open.remove(&k) {
                self.finish(o, false, events);
            }
        }
    }

    fn finish(&mut self, o: Open, truncated: bool, events: &mut Vec<ZoneEvent>) {
        let mut s = o.session;
        s.exit = Some(o.last_inside);
        s.truncated = truncated;
        if let Some(rt) = self.tracks.get_mut(&o.track) {
            if let Some(m) = rt.zones.get_mut(&o.zone_index)
                && m.session == Some(s.id)
            {
                m.session = None;
                m.inside_since = None;
            }
            if s.role == ZoneRole::Waiting {
                rt.waited_s += s.duration(o.last_inside);
                rt.waited_in = Some(s.zone.clone());
            }
        }
        events.push(ZoneEvent::Closed(s));
    }

    /// A removed track leaves for good once no visit of it remains open (its visits may still
    /// wait for a successor): then a wait without a counter visit is an abandonment.
    fn forget(&mut self, id: TrackId) {
        if self.open.values().any(|o| o.track == id) {
            // Checked again when those visits close; see `sweep`.
            return;
        }
        if let Some(rt) = self.tracks.remove(&id)
            && !rt.is_staff
            && !rt.served
            && rt.waited_s > 0.0
            && let Some(zone) = rt.waited_in
        {
            // Already at a counter under a new track?
            if let Some(i) = self
                .unwaited
                .iter()
                .position(|&at| (0.0..=HANDOVER_S).contains(&(at - rt.last_seen)))
            {
                self.unwaited.remove(i);
                return;
            }
            self.departed.push(Departed {
                zone,
                track: id,
                waited_s: rt.waited_s,
                t: rt.last_seen,
            });
        }
    }

    /// Counts as abandonments the departures nobody turned up at a counter for; forgets old
    /// unmatched counter arrivals. With `all`, every departure still waiting for a match.
    fn settle(&mut self, all: bool, events: &mut Vec<ZoneEvent>) {
        let now = self.now;
        let (due, keep): (Vec<Departed>, Vec<Departed>) = std::mem::take(&mut self.departed)
            .into_iter()
            .partition(|d| all || now - d.t > HANDOVER_S);
        self.departed = keep;
        for d in due {
            events.push(ZoneEvent::Abandoned {
                zone: d.zone,
                track: d.track,
                waited_s: d.waited_s,
                t: d.t,
            });
        }
        // A departure is matched within `HANDOVER_S` of its last sighting, and given up at
        // most `merge_gap_still_s` (or `exit_after_s`) after it.
        let keep_s = HANDOVER_S
            + self
                .cfg
                .merge_gap_s
                .max(self.cfg.merge_gap_still_s)
                .max(self.cfg.exit_after_s);
        self.unwaited.retain(|&at| all || now - at <= keep_s);
        if all {
            self.unwaited.clear();
        }
    }

    /// Forgets departed tracks whose orphaned visits have since closed.
    fn sweep(&mut self, events: &mut Vec<ZoneEvent>) {
        let gone: Vec<TrackId> = self
            .tracks
            .iter()
            .filter(|(id, rt)| {
                self.now - rt.last_seen > self.cfg.merge_gap_s.max(self.cfg.exit_after_s)
                    && !self.open.values().any(|o| o.track == **id)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.forget(id);
        }
        self.settle(false, events);
    }

    /// Closes every open visit as truncated (camera stopped, shutdown) at stream time `t`.
    pub fn close_all(&mut self, t: f64) -> Vec<ZoneEvent> {
        let mut events = Vec::new();
        self.now = t;
        let mut keys: Vec<u64> = self.open.keys().copied().collect();
        keys.sort_unstable();
        for k in keys {
            if let Some(mut o) = self.open.remove(&k) {
                // A person still in view at shutdown was inside until now.
                if !o.orphaned {
                    o.last_inside = t.max(o.last_inside);
                }
                self.finish(o, true, &mut events);
            }
        }
        self.tracks.clear();
        self.settle(true, &mut events);
        events
    }

    /// Occupancy of every waiting and counter zone now.
    pub fn counts(&self) -> Vec<ZoneCount> {
        self.zones
            .iter()
            .enumerate()
            .filter(|(_, z)| z.polygon.is_some())
            .map(|(zi, z)| {
                let open: Vec<&Open> = self.open.values().filter(|o| o.zone_index == zi).collect();
                let staff_present = z.staff.as_ref().map(|s| {
                    self.tracks.values().any(|rt| {
                        rt.is_staff
                            && self.now - rt.last_seen <= self.cfg.exit_after_s
                            && rt.anchor.is_some_and(|p| s.contains(p))
                    })
                });
                ZoneCount {
                    zone: z.id.clone(),
                    role: z.role,
                    counter: z.counter,
                    people: open.len(),
                    staff_present,
                    serving_since: if z.role == ZoneRole::Counter {
                        open.iter().map(|o| o.session.enter).reduce(f64::min)
                    } else {
                        None
                    },
                }
            })
            .collect()
    }

    /// Visits open now.
    pub fn open_sessions(&self) -> Vec<Session> {
        let mut v: Vec<Session> = self.open.values().map(|o| o.session.clone()).collect();
        v.sort_by_key(|s| s.id);
        v
    }

    /// Advances time without a frame (a camera that went quiet): closes what is due.
    pub fn tick(&mut self, t: f64) -> Vec<ZoneEvent> {
        let mut events = Vec::new();
        self.now = t;
        self.expire(t, &mut events);
        self.sweep(&mut events);
        events
    }
}
