//! A simulated run on disk, and read back.
//!
//! [`write_run`] writes a folder:
//!
//! | file | one row per | columns |
//! |---|---|---|
//! | `manifest.json` | run | format, seed, days, dates, camera and frame size, fps, first and last frame time, counts, and the full [`SimConfig`] |
//! | `hall.toml` | run | the hallwatch config of the simulated hall (camera, zones) the detections are meant for |
//! | `truth.csv` | citizen, in the order they left | `id,date,service,ticket,arrival,ticket_at,seated_at,called_at,service_start,service_end,counter,gave_up_at,left_at,outcome,waited_s,rating` |
//! | `tickets.csv` | ticket event, in time order | `number,service,event,counter,time` |
//! | `ratings.csv` | rating, in time order | `time,counter,ticket,level` |
//! | `queue_truth.csv` | sample every `queue_sample_s` | `time_s,waiting,pending_tickets,serving` |
//! | `det/CAMERA.txt` | detection | MOTChallenge `frame,-1,x,y,w,h,score,-1,-1,-1` (pixels, frame from 1) |
//! | `det/CAMERA.frames.csv` | frame, with or without detections | `frame,time_s` |
//!
//! Times in `truth.csv` and `queue_truth.csv` are Unix seconds with three decimals; empty
//! cells are "did not happen". `outcome` is `served`, `no_show` or `abandoned`; `waited_s` is
//! ticket to call (served) or to giving up (the others).
//!
//! `tickets.csv` is what a hall's ticket system (máy lấy số) exports: `number` as printed
//! (`A007`: the service's letter and the day's sequence), `service` the service id, `event`
//! one of `issued`, `called`, `finished`, `no_show` (called, nobody came; the counter moved on),
//! `counter` the counter number (empty for `issued`), `time` local ISO-8601 to the second with
//! the offset, e.g. `2026-11-23T07:41:09+07:00`. Every ticket is issued once, called once, then
//! finished or no-show. `ratings.csv` has `time` in the same form and `level` one of
//! `very_satisfied`, `satisfied`, `dissatisfied` (the citizen's wait lowers it: see
//! [`RatingConfig`](crate::RatingConfig)).

use crate::config::SimConfig;
use crate::model::{CitizenTruth, Outcome, QueueSample, RatingLevel};
use crate::simulator::Simulator;
use crate::{HALL_TOML, SimError};
use chrono::TimeZone;
use chrono_tz::Tz;
use hallwatch_core::{BBox, Detection};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The version of the folder layout written.
pub const FORMAT: u32 = 1;

/// What `manifest.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Folder layout version ([`FORMAT`]).
    pub format: u32,
    /// Random seed.
    pub seed: u64,
    /// Working days simulated.
    pub days: u32,
    /// Their local dates.
    pub dates: Vec<String>,
    /// The virtual camera.
    pub camera: String,
    /// Frame width, pixels.
    pub width: u32,
    /// Frame height, pixels.
    pub height: u32,
    /// Analysed frames per second.
    pub fps: f64,
    /// Counts of what was written.
    pub counts: Counts,
    /// The simulator's settings.
    pub config: SimConfig,
}

/// How much a run holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Citizens who came.
    pub citizens: u64,
    /// Served.
    pub served: u64,
    /// Left on their own before being called.
    pub no_show: u64,
    /// Gave up waiting.
    pub abandoned: u64,
    /// Ticket events.
    pub ticket_events: u64,
    /// Ratings.
    pub ratings: u64,
    /// Camera frames.
    pub frames: u64,
    /// Detections in them.
    pub detections: u64,
    /// Queue samples.
    pub queue_samples: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, SimError> {
    Ok(BufWriter::new(File::create(path).map_err(io(path))?))
}

/// `t` as local ISO-8601 to the second with the offset, e.g. `2026-11-23T07:41:09+07:00`.
pub fn iso(t: f64, tz: Tz) -> String {
    tz.timestamp_opt(t.floor() as i64, 0)
        .single()
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%:z").to_string())
        .unwrap_or_default()
}

fn opt(v: Option<f64>) -> String {
    v.map(|t| format!("{t:.3}")).unwrap_or_default()
}

/// The files of a run folder.
#[derive(Clone, Debug)]
pub struct RunFiles {
    /// The folder.
    pub dir: PathBuf,
}

