//! CLIP's text tower (OpenAI `clip/model.py`, `CLIP.encode_text`) as a [`WordEncoder`]:
//! the encoder the TextReID paper used to fill its frozen word dictionary.
//!
//! `token_embedding + positional_embedding` → `layers` pre-LN residual attention blocks
//! (causal mask, `heads` heads, QuickGELU MLP 4×) → `ln_final` → the output at the
//! `<|endoftext|>` position (argmax of the ids) → `@ text_projection`. Not normalised.
//!
//! Weights are a safetensors file with OpenAI's state-dict key names
//! (`token_embedding.weight`, `positional_embedding`, `transformer.resblocks.{i}.…`,
//! `ln_final.*`, `text_projection`), optionally under a prefix; the full CLIP state dict
//! works as it is (its text keys have no prefix; the `visual.*` keys are ignored). Sizes
//! come from the shapes: width from `token_embedding.weight`, layers from the key count,
//! context length from `positional_embedding`, heads = width / 64 (as in OpenAI's
//! `build_model`).
//!
//! Lookout's reader does not read TorchScript archives; convert OpenAI's `ViT-B-32.pt`
//! once with torch:
//!
//! ```text
//! python -c 'import torch, safetensors.torch as st; st.save_file({k: v.float().contiguous() for k, v in torch.jit.load("ViT-B-32.pt", map_location="cpu").state_dict().items()}, "clip.safetensors")'
//! ```
//!
//! Each batch is run only as long as its longest `[SOT] word [EOT]` sequence instead of
//! padded to 77: with the causal mask the EOT output never sees later positions, so the
//! result is the same as the reference's up to float rounding.
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

use crate::model::dictionary_builder::{BoxError, WordEncoder};
use crate::model::{WeightMap, WeightsError};
use crate::text::clip_bpe::{ClipBpe, ClipBpeError};

#[derive(Debug, thiserror::Error)]
pub enum ClipTextError {
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error(transparent)]
    Tokenizer(#[from] ClipBpeError),
    #[error("{source_name}: {reason}")]
    Config { source_name: String, reason: String },
    #[error("token id {id} is outside the model's {vocab} embeddings")]
    TokenId { id: i64, vocab: usize },
    #[error("{len} tokens, but the model has {max} positions")]
    TooLong { len: usize, max: usize },
    #[error("cannot encode words: no BPE tokenizer was given to the CLIP text tower")]
    NoTokenizer,
    #[error("libtorch error: {0}")]
    Torch(#[from] tch::TchError),
}

/// The sizes of a CLIP text tower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClipTextConfig {
    pub vocab_size: usize,
    pub width: usize,
    pub layers: usize,
    pub heads: usize,
    pub context_length: usize,
    pub embed_dim: usize,
}

struct Block {
    ln_1: (Tensor, Tensor),
    ln_2: (Tensor, Tensor),
    in_proj_w: Tensor,
    in_proj_b: Tensor,
    out_proj_w: Tensor,
    out_proj_b: Tensor,
    c_fc_w: Tensor,
    c_fc_b: Tensor,
    c_proj_w: Tensor,
    c_proj_b: Tensor,
}

/// The loaded text tower (plus, optionally, its tokenizer).
pub struct ClipText {
    config: ClipTextConfig,
    token_embedding: Tensor,
    positional_embedding: Tensor,
    blocks: Vec<Block>,
    ln_final: (Tensor, Tensor),
    text_projection: Tensor,
    tokenizer: Option<ClipBpe>,
    device: Device,
    batch_size: usize,
}

const LN_EPS: f64 = 1e-5;

fn layer_norm(x: &Tensor, (w, b): &(Tensor, Tensor)) -> Tensor {
    let width = w.size()[0];
    x.layer_norm([width].as_slice(), Some(w), Some(b), LN_EPS, false)
}

impl ClipText {
    /// Reads the text tower from a safetensors file; `prefix` (e.g. `"text."`, or `""`)
    /// is put before every key. `bpe` is the merges file for [`WordEncoder`] use.
    pub fn load(
        weights: &Path,
        prefix: &str,
        bpe: Option<&Path>,
        device: Device,
    ) -> Result<Self, ClipTextError> {
        let map = WeightMap::from_safetensors(weights, device)?;
        let tokenizer = bpe.map(ClipBpe::load).transpose()?;
        Self::from_weights(&map, prefix, None, tokenizer, device)
    }

