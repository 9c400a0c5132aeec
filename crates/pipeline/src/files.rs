//! The replay files: [`RecordFiles`] writes, per camera, the tracks in MOTChallenge format,
//! every analysed frame's zone counts and every visit, as `hallwatch eval-zones` reads them.

use crate::sink::{FrameStep, Sink};
use hallwatch_config::ZoneConfig;
use hallwatch_core::{CameraId, TrackStatus};
use hallwatch_zones::{HallSnapshot, Session, ZoneEvent};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A camera's source size (the analysis frame may be scaled down from it); None = the frame's.
pub type SourceSize = Box<dyn Fn(&CameraId) -> Option<(u32, u32)> + Send>;

/// One zone's figures over a recording.
#[derive(Clone, Debug, Serialize)]
pub struct ZoneSummary {
    /// The zone's role as written in the config (`waiting`, `counter`, ...).
    pub role: Option<String>,
    /// Mean people counted per analysed frame.
    pub mean_count: f64,
    /// Most people counted at once.
    pub max_count: usize,
    /// Visits.
    pub sessions: usize,
    /// Visits cut by the end of the recording or a camera outage.
    pub truncated: usize,
    /// Mean visit duration (seconds).
    pub mean_duration_s: Option<f64>,
    /// Longest visit (seconds).
    pub max_duration_s: Option<f64>,
}

/// One camera's recording.
#[derive(Clone, Debug, Default)]
pub struct RecordSummary {
    /// Analysed frames.
    pub frames: u64,
    /// Distinct tracks seen tracked.
    pub tracks: usize,
    /// Visits, all zones.
    pub sessions: usize,
    /// Stream time of the last analysed frame.
    pub last_t: f64,
    /// Per zone of the camera.
    pub zones: BTreeMap<String, ZoneSummary>,
}

struct CameraFiles {
    tracks: BufWriter<File>,
    counts: BufWriter<File>,
    sessions: BufWriter<File>,
    ids: BTreeSet<u64>,
    /// Per zone: sum of counts, most at once, frames.
    samples: BTreeMap<String, (f64, usize, u64)>,
    visits: Vec<Session>,
    frames: u64,
    last_t: f64,
    /// Analysis time minus the stream's own time at the last frame: zero for files; for
    /// live sources (analysed in wall-clock seconds) it maps times back onto the stream's, so
    /// a live run's files line up with the source's frames as a replay's do.
    offset: f64,
}

/// Writes `tracks.txt` (MOTChallenge: frame, id, box in source pixels, score),
/// `zone_counts.csv` (frame, time_s, zone, count, smoothed) and `zone_sessions.csv` (zone,
/// track_id, enter_s, exit_s, duration_s, truncated, tracks) for each camera: in one folder
/// ([`RecordFiles::flat`], one camera) or in one sub-folder per camera id
/// ([`RecordFiles::per_camera`]). Frame numbers are the source's, 1-based; times are the
/// stream's own seconds, for live cameras too (not the wall clock the analysis runs on), so
/// that `hallwatch eval-zones` lines a live run up with the ground truth as it does a replay.
pub struct RecordFiles {
    root: PathBuf,
    flat: bool,
    zones: Vec<ZoneConfig>,
    source_size: SourceSize,
    cameras: BTreeMap<String, CameraFiles>,
}

fn create(dir: &Path, name: &str) -> std::io::Result<BufWriter<File>> {
    let p = dir.join(name);
    File::create(&p)
        .map(BufWriter::new)
        .map_err(|e| std::io::Error::new(e.kind(), format!("creating {}: {e}", p.display())))
}

/// One visit as a CSV row, its times shifted by `-offset` (to the stream's own seconds).
fn csv_session(s: &Session, offset: f64) -> String {
    let exit = s.exit.unwrap_or(s.enter);
    let tracks: Vec<String> = s.tracks.iter().map(|t| t.0.to_string()).collect();
    format!(
        "{},{},{:.3},{:.3},{:.3},{},{}",
        s.zone,
        s.first_track(),
        s.enter - offset,
        exit - offset,
        exit - s.enter,
        s.truncated,
        tracks.join(";")
    )
}

impl RecordFiles {
    /// One camera's files directly in `dir`.
    pub fn flat(dir: &Path, zones: &[ZoneConfig], source_size: SourceSize) -> Self {
        Self {
            root: dir.to_path_buf(),
            flat: true,
            zones: zones.to_vec(),
            source_size,
            cameras: BTreeMap::new(),
        }
    }

    /// Each camera's files in `dir/<camera id>/`.
    pub fn per_camera(dir: &Path, zones: &[ZoneConfig], source_size: SourceSize) -> Self {
        Self {
            flat: false,
            ..Self::flat(dir, zones, source_size)
        }
    }

