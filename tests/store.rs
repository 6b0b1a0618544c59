//! The sighting store, one suite run against both back-ends: the embedded qdrant-edge
//! store always, a Qdrant server whenever `QDRANT_URL` is set (e.g.
//! `QDRANT_URL=http://127.0.0.1:6334`; skipped with a message otherwise). Upsert and
//! search, filters inside the search, media, retention, the alias switch, and (embedded)
//! a reopen after the writing process was killed with SIGKILL.
mod common;

use common::TempDir;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use lookout::frame::BBox;
use lookout::store::server::ServerConfig;
use lookout::store::{
    MediaKind, SightingFilter, SightingId, SightingInfo, SightingRecord, Store, StoreConfig,
    StoreError,
};

const DIM: usize = 8;
const HOUR: i64 = 3_600_000;
const T0: i64 = 1_764_633_600_000;

fn unit(seed: usize) -> Vec<f32> {
    // Deterministic, well spread directions.
    let v: Vec<f32> = (0..DIM)
        .map(|i| (((seed * 7919 + i * 104_729) % 1000) as f32 / 500.0) - 1.0)
        .collect();
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
    v.into_iter().map(|x| x / n).collect()
}

fn record(
    i: usize,
    camera: &str,
    first_seen_ms: i64,
    vector: Vec<f32>,
    version: &str,
) -> SightingRecord {
    let bbox = BBox::new(10.0, 20.0, 60.0, 200.0);
    SightingRecord {
        id: SightingId::for_track(camera, first_seen_ms, i as u64, 0),
        vector,
        info: SightingInfo {
            camera_id: camera.to_string(),
            track_id: i as u64,
            first_seen_ms,
            last_seen_ms: first_seen_ms + 5_000,
            best_time_ms: first_seen_ms + 2_000,
            bbox,
            frame_width: 768,
            frame_height: 576,
            thumb_bbox: bbox,
            thumb_width: 640,
            thumb_height: 480,
            detector_score: 0.8,
            model_version: version.to_string(),
        },
        crop_jpeg: format!("crop-{i}").into_bytes(),
        frame_jpeg: format!("frame-{i}").into_bytes(),
    }
}

/// 30 sightings: cameras a, b, c in turn, one hour apart.
fn fixture(version: &str) -> Vec<SightingRecord> {
    let cameras = ["cam-a", "cam-b", "cam-c"];
    (0..30)
        .map(|i| record(i, cameras[i % 3], T0 + i as i64 * HOUR, unit(i), version))
        .collect()
}

struct Backend {
    name: &'static str,
    config: StoreConfig,
    /// Kept so the embedded data directory lives as long as the test.
    _dir: Option<TempDir>,
}

