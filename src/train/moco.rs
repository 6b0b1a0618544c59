//! Cross-modal momentum contrast (CM-MoCo, spec §2.3–2.4) and the simple head.
//!
//! One training forward: query embeddings from the trained encoders; with no gradient,
//! the key encoders move towards the query encoders (m = 0.999) and embed the same inputs
//! (through the *query's* projection layers, as the reference does); image queries are
//! contrasted with the text key of their own pair against the text queue and vice versa,
//! queue columns of any identity in the batch left out. Plus the label-smoothed identity
//! loss and the alignment loss. The simple head ("without CM-MoCo") keeps the last two.
use tch::{Kind, Reduction, Tensor};

use crate::model::{l2_normalize, Pooling, TextReid};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LossConfig {
    /// InfoNCE temperature (fixed in the reference).
    pub temperature: f64,
    /// Key-encoder momentum.
    pub momentum: f64,
    /// Label smoothing of the identity loss.
    pub label_smoothing: f64,
    /// Alignment loss: positive / negative margins and scales.
    pub align_alpha: f64,
    pub align_beta: f64,
    pub align_scale_pos: f64,
    pub align_scale_neg: f64,
}

impl Default for LossConfig {
    fn default() -> Self {
        Self {
            temperature: 0.07,
            momentum: 0.999,
            label_smoothing: 0.1,
            align_alpha: 0.6,
            align_beta: 0.4,
            align_scale_pos: 10.0,
            align_scale_neg: 40.0,
        }
    }
}

/// Image, text and identity queues of the MoCo head.
pub struct Queues {
    /// (D, K) L2-normalised image keys.
    pub image: Tensor,
    /// (D, K) L2-normalised text keys.
    pub text: Tensor,
    /// (1, K) identities, -1 where empty.
    pub ids: Tensor,
    pub ptr: i64,
}

impl Queues {
    /// Fresh queues as the reference makes them: random non-negative unit columns, ids -1.
    pub fn new(dim: i64, size: i64, device: tch::Device) -> Self {
        let opts = (Kind::Float, device);
        let unit = |t: Tensor| &t / t.norm_scalaropt_dim(2, [0i64].as_slice(), true);
        Self {
            image: unit(Tensor::rand([dim, size], opts)),
            text: unit(Tensor::rand([dim, size], opts)),
            ids: Tensor::full([1, size], -1, (Kind::Int64, device)),
            ptr: 0,
        }
    }

