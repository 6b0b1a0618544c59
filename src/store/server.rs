//! The server back-end: a Qdrant server or cluster over gRPC (`qdrant-client`). TLS is
//! used when the URL is `https://`; the API key comes from the configuration or the
//! environment variable it names. Shard number, replication factor and write
//! consistency apply when a collection is created; every write waits for the
//! acknowledgement (`wait = true`) with the configured ordering, so an acknowledged
//! sighting is on the replicas the consistency factor asks for.
use std::collections::HashMap;
use std::time::Duration;

use qdrant_client::qdrant::{
    point_id, Condition, CountPointsBuilder, CreateAliasBuilder, CreateCollectionBuilder,
    CreateFieldIndexCollectionBuilder, DeletePointsBuilder, Distance, FacetCountsBuilder,
    FieldType, Filter, GetPointsBuilder, PointId, PointStruct, Range, RetrievedPoint, ScoredPoint,
    ScrollPointsBuilder, SearchPointsBuilder, UpsertPointsBuilder, VectorParamsBuilder,
    WriteOrdering, WriteOrderingType,
};
use qdrant_client::{Payload, Qdrant};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::payload::{self, INDEXED_FIELDS};
use super::{
    MediaKind, ScoredSighting, SightingFilter, SightingId, SightingRecord, StoreError, StoreStatus,
    StoredSighting,
};

const BACKEND: &str = "server";

/// `[store]` with `backend = "server"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// gRPC URL, e.g. `http://qdrant:6334`; `https://` turns TLS on.
    pub url: String,
    /// API key (prefer `api_key_env` so the key stays out of the file).
    #[serde(default)]
    pub api_key: Option<String>,
    /// Environment variable holding the API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Shards of a new collection (spread over the cluster's nodes).
    #[serde(default = "one")]
    pub shard_number: u32,
    /// Copies of each shard.
    #[serde(default = "one")]
    pub replication_factor: u32,
    /// Replicas that must acknowledge a write.
    #[serde(default = "one")]
    pub write_consistency: u32,
    /// `weak`, `medium` or `strong` write ordering.
    #[serde(default = "default_ordering")]
    pub write_ordering: String,
    /// Request timeout, seconds.
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
    /// Prefix of Lookout's collection and alias names, so that several deployments
    /// (or tests) can share one cluster: `<namespace>_sightings`, `<namespace>_media`.
    #[serde(default = "default_namespace")]
    pub namespace: String,
}

fn default_namespace() -> String {
    "lookout".into()
}

fn one() -> u32 {
    1
}
fn default_ordering() -> String {
    "weak".into()
}
fn default_timeout() -> u64 {
    10
}

fn server_error(context: impl Into<String>, err: impl std::fmt::Display) -> StoreError {
    StoreError::backend(BACKEND, context, err)
}

pub struct ServerStore {
    client: Qdrant,
    config: ServerConfig,
    /// The alias the daemons search (`<namespace>_sightings`).
    alias: String,
    /// The pictures (`<namespace>_media`).
    media: String,
    collection: String,
    dimension: usize,
    ordering: WriteOrderingType,
}

