//! The person detector on real footage: OpenCV's vtest.avi (Debian `opencv-doc`), frames
//! decoded by GStreamer at test time, against boxes drawn by hand in
//! `tests/fixtures/vtest_people.json`.
//!
//! Needs the converted model (`make models`) and the clip; without either, each test says
//! so on stderr and returns (or fails, when LOOKOUT_REQUIRE_DETECTOR=1). Environment:
//! LOOKOUT_NANODET (model path), VTEST (clip path), LOOKOUT_DETECT_DEVICE (`cpu`, `cuda:N`).
//! `cargo test --test detect_vtest -- --nocapture` shows precision, recall and timings.
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use lookout::detect::{Detector, DetectorConfig, ResizeMode};
use lookout::frame::{BBox, Detection, VideoFrame};

const WIDTH: u32 = 768;
const HEIGHT: u32 = 576;

#[derive(serde::Deserialize)]
struct Annotation {
    width: u32,
    height: u32,
    people: HashMap<String, Vec<[f32; 4]>>,
    #[serde(default)]
    ignore: HashMap<String, Vec<[f32; 4]>>,
}

fn annotation() -> Annotation {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vtest_people.json");
    let text =
        std::fs::read_to_string(&path).expect("tests/fixtures/vtest_people.json is readable");
    let a: Annotation = serde_json::from_str(&text).expect("vtest_people.json parses");
    assert_eq!(
        (a.width, a.height),
        (WIDTH, HEIGHT),
        "annotation frame size"
    );
    a
}

fn boxes(list: Option<&Vec<[f32; 4]>>) -> Vec<BBox> {
    list.into_iter()
        .flatten()
        .map(|b| BBox::new(b[0], b[1], b[2], b[3]))
        .collect()
}

/// Says why a test does not run, past the test harness's capture (which hides `eprintln!`
/// of passing tests), or fails when LOOKOUT_REQUIRE_DETECTOR=1.
fn skip(reason: &str) {
    if std::env::var_os("LOOKOUT_REQUIRE_DETECTOR").is_some_and(|v| v == "1") {
        panic!("LOOKOUT_REQUIRE_DETECTOR=1 but {reason}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED detect_vtest: {reason}");
}

fn model_path() -> PathBuf {
    std::env::var_os("LOOKOUT_NANODET")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/nanodet/nanodet.ts")
        })
}

fn clip_path() -> PathBuf {
    std::env::var_os("VTEST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/doc/opencv-doc/examples/data/vtest.avi"))
}

fn device() -> tch::Device {
    match std::env::var("LOOKOUT_DETECT_DEVICE").as_deref() {
        Ok("cuda") => tch::Device::Cuda(0),
        Ok(s) if s.starts_with("cuda:") => tch::Device::Cuda(s[5..].parse().expect("cuda:N")),
        _ => tch::Device::Cpu,
    }
}

/// Decodes the clip once with gst-launch (raw RGB on a pipe) and keeps `wanted` frames.
fn decode_frames(wanted: &[u64]) -> Result<HashMap<u64, VideoFrame>, String> {
    let clip = clip_path();
    if !clip.is_file() {
        return Err(format!(
            "{} not found (apt-get install opencv-doc)",
            clip.display()
        ));
    }
    let caps = format!("video/x-raw,format=RGB,width={WIDTH},height={HEIGHT}");
    let mut child = Command::new("gst-launch-1.0")
        .arg("-q")
        .arg("filesrc")
        .arg(format!("location={}", clip.display()))
        .args([
            "!",
            "avidemux",
            "!",
            "avdec_msmpeg4",
            "!",
            "videoconvert",
            "!",
            &caps,
        ])
        .args(["!", "fdsink", "fd=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run gst-launch-1.0 ({e}); install gstreamer1.0-tools"))?;
    let mut stdout = child.stdout.take().ok_or("gst-launch-1.0 without stdout")?;
    let last = wanted.iter().copied().max().unwrap_or(0);
    let mut frames = HashMap::new();
    let mut buffer = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    let mut index = 0u64;
    while index <= last {
        if stdout.read_exact(&mut buffer).is_err() {
            break;
        }
        if wanted.contains(&index) {
            frames.insert(
                index,
                VideoFrame {
                    camera_id: Arc::from("vtest"),
                    sequence: index,
                    timestamp_ms: index as i64 * 100,
                    width: WIDTH,
                    height: HEIGHT,
                    rgb: Arc::new(buffer.clone()),
                },
            );
        }
        index += 1;
    }
    drop(stdout);
    let _ = child.kill();
    let _ = child.wait();
    if frames.len() != wanted.len() {
        return Err(format!(
            "decoded {index} frames of {}, missing some of {wanted:?}",
            clip.display()
        ));
    }
    Ok(frames)
}

