//! Generated test images (`TestImageSelector`).
//!
//! When the selector is not `Off` the camera outputs one of these images
//! instead of the sensor's, so that a host can tell sensor problems from
//! transport problems by comparing every received frame with the exact
//! image defined here.
//!
//! # Coordinates and sample values
//!
//! The images are defined on an unbounded full-image plane. An output
//! window of `width × height` pixels at (`offset_x`, `offset_y`) (the
//! features `OffsetX`, `OffsetY`) shows the pixels `X = offset_x + x`,
//! `Y = offset_y + y` for `x in 0..width`, `y in 0..height`, so a region of
//! interest is exactly a crop of the full test image.
//!
//! Every image is defined as an 8-bit RGB triple `(R8, G8, B8)` per pixel
//! (each component 0..=255). A sample at `bits` bits (8 ..= 16) is the 8-bit
//! value shifted left: `v = v8 << (bits - 8)`.
//!
//! # The images
//!
//! `frame` is the output frame number passed to [`render`].
//!
//! | image | R8 = G8 = B8 (grey images) or (R8, G8, B8) |
//! |---|---|
//! | `GreyHorizontalRamp` | `X mod 256` |
//! | `GreyVerticalRamp` | `Y mod 256` |
//! | `GreyHorizontalRampMoving` | `(X + frame) mod 256` |
//! | `GreyDiagonalRampMoving` | `(X + Y + frame) mod 256` |
//! | `ColorBar` | bar `(X / 256) mod 8` (bars 256 pixels wide, repeating): 0 white (255, 255, 255), 1 yellow (255, 255, 0), 2 cyan (0, 255, 255), 3 green (0, 255, 0), 4 magenta (255, 0, 255), 5 red (255, 0, 0), 6 blue (0, 0, 255), 7 black (0, 0, 0) |
//! | `Checkerboard` | 64 × 64 squares: 255 where `X / 64 + Y / 64` is even, else 0 |
//! | `FrameCounter` | see below |
//!
//! Sums are taken without overflow (modulo 2⁶⁴, which leaves the result
//! modulo 256 unchanged); `/` is integer division.
//!
//! ## FrameCounter
//!
//! * **Bytes**: the pixels `X = 0..8` of row `Y = 0` hold the frame number
//!   as 8 little-endian bytes: pixel `X = i` is grey with `v8` = byte `i` of
//!   `frame` (`(frame >> 8 i) & 0xFF`). A window shows all eight only when
//!   `offset_y = 0`, `offset_x = 0` and `width ≥ 8`; otherwise it shows the
//!   part of them that falls inside it (none when `offset_y > 0`).
//! * **Digits**: every other pixel is mid-grey 128, except the decimal
//!   digits of `frame` (no leading zeros, most significant first) drawn in
//!   white (255) with a 5 × 7 dot font ([`FONT_5X7`]) scaled by 16: digit
//!   `k` (0 = leftmost) has its top-left corner at
//!   `(32 + 96 k, 32)`; its dot at column `c` (0..5, left to right) and row
//!   `r` (0..7, top to bottom) covers the pixels
//!   `32 + 96 k + 16 c ≤ X < 32 + 96 k + 16 (c + 1)`,
//!   `32 + 16 r ≤ Y < 32 + 16 (r + 1)`, and is white when bit `4 − c` of
//!   `FONT_5X7[digit][r]` is set.
//!
//! # Layouts
//!
//! * [`PixelLayout::Rgb`] / [`PixelLayout::Bgr`]: three interleaved samples
//!   (R, G, B) or (B, G, R).
//! * [`PixelLayout::Mono`]: one sample, the BT.601 luma of the 8-bit triple,
//!   rounded half up: `v8 = (299 R8 + 587 G8 + 114 B8 + 500) / 1000`
//!   (integer division). For the grey images this is the grey value itself.
//! * [`PixelLayout::Bayer`]`(p)`: one sample, the component
//!   `p.channel_at(x, y)` (0 = R, 1 = G, 2 = B) of the triple at that pixel.
//!   The phase is taken in **output** coordinates (`x`, `y`), i.e. the
//!   delivered buffer is a mosaic of pattern `p` whatever the offsets; a
//!   window at odd offsets therefore equals the crop of a full render made
//!   with the pattern
//!   [`pixel::geometry::bayer_after_offset`]`(p, offset_x, offset_y)`.
//!
//! # Errors
//!
//! [`render`] fails (and writes nothing) for [`TestImage::Off`], for `bits`
//! outside 8 ..= 16, when `width × height × samples per pixel` overflows, and
//! when `out` is shorter than that; a longer `out` is accepted and only its
//! first samples are written.

