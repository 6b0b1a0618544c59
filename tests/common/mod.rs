//! Shared helpers of the integration tests: where the TextReID parity fixture is, and
//! reading its arrays.
#![allow(dead_code)]
use std::collections::HashMap;
use std::path::PathBuf;

use tch::Tensor;

/// The fixture folder: `LOOKOUT_REFERENCE_DIR`, or `../shared/reference/textreid`.
pub fn reference_dir() -> PathBuf {
    match std::env::var_os("LOOKOUT_REFERENCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/textreid"),
    }
}

/// The fixture, or `None` with a message saying why the test is skipped.
pub fn reference_or_skip(test: &str) -> Option<PathBuf> {
    let dir = reference_dir();
    if dir.join("ref_weights.safetensors").is_file() && dir.join("inference.npz").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: the TextReID parity fixture is not at {} (set LOOKOUT_REFERENCE_DIR)",
            dir.display()
        );
        None
    }
}

/// The devices to check: the CPU always, CUDA device 0 when libtorch sees one.
pub fn devices() -> Vec<tch::Device> {
    let mut devices = vec![tch::Device::Cpu];
    if tch::Cuda::is_available() {
        devices.push(tch::Device::Cuda(0));
    } else {
        eprintln!("CUDA parity SKIPPED: libtorch sees no CUDA device (build with --features cuda on a GPU machine)");
    }
    devices
}

pub fn read_npz(path: PathBuf) -> HashMap<String, Tensor> {
    Tensor::read_npz(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .into_iter()
        .collect()
}

/// Max |a - b| and whether `allclose(a, b, rtol, atol)` holds.
pub fn assert_close(name: &str, actual: &Tensor, expected: &Tensor, rtol: f64, atol: f64) {
    let a = actual
        .to_kind(tch::Kind::Double)
        .to_device(tch::Device::Cpu);
    let e = expected.to_kind(tch::Kind::Double);
    assert_eq!(a.size(), e.size(), "{name}: shape");
    let diff = (&a - &e).abs();
    let bound = e.abs() * rtol + atol;
    let worst = f64::try_from((&diff - &bound).max()).unwrap();
    let max_diff = f64::try_from(diff.max()).unwrap();
    assert!(
        worst <= 0.0,
        "{name}: not allclose(rtol={rtol}, atol={atol}); max |diff| = {max_diff:e}"
    );
    eprintln!("{name}: max |diff| = {max_diff:.3e}");
}

/// A fresh folder under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("lookout-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
