//! Routes and handlers. Handlers parse and check the request, call search or store, and
//! shape the answer; they compute nothing themselves. Bodies are read as bytes and
//! parsed here so that every malformed, oversized or unknown-field request gets a JSON
//! 4xx that says what is wrong.
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::audit::AuditEntry;
use super::auth::{Principal, Role};
use super::{now_ms, AppState};
use crate::search::{SearchError, SearchOptions, SearchResponse};
use crate::store::{MediaKind, SightingFilter, SightingId, StoreError, StoredSighting};

const INDEX_HTML: &str = include_str!("ui/index.html");
const APP_JS: &str = include_str!("ui/app.js");
const STYLE_CSS: &str = include_str!("ui/style.css");
const OPENAPI: &str = include_str!("openapi.json");

/// Most cameras one search may name.
const MAX_CAMERAS_PER_QUERY: usize = 256;

pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.max_body_bytes;
    Router::new()
        .route(
            "/",
            get(|| async { static_file("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/ui/app.js",
            get(|| async { static_file("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/ui/style.css",
            get(|| async { static_file("text/css; charset=utf-8", STYLE_CSS) }),
        )
        .route(
            "/api/openapi.json",
            get(|| async { static_file("application/json", OPENAPI) }),
        )
        .route("/api/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/search", post(search))
        .route("/api/similar", post(similar))
        .route("/api/sightings/{id}", get(sighting))
        .route("/api/sightings/{id}/crop", get(crop))
        .route("/api/sightings/{id}/frame", get(frame))
        .route("/api/cameras", get(cameras).post(add_camera))
        .route("/api/cameras/{id}", delete(remove_camera))
        .route("/api/retention", post(run_retention))
        .route("/api/reindex", get(reindex_status).post(start_reindex))
        .route("/api/alias", get(alias).post(switch_alias))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// An error answer: status and a message for the operator or the integrator.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        tracing::warn!("store error: {err}");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the store failed: {err}"),
        )
    }
}

impl From<SearchError> for ApiError {
    fn from(err: SearchError) -> Self {
        match err {
            SearchError::BadQuery(message) => ApiError::bad_request(message),
            SearchError::NotFound(id) => ApiError::not_found(format!("no sighting with id {id}")),
            SearchError::Store(e) => e.into(),
            SearchError::ModelMismatch { .. } => {
                tracing::error!("{err}");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, err.to_string())
            }
            SearchError::Encoder(message) => {
                tracing::warn!("encoder error: {message}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("text encoder failed: {message}"),
                )
            }
        }
    }
}

async fn count_requests(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    state
        .metrics
        .record_request(&route, response.status().as_u16());
    response
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; the API is described at /api/openapi.json")
}

#[derive(Deserialize, Default)]
struct KeyQuery {
    key: Option<String>,
}

/// The caller, from the key in a header or (for image URLs) the query string.
fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    query_key: Option<&str>,
) -> Result<Principal, ApiError> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    let Some(key) = from_header.or(query_key) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "an API key is needed: send `Authorization: Bearer <key>`",
        ));
    };
    state
        .keys
        .authenticate(key.trim())
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unknown API key"))
}

fn require_admin(principal: &Principal) -> Result<(), ApiError> {
    if principal.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden("this needs an admin key"))
    }
}

/// Parses a JSON body, turning every failure into a 4xx that names the problem.
fn parse_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes =
        body.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request("the request needs a JSON body"));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON body: {e}")))
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    let model_version = state.engine.encoder().model_version().to_string();
    if let Err(e @ SearchError::ModelMismatch { .. }) = state.engine.check_model().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "model_mismatch", "model_version": model_version, "error": e.to_string()})),
        )
            .into_response();
    }
    match state.engine.store().status().await {
        Ok(store) => Json(json!({
            "status": "ok",
            "model_version": model_version,
            "uptime_s": state.started.elapsed().as_secs(),
            "store": store,
        }))
        .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "model_version": model_version, "error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut extra = String::new();
    if let Ok(status) = state.engine.store().status().await {
        extra.push_str("# HELP lookout_store_points Sightings in the searched collection.\n");
        extra.push_str("# TYPE lookout_store_points gauge\n");
        extra.push_str(&format!("lookout_store_points {}\n", status.points));
    }
    if let Some(cameras) = &state.cameras {
        extra.push_str(&cameras.metrics());
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&extra),
    )
        .into_response()
}

