//! A web server with a synthetic, changing hall, for working on the dashboards without
//! cameras: `cargo run -p hallwatch-web --example dashboard_demo -- [BIND] [DATA_DIR]`.
//! Log in as `demo` / `demo-password` (a viewer, created in DATA_DIR's store when missing).

use hallwatch_config::Config;
use hallwatch_core::{
    CameraHealth, CameraId, CameraState, CounterActivity, CounterState, HallState, TodayFigures,
    WaitPrediction, ZoneState,
};
use hallwatch_store::{NewUser, Role, Store};
use hallwatch_web::{AppOptions, AppState, Server};
use std::sync::Arc;
use std::time::Duration;

const CONFIG: &str = r#"
[site]
id = "demo"
name = "Trung tâm Phục vụ hành chính công (demo)"

[[cameras]]
id = "sanh"
name = "Sảnh chờ"
source = { kind = "test" }

[[zones]]
id = "khu-cho"
name = "Khu chờ"
camera = "sanh"
role = "waiting"
polygon = [[0.0, 0.3], [0.5, 0.3], [0.5, 0.6], [0.0, 0.6]]

[[zones]]
id = "quay-1"
name = "Quầy 1"
camera = "sanh"
role = "counter"
counter = 1
polygon = [[0.6, 0.3], [0.8, 0.3], [0.8, 0.6], [0.6, 0.6]]

[[zones]]
id = "quay-2"
name = "Quầy 2"
camera = "sanh"
role = "counter"
counter = 2
polygon = [[0.8, 0.3], [1.0, 0.3], [1.0, 0.6], [0.8, 0.6]]
"#;

fn main() {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    let data = args.next().unwrap_or_else(|| "data-demo".into());
    std::fs::create_dir_all(&data).expect("data folder");
    let db = std::path::Path::new(&data).join("hallwatch.db");
    let mut store = Store::open(&db).expect("store");
    let now = || hallwatch_store::unix_seconds(std::time::SystemTime::now());
    let _ = store.add_user(
        &NewUser {
            username: "demo",
            role: Role::Viewer,
            password: "demo-password",
        },
        now(),
    );
    drop(store);
    let config = Arc::new(Config::from_toml_str(CONFIG).expect("config"));
    let state = AppState::new(AppOptions::new(config).store_path(&db)).expect("state");
    let server = Server::start(state.clone(), &bind).expect("server");
    println!(
        "dashboard demo: http://{}/ (demo / demo-password)",
        server.local_addr()
    );
    for seq in 1u64.. {
        let waiting = (5.0 + 4.0 * (seq as f64 / 7.0).sin()).round() as u32;
        let mut cam = CameraHealth::new(CameraId::new("sanh"));
        cam.state = CameraState::Running;
        cam.input_fps = 25.0;
        cam.analysed_fps = 5.0;
        let mut by_hour = vec![0u64; 24];
        for (h, v) in by_hour.iter_mut().enumerate().take(17).skip(7) {
            *v = (h as u64 * 3 + seq / 10) % 23;
        }
        state.publish(HallState {
            site: "demo".into(),
            site_name: "Trung tâm Phục vụ hành chính công (demo)".into(),
            t: now(),
            seq,
            waiting_now: waiting,
            waiting_smoothed: f64::from(waiting),
            zones: vec![ZoneState {
                id: "khu-cho".into(),
                name: "Khu chờ".into(),
                camera: "sanh".into(),
                role: "waiting".into(),
                people_now: waiting,
                people_smoothed: f64::from(waiting),
            }],
            counters: (1..=2)
                .map(|c| CounterState {
                    zone: format!("quay-{c}"),
                    name: format!("Quầy {c}"),
                    counter: c,
                    activity: if (seq / 5 + u64::from(c)) % 3 == 0 {
                        CounterActivity::Idle
                    } else {
                        CounterActivity::Serving
                    },
                    serving_for_s: Some((seq % 300) as f64),
                    served_today: seq / 20 + u64::from(c),
                    mean_service_s: Some(310.0),
                })
                .collect(),
            prediction: Some(WaitPrediction {
                expected_s: f64::from(waiting) * 150.0,
                low_s: f64::from(waiting) * 100.0,
                high_s: f64::from(waiting) * 220.0,
                method: "service-rate".into(),
            }),
            cameras: vec![cam],
            today: TodayFigures {
                date: "2026-10-05".into(),
                arrivals: seq / 3,
                served: seq / 10,
                abandoned: seq / 50,
                mean_wait_s: Some(640.0),
                within_target: Some(0.82),
                arrivals_by_hour: by_hour,
            },
            storage: Default::default(),
            pipeline: Default::default(),
            uplink: Default::default(),
        });
        std::thread::sleep(Duration::from_secs(1));
    }
}
