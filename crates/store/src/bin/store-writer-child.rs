//! Test helper for the SIGKILL durability test (`tests/durability.rs`), not an operator tool.
//!
//! `store-writer-child DB SITE`: opens the store at DB and writes sessions 1, 2, 3, ... with
//! `send_and_wait`, printing each session id to stdout (flushed) once its commit returned.
//! A second thread keeps the writer busy with fire-and-forget zone samples so that the kill
//! lands in the middle of multi-record transactions. Runs until killed or an error.

use hallwatch_config::ZoneRole;
use hallwatch_core::{CameraId, TrackId};
use hallwatch_store::{Record, Store, WriterOptions, ZoneSample};
use hallwatch_zones::Session;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("store-writer-child: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(site)) = (args.next(), args.next()) else {
        return Err("usage: store-writer-child DB SITE".into());
    };
    let store = Store::open(&path)?;
    let options = WriterOptions {
        linger: Duration::from_millis(2),
        ..WriterOptions::default()
    };
    let (writer, _handle) = store.writer(site, options)?;
    let camera = CameraId::new("cam1");

    let background = writer.clone();
    let bg_camera = camera.clone();
    std::thread::spawn(move || {
        for i in 0u64.. {
            let sample = ZoneSample {
                camera: bg_camera.clone(),
                zone: "waiting".into(),
                t: 1_700_000_000.0 + i as f64 * 0.5,
                people_now: i % 7,
                people_smoothed: (i % 7) as f64,
            };
            if background.send(Record::ZoneSample(sample)).is_err() {
                break;
            }
            if i % 20 == 19 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    });

    let mut out = std::io::stdout().lock();
    for id in 1u64.. {
        let enter = 1_700_000_000.0 + id as f64;
        let session = Session {
            id,
            camera: camera.clone(),
            zone: "counter-1".into(),
            role: ZoneRole::Counter,
            counter: 1,
            tracks: vec![TrackId(id), TrackId(id + 1_000_000)],
            enter,
            exit: Some(enter + 42.5),
            truncated: false,
        };
        writer.send_and_wait(Record::Session(session))?;
        writeln!(out, "{id}")?;
        out.flush()?;
    }
    Ok(())
}