impl RunFiles {
    /// The files of `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }
    /// `manifest.json`.
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("manifest.json")
    }
    /// `hall.toml`.
    pub fn hall(&self) -> PathBuf {
        self.dir.join("hall.toml")
    }
    /// `truth.csv`.
    pub fn truth(&self) -> PathBuf {
        self.dir.join("truth.csv")
    }
    /// `tickets.csv`.
    pub fn tickets(&self) -> PathBuf {
        self.dir.join("tickets.csv")
    }
    /// `ratings.csv`.
    pub fn ratings(&self) -> PathBuf {
        self.dir.join("ratings.csv")
    }
    /// `queue_truth.csv`.
    pub fn queue(&self) -> PathBuf {
        self.dir.join("queue_truth.csv")
    }
    /// `det/CAMERA.txt`.
    pub fn detections(&self, camera: &str) -> PathBuf {
        self.dir.join("det").join(format!("{camera}.txt"))
    }
    /// `det/CAMERA.frames.csv`.
    pub fn frames(&self, camera: &str) -> PathBuf {
        self.dir.join("det").join(format!("{camera}.frames.csv"))
    }
}

/// Runs `sim` to its end and writes the run to `dir` (created if missing). Returns the
/// manifest written.
pub fn write_run(sim: &mut Simulator, dir: &Path) -> Result<Manifest, SimError> {
    let files = RunFiles::new(dir);
    std::fs::create_dir_all(dir.join("det")).map_err(io(dir))?;
    let tz = sim.calendar().tz();
    let (camera, width, height) = sim.camera();
    let mut truth = create(&files.truth())?;
    let mut tickets = create(&files.tickets())?;
    let mut ratings = create(&files.ratings())?;
    let mut queue = create(&files.queue())?;
    let det_path = files.detections(camera.as_str());
    let frames_path = files.frames(camera.as_str());
    let mut det = create(&det_path)?;
    let mut frames = create(&frames_path)?;
    let e = io;
    writeln!(
        truth,
        "id,date,service,ticket,arrival,ticket_at,seated_at,called_at,service_start,service_end,counter,gave_up_at,left_at,outcome,waited_s,rating"
    )
    .map_err(e(&files.truth()))?;
    writeln!(tickets, "number,service,event,counter,time").map_err(e(&files.tickets()))?;
    writeln!(ratings, "time,counter,ticket,level").map_err(e(&files.ratings()))?;
    writeln!(queue, "time_s,waiting,pending_tickets,serving").map_err(e(&files.queue()))?;
    writeln!(frames, "frame,time_s").map_err(e(&frames_path))?;
    let mut counts = Counts::default();
    while let Some(next) = sim.next_time() {
        let ev = sim.advance_to(next + 600.0);
        for c in &ev.citizens {
            counts.citizens += 1;
            match c.outcome {
                Outcome::Served => counts.served += 1,
                Outcome::NoShow => counts.no_show += 1,
                Outcome::Abandoned => counts.abandoned += 1,
            }
            writeln!(
                truth,
                "{},{},{},{},{:.3},{:.3},{},{},{},{},{},{},{:.3},{},{:.3},{}",
                c.id,
                c.date,
                c.service,
                c.ticket,
                c.arrival,
                c.ticket_at,
                opt(c.seated_at),
                opt(c.called_at),
                opt(c.service_start),
                opt(c.service_end),
                c.counter.map(|n| n.to_string()).unwrap_or_default(),
                opt(c.gave_up_at),
                c.left_at,
                c.outcome.as_str(),
                c.waited_s(),
                c.rating.map(|r| r.as_str()).unwrap_or_default(),
            )
            .map_err(e(&files.truth()))?;
        }
        for t in &ev.tickets {
            counts.ticket_events += 1;
            writeln!(
                tickets,
                "{},{},{},{},{}",
                t.number,
                t.service,
                t.event.as_str(),
                t.counter.map(|n| n.to_string()).unwrap_or_default(),
                iso(t.t, tz)
            )
            .map_err(e(&files.tickets()))?;
        }
        for r in &ev.ratings {
            counts.ratings += 1;
            writeln!(
                ratings,
                "{},{},{},{}",
                iso(r.t, tz),
                r.counter,
                r.ticket,
                r.level.as_str()
            )
            .map_err(e(&files.ratings()))?;
        }
        for q in &ev.queue {
            counts.queue_samples += 1;
            writeln!(
                queue,
                "{:.3},{},{},{}",
                q.t, q.waiting, q.pending_tickets, q.serving
            )
            .map_err(e(&files.queue()))?;
        }
        for f in &ev.frames {
            counts.frames += 1;
            writeln!(frames, "{},{:.3}", f.index, f.t).map_err(e(&frames_path))?;
            for d in &f.detections {
                counts.detections += 1;
                writeln!(
                    det,
                    "{},-1,{:.2},{:.2},{:.2},{:.2},{:.4},-1,-1,-1",
                    f.index,
                    d.bbox.x1,
                    d.bbox.y1,
                    d.bbox.width(),
                    d.bbox.height(),
                    d.score
                )
                .map_err(e(&det_path))?;
            }
        }
    }
    for (w, p) in [
        (&mut truth, files.truth()),
        (&mut tickets, files.tickets()),
        (&mut ratings, files.ratings()),
        (&mut queue, files.queue()),
        (&mut det, det_path.clone()),
        (&mut frames, frames_path.clone()),
    ] {
        w.flush().map_err(io(&p))?;
    }
    let manifest = Manifest {
        format: FORMAT,
        seed: sim.seed(),
        days: sim.dates().len() as u32,
        dates: sim.dates().iter().map(|d| d.to_string()).collect(),
        camera: camera.to_string(),
        width,
        height,
        fps: sim.config().camera.fps,
        counts,
        config: sim.config().clone(),
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| SimError::Parse {
        path: files.manifest().display().to_string(),
        line: 0,
        message: e.to_string(),
    })?;
    std::fs::write(files.manifest(), text + "\n").map_err(io(&files.manifest()))?;
    std::fs::write(files.hall(), HALL_TOML).map_err(io(&files.hall()))?;
    Ok(manifest)
}