    pub fn len(&self) -> i64 {
        self.ids.size()[1]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the visual encoders see in a training step.
pub enum VisualInput<'a> {
    /// Normalised images: the whole visual stream runs (BatchNorm in train mode).
    Images(&'a Tensor),
    /// Feature maps of a frozen trunk, computed beforehand: only the attention pool and
    /// the projection run.
    TrunkFeatures(&'a Tensor),
}

impl VisualInput<'_> {
    fn embed(&self, model: &TextReid) -> Tensor {
        match self {
            Self::Images(x) => model.visual.forward_t(x, true),
            Self::TrunkFeatures(f) => model.visual.head(f),
        }
    }
}

/// The losses of one forward.
pub struct Losses {
    pub instance: Tensor,
    pub infonce: Option<Tensor>,
    pub align: Tensor,
}

impl Losses {
    pub fn total(&self) -> Tensor {
        match &self.infonce {
            Some(nce) => &self.instance + nce + &self.align,
            None => &self.instance + &self.align,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MocoError {
    #[error("the queue size {queue} is not a multiple of the batch size {batch} (the reference asserts it)")]
    QueueBatch { queue: i64, batch: i64 },
    #[error("identity {id} is outside the {classes} classes of the identity projection")]
    Identity { id: i64, classes: i64 },
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
}

/// A key encoder and the (key, query) tensor pairs of its momentum update.
pub struct MomentumEncoder {
    pub model: TextReid,
    /// Every tensor of the key encoder under its backbone name (`visual_model.…`), for
    /// checkpoints (stored as `embed_model.{v,t}_encoder_k.…`).
    pub tensors: Vec<(String, Tensor)>,
    /// (key tensor, query tensor): backbone parameters only, not the projections
    /// (shared with the query) and not BatchNorm running statistics (the reference moves
    /// `parameters()` only).
    pub pairs: Vec<(Tensor, Tensor)>,
}

/// Everything a training forward needs.
pub struct TrainModel {
    pub query: TextReid,
    pub key: Option<MomentumEncoder>,
    /// (D, classes) identity projection (`embed_model.loss_evaluator.projection`).
    pub projection: Tensor,
    pub queues: Option<Queues>,
    pub loss: LossConfig,
    pub pooling: Pooling,
}

/// Cross-entropy against `targets` with label smoothing ε: mean over the batch of
/// Σ_c −((1−ε)·onehot + ε/C)·log_softmax.
fn smoothed_cross_entropy(logits: &Tensor, targets: &Tensor, epsilon: f64) -> Tensor {
    let classes = logits.size()[1];
    let log_probs = logits.log_softmax(1, Kind::Float);
    let onehot = log_probs
        .zeros_like()
        .scatter_value(1, &targets.unsqueeze(1), 1.0);
    let smoothed = onehot * (1.0 - epsilon) + epsilon / classes as f64;
    (-smoothed * log_probs)
        .sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
        .mean(Kind::Float)
}

impl TrainModel {
    /// Identity loss: both modalities' raw embeddings against the column-normalised projection.
    fn instance_loss(&self, v: &Tensor, t: &Tensor, ids: &Tensor) -> Tensor {
        let w = l2_normalize(&self.projection.tr()).tr();
        let eps = self.loss.label_smoothing;
        smoothed_cross_entropy(&v.matmul(&w), ids, eps)
            + smoothed_cross_entropy(&t.matmul(&w), ids, eps)
    }

    /// Alignment loss over every (image, text) pair of the batch; same identity = positive.
    fn align_loss(&self, v_norm: &Tensor, t_norm: &Tensor, ids: &Tensor) -> Tensor {
        let c = &self.loss;
        let sim = v_norm.matmul(&t_norm.tr());
        let positive = ids
            .unsqueeze(1)
            .eq_tensor(&ids.unsqueeze(0))
            .to_kind(Kind::Float);
        let negative = 1.0 - &positive;
        let pos: Tensor =
            (((&sim - c.align_alpha) * -c.align_scale_pos).exp() + 1.0).log() * positive;
        let neg: Tensor =
            (((&sim - c.align_beta) * c.align_scale_neg).exp() + 1.0).log() * negative;
        let batch = ids.size()[0] as f64;
        (pos.sum(Kind::Float) + neg.sum(Kind::Float)) * 2.0 / batch
    }

    /// Moves every key tensor towards its query tensor: k ← m·k + (1 − m)·q.
    pub fn momentum_update(&self) {
        let Some(key) = &self.key else { return };
        let m = self.loss.momentum;
        tch::no_grad(|| {
            for (k, q) in &key.pairs {
                let mut k = k.shallow_clone();
                let _ = k.g_mul_scalar_(m).g_add_(&(q.detach() * (1.0 - m)));
            }
        });
    }

    /// One training forward (BatchNorm in train mode); with the MoCo head it also updates
    /// the key encoders and the queues. `ids` are the identities (B,) as i64.
    pub fn forward(
        &mut self,
        images: &Tensor,
        captions: &[Vec<i64>],
        ids: &Tensor,
    ) -> Result<Losses, MocoError> {
        self.forward_input(&VisualInput::Images(images), captions, ids)
    }

    /// [`Self::forward`] for either images or precomputed trunk features.
    pub fn forward_input(
        &mut self,
        images: &VisualInput,
        captions: &[Vec<i64>],
        ids: &Tensor,
    ) -> Result<Losses, MocoError> {
        let classes = self.projection.size()[1];
        let ids_vec = Vec::<i64>::try_from(ids).unwrap_or_default();
        if let Some(&id) = ids_vec.iter().find(|&&id| id < 0 || id >= classes) {
            return Err(MocoError::Identity { id, classes });
        }
        let batch = self
            .query
            .textual
            .batch(captions)
            .map_err(crate::model::ModelError::from)?;
        let v = images.embed(&self.query);
        let t = self
            .query
            .textual
            .forward_stages(&batch, self.pooling)
            .embedding;
        let v_q = l2_normalize(&v);
        let t_q = l2_normalize(&t);
        let instance = self.instance_loss(&v, &t, ids);
        let align = self.align_loss(&v_q, &t_q, ids);
        let infonce = match (&self.key, &self.queues) {
            (Some(_), Some(_)) => Some(self.contrast(images, &batch, &v_q, &t_q, ids)?),
            _ => None,
        };
        Ok(Losses {
            instance,
            infonce,
            align,
        })
    }

    fn contrast(
        &mut self,
        images: &VisualInput,
        batch: &crate::model::textual::CaptionBatch,
        v_q: &Tensor,
        t_q: &Tensor,
        ids: &Tensor,
    ) -> Result<Tensor, MocoError> {
        self.momentum_update();
        let (Some(key), Some(queues)) = (&self.key, &mut self.queues) else {
            unreachable!("checked by the caller")
        };
        let b = ids.size()[0];
        let size = queues.len();
        if size % b != 0 {
            return Err(MocoError::QueueBatch {
                queue: size,
                batch: b,
            });
        }
        let (v_k, t_k) = tch::no_grad(|| {
            let v_k = l2_normalize(&images.embed(&key.model));
            let t_k = l2_normalize(
                &key.model
                    .textual
                    .forward_stages(batch, self.pooling)
                    .embedding,
            );
            (v_k, t_k)
        });
        // Queue columns of an identity present in the batch are not negatives.
        let in_batch = queues.ids.eq_tensor(&ids.unsqueeze(1)).any_dim(0, false); // (K,)
        let neg_idx = in_batch.logical_not().nonzero().squeeze_dim(1);
        let t = self.loss.temperature;
        let targets = Tensor::zeros([b], (Kind::Int64, v_q.device()));
        let nce = |q: &Tensor, k: &Tensor, queue: &Tensor| {
            let l_pos = (q * k).sum_dim_intlist([1i64].as_slice(), true, Kind::Float);
            let l_neg = q.matmul(&queue.index_select(1, &neg_idx));
            let logits = Tensor::cat(&[l_pos, l_neg], 1) / t;
            logits.cross_entropy_loss::<Tensor>(&targets, None, Reduction::Mean, -100, 0.0)
        };
        let loss = nce(v_q, &t_k, &queues.text) + nce(t_q, &v_k, &queues.image);
        tch::no_grad(|| {
            let ptr = queues.ptr;
            queues.image.narrow(1, ptr, b).copy_(&v_k.tr());
            queues.text.narrow(1, ptr, b).copy_(&t_k.tr());
            queues.ids.narrow(1, ptr, b).copy_(&ids.unsqueeze(0));
            queues.ptr = (ptr + b) % size;
        });
        Ok(loss)
    }
}
