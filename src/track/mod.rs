//! Tracking and sighting formation: turns a camera's per-frame person detections into
//! one [`Sighting`] per person track, each with its best crop, so that the store holds
//! people rather than frames.
//!
//! Data flow (one [`Tracker`] per camera, fed in frame order):
//!
//! ```text
//! VideoFrame + [Detection] ─▶ Tracker::update ─▶ Vec<Sighting> ─▶ visual encoder ─▶ store
//!                               │ motion:      constant-velocity Kalman prediction per track
//!                               │ association: ByteTrack's two rounds (high, then low scores)
//!                               │ quality:     best observation per track span
//!                               └ image:       crop 128×384 + frame thumbnail, cut on emit
//! ```
//!
//! The stage is plain Rust with no I/O; [`encode_jpeg`] turns a sighting's images into the
//! bytes the store and the web UI keep.
mod association;
mod config;
mod crop;
mod error;
mod motion;
mod quality;
mod sighting;
mod tracker;

pub use config::TrackerConfig;
pub use crop::{encode_jpeg, SightingImage};
pub use error::{ImageEncodeError, TrackError};
pub use sighting::{Sighting, SightingCause};
pub use tracker::{ActiveTrack, TrackState, Tracker, TrackerStats};
