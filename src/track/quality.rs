//! How good one observation of a person is as *the* picture of that person: the score
//! that picks each sighting's best crop.
//!
//! ```text
//! quality = (0.4 · size + 0.3 · detector score + 0.3 · sharpness) · edge
//!   size      = min(1, box height / crop height)   a box as tall as the crop needs no upscaling
//!   sharpness = v / (v + 100)                      v: variance of the Laplacian of the grey box
//!   edge      = 0.5 when the box touches the frame border (the person is probably cut), else 1
//! ```
//!
//! Size weighs most because the text–image model sees a 384 × 128 crop: a person 60
//! pixels tall is mostly interpolation. The variance of the Laplacian is the usual cheap
//! focus measure (motion blur and defocus flatten second derivatives); 100 is where it
//! reaches one half, a common "blurry" cut-off for 8-bit grey images. The Laplacian is
//! sampled on a grid whose step is the box height over the crop height, i.e. at the
//! resolution the crop will have, so a big box is not rewarded for detail the crop
//! cannot keep, and the work per observation is bounded by the crop's pixel count.
use crate::frame::{BBox, VideoFrame};

const SIZE_WEIGHT: f32 = 0.4;
const SCORE_WEIGHT: f32 = 0.3;
const SHARPNESS_WEIGHT: f32 = 0.3;
/// Laplacian variance at which the sharpness term is one half.
const SHARPNESS_HALF_POINT: f32 = 100.0;
/// Factor for a box that touches the frame border.
const EDGE_PENALTY: f32 = 0.5;
/// Distance from the border, in pixels, within which a box counts as touching it
/// (detectors rarely put the edge exactly on the last pixel).
const EDGE_MARGIN_PX: f32 = 2.0;
/// Fewer Laplacian samples than this give no meaningful variance.
const MIN_LAPLACIAN_SAMPLES: usize = 9;

/// True when `bbox` reaches within a couple of pixels of the frame border.
pub fn touches_frame_edge(bbox: &BBox, frame_width: u32, frame_height: u32) -> bool {
    bbox.x1 <= EDGE_MARGIN_PX
        || bbox.y1 <= EDGE_MARGIN_PX
        || bbox.x2 >= frame_width as f32 - EDGE_MARGIN_PX
        || bbox.y2 >= frame_height as f32 - EDGE_MARGIN_PX
}

/// Variance of the 4-neighbour Laplacian of the grey image inside `bbox`, sampled every
/// `step` pixels (see the module text). `None` when the frame's buffer does not hold
/// `width × height` RGB pixels or the box covers too few samples.
pub fn laplacian_variance(frame: &VideoFrame, bbox: &BBox, step: u32) -> Option<f32> {
    let (w, h) = (frame.width as usize, frame.height as usize);
    if frame.rgb.len() < w.checked_mul(h)?.checked_mul(3)? {
        return None;
    }
    let step = step.max(1) as usize;
    let b = bbox.clamp(frame.width, frame.height);
    // Laplacian centres need a neighbour `step` away on every side, inside the frame.
    let x_start = (b.x1.floor() as usize).max(step);
    let y_start = (b.y1.floor() as usize).max(step);
    let x_end = (b.x2.ceil() as usize).min(w.saturating_sub(step));
    let y_end = (b.y2.ceil() as usize).min(h.saturating_sub(step));
    let rgb = frame.rgb.as_slice();
    let grey = |x: usize, y: usize| -> f64 {
        let i = (y * w + x) * 3;
        // ITU-R BT.601 luma weights.
        0.299 * f64::from(rgb[i]) + 0.587 * f64::from(rgb[i + 1]) + 0.114 * f64::from(rgb[i + 2])
    };
    let (mut n, mut sum, mut sum_sq) = (0usize, 0.0f64, 0.0f64);
    for y in (y_start..y_end).step_by(step) {
        for x in (x_start..x_end).step_by(step) {
            let lap = 4.0 * grey(x, y)
                - grey(x - step, y)
                - grey(x + step, y)
                - grey(x, y - step)
                - grey(x, y + step);
            n += 1;
            sum += lap;
            sum_sq += lap * lap;
        }
    }
    if n < MIN_LAPLACIAN_SAMPLES {
        return None;
    }
    let mean = sum / n as f64;
    Some(((sum_sq / n as f64) - mean * mean).max(0.0) as f32)
}

