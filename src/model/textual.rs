//! The textual stream: frozen word dictionary → 1-layer bi-GRU (no biases) → max-pool over
//! time → Linear to the joint embedding (spec §1.4, §1.5).
//!
//! The GRU is written out step by step so that each direction sees exactly the packed
//! sequence of the reference: the forward pass runs over each caption's own words, the
//! reverse pass starts at each caption's last word, padded steps output zeros.
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

use super::config::TextualConfig;
use super::weights::{WeightMap, WeightsError};

/// How the GRU outputs are pooled over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pooling {
    /// Max over the caption's own words: an embedding never depends on the rest of the batch.
    #[default]
    PerCaption,
    /// The reference's behaviour: max over the batch's padded length, zeros included, so
    /// every caption shorter than the batch's longest is clamped at 0.
    Batch,
}

impl std::str::FromStr for Pooling {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "per-caption" | "caption" => Ok(Self::PerCaption),
            "batch" | "reference" => Ok(Self::Batch),
            other => Err(format!(
                "unknown pooling `{other}` (expected per-caption or batch)"
            )),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("cannot read word dictionary {path}: {reason}")]
    Dictionary { path: PathBuf, reason: String },
    #[error(
        "word dictionary {path} has shape {shape:?}; expected a 2-d (words × {word_dim}) table"
    )]
    DictionaryShape {
        path: PathBuf,
        shape: Vec<i64>,
        word_dim: usize,
    },
    #[error("caption {index} is empty: it has no word ids")]
    EmptyCaption { index: usize },
    #[error("caption {index} has word id {id}, outside the dictionary's 0..{words}")]
    IdOutOfRange { index: usize, id: i64, words: i64 },
    #[error(transparent)]
    Weights(#[from] WeightsError),
}

/// The frozen word-vector table (`clip_vocab_vit.npy` in the reference). Row 0 is padding.
pub struct WordDictionary {
    vectors: Tensor,
}

impl WordDictionary {
    /// Reads `.npy` (float32 or float64) or `.safetensors` (the first tensor, or one named
    /// `dictionary`).
    pub fn load(path: &Path, word_dim: usize, device: Device) -> Result<Self, TextError> {
        let err = |reason: String| TextError::Dictionary {
            path: path.to_path_buf(),
            reason,
        };
        let is_safetensors = path.extension().is_some_and(|e| e == "safetensors");
        let raw = if is_safetensors {
            let map = WeightMap::from_safetensors(path, Device::Cpu)?;
            let key = if map.contains("dictionary") {
                "dictionary".to_string()
            } else {
                let mut keys: Vec<_> = map.keys().cloned().collect();
                keys.sort();
                keys.into_iter()
                    .next()
                    .ok_or_else(|| err("the file holds no tensor".into()))?
            };
            let shape = map.shape(&key).unwrap_or_default();
            map.get(&key, &shape)?
        } else {
            if !path.exists() {
                return Err(err("no such file".into()));
            }
            Tensor::read_npy(path).map_err(|e| err(e.to_string()))?
        };
        let shape = raw.size();
        if shape.len() != 2 || shape[1] != word_dim as i64 || shape[0] < 1 {
            return Err(TextError::DictionaryShape {
                path: path.to_path_buf(),
                shape,
                word_dim,
            });
        }
        if !raw.is_floating_point() {
            return Err(err(format!("dtype {:?} is not floating point", raw.kind())));
        }
        let vectors = raw
            .to_kind(Kind::Float)
            .to_device(device)
            .set_requires_grad(false);
        Ok(Self { vectors })
    }

    pub fn from_tensor(vectors: Tensor) -> Self {
        Self { vectors }
    }

    pub fn words(&self) -> i64 {
        self.vectors.size()[0]
    }

    pub fn word_dim(&self) -> i64 {
        self.vectors.size()[1]
    }

    pub fn tensor(&self) -> &Tensor {
        &self.vectors
    }
}

/// One direction of a bias-free GRU (gate rows r, z, n as in PyTorch).
struct GruDirection {
    w_ih: Tensor,
    w_hh: Tensor,
}

/// Captions ready for the GRU: ids padded with 0 to the batch's longest caption.
pub struct CaptionBatch {
    pub ids: Tensor,
    pub lengths: Vec<i64>,
}

impl CaptionBatch {
    /// Validates and pads captions; each is cut to `max_words` (as the reference dataset does).
    pub fn new(
        captions: &[Vec<i64>],
        words: i64,
        max_words: usize,
        device: Device,
    ) -> Result<Self, TextError> {
        let mut lengths = Vec::with_capacity(captions.len());
        for (index, caption) in captions.iter().enumerate() {
            if caption.is_empty() {
                return Err(TextError::EmptyCaption { index });
            }
            if let Some(&id) = caption.iter().find(|&&id| id < 0 || id >= words) {
                return Err(TextError::IdOutOfRange { index, id, words });
            }
            lengths.push(caption.len().min(max_words) as i64);
        }
        let longest = lengths.iter().copied().max().unwrap_or(0);
        let mut flat = vec![0i64; captions.len() * longest as usize];
        for (row, caption) in captions.iter().enumerate() {
            let n = lengths[row] as usize;
            flat[row * longest as usize..row * longest as usize + n].copy_from_slice(&caption[..n]);
        }
        let ids = Tensor::from_slice(&flat)
            .view([captions.len() as i64, longest])
            .to_device(device);
        Ok(Self { ids, lengths })
    }
}

