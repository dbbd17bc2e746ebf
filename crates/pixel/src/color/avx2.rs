//! AVX2 kernel of the 8-bit colour matrix.
//!
//! Written with intrinsics because the portable loop needs 32-bit
//! multiplies on de-interleaved copies; here eight pixels are taken
//! straight from the interleaved RGB bytes: one shuffle makes (R, G) pairs
//! of 16-bit lanes and another the B lanes, so `vpmaddwd` computes
//! `m0·R + m1·G` and `m2·B` in 32 bits, and saturating packs clip the
//! results to 0..=255 on the way back to bytes. The arithmetic is exactly
//! that of the portable fixed-point path (same coefficients, offsets with
//! the rounding term, arithmetic shift), so results are bit-identical.

use std::arch::x86_64::*;

/// Coefficients of an 8-bit matrix prepared for [`apply`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Coefficients {
    /// Per output channel: `m0 | m1 << 16` (as 16-bit two's complement).
    pub(super) rg: [i32; 3],
    /// Per output channel: `m2` in the low 16 bits.
    pub(super) b: [i32; 3],
    /// Per output channel: offset plus the rounding term.
    pub(super) offset: [i32; 3],
}

impl Coefficients {
    /// The packed form of fixed-point coefficients with 14 fraction bits,
    /// if every coefficient fits in `i16`.
    pub(super) fn new(c: [[i32; 3]; 3], offset: [i32; 3]) -> Option<Self> {
        let mut rg = [0; 3];
        let mut b = [0; 3];
        for ch in 0..3 {
            let [m0, m1, m2] = c[ch].map(i16::try_from);
            let (m0, m1, m2) = (m0.ok()?, m1.ok()?, m2.ok()?);
            rg[ch] = (u32::from(m0 as u16) | u32::from(m1 as u16) << 16) as i32;
            b[ch] = i32::from(m2 as u16);
        }
        Some(Coefficients { rg, b, offset })
    }
}

/// Byte shuffles (per 128-bit lane holding four pixels in bytes 0..12).
const RG: [i8; 16] = [0, -1, 1, -1, 3, -1, 4, -1, 6, -1, 7, -1, 9, -1, 10, -1];
const B: [i8; 16] = [2, -1, -1, -1, 5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1];
/// From `[R0..4, G0..4, B0..4, B0..4]` to `R0 G0 B0 R1 ...` (12 bytes).
const INTERLEAVE: [i8; 16] = [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, -1, -1, -1, -1];

#[inline(always)]
unsafe fn mask(m: &[i8; 16]) -> __m256i {
    _mm256_broadcastsi128_si256(_mm_loadu_si128(m.as_ptr() as *const __m128i))
}

/// Applies the matrix (14 fraction bits, results clipped to 0..=255) in
/// place to the whole triples of `rgb`, eight pixels at a time; returns
/// how many bytes it processed (a multiple of 24), leaving the rest to the
/// portable loop.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn apply(rgb: &mut [u8], k: &Coefficients) -> usize {
    let (rg_mask, b_mask, out_mask) = (mask(&RG), mask(&B), mask(&INTERLEAVE));
    let spread = _mm256_setr_epi32(0, 1, 2, 2, 3, 4, 5, 5);
    let gather = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
    let krg = k.rg.map(|v| _mm256_set1_epi32(v));
    let kb = k.b.map(|v| _mm256_set1_epi32(v));
    let ko = k.offset.map(|v| _mm256_set1_epi32(v));
    let mut done = 0;
    // Each step reads 32 bytes and writes 24.
    while done + 32 <= rgb.len() {
        // SAFETY: done + 32 <= rgb.len().
        let p = rgb.as_mut_ptr().add(done);
        let v = _mm256_permutevar8x32_epi32(_mm256_loadu_si256(p as *const __m256i), spread);
        let rg = _mm256_shuffle_epi8(v, rg_mask);
        let b = _mm256_shuffle_epi8(v, b_mask);
        let ch = |c: usize| {
            let acc = _mm256_add_epi32(
                _mm256_add_epi32(_mm256_madd_epi16(rg, krg[c]), _mm256_madd_epi16(b, kb[c])),
                ko[c],
            );
            _mm256_srai_epi32::<14>(acc)
        };
        let (r, g, b) = (ch(0), ch(1), ch(2));
        let bytes = _mm256_packus_epi16(_mm256_packs_epi32(r, g), _mm256_packs_epi32(b, b));
        let out = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(bytes, out_mask), gather);
        _mm_storeu_si128(p as *mut __m128i, _mm256_castsi256_si128(out));
        _mm_storel_epi64(
            p.add(16) as *mut __m128i,
            _mm256_extracti128_si256::<1>(out),
        );
        done += 24;
    }
    done
}