/// The Laplacian sampling step for a box: box height over crop height, at least 1.
pub fn sampling_step(bbox: &BBox, crop_height: u32) -> u32 {
    (bbox.height() / crop_height.max(1) as f32).round().max(1.0) as u32
}

/// The quality score of the module text, in [0, 1]. `sharpness` is a Laplacian variance
/// (0 when unknown).
pub fn observation_quality(
    bbox: &BBox,
    detector_score: f32,
    sharpness: f32,
    frame_width: u32,
    frame_height: u32,
    crop_height: u32,
) -> f32 {
    let size = (bbox.height() / crop_height.max(1) as f32).clamp(0.0, 1.0);
    let score = if detector_score.is_finite() {
        detector_score.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let sharpness = sharpness.max(0.0);
    let sharp = sharpness / (sharpness + SHARPNESS_HALF_POINT);
    let edge = if touches_frame_edge(bbox, frame_width, frame_height) {
        EDGE_PENALTY
    } else {
        1.0
    };
    (SIZE_WEIGHT * size + SCORE_WEIGHT * score + SHARPNESS_WEIGHT * sharp) * edge
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn frame_from(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> VideoFrame {
        VideoFrame::from_fn("test", width, height, pixel)
    }

    #[test]
    fn checkerboard_is_sharper_than_a_gradient_and_flat_is_zero() {
        let bbox = BBox::new(10.0, 10.0, 90.0, 90.0);
        let checker = frame_from(100, 100, |x, y| {
            if (x / 2 + y / 2) % 2 == 0 {
                [230; 3]
            } else {
                [20; 3]
            }
        });
        let gradient = frame_from(100, 100, |x, _| [(x * 2) as u8; 3]);
        let flat = frame_from(100, 100, |_, _| [128; 3]);
        let sharp = laplacian_variance(&checker, &bbox, 1).unwrap();
        let smooth = laplacian_variance(&gradient, &bbox, 1).unwrap();
        assert!(sharp > 1000.0 && smooth < 1.0, "{sharp} vs {smooth}");
        assert_eq!(laplacian_variance(&flat, &bbox, 1), Some(0.0));
    }

    #[test]
    fn short_buffers_and_tiny_boxes_give_none() {
        let mut frame = frame_from(50, 50, |_, _| [0; 3]);
        assert!(laplacian_variance(&frame, &BBox::new(10.0, 10.0, 11.0, 11.0), 1).is_none());
        frame.rgb = Arc::new(vec![0; 10]);
        assert!(laplacian_variance(&frame, &BBox::new(0.0, 0.0, 50.0, 50.0), 1).is_none());
    }

    #[test]
    fn edge_boxes_are_penalised() {
        let inside = BBox::new(100.0, 100.0, 150.0, 250.0);
        let cut = BBox::new(0.0, 100.0, 50.0, 250.0);
        assert!(!touches_frame_edge(&inside, 640, 480));
        assert!(touches_frame_edge(&cut, 640, 480));
        let q_inside = observation_quality(&inside, 0.9, 200.0, 640, 480, 384);
        let q_cut = observation_quality(&cut, 0.9, 200.0, 640, 480, 384);
        assert!((q_cut - q_inside * EDGE_PENALTY).abs() < 1e-6);
    }

    #[test]
    fn larger_boxes_score_higher_until_the_crop_size() {
        let small = BBox::new(100.0, 100.0, 130.0, 180.0);
        let large = BBox::new(100.0, 50.0, 200.0, 350.0);
        let q = |b: &BBox| observation_quality(b, 0.8, 50.0, 1920, 1080, 384);
        assert!(q(&large) > q(&small));
        let huge = BBox::new(100.0, 10.0, 400.0, 1000.0);
        let taller = BBox::new(100.0, 5.0, 400.0, 1050.0);
        assert_eq!(q(&huge), q(&taller));
        assert_eq!(sampling_step(&huge, 384), 3);
        assert_eq!(sampling_step(&small, 384), 1);
    }
}
