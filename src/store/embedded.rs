//! The embedded back-end: `qdrant-edge` shards in the data directory, one per
//! collection (`<data_dir>/collections/<name>/`), and the alias in
//! `<data_dir>/aliases.json`, replaced atomically (write + rename).
//!
//! Durability: every upsert or delete is written to the shard's WAL and flushed before
//! the call returns, so an acknowledged sighting survives a kill -9. `qdrant-edge`'s
//! `flush` and `optimize` must not run concurrently with another update (its flush
//! `try_lock`s), so all writes go through one mutex; searches take no lock of ours.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use qdrant_edge::{
    CountRequest, CreateIndex, Distance, EdgeConfig, EdgeShard, EdgeVectorParams, FacetRequest,
    FacetValue, FieldIndexOperations, Filter, JsonPath, NamedQuery, PayloadFieldSchema,
    PayloadSchemaType, PointId, PointInsertOperations, PointOperations, PointStruct, QueryEnum,
    Record, ScoredPoint, ScrollRequest, SearchRequest, UpdateOperation, Vector,
    VectorStructInternal, WithPayloadInterface, WithVector,
};
use serde_json::{json, Value};

use super::payload::{self, INDEXED_FIELDS};
use super::{
    collection_name, MediaKind, ScoredSighting, SightingFilter, SightingId, SightingRecord,
    StoreError, StoreStatus, StoredSighting, MEDIA_COLLECTION, SIGHTINGS_ALIAS,
};

const BACKEND: &str = "embedded";
const ALIAS_FILE: &str = "aliases.json";

/// The alias target recorded in `path`, if any.
fn read_alias_file(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let aliases: HashMap<String, String> = serde_json::from_str(&text).ok()?;
    aliases.get(SIGHTINGS_ALIAS).cloned()
}

fn edge_error(context: impl Into<String>, err: impl std::fmt::Display) -> StoreError {
    StoreError::backend(BACKEND, context, err)
}

pub struct EmbeddedStore {
    data_dir: PathBuf,
    /// The collection of the running model version: writes go here.
    collection: String,
    dimension: usize,
    /// Open shards, shared by the handles of every model version (a shard's WAL can be
    /// open once per process).
    shards: Arc<RwLock<HashMap<String, Arc<EdgeShard>>>>,
    write_lock: Arc<Mutex<()>>,
    /// The alias target, read from `aliases.json` once at open: the shards' WAL locks let
    /// only this process use the data directory, so the file changes only through us.
    alias: Arc<RwLock<Option<String>>>,
}

impl EmbeddedStore {
    pub fn open(
        data_dir: &Path,
        model_version: &str,
        dimension: usize,
    ) -> Result<Self, StoreError> {
        if dimension == 0 {
            return Err(StoreError::Config(
                "vector dimension must be positive".into(),
            ));
        }
        let collections_dir = data_dir.join("collections");
        std::fs::create_dir_all(&collections_dir).map_err(|e| {
            edge_error(
                format!("create data directory {}", collections_dir.display()),
                e,
            )
        })?;
        let store = EmbeddedStore {
            data_dir: data_dir.to_path_buf(),
            collection: collection_name(model_version),
            dimension,
            shards: Arc::new(RwLock::new(HashMap::new())),
            write_lock: Arc::new(Mutex::new(())),
            alias: Arc::new(RwLock::new(read_alias_file(&data_dir.join(ALIAS_FILE)))),
        };
        store.open_shard(&store.collection, Some(dimension))?;
        store.open_shard(MEDIA_COLLECTION, Some(1))?;
        if store.alias_target().is_none() {
            store.switch_alias(&store.collection.clone())?;
        }
        Ok(store)
    }

