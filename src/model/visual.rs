//! The visual stream: CLIP's ModifiedResNet with layer4 at stride 1, the attention pool
//! over the 24×8 grid, and the Linear to the joint embedding (spec §1.3, §1.5).
//!
//! Layers hold plain tensors taken from a [`WeightMap`] under the official key names
//! and run with libtorch's functional ops (eval-mode BatchNorm with running statistics).
use tch::Tensor;

use super::config::VisualConfig;
use super::weights::{WeightMap, WeightsError};

const BN_EPS: f64 = 1e-5;

struct BatchNorm {
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
}

impl BatchNorm {
    fn load(w: &WeightMap, prefix: &str, channels: i64) -> Result<Self, WeightsError> {
        Ok(Self {
            weight: w.get(&format!("{prefix}.weight"), &[channels])?,
            bias: w.get(&format!("{prefix}.bias"), &[channels])?,
            running_mean: w.get(&format!("{prefix}.running_mean"), &[channels])?,
            running_var: w.get(&format!("{prefix}.running_var"), &[channels])?,
        })
    }

    /// `train`: batch statistics, and the running statistics updated in place (momentum 0.1).
    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.batch_norm(
            Some(&self.weight),
            Some(&self.bias),
            Some(&self.running_mean),
            Some(&self.running_var),
            train,
            0.1,
            BN_EPS,
            false,
        )
    }
}

/// A bias-free convolution followed by BatchNorm.
struct ConvBn {
    weight: Tensor,
    stride: i64,
    padding: i64,
    bn: BatchNorm,
}

impl ConvBn {
    #[allow(clippy::too_many_arguments)]
    fn load(
        w: &WeightMap,
        conv_key: &str,
        bn_prefix: &str,
        cin: i64,
        cout: i64,
        kernel: i64,
        stride: i64,
    ) -> Result<Self, WeightsError> {
        Ok(Self {
            weight: w.get(conv_key, &[cout, cin, kernel, kernel])?,
            stride,
            padding: kernel / 2,
            bn: BatchNorm::load(w, bn_prefix, cout)?,
        })
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let y = x.conv2d(
            &self.weight,
            None::<Tensor>,
            [self.stride, self.stride],
            [self.padding, self.padding],
            [1, 1],
            1,
        );
        self.bn.forward(&y, train)
    }
}

fn avg_pool(x: &Tensor, k: i64) -> Tensor {
    if k <= 1 {
        return x.shallow_clone();
    }
    x.avg_pool2d([k, k], [k, k], [0, 0], false, true, None::<i64>)
}

/// CLIP's anti-aliased Bottleneck: strided stages average-pool instead of striding the conv.
struct Bottleneck {
    conv1: ConvBn,
    conv2: ConvBn,
    conv3: ConvBn,
    stride: i64,
    downsample: Option<ConvBn>,
}

impl Bottleneck {
    fn load(
        w: &WeightMap,
        prefix: &str,
        inplanes: i64,
        planes: i64,
        stride: i64,
    ) -> Result<Self, WeightsError> {
        let downsample = if stride > 1 || inplanes != planes * 4 {
            Some(ConvBn::load(
                w,
                &format!("{prefix}.downsample.0.weight"),
                &format!("{prefix}.downsample.1"),
                inplanes,
                planes * 4,
                1,
                1,
            )?)
        } else {
            None
        };
        Ok(Self {
            conv1: ConvBn::load(
                w,
                &format!("{prefix}.conv1.weight"),
                &format!("{prefix}.bn1"),
                inplanes,
                planes,
                1,
                1,
            )?,
            conv2: ConvBn::load(
                w,
                &format!("{prefix}.conv2.weight"),
                &format!("{prefix}.bn2"),
                planes,
                planes,
                3,
                1,
            )?,
            conv3: ConvBn::load(
                w,
                &format!("{prefix}.conv3.weight"),
                &format!("{prefix}.bn3"),
                planes,
                planes * 4,
                1,
                1,
            )?,
            stride,
            downsample,
        })
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let out = self.conv1.forward(x, train).relu();
        let out = self.conv2.forward(&out, train).relu();
        let out = avg_pool(&out, self.stride);
        let out = self.conv3.forward(&out, train);
        let identity = match &self.downsample {
            Some(down) => down.forward(&avg_pool(x, self.stride), train),
            None => x.shallow_clone(),
        };
        (out + identity).relu()
    }
}

