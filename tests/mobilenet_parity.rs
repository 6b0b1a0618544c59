//! MobileNetV2 backbone (src/model/mobilenet.rs).
//!
//! `parity_with_torchvision` compares with torchvision's `mobilenet_v2().features` on the
//! real ImageNet weights; it SKIPS (passes with a message) unless the weights were
//! prepared with `models/mobilenetv2/prepare.sh`. Its expected outputs,
//! `models/mobilenetv2/parity.safetensors`, come from `models/mobilenetv2/make_parity.py`.
//! LOOKOUT_MOBILENETV2_WEIGHTS / LOOKOUT_MOBILENETV2_PARITY override both paths.
//! The other tests use random weights and need nothing.
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use lookout::model::mobilenet::{expected_shapes, MobileNetV2};
use lookout::model::WeightMap;
use tch::{Device, Kind, Tensor};

fn path_from(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(default))
}

/// Max |a-b| and whether allclose(a, b, rtol, atol) holds.
fn compare(a: &Tensor, b: &Tensor, rtol: f64, atol: f64) -> (f64, bool) {
    assert_eq!(a.size(), b.size());
    let diff = (a - b).abs();
    let max = diff.max().double_value(&[]);
    let ok = diff
        .le_tensor(&(b.abs() * rtol + atol))
        .all()
        .int64_value(&[])
        != 0;
    (max, ok)
}

#[test]
fn parity_with_torchvision() {
    let weights = path_from(
        "LOOKOUT_MOBILENETV2_WEIGHTS",
        "models/mobilenetv2/mobilenetv2_imagenet.safetensors",
    );
    let parity = path_from(
        "LOOKOUT_MOBILENETV2_PARITY",
        "models/mobilenetv2/parity.safetensors",
    );
    for p in [&weights, &parity] {
        if !p.exists() {
            eprintln!(
                "SKIPPED parity_with_torchvision: {} is absent (run models/mobilenetv2/prepare.sh; \
                 parity file: models/mobilenetv2/make_parity.py)",
                p.display()
            );
            return;
        }
    }
    let expected = WeightMap::from_safetensors(&parity, Device::Cpu).unwrap();
    let get = |k: &str| {
        let shape = expected
            .shape(k)
            .unwrap_or_else(|| panic!("{k} missing in parity file"));
        expected.get(k, &shape).unwrap()
    };
    let x = get("input").to_kind(Kind::Float);
    let b = x.size()[0];

    let w = WeightMap::from_safetensors(&weights, Device::Cpu).unwrap();
    let net = MobileNetV2::load(&w, "").unwrap();
    assert_eq!(net.out_channels(), 1280);
    let y = tch::no_grad(|| net.forward_t(&x, false));
    assert_eq!(y.size(), [b, 1280, 12, 4]);
    let (max, ok) = compare(&y, &get("eval_out"), 1e-4, 1e-4);
    eprintln!("eval: max |diff| {max:.3e} over {b} inputs");
    assert!(ok, "eval output differs from torchvision (max {max})");

    // Train mode on fresh weights: batch statistics, running statistics updated in place.
    let w = WeightMap::from_safetensors(&weights, Device::Cpu).unwrap();
    let net = MobileNetV2::load(&w, "").unwrap();
    let y = tch::no_grad(|| net.forward_t(&x, true));
    let (max, ok) = compare(&y, &get("train_out"), 1e-4, 1e-4);
    eprintln!("train: max |diff| {max:.3e}");
    assert!(ok, "train output differs from torchvision (max {max})");
    for bn in [
        "features.0.1",
        "features.2.conv.1",
        "features.9.conv.4",
        "features.18.1",
    ] {
        for stat in ["running_mean", "running_var"] {
            let k = format!("{bn}.{stat}");
            let got = w.get(&k, &w.shape(&k).unwrap()).unwrap();
            let (max, ok) = compare(&got, &get(&format!("train.{k}")), 1e-4, 1e-5);
            eprintln!("train: {k} max |diff| {max:.3e}");
            assert!(ok, "{k} after one train step differs (max {max})");
        }
        let k = format!("{bn}.num_batches_tracked");
        let got = w.get(&k, &[]).unwrap().int64_value(&[]);
        assert_eq!(got, get(&format!("train.{k}")).int64_value(&[]), "{k}");
    }
}

