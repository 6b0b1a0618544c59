//! The per-camera tracker: ByteTrack-style association of detections to tracks, the
//! track life cycle, and the emission of sightings.
//!
//! Each [`Tracker::update`] runs, in order:
//! 1. drop detections below `low_score_threshold` (or with non-finite / empty boxes) and
//!    split the rest into high and low by `high_score_threshold`;
//! 2. predict every track's box one frame ahead ([`BoxMotion`]);
//! 3. match high detections to tracked and lost tracks (IoU ≥ `match_iou_threshold`);
//! 4. match low detections to the tracked tracks still unmatched
//!    (IoU ≥ `low_score_match_iou_threshold`): a person who is half hidden or blurred
//!    keeps their track, but a weak detection never starts one;
//! 5. tracked tracks left unmatched become lost;
//! 6. match the remaining high detections to tentative tracks (started last frame;
//!    IoU ≥ `tentative_match_iou_threshold`), which confirms them; unmatched tentative
//!    tracks end;
//! 7. start a tentative track for each high detection still unmatched that scores at
//!    least `new_track_threshold`;
//! 8. end lost tracks unseen for more than `max_lost_frames` frames;
//! 9. emit a sighting for each ended track with at least `min_track_frames`
//!    observations, and for each live track whose current span reached
//!    `emit_interval_ms` (that track then starts a new span).
//!
//! A track remembers, for its current span, only its best observation: the frame (an
//! `Arc` clone of the decoded buffer, no pixel copy) and the box. The crop and thumbnail
//! are cut once, when the span is emitted.
use super::association::match_by_iou;
use super::config::TrackerConfig;
use super::crop::{frame_thumbnail, person_crop};
use super::error::TrackError;
use super::motion::BoxMotion;
use super::quality::{laplacian_variance, observation_quality, sampling_step};
use super::sighting::{Sighting, SightingCause};
use crate::frame::{BBox, Detection, VideoFrame};

/// Where a track is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackState {
    /// Started from a detection in the last frame; needs a match in the next frame to be
    /// confirmed.
    Tentative,
    /// Matched in the last processed frame.
    Tracked,
    /// Not matched recently; predicted by its motion model until `max_lost_frames`.
    Lost,
}

/// A live track, as [`Tracker::active_tracks`] reports it (e.g. for a live overlay).
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveTrack {
    pub track_id: u64,
    pub state: TrackState,
    /// The motion model's current box (the prediction while lost), frame pixels.
    pub bbox: BBox,
    /// The motion model's velocity of the box centre, pixels per frame.
    pub velocity: (f32, f32),
    /// Frames in which the track was matched to a detection, over its whole life.
    pub observations: u32,
    /// Frames since the last match (0 when matched in the last frame).
    pub frames_since_seen: u32,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
}

/// Counters since the tracker was built; the ingest stage turns them into metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackerStats {
    pub frames: u64,
    /// Frames whose buffer did not hold `width × height × 3` bytes: their detections
    /// still move tracks along, but no crop can be cut from them.
    pub frames_without_pixels: u64,
    /// Detections dropped for a non-finite score or box, or an empty box.
    pub invalid_detections: u64,
    pub tracks_started: u64,
    pub tracks_ended: u64,
    pub sightings_emitted: u64,
    /// Tracks that ended with fewer than `min_track_frames` observations.
    pub short_tracks_dropped: u64,
    /// Spans with observations but no usable pixels (only broken frames).
    pub sightings_without_pixels: u64,
}

/// The best observation of a span so far.
#[derive(Debug, Clone)]
struct BestObservation {
    /// Shares the decoded buffer with the ingest stage; no pixels are copied here.
    frame: VideoFrame,
    bbox: BBox,
    score: f32,
    quality: f32,
}

/// The stretch of a track that the next sighting will cover.
#[derive(Debug, Clone, Default)]
struct Span {
    first_seen_ms: i64,
    last_seen_ms: i64,
    observations: u32,
    best: Option<BestObservation>,
}

#[derive(Debug, Clone)]
struct Track {
    id: u64,
    state: TrackState,
    motion: BoxMotion,
    observations: u32,
    frames_since_seen: u32,
    first_seen_ms: i64,
    last_seen_ms: i64,
    span: Span,
    /// Spans of this track handed to `span_sighting` so far (the next sighting's `part`).
    parts: u32,
}

