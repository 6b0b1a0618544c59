//! Training end to end on a tiny synthetic pedestrian set: the loss falls, held-out
//! Rank-1 rises above chance, a resumed run repeats an uninterrupted one exactly, and the
//! simple head ("without CM-MoCo") trains too.
use std::path::{Path, PathBuf};

use lookout::model::config::{Backbone, HeadKind, ModelConfig, TextualConfig, VisualConfig};
use lookout::synth::{generate, SynthConfig};
use lookout::text::Vocabulary;
use lookout::train::schedule::ScheduleConfig;
use lookout::train::trainer::{DataConfig, ModelInit, RunConfig, TrainConfig, Trainer};
use tch::Tensor;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lookout-train-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A tiny synthetic set (train / val identities) and a random word dictionary.
fn tiny_set(dir: &Path) -> (PathBuf, i64) {
    let config = SynthConfig {
        seed: 11,
        train_ids: 96,
        val_ids: 32,
        test_ids: 0,
        images_per_id: 4,
        min_height: 96,
        max_height: 128,
        // Clean renders: the tiny from-scratch trunk has few steps to learn colours.
        degrade: false,
        occlusion: false,
        ..SynthConfig::default()
    };
    generate(&config, dir, &mut |_, _| {}).expect("synthetic set");
    let vocab = Vocabulary::load(&dir.join("vocab.json")).unwrap();
    // Drawn from a local generator: the tests of this file run in parallel and libtorch's
    // generator is global.
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(3);
    let rows = (vocab.max_id() + 1) as usize;
    let values: Vec<f32> = (0..rows * 32)
        .map(|i| {
            if i < 32 {
                0.0
            } else {
                rand::Rng::gen_range(&mut rng, -1.7f32..1.7)
            }
        })
        .collect();
    let dict = Tensor::from_slice(&values).view([rows as i64, 32]);
    let path = dir.join("dictionary.npy");
    dict.write_npy(&path).unwrap();
    (path, vocab.max_id())
}

fn config(dir: &Path, dictionary: &Path, head: HeadKind, epochs: usize, out: &str) -> TrainConfig {
    // The MoCo runs keep the (randomly initialised) trunk fixed and train on its cached
    // feature maps, as the default model does: a from-scratch trunk needs far more steps
    // than a test can take. The simple-head run trains the whole stream on images.
    let cache_trunk = head == HeadKind::Moco;
    TrainConfig {
        data: DataConfig {
            format: Default::default(),
            train_split: "train".into(),
            val_split: "val".into(),
            train: dir.join("annotations/train.json"),
            val: Some(dir.join("annotations/val.json")),
            images: dir.join("imgs"),
            vocabulary: dir.join("vocab.json"),
            tokenize: false,
            bad_records: Default::default(),
        },
        model: ModelInit {
            config: ModelConfig {
                visual: VisualConfig {
                    backbone: Backbone::ModifiedResnet,
                    layers: [1, 1, 1, 1],
                    width: 16,
                    heads: 2,
                    output_dim: 32,
                    last_stride: 1,
                    input_resolution: [128, 48],
                },
                textual: TextualConfig {
                    word_dim: 32,
                    hidden: 32,
                    max_words: 105,
                },
                embedding_dim: 32,
                head,
                version: "tiny".into(),
            },
            dictionary: dictionary.to_path_buf(),
            init: vec![],
            freeze: vec![],
        },
        train: RunConfig {
            epochs,
            ids_per_batch: 4,
            pairs_per_id: 4,
            queue_size: 32,
            seed: 5,
            device: "cpu".into(),
            output: dir.join(out),
            log_every: 100,
            cache_trunk,
            ..RunConfig::default()
        },
        schedule: ScheduleConfig {
            base_lr: 1e-3,
            warmup_epochs: 1,
            milestones: vec![12],
            epochs,
            ..ScheduleConfig::default()
        },
        // A faster-moving key encoder than the reference's 0.999: with a few hundred
        // steps instead of tens of thousands, keys must keep up with the queries.
        loss: lookout::train::LossConfig {
            momentum: 0.99,
            ..Default::default()
        },
        augment: Default::default(),
    }
}

#[test]
fn loss_falls_and_held_out_rank1_beats_chance_and_resume_is_exact() {
    let dir = scratch("moco");
    let (dictionary, _) = tiny_set(&dir);
    let mut log = Vec::new();
    let mut trainer =
        Trainer::new(config(&dir, &dictionary, HeadKind::Moco, 20, "full"), None).unwrap();
    let summaries = trainer.run(&mut log).unwrap();
    eprintln!("{}", String::from_utf8_lossy(&log));
    let mean = |s: &[lookout::train::trainer::EpochSummary]| {
        s.iter().map(|e| e.loss).sum::<f64>() / s.len() as f64
    };
    let (early, late) = (
        mean(&summaries[..3]),
        mean(&summaries[summaries.len() - 3..]),
    );
    let losses: Vec<String> = summaries.iter().map(|s| format!("{:.2}", s.loss)).collect();
    eprintln!("epoch losses: {losses:?}");
    assert!(
        late < early * 0.9,
        "mean loss of the first 3 epochs {early:.3}, of the last 3 {late:.3}: {losses:?}"
    );
    let last = summaries.last().unwrap();
    let val = last.val.as_ref().unwrap();
    let r1 = val.tasks["t2i"].r1;
    // 32 held-out identities with 4 images each: a random ranking finds the person first
    // 4 times in 128, 3.1 %.
    let chance = 100.0 * 4.0 / val.gallery as f64;
    assert!(
        r1 > 2.0 * chance,
        "held-out R1 {r1:.1} vs chance {chance:.1}"
    );
    assert!(dir.join("full/best/model.toml").is_file());

    // Two epochs straight vs one epoch, stop, resume, one more: the same weights.
    let mut straight = Trainer::new(
        config(&dir, &dictionary, HeadKind::Moco, 2, "straight"),
        None,
    )
    .unwrap();
    straight.run(&mut Vec::new()).unwrap();
    let mut first_half =
        Trainer::new(config(&dir, &dictionary, HeadKind::Moco, 1, "halves"), None).unwrap();
    first_half.run(&mut Vec::new()).unwrap();
    drop(first_half);
    let checkpoint = dir.join("halves/checkpoint.safetensors");
    let mut second_half = Trainer::new(
        config(&dir, &dictionary, HeadKind::Moco, 2, "halves"),
        Some(&checkpoint),
    )
    .unwrap();
    assert_eq!(second_half.progress().epoch, 1);
    second_half.run(&mut Vec::new()).unwrap();
    let a = straight.snapshot();
    let b = second_half.snapshot();
    assert_eq!(a.len(), b.len());
    for (name, t) in &a {
        let diff = f64::try_from((t - &b[name]).abs().max()).unwrap();
        assert!(diff < 1e-6, "{name} differs by {diff} after resume");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn simple_head_trains_without_queues() {
    let dir = scratch("simple");
    let (dictionary, _) = tiny_set(&dir);
    let mut trainer = Trainer::new(
        config(&dir, &dictionary, HeadKind::Simple, 2, "simple"),
        None,
    )
    .unwrap();
    let summaries = trainer.run(&mut Vec::new()).unwrap();
    assert_eq!(summaries.len(), 2);
    assert!(summaries
        .iter()
        .all(|s| s.infonce == 0.0 && s.loss.is_finite()));
    let names: Vec<&String> = trainer.params().iter().map(|(n, _)| n).collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("embed_model.visual_embed_layer")),
        "{names:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
