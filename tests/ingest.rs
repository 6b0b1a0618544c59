//! Camera ingest against real GStreamer: the vtest.avi clip decoded through the file
//! source, an RTSP test camera that is killed and brought back, broken cameras beside a
//! healthy one, and the camera set's runtime add / remove.
//!
//! A test whose footage or GStreamer element is missing prints `SKIP:` and why, and
//! returns without asserting anything.
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lookout::frame::VideoFrame;
use lookout::ingest::{
    free_local_port, CameraConfig, CameraSet, CameraState, CameraStatus, IngestConfig, IngestError,
    ReconnectConfig, RtspCodec, RtspTransport, SourceConfig, TestCameraServer, TestFeed,
};

const VTEST: &str = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
const VTEST_FRAMES: u64 = 795;

fn vtest() -> Option<PathBuf> {
    let path = Path::new(VTEST);
    if path.is_file() {
        Some(path.to_owned())
    } else {
        eprintln!("SKIP: {VTEST} is missing (apt-get install opencv-doc)");
        None
    }
}

/// True when every element is installed; otherwise prints which is missing.
fn have_elements(test: &str, elements: &[&str]) -> bool {
    gstreamer::init().expect("GStreamer initialises");
    for element in elements {
        if gstreamer::ElementFactory::find(element).is_none() {
            eprintln!("SKIP {test}: GStreamer element {element} is not installed");
            return false;
        }
    }
    true
}

fn camera(id: &str, source: SourceConfig) -> CameraConfig {
    CameraConfig {
        id: id.to_owned(),
        source,
        analysis_fps: 5,
        max_width: None,
        reconnect: ReconnectConfig::default(),
    }
}

fn file(path: &Path, looping: bool) -> SourceConfig {
    SourceConfig::File {
        path: path.to_owned(),
        looping,
        realtime: false,
    }
}

/// What the consumer saw of one frame.
#[derive(Debug, Clone)]
struct Seen {
    sequence: u64,
    timestamp_ms: i64,
    width: u32,
    height: u32,
    rgb_len: usize,
    at: Instant,
}

/// Drains a frame channel on its own thread, keeping what each frame looked like and the
/// most recent frame itself.
struct Collector {
    seen: Arc<Mutex<Vec<Seen>>>,
    latest: Arc<Mutex<Option<VideoFrame>>>,
    thread: Option<JoinHandle<()>>,
}

