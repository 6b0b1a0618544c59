//! `lookout synth`: a procedural synthetic pedestrian data set in the TextReID
//! annotation format — the test bed and training data of the default model.
//!
//! People are sampled as attributes ([`person`]), drawn as anti-aliased 2-D shapes over
//! varied backgrounds with light and camera degradations ([`render`]), and described by
//! two CUHK-PEDES-style captions each ([`caption`]) that mention only what the view
//! shows. Output (see [`generate`]):
//!
//! ```text
//! OUT/imgs/<split>/<pid>_<n>.png            (.jpg with `jpeg = true`)
//! OUT/annotations/{train,val,test}.json      {"annotations": [{file_path, onehot, sentence, id, image_id}]}
//! OUT/vocab.json                             {"word": id}, frequency-ordered from 1 (0 = padding)
//! OUT/attributes.jsonl                       one line per image: attributes and scene
//! OUT/synth.json                             the configuration and counts
//! ```
//!
//! Splits are disjoint by identity: train ids are `0..train_ids` (they index the
//! identity classifier), val and test ids follow. Everything is a function of the
//! seed: the same configuration writes the same bytes, whatever the thread count.
pub mod caption;
pub mod draw;
pub mod person;
pub mod render;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use caption::captions;
pub use person::{sample_person, PersonAttributes, View};
pub use render::{render_person, render_scene, Scene};
pub use writer::split_words;

