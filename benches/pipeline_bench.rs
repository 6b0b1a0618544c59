//! `cargo bench --bench pipeline_bench`: how many cameras the live pipeline carries in
//! real time on this machine.
//!
//! The whole ingest pipeline — a file camera on vtest.avi (GStreamer decode, frame rate
//! gate, RGB), NanoDet person detection, tracking, the default model's visual encoder,
//! JPEG encoding, embedded-store writes — runs as `lookout run` runs it ([`IngestWorker`]),
//! except that the file is decoded as fast as possible (`realtime = false`) instead of at
//! its own pace. The frame queue is made larger than the clip, so that no frame is
//! dropped and every frame of the clip is processed; a run ends when the camera is
//! `finished` and the worker has processed every frame it delivered, then `stop()` flushes
//! the open tracks and stores their sightings. Frames per second over that wall time,
//! divided by the analysis rate, is the number of cameras the machine keeps up with.
//!
//! Each configuration runs in its own child process (this binary with `--one-run`) so that
//! libtorch's thread settings of one run cannot leak into the next. The sweep covers
//! `torch_threads` 0 (libtorch's default) / 1 / 2 and `detect_batch` 1 / 4 at 5 analysis
//! fps, then runs 10 fps with the default and the best settings. Stage times come from
//! `WorkerStats`; the stages run on different threads and overlap, so decoding is measured
//! on its own: the camera alone, its frames drained and thrown away.
mod common;
use common::machine_state;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use tch::Device;

use lookout::detect::{Detector, DetectorConfig};
use lookout::encode::CropEncoder;
use lookout::frame::VideoFrame;
use lookout::ingest::{
    CameraConfig, CameraSet, CameraState, CameraStatus, PipelineTemplates, ReconnectConfig,
    SourceConfig,
};
use lookout::model::TextReid;
use lookout::store::{Store, StoreConfig};
use lookout::track::TrackerConfig;
use lookout::worker::{IngestWorker, WorkerConfig};

const CLIP: &str = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
const CAMERA_ID: &str = "vtest";
/// A run that has not finished after this long is reported as stuck.
const RUN_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const POLL: Duration = Duration::from_millis(20);
const RESULT_PREFIX: &str = "PIPELINE-RESULT ";

fn manifest_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

struct Inputs {
    model: PathBuf,
    detector: PathBuf,
    clip: PathBuf,
}

/// Everything a run needs, checked before anything is measured.
fn inputs() -> anyhow::Result<Inputs> {
    let inputs = Inputs {
        model: manifest_path("models/default"),
        detector: manifest_path("models/nanodet/nanodet.ts"),
        clip: PathBuf::from(CLIP),
    };
    for file in ["model.toml", "weights.safetensors", "vocab.json"] {
        if !inputs.model.join(file).is_file() {
            bail!(
                "the default model is missing ({} not found): run `make models` first",
                inputs.model.join(file).display()
            );
        }
    }
    if !inputs.detector.is_file() {
        bail!(
            "the person detector is missing ({} not found): run `make models` first",
            inputs.detector.display()
        );
    }
    if !inputs.clip.is_file() {
        bail!(
            "the test clip {} is missing: install it with `apt-get install opencv-doc`",
            inputs.clip.display()
        );
    }
    Ok(inputs)
}

fn file_camera(clip: &Path, analysis_fps: u32) -> CameraConfig {
    CameraConfig {
        id: CAMERA_ID.into(),
        source: SourceConfig::File {
            path: clip.to_path_buf(),
            looping: false,
            realtime: false,
        },
        analysis_fps,
        max_width: None,
        reconnect: ReconnectConfig::default(),
    }
}

fn device_name(device: Device) -> String {
    lookout::device::device_name(device)
}

fn parse_device(name: &str) -> anyhow::Result<Device> {
    let choice: lookout::device::DeviceChoice = name.parse()?;
    Ok(choice.resolve()?)
}

// ---------------------------------------------------------------------------------------
// Decode alone.

struct DecodeResult {
    analysis_fps: u32,
    frames: u64,
    dropped: u64,
    seconds: f64,
}

