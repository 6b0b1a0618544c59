//! A test RTSP camera on loopback: serves a video file (looped) or a test pattern as
//! H.264 on `rtsp://127.0.0.1:{port}/{path}`, so that tests and the demo have a real
//! network camera to read — and to kill and bring back on the same port.
//!
//! A file is not served by the RTSP media pipeline itself, because that pipeline would end
//! at the file's end. A separate player pipeline decodes the file in real time, seeking back
//! to the start at its end, and pushes the frames into an `appsrc` in the media pipeline,
//! which stamps them on arrival; RTP time therefore runs on across loops.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_rtsp_server as rtsp_server;
use gstreamer_rtsp_server::prelude::*;

/// What the test camera shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestFeed {
    /// A video file, played in real time and looped.
    File(PathBuf),
    /// A `videotestsrc` pattern (`ball`, `smpte`, ...) at the given size and rate.
    Pattern {
        pattern: String,
        width: u32,
        height: u32,
        fps: u32,
    },
}

/// Why the test camera could not start.
#[derive(Debug, thiserror::Error)]
pub enum TestCameraError {
    #[error("GStreamer could not be initialised: {0}")]
    Init(String),
    #[error("mount path {0:?} must be non-empty letters, digits, '-', '_' or '/'")]
    InvalidPath(String),
    #[error("test pattern {0:?} must be a videotestsrc nick (letters, digits, '-')")]
    InvalidPattern(String),
    #[error("test camera file {path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
    #[error("cannot listen for RTSP on 127.0.0.1:{port}: {reason}")]
    Listen { port: u16, reason: String },
    #[error("cannot start the test camera's {what} thread: {source}")]
    Thread {
        what: &'static str,
        source: std::io::Error,
    },
}

/// A running RTSP test camera. Dropping it stops it.
#[derive(Debug)]
pub struct TestCameraServer {
    port: u16,
    path: String,
    main_loop: glib::MainLoop,
    server_thread: Option<JoinHandle<()>>,
    player: Option<FilePlayer>,
}

impl TestCameraServer {
    /// Starts serving `feed` on `rtsp://127.0.0.1:{port}/{path}`; port 0 picks a free one
    /// (see [`port`](Self::port)).
    pub fn start(feed: TestFeed, port: u16, path: &str) -> Result<Self, TestCameraError> {
        gst::init().map_err(|e| TestCameraError::Init(e.to_string()))?;
        let path = path.trim_start_matches('/').to_owned();
        let path_ok = !path.is_empty()
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_/".contains(c));
        if !path_ok {
            return Err(TestCameraError::InvalidPath(path));
        }
        let encoder = "videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast \
                       key-int-max=10 bitrate=2000 ! rtph264pay name=pay0 pt=96 config-interval=-1";
        let factory = rtsp_server::RTSPMediaFactory::new();
        factory.set_shared(true);
        let mut player = None;
        match &feed {
            TestFeed::Pattern {
                pattern,
                width,
                height,
                fps,
            } => {
                if pattern.is_empty()
                    || !pattern
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    return Err(TestCameraError::InvalidPattern(pattern.clone()));
                }
                factory.set_launch(&format!(
                    "( videotestsrc is-live=true pattern={pattern} ! \
                     video/x-raw,width={width},height={height},framerate={fps}/1 ! {encoder} )"
                ));
            }
            TestFeed::File(file) => {
                let feeds: Feeds = Arc::default();
                factory.set_launch(&format!(
                    "( appsrc name=feed is-live=true format=time do-timestamp=true \
                     leaky-type=downstream max-buffers=3 ! {encoder} )"
                ));
                let configured = Arc::clone(&feeds);
                factory.connect_media_configure(move |_, media| {
                    let appsrc = media
                        .element()
                        .downcast::<gst::Bin>()
                        .ok()
                        .and_then(|bin| bin.by_name_recurse_up("feed"))
                        .and_then(|e| e.downcast::<gst_app::AppSrc>().ok());
                    match appsrc {
                        Some(appsrc) => lock(&configured).push(appsrc.downgrade()),
                        None => tracing::error!("test camera media has no appsrc named feed"),
                    }
                });
                player = Some(FilePlayer::start(file, feeds)?);
            }
        }

