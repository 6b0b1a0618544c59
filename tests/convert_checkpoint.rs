//! `lookout convert-checkpoint` on a checkpoint in the reference's `torch.save` layout:
//! `{"model": state_dict, "optimizer": ..., "epoch": ...}`, `module.` prefixes, and
//! `visual_model.*` sharing storage with `embed_model.v_encoder_q.*`. The `.pth` is
//! written from the parity fixture by `tests/fixtures/make_pth.py` (stdlib Python, the
//! exact torch.save zip format; checked against torch 2.11's `torch.load`).
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use lookout::model::{l2_normalize, Pooling, TextReid};
use tch::Device;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lookout-convert-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes a training checkpoint from the fixture weights, or None when python3 is missing.
fn make_pth(weights: &Path, out: &Path, extra: &[&str]) -> Option<()> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make_pth.py");
    let status = Command::new("python3")
        .arg(script)
        .arg(weights)
        .arg(out)
        .args([
            "--share",
            "visual_model.=embed_model.v_encoder_q.",
            "--share",
            "textual_model.=embed_model.t_encoder_q.",
        ])
        .args(extra)
        .status();
    match status {
        Ok(s) if s.success() => Some(()),
        Ok(s) => panic!("make_pth.py failed: {s}"),
        Err(e) => {
            eprintln!("SKIPPED: python3 is needed to write the test checkpoint ({e})");
            None
        }
    }
}

fn lookout(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lookout"))
        .args(args)
        .output()
        .expect("run lookout")
}

#[test]
fn converted_training_checkpoint_reproduces_the_reference() {
    let Some(dir) = common::reference_or_skip("converted_training_checkpoint") else {
        return;
    };
    let tmp = scratch("ok");
    let pth = tmp.join("best.pth");
    if make_pth(
        &dir.join("ref_weights.safetensors"),
        &pth,
        &["--module-prefix", "--wrap-training"],
    )
    .is_none()
    {
        return;
    }
    for (name, extra) in [("full", vec![]), ("inference", vec!["--inference-only"])] {
        let out = tmp.join(format!("{name}.safetensors"));
        let mut args = vec![
            "convert-checkpoint",
            pth.to_str().unwrap(),
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let run = lookout(&args);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        // The metadata carries the configuration; the dictionary is beside the weights.
        std::fs::copy(dir.join("vocab_dict.npy"), tmp.join("vocab_dict.npy")).unwrap();
        let model = TextReid::load_path(&out, Device::Cpu).expect("converted model loads");
        assert_eq!(model.config.visual.layers, [2, 2, 2, 2]);
        assert_eq!(model.config.version, "best");
        let fx = common::read_npz(dir.join("inference.npz"));
        let images = model.embed_images_raw(&fx["images"], 4).unwrap();
        common::assert_close(
            &format!("{name}: image_embed_raw"),
            &images,
            &fx["image_embed_raw"],
            1e-4,
            1e-3,
        );
        let tokens = &fx["text_tokens_padded"];
        let lengths = Vec::<i64>::try_from(&fx["text_lengths"].to_kind(tch::Kind::Int64)).unwrap();
        let caps: Vec<Vec<i64>> = lengths
            .iter()
            .enumerate()
            .map(|(i, &n)| Vec::<i64>::try_from(&tokens.get(i as i64).narrow(0, 0, n)).unwrap())
            .collect();
        let texts = model.embed_captions(&caps, Pooling::Batch, 128).unwrap();
        common::assert_close(
            &format!("{name}: text_embed_norm"),
            &texts,
            &fx["text_embed_norm"],
            0.0,
            1e-5,
        );
        let _ = l2_normalize(&images);
    }
    let full = std::fs::metadata(tmp.join("full.safetensors"))
        .unwrap()
        .len();
    let inference = std::fs::metadata(tmp.join("inference.safetensors"))
        .unwrap()
        .len();
    assert!(
        inference < full / 2,
        "inference-only drops the momentum encoders ({inference} vs {full})"
    );
    std::fs::remove_dir_all(tmp).ok();
}

#[test]
fn mismatched_or_corrupt_checkpoints_are_clear_errors_and_write_nothing() {
    let Some(dir) = common::reference_or_skip("mismatched_or_corrupt_checkpoints") else {
        return;
    };
    let tmp = scratch("bad");
    let pth = tmp.join("best.pth");
    if make_pth(
        &dir.join("ref_weights.safetensors"),
        &pth,
        &["--wrap-training"],
    )
    .is_none()
    {
        return;
    }
    // The tiny fixture is not an RN50: the error names the key and both shapes.
    let out = tmp.join("rn50.safetensors");
    let run = lookout(&[
        "convert-checkpoint",
        pth.to_str().unwrap(),
        out.to_str().unwrap(),
        "--preset",
        "rn50",
    ]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("visual_model.conv1.weight")
            && err.contains("[8, 3, 3, 3]")
            && err.contains("[32, 3, 3, 3]"),
        "{err}"
    );
    assert!(!out.exists());
    // A truncated checkpoint.
    let bytes = std::fs::read(&pth).unwrap();
    std::fs::write(&pth, &bytes[..bytes.len() / 3]).unwrap();
    let run = lookout(&[
        "convert-checkpoint",
        pth.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("cannot read checkpoint"));
    assert!(!out.exists());
    // An existing output is kept when a conversion fails.
    std::fs::write(&out, b"previous").unwrap();
    let run = lookout(&[
        "convert-checkpoint",
        pth.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
    std::fs::remove_dir_all(tmp).ok();
}
