//! Tests of the pipeline steps: `levels`, `color`, `lut` and `ffc`.
//!
//! Identities, hand-computed examples, clipping at the bit-depth maximum,
//! agreement with straightforward `f64` references, and no panics for any
//! size from 0×0 to 19×19 with short buffers reported as errors.

use pixel::color::{
    apply_color_matrix, saturation_hue_matrix, wb_raw, white_balance_bayer, white_balance_rgb,
    white_balance_row_u8, ColorError, ColorMatrix, FixedMatrix,
};
use pixel::demosaic::BayerPattern;
use pixel::ffc::{
    apply_ffc, average_frames, calibrate, check_bright_field, gain_map, offset_map, FfcError,
    FlatField, GAIN_ONE,
};
use pixel::levels::{
    apply_gain, apply_gain_fixed, apply_levels, db_to_factor, digital_shift, factor_to_db,
    gain_to_fixed, subtract_black_level, Levels, LevelsError,
};
use pixel::lut::{apply_gamma, gamma_value, Lut12, Lut8, LutError};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// levels
// ---------------------------------------------------------------------------

#[test]
fn black_level_examples() {
    let mut d: Vec<u8> = vec![0, 5, 10, 11, 255, 128];
    subtract_black_level(&mut d, 3, 2, 1, 8, 10).unwrap();
    assert_eq!(d, [0, 0, 0, 1, 245, 118]);

    // 12-bit data in u16: 5000 is above the maximum and counts as 4095.
    let mut d: Vec<u16> = vec![64, 63, 4095, 5000];
    subtract_black_level(&mut d, 2, 1, 2, 12, 64).unwrap();
    assert_eq!(d, [0, 0, 4031, 4031]);

    // A level above the maximum blacks out everything.
    let mut d: Vec<u8> = vec![255, 7];
    subtract_black_level(&mut d, 2, 1, 1, 8, 1000).unwrap();
    assert_eq!(d, [0, 0]);

    // Only the prefix is touched.
    let mut d: Vec<u8> = vec![50, 50, 50];
    subtract_black_level(&mut d, 2, 1, 1, 8, 20).unwrap();
    assert_eq!(d, [30, 30, 50]);
}

#[test]
fn float_gain_examples() {
    // Round half up: 1.5 -> 2, 4.5 -> 5; 200 * 1.5 clips at 255.
    let mut d: Vec<u8> = vec![1, 3, 100, 200, 0];
    apply_gain(&mut d, 5, 1, 1, 8, 1.5).unwrap();
    assert_eq!(d, [2, 5, 150, 255, 0]);

    // 10-bit clip at 1023.
    let mut d: Vec<u16> = vec![600, 1023, 2];
    apply_gain(&mut d, 3, 1, 1, 10, 2.0).unwrap();
    assert_eq!(d, [1023, 1023, 4]);

    // Gain 0 gives black; invalid gains are refused.
    let mut d: Vec<u8> = vec![9, 255];
    apply_gain(&mut d, 2, 1, 1, 8, 0.0).unwrap();
    assert_eq!(d, [0, 0]);
    for g in [-0.5, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            apply_gain(&mut d, 2, 1, 1, 8, g),
            Err(LevelsError::InvalidGain(_))
        ));
    }
}

#[test]
fn float_gain_table_path_matches_direct_path() {
    // 300 samples > 256 entries uses the table; 1 sample computes directly.
    let src: Vec<u8> = (0..300u32).map(|i| (i * 7 % 256) as u8).collect();
    let mut big = src.clone();
    apply_gain(&mut big, 300, 1, 1, 8, 1.37).unwrap();
    for (i, &s) in src.iter().enumerate() {
        let mut one = [s];
        apply_gain(&mut one, 1, 1, 1, 8, 1.37).unwrap();
        assert_eq!(one[0], big[i], "sample {s}");
    }
}

#[test]
fn db_conversions() {
    assert_eq!(db_to_factor(0.0), 1.0);
    assert!((db_to_factor(20.0) - 10.0).abs() < 1e-12);
    assert!((db_to_factor(6.0) - 1.995_262_3).abs() < 1e-6);
    assert!((db_to_factor(-20.0) - 0.1).abs() < 1e-12);
    assert!((factor_to_db(db_to_factor(12.5)) - 12.5).abs() < 1e-9);
}

#[test]
fn fixed_gain_examples() {
    assert_eq!(gain_to_fixed(1.0, 8), Ok(256));
    assert_eq!(gain_to_fixed(1.5, 8), Ok(384));
    // 1/512 * 256 = 0.5 rounds up to 1.
    assert_eq!(gain_to_fixed(1.0 / 512.0, 8), Ok(1));
    assert_eq!(gain_to_fixed(3.0, 0), Ok(3));
    assert!(matches!(
        gain_to_fixed(1.0, 17),
        Err(LevelsError::InvalidFracBits(17))
    ));
    assert!(matches!(
        gain_to_fixed(-1.0, 8),
        Err(LevelsError::InvalidGain(_))
    ));
    assert!(matches!(
        gain_to_fixed(1e12, 16),
        Err(LevelsError::InvalidGain(_))
    ));

    // Q8.8 1.5: 1 -> 1.5 -> 2 (half up), 3 -> 4.5 -> 5, 171 -> 256.5 -> 255 (clip).
    let mut d: Vec<u8> = vec![1, 3, 100, 171];
    apply_gain_fixed(&mut d, 2, 2, 1, 8, 384, 8).unwrap();
    assert_eq!(d, [2, 5, 150, 255]);

    // 12-bit, Q4.12 gain 0.75: 4095 * 0.75 = 3071.25 -> 3071; 2 -> 1.5 -> 2.
    let mut d: Vec<u16> = vec![4095, 2, 6000];
    apply_gain_fixed(&mut d, 3, 1, 1, 12, 3072, 12).unwrap();
    assert_eq!(d, [3071, 2, 3071]);

    // 64-bit path: 16-bit data with a huge raw gain.
    let mut d: Vec<u16> = vec![1, 0, 65535];
    apply_gain_fixed(&mut d, 3, 1, 1, 16, 1 << 20, 16).unwrap();
    assert_eq!(d, [16, 0, 65535]);

    // frac_bits 0: integer gain, no rounding term.
    let mut d: Vec<u16> = vec![100, 300];
    apply_gain_fixed(&mut d, 2, 1, 1, 10, 3, 0).unwrap();
    assert_eq!(d, [300, 900]);
}

#[test]
fn digital_shift_examples() {
    let mut d: Vec<u8> = vec![1, 15, 16, 100];
    digital_shift(&mut d, 4, 1, 1, 8, 4).unwrap();
    assert_eq!(d, [16, 240, 255, 255]);

    let mut d: Vec<u16> = vec![255, 256, 1023];
    digital_shift(&mut d, 3, 1, 1, 10, 2).unwrap();
    assert_eq!(d, [1020, 1023, 1023]);

    let mut d: Vec<u16> = vec![1, 2];
    assert!(matches!(
        digital_shift(&mut d, 2, 1, 1, 12, 5),
        Err(LevelsError::InvalidShift(5))
    ));
    assert_eq!(d, [1, 2]);
}

