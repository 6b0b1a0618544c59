//! Where a model's files are: weights, word dictionary, vocabulary, configuration.
//!
//! A model is named by one path, which may be
//! * a manifest `model.toml` (`weights`, `dictionary`, optional `vocabulary`, optional
//!   `[config]` overrides; paths relative to the manifest),
//! * a folder holding such a manifest, or else one `.safetensors` file and a dictionary,
//! * a `.safetensors` weights file, with the dictionary beside it.
//!
//! A TOML beside the weights (`<stem>.toml`) may carry configuration overrides.
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::config::PartialModelConfig;

/// File names looked for beside the weights, in order.
const DICTIONARY_NAMES: &[&str] = &[
    "dictionary.npy",
    "dictionary.safetensors",
    "vocab_dict.npy",
    "clip_vocab_vit.npy",
];
const VOCABULARY_NAMES: &[&str] = &["vocab.json", "vocabulary.json", "vocab.txt"];

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("model path {0} does not exist")]
    NotFound(PathBuf),
    #[error("cannot read model manifest {path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("no weights (.safetensors) found in {0}; give the weights file or a model.toml")]
    NoWeights(PathBuf),
    #[error("several .safetensors files in {0}; name one, or write a model.toml")]
    AmbiguousWeights(PathBuf),
    #[error("no word dictionary beside {weights}; looked for {looked_for}")]
    NoDictionary {
        weights: PathBuf,
        looked_for: String,
    },
}

/// The files of one model.
#[derive(Debug, Clone)]
pub struct ModelBundle {
    pub weights: PathBuf,
    pub dictionary: PathBuf,
    pub vocabulary: Option<PathBuf>,
    pub config_overrides: Option<PartialModelConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    weights: PathBuf,
    dictionary: PathBuf,
    #[serde(default)]
    vocabulary: Option<PathBuf>,
    #[serde(default)]
    config: Option<PartialModelConfig>,
}

fn read_overrides(path: &Path) -> Result<Option<PartialModelConfig>, BundleError> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| BundleError::Manifest {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| BundleError::Manifest {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

impl ModelBundle {
    pub fn resolve(path: &Path) -> Result<Self, BundleError> {
        if !path.exists() {
            return Err(BundleError::NotFound(path.to_path_buf()));
        }
        if path.is_dir() {
            let manifest = path.join("model.toml");
            if manifest.is_file() {
                return Self::from_manifest(&manifest);
            }
            let mut weights: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| BundleError::Manifest {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
                .filter(|p| p.file_name().is_none_or(|n| n != "dictionary.safetensors"))
                .collect();
            return match weights.len() {
                0 => Err(BundleError::NoWeights(path.to_path_buf())),
                1 => Self::from_weights(&weights.remove(0)),
                _ => Err(BundleError::AmbiguousWeights(path.to_path_buf())),
            };
        }
        if path.extension().is_some_and(|x| x == "toml") {
            return Self::from_manifest(path);
        }
        Self::from_weights(path)
    }

    fn from_manifest(path: &Path) -> Result<Self, BundleError> {
        let err = |reason: String| BundleError::Manifest {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let manifest: Manifest = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Ok(Self {
            weights: base.join(manifest.weights),
            dictionary: base.join(manifest.dictionary),
            vocabulary: manifest.vocabulary.map(|v| base.join(v)),
            config_overrides: manifest.config,
        })
    }

    fn from_weights(weights: &Path) -> Result<Self, BundleError> {
        let dir = weights.parent().unwrap_or(Path::new("."));
        let dictionary = DICTIONARY_NAMES
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
            .ok_or_else(|| BundleError::NoDictionary {
                weights: weights.to_path_buf(),
                looked_for: DICTIONARY_NAMES.join(", "),
            })?;
        let vocabulary = VOCABULARY_NAMES
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file());
        let config_overrides = read_overrides(&weights.with_extension("toml"))?;
        Ok(Self {
            weights: weights.to_path_buf(),
            dictionary,
            vocabulary,
            config_overrides,
        })
    }
}
