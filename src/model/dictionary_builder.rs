//! Builds TextReID's frozen word dictionary: every vocabulary word run alone through a
//! pretrained text encoder, one row per word id, row 0 (padding) zeros.
//!
//! The paper took CLIP's text tower (`<sot> word <eot>`, the EOT output after `ln_final`
//! and `text_projection`). No CLIP weights can be had here, so the one encoder provided is
//! [`MiniLm`] (all-MiniLM-L6-v2, 384 wide); a CLIP text tower can be plugged in later by
//! implementing [`WordEncoder`]. A dictionary built with another encoder only suits a
//! TextReID model trained on that same dictionary: its width must be the model's
//! `word_dim`, and its vectors are not CLIP's.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

use crate::model::minilm::{MiniLm, MiniLmError};
use crate::text::Vocabulary;

/// Any error an encoder reports.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum DictionaryError {
    #[error("text encoder failed: {0}")]
    Encoder(#[source] BoxError),
    #[error("the encoder gave shape {found:?} for {words} words; expected ({words}, {dim})")]
    EncoderShape {
        found: Vec<i64>,
        words: usize,
        dim: usize,
    },
    #[error("cannot read vocabulary {path}: {reason}")]
    Vocabulary { path: PathBuf, reason: String },
    #[error("word id {id} is given to both `{first}` and `{second}`")]
    SharedId {
        id: i64,
        first: String,
        second: String,
    },
    #[error("word `{word}` has id {id}; ids start at 1 (0 is padding)")]
    BadId { word: String, id: i64 },
    #[error("the vocabulary has no words")]
    Empty,
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("libtorch error: {0}")]
    Torch(#[from] tch::TchError),
}

/// A pretrained text encoder that turns single words into fixed-size vectors.
pub trait WordEncoder {
    /// One row per word, `(words.len(), dim())`, any float kind, any device.
    fn encode_words(&self, words: &[&str]) -> Result<Tensor, BoxError>;
    fn dim(&self) -> usize;
}

impl WordEncoder for MiniLm {
    /// The sentence-transformers embedding of each word alone (`[CLS] pieces [SEP]`,
    /// mean-pooled, L2-normalised).
    fn encode_words(&self, words: &[&str]) -> Result<Tensor, BoxError> {
        self.encode(words)
            .map_err(|e: MiniLmError| Box::new(e) as BoxError)
    }

    fn dim(&self) -> usize {
        MiniLm::dim(self)
    }
}

/// Reads a vocabulary file in the formats [`Vocabulary::load`] takes (a JSON object
/// `{"word": id}`, or one word per line, line n = id n), as `(word, id)` pairs sorted by
/// id, words lower-cased as `Vocabulary` does. Two spellings that differ only in case may
/// share an id; different words may not.
pub fn read_vocab_entries(path: &Path) -> Result<Vec<(String, i64)>, DictionaryError> {
    let err = |reason: String| DictionaryError::Vocabulary {
        path: path.to_path_buf(),
        reason,
    };
    let vocab = Vocabulary::load(path).map_err(|e| err(e.to_string()))?;
    dedupe(
        vocab
            .iter()
            .into_iter()
            .map(|(w, id)| (w.to_string(), id))
            .collect(),
    )
}

/// Lower-cases, sorts by id and checks that ids are positive and not shared.
fn dedupe(pairs: Vec<(String, i64)>) -> Result<Vec<(String, i64)>, DictionaryError> {
    let mut by_id: HashMap<i64, String> = HashMap::new();
    for (word, id) in pairs {
        if id <= 0 {
            return Err(DictionaryError::BadId { word, id });
        }
        let word = word.to_lowercase();
        match by_id.get(&id) {
            Some(first) if *first != word => {
                let (first, second) = if *first < word {
                    (first.clone(), word)
                } else {
                    (word, first.clone())
                };
                return Err(DictionaryError::SharedId { id, first, second });
            }
            Some(_) => {}
            None => {
                by_id.insert(id, word);
            }
        }
    }
    if by_id.is_empty() {
        return Err(DictionaryError::Empty);
    }
    let mut entries: Vec<(String, i64)> = by_id.into_iter().map(|(id, w)| (w, id)).collect();
    entries.sort_by_key(|&(_, id)| id);
    Ok(entries)
}