/// Multi-head attention pooling whose only output is the mean token's (spec §1.3):
/// only that query is computed.
struct AttentionPool {
    positional_embedding: Tensor,
    q_w: Tensor,
    q_b: Tensor,
    k_w: Tensor,
    k_b: Tensor,
    v_w: Tensor,
    v_b: Tensor,
    c_w: Tensor,
    c_b: Tensor,
    heads: i64,
}

impl AttentionPool {
    fn load(w: &WeightMap, config: &VisualConfig) -> Result<Self, WeightsError> {
        let c = config.embed_dim() as i64;
        let (gh, gw) = config.grid();
        let tokens = (gh * gw + 1) as i64;
        let out = config.output_dim as i64;
        let p = "visual_model.attnpool";
        Ok(Self {
            positional_embedding: w.get(&format!("{p}.positional_embedding"), &[tokens, c])?,
            q_w: w.get(&format!("{p}.q_proj.weight"), &[c, c])?,
            q_b: w.get(&format!("{p}.q_proj.bias"), &[c])?,
            k_w: w.get(&format!("{p}.k_proj.weight"), &[c, c])?,
            k_b: w.get(&format!("{p}.k_proj.bias"), &[c])?,
            v_w: w.get(&format!("{p}.v_proj.weight"), &[c, c])?,
            v_b: w.get(&format!("{p}.v_proj.bias"), &[c])?,
            c_w: w.get(&format!("{p}.c_proj.weight"), &[out, c])?,
            c_b: w.get(&format!("{p}.c_proj.bias"), &[out])?,
            heads: config.heads as i64,
        })
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let (b, c, _, _) = x.size4().expect("feature map is 4-d");
        // (B, C, H, W) -> (B, HW, C), tokens in row-major (h, w) order.
        let tokens = x.flatten(2, 3).permute([0, 2, 1]);
        let mean = tokens.mean_dim(Some([1i64].as_slice()), true, None);
        let tokens = Tensor::cat(&[mean, tokens], 1) + &self.positional_embedding;
        let n = tokens.size()[1];
        let head_dim = c / self.heads;
        let scale = (head_dim as f64).powf(-0.5);
        let q = tokens.select(1, 0).linear(&self.q_w, Some(&self.q_b)) * scale;
        let q = q.view([b, self.heads, 1, head_dim]);
        let k = tokens
            .linear(&self.k_w, Some(&self.k_b))
            .view([b, n, self.heads, head_dim])
            .permute([0, 2, 3, 1]);
        let v = tokens
            .linear(&self.v_w, Some(&self.v_b))
            .view([b, n, self.heads, head_dim])
            .permute([0, 2, 1, 3]);
        let attention = q.matmul(&k).softmax(-1, tch::Kind::Float);
        let pooled = attention.matmul(&v).reshape([b, c]);
        pooled.linear(&self.c_w, Some(&self.c_b))
    }
}

/// Outputs of every stage, for parity checks and debugging.
pub struct VisualStages {
    pub stem: Tensor,
    pub layer1: Tensor,
    pub layer2: Tensor,
    pub layer3: Tensor,
    pub layer4: Tensor,
    pub attnpool: Tensor,
    pub embedding: Tensor,
}

/// CLIP ModifiedResNet (last stride 1) + attention pool + Linear projection.
pub struct ModifiedResNet {
    stem: [ConvBn; 3],
    stages: [Vec<Bottleneck>; 4],
    attnpool: AttentionPool,
    embed_w: Tensor,
    embed_b: Tensor,
    config: VisualConfig,
}

