//! The simulator's settings: a TOML/JSON-readable [`SimConfig`] whose defaults are a real
//! district hall (Bộ phận Một cửa cấp huyện): about 110 dossiers per working day, open 7:30-11:30
//! and 13:30-17:00 Monday to Friday, three counters taking every kind of dossier.

use crate::SimError;
use hallwatch_config::HoursConfig;
use serde::{Deserialize, Serialize};

/// Everything the simulated hall does. Every field has a default; a file names only what it
/// changes, and unknown fields are an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// First simulated day, local `YYYY-MM-DD`; a closed day starts at the next working day.
    /// Default 2026-11-23, a Monday.
    pub start_date: String,
    /// IANA time zone of the hall. Default `Asia/Ho_Chi_Minh`.
    pub timezone: String,
    /// Opening hours (the shared `[hours]` section): working weekdays, sessions, holidays.
    /// Default Monday to Friday, 07:30-11:30 and 13:30-17:00.
    pub hours: HoursConfig,
    /// When citizens come.
    pub arrivals: ArrivalsConfig,
    /// Kinds of dossier (lĩnh vực), each with its own ticket letter and service time.
    pub services: Vec<ServiceConfig>,
    /// The counters (quầy).
    pub counters: Vec<CounterConfig>,
    /// How citizens behave: walking, the ticket kiosk, giving up.
    pub citizens: CitizenConfig,
    /// Officers' short absences from their counters.
    pub staff: StaffConfig,
    /// The rating device (Mức độ hài lòng) at the counters.
    pub ratings: RatingConfig,
    /// The virtual camera and its detector's errors.
    pub camera: CameraConfig,
    /// Seconds between two samples of the true queue (`queue_truth.csv`). Default 10.
    pub queue_sample_s: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            start_date: "2026-11-23".into(),
            timezone: "Asia/Ho_Chi_Minh".into(),
            hours: HoursConfig::default(),
            arrivals: ArrivalsConfig::default(),
            services: default_services(),
            counters: (1..=3)
                .map(|n| CounterConfig {
                    number: n,
                    services: Vec::new(),
                    speed: 1.0,
                })
                .collect(),
            citizens: CitizenConfig::default(),
            staff: StaffConfig::default(),
            ratings: RatingConfig::default(),
            camera: CameraConfig::default(),
            queue_sample_s: 10.0,
        }
    }
}

/// Arrivals: a non-homogeneous Poisson process whose rate follows `profile` inside the opening
/// sessions, scaled so that a working day brings `per_day` citizens on average.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArrivalsConfig {
    /// Expected citizens taking a ticket per working day. Default 118: after no-shows and
    /// people who give up, about 110 dossiers are received.
    pub per_day: f64,
    /// The shape of the arrival rate through the day: `["HH:MM", weight]` points in local time,
    /// linear in between, zero before the first and after the last point. Only the ratios
    /// matter. Default: a morning peak around 9:00 (about two thirds of the day's citizens come
    /// in the morning), a quiet start after lunch, a smaller mid-afternoon hump.
    pub profile: Vec<(String, f64)>,
    /// Factors on `per_day` for Monday to Sunday: halls are busiest on Monday (the weekend's
    /// errands) and quietest on Friday afternoon. Default 1.25, 1.05, 1.0, 0.95, 0.75, 1, 1
    /// (a Monday brings about 150 citizens, more than three counters serve in the morning
    /// peak; the working week averages `per_day`).
    pub weekday_factors: [f64; 7],
    /// No ticket is issued in the last minutes of a session (citizens are told to come back);
    /// counters still serve everyone holding a ticket, past the session's end if need be.
    /// Default 15.
    pub last_ticket_min: f64,
}

impl Default for ArrivalsConfig {
    fn default() -> Self {
        let p = |t: &str, w: f64| (t.to_string(), w);
        Self {
            per_day: 118.0,
            profile: vec![
                p("07:30", 0.8),
                p("08:00", 1.6),
                p("08:30", 2.1),
                p("09:00", 2.3),
                p("09:30", 2.0),
                p("10:00", 1.6),
                p("10:30", 1.2),
                p("11:00", 0.8),
                p("11:30", 0.4),
                p("13:30", 0.5),
                p("14:00", 1.0),
                p("14:30", 1.3),
                p("15:00", 1.3),
                p("15:30", 1.1),
                p("16:00", 0.8),
                p("16:30", 0.5),
                p("17:00", 0.3),
            ],
            weekday_factors: [1.25, 1.05, 1.0, 0.95, 0.75, 1.0, 1.0],
            last_ticket_min: 15.0,
        }
    }
}