/// The annotated frames, decoded once for all tests of this file.
fn frames() -> &'static Result<HashMap<u64, VideoFrame>, String> {
    static FRAMES: OnceLock<Result<HashMap<u64, VideoFrame>, String>> = OnceLock::new();
    FRAMES.get_or_init(|| {
        let mut wanted: Vec<u64> = annotation()
            .people
            .keys()
            .map(|k| k.parse().expect("frame numbers are integers"))
            .collect();
        wanted.sort_unstable();
        decode_frames(&wanted)
    })
}

/// The detector with default settings, or the reason there is none. A model that exists
/// but does not load is a failure, not a reason to skip.
fn detector() -> Result<Detector, String> {
    let config = DetectorConfig {
        model: model_path(),
        ..DetectorConfig::default()
    };
    if !config.model.is_file() {
        return Err(format!(
            "{} not found (run `make models`)",
            config.model.display()
        ));
    }
    match Detector::build(&config, device()) {
        Ok(detector) => Ok(detector),
        Err(e) => panic!("the model exists but the detector does not build: {e}"),
    }
}

fn setup() -> Option<(Detector, &'static HashMap<u64, VideoFrame>)> {
    let outcome = detector().and_then(|d| frames().as_ref().map(|f| (d, f)).map_err(Clone::clone));
    match outcome {
        Ok(ready) => Some(ready),
        Err(reason) => {
            skip(&reason);
            None
        }
    }
}

/// Outcome of matching one frame's detections with its annotation.
#[derive(Debug, Default, Clone, Copy)]
struct Matched {
    hits: usize,
    false_positives: usize,
    /// Detections of people in the `ignore` list: neither hits nor false positives.
    ignored: usize,
    /// Sum of the IoU of the hits, for the mean box quality.
    hit_iou_sum: f32,
}