/// Filters and options shared by text and image searches.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SearchBody {
    text: Option<String>,
    sighting_id: Option<String>,
    cameras: Option<Vec<String>>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    min_score: Option<f32>,
    limit: Option<usize>,
    rerank: Option<bool>,
}

fn options(
    state: &AppState,
    principal: &Principal,
    body: &SearchBody,
) -> Result<SearchOptions, ApiError> {
    if let Some(cameras) = &body.cameras {
        if cameras.len() > MAX_CAMERAS_PER_QUERY {
            return Err(ApiError::bad_request(format!(
                "at most {MAX_CAMERAS_PER_QUERY} cameras per search"
            )));
        }
    }
    if let (Some(from), Some(to)) = (body.from_ms, body.to_ms) {
        if from > to {
            return Err(ApiError::bad_request("from_ms is after to_ms"));
        }
    }
    if let Some(min) = body.min_score {
        if !min.is_finite() || !(-1.0..=2.0).contains(&min) {
            return Err(ApiError::bad_request("min_score must be between -1 and 2"));
        }
    }
    let cameras = principal
        .search_cameras(body.cameras.clone())
        .map_err(ApiError::forbidden)?;
    Ok(SearchOptions {
        filter: SightingFilter {
            cameras,
            from_ms: body.from_ms,
            to_ms: body.to_ms,
            min_score: body.min_score,
        },
        limit: body.limit.unwrap_or(state.engine.config().default_limit),
        rerank: body.rerank.unwrap_or(true),
    })
}

fn sighting_json(sighting: &StoredSighting, score: Option<f32>) -> Value {
    let id = sighting.id.to_string();
    let info = &sighting.info;
    let mut value = json!({
        "id": id,
        "camera_id": info.camera_id,
        "track_id": info.track_id,
        "first_seen_ms": info.first_seen_ms,
        "last_seen_ms": info.last_seen_ms,
        "best_time_ms": info.best_time_ms,
        "bbox": info.bbox,
        "frame_width": info.frame_width,
        "frame_height": info.frame_height,
        "thumb_bbox": info.thumb_bbox,
        "thumb_width": info.thumb_width,
        "thumb_height": info.thumb_height,
        "detector_score": info.detector_score,
        "model_version": info.model_version,
        "crop_url": format!("/api/sightings/{id}/crop"),
        "frame_url": format!("/api/sightings/{id}/frame"),
    });
    if let (Some(score), Some(map)) = (score, value.as_object_mut()) {
        map.insert("score".into(), json!(score));
    }
    value
}

fn response_json(query: &str, response: &SearchResponse) -> Value {
    json!({
        "query": query,
        "unknown_words": response.unknown_words,
        "candidates": response.candidates,
        "results": response.hits.iter().map(|h| sighting_json(&h.sighting, Some(h.score))).collect::<Vec<_>>(),
        "timings_ms": response.timings,
    })
}

fn audit(
    state: &AppState,
    principal: &Principal,
    kind: &str,
    query: &str,
    options: &SearchOptions,
    response: &SearchResponse,
) -> Result<(), ApiError> {
    state
        .audit
        .record(&AuditEntry {
            time_ms: now_ms(),
            key_name: &principal.name,
            kind,
            query,
            cameras: options.filter.cameras.as_deref(),
            from_ms: options.filter.from_ms,
            to_ms: options.filter.to_ms,
            min_score: options.filter.min_score,
            limit: options.limit,
            rerank: options.rerank,
            results: response.hits.len(),
            total_ms: response.timings.total,
        })
        .map_err(|e| {
            tracing::error!("audit log {}: {e}", state.audit.path().display());
            // No audit record, no answer: the log is the control room's accountability.
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the audit log cannot be written",
            )
        })
}

