//! The pixels a sighting carries: the person crop that the visual encoder embeds, the
//! reduced frame the web UI shows around it, and their JPEG encoding for the store.
//!
//! The crop is the detector box grown by a margin on each side, cut from the frame and
//! resized to the model's input (128 wide × 384 high) *without* keeping the aspect ratio:
//! TextReID trains and tests on a plain resize of the person box to 384 × 128, so a
//! padded crop would show the encoder images unlike those it learnt from. Both images are
//! resampled with a triangle (bilinear) filter straight from a borrowed view of the
//! frame, so the only pixels copied are those of the output.
use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::{ExtendedColorType, ImageBuffer, Rgb};

use super::error::ImageEncodeError;
use crate::frame::{BBox, VideoFrame};

/// An owned, packed RGB image (3 bytes per pixel, no row padding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SightingImage {
    pub width: u32,
    pub height: u32,
    /// `width * height * 3` bytes.
    pub rgb: Vec<u8>,
}

type FrameView<'a> = ImageBuffer<Rgb<u8>, &'a [u8]>;

/// A borrowed view of the frame's pixels; `None` when the buffer is shorter than
/// `width × height × 3` (a broken frame must not panic the tracker).
fn frame_view(frame: &VideoFrame) -> Option<FrameView<'_>> {
    let len = (frame.width as usize)
        .checked_mul(frame.height as usize)?
        .checked_mul(3)?;
    let pixels = frame.rgb.get(..len)?;
    ImageBuffer::from_raw(frame.width, frame.height, pixels)
}

/// The box grown by `margin` × its size on each side, cut to the frame, in whole pixels
/// `(x, y, width, height)`; `None` when nothing of it lies inside the frame.
fn crop_rect(bbox: &BBox, margin: f32, frame_width: u32, frame_height: u32) -> Option<[u32; 4]> {
    let dx = bbox.width() * margin;
    let dy = bbox.height() * margin;
    let grown = BBox::new(bbox.x1 - dx, bbox.y1 - dy, bbox.x2 + dx, bbox.y2 + dy)
        .clamp(frame_width, frame_height);
    let x1 = grown.x1.floor() as u32;
    let y1 = grown.y1.floor() as u32;
    let x2 = (grown.x2.ceil() as u32).min(frame_width);
    let y2 = (grown.y2.ceil() as u32).min(frame_height);
    (x2 > x1 && y2 > y1).then(|| [x1, y1, x2 - x1, y2 - y1])
}

/// The person crop of `bbox` (grown by `margin`), resized to `width × height`.
pub(crate) fn person_crop(
    frame: &VideoFrame,
    bbox: &BBox,
    margin: f32,
    width: u32,
    height: u32,
) -> Option<SightingImage> {
    let view = frame_view(frame)?;
    let [x, y, w, h] = crop_rect(bbox, margin, frame.width, frame.height)?;
    let region = imageops::crop_imm(&view, x, y, w, h);
    let resized = imageops::resize(&*region, width, height, FilterType::Triangle);
    Some(SightingImage {
        width,
        height,
        rgb: resized.into_raw(),
    })
}

/// The frame reduced to at most `max_width` wide (aspect kept), and the factor that maps
/// frame pixels to thumbnail pixels.
pub(crate) fn frame_thumbnail(frame: &VideoFrame, max_width: u32) -> Option<(SightingImage, f32)> {
    let view = frame_view(frame)?;
    if frame.width <= max_width {
        let image = SightingImage {
            width: frame.width,
            height: frame.height,
            rgb: view.into_raw().to_vec(),
        };
        return Some((image, 1.0));
    }
    let scale = max_width as f32 / frame.width as f32;
    let height = ((frame.height as f32 * scale).round() as u32).max(1);
    let resized = imageops::resize(&view, max_width, height, FilterType::Triangle);
    let image = SightingImage {
        width: max_width,
        height,
        rgb: resized.into_raw(),
    };
    Some((image, scale))
}