/// One kind of dossier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Short id, e.g. `chung-thuc`.
    pub id: String,
    /// Display name, e.g. "Chứng thực".
    #[serde(default)]
    pub name: String,
    /// Ticket letter: tickets are numbered `A001`, `A002`, ... per service and day.
    pub letter: String,
    /// Share of citizens who come for it (normalised over all services).
    pub share: f64,
    /// Mean service time at a counter, seconds.
    pub mean_s: f64,
    /// Coefficient of variation (sd / mean) of the service time; log-normally distributed.
    #[serde(default = "default_cv")]
    pub cv: f64,
}

fn default_cv() -> f64 {
    0.6
}

fn default_services() -> Vec<ServiceConfig> {
    let s = |id: &str, name: &str, letter: &str, share: f64, min: f64, cv: f64| ServiceConfig {
        id: id.into(),
        name: name.into(),
        letter: letter.into(),
        share,
        mean_s: min * 60.0,
        cv,
    };
    vec![
        s("chung-thuc", "Chứng thực", "A", 0.40, 4.0, 0.5),
        s("ho-tich", "Hộ tịch", "B", 0.30, 7.0, 0.6),
        s("dat-dai", "Đất đai", "C", 0.15, 12.0, 0.6),
        s("kinh-doanh", "Kinh doanh hộ cá thể", "D", 0.15, 9.0, 0.6),
    ]
}

/// One counter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterConfig {
    /// Counter number (Quầy N); must match a counter zone of the simulated camera.
    pub number: u32,
    /// Service ids it takes; empty = every service. A counter calls the oldest waiting ticket
    /// among its services.
    #[serde(default)]
    pub services: Vec<String>,
    /// Speed of its officer: service times are divided by it. Default 1.
    #[serde(default = "one")]
    pub speed: f64,
}

fn one() -> f64 {
    1.0
}

/// Citizens' behaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CitizenConfig {
    /// Mean walking speed in image widths per second (the camera sees about 12 m across: 0.1
    /// is 1.2 m/s). Each citizen walks at this times a factor drawn around 1 (sd 0.15).
    pub walk_speed: f64,
    /// Seconds at the ticket kiosk, uniform between the two bounds. Default 10 to 40.
    pub kiosk_s: [f64; 2],
    /// Seconds between their number being called (display and loudspeaker) and getting up:
    /// noticing it, gathering papers. Uniform between the two bounds. Default 3 to 12.
    pub call_reaction_s: [f64; 2],
    /// Chance that a citizen takes a ticket and then leaves for reasons of their own (an
    /// errand, a missing paper, a phone call outside) after a delay uniform in
    /// `no_show_after_min`, unless called before. Their ticket is then a no-show when called.
    /// Default 0.06 (about half of them are called before they go).
    pub no_show_prob: f64,
    /// Bounds of that delay, minutes. Default 1 to 10.
    pub no_show_after_min: [f64; 2],
    /// Mean patience, minutes: a citizen still waiting this long after the ticket gives up and
    /// leaves (log-normal, cv `patience_cv`). Default 75.
    pub patience_mean_min: f64,
    /// Coefficient of variation of the patience. Default 0.6.
    pub patience_cv: f64,
    /// Seconds a counter waits for a called citizen who does not come before calling the next
    /// ticket (the ticket is then a no-show). Default 45.
    pub no_show_wait_s: f64,
}

impl Default for CitizenConfig {
    fn default() -> Self {
        Self {
            walk_speed: 0.1,
            kiosk_s: [10.0, 40.0],
            call_reaction_s: [3.0, 12.0],
            no_show_prob: 0.06,
            no_show_after_min: [1.0, 10.0],
            patience_mean_min: 75.0,
            patience_cv: 0.6,
            no_show_wait_s: 45.0,
        }
    }
}

/// Officers' short absences (tea, photocopies, a question to the head of office). An officer
/// leaves only between two citizens; a counter whose officer is away calls nobody and shows as
/// "staff absent" on camera.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StaffConfig {
    /// Absences per open hour and counter (Poisson). Default 0.3.
    pub breaks_per_hour: f64,
    /// Mean absence, minutes (exponential). Default 5.
    pub break_mean_min: f64,
    /// An officer puts a due absence off while more tickets than this wait for the counter
    /// (nobody leaves a long queue for tea). Default 3.
    pub max_queue_for_break: u32,
}

