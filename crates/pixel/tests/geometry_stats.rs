//! Binning, decimation, mirror, ROI, histograms, statistics and grey world.

use pixel::demosaic::BayerPattern;
use pixel::geometry::{
    bayer_after_mirror, bayer_after_offset, bin, binned_size, crop, decimate, decimated_size,
    image_len, mirror, mirror_in_place, Axis, Binning, BinningMode, Decimation, GeometryError,
    PixelLayout, Roi,
};
use pixel::stats::{
    channel_count, grey_world, histogram, histogram_len, stats, StatsError, WhiteBalance,
};
use proptest::prelude::*;

const MONO: PixelLayout = PixelLayout::Mono;

/// A mosaic of `pattern` with the flat colour `rgb`.
fn flat_mosaic(pattern: BayerPattern, w: usize, h: usize, rgb: [u16; 3]) -> Vec<u16> {
    let mut v = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            v.push(rgb[pattern.channel_at(x, y)]);
        }
    }
    v
}

/// Checks that `img` is a mosaic of `pattern` with the flat colour `rgb`.
fn assert_flat_mosaic(pattern: BayerPattern, w: usize, h: usize, img: &[u16], rgb: [u16; 3]) {
    for y in 0..h {
        for x in 0..w {
            assert_eq!(
                img[y * w + x],
                rgb[pattern.channel_at(x, y)],
                "pixel ({x},{y}) of {pattern:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Binning
// ---------------------------------------------------------------------------

#[test]
fn mono_binning_by_hand() {
    #[rustfmt::skip]
    let src: [u8; 16] = [
        1, 2, 3, 4,
        5, 6, 7, 8,
        9, 10, 11, 12,
        13, 14, 15, 100,
    ];
    let mut dst = [0u8; 4];
    let sum = Binning::new(2, 2, BinningMode::Sum);
    assert_eq!(bin(MONO, 4, 4, &sum, 8, &src, &mut dst), Ok((2, 2)));
    assert_eq!(dst, [14, 22, 46, 138]);
    // Clipped at the bit depth: 7-bit max is 127.
    assert_eq!(bin(MONO, 4, 4, &sum, 7, &src, &mut dst), Ok((2, 2)));
    assert_eq!(dst, [14, 22, 46, 127]);

    let avg = Binning::new(2, 2, BinningMode::Average);
    bin(MONO, 4, 4, &avg, 8, &src, &mut dst).unwrap();
    // 14/4 = 3.5 -> 4, 22/4 = 5.5 -> 6, 46/4 = 11.5 -> 12, 138/4 = 34.5 -> 35.
    assert_eq!(dst, [4, 6, 12, 35]);

    // Horizontal only, sum: pairs along rows.
    let mut dst = [0u8; 8];
    let h2 = Binning::new(2, 1, BinningMode::Sum);
    assert_eq!(bin(MONO, 4, 4, &h2, 8, &src, &mut dst), Ok((2, 4)));
    assert_eq!(dst, [3, 7, 11, 15, 19, 23, 27, 115]);

    // Mixed: horizontal sum, vertical average: (sum of 4 + 1) / 2.
    let mixed = Binning {
        horizontal: 2,
        vertical: 2,
        horizontal_mode: BinningMode::Sum,
        vertical_mode: BinningMode::Average,
    };
    let mut dst = [0u8; 4];
    bin(MONO, 4, 4, &mixed, 8, &src, &mut dst).unwrap();
    assert_eq!(dst, [7, 11, 23, 69]);

    // 4x4 -> 1 pixel.
    let mut one = [0u16; 1];
    let src16: Vec<u16> = src.iter().map(|&v| v as u16 * 300).collect();
    bin(
        MONO,
        4,
        4,
        &Binning::new(4, 4, BinningMode::Sum),
        16,
        &src16,
        &mut one,
    )
    .unwrap();
    assert_eq!(one, [65535]);
    bin(
        MONO,
        4,
        4,
        &Binning::new(4, 4, BinningMode::Sum),
        12,
        &src16,
        &mut one,
    )
    .unwrap();
    assert_eq!(one, [4095]);
    bin(
        MONO,
        4,
        4,
        &Binning::new(4, 4, BinningMode::Average),
        16,
        &src16,
        &mut one,
    )
    .unwrap();
    // (1+...+15 + 100) * 300 / 16 = 66000 / 16 = 4125.
    assert_eq!(one, [4125]);
}

#[test]
fn binning_odd_sizes_drop_leftovers() {
    // 5x3 mono by 2x2: 2x1, the last column and row are dropped.
    let src: Vec<u8> = (0..15).collect();
    let mut dst = [0u8; 2];
    assert_eq!(
        bin(
            MONO,
            5,
            3,
            &Binning::new(2, 2, BinningMode::Sum),
            8,
            &src,
            &mut dst
        ),
        Ok((2, 1))
    );
    assert_eq!(dst, [1 + 5 + 6, 2 + 3 + 7 + 8]);

    let bayer = PixelLayout::Bayer(BayerPattern::RG);
    let b2 = Binning::new(2, 2, BinningMode::Sum);
    // Bayer widths for factor 2: block 4 -> 2 per block, +1 if 3 left.
    for (w, out) in [
        (0, 0),
        (1, 0),
        (2, 0),
        (3, 1),
        (4, 2),
        (5, 2),
        (6, 2),
        (7, 3),
        (8, 4),
    ] {
        assert_eq!(binned_size(bayer, w, 8, &b2).unwrap().0, out, "width {w}");
    }
    // Factor 4: block 8, +1 if 7 left; factor 1 keeps everything.
    let b4 = Binning::new(4, 1, BinningMode::Sum);
    for (w, out) in [(6, 0), (7, 1), (8, 2), (15, 3), (16, 4)] {
        assert_eq!(
            binned_size(bayer, w, 5, &b4).unwrap(),
            (out, 5),
            "width {w}"
        );
    }
    assert_eq!(
        binned_size(MONO, 9, 7, &Binning::new(4, 2, BinningMode::Sum)).unwrap(),
        (2, 3)
    );

    // Bayer 7x7 by 2: 3x3 output, the odd last column/row is the even phase.
    let src: Vec<u16> = (0..49).collect();
    let mut dst = [0u16; 9];
    bin(bayer, 7, 7, &b2, 16, &src, &mut dst).unwrap();
    // Output (2, 0): source columns 4, 6 of rows 0, 2.
    assert_eq!(dst[2], 4 + 6 + 18 + 20);
    // Output (0, 0): columns 0, 2 of rows 0, 2. Output (1, 1): columns 1, 3 of rows 1, 3.
    assert_eq!(dst[0], 2 + 14 + 16);
    assert_eq!(dst[4], (8 + 10) + (22 + 24));
    // Output (2, 2): columns 4, 6 of rows 4, 6.
    assert_eq!(dst[8], 32 + 34 + 46 + 48);
}

#[test]
fn bayer_binning_keeps_the_pattern() {
    let rgb = [300u16, 500, 700];
    for pattern in BayerPattern::ALL {
        let layout = PixelLayout::Bayer(pattern);
        for (w, h) in [(16, 16), (16, 8), (15, 13), (7, 9)] {
            let src = flat_mosaic(pattern, w, h, rgb);
            for (fh, fv) in [(1, 1), (2, 2), (4, 4), (2, 1), (1, 4), (4, 2)] {
                for mode in [BinningMode::Sum, BinningMode::Average] {
                    let b = Binning::new(fh, fv, mode);
                    let (ow, oh) = binned_size(layout, w, h, &b).unwrap();
                    let mut dst = vec![0u16; ow * oh];
                    assert_eq!(bin(layout, w, h, &b, 12, &src, &mut dst), Ok((ow, oh)));
                    let k = match mode {
                        BinningMode::Sum => (fh * fv) as u16,
                        BinningMode::Average => 1,
                    };
                    let expected = rgb.map(|c| (c * k).min(4095));
                    assert_flat_mosaic(pattern, ow, oh, &dst, expected);
                }
            }
        }
    }
}

#[test]
fn rgb_binning() {
    // 4x2 RGB, bin 2x2 average -> 2x1.
    let mut src = Vec::new();
    for y in 0..2u8 {
        for x in 0..4u8 {
            src.extend_from_slice(&[10 * x + y, 100 + x, 200 - 10 * y]);
        }
    }
    let mut dst = [0u8; 6];
    let b = Binning::new(2, 2, BinningMode::Average);
    assert_eq!(
        bin(PixelLayout::Rgb, 4, 2, &b, 8, &src, &mut dst),
        Ok((2, 1))
    );
    // Red (0+10+1+11)/4 = 5.5 -> 6; green (100+101)*2/4 = 100.5 -> 101; blue 195.
    assert_eq!(dst, [6, 101, 195, 26, 103, 195]);
}

// ---------------------------------------------------------------------------
// Decimation
// ---------------------------------------------------------------------------

#[test]
fn decimation() {
    let src: Vec<u8> = (0..20).collect(); // 5x4 mono
    let d = Decimation {
        horizontal: 2,
        vertical: 2,
    };
    let mut dst = [0u8; 4];
    assert_eq!(decimate(MONO, 5, 4, &d, &src, &mut dst), Ok((2, 2)));
    assert_eq!(dst, [0, 2, 10, 12]);
    assert_eq!(decimated_size(MONO, 5, 4, &d), Ok((2, 2)));

    // Bayer 8x4 by 2 horizontally: keeps columns 0, 1, 4, 5.
    let bayer = PixelLayout::Bayer(BayerPattern::GB);
    let src: Vec<u16> = (0..32).collect();
    let d = Decimation {
        horizontal: 2,
        vertical: 1,
    };
    let mut dst = [0u16; 16];
    assert_eq!(decimate(bayer, 8, 4, &d, &src, &mut dst), Ok((4, 4)));
    assert_eq!(&dst[..4], &[0, 1, 4, 5]);
    assert_eq!(&dst[12..], &[24, 25, 28, 29]);

    // Flat Bayer colours survive decimation in every pattern.
    for pattern in BayerPattern::ALL {
        let layout = PixelLayout::Bayer(pattern);
        let src = flat_mosaic(pattern, 13, 11, [1, 2, 3]);
        for f in [1, 2, 4] {
            let d = Decimation {
                horizontal: f,
                vertical: f,
            };
            let (ow, oh) = decimated_size(layout, 13, 11, &d).unwrap();
            assert_eq!(
                (ow, oh),
                binned_size(layout, 13, 11, &Binning::new(f, f, BinningMode::Sum)).unwrap()
            );
            let mut dst = vec![0u16; ow * oh];
            decimate(layout, 13, 11, &d, &src, &mut dst).unwrap();
            assert_flat_mosaic(pattern, ow, oh, &dst, [1, 2, 3]);
        }
    }

    // RGB keeps whole pixels.
    let src: Vec<u8> = (0..24).collect(); // 4x2 RGB
    let mut dst = [0u8; 6];
    let d = Decimation {
        horizontal: 2,
        vertical: 2,
    };
    assert_eq!(
        decimate(PixelLayout::Bgr, 4, 2, &d, &src, &mut dst),
        Ok((2, 1))
    );
    assert_eq!(dst, [0, 1, 2, 6, 7, 8]);
}

// ---------------------------------------------------------------------------
// Mirror
// ---------------------------------------------------------------------------

#[test]
fn mirror_by_hand_and_twice_is_identity() {
    let src: Vec<u8> = (0..6).collect(); // 3x2 mono
    let mut dst = [0u8; 6];
    mirror(MONO, 3, 2, true, false, &src, &mut dst).unwrap();
    assert_eq!(dst, [2, 1, 0, 5, 4, 3]);
    mirror(MONO, 3, 2, false, true, &src, &mut dst).unwrap();
    assert_eq!(dst, [3, 4, 5, 0, 1, 2]);
    mirror(MONO, 3, 2, true, true, &src, &mut dst).unwrap();
    assert_eq!(dst, [5, 4, 3, 2, 1, 0]);

    // RGB keeps sample order within a pixel.
    let src: Vec<u8> = (0..12).collect(); // 2x2 RGB
    let mut dst = [0u8; 12];
    mirror(PixelLayout::Rgb, 2, 2, true, false, &src, &mut dst).unwrap();
    assert_eq!(dst, [3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8]);
    let mut inplace = src.clone();
    mirror_in_place(PixelLayout::Rgb, 2, 2, true, false, &mut inplace).unwrap();
    assert_eq!(inplace, dst);

    for layout in [MONO, PixelLayout::Rgb, PixelLayout::Bayer(BayerPattern::BG)] {
        for (w, h) in [(0, 0), (1, 1), (5, 3), (4, 4), (7, 6)] {
            let n = w * h * layout.samples_per_pixel();
            let src: Vec<u16> = (0..n as u16).map(|v| v.wrapping_mul(7919)).collect();
            for (rx, ry) in [(true, false), (false, true), (true, true), (false, false)] {
                let mut once = vec![0u16; n];
                let mut twice = vec![0u16; n];
                mirror(layout, w, h, rx, ry, &src, &mut once).unwrap();
                mirror(layout, w, h, rx, ry, &once, &mut twice).unwrap();
                assert_eq!(twice, src);
                let mut inplace = src.clone();
                mirror_in_place(layout, w, h, rx, ry, &mut inplace).unwrap();
                assert_eq!(inplace, once, "{layout:?} {w}x{h} {rx} {ry}");
                mirror_in_place(layout, w, h, rx, ry, &mut inplace).unwrap();
                assert_eq!(inplace, src);
            }
        }
    }
}

#[test]
fn bayer_pattern_after_mirror_and_offset() {
    let rgb = [10u16, 20, 30];
    for pattern in BayerPattern::ALL {
        let layout = PixelLayout::Bayer(pattern);
        for (w, h) in [(4, 4), (5, 4), (4, 5), (5, 5)] {
            let src = flat_mosaic(pattern, w, h, rgb);
            for (rx, ry) in [(true, false), (false, true), (true, true)] {
                let mut dst = vec![0u16; w * h];
                mirror(layout, w, h, rx, ry, &src, &mut dst).unwrap();
                let new = bayer_after_mirror(pattern, w, h, rx, ry);
                assert_flat_mosaic(new, w, h, &dst, rgb);
            }
        }
        for (x, y) in [(0, 0), (1, 0), (0, 1), (1, 1), (2, 3), (3, 2)] {
            let src = flat_mosaic(pattern, 6, 6, rgb);
            let roi = Roi {
                x,
                y,
                width: 3,
                height: 3,
            };
            let mut dst = [0u16; 9];
            crop(layout, 6, 6, &roi, &src, &mut dst).unwrap();
            assert_flat_mosaic(bayer_after_offset(pattern, x, y), 3, 3, &dst, rgb);
        }
    }
    assert_eq!(bayer_after_offset(BayerPattern::RG, 1, 0), BayerPattern::GR);
    assert_eq!(bayer_after_offset(BayerPattern::RG, 0, 1), BayerPattern::GB);
    assert_eq!(bayer_after_offset(BayerPattern::RG, 1, 1), BayerPattern::BG);
    assert_eq!(
        bayer_after_mirror(BayerPattern::RG, 2448, 2048, true, false),
        BayerPattern::GR
    );
    assert_eq!(
        bayer_after_mirror(BayerPattern::RG, 2447, 2047, true, true),
        BayerPattern::RG
    );
}

// ---------------------------------------------------------------------------
// ROI
// ---------------------------------------------------------------------------

#[test]
fn roi_crop() {
    let src: Vec<u8> = (0..20).collect(); // 5x4 mono
    let roi = Roi {
        x: 1,
        y: 2,
        width: 3,
        height: 2,
    };
    let mut dst = [0u8; 6];
    crop(MONO, 5, 4, &roi, &src, &mut dst).unwrap();
    assert_eq!(dst, [11, 12, 13, 16, 17, 18]);

    let src: Vec<u8> = (0..18).collect(); // 3x2 RGB
    let mut dst = [0u8; 6];
    let roi = Roi {
        x: 1,
        y: 1,
        width: 2,
        height: 1,
    };
    crop(PixelLayout::Rgb, 3, 2, &roi, &src, &mut dst).unwrap();
    assert_eq!(dst, [12, 13, 14, 15, 16, 17]);

    // Errors name the feature at fault.
    let src = [0u8; 20];
    let mut dst = [0u8; 20];
    let err = crop(
        MONO,
        5,
        4,
        &Roi {
            x: 3,
            y: 0,
            width: 3,
            height: 1,
        },
        &src,
        &mut dst,
    )
    .unwrap_err();
    assert_eq!(
        err,
        GeometryError::RoiOutOfRange {
            axis: Axis::Horizontal,
            offset: 3,
            size: 3,
            limit: 5
        }
    );
    assert_eq!(
        err.to_string(),
        "ROI out of range: OffsetX 3 + Width 3 exceeds the image width 5"
    );
    let err = crop(
        MONO,
        5,
        4,
        &Roi {
            x: 0,
            y: 3,
            width: 1,
            height: 2,
        },
        &src,
        &mut dst,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ROI out of range: OffsetY 3 + Height 2 exceeds the image height 4"
    );
    let huge = Roi {
        x: usize::MAX,
        y: 0,
        width: 2,
        height: 1,
    };
    assert!(matches!(
        crop(MONO, 5, 4, &huge, &src, &mut dst),
        Err(GeometryError::RoiOutOfRange { .. })
    ));
    // Destination too short, empty ROI fine.
    let mut small = [0u8; 3];
    let roi = Roi {
        x: 0,
        y: 0,
        width: 2,
        height: 2,
    };
    assert_eq!(
        crop(MONO, 5, 4, &roi, &src, &mut small),
        Err(GeometryError::DestinationTooShort {
            needed: 4,
            actual: 3
        })
    );
    assert_eq!(
        crop(
            MONO,
            5,
            4,
            &Roi {
                x: 5,
                y: 4,
                width: 0,
                height: 0
            },
            &src,
            &mut small
        ),
        Ok(())
    );
}

#[test]
fn geometry_errors() {
    let src = [0u8; 16];
    let mut dst = [0u8; 16];
    assert_eq!(
        bin(
            MONO,
            4,
            4,
            &Binning::new(3, 1, BinningMode::Sum),
            8,
            &src,
            &mut dst
        ),
        Err(GeometryError::InvalidFactor {
            axis: Axis::Horizontal,
            factor: 3
        })
    );
    assert_eq!(
        bin(
            MONO,
            4,
            4,
            &Binning::new(2, 1, BinningMode::Sum),
            9,
            &src,
            &mut dst
        ),
        Err(GeometryError::InvalidBitDepth {
            bit_depth: 9,
            max: 8
        })
    );
    assert_eq!(
        bin(
            MONO,
            4,
            5,
            &Binning::new(2, 1, BinningMode::Sum),
            8,
            &src,
            &mut dst
        ),
        Err(GeometryError::SourceTooShort {
            needed: 20,
            actual: 16
        })
    );
    assert_eq!(
        decimate(
            MONO,
            4,
            4,
            &Decimation {
                horizontal: 1,
                vertical: 0
            },
            &src,
            &mut dst
        ),
        Err(GeometryError::InvalidFactor {
            axis: Axis::Vertical,
            factor: 0
        })
    );
    assert_eq!(
        mirror(PixelLayout::Rgb, 2, 3, true, true, &[0u8; 18], &mut dst),
        Err(GeometryError::DestinationTooShort {
            needed: 18,
            actual: 16
        })
    );
    assert!(matches!(
        image_len(PixelLayout::Rgb, usize::MAX / 2, 1),
        Err(GeometryError::SizeOverflow { .. })
    ));
}

// ---------------------------------------------------------------------------
// Histograms and statistics
// ---------------------------------------------------------------------------

#[test]
fn histogram_mono_by_hand() {
    let src: [u8; 10] = [0, 1, 2, 3, 4, 255, 128, 127, 64, 64];
    let mut hist = [0u64; 4];
    histogram(MONO, 5, 2, 8, 4, &src, &mut hist).unwrap();
    // Bins of 64: [0,64) [64,128) [128,192) [192,256).
    assert_eq!(hist, [5, 3, 1, 1]);
    let mut full = vec![7u64; 256];
    histogram(MONO, 5, 2, 8, 256, &src, &mut full).unwrap();
    assert_eq!(full[64], 2);
    assert_eq!(full.iter().sum::<u64>(), 10);

    // 12-bit data in u16, values above the range go to the last bin.
    let src: [u16; 4] = [0, 4095, 5000, 2048];
    let mut hist = [0u64; 2];
    histogram(MONO, 2, 2, 12, 2, &src, &mut hist).unwrap();
    assert_eq!(hist, [1, 3]);
}

#[test]
fn histogram_colour_channels() {
    // Bayer RG 5x3: R at (0,0),(2,0),(4,0),(0,2),(2,2),(4,2) = 6, B at
    // (1,1),(3,1) = 2, G the other 7.
    let layout = PixelLayout::Bayer(BayerPattern::RG);
    let src = flat_mosaic(BayerPattern::RG, 5, 3, [100, 200, 300]);
    let bins = 512;
    let mut hist = vec![0u64; histogram_len(layout, bins).unwrap()];
    histogram(layout, 5, 3, 9, bins, &src, &mut hist).unwrap();
    assert_eq!(hist[100], 6);
    assert_eq!(hist[bins + 200], 7);
    assert_eq!(hist[2 * bins + 300], 2);
    assert_eq!(hist.iter().sum::<u64>(), 15);

    // BGR: channels reported as R, G, B.
    let src: Vec<u8> = [[1u8, 2, 3]; 7].concat();
    let mut hist = vec![0u64; 3 * 4];
    histogram(PixelLayout::Bgr, 7, 1, 2, 4, &src, &mut hist).unwrap();
    assert_eq!(hist, [0, 0, 0, 7, 0, 0, 7, 0, 0, 7, 0, 0]);
    histogram(PixelLayout::Rgb, 7, 1, 2, 4, &src, &mut hist).unwrap();
    assert_eq!(hist, [0, 7, 0, 0, 0, 0, 7, 0, 0, 0, 0, 7]);

    // Errors.
    assert_eq!(
        histogram(MONO, 7, 1, 8, 3, &src, &mut hist),
        Err(StatsError::InvalidBinCount { bins: 3, max: 256 })
    );
    assert_eq!(
        histogram(MONO, 7, 1, 2, 8, &src, &mut hist),
        Err(StatsError::InvalidBinCount { bins: 8, max: 4 })
    );
    assert_eq!(
        histogram(PixelLayout::Rgb, 7, 1, 8, 8, &src, &mut hist),
        Err(StatsError::HistogramTooShort {
            needed: 24,
            actual: 12
        })
    );
}

#[test]
fn histograms_sum_to_pixel_count() {
    let mut seed = 0x1234_5678u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for layout in [
        MONO,
        PixelLayout::Rgb,
        PixelLayout::Bgr,
        PixelLayout::Bayer(BayerPattern::GR),
    ] {
        for (w, h) in [(1, 1), (3, 5), (64, 33), (127, 9)] {
            let n = w * h * layout.samples_per_pixel();
            let src: Vec<u16> = (0..n).map(|_| (next() % 1500) as u16).collect();
            for bins in [1, 16, 1024] {
                let mut hist = vec![0u64; histogram_len(layout, bins).unwrap()];
                histogram(layout, w, h, 10, bins, &src, &mut hist).unwrap();
                let per_channel: Vec<u64> = hist.chunks(bins).map(|c| c.iter().sum()).collect();
                let s = stats(layout, w, h, 10, &src).unwrap();
                assert_eq!(per_channel.len(), channel_count(layout));
                for (c, (&count, st)) in per_channel.iter().zip(s.as_slice()).enumerate() {
                    assert_eq!(count, st.count, "{layout:?} {w}x{h} channel {c}");
                    // The last bin holds at least the saturated samples.
                    assert!(hist[c * bins + bins - 1] >= st.saturated);
                }
                assert_eq!(hist.iter().sum::<u64>(), (n) as u64);
                if layout.samples_per_pixel() == 3 {
                    assert!(per_channel.iter().all(|&c| c == (w * h) as u64));
                }
            }
        }
    }
}

#[test]
fn stats_by_hand() {
    let src: [u8; 6] = [10, 20, 255, 0, 30, 255];
    let s = stats(MONO, 3, 2, 8, &src).unwrap();
    assert_eq!(s.channel_count, 1);
    let c = s.as_slice()[0];
    assert_eq!(
        (c.count, c.sum, c.min, c.max, c.saturated),
        (6, 570, 0, 255, 2)
    );
    assert!((c.mean - 95.0).abs() < 1e-9);

    // Bayer BG 2x2: B=100, G=200 and 1000, R=1023 (saturated at 10 bits).
    let layout = PixelLayout::Bayer(BayerPattern::BG);
    let src: [u16; 4] = [100, 200, 1000, 1023];
    let s = stats(layout, 2, 2, 10, &src).unwrap();
    let [r, g, b] = s.channels;
    assert_eq!((r.count, r.max, r.saturated), (1, 1023, 1));
    assert_eq!((g.count, g.min, g.max, g.saturated), (2, 200, 1000, 0));
    assert!((g.mean - 600.0).abs() < 1e-9);
    assert_eq!((b.count, b.mean), (1, 100.0));

    // Empty image: all zero.
    let s = stats::<u8>(PixelLayout::Rgb, 0, 5, 8, &[]).unwrap();
    assert_eq!(s.as_slice().len(), 3);
    assert!(s.as_slice().iter().all(|c| c.count == 0 && c.mean == 0.0));
    assert_eq!(
        stats(MONO, 4, 2, 16, &src[..]),
        Err(StatsError::SourceTooShort {
            needed: 8,
            actual: 4
        })
    );
    assert_eq!(
        stats(MONO, 2, 2, 9, &[0u8; 4]),
        Err(StatsError::InvalidBitDepth {
            bit_depth: 9,
            max: 8
        })
    );
}

// ---------------------------------------------------------------------------
// Grey world
// ---------------------------------------------------------------------------

#[test]
fn grey_world_recovers_channel_gains() {
    // A grey scene seen through channel sensitivities 0.5 (R), 1 (G),
    // 0.8 (B): the gains are 2 and 1.25.
    let (w, h) = (64, 48);
    let grey = |x: usize, y: usize| {
        400.0 + 3.0 * x as f64 + 5.0 * y as f64 + ((x * 7 + y * 13) % 17) as f64 * 10.0
    };
    let sens = [0.5, 1.0, 0.8];
    let mut rgb = Vec::new();
    for y in 0..h {
        for x in 0..w {
            for s in sens {
                rgb.push((grey(x, y) * s).round() as u16);
            }
        }
    }
    let wb = grey_world(PixelLayout::Rgb, w, h, 12, &rgb).unwrap();
    assert!(
        (wb.red - 2.0).abs() < 0.005 && (wb.blue - 1.25).abs() < 0.005,
        "{wb:?}"
    );

    // BGR: same result with the samples swapped.
    let bgr: Vec<u16> = rgb.chunks(3).flat_map(|p| [p[2], p[1], p[0]]).collect();
    let wb2 = grey_world(PixelLayout::Bgr, w, h, 12, &bgr).unwrap();
    assert_eq!(wb, wb2);

    // Bayer of each pattern, including odd sizes.
    for pattern in BayerPattern::ALL {
        for (bw, bh) in [(w, h), (w - 1, h - 1)] {
            let mosaic: Vec<u16> = (0..bw * bh)
                .map(|i| {
                    let (x, y) = (i % bw, i / bw);
                    (grey(x, y) * sens[pattern.channel_at(x, y)]).round() as u16
                })
                .collect();
            let wb = grey_world(PixelLayout::Bayer(pattern), bw, bh, 12, &mosaic).unwrap();
            assert!(
                (wb.red - 2.0).abs() < 0.02 && (wb.blue - 1.25).abs() < 0.02,
                "{pattern:?} {wb:?}"
            );
        }
    }

    // Saturated pixels are left out: add a clipped white patch.
    let mut clipped = rgb.clone();
    for p in clipped.chunks_mut(3).take(500) {
        p.copy_from_slice(&[4095, 4095, 4095]);
    }
    let wb3 = grey_world(PixelLayout::Rgb, w, h, 12, &clipped).unwrap();
    assert!(
        (wb3.red - 2.0).abs() < 0.01 && (wb3.blue - 1.25).abs() < 0.01,
        "{wb3:?}"
    );
}

#[test]
fn grey_world_errors() {
    assert_eq!(
        grey_world(MONO, 1, 1, 8, &[5u8]),
        Err(StatsError::NotColour)
    );
    assert_eq!(
        grey_world(PixelLayout::Rgb, 1, 1, 8, &[0u8, 5, 5]),
        Err(StatsError::NoColourData { channel: "red" })
    );
    // 1x1 Bayer: no complete cell.
    assert!(matches!(
        grey_world(PixelLayout::Bayer(BayerPattern::RG), 1, 1, 8, &[5u8]),
        Err(StatsError::NoColourData { .. })
    ));
    let wb = grey_world(
        PixelLayout::Bayer(BayerPattern::RG),
        2,
        2,
        8,
        &[50u8, 100, 100, 25],
    )
    .unwrap();
    assert_eq!(
        wb,
        WhiteBalance {
            red: 2.0,
            blue: 4.0
        }
    );
}

// ---------------------------------------------------------------------------
// No panics
// ---------------------------------------------------------------------------

fn layout_strategy() -> impl Strategy<Value = PixelLayout> {
    prop_oneof![
        Just(PixelLayout::Mono),
        Just(PixelLayout::Rgb),
        Just(PixelLayout::Bgr),
        proptest::sample::select(BayerPattern::ALL.to_vec()).prop_map(PixelLayout::Bayer),
    ]
}

fn factor() -> impl Strategy<Value = u32> {
    prop_oneof![4 => proptest::sample::select(vec![1u32, 2, 4]), 1 => 0u32..9]
}

fn mode() -> impl Strategy<Value = BinningMode> {
    prop_oneof![Just(BinningMode::Sum), Just(BinningMode::Average)]
}

proptest! {
    #[test]
    fn geometry_never_panics(
        layout in layout_strategy(),
        w in 0usize..24,
        h in 0usize..24,
        fh in factor(),
        fv in factor(),
        mh in mode(),
        mv in mode(),
        bits in 0u32..18,
        short_src in 0usize..3,
        short_dst in 0usize..3,
        roi in (0usize..26, 0usize..26, 0usize..26, 0usize..26),
        rx in any::<bool>(),
        ry in any::<bool>(),
        seed in any::<u16>(),
    ) {
        let spp = layout.samples_per_pixel();
        let n = (w * h * spp).saturating_sub(short_src);
        let src8: Vec<u8> = (0..n).map(|i| (i as u16 ^ seed) as u8).collect();
        let src16: Vec<u16> = (0..n).map(|i| (i as u16).wrapping_mul(31) ^ seed).collect();
        let b = Binning { horizontal: fh, vertical: fv, horizontal_mode: mh, vertical_mode: mv };
        let d = Decimation { horizontal: fh, vertical: fv };
        let out = binned_size(layout, w, h, &b);
        let dn = out.clone().map(|(ow, oh)| (ow * oh * spp).saturating_sub(short_dst)).unwrap_or(5);
        let mut dst8 = vec![0u8; dn];
        let mut dst16 = vec![0u16; dn];

        let r = bin(layout, w, h, &b, bits, &src8, &mut dst8);
        if let Ok(size) = r {
            prop_assert_eq!(Ok(size), out.clone());
            prop_assert!(size.0 <= w && size.1 <= h);
        }
        if short_src > 0 && w * h > 0 {
            prop_assert!(r.is_err());
        }
        let _ = bin(layout, w, h, &b, bits, &src16, &mut dst16);
        let rd = decimate(layout, w, h, &d, &src16, &mut dst16);
        if let Ok(size) = rd {
            prop_assert_eq!(Ok(size), out);
        }
        let _ = decimate(layout, w, h, &d, &src8, &mut dst8);

        let mut m8 = vec![0u8; (w * h * spp).saturating_sub(short_dst)];
        let _ = mirror(layout, w, h, rx, ry, &src8, &mut m8);
        let _ = mirror_in_place(layout, w, h, rx, ry, &mut m8);
        let mut m16 = src16.clone();
        let _ = mirror_in_place(layout, w, h, rx, ry, &mut m16);

        let roi = Roi { x: roi.0, y: roi.1, width: roi.2, height: roi.3 };
        let mut c16 = vec![0u16; (roi.width * roi.height * spp).saturating_sub(short_dst)];
        let rc = crop(layout, w, h, &roi, &src16, &mut c16);
        if roi.x + roi.width > w || roi.y + roi.height > h {
            prop_assert!(matches!(rc, Err(GeometryError::RoiOutOfRange { .. })), "{:?}", rc);
        }
        let _ = crop(layout, w, h, &roi, &src8, &mut dst8);
        if let PixelLayout::Bayer(p) = layout {
            let _ = bayer_after_mirror(p, w, h, rx, ry);
            let _ = bayer_after_offset(p, roi.x, roi.y);
        }
    }

    #[test]
    fn stats_never_panic(
        layout in layout_strategy(),
        w in 0usize..24,
        h in 0usize..24,
        bits in 0u32..18,
        bins_log in 0u32..18,
        extra_bins in 0usize..2,
        short_src in 0usize..3,
        short_hist in 0usize..3,
        seed in any::<u16>(),
    ) {
        let spp = layout.samples_per_pixel();
        let n = (w * h * spp).saturating_sub(short_src);
        let src8: Vec<u8> = (0..n).map(|i| (i as u16 ^ seed) as u8).collect();
        let src16: Vec<u16> = (0..n).map(|i| (i as u16).wrapping_mul(97) ^ seed).collect();
        let bins = (1usize << bins_log) + extra_bins;
        let hl = (bins * channel_count(layout)).saturating_sub(short_hist);
        let mut hist = vec![0u64; hl];
        let r = histogram(layout, w, h, bits, bins, &src16, &mut hist);
        if r.is_ok() {
            prop_assert_eq!(hist.iter().sum::<u64>(), n as u64);
        }
        let _ = histogram(layout, w, h, bits, bins, &src8, &mut hist);
        let s = stats(layout, w, h, bits, &src16);
        if let Ok(s) = s {
            let total: u64 = s.as_slice().iter().map(|c| c.count).sum();
            prop_assert_eq!(total, n as u64);
        }
        let _ = stats(layout, w, h, bits, &src8);
        if let Ok(wb) = grey_world(layout, w, h, bits, &src16) {
            prop_assert!(wb.red.is_finite() && wb.blue.is_finite() && wb.red > 0.0 && wb.blue > 0.0);
        }
        let _ = grey_world(layout, w, h, bits, &src8);
    }
}