/// One camera's tracker. Feed it every processed frame in order, including frames
/// without detections (they age lost tracks). When the camera's stream restarts (its
/// clock and sequence start over), `flush` the tracker or build a new one: track ids
/// are unique per tracker, and a sighting is identified by camera, track id, `part` and
/// `first_seen_ms` together.
#[derive(Debug)]
pub struct Tracker {
    camera_id: String,
    config: TrackerConfig,
    tracks: Vec<Track>,
    next_track_id: u64,
    stats: TrackerStats,
}

impl Tracker {
    /// A tracker for `camera_id`; fails when the configuration is invalid.
    pub fn new(camera_id: impl Into<String>, config: TrackerConfig) -> Result<Tracker, TrackError> {
        let camera_id = camera_id.into();
        if camera_id.trim().is_empty() {
            return Err(TrackError::EmptyCameraId);
        }
        config.validate()?;
        Ok(Tracker {
            camera_id,
            config,
            tracks: Vec::new(),
            next_track_id: 1,
            stats: TrackerStats::default(),
        })
    }

    pub fn camera_id(&self) -> &str {
        &self.camera_id
    }

    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    pub fn stats(&self) -> &TrackerStats {
        &self.stats
    }

    /// Advances the tracker by one frame with that frame's person detections. Returns
    /// the sightings that are complete now: tracks that ended, and long tracks whose
    /// span reached the emission interval.
    pub fn update(&mut self, frame: &VideoFrame, detections: &[Detection]) -> Vec<Sighting> {
        self.stats.frames += 1;
        let has_pixels = frame_has_pixels(frame);
        if !has_pixels {
            self.stats.frames_without_pixels += 1;
        }
        let cfg = &self.config;

        // 1. Usable detections, split by score.
        let mut high = Vec::new();
        let mut low = Vec::new();
        for detection in detections {
            if !detection_is_valid(detection) {
                self.stats.invalid_detections += 1;
            } else if detection.score >= cfg.high_score_threshold {
                high.push(*detection);
            } else if detection.score >= cfg.low_score_threshold {
                low.push(*detection);
            }
        }

        // 2. Predict.
        for track in &mut self.tracks {
            track.motion.predict(track.state != TrackState::Tracked);
        }

        // 3. High detections against tracked and lost tracks.
        let mut matched = vec![false; self.tracks.len()];
        let pool: Vec<usize> = (0..self.tracks.len())
            .filter(|&i| self.tracks[i].state != TrackState::Tentative)
            .collect();
        let first = match_by_iou(
            &self.predicted_boxes(&pool),
            &boxes_of(&high),
            cfg.match_iou_threshold,
        );
        for &(p, d) in &first.matches {
            matched[pool[p]] = true;
            self.observe(pool[p], &high[d], frame, has_pixels);
        }
        let high_left: Vec<Detection> = first
            .unmatched_detections
            .iter()
            .map(|&d| high[d])
            .collect();

        // 4. Low detections against tracks that were being followed until now.
        let still_tracked: Vec<usize> = first
            .unmatched_tracks
            .iter()
            .map(|&p| pool[p])
            .filter(|&i| self.tracks[i].state == TrackState::Tracked)
            .collect();
        let second = match_by_iou(
            &self.predicted_boxes(&still_tracked),
            &boxes_of(&low),
            self.config.low_score_match_iou_threshold,
        );
        for &(t, d) in &second.matches {
            matched[still_tracked[t]] = true;
            self.observe(still_tracked[t], &low[d], frame, has_pixels);
        }

        // 5. Unmatched tracked / lost tracks age.
        for &i in &pool {
            if !matched[i] {
                let track = &mut self.tracks[i];
                track.state = TrackState::Lost;
                track.frames_since_seen += 1;
            }
        }

        // 6. Remaining high detections confirm tentative tracks.
        let tentative: Vec<usize> = (0..self.tracks.len())
            .filter(|&i| self.tracks[i].state == TrackState::Tentative)
            .collect();
        let third = match_by_iou(
            &self.predicted_boxes(&tentative),
            &boxes_of(&high_left),
            self.config.tentative_match_iou_threshold,
        );
        for &(t, d) in &third.matches {
            self.observe(tentative[t], &high_left[d], frame, has_pixels);
        }
        let mut ending: Vec<usize> = third
            .unmatched_tracks
            .iter()
            .map(|&t| tentative[t])
            .collect();

        // 7. New tentative tracks.
        let new_tracks: Vec<Detection> = third
            .unmatched_detections
            .iter()
            .map(|&d| high_left[d])
            .filter(|d| d.score >= self.config.new_track_threshold)
            .collect();

        // 8. Lost too long.
        let max_lost = self.config.max_lost_frames;
        ending.extend((0..self.tracks.len()).filter(|&i| {
            self.tracks[i].state == TrackState::Lost && self.tracks[i].frames_since_seen > max_lost
        }));

        // 9. Emit.
        let mut sightings = Vec::new();
        ending.sort_unstable();
        for i in ending.into_iter().rev() {
            let track = self.tracks.swap_remove(i);
            self.stats.tracks_ended += 1;
            if let Some(s) = self.end_track(track, SightingCause::TrackEnded) {
                sightings.push(s);
            }
        }
        for detection in new_tracks {
            self.start_track(&detection, frame, has_pixels);
        }
        let interval = i64::try_from(self.config.emit_interval_ms).unwrap_or(i64::MAX);
        let min_frames = self.config.min_track_frames;
        for i in 0..self.tracks.len() {
            let track = &self.tracks[i];
            let due = track.span.observations > 0
                && track.observations >= min_frames
                && frame.timestamp_ms.saturating_sub(track.span.first_seen_ms) >= interval;
            if due {
                let track = &mut self.tracks[i];
                let span = std::mem::take(&mut track.span);
                let (id, part) = (track.id, track.parts);
                track.parts += 1;
                if let Some(s) = self.span_sighting(id, part, span, SightingCause::Interval) {
                    sightings.push(s);
                }
            }
        }
        sightings.sort_by_key(|s| s.track_id);
        sightings
    }

