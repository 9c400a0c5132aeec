//! The notifier against real servers on 127.0.0.1, started by the tests: aiosmtpd (SMTP),
//! Debian's mosquitto (MQTT) and webhook receivers (axum) that check the HMAC signature.
//! Every network wait is bounded.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hallwatch_alerts::{AlertEngine, AlertEvent, EventKind, Notifier, NotifierHandle, Observation};
use hallwatch_config::Config;
use hallwatch_core::live::{HallState, ZoneState};
use hallwatch_store::{
    AlertQuery, AlertStateFilter, DeliveryEvent, DeliveryRecord, DeliveryState, Store,
};
use hmac::{Hmac, Mac};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Monday 2026-10-05 09:00 in Asia/Ho_Chi_Minh.
const T0: f64 = 1_791_133_200.0 + 9.0 * 3600.0;
const SECRET: &str = "bí-mật-của-hội-trường";
/// Bound on every test.
const TEST_LIMIT: Duration = Duration::from_secs(90);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process killed when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(cmd: &mut Command, port: u16) -> Server {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{cmd:?} not listening on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn config(channels: &str) -> Config {
    Config::from_toml_str(&format!(
        r#"
        [site]
        id = "an-phu"
        name = "Trung tâm PVHCC xã An Phú"

        [server]
        public_base_url = "https://hcc.example.gov.vn"

        [[cameras]]
        id = "sanh"
        name = "Sảnh chính"
        source = {{ kind = "test" }}

        [[zones]]
        id = "khu-cho"
        name = "Khu chờ A"
        camera = "sanh"
        role = "waiting"
        polygon = [[0, 0], [0.5, 0], [0.5, 0.5]]

        [alerts]
        retry = {{ initial_s = 0.1, factor = 2, max_s = 1, max_attempts = 4 }}

        [[alerts.rules]]
        id = "hang-cho"
        kind = "queue_length"
        zone = "khu-cho"
        trigger = 15
        clear_below = 10
        for_s = 300
        clear_for_s = 60
        renotify_s = 600

        {channels}
        "#
    ))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn hall(people: f64) -> HallState {
    HallState {
        site: "an-phu".into(),
        site_name: "Trung tâm PVHCC xã An Phú".into(),
        waiting_smoothed: people,
        zones: vec![ZoneState {
            id: "khu-cho".into(),
            name: "Khu chờ A".into(),
            camera: "sanh".into(),
            role: "waiting".into(),
            people_now: people as u32,
            people_smoothed: people,
        }],
        ..HallState::default()
    }
}

/// Feeds `people` every 10 s over `[from, to)`.
fn feed(engine: &mut AlertEngine, from: f64, to: f64, people: f64) -> Vec<AlertEvent> {
    let mut out = Vec::new();
    let mut t = from;
    while t < to {
        let h = hall(people);
        out.extend(engine.evaluate(
            &Observation {
                hall: &h,
                satisfaction: &[],
            },
            t,
        ));
        t += 10.0;
    }
    out
}

/// The engine's triggered event: 17 people from 09:00, raised at 09:05.
fn triggered(engine: &mut AlertEngine) -> Vec<AlertEvent> {
    let events = feed(engine, T0, T0 + 310.0, 17.0);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, EventKind::Triggered);
    events
}

/// The engine's resolved event: 5 people for a minute after 09:30.
fn resolved(engine: &mut AlertEngine) -> Vec<AlertEvent> {
    let events = feed(engine, T0 + 1800.0, T0 + 1870.0, 5.0);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, EventKind::Resolved);
    events
}

struct Setup {
    _dir: tempfile::TempDir,
    db: PathBuf,
    config: Config,
    engine: AlertEngine,
}

fn setup(channels: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hallwatch.db");
    let config = config(channels);
    let engine = AlertEngine::from_config(&config).unwrap();
    Setup {
        _dir: dir,
        db,
        config,
        engine,
    }
}

impl Setup {
    fn notifier(&self) -> NotifierHandle {
        Notifier::from_config(&self.config, Store::open(&self.db).unwrap())
            .unwrap()
            .spawn()
            .unwrap()
    }

