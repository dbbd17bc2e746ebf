//! Image statistics: per-channel histograms, mean / min / max / saturated
//! counts, and the grey-world white-balance estimate.
//!
//! Images are row-major and tightly packed, `width × height` pixels of a
//! [`PixelLayout`]; longer buffers are accepted and only the first
//! [`image_len`] samples are read. Nothing panics: sizes and parameters are
//! validated and reported as [`StatsError`].
//!
//! # Channels
//!
//! * [`PixelLayout::Mono`]: one channel (index 0).
//! * [`PixelLayout::Rgb`], [`PixelLayout::Bgr`] and
//!   [`PixelLayout::Bayer`]: three channels, always in the order red (0),
//!   green (1), blue (2), whatever the sample order. The two greens of a
//!   Bayer cell form one channel.
//!
//! # Bit depth and saturation
//!
//! `bit_depth` (1..=8 for `u8`, 1..=16 for `u16`) gives the sample range
//! `0..=2^bit_depth - 1`. A sample at or above `2^bit_depth - 1` counts as
//! saturated; samples above the range (invalid data) go into the last
//! histogram bin.
//!
//! # Histogram speed
//!
//! [`histogram`] counts into several partial histograms used in turn (four
//! for mono, two per channel for colour) so that consecutive equal samples
//! do not serialize on the same counter (store-to-load forwarding stalls),
//! then adds them up.

use crate::geometry::{image_len as layout_len, PixelLayout};
use crate::sample::Sample;