/// Encodes `image` as a baseline JPEG; `quality` is 1..=100 (85 is a good default for
/// thumbnails).
pub fn encode_jpeg(image: &SightingImage, quality: u8) -> Result<Vec<u8>, ImageEncodeError> {
    if !(1..=100).contains(&quality) {
        return Err(ImageEncodeError::Quality(quality));
    }
    let expected = image.width as usize * image.height as usize * 3;
    if image.rgb.len() != expected || expected == 0 {
        return Err(ImageEncodeError::SizeMismatch {
            width: image.width,
            height: image.height,
            expected,
            actual: image.rgb.len(),
        });
    }
    let mut out = Vec::with_capacity(expected / 8);
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode(
            &image.rgb,
            image.width,
            image.height,
            ExtendedColorType::Rgb8,
        )
        .map_err(|source| ImageEncodeError::Jpeg {
            width: image.width,
            height: image.height,
            source,
        })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn two_tone_frame(width: u32, height: u32) -> VideoFrame {
        // Left half red, right half blue.
        VideoFrame::from_fn("cam", width, height, |x, _| {
            if x < width / 2 {
                [200, 0, 0]
            } else {
                [0, 0, 200]
            }
        })
    }

    #[test]
    fn crop_is_stretched_to_the_requested_size_from_the_right_place() {
        let frame = two_tone_frame(200, 100);
        let crop = person_crop(&frame, &BBox::new(10.0, 10.0, 40.0, 90.0), 0.1, 128, 384).unwrap();
        assert_eq!(
            (crop.width, crop.height, crop.rgb.len()),
            (128, 384, 128 * 384 * 3)
        );
        // Entirely inside the red half.
        assert!(crop.rgb.chunks(3).all(|p| p[0] > 150 && p[2] < 50));
        let crop =
            person_crop(&frame, &BBox::new(150.0, 0.0, 190.0, 100.0), 0.1, 128, 384).unwrap();
        assert!(crop.rgb.chunks(3).all(|p| p[2] > 150 && p[0] < 50));
    }

    #[test]
    fn crop_margin_is_clamped_and_outside_boxes_give_none() {
        let frame = two_tone_frame(200, 100);
        assert_eq!(
            crop_rect(&BBox::new(0.0, 0.0, 50.0, 100.0), 0.2, 200, 100),
            Some([0, 0, 60, 100])
        );
        assert!(person_crop(&frame, &BBox::new(300.0, 0.0, 350.0, 50.0), 0.1, 128, 384).is_none());
    }

    #[test]
    fn thumbnail_keeps_aspect_and_reports_its_scale() {
        let frame = two_tone_frame(1280, 720);
        let (thumb, scale) = frame_thumbnail(&frame, 640).unwrap();
        assert_eq!((thumb.width, thumb.height), (640, 360));
        assert!((scale - 0.5).abs() < 1e-6);
        let small = two_tone_frame(320, 240);
        let (thumb, scale) = frame_thumbnail(&small, 640).unwrap();
        assert_eq!((thumb.width, thumb.height, scale), (320, 240, 1.0));
        assert_eq!(thumb.rgb, *small.rgb);
    }

    #[test]
    fn broken_frames_give_no_pixels() {
        let mut frame = two_tone_frame(64, 64);
        frame.rgb = Arc::new(vec![0; 100]);
        assert!(frame_thumbnail(&frame, 640).is_none());
        assert!(person_crop(&frame, &BBox::new(0.0, 0.0, 10.0, 10.0), 0.0, 8, 8).is_none());
    }

    #[test]
    fn jpeg_round_trips_and_bad_inputs_are_errors() {
        let frame = two_tone_frame(64, 48);
        let (thumb, _) = frame_thumbnail(&frame, 640).unwrap();
        let jpeg = encode_jpeg(&thumb, 85).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        let decoded = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        assert_eq!(decoded.dimensions(), (64, 48));
        assert!(decoded.get_pixel(5, 5)[0] > 150);

        let broken = SightingImage {
            width: 10,
            height: 10,
            rgb: vec![0; 5],
        };
        assert!(matches!(
            encode_jpeg(&broken, 85),
            Err(ImageEncodeError::SizeMismatch { actual: 5, .. })
        ));
        assert!(matches!(
            encode_jpeg(&thumb, 0),
            Err(ImageEncodeError::Quality(0))
        ));
    }
}
