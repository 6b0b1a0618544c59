//! The tracker's configuration (the `[tracker]` table of a camera or of the ingest
//! defaults) and its validation.
//!
//! Every threshold of the ByteTrack-style association, the track life cycle, the
//! sighting emission rule and the output image sizes live here, each documented where it
//! is declared. [`TrackerConfig::validate`] is what `Tracker::new` runs: a bad value is
//! rejected up front with an error that names the field and the value, instead of
//! surfacing later as a tracker that silently never emits.
use serde::{Deserialize, Serialize};

use super::error::TrackError;

/// Tuning of one camera's tracker. All fields have defaults suited to pedestrians in
/// 10–30 fps surveillance footage; a TOML table only needs the ones it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrackerConfig {
    /// Detections scoring at least this are "high" detections: they take part in the
    /// first association round and may start new tracks. (ByteTrack's `track_thresh`.)
    pub high_score_threshold: f32,
    /// Detections scoring at least this but below `high_score_threshold` are "low"
    /// detections: they can only extend a track that is currently being followed
    /// (second association round), which keeps people through partial occlusion and
    /// motion blur without letting weak detections start tracks. Lower ones are dropped.
    pub low_score_threshold: f32,
    /// A high detection left unmatched starts a new track only when it scores at least
    /// this. Must be `>= high_score_threshold`.
    pub new_track_threshold: f32,
    /// Minimum IoU between a track's predicted box and a high detection for them to be
    /// matched (first round; tracked and lost tracks take part).
    pub match_iou_threshold: f32,
    /// Minimum IoU between a tracked track's predicted box and a low detection (second
    /// round). Stricter than the first round because low detections are less reliable.
    pub low_score_match_iou_threshold: f32,
    /// Minimum IoU for a tentative track (seen in one frame only) to be confirmed by a
    /// high detection in the next frame.
    pub tentative_match_iou_threshold: f32,
    /// Frames a lost track (no matching detection) is kept, still predicted by its
    /// motion model, so that a person hidden for a moment keeps the id. After that the
    /// track ends and its sighting is emitted.
    pub max_lost_frames: u32,
    /// Frames with a matched detection a track needs before it emits anything. A
    /// one-frame false positive of the detector then never reaches the store.
    pub min_track_frames: u32,
    /// A track that stays alive this long (milliseconds since the first observation of
    /// its current span) emits a sighting for that span and starts a new span, so that
    /// a person standing in view for an hour is searchable before leaving, and each
    /// stored sighting covers a bounded stretch of time.
    pub emit_interval_ms: u64,
    /// Height of the person crop in pixels (TextReID's input is 384 × 128).
    pub crop_height: u32,
    /// Width of the person crop in pixels.
    pub crop_width: u32,
    /// Fraction of the box width / height added on each side before cutting the crop,
    /// so that a tight detector box does not cut off feet, hair or a bag.
    pub crop_margin: f32,
    /// The frame thumbnail stored with a sighting is reduced to at most this width
    /// (aspect ratio kept); narrower frames are kept at their own size.
    pub thumbnail_max_width: u32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            high_score_threshold: 0.5,
            low_score_threshold: 0.1,
            new_track_threshold: 0.6,
            match_iou_threshold: 0.2,
            low_score_match_iou_threshold: 0.5,
            tentative_match_iou_threshold: 0.3,
            max_lost_frames: 30,
            min_track_frames: 3,
            emit_interval_ms: 30_000,
            crop_height: 384,
            crop_width: 128,
            crop_margin: 0.1,
            thumbnail_max_width: 640,
        }
    }
}

/// Largest crop or thumbnail side accepted; beyond it a typo (an extra zero) would make
/// every sighting a multi-megabyte allocation.
const MAX_IMAGE_SIDE: u32 = 4096;
/// Smallest thumbnail width that still shows anything useful.
const MIN_THUMBNAIL_WIDTH: u32 = 16;

impl TrackerConfig {
    /// Checks every field; the error names the first bad one and its value.
    pub fn validate(&self) -> Result<(), TrackError> {
        unit_interval("high_score_threshold", self.high_score_threshold)?;
        unit_interval("low_score_threshold", self.low_score_threshold)?;
        unit_interval("new_track_threshold", self.new_track_threshold)?;
        if self.low_score_threshold > self.high_score_threshold {
            return Err(invalid(
                "low_score_threshold",
                self.low_score_threshold,
                format!(
                    "must not exceed high_score_threshold ({})",
                    self.high_score_threshold
                ),
            ));
        }
        if self.new_track_threshold < self.high_score_threshold {
            return Err(invalid(
                "new_track_threshold",
                self.new_track_threshold,
                format!(
                    "must be at least high_score_threshold ({}): only high detections start tracks",
                    self.high_score_threshold
                ),
            ));
        }
        positive_iou("match_iou_threshold", self.match_iou_threshold)?;
        positive_iou(
            "low_score_match_iou_threshold",
            self.low_score_match_iou_threshold,
        )?;
        positive_iou(
            "tentative_match_iou_threshold",
            self.tentative_match_iou_threshold,
        )?;
        if self.min_track_frames == 0 {
            return Err(invalid(
                "min_track_frames",
                self.min_track_frames,
                "must be at least 1".to_string(),
            ));
        }
        if self.emit_interval_ms == 0 {
            return Err(invalid(
                "emit_interval_ms",
                self.emit_interval_ms,
                "must be positive".to_string(),
            ));
        }
        image_side("crop_height", self.crop_height, 1)?;
        image_side("crop_width", self.crop_width, 1)?;
        image_side(
            "thumbnail_max_width",
            self.thumbnail_max_width,
            MIN_THUMBNAIL_WIDTH,
        )?;
        if !(self.crop_margin.is_finite() && (0.0..=1.0).contains(&self.crop_margin)) {
            return Err(invalid(
                "crop_margin",
                self.crop_margin,
                "must be a fraction in [0, 1]".to_string(),
            ));
        }
        Ok(())
    }
}