fn backends(tag: &str) -> Vec<Backend> {
    let dir = TempDir::new(tag);
    let mut out = vec![Backend {
        name: "embedded",
        config: StoreConfig::Embedded {
            data_dir: dir.0.clone(),
        },
        _dir: Some(dir),
    }];
    match std::env::var("QDRANT_URL") {
        Ok(url) if !url.is_empty() => {
            let namespace = format!(
                "lookout_test_{tag}_{}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or(0)
            );
            let config: ServerConfig = toml::from_str(&format!(
                "url = {url:?}\nnamespace = {namespace:?}\napi_key_env = \"QDRANT_API_KEY\""
            ))
            .expect("server config");
            let config = if std::env::var("QDRANT_API_KEY").is_ok() {
                config
            } else {
                ServerConfig {
                    api_key_env: None,
                    ..config
                }
            };
            out.push(Backend {
                name: "server",
                config: StoreConfig::Server(config),
                _dir: None,
            });
        }
        _ => eprintln!(
            "SKIPPED store suite on a Qdrant server ({tag}): QDRANT_URL is not set (e.g. QDRANT_URL=http://127.0.0.1:6334)"
        ),
    }
    out
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

#[test]
fn upsert_then_search_with_filters_inside_the_search() {
    let rt = runtime();
    for backend in backends("search") {
        rt.block_on(async {
            let store = Store::open(&backend.config, "v1", DIM).await.expect("open");
            store.upsert(fixture("v1")).await.expect("upsert");
            assert_eq!(store.status().await.unwrap().points, 30, "{}", backend.name);

            // The nearest point to sighting 7's own vector is sighting 7, score ~1.
            let hits = store
                .search(unit(7), SightingFilter::default(), 5, false)
                .await
                .unwrap();
            assert_eq!(hits[0].sighting.info.track_id, 7, "{}", backend.name);
            assert!((hits[0].score - 1.0).abs() < 1e-4);
            assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));

            // Camera filter: only cam-b, even when the query is a cam-a sighting.
            let only_b = SightingFilter {
                cameras: Some(vec!["cam-b".into()]),
                ..Default::default()
            };
            let hits = store.search(unit(0), only_b, 50, false).await.unwrap();
            assert_eq!(hits.len(), 10, "{}", backend.name);
            assert!(hits.iter().all(|h| h.sighting.info.camera_id == "cam-b"));

            // Time window: sightings overlapping hours 10..=14 → tracks 10..=14.
            let window = SightingFilter {
                from_ms: Some(T0 + 10 * HOUR),
                to_ms: Some(T0 + 14 * HOUR),
                ..Default::default()
            };
            let mut tracks: Vec<u64> = store
                .search(unit(3), window, 50, false)
                .await
                .unwrap()
                .iter()
                .map(|h| h.sighting.info.track_id)
                .collect();
            tracks.sort();
            assert_eq!(tracks, vec![10, 11, 12, 13, 14], "{}", backend.name);

            // Both at once, limit respected, vectors returned when asked.
            let both = SightingFilter {
                cameras: Some(vec!["cam-a".into(), "cam-c".into()]),
                from_ms: Some(T0),
                to_ms: Some(T0 + 11 * HOUR),
                min_score: None,
            };
            let hits = store.search(unit(1), both, 3, true).await.unwrap();
            assert_eq!(hits.len(), 3);
            for h in &hits {
                assert_ne!(h.sighting.info.camera_id, "cam-b");
                assert!(h.sighting.info.first_seen_ms <= T0 + 11 * HOUR);
                assert_eq!(h.sighting.vector.as_ref().map(Vec::len), Some(DIM));
            }

            // Minimum score drops everything below it.
            let strict = SightingFilter {
                min_score: Some(0.999),
                ..Default::default()
            };
            let hits = store.search(unit(7), strict, 10, false).await.unwrap();
            assert_eq!(hits.len(), 1);

            // Payload, ids and media come back intact.
            let wanted = fixture("v1")[4].clone();
            let got = store.get(vec![wanted.id], false).await.unwrap();
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].info, wanted.info);
            assert_eq!(
                store
                    .media(wanted.id, MediaKind::Crop)
                    .await
                    .unwrap()
                    .as_deref(),
                Some(&b"crop-4"[..])
            );
            assert_eq!(
                store
                    .media(wanted.id, MediaKind::Frame)
                    .await
                    .unwrap()
                    .as_deref(),
                Some(&b"frame-4"[..])
            );
            assert!(store
                .media(SightingId(12345), MediaKind::Crop)
                .await
                .unwrap()
                .is_none());

            let mut cameras = store.cameras().await.unwrap();
            cameras.sort();
            assert_eq!(
                cameras,
                vec![
                    ("cam-a".into(), 10),
                    ("cam-b".into(), 10),
                    ("cam-c".into(), 10)
                ]
            );

            // A re-sent sighting overwrites rather than duplicates.
            store.upsert(fixture("v1")[..5].to_vec()).await.unwrap();
            assert_eq!(store.status().await.unwrap().points, 30);

            // A vector of the wrong size is refused with a clear error, nothing stored.
            let mut bad = fixture("v1")[0].clone();
            bad.vector.push(0.0);
            match store.upsert(vec![bad]).await {
                Err(StoreError::Dimension {
                    expected, found, ..
                }) => {
                    assert_eq!((expected, found), (DIM, DIM + 1))
                }
                other => panic!(
                    "{}: expected a dimension error, got {other:?}",
                    backend.name
                ),
            }
            assert_eq!(store.status().await.unwrap().points, 30);
        });
    }
}

#[test]
fn retention_deletes_old_sightings_and_their_pictures() {
    let rt = runtime();
    for backend in backends("retention") {
        rt.block_on(async {
            let store = Store::open(&backend.config, "v1", DIM).await.expect("open");
            let records = fixture("v1");
            store.upsert(records.clone()).await.unwrap();
            // last_seen = T0 + i h + 5 s: a cutoff at T0 + 20 h removes tracks 0..=19.
            let deleted = store.delete_older_than(T0 + 20 * HOUR).await.unwrap();
            assert_eq!(deleted, 20, "{}", backend.name);
            assert_eq!(store.status().await.unwrap().points, 10);
            let left = store
                .search(unit(1), SightingFilter::default(), 50, false)
                .await
                .unwrap();
            assert!(left.iter().all(|h| h.sighting.info.track_id >= 20));
            assert!(store
                .media(records[3].id, MediaKind::Crop)
                .await
                .unwrap()
                .is_none());
            assert!(store
                .media(records[25].id, MediaKind::Crop)
                .await
                .unwrap()
                .is_some());
            // Running it again deletes nothing more.
            assert_eq!(store.delete_older_than(T0 + 20 * HOUR).await.unwrap(), 0);
        });
    }
}

