//! The streaming simulator: a run of working days, advanced in time by the caller.

use crate::SimError;
use crate::config::SimConfig;
use crate::des::{DayPlan, simulate_day};
use crate::layout::{Layout, hall_config};
use crate::model::{SimEvents, SimFrame};
use crate::render::render;
use chrono::{NaiveDate, TimeZone};
use hallwatch_config::{Calendar, Config};
use hallwatch_core::CameraId;

/// Where the emission of the current day stands.
#[derive(Clone, Debug, Default)]
struct Cursor {
    frame: u64,
    ticket: usize,
    rating: usize,
    queue: u64,
    left: usize,
}

/// A simulated hall over `days` working days, advanced in time by [`advance_to`]: each call
/// gives everything that happened up to that time (camera frames, ticket events, ratings, true
/// queue samples, finished visits). A day is simulated when it is first reached; what is given
/// out depends only on the config, the seed and the time, never on how the calls were cut, so
/// a live demo stepping every half second and a batch run see the same hall.
///
/// [`advance_to`]: Simulator::advance_to
pub struct Simulator {
    cfg: SimConfig,
    seed: u64,
    hall: Config,
    layout: Layout,
    camera: CameraId,
    calendar: Calendar,
    dates: Vec<NaiveDate>,
    day: usize,
    plan: Option<DayPlan>,
    /// Frame number of the current day's first frame, minus one.
    frame_base: u64,
    cursor: Cursor,
    now: f64,
    camera_on: bool,
}

impl Simulator {
    /// A run of `days` working days from `cfg.start_date`, with random seed `seed`.
    pub fn new(cfg: &SimConfig, seed: u64, days: u32) -> Result<Self, SimError> {
        cfg.validate()?;
        let hall = hall_config()?;
        let layout = Layout::from_config(&hall)?;
        for c in &cfg.counters {
            if !layout.counters.contains_key(&c.number) {
                return Err(SimError::Config(format!(
                    "counters: counter {} has no zone in the simulated hall (counters: {:?})",
                    c.number,
                    layout.counters.keys().collect::<Vec<_>>()
                )));
            }
        }
        let calendar = cfg
            .hours
            .build(&cfg.timezone)
            .map_err(|e| SimError::Config(format!("{e:?}")))?;
        let mut date = NaiveDate::parse_from_str(&cfg.start_date, "%Y-%m-%d")
            .map_err(|e| SimError::Config(format!("start_date: {e}")))?;
        let mut dates = Vec::new();
        let mut tried = 0;
        while dates.len() < days as usize {
            if calendar.is_working_day(date) && !calendar.day_sessions(date).is_empty() {
                dates.push(date);
            }
            tried += 1;
            if tried > 3660 + 2 * days as usize {
                return Err(SimError::Config(
                    "hours: fewer working days than asked for in ten years".into(),
                ));
            }
            date = date
                .succ_opt()
                .ok_or_else(|| SimError::Config("start_date: out of range".into()))?;
        }
        let camera = CameraId::new(&layout.camera);
        Ok(Self {
            cfg: cfg.clone(),
            seed,
            hall,
            layout,
            camera,
            calendar,
            dates,
            day: 0,
            plan: None,
            frame_base: 0,
            cursor: Cursor::default(),
            now: f64::NEG_INFINITY,
            camera_on: true,
        })
    }

    /// Switches the camera off (or on again): without it no frames are given out (their
    /// numbers still advance), for runs that need only the hall's truth and tickets.
    pub fn set_camera(&mut self, on: bool) {
        self.camera_on = on;
    }

    /// The hallwatch config of the simulated hall: the camera and the zones its detections are
    /// meant for.
    pub fn hall(&self) -> &Config {
        &self.hall
    }

    /// The settings.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The working days simulated.
    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    /// The opening-hours calendar.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The virtual camera's id and frame size.
    pub fn camera(&self) -> (CameraId, u32, u32) {
        (self.camera.clone(), self.layout.width, self.layout.height)
    }

    /// Time everything has been given out up to.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// True once every day has been given out.
    pub fn is_finished(&self) -> bool {
        self.day >= self.dates.len()
    }

    /// Unix time of local midnight starting `date`.
    fn midnight(&self, date: NaiveDate) -> f64 {
        date.and_hms_opt(0, 0, 0)
            .and_then(|m| self.calendar.tz().from_local_datetime(&m).earliest())
            .map_or(0.0, |d| d.timestamp() as f64)
    }

    fn ensure_plan(&mut self) -> Option<&DayPlan> {
        if self.plan.is_none() {
            let date = *self.dates.get(self.day)?;
            let sessions = self.calendar.day_sessions(date);
            let midnight = self.midnight(date);
            self.plan = Some(simulate_day(
                &self.cfg,
                &self.layout,
                self.seed,
                self.day as u64,
                date,
                midnight,
                &sessions,
            ));
            self.cursor = Cursor::default();
        }
        self.plan.as_ref()
    }

    #[cfg(test)]
    fn frame_time(&self, plan: &DayPlan, k: u64) -> f64 {
        plan.window.0 + k as f64 / self.cfg.camera.fps
    }

    #[cfg(test)]
    fn queue_time(&self, plan: &DayPlan, k: u64) -> f64 {
        let dt = self.cfg.queue_sample_s;
        (plan.window.0 / dt).ceil() * dt + k as f64 * dt
    }

