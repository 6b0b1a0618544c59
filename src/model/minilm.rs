//! A BERT sentence encoder in the sentence-transformers layout (all-MiniLM-L6-v2 and its
//! kin): WordPiece ids → BERT → mean of the token outputs over the attention mask → L2
//! normalisation, exactly as `SentenceTransformer.encode` computes it.
//!
//! The folder holds `model.safetensors` (HF `BertModel` keys, with or without a `bert.`
//! prefix), `config.json` and `vocab.txt`; when present, `sentence_bert_config.json`
//! (maximum sequence length), `modules.json` (whether a Normalize module follows the
//! pooling), `1_Pooling/config.json` (must ask for mean pooling) and
//! `tokenizer_config.json` (must be uncased) are honoured.
//!
//! It serves as the pretrained text encoder that fills TextReID's frozen word dictionary
//! (see [`super::dictionary_builder`]).
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tch::{Device, Kind, Tensor};

use crate::model::{l2_normalize, WeightMap, WeightsError};
use crate::text::wordpiece::{WordPiece, WordPieceError};

#[derive(Debug, thiserror::Error)]
pub enum MiniLmError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error(transparent)]
    Tokenizer(#[from] WordPieceError),
    #[error("token id {id} is outside the model's {vocab} embeddings")]
    TokenId { id: i64, vocab: usize },
    #[error("{len} tokens, but the model has {max} positions")]
    TooLong { len: usize, max: usize },
    #[error("libtorch error: {0}")]
    Torch(#[from] tch::TchError),
}

/// The fields of a HF BERT `config.json` that the forward pass needs.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default)]
    pub position_embedding_type: Option<String>,
}

fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_act() -> String {
    "gelu".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activation {
    /// Exact (erf) GELU, HF's `gelu`.
    Gelu,
    /// Tanh approximation, HF's `gelu_new` / `gelu_pytorch_tanh`.
    GeluTanh,
    Relu,
}

struct Layer {
    q: (Tensor, Tensor),
    k: (Tensor, Tensor),
    v: (Tensor, Tensor),
    attn_out: (Tensor, Tensor),
    attn_ln: (Tensor, Tensor),
    inter: (Tensor, Tensor),
    out: (Tensor, Tensor),
    out_ln: (Tensor, Tensor),
}

/// A loaded sentence encoder.
pub struct MiniLm {
    config: BertConfig,
    tokenizer: WordPiece,
    word_emb: Tensor,
    pos_emb: Tensor,
    type_emb: Tensor,
    emb_ln: (Tensor, Tensor),
    layers: Vec<Layer>,
    act: Activation,
    max_seq_length: usize,
    normalize: bool,
    batch_size: usize,
    device: Device,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, MiniLmError> {
    let text = std::fs::read_to_string(path).map_err(|source| MiniLmError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| MiniLmError::Config {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
}

#[derive(Deserialize)]
struct ModuleEntry {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct TokenizerConfig {
    do_lower_case: Option<bool>,
}

impl MiniLm {
    /// Loads the encoder from a sentence-transformers folder onto `device`.
    pub fn load(dir: &Path, device: Device) -> Result<Self, MiniLmError> {
        let config_path = dir.join("config.json");
        let config: BertConfig = read_json(&config_path)?;
        let bad = |reason: String| MiniLmError::Config {
            path: config_path.clone(),
            reason,
        };
        if config.num_attention_heads == 0
            || !config
                .hidden_size
                .is_multiple_of(config.num_attention_heads)
        {
            return Err(bad(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                config.hidden_size, config.num_attention_heads
            )));
        }
        if let Some(kind) = &config.position_embedding_type {
            if kind != "absolute" {
                return Err(bad(format!(
                    "position_embedding_type `{kind}` is not supported (only `absolute`)"
                )));
            }
        }
        let act = match config.hidden_act.as_str() {
            "gelu" => Activation::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" => Activation::GeluTanh,
            "relu" => Activation::Relu,
            other => return Err(bad(format!("hidden_act `{other}` is not supported"))),
        };

        let tok_cfg = dir.join("tokenizer_config.json");
        if tok_cfg.exists() {
            let t: TokenizerConfig = read_json(&tok_cfg)?;
            if t.do_lower_case == Some(false) {
                return Err(MiniLmError::Config {
                    path: tok_cfg,
                    reason: "a cased tokenizer is not supported (only uncased WordPiece)".into(),
                });
            }
        }
        let pooling_path = dir.join("1_Pooling").join("config.json");
        if pooling_path.exists() {
            let p: PoolingConfig = read_json(&pooling_path)?;
            if !p.pooling_mode_mean_tokens
                || p.pooling_mode_cls_token
                || p.pooling_mode_max_tokens
                || p.pooling_mode_mean_sqrt_len_tokens
            {
                return Err(MiniLmError::Config {
                    path: pooling_path,
                    reason: "only mean pooling (alone) is supported".into(),
                });
            }
        }
        let modules_path = dir.join("modules.json");
        let normalize = if modules_path.exists() {
            let modules: Vec<ModuleEntry> = read_json(&modules_path)?;
            modules.iter().any(|m| m.kind.ends_with(".Normalize"))
        } else {
            true
        };
        let st_path = dir.join("sentence_bert_config.json");
        let max_seq_length = if st_path.exists() {
            read_json::<SentenceBertConfig>(&st_path)?.max_seq_length
        } else {
            None
        }
        .unwrap_or(config.max_position_embeddings)
        .min(config.max_position_embeddings);

        let tokenizer = WordPiece::load(&dir.join("vocab.txt"))?;
        let weights = WeightMap::from_safetensors(&dir.join("model.safetensors"), device)?;
        Self::from_parts(
            &weights,
            config,
            tokenizer,
            device,
            max_seq_length,
            normalize,
            act,
        )
    }

    fn from_parts(
        w: &WeightMap,
        config: BertConfig,
        tokenizer: WordPiece,
        device: Device,
        max_seq_length: usize,
        normalize: bool,
        act: Activation,
    ) -> Result<Self, MiniLmError> {
        let prefix = if w.contains("bert.embeddings.word_embeddings.weight") {
            "bert."
        } else {
            ""
        };
        let h = config.hidden_size as i64;
        let i = config.intermediate_size as i64;
        let get = |key: &str, shape: &[i64]| w.get(&format!("{prefix}{key}"), shape);
        let linear = |key: &str, out: i64, inp: i64| -> Result<(Tensor, Tensor), WeightsError> {
            Ok((
                get(&format!("{key}.weight"), &[out, inp])?,
                get(&format!("{key}.bias"), &[out])?,
            ))
        };
        let norm = |key: &str| -> Result<(Tensor, Tensor), WeightsError> {
            Ok((
                get(&format!("{key}.weight"), &[h])?,
                get(&format!("{key}.bias"), &[h])?,
            ))
        };
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            layers.push(Layer {
                q: linear(&format!("{p}.attention.self.query"), h, h)?,
                k: linear(&format!("{p}.attention.self.key"), h, h)?,
                v: linear(&format!("{p}.attention.self.value"), h, h)?,
                attn_out: linear(&format!("{p}.attention.output.dense"), h, h)?,
                attn_ln: norm(&format!("{p}.attention.output.LayerNorm"))?,
                inter: linear(&format!("{p}.intermediate.dense"), i, h)?,
                out: linear(&format!("{p}.output.dense"), h, i)?,
                out_ln: norm(&format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(Self {
            word_emb: get(
                "embeddings.word_embeddings.weight",
                &[config.vocab_size as i64, h],
            )?,
            pos_emb: get(
                "embeddings.position_embeddings.weight",
                &[config.max_position_embeddings as i64, h],
            )?,
            type_emb: get(
                "embeddings.token_type_embeddings.weight",
                &[config.type_vocab_size as i64, h],
            )?,
            emb_ln: norm("embeddings.LayerNorm")?,
            layers,
            config,
            tokenizer,
            act,
            max_seq_length,
            normalize,
            batch_size: 64,
            device,
        })
    }

    /// Width of the sentence embeddings (384 for MiniLM-L6).
    pub fn dim(&self) -> usize {
        self.config.hidden_size
    }

    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    pub fn tokenizer(&self) -> &WordPiece {
        &self.tokenizer
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// Longest input in tokens, `[CLS]` and `[SEP]` included (256 for all-MiniLM-L6-v2);
    /// longer texts are truncated, as sentence-transformers does.
    pub fn max_seq_length(&self) -> usize {
        self.max_seq_length
    }

    /// Whether the embeddings are L2-normalised (a Normalize module in `modules.json`).
    pub fn normalizes(&self) -> bool {
        self.normalize
    }

    /// Texts per forward pass in [`MiniLm::encode`] (default 64).
    pub fn set_batch_size(&mut self, batch_size: usize) {
        self.batch_size = batch_size.max(1);
    }

    /// Sentence embeddings `(N, dim)` f32 on the model's device: tokenised, truncated to
    /// [`MiniLm::max_seq_length`], run in length-sorted batches, mean-pooled over the real
    /// tokens and (as the model's modules say) L2-normalised.
    pub fn encode(&self, texts: &[&str]) -> Result<Tensor, MiniLmError> {
        let ids: Vec<Vec<i64>> = texts
            .iter()
            .map(|t| self.tokenizer.encode(t, self.max_seq_length))
            .collect();
        self.encode_ids(&ids)
    }

    /// [`MiniLm::encode`] from token ids (each with its `[CLS]`/`[SEP]`).
    pub fn encode_ids(&self, ids: &[Vec<i64>]) -> Result<Tensor, MiniLmError> {
        let dim = self.dim() as i64;
        if ids.is_empty() {
            return Ok(Tensor::zeros([0, dim], (Kind::Float, self.device)));
        }
        for seq in ids {
            if seq.len() > self.config.max_position_embeddings {
                return Err(MiniLmError::TooLong {
                    len: seq.len(),
                    max: self.config.max_position_embeddings,
                });
            }
            if let Some(&id) = seq
                .iter()
                .find(|&&id| id < 0 || id as usize >= self.config.vocab_size)
            {
                return Err(MiniLmError::TokenId {
                    id,
                    vocab: self.config.vocab_size,
                });
            }
        }
        // Longest first, like sentence-transformers, so that batches carry little padding.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
        tch::no_grad(|| {
            let mut parts = Vec::new();
            for chunk in order.chunks(self.batch_size) {
                let batch: Vec<&[i64]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
                parts.push(self.pooled(&batch)?);
            }
            let sorted = Tensor::f_cat(&parts, 0)?;
            let mut inverse = vec![0i64; order.len()];
            for (pos, &i) in order.iter().enumerate() {
                inverse[i] = pos as i64;
            }
            let inverse = Tensor::from_slice(&inverse).to_device(self.device);
            Ok(sorted.f_index_select(0, &inverse)?)
        })
    }

    /// Pooled (and normalised) embeddings of one padded batch.
    fn pooled(&self, batch: &[&[i64]]) -> Result<Tensor, MiniLmError> {
        let len = batch.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
        let n = batch.len();
        let pad = self.tokenizer.pad_id();
        let mut flat = vec![pad; n * len];
        let mut mask = vec![0f32; n * len];
        for (row, seq) in batch.iter().enumerate() {
            flat[row * len..row * len + seq.len()].copy_from_slice(seq);
            mask[row * len..row * len + seq.len()].fill(1.0);
        }
        let ids = Tensor::from_slice(&flat)
            .view([n as i64, len as i64])
            .to_device(self.device);
        let mask = Tensor::from_slice(&mask)
            .view([n as i64, len as i64])
            .to_device(self.device);
        let tokens = self.token_embeddings(&ids, &mask)?;
        // Mean over real tokens (sentence-transformers' Pooling, mode `mean`).
        let m = mask.unsqueeze(-1);
        let summed = (&tokens * &m).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
        let counts = m
            .sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
            .clamp_min(1e-9);
        let mean = summed / counts;
        Ok(if self.normalize {
            l2_normalize(&mean)
        } else {
            mean
        })
    }

    /// BERT's last hidden state `(N, L, hidden)` for ids `(N, L)` (i64) and an attention
    /// mask `(N, L)` (1 = token, 0 = padding). Call under `tch::no_grad`.
    pub fn token_embeddings(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor, MiniLmError> {
        let (n, len) = ids.size2()?;
        let h = self.config.hidden_size as i64;
        let heads = self.config.num_attention_heads as i64;
        let head_dim = h / heads;
        let eps = self.config.layer_norm_eps;
        let ln = |x: &Tensor, p: &(Tensor, Tensor)| {
            x.layer_norm([h].as_slice(), Some(&p.0), Some(&p.1), eps, false)
        };
        let lin = |x: &Tensor, p: &(Tensor, Tensor)| x.linear(&p.0, Some(&p.1));

        let positions = Tensor::arange(len, (Kind::Int64, self.device));
        let mut x = Tensor::f_embedding(&self.word_emb, ids, -1, false, false)?
            + self.pos_emb.index_select(0, &positions).unsqueeze(0)
            + self.type_emb.get(0).view([1, 1, h]);
        x = ln(&x, &self.emb_ln);

        // Additive mask as HF's `get_extended_attention_mask`: 0 for tokens, f32::MIN for pads.
        let pads: Tensor = 1.0 - mask.to_kind(Kind::Float);
        let bias = (pads * f64::from(f32::MIN)).view([n, 1, 1, len]);
        let scale = 1.0 / (head_dim as f64).sqrt();
        let split = |t: Tensor| t.view([n, len, heads, head_dim]).transpose(1, 2);
        for layer in &self.layers {
            let q = split(lin(&x, &layer.q));
            let k = split(lin(&x, &layer.k));
            let v = split(lin(&x, &layer.v));
            let scores = q.matmul(&k.transpose(-1, -2)) * scale + &bias;
            let probs = scores.softmax(-1, Kind::Float);
            let ctx = probs
                .matmul(&v)
                .transpose(1, 2)
                .contiguous()
                .view([n, len, h]);
            x = ln(&(lin(&ctx, &layer.attn_out) + &x), &layer.attn_ln);
            let inter = lin(&x, &layer.inter);
            let inter = match self.act {
                Activation::Gelu => inter.gelu("none"),
                Activation::GeluTanh => inter.gelu("tanh"),
                Activation::Relu => inter.relu(),
            };
            x = ln(&(lin(&inter, &layer.out) + &x), &layer.out_ln);
        }
        Ok(x)
    }
}
