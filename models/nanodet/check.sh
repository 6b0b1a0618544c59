#!/usr/bin/env bash
# Checks the converted TorchScript detector (models/nanodet/nanodet.ts) against the original
# TF.js model run by pure-JavaScript @tensorflow/tfjs (CPU backend) on the same input: frame
# 700 of vtest.avi when the clip is installed (Debian opencv-doc), else a synthetic pattern
# too. Prints max / mean |diff| per output; fails beyond 1e-3 on scores, 1e-2 on logits.
# Needs node + npm; installs @tensorflow/tfjs into .deps/node the first time.
#
#   VTEST   the clip (default /usr/share/doc/opencv-doc/examples/data/vtest.avi)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tfjs_version="$(awk '$1 == "tfjs_version" { v = $3; gsub(/"/, "", v); print v }' "$here/manifest.toml")"
vtest="${VTEST:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}"

bash "$here/prepare.sh"
models="$(ls -d "$root"/.deps/npm/*human-models*/extracted/package/models)"
converter="${CARGO_TARGET_DIR:-$root/target}/debug/nanodet-convert"

node_dir="$root/.deps/node"
if [[ ! -f "$node_dir/node_modules/@tensorflow/tfjs/package.json" ]] ||
    [[ "$(node -p "require('$node_dir/node_modules/@tensorflow/tfjs/package.json').version")" != "$tfjs_version" ]]; then
    echo "installing @tensorflow/tfjs@$tfjs_version into $node_dir"
    mkdir -p "$node_dir"
    npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$node_dir" "@tensorflow/tfjs@$tfjs_version"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== synthetic pattern"
node "$here/check_tfjs.mjs" "$models" "$work/synthetic" 2>&1 | grep -v -e '^=*$' -e 'tfjs-node' -e 'node backend'
"$converter" check "$here/nanodet.ts" "$work/synthetic"

if [[ -f "$vtest" ]]; then
    echo "== vtest.avi frame 700"
    width=768 height=576
    frame_bytes=$((width * height * 3))
    # Frames 0.. decoded in order; keep the bytes of frame 700.
    gst-launch-1.0 -q filesrc location="$vtest" ! avidemux ! avdec_msmpeg4 ! videoconvert \
        ! "video/x-raw,format=RGB,width=$width,height=$height" ! fdsink fd=1 \
        | tail -c +$((700 * frame_bytes + 1)) | head -c "$frame_bytes" > "$work/frame700.rgb" || true
    node "$here/check_tfjs.mjs" "$models" "$work/frame700" "$work/frame700.rgb" "$width" "$height" 2>&1 \
        | grep -v -e '^=*$' -e 'tfjs-node' -e 'node backend'
    "$converter" check "$here/nanodet.ts" "$work/frame700"
else
    echo "skipped the real frame: $vtest not found (apt-get install opencv-doc)"
fi
