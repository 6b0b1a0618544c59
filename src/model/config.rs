//! The sizes of a TextReID model: what the weights file does not say by itself.
//!
//! A configuration comes, in this order, from the weights file's safetensors metadata
//! (`lookout.model`, written by `lookout convert-checkpoint`, or the parity fixture's
//! `tiny_visual`), from a TOML file beside the weights, or is inferred from the tensor
//! shapes (CLIP's ModifiedResNet always has 64-wide attention heads). Whatever its origin,
//! every tensor is then checked against it, so a wrong configuration is a clear error.
use serde::{Deserialize, Serialize};

/// CLIP pixel statistics used by TextReID (`INPUT.PIXEL_MEAN` / `PIXEL_STD`), written
/// as the reference writes them (f32 rounds the last digits the same way torch does).
#[allow(clippy::excessive_precision)]
pub const CLIP_PIXEL_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
#[allow(clippy::excessive_precision)]
pub const CLIP_PIXEL_STD: [f32; 3] = [0.268_629_54, 0.261_302_58, 0.275_777_11];

/// The metadata key under which Lookout stores a model configuration (JSON).
pub const METADATA_KEY: &str = "lookout.model";
/// The metadata key the reference parity fixture uses for its reduced visual encoder.
pub const FIXTURE_VISUAL_KEY: &str = "tiny_visual";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub visual: VisualConfig,
    pub textual: TextualConfig,
    /// Size of the joint embedding (`MODEL.EMBEDDING.FEATURE_SIZE`, 256).
    pub embedding_dim: usize,
    /// Which projection head the checkpoint was trained with (decides the key names).
    pub head: HeadKind,
    /// Free-form version tag stored with every sighting (e.g. the checkpoint's name).
    #[serde(default)]
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeadKind {
    /// CM-MoCo head: `embed_model.v_embed_layer` / `embed_model.t_embed_layer`.
    Moco,
    /// Simple head (the "without CM-MoCo" baseline): `embed_model.visual_embed_layer` / `textual_embed_layer`.
    Simple,
}

/// CLIP ModifiedResNet with the last stage at stride 1 (spec §1.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisualConfig {
    /// The convolutional trunk under the attention pool.
    #[serde(default)]
    pub backbone: Backbone,
    /// Bottleneck blocks per stage: RN50 `[3,4,6,3]`, RN101 `[3,4,23,3]` (ModifiedResNet only).
    pub layers: [usize; 4],
    /// Stem width (64 for CLIP); the last stage has `width * 32` channels.
    pub width: usize,
    /// Attention-pool heads (32 for CLIP RN50/RN101: head size 64).
    pub heads: usize,
    /// Attention-pool output size: 1024 (RN50) or 512 (RN101).
    pub output_dim: usize,
    /// Stride of layer4 (1 in TextReID).
    #[serde(default = "default_last_stride")]
    pub last_stride: usize,
    /// Input (height, width): 384×128.
    #[serde(default = "default_input")]
    pub input_resolution: [usize; 2],
}

/// The visual trunk. TextReID uses CLIP's ModifiedResNet; with no CLIP weights to be had
/// offline, Lookout's default model puts the same attention pool and projection on an
/// ImageNet MobileNetV2 (keys `visual_model.backbone.*`, torchvision's layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backbone {
    #[default]
    ModifiedResnet,
    MobilenetV2,
}

/// Output channels of torchvision's MobileNetV2 trunk.
pub const MOBILENET_V2_CHANNELS: usize = 1280;

fn default_last_stride() -> usize {
    1
}
fn default_input() -> [usize; 2] {
    [384, 128]
}

impl VisualConfig {
    pub fn rn50() -> Self {
        Self {
            backbone: Backbone::ModifiedResnet,
            layers: [3, 4, 6, 3],
            width: 64,
            heads: 32,
            output_dim: 1024,
            last_stride: 1,
            input_resolution: [384, 128],
        }
    }

    pub fn rn101() -> Self {
        Self {
            layers: [3, 4, 23, 3],
            ..Self::rn50()
        }
        .with_output_dim(512)
    }

    fn with_output_dim(mut self, output_dim: usize) -> Self {
        self.output_dim = output_dim;
        self
    }

