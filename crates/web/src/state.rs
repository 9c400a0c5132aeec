//! [`AppState`]: what every request handler shares — the config, the store, the live hall
//! state, sessions, metrics and the snapshot source.

use crate::auth::{LoginLimiter, Sessions};
use crate::error::ApiError;
use crate::metrics::Metrics;
use axum::body::Bytes;
use hallwatch_config::Config;
use hallwatch_core::{CameraHealth, CameraId, CounterState, HallState, ZoneState};
use hallwatch_store::{Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, watch};

/// The time source: Unix seconds. Tests pass a clock they advance by hand.
pub type Clock = Arc<dyn Fn() -> f64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| hallwatch_store::unix_seconds(std::time::SystemTime::now()))
}

/// One camera image for the camera page: already pixelated (every person) by whoever provides
/// it, with zones and boxes drawn.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The encoded image.
    pub bytes: Bytes,
    /// Its MIME type, `image/png` or `image/jpeg`.
    pub content_type: &'static str,
    /// Unix seconds of the frame.
    pub t: f64,
}

/// Where camera snapshots come from (the binary's pipeline). Called on a request thread:
/// return quickly, e.g. a copy of the latest image already encoded.
pub trait SnapshotSource: Send + Sync + 'static {
    /// The latest pixelated image of `camera`, if there is one.
    fn snapshot(&self, camera: &str) -> Option<Snapshot>;
}

/// How to build an [`AppState`].
#[derive(Clone)]
pub struct AppOptions {
    /// The hall's config (site, cameras, zones, `[server]`).
    pub config: Arc<Config>,
    /// The event store file (`<storage.data_dir>/hallwatch.db`); opened for reads, users and
    /// tokens. Created when missing.
    pub store_path: PathBuf,
    /// The dashboards folder served at `/`.
    pub dashboards_dir: PathBuf,
    /// Time source.
    pub clock: Clock,
    /// Camera images for logged-in users; none: the snapshot endpoint answers 404.
    pub snapshots: Option<Arc<dyn SnapshotSource>>,
}

impl AppOptions {
    /// Options for `config`: the store at `<storage.data_dir>/hallwatch.db`, the dashboards
    /// folder of `[server].dashboards_dir` (see [`resolve_dashboards_dir`]), the system clock,
    /// no snapshots.
    pub fn new(config: Arc<Config>) -> Self {
        let store_path = PathBuf::from(&config.storage.data_dir).join("hallwatch.db");
        let dashboards_dir = resolve_dashboards_dir(&config.server.dashboards_dir);
        Self {
            config,
            store_path,
            dashboards_dir,
            clock: system_clock(),
            snapshots: None,
        }
    }

    /// Another store file.
    pub fn store_path(mut self, p: impl Into<PathBuf>) -> Self {
        self.store_path = p.into();
        self
    }

    /// Another dashboards folder.
    pub fn dashboards_dir(mut self, p: impl Into<PathBuf>) -> Self {
        self.dashboards_dir = p.into();
        self
    }

    /// Another clock.
    pub fn clock(mut self, c: Clock) -> Self {
        self.clock = c;
        self
    }

    /// A snapshot source.
    pub fn snapshots(mut self, s: Arc<dyn SnapshotSource>) -> Self {
        self.snapshots = Some(s);
        self
    }
}

/// `dir` when it exists; for a relative `dir` that does not, the same folder of the source
/// tree this crate was built from (so `hallwatch` run from elsewhere on a development machine
/// still finds `dashboards/`); otherwise `dir` as given.
pub fn resolve_dashboards_dir(dir: &str) -> PathBuf {
    let p = PathBuf::from(dir);
    if p.is_dir() || p.is_absolute() {
        return p;
    }
    let in_tree = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(dir);
    if in_tree.is_dir() { in_tree } else { p }
}