    /// Ends every track (the camera stopped) and returns their sightings.
    pub fn flush(&mut self) -> Vec<Sighting> {
        let mut tracks = std::mem::take(&mut self.tracks);
        tracks.sort_by_key(|t| t.id);
        let mut sightings = Vec::new();
        for track in tracks {
            self.stats.tracks_ended += 1;
            if let Some(s) = self.end_track(track, SightingCause::Flushed) {
                sightings.push(s);
            }
        }
        sightings
    }

    /// The live tracks (tentative, tracked and lost), ordered by id.
    pub fn active_tracks(&self) -> Vec<ActiveTrack> {
        let mut active: Vec<ActiveTrack> = self
            .tracks
            .iter()
            .map(|t| ActiveTrack {
                track_id: t.id,
                state: t.state,
                bbox: t.motion.bbox(),
                velocity: t.motion.velocity(),
                observations: t.observations,
                frames_since_seen: t.frames_since_seen,
                first_seen_ms: t.first_seen_ms,
                last_seen_ms: t.last_seen_ms,
            })
            .collect();
        active.sort_by_key(|t| t.track_id);
        active
    }

    fn predicted_boxes(&self, indices: &[usize]) -> Vec<BBox> {
        indices
            .iter()
            .map(|&i| self.tracks[i].motion.bbox())
            .collect()
    }

    fn start_track(&mut self, detection: &Detection, frame: &VideoFrame, has_pixels: bool) {
        let id = self.next_track_id;
        self.next_track_id += 1;
        self.stats.tracks_started += 1;
        let mut track = Track {
            id,
            state: TrackState::Tentative,
            motion: BoxMotion::new(&detection.bbox),
            observations: 0,
            frames_since_seen: 0,
            first_seen_ms: frame.timestamp_ms,
            last_seen_ms: frame.timestamp_ms,
            span: Span::default(),
            parts: 0,
        };
        record_observation(&mut track, detection, frame, has_pixels, &self.config);
        self.tracks.push(track);
    }

    fn observe(
        &mut self,
        index: usize,
        detection: &Detection,
        frame: &VideoFrame,
        has_pixels: bool,
    ) {
        let track = &mut self.tracks[index];
        track.motion.update(&detection.bbox);
        track.state = TrackState::Tracked;
        track.frames_since_seen = 0;
        record_observation(track, detection, frame, has_pixels, &self.config);
    }