/// Errors reported by the statistics functions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    /// `width * height * samples_per_pixel` does not fit in `usize`.
    #[error("image size {width}x{height} overflows")]
    SizeOverflow {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
    /// The image buffer is shorter than the image.
    #[error("source buffer too short: need {needed} samples, got {actual}")]
    SourceTooShort {
        /// Required number of samples.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// The histogram buffer is shorter than `channels * bins`.
    #[error("histogram buffer too short: need {needed} counters, got {actual}")]
    HistogramTooShort {
        /// Required number of counters.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// The bit depth is not in `1..=max` (8 for `u8`, 16 for `u16`).
    #[error("invalid bit depth {bit_depth} (must be 1..={max})")]
    InvalidBitDepth {
        /// The bit depth passed.
        bit_depth: u32,
        /// Largest bit depth of the sample type.
        max: u32,
    },
    /// The bin count is not a power of two in `1..=2^bit_depth`.
    #[error("invalid bin count {bins} (must be a power of two, 1..={max})")]
    InvalidBinCount {
        /// The bin count passed.
        bins: usize,
        /// `2^bit_depth`.
        max: usize,
    },
    /// White balance needs colour data; the layout is mono.
    #[error("white balance needs a colour image (RGB, BGR or Bayer)")]
    NotColour,
    /// Grey world is undefined: a channel has no unsaturated sample or a
    /// mean of zero.
    #[error("grey-world white balance undefined: {channel} channel mean is zero or has no unsaturated data")]
    NoColourData {
        /// `"red"`, `"green"` or `"blue"`.
        channel: &'static str,
    },
}

/// Number of channels of `layout`: 1 for mono, 3 (R, G, B) otherwise.
pub const fn channel_count(layout: PixelLayout) -> usize {
    match layout {
        PixelLayout::Mono => 1,
        _ => 3,
    }
}

/// Number of samples of a `width × height` image of `layout`, or
/// [`StatsError::SizeOverflow`].
pub fn image_len(layout: PixelLayout, width: usize, height: usize) -> Result<usize, StatsError> {
    layout_len(layout, width, height).map_err(|_| StatsError::SizeOverflow { width, height })
}

/// Length of the histogram buffer [`histogram`] fills: `channels * bins`
/// (channel `c` occupies `c*bins .. (c+1)*bins`).
pub fn histogram_len(layout: PixelLayout, bins: usize) -> Result<usize, StatsError> {
    let channels = channel_count(layout);
    bins.checked_mul(channels)
        .ok_or(StatsError::InvalidBinCount {
            bins,
            max: usize::MAX / channels,
        })
}

fn check_bit_depth<T: Sample>(bit_depth: u32) -> Result<u32, StatsError> {
    let max = 32 - T::MAX.leading_zeros();
    if bit_depth == 0 || bit_depth > max {
        return Err(StatsError::InvalidBitDepth { bit_depth, max });
    }
    Ok((1u32 << bit_depth) - 1)
}

fn check_src<T>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    src: &[T],
) -> Result<usize, StatsError> {
    let n = image_len(layout, width, height)?;
    if src.len() < n {
        return Err(StatsError::SourceTooShort {
            needed: n,
            actual: src.len(),
        });
    }
    Ok(n)
}

/// Channel index of each of the three interleaved samples.
const fn interleaved_channels(layout: PixelLayout) -> [usize; 3] {
    match layout {
        PixelLayout::Bgr => [2, 1, 0],
        _ => [0, 1, 2],
    }
}

/// Channels of the even and odd columns of row `y`.
fn row_channels(layout: PixelLayout, y: usize) -> [usize; 2] {
    match layout {
        PixelLayout::Bayer(p) => [p.channel_at(0, y), p.channel_at(1, y)],
        _ => [0, 0],
    }
}

// ---------------------------------------------------------------------------
// Histogram
// ---------------------------------------------------------------------------

/// Samples processed between flushes of the `u32` partial counters (a
/// multiple of 2, 3 and 4 so that segments keep the colour phase).
const SEGMENT: usize = 3 << 28;

/// Fills `hist` with the per-channel histograms of `src`.
///
/// `hist` must hold [`histogram_len`]`(layout, bins)` counters; channel `c`
/// (see the [module documentation](self)) occupies `c*bins .. (c+1)*bins`.
/// The counters are overwritten, not accumulated. `bins` must be a power of
/// two in `1..=2^bit_depth`; sample `v` goes to bin
/// `min(v, 2^bit_depth - 1) >> (bit_depth - log2(bins))`. The counts of
/// each channel sum to its number of samples (for mono and RGB: the pixel
/// count).
pub fn histogram<T: Sample>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    bit_depth: u32,
    bins: usize,
    src: &[T],
    hist: &mut [u64],
) -> Result<(), StatsError> {
    let max = check_bit_depth::<T>(bit_depth)?;
    let max_bins = 1usize << bit_depth;
    if bins == 0 || !bins.is_power_of_two() || bins > max_bins {
        return Err(StatsError::InvalidBinCount {
            bins,
            max: max_bins,
        });
    }
    let n = check_src(layout, width, height, src)?;
    let needed = histogram_len(layout, bins)?;
    if hist.len() < needed {
        return Err(StatsError::HistogramTooShort {
            needed,
            actual: hist.len(),
        });
    }
    let hist = &mut hist[..needed];
    hist.fill(0);
    if n == 0 {
        return Ok(());
    }
    let shift = bit_depth - bins.trailing_zeros();
    let idx = |v: T| (v.to_u32().min(max) >> shift) as usize;
    let src = &src[..n];
    let row_len = n / height;
    match layout {
        PixelLayout::Mono => {
            let mut scratch = vec![0u32; 4 * bins];
            let mut pending = 0usize;
            for seg in src.chunks(SEGMENT) {
                if pending + seg.len() > u32::MAX as usize {
                    flush(&mut scratch, hist, 4, 1, bins);
                    pending = 0;
                }
                pending += seg.len();
                let (h0, rest) = scratch.split_at_mut(bins);
                let (h1, rest) = rest.split_at_mut(bins);
                let (h2, h3) = rest.split_at_mut(bins);
                let mut it = seg.chunks_exact(4);
                for c in &mut it {
                    h0[idx(c[0])] += 1;
                    h1[idx(c[1])] += 1;
                    h2[idx(c[2])] += 1;
                    h3[idx(c[3])] += 1;
                }
                for &v in it.remainder() {
                    h0[idx(v)] += 1;
                }
            }
            flush(&mut scratch, hist, 4, 1, bins);
        }
        PixelLayout::Rgb | PixelLayout::Bgr => {
            let order = interleaved_channels(layout);
            let mut scratch = vec![0u32; 2 * 3 * bins];
            let mut pending = 0usize;
            for seg in src.chunks(SEGMENT) {
                if pending + seg.len() > u32::MAX as usize {
                    flush(&mut scratch, hist, 2, 3, bins);
                    pending = 0;
                }
                pending += seg.len();
                let (p0, p1) = scratch.split_at_mut(3 * bins);
                let [a0, a1, a2] = split3(p0, bins, order);
                let [b0, b1, b2] = split3(p1, bins, order);
                let mut it = seg.chunks_exact(6);
                for c in &mut it {
                    a0[idx(c[0])] += 1;
                    a1[idx(c[1])] += 1;
                    a2[idx(c[2])] += 1;
                    b0[idx(c[3])] += 1;
                    b1[idx(c[4])] += 1;
                    b2[idx(c[5])] += 1;
                }
                for px in it.remainder().chunks_exact(3) {
                    a0[idx(px[0])] += 1;
                    a1[idx(px[1])] += 1;
                    a2[idx(px[2])] += 1;
                }
            }
            flush(&mut scratch, hist, 2, 3, bins);
        }
        PixelLayout::Bayer(_) => {
            let mut scratch = vec![0u32; 2 * 3 * bins];
            let mut pending = 0usize;
            for (y, row) in src.chunks_exact(row_len).enumerate() {
                let [c0, c1] = row_channels(layout, y);
                for seg in row.chunks(SEGMENT) {
                    if pending + seg.len() > u32::MAX as usize {
                        flush(&mut scratch, hist, 2, 3, bins);
                        pending = 0;
                    }
                    pending += seg.len();
                    if c0 == c1 {
                        // Not produced by any Bayer pattern; kept panic-free.
                        for &v in seg {
                            scratch[c0 * bins + idx(v)] += 1;
                        }
                        continue;
                    }
                    let (p0, p1) = scratch.split_at_mut(3 * bins);
                    let (a0, a1) = two_channels(p0, bins, c0, c1);
                    let (b0, b1) = two_channels(p1, bins, c0, c1);
                    let mut it = seg.chunks_exact(4);
                    for c in &mut it {
                        a0[idx(c[0])] += 1;
                        a1[idx(c[1])] += 1;
                        b0[idx(c[2])] += 1;
                        b1[idx(c[3])] += 1;
                    }
                    for (i, &v) in it.remainder().iter().enumerate() {
                        if i % 2 == 0 {
                            a0[idx(v)] += 1;
                        } else {
                            a1[idx(v)] += 1;
                        }
                    }
                }
            }
            flush(&mut scratch, hist, 2, 3, bins);
        }
    }
    Ok(())
}

