//! The TextReID dual encoder: a person crop and a sentence into one L2-normalised space.
//!
//! [`TextReid::load`] reads a model bundle (weights in the official key layout, the frozen
//! word dictionary, optionally a vocabulary), resolves its configuration (see
//! [`config`]) and builds both streams. Inference runs under no-grad, batched, on the
//! device chosen by the caller.
pub mod bundle;
pub mod clip_text;
pub mod config;
pub mod dictionary_builder;
pub mod minilm;
pub mod mobilenet;
pub mod textual;
pub mod visual;
pub mod weights;

use std::path::Path;

use tch::{Device, Kind, Tensor};

pub use bundle::{BundleError, ModelBundle};
pub use config::{HeadKind, ModelConfig, PartialModelConfig, TextualConfig, VisualConfig};
pub use textual::{BiGruEncoder, Pooling, TextError, WordDictionary};
pub use visual::{ModifiedResNet, VisualEncoder};
pub use weights::{WeightMap, WeightsError};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("invalid model configuration in {source_name}: {reason}")]
    Config { source_name: String, reason: String },
    #[error("image batch has shape {found:?}; the model takes (B, 3, {height}, {width})")]
    ImageShape {
        found: Vec<i64>,
        height: usize,
        width: usize,
    },
    #[error("libtorch error: {0}")]
    Torch(#[from] tch::TchError),
}

/// Key prefixes of the two projection layers for each head.
pub fn embed_prefixes(head: HeadKind) -> (&'static str, &'static str) {
    match head {
        HeadKind::Moco => ("embed_model.v_embed_layer", "embed_model.t_embed_layer"),
        HeadKind::Simple => (
            "embed_model.visual_embed_layer",
            "embed_model.textual_embed_layer",
        ),
    }
}

/// Works out the configuration of the weights in `w`: metadata first, then `overrides`
/// (e.g. a TOML beside the weights), and what is still open from the tensor shapes.
pub fn resolve_config(
    w: &WeightMap,
    overrides: Option<&PartialModelConfig>,
) -> Result<ModelConfig, ModelError> {
    let cfg_err = |reason: String| ModelError::Config {
        source_name: w.source_name().to_string(),
        reason,
    };
    if let Some(json) = w.metadata().get(config::METADATA_KEY) {
        let mut config: ModelConfig = serde_json::from_str(json)
            .map_err(|e| cfg_err(format!("metadata `{}`: {e}", config::METADATA_KEY)))?;
        if let Some(o) = overrides {
            apply_overrides(&mut config, o);
        }
        return Ok(config);
    }
    let shape = |key: &str| {
        w.shape(key).ok_or_else(|| {
            cfg_err(format!(
                "tensor `{key}` is missing, so the configuration cannot be inferred"
            ))
        })
    };
    let head = if w.contains("embed_model.v_embed_layer.weight") {
        HeadKind::Moco
    } else if w.contains("embed_model.visual_embed_layer.weight") {
        HeadKind::Simple
    } else {
        return Err(cfg_err(
            "neither `embed_model.v_embed_layer.weight` (MoCo head) nor `embed_model.visual_embed_layer.weight` (simple head) is present".into(),
        ));
    };
    let (v_prefix, _) = embed_prefixes(head);
    let embedding_dim = shape(&format!("{v_prefix}.weight"))?[0] as usize;
    let visual = match w.metadata().get(config::FIXTURE_VISUAL_KEY) {
        Some(json) => serde_json::from_str::<config::FixtureVisual>(json)
            .map_err(|e| cfg_err(format!("metadata `{}`: {e}", config::FIXTURE_VISUAL_KEY)))?
            .into(),
        None => infer_visual(w, &shape)?,
    };
    let ih = shape("textual_model.gru.weight_ih_l0")?;
    let hh = shape("textual_model.gru.weight_hh_l0")?;
    let textual = TextualConfig {
        word_dim: ih[1] as usize,
        hidden: hh[1] as usize,
        max_words: 105,
    };
    let mut config = ModelConfig {
        visual,
        textual,
        embedding_dim,
        head,
        version: w.metadata().get("version").cloned().unwrap_or_default(),
    };
    if let Some(o) = overrides {
        apply_overrides(&mut config, o);
    }
    Ok(config)
}

fn apply_overrides(config: &mut ModelConfig, o: &PartialModelConfig) {
    if let Some(v) = &o.visual {
        config.visual = v.clone();
    }
    if let Some(t) = &o.textual {
        config.textual = t.clone();
    }
    if let Some(d) = o.embedding_dim {
        config.embedding_dim = d;
    }
    if let Some(h) = o.head {
        config.head = h;
    }
    if let Some(v) = &o.version {
        config.version = v.clone();
    }
}

