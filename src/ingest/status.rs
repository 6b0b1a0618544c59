//! What a camera reports about itself: its state, frame counters, measured rate and last
//! error, as a serialisable snapshot for the daemon's status endpoint and metrics.
//!
//! The board is written by two threads — the camera's control thread (state changes,
//! errors) and the GStreamer streaming thread (frames) — and read by anyone asking for a
//! status, so it sits behind one mutex held only for a few field updates.
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Where a camera is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CameraState {
    /// The pipeline is being started for the first time; no frame yet.
    Starting,
    /// Frames are arriving.
    Up,
    /// A live source failed and its pipeline is being started again; no frame yet.
    Reconnecting,
    /// No frames: the source failed. `last_error` says why; for a live source
    /// `retry_at_ms` says when the next try starts, for a file the camera stays down.
    Down,
    /// A file camera without `loop` reached its end.
    Finished,
    /// The camera was stopped (removed).
    Stopped,
}

impl CameraState {
    /// The state's name as the API and metrics show it.
    pub fn as_str(self) -> &'static str {
        match self {
            CameraState::Starting => "starting",
            CameraState::Up => "up",
            CameraState::Reconnecting => "reconnecting",
            CameraState::Down => "down",
            CameraState::Finished => "finished",
            CameraState::Stopped => "stopped",
        }
    }
}

/// A snapshot of one camera.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CameraStatus {
    /// The camera's configured id.
    pub id: String,
    /// The source kind (`file`, `rtsp`, ...).
    pub kind: &'static str,
    pub state: CameraState,
    /// Frames taken from the pipeline at the analysis rate (delivered or dropped).
    pub frames_received: u64,
    /// Frames dropped because the consumer's queue was full (or gone).
    pub frames_dropped: u64,
    /// Frames received per second over the last few seconds.
    pub fps: f64,
    /// The most recent error, kept after the camera recovers; it names the camera and
    /// carries GStreamer's message.
    pub last_error: Option<String>,
    /// Timestamp (Unix ms) of the last frame received.
    pub last_frame_ms: Option<i64>,
    /// How many times the pipeline was restarted after a failure.
    pub reconnects: u64,
    /// When the next restart is due (Unix ms), while a live camera is down.
    pub retry_at_ms: Option<i64>,
}

/// The span over which `fps` is measured.
const RATE_WINDOW: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Board {
    state: CameraState,
    frames_received: u64,
    frames_dropped: u64,
    recent_frames: VecDeque<Instant>,
    last_error: Option<String>,
    last_frame_ms: Option<i64>,
    last_frame_at: Option<Instant>,
    reconnects: u64,
    retry_at_ms: Option<i64>,
}

/// The shared, mutable status of one camera.
#[derive(Debug)]
pub(crate) struct StatusBoard {
    id: String,
    kind: &'static str,
    board: Mutex<Board>,
}

impl StatusBoard {
    pub(crate) fn new(id: &str, kind: &'static str) -> Self {
        StatusBoard {
            id: id.to_owned(),
            kind,
            board: Mutex::new(Board {
                state: CameraState::Starting,
                frames_received: 0,
                frames_dropped: 0,
                recent_frames: VecDeque::new(),
                last_error: None,
                last_frame_ms: None,
                last_frame_at: None,
                reconnects: 0,
                retry_at_ms: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Board> {
        // A panic elsewhere while holding the lock leaves plain counters behind, still
        // worth reporting.
        self.board
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn set_state(&self, state: CameraState) {
        let mut board = self.lock();
        board.state = state;
        if state != CameraState::Down {
            board.retry_at_ms = None;
        }
    }

    /// Marks the camera down because of `error`; `retry_at_ms` when a retry is planned.
    pub(crate) fn set_down(&self, error: String, retry_at_ms: Option<i64>) {
        let mut board = self.lock();
        board.state = CameraState::Down;
        board.last_error = Some(error);
        board.retry_at_ms = retry_at_ms;
    }

    pub(crate) fn count_reconnect(&self) {
        self.lock().reconnects += 1;
    }

    /// Records a frame taken from the pipeline at `now` with timestamp `timestamp_ms`;
    /// the camera is up from its first frame on.
    pub(crate) fn frame_received(&self, now: Instant, timestamp_ms: i64, delivered: bool) {
        let mut board = self.lock();
        board.frames_received += 1;
        if !delivered {
            board.frames_dropped += 1;
        }
        board.last_frame_ms = Some(timestamp_ms);
        board.last_frame_at = Some(now);
        board.recent_frames.push_back(now);
        trim_window(&mut board.recent_frames, now);
        if matches!(
            board.state,
            CameraState::Starting | CameraState::Reconnecting
        ) {
            board.state = CameraState::Up;
        }
    }

    pub(crate) fn frames_received(&self) -> u64 {
        self.lock().frames_received
    }

    pub(crate) fn last_frame_at(&self) -> Option<Instant> {
        self.lock().last_frame_at
    }

    pub(crate) fn snapshot(&self) -> CameraStatus {
        let mut board = self.lock();
        let now = Instant::now();
        trim_window(&mut board.recent_frames, now);
        let fps = match (board.recent_frames.front(), board.recent_frames.len()) {
            (Some(first), n) if n >= 2 => {
                // Frames counted from the oldest one in the window up to now, so that a
                // camera that stops shows its rate falling instead of freezing.
                let span = now.duration_since(*first).as_secs_f64();
                if span > 0.0 {
                    (n - 1) as f64 / span
                } else {
                    0.0
                }
            }
            _ => 0.0,
        };
        CameraStatus {
            id: self.id.clone(),
            kind: self.kind,
            state: board.state,
            frames_received: board.frames_received,
            frames_dropped: board.frames_dropped,
            fps,
            last_error: board.last_error.clone(),
            last_frame_ms: board.last_frame_ms,
            reconnects: board.reconnects,
            retry_at_ms: board.retry_at_ms,
        }
    }
}

fn trim_window(frames: &mut VecDeque<Instant>, now: Instant) {
    while let Some(first) = frames.front() {
        if now.duration_since(*first) > RATE_WINDOW {
            frames.pop_front();
        } else {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_frame_brings_a_camera_up_and_drops_are_counted() {
        let board = StatusBoard::new("c", "test");
        assert_eq!(board.snapshot().state, CameraState::Starting);
        let t0 = Instant::now();
        board.frame_received(t0, 1_000, true);
        board.frame_received(t0 + Duration::from_millis(200), 1_200, false);
        let s = board.snapshot();
        assert_eq!(s.state, CameraState::Up);
        assert_eq!((s.frames_received, s.frames_dropped), (2, 1));
        assert_eq!(s.last_frame_ms, Some(1_200));
        assert!(s.fps > 0.0);
    }

    #[test]
    fn down_keeps_the_error_and_the_retry_time_until_the_next_state() {
        let board = StatusBoard::new("c", "rtsp");
        board.set_down("camera \"c\": refused".into(), Some(42));
        let s = board.snapshot();
        assert_eq!(s.state, CameraState::Down);
        assert_eq!(s.retry_at_ms, Some(42));
        board.set_state(CameraState::Reconnecting);
        let s = board.snapshot();
        assert_eq!(s.retry_at_ms, None);
        assert_eq!(s.last_error.as_deref(), Some("camera \"c\": refused"));
        let json = serde_json::to_value(&s).expect("serialises");
        assert_eq!(json["state"], "reconnecting");
        assert_eq!(json["kind"], "rtsp");
    }
}
