//! Named tensors read from a safetensors file, handed out with their shapes checked.
//!
//! Every encoder takes its tensors from a [`WeightMap`] by their official TextReID key
//! (`visual_model.layer1.0.conv1.weight`, ...), so a missing key or a wrong shape is
//! reported with the key, the shape found and the shape the configuration expects.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use safetensors::{Dtype, SafeTensors};
use tch::{Device, Kind, Tensor};

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("cannot read weights file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid safetensors file: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("tensor `{key}` in {path} has dtype {dtype:?}, which Lookout cannot load")]
    Dtype {
        path: PathBuf,
        key: String,
        dtype: Dtype,
    },
    #[error("missing tensor `{key}` (expected shape {expected:?}) in {source_name}")]
    Missing {
        key: String,
        expected: Vec<i64>,
        source_name: String,
    },
    #[error("tensor `{key}` has shape {found:?}, but the model configuration expects {expected:?} ({source_name})")]
    Shape {
        key: String,
        found: Vec<i64>,
        expected: Vec<i64>,
        source_name: String,
    },
    #[error("libtorch refused tensor `{key}`: {reason}")]
    Torch { key: String, reason: String },
}

/// A shape-checked bag of named tensors plus the file's metadata.
pub struct WeightMap {
    tensors: HashMap<String, Tensor>,
    metadata: BTreeMap<String, String>,
    source_name: String,
    /// When set, a requested key that the map lacks is created on `device` with the
    /// reference's initialisation for its kind (see [`initial_tensor`]) and kept.
    create_missing: Option<Device>,
    created: Mutex<HashMap<String, Tensor>>,
    /// Every key handed out, so a trainer knows which tensors a model uses.
    accessed: Mutex<BTreeSet<String>>,
}

/// The reference's initialisation for a tensor, told apart by its key and rank:
/// BatchNorm weight 1 / bias 0 / running stats (0, 1); GRU weights U(±1/√H) (PyTorch's
/// default); the identity projection Xavier-uniform; attention-pool positional embedding
/// N(0, C^-1/2) (CLIP); every other Linear and conv weight Kaiming-normal (fan-out) with
/// zero bias, as TextReID's heads do.
pub fn initial_tensor(key: &str, shape: &[i64], device: Device) -> Tensor {
    let opts = (Kind::Float, device);
    let fan_out: i64 = shape.first().copied().unwrap_or(1) * shape.iter().skip(2).product::<i64>();
    if key.ends_with("running_var") {
        Tensor::ones(shape, opts)
    } else if key.ends_with("running_mean") || key.ends_with("bias") {
        Tensor::zeros(shape, opts)
    } else if key.contains("gru.weight") {
        let hidden = (shape[0] / 3).max(1) as f64;
        (Tensor::rand(shape, opts) * 2.0 - 1.0) / hidden.sqrt()
    } else if key.ends_with("loss_evaluator.projection") {
        let bound = (6.0 / (shape[0] + shape[1]) as f64).sqrt();
        (Tensor::rand(shape, opts) * 2.0 - 1.0) * bound
    } else if key.ends_with("positional_embedding") {
        Tensor::randn(shape, opts) / (shape[1] as f64).sqrt()
    } else if shape.len() == 1 {
        Tensor::ones(shape, opts)
    } else {
        Tensor::randn(shape, opts) * (2.0 / fan_out.max(1) as f64).sqrt()
    }
}

pub(crate) fn kind_of(dtype: Dtype) -> Option<Kind> {
    Some(match dtype {
        Dtype::F32 => Kind::Float,
        Dtype::F64 => Kind::Double,
        Dtype::F16 => Kind::Half,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        Dtype::I16 => Kind::Int16,
        Dtype::I8 => Kind::Int8,
        Dtype::U8 => Kind::Uint8,
        Dtype::BOOL => Kind::Bool,
        _ => return None,
    })
}

impl WeightMap {
    /// Reads every tensor of a safetensors file onto `device`. Floating-point tensors
    /// are converted to f32 (checkpoints may be stored in f16/bf16/f64).
    pub fn from_safetensors(path: &Path, device: Device) -> Result<Self, WeightsError> {
        let bytes = std::fs::read(path).map_err(|source| WeightsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_safetensors_bytes(&bytes, &path.display().to_string(), device).map_err(|e| {
            match e {
                WeightsError::Format { reason, .. } => WeightsError::Format {
                    path: path.to_path_buf(),
                    reason,
                },
                WeightsError::Dtype { key, dtype, .. } => WeightsError::Dtype {
                    path: path.to_path_buf(),
                    key,
                    dtype,
                },
                other => other,
            }
        })
    }

    pub fn from_safetensors_bytes(
        bytes: &[u8],
        source_name: &str,
        device: Device,
    ) -> Result<Self, WeightsError> {
        let format_err = |reason: String| WeightsError::Format {
            path: PathBuf::from(source_name),
            reason,
        };
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| format_err(e.to_string()))?;
        let metadata: BTreeMap<String, String> = meta
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let file = SafeTensors::deserialize(bytes).map_err(|e| format_err(e.to_string()))?;
        let mut tensors = HashMap::new();
        for (key, view) in file.tensors() {
            let kind = kind_of(view.dtype()).ok_or_else(|| WeightsError::Dtype {
                path: PathBuf::from(source_name),
                key: key.clone(),
                dtype: view.dtype(),
            })?;
            let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
            let tensor = Tensor::f_from_data_size(view.data(), &shape, kind)
                .and_then(|t| {
                    let t = if t.is_floating_point() && kind != Kind::Float {
                        t.f_to_kind(Kind::Float)?
                    } else {
                        t
                    };
                    t.f_to_device(device)
                })
                .map_err(|e| WeightsError::Torch {
                    key: key.clone(),
                    reason: e.to_string(),
                })?;
            tensors.insert(key, tensor);
        }
        Ok(Self {
            tensors,
            metadata,
            source_name: source_name.to_string(),
            create_missing: None,
            created: Mutex::default(),
            accessed: Mutex::default(),
        })
    }

