//! Search: an operator's sentence (or a stored sighting, for "find similar") → the best
//! matching sightings.
//!
//! Stages, each timed: encode (tokenizer → word dictionary → bi-GRU → max-pool →
//! projection, L2-normalised) → search (top-N candidates from the store with the
//! camera / time / score filters applied inside the vector search) → re-rank (the
//! paper's α·Jaccard of top-k neighbour sets, computed among the candidates with their
//! own image vectors, so it needs no precomputed gallery and follows the filters) →
//! the `limit` best.
pub mod encoder;

use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::eval::metrics::MatrixView;
use crate::eval::rerank::GalleryNeighbours;
use crate::store::{ScoredSighting, SightingFilter, SightingId, Store, StoreError};

pub use encoder::{EncodedQuery, QueryEncoder};

/// `[search]` in the configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SearchConfig {
    /// Candidates fetched from the store before re-ranking.
    pub candidates: usize,
    /// Results returned when a request names no limit.
    pub default_limit: usize,
    /// Largest limit a request may ask for.
    pub max_limit: usize,
    /// Re-ranking neighbour-list length (k; the reference uses 5).
    pub rerank_k: usize,
    /// Weight of the Jaccard term (α; the reference uses 0.05).
    pub rerank_alpha: f64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            candidates: 200,
            default_limit: 48,
            max_limit: 200,
            rerank_k: 5,
            rerank_alpha: 0.05,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("{0}")]
    BadQuery(String),
    #[error("no sighting with id {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("text encoder: {0}")]
    Encoder(String),
    /// The alias serves a collection embedded by another model than this daemon's text
    /// encoder: its query vectors would be compared with vectors of another space.
    #[error("this daemon's model writes and reads collection {own}, but the alias serves {served}: restart the daemon with the model of {served} (or switch the alias back)")]
    ModelMismatch { own: String, served: String },
}

/// Milliseconds spent in each stage.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StageTimings {
    pub encode: f64,
    pub search: f64,
    pub rerank: f64,
    pub total: f64,
}

#[derive(Debug, Clone)]
pub struct SearchHit {
    /// Final score: cosine similarity, plus the re-ranking term when re-ranked.
    pub score: f32,
    pub sighting: crate::store::StoredSighting,
}

#[derive(Debug, Clone)]
pub struct SearchResponse {
    pub hits: Vec<SearchHit>,
    /// Query words the vocabulary does not know (they were left out).
    pub unknown_words: Vec<String>,
    /// How many candidates the store returned.
    pub candidates: usize,
    pub timings: StageTimings,
}

/// What to search for and how.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub filter: SightingFilter,
    pub limit: usize,
    pub rerank: bool,
}

pub struct SearchEngine {
    encoder: Arc<QueryEncoder>,
    store: Store,
    config: SearchConfig,
    /// The alias target, looked up at most every [`ALIAS_TTL`] (a server round trip).
    served: std::sync::Mutex<Option<(Instant, Option<String>)>>,
}

/// How long a looked-up alias target is trusted.
const ALIAS_TTL: std::time::Duration = std::time::Duration::from_secs(5);

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

impl SearchEngine {
    pub fn new(encoder: Arc<QueryEncoder>, store: Store, config: SearchConfig) -> Self {
        SearchEngine {
            encoder,
            store,
            config,
            served: std::sync::Mutex::new(None),
        }
    }

    /// The collection the alias serves (cached for a few seconds).
    pub async fn served_collection(&self) -> Result<Option<String>, SearchError> {
        if let Ok(cache) = self.served.lock() {
            if let Some((at, target)) = cache.as_ref() {
                if at.elapsed() < ALIAS_TTL {
                    return Ok(target.clone());
                }
            }
        }
        let target = self.store.alias_target().await?;
        if let Ok(mut cache) = self.served.lock() {
            *cache = Some((Instant::now(), target.clone()));
        }
        Ok(target)
    }

    /// Drops the cached alias target (after this process switched the alias).
    pub fn forget_served_collection(&self) {
        if let Ok(mut cache) = self.served.lock() {
            *cache = None;
        }
    }

