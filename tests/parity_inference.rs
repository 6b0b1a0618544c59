//! Parity of the Rust encoders with the reference TextReID code, on the fixture made by
//! running it (`../shared/reference/textreid`, README there). The model's sizes come
//! from the weights file's metadata, so any fixture made the same way is checked.
//! Each check runs on the CPU and, where libtorch sees one, on CUDA device 0.
mod common;

use std::collections::HashMap;
use std::path::Path;

use lookout::model::{l2_normalize, Pooling, TextReid};
use tch::{Device, Kind, Tensor};

fn captions(fixture: &HashMap<String, Tensor>) -> Vec<Vec<i64>> {
    let tokens = &fixture["text_tokens_padded"];
    let lengths = Vec::<i64>::try_from(&fixture["text_lengths"].to_kind(Kind::Int64)).unwrap();
    lengths
        .iter()
        .enumerate()
        .map(|(i, &n)| Vec::<i64>::try_from(&tokens.get(i as i64).narrow(0, 0, n)).unwrap())
        .collect()
}

/// The fixture's arrays and the model on every device to check, or None (skipped).
fn setup(test: &str) -> Option<(HashMap<String, Tensor>, Vec<TextReid>)> {
    let dir = common::reference_or_skip(test)?;
    let fx = common::read_npz(dir.join("inference.npz"));
    let models = common::devices()
        .into_iter()
        .map(|device| load(&dir, device))
        .collect();
    Some((fx, models))
}

fn load(dir: &Path, device: Device) -> TextReid {
    TextReid::load_path(&dir.join("ref_weights.safetensors"), device).expect("load model")
}

#[test]
fn visual_stages_match_reference() {
    let Some((fx, models)) = setup("visual_stages_match_reference") else {
        return;
    };
    for model in models {
        let img0 = fx["images"].narrow(0, 0, 1).to_device(model.device());
        let stages = tch::no_grad(|| model.visual.forward_stages(&img0)).expect("a ModifiedResNet");
        for (name, got) in [
            ("img0_stem", &stages.stem),
            ("img0_layer1", &stages.layer1),
            ("img0_layer2", &stages.layer2),
            ("img0_layer3", &stages.layer3),
            ("img0_layer4", &stages.layer4),
            ("img0_attnpool", &stages.attnpool),
            ("img0_v_embed", &stages.embedding),
        ] {
            common::assert_close(name, got, &fx[name], 1e-4, 1e-3);
        }
    }
}

#[test]
fn image_embeddings_match_reference() {
    let Some((fx, models)) = setup("image_embeddings_match_reference") else {
        return;
    };
    for model in models {
        let raw = model.embed_images_raw(&fx["images"], 5).unwrap();
        common::assert_close("image_embed_raw", &raw, &fx["image_embed_raw"], 1e-4, 1e-3);
        let norm = l2_normalize(&raw);
        common::assert_close(
            "image_embed_norm",
            &norm,
            &fx["image_embed_norm"],
            0.0,
            1e-5,
        );
    }
}

#[test]
fn text_embeddings_match_reference_in_both_pooling_modes() {
    let Some((fx, models)) = setup("text_embeddings_match_reference") else {
        return;
    };
    let caps = captions(&fx);
    for model in models {
        // Reference batch mode: all captions in one batch, zero-padded max-pool.
        let batched = model
            .embed_captions_raw(&caps, Pooling::Batch, 128)
            .unwrap();
        common::assert_close(
            "text_embed_raw",
            &batched,
            &fx["text_embed_raw"],
            1e-4,
            1e-3,
        );
        let norm = l2_normalize(&batched);
        common::assert_close("text_embed_norm", &norm, &fx["text_embed_norm"], 0.0, 1e-5);
        // Per-caption pooling equals the reference run one caption at a time, whatever the batch.
        let per_caption = model
            .embed_captions_raw(&caps, Pooling::PerCaption, 7)
            .unwrap();
        let expected = &fx["text_embed_raw_batch1"];
        common::assert_close("text_embed_raw_batch1", &per_caption, expected, 1e-4, 1e-3);
        let diff = f64::try_from((&batched - &per_caption).abs().max()).unwrap();
        assert!(
            diff > 1e-2,
            "the two pooling modes should differ on this fixture ({diff})"
        );
    }
}

#[test]
fn gru_outputs_and_maxpool_match_reference() {
    let Some((fx, models)) = setup("gru_outputs_match_reference") else {
        return;
    };
    let caps = captions(&fx);
    for model in models {
        let batch = model.textual.batch(&caps).unwrap();
        let stages = tch::no_grad(|| model.textual.forward_stages(&batch, Pooling::Batch));
        let expected = &fx["text_gru_out"];
        let l = stages.gru_out.size()[1];
        common::assert_close(
            "text_gru_out",
            &stages.gru_out,
            &expected.narrow(1, 0, l),
            1e-4,
            1e-3,
        );
        if l < expected.size()[1] {
            let rest = expected.narrow(1, l, expected.size()[1] - l).abs().max();
            assert_eq!(
                f64::try_from(rest).unwrap(),
                0.0,
                "reference pads with zeros"
            );
        }
        common::assert_close(
            "text_maxpool",
            &stages.pooled,
            &fx["text_maxpool"],
            1e-4,
            1e-3,
        );
    }
}

#[test]
fn similarity_matches_reference() {
    let Some((fx, models)) = setup("similarity_matches_reference") else {
        return;
    };
    for model in models {
        let images = model.embed_images(&fx["images"], 16).unwrap();
        let texts = model
            .embed_captions(&captions(&fx), Pooling::Batch, 128)
            .unwrap();
        let sim = texts.matmul(&images.tr());
        common::assert_close("similarity", &sim, &fx["similarity"], 0.0, 1e-5);
    }
}
