//! `lookout build-dictionary`: a frozen word dictionary (`.npy`) from a vocabulary and a
//! pretrained text encoder.
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use serde_json::json;

use lookout::device::{device_name, DeviceChoice};
use lookout::model::dictionary_builder::{build_word_dictionary, read_vocab_entries, write_npy};
use lookout::model::minilm::MiniLm;

#[derive(Args)]
pub struct BuildDictionaryArgs {
    /// Vocabulary file (JSON word→id, or one word per line).
    #[arg(long)]
    vocab: PathBuf,
    /// Text encoder folder (sentence-transformers layout: model.safetensors, config.json,
    /// vocab.txt), e.g. models/minilm/all-MiniLM-L6-v2 after models/minilm/prepare.sh.
    #[arg(long)]
    encoder: PathBuf,
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
    let device = args.device.resolve()?;
    let entries = read_vocab_entries(&args.vocab)?;
    let mut encoder = MiniLm::load(&args.encoder, device)
        .with_context(|| format!("loading text encoder {}", args.encoder.display()))?;
    encoder.set_batch_size(args.batch_size);
    let start = Instant::now();
    let mut last_shown = Instant::now();
    let mut stderr = std::io::stderr();
    let dictionary =
        build_word_dictionary(&encoder, &entries, args.batch_size, &mut |done, total| {
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
    let summary = json!({
        "out": args.out.display().to_string(),
        "rows": rows,
        "dim": size[1],
        "words": entries.len(),
        "ids_without_word": without_word,
        "encoder": args.encoder.display().to_string(),
        "max_seq_length": encoder.max_seq_length(),
        "device": device_name(device),
        "seconds": seconds,
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}
