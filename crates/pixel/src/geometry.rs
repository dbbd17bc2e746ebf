//! Geometric kernels of the camera pipeline: binning, decimation, mirror
//! (`ReverseX` / `ReverseY`) and ROI crop.
//!
//! All functions work on row-major, tightly packed images of `u8` or `u16`
//! samples ([`Sample`]) with the width and height passed explicitly. A pixel
//! is one sample ([`PixelLayout::Mono`], [`PixelLayout::Bayer`]) or three
//! interleaved samples ([`PixelLayout::Rgb`], [`PixelLayout::Bgr`]). Buffers
//! may be longer than needed; only the first
//! [`image_len`]`(layout, width, height)` elements are read or written.
//! Nothing panics: sizes are validated with checked arithmetic and problems
//! are reported as [`GeometryError`].
//!
//! # Binning and decimation
//!
//! Factors are 1, 2 or 4 per axis (`BinningHorizontal`, `BinningVertical`,
//! `DecimationHorizontal`, `DecimationVertical`); a factor of 1 leaves that
//! axis unchanged.
//!
//! * **Mono / RGB / BGR**: output pixel (`X`, `Y`) combines the source
//!   pixels `X*fh .. X*fh + fh` of rows `Y*fv .. Y*fv + fv`; colour samples
//!   are combined per channel.
//! * **Bayer**: the kernels combine *same-colour* pixels so that the output
//!   is again a Bayer mosaic **of the same pattern** (as sensors with
//!   colour binning do). Output column `X` takes the source columns
//!   `(X / 2) * 2*fh + (X % 2) + 2*k` for `k` in `0..fh` (rows alike): a
//!   `2f`-pixel wide block of the source becomes one 2-pixel wide cell of
//!   the output.
//!
//! **Binning** sums the `fh × fv` source samples. [`BinningMode::Sum`] on an
//! axis keeps the sum, [`BinningMode::Average`] divides by the factor of
//! that axis; the division (by `1`, `fh`, `fv` or `fh*fv`) is done once on
//! the exact total, rounded half up, and the result is clipped to the
//! largest value of the bit depth passed (`2^bit_depth - 1`).
//! **Decimation** keeps the first source pixel of each block (for Bayer:
//! the first 2×2 cell of each `2f × 2f` block, so the pattern is kept).
//!
//! **Leftover rows and columns are dropped**: an output pixel exists only if
//! all the source pixels of its block exist. The output width is
//! `width / f` for mono and RGB, and for Bayer
//! `2 * (width / 2f) + (1 if width % 2f == 2f - 1 else 0)` (the last, odd
//! output column exists when its `f` same-colour sources do); heights alike.
//! Decimation produces the same size as binning with the same factors, so
//! `Width`/`Height` behave identically for both. See [`binned_size`] and
//! [`decimated_size`].
//!
//! # Mirror
//!
//! [`mirror`] / [`mirror_in_place`] reverse the column order (`ReverseX`)
//! and/or the row order (`ReverseY`); the samples of an RGB pixel keep their
//! order. Mirroring a Bayer mosaic whose width (height) is even changes the
//! colour phase: the new pattern is given by [`bayer_after_mirror`]. Cameras
//! either report the new `PixelFormat` or shift the readout by one pixel;
//! these kernels only mirror and leave the choice to the caller.
//!
//! # ROI
//!
//! [`crop`] copies the rectangle [`Roi`] (`OffsetX`, `OffsetY`, `Width`,
//! `Height`) out of the image; the rectangle must lie inside the image
//! (errors name the offending feature). An odd offset on a Bayer mosaic
//! shifts the pattern: see [`bayer_after_offset`]. Empty rectangles are
//! allowed and copy nothing.

use crate::demosaic::BayerPattern;
use crate::sample::Sample;

/// How the samples of an image are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelLayout {
    /// One sample per pixel, every pixel the same colour.
    Mono,
    /// Three interleaved samples per pixel, red first.
    Rgb,
    /// Three interleaved samples per pixel, blue first.
    Bgr,
    /// One sample per pixel, colours following the Bayer pattern.
    Bayer(BayerPattern),
}

