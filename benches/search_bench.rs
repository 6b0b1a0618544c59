//! `cargo bench --bench search_bench`: how fast a query is answered, by store size, and
//! how many searches per second the query daemon serves.
//!
//! An embedded store (qdrant-edge, in a temporary folder under /tmp that is removed at
//! the end) is filled with 10 000, 100 000 and 1 000 000 synthetic sightings: 256-d
//! L2-normalised vectors drawn around 2000 random "identity" centres (so that the
//! candidates of a query have neighbours among themselves and re-ranking has work to
//! do), spread over 20 cameras and 7 days, each with a real (tiny) crop and frame JPEG.
//! Upserts go in batches of 1000 and are timed, then `optimize()` builds the vector index
//! (timed too; for 1M it is skipped, and searches scan, when the 100k build predicts it
//! would take longer than the budget). Each query configuration then runs real
//! sentences through `SearchEngine::search_text` with the default model on the CPU, and
//! the per-stage timings it returns give p50 / p99 of encoding, store search, re-ranking
//! and the total. Last, the real axum router is served on loopback over the 100k store
//! and hammered with POST /api/search by K keep-alive clients (a minimal HTTP/1.1 client
//! over `tokio::net::TcpStream`, one request in flight per connection).
//!
//! Flags (after `--`): `--sizes 10000,100000,1000000`, `--queries 200`,
//! `--qps-seconds 10`, `--optimize-budget-s 600`.
mod common;
use common::machine_state;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use lookout::frame::BBox;
use lookout::search::{QueryEncoder, SearchConfig, SearchEngine, SearchOptions};
use lookout::server::auth::KeyRing;
use lookout::server::{ApiKeyConfig, AppState, Role};
use lookout::store::{
    SightingFilter, SightingId, SightingInfo, SightingRecord, Store, StoreConfig,
};

const DIMENSION: usize = 256;
const IDENTITIES: usize = 2000;
const CAMERAS: usize = 20;
const DAYS: i64 = 7;
const DAY_MS: i64 = 86_400_000;
/// 2025-12-01 00:00 UTC: the synthetic week starts here.
const WEEK_START_MS: i64 = 1_764_547_200_000;
const UPSERT_BATCH: usize = 1000;
/// Per-dimension noise around an identity centre: a sighting's cosine to its centre is
/// about 1/sqrt(1 + 256·σ²) ≈ 0.78, so sightings of one identity cluster clearly.
const NOISE_SIGMA: f32 = 0.05;
/// Queries that run before the timed ones of each configuration (caches, thread pools).
const WARMUP_QUERIES: usize = 10;
const VIEWER_KEY: &str = "search-bench-viewer-key";

struct Args {
    sizes: Vec<usize>,
    queries: usize,
    qps_seconds: f64,
    optimize_budget_s: f64,
}

impl Args {
    fn parse() -> anyhow::Result<Args> {
        let mut args = Args {
            sizes: vec![10_000, 100_000, 1_000_000],
            queries: 200,
            qps_seconds: 10.0,
            optimize_budget_s: 600.0,
        };
        let raw: Vec<String> = std::env::args().skip(1).collect();
        let value = |i: usize| {
            raw.get(i + 1)
                .with_context(|| format!("{} needs a value", raw[i]))
        };
        let mut i = 0;
        while i < raw.len() {
            match raw[i].as_str() {
                "--sizes" => {
                    args.sizes = value(i)?
                        .split(',')
                        .map(|s| s.trim().replace('_', "").parse::<usize>())
                        .collect::<Result<_, _>>()
                        .context("--sizes takes numbers separated by commas")?;
                    i += 1;
                }
                "--queries" => {
                    args.queries = value(i)?.parse().context("--queries takes a number")?;
                    i += 1;
                }
                "--qps-seconds" => {
                    args.qps_seconds = value(i)?.parse().context("--qps-seconds takes seconds")?;
                    i += 1;
                }
                "--optimize-budget-s" => {
                    args.optimize_budget_s = value(i)?
                        .parse()
                        .context("--optimize-budget-s takes seconds")?;
                    i += 1;
                }
                // `cargo bench` passes `--bench`; other harness flags mean nothing here.
                _ => {}
            }
            i += 1;
        }
        if args.queries == 0 {
            bail!("--queries must be at least 1");
        }
        Ok(args)
    }
}

