//! A small interpreter for TensorFlow.js graph models (`model.json` + weight shards), built on
//! libtorch through tch.
//!
//! It runs the graph's nodes with torch operations, so that running it under the JIT tracer
//! yields a TorchScript module with the same arithmetic. Only the operations that TF.js
//! converters emit for plain convolutional detectors are implemented; any other operation is
//! reported by name rather than guessed at. Integer tensors (shapes, permutations, paddings)
//! are folded while the graph is read, so the traced module holds float arithmetic only.
use std::collections::HashMap;
use std::path::Path;

use anyhow::{anyhow, bail, ensure, Context, Result};
use serde_json::Value as Json;
use tch::{Kind, Tensor};

/// A value flowing along a graph edge.
#[derive(Debug)]
pub enum Value {
    /// A float tensor, computed by torch (and traced).
    Float(Tensor),
    /// A small integer tensor, known while the graph is read: its elements (row-major) and shape.
    Int { data: Vec<i64>, shape: Vec<i64> },
}

impl Value {
    fn float(&self, what: &str) -> Result<&Tensor> {
        match self {
            Value::Float(t) => Ok(t),
            Value::Int { .. } => bail!("{what}: expected a float tensor, got an integer one"),
        }
    }

    fn ints(&self, what: &str) -> Result<&[i64]> {
        match self {
            Value::Int { data, .. } => Ok(data),
            Value::Float(_) => bail!("{what}: expected a constant integer tensor, got a float one"),
        }
    }

    fn shallow_clone(&self) -> Value {
        match self {
            Value::Float(t) => Value::Float(t.shallow_clone()),
            Value::Int { data, shape } => Value::Int {
                data: data.clone(),
                shape: shape.clone(),
            },
        }
    }
}

/// One node of the graph, as the converter wrote it.
#[derive(Debug)]
struct Node {
    op: String,
    /// `(producer node, output index)`; control inputs (`^name`) are dropped.
    inputs: Vec<(String, usize)>,
    attr: Json,
}

/// A loaded TF.js graph model: nodes, constant weights and the signature's names.
pub struct TfjsGraph {
    nodes: HashMap<String, Node>,
    constants: HashMap<String, Value>,
    /// Placeholder names, in signature order.
    pub inputs: Vec<String>,
    /// Output node names (without `:0`), in signature order.
    pub outputs: Vec<String>,
}

fn parse_edge(name: &str) -> (String, usize) {
    match name.rsplit_once(':') {
        Some((node, index)) if index.chars().all(|c| c.is_ascii_digit()) && !index.is_empty() => {
            (node.to_string(), index.parse().unwrap_or(0))
        }
        _ => (name.to_string(), 0),
    }
}

fn json_dims(shape: &Json) -> Result<Vec<i64>> {
    shape
        .as_array()
        .ok_or_else(|| anyhow!("weight shape is not a list"))?
        .iter()
        .map(|d| {
            d.as_i64()
                .ok_or_else(|| anyhow!("weight dimension is not an integer"))
        })
        .collect()
}