    fn deliveries(&self, channel: &str) -> Vec<DeliveryRecord> {
        let store = Store::open(&self.db).unwrap();
        let mut out = Vec::new();
        for a in store.alerts(&AlertQuery::site("an-phu")).unwrap() {
            out.extend(
                store
                    .deliveries_of(a.id)
                    .unwrap()
                    .into_iter()
                    .filter(|d| d.channel == channel),
            );
        }
        out
    }

    /// Waits (bounded) until `channel` has `n` deliveries, none pending.
    async fn settled(&self, channel: &str, n: usize, within: Duration) -> Vec<DeliveryRecord> {
        let deadline = Instant::now() + within;
        loop {
            let d = self.deliveries(channel);
            if d.len() == n && d.iter().all(|d| d.state != DeliveryState::Pending) {
                return d;
            }
            assert!(
                Instant::now() < deadline,
                "channel {channel}: deliveries not settled within {within:?}: {d:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(TEST_LIMIT, f)
        .await
        .expect("test took too long")
}

// ---------------------------------------------------------------------------------------------
// SMTP

/// The mails in a maildir, parsed by Python's `email` package: subject, body, from, to, and
/// the envelope recipients aiosmtpd recorded.
fn read_maildir(dir: &Path) -> Vec<serde_json::Value> {
    let script = r#"
import email, email.policy, json, mailbox, sys
out = []
for key, msg in sorted(mailbox.Maildir(sys.argv[1], create=False).items()):
    m = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    out.append({"subject": str(m["subject"]), "from": str(m["from"]), "to": str(m["to"]),
                "rcpt": str(m["X-RcptTo"]), "content_type": m.get_content_type(),
                "body": m.get_content()})
print(json.dumps(out))
"#;
    let python =
        Path::new(&std::env::var("HALLWATCH_PYTOOLS").expect("HALLWATCH_PYTOOLS")).join("python");
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_server_receives_the_alert_mail() {
    bounded(async {
        let port = free_port();
        let mail_root = tempfile::tempdir().unwrap();
        // A folder that does not exist yet: aiosmtpd creates the maildir in it.
        let maildir = mail_root.path().join("maildir");
        let python = Path::new(&std::env::var("HALLWATCH_PYTOOLS").expect("HALLWATCH_PYTOOLS"))
            .join("python");
        let _smtp = start(
            Command::new(python)
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{port}"))
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(&maildir),
            port,
        );
        let mut s = setup(&format!(
            r#"
            [[alerts.channels]]
            id = "mail"
            kind = "email"
            host = "127.0.0.1"
            port = {port}
            security = "plain"
            from = "Hallwatch <hallwatch@an-phu.example.gov.vn>"
            to = ["truong-bo-phan@an-phu.example.gov.vn", "van-phong@an-phu.example.gov.vn"]
            "#
        ));
        let n = s.notifier();
        n.sender().send(triggered(&mut s.engine)).unwrap();
        let d = s.settled("mail", 1, Duration::from_secs(30)).await;
        assert_eq!(
            (d[0].state, d[0].attempts, d[0].event),
            (DeliveryState::Delivered, 1, DeliveryEvent::Triggered),
            "{d:?}"
        );
        let id = d[0].alert;

        // The server wrote the mail when it accepted it.
        let mails = read_maildir(&maildir);
        assert_eq!(mails.len(), 1, "{mails:?}");
        let m = &mails[0];
        assert_eq!(
            m["subject"],
            "[Cảnh báo] Hàng chờ dài – Khu chờ A – Trung tâm PVHCC xã An Phú"
        );
        assert_eq!(m["from"], "Hallwatch <hallwatch@an-phu.example.gov.vn>");
        assert_eq!(
            m["to"],
            "truong-bo-phan@an-phu.example.gov.vn, van-phong@an-phu.example.gov.vn"
        );
        assert_eq!(m["content_type"], "text/plain");
        assert_eq!(
            m["body"].as_str().unwrap().trim_end(),
            format!(
                "[Cảnh báo] Hàng chờ dài\n\
                 Nơi: Khu chờ A – Trung tâm PVHCC xã An Phú\n\
                 Từ lúc: 09:00 ngày 05/10/2026\n\
                 Số người đang chờ: 17 (ngưỡng 15, cao nhất 17)\n\
                 Xem chi tiết: https://hcc.example.gov.vn/#/alerts/{id}"
            )
        );

        // The end of the alert is mailed too.
        n.sender().send(resolved(&mut s.engine)).unwrap();
        s.settled("mail", 2, Duration::from_secs(30)).await;
        let mails = read_maildir(&maildir);
        let ended = mails
            .iter()
            .find(|m| m["subject"].as_str().unwrap().starts_with("[Đã kết thúc]"))
            .unwrap_or_else(|| panic!("{mails:?}"));
        assert!(
            ended["body"]
                .as_str()
                .unwrap()
                .contains("Kết thúc lúc 09:31 (kéo dài 31 phút)"),
            "{ended}"
        );
        n.shutdown(Duration::from_secs(5)).await.unwrap();
    })
    .await
}

/// A CA and a server certificate for 127.0.0.1 signed by it, made with openssl: (ca, cert,
/// key) paths.
fn hall_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Hall test CA",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_over_starttls_and_implicit_tls_checks_the_certificate() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let (ca, cert, key) = hall_ca(dir.path());
        let python = Path::new(&std::env::var("HALLWATCH_PYTOOLS").expect("HALLWATCH_PYTOOLS"))
            .join("python");
        // STARTTLS required by the server (aiosmtpd refuses mail before it), and SMTPS.
        let (p1, p2) = (free_port(), free_port());
        let (box1, box2) = (dir.path().join("starttls"), dir.path().join("smtps"));
        let _starttls = start(
            Command::new(&python)
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{p1}"))
                .arg("--tlscert")
                .arg(&cert)
                .arg("--tlskey")
                .arg(&key)
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(&box1),
            p1,
        );
        let _smtps = start(
            Command::new(&python)
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{p2}"))
                .arg("--smtpscert")
                .arg(&cert)
                .arg("--smtpskey")
                .arg(&key)
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(&box2),
            p2,
        );
        let channel = |id: &str, port: u16, security: &str, ca: Option<&Path>| {
            let ca = ca
                .map(|p| format!("ca_file = \"{}\"", p.display()))
                .unwrap_or_default();
            format!(
                r#"
                [[alerts.channels]]
                id = "{id}"
                kind = "email"
                host = "127.0.0.1"
                port = {port}
                security = "{security}"
                {ca}
                from = "hallwatch@an-phu.example.gov.vn"
                to = ["truong-bo-phan@an-phu.example.gov.vn"]
                language = "en"
                "#
            )
        };
        let mut s = setup(&format!(
            "{}{}{}",
            channel("starttls", p1, "starttls", Some(&ca)),
            channel("smtps", p2, "tls", Some(&ca)),
            channel("untrusted", p1, "starttls", None),
        ));
        let n = s.notifier();
        n.sender().send(triggered(&mut s.engine)).unwrap();
        for ch in ["starttls", "smtps"] {
            let d = s.settled(ch, 1, Duration::from_secs(30)).await;
            assert_eq!(
                (d[0].state, d[0].attempts),
                (DeliveryState::Delivered, 1),
                "{ch}: {d:?}"
            );
        }
        for mailbox in [&box1, &box2] {
            let mails = read_maildir(mailbox);
            assert_eq!(mails.len(), 1, "{mails:?}");
            assert_eq!(
                mails[0]["subject"],
                "[Warning] Long queue – Khu chờ A – Trung tâm PVHCC xã An Phú"
            );
        }
        // Without the hall's CA the server's certificate is refused: no mail sent in clear.
        let d = s.settled("untrusted", 1, Duration::from_secs(30)).await;
        assert_eq!(d[0].state, DeliveryState::Failed, "{d:?}");
        assert!(
            d[0].last_error.to_lowercase().contains("certificate"),
            "{}",
            d[0].last_error
        );
        assert_eq!(read_maildir(&box1).len(), 1);
        n.shutdown(Duration::from_secs(5)).await.unwrap();
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// MQTT

/// Subscribes to `topic` and collects publishes (topic, payload, retain) until `until` says
/// enough or `within` passes; `ready` is told when the broker has confirmed the subscription.
async fn subscribe(
    port: u16,
    topic: &str,
    within: Duration,
    mut ready: Option<tokio::sync::oneshot::Sender<()>>,
    until: impl Fn(&[(String, serde_json::Value, bool)]) -> bool,
) -> Vec<(String, serde_json::Value, bool)> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let id = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (client, mut events) = AsyncClient::new(
        MqttOptions::new(format!("test-sub-{id}"), "127.0.0.1", port),
        10,
    );
    client.subscribe(topic, QoS::AtLeastOnce).await.unwrap();
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while !until(&got) {
        match tokio::time::timeout_at(deadline, events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::SubAck(_)))) => {
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
            }
            Ok(Ok(Event::Incoming(Packet::Publish(p)))) => got.push((
                p.topic.clone(),
                serde_json::from_slice(&p.payload).unwrap(),
                p.retain,
            )),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("subscriber: {e}"),
            Err(_) => break,
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_subscriber_receives_the_alert_and_the_retained_state() {
    bounded(async {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
        )
        .unwrap();
        let _broker = start(
            Command::new("/usr/sbin/mosquitto").arg("-c").arg(&conf),
            port,
        );
        let mut s = setup(&format!(
            r#"
            [[alerts.channels]]
            id = "mqtt"
            kind = "mqtt"
            host = "127.0.0.1"
            port = {port}
            language = "en"
            "#
        ));
        // A subscriber listening before the alert.
        let (ready, subscribed) = tokio::sync::oneshot::channel();
        let live = tokio::spawn(subscribe(
            port,
            "hallwatch/an-phu/alerts/#",
            Duration::from_secs(30),
            Some(ready),
            |got| !got.is_empty(),
        ));
        subscribed.await.expect("subscription confirmed");
        let n = s.notifier();
        n.sender().send(triggered(&mut s.engine)).unwrap();
        let d = s.settled("mqtt", 1, Duration::from_secs(30)).await;
        assert_eq!((d[0].state, d[0].attempts), (DeliveryState::Delivered, 1));
        let id = d[0].alert;

        let got = live.await.unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        let (topic, p, retain) = &got[0];
        assert_eq!(topic, "hallwatch/an-phu/alerts/khu-cho");
        assert!(!retain);
        assert_eq!(p["event"], "triggered");
        assert_eq!(p["kind"], "queue_length");
        assert_eq!(p["alert_id"], id);
        assert_eq!(p["zone"], "khu-cho");
        assert_eq!(p["value"], 17.0);
        assert_eq!(p["title"], "Long queue");
        assert_eq!(p["language"], "en");
        assert_eq!(
            p["url"],
            format!("https://hcc.example.gov.vn/#/alerts/{id}")
        );

        // A subscriber arriving later gets the retained state: one active alert.
        let state = subscribe(
            port,
            "hallwatch/an-phu/state",
            Duration::from_secs(10),
            None,
            |g| !g.is_empty(),
        )
        .await;
        assert_eq!(state.len(), 1, "{state:?}");
        let (topic, st, retain) = &state[0];
        assert_eq!(topic, "hallwatch/an-phu/state");
        assert!(retain, "state must be retained");
        assert_eq!(st["active"], 1);
        assert_eq!(st["by_severity"]["warning"], 1);
        assert_eq!(st["alerts"][0]["id"], id);
        assert_eq!(st["alerts"][0]["zone"], "khu-cho");

        // Resolved: the retained state goes back to no active alert.
        n.sender().send(resolved(&mut s.engine)).unwrap();
        s.settled("mqtt", 2, Duration::from_secs(30)).await;
        let state = subscribe(
            port,
            "hallwatch/an-phu/state",
            Duration::from_secs(10),
            None,
            |g| !g.is_empty(),
        )
        .await;
        assert_eq!(state[0].1["active"], 0, "{state:?}");
        assert!(state[0].2);
        n.shutdown(Duration::from_secs(5)).await.unwrap();
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Webhooks

/// What a webhook receiver saw.
#[derive(Default)]
struct Receiver {
    /// Requests answered 2xx: (headers' event and delivery id, payload).
    accepted: Vec<(String, String, serde_json::Value)>,
    /// Requests in all.
    requests: u32,
    /// Answer 500 to this many requests first.
    fail_first: u32,
    /// Signatures that did not verify.
    bad_signatures: u32,
}

type Shared = Arc<Mutex<Receiver>>;

/// Checks `X-Hallwatch-Signature` with an HMAC-SHA256 computed here from the raw body.
fn verify(headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(sig) = headers
        .get("x-hallwatch-signature")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha256="))
    else {
        return false;
    };
    let Ok(bytes) = (0..sig.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(sig.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    mac.verify_slice(&bytes).is_ok()
}

async fn hook(State(st): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut r = st.lock().unwrap();
    r.requests += 1;
    if r.requests <= r.fail_first {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    if !verify(&headers, &body) {
        r.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    if h("content-type") != "application/json" {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE;
    }
    let payload = serde_json::from_slice(&body).unwrap();
    r.accepted
        .push((h("x-hallwatch-event"), h("x-hallwatch-delivery"), payload));
    StatusCode::NO_CONTENT
}

/// A webhook receiver on a free port; returns its state and port.
async fn receiver(fail_first: u32) -> (Shared, u16) {
    let st: Shared = Arc::new(Mutex::new(Receiver {
        fail_first,
        ..Receiver::default()
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new()
        .route("/hook", post(hook))
        .with_state(Arc::clone(&st));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (st, port)
}

fn webhook(id: &str, port: u16, extra: &str) -> String {
    format!(
        r#"
        [[alerts.channels]]
        id = "{id}"
        kind = "webhook"
        url = "http://127.0.0.1:{port}/hook"
        secret = "{SECRET}"
        timeout_s = 2
        {extra}
        "#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_receiver_checks_signature_and_payload() {
    bounded(async {
        let (st, port) = receiver(0).await;
        let mut s = setup(&webhook("hook", port, ""));
        let n = s.notifier();
        n.sender().send(triggered(&mut s.engine)).unwrap();
        let d = s.settled("hook", 1, Duration::from_secs(20)).await;
        assert_eq!((d[0].state, d[0].attempts), (DeliveryState::Delivered, 1));
        let (bad_signatures, accepted) = {
            let r = st.lock().unwrap();
            (r.bad_signatures, r.accepted.clone())
        };
        assert_eq!(bad_signatures, 0);
        assert_eq!(accepted.len(), 1);
        let (event, delivery, p) = &accepted[0];
        assert_eq!(event, "triggered");
        assert_eq!(delivery, &d[0].id.to_string());
        assert_eq!(p["event"], "triggered");
        assert_eq!(p["alert_id"], d[0].alert);
        assert_eq!(p["site"], "an-phu");
        assert_eq!(p["rule"], "hang-cho");
        assert_eq!(p["kind"], "queue_length");
        assert_eq!(p["severity"], "warning");
        assert_eq!(p["zone"], "khu-cho");
        assert_eq!(p["target_name"], "Khu chờ A");
        assert_eq!(p["since"], T0);
        assert_eq!(p["since_local"], "2026-10-05T09:00:00+07:00");
        assert_eq!(p["raised"], T0 + 300.0);
        assert_eq!(p["value"], 17.0);
        assert_eq!(p["level"], 15.0);
        assert_eq!(p["unit"], "people");
        assert_eq!(p["language"], "vi");
        assert_eq!(p["title"], "Hàng chờ dài");

        // A receiver with another secret refuses: the delivery is retried, then failed.
        let (bad, bad_port) = receiver(0).await;
        let mut s2 = setup(&webhook("hook", bad_port, "").replace(SECRET, "sai"));
        let n2 = s2.notifier();
        n2.sender().send(triggered(&mut s2.engine)).unwrap();
        let d = s2.settled("hook", 1, Duration::from_secs(20)).await;
        assert_eq!((d[0].state, d[0].attempts), (DeliveryState::Failed, 4));
        assert!(d[0].last_error.contains("401"), "{}", d[0].last_error);
        assert_eq!(bad.lock().unwrap().bad_signatures, 4);
        n.shutdown(Duration::from_secs(5)).await.unwrap();
        n2.shutdown(Duration::from_secs(5)).await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_failing_twice_gets_exactly_one_accepted_delivery() {
    bounded(async {
        let (st, port) = receiver(2).await;
        let mut s = setup(&webhook("hook", port, ""));
        let n = s.notifier();
        n.sender().send(triggered(&mut s.engine)).unwrap();
        let d = s.settled("hook", 1, Duration::from_secs(20)).await;
        assert_eq!(
            (d[0].state, d[0].attempts),
            (DeliveryState::Delivered, 3),
            "{d:?}"
        );
        assert!(d[0].last_error.contains("500"), "{}", d[0].last_error);
        assert!(d[0].delivered.is_some());
        // Nothing more arrives later (no duplicate after success).
        tokio::time::sleep(Duration::from_millis(800)).await;
        let (requests, accepted) = {
            let r = st.lock().unwrap();
            (r.requests, r.accepted.len())
        };
        assert_eq!(requests, 3);
        assert_eq!(accepted, 1);
        n.shutdown(Duration::from_secs(5)).await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_or_hanging_channel_never_blocks_the_others() {
    bounded(async {
        // A server that accepts connections and never answers, one that refuses them, and a
        // good one.
        let hang = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hang_port = hang.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = hang.accept().await {
                held.push(sock);
            }
        });
        let refused_port = free_port();
        let (good, good_port) = receiver(0).await;
        let mut s = setup(&format!(
            "{}{}{}",
            webhook("hang", hang_port, "").replace("timeout_s = 2", "timeout_s = 10"),
            webhook("refused", refused_port, ""),
            webhook("good", good_port, ""),
        ));
        let n = s.notifier();
        n.sender().send(triggered(&mut s.engine)).unwrap();
        s.settled("good", 1, Duration::from_secs(20)).await;
        assert_eq!(good.lock().unwrap().accepted.len(), 1);
        // Delivered while the hanging channel is still in its first attempt (10 s), which is
        // visible as pending.
        let h = s.deliveries("hang");
        assert_eq!(
            (h[0].state, h[0].attempts),
            (DeliveryState::Pending, 0),
            "{h:?}"
        );
        // The refused one gave up after its attempts, with the reason kept.
        let r = s.settled("refused", 1, Duration::from_secs(20)).await;
        assert_eq!((r[0].state, r[0].attempts), (DeliveryState::Failed, 4));
        assert!(
            r[0].last_error.to_lowercase().contains("connect"),
            "{}",
            r[0].last_error
        );
        // The hanging one times out and is retried with backoff.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let h = s.deliveries("hang");
            if h[0].attempts >= 1 {
                assert_eq!(h[0].state, DeliveryState::Pending);
                assert!(h[0].last_error.contains("timed out"), "{}", h[0].last_error);
                assert!(h[0].next_try.is_some());
                break;
            }
            assert!(Instant::now() < deadline, "no timeout recorded: {h:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Per channel counts for the dashboard.
        let counts = Store::open(&s.db)
            .unwrap()
            .delivery_counts("an-phu")
            .unwrap();
        let by: Vec<(&str, u64, u64, u64)> = counts
            .iter()
            .map(|c| (c.channel.as_str(), c.pending, c.delivered, c.failed))
            .collect();
        assert_eq!(
            by,
            [("good", 0, 1, 0), ("hang", 1, 0, 0), ("refused", 0, 0, 1)]
        );
        // The hanging attempt in hand is cut off by the grace period; it stays pending.
        n.shutdown(Duration::from_secs(1)).await.unwrap();
        assert_eq!(s.deliveries("hang")[0].state, DeliveryState::Pending);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undelivered_notifications_resume_after_a_restart_and_acknowledged_alerts_are_not_renotified()
 {
    bounded(async {
        // The receiver is down: the notification stays pending (long backoff).
        let port = free_port();
        let mut s = setup(&webhook("hook", port, ""));
        s.config.alerts.retry.initial_s = 60.0;
        s.config.alerts.retry.max_s = 60.0;
        let n = s.notifier();
        let events = triggered(&mut s.engine);
        n.sender().send(events).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while s.deliveries("hook").first().map(|d| d.attempts) != Some(1) {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let d = s.deliveries("hook");
        assert_eq!(d[0].state, DeliveryState::Pending);
        n.shutdown(Duration::from_secs(5)).await.unwrap();

        // The receiver comes up on that port; a new run delivers what was pending, closes the
        // alert the previous run left active and says so to the channel that knew of it.
        let st: Shared = Arc::new(Mutex::new(Receiver::default()));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let app = axum::Router::new()
            .route("/hook", post(hook))
            .with_state(Arc::clone(&st));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let mut s2 = Setup {
            _dir: tempfile::tempdir().unwrap(),
            db: s.db.clone(),
            config: s.config.clone(),
            engine: AlertEngine::from_config(&s.config).unwrap(),
        };
        let n2 = s2.notifier();
        let d = s2.settled("hook", 2, Duration::from_secs(20)).await;
        assert_eq!(
            d.iter()
                .map(|d| (d.event, d.state, d.attempts))
                .collect::<Vec<_>>(),
            [
                (DeliveryEvent::Triggered, DeliveryState::Delivered, 2),
                (DeliveryEvent::Resolved, DeliveryState::Delivered, 1),
            ]
        );
        let accepted = st.lock().unwrap().accepted.clone();
        assert_eq!(accepted.len(), 2);
        let ended = accepted
            .iter()
            .find(|(event, _, _)| event == "resolved")
            .unwrap_or_else(|| panic!("{accepted:?}"));
        assert_eq!(ended.2["reason"], "restart");
        assert_eq!(ended.2["alert_id"], d[0].alert);
        let store = Store::open(&s.db).unwrap();
        assert!(
            store
                .alerts(&AlertQuery {
                    state: Some(AlertStateFilter::Active),
                    ..AlertQuery::site("an-phu")
                })
                .unwrap()
                .is_empty()
        );

        // A new alert, acknowledged on the dashboard: its re-notification is not sent.
        let events = feed(&mut s2.engine, T0 + 7200.0, T0 + 7200.0 + 310.0, 20.0);
        assert_eq!(events.len(), 1);
        n2.sender().send(events).unwrap();
        n2.flush().await.unwrap();
        s2.settled("hook", 3, Duration::from_secs(20)).await;
        let id = store
            .alerts(&AlertQuery {
                state: Some(AlertStateFilter::Active),
                ..AlertQuery::site("an-phu")
            })
            .unwrap()[0]
            .id;
        let mut store = store;
        store
            .acknowledge_alert(id, "truong-bo-phan", "Đã mở thêm quầy 4", T0 + 7600.0)
            .unwrap();
        let renotify = feed(
            &mut s2.engine,
            T0 + 7510.0,
            T0 + 7200.0 + 310.0 + 600.0,
            20.0,
        );
        assert_eq!(
            renotify.iter().map(|e| e.event).collect::<Vec<_>>(),
            [EventKind::Renotify]
        );
        n2.sender().send(renotify).unwrap();
        n2.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            s2.deliveries("hook").len(),
            3,
            "no delivery for the re-notify"
        );
        assert_eq!(st.lock().unwrap().accepted.len(), 3);
        n2.shutdown(Duration::from_secs(5)).await.unwrap();
    })
    .await
}