fn random_weights(prefix: &str) -> WeightMap {
    tch::manual_seed(0);
    let mut map = HashMap::new();
    for (k, shape) in expected_shapes(prefix) {
        let t = if k.ends_with("running_var") {
            Tensor::rand(&shape, (Kind::Float, Device::Cpu)) + 0.5
        } else if k.ends_with("running_mean") || k.ends_with(".bias") {
            Tensor::randn(&shape, (Kind::Float, Device::Cpu)) * 0.1
        } else if k.ends_with(".weight") && shape.len() == 1 {
            Tensor::rand(&shape, (Kind::Float, Device::Cpu)) + 0.5
        } else {
            let fan_in: i64 = shape[1..].iter().product();
            Tensor::randn(&shape, (Kind::Float, Device::Cpu)) * (2.0 / fan_in as f64).sqrt()
        };
        map.insert(k, t);
    }
    WeightMap::from_tensors(map, BTreeMap::new(), "random")
}

#[test]
fn shapes_and_missing_keys() {
    let w = random_weights("visual_model.backbone.");
    let net = MobileNetV2::load(&w, "visual_model.backbone.").unwrap();
    let x = Tensor::randn([2, 3, 384, 128], (Kind::Float, Device::Cpu));
    assert_eq!(net.forward_t(&x, false).size(), [2, 1280, 12, 4]);
    // Sizes that are not multiples of 32 round up, as torch's convs do.
    let x = Tensor::randn([1, 3, 100, 70], (Kind::Float, Device::Cpu));
    assert_eq!(net.forward_t(&x, false).size(), [1, 1280, 4, 3]);
    // Without the prefix every key is missing; the error names the key.
    let e = MobileNetV2::load(&w, "").err().unwrap().to_string();
    assert!(
        e.contains("`features.0.0.weight`") && e.contains("[32, 3, 3, 3]"),
        "{e}"
    );
}

#[test]
fn train_mode_updates_running_stats_in_place_and_trains_the_map() {
    let w = random_weights("");
    for (k, _) in expected_shapes("") {
        if !k.contains("running_") {
            let _ = w
                .get(&k, &w.shape(&k).unwrap())
                .unwrap()
                .set_requires_grad(true);
        }
    }
    let net = MobileNetV2::load(&w, "").unwrap();
    let key = "features.2.conv.1.running_mean";
    let before = w.get(key, &[96]).unwrap().copy();
    let x = Tensor::randn([2, 3, 128, 64], (Kind::Float, Device::Cpu));
    let y = net.forward_t(&x, true);
    // torch: running = 0.9 running + 0.1 batch mean (checked against torchvision above).
    let after = w.get(key, &[96]).unwrap();
    assert!((&after - &before).abs().max().double_value(&[]) > 1e-6);
    y.mean(Kind::Float).backward();
    for k in [
        "features.0.0.weight",
        "features.9.conv.3.weight",
        "features.18.1.bias",
    ] {
        let g = w.get(k, &w.shape(k).unwrap()).unwrap().grad();
        assert!(g.defined(), "{k} has no gradient");
        assert!(
            g.abs().sum(Kind::Float).double_value(&[]) > 0.0,
            "{k}: zero gradient"
        );
    }
    // Eval mode leaves the running statistics alone.
    let snapshot = after.copy();
    let _ = tch::no_grad(|| net.forward_t(&x, false));
    assert!(w.get(key, &[96]).unwrap().equal(&snapshot));
}