#[test]
fn levels_errors() {
    let mut b = vec![0u8; 4];
    assert!(matches!(
        subtract_black_level(&mut b, 2, 2, 1, 9, 0),
        Err(LevelsError::InvalidBitDepth {
            bit_depth: 9,
            limit: 8
        })
    ));
    assert!(matches!(
        subtract_black_level(&mut b, 2, 2, 1, 0, 0),
        Err(LevelsError::InvalidBitDepth { .. })
    ));
    let mut w = vec![0u16; 4];
    assert!(matches!(
        apply_gain(&mut w, 2, 2, 1, 17, 1.0),
        Err(LevelsError::InvalidBitDepth {
            bit_depth: 17,
            limit: 16
        })
    ));
    assert!(matches!(
        digital_shift(&mut w, 2, 2, 0, 12, 1),
        Err(LevelsError::InvalidChannels(0))
    ));
    assert!(matches!(
        digital_shift(&mut w, usize::MAX, 2, 1, 12, 1),
        Err(LevelsError::SizeOverflow { .. })
    ));
    assert_eq!(
        apply_gain_fixed(&mut w, 3, 2, 1, 12, 256, 8),
        Err(LevelsError::BufferTooShort {
            needed: 6,
            actual: 4
        })
    );
    assert_eq!(
        apply_levels(&mut w, 2, 1, 3, 12, &Levels::IDENTITY),
        Err(LevelsError::BufferTooShort {
            needed: 6,
            actual: 4
        })
    );
    // Empty images are fine.
    apply_levels(&mut w, 0, 7, 3, 12, &Levels::IDENTITY).unwrap();
    apply_gain(&mut Vec::<u8>::new(), 0, 0, 1, 8, 2.0).unwrap();
}