impl Collector {
    fn start(frames: Receiver<VideoFrame>) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let latest = Arc::new(Mutex::new(None));
        let (seen_in, latest_in) = (Arc::clone(&seen), Arc::clone(&latest));
        let thread = std::thread::spawn(move || {
            for frame in frames {
                seen_in.lock().unwrap().push(Seen {
                    sequence: frame.sequence,
                    timestamp_ms: frame.timestamp_ms,
                    width: frame.width,
                    height: frame.height,
                    rgb_len: frame.rgb.len(),
                    at: Instant::now(),
                });
                *latest_in.lock().unwrap() = Some(frame);
            }
        });
        Collector {
            seen,
            latest,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    fn latest(&self) -> Option<VideoFrame> {
        self.latest.lock().unwrap().clone()
    }

    /// Waits for the channel to close (every sender dropped), then returns all frames.
    fn finish(mut self) -> Vec<Seen> {
        if let Some(thread) = self.thread.take() {
            thread.join().expect("collector thread");
        }
        self.seen()
    }
}

fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

fn status(set: &CameraSet, id: &str) -> CameraStatus {
    set.status(id).expect("camera exists")
}

#[test]
fn vtest_decodes_to_rgb_at_the_analysis_rate() {
    let Some(vtest) = vtest() else { return };
    let set = CameraSet::default();

    // Full size at 5 frames/s: every other frame of the 10 frames/s clip.
    let (tx, rx) = sync_channel(64);
    let frames = Collector::start(rx);
    set.add(camera("vtest", file(&vtest, false)), tx)
        .expect("camera starts");
    // Scaled to an odd width, so that GStreamer pads the RGB rows.
    let (tx_small, rx_small) = sync_channel(64);
    let small_frames = Collector::start(rx_small);
    let mut small = camera("vtest-small", file(&vtest, false));
    small.max_width = Some(333);
    set.add(small, tx_small).expect("small camera starts");

    let finished = wait_until(Duration::from_secs(60), || {
        set.statuses()
            .iter()
            .all(|s| s.state == CameraState::Finished)
    });
    assert!(
        finished,
        "file cameras did not finish: {:?}",
        set.statuses()
    );
    let final_status = set.remove("vtest").expect("remove");
    let small_status = set.remove("vtest-small").expect("remove");
    assert_eq!(final_status.state, CameraState::Finished);
    assert_eq!(final_status.last_error, None);
    let seen = frames.finish();
    let small_seen = small_frames.finish();

    let expected = VTEST_FRAMES / 2;
    let received = final_status.frames_received;
    assert!(
        received.abs_diff(expected) <= 3,
        "{received} frames at 5 frames/s from a {VTEST_FRAMES}-frame 10 frames/s clip"
    );
    assert_eq!(
        seen.len() as u64 + final_status.frames_dropped,
        received,
        "every frame is either delivered or counted as dropped"
    );
    assert!(seen
        .iter()
        .all(|f| f.width == 768 && f.height == 576 && f.rgb_len == 768 * 576 * 3));
    assert!(seen.windows(2).all(|w| w[1].sequence == w[0].sequence + 1));
    // Frame count against stream time: timestamps are camera start + position.
    let span_ms = seen.last().unwrap().timestamp_ms - seen[0].timestamp_ms;
    let rate = (seen.len() - 1) as f64 / (span_ms as f64 / 1000.0);
    assert!((rate - 5.0).abs() < 0.1, "{rate} frames per stream second");
    assert!(seen
        .windows(2)
        .all(|w| w[1].timestamp_ms > w[0].timestamp_ms));

    assert!(small_seen
        .iter()
        .all(|f| f.width == 333 && f.height == 250 && f.rgb_len == 333 * 250 * 3));
    assert!(small_status.frames_received.abs_diff(expected) <= 3);
}

#[test]
fn a_looping_file_plays_again_with_time_running_on() {
    let Some(vtest) = vtest() else { return };
    let set = CameraSet::default();
    let (tx, rx) = sync_channel(64);
    let frames = Collector::start(rx);
    let mut looping = camera("loop", file(&vtest, true));
    looping.analysis_fps = 25;
    looping.max_width = Some(192);
    set.add(looping, tx).expect("camera starts");
    // More than one pass of the 795-frame clip (all frames pass at 25 > 10 frames/s).
    let looped = wait_until(Duration::from_secs(40), || {
        frames.count() as u64 > VTEST_FRAMES + 50
    });
    let st = set.remove("loop").expect("remove");
    assert!(looped, "no second pass: {st:?}");
    assert_eq!(st.state, CameraState::Stopped);
    assert_eq!(st.reconnects, 0);
    let seen = frames.finish();
    assert!(seen.windows(2).all(|w| w[1].sequence == w[0].sequence + 1));
    assert!(
        seen.windows(2)
            .all(|w| w[1].timestamp_ms > w[0].timestamp_ms),
        "timestamps run on across the loop"
    );
    // The second pass starts one clip length (79.5 s) after the first.
    let pass2 = &seen[VTEST_FRAMES as usize];
    let offset = pass2.timestamp_ms - seen[0].timestamp_ms;
    assert!(
        (offset - 79_500).abs() <= 150,
        "second pass at +{offset} ms"
    );
}

#[test]
fn an_rtsp_camera_comes_back_by_itself_when_its_server_returns() {
    let Some(vtest) = vtest() else { return };
    let test = "rtsp reconnect";
    if !have_elements(
        test,
        &[
            "x264enc",
            "rtph264pay",
            "rtspsrc",
            "rtph264depay",
            "avdec_h264",
        ],
    ) {
        return;
    }
    let server = TestCameraServer::start(TestFeed::File(vtest.clone()), 0, "vtest")
        .expect("test camera starts");
    let port = server.port();
    let url = server.url();

    let set = CameraSet::default();
    let (tx, rx) = sync_channel(16);
    let frames = Collector::start(rx);
    let mut cam = camera(
        "door",
        SourceConfig::Rtsp {
            url: url.clone(),
            transport: RtspTransport::Tcp,
            latency_ms: 100,
            codec: RtspCodec::H264,
        },
    );
    cam.reconnect = ReconnectConfig {
        min_ms: 200,
        max_ms: 1_000,
        stall_timeout_ms: 3_000,
    };
    set.add(cam, tx).expect("camera starts");

    assert!(
        wait_until(Duration::from_secs(20), || frames.count() >= 5),
        "no frames from {url}: {:?}",
        status(&set, "door")
    );
    assert_eq!(status(&set, "door").state, CameraState::Up);
    let first = frames.latest().expect("a frame");
    assert_eq!((first.width, first.height), (768, 576));
    assert_eq!(&*first.camera_id, "door");

    server.stop();
    let went_down = wait_until(Duration::from_secs(10), || {
        matches!(
            status(&set, "door").state,
            CameraState::Down | CameraState::Reconnecting
        )
    });
    let st = status(&set, "door");
    assert!(went_down, "camera did not notice the server going: {st:?}");
    let error = st.last_error.clone().expect("an error is reported");
    eprintln!("server stopped -> {:?}: {error}", st.state);
    assert!(error.contains("\"door\""), "{error}");
    let before_restart = frames.count();
    let stopped_at = Instant::now();

    let server = TestCameraServer::start(TestFeed::File(vtest), port, "vtest")
        .expect("test camera restarts on the same port");
    assert_eq!(server.port(), port);
    let resumed = wait_until(Duration::from_secs(25), || {
        frames.count() >= before_restart + 5
    });
    let st = status(&set, "door");
    eprintln!(
        "server back -> {:?} after {} ms, {} reconnects",
        st.state,
        stopped_at.elapsed().as_millis(),
        st.reconnects
    );
    assert!(resumed, "frames did not resume: {st:?}");
    assert_eq!(st.state, CameraState::Up);
    assert!(st.reconnects >= 1, "{st:?}");
    let seen = frames.seen();
    let after: Vec<_> = seen.iter().filter(|f| f.at > stopped_at).collect();
    assert!(
        after.iter().any(|f| f.sequence < 5),
        "numbering restarts with the new connection"
    );
    assert!(st.fps > 1.0, "{st:?}");
    let st = set.remove("door").expect("remove");
    assert_eq!(st.state, CameraState::Stopped);
    server.stop();
}

#[test]
fn broken_cameras_go_down_while_a_healthy_one_delivers() {
    if !have_elements(
        "broken cameras",
        &["videotestsrc", "rtspsrc", "uridecodebin"],
    ) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("lookout-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let garbage = dir.join("corrupt.avi");
    let bytes: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&garbage, bytes).expect("write garbage");
    let closed_port = free_local_port().expect("a free port");

    let set = CameraSet::default();
    let (tx, rx) = sync_channel(8);
    let healthy = Collector::start(rx);
    let mut red = camera(
        "red",
        SourceConfig::Test {
            pattern: "red".into(),
            width: 333,
            height: 100,
        },
    );
    red.analysis_fps = 10;
    set.add(red, tx).expect("test camera starts");
    let (broken_tx, broken_rx) = sync_channel(8);
    set.add(camera("corrupt", file(&garbage, false)), broken_tx.clone())
        .expect("a corrupt file is only found out when played");
    let mut unreachable = camera(
        "nowhere",
        SourceConfig::Rtsp {
            url: format!("rtsp://127.0.0.1:{closed_port}/x"),
            transport: RtspTransport::Tcp,
            latency_ms: 100,
            codec: RtspCodec::Auto,
        },
    );
    unreachable.reconnect = ReconnectConfig {
        min_ms: 300,
        max_ms: 2_000,
        stall_timeout_ms: 3_000,
    };
    set.add(unreachable, broken_tx).expect("camera starts");

    let down = wait_until(Duration::from_secs(15), || {
        status(&set, "corrupt").state == CameraState::Down
            && status(&set, "nowhere").state == CameraState::Down
    });
    let (corrupt, nowhere) = (status(&set, "corrupt"), status(&set, "nowhere"));
    assert!(down, "{corrupt:?}\n{nowhere:?}");
    let corrupt_error = corrupt.last_error.expect("error text");
    eprintln!("corrupt file -> {:?}: {corrupt_error}", corrupt.state);
    assert!(corrupt_error.contains("\"corrupt\""), "{corrupt_error}");
    assert!(
        corrupt_error.to_lowercase().contains("type") || corrupt_error.contains("demux"),
        "GStreamer's reason is kept: {corrupt_error}"
    );
    assert_eq!(corrupt.retry_at_ms, None, "a broken file is not retried");
    let nowhere_error = nowhere.last_error.expect("error text");
    eprintln!("closed port -> {:?}: {nowhere_error}", nowhere.state);
    assert!(nowhere_error.contains("\"nowhere\""), "{nowhere_error}");
    assert!(nowhere_error.contains("rtspsrc"), "{nowhere_error}");
    assert!(nowhere.retry_at_ms.is_some(), "a live camera is retried");
    assert_eq!(broken_rx.try_iter().count(), 0);

    // The healthy camera kept going all along, and keeps going.
    let before = healthy.count();
    assert!(before > 0, "{:?}", status(&set, "red"));
    assert!(wait_until(Duration::from_secs(5), || healthy.count() >= before + 5));
    let red_status = status(&set, "red");
    assert_eq!(red_status.state, CameraState::Up);
    assert_eq!(red_status.last_error, None);
    let frame = healthy.latest().expect("a frame");
    assert_eq!(
        (frame.width, frame.height, frame.rgb.len()),
        (333, 100, 333 * 100 * 3)
    );
    // Rows of 999 bytes come padded out of GStreamer; packed, every pixel is still red.
    for y in [0, 1, 50, 99] {
        for x in [0, 1, 166, 332] {
            let [r, g, b] = frame.pixel(x, y).expect("inside");
            assert!(r > 230 && g < 25 && b < 25, "pixel ({x},{y}) = {r},{g},{b}");
        }
    }
    assert!(wait_until(Duration::from_secs(3), || status(
        &set, "nowhere"
    )
    .reconnects
        >= 1));

    let statuses = set.stop_all();
    assert_eq!(statuses.len(), 3);
    let by_id = |id: &str| statuses.iter().find(|s| s.id == id).unwrap().state;
    assert_eq!(by_id("red"), CameraState::Stopped);
    assert_eq!(by_id("nowhere"), CameraState::Stopped);
    assert_eq!(
        by_id("corrupt"),
        CameraState::Down,
        "an ended camera keeps its state"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cameras_are_added_and_removed_at_runtime_with_clear_errors() {
    if !have_elements("camera set", &["videotestsrc", "videoconvert", "appsink"]) {
        return;
    }
    let set = CameraSet::default();
    let (tx, rx) = sync_channel(8);
    let frames = Collector::start(rx);
    let bars = camera(
        "bars",
        SourceConfig::Test {
            pattern: "ball".into(),
            width: 160,
            height: 120,
        },
    );
    set.add(bars.clone(), tx.clone()).expect("starts");
    match set.add(bars, tx.clone()) {
        Err(IngestError::DuplicateId(id)) => assert_eq!(id, "bars"),
        other => panic!("duplicate accepted: {other:?}"),
    }
    let mut bad_rate = camera(
        "bad-rate",
        SourceConfig::Test {
            pattern: "ball".into(),
            width: 160,
            height: 120,
        },
    );
    bad_rate.analysis_fps = 0;
    let err = set.add(bad_rate, tx.clone()).expect_err("fps 0");
    assert!(matches!(err, IngestError::Config(_)));
    assert!(err.to_string().contains("analysis_fps = 0"), "{err}");

    let no_sink = camera(
        "no-sink",
        SourceConfig::Custom {
            pipeline: "videotestsrc ! appsink name=out".into(),
        },
    );
    let err = set
        .add(no_sink, tx.clone())
        .expect_err("no appsink named sink");
    assert!(err.to_string().contains("named \"sink\""), "{err}");
    let missing = camera(
        "missing",
        SourceConfig::Custom {
            pipeline: "nosuchelement ! appsink name=sink".into(),
        },
    );
    let err = set.add(missing, tx.clone()).expect_err("unknown element");
    assert!(err.to_string().contains("nosuchelement"), "{err}");

    // A custom, finite pipeline: thinned to the analysis rate by timestamps, then finished.
    let custom = camera(
        "custom",
        SourceConfig::Custom {
            pipeline: "videotestsrc num-buffers=30 ! video/x-raw,framerate=30/1 ! \
                       videoconvert ! video/x-raw,format=RGB,width=64,height=48 ! \
                       appsink name=sink"
                .into(),
        },
    );
    set.add(custom, tx.clone()).expect("custom starts");
    drop(tx);
    assert!(wait_until(Duration::from_secs(10), || {
        status(&set, "custom").state == CameraState::Finished
    }));
    let custom = status(&set, "custom");
    // 30 frames at 30 frames/s = 1 s of stream = 5 frames at 5 frames/s.
    assert_eq!(custom.frames_received, 5, "{custom:?}");

    assert!(wait_until(Duration::from_secs(10), || {
        status(&set, "bars").state == CameraState::Up
    }));
    assert_eq!(set.ids(), vec!["bars", "custom"]);
    let json = serde_json::to_value(set.statuses()).expect("statuses serialise");
    assert_eq!(json[0]["id"], "bars");
    assert_eq!(json[0]["state"], "up");
    assert_eq!(json[1]["state"], "finished");

    let stopping = Instant::now();
    let st = set.remove("bars").expect("remove");
    assert_eq!(st.state, CameraState::Stopped);
    assert!(stopping.elapsed() < Duration::from_secs(5));
    match set.remove("bars") {
        Err(IngestError::UnknownId(id)) => assert_eq!(id, "bars"),
        other => panic!("removed twice: {other:?}"),
    }
    assert!(matches!(set.status("nope"), Err(IngestError::UnknownId(_))));
    set.remove("custom").expect("remove");
    assert!(set.is_empty());
    // Every sender is gone with the cameras: the consumer's channel closes.
    let seen = frames.finish();
    assert!(seen.iter().any(|f| f.width == 160));
    assert!(seen.iter().any(|f| f.width == 64));
}

#[test]
fn vtest_decode_throughput_is_reported() {
    let Some(vtest) = vtest() else { return };
    let set = CameraSet::default();
    let (tx, rx) = sync_channel(64);
    let frames = Collector::start(rx);
    let mut all = camera("throughput", file(&vtest, false));
    // Above the clip's 10 frames/s: every frame is decoded and converted to RGB.
    all.analysis_fps = 60;
    let started = Instant::now();
    set.add(all, tx).expect("camera starts");
    assert!(wait_until(Duration::from_secs(60), || {
        status(&set, "throughput").state == CameraState::Finished
    }));
    let elapsed = started.elapsed().as_secs_f64();
    let st = set.remove("throughput").expect("remove");
    let seen = frames.finish();
    assert_eq!(st.frames_received, VTEST_FRAMES);
    eprintln!(
        "vtest.avi 768x576 decode to packed RGB: {} frames in {elapsed:.2} s = {:.0} frames/s ({} dropped by the consumer queue)",
        seen.len(),
        VTEST_FRAMES as f64 / elapsed,
        st.frames_dropped
    );
}

#[test]
fn a_live_source_that_delivers_nothing_is_restarted() {
    if !have_elements(
        "stall watchdog",
        &["videotestsrc", "videoconvert", "appsink"],
    ) {
        return;
    }
    let set = CameraSet::default();
    let (tx, _rx) = sync_channel(8);
    // A live source pushes a frame at the end of its duration: here 30 s, far longer
    // than the stall timeout, so the camera sees a connected but silent source.
    let mut silent = camera(
        "silent",
        SourceConfig::Custom {
            pipeline:
                "videotestsrc is-live=true ! video/x-raw,width=32,height=24,framerate=1/30 ! \
                       videoconvert ! video/x-raw,format=RGB ! appsink name=sink"
                    .into(),
        },
    );
    silent.reconnect = ReconnectConfig {
        min_ms: 100,
        max_ms: 200,
        stall_timeout_ms: 600,
    };
    set.add(silent, tx).expect("starts");
    let restarted = wait_until(Duration::from_secs(10), || {
        status(&set, "silent").reconnects >= 2
    });
    let st = set.remove("silent").expect("remove");
    assert!(restarted, "{st:?}");
    assert_eq!(st.frames_received, 0);
    let error = st.last_error.expect("the stall is reported");
    assert!(error.contains("\"silent\": no frame for"), "{error}");
}

#[test]
fn a_realtime_file_is_paced_like_a_camera() {
    let Some(vtest) = vtest() else { return };
    let set = CameraSet::default();
    let (tx, rx) = sync_channel(8);
    let frames = Collector::start(rx);
    let paced = camera(
        "paced",
        SourceConfig::File {
            path: vtest,
            looping: false,
            realtime: true,
        },
    );
    set.add(paced, tx).expect("starts");
    assert!(wait_until(Duration::from_secs(10), || frames.count() >= 3));
    std::thread::sleep(Duration::from_millis(1_500));
    let st = set.remove("paced").expect("remove");
    // Unpaced, the whole clip (398 frames at 5 frames/s) is through in about a second;
    // paced, 1.5 s of it is about 8 frames.
    assert!(st.frames_received < 60, "{st:?}");
    assert_eq!(st.state, CameraState::Stopped);
    let seen = frames.finish();
    let span_ms = seen.last().unwrap().timestamp_ms - seen[0].timestamp_ms;
    let wall_ms = seen
        .last()
        .unwrap()
        .at
        .duration_since(seen[0].at)
        .as_millis() as i64;
    assert!(
        (span_ms - wall_ms).abs() < 1_000,
        "stream time {span_ms} ms against wall time {wall_ms} ms"
    );
}

#[test]
fn an_ingest_configuration_starts_its_cameras() {
    if !have_elements(
        "ingest configuration",
        &["videotestsrc", "videoconvert", "appsink"],
    ) {
        return;
    }
    let config = IngestConfig::from_toml(
        r#"
        [[camera]]
        id = "bars"
        analysis_fps = 10
        max_width = 100
        source = { kind = "test", pattern = "smpte", width = 400, height = 300 }

        [[camera]]
        id = "ball"
        source = { kind = "test", pattern = "ball" }
        "#,
    )
    .expect("parses");
    let (tx, rx) = sync_channel(16);
    let frames = Collector::start(rx);
    let set = CameraSet::from_config(&config, tx).expect("starts");
    assert!(wait_until(Duration::from_secs(10), || {
        let seen = frames.seen();
        seen.iter().any(|f| f.width == 100 && f.height == 75)
            && seen.iter().any(|f| f.width == 640 && f.height == 480)
    }));
    drop(set);
    // Dropping the set stops every camera and closes the channel.
    frames.finish();

    let dup = IngestConfig::from_toml(
        "[[camera]]\nid = \"a\"\nsource = { kind = \"test\" }\n[[camera]]\nid = \"a\"\nsource = { kind = \"test\" }",
    )
    .expect("parses");
    let (tx, _rx) = sync_channel(1);
    assert!(matches!(
        CameraSet::from_config(&dup, tx),
        Err(IngestError::DuplicateId(_))
    ));
}

/// Serves `multipart/x-mixed-replace` JPEG (an MJPEG IP camera) on loopback: every
/// client gets a 320×240 JPEG every 100 ms whose colour changes with the frame number.
fn start_mjpeg_server() -> (u16, Arc<std::sync::atomic::AtomicBool>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_server = Arc::clone(&stop);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let stop = Arc::clone(&stop_server);
            std::thread::spawn(move || {
                let mut request = [0u8; 2048];
                let _ = stream.read(&mut request);
                let head = "HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=lookoutframe\r\n\r\n";
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                for n in 0u32.. {
                    if stop.load(std::sync::atomic::Ordering::SeqCst) {
                        return;
                    }
                    let image = image::RgbImage::from_fn(320, 240, |x, y| {
                        image::Rgb([(n * 40 % 256) as u8, (x % 256) as u8, (y % 256) as u8])
                    });
                    let mut jpeg = Vec::new();
                    if image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
                        .encode_image(&image)
                        .is_err()
                    {
                        return;
                    }
                    let part = format!(
                        "--lookoutframe\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                        jpeg.len()
                    );
                    if stream.write_all(part.as_bytes()).is_err()
                        || stream.write_all(&jpeg).is_err()
                        || stream.write_all(b"\r\n").is_err()
                    {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
    });
    (port, stop)
}

#[test]
fn an_http_mjpeg_camera_delivers_frames() {
    let test = "an_http_mjpeg_camera_delivers_frames";
    if !have_elements(test, &["souphttpsrc", "multipartdemux", "jpegdec"]) {
        return;
    }
    let (port, stop) = start_mjpeg_server();
    let (tx, rx) = sync_channel(16);
    let collector = Collector::start(rx);
    let set = CameraSet::default();
    set.add(
        camera(
            "mjpeg",
            SourceConfig::HttpMjpeg {
                url: format!("http://127.0.0.1:{port}/video.mjpg"),
            },
        ),
        tx,
    )
    .expect("add MJPEG camera");
    // 10 parts/s served, 5 analysed per second.
    assert!(
        wait_until(Duration::from_secs(30), || collector.count() >= 10),
        "MJPEG frames: {} ({:?})",
        collector.count(),
        status(&set, "mjpeg")
    );
    assert_eq!(status(&set, "mjpeg").state, CameraState::Up);
    let frame = collector.latest().expect("a frame");
    assert_eq!((frame.width, frame.height), (320, 240));
    assert_eq!(frame.rgb.len(), 320 * 240 * 3);
    // Pixel (200, 100): green ≈ x, blue ≈ y, through JPEG.
    let [_, g, b] = frame.pixel(200, 100).expect("pixel");
    assert!(
        (i32::from(g) - 200).abs() < 12 && (i32::from(b) - 100).abs() < 12,
        "{g} {b}"
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    set.stop_all();
}
