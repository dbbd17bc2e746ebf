//! AVX2 kernels for 8-bit demosaicing.
//!
//! Written with intrinsics because the portable loops in the parent module
//! do not vectorise well: every output pixel needs samples of both column
//! parities and the result must be interleaved into RGB triples, which the
//! compiler turns into scalar code. These kernels work on 32 pixels (16
//! column pairs) at a time:
//!
//! * one unaligned 32-byte load of a row at column `2i` seen as sixteen
//!   16-bit lanes gives the even columns (low bytes) and the odd columns
//!   (high bytes) of sixteen pairs, so every neighbour is a mask or a shift
//!   away and all arithmetic happens in 16-bit lanes without overflow;
//! * the two pixels of a pair are recombined into one byte vector per
//!   colour plane (`a | b << 8`), in pixel order;
//! * three planes are interleaved into 96 RGB bytes with byte shuffles.
//!
//! Results are bit-identical to the scalar kernels (the tests compare them
//! on random images of every pattern and many widths).

use std::arch::x86_64::*;

/// Planes of one 32-pixel block in 16-bit lanes: lane `k` holds pixel `2k`
/// (`a`) and pixel `2k + 1` (`b`) of the block.
#[derive(Clone, Copy)]
struct Pair {
    a: __m256i,
    b: __m256i,
}

/// Even and odd columns of 16 pairs starting at `p` (32 bytes read).
#[inline(always)]
unsafe fn split(p: *const u8) -> (__m256i, __m256i) {
    let v = _mm256_loadu_si256(p as *const __m256i);
    let lo = _mm256_and_si256(v, _mm256_set1_epi16(0x00ff));
    let hi = _mm256_srli_epi16::<8>(v);
    (lo, hi)
}

/// `(a + b + c + d + 2) >> 2` in 16-bit lanes.
#[inline(always)]
unsafe fn avg4(a: __m256i, b: __m256i, c: __m256i, d: __m256i) -> __m256i {
    let s = _mm256_add_epi16(_mm256_add_epi16(a, b), _mm256_add_epi16(c, d));
    _mm256_srli_epi16::<2>(_mm256_add_epi16(s, _mm256_set1_epi16(2)))
}

/// Recombines a pair of 16-bit lane vectors (values 0..=255) into 32 bytes
/// in pixel order.
#[inline(always)]
unsafe fn join(p: Pair) -> __m256i {
    _mm256_or_si256(p.a, _mm256_slli_epi16::<8>(p.b))
}

/// Shuffle masks that place plane `c`'s bytes of 16 pixels into output
/// block `t` (bytes `16t..16t+16` of the 48-byte RGB run of those pixels).
const fn mask(t: usize, c: usize) -> [i8; 16] {
    let mut m = [-128i8; 16];
    let mut j = 0;
    while j < 16 {
        let q = 16 * t + j;
        if q % 3 == c {
            m[j] = (q / 3) as i8;
        }
        j += 1;
    }
    m
}

const MASKS: [[[i8; 16]; 3]; 3] = [
    [mask(0, 0), mask(0, 1), mask(0, 2)],
    [mask(1, 0), mask(1, 1), mask(1, 2)],
    [mask(2, 0), mask(2, 1), mask(2, 2)],
];

#[inline(always)]
unsafe fn load_mask(m: &[i8; 16]) -> __m256i {
    _mm256_broadcastsi128_si256(_mm_loadu_si128(m.as_ptr() as *const __m128i))
}

/// Interleaves three 32-byte planes into 96 bytes of RGB at `out`.
#[inline(always)]
unsafe fn store_rgb(r: __m256i, g: __m256i, b: __m256i, out: *mut u8) {
    let mut blocks = [_mm256_setzero_si256(); 3];
    for (t, block) in blocks.iter_mut().enumerate() {
        let sr = _mm256_shuffle_epi8(r, load_mask(&MASKS[t][0]));
        let sg = _mm256_shuffle_epi8(g, load_mask(&MASKS[t][1]));
        let sb = _mm256_shuffle_epi8(b, load_mask(&MASKS[t][2]));
        *block = _mm256_or_si256(_mm256_or_si256(sr, sg), sb);
    }
    // Each 128-bit lane holds the RGB of 16 pixels: low lanes are pixels
    // 0..16 (bytes 0..48), high lanes pixels 16..32 (bytes 48..96).
    let [b0, b1, b2] = blocks;
    let o = out as *mut __m256i;
    _mm256_storeu_si256(o, _mm256_permute2x128_si256::<0x20>(b0, b1));
    _mm256_storeu_si256(o.add(1), _mm256_permute2x128_si256::<0x30>(b2, b0));
    _mm256_storeu_si256(o.add(2), _mm256_permute2x128_si256::<0x31>(b1, b2));
}

