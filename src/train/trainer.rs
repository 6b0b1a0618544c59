//! `lookout train`: the epoch loop around [`TrainModel`] — P×K batches, augmentations,
//! Adam with the reference's groups and schedule, progress (loss, learning rate,
//! samples/s), evaluation on the validation split after each epoch, the best model kept
//! as a bundle, and a checkpoint after each epoch from which a run resumes exactly.
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::optim::Adam;
use super::schedule::ScheduleConfig;
use super::{build, key_encoder_name, LossConfig, TrainSetup, Trainable, PROJECTION_KEY};
use crate::dataset::{batch_rng, pk_batches, Augment, BadRecords, Dataset, ImageCache};
use crate::eval::evaluate::{evaluate, EvalOptions, EvalReport};
use crate::eval::RerankParams;
use crate::model::config::METADATA_KEY;
use crate::model::{ModelConfig, Pooling, TextReid, WeightMap, WordDictionary};
use crate::preprocess::InputSpec;
use crate::text::Vocabulary;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub data: DataConfig,
    pub model: ModelInit,
    #[serde(default)]
    pub train: RunConfig,
    #[serde(default)]
    pub schedule: ScheduleConfig,
    #[serde(default)]
    pub loss: LossConfig,
    #[serde(default)]
    pub augment: Augment,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// `textreid` (`{"annotations": [...]}` files, one per split) or `reid_raw`
    /// (CUHK-PEDES's `reid_raw.json`, one file with a `split` per record).
    #[serde(default)]
    pub format: DataFormat,
    /// The training annotations (with `reid_raw`: the one file, read for `train_split`).
    pub train: PathBuf,
    pub val: Option<PathBuf>,
    /// Folder the annotations' `file_path`s are relative to.
    pub images: PathBuf,
    /// Vocabulary (word → id) shipped with the model; with `tokenize = true` the captions'
    /// sentences are tokenized with it instead of using their `onehot` ids.
    pub vocabulary: PathBuf,
    #[serde(default)]
    pub tokenize: bool,
    #[serde(default)]
    pub bad_records: BadRecords,
    #[serde(default = "default_train_split")]
    pub train_split: String,
    #[serde(default = "default_val_split")]
    pub val_split: String,
}