/// Adds the `parts` partial histograms of `channels * bins` counters in
/// `scratch` to `hist` and clears them.
fn flush(scratch: &mut [u32], hist: &mut [u64], parts: usize, channels: usize, bins: usize) {
    let len = channels * bins;
    for part in scratch.chunks_exact_mut(len).take(parts) {
        for (h, p) in hist.iter_mut().zip(part.iter_mut()) {
            *h += u64::from(*p);
            *p = 0;
        }
    }
}

/// The three channel histograms of one partial set, in sample order.
fn split3(part: &mut [u32], bins: usize, order: [usize; 3]) -> [&mut [u32]; 3] {
    let (r, rest) = part.split_at_mut(bins);
    let (g, b) = rest.split_at_mut(bins);
    if order[0] == 2 {
        [b, g, r]
    } else {
        [r, g, b]
    }
}

/// Histograms of channels `c0` and `c1` (distinct) of one partial set.
fn two_channels(part: &mut [u32], bins: usize, c0: usize, c1: usize) -> (&mut [u32], &mut [u32]) {
    let (lo, hi) = (c0.min(c1), c0.max(c1));
    let (a, b) = part.split_at_mut(hi * bins);
    let lo_slice = &mut a[lo * bins..(lo + 1) * bins];
    let hi_slice = &mut b[..bins];
    if c0 < c1 {
        (lo_slice, hi_slice)
    } else {
        (hi_slice, lo_slice)
    }
}

