//! Turns NanoDet's dense output into person boxes: GFL distance decoding per grid cell,
//! score filtering and greedy non-maximum suppression.
//!
//! The model predicts, for every cell of the stride-8, -16 and -32 grids, class
//! probabilities and, for each side of the box, a distribution over distances of 0..=10
//! strides from the cell centre (Generalized Focal Loss). The distance is the expectation of
//! that distribution (softmax over the 11 bins), times the stride; the box is centre minus
//! left/top and plus right/bottom. This is NanoDet's own decoding; @vladmandic/human takes
//! the arg-max bin instead, which snaps sides to whole strides.
use crate::frame::{BBox, Detection};

/// Strides of the three output grids, in the order their cells appear in the output rows.
pub const STRIDES: [u32; 3] = [8, 16, 32];
/// COCO classes scored per cell.
pub const NUM_CLASSES: usize = 80;
/// Bins of each side's distance distribution (distances 0..=10 strides).
pub const REG_BINS: usize = 11;
/// Columns of one output row: class scores, then 4 × 11 distance logits.
pub const ROW_WIDTH: usize = NUM_CLASSES + 4 * REG_BINS;
/// Columns of one row after the detector keeps only the wanted class: its score, then the
/// 44 distance logits.
pub const PERSON_ROW_WIDTH: usize = 1 + 4 * REG_BINS;

/// Where a cell's anchor point sits, in cells from its top-left corner. NanoDet's GFL head
/// (the 3-stride, 11-bin generation this model comes from) and @vladmandic/human both use
/// the cell centre, `(x + 0.5) * stride`; NanoDet-Plus later moved it to the corner.
const CELL_OFFSET: f32 = 0.5;

/// Output rows of the model for a square input of `input_size` pixels.
pub fn rows_for(input_size: u32) -> usize {
    STRIDES
        .iter()
        .map(|&s| ((input_size / s) * (input_size / s)) as usize)
        .sum()
}

/// Expected value of the distribution given by `logits` over 0, 1, …, n-1 (stable softmax).
fn expected_bin(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut weight_sum = 0.0;
    let mut weighted = 0.0;
    for (bin, &logit) in logits.iter().enumerate() {
        let w = (logit - max).exp();
        weight_sum += w;
        weighted += w * bin as f32;
    }
    if weight_sum > 0.0 {
        weighted / weight_sum
    } else {
        0.0
    }
}

/// Boxes (in model-input pixels) of every cell whose score is at least `score_threshold`.
///
/// `rows` holds one image's rows in output order, each [`PERSON_ROW_WIDTH`] floats; returns
/// `None` when its length does not fit an input of `input_size` pixels.
pub fn decode_person_rows(
    rows: &[f32],
    input_size: u32,
    score_threshold: f32,
) -> Option<Vec<Detection>> {
    if rows.len() != rows_for(input_size) * PERSON_ROW_WIDTH {
        return None;
    }
    let mut found = Vec::new();
    let mut cells = rows.chunks_exact(PERSON_ROW_WIDTH);
    for stride in STRIDES {
        let grid = input_size / stride;
        let stride = stride as f32;
        for cell in 0..grid * grid {
            let row = cells.next()?;
            let score = row[0];
            if score.is_nan() || score < score_threshold {
                continue;
            }
            let cx = ((cell % grid) as f32 + CELL_OFFSET) * stride;
            let cy = ((cell / grid) as f32 + CELL_OFFSET) * stride;
            let mut side = row[1..]
                .chunks_exact(REG_BINS)
                .map(|b| expected_bin(b) * stride);
            let (left, top, right, bottom) =
                (side.next()?, side.next()?, side.next()?, side.next()?);
            found.push(Detection {
                bbox: BBox::new(cx - left, cy - top, cx + right, cy + bottom),
                score,
            });
        }
    }
    Some(found)
}

