//! Properties and exact byte layouts of `pixel::pack`.

use pixel::convert::{to_bgra8, to_mono8, to_rgb8};
use pixel::format::PixelFormat;
use pixel::pack::{pack, pack_from_u16, unpack, unpack_to_u16, PackError};
use proptest::prelude::*;

fn packed_formats() -> Vec<PixelFormat> {
    PixelFormat::all()
        .iter()
        .copied()
        .filter(|f| f.is_packed())
        .collect()
}

fn single_formats() -> Vec<PixelFormat> {
    PixelFormat::all()
        .iter()
        .copied()
        .filter(|f| f.is_single_sample())
        .collect()
}

fn packed(f: PixelFormat, s: &[u16]) -> Vec<u8> {
    let mut out = vec![0xEE; f.image_bytes(s.len(), 1).unwrap()];
    pack(f, s.len(), 1, s, &mut out).unwrap();
    out
}

fn unpacked(f: PixelFormat, b: &[u8], n: usize) -> Vec<u16> {
    let mut out = vec![0xEEEE; n];
    unpack(f, n, 1, b, &mut out).unwrap();
    out
}

#[test]
fn exact_layouts() {
    use PixelFormat::*;
    let s = [0xABC, 0x123];
    assert_eq!(packed(Mono12p, &s), [0xBC, 0x3A, 0x12]);
    assert_eq!(packed(BayerRG12p, &s), [0xBC, 0x3A, 0x12]);
    // b1 = p0[3:0] | p1[3:0] << 4 = 0xC | 0x3 << 4 = 0x3C (GigE Vision
    // Mono12Packed; the byte order "0xC3" would put p0's nibble high).
    assert_eq!(packed(Mono12Packed, &s), [0xAB, 0x3C, 0x12]);
    // 0x3FF, 0, 0x155, 0x2AA:
    // b0 = 0xFF; b1 = 0b11 | 0<<2 = 0x03; b2 = 0 | (0x155 & 0xF)<<4 = 0x50;
    // b3 = 0x155>>4 (0x15) | (0x2AA & 3)<<6 (0b10<<6 = 0x80) = 0x95;
    // b4 = 0x2AA>>2 = 0xAA.
    let s10 = [0x3FF, 0, 0x155, 0x2AA];
    assert_eq!(packed(Mono10p, &s10), [0xFF, 0x03, 0x50, 0x95, 0xAA]);
    assert_eq!(packed(BayerBG10p, &s10), [0xFF, 0x03, 0x50, 0x95, 0xAA]);
    // Mono10Packed of [0x3FF, 0x155]: b0 = 0xFF, b1 = 3 | (1<<4) = 0x13,
    // b2 = 0x155>>2 = 0x55.
    assert_eq!(packed(Mono10Packed, &[0x3FF, 0x155]), [0xFF, 0x13, 0x55]);
    // Odd widths: padding is zero.
    assert_eq!(packed(Mono12p, &[0xABC]), [0xBC, 0x0A]);
    assert_eq!(packed(Mono12Packed, &[0xABC]), [0xAB, 0x0C, 0x00]);
    assert_eq!(packed(Mono10p, &[0x3FF]), [0xFF, 0x03]);
    // Out-of-range bits are ignored.
    assert_eq!(packed(Mono12p, &[0xFABC, 0x1123]), [0xBC, 0x3A, 0x12]);
    // Unpack of the same bytes.
    assert_eq!(unpacked(Mono12p, &[0xBC, 0x3A, 0x12], 2), s);
    assert_eq!(unpacked(Mono12Packed, &[0xAB, 0x3C, 0x12], 2), s);
    assert_eq!(unpacked(Mono10p, &[0xFF, 0x03, 0x50, 0x95, 0xAA], 4), s10);
    assert_eq!(
        unpacked(Mono10Packed, &[0xFF, 0xFF, 0x55], 2),
        [0x3FF, 0x157]
    );
    // Per-line padding: 3-pixel Mono12p lines are 5 bytes each.
    let img = [0x001, 0x002, 0x003, 0x004, 0x005, 0x006];
    let mut b = vec![0; 10];
    pack(Mono12p, 3, 2, &img, &mut b).unwrap();
    assert_eq!(
        b,
        [0x01, 0x20, 0x00, 0x03, 0x00, 0x04, 0x50, 0x00, 0x06, 0x00]
    );
    let mut back = [0u16; 6];
    unpack(Mono12p, 3, 2, &b, &mut back).unwrap();
    assert_eq!(back, img);
}

