//! `lookout run` (ingest + query daemon + store in one process: the one-machine setup and
//! the demo), `lookout ingest` (an ingest worker writing to a shared store) and
//! `lookout test-camera` (a file served as an RTSP camera).
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use lookout::config::LookoutConfig;
use lookout::detect::Detector;
use lookout::encode::CropEncoder;
use lookout::ingest::{TestCameraServer, TestFeed};
use lookout::model::TextReid;
use lookout::server::CameraControl;
use lookout::store::Store;
use lookout::worker::IngestWorker;

use super::serve::{
    build_state, init_logging, open_encoder_and_store, run_daemon, runtime, shutdown_signal,
};

#[derive(Args)]
pub struct RunArgs {
    /// Configuration file (TOML); see config/lookout.example.toml and config/demo.toml.
    #[arg(long)]
    config: PathBuf,
    /// Override `[server] listen`.
    #[arg(long)]
    listen: Option<String>,
}

fn start_test_cameras(config: &LookoutConfig) -> anyhow::Result<Vec<TestCameraServer>> {
    let mut servers = Vec::new();
    for camera in &config.test_cameras {
        if !camera.file.exists() {
            anyhow::bail!(
                "[[test_camera]] file {} does not exist (vtest.avi comes with the Debian package opencv-doc)",
                camera.file.display()
            );
        }
        let server = TestCameraServer::start(
            TestFeed::File(camera.file.clone()),
            camera.port,
            &camera.path,
        )
        .with_context(|| format!("starting the test camera on port {}", camera.port))?;
        println!(
            "lookout: test camera {} serving {}",
            server.url(),
            camera.file.display()
        );
        servers.push(server);
    }
    Ok(servers)
}

fn start_worker(config: &LookoutConfig, store: Store) -> anyhow::Result<Arc<IngestWorker>> {
    let device = config.device()?;
    let detector_device = match config.detector.device.as_str() {
        "auto" => device,
        other => other
            .parse::<lookout::device::DeviceChoice>()
            .map_err(|e| anyhow::anyhow!("[detector] device: {e}"))?
            .resolve()?,
    };
    let detector = Detector::build(&config.detector, detector_device)
        .context("loading the person detector")?;
    let model = TextReid::load_path(&config.model.path, device)
        .with_context(|| format!("loading model {}", config.model.path.display()))?;
    let encoder = CropEncoder::new(model, config.ingest.encode_batch);
    let worker = IngestWorker::start(
        &config.ingest,
        &config.tracker,
        &config.cameras,
        detector,
        encoder,
        store,
        tokio::runtime::Handle::current(),
    )?;
    Ok(worker)
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    init_logging();
    let config = LookoutConfig::load(&args.config)?;
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| config.server.listen.clone());
    let _test_cameras = start_test_cameras(&config)?;
    let rt = runtime()?;
    let worker = rt.block_on(async {
        let (encoder, store) = open_encoder_and_store(&config).await?;
        let worker = start_worker(&config, store.clone())?;
        let control: Arc<dyn CameraControl> = worker.clone();
        let state = build_state(&config, encoder, store, Some(control))?;
        run_daemon(&config, state, &listen).await?;
        anyhow::Ok(worker)
    })?;
    println!("lookout: stopping cameras and storing the open tracks");
    // Stopping joins the worker threads, which block on the runtime: not inside it.
    let worker_for_stop = worker.clone();
    std::thread::spawn(move || worker_for_stop.stop())
        .join()
        .map_err(|_| anyhow::anyhow!("the ingest worker panicked while stopping"))?;
    let stats = worker.stats();
    println!(
        "lookout: {} frames, {} sightings stored",
        stats.frames, stats.stored
    );
    Ok(())
}

#[derive(Args)]
pub struct IngestArgs {
    /// Configuration file (TOML) with [[camera]] entries and the [store] to write to.
    #[arg(long)]
    config: PathBuf,
    /// Print every camera's state this often, seconds (0: never).
    #[arg(long, default_value_t = 30)]
    status_every: u64,
}

pub fn ingest(args: IngestArgs) -> anyhow::Result<()> {
    init_logging();
    let config = LookoutConfig::load(&args.config)?;
    let _test_cameras = start_test_cameras(&config)?;
    let rt = runtime()?;
    let worker = rt.block_on(async {
        // A worker needs no text encoder: the model's version and size name the collection.
        let model = TextReid::load_path(&config.model.path, config.device()?)
            .with_context(|| format!("loading model {}", config.model.path.display()))?;
        let store = Store::open(
            &config.store,
            &model.config.version,
            model.config.embedding_dim,
        )
        .await
        .context("opening the sighting store")?;
        drop(model);
        let worker = start_worker(&config, store)?;
        println!("lookout: ingesting {} cameras", config.cameras.len());
        let reporter = worker.clone();
        let every = args.status_every;
        tokio::spawn(async move {
            if every == 0 {
                return;
            }
            let mut ticker = tokio::time::interval(Duration::from_secs(every));
            loop {
                ticker.tick().await;
                for camera in reporter.list() {
                    println!(
                        "camera {}: {} ({:.1} fps, {} frames{})",
                        camera.id,
                        camera.state,
                        camera.fps,
                        camera.frames,
                        camera
                            .last_error
                            .map(|e| format!(", last error: {e}"))
                            .unwrap_or_default()
                    );
                }
                let stats = reporter.stats();
                println!(
                    "ingest: {} frames, {} sightings stored",
                    stats.frames, stats.stored
                );
            }
        });
        shutdown_signal().await;
        anyhow::Ok(worker)
    })?;
    let stopper = worker.clone();
    std::thread::spawn(move || stopper.stop())
        .join()
        .map_err(|_| anyhow::anyhow!("the ingest worker panicked while stopping"))?;
    println!("lookout: {} sightings stored", worker.stats().stored);
    Ok(())
}

#[derive(Args)]
pub struct TestCameraArgs {
    /// Video file to serve (looped, real time).
    #[arg(long)]
    file: PathBuf,
    #[arg(long, default_value_t = 8554)]
    port: u16,
    /// Mount path.
    #[arg(long, default_value = "test")]
    path: String,
}

pub fn test_camera(args: TestCameraArgs) -> anyhow::Result<()> {
    init_logging();
    if !args.file.exists() {
        anyhow::bail!("{} does not exist", args.file.display());
    }
    let server = TestCameraServer::start(TestFeed::File(args.file.clone()), args.port, &args.path)?;
    println!(
        "lookout: test camera {} serving {}",
        server.url(),
        args.file.display()
    );
    runtime()?.block_on(shutdown_signal());
    server.stop();
    Ok(())
}