use pixel::geometry::PixelLayout;
use rayon::prelude::*;

/// A test image of `TestImageSelector`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestImage {
    /// No test image: the sensor's image is output.
    Off,
    /// Grey ramp along X: `v8 = X mod 256`.
    GreyHorizontalRamp,
    /// Grey ramp along Y: `v8 = Y mod 256`.
    GreyVerticalRamp,
    /// Grey ramp along X moving one pixel per frame: `(X + frame) mod 256`.
    GreyHorizontalRampMoving,
    /// Diagonal grey ramp moving one step per frame: `(X + Y + frame) mod 256`.
    GreyDiagonalRampMoving,
    /// Eight colour bars, 256 pixels wide, repeating.
    ColorBar,
    /// 64 × 64 black and white squares.
    Checkerboard,
    /// The frame number, as bytes in the first pixels and as large digits.
    FrameCounter,
}

impl TestImage {
    /// Every entry, in the order of the `TestImageSelector` enumeration.
    pub const ALL: [TestImage; 8] = [
        TestImage::Off,
        TestImage::GreyHorizontalRamp,
        TestImage::GreyVerticalRamp,
        TestImage::GreyHorizontalRampMoving,
        TestImage::GreyDiagonalRampMoving,
        TestImage::ColorBar,
        TestImage::Checkerboard,
        TestImage::FrameCounter,
    ];

