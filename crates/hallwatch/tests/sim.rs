//! `hallwatch simulate` and `hallwatch eval-sim` as a developer runs them.

use std::path::Path;
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_hallwatch");

fn simulate(dir: &Path, days: u32, seed: u64, fps: &str) {
    let out = Command::new(EXE)
        .args([
            "simulate",
            "--days",
            &days.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .args(["--fps", fps, "--out"])
        .arg(dir)
        .output()
        .expect("run simulate");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("citizens") && text.contains("frames"),
        "{text}"
    );
}

/// Same seed, same files, byte for byte; another seed, another hall.
#[test]
fn simulate_is_reproducible() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    // One day at 1 fps: enough to compare every file, quick to write.
    simulate(&a, 1, 3, "1");
    simulate(&b, 1, 3, "1");
    simulate(&c, 1, 4, "1");
    for name in [
        "manifest.json",
        "hall.toml",
        "truth.csv",
        "tickets.csv",
        "ratings.csv",
        "queue_truth.csv",
        "det/sim-sanh.txt",
        "det/sim-sanh.frames.csv",
    ] {
        let read = |d: &Path| std::fs::read(d.join(name)).expect(name);
        assert!(read(&a) == read(&b), "{name} differs for the same seed");
        // The hall and the frame times (a day's opening hours) do not depend on the seed.
        if !name.ends_with("hall.toml") && !name.ends_with("frames.csv") {
            assert!(read(&a) != read(&c), "{name} is the same for two seeds");
        }
    }
    // The written hall is a valid hallwatch config.
    let check = Command::new(EXE)
        .arg("check-config")
        .arg(a.join("hall.toml"))
        .output()
        .expect("run check-config");
    assert!(check.status.success(), "{check:?}");
}

/// A simulated week (Monday to Friday, the defaults: about 110 dossiers a day, Monday busiest)
/// through the real tracker, zones, hall metrics and wait predictor, at the hall's 2 fps.
///
/// Thresholds, against what was measured on seeds 1 to 4 (crates/sim/src/lib.rs has the table):
/// - Queue length shown (Số người đang chờ) MAE < 0.25 people. Measured 0.07-0.08: counting
///   people sitting still is what the pipeline does best; a quarter person keeps the displayed
///   whole number right nearly always, with room for noise settings to change.
/// - Wait per person MAE < 3.5 min and MAPE < 20 %. Measured 1.8-2.9 min and 12-13 % (mean true
///   wait of the citizens 11-15 min): visits split by a long occlusion of a seated person are
///   the main error; 20 % is where a hall would stop trusting the figure.
/// - Mean wait per hour MAE < 4 min. Measured 1.8-2.7 min. (Its MAPE, 36-43 %, is reported,
///   not held: quiet hours with a few short waits make the percentage swing.)
/// - Services counted (Lượt phục vụ) within 15 % of the truth (measured 8-10 % over: a visit
///   split by an occlusion counts twice), arrivals within 5 % (measured 1-2 % under).
/// - The wait predictor beats plain Little's law on the morning ramp (tickets 7:30-9:30).
///   Measured on seed 1: 2.92 against 3.17 min; on seeds 1-4 it won 3 weeks of 4 (by 0.2-0.5
///   min) and lost one by 0.3 min. The margin is small because the default hall is balanced
///   (three counters serve about what arrives in the peak, so the day's mean arrival rate is
///   close to the service rate and Little's law happens to be right); on an overloaded Monday
///   alone the predictor's error is half of Little's (2.8 against 5.4 min).
#[test]
fn eval_sim_measures_a_week() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("week");
    simulate(&dir, 5, 1, "2");
    let out = Command::new(EXE)
        .args(["eval-sim", "--json"])
        .arg(&dir)
        .output()
        .expect("run eval-sim");
    assert!(out.status.success(), "{out:?}");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let f = |path: &str| {
        r.pointer(path)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or_else(|| panic!("{path} missing in {r:#}"))
    };
    println!("{r:#}");
    assert_eq!(f("/days"), 5.0);
    assert!(f("/queue/samples") > 10_000.0);
    assert!(
        f("/queue/mae_smoothed") < 0.25,
        "queue MAE {}",
        f("/queue/mae_smoothed")
    );
    assert!(
        f("/person_waits/mae_s") < 210.0,
        "wait MAE {} s",
        f("/person_waits/mae_s")
    );
    assert!(f("/person_waits/mape_pct") < 20.0);
    assert!(f("/person_waits/matched") > 0.5 * f("/person_waits/truth"));
    assert!(f("/hourly_waits/mae_s") < 240.0);
    let near = |seen: f64, truth: f64, tol: f64| (seen - truth).abs() <= tol * truth;
    assert!(near(
        f("/counts/services_seen"),
        f("/counts/served_truth"),
        0.15
    ));
    assert!(near(
        f("/counts/arrivals_seen"),
        f("/counts/arrivals_truth"),
        0.05
    ));
    let (p, l) = (
        f("/prediction_ramp/predictor_mae_s"),
        f("/prediction_ramp/little_mae_s"),
    );
    assert!(f("/prediction_ramp/n") > 150.0);
    assert!(p < l, "ramp: predictor MAE {p} s, Little {l} s");

    // The table for people.
    let table = Command::new(EXE)
        .arg("eval-sim")
        .arg(&dir)
        .output()
        .expect("run eval-sim");
    let text = String::from_utf8_lossy(&table.stdout);
    for line in [
        "Số người đang chờ",
        "Thời gian chờ",
        "morning ramp 07:30-09:30",
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
}

/// A missing folder is an error that names it.
#[test]
fn eval_sim_names_a_missing_run() {
    let out = Command::new(EXE)
        .args(["eval-sim", "/nonexistent/sim-run"])
        .output()
        .expect("run eval-sim");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/sim-run/manifest.json"), "{err}");
}
