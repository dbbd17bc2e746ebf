//! Demosaicing of Bayer colour-filter-array images into interleaved RGB.
//!
//! Two algorithms are provided, each for 8-bit and 16-bit samples:
//!
//! * **Bilinear** ([`bilinear_u8`], [`bilinear_u16`]): every missing colour is
//!   the rounded mean of the 2 or 4 nearest samples of that colour
//!   (`(a + b + 1) >> 1`, `(a + b + c + d + 2) >> 2`). This is bit-exact with
//!   OpenCV's `cv2.cvtColor(bayer, cv2.COLOR_Bayer??2RGB)` on **every** pixel
//!   of images of at least 3×3 pixels (interior and border, verified with
//!   OpenCV 5.0 for 8- and 16-bit samples).
//! * **Malvar-He-Cutler** ([`mhc_u8`], [`mhc_u16`]): the gradient-corrected
//!   linear interpolation of Malvar, He and Cutler (ICASSP 2004) with its
//!   5×5 kernels (coefficients /8), rounded half up and clipped to the sample
//!   range.
//!
//! # Patterns and the OpenCV naming
//!
//! [`BayerPattern`] names the colours of the first two pixels of the first
//! row (the PFNC / GenICam convention, e.g. `BayerRG8`). OpenCV instead names
//! a pattern by the second and third pixels of the second row, so the codes
//! are "rotated":
//!
//! | ours / PFNC | row 0 | row 1 | OpenCV code          |
//! |-------------|-------|-------|----------------------|
//! | `RG`        | R G   | G B   | `COLOR_BayerBG2RGB`  |
//! | `GR`        | G R   | B G   | `COLOR_BayerGB2RGB`  |
//! | `GB`        | G B   | R G   | `COLOR_BayerGR2RGB`  |
//! | `BG`        | B G   | G R   | `COLOR_BayerRG2RGB`  |
//!
//! (established empirically against OpenCV; see
//! [`BayerPattern::opencv_name`].)
//!
//! # Border rule
//!
//! * Bilinear, images of at least 3×3: the interior (all pixels at least one
//!   pixel away from every edge) is interpolated from the 3×3 neighbourhood;
//!   each border pixel is a copy of the nearest interior output pixel
//!   (column 0 copies column 1, the last column copies the one before, then
//!   row 0 copies row 1 and the last row copies the one before). This is
//!   exactly OpenCV's behaviour.
//! * Malvar-He-Cutler: pixels at least two pixels away from every edge use
//!   the 5×5 kernels; the two-pixel border ring (and the whole image if it is
//!   smaller than 5×5) takes the bilinear result at that pixel.
//! * Images narrower or lower than 3 pixels (where OpenCV outputs zeros): each
//!   missing colour is the rounded mean of the samples of that colour inside
//!   the 3×3 window clipped to the image, or 0 if the window has none (e.g.
//!   blue in a 1×1 `RG` image).
//!
//! Buffers are tightly packed (row stride = width samples for the mosaic,
//! 3 × width for the RGB output); longer buffers are accepted and only the
//! first `width * height` (resp. `3 * width * height`) elements are used.
//! The functions never panic; sizes and buffer lengths are validated and
//! reported as [`DemosaicError`].

use std::ops::{Add, Mul, Sub};

#[cfg(target_arch = "x86_64")]
mod avx2;

use crate::simd::Simd;
use crate::Sample;

/// Arrangement of the 2×2 Bayer cell, named by the colours of the first two
/// pixels of the first row (PFNC convention).
///
/// See the [module documentation](self) for the mapping to OpenCV codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BayerPattern {
    /// `R G` / `G B` (OpenCV `BayerBG`).
    RG,
    /// `G R` / `B G` (OpenCV `BayerGB`).
    GR,
    /// `G B` / `R G` (OpenCV `BayerGR`).
    GB,
    /// `B G` / `G R` (OpenCV `BayerRG`).
    BG,
}

impl BayerPattern {
    /// All four patterns.
    pub const ALL: [BayerPattern; 4] = [
        BayerPattern::RG,
        BayerPattern::GR,
        BayerPattern::GB,
        BayerPattern::BG,
    ];

    /// Colour channel sampled at pixel (`x`, `y`): 0 = red, 1 = green,
    /// 2 = blue (the index into an RGB triple).
    #[inline]
    pub const fn channel_at(self, x: usize, y: usize) -> usize {
        // Channel of the cell's top-left (R/B) ... encoded per pattern.
        let cell: [usize; 4] = match self {
            BayerPattern::RG => [0, 1, 1, 2],
            BayerPattern::GR => [1, 0, 2, 1],
            BayerPattern::GB => [1, 2, 0, 1],
            BayerPattern::BG => [2, 1, 1, 0],
        };
        cell[(y & 1) * 2 + (x & 1)]
    }

