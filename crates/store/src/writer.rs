//! The batched writer: one thread owns the connection and commits what producers queue.

use crate::store::insert_one;
use crate::{Record, Retention, RetentionReport, Store, StoreError, unix_seconds};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, bounded};
use rusqlite::{Connection, TransactionBehavior};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the writer batches.
#[derive(Clone, Debug, PartialEq)]
pub struct WriterOptions {
    /// Records the queue holds before [`StoreWriter::send`] blocks (it never drops).
    pub queue_capacity: usize,
    /// At most this many records per transaction.
    pub batch_max: usize,
    /// When a batch holds only fire-and-forget records, wait up to this long after its first
    /// record for more before committing. A batch with someone waiting
    /// ([`StoreWriter::send_and_wait`], [`StoreWriter::flush`]) commits at once.
    pub linger: Duration,
    /// Apply this retention on the writer thread when it starts and then every
    /// `retention_every` (wall clock); `None` keeps everything.
    pub retention: Option<Retention>,
    /// How often scheduled retention runs (daily by default).
    pub retention_every: Duration,
    /// When the database refuses writes (full disk, I/O error, locked), records sent without
    /// waiting are kept in memory and retried, up to this many; beyond it the oldest are
    /// dropped, counted in [`WriterStats::dropped`] and reported like lost records.
    pub backlog_max: usize,
    /// First pause between retries of a refused backlog; it doubles up to `retry_max`.
    pub retry_initial: Duration,
    /// Longest pause between retries.
    pub retry_max: Duration,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            queue_capacity: 4096,
            batch_max: 512,
            linger: Duration::from_millis(100),
            retention: None,
            retention_every: Duration::from_secs(24 * 3600),
            // About 50 MB of typical records: hours of a busy hall's visits and samples.
            backlog_max: 200_000,
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(30),
        }
    }
}

/// Counters of the writer thread since it started, and whether the database takes writes now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriterStats {
    /// Transactions committed.
    pub batches: u64,
    /// Records committed.
    pub records: u64,
    /// Records that could not be stored: rejected by SQLite, or refused while their sender
    /// waited (the sender was told).
    pub failed: u64,
    /// Failed commits (each attempt of a batch or of the backlog counts once).
    pub commit_failures: u64,
    /// Records held in memory after the database refused them, waiting for a retry.
    pub pending: u64,
    /// Records given up because the backlog was full.
    pub dropped: u64,
    /// When writes began failing (Unix seconds); `None` while the database takes writes.
    pub failing_since: Option<f64>,
    /// What the database said last time a commit failed (kept after recovery).
    pub last_error: Option<String>,
}

impl WriterStats {
    /// True while commits succeed and nothing waits for a retry.
    pub fn healthy(&self) -> bool {
        self.failing_since.is_none() && self.pending == 0
    }
}

/// Attempts at committing one batch before its records are given up.
const COMMIT_ATTEMPTS: u32 = 4;

type Reply<T> = Sender<Result<T, StoreError>>;

enum Msg {
    Record(Record, Option<Reply<()>>),
    Flush(Reply<()>),
    Retention {
        now: f64,
        policy: Retention,
        reply: Reply<RetentionReport>,
    },
    Close,
}

#[derive(Default)]
struct Shared {
    /// Set by close under the write lock; senders check it under the read lock, so nothing
    /// can be queued after the close message.
    closed: RwLock<bool>,
    batches: AtomicU64,
    records: AtomicU64,
    failed: AtomicU64,
    commit_failures: AtomicU64,
    pending: AtomicU64,
    dropped: AtomicU64,
    /// (since, last error) while failing; the last error after recovery.
    failure: Mutex<(Option<f64>, Option<String>)>,
}

/// The producers' side of the writer: cheap to clone, one per producer thread if wished.
///
/// Records are committed in the order they were sent (per producer). A record is durable —
/// it survives kill -9 and power loss — once the transaction holding it has committed: when
/// [`StoreWriter::send_and_wait`] returns Ok, or when a later [`StoreWriter::flush`] returns
/// Ok.
#[derive(Clone)]
pub struct StoreWriter {
    tx: Sender<Msg>,
    shared: Arc<Shared>,
}

