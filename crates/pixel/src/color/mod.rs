//! Colour steps of the camera pipeline: white balance (SFNC `BalanceRatio`),
//! the 3×3 colour matrix with offsets (`ColorTransformationValue`), and
//! saturation and hue (`Saturation`, `Hue`).
//!
//! Buffers are row-major and tightly packed: Bayer data has `width` samples
//! per row, interleaved RGB `3 * width` (samples in R, G, B order). Longer
//! buffers are accepted and only the prefix is touched. The data has an
//! explicit `bit_depth` (`1..=8` for `u8`, `1..=16` for `u16`), and
//! `max = 2^bit_depth - 1`. Input samples above `max` are treated as `max`.
//! Everything works in place and nothing panics: sizes and parameters are
//! validated and reported as [`ColorError`].
//!
//! # White balance
//!
//! [`white_balance_bayer`] multiplies each sample by the gain of its colour
//! (given by the [`BayerPattern`]; both greens use the green gain),
//! [`white_balance_rgb`] each R, G and B sample by its gain. Gains are
//! quantised to `raw = floor(gain * 2^16 + 0.5)` ([`WB_FRAC_BITS`]) and
//! `out = min((v * raw + 2^15) >> 16, max)` (exact integer arithmetic, round
//! half up, clip). A gain of exactly 1.0 is the identity.
//!
//! # Colour matrix
//!
//! [`ColorMatrix`] holds `m` (row `c` gives output channel `c`) and offsets
//! `o` in sample units of the data's bit depth:
//! `out_c = clip(round_half_up(m[c][0] R + m[c][1] G + m[c][2] B + o[c]), 0, max)`.
//! [`apply_color_matrix`] evaluates it in fixed point with
//! `F = bit_depth + 6` fractional bits (coefficients and offsets rounded
//! half up to multiples of `2^-F`, accumulation in `i32`,
//! `(acc + 2^(F-1)) >> F` with an arithmetic shift) whenever the
//! accumulator provably fits in `i32` (always for 8-bit data and moderate
//! coefficients); otherwise (typically 12- to 16-bit data) it computes in
//! `f32` and rounds with `floor(x + 0.5)`. The quantisation error of the
//! fixed-point path is at most `(3 * max + 1) * 2^-(F+1) < 0.025` of a
//! sample, so the result is the exactly rounded value or differs from it by
//! one where the exact value is within that distance of a rounding
//! boundary. The identity matrix with zero offsets is exact.
//!
//! For pipelines that work on bands of rows, [`wb_raw`] and
//! [`white_balance_row_u8`] (white balance of one Bayer row) and
//! [`FixedMatrix`] (a matrix prepared once, applied to any run of RGB
//! triples) compute exactly what the whole-frame functions compute.
//!
//! # Saturation and hue
//!
//! [`saturation_hue_matrix`] builds a luma-preserving 3×3 RGB matrix: in
//! BT.601 YCbCr (`Y = 0.299 R + 0.587 G + 0.114 B`,
//! `Cb = (B - Y) / 1.772`, `Cr = (R - Y) / 1.402`) the chroma vector
//! `(Cb, Cr)` is scaled by the saturation `s` (`0..=2`, 0 = grey,
//! 1 = unchanged) and rotated by the hue angle `h` (degrees; positive turns
//! red towards yellow, as an increasing HSV hue):
//! `Cb' = s (cos h Cb - sin h Cr)`, `Cr' = s (sin h Cb + cos h Cr)`, `Y' = Y`.
//! The matrix is `I + A^-1 D A` (with `A` the RGB → YCbCr matrix and `D` the
//! chroma change minus the identity), so `s = 1, h = 0` gives exactly the
//! identity, every row sums to 1 (greys are unchanged) and the BT.601 luma
//! of every pixel is preserved. A pipeline folds it into the colour matrix
//! with [`ColorMatrix::then`] and applies both in one pass.

#[cfg(target_arch = "x86_64")]
mod avx2;

use crate::demosaic::BayerPattern;
use crate::levels::{depth_max, type_bits};
use crate::Sample;

/// Fractional bits of the fixed-point white-balance gains.
pub const WB_FRAC_BITS: u32 = 16;