fn manifest_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The default model must be there before anything is measured.
fn check_model(model: &Path) -> anyhow::Result<()> {
    for file in ["model.toml", "weights.safetensors", "vocab.json"] {
        if !model.join(file).is_file() {
            bail!(
                "the default model is missing ({} not found): run `make models` first",
                model.join(file).display()
            );
        }
    }
    Ok(())
}

/// Real operator sentences, every word in the default model's vocabulary.
fn query_sentences() -> Vec<String> {
    let people = [
        "a woman",
        "a man",
        "a young girl",
        "an older gentleman",
        "a slim lady",
        "a stocky guy",
        "a teenage boy",
    ];
    let tops = [
        ("red", "coat"),
        ("blue", "jacket"),
        ("grey", "hoodie"),
        ("white", "shirt"),
        ("green", "sweater"),
        ("navy", "overcoat"),
        ("pink", "blouse"),
        ("yellow", "tee"),
    ];
    let bottoms = [
        "black jeans",
        "khaki trousers",
        "dark skirt",
        "denim shorts",
        "grey leggings",
        "beige slacks",
    ];
    let carried = [
        "a black backpack",
        "a brown handbag",
        "a silver suitcase",
        "a white tote",
        "a red purse",
        "nothing",
    ];
    let mut sentences = vec!["a woman in a red coat with a black backpack".to_string()];
    let mut i = 0usize;
    while sentences.len() < 240 {
        let person = people[i % people.len()];
        let (colour, top) = tops[(i / 3) % tops.len()];
        let bottom = bottoms[(i / 5) % bottoms.len()];
        let item = carried[(i / 7) % carried.len()];
        sentences.push(format!(
            "{person} in a {colour} {top} and {bottom} carrying {item}"
        ));
        i += 1;
    }
    sentences
}

/// One small real JPEG, encoded once and stored as every sighting's crop and frame.
fn tiny_jpeg(width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let mut rgb = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            rgb.extend_from_slice(&[(x * 255 / width) as u8, (y * 255 / height) as u8, 128]);
        }
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode(&rgb, width, height, image::ExtendedColorType::Rgb8)
        .context("encoding the placeholder JPEG")?;
    Ok(out)
}