// ---------------------------------------------------------------------------
// Stats
// ---------------------------------------------------------------------------

/// Statistics of one channel.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChannelStats {
    /// Number of samples.
    pub count: u64,
    /// Sum of the samples.
    pub sum: u64,
    /// Mean sample value (0 when `count` is 0).
    pub mean: f64,
    /// Smallest sample (0 when `count` is 0).
    pub min: u32,
    /// Largest sample (0 when `count` is 0).
    pub max: u32,
    /// Number of samples at or above `2^bit_depth - 1`.
    pub saturated: u64,
}

/// Per-channel statistics of an image (see [`stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats {
    /// Number of valid entries in `channels`: 1 (mono) or 3 (R, G, B).
    pub channel_count: usize,
    /// Per-channel statistics; entries past `channel_count` are zero.
    pub channels: [ChannelStats; 3],
}

impl Stats {
    /// The valid channels: `[mono]` or `[red, green, blue]`.
    pub fn as_slice(&self) -> &[ChannelStats] {
        &self.channels[..self.channel_count.min(3)]
    }
}

/// Running accumulator of one channel.
#[derive(Clone, Copy)]
struct Acc {
    count: u64,
    sum: u64,
    min: u32,
    max: u32,
    saturated: u64,
}

impl Acc {
    const EMPTY: Acc = Acc {
        count: 0,
        sum: 0,
        min: u32::MAX,
        max: 0,
        saturated: 0,
    };

    #[inline]
    fn add_slice<T: Sample>(&mut self, samples: impl Iterator<Item = T>, sat: u32) {
        let (mut count, mut sum, mut min, mut max, mut saturated) =
            (0u64, 0u64, self.min, self.max, 0u64);
        for s in samples {
            let v = s.to_u32();
            count += 1;
            sum += u64::from(v);
            min = min.min(v);
            max = max.max(v);
            saturated += u64::from(v >= sat);
        }
        self.count += count;
        self.sum += sum;
        self.min = min;
        self.max = max;
        self.saturated += saturated;
    }

    fn finish(self) -> ChannelStats {
        if self.count == 0 {
            return ChannelStats::default();
        }
        ChannelStats {
            count: self.count,
            sum: self.sum,
            mean: self.sum as f64 / self.count as f64,
            min: self.min,
            max: self.max,
            saturated: self.saturated,
        }
    }
}