    /// Infers the sizes of the tower under `prefix` in `w`; `heads` overrides width / 64.
    pub fn infer_config(
        w: &WeightMap,
        prefix: &str,
        heads: Option<usize>,
    ) -> Result<ClipTextConfig, ClipTextError> {
        let cfg_err = |reason: String| ClipTextError::Config {
            source_name: w.source_name().to_string(),
            reason,
        };
        let shape = |key: &str| {
            w.shape(&format!("{prefix}{key}")).ok_or_else(|| {
                cfg_err(format!(
                    "tensor `{prefix}{key}` is missing; is this a CLIP state dict (prefix `{prefix}`)?"
                ))
            })
        };
        let tok = shape("token_embedding.weight")?;
        let pos = shape("positional_embedding")?;
        let proj = shape("text_projection")?;
        if tok.len() != 2 || pos.len() != 2 || proj.len() != 2 {
            return Err(cfg_err(
                "token_embedding.weight, positional_embedding and text_projection must be 2-D"
                    .into(),
            ));
        }
        let width = tok[1] as usize;
        let mut layers = 0;
        while w.contains(&format!(
            "{prefix}transformer.resblocks.{layers}.attn.in_proj_weight"
        )) {
            layers += 1;
        }
        if layers == 0 {
            return Err(cfg_err(format!(
                "no `{prefix}transformer.resblocks.0.attn.in_proj_weight`"
            )));
        }
        let heads = heads.unwrap_or((width / 64).max(1));
        if heads == 0 || !width.is_multiple_of(heads) {
            return Err(cfg_err(format!(
                "width {width} is not divisible by {heads} heads"
            )));
        }
        Ok(ClipTextConfig {
            vocab_size: tok[0] as usize,
            width,
            layers,
            heads,
            context_length: pos[0] as usize,
            embed_dim: proj[1] as usize,
        })
    }

    /// Builds the tower from a weight map (tensors moved to `device`, f32).
    pub fn from_weights(
        w: &WeightMap,
        prefix: &str,
        heads: Option<usize>,
        tokenizer: Option<ClipBpe>,
        device: Device,
    ) -> Result<Self, ClipTextError> {
        let config = Self::infer_config(w, prefix, heads)?;
        let (wd, ctx, e) = (
            config.width as i64,
            config.context_length as i64,
            config.embed_dim as i64,
        );
        let get = |key: &str, shape: &[i64]| -> Result<Tensor, ClipTextError> {
            Ok(w.get(&format!("{prefix}{key}"), shape)?
                .to_kind(Kind::Float)
                .to_device(device))
        };
        let ln = |key: &str| -> Result<(Tensor, Tensor), ClipTextError> {
            Ok((
                get(&format!("{key}.weight"), &[wd])?,
                get(&format!("{key}.bias"), &[wd])?,
            ))
        };
        let mut blocks = Vec::with_capacity(config.layers);
        for i in 0..config.layers {
            let p = format!("transformer.resblocks.{i}");
            blocks.push(Block {
                ln_1: ln(&format!("{p}.ln_1"))?,
                ln_2: ln(&format!("{p}.ln_2"))?,
                in_proj_w: get(&format!("{p}.attn.in_proj_weight"), &[3 * wd, wd])?,
                in_proj_b: get(&format!("{p}.attn.in_proj_bias"), &[3 * wd])?,
                out_proj_w: get(&format!("{p}.attn.out_proj.weight"), &[wd, wd])?,
                out_proj_b: get(&format!("{p}.attn.out_proj.bias"), &[wd])?,
                c_fc_w: get(&format!("{p}.mlp.c_fc.weight"), &[4 * wd, wd])?,
                c_fc_b: get(&format!("{p}.mlp.c_fc.bias"), &[4 * wd])?,
                c_proj_w: get(&format!("{p}.mlp.c_proj.weight"), &[wd, 4 * wd])?,
                c_proj_b: get(&format!("{p}.mlp.c_proj.bias"), &[wd])?,
            });
        }
        Ok(Self {
            token_embedding: get("token_embedding.weight", &[config.vocab_size as i64, wd])?,
            positional_embedding: get("positional_embedding", &[ctx, wd])?,
            blocks,
            ln_final: ln("ln_final")?,
            text_projection: get("text_projection", &[wd, e])?,
            config,
            tokenizer,
            device,
            batch_size: 256,
        })
    }