impl ModifiedResNet {
    /// Loads the visual stream; `embed_prefix` names the projection (`embed_model.v_embed_layer`
    /// for the MoCo head, `embed_model.visual_embed_layer` for the simple head).
    pub fn load(
        w: &WeightMap,
        config: &VisualConfig,
        embed_prefix: &str,
        embedding_dim: usize,
    ) -> Result<Self, WeightsError> {
        let width = config.width as i64;
        let p = "visual_model";
        let stem = [
            ConvBn::load(
                w,
                &format!("{p}.conv1.weight"),
                &format!("{p}.bn1"),
                3,
                width / 2,
                3,
                2,
            )?,
            ConvBn::load(
                w,
                &format!("{p}.conv2.weight"),
                &format!("{p}.bn2"),
                width / 2,
                width / 2,
                3,
                1,
            )?,
            ConvBn::load(
                w,
                &format!("{p}.conv3.weight"),
                &format!("{p}.bn3"),
                width / 2,
                width,
                3,
                1,
            )?,
        ];
        let strides = [1, 2, 2, config.last_stride as i64];
        let mut inplanes = width;
        let mut stages: [Vec<Bottleneck>; 4] = Default::default();
        for (stage, blocks) in stages.iter_mut().enumerate() {
            let planes = width << stage;
            for block in 0..config.layers[stage] {
                let stride = if block == 0 { strides[stage] } else { 1 };
                let prefix = format!("{p}.layer{}.{block}", stage + 1);
                blocks.push(Bottleneck::load(w, &prefix, inplanes, planes, stride)?);
                inplanes = planes * 4;
            }
        }
        let out = config.output_dim as i64;
        let dim = embedding_dim as i64;
        Ok(Self {
            stem,
            stages,
            attnpool: AttentionPool::load(w, config)?,
            embed_w: w.get(&format!("{embed_prefix}.weight"), &[dim, out])?,
            embed_b: w.get(&format!("{embed_prefix}.bias"), &[dim])?,
            config: config.clone(),
        })
    }

    pub fn config(&self) -> &VisualConfig {
        &self.config
    }

    fn stem(&self, x: &Tensor, train: bool) -> Tensor {
        let mut x = x.shallow_clone();
        for conv in &self.stem {
            x = conv.forward(&x, train).relu();
        }
        avg_pool(&x, 2)
    }

    /// Raw (unnormalised) embeddings of normalised images `(B, 3, H, W)`, eval mode.
    pub fn forward(&self, images: &Tensor) -> Tensor {
        self.forward_t(images, false)
    }

    /// The convolutional trunk: (B, 3, H, W) → the feature map under the attention pool.
    pub fn trunk(&self, images: &Tensor, train: bool) -> Tensor {
        let mut x = self.stem(images, train);
        for stage in &self.stages {
            for block in stage {
                x = block.forward(&x, train);
            }
        }
        x
    }

    /// The backbone and attention pool only (no projection), in train or eval mode.
    pub fn features_t(&self, images: &Tensor, train: bool) -> Tensor {
        self.attnpool.forward(&self.trunk(images, train))
    }

    /// Attention pool and projection on a trunk feature map.
    pub fn head(&self, feature_map: &Tensor) -> Tensor {
        self.project(&self.attnpool.forward(feature_map))
    }

    /// The projection to the joint space, applied to [`Self::features_t`]'s output.
    pub fn project(&self, features: &Tensor) -> Tensor {
        features.linear(&self.embed_w, Some(&self.embed_b))
    }

    /// Raw embeddings; `train` runs BatchNorm on batch statistics (updating running stats).
    pub fn forward_t(&self, images: &Tensor, train: bool) -> Tensor {
        self.project(&self.features_t(images, train))
    }

    /// Like [`Self::forward`], keeping every stage's output.
    pub fn forward_stages(&self, images: &Tensor) -> VisualStages {
        let stem = self.stem(images, false);
        let mut outs = Vec::with_capacity(4);
        let mut x = stem.shallow_clone();
        for stage in &self.stages {
            for block in stage {
                x = block.forward(&x, false);
            }
            outs.push(x.shallow_clone());
        }
        let attnpool = self.attnpool.forward(&x);
        let embedding = attnpool.linear(&self.embed_w, Some(&self.embed_b));
        let mut outs = outs.into_iter();
        let mut next = || outs.next().unwrap_or_else(|| stem.shallow_clone());
        VisualStages {
            layer1: next(),
            layer2: next(),
            layer3: next(),
            layer4: next(),
            stem,
            attnpool,
            embedding,
        }
    }
}

