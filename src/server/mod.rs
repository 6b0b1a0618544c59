//! The query daemon: a thin HTTP layer over [`crate::search`] and [`crate::store`].
//!
//! JSON API (documented in `openapi.json`, served at `/api/openapi.json`), Prometheus
//! metrics at `/metrics`, the operators' web UI at `/` (static files compiled into the
//! binary, so it works with no internet). Every `/api` route but health and the OpenAPI
//! document needs an API key ([`auth`]); every search is written to the audit log
//! ([`audit`]) before its answer is sent. Bad requests get a 4xx with `{"error": ...}`.
//!
//! Cameras are not this module's business: it shows and changes them through
//! [`CameraControl`], which the ingest side implements when the daemon runs inside
//! `lookout run`, so data still flows one way (ingest → store → search → HTTP).
pub mod api;
pub mod audit;
pub mod auth;
pub mod jobs;
pub mod metrics;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::search::SearchEngine;

pub use auth::{ApiKeyConfig, Role};

/// `[server]` in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port (printed at start).
    pub listen: String,
    /// The audit log file (JSON lines).
    pub audit_log: PathBuf,
    /// Largest request body accepted, bytes.
    pub max_body_bytes: usize,
    /// Text-encoder copies (concurrent query encodings).
    pub encoder_copies: usize,
    pub api_keys: Vec<ApiKeyConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            audit_log: PathBuf::from("data/audit.jsonl"),
            max_body_bytes: 64 * 1024,
            encoder_copies: 2,
            api_keys: Vec::new(),
        }
    }
}

/// `[retention]` in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Delete sightings last seen more than this many days ago (0: keep everything).
    pub days: f64,
    /// How often the deletion runs, minutes.
    pub every_minutes: f64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            days: 30.0,
            every_minutes: 60.0,
        }
    }
}

/// A camera as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CameraView {
    pub id: String,
    /// starting | up | reconnecting | down | finished | stopped | stored
    pub state: String,
    pub fps: f64,
    pub frames: u64,
    pub dropped: u64,
    pub last_error: Option<String>,
    pub last_frame_ms: Option<i64>,
    pub reconnects: u64,
    pub sightings: usize,
}

/// What the daemon needs from the ingest side.
pub trait CameraControl: Send + Sync {
    fn list(&self) -> Vec<CameraView>;
    /// Adds a camera from its JSON configuration; the error is shown to the caller.
    fn add(&self, config: serde_json::Value) -> Result<(), String>;
    fn remove(&self, id: &str) -> Result<(), String>;
    /// Prometheus lines for the cameras.
    fn metrics(&self) -> String;
}

pub struct AppState {
    pub engine: SearchEngine,
    pub keys: auth::KeyRing,
    pub audit: audit::AuditLog,
    pub metrics: metrics::Metrics,
    pub cameras: Option<Arc<dyn CameraControl>>,
    pub max_body_bytes: usize,
    pub started: std::time::Instant,
    /// Admin background jobs (reindex).
    pub jobs: jobs::Jobs,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
    #[error("server: {0}")]
    Serve(std::io::Error),
}

/// Binds the listener (so the caller can print the address, even for port 0).
pub async fn bind(address: &str) -> Result<(tokio::net::TcpListener, SocketAddr), ServerError> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| ServerError::Listen {
            address: address.to_string(),
            source,
        })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServerError::Listen {
            address: address.to_string(),
            source,
        })?;
    Ok((listener, local))
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    axum::serve(listener, api::router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ServerError::Serve)
}

/// Runs retention every `every_minutes` until the process ends.
pub async fn retention_task(state: Arc<AppState>, config: RetentionConfig) {
    if config.days <= 0.0 || config.every_minutes <= 0.0 {
        return;
    }
    let period = std::time::Duration::from_secs_f64(config.every_minutes * 60.0);
    let mut ticker = tokio::time::interval(period);
    loop {
        ticker.tick().await;
        let cutoff = now_ms() - (config.days * 86_400_000.0) as i64;
        match state.engine.store().delete_older_than(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                deleted = n,
                "retention: deleted sightings older than {} days",
                config.days
            ),
            Err(e) => tracing::warn!("retention failed: {e}"),
        }
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