/// What to generate. Unknown keys in a TOML/JSON file are errors; missing ones take
/// the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SynthConfig {
    pub seed: u64,
    pub train_ids: usize,
    pub val_ids: usize,
    pub test_ids: usize,
    /// Images per identity (different views, poses, backgrounds; the same clothes).
    pub images_per_id: usize,
    /// Image height range in pixels (inclusive).
    pub min_height: u32,
    pub max_height: u32,
    /// Width / height range.
    pub min_aspect: f64,
    pub max_aspect: f64,
    /// Write JPEG files (`.jpg`) instead of PNG.
    pub jpeg: bool,
    /// Quality of written JPEG files.
    pub jpeg_quality: u8,
    /// Camera degradations: blur, noise, low resolution, in-memory JPEG round trips.
    pub degrade: bool,
    /// Occasional foreground occluders (poles, passers-by, bollards).
    pub occlusion: bool,
    /// Worker threads (0: all cores). Does not change the output.
    pub threads: usize,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 0,
            train_ids: 1000,
            val_ids: 100,
            test_ids: 200,
            images_per_id: 4,
            min_height: 120,
            max_height: 400,
            min_aspect: 0.3,
            max_aspect: 0.5,
            jpeg: false,
            jpeg_quality: 92,
            degrade: true,
            occlusion: true,
            threads: 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("invalid synth configuration: {0}")]
    InvalidConfig(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: encoding the image: {source}")]
    Image {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
    #[error("{path}: writing JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SynthReport {
    pub images: usize,
    /// Annotation entries: two per image.
    pub captions: usize,
    pub vocab_words: usize,
    /// Identities in train, val, test.
    pub identities: [usize; 3],
}

pub const SPLITS: [&str; 3] = ["train", "val", "test"];

impl SynthConfig {
    pub fn validate(&self) -> Result<(), SynthError> {
        let bad = |m: String| Err(SynthError::InvalidConfig(m));
        if self.train_ids + self.val_ids + self.test_ids == 0 {
            return bad("no identities (train_ids + val_ids + test_ids = 0)".into());
        }
        if self.images_per_id == 0 {
            return bad("images_per_id must be at least 1".into());
        }
        if self.min_height < 32 || self.max_height < self.min_height || self.max_height > 4096 {
            return bad(format!(
                "height range {}..={} must satisfy 32 <= min <= max <= 4096",
                self.min_height, self.max_height
            ));
        }
        if !(self.min_aspect > 0.05 && self.min_aspect <= self.max_aspect && self.max_aspect <= 2.0)
        {
            return bad(format!(
                "aspect range {}..{} must satisfy 0.05 < min <= max <= 2",
                self.min_aspect, self.max_aspect
            ));
        }
        if !(1..=100).contains(&self.jpeg_quality) {
            return bad(format!(
                "jpeg_quality {} must be in 1..=100",
                self.jpeg_quality
            ));
        }
        Ok(())
    }

    pub fn identities(&self) -> usize {
        self.train_ids + self.val_ids + self.test_ids
    }

    /// The split index (0 train, 1 val, 2 test) of identity `pid`.
    pub fn split_of(&self, pid: usize) -> usize {
        if pid < self.train_ids {
            0
        } else if pid < self.train_ids + self.val_ids {
            1
        } else {
            2
        }
    }
}

/// SplitMix64 of `a` and `b`: independent seeds for identities and images.
fn mix_seed(a: u64, b: u64) -> u64 {
    let mut z = a ^ b
        .wrapping_add(0x9e37_79b9_7f4a_7c15)
        .wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The person of identity `pid` under `seed`.
pub fn identity(seed: u64, pid: usize) -> PersonAttributes {
    sample_person(&mut ChaCha8Rng::seed_from_u64(mix_seed(seed, pid as u64)))
}

/// One image to make.
struct Job {
    pid: usize,
    n: usize,
    image_id: usize,
    scene: Scene,
    width: u32,
    height: u32,
    caption_seed: u64,
    file_path: String,
}

fn plan(config: &SynthConfig, people: &[PersonAttributes]) -> Vec<Job> {
    let ext = if config.jpeg { "jpg" } else { "png" };
    let mut jobs = Vec::with_capacity(people.len() * config.images_per_id);
    for (pid, person) in people.iter().enumerate() {
        let pseed = mix_seed(config.seed, pid as u64);
        let mut r = ChaCha8Rng::seed_from_u64(pseed ^ 0x005e_ed0f_71e3);
        // with 3+ images, every identity is seen from the front, the back and a side;
        // the 4th, 8th... view is the scene's own (random)
        let mut views = [
            Some(View::Front),
            Some(View::Back),
            Some(if r.gen_bool(0.5) {
                View::Left
            } else {
                View::Right
            }),
            None,
        ];
        views[..3].shuffle(&mut r);
        for n in 0..config.images_per_id {
            let vseed = mix_seed(pseed, n as u64 + 1);
            let mut scene = Scene::sample(vseed);
            if let Some(v) = views[n % 4] {
                scene.view = v;
            }
            if !config.degrade {
                scene.blur = 0.0;
                scene.noise = 0.0;
                scene.jpeg_quality = None;
                scene.low_res = None;
            }
            if !config.occlusion {
                scene.occluder = None;
            }
            let height = r.gen_range(config.min_height..=config.max_height);
            let mut aspect = if config.max_aspect > config.min_aspect {
                r.gen_range(config.min_aspect..config.max_aspect)
            } else {
                config.min_aspect
            };
            if scene.view.is_side() {
                aspect += 0.03;
            }
            if person.carry.map(|c| c.kind) == Some(person::CarryKind::Suitcase) {
                aspect += 0.08;
            }
            let width = ((height as f64 * aspect).round() as u32).max(16);
            let split = SPLITS[config.split_of(pid)];
            jobs.push(Job {
                pid,
                n,
                image_id: pid * config.images_per_id + n,
                scene,
                width,
                height,
                caption_seed: mix_seed(vseed, 0xca9),
                file_path: format!("{split}/{pid}_{n}.{ext}"),
            });
        }
    }
    jobs
}

struct Done {
    captions: [String; 2],
    attributes: String,
}

#[derive(Serialize)]
struct AttributeLine<'a> {
    image_id: usize,
    file_path: &'a str,
    id: usize,
    n: usize,
    split: &'static str,
    width: u32,
    height: u32,
    view: View,
    attributes: &'a PersonAttributes,
    scene: &'a Scene,
}

fn make_image(
    config: &SynthConfig,
    person: &PersonAttributes,
    job: &Job,
    imgs: &Path,
) -> Result<Done, SynthError> {
    let img = render_scene(person, &job.scene, job.width, job.height);
    let path = imgs.join(&job.file_path);
    let mut bytes = Vec::new();
    let enc = if config.jpeg {
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, config.jpeg_quality)
            .encode_image(&img)
    } else {
        img.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
    };
    enc.map_err(|source| SynthError::Image {
        path: path.clone(),
        source,
    })?;
    writer::write_file(&path, &bytes)?;
    let caps = captions(
        person,
        job.scene.view,
        &mut ChaCha8Rng::seed_from_u64(job.caption_seed),
    );
    let line = AttributeLine {
        image_id: job.image_id,
        file_path: &job.file_path,
        id: job.pid,
        n: job.n,
        split: SPLITS[config.split_of(job.pid)],
        width: job.width,
        height: job.height,
        view: job.scene.view,
        attributes: person,
        scene: &job.scene,
    };
    let attributes = serde_json::to_string(&line).map_err(|source| SynthError::Json {
        path: path.clone(),
        source,
    })?;
    Ok(Done {
        captions: caps,
        attributes,
    })
}

