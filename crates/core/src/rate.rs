//! The adaptive analysis rate: a camera is analysed at a low rate while its hall is still and at
//! a higher one while people move in or near its zones.
//!
//! Two halves meet here. The side that knows where people are (tracking and zones) raises the
//! rate by calling [`RateSignal::active_until`] with a stream time; the side that feeds the
//! detector asks a [`Decimator`] whether each delivered frame is analysed. Both use the frames'
//! own stream time, so a file replay decides the same frames every run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// "Analyse at the active rate until stream time T", shared between the analysis side (which
/// sets it) and the decimator in front of the detector (which reads it). Cloning shares it.
///
/// Live, the two sides run apart: the decimator reads whatever the analysis last said, so
/// which frames are taken depends on how far behind the analysis is. A [`RateSignal::lockstep`]
/// signal makes the decimator wait until the analysis has handled every frame it admitted
/// before deciding on the next one, so a file replay decides the same frames on every run,
/// however loaded the machine.
#[derive(Clone, Debug)]
pub struct RateSignal(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    until: AtomicU64,
    pace: Option<Pace>,
}

/// Frames admitted and frames the analysis is done with (lockstep only).
#[derive(Debug, Default)]
struct Pace {
    counts: Mutex<(u64, u64)>,
    done: Condvar,
}

/// The longest a lockstep decimator waits for the analysis before deciding anyway (a frame
/// lost between the two must not stall a replay for good).
const LOCKSTEP_WAIT: Duration = Duration::from_secs(30);

impl Default for RateSignal {
    fn default() -> Self {
        Self::with(None)
    }
}

impl RateSignal {
    fn with(pace: Option<Pace>) -> Self {
        Self(Arc::new(Shared {
            until: AtomicU64::new(f64::NEG_INFINITY.to_bits()),
            pace,
        }))
    }

    /// A signal that is not active.
    pub fn new() -> Self {
        Self::default()
    }

    /// A signal that is not active, in lockstep: the analysis must call
    /// [`RateSignal::frame_done`] once for every frame the decimator admitted (also for one it
    /// dropped), and the decimator waits for it before each decision.
    pub fn lockstep() -> Self {
        Self::with(Some(Pace::default()))
    }

    /// Keeps the active rate on until stream time `t`; the latest call wins, so a stream whose
    /// time went back (a looped file, a restarted camera) is not held at the old deadline.
    pub fn active_until(&self, t: f64) {
        if t.is_nan() {
            return;
        }
        self.0.until.store(t.to_bits(), Ordering::Relaxed);
    }

    /// Whether the active rate applies at stream time `t`.
    pub fn is_active(&self, t: f64) -> bool {
        t <= f64::from_bits(self.0.until.load(Ordering::Relaxed))
    }

    /// The analysis is done with one admitted frame (it handled it, or it was dropped on the
    /// way). Does nothing unless the signal is in lockstep.
    pub fn frame_done(&self) {
        if let Some(p) = &self.0.pace {
            let mut c = p.counts.lock().unwrap_or_else(|e| e.into_inner());
            c.1 += 1;
            p.done.notify_all();
        }
    }

    /// In lockstep, waits until every admitted frame is done (at most [`LOCKSTEP_WAIT`]).
    fn wait_caught_up(&self) {
        let Some(p) = &self.0.pace else { return };
        let c = p.counts.lock().unwrap_or_else(|e| e.into_inner());
        let _ = p
            .done
            .wait_timeout_while(c, LOCKSTEP_WAIT, |c| c.1 < c.0)
            .unwrap_or_else(|e| e.into_inner());
    }

    fn admitted(&self) {
        if let Some(p) = &self.0.pace {
            let mut c = p.counts.lock().unwrap_or_else(|e| e.into_inner());
            c.0 += 1;
        }
    }
}

/// Seconds a frame may come early and still be taken for its slot (container time stamps are
/// rounded).
const SLACK_S: f64 = 0.001;

/// Picks which delivered frames are analysed: at most `fps` a second while the [`RateSignal`]
/// is off, at most `active_fps` while it is on. Slots follow a fixed grid (a 25 fps source at
/// 10 fps gives 10 frames a second, not 8.3), and stream time going back starts afresh.
#[derive(Clone, Debug)]
pub struct Decimator {
    still_period: f64,
    active_period: f64,
    signal: RateSignal,
    /// The slot the last admitted frame filled.
    slot: Option<f64>,
    /// Frames admitted so far.
    pub admitted: u64,
    /// Frames skipped so far.
    pub skipped: u64,
    /// Admitted frames that came while the active rate applied (and was higher than the still
    /// one).
    pub admitted_active: u64,
}

fn period(fps: f64) -> f64 {
    if fps.is_finite() && fps > 0.0 {
        1.0 / fps
    } else {
        0.0
    }
}

