//! `make bench`: speed of the TextReID encoders and of evaluation with re-ranking.
//!
//! Prints one table:
//! * image encoder (RN50 preset, 384×128) crops/s at batch 1 and 16;
//! * text encoder (RN50 preset's bi-GRU, 9409-word dictionary) latency for a 20-word sentence;
//! * rank + re-ranking over a CUHK-PEDES-sized problem (6156 captions × 3074 images),
//!   against a NumPy implementation of the same computation run on the same data in this
//!   run (`benches/rerank_numpy.py`), as a ratio.
//!
//! No RN50 weights can be had here, so the encoders run on synthetic weights of the real
//! shapes: their speed does not depend on the values. Flags: `--quick` (fewer repeats),
//! `--device cpu|cuda:N`.
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use lookout::device::DeviceChoice;
use lookout::eval::{rank, rerank_matrix, MatrixView, RerankParams};
use lookout::model::config::Preset;
use lookout::model::{l2_normalize, Pooling, TextReid, WeightMap, WordDictionary};
use tch::{Device, Kind, Tensor};

struct Row {
    what: String,
    value: String,
}

fn time_repeated(min_runs: usize, budget: Duration, mut f: impl FnMut()) -> Vec<f64> {
    f(); // warm-up
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < min_runs || (start.elapsed() < budget && times.len() < 1000) {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(|a, b| a.total_cmp(b));
    times
}

fn median(times: &[f64]) -> f64 {
    times[times.len() / 2]
}

fn sync(device: Device) {
    if let Device::Cuda(n) = device {
        tch::Cuda::synchronize(n as i64);
    }
}

fn main() -> anyhow::Result<()> {
    lookout::runtime::tune_allocator();
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let device = match args.iter().position(|a| a == "--device") {
        Some(i) => args
            .get(i + 1)
            .map(|s| s.parse::<DeviceChoice>())
            .transpose()?
            .unwrap_or_default(),
        None => DeviceChoice::Cpu,
    }
    .resolve()?;
    let budget = Duration::from_secs(if quick { 5 } else { 20 });
    let mut rows = Vec::new();
    tch::manual_seed(0);

    // Encoders on synthetic RN50-shaped weights.
    let config = Preset::Rn50.config();
    let weights = WeightMap::synthetic(device);
    let dictionary = WordDictionary::from_tensor(Tensor::randn([9409, 512], (Kind::Float, device)));
    let model = TextReid::from_parts(&weights, dictionary, config.clone(), device)?;
    for batch in [1i64, 16] {
        let images = Tensor::randn([batch, 3, 384, 128], (Kind::Float, device));
        let times = time_repeated(if quick { 1 } else { 3 }, budget, || {
            let _ = model
                .embed_images(&images, batch as usize)
                .map(|e| e.sum(Kind::Float));
            sync(device);
        });
        let per_batch = median(&times);
        rows.push(Row {
            what: format!("image encoder RN50, batch {batch} ({:?})", device),
            value: format!(
                "{:.2} crops/s ({:.1} ms/batch, {} runs)",
                batch as f64 / per_batch,
                per_batch * 1e3,
                times.len()
            ),
        });
    }
    let sentence: Vec<i64> = (0..20).map(|i| 1 + (i * 457) % 9408).collect();
    let times = time_repeated(20, Duration::from_secs(if quick { 2 } else { 5 }), || {
        let _ = model.embed_captions(std::slice::from_ref(&sentence), Pooling::PerCaption, 1);
        sync(device);
    });
    rows.push(Row {
        what: format!("text encoder, 20-word sentence ({device:?})"),
        value: format!(
            "median {:.2} ms, p90 {:.2} ms ({} runs)",
            median(&times) * 1e3,
            times[times.len() * 9 / 10] * 1e3,
            times.len()
        ),
    });

    // Rank + re-rank, CUHK-PEDES test size, on embeddings that cluster by identity.
    let (n_img, n_txt, dim) = (3074i64, 6156i64, 256i64);
    let image_pid: Vec<i64> = (0..n_img).map(|i| i / 3).collect();
    let text_pid: Vec<i64> = (0..n_txt)
        .map(|i| image_pid[(i / 2).min(n_img - 1) as usize])
        .collect();
    let centres = Tensor::randn([n_img / 3 + 1, dim], (Kind::Float, Device::Cpu));
    let pid_t = |p: &[i64]| Tensor::from_slice(p);
    let images = l2_normalize(
        &(centres.index_select(0, &pid_t(&image_pid))
            + Tensor::randn([n_img, dim], (Kind::Float, Device::Cpu)) * 2.0),
    );
    let texts = l2_normalize(
        &(centres.index_select(0, &pid_t(&text_pid))
            + Tensor::randn([n_txt, dim], (Kind::Float, Device::Cpu)) * 2.0),
    );
    let dir = std::env::temp_dir().join(format!("lookout-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    images.write_npy(dir.join("images.npy"))?;
    texts.write_npy(dir.join("texts.npy"))?;
    Tensor::from_slice(&image_pid).write_npy(dir.join("image_pid.npy"))?;
    Tensor::from_slice(&text_pid).write_npy(dir.join("text_pid.npy"))?;

    let params = RerankParams::default();
    let mut result = None;
    let times = time_repeated(if quick { 1 } else { 3 }, budget, || {
        let sim =
            Vec::<f32>::try_from(&texts.matmul(&images.tr()).flatten(0, 1)).unwrap_or_default();
        let gram =
            Vec::<f32>::try_from(&images.matmul(&images.tr()).flatten(0, 1)).unwrap_or_default();
        let qg = MatrixView::new(n_txt as usize, n_img as usize, &sim).expect("shape");
        let gg = MatrixView::new(n_img as usize, n_img as usize, &gram).expect("shape");
        let plain = rank(&qg, &text_pid, &image_pid, &[1, 5, 10]).expect("rank");
        let re = rerank_matrix(&qg, &gg, &params).expect("rerank");
        let re = rank(
            &MatrixView::new(n_txt as usize, n_img as usize, &re).expect("shape"),
            &text_pid,
            &image_pid,
            &[1, 5, 10],
        )
        .expect("rank");
        result = Some((plain, re));
    });
    let rust_s = median(&times);
    let (plain, re) = result.expect("ran at least once");

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/rerank_numpy.py");
    let py_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".deps/python");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&dir)
        .arg(if quick { "1" } else { "3" })
        .env("PYTHONPATH", &py_path)
        // This workplace sets these for old OpenBLAS builds; they slow a current NumPy.
        .env_remove("OPENBLAS_CORETYPE")
        .env_remove("OPENBLAS_L2_SIZE")
        .output();
    let numpy = match out {
        Ok(o) if o.status.success() => serde_json::from_slice::<serde_json::Value>(&o.stdout).ok(),
        Ok(o) => {
            eprintln!("numpy run failed: {}", String::from_utf8_lossy(&o.stderr));
            None
        }
        Err(e) => {
            eprintln!("cannot run python3: {e}");
            None
        }
    };
    rows.push(Row {
        what: "rank + re-rank t2i 6156×3074, Rust (2 threads)".into(),
        value: format!(
            "{:.3} s median; R1 {:.2} → re-ranked {:.2}, mAP {:.2} → {:.2}",
            rust_s, plain.cmc[0].1, re.cmc[0].1, plain.map, re.map
        ),
    });
    match numpy {
        Some(v) => {
            let np_s = v["median_s"].as_f64().unwrap_or(f64::NAN);
            rows.push(Row {
                what: "same, NumPy (vectorised: argsort + one-hot matmul Jaccard)".into(),
                value: format!(
                    "{:.3} s median; R1 {:.2} → {:.2}, mAP {:.2} → {:.2}",
                    np_s,
                    v["r1"].as_f64().unwrap_or(f64::NAN),
                    v["re_r1"].as_f64().unwrap_or(f64::NAN),
                    v["map"].as_f64().unwrap_or(f64::NAN),
                    v["re_map"].as_f64().unwrap_or(f64::NAN)
                ),
            });
            rows.push(Row {
                what: "NumPy BLAS".into(),
                value: v["blas"].as_str().unwrap_or("unknown").to_string(),
            });
            rows.push(Row {
                what: "speed-up Rust / NumPy".into(),
                value: format!("{:.1}×", np_s / rust_s),
            });
        }
        None => rows.push(Row {
            what: "NumPy comparison".into(),
            value: "not run (needs numpy in .deps/python: make deps)".into(),
        }),
    }
    std::fs::remove_dir_all(&dir).ok();

    let width = rows.iter().map(|r| r.what.len()).max().unwrap_or(10);
    println!("\n{:<width$} | result", "measurement");
    println!("{}-|-{}", "-".repeat(width), "-".repeat(60));
    for r in rows {
        println!("{:<width$} | {}", r.what, r.value);
    }
    Ok(())
}