impl TfjsGraph {
    /// Reads `model.json` and its weight shards (looked up beside it, as `paths` says).
    pub fn load(model_json: &Path) -> Result<TfjsGraph> {
        let text = std::fs::read_to_string(model_json)
            .with_context(|| format!("reading {}", model_json.display()))?;
        let model: Json = serde_json::from_str(&text)
            .with_context(|| format!("parsing {} as JSON", model_json.display()))?;
        ensure!(
            model["format"] == "graph-model",
            "{} is not a TF.js graph model (format {})",
            model_json.display(),
            model["format"]
        );
        let dir = model_json.parent().unwrap_or(Path::new("."));

        let mut nodes = HashMap::new();
        let node_list = model["modelTopology"]["node"]
            .as_array()
            .ok_or_else(|| anyhow!("modelTopology.node is missing"))?;
        for n in node_list {
            let name = n["name"]
                .as_str()
                .ok_or_else(|| anyhow!("node without name"))?;
            let op = n["op"]
                .as_str()
                .ok_or_else(|| anyhow!("node {name} without op"))?;
            let inputs = n["input"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|i| i.as_str())
                        .filter(|i| !i.starts_with('^'))
                        .map(parse_edge)
                        .collect()
                })
                .unwrap_or_default();
            let node = Node {
                op: op.to_string(),
                inputs,
                attr: n["attr"].clone(),
            };
            nodes.insert(name.to_string(), node);
        }

        let mut constants = HashMap::new();
        let manifest = model["weightsManifest"]
            .as_array()
            .ok_or_else(|| anyhow!("weightsManifest is missing"))?;
        for group in manifest {
            let mut bytes = Vec::new();
            for path in group["paths"].as_array().into_iter().flatten() {
                let path = dir.join(path.as_str().unwrap_or_default());
                let shard =
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                bytes.extend_from_slice(&shard);
            }
            let mut offset = 0usize;
            for spec in group["weights"].as_array().into_iter().flatten() {
                let name = spec["name"]
                    .as_str()
                    .ok_or_else(|| anyhow!("weight without name"))?;
                let shape = json_dims(&spec["shape"])?;
                let (value, used) =
                    decode_weight(name, spec, &shape, &bytes[offset.min(bytes.len())..])?;
                offset += used;
                constants.insert(name.to_string(), value);
            }
            ensure!(
                offset == bytes.len(),
                "weight shards hold {} bytes, the manifest describes {offset}",
                bytes.len()
            );
        }

        let signature = &model["signature"];
        let inputs = signature["inputs"]
            .as_object()
            .map(|m| m.keys().map(|k| parse_edge(k).0).collect())
            .unwrap_or_default();
        let outputs = signature["outputs"]
            .as_object()
            .map(|m| m.keys().map(|k| parse_edge(k).0).collect())
            .unwrap_or_default();
        Ok(TfjsGraph {
            nodes,
            constants,
            inputs,
            outputs,
        })
    }

    /// The declared shape of placeholder `name` (`-1` for an unknown dimension).
    pub fn placeholder_shape(&self, name: &str) -> Option<Vec<i64>> {
        let node = self.nodes.get(name).filter(|n| n.op == "Placeholder")?;
        node.attr["shape"]["shape"]["dim"]
            .as_array()?
            .iter()
            .map(|d| d["size"].as_str().and_then(|s| s.parse().ok()).or(Some(-1)))
            .collect()
    }

    /// Runs the graph on `feeds` (placeholder name → tensor) and returns the named outputs.
    pub fn run(&self, feeds: &HashMap<String, Tensor>, outputs: &[String]) -> Result<Vec<Tensor>> {
        let mut memo: HashMap<String, Vec<Value>> = HashMap::new();
        outputs
            .iter()
            .map(|name| {
                let values = self.eval(name, feeds, &mut memo, 0)?;
                let first = values
                    .first()
                    .ok_or_else(|| anyhow!("output {name} produced nothing"))?;
                Ok(first.float(name)?.shallow_clone())
            })
            .collect()
    }

    fn eval(
        &self,
        name: &str,
        feeds: &HashMap<String, Tensor>,
        memo: &mut HashMap<String, Vec<Value>>,
        depth: usize,
    ) -> Result<Vec<Value>> {
        if let Some(v) = memo.get(name) {
            return Ok(v.iter().map(Value::shallow_clone).collect());
        }
        ensure!(
            depth < 10_000,
            "graph nesting too deep at {name} (a cycle?)"
        );
        let node = self
            .nodes
            .get(name)
            .ok_or_else(|| anyhow!("node {name} is referenced but not defined"))?;
        let mut args = Vec::with_capacity(node.inputs.len());
        for (producer, index) in &node.inputs {
            let mut produced = self.eval(producer, feeds, memo, depth + 1)?;
            ensure!(
                *index < produced.len(),
                "{name} reads output {index} of {producer}, which has {}",
                produced.len()
            );
            args.push(produced.swap_remove(*index));
        }
        let result = self
            .apply(name, node, args, feeds)
            .with_context(|| format!("node {name} ({})", node.op))?;
        memo.insert(
            name.to_string(),
            result.iter().map(Value::shallow_clone).collect(),
        );
        Ok(result)
    }

    fn apply(
        &self,
        name: &str,
        node: &Node,
        args: Vec<Value>,
        feeds: &HashMap<String, Tensor>,
    ) -> Result<Vec<Value>> {
        let arg = |i: usize| -> Result<&Value> {
            args.get(i)
                .ok_or_else(|| anyhow!("missing input {i} (has {})", args.len()))
        };
        let attr = &node.attr;
        let out = match node.op.as_str() {
            "Placeholder" => Value::Float(
                feeds
                    .get(name)
                    .ok_or_else(|| anyhow!("no tensor fed for placeholder {name}"))?
                    .shallow_clone(),
            ),
            "Const" => self
                .constants
                .get(name)
                .ok_or_else(|| anyhow!("constant {name} has no weight in the manifest"))?
                .shallow_clone(),
            "Identity" => arg(0)?.shallow_clone(),
            "Transpose" => {
                let perm = arg(1)?.ints("perm")?;
                Value::Float(arg(0)?.float("x")?.f_permute(perm)?)
            }
            "Pad" | "PadV2" => {
                let x = arg(0)?.float("x")?;
                let pads = arg(1)?.ints("paddings")?;
                ensure!(
                    pads.len() == 2 * x.dim(),
                    "paddings {pads:?} for a {}-d tensor",
                    x.dim()
                );
                // torch lists (before, after) pairs from the last dimension backwards.
                let torch_pads: Vec<i64> = pads.chunks(2).rev().flatten().copied().collect();
                let fill = if node.op == "PadV2" {
                    arg(2)?.float("constant_values")?.f_double_value(&[])?
                } else {
                    0.0
                };
                Value::Float(x.f_pad(torch_pads, "constant", fill)?)
            }
            "Conv2D" | "DepthwiseConv2dNative" | "FusedConv2D" | "FusedDepthwiseConv2dNative" => {
                let depthwise = node.op.contains("Depthwise");
                let x = arg(0)?.float("x")?;
                let filter = arg(1)?.float("filter")?;
                let mut y = conv2d(x, filter, attr, depthwise)?;
                if node.op.starts_with("Fused") {
                    y = apply_fused_ops(y, attr, &args[2..])?;
                }
                Value::Float(y)
            }
            "BiasAdd" => {
                let nchw = attr_str(attr, "data_format").as_deref() == Some("NCHW");
                let x = arg(0)?.float("x")?;
                let b = arg(1)?.float("bias")?;
                let b = if nchw {
                    b.f_reshape([-1, 1, 1])?
                } else {
                    b.shallow_clone()
                };
                Value::Float(x.f_add(&b)?)
            }
            "Add" | "AddV2" | "Sub" | "Mul" | "RealDiv" => binary(&node.op, arg(0)?, arg(1)?)?,
            "Relu" => Value::Float(arg(0)?.float("x")?.f_relu()?),
            "Relu6" => Value::Float(arg(0)?.float("x")?.f_clamp(0.0, 6.0)?),
            "LeakyRelu" => {
                let alpha = attr["alpha"]["f"].as_f64().unwrap_or(0.2);
                ensure!(
                    (0.0..=1.0).contains(&alpha),
                    "LeakyRelu alpha {alpha} outside [0, 1]"
                );
                let x = arg(0)?.float("x")?;
                // max(x, αx) is TF's own definition for α ≤ 1.
                Value::Float(x.f_maximum(&(x * alpha))?)
            }
            "Sigmoid" => Value::Float(arg(0)?.float("x")?.f_sigmoid()?),
            "MaxPool" => {
                let x = arg(0)?.float("x")?;
                Value::Float(max_pool(x, attr)?)
            }
            "ConcatV2" => {
                let (axis_value, parts) = args
                    .split_last()
                    .ok_or_else(|| anyhow!("ConcatV2 without inputs"))?;
                let axis = single_int(axis_value, "axis")?;
                let tensors = parts
                    .iter()
                    .map(|v| v.float("concat input"))
                    .collect::<Result<Vec<_>>>()?;
                Value::Float(Tensor::f_cat(&tensors, axis)?)
            }
            "SplitV" => {
                let x = arg(0)?.float("x")?;
                let sizes = arg(1)?.ints("size_splits")?;
                let axis = single_int(arg(2)?, "split_dim")?;
                ensure!(
                    !sizes.contains(&-1),
                    "SplitV with an inferred size is not supported"
                );
                let parts = x.f_split_with_sizes(sizes, axis)?;
                return Ok(parts.into_iter().map(Value::Float).collect());
            }
            "Reshape" => {
                let x = arg(0)?.float("x")?;
                let shape = arg(1)?.ints("shape")?;
                Value::Float(batch_generic_reshape(x, shape)?)
            }
            "ResizeBilinear" | "ResizeNearestNeighbor" => {
                let x = arg(0)?.float("images")?;
                let size = arg(1)?.ints("size")?;
                Value::Float(resize(x, size, &node.op, attr)?)
            }
            "SparseToDense" => sparse_to_dense(arg(0)?, arg(1)?, arg(2)?, arg(3)?)?,
            other => bail!("operation {other} is not supported by this converter"),
        };
        Ok(vec![out])
    }
}

