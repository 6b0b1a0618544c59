//! Camera configuration: what the `[[camera]]` tables of the TOML file say, how they are
//! checked, and how a checked camera becomes a pipeline description.
//!
//! `CameraConfig::build` is the one way from configuration to a running [`Camera`]: it
//! validates every field, fills in the source's template, parses the resulting pipeline once
//! (so that a missing plugin or a malformed custom pipeline is reported when the camera is
//! added, not later in a log) and then starts the camera's thread.
use std::path::PathBuf;
use std::sync::mpsc::SyncSender;

use serde::{Deserialize, Serialize};

use super::camera::{Camera, PipelinePlan};
use super::template::{PipelineTemplates, PipelineValue, TemplateError};
use crate::frame::VideoFrame;

/// The ingest section of the configuration file: the cameras to start.
///
/// ```toml
/// pipelines_dir = "pipelines"   # optional; built-in templates otherwise
///
/// [[camera]]
/// id = "entrance"
/// source = { kind = "rtsp", url = "rtsp://10.0.0.5:554/stream1", transport = "tcp" }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// Folder with `<kind>.pipeline` files that replace the built-in templates.
    #[serde(default)]
    pub pipelines_dir: Option<PathBuf>,
    /// The cameras, one `[[camera]]` table each.
    #[serde(default, rename = "camera")]
    pub cameras: Vec<CameraConfig>,
}

impl IngestConfig {
    /// Parses the TOML text of an ingest configuration (syntax and field names only;
    /// values are checked by [`CameraConfig::validate`] and `build`).
    pub fn from_toml(text: &str) -> Result<Self, BuildError> {
        toml::from_str(text).map_err(|e| BuildError::Parse(e.to_string()))
    }
}

/// One camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    /// Unique name of the camera, carried by every frame and sighting. 1–64 characters:
    /// ASCII letters, digits, `-`, `_` and `.`.
    pub id: String,
    /// Where the video comes from.
    pub source: SourceConfig,
    /// Frames per second handed to analysis (1–60); the pipeline drops the rest before
    /// colour conversion. Sources slower than this are passed at their own rate.
    #[serde(default = "default_analysis_fps")]
    pub analysis_fps: u32,
    /// Frames wider than this are scaled down, keeping the aspect ratio (16–8192).
    /// Absent: frames keep their size.
    #[serde(default)]
    pub max_width: Option<u32>,
    /// How a failed live source is retried.
    #[serde(default)]
    pub reconnect: ReconnectConfig,
}

fn default_analysis_fps() -> u32 {
    5
}

/// The kinds of video source, tagged by `kind` in the TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceConfig {
    /// A video file in any container and codec GStreamer can decode.
    File {
        /// Path of the file; relative paths are taken from the working directory.
        path: PathBuf,
        /// Play the file again from the start when it ends (else the camera finishes).
        #[serde(default, rename = "loop")]
        looping: bool,
        /// Play at the file's own speed, like a camera (default). `false` decodes as fast
        /// as the machine allows, for indexing recorded footage.
        #[serde(default = "default_true")]
        realtime: bool,
    },
    /// An RTSP camera or recorder.
    Rtsp {
        /// `rtsp://` or `rtsps://` URL, credentials included if the camera needs them.
        url: String,
        /// RTP transport: `tcp` (interleaved in the RTSP connection; default, works
        /// through firewalls) or `udp`.
        #[serde(default)]
        transport: RtspTransport,
        /// Jitter buffer size in milliseconds.
        #[serde(default = "default_latency_ms")]
        latency_ms: u32,
        /// The camera's codec when known: `h264` or `h265` allow NVIDIA hardware decode
        /// where the decoder exists; `auto` (default) decodes whatever comes, in software.
        #[serde(default)]
        codec: RtspCodec,
    },
    /// An HTTP camera streaming multipart JPEG (MJPEG).
    HttpMjpeg {
        /// `http://` or `https://` URL of the MJPEG stream.
        url: String,
    },
    /// An HTTP Live Streaming playlist.
    Hls {
        /// `http://` or `https://` URL of the `.m3u8` playlist.
        url: String,
    },
    /// A Video4Linux2 capture device.
    V4l2 {
        /// Device node, such as `/dev/video0`.
        device: PathBuf,
    },
    /// A synthetic live camera (GStreamer `videotestsrc`).
    Test {
        /// A `videotestsrc` pattern nick: `smpte`, `ball`, `snow`, `red`, ...
        #[serde(default = "default_pattern")]
        pattern: String,
        /// Frame width in pixels (16–8192).
        #[serde(default = "default_test_width")]
        width: u32,
        /// Frame height in pixels (16–8192).
        #[serde(default = "default_test_height")]
        height: u32,
    },
    /// A complete gst-launch pipeline of your own; it must end in an `appsink name=sink`
    /// that receives `video/x-raw,format=RGB`. Taken as it is: no placeholders.
    Custom {
        /// The gst-launch description.
        pipeline: String,
    },
}

