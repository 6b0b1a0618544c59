//! The query side of the model: sentence → tokenizer → text encoder → L2-normalised
//! vector. A libtorch module is not `Sync`, so the daemon keeps a few model copies and
//! hands each request the first free one; a text query takes milliseconds.
use std::path::Path;
use std::sync::{Condvar, Mutex};

use tch::Device;

use crate::model::{ModelBundle, Pooling, TextReid};
use crate::text::{TokenizerError, UnknownWords, Vocabulary};

use super::SearchError;

/// Longest query accepted, in characters (a description, not a document).
pub const MAX_QUERY_CHARS: usize = 1000;

pub struct EncodedQuery {
    /// `None` when no word of the query is in the vocabulary (nothing to search for;
    /// while an operator is still typing the first word this is normal, not an error).
    pub vector: Option<Vec<f32>>,
    pub unknown_words: Vec<String>,
}

pub struct QueryEncoder {
    models: Mutex<Vec<TextReid>>,
    returned: Condvar,
    vocabulary: Vocabulary,
    max_words: usize,
    dimension: usize,
    model_version: String,
}

impl QueryEncoder {
    /// Loads `copies` instances of the model at `path` (a bundle with a vocabulary).
    pub fn load(path: &Path, device: Device, copies: usize) -> anyhow::Result<Self> {
        use anyhow::Context;
        let bundle = ModelBundle::resolve(path)
            .with_context(|| format!("model bundle {}", path.display()))?;
        let vocab_path = bundle.vocabulary.clone().with_context(|| {
            format!(
                "model {} has no vocabulary (vocab.json beside the weights)",
                path.display()
            )
        })?;
        let vocabulary = Vocabulary::load(&vocab_path)?;
        let mut models = Vec::new();
        for _ in 0..copies.max(1) {
            models.push(
                TextReid::load(&bundle, device)
                    .with_context(|| format!("loading model {}", path.display()))?,
            );
        }
        let first = &models[0];
        vocabulary.check_against(first.textual.dictionary().words())?;
        Ok(QueryEncoder {
            max_words: first.config.textual.max_words,
            dimension: first.config.embedding_dim,
            model_version: first.config.version.clone(),
            vocabulary,
            models: Mutex::new(models),
            returned: Condvar::new(),
        })
    }

    /// Wraps an already loaded model (tests, the ingest side's shared instance).
    pub fn from_model(model: TextReid, vocabulary: Vocabulary) -> Self {
        QueryEncoder {
            max_words: model.config.textual.max_words,
            dimension: model.config.embedding_dim,
            model_version: model.config.version.clone(),
            vocabulary,
            models: Mutex::new(vec![model]),
            returned: Condvar::new(),
        }
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    pub fn model_version(&self) -> &str {
        &self.model_version
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// Runs `work` with a free model copy (waits for one when all are busy).
    pub fn with_model<T>(&self, work: impl FnOnce(&TextReid) -> T) -> Result<T, SearchError> {
        let poisoned = || SearchError::Encoder("model pool poisoned by an earlier panic".into());
        let model = {
            let mut free = self.models.lock().map_err(|_| poisoned())?;
            loop {
                if let Some(model) = free.pop() {
                    break model;
                }
                free = self.returned.wait(free).map_err(|_| poisoned())?;
            }
        };
        let result = work(&model);
        self.models.lock().map_err(|_| poisoned())?.push(model);
        self.returned.notify_one();
        Ok(result)
    }

    pub fn encode(&self, text: &str) -> Result<EncodedQuery, SearchError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SearchError::BadQuery("the query is empty".into()));
        }
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::BadQuery(format!(
                "the query is longer than {MAX_QUERY_CHARS} characters"
            )));
        }
        let tokens = match self.vocabulary.tokenize(text, UnknownWords::Skip) {
            Ok(tokens) => tokens,
            Err(TokenizerError::NoKnownWord { unknown }) => {
                return Ok(EncodedQuery {
                    vector: None,
                    unknown_words: unknown,
                })
            }
            Err(other) => return Err(SearchError::Encoder(other.to_string())),
        };
        let mut ids = tokens.ids;
        ids.truncate(self.max_words);
        let embedded = self.with_model(|model| {
            model
                .embed_captions(&[ids], Pooling::PerCaption, 1)
                .and_then(|t| {
                    Vec::<f32>::try_from(t.flatten(0, -1).to_kind(tch::Kind::Float)).map_err(|e| {
                        crate::model::ModelError::Config {
                            source_name: "text embedding".into(),
                            reason: e.to_string(),
                        }
                    })
                })
        })?;
        let vector = embedded.map_err(|e| SearchError::Encoder(e.to_string()))?;
        Ok(EncodedQuery {
            vector: Some(vector),
            unknown_words: tokens.unknown,
        })
    }
}