fn default_train_split() -> String {
    "train".into()
}
fn default_val_split() -> String {
    "val".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataFormat {
    #[default]
    Textreid,
    ReidRaw,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInit {
    /// The model's configuration.
    pub config: ModelConfig,
    /// Frozen word dictionary (`.npy` / `.safetensors`).
    pub dictionary: PathBuf,
    /// Tensors to start from (e.g. ImageNet backbone weights, or an official checkpoint);
    /// anything missing is initialised as the reference initialises it.
    #[serde(default)]
    pub init: Vec<InitSource>,
    /// Tensors whose name starts with one of these stay fixed (e.g. early backbone stages).
    #[serde(default)]
    pub freeze: Vec<String>,
}

/// A safetensors file of starting weights, its keys prefixed with `prefix`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitSource {
    pub path: PathBuf,
    #[serde(default)]
    pub prefix: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    pub epochs: usize,
    /// P identities × K pairs per batch.
    pub ids_per_batch: usize,
    pub pairs_per_id: usize,
    /// MoCo queue length (a multiple of the batch size).
    pub queue_size: i64,
    /// Identity classes; 0 = the number of training identities.
    pub classes: i64,
    pub pooling: String,
    pub seed: u64,
    pub device: String,
    pub output: PathBuf,
    /// Print progress every N iterations.
    pub log_every: usize,
    /// Stop after this many iterations in total (0 = no limit), for smoke runs.
    pub max_iterations: usize,
    pub eval_batch_size: usize,
    /// Keep the whole convolutional trunk fixed and compute its feature maps once per
    /// image (and its mirror image), so that each step runs only the attention pool, the
    /// projections and the text stream: many times more steps in the same CPU time. The
    /// augmentations are then the horizontal flip only.
    pub cache_trunk: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            epochs: 80,
            ids_per_batch: 32,
            pairs_per_id: 4,
            queue_size: 2048,
            classes: 0,
            pooling: "per-caption".into(),
            seed: 0,
            device: "auto".into(),
            output: PathBuf::from("runs/train"),
            log_every: 10,
            max_iterations: 0,
            eval_batch_size: 64,
            cache_trunk: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Data(#[from] crate::dataset::DataError),
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    #[error(transparent)]
    Moco(#[from] super::MocoError),
    #[error(transparent)]
    Evaluate(#[from] crate::eval::evaluate::EvaluateError),
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// Training state saved with each checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Progress {
    /// Epochs completed.
    pub epoch: usize,
    pub iterations: usize,
    pub adam_step: i64,
    pub best_r1: f64,
}

/// What one epoch did.
#[derive(Debug, Clone, Serialize)]
pub struct EpochSummary {
    pub epoch: usize,
    pub loss: f64,
    pub instance: f64,
    pub infonce: f64,
    pub align: f64,
    pub lr: f64,
    pub samples_per_s: f64,
    pub seconds: f64,
    pub val: Option<EvalReport>,
}

pub struct Trainer {
    pub config: TrainConfig,
    device: Device,
    weights: WeightMap,
    dictionary: Tensor,
    trainable: Trainable,
    adam: Adam,
    progress: Progress,
    train_data: Dataset,
    val_data: Option<Dataset>,
    cache: ImageCache,
    /// Trunk feature maps of each training image and of its mirror image.
    trunk_features: HashMap<PathBuf, (Tensor, Tensor)>,
}

static INIT_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Whether `key` belongs to the convolutional trunk of the visual stream.
fn is_trunk_key(key: &str) -> bool {
    key.starts_with("visual_model.") && !key.starts_with("visual_model.attnpool.")
}

fn write_err(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// One tensor's bytes as safetensors' writer sees them.
struct TensorBytes {
    dtype: safetensors::Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl safetensors::tensor::View for &TensorBytes {
    fn dtype(&self) -> safetensors::Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn tensor_bytes(t: &Tensor) -> Result<TensorBytes, String> {
    use safetensors::Dtype;
    let dtype = match t.kind() {
        Kind::Float => Dtype::F32,
        Kind::Double => Dtype::F64,
        Kind::Half => Dtype::F16,
        Kind::BFloat16 => Dtype::BF16,
        Kind::Int64 => Dtype::I64,
        Kind::Int => Dtype::I32,
        Kind::Int16 => Dtype::I16,
        Kind::Int8 => Dtype::I8,
        Kind::Uint8 => Dtype::U8,
        Kind::Bool => Dtype::BOOL,
        other => return Err(format!("cannot store dtype {other:?}")),
    };
    let t = t.detach().to_device(Device::Cpu).contiguous();
    let numel = t.numel();
    let mut data = vec![0u8; numel * t.kind().elt_size_in_bytes()];
    t.f_copy_data_u8(&mut data, numel)
        .map_err(|e| e.to_string())?;
    Ok(TensorBytes {
        dtype,
        shape: t.size().iter().map(|&d| d as usize).collect(),
        data,
    })
}

/// Writes named tensors and metadata to safetensors in one pass, via a temporary file,
/// so a crash never leaves a half-written checkpoint in place.
pub fn save_tensors(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: HashMap<String, String>,
) -> Result<(), TrainError> {
    let bytes: Vec<(String, TensorBytes)> = tensors
        .iter()
        .map(|(k, t)| tensor_bytes(t).map(|b| (k.clone(), b)))
        .collect::<Result<_, _>>()
        .map_err(|e| write_err(path, e))?;
    let tmp = path.with_extension("partial");
    let views = bytes.iter().map(|(k, b)| (k.clone(), b));
    safetensors::serialize_to_file(views, &Some(metadata), &tmp).map_err(|e| write_err(path, e))?;
    std::fs::rename(&tmp, path).map_err(|e| write_err(path, e))
}

impl Trainer {
    /// Sets up a run; `resume` continues from a checkpoint written by [`Self::save_checkpoint`].
    pub fn new(config: TrainConfig, resume: Option<&Path>) -> Result<Self, TrainError> {
        let device: crate::device::DeviceChoice = config
            .train
            .device
            .parse()
            .map_err(|e: crate::device::DeviceError| TrainError::Config(e.to_string()))?;
        let device = device
            .resolve()
            .map_err(|e| TrainError::Config(e.to_string()))?;
        let pooling: Pooling = config.train.pooling.parse().map_err(TrainError::Config)?;
        let vocab = Vocabulary::load(&config.data.vocabulary)
            .map_err(|e| TrainError::Config(e.to_string()))?;
        let tokenizer = config.data.tokenize.then_some(&vocab);
        let train_data = Dataset::load_textreid(
            &config.data.train,
            &config.data.images,
            tokenizer,
            config.data.bad_records,
        )?;
        let val_data = match &config.data.val {
            Some(path) => Some(Dataset::load_textreid(
                path,
                &config.data.images,
                tokenizer,
                config.data.bad_records,
            )?),
            None => None,
        };
        let word_dim = config.model.config.textual.word_dim;
        let dictionary = WordDictionary::load(&config.model.dictionary, word_dim, device)
            .map_err(crate::model::ModelError::from)?
            .tensor()
            .shallow_clone();
        vocab.check_against(dictionary.size()[0]).map_err(|e| {
            TrainError::Config(format!("{}: {e}", config.data.vocabulary.display()))
        })?;

        let (weights, progress, adam_state) = match resume {
            Some(path) => {
                let w = WeightMap::from_safetensors(path, device)
                    .map_err(crate::model::ModelError::from)?;
                let progress: Progress = w
                    .metadata()
                    .get("lookout.train")
                    .and_then(|j| serde_json::from_str(j).ok())
                    .ok_or_else(|| {
                        TrainError::Config(format!(
                            "{} is not a Lookout training checkpoint",
                            path.display()
                        ))
                    })?;
                let adam: Vec<(String, Tensor)> = w
                    .all_tensors()
                    .into_iter()
                    .filter(|(k, _)| k.starts_with("adam."))
                    .collect();
                (w, progress, adam)
            }
            None => {
                let mut w = WeightMap::synthetic(device);
                for source in &config.model.init {
                    let init = WeightMap::from_safetensors(&source.path, device)
                        .map_err(crate::model::ModelError::from)?;
                    for (k, t) in init.all_tensors() {
                        w.insert(&format!("{}{k}", source.prefix), t);
                    }
                }
                let progress = Progress {
                    epoch: 0,
                    iterations: 0,
                    adam_step: 0,
                    best_r1: f64::NEG_INFINITY,
                };
                (w, progress, Vec::new())
            }
        };
        let classes = if config.train.classes > 0 {
            config.train.classes
        } else {
            train_data.max_id() + 1
        };
        let setup = TrainSetup {
            config: config.model.config.clone(),
            classes,
            queue_size: config.train.queue_size,
            loss: config.loss.clone(),
            pooling,
        };
        // Missing tensors and fresh queues are drawn from libtorch's one global generator
        // while the model is built: seed it and build under a process-wide lock, so that
        // two trainers in one process (tests, sweeps) each get their seed's initialisation.
        let mut trainable = {
            let _guard = INIT_LOCK
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            tch::manual_seed(config.train.seed as i64);
            build(&weights, &dictionary, &setup, device)?
        };
        let cache_trunk = config.train.cache_trunk;
        trainable.params.retain(|(name, t)| {
            let frozen = config
                .model
                .freeze
                .iter()
                .any(|p| name.starts_with(p.as_str()))
                || (cache_trunk && is_trunk_key(name));
            if frozen {
                let _ = t.set_requires_grad(false);
            }
            !frozen
        });
        let mut adam = Adam::default();
        adam.restore(progress.adam_step, &adam_state);
        let spec = InputSpec::for_visual(&config.model.config.visual);
        let mut trainer = Self {
            config,
            device,
            weights,
            dictionary,
            trainable,
            adam,
            progress,
            train_data,
            val_data,
            cache: ImageCache::new(spec),
            trunk_features: HashMap::new(),
        };
        trainer.decode_all()?;
        if trainer.config.train.cache_trunk {
            trainer.compute_trunk_features()?;
        }
        Ok(trainer)
    }

    /// Decodes every training image once, so an unreadable file is found before the first
    /// step, not half-way through an epoch.
    fn decode_all(&mut self) -> Result<(), TrainError> {
        let mut kept = Vec::with_capacity(self.train_data.pairs.len());
        for (index, pair) in std::mem::take(&mut self.train_data.pairs)
            .into_iter()
            .enumerate()
        {
            match self.cache.get(&pair.image) {
                Ok(_) => kept.push(pair),
                Err(e) => match self.config.data.bad_records {
                    BadRecords::Stop => return Err(e.into()),
                    BadRecords::Skip => {
                        let msg =
                            format!("{} record {index}: {e}", self.config.data.train.display());
                        eprintln!("warning: skipping {msg}");
                        self.train_data.skipped.push(msg);
                    }
                },
            }
        }
        self.train_data.pairs = kept;
        if self.train_data.pairs.is_empty() {
            return Err(TrainError::Config("no readable training pair".into()));
        }
        Ok(())
    }

    /// Runs the (frozen) trunk once over every training image and its mirror image.
    fn compute_trunk_features(&mut self) -> Result<(), TrainError> {
        let mut paths: Vec<PathBuf> = self
            .train_data
            .pairs
            .iter()
            .map(|p| p.image.clone())
            .collect();
        paths.sort();
        paths.dedup();
        let plain = Augment {
            enabled: false,
            ..Augment::default()
        };
        let spec = *self.cache.spec();
        let visual = &self.trainable.model.query.visual;
        let started = Instant::now();
        for chunk in paths.chunks(32) {
            let mut images = Vec::with_capacity(chunk.len());
            for path in chunk {
                images.push(plain.apply(self.cache.get(path)?, &spec, &mut batch_rng(0, 0, 0)));
            }
            let batch = Tensor::stack(&images, 0).to_device(self.device);
            let (f, m) = tch::no_grad(|| {
                (
                    visual.trunk(&batch, false),
                    visual.trunk(&batch.flip([3i64]), false),
                )
            });
            for (i, path) in chunk.iter().enumerate() {
                self.trunk_features
                    .insert(path.clone(), (f.get(i as i64), m.get(i as i64)));
            }
        }
        eprintln!(
            "trunk features of {} images (and mirrors) in {:.1} s",
            paths.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    pub fn train_pairs(&self) -> usize {
        self.train_data.pairs.len()
    }

    pub fn params(&self) -> &[(String, Tensor)] {
        &self.trainable.params
    }

    /// Runs one epoch (the next one).
    pub fn run_epoch(&mut self, log: &mut dyn Write) -> Result<EpochSummary, TrainError> {
        let epoch = self.progress.epoch + 1;
        let run = self.config.train.clone();
        let batches = pk_batches(
            &self.train_data.pairs,
            run.ids_per_batch,
            run.pairs_per_id,
            run.seed,
            epoch,
        );
        if batches.is_empty() {
            return Err(TrainError::Config(format!(
                "{} identities cannot fill a batch of {} identities",
                self.train_data.identities(),
                run.ids_per_batch
            )));
        }
        let schedule = self.config.schedule.clone();
        let lr = schedule.group("weight", epoch).0;
        let start = Instant::now();
        let (mut sum, mut sum_id, mut sum_nce, mut sum_align, mut samples) =
            (0.0, 0.0, 0.0, 0.0, 0usize);
        let n_batches = batches.len();
        for (b, batch) in batches.iter().enumerate() {
            if run.max_iterations > 0 && self.progress.iterations >= run.max_iterations {
                break;
            }
            let mut rng = batch_rng(run.seed, epoch, b);
            let mut images = Vec::with_capacity(batch.len());
            for &i in batch {
                let path = &self.train_data.pairs[i].image;
                if let Some((plain, mirror)) = self.trunk_features.get(path) {
                    let flip = self.config.augment.enabled
                        && rand::Rng::gen_bool(&mut rng, self.config.augment.flip.clamp(0.0, 1.0));
                    images.push(if flip {
                        mirror.shallow_clone()
                    } else {
                        plain.shallow_clone()
                    });
                } else {
                    let spec = *self.cache.spec();
                    let bytes = self.cache.get(path)?;
                    images.push(self.config.augment.apply(bytes, &spec, &mut rng));
                }
            }
            let images = Tensor::stack(&images, 0).to_device(self.device);
            let input = if self.trunk_features.is_empty() {
                super::VisualInput::Images(&images)
            } else {
                super::VisualInput::TrunkFeatures(&images)
            };
            let captions: Vec<Vec<i64>> = batch
                .iter()
                .map(|&i| self.train_data.pairs[i].caption.clone())
                .collect();
            let ids: Vec<i64> = batch.iter().map(|&i| self.train_data.pairs[i].id).collect();
            let ids = Tensor::from_slice(&ids).to_device(self.device);
            let losses = self
                .trainable
                .model
                .forward_input(&input, &captions, &ids)?;
            let total = losses.total();
            for (_, p) in &self.trainable.params {
                p.shallow_clone().zero_grad();
            }
            total.backward();
            self.adam
                .step(&self.trainable.params, &|name| schedule.group(name, epoch));
            self.progress.iterations += 1;
            let scalar =
                |t: &Tensor| f64::try_from(t.detach().to_device(Device::Cpu)).unwrap_or(f64::NAN);
            sum += scalar(&total);
            sum_id += scalar(&losses.instance);
            sum_nce += losses.infonce.as_ref().map(scalar).unwrap_or(0.0);
            sum_align += scalar(&losses.align);
            samples += batch.len();
            if (b + 1) % run.log_every.max(1) == 0 || b + 1 == n_batches {
                let _ = writeln!(
                    log,
                    "epoch {epoch}/{} iter {}/{n_batches} loss {:.3} (id {:.3} nce {:.3} align {:.3}) lr {lr:.2e} {:.1} samples/s",
                    run.epochs,
                    b + 1,
                    scalar(&total),
                    scalar(&losses.instance),
                    losses.infonce.as_ref().map(scalar).unwrap_or(0.0),
                    scalar(&losses.align),
                    samples as f64 / start.elapsed().as_secs_f64()
                );
            }
        }
        let n = (samples / (run.ids_per_batch * run.pairs_per_id).max(1)).max(1) as f64;
        let seconds = start.elapsed().as_secs_f64();
        self.progress.epoch = epoch;
        self.progress.adam_step = self.adam.step;
        let val = match &self.val_data {
            Some(data) => {
                let model = self.inference_model()?;
                let options = EvalOptions {
                    batch_size: run.eval_batch_size,
                    pooling: self.trainable.model.pooling,
                    rerank: Some(RerankParams::default()),
                    image_to_text: false,
                };
                let report = evaluate(&model, data, &options, &mut |_, _| {})?;
                let _ = write!(log, "validation after epoch {epoch}:\n{}", report.table());
                Some(report)
            }
            None => None,
        };
        Ok(EpochSummary {
            epoch,
            loss: sum / n,
            instance: sum_id / n,
            infonce: sum_nce / n,
            align: sum_align / n,
            lr,
            samples_per_s: samples as f64 / seconds,
            seconds,
            val,
        })
    }

    /// The current query model for inference (shares the trained tensors).
    pub fn inference_model(&self) -> Result<TextReid, TrainError> {
        Ok(TextReid::from_parts(
            &self.weights,
            WordDictionary::from_tensor(self.dictionary.shallow_clone()),
            self.config.model.config.clone(),
            self.device,
        )?)
    }

    fn metadata(&self) -> Result<HashMap<String, String>, TrainError> {
        let config = serde_json::to_string(&self.config.model.config)
            .map_err(|e| TrainError::Config(e.to_string()))?;
        let progress =
            serde_json::to_string(&self.progress).map_err(|e| TrainError::Config(e.to_string()))?;
        Ok([
            (METADATA_KEY.to_string(), config),
            ("lookout.train".to_string(), progress),
        ]
        .into_iter()
        .collect())
    }

    /// The inference tensors in the official layout (query encoders + projections).
    fn model_tensors(&self) -> Vec<(String, Tensor)> {
        let used = self.weights.accessed();
        self.weights
            .all_tensors()
            .into_iter()
            .filter(|(k, _)| used.contains(k) && !k.contains("encoder_k"))
            .collect()
    }

    /// Everything needed to resume exactly: model, key encoders, queues, Adam moments.
    pub fn save_checkpoint(&self, path: &Path) -> Result<(), TrainError> {
        let mut tensors = self.model_tensors();
        tensors.push((
            PROJECTION_KEY.to_string(),
            self.trainable.model.projection.shallow_clone(),
        ));
        if let Some(key) = &self.trainable.model.key {
            for (name, t) in &key.tensors {
                if let Some(stored) = key_encoder_name(name) {
                    tensors.push((stored, t.shallow_clone()));
                }
            }
        }
        if let Some(q) = &self.trainable.model.queues {
            tensors.push(("embed_model.v_queue".into(), q.image.shallow_clone()));
            tensors.push(("embed_model.t_queue".into(), q.text.shallow_clone()));
            tensors.push(("embed_model.id_queue".into(), q.ids.shallow_clone()));
            tensors.push(("embed_model.queue_ptr".into(), Tensor::from_slice(&[q.ptr])));
        }
        tensors.extend(self.adam.state());
        let mut seen = std::collections::HashSet::new();
        tensors.retain(|(k, _)| seen.insert(k.clone()));
        save_tensors(path, &tensors, self.metadata()?)
    }

    /// A model bundle (weights, dictionary, vocabulary, model.toml) for inference.
    pub fn save_bundle(&self, dir: &Path) -> Result<(), TrainError> {
        std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
        let mut meta = self.metadata()?;
        meta.remove("lookout.train");
        save_tensors(
            &dir.join("weights.safetensors"),
            &self.model_tensors(),
            meta,
        )?;
        let dict_path = dir.join("dictionary.npy");
        self.dictionary
            .to_device(Device::Cpu)
            .to_kind(Kind::Float)
            .write_npy(&dict_path)
            .map_err(|e| write_err(&dict_path, e))?;
        std::fs::copy(&self.config.data.vocabulary, dir.join("vocab.json"))
            .map_err(|e| write_err(dir, e))?;
        let manifest = "weights = \"weights.safetensors\"\ndictionary = \"dictionary.npy\"\nvocabulary = \"vocab.json\"\n";
        std::fs::write(dir.join("model.toml"), manifest).map_err(|e| write_err(dir, e))?;
        Ok(())
    }

    /// The whole run: epochs up to the configured number, checkpoint after each, the best
    /// model (validation t2i R1, or the last one without a validation split) as a bundle.
    pub fn run(&mut self, log: &mut dyn Write) -> Result<Vec<EpochSummary>, TrainError> {
        let out = self.config.train.output.clone();
        std::fs::create_dir_all(&out).map_err(|e| write_err(&out, e))?;
        let mut summaries = Vec::new();
        let _ = writeln!(
            log,
            "training on {} pairs ({} identities), {} trainable tensors, device {:?}",
            self.train_data.pairs.len(),
            self.train_data.identities(),
            self.trainable.params.len(),
            self.device
        );
        while self.progress.epoch < self.config.train.epochs {
            let summary = self.run_epoch(log)?;
            let r1 = summary
                .val
                .as_ref()
                .and_then(|v| v.tasks.get("t2i"))
                .map(|m| m.r1);
            let improved = r1.is_none_or(|r| r > self.progress.best_r1);
            if let Some(r) = r1 {
                self.progress.best_r1 = self.progress.best_r1.max(r);
            }
            if improved {
                self.save_bundle(&out.join("best"))?;
            }
            self.save_checkpoint(&out.join("checkpoint.safetensors"))?;
            let line = serde_json::to_string(&summary).unwrap_or_default();
            let log_path = out.join("log.jsonl");
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
                .map_err(|e| write_err(&log_path, e))?;
            writeln!(f, "{line}").map_err(|e| write_err(&log_path, e))?;
            summaries.push(summary);
            if self.config.train.max_iterations > 0
                && self.progress.iterations >= self.config.train.max_iterations
            {
                break;
            }
        }
        Ok(summaries)
    }

    /// Named trainable tensors, for tests comparing runs.
    pub fn snapshot(&self) -> BTreeMap<String, Tensor> {
        self.trainable
            .params
            .iter()
            .map(|(k, t)| (k.clone(), t.detach().copy()))
            .collect()
    }
}
