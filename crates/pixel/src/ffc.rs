//! Flat-field correction (FFC): a per-pixel offset map (the dark field,
//! subtracted) and a per-pixel gain map, and the calibration that computes
//! them from averaged dark and bright frames (SFNC-style `FFCEnable`,
//! `FFCCalibrationStep`).
//!
//! Images are single-sample (mono or Bayer) `width * height` samples,
//! row-major and tightly packed; the maps have one entry per pixel in the
//! same layout. Longer buffers are accepted and only the prefix is used.
//! Nothing panics: sizes and bit depths are validated and reported as
//! [`FfcError`].
//!
//! # Correction
//!
//! Offsets are `u16` in sample units of the data; gains are `u16` fixed
//! point with [`GAIN_FRAC_BITS`] = 12 fractional bits ([`GAIN_ONE`] =
//! 4096 is 1.0, the largest gain 65535 is about 16.0). With
//! `max = 2^bit_depth - 1` and `v = min(in, max)`:
//!
//! `out = min((max(v - offset, 0) * gain + 2048) >> 12, max)`
//!
//! (exact 32-bit integer arithmetic, round half up, clip). Zero offsets and
//! gains of 4096 leave in-range data unchanged. The dark level, including
//! any black-level pedestal, is removed: a corrected dark frame is 0.
//!
//! [`FlatField`] owns a pair of maps for one frame size (as a camera stores
//! its coefficients); [`apply`] and [`FlatField::apply_row`] use the same
//! formula.
//!
//! # Calibration
//!
//! From an averaged dark frame `D` and an averaged bright (uniformly lit)
//! frame `B` ([`average_frames`] averages captures, rounding half up):
//!
//! * offsets: `offset = D` ([`offset_map`]);
//! * signal: `S = max(B - D, 0)` per pixel;
//! * target: the mean of `S` over all pixels, or — if a [`BayerPattern`] is
//!   given — over the pixels of the same colour, so that the colour balance
//!   of the bright frame is preserved;
//! * gain: `floor(4096 * target / S + 0.5)`, clipped to `0..=65535`; a pixel
//!   with `S = 0` (dead, or not brighter than the dark field) gets 1.0 and
//!   is left to defect correction ([`gain_map`]).
//!
//! The corrected bright frame is then flat at the target value of each
//! colour. As the manual requires, a bright field whose brightest/darkest
//! ratio exceeds 2 is refused ([`FfcError::BrightFieldTooUneven`]): the
//! ratio is `max(S) / min(S)` over the pixels of each colour (all pixels
//! without a pattern), so that a strongly coloured light does not trip it.
//! The check is per pixel; defect pixels should be corrected in the frames
//! (or excluded by defect correction first), since a dead pixel makes
//! `min(S) = 0` and the ratio infinite.

use crate::demosaic::BayerPattern;
use crate::levels::{depth_max, type_bits};
use crate::Sample;

/// Fractional bits of the fixed-point gain map.
pub const GAIN_FRAC_BITS: u32 = 12;

/// The gain-map value that means 1.0.
pub const GAIN_ONE: u16 = 1 << GAIN_FRAC_BITS;

/// Largest brightest/darkest ratio of a bright field accepted by the
/// calibration (the manual's rule).
pub const MAX_BRIGHT_FIELD_RATIO: u32 = 2;

