//! Province roll-up load: many halls shipping into one centre, and the province league table
//! over a month of 100 halls. Not a test: `cargo bench -p hallwatch-tests --bench rollup_load`
//! (`scripts/dev bench -p hallwatch-tests --bench rollup_load`). Real nats-server and
//! PostgreSQL on 127.0.0.1, as in tests/rollup.rs.
//!
//! 1. Ingest: HALLS (default 100) hall stores, each with FACTS facts (default 1000: visits
//!    opening and closing, zone samples, tickets, ratings, dossiers) in its outbox; the centre's
//!    consumer runs, then every hall's publisher starts at once; the time until PostgreSQL holds
//!    every fact gives the ingest rate, end to end (publish, JetStream, consume, commit).
//! 2. The month: 100 halls x 30 days x 550 visits (1.65 M) plus ratings and dossiers are
//!    loaded straight into PostgreSQL (generate_series), then the league table of the month is
//!    read 3 times; the median time and this process's peak RSS are printed.

use hallwatch_central::{CentralConfig, StatusHandle};
use hallwatch_config::{UplinkConfig, ZoneRole};
use hallwatch_core::{CameraId, TrackId};
use hallwatch_store::{Record, Store, ZoneSample};
use hallwatch_tests::servers::{Nats, Postgres};
use hallwatch_uplink::{Publisher, PublisherOptions};
use hallwatch_zones::Session;
use std::time::{Duration, Instant};
use tokio::sync::watch;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn fill(store: &mut Store, site: &str, facts: usize) -> u64 {
    let t0 = 1_796_086_800.0; // 2026-12-01 08:00 local
    let mut batch = Vec::new();
    let mut i = 0u64;
    // Three facts a round (a visit opening, the same visit closed, a zone sample).
    while (i as usize) * 3 < facts {
        let t = t0 + i as f64 * 20.0;
        let visit = |exit| Session {
            id: i,
            camera: CameraId::new("cam1"),
            zone: if i.is_multiple_of(2) {
                "wait".into()
            } else {
                "q1".into()
            },
            role: if i.is_multiple_of(2) {
                ZoneRole::Waiting
            } else {
                ZoneRole::Counter
            },
            counter: if i.is_multiple_of(2) { 0 } else { 1 },
            tracks: vec![TrackId(i)],
            enter: t,
            exit,
            truncated: false,
        };
        batch.push(Record::Session(visit(None)));
        batch.push(Record::Session(visit(Some(t + 300.0))));
        batch.push(Record::ZoneSample(ZoneSample {
            camera: CameraId::new("cam1"),
            zone: "wait".into(),
            t,
            people_now: i % 9,
            people_smoothed: (i % 9) as f64,
        }));
        if batch.len() >= 300 {
            store.insert(site, &batch).expect("insert");
            batch.clear();
        }
        i += 1;
    }
    if !batch.is_empty() {
        store.insert(site, &batch).expect("insert");
    }
    store.outbox_status(site).map(|s| s.last_seq).unwrap_or(0)
}

const MONTH_SQL: &str = r#"
INSERT INTO halls (site, name, timezone, registered)
SELECT 'hall-' || h, 'Xã ' || h, 'Asia/Ho_Chi_Minh', true FROM generate_series(1, 100) h
ON CONFLICT (site) DO NOTHING;
CREATE TABLE IF NOT EXISTS visits_y2026m11 PARTITION OF visits FOR VALUES FROM (1793491200) TO (1796083200);
CREATE TABLE IF NOT EXISTS visits_y2026m12 PARTITION OF visits FOR VALUES FROM (1796083200) TO (1798761600);
INSERT INTO visits (site, key, epoch, seq, camera, session_id, zone, role, counter, enter, exit, duration, truncated)
SELECT 'hall-' || h, 'cam1/' || v || '/' || d, 1, d * 1000 + v, 'cam1', v,
       CASE WHEN v % 2 = 0 THEN 'wait' ELSE 'q1' END,
       CASE WHEN v % 2 = 0 THEN 'waiting' ELSE 'counter' END,
       CASE WHEN v % 2 = 0 THEN 0 ELSE 1 + v % 4 END,
       e, e + 60 + (v * 37 % 1500), 60 + (v * 37 % 1500), 0
FROM generate_series(1, 100) h, generate_series(0, 29) d, generate_series(1, 550) v,
     LATERAL (SELECT 1796086800.0 + d * 86400 + v * 55 AS e) x;
INSERT INTO ratings (site, key, epoch, seq, t, counter, level, device, client_id, has_comment)
SELECT 'hall-' || h, 'k/' || d || '-' || r, 1, r, 1796086800.0 + d * 86400 + r * 150, 1,
       (ARRAY['very_satisfied', 'satisfied', 'dissatisfied'])[1 + r % 3], 'k', d || '-' || r, false
