//! Turns a [`VideoFrame`] into the detector's input tensor and maps boxes back.
//!
//! The model takes a square RGB image in [0, 1], channels first. The frame is resized on
//! the detector's device (bilinear, half-pixel centres, as OpenCV's `INTER_LINEAR`), either
//! stretched to the square, as @vladmandic/human feeds this model, or letterboxed: scaled to
//! fit with its aspect ratio and centred on black.
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::DetectError;
use crate::frame::{BBox, VideoFrame};

/// How a frame is fitted into the square model input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResizeMode {
    /// Scale width and height independently to fill the square (as @vladmandic/human).
    #[default]
    Stretch,
    /// Keep the aspect ratio, centre on black padding.
    Letterbox,
}

/// Where a frame lies in the model input: input = frame × scale + offset, per axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputPlacement {
    pub scale_x: f32,
    pub scale_y: f32,
    pub offset_x: f32,
    pub offset_y: f32,
    /// Size of the resized frame inside the input, pixels.
    pub resized_width: i64,
    pub resized_height: i64,
}

impl InputPlacement {
    pub fn new(frame_width: u32, frame_height: u32, input_size: u32, mode: ResizeMode) -> Self {
        let (w, h, s) = (frame_width as f32, frame_height as f32, input_size as f32);
        match mode {
            ResizeMode::Stretch => InputPlacement {
                scale_x: s / w,
                scale_y: s / h,
                offset_x: 0.0,
                offset_y: 0.0,
                resized_width: i64::from(input_size),
                resized_height: i64::from(input_size),
            },
            ResizeMode::Letterbox => {
                let scale = (s / w).min(s / h);
                let rw = ((w * scale).round() as i64).clamp(1, i64::from(input_size));
                let rh = ((h * scale).round() as i64).clamp(1, i64::from(input_size));
                let (pad_x, pad_y) = (i64::from(input_size) - rw, i64::from(input_size) - rh);
                InputPlacement {
                    // The exact scale of the resize, which rounding made per axis.
                    scale_x: rw as f32 / w,
                    scale_y: rh as f32 / h,
                    offset_x: (pad_x / 2) as f32,
                    offset_y: (pad_y / 2) as f32,
                    resized_width: rw,
                    resized_height: rh,
                }
            }
        }
    }

    /// A box in model-input pixels, in frame pixels.
    pub fn to_frame(&self, b: &BBox) -> BBox {
        BBox::new(
            (b.x1 - self.offset_x) / self.scale_x,
            (b.y1 - self.offset_y) / self.scale_y,
            (b.x2 - self.offset_x) / self.scale_x,
            (b.y2 - self.offset_y) / self.scale_y,
        )
    }
}