fn default_true() -> bool {
    true
}
fn default_latency_ms() -> u32 {
    200
}
fn default_pattern() -> String {
    "smpte".to_owned()
}
fn default_test_width() -> u32 {
    640
}
fn default_test_height() -> u32 {
    480
}

impl SourceConfig {
    /// The kind's name as written in the TOML (`file`, `rtsp`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            SourceConfig::File { .. } => "file",
            SourceConfig::Rtsp { .. } => "rtsp",
            SourceConfig::HttpMjpeg { .. } => "http_mjpeg",
            SourceConfig::Hls { .. } => "hls",
            SourceConfig::V4l2 { .. } => "v4l2",
            SourceConfig::Test { .. } => "test",
            SourceConfig::Custom { .. } => "custom",
        }
    }
}

/// RTP transport for RTSP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RtspTransport {
    #[default]
    Tcp,
    Udp,
}

impl RtspTransport {
    /// The `rtspsrc protocols` value.
    fn protocols(self) -> &'static str {
        match self {
            RtspTransport::Tcp => "tcp",
            RtspTransport::Udp => "udp",
        }
    }
}

/// The codec an RTSP camera sends, when the configuration says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RtspCodec {
    #[default]
    Auto,
    H264,
    H265,
}

/// Retry policy for live sources (every kind but `file`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconnectConfig {
    /// Wait before the first retry, milliseconds; doubled after each failed try.
    #[serde(default = "default_min_ms")]
    pub min_ms: u64,
    /// Longest wait between retries, milliseconds.
    #[serde(default = "default_max_ms")]
    pub max_ms: u64,
    /// A live source that delivers no frame for this long (milliseconds) — after
    /// connecting, or since the last frame — counts as failed and is restarted.
    #[serde(default = "default_stall_timeout_ms")]
    pub stall_timeout_ms: u64,
}

fn default_min_ms() -> u64 {
    500
}
fn default_max_ms() -> u64 {
    30_000
}
fn default_stall_timeout_ms() -> u64 {
    10_000
}

impl Default for ReconnectConfig {
    fn default() -> Self {
        ReconnectConfig {
            min_ms: default_min_ms(),
            max_ms: default_max_ms(),
            stall_timeout_ms: default_stall_timeout_ms(),
        }
    }
}

/// Why a camera configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("camera configuration is not valid TOML for this schema: {0}")]
    Parse(String),
    #[error("camera id {id:?} is not valid: {reason}")]
    InvalidId { id: String, reason: &'static str },
    #[error("camera {camera:?}: {field} = {value} is out of range ({allowed})")]
    OutOfRange {
        camera: String,
        field: &'static str,
        value: u64,
        allowed: &'static str,
    },
    #[error(
        "camera {camera:?}: reconnect.min_ms = {min_ms} is larger than reconnect.max_ms = {max_ms}"
    )]
    BackoffOrder {
        camera: String,
        min_ms: u64,
        max_ms: u64,
    },
    #[error("camera {camera:?}: url {url:?} is not valid for a {kind} source: {reason}")]
    InvalidUrl {
        camera: String,
        kind: &'static str,
        url: String,
        reason: String,
    },
    #[error("camera {camera:?}: file {path} cannot be used: {reason}")]
    BadFile {
        camera: String,
        path: PathBuf,
        reason: String,
    },
    #[error("camera {camera:?}: {source}")]
    Template {
        camera: String,
        source: TemplateError,
    },
    #[error("camera {camera:?}: GStreamer cannot build the {kind} pipeline: {error}\n  pipeline: {pipeline}")]
    Pipeline {
        camera: String,
        kind: &'static str,
        pipeline: String,
        error: String,
    },
    #[error("camera {camera:?}: the pipeline has no appsink named \"sink\" ({detail})\n  pipeline: {pipeline}")]
    NoAppSink {
        camera: String,
        pipeline: String,
        detail: &'static str,
    },
    #[error("GStreamer could not be initialised: {0}")]
    GstInit(String),
    #[error("camera {camera:?}: cannot start its thread: {source}")]
    Thread {
        camera: String,
        source: std::io::Error,
    },
}