/// Greedy one-to-one matching, best detections first.
fn match_counts(detections: &[Detection], truth: &[BBox], ignore: &[BBox], iou: f32) -> Matched {
    let mut taken = vec![false; truth.len()];
    let mut m = Matched::default();
    let mut sorted = detections.to_vec();
    sorted.sort_by(|a, b| b.score.total_cmp(&a.score));
    for d in &sorted {
        let best = truth
            .iter()
            .enumerate()
            .filter(|(i, _)| !taken[*i])
            .map(|(i, t)| (i, t.iou(&d.bbox)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((i, overlap)) if overlap >= iou => {
                taken[i] = true;
                m.hits += 1;
                m.hit_iou_sum += overlap;
            }
            _ if ignore.iter().any(|g| g.iou(&d.bbox) >= 0.3) => m.ignored += 1,
            _ => m.false_positives += 1,
        }
    }
    m
}

#[test]
fn frame_700_finds_all_eight_walkers() {
    let Some((detector, frames)) = setup() else {
        return;
    };
    let annotation = annotation();
    let frame = &frames[&700];
    let found = detector.detect(frame).expect("detection runs");
    for d in &found {
        println!("frame 700: {:?} score {:.2}", d.bbox, d.score);
    }
    let truth = boxes(annotation.people.get("700"));
    let ignore = boxes(annotation.ignore.get("700"));
    assert_eq!(
        truth.len(),
        8,
        "the fixture holds the 8 walkers of frame 700"
    );
    assert!(
        found.len() >= 8,
        "found {} people, expected the 8 walkers",
        found.len()
    );
    for d in &found {
        let (w, h) = (d.bbox.width(), d.bbox.height());
        assert!(
            (25.0..=200.0).contains(&h) && (1.0..=5.0).contains(&(h / w)),
            "implausible person box {:?} ({w:.0} x {h:.0})",
            d.bbox
        );
        let near_someone = truth.iter().chain(&ignore).any(|t| t.iou(&d.bbox) >= 0.3);
        assert!(
            near_someone,
            "false positive {:?} (score {:.2})",
            d.bbox, d.score
        );
    }
    let m = match_counts(&found, &truth, &ignore, 0.5);
    assert_eq!(m.hits, 8, "walkers matched at IoU 0.5");
    assert_eq!(m.false_positives, 0);
}

#[test]
fn batch_gives_the_same_people_as_single_frames() {
    let Some((detector, frames)) = setup() else {
        return;
    };
    let (a, b) = (&frames[&100], &frames[&700]);
    let batch = detector.detect_batch(&[a, b]).expect("batch runs");
    assert_eq!(batch.len(), 2);
    for (frame, from_batch) in [a, b].into_iter().zip(&batch) {
        let single = detector.detect(frame).expect("single runs");
        assert_eq!(single.len(), from_batch.len(), "frame {}", frame.sequence);
        for (s, m) in single.iter().zip(from_batch) {
            assert!(
                s.bbox.iou(&m.bbox) > 0.99 && (s.score - m.score).abs() < 1e-3,
                "{s:?} vs {m:?}"
            );
        }
    }
    assert!(detector.detect_batch(&[]).expect("empty batch").is_empty());
}

/// Precision, recall, mean IoU of the hits and ms per frame of `detector` on the annotation.
struct Scores {
    precision: f64,
    recall: f64,
    mean_hit_iou: f64,
    ms_per_frame: f64,
}

fn evaluate(detector: &Detector, frames: &HashMap<u64, VideoFrame>, verbose: bool) -> Scores {
    let annotation = annotation();
    let mut numbers: Vec<u64> = frames.keys().copied().collect();
    numbers.sort_unstable();
    // One pass first: libtorch's first runs of a module pay for its setup.
    detector.detect(&frames[&numbers[0]]).expect("warm-up runs");

    let mut total = Matched::default();
    let mut people = 0;
    let mut elapsed = std::time::Duration::ZERO;
    for n in &numbers {
        let key = n.to_string();
        let truth = boxes(annotation.people.get(&key));
        let ignore = boxes(annotation.ignore.get(&key));
        let started = Instant::now();
        let found = detector.detect(&frames[n]).expect("detection runs");
        elapsed += started.elapsed();
        let m = match_counts(&found, &truth, &ignore, 0.5);
        if verbose {
            println!(
                "frame {n}: {} people, {} detections: {} hits, {} false positives, {} on ignored people",
                truth.len(),
                found.len(),
                m.hits,
                m.false_positives,
                m.ignored
            );
        }
        total.hits += m.hits;
        total.false_positives += m.false_positives;
        total.hit_iou_sum += m.hit_iou_sum;
        people += truth.len();
    }
    Scores {
        precision: total.hits as f64 / (total.hits + total.false_positives).max(1) as f64,
        recall: total.hits as f64 / people.max(1) as f64,
        mean_hit_iou: f64::from(total.hit_iou_sum) / total.hits.max(1) as f64,
        ms_per_frame: elapsed.as_secs_f64() * 1e3 / numbers.len() as f64,
    }
}

#[test]
fn precision_and_recall_on_the_hand_annotation() {
    let Some((detector, frames)) = setup() else {
        return;
    };
    let s = evaluate(&detector, frames, true);
    println!(
        "default config, IoU 0.5 over {} frames: precision {:.3}, recall {:.3}, mean IoU of hits {:.3}; \
         {:.1} ms per frame on {:?} ({} threads)",
        frames.len(),
        s.precision,
        s.recall,
        s.mean_hit_iou,
        s.ms_per_frame,
        detector.device(),
        tch::get_num_threads()
    );
    // The alternative fitting, for comparison (the default is the better one here).
    let letterbox = DetectorConfig {
        resize: ResizeMode::Letterbox,
        ..detector.config().clone()
    };
    let other = Detector::build(&letterbox, detector.device()).expect("letterbox detector builds");
    let l = evaluate(&other, frames, false);
    println!(
        "letterbox: precision {:.3}, recall {:.3}, mean IoU of hits {:.3}",
        l.precision, l.recall, l.mean_hit_iou
    );
    assert!(
        s.precision >= 0.9,
        "precision {:.3} fell below 0.9",
        s.precision
    );
    assert!(s.recall >= 0.9, "recall {:.3} fell below 0.9", s.recall);
}
