//! Errors of the tracking stage: building a tracker from its configuration, and turning
//! a sighting's pixels into JPEG for the store and the web UI.
//!
//! Tracking itself (`Tracker::update`) has no error path: a malformed frame or a
//! nonsensical detection is skipped and counted in the tracker's statistics, because one
//! bad frame must not stop a camera.
use thiserror::Error;

/// A tracker could not be built.
#[derive(Debug, Error)]
pub enum TrackError {
    #[error("tracker config: `{field}` = {value} {reason}")]
    InvalidConfig {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("tracker: the camera id is empty; every sighting must name its camera")]
    EmptyCameraId,
}

/// A [`SightingImage`](super::SightingImage) could not be encoded.
#[derive(Debug, Error)]
pub enum ImageEncodeError {
    #[error(
        "image of {width}×{height} needs {expected} RGB bytes but holds {actual}; \
         it cannot be encoded"
    )]
    SizeMismatch {
        width: u32,
        height: u32,
        expected: usize,
        actual: usize,
    },
    #[error("JPEG quality {0} is outside 1..=100")]
    Quality(u8),
    #[error("encoding a {width}×{height} image as JPEG: {source}")]
    Jpeg {
        width: u32,
        height: u32,
        #[source]
        source: image::ImageError,
    },
}
