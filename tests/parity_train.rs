//! Parity of CM-MoCo training with the reference's two training-mode forwards
//! (`train_step{0,1}.npz`, `train_meta.json`): the three losses, the queues, the queue
//! pointer and identity queue, the momentum-updated key encoder and the BatchNorm
//! running mean; and of the optimiser's parameter groups and schedule
//! (`optimizer_schedule.json`).
mod common;

use lookout::model::{resolve_config, Pooling, WeightMap};
use lookout::train::schedule::ScheduleConfig;
use lookout::train::{build, LossConfig, TrainSetup};
use tch::{Device, Kind, Tensor};

fn json(dir: &std::path::Path, name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
}

fn setup_for(weights: &WeightMap) -> TrainSetup {
    let config = resolve_config(weights, None).unwrap();
    let classes = weights
        .shape("embed_model.loss_evaluator.projection")
        .unwrap()[1];
    let queue_size = weights.shape("embed_model.v_queue").unwrap()[1];
    TrainSetup {
        config,
        classes,
        queue_size,
        loss: LossConfig::default(),
        pooling: Pooling::Batch,
    }
}

#[test]
fn two_cm_moco_steps_match_reference() {
    let Some(dir) = common::reference_or_skip("two_cm_moco_steps_match_reference") else {
        return;
    };
    let fx = common::read_npz(dir.join("inference.npz"));
    let meta = json(&dir, "train_meta.json");
    let weights =
        WeightMap::from_safetensors(&dir.join("ref_weights.safetensors"), Device::Cpu).unwrap();
    let dictionary = Tensor::read_npy(dir.join("vocab_dict.npy"))
        .unwrap()
        .to_kind(Kind::Float);
    let mut trainable = build(&weights, &dictionary, &setup_for(&weights), Device::Cpu).unwrap();
    let lengths = Vec::<i64>::try_from(&fx["text_lengths"].to_kind(Kind::Int64)).unwrap();
    let image_of = Vec::<i64>::try_from(&fx["pair_image_index"].to_kind(Kind::Int64)).unwrap();
    for (step, step_meta) in meta["steps"].as_array().unwrap().iter().enumerate() {
        let pairs: Vec<i64> = step_meta["pair_indices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let ids: Vec<i64> = step_meta["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let image_idx: Vec<i64> = pairs.iter().map(|&p| image_of[p as usize]).collect();
        let images = fx["images"].index_select(0, &Tensor::from_slice(&image_idx));
        let captions: Vec<Vec<i64>> = pairs
            .iter()
            .map(|&p| {
                Vec::<i64>::try_from(&fx["text_tokens_padded"].get(p).narrow(
                    0,
                    0,
                    lengths[p as usize],
                ))
                .unwrap()
            })
            .collect();
        let losses = trainable
            .model
            .forward(&images, &captions, &Tensor::from_slice(&ids))
            .unwrap();
        let expected = &step_meta["losses"];
        for (name, got) in [
            ("instance_loss", &losses.instance),
            ("infonce_loss", losses.infonce.as_ref().unwrap()),
            ("global_align_loss", &losses.align),
        ] {
            let got = f64::try_from(got).unwrap();
            let want = expected[name].as_f64().unwrap();
            assert!(
                (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                "step {step} {name}: {got} vs {want}"
            );
            eprintln!("step {step} {name}: {got:.6} (reference {want:.6})");
        }
        let stored = common::read_npz(dir.join(format!("train_step{step}.npz")));
        let queues = trainable.model.queues.as_ref().unwrap();
        assert_eq!(queues.ptr, step_meta["queue_ptr_after"].as_i64().unwrap());
        let id_queue = Vec::<i64>::try_from(&queues.ids.flatten(0, 1)).unwrap();
        let want_ids: Vec<i64> = step_meta["id_queue_after"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(id_queue, want_ids, "step {step} id_queue");
        common::assert_close(
            "v_queue",
            &queues.image,
            &stored["v_queue_after"],
            1e-4,
            1e-5,
        );
        common::assert_close(
            "t_queue",
            &queues.text,
            &stored["t_queue_after"],
            1e-4,
            1e-5,
        );
        let bn1 = weights
            .get(
                "visual_model.bn1.running_mean",
                &[stored["bn1_running_mean_after"].size()[0]],
            )
            .unwrap();
        common::assert_close(
            "bn1.running_mean",
            &bn1,
            &stored["bn1_running_mean_after"],
            1e-4,
            1e-5,
        );
        let key = trainable.model.key.as_ref().unwrap();
        let k_conv1 = &key
            .pairs
            .iter()
            .find(|(_, q)| q.size() == stored["k_conv1_after"].size() && q.dim() == 4)
            .unwrap()
            .0;
        common::assert_close(
            "key conv1.weight",
            k_conv1,
            &stored["k_conv1_after"],
            1e-5,
            1e-7,
        );
    }
}

#[test]
fn parameter_groups_and_schedule_match_reference() {
    let Some(dir) = common::reference_or_skip("parameter_groups_and_schedule_match_reference")
    else {
        return;
    };
    let reference = json(&dir, "optimizer_schedule.json");
    let weights =
        WeightMap::from_safetensors(&dir.join("ref_weights.safetensors"), Device::Cpu).unwrap();
    let dictionary = Tensor::read_npy(dir.join("vocab_dict.npy"))
        .unwrap()
        .to_kind(Kind::Float);
    let trainable = build(&weights, &dictionary, &setup_for(&weights), Device::Cpu).unwrap();
    let schedule = ScheduleConfig::default();
    let mut ours: Vec<(String, f64, f64)> = trainable
        .params
        .iter()
        .map(|(name, _)| {
            let (lr, wd) = schedule.group(name, 6);
            (name.clone(), lr, wd)
        })
        .collect();
    let mut theirs: Vec<(String, f64, f64)> = reference["param_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap().to_string(),
                g["lr"].as_f64().unwrap(),
                g["weight_decay"].as_f64().unwrap(),
            )
        })
        .collect();
    ours.sort_by(|a, b| a.0.cmp(&b.0));
    theirs.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(ours.len(), theirs.len(), "one group per trainable tensor");
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a.0, b.0);
        assert!(
            (a.1 - b.1).abs() < 1e-15 && (a.2 - b.2).abs() < 1e-15,
            "{a:?} vs {b:?}"
        );
    }
    for entry in reference["lr_per_epoch"].as_array().unwrap() {
        let epoch = entry["epoch"].as_u64().unwrap() as usize;
        let want = entry["lr_weight"].as_f64().unwrap();
        let got = schedule.group("w", epoch).0;
        assert!((got - want).abs() < 1e-15, "epoch {epoch}: {got} vs {want}");
    }
}
