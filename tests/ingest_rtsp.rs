//! Ingest from a live RTSP camera served on 127.0.0.1 by the test itself (gstreamer-rtsp-server
//! re-encoding the sample footage live): reconnection with backoff while another camera keeps
//! delivering, H.265 over UDP, and clear errors for wrong URLs and credentials.

use hallwatch_core::{CameraState, Frame};
use hallwatch_ingest::CameraHandle;
use hallwatch_tests::{RtspOptions, RtspServer, camera, vtest, wait_until};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

const SERVER: &str = env!("CARGO_BIN_EXE_test-rtsp-server");

/// Drains a camera on a thread, counting frames and keeping the last one.
struct Counter {
    n: Arc<AtomicU64>,
    last: Arc<Mutex<Option<Frame>>>,
}

impl Counter {
    fn attach(cam: &CameraHandle) -> Self {
        let rx = cam.frames().clone();
        let n = Arc::new(AtomicU64::new(0));
        let last = Arc::new(Mutex::new(None));
        let (n2, last2) = (Arc::clone(&n), Arc::clone(&last));
        std::thread::spawn(move || {
            while let Ok(f) = rx.recv() {
                n2.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut l) = last2.lock() {
                    *l = Some(f);
                }
            }
        });
        Self { n, last }
    }

    fn count(&self) -> u64 {
        self.n.load(Ordering::SeqCst)
    }
}

fn rtsp_source(url: &str, transport: &str, extra: &str) -> String {
    format!(
        "{{ kind = \"rtsp\", url = \"{url}\", transport = \"{transport}\", latency_ms = 100{extra} }}"
    )
}

const FAST_SUPERVISION: &str = "supervision = { backoff_initial_s = 0.5, backoff_max_s = 2.0, no_frame_timeout_s = 3.0, start_timeout_s = 20.0 }";

fn test_camera(id: &str) -> CameraHandle {
    CameraHandle::spawn(&camera(
        id,
        "{ kind = \"test\", width = 320, height = 240, fps = 15 }",
        "analysis = { fps = 5.0 }",
    ))
    .expect("spawn test camera")
}

#[test]
fn rtsp_camera_reconnects_while_another_keeps_delivering() {
    let opts = RtspOptions::new(vtest());
    let server = RtspServer::start(SERVER, &opts);
    let cam = CameraHandle::spawn(&camera(
        "door",
        &rtsp_source(&opts.url(), "tcp", ""),
        &format!("analysis = {{ fps = 5.0, width = 384 }}\n{FAST_SUPERVISION}"),
    ))
    .expect("spawn rtsp camera");
    let other = test_camera("other");
    let a = Counter::attach(&cam);
    let b = Counter::attach(&other);

    assert!(
        wait_until(Duration::from_secs(40), || a.count() >= 5),
        "no frames from the RTSP camera: {:?}",
        cam.health()
    );
    let h = cam.health();
    assert_eq!(h.state, CameraState::Running);
    assert!(h.codec.as_deref().unwrap_or("").contains("H.264"), "{h:?}");
    assert_eq!(h.source_size, Some((768, 576)));
    let frame = a.last.lock().expect("lock").clone().expect("a frame");
    assert_eq!((frame.width, frame.height), (384, 288));
    let wall = frame.time.wall.expect("live frames carry wall-clock time");
    let age = SystemTime::now().duration_since(wall).unwrap_or_default();
    assert!(age < Duration::from_secs(5), "capture time {age:?} ago");

    // The camera goes away: the supervisor notices and backs off; the other camera carries on.
    server.kill();
    assert!(
        wait_until(Duration::from_secs(15), || matches!(
            cam.health().state,
            CameraState::Reconnecting { .. }
        )),
        "camera did not go to reconnecting: {:?}",
        cam.health()
    );
    let b_before = b.count();
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        b.count() > b_before,
        "the other camera stopped while the first was down"
    );
    assert!(cam.health().is_down());

    // The camera comes back on the same address: frames flow again within backoff + 5 s.
    let a_before = a.count();
    let _server = RtspServer::start(SERVER, &opts);
    let back = Instant::now();
    assert!(
        wait_until(Duration::from_secs_f64(2.0 + 5.0), || a.count() > a_before),
        "no frames {:?} after the server came back: {:?}",
        back.elapsed(),
        cam.health()
    );
    let h = cam.health();
    assert!(h.reconnects >= 1, "{h:?}");
    assert!(!h.downtime.is_empty(), "the outage is recorded");
    let d = &h.downtime[0];
    let end = d.end.expect("outage closed once frames flow");
    assert!(end > d.start);
    assert!(!d.reason.is_empty());
    assert!(!h.is_down());
}