/// Errors building the state.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The store could not be opened.
    #[error("web server: {0}")]
    Store(#[from] StoreError),
    /// A socket could not be bound or served.
    #[error("web server on {addr}: {source}")]
    Io {
        /// The address.
        addr: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// A published hall state with its JSON, serialised once for every SSE client.
#[derive(Debug)]
pub(crate) struct Published {
    pub state: Arc<HallState>,
    pub json: Arc<str>,
}

impl Published {
    fn new(state: HallState) -> Self {
        let json = serde_json::to_string(&state).unwrap_or_else(|_| "{}".into());
        Self {
            state: Arc::new(state),
            json: json.into(),
        }
    }
}

/// Read connections to the store, reused across requests (each `Store` is one SQLite
/// connection; WAL lets them read while the pipeline writes).
pub(crate) struct Db {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
    /// At most [`MAX_CONNECTIONS`] connections in use at once; requests beyond wait their turn
    /// (a flood of API calls cannot open connections, file handles and page caches without
    /// bound).
    permits: Arc<tokio::sync::Semaphore>,
}

const MAX_IDLE_CONNECTIONS: usize = 4;
/// Report files rendered at once (a PDF of a month takes seconds of CPU and tens of MB).
pub(crate) const REPORT_RENDERS: usize = 2;
/// Camera pictures pixelated and encoded at once.
pub(crate) const PICTURE_ENCODES: usize = 4;
/// How long a request waits for a render or picture slot before a 503.
pub(crate) const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// Connections in use at once (each on a blocking thread).
pub(crate) const MAX_CONNECTIONS: usize = 8;

impl Db {
    /// Runs `f` with a connection on the blocking pool.
    pub async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::unavailable("the server is stopping"))?;
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let taken = db.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let mut store = match taken {
                Some(s) => s,
                // Checked (quick_check) when the server opened its first connection.
                None => Store::open_again(&db.path)?,
            };
            let out = f(&mut store);
            let mut idle = db.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE_CONNECTIONS {
                idle.push(store);
            }
            out
        })
        .await
        .map_err(ApiError::internal)?
    }
}

/// A job for a hashing thread: it gets that thread's own connection (opened on first use).
pub(crate) type HashJob = Box<dyn FnOnce(Result<&mut Store, StoreError>) + Send>;

/// A few dedicated threads that run password hashes, each with its own connection. Always the
/// same threads, each reusing its one 19 MiB argon2 buffer (`hallwatch_store` keeps it per
/// thread): run on the blocking pool's many threads, every thread's allocator arena kept its
/// own block, and a flood of logins grew the server's memory by some 270 MiB although only
/// two hashes ran at once.
pub(crate) struct Hashers {
    tx: Mutex<std::sync::mpsc::Sender<HashJob>>,
}

impl Hashers {
    fn start(path: &std::path::Path, threads: usize) -> Result<Self, WebError> {
        let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            let thread_path = path.to_path_buf();
            std::thread::Builder::new()
                .name(format!("hash-{n}"))
                .spawn(move || {
                    let mut conn: Option<Store> = None;
                    loop {
                        let job = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                            Ok(job) => job,
                            // The server is gone.
                            Err(_) => return,
                        };
                        let store = match conn.as_mut() {
                            Some(s) => Ok(s),
                            None => Store::open_again(&thread_path).map(|s| conn.insert(s)),
                        };
                        // A panicking job drops its reply (the caller gets an error); the
                        // thread carries on.
                        let _ =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(store)));
                    }
                })
                .map_err(|e| {
                    WebError::Store(StoreError::Io {
                        path: path.to_path_buf(),
                        op: "starting a password hashing thread",
                        source: e,
                    })
                })?;
        }
        Ok(Self { tx: Mutex::new(tx) })
    }

    /// Queues `job`; false when the threads are gone.
    pub(crate) fn submit(&self, job: HashJob) -> bool {
        self.tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .is_ok()
    }
}

pub(crate) struct Inner {
    pub config: Arc<Config>,
    pub dashboards_dir: PathBuf,
    pub clock: Clock,
    pub db: Arc<Db>,
    pub live_tx: watch::Sender<Arc<Published>>,
    pub changes: broadcast::Sender<Arc<Published>>,
    pub shutdown: watch::Sender<bool>,
    pub sessions: Sessions,
    pub limiter: LoginLimiter,
    /// Bounds concurrent password hashes ([`crate::auth::HASH_SLOTS`]).
    pub hash_slots: tokio::sync::Semaphore,
    /// The threads that hash passwords (one per slot).
    pub hashers: Hashers,
    /// Report files (HTML, PDF, XLSX) rendered at once.
    pub render_slots: tokio::sync::Semaphore,
    /// Camera pictures encoded at once.
    pub picture_slots: tokio::sync::Semaphore,
    pub metrics: Metrics,
    pub snapshots: Mutex<Option<Arc<dyn SnapshotSource>>>,
    pub typical: Mutex<Option<(String, f64, Vec<f64>)>>,
    /// Ratings per kiosk/device token (crate::service), built from `[service]` on first use.
    pub rating_limiter: Mutex<Option<hallwatch_service::RateLimiter>>,
}

/// Everything the handlers share. Cheap to clone (one `Arc`).
///
/// The pipeline calls [`AppState::publish`] with each new [`HallState`] (from any thread; it
/// never blocks), [`AppState::metrics`] to record inference latency, and
/// [`AppState::set_snapshot_source`] once its cameras run.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("site", &self.inner.config.site.id)
            .finish_non_exhaustive()
    }
}

/// How many state changes an SSE client may fall behind before it skips to the latest.
const CHANGE_BUFFER: usize = 64;