impl Default for StaffConfig {
    fn default() -> Self {
        Self {
            breaks_per_hour: 0.3,
            break_mean_min: 5.0,
            max_queue_for_break: 3,
        }
    }
}

/// Satisfaction ratings after a service. The level comes from an ordered-logit model of the
/// wait `w` (minutes): `P(very satisfied) = σ((very_until_min - w) / scale_min)` and
/// `P(dissatisfied) = σ((w - satisfied_until_min) / scale_min)`, the rest satisfied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RatingConfig {
    /// Chance that a served citizen presses the rating device. Default 0.6.
    pub prob: f64,
    /// Wait (minutes) at which "very satisfied" has a 50 % chance. Default 10.
    pub very_until_min: f64,
    /// Wait (minutes) at which "dissatisfied" has a 50 % chance. Default 40.
    pub satisfied_until_min: f64,
    /// Spread of the logistic, minutes. Default 6.
    pub scale_min: f64,
}

impl Default for RatingConfig {
    fn default() -> Self {
        Self {
            prob: 0.6,
            very_until_min: 10.0,
            satisfied_until_min: 40.0,
            scale_min: 6.0,
        }
    }
}

/// The virtual camera: frame rate, and the errors of a person detector on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CameraConfig {
    /// Analysed frames per second. Default 2, the hall default.
    pub fps: f64,
    /// Minutes of frames before the first session and after the last person left.
    /// Default 10.
    pub margin_min: f64,
    /// The detector's errors.
    pub noise: NoiseConfig,
}

impl Default for CameraConfig {
    fn default() -> Self {
        Self {
            fps: 2.0,
            margin_min: 10.0,
            noise: NoiseConfig::default(),
        }
    }
}

/// A person detector's errors, applied to the true boxes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseConfig {
    /// Chance that a visible person is not detected in a frame. Default 0.05.
    pub miss_prob: f64,
    /// Standard deviation of the box's centre and size, as a fraction of its height.
    /// Default 0.03.
    pub jitter: f64,
    /// Spurious detections per frame (Poisson), anywhere in the hall, with a low-to-middling
    /// score. Default 0.05.
    pub false_positives_per_frame: f64,
    /// A person whose box is covered at least this much (intersection over their own area) by
    /// someone standing in front of them (nearer the camera) is occluded. Default 0.45.
    pub occlusion_overlap: f64,
    /// An occluded person is missed with this chance, else detected with half the score
    /// (ByteTrack's low-score stage may keep them). Default 0.6.
    pub occluded_miss_prob: f64,
    /// Occlusion episodes per hour and person (someone stands in front, a pillar, a bag held
    /// up): the person is missed for the whole episode. Poisson. Default 2.
    pub episodes_per_hour: f64,
    /// Mean episode, seconds (exponential). Default 3: one in five lasts longer than the
    /// tracker's 3 s lost buffer plus a frame or two.
    pub episode_mean_s: f64,
    /// Detections below this score are not reported (the detector's lowest threshold, the
    /// tracker's `low_score`). Default 0.2.
    pub min_score: f64,
    /// Scores of clearly visible people, uniform between the two bounds. Default 0.5 to 0.95.
    pub score: [f64; 2],
}

impl Default for NoiseConfig {
    fn default() -> Self {
        Self {
            miss_prob: 0.05,
            jitter: 0.03,
            false_positives_per_frame: 0.05,
            occlusion_overlap: 0.45,
            occluded_miss_prob: 0.6,
            episodes_per_hour: 2.0,
            episode_mean_s: 3.0,
            min_score: 0.2,
            score: [0.5, 0.95],
        }
    }
}