/// The input tensor `[3, S, S]` (float, [0, 1]) of one frame on `device`, and where the
/// frame lies in it.
pub fn frame_to_input(
    frame: &VideoFrame,
    input_size: u32,
    mode: ResizeMode,
    device: Device,
) -> Result<(Tensor, InputPlacement), DetectError> {
    let (w, h) = (frame.width as usize, frame.height as usize);
    if w == 0 || h == 0 || frame.rgb.len() != w * h * 3 {
        return Err(DetectError::BadFrame {
            camera: frame.camera_id.to_string(),
            sequence: frame.sequence,
            width: frame.width,
            height: frame.height,
            bytes: frame.rgb.len(),
        });
    }
    let placement = InputPlacement::new(frame.width, frame.height, input_size, mode);
    let size = i64::from(input_size);
    let rgb = Tensor::f_from_data_size(&frame.rgb, &[h as i64, w as i64, 3], Kind::Uint8)?;
    // Resizing the bytes on the device moves 1 byte per pixel instead of 4.
    let image = rgb
        .f_to_device(device)?
        .f_permute([2, 0, 1])?
        .f_unsqueeze(0)?
        .f_to_kind(Kind::Float)?
        .f_div_scalar(255.0)?;
    let resized = image.f_upsample_bilinear2d(
        [placement.resized_height, placement.resized_width],
        false,
        None,
        None,
    )?;
    let input = if placement.resized_width == size && placement.resized_height == size {
        resized
    } else {
        let left = placement.offset_x as i64;
        let top = placement.offset_y as i64;
        let right = size - placement.resized_width - left;
        let bottom = size - placement.resized_height - top;
        resized.f_constant_pad_nd([left, right, top, bottom])?
    };
    Ok((input.f_squeeze_dim(0)?, placement))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn frame(width: u32, height: u32, fill: impl Fn(u32, u32) -> [u8; 3]) -> VideoFrame {
        VideoFrame {
            sequence: 1,
            ..VideoFrame::from_fn("test", width, height, fill)
        }
    }

    #[test]
    fn stretch_maps_input_corners_to_frame_corners() {
        let p = InputPlacement::new(768, 576, 416, ResizeMode::Stretch);
        let b = p.to_frame(&BBox::new(0.0, 0.0, 416.0, 416.0));
        assert!(
            (b.x2 - 768.0).abs() < 1e-3 && (b.y2 - 576.0).abs() < 1e-3,
            "{b:?}"
        );
    }

    #[test]
    fn letterbox_centres_a_wide_frame_and_maps_back() {
        let p = InputPlacement::new(768, 576, 416, ResizeMode::Letterbox);
        assert_eq!((p.resized_width, p.resized_height), (416, 312));
        assert_eq!((p.offset_x, p.offset_y), (0.0, 52.0));
        let b = p.to_frame(&BBox::new(0.0, 52.0, 416.0, 364.0));
        assert!(b.x1.abs() < 1e-3 && b.y1.abs() < 1e-3, "{b:?}");
        assert!(
            (b.x2 - 768.0).abs() < 1e-2 && (b.y2 - 576.0).abs() < 1e-2,
            "{b:?}"
        );
    }

    #[test]
    fn input_holds_rgb_over_255_channels_first() {
        let f = frame(64, 48, |_, _| [255, 51, 0]);
        let (t, _) = frame_to_input(&f, 32, ResizeMode::Stretch, Device::Cpu).expect("valid frame");
        assert_eq!(t.size(), [3, 32, 32]);
        let at = |c: i64| t.double_value(&[c, 10, 20]);
        assert!((at(0) - 1.0).abs() < 1e-6 && (at(1) - 0.2).abs() < 1e-6 && at(2).abs() < 1e-6);
    }

    #[test]
    fn letterbox_pads_with_black_and_keeps_the_image_band() {
        // Left half red, right half blue; a 2:1 frame fills the middle half of the square.
        let f = frame(
            64,
            32,
            |x, _| if x < 32 { [255, 0, 0] } else { [0, 0, 255] },
        );
        let (t, p) = frame_to_input(&f, 32, ResizeMode::Letterbox, Device::Cpu).expect("valid");
        assert_eq!(
            (p.resized_width, p.resized_height, p.offset_y),
            (32, 16, 8.0)
        );
        assert_eq!(t.double_value(&[0, 2, 4]), 0.0, "padding is black");
        assert!(
            (t.double_value(&[0, 16, 4]) - 1.0).abs() < 1e-6,
            "red on the left"
        );
        assert!(
            (t.double_value(&[2, 16, 28]) - 1.0).abs() < 1e-6,
            "blue on the right"
        );
    }

    #[test]
    fn short_pixel_buffer_is_a_bad_frame() {
        let mut f = frame(4, 4, |_, _| [0, 0, 0]);
        f.rgb = Arc::new(vec![0; 10]);
        let err = frame_to_input(&f, 32, ResizeMode::Stretch, Device::Cpu).unwrap_err();
        assert!(
            matches!(err, DetectError::BadFrame { bytes: 10, .. }),
            "{err}"
        );
    }
}