#[test]
fn rtsp_h265_over_udp() {
    let mut opts = RtspOptions::new(vtest());
    opts.codec = "h265";
    let _server = RtspServer::start(SERVER, &opts);
    let cam = CameraHandle::spawn(&camera(
        "h265",
        &rtsp_source(&opts.url(), "udp", ""),
        &format!("analysis = {{ fps = 2.0 }}\n{FAST_SUPERVISION}"),
    ))
    .expect("spawn");
    let a = Counter::attach(&cam);
    assert!(
        wait_until(Duration::from_secs(40), || a.count() >= 3),
        "no H.265 frames over UDP: {:?}",
        cam.health()
    );
    let h = cam.health();
    assert!(h.codec.as_deref().unwrap_or("").contains("H.265"), "{h:?}");
    assert_eq!(h.source_size, Some((768, 576)));
}

#[test]
fn bad_rtsp_inputs_fail_clearly_and_others_carry_on() {
    let mut opts = RtspOptions::new(vtest());
    opts.auth = Some(("operator", "s3cret-pw"));
    let _server = RtspServer::start(SERVER, &opts);
    let port = opts.port;
    let good_other = test_camera("other");
    let b = Counter::attach(&good_other);

    let nobody = hallwatch_tests::free_port();
    let wrong_port = CameraHandle::spawn(&camera(
        "wrong-port",
        &rtsp_source(&format!("rtsp://127.0.0.1:{nobody}/cam"), "tcp", ""),
        FAST_SUPERVISION,
    ))
    .expect("spawn");
    let wrong_path = CameraHandle::spawn(&camera(
        "wrong-path",
        &rtsp_source(
            &format!("rtsp://127.0.0.1:{port}/nope"),
            "tcp",
            ", username = \"operator\", password = \"s3cret-pw\"",
        ),
        FAST_SUPERVISION,
    ))
    .expect("spawn");
    let wrong_pw = CameraHandle::spawn(&camera(
        "wrong-pw",
        &rtsp_source(
            &format!("rtsp://operator:not-the-pw@127.0.0.1:{port}/cam"),
            "tcp",
            "",
        ),
        FAST_SUPERVISION,
    ))
    .expect("spawn");
    let right_pw = CameraHandle::spawn(&camera(
        "right-pw",
        &rtsp_source(
            &format!("rtsp://operator:s3cret-pw@127.0.0.1:{port}/cam"),
            "tcp",
            "",
        ),
        FAST_SUPERVISION,
    ))
    .expect("spawn");
    let ok = Counter::attach(&right_pw);

    let failed_with = |cam: &CameraHandle| -> String {
        assert!(
            wait_until(Duration::from_secs(30), || {
                let h = cam.health();
                h.last_error.is_some() && matches!(h.state, CameraState::Reconnecting { .. })
            }),
            "{} never failed: {:?}",
            cam.id(),
            cam.health()
        );
        cam.health().last_error.unwrap_or_default()
    };
    let e = failed_with(&wrong_port);
    assert!(
        e.contains("src") && e.to_lowercase().contains("open"),
        "wrong port: {e}"
    );
    let e = failed_with(&wrong_path);
    assert!(e.to_lowercase().contains("not found"), "wrong path: {e}");
    let e = failed_with(&wrong_pw);
    assert!(
        e.to_lowercase().contains("unauthorized"),
        "wrong password: {e}"
    );
    let all = format!("{:?}", wrong_pw.health());
    assert!(
        !all.contains("not-the-pw"),
        "password leaked into health: {all}"
    );

    assert!(
        wait_until(Duration::from_secs(40), || ok.count() >= 3),
        "right credentials gave no frames: {:?}",
        right_pw.health()
    );
    let all = format!("{:?}", right_pw.health());
    assert!(!all.contains("s3cret-pw"), "{all}");
    assert!(b.count() > 0, "the test camera kept delivering");
    assert_eq!(good_other.health().state, CameraState::Running);
}