/// Per-channel count, mean, min, max and number of saturated samples of
/// `src` (`width × height` of `layout`).
pub fn stats<T: Sample>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    bit_depth: u32,
    src: &[T],
) -> Result<Stats, StatsError> {
    let sat = check_bit_depth::<T>(bit_depth)?;
    let n = check_src(layout, width, height, src)?;
    let mut acc = [Acc::EMPTY; 3];
    if n > 0 {
        let src = &src[..n];
        let row_len = n / height;
        match layout {
            PixelLayout::Mono => {
                for row in src.chunks_exact(row_len) {
                    acc[0].add_slice(row.iter().copied(), sat);
                }
            }
            PixelLayout::Rgb | PixelLayout::Bgr => {
                let order = interleaved_channels(layout);
                for row in src.chunks_exact(row_len) {
                    for (k, &c) in order.iter().enumerate() {
                        acc[c].add_slice(row.iter().skip(k).step_by(3).copied(), sat);
                    }
                }
            }
            PixelLayout::Bayer(_) => {
                for (y, row) in src.chunks_exact(row_len).enumerate() {
                    let [c0, c1] = row_channels(layout, y);
                    acc[c0].add_slice(row.iter().step_by(2).copied(), sat);
                    acc[c1].add_slice(row.iter().skip(1).step_by(2).copied(), sat);
                }
            }
        }
    }
    let channel_count = channel_count(layout);
    let mut out = Stats {
        channel_count,
        channels: [ChannelStats::default(); 3],
    };
    for (o, a) in out.channels.iter_mut().zip(acc).take(channel_count) {
        *o = a.finish();
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// White balance
// ---------------------------------------------------------------------------

/// White-balance gains relative to green (green's gain is 1): multiplying
/// red by `red` and blue by `blue` balances the image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WhiteBalance {
    /// Gain for red: `mean(G) / mean(R)`.
    pub red: f64,
    /// Gain for blue: `mean(G) / mean(B)`.
    pub blue: f64,
}

/// Grey-world white-balance estimate of a colour image: the gains that make
/// the red and blue means equal to the green mean.
///
/// Saturated data is left out, since clipped channels would bias the
/// estimate: for RGB / BGR a pixel is skipped if any of its samples is at
/// or above `2^bit_depth - 1`; for Bayer the means are taken over complete
/// 2×2 cells (cells starting at even coordinates; a leftover odd last row
/// or column is ignored) and a cell is skipped if any of its four samples is
/// saturated. Both greens of a cell count. Mono images give
/// [`StatsError::NotColour`]; a channel with no data or a zero mean gives
/// [`StatsError::NoColourData`].
pub fn grey_world<T: Sample>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    bit_depth: u32,
    src: &[T],
) -> Result<WhiteBalance, StatsError> {
    let sat = check_bit_depth::<T>(bit_depth)?;
    let n = check_src(layout, width, height, src)?;
    let mut sums = [0u64; 3];
    let mut counts = [0u64; 3];
    match layout {
        PixelLayout::Mono => return Err(StatsError::NotColour),
        PixelLayout::Rgb | PixelLayout::Bgr => {
            let order = interleaved_channels(layout);
            for px in src[..n].chunks_exact(3) {
                let (a, b, c) = (px[0].to_u32(), px[1].to_u32(), px[2].to_u32());
                if a >= sat || b >= sat || c >= sat {
                    continue;
                }
                sums[order[0]] += u64::from(a);
                sums[order[1]] += u64::from(b);
                sums[order[2]] += u64::from(c);
                counts[0] += 1;
            }
            counts = [counts[0]; 3];
        }
        PixelLayout::Bayer(p) => {
            if width >= 2 && height >= 2 {
                let src = &src[..n];
                let cell_channels = [
                    p.channel_at(0, 0),
                    p.channel_at(1, 0),
                    p.channel_at(0, 1),
                    p.channel_at(1, 1),
                ];
                for rows in src.chunks_exact(2 * width) {
                    let (r0, r1) = rows.split_at(width);
                    for (a, b) in r0.chunks_exact(2).zip(r1.chunks_exact(2)) {
                        let v = [a[0].to_u32(), a[1].to_u32(), b[0].to_u32(), b[1].to_u32()];
                        if v.iter().any(|&s| s >= sat) {
                            continue;
                        }
                        for (&c, &s) in cell_channels.iter().zip(&v) {
                            sums[c] += u64::from(s);
                            counts[c] += 1;
                        }
                    }
                }
            }
        }
    }
    let names = ["red", "green", "blue"];
    let mut means = [0f64; 3];
    for c in 0..3 {
        if counts[c] == 0 || sums[c] == 0 {
            return Err(StatsError::NoColourData { channel: names[c] });
        }
        means[c] = sums[c] as f64 / counts[c] as f64;
    }
    Ok(WhiteBalance {
        red: means[1] / means[0],
        blue: means[1] / means[2],
    })
}