/// Largest absolute value accepted for a colour-matrix coefficient.
pub const MAX_MATRIX_COEFFICIENT: f32 = 1024.0;

/// Largest absolute value accepted for a colour-matrix offset.
pub const MAX_MATRIX_OFFSET: f32 = 16_777_216.0;

/// Errors reported by the colour functions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ColorError {
    /// The number of samples (`width * height`, times 3 for RGB) does not
    /// fit in `usize`.
    #[error("image size {width}x{height} overflows")]
    SizeOverflow {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
    /// The buffer is shorter than the image.
    #[error("buffer too short: need {needed} samples, got {actual}")]
    BufferTooShort {
        /// Required number of samples.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// The bit depth is 0 or larger than the sample type holds.
    #[error("invalid bit depth {bit_depth} (must be 1..={limit})")]
    InvalidBitDepth {
        /// The bit depth passed.
        bit_depth: u32,
        /// The largest bit depth of the sample type (8 or 16).
        limit: u32,
    },
    /// A white-balance gain is negative, not finite, or too large
    /// (`>= 65536`).
    #[error("invalid white-balance gain {gain} for channel {channel}")]
    InvalidGain {
        /// Channel index: 0 = red, 1 = green, 2 = blue.
        channel: usize,
        /// The gain passed.
        gain: f32,
    },
    /// A matrix coefficient or offset is not finite or exceeds
    /// [`MAX_MATRIX_COEFFICIENT`] / [`MAX_MATRIX_OFFSET`].
    #[error("invalid colour matrix: {0}")]
    InvalidMatrix(&'static str),
    /// The saturation is not in `0..=2`.
    #[error("invalid saturation {0} (must be 0..=2)")]
    InvalidSaturation(f32),
    /// The hue is not finite.
    #[error("invalid hue {0}")]
    InvalidHue(f32),
}

fn check<T: Sample>(
    len: usize,
    width: usize,
    height: usize,
    channels: usize,
    bit_depth: u32,
) -> Result<(usize, u32), ColorError> {
    let max = depth_max::<T>(bit_depth).ok_or(ColorError::InvalidBitDepth {
        bit_depth,
        limit: type_bits::<T>(),
    })?;
    let n = width
        .checked_mul(height)
        .and_then(|p| p.checked_mul(channels))
        .ok_or(ColorError::SizeOverflow { width, height })?;
    if len < n {
        return Err(ColorError::BufferTooShort {
            needed: n,
            actual: len,
        });
    }
    Ok((n, max))
}

/// Quantises white-balance gains `[red, green, blue]` to fixed point with
/// [`WB_FRAC_BITS`] fractional bits: `raw = floor(gain * 65536 + 0.5)`.
/// These are the values [`white_balance_bayer`], [`white_balance_rgb`] and
/// [`white_balance_row_u8`] multiply with.
///
/// Errors: [`ColorError::InvalidGain`] for a negative or non-finite gain or
/// one of 65536 or more.
pub fn wb_raw(gains: [f32; 3]) -> Result<[u32; 3], ColorError> {
    let mut raw = [0u32; 3];
    for (channel, (&gain, r)) in gains.iter().zip(raw.iter_mut()).enumerate() {
        let q = (f64::from(gain) * f64::from(1u32 << WB_FRAC_BITS) + 0.5).floor();
        if !gain.is_finite() || gain < 0.0 || q > f64::from(u32::MAX) {
            return Err(ColorError::InvalidGain { channel, gain });
        }
        *r = q as u32;
    }
    Ok(raw)
}

/// Scales every sample of `data` (rows of `row_len` samples) by the
/// fixed-point gain at the same position in `even` (even rows) or `odd`
/// (odd rows); `max_raw` is the largest gain, used to pick 32- or 64-bit
/// arithmetic.
fn scale_rows<T: Sample>(
    data: &mut [T],
    row_len: usize,
    even: &[u32],
    odd: &[u32],
    max_raw: u32,
    max: u32,
) {
    if row_len == 0 {
        return;
    }
    let half = 1u32 << (WB_FRAC_BITS - 1);
    let narrow = u64::from(max) * u64::from(max_raw) + u64::from(half) <= u64::from(u32::MAX);
    for (y, row) in data.chunks_exact_mut(row_len).enumerate() {
        let gains = if y & 1 == 0 { even } else { odd };
        if narrow {
            for (s, &g) in row.iter_mut().zip(gains) {
                let v = s.to_u32().min(max);
                *s = T::from_u32_clamped(((v * g + half) >> WB_FRAC_BITS).min(max));
            }
        } else {
            for (s, &g) in row.iter_mut().zip(gains) {
                let v = u64::from(s.to_u32().min(max));
                let o = (v * u64::from(g) + u64::from(half)) >> WB_FRAC_BITS;
                *s = T::from_u32_clamped(o.min(u64::from(max)) as u32);
            }
        }
    }
}

/// White balance on Bayer data: multiplies every sample by the gain of its
/// colour, `gains = [red, green, blue]` (linear factors, `>= 0`), as
/// described in the [module documentation](self).
///
/// Allocates two rows of gains (not per pixel).
pub fn white_balance_bayer<T: Sample>(
    data: &mut [T],
    width: usize,
    height: usize,
    pattern: BayerPattern,
    bit_depth: u32,
    gains: [f32; 3],
) -> Result<(), ColorError> {
    let (n, max) = check::<T>(data.len(), width, height, 1, bit_depth)?;
    let raw = wb_raw(gains)?;
    if n == 0 {
        return Ok(());
    }
    let row =
        |y: usize| -> Vec<u32> { (0..width).map(|x| raw[pattern.channel_at(x, y)]).collect() };
    let (even, odd) = (row(0), row(1));
    let max_raw = raw.iter().copied().max().unwrap_or(0);
    scale_rows(&mut data[..n], width, &even, &odd, max_raw, max);
    Ok(())
}

/// White balance on interleaved RGB data: multiplies the R, G and B samples
/// by `gains[0]`, `gains[1]` and `gains[2]` (linear factors, `>= 0`), as
/// described in the [module documentation](self).
///
/// Allocates one row of gains (not per pixel).
pub fn white_balance_rgb<T: Sample>(
    data: &mut [T],
    width: usize,
    height: usize,
    bit_depth: u32,
    gains: [f32; 3],
) -> Result<(), ColorError> {
    let (n, max) = check::<T>(data.len(), width, height, 3, bit_depth)?;
    let raw = wb_raw(gains)?;
    if n == 0 {
        return Ok(());
    }
    let row_len = 3 * width; // cannot overflow: n = row_len * height > 0
    let pattern: Vec<u32> = (0..row_len).map(|i| raw[i % 3]).collect();
    let max_raw = raw.iter().copied().max().unwrap_or(0);
    scale_rows(&mut data[..n], row_len, &pattern, &pattern, max_raw, max);
    Ok(())
}

/// Largest fixed-point gain for which `255 * gain + 2^15` fits in `u32`,
/// so that [`wb_sample_u8`] can compute in 32 bits.
pub(crate) const WB_NARROW_MAX_U8: u32 = (u32::MAX - (1 << (WB_FRAC_BITS - 1))) / 255;

/// White balance of one 8-bit sample with a fixed-point gain of at most
/// [`WB_NARROW_MAX_U8`] (round half up, clip).
#[inline(always)]
pub(crate) fn wb_sample_u8(v: u8, gain: u32) -> u8 {
    ((u32::from(v) * gain + (1 << (WB_FRAC_BITS - 1))) >> WB_FRAC_BITS).min(255) as u8
}

/// White balance of one 8-bit Bayer row with already quantised gains (see
/// [`wb_raw`]): samples at even `x` are multiplied by `gains[0]`, at odd
/// `x` by `gains[1]` (for row `y` of a mosaic, pass the raw gains of
/// `pattern.channel_at(0, y)` and `pattern.channel_at(1, y)`). Same formula
/// as [`white_balance_bayer`] with bit depth 8, so a pipeline working row by
/// row gets identical results. Infallible; any row length (including 0 and
/// odd lengths) is accepted.
#[inline(always)]
pub fn white_balance_row_u8(row: &mut [u8], gains: [u32; 2]) {
    let half = 1u64 << (WB_FRAC_BITS - 1);
    let [g0, g1] = gains;
    if g0.max(g1) <= WB_NARROW_MAX_U8 {
        let mut pairs = row.chunks_exact_mut(2);
        for p in &mut pairs {
            p[0] = wb_sample_u8(p[0], g0);
            p[1] = wb_sample_u8(p[1], g1);
        }
        if let [last] = pairs.into_remainder() {
            *last = wb_sample_u8(*last, g0);
        }
    } else {
        for (x, v) in row.iter_mut().enumerate() {
            let g = if x & 1 == 0 { g0 } else { g1 };
            *v = ((u64::from(*v) * u64::from(g) + half) >> WB_FRAC_BITS).min(255) as u8;
        }
    }
}

/// A 3×3 colour matrix with offsets on RGB:
/// `out_c = m[c][0] R + m[c][1] G + m[c][2] B + offset[c]`, offsets in
/// sample units of the data's bit depth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColorMatrix {
    /// Coefficients; row `c` computes output channel `c` (SFNC `GainRC`
    /// is `m[R][C]`).
    pub m: [[f32; 3]; 3],
    /// Offsets added to each output channel, in sample units.
    pub offset: [f32; 3],
}

impl Default for ColorMatrix {
    fn default() -> Self {
        ColorMatrix::IDENTITY
    }
}

impl ColorMatrix {
    /// The identity matrix with zero offsets.
    pub const IDENTITY: ColorMatrix = ColorMatrix {
        m: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        offset: [0.0; 3],
    };

    /// A matrix with the given coefficients and offsets.
    pub const fn new(m: [[f32; 3]; 3], offset: [f32; 3]) -> Self {
        ColorMatrix { m, offset }
    }

    /// A matrix without offsets.
    pub const fn from_matrix(m: [[f32; 3]; 3]) -> Self {
        ColorMatrix {
            m,
            offset: [0.0; 3],
        }
    }

    /// The luma-preserving saturation and hue matrix of
    /// [`saturation_hue_matrix`], without offsets.
    pub fn saturation_hue(saturation: f32, hue_degrees: f32) -> Result<Self, ColorError> {
        Ok(ColorMatrix::from_matrix(saturation_hue_matrix(
            saturation,
            hue_degrees,
        )?))
    }

    /// Whether this is exactly the identity with zero offsets.
    pub fn is_identity(&self) -> bool {
        *self == ColorMatrix::IDENTITY
    }

    /// The matrix that applies `self` first and `next` afterwards:
    /// `next.m · self.m` with offsets `next.m · self.offset + next.offset`
    /// (computed in `f64`, no intermediate rounding or clipping).
    pub fn then(&self, next: &ColorMatrix) -> ColorMatrix {
        let mut out = ColorMatrix::from_matrix([[0.0; 3]; 3]);
        for c in 0..3 {
            for k in 0..3 {
                let v: f64 = (0..3)
                    .map(|j| f64::from(next.m[c][j]) * f64::from(self.m[j][k]))
                    .sum();
                out.m[c][k] = v as f32;
            }
            let o: f64 = (0..3)
                .map(|j| f64::from(next.m[c][j]) * f64::from(self.offset[j]))
                .sum::<f64>()
                + f64::from(next.offset[c]);
            out.offset[c] = o as f32;
        }
        out
    }

    /// Applies the matrix to one RGB triple in `f64` without rounding or
    /// clipping (a reference for tests and calibration).
    pub fn transform(&self, rgb: [f64; 3]) -> [f64; 3] {
        let mut out = [0.0; 3];
        for (c, o) in out.iter_mut().enumerate() {
            *o = (0..3)
                .map(|k| f64::from(self.m[c][k]) * rgb[k])
                .sum::<f64>()
                + f64::from(self.offset[c]);
        }
        out
    }

    fn validate(&self) -> Result<(), ColorError> {
        if !self
            .m
            .iter()
            .flatten()
            .all(|v| v.is_finite() && v.abs() <= MAX_MATRIX_COEFFICIENT)
        {
            return Err(ColorError::InvalidMatrix(
                "coefficient not finite or larger than 1024",
            ));
        }
        if !self
            .offset
            .iter()
            .all(|v| v.is_finite() && v.abs() <= MAX_MATRIX_OFFSET)
        {
            return Err(ColorError::InvalidMatrix(
                "offset not finite or larger than 2^24",
            ));
        }
        Ok(())
    }
}

/// Builds the luma-preserving 3×3 RGB matrix for a saturation (`0..=2`,
/// 1 = unchanged, 0 = grey) and a hue rotation in degrees (any finite
/// value; positive turns red towards yellow). See the
/// [module documentation](self) for the formula. `(1.0, 0.0)` gives exactly
/// the identity.
///
/// Errors: [`ColorError::InvalidSaturation`], [`ColorError::InvalidHue`].
pub fn saturation_hue_matrix(
    saturation: f32,
    hue_degrees: f32,
) -> Result<[[f32; 3]; 3], ColorError> {
    if !(0.0..=2.0).contains(&saturation) {
        return Err(ColorError::InvalidSaturation(saturation));
    }
    if !hue_degrees.is_finite() {
        return Err(ColorError::InvalidHue(hue_degrees));
    }
    let s = f64::from(saturation);
    let h = f64::from(hue_degrees).rem_euclid(360.0);
    let (sin, cos) = if h == 0.0 {
        (0.0, 1.0)
    } else {
        h.to_radians().sin_cos()
    };
    let (a, b) = (s * cos, s * sin);
    let (kr, kg, kb) = (0.299f64, 0.587f64, 0.114f64);
    let (sb, sr) = (2.0 * (1.0 - kb), 2.0 * (1.0 - kr));
    // RGB -> YCbCr.
    let fwd = [
        [kr, kg, kb],
        [-kr / sb, -kg / sb, (1.0 - kb) / sb],
        [(1.0 - kr) / sr, -kg / sr, -kb / sr],
    ];
    // YCbCr -> RGB.
    let inv = [
        [1.0, 0.0, sr],
        [1.0, -kb * sb / kg, -kr * sr / kg],
        [1.0, sb, 0.0],
    ];
    // D: chroma transform minus identity (luma row and column are zero).
    let d = [[0.0, 0.0, 0.0], [0.0, a - 1.0, -b], [0.0, b, a - 1.0]];
    let mut out = [[0f32; 3]; 3];
    for (c, row) in out.iter_mut().enumerate() {
        for (k, v) in row.iter_mut().enumerate() {
            let mut acc = 0.0f64;
            for i in 0..3 {
                for j in 0..3 {
                    acc += inv[c][i] * d[i][j] * fwd[j][k];
                }
            }
            *v = ((if c == k { 1.0 } else { 0.0 }) + acc) as f32;
        }
    }
    Ok(out)
}

/// A [`ColorMatrix`] prepared for data of one bit depth: quantised to
/// fixed point when the 32-bit accumulator cannot overflow, `f32`
/// otherwise (see the [module documentation](self)).
/// [`apply_color_matrix`] uses it; a pipeline that works on bands of rows
/// prepares it once and calls [`FixedMatrix::apply`] per band.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedMatrix {
    kind: MatrixKind,
    max: u32,
    bit_depth: u32,
    /// The AVX2 form, for 8-bit data whose coefficients fit in `i16`.
    #[cfg(target_arch = "x86_64")]
    avx2: Option<avx2::Coefficients>,
}

