//! The sighting store: one point per sighting (a person's track on one camera), its
//! embedding as the vector, its facts as the payload, and its crop and reduced frame
//! kept beside it so that any query daemon can serve them and `lookout reindex` can
//! re-embed the store without the video.
//!
//! Two real back-ends behind one type, [`Store`]:
//! - [`embedded`]: `qdrant-edge` shards in the data directory (the default, one machine);
//! - [`server`]: a Qdrant server or cluster through `qdrant-client` (scale-out).
//!
//! Layout in both: a sightings collection per model version (`lookout_sightings_<version>`),
//! an alias (`lookout_sightings`) naming the one the daemons search, and one media
//! collection (`lookout_media`) holding the JPEGs under the sighting's id, so a model
//! change never copies the pictures. Payload indexes on `camera_id` and `best_time_ms`
//! make camera and time filters run inside the vector search.
pub mod embedded;
pub mod payload;
pub mod server;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::frame::BBox;

pub use payload::SightingFilter;

/// The alias the daemons search through.
pub const SIGHTINGS_ALIAS: &str = "lookout_sightings";
/// The collection holding every sighting's crop and frame JPEGs.
pub const MEDIA_COLLECTION: &str = "lookout_media";

/// `[store]` in the configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "backend", rename_all = "snake_case", deny_unknown_fields)]
pub enum StoreConfig {
    /// qdrant-edge shards on local disk.
    Embedded {
        /// Folder for the shards; created when missing.
        #[serde(default = "default_data_dir")]
        data_dir: PathBuf,
    },
    /// A Qdrant server or cluster (gRPC, port 6334).
    Server(server::ServerConfig),
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data/store")
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig::Embedded {
            data_dir: default_data_dir(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {backend}: {context}: {message}")]
    Backend {
        backend: &'static str,
        context: String,
        message: String,
    },
    #[error("vector has {found} dimensions; collection {collection} holds {expected}")]
    Dimension {
        collection: String,
        expected: usize,
        found: usize,
    },
    #[error("stored point {id} has a malformed payload: {reason}")]
    Payload { id: String, reason: String },
    #[error("invalid store configuration: {0}")]
    Config(String),
    #[error("no sightings collection for model version {0:?}")]
    NoCollection(String),
}

impl StoreError {
    pub(crate) fn backend(
        backend: &'static str,
        context: impl Into<String>,
        message: impl std::fmt::Display,
    ) -> Self {
        StoreError::Backend {
            backend,
            context: context.into(),
            message: message.to_string(),
        }
    }
}

/// The facts stored for a sighting (the point's payload, less the media).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SightingInfo {
    pub camera_id: String,
    pub track_id: u64,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    /// Time of the frame the crop was cut from.
    pub best_time_ms: i64,
    /// The person's box in the original frame's pixels.
    pub bbox: BBox,
    pub frame_width: u32,
    pub frame_height: u32,
    /// The same box in the kept (reduced) frame's pixels.
    pub thumb_bbox: BBox,
    pub thumb_width: u32,
    pub thumb_height: u32,
    pub detector_score: f32,
    pub model_version: String,
}

/// A sighting ready to store: id, embedding, facts and pictures.
#[derive(Debug, Clone)]
pub struct SightingRecord {
    pub id: SightingId,
    pub vector: Vec<f32>,
    pub info: SightingInfo,
    /// 128×384 JPEG of the person.
    pub crop_jpeg: Vec<u8>,
    /// Reduced JPEG of the whole frame.
    pub frame_jpeg: Vec<u8>,
}

/// A sighting read back, with its vector when asked for.
#[derive(Debug, Clone)]
pub struct StoredSighting {
    pub id: SightingId,
    pub info: SightingInfo,
    pub vector: Option<Vec<f32>>,
}

/// A search hit: cosine similarity (the vectors are L2-normalised).
#[derive(Debug, Clone)]
pub struct ScoredSighting {
    pub score: f32,
    pub sighting: StoredSighting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Crop,
    Frame,
}

impl MediaKind {
    pub(crate) fn payload_key(self) -> &'static str {
        match self {
            MediaKind::Crop => "crop_jpeg_b64",
            MediaKind::Frame => "frame_jpeg_b64",
        }
    }
}

/// A sighting's id: a stable 64-bit hash of (camera, track start, track id, part), so a
/// retried upsert of the same sighting overwrites instead of duplicating. Shown to users
/// as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SightingId(pub u64);

