//! The vocabulary and the TextReID annotation files.
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::SynthError;

/// Lower-cased alphabetic words, exactly as Lookout's tokenizer splits them.
pub fn split_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// Words ordered by frequency (ties alphabetically); the first has id 1.
pub struct Vocab {
    pub words: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Vocab {
    pub fn build<'a>(sentences: impl IntoIterator<Item = &'a str>) -> Vocab {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for s in sentences {
            for w in split_words(s) {
                *counts.entry(w).or_default() += 1;
            }
        }
        let mut words: Vec<(String, usize)> = counts.into_iter().collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let words: Vec<String> = words.into_iter().map(|w| w.0).collect();
        let ids = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32 + 1))
            .collect();
        Vocab { words, ids }
    }

    pub fn encode(&self, sentence: &str) -> Vec<u32> {
        split_words(sentence)
            .iter()
            .filter_map(|w| self.ids.get(w).copied())
            .collect()
    }

    /// `{"word": id, ...}` in id order.
    pub fn to_json(&self) -> String {
        let mut s = String::from("{");
        for (i, w) in self.words.iter().enumerate() {
            if i > 0 {
                s.push_str(",\n ");
            }
            s.push_str(&serde_json::to_string(w).unwrap_or_default());
            s.push_str(&format!(": {}", i + 1));
        }
        s.push_str("}\n");
        s
    }
}

#[derive(Serialize)]
pub struct Annotation<'a> {
    pub file_path: &'a str,
    pub onehot: Vec<u32>,
    pub sentence: &'a str,
    pub id: usize,
    pub image_id: usize,
}

#[derive(Serialize)]
struct AnnotationFile<'a> {
    annotations: &'a [Annotation<'a>],
}

pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SynthError> {
    let io = |source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    f.write_all(bytes).map_err(io)?;
    f.flush().map_err(io)
}

pub fn write_annotations(path: &Path, anns: &[Annotation]) -> Result<(), SynthError> {
    let json = serde_json::to_vec(&AnnotationFile { annotations: anns }).map_err(|source| {
        SynthError::Json {
            path: path.to_path_buf(),
            source,
        }
    })?;
    write_file(path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocab_orders_by_frequency_and_round_trips() {
        let v = Vocab::build(["A man, a T-shirt.", "a red T-shirt"]);
        assert_eq!(v.words[0], "a");
        assert_eq!(v.encode("a man"), vec![1, v.ids["man"]]);
        let json: serde_json::Value = serde_json::from_str(&v.to_json()).unwrap();
        assert_eq!(json["a"], 1);
        assert_eq!(json.as_object().unwrap().len(), v.words.len());
        assert!(!v.ids.values().any(|&i| i == 0));
    }
}