impl Decimator {
    /// `fps` while still, `active_fps` while `signal` is on; 0 means every delivered frame.
    /// An `active_fps` at or below `fps` (other than 0) turns adaptation off.
    pub fn new(fps: f64, active_fps: f64, signal: RateSignal) -> Self {
        let still_period = period(fps);
        let active_period = if still_period == 0.0 || active_fps == 0.0 {
            0.0
        } else {
            period(active_fps).min(still_period)
        };
        Self {
            still_period,
            active_period,
            signal,
            slot: None,
            admitted: 0,
            skipped: 0,
            admitted_active: 0,
        }
    }

    /// The signal this decimator reads.
    pub fn signal(&self) -> &RateSignal {
        &self.signal
    }

    /// Whether the frame at stream time `t` is analysed; counts it either way.
    pub fn admit(&mut self, t: f64) -> bool {
        self.signal.wait_caught_up();
        let active = self.signal.is_active(t);
        let period = if active {
            self.active_period
        } else {
            self.still_period
        };
        let slot = match self.slot {
            // First frame, or time went back more than a slot: start afresh.
            None => t,
            Some(last) if t < last - period.max(SLACK_S) => t,
            Some(last) => {
                let due = last + period;
                if t + SLACK_S < due {
                    self.skipped += 1;
                    return false;
                }
                // Keep the grid unless a whole slot was missed.
                if t >= due + period { t } else { due }
            }
        };
        self.slot = Some(slot);
        self.admitted += 1;
        self.signal.admitted();
        if active && self.active_period < self.still_period {
            self.admitted_active += 1;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(d: &mut Decimator, fps: f64, seconds: f64) -> Vec<f64> {
        let n = (seconds * fps).round() as usize;
        (0..n)
            .map(|i| i as f64 / fps)
            .filter(|&t| d.admit(t))
            .collect()
    }

    #[test]
    fn still_rate_keeps_a_grid() {
        let mut d = Decimator::new(2.0, 10.0, RateSignal::new());
        let got = run(&mut d, 25.0, 10.0);
        assert_eq!(got.len(), 20);
        assert!((got[1] - 0.52).abs() < 1e-9, "{got:?}");
        assert_eq!(d.admitted, 20);
        assert_eq!(d.skipped, 230);
        assert_eq!(d.admitted_active, 0);
        // 25 fps at 10 fps: ten a second, not 25/3.
        let mut d = Decimator::new(10.0, 0.0, RateSignal::new());
        assert_eq!(run(&mut d, 25.0, 10.0).len(), 100);
    }

    #[test]
    fn the_signal_raises_and_lowers_the_rate() {
        let signal = RateSignal::new();
        let mut d = Decimator::new(2.0, 10.0, signal.clone());
        let mut admitted = Vec::new();
        for i in 0..250 {
            let t = f64::from(i) / 25.0;
            if i == 50 {
                // From 2 s to 4 s people move.
                signal.active_until(4.0);
            }
            if d.admit(t) {
                admitted.push(t);
            }
        }
        let between = |a: f64, b: f64| admitted.iter().filter(|&&t| t >= a && t < b).count();
        assert_eq!(between(0.0, 2.0), 4);
        assert_eq!(between(2.0, 4.0), 20);
        assert_eq!(between(4.5, 10.0), 11);
        assert_eq!(d.admitted_active, 21, "{admitted:?}");
    }

    #[test]
    fn lockstep_decides_after_the_analysis_caught_up() {
        // The analysis (another thread) raises the rate on the frame at 1 s, slowly; in
        // lockstep the decimator still sees it before deciding on the next frame.
        let signal = RateSignal::lockstep();
        let mut d = Decimator::new(1.0, 5.0, signal.clone());
        let (tx, rx) = std::sync::mpsc::channel::<f64>();
        let analysis = std::thread::spawn(move || {
            for t in rx {
                std::thread::sleep(Duration::from_millis(5));
                if (t - 1.0).abs() < 1e-9 {
                    signal.active_until(2.0);
                }
                signal.frame_done();
            }
        });
        let mut admitted = Vec::new();
        for i in 0..75 {
            let t = f64::from(i) / 25.0;
            if d.admit(t) {
                admitted.push(i);
                tx.send(t).expect("analysis alive");
            }
        }
        drop(tx);
        analysis.join().expect("analysis thread");
        // 0 s and 1 s at the still rate, 1.2 s to 2 s at the raised one, then still again
        // (3 s is past the end).
        assert_eq!(admitted, vec![0, 25, 30, 35, 40, 45, 50]);
    }

    #[test]
    fn zero_means_every_frame_and_time_going_back_restarts() {
        let mut d = Decimator::new(0.0, 10.0, RateSignal::new());
        assert_eq!(run(&mut d, 25.0, 2.0).len(), 50);
        let mut d = Decimator::new(2.0, 0.0, RateSignal::new());
        let signal = d.signal().clone();
        signal.active_until(100.0);
        assert_eq!(
            run(&mut d, 25.0, 2.0).len(),
            50,
            "active_fps 0: every frame while active"
        );
        let mut d = Decimator::new(2.0, 2.0, RateSignal::new());
        assert!(d.admit(5.0));
        assert!(!d.admit(5.2));
        assert!(d.admit(1.0), "a looped file starts again");
        assert!(!d.admit(1.2));
        assert!(d.admit(1.5));
    }
}