fn create_dir(path: &Path) -> Result<(), SynthError> {
    std::fs::create_dir_all(path).map_err(|source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Generates the data set into `out` (created if missing; files of an earlier run
/// with the same names are overwritten). `progress(done, total)` is called after
/// every image, on the calling thread.
pub fn generate(
    config: &SynthConfig,
    out: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SynthReport, SynthError> {
    config.validate()?;
    let imgs = out.join("imgs");
    for s in SPLITS {
        create_dir(&imgs.join(s))?;
    }
    let ann_dir = out.join("annotations");
    create_dir(&ann_dir)?;

    let people: Vec<PersonAttributes> = (0..config.identities())
        .map(|pid| identity(config.seed, pid))
        .collect();
    let jobs = plan(config, &people);
    let total = jobs.len();
    let threads = match config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, total.max(1));

    let mut done: Vec<Option<Done>> = (0..total).map(|_| None).collect();
    let mut first_error: Option<(usize, SynthError)> = None;
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<Done, SynthError>)>();
        for _ in 0..threads {
            let tx = tx.clone();
            let (jobs, people, next, abort, imgs) = (&jobs, &people, &next, &abort, &imgs);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= jobs.len() || abort.load(Ordering::Relaxed) {
                    break;
                }
                let job = &jobs[i];
                let r = make_image(config, &people[job.pid], job, imgs);
                if tx.send((i, r)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut count = 0;
        for (i, r) in rx {
            match r {
                Ok(d) => done[i] = Some(d),
                Err(e) => {
                    abort.store(true, Ordering::Relaxed);
                    if first_error.as_ref().is_none_or(|(j, _)| i < *j) {
                        first_error = Some((i, e));
                    }
                }
            }
            count += 1;
            progress(count, total);
        }
    });
    if let Some((_, e)) = first_error {
        return Err(e);
    }
    let done: Vec<Done> = done
        .into_iter()
        .map(|d| d.expect("every job reported"))
        .collect();

    let vocab = writer::Vocab::build(
        done.iter()
            .flat_map(|d| d.captions.iter().map(|s| s.as_str())),
    );
    for (si, split) in SPLITS.iter().enumerate() {
        let mut anns = Vec::new();
        for (job, d) in jobs.iter().zip(&done) {
            if config.split_of(job.pid) != si {
                continue;
            }
            for sentence in &d.captions {
                anns.push(writer::Annotation {
                    file_path: &job.file_path,
                    onehot: vocab.encode(sentence),
                    sentence,
                    id: job.pid,
                    image_id: job.image_id,
                });
            }
        }
        writer::write_annotations(&ann_dir.join(format!("{split}.json")), &anns)?;
    }
    writer::write_file(&out.join("vocab.json"), vocab.to_json().as_bytes())?;
    let mut lines = String::new();
    for d in &done {
        lines.push_str(&d.attributes);
        lines.push('\n');
    }
    writer::write_file(&out.join("attributes.jsonl"), lines.as_bytes())?;

    let report = SynthReport {
        images: total,
        captions: total * 2,
        vocab_words: vocab.words.len(),
        identities: [config.train_ids, config.val_ids, config.test_ids],
    };
    let meta = serde_json::json!({
        "generator": "lookout synth",
        "format": "textreid",
        "config": config,
        "counts": {
            "images": report.images,
            "captions": report.captions,
            "vocab_words": report.vocab_words,
            "identities": {
                "train": config.train_ids,
                "val": config.val_ids,
                "test": config.test_ids,
            },
            "images_per_split": {
                "train": config.train_ids * config.images_per_id,
                "val": config.val_ids * config.images_per_id,
                "test": config.test_ids * config.images_per_id,
            },
        },
    });
    let path = out.join("synth.json");
    let text = serde_json::to_string_pretty(&meta).map_err(|source| SynthError::Json {
        path: path.clone(),
        source,
    })?;
    writer::write_file(&path, (text + "\n").as_bytes())?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap, HashSet};

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lookout_synth_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn small(seed: u64) -> SynthConfig {
        SynthConfig {
            seed,
            train_ids: 6,
            val_ids: 2,
            test_ids: 3,
            images_per_id: 3,
            min_height: 96,
            max_height: 160,
            threads: 2,
            ..SynthConfig::default()
        }
    }

    fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else {
                    let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(dir, dir, &mut out);
        out
    }

    #[test]
    fn generate_end_to_end() {
        let cfg = small(7);
        let out = temp_dir("e2e");
        let mut calls = 0;
        let report = generate(&cfg, &out, &mut |d, t| {
            calls += 1;
            assert!(d <= t);
        })
        .unwrap();
        assert_eq!(calls, 33);
        assert_eq!(report.images, 33);
        assert_eq!(report.captions, 66);
        assert_eq!(report.identities, [6, 2, 3]);

        let vocab: HashMap<String, u32> =
            serde_json::from_str(&std::fs::read_to_string(out.join("vocab.json")).unwrap())
                .unwrap();
        assert_eq!(vocab.len(), report.vocab_words);
        let by_id: HashMap<u32, &str> = vocab.iter().map(|(w, &i)| (i, w.as_str())).collect();
        assert_eq!(by_id.len(), vocab.len());
        assert!(!by_id.contains_key(&0));
        assert!((1..=vocab.len() as u32).all(|i| by_id.contains_key(&i)));

        let mut ids_per_split: Vec<HashSet<u64>> = Vec::new();
        let mut image_ids = HashSet::new();
        for split in SPLITS {
            let j: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(out.join(format!("annotations/{split}.json"))).unwrap(),
            )
            .unwrap();
            let anns = j["annotations"].as_array().unwrap();
            let mut ids = HashSet::new();
            let mut per_image: HashMap<u64, usize> = HashMap::new();
            for a in anns {
                let fp = a["file_path"].as_str().unwrap();
                assert!(fp.starts_with(&format!("{split}/")), "{fp}");
                assert!(out.join("imgs").join(fp).is_file(), "{fp}");
                let sentence = a["sentence"].as_str().unwrap();
                let decoded: Vec<&str> = a["onehot"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| by_id[&(v.as_u64().unwrap() as u32)])
                    .collect();
                assert_eq!(decoded, split_words(sentence), "{sentence}");
                ids.insert(a["id"].as_u64().unwrap());
                let iid = a["image_id"].as_u64().unwrap();
                *per_image.entry(iid).or_default() += 1;
            }
            assert!(per_image.values().all(|&n| n == 2));
            for iid in per_image.keys() {
                assert!(image_ids.insert(*iid), "image id {iid} in two splits");
            }
            ids_per_split.push(ids);
        }
        assert_eq!(ids_per_split[0], (0..6).collect());
        assert_eq!(ids_per_split[1], (6..8).collect());
        assert_eq!(ids_per_split[2], (8..11).collect());
        assert_eq!(image_ids, (0..33).collect());

        let lines = std::fs::read_to_string(out.join("attributes.jsonl")).unwrap();
        assert_eq!(lines.lines().count(), 33);
        let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
        assert_eq!(first["file_path"], "train/0_0.png");
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("synth.json")).unwrap())
                .unwrap();
        let back: SynthConfig = serde_json::from_value(meta["config"].clone()).unwrap();
        assert_eq!(back, cfg);
        // each identity is seen from the front, the back and a side
        for pid in 0..11 {
            let views: HashSet<String> = lines
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .filter(|v| v["id"] == pid)
                .map(|v| v["view"].as_str().unwrap().to_string())
                .collect();
            assert!(
                views.contains("front") && views.contains("back"),
                "{views:?}"
            );
            assert!(
                views.contains("left") || views.contains("right"),
                "{views:?}"
            );
        }
        let img = image::open(out.join("imgs/train/0_0.png")).unwrap();
        assert!((96..=160).contains(&img.height()));
        std::fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn generate_is_deterministic() {
        let a = temp_dir("det_a");
        let b = temp_dir("det_b");
        let c = temp_dir("det_c");
        let mut cfg = small(11);
        cfg.train_ids = 3;
        cfg.val_ids = 1;
        cfg.test_ids = 1;
        cfg.jpeg = true;
        generate(&cfg, &a, &mut |_, _| {}).unwrap();
        let mut one_thread = cfg.clone();
        one_thread.threads = 1;
        generate(&one_thread, &b, &mut |_, _| {}).unwrap();
        let (ta, mut tb) = (read_tree(&a), read_tree(&b));
        // synth.json records the thread count; everything else must match
        tb.insert("synth.json".into(), ta["synth.json"].clone());
        assert_eq!(ta, tb);
        cfg.seed = 12;
        generate(&cfg, &c, &mut |_, _| {}).unwrap();
        let tc = read_tree(&c);
        assert_ne!(ta["annotations/train.json"], tc["annotations/train.json"]);
        assert_ne!(ta["imgs/train/0_0.jpg"], tc["imgs/train/0_0.jpg"]);
        for d in [a, b, c] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }

    #[test]
    fn config_from_toml_and_validation() {
        let c: SynthConfig = toml::from_str("seed = 5\ntrain_ids = 10\njpeg = true\n").unwrap();
        assert_eq!((c.seed, c.train_ids, c.val_ids, c.jpeg), (5, 10, 100, true));
        assert!(toml::from_str::<SynthConfig>("sed = 5").is_err());
        let bad = SynthConfig {
            images_per_id: 0,
            ..SynthConfig::default()
        };
        assert!(matches!(bad.validate(), Err(SynthError::InvalidConfig(_))));
        let bad = SynthConfig {
            min_height: 300,
            max_height: 200,
            ..SynthConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}
