//! Camera ingest: turns camera sources (files, RTSP, HTTP MJPEG, HLS, V4L2, test patterns,
//! custom pipelines) into a stream of packed-RGB [`VideoFrame`](crate::frame::VideoFrame)s at
//! the analysis rate, one GStreamer pipeline and thread per camera.
//!
//! The gst-launch text of each source kind is in `pipelines/` ([`template`]); a camera's
//! configuration ([`config`]) fills one in, and [`CameraConfig::build`] starts the
//! running [`Camera`] ([`camera`]), which restarts failed live sources with back-off and
//! reports a [`CameraStatus`] ([`status`]). [`CameraSet`] ([`manager`]) is the runtime
//! collection the daemon holds. [`test_camera`] serves a file or pattern over RTSP on
//! loopback, for tests and demos.
pub mod camera;
pub mod config;
pub mod manager;
pub mod status;
pub mod template;
pub mod test_camera;

pub use camera::Camera;
pub use config::{
    BuildError, CameraConfig, IngestConfig, ReconnectConfig, RtspCodec, RtspTransport, SourceConfig,
};
pub use manager::{CameraSet, IngestError};
pub use status::{CameraState, CameraStatus};
pub use template::{PipelineTemplate, PipelineTemplates, PipelineValue, TemplateError};
pub use test_camera::{free_local_port, TestCameraServer, TestFeed};