/// The largest frame side accepted in configuration.
const MAX_SIDE: u32 = 8192;

impl CameraConfig {
    /// Parses one camera from TOML (the body of a `[[camera]]` table).
    pub fn from_toml(text: &str) -> Result<Self, BuildError> {
        toml::from_str(text).map_err(|e| BuildError::Parse(e.to_string()))
    }

    /// Checks every value that can be checked without GStreamer.
    pub fn validate(&self) -> Result<(), BuildError> {
        validate_id(&self.id)?;
        let camera = || self.id.clone();
        let range = |field, value: u64, lo: u64, hi: u64, allowed| {
            if (lo..=hi).contains(&value) {
                Ok(())
            } else {
                Err(BuildError::OutOfRange {
                    camera: camera(),
                    field,
                    value,
                    allowed,
                })
            }
        };
        range("analysis_fps", self.analysis_fps.into(), 1, 60, "1..=60")?;
        if let Some(w) = self.max_width {
            range("max_width", w.into(), 16, MAX_SIDE.into(), "16..=8192")?;
        }
        let r = &self.reconnect;
        range("reconnect.min_ms", r.min_ms, 10, 3_600_000, "10..=3600000")?;
        range("reconnect.max_ms", r.max_ms, 10, 3_600_000, "10..=3600000")?;
        range(
            "reconnect.stall_timeout_ms",
            r.stall_timeout_ms,
            500,
            3_600_000,
            "500..=3600000",
        )?;
        if r.min_ms > r.max_ms {
            return Err(BuildError::BackoffOrder {
                camera: camera(),
                min_ms: r.min_ms,
                max_ms: r.max_ms,
            });
        }
        match &self.source {
            SourceConfig::File { path, .. } => {
                let bad = |reason: String| BuildError::BadFile {
                    camera: camera(),
                    path: path.clone(),
                    reason,
                };
                let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
                if !meta.is_file() {
                    return Err(bad("not a regular file".to_owned()));
                }
            }
            SourceConfig::Rtsp {
                url, latency_ms, ..
            } => {
                validate_url(&self.id, "rtsp", url, &["rtsp://", "rtsps://", "rtspt://"])?;
                range(
                    "source.latency_ms",
                    (*latency_ms).into(),
                    0,
                    60_000,
                    "0..=60000",
                )?;
            }
            SourceConfig::HttpMjpeg { url } => {
                validate_url(&self.id, "http_mjpeg", url, &["http://", "https://"])?
            }
            SourceConfig::Hls { url } => {
                validate_url(&self.id, "hls", url, &["http://", "https://"])?
            }
            SourceConfig::V4l2 { device } => {
                if device.as_os_str().is_empty() {
                    return Err(BuildError::BadFile {
                        camera: camera(),
                        path: device.clone(),
                        reason: "the device path is empty".to_owned(),
                    });
                }
            }
            SourceConfig::Test { width, height, .. } => {
                range(
                    "source.width",
                    (*width).into(),
                    16,
                    MAX_SIDE.into(),
                    "16..=8192",
                )?;
                range(
                    "source.height",
                    (*height).into(),
                    16,
                    MAX_SIDE.into(),
                    "16..=8192",
                )?;
            }
            SourceConfig::Custom { pipeline } => {
                if !pipeline.contains("appsink") {
                    return Err(BuildError::NoAppSink {
                        camera: camera(),
                        pipeline: pipeline.clone(),
                        detail: "the text has no appsink element",
                    });
                }
            }
        }
        Ok(())
    }

    /// Validates the configuration and starts the camera: its pipeline runs on its own
    /// thread and its frames go to `frames` (dropped, and counted, while that is full).
    pub fn build(
        &self,
        templates: &PipelineTemplates,
        frames: SyncSender<VideoFrame>,
    ) -> Result<Camera, BuildError> {
        gstreamer::init().map_err(|e| BuildError::GstInit(e.to_string()))?;
        self.validate()?;
        let plan = self.pipeline_plan(templates)?;
        plan.check_parses()?;
        Camera::start(self.clone(), plan, frames)
    }

