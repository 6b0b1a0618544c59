//! The `lookout` binary as a user runs it: embeddings as JSON, clear errors on bad input.
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tch::Kind;

fn lookout(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lookout"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run lookout")
}

fn json_of(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "lookout failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lookout-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn embedding(item: &serde_json::Value) -> Vec<f64> {
    item["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn fixture_caption(fx: &std::collections::HashMap<String, tch::Tensor>, i: i64) -> Vec<i64> {
    let n = fx["text_lengths"].to_kind(Kind::Int64).int64_value(&[i]);
    Vec::<i64>::try_from(&fx["text_tokens_padded"].get(i).narrow(0, 0, n)).unwrap()
}

fn weights(dir: &Path) -> String {
    dir.join("ref_weights.safetensors").display().to_string()
}

#[test]
fn embed_text_from_ids_matches_reference_per_caption() {
    let Some(dir) = common::reference_or_skip("embed_text_from_ids") else {
        return;
    };
    let fx = common::read_npz(dir.join("inference.npz"));
    let (a, b) = (fixture_caption(&fx, 3), fixture_caption(&fx, 10));
    let join = |v: &[i64]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let out = lookout(&[
        "embed-text",
        "--model",
        &weights(&dir),
        "--device",
        "cpu",
        "--raw",
        "--ids",
        &join(&a),
        "--ids",
        &join(&b),
    ]);
    let report = json_of(&out);
    assert_eq!(report["dim"], 256);
    assert_eq!(report["device"], "cpu");
    let items = report["items"].as_array().unwrap();
    for (item, row) in items.iter().zip([3i64, 10]) {
        let expected =
            Vec::<f64>::try_from(&fx["text_embed_raw_batch1"].get(row).to_kind(Kind::Double))
                .unwrap();
        let got = embedding(item);
        let worst = got
            .iter()
            .zip(&expected)
            .map(|(g, e)| (g - e).abs() - 1e-4 * e.abs())
            .fold(f64::MIN, f64::max);
        assert!(worst <= 1e-3, "caption {row}: off by {worst}");
    }
}

#[test]
fn embed_text_tokenizes_sentences_with_a_vocabulary() {
    let Some(dir) = common::reference_or_skip("embed_text_tokenizes") else {
        return;
    };
    let tmp = scratch("vocab");
    std::fs::write(
        tmp.join("vocab.json"),
        r#"{"man": 5, "grey": 17, "hoodie": 42, "blue": 7, "jeans": 99}"#,
    )
    .unwrap();
    let vocab = tmp.join("vocab.json").display().to_string();
    let w = weights(&dir);
    let report = json_of(&lookout(&[
        "embed-text",
        "--model",
        &w,
        "--vocab",
        &vocab,
        "--device",
        "cpu",
        "--text",
        "Man in a grey HOODIE and blue jeans",
    ]));
    let item = &report["items"][0];
    assert_eq!(item["ids"], serde_json::json!([5, 17, 42, 7, 99]));
    assert_eq!(item["unknown_words"], serde_json::json!(["in", "a", "and"]));
    let e = embedding(item);
    let norm: f64 = e.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5, "normalised by default: {norm}");
    // The same ids give the same embedding.
    let by_ids = json_of(&lookout(&[
        "embed-text",
        "--model",
        &w,
        "--device",
        "cpu",
        "--ids",
        "5,17,42,7,99",
    ]));
    let e2 = embedding(&by_ids["items"][0]);
    assert!(e.iter().zip(&e2).all(|(a, b)| (a - b).abs() < 1e-6));
    // No known word: a clear error, non-zero exit.
    let out = lookout(&[
        "embed-text",
        "--model",
        &w,
        "--vocab",
        &vocab,
        "--text",
        "zebra crossing",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no word the model knows"));
    std::fs::remove_dir_all(tmp).ok();
}

#[test]
fn bad_inputs_give_clear_errors() {
    let Some(dir) = common::reference_or_skip("bad_inputs_give_clear_errors") else {
        return;
    };
    let w = weights(&dir);
    let out = lookout(&["embed-text", "--model", &w, "--ids", "1,2,100000"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("outside the dictionary"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = lookout(&["embed-text", "--model", &w, "--ids", "1,x"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad word id"));
    let out = lookout(&["embed-text", "--model", &w, "--device", "tpu", "--ids", "1"]);
    assert!(!out.status.success());

    // A corrupt weights file, with a dictionary beside it.
    let tmp = scratch("corrupt");
    std::fs::copy(dir.join("vocab_dict.npy"), tmp.join("vocab_dict.npy")).unwrap();
    let bytes = std::fs::read(dir.join("ref_weights.safetensors")).unwrap();
    std::fs::write(tmp.join("w.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    let out = lookout(&[
        "embed-text",
        "--model",
        tmp.join("w.safetensors").to_str().unwrap(),
        "--ids",
        "1",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a valid safetensors file"), "{err}");
    // A corrupt dictionary.
    std::fs::copy(
        dir.join("ref_weights.safetensors"),
        tmp.join("w.safetensors"),
    )
    .unwrap();
    std::fs::write(tmp.join("vocab_dict.npy"), b"\x93NUMPY garbage").unwrap();
    let out = lookout(&[
        "embed-text",
        "--model",
        tmp.join("w.safetensors").to_str().unwrap(),
        "--ids",
        "1",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("word dictionary"));
    std::fs::remove_dir_all(tmp).ok();
}

#[test]
fn embed_image_reads_crops_of_any_size() {
    let Some(dir) = common::reference_or_skip("embed_image_reads_crops") else {
        return;
    };
    let tmp = scratch("images");
    let mut paths = Vec::new();
    for (i, (w, h)) in [(61u32, 157u32), (300, 700), (128, 384)]
        .into_iter()
        .enumerate()
    {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([
                (x * 7 % 256) as u8,
                (y * 3 % 256) as u8,
                ((x + y + i as u32 * 50) % 256) as u8,
            ])
        });
        let p = tmp.join(format!("crop{i}.png"));
        img.save(&p).unwrap();
        paths.push(p.display().to_string());
    }
    let mut args = vec![
        "embed-image",
        "--model",
        dir.to_str().unwrap(),
        "--device",
        "cpu",
        "--batch-size",
        "2",
    ];
    args.extend(paths.iter().map(|s| s.as_str()));
    let report = json_of(&lookout(&args));
    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["width"], 61);
    let e0 = embedding(&items[0]);
    let e1 = embedding(&items[1]);
    assert_eq!(e0.len(), 256);
    assert!(
        e0.iter().zip(&e1).any(|(a, b)| (a - b).abs() > 1e-3),
        "different crops, different embeddings"
    );
    // Not an image.
    std::fs::write(tmp.join("bad.png"), b"not a png").unwrap();
    let out = lookout(&[
        "embed-image",
        "--model",
        dir.to_str().unwrap(),
        tmp.join("bad.png").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read image"));
    std::fs::remove_dir_all(tmp).ok();
}

#[test]
fn model_info_reports_the_configuration_from_metadata() {
    let Some(dir) = common::reference_or_skip("model_info") else {
        return;
    };
    let report = json_of(&lookout(&["model-info", "--model", &weights(&dir)]));
    assert_eq!(report["config"]["head"], "moco");
    assert_eq!(
        report["config"]["visual"]["layers"],
        serde_json::json!([2, 2, 2, 2])
    );
    assert_eq!(report["config"]["textual"]["hidden"], 128);
    assert_eq!(report["dictionary_words"], 200);
}
