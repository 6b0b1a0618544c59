//! Sentence → word ids, with a vocabulary file.
//!
//! TextReID's captions were lower-cased and split into alphabetic words (the reference
//! demo keeps `isalpha()` tokens of NLTK's tokenizer; its vocabulary builder first turns
//! `- . / '` into spaces). Lookout does the same without NLTK: lower-case, split on every
//! character that is not a letter, so "T-shirt" gives `t`, `shirt`.
//!
//! Unknown words: by default they are dropped and reported back ([`Tokenized::unknown`]),
//! so an operator sees which words the model ignored; [`UnknownWords::MapTo`] maps them
//! to a fixed id instead (e.g. a trained `<UNK>` row). A sentence with no known word is an
//! error, never an empty query.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("cannot read vocabulary {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("vocabulary {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("the sentence has no word the model knows (unknown: {unknown:?})")]
    NoKnownWord { unknown: Vec<String> },
    #[error("word id {id} is outside the dictionary's {words} rows")]
    IdOutOfRange { id: i64, words: i64 },
}

/// What to do with a word that is not in the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownWords {
    #[default]
    Skip,
    MapTo(i64),
}

impl std::str::FromStr for UnknownWords {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "skip" {
            return Ok(Self::Skip);
        }
        s.strip_prefix("id:")
            .and_then(|n| n.parse().ok())
            .map(Self::MapTo)
            .ok_or_else(|| format!("unknown-word policy `{s}`: expected skip or id:N"))
    }
}

/// A sentence as the encoder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokenized {
    pub ids: Vec<i64>,
    /// The known words, in order (one per id).
    pub words: Vec<String>,
    /// Words not in the vocabulary (dropped, or mapped with [`UnknownWords::MapTo`]).
    pub unknown: Vec<String>,
}

/// Word → id map. Id 0 is padding and never a word.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    ids: HashMap<String, i64>,
    max_id: i64,
}

/// Lower-cased alphabetic words of `text`.
pub fn split_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

