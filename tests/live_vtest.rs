//! Live ingest end to end on the real clip (vtest.avi, Debian `opencv-doc`): GStreamer
//! decode → NanoDet → tracker → visual encoder → embedded store, then a text query
//! through the search engine returns the stored people. And the failure paths with the
//! worker running: an RTSP camera on loopback whose server is stopped and restarted
//! resumes by itself, while a corrupt file and an unreachable URL end as `down` with a
//! clear error and do not disturb it. Skips with a message when the clip, the detector
//! or the default model is missing (`make models`, `apt-get install opencv-doc`).
mod common;

use common::TempDir;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lookout::detect::{Detector, DetectorConfig};
use lookout::encode::CropEncoder;
use lookout::ingest::{free_local_port, CameraConfig, TestCameraServer, TestFeed};
use lookout::model::TextReid;
use lookout::search::{QueryEncoder, SearchEngine, SearchOptions};
use lookout::server::CameraControl;
use lookout::store::{MediaKind, SightingFilter, Store, StoreConfig};
use lookout::text::Vocabulary;
use lookout::track::TrackerConfig;
use lookout::worker::{IngestWorker, WorkerConfig};

const VTEST: &str = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

struct Parts {
    clip: PathBuf,
    model: PathBuf,
    detector: PathBuf,
}

fn parts_or_skip(test: &str) -> Option<Parts> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let parts = Parts {
        clip: PathBuf::from(VTEST),
        model: root.join("models/default"),
        detector: root.join("models/nanodet/nanodet.ts"),
    };
    let missing = [
        (parts.clip.clone(), "apt-get install opencv-doc"),
        (parts.model.join("weights.safetensors"), "make models"),
        (parts.detector.clone(), "make models"),
    ]
    .into_iter()
    .find(|(p, _)| !p.exists());
    if let Some((path, fix)) = missing {
        eprintln!("SKIPPED {test}: {} is missing ({fix})", path.display());
        return None;
    }
    Some(parts)
}

fn camera(toml_text: &str) -> CameraConfig {
    CameraConfig::from_toml(toml_text).expect("camera config")
}