#[derive(Debug, Clone, PartialEq)]
enum MatrixKind {
    /// Coefficients with `frac` fractional bits; offsets include the
    /// rounding term `2^(frac-1)`.
    Fixed {
        c: [[i32; 3]; 3],
        o: [i32; 3],
        frac: u32,
    },
    /// Coefficients as given; offsets include `+ 0.5`.
    Float { m: [[f32; 3]; 3], o: [f32; 3] },
}

impl FixedMatrix {
    /// Prepares `matrix` for data of `bit_depth` bits (`1..=16`).
    ///
    /// Errors: [`ColorError::InvalidMatrix`],
    /// [`ColorError::InvalidBitDepth`].
    pub fn new(matrix: &ColorMatrix, bit_depth: u32) -> Result<Self, ColorError> {
        let max = depth_max::<u16>(bit_depth).ok_or(ColorError::InvalidBitDepth {
            bit_depth,
            limit: 16,
        })?;
        matrix.validate()?;
        let frac = bit_depth + 6;
        let scale = f64::from(1u32 << frac);
        let q = |v: f32| (f64::from(v) * scale + 0.5).floor() as i64;
        let coef: [[i64; 3]; 3] = matrix.m.map(|row| row.map(q));
        let off: [i64; 3] = matrix.offset.map(q);
        let half = 1i64 << (frac - 1);
        let fits = coef.iter().zip(&off).all(|(row, &o)| {
            let bound = half + o.abs() + row.iter().map(|c| i64::from(max) * c.abs()).sum::<i64>();
            bound <= i64::from(i32::MAX)
        });
        let kind = if fits {
            // All values fit in i32 by the bound above.
            MatrixKind::Fixed {
                c: coef.map(|r| r.map(|v| v as i32)),
                o: off.map(|v| (v + half) as i32),
                frac,
            }
        } else {
            MatrixKind::Float {
                m: matrix.m,
                o: matrix.offset.map(|v| v + 0.5),
            }
        };
        #[cfg(target_arch = "x86_64")]
        let avx2 = match &kind {
            MatrixKind::Fixed { c, o, frac: 14 } if bit_depth == 8 => {
                avx2::Coefficients::new(*c, *o)
            }
            _ => None,
        };
        Ok(FixedMatrix {
            kind,
            max,
            bit_depth,
            #[cfg(target_arch = "x86_64")]
            avx2,
        })
    }