fn invalid(field: &'static str, value: impl ToString, reason: String) -> TrackError {
    TrackError::InvalidConfig {
        field,
        value: value.to_string(),
        reason,
    }
}

fn unit_interval(field: &'static str, value: f32) -> Result<(), TrackError> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(invalid(field, value, "must be in [0, 1]".to_string()))
    }
}

fn positive_iou(field: &'static str, value: f32) -> Result<(), TrackError> {
    if value.is_finite() && value > 0.0 && value <= 1.0 {
        Ok(())
    } else {
        Err(invalid(
            field,
            value,
            "must be in (0, 1]: an IoU of 0 would match disjoint boxes".to_string(),
        ))
    }
}

fn image_side(field: &'static str, value: u32, min: u32) -> Result<(), TrackError> {
    if (min..=MAX_IMAGE_SIDE).contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            field,
            value,
            format!("must be between {min} and {MAX_IMAGE_SIDE} pixels"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_the_textreid_input() {
        let config = TrackerConfig::default();
        config.validate().unwrap();
        assert_eq!((config.crop_height, config.crop_width), (384, 128));
    }

    #[test]
    fn toml_table_overrides_some_fields_and_defaults_the_rest() {
        let config: TrackerConfig =
            toml::from_str("max_lost_frames = 12\nemit_interval_ms = 5000\n").unwrap();
        assert_eq!(config.max_lost_frames, 12);
        assert_eq!(config.emit_interval_ms, 5000);
        assert_eq!(
            config.high_score_threshold,
            TrackerConfig::default().high_score_threshold
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = toml::from_str::<TrackerConfig>("max_lost_frame = 12\n").unwrap_err();
        assert!(err.to_string().contains("max_lost_frame"), "{err}");
    }

    #[test]
    fn bad_values_are_rejected_with_the_field_and_value() {
        let cases: Vec<(TrackerConfig, &str, &str)> = vec![
            (
                TrackerConfig {
                    high_score_threshold: 1.5,
                    ..Default::default()
                },
                "high_score_threshold",
                "1.5",
            ),
            (
                TrackerConfig {
                    low_score_threshold: 0.7,
                    ..Default::default()
                },
                "low_score_threshold",
                "0.7",
            ),
            (
                TrackerConfig {
                    new_track_threshold: 0.3,
                    ..Default::default()
                },
                "new_track_threshold",
                "0.3",
            ),
            (
                TrackerConfig {
                    match_iou_threshold: 0.0,
                    ..Default::default()
                },
                "match_iou_threshold",
                "0",
            ),
            (
                TrackerConfig {
                    low_score_match_iou_threshold: f32::NAN,
                    ..Default::default()
                },
                "low_score_match_iou_threshold",
                "NaN",
            ),
            (
                TrackerConfig {
                    min_track_frames: 0,
                    ..Default::default()
                },
                "min_track_frames",
                "0",
            ),
            (
                TrackerConfig {
                    emit_interval_ms: 0,
                    ..Default::default()
                },
                "emit_interval_ms",
                "0",
            ),
            (
                TrackerConfig {
                    crop_width: 0,
                    ..Default::default()
                },
                "crop_width",
                "0",
            ),
            (
                TrackerConfig {
                    thumbnail_max_width: 64_000,
                    ..Default::default()
                },
                "thumbnail_max_width",
                "64000",
            ),
            (
                TrackerConfig {
                    crop_margin: -0.2,
                    ..Default::default()
                },
                "crop_margin",
                "-0.2",
            ),
        ];
        for (config, field, value) in cases {
            let err = config.validate().unwrap_err();
            match &err {
                TrackError::InvalidConfig {
                    field: f, value: v, ..
                } => {
                    assert_eq!(*f, field);
                    assert_eq!(v, value);
                }
                other => panic!("unexpected error {other:?}"),
            }
            let message = err.to_string();
            assert!(
                message.contains(field) && message.contains(value),
                "{message}"
            );
        }
    }
}