        let server = rtsp_server::RTSPServer::new();
        server.set_address("127.0.0.1");
        server.set_service(&port.to_string());
        let mounts = server
            .mount_points()
            .ok_or_else(|| TestCameraError::Listen {
                port,
                reason: "the server has no mount points".to_owned(),
            })?;
        mounts.add_factory(&format!("/{path}"), factory);

        let context = glib::MainContext::new();
        let main_loop = glib::MainLoop::new(Some(&context), false);
        let source = server
            .attach(Some(&context))
            .map_err(|e| TestCameraError::Listen {
                port,
                reason: e.to_string(),
            })?;
        let bound_port =
            u16::try_from(server.bound_port()).map_err(|_| TestCameraError::Listen {
                port,
                reason: "the server reports no bound port".to_owned(),
            })?;
        let loop_in_thread = main_loop.clone();
        let server_thread = std::thread::Builder::new()
            .name(format!("test-rtsp-{bound_port}"))
            .spawn(move || {
                let served = context.with_thread_default(|| {
                    loop_in_thread.run();
                    // Close the clients and sessions so that readers see the camera go
                    // away, and release the port.
                    server.client_filter(Some(&mut |_, _| rtsp_server::RTSPFilterResult::Remove));
                    if let Some(pool) = server.session_pool() {
                        pool.filter(Some(&mut |_, _| rtsp_server::RTSPFilterResult::Remove));
                    }
                    // The listening socket's source lives in this context, not the
                    // global default one that `SourceId::remove` looks in.
                    if let Some(listener) = context.find_source_by_id(&source) {
                        listener.destroy();
                    }
                    while context.iteration(false) {}
                });
                if let Err(e) = served {
                    tracing::error!(error = %e, "test camera could not own its main context");
                }
            })
            .map_err(|source| TestCameraError::Thread {
                what: "server",
                source,
            })?;
        tracing::info!(port = bound_port, path = %path, "test RTSP camera serving");
        Ok(TestCameraServer {
            port: bound_port,
            path,
            main_loop,
            server_thread: Some(server_thread),
            player,
        })
    }

    /// The port the camera listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `rtsp://127.0.0.1:{port}/{path}`.
    pub fn url(&self) -> String {
        format!("rtsp://127.0.0.1:{}/{}", self.port, self.path)
    }

    /// Disconnects the clients, closes the port and stops the player.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.main_loop.quit();
        if let Some(thread) = self.server_thread.take() {
            if thread.join().is_err() {
                tracing::error!("test camera server thread panicked");
            }
        }
        if let Some(player) = self.player.take() {
            player.stop();
        }
    }
}

impl Drop for TestCameraServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The media pipelines' appsrcs currently fed (one while the shared media exists).
type Feeds = Arc<Mutex<Vec<glib::WeakRef<gst_app::AppSrc>>>>;

