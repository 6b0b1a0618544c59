//! Training: CM-MoCo (or the simple head) with the reference's Adam, parameter groups and
//! schedule. The trainable tensors are those of a [`WeightMap`]: the encoders hold shallow
//! clones of them, so gradients and in-place updates reach the model directly.
pub mod moco;
pub mod optim;
pub mod schedule;
pub mod trainer;

use tch::{Device, Tensor};

use crate::model::{
    embed_prefixes, HeadKind, ModelConfig, ModelError, Pooling, TextReid, WeightMap, WordDictionary,
};
pub use moco::{LossConfig, Losses, MocoError, MomentumEncoder, Queues, TrainModel, VisualInput};

/// Key of the identity projection.
pub const PROJECTION_KEY: &str = "embed_model.loss_evaluator.projection";

fn is_buffer(key: &str) -> bool {
    key.ends_with("running_mean")
        || key.ends_with("running_var")
        || key.ends_with("num_batches_tracked")
}

/// Where the key encoder of `backbone_key` is stored in the official layout.
pub fn key_encoder_name(backbone_key: &str) -> Option<String> {
    if let Some(rest) = backbone_key.strip_prefix("visual_model.") {
        Some(format!("embed_model.v_encoder_k.{rest}"))
    } else {
        backbone_key
            .strip_prefix("textual_model.")
            .map(|rest| format!("embed_model.t_encoder_k.{rest}"))
    }
}

/// How a training model is set up.
pub struct TrainSetup {
    pub config: ModelConfig,
    /// Identity classes (`MODEL.NUM_CLASSES`).
    pub classes: i64,
    /// MoCo queue length K.
    pub queue_size: i64,
    pub loss: LossConfig,
    pub pooling: Pooling,
}

/// A model ready to train, and its trainable tensors by name.
pub struct Trainable {
    pub model: TrainModel,
    pub params: Vec<(String, Tensor)>,
}

/// Builds the query encoders from `weights` (missing tensors are an error unless the map
/// creates them), the key encoders from `embed_model.{v,t}_encoder_k.*` when present or as
/// copies of the query, and the queues from `embed_model.{v,t,id}_queue` when present.
pub fn build(
    weights: &WeightMap,
    dictionary: &Tensor,
    setup: &TrainSetup,
    device: Device,
) -> Result<Trainable, ModelError> {
    let config = &setup.config;
    let dim = config.embedding_dim as i64;
    let dict = || WordDictionary::from_tensor(dictionary.shallow_clone());
    let query = TextReid::from_parts(weights, dict(), config.clone(), device)?;
    // The tensors the query model reads (before anything else is looked up).
    let used = weights.accessed();
    let projection = weights.get(PROJECTION_KEY, &[dim, setup.classes])?;
    let key = if config.head == HeadKind::Moco {
        let (v_prefix, t_prefix) = embed_prefixes(config.head);
        let mut key_tensors = std::collections::HashMap::new();
        let mut pairs = Vec::new();
        for name in &used {
            let q = weights.get(name, &weights.shape(name).unwrap_or_default())?;
            let shared = name.starts_with(v_prefix) || name.starts_with(t_prefix);
            let k = match key_encoder_name(name) {
                Some(stored) if weights.contains(&stored) => weights.get(&stored, &q.size())?,
                _ if shared => q.shallow_clone(),
                _ => q.detach().copy(),
            };
            if !shared && !is_buffer(name) {
                pairs.push((k.shallow_clone(), q.shallow_clone()));
            }
            key_tensors.insert(name.clone(), k);
        }
        let tensors = key_tensors
            .iter()
            .filter(|(name, _)| key_encoder_name(name).is_some())
            .map(|(name, t)| (name.clone(), t.shallow_clone()))
            .collect();
        let key_map = WeightMap::from_tensors(key_tensors, Default::default(), "key encoder");
        let model = TextReid::from_parts(&key_map, dict(), config.clone(), device)?;
        Some(MomentumEncoder {
            model,
            tensors,
            pairs,
        })
    } else {
        None
    };
    let queues = match (config.head, weights.contains("embed_model.v_queue")) {
        (HeadKind::Simple, _) => None,
        (HeadKind::Moco, true) => Some(Queues {
            image: weights.get("embed_model.v_queue", &[dim, setup.queue_size])?,
            text: weights.get("embed_model.t_queue", &[dim, setup.queue_size])?,
            ids: weights.get("embed_model.id_queue", &[1, setup.queue_size])?,
            ptr: weights
                .get("embed_model.queue_ptr", &[1])?
                .int64_value(&[0]),
        }),
        (HeadKind::Moco, false) => Some(Queues::new(dim, setup.queue_size, device)),
    };
    let mut params: Vec<(String, Tensor)> = used
        .iter()
        .filter(|k| !is_buffer(k))
        .map(|k| {
            weights
                .get(k, &weights.shape(k).unwrap_or_default())
                .map(|t| (k.clone(), t))
        })
        .collect::<Result<_, _>>()?;
    params.push((PROJECTION_KEY.to_string(), projection.shallow_clone()));
    for (_, p) in &params {
        let _ = p.set_requires_grad(true);
    }
    Ok(Trainable {
        model: TrainModel {
            query,
            key,
            projection,
            queues,
            loss: setup.loss.clone(),
            pooling: setup.pooling,
        },
        params,
    })
}
