//! The deployment files in `docker/` stay valid: the compose file is checked by the
//! compose tool that is installed (`docker compose` v2, else Debian's `docker-compose`
//! 1.29), and every configuration it mounts exists and is well-formed TOML.
//!
//! Neither check needs a Docker daemon: `config` only parses, validates against the
//! compose schema and interpolates. Where no compose tool is installed, the tool check
//! says so and passes, so that a machine without Docker can still run the suite.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Every profile of the file, so that `config` resolves all services.
const PROFILES: [&str; 3] = ["cameras", "demo", "gpu"];
const SERVICES: [&str; 7] = [
    "ingest-1",
    "ingest-2",
    "ingest-demo",
    "ingest-gpu",
    "qdrant",
    "query",
    "test-camera",
];

fn docker_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docker")
}

fn compose_file() -> PathBuf {
    docker_dir().join("docker-compose.yml")
}

/// The compose command line to use: `docker compose` when the plugin answers, else
/// `docker-compose`; `None` when neither runs.
fn compose_tool() -> Option<Vec<&'static str>> {
    let answers = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if answers("docker", &["compose", "version"]) {
        Some(vec!["docker", "compose"])
    } else if answers("docker-compose", &["version"]) {
        Some(vec!["docker-compose"])
    } else {
        None
    }
}

/// Runs `<tool> -f docker/docker-compose.yml --profile … <args>` from the repository
/// root, with the secrets the file passes through left unset (as on a fresh machine).
fn run_compose(tool: &[&str], args: &[&str]) -> Output {
    let file = compose_file();
    let mut command = Command::new(tool[0]);
    command.args(&tool[1..]).arg("-f").arg(&file);
    for profile in PROFILES {
        command.args(["--profile", profile]);
    }
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("QDRANT__SERVICE__API_KEY")
        .env_remove("LOOKOUT_VIEWER_KEY")
        .env_remove("LOOKOUT_ADMIN_KEY");
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool:?} on {}: {e}", file.display()))
}

#[test]
fn compose_file_validates_with_the_installed_compose_tool() {
    let Some(tool) = compose_tool() else {
        println!(
            "SKIPPED: neither `docker compose` nor `docker-compose` is installed; \
             {} was not validated (apt-get install docker-compose)",
            compose_file().display()
        );
        return;
    };
    let out = run_compose(&tool, &["config", "-q"]);
    assert!(
        out.status.success(),
        "{} config -q rejected {}:\n{}",
        tool.join(" "),
        compose_file().display(),
        String::from_utf8_lossy(&out.stderr)
    );

    let out = run_compose(&tool, &["config", "--services"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let services: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let expected: BTreeSet<String> = SERVICES.iter().map(|s| s.to_string()).collect();
    assert_eq!(services, expected);
}

#[test]
fn every_mounted_configuration_exists_and_is_toml() {
    let compose = std::fs::read_to_string(compose_file())
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", compose_file().display()));
    // Commands name their configuration as /etc/lookout/NAME.toml, which is the
    // docker/config folder mounted read-only.
    let mounted: BTreeSet<&str> = compose
        .split(|c: char| c == '"' || c.is_whitespace())
        .filter_map(|word| word.strip_prefix("/etc/lookout/"))
        .filter(|name| name.ends_with(".toml"))
        .collect();
    assert!(
        mounted.len() >= 5,
        "expected the query, ingest and demo configurations, found {mounted:?}"
    );
    for name in mounted {
        let path = docker_dir().join("config").join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} is mounted but unreadable: {e}", path.display()));
        let table: toml::Table = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not valid TOML: {e}", path.display()));
        let store = table
            .get("store")
            .and_then(|s| s.as_table())
            .unwrap_or_else(|| panic!("{} has no [store] table", path.display()));
        assert_eq!(
            store.get("backend").and_then(|b| b.as_str()),
            Some("server"),
            "{}: the compose deployment stores into the qdrant service",
            path.display()
        );
        assert_eq!(
            store.get("url").and_then(|u| u.as_str()),
            Some("http://qdrant:6334"),
            "{}",
            path.display()
        );
    }
}