    pub fn collection(&self) -> String {
        self.collection.clone()
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// A handle on the same data directory and open shards whose writes go to the
    /// collection of another model version (created if missing; the alias is left).
    pub fn for_model_version(
        &self,
        model_version: &str,
        dimension: usize,
    ) -> Result<Self, StoreError> {
        let store = EmbeddedStore {
            data_dir: self.data_dir.clone(),
            collection: collection_name(model_version),
            dimension,
            shards: self.shards.clone(),
            write_lock: self.write_lock.clone(),
            alias: self.alias.clone(),
        };
        store.open_shard(&store.collection, Some(dimension))?;
        Ok(store)
    }

    fn shard_dir(&self, name: &str) -> PathBuf {
        self.data_dir.join("collections").join(name)
    }

    /// Opens (or with `create_dimension`, creates) a collection's shard.
    fn open_shard(
        &self,
        name: &str,
        create_dimension: Option<usize>,
    ) -> Result<Arc<EdgeShard>, StoreError> {
        if let Some(shard) = self.read_shards()?.get(name) {
            return Ok(shard.clone());
        }
        let dir = self.shard_dir(name);
        let exists = dir.join("edge_config.json").exists();
        let shard = if exists {
            let shard = EdgeShard::load(&dir, None).map_err(|e| {
                edge_error(format!("load collection {name} from {}", dir.display()), e)
            })?;
            if let Some(expected) = create_dimension {
                let stored = shard
                    .config()
                    .vectors
                    .get(qdrant_edge::DEFAULT_VECTOR_NAME)
                    .map(|v| v.size);
                if stored != Some(expected) {
                    return Err(StoreError::Dimension {
                        collection: name.to_string(),
                        expected: stored.unwrap_or(0),
                        found: expected,
                    });
                }
            }
            shard
        } else {
            let Some(dimension) = create_dimension else {
                return Err(StoreError::NoCollection(name.to_string()));
            };
            std::fs::create_dir_all(&dir)
                .map_err(|e| edge_error(format!("create {}", dir.display()), e))?;
            let config = EdgeConfig::builder()
                .vector(
                    qdrant_edge::DEFAULT_VECTOR_NAME,
                    EdgeVectorParams::builder(dimension, Distance::Cosine).build(),
                )
                .on_disk_payload(name == MEDIA_COLLECTION)
                .build();
            let shard = EdgeShard::new(&dir, config)
                .map_err(|e| edge_error(format!("create collection {name}"), e))?;
            let fields: &[(&str, &str)] = if name == MEDIA_COLLECTION {
                &[("last_seen_ms", "integer")]
            } else {
                INDEXED_FIELDS
            };
            for (field, kind) in fields {
                let field_name: JsonPath = field
                    .parse()
                    .map_err(|_| edge_error("payload index", format!("bad field name {field}")))?;
                let schema = if *kind == "keyword" {
                    PayloadSchemaType::Keyword
                } else {
                    PayloadSchemaType::Integer
                };
                let op = UpdateOperation::FieldIndexOperation(FieldIndexOperations::CreateIndex(
                    CreateIndex {
                        field_name,
                        field_schema: Some(PayloadFieldSchema::FieldType(schema)),
                    },
                ));
                shard.update(op).map_err(|e| {
                    edge_error(format!("create payload index {field} on {name}"), e)
                })?;
            }
            shard.flush();
            shard
        };
        let shard = Arc::new(shard);
        self.shards
            .write()
            .map_err(|_| edge_error("shards", "lock poisoned"))?
            .insert(name.to_string(), shard.clone());
        Ok(shard)
    }

    fn read_shards(
        &self,
    ) -> Result<std::sync::RwLockReadGuard<'_, HashMap<String, Arc<EdgeShard>>>, StoreError> {
        self.shards
            .read()
            .map_err(|_| edge_error("shards", "lock poisoned"))
    }

    fn shard(&self, name: &str) -> Result<Arc<EdgeShard>, StoreError> {
        self.open_shard(name, None)
    }

    fn apply(&self, shard: &EdgeShard, what: &str, op: UpdateOperation) -> Result<(), StoreError> {
        shard
            .update(op)
            .map_err(|e| edge_error(what.to_string(), e))
    }

    pub fn upsert(&self, records: &[SightingRecord]) -> Result<(), StoreError> {
        let sightings = self.shard(&self.collection)?;
        let media = self.shard(MEDIA_COLLECTION)?;
        let media_points = records
            .iter()
            .map(|r| {
                let payload =
                    payload::media_payload(&r.crop_jpeg, &r.frame_jpeg, r.info.last_seen_ms);
                PointStruct::new(PointId::NumId(r.id.0), vec![1.0f32], Value::Object(payload))
                    .into()
            })
            .collect();
        let sighting_points = records
            .iter()
            .map(|r| {
                let payload = payload::info_to_payload(&r.info);
                PointStruct::new(
                    PointId::NumId(r.id.0),
                    r.vector.clone(),
                    Value::Object(payload),
                )
                .into()
            })
            .collect();
        let _guard = self.lock_writes()?;
        // Pictures first: a sighting that can be found always has its crop.
        self.apply(&media, "upsert media", upsert_op(media_points))?;
        media.flush();
        self.apply(&sightings, "upsert sightings", upsert_op(sighting_points))?;
        sightings.flush();
        Ok(())
    }