impl PixelLayout {
    /// Number of samples per pixel: 3 for [`Rgb`](Self::Rgb) and
    /// [`Bgr`](Self::Bgr), 1 otherwise.
    #[inline]
    pub const fn samples_per_pixel(self) -> usize {
        match self {
            PixelLayout::Rgb | PixelLayout::Bgr => 3,
            PixelLayout::Mono | PixelLayout::Bayer(_) => 1,
        }
    }

    /// `true` for a Bayer mosaic.
    #[inline]
    pub const fn is_bayer(self) -> bool {
        matches!(self, PixelLayout::Bayer(_))
    }
}

/// How binned samples are combined along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BinningMode {
    /// The samples are added (`BinningHorizontalMode = Sum`); the result is
    /// clipped to the bit-depth maximum.
    #[default]
    Sum,
    /// The samples are averaged, rounded half up (`… = Average`).
    Average,
}

/// Binning factors and modes (`BinningHorizontal`, `BinningVertical`,
/// `BinningHorizontalMode`, `BinningVerticalMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Binning {
    /// Horizontal factor: 1, 2 or 4.
    pub horizontal: u32,
    /// Vertical factor: 1, 2 or 4.
    pub vertical: u32,
    /// Mode along rows.
    pub horizontal_mode: BinningMode,
    /// Mode along columns.
    pub vertical_mode: BinningMode,
}

impl Binning {
    /// Binning by `horizontal` × `vertical` with the same `mode` on both
    /// axes.
    pub const fn new(horizontal: u32, vertical: u32, mode: BinningMode) -> Self {
        Binning {
            horizontal,
            vertical,
            horizontal_mode: mode,
            vertical_mode: mode,
        }
    }
}

impl Default for Binning {
    /// No binning (1 × 1, sum).
    fn default() -> Self {
        Binning::new(1, 1, BinningMode::Sum)
    }
}

/// Decimation factors (`DecimationHorizontal`, `DecimationVertical`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimation {
    /// Horizontal factor: 1, 2 or 4.
    pub horizontal: u32,
    /// Vertical factor: 1, 2 or 4.
    pub vertical: u32,
}

impl Default for Decimation {
    /// No decimation (1 × 1).
    fn default() -> Self {
        Decimation {
            horizontal: 1,
            vertical: 1,
        }
    }
}

/// A region of interest in pixels (`OffsetX`, `OffsetY`, `Width`,
/// `Height`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Roi {
    /// First column (`OffsetX`).
    pub x: usize,
    /// First row (`OffsetY`).
    pub y: usize,
    /// Number of columns (`Width`).
    pub width: usize,
    /// Number of rows (`Height`).
    pub height: usize,
}

/// An image axis, used in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    /// Along a row (x, width).
    Horizontal,
    /// Along a column (y, height).
    Vertical,
}

impl Axis {
    /// `"horizontal"` or `"vertical"`.
    pub const fn name(self) -> &'static str {
        match self {
            Axis::Horizontal => "horizontal",
            Axis::Vertical => "vertical",
        }
    }

    /// The SFNC offset feature of this axis: `"OffsetX"` or `"OffsetY"`.
    pub const fn offset_feature(self) -> &'static str {
        match self {
            Axis::Horizontal => "OffsetX",
            Axis::Vertical => "OffsetY",
        }
    }

    /// The SFNC size feature of this axis: `"Width"` or `"Height"`.
    pub const fn size_feature(self) -> &'static str {
        match self {
            Axis::Horizontal => "Width",
            Axis::Vertical => "Height",
        }
    }
}

