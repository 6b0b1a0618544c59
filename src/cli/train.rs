//! `lookout train` and `lookout eval`.
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use lookout::dataset::{BadRecords, Dataset};
use lookout::device::DeviceChoice;
use lookout::eval::evaluate::{evaluate, EvalOptions};
use lookout::eval::RerankParams;
use lookout::model::{ModelBundle, Pooling, TextReid};
use lookout::text::Vocabulary;
use lookout::train::trainer::{TrainConfig, Trainer};

#[derive(Args)]
pub struct TrainArgs {
    /// Training configuration (TOML; see models/default/train.toml).
    #[arg(long)]
    config: PathBuf,
    /// Continue from a checkpoint written by an earlier run (`<output>/checkpoint.safetensors`).
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Override `train.epochs`.
    #[arg(long)]
    epochs: Option<usize>,
    /// Override `train.output`.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Override `train.device`.
    #[arg(long)]
    device: Option<String>,
}

#[derive(Args)]
pub struct EvalArgs {
    /// Model: a model.toml, a folder, or a .safetensors weights file.
    #[arg(long)]
    model: PathBuf,
    /// TextReID annotation file of the split to evaluate (`{"annotations": [...]}`).
    #[arg(long)]
    annotations: PathBuf,
    /// Folder the annotations' `file_path`s are relative to.
    #[arg(long)]
    images: PathBuf,
    /// Tokenize the sentences with the model's vocabulary instead of using `onehot`.
    #[arg(long)]
    tokenize: bool,
    /// `per-caption` (default) or `batch` (the reference's zero-padded pooling, chunks of 128).
    #[arg(long, default_value = "per-caption")]
    pooling: Pooling,
    /// Leave out the re-ranked rows.
    #[arg(long)]
    no_rerank: bool,
    /// Re-ranking neighbours and weight.
    #[arg(long, default_value_t = 5)]
    rerank_k: usize,
    #[arg(long, default_value_t = 0.05)]
    rerank_alpha: f64,
    /// Also image→text.
    #[arg(long)]
    i2t: bool,
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, default_value = "skip")]
    bad_records: BadRecords,
    /// Print the metrics as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct BuildVocabArgs {
    /// TextReID annotation files whose sentences make the vocabulary (e.g. the train split).
    #[arg(long = "annotations")]
    annotations: Vec<PathBuf>,
    /// Or CUHK-PEDES's reid_raw.json, with --split.
    #[arg(long)]
    reid_raw: Option<PathBuf>,
    #[arg(long, default_value = "train")]
    split: String,
    /// Where to write `{"word": id}` (most frequent word = id 1).
    #[arg(long)]
    out: PathBuf,
}

/// `lookout build-vocab`: the vocabulary of the training captions.
pub fn build_vocab(args: BuildVocabArgs) -> anyhow::Result<()> {
    let mut sentences: Vec<String> = Vec::new();
    for path in &args.annotations {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let records = v["annotations"]
            .as_array()
            .with_context(|| format!("{}: no \"annotations\" list", path.display()))?;
        sentences.extend(
            records
                .iter()
                .filter_map(|r| r["sentence"].as_str().map(str::to_string)),
        );
    }
    if let Some(path) = &args.reid_raw {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let records = v
            .as_array()
            .with_context(|| format!("{}: expected a list", path.display()))?;
        for r in records.iter().filter(|r| r["split"] == args.split.as_str()) {
            if let Some(caps) = r["captions"].as_array() {
                sentences.extend(caps.iter().filter_map(|c| c.as_str().map(str::to_string)));
            }
        }
    }
    let vocab = Vocabulary::build(sentences.iter().map(|s| s.as_str()))
        .map_err(anyhow::Error::msg)
        .context("no words in the captions")?;
    vocab.save_json(&args.out)?;
    eprintln!(
        "wrote {} ({} words from {} captions)",
        args.out.display(),
        vocab.len(),
        sentences.len()
    );
    Ok(())
}

pub fn train(args: TrainArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("reading {}", args.config.display()))?;
    let mut config: TrainConfig =
        toml::from_str(&text).with_context(|| format!("parsing {}", args.config.display()))?;
    if let Some(e) = args.epochs {
        config.train.epochs = e;
    }
    if let Some(o) = args.output {
        config.train.output = o;
    }
    if let Some(d) = args.device {
        config.train.device = d;
    }
    let mut trainer = Trainer::new(config, args.resume.as_deref())?;
    if trainer.progress().epoch > 0 {
        eprintln!("resuming after epoch {}", trainer.progress().epoch);
    }
    let summaries = trainer.run(&mut std::io::stderr())?;
    let out = &trainer.config.train.output;
    eprintln!(
        "done: {} epochs this run; best model in {}, checkpoint {}",
        summaries.len(),
        out.join("best").display(),
        out.join("checkpoint.safetensors").display()
    );
    Ok(())
}

pub fn eval(args: EvalArgs) -> anyhow::Result<()> {
    let device = args.device.resolve()?;
    let bundle = ModelBundle::resolve(&args.model)?;
    let model = TextReid::load(&bundle, device)
        .with_context(|| format!("loading model {}", args.model.display()))?;
    let vocab = match (&bundle.vocabulary, args.tokenize) {
        (Some(path), true) => Some(Vocabulary::load(path)?),
        (None, true) => anyhow::bail!("--tokenize needs a vocabulary in the model bundle"),
        _ => None,
    };
    let data = Dataset::load_textreid(
        &args.annotations,
        &args.images,
        vocab.as_ref(),
        args.bad_records,
    )?;
    let options = EvalOptions {
        batch_size: args.batch_size,
        pooling: args.pooling,
        rerank: (!args.no_rerank).then_some(RerankParams {
            k: args.rerank_k,
            alpha: args.rerank_alpha,
        }),
        image_to_text: args.i2t,
    };
    let mut last = 0;
    let report = evaluate(&model, &data, &options, &mut |done, total| {
        let pct = done * 10 / total.max(1);
        if pct > last {
            last = pct;
            eprintln!("embedding: {done}/{total}");
        }
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}
