//! The query daemon against real components: the `lookout serve` binary on loopback,
//! the default model, an embedded store filled with synthetic people (rendered, embedded
//! with the model's visual stream, stored with crops). Search with filters, "find
//! similar", roles and camera limits, the audit log, metrics, bad requests; and the web
//! UI driven in headless Chromium. Skips (with a message) when the default model is not
//! prepared (`make models`).
mod common;

use common::TempDir;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rand::SeedableRng;
use serde_json::{json, Value};

use lookout::encode::CropEncoder;
use lookout::frame::BBox;
use lookout::model::TextReid;
use lookout::preprocess::RgbImage;
use lookout::store::{SightingId, SightingInfo, SightingRecord, Store, StoreConfig};
use lookout::synth::{captions, identity, render_person, Scene};

const T0: i64 = 1_764_633_600_000;
const MINUTE: i64 = 60_000;
const PEOPLE: usize = 40;
const CAMERAS: [&str; 3] = ["cam-a", "cam-b", "cam-c"];
const ADMIN_KEY: &str = "admin-key-for-tests";
const VIEWER_KEY: &str = "viewer-key-for-tests";
const GATE_KEY: &str = "gate-only-viewer-key";

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/default")
}

fn model_or_skip(test: &str) -> Option<PathBuf> {
    let dir = model_dir();
    if dir.join("weights.safetensors").is_file() && dir.join("vocab.json").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: the default model is not prepared at {} (run `make models`)",
            dir.display()
        );
        None
    }
}

/// A person of the fill: who, which camera, when, and a caption of what they wear.
struct Person {
    pid: usize,
    camera: &'static str,
    caption: String,
}

/// Two sightings of each of `PEOPLE` synthetic people (two views), embedded with the
/// default model and stored with their crops. Returns the people.
fn fill_store(model: &Path, data_dir: &Path) -> Vec<Person> {
    let text_reid = TextReid::load_path(model, tch::Device::Cpu).expect("default model");
    let version = text_reid.config.version.clone();
    let dim = text_reid.config.embedding_dim;
    let encoder = CropEncoder::new(text_reid, 16);
    let mut people = Vec::new();
    let mut crops = Vec::new();
    let mut records = Vec::new();
    for pid in 0..PEOPLE {
        let attrs = identity(2026, pid);
        let camera = CAMERAS[pid % 3];
        for view in 0..2u64 {
            let view_seed = (pid as u64) * 101 + view;
            let image = render_person(&attrs, view_seed, 128, 384);
            if view == 0 {
                let scene = Scene::sample(view_seed);
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(view_seed);
                let [caption, _] = captions(&attrs, scene.view, &mut rng);
                people.push(Person {
                    pid,
                    camera,
                    caption,
                });
            }
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
                .encode_image(&image)
                .expect("jpeg");
            crops.push((
                format!("{pid}/{view}"),
                RgbImage {
                    width: image.width() as usize,
                    height: image.height() as usize,
                    data: image.clone().into_raw(),
                },
            ));
            let first = T0 + (pid as i64 * 2 + view as i64) * 10 * MINUTE;
            let bbox = BBox::new(100.0, 50.0, 228.0, 434.0);
            records.push((
                SightingId::for_track(camera, first, pid as u64, view as u32),
                SightingInfo {
                    camera_id: camera.to_string(),
                    track_id: pid as u64,
                    first_seen_ms: first,
                    last_seen_ms: first + MINUTE,
                    best_time_ms: first + 30_000,
                    bbox,
                    frame_width: 128,
                    frame_height: 384,
                    thumb_bbox: bbox,
                    thumb_width: 128,
                    thumb_height: 384,
                    detector_score: 0.9,
                    model_version: version.clone(),
                },
                jpeg,
            ));
        }
    }
    let vectors = encoder.embed(&crops).expect("embed crops");
    let records: Vec<SightingRecord> = records
        .into_iter()
        .zip(vectors)
        .map(|((id, info, jpeg), vector)| SightingRecord {
            id,
            vector,
            info,
            crop_jpeg: jpeg.clone(),
            frame_jpeg: jpeg,
        })
        .collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let config = StoreConfig::Embedded {
            data_dir: data_dir.to_path_buf(),
        };
        let store = Store::open(&config, &version, dim)
            .await
            .expect("open store");
        store.upsert(records).await.expect("fill store");
    });
    people
}

