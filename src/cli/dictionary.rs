//! `lookout build-dictionary`: a frozen word dictionary (`.npy`) from a vocabulary and a
//! pretrained text encoder: MiniLM (default) or, with `--encoder-kind clip`, CLIP's text
//! tower as the TextReID paper used (see `lookout::model::clip_text`).
//!
//! CLIP weights are a safetensors file of OpenAI's state dict. Lookout does not read
//! TorchScript archives, so convert OpenAI's `ViT-B-32.pt` once with torch:
//!
//! ```text
//! python -c 'import torch, safetensors.torch as st; st.save_file({k: v.float().contiguous() for k, v in torch.jit.load("ViT-B-32.pt", map_location="cpu").state_dict().items()}, "clip.safetensors")'
//! ```
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use serde_json::json;

use lookout::device::{device_name, DeviceChoice};
use lookout::model::clip_text::{default_bpe_path, ClipText};
use lookout::model::dictionary_builder::{
    build_word_dictionary, read_vocab_entries, write_npy, WordEncoder,
};
use lookout::model::minilm::MiniLm;

/// Which pretrained text encoder `--encoder` holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EncoderKind {
    /// A sentence-transformers MiniLM folder (mean-pooled, L2-normalised, 384 wide).
    Minilm,
    /// OpenAI CLIP's text tower (EOT output after ln_final @ text_projection, not
    /// normalised; 512 wide for ViT-B/32), as the TextReID paper built its dictionary.
    Clip,
}

#[derive(Args)]
pub struct BuildDictionaryArgs {
    /// Vocabulary file (JSON word→id, or one word per line).
    #[arg(long)]
    vocab: PathBuf,
    /// Text encoder. minilm: a folder in the sentence-transformers layout
    /// (model.safetensors, config.json, vocab.txt), e.g. models/minilm/all-MiniLM-L6-v2
    /// after models/minilm/prepare.sh. clip: a safetensors file of OpenAI CLIP's state
    /// dict; convert `ViT-B-32.pt` once with
    /// `python -c 'import torch, safetensors.torch as st; st.save_file({k: v.float().contiguous() for k, v in torch.jit.load("ViT-B-32.pt", map_location="cpu").state_dict().items()}, "clip.safetensors")'`.
    #[arg(long)]
    encoder: PathBuf,
    /// Kind of text encoder in --encoder.
    #[arg(long, value_enum, default_value_t = EncoderKind::Minilm)]
    encoder_kind: EncoderKind,
    /// CLIP only: the BPE merges file bpe_simple_vocab_16e6.txt.gz (gzip or unpacked; it
    /// ships in the openai-clip / open_clip_torch wheels). Default: that name beside
    /// --encoder.
    #[arg(long)]
    bpe: Option<PathBuf>,
    /// CLIP only: prefix of the text tower's keys in --encoder (none in OpenAI's state
    /// dict).
    #[arg(long, default_value = "")]
    clip_prefix: String,
    /// Output dictionary (.npy, float32, one row per word id, row 0 zeros).
    #[arg(long)]
    out: PathBuf,
    /// Where to run: auto (CUDA when present), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// Words per forward pass.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Standardise every dimension over the vocabulary's words (mean 0, variance 1).
    #[arg(long)]
    standardize: bool,
}

pub fn build_dictionary(args: BuildDictionaryArgs) -> anyhow::Result<()> {
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            bail!("the folder of --out ({}) does not exist", parent.display());
        }
    }
    if args.encoder_kind == EncoderKind::Minilm && args.bpe.is_some() {
        bail!("--bpe is for --encoder-kind clip");
    }
    let device = args.device.resolve()?;
    let entries = read_vocab_entries(&args.vocab)?;
    let loaded = match args.encoder_kind {
        EncoderKind::Minilm => {
            let mut encoder = MiniLm::load(&args.encoder, device)
                .with_context(|| format!("loading text encoder {}", args.encoder.display()))?;
            encoder.set_batch_size(args.batch_size);
            Loaded::Minilm(encoder)
        }
        EncoderKind::Clip => {
            let bpe = args
                .bpe
                .clone()
                .unwrap_or_else(|| default_bpe_path(&args.encoder));
            if !bpe.is_file() {
                bail!(
                    "CLIP's BPE merges file {} does not exist; give it with --bpe",
                    bpe.display()
                );
            }
            let mut encoder = ClipText::load(&args.encoder, &args.clip_prefix, Some(&bpe), device)
                .with_context(|| format!("loading CLIP text tower {}", args.encoder.display()))?;
            encoder.set_batch_size(args.batch_size);
            Loaded::Clip(encoder, bpe)
        }
    };
    let encoder: &dyn WordEncoder = match &loaded {
        Loaded::Minilm(e) => e,
        Loaded::Clip(e, _) => e,
    };
    let start = Instant::now();
    let mut last_shown = Instant::now();
    let mut stderr = std::io::stderr();
    let dictionary =
        build_word_dictionary(encoder, &entries, args.batch_size, &mut |done, total| {
            if done == total || last_shown.elapsed().as_millis() >= 500 {
                last_shown = Instant::now();
                let _ = write!(stderr, "\rencoding words: {done}/{total}");
                if done == total {
                    let _ = writeln!(stderr);
                }
            }
        })
        .context("building the word dictionary")?;
    let seconds = start.elapsed().as_secs_f64();
    let dictionary = if args.standardize {
        lookout::model::dictionary_builder::standardize(&dictionary)
    } else {
        dictionary
    };
    write_npy(&dictionary, &args.out)?;
    let size = dictionary.size();
    let rows = size[0];
    let without_word = rows - 1 - entries.len() as i64;
    eprintln!(
        "wrote {} ({} rows × {}, {} words in {:.2} s{})",
        args.out.display(),
        rows,
        size[1],
        entries.len(),
        seconds,
        if without_word > 0 {
            format!("; {without_word} ids without a word are zeros")
        } else {
            String::new()
        }
    );
    let mut summary = json!({
        "out": args.out.display().to_string(),
        "rows": rows,
        "dim": size[1],
        "words": entries.len(),
        "ids_without_word": without_word,
        "encoder": args.encoder.display().to_string(),
        "device": device_name(device),
        "seconds": seconds,
    });
    match &loaded {
        Loaded::Minilm(e) => {
            summary["max_seq_length"] = json!(e.max_seq_length());
        }
        Loaded::Clip(e, bpe) => {
            let c = e.config();
            summary["encoder_kind"] = json!("clip");
            summary["bpe"] = json!(bpe.display().to_string());
            summary["context_length"] = json!(c.context_length);
            summary["width"] = json!(c.width);
            summary["layers"] = json!(c.layers);
            summary["heads"] = json!(c.heads);
        }
    }
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

/// The encoder `build_dictionary` loaded, kept for its summary fields.
#[allow(clippy::large_enum_variant)] // one value per run
enum Loaded {
    Minilm(MiniLm),
    Clip(ClipText, PathBuf),
}
