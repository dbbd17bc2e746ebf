//! Turning a received frame into what the window shows: an 8-bit image
//! for the pixel inspector, a texture-ready preview no larger than the
//! graphics card takes, and a per-channel histogram.

use std::sync::Arc;

use egui::{Color32, ColorImage};
use mvcam::{Frame, PixelFormat};

use crate::error::ViewerError;

/// Fraction of pixels at full scale above which a channel counts as
/// saturated.
pub const SATURATION_WARNING: f64 = 0.005;

/// Pixel counts per 8-bit level, one table per channel (1 for grey,
/// 3 for red, green, blue).
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// One 256-bin table per channel.
    pub bins: Vec<[u32; 256]>,
    /// Pixels counted per channel.
    pub pixels: u64,
}

impl Histogram {
    /// The fraction of pixels at level 255, per channel.
    pub fn saturated_fraction(&self) -> Vec<f64> {
        self.bins
            .iter()
            .map(|b| {
                if self.pixels == 0 {
                    0.0
                } else {
                    f64::from(b[255]) / self.pixels as f64
                }
            })
            .collect()
    }

    /// Whether any channel has more than [`SATURATION_WARNING`] of its
    /// pixels at full scale.
    pub fn is_saturated(&self) -> bool {
        self.saturated_fraction()
            .iter()
            .any(|f| *f > SATURATION_WARNING)
    }
}

/// A frame ready for display.
#[derive(Debug, Clone)]
pub struct DisplayFrame {
    /// The frame's block id.
    pub block_id: u64,
    /// Width in sensor pixels.
    pub width: usize,
    /// Height in sensor pixels.
    pub height: usize,
    /// The wire pixel format's name.
    pub pixel_format: String,
    /// 1 for grey images, 3 for colour.
    pub channels: usize,
    /// The image at 8 bits, `channels` bytes per pixel, row by row.
    pub samples: Vec<u8>,
    /// The image for the texture, reduced by `scale` in each direction.
    pub preview: Arc<ColorImage>,
    /// How many sensor pixels one preview pixel spans in each direction.
    pub scale: usize,
    /// Per-channel histogram.
    pub histogram: Histogram,
}

impl DisplayFrame {
    /// Converts a frame: grey formats to 8-bit grey, everything else to
    /// 8-bit RGB (Bayer demosaiced). The preview is reduced by the
    /// smallest integer factor that fits `max_side`.
    pub fn from_frame(frame: &Frame, max_side: usize) -> Result<DisplayFrame, ViewerError> {
        let mono = frame
            .pixel_format()
            .is_some_and(|f| f.name().starts_with("Mono"));
        let image = if mono {
            frame.to_mono8()?
        } else {
            frame.to_rgb8()?
        };
        let name = frame
            .pixel_format()
            .map(PixelFormat::name)
            .unwrap_or("unknown")
            .to_string();
        DisplayFrame::from_samples(
            frame.info().block_id,
            image.width() as usize,
            image.height() as usize,
            if mono { 1 } else { 3 },
            image.into_data(),
            name,
            max_side,
        )
    }

    /// Builds the preview and histogram of 8-bit samples (`channels` 1
    /// or 3 per pixel); refuses a sample count that does not match.
    pub fn from_samples(
        block_id: u64,
        width: usize,
        height: usize,
        channels: usize,
        samples: Vec<u8>,
        pixel_format: String,
        max_side: usize,
    ) -> Result<DisplayFrame, ViewerError> {
        if channels != 1 && channels != 3 {
            return Err(ViewerError::NotNow(format!(
                "{channels} channels: only grey or RGB can be shown"
            )));
        }
        let expected = width
            .checked_mul(height)
            .and_then(|p| p.checked_mul(channels));
        if expected != Some(samples.len()) || width == 0 || height == 0 {
            return Err(ViewerError::NotNow(format!(
                "a {width} x {height} image with {channels} channels cannot hold {} bytes",
                samples.len()
            )));
        }
        let max_side = max_side.max(1);
        let scale = width.max(height).div_ceil(max_side).max(1);
        let (pw, ph) = (width.div_ceil(scale), height.div_ceil(scale));
        let mut pixels = Vec::with_capacity(pw * ph);
        let mut bins = vec![[0u32; 256]; channels];
        for y in 0..height {
            let row = &samples[y * width * channels..(y + 1) * width * channels];
            if channels == 1 {
                for &v in row {
                    bins[0][usize::from(v)] += 1;
                }
            } else {
                for px in row.chunks_exact(3) {
                    bins[0][usize::from(px[0])] += 1;
                    bins[1][usize::from(px[1])] += 1;
                    bins[2][usize::from(px[2])] += 1;
                }
            }
            if y % scale == 0 {
                for x in (0..width).step_by(scale) {
                    let i = x * channels;
                    pixels.push(if channels == 1 {
                        Color32::from_gray(row[i])
                    } else {
                        Color32::from_rgb(row[i], row[i + 1], row[i + 2])
                    });
                }
            }
        }
        Ok(DisplayFrame {
            block_id,
            width,
            height,
            pixel_format,
            channels,
            preview: Arc::new(ColorImage::new([pw, ph], pixels)),
            scale,
            samples,
            histogram: Histogram {
                bins,
                pixels: (width * height) as u64,
            },
        })
    }

    /// The 8-bit value(s) of the sensor pixel at (`x`, `y`): one grey
    /// level or R, G, B.
    pub fn pixel(&self, x: usize, y: usize) -> Option<&[u8]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y * self.width + x) * self.channels;
        self.samples.get(i..i + self.channels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_fits_the_texture_limit_and_histogram_counts_every_pixel() {
        let (w, h) = (10, 4);
        let mut s = vec![0u8; w * h * 3];
        s[..3].copy_from_slice(&[255, 10, 20]);
        let d = DisplayFrame::from_samples(7, w, h, 3, s, "RGB8".into(), 4).unwrap();
        assert_eq!(d.scale, 3);
        assert_eq!(d.preview.size, [4, 2]);
        assert_eq!(d.preview.pixels[0], Color32::from_rgb(255, 10, 20));
        assert_eq!(d.pixel(0, 0), Some(&[255u8, 10, 20][..]));
        assert_eq!(d.pixel(10, 0), None);
        assert_eq!(d.histogram.bins[0][255], 1);
        assert_eq!(d.histogram.bins[1][0], 39);
        assert_eq!(d.histogram.pixels, 40);
        assert!(d.histogram.is_saturated());
    }

    #[test]
    fn wrong_sizes_are_refused() {
        assert!(DisplayFrame::from_samples(0, 4, 4, 1, vec![0; 15], "Mono8".into(), 8).is_err());
        assert!(
            DisplayFrame::from_samples(0, usize::MAX, 4, 1, vec![], "Mono8".into(), 8).is_err()
        );
        assert!(DisplayFrame::from_samples(0, 2, 2, 2, vec![0; 8], "x".into(), 8).is_err());
        assert!(DisplayFrame::from_samples(0, 0, 0, 1, vec![], "Mono8".into(), 8).is_err());
    }
}