    /// The SFNC entry name, e.g. `"GreyHorizontalRamp"`.
    pub fn name(self) -> &'static str {
        match self {
            TestImage::Off => "Off",
            TestImage::GreyHorizontalRamp => "GreyHorizontalRamp",
            TestImage::GreyVerticalRamp => "GreyVerticalRamp",
            TestImage::GreyHorizontalRampMoving => "GreyHorizontalRampMoving",
            TestImage::GreyDiagonalRampMoving => "GreyDiagonalRampMoving",
            TestImage::ColorBar => "ColorBar",
            TestImage::Checkerboard => "Checkerboard",
            TestImage::FrameCounter => "FrameCounter",
        }
    }

    /// The entry called `name` (exact, case-sensitive), if any.
    pub fn from_name(name: &str) -> Option<TestImage> {
        TestImage::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Errors of [`render`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestImageError {
    /// [`TestImage::Off`] has no image.
    #[error("TestImageSelector is Off: there is no test image to render")]
    Off,
    /// `bits` is not in 8 ..= 16.
    #[error("invalid sample bit depth {0} (must be 8..=16)")]
    InvalidBits(u32),
    /// `width × height × samples per pixel` does not fit in `usize`.
    #[error("test image size {width}x{height} overflows")]
    SizeOverflow {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The output buffer is shorter than the image.
    #[error("output buffer too short: need {needed} samples, got {actual}")]
    BufferTooShort {
        /// Samples the image needs.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
}

/// The 5 × 7 dot font of the `FrameCounter` digits: `FONT_5X7[d][r]` is row
/// `r` (top first) of digit `d`, bit 4 the leftmost dot.
pub const FONT_5X7: [[u8; 7]; 10] = [
    [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
    [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
    [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
    [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
    [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
    [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
    [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
    [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
    [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
    [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
];

/// Pixels per font dot of the `FrameCounter` digits.
const DOT: u64 = 16;
/// Full-image X and Y of the first digit's top-left corner.
const DIGIT_ORIGIN: u64 = 32;
/// Horizontal distance between digits: 5 dots plus one dot of spacing.
const DIGIT_PITCH: u64 = 6 * DOT;
/// Background of `FrameCounter`.
const COUNTER_BACKGROUND: u8 = 128;

/// The eight colour bars of `ColorBar`, left to right.
const COLOR_BARS: [[u8; 3]; 8] = [
    [255, 255, 255],
    [255, 255, 0],
    [0, 255, 255],
    [0, 255, 0],
    [255, 0, 255],
    [255, 0, 0],
    [0, 0, 255],
    [0, 0, 0],
];

/// One image for one frame, with what is fixed for the frame precomputed.
struct Pattern {
    image: TestImage,
    frame: u64,
    /// Decimal digits of `frame`, most significant first, in `digits[..n_digits]`.
    digits: [u8; 20],
    n_digits: usize,
}

impl Pattern {
    fn new(image: TestImage, frame: u64) -> Pattern {
        let mut reversed = [0u8; 20];
        let mut n = 0;
        let mut rest = frame;
        loop {
            reversed[n] = (rest % 10) as u8;
            n += 1;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let mut digits = [0u8; 20];
        for (d, r) in digits.iter_mut().zip(reversed[..n].iter().rev()) {
            *d = *r;
        }
        Pattern {
            image,
            frame,
            digits,
            n_digits: n,
        }
    }

    /// The 8-bit RGB triple at full-image pixel (`x`, `y`).
    #[inline]
    fn rgb8(&self, x: u64, y: u64) -> [u8; 3] {
        let grey = |v: u64| {
            let v = (v & 0xFF) as u8;
            [v, v, v]
        };
        match self.image {
            TestImage::Off => [0, 0, 0],
            TestImage::GreyHorizontalRamp => grey(x),
            TestImage::GreyVerticalRamp => grey(y),
            TestImage::GreyHorizontalRampMoving => grey(x.wrapping_add(self.frame)),
            TestImage::GreyDiagonalRampMoving => grey(x.wrapping_add(y).wrapping_add(self.frame)),
            TestImage::ColorBar => COLOR_BARS[((x / 256) % 8) as usize],
            TestImage::Checkerboard => {
                if ((x / 64) + (y / 64)) % 2 == 0 {
                    [255; 3]
                } else {
                    [0; 3]
                }
            }
            TestImage::FrameCounter => grey(u64::from(self.counter8(x, y))),
        }
    }

    /// `FrameCounter`'s grey value at (`x`, `y`).
    fn counter8(&self, x: u64, y: u64) -> u8 {
        if y == 0 && x < 8 {
            return (self.frame >> (8 * x)) as u8;
        }
        if x < DIGIT_ORIGIN || y < DIGIT_ORIGIN {
            return COUNTER_BACKGROUND;
        }
        let (dx, dy) = (x - DIGIT_ORIGIN, y - DIGIT_ORIGIN);
        let k = dx / DIGIT_PITCH;
        let col = (dx % DIGIT_PITCH) / DOT;
        let row = dy / DOT;
        if k >= self.n_digits as u64 || col >= 5 || row >= 7 {
            return COUNTER_BACKGROUND;
        }
        let digit = self.digits[k as usize] as usize;
        if FONT_5X7[digit][row as usize] >> (4 - col) & 1 == 1 {
            255
        } else {
            COUNTER_BACKGROUND
        }
    }
}

/// BT.601 luma of an 8-bit triple, rounded half up.
#[inline]
fn luma8([r, g, b]: [u8; 3]) -> u16 {
    ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000) as u16
}

/// Renders `image` for output frame `frame` into `out`: `width × height`
/// pixels in `layout` (Mono: 1 sample per pixel; Rgb/Bgr: 3 interleaved;
/// Bayer(p): a mosaic sampling the RGB image with p), sample values at
/// `bits` (8 ..= 16) bits. `offset_x`, `offset_y` are the position of the
/// output window in the full image (`OffsetX`, `OffsetY`), so a region of
/// interest shows a crop of the full test image.
///
/// The images and layouts are defined in the [module documentation](self).
/// Errors (nothing written): [`TestImage::Off`], bad `bits`, size overflow,
/// `out` too short.
#[allow(clippy::too_many_arguments)]
pub fn render(
    image: TestImage,
    frame: u64,
    offset_x: u32,
    offset_y: u32,
    width: u32,
    height: u32,
    layout: PixelLayout,
    bits: u32,
    out: &mut [u16],
) -> Result<(), TestImageError> {
    if image == TestImage::Off {
        return Err(TestImageError::Off);
    }
    if !(8..=16).contains(&bits) {
        return Err(TestImageError::InvalidBits(bits));
    }
    let spp = layout.samples_per_pixel();
    let row_len = (width as usize)
        .checked_mul(spp)
        .ok_or(TestImageError::SizeOverflow { width, height })?;
    let needed = row_len
        .checked_mul(height as usize)
        .ok_or(TestImageError::SizeOverflow { width, height })?;
    if out.len() < needed {
        return Err(TestImageError::BufferTooShort {
            needed,
            actual: out.len(),
        });
    }
    if needed == 0 {
        return Ok(());
    }
    let shift = bits - 8;
    let pattern = Pattern::new(image, frame);
    out[..needed]
        .par_chunks_mut(row_len)
        .enumerate()
        .for_each(|(y, row)| {
            let full_y = u64::from(offset_y) + y as u64;
            let full_x = |x: usize| u64::from(offset_x) + x as u64;
            match layout {
                PixelLayout::Mono => {
                    for (x, s) in row.iter_mut().enumerate() {
                        *s = luma8(pattern.rgb8(full_x(x), full_y)) << shift;
                    }
                }
                PixelLayout::Rgb | PixelLayout::Bgr => {
                    let order = if layout == PixelLayout::Rgb {
                        [0, 1, 2]
                    } else {
                        [2, 1, 0]
                    };
                    for (x, px) in row.chunks_exact_mut(3).enumerate() {
                        let rgb = pattern.rgb8(full_x(x), full_y);
                        for (s, c) in px.iter_mut().zip(order) {
                            *s = u16::from(rgb[c]) << shift;
                        }
                    }
                }
                PixelLayout::Bayer(p) => {
                    for (x, s) in row.iter_mut().enumerate() {
                        let rgb = pattern.rgb8(full_x(x), full_y);
                        *s = u16::from(rgb[p.channel_at(x, y)]) << shift;
                    }
                }
            }
        });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pixel::demosaic::BayerPattern;
    use pixel::geometry::{bayer_after_offset, crop, Roi};

    /// Every image but Off.
    const IMAGES: &[TestImage] = TestImage::ALL.split_at(1).1;

    fn layouts() -> Vec<PixelLayout> {
        let mut v = vec![PixelLayout::Mono, PixelLayout::Rgb, PixelLayout::Bgr];
        v.extend(BayerPattern::ALL.map(PixelLayout::Bayer));
        v
    }

    #[allow(clippy::too_many_arguments)]
    fn draw(
        image: TestImage,
        frame: u64,
        ox: u32,
        oy: u32,
        w: u32,
        h: u32,
        layout: PixelLayout,
        bits: u32,
    ) -> Vec<u16> {
        let mut out = vec![0xDEAD; w as usize * h as usize * layout.samples_per_pixel()];
        render(image, frame, ox, oy, w, h, layout, bits, &mut out).expect("render");
        out
    }

    /// Sample `c` (0..spp) of pixel (`x`, `y`) of a rendered window.
    fn at(img: &[u16], w: u32, layout: PixelLayout, x: usize, y: usize, c: usize) -> u16 {
        let spp = layout.samples_per_pixel();
        img[(y * w as usize + x) * spp + c]
    }

    #[test]
    fn names_round_trip() {
        for t in TestImage::ALL {
            assert_eq!(TestImage::from_name(t.name()), Some(t));
        }
        assert_eq!(TestImage::ALL[0].name(), "Off");
        assert_eq!(TestImage::FrameCounter.name(), "FrameCounter");
        assert_eq!(TestImage::from_name("colorbar"), None);
        assert_eq!(TestImage::from_name(""), None);
    }

    #[test]
    fn grey_ramps_exact_values() {
        let (ox, oy, w, h) = (250, 3, 20, 4);
        let frame = 7;
        for (image, expect) in [
            (TestImage::GreyHorizontalRamp, [250, 4, 255]),
            (TestImage::GreyVerticalRamp, [3, 3, 3]),
            (TestImage::GreyHorizontalRampMoving, [1, 11, 6]),
            (TestImage::GreyDiagonalRampMoving, [4, 14, 9]),
        ] {
            // Pixels x = 0, 10, 5 of row 0, i.e. X = 250, 260, 255, Y = 3.
            for layout in layouts() {
                let img = draw(image, frame, ox, oy, w, h, layout, 8);
                for (x, e) in [0usize, 10, 5].into_iter().zip(expect) {
                    for c in 0..layout.samples_per_pixel() {
                        assert_eq!(
                            at(&img, w, layout, x, 0, c),
                            e,
                            "{image:?} {layout:?} x={x}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn colour_bar_exact_values_in_every_layout() {
        let w = 256 * 9;
        // Pixel X = 256 * 1 + 5 is yellow, X = 256 * 4 is magenta, X = 2048 + 1
        // wraps to white, X = 1791 is blue.
        let rgb = draw(TestImage::ColorBar, 0, 0, 0, w, 2, PixelLayout::Rgb, 8);
        assert_eq!(&rgb[(256 + 5) * 3..(256 + 6) * 3], &[255, 255, 0]);
        assert_eq!(&rgb[1024 * 3..1025 * 3], &[255, 0, 255]);
        assert_eq!(&rgb[2049 * 3..2050 * 3], &[255, 255, 255]);
        assert_eq!(&rgb[1791 * 3..1792 * 3], &[0, 0, 255]);
        let bgr = draw(TestImage::ColorBar, 0, 0, 0, w, 2, PixelLayout::Bgr, 8);
        assert_eq!(&bgr[(256 + 5) * 3..(256 + 6) * 3], &[0, 255, 255]);
        assert_eq!(&bgr[1280 * 3..1281 * 3], &[0, 0, 255]);
        let mono = draw(TestImage::ColorBar, 0, 0, 0, w, 2, PixelLayout::Mono, 8);
        // BT.601: white 255, yellow 225.93 → 226, cyan 178.755 → 179,
        // green 149.685 → 150, magenta 105.315 → 105, red 76.245 → 76,
        // blue 29.07 → 29, black 0.
        let bars: Vec<u16> = (0..8).map(|b| mono[b * 256 + 100]).collect();
        assert_eq!(bars, [255, 226, 179, 150, 105, 76, 29, 0]);
        // Bayer RG: (even, even) = R, (odd, even) = G, (odd, odd) = B.
        let bayer = draw(
            TestImage::ColorBar,
            0,
            0,
            0,
            w,
            2,
            PixelLayout::Bayer(BayerPattern::RG),
            8,
        );
        let wu = w as usize;
        // Cyan bar (X 512..768): R = 0, G = 255, B = 255.
        assert_eq!(bayer[600], 0);
        assert_eq!(bayer[601], 255);
        assert_eq!(bayer[wu + 601], 255);
        assert_eq!(bayer[wu + 600], 255);
        // Red bar (X 1280..1536): R = 255, G = 0, B = 0.
        assert_eq!(bayer[1300], 255);
        assert_eq!(bayer[1301], 0);
        assert_eq!(bayer[wu + 1301], 0);
    }

    #[test]
    fn checkerboard_exact_values() {
        for layout in layouts() {
            let img = draw(TestImage::Checkerboard, 3, 60, 60, 10, 10, layout, 8);
            let spp = layout.samples_per_pixel();
            for c in 0..spp {
                // (60, 60): squares (0, 0) → white; (64, 60): (1, 0) → black;
                // (64, 64): (1, 1) → white; (60, 64): black.
                assert_eq!(at(&img, 10, layout, 0, 0, c), 255);
                assert_eq!(at(&img, 10, layout, 4, 0, c), 0);
                assert_eq!(at(&img, 10, layout, 4, 4, c), 255);
                assert_eq!(at(&img, 10, layout, 0, 4, c), 0);
                assert_eq!(at(&img, 10, layout, 3, 3, c), 255);
            }
        }
    }

    #[test]
    fn frame_counter_exact_values() {
        let frame = 0x0102_0304_0506_0708u64;
        for layout in layouts() {
            let img = draw(TestImage::FrameCounter, frame, 0, 0, 200, 100, layout, 8);
            for c in 0..layout.samples_per_pixel() {
                for i in 0..8 {
                    assert_eq!(at(&img, 200, layout, i, 0, c), 8 - i as u16);
                }
                // Background next to the bytes and below them.
                assert_eq!(at(&img, 200, layout, 8, 0, c), 128);
                assert_eq!(at(&img, 200, layout, 0, 1, c), 128);
                // Frame 72623859790382856: first digit 7, top row 0x1F → all
                // five dots lit; second row 0x01 → only the rightmost.
                assert_eq!(at(&img, 200, layout, 32, 32, c), 255);
                assert_eq!(at(&img, 200, layout, 32 + 79, 47, c), 255);
                assert_eq!(at(&img, 200, layout, 32 + 80, 40, c), 128);
                assert_eq!(at(&img, 200, layout, 32, 48, c), 128);
                assert_eq!(at(&img, 200, layout, 32 + 64, 48, c), 255);
            }
        }
    }

    /// Reads the number drawn by `FrameCounter` from a full Mono8 render.
    fn read_digits(img: &[u16], w: usize) -> u64 {
        let mut value = 0u64;
        for k in 0..20 {
            let mut rows = [0u8; 7];
            for (r, bits) in rows.iter_mut().enumerate() {
                for c in 0..5 {
                    let x = 32 + 96 * k + 16 * c + 8;
                    let y = 32 + 16 * r + 8;
                    if x < w && img[y * w + x] == 255 {
                        *bits |= 1 << (4 - c);
                    }
                }
            }
            match FONT_5X7.iter().position(|g| *g == rows) {
                Some(d) => value = value * 10 + d as u64,
                None => {
                    assert_eq!(rows, [0; 7], "unreadable glyph");
                    return value;
                }
            }
        }
        value
    }

    #[test]
    fn frame_counter_decodes_back() {
        let w = 32 + 96 * 20;
        for frame in [0u64, 1, 9, 10, 12345, 987_654_321_012, u64::MAX] {
            for bits in [8, 12, 16] {
                let img = draw(
                    TestImage::FrameCounter,
                    frame,
                    0,
                    0,
                    w as u32,
                    160,
                    PixelLayout::Mono,
                    bits,
                );
                let mut bytes = [0u8; 8];
                for (i, b) in bytes.iter_mut().enumerate() {
                    *b = (img[i] >> (bits - 8)) as u8;
                }
                assert_eq!(u64::from_le_bytes(bytes), frame);
                if bits == 8 {
                    assert_eq!(read_digits(&img, w), frame);
                }
            }
        }
    }

    #[test]
    fn windows_are_crops_of_the_full_image() {
        let (fw, fh) = (700u32, 300u32);
        for &image in IMAGES {
            for layout in layouts() {
                for (ox, oy, w, h) in [
                    (0, 0, 5, 7),
                    (100, 60, 300, 200),
                    (511, 255, 189, 45),
                    (3, 1, 64, 64),
                ] {
                    let win = draw(image, 5, ox, oy, w, h, layout, 10);
                    // A Bayer window starts with the phase of its own pattern:
                    // it is the crop of a full image whose pattern, shifted by
                    // the offsets, gives that pattern (shifting is an
                    // involution on the 2 × 2 cell).
                    let full_layout = match layout {
                        PixelLayout::Bayer(p) => {
                            PixelLayout::Bayer(bayer_after_offset(p, ox as usize, oy as usize))
                        }
                        l => l,
                    };
                    if let PixelLayout::Bayer(q) = full_layout {
                        assert_eq!(
                            PixelLayout::Bayer(bayer_after_offset(q, ox as usize, oy as usize)),
                            layout
                        );
                    }
                    let full = draw(image, 5, 0, 0, fw, fh, full_layout, 10);
                    let roi = Roi {
                        x: ox as usize,
                        y: oy as usize,
                        width: w as usize,
                        height: h as usize,
                    };
                    let mut expect = vec![0u16; win.len()];
                    crop(layout, fw as usize, fh as usize, &roi, &full, &mut expect).expect("crop");
                    assert_eq!(
                        win, expect,
                        "{image:?} {layout:?} window ({ox}, {oy}) {w}x{h}"
                    );
                }
            }
        }
    }

    #[test]
    fn moving_images_move_by_one_per_frame() {
        for image in [
            TestImage::GreyHorizontalRampMoving,
            TestImage::GreyDiagonalRampMoving,
        ] {
            let a = draw(image, 41, 0, 0, 300, 20, PixelLayout::Mono, 8);
            let b = draw(image, 42, 0, 0, 300, 20, PixelLayout::Mono, 8);
            assert_ne!(a, b);
            for y in 0..20 {
                for x in 1..300 {
                    // Frame n + 1 at X equals frame n at X + 1.
                    assert_eq!(b[y * 300 + x - 1], a[y * 300 + x], "{image:?} ({x}, {y})");
                }
            }
            // Static ramps do not move.
            let s0 = draw(
                TestImage::GreyHorizontalRamp,
                0,
                0,
                0,
                300,
                2,
                PixelLayout::Mono,
                8,
            );
            let s1 = draw(
                TestImage::GreyHorizontalRamp,
                1,
                0,
                0,
                300,
                2,
                PixelLayout::Mono,
                8,
            );
            assert_eq!(s0, s1);
        }
        // A huge frame number wraps consistently modulo 256.
        let a = draw(
            TestImage::GreyHorizontalRampMoving,
            u64::MAX,
            0,
            0,
            4,
            1,
            PixelLayout::Mono,
            8,
        );
        assert_eq!(a, [255, 0, 1, 2]);
    }

    #[test]
    fn bits_scale_by_shifting() {
        for &image in IMAGES {
            for layout in layouts() {
                let base = draw(image, 3, 17, 9, 300, 70, layout, 8);
                for bits in 9..=16 {
                    let img = draw(image, 3, 17, 9, 300, 70, layout, bits);
                    for (a, b) in base.iter().zip(&img) {
                        assert_eq!(*b, *a << (bits - 8));
                        assert!(u32::from(*b) < 1 << bits);
                    }
                }
            }
        }
    }

    #[test]
    fn bayer_samples_the_pattern_channel() {
        let (w, h) = (2048u32, 4u32);
        let rgb = draw(TestImage::ColorBar, 0, 0, 0, w, h, PixelLayout::Rgb, 8);
        for p in BayerPattern::ALL {
            let bayer = draw(TestImage::ColorBar, 0, 0, 0, w, h, PixelLayout::Bayer(p), 8);
            for y in 0..h as usize {
                for x in 0..w as usize {
                    let i = y * w as usize + x;
                    assert_eq!(
                        bayer[i],
                        rgb[i * 3 + p.channel_at(x, y)],
                        "{p:?} ({x}, {y})"
                    );
                }
            }
        }
        // Explicit: pattern GB at (0, 0) is green, (1, 0) blue, (0, 1) red, in
        // the magenta bar (255, 0, 255).
        let m = draw(
            TestImage::ColorBar,
            0,
            1024,
            0,
            2,
            2,
            PixelLayout::Bayer(BayerPattern::GB),
            8,
        );
        assert_eq!(m, [0, 255, 255, 0]);
    }

    #[test]
    fn errors_and_buffer_rules() {
        let mut out = vec![7u16; 12];
        assert_eq!(
            render(
                TestImage::Off,
                0,
                0,
                0,
                2,
                2,
                PixelLayout::Mono,
                8,
                &mut out
            ),
            Err(TestImageError::Off)
        );
        for bits in [0, 7, 17, 32] {
            assert_eq!(
                render(
                    TestImage::ColorBar,
                    0,
                    0,
                    0,
                    2,
                    2,
                    PixelLayout::Mono,
                    bits,
                    &mut out
                ),
                Err(TestImageError::InvalidBits(bits))
            );
        }
        assert_eq!(
            render(
                TestImage::ColorBar,
                0,
                0,
                0,
                2,
                2,
                PixelLayout::Rgb,
                8,
                &mut out[..11]
            ),
            Err(TestImageError::BufferTooShort {
                needed: 12,
                actual: 11
            })
        );
        assert_eq!(out, [7; 12], "nothing written on error");
        // A longer buffer: only the first samples are written.
        render(
            TestImage::Checkerboard,
            0,
            0,
            0,
            2,
            2,
            PixelLayout::Mono,
            8,
            &mut out,
        )
        .expect("render");
        assert_eq!(out, [255, 255, 255, 255, 7, 7, 7, 7, 7, 7, 7, 7]);
        // Empty images are fine; offsets at the top of the range do not overflow.
        render(
            TestImage::ColorBar,
            0,
            0,
            0,
            0,
            5,
            PixelLayout::Rgb,
            8,
            &mut [],
        )
        .expect("empty");
        let mut one = [0u16; 3];
        render(
            TestImage::GreyDiagonalRampMoving,
            u64::MAX,
            u32::MAX,
            u32::MAX,
            1,
            1,
            PixelLayout::Rgb,
            16,
            &mut one,
        )
        .expect("render");
        let v = ((u64::from(u32::MAX) * 2).wrapping_add(u64::MAX) % 256) as u16;
        assert_eq!(one, [v << 8; 3]);
        // (2³² − 1)² × 3 samples do not fit in 64 bits.
        let err = render(
            TestImage::ColorBar,
            0,
            0,
            0,
            u32::MAX,
            u32::MAX,
            PixelLayout::Rgb,
            8,
            &mut out,
        );
        assert_eq!(
            err,
            Err(TestImageError::SizeOverflow {
                width: u32::MAX,
                height: u32::MAX
            })
        );
        // A huge but representable size is reported as a short buffer.
        let err = render(
            TestImage::ColorBar,
            0,
            0,
            0,
            u32::MAX,
            2,
            PixelLayout::Mono,
            8,
            &mut out,
        );
        assert!(matches!(err, Err(TestImageError::BufferTooShort { .. })));
    }
}