    fn end_track(&mut self, track: Track, cause: SightingCause) -> Option<Sighting> {
        if track.observations < self.config.min_track_frames {
            self.stats.short_tracks_dropped += 1;
            return None;
        }
        if track.span.observations == 0 {
            // Everything up to the last observation was already emitted at an interval.
            return None;
        }
        self.span_sighting(track.id, track.parts, track.span, cause)
    }

    /// Cuts the crop and thumbnail of a span's best observation.
    fn span_sighting(
        &mut self,
        track_id: u64,
        part: u32,
        span: Span,
        cause: SightingCause,
    ) -> Option<Sighting> {
        let cfg = &self.config;
        let images = span.best.as_ref().and_then(|best| {
            let crop = person_crop(
                &best.frame,
                &best.bbox,
                cfg.crop_margin,
                cfg.crop_width,
                cfg.crop_height,
            )?;
            let (thumbnail, scale) = frame_thumbnail(&best.frame, cfg.thumbnail_max_width)?;
            Some((best, crop, thumbnail, scale))
        });
        let Some((best, crop, thumbnail, scale)) = images else {
            self.stats.sightings_without_pixels += 1;
            return None;
        };
        let b = best.bbox;
        let sighting = Sighting {
            camera_id: self.camera_id.clone(),
            track_id,
            part,
            first_seen_ms: span.first_seen_ms,
            last_seen_ms: span.last_seen_ms,
            best_time_ms: best.frame.timestamp_ms,
            bbox: b,
            score: best.score,
            quality: best.quality,
            observations: span.observations,
            frame_width: best.frame.width,
            frame_height: best.frame.height,
            crop,
            thumbnail,
            thumbnail_bbox: BBox::new(b.x1 * scale, b.y1 * scale, b.x2 * scale, b.y2 * scale),
            cause,
        };
        self.stats.sightings_emitted += 1;
        Some(sighting)
    }
}

/// Adds one matched detection to the track's counters and its span, and keeps it as the
/// span's best observation when its quality beats the current best.
fn record_observation(
    track: &mut Track,
    detection: &Detection,
    frame: &VideoFrame,
    has_pixels: bool,
    config: &TrackerConfig,
) {
    let t = frame.timestamp_ms;
    track.observations += 1;
    track.last_seen_ms = t;
    let span = &mut track.span;
    if span.observations == 0 {
        span.first_seen_ms = t;
    }
    span.observations += 1;
    span.last_seen_ms = t;
    if !has_pixels {
        return;
    }
    let bbox = detection.bbox.clamp(frame.width, frame.height);
    if bbox.area() <= 0.0 {
        return;
    }
    let sharpness =
        laplacian_variance(frame, &bbox, sampling_step(&bbox, config.crop_height)).unwrap_or(0.0);
    let quality = observation_quality(
        &bbox,
        detection.score,
        sharpness,
        frame.width,
        frame.height,
        config.crop_height,
    );
    if span.best.as_ref().is_none_or(|best| quality > best.quality) {
        span.best = Some(BestObservation {
            frame: frame.clone(),
            bbox,
            score: detection.score,
            quality,
        });
    }
}

fn frame_has_pixels(frame: &VideoFrame) -> bool {
    let expected = (frame.width as usize)
        .checked_mul(frame.height as usize)
        .and_then(|n| n.checked_mul(3));
    frame.width > 0 && frame.height > 0 && expected.is_some_and(|n| frame.rgb.len() >= n)
}

fn detection_is_valid(detection: &Detection) -> bool {
    let b = &detection.bbox;
    detection.score.is_finite()
        && [b.x1, b.y1, b.x2, b.y2].iter().all(|v| v.is_finite())
        && b.area() > 0.0
}