impl SightingId {
    pub fn for_track(camera_id: &str, first_seen_ms: i64, track_id: u64, part: u32) -> Self {
        // FNV-1a: tiny, stable across Rust releases (std's hasher is not).
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |bytes: &[u8]| {
            for b in bytes {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        };
        feed(camera_id.as_bytes());
        feed(&[0xff]);
        feed(&first_seen_ms.to_le_bytes());
        feed(&track_id.to_le_bytes());
        feed(&part.to_le_bytes());
        // Keep ids below 2^63 so that every JSON and gRPC integer type holds them.
        SightingId(hash >> 1)
    }

    pub fn parse(text: &str) -> Option<Self> {
        if text.is_empty() || text.len() > 16 {
            return None;
        }
        u64::from_str_radix(text, 16).ok().map(SightingId)
    }
}

impl std::fmt::Display for SightingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Facts about the open store, for health and metrics.
#[derive(Debug, Clone, Serialize)]
pub struct StoreStatus {
    pub backend: &'static str,
    pub collection: String,
    pub points: usize,
    pub dimension: usize,
}

/// Name of the sightings collection of a model version: letters, digits and `_` only.
pub fn collection_name(model_version: &str) -> String {
    collection_name_in(SIGHTINGS_ALIAS, model_version)
}

/// [`collection_name`] under another alias (a namespaced server deployment).
pub fn collection_name_in(alias: &str, model_version: &str) -> String {
    let cleaned: String = model_version
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{alias}_{cleaned}")
}

/// The open store. Methods are async because the server back-end is; the embedded one
/// runs its (synchronous, millisecond) calls on the blocking pool.
#[derive(Clone)]
pub enum Store {
    Embedded(std::sync::Arc<embedded::EmbeddedStore>),
    Server(std::sync::Arc<server::ServerStore>),
}

impl Store {
    /// Opens the store and makes sure a collection for `model_version` with vectors of
    /// `dimension` exists. The alias is pointed at it only when it names nothing yet;
    /// switching an existing alias is [`Store::switch_alias`]'s job (after a reindex).
    pub async fn open(
        config: &StoreConfig,
        model_version: &str,
        dimension: usize,
    ) -> Result<Store, StoreError> {
        match config {
            StoreConfig::Embedded { data_dir } => {
                let data_dir = data_dir.clone();
                let version = model_version.to_string();
                let store = tokio::task::spawn_blocking(move || {
                    embedded::EmbeddedStore::open(&data_dir, &version, dimension)
                })
                .await
                .map_err(|e| StoreError::backend("embedded", "open", e))??;
                Ok(Store::Embedded(std::sync::Arc::new(store)))
            }
            StoreConfig::Server(server_config) => {
                let store =
                    server::ServerStore::open(server_config, model_version, dimension).await?;
                Ok(Store::Server(std::sync::Arc::new(store)))
            }
        }
    }

    /// A handle on the same store writing to another model version's collection (for
    /// reindexing inside a running daemon; the alias is left as it is).
    pub async fn for_model_version(
        &self,
        model_version: &str,
        dimension: usize,
    ) -> Result<Store, StoreError> {
        match self {
            Store::Embedded(s) => {
                let s = s.clone();
                let version = model_version.to_string();
                let other = blocking(move || s.for_model_version(&version, dimension)).await?;
                Ok(Store::Embedded(std::sync::Arc::new(other)))
            }
            Store::Server(s) => Ok(Store::Server(std::sync::Arc::new(
                s.for_model_version(model_version, dimension).await?,
            ))),
        }
    }

    /// The collection that writes go to (this model version's).
    pub fn collection(&self) -> String {
        match self {
            Store::Embedded(s) => s.collection(),
            Store::Server(s) => s.collection(),
        }
    }

    /// A vector of the wrong size is refused before anything is written.
    fn check_dimension(&self, found: usize) -> Result<(), StoreError> {
        let expected = match self {
            Store::Embedded(s) => s.dimension(),
            Store::Server(s) => s.dimension(),
        };
        if found == expected {
            Ok(())
        } else {
            Err(StoreError::Dimension {
                collection: self.collection(),
                expected,
                found,
            })
        }
    }

    /// Stores the sightings, pictures first, and returns once they are durable (the
    /// embedded back-end has flushed its WAL; the server acknowledged with `wait`).
    pub async fn upsert(&self, records: Vec<SightingRecord>) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        for record in &records {
            self.check_dimension(record.vector.len())?;
        }
        match self {
            Store::Embedded(s) => {
                let s = s.clone();
                blocking(move || s.upsert(&records)).await
            }
            Store::Server(s) => s.upsert(&records).await,
        }
    }

    /// The `limit` nearest sightings to `vector` that pass `filter`.
    pub async fn search(
        &self,
        vector: Vec<f32>,
        filter: SightingFilter,
        limit: usize,
        with_vectors: bool,
    ) -> Result<Vec<ScoredSighting>, StoreError> {
        self.check_dimension(vector.len())?;
        match self {
            Store::Embedded(s) => {
                let s = s.clone();
                blocking(move || s.search(&vector, &filter, limit, with_vectors)).await
            }
            Store::Server(s) => s.search(&vector, &filter, limit, with_vectors).await,
        }
    }

    /// Sightings by id (missing ids are left out), in the order asked.
    pub async fn get(
        &self,
        ids: Vec<SightingId>,
        with_vectors: bool,
    ) -> Result<Vec<StoredSighting>, StoreError> {
        match self {
            Store::Embedded(s) => {
                let s = s.clone();
                blocking(move || s.get(&ids, with_vectors)).await
            }
            Store::Server(s) => s.get(&ids, with_vectors).await,
        }
    }