impl std::fmt::Display for Axis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Errors reported by the geometry kernels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeometryError {
    /// `width * height * samples_per_pixel` does not fit in `usize`.
    #[error("image size {width}x{height} overflows")]
    SizeOverflow {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
    /// The source buffer is shorter than the image.
    #[error("source buffer too short: need {needed} samples, got {actual}")]
    SourceTooShort {
        /// Required number of samples.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// The destination buffer is shorter than the output image.
    #[error("destination buffer too short: need {needed} samples, got {actual}")]
    DestinationTooShort {
        /// Required number of samples.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// A binning or decimation factor is not 1, 2 or 4.
    #[error("invalid {axis} factor {factor} (must be 1, 2 or 4)")]
    InvalidFactor {
        /// The axis of the factor.
        axis: Axis,
        /// The factor passed.
        factor: u32,
    },
    /// The bit depth is not in `1..=max` (`max` = 8 for `u8`, 16 for
    /// `u16`).
    #[error("invalid bit depth {bit_depth} (must be 1..={max})")]
    InvalidBitDepth {
        /// The bit depth passed.
        bit_depth: u32,
        /// Largest bit depth of the sample type.
        max: u32,
    },
    /// The ROI does not fit in the image along `axis`: `offset + size`
    /// exceeds `limit` (the image width or height) or overflows.
    #[error(
        "ROI out of range: {} {offset} + {} {size} exceeds the image {} {limit}",
        .axis.offset_feature(),
        .axis.size_feature(),
        .axis.size_feature().to_lowercase()
    )]
    RoiOutOfRange {
        /// The offending axis.
        axis: Axis,
        /// `OffsetX` or `OffsetY`.
        offset: usize,
        /// `Width` or `Height`.
        size: usize,
        /// Image width or height.
        limit: usize,
    },
}

// ---------------------------------------------------------------------------
// Size helpers
// ---------------------------------------------------------------------------

/// Number of samples of a `width × height` image of `layout`
/// (`width * height * samples_per_pixel`), or
/// [`GeometryError::SizeOverflow`].
pub fn image_len(layout: PixelLayout, width: usize, height: usize) -> Result<usize, GeometryError> {
    width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(layout.samples_per_pixel()))
        .ok_or(GeometryError::SizeOverflow { width, height })
}

fn check_factor(axis: Axis, factor: u32) -> Result<usize, GeometryError> {
    match factor {
        1 | 2 | 4 => Ok(factor as usize),
        _ => Err(GeometryError::InvalidFactor { axis, factor }),
    }
}

/// Output length along one axis (see the module documentation).
#[inline]
fn reduced(n: usize, f: usize, bayer: bool) -> usize {
    if bayer {
        let block = 2 * f;
        2 * (n / block) + usize::from(n % block == block - 1)
    } else {
        n / f
    }
}

/// Source index along one axis of output index `o`, first sample of the
/// block (`k = 0`).
#[inline(always)]
fn block_start(o: usize, f: usize, bayer: bool) -> usize {
    if bayer {
        (o >> 1) * 2 * f + (o & 1)
    } else {
        o * f
    }
}

/// Size (`width`, `height`) of the image [`bin`] produces, or an error if a
/// factor is invalid. Leftover rows and columns are dropped (see the
/// [module documentation](self)).
pub fn binned_size(
    layout: PixelLayout,
    width: usize,
    height: usize,
    binning: &Binning,
) -> Result<(usize, usize), GeometryError> {
    let fh = check_factor(Axis::Horizontal, binning.horizontal)?;
    let fv = check_factor(Axis::Vertical, binning.vertical)?;
    let bayer = layout.is_bayer();
    Ok((reduced(width, fh, bayer), reduced(height, fv, bayer)))
}

/// Size (`width`, `height`) of the image [`decimate`] produces; the same as
/// [`binned_size`] with the same factors.
pub fn decimated_size(
    layout: PixelLayout,
    width: usize,
    height: usize,
    decimation: &Decimation,
) -> Result<(usize, usize), GeometryError> {
    let fh = check_factor(Axis::Horizontal, decimation.horizontal)?;
    let fv = check_factor(Axis::Vertical, decimation.vertical)?;
    let bayer = layout.is_bayer();
    Ok((reduced(width, fh, bayer), reduced(height, fv, bayer)))
}

fn check_bit_depth<T: Sample>(bit_depth: u32) -> Result<u32, GeometryError> {
    let max = 32 - T::MAX.leading_zeros();
    if bit_depth == 0 || bit_depth > max {
        return Err(GeometryError::InvalidBitDepth { bit_depth, max });
    }
    Ok((1u32 << bit_depth) - 1)
}