/// Places the planes of the row's own R/B channel `C`, green and the other
/// R/B channel into RGB order and stores them.
#[inline(always)]
unsafe fn store_planes<const C: usize>(own: Pair, green: Pair, other: Pair, out: *mut u8) {
    let (own, green, other) = (join(own), join(green), join(other));
    if C == 0 {
        store_rgb(own, green, other, out);
    } else {
        store_rgb(other, green, own, out);
    }
}

/// Bilinear interior of one row for pairs `0..n` (pair `i` = pixels at
/// `x = 2i + 1` and `2i + 2`), in blocks of 16 pairs; returns how many pairs
/// it wrote (a multiple of 16). Same contract as the scalar `bil_pairs`:
/// `up`, `mid`, `dn` are whole rows, `out` the whole output row.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn bilinear_pairs<const C: usize, const G_FIRST: bool>(
    up: &[u8],
    mid: &[u8],
    dn: &[u8],
    out: &mut [u8],
    n: usize,
) -> usize {
    let w = mid.len();
    if up.len() < w || dn.len() < w || out.len() < 3 * w {
        return 0;
    }
    // A block of 16 pairs at pair i reads columns 2i..2i+34 and writes
    // pixels 2i+1..2i+33; the rows are w long.
    let blocks = if w >= 34 {
        ((w - 34) / 32 + 1).min(n / 16)
    } else {
        0
    };
    for blk in 0..blocks {
        let x0 = 32 * blk;
        // SAFETY: x0 + 34 <= w by the choice of `blocks`, and the output
        // run 3 * (x0 + 1) .. 3 * (x0 + 33) lies inside the 3w-byte row.
        let (u0, u1) = split(up.as_ptr().add(x0));
        let (u2, u3) = split(up.as_ptr().add(x0 + 2));
        let (m0, m1) = split(mid.as_ptr().add(x0));
        let (m2, m3) = split(mid.as_ptr().add(x0 + 2));
        let (d0, d1) = split(dn.as_ptr().add(x0));
        let (d2, d3) = split(dn.as_ptr().add(x0 + 2));
        let (own, green, other);
        if G_FIRST {
            own = Pair {
                a: _mm256_avg_epu16(m0, m2),
                b: m2,
            };
            green = Pair {
                a: m1,
                b: avg4(m1, m3, u2, d2),
            };
            other = Pair {
                a: _mm256_avg_epu16(u1, d1),
                b: avg4(u1, u3, d1, d3),
            };
        } else {
            own = Pair {
                a: m1,
                b: _mm256_avg_epu16(m1, m3),
            };
            green = Pair {
                a: avg4(m0, m2, u1, d1),
                b: m2,
            };
            other = Pair {
                a: avg4(u0, u2, d0, d2),
                b: _mm256_avg_epu16(u2, d2),
            };
        }
        store_planes::<C>(own, green, other, out.as_mut_ptr().add(3 * (x0 + 1)));
    }
    blocks * 16
}

/// `v * k` in 16-bit lanes.
#[inline(always)]
unsafe fn mul(v: __m256i, k: i16) -> __m256i {
    _mm256_mullo_epi16(v, _mm256_set1_epi16(k))
}

#[inline(always)]
unsafe fn add(a: __m256i, b: __m256i) -> __m256i {
    _mm256_add_epi16(a, b)
}

#[inline(always)]
unsafe fn sub(a: __m256i, b: __m256i) -> __m256i {
    _mm256_sub_epi16(a, b)
}

/// The 5×5 neighbourhood of sixteen pixels of the same column parity:
/// `r[row][dx + 2]` is the sample at row offset `row - 2`, column offset
/// `dx`.
type Win = [[__m256i; 5]; 5];

/// `(acc + 8) >> 4` clipped to `0..=255`.
#[inline(always)]
unsafe fn finish(acc: __m256i) -> __m256i {
    let v = _mm256_srai_epi16::<4>(add(acc, _mm256_set1_epi16(8)));
    _mm256_min_epi16(
        _mm256_max_epi16(v, _mm256_setzero_si256()),
        _mm256_set1_epi16(255),
    )
}