/// Errors reported by the flat-field functions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FfcError {
    /// `width * height` does not fit in `usize`.
    #[error("image size {width}x{height} overflows")]
    SizeOverflow {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
    /// A buffer is shorter than `width * height`.
    #[error("{what} buffer too short: need {needed} samples, got {actual}")]
    BufferTooShort {
        /// Which buffer: "image", "offsets", "gains", "dark", "bright",
        /// "frame" or "destination".
        what: &'static str,
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
    /// The maps of a [`FlatField`] were made for another frame size.
    #[error("flat-field maps are {map_width}x{map_height}, the frame is {width}x{height}")]
    SizeMismatch {
        /// Width of the maps.
        map_width: usize,
        /// Height of the maps.
        map_height: usize,
        /// Width of the frame.
        width: usize,
        /// Height of the frame.
        height: usize,
    },
    /// [`average_frames`] was given no frames.
    #[error("no frames to average")]
    NoFrames,
    /// No pixel (of one colour) of the bright field is brighter than the
    /// dark field.
    #[error("bright field is not brighter than the dark field (channel {channel:?})")]
    BrightFieldTooDark {
        /// Colour channel (0 red, 1 green, 2 blue) with a Bayer pattern,
        /// `None` without.
        channel: Option<usize>,
    },
    /// The brightest/darkest ratio of the bright field exceeds 2.
    #[error(
        "bright field too uneven: brightest {brightest} / darkest {darkest} exceeds 2 \
         (channel {channel:?})"
    )]
    BrightFieldTooUneven {
        /// Colour channel (0 red, 1 green, 2 blue) with a Bayer pattern,
        /// `None` without.
        channel: Option<usize>,
        /// Largest dark-subtracted bright value.
        brightest: u32,
        /// Smallest dark-subtracted bright value.
        darkest: u32,
    },
}

fn pixels(width: usize, height: usize) -> Result<usize, FfcError> {
    width
        .checked_mul(height)
        .ok_or(FfcError::SizeOverflow { width, height })
}

fn need(what: &'static str, needed: usize, actual: usize) -> Result<(), FfcError> {
    if actual < needed {
        Err(FfcError::BufferTooShort {
            what,
            needed,
            actual,
        })
    } else {
        Ok(())
    }
}

/// Applies flat-field correction in place:
/// `out = min((max(min(in, max) - offset, 0) * gain + 2048) >> 12, max)`
/// per pixel (see the [module documentation](self)).
///
/// Errors: [`FfcError::InvalidBitDepth`], [`FfcError::SizeOverflow`],
/// [`FfcError::BufferTooShort`] for the image or either map.
pub fn apply_ffc<T: Sample>(
    data: &mut [T],
    width: usize,
    height: usize,
    bit_depth: u32,
    offsets: &[u16],
    gains: &[u16],
) -> Result<(), FfcError> {
    let max = depth_max::<T>(bit_depth).ok_or(FfcError::InvalidBitDepth {
        bit_depth,
        limit: type_bits::<T>(),
    })?;
    let n = pixels(width, height)?;
    need("image", n, data.len())?;
    need("offsets", n, offsets.len())?;
    need("gains", n, gains.len())?;
    correct(&mut data[..n], &offsets[..n], &gains[..n], max);
    Ok(())
}

/// Averages `frames` (each `width * height` samples) into `dst`, rounding
/// half up: `dst = floor((sum + k / 2) / k)` for `k` frames (exact, 64-bit
/// sums). Allocates one `u64` accumulator per pixel.
///
/// Errors: [`FfcError::NoFrames`], [`FfcError::SizeOverflow`],
/// [`FfcError::BufferTooShort`].
pub fn average_frames<T: Sample>(
    frames: &[&[T]],
    width: usize,
    height: usize,
    dst: &mut [T],
) -> Result<(), FfcError> {
    let n = pixels(width, height)?;
    if frames.is_empty() {
        return Err(FfcError::NoFrames);
    }
    need("destination", n, dst.len())?;
    for f in frames {
        need("frame", n, f.len())?;
    }
    let mut acc = vec![0u64; n];
    for f in frames {
        for (a, s) in acc.iter_mut().zip(&f[..n]) {
            *a += u64::from(s.to_u32());
        }
    }
    let k = frames.len() as u64;
    for (d, &a) in dst[..n].iter_mut().zip(&acc) {
        *d = T::from_u32_clamped(((a + k / 2) / k) as u32);
    }
    Ok(())
}