/// Validates both buffers; returns the number of samples of source and
/// destination.
fn check_buffers<T>(
    layout: PixelLayout,
    (width, height): (usize, usize),
    (out_w, out_h): (usize, usize),
    src: &[T],
    dst: &[T],
) -> Result<(usize, usize), GeometryError> {
    let needed_src = image_len(layout, width, height)?;
    if src.len() < needed_src {
        return Err(GeometryError::SourceTooShort {
            needed: needed_src,
            actual: src.len(),
        });
    }
    let needed_dst = image_len(layout, out_w, out_h)?;
    if dst.len() < needed_dst {
        return Err(GeometryError::DestinationTooShort {
            needed: needed_dst,
            actual: dst.len(),
        });
    }
    Ok((needed_src, needed_dst))
}

// ---------------------------------------------------------------------------
// Binning
// ---------------------------------------------------------------------------

/// Bins `src` (`width × height` of `layout`) into `dst`, returning the
/// output size (the same as [`binned_size`]).
///
/// `bit_depth` (1..=8 for `u8`, 1..=16 for `u16`) gives the clip level of
/// sums: `2^bit_depth - 1`. Bayer mosaics keep their pattern. See the
/// [module documentation](self) for the exact rule, rounding and what
/// happens to leftover rows and columns.
pub fn bin<T: Sample>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    binning: &Binning,
    bit_depth: u32,
    src: &[T],
    dst: &mut [T],
) -> Result<(usize, usize), GeometryError> {
    let (out_w, out_h) = binned_size(layout, width, height, binning)?;
    let max = check_bit_depth::<T>(bit_depth)?;
    check_buffers(layout, (width, height), (out_w, out_h), src, dst)?;
    if out_w == 0 || out_h == 0 {
        return Ok((out_w, out_h));
    }
    let spp = layout.samples_per_pixel();
    let bayer = layout.is_bayer();
    let fh = binning.horizontal as usize;
    let fv = binning.vertical as usize;
    let mut divisor = 1u32;
    if binning.horizontal_mode == BinningMode::Average {
        divisor *= binning.horizontal;
    }
    if binning.vertical_mode == BinningMode::Average {
        divisor *= binning.vertical;
    }
    let half = divisor / 2;
    // All products below are bounded by the validated buffer sizes.
    let row_len = width * spp;
    let out_row_len = out_w * spp;
    let step = if bayer { 2 } else { 1 };
    let mut acc = vec![0u32; out_row_len];
    for (oy, out_row) in dst.chunks_exact_mut(out_row_len).take(out_h).enumerate() {
        acc.fill(0);
        let y0 = block_start(oy, fv, bayer);
        for k in 0..fv {
            let sy = y0 + k * step;
            let start = sy * row_len;
            let Some(row) = src.get(start..start + row_len) else {
                continue;
            };
            accumulate_row(row, &mut acc, out_w, spp, fh, bayer);
        }
        if divisor == 1 {
            for (o, &a) in out_row.iter_mut().zip(&acc) {
                *o = T::from_u32_clamped(a.min(max));
            }
        } else {
            for (o, &a) in out_row.iter_mut().zip(&acc) {
                *o = T::from_u32_clamped(((a + half) / divisor).min(max));
            }
        }
    }
    Ok((out_w, out_h))
}

