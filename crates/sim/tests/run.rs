//! A simulated run written to disk, read back and measured with the real pipeline.

use hallwatch_sim::eval::{EvalOptions, evaluate};
use hallwatch_sim::output::write_run;
use hallwatch_sim::{SimConfig, Simulator};

#[test]
#[ignore]
fn experiment() {
    let days: u32 = std::env::var("DAYS").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let fps: f64 = std::env::var("FPS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let seed: u64 = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut cfg = SimConfig::default();
    cfg.camera.fps = fps;
    let dir = std::path::PathBuf::from(std::env::var("OUT").unwrap_or("/tmp/simrun".into()));
    let t = std::time::Instant::now();
    let mut sim = Simulator::new(&cfg, seed, days).expect("sim");
    let m = write_run(&mut sim, &dir).expect("write");
    println!("written in {:.1} s: {:?}", t.elapsed().as_secs_f64(), m.counts);
    let t = std::time::Instant::now();
    let opts = EvalOptions { sessions_csv: Some(dir.join("sessions.csv")), predictions_csv: Some(dir.join("predictions.csv")), ..EvalOptions::default() };
    let r = evaluate(&dir, &opts).expect("eval");
    println!("evaluated in {:.1} s\n{r}", t.elapsed().as_secs_f64());
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
}
