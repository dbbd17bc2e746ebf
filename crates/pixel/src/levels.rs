//! Black level, gain and digital shift: the per-sample level steps of the
//! camera pipeline (SFNC `BlackLevel`, `Gain`, `DigitalShift`).
//!
//! Every function works in place on `width * height * channels` samples
//! (row-major, tightly packed; `channels` = 1 for mono and Bayer data, 3 for
//! interleaved RGB). Longer buffers are accepted and only that prefix is
//! touched. The data has an explicit `bit_depth` in `1..=8` for `u8` samples
//! and `1..=16` for `u16` samples (right-aligned, e.g. `0..=4095` for
//! 12-bit data); `max = 2^bit_depth - 1`.
//!
//! # Formulas and rounding
//!
//! With `v = min(in, max)` (samples above the bit-depth maximum are first
//! treated as `max`, in every function of this module):
//!
//! * **Black level** ([`subtract_black_level`]): `out = max(v - black, 0)`,
//!   with `black` in sample units of the data's bit depth.
//! * **Float gain** ([`apply_gain`]): `out = min(floor(v * gain + 0.5), max)`
//!   computed in `f64` (round half up, clip at the maximum). The gain is a
//!   linear factor (`>= 0`, finite); [`db_to_factor`] converts the SFNC
//!   `Gain` in dB (`factor = 10^(dB / 20)`).
//! * **Fixed-point gain** ([`apply_gain_fixed`]): the gain is `raw / 2^frac`
//!   (e.g. Q8.8: `frac = 8`, `raw = 256` is 1.0);
//!   `out = min((v * raw + half) >> frac, max)` with `half = 2^(frac-1)`
//!   (0 for `frac = 0`), i.e. round half up of the exact product. The
//!   arithmetic is exact (32-bit when `max * raw + half` fits, 64-bit
//!   otherwise). [`gain_to_fixed`] quantises a float gain (round half up).
//! * **Digital shift** ([`digital_shift`], `0..=4`): `out = min(v << n, max)`.
//! * **All three in one pass** ([`apply_levels`]): black level, then
//!   fixed-point gain, then shift, each clipped as above; the result equals
//!   applying the three functions one after the other.
//!
//! Gain 1 (`raw = 2^frac`, or `1.0`), black level 0 and shift 0 leave data
//! that is within the bit depth unchanged.
//!
//! Nothing panics: sizes, bit depths and parameters are validated and
//! reported as [`LevelsError`].

use crate::Sample;

/// Largest digital shift accepted by [`digital_shift`] (SFNC `DigitalShift`
/// range `0..=4`).
pub const MAX_DIGITAL_SHIFT: u32 = 4;

/// Largest number of fractional bits accepted for fixed-point gains.
pub const MAX_FRAC_BITS: u32 = 16;

/// Errors reported by the level functions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LevelsError {
    /// `width * height * channels` does not fit in `usize`.
    #[error("image size {width}x{height}x{channels} overflows")]
    SizeOverflow {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
        /// Samples per pixel.
        channels: usize,
    },
    /// `channels` is 0.
    #[error("invalid number of samples per pixel: {0}")]
    InvalidChannels(usize),
    /// The buffer holds fewer than `width * height * channels` samples.
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
    /// The gain is negative, not finite, or does not fit the fixed-point
    /// representation.
    #[error("invalid gain {0}")]
    InvalidGain(f64),
    /// The number of fractional bits exceeds [`MAX_FRAC_BITS`].
    #[error("invalid number of fractional bits {0} (must be 0..=16)")]
    InvalidFracBits(u32),
    /// The digital shift exceeds [`MAX_DIGITAL_SHIFT`].
    #[error("invalid digital shift {0} (must be 0..=4)")]
    InvalidShift(u32),
}

/// Number of bits of the sample type `T` (8 or 16).
#[inline]
pub(crate) fn type_bits<T: Sample>() -> u32 {
    u32::BITS - T::MAX.leading_zeros()
}

/// `2^bit_depth - 1` if `bit_depth` is in `1..=bits(T)`.
#[inline]
pub(crate) fn depth_max<T: Sample>(bit_depth: u32) -> Option<u32> {
    if bit_depth == 0 || bit_depth > type_bits::<T>() {
        None
    } else {
        Some((1u32 << bit_depth) - 1)
    }
}

/// Validates the geometry and bit depth; returns `(samples, max)`.
fn check<T: Sample>(
    len: usize,
    width: usize,
    height: usize,
    channels: usize,
    bit_depth: u32,
) -> Result<(usize, u32), LevelsError> {
    if channels == 0 {
        return Err(LevelsError::InvalidChannels(channels));
    }
    let max = depth_max::<T>(bit_depth).ok_or(LevelsError::InvalidBitDepth {
        bit_depth,
        limit: type_bits::<T>(),
    })?;
    let n = width
        .checked_mul(height)
        .and_then(|p| p.checked_mul(channels))
        .ok_or(LevelsError::SizeOverflow {
            width,
            height,
            channels,
        })?;
    if len < n {
        return Err(LevelsError::BufferTooShort {
            needed: n,
            actual: len,
        });
    }
    Ok((n, max))
}