    fn lock_writes(&self) -> Result<std::sync::MutexGuard<'_, ()>, StoreError> {
        self.write_lock
            .lock()
            .map_err(|_| edge_error("write lock", "poisoned by a panic in an earlier write"))
    }

    pub fn search(
        &self,
        vector: &[f32],
        filter: &SightingFilter,
        limit: usize,
        with_vectors: bool,
    ) -> Result<Vec<ScoredSighting>, StoreError> {
        let shard = self.shard(&self.current_collection())?;
        let request = SearchRequest {
            query: QueryEnum::Nearest(NamedQuery {
                query: Vector::from(vector.to_vec()).0,
                using: None,
            }),
            filter: edge_filter(filter)?,
            params: None,
            limit,
            offset: 0,
            with_payload: Some(WithPayloadInterface::Bool(true)),
            with_vector: Some(WithVector::Bool(with_vectors)),
            score_threshold: filter.min_score,
        };
        let hits = shard.search(request).map_err(|e| edge_error("search", e))?;
        hits.into_iter().map(scored_from_point).collect()
    }

    /// The collection searches read: the alias target, or our own before any alias.
    fn current_collection(&self) -> String {
        self.alias_target()
            .unwrap_or_else(|| self.collection.clone())
    }

    pub fn get(
        &self,
        ids: &[SightingId],
        with_vectors: bool,
    ) -> Result<Vec<StoredSighting>, StoreError> {
        let shard = self.shard(&self.current_collection())?;
        let point_ids: Vec<PointId> = ids.iter().map(|id| PointId::NumId(id.0)).collect();
        let records = shard
            .retrieve(
                &point_ids,
                Some(WithPayloadInterface::Bool(true)),
                Some(WithVector::Bool(with_vectors)),
            )
            .map_err(|e| edge_error("retrieve", e))?;
        records.into_iter().map(stored_from_record).collect()
    }

    pub fn media(&self, id: SightingId, kind: MediaKind) -> Result<Option<Vec<u8>>, StoreError> {
        let shard = self.shard(MEDIA_COLLECTION)?;
        let records = shard
            .retrieve(
                &[PointId::NumId(id.0)],
                Some(WithPayloadInterface::Bool(true)),
                Some(WithVector::Bool(false)),
            )
            .map_err(|e| edge_error("retrieve media", e))?;
        let Some(record) = records.into_iter().next() else {
            return Ok(None);
        };
        let text = record
            .payload
            .as_ref()
            .and_then(|p| p.0.get(kind.payload_key()))
            .and_then(Value::as_str)
            .ok_or_else(|| StoreError::Payload {
                id: id.to_string(),
                reason: format!("media point has no {}", kind.payload_key()),
            })?;
        payload::base64_decode(text)
            .map(Some)
            .ok_or_else(|| StoreError::Payload {
                id: id.to_string(),
                reason: format!("{} is not base64", kind.payload_key()),
            })
    }

    pub fn delete_older_than(&self, cutoff_ms: i64) -> Result<usize, StoreError> {
        let filter: Filter = serde_json::from_value(
            json!({"must": [{"key": "last_seen_ms", "range": {"lt": cutoff_ms}}]}),
        )
        .map_err(|e| edge_error("retention filter", e))?;
        let _guard = self.lock_writes()?;
        let mut deleted = 0;
        for name in self.collections() {
            let shard = self.shard(&name)?;
            let count = shard
                .count(CountRequest {
                    filter: Some(filter.clone()),
                    exact: true,
                })
                .map_err(|e| edge_error(format!("count expired in {name}"), e))?;
            if count > 0 {
                let op = UpdateOperation::PointOperation(PointOperations::DeletePointsByFilter(
                    filter.clone(),
                ));
                self.apply(&shard, "delete expired sightings", op)?;
                shard.flush();
            }
            if name == self.current_collection() {
                deleted = count;
            }
        }
        // Pictures last: a sighting never outlives its crop.
        let media = self.shard(MEDIA_COLLECTION)?;
        let op = UpdateOperation::PointOperation(PointOperations::DeletePointsByFilter(filter));
        self.apply(&media, "delete expired media", op)?;
        media.flush();
        Ok(deleted)
    }

    pub fn cameras(&self) -> Result<Vec<(String, usize)>, StoreError> {
        let shard = self.shard(&self.current_collection())?;
        let key = "camera_id"
            .parse()
            .map_err(|_| edge_error("facet", "bad key camera_id"))?;
        let response = shard
            .facet(FacetRequest {
                key,
                limit: 10_000,
                filter: None,
                exact: true,
            })
            .map_err(|e| edge_error("facet cameras", e))?;
        Ok(response
            .hits
            .into_iter()
            .filter_map(|hit| match hit.value {
                FacetValue::Keyword(camera) => Some((camera, hit.count)),
                _ => None,
            })
            .collect())
    }

    pub fn scroll(
        &self,
        collection: &str,
        offset: Option<SightingId>,
        limit: usize,
    ) -> Result<(Vec<StoredSighting>, Option<SightingId>), StoreError> {
        let shard = self.shard(collection)?;
        let (records, next) = shard
            .scroll(ScrollRequest {
                offset: offset.map(|id| PointId::NumId(id.0)),
                limit: Some(limit.max(1)),
                filter: None,
                with_payload: Some(WithPayloadInterface::Bool(true)),
                with_vector: WithVector::Bool(false),
                order_by: None,
            })
            .map_err(|e| edge_error(format!("scroll {collection}"), e))?;
        let sightings = records
            .into_iter()
            .map(stored_from_record)
            .collect::<Result<Vec<_>, _>>()?;
        let next = match next {
            Some(PointId::NumId(n)) => Some(SightingId(n)),
            Some(other) => {
                return Err(StoreError::Payload {
                    id: format!("{other:?}"),
                    reason: "not a Lookout sighting id".into(),
                })
            }
            None => None,
        };
        Ok((sightings, next))
    }

    fn alias_file(&self) -> PathBuf {
        self.data_dir.join(ALIAS_FILE)
    }

    pub fn alias_target(&self) -> Option<String> {
        self.alias.read().ok().and_then(|a| a.clone())
    }

    pub fn switch_alias(&self, collection: &str) -> Result<(), StoreError> {
        if !self.shard_dir(collection).join("edge_config.json").exists() {
            return Err(StoreError::NoCollection(collection.to_string()));
        }
        let aliases = HashMap::from([(SIGHTINGS_ALIAS.to_string(), collection.to_string())]);
        let text =
            serde_json::to_string_pretty(&aliases).map_err(|e| edge_error("write alias", e))?;
        let tmp = self.data_dir.join("aliases.json.tmp");
        std::fs::write(&tmp, text)
            .map_err(|e| edge_error(format!("write {}", tmp.display()), e))?;
        std::fs::rename(&tmp, self.alias_file())
            .map_err(|e| edge_error("replace aliases.json", e))?;
        *self
            .alias
            .write()
            .map_err(|_| edge_error("alias", "lock poisoned"))? = Some(collection.to_string());
        Ok(())
    }

    pub fn collections(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.data_dir.join("collections"))
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| n.starts_with(SIGHTINGS_ALIAS))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    pub fn status(&self) -> Result<StoreStatus, StoreError> {
        let collection = self.current_collection();
        let shard = self.shard(&collection)?;
        let points = shard
            .count(CountRequest {
                filter: None,
                exact: true,
            })
            .map_err(|e| edge_error("count", e))?;
        Ok(StoreStatus {
            backend: BACKEND,
            collection,
            points,
            dimension: self.dimension,
        })
    }

    pub fn optimize(&self) -> Result<bool, StoreError> {
        let _guard = self.lock_writes()?;
        let shard = self.shard(&self.collection)?;
        let changed = shard.optimize().map_err(|e| edge_error("optimize", e))?;
        shard.flush();
        Ok(changed)
    }
}

