//! The encode stage: person crops → L2-normalised embeddings with the model's visual
//! stream, batched on one device (the GPU when there is one). Used by live ingest (crops
//! of every camera go through one encoder) and by [`reindex`] (stored crops → a new
//! model's collection).
pub mod reindex;

use tch::Kind;

use crate::model::{ModelError, TextReid};
use crate::preprocess::{InputSpec, PreprocessError, RgbImage};

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error(transparent)]
    Preprocess(#[from] PreprocessError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("embedding tensor: {0}")]
    Tensor(String),
    #[error("crop {what} is not a readable image: {reason}")]
    Decode { what: String, reason: String },
}

pub struct CropEncoder {
    model: TextReid,
    input: InputSpec,
    batch_size: usize,
}

impl CropEncoder {
    pub fn new(model: TextReid, batch_size: usize) -> Self {
        let input = InputSpec::for_visual(&model.config.visual);
        CropEncoder {
            model,
            input,
            batch_size: batch_size.max(1),
        }
    }

    pub fn model(&self) -> &TextReid {
        &self.model
    }

    pub fn model_version(&self) -> &str {
        &self.model.config.version
    }

    pub fn dimension(&self) -> usize {
        self.model.config.embedding_dim
    }

    /// One embedding per crop, in order.
    pub fn embed(&self, crops: &[(String, RgbImage)]) -> Result<Vec<Vec<f32>>, EncodeError> {
        if crops.is_empty() {
            return Ok(Vec::new());
        }
        let batch = self.input.batch(crops)?;
        let embedded = self.model.embed_images(&batch, self.batch_size)?;
        let dim = self.dimension();
        let flat = Vec::<f32>::try_from(embedded.to_kind(Kind::Float).flatten(0, -1))
            .map_err(|e| EncodeError::Tensor(e.to_string()))?;
        Ok(flat.chunks(dim).map(<[f32]>::to_vec).collect())
    }
}

/// Decodes a stored JPEG (or PNG) crop.
pub fn decode_image(what: &str, bytes: &[u8]) -> Result<RgbImage, EncodeError> {
    let image = image::load_from_memory(bytes).map_err(|e| EncodeError::Decode {
        what: what.to_string(),
        reason: e.to_string(),
    })?;
    let rgb = image.to_rgb8();
    Ok(RgbImage {
        width: rgb.width() as usize,
        height: rgb.height() as usize,
        data: rgb.into_raw(),
    })
}