fn u16_image(bit_depth: u32) -> impl Strategy<Value = Vec<u16>> {
    let max = (1u32 << bit_depth) - 1;
    prop::collection::vec(0..=max as u16, 0..200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn level_identities_u8(data in prop::collection::vec(any::<u8>(), 0..300)) {
        let n = data.len();
        let mut d = data.clone();
        subtract_black_level(&mut d, n, 1, 1, 8, 0).unwrap();
        apply_gain(&mut d, 1, n, 1, 8, 1.0).unwrap();
        apply_gain_fixed(&mut d, n, 1, 1, 8, 256, 8).unwrap();
        apply_gain_fixed(&mut d, n, 1, 1, 8, 1, 0).unwrap();
        digital_shift(&mut d, n, 1, 1, 8, 0).unwrap();
        apply_levels(&mut d, n, 1, 1, 8, &Levels::IDENTITY).unwrap();
        prop_assert_eq!(d, data);
    }

    #[test]
    fn level_identities_u16(depth in 1u32..=16, seed in any::<u64>()) {
        let max = (1u32 << depth) - 1;
        let data: Vec<u16> = (0..150u64)
            .map(|i| ((seed.wrapping_mul(i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as u32 % (max + 1)) as u16)
            .collect();
        let mut d = data.clone();
        subtract_black_level(&mut d, 50, 1, 3, depth, 0).unwrap();
        apply_gain(&mut d, 50, 1, 3, depth, 1.0).unwrap();
        apply_gain_fixed(&mut d, 50, 1, 3, depth, 1 << 12, 12).unwrap();
        digital_shift(&mut d, 50, 1, 3, depth, 0).unwrap();
        apply_levels(&mut d, 50, 1, 3, depth, &Levels { black_level: 0, gain_raw: 65536, frac_bits: 16, shift: 0 }).unwrap();
        prop_assert_eq!(d, data);
    }

    #[test]
    fn float_gain_matches_reference(data in u16_image(12), gain in 0.0f64..20.0) {
        let n = data.len();
        let mut d = data.clone();
        apply_gain(&mut d, n, 1, 1, 12, gain).unwrap();
        for (&s, &o) in data.iter().zip(&d) {
            let exact = (f64::from(s) * gain + 0.5).floor().min(4095.0);
            prop_assert_eq!(f64::from(o), exact);
        }
    }

    #[test]
    fn combined_levels_equal_sequential(
        data in u16_image(16),
        depth in 1u32..=16,
        black in 0u32..70000,
        frac in 0u32..=16,
        raw in 0u32..(1 << 22),
        shift in 0u32..=4,
    ) {
        let n = data.len();
        let mut seq = data.clone();
        subtract_black_level(&mut seq, n, 1, 1, depth, black).unwrap();
        apply_gain_fixed(&mut seq, n, 1, 1, depth, raw, frac).unwrap();
        digital_shift(&mut seq, n, 1, 1, depth, shift).unwrap();
        let mut one = data.clone();
        apply_levels(&mut one, n, 1, 1, depth, &Levels { black_level: black, gain_raw: raw, frac_bits: frac, shift }).unwrap();
        prop_assert_eq!(&seq, &one);
        let max = (1u32 << depth) - 1;
        for (&s, &o) in data.iter().zip(&one) {
            prop_assert!(u32::from(o) <= max);
            // Reference with u128 arithmetic.
            let v = u128::from(u32::from(s).min(max).saturating_sub(black));
            let half = (1u128 << frac) >> 1;
            let v = ((v * u128::from(raw) + half) >> frac).min(u128::from(max));
            let v = (v << shift).min(u128::from(max));
            prop_assert_eq!(u128::from(o), v);
        }
    }
}

// ---------------------------------------------------------------------------
// colour
// ---------------------------------------------------------------------------

#[test]
fn white_balance_bayer_examples() {
    for p in BayerPattern::ALL {
        let mut d = vec![100u8; 16];
        white_balance_bayer(&mut d, 4, 4, p, 8, [2.0, 1.0, 0.5]).unwrap();
        for y in 0..4 {
            for x in 0..4 {
                let want = [200, 100, 50][p.channel_at(x, y)];
                assert_eq!(d[y * 4 + x], want, "{p:?} ({x},{y})");
            }
        }
    }
    // Clipping at the 10-bit maximum and round half up (3 * 1.5 = 4.5 -> 5).
    let mut d: Vec<u16> = vec![600, 3, 3, 3, 1023, 1023];
    white_balance_bayer(&mut d, 3, 2, BayerPattern::RG, 10, [2.0, 1.5, 1.0]).unwrap();
    // Row 0: R G R; row 1: G B G.
    assert_eq!(d, [1023, 5, 6, 5, 1023, 1023]);
    // 16-bit data with a large gain takes the 64-bit path.
    let mut d: Vec<u16> = vec![30000, 30000];
    white_balance_bayer(&mut d, 2, 1, BayerPattern::GR, 16, [2.0, 1.0, 1.0]).unwrap();
    assert_eq!(d, [30000, 60000]);
}

#[test]
fn white_balance_rgb_examples() {
    let mut d: Vec<u8> = vec![100, 100, 100, 200, 3, 1];
    white_balance_rgb(&mut d, 2, 1, 8, [1.5, 1.5, 0.5]).unwrap();
    assert_eq!(d, [150, 150, 50, 255, 5, 1]);
    assert!(matches!(
        white_balance_rgb(&mut d, 2, 1, 8, [1.0, f32::NAN, 1.0]),
        Err(ColorError::InvalidGain { channel: 1, .. })
    ));
    assert!(matches!(
        white_balance_rgb(&mut d, 2, 1, 8, [1.0, 1.0, -1.0]),
        Err(ColorError::InvalidGain { channel: 2, .. })
    ));
    assert_eq!(
        white_balance_rgb(&mut d, 3, 1, 8, [1.0; 3]),
        Err(ColorError::BufferTooShort {
            needed: 9,
            actual: 6
        })
    );
}

#[test]
fn color_matrix_examples() {
    // Channel swap R<->B, offsets, clipping below 0 and above max.
    let m = ColorMatrix::new(
        [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
        [0.0, 10.0, -20.0],
    );
    let mut d: Vec<u8> = vec![10, 20, 30, 250, 250, 5];
    apply_color_matrix(&mut d, 2, 1, 8, &m).unwrap();
    assert_eq!(d, [30, 30, 0, 5, 255, 230]);

    // Half-up rounding: 0.5 * 3 = 1.5 -> 2, 0.5 * 5 = 2.5 -> 3.
    let half = ColorMatrix::from_matrix([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 0.5]]);
    let mut d: Vec<u8> = vec![3, 5, 0];
    apply_color_matrix(&mut d, 1, 1, 8, &half).unwrap();
    assert_eq!(d, [2, 3, 0]);
    // Same on 16-bit data (f32 path).
    let mut d: Vec<u16> = vec![3, 5, 65535];
    apply_color_matrix(&mut d, 1, 1, 16, &half).unwrap();
    assert_eq!(d, [2, 3, 32768]);

    // Invalid matrices.
    let mut bad = ColorMatrix::IDENTITY;
    bad.m[1][2] = f32::NAN;
    assert!(matches!(
        apply_color_matrix(&mut d, 1, 1, 16, &bad),
        Err(ColorError::InvalidMatrix(_))
    ));
    let mut bad = ColorMatrix::IDENTITY;
    bad.offset[0] = f32::INFINITY;
    assert!(matches!(
        apply_color_matrix(&mut d, 1, 1, 16, &bad),
        Err(ColorError::InvalidMatrix(_))
    ));
}

#[test]
fn saturation_hue_identity_and_properties() {
    let id = saturation_hue_matrix(1.0, 0.0).unwrap();
    assert_eq!(id, ColorMatrix::IDENTITY.m);
    assert!(ColorMatrix::saturation_hue(1.0, 0.0).unwrap().is_identity());
    // Also exact for a full turn.
    assert_eq!(saturation_hue_matrix(1.0, 720.0).unwrap(), id);
    assert_eq!(saturation_hue_matrix(1.0, -360.0).unwrap(), id);

    let luma = [0.299f64, 0.587, 0.114];
    for (s, h) in [
        (0.0, 0.0),
        (0.5, 30.0),
        (2.0, -75.0),
        (1.3, 180.0),
        (1.0, 359.0),
    ] {
        let m = saturation_hue_matrix(s, h).unwrap();
        for row in &m {
            let sum: f64 = row.iter().map(|&v| f64::from(v)).sum();
            assert!((sum - 1.0).abs() < 1e-6, "row sum {sum} for s={s} h={h}");
        }
        // Luma is preserved: luma · M = luma.
        for k in 0..3 {
            let l: f64 = (0..3).map(|c| luma[c] * f64::from(m[c][k])).sum();
            assert!(
                (l - luma[k]).abs() < 1e-6,
                "luma column {k} for s={s} h={h}"
            );
        }
    }
    // Saturation 0: every output channel is the luma.
    let grey = saturation_hue_matrix(0.0, 40.0).unwrap();
    for row in &grey {
        for k in 0..3 {
            assert!((f64::from(row[k]) - luma[k]).abs() < 1e-6);
        }
    }
    // Hue 180 with saturation 1 negates the chroma: M = 2 * L - I where every
    // row of L is the luma vector.
    let m = saturation_hue_matrix(1.0, 180.0).unwrap();
    for (c, row) in m.iter().enumerate() {
        for (k, &v) in row.iter().enumerate() {
            let want = 2.0 * luma[k] - if c == k { 1.0 } else { 0.0 };
            assert!((f64::from(v) - want).abs() < 1e-6);
        }
    }
    // Positive hue turns red towards yellow (green rises, blue does not).
    let m = ColorMatrix::saturation_hue(1.0, 30.0).unwrap();
    let red = m.transform([1.0, 0.0, 0.0]);
    assert!(red[1] > 0.0 && red[1] > red[2], "{red:?}");

    for s in [-0.1, 2.1, f32::NAN] {
        assert!(matches!(
            saturation_hue_matrix(s, 0.0),
            Err(ColorError::InvalidSaturation(_))
        ));
    }
    assert!(matches!(
        saturation_hue_matrix(1.0, f32::INFINITY),
        Err(ColorError::InvalidHue(_))
    ));
}

#[test]
fn color_matrix_composition() {
    let a = ColorMatrix::new(
        [[1.2, -0.1, -0.1], [-0.2, 1.3, -0.1], [0.0, -0.4, 1.4]],
        [3.0, -2.0, 1.0],
    );
    let b = ColorMatrix::saturation_hue(1.4, 12.0).unwrap();
    let ab = a.then(&b);
    for x in [[10.0, 20.0, 30.0], [255.0, 0.0, 128.0], [0.0, 0.0, 0.0]] {
        let want = b.transform(a.transform(x));
        let got = ab.transform(x);
        for c in 0..3 {
            assert!((want[c] - got[c]).abs() < 1e-3, "{want:?} vs {got:?}");
        }
    }
    assert_eq!(ColorMatrix::IDENTITY.then(&a), a);
}

#[test]
fn color_matrix_exact_for_dyadic_coefficients() {
    // Coefficients that are multiples of 1/64 are represented exactly, so
    // both the fixed-point (8-bit) and the f32 (12-, 16-bit) paths give the
    // exactly rounded result.
    let m = ColorMatrix::new(
        [
            [1.25, -0.125, -0.125],
            [-0.25, 1.5, -0.25],
            [0.015625, -0.5, 1.484375],
        ],
        [2.5, -3.0, 0.5],
    );
    for depth in [8u32, 10, 12, 16] {
        let max = (1u32 << depth) - 1;
        let src: Vec<u16> = (0..3000u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) >> 7) % (max + 1)) as u16)
            .collect();
        let mut d = src.clone();
        apply_color_matrix(&mut d, 1000, 1, depth, &m).unwrap();
        for (p, (s, o)) in src.chunks_exact(3).zip(d.chunks_exact(3)).enumerate() {
            let want = reference_matrix(&m, [0, 1, 2].map(|c| u32::from(s[c])), max);
            for c in 0..3 {
                assert_eq!(f64::from(o[c]), want[c], "depth {depth} pixel {p}");
            }
        }
        if depth == 8 {
            let s8: Vec<u8> = src.iter().map(|&v| v as u8).collect();
            let mut d8 = s8.clone();
            apply_color_matrix(&mut d8, 1000, 1, 8, &m).unwrap();
            assert!(d8.iter().zip(&d).all(|(&a, &b)| u16::from(a) == b));
        }
    }
}

