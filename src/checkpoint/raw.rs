//! Any `torch.save` state dict (zip or legacy format) → safetensors, tensors unchanged.
//!
//! Unlike [`super::convert_pth`], nothing is checked against a TextReID model: this
//! is for third-party weights (e.g. the MobileNetV2 backbone in
//! `models/mobilenetv2/prepare.sh`, through `lookout import-weights IN OUT --prefix P`).
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::pth::{self, PthError};
use super::RawView;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read checkpoint {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: PthError,
    },
    #[error("checkpoint {} holds no tensors", path.display())]
    Empty { path: PathBuf },
    #[error("checkpoint {}: key `{key}` appears twice after prefixing", path.display())]
    DuplicateKey { path: PathBuf, key: String },
    #[error("cannot write {}: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
}

/// Reads the state dict of `input` (any `.pth` / `.pt` that [`pth::read_state_dict`]
/// reads, with its default entry selection), prepends `prefix` to every key and writes
/// every tensor, dtype and bytes unchanged, to the safetensors file `output` with
/// `metadata` as its `__metadata__`. The file is written to `<output>.partial` and
/// renamed, so `output` appears only complete. Returns the number of tensors.
pub fn convert_state_dict_to_safetensors(
    input: &Path,
    output: &Path,
    prefix: &str,
    metadata: BTreeMap<String, String>,
) -> Result<usize, ImportError> {
    let tensors = pth::read_state_dict(input, None).map_err(|source| ImportError::Read {
        path: input.to_path_buf(),
        source,
    })?;
    if tensors.is_empty() {
        return Err(ImportError::Empty {
            path: input.to_path_buf(),
        });
    }
    let mut seen = HashSet::with_capacity(tensors.len());
    let mut views = Vec::with_capacity(tensors.len());
    for (key, t) in &tensors {
        let key = format!("{prefix}{key}");
        if !seen.insert(key.clone()) {
            return Err(ImportError::DuplicateKey {
                path: input.to_path_buf(),
                key,
            });
        }
        views.push((key, RawView(t)));
    }
    let write_err = |reason: String| ImportError::Write {
        path: output.to_path_buf(),
        reason,
    };
    let bytes = serialize_sorted(views, &metadata).map_err(write_err)?;
    let mut tmp = output.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    if let Err(e) = std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, output)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_err(e.to_string()));
    }
    Ok(tensors.len())
}

/// safetensors bytes whose `__metadata__` comes first with its keys sorted, so that the
/// same input gives the same bytes (safetensors' own writer emits the metadata in
/// `HashMap` order, which differs between runs).
fn serialize_sorted(
    views: Vec<(String, RawView<'_>)>,
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, String> {
    let plain = safetensors::serialize(views, &None).map_err(|e| e.to_string())?;
    if metadata.is_empty() {
        return Ok(plain);
    }
    let n = u64::from_le_bytes(plain[..8].try_into().map_err(|_| "short header")?) as usize;
    let header = std::str::from_utf8(&plain[8..8 + n]).map_err(|e| e.to_string())?;
    let rest = header
        .trim_end()
        .strip_prefix('{')
        .ok_or("safetensors header is not a JSON object")?;
    let meta = serde_json::to_string(metadata).map_err(|e| e.to_string())?;
    let mut new_header = format!("{{\"__metadata__\":{meta},{rest}").into_bytes();
    new_header.resize(new_header.len().div_ceil(8) * 8, b' ');
    let mut out = Vec::with_capacity(8 + new_header.len() + plain.len() - 8 - n);
    out.extend_from_slice(&(new_header.len() as u64).to_le_bytes());
    out.extend_from_slice(&new_header);
    out.extend_from_slice(&plain[8 + n..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::dtype_of;

    const LEGACY_PT: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/torch_save_legacy_small.pt"
    );

    #[test]
    fn legacy_fixture_round_trips_with_prefix_and_metadata() {
        let dir = std::env::temp_dir().join(format!("lookout_raw_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("w.safetensors");
        let meta: BTreeMap<String, String> = [("source", "fixture"), ("a", "1"), ("z", "2")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let n = convert_state_dict_to_safetensors(Path::new(LEGACY_PT), &out, "bb.", meta.clone())
            .unwrap();
        let want = pth::read_state_dict(Path::new(LEGACY_PT), None).unwrap();
        assert_eq!(n, want.len());
        let bytes = std::fs::read(&out).unwrap();
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        assert_eq!(
            header
                .metadata()
                .as_ref()
                .unwrap()
                .get("source")
                .map(String::as_str),
            Some("fixture")
        );
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        for (k, t) in &want {
            let v = st.tensor(&format!("bb.{k}")).unwrap();
            assert_eq!(v.dtype(), dtype_of(t.dtype), "{k}");
            assert_eq!(v.shape(), t.shape.as_slice(), "{k}");
            assert_eq!(v.data(), t.data.as_slice(), "{k}");
        }
        assert_eq!(header.metadata().as_ref().unwrap().len(), 3);
        assert!(!dir.join("w.safetensors.partial").exists());
        // Deterministic bytes, and an existing output is replaced.
        for _ in 0..3 {
            convert_state_dict_to_safetensors(Path::new(LEGACY_PT), &out, "bb.", meta.clone())
                .unwrap();
            assert_eq!(std::fs::read(&out).unwrap(), bytes);
        }
        // A failed conversion leaves no output.
        let bad = dir.join("bad.pt");
        std::fs::write(&bad, b"\x80\x02garbage").unwrap();
        let out2 = dir.join("bad.safetensors");
        let e = convert_state_dict_to_safetensors(&bad, &out2, "", BTreeMap::new()).unwrap_err();
        assert!(matches!(e, ImportError::Read { .. }), "{e}");
        assert!(!out2.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
