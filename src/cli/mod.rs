//! Command-line parsing and dispatch. Each subcommand lives in its own module and turns
//! library errors into messages with context; nothing here computes anything itself.
mod convert;
mod dictionary;
mod embed;
mod live;
mod serve;
mod synth;
mod train;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "lookout",
    version,
    about = "Find people in camera footage from a written description"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Embed sentences (or word ids) with a model's text encoder; prints JSON.
    EmbedText(embed::EmbedTextArgs),
    /// Embed person crops (JPEG/PNG) with a model's visual encoder; prints JSON.
    EmbedImage(embed::EmbedImageArgs),
    /// Show a model's resolved configuration and files; prints JSON.
    ModelInfo(embed::ModelInfoArgs),
    /// Convert an official TextReID `.pth` checkpoint into Lookout's safetensors weights.
    ConvertCheckpoint(convert::ConvertArgs),
    /// Import any torch state dict (`.pth`/`.pt`, zip or legacy) as safetensors.
    ImportWeights(convert::ImportArgs),
    /// Build a word dictionary: every vocabulary word run alone through a text encoder (MiniLM or CLIP).
    BuildDictionary(dictionary::BuildDictionaryArgs),
    /// Generate the synthetic pedestrian data set (images, captions, TextReID annotations).
    Synth(synth::SynthArgs),
    /// Build a vocabulary (word → id) from training captions.
    BuildVocab(train::BuildVocabArgs),
    /// Train a model with CM-MoCo (or the simple head) from a TOML configuration.
    Train(train::TrainArgs),
    /// Evaluate a model on an annotated split: t2i (and i2t) R1/R5/R10/mAP, with re-ranking.
    Eval(train::EvalArgs),
    /// The query daemon: HTTP API, metrics and the operators' web UI over the store.
    Serve(serve::ServeArgs),
    /// Re-embed every stored crop with a new model into a new collection, then switch the alias.
    Reindex(serve::ReindexArgs),
    /// Ingest the configured cameras and serve the daemon and UI, on one store (the one-machine setup).
    Run(live::RunArgs),
    /// An ingest worker: cameras → detector → tracker → encoder → store, no daemon.
    Ingest(live::IngestArgs),
    /// Serve a video file as an RTSP camera (looped, real time), for demos and tests.
    TestCamera(live::TestCameraArgs),
}

pub fn run() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::EmbedText(args) => embed::embed_text(args),
        Command::EmbedImage(args) => embed::embed_image(args),
        Command::ModelInfo(args) => embed::model_info(args),
        Command::ConvertCheckpoint(args) => convert::convert(args),
        Command::ImportWeights(args) => convert::import(args),
        Command::BuildDictionary(args) => dictionary::build_dictionary(args),
        Command::Synth(args) => synth::synth(args),
        Command::BuildVocab(args) => train::build_vocab(args),
        Command::Train(args) => train::train(args),
        Command::Eval(args) => train::eval(args),
        Command::Serve(args) => serve::serve(args),
        Command::Reindex(args) => serve::reindex(args),
        Command::Run(args) => live::run(args),
        Command::Ingest(args) => live::ingest(args),
        Command::TestCamera(args) => live::test_camera(args),
    }
}
