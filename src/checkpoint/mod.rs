//! Official TextReID checkpoints → Lookout's safetensors weights.
//!
//! The reference saves `torch.save({"model": state_dict, "optimizer": ..., ...})`; inside,
//! `visual_model.X` and `embed_model.v_encoder_q.X` share storage. [`pth`] reads that
//! zip pickle without Python; [`convert_pth`] writes every tensor (shared ones as copies)
//! to safetensors with the resolved model configuration in the metadata, after checking
//! that the weights build a model of that configuration. The output appears only when
//! the whole conversion succeeded.
pub mod pth;
pub mod raw;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, View};
use tch::{Device, Tensor};

use crate::model::{
    self, config::METADATA_KEY, embed_prefixes, ModelConfig, ModelError, PartialModelConfig,
    WeightMap, WordDictionary,
};
use pth::{PthDType, PthError, PthTensor};

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("cannot read checkpoint {path}: {source}")]
    Read { path: PathBuf, source: PthError },
    #[error("checkpoint {path} holds no tensors")]
    Empty { path: PathBuf },
    #[error("checkpoint {path} does not build a TextReID model: {source}")]
    Model {
        path: PathBuf,
        source: Box<ModelError>,
    },
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
}

/// What to keep of the state dict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Keep {
    /// Every tensor, in the official key layout (momentum encoders and queues included).
    #[default]
    All,
    /// Only what inference reads: `visual_model.*`, `textual_model.*`, the two embed layers.
    Inference,
}

pub struct ConvertOptions {
    /// The dict entry holding the state dict (`model` by default).
    pub entry: Option<String>,
    pub keep: Keep,
    /// Configuration overrides (a preset or a TOML); the rest is inferred from shapes.
    pub overrides: Option<PartialModelConfig>,
    pub version: Option<String>,
}

/// What a conversion produced.
#[derive(Debug)]
pub struct ConvertReport {
    pub tensors: usize,
    pub bytes: usize,
    pub config: ModelConfig,
}

/// A tensor read from a checkpoint, as safetensors' writer sees it.
pub(crate) struct RawView<'a>(pub(crate) &'a PthTensor);

pub(crate) fn dtype_of(d: PthDType) -> Dtype {
    match d {
        PthDType::F64 => Dtype::F64,
        PthDType::F32 => Dtype::F32,
        PthDType::F16 => Dtype::F16,
        PthDType::BF16 => Dtype::BF16,
        PthDType::I64 => Dtype::I64,
        PthDType::I32 => Dtype::I32,
        PthDType::I16 => Dtype::I16,
        PthDType::I8 => Dtype::I8,
        PthDType::U8 => Dtype::U8,
        PthDType::Bool => Dtype::BOOL,
    }
}

impl View for RawView<'_> {
    fn dtype(&self) -> Dtype {
        dtype_of(self.0.dtype)
    }
    fn shape(&self) -> &[usize] {
        &self.0.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.0.data)
    }
    fn data_len(&self) -> usize {
        self.0.data.len()
    }
}

fn is_inference_key(key: &str) -> bool {
    let (v, t) = embed_prefixes(model::HeadKind::Moco);
    let (sv, st) = embed_prefixes(model::HeadKind::Simple);
    key.starts_with("visual_model.")
        || key.starts_with("textual_model.")
        || [v, t, sv, st]
            .iter()
            .any(|p| key.starts_with(&format!("{p}.")))
}

/// Converts a `.pth` checkpoint into a safetensors weights file.
pub fn convert_pth(
    input: &Path,
    output: &Path,
    options: &ConvertOptions,
) -> Result<ConvertReport, ConvertError> {
    let mut tensors = pth::read_state_dict(input, options.entry.as_deref()).map_err(|source| {
        ConvertError::Read {
            path: input.to_path_buf(),
            source,
        }
    })?;
    if options.keep == Keep::Inference {
        tensors.retain(|(k, _)| is_inference_key(k));
    }
    if tensors.is_empty() {
        return Err(ConvertError::Empty {
            path: input.to_path_buf(),
        });
    }
    let model_err = |source: ModelError| ConvertError::Model {
        path: input.to_path_buf(),
        source: Box::new(source),
    };
    // Check the weights against the configuration by building the model on the CPU.
    let mut map = HashMap::new();
    for (key, t) in &tensors {
        let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
        let kind = model::weights::kind_of(dtype_of(t.dtype)).unwrap_or(tch::Kind::Float);
        let tensor = Tensor::f_from_data_size(&t.data, &shape, kind)
            .map_err(|e| model_err(ModelError::Torch(e)))?;
        let tensor = if tensor.is_floating_point() {
            tensor.to_kind(tch::Kind::Float)
        } else {
            tensor
        };
        map.insert(key.clone(), tensor);
    }
    let weights = WeightMap::from_tensors(map, BTreeMap::new(), &input.display().to_string());
    let mut config =
        model::resolve_config(&weights, options.overrides.as_ref()).map_err(model_err)?;
    if let Some(v) = &options.version {
        config.version = v.clone();
    } else if config.version.is_empty() {
        config.version = input
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    let probe_dictionary = WordDictionary::from_tensor(Tensor::zeros(
        [1, config.textual.word_dim as i64],
        (tch::Kind::Float, Device::Cpu),
    ));
    model::TextReid::from_parts(&weights, probe_dictionary, config.clone(), Device::Cpu)
        .map_err(model_err)?;
    drop(weights);

    let write_err = |reason: String| ConvertError::Write {
        path: output.to_path_buf(),
        reason,
    };
    let config_json = serde_json::to_string(&config).map_err(|e| write_err(e.to_string()))?;
    let metadata: HashMap<String, String> = [
        (METADATA_KEY.to_string(), config_json),
        ("source".to_string(), input.display().to_string()),
        (
            "converted_by".to_string(),
            format!("lookout {}", env!("CARGO_PKG_VERSION")),
        ),
    ]
    .into_iter()
    .collect();
    let bytes = tensors.iter().map(|(_, t)| t.data.len()).sum();
    let views: Vec<(String, RawView)> = tensors
        .iter()
        .map(|(k, t)| (k.clone(), RawView(t)))
        .collect();
    let tmp = output.with_extension("safetensors.partial");
    safetensors::serialize_to_file(views, &Some(metadata), &tmp)
        .map_err(|e| write_err(e.to_string()))?;
    std::fs::rename(&tmp, output).map_err(|e| write_err(e.to_string()))?;
    Ok(ConvertReport {
        tensors: tensors.len(),
        bytes,
        config,
    })
}