/// Converts a gain in decibels to a linear factor: `10^(db / 20)`.
///
/// `db_to_factor(0.0) == 1.0`; `db_to_factor(6.0)` is about 1.995.
pub fn db_to_factor(db: f64) -> f64 {
    if db == 0.0 {
        1.0
    } else {
        10f64.powf(db / 20.0)
    }
}

/// Converts a linear gain factor to decibels: `20 * log10(factor)`
/// (`-inf` for 0, NaN for negative factors).
pub fn factor_to_db(factor: f64) -> f64 {
    20.0 * factor.log10()
}

/// Quantises a linear gain to fixed point with `frac_bits` fractional bits:
/// `raw = floor(gain * 2^frac_bits + 0.5)` (round half up).
///
/// Errors: [`LevelsError::InvalidFracBits`] if `frac_bits > 16`,
/// [`LevelsError::InvalidGain`] if the gain is negative, not finite, or
/// `raw` does not fit in `u32`.
pub fn gain_to_fixed(gain: f64, frac_bits: u32) -> Result<u32, LevelsError> {
    if frac_bits > MAX_FRAC_BITS {
        return Err(LevelsError::InvalidFracBits(frac_bits));
    }
    if !gain.is_finite() || gain < 0.0 {
        return Err(LevelsError::InvalidGain(gain));
    }
    let raw = (gain * f64::from(1u32 << frac_bits) + 0.5).floor();
    if raw > f64::from(u32::MAX) {
        return Err(LevelsError::InvalidGain(gain));
    }
    Ok(raw as u32)
}

/// Subtracts a black level from every sample, clipping at 0:
/// `out = max(min(in, max) - black_level, 0)`.
///
/// `black_level` is in sample units of the data's bit depth (a level above
/// `max` makes every sample 0).
pub fn subtract_black_level<T: Sample>(
    data: &mut [T],
    width: usize,
    height: usize,
    channels: usize,
    bit_depth: u32,
    black_level: u32,
) -> Result<(), LevelsError> {
    let (n, max) = check::<T>(data.len(), width, height, channels, bit_depth)?;
    for s in &mut data[..n] {
        *s = T::from_u32_clamped(s.to_u32().min(max).saturating_sub(black_level));
    }
    Ok(())
}

/// `min(floor(v * gain + 0.5), max)` in `f64` (`v` already `<= max`).
#[inline]
fn gain_scalar(v: u32, gain: f64, max: u32) -> u32 {
    // `as u32` saturates, so huge products become u32::MAX before the min.
    ((f64::from(v) * gain + 0.5).floor() as u32).min(max)
}

/// Multiplies every sample by a linear float gain:
/// `out = min(floor(min(in, max) * gain + 0.5), max)` (round half up,
/// computed in `f64`).
///
/// When the image has more samples than the bit depth has values, the
/// results are tabulated once (`2^bit_depth` entries) and looked up.
///
/// Errors: [`LevelsError::InvalidGain`] for a negative or non-finite gain,
/// plus the size and bit-depth errors.
pub fn apply_gain<T: Sample>(
    data: &mut [T],
    width: usize,
    height: usize,
    channels: usize,
    bit_depth: u32,
    gain: f64,
) -> Result<(), LevelsError> {
    let (n, max) = check::<T>(data.len(), width, height, channels, bit_depth)?;
    if !gain.is_finite() || gain < 0.0 {
        return Err(LevelsError::InvalidGain(gain));
    }
    let data = &mut data[..n];
    let entries = max as usize + 1;
    if n > entries {
        let table: Vec<T> = (0..=max)
            .map(|v| T::from_u32_clamped(gain_scalar(v, gain, max)))
            .collect();
        for s in data {
            let v = s.to_u32().min(max) as usize;
            if let Some(&t) = table.get(v) {
                *s = t;
            }
        }
    } else {
        for s in data {
            *s = T::from_u32_clamped(gain_scalar(s.to_u32().min(max), gain, max));
        }
    }
    Ok(())
}

/// In-place fixed-point scaling of `data` by `raw / 2^frac`, rounded half
/// up and clipped to `max` (inputs first clipped to `max`). Chooses 32-bit
/// arithmetic when it cannot overflow.
#[inline]
pub(crate) fn scale_fixed<T: Sample>(data: &mut [T], raw: u32, frac: u32, max: u32) {
    let half = (1u32 << frac) >> 1;
    if u64::from(max) * u64::from(raw) + u64::from(half) <= u64::from(u32::MAX) {
        for s in data {
            let v = s.to_u32().min(max);
            *s = T::from_u32_clamped(((v * raw + half) >> frac).min(max));
        }
    } else {
        let (raw, half) = (u64::from(raw), u64::from(half));
        for s in data {
            let v = u64::from(s.to_u32().min(max));
            let o = ((v * raw + half) >> frac).min(u64::from(max));
            *s = T::from_u32_clamped(o as u32);
        }
    }
}

