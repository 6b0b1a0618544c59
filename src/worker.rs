//! The ingest worker: the live stages wired together, one way.
//!
//! ```text
//! cameras (one GStreamer thread each) ─frames─▶ detect + track thread ─sightings─▶ encode + store thread
//! ```
//! - Every camera sends to one bounded frame queue; a full queue drops frames at the
//!   camera (counted in its status), so a slow detector never stalls decoding.
//! - The detect thread takes whatever frames are queued (up to `detect_batch`) as one
//!   detector batch, then feeds each camera's tracker. A tracker whose camera sent
//!   nothing for `idle_flush_ms` (finished file, camera down or removed) is flushed, so
//!   its people are stored and not held back.
//! - The encode thread embeds the crops of all cameras in batches on one device (the GPU
//!   when there is one), JPEG-encodes crop and thumbnail, and writes the batch to the
//!   store; a store failure is retried with back-off and never loses what is already
//!   stored.
//!
//! The worker also implements the daemon's [`CameraControl`], so in `lookout run` the
//! admin API adds and removes cameras and the UI shows their state.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::detect::Detector;
use crate::encode::CropEncoder;
use crate::frame::VideoFrame;
use crate::ingest::{CameraConfig, CameraSet, PipelineTemplates};
use crate::preprocess::RgbImage;
use crate::server::metrics::escape_label;
use crate::server::{CameraControl, CameraView};
use crate::store::{SightingId, SightingInfo, SightingRecord, Store};
use crate::track::{encode_jpeg, Sighting, Tracker, TrackerConfig};

/// `[ingest]` in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Folder with `<kind>.pipeline` templates replacing the built-in ones.
    pub pipelines_dir: Option<PathBuf>,
    /// Frames waiting for the detector, all cameras together.
    pub frame_queue: usize,
    /// Most frames per detector batch.
    pub detect_batch: usize,
    /// Most crops per encoder batch.
    pub encode_batch: usize,
    /// Longest a sighting waits for its batch to fill, ms.
    pub encode_wait_ms: u64,
    /// A camera's tracks are ended when it sent no frame for this long, ms.
    pub idle_flush_ms: u64,
    /// JPEG quality of the kept crop and frame.
    pub jpeg_quality: u8,
    /// libtorch threads per worker thread (0: libtorch's default).
    pub torch_threads: i32,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            pipelines_dir: None,
            frame_queue: 16,
            detect_batch: 4,
            encode_batch: 16,
            encode_wait_ms: 500,
            idle_flush_ms: 5000,
            jpeg_quality: 85,
            torch_threads: 0,
        }
    }
}

/// Counters and time per stage, for metrics and the pipeline benchmark.
#[derive(Default)]
pub struct WorkerStats {
    pub frames: AtomicU64,
    pub detections: AtomicU64,
    pub sightings: AtomicU64,
    pub stored: AtomicU64,
    pub store_errors: AtomicU64,
    pub detect_micros: AtomicU64,
    pub track_micros: AtomicU64,
    pub encode_micros: AtomicU64,
    pub store_micros: AtomicU64,
}

/// A copy of [`WorkerStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StatsSnapshot {
    pub frames: u64,
    pub detections: u64,
    pub sightings: u64,
    pub stored: u64,
    pub store_errors: u64,
    pub detect_s: f64,
    pub track_s: f64,
    pub encode_s: f64,
    pub store_s: f64,
}

impl WorkerStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let secs = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64 / 1e6;
        StatsSnapshot {
            frames: load(&self.frames),
            detections: load(&self.detections),
            sightings: load(&self.sightings),
            stored: load(&self.stored),
            store_errors: load(&self.store_errors),
            detect_s: secs(&self.detect_micros),
            track_s: secs(&self.track_micros),
            encode_s: secs(&self.encode_micros),
            store_s: secs(&self.store_micros),
        }
    }
}