    /// A map with no tensors that creates every one asked for (see [`initial_tensor`]):
    /// a model initialised from scratch, or for speed measurements of sizes whose
    /// weights cannot be had here.
    pub fn synthetic(device: Device) -> Self {
        Self::from_tensors(HashMap::new(), BTreeMap::new(), "synthetic weights")
            .creating_missing(device)
    }

    /// From now on a missing key is created (and kept) instead of being an error.
    pub fn creating_missing(mut self, device: Device) -> Self {
        self.create_missing = Some(device);
        self
    }

    /// Keys handed out by [`Self::get`] so far.
    pub fn accessed(&self) -> BTreeSet<String> {
        self.accessed.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// Every tensor, the loaded ones and those created since.
    pub fn all_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = self
            .tensors
            .iter()
            .map(|(k, t)| (k.clone(), t.shallow_clone()))
            .collect();
        if let Ok(created) = self.created.lock() {
            out.extend(created.iter().map(|(k, t)| (k.clone(), t.shallow_clone())));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Adds or replaces a tensor.
    pub fn insert(&mut self, key: &str, tensor: Tensor) {
        self.tensors.insert(key.to_string(), tensor);
    }

    /// Builds a map from tensors already in memory (used by conversions and tests).
    pub fn from_tensors(
        tensors: HashMap<String, Tensor>,
        metadata: BTreeMap<String, String>,
        source_name: &str,
    ) -> Self {
        Self {
            tensors,
            metadata,
            source_name: source_name.to_string(),
            create_missing: None,
            created: Mutex::default(),
            accessed: Mutex::default(),
        }
    }

    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    pub fn contains(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.tensors.keys()
    }

    /// The shape of `key`, if present.
    pub fn shape(&self, key: &str) -> Option<Vec<i64>> {
        self.tensors.get(key).map(|t| t.size()).or_else(|| {
            self.created
                .lock()
                .ok()
                .and_then(|c| c.get(key).map(|t| t.size()))
        })
    }

    /// The tensor `key`, which must have exactly `expected` as its shape.
    pub fn get(&self, key: &str, expected: &[i64]) -> Result<Tensor, WeightsError> {
        if let Ok(mut accessed) = self.accessed.lock() {
            accessed.insert(key.to_string());
        }
        let created;
        let tensor = match (self.tensors.get(key), self.create_missing) {
            (Some(t), _) => t,
            (None, Some(device)) => {
                let mut made = self.created.lock().map_err(|_| WeightsError::Torch {
                    key: key.to_string(),
                    reason: "weight map lock poisoned".into(),
                })?;
                created = made
                    .entry(key.to_string())
                    .or_insert_with(|| initial_tensor(key, expected, device))
                    .shallow_clone();
                &created
            }
            (None, None) => {
                return Err(WeightsError::Missing {
                    key: key.to_string(),
                    expected: expected.to_vec(),
                    source_name: self.source_name.clone(),
                })
            }
        };
        let found = tensor.size();
        if found != expected {
            return Err(WeightsError::Shape {
                key: key.to_string(),
                found,
                expected: expected.to_vec(),
                source_name: self.source_name.clone(),
            });
        }
        Ok(tensor.shallow_clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_map() -> WeightMap {
        let mut tensors = HashMap::new();
        tensors.insert(
            "a.weight".to_string(),
            Tensor::zeros([2, 3], (Kind::Float, Device::Cpu)),
        );
        WeightMap::from_tensors(tensors, BTreeMap::new(), "test")
    }

    #[test]
    fn wrong_shape_names_key_and_both_shapes() {
        let err = tiny_map()
            .get("a.weight", &[3, 2])
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("a.weight") && err.contains("[2, 3]") && err.contains("[3, 2]"),
            "{err}"
        );
    }

    #[test]
    fn missing_key_is_named() {
        let err = tiny_map().get("b.bias", &[4]).err().unwrap().to_string();
        assert!(err.contains("b.bias") && err.contains("[4]"), "{err}");
    }

    #[test]
    fn garbage_is_a_format_error() {
        let err = WeightMap::from_safetensors_bytes(b"not a safetensors file", "junk", Device::Cpu)
            .err()
            .unwrap();
        assert!(matches!(err, WeightsError::Format { .. }), "{err}");
    }
}