    /// The bit depth the matrix was prepared for.
    pub fn bit_depth(&self) -> u32 {
        self.bit_depth
    }

    /// Whether the fixed-point path is used (otherwise `f32`).
    pub fn is_fixed_point(&self) -> bool {
        matches!(self.kind, MatrixKind::Fixed { .. })
    }

    /// Applies the matrix in place to every whole RGB triple of `rgb`
    /// (a trailing partial triple is left alone). Samples above the
    /// prepared bit depth's maximum are treated as the maximum; results are
    /// clipped to `0..=max` and then to the sample type. Infallible.
    #[inline(always)]
    pub fn apply<T: Sample>(&self, rgb: &mut [T]) {
        let max = self.max;
        // Pixels are processed in blocks: de-interleaved into planar
        // arrays, transformed with straight-line vectorisable loops, and
        // interleaved back.
        match self.kind {
            MatrixKind::Fixed { c, o, frac } => {
                let maxi = max as i32;
                // Zeroed once: a partial last block leaves stale entries
                // that `store` never reads.
                let mut p = [[0i32; BLOCK]; 3];
                let mut out = [[0u32; BLOCK]; 3];
                for chunk in rgb.chunks_mut(3 * BLOCK) {
                    load(chunk, &mut p, |v| v.min(max) as i32);
                    for (oc, (cc, &oo)) in out.iter_mut().zip(c.iter().zip(&o)) {
                        for (((d, &r), &g), &b) in oc.iter_mut().zip(&p[0]).zip(&p[1]).zip(&p[2]) {
                            let v = (cc[0] * r + cc[1] * g + cc[2] * b + oo) >> frac;
                            *d = v.clamp(0, maxi) as u32;
                        }
                    }
                    store(chunk, &out);
                }
            }
            MatrixKind::Float { m, o } => {
                let maxf = max as f32;
                let mut p = [[0f32; BLOCK]; 3];
                let mut out = [[0u32; BLOCK]; 3];
                for chunk in rgb.chunks_mut(3 * BLOCK) {
                    load(chunk, &mut p, |v| v.min(max) as f32);
                    for (oc, (mc, &oo)) in out.iter_mut().zip(m.iter().zip(&o)) {
                        for (((d, &r), &g), &b) in oc.iter_mut().zip(&p[0]).zip(&p[1]).zip(&p[2]) {
                            let v = (mc[0] * r + mc[1] * g + mc[2] * b + oo).clamp(0.0, maxf);
                            // Non-negative and at most 65535: truncation is
                            // floor, and i32 converts without saturation code.
                            *d = v as i32 as u32;
                        }
                    }
                    store(chunk, &out);
                }
            }
        }
    }