impl ServerStore {
    pub async fn open(
        config: &ServerConfig,
        model_version: &str,
        dimension: usize,
    ) -> Result<Self, StoreError> {
        let ordering = match config.write_ordering.as_str() {
            "weak" => WriteOrderingType::Weak,
            "medium" => WriteOrderingType::Medium,
            "strong" => WriteOrderingType::Strong,
            other => {
                return Err(StoreError::Config(format!(
                    "write_ordering = {other:?}: expected weak, medium or strong"
                )))
            }
        };
        if config.shard_number == 0
            || config.replication_factor == 0
            || config.write_consistency == 0
        {
            return Err(StoreError::Config(
                "shard_number, replication_factor and write_consistency must be at least 1".into(),
            ));
        }
        let api_key = match (&config.api_key, &config.api_key_env) {
            (Some(key), _) => Some(key.clone()),
            (None, Some(var)) => Some(std::env::var(var).map_err(|_| {
                StoreError::Config(format!(
                    "api_key_env = {var:?} but that variable is not set"
                ))
            })?),
            (None, None) => None,
        };
        let client = Qdrant::from_url(&config.url)
            .api_key(api_key)
            .timeout(Duration::from_secs(config.timeout_s.max(1)))
            .skip_compatibility_check()
            .build()
            .map_err(|e| server_error(format!("connect to {}", config.url), e))?;
        client
            .health_check()
            .await
            .map_err(|e| server_error(format!("health check of {}", config.url), e))?;
        if config.namespace.is_empty()
            || !config
                .namespace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::Config(format!(
                "namespace = {:?}: use letters, digits and _",
                config.namespace
            )));
        }
        let alias = format!("{}_sightings", config.namespace);
        let store = ServerStore {
            client,
            config: config.clone(),
            collection: super::collection_name_in(&alias, model_version),
            media: format!("{}_media", config.namespace),
            alias,
            dimension,
            ordering,
        };
        store
            .ensure_collection(config, &store.collection, dimension as u64, INDEXED_FIELDS)
            .await?;
        store
            .ensure_collection(
                config,
                &store.media.clone(),
                1,
                &[("last_seen_ms", "integer")],
            )
            .await?;
        if store.alias_target().await?.is_none() {
            store.switch_alias(&store.collection.clone()).await?;
        }
        Ok(store)
    }

    async fn ensure_collection(
        &self,
        config: &ServerConfig,
        name: &str,
        dimension: u64,
        indexed: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        let exists = self
            .client
            .collection_exists(name)
            .await
            .map_err(|e| server_error(format!("look up collection {name}"), e))?;
        if exists {
            return Ok(());
        }
        self.client
            .create_collection(
                CreateCollectionBuilder::new(name)
                    .vectors_config(VectorParamsBuilder::new(dimension, Distance::Cosine))
                    .shard_number(config.shard_number)
                    .replication_factor(config.replication_factor)
                    .write_consistency_factor(config.write_consistency)
                    .on_disk_payload(name == self.media),
            )
            .await
            .map_err(|e| server_error(format!("create collection {name}"), e))?;
        for (field, kind) in indexed {
            let field_type = if *kind == "keyword" {
                FieldType::Keyword
            } else {
                FieldType::Integer
            };
            self.client
                .create_field_index(
                    CreateFieldIndexCollectionBuilder::new(name, *field, field_type).wait(true),
                )
                .await
                .map_err(|e| server_error(format!("create payload index {field} on {name}"), e))?;
        }
        Ok(())
    }

    pub fn collection(&self) -> String {
        self.collection.clone()
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// A handle on the same server whose writes go to another model version's
    /// collection (created if missing; the alias is left).
    pub async fn for_model_version(
        &self,
        model_version: &str,
        dimension: usize,
    ) -> Result<Self, StoreError> {
        let store = ServerStore {
            client: self.client.clone(),
            config: self.config.clone(),
            alias: self.alias.clone(),
            media: self.media.clone(),
            collection: super::collection_name_in(&self.alias, model_version),
            dimension,
            ordering: self.ordering,
        };
        store
            .ensure_collection(
                &self.config,
                &store.collection.clone(),
                dimension as u64,
                INDEXED_FIELDS,
            )
            .await?;
        Ok(store)
    }

    fn ordering(&self) -> WriteOrdering {
        WriteOrdering {
            r#type: self.ordering as i32,
        }
    }

    pub async fn upsert(&self, records: &[SightingRecord]) -> Result<(), StoreError> {
        let media: Vec<PointStruct> = records
            .iter()
            .map(|r| {
                let map = payload::media_payload(&r.crop_jpeg, &r.frame_jpeg, r.info.last_seen_ms);
                PointStruct::new(r.id.0, vec![1.0f32], Payload::from(map))
            })
            .collect();
        let sightings: Vec<PointStruct> = records
            .iter()
            .map(|r| {
                PointStruct::new(
                    r.id.0,
                    r.vector.clone(),
                    Payload::from(payload::info_to_payload(&r.info)),
                )
            })
            .collect();
        // Pictures first: a sighting that can be found always has its crop.
        self.client
            .upsert_points(
                UpsertPointsBuilder::new(&self.media, media)
                    .wait(true)
                    .ordering(self.ordering()),
            )
            .await
            .map_err(|e| server_error("upsert media", e))?;
        self.client
            .upsert_points(
                UpsertPointsBuilder::new(&self.collection, sightings)
                    .wait(true)
                    .ordering(self.ordering()),
            )
            .await
            .map_err(|e| server_error("upsert sightings", e))?;
        Ok(())
    }

    pub async fn search(
        &self,
        vector: &[f32],
        filter: &SightingFilter,
        limit: usize,
        with_vectors: bool,
    ) -> Result<Vec<ScoredSighting>, StoreError> {
        let mut request = SearchPointsBuilder::new(&self.alias, vector.to_vec(), limit as u64)
            .with_payload(true)
            .with_vectors(with_vectors);
        if let Some(filter) = grpc_filter(filter) {
            request = request.filter(filter);
        }
        if let Some(min) = filter.min_score {
            request = request.score_threshold(min);
        }
        let response = self
            .client
            .search_points(request)
            .await
            .map_err(|e| server_error("search", e))?;
        response.result.into_iter().map(scored_from_point).collect()
    }

    pub async fn get(
        &self,
        ids: &[SightingId],
        with_vectors: bool,
    ) -> Result<Vec<StoredSighting>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let point_ids: Vec<PointId> = ids.iter().map(|id| PointId::from(id.0)).collect();
        let response = self
            .client
            .get_points(
                GetPointsBuilder::new(&self.alias, point_ids)
                    .with_payload(true)
                    .with_vectors(with_vectors),
            )
            .await
            .map_err(|e| server_error("get points", e))?;
        let mut by_id: HashMap<SightingId, StoredSighting> = HashMap::new();
        for point in response.result {
            let sighting = stored_from_retrieved(point)?;
            by_id.insert(sighting.id, sighting);
        }
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    pub async fn media(
        &self,
        id: SightingId,
        kind: MediaKind,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let response = self
            .client
            .get_points(
                GetPointsBuilder::new(&self.media, vec![PointId::from(id.0)]).with_payload(true),
            )
            .await
            .map_err(|e| server_error("get media", e))?;
        let Some(point) = response.result.into_iter().next() else {
            return Ok(None);
        };
        let text = point
            .payload
            .get(kind.payload_key())
            .and_then(|v| v.as_str().map(|s| s.to_string()))
            .ok_or_else(|| StoreError::Payload {
                id: id.to_string(),
                reason: format!("media point has no {}", kind.payload_key()),
            })?;
        payload::base64_decode(&text)
            .map(Some)
            .ok_or_else(|| StoreError::Payload {
                id: id.to_string(),
                reason: format!("{} is not base64", kind.payload_key()),
            })
    }

    pub async fn delete_older_than(&self, cutoff_ms: i64) -> Result<usize, StoreError> {
        let expired = || {
            Filter::must([Condition::range(
                "last_seen_ms",
                Range {
                    lt: Some(cutoff_ms as f64),
                    ..Default::default()
                },
            )])
        };
        let count = self
            .client
            .count(
                CountPointsBuilder::new(&self.alias)
                    .filter(expired())
                    .exact(true),
            )
            .await
            .map_err(|e| server_error("count expired", e))?
            .result
            .map(|r| r.count as usize)
            .unwrap_or(0);
        for collection in self.collections().await? {
            self.client
                .delete_points(
                    DeletePointsBuilder::new(&collection)
                        .points(expired())
                        .wait(true)
                        .ordering(self.ordering()),
                )
                .await
                .map_err(|e| server_error(format!("delete expired in {collection}"), e))?;
        }
        self.client
            .delete_points(
                DeletePointsBuilder::new(&self.media)
                    .points(expired())
                    .wait(true)
                    .ordering(self.ordering()),
            )
            .await
            .map_err(|e| server_error("delete expired media", e))?;
        Ok(count)
    }

    pub async fn cameras(&self) -> Result<Vec<(String, usize)>, StoreError> {
        let response = self
            .client
            .facet(
                FacetCountsBuilder::new(&self.alias, "camera_id")
                    .limit(10_000)
                    .exact(true),
            )
            .await
            .map_err(|e| server_error("facet cameras", e))?;
        Ok(response
            .hits
            .into_iter()
            .filter_map(|hit| {
                let value = hit.value?.variant?;
                match value {
                    qdrant_client::qdrant::facet_value::Variant::StringValue(camera) => {
                        Some((camera, hit.count as usize))
                    }
                    _ => None,
                }
            })
            .collect())
    }

    pub async fn scroll(
        &self,
        collection: &str,
        offset: Option<SightingId>,
        limit: usize,
    ) -> Result<(Vec<StoredSighting>, Option<SightingId>), StoreError> {
        let mut request = ScrollPointsBuilder::new(collection)
            .limit(limit.max(1) as u32)
            .with_payload(true)
            .with_vectors(false);
        if let Some(offset) = offset {
            request = request.offset(PointId::from(offset.0));
        }
        let response = self
            .client
            .scroll(request)
            .await
            .map_err(|e| server_error(format!("scroll {collection}"), e))?;
        let sightings = response
            .result
            .into_iter()
            .map(stored_from_retrieved)
            .collect::<Result<Vec<_>, _>>()?;
        let next = response.next_page_offset.and_then(num_id).map(SightingId);
        Ok((sightings, next))
    }

    pub async fn alias_target(&self) -> Result<Option<String>, StoreError> {
        let aliases = self
            .client
            .list_aliases()
            .await
            .map_err(|e| server_error("list aliases", e))?;
        Ok(aliases
            .aliases
            .into_iter()
            .find(|a| a.alias_name == self.alias)
            .map(|a| a.collection_name))
    }

    pub async fn switch_alias(&self, collection: &str) -> Result<(), StoreError> {
        // One create-alias operation: Qdrant re-points an existing alias in place, so
        // searches never see the alias missing (a delete + create pair would need the
        // client's private multi-action call).
        self.client
            .create_alias(CreateAliasBuilder::new(collection, &self.alias))
            .await
            .map_err(|e| server_error(format!("point alias at {collection}"), e))?;
        Ok(())
    }

    pub async fn collections(&self) -> Result<Vec<String>, StoreError> {
        let response = self
            .client
            .list_collections()
            .await
            .map_err(|e| server_error("list collections", e))?;
        let mut names: Vec<String> = response
            .collections
            .into_iter()
            .map(|c| c.name)
            .filter(|n| n.starts_with(&format!("{}_", self.alias)))
            .collect();
        names.sort();
        Ok(names)
    }

    pub async fn status(&self) -> Result<StoreStatus, StoreError> {
        let points = self
            .client
            .count(CountPointsBuilder::new(&self.alias).exact(true))
            .await
            .map_err(|e| server_error("count", e))?
            .result
            .map(|r| r.count as usize)
            .unwrap_or(0);
        Ok(StoreStatus {
            backend: BACKEND,
            collection: self
                .alias_target()
                .await?
                .unwrap_or_else(|| self.collection.clone()),
            points,
            dimension: self.dimension,
        })
    }
}