fn reference_matrix(m: &ColorMatrix, px: [u32; 3], max: u32) -> [f64; 3] {
    m.transform(px.map(f64::from))
        .map(|v| (v + 0.5).floor().clamp(0.0, f64::from(max)))
}

fn matrix_strategy() -> impl Strategy<Value = ColorMatrix> {
    (
        prop::array::uniform3(prop::array::uniform3(-2.0f32..2.0)),
        prop::array::uniform3(-50.0f32..50.0),
    )
        .prop_map(|(m, o)| ColorMatrix::new(m, o))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn color_identities(
        data8 in prop::collection::vec(any::<u8>(), 0..90),
        depth in 1u32..=16,
        seed in any::<u32>(),
        pattern in 0usize..4,
    ) {
        let px = data8.len() / 3;
        let mut d = data8.clone();
        apply_color_matrix(&mut d, px, 1, 8, &ColorMatrix::IDENTITY).unwrap();
        white_balance_rgb(&mut d, 1, px, 8, [1.0; 3]).unwrap();
        white_balance_bayer(&mut d, 3, px, BayerPattern::ALL[pattern], 8, [1.0; 3]).unwrap();
        prop_assert_eq!(&d, &data8);

        let max = (1u32 << depth) - 1;
        let data16: Vec<u16> = data8.iter().enumerate()
            .map(|(i, &v)| ((u32::from(v) * 257 + seed.wrapping_mul(i as u32)) % (max + 1)) as u16)
            .collect();
        let mut d = data16.clone();
        apply_color_matrix(&mut d, px, 1, depth, &ColorMatrix::IDENTITY).unwrap();
        white_balance_rgb(&mut d, px, 1, depth, [1.0; 3]).unwrap();
        white_balance_bayer(&mut d, px, 3, BayerPattern::ALL[pattern], depth, [1.0; 3]).unwrap();
        let m = ColorMatrix::saturation_hue(1.0, 0.0).unwrap();
        apply_color_matrix(&mut d, px, 1, depth, &m).unwrap();
        prop_assert_eq!(&d, &data16);
    }

    #[test]
    fn color_matrix_within_one_of_reference(
        m in matrix_strategy(),
        data in prop::collection::vec(any::<u16>(), 3..60),
        depth in prop::sample::select(vec![8u32, 10, 12, 14, 16]),
    ) {
        let max = (1u32 << depth) - 1;
        let px = data.len() / 3;
        let src: Vec<u16> = data.iter().map(|&v| (u32::from(v) % (max + 1)) as u16).collect();
        let mut d = src.clone();
        apply_color_matrix(&mut d, px, 1, depth, &m).unwrap();
        for p in 0..px {
            let s = [0, 1, 2].map(|c| u32::from(src[3 * p + c]));
            let want = reference_matrix(&m, s, max);
            for c in 0..3 {
                let got = f64::from(d[3 * p + c]);
                prop_assert!((got - want[c]).abs() <= 1.0, "{:?} -> {} vs {}", s, got, want[c]);
            }
        }
    }

    #[test]
    fn color_matrix_u8_matches_u16_path(m in matrix_strategy(), data in prop::collection::vec(any::<u8>(), 0..60)) {
        let px = data.len() / 3;
        let mut a = data.clone();
        apply_color_matrix(&mut a, px, 1, 8, &m).unwrap();
        let mut b: Vec<u16> = data.iter().map(|&v| u16::from(v)).collect();
        apply_color_matrix(&mut b, px, 1, 8, &m).unwrap();
        prop_assert!(a.iter().zip(&b).all(|(&x, &y)| u16::from(x) == y));
    }
}

// ---------------------------------------------------------------------------
// LUT
// ---------------------------------------------------------------------------

#[test]
fn lut8_gamma_examples() {
    assert!(Lut8::gamma(1.0).unwrap().is_identity());
    assert_eq!(Lut8::default(), Lut8::identity());
    // gamma 2: 255 * (128/255)^2 = 64.25 -> 64; gamma 0.5: sqrt(64 * 255) = 127.75 -> 128.
    let g2 = Lut8::gamma(2.0).unwrap();
    assert_eq!(g2.get(128), 64);
    let g05 = Lut8::gamma(0.5).unwrap();
    assert_eq!(g05.get(64), 128);
    for g in [0.1, 0.45, 1.0, 2.2, 3.99998] {
        let t = Lut8::gamma(g).unwrap();
        assert_eq!(t.get(0), 0);
        assert_eq!(t.get(255), 255);
        for i in 0..=255u8 {
            assert_eq!(u32::from(t.get(i)), gamma_value(u32::from(i), 255, 255, g));
        }
        assert!(t.table().windows(2).all(|w| w[0] <= w[1]), "monotonic");
    }
    // Smaller gamma is brighter.
    let (b, n, d) = (
        Lut8::gamma(0.5).unwrap(),
        Lut8::identity(),
        Lut8::gamma(2.0).unwrap(),
    );
    for i in 0..=255u8 {
        assert!(b.get(i) >= n.get(i) && n.get(i) >= d.get(i));
    }
    for g in [0.0, -1.0, 4.0, 3.99999, f64::NAN, f64::INFINITY] {
        assert!(matches!(Lut8::gamma(g), Err(LutError::InvalidGamma(_))));
        assert!(matches!(
            Lut12::gamma(g, 12),
            Err(LutError::InvalidGamma(_))
        ));
    }
}

#[test]
fn lut8_apply_and_map() {
    let mut t = Lut8::identity();
    t.set(3, 200);
    let mut d: Vec<u8> = vec![1, 2, 3, 4, 3, 3, 9];
    t.apply(&mut d, 2, 1, 3).unwrap();
    assert_eq!(d, [1, 2, 200, 4, 200, 200, 9]);
    let mut out = vec![0u8; 6];
    t.map(&[3, 3, 0, 1, 2, 3], &mut out, 3, 2, 1).unwrap();
    assert_eq!(out, [200, 200, 0, 1, 2, 200]);
    assert!(matches!(
        t.map(&[3, 3], &mut out, 3, 1, 1),
        Err(LutError::SourceTooShort {
            needed: 3,
            actual: 2
        })
    ));
    assert!(matches!(
        t.map(&[3, 3, 3], &mut out[..2], 3, 1, 1),
        Err(LutError::DestinationTooShort {
            needed: 3,
            actual: 2
        })
    ));
    assert!(matches!(
        Lut8::from_slice(&[0; 255]),
        Err(LutError::WrongTableLength {
            needed: 256,
            actual: 255
        })
    ));
    assert_eq!(
        Lut8::from_slice(Lut8::identity().table()),
        Ok(Lut8::identity())
    );
}