/// The dictionary `(max_id + 1, dim)` f32 on the CPU: row `id` = `encoder(word)`, row 0
/// and every id no word has are zeros. Words go to the encoder `batch` at a time;
/// `progress(done, total)` is called after each batch.
pub fn build_word_dictionary<E: WordEncoder + ?Sized>(
    encoder: &E,
    entries: &[(String, i64)],
    batch: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Tensor, DictionaryError> {
    let entries = dedupe(entries.to_vec())?;
    let dim = encoder.dim();
    let max_id = entries.iter().map(|&(_, id)| id).max().unwrap_or(0);
    let mut table = Tensor::zeros([max_id + 1, dim as i64], (Kind::Float, Device::Cpu));
    let total = entries.len();
    let mut done = 0;
    progress(0, total);
    for chunk in entries.chunks(batch.max(1)) {
        let words: Vec<&str> = chunk.iter().map(|(w, _)| w.as_str()).collect();
        let vectors =
            tch::no_grad(|| encoder.encode_words(&words)).map_err(DictionaryError::Encoder)?;
        let found = vectors.size();
        if found != [words.len() as i64, dim as i64] {
            return Err(DictionaryError::EncoderShape {
                found,
                words: words.len(),
                dim,
            });
        }
        let vectors = vectors.f_to_device(Device::Cpu)?.f_to_kind(Kind::Float)?;
        let ids: Vec<i64> = chunk.iter().map(|&(_, id)| id).collect();
        let ids = Tensor::from_slice(&ids);
        let _: Tensor = tch::no_grad(|| table.f_index_copy_(0, &ids, &vectors))?;
        done += chunk.len();
        progress(done, total);
    }
    Ok(table)
}

/// Writes `t` as a little-endian f32 `.npy` (C order), the format
/// [`super::WordDictionary::load`] reads.
pub fn write_npy(t: &Tensor, path: &Path) -> Result<(), DictionaryError> {
    let t = t
        .f_to_device(Device::Cpu)?
        .f_to_kind(Kind::Float)?
        .contiguous();
    t.write_npy(path).map_err(|e| DictionaryError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes a word as (length, first letter code, 1).
    struct Toy;
    impl WordEncoder for Toy {
        fn encode_words(&self, words: &[&str]) -> Result<Tensor, BoxError> {
            let rows: Vec<f32> = words
                .iter()
                .flat_map(|w| [w.len() as f32, w.as_bytes()[0] as f32, 1.0])
                .collect();
            Ok(Tensor::from_slice(&rows).view([words.len() as i64, 3]))
        }
        fn dim(&self) -> usize {
            3
        }
    }

    #[test]
    fn rows_follow_ids_and_padding_is_zero() {
        let entries = vec![
            ("coat".to_string(), 2),
            ("a".to_string(), 4),
            ("Man".to_string(), 1),
        ];
        let mut calls = Vec::new();
        let t = build_word_dictionary(&Toy, &entries, 2, &mut |d, n| calls.push((d, n))).unwrap();
        assert_eq!(t.size(), [5, 3]);
        let rows = Vec::<Vec<f32>>::try_from(&t).unwrap();
        assert_eq!(rows[0], [0.0, 0.0, 0.0]);
        assert_eq!(rows[1], [3.0, b'm' as f32, 1.0]);
        assert_eq!(rows[2], [4.0, b'c' as f32, 1.0]);
        assert_eq!(rows[3], [0.0, 0.0, 0.0]);
        assert_eq!(rows[4], [1.0, b'a' as f32, 1.0]);
        assert_eq!(calls, [(0, 3), (2, 3), (3, 3)]);
    }

    #[test]
    fn shared_and_bad_ids_are_refused() {
        let shared = vec![("man".to_string(), 1), ("coat".to_string(), 1)];
        assert!(matches!(
            build_word_dictionary(&Toy, &shared, 8, &mut |_, _| {}),
            Err(DictionaryError::SharedId { id: 1, .. })
        ));
        let same = vec![("Man".to_string(), 1), ("man".to_string(), 1)];
        assert!(build_word_dictionary(&Toy, &same, 8, &mut |_, _| {}).is_ok());
        let zero = vec![("man".to_string(), 0)];
        assert!(matches!(
            build_word_dictionary(&Toy, &zero, 8, &mut |_, _| {}),
            Err(DictionaryError::BadId { .. })
        ));
        assert!(matches!(
            build_word_dictionary(&Toy, &[], 8, &mut |_, _| {}),
            Err(DictionaryError::Empty)
        ));
    }

    #[test]
    fn npy_round_trip() {
        let dir = std::env::temp_dir().join(format!("lookout-dict-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("vocab.json");
        std::fs::write(&json, r#"{"man": 1, "Coat": 3}"#).unwrap();
        let entries = read_vocab_entries(&json).unwrap();
        assert_eq!(entries, [("man".to_string(), 1), ("coat".to_string(), 3)]);
        let t = build_word_dictionary(&Toy, &entries, 8, &mut |_, _| {}).unwrap();
        let path = dir.join("dict.npy");
        write_npy(&t, &path).unwrap();
        let back = Tensor::read_npy(&path).unwrap();
        assert_eq!(back.kind(), Kind::Float);
        assert!(back.equal(&t));
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Standardises every dimension over the rows that hold a word (non-zero rows): mean 0,
/// variance 1; the padding row stays zero.
///
/// Why: a sentence encoder's outputs for single words share a large common direction
/// (MiniLM's unit vectors of two unrelated words have a cosine of about 0.3–0.5), and they
/// are unit vectors, about ten times smaller than CLIP's word features. A GRU fed with them
/// starts with nearly the same state for every caption, and contrastive training collapses.
/// The affine map keeps all the information of the frozen vectors.
pub fn standardize(dictionary: &Tensor) -> Tensor {
    let used = dictionary
        .abs()
        .sum_dim_intlist([1i64].as_slice(), false, tch::Kind::Float)
        .gt(0.0);
    let rows = used.nonzero().squeeze_dim(1);
    if rows.size()[0] < 2 {
        return dictionary.shallow_clone();
    }
    let words = dictionary.index_select(0, &rows);
    let mean = words.mean_dim([0i64].as_slice(), true, tch::Kind::Float);
    let std = words.std_dim([0i64].as_slice(), true, true).clamp_min(1e-6);
    let out = dictionary.zeros_like();
    out.index_copy(0, &rows, &((words - mean) / std))
}

#[cfg(test)]
mod standardize_tests {
    use super::*;

    #[test]
    fn standardize_centres_words_and_keeps_padding() {
        let d = Tensor::from_slice(&[0.0f32, 0.0, 1.0, 2.0, 3.0, 2.0, 5.0, 6.0]).view([4, 2]);
        let s = standardize(&d);
        assert_eq!(Vec::<f32>::try_from(&s.get(0)).unwrap(), vec![0.0, 0.0]);
        let words = s.narrow(0, 1, 3);
        let mean =
            Vec::<f32>::try_from(&words.mean_dim([0i64].as_slice(), false, tch::Kind::Float))
                .unwrap();
        assert!(mean.iter().all(|m| m.abs() < 1e-6), "{mean:?}");
        let std = Vec::<f32>::try_from(&words.std_dim([0i64].as_slice(), true, false)).unwrap();
        assert!(std.iter().all(|v| (v - 1.0).abs() < 1e-5), "{std:?}");
    }
}