/// Multiplies every sample by a fixed-point gain `gain_raw / 2^frac_bits`:
/// `out = min((min(in, max) * gain_raw + 2^(frac_bits-1)) >> frac_bits, max)`
/// (exact, round half up; no rounding term for `frac_bits = 0`).
///
/// Example: Q8.8 gain 1.5 is `gain_raw = 384, frac_bits = 8`.
///
/// Errors: [`LevelsError::InvalidFracBits`] if `frac_bits > 16`, plus the
/// size and bit-depth errors.
pub fn apply_gain_fixed<T: Sample>(
    data: &mut [T],
    width: usize,
    height: usize,
    channels: usize,
    bit_depth: u32,
    gain_raw: u32,
    frac_bits: u32,
) -> Result<(), LevelsError> {
    let (n, max) = check::<T>(data.len(), width, height, channels, bit_depth)?;
    if frac_bits > MAX_FRAC_BITS {
        return Err(LevelsError::InvalidFracBits(frac_bits));
    }
    scale_fixed(&mut data[..n], gain_raw, frac_bits, max);
    Ok(())
}

/// Shifts every sample left by `shift` bits (`0..=4`, SFNC `DigitalShift`),
/// clipping at the bit-depth maximum: `out = min(min(in, max) << shift, max)`.
///
/// Errors: [`LevelsError::InvalidShift`] if `shift > 4`, plus the size and
/// bit-depth errors.
pub fn digital_shift<T: Sample>(
    data: &mut [T],
    width: usize,
    height: usize,
    channels: usize,
    bit_depth: u32,
    shift: u32,
) -> Result<(), LevelsError> {
    let (n, max) = check::<T>(data.len(), width, height, channels, bit_depth)?;
    if shift > MAX_DIGITAL_SHIFT {
        return Err(LevelsError::InvalidShift(shift));
    }
    for s in &mut data[..n] {
        *s = T::from_u32_clamped((s.to_u32().min(max) << shift).min(max));
    }
    Ok(())
}

/// Parameters of [`apply_levels`]: black level, fixed-point gain and
/// digital shift, applied in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Levels {
    /// Black level subtracted first, in sample units of the bit depth.
    pub black_level: u32,
    /// Fixed-point gain numerator (`gain = gain_raw / 2^frac_bits`).
    pub gain_raw: u32,
    /// Fractional bits of the gain (`0..=16`).
    pub frac_bits: u32,
    /// Left shift applied last (`0..=4`).
    pub shift: u32,
}

impl Levels {
    /// The identity: black level 0, gain 1.0 in Q8.8, shift 0.
    pub const IDENTITY: Levels = Levels {
        black_level: 0,
        gain_raw: 256,
        frac_bits: 8,
        shift: 0,
    };

    /// Whether these parameters leave in-range data unchanged.
    pub fn is_identity(&self) -> bool {
        self.black_level == 0
            && self.shift == 0
            && self.frac_bits <= MAX_FRAC_BITS
            && self.gain_raw == 1 << self.frac_bits
    }
}

impl Default for Levels {
    fn default() -> Self {
        Levels::IDENTITY
    }
}

/// Applies black level, fixed-point gain and digital shift in one pass:
/// `v = min(in, max)`, `v = max(v - black_level, 0)`,
/// `v = min((v * gain_raw + half) >> frac_bits, max)`,
/// `out = min(v << shift, max)`. Identical to calling
/// [`subtract_black_level`], [`apply_gain_fixed`] and [`digital_shift`] in
/// turn.
///
/// Errors: [`LevelsError::InvalidFracBits`], [`LevelsError::InvalidShift`],
/// plus the size and bit-depth errors.
pub fn apply_levels<T: Sample>(
    data: &mut [T],
    width: usize,
    height: usize,
    channels: usize,
    bit_depth: u32,
    levels: &Levels,
) -> Result<(), LevelsError> {
    let (n, max) = check::<T>(data.len(), width, height, channels, bit_depth)?;
    let Levels {
        black_level,
        gain_raw,
        frac_bits,
        shift,
    } = *levels;
    if frac_bits > MAX_FRAC_BITS {
        return Err(LevelsError::InvalidFracBits(frac_bits));
    }
    if shift > MAX_DIGITAL_SHIFT {
        return Err(LevelsError::InvalidShift(shift));
    }
    let data = &mut data[..n];
    let half = (1u32 << frac_bits) >> 1;
    if u64::from(max) * u64::from(gain_raw) + u64::from(half) <= u64::from(u32::MAX) {
        for s in data {
            let v = s.to_u32().min(max).saturating_sub(black_level);
            let v = ((v * gain_raw + half) >> frac_bits).min(max);
            *s = T::from_u32_clamped((v << shift).min(max));
        }
    } else {
        let (raw, half64) = (u64::from(gain_raw), u64::from(half));
        for s in data {
            let v = u64::from(s.to_u32().min(max).saturating_sub(black_level));
            let v = ((v * raw + half64) >> frac_bits).min(u64::from(max)) as u32;
            *s = T::from_u32_clamped((v << shift).min(max));
        }
    }
    Ok(())
}
