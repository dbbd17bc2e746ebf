//! Conversion of any [`PixelFormat`] to 8-bit display formats: `Mono8`,
//! `RGB8` and `BGRa8`.
//!
//! All functions take `(format, width, height, src, dst)`; `src` must hold
//! at least `format.image_bytes(width, height)` bytes (layouts as in
//! [`crate::format`]) and `dst` at least `width * height * c` bytes, with
//! `c` = 1 (Mono8), 3 (RGB8) or 4 (BGRa8). Output rows are tightly packed.
//! Longer buffers are accepted; only the prefix is used. Sizes are
//! validated and reported as [`ConvertError`]; nothing panics.
//!
//! # Rules
//!
//! * **Bit depth**: samples of more than 8 bits are reduced by a right shift
//!   (10-bit `>> 2`, 12-bit `>> 4`, 16-bit `>> 8`); packed formats are
//!   unpacked first with [`crate::pack::unpack_to_u16`].
//! * **Mono → RGB/BGRa**: the grey value is replicated, alpha = 255.
//! * **Bayer → Mono8**: the raw (shifted) mosaic samples, no demosaicing.
//! * **Bayer → RGB8/BGRa8**: the samples are shifted to 8 bits, then
//!   demosaiced with [`crate::demosaic::bilinear_u8`] (bilinear, bit-exact
//!   with OpenCV's `COLOR_Bayer??2RGB`). This path allocates one temporary
//!   8-bit mosaic (and, for BGRa8, one RGB image).
//! * **RGB → Mono8**: ITU-R BT.601 luma with OpenCV's integer weights,
//!   `(4899 R + 9617 G + 1868 B + 8192) >> 14` (same as
//!   `cv2.COLOR_RGB2GRAY`).
//! * **RGB/BGR/RGBa/BGRa → BGRa8**: channel reorder; alpha is copied from
//!   RGBa8/BGRa8 sources and 255 otherwise.
//! * **YUV 4:2:2 → RGB8/BGRa8**: BT.601 limited range, with OpenCV's
//!   fixed-point arithmetic (`cv2.COLOR_YUV2RGB_YUYV` / `_UYVY`), 20-bit
//!   fractions: with `y' = max(Y - 16, 0)`, `u = U - 128`, `v = V - 128`,
//!   `R = (1220542 y' + 1673527 v + 2^19) >> 20`,
//!   `G = (1220542 y' - 852492 v - 409993 u + 2^19) >> 20`,
//!   `B = (1220542 y' + 2116026 u + 2^19) >> 20`, each clamped to 0..=255
//!   (i.e. `R = 1.164 (Y-16) + 1.596 (V-128)`, `G = 1.164 (Y-16) - 0.813
//!   (V-128) - 0.391 (U-128)`, `B = 1.164 (Y-16) + 2.018 (U-128)`).
//! * **YUV 4:2:2 → Mono8**: the luma byte `Y` unchanged (as
//!   `cv2.COLOR_YUV2GRAY_YUYV`).

use crate::demosaic::{bilinear_u8, DemosaicError};
use crate::format::PixelFormat;
use crate::pack::{unpack_to_u16, PackError};

