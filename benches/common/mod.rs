//! Helpers shared by the bench binaries.

/// What the machine was doing: 1-minute load and how many compiler processes were
/// running (other builds share these cores and skew the figures).
pub fn machine_state() -> String {
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    let compilers = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_to_string(e.path().join("comm"))
                        .map(|c| matches!(c.trim(), "rustc" | "cc1" | "cc1plus" | "ld"))
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0);
    format!("load {load}, {compilers} compiler processes")
}