    pub fn config(&self) -> &ClipTextConfig {
        &self.config
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn tokenizer(&self) -> Option<&ClipBpe> {
        self.tokenizer.as_ref()
    }

    pub fn set_tokenizer(&mut self, tokenizer: ClipBpe) {
        self.tokenizer = Some(tokenizer);
    }

    /// Texts per forward pass inside [`ClipText::encode`].
    pub fn set_batch_size(&mut self, batch_size: usize) {
        self.batch_size = batch_size.max(1);
    }

    /// `encode_text` of each text (`[SOT] BPE(text) [EOT]`), `(N, embed_dim)` f32 on the
    /// model's device.
    pub fn encode(&self, texts: &[&str]) -> Result<Tensor, ClipTextError> {
        let tok = self.tokenizer.as_ref().ok_or(ClipTextError::NoTokenizer)?;
        let ids = texts
            .iter()
            .map(|t| tok.tokenize(t, self.config.context_length))
            .collect::<Result<Vec<_>, _>>()?;
        self.encode_ids(&ids)
    }

    /// `encode_text` of token sequences (each with its SOT/EOT; trailing zero padding
    /// allowed), batched by [`ClipText::set_batch_size`].
    pub fn encode_ids(&self, ids: &[Vec<i64>]) -> Result<Tensor, ClipTextError> {
        if ids.is_empty() {
            return Ok(Tensor::zeros(
                [0, self.config.embed_dim as i64],
                (Kind::Float, self.device),
            ));
        }
        tch::no_grad(|| {
            let mut parts = Vec::new();
            for chunk in ids.chunks(self.batch_size) {
                parts.push(self.encode_batch(chunk)?);
            }
            Ok(Tensor::cat(&parts, 0))
        })
    }

    fn encode_batch(&self, ids: &[Vec<i64>]) -> Result<Tensor, ClipTextError> {
        // Everything after the last non-zero id (the EOT) is padding the causal mask
        // hides from the EOT output; drop it.
        let len = ids
            .iter()
            .map(|s| s.iter().rposition(|&t| t != 0).map_or(1, |p| p + 1))
            .max()
            .unwrap_or(1);
        if len > self.config.context_length {
            return Err(ClipTextError::TooLong {
                len,
                max: self.config.context_length,
            });
        }
        let mut flat = Vec::with_capacity(ids.len() * len);
        for seq in ids {
            for j in 0..len {
                let t = seq.get(j).copied().unwrap_or(0);
                if t < 0 || t as usize >= self.config.vocab_size {
                    return Err(ClipTextError::TokenId {
                        id: t,
                        vocab: self.config.vocab_size,
                    });
                }
                flat.push(t);
            }
        }
        let tokens = Tensor::from_slice(&flat)
            .view([ids.len() as i64, len as i64])
            .to_device(self.device);
        Ok(self.forward(&tokens))
    }

    /// `CLIP.encode_text` on `(N, L)` int64 ids, `L ≤ context_length`. The EOT position
    /// is the argmax of each row, as in the reference (EOT has the largest id).
    pub fn forward(&self, tokens: &Tensor) -> Tensor {
        let (n, l) = (tokens.size()[0], tokens.size()[1]);
        let w = self.config.width as i64;
        let h = self.config.heads as i64;
        let d = w / h;
        let mut x = self
            .token_embedding
            .index_select(0, &tokens.view([-1]))
            .view([n, l, w])
            + self.positional_embedding.narrow(0, 0, l);
        let mask = Tensor::full([l, l], f64::NEG_INFINITY, (Kind::Float, self.device)).triu(1);
        let scale = (d as f64).powf(-0.5);
        for b in &self.blocks {
            let y = layer_norm(&x, &b.ln_1);
            let qkv = y.linear(&b.in_proj_w, Some(&b.in_proj_b));
            let heads = |t: &Tensor| t.view([n, l, h, d]).permute([0, 2, 1, 3]);
            let q = heads(&qkv.narrow(2, 0, w)) * scale;
            let k = heads(&qkv.narrow(2, w, w));
            let v = heads(&qkv.narrow(2, 2 * w, w));
            let att = (q.matmul(&k.transpose(-2, -1)) + &mask).softmax(-1, Kind::Float);
            let o = att
                .matmul(&v)
                .permute([0, 2, 1, 3])
                .contiguous()
                .view([n, l, w])
                .linear(&b.out_proj_w, Some(&b.out_proj_b));
            x += o;
            let y = layer_norm(&x, &b.ln_2).linear(&b.c_fc_w, Some(&b.c_fc_b));
            let y = &y * (&y * 1.702).sigmoid();
            x += y.linear(&b.c_proj_w, Some(&b.c_proj_b));
        }
        let x = layer_norm(&x, &self.ln_final);
        let eot = tokens.argmax(-1, false);
        let rows = Tensor::arange(n, (Kind::Int64, self.device));
        let picked = x.index(&[Some(rows), Some(eot)]);
        picked.matmul(&self.text_projection)
    }
}

impl WordEncoder for ClipText {
    /// `encode_text(clip.tokenize(word))` of each word alone: the EOT output after
    /// `ln_final` and `text_projection`, not normalised (as TextReID's dictionary).
    fn encode_words(&self, words: &[&str]) -> Result<Tensor, BoxError> {
        self.encode(words).map_err(|e| Box::new(e) as BoxError)
    }

    fn dim(&self) -> usize {
        self.config.embed_dim
    }
}

/// Where a CLIP BPE merges file is looked for when none is named: beside the weights.
pub fn default_bpe_path(weights: &Path) -> PathBuf {
    weights.with_file_name("bpe_simple_vocab_16e6.txt.gz")
}
