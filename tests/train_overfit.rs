//! A model can fit one batch: repeated Adam steps on the same batch drive the identity
//! loss and the contrastive losses down, so gradients reach every stage.
use lookout::model::config::{Backbone, HeadKind, ModelConfig, TextualConfig, VisualConfig};
use lookout::model::{Pooling, WeightMap};
use lookout::train::optim::Adam;
use lookout::train::{build, LossConfig, TrainSetup};
use tch::{Device, Kind, Tensor};

#[test]
fn repeated_steps_on_one_batch_fit_it() {
    tch::manual_seed(0);
    let config = ModelConfig {
        visual: VisualConfig {
            backbone: Backbone::ModifiedResnet,
            layers: [1, 1, 1, 1],
            width: 8,
            heads: 2,
            output_dim: 32,
            last_stride: 1,
            input_resolution: [64, 32],
        },
        textual: TextualConfig {
            word_dim: 16,
            hidden: 16,
            max_words: 105,
        },
        embedding_dim: 32,
        head: HeadKind::Moco,
        version: String::new(),
    };
    let setup = TrainSetup {
        config,
        classes: 4,
        queue_size: 16,
        loss: LossConfig::default(),
        pooling: Pooling::PerCaption,
    };
    let weights = WeightMap::synthetic(Device::Cpu);
    let dictionary = Tensor::randn([20, 16], (Kind::Float, Device::Cpu));
    let mut t = build(&weights, &dictionary, &setup, Device::Cpu).unwrap();
    let images = Tensor::randn([8, 3, 64, 32], (Kind::Float, Device::Cpu));
    let captions: Vec<Vec<i64>> = (0..8)
        .map(|i| vec![1 + (i / 2) as i64, 5 + (i / 2) as i64, 9])
        .collect();
    let ids = Tensor::from_slice(&[0i64, 0, 1, 1, 2, 2, 3, 3]);
    let mut adam = Adam::default();
    let mut history = Vec::new();
    for _ in 0..40 {
        let losses = t.model.forward(&images, &captions, &ids).unwrap();
        let total = losses.total();
        for (_, p) in &t.params {
            p.shallow_clone().zero_grad();
        }
        total.backward();
        adam.step(&t.params, &|_| (1e-3, 0.0));
        history.push((
            f64::try_from(&losses.instance).unwrap(),
            f64::try_from(&losses.align).unwrap(),
            f64::try_from(&total).unwrap(),
        ));
    }
    eprintln!("{history:?}");
    let (first, last) = (history[0], history[history.len() - 1]);
    assert!(
        last.0 < first.0 * 0.5,
        "identity loss {} → {}",
        first.0,
        last.0
    );
    assert!(
        last.1 < first.1 * 0.5,
        "alignment loss {} → {}",
        first.1,
        last.1
    );
}