    /// A sighting's crop or frame JPEG.
    pub async fn media(
        &self,
        id: SightingId,
        kind: MediaKind,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Store::Embedded(s) => {
                let s = s.clone();
                blocking(move || s.media(id, kind)).await
            }
            Store::Server(s) => s.media(id, kind).await,
        }
    }

    /// Deletes sightings (and their pictures) last seen before `cutoff_ms`; returns how
    /// many sightings went.
    pub async fn delete_older_than(&self, cutoff_ms: i64) -> Result<usize, StoreError> {
        match self {
            Store::Embedded(s) => {
                let s = s.clone();
                blocking(move || s.delete_older_than(cutoff_ms)).await
            }
            Store::Server(s) => s.delete_older_than(cutoff_ms).await,
        }
    }

    /// Sightings per camera id.
    pub async fn cameras(&self) -> Result<Vec<(String, usize)>, StoreError> {
        match self {
            Store::Embedded(s) => {
                let s = s.clone();
                blocking(move || s.cameras()).await
            }
            Store::Server(s) => s.cameras().await,
        }
    }

    /// One page of sightings in id order, for reindexing: (sightings, next offset).
    pub async fn scroll(
        &self,
        collection: String,
        offset: Option<SightingId>,
        limit: usize,
    ) -> Result<(Vec<StoredSighting>, Option<SightingId>), StoreError> {
        match self {
            Store::Embedded(s) => {
                let s = s.clone();
                blocking(move || s.scroll(&collection, offset, limit)).await
            }
            Store::Server(s) => s.scroll(&collection, offset, limit).await,
        }
    }

    /// The collection the alias points at now.
    pub async fn alias_target(&self) -> Result<Option<String>, StoreError> {
        match self {
            Store::Embedded(s) => Ok(s.alias_target()),
            Store::Server(s) => s.alias_target().await,
        }
    }

    /// Points the alias (what daemons search) at `collection`, atomically.
    pub async fn switch_alias(&self, collection: &str) -> Result<(), StoreError> {
        match self {
            Store::Embedded(s) => {
                let s = s.clone();
                let collection = collection.to_string();
                blocking(move || s.switch_alias(&collection)).await
            }
            Store::Server(s) => s.switch_alias(collection).await,
        }
    }

    /// Sightings collections that exist, by name.
    pub async fn collections(&self) -> Result<Vec<String>, StoreError> {
        match self {
            Store::Embedded(s) => Ok(s.collections()),
            Store::Server(s) => s.collections().await,
        }
    }

    pub async fn status(&self) -> Result<StoreStatus, StoreError> {
        match self {
            Store::Embedded(s) => {
                let s = s.clone();
                blocking(move || s.status()).await
            }
            Store::Server(s) => s.status().await,
        }
    }

    /// Builds the vector index of what was added since the last call (embedded only;
    /// a server indexes by itself). Returns whether anything was optimised.
    pub async fn optimize(&self) -> Result<bool, StoreError> {
        match self {
            Store::Embedded(s) => {
                let s = s.clone();
                blocking(move || s.optimize()).await
            }
            Store::Server(_) => Ok(false),
        }
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::backend("embedded", "blocking task", e))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sighting_ids_are_stable_and_round_trip_as_hex() {
        let a = SightingId::for_track("gate-1", 1_764_633_600_000, 17, 0);
        assert_eq!(a, SightingId::for_track("gate-1", 1_764_633_600_000, 17, 0));
        assert_ne!(a, SightingId::for_track("gate-1", 1_764_633_600_000, 17, 1));
        assert_ne!(a, SightingId::for_track("gate-2", 1_764_633_600_000, 17, 0));
        assert!(a.0 < (1 << 63));
        assert_eq!(SightingId::parse(&a.to_string()), Some(a));
        assert_eq!(SightingId::parse("not-hex"), None);
        assert_eq!(SightingId::parse("12345678901234567"), None);
    }

    #[test]
    fn collection_names_are_safe() {
        assert_eq!(
            collection_name("lookout-default-MNV2.v1"),
            "lookout_sightings_lookout_default_mnv2_v1"
        );
    }

    #[test]
    fn store_config_parses_both_backends() {
        let embedded: StoreConfig =
            toml::from_str("backend = \"embedded\"\ndata_dir = \"d\"").unwrap();
        assert_eq!(
            embedded,
            StoreConfig::Embedded {
                data_dir: "d".into()
            }
        );
        let server: StoreConfig = toml::from_str(
            "backend = \"server\"\nurl = \"http://q:6334\"\nshard_number = 3\nreplication_factor = 2",
        )
        .unwrap();
        match server {
            StoreConfig::Server(c) => {
                assert_eq!(c.shard_number, 3);
                assert_eq!(c.replication_factor, 2);
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(toml::from_str::<StoreConfig>("backend = \"embedded\"\ncolour = 1").is_err());
    }
}
