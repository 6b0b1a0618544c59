//! Adam as torch implements it (coupled L2 weight decay, bias-corrected moments), one
//! learning rate and decay per tensor, with a state that checkpoints and resumes exactly.
use std::collections::BTreeMap;

use tch::{Kind, Tensor};

pub struct Adam {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Steps taken (shared by all tensors: every parameter gets a gradient each step).
    pub step: i64,
    exp_avg: BTreeMap<String, Tensor>,
    exp_avg_sq: BTreeMap<String, Tensor>,
}

impl Default for Adam {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            step: 0,
            exp_avg: BTreeMap::new(),
            exp_avg_sq: BTreeMap::new(),
        }
    }
}

impl Adam {
    /// One update of every parameter that has a gradient; `hyper(name)` gives (lr, wd).
    pub fn step(&mut self, params: &[(String, Tensor)], hyper: &dyn Fn(&str) -> (f64, f64)) {
        self.step += 1;
        let bc1 = 1.0 - self.beta1.powi(self.step as i32);
        let bc2 = 1.0 - self.beta2.powi(self.step as i32);
        tch::no_grad(|| {
            for (name, p) in params {
                let grad = p.grad();
                if !grad.defined() {
                    continue;
                }
                let (lr, wd) = hyper(name);
                let g = if wd != 0.0 {
                    &grad + p.detach() * wd
                } else {
                    grad.shallow_clone()
                };
                let m = self
                    .exp_avg
                    .entry(name.clone())
                    .or_insert_with(|| p.zeros_like().to_kind(Kind::Float));
                let _ = m
                    .g_mul_scalar_(self.beta1)
                    .g_add_(&(&g * (1.0 - self.beta1)));
                let v = self
                    .exp_avg_sq
                    .entry(name.clone())
                    .or_insert_with(|| p.zeros_like().to_kind(Kind::Float));
                let _ = v
                    .g_mul_scalar_(self.beta2)
                    .g_add_(&(&g * &g * (1.0 - self.beta2)));
                let denom = v.sqrt() / bc2.sqrt() + self.eps;
                let update = &*m / denom * (lr / bc1);
                let mut p = p.shallow_clone();
                let _ = p.g_sub_(&update);
            }
        });
    }

    /// The moment tensors, for checkpoints (`adam.m.<name>`, `adam.v.<name>`).
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let m = self
            .exp_avg
            .iter()
            .map(|(k, t)| (format!("adam.m.{k}"), t.shallow_clone()));
        let v = self
            .exp_avg_sq
            .iter()
            .map(|(k, t)| (format!("adam.v.{k}"), t.shallow_clone()));
        m.chain(v).collect()
    }

    pub fn restore(&mut self, step: i64, tensors: &[(String, Tensor)]) {
        self.step = step;
        for (k, t) in tensors {
            if let Some(name) = k.strip_prefix("adam.m.") {
                self.exp_avg.insert(name.to_string(), t.shallow_clone());
            } else if let Some(name) = k.strip_prefix("adam.v.") {
                self.exp_avg_sq.insert(name.to_string(), t.shallow_clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two steps on f(x) = x² from x = 1 with lr 0.1.
    #[test]
    fn matches_torch_adam_on_a_parabola() {
        let x = Tensor::from_slice(&[1.0f32]).set_requires_grad(true);
        let params = vec![("x".to_string(), x.shallow_clone())];
        let mut adam = Adam::default();
        for _ in 0..2 {
            let loss = (&x * &x).sum(Kind::Float);
            x.shallow_clone().zero_grad();
            loss.backward();
            adam.step(&params, &|_| (0.1, 0.0));
        }
        let v = f64::try_from(&x).unwrap();
        // Step 1 moves by lr exactly; step 2 by lr·m̂/√v̂ with g = 1.8 (worked by hand: 0.8004122).
        assert!((v - 0.800_412_2).abs() < 1e-6, "{v}");
    }
}
