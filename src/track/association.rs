//! Matching predicted track boxes to detections by overlap (IoU).
//!
//! The assignment is greedy: every (track, detection) pair whose IoU reaches the
//! threshold is sorted by IoU, highest first, and taken when neither side is taken yet.
//! Hungarian assignment maximises the total IoU instead; the two differ only when one
//! detection overlaps two predictions about equally, which for people means a crossing —
//! and there the motion model's prediction, not the assignment rule, is what keeps the
//! ids apart. Greedy is O(n·m log(n·m)), has no numeric corner cases, and ties are broken
//! by index so that results are reproducible.
use crate::frame::BBox;

/// Result of one association round; indices refer to the slices passed in.
#[derive(Debug, Default, PartialEq)]
pub struct Assignment {
    /// `(track index, detection index)` pairs.
    pub matches: Vec<(usize, usize)>,
    pub unmatched_tracks: Vec<usize>,
    pub unmatched_detections: Vec<usize>,
}

/// Greedy IoU assignment of `tracks` to `detections`; pairs below `min_iou` never match.
pub fn match_by_iou(tracks: &[BBox], detections: &[BBox], min_iou: f32) -> Assignment {
    let mut candidates: Vec<(f32, usize, usize)> = Vec::new();
    for (t, track) in tracks.iter().enumerate() {
        for (d, detection) in detections.iter().enumerate() {
            let iou = track.iou(detection);
            if iou >= min_iou {
                candidates.push((iou, t, d));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut track_taken = vec![false; tracks.len()];
    let mut detection_taken = vec![false; detections.len()];
    let mut assignment = Assignment::default();
    for (_, t, d) in candidates {
        if !track_taken[t] && !detection_taken[d] {
            track_taken[t] = true;
            detection_taken[d] = true;
            assignment.matches.push((t, d));
        }
    }
    assignment.unmatched_tracks = (0..tracks.len()).filter(|&t| !track_taken[t]).collect();
    assignment.unmatched_detections = (0..detections.len())
        .filter(|&d| !detection_taken[d])
        .collect();
    assignment
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_overlaps_win_and_leftovers_are_reported() {
        let tracks = [
            BBox::new(0.0, 0.0, 10.0, 20.0),
            BBox::new(100.0, 0.0, 110.0, 20.0),
            BBox::new(300.0, 0.0, 310.0, 20.0),
        ];
        let detections = [
            BBox::new(101.0, 0.0, 111.0, 20.0),
            BBox::new(1.0, 1.0, 11.0, 21.0),
            BBox::new(500.0, 0.0, 510.0, 20.0),
        ];
        let a = match_by_iou(&tracks, &detections, 0.3);
        let mut matches = a.matches.clone();
        matches.sort();
        assert_eq!(matches, vec![(0, 1), (1, 0)]);
        assert_eq!(a.unmatched_tracks, vec![2]);
        assert_eq!(a.unmatched_detections, vec![2]);
    }

    #[test]
    fn a_detection_goes_to_the_track_it_overlaps_most() {
        let tracks = [
            BBox::new(0.0, 0.0, 10.0, 20.0),
            BBox::new(4.0, 0.0, 14.0, 20.0),
        ];
        let detections = [BBox::new(5.0, 0.0, 15.0, 20.0)];
        let a = match_by_iou(&tracks, &detections, 0.1);
        assert_eq!(a.matches, vec![(1, 0)]);
        assert_eq!(a.unmatched_tracks, vec![0]);
    }

    #[test]
    fn threshold_blocks_weak_overlaps() {
        let a = match_by_iou(
            &[BBox::new(0.0, 0.0, 10.0, 10.0)],
            &[BBox::new(8.0, 0.0, 18.0, 10.0)],
            0.5,
        );
        assert!(a.matches.is_empty());
        assert_eq!(a.unmatched_tracks, vec![0]);
        assert_eq!(a.unmatched_detections, vec![0]);
    }
}