fn gaussian(rng: &mut impl Rng) -> f32 {
    // Box–Muller; 1 - u keeps the logarithm finite.
    let u: f32 = 1.0 - rng.gen::<f32>();
    let v: f32 = rng.gen();
    (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}

fn normalise(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    for x in vector {
        *x /= norm;
    }
}

/// Generates the synthetic sightings, batch by batch, with a fixed seed.
struct SightingFactory {
    rng: ChaCha8Rng,
    centres: Vec<Vec<f32>>,
    cameras: Vec<String>,
    crop_jpeg: Vec<u8>,
    frame_jpeg: Vec<u8>,
    model_version: String,
    next_track: u64,
}

impl SightingFactory {
    fn new(model_version: &str) -> anyhow::Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let centres = (0..IDENTITIES)
            .map(|_| {
                let mut c: Vec<f32> = (0..DIMENSION).map(|_| gaussian(&mut rng)).collect();
                normalise(&mut c);
                c
            })
            .collect();
        Ok(SightingFactory {
            rng,
            centres,
            cameras: (0..CAMERAS).map(|i| format!("cam-{i:02}")).collect(),
            crop_jpeg: tiny_jpeg(16, 48)?,
            frame_jpeg: tiny_jpeg(64, 48)?,
            model_version: model_version.to_string(),
            next_track: 0,
        })
    }

    fn batch(&mut self, count: usize) -> Vec<SightingRecord> {
        (0..count).map(|_| self.record()).collect()
    }

    fn record(&mut self) -> SightingRecord {
        let rng = &mut self.rng;
        let identity = rng.gen_range(0..IDENTITIES);
        let mut vector: Vec<f32> = self.centres[identity]
            .iter()
            .map(|c| c + NOISE_SIGMA * gaussian(rng))
            .collect();
        normalise(&mut vector);
        let camera_id = self.cameras[rng.gen_range(0..CAMERAS)].clone();
        let first_seen_ms = WEEK_START_MS + rng.gen_range(0..DAYS * DAY_MS);
        let last_seen_ms = first_seen_ms + rng.gen_range(1_000..60_000);
        let best_time_ms = rng.gen_range(first_seen_ms..=last_seen_ms);
        let x = rng.gen_range(0.0..600.0f32);
        let y = rng.gen_range(0.0..300.0f32);
        let bbox = BBox::new(x, y, x + 60.0, y + 180.0);
        let track_id = self.next_track;
        self.next_track += 1;
        SightingRecord {
            id: SightingId::for_track(&camera_id, first_seen_ms, track_id, 0),
            vector,
            info: SightingInfo {
                camera_id,
                track_id,
                first_seen_ms,
                last_seen_ms,
                best_time_ms,
                bbox,
                frame_width: 768,
                frame_height: 576,
                thumb_bbox: BBox::new(x / 12.0, y / 12.0, (x + 60.0) / 12.0, (y + 180.0) / 12.0),
                thumb_width: 64,
                thumb_height: 48,
                detector_score: rng.gen_range(0.35..0.99),
                model_version: self.model_version.clone(),
            },
            crop_jpeg: self.crop_jpeg.clone(),
            frame_jpeg: self.frame_jpeg.clone(),
        }
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(|a, b| a.total_cmp(b));
    values
}

struct FillReport {
    size: usize,
    upsert_s: f64,
    optimize: OptimizeOutcome,
}

enum OptimizeOutcome {
    Ran { seconds: f64, changed: bool },
    Skipped { predicted_s: f64 },
}

struct QueryConfig {
    name: &'static str,
    filtered: bool,
    rerank: bool,
}

const QUERY_CONFIGS: [QueryConfig; 4] = [
    QueryConfig {
        name: "no filter, no re-rank",
        filtered: false,
        rerank: false,
    },
    QueryConfig {
        name: "no filter, re-rank 200",
        filtered: false,
        rerank: true,
    },
    QueryConfig {
        name: "3/20 cameras + 24 h, no re-rank",
        filtered: true,
        rerank: false,
    },
    QueryConfig {
        name: "3/20 cameras + 24 h, re-rank 200",
        filtered: true,
        rerank: true,
    },
];

struct LatencyRow {
    size_label: String,
    config: &'static str,
    mean_candidates: f64,
    encode: Vec<f64>,
    search: Vec<f64>,
    rerank: Vec<f64>,
    total: Vec<f64>,
}

fn filter_for(config: &QueryConfig) -> SightingFilter {
    if !config.filtered {
        return SightingFilter::default();
    }
    // Day 4 of the week, three of the twenty cameras.
    SightingFilter {
        cameras: Some(vec!["cam-03".into(), "cam-07".into(), "cam-12".into()]),
        from_ms: Some(WEEK_START_MS + 3 * DAY_MS),
        to_ms: Some(WEEK_START_MS + 4 * DAY_MS),
        min_score: None,
    }
}

async fn fill_store(
    store: &Store,
    factory: &mut SightingFactory,
    size: usize,
) -> anyhow::Result<f64> {
    let mut upsert_time = Duration::ZERO;
    let mut done = 0;
    let mut last_report = Instant::now();
    while done < size {
        let count = UPSERT_BATCH.min(size - done);
        let batch = factory.batch(count);
        let started = Instant::now();
        store
            .upsert(batch)
            .await
            .with_context(|| format!("upserting sightings {done}..{}", done + count))?;
        upsert_time += started.elapsed();
        done += count;
        if last_report.elapsed() > Duration::from_secs(30) {
            eprintln!(
                "  {done}/{size} upserted ({:.0}/s so far)",
                done as f64 / upsert_time.as_secs_f64()
            );
            last_report = Instant::now();
        }
    }
    Ok(upsert_time.as_secs_f64())
}

async fn measure_queries(
    engine: &SearchEngine,
    sentences: &[String],
    config: &QueryConfig,
    queries: usize,
    size_label: &str,
) -> anyhow::Result<LatencyRow> {
    let options = SearchOptions {
        filter: filter_for(config),
        limit: engine.config().default_limit,
        rerank: config.rerank,
    };
    let mut row = LatencyRow {
        size_label: size_label.to_string(),
        config: config.name,
        mean_candidates: 0.0,
        encode: Vec::with_capacity(queries),
        search: Vec::with_capacity(queries),
        rerank: Vec::with_capacity(queries),
        total: Vec::with_capacity(queries),
    };
    let mut candidates = 0usize;
    for i in 0..WARMUP_QUERIES + queries {
        let text = &sentences[i % sentences.len()];
        let response = engine
            .search_text(text, &options)
            .await
            .with_context(|| format!("searching {text:?} ({})", config.name))?;
        if i < WARMUP_QUERIES {
            continue;
        }
        candidates += response.candidates;
        row.encode.push(response.timings.encode);
        row.search.push(response.timings.search);
        row.rerank.push(response.timings.rerank);
        row.total.push(response.timings.total);
    }
    row.mean_candidates = candidates as f64 / queries as f64;
    row.encode = sorted(row.encode);
    row.search = sorted(row.search);
    row.rerank = sorted(row.rerank);
    row.total = sorted(row.total);
    Ok(row)
}

// ---------------------------------------------------------------------------------------
// Daemon throughput: a minimal HTTP/1.1 keep-alive client.

struct HttpAnswer {
    status: u16,
    body_len: usize,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads more bytes into `buffer`; the server closing the connection mid-answer is an error.
async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream
        .read(&mut chunk)
        .await
        .context("reading the answer")?;
    if n == 0 {
        bail!("the server closed the connection in the middle of an answer");
    }
    buffer.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// Reads one answer (status line, headers, a Content-Length or chunked body) and removes
/// it from `buffer`, leaving whatever follows.
async fn read_answer(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<HttpAnswer> {
    let header_end = loop {
        if let Some(at) = find(buffer, b"\r\n\r\n") {
            break at + 4;
        }
        read_more(stream, buffer).await?;
    };
    let head =
        std::str::from_utf8(&buffer[..header_end]).context("answer headers are not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("malformed status line {status_line:?}"))?;
    let mut content_length = None;
    let mut chunked = false;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            let value = value.trim();
            if name == "content-length" {
                content_length = Some(
                    value
                        .parse::<usize>()
                        .with_context(|| format!("bad Content-Length {value:?}"))?,
                );
            } else if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    if let Some(length) = content_length {
        while buffer.len() < header_end + length {
            read_more(stream, buffer).await?;
        }
        buffer.drain(..header_end + length);
        return Ok(HttpAnswer {
            status,
            body_len: length,
        });
    }
    if !chunked {
        bail!("answer with status {status} has neither Content-Length nor chunked encoding");
    }
    let mut at = header_end;
    let mut body_len = 0;
    loop {
        let line_end = loop {
            if let Some(end) = find(&buffer[at..], b"\r\n") {
                break at + end;
            }
            read_more(stream, buffer).await?;
        };
        let size_text = std::str::from_utf8(&buffer[at..line_end]).context("chunk size")?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .with_context(|| format!("bad chunk size {size_text:?}"))?;
        let chunk_end = line_end + 2 + size + 2;
        while buffer.len() < chunk_end {
            read_more(stream, buffer).await?;
        }
        at = chunk_end;
        body_len += size;
        if size == 0 {
            break;
        }
    }
    buffer.drain(..at);
    Ok(HttpAnswer { status, body_len })
}

struct ClientTally {
    latencies_ms: Vec<f64>,
    non_200: u64,
    body_bytes: usize,
}

async fn hammer(
    address: SocketAddr,
    bodies: Arc<Vec<String>>,
    first: usize,
    until: Instant,
) -> anyhow::Result<ClientTally> {
    let mut stream = TcpStream::connect(address)
        .await
        .with_context(|| format!("connecting to {address}"))?;
    stream.set_nodelay(true).context("TCP_NODELAY")?;
    let mut buffer = Vec::with_capacity(64 * 1024);
    let mut tally = ClientTally {
        latencies_ms: Vec::new(),
        non_200: 0,
        body_bytes: 0,
    };
    let mut i = first;
    while Instant::now() < until {
        let body = &bodies[i % bodies.len()];
        i += 1;
        let request = format!(
            "POST /api/search HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {VIEWER_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let started = Instant::now();
        stream
            .write_all(request.as_bytes())
            .await
            .context("sending a request")?;
        let answer = read_answer(&mut stream, &mut buffer).await?;
        tally
            .latencies_ms
            .push(started.elapsed().as_secs_f64() * 1000.0);
        tally.body_bytes += answer.body_len;
        if answer.status != 200 {
            tally.non_200 += 1;
        }
    }
    Ok(tally)
}

struct QpsRow {
    clients: usize,
    requests: usize,
    seconds: f64,
    latencies: Vec<f64>,
    non_200: u64,
    mean_body_kb: f64,
    machine: String,
}

async fn daemon_throughput(
    store: &Store,
    encoder: Arc<QueryEncoder>,
    sentences: &[String],
    seconds: f64,
    scratch: &Path,
) -> anyhow::Result<Vec<QpsRow>> {
    let keys = KeyRing::build(&[ApiKeyConfig {
        name: "search-bench".into(),
        key: Some(VIEWER_KEY.into()),
        key_env: None,
        role: Role::Viewer,
        cameras: None,
    }])
    .context("building the API key ring")?;
    let audit_path = scratch.join("audit.jsonl");
    let audit = lookout::server::audit::AuditLog::open(&audit_path)
        .with_context(|| format!("opening audit log {}", audit_path.display()))?;
    let server_defaults = lookout::server::ServerConfig::default();
    let state = Arc::new(AppState {
        engine: SearchEngine::new(encoder, store.clone(), SearchConfig::default()),
        keys,
        audit,
        metrics: Default::default(),
        cameras: None,
        max_body_bytes: server_defaults.max_body_bytes,
        started: Instant::now(),
        // No admin jobs run here; the CPU default is what `lookout serve` has without a GPU.
        jobs: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding 127.0.0.1:0")?;
    let address = listener.local_addr().context("listener address")?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, lookout::server::api::router(state))
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await
    });
    // The UI's default search: a sentence, re-ranked, default limit, every camera.
    let bodies: Arc<Vec<String>> = Arc::new(
        sentences
            .iter()
            .map(|text| serde_json::json!({ "text": text }).to_string())
            .collect(),
    );
    // Warm-up: connections, encoder copies, caches.
    hammer(
        address,
        bodies.clone(),
        0,
        Instant::now() + Duration::from_secs(1),
    )
    .await?;

    let mut rows = Vec::new();
    for clients in [1usize, 4, 16] {
        let started = Instant::now();
        let until = started + Duration::from_secs_f64(seconds);
        let tasks: Vec<_> = (0..clients)
            .map(|c| tokio::spawn(hammer(address, bodies.clone(), c * 17, until)))
            .collect();
        let mut latencies = Vec::new();
        let mut non_200 = 0;
        let mut body_bytes = 0;
        for task in tasks {
            let tally = task.await.context("client task")??;
            latencies.extend(tally.latencies_ms);
            non_200 += tally.non_200;
            body_bytes += tally.body_bytes;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let requests = latencies.len();
        rows.push(QpsRow {
            clients,
            requests,
            seconds: elapsed,
            latencies: sorted(latencies),
            non_200,
            mean_body_kb: body_bytes as f64 / requests.max(1) as f64 / 1024.0,
            machine: machine_state(),
        });
        eprintln!("  K={clients}: {requests} requests in {elapsed:.1} s");
    }
    let _ = stop_tx.send(());
    server
        .await
        .context("server task")?
        .context("the daemon failed")?;
    Ok(rows)
}

fn size_label(size: usize) -> String {
    let digits = size.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// HNSW building grows about as N·log N; predicts a size's build from a measured one.
fn predict_optimize_s(measured: &[FillReport], size: usize) -> Option<f64> {
    measured
        .iter()
        .filter_map(|r| match r.optimize {
            OptimizeOutcome::Ran { seconds, .. } if r.size >= 50_000 => Some((r.size, seconds)),
            _ => None,
        })
        .max_by_key(|(n, _)| *n)
        .map(|(n, seconds)| {
            let (n, size) = (n as f64, size as f64);
            seconds * (size * size.ln()) / (n * n.ln())
        })
}

fn main() -> anyhow::Result<()> {
    lookout::runtime::tune_allocator();
    let args = Args::parse()?;
    let model_path = manifest_path("models/default");
    check_model(&model_path)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let scratch = std::env::temp_dir().join(format!("lookout-search-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let result = runtime.block_on(run(&args, &model_path, &scratch));
    // The stores are gigabytes at 1M: never leave them behind, even after a failure.
    if let Err(e) = std::fs::remove_dir_all(&scratch) {
        eprintln!("could not remove {}: {e}", scratch.display());
    }
    result
}

async fn run(args: &Args, model_path: &Path, scratch: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("# search_bench\n");
    println!(
        "machine: {threads} CPU threads, tch {} intra-op threads; at start: {}",
        tch::get_num_threads(),
        machine_state()
    );
    let server_defaults = lookout::server::ServerConfig::default();
    let copies = server_defaults.encoder_copies;
    let encoder = {
        let path = model_path.to_path_buf();
        tokio::task::spawn_blocking(move || QueryEncoder::load(&path, tch::Device::Cpu, copies))
            .await
            .context("model loading task")??
    };
    if encoder.dimension() != DIMENSION {
        bail!(
            "the default model embeds in {} dimensions; this benchmark's synthetic store is {DIMENSION}-d",
            encoder.dimension()
        );
    }
    println!(
        "model {} on the CPU ({copies} encoder copies, as the daemon's default)\n",
        encoder.model_version()
    );
    let encoder = Arc::new(encoder);
    let sentences = query_sentences();
    let mut fills: Vec<FillReport> = Vec::new();
    let mut rows: Vec<LatencyRow> = Vec::new();
    let mut qps_rows = Vec::new();
    let mut machine_notes = Vec::new();

    for &size in &args.sizes {
        let data_dir = scratch.join(format!("store-{size}"));
        let store = Store::open(
            &StoreConfig::Embedded {
                data_dir: data_dir.clone(),
            },
            encoder.model_version(),
            DIMENSION,
        )
        .await
        .with_context(|| format!("opening an embedded store in {}", data_dir.display()))?;
        eprintln!("N = {size}: filling ({})", machine_state());
        let mut factory = SightingFactory::new(encoder.model_version())?;
        let upsert_s = fill_store(&store, &mut factory, size).await?;
        let optimize = match predict_optimize_s(&fills, size) {
            Some(predicted) if predicted > args.optimize_budget_s => {
                eprintln!("N = {size}: optimize skipped, predicted {predicted:.0} s");
                OptimizeOutcome::Skipped {
                    predicted_s: predicted,
                }
            }
            _ => {
                eprintln!("N = {size}: optimize ({})", machine_state());
                let t = Instant::now();
                let changed = store.optimize().await.context("optimizing the store")?;
                OptimizeOutcome::Ran {
                    seconds: t.elapsed().as_secs_f64(),
                    changed,
                }
            }
        };
        let label = match optimize {
            OptimizeOutcome::Ran { .. } => size_label(size),
            OptimizeOutcome::Skipped { .. } => format!("{} (plain scan)", size_label(size)),
        };
        fills.push(FillReport {
            size,
            upsert_s,
            optimize,
        });
        let engine = SearchEngine::new(encoder.clone(), store.clone(), SearchConfig::default());
        eprintln!("N = {size}: queries ({})", machine_state());
        machine_notes.push(format!("N = {label}, queries: {}", machine_state()));
        for config in &QUERY_CONFIGS {
            rows.push(measure_queries(&engine, &sentences, config, args.queries, &label).await?);
        }
        if size == 100_000 {
            eprintln!("N = {size}: daemon throughput");
            qps_rows = daemon_throughput(
                &store,
                encoder.clone(),
                &sentences,
                args.qps_seconds,
                scratch,
            )
            .await?;
        }
        drop(engine);
        drop(store);
        std::fs::remove_dir_all(&data_dir)
            .with_context(|| format!("removing {}", data_dir.display()))?;
    }

    println!("## Store fill (embedded qdrant-edge, batches of {UPSERT_BATCH})\n");
    println!("| N | upsert s | upserts/s | optimize() |");
    println!("|---:|---:|---:|---|");
    for fill in &fills {
        let optimize = match fill.optimize {
            OptimizeOutcome::Ran { seconds, changed } => format!(
                "{seconds:.1} s{}",
                if changed { "" } else { " (nothing to index)" }
            ),
            OptimizeOutcome::Skipped { predicted_s } => format!(
                "skipped: predicted {predicted_s:.0} s > {:.0} s budget; searches scan",
                args.optimize_budget_s
            ),
        };
        println!(
            "| {} | {:.1} | {:.0} | {optimize} |",
            size_label(fill.size),
            fill.upsert_s,
            fill.size as f64 / fill.upsert_s
        );
    }

    println!(
        "\n## Query latency, ms (SearchEngine::search_text, {} timed queries per row after {WARMUP_QUERIES} warm-up, limit 48)\n",
        args.queries
    );
    println!("| N | configuration | candidates | encode p50 | encode p99 | search p50 | search p99 | rerank p50 | rerank p99 | total p50 | total p99 |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            row.size_label,
            row.config,
            row.mean_candidates,
            percentile(&row.encode, 50.0),
            percentile(&row.encode, 99.0),
            percentile(&row.search, 50.0),
            percentile(&row.search, 99.0),
            percentile(&row.rerank, 50.0),
            percentile(&row.rerank, 99.0),
            percentile(&row.total, 50.0),
            percentile(&row.total, 99.0),
        );
    }

    if !qps_rows.is_empty() {
        println!(
            "\n## Daemon throughput (POST /api/search, 100,000 sightings, re-rank on, limit 48, keep-alive clients on the same 2 cores)\n"
        );
        println!("| clients K | requests | requests/s | p50 ms | p99 ms | non-200 | answer KB | machine during run |");
        println!("|---:|---:|---:|---:|---:|---:|---:|---|");
        for row in &qps_rows {
            println!(
                "| {} | {} | {:.1} | {:.1} | {:.1} | {} | {:.1} | {} |",
                row.clients,
                row.requests,
                row.requests as f64 / row.seconds,
                percentile(&row.latencies, 50.0),
                percentile(&row.latencies, 99.0),
                row.non_200,
                row.mean_body_kb,
                row.machine
            );
        }
        let failures: u64 = qps_rows.iter().map(|r| r.non_200).sum();
        if failures > 0 {
            println!("\n**{failures} answers were not 200 OK.**");
        }
    }
    println!("\nmachine during the query runs:");
    for note in &machine_notes {
        println!("- {note}");
    }
    println!("- at end: {}", machine_state());
    println!(
        "\nwhole run: {:.1} min",
        started.elapsed().as_secs_f64() / 60.0
    );
    let failures: u64 = qps_rows.iter().map(|r| r.non_200).sum();
    if failures > 0 {
        bail!("{failures} daemon answers were not 200 OK");
    }
    Ok(())
}
