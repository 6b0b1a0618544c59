//! Person crops → model input: RGB, resized to 384×128 exactly as the reference's PIL
//! `Resize` (see [`resize`]), scaled to [0, 1], normalised with CLIP's mean / std.
//!
//! Pillow releases differ in the order of the two resize passes (12.2 and 13 sometimes
//! resize vertically first), which moves some bytes by one level. TextReID's models were
//! trained with torchvision 0.11-era Pillow, which always resizes horizontally first, so
//! that is the default ([`PillowCompat::UpTo12_1`]).
pub mod resize;

use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

pub use resize::{resize_bilinear_rgb8_compat, PillowCompat, ResizeError, Rgb8};

#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    #[error("cannot read image {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("cannot resize image {what}: {source}")]
    Resize { what: String, source: ResizeError },
}

/// An owned RGB image.
#[derive(Debug, Clone)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl RgbImage {
    pub fn view(&self) -> Rgb8<'_> {
        Rgb8 {
            width: self.width,
            height: self.height,
            data: &self.data,
        }
    }
}

/// Decodes a JPEG or PNG file into RGB (alpha dropped, grey replicated, as PIL's
/// `convert("RGB")`). JPEG decoders differ from libjpeg by a few levels on some pixels;
/// PNG input is bit-exact with the reference.
pub fn load_rgb(path: &Path) -> Result<RgbImage, PreprocessError> {
    let img = image::open(path).map_err(|e| PreprocessError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let rgb = img.to_rgb8();
    Ok(RgbImage {
        width: rgb.width() as usize,
        height: rgb.height() as usize,
        data: rgb.into_raw(),
    })
}

/// Input geometry and pixel statistics of a model.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    pub height: usize,
    pub width: usize,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// Which Pillow's resize to reproduce.
    pub pillow: PillowCompat,
}

impl InputSpec {
    /// The input of a visual configuration: CLIP statistics for ModifiedResNet, ImageNet
    /// statistics for the MobileNetV2 trunk.
    pub fn for_visual(config: &crate::model::VisualConfig) -> Self {
        let mut spec = Self::clip(config.input_resolution);
        if config.backbone == crate::model::config::Backbone::MobilenetV2 {
            let m = crate::model::mobilenet::IMAGENET_MEAN;
            let s = crate::model::mobilenet::IMAGENET_STD;
            spec.mean = [m[0] as f32, m[1] as f32, m[2] as f32];
            spec.std = [s[0] as f32, s[1] as f32, s[2] as f32];
        }
        spec
    }

    pub fn clip(input_resolution: [usize; 2]) -> Self {
        Self {
            height: input_resolution[0],
            width: input_resolution[1],
            mean: crate::model::config::CLIP_PIXEL_MEAN,
            std: crate::model::config::CLIP_PIXEL_STD,
            pillow: PillowCompat::UpTo12_1,
        }
    }

    /// One image → a normalised `(3, H, W)` float tensor on the CPU.
    pub fn to_tensor(&self, image: &Rgb8, what: &str) -> Result<Tensor, PreprocessError> {
        let resized = resize_bilinear_rgb8_compat(image, self.width, self.height, self.pillow)
            .map_err(|source| PreprocessError::Resize {
                what: what.to_string(),
                source,
            })?;
        let plane = self.width * self.height;
        let mut chw = vec![0f32; 3 * plane];
        for (i, px) in resized.chunks_exact(3).enumerate() {
            for c in 0..3 {
                chw[c * plane + i] = (px[c] as f32 / 255.0 - self.mean[c]) / self.std[c];
            }
        }
        Ok(Tensor::from_slice(&chw).view([3, self.height as i64, self.width as i64]))
    }

    /// Images → a `(B, 3, H, W)` batch.
    pub fn batch(&self, images: &[(String, RgbImage)]) -> Result<Tensor, PreprocessError> {
        let tensors = images
            .iter()
            .map(|(what, img)| self.to_tensor(&img.view(), what))
            .collect::<Result<Vec<_>, _>>()?;
        if tensors.is_empty() {
            return Ok(Tensor::zeros(
                [0, 3, self.height as i64, self.width as i64],
                (Kind::Float, tch::Device::Cpu),
            ));
        }
        Ok(Tensor::stack(&tensors, 0))
    }
}