    /// Channels entering the attention pool.
    pub fn embed_dim(&self) -> usize {
        match self.backbone {
            Backbone::ModifiedResnet => self.width * 32,
            Backbone::MobilenetV2 => MOBILENET_V2_CHANNELS,
        }
    }

    /// The feature grid (height, width) seen by the attention pool: /16 with last stride 1, /32 otherwise.
    pub fn grid(&self) -> (usize, usize) {
        let down = match self.backbone {
            Backbone::ModifiedResnet => 16 * self.last_stride,
            Backbone::MobilenetV2 => 32,
        };
        (
            self.input_resolution[0] / down,
            self.input_resolution[1] / down,
        )
    }
}

/// Frozen word dictionary + bi-GRU (spec §1.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextualConfig {
    /// Size of a word vector in the dictionary (512 for CLIP ViT-B/32 text features).
    pub word_dim: usize,
    /// GRU hidden size per direction (`GRU.NUM_UNITS`, 512).
    pub hidden: usize,
    /// Captions are cut to this many words (the reference dataset pads/truncates to 105).
    #[serde(default = "default_max_words")]
    pub max_words: usize,
}

fn default_max_words() -> usize {
    105
}

/// A named preset, for `--preset` and for documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Rn50,
    Rn101,
}

impl std::str::FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "rn50" | "m_resnet50" => Ok(Self::Rn50),
            "rn101" | "m_resnet101" => Ok(Self::Rn101),
            other => Err(format!("unknown preset `{other}` (expected rn50 or rn101)")),
        }
    }
}

impl Preset {
    /// The published TextReID configuration for this backbone (CM-MoCo head).
    pub fn config(self) -> ModelConfig {
        let visual = match self {
            Self::Rn50 => VisualConfig::rn50(),
            Self::Rn101 => VisualConfig::rn101(),
        };
        ModelConfig {
            visual,
            textual: TextualConfig {
                word_dim: 512,
                hidden: 512,
                max_words: 105,
            },
            embedding_dim: 256,
            head: HeadKind::Moco,
            version: String::new(),
        }
    }
}

/// The reduced visual configuration the parity fixture records in its metadata.
#[derive(Debug, Deserialize)]
pub struct FixtureVisual {
    pub layers: [usize; 4],
    pub width: usize,
    pub heads: usize,
    pub output_dim: usize,
    #[serde(default = "default_last_stride")]
    pub last_stride: usize,
    #[serde(default = "default_input")]
    pub input_resolution: [usize; 2],
}

impl From<FixtureVisual> for VisualConfig {
    fn from(v: FixtureVisual) -> Self {
        Self {
            backbone: Backbone::ModifiedResnet,
            layers: v.layers,
            width: v.width,
            heads: v.heads,
            output_dim: v.output_dim,
            last_stride: v.last_stride,
            input_resolution: v.input_resolution,
        }
    }
}

/// Only the visual part of a configuration, with the rest taken from the tensors.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialModelConfig {
    pub visual: Option<VisualConfig>,
    pub textual: Option<TextualConfig>,
    pub embedding_dim: Option<usize>,
    pub head: Option<HeadKind>,
    #[serde(default)]
    pub version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_the_published_sizes() {
        let rn50 = Preset::Rn50.config();
        assert_eq!(rn50.visual.embed_dim(), 2048);
        assert_eq!(rn50.visual.grid(), (24, 8));
        assert_eq!(rn50.visual.output_dim, 1024);
        let rn101 = Preset::Rn101.config();
        assert_eq!(rn101.visual.layers, [3, 4, 23, 3]);
        assert_eq!(rn101.visual.output_dim, 512);
    }

    #[test]
    fn config_round_trips_through_json_and_toml() {
        let config = Preset::Rn101.config();
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<ModelConfig>(&json).unwrap(), config);
        let text = toml::to_string(&config).unwrap();
        assert_eq!(toml::from_str::<ModelConfig>(&text).unwrap(), config);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let bad = r#"{"visual":{"layers":[1,1,1,1],"width":8,"heads":1,"output_dim":8,"depth":3},
            "textual":{"word_dim":8,"hidden":8},"embedding_dim":8,"head":"moco"}"#;
        let err = serde_json::from_str::<ModelConfig>(bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("depth"), "{err}");
    }
}