    /// [`FixedMatrix::apply`] for 8-bit data, with an AVX2 kernel when the
    /// CPU has it and the matrix was prepared for 8 bits with coefficients
    /// below 2 in magnitude (bit-identical results).
    #[inline(always)]
    pub fn apply_u8(&self, rgb: &mut [u8]) {
        #[cfg(target_arch = "x86_64")]
        if let Some(k) = &self.avx2 {
            if crate::simd::Simd::detect().avx2 {
                let whole = rgb.len() - rgb.len() % 3;
                // SAFETY: the CPU has AVX2 (checked just above).
                let done = unsafe { avx2::apply(&mut rgb[..whole], k) };
                self.apply(&mut rgb[done..]);
                return;
            }
        }
        self.apply(rgb);
    }

    /// [`FixedMatrix::apply`] for 16-bit containers.
    pub fn apply_u16(&self, rgb: &mut [u16]) {
        self.apply(rgb);
    }
}

/// Pixels per block of [`FixedMatrix::apply`].
const BLOCK: usize = 64;

/// De-interleaves the whole triples of `chunk` (at most [`BLOCK`]) into
/// planar arrays, converting each sample with `f`.
#[inline(always)]
fn load<T: Sample, X: Copy>(chunk: &[T], p: &mut [[X; BLOCK]; 3], f: impl Fn(u32) -> X) {
    let [pr, pg, pb] = p;
    for (((px, r), g), b) in chunk
        .chunks_exact(3)
        .zip(pr.iter_mut())
        .zip(pg.iter_mut())
        .zip(pb.iter_mut())
    {
        *r = f(px[0].to_u32());
        *g = f(px[1].to_u32());
        *b = f(px[2].to_u32());
    }
}