    /// The pipeline description and the behaviour (live or file, looping, clock sync)
    /// of this camera. Chooses NVIDIA decode for RTSP when the codec is known and the
    /// decoder element is installed.
    pub(crate) fn pipeline_plan(
        &self,
        templates: &PipelineTemplates,
    ) -> Result<PipelinePlan, BuildError> {
        let fps = PipelineValue::Number(self.analysis_fps.into());
        let max_width = PipelineValue::Number(self.max_width.unwrap_or(MAX_SIDE).into());
        let mut values: Vec<(&str, PipelineValue)> = vec![("fps", fps), ("max_width", max_width)];
        let mut plan = PipelinePlan {
            camera: self.id.clone(),
            kind: self.source.kind(),
            description: String::new(),
            live: true,
            looping: false,
            sync_to_clock: false,
        };
        let template_name = match &self.source {
            SourceConfig::File {
                path,
                looping,
                realtime,
            } => {
                plan.live = false;
                plan.looping = *looping;
                plan.sync_to_clock = *realtime;
                values.push(("uri", PipelineValue::Text(file_uri(&self.id, path)?)));
                "file"
            }
            SourceConfig::Rtsp {
                url,
                transport,
                latency_ms,
                codec,
            } => {
                values.push(("url", PipelineValue::Text(url.clone())));
                values.push((
                    "protocols",
                    PipelineValue::Word(transport.protocols().to_owned()),
                ));
                values.push(("latency_ms", PipelineValue::Number((*latency_ms).into())));
                match nvidia_decoder(*codec) {
                    Some(chain) => {
                        for (name, element) in [
                            ("encoding_name", chain.encoding_name),
                            ("depayloader", chain.depayloader),
                            ("parser", chain.parser),
                            ("decoder", chain.decoder),
                        ] {
                            values.push((name, PipelineValue::Word(element.to_owned())));
                        }
                        "rtsp_nvdec"
                    }
                    None => "rtsp",
                }
            }
            SourceConfig::HttpMjpeg { url } => {
                values.push(("url", PipelineValue::Text(url.clone())));
                "http_mjpeg"
            }
            SourceConfig::Hls { url } => {
                values.push(("url", PipelineValue::Text(url.clone())));
                "hls"
            }
            SourceConfig::V4l2 { device } => {
                values.push((
                    "device",
                    PipelineValue::Text(device.to_string_lossy().into_owned()),
                ));
                "v4l2"
            }
            SourceConfig::Test {
                pattern,
                width,
                height,
            } => {
                values.push(("pattern", PipelineValue::Word(pattern.clone())));
                values.push(("width", PipelineValue::Number((*width).into())));
                values.push(("height", PipelineValue::Number((*height).into())));
                "test"
            }
            SourceConfig::Custom { pipeline } => {
                // Liveness of a custom pipeline is learnt from its state change
                // (NO_PREROLL) when it starts.
                plan.live = false;
                plan.description = pipeline.clone();
                return Ok(plan);
            }
        };
        let template_error = |source| BuildError::Template {
            camera: self.id.clone(),
            source,
        };
        plan.description = templates
            .get(template_name)
            .map_err(template_error)?
            .render(&values)
            .map_err(template_error)?;
        Ok(plan)
    }
}

fn validate_id(id: &str) -> Result<(), BuildError> {
    let invalid = |reason| BuildError::InvalidId {
        id: id.to_owned(),
        reason,
    };
    if id.is_empty() {
        return Err(invalid("it is empty"));
    }
    if id.len() > 64 {
        return Err(invalid("it is longer than 64 characters"));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(invalid(
            "only ASCII letters, digits, '-', '_' and '.' are allowed",
        ));
    }
    Ok(())
}

fn validate_url(
    camera: &str,
    kind: &'static str,
    url: &str,
    schemes: &[&str],
) -> Result<(), BuildError> {
    let lower = url.to_ascii_lowercase();
    if !schemes.iter().any(|s| lower.starts_with(s)) {
        return Err(BuildError::InvalidUrl {
            camera: camera.to_owned(),
            kind,
            url: url.to_owned(),
            reason: format!("it must start with {}", schemes.join(" or ")),
        });
    }
    let host = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    if host.is_empty() || host.starts_with('/') {
        return Err(BuildError::InvalidUrl {
            camera: camera.to_owned(),
            kind,
            url: url.to_owned(),
            reason: "it has no host".to_owned(),
        });
    }
    Ok(())
}

