//! A running camera: one control thread that owns the camera's GStreamer pipeline, watches
//! its bus, and restarts it when a live source fails; frames are taken from the appsink on
//! GStreamer's streaming thread and handed to the consumer's bounded channel.
//!
//! The pipeline never waits for the consumer: when the channel is full the frame is dropped
//! and counted. Each camera has its own pipeline, thread and status board, so a camera that
//! errors, stalls or is removed cannot hold up another.
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;

use super::config::{BuildError, CameraConfig};
use super::status::{CameraState, CameraStatus, StatusBoard};
use crate::frame::VideoFrame;

/// How often the control thread looks at the stop flag and the stall watchdog.
const BUS_POLL: Duration = Duration::from_millis(100);

/// A camera's pipeline description and how the camera treats it.
#[derive(Debug, Clone)]
pub(crate) struct PipelinePlan {
    pub(crate) camera: String,
    pub(crate) kind: &'static str,
    pub(crate) description: String,
    /// A live source is restarted after errors and end of stream; a file is not.
    pub(crate) live: bool,
    /// Files only: play again from the start at the end.
    pub(crate) looping: bool,
    /// Deliver frames at their timestamps (a file played as a camera).
    pub(crate) sync_to_clock: bool,
}

impl PipelinePlan {
    /// Builds the pipeline (not started) and finds its appsink.
    fn instantiate(&self) -> Result<(gst::Pipeline, gst_app::AppSink), BuildError> {
        let element = gst::parse::launch(&self.description).map_err(|e| BuildError::Pipeline {
            camera: self.camera.clone(),
            kind: self.kind,
            pipeline: self.description.clone(),
            error: e.to_string(),
        })?;
        let pipeline = match element.downcast::<gst::Pipeline>() {
            Ok(pipeline) => pipeline,
            Err(element) => {
                // A description of a single element parses to that element alone.
                let pipeline = gst::Pipeline::new();
                pipeline.add(&element).map_err(|e| BuildError::Pipeline {
                    camera: self.camera.clone(),
                    kind: self.kind,
                    pipeline: self.description.clone(),
                    error: e.to_string(),
                })?;
                pipeline
            }
        };
        let no_sink = |detail| BuildError::NoAppSink {
            camera: self.camera.clone(),
            pipeline: self.description.clone(),
            detail,
        };
        let sink = pipeline
            .by_name("sink")
            .ok_or_else(|| no_sink("no element is named \"sink\""))?;
        let appsink = sink
            .downcast::<gst_app::AppSink>()
            .map_err(|_| no_sink("the element named \"sink\" is not an appsink"))?;
        Ok((pipeline, appsink))
    }

    /// Parses the description once, so that configuration errors surface at `build`.
    pub(crate) fn check_parses(&self) -> Result<(), BuildError> {
        let (pipeline, _) = self.instantiate()?;
        // Never started; Null releases what parsing created.
        let _ = pipeline.set_state(gst::State::Null);
        Ok(())
    }
}

/// A stop request that can be waited on (for the back-off between retries).
#[derive(Debug, Default)]
struct StopSignal {
    requested: Mutex<bool>,
    wake: Condvar,
}

impl StopSignal {
    fn request(&self) {
        *self.requested.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.wake.notify_all();
    }

    fn is_requested(&self) -> bool {
        *self.requested.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits up to `timeout`; true when a stop was requested.
    fn wait(&self, timeout: Duration) -> bool {
        let guard = self.requested.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) = self
            .wake
            .wait_timeout_while(guard, timeout, |requested| !*requested)
            .unwrap_or_else(|p| p.into_inner());
        *guard
    }
}

/// What the control thread and the streaming thread share.
#[derive(Debug)]
struct Shared {
    status: StatusBoard,
    stop: StopSignal,
}

