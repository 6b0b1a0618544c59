//! The audit log: one JSON line per search (who, what, which filters, when, how many
//! results), appended to a file and flushed before the answer goes out, so every search
//! an operator saw results for is on record. The key itself is never written, only the
//! name of its holder.
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct AuditEntry<'a> {
    pub time_ms: i64,
    pub key_name: &'a str,
    /// `text` or `similar`.
    pub kind: &'a str,
    /// The sentence, or the sighting id for "find similar".
    pub query: &'a str,
    pub cameras: Option<&'a [String]>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub min_score: Option<f32>,
    pub limit: usize,
    pub rerank: bool,
    pub results: usize,
    pub total_ms: f64,
}

pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl AuditLog {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)?;
            }
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn record(&self, entry: &AuditEntry<'_>) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("audit log lock poisoned"))?;
        file.write_all(&line)?;
        file.flush()
    }
}