/// Computes the offset map from an averaged dark frame: `offset = dark`.
///
/// Errors: [`FfcError::SizeOverflow`], [`FfcError::BufferTooShort`].
pub fn offset_map<T: Sample>(
    dark: &[T],
    width: usize,
    height: usize,
    offsets: &mut [u16],
) -> Result<(), FfcError> {
    let n = pixels(width, height)?;
    need("dark", n, dark.len())?;
    need("offsets", n, offsets.len())?;
    for (o, d) in offsets[..n].iter_mut().zip(&dark[..n]) {
        *o = d.to_u32().min(u32::from(u16::MAX)) as u16;
    }
    Ok(())
}

/// Per-colour statistics of the dark-subtracted bright field.
#[derive(Debug, Clone, Copy)]
struct ChannelStats {
    sum: u64,
    count: u64,
    min: u32,
    max: u32,
}

impl Default for ChannelStats {
    fn default() -> Self {
        ChannelStats {
            sum: 0,
            count: 0,
            min: u32::MAX,
            max: 0,
        }
    }
}

/// The statistics of `S = max(bright - dark, 0)` per colour (index 0 for
/// all pixels without a pattern).
fn signal_stats<T: Sample>(
    dark: &[T],
    bright: &[T],
    width: usize,
    pattern: Option<BayerPattern>,
) -> [ChannelStats; 3] {
    let mut st = [ChannelStats::default(); 3];
    if width == 0 {
        return st;
    }
    for (y, (drow, brow)) in dark
        .chunks_exact(width)
        .zip(bright.chunks_exact(width))
        .enumerate()
    {
        for (x, (d, b)) in drow.iter().zip(brow).enumerate() {
            let c = pattern.map_or(0, |p| p.channel_at(x, y));
            let s = b.to_u32().saturating_sub(d.to_u32());
            let e = &mut st[c];
            e.sum += u64::from(s);
            e.count += 1;
            e.min = e.min.min(s);
            e.max = e.max.max(s);
        }
    }
    st
}

/// Checks the manual's rule on a bright field: per colour (or over all
/// pixels without a pattern), the brightest dark-subtracted value may be at
/// most twice the darkest. Returns the largest brightest/darkest ratio found
/// (1.0 for an empty image).
///
/// Errors: [`FfcError::BrightFieldTooDark`] if every pixel of a colour is
/// at or below the dark field, [`FfcError::BrightFieldTooUneven`] if the
/// ratio exceeds 2, and the size errors.
pub fn check_bright_field<T: Sample>(
    dark: &[T],
    bright: &[T],
    width: usize,
    height: usize,
    pattern: Option<BayerPattern>,
) -> Result<f64, FfcError> {
    let n = pixels(width, height)?;
    need("dark", n, dark.len())?;
    need("bright", n, bright.len())?;
    let st = signal_stats(&dark[..n], &bright[..n], width, pattern);
    check_stats(&st, pattern)
}

fn check_stats(st: &[ChannelStats; 3], pattern: Option<BayerPattern>) -> Result<f64, FfcError> {
    let mut worst = 1.0f64;
    for (c, e) in st.iter().enumerate() {
        if e.count == 0 {
            continue;
        }
        let channel = pattern.map(|_| c);
        if e.max == 0 {
            return Err(FfcError::BrightFieldTooDark { channel });
        }
        if u64::from(e.max) > u64::from(MAX_BRIGHT_FIELD_RATIO) * u64::from(e.min) {
            return Err(FfcError::BrightFieldTooUneven {
                channel,
                brightest: e.max,
                darkest: e.min,
            });
        }
        worst = worst.max(f64::from(e.max) / f64::from(e.min));
    }
    Ok(worst)
}