/// Decodes one weight of a shard: returns the value and the bytes it took.
fn decode_weight(name: &str, spec: &Json, shape: &[i64], bytes: &[u8]) -> Result<(Value, usize)> {
    let numel: i64 = shape.iter().product();
    let numel =
        usize::try_from(numel).with_context(|| format!("weight {name} has shape {shape:?}"))?;
    let dtype = spec["dtype"].as_str().unwrap_or("float32");
    let quantized = spec["quantization"]["dtype"].as_str();
    let take = |width: usize| -> Result<&[u8]> {
        bytes
            .get(..numel * width)
            .ok_or_else(|| anyhow!("weight shard ends inside weight {name}"))
    };
    match (dtype, quantized) {
        ("float32", Some("float16")) => {
            let raw = take(2)?;
            let half = Tensor::f_from_data_size(raw, shape, Kind::Half)?;
            Ok((Value::Float(half.f_to_kind(Kind::Float)?), numel * 2))
        }
        ("float32", None) => {
            let raw = take(4)?;
            Ok((
                Value::Float(Tensor::f_from_data_size(raw, shape, Kind::Float)?),
                numel * 4,
            ))
        }
        ("int32", None) => {
            // TF.js stores int64 constants as int32 too.
            let raw = take(4)?;
            let data = raw
                .chunks_exact(4)
                .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect();
            Ok((
                Value::Int {
                    data,
                    shape: shape.to_vec(),
                },
                numel * 4,
            ))
        }
        (d, q) => bail!("weight {name}: dtype {d} with quantization {q:?} is not supported"),
    }
}