#[test]
fn unpacked_containers() {
    let mut d = [0u16; 2];
    unpack_to_u16(PixelFormat::Mono10, 2, 1, &[0xFF, 0xFF, 0x34, 0x02], &mut d).unwrap();
    assert_eq!(d, [0x3FF, 0x234]);
    unpack_to_u16(PixelFormat::BayerGR8, 2, 1, &[7, 200], &mut d).unwrap();
    assert_eq!(d, [7, 200]);
    let mut b = [0u8; 4];
    pack_from_u16(PixelFormat::Mono16, 2, 1, &[0x1234, 0xFFFF], &mut b).unwrap();
    assert_eq!(b, [0x34, 0x12, 0xFF, 0xFF]);
}

#[test]
fn errors() {
    let mut d = [0u16; 4];
    assert_eq!(
        unpack(PixelFormat::Mono12p, 2, 2, &[0; 5], &mut d),
        Err(PackError::SourceTooShort {
            needed: 6,
            actual: 5
        })
    );
    assert_eq!(
        unpack(PixelFormat::Mono12p, 2, 2, &[0; 6], &mut d[..3]),
        Err(PackError::DestinationTooShort {
            needed: 4,
            actual: 3
        })
    );
    assert_eq!(
        unpack(PixelFormat::Mono12, 2, 2, &[0; 8], &mut d),
        Err(PackError::UnsupportedFormat(PixelFormat::Mono12))
    );
    assert_eq!(
        unpack_to_u16(PixelFormat::RGB8, 1, 1, &[0; 3], &mut d),
        Err(PackError::UnsupportedFormat(PixelFormat::RGB8))
    );
    assert!(matches!(
        unpack_to_u16(PixelFormat::Mono12p, usize::MAX, 3, &[], &mut d),
        Err(PackError::SizeOverflow { .. })
    ));
    assert!(matches!(
        pack_from_u16(PixelFormat::Mono16, usize::MAX / 2, 3, &[], &mut []),
        Err(PackError::SizeOverflow { .. })
    ));
    // Zero-sized images are fine with empty buffers.
    for &f in PixelFormat::all() {
        if f.is_single_sample() {
            unpack_to_u16(f, 0, 5, &[], &mut []).unwrap();
            pack_from_u16(f, 7, 0, &[], &mut []).unwrap();
        }
    }
}