fn add_elapsed(counter: &AtomicU64, since: Instant) {
    counter.fetch_add(since.elapsed().as_micros() as u64, Ordering::Relaxed);
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Ingest(#[from] crate::ingest::IngestError),
    #[error(transparent)]
    Templates(#[from] crate::ingest::TemplateError),
    #[error("tracker configuration: {0}")]
    Tracker(#[from] crate::track::TrackError),
    #[error("store model version {store:?} differs from the crop encoder's {encoder:?}")]
    ModelMismatch { store: String, encoder: String },
    #[error("cannot start worker thread: {0}")]
    Thread(std::io::Error),
}

pub struct IngestWorker {
    cameras: Arc<CameraSet>,
    frames: Mutex<Option<SyncSender<VideoFrame>>>,
    stats: Arc<WorkerStats>,
    stopping: Arc<AtomicBool>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl IngestWorker {
    /// Starts the detect and encode threads and the configured cameras.
    pub fn start(
        config: &WorkerConfig,
        tracker: &TrackerConfig,
        cameras: &[CameraConfig],
        detector: Detector,
        encoder: CropEncoder,
        store: Store,
        runtime: tokio::runtime::Handle,
    ) -> Result<Arc<IngestWorker>, WorkerError> {
        tracker.validate()?;
        let templates = PipelineTemplates::load_or_builtin(config.pipelines_dir.as_deref())?;
        let (frame_tx, frame_rx) = mpsc::sync_channel::<VideoFrame>(config.frame_queue.max(1));
        let (sighting_tx, sighting_rx) = mpsc::sync_channel::<Sighting>(1024);
        let stats = Arc::new(WorkerStats::default());
        let stopping = Arc::new(AtomicBool::new(false));

        let detect_thread = {
            let config = config.clone();
            let tracker = tracker.clone();
            let stats = stats.clone();
            let stopping = stopping.clone();
            std::thread::Builder::new()
                .name("lookout-detect".into())
                .spawn(move || {
                    detect_loop(
                        &config,
                        &tracker,
                        &detector,
                        frame_rx,
                        sighting_tx,
                        &stats,
                        &stopping,
                    )
                })
                .map_err(WorkerError::Thread)?
        };
        let encode_thread = {
            let config = config.clone();
            let stats = stats.clone();
            let stopping = stopping.clone();
            std::thread::Builder::new()
                .name("lookout-encode".into())
                .spawn(move || {
                    encode_loop(
                        &config,
                        &encoder,
                        &store,
                        &runtime,
                        sighting_rx,
                        &stats,
                        &stopping,
                    )
                })
                .map_err(WorkerError::Thread)?
        };
        let worker = Arc::new(IngestWorker {
            cameras: Arc::new(CameraSet::new(templates)),
            frames: Mutex::new(Some(frame_tx)),
            stats,
            stopping,
            threads: Mutex::new(vec![detect_thread, encode_thread]),
        });
        for camera in cameras {
            if let Err(e) = worker.add_camera(camera.clone()) {
                worker.stop();
                return Err(e);
            }
        }
        Ok(worker)
    }

    pub fn add_camera(&self, camera: CameraConfig) -> Result<(), WorkerError> {
        let sender = self
            .frames
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(|| WorkerError::Thread(std::io::Error::other("the worker is stopping")))?;
        self.cameras.add(camera, sender)?;
        Ok(())
    }

    pub fn cameras(&self) -> &CameraSet {
        &self.cameras
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Stops the cameras, lets the detect thread flush every track and the encode
    /// thread store every sighting, then joins them.
    pub fn stop(&self) {
        self.cameras.stop_all();
        if let Ok(mut frames) = self.frames.lock() {
            frames.take();
        }
        self.stopping.store(true, Ordering::SeqCst);
        let threads = self
            .threads
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for thread in threads {
            let _ = thread.join();
        }
    }
}

impl Drop for IngestWorker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn detect_loop(
    config: &WorkerConfig,
    tracker_config: &TrackerConfig,
    detector: &Detector,
    frames: Receiver<VideoFrame>,
    sightings: SyncSender<Sighting>,
    stats: &WorkerStats,
    stopping: &AtomicBool,
) {
    if config.torch_threads > 0 {
        tch::set_num_threads(config.torch_threads);
    }
    let mut trackers: HashMap<String, (Tracker, Instant)> = HashMap::new();
    let idle = Duration::from_millis(config.idle_flush_ms.max(1));
    let emit = |found: Vec<Sighting>| {
        for sighting in found {
            stats.sightings.fetch_add(1, Ordering::Relaxed);
            if sightings.send(sighting).is_err() {
                tracing::error!("encode thread is gone; sighting lost");
            }
        }
    };
    loop {
        let first = match frames.recv_timeout(Duration::from_millis(200)) {
            Ok(frame) => Some(frame),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
                None
            }
        };
        let mut batch: Vec<VideoFrame> = first.into_iter().collect();
        while batch.len() < config.detect_batch.max(1) {
            match frames.try_recv() {
                Ok(frame) => batch.push(frame),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            let started = Instant::now();
            let refs: Vec<&VideoFrame> = batch.iter().collect();
            let detections = match detector.detect_batch(&refs) {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!("detector failed on a batch of {} frames: {e}", batch.len());
                    vec![Vec::new(); batch.len()]
                }
            };
            add_elapsed(&stats.detect_micros, started);
            let started = Instant::now();
            for (frame, found) in batch.iter().zip(&detections) {
                stats.frames.fetch_add(1, Ordering::Relaxed);
                stats
                    .detections
                    .fetch_add(found.len() as u64, Ordering::Relaxed);
                let camera = frame.camera_id.to_string();
                if !trackers.contains_key(&camera) {
                    match Tracker::new(camera.clone(), tracker_config.clone()) {
                        Ok(t) => {
                            trackers.insert(camera.clone(), (t, Instant::now()));
                        }
                        Err(e) => {
                            tracing::error!("camera {camera}: tracker: {e}");
                            continue;
                        }
                    }
                }
                if let Some((tracker, last)) = trackers.get_mut(&camera) {
                    *last = Instant::now();
                    emit(tracker.update(frame, found));
                }
            }
            add_elapsed(&stats.track_micros, started);
        }
        let finished = stopping.load(Ordering::SeqCst);
        let idle_cameras: Vec<String> = trackers
            .iter()
            .filter(|(_, (_, last))| finished || last.elapsed() >= idle)
            .map(|(id, _)| id.clone())
            .collect();
        for camera in idle_cameras {
            if let Some((mut tracker, _)) = trackers.remove(&camera) {
                emit(tracker.flush());
            }
        }
        if finished && batch_is_drained(&frames) {
            break;
        }
    }
}

fn batch_is_drained(frames: &Receiver<VideoFrame>) -> bool {
    matches!(
        frames.try_recv(),
        Err(mpsc::TryRecvError::Disconnected | mpsc::TryRecvError::Empty)
    )
}

fn to_rgb(image: &crate::track::SightingImage) -> RgbImage {
    RgbImage {
        width: image.width as usize,
        height: image.height as usize,
        data: image.rgb.clone(),
    }
}

fn encode_loop(
    config: &WorkerConfig,
    encoder: &CropEncoder,
    store: &Store,
    runtime: &tokio::runtime::Handle,
    sightings: Receiver<Sighting>,
    stats: &WorkerStats,
    stopping: &AtomicBool,
) {
    if config.torch_threads > 0 {
        tch::set_num_threads(config.torch_threads);
    }
    let wait = Duration::from_millis(config.encode_wait_ms.max(1));
    let mut open = true;
    while open {
        let mut batch = Vec::new();
        match sightings.recv() {
            Ok(s) => batch.push(s),
            Err(_) => break,
        }
        let deadline = Instant::now() + wait;
        while batch.len() < config.encode_batch.max(1) {
            let left = deadline.saturating_duration_since(Instant::now());
            match sightings.recv_timeout(left) {
                Ok(s) => batch.push(s),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        let started = Instant::now();
        let crops: Vec<(String, RgbImage)> = batch
            .iter()
            .map(|s| (format!("{}/{}", s.camera_id, s.track_id), to_rgb(&s.crop)))
            .collect();
        let vectors = match encoder.embed(&crops) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!("crop encoder failed on {} sightings: {e}", batch.len());
                continue;
            }
        };
        let mut records = Vec::with_capacity(batch.len());
        for (sighting, vector) in batch.into_iter().zip(vectors) {
            let (crop_jpeg, frame_jpeg) = match (
                encode_jpeg(&sighting.crop, config.jpeg_quality),
                encode_jpeg(&sighting.thumbnail, config.jpeg_quality),
            ) {
                (Ok(c), Ok(f)) => (c, f),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(
                        "camera {}: track {}: JPEG: {e}",
                        sighting.camera_id,
                        sighting.track_id
                    );
                    continue;
                }
            };
            records.push(SightingRecord {
                id: SightingId::for_track(
                    &sighting.camera_id,
                    sighting.first_seen_ms,
                    sighting.track_id,
                    sighting.part,
                ),
                vector,
                info: SightingInfo {
                    camera_id: sighting.camera_id,
                    track_id: sighting.track_id,
                    first_seen_ms: sighting.first_seen_ms,
                    last_seen_ms: sighting.last_seen_ms,
                    best_time_ms: sighting.best_time_ms,
                    bbox: sighting.bbox,
                    frame_width: sighting.frame_width,
                    frame_height: sighting.frame_height,
                    thumb_bbox: sighting.thumbnail_bbox,
                    thumb_width: sighting.thumbnail.width,
                    thumb_height: sighting.thumbnail.height,
                    detector_score: sighting.score,
                    model_version: encoder.model_version().to_string(),
                },
                crop_jpeg,
                frame_jpeg,
            });
        }
        add_elapsed(&stats.encode_micros, started);
        let started = Instant::now();
        let count = records.len() as u64;
        let mut delay = Duration::from_millis(200);
        let mut attempts = 0;
        loop {
            attempts += 1;
            match runtime.block_on(store.upsert(records.clone())) {
                Ok(()) => {
                    stats.stored.fetch_add(count, Ordering::Relaxed);
                    break;
                }
                // Running: retry for as long as the store is away (a server restart).
                // Shutting down: a few more tries, then say what is lost rather than hang.
                Err(e) if stopping.load(Ordering::SeqCst) && attempts >= 5 => {
                    tracing::error!(
                        "store unreachable while stopping: {count} sightings not stored: {e}"
                    );
                    break;
                }
                Err(e) => {
                    stats.store_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        "store write of {count} sightings failed, retrying in {delay:?}: {e}"
                    );
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
        add_elapsed(&stats.store_micros, started);
    }
}

impl CameraControl for IngestWorker {
    fn list(&self) -> Vec<CameraView> {
        self.cameras
            .statuses()
            .into_iter()
            .map(|s| CameraView {
                id: s.id,
                state: s.state.as_str().to_string(),
                fps: s.fps,
                frames: s.frames_received,
                dropped: s.frames_dropped,
                last_error: s.last_error,
                last_frame_ms: s.last_frame_ms,
                reconnects: s.reconnects,
                sightings: 0,
            })
            .collect()
    }

    fn add(&self, config: serde_json::Value) -> Result<(), String> {
        let camera: CameraConfig =
            serde_json::from_value(config).map_err(|e| format!("camera configuration: {e}"))?;
        self.add_camera(camera).map_err(|e| e.to_string())
    }

    fn remove(&self, id: &str) -> Result<(), String> {
        self.cameras
            .remove(id)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn metrics(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP lookout_camera_up 1 when the camera delivers frames.\n# TYPE lookout_camera_up gauge\n");
        let statuses = self.cameras.statuses();
        for s in &statuses {
            let up = u8::from(s.state == crate::ingest::CameraState::Up);
            out.push_str(&format!(
                "lookout_camera_up{{camera=\"{}\"}} {up}\n",
                escape_label(&s.id)
            ));
        }
        out.push_str("# HELP lookout_camera_fps Frames per second received.\n# TYPE lookout_camera_fps gauge\n");
        for s in &statuses {
            out.push_str(&format!(
                "lookout_camera_fps{{camera=\"{}\"}} {}\n",
                escape_label(&s.id),
                s.fps
            ));
        }
        out.push_str("# HELP lookout_camera_frames_dropped_total Frames dropped because the detector lagged.\n# TYPE lookout_camera_frames_dropped_total counter\n");
        for s in &statuses {
            out.push_str(&format!(
                "lookout_camera_frames_dropped_total{{camera=\"{}\"}} {}\n",
                escape_label(&s.id),
                s.frames_dropped
            ));
        }
        let st = self.stats();
        out.push_str(&format!(
            "# TYPE lookout_ingest_frames_total counter\nlookout_ingest_frames_total {}\n# TYPE lookout_ingest_sightings_total counter\nlookout_ingest_sightings_total {}\n# TYPE lookout_ingest_stored_total counter\nlookout_ingest_stored_total {}\n# TYPE lookout_ingest_store_errors_total counter\nlookout_ingest_store_errors_total {}\n",
            st.frames, st.sightings, st.stored, st.store_errors
        ));
        out
    }
}
