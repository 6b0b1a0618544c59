# Shell helpers shared by the models/*/prepare.sh scripts; source it after setting
# `manifest` to the script's manifest.toml.

# value of `key = "..."` in [section] of the manifest
manifest_get() {
    awk -v section="[$1]" -v key="$2" '
        /^\[/ { in_section = ($0 == section) }
        in_section && $1 == key && $2 == "=" { v = $3; gsub(/"/, "", v); print v; exit }
    ' "$manifest"
}
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