impl SimConfig {
    /// Reads a TOML file's text.
    pub fn from_toml_str(text: &str) -> Result<Self, SimError> {
        let cfg: SimConfig = toml::from_str(text).map_err(|e| SimError::Config(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every value; the error lists each problem with its field.
    pub fn validate(&self) -> Result<(), SimError> {
        let mut errs: Vec<String> = Vec::new();
        let mut need = |ok: bool, field: &str, what: &str| {
            if !ok {
                errs.push(format!("{field}: {what}"));
            }
        };
        let pos = |v: f64| v.is_finite() && v > 0.0;
        let nonneg = |v: f64| v.is_finite() && v >= 0.0;
        let prob = |v: f64| v.is_finite() && (0.0..=1.0).contains(&v);
        let range =
            |r: [f64; 2]| r[0].is_finite() && r[1].is_finite() && 0.0 <= r[0] && r[0] <= r[1];
        need(
            chrono::NaiveDate::parse_from_str(&self.start_date, "%Y-%m-%d").is_ok(),
            "start_date",
            "must be a date as YYYY-MM-DD",
        );
        if let Err(e) = self.hours.build(&self.timezone) {
            for e in e {
                need(false, &e.path, &e.message);
            }
        }
        let a = &self.arrivals;
        need(nonneg(a.per_day), "arrivals.per_day", "must be >= 0");
        need(
            nonneg(a.last_ticket_min),
            "arrivals.last_ticket_min",
            "must be >= 0",
        );
        need(
            a.weekday_factors.iter().all(|f| nonneg(*f)),
            "arrivals.weekday_factors",
            "must all be >= 0",
        );
        need(
            !a.profile.is_empty(),
            "arrivals.profile",
            "needs at least one point",
        );
        let mut prev = None;
        for (i, (t, w)) in a.profile.iter().enumerate() {
            match parse_hm(t) {
                Some(s) => {
                    need(
                        prev.is_none_or(|p| s > p),
                        &format!("arrivals.profile[{i}]"),
                        "times must increase",
                    );
                    prev = Some(s);
                }
                None => need(
                    false,
                    &format!("arrivals.profile[{i}]"),
                    "time must be \"HH:MM\"",
                ),
            }
            need(
                nonneg(*w),
                &format!("arrivals.profile[{i}]"),
                "weight must be >= 0",
            );
        }
        need(
            !self.services.is_empty(),
            "services",
            "needs at least one service",
        );
        for (i, s) in self.services.iter().enumerate() {
            let f = |k: &str| format!("services[{i}].{k}");
            need(!s.id.is_empty(), &f("id"), "must not be empty");
            need(
                self.services.iter().filter(|o| o.id == s.id).count() == 1,
                &f("id"),
                "is not unique",
            );
            need(
                !s.letter.is_empty() && s.letter.chars().all(|c| c.is_ascii_alphanumeric()),
                &f("letter"),
                "must be letters or digits",
            );
            need(nonneg(s.share), &f("share"), "must be >= 0");
            need(pos(s.mean_s), &f("mean_s"), "must be > 0");
            need(nonneg(s.cv), &f("cv"), "must be >= 0");
        }
        need(
            self.services.iter().map(|s| s.share).sum::<f64>() > 0.0,
            "services",
            "shares must not all be 0",
        );
        need(
            !self.counters.is_empty(),
            "counters",
            "needs at least one counter",
        );
        for (i, c) in self.counters.iter().enumerate() {
            let f = |k: &str| format!("counters[{i}].{k}");
            need(c.number >= 1, &f("number"), "must be 1 or more");
            need(
                self.counters
                    .iter()
                    .filter(|o| o.number == c.number)
                    .count()
                    == 1,
                &f("number"),
                "is not unique",
            );
            need(pos(c.speed), &f("speed"), "must be > 0");
            for (j, s) in c.services.iter().enumerate() {
                need(
                    self.services.iter().any(|o| &o.id == s),
                    &f(&format!("services[{j}]")),
                    "is not a service id",
                );
            }
        }
        for s in &self.services {
            need(
                self.counters
                    .iter()
                    .any(|c| c.services.is_empty() || c.services.contains(&s.id)),
                "counters",
                &format!("no counter takes service '{}'", s.id),
            );
        }
        let c = &self.citizens;
        need(pos(c.walk_speed), "citizens.walk_speed", "must be > 0");
        need(
            range(c.kiosk_s),
            "citizens.kiosk_s",
            "must be [low, high] with 0 <= low <= high",
        );
        need(
            range(c.call_reaction_s),
            "citizens.call_reaction_s",
            "must be [low, high] with 0 <= low <= high",
        );
        need(
            prob(c.no_show_prob),
            "citizens.no_show_prob",
            "must be in [0, 1]",
        );
        need(
            range(c.no_show_after_min),
            "citizens.no_show_after_min",
            "must be [low, high] with 0 <= low <= high",
        );
        need(
            pos(c.patience_mean_min),
            "citizens.patience_mean_min",
            "must be > 0",
        );
        need(
            nonneg(c.patience_cv),
            "citizens.patience_cv",
            "must be >= 0",
        );
        need(
            nonneg(c.no_show_wait_s),
            "citizens.no_show_wait_s",
            "must be >= 0",
        );
        need(
            nonneg(self.staff.breaks_per_hour),
            "staff.breaks_per_hour",
            "must be >= 0",
        );
        need(
            pos(self.staff.break_mean_min),
            "staff.break_mean_min",
            "must be > 0",
        );
        let r = &self.ratings;
        need(prob(r.prob), "ratings.prob", "must be in [0, 1]");
        need(
            r.very_until_min.is_finite(),
            "ratings.very_until_min",
            "must be finite",
        );
        need(
            r.satisfied_until_min.is_finite() && r.satisfied_until_min >= r.very_until_min,
            "ratings.satisfied_until_min",
            "must be at least ratings.very_until_min",
        );
        need(pos(r.scale_min), "ratings.scale_min", "must be > 0");
        let cam = &self.camera;
        need(
            pos(cam.fps) && cam.fps <= 30.0,
            "camera.fps",
            "must be in (0, 30]",
        );
        need(nonneg(cam.margin_min), "camera.margin_min", "must be >= 0");
        let n = &cam.noise;
        need(
            prob(n.miss_prob),
            "camera.noise.miss_prob",
            "must be in [0, 1]",
        );
        need(nonneg(n.jitter), "camera.noise.jitter", "must be >= 0");
        need(
            nonneg(n.false_positives_per_frame),
            "camera.noise.false_positives_per_frame",
            "must be >= 0",
        );
        need(
            prob(n.occlusion_overlap),
            "camera.noise.occlusion_overlap",
            "must be in [0, 1]",
        );
        need(
            prob(n.occluded_miss_prob),
            "camera.noise.occluded_miss_prob",
            "must be in [0, 1]",
        );
        need(
            nonneg(n.episodes_per_hour),
            "camera.noise.episodes_per_hour",
            "must be >= 0",
        );
        need(
            pos(n.episode_mean_s),
            "camera.noise.episode_mean_s",
            "must be > 0",
        );
        need(
            prob(n.min_score),
            "camera.noise.min_score",
            "must be in [0, 1]",
        );
        need(
            range(n.score) && n.score[1] <= 1.0,
            "camera.noise.score",
            "must be [low, high] within [0, 1]",
        );
        need(pos(self.queue_sample_s), "queue_sample_s", "must be > 0");
        if errs.is_empty() {
            Ok(())
        } else {
            Err(SimError::Config(errs.join("\n")))
        }
    }
}

/// `"HH:MM"` as seconds after midnight.
pub(crate) fn parse_hm(s: &str) -> Option<f64> {
    let t = chrono::NaiveTime::parse_from_str(s, "%H:%M").ok()?;
    Some(f64::from(chrono::Timelike::num_seconds_from_midnight(&t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip_through_toml() {
        let c = SimConfig::default();
        c.validate().expect("defaults are valid");
        let text = toml::to_string(&c).expect("serialise");
        assert_eq!(SimConfig::from_toml_str(&text).expect("parse"), c);
    }

    #[test]
    fn partial_files_take_defaults_and_mistakes_are_named() {
        let c = SimConfig::from_toml_str("[arrivals]\nper_day = 50\n").expect("valid");
        assert_eq!(c.arrivals.per_day, 50.0);
        assert_eq!(c.counters.len(), 3);
        let e = SimConfig::from_toml_str("[arrivals]\nper_dai = 50\n").unwrap_err();
        assert!(e.to_string().contains("per_dai"), "{e}");
        let bad = SimConfig {
            start_date: "2026-13-01".into(),
            counters: vec![CounterConfig {
                number: 1,
                services: vec!["nope".into()],
                speed: 0.0,
            }],
            ..SimConfig::default()
        };
        let msg = bad.validate().unwrap_err().to_string();
        for field in [
            "start_date",
            "counters[0].speed",
            "counters[0].services[0]",
            "no counter takes service 'chung-thuc'",
        ] {
            assert!(msg.contains(field), "{field} not in {msg}");
        }
    }
}
