//! Decode + convert cost per analysed frame at a 2 fps analysis rate, for a 720p H.264 25 fps
//! stream: full decoding against keyframe-only decoding, measured in the same run.
//!
//! The stream is made from the sample footage with x264enc (1280x720, 25 fps, a keyframe every
//! 12 frames, i.e. about 2 a second so keyframe-only decoding can still feed 2 fps) and cached
//! beside the footage. Run with `cargo bench -p hallwatch-ingest --bench decode_cost`
//! (footage from $HALLWATCH_VTEST or the setup cache). Prints CPU time (user + system, all
//! threads) and wall time per analysed frame for both modes and their ratio.

use gstreamer as gst;
use gstreamer::prelude::*;
use hallwatch_config::Config;
use hallwatch_core::CameraState;
use hallwatch_ingest::CameraHandle;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn footage() -> PathBuf {
    if let Some(p) = std::env::var_os("HALLWATCH_VTEST") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    std::env::var_os("HALLWATCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(home).join(".cache/hallwatch"))
        .join("footage/vtest.avi")
}

/// CPU seconds (user + system) this process has used so far, all threads.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the ')'.
    (ticks(11) + ticks(12)) / 100.0
}

fn make_720p(src: &Path, out: &Path) {
    if out.is_file() {
        return;
    }
    eprintln!(
        "making {} (720p25 H.264) from {} ...",
        out.display(),
        src.display()
    );
    let tmp = out.with_extension("part.mp4");
    let launch = format!(
        "filesrc location=\"{}\" ! decodebin ! videoconvert ! videoscale ! videorate \
         ! video/x-raw,format=I420,width=1280,height=720,framerate=25/1 \
         ! x264enc speed-preset=veryfast key-int-max=12 bitrate=3000 ! h264parse ! mp4mux \
         ! filesink location=\"{}\"",
        src.display(),
        tmp.display()
    );
    let pipeline = gst::parse::launch(&launch).expect("encoder pipeline");
    pipeline.set_state(gst::State::Playing).expect("play");
    let bus = pipeline.bus().expect("bus");
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::NONE,
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("message");
    if let gst::MessageView::Error(e) = msg.view() {
        panic!("encoding failed: {}", e.error());
    }
    let _ = pipeline.set_state(gst::State::Null);
    std::fs::rename(&tmp, out).expect("rename");
}

struct Run {
    frames: u64,
    cpu: f64,
    wall: f64,
}

fn run(path: &Path, keyframes_only: bool) -> Run {
    let text = format!(
        "[site]\nid = \"bench\"\n[[cameras]]\nid = \"c\"\nsource = {{ kind = \"file\", path = \"{}\" }}\n\
         analysis = {{ fps = 2.0, keyframes_only = {keyframes_only}, queue = 8 }}\n",
        path.display()
    );
    let cfg = Config::from_toml_str(&text).expect("config");
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let cam = CameraHandle::spawn(&cfg.cameras[0]).expect("spawn");
    let mut frames = 0u64;
    loop {
        match cam.frames().recv_timeout(Duration::from_millis(50)) {
            Ok(_) => frames += 1,
            Err(_) => {
                let h = cam.health();
                if matches!(h.state, CameraState::Finished | CameraState::Failed)
                    && cam.frames().is_empty()
                {
                    assert_eq!(h.state, CameraState::Finished, "{h:?}");
                    break;
                }
            }
        }
    }
    Run {
        frames,
        cpu: cpu_seconds() - cpu0,
        wall: t0.elapsed().as_secs_f64(),
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would too: only run when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    gst::init().expect("gstreamer");
    let src = footage();
    assert!(
        src.is_file(),
        "footage {} missing: run scripts/dev setup",
        src.display()
    );
    let stream = src.with_file_name("vtest-720p25-h264.mp4");
    make_720p(&src, &stream);

    // Warm-up (page cache, plugin loading), then alternate the modes to even out noise.
    let _ = run(&stream, false);
    let mut full = Vec::new();
    let mut key = Vec::new();
    for _ in 0..3 {
        full.push(run(&stream, false));
        key.push(run(&stream, true));
    }
    let per = |runs: &[Run]| {
        let frames: u64 = runs.iter().map(|r| r.frames).sum();
        let cpu: f64 = runs.iter().map(|r| r.cpu).sum();
        let wall: f64 = runs.iter().map(|r| r.wall).sum();
        (
            frames / runs.len() as u64,
            cpu / frames as f64 * 1e3,
            wall / frames as f64 * 1e3,
        )
    };
    let (ff, fcpu, fwall) = per(&full);
    let (kf, kcpu, kwall) = per(&key);
    println!("720p25 H.264 (GOP 12), analysis at 2 fps, RGB 1280x720, 3 runs each");
    println!(
        "full decode:     {ff:>4} frames/run  {fcpu:7.2} ms CPU/frame  {fwall:7.2} ms wall/frame"
    );
    println!(
        "keyframes only:  {kf:>4} frames/run  {kcpu:7.2} ms CPU/frame  {kwall:7.2} ms wall/frame"
    );
    println!(
        "ratio full/keyframe: CPU {:.2}x, wall {:.2}x",
        fcpu / kcpu,
        fwall / kwall
    );
}
