//! Look-up tables and gamma (SFNC `LUTSelector`/`LUTIndex`/`LUTValue`,
//! `Gamma`).
//!
//! * [`Lut8`]: 256 entries, `u8 -> u8`, for 8-bit data.
//! * [`Lut12`]: the user LUT with a 12-bit index (4096 entries) and `u16`
//!   outputs of a given output bit depth (`1..=16`), for data of any bit
//!   depth.
//! * [`apply_gamma`]: gamma at the full precision of the data (a table of
//!   `2^bit_depth` entries built per call).
//!
//! Buffers are row-major and tightly packed with `width * height * channels`
//! samples (`channels` = 1 for mono/Bayer, 3 for interleaved RGB); longer
//! buffers are accepted and only the prefix is used. Nothing panics: sizes,
//! bit depths and values are validated and reported as [`LutError`].
//!
//! # Gamma
//!
//! As in the SFNC, `out = out_max * (in / in_max)^gamma` with
//! `gamma` in `(0, 3.99998]` ([`MAX_GAMMA`]); a smaller gamma is brighter.
//! Entries are computed in `f64` and rounded half up
//! (`floor(x + 0.5)`, clipped to `out_max`). Gamma 1 with equal input and
//! output depths is exactly the identity.
//!
//! # The 12-bit index of [`Lut12`]
//!
//! A sample `s` of data with bit depth `d` (values above `2^d - 1` are
//! first treated as `2^d - 1`) looks up entry
//!
//! * `s >> (d - 12)` for `d >= 12` (the low bits are dropped: 16-bit data
//!   uses every entry for 16 consecutive values), and
//! * `s << (12 - d)` for `d < 12` (only every `2^(12-d)`-th entry is used:
//!   8-bit sample 255 reads entry 4080, not 4095).
//!
//! ([`Lut12::index_of`].) The output is the entry itself, a value of
//! [`Lut12::out_bit_depth`] bits.

use crate::levels::{depth_max, type_bits};
use crate::Sample;

/// Largest gamma accepted (SFNC `Gamma` range).
pub const MAX_GAMMA: f64 = 3.99998;

/// Errors reported by the LUT functions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LutError {
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
    /// The source (or in-place) buffer is shorter than the image.
    #[error("source buffer too short: need {needed} samples, got {actual}")]
    SourceTooShort {
        /// Required number of samples.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// The destination buffer is shorter than the image.
    #[error("destination buffer too short: need {needed} samples, got {actual}")]
    DestinationTooShort {
        /// Required number of samples.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// A bit depth is 0 or larger than the sample type (or 16) holds.
    #[error("invalid bit depth {bit_depth} (must be 1..={limit})")]
    InvalidBitDepth {
        /// The bit depth passed.
        bit_depth: u32,
        /// The largest bit depth allowed here.
        limit: u32,
    },
    /// The gamma is not in `(0, 3.99998]`.
    #[error("invalid gamma {0} (must be in (0, 3.99998])")]
    InvalidGamma(f64),
    /// A table passed has the wrong number of entries.
    #[error("wrong table length: need {needed} entries, got {actual}")]
    WrongTableLength {
        /// Required number of entries.
        needed: usize,
        /// Number of entries passed.
        actual: usize,
    },
    /// A table value exceeds the output bit depth.
    #[error("LUT value {value} at index {index} exceeds the maximum {max}")]
    ValueOutOfRange {
        /// Index of the entry.
        index: usize,
        /// The value.
        value: u32,
        /// Largest value of the output bit depth.
        max: u32,
    },
    /// A LUT index is outside the table.
    #[error("LUT index {index} out of range (table has {len} entries)")]
    IndexOutOfRange {
        /// The index passed.
        index: usize,
        /// Number of entries.
        len: usize,
    },
}

fn samples(width: usize, height: usize, channels: usize) -> Result<usize, LutError> {
    if channels == 0 {
        return Err(LutError::InvalidChannels(channels));
    }
    width
        .checked_mul(height)
        .and_then(|p| p.checked_mul(channels))
        .ok_or(LutError::SizeOverflow {
            width,
            height,
            channels,
        })
}

fn check_src(n: usize, len: usize) -> Result<(), LutError> {
    if len < n {
        Err(LutError::SourceTooShort {
            needed: n,
            actual: len,
        })
    } else {
        Ok(())
    }
}

fn check_dst(n: usize, len: usize) -> Result<(), LutError> {
    if len < n {
        Err(LutError::DestinationTooShort {
            needed: n,
            actual: len,
        })
    } else {
        Ok(())
    }
}

fn max_for<T: Sample>(bit_depth: u32) -> Result<u32, LutError> {
    depth_max::<T>(bit_depth).ok_or(LutError::InvalidBitDepth {
        bit_depth,
        limit: type_bits::<T>(),
    })
}

fn check_gamma(gamma: f64) -> Result<(), LutError> {
    if gamma > 0.0 && gamma <= MAX_GAMMA {
        Ok(())
    } else {
        Err(LutError::InvalidGamma(gamma))
    }
}

/// One gamma value: `min(floor(out_max * (i / in_max)^gamma + 0.5), out_max)`
/// in `f64` (`i` is clipped to `in_max`). Exactly `i` when `gamma == 1` and
/// `in_max == out_max`. Returns 0 for `in_max == 0`.
///
/// This is the formula every table of this module is built with; `gamma`
/// is not validated here.
pub fn gamma_value(i: u32, in_max: u32, out_max: u32, gamma: f64) -> u32 {
    if in_max == 0 {
        return 0;
    }
    let i = i.min(in_max);
    if gamma == 1.0 && in_max == out_max {
        return i;
    }
    let x = f64::from(i) / f64::from(in_max);
    ((f64::from(out_max) * x.powf(gamma) + 0.5).floor() as u32).min(out_max)
}

/// A 256-entry look-up table for 8-bit data: `out = table[in]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lut8 {
    table: [u8; 256],
}

