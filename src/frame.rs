//! The values that travel between the live stages: a decoded frame (ingest → detect →
//! track), a box in frame pixels and a person detection (detect → track).
//!
//! They live here, not in the stage that makes them, so that every stage depends only on
//! this small vocabulary and on nothing downstream of it.
use std::sync::Arc;

/// One decoded frame of a camera, packed RGB (3 bytes per pixel, no row padding).
#[derive(Debug, Clone)]
pub struct VideoFrame {
    /// The camera's configured id.
    pub camera_id: Arc<str>,
    /// Frame number since the camera (re)started, counting only frames handed on.
    pub sequence: u64,
    /// Wall-clock time of the frame, Unix milliseconds. For files this is the start
    /// time of the camera plus the stream position, so a clip plays "now".
    pub timestamp_ms: i64,
    pub width: u32,
    pub height: u32,
    /// `width * height * 3` bytes; shared, so that the tracker can keep a frame
    /// without copying it.
    pub rgb: Arc<Vec<u8>>,
}

impl VideoFrame {
    /// A frame whose pixel (x, y) is `pixel(x, y)` (synthetic frames, tests).
    pub fn from_fn(
        camera_id: &str,
        width: u32,
        height: u32,
        pixel: impl Fn(u32, u32) -> [u8; 3],
    ) -> Self {
        let mut rgb = Vec::with_capacity(width as usize * height as usize * 3);
        for y in 0..height {
            for x in 0..width {
                rgb.extend_from_slice(&pixel(x, y));
            }
        }
        VideoFrame {
            camera_id: Arc::from(camera_id),
            sequence: 0,
            timestamp_ms: 0,
            width,
            height,
            rgb: Arc::new(rgb),
        }
    }

    /// The RGB bytes of pixel (x, y); `None` outside the frame.
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        self.rgb.get(i..i + 3).map(|p| [p[0], p[1], p[2]])
    }
}

/// An axis-aligned box in frame pixels: `x1 <= x2`, `y1 <= y2`, right / bottom exclusive.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BBox {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
}

impl BBox {
    pub fn new(x1: f32, y1: f32, x2: f32, y2: f32) -> Self {
        BBox {
            x1: x1.min(x2),
            y1: y1.min(y2),
            x2: x1.max(x2),
            y2: y1.max(y2),
        }
    }

    pub fn width(&self) -> f32 {
        (self.x2 - self.x1).max(0.0)
    }

    pub fn height(&self) -> f32 {
        (self.y2 - self.y1).max(0.0)
    }

    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    pub fn center(&self) -> (f32, f32) {
        ((self.x1 + self.x2) * 0.5, (self.y1 + self.y2) * 0.5)
    }

    /// Intersection over union; 0 when either box is empty.
    pub fn iou(&self, other: &BBox) -> f32 {
        let ix = (self.x2.min(other.x2) - self.x1.max(other.x1)).max(0.0);
        let iy = (self.y2.min(other.y2) - self.y1.max(other.y1)).max(0.0);
        let inter = ix * iy;
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }

    /// The box cut to a `width × height` frame.
    pub fn clamp(&self, width: u32, height: u32) -> BBox {
        let (w, h) = (width as f32, height as f32);
        BBox {
            x1: self.x1.clamp(0.0, w),
            y1: self.y1.clamp(0.0, h),
            x2: self.x2.clamp(0.0, w),
            y2: self.y2.clamp(0.0, h),
        }
    }
}

/// One person found in one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub bbox: BBox,
    /// Detector confidence in [0, 1].
    pub score: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_identical_disjoint_and_half_overlapping_boxes() {
        let a = BBox::new(0.0, 0.0, 10.0, 10.0);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&BBox::new(20.0, 20.0, 30.0, 30.0)), 0.0);
        let half = BBox::new(5.0, 0.0, 15.0, 10.0);
        assert!((a.iou(&half) - 50.0 / 150.0).abs() < 1e-6);
    }

    #[test]
    fn clamp_cuts_to_the_frame() {
        let b = BBox::new(-5.0, 10.0, 700.0, 900.0).clamp(640, 480);
        assert_eq!(b, BBox::new(0.0, 10.0, 640.0, 480.0));
    }
}
