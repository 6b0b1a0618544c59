//! all-MiniLM-L6-v2 (WordPiece tokenizer, BERT encoder, word dictionary builder) against
//! sentence-transformers' outputs in tests/fixtures/minilm_expected.json.
//!
//! Needs the model from `models/minilm/prepare.sh` (or a folder named by
//! `LOOKOUT_MINILM_DIR`); each test prints why and passes when it is absent.
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tch::{Device, Kind, Tensor};

use lookout::model::dictionary_builder::{build_word_dictionary, write_npy, WordEncoder};
use lookout::model::minilm::MiniLm;
use lookout::text::wordpiece::WordPiece;

const ATOL: f64 = 1e-5;

#[derive(Deserialize)]
struct Fixture {
    max_seq_length: usize,
    dim: usize,
    tokens: Vec<TokenCase>,
    embeddings: Vec<EmbeddingCase>,
    cosines: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct TokenCase {
    text: String,
    ids: Vec<i64>,
}

#[derive(Deserialize)]
struct EmbeddingCase {
    text: String,
    first8: Vec<f64>,
    norm: f64,
    sum: f64,
    abs_sum: f64,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The model folder, or `None` (with a message) when it has not been prepared.
fn model_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("LOOKOUT_MINILM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("models/minilm/all-MiniLM-L6-v2"));
    if dir.join("model.safetensors").is_file() {
        Some(dir)
    } else {
        println!(
            "SKIPPED {test}: {} is absent; run models/minilm/prepare.sh",
            dir.join("model.safetensors").display()
        );
        None
    }
}

fn fixture() -> Fixture {
    let path = root().join("tests/fixtures/minilm_expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn rows(t: &Tensor) -> Vec<Vec<f64>> {
    Vec::<Vec<f64>>::try_from(&t.to_device(Device::Cpu).to_kind(Kind::Double)).unwrap()
}

fn check_embedding(label: &str, row: &[f64], case: &EmbeddingCase) -> f64 {
    let mut worst = 0f64;
    for (i, (&got, &want)) in row.iter().zip(&case.first8).enumerate() {
        let d = (got - want).abs();
        assert!(
            d <= ATOL,
            "{label} {:?} dim {i}: {got} vs {want}",
            case.text
        );
        worst = worst.max(d);
    }
    let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
    let sum: f64 = row.iter().sum();
    let abs_sum: f64 = row.iter().map(|v| v.abs()).sum();
    assert!(
        (norm - case.norm).abs() <= ATOL,
        "{label} {:?} norm {norm} vs {}",
        case.text,
        case.norm
    );
    // Sums over 384 dimensions: a looser bound for the accumulated rounding.
    assert!(
        (sum - case.sum).abs() <= 1e-4,
        "{label} {:?} sum {sum} vs {}",
        case.text,
        case.sum
    );
    assert!(
        (abs_sum - case.abs_sum).abs() <= 1e-4,
        "{label} {:?} |sum| {abs_sum} vs {}",
        case.text,
        case.abs_sum
    );
    worst
}

#[test]
fn wordpiece_ids_match_the_reference_tokenizer() {
    let Some(dir) = model_dir("wordpiece_ids_match_the_reference_tokenizer") else {
        return;
    };
    let f = fixture();
    let wp = WordPiece::load(&dir.join("vocab.txt")).unwrap();
    assert_eq!(wp.len(), 30522);
    for case in &f.tokens {
        assert_eq!(
            wp.encode(&case.text, f.max_seq_length),
            case.ids,
            "token ids of {:?}",
            case.text
        );
    }
    // The long case is cut to max_seq_length, [SEP] kept last.
    let longest = f.tokens.iter().map(|c| c.ids.len()).max().unwrap();
    assert_eq!(longest, f.max_seq_length);
}

#[test]
fn sentence_embeddings_match_sentence_transformers() {
    let Some(dir) = model_dir("sentence_embeddings_match_sentence_transformers") else {
        return;
    };
    let f = fixture();
    let mut model = MiniLm::load(&dir, Device::Cpu).unwrap();
    assert_eq!(
        (model.dim(), model.max_seq_length()),
        (f.dim, f.max_seq_length)
    );
    assert!(model.normalizes());
    // Mixed lengths in one batch (padding) and in batches of 3 give the same vectors.
    let texts: Vec<&str> = f.embeddings.iter().map(|c| c.text.as_str()).collect();
    let mut worst = 0f64;
    for batch in [64, 3] {
        model.set_batch_size(batch);
        let e = model.encode(&texts).unwrap();
        assert_eq!(e.size(), [texts.len() as i64, f.dim as i64]);
        let e = rows(&e);
        for (row, case) in e.iter().zip(&f.embeddings) {
            worst = worst.max(check_embedding(&format!("batch {batch}"), row, case));
        }
        for (i, a) in e.iter().enumerate() {
            for (j, b) in e.iter().enumerate() {
                let cos: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
                assert!(
                    (cos - f.cosines[i][j]).abs() <= ATOL,
                    "cos({:?}, {:?}) = {cos}, expected {}",
                    texts[i],
                    texts[j],
                    f.cosines[i][j]
                );
            }
        }
    }
    println!("max |difference| over the first 8 dimensions: {worst:.2e}");
    assert_eq!(model.encode(&[]).unwrap().size(), [0, f.dim as i64]);
}

#[test]
fn word_dictionary_rows_are_single_word_embeddings() {
    let Some(dir) = model_dir("word_dictionary_rows_are_single_word_embeddings") else {
        return;
    };
    let f = fixture();
    let model = MiniLm::load(&dir, Device::Cpu).unwrap();
    assert_eq!(WordEncoder::dim(&model), f.dim);
    let case = |text: &str| f.embeddings.iter().find(|c| c.text == text).unwrap();
    let entries = vec![
        ("jacket".to_string(), 1),
        ("Man".to_string(), 3),
        ("backpack".to_string(), 5),
    ];
    let mut seen = Vec::new();
    let table = build_word_dictionary(&model, &entries, 2, &mut |d, n| seen.push((d, n))).unwrap();
    assert_eq!(seen.last(), Some(&(3, 3)));
    assert_eq!(
        (table.size(), table.kind()),
        (vec![6, f.dim as i64], Kind::Float)
    );

    let path = std::env::temp_dir().join(format!("lookout-minilm-{}.npy", std::process::id()));
    write_npy(&table, Path::new(&path)).unwrap();
    let back = Tensor::read_npy(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert!(back.equal(&table));

    let r = rows(&back);
    for id in [0, 2, 4] {
        assert!(r[id].iter().all(|&v| v == 0.0), "row {id} should be zeros");
    }
    check_embedding("dictionary", &r[1], case("jacket"));
    check_embedding("dictionary", &r[3], case("man"));
    check_embedding("dictionary", &r[5], case("backpack"));
}