/// Adds the horizontally binned samples of one source row to `acc`.
#[inline]
fn accumulate_row<T: Sample>(
    row: &[T],
    acc: &mut [u32],
    out_w: usize,
    spp: usize,
    fh: usize,
    bayer: bool,
) {
    if fh == 1 {
        for (a, &s) in acc.iter_mut().zip(row) {
            *a += s.to_u32();
        }
        return;
    }
    if bayer {
        // A block of 2*fh source pixels feeds one 2-pixel output cell:
        // source pixel j goes to output pixel j & 1.
        let block = 2 * fh;
        let full = out_w / 2;
        for (cell, src) in acc
            .chunks_exact_mut(2)
            .zip(row.chunks_exact(block))
            .take(full)
        {
            let (mut even, mut odd) = (0u32, 0u32);
            for pair in src.chunks_exact(2) {
                even += pair[0].to_u32();
                odd += pair[1].to_u32();
            }
            cell[0] += even;
            cell[1] += odd;
        }
        if out_w % 2 == 1 {
            // Last, odd column: the even-phase pixels of the partial block.
            let start = full * block;
            let mut even = 0u32;
            for k in 0..fh {
                if let Some(s) = row.get(start + 2 * k) {
                    even += s.to_u32();
                }
            }
            if let Some(a) = acc.get_mut(full * 2) {
                *a += even;
            }
        }
    } else if spp == 1 {
        for (a, src) in acc.iter_mut().zip(row.chunks_exact(fh)) {
            *a += src.iter().map(|s| s.to_u32()).sum::<u32>();
        }
    } else {
        for (a, src) in acc.chunks_exact_mut(spp).zip(row.chunks_exact(fh * spp)) {
            for px in src.chunks_exact(spp) {
                for (ac, s) in a.iter_mut().zip(px) {
                    *ac += s.to_u32();
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Decimation
// ---------------------------------------------------------------------------

/// Decimates `src` (`width × height` of `layout`) into `dst`, returning the
/// output size (the same as [`decimated_size`]).
///
/// Keeps the first pixel of every `fh × fv` block (for Bayer the first 2×2
/// cell of every `2fh × 2fv` block, so the pattern is kept).
pub fn decimate<T: Sample>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    decimation: &Decimation,
    src: &[T],
    dst: &mut [T],
) -> Result<(usize, usize), GeometryError> {
    let (out_w, out_h) = decimated_size(layout, width, height, decimation)?;
    check_buffers(layout, (width, height), (out_w, out_h), src, dst)?;
    if out_w == 0 || out_h == 0 {
        return Ok((out_w, out_h));
    }
    let spp = layout.samples_per_pixel();
    let bayer = layout.is_bayer();
    let fh = decimation.horizontal as usize;
    let fv = decimation.vertical as usize;
    let row_len = width * spp;
    let out_row_len = out_w * spp;
    for (oy, out_row) in dst.chunks_exact_mut(out_row_len).take(out_h).enumerate() {
        let start = block_start(oy, fv, bayer) * row_len;
        let Some(row) = src.get(start..start + row_len) else {
            continue;
        };
        if fh == 1 {
            out_row.copy_from_slice(&row[..out_row_len]);
        } else if bayer {
            for (ox, o) in out_row.iter_mut().enumerate() {
                if let Some(&s) = row.get(block_start(ox, fh, true)) {
                    *o = s;
                }
            }
        } else {
            for (o, s) in out_row
                .chunks_exact_mut(spp)
                .zip(row.chunks_exact(fh * spp))
            {
                o.copy_from_slice(&s[..spp]);
            }
        }
    }
    Ok((out_w, out_h))
}

// ---------------------------------------------------------------------------
// Mirror
// ---------------------------------------------------------------------------

/// Copies `src` into `dst` mirrored: columns reversed if `reverse_x`, rows
/// reversed if `reverse_y` (output size = input size). RGB samples keep
/// their order within a pixel. For Bayer mosaics see
/// [`bayer_after_mirror`].
pub fn mirror<T: Sample>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    reverse_x: bool,
    reverse_y: bool,
    src: &[T],
    dst: &mut [T],
) -> Result<(), GeometryError> {
    let (n, _) = check_buffers(layout, (width, height), (width, height), src, dst)?;
    if n == 0 {
        return Ok(());
    }
    let spp = layout.samples_per_pixel();
    let row_len = width * spp;
    let src = &src[..n];
    let dst = &mut dst[..n];
    for (y, s_row) in src.chunks_exact(row_len).enumerate() {
        let dy = if reverse_y { height - 1 - y } else { y };
        let d_row = &mut dst[dy * row_len..(dy + 1) * row_len];
        if !reverse_x {
            d_row.copy_from_slice(s_row);
        } else if spp == 1 {
            for (d, s) in d_row.iter_mut().zip(s_row.iter().rev()) {
                *d = *s;
            }
        } else {
            for (d, s) in d_row
                .chunks_exact_mut(spp)
                .zip(s_row.chunks_exact(spp).rev())
            {
                d.copy_from_slice(s);
            }
        }
    }
    Ok(())
}

/// Mirrors `image` in place (see [`mirror`]).
pub fn mirror_in_place<T: Sample>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    reverse_x: bool,
    reverse_y: bool,
    image: &mut [T],
) -> Result<(), GeometryError> {
    let n = image_len(layout, width, height)?;
    if image.len() < n {
        return Err(GeometryError::SourceTooShort {
            needed: n,
            actual: image.len(),
        });
    }
    if n == 0 {
        return Ok(());
    }
    let spp = layout.samples_per_pixel();
    let row_len = width * spp;
    let image = &mut image[..n];
    if reverse_y {
        let (top, bottom) = image.split_at_mut((height / 2) * row_len);
        let bottom_len = bottom.len();
        // Skip the middle row of an odd height.
        let bottom = &mut bottom[bottom_len - (height / 2) * row_len..];
        for (a, b) in top
            .chunks_exact_mut(row_len)
            .zip(bottom.chunks_exact_mut(row_len).rev())
        {
            a.swap_with_slice(b);
        }
    }
    if reverse_x {
        for row in image.chunks_exact_mut(row_len) {
            row.reverse();
            if spp > 1 {
                for px in row.chunks_exact_mut(spp) {
                    px.reverse();
                }
            }
        }
    }
    Ok(())
}

/// The Bayer pattern of a `width × height` mosaic of `pattern` after
/// mirroring: `ReverseX` changes the pattern when `width` is even (the new
/// first column is an odd one), `ReverseY` when `height` is even.
pub fn bayer_after_mirror(
    pattern: BayerPattern,
    width: usize,
    height: usize,
    reverse_x: bool,
    reverse_y: bool,
) -> BayerPattern {
    let dx = usize::from(reverse_x && width % 2 == 0);
    let dy = usize::from(reverse_y && height % 2 == 0);
    bayer_after_offset(pattern, dx, dy)
}

/// The Bayer pattern of the sub-image of a `pattern` mosaic that starts at
/// column `x`, row `y` (e.g. after an ROI crop): unchanged for even
/// offsets, shifted by one colour phase per odd offset.
pub fn bayer_after_offset(pattern: BayerPattern, x: usize, y: usize) -> BayerPattern {
    let first = pattern.channel_at(x & 1, y & 1);
    let second = pattern.channel_at((x + 1) & 1, y & 1);
    match (first, second) {
        (0, _) => BayerPattern::RG,
        (2, _) => BayerPattern::BG,
        (_, 0) => BayerPattern::GR,
        _ => BayerPattern::GB,
    }
}

// ---------------------------------------------------------------------------
// ROI
// ---------------------------------------------------------------------------

impl Roi {
    /// Checks that the ROI lies inside a `width × height` image; the error
    /// names the axis, offset and size at fault.
    pub fn check(&self, width: usize, height: usize) -> Result<(), GeometryError> {
        for (axis, offset, size, limit) in [
            (Axis::Horizontal, self.x, self.width, width),
            (Axis::Vertical, self.y, self.height, height),
        ] {
            match offset.checked_add(size) {
                Some(end) if end <= limit => {}
                _ => {
                    return Err(GeometryError::RoiOutOfRange {
                        axis,
                        offset,
                        size,
                        limit,
                    })
                }
            }
        }
        Ok(())
    }
}

/// Copies the region `roi` of `src` (`width × height` of `layout`) into
/// `dst` (`roi.width × roi.height`). The ROI must lie inside the image; for
/// Bayer mosaics the new pattern is [`bayer_after_offset`]`(pattern,
/// roi.x, roi.y)`.
pub fn crop<T: Sample>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    roi: &Roi,
    src: &[T],
    dst: &mut [T],
) -> Result<(), GeometryError> {
    roi.check(width, height)?;
    let (_, n) = check_buffers(layout, (width, height), (roi.width, roi.height), src, dst)?;
    if n == 0 {
        return Ok(());
    }
    let spp = layout.samples_per_pixel();
    let row_len = width * spp;
    let out_row_len = roi.width * spp;
    let x0 = roi.x * spp;
    for (i, out_row) in dst[..n].chunks_exact_mut(out_row_len).enumerate() {
        let start = (roi.y + i) * row_len + x0;
        if let Some(s) = src.get(start..start + out_row_len) {
            out_row.copy_from_slice(s);
        }
    }
    Ok(())
}
