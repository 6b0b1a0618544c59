//! Evaluation and post-processing: the reference CMC / mAP and the Jaccard re-ranking.
pub mod evaluate;
pub mod metrics;
pub mod rerank;

pub use metrics::{rank, unique_first_indices, MatrixView, MetricsError, RankMetrics};
pub use rerank::{k_reciprocal, rerank_matrix, GalleryNeighbours, RerankParams};