fn boxes_of(detections: &[Detection]) -> Vec<BBox> {
    detections.iter().map(|d| d.bbox).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const WIDTH: u32 = 640;
    const HEIGHT: u32 = 360;
    const FRAME_MS: i64 = 40;

    /// How a synthetic person is drawn.
    #[derive(Clone, Copy)]
    enum Look {
        /// A fine checkerboard in the person's colour: lots of edges (a sharp view).
        Sharp,
        /// The same colour flat: no edges (a motion-blurred view).
        Blurred,
    }

    struct Person {
        bbox: BBox,
        colour: [u8; 3],
        look: Look,
        score: f32,
    }

    /// A frame with a smooth background and the people painted on it, and their
    /// detections.
    fn scene(sequence: u64, people: &[Person]) -> (VideoFrame, Vec<Detection>) {
        let mut rgb = Vec::with_capacity((WIDTH * HEIGHT * 3) as usize);
        for y in 0..HEIGHT {
            for x in 0..WIDTH {
                let v = (60 + (x + y) / 16) as u8;
                rgb.extend_from_slice(&[v, v, v + 10]);
            }
        }
        for person in people {
            let b = person.bbox.clamp(WIDTH, HEIGHT);
            for y in b.y1 as u32..b.y2 as u32 {
                for x in b.x1 as u32..b.x2 as u32 {
                    let dark = matches!(person.look, Look::Sharp) && (x / 2 + y / 2) % 2 == 0;
                    let c = if dark { [15, 15, 15] } else { person.colour };
                    let i = ((y * WIDTH + x) * 3) as usize;
                    rgb[i..i + 3].copy_from_slice(&c);
                }
            }
        }
        let frame = VideoFrame {
            camera_id: Arc::from("cam-1"),
            sequence,
            timestamp_ms: 1_700_000_000_000 + sequence as i64 * FRAME_MS,
            width: WIDTH,
            height: HEIGHT,
            rgb: Arc::new(rgb),
        };
        let detections = people
            .iter()
            .map(|p| Detection {
                bbox: p.bbox,
                score: p.score,
            })
            .collect();
        (frame, detections)
    }

    fn walker(x: f32, y: f32, w: f32, h: f32, colour: [u8; 3]) -> Person {
        Person {
            bbox: BBox::new(x, y, x + w, y + h),
            colour,
            look: Look::Sharp,
            score: 0.9,
        }
    }

    fn tracker(config: TrackerConfig) -> Tracker {
        Tracker::new("cam-1", config).unwrap()
    }

    /// The id of the live track whose box overlaps `bbox` most.
    fn id_at(tracker: &Tracker, bbox: &BBox) -> u64 {
        tracker
            .active_tracks()
            .into_iter()
            .max_by(|a, b| a.bbox.iou(bbox).total_cmp(&b.bbox.iou(bbox)))
            .map(|t| t.track_id)
            .unwrap()
    }

    #[test]
    fn two_people_crossing_paths_keep_their_ids() {
        let mut tracker = tracker(TrackerConfig::default());
        let frames = 56;
        let a_at = |f: u32| walker(40.0 + 10.0 * f as f32, 100.0, 50.0, 150.0, [200, 40, 40]);
        let b_at = |f: u32| walker(590.0 - 10.0 * f as f32, 120.0, 44.0, 130.0, [40, 40, 200]);
        let mut emitted = Vec::new();
        let mut ids = None;
        for f in 0..frames {
            let (frame, dets) = scene(f as u64, &[a_at(f), b_at(f)]);
            emitted.extend(tracker.update(&frame, &dets));
            if f == 5 {
                ids = Some((
                    id_at(&tracker, &a_at(f).bbox),
                    id_at(&tracker, &b_at(f).bbox),
                ));
            }
        }
        let (a_id, b_id) = ids.unwrap();
        assert_ne!(a_id, b_id);
        // The walkers' boxes overlapped around frame 27; afterwards each id still
        // follows its own person.
        let last = frames - 1;
        assert_eq!(id_at(&tracker, &a_at(last).bbox), a_id);
        assert_eq!(id_at(&tracker, &b_at(last).bbox), b_id);
        assert!(emitted.is_empty(), "no track ended: {emitted:?}");
        let sightings = tracker.flush();
        assert_eq!(sightings.len(), 2);
        assert_eq!(sightings[0].observations, frames);
        assert_eq!(sightings[1].observations, frames);
        // Each sighting's crop shows its own person's colour.
        for s in &sightings {
            let (red, blue) = s.crop.rgb.chunks(3).fold((0u64, 0u64), |(r, b), p| {
                (r + u64::from(p[0]), b + u64::from(p[2]))
            });
            if s.track_id == a_id {
                assert!(red > blue, "track {a_id} crop is not the red walker");
            } else {
                assert!(blue > red, "track {b_id} crop is not the blue walker");
            }
        }
    }

    #[test]
    fn a_person_missed_for_a_few_frames_keeps_the_id() {
        let mut tracker = tracker(TrackerConfig::default());
        let at = |f: u64| walker(30.0 + 8.0 * f as f32, 90.0, 48.0, 140.0, [30, 160, 30]);
        let mut first_id = None;
        for f in 0..40u64 {
            // Frames 15..22: hidden behind something, no detection.
            let people = if (15..22).contains(&f) {
                vec![]
            } else {
                vec![at(f)]
            };
            let (frame, dets) = scene(f, &people);
            assert!(tracker.update(&frame, &dets).is_empty());
            if f == 10 {
                first_id = Some(id_at(&tracker, &at(f).bbox));
            }
            if f == 18 {
                let lost = tracker.active_tracks();
                assert_eq!(lost.len(), 1);
                assert_eq!(lost[0].state, TrackState::Lost);
            }
        }
        let active = tracker.active_tracks();
        assert_eq!(active.len(), 1);
        assert_eq!(Some(active[0].track_id), first_id);
        assert_eq!(active[0].state, TrackState::Tracked);
        let sightings = tracker.flush();
        assert_eq!(sightings.len(), 1);
        assert_eq!(sightings[0].observations, 40 - 7);
        assert_eq!(sightings[0].cause, SightingCause::Flushed);
    }

    #[test]
    fn a_lost_track_ends_after_max_lost_frames_and_emits() {
        let config = TrackerConfig {
            max_lost_frames: 5,
            ..Default::default()
        };
        let mut tracker = tracker(config);
        let mut emitted = Vec::new();
        for f in 0..20u64 {
            let people = if f < 10 {
                vec![walker(
                    100.0 + 5.0 * f as f32,
                    80.0,
                    50.0,
                    150.0,
                    [180, 180, 30],
                )]
            } else {
                vec![]
            };
            let (frame, dets) = scene(f, &people);
            let out = tracker.update(&frame, &dets);
            if !out.is_empty() {
                // Last seen in frame 9, lost in 10..=15, ended when unseen for 6 frames.
                assert_eq!(f, 15);
            }
            emitted.extend(out);
        }
        assert_eq!(emitted.len(), 1);
        let s = &emitted[0];
        assert_eq!(s.cause, SightingCause::TrackEnded);
        assert_eq!(s.observations, 10);
        assert_eq!(s.first_seen_ms, 1_700_000_000_000);
        assert_eq!(s.last_seen_ms, 1_700_000_000_000 + 9 * FRAME_MS);
        assert!(tracker.active_tracks().is_empty());
        assert!(tracker.flush().is_empty());
        assert_eq!(tracker.stats().sightings_emitted, 1);
    }

    #[test]
    fn a_one_frame_false_positive_emits_nothing() {
        let mut tracker = tracker(TrackerConfig::default());
        let mut emitted = Vec::new();
        for f in 0..50u64 {
            let people = if f == 10 {
                vec![walker(300.0, 100.0, 40.0, 120.0, [250, 250, 250])]
            } else {
                vec![]
            };
            let (frame, dets) = scene(f, &people);
            emitted.extend(tracker.update(&frame, &dets));
        }
        emitted.extend(tracker.flush());
        assert!(emitted.is_empty(), "{emitted:?}");
        assert_eq!(tracker.stats().tracks_started, 1);
        assert_eq!(tracker.stats().short_tracks_dropped, 1);
    }

    #[test]
    fn low_score_detections_extend_tracks_but_never_start_them() {
        let mut tracker = tracker(TrackerConfig::default());
        for f in 0..30u64 {
            let mut person = walker(50.0 + 6.0 * f as f32, 100.0, 50.0, 150.0, [90, 200, 200]);
            if (10..20).contains(&f) {
                person.score = 0.3; // half hidden: a weak detection
            }
            // A weak detection elsewhere that alone must not become a track.
            let mut ghost = walker(500.0, 40.0, 30.0, 90.0, [120, 120, 120]);
            ghost.score = 0.3;
            let (frame, dets) = scene(f, &[person, ghost]);
            tracker.update(&frame, &dets);
        }
        let active = tracker.active_tracks();
        assert_eq!(active.len(), 1, "{active:?}");
        assert_eq!(active[0].observations, 30);
        assert_eq!(active[0].frames_since_seen, 0);
    }

    #[test]
    fn a_long_track_emits_at_the_interval() {
        let config = TrackerConfig {
            emit_interval_ms: 1000,
            ..Default::default()
        };
        let mut tracker = tracker(config);
        let frames = 90u64; // 3.6 s at 25 fps
        let mut emitted = Vec::new();
        for f in 0..frames {
            let person = walker(100.0 + 2.0 * f as f32, 100.0, 50.0, 150.0, [200, 120, 40]);
            let (frame, dets) = scene(f, &[person]);
            emitted.extend(tracker.update(&frame, &dets));
        }
        assert_eq!(emitted.len(), 3, "{emitted:?}");
        assert!(emitted.iter().all(|s| s.cause == SightingCause::Interval));
        let last = tracker.flush();
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].cause, SightingCause::Flushed);
        emitted.extend(last);
        let id = emitted[0].track_id;
        assert!(emitted.iter().all(|s| s.track_id == id));
        let parts: Vec<u32> = emitted.iter().map(|s| s.part).collect();
        assert_eq!(parts, vec![0, 1, 2, 3]);
        // The spans tile the track without overlap: each starts one frame after the
        // previous one ended, and each one spans about the interval.
        for pair in emitted.windows(2) {
            assert_eq!(pair[1].first_seen_ms, pair[0].last_seen_ms + FRAME_MS);
        }
        for s in &emitted[..3] {
            assert_eq!(s.last_seen_ms - s.first_seen_ms, 1000);
            assert!((s.first_seen_ms..=s.last_seen_ms).contains(&s.best_time_ms));
        }
        let total: u32 = emitted.iter().map(|s| s.observations).sum();
        assert_eq!(total, frames as u32);
    }

    #[test]
    fn best_crop_prefers_the_large_sharp_uncut_observation() {
        let mut tracker = tracker(TrackerConfig::default());
        // Walking towards the camera: the box grows from 100 to 250 px tall over
        // frames 0..=29 and stays at 250 afterwards, but frames 30..40 are motion
        // blurred. Frames 0..=3 start at the left border (the person is cut).
        let at = |f: u64| {
            let h = 100.0 + 150.0 * (f.min(29) as f32 / 29.0);
            let x = -20.0 + 8.0 * f as f32;
            let mut p = walker(x, 330.0 - h, h / 2.8, h, [220, 200, 60]);
            if f >= 30 {
                p.look = Look::Blurred;
            }
            p
        };
        let mut best_frame_box = None;
        for f in 0..40u64 {
            let (frame, dets) = scene(f, &[at(f)]);
            tracker.update(&frame, &dets);
            if f == 29 {
                best_frame_box = Some(at(f).bbox);
            }
        }
        let s = tracker.flush().pop().unwrap();
        assert_eq!(s.best_time_ms, 1_700_000_000_000 + 29 * FRAME_MS);
        assert_eq!(s.bbox, best_frame_box.unwrap());
        assert_eq!((s.crop.width, s.crop.height), (128, 384));
        assert_eq!(s.crop.rgb.len(), 128 * 384 * 3);
        // The crop shows the textured person: many dark and many yellow pixels.
        let dark = s.crop.rgb.chunks(3).filter(|p| p[0] < 60).count();
        let yellow = s
            .crop
            .rgb
            .chunks(3)
            .filter(|p| p[0] > 150 && p[2] < 110)
            .count();
        assert!(dark > 5000 && yellow > 5000, "dark {dark}, yellow {yellow}");
        // The frame fits the thumbnail width, so the thumbnail box is the frame box.
        assert_eq!((s.thumbnail.width, s.thumbnail.height), (WIDTH, HEIGHT));
        assert_eq!(s.thumbnail_bbox, s.bbox);
        assert_eq!((s.frame_width, s.frame_height), (WIDTH, HEIGHT));
    }

    #[test]
    fn best_crop_avoids_boxes_cut_by_the_frame_edge() {
        let config = TrackerConfig {
            thumbnail_max_width: 320,
            ..Default::default()
        };
        let mut tracker = tracker(config);
        // Large and sharp but touching the left border for frames 0..10, then a bit
        // smaller and fully inside.
        let at = |f: u64| {
            if f < 10 {
                walker(0.0, 60.0, 90.0, 260.0, [60, 200, 90])
            } else {
                walker(
                    4.0 + 3.0 * (f - 10) as f32,
                    80.0,
                    80.0,
                    230.0,
                    [60, 200, 90],
                )
            }
        };
        for f in 0..20u64 {
            let (frame, dets) = scene(f, &[at(f)]);
            tracker.update(&frame, &dets);
        }
        let s = tracker.flush().pop().unwrap();
        assert!(s.best_time_ms >= 1_700_000_000_000 + 10 * FRAME_MS);
        assert!(s.bbox.x1 > 2.0, "{:?}", s.bbox);
        assert_eq!((s.thumbnail.width, s.thumbnail.height), (320, 180));
        assert_eq!(s.thumbnail.rgb.len(), 320 * 180 * 3);
        let half = BBox::new(
            s.bbox.x1 / 2.0,
            s.bbox.y1 / 2.0,
            s.bbox.x2 / 2.0,
            s.bbox.y2 / 2.0,
        );
        assert!(s.thumbnail_bbox.iou(&half) > 0.999);
    }

    #[test]
    fn flush_emits_every_live_track() {
        let mut tracker = tracker(TrackerConfig::default());
        for f in 0..10u64 {
            let dx = 4.0 * f as f32;
            let people = [
                walker(20.0 + dx, 50.0, 40.0, 120.0, [200, 30, 30]),
                walker(250.0 + dx, 80.0, 45.0, 130.0, [30, 200, 30]),
                walker(480.0 - dx, 120.0, 50.0, 140.0, [30, 30, 200]),
            ];
            let (frame, dets) = scene(f, &people);
            assert!(tracker.update(&frame, &dets).is_empty());
        }
        assert_eq!(tracker.active_tracks().len(), 3);
        let sightings = tracker.flush();
        assert_eq!(sightings.len(), 3);
        let ids: Vec<u64> = sightings.iter().map(|s| s.track_id).collect();
        assert_eq!(ids, vec![1, 2, 3]);
        for s in &sightings {
            assert_eq!(s.cause, SightingCause::Flushed);
            assert_eq!(s.camera_id, "cam-1");
            assert_eq!(s.observations, 10);
            assert!(crate::track::encode_jpeg(&s.crop, 85).is_ok());
        }
        assert!(tracker.active_tracks().is_empty());
        assert!(tracker.flush().is_empty());
    }

    #[test]
    fn bad_config_and_empty_camera_id_are_rejected() {
        let bad = TrackerConfig {
            low_score_threshold: 0.9,
            ..Default::default()
        };
        let err = Tracker::new("cam-1", bad).unwrap_err();
        assert!(err.to_string().contains("low_score_threshold"), "{err}");
        assert!(matches!(
            Tracker::new("  ", TrackerConfig::default()),
            Err(TrackError::EmptyCameraId)
        ));
    }

    #[test]
    fn broken_frames_and_detections_do_not_panic() {
        let mut tracker = tracker(TrackerConfig::default());
        let nan = Detection {
            bbox: BBox::new(f32::NAN, 0.0, 10.0, 10.0),
            score: 0.9,
        };
        let empty = Detection {
            bbox: BBox::new(5.0, 5.0, 5.0, 50.0),
            score: 0.9,
        };
        for f in 0..10u64 {
            let (mut frame, mut dets) = scene(f, &[walker(100.0, 100.0, 40.0, 120.0, [1, 2, 3])]);
            frame.rgb = Arc::new(Vec::new()); // a buffer that lost its pixels
            dets.extend([nan, empty]);
            tracker.update(&frame, &dets);
        }
        assert_eq!(tracker.active_tracks().len(), 1);
        assert!(tracker.flush().is_empty());
        let stats = tracker.stats();
        assert_eq!(stats.frames_without_pixels, 10);
        assert_eq!(stats.invalid_detections, 20);
        assert_eq!(stats.sightings_without_pixels, 1);
    }
}