/// Decodes a file in real time, looping, and pushes its frames into the feeds.
#[derive(Debug)]
struct FilePlayer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FilePlayer {
    fn start(file: &Path, feeds: Feeds) -> Result<Self, TestCameraError> {
        let bad = |reason: String| TestCameraError::BadFile {
            path: file.to_owned(),
            reason,
        };
        let absolute = std::path::absolute(file).map_err(|e| bad(e.to_string()))?;
        if !absolute.is_file() {
            return Err(bad("not found or not a regular file".to_owned()));
        }
        let uri = glib::filename_to_uri(&absolute, None).map_err(|e| bad(e.to_string()))?;
        let uridecodebin = gst::ElementFactory::make("uridecodebin")
            .property("uri", uri.as_str())
            .build()
            .map_err(|e| bad(e.to_string()))?;
        let pipeline = gst::parse::launch(
            "videoconvert name=convert ! video/x-raw,format=I420 ! \
             appsink name=sink sync=true max-buffers=2",
        )
        .map_err(|e| bad(e.to_string()))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| bad("player pipeline is not a pipeline".to_owned()))?;
        let convert = pipeline
            .by_name("convert")
            .ok_or_else(|| bad("player has no converter".to_owned()))?;
        let appsink = pipeline
            .by_name("sink")
            .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
            .ok_or_else(|| bad("player has no appsink".to_owned()))?;
        pipeline
            .add(&uridecodebin)
            .map_err(|e| bad(e.to_string()))?;
        let convert_weak = convert.downgrade();
        uridecodebin.connect_pad_added(move |_, pad| {
            let Some(convert) = convert_weak.upgrade() else {
                return;
            };
            let Some(sink_pad) = convert.static_pad("sink") else {
                return;
            };
            let is_video = pad
                .current_caps()
                .and_then(|caps| caps.structure(0).map(|s| s.name().starts_with("video/")))
                .unwrap_or(false);
            if is_video && !sink_pad.is_linked() {
                if let Err(e) = pad.link(&sink_pad) {
                    tracing::error!(error = ?e, "test camera player cannot link video");
                }
            }
        });
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| bad(format!("the player does not start: {e}")))?;

        let stop = Arc::new(AtomicBool::new(false));
        let stop_in_thread = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("test-rtsp-player".to_owned())
            .spawn(move || play(pipeline, appsink, feeds, stop_in_thread))
            .map_err(|source| TestCameraError::Thread {
                what: "player",
                source,
            })?;
        Ok(FilePlayer {
            stop,
            thread: Some(thread),
        })
    }

    fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("test camera player thread panicked");
            }
        }
    }
}

/// The player loop: pull a frame, push it to every live feed, loop at the end.
fn play(pipeline: gst::Pipeline, appsink: gst_app::AppSink, feeds: Feeds, stop: Arc<AtomicBool>) {
    let bus = pipeline.bus();
    while !stop.load(Ordering::SeqCst) {
        if let Some(message) = bus
            .as_ref()
            .and_then(|bus| bus.pop_filtered(&[gst::MessageType::Error]))
        {
            if let gst::MessageView::Error(err) = message.view() {
                tracing::error!(error = %err.error(), debug = ?err.debug(), "test camera player failed");
            }
            break;
        }
        let Some(sample) = appsink.try_pull_sample(gst::ClockTime::from_mseconds(100)) else {
            if appsink.is_eos() {
                let seek = pipeline.seek_simple(
                    gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT,
                    gst::ClockTime::ZERO,
                );
                if let Err(e) = seek {
                    tracing::error!(error = %e, "test camera player cannot loop");
                    break;
                }
            }
            continue;
        };
        let (Some(caps), Some(buffer)) = (sample.caps_owned(), sample.buffer_owned()) else {
            continue;
        };
        let mut feeds = lock(&feeds);
        feeds.retain(|weak| weak.upgrade().is_some());
        for appsrc in feeds.iter().filter_map(|weak| weak.upgrade()) {
            if appsrc.caps().as_ref() != Some(&caps) {
                appsrc.set_caps(Some(&caps));
            }
            // Stamped by the appsrc on arrival (do-timestamp), so the stream's time runs
            // on across loops of the file.
            let mut buffer = buffer.clone();
            {
                let buffer = buffer.make_mut();
                buffer.set_pts(gst::ClockTime::NONE);
                buffer.set_dts(gst::ClockTime::NONE);
            }
            // Errors only mean the media is not playing (yet, or any more).
            let _ = appsrc.push_buffer(buffer);
        }
    }
    let _ = pipeline.set_state(gst::State::Null);
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for tests that need to know the
/// port before anything listens on it, or a port where nothing listens).
pub fn free_local_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