#[test]
fn lut12_index_rule() {
    assert_eq!(Lut12::index_of(4095, 12), Some(4095));
    assert_eq!(Lut12::index_of(5000, 12), Some(4095));
    assert_eq!(Lut12::index_of(65535, 16), Some(4095));
    assert_eq!(Lut12::index_of(16, 16), Some(1));
    assert_eq!(Lut12::index_of(15, 16), Some(0));
    assert_eq!(Lut12::index_of(255, 8), Some(4080));
    assert_eq!(Lut12::index_of(1023, 10), Some(4092));
    assert_eq!(Lut12::index_of(1, 1), Some(2048));
    assert_eq!(Lut12::index_of(1, 0), None);
    assert_eq!(Lut12::index_of(1, 17), None);
}

#[test]
fn lut12_examples() {
    assert_eq!(Lut12::gamma(1.0, 12).unwrap(), Lut12::identity());
    // 16-bit output: gamma 1 is linear scaling 4095 -> 65535.
    let g = Lut12::gamma(1.0, 16).unwrap();
    assert_eq!(g.get(4095), Some(65535));
    assert_eq!(g.get(1), Some(16)); // 65535 / 4095 = 16.0037 -> 16
                                    // 8-bit output: gamma 0.5 at index 1024: 255 * sqrt(1024 / 4095) = 127.5155 -> 128.
    let g = Lut12::gamma(0.5, 8).unwrap();
    assert_eq!(g.get(1024), Some(128));
    assert_eq!(g.get(4096), None);

    // Apply to 16-bit data (index = s >> 4) with 8-bit output into u8.
    let src: Vec<u16> = vec![0, 1024 << 4, 65535, (1024 << 4) + 15];
    let mut dst = vec![0u8; 4];
    g.map(&src, 16, &mut dst, 2, 2, 1).unwrap();
    assert_eq!(dst, [0, 128, 255, 128]);
    // 8-bit data into a 12-bit identity: 255 -> 4080.
    let mut out = vec![0u16; 2];
    Lut12::identity()
        .map(&[255u8, 1], 8, &mut out, 1, 1, 2)
        .unwrap();
    assert_eq!(out, [4080, 16]);

    // In place on u16 data; 12-bit output does not fit u8.
    let mut d: Vec<u16> = vec![100, 4095];
    Lut12::identity().apply(&mut d, 2, 1, 1, 12).unwrap();
    assert_eq!(d, [100, 4095]);
    let mut b = vec![1u8, 2];
    assert!(matches!(
        Lut12::identity().apply(&mut b, 2, 1, 1, 8),
        Err(LutError::InvalidBitDepth {
            bit_depth: 12,
            limit: 8
        })
    ));
    let mut g8 = Lut12::gamma(1.0, 8).unwrap();
    g8.apply(&mut b, 2, 1, 1, 8).unwrap();
    // 8-bit 1 -> index 16 -> 255 * 16 / 4095 = 0.996 -> 1.
    assert_eq!(b, [1, 2]);

    // set / get / from_slice validation.
    assert!(matches!(
        g8.set(5, 256),
        Err(LutError::ValueOutOfRange {
            index: 5,
            value: 256,
            max: 255
        })
    ));
    assert!(matches!(
        g8.set(4096, 1),
        Err(LutError::IndexOutOfRange {
            index: 4096,
            len: 4096
        })
    ));
    g8.set(4095, 7).unwrap();
    assert_eq!(g8.get(4095), Some(7));
    let mut t = vec![0u16; 4096];
    t[10] = 4096;
    assert!(matches!(
        Lut12::from_slice(&t, 12),
        Err(LutError::ValueOutOfRange {
            index: 10,
            value: 4096,
            max: 4095
        })
    ));
    assert!(Lut12::from_slice(&t, 13).is_ok());
    assert!(matches!(
        Lut12::from_slice(&t[..100], 13),
        Err(LutError::WrongTableLength {
            needed: 4096,
            actual: 100
        })
    ));
    assert!(matches!(
        Lut12::from_slice(&t, 0),
        Err(LutError::InvalidBitDepth { .. })
    ));
}