/// A started camera. Dropping it stops it (and waits for its thread).
#[derive(Debug)]
pub struct Camera {
    id: String,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Camera {
    pub(crate) fn start(
        config: CameraConfig,
        plan: PipelinePlan,
        frames: SyncSender<VideoFrame>,
    ) -> Result<Camera, BuildError> {
        let shared = Arc::new(Shared {
            status: StatusBoard::new(&config.id, plan.kind),
            stop: StopSignal::default(),
        });
        let mut gate = FrameGate::new(&config.id, config.analysis_fps, plan.live);
        gate.wait_for_consumer = !plan.live && !plan.sync_to_clock;
        let worker = Worker {
            config: config.clone(),
            plan,
            shared: Arc::clone(&shared),
            gate: Arc::new(Mutex::new(gate)),
            frames,
        };
        let thread = std::thread::Builder::new()
            .name(format!("camera-{}", config.id))
            .spawn(move || worker.run())
            .map_err(|source| BuildError::Thread {
                camera: config.id.clone(),
                source,
            })?;
        Ok(Camera {
            id: config.id,
            shared,
            thread: Some(thread),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn status(&self) -> CameraStatus {
        self.shared.status.snapshot()
    }

    /// Asks the camera to stop without waiting; `stop` (or dropping) then waits. Lets a
    /// caller stop many cameras at once.
    pub fn request_stop(&self) {
        self.shared.stop.request();
    }

    /// Stops the camera: its pipeline is set to Null and its thread joined. Returns the
    /// final status (`stopped`, or `down` / `finished` if it had ended before).
    pub fn stop(mut self) -> CameraStatus {
        self.shutdown();
        self.shared.status.snapshot()
    }

    fn shutdown(&mut self) {
        self.shared.stop.request();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!(camera = %self.id, "camera thread panicked");
            }
        }
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How one run of a pipeline ended.
enum RunEnd {
    Stopped,
    Finished,
    /// A file that could not seek back to its start is played again from a new pipeline.
    PlayAgain,
    Failed {
        error: String,
        live: bool,
        delivered: bool,
    },
}

/// The camera's control thread.
struct Worker {
    config: CameraConfig,
    plan: PipelinePlan,
    shared: Arc<Shared>,
    gate: Arc<Mutex<FrameGate>>,
    frames: SyncSender<VideoFrame>,
}

impl Worker {
    fn run(self) {
        let status = &self.shared.status;
        let min_backoff = Duration::from_millis(self.config.reconnect.min_ms);
        let max_backoff = Duration::from_millis(self.config.reconnect.max_ms);
        let mut backoff = min_backoff;
        loop {
            match self.run_pipeline() {
                RunEnd::Stopped => break,
                RunEnd::Finished => {
                    tracing::info!(camera = %self.config.id, "file finished");
                    status.set_state(CameraState::Finished);
                    return;
                }
                RunEnd::PlayAgain => continue,
                RunEnd::Failed {
                    error,
                    live,
                    delivered,
                } => {
                    if !live {
                        tracing::error!(camera = %self.config.id, %error, "camera down");
                        status.set_down(error, None);
                        return;
                    }
                    if delivered {
                        backoff = min_backoff;
                    }
                    let retry_at = wall_clock_ms() + backoff.as_millis() as i64;
                    tracing::warn!(camera = %self.config.id, %error, retry_in_ms = backoff.as_millis() as u64, "camera down, will retry");
                    status.set_down(error, Some(retry_at));
                    if self.shared.stop.wait(backoff) {
                        break;
                    }
                    backoff = (backoff * 2).min(max_backoff);
                    status.count_reconnect();
                    status.set_state(CameraState::Reconnecting);
                    lock(&self.gate).restart();
                }
            }
        }
        status.set_state(CameraState::Stopped);
    }

    /// Runs one pipeline until it ends, fails, stalls or the camera is stopped.
    fn run_pipeline(&self) -> RunEnd {
        let failed = |error: String, live: bool, delivered: bool| RunEnd::Failed {
            error,
            live,
            delivered,
        };
        if self.shared.stop.is_requested() {
            return RunEnd::Stopped;
        }
        let (pipeline, appsink) = match self.plan.instantiate() {
            Ok(parts) => parts,
            Err(e) => return failed(e.to_string(), self.plan.live, false),
        };
        self.attach_sink(&appsink);
        let Some(bus) = pipeline.bus() else {
            return failed(
                format!("camera {:?}: the pipeline has no bus", self.config.id),
                self.plan.live,
                false,
            );
        };
        let frames_before = self.shared.status.frames_received();
        let delivered = || self.shared.status.frames_received() > frames_before;
        let started = Instant::now();
        // Paused first: only the Ready→Paused change says NO_PREROLL for a live source,
        // which is how a custom pipeline's liveness is learnt.
        let started_state = pipeline
            .set_state(gst::State::Paused)
            .and_then(|paused| pipeline.set_state(gst::State::Playing).map(|_| paused));
        let live = match started_state {
            Ok(gst::StateChangeSuccess::NoPreroll) => true,
            Ok(_) => self.plan.live,
            Err(_) => {
                let error = first_error(&bus, &self.config.id).unwrap_or_else(|| {
                    format!("camera {:?}: the pipeline refused to start", self.config.id)
                });
                shut_down(&pipeline);
                return failed(error, self.plan.live, false);
            }
        };
        let stall_timeout = Duration::from_millis(self.config.reconnect.stall_timeout_ms);
        let mut passes_without_frames = 0u32;
        loop {
            if self.shared.stop.is_requested() {
                shut_down(&pipeline);
                return RunEnd::Stopped;
            }
            if let Some(message) = bus.timed_pop_filtered(
                gst::ClockTime::from_mseconds(BUS_POLL.as_millis() as u64),
                &[
                    gst::MessageType::Error,
                    gst::MessageType::Eos,
                    gst::MessageType::Warning,
                    gst::MessageType::Buffering,
                ],
            ) {
                use gst::MessageView;
                match message.view() {
                    MessageView::Error(err) => {
                        let error = describe_error(&self.config.id, err);
                        shut_down(&pipeline);
                        return failed(error, live, delivered());
                    }
                    MessageView::Eos(_) if live => {
                        shut_down(&pipeline);
                        return failed(
                            format!(
                                "camera {:?}: the live stream ended (end of stream)",
                                self.config.id
                            ),
                            live,
                            delivered(),
                        );
                    }
                    MessageView::Eos(_) if self.plan.looping => {
                        let received = self.shared.status.frames_received();
                        passes_without_frames = if received > frames_before {
                            0
                        } else {
                            passes_without_frames + 1
                        };
                        if passes_without_frames > 1 {
                            shut_down(&pipeline);
                            return failed(
                                format!(
                                    "camera {:?}: the file ended without delivering a frame",
                                    self.config.id
                                ),
                                false,
                                false,
                            );
                        }
                        let duration = pipeline
                            .query_duration::<gst::ClockTime>()
                            .map(gst::ClockTime::nseconds);
                        lock(&self.gate).begin_next_pass(duration);
                        let seek = pipeline.seek_simple(
                            gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT,
                            gst::ClockTime::ZERO,
                        );
                        if let Err(e) = seek {
                            tracing::info!(camera = %self.config.id, error = %e, "cannot seek to the start, reopening the file");
                            shut_down(&pipeline);
                            return RunEnd::PlayAgain;
                        }
                    }
                    MessageView::Eos(_) => {
                        shut_down(&pipeline);
                        return if delivered() || frames_before > 0 {
                            RunEnd::Finished
                        } else {
                            failed(
                                format!(
                                    "camera {:?}: the file ended without delivering a frame",
                                    self.config.id
                                ),
                                false,
                                false,
                            )
                        };
                    }
                    MessageView::Warning(w) => {
                        tracing::warn!(camera = %self.config.id, warning = %w.error(), debug = ?w.debug(), "pipeline warning");
                    }
                    MessageView::Buffering(b) if !live => {
                        // Network files (HLS) pause while their buffer refills, as
                        // GStreamer expects of non-live pipelines.
                        let target = if b.percent() < 100 {
                            gst::State::Paused
                        } else {
                            gst::State::Playing
                        };
                        let _ = pipeline.set_state(target);
                    }
                    _ => {}
                }
            }
            if live {
                let last_sign_of_life = self
                    .shared
                    .status
                    .last_frame_at()
                    .filter(|at| *at > started)
                    .unwrap_or(started);
                if last_sign_of_life.elapsed() > stall_timeout {
                    shut_down(&pipeline);
                    return failed(
                        format!(
                            "camera {:?}: no frame for {} ms",
                            self.config.id,
                            last_sign_of_life.elapsed().as_millis()
                        ),
                        live,
                        delivered(),
                    );
                }
            }
        }
    }

    /// Sets up the appsink: frames are taken in its callback on the streaming thread.
    fn attach_sink(&self, appsink: &gst_app::AppSink) {
        if self.plan.kind != "custom" {
            appsink.set_sync(self.plan.sync_to_clock);
        }
        let gate = Arc::clone(&self.gate);
        let shared = Arc::clone(&self.shared);
        let frames = self.frames.clone();
        appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    // Fails only while flushing or at end of stream.
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Flushing)?;
                    match take_frame(&gate, &shared.status, &frames, &sample) {
                        Ok(()) => Ok(gst::FlowSuccess::Ok),
                        Err(reason) => {
                            gst::element_error!(
                                sink,
                                gst::StreamError::Format,
                                ("cannot read the decoded frame: {}", reason)
                            );
                            Err(gst::FlowError::Error)
                        }
                    }
                })
                .build(),
        );
    }
}

