//! `lookout serve` (the query daemon alone) and `lookout reindex` (re-embed every
//! stored crop with a new model into a new collection, then switch the alias).
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use lookout::config::LookoutConfig;
use lookout::search::{QueryEncoder, SearchEngine};
use lookout::server::{self, AppState, CameraControl};
use lookout::store::Store;

#[derive(Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); see config/lookout.example.toml.
    #[arg(long)]
    config: PathBuf,
    /// Override `[server] listen`.
    #[arg(long)]
    listen: Option<String>,
}

pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LOOKOUT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,qdrant_edge=error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The query encoder and the store of a configuration.
pub async fn open_encoder_and_store(
    config: &LookoutConfig,
) -> anyhow::Result<(QueryEncoder, Store)> {
    let device = config.device()?;
    let model_path = config.model.path.clone();
    let copies = config.server.encoder_copies;
    let encoder =
        tokio::task::spawn_blocking(move || QueryEncoder::load(&model_path, device, copies))
            .await
            .context("model loading task")??;
    let store = Store::open(&config.store, encoder.model_version(), encoder.dimension())
        .await
        .context("opening the sighting store")?;
    Ok((encoder, store))
}

/// Everything the daemon needs, built from the configuration.
pub fn build_state(
    config: &LookoutConfig,
    encoder: QueryEncoder,
    store: Store,
    cameras: Option<Arc<dyn CameraControl>>,
) -> anyhow::Result<Arc<AppState>> {
    let keys = server::auth::KeyRing::build(&config.server.api_keys)?;
    if keys.is_empty() {
        anyhow::bail!(
            "[server] has no api_keys: every search needs a key, so nobody could use the daemon"
        );
    }
    let audit = server::audit::AuditLog::open(&config.server.audit_log)
        .with_context(|| format!("opening audit log {}", config.server.audit_log.display()))?;
    Ok(Arc::new(AppState {
        engine: SearchEngine::new(Arc::new(encoder), store, config.search.clone()),
        keys,
        audit,
        metrics: Default::default(),
        cameras,
        max_body_bytes: config.server.max_body_bytes,
        started: std::time::Instant::now(),
        jobs: server::jobs::Jobs::new(config.device()?),
    }))
}

/// Binds, prints the URL, serves until Ctrl-C / SIGTERM.
pub async fn run_daemon(
    config: &LookoutConfig,
    state: Arc<AppState>,
    listen: &str,
) -> anyhow::Result<()> {
    let (listener, address) = server::bind(listen).await?;
    tokio::spawn(server::retention_task(
        state.clone(),
        config.retention.clone(),
    ));
    let status = state.engine.store().status().await?;
    println!(
        "lookout: serving http://{address}/  (model {}, {} sightings in {} store collection {})",
        state.engine.encoder().model_version(),
        status.points,
        status.backend,
        status.collection
    );
    // A key written in the file (the demo's) can go in the link; keys from the
    // environment are never printed.
    if let Some(key) = config
        .server
        .api_keys
        .iter()
        .find(|k| k.role == server::Role::Viewer && k.key.is_some())
        .and_then(|k| k.key.as_deref())
    {
        println!("lookout: web UI  http://{address}/#key={key}");
    }
    server::serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging();
    let config = LookoutConfig::load(&args.config)?;
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| config.server.listen.clone());
    runtime()?.block_on(async {
        let (encoder, store) = open_encoder_and_store(&config).await?;
        let state = build_state(&config, encoder, store, None)?;
        run_daemon(&config, state, &listen).await
    })
}

#[derive(Args)]
pub struct ReindexArgs {
    /// Configuration file (its [store] is re-indexed).
    #[arg(long)]
    config: PathBuf,
    /// The new model bundle.
    #[arg(long)]
    model: PathBuf,
    /// Crops embedded per batch.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Leave the alias on the old collection (switch later).
    #[arg(long)]
    no_switch: bool,
}

pub fn reindex(args: ReindexArgs) -> anyhow::Result<()> {
    init_logging();
    let config = LookoutConfig::load(&args.config)?;
    let device = config.device()?;
    let model = lookout::model::TextReid::load_path(&args.model, device)
        .with_context(|| format!("loading model {}", args.model.display()))?;
    runtime()?.block_on(async {
        let version = model.config.version.clone();
        let store = Store::open(&config.store, &version, model.config.embedding_dim).await?;
        let source = store
            .alias_target()
            .await?
            .context("the store has no current collection to re-index")?;
        let target = store.collection();
        if source == target {
            anyhow::bail!("the alias already points at {target}: this model version is the current one");
        }
        let report = lookout::encode::reindex::reindex(&store, model, &source, args.batch_size, |done| {
            eprintln!("reindex: {done} sightings re-embedded");
        })
        .await?;
        if !args.no_switch {
            store.switch_alias(&target).await?;
        }
        println!(
            "reindexed {} sightings from {source} into {target} ({} without a usable crop skipped){}",
            report.reembedded,
            report.skipped,
            if args.no_switch { "; alias unchanged" } else { "; alias switched" }
        );
        Ok(())
    })
}