/// Computes the gain map from averaged dark and bright frames, after
/// checking the bright field with [`check_bright_field`]:
/// `gain = floor(4096 * target / S + 0.5)` clipped to `0..=65535`, with
/// `S = max(bright - dark, 0)` and `target` the mean of `S` over the pixels
/// of the same colour (all pixels without a pattern); pixels with `S = 0`
/// get [`GAIN_ONE`]. See the [module documentation](self).
///
/// Errors: those of [`check_bright_field`], and
/// [`FfcError::BufferTooShort`] for `gains`. `gains` is not modified on
/// error.
pub fn gain_map<T: Sample>(
    dark: &[T],
    bright: &[T],
    width: usize,
    height: usize,
    pattern: Option<BayerPattern>,
    gains: &mut [u16],
) -> Result<(), FfcError> {
    let n = pixels(width, height)?;
    need("dark", n, dark.len())?;
    need("bright", n, bright.len())?;
    need("gains", n, gains.len())?;
    let (dark, bright) = (&dark[..n], &bright[..n]);
    let st = signal_stats(dark, bright, width, pattern);
    check_stats(&st, pattern)?;
    if n == 0 {
        return Ok(());
    }
    let one = f64::from(GAIN_ONE);
    // 4096 * target per colour.
    let scaled: [f64; 3] = st.map(|e| {
        if e.count == 0 {
            0.0
        } else {
            one * e.sum as f64 / e.count as f64
        }
    });
    let rows = dark
        .chunks_exact(width)
        .zip(bright.chunks_exact(width))
        .zip(gains[..n].chunks_exact_mut(width));
    for (y, ((drow, brow), grow)) in rows.enumerate() {
        for (x, ((d, b), g)) in drow.iter().zip(brow).zip(grow.iter_mut()).enumerate() {
            let s = b.to_u32().saturating_sub(d.to_u32());
            *g = if s == 0 {
                GAIN_ONE
            } else {
                let c = pattern.map_or(0, |p| p.channel_at(x, y));
                // `as u16` saturates; the value is non-negative.
                (scaled[c] / f64::from(s) + 0.5).floor() as u16
            };
        }
    }
    Ok(())
}

/// Full calibration: [`offset_map`] from `dark` and [`gain_map`] from
/// `dark` and `bright`. Neither map is modified if the bright field is
/// refused.
///
/// Errors: those of [`gain_map`] and [`offset_map`].
pub fn calibrate<T: Sample>(
    dark: &[T],
    bright: &[T],
    width: usize,
    height: usize,
    pattern: Option<BayerPattern>,
    offsets: &mut [u16],
    gains: &mut [u16],
) -> Result<(), FfcError> {
    let n = pixels(width, height)?;
    need("offsets", n, offsets.len())?;
    gain_map(dark, bright, width, height, pattern, gains)?;
    offset_map(dark, width, height, offsets)
}

/// Flat-field maps for one frame size: per-pixel offsets and fixed-point
/// gains (see the [module documentation](self)), as a camera stores them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlatField {
    width: usize,
    height: usize,
    offsets: Vec<u16>,
    gains: Vec<u16>,
}

impl FlatField {
    /// Maps for `width × height` frames; only the first `width * height`
    /// entries of each map are kept.
    ///
    /// Errors: [`FfcError::SizeOverflow`], [`FfcError::BufferTooShort`].
    pub fn new(
        width: usize,
        height: usize,
        offsets: Vec<u16>,
        gains: Vec<u16>,
    ) -> Result<Self, FfcError> {
        let n = pixels(width, height)?;
        need("offsets", n, offsets.len())?;
        need("gains", n, gains.len())?;
        let (mut offsets, mut gains) = (offsets, gains);
        offsets.truncate(n);
        gains.truncate(n);
        Ok(FlatField {
            width,
            height,
            offsets,
            gains,
        })
    }

    /// Maps that change nothing (offsets 0, gains [`GAIN_ONE`]).
    ///
    /// Errors: [`FfcError::SizeOverflow`].
    pub fn identity(width: usize, height: usize) -> Result<Self, FfcError> {
        let n = pixels(width, height)?;
        Ok(FlatField {
            width,
            height,
            offsets: vec![0; n],
            gains: vec![GAIN_ONE; n],
        })
    }