/// `file://` URI of `path`, absolute, with `!` percent-encoded (the template refuses a
/// bare `!`, and file names may contain one).
fn file_uri(camera: &str, path: &std::path::Path) -> Result<String, BuildError> {
    let bad = |reason: String| BuildError::BadFile {
        camera: camera.to_owned(),
        path: path.to_owned(),
        reason,
    };
    let absolute = std::path::absolute(path).map_err(|e| bad(e.to_string()))?;
    let uri = gstreamer::glib::filename_to_uri(&absolute, None)
        .map_err(|e| bad(format!("cannot make a URI of it: {e}")))?;
    Ok(uri.replace('!', "%21"))
}

/// The elements of an NVIDIA hardware decode chain for one codec.
struct NvidiaChain {
    encoding_name: &'static str,
    depayloader: &'static str,
    parser: &'static str,
    decoder: &'static str,
}

/// The NVIDIA decode chain for `codec` when every element of it is installed.
fn nvidia_decoder(codec: RtspCodec) -> Option<NvidiaChain> {
    let chain = match codec {
        RtspCodec::Auto => return None,
        RtspCodec::H264 => NvidiaChain {
            encoding_name: "H264",
            depayloader: "rtph264depay",
            parser: "h264parse",
            decoder: "nvh264dec",
        },
        RtspCodec::H265 => NvidiaChain {
            encoding_name: "H265",
            depayloader: "rtph265depay",
            parser: "h265parse",
            decoder: "nvh265dec",
        },
    };
    let installed = [chain.depayloader, chain.parser, chain.decoder]
        .iter()
        .all(|name| gstreamer::ElementFactory::find(name).is_some());
    installed.then_some(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camera(toml_text: &str) -> CameraConfig {
        CameraConfig::from_toml(toml_text).expect("parses")
    }

    #[test]
    fn a_minimal_rtsp_camera_gets_the_defaults() {
        let cam = camera(
            r#"
            id = "door"
            source = { kind = "rtsp", url = "rtsp://10.0.0.5/stream" }
            "#,
        );
        assert_eq!(cam.analysis_fps, 5);
        assert_eq!(cam.max_width, None);
        assert_eq!(cam.reconnect, ReconnectConfig::default());
        assert_eq!(
            cam.source,
            SourceConfig::Rtsp {
                url: "rtsp://10.0.0.5/stream".into(),
                transport: RtspTransport::Tcp,
                latency_ms: 200,
                codec: RtspCodec::Auto,
            }
        );
        cam.validate().expect("valid");
    }

    #[test]
    fn an_ingest_file_with_every_kind_parses() {
        let config = IngestConfig::from_toml(
            r#"
            pipelines_dir = "pipelines"

            [[camera]]
            id = "lobby"
            analysis_fps = 8
            max_width = 1280
            source = { kind = "file", path = "/tmp/lobby.avi", loop = true, realtime = false }
            reconnect = { min_ms = 200, max_ms = 5000 }

            [[camera]]
            id = "gate"
            [camera.source]
            kind = "rtsp"
            url = "rtsp://cam/1"
            transport = "udp"
            latency_ms = 50
            codec = "h265"

            [[camera]]
            id = "mjpeg"
            source = { kind = "http_mjpeg", url = "http://cam/video.mjpg" }

            [[camera]]
            id = "hls"
            source = { kind = "hls", url = "https://cdn/live.m3u8" }

            [[camera]]
            id = "usb"
            source = { kind = "v4l2", device = "/dev/video0" }

            [[camera]]
            id = "bars"
            source = { kind = "test", pattern = "ball", width = 320, height = 240 }

            [[camera]]
            id = "own"
            source = { kind = "custom", pipeline = "videotestsrc ! videoconvert ! video/x-raw,format=RGB ! appsink name=sink" }
            "#,
        )
        .expect("parses");
        assert_eq!(config.cameras.len(), 7);
        assert_eq!(
            config.cameras[0].source,
            SourceConfig::File {
                path: "/tmp/lobby.avi".into(),
                looping: true,
                realtime: false
            }
        );
        assert_eq!(config.cameras[0].reconnect.stall_timeout_ms, 10_000);
        let kinds: Vec<_> = config.cameras.iter().map(|c| c.source.kind()).collect();
        assert_eq!(
            kinds,
            [
                "file",
                "rtsp",
                "http_mjpeg",
                "hls",
                "v4l2",
                "test",
                "custom"
            ]
        );
    }

    #[test]
    fn unknown_fields_and_kinds_are_refused_by_name() {
        for (text, needle) in [
            (
                "id = \"a\"\nsource = { kind = \"test\" }\nfps = 3",
                "fps",
            ),
            (
                "id = \"a\"\nsource = { kind = \"rtsp\", url = \"rtsp://x\", latency = 3 }",
                "latency",
            ),
            ("id = \"a\"\nsource = { kind = \"webcam\" }", "webcam"),
            (
                "id = \"a\"\nsource = { kind = \"rtsp\", url = \"rtsp://x\", transport = \"sctp\" }",
                "sctp",
            ),
            ("id = \"a\"", "source"),
        ] {
            let err = CameraConfig::from_toml(text).expect_err(text);
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn bad_values_are_refused_with_the_value_named() {
        let base = |extra: &str, source: &str| {
            camera(&format!("id = \"cam\"\n{extra}\nsource = {source}"))
                .validate()
                .expect_err("invalid")
                .to_string()
        };
        let test_src = "{ kind = \"test\" }";
        assert!(base("analysis_fps = 0", test_src).contains("analysis_fps = 0"));
        assert!(base("analysis_fps = 500", test_src).contains("500"));
        assert!(base("max_width = 4", test_src).contains("max_width = 4"));
        assert!(
            base("reconnect = { min_ms = 9000, max_ms = 100 }", test_src).contains("min_ms = 9000")
        );
        assert!(base("", "{ kind = \"rtsp\", url = \"http://x/y\" }").contains("http://x/y"));
        assert!(base("", "{ kind = \"rtsp\", url = \"rtsp:///y\" }").contains("no host"));
        assert!(base("", "{ kind = \"hls\", url = \"ftp://x\" }").contains("ftp://x"));
        assert!(
            base("", "{ kind = \"file\", path = \"/no/such/file.avi\" }")
                .contains("/no/such/file.avi")
        );
        assert!(base("", "{ kind = \"test\", width = 1 }").contains("source.width = 1"));
        assert!(base(
            "",
            "{ kind = \"custom\", pipeline = \"videotestsrc ! fakesink\" }"
        )
        .contains("no appsink"));
        let bad_id = camera("id = \"a b\"\nsource = { kind = \"test\" }")
            .validate()
            .expect_err("space in id");
        assert!(bad_id.to_string().contains("\"a b\""), "{bad_id}");
    }

    #[test]
    fn the_plan_fills_the_template_and_refuses_injection() {
        let templates = PipelineTemplates::builtin();
        let cam = camera(
            "id = \"c\"\nanalysis_fps = 7\nmax_width = 320\nsource = { kind = \"rtsp\", url = \"rtsp://h/s\", transport = \"udp\", latency_ms = 80 }",
        );
        let plan = cam.pipeline_plan(&templates).expect("plan");
        assert!(plan.description.starts_with(
            "rtspsrc location=\"rtsp://h/s\" protocols=udp latency=80 ! application/x-rtp,media=video"
        ));
        assert!(plan.description.contains("max-rate=7"));
        assert!(plan.description.contains("width=[1,320]"));
        assert!(plan.live);

        let evil = camera(
            "id = \"c\"\nsource = { kind = \"rtsp\", url = \"rtsp://h/s\\\" ! filesink location=/tmp/x\" }",
        );
        let err = evil.pipeline_plan(&templates).expect_err("injection");
        assert!(err.to_string().contains("not allowed"), "{err}");

        let pattern = camera("id = \"c\"\nsource = { kind = \"test\", pattern = \"ball ! x\" }");
        assert!(pattern.pipeline_plan(&templates).is_err());
    }

    #[test]
    fn a_file_plan_uses_an_escaped_absolute_uri() {
        let dir = std::env::temp_dir().join(format!("lookout-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("odd name!.avi");
        std::fs::write(&path, b"x").expect("write");
        let cam = CameraConfig {
            id: "f".into(),
            source: SourceConfig::File {
                path: path.clone(),
                looping: false,
                realtime: true,
            },
            analysis_fps: 5,
            max_width: None,
            reconnect: ReconnectConfig::default(),
        };
        let plan = cam
            .pipeline_plan(&PipelineTemplates::builtin())
            .expect("plan");
        assert!(
            plan.description.contains("odd%20name%21.avi"),
            "{}",
            plan.description
        );
        assert!(!plan.live && plan.sync_to_clock && !plan.looping);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn every_templated_kind_parses_in_gstreamer() {
        gstreamer::init().expect("gstreamer");
        let file = std::env::temp_dir().join(format!("lookout-parse-{}.avi", std::process::id()));
        std::fs::write(&file, b"x").expect("write");
        let sources = [
            format!(
                "{{ kind = \"file\", path = {:?} }}",
                file.display().to_string()
            ),
            "{ kind = \"rtsp\", url = \"rtsp://127.0.0.1:1/x\" }".to_owned(),
            "{ kind = \"rtsp\", url = \"rtsp://127.0.0.1:1/x\", codec = \"h264\" }".to_owned(),
            "{ kind = \"http_mjpeg\", url = \"http://127.0.0.1:1/x\" }".to_owned(),
            "{ kind = \"hls\", url = \"http://127.0.0.1:1/x.m3u8\" }".to_owned(),
            "{ kind = \"v4l2\", device = \"/dev/video0\" }".to_owned(),
            "{ kind = \"test\", pattern = \"ball\" }".to_owned(),
        ];
        let templates = PipelineTemplates::builtin();
        for source in sources {
            let cam = camera(&format!("id = \"p\"\nmax_width = 640\nsource = {source}"));
            let plan = cam.pipeline_plan(&templates).expect("plan");
            let needed: Vec<&str> = plan
                .description
                .split(['!', ' '])
                .filter(|w| {
                    !w.is_empty()
                        && !w.contains(['=', '/', '('])
                        && w.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                })
                .collect();
            if let Some(missing) = needed
                .iter()
                .find(|e| gstreamer::ElementFactory::find(e).is_none())
            {
                eprintln!(
                    "SKIP {} template: GStreamer element {missing} is not installed",
                    plan.kind
                );
                continue;
            }
            plan.check_parses()
                .unwrap_or_else(|e| panic!("{} template does not parse: {e}", plan.kind));
        }
        std::fs::remove_file(&file).ok();

        // The NVIDIA template, with software elements standing in for the GPU decoder,
        // so that its syntax is checked on machines without one.
        if ["rtph264depay", "h264parse", "avdec_h264"]
            .iter()
            .all(|e| gstreamer::ElementFactory::find(e).is_some())
        {
            let text = templates
                .get("rtsp_nvdec")
                .expect("template")
                .render(&[
                    ("url", PipelineValue::Text("rtsp://127.0.0.1:1/x".into())),
                    ("protocols", PipelineValue::Word("tcp".into())),
                    ("latency_ms", PipelineValue::Number(100)),
                    ("encoding_name", PipelineValue::Word("H264".into())),
                    ("depayloader", PipelineValue::Word("rtph264depay".into())),
                    ("parser", PipelineValue::Word("h264parse".into())),
                    ("decoder", PipelineValue::Word("avdec_h264".into())),
                    ("fps", PipelineValue::Number(5)),
                    ("max_width", PipelineValue::Number(640)),
                ])
                .expect("renders");
            let plan = PipelinePlan {
                camera: "p".into(),
                kind: "rtsp",
                description: text,
                live: true,
                looping: false,
                sync_to_clock: false,
            };
            plan.check_parses().expect("rtsp_nvdec template parses");
        } else {
            eprintln!("SKIP rtsp_nvdec template: no software H.264 chain to stand in");
        }
    }

    #[test]
    fn a_pattern_gstreamer_does_not_know_is_refused_at_build() {
        let cam = camera("id = \"p\"\nsource = { kind = \"test\", pattern = \"no-such-pattern\" }");
        let (tx, _rx) = std::sync::mpsc::sync_channel(1);
        let err = cam
            .build(&PipelineTemplates::builtin(), tx)
            .expect_err("unknown pattern");
        let text = err.to_string();
        assert!(
            text.contains("\"p\"") && text.contains("no-such-pattern"),
            "{text}"
        );
    }
}
