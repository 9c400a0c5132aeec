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
    /// A visit began (dated from when the person crossed in, `enter_after_s` or, at counters,
    /// `service_min_s` ago or more).
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

/// One track in one zone. Whether a person is in a zone has two readings: the anchor's plain
/// containment in the polygon (`raw_in`, with the moments it switched, interpolated between
/// frames), and the counted state with spatial hysteresis (`counted`: in once the anchor is
/// `edge_margin` box heights inside the edge, out once it is as far outside), which is what the
/// count shows. Visits are dated by the plain containment: from the moment the person crossed
/// in to the moment they crossed out.
#[derive(Clone, Debug, Default)]
struct Membership {
    /// Counted as inside now (hysteresis).
    counted: bool,
    /// The anchor was inside the polygon at the last sighting.
    raw_in: bool,
    /// When the anchor last crossed into the polygon (or was first seen inside).
    raw_since: f64,
    /// When it last crossed out.
    raw_until: f64,
    /// Start of the current counted stretch (back-dated to the crossing in).
    inside_since: Option<f64>,
    /// The open visit, as an index into `open`.
    session: Option<u64>,
}

impl Membership {
    /// The last moment the person was inside, as of a sighting at `t`.
    fn inside_at(&self, t: f64) -> f64 {
        if self.raw_in { t } else { self.raw_until }
    }
}

