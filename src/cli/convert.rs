//! `lookout convert-checkpoint`: official `.pth` → safetensors with the configuration.
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use lookout::checkpoint::{convert_pth, ConvertOptions, Keep};
use lookout::model::config::Preset;
use lookout::model::PartialModelConfig;

#[derive(Args)]
pub struct ConvertArgs {
    /// The `.pth` checkpoint (`best.pth`, `epoch_N.pth`) or a bare state dict.
    input: PathBuf,
    /// The safetensors file to write.
    output: PathBuf,
    /// Dict entry holding the state dict (default: `model`, else `state_dict`, else the top level).
    #[arg(long)]
    entry: Option<String>,
    /// Take the configuration of a published model (rn50, rn101) instead of inferring it.
    #[arg(long)]
    preset: Option<Preset>,
    /// A TOML with configuration overrides (`[visual]`, `[textual]`, `embedding_dim`, `head`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Keep only the tensors inference needs (drops momentum encoders, queues, ID projection).
    #[arg(long)]
    inference_only: bool,
    /// Version tag stored in the metadata (default: the checkpoint's file name).
    #[arg(long)]
    version: Option<String>,
}

pub fn convert(args: ConvertArgs) -> anyhow::Result<()> {
    let mut overrides = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some(
                toml::from_str::<PartialModelConfig>(&text)
                    .with_context(|| format!("parsing {}", path.display()))?,
            )
        }
        None => None,
    };
    if let Some(preset) = args.preset {
        let c = preset.config();
        let o = overrides.get_or_insert_with(PartialModelConfig::default);
        o.visual.get_or_insert(c.visual);
    }
    let options = ConvertOptions {
        entry: args.entry.clone(),
        keep: if args.inference_only {
            Keep::Inference
        } else {
            Keep::All
        },
        overrides,
        version: args.version.clone(),
    };
    eprintln!("converting {} ...", args.input.display());
    let report = convert_pth(&args.input, &args.output, &options)?;
    eprintln!(
        "wrote {} ({} tensors, {:.1} MB, {:?} head, visual layers {:?})",
        args.output.display(),
        report.tensors,
        report.bytes as f64 / 1e6,
        report.config.head,
        report.config.visual.layers
    );
    Ok(())
}

#[derive(Args)]
pub struct ImportArgs {
    /// A `.pth` / `.pt` file (zip or legacy torch.save) holding a state dict.
    input: PathBuf,
    /// The safetensors file to write.
    output: PathBuf,
    /// Prepended to every key (e.g. `visual_model.backbone.`).
    #[arg(long, default_value = "")]
    prefix: String,
}

/// `lookout import-weights`: any torch state dict → safetensors, keys optionally prefixed.
pub fn import(args: ImportArgs) -> anyhow::Result<()> {
    let n = lookout::checkpoint::raw::convert_state_dict_to_safetensors(
        &args.input,
        &args.output,
        &args.prefix,
        Default::default(),
    )?;
    eprintln!("wrote {} ({n} tensors)", args.output.display());
    Ok(())
}