fn start_worker(
    parts: &Parts,
    rt: &tokio::runtime::Runtime,
    store: Store,
    cameras: &[CameraConfig],
) -> Arc<IngestWorker> {
    let detector_config = DetectorConfig {
        model: parts.detector.clone(),
        ..DetectorConfig::default()
    };
    let detector = Detector::build(&detector_config, tch::Device::Cpu).expect("detector");
    let model = TextReid::load_path(&parts.model, tch::Device::Cpu).expect("model");
    let encoder = CropEncoder::new(model, 8);
    let config = WorkerConfig {
        frame_queue: 64,
        ..WorkerConfig::default()
    };
    IngestWorker::start(
        &config,
        &TrackerConfig::default(),
        cameras,
        detector,
        encoder,
        store,
        rt.handle().clone(),
    )
    .expect("worker")
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn state_of(worker: &IngestWorker, id: &str) -> (String, u64, Option<String>) {
    worker
        .list()
        .into_iter()
        .find(|c| c.id == id)
        .map(|c| (c.state, c.frames, c.last_error))
        .unwrap_or_else(|| ("absent".into(), 0, None))
}

fn open_store(rt: &tokio::runtime::Runtime, dir: &Path, model: &Path) -> Store {
    let probe = TextReid::load_path(model, tch::Device::Cpu).expect("model");
    rt.block_on(Store::open(
        &StoreConfig::Embedded {
            data_dir: dir.to_path_buf(),
        },
        &probe.config.version,
        probe.config.embedding_dim,
    ))
    .expect("store")
}

#[test]
fn the_clip_becomes_searchable_sightings() {
    let Some(parts) = parts_or_skip("the_clip_becomes_searchable_sightings") else {
        return;
    };
    let dir = TempDir::new("clip");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = open_store(&rt, &dir.0, &parts.model);
    let clip = camera(&format!(
        "id = \"vtest\"\nanalysis_fps = 5\nsource = {{ kind = \"file\", path = {:?}, loop = false, realtime = false }}",
        parts.clip
    ));
    let worker = start_worker(&parts, &rt, store.clone(), &[clip]);
    wait_for("the clip to be decoded", Duration::from_secs(600), || {
        state_of(&worker, "vtest").0 == "finished"
    });
    // Let the detector drain the queue, then stop: open tracks are flushed and stored.
    let mut last = 0;
    wait_for("the detector to catch up", Duration::from_secs(600), || {
        let now = worker.stats().frames;
        let settled = now == last && now > 0;
        last = now;
        std::thread::sleep(Duration::from_millis(800));
        settled
    });
    worker.stop();
    let stats = worker.stats();
    eprintln!(
        "clip: {} frames, {} detections, {} sightings stored (detect {:.1} s, track {:.2} s, encode {:.1} s, store {:.2} s)",
        stats.frames, stats.detections, stats.stored, stats.detect_s, stats.track_s, stats.encode_s, stats.store_s
    );
    // 795 frames at 10 fps, analysed at 5 fps.
    assert!(
        (390..=400).contains(&stats.frames),
        "{} frames",
        stats.frames
    );
    // 2–10 walkers per frame over 80 s: people, not frames, are stored.
    assert!(stats.detections > 1000, "{} detections", stats.detections);
    assert!(
        (10..=150).contains(&stats.stored),
        "{} sightings",
        stats.stored
    );
    assert_eq!(stats.store_errors, 0);

    rt.block_on(async {
        assert_eq!(store.status().await.unwrap().points as u64, stats.stored);
        let model = TextReid::load_path(&parts.model, tch::Device::Cpu).expect("model");
        let vocabulary = Vocabulary::load(&parts.model.join("vocab.json")).expect("vocab");
        let engine = SearchEngine::new(
            Arc::new(QueryEncoder::from_model(model, vocabulary)),
            store.clone(),
            Default::default(),
        );
        let options = SearchOptions {
            filter: SightingFilter {
                cameras: Some(vec!["vtest".into()]),
                ..Default::default()
            },
            limit: 5,
            rerank: true,
        };
        let response = engine
            .search_text("a man in a dark jacket and jeans walking", &options)
            .await
            .expect("search");
        assert_eq!(response.hits.len(), 5);
        for hit in &response.hits {
            let info = &hit.sighting.info;
            assert_eq!(info.camera_id, "vtest");
            assert!(
                info.first_seen_ms <= info.best_time_ms && info.best_time_ms <= info.last_seen_ms
            );
            assert!(info.bbox.x2 <= 768.0 && info.bbox.y2 <= 576.0 && info.bbox.height() >= 24.0);
            let crop = store
                .media(hit.sighting.id, MediaKind::Crop)
                .await
                .unwrap()
                .expect("crop kept");
            let crop = image::load_from_memory(&crop).expect("crop is a JPEG");
            assert_eq!((crop.width(), crop.height()), (128, 384));
            let frame = store
                .media(hit.sighting.id, MediaKind::Frame)
                .await
                .unwrap()
                .expect("frame kept");
            let frame = image::load_from_memory(&frame).expect("frame is a JPEG");
            assert_eq!(
                (frame.width(), frame.height()),
                (info.thumb_width, info.thumb_height)
            );
        }
    });
}

#[test]
fn rtsp_camera_recovers_while_broken_cameras_report_errors() {
    let Some(parts) = parts_or_skip("rtsp_camera_recovers_while_broken_cameras_report_errors")
    else {
        return;
    };
    let dir = TempDir::new("rtsp");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = open_store(&rt, &dir.0.join("store"), &parts.model);
    let port = free_local_port().expect("free port");
    let server = TestCameraServer::start(TestFeed::File(parts.clip.clone()), port, "door")
        .expect("test camera");
    let corrupt = dir.0.join("corrupt.avi");
    std::fs::write(
        &corrupt,
        b"RIFF\x00\x00\x00\x00AVI this is not a video at all".repeat(100),
    )
    .expect("corrupt file");
    let closed_port = free_local_port().expect("closed port");
    let cameras = [
        camera(&format!(
            "id = \"door\"\nanalysis_fps = 5\nsource = {{ kind = \"rtsp\", url = \"rtsp://127.0.0.1:{port}/door\", transport = \"tcp\", latency_ms = 100 }}\nreconnect = {{ min_ms = 300, max_ms = 2000, stall_timeout_ms = 3000 }}"
        )),
        camera(&format!(
            "id = \"corrupt\"\nsource = {{ kind = \"file\", path = {corrupt:?} }}"
        )),
        camera(&format!(
            "id = \"nowhere\"\nsource = {{ kind = \"rtsp\", url = \"rtsp://127.0.0.1:{closed_port}/x\" }}\nreconnect = {{ min_ms = 500, max_ms = 2000 }}"
        )),
    ];
    let worker = start_worker(&parts, &rt, store.clone(), &cameras);

    wait_for(
        "the RTSP camera to deliver frames",
        Duration::from_secs(60),
        || state_of(&worker, "door").1 >= 15,
    );
    wait_for(
        "the broken cameras to report errors",
        Duration::from_secs(30),
        || state_of(&worker, "corrupt").0 == "down" && state_of(&worker, "nowhere").2.is_some(),
    );
    let (_, _, corrupt_error) = state_of(&worker, "corrupt");
    let corrupt_error = corrupt_error.expect("corrupt camera error");
    assert!(
        corrupt_error.contains("corrupt"),
        "error names the camera: {corrupt_error}"
    );
    let (nowhere_state, _, nowhere_error) = state_of(&worker, "nowhere");
    assert!(
        ["down", "reconnecting"].contains(&nowhere_state.as_str()),
        "{nowhere_state}"
    );
    assert!(nowhere_error.unwrap_or_default().contains("nowhere"));
    assert_eq!(
        state_of(&worker, "door").0,
        "up",
        "the good camera is unaffected"
    );

    // The camera server goes away mid-ingest...
    server.stop();
    wait_for("the RTSP camera to notice", Duration::from_secs(30), || {
        state_of(&worker, "door").0 != "up"
    });
    let frames_while_down = state_of(&worker, "door").1;
    // ...and comes back on the same port: ingest resumes by itself.
    let server = TestCameraServer::start(TestFeed::File(parts.clip.clone()), port, "door")
        .expect("restart test camera");
    wait_for("the RTSP camera to resume", Duration::from_secs(60), || {
        let (state, frames, _) = state_of(&worker, "door");
        state == "up" && frames >= frames_while_down + 15
    });
    let reconnects = worker
        .list()
        .into_iter()
        .find(|c| c.id == "door")
        .map(|c| c.reconnects)
        .unwrap_or(0);
    assert!(reconnects >= 1, "reconnects {reconnects}");

    // Cameras can be removed and added while running.
    worker.remove("corrupt").expect("remove camera");
    assert!(worker.remove("corrupt").is_err());
    assert!(worker
        .add(serde_json::json!({"id": "door", "source": {"kind": "test"}}))
        .unwrap_err()
        .contains("door"));
    worker.stop();
    server.stop();
    let stats = worker.stats();
    eprintln!(
        "rtsp: {} frames through the detector, {} sightings stored, {reconnects} reconnects",
        stats.frames, stats.stored
    );
    assert!(stats.frames >= 30);
}