/// Errors reported by the conversion functions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// The image size overflows `usize`.
    #[error("image size {width}x{height} overflows")]
    SizeOverflow {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
    /// The source buffer holds fewer bytes than the image needs.
    #[error("source buffer too short: need {needed} bytes, got {actual}")]
    SourceTooShort {
        /// Required number of bytes.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// The destination buffer holds fewer bytes than the output needs.
    #[error("destination buffer too short: need {needed} bytes, got {actual}")]
    DestinationTooShort {
        /// Required number of bytes.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// Error from the unpacking step (should not happen after validation).
    #[error(transparent)]
    Pack(#[from] PackError),
    /// Error from the demosaicing step (should not happen after validation).
    #[error(transparent)]
    Demosaic(#[from] DemosaicError),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Mono,
    Rgb,
    Bgra,
}

impl Target {
    fn channels(self) -> usize {
        match self {
            Target::Mono => 1,
            Target::Rgb => 3,
            Target::Bgra => 4,
        }
    }
}

/// Converts an image to 8-bit grey (`Mono8`, `width * height` bytes).
///
/// See the [module documentation](self) for the rules per format.
pub fn to_mono8(
    format: PixelFormat,
    width: usize,
    height: usize,
    src: &[u8],
    dst: &mut [u8],
) -> Result<(), ConvertError> {
    convert(format, width, height, src, dst, Target::Mono)
}

/// Converts an image to interleaved `RGB8` (`3 * width * height` bytes).
///
/// See the [module documentation](self) for the rules per format.
pub fn to_rgb8(
    format: PixelFormat,
    width: usize,
    height: usize,
    src: &[u8],
    dst: &mut [u8],
) -> Result<(), ConvertError> {
    convert(format, width, height, src, dst, Target::Rgb)
}

/// Converts an image to interleaved `BGRa8` (`4 * width * height` bytes).
///
/// See the [module documentation](self) for the rules per format.
pub fn to_bgra8(
    format: PixelFormat,
    width: usize,
    height: usize,
    src: &[u8],
    dst: &mut [u8],
) -> Result<(), ConvertError> {
    convert(format, width, height, src, dst, Target::Bgra)
}

/// BT.601 luma with OpenCV's RGB2GRAY weights.
#[inline(always)]
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((4899 * r as u32 + 9617 * g as u32 + 1868 * b as u32 + 8192) >> 14) as u8
}

/// OpenCV's fixed-point BT.601 limited-range YUV → RGB.
#[inline(always)]
fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    const CY: i32 = 1_220_542;
    const CUB: i32 = 2_116_026;
    const CUG: i32 = -409_993;
    const CVG: i32 = -852_492;
    const CVR: i32 = 1_673_527;
    const HALF: i32 = 1 << 19;
    let u = u as i32 - 128;
    let v = v as i32 - 128;
    let yy = (y as i32 - 16).max(0) * CY;
    let c = |x: i32| (x >> 20).clamp(0, 255) as u8;
    [
        c(yy + HALF + CVR * v),
        c(yy + HALF + CVG * v + CUG * u),
        c(yy + HALF + CUB * u),
    ]
}

fn convert(
    format: PixelFormat,
    width: usize,
    height: usize,
    src: &[u8],
    dst: &mut [u8],
    target: Target,
) -> Result<(), ConvertError> {
    let overflow = ConvertError::SizeOverflow { width, height };
    let line_in = format.line_bytes(width).ok_or(overflow.clone())?;
    let src_needed = line_in.checked_mul(height).ok_or(overflow.clone())?;
    let c = target.channels();
    let line_out = width.checked_mul(c).ok_or(overflow.clone())?;
    let dst_needed = line_out.checked_mul(height).ok_or(overflow)?;
    if src.len() < src_needed {
        return Err(ConvertError::SourceTooShort {
            needed: src_needed,
            actual: src.len(),
        });
    }
    if dst.len() < dst_needed {
        return Err(ConvertError::DestinationTooShort {
            needed: dst_needed,
            actual: dst.len(),
        });
    }
    if width == 0 || height == 0 {
        return Ok(());
    }
    let src = &src[..src_needed];
    let dst = &mut dst[..dst_needed];

    if let (Some(pattern), Target::Rgb | Target::Bgra) = (format.bayer(), target) {
        let mut mosaic = vec![0u8; width * height];
        let mut scratch = vec![0u16; width];
        for (s, m) in src
            .chunks_exact(line_in)
            .zip(mosaic.chunks_exact_mut(width))
        {
            samples_u8(format, width, s, &mut scratch, m)?;
        }
        if target == Target::Rgb {
            bilinear_u8(pattern, width, height, &mosaic, dst)?;
        } else {
            let mut rgb = vec![0u8; width * height * 3];
            bilinear_u8(pattern, width, height, &mosaic, &mut rgb)?;
            for (o, i) in dst.chunks_exact_mut(4).zip(rgb.chunks_exact(3)) {
                o.copy_from_slice(&[i[2], i[1], i[0], 255]);
            }
        }
        return Ok(());
    }

    let mut scratch = vec![0u16; if format.is_single_sample() { width } else { 0 }];
    let mut grey = vec![0u8; if target == Target::Mono { 0 } else { width }];
    for (s, o) in src
        .chunks_exact(line_in)
        .zip(dst.chunks_exact_mut(line_out))
    {
        convert_line(format, width, s, o, target, &mut scratch, &mut grey)?;
    }
    Ok(())
}

/// One line of a single-sample format as 8-bit values (shifted).
fn samples_u8(
    format: PixelFormat,
    width: usize,
    src: &[u8],
    scratch: &mut [u16],
    out: &mut [u8],
) -> Result<(), ConvertError> {
    if format.pixel_bits() == 8 && format.bits_per_pixel() == 8 {
        out.copy_from_slice(&src[..width]);
        return Ok(());
    }
    unpack_to_u16(format, width, 1, src, scratch)?;
    let shift = format.pixel_bits().saturating_sub(8);
    for (o, &v) in out.iter_mut().zip(scratch.iter()) {
        *o = (v >> shift) as u8;
    }
    Ok(())
}

/// Writes one decoded pixel in the target layout.
#[inline(always)]
fn put(target: Target, o: &mut [u8], [r, g, b]: [u8; 3], a: u8) {
    match target {
        Target::Mono => o[0] = luma(r, g, b),
        Target::Rgb => o.copy_from_slice(&[r, g, b]),
        Target::Bgra => o.copy_from_slice(&[b, g, r, a]),
    }
}

/// Converts one line of a non-Bayer-to-colour case.
fn convert_line(
    format: PixelFormat,
    width: usize,
    src: &[u8],
    dst: &mut [u8],
    target: Target,
    scratch: &mut [u16],
    grey: &mut [u8],
) -> Result<(), ConvertError> {
    use PixelFormat::*;
    let c = target.channels();
    match format {
        RGB8 | BGR8 | RGBa8 | BGRa8 => {
            let n = format.channels() as usize;
            let swap = matches!(format, BGR8 | BGRa8);
            for (i, o) in src.chunks_exact(n).zip(dst.chunks_exact_mut(c)) {
                let rgb = if swap {
                    [i[2], i[1], i[0]]
                } else {
                    [i[0], i[1], i[2]]
                };
                let a = if n == 4 { i[3] } else { 255 };
                put(target, o, rgb, a);
            }
        }
        YUV422_8 | YUV422_8_UYVY => {
            // Offsets of Y0, U, Y1, V within a 4-byte group.
            let (y0, u, y1, v) = if format == YUV422_8 {
                (0, 1, 2, 3)
            } else {
                (1, 0, 3, 2)
            };
            let mut pairs = dst.chunks_mut(2 * c);
            for q in src.chunks_exact(4) {
                let Some(o) = pairs.next() else { break };
                let (first, second) = o.split_at_mut(c);
                if target == Target::Mono {
                    first[0] = q[y0];
                    if let Some(s) = second.first_mut() {
                        *s = q[y1];
                    }
                } else {
                    put(target, first, yuv_to_rgb(q[y0], q[u], q[v]), 255);
                    if !second.is_empty() {
                        put(target, second, yuv_to_rgb(q[y1], q[u], q[v]), 255);
                    }
                }
            }
        }
        _ => {
            // Mono and Bayer (Bayer only reaches here for Mono8 output).
            if target == Target::Mono {
                samples_u8(format, width, src, scratch, dst)?;
            } else {
                samples_u8(format, width, src, scratch, grey)?;
                for (o, &g) in dst.chunks_exact_mut(c).zip(grey.iter()) {
                    put(target, o, [g, g, g], 255);
                }
            }
        }
    }
    Ok(())
}
