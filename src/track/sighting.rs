//! A sighting: one person track (or one bounded stretch of a long track) of one camera,
//! summarised by its best observation. This is what the store holds — people, not
//! frames — and what the visual encoder embeds (its `crop`).
use crate::frame::BBox;

use super::crop::SightingImage;

/// Why a sighting was emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SightingCause {
    /// The track ended: lost for longer than `max_lost_frames`, or a tentative track
    /// that was never confirmed (only emitted when it reached `min_track_frames`).
    TrackEnded,
    /// The track is still alive and its current span reached `emit_interval_ms`.
    Interval,
    /// The camera stopped and [`Tracker::flush`](super::Tracker::flush) ended the track.
    Flushed,
}

/// One person's appearance in one camera over `first_seen_ms ..= last_seen_ms`.
#[derive(Debug, Clone)]
pub struct Sighting {
    pub camera_id: String,
    /// Unique within one run of the camera's tracker (ids start at 1 and only grow);
    /// the sightings of one long track share it.
    pub track_id: u64,
    /// Which stretch of the track this is: 0 for the first sighting of a track, then
    /// one more for each sighting emitted at `emit_interval_ms`.
    pub part: u32,
    /// Time of the first observation of this sighting's span, Unix milliseconds.
    pub first_seen_ms: i64,
    /// Time of the last observation of the span.
    pub last_seen_ms: i64,
    /// Time of the frame the crop was cut from.
    pub best_time_ms: i64,
    /// The best observation's detector box, cut to the frame, in frame pixels.
    pub bbox: BBox,
    /// The best observation's detector score.
    pub score: f32,
    /// The best observation's quality (see `track::quality`), in [0, 1].
    pub quality: f32,
    /// Frames of the span in which the person was detected.
    pub observations: u32,
    pub frame_width: u32,
    pub frame_height: u32,
    /// The person crop, `crop_width × crop_height` (128 × 384 by default).
    pub crop: SightingImage,
    /// The best frame, reduced to at most `thumbnail_max_width` wide.
    pub thumbnail: SightingImage,
    /// `bbox` in thumbnail pixels.
    pub thumbnail_bbox: BBox,
    pub cause: SightingCause,
}