FROM generate_series(1, 100) h, generate_series(0, 29) d, generate_series(1, 120) r;
INSERT INTO dossiers (site, key, epoch, seq, code, service, channel, received, due, resolved)
SELECT 'hall-' || h, 'h:' || d || '-' || r, 1, r, 'h:' || d || '-' || r, 'x', 'in_person',
       1796086800.0 + d * 86400, 1796086800.0 + d * 86400 + 5 * 86400,
       1796086800.0 + d * 86400 + (r % 7) * 86400
FROM generate_series(1, 100) h, generate_series(0, 25) d, generate_series(1, 80) r;
"#;

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would run this too: only with it.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let halls = env("HALLS", 100);
    let facts = env("FACTS", 1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start();
    let nats = Nats::start(dir.path());

    let prep = Instant::now();
    let mut total = 0u64;
    let mut paths = Vec::new();
    for h in 0..halls {
        let site = format!("bench-{h}");
        let path = dir.path().join(format!("{site}.sqlite"));
        let mut store = Store::open(&path).expect("store");
        store.set_outbox(true).expect("outbox");
        total += fill(&mut store, &site, facts);
        paths.push((site, path));
    }
    eprintln!(
        "prepared {halls} hall stores with {total} facts in {:.1} s",
        prep.elapsed().as_secs_f64()
    );

    let central_cfg = CentralConfig::from_toml_str(&format!(
        "[nats]\nservers = [\"{}\"]\n[postgres]\nurl = \"{}\"\n",
        nats.url(),
        pg.url()
    ))
    .expect("central config");
    runtime.block_on(async {
        let status = StatusHandle::default();
        let (stop_tx, stop_rx) = watch::channel(false);
        let consumer = tokio::spawn(hallwatch_central::run(central_cfg, status.clone(), stop_rx));
        // The consumer makes the stream; publishers start once it is there.
        while !status.get().consuming {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let start = Instant::now();
        let (pub_stop, pub_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        for (site, path) in &paths {
            let p = Publisher::build(PublisherOptions {
                site: site.clone(),
                store: path.clone(),
                config: UplinkConfig {
                    servers: vec![nats.url()],
                    ..UplinkConfig::default()
                },
                timezone: "Asia/Ho_Chi_Minh".into(),
            })
            .expect("publisher");
            tasks.push(tokio::spawn(p.run(pub_rx.clone())));
        }
        // Digests of the last days come on top (empty days): wait for the facts counted.
        while status.get().applied_total < total {
            assert!(
                start.elapsed() < Duration::from_secs(1800),
                "ingest stalled at {:?}",
                status.get()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let secs = start.elapsed().as_secs_f64();
        let st = status.get();
        println!(
            "rollup ingest: {halls} halls, {total} facts in {secs:.1} s = {:.0} facts/s end to end \
             ({} batches, {} duplicates skipped)",
            total as f64 / secs,
            st.batches_total,
            st.duplicates_total
        );
        let _ = pub_stop.send(true);
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(20), t).await;
        }
        let _ = stop_tx.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(20), consumer).await;

        let central = hallwatch_central::Central::connect(&pg.url(), &[])
            .await
            .expect("central");
        let load = Instant::now();
        central
            .client()
            .batch_execute(MONTH_SQL)
            .await
            .expect("load a month");
        // As autovacuum would after a load: statistics and the visibility map (index-only scans).
        central
            .client()
            .batch_execute("VACUUM ANALYZE")
            .await
            .expect("vacuum");
        eprintln!(
            "loaded 100 halls x 30 days (1.65 M visits, 360 k ratings, 208 k dossiers) in {:.1} s",
            load.elapsed().as_secs_f64()
        );
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let league = central.league(2026, 12, 900.0).await.expect("league");
            times.push(t.elapsed().as_secs_f64());
            rows = league.len();
            assert!(league.iter().filter(|r| r.waits > 0).count() >= 100);
        }
        times.sort_by(f64::total_cmp);
        let mut review_times = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let review = central
                .province_review(2026, 12, 900.0)
                .await
                .expect("review");
            review_times.push(t.elapsed().as_secs_f64());
            assert!(review.total.waits >= 825_000, "{}", review.total.waits);
        }
        review_times.sort_by(f64::total_cmp);
        println!(
            "province monthly review (league + the province pooled), December 2026: median {:.2} s of 3 \
             (min {:.2}, max {:.2})",
            review_times[1], review_times[0], review_times[2]
        );
        println!(
            "province league table, December 2026, {rows} halls (1.65 M visits): median {:.2} s of 3 \
             (min {:.2}, max {:.2}); this process's peak RSS {:.0} MiB",
            times[1],
            times[0],
            times[2],
            peak_rss_mib()
        );
    });
}