/// Runs the camera with nobody but a drain thread behind it.
fn decode_only(clip: &Path, analysis_fps: u32, queue: usize) -> anyhow::Result<DecodeResult> {
    let (sender, receiver) = mpsc::sync_channel::<VideoFrame>(queue);
    let drained = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let drain = {
        let drained = drained.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            // The frame is dropped at once: only decoding is measured.
            while !done.load(Ordering::SeqCst) {
                if receiver.recv_timeout(Duration::from_millis(50)).is_ok() {
                    drained.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let cameras = CameraSet::new(PipelineTemplates::builtin());
    let started = Instant::now();
    cameras
        .add(file_camera(clip, analysis_fps), sender)
        .context("starting the decode-only camera")?;
    let status = wait_for_end(&cameras, || true)?;
    let seconds = started.elapsed().as_secs_f64();
    cameras.stop_all();
    done.store(true, Ordering::SeqCst);
    drain
        .join()
        .map_err(|_| anyhow::anyhow!("the drain thread panicked"))?;
    Ok(DecodeResult {
        analysis_fps,
        frames: status.frames_received,
        dropped: status.frames_dropped,
        seconds,
    })
}

/// Waits until the camera has finished and `all_processed` says its frames are through.
fn wait_for_end(
    cameras: &CameraSet,
    mut all_processed: impl FnMut() -> bool,
) -> anyhow::Result<CameraStatus> {
    let started = Instant::now();
    loop {
        let status = cameras
            .status(CAMERA_ID)
            .context("the camera disappeared")?;
        match status.state {
            CameraState::Finished if all_processed() => return Ok(status),
            CameraState::Down | CameraState::Stopped => bail!(
                "camera {CAMERA_ID} is {}: {}",
                status.state.as_str(),
                status.last_error.as_deref().unwrap_or("no error reported")
            ),
            _ => {}
        }
        if started.elapsed() > RUN_TIMEOUT {
            bail!(
                "the run has not finished after {} s ({} frames received)",
                RUN_TIMEOUT.as_secs(),
                status.frames_received
            );
        }
        std::thread::sleep(POLL);
    }
}

// ---------------------------------------------------------------------------------------
// One whole-pipeline run (in a child process).

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunSpec {
    device: String,
    analysis_fps: u32,
    torch_threads: i32,
    detect_batch: usize,
    frame_queue: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunResult {
    spec: RunSpec,
    frames: u64,
    frames_received: u64,
    dropped: u64,
    /// Start of the worker → last frame detected and tracked.
    frames_s: f64,
    /// Start of the worker → `stop()` returned: every sighting stored.
    wall_s: f64,
    sightings: u64,
    stored: u64,
    points_in_store: usize,
    detections: u64,
    detect_s: f64,
    track_s: f64,
    encode_s: f64,
    store_s: f64,
    intra_op_threads: i32,
}

fn one_run(spec: &RunSpec, inputs: &Inputs) -> anyhow::Result<RunResult> {
    let device = parse_device(&spec.device)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let scratch =
        std::env::temp_dir().join(format!("lookout-pipeline-bench-{}", std::process::id()));
    let result = one_run_in(spec, inputs, device, &runtime, &scratch);
    if let Err(e) = std::fs::remove_dir_all(&scratch) {
        eprintln!("could not remove {}: {e}", scratch.display());
    }
    result
}

fn one_run_in(
    spec: &RunSpec,
    inputs: &Inputs,
    device: Device,
    runtime: &tokio::runtime::Runtime,
    scratch: &Path,
) -> anyhow::Result<RunResult> {
    let detector = Detector::build(
        &DetectorConfig {
            model: inputs.detector.clone(),
            device: spec.device.clone(),
            ..DetectorConfig::default()
        },
        device,
    )
    .context("loading the person detector")?;
    let model = TextReid::load_path(&inputs.model, device)
        .with_context(|| format!("loading model {}", inputs.model.display()))?;
    let version = model.config.version.clone();
    let dimension = model.config.embedding_dim;
    let config = WorkerConfig {
        frame_queue: spec.frame_queue,
        detect_batch: spec.detect_batch,
        torch_threads: spec.torch_threads,
        ..WorkerConfig::default()
    };
    let encoder = CropEncoder::new(model, config.encode_batch);
    let data_dir = scratch.join("store");
    let store = runtime
        .block_on(Store::open(
            &StoreConfig::Embedded {
                data_dir: data_dir.clone(),
            },
            &version,
            dimension,
        ))
        .with_context(|| format!("opening an embedded store in {}", data_dir.display()))?;

    let started = Instant::now();
    let worker = IngestWorker::start(
        &config,
        &TrackerConfig::default(),
        &[file_camera(&inputs.clip, spec.analysis_fps)],
        detector,
        encoder,
        store.clone(),
        runtime.handle().clone(),
    )
    .context("starting the ingest worker")?;
    let status = wait_for_end(worker.cameras(), || {
        // Every frame the camera handed on has been through detection and tracking.
        worker
            .cameras()
            .status(CAMERA_ID)
            .is_ok_and(|s| worker.stats().frames >= s.frames_received - s.frames_dropped)
    });
    let frames_s = started.elapsed().as_secs_f64();
    // Stop even after a failure, so that the threads end before the process does.
    worker.stop();
    let wall_s = started.elapsed().as_secs_f64();
    let status = status?;
    let stats = worker.stats();
    let points = runtime
        .block_on(store.status())
        .context("reading the store's status")?
        .points;
    Ok(RunResult {
        spec: spec.clone(),
        frames: stats.frames,
        frames_received: status.frames_received,
        dropped: status.frames_dropped,
        frames_s,
        wall_s,
        sightings: stats.sightings,
        stored: stats.stored,
        points_in_store: points,
        detections: stats.detections,
        detect_s: stats.detect_s,
        track_s: stats.track_s,
        encode_s: stats.encode_s,
        store_s: stats.store_s,
        intra_op_threads: tch::get_num_threads(),
    })
}

/// Runs one configuration in a child process and reads its result line.
fn run_child(spec: &RunSpec) -> anyhow::Result<RunResult> {
    let exe = std::env::current_exe().context("finding this benchmark's executable")?;
    let spec_json = serde_json::to_string(spec).context("encoding the run")?;
    let output = std::process::Command::new(exe)
        .arg("--one-run")
        .arg(&spec_json)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("starting a child run")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("the run {spec_json} failed ({}):\n{stdout}", output.status);
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT_PREFIX))
        .with_context(|| format!("the run {spec_json} printed no result:\n{stdout}"))?;
    serde_json::from_str(line).context("reading a child run's result")
}

/// Runs a configuration; a run that dropped frames is repeated once with a larger queue.
fn run_measured(spec: RunSpec, notes: &mut Vec<String>) -> anyhow::Result<RunResult> {
    eprintln!(
        "run: {} fps, torch_threads {}, detect_batch {} on {} ({})",
        spec.analysis_fps,
        spec.torch_threads,
        spec.detect_batch,
        spec.device,
        machine_state()
    );
    let result = run_child(&spec)?;
    if result.dropped == 0 {
        return Ok(result);
    }
    let bigger = RunSpec {
        frame_queue: spec.frame_queue * 4,
        ..spec
    };
    notes.push(format!(
        "{} fps / torch_threads {} / detect_batch {}: {} frames dropped with frame_queue {}; re-run with {}",
        bigger.analysis_fps,
        bigger.torch_threads,
        bigger.detect_batch,
        result.dropped,
        result.spec.frame_queue,
        bigger.frame_queue
    ));
    run_child(&bigger)
}

fn frames_per_s(r: &RunResult) -> f64 {
    r.frames as f64 / r.wall_s
}

fn share(stage_s: f64, wall_s: f64) -> String {
    format!("{:.0}%", 100.0 * stage_s / wall_s)
}

fn print_runs(title: &str, runs: &[&RunResult]) {
    println!("\n## {title}\n");
    println!("| device | analysis fps | torch_threads | detect_batch | frames | dropped | wall s | frames/s | sightings stored | sightings/s | detect | track | encode | store | cameras in real time |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        let threads = if r.spec.torch_threads == 0 {
            format!("0 (= {})", r.intra_op_threads)
        } else {
            r.spec.torch_threads.to_string()
        };
        println!(
            "| {} | {} | {threads} | {} | {} | {} | {:.1} | {:.2} | {} | {:.2} | {} | {} | {} | {} | {:.2} |",
            r.spec.device,
            r.spec.analysis_fps,
            r.spec.detect_batch,
            r.frames,
            r.dropped,
            r.wall_s,
            frames_per_s(r),
            r.stored,
            r.stored as f64 / r.wall_s,
            share(r.detect_s, r.wall_s),
            share(r.track_s, r.wall_s),
            share(r.encode_s, r.wall_s),
            share(r.store_s, r.wall_s),
            frames_per_s(r) / f64::from(r.spec.analysis_fps),
        );
    }
}

fn sweep(
    device: Device,
    frame_queue: usize,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<RunResult>> {
    let spec = |analysis_fps, torch_threads, detect_batch| RunSpec {
        device: device_name(device),
        analysis_fps,
        torch_threads,
        detect_batch,
        frame_queue,
    };
    let mut runs = Vec::new();
    let default_config = WorkerConfig::default();
    let (default_threads, default_batch) =
        (default_config.torch_threads, default_config.detect_batch);
    for torch_threads in [0, 1, 2] {
        for detect_batch in [1, 4] {
            runs.push(run_measured(spec(5, torch_threads, detect_batch), notes)?);
        }
    }
    let best = runs
        .iter()
        .max_by(|a, b| frames_per_s(a).total_cmp(&frames_per_s(b)))
        .map(|r| (r.spec.torch_threads, r.spec.detect_batch))
        .context("no run at 5 fps")?;
    runs.push(run_measured(
        spec(10, default_threads, default_batch),
        notes,
    )?);
    if best != (default_threads, default_batch) {
        runs.push(run_measured(spec(10, best.0, best.1), notes)?);
    }
    Ok(runs)
}

fn main() -> anyhow::Result<()> {
    lookout::runtime::tune_allocator();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn,qdrant_edge=error"))
        .with_writer(std::io::stderr)
        .try_init();
    let inputs = inputs()?;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--one-run") {
        let spec: RunSpec = serde_json::from_str(
            args.get(i + 1)
                .context("--one-run needs the run's JSON description")?,
        )
        .context("reading --one-run's JSON")?;
        let result = one_run(&spec, &inputs)?;
        println!(
            "{RESULT_PREFIX}{}",
            serde_json::to_string(&result).context("encoding the result")?
        );
        return Ok(());
    }
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("# pipeline_bench\n");
    println!(
        "machine: {threads} CPU threads, libtorch default {} intra-op threads; at start: {}",
        tch::get_num_threads(),
        machine_state()
    );
    let cuda = tch::Cuda::is_available();
    if cuda {
        println!(
            "CUDA: available ({} device(s)): the sweep also runs on cuda:0",
            tch::Cuda::device_count()
        );
    } else {
        println!("CUDA: absent (tch::Cuda::is_available() = false): CPU only");
    }
    println!(
        "clip: {} (10 fps, 768×576), read as fast as it decodes",
        inputs.clip.display()
    );

    // Decoding alone; its frame count also sizes the pipeline's queue to hold the clip.
    // The first camera of a process pays for loading GStreamer's plugins: not timed.
    decode_only(&inputs.clip, 10, 4096).context("warm-up decode")?;
    let mut decodes = Vec::new();
    for analysis_fps in [5, 10] {
        eprintln!("decode only: {analysis_fps} fps ({})", machine_state());
        decodes.push(decode_only(&inputs.clip, analysis_fps, 4096)?);
    }
    let clip_frames = decodes.iter().map(|d| d.frames).max().unwrap_or(0);
    if clip_frames == 0 {
        bail!("the clip delivered no frame");
    }
    let frame_queue = clip_frames as usize + 64;

    let mut notes = Vec::new();
    let mut runs = sweep(Device::Cpu, frame_queue, &mut notes)?;
    if cuda {
        runs.extend(sweep(Device::Cuda(0), frame_queue, &mut notes)?);
    }

    println!("\n## Decode alone (camera → frame channel, drained and discarded)\n");
    println!(
        "| analysis fps | frames | dropped | wall s | frames/s | cameras decoded in real time |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for d in &decodes {
        let fps = d.frames as f64 / d.seconds;
        println!(
            "| {} | {} | {} | {:.2} | {:.1} | {:.1} |",
            d.analysis_fps,
            d.frames,
            d.dropped,
            d.seconds,
            fps,
            fps / f64::from(d.analysis_fps)
        );
    }

    let all: Vec<&RunResult> = runs.iter().collect();
    print_runs(
        &format!(
            "Whole pipeline (decode → detect → track → encode → store), frame_queue {frame_queue}; stage shares are of the wall time and overlap (two threads)"
        ),
        &all,
    );

    println!("\n## Cameras carried in real time on this machine (best configuration per rate)\n");
    println!(
        "| device | analysis fps | torch_threads | detect_batch | pipeline frames/s | cameras |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let mut devices: Vec<&str> = runs.iter().map(|r| r.spec.device.as_str()).collect();
    devices.dedup();
    for device in devices {
        for analysis_fps in [5u32, 10] {
            if let Some(best) = runs
                .iter()
                .filter(|r| r.spec.device == device && r.spec.analysis_fps == analysis_fps)
                .max_by(|a, b| frames_per_s(a).total_cmp(&frames_per_s(b)))
            {
                println!(
                    "| {device} | {analysis_fps} | {} | {} | {:.2} | {:.2} |",
                    best.spec.torch_threads,
                    best.spec.detect_batch,
                    frames_per_s(best),
                    frames_per_s(best) / f64::from(analysis_fps)
                );
            }
        }
    }
    println!("\nnotes:");
    println!("- frames/s = frames processed / wall time from worker start until `stop()` returned (all sightings stored); the last frame was tracked at {} of that wall time on average",
        {
            let mean: f64 = runs.iter().map(|r| r.frames_s / r.wall_s).sum::<f64>() / runs.len() as f64;
            format!("{:.0}%", mean * 100.0)
        });
    for r in &runs {
        if r.points_in_store as u64 != r.stored {
            println!(
                "- {} fps / {} / {}: worker stored {} but the store holds {} points",
                r.spec.analysis_fps,
                r.spec.torch_threads,
                r.spec.detect_batch,
                r.stored,
                r.points_in_store
            );
        }
    }
    for note in &notes {
        println!("- {note}");
    }
    if runs.iter().all(|r| r.dropped == 0) {
        println!("- no run dropped a frame");
    }
    println!("- at end: {}", machine_state());
    println!(
        "- whole run: {:.1} min",
        started.elapsed().as_secs_f64() / 60.0
    );
    Ok(())
}