    /// The name OpenCV uses for this pattern, e.g. `"BayerBG"` for
    /// [`BayerPattern::RG`] (to be used as `cv2.COLOR_BayerBG2RGB`).
    pub const fn opencv_name(self) -> &'static str {
        match self {
            BayerPattern::RG => "BayerBG",
            BayerPattern::GR => "BayerGB",
            BayerPattern::GB => "BayerGR",
            BayerPattern::BG => "BayerRG",
        }
    }
}

/// Errors reported by the demosaicing functions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DemosaicError {
    /// `width * height * 3` does not fit in `usize`.
    #[error("image size {width}x{height} overflows")]
    SizeOverflow {
        /// Requested width in pixels.
        width: usize,
        /// Requested height in pixels.
        height: usize,
    },
    /// The mosaic buffer holds fewer than `width * height` samples.
    #[error("source buffer too short: need {needed} samples, got {actual}")]
    SourceTooShort {
        /// Required number of samples.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// The RGB buffer holds fewer than `3 * width * height` samples.
    #[error("destination buffer too short: need {needed} samples, got {actual}")]
    DestinationTooShort {
        /// Required number of samples.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// The bit depth passed to [`mhc_u16`] is not in `1..=16`.
    #[error("invalid bit depth {0} (must be 1..=16)")]
    InvalidBitDepth(u32),
}

// ---------------------------------------------------------------------------
// Sample abstraction
// ---------------------------------------------------------------------------

/// Internal sample trait: u8 uses 16-bit arithmetic, u16 uses 32-bit.
trait Px: Sample {
    /// Signed accumulator wide enough for the MHC kernels (×16 weights).
    type W: Copy + Add<Output = Self::W> + Sub<Output = Self::W> + Mul<Output = Self::W>;
    fn avg2(a: Self, b: Self) -> Self;
    fn avg4(a: Self, b: Self, c: Self, d: Self) -> Self;
    fn w(self) -> Self::W;
    fn k(c: i8) -> Self::W;
    /// `(acc + 8) >> 4`, clipped to `0..=max`.
    fn finish(acc: Self::W, max: Self::W) -> Self;
    /// Vector version of [`bil_pairs`] for the leading pairs of a row;
    /// returns how many pairs it wrote (the scalar loop does the rest).
    #[inline(always)]
    fn bil_pairs_simd<const C: usize, const G_FIRST: bool>(
        _simd: Simd,
        _up: &[Self],
        _mid: &[Self],
        _dn: &[Self],
        _out: &mut [Self],
        _n: usize,
    ) -> usize {
        0
    }
    /// Vector version of [`mhc_pairs`], same contract as
    /// [`Px::bil_pairs_simd`].
    #[inline(always)]
    fn mhc_pairs_simd<const C: usize, const G_FIRST: bool>(
        _simd: Simd,
        _rows: [&[Self]; 5],
        _out: &mut [Self],
        _n: usize,
        _max: Self::W,
    ) -> usize {
        0
    }
}

/// The arithmetic of [`Px`] for a sample type `$t` whose sums fit in the
/// unsigned `$wide` and whose MHC accumulators fit in the signed `$w`.
macro_rules! px_arithmetic {
    ($t:ty, $wide:ty, $w:ty) => {
        type W = $w;
        #[inline(always)]
        fn avg2(a: $t, b: $t) -> $t {
            ((a as $wide + b as $wide + 1) >> 1) as $t
        }
        #[inline(always)]
        fn avg4(a: $t, b: $t, c: $t, d: $t) -> $t {
            ((a as $wide + b as $wide + c as $wide + d as $wide + 2) >> 2) as $t
        }
        #[inline(always)]
        fn w(self) -> $w {
            self as $w
        }
        #[inline(always)]
        fn k(c: i8) -> $w {
            c as $w
        }
        #[inline(always)]
        fn finish(acc: $w, max: $w) -> $t {
            ((acc + 8) >> 4).clamp(0, max) as $t
        }
    };
}

impl Px for u8 {
    px_arithmetic!(u8, u16, i16);
    #[inline(always)]
    fn bil_pairs_simd<const C: usize, const G_FIRST: bool>(
        simd: Simd,
        up: &[u8],
        mid: &[u8],
        dn: &[u8],
        out: &mut [u8],
        n: usize,
    ) -> usize {
        #[cfg(target_arch = "x86_64")]
        if simd.avx2 {
            // SAFETY: `simd.avx2` is only true when the CPU has AVX2.
            return unsafe { avx2::bilinear_pairs::<C, G_FIRST>(up, mid, dn, out, n) };
        }
        let _ = (simd, up, mid, dn, out, n);
        0
    }
    #[inline(always)]
    fn mhc_pairs_simd<const C: usize, const G_FIRST: bool>(
        simd: Simd,
        rows: [&[u8]; 5],
        out: &mut [u8],
        n: usize,
        max: i16,
    ) -> usize {
        #[cfg(target_arch = "x86_64")]
        if simd.avx2 && max == 255 {
            // SAFETY: `simd.avx2` is only true when the CPU has AVX2.
            return unsafe { avx2::mhc_pairs::<C, G_FIRST>(rows, out, n) };
        }
        let _ = (simd, rows, out, n, max);
        0
    }
}

impl Px for u16 {
    px_arithmetic!(u16, u32, i32);
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/// Bilinear demosaicing of an 8-bit Bayer mosaic into interleaved RGB8.
///
/// `src` holds `width * height` samples (row-major, no padding), `dst_rgb`
/// receives `3 * width * height` samples. Bit-exact with OpenCV's
/// `cvtColor(.., COLOR_Bayer??2RGB)` for images of at least 3×3 (see the
/// [module documentation](self) for the pattern mapping and border rule).
pub fn bilinear_u8(
    pattern: BayerPattern,
    width: usize,
    height: usize,
    src: &[u8],
    dst_rgb: &mut [u8],
) -> Result<(), DemosaicError> {
    let (src, dst) = check(width, height, src, dst_rgb)?;
    bilinear_dispatch(pattern, width, height, src, dst);
    Ok(())
}

/// Bilinear demosaicing of a 16-bit Bayer mosaic into interleaved RGB16.
///
/// Same layout, border rule and rounding as [`bilinear_u8`]; the output never
/// exceeds the largest input sample, so no bit depth is needed.
pub fn bilinear_u16(
    pattern: BayerPattern,
    width: usize,
    height: usize,
    src: &[u16],
    dst_rgb: &mut [u16],
) -> Result<(), DemosaicError> {
    let (src, dst) = check(width, height, src, dst_rgb)?;
    bilinear_dispatch(pattern, width, height, src, dst);
    Ok(())
}

/// Malvar-He-Cutler demosaicing of an 8-bit Bayer mosaic into RGB8.
///
/// Results are rounded half up and clipped to `0..=255`. The two-pixel
/// border ring uses the bilinear result (see the
/// [module documentation](self)).
pub fn mhc_u8(
    pattern: BayerPattern,
    width: usize,
    height: usize,
    src: &[u8],
    dst_rgb: &mut [u8],
) -> Result<(), DemosaicError> {
    let (src, dst) = check(width, height, src, dst_rgb)?;
    mhc_dispatch(pattern, width, height, src, dst, 255i16);
    Ok(())
}

/// Malvar-He-Cutler demosaicing of a 16-bit Bayer mosaic into RGB16.
///
/// `bit_depth` (1..=16) gives the sample range: results are clipped to
/// `0..=(1 << bit_depth) - 1` (e.g. 12 for `BayerRG12` unpacked into u16).
pub fn mhc_u16(
    pattern: BayerPattern,
    width: usize,
    height: usize,
    src: &[u16],
    dst_rgb: &mut [u16],
    bit_depth: u32,
) -> Result<(), DemosaicError> {
    if !(1..=16).contains(&bit_depth) {
        return Err(DemosaicError::InvalidBitDepth(bit_depth));
    }
    let (src, dst) = check(width, height, src, dst_rgb)?;
    let max = ((1u32 << bit_depth) - 1) as i32;
    mhc_dispatch(pattern, width, height, src, dst, max);
    Ok(())
}

/// Validates sizes and returns the exact-length buffers.
fn check<'a, 'b, T>(
    width: usize,
    height: usize,
    src: &'a [T],
    dst: &'b mut [T],
) -> Result<(&'a [T], &'b mut [T]), DemosaicError> {
    let n = width
        .checked_mul(height)
        .ok_or(DemosaicError::SizeOverflow { width, height })?;
    let n3 = n
        .checked_mul(3)
        .ok_or(DemosaicError::SizeOverflow { width, height })?;
    if src.len() < n {
        return Err(DemosaicError::SourceTooShort {
            needed: n,
            actual: src.len(),
        });
    }
    if dst.len() < n3 {
        return Err(DemosaicError::DestinationTooShort {
            needed: n3,
            actual: dst.len(),
        });
    }
    Ok((&src[..n], &mut dst[..n3]))
}

// ---------------------------------------------------------------------------
// Small images: generic clipped-window rule
// ---------------------------------------------------------------------------

/// Per-pixel fallback for images smaller than 3 pixels in some dimension.
fn small_image<T: Px>(p: BayerPattern, w: usize, h: usize, src: &[T], dst: &mut [T]) {
    for y in 0..h {
        for x in 0..w {
            let own = p.channel_at(x, y);
            let mut sum = [0u32; 3];
            let mut cnt = [0u32; 3];
            for yy in y.saturating_sub(1)..(y + 2).min(h) {
                for xx in x.saturating_sub(1)..(x + 2).min(w) {
                    let c = p.channel_at(xx, yy);
                    sum[c] += src[yy * w + xx].to_u32();
                    cnt[c] += 1;
                }
            }
            let o = &mut dst[(y * w + x) * 3..(y * w + x) * 3 + 3];
            for c in 0..3 {
                o[c] = if c == own {
                    src[y * w + x]
                } else {
                    // no sample of that colour in the window -> 0
                    (sum[c] + cnt[c] / 2)
                        .checked_div(cnt[c])
                        .map_or(T::default(), T::from_u32_clamped)
                };
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Bilinear
// ---------------------------------------------------------------------------

/// Bilinear value of the single interior pixel `x` (1 <= x <= w-2) of the
/// row `mid` into `o` (3 samples).
#[inline(always)]
fn bil_px<T: Px>(p: BayerPattern, y: usize, x: usize, up: &[T], mid: &[T], dn: &[T], o: &mut [T]) {
    let c = p.channel_at(x, y);
    if c == 1 {
        let hc = p.channel_at(x + 1, y);
        o[hc] = T::avg2(mid[x - 1], mid[x + 1]);
        o[2 - hc] = T::avg2(up[x], dn[x]);
        o[1] = mid[x];
    } else {
        o[c] = mid[x];
        o[1] = T::avg4(mid[x - 1], mid[x + 1], up[x], dn[x]);
        o[2 - c] = T::avg4(up[x - 1], up[x + 1], dn[x - 1], dn[x + 1]);
    }
}

/// Fast interior loop of one bilinear output row: pixels 1..=2n as n pairs
/// starting at x = 1, of which the first `start` are already written.
/// `C` is the channel (0 or 2) of the R/B samples of this row; `G_FIRST`
/// tells whether x = 1 is green.
#[inline(always)]
fn bil_pairs<T: Px, const C: usize, const G_FIRST: bool>(
    up: &[T],
    mid: &[T],
    dn: &[T],
    out: &mut [T],
    start: usize,
    n: usize,
) {
    let len = 2 * n + 2;
    let (up, mid, dn) = (&up[..len], &mid[..len], &dn[..len]);
    let out = &mut out[3..3 + 6 * n];
    let o_ch = 2 - C;
    for (i, o) in out.chunks_exact_mut(6).enumerate().skip(start) {
        let u: &[T; 4] = up[2 * i..2 * i + 4].try_into().unwrap();
        let m: &[T; 4] = mid[2 * i..2 * i + 4].try_into().unwrap();
        let d: &[T; 4] = dn[2 * i..2 * i + 4].try_into().unwrap();
        let o: &mut [T; 6] = o.try_into().unwrap();
        // pixel A at column 1 of the window, pixel B at column 2.
        if G_FIRST {
            o[C] = T::avg2(m[0], m[2]);
            o[1] = m[1];
            o[o_ch] = T::avg2(u[1], d[1]);
            o[3 + C] = m[2];
            o[3 + 1] = T::avg4(m[1], m[3], u[2], d[2]);
            o[3 + o_ch] = T::avg4(u[1], u[3], d[1], d[3]);
        } else {
            o[C] = m[1];
            o[1] = T::avg4(m[0], m[2], u[1], d[1]);
            o[o_ch] = T::avg4(u[0], u[2], d[0], d[2]);
            o[3 + C] = T::avg2(m[1], m[3]);
            o[3 + 1] = m[2];
            o[3 + o_ch] = T::avg2(u[2], d[2]);
        }
    }
}

/// One complete bilinear output row `y` (1 <= y <= h-2) for w >= 3,
/// including the replicated first and last column.
#[inline(always)]
fn bil_row<T: Px>(
    simd: Simd,
    p: BayerPattern,
    y: usize,
    up: &[T],
    mid: &[T],
    dn: &[T],
    out: &mut [T],
) {
    let w = mid.len();
    let n = (w - 2) / 2;
    let rb = if p.channel_at(0, y) == 1 {
        p.channel_at(1, y)
    } else {
        p.channel_at(0, y)
    };
    let g_first = p.channel_at(1, y) == 1;
    fn run<T: Px, const C: usize, const G: bool>(
        simd: Simd,
        up: &[T],
        mid: &[T],
        dn: &[T],
        out: &mut [T],
        n: usize,
    ) {
        let done = T::bil_pairs_simd::<C, G>(simd, up, mid, dn, out, n);
        bil_pairs::<T, C, G>(up, mid, dn, out, done, n);
    }
    match (rb, g_first) {
        (0, true) => run::<T, 0, true>(simd, up, mid, dn, out, n),
        (0, false) => run::<T, 0, false>(simd, up, mid, dn, out, n),
        (_, true) => run::<T, 2, true>(simd, up, mid, dn, out, n),
        (_, false) => run::<T, 2, false>(simd, up, mid, dn, out, n),
    }
    if 2 * n + 1 < w - 1 {
        // one interior pixel left at x = w - 2
        let x = w - 2;
        bil_px(p, y, x, up, mid, dn, &mut out[3 * x..3 * x + 3]);
    }
    out.copy_within(3..6, 0);
    out.copy_within(3 * (w - 2)..3 * (w - 1), 3 * (w - 1));
}

/// Output rows `y0..` (as many as `dst` holds) of a bilinear demosaic of a
/// `w`×`h` image (w, h >= 3); `src_row(y)` returns source row `y`, and is
/// asked for rows `y0 - 1 ..= y_end + 1` clamped to the image. Border rows
/// repeat rows 1 and h-2.
#[inline(always)]
fn bilinear_band<'a, T: Px + 'a>(
    simd: Simd,
    p: BayerPattern,
    w: usize,
    h: usize,
    y0: usize,
    src_row: impl Fn(usize) -> &'a [T],
    dst: &mut [T],
) {
    for (i, out) in dst.chunks_exact_mut(3 * w).enumerate() {
        let y = (y0 + i).clamp(1, h - 2);
        bil_row(simd, p, y, src_row(y - 1), src_row(y), src_row(y + 1), out);
    }
}

fn bilinear_dispatch<T: Px>(p: BayerPattern, w: usize, h: usize, src: &[T], dst: &mut [T]) {
    if w == 0 || h == 0 {
        return;
    }
    if w < 3 || h < 3 {
        small_image(p, w, h, src, dst);
        return;
    }
    let simd = Simd::detect();
    let row = |y: usize| &src[y * w..(y + 1) * w];
    simd.run(|| bilinear_band(simd, p, w, h, 0, row, dst));
}

/// Bilinear output rows `y0..` (as many as `dst` holds, `3 * w` samples
/// each) of a `w`×`h` 8-bit mosaic (w, h >= 3) whose rows `src_row` returns
/// (asked for rows `y0 - 1 ..= y_end + 1`, clamped to the image): the band
/// form of [`bilinear_u8`] for pipelines that prepare rows on the fly.
pub(crate) fn bilinear_band_u8<'a>(
    p: BayerPattern,
    (w, h): (usize, usize),
    y0: usize,
    src_row: impl Fn(usize) -> &'a [u8],
    dst: &mut [u8],
) {
    let simd = Simd::detect();
    simd.run(|| bilinear_band(simd, p, w, h, y0, src_row, dst));
}

/// Malvar-He-Cutler output rows `y0..` of a `w`×`h` 8-bit mosaic
/// (w, h >= 5) whose rows `src_row` returns (asked for rows
/// `y0 - 2 ..= y_end + 2`, clamped): the band form of [`mhc_u8`].
pub(crate) fn mhc_band_u8<'a>(
    p: BayerPattern,
    (w, h): (usize, usize),
    y0: usize,
    src_row: impl Fn(usize) -> &'a [u8],
    dst: &mut [u8],
) {
    let simd = Simd::detect();
    simd.run(|| mhc_band(simd, p, (w, h), y0, src_row, dst, 255));
}

// ---------------------------------------------------------------------------
// Malvar-He-Cutler
// ---------------------------------------------------------------------------

/// MHC kernels on a 5-row window, centre column `j` of the slices.
/// All weights are doubled (sum 16) so that they are integers.
#[inline(always)]
fn mhc_g_at_rb<T: Px, const N: usize>(r: &[[T; N]; 5], j: usize) -> T::W {
    // G at R/B: 4*c + 2*(cross G) - (cross same colour at distance 2), /8
    let k = T::k;
    k(8) * r[2][j].w() + k(4) * (r[1][j].w() + r[3][j].w() + r[2][j - 1].w() + r[2][j + 1].w())
        - k(2) * (r[0][j].w() + r[4][j].w() + r[2][j - 2].w() + r[2][j + 2].w())
}

#[inline(always)]
fn mhc_horiz<T: Px, const N: usize>(r: &[[T; N]; 5], j: usize) -> T::W {
    // colour of the horizontal neighbours at a green pixel:
    // 5*c + 4*(h) - (h G at 2) - (diag G) + 1/2 (v G at 2), /8
    let k = T::k;
    k(10) * r[2][j].w() + k(8) * (r[2][j - 1].w() + r[2][j + 1].w())
        - k(2)
            * (r[2][j - 2].w()
                + r[2][j + 2].w()
                + r[1][j - 1].w()
                + r[1][j + 1].w()
                + r[3][j - 1].w()
                + r[3][j + 1].w())
        + (r[0][j].w() + r[4][j].w())
}

#[inline(always)]
fn mhc_vert<T: Px, const N: usize>(r: &[[T; N]; 5], j: usize) -> T::W {
    let k = T::k;
    k(10) * r[2][j].w() + k(8) * (r[1][j].w() + r[3][j].w())
        - k(2)
            * (r[0][j].w()
                + r[4][j].w()
                + r[1][j - 1].w()
                + r[1][j + 1].w()
                + r[3][j - 1].w()
                + r[3][j + 1].w())
        + (r[2][j - 2].w() + r[2][j + 2].w())
}

#[inline(always)]
fn mhc_diag<T: Px, const N: usize>(r: &[[T; N]; 5], j: usize) -> T::W {
    // R at B (and B at R): 6*c + 2*(diag) - 3/2*(cross at 2), /8
    let k = T::k;
    k(12) * r[2][j].w()
        + k(4) * (r[1][j - 1].w() + r[1][j + 1].w() + r[3][j - 1].w() + r[3][j + 1].w())
        - k(3) * (r[0][j].w() + r[4][j].w() + r[2][j - 2].w() + r[2][j + 2].w())
}

/// Writes the MHC result of window column `j` (a pixel of channel `own`,
/// whose row's R/B channel is `c`) into `o`.
#[inline(always)]
fn mhc_px<T: Px, const N: usize>(
    r: &[[T; N]; 5],
    j: usize,
    own: usize,
    c: usize,
    max: T::W,
    o: &mut [T],
) {
    if own == 1 {
        o[c] = T::finish(mhc_horiz(r, j), max);
        o[1] = r[2][j];
        o[2 - c] = T::finish(mhc_vert(r, j), max);
    } else {
        o[c] = r[2][j];
        o[1] = T::finish(mhc_g_at_rb(r, j), max);
        o[2 - c] = T::finish(mhc_diag(r, j), max);
    }
}

/// Fast interior loop of one MHC row: n pairs starting at x = 2, of which
/// the first `start` are already written.
#[inline(always)]
fn mhc_pairs<T: Px, const C: usize, const G_FIRST: bool>(
    rows: [&[T]; 5],
    out: &mut [T],
    start: usize,
    n: usize,
    max: T::W,
) {
    let len = 2 * n + 4;
    let [r0, r1, r2, r3, r4] = rows;
    let (r0, r1, r2, r3, r4) = (&r0[..len], &r1[..len], &r2[..len], &r3[..len], &r4[..len]);
    let out = &mut out[6..6 + 6 * n];
    for (i, o) in out.chunks_exact_mut(6).enumerate().skip(start) {
        let a6 = |r: &[T]| -> [T; 6] { r[2 * i..2 * i + 6].try_into().unwrap() };
        let win: [[T; 6]; 5] = [a6(r0), a6(r1), a6(r2), a6(r3), a6(r4)];
        let (a, b) = o.split_at_mut(3);
        if G_FIRST {
            mhc_px(&win, 2, 1, C, max, a);
            mhc_px(&win, 3, C, C, max, b);
        } else {
            mhc_px(&win, 2, C, C, max, a);
            mhc_px(&win, 3, 1, C, max, b);
        }
    }
}

/// One MHC output row `y` (2 <= y <= h-3) for w >= 5 and h >= 5.
#[inline(always)]
fn mhc_row<T: Px>(
    simd: Simd,
    p: BayerPattern,
    y: usize,
    rows: [&[T]; 5],
    out: &mut [T],
    max: T::W,
) {
    let w = rows[2].len();
    let n = (w - 4) / 2;
    let rb = if p.channel_at(0, y) == 1 {
        p.channel_at(1, y)
    } else {
        p.channel_at(0, y)
    };
    let g_first = p.channel_at(0, y) == 1;
    fn run<T: Px, const C: usize, const G: bool>(
        simd: Simd,
        rows: [&[T]; 5],
        out: &mut [T],
        n: usize,
        max: T::W,
    ) {
        let done = T::mhc_pairs_simd::<C, G>(simd, rows, out, n, max);
        mhc_pairs::<T, C, G>(rows, out, done, n, max);
    }
    match (rb, g_first) {
        (0, true) => run::<T, 0, true>(simd, rows, out, n, max),
        (0, false) => run::<T, 0, false>(simd, rows, out, n, max),
        (_, true) => run::<T, 2, true>(simd, rows, out, n, max),
        (_, false) => run::<T, 2, false>(simd, rows, out, n, max),
    }
    if 2 * n + 2 < w - 2 {
        // one interior pixel left at x = w - 3
        let x = w - 3;
        let a5 = |r: &[T]| -> [T; 5] { r[x - 2..x + 3].try_into().unwrap() };
        let win: [[T; 5]; 5] = [
            a5(rows[0]),
            a5(rows[1]),
            a5(rows[2]),
            a5(rows[3]),
            a5(rows[4]),
        ];
        mhc_px(
            &win,
            2,
            p.channel_at(x, y),
            rb,
            max,
            &mut out[3 * x..3 * x + 3],
        );
    }
    // two-pixel border columns: bilinear value (clamped to x = 1 / w - 2)
    let (up, mid, dn) = (rows[1], rows[2], rows[3]);
    bil_px(p, y, 1, up, mid, dn, &mut out[3..6]);
    out.copy_within(3..6, 0);
    bil_px(p, y, w - 2, up, mid, dn, &mut out[3 * (w - 2)..3 * (w - 1)]);
    out.copy_within(3 * (w - 2)..3 * (w - 1), 3 * (w - 1));
}

/// Output rows `y0..` (as many as `dst` holds) of a Malvar-He-Cutler
/// demosaic of a `w`×`h` image (w, h >= 5); `src_row(y)` returns source
/// row `y` and is asked for rows `y0 - 2 ..= y_end + 2` clamped to the image.
#[inline(always)]
fn mhc_band<'a, T: Px + 'a>(
    simd: Simd,
    p: BayerPattern,
    (w, h): (usize, usize),
    y0: usize,
    src_row: impl Fn(usize) -> &'a [T],
    dst: &mut [T],
    max: T::W,
) {
    for (i, out) in dst.chunks_exact_mut(3 * w).enumerate() {
        let y = y0 + i;
        if y < 2 || y + 2 >= h {
            // bilinear rows 1 and h-2, replicated onto rows 0 and h-1
            let yy = y.clamp(1, h - 2);
            bil_row(
                simd,
                p,
                yy,
                src_row(yy - 1),
                src_row(yy),
                src_row(yy + 1),
                out,
            );
        } else {
            let rows = [
                src_row(y - 2),
                src_row(y - 1),
                src_row(y),
                src_row(y + 1),
                src_row(y + 2),
            ];
            mhc_row(simd, p, y, rows, out, max);
        }
    }
}

fn mhc_dispatch<T: Px>(p: BayerPattern, w: usize, h: usize, src: &[T], dst: &mut [T], max: T::W) {
    if w < 5 || h < 5 {
        bilinear_dispatch(p, w, h, src, dst);
        return;
    }
    let simd = Simd::detect();
    let row = |y: usize| &src[y * w..(y + 1) * w];
    simd.run(|| mhc_band(simd, p, (w, h), 0, row, dst, max));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn errors() {
        let mut d = [0u8; 12];
        assert_eq!(
            bilinear_u8(BayerPattern::RG, 2, 2, &[0; 3], &mut d),
            Err(DemosaicError::SourceTooShort {
                needed: 4,
                actual: 3
            })
        );
        assert_eq!(
            mhc_u8(BayerPattern::RG, 2, 2, &[0; 4], &mut d[..11]),
            Err(DemosaicError::DestinationTooShort {
                needed: 12,
                actual: 11
            })
        );
        assert!(matches!(
            bilinear_u8(BayerPattern::RG, usize::MAX, 2, &[], &mut d),
            Err(DemosaicError::SizeOverflow { .. })
        ));
        let mut d16 = [0u16; 12];
        assert_eq!(
            mhc_u16(BayerPattern::RG, 2, 2, &[0; 4], &mut d16, 17),
            Err(DemosaicError::InvalidBitDepth(17))
        );
        assert_eq!(bilinear_u8(BayerPattern::GB, 0, 0, &[], &mut []), Ok(()));
    }

    #[test]
    fn one_pixel_and_flat() {
        let mut d = [9u8; 3];
        bilinear_u8(BayerPattern::RG, 1, 1, &[200], &mut d).unwrap();
        assert_eq!(d, [200, 0, 0]);
        // A flat grey mosaic must give flat grey for every pattern and size.
        for p in BayerPattern::ALL {
            for (w, h) in [(1, 5), (2, 2), (3, 3), (5, 5), (6, 7), (9, 4)] {
                let src = vec![77u16; w * h];
                let mut a = vec![0u16; w * h * 3];
                let mut b = vec![0u16; w * h * 3];
                bilinear_u16(p, w, h, &src, &mut a).unwrap();
                mhc_u16(p, w, h, &src, &mut b, 8).unwrap();
                if w >= 2 && h >= 2 {
                    // (a 1-pixel-wide strip lacks one colour entirely -> 0)
                    assert!(a.iter().all(|&v| v == 77), "{p:?} {w}x{h}");
                }
                assert_eq!(a, b, "{p:?} {w}x{h}");
            }
        }
    }

    /// The vector kernels agree with the scalar ones on every pattern and
    /// on widths around their block sizes.
    #[test]
    fn simd_equals_scalar() {
        let simd = Simd::detect();
        let scalar = Simd { avx2: false };
        for w in (5..150).chain([2448]) {
            let h = 7;
            let src: Vec<u8> = (0..w * h)
                .map(|i| ((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
                .collect();
            let row = |y: usize| &src[y * w..(y + 1) * w];
            for p in BayerPattern::ALL {
                let mut a = vec![0u8; 3 * w * h];
                let mut b = vec![1u8; 3 * w * h];
                bilinear_band(simd, p, w, h, 0, row, &mut a);
                bilinear_band(scalar, p, w, h, 0, row, &mut b);
                assert_eq!(a, b, "bilinear {p:?} width {w}");
                mhc_band(simd, p, (w, h), 0, row, &mut a, 255);
                mhc_band(scalar, p, (w, h), 0, row, &mut b, 255);
                assert_eq!(a, b, "mhc {p:?} width {w}");
            }
        }
    }

    fn pattern() -> impl Strategy<Value = BayerPattern> {
        (0usize..4).prop_map(|i| BayerPattern::ALL[i])
    }

    proptest! {
        #[test]
        fn no_panic_u8(p in pattern(), w in 0usize..20, h in 0usize..20,
                       extra_s in -3isize..3, extra_d in -3isize..3, seed in any::<u64>()) {
            let sl = (w * h) as isize + extra_s;
            let dl = (w * h * 3) as isize + extra_d;
            let src: Vec<u8> = (0..sl.max(0) as u64)
                .map(|i| (seed.wrapping_mul(i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
                .collect();
            let mut dst = vec![0u8; dl.max(0) as usize];
            let ok = src.len() >= w * h && dst.len() >= w * h * 3;
            prop_assert_eq!(bilinear_u8(p, w, h, &src, &mut dst).is_ok(), ok);
            prop_assert_eq!(mhc_u8(p, w, h, &src, &mut dst).is_ok(), ok);
        }

        #[test]
        fn no_panic_u16_in_range(p in pattern(), w in 0usize..20, h in 0usize..20,
                                 bits in 1u32..=16, extra in -3isize..3, seed in any::<u64>()) {
            let max = (1u32 << bits) - 1;
            let n = w * h;
            let src: Vec<u16> = (0..n as u64)
                .map(|i| ((seed.wrapping_mul(i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32 & max) as u16)
                .collect();
            let dl = (n * 3) as isize + extra;
            let mut dst = vec![0u16; dl.max(0) as usize];
            let ok = dst.len() >= n * 3;
            prop_assert_eq!(mhc_u16(p, w, h, &src, &mut dst, bits).is_ok(), ok);
            if ok {
                prop_assert!(dst.iter().all(|&v| v as u32 <= max));
            }
            prop_assert_eq!(bilinear_u16(p, w, h, &src, &mut dst).is_ok(), ok);
            if ok {
                prop_assert!(dst.iter().all(|&v| v as u32 <= max));
            }
        }
    }
}