/// Green at a red or blue pixel (weights ×2 of Malvar-He-Cutler's).
#[inline(always)]
unsafe fn g_at_rb(r: &Win) -> __m256i {
    let cross = add(add(r[1][2], r[3][2]), add(r[2][1], r[2][3]));
    let far = add(add(r[0][2], r[4][2]), add(r[2][0], r[2][4]));
    finish(sub(add(mul(r[2][2], 8), mul(cross, 4)), mul(far, 2)))
}

/// Diagonal-neighbour diagonal sum and the four same-row/column samples
/// at distance one shared by the green-pixel kernels.
#[inline(always)]
unsafe fn diag_sum(r: &Win) -> __m256i {
    add(add(r[1][1], r[1][3]), add(r[3][1], r[3][3]))
}

/// The colour of the horizontal neighbours at a green pixel.
#[inline(always)]
unsafe fn horiz(r: &Win) -> __m256i {
    let near = add(r[2][1], r[2][3]);
    let minus = add(add(r[2][0], r[2][4]), diag_sum(r));
    let plus = add(r[0][2], r[4][2]);
    finish(add(
        sub(add(mul(r[2][2], 10), mul(near, 8)), mul(minus, 2)),
        plus,
    ))
}

/// The colour of the vertical neighbours at a green pixel.
#[inline(always)]
unsafe fn vert(r: &Win) -> __m256i {
    let near = add(r[1][2], r[3][2]);
    let minus = add(add(r[0][2], r[4][2]), diag_sum(r));
    let plus = add(r[2][0], r[2][4]);
    finish(add(
        sub(add(mul(r[2][2], 10), mul(near, 8)), mul(minus, 2)),
        plus,
    ))
}

/// Red at a blue pixel and blue at a red pixel.
#[inline(always)]
unsafe fn diag(r: &Win) -> __m256i {
    let far = add(add(r[0][2], r[4][2]), add(r[2][0], r[2][4]));
    finish(sub(add(mul(r[2][2], 12), mul(diag_sum(r), 4)), mul(far, 3)))
}

/// Malvar-He-Cutler interior of one row for pairs `0..n` (pair `i` =
/// pixels at `x = 2i + 2` and `2i + 3`), 8-bit samples, in blocks of 16
/// pairs; returns how many pairs it wrote (a multiple of 16). Same contract
/// as the scalar `mhc_pairs`: `rows` are whole rows `y-2..=y+2`, `out` the
/// whole output row.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn mhc_pairs<const C: usize, const G_FIRST: bool>(
    rows: [&[u8]; 5],
    out: &mut [u8],
    n: usize,
) -> usize {
    let w = rows[2].len();
    if rows.iter().any(|r| r.len() < w) || out.len() < 3 * w {
        return 0;
    }
    // A block of 16 pairs at pair i reads columns 2i..2i+36 and writes
    // pixels 2i+2..2i+34.
    let blocks = if w >= 36 {
        ((w - 36) / 32 + 1).min(n / 16)
    } else {
        0
    };
    for blk in 0..blocks {
        let x0 = 32 * blk;
        // even (a) and odd (b) windows: a is centred on column x0+2+2k,
        // b on x0+3+2k.
        let mut a: Win = [[_mm256_setzero_si256(); 5]; 5];
        let mut b: Win = a;
        for (k, row) in rows.iter().enumerate() {
            // SAFETY: x0 + 36 <= w by the choice of `blocks`.
            let p = row.as_ptr().add(x0);
            let (c0, c1) = split(p);
            let (c2, c3) = split(p.add(2));
            let (c4, c5) = split(p.add(4));
            a[k] = [c0, c1, c2, c3, c4];
            b[k] = [c1, c2, c3, c4, c5];
        }
        let (own, green, other);
        if G_FIRST {
            own = Pair {
                a: horiz(&a),
                b: b[2][2],
            };
            green = Pair {
                a: a[2][2],
                b: g_at_rb(&b),
            };
            other = Pair {
                a: vert(&a),
                b: diag(&b),
            };
        } else {
            own = Pair {
                a: a[2][2],
                b: horiz(&b),
            };
            green = Pair {
                a: g_at_rb(&a),
                b: b[2][2],
            };
            other = Pair {
                a: diag(&a),
                b: vert(&b),
            };
        }
        // SAFETY: the output run 3 * (x0 + 2) .. 3 * (x0 + 34) lies inside
        // the 3w-sample row.
        store_planes::<C>(own, green, other, out.as_mut_ptr().add(3 * (x0 + 2)));
    }
    blocks * 16
}