/// Counts the search, writes its audit record, then shapes the answer: no answer
/// leaves without its audit record.
fn answer(
    state: &AppState,
    principal: &Principal,
    kind: &str,
    query: &str,
    options: &SearchOptions,
    response: &SearchResponse,
) -> Result<Json<Value>, ApiError> {
    state
        .metrics
        .record_search(kind == "similar", &response.timings);
    audit(state, principal, kind, query, options, response)?;
    Ok(Json(response_json(query, response)))
}

async fn search(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let principal = authenticate(&state, &headers, None)?;
    let body: SearchBody = parse_body(body)?;
    if body.sighting_id.is_some() {
        return Err(ApiError::bad_request("sighting_id belongs to /api/similar"));
    }
    let text = body
        .text
        .clone()
        .ok_or_else(|| ApiError::bad_request("the body needs a `text` field"))?;
    let options = options(&state, &principal, &body)?;
    let response = state.engine.search_text(&text, &options).await?;
    answer(&state, &principal, "text", &text, &options, &response)
}

async fn similar(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let principal = authenticate(&state, &headers, None)?;
    let body: SearchBody = parse_body(body)?;
    if body.text.is_some() {
        return Err(ApiError::bad_request("text belongs to /api/search"));
    }
    let raw_id = body
        .sighting_id
        .clone()
        .ok_or_else(|| ApiError::bad_request("the body needs a `sighting_id` field"))?;
    let id = parse_id(&raw_id)?;
    // The example itself must be visible to the caller.
    visible_sighting(&state, &principal, id).await?;
    let options = options(&state, &principal, &body)?;
    let response = state.engine.search_similar(id, &options).await?;
    answer(&state, &principal, "similar", &raw_id, &options, &response)
}

fn parse_id(text: &str) -> Result<SightingId, ApiError> {
    SightingId::parse(text).ok_or_else(|| {
        ApiError::bad_request(format!("{text:?} is not a sighting id (16 hex digits)"))
    })
}

async fn visible_sighting(
    state: &AppState,
    principal: &Principal,
    id: SightingId,
) -> Result<StoredSighting, ApiError> {
    let found = state.engine.store().get(vec![id], false).await?;
    match found.into_iter().next() {
        Some(s) if principal.may_see(&s.info.camera_id) => Ok(s),
        // Same answer as for a missing id: a limited key learns nothing about other cameras.
        _ => Err(ApiError::not_found(format!("no sighting with id {id}"))),
    }
}

async fn sighting(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let principal = authenticate(&state, &headers, None)?;
    let sighting = visible_sighting(&state, &principal, parse_id(&id)?).await?;
    Ok(Json(sighting_json(&sighting, None)))
}

async fn media(
    state: Arc<AppState>,
    headers: HeaderMap,
    id: String,
    key: KeyQuery,
    kind: MediaKind,
) -> Result<Response, ApiError> {
    let principal = authenticate(&state, &headers, key.key.as_deref())?;
    let id = parse_id(&id)?;
    visible_sighting(&state, &principal, id).await?;
    let bytes = state
        .engine
        .store()
        .media(id, kind)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("sighting {id} has no stored picture")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=86400"),
        ],
        bytes,
    )
        .into_response())
}

async fn crop(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(key): Query<KeyQuery>,
) -> Result<Response, ApiError> {
    media(state, headers, id, key, MediaKind::Crop).await
}

async fn frame(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(key): Query<KeyQuery>,
) -> Result<Response, ApiError> {
    media(state, headers, id, key, MediaKind::Frame).await
}

async fn cameras(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let principal = authenticate(&state, &headers, None)?;
    let stored = state.engine.store().cameras().await?;
    let mut views = state.cameras.as_ref().map(|c| c.list()).unwrap_or_default();
    for view in &mut views {
        view.sightings = stored
            .iter()
            .find(|(id, _)| *id == view.id)
            .map(|(_, n)| *n)
            .unwrap_or(0);
    }
    // Cameras known only from what is stored (ingested elsewhere, or removed since).
    for (id, count) in stored {
        if !views.iter().any(|v| v.id == id) {
            views.push(super::CameraView {
                id,
                state: "stored".into(),
                fps: 0.0,
                frames: 0,
                dropped: 0,
                last_error: None,
                last_frame_ms: None,
                reconnects: 0,
                sightings: count,
            });
        }
    }
    views.retain(|v| principal.may_see(&v.id));
    views.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Json(json!({ "cameras": views })))
}