/// Decides whether a sample is an analysis frame and hands it on.
fn take_frame(
    gate_mutex: &Mutex<FrameGate>,
    status: &StatusBoard,
    frames: &SyncSender<VideoFrame>,
    sample: &gst::Sample,
) -> Result<(), String> {
    let buffer = sample.buffer().ok_or("the sample has no buffer")?;
    let now = Instant::now();
    let mut gate = lock(gate_mutex);
    let Some((sequence, timestamp_ms)) = gate.admit(buffer.pts().map(|t| t.nseconds()), now) else {
        return Ok(());
    };
    let (width, height, rgb) = packed_rgb(sample)?;
    let frame = VideoFrame {
        camera_id: Arc::clone(&gate.camera_id),
        sequence,
        timestamp_ms,
        width,
        height,
        rgb: Arc::new(rgb),
    };
    let sent = if gate.wait_for_consumer {
        // Blocks this streaming thread only (a file, not a live source), and without the
        // gate's lock; stopping the camera or a vanished consumer ends the wait.
        drop(gate);
        let sent = frames
            .send(frame)
            .map_err(|e| TrySendError::Disconnected(e.0));
        gate = lock(gate_mutex);
        sent
    } else {
        frames.try_send(frame)
    };
    let delivered = match sent {
        Ok(()) => {
            gate.sequence += 1;
            true
        }
        Err(TrySendError::Full(_)) => false,
        Err(TrySendError::Disconnected(_)) => {
            if !gate.consumer_gone_logged {
                gate.consumer_gone_logged = true;
                tracing::warn!(camera = %gate.camera_id, "the frame consumer is gone; frames are dropped");
            }
            false
        }
    };
    drop(gate);
    status.frame_received(now, timestamp_ms, delivered);
    Ok(())
}