#[derive(Clone, Debug, Default)]
struct TrackRt {
    /// Last observed position (entrance crossings, staff areas).
    anchor: Option<Point>,
    /// Last position, observed or predicted by the tracker while lost, and its time: where
    /// edge crossings are interpolated from.
    pos: Option<Point>,
    pos_t: f64,
    /// When the engine first saw the track.
    first_t: f64,
    /// Last time the tracker matched it to a detection.
    last_seen: f64,
    /// Recent observed positions, for the walking velocity.
    recent: std::collections::VecDeque<(f64, Point)>,
    /// Box height in pixels at the last update (observed or predicted).
    box_h: f64,
    /// The tracker dropped it.
    removed: bool,
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
    /// Walking velocity when last seen (normalised units per second).
    velocity: Point,
    /// Last time the visit's track was matched to a detection: a successor must be born after.
    last_seen: f64,
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
    /// The person was seen, counted inside.
    fn seen(&mut self, s: &Sighting, merge_distance: f64) {
        let (t, p) = (s.t, s.p);
        self.last_inside = s.inside_at;
        self.last_seen = t;
        self.last_anchor = p;
        self.velocity = s.v;
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

    fn still(&self) -> bool {
        self.last_inside - self.still_since >= STILL_S
    }

    /// Where the person should be at `t` if they kept walking (where they were, if still).
    fn predicted(&self, t: f64) -> Point {
        if self.still() {
            return self.last_anchor;
        }
        let dt = (t - self.last_seen).max(0.0);
        (
            self.last_anchor.0 + self.velocity.0 * dt,
            self.last_anchor.1 + self.velocity.1 * dt,
        )
    }
}

/// One observation of a track, as the visit logic needs it.
#[derive(Clone, Copy, Debug)]
struct Sighting {
    t: f64,
    /// Anchor.
    p: Point,
    /// Walking velocity, normalised units per second.
    v: Point,
    /// The last moment inside the zone as of `t` (`t` itself while inside the polygon).
    inside_at: f64,
}

/// Seconds of observed positions the walking velocity is estimated over.
const VELOCITY_WINDOW_S: f64 = 1.5;

fn velocity(recent: &std::collections::VecDeque<(f64, Point)>) -> Point {
    match (recent.front(), recent.back()) {
        (Some((t0, a)), Some((t1, b))) if t1 - t0 > 1e-6 => {
            ((b.0 - a.0) / (t1 - t0), (b.1 - a.1) / (t1 - t0))
        }
        _ => (0.0, 0.0),
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
    /// Size of the last frame, pixels.
    size: (f64, f64),
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

/// Least wait, in seconds, for someone who leaves unserved to count as having given up: with
/// visits recorded from the first moment in a waiting area, a track that crossed it for a few
/// seconds and then broke off (an ID switch, someone walking through) is not a citizen who
/// waited and left. On the simulated weeks 60 s brought the abandonments counted from
/// 48/33/23/41 to 40/26/18/31 (true 38/18/15/30).
const ABANDON_MIN_WAIT_S: f64 = 60.0;

/// How near a zone (box heights of the person) movement raises the analysis rate: at walking
/// pace about a second before they cross in.
pub const ACTIVE_MARGIN_H: f64 = 1.0;

/// Speed (box heights a second) above which a person counts as moving for the analysis rate;
/// someone walking covers about one box height a second, a seated person's box jitters well
/// under a tenth.
pub const ACTIVE_SPEED_H: f64 = 0.3;

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
            size: (1.0, 1.0),
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
        self.size = (f64::from(width.max(1)), f64::from(height.max(1)));
        let (w, h) = self.size;
        // A track that is simply no longer given (a tracker reset without a removal) is gone:
        // it counts nowhere and its visits wait for a successor.
        let present: std::collections::HashSet<TrackId> = tracks.iter().map(|tr| tr.id).collect();
        for (id, rt) in self.tracks.iter_mut() {
            if !present.contains(id) && !rt.removed {
                rt.removed = true;
                for m in rt.zones.values_mut() {
                    m.counted = false;
                }
            }
        }
        for o in self.open.values_mut() {
            if !present.contains(&o.track) {
                o.orphaned = true;
            }
        }
        for tr in tracks {
            let p = self.anchor(tr, w, h);
            let rt = self.tracks.entry(tr.id).or_insert_with(|| TrackRt {
                first_t: t,
                ..TrackRt::default()
            });
            rt.removed = false;
            let box_h = f64::from(tr.bbox.height().max(0.0));
            rt.box_h = box_h;
            match tr.status {
                TrackStatus::Tracked => {
                    rt.last_seen = t;
                    rt.recent.push_back((t, p));
                    while rt
                        .recent
                        .front()
                        .is_some_and(|(s, _)| t - s > VELOCITY_WINDOW_S)
                    {
                        rt.recent.pop_front();
                    }
                    let ignored = self.ignore.iter().any(|g| g.contains(p));
                    self.track_seen(tr.id, p, box_h, ignored, t, &mut events);
                }
                TrackStatus::Lost => {
                    // The tracker's prediction moves the count (someone hidden for a moment
                    // is still there); the visit waits for them or a successor.
                    self.place(tr.id, p, box_h, false, t);
                    self.orphan_sessions(tr.id);
                }
            }
        }
        for tr in removed {
            if let Some(rt) = self.tracks.get_mut(&tr.id) {
                rt.removed = true;
                for m in rt.zones.values_mut() {
                    m.counted = false;
                }
            }
            self.orphan_sessions(tr.id);
        }
        self.expire(t, &mut events);
        for tr in removed {
            self.forget(tr.id);
        }
        self.sweep(&mut events);
        events
    }

    /// Updates where track `id` is relative to every zone polygon, seen (or predicted) at `p`
    /// at time `t`; `box_h` is its box height in pixels, the scale of the edge band. Nothing
    /// counts for staff, or with `excluded` (an ignore zone, a staff area).
    fn place(&mut self, id: TrackId, p: Point, box_h: f64, excluded: bool, t: f64) {
        let (w, h) = self.size;
        let margin = self.cfg.edge_margin * box_h;
        let Some(rt) = self.tracks.get_mut(&id) else {
            return;
        };
        let prev = rt.pos.map(|q| (q, rt.pos_t));
        rt.pos = Some(p);
        rt.pos_t = t;
        let excluded = excluded || rt.is_staff;
        for (zi, z) in self.zones.iter().enumerate() {
            let Some(poly) = z.polygon.as_ref() else {
                continue;
            };
            let d = if excluded {
                f64::NEG_INFINITY
            } else {
                poly.signed_distance(p, (w, h))
            };
            let raw = d >= 0.0;
            let m = rt.zones.entry(zi).or_default();
            if raw != m.raw_in {
                // The moment the anchor crossed the edge, between the last sighting and now.
                let at = match prev {
                    Some((q, tq)) if tq < t && !excluded => {
                        let c = poly.crossings(q, p);
                        let s = if raw { c.first() } else { c.last() };
                        s.map_or(t, |s| tq + s * (t - tq))
                    }
                    _ => t,
                };
                if raw {
                    m.raw_since = at;
                } else {
                    m.raw_until = at;
                }
                m.raw_in = raw;
            }
            if !m.counted && d >= margin {
                m.counted = true;
                m.inside_since = Some(m.raw_since);
            } else if m.counted && (d <= -margin || excluded) {
                m.counted = false;
                m.inside_since = None;
            }
        }
    }

    fn track_seen(
        &mut self,
        id: TrackId,
        p: Point,
        box_h: f64,
        ignored: bool,
        t: f64,
        events: &mut Vec<ZoneEvent>,
    ) {
        // Staff areas take the counters' dwell: a citizen reaching over the desk for a moment
        // does not become staff.
        let staff_after = self.cfg.service_min_s.max(self.cfg.enter_after_s);
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
            rt.in_staff_area = in_staff;
            if in_staff {
                let since = *rt.staff_since.get_or_insert(t);
                if !rt.is_staff && t - since >= staff_after {
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
        self.place(id, p, box_h, ignored || in_staff, t);
        let (first_t, v) = match self.tracks.get_mut(&id) {
            Some(rt) => {
                rt.anchor = Some(p);
                (rt.first_t, velocity(&rt.recent))
            }
            None => return,
        };
        for zi in 0..self.zones.len() {
            let Some(m) = self.tracks.get(&id).and_then(|r| r.zones.get(&zi)).cloned() else {
                continue;
            };
            let seen = Sighting {
                t,
                p,
                v,
                inside_at: m.inside_at(t),
            };
            match (m.counted, m.session) {
                (true, Some(k)) => {
                    if let Some(o) = self.open.get_mut(&k) {
                        o.seen(&seen, self.cfg.merge_distance);
                    }
                }
                (true, None) => {
                    let since = m.inside_since.unwrap_or(t);
                    // A visit orphaned by a lost track continues with this track if it was
                    // born after that track was last seen, where that person would be now.
                    if let Some(k) = self.merge_candidate(zi, p, first_t, t) {
                        self.adopt(k, id, zi, &seen);
                    } else if t - since >= self.dwell(zi) {
                        self.open_session(id, zi, since, &seen, events);
                    }
                }
                (false, Some(k)) => {
                    // Outside (beyond the edge band), seen again if they had been lost: the
                    // visit ends when they crossed out, unless they step back in within
                    // `exit_after_s`.
                    if let Some(o) = self.open.get_mut(&k) {
                        o.last_inside = o.last_inside.max(m.raw_until).min(t);
                        o.last_seen = t;
                        o.orphaned = false;
                    }
                }
                (false, None) => {}
            }
        }
    }

    /// How long a person must be counted inside zone `zi` before their visit is recorded:
    /// `service_min_s` at counters (a passer-by is not a service), else `enter_after_s`.
    fn dwell(&self, zi: usize) -> f64 {
        match self.zones[zi].role {
            ZoneRole::Counter => self.cfg.service_min_s.max(self.cfg.enter_after_s),
            _ => self.cfg.enter_after_s,
        }
    }

    fn merge_candidate(&self, zi: usize, p: Point, born: f64, t: f64) -> Option<u64> {
        self.open
            .iter()
            .filter(|(_, o)| {
                if o.zone_index != zi || !o.orphaned || t - o.last_inside > o.merge_gap(&self.cfg) {
                    return false;
                }
                // Two tracks seen at the same time are two people, unless the person was
                // keeping still: a tracker that doubled a standing person and then dropped the
                // old track hands the same person over.
                if born <= o.last_seen && !o.still() {
                    return false;
                }
                // Near where that person would be by now: the uncertainty grows with their
                // speed and the time since.
                let speed = (o.velocity.0.powi(2) + o.velocity.1.powi(2)).sqrt();
                let slack = if o.still() {
                    0.0
                } else {
                    0.5 * speed * (t - o.last_seen).max(0.0)
                };
                dist(o.predicted(t), p) <= self.cfg.merge_distance + slack
            })
            .min_by(|a, b| dist(a.1.predicted(t), p).total_cmp(&dist(b.1.predicted(t), p)))
            .map(|(k, _)| *k)
    }

    fn adopt(&mut self, k: u64, id: TrackId, zi: usize, seen: &Sighting) {
        let Some(o) = self.open.get_mut(&k) else {
            return;
        };
        let old = o.track;
        o.track = id;
        o.seen(seen, self.cfg.merge_distance);
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
    }

    fn open_session(
        &mut self,
        id: TrackId,
        zi: usize,
        since: f64,
        seen: &Sighting,
        events: &mut Vec<ZoneEvent>,
    ) {
        let (t, p) = (seen.t, seen.p);
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
                last_inside: seen.inside_at,
                last_anchor: p,
                velocity: seen.v,
                last_seen: t,
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
                // Still counted inside (a visit that ended in the edge band): a next visit
                // starts from now, not from the old entry.
                m.inside_since = m.counted.then_some(self.now);
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
            && rt.waited_s >= ABANDON_MIN_WAIT_S
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
                // A person still in view and inside at shutdown was inside until now.
                let inside_now = self
                    .tracks
                    .get(&o.track)
                    .and_then(|r| r.zones.get(&o.zone_index))
                    .is_some_and(|m| m.counted && m.raw_in);
                if !o.orphaned && inside_now {
                    o.last_inside = t.max(o.last_inside);
                }
                self.finish(o, true, &mut events);
            }
        }
        self.tracks.clear();
        self.settle(true, &mut events);
        events
    }

    /// Occupancy of every waiting and counter zone now: the people counted inside it (edge
    /// hysteresis, no time lag), including people the tracker has lost for a moment (where it
    /// predicts them) and, in waiting areas, people who vanished while sitting still for as
    /// long as their visit waits for them.
    pub fn counts(&self) -> Vec<ZoneCount> {
        self.zones
            .iter()
            .enumerate()
            .filter(|(_, z)| z.polygon.is_some())
            .map(|(zi, z)| {
                let present = self
                    .tracks
                    .values()
                    .filter(|rt| !rt.removed && !rt.is_staff)
                    .filter(|rt| rt.zones.get(&zi).is_some_and(|m| m.counted))
                    .count();
                let hidden = self
                    .open
                    .values()
                    .filter(|o| {
                        o.zone_index == zi
                            && o.orphaned
                            && o.merge_gap(&self.cfg) > self.cfg.merge_gap_s
                            && self.tracks.get(&o.track).is_none_or(|rt| rt.removed)
                    })
                    .count();
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
                    people: present + hidden,
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

    /// Whether people move in or near a zone now, which is when the adaptive analysis rate
    /// runs fast ([`hallwatch_core::RateSignal`]): a person (not staff, not in an ignore area)
    /// within [`ACTIVE_MARGIN_H`] box heights of a zone or entrance line who walks (faster than
    /// [`ACTIVE_SPEED_H`] box heights a second), was confirmed less than a second ago, or is
    /// lost by the tracker for the moment; or a visit whose walking person vanished and waits
    /// for a successor track. People sitting or standing still do not count.
    pub fn moving_near_zones(&self) -> bool {
        let (w, h) = self.size;
        let orphaned_walker = self
            .open
            .values()
            .any(|o| o.orphaned && !o.still() && !o.session.truncated);
        if orphaned_walker {
            return true;
        }
        self.tracks.values().any(|rt| {
            let Some(p) = rt.pos else {
                return false;
            };
            if rt.removed || rt.is_staff || self.ignore.iter().any(|g| g.contains(p)) {
                return false;
            }
            let margin = ACTIVE_MARGIN_H * rt.box_h.max(1.0);
            let near = self.zones.iter().any(|z| {
                z.polygon
                    .as_ref()
                    .is_some_and(|poly| poly.signed_distance(p, (w, h)) >= -margin)
                    || z.line
                        .as_ref()
                        .is_some_and(|l| l.distance(p, (w, h)) <= margin)
            });
            if !near {
                return false;
            }
            let lost = rt.last_seen < self.now;
            let new = self.now - rt.first_t < 1.0;
            let v = velocity(&rt.recent);
            let speed = ((v.0 * w).powi(2) + (v.1 * h).powi(2)).sqrt();
            lost || new || speed > ACTIVE_SPEED_H * rt.box_h
        })
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