    /// Calibrates from averaged dark and bright frames ([`calibrate`]).
    ///
    /// Errors: those of [`calibrate`].
    pub fn calibrate<T: Sample>(
        dark: &[T],
        bright: &[T],
        width: usize,
        height: usize,
        pattern: Option<BayerPattern>,
    ) -> Result<Self, FfcError> {
        let n = pixels(width, height)?;
        need("dark", n, dark.len())?;
        need("bright", n, bright.len())?;
        let (mut offsets, mut gains) = (vec![0u16; n], vec![0u16; n]);
        calibrate(
            dark,
            bright,
            width,
            height,
            pattern,
            &mut offsets,
            &mut gains,
        )?;
        Ok(FlatField {
            width,
            height,
            offsets,
            gains,
        })
    }

    /// Frame width and height the maps are for.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// The offset map (`width * height` entries).
    pub fn offsets(&self) -> &[u16] {
        &self.offsets
    }

    /// The gain map (`width * height` entries, [`GAIN_ONE`] = 1.0).
    pub fn gains(&self) -> &[u16] {
        &self.gains
    }

    /// Checks that the maps are for `width × height` frames.
    ///
    /// Errors: [`FfcError::SizeMismatch`].
    pub fn check_size(&self, width: usize, height: usize) -> Result<(), FfcError> {
        if (width, height) == (self.width, self.height) {
            Ok(())
        } else {
            Err(FfcError::SizeMismatch {
                map_width: self.width,
                map_height: self.height,
                width,
                height,
            })
        }
    }

    /// Corrects row `y` of an 8-bit frame in place with the same formula
    /// as [`apply_ffc`] (bit depth 8). Only `min(row.len(), width)` samples
    /// are corrected; a row `y >= height` is left alone. Infallible.
    #[inline(always)]
    pub fn apply_row_u8(&self, y: usize, row: &mut [u8]) {
        self.apply_row(y, row, 8);
    }

    /// Corrects row `y` of a frame of `bit_depth` bits in place (as
    /// [`FlatField::apply_row_u8`]); a bit depth outside `1..=bits(T)` is
    /// treated as the sample type's full depth. Infallible.
    #[inline(always)]
    pub fn apply_row<T: Sample>(&self, y: usize, row: &mut [T], bit_depth: u32) {
        let max = depth_max::<T>(bit_depth).unwrap_or(T::MAX);
        if y >= self.height {
            return;
        }
        let start = y * self.width; // < width * height, no overflow
        let end = start + self.width;
        let (Some(off), Some(gain)) = (self.offsets.get(start..end), self.gains.get(start..end))
        else {
            return;
        };
        correct(row, off, gain, max);
    }
}

/// The correction of [`apply_ffc`] over zipped slices.
#[inline(always)]
fn correct<T: Sample>(data: &mut [T], offsets: &[u16], gains: &[u16], max: u32) {
    for ((s, &o), &g) in data.iter_mut().zip(offsets).zip(gains) {
        *s = T::from_u32_clamped(correct_sample(s.to_u32(), o, g, max));
    }
}

/// The correction of [`apply_ffc`] for one sample of data limited to
/// `0..=max`.
#[inline(always)]
pub(crate) fn correct_sample(v: u32, offset: u16, gain: u16, max: u32) -> u32 {
    let v = v.min(max).saturating_sub(u32::from(offset));
    // 65535 * 65535 + 2048 < 2^32.
    ((v * u32::from(gain) + (1 << (GAIN_FRAC_BITS - 1))) >> GAIN_FRAC_BITS).min(max)
}

/// Applies the maps of `ff` to a `width × height` frame in place
/// ([`apply_ffc`] with the stored maps).
///
/// Errors: [`FfcError::SizeMismatch`] if the maps are for another size, and
/// those of [`apply_ffc`].
pub fn apply<T: Sample>(
    ff: &FlatField,
    data: &mut [T],
    width: usize,
    height: usize,
    bit_depth: u32,
) -> Result<(), FfcError> {
    ff.check_size(width, height)?;
    apply_ffc(data, width, height, bit_depth, &ff.offsets, &ff.gains)
}