/// Greedy non-maximum suppression: best score first, dropping any box whose IoU with a kept
/// box exceeds `iou_threshold`; at most `max_detections` are kept.
pub fn non_max_suppression(
    mut detections: Vec<Detection>,
    iou_threshold: f32,
    max_detections: usize,
) -> Vec<Detection> {
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for d in detections {
        if kept.len() >= max_detections {
            break;
        }
        if kept.iter().all(|k| k.bbox.iou(&d.bbox) <= iou_threshold) {
            kept.push(d);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows for a 416 input, all cells at score 0 with flat distance logits.
    fn empty_rows(input_size: u32) -> Vec<f32> {
        vec![0.0; rows_for(input_size) * PERSON_ROW_WIDTH]
    }

    /// Logits that put (almost) all mass on `bin`.
    fn peaked(bin: usize) -> [f32; REG_BINS] {
        let mut l = [-30.0; REG_BINS];
        l[bin] = 30.0;
        l
    }

    fn set_cell(rows: &mut [f32], index: usize, score: f32, sides: [[f32; REG_BINS]; 4]) {
        let row = &mut rows[index * PERSON_ROW_WIDTH..(index + 1) * PERSON_ROW_WIDTH];
        row[0] = score;
        for (s, logits) in sides.iter().enumerate() {
            row[1 + s * REG_BINS..1 + (s + 1) * REG_BINS].copy_from_slice(logits);
        }
    }

    #[test]
    fn rows_for_416_is_52_26_13_squared() {
        assert_eq!(rows_for(416), 52 * 52 + 26 * 26 + 13 * 13);
        assert_eq!(rows_for(416), 3549);
    }

    #[test]
    fn expectation_of_flat_peaked_and_two_bin_logits() {
        assert!((expected_bin(&[0.0; REG_BINS]) - 5.0).abs() < 1e-6);
        assert!((expected_bin(&peaked(7)) - 7.0).abs() < 1e-4);
        // Equal mass on bins 2 and 3.
        let mut l = [-50.0; REG_BINS];
        l[2] = 4.0;
        l[3] = 4.0;
        assert!((expected_bin(&l) - 2.5).abs() < 1e-4);
        // Large logits must not overflow.
        let mut big = [0.0; REG_BINS];
        big[10] = 1e4;
        assert!((expected_bin(&big) - 10.0).abs() < 1e-4);
    }

    #[test]
    fn decodes_a_stride_16_cell_to_centre_minus_and_plus_distances() {
        let mut rows = empty_rows(416);
        // Stride 16 grid is 26 wide and follows the 52 × 52 stride-8 cells.
        let (x, y) = (7usize, 5usize);
        let index = 52 * 52 + y * 26 + x;
        set_cell(
            &mut rows,
            index,
            0.9,
            [peaked(2), peaked(3), peaked(2), peaked(4)],
        );
        let found = decode_person_rows(&rows, 416, 0.35).expect("rows fit a 416 input");
        assert_eq!(found.len(), 1);
        let (cx, cy) = ((x as f32 + 0.5) * 16.0, (y as f32 + 0.5) * 16.0);
        let b = found[0].bbox;
        assert!((b.x1 - (cx - 32.0)).abs() < 1e-3, "{b:?}");
        assert!((b.y1 - (cy - 48.0)).abs() < 1e-3, "{b:?}");
        assert!((b.x2 - (cx + 32.0)).abs() < 1e-3, "{b:?}");
        assert!((b.y2 - (cy + 64.0)).abs() < 1e-3, "{b:?}");
        assert_eq!(found[0].score, 0.9);
    }

    #[test]
    fn stride_32_cells_come_last_and_scale_by_32() {
        let mut rows = empty_rows(416);
        let last = rows_for(416) - 1; // bottom-right cell of the 13 × 13 grid
        set_cell(&mut rows, last, 0.5, [peaked(1); 4]);
        let found = decode_person_rows(&rows, 416, 0.35).expect("rows fit");
        let c = 12.5 * 32.0;
        assert_eq!(found.len(), 1);
        let b = found[0].bbox;
        assert!(
            (b.x1 - (c - 32.0)).abs() < 1e-3 && (b.y2 - (c + 32.0)).abs() < 1e-3,
            "{b:?}"
        );
    }

    #[test]
    fn threshold_drops_low_and_nan_scores() {
        let mut rows = empty_rows(416);
        set_cell(&mut rows, 10, 0.34, [peaked(1); 4]);
        set_cell(&mut rows, 11, f32::NAN, [peaked(1); 4]);
        set_cell(&mut rows, 12, 0.35, [peaked(1); 4]);
        let found = decode_person_rows(&rows, 416, 0.35).expect("rows fit");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].score, 0.35);
    }

    #[test]
    fn wrong_row_count_is_refused() {
        assert!(decode_person_rows(&[0.0; 45], 416, 0.5).is_none());
        assert!(decode_person_rows(&empty_rows(320), 416, 0.5).is_none());
    }

    fn det(x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> Detection {
        Detection {
            bbox: BBox::new(x1, y1, x2, y2),
            score,
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_and_all_disjoint_ones() {
        let boxes = vec![
            det(0.0, 0.0, 10.0, 20.0, 0.6),
            det(1.0, 0.0, 11.0, 20.0, 0.9), // IoU with the first ≈ 0.82
            det(50.0, 50.0, 60.0, 70.0, 0.4),
            det(5.0, 0.0, 15.0, 20.0, 0.5), // IoU with the best = 0.6/1.4 ≈ 0.43
        ];
        let kept = non_max_suppression(boxes, 0.5, 10);
        let scores: Vec<f32> = kept.iter().map(|d| d.score).collect();
        assert_eq!(scores, vec![0.9, 0.5, 0.4]);
    }

    #[test]
    fn nms_stops_at_max_detections() {
        let boxes = (0..5)
            .map(|i| {
                det(
                    i as f32 * 100.0,
                    0.0,
                    i as f32 * 100.0 + 10.0,
                    10.0,
                    0.1 * i as f32,
                )
            })
            .collect();
        let kept = non_max_suppression(boxes, 0.5, 2);
        assert_eq!(kept.len(), 2);
        assert!((kept[0].score - 0.4).abs() < 1e-6 && (kept[1].score - 0.3).abs() < 1e-6);
    }
}