#[test]
fn a_new_model_version_gets_its_own_collection_behind_the_alias() {
    let rt = runtime();
    for backend in backends("alias") {
        rt.block_on(async {
            let v1 = Store::open(&backend.config, "model-v1", DIM).await.unwrap();
            v1.upsert(fixture("model-v1")).await.unwrap();
            let v1_collection = v1.collection();
            drop(v1);

            // Opening with a new version creates its collection but leaves the alias.
            let v2 = Store::open(&backend.config, "model-v2", DIM).await.unwrap();
            assert_ne!(v2.collection(), v1_collection);
            assert_eq!(
                v2.alias_target().await.unwrap().as_deref(),
                Some(v1_collection.as_str())
            );
            let hits = v2
                .search(unit(2), SightingFilter::default(), 1, false)
                .await
                .unwrap();
            assert_eq!(
                hits[0].sighting.info.model_version, "model-v1",
                "{}",
                backend.name
            );

            // Writes go to the new collection; searches follow the alias once switched.
            let mut renewed = fixture("model-v2");
            renewed.truncate(12);
            v2.upsert(renewed).await.unwrap();
            assert_eq!(v2.status().await.unwrap().points, 30, "still searching v1");
            v2.switch_alias(&v2.collection()).await.unwrap();
            assert_eq!(v2.status().await.unwrap().points, 12);
            let hits = v2
                .search(unit(2), SightingFilter::default(), 1, false)
                .await
                .unwrap();
            assert_eq!(hits[0].sighting.info.model_version, "model-v2");
            let collections = v2.collections().await.unwrap();
            assert!(collections.contains(&v1_collection) && collections.contains(&v2.collection()));
            assert!(v2
                .switch_alias("lookout_sightings_no_such_model")
                .await
                .is_err());
        });
    }
}

/// The writer half of the kill test: run as a child process by the test below.
#[test]
#[ignore = "child process of acknowledged_sightings_survive_a_kill_9"]
fn store_child_writer() {
    let Ok(dir) = std::env::var("LOOKOUT_STORE_CHILD_DIR") else {
        return;
    };
    let rt = runtime();
    rt.block_on(async {
        let config = StoreConfig::Embedded {
            data_dir: dir.into(),
        };
        let store = Store::open(&config, "v1", DIM).await.expect("child open");
        for batch in 0..5 {
            let records: Vec<SightingRecord> = (0..20)
                .map(|i| {
                    let n = batch * 20 + i;
                    record(n, "cam-k", T0 + n as i64 * 1000, unit(n), "v1")
                })
                .collect();
            store.upsert(records).await.expect("child upsert");
            println!("ACK {}", (batch + 1) * 20);
        }
        // Acknowledged everything; now wait to be killed mid-life (no clean shutdown).
        std::thread::sleep(std::time::Duration::from_secs(60));
    });
}

#[test]
fn acknowledged_sightings_survive_a_kill_9() {
    let dir = TempDir::new("kill");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "store_child_writer",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LOOKOUT_STORE_CHILD_DIR", &dir.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn writer");
    let stdout = child.stdout.take().expect("child stdout");
    let mut acknowledged = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("child output");
        if let Some(n) = line.strip_prefix("ACK ") {
            acknowledged = n.trim().parse().expect("ack count");
            if acknowledged == 100 {
                break;
            }
        }
    }
    assert_eq!(
        acknowledged, 100,
        "the writer did not acknowledge its batches"
    );
    // SIGKILL: no destructor, no flush on exit.
    child.kill().expect("kill -9");
    let _ = child.wait();

    let rt = runtime();
    rt.block_on(async {
        let config = StoreConfig::Embedded {
            data_dir: dir.0.clone(),
        };
        let store = Store::open(&config, "v1", DIM)
            .await
            .expect("reopen after kill");
        assert_eq!(store.status().await.unwrap().points, 100);
        let hits = store
            .search(unit(57), SightingFilter::default(), 1, false)
            .await
            .unwrap();
        assert_eq!(hits[0].sighting.info.track_id, 57);
        let id = SightingId::for_track("cam-k", T0 + 99_000, 99, 0);
        assert!(store.media(id, MediaKind::Crop).await.unwrap().is_some());
    });
}