#[test]
fn apply_gamma_examples() {
    // 10-bit, gamma 0.5: 1023 * sqrt(256 / 1023) = 511.75 -> 512.
    let mut d: Vec<u16> = vec![0, 256, 1023, 2000];
    apply_gamma(&mut d, 4, 1, 1, 10, 0.5).unwrap();
    assert_eq!(d, [0, 512, 1023, 1023]);
    let mut d: Vec<u8> = vec![128];
    apply_gamma(&mut d, 1, 1, 1, 8, 2.0).unwrap();
    assert_eq!(d, [64]);
    let mut d: Vec<u16> = vec![7, 5000];
    apply_gamma(&mut d, 2, 1, 1, 12, 1.0).unwrap();
    assert_eq!(d, [7, 4095]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn lut_identities(data8 in prop::collection::vec(any::<u8>(), 0..200), depth in 1u32..=16, seed in any::<u32>()) {
        let n = data8.len();
        let mut d = data8.clone();
        Lut8::gamma(1.0).unwrap().apply(&mut d, n, 1, 1).unwrap();
        apply_gamma(&mut d, 1, n, 1, 8, 1.0).unwrap();
        prop_assert_eq!(&d, &data8);

        let max = (1u32 << depth) - 1;
        let data16: Vec<u16> = data8.iter().enumerate()
            .map(|(i, &v)| ((u32::from(v) * 259 + seed.wrapping_mul(i as u32 + 1)) % (max + 1)) as u16)
            .collect();
        let mut d = data16.clone();
        apply_gamma(&mut d, n, 1, 1, depth, 1.0).unwrap();
        prop_assert_eq!(&d, &data16);
        // 12-bit data through the identity Lut12 is unchanged.
        let d12: Vec<u16> = data16.iter().map(|&v| v & 0xFFF).collect();
        let mut d = d12.clone();
        Lut12::gamma(1.0, 12).unwrap().apply(&mut d, 1, n, 1, 12).unwrap();
        prop_assert_eq!(&d, &d12);
    }

    #[test]
    fn apply_gamma_matches_formula(data in u16_image(12), gamma in 0.05f64..3.99998) {
        let n = data.len();
        let mut d = data.clone();
        apply_gamma(&mut d, n, 1, 1, 12, gamma).unwrap();
        for (&s, &o) in data.iter().zip(&d) {
            let want = (4095.0 * (f64::from(s) / 4095.0).powf(gamma) + 0.5).floor();
            prop_assert_eq!(f64::from(o), want);
        }
    }
}

// ---------------------------------------------------------------------------
// flat-field correction
// ---------------------------------------------------------------------------

#[test]
fn ffc_apply_examples() {
    // 100 - 20 = 80, * 1.5 = 120; 10 - 20 clips at 0; 250 * 2 clips at 255;
    // (3 - 0) * 0.5 = 1.5 -> 2.
    let mut d: Vec<u8> = vec![100, 10, 250, 3];
    let off = [20u16, 20, 0, 0];
    let gain = [6144u16, 4096, 8192, 2048];
    apply_ffc(&mut d, 2, 2, 8, &off, &gain).unwrap();
    assert_eq!(d, [120, 0, 255, 2]);

    // 10-bit clip at 1023; inputs above the max count as the max.
    let mut d: Vec<u16> = vec![1000, 2000, 1023];
    apply_ffc(&mut d, 3, 1, 10, &[0, 0, 23], &[8192, 4096, 4096]).unwrap();
    assert_eq!(d, [1023, 1023, 1000]);

    // Extreme values do not overflow.
    let mut d: Vec<u16> = vec![65535];
    apply_ffc(&mut d, 1, 1, 16, &[0], &[65535]).unwrap();
    assert_eq!(d, [65535]);

    let mut d = vec![0u16; 4];
    assert_eq!(
        apply_ffc(&mut d, 2, 2, 12, &[0; 3], &[GAIN_ONE; 4]),
        Err(FfcError::BufferTooShort {
            what: "offsets",
            needed: 4,
            actual: 3
        })
    );
    assert_eq!(
        apply_ffc(&mut d, 2, 2, 12, &[0; 4], &[GAIN_ONE; 2]),
        Err(FfcError::BufferTooShort {
            what: "gains",
            needed: 4,
            actual: 2
        })
    );
    assert_eq!(
        apply_ffc(&mut d, 2, 2, 0, &[0; 4], &[GAIN_ONE; 4]),
        Err(FfcError::InvalidBitDepth {
            bit_depth: 0,
            limit: 16
        })
    );
}

#[test]
fn ffc_average_frames() {
    let a: Vec<u16> = vec![1, 2, 65535, 0];
    let b: Vec<u16> = vec![2, 2, 65535, 1];
    let mut out = vec![0u16; 4];
    average_frames(&[&a, &b], 2, 2, &mut out).unwrap();
    assert_eq!(out, [2, 2, 65535, 1]); // 1.5 -> 2, 0.5 -> 1
    let c: Vec<u16> = vec![0, 0, 0, 0];
    average_frames(&[&a, &b, &c], 4, 1, &mut out).unwrap();
    assert_eq!(out, [1, 1, 43690, 0]);
    assert_eq!(
        average_frames::<u16>(&[], 2, 2, &mut out),
        Err(FfcError::NoFrames)
    );
    assert!(matches!(
        average_frames(&[&a[..3]], 2, 2, &mut out),
        Err(FfcError::BufferTooShort { what: "frame", .. })
    ));
}

/// A shaded bright field: `base * (1 - 0.4 r^2)` with `r` the normalised
/// distance from the centre (brightest/darkest below 2).
fn shaded(w: usize, h: usize, base: [f64; 3], pattern: Option<BayerPattern>) -> Vec<u16> {
    let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
    let rmax = (cx * cx + cy * cy).max(1.0);
    let mut v = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let r2 = ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2)) / rmax;
            let c = pattern.map_or(0, |p| p.channel_at(x, y));
            v.push((base[c] * (1.0 - 0.4 * r2)).round() as u16);
        }
    }
    v
}

#[test]
fn ffc_calibration_flattens_mono() {
    let (w, h) = (32, 24);
    let dark: Vec<u16> = (0..w * h).map(|i| 60 + (i * 7 % 11) as u16).collect();
    let signal = shaded(w, h, [2000.0; 3], None);
    let bright: Vec<u16> = signal.iter().zip(&dark).map(|(s, d)| s + d).collect();
    let ratio = check_bright_field(&dark, &bright, w, h, None).unwrap();
    assert!(ratio > 1.5 && ratio <= 2.0, "ratio {ratio}");
    let (mut off, mut gain) = (vec![0u16; w * h], vec![0u16; w * h]);
    calibrate(&dark, &bright, w, h, None, &mut off, &mut gain).unwrap();
    assert_eq!(off, dark);
    let mean = signal.iter().map(|&v| f64::from(v)).sum::<f64>() / (w * h) as f64;
    let mut img = bright.clone();
    apply_ffc(&mut img, w, h, 12, &off, &gain).unwrap();
    for &v in &img {
        assert!((f64::from(v) - mean).abs() <= 1.0, "{v} vs {mean}");
    }
    // The dark frame becomes black.
    let mut img = dark.clone();
    apply_ffc(&mut img, w, h, 12, &off, &gain).unwrap();
    assert!(img.iter().all(|&v| v == 0));
}

#[test]
fn ffc_calibration_preserves_colour_balance() {
    let (w, h) = (20, 16);
    for p in BayerPattern::ALL {
        let base = [1200.0, 2400.0, 700.0];
        let bright = shaded(w, h, base, Some(p));
        let dark = vec![0u16; w * h];
        let mut gain = vec![0u16; w * h];
        gain_map(&dark, &bright, w, h, Some(p), &mut gain).unwrap();
        let mut img = bright.clone();
        apply_ffc(&mut img, w, h, 12, &dark, &gain).unwrap();
        for c in 0..3 {
            let vals: Vec<f64> = (0..w * h)
                .filter(|i| p.channel_at(i % w, i / w) == c)
                .map(|i| f64::from(bright[i]))
                .collect();
            let mean = vals.iter().sum::<f64>() / vals.len() as f64;
            for i in (0..w * h).filter(|i| p.channel_at(i % w, i / w) == c) {
                assert!(
                    (f64::from(img[i]) - mean).abs() <= 1.0,
                    "{p:?} channel {c}: {} vs {mean}",
                    img[i]
                );
            }
        }
        // Without the pattern the colours would be flattened together, and
        // here the ratio between green and blue pixels exceeds 2.
        assert!(matches!(
            gain_map(&dark, &bright, w, h, None, &mut gain),
            Err(FfcError::BrightFieldTooUneven { channel: None, .. })
        ));
    }
}

#[test]
fn ffc_refuses_uneven_or_dark_bright_field() {
    let dark = vec![10u8; 4];
    // Signals 100, 200, 150, 120: ratio exactly 2 is accepted.
    let ok = vec![110u8, 210, 160, 130];
    assert_eq!(check_bright_field(&dark, &ok, 2, 2, None), Ok(2.0));
    // Signals 100, 201: ratio above 2.
    let bad = vec![110u8, 211, 160, 130];
    let (mut off, mut gain) = (vec![7u16; 4], vec![9u16; 4]);
    assert_eq!(
        calibrate(&dark, &bad, 2, 2, None, &mut off, &mut gain),
        Err(FfcError::BrightFieldTooUneven {
            channel: None,
            brightest: 201,
            darkest: 100
        })
    );
    // Maps untouched on error.
    assert_eq!((off, gain), (vec![7u16; 4], vec![9u16; 4]));
    // Per colour: RG pattern, red pixel (0,0) has 100 and 250 is blue.
    let bayer = vec![110u8, 160, 160, 255];
    assert!(check_bright_field(&dark, &bayer, 2, 2, Some(BayerPattern::RG)).is_ok());
    let bayer_bad = vec![110u8, 70, 160, 255]; // greens 60 and 150
    assert_eq!(
        check_bright_field(&dark, &bayer_bad, 2, 2, Some(BayerPattern::RG)),
        Err(FfcError::BrightFieldTooUneven {
            channel: Some(1),
            brightest: 150,
            darkest: 60
        })
    );
    // A bright field at the dark level.
    assert_eq!(
        check_bright_field(&dark, &dark, 2, 2, None),
        Err(FfcError::BrightFieldTooDark { channel: None })
    );
    // A dead pixel makes the ratio infinite.
    assert!(matches!(
        check_bright_field(&dark, &[110u8, 110, 10, 110], 2, 2, None),
        Err(FfcError::BrightFieldTooUneven { darkest: 0, .. })
    ));
    // Empty images pass.
    assert_eq!(check_bright_field::<u8>(&[], &[], 0, 5, None), Ok(1.0));
}