impl Default for Lut8 {
    fn default() -> Self {
        Lut8::identity()
    }
}

impl Lut8 {
    /// Number of entries.
    pub const LEN: usize = 256;

    /// The identity table (`table[i] = i`).
    pub const fn identity() -> Self {
        let mut table = [0u8; 256];
        let mut i = 0;
        while i < 256 {
            table[i] = i as u8;
            i += 1;
        }
        Lut8 { table }
    }

    /// A table with the given entries.
    pub const fn from_table(table: [u8; 256]) -> Self {
        Lut8 { table }
    }

    /// A table from a slice of exactly 256 entries.
    ///
    /// Errors: [`LutError::WrongTableLength`].
    pub fn from_slice(table: &[u8]) -> Result<Self, LutError> {
        let table: [u8; 256] = table.try_into().map_err(|_| LutError::WrongTableLength {
            needed: 256,
            actual: table.len(),
        })?;
        Ok(Lut8 { table })
    }

    /// The gamma table `table[i] = floor(255 * (i / 255)^gamma + 0.5)`
    /// (see the [module documentation](self)); gamma 1 is the identity.
    ///
    /// Errors: [`LutError::InvalidGamma`] unless `0 < gamma <= 3.99998`.
    pub fn gamma(gamma: f64) -> Result<Self, LutError> {
        check_gamma(gamma)?;
        let mut table = [0u8; 256];
        for (i, t) in (0u32..).zip(table.iter_mut()) {
            *t = gamma_value(i, 255, 255, gamma) as u8;
        }
        Ok(Lut8 { table })
    }

    /// The entries.
    pub fn table(&self) -> &[u8; 256] {
        &self.table
    }

    /// Entry `index`.
    pub fn get(&self, index: u8) -> u8 {
        self.table[usize::from(index)]
    }

    /// Sets entry `index` to `value`.
    pub fn set(&mut self, index: u8, value: u8) {
        self.table[usize::from(index)] = value;
    }

    /// Whether this is the identity table.
    pub fn is_identity(&self) -> bool {
        *self == Lut8::identity()
    }

    /// Replaces every sample of `data` (`width * height * channels` samples)
    /// by its table entry, in place.
    ///
    /// Errors: size overflow, `channels == 0`,
    /// [`LutError::SourceTooShort`].
    pub fn apply(
        &self,
        data: &mut [u8],
        width: usize,
        height: usize,
        channels: usize,
    ) -> Result<(), LutError> {
        let n = samples(width, height, channels)?;
        check_src(n, data.len())?;
        let t = &self.table;
        for v in &mut data[..n] {
            *v = t[usize::from(*v)];
        }
        Ok(())
    }