    /// Errors when the served collection was embedded by another model.
    pub async fn check_model(&self) -> Result<(), SearchError> {
        let own = self.store.collection();
        match self.served_collection().await? {
            Some(served) if served != own => Err(SearchError::ModelMismatch { own, served }),
            _ => Ok(()),
        }
    }

    pub fn config(&self) -> &SearchConfig {
        &self.config
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn encoder(&self) -> &Arc<QueryEncoder> {
        &self.encoder
    }

    fn check_limit(&self, limit: usize) -> Result<usize, SearchError> {
        if limit == 0 || limit > self.config.max_limit {
            return Err(SearchError::BadQuery(format!(
                "limit must be between 1 and {}, got {limit}",
                self.config.max_limit
            )));
        }
        Ok(limit)
    }

    /// Text → sightings.
    pub async fn search_text(
        &self,
        text: &str,
        options: &SearchOptions,
    ) -> Result<SearchResponse, SearchError> {
        let limit = self.check_limit(options.limit)?;
        let started = Instant::now();
        let encoder = self.encoder.clone();
        let text = text.to_string();
        let encoded = tokio::task::spawn_blocking(move || encoder.encode(&text))
            .await
            .map_err(|e| SearchError::Encoder(e.to_string()))??;
        let encode_ms = ms(started);
        let Some(vector) = encoded.vector else {
            return Ok(SearchResponse {
                hits: Vec::new(),
                unknown_words: encoded.unknown_words,
                candidates: 0,
                timings: StageTimings {
                    encode: encode_ms,
                    total: ms(started),
                    ..Default::default()
                },
            });
        };
        let mut response = self.search_vector(vector, options, limit).await?;
        response.unknown_words = encoded.unknown_words;
        response.timings.encode = encode_ms;
        response.timings.total = ms(started);
        Ok(response)
    }

    /// A stored sighting → sightings that look like it ("find similar").
    pub async fn search_similar(
        &self,
        id: SightingId,
        options: &SearchOptions,
    ) -> Result<SearchResponse, SearchError> {
        let limit = self.check_limit(options.limit)?;
        let started = Instant::now();
        let found = self.store.get(vec![id], true).await?;
        let vector = found
            .into_iter()
            .next()
            .and_then(|s| s.vector)
            .ok_or_else(|| SearchError::NotFound(id.to_string()))?;
        let mut response = self.search_vector(vector, options, limit).await?;
        response.timings.encode = 0.0;
        response.timings.total = ms(started);
        Ok(response)
    }

    async fn search_vector(
        &self,
        vector: Vec<f32>,
        options: &SearchOptions,
        limit: usize,
    ) -> Result<SearchResponse, SearchError> {
        self.check_model().await?;
        let search_started = Instant::now();
        let wanted = if options.rerank {
            self.config.candidates.max(limit)
        } else {
            limit
        };
        let candidates = self
            .store
            .search(vector, options.filter.clone(), wanted, options.rerank)
            .await?;
        let search_ms = ms(search_started);
        let candidate_count = candidates.len();
        let rerank_started = Instant::now();
        let mut hits = if options.rerank {
            rerank(candidates, self.config.rerank_k, self.config.rerank_alpha)
        } else {
            candidates
                .into_iter()
                .map(|c| SearchHit {
                    score: c.score,
                    sighting: c.sighting,
                })
                .collect()
        };
        hits.truncate(limit);
        for hit in &mut hits {
            hit.sighting.vector = None;
        }
        let rerank_ms = if options.rerank {
            ms(rerank_started)
        } else {
            0.0
        };
        Ok(SearchResponse {
            hits,
            unknown_words: Vec::new(),
            candidates: candidate_count,
            timings: StageTimings {
                encode: 0.0,
                search: search_ms,
                rerank: rerank_ms,
                total: 0.0,
            },
        })
    }
}

/// Re-ranks candidates (sorted by cosine, with vectors) by `cosine + α·Jaccard`, where
/// the Jaccard index compares the query's top-k candidates with each candidate's top-k
/// neighbours among the candidates (the reference's `k_reciprocal`, with the candidate
/// set as the gallery). Candidates without a vector keep their cosine score.
pub fn rerank(candidates: Vec<ScoredSighting>, k: usize, alpha: f64) -> Vec<SearchHit> {
    let n = candidates.len();
    let dim = candidates
        .iter()
        .find_map(|c| c.sighting.vector.as_ref().map(Vec::len))
        .unwrap_or(0);
    let usable = n >= 2
        && k > 0
        && dim > 0
        && candidates
            .iter()
            .all(|c| c.sighting.vector.as_ref().is_some_and(|v| v.len() == dim));
    let mut scores: Vec<f64> = candidates.iter().map(|c| f64::from(c.score)).collect();
    if usable {
        let vectors: Vec<&[f32]> = candidates
            .iter()
            .filter_map(|c| c.sighting.vector.as_deref())
            .collect();
        let mut gram = vec![0f32; n * n];
        for i in 0..n {
            for j in i..n {
                let dot: f32 = vectors[i].iter().zip(vectors[j]).map(|(a, b)| a * b).sum();
                gram[i * n + j] = dot;
                gram[j * n + i] = dot;
            }
        }
        let query_row: Vec<f32> = candidates.iter().map(|c| c.score).collect();
        let terms = MatrixView::new(n, n, &gram)
            .ok()
            .and_then(|view| GalleryNeighbours::from_gram(&view, k).ok())
            .and_then(|nn| nn.query_terms(&query_row, alpha).ok());
        if let Some(terms) = terms {
            for (j, term) in terms {
                scores[j] += term;
            }
        }
    }
    let mut hits: Vec<SearchHit> = candidates
        .into_iter()
        .zip(scores)
        .map(|(c, score)| SearchHit {
            score: score as f32,
            sighting: c.sighting,
        })
        .collect();
    // Stable: equal scores keep the store's (cosine) order.
    hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::BBox;
    use crate::store::{SightingInfo, StoredSighting};

    fn candidate(id: u64, score: f32, vector: Vec<f32>) -> ScoredSighting {
        let b = BBox::new(0.0, 0.0, 1.0, 1.0);
        ScoredSighting {
            score,
            sighting: StoredSighting {
                id: SightingId(id),
                vector: Some(vector),
                info: SightingInfo {
                    camera_id: "c".into(),
                    track_id: id,
                    first_seen_ms: 0,
                    last_seen_ms: 0,
                    best_time_ms: 0,
                    bbox: b,
                    frame_width: 1,
                    frame_height: 1,
                    thumb_bbox: b,
                    thumb_width: 1,
                    thumb_height: 1,
                    detector_score: 1.0,
                    model_version: "t".into(),
                },
            },
        }
    }

    #[test]
    fn rerank_lifts_a_candidate_whose_neighbours_agree_with_the_query() {
        // Query top-2 = {0, 1}. Candidate 2 looks like 0 and 1 (shares their
        // neighbourhood); candidate 3, with a slightly higher cosine, has neighbours the
        // query does not share.
        let candidates = vec![
            candidate(0, 0.90, vec![1.0, 0.0, 0.0]),
            candidate(1, 0.89, vec![0.99, 0.14, 0.0]),
            candidate(3, 0.70, vec![0.3, 0.95, 0.0]),
            candidate(2, 0.69, vec![0.98, 0.2, 0.0]),
        ];
        let hits = rerank(candidates, 2, 0.05);
        let order: Vec<u64> = hits.iter().map(|h| h.sighting.id.0).collect();
        assert_eq!(order[..2], [0, 1]);
        // 2's neighbours {2, 1} share 1 with the query's {0, 1}: J = 1/3 → +0.0167.
        assert_eq!(order[2], 2, "order {order:?}");
        let lifted = hits.iter().find(|h| h.sighting.id.0 == 2).unwrap();
        assert!((lifted.score - (0.69 + 0.05 / 3.0)).abs() < 1e-5);
    }

    #[test]
    fn rerank_of_one_candidate_keeps_its_score() {
        let hits = rerank(vec![candidate(7, 0.5, vec![1.0, 0.0])], 5, 0.05);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].score, 0.5);
    }
}
