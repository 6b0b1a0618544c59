//! The one TOML configuration file of `lookout serve` / `run` / `ingest` / `reindex`.
//! Every section has defaults, so an empty file is a working one-machine setup;
//! `config/lookout.example.toml` documents every field.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::detect::DetectorConfig;
use crate::ingest::CameraConfig;
use crate::search::SearchConfig;
use crate::server::{RetentionConfig, ServerConfig};
use crate::store::StoreConfig;
use crate::track::TrackerConfig;
use crate::worker::WorkerConfig;

/// `[model]`: the TextReID bundle used for both crops and queries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSection {
    /// Model bundle: folder, `model.toml` or weights file (with vocab.json beside it).
    pub path: PathBuf,
    /// `auto`, `cpu` or `cuda:N`.
    pub device: String,
}

impl Default for ModelSection {
    fn default() -> Self {
        ModelSection {
            path: PathBuf::from("models/default"),
            device: "auto".into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LookoutConfig {
    pub model: ModelSection,
    pub store: StoreConfig,
    pub search: SearchConfig,
    pub server: ServerConfig,
    pub retention: RetentionConfig,
    /// Live ingest (`lookout run` / `lookout ingest`).
    pub ingest: WorkerConfig,
    pub detector: DetectorConfig,
    pub tracker: TrackerConfig,
    /// The cameras, one `[[camera]]` table each.
    #[serde(rename = "camera")]
    pub cameras: Vec<CameraConfig>,
    /// RTSP test cameras this process serves (demo, tests): `[[test_camera]]`.
    #[serde(rename = "test_camera")]
    pub test_cameras: Vec<TestCameraConfig>,
}

/// A file served on loopback as an RTSP camera (H.264, looped, real time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCameraConfig {
    pub file: PathBuf,
    pub port: u16,
    /// Mount path: the camera is `rtsp://127.0.0.1:<port>/<path>`.
    #[serde(default = "default_test_path")]
    pub path: String,
}

fn default_test_path() -> String {
    "test".into()
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl LookoutConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    pub fn device(&self) -> anyhow::Result<tch::Device> {
        let choice: crate::device::DeviceChoice = self
            .model
            .device
            .parse()
            .map_err(|e| anyhow::anyhow!("[model] device: {e}"))?;
        Ok(choice.resolve()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_default_setup() {
        assert_eq!(LookoutConfig::parse("").unwrap(), LookoutConfig::default());
    }

    #[test]
    fn unknown_fields_are_named() {
        let err = LookoutConfig::parse("[server]\nlisten_on = \"x\"").unwrap_err();
        assert!(err.contains("listen_on"), "{err}");
    }

    #[test]
    fn the_example_configuration_parses() {
        let text = include_str!("../config/lookout.example.toml");
        let config = LookoutConfig::parse(text).unwrap();
        assert!(!config.server.api_keys.is_empty());
    }

    #[test]
    fn every_shipped_configuration_parses() {
        let files = [
            ("config/demo.toml", include_str!("../config/demo.toml")),
            (
                "docker/config/query.toml",
                include_str!("../docker/config/query.toml"),
            ),
            (
                "docker/config/ingest-1.toml",
                include_str!("../docker/config/ingest-1.toml"),
            ),
            (
                "docker/config/ingest-2.toml",
                include_str!("../docker/config/ingest-2.toml"),
            ),
            (
                "docker/config/ingest-gpu.toml",
                include_str!("../docker/config/ingest-gpu.toml"),
            ),
            (
                "docker/config/ingest-demo.toml",
                include_str!("../docker/config/ingest-demo.toml"),
            ),
        ];
        for (name, text) in files {
            let config = LookoutConfig::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            for camera in &config.cameras {
                camera.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            if name.starts_with("docker/config/ingest") {
                assert!(!config.cameras.is_empty(), "{name} has no camera");
            }
        }
    }
}
