//! `lookout synth`: write a procedural synthetic pedestrian data set (TextReID format).
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use lookout::synth::{generate, SynthConfig};

#[derive(Args)]
pub struct SynthArgs {
    /// Output directory (imgs/, annotations/, vocab.json, attributes.jsonl, synth.json).
    #[arg(long)]
    out: PathBuf,
    /// A TOML file with `SynthConfig` fields; the flags below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Random seed (the same seed writes the same bytes).
    #[arg(long)]
    seed: Option<u64>,
    /// Training identities (ids 0..N).
    #[arg(long)]
    train_ids: Option<usize>,
    /// Validation identities (ids after the training ones).
    #[arg(long)]
    val_ids: Option<usize>,
    /// Test identities (ids after the validation ones).
    #[arg(long)]
    test_ids: Option<usize>,
    /// Images per identity.
    #[arg(long)]
    images_per_id: Option<usize>,
}

pub fn synth(args: SynthArgs) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            toml::from_str::<SynthConfig>(&text)
                .with_context(|| format!("parsing {}", path.display()))?
        }
        None => SynthConfig::default(),
    };
    if let Some(v) = args.seed {
        config.seed = v;
    }
    if let Some(v) = args.train_ids {
        config.train_ids = v;
    }
    if let Some(v) = args.val_ids {
        config.val_ids = v;
    }
    if let Some(v) = args.test_ids {
        config.test_ids = v;
    }
    if let Some(v) = args.images_per_id {
        config.images_per_id = v;
    }
    let start = std::time::Instant::now();
    let mut last = usize::MAX;
    let report = generate(&config, &args.out, &mut |done, total| {
        let pct = done * 100 / total.max(1);
        let step = pct / 5;
        if step != last {
            last = step;
            eprintln!(
                "synth: {done}/{total} images ({pct}%), {:.1} s",
                start.elapsed().as_secs_f32()
            );
        }
    })
    .with_context(|| {
        format!(
            "generating the synthetic data set in {}",
            args.out.display()
        )
    })?;
    eprintln!(
        "synth: wrote {} images, {} captions, {} vocabulary words; identities train/val/test = {}/{}/{}; {:.1} s -> {}",
        report.images,
        report.captions,
        report.vocab_words,
        report.identities[0],
        report.identities[1],
        report.identities[2],
        start.elapsed().as_secs_f32(),
        args.out.display()
    );
    Ok(())
}