/// Owns the writer thread: [`WriterHandle::close`] commits everything queued and returns the
/// [`Store`]. Dropping the handle closes too (errors are logged).
pub struct WriterHandle {
    tx: Sender<Msg>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<(Store, Result<(), StoreError>)>>,
}

impl Store {
    /// Moves the store onto a dedicated writer thread that writes records for `site`.
    /// Returns the producers' side and the handle that closes it.
    pub fn writer(
        self,
        site: impl Into<String>,
        options: WriterOptions,
    ) -> Result<(StoreWriter, WriterHandle), StoreError> {
        let (tx, rx) = bounded(options.queue_capacity.max(1));
        let shared = Arc::new(Shared::default());
        let thread_shared = Arc::clone(&shared);
        let site = site.into();
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(self, site, rx, options, thread_shared))
            .map_err(StoreError::Spawn)?;
        Ok((
            StoreWriter {
                tx: tx.clone(),
                shared: Arc::clone(&shared),
            },
            WriterHandle {
                tx,
                shared,
                thread: Some(thread),
            },
        ))
    }
}

impl StoreWriter {
    /// Queues `record` and returns without waiting for the commit. Blocks while the queue is
    /// full. A record the database refuses (full disk) is kept in memory and retried, up to
    /// [`WriterOptions::backlog_max`]; one rejected for itself, or dropped from a full backlog,
    /// is logged and reported by the next [`StoreWriter::flush`] or [`WriterHandle::close`].
    pub fn send(&self, record: Record) -> Result<(), StoreError> {
        record.validate()?;
        self.enqueue(Msg::Record(record, None))
    }

    /// Queues `record` and returns once the transaction holding it has committed (durable).
    pub fn send_and_wait(&self, record: Record) -> Result<(), StoreError> {
        record.validate()?;
        let (reply, rx) = bounded(1);
        self.enqueue(Msg::Record(record, Some(reply)))?;
        rx.recv().map_err(|_| StoreError::WriterClosed)?
    }

    /// Returns once everything sent before it (by any producer) has been committed, or with
    /// [`StoreError::RecordsLost`] if fire-and-forget records failed since the last flush, or
    /// [`StoreError::WritesPending`] while the database refuses writes and records wait in
    /// memory for a retry.
    pub fn flush(&self) -> Result<(), StoreError> {
        let (reply, rx) = bounded(1);
        self.enqueue(Msg::Flush(reply))?;
        rx.recv().map_err(|_| StoreError::WriterClosed)?
    }

    /// Runs [`Store::apply_retention`] on the writer thread, after everything sent before it
    /// has been committed.
    pub fn apply_retention(
        &self,
        now: f64,
        policy: Retention,
    ) -> Result<RetentionReport, StoreError> {
        let (reply, rx) = bounded(1);
        self.enqueue(Msg::Retention { now, policy, reply })?;
        rx.recv().map_err(|_| StoreError::WriterClosed)?
    }

    /// Counters of the writer thread.
    pub fn stats(&self) -> WriterStats {
        stats(&self.shared)
    }

    fn enqueue(&self, msg: Msg) -> Result<(), StoreError> {
        let closed = self
            .shared
            .closed
            .read()
            .map_err(|_| StoreError::WriterClosed)?;
        if *closed {
            return Err(StoreError::WriterClosed);
        }
        // Blocks while the queue is full; the writer thread keeps draining it.
        self.tx.send(msg).map_err(|_| StoreError::WriterClosed)
    }
}

impl WriterHandle {
    /// Another producer handle.
    pub fn writer(&self) -> StoreWriter {
        StoreWriter {
            tx: self.tx.clone(),
            shared: Arc::clone(&self.shared),
        }
    }

    /// Counters of the writer thread.
    pub fn stats(&self) -> WriterStats {
        stats(&self.shared)
    }