/// Frame rate limiting and numbering, kept across the pipeline's restarts.
///
/// The template's `videorate` already thins the stream cheaply before colour conversion;
/// this gate also holds sources whose caps carry no frame rate (MJPEG, some RTSP
/// cameras) to the analysis rate, by their timestamps.
#[derive(Debug)]
struct FrameGate {
    camera_id: Arc<str>,
    interval_ns: u64,
    /// Jitter allowed before a frame's due time.
    slack_ns: u64,
    next_due_ns: Option<u64>,
    last_pts_ns: Option<u64>,
    /// Frames handed on since the camera (re)started.
    sequence: u64,
    /// Files: frames are stamped camera start + position in the stream.
    stamp_from_position: bool,
    start_wall_ms: i64,
    start_instant: Instant,
    /// Files: length of the passes already played (loops).
    played_ns: u64,
    consumer_gone_logged: bool,
    /// A file decoded as fast as possible (`realtime = false`) waits for the consumer
    /// instead of dropping frames: recorded footage is indexed completely.
    wait_for_consumer: bool,
}

impl FrameGate {
    fn new(camera_id: &str, fps: u32, live: bool) -> Self {
        let interval_ns = 1_000_000_000 / u64::from(fps.max(1));
        FrameGate {
            camera_id: Arc::from(camera_id),
            interval_ns,
            slack_ns: interval_ns / 8,
            next_due_ns: None,
            last_pts_ns: None,
            sequence: 0,
            stamp_from_position: !live,
            start_wall_ms: wall_clock_ms(),
            start_instant: Instant::now(),
            played_ns: 0,
            consumer_gone_logged: false,
            wait_for_consumer: false,
        }
    }