async fn add_camera(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let principal = authenticate(&state, &headers, None)?;
    require_admin(&principal)?;
    let config: Value = parse_body(body)?;
    let control = state.cameras.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "this daemon runs no ingest; add cameras to an ingest worker",
        )
    })?;
    control.add(config).map_err(ApiError::bad_request)?;
    Ok((StatusCode::CREATED, Json(json!({"ok": true}))))
}

async fn remove_camera(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let principal = authenticate(&state, &headers, None)?;
    require_admin(&principal)?;
    let control = state
        .cameras
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "this daemon runs no ingest"))?;
    control.remove(&id).map_err(ApiError::not_found)?;
    Ok(Json(json!({"ok": true})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetentionBody {
    /// Delete sightings last seen more than this many days ago.
    older_than_days: f64,
}

async fn run_retention(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let principal = authenticate(&state, &headers, None)?;
    require_admin(&principal)?;
    let body: RetentionBody = parse_body(body)?;
    if !body.older_than_days.is_finite() || body.older_than_days < 0.0 {
        return Err(ApiError::bad_request(
            "older_than_days must be a non-negative number",
        ));
    }
    let cutoff = now_ms() - (body.older_than_days * 86_400_000.0) as i64;
    let deleted = state.engine.store().delete_older_than(cutoff).await?;
    tracing::info!(by = principal.name, deleted, "retention run");
    Ok(Json(json!({"deleted": deleted, "cutoff_ms": cutoff})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReindexBody {
    /// The new model bundle, a path on the daemon's machine.
    model: String,
    batch_size: Option<usize>,
}

async fn start_reindex(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let principal = authenticate(&state, &headers, None)?;
    require_admin(&principal)?;
    let body: ReindexBody = parse_body(body)?;
    let batch_size = body.batch_size.unwrap_or(32);
    if !(1..=1024).contains(&batch_size) {
        return Err(ApiError::bad_request(
            "batch_size must be between 1 and 1024",
        ));
    }
    let source =
        state.engine.served_collection().await?.ok_or_else(|| {
            ApiError::new(StatusCode::CONFLICT, "the store serves no collection yet")
        })?;
    let status = state
        .jobs
        .start_reindex(
            state.engine.store(),
            std::path::PathBuf::from(&body.model),
            source,
            batch_size,
        )
        .await
        .map_err(|e| ApiError::new(StatusCode::CONFLICT, e))?;
    tracing::info!(by = principal.name, model = body.model, "reindex started");
    Ok((StatusCode::ACCEPTED, Json(json!(status))))
}

async fn reindex_status(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let principal = authenticate(&state, &headers, None)?;
    require_admin(&principal)?;
    Ok(Json(json!(state.jobs.reindex_status())))
}

async fn alias(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let principal = authenticate(&state, &headers, None)?;
    require_admin(&principal)?;
    let store = state.engine.store();
    Ok(Json(json!({
        "served": store.alias_target().await?,
        "this_daemon": store.collection(),
        "collections": store.collections().await?,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasBody {
    collection: String,
}

async fn switch_alias(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let principal = authenticate(&state, &headers, None)?;
    require_admin(&principal)?;
    let body: AliasBody = parse_body(body)?;
    let store = state.engine.store();
    if !store.collections().await?.contains(&body.collection) {
        return Err(ApiError::not_found(format!(
            "no sightings collection {:?}",
            body.collection
        )));
    }
    store.switch_alias(&body.collection).await?;
    state.engine.forget_served_collection();
    tracing::warn!(
        by = principal.name,
        collection = body.collection,
        "alias switched"
    );
    Ok(Json(json!({"served": body.collection})))
}
