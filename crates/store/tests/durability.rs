//! An acknowledged write survives SIGKILL: a child process writes sessions with
//! `send_and_wait` and prints each acknowledged id; it is killed mid-stream; every printed id
//! must be in the reopened database, which must pass `PRAGMA integrity_check`.

use hallwatch_store::{SessionQuery, Store};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

const SITE: &str = "an-phu";
const ACKS_BEFORE_KILL: usize = 300;

#[test]
fn every_acknowledged_session_survives_sigkill() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("events.sqlite");
    for round in 0..2 {
        let before = if round == 0 {
            0
        } else {
            Store::open(&path).unwrap().counts(SITE).unwrap().sessions
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_store-writer-child"))
            .arg(&path)
            .arg(SITE)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn store-writer-child");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut acked = BTreeSet::new();
        let mut line = String::new();
        while acked.len() < ACKS_BEFORE_KILL {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let mut err = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("child ended after {} acks: {err}", acked.len());
            }
            acked.insert(line.trim().parse::<u64>().unwrap());
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        // Ids the child printed after we stopped reading were acknowledged too.
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        for l in rest.lines().filter(|l| !l.is_empty()) {
            acked.insert(l.parse::<u64>().unwrap());
        }

        let raw = rusqlite::Connection::open(&path).unwrap();
        let check: String = raw
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        drop(raw);

        let store = Store::open(&path).unwrap();
        store.integrity_check().unwrap();
        // Each round restarts ids at 1 with the same enter times: re-inserts are idempotent.
        let stored: BTreeSet<u64> = store
            .sessions(&SessionQuery::new(SITE, f64::MIN, f64::MAX).camera("cam1"))
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        let missing: Vec<_> = acked.difference(&stored).collect();
        assert!(
            missing.is_empty(),
            "round {round}: acknowledged but lost: {missing:?}"
        );
        assert!(stored.len() as u64 >= before);
        // The fire-and-forget thread kept the writer busy with multi-record batches.
        assert!(store.counts(SITE).unwrap().zone_samples > 0);
        assert!(acked.len() >= ACKS_BEFORE_KILL);
    }
}
