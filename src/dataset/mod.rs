//! Training and evaluation data: the TextReID annotation format and CUHK-PEDES's
//! `reid_raw.json`, the P×K identity sampler, and the reference's training augmentations.
//!
//! A record that cannot be used (missing or unreadable image, empty caption, bad id) is
//! reported with its file and index, and then skipped or stops the run, as
//! [`BadRecords`] says: it never stops a run half-way through an epoch.
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use tch::Tensor;

use crate::preprocess::{load_rgb, resize_bilinear_rgb8_compat, InputSpec, PillowCompat, Rgb8};
use crate::text::{UnknownWords, Vocabulary};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BadRecords {
    /// Report and leave the record out.
    #[default]
    Skip,
    /// Report and refuse to start.
    Stop,
}

impl std::str::FromStr for BadRecords {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "skip" => Ok(Self::Skip),
            "stop" => Ok(Self::Stop),
            other => Err(format!(
                "bad-record policy `{other}`: expected skip or stop"
            )),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("{path} record {index}: {reason}")]
    BadRecord {
        path: PathBuf,
        index: usize,
        reason: String,
    },
    #[error("{path} has no usable record")]
    Empty { path: PathBuf },
}

/// One (image, caption) pair.
#[derive(Debug, Clone)]
pub struct Pair {
    pub image: PathBuf,
    pub caption: Vec<i64>,
    pub sentence: String,
    pub id: i64,
    pub image_id: i64,
}

/// A split: pairs, plus the problems found while reading it.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub pairs: Vec<Pair>,
    pub skipped: Vec<String>,
}