fn infer_visual(
    w: &WeightMap,
    shape: &dyn Fn(&str) -> Result<Vec<i64>, ModelError>,
) -> Result<VisualConfig, ModelError> {
    let width = shape("visual_model.conv3.weight")?[0] as usize;
    let mut layers = [0usize; 4];
    for (stage, count) in layers.iter_mut().enumerate() {
        while w.contains(&format!(
            "visual_model.layer{}.{}.conv1.weight",
            stage + 1,
            *count
        )) {
            *count += 1;
        }
    }
    let output_dim = shape("visual_model.attnpool.c_proj.weight")?[0] as usize;
    let tokens = shape("visual_model.attnpool.positional_embedding")?[0] as usize;
    let config = VisualConfig {
        backbone: config::Backbone::ModifiedResnet,
        layers,
        width,
        // CLIP's ModifiedResNet uses 64-wide heads: heads = width * 32 / 64.
        heads: (width * 32 / 64).max(1),
        output_dim,
        last_stride: 1,
        input_resolution: [384, 128],
    };
    let (gh, gw) = config.grid();
    if tokens != gh * gw + 1 {
        return Err(ModelError::Config {
            source_name: w.source_name().to_string(),
            reason: format!(
                "positional embedding has {tokens} tokens, but a 384×128 input with last stride 1 needs {}; give visual.input_resolution in the model's TOML",
                gh * gw + 1
            ),
        });
    }
    Ok(config)
}

/// The loaded dual encoder.
pub struct TextReid {
    pub visual: VisualEncoder,
    pub textual: BiGruEncoder,
    pub config: ModelConfig,
    device: Device,
}

/// L2-normalises rows (as `F.normalize(p=2, dim=1, eps=1e-12)`).
pub fn l2_normalize(x: &Tensor) -> Tensor {
    let norm = x
        .norm_scalaropt_dim(2, [1i64].as_slice(), true)
        .clamp_min(1e-12);
    x / norm
}

impl TextReid {
    /// Builds both streams from weights, dictionary and a resolved configuration.
    pub fn from_parts(
        weights: &WeightMap,
        dictionary: WordDictionary,
        config: ModelConfig,
        device: Device,
    ) -> Result<Self, ModelError> {
        let (v_prefix, t_prefix) = embed_prefixes(config.head);
        let visual = VisualEncoder::load(weights, &config.visual, v_prefix, config.embedding_dim)?;
        let textual = BiGruEncoder::load(
            weights,
            dictionary,
            &config.textual,
            t_prefix,
            config.embedding_dim,
        )?;
        Ok(Self {
            visual,
            textual,
            config,
            device,
        })
    }

    /// Loads a model bundle (see [`ModelBundle`]).
    pub fn load(bundle: &ModelBundle, device: Device) -> Result<Self, ModelError> {
        let weights = WeightMap::from_safetensors(&bundle.weights, device)?;
        let config = resolve_config(&weights, bundle.config_overrides.as_ref())?;
        let dictionary = WordDictionary::load(&bundle.dictionary, config.textual.word_dim, device)?;
        Self::from_parts(&weights, dictionary, config, device)
    }

    /// Shortcut: a bundle from a path (directory, manifest or weights file).
    pub fn load_path(path: &Path, device: Device) -> Result<Self, ModelError> {
        Self::load(&ModelBundle::resolve(path)?, device)
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// Checks an image batch against the model's input size.
    fn check_images(&self, images: &Tensor) -> Result<(), ModelError> {
        let [h, w] = self.config.visual.input_resolution;
        let size = images.size();
        if size.len() != 4 || size[1] != 3 || size[2] != h as i64 || size[3] != w as i64 {
            return Err(ModelError::ImageShape {
                found: size,
                height: h,
                width: w,
            });
        }
        Ok(())
    }

    /// Raw image embeddings of normalised images `(B, 3, H, W)`, in chunks of `batch_size`.
    pub fn embed_images_raw(
        &self,
        images: &Tensor,
        batch_size: usize,
    ) -> Result<Tensor, ModelError> {
        self.check_images(images)?;
        let images = images.to_kind(Kind::Float).to_device(self.device);
        let chunk = batch_size.max(1) as i64;
        tch::no_grad(|| {
            let parts: Vec<Tensor> = images
                .split(chunk, 0)
                .iter()
                .map(|part| self.visual.forward(part))
                .collect();
            Ok(Tensor::cat(&parts, 0))
        })
    }

    /// L2-normalised image embeddings.
    pub fn embed_images(&self, images: &Tensor, batch_size: usize) -> Result<Tensor, ModelError> {
        Ok(l2_normalize(&self.embed_images_raw(images, batch_size)?))
    }

    /// Raw caption embeddings; in [`Pooling::Batch`] mode the batches are consecutive
    /// chunks of `batch_size` captions, as the reference's test loader forms them.
    pub fn embed_captions_raw(
        &self,
        captions: &[Vec<i64>],
        pooling: Pooling,
        batch_size: usize,
    ) -> Result<Tensor, ModelError> {
        tch::no_grad(|| {
            let mut parts = Vec::new();
            for chunk in captions.chunks(batch_size.max(1)) {
                parts.push(self.textual.forward(chunk, pooling)?);
            }
            if parts.is_empty() {
                return Ok(Tensor::zeros(
                    [0, self.config.embedding_dim as i64],
                    (Kind::Float, self.device),
                ));
            }
            Ok(Tensor::cat(&parts, 0))
        })
    }

    /// L2-normalised caption embeddings.
    pub fn embed_captions(
        &self,
        captions: &[Vec<i64>],
        pooling: Pooling,
        batch_size: usize,
    ) -> Result<Tensor, ModelError> {
        Ok(l2_normalize(
            &self.embed_captions_raw(captions, pooling, batch_size)?,
        ))
    }
}