/// Word dictionary + bi-GRU + max-pool + Linear.
pub struct BiGruEncoder {
    dictionary: WordDictionary,
    forward_dir: GruDirection,
    backward_dir: GruDirection,
    embed_w: Tensor,
    embed_b: Tensor,
    config: TextualConfig,
}

/// GRU outputs and the pooled vector, for parity checks.
pub struct TextStages {
    /// (B, L_max, 2H): `[forward | backward]`, zeros at padded steps.
    pub gru_out: Tensor,
    /// (B, 2H)
    pub pooled: Tensor,
    /// (B, D) raw embedding.
    pub embedding: Tensor,
}

impl BiGruEncoder {
    pub fn load(
        w: &WeightMap,
        dictionary: WordDictionary,
        config: &TextualConfig,
        embed_prefix: &str,
        embedding_dim: usize,
    ) -> Result<Self, TextError> {
        let h = config.hidden as i64;
        let d = config.word_dim as i64;
        let p = "textual_model.gru";
        let direction = |suffix: &str| -> Result<GruDirection, WeightsError> {
            Ok(GruDirection {
                w_ih: w.get(&format!("{p}.weight_ih_l0{suffix}"), &[3 * h, d])?,
                w_hh: w.get(&format!("{p}.weight_hh_l0{suffix}"), &[3 * h, h])?,
            })
        };
        let dim = embedding_dim as i64;
        Ok(Self {
            dictionary,
            forward_dir: direction("")?,
            backward_dir: direction("_reverse")?,
            embed_w: w.get(&format!("{embed_prefix}.weight"), &[dim, 2 * h])?,
            embed_b: w.get(&format!("{embed_prefix}.bias"), &[dim])?,
            config: config.clone(),
        })
    }

    pub fn config(&self) -> &TextualConfig {
        &self.config
    }

    pub fn dictionary(&self) -> &WordDictionary {
        &self.dictionary
    }

    pub fn batch(&self, captions: &[Vec<i64>]) -> Result<CaptionBatch, TextError> {
        CaptionBatch::new(
            captions,
            self.dictionary.words(),
            self.config.max_words,
            self.dictionary.tensor().device(),
        )
    }

    /// Runs one direction over all steps. `reverse` walks from the last padded step down,
    /// holding the state at zero until each caption's own last word.
    fn run_direction(dir: &GruDirection, inputs: &Tensor, mask: &Tensor, reverse: bool) -> Tensor {
        let (_, steps, _) = inputs.size3().expect("inputs are (B, L, D)");
        let gates_x = inputs.matmul(&dir.w_ih.tr()); // (B, L, 3H)
        let w_hh_t = dir.w_hh.tr();
        let hidden = dir.w_hh.size()[1];
        let batch = inputs.size()[0];
        let mut h = Tensor::zeros([batch, hidden], (Kind::Float, inputs.device()));
        let mut outputs: Vec<Tensor> = Vec::with_capacity(steps as usize);
        let order: Vec<i64> = if reverse {
            (0..steps).rev().collect()
        } else {
            (0..steps).collect()
        };
        for t in order {
            let gx = gates_x.select(1, t);
            let gh = h.matmul(&w_hh_t);
            let gx = gx.chunk(3, 1);
            let gh = gh.chunk(3, 1);
            let r = (&gx[0] + &gh[0]).sigmoid();
            let z = (&gx[1] + &gh[1]).sigmoid();
            let n = (&gx[2] + &r * &gh[2]).tanh();
            let h_new: Tensor = (1.0 - &z) * n + &z * &h;
            let m = mask.select(1, t).unsqueeze(1);
            let out: Tensor = h_new * &m;
            // The state is masked too: in the reverse pass it stays zero until each
            // caption's own last word; in the forward pass steps after the end are unused.
            h = out.shallow_clone();
            outputs.push(out);
        }
        if reverse {
            outputs.reverse();
        }
        Tensor::stack(&outputs, 1)
    }

    /// Every stage for a batch of captions.
    pub fn forward_stages(&self, batch: &CaptionBatch, pooling: Pooling) -> TextStages {
        let inputs = self
            .dictionary
            .tensor()
            .index_select(0, &batch.ids.flatten(0, 1));
        let (b, l) = (batch.ids.size()[0], batch.ids.size()[1]);
        let inputs = inputs.view([b, l, self.dictionary.word_dim()]);
        let device = inputs.device();
        let lengths = Tensor::from_slice(&batch.lengths).to_device(device);
        let steps = Tensor::arange(l, (Kind::Int64, device));
        let mask = steps.unsqueeze(0).lt_tensor(&lengths.unsqueeze(1)); // (B, L) bool
        let mask_f = mask.to_kind(Kind::Float);
        let fwd = Self::run_direction(&self.forward_dir, &inputs, &mask_f, false);
        let bwd = Self::run_direction(&self.backward_dir, &inputs, &mask_f, true);
        let gru_out = Tensor::cat(&[fwd, bwd], 2);
        let pooled = match pooling {
            Pooling::Batch => gru_out.amax([1i64].as_slice(), false),
            Pooling::PerCaption => gru_out
                .masked_fill(&mask.logical_not().unsqueeze(2), f64::NEG_INFINITY)
                .amax([1i64].as_slice(), false),
        };
        let embedding = pooled.linear(&self.embed_w, Some(&self.embed_b));
        TextStages {
            gru_out,
            pooled,
            embedding,
        }
    }

    /// Raw (unnormalised) embeddings, `(B, D)`.
    pub fn forward(&self, captions: &[Vec<i64>], pooling: Pooling) -> Result<Tensor, TextError> {
        let batch = self.batch(captions)?;
        Ok(self.forward_stages(&batch, pooling).embedding)
    }
}