fn parse_err(path: &Path, line: usize, message: impl Into<String>) -> SimError {
    SimError::Parse {
        path: path.display().to_string(),
        line,
        message: message.into(),
    }
}

/// Reads `manifest.json`.
pub fn read_manifest(dir: &Path) -> Result<Manifest, SimError> {
    let p = RunFiles::new(dir).manifest();
    let text = std::fs::read_to_string(&p).map_err(io(&p))?;
    let m: Manifest =
        serde_json::from_str(&text).map_err(|e| parse_err(&p, e.line(), e.to_string()))?;
    if m.format != FORMAT {
        return Err(parse_err(
            &p,
            0,
            format!("folder format {} (this build reads {FORMAT})", m.format),
        ));
    }
    Ok(m)
}

/// Lines of a CSV file after its header, split on commas, with their 1-based line numbers.
fn csv_rows(path: &Path) -> Result<Vec<(usize, Vec<String>)>, SimError> {
    let f = File::open(path).map_err(io(path))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate().skip(1) {
        let line = line.map_err(io(path))?;
        if line.is_empty() {
            continue;
        }
        out.push((i + 1, line.split(',').map(str::to_string).collect()));
    }
    Ok(out)
}

fn num(path: &Path, line: usize, s: &str) -> Result<f64, SimError> {
    s.parse::<f64>()
        .map_err(|_| parse_err(path, line, format!("'{s}' is not a number")))
}

fn opt_num(path: &Path, line: usize, s: &str) -> Result<Option<f64>, SimError> {
    if s.is_empty() {
        Ok(None)
    } else {
        num(path, line, s).map(Some)
    }
}

/// Reads `truth.csv`.
pub fn read_truth(dir: &Path) -> Result<Vec<CitizenTruth>, SimError> {
    let p = RunFiles::new(dir).truth();
    let mut out = Vec::new();
    for (line, r) in csv_rows(&p)? {
        if r.len() != 16 {
            return Err(parse_err(
                &p,
                line,
                format!("{} columns, expected 16", r.len()),
            ));
        }
        let outcome = match r[13].as_str() {
            "served" => Outcome::Served,
            "no_show" => Outcome::NoShow,
            "abandoned" => Outcome::Abandoned,
            o => return Err(parse_err(&p, line, format!("unknown outcome '{o}'"))),
        };
        let rating = match r[15].as_str() {
            "" => None,
            "very_satisfied" => Some(RatingLevel::VerySatisfied),
            "satisfied" => Some(RatingLevel::Satisfied),
            "dissatisfied" => Some(RatingLevel::Dissatisfied),
            o => return Err(parse_err(&p, line, format!("unknown rating '{o}'"))),
        };
        out.push(CitizenTruth {
            id: r[0].parse().map_err(|_| parse_err(&p, line, "bad id"))?,
            date: r[1].clone(),
            service: r[2].clone(),
            ticket: r[3].clone(),
            arrival: num(&p, line, &r[4])?,
            ticket_at: num(&p, line, &r[5])?,
            seated_at: opt_num(&p, line, &r[6])?,
            called_at: opt_num(&p, line, &r[7])?,
            service_start: opt_num(&p, line, &r[8])?,
            service_end: opt_num(&p, line, &r[9])?,
            counter: opt_num(&p, line, &r[10])?.map(|c| c as u32),
            gave_up_at: opt_num(&p, line, &r[11])?,
            left_at: num(&p, line, &r[12])?,
            outcome,
            rating,
        });
    }
    Ok(out)
}