    /// The time of the next thing to give out (the next frame, at the latest), `None` when the
    /// run is over. Lets a batch run skip nights and weekends.
    pub fn next_time(&mut self) -> Option<f64> {
        let k = self.cursor.frame;
        let fps = self.cfg.camera.fps;
        let plan = self.ensure_plan()?;
        let t = plan.window.0 + k as f64 / fps;
        Some(t.min(plan.window.1))
    }

    /// Everything that happened in `(previous call, t]`, each list in time order.
    pub fn advance_to(&mut self, t: f64) -> SimEvents {
        let mut out = SimEvents::default();
        while self.ensure_plan().is_some() {
            let Some(plan) = self.plan.take() else {
                break;
            };
            let c = &mut self.cursor;
            let (w0, w1) = plan.window;
            let fps = self.cfg.camera.fps;
            loop {
                let ft = w0 + c.frame as f64 / fps;
                if ft > t || ft > w1 {
                    break;
                }
                c.frame += 1;
                if !self.camera_on {
                    continue;
                }
                out.frames.push(SimFrame {
                    camera: self.camera.clone(),
                    index: self.frame_base + c.frame,
                    t: ft,
                    width: self.layout.width,
                    height: self.layout.height,
                    detections: render(
                        &plan,
                        &self.layout,
                        &self.cfg.camera.noise,
                        self.seed,
                        self.frame_base + c.frame,
                        ft,
                    ),
                });
            }
            while let Some(e) = plan.tickets.get(c.ticket).filter(|e| e.t <= t) {
                out.tickets.push(e.clone());
                c.ticket += 1;
            }
            while let Some(e) = plan.ratings.get(c.rating).filter(|e| e.t <= t) {
                out.ratings.push(e.clone());
                c.rating += 1;
            }
            let dt = self.cfg.queue_sample_s;
            loop {
                let qt = (w0 / dt).ceil() * dt + c.queue as f64 * dt;
                if qt > t || qt > w1 {
                    break;
                }
                out.queue.push(plan.queue_at(qt));
                c.queue += 1;
            }
            while let Some(&i) = plan.leave_order.get(c.left) {
                if plan.citizens[i].truth.left_at > t {
                    break;
                }
                out.citizens.push(plan.citizens[i].truth.clone());
                c.left += 1;
            }
            if t >= w1 {
                // Everything of the day lies within its window: on to the next day.
                self.frame_base += c.frame;
                self.day += 1;
                self.cursor = Cursor::default();
            } else {
                self.plan = Some(plan);
                break;
            }
        }
        self.now = self.now.max(t);
        out
    }

    /// The true queue at `t` (within the current day; empty outside it).
    pub fn queue_at(&mut self, t: f64) -> crate::model::QueueSample {
        match self.ensure_plan() {
            Some(p) if p.window.0 <= t && t <= p.window.1 => p.queue_at(t),
            _ => crate::model::QueueSample {
                t,
                waiting: 0,
                pending_tickets: 0,
                serving: 0,
            },
        }
    }

    #[cfg(test)]
    pub(crate) fn frame_at(&mut self, k: u64) -> Option<f64> {
        let p = self.ensure_plan()?.clone();
        Some(self.frame_time(&p, k))
    }

    #[cfg(test)]
    pub(crate) fn queue_sample_time(&mut self, k: u64) -> Option<f64> {
        let p = self.ensure_plan()?.clone();
        Some(self.queue_time(&p, k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> SimConfig {
        let mut cfg = SimConfig::default();
        cfg.camera.fps = 1.0;
        cfg
    }

    #[test]
    fn stepping_does_not_change_the_hall() {
        let cfg = small();
        let mut a = Simulator::new(&cfg, 3, 1).expect("sim");
        let mut b = Simulator::new(&cfg, 3, 1).expect("sim");
        let start = a.next_time().expect("a day");
        assert_eq!(a.frame_at(0), Some(start));
        assert!(a.queue_sample_time(0).expect("q") >= start);
        let end = start + 3.0 * 3600.0;
        let big = a.advance_to(end);
        let mut small = SimEvents::default();
        let mut t = start - 100.0;
        while t < end {
            t = (t + 0.5).min(end);
            let e = b.advance_to(t);
            small.frames.extend(e.frames);
            small.tickets.extend(e.tickets);
            small.ratings.extend(e.ratings);
            small.queue.extend(e.queue);
            small.citizens.extend(e.citizens);
        }
        assert_eq!(big, small);
        assert!(big.frames.len() > 10_000);
        assert!(big.frames.iter().any(|f| f.detections.len() > 5));
        assert!(!big.tickets.is_empty() && !big.citizens.is_empty());
        assert_eq!(big.frames[0].index, 1);
        assert!(
            big.frames
                .windows(2)
                .all(|w| w[1].index == w[0].index + 1 && w[1].t > w[0].t)
        );
    }

    #[test]
    fn days_skip_weekends_and_frames_continue() {
        let mut cfg = small();
        // A Friday: the next working day is Monday.
        cfg.start_date = "2026-11-27".into();
        let mut sim = Simulator::new(&cfg, 1, 2).expect("sim");
        assert_eq!(
            sim.dates()
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>(),
            ["2026-11-27", "2026-11-30"]
        );
        let mut last = 0;
        let mut days = std::collections::BTreeSet::new();
        while let Some(t) = sim.next_time() {
            let e = sim.advance_to(t + 3600.0);
            for f in &e.frames {
                assert_eq!(f.index, last + 1);
                last = f.index;
                days.insert(sim.calendar().local_date(f.t));
            }
        }
        assert!(sim.is_finished());
        assert_eq!(days.len(), 2);
    }
}