    /// Writes the table entry of every sample of `src` to `dst`
    /// (`width * height * channels` samples each).
    ///
    /// Errors: size overflow, `channels == 0`, [`LutError::SourceTooShort`],
    /// [`LutError::DestinationTooShort`].
    pub fn map(
        &self,
        src: &[u8],
        dst: &mut [u8],
        width: usize,
        height: usize,
        channels: usize,
    ) -> Result<(), LutError> {
        let n = samples(width, height, channels)?;
        check_src(n, src.len())?;
        check_dst(n, dst.len())?;
        let t = &self.table;
        for (d, &s) in dst[..n].iter_mut().zip(&src[..n]) {
            *d = t[usize::from(s)];
        }
        Ok(())
    }
}

/// The user LUT: 4096 entries indexed by the top 12 bits of a sample (see
/// the [module documentation](self) for the index rule), with `u16` outputs
/// of [`Lut12::out_bit_depth`] bits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lut12 {
    table: [u16; 4096],
    out_bit_depth: u32,
}

impl Default for Lut12 {
    fn default() -> Self {
        Lut12::identity()
    }
}

impl Lut12 {
    /// Number of entries.
    pub const LEN: usize = 4096;

    /// The identity table with 12-bit output (`table[i] = i`).
    pub fn identity() -> Self {
        let mut table = [0u16; 4096];
        for (i, t) in (0u16..).zip(table.iter_mut()) {
            *t = i;
        }
        Lut12 {
            table,
            out_bit_depth: 12,
        }
    }

    /// A table from exactly 4096 entries, each at most
    /// `2^out_bit_depth - 1`.
    ///
    /// Errors: [`LutError::InvalidBitDepth`] unless `1 <= out_bit_depth <=
    /// 16`, [`LutError::WrongTableLength`], [`LutError::ValueOutOfRange`].
    pub fn from_slice(table: &[u16], out_bit_depth: u32) -> Result<Self, LutError> {
        let out_max = max_for::<u16>(out_bit_depth)?;
        let table: [u16; 4096] = table.try_into().map_err(|_| LutError::WrongTableLength {
            needed: Self::LEN,
            actual: table.len(),
        })?;
        if let Some((index, &v)) = table
            .iter()
            .enumerate()
            .find(|(_, &v)| u32::from(v) > out_max)
        {
            return Err(LutError::ValueOutOfRange {
                index,
                value: u32::from(v),
                max: out_max,
            });
        }
        Ok(Lut12 {
            table,
            out_bit_depth,
        })
    }

    /// The gamma table `table[i] = floor(out_max * (i / 4095)^gamma + 0.5)`
    /// with `out_max = 2^out_bit_depth - 1` (see the
    /// [module documentation](self)). With `gamma = 1` and
    /// `out_bit_depth = 12` it is the identity.
    ///
    /// Errors: [`LutError::InvalidGamma`], [`LutError::InvalidBitDepth`].
    pub fn gamma(gamma: f64, out_bit_depth: u32) -> Result<Self, LutError> {
        check_gamma(gamma)?;
        let out_max = max_for::<u16>(out_bit_depth)?;
        let mut table = [0u16; 4096];
        for (i, t) in (0u32..).zip(table.iter_mut()) {
            *t = gamma_value(i, 4095, out_max, gamma) as u16;
        }
        Ok(Lut12 {
            table,
            out_bit_depth,
        })
    }

    /// The entries.
    pub fn table(&self) -> &[u16; 4096] {
        &self.table
    }

    /// Bit depth of the output values.
    pub fn out_bit_depth(&self) -> u32 {
        self.out_bit_depth
    }

    /// Entry `index`, or `None` if `index >= 4096`.
    pub fn get(&self, index: usize) -> Option<u16> {
        self.table.get(index).copied()
    }

    /// Sets entry `index` to `value` (SFNC `LUTIndex` / `LUTValue`).
    ///
    /// Errors: [`LutError::IndexOutOfRange`], [`LutError::ValueOutOfRange`]
    /// if `value` exceeds the output bit depth.
    pub fn set(&mut self, index: usize, value: u16) -> Result<(), LutError> {
        let max = (1u32 << self.out_bit_depth) - 1;
        if u32::from(value) > max {
            return Err(LutError::ValueOutOfRange {
                index,
                value: u32::from(value),
                max,
            });
        }
        let len = self.table.len();
        let slot = self
            .table
            .get_mut(index)
            .ok_or(LutError::IndexOutOfRange { index, len })?;
        *slot = value;
        Ok(())
    }

