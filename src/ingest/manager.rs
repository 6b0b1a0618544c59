//! The set of running cameras: add one at runtime, remove (stop) one, list their statuses.
//!
//! This is what the daemon holds. Cameras are independent: adding validates and starts the
//! new camera without touching the others, removing stops only the one named, and a camera
//! that fails reports it in its own status.
use std::collections::BTreeMap;
use std::sync::mpsc::SyncSender;
use std::sync::Mutex;

use super::camera::Camera;
use super::config::{BuildError, CameraConfig, IngestConfig};
use super::status::CameraStatus;
use super::template::{PipelineTemplates, TemplateError};
use crate::frame::VideoFrame;

/// Why a camera could not be added, found or removed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("a camera with id {0:?} already exists")]
    DuplicateId(String),
    #[error("no camera with id {0:?}")]
    UnknownId(String),
    #[error(transparent)]
    Config(#[from] BuildError),
    #[error(transparent)]
    Templates(#[from] TemplateError),
}

/// The running cameras, by id.
#[derive(Debug)]
pub struct CameraSet {
    templates: PipelineTemplates,
    cameras: Mutex<BTreeMap<String, Camera>>,
}

impl Default for CameraSet {
    fn default() -> Self {
        CameraSet::new(PipelineTemplates::builtin())
    }
}

impl CameraSet {
    /// An empty set whose cameras are built from `templates`.
    pub fn new(templates: PipelineTemplates) -> Self {
        CameraSet {
            templates,
            cameras: Mutex::new(BTreeMap::new()),
        }
    }

    /// The cameras of an ingest configuration, all sending to `frames`, with the
    /// templates of its `pipelines_dir` (built-in ones otherwise). Stops at the first
    /// camera that cannot be added; the ones started before it are stopped again.
    pub fn from_config(
        config: &IngestConfig,
        frames: SyncSender<VideoFrame>,
    ) -> Result<Self, IngestError> {
        let templates = PipelineTemplates::load_or_builtin(config.pipelines_dir.as_deref())?;
        let set = CameraSet::new(templates);
        for camera in &config.cameras {
            set.add(camera.clone(), frames.clone())?;
        }
        Ok(set)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Camera>> {
        self.cameras.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Validates and starts a camera whose frames go to `frames`. Several cameras may
    /// share one sender; a full channel drops (and counts) frames of the camera sending.
    pub fn add(
        &self,
        config: CameraConfig,
        frames: SyncSender<VideoFrame>,
    ) -> Result<(), IngestError> {
        // Held across build so that two adds of one id cannot both succeed; build only
        // parses the pipeline and spawns the thread, it never waits on a source.
        let mut cameras = self.lock();
        if cameras.contains_key(&config.id) {
            return Err(IngestError::DuplicateId(config.id));
        }
        let camera = config.build(&self.templates, frames)?;
        tracing::info!(camera = %config.id, kind = config.source.kind(), "camera added");
        cameras.insert(config.id, camera);
        Ok(())
    }

    /// Stops and removes a camera; returns its final status.
    pub fn remove(&self, id: &str) -> Result<CameraStatus, IngestError> {
        // Taken out under the lock, stopped outside it: stopping waits for the pipeline
        // to reach Null, which must not hold up the other cameras' status calls.
        let camera = self
            .lock()
            .remove(id)
            .ok_or_else(|| IngestError::UnknownId(id.to_owned()))?;
        let status = camera.stop();
        tracing::info!(camera = %id, "camera removed");
        Ok(status)
    }

    pub fn status(&self, id: &str) -> Result<CameraStatus, IngestError> {
        self.lock()
            .get(id)
            .map(Camera::status)
            .ok_or_else(|| IngestError::UnknownId(id.to_owned()))
    }

    /// Every camera's status, ordered by id.
    pub fn statuses(&self) -> Vec<CameraStatus> {
        self.lock().values().map(Camera::status).collect()
    }

    pub fn ids(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Stops every camera (all asked at once, then each waited for); returns their final
    /// statuses.
    pub fn stop_all(&self) -> Vec<CameraStatus> {
        let cameras = std::mem::take(&mut *self.lock());
        for camera in cameras.values() {
            camera.request_stop();
        }
        cameras.into_values().map(Camera::stop).collect()
    }
}

impl Drop for CameraSet {
    fn drop(&mut self) {
        self.stop_all();
    }
}