#[derive(Deserialize)]
struct AnnotationFile {
    annotations: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawRecord {
    split: String,
    captions: Vec<String>,
    file_path: String,
    id: i64,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| DataError::Format {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

impl Dataset {
    fn record_problem(
        &mut self,
        policy: BadRecords,
        path: &Path,
        index: usize,
        reason: String,
    ) -> Result<(), DataError> {
        let err = DataError::BadRecord {
            path: path.to_path_buf(),
            index,
            reason,
        };
        match policy {
            BadRecords::Stop => Err(err),
            BadRecords::Skip => {
                eprintln!("warning: skipping {err}");
                self.skipped.push(err.to_string());
                Ok(())
            }
        }
    }

    fn finish(self, path: &Path) -> Result<Self, DataError> {
        if self.pairs.is_empty() {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(self)
    }

    /// Reads TextReID's `{"annotations": [{file_path, onehot, sentence, id, image_id}]}`.
    /// Word ids come from `onehot`; when a vocabulary is given they are made from the
    /// sentence instead (so a data set can be used with another model's vocabulary).
    pub fn load_textreid(
        path: &Path,
        images: &Path,
        vocab: Option<&Vocabulary>,
        policy: BadRecords,
    ) -> Result<Self, DataError> {
        let file: AnnotationFile = read_json(path)?;
        let mut data = Dataset::default();
        for (index, value) in file.annotations.iter().enumerate() {
            let field = |name: &str| value.get(name);
            let file_path = field("file_path").and_then(|v| v.as_str());
            let id = field("id").and_then(|v| v.as_i64());
            let image_id = field("image_id").and_then(|v| v.as_i64());
            let sentence = field("sentence")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let (Some(file_path), Some(id), Some(image_id)) = (file_path, id, image_id) else {
                data.record_problem(
                    policy,
                    path,
                    index,
                    "missing file_path, id or image_id".into(),
                )?;
                continue;
            };
            let caption: Vec<i64> = match vocab {
                Some(v) => match v.tokenize(&sentence, UnknownWords::Skip) {
                    Ok(t) => t.ids,
                    Err(e) => {
                        data.record_problem(
                            policy,
                            path,
                            index,
                            format!("caption {sentence:?}: {e}"),
                        )?;
                        continue;
                    }
                },
                None => field("onehot")
                    .and_then(|v| v.as_array())
                    .map(|a| a.iter().filter_map(|x| x.as_i64()).collect())
                    .unwrap_or_default(),
            };
            if caption.is_empty() {
                data.record_problem(
                    policy,
                    path,
                    index,
                    format!("empty caption for {file_path}"),
                )?;
                continue;
            }
            let image = images.join(file_path);
            if !image.is_file() {
                data.record_problem(
                    policy,
                    path,
                    index,
                    format!("image {} is missing", image.display()),
                )?;
                continue;
            }
            data.pairs.push(Pair {
                image,
                caption,
                sentence,
                id,
                image_id,
            });
        }
        data.finish(path)
    }

    /// Reads CUHK-PEDES's `reid_raw.json` (`[{split, captions, file_path, id (1-based)}]`)
    /// for one split; captions are tokenized with `vocab`. Identities are renumbered from 0
    /// in order of appearance (train ids index the identity classifier).
    pub fn load_reid_raw(
        path: &Path,
        images: &Path,
        split: &str,
        vocab: &Vocabulary,
        policy: BadRecords,
    ) -> Result<Self, DataError> {
        let records: Vec<serde_json::Value> = read_json(path)?;
        let mut data = Dataset::default();
        let mut ids: HashMap<i64, i64> = HashMap::new();
        for (index, value) in records.into_iter().enumerate() {
            let record: RawRecord = match serde_json::from_value(value) {
                Ok(r) => r,
                Err(e) => {
                    data.record_problem(policy, path, index, e.to_string())?;
                    continue;
                }
            };
            if record.split != split {
                continue;
            }
            let image = images.join(&record.file_path);
            if !image.is_file() {
                data.record_problem(
                    policy,
                    path,
                    index,
                    format!("image {} is missing", image.display()),
                )?;
                continue;
            }
            let next = ids.len() as i64;
            let id = *ids.entry(record.id).or_insert(next);
            for sentence in &record.captions {
                match vocab.tokenize(sentence, UnknownWords::Skip) {
                    Ok(t) => data.pairs.push(Pair {
                        image: image.clone(),
                        caption: t.ids,
                        sentence: sentence.clone(),
                        id,
                        image_id: index as i64,
                    }),
                    Err(e) => data.record_problem(
                        policy,
                        path,
                        index,
                        format!("caption {sentence:?}: {e}"),
                    )?,
                }
            }
        }
        data.finish(path)
    }

    /// Number of distinct identities.
    pub fn identities(&self) -> usize {
        let mut ids: Vec<i64> = self.pairs.iter().map(|p| p.id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    pub fn max_id(&self) -> i64 {
        self.pairs.iter().map(|p| p.id).max().unwrap_or(-1)
    }
}

/// P identities × K pairs per batch (the reference's `TripletSampler`, 32 × 4): each
/// epoch visits every identity once, in a shuffled order; an identity with fewer than K
/// pairs repeats some. Deterministic for (seed, epoch), so a resumed run sees the same
/// batches.
pub fn pk_batches(pairs: &[Pair], p: usize, k: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut by_id: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, pair) in pairs.iter().enumerate() {
        by_id.entry(pair.id).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = by_id
        .into_values()
        .map(|mut idx| {
            idx.shuffle(&mut rng);
            let mut chosen: Vec<usize> = idx.iter().copied().take(k).collect();
            while chosen.len() < k {
                chosen.push(idx[rng.gen_range(0..idx.len())]);
            }
            chosen
        })
        .collect();
    groups.shuffle(&mut rng);
    groups
        .chunks_exact(p.max(1))
        .map(|chunk| chunk.concat())
        .collect()
}

/// Decoded images resized to the model input, kept in memory across epochs.
pub struct ImageCache {
    spec: InputSpec,
    images: HashMap<PathBuf, Vec<u8>>,
}

impl ImageCache {
    pub fn new(spec: InputSpec) -> Self {
        Self {
            spec,
            images: HashMap::new(),
        }
    }

    /// The image resized to the input size (RGB, HWC bytes).
    pub fn get(&mut self, path: &Path) -> Result<&[u8], DataError> {
        if !self.images.contains_key(path) {
            let img = load_rgb(path).map_err(|e| DataError::Read {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
            let resized = resize_bilinear_rgb8_compat(
                &Rgb8 {
                    width: img.width,
                    height: img.height,
                    data: &img.data,
                },
                self.spec.width,
                self.spec.height,
                PillowCompat::UpTo12_1,
            )
            .map_err(|e| DataError::Read {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
            self.images.insert(path.to_path_buf(), resized);
        }
        Ok(self
            .images
            .get(path)
            .map(|v| v.as_slice())
            .unwrap_or_default())
    }

    pub fn spec(&self) -> &InputSpec {
        &self.spec
    }
}

/// The reference's training augmentations (spec §2.1): horizontal flip (p 0.5), zero
/// padding of 10 and a random crop back to size, normalisation, and random erasing
/// (p 0.5, area 2–40 %, aspect 0.3–3.3) filled with the raw mean values (a quirk of the
/// reference, which fills after normalising).
#[derive(Debug, Clone, serde::Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Augment {
    pub enabled: bool,
    pub flip: f64,
    pub pad: usize,
    pub erase: f64,
}

impl Default for Augment {
    fn default() -> Self {
        Self {
            enabled: true,
            flip: 0.5,
            pad: 10,
            erase: 0.5,
        }
    }
}

impl Augment {
    /// One resized image (HWC bytes) → a normalised (3, H, W) tensor.
    pub fn apply(&self, resized: &[u8], spec: &InputSpec, rng: &mut ChaCha8Rng) -> Tensor {
        let (h, w) = (spec.height, spec.width);
        let mut chw = vec![0f32; 3 * h * w];
        let flip = self.enabled && rng.gen_bool(self.flip.clamp(0.0, 1.0));
        let (dy, dx) = if self.enabled && self.pad > 0 {
            (
                rng.gen_range(0..=2 * self.pad) as isize - self.pad as isize,
                rng.gen_range(0..=2 * self.pad) as isize - self.pad as isize,
            )
        } else {
            (0, 0)
        };
        for y in 0..h {
            for x in 0..w {
                let sy = y as isize + dy;
                let sx0 = x as isize + dx;
                let sx = if flip { w as isize - 1 - sx0 } else { sx0 };
                let inside = sy >= 0 && sy < h as isize && sx >= 0 && sx < w as isize;
                for c in 0..3 {
                    // Zero padding happens before normalisation, as the reference's Pad.
                    let v = if inside {
                        resized[(sy as usize * w + sx as usize) * 3 + c] as f32 / 255.0
                    } else {
                        0.0
                    };
                    chw[c * h * w + y * w + x] = (v - spec.mean[c]) / spec.std[c];
                }
            }
        }
        if self.enabled && rng.gen_bool(self.erase.clamp(0.0, 1.0)) {
            let area = (h * w) as f64;
            for _ in 0..10 {
                let target = rng.gen_range(0.02..0.4) * area;
                let ratio = rng.gen_range(0.3f64.ln()..3.3f64.ln()).exp();
                let eh = (target * ratio).sqrt().round() as usize;
                let ew = (target / ratio).sqrt().round() as usize;
                if eh < h && ew < w && eh > 0 && ew > 0 {
                    let y0 = rng.gen_range(0..=h - eh);
                    let x0 = rng.gen_range(0..=w - ew);
                    for c in 0..3 {
                        for y in y0..y0 + eh {
                            for x in x0..x0 + ew {
                                chw[c * h * w + y * w + x] = spec.mean[c];
                            }
                        }
                    }
                    break;
                }
            }
        }
        Tensor::from_slice(&chw).view([3, h as i64, w as i64])
    }
}

/// The RNG of one batch, derived from (seed, epoch, batch) so resumed runs repeat it.
pub fn batch_rng(seed: u64, epoch: usize, batch: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(
        seed.wrapping_add((epoch as u64) << 32)
            .wrapping_add(batch as u64)
            .wrapping_mul(0xD1B5_4A32_D192_ED03),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(ids: &[i64]) -> Vec<Pair> {
        ids.iter()
            .enumerate()
            .map(|(i, &id)| Pair {
                image: PathBuf::from(format!("{i}.png")),
                caption: vec![1],
                sentence: String::new(),
                id,
                image_id: i as i64,
            })
            .collect()
    }

    #[test]
    fn pk_batches_have_p_identities_of_k_pairs() {
        let data = pairs(&[0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4]);
        let batches = pk_batches(&data, 2, 4, 7, 1);
        assert_eq!(batches.len(), 2, "5 identities, 2 per batch, last dropped");
        for b in &batches {
            assert_eq!(b.len(), 8);
            let mut ids: Vec<i64> = b.iter().map(|&i| data[i].id).collect();
            ids.dedup();
            assert_eq!(ids.len(), 2, "{ids:?}");
        }
        assert_eq!(batches, pk_batches(&data, 2, 4, 7, 1), "deterministic");
        assert_ne!(batches, pk_batches(&data, 2, 4, 7, 2), "changes per epoch");
    }

    #[test]
    fn augment_off_is_plain_normalisation() {
        let spec = InputSpec::clip([4, 2]);
        let img = vec![255u8; 4 * 2 * 3];
        let t = Augment {
            enabled: false,
            ..Augment::default()
        }
        .apply(&img, &spec, &mut batch_rng(0, 0, 0));
        let v = f64::try_from(t.get(0).get(0).get(0)).unwrap();
        assert!((v - ((1.0 - spec.mean[0]) / spec.std[0]) as f64).abs() < 1e-6);
    }

    #[test]
    fn reid_raw_splits_captions_and_renumbers_ids() {
        let dir = std::env::temp_dir().join(format!("lookout-raw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["a.png", "b.png", "c.png"] {
            image::RgbImage::new(4, 8).save(dir.join(f)).unwrap();
        }
        let raw = dir.join("reid_raw.json");
        std::fs::write(
            &raw,
            r#"[
                {"split": "train", "captions": ["A man in a red coat.", "Red coat, black shoes."], "file_path": "a.png", "processed_tokens": [], "id": 7},
                {"split": "train", "captions": ["A woman in blue."], "file_path": "b.png", "processed_tokens": [], "id": 3},
                {"split": "test", "captions": ["A man."], "file_path": "c.png", "processed_tokens": [], "id": 9},
                {"split": "train", "captions": ["zzz"], "file_path": "a.png", "processed_tokens": [], "id": 7},
                {"captions": []}
            ]"#,
        )
        .unwrap();
        let vocab = Vocabulary::build(["a man in a red coat black shoes woman blue"]).unwrap();
        let data = Dataset::load_reid_raw(&raw, &dir, "train", &vocab, BadRecords::Skip).unwrap();
        assert_eq!(data.pairs.len(), 3);
        assert_eq!(
            data.pairs.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![0, 0, 1],
            "ids from 0 in order of appearance"
        );
        assert_eq!(
            data.pairs[0].caption,
            vocab
                .tokenize("A man in a red coat.", UnknownWords::Skip)
                .unwrap()
                .ids
        );
        assert_eq!(data.skipped.len(), 2, "{:?}", data.skipped);
        assert!(Dataset::load_reid_raw(&raw, &dir, "train", &vocab, BadRecords::Stop).is_err());
        let test = Dataset::load_reid_raw(&raw, &dir, "test", &vocab, BadRecords::Skip).unwrap();
        assert_eq!(test.pairs.len(), 1);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn bad_records_are_reported_with_their_index() {
        let dir = std::env::temp_dir().join(format!("lookout-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        image::RgbImage::new(4, 8).save(dir.join("a.png")).unwrap();
        let ann = dir.join("train.json");
        std::fs::write(
            &ann,
            r#"{"annotations": [
                {"file_path": "a.png", "onehot": [1, 2], "sentence": "a man", "id": 0, "image_id": 0},
                {"file_path": "missing.png", "onehot": [1], "sentence": "a man", "id": 0, "image_id": 1},
                {"file_path": "a.png", "onehot": [], "sentence": "", "id": 0, "image_id": 0},
                {"file_path": "a.png", "sentence": "no id"}
            ]}"#,
        )
        .unwrap();
        let data = Dataset::load_textreid(&ann, &dir, None, BadRecords::Skip).unwrap();
        assert_eq!(data.pairs.len(), 1);
        assert_eq!(data.skipped.len(), 3);
        assert!(
            data.skipped[0].contains("record 1") && data.skipped[0].contains("missing.png"),
            "{:?}",
            data.skipped
        );
        let err = Dataset::load_textreid(&ann, &dir, None, BadRecords::Stop)
            .unwrap_err()
            .to_string();
        assert!(err.contains("record 1"), "{err}");
        std::fs::write(&ann, "{not json").unwrap();
        assert!(matches!(
            Dataset::load_textreid(&ann, &dir, None, BadRecords::Skip),
            Err(DataError::Format { .. })
        ));
        std::fs::remove_dir_all(&dir).ok();
    }
}