fn in_range() -> impl Strategy<Value = (PixelFormat, usize, usize, Vec<u16>)> {
    (0..single_formats().len(), 1usize..64, 1usize..8).prop_flat_map(|(fi, w, h)| {
        let f = single_formats()[fi];
        let max = if f.pixel_bits() == 16 {
            u16::MAX
        } else {
            (1u16 << f.pixel_bits()) - 1
        };
        (
            Just(f),
            Just(w),
            Just(h),
            proptest::collection::vec(0..=max, w * h),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// unpack(pack(x)) == x for in-range samples, every single-sample format.
    #[test]
    fn pack_then_unpack((f, w, h, s) in in_range()) {
        let mut b = vec![0xA5u8; f.image_bytes(w, h).unwrap()];
        pack_from_u16(f, w, h, &s, &mut b).unwrap();
        let mut back = vec![0xFFFFu16; w * h];
        unpack_to_u16(f, w, h, &b, &mut back).unwrap();
        prop_assert_eq!(back, s);
    }

    /// pack(unpack(bytes)) == bytes & significant-bit mask.
    #[test]
    fn unpack_then_pack(fi in 0..single_formats().len(), w in 1usize..64, h in 1usize..8,
                        seed in proptest::collection::vec(any::<u8>(), 64 * 8 * 2)) {
        let f = single_formats()[fi];
        let n = f.image_bytes(w, h).unwrap();
        let bytes = &seed[..n];
        // The significant bits are exactly those set by packing all-ones samples.
        let mut mask = vec![0u8; n];
        pack_from_u16(f, w, h, &vec![u16::MAX; w * h], &mut mask).unwrap();
        let mut s = vec![0u16; w * h];
        unpack_to_u16(f, w, h, bytes, &mut s).unwrap();
        let mut back = vec![0xA5u8; n];
        pack_from_u16(f, w, h, &s, &mut back).unwrap();
        let expected: Vec<u8> = bytes.iter().zip(&mask).map(|(b, m)| b & m).collect();
        prop_assert_eq!(back, expected);
    }

    /// Packed formats: every bit is significant except line padding and the
    /// documented GigE spare bits.
    #[test]
    fn packed_mask_is_tight(fi in 0..packed_formats().len(), w in 1usize..64) {
        let f = packed_formats()[fi];
        let n = f.line_bytes(w).unwrap();
        let mut mask = vec![0u8; n];
        pack(f, w, 1, &vec![u16::MAX; w], &mut mask).unwrap();
        let ones: u32 = mask.iter().map(|b| b.count_ones()).sum();
        prop_assert_eq!(ones as usize, w * f.pixel_bits() as usize);
    }

    /// Nothing panics on arbitrary sizes and buffer lengths.
    #[test]
    fn never_panics(fi in 0..PixelFormat::all().len(), w in 0usize..40, h in 0usize..6,
                    sl in 0usize..700, dl in 0usize..1100, big in any::<bool>()) {
        let f = PixelFormat::all()[fi];
        let (w, h) = if big { (usize::MAX / 3 + w, h + 2) } else { (w, h) };
        let src = vec![0x5Au8; sl];
        let mut d16 = vec![0u16; dl];
        let mut d8 = vec![0u8; dl];
        let s16 = vec![0x3FFu16; sl];
        let need_src = f.image_bytes(w, h);
        let r = unpack_to_u16(f, w, h, &src, &mut d16);
        if f.is_single_sample() && need_src.is_some_and(|n| n <= sl) && w * h <= dl {
            prop_assert!(r.is_ok());
        } else {
            prop_assert!(r.is_err());
        }
        let _ = unpack(f, w, h, &src, &mut d16);
        let _ = pack(f, w, h, &s16, &mut d8);
        let _ = pack_from_u16(f, w, h, &s16, &mut d8);
        let r1 = to_mono8(f, w, h, &src, &mut d8);
        let r3 = to_rgb8(f, w, h, &src, &mut d8);
        let r4 = to_bgra8(f, w, h, &src, &mut d8);
        if !big {
            let n = need_src.unwrap();
            prop_assert_eq!(r1.is_ok(), n <= sl && w * h <= dl);
            prop_assert_eq!(r3.is_ok(), n <= sl && 3 * w * h <= dl);
            prop_assert_eq!(r4.is_ok(), n <= sl && 4 * w * h <= dl);
        } else {
            prop_assert!(r1.is_err() && r3.is_err() && r4.is_err());
        }
    }
}

/// Release-mode throughput of Mono12p → u16 on a 2448×2048 frame.
/// Run with `cargo test -p pixel --release --test pack_props -- --ignored --nocapture`.
#[test]
#[ignore]
fn unpack_speed() {
    use std::time::Instant;
    let (w, h) = (2448usize, 2048usize);
    for f in [
        PixelFormat::Mono12p,
        PixelFormat::Mono10p,
        PixelFormat::Mono12Packed,
    ] {
        let src: Vec<u8> = (0..f.image_bytes(w, h).unwrap())
            .map(|i| (i * 7 + 3) as u8)
            .collect();
        let mut dst = vec![0u16; w * h];
        unpack(f, w, h, &src, &mut dst).unwrap();
        let iters = 50;
        let t = Instant::now();
        for _ in 0..iters {
            unpack(f, w, h, std::hint::black_box(&src), &mut dst).unwrap();
            std::hint::black_box(&dst);
        }
        let secs = t.elapsed().as_secs_f64();
        let mpix = (w * h * iters) as f64 / secs / 1e6;
        eprintln!(
            "{f}: {mpix:.0} Mpix/s ({:.3} ms/frame)",
            secs * 1e3 / iters as f64
        );
    }
}
