//! `lookout embed-text`, `embed-image` and `model-info`.
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use serde_json::json;
use tch::Tensor;

use lookout::device::{device_name, DeviceChoice};
use lookout::model::{l2_normalize, ModelBundle, Pooling, TextReid};
use lookout::preprocess::{load_rgb, InputSpec};
use lookout::text::{UnknownWords, Vocabulary};

#[derive(Args)]
pub struct ModelArgs {
    /// Model: a model.toml, a folder, or a .safetensors weights file (dictionary beside it).
    #[arg(long)]
    model: PathBuf,
    /// Where to run: auto (CUDA when present), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// Inference batch size.
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Print raw embeddings instead of L2-normalised ones.
    #[arg(long)]
    raw: bool,
}

#[derive(Args)]
pub struct EmbedTextArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// A sentence to embed (repeatable). Needs a vocabulary in the bundle or --vocab.
    #[arg(long = "text")]
    texts: Vec<String>,
    /// Word ids of a caption, comma separated (repeatable), bypassing the tokenizer.
    #[arg(long = "ids")]
    ids: Vec<String>,
    /// Vocabulary file (JSON word→id, or one word per line).
    #[arg(long)]
    vocab: Option<PathBuf>,
    /// Unknown words: `skip` (default) or `id:N`.
    #[arg(long, default_value = "skip")]
    unknown: UnknownWords,
    /// `per-caption` (default; independent of the batch) or `batch` (the reference's).
    #[arg(long, default_value = "per-caption")]
    pooling: Pooling,
}

#[derive(Args)]
pub struct EmbedImageArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Person crops to embed.
    #[arg(required = true)]
    images: Vec<PathBuf>,
}

#[derive(Args)]
pub struct ModelInfoArgs {
    /// Model: a model.toml, a folder, or a .safetensors weights file.
    #[arg(long)]
    model: PathBuf,
}

fn load(args: &ModelArgs) -> anyhow::Result<(ModelBundle, TextReid)> {
    let device = args.device.resolve()?;
    let bundle = ModelBundle::resolve(&args.model)?;
    let model = TextReid::load(&bundle, device)
        .with_context(|| format!("loading model {}", args.model.display()))?;
    Ok((bundle, model))
}

fn rows(t: &Tensor) -> anyhow::Result<Vec<Vec<f32>>> {
    let t = t.to_device(tch::Device::Cpu).contiguous();
    Ok(Vec::<Vec<f32>>::try_from(&t)?)
}

fn parse_ids(text: &str) -> anyhow::Result<Vec<i64>> {
    text.split(',')
        .map(|s| {
            s.trim()
                .parse::<i64>()
                .with_context(|| format!("bad word id `{s}` in --ids {text}"))
        })
        .collect()
}

pub fn embed_text(args: EmbedTextArgs) -> anyhow::Result<()> {
    if args.texts.is_empty() && args.ids.is_empty() {
        bail!("give at least one --text or --ids");
    }
    let (bundle, model) = load(&args.model)?;
    let mut captions = Vec::new();
    let mut described = Vec::new();
    if !args.texts.is_empty() {
        let vocab_path = args.vocab.clone().or(bundle.vocabulary.clone()).context(
            "--text needs a vocabulary: pass --vocab or put vocab.json beside the model",
        )?;
        let vocab = Vocabulary::load(&vocab_path)?;
        vocab.check_against(model.textual.dictionary().words())?;
        for text in &args.texts {
            let t = vocab
                .tokenize(text, args.unknown)
                .with_context(|| format!("tokenizing {text:?}"))?;
            described.push(json!({"text": text, "ids": t.ids, "unknown_words": t.unknown}));
            captions.push(t.ids);
        }
    }
    for ids in &args.ids {
        let ids = parse_ids(ids)?;
        described.push(json!({"ids": ids}));
        captions.push(ids);
    }
    let raw = model.embed_captions_raw(&captions, args.pooling, args.model.batch_size)?;
    let out = if args.model.raw {
        raw
    } else {
        l2_normalize(&raw)
    };
    let embeddings = rows(&out)?;
    let items: Vec<_> = described
        .into_iter()
        .zip(embeddings)
        .map(|(mut d, e)| {
            d["embedding"] = json!(e);
            d
        })
        .collect();
    let report = json!({
        "model": args.model.model,
        "version": model.config.version,
        "device": device_name(model.device()),
        "dim": model.config.embedding_dim,
        "normalised": !args.model.raw,
        "pooling": format!("{:?}", args.pooling),
        "items": items,
    });
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

pub fn embed_image(args: EmbedImageArgs) -> anyhow::Result<()> {
    let (_, model) = load(&args.model)?;
    let spec = InputSpec::for_visual(&model.config.visual);
    let mut images = Vec::with_capacity(args.images.len());
    for path in &args.images {
        images.push((path.display().to_string(), load_rgb(path)?));
    }
    let batch = spec.batch(&images)?;
    let raw = model.embed_images_raw(&batch, args.model.batch_size)?;
    let out = if args.model.raw {
        raw
    } else {
        l2_normalize(&raw)
    };
    let items: Vec<_> = images
        .iter()
        .zip(rows(&out)?)
        .map(|((path, img), e)| json!({"image": path, "width": img.width, "height": img.height, "embedding": e}))
        .collect();
    let report = json!({
        "model": args.model.model,
        "version": model.config.version,
        "device": device_name(model.device()),
        "dim": model.config.embedding_dim,
        "normalised": !args.model.raw,
        "items": items,
    });
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

pub fn model_info(args: ModelInfoArgs) -> anyhow::Result<()> {
    let bundle = ModelBundle::resolve(&args.model)?;
    let model = TextReid::load(&bundle, tch::Device::Cpu)
        .with_context(|| format!("loading model {}", args.model.display()))?;
    let report = json!({
        "weights": bundle.weights,
        "dictionary": bundle.dictionary,
        "dictionary_words": model.textual.dictionary().words(),
        "vocabulary": bundle.vocabulary,
        "config": model.config,
        "cuda_devices": tch::Cuda::device_count(),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