/// Reads `queue_truth.csv`.
pub fn read_queue(dir: &Path) -> Result<Vec<QueueSample>, SimError> {
    let p = RunFiles::new(dir).queue();
    let mut out = Vec::new();
    for (line, r) in csv_rows(&p)? {
        if r.len() != 4 {
            return Err(parse_err(
                &p,
                line,
                format!("{} columns, expected 4", r.len()),
            ));
        }
        out.push(QueueSample {
            t: num(&p, line, &r[0])?,
            waiting: num(&p, line, &r[1])? as u32,
            pending_tickets: num(&p, line, &r[2])? as u32,
            serving: num(&p, line, &r[3])? as u32,
        });
    }
    Ok(out)
}

/// Reads a camera's frames back, in order, each with its detections (also frames without
/// any): an iterator of `(frame, time_s, detections)`.
pub struct DetectionReader {
    frames: std::io::Lines<BufReader<File>>,
    frames_path: PathBuf,
    frames_line: usize,
    det: std::io::Lines<BufReader<File>>,
    det_path: PathBuf,
    det_line: usize,
    /// A detection read ahead: (frame, detection).
    ahead: Option<(u64, Detection)>,
}

impl DetectionReader {
    /// Opens `det/CAMERA.frames.csv` and `det/CAMERA.txt` of `dir`.
    pub fn open(dir: &Path, camera: &str) -> Result<Self, SimError> {
        let files = RunFiles::new(dir);
        let (fp, dp) = (files.frames(camera), files.detections(camera));
        let mut frames = BufReader::new(File::open(&fp).map_err(io(&fp))?).lines();
        // Header.
        frames.next();
        let det = BufReader::new(File::open(&dp).map_err(io(&dp))?).lines();
        Ok(Self {
            frames,
            frames_path: fp,
            frames_line: 1,
            det,
            det_path: dp,
            det_line: 0,
            ahead: None,
        })
    }

    fn next_detection(&mut self) -> Result<Option<(u64, Detection)>, SimError> {
        if let Some(a) = self.ahead.take() {
            return Ok(Some(a));
        }
        let Some(line) = self.det.next() else {
            return Ok(None);
        };
        self.det_line += 1;
        let line = line.map_err(io(&self.det_path))?;
        let f: Vec<&str> = line.split(',').collect();
        let (p, n) = (&self.det_path, self.det_line);
        if f.len() < 7 {
            return Err(parse_err(p, n, "expected frame,-1,x,y,w,h,score,..."));
        }
        let frame = num(p, n, f[0])? as u64;
        let v: Vec<f64> = f[2..7]
            .iter()
            .map(|s| num(p, n, s))
            .collect::<Result<_, _>>()?;
        Ok(Some((
            frame,
            Detection {
                bbox: BBox::from_xywh(v[0] as f32, v[1] as f32, v[2] as f32, v[3] as f32),
                score: v[4] as f32,
                class: 0,
            },
        )))
    }

    /// The next frame: `(frame, time_s, detections)`, or `None` at the end.
    pub fn next_frame(&mut self) -> Result<Option<(u64, f64, Vec<Detection>)>, SimError> {
        let Some(line) = self.frames.next() else {
            return Ok(None);
        };
        self.frames_line += 1;
        let line = line.map_err(io(&self.frames_path))?;
        let (p, n) = (self.frames_path.clone(), self.frames_line);
        let Some((a, b)) = line.split_once(',') else {
            return Err(parse_err(&p, n, "expected frame,time_s"));
        };
        let frame = num(&p, n, a)? as u64;
        let t = num(&p, n, b)?;
        let mut dets = Vec::new();
        while let Some((k, d)) = self.next_detection()? {
            if k == frame {
                dets.push(d);
            } else if k > frame {
                self.ahead = Some((k, d));
                break;
            } else {
                return Err(parse_err(
                    &self.det_path,
                    self.det_line,
                    format!("frame {k} is not in order (at frame {frame})"),
                ));
            }
        }
        Ok(Some((frame, t, dets)))
    }
}