impl Vocabulary {
    /// Reads a JSON object `{"word": id, ...}` or a text file with one word per line
    /// (the word on line n, counting from 1, has id n).
    pub fn load(path: &Path) -> Result<Self, TokenizerError> {
        let text = std::fs::read_to_string(path).map_err(|e| TokenizerError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let invalid = |reason: String| TokenizerError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let pairs: Vec<(String, i64)> = if path.extension().is_some_and(|e| e == "json") {
            let map: HashMap<String, i64> =
                serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
            map.into_iter().collect()
        } else {
            text.lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, l)| (l.trim().to_string(), i as i64 + 1))
                .collect()
        };
        Self::from_pairs(pairs).map_err(invalid)
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, i64)>) -> Result<Self, String> {
        let mut ids = HashMap::new();
        let mut max_id = 0;
        for (word, id) in pairs {
            if id <= 0 {
                return Err(format!(
                    "word `{word}` has id {id}; ids start at 1 (0 is padding)"
                ));
            }
            max_id = max_id.max(id);
            ids.insert(word.to_lowercase(), id);
        }
        if ids.is_empty() {
            return Err("no words".into());
        }
        Ok(Self { ids, max_id })
    }

    /// Builds a vocabulary from sentences, most frequent word first (id 1), ties in
    /// alphabetical order: the layout of TextReID's frequency-ordered ids.
    pub fn build<'a>(sentences: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for sentence in sentences {
            for word in split_words(sentence) {
                *counts.entry(word).or_default() += 1;
            }
        }
        let mut words: Vec<(String, usize)> = counts.into_iter().collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Self::from_pairs(
            words
                .into_iter()
                .enumerate()
                .map(|(i, (w, _))| (w, i as i64 + 1)),
        )
    }

    /// (word, id) pairs in id order.
    pub fn iter(&self) -> Vec<(&str, i64)> {
        let mut pairs: Vec<(&str, i64)> =
            self.ids.iter().map(|(w, &id)| (w.as_str(), id)).collect();
        pairs.sort_by_key(|&(w, id)| (id, w.to_string()));
        pairs
    }

    /// Writes `{"word": id}` JSON.
    pub fn save_json(&self, path: &Path) -> Result<(), TokenizerError> {
        let map: std::collections::BTreeMap<&str, i64> =
            self.ids.iter().map(|(w, &id)| (w.as_str(), id)).collect();
        let text = serde_json::to_string_pretty(&map).map_err(|e| TokenizerError::Invalid {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        std::fs::write(path, text).map_err(|e| TokenizerError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn max_id(&self) -> i64 {
        self.max_id
    }

    pub fn id(&self, word: &str) -> Option<i64> {
        self.ids.get(word).copied()
    }

    /// Checks that every id has a row in a dictionary of `words` rows.
    pub fn check_against(&self, words: i64) -> Result<(), TokenizerError> {
        if self.max_id >= words {
            return Err(TokenizerError::IdOutOfRange {
                id: self.max_id,
                words,
            });
        }
        Ok(())
    }

    pub fn tokenize(&self, text: &str, policy: UnknownWords) -> Result<Tokenized, TokenizerError> {
        let mut out = Tokenized {
            ids: Vec::new(),
            words: Vec::new(),
            unknown: Vec::new(),
        };
        for word in split_words(text) {
            match (self.id(&word), policy) {
                (Some(id), _) => {
                    out.ids.push(id);
                    out.words.push(word);
                }
                (None, UnknownWords::MapTo(id)) => {
                    out.ids.push(id);
                    out.unknown.push(word.clone());
                    out.words.push(word);
                }
                (None, UnknownWords::Skip) => out.unknown.push(word),
            }
        }
        if out.ids.is_empty() || out.unknown.len() == out.ids.len() && policy != UnknownWords::Skip
        {
            return Err(TokenizerError::NoKnownWord {
                unknown: out.unknown,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        let words = [
            "a", "man", "in", "grey", "hoodie", "and", "blue", "jeans", "t", "shirt",
        ];
        Vocabulary::from_pairs(
            words
                .iter()
                .enumerate()
                .map(|(i, w)| (w.to_string(), i as i64 + 1)),
        )
        .unwrap()
    }

    #[test]
    fn splits_like_the_reference_preprocessing() {
        assert_eq!(
            split_words("A man, in a T-shirt."),
            ["a", "man", "in", "a", "t", "shirt"]
        );
        assert_eq!(split_words("  42 -- "), Vec::<String>::new());
    }

    #[test]
    fn unknown_words_are_skipped_and_reported() {
        let t = vocab()
            .tokenize("Man in a grey hoodie with red backpack", UnknownWords::Skip)
            .unwrap();
        assert_eq!(t.ids, vec![2, 3, 1, 4, 5]);
        assert_eq!(t.unknown, ["with", "red", "backpack"]);
    }

    #[test]
    fn unknown_words_can_map_to_an_id() {
        let t = vocab()
            .tokenize("man with jeans", UnknownWords::MapTo(99))
            .unwrap();
        assert_eq!(t.ids, vec![2, 99, 8]);
        assert_eq!(t.unknown, ["with"]);
    }

    #[test]
    fn a_sentence_without_known_words_is_an_error() {
        let err = vocab()
            .tokenize("zebra crossing", UnknownWords::Skip)
            .unwrap_err();
        assert!(matches!(err, TokenizerError::NoKnownWord { .. }));
        assert!(vocab().tokenize("zebra", UnknownWords::MapTo(1)).is_err());
        assert!(vocab().tokenize("", UnknownWords::Skip).is_err());
    }

    #[test]
    fn built_vocabulary_is_frequency_ordered() {
        let v = Vocabulary::build(["a man in a coat", "a woman in a red coat"]).unwrap();
        assert_eq!(v.id("a"), Some(1));
        assert_eq!(v.id("coat"), Some(2));
        assert_eq!(v.id("in"), Some(3));
        assert_eq!(v.iter().len(), 6);
        assert_eq!(v.iter()[0], ("a", 1));
    }

    #[test]
    fn vocabulary_files_are_validated() {
        let dir = std::env::temp_dir().join(format!("lookout-vocab-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("vocab.json");
        std::fs::write(&json, r#"{"man": 1, "coat": 2}"#).unwrap();
        assert_eq!(Vocabulary::load(&json).unwrap().id("coat"), Some(2));
        std::fs::write(&json, r#"{"man": 0}"#).unwrap();
        assert!(Vocabulary::load(&json)
            .unwrap_err()
            .to_string()
            .contains("padding"));
        std::fs::write(&json, "[1, 2").unwrap();
        assert!(matches!(
            Vocabulary::load(&json),
            Err(TokenizerError::Invalid { .. })
        ));
        let txt = dir.join("vocab.txt");
        std::fs::write(&txt, "man\ncoat\n").unwrap();
        let v = Vocabulary::load(&txt).unwrap();
        assert_eq!((v.id("man"), v.id("coat")), (Some(1), Some(2)));
        assert!(v.check_against(3).is_ok() && v.check_against(2).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