    /// For a frame with presentation time `pts_ns` (arrival time when it has none): the
    /// sequence number and timestamp it gets, or `None` when it comes too soon.
    fn admit(&mut self, pts_ns: Option<u64>, now: Instant) -> Option<(u64, i64)> {
        let position_ns =
            pts_ns.unwrap_or_else(|| now.duration_since(self.start_instant).as_nanos() as u64);
        if self.last_pts_ns.is_some_and(|last| position_ns < last) {
            // Time went backwards (a restarted stream): start counting afresh.
            self.next_due_ns = None;
        }
        self.last_pts_ns = Some(position_ns);
        if let Some(due) = self.next_due_ns {
            if position_ns + self.slack_ns < due {
                return None;
            }
        }
        let base = match self.next_due_ns {
            Some(due) if position_ns < due + self.interval_ns => due,
            _ => position_ns,
        };
        self.next_due_ns = Some(base + self.interval_ns);
        let timestamp_ms = if self.stamp_from_position {
            self.start_wall_ms + ((self.played_ns + position_ns) / 1_000_000) as i64
        } else {
            wall_clock_ms()
        };
        Some((self.sequence, timestamp_ms))
    }

    /// A file starts again from its beginning: later frames are stamped after this pass.
    fn begin_next_pass(&mut self, duration_ns: Option<u64>) {
        let pass = duration_ns
            .filter(|d| *d > 0)
            .or(self.last_pts_ns.map(|last| last + self.interval_ns))
            .unwrap_or(0);
        self.played_ns += pass;
        self.next_due_ns = None;
        self.last_pts_ns = None;
    }

    /// A live source starts again after a failure: numbering restarts.
    fn restart(&mut self) {
        self.sequence = 0;
        self.next_due_ns = None;
        self.last_pts_ns = None;
    }
}

/// The sample's frame as packed RGB: width, height and `width * height * 3` bytes.
fn packed_rgb(sample: &gst::Sample) -> Result<(u32, u32, Vec<u8>), String> {
    let caps = sample.caps().ok_or("the sample has no caps")?;
    let info = gst_video::VideoInfo::from_caps(caps)
        .map_err(|e| format!("caps {caps} are not raw video: {e}"))?;
    if info.format() != gst_video::VideoFormat::Rgb {
        return Err(format!(
            "frames must be RGB (end the pipeline in video/x-raw,format=RGB), got {}",
            info.format().to_str()
        ));
    }
    let buffer = sample.buffer().ok_or("the sample has no buffer")?;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info)
        .map_err(|e| format!("cannot map the frame: {e}"))?;
    let stride =
        usize::try_from(frame.plane_stride()[0]).map_err(|_| "negative row stride".to_owned())?;
    let data = frame
        .plane_data(0)
        .map_err(|e| format!("cannot read the frame's pixels: {e}"))?;
    let rgb = pack_rows(data, stride, info.width(), info.height())?;
    Ok((info.width(), info.height(), rgb))
}

/// Copies `height` rows of `width` RGB pixels out of rows `stride` bytes apart.
fn pack_rows(data: &[u8], stride: usize, width: u32, height: u32) -> Result<Vec<u8>, String> {
    let row_bytes = width as usize * 3;
    let (rows, width_px) = (height as usize, width);
    if stride < row_bytes {
        return Err(format!(
            "row stride {stride} is shorter than a row of {width_px} RGB pixels"
        ));
    }
    let needed = if rows == 0 {
        0
    } else {
        (rows - 1) * stride + row_bytes
    };
    if data.len() < needed {
        return Err(format!(
            "the frame has {} bytes, {needed} needed for {width_px}x{rows}",
            data.len()
        ));
    }
    if stride == row_bytes {
        return Ok(data[..needed].to_vec());
    }
    let mut rgb = Vec::with_capacity(row_bytes * rows);
    for row in data.chunks(stride).take(rows) {
        rgb.extend_from_slice(&row[..row_bytes]);
    }
    Ok(rgb)
}