struct Daemon {
    child: Child,
    address: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_daemon(dir: &Path, model: &Path) -> Daemon {
    let config = format!(
        r#"
[model]
path = {model:?}
device = "cpu"
[store]
backend = "embedded"
data_dir = {store:?}
[server]
listen = "127.0.0.1:0"
audit_log = {audit:?}
max_body_bytes = 8192
[[server.api_keys]]
name = "ops"
key = "{ADMIN_KEY}"
role = "admin"
[[server.api_keys]]
name = "operator"
key = "{VIEWER_KEY}"
role = "viewer"
[[server.api_keys]]
name = "gate-desk"
key = "{GATE_KEY}"
role = "viewer"
cameras = ["cam-a"]
[retention]
days = 0
"#,
        store = dir.join("store"),
        audit = dir.join("audit.jsonl"),
    );
    let config_path = dir.join("lookout.toml");
    std::fs::write(&config_path, config).expect("write config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lookout"))
        .args(["serve", "--config"])
        .arg(&config_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start lookout serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let address = loop {
        let line = match lines.next() {
            Some(Ok(line)) => line,
            _ => {
                let _ = child.kill();
                panic!("lookout serve exited before printing its address");
            }
        };
        if let Some(rest) = line.split("serving http://").nth(1) {
            break rest.split('/').next().unwrap_or_default().to_string();
        }
    };
    // Keep draining stdout so the daemon never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Daemon { child, address }
}

struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// A minimal HTTP/1.1 request (Connection: close).
fn request(
    address: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&[u8]>,
) -> Reply {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(key) = key {
        head.push_str(&format!("Authorization: Bearer {key}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send");
    if let Some(body) = body {
        // The daemon may answer (413) and close before reading a large body.
        let _ = stream.write_all(body);
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let header = |name: &str| {
        head.lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:")))
            .map(|l| l[name.len() + 1..].trim().to_string())
    };
    let mut body = raw[split + 4..].to_vec();
    if header("transfer-encoding").as_deref() == Some("chunked") {
        body = dechunk(&body);
    }
    Reply {
        status,
        content_type: header("content-type").unwrap_or_default(),
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 || data.len() < end + 2 + size + 2 {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
    out
}

fn post(address: &str, path: &str, key: Option<&str>, body: &Value) -> Reply {
    request(
        address,
        "POST",
        path,
        key,
        Some(body.to_string().as_bytes()),
    )
}

fn assert_error(reply: &Reply, status: u16, mentions: &str) {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let message = reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.to_lowercase().contains(&mentions.to_lowercase()),
        "error {message:?} should mention {mentions:?}"
    );
}

#[test]
fn daemon_searches_filters_limits_and_audits() {
    let Some(model) = model_or_skip("daemon_searches_filters_limits_and_audits") else {
        return;
    };
    let dir = TempDir::new("daemon");
    let people = fill_store(&model, &dir.0.join("store"));
    let daemon = start_daemon(&dir.0, &model);
    let addr = daemon.address.as_str();
    let mut searches = 0;

    // Health needs no key and sees the filled store.
    let health = request(addr, "GET", "/api/health", None, None);
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["store"]["points"], (PEOPLE * 2) as u64);

    // No key, or a wrong one: 401 with a message.
    assert_error(
        &post(addr, "/api/search", None, &json!({"text": "a man"})),
        401,
        "key",
    );
    assert_error(
        &post(
            addr,
            "/api/search",
            Some("not-a-key-at-all"),
            &json!({"text": "a man"}),
        ),
        401,
        "unknown",
    );

    // Text search: ranked results with crops, stage timings; the person described is
    // usually among the first results.
    let mut found_in_top10 = 0;
    for person in people.iter().take(20) {
        let reply = post(
            addr,
            "/api/search",
            Some(VIEWER_KEY),
            &json!({"text": person.caption, "limit": 10}),
        );
        searches += 1;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let body = reply.json();
        let results = body["results"].as_array().expect("results");
        assert_eq!(results.len(), 10);
        let scores: Vec<f64> = results
            .iter()
            .map(|r| r["score"].as_f64().unwrap())
            .collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "sorted by score: {scores:?}"
        );
        for stage in ["encode", "search", "rerank", "total"] {
            assert!(
                body["timings_ms"][stage].as_f64().is_some(),
                "timing {stage}"
            );
        }
        if results
            .iter()
            .any(|r| r["track_id"] == person.pid as u64 && r["camera_id"] == person.camera)
        {
            found_in_top10 += 1;
        }
    }
    eprintln!("daemon: the described person was in the top 10 for {found_in_top10}/20 captions (chance ≈ 5/20)");
    assert!(
        found_in_top10 >= 10,
        "only {found_in_top10}/20 captions found their person in the top 10"
    );

    // Camera and time filters run in the search.
    let reply = post(
        addr,
        "/api/search",
        Some(VIEWER_KEY),
        &json!({"text": "a person walking", "cameras": ["cam-b"], "limit": 50}),
    );
    searches += 1;
    let results = reply.json()["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!results.is_empty());
    assert!(results.iter().all(|r| r["camera_id"] == "cam-b"));
    let (from, to) = (T0 + 100 * MINUTE, T0 + 300 * MINUTE);
    let reply = post(
        addr,
        "/api/search",
        Some(VIEWER_KEY),
        &json!({"text": "a person", "from_ms": from, "to_ms": to, "limit": 100, "rerank": false}),
    );
    searches += 1;
    let results = reply.json()["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // Sightings start every 10 minutes and last one: those overlapping [from, to].
    assert_eq!(results.len(), 21);
    assert!(results
        .iter()
        .all(|r| r["last_seen_ms"].as_i64().unwrap() >= from
            && r["first_seen_ms"].as_i64().unwrap() <= to));

    // "Find similar": the example itself comes first, with a cosine of ~1.
    let first = &post(
        addr,
        "/api/search",
        Some(VIEWER_KEY),
        &json!({"text": people[0].caption}),
    )
    .json()["results"][0];
    searches += 1;
    let id = first["id"].as_str().expect("id").to_string();
    let similar = post(
        addr,
        "/api/similar",
        Some(VIEWER_KEY),
        &json!({"sighting_id": id, "rerank": false}),
    );
    searches += 1;
    assert_eq!(similar.status, 200);
    let similar = similar.json();
    assert_eq!(similar["results"][0]["id"], id.as_str());
    assert!((similar["results"][0]["score"].as_f64().unwrap() - 1.0).abs() < 1e-3);

    // Details and pictures; image URLs accept ?key=.
    let detail = request(
        addr,
        "GET",
        &format!("/api/sightings/{id}"),
        Some(VIEWER_KEY),
        None,
    );
    assert_eq!(detail.status, 200);
    assert_eq!(detail.json()["id"], id.as_str());
    let crop = request(
        addr,
        "GET",
        &format!("/api/sightings/{id}/crop?key={VIEWER_KEY}"),
        None,
        None,
    );
    assert_eq!(crop.status, 200);
    assert_eq!(crop.content_type, "image/jpeg");
    assert_eq!(&crop.body[..2], &[0xFF, 0xD8]);
    let decoded = image::load_from_memory(&crop.body).expect("crop decodes");
    assert_eq!((decoded.width(), decoded.height()), (128, 384));
    assert_eq!(
        request(
            addr,
            "GET",
            &format!("/api/sightings/{id}/frame"),
            Some(VIEWER_KEY),
            None
        )
        .status,
        200
    );

    // A key limited to cam-a sees cam-a only, and cannot ask for more.
    let reply = post(
        addr,
        "/api/search",
        Some(GATE_KEY),
        &json!({"text": "a person", "limit": 100}),
    );
    searches += 1;
    let results = reply.json()["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!results.is_empty() && results.iter().all(|r| r["camera_id"] == "cam-a"));
    assert_error(
        &post(
            addr,
            "/api/search",
            Some(GATE_KEY),
            &json!({"text": "a person", "cameras": ["cam-b"]}),
        ),
        403,
        "cam-b",
    );
    let cam_b = post(
        addr,
        "/api/search",
        Some(VIEWER_KEY),
        &json!({"text": "a person", "cameras": ["cam-b"], "limit": 1}),
    )
    .json();
    searches += 1;
    let cam_b_id = cam_b["results"][0]["id"]
        .as_str()
        .expect("cam-b id")
        .to_string();
    assert_eq!(
        request(
            addr,
            "GET",
            &format!("/api/sightings/{cam_b_id}"),
            Some(GATE_KEY),
            None
        )
        .status,
        404
    );
    assert_eq!(
        request(
            addr,
            "GET",
            &format!("/api/sightings/{cam_b_id}/crop?key={GATE_KEY}"),
            None,
            None
        )
        .status,
        404
    );
    assert_eq!(
        post(
            addr,
            "/api/similar",
            Some(GATE_KEY),
            &json!({"sighting_id": cam_b_id})
        )
        .status,
        404
    );
    let cameras = request(addr, "GET", "/api/cameras", Some(GATE_KEY), None).json();
    assert_eq!(cameras["cameras"].as_array().map(Vec::len), Some(1));

    // Admin-only routes.
    assert_error(
        &post(
            addr,
            "/api/retention",
            Some(VIEWER_KEY),
            &json!({"older_than_days": 1}),
        ),
        403,
        "admin",
    );
    let retention = post(
        addr,
        "/api/retention",
        Some(ADMIN_KEY),
        &json!({"older_than_days": 100000}),
    );
    assert_eq!(retention.status, 200);
    assert_eq!(retention.json()["deleted"], 0);
    assert_error(
        &post(addr, "/api/cameras", Some(ADMIN_KEY), &json!({"id": "x"})),
        409,
        "ingest",
    );

    // Malformed and oversized requests: 4xx with a message, never a 5xx.
    let raw = |body: &[u8]| request(addr, "POST", "/api/search", Some(VIEWER_KEY), Some(body));
    assert_error(&raw(b"{not json"), 400, "malformed");
    assert_error(&raw(b""), 400, "body");
    assert_error(
        &post(
            addr,
            "/api/search",
            Some(VIEWER_KEY),
            &json!({"text": "a man", "colour": "red"}),
        ),
        400,
        "colour",
    );
    assert_error(
        &post(
            addr,
            "/api/search",
            Some(VIEWER_KEY),
            &json!({"text": "   "}),
        ),
        400,
        "empty",
    );
    // Only unknown words (e.g. the first word still being typed): no results, and
    // the words are named so the UI can say so.
    let unknown = post(
        addr,
        "/api/search",
        Some(VIEWER_KEY),
        &json!({"text": "zxqv wbrk"}),
    );
    searches += 1;
    assert_eq!(unknown.status, 200);
    assert_eq!(unknown.json()["unknown_words"], json!(["zxqv", "wbrk"]));
    assert_eq!(unknown.json()["results"], json!([]));
    assert_error(
        &post(
            addr,
            "/api/search",
            Some(VIEWER_KEY),
            &json!({"text": "a man", "limit": 0}),
        ),
        400,
        "limit",
    );
    assert_error(
        &post(
            addr,
            "/api/search",
            Some(VIEWER_KEY),
            &json!({"text": "a man", "limit": 100000}),
        ),
        400,
        "limit",
    );
    assert_error(
        &post(
            addr,
            "/api/search",
            Some(VIEWER_KEY),
            &json!({"text": "a man", "from_ms": 10, "to_ms": 5}),
        ),
        400,
        "from_ms",
    );
    assert_error(
        &post(
            addr,
            "/api/search",
            Some(VIEWER_KEY),
            &json!({"text": "a man", "min_score": 9}),
        ),
        400,
        "min_score",
    );
    assert_error(
        &post(addr, "/api/search", Some(VIEWER_KEY), &json!({"text": 5})),
        400,
        "malformed",
    );
    let long_text = "man ".repeat(600);
    assert_error(
        &post(
            addr,
            "/api/search",
            Some(VIEWER_KEY),
            &json!({"text": long_text}),
        ),
        400,
        "longer",
    );
    let huge = vec![b'a'; 20_000];
    let reply = raw(&huge);
    assert_eq!(
        reply.status,
        413,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_error(
        &post(
            addr,
            "/api/similar",
            Some(VIEWER_KEY),
            &json!({"sighting_id": "zz"}),
        ),
        400,
        "sighting id",
    );
    assert_error(
        &post(
            addr,
            "/api/similar",
            Some(VIEWER_KEY),
            &json!({"sighting_id": "00000000000000aa"}),
        ),
        404,
        "no sighting",
    );
    assert_error(
        &request(addr, "GET", "/api/nothing-here", Some(VIEWER_KEY), None),
        404,
        "openapi",
    );

    // The daemon is still fine, the OpenAPI document is there, metrics count searches.
    assert_eq!(request(addr, "GET", "/api/health", None, None).status, 200);
    let openapi = request(addr, "GET", "/api/openapi.json", None, None).json();
    assert!(openapi["paths"]["/api/search"]["post"].is_object());
    let metrics =
        String::from_utf8(request(addr, "GET", "/metrics", None, None).body).expect("utf-8");
    // The similar search of the limited key was refused before it ran.
    assert!(
        metrics.contains("lookout_searches_total{kind=\"text\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("lookout_http_requests_total{route=\"/api/search\",status=\"400\"}"));
    assert!(metrics.contains(&format!("lookout_store_points {}", PEOPLE * 2)));

    // Audit log: one line per search that ran, with who and what, never the key.
    let audit = std::fs::read_to_string(dir.0.join("audit.jsonl")).expect("audit log");
    let entries: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit JSON"))
        .collect();
    assert_eq!(entries.len(), searches, "audit entries");
    assert!(entries
        .iter()
        .any(|e| e["key_name"] == "gate-desk" && e["cameras"] == json!(["cam-a"])));
    assert!(entries
        .iter()
        .any(|e| e["kind"] == "similar" && e["query"] == id.as_str()));
    assert!(entries
        .iter()
        .all(|e| e["time_ms"].as_i64().is_some() && e["results"].as_u64().is_some()));
    for key in [ADMIN_KEY, VIEWER_KEY, GATE_KEY] {
        assert!(!audit.contains(key), "the audit log must not contain keys");
    }
}

#[test]
fn web_ui_in_headless_chromium() {
    let test = "web_ui_in_headless_chromium";
    let Some(model) = model_or_skip(test) else {
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("tests/browser/ui_test.mjs");
    let modules = root.join("tests/browser/node_modules/puppeteer-core");
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let node = Command::new("node")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let Some(chromium) = chromium.filter(|_| node && modules.exists()) else {
        eprintln!(
            "SKIPPED {test}: needs node, Debian's chromium and tests/browser/node_modules (`make test` installs them: apt chromium nodejs, npm ci --prefix tests/browser)"
        );
        return;
    };
    let dir = TempDir::new("browser");
    let people = fill_store(&model, &dir.0.join("store"));
    let daemon = start_daemon(&dir.0, &model);
    let output = Command::new("node")
        .arg(&script)
        .args(["--url", &format!("http://{}", daemon.address)])
        .args(["--key", VIEWER_KEY])
        .args(["--query", &people[3].caption])
        .args(["--chromium", chromium])
        .args(["--timeout-ms", "60000"])
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!(
        "browser test: {}",
        stdout.lines().last().unwrap_or_default()
    );
    assert!(
        output.status.success(),
        "browser test failed:\n{stdout}\n{stderr}"
    );
    let summary: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("{}")).expect("JSON summary");
    assert_eq!(summary["ok"], true);
    assert!(summary["results"].as_u64().unwrap_or(0) >= 1);
    assert!(summary["similar"].as_u64().unwrap_or(0) >= 1);
}

#[test]
fn reindex_reembeds_kept_crops_into_a_new_collection_and_switches_the_alias() {
    let test = "reindex_reembeds_kept_crops_into_a_new_collection_and_switches_the_alias";
    let Some(model) = model_or_skip(test) else {
        return;
    };
    let dir = TempDir::new("reindex");
    let store_dir = dir.0.join("store");
    fill_store(&model, &store_dir);
    // The "new model": the same weights under another version, so the vectors can be
    // compared with the originals.
    let new_model = dir.0.join("model-v2.toml");
    std::fs::write(
        &new_model,
        format!(
            "weights = {:?}\ndictionary = {:?}\nvocabulary = {:?}\n[config]\nversion = \"reindex-test-v2\"\n",
            model.join("weights.safetensors"),
            model.join("dictionary.npy"),
            model.join("vocab.json")
        ),
    )
    .expect("model toml");
    let config = dir.0.join("lookout.toml");
    std::fs::write(
        &config,
        format!("[model]\npath = {model:?}\ndevice = \"cpu\"\n[store]\nbackend = \"embedded\"\ndata_dir = {store_dir:?}\n"),
    )
    .expect("config");
    let reindex = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_lookout"))
            .args(["reindex", "--config"])
            .arg(&config)
            .arg("--model")
            .arg(&new_model)
            .args(extra)
            .output()
            .expect("run lookout reindex")
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store_config = StoreConfig::Embedded {
        data_dir: store_dir.clone(),
    };
    let version = "lookout-default-mnv2-minilm-synth-v1";
    let before = rt.block_on(async {
        let store = Store::open(&store_config, version, 256)
            .await
            .expect("open");
        let (page, _) = store.scroll(store.collection(), None, 5).await.unwrap();
        let ids = page.iter().map(|s| s.id).collect();
        store.get(ids, true).await.unwrap()
    });
    assert_eq!(before.len(), 5);
    let output = reindex(&["--batch-size", "16"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("reindexed {} sightings", PEOPLE * 2)),
        "{stdout}"
    );
    assert!(
        stderr.contains("re-embedded"),
        "progress is shown: {stderr}"
    );

    rt.block_on(async {
        let old = Store::open(&store_config, version, 256)
            .await
            .expect("open");
        // The alias now names the new collection; both collections exist.
        let target = old.alias_target().await.unwrap().expect("alias");
        assert!(target.ends_with("reindex_test_v2"), "{target}");
        assert_eq!(old.collections().await.unwrap().len(), 2);
        assert_eq!(old.status().await.unwrap().points, PEOPLE * 2);
        // Each sighting re-embedded from its kept JPEG crop: the same person, so nearly
        // the same vector as the one embedded from the raw pixels.
        let after = old
            .get(before.iter().map(|s| s.id).collect(), true)
            .await
            .unwrap();
        assert_eq!(after.len(), before.len());
        for (b, a) in before.iter().zip(&after) {
            assert_eq!(a.info.model_version, "reindex-test-v2");
            assert_eq!(a.info.camera_id, b.info.camera_id);
            let (va, vb) = (a.vector.as_ref().unwrap(), b.vector.as_ref().unwrap());
            let cosine: f32 = va.iter().zip(vb).map(|(x, y)| x * y).sum();
            assert!(
                cosine > 0.95,
                "cosine {cosine} between the old and new vector of {}",
                a.id
            );
        }
        let hits = old
            .search(
                after[0].vector.clone().unwrap(),
                Default::default(),
                1,
                false,
            )
            .await
            .unwrap();
        assert_eq!(hits[0].sighting.id, after[0].id);
        // The pictures were not copied: the same media serve the new collection.
        assert!(old
            .media(hits[0].sighting.id, lookout::store::MediaKind::Crop)
            .await
            .unwrap()
            .is_some());
    });
    // Once current, the same model cannot be re-indexed onto itself.
    let again = reindex(&[]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already points"));
}

fn write_v2_model(dir: &Path, model: &Path) -> PathBuf {
    let path = dir.join("model-v2.toml");
    std::fs::write(
        &path,
        format!(
            "weights = {:?}\ndictionary = {:?}\nvocabulary = {:?}\n[config]\nversion = \"api-v2\"\n",
            model.join("weights.safetensors"),
            model.join("dictionary.npy"),
            model.join("vocab.json")
        ),
    )
    .expect("model toml");
    path
}

#[test]
fn admin_reindexes_through_the_api_and_a_model_mismatch_is_refused() {
    let test = "admin_reindexes_through_the_api_and_a_model_mismatch_is_refused";
    let Some(model) = model_or_skip(test) else {
        return;
    };
    let dir = TempDir::new("admin-reindex");
    let people = fill_store(&model, &dir.0.join("store"));
    let v2 = write_v2_model(&dir.0, &model);
    let daemon = start_daemon(&dir.0, &model);
    let addr = daemon.address.as_str();
    let body = json!({"model": v2.display().to_string(), "batch_size": 32});

    assert_error(
        &post(addr, "/api/reindex", Some(VIEWER_KEY), &body),
        403,
        "admin",
    );
    assert_error(
        &post(
            addr,
            "/api/reindex",
            Some(ADMIN_KEY),
            &json!({"model": "/no/such/model"}),
        ),
        409,
        "/no/such/model",
    );
    let started = post(addr, "/api/reindex", Some(ADMIN_KEY), &body);
    assert_eq!(
        started.status,
        202,
        "{}",
        String::from_utf8_lossy(&started.body)
    );
    let target = started.json()["target"]
        .as_str()
        .expect("target")
        .to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    let status = loop {
        let status = request(addr, "GET", "/api/reindex", Some(ADMIN_KEY), None).json();
        if status["state"] != "running" {
            break status;
        }
        // Searches keep working from the current collection while it runs.
        assert_eq!(
            post(
                addr,
                "/api/search",
                Some(VIEWER_KEY),
                &json!({"text": people[1].caption})
            )
            .status,
            200
        );
        assert!(
            std::time::Instant::now() < deadline,
            "reindex did not finish"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(status["state"], "done", "{status}");
    assert_eq!(status["reembedded"], (PEOPLE * 2) as u64);

    let aliases = request(addr, "GET", "/api/alias", Some(ADMIN_KEY), None).json();
    assert!(aliases["collections"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == target.as_str()));
    assert_ne!(
        aliases["served"],
        target.as_str(),
        "the alias is not switched by a reindex"
    );
    assert_error(
        &post(
            addr,
            "/api/alias",
            Some(ADMIN_KEY),
            &json!({"collection": "nope"}),
        ),
        404,
        "nope",
    );
    // Switching the alias to the new model's collection: this daemon still holds the old
    // text model, so it refuses to search another model's vectors instead of answering
    // nonsense, and its health says why.
    assert_eq!(
        post(
            addr,
            "/api/alias",
            Some(ADMIN_KEY),
            &json!({"collection": target})
        )
        .status,
        200
    );
    assert_error(
        &post(
            addr,
            "/api/search",
            Some(VIEWER_KEY),
            &json!({"text": people[1].caption}),
        ),
        503,
        "restart the daemon",
    );
    let health = request(addr, "GET", "/api/health", None, None);
    assert_eq!(health.status, 503);
    assert_eq!(health.json()["status"], "model_mismatch");
}