fn upsert_op(points: Vec<qdrant_edge::PointStructPersisted>) -> UpdateOperation {
    UpdateOperation::PointOperation(PointOperations::UpsertPoints(
        PointInsertOperations::PointsList(points),
    ))
}

fn edge_filter(filter: &SightingFilter) -> Result<Option<Filter>, StoreError> {
    filter
        .to_qdrant_json()
        .map(|json| serde_json::from_value(json).map_err(|e| edge_error("build filter", e)))
        .transpose()
}

fn sighting_id(id: &PointId) -> Result<SightingId, StoreError> {
    match id {
        PointId::NumId(n) => Ok(SightingId(*n)),
        other => Err(StoreError::Payload {
            id: format!("{other:?}"),
            reason: "not a Lookout sighting id".into(),
        }),
    }
}

fn dense(vector: Option<VectorStructInternal>) -> Option<Vec<f32>> {
    match vector? {
        VectorStructInternal::Single(v) => Some(v),
        VectorStructInternal::Named(mut named) => {
            match named.remove(qdrant_edge::DEFAULT_VECTOR_NAME)? {
                qdrant_edge::VectorInternal::Dense(v) => Some(v),
                _ => None,
            }
        }
        VectorStructInternal::MultiDense(_) => None,
    }
}

fn stored(
    id: &PointId,
    payload: Option<qdrant_edge::Payload>,
    vector: Option<VectorStructInternal>,
) -> Result<StoredSighting, StoreError> {
    let id = sighting_id(id)?;
    let payload = payload.map(|p| Value::Object(p.0)).unwrap_or(Value::Null);
    Ok(StoredSighting {
        id,
        info: payload::info_from_payload(id, payload)?,
        vector: dense(vector),
    })
}

fn stored_from_record(record: Record) -> Result<StoredSighting, StoreError> {
    stored(&record.id, record.payload, record.vector)
}

fn scored_from_point(point: ScoredPoint) -> Result<ScoredSighting, StoreError> {
    Ok(ScoredSighting {
        score: point.score,
        sighting: stored(&point.id, point.payload, point.vector)?,
    })
}