/// Lookout's offline default trunk: ImageNet MobileNetV2 features under the same
/// attention pool and projection as TextReID's ModifiedResNet (keys
/// `visual_model.backbone.*`, `visual_model.attnpool.*`, the head's embed layer).
pub struct MobileNetEncoder {
    backbone: super::mobilenet::MobileNetV2,
    attnpool: AttentionPool,
    embed_w: Tensor,
    embed_b: Tensor,
}

/// Key prefix of the MobileNetV2 trunk.
pub const MOBILENET_PREFIX: &str = "visual_model.backbone.";

impl MobileNetEncoder {
    pub fn load(
        w: &WeightMap,
        config: &VisualConfig,
        embed_prefix: &str,
        embedding_dim: usize,
    ) -> Result<Self, WeightsError> {
        let out = config.output_dim as i64;
        let dim = embedding_dim as i64;
        Ok(Self {
            backbone: super::mobilenet::MobileNetV2::load(w, MOBILENET_PREFIX)?,
            attnpool: AttentionPool::load(w, config)?,
            embed_w: w.get(&format!("{embed_prefix}.weight"), &[dim, out])?,
            embed_b: w.get(&format!("{embed_prefix}.bias"), &[dim])?,
        })
    }

    pub fn forward_t(&self, images: &Tensor, train: bool) -> Tensor {
        self.head(&self.backbone.forward_t(images, train))
    }

    /// Attention pool and projection on a trunk feature map.
    pub fn head(&self, feature_map: &Tensor) -> Tensor {
        self.attnpool
            .forward(feature_map)
            .linear(&self.embed_w, Some(&self.embed_b))
    }
}

/// The visual stream, whichever trunk it has.
pub enum VisualEncoder {
    ModifiedResNet(Box<ModifiedResNet>),
    MobileNet(Box<MobileNetEncoder>),
}

impl VisualEncoder {
    pub fn load(
        w: &WeightMap,
        config: &VisualConfig,
        embed_prefix: &str,
        embedding_dim: usize,
    ) -> Result<Self, WeightsError> {
        Ok(match config.backbone {
            super::config::Backbone::ModifiedResnet => {
                let m = ModifiedResNet::load(w, config, embed_prefix, embedding_dim)?;
                Self::ModifiedResNet(Box::new(m))
            }
            super::config::Backbone::MobilenetV2 => {
                let m = MobileNetEncoder::load(w, config, embed_prefix, embedding_dim)?;
                Self::MobileNet(Box::new(m))
            }
        })
    }

    /// Raw embeddings, eval mode.
    pub fn forward(&self, images: &Tensor) -> Tensor {
        self.forward_t(images, false)
    }

    /// Raw embeddings; `train` runs BatchNorm on batch statistics.
    pub fn forward_t(&self, images: &Tensor, train: bool) -> Tensor {
        match self {
            Self::ModifiedResNet(m) => m.forward_t(images, train),
            Self::MobileNet(m) => m.forward_t(images, train),
        }
    }

    /// The convolutional trunk's feature map (what the attention pool reads).
    pub fn trunk(&self, images: &Tensor, train: bool) -> Tensor {
        match self {
            Self::ModifiedResNet(m) => m.trunk(images, train),
            Self::MobileNet(m) => m.backbone.forward_t(images, train),
        }
    }

    /// Attention pool + projection on a trunk feature map: with a frozen trunk, training
    /// can run on feature maps computed once per image.
    pub fn head(&self, feature_map: &Tensor) -> Tensor {
        match self {
            Self::ModifiedResNet(m) => m.head(feature_map),
            Self::MobileNet(m) => m.head(feature_map),
        }
    }

    /// Every stage's output (ModifiedResNet only: the stages of the reference).
    pub fn forward_stages(&self, images: &Tensor) -> Option<VisualStages> {
        match self {
            Self::ModifiedResNet(m) => Some(m.forward_stages(images)),
            Self::MobileNet(_) => None,
        }
    }
}