    fn camera(&mut self, camera: &CameraId) -> std::io::Result<&mut CameraFiles> {
        let key = camera.to_string();
        if !self.cameras.contains_key(&key) {
            let dir = if self.flat {
                self.root.clone()
            } else {
                self.root.join(camera.as_str())
            };
            std::fs::create_dir_all(&dir).map_err(|e| {
                std::io::Error::new(e.kind(), format!("creating {}: {e}", dir.display()))
            })?;
            let mut counts = create(&dir, "zone_counts.csv")?;
            writeln!(counts, "frame,time_s,zone,count,smoothed")?;
            let mut sessions = create(&dir, "zone_sessions.csv")?;
            writeln!(
                sessions,
                "zone,track_id,enter_s,exit_s,duration_s,truncated,tracks"
            )?;
            let files = CameraFiles {
                tracks: create(&dir, "tracks.txt")?,
                counts,
                sessions,
                ids: BTreeSet::new(),
                samples: BTreeMap::new(),
                visits: Vec::new(),
                frames: 0,
                last_t: 0.0,
                offset: 0.0,
            };
            self.cameras.insert(key.clone(), files);
        }
        self.cameras
            .get_mut(&key)
            .ok_or_else(|| std::io::Error::other("camera files vanished"))
    }

    /// Flushes every file and sums up each camera's recording.
    pub fn finish(mut self) -> std::io::Result<BTreeMap<String, RecordSummary>> {
        let mut out = BTreeMap::new();
        for (cam, mut f) in std::mem::take(&mut self.cameras) {
            f.tracks.flush()?;
            f.counts.flush()?;
            f.sessions.flush()?;
            let zones = f
                .samples
                .iter()
                .map(|(zone, (sum, max, n))| {
                    let visits: Vec<&Session> =
                        f.visits.iter().filter(|s| &s.zone == zone).collect();
                    let durations: Vec<f64> = visits.iter().map(|s| s.duration(f.last_t)).collect();
                    let role = self.zones.iter().find(|z| &z.id == zone).map(|z| z.role);
                    (
                        zone.clone(),
                        ZoneSummary {
                            role: role.map(|r| format!("{r:?}").to_lowercase()),
                            mean_count: sum / (*n).max(1) as f64,
                            max_count: *max,
                            sessions: visits.len(),
                            truncated: visits.iter().filter(|s| s.truncated).count(),
                            mean_duration_s: (!durations.is_empty())
                                .then(|| durations.iter().sum::<f64>() / durations.len() as f64),
                            max_duration_s: durations.iter().copied().reduce(f64::max),
                        },
                    )
                })
                .collect();
            out.insert(
                cam,
                RecordSummary {
                    frames: f.frames,
                    tracks: f.ids.len(),
                    sessions: f.visits.len(),
                    last_t: f.last_t,
                    zones,
                },
            );
        }
        Ok(out)
    }
}

fn write_closed(f: &mut CameraFiles, events: &[ZoneEvent]) -> std::io::Result<()> {
    for e in events {
        if let ZoneEvent::Closed(s) = e {
            writeln!(f.sessions, "{}", csv_session(s, f.offset))?;
            f.visits.push(s.clone());
        }
    }
    Ok(())
}

impl Sink for RecordFiles {
    fn frame(&mut self, step: &FrameStep<'_>) -> std::io::Result<()> {
        let frame = &step.detected.frame;
        let size = (self.source_size)(&frame.camera);
        let f = self.camera(&frame.camera)?;
        let t = frame.time.seconds();
        f.frames += 1;
        f.last_t = t;
        let media_t = frame.time.media.as_secs_f64();
        f.offset = t - media_t;
        write_closed(f, step.events)?;
        // Boxes in source pixels: the analysis frame may be scaled.
        let (sw, sh) = size.unwrap_or((frame.width, frame.height));
        let (sx, sy) = (
            sw as f32 / frame.width.max(1) as f32,
            sh as f32 / frame.height.max(1) as f32,
        );
        let mot_frame = frame.source_index + 1;
        for tr in step
            .tracks
            .iter()
            .filter(|t| t.status == TrackStatus::Tracked)
        {
            f.ids.insert(tr.id.0);
            let b = tr.bbox.scale_shift(sx, sy, 0.0, 0.0);
            writeln!(
                f.tracks,
                "{mot_frame},{},{:.2},{:.2},{:.2},{:.2},{:.4},-1,-1,-1",
                tr.id,
                b.x1,
                b.y1,
                b.width(),
                b.height(),
                tr.score
            )?;
        }
        for c in step.counts {
            let smoothed = step
                .snapshot
                .zones
                .iter()
                .find(|z| z.zone == c.zone)
                .map_or(c.people as f64, |z| z.people_smoothed);
            writeln!(
                f.counts,
                "{mot_frame},{media_t:.3},{},{},{smoothed:.3}",
                c.zone, c.people
            )?;
            let q = f.samples.entry(c.zone.clone()).or_insert((0.0, 0, 0));
            q.0 += c.people as f64;
            q.1 = q.1.max(c.people);
            q.2 += 1;
        }
        Ok(())
    }

    fn closed(
        &mut self,
        camera: &CameraId,
        events: &[ZoneEvent],
        _snapshot: &HallSnapshot,
    ) -> std::io::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let f = self.camera(camera)?;
        write_closed(f, events)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        for f in self.cameras.values_mut() {
            f.tracks.flush()?;
            f.counts.flush()?;
            f.sessions.flush()?;
        }
        Ok(())
    }
}