fn grpc_filter(filter: &SightingFilter) -> Option<Filter> {
    let mut must = Vec::new();
    if let Some(cameras) = &filter.cameras {
        must.push(Condition::matches("camera_id", cameras.clone()));
    }
    if let Some(from) = filter.from_ms {
        must.push(Condition::range(
            "last_seen_ms",
            Range {
                gte: Some(from as f64),
                ..Default::default()
            },
        ));
    }
    if let Some(to) = filter.to_ms {
        must.push(Condition::range(
            "first_seen_ms",
            Range {
                lte: Some(to as f64),
                ..Default::default()
            },
        ));
    }
    (!must.is_empty()).then(|| Filter::must(must))
}

fn num_id(id: PointId) -> Option<u64> {
    match id.point_id_options? {
        point_id::PointIdOptions::Num(n) => Some(n),
        point_id::PointIdOptions::Uuid(_) => None,
    }
}

fn json_payload(payload: HashMap<String, qdrant_client::qdrant::Value>) -> Value {
    Value::Object(
        payload
            .into_iter()
            .map(|(k, v)| (k, Value::from(v)))
            .collect(),
    )
}

fn dense(vectors: Option<qdrant_client::qdrant::VectorsOutput>) -> Option<Vec<f32>> {
    match vectors?.get_vector()? {
        qdrant_client::qdrant::vector_output::Vector::Dense(v) => Some(v.data),
        _ => None,
    }
}

fn stored(
    id: Option<PointId>,
    payload: HashMap<String, qdrant_client::qdrant::Value>,
    vectors: Option<qdrant_client::qdrant::VectorsOutput>,
) -> Result<StoredSighting, StoreError> {
    let id = id
        .and_then(num_id)
        .map(SightingId)
        .ok_or_else(|| StoreError::Payload {
            id: "?".into(),
            reason: "point without a numeric id".into(),
        })?;
    Ok(StoredSighting {
        id,
        info: payload::info_from_payload(id, json_payload(payload))?,
        vector: dense(vectors),
    })
}

fn scored_from_point(point: ScoredPoint) -> Result<ScoredSighting, StoreError> {
    Ok(ScoredSighting {
        score: point.score,
        sighting: stored(point.id, point.payload, point.vectors)?,
    })
}

fn stored_from_retrieved(point: RetrievedPoint) -> Result<StoredSighting, StoreError> {
    stored(point.id, point.payload, point.vectors)
}