    /// The table index of `sample` in data of `bit_depth` bits (see the
    /// [module documentation](self)), or `None` unless `1 <= bit_depth <=
    /// 16`.
    pub fn index_of(sample: u32, bit_depth: u32) -> Option<usize> {
        let max = depth_max::<u16>(bit_depth)?;
        let (up, down) = shifts(bit_depth);
        Some((((sample.min(max)) << up) >> down) as usize)
    }

    /// Replaces every sample of `data` by its table entry, in place.
    /// `bit_depth` is the depth of the input data; afterwards the data has
    /// [`Lut12::out_bit_depth`] bits, which must fit the sample type.
    ///
    /// Errors: [`LutError::InvalidBitDepth`] for an invalid input depth or
    /// an output depth larger than `T` holds, size errors,
    /// [`LutError::SourceTooShort`].
    pub fn apply<T: Sample>(
        &self,
        data: &mut [T],
        width: usize,
        height: usize,
        channels: usize,
        bit_depth: u32,
    ) -> Result<(), LutError> {
        let n = samples(width, height, channels)?;
        let max = max_for::<T>(bit_depth)?;
        max_for::<T>(self.out_bit_depth)?;
        check_src(n, data.len())?;
        let (up, down) = shifts(bit_depth);
        let t = &self.table;
        for v in &mut data[..n] {
            let i = ((v.to_u32().min(max) << up) >> down) as usize & 0xFFF;
            *v = T::from_u32_clamped(u32::from(t[i]));
        }
        Ok(())
    }

    /// Writes the table entry of every sample of `src` (data of `bit_depth`
    /// bits) to `dst`; the output depth must fit the destination type.
    ///
    /// Errors: [`LutError::InvalidBitDepth`], size errors,
    /// [`LutError::SourceTooShort`], [`LutError::DestinationTooShort`].
    pub fn map<S: Sample, D: Sample>(
        &self,
        src: &[S],
        bit_depth: u32,
        dst: &mut [D],
        width: usize,
        height: usize,
        channels: usize,
    ) -> Result<(), LutError> {
        let n = samples(width, height, channels)?;
        let max = max_for::<S>(bit_depth)?;
        max_for::<D>(self.out_bit_depth)?;
        check_src(n, src.len())?;
        check_dst(n, dst.len())?;
        let (up, down) = shifts(bit_depth);
        let t = &self.table;
        for (d, s) in dst[..n].iter_mut().zip(&src[..n]) {
            let i = ((s.to_u32().min(max) << up) >> down) as usize & 0xFFF;
            *d = D::from_u32_clamped(u32::from(t[i]));
        }
        Ok(())
    }
}

/// `(left, right)` shifts mapping a `bit_depth` sample to a 12-bit index.
fn shifts(bit_depth: u32) -> (u32, u32) {
    if bit_depth >= 12 {
        (0, bit_depth - 12)
    } else {
        (12 - bit_depth, 0)
    }
}

/// Applies gamma at the full precision of the data, in place:
/// `out = floor(max * (min(in, max) / max)^gamma + 0.5)` with
/// `max = 2^bit_depth - 1` (see the [module documentation](self)). Builds a
/// table of `2^bit_depth` entries per call; with gamma 1 no table is built
/// and the samples are only clipped to `max` (in-range data is unchanged).
///
/// Errors: [`LutError::InvalidGamma`], [`LutError::InvalidBitDepth`],
/// size errors, [`LutError::SourceTooShort`].
pub fn apply_gamma<T: Sample>(
    data: &mut [T],
    width: usize,
    height: usize,
    channels: usize,
    bit_depth: u32,
    gamma: f64,
) -> Result<(), LutError> {
    let n = samples(width, height, channels)?;
    let max = max_for::<T>(bit_depth)?;
    check_gamma(gamma)?;
    check_src(n, data.len())?;
    let data = &mut data[..n];
    if gamma == 1.0 {
        for v in data {
            *v = T::from_u32_clamped(v.to_u32().min(max));
        }
        return Ok(());
    }
    let table: Vec<T> = (0..=max)
        .map(|i| T::from_u32_clamped(gamma_value(i, max, max, gamma)))
        .collect();
    let last = table.last().copied().unwrap_or_default();
    for v in data {
        *v = table.get(v.to_u32() as usize).copied().unwrap_or(last);
    }
    Ok(())
}