/// The text of a pipeline error: camera, element, GStreamer's message and its debug detail.
fn describe_error(camera: &str, err: &gst::message::Error) -> String {
    let element = err
        .src()
        .map(|s| s.name().to_string())
        .unwrap_or_else(|| "pipeline".to_owned());
    match err.debug() {
        Some(debug) => format!(
            "camera {camera:?}: {element}: {} ({})",
            err.error(),
            // GStreamer's debug text spans lines; a status field reads better on one.
            debug.split_whitespace().collect::<Vec<_>>().join(" ")
        ),
        None => format!("camera {camera:?}: {element}: {}", err.error()),
    }
}

/// The first error on `bus` (briefly waited for) after a failed state change.
fn first_error(bus: &gst::Bus, camera: &str) -> Option<String> {
    let message =
        bus.timed_pop_filtered(gst::ClockTime::from_seconds(2), &[gst::MessageType::Error])?;
    match message.view() {
        gst::MessageView::Error(err) => Some(describe_error(camera, err)),
        _ => None,
    }
}

fn shut_down(pipeline: &gst::Pipeline) {
    if let Err(e) = pipeline.set_state(gst::State::Null) {
        tracing::warn!(error = %e, "pipeline did not go to Null cleanly");
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_packed_without_their_padding() {
        // 3 px wide rows (9 bytes) padded to 12.
        let mut data = Vec::new();
        for row in 0..2u8 {
            data.extend((0..9).map(|i| row * 10 + i));
            data.extend([0xEE; 3]);
        }
        let rgb = pack_rows(&data, 12, 3, 2).expect("packs");
        assert_eq!(rgb.len(), 18);
        assert!(!rgb.contains(&0xEE));
        assert_eq!(&rgb[9..12], &[10, 11, 12]);
        assert!(pack_rows(&data, 8, 3, 2).is_err());
        assert!(pack_rows(&data[..20], 12, 3, 2).is_err());
    }

    #[test]
    fn a_padded_gstreamer_rgb_buffer_becomes_packed() {
        gst::init().expect("gstreamer");
        // 5 px wide RGB: GStreamer pads each 15-byte row to 16.
        let info = gst_video::VideoInfo::builder(gst_video::VideoFormat::Rgb, 5, 2)
            .build()
            .expect("info");
        assert_eq!(info.stride()[0], 16);
        let mut bytes = vec![0u8; info.size()];
        for row in 0..2 {
            for px in 0..5 {
                let at = row * 16 + px * 3;
                bytes[at..at + 3].copy_from_slice(&[200, row as u8, px as u8]);
            }
        }
        let buffer = gst::Buffer::from_mut_slice(bytes);
        let caps = info.to_caps().expect("caps");
        let sample = gst::Sample::builder().buffer(&buffer).caps(&caps).build();
        let (w, h, rgb) = packed_rgb(&sample).expect("converts");
        assert_eq!((w, h, rgb.len()), (5, 2, 30));
        assert_eq!(&rgb[27..30], &[200, 1, 4]);
        assert!(rgb.chunks(3).all(|p| p[0] == 200));
    }

    #[test]
    fn the_gate_thins_to_the_analysis_rate_and_survives_time_going_back() {
        let now = Instant::now();
        let mut gate = FrameGate::new("c", 5, false);
        let ms = |v: u64| Some(v * 1_000_000);
        // 30 fps in, 5 fps out.
        let admitted: Vec<u64> = (0..60u64)
            .filter(|i| gate.admit(ms(i * 1000 / 30), now).is_some())
            .collect();
        assert_eq!(admitted, vec![0, 6, 12, 18, 24, 30, 36, 42, 48, 54]);
        // A loop back to zero admits at once and stamps after the first pass.
        gate.begin_next_pass(Some(2_000_000_000));
        let (_, stamp) = gate.admit(ms(0), now).expect("admitted");
        assert_eq!(stamp - gate.start_wall_ms, 2_000);
        // Jitter of a few ms around the due time does not lose frames at 5 fps.
        let mut gate = FrameGate::new("c", 5, true);
        let jittered = [0, 195, 402, 598, 790, 1005];
        assert!(jittered.iter().all(|t| gate.admit(ms(*t), now).is_some()));
    }
}