fn attr_str(attr: &Json, key: &str) -> Option<String> {
    use std::io::Read;
    // Strings in graph-model attributes are base64-encoded bytes.
    let encoded = attr[key]["s"].as_str()?;
    let decoded = base64_decode(encoded)?;
    let mut s = String::new();
    decoded.as_slice().read_to_string(&mut s).ok()?;
    Some(s)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        buffer = (buffer << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn attr_ints(attr: &Json, key: &str) -> Vec<i64> {
    attr[key]["list"]["i"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| {
                    v.as_str()
                        .and_then(|s| s.parse().ok())
                        .or_else(|| v.as_i64())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn single_int(v: &Value, what: &str) -> Result<i64> {
    match v.ints(what)? {
        [x] => Ok(*x),
        other => bail!("{what}: expected one integer, got {other:?}"),
    }
}

/// `(height, width)` entries of a 4-element NHWC or NCHW attribute list.
fn spatial(list: &[i64], nchw: bool, what: &str) -> Result<[i64; 2]> {
    ensure!(list.len() == 4, "{what} {list:?} is not a 4-element list");
    Ok(if nchw {
        [list[2], list[3]]
    } else {
        [list[1], list[2]]
    })
}

/// TF's SAME padding for one dimension: (before, after).
fn same_padding(input: i64, kernel: i64, stride: i64, dilation: i64) -> (i64, i64) {
    let effective = (kernel - 1) * dilation + 1;
    let out = (input + stride - 1) / stride;
    let total = ((out - 1) * stride + effective - input).max(0);
    (total / 2, total - total / 2)
}

/// TF convolutions on NHWC (or NCHW) input with an HWIO filter, computed by torch on NCHW.
fn conv2d(x: &Tensor, filter: &Tensor, attr: &Json, depthwise: bool) -> Result<Tensor> {
    let nchw = attr_str(attr, "data_format").as_deref() == Some("NCHW");
    let strides = spatial(&attr_ints(attr, "strides"), nchw, "strides")?;
    let dilations = {
        let d = attr_ints(attr, "dilations");
        if d.is_empty() {
            [1, 1]
        } else {
            spatial(&d, nchw, "dilations")?
        }
    };
    let padding = attr_str(attr, "padding").unwrap_or_else(|| "VALID".into());
    let x = if nchw {
        x.shallow_clone()
    } else {
        x.f_permute([0, 3, 1, 2])?
    };
    let (kh, kw, cin_filter, cout) = match filter.size()[..] {
        [a, b, c, d] => (a, b, c, d),
        ref s => bail!("filter of shape {s:?} is not 4-d"),
    };
    let cin = x.size()[1];
    // HWIO → OIHW; depthwise filters are [kh, kw, in, multiplier].
    let (weight, groups) = if depthwise {
        let w = filter
            .f_reshape([kh, kw, 1, cin_filter * cout])?
            .f_permute([3, 2, 0, 1])?;
        (w, cin)
    } else {
        ensure!(
            cin % cin_filter == 0,
            "input has {cin} channels, filter expects {cin_filter}"
        );
        (filter.f_permute([3, 2, 0, 1])?, cin / cin_filter)
    };
    let x = match padding.as_str() {
        "VALID" => x,
        "SAME" => {
            let size = x.size();
            let (top, bottom) = same_padding(size[2], kh, strides[0], dilations[0]);
            let (left, right) = same_padding(size[3], kw, strides[1], dilations[1]);
            x.f_constant_pad_nd([left, right, top, bottom])?
        }
        "EXPLICIT" => {
            let p = attr_ints(attr, "explicit_paddings");
            ensure!(p.len() == 8, "explicit_paddings {p:?}");
            let (top, bottom, left, right) = if nchw {
                (p[4], p[5], p[6], p[7])
            } else {
                (p[2], p[3], p[4], p[5])
            };
            x.f_constant_pad_nd([left, right, top, bottom])?
        }
        other => bail!("padding {other} is not supported"),
    };
    let y = x.f_conv2d::<Tensor>(
        &weight.f_contiguous()?,
        None,
        strides,
        [0, 0],
        dilations,
        groups,
    )?;
    Ok(if nchw { y } else { y.f_permute([0, 2, 3, 1])? })
}

/// The `fused_ops` of FusedConv2D: bias add, then an optional activation.
fn apply_fused_ops(y: Tensor, attr: &Json, extra: &[Value]) -> Result<Tensor> {
    let ops: Vec<String> = attr["fused_ops"]["list"]["s"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().and_then(base64_decode))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    let nchw = attr_str(attr, "data_format").as_deref() == Some("NCHW");
    let mut y = y;
    let mut extra_args = extra.iter();
    for op in &ops {
        y = match op.as_str() {
            "BiasAdd" => {
                let b = extra_args
                    .next()
                    .ok_or_else(|| anyhow!("BiasAdd without a bias input"))?
                    .float("bias")?;
                let b = if nchw {
                    b.f_reshape([-1, 1, 1])?
                } else {
                    b.shallow_clone()
                };
                y.f_add(&b)?
            }
            "Relu" => y.f_relu()?,
            "Relu6" => y.f_clamp(0.0, 6.0)?,
            "LeakyRelu" => {
                let alpha = attr["leakyrelu_alpha"]["f"].as_f64().unwrap_or(0.2);
                y.f_maximum(&(&y * alpha))?
            }
            other => bail!("fused op {other} is not supported"),
        };
    }
    Ok(y)
}

fn max_pool(x: &Tensor, attr: &Json) -> Result<Tensor> {
    let nchw = attr_str(attr, "data_format").as_deref() == Some("NCHW");
    let kernel = spatial(&attr_ints(attr, "ksize"), nchw, "ksize")?;
    let strides = spatial(&attr_ints(attr, "strides"), nchw, "strides")?;
    let padding = attr_str(attr, "padding").unwrap_or_else(|| "VALID".into());
    let x = if nchw {
        x.shallow_clone()
    } else {
        x.f_permute([0, 3, 1, 2])?
    };
    let x = match padding.as_str() {
        "VALID" => x,
        "SAME" => {
            let size = x.size();
            let (top, bottom) = same_padding(size[2], kernel[0], strides[0], 1);
            let (left, right) = same_padding(size[3], kernel[1], strides[1], 1);
            // Pad with -inf so that padding never wins the maximum, as in TF.
            x.f_pad([left, right, top, bottom], "constant", f64::NEG_INFINITY)?
        }
        other => bail!("padding {other} is not supported"),
    };
    let y = x.f_max_pool2d(kernel, strides, [0, 0], [1, 1], false)?;
    Ok(if nchw { y } else { y.f_permute([0, 2, 3, 1])? })
}

fn binary(op: &str, a: &Value, b: &Value) -> Result<Value> {
    match (a, b) {
        (Value::Float(a), Value::Float(b)) => Ok(Value::Float(match op {
            "Add" | "AddV2" => a.f_add(b)?,
            "Sub" => a.f_sub(b)?,
            "Mul" => a.f_mul(b)?,
            _ => a.f_div(b)?,
        })),
        (
            Value::Int {
                data: da,
                shape: sa,
            },
            Value::Int {
                data: db,
                shape: sb,
            },
        ) => {
            // Constant folding of shape arithmetic: same shape, or one side a scalar.
            let (shape, n) = if da.len() >= db.len() {
                (sa, da.len())
            } else {
                (sb, db.len())
            };
            ensure!(
                da.len() == db.len() || da.len() == 1 || db.len() == 1,
                "cannot broadcast integer tensors of shapes {sa:?} and {sb:?}"
            );
            let at = |d: &[i64], i: usize| if d.len() == 1 { d[0] } else { d[i] };
            let data = (0..n)
                .map(|i| {
                    let (x, y) = (at(da, i), at(db, i));
                    match op {
                        "Add" | "AddV2" => Ok(x + y),
                        "Sub" => Ok(x - y),
                        "Mul" => Ok(x * y),
                        _ if y != 0 => Ok(x.div_euclid(y)),
                        _ => Err(anyhow!("integer division by zero")),
                    }
                })
                .collect::<Result<_>>()?;
            Ok(Value::Int {
                data,
                shape: shape.clone(),
            })
        }
        _ => bail!("{op} of a float and an integer tensor is not supported"),
    }
}

/// Reshape that keeps dimension 0 as the batch: the graph was exported for batch 1, so a
/// target shape `[1, …]` is read as `[batch, …]`, with any `-1` after it resolved from the
/// per-sample element count. The traced module then accepts any batch size.
fn batch_generic_reshape(x: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let size = x.size();
    let (&lead, rest) = shape
        .split_first()
        .ok_or_else(|| anyhow!("reshape to an empty shape"))?;
    ensure!(
        lead == 1 || lead == -1,
        "reshape to {shape:?} does not keep dimension 0 as the batch"
    );
    let batch = *size.first().ok_or_else(|| anyhow!("reshape of a scalar"))?;
    ensure!(batch > 0, "reshape of an empty batch");
    let per_sample: i64 = size.iter().product::<i64>() / batch;
    let known: i64 = rest.iter().filter(|&&d| d != -1).product();
    let inferred = rest.iter().filter(|&&d| d == -1).count();
    ensure!(inferred <= 1, "reshape to {shape:?} with more than one -1");
    let mut target = vec![-1];
    for &d in rest {
        target.push(if d == -1 {
            per_sample / known.max(1)
        } else {
            d
        });
    }
    ensure!(
        target[1..].iter().product::<i64>() == per_sample,
        "reshape of {size:?} to {shape:?} does not keep the per-sample size"
    );
    Ok(x.f_reshape(target)?)
}

fn resize(x: &Tensor, size: &[i64], op: &str, attr: &Json) -> Result<Tensor> {
    ensure!(
        size.len() == 2,
        "resize size {size:?} is not [height, width]"
    );
    let align_corners = attr["align_corners"]["b"].as_bool().unwrap_or(false);
    let half_pixel = attr["half_pixel_centers"]["b"].as_bool().unwrap_or(false);
    let nchw = x.f_permute([0, 3, 1, 2])?;
    let y = match op {
        // torch's align_corners=false is TF's half-pixel-centers sampling.
        "ResizeBilinear" if align_corners && !half_pixel => {
            nchw.f_upsample_bilinear2d(size, true, None, None)?
        }
        "ResizeBilinear" if !align_corners && half_pixel => {
            nchw.f_upsample_bilinear2d(size, false, None, None)?
        }
        // Legacy TF nearest (no half-pixel offset, floor) is torch's "nearest".
        "ResizeNearestNeighbor" if !align_corners && !half_pixel => {
            nchw.f_upsample_nearest2d(size, None, None)?
        }
        _ => bail!("{op} with align_corners={align_corners}, half_pixel_centers={half_pixel} is not supported"),
    };
    Ok(y.f_permute([0, 2, 3, 1])?)
}

/// SparseToDense on constant integers (the converter uses it to build reshape targets).
fn sparse_to_dense(
    indices: &Value,
    output_shape: &Value,
    values: &Value,
    default: &Value,
) -> Result<Value> {
    let out_shape = output_shape.ints("output_shape")?.to_vec();
    ensure!(
        out_shape.len() == 1,
        "only 1-d SparseToDense is supported (shape {out_shape:?})"
    );
    let len = usize::try_from(out_shape[0]).context("negative SparseToDense size")?;
    let fill = single_int(default, "default_value")?;
    let mut data = vec![fill; len];
    let idx = indices.ints("sparse_indices")?;
    let vals = values.ints("sparse_values")?;
    for (k, &i) in idx.iter().enumerate() {
        let slot = usize::try_from(i)
            .ok()
            .and_then(|i| data.get_mut(i))
            .ok_or_else(|| anyhow!("SparseToDense index {i} outside {len}"))?;
        *slot = if vals.len() == 1 {
            vals[0]
        } else {
            *vals
                .get(k)
                .ok_or_else(|| anyhow!("too few sparse values"))?
        };
    }
    Ok(Value::Int {
        data,
        shape: out_shape,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_matches_tf() {
        // 416 input, 3x3 kernel, stride 2: output 208, total padding 1, split 0 / 1.
        assert_eq!(same_padding(416, 3, 2, 1), (0, 1));
        assert_eq!(same_padding(13, 3, 1, 1), (1, 1));
    }

    #[test]
    fn base64_attribute_strings_decode() {
        assert_eq!(base64_decode("TkhXQw==").as_deref(), Some(&b"NHWC"[..]));
        assert_eq!(base64_decode("VkFMSUQ=").as_deref(), Some(&b"VALID"[..]));
    }
}