    /// Stops accepting records (later sends fail with [`StoreError::WriterClosed`]), commits
    /// everything already queued, ends the thread and returns the store. Fails with
    /// [`StoreError::RecordsLost`] if fire-and-forget records could not be stored since the
    /// last flush.
    pub fn close(mut self) -> Result<Store, StoreError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<Store, StoreError> {
        {
            // Waits for senders blocked on a full queue: the thread keeps draining meanwhile.
            let mut closed = self
                .shared
                .closed
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if !*closed {
                *closed = true;
                // Fails only if the thread is gone; join below reports why.
                let _ = self.tx.send(Msg::Close);
            }
        }
        let thread = self.thread.take().ok_or(StoreError::WriterClosed)?;
        let (store, result) = thread.join().map_err(|_| StoreError::WriterPanicked)?;
        result.map(|()| store)
    }
}

impl Drop for WriterHandle {
    fn drop(&mut self) {
        if self.thread.is_some()
            && let Err(e) = self.shutdown()
        {
            tracing::error!(error = %e, "event store writer closed with an error");
        }
    }
}

fn stats(shared: &Shared) -> WriterStats {
    let (failing_since, last_error) = shared
        .failure
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    WriterStats {
        batches: shared.batches.load(Ordering::Relaxed),
        records: shared.records.load(Ordering::Relaxed),
        failed: shared.failed.load(Ordering::Relaxed),
        commit_failures: shared.commit_failures.load(Ordering::Relaxed),
        pending: shared.pending.load(Ordering::Relaxed),
        dropped: shared.dropped.load(Ordering::Relaxed),
        failing_since,
        last_error,
    }
}

/// What ends a batch early and runs after its commit.
enum Control {
    Retention {
        now: f64,
        policy: Retention,
        reply: Reply<RetentionReport>,
    },
    Close,
}

#[derive(Default)]
struct Batch {
    records: Vec<(Record, Option<Reply<()>>)>,
    flushes: Vec<Reply<()>>,
    waiters: bool,
    control: Option<Control>,
}

impl Batch {
    fn take(&mut self, msg: Msg) {
        match msg {
            Msg::Record(r, reply) => {
                self.waiters |= reply.is_some();
                self.records.push((r, reply));
            }
            Msg::Flush(reply) => {
                self.waiters = true;
                self.flushes.push(reply);
            }
            Msg::Retention { now, policy, reply } => {
                self.control = Some(Control::Retention { now, policy, reply })
            }
            Msg::Close => self.control = Some(Control::Close),
        }
    }

    fn open(&self, max: usize) -> bool {
        self.control.is_none() && self.records.len() < max
    }
}

/// Fire-and-forget records that failed since the last flush.
#[derive(Default)]
struct Lost {
    count: u64,
    last_error: String,
}

impl Lost {
    fn add(&mut self, detail: &str) {
        self.count += 1;
        detail.clone_into(&mut self.last_error);
    }

    /// The error to report for what was lost since the last call, if anything.
    fn take(&mut self, store: &Store) -> Result<(), StoreError> {
        if self.count == 0 {
            return Ok(());
        }
        let lost = std::mem::take(self);
        Err(lost.error(store))
    }

    fn error(&self, store: &Store) -> StoreError {
        StoreError::RecordsLost {
            path: store.path.clone(),
            count: self.count,
            last_error: self.last_error.clone(),
        }
    }
}

/// Records sent without waiting that the database refused, in order, with the retry schedule.
struct Backlog {
    records: VecDeque<Record>,
    max: usize,
    chunk: usize,
    retry_at: Option<Instant>,
    delay: Duration,
    initial: Duration,
    max_delay: Duration,
}

impl Backlog {
    fn new(options: &WriterOptions) -> Self {
        let initial = options.retry_initial.max(Duration::from_millis(1));
        Self {
            records: VecDeque::new(),
            max: options.backlog_max.max(1),
            chunk: options.batch_max.max(1),
            retry_at: None,
            delay: initial,
            initial,
            max_delay: options.retry_max.max(initial),
        }
    }

    fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    fn due(&self) -> bool {
        !self.is_empty() && self.retry_at.is_none_or(|at| Instant::now() >= at)
    }

    /// Keeps `record` for the next retry; drops the oldest when full (counted, and reported
    /// like a lost record).
    fn push(&mut self, record: Record, lost: &mut Lost, shared: &Shared) {
        if self.records.len() >= self.max && self.records.pop_front().is_some() {
            let dropped = shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped == 1 || dropped.is_multiple_of(10_000) {
                tracing::error!(
                    dropped,
                    backlog = self.max,
                    "event store backlog full: the oldest records waiting for the database are dropped"
                );
            }
            lost.add("dropped: the backlog of records waiting for the database was full");
        }
        self.records.push_back(record);
        if self.retry_at.is_none() {
            self.retry_at = Some(Instant::now() + self.delay);
        }
        shared
            .pending
            .store(self.records.len() as u64, Ordering::Relaxed);
    }

    /// Tries to write everything kept, oldest first, one transaction per chunk. On a refusal
    /// the rest stays and the next retry waits twice as long (up to the maximum).
    fn drain(&mut self, store: &mut Store, site: &str, lost: &mut Lost, shared: &Shared) {
        let before = self.records.len();
        while !self.records.is_empty() {
            let n = self.records.len().min(self.chunk);
            match write_batch(&mut store.conn, site, self.records.iter().take(n)) {
                Ok(results) => {
                    let mut stored = 0;
                    for (_, result) in self.records.drain(..n).zip(results) {
                        match result {
                            Ok(()) => stored += 1,
                            Err(detail) => {
                                shared.failed.fetch_add(1, Ordering::Relaxed);
                                tracing::error!(path = %store.path.display(), error = %detail, "event store record rejected");
                                lost.add(&detail);
                            }
                        }
                    }
                    shared.batches.fetch_add(1, Ordering::Relaxed);
                    shared.records.fetch_add(stored, Ordering::Relaxed);
                    shared
                        .pending
                        .store(self.records.len() as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    let detail =
                        crate::error::sql_err(&store.path, "committing a batch", e).to_string();
                    shared.commit_failures.fetch_add(1, Ordering::Relaxed);
                    set_failing(shared, &detail);
                    tracing::warn!(
                        path = %store.path.display(), pending = self.records.len(),
                        retry_in_s = self.delay.as_secs_f64(), error = %detail,
                        "event store still refuses writes; records kept in memory"
                    );
                    self.retry_at = Some(Instant::now() + self.delay);
                    self.delay = (self.delay * 2).min(self.max_delay);
                    return;
                }
            }
        }
        self.retry_at = None;
        self.delay = self.initial;
        if recovered(shared) {
            tracing::warn!(
                path = %store.path.display(), records = before,
                "event store takes writes again; the records kept in memory are stored"
            );
        }
    }

    /// At close: whatever could not be written is lost.
    fn give_up(&mut self, lost: &mut Lost, shared: &Shared) {
        if self.records.is_empty() {
            return;
        }
        let n = self.records.len();
        let last = shared
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .clone()
            .unwrap_or_default();
        tracing::error!(records = n, error = %last, "event store closed with records the database refused");
        for _ in 0..n {
            lost.add(&last);
        }
        self.records.clear();
        shared.pending.store(0, Ordering::Relaxed);
    }
}

/// Marks the database as refusing writes (since now, unless already).
fn set_failing(shared: &Shared, detail: &str) {
    let mut f = shared.failure.lock().unwrap_or_else(|p| p.into_inner());
    if f.0.is_none() {
        f.0 = Some(unix_seconds(std::time::SystemTime::now()));
        tracing::error!(error = %detail, "event store refuses writes; records are kept in memory and retried");
    }
    f.1 = Some(detail.to_string());
}

/// Clears the failing mark; true if it was set.
fn recovered(shared: &Shared) -> bool {
    let mut f = shared.failure.lock().unwrap_or_else(|p| p.into_inner());
    f.0.take().is_some()
}

fn run(
    mut store: Store,
    site: String,
    rx: Receiver<Msg>,
    options: WriterOptions,
    shared: Arc<Shared>,
) -> (Store, Result<(), StoreError>) {
    let max = options.batch_max.max(1);
    let mut lost = Lost::default();
    let mut backlog = Backlog::new(&options);
    // Scheduled retention: at start, then every `retention_every`.
    let mut next_retention = options.retention.map(|_| Instant::now());
    loop {
        if let (Some(policy), Some(at)) = (options.retention, next_retention)
            && Instant::now() >= at
        {
            if let Err(e) =
                store.apply_retention(unix_seconds(std::time::SystemTime::now()), policy)
            {
                tracing::error!(error = %e, "scheduled retention failed; retrying next period");
            }
            next_retention = Some(Instant::now() + options.retention_every);
        }
        if backlog.due() {
            backlog.drain(&mut store, &site, &mut lost, &shared);
        }
        let wake = match (next_retention, backlog.retry_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let received = match wake {
            Some(at) => match rx.recv_deadline(at) {
                Ok(m) => Ok(m),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => Err(()),
            },
            None => rx.recv().map_err(|_| ()),
        };
        let Ok(first) = received else {
            // Every producer and the handle are gone.
            if !backlog.is_empty() {
                backlog.drain(&mut store, &site, &mut lost, &shared);
                backlog.give_up(&mut lost, &shared);
            }
            let result = lost.take(&store);
            return (store, result);
        };
        let mut batch = Batch::default();
        batch.take(first);
        while batch.open(max) {
            match rx.try_recv() {
                Ok(m) => batch.take(m),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        if !options.linger.is_zero() && !batch.records.is_empty() {
            let deadline = Instant::now() + options.linger;
            while batch.open(max) && !batch.waiters {
                match rx.recv_deadline(deadline) {
                    Ok(m) => batch.take(m),
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                }
            }
        }
        let closing = matches!(batch.control, Some(Control::Close));
        commit(
            &mut store,
            &site,
            &mut batch,
            &mut lost,
            &shared,
            &mut backlog,
            closing,
        );
        match batch.control.take() {
            None => {}
            Some(Control::Retention { now, policy, reply }) => {
                let _ = reply.send(store.apply_retention(now, policy));
            }
            Some(Control::Close) => {
                // Nothing can be queued after Close (see `Shared::closed`).
                backlog.give_up(&mut lost, &shared);
                let result = lost.take(&store);
                return (store, result);
            }
        }
    }
}

fn commit(
    store: &mut Store,
    site: &str,
    batch: &mut Batch,
    lost: &mut Lost,
    shared: &Shared,
    backlog: &mut Backlog,
    closing: bool,
) {
    let records = std::mem::take(&mut batch.records);
    // Someone waits, or the writer closes: try the backlog now rather than at its retry time.
    if !backlog.is_empty() && (backlog.due() || batch.waiters || closing) {
        backlog.drain(store, site, lost, shared);
    }
    if !backlog.is_empty() {
        // The database still refuses writes: keep the order, and leave it alone until the
        // retry is due (the queue keeps draining, so producers never block on a full disk).
        let detail = format!(
            "the database refuses writes ({} records waiting): {}",
            backlog.records.len(),
            stats(shared).last_error.unwrap_or_default()
        );
        keep_refused(records, 1, &detail, store, backlog, lost, shared);
    } else if !records.is_empty() {
        let mut attempt = 1;
        let outcome = loop {
            match write_batch(&mut store.conn, site, records.iter().map(|(r, _)| r)) {
                Ok(results) => break Ok(results),
                Err(e) if attempt < COMMIT_ATTEMPTS => {
                    shared.commit_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        path = %store.path.display(), attempt, error = %e,
                        "event store batch not committed; retrying"
                    );
                    std::thread::sleep(Duration::from_millis(50 << (2 * attempt)));
                    attempt += 1;
                }
                Err(e) => break Err(e),
            }
        };
        match outcome {
            Ok(results) => {
                if recovered(shared) {
                    tracing::warn!(path = %store.path.display(), "event store takes writes again");
                }
                let mut stored = 0;
                for ((_, reply), result) in records.into_iter().zip(results) {
                    match result {
                        Ok(()) => {
                            stored += 1;
                            if let Some(reply) = reply {
                                let _ = reply.send(Ok(()));
                            }
                        }
                        Err(detail) => {
                            shared.failed.fetch_add(1, Ordering::Relaxed);
                            tracing::error!(path = %store.path.display(), error = %detail, "event store record rejected");
                            match reply {
                                Some(reply) => {
                                    let _ = reply.send(Err(StoreError::Rejected {
                                        path: store.path.clone(),
                                        detail,
                                    }));
                                }
                                None => lost.add(&detail),
                            }
                        }
                    }
                }
                shared.batches.fetch_add(1, Ordering::Relaxed);
                shared.records.fetch_add(stored, Ordering::Relaxed);
            }
            Err(e) => {
                let n = records.len();
                let detail =
                    crate::error::sql_err(&store.path, "committing a batch", e).to_string();
                shared.commit_failures.fetch_add(1, Ordering::Relaxed);
                set_failing(shared, &detail);
                keep_refused(records, n, &detail, store, backlog, lost, shared);
            }
        }
    }
    let flushes = std::mem::take(&mut batch.flushes);
    if !flushes.is_empty() {
        let pending = backlog.records.len() as u64;
        let lost = if pending == 0 {
            std::mem::take(lost)
        } else {
            Lost::default()
        };
        for reply in flushes {
            let r = if pending > 0 {
                Err(StoreError::WritesPending {
                    path: store.path.clone(),
                    count: pending,
                    last_error: stats(shared).last_error.unwrap_or_default(),
                })
            } else if lost.count == 0 {
                Ok(())
            } else {
                Err(lost.error(store))
            };
            let _ = reply.send(r);
        }
    }
}

/// Records the database refused: a sender who waits is told at once (a batch of `batch`
/// records not committed); the others are kept in the backlog, in order, and retried — never
/// dropped while the backlog has room.
fn keep_refused(
    records: Vec<(Record, Option<Reply<()>>)>,
    batch: usize,
    detail: &str,
    store: &Store,
    backlog: &mut Backlog,
    lost: &mut Lost,
    shared: &Shared,
) {
    for (record, reply) in records {
        match reply {
            Some(reply) => {
                shared.failed.fetch_add(1, Ordering::Relaxed);
                let _ = reply.send(Err(StoreError::Commit {
                    path: store.path.clone(),
                    records: batch,
                    detail: detail.to_string(),
                }));
            }
            None => backlog.push(record, lost, shared),
        }
    }
}

/// One transaction; each record in its own savepoint so that one rejected record does not
/// take the others down. Err only when the transaction itself fails (nothing committed).
fn write_batch<'a>(
    conn: &mut Connection,
    site: &str,
    records: impl Iterator<Item = &'a Record>,
) -> rusqlite::Result<Vec<Result<(), String>>> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut results = Vec::new();
    for record in records {
        let sp = tx.savepoint()?;
        match insert_one(&sp, site, record) {
            Ok(()) => {
                sp.commit()?;
                results.push(Ok(()));
            }
            Err(e) if is_record_error(&e) => {
                // Rolls back to the savepoint and releases it.
                sp.finish()?;
                results.push(Err(e.to_string()));
            }
            // I/O, full disk, busy...: the whole batch is retried.
            Err(e) => return Err(e),
        }
    }
    tx.commit()?;
    Ok(results)
}

/// Errors that concern the record itself (a constraint it breaks), not the database: retrying
/// would fail again, so only that record is rejected.
fn is_record_error(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(
            rusqlite::ErrorCode::ConstraintViolation
                | rusqlite::ErrorCode::TypeMismatch
                | rusqlite::ErrorCode::TooBig
                | rusqlite::ErrorCode::ParameterOutOfRange
        )
    ) || matches!(e, rusqlite::Error::ToSqlConversionFailure(_))
}
