//! The reference's per-epoch learning-rate schedule (`LRSchedulerWithWarmup`, linear
//! warm-up, step decay) and its parameter groups (biases: twice the rate, no decay).
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// `SOLVER.BASE_LR`.
    pub base_lr: f64,
    /// `SOLVER.WEIGHT_DECAY` (coupled L2, as torch's Adam applies it).
    pub weight_decay: f64,
    /// Learning-rate factor for parameters whose name contains "bias".
    pub bias_lr_factor: f64,
    pub weight_decay_bias: f64,
    /// Warm-up epochs and the factor the warm-up starts from.
    pub warmup_epochs: usize,
    pub warmup_factor: f64,
    /// Epochs after which the rate is multiplied by `gamma`.
    pub milestones: Vec<usize>,
    pub gamma: f64,
    pub epochs: usize,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            base_lr: 1e-4,
            weight_decay: 4e-5,
            bias_lr_factor: 2.0,
            weight_decay_bias: 0.0,
            warmup_epochs: 5,
            warmup_factor: 0.1,
            milestones: vec![40, 70],
            gamma: 0.1,
            epochs: 80,
        }
    }
}

impl ScheduleConfig {
    /// The multiplier of the base rate during `epoch` (counting from 1).
    pub fn factor(&self, epoch: usize) -> f64 {
        let e = epoch.max(1) - 1; // epochs completed before this one
        if e < self.warmup_epochs {
            let alpha = e as f64 / self.warmup_epochs as f64;
            return self.warmup_factor * (1.0 - alpha) + alpha;
        }
        let passed = self.milestones.iter().filter(|&&m| m <= e).count();
        self.gamma.powi(passed as i32)
    }

    /// (learning rate, weight decay) of the parameter `name` during `epoch`.
    pub fn group(&self, name: &str, epoch: usize) -> (f64, f64) {
        let lr = self.base_lr * self.factor(epoch);
        if name.contains("bias") {
            (lr * self.bias_lr_factor, self.weight_decay_bias)
        } else {
            (lr, self.weight_decay)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_steps() {
        let s = ScheduleConfig::default();
        let f: Vec<f64> = [1, 2, 5, 6, 40, 41, 70, 71, 80]
            .iter()
            .map(|&e| s.factor(e))
            .collect();
        let expected = [0.1, 0.28, 0.82, 1.0, 1.0, 0.1, 0.1, 0.01, 0.01];
        for (a, b) in f.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{f:?}");
        }
        assert_eq!(s.group("x.bias", 6), (2e-4, 0.0));
        assert_eq!(s.group("x.weight", 6), (1e-4, 4e-5));
    }
}
