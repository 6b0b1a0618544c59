//! Long admin jobs the daemon runs in the background: re-indexing the store with another
//! model (`POST /api/reindex`, progress at `GET /api/reindex`). One job at a time; the
//! store keeps serving searches from the current collection meanwhile, and the alias is
//! only switched by an explicit `POST /api/alias` once daemons with the new model run.
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::model::TextReid;
use crate::store::Store;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ReindexStatus {
    /// idle | running | done | failed
    pub state: &'static str,
    pub model: Option<PathBuf>,
    pub source: Option<String>,
    pub target: Option<String>,
    pub reembedded: usize,
    pub skipped: usize,
    pub error: Option<String>,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
}

/// The daemon's background jobs and where their models run.
pub struct Jobs {
    device: tch::Device,
    reindex: Arc<Mutex<ReindexStatus>>,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs {
            device: tch::Device::Cpu,
            reindex: Arc::new(Mutex::new(ReindexStatus {
                state: "idle",
                ..Default::default()
            })),
        }
    }
}

impl Jobs {
    pub fn new(device: tch::Device) -> Self {
        Jobs {
            device,
            ..Default::default()
        }
    }

    pub fn reindex_status(&self) -> ReindexStatus {
        self.reindex.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Starts re-indexing the served collection with the model at `model`, on its own
    /// thread. Errors (shown to the admin) when a job runs or the model cannot be loaded.
    pub async fn start_reindex(
        &self,
        store: &Store,
        model_path: PathBuf,
        source: String,
        batch_size: usize,
    ) -> Result<ReindexStatus, String> {
        let runtime = tokio::runtime::Handle::current();
        {
            let status = self.reindex.lock().map_err(|_| "job state poisoned")?;
            if status.state == "running" {
                return Err(format!(
                    "a reindex with {} is running",
                    status
                        .model
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                ));
            }
        }
        let (path, device) = (model_path.clone(), self.device);
        let model = tokio::task::spawn_blocking(move || TextReid::load_path(&path, device))
            .await
            .map_err(|e| format!("model loading task: {e}"))?
            .map_err(|e| format!("model {}: {e}", model_path.display()))?;
        let version = model.config.version.clone();
        let dimension = model.config.embedding_dim;
        let target = store
            .for_model_version(&version, dimension)
            .await
            .map_err(|e| format!("opening the store for model {version}: {e}"))?;
        let target_name = target.collection();
        if target_name == source {
            return Err(format!(
                "{source} is already the collection of model {version}"
            ));
        }
        let status = ReindexStatus {
            state: "running",
            model: Some(model_path),
            source: Some(source.clone()),
            target: Some(target_name),
            started_ms: Some(super::now_ms()),
            ..Default::default()
        };
        if let Ok(mut shared) = self.reindex.lock() {
            *shared = status.clone();
        }
        let shared = self.reindex.clone();
        std::thread::Builder::new()
            .name("lookout-reindex".into())
            // Its own thread, not a runtime worker: re-embedding is minutes of CPU.
            .spawn(move || {
                let progress_state = shared.clone();
                let result = runtime.block_on(crate::encode::reindex::reindex(
                    &target,
                    model,
                    &source,
                    batch_size,
                    move |done| {
                        if let Ok(mut s) = progress_state.lock() {
                            s.reembedded = done;
                        }
                    },
                ));
                if let Ok(mut s) = shared.lock() {
                    s.finished_ms = Some(super::now_ms());
                    match result {
                        Ok(report) => {
                            s.state = "done";
                            s.reembedded = report.reembedded;
                            s.skipped = report.skipped;
                        }
                        Err(e) => {
                            s.state = "failed";
                            s.error = Some(e.to_string());
                        }
                    }
                }
            })
            .map_err(|e| format!("cannot start the reindex thread: {e}"))?;
        Ok(status)
    }
}