#[test]
fn ffc_gain_values() {
    // Signals 100 and 200 -> mean 150 -> gains 1.5 and 0.75.
    let dark = [0u16, 0];
    let bright = [100u16, 200];
    let mut g = [0u16; 2];
    gain_map(&dark, &bright, 2, 1, None, &mut g).unwrap();
    assert_eq!(g, [6144, 3072]);
    let mut o = [1u16; 2];
    offset_map(&[300u16, 4], 2, 1, &mut o).unwrap();
    assert_eq!(o, [300, 4]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn ffc_identity(data in u16_image(16), depth in 1u32..=16) {
        let max = (1u32 << depth) - 1;
        let src: Vec<u16> = data.iter().map(|&v| (u32::from(v) % (max + 1)) as u16).collect();
        let n = src.len();
        let mut d = src.clone();
        apply_ffc(&mut d, n, 1, depth, &vec![0; n], &vec![GAIN_ONE; n]).unwrap();
        prop_assert_eq!(&d, &src);
        let s8: Vec<u8> = src.iter().map(|&v| v as u8).collect();
        let mut d8 = s8.clone();
        apply_ffc(&mut d8, 1, n, 8, &vec![0; n], &vec![GAIN_ONE; n]).unwrap();
        prop_assert_eq!(&d8, &s8);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// The row and band helpers used by a fused pipeline give the same
    /// results as the whole-frame functions.
    #[test]
    fn row_helpers_match_frame_functions(
        w in 0usize..12,
        h in 0usize..6,
        seed in any::<u64>(),
        gains in prop::array::uniform3(0.0f32..300.0),
        pattern in 0usize..4,
        m in matrix_strategy(),
    ) {
        let p = BayerPattern::ALL[pattern];
        let mut rng = seed | 1;
        let mut next = move || { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; rng };
        let src: Vec<u8> = (0..w * h * 3).map(|_| next() as u8).collect();

        // White balance, row by row.
        let mut frame = src[..w * h].to_vec();
        white_balance_bayer(&mut frame, w, h, p, 8, gains).unwrap();
        let raw = wb_raw(gains).unwrap();
        let mut rows = src[..w * h].to_vec();
        if w > 0 {
            for (y, row) in rows.chunks_exact_mut(w).enumerate() {
                white_balance_row_u8(row, [raw[p.channel_at(0, y)], raw[p.channel_at(1, y)]]);
            }
        }
        prop_assert_eq!(&frame, &rows);

        // Colour matrix prepared once, applied per row.
        let mut frame = src.clone();
        apply_color_matrix(&mut frame, w, h, 8, &m).unwrap();
        let fm = FixedMatrix::new(&m, 8).unwrap();
        prop_assert!(fm.is_fixed_point());
        prop_assert_eq!(fm.bit_depth(), 8);
        let mut rows = src.clone();
        if w > 0 {
            for row in rows.chunks_exact_mut(3 * w) {
                fm.apply_u8(row);
            }
        }
        prop_assert_eq!(&frame, &rows);

        // Flat field, row by row.
        let offsets: Vec<u16> = (0..w * h).map(|_| (next() % 40) as u16).collect();
        let gmap: Vec<u16> = (0..w * h).map(|_| (2048 + next() % 8192) as u16).collect();
        let ff = FlatField::new(w, h, offsets.clone(), gmap.clone()).unwrap();
        let mut frame = src[..w * h].to_vec();
        apply_ffc(&mut frame, w, h, 8, &offsets, &gmap).unwrap();
        let mut whole = src[..w * h].to_vec();
        pixel::ffc::apply(&ff, &mut whole, w, h, 8).unwrap();
        prop_assert_eq!(&frame, &whole);
        let mut rows = src[..w * h].to_vec();
        if w > 0 {
            for (y, row) in rows.chunks_exact_mut(w).enumerate() {
                ff.apply_row_u8(y, row);
            }
        }
        prop_assert_eq!(&frame, &rows);
    }
}

#[test]
fn fixed_matrix_and_flat_field_api() {
    let m = ColorMatrix::saturation_hue(1.5, 10.0).unwrap();
    assert!(FixedMatrix::new(&m, 8).unwrap().is_fixed_point());
    assert!(!FixedMatrix::new(&m, 16).unwrap().is_fixed_point());
    assert!(matches!(
        FixedMatrix::new(&m, 0),
        Err(ColorError::InvalidBitDepth { bit_depth: 0, .. })
    ));
    let mut d: Vec<u16> = vec![100, 200, 300, 7];
    FixedMatrix::new(&ColorMatrix::IDENTITY, 16)
        .unwrap()
        .apply_u16(&mut d);
    assert_eq!(d, [100, 200, 300, 7]);

    let ff = FlatField::identity(3, 2).unwrap();
    assert_eq!(ff.size(), (3, 2));
    assert_eq!(ff.offsets(), &[0; 6]);
    assert_eq!(ff.gains(), &[GAIN_ONE; 6]);
    assert!(ff.check_size(3, 2).is_ok());
    assert_eq!(
        ff.check_size(2, 3),
        Err(FfcError::SizeMismatch {
            map_width: 3,
            map_height: 2,
            width: 2,
            height: 3
        })
    );
    let mut img = vec![5u8; 6];
    assert!(pixel::ffc::apply(&ff, &mut img, 2, 3, 8).is_err());
    // Rows out of range and short rows are harmless.
    ff.apply_row_u8(7, &mut img);
    ff.apply_row_u8(1, &mut img[..1]);
    assert!(matches!(
        FlatField::new(3, 2, vec![0; 5], vec![GAIN_ONE; 6]),
        Err(FfcError::BufferTooShort {
            what: "offsets",
            ..
        })
    ));
    assert!(FlatField::identity(usize::MAX, 2).is_err());

    let dark = vec![10u16; 6];
    let bright = vec![110u16, 120, 130, 140, 150, 160];
    let ff = FlatField::calibrate(&dark, &bright, 3, 2, None).unwrap();
    assert_eq!(ff.offsets(), &dark[..]);
    let mut img = bright.clone();
    pixel::ffc::apply(&ff, &mut img, 3, 2, 12).unwrap();
    assert_eq!(img, [125; 6]);
    assert!(FlatField::calibrate(&dark, &dark, 3, 2, None).is_err());

    // Row white balance: odd lengths, empty rows, huge gains.
    let mut row = vec![100u8, 100, 100];
    white_balance_row_u8(&mut row, [1 << 17, 1 << 15]);
    assert_eq!(row, [200, 50, 200]);
    white_balance_row_u8(&mut [], [0, 0]);
    let mut row = vec![1u8, 0];
    white_balance_row_u8(&mut row, [u32::MAX, u32::MAX]);
    assert_eq!(row, [255, 0]);
}

// ---------------------------------------------------------------------------
// No panics for any size; short buffers are errors.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn no_panic_any_size(
        w in 0usize..20,
        h in 0usize..20,
        short in 0usize..4,
        depth in 0u32..18,
        pattern in 0usize..4,
        fill in any::<u16>(),
    ) {
        let p = BayerPattern::ALL[pattern];
        let n1 = w * h;
        let n3 = 3 * n1;
        // Either exactly long enough (short == 0) or `short` samples short.
        let len1 = n1.saturating_sub(short);
        let len3 = n3.saturating_sub(short);
        let is_short1 = len1 < n1;
        let is_short3 = len3 < n3;
        let ok8 = (1..=8).contains(&depth);
        let ok16 = (1..=16).contains(&depth);

        let mut b1 = vec![fill as u8; len1];
        let mut b3 = vec![fill as u8; len3];
        let mut w1 = vec![fill; len1];
        let mut w3 = vec![fill; len3];

        let r = subtract_black_level(&mut b1, w, h, 1, depth, 3);
        prop_assert_eq!(r.is_ok(), ok8 && !is_short1);
        let r = apply_gain(&mut w3, w, h, 3, depth, 1.7);
        prop_assert_eq!(r.is_ok(), ok16 && !is_short3);
        let r = apply_gain_fixed(&mut b3, w, h, 3, depth, 300, 8);
        prop_assert_eq!(r.is_ok(), ok8 && !is_short3);
        let r = digital_shift(&mut w1, w, h, 1, depth, 2);
        prop_assert_eq!(r.is_ok(), ok16 && !is_short1);
        let r = apply_levels(&mut w1, w, h, 1, depth, &Levels { black_level: 5, gain_raw: 500, frac_bits: 8, shift: 1 });
        prop_assert_eq!(r.is_ok(), ok16 && !is_short1);

        let r = white_balance_bayer(&mut w1, w, h, p, depth, [1.2, 1.0, 2.5]);
        prop_assert_eq!(r.is_ok(), ok16 && !is_short1);
        let r = white_balance_bayer(&mut b1, w, h, p, depth, [1.2, 1.0, 2.5]);
        prop_assert_eq!(r.is_ok(), ok8 && !is_short1);
        let r = white_balance_rgb(&mut b3, w, h, depth, [1.2, 1.0, 2.5]);
        prop_assert_eq!(r.is_ok(), ok8 && !is_short3);
        let m = ColorMatrix::saturation_hue(1.5, 20.0).unwrap();
        let r = apply_color_matrix(&mut w3, w, h, depth, &m);
        prop_assert_eq!(r.is_ok(), ok16 && !is_short3);
        let r = apply_color_matrix(&mut b3, w, h, depth, &m);
        prop_assert_eq!(r.is_ok(), ok8 && !is_short3);

        let lut = Lut8::gamma(0.7).unwrap();
        prop_assert_eq!(lut.apply(&mut b3, w, h, 3).is_ok(), !is_short3);
        let mut out = vec![0u8; n1];
        prop_assert_eq!(lut.map(&b1, &mut out, w, h, 1).is_ok(), !is_short1);
        let l12 = Lut12::gamma(0.7, 16).unwrap();
        prop_assert_eq!(l12.apply(&mut w1, w, h, 1, depth).is_ok(), ok16 && !is_short1);
        let mut out16 = vec![0u16; len3];
        prop_assert_eq!(l12.map(&b3, depth, &mut out16, w, h, 3).is_ok(), ok8 && !is_short3);
        let r = apply_gamma(&mut w3, w, h, 3, depth, 2.2);
        prop_assert_eq!(r.is_ok(), ok16 && !is_short3);

        let maps_off = vec![1u16; len1];
        let maps_gain = vec![GAIN_ONE; len1];
        let r = apply_ffc(&mut w1, w, h, depth, &maps_off, &maps_gain);
        prop_assert_eq!(r.is_ok(), ok16 && !is_short1);
        let full = vec![fill; n1];
        let r = apply_ffc(&mut b1, w, h, depth, &vec![0u16; n1], &vec![GAIN_ONE; n1]);
        prop_assert_eq!(r.is_ok(), ok8 && !is_short1);
        let mut off = vec![0u16; len1];
        let mut gain = vec![0u16; len1];
        // Errors for short buffers; uniform frames calibrate fine when the
        // bright one is brighter.
        let bright: Vec<u16> = full.iter().map(|&v| v.saturating_add(1)).collect();
        let r = calibrate(&full, &bright, w, h, Some(p), &mut off, &mut gain);
        if is_short1 {
            prop_assert!(r.is_err());
        } else if fill < u16::MAX {
            prop_assert!(r.is_ok(), "{:?}", r);
        }
        let r = average_frames(&[&w1[..], &full[..]], w, h, &mut off);
        prop_assert_eq!(r.is_ok(), !is_short1);
    }

    #[test]
    fn no_panic_overflowing_sizes(w in prop::sample::select(vec![usize::MAX, usize::MAX / 2, usize::MAX / 3 + 1]), h in 2usize..5) {
        let mut b = vec![0u8; 8];
        let mut s = vec![0u16; 8];
        prop_assert!(subtract_black_level(&mut b, w, h, 1, 8, 1).is_err());
        prop_assert!(apply_levels(&mut s, w, h, 3, 12, &Levels::IDENTITY).is_err());
        prop_assert!(white_balance_bayer(&mut b, w, h, BayerPattern::RG, 8, [1.0; 3]).is_err());
        prop_assert!(white_balance_rgb(&mut s, w, h, 12, [1.0; 3]).is_err());
        prop_assert!(apply_color_matrix(&mut b, w, h, 8, &ColorMatrix::IDENTITY).is_err());
        prop_assert!(Lut8::identity().apply(&mut b, w, h, 1).is_err());
        prop_assert!(Lut12::identity().apply(&mut s, w, h, 3, 12).is_err());
        prop_assert!(apply_gamma(&mut s, w, h, 1, 12, 0.5).is_err());
        prop_assert!(apply_ffc(&mut s, w, h, 12, &[0; 8], &[GAIN_ONE; 8]).is_err());
        prop_assert!(calibrate(&s.clone(), &s.clone(), w, h, None, &mut [0; 8], &mut [0; 8]).is_err());
    }
}