impl AppState {
    /// Opens the store (creating and migrating it when needed) and starts with the hall state
    /// of [`initial_state`] until the pipeline publishes one.
    pub fn new(opts: AppOptions) -> Result<AppState, WebError> {
        if let Some(dir) = opts.store_path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|source| {
                WebError::Store(StoreError::Io {
                    path: dir.to_path_buf(),
                    op: "creating the data folder",
                    source,
                })
            })?;
        }
        let store = Store::open(&opts.store_path)?;
        let db = Arc::new(Db {
            path: opts.store_path.clone(),
            idle: Mutex::new(vec![store]),
            permits: Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS)),
        });
        let first = Arc::new(Published::new(initial_state(&opts.config, (opts.clock)())));
        let (live_tx, _) = watch::channel(first);
        let (changes, _) = broadcast::channel(CHANGE_BUFFER);
        let (shutdown, _) = watch::channel(false);
        let server = &opts.config.server;
        Ok(AppState {
            inner: Arc::new(Inner {
                sessions: Sessions::new(server),
                limiter: LoginLimiter::new(server),
                hash_slots: tokio::sync::Semaphore::new(crate::auth::HASH_SLOTS),
                hashers: Hashers::start(&opts.store_path, crate::auth::HASH_SLOTS)?,
                render_slots: tokio::sync::Semaphore::new(REPORT_RENDERS),
                picture_slots: tokio::sync::Semaphore::new(PICTURE_ENCODES),
                config: opts.config,
                dashboards_dir: opts.dashboards_dir,
                clock: opts.clock,
                db,
                live_tx,
                changes,
                shutdown,
                metrics: Metrics::default(),
                snapshots: Mutex::new(opts.snapshots),
                typical: Mutex::new(None),
                rating_limiter: Mutex::new(None),
            }),
        })
    }

    /// Publishes a new hall state: `/api/v1/state` answers it from now on and every SSE client
    /// gets it at once. Never blocks; callable from any thread.
    pub fn publish(&self, state: HallState) {
        let p = Arc::new(Published::new(state));
        self.inner.live_tx.send_replace(Arc::clone(&p));
        // No receiver is not an error: nobody is watching.
        let _ = self.inner.changes.send(p);
    }

    /// The latest published hall state.
    pub fn latest(&self) -> Arc<HallState> {
        Arc::clone(&self.inner.live_tx.borrow().state)
    }

    pub(crate) fn latest_published(&self) -> Arc<Published> {
        Arc::clone(&self.inner.live_tx.borrow())
    }

    /// The metrics the pipeline updates (inference latency per camera).
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Sets (or replaces) where camera snapshots come from.
    pub fn set_snapshot_source(&self, source: Arc<dyn SnapshotSource>) {
        *self
            .inner
            .snapshots
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(source);
    }

    /// The config.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Ends every live stream (SSE) so a graceful shutdown does not wait for them; called by
    /// [`crate::serve`] when its shutdown future completes.
    pub fn close_streams(&self) {
        self.inner.shutdown.send_replace(true);
    }

    pub(crate) fn now(&self) -> f64 {
        (self.inner.clock)()
    }

    pub(crate) fn db(&self) -> &Arc<Db> {
        &self.inner.db
    }

    pub(crate) fn snapshot_source(&self) -> Option<Arc<dyn SnapshotSource>> {
        self.inner
            .snapshots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The hall before the pipeline has published anything: the config's zones with nobody in
/// them, its counters idle, its cameras starting.
pub fn initial_state(config: &Config, now: f64) -> HallState {
    use hallwatch_config::ZoneRole;
    let role = |r: ZoneRole| match r {
        ZoneRole::Waiting => "waiting",
        ZoneRole::Counter => "counter",
        ZoneRole::Entrance => "entrance",
        ZoneRole::Ignore => "ignore",
    };
    HallState {
        site: config.site.id.clone(),
        site_name: config.site.name.clone(),
        t: now,
        seq: 0,
        zones: config
            .zones
            .iter()
            .filter(|z| z.role != ZoneRole::Ignore)
            .map(|z| ZoneState {
                id: z.id.clone(),
                name: z.name.clone(),
                camera: z.camera.clone(),
                role: role(z.role).into(),
                ..ZoneState::default()
            })
            .collect(),
        counters: config
            .zones
            .iter()
            .filter(|z| z.role == ZoneRole::Counter)
            .map(|z| CounterState {
                zone: z.id.clone(),
                name: z.name.clone(),
                counter: z.counter,
                ..CounterState::default()
            })
            .collect(),
        cameras: config
            .cameras
            .iter()
            .filter(|c| c.enabled)
            .map(|c| CameraHealth::new(CameraId::new(c.id.as_str())))
            .collect(),
        ..HallState::default()
    }
}