/// Interleaves planar results back into the whole triples of `chunk`.
#[inline(always)]
fn store<T: Sample>(chunk: &mut [T], out: &[[u32; BLOCK]; 3]) {
    for (((px, &r), &g), &b) in chunk
        .chunks_exact_mut(3)
        .zip(&out[0])
        .zip(&out[1])
        .zip(&out[2])
    {
        px[0] = T::from_u32_clamped(r);
        px[1] = T::from_u32_clamped(g);
        px[2] = T::from_u32_clamped(b);
    }
}

/// Applies a colour matrix with offsets to interleaved RGB data in place,
/// with the fixed-point (or `f32`) evaluation, rounding (half up) and
/// clipping described in the [module documentation](self) (through
/// [`FixedMatrix`]).
///
/// Errors: [`ColorError::InvalidMatrix`] for non-finite or out-of-range
/// coefficients, plus the size and bit-depth errors.
pub fn apply_color_matrix<T: Sample>(
    data: &mut [T],
    width: usize,
    height: usize,
    bit_depth: u32,
    matrix: &ColorMatrix,
) -> Result<(), ColorError> {
    let (n, _) = check::<T>(data.len(), width, height, 3, bit_depth)?;
    let fixed = FixedMatrix::new(matrix, bit_depth)?;
    let data = &mut data[..n];
    match T::as_bytes_mut(data) {
        Some(bytes) => fixed.apply_u8(bytes),
        None => fixed.apply(data),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector kernel of `apply_u8` is bit-identical to the portable
    /// fixed-point loop, including clipping at both ends and odd lengths.
    #[test]
    fn apply_u8_equals_the_portable_loop() {
        let matrices = [
            ColorMatrix::new(
                [[1.6, -0.45, -0.15], [-0.3, 1.5, -0.2], [-0.1, -0.55, 1.65]],
                [2.0, -3.0, 1.5],
            ),
            ColorMatrix::new(
                [[-1.99, 1.99, 0.5], [0.0, 0.01, -1.0], [1.0, 1.0, 1.0]],
                [-300.0, 40.25, 255.5],
            ),
            ColorMatrix::IDENTITY,
        ];
        let mut state = 1u64;
        for m in &matrices {
            let fixed = FixedMatrix::new(m, 8).unwrap();
            #[cfg(target_arch = "x86_64")]
            assert!(fixed.avx2.is_some(), "{m:?} should have a vector form");
            for len in [0, 3, 24, 30, 33, 96, 3 * 101, 3 * 1000] {
                let data: Vec<u8> = (0..len)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        (state >> 56) as u8
                    })
                    .collect();
                let (mut a, mut b) = (data.clone(), data);
                fixed.apply_u8(&mut a);
                fixed.apply(&mut b);
                assert_eq!(a, b, "{m:?}, {len} bytes");
            }
        }
    }
}
