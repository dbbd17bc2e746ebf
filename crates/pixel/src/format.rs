//! PFNC (GenICam Pixel Format Naming Convention) pixel formats.
//!
//! [`PixelFormat`] lists the formats this crate understands, with their
//! 32-bit PFNC codes (bits 16–23 of a code give the bits per pixel) and
//! their PFNC names.
//!
//! # Memory layouts
//!
//! Images are stored row by row with no extra stride: line `y` starts at
//! byte `y * line_bytes(width)`.
//!
//! * **Unpacked 8-bit** (`Mono8`, `Bayer**8`): one byte per pixel.
//! * **Unpacked 10/12/16-bit** (`Mono10`, `Mono12`, `Mono16`, `Bayer**10`,
//!   `Bayer**12`, `Bayer**16`): one little-endian `u16` container per pixel,
//!   the value in the low bits (padding bits are zero on the wire and are
//!   masked off when unpacking).
//! * **PFNC LSB-first packed** (`Mono10p`, `Mono12p`, `Bayer**10p`,
//!   `Bayer**12p`): the `N`-bit samples of a line form one little-endian
//!   bitstream, sample `i` occupying bits `[i*N, i*N + N)` where bit 0 is the
//!   LSB of byte 0. Each **line** is a separate bitstream rounded up to whole
//!   bytes: `line_bytes = ceil(width * N / 8)`; the unused high bits of the
//!   last byte of a line are zero. (When `width * N` is a multiple of 8 there
//!   is no padding, so the image is a single continuous bitstream.)
//! * **GigE Vision packed** (`Mono10Packed`, `Mono12Packed`): two pixels in
//!   three bytes; `line_bytes = 3 * ceil(width / 2)` (an odd width is rounded
//!   up to even and the missing last pixel is zero). See [`crate::pack`] for
//!   the exact bit assignment.
//! * **RGB8 / BGR8**: 3 bytes per pixel in the named order; **RGBa8 /
//!   BGRa8**: 4 bytes per pixel, alpha last.
//! * **YUV422_8** (YUYV: `Y0 U Y1 V`) and **YUV422_8_UYVY** (`U Y0 V Y1`):
//!   4 bytes per pair of pixels sharing one chroma sample;
//!   `line_bytes = 4 * ceil(width / 2)` (an odd width is rounded up to even;
//!   the last, padding luma sample of each line is ignored).
//!
//! # Bayer patterns
//!
//! [`BayerPattern`] (re-exported from [`crate::demosaic`]) names the colours
//! of the first two pixels of the first row, as PFNC does: for `BayerRG*`
//! pixel (0,0) is red, (1,0) green, (0,1) green and (1,1) blue; `GR` is
//! `G R / B G`, `GB` is `G B / R G`, `BG` is `B G / G R`
//! (coordinates are (x, y)).

use std::fmt;
use std::str::FromStr;

pub use crate::demosaic::BayerPattern;

/// Errors about pixel formats.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The string is not the (case-sensitive) PFNC name of a supported format.
    #[error("unknown pixel format name {0:?}")]
    UnknownName(String),
    /// The 32-bit value is not the PFNC code of a supported format.
    #[error("unknown pixel format code {0:#010x}")]
    UnknownCode(u32),
}

macro_rules! formats {
    ($( $(#[$doc:meta])* $var:ident = $code:literal, $name:literal; )*) => {
        /// A PFNC pixel format.
        ///
        /// See the [module documentation](self) for the memory layouts.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum PixelFormat {
            $( $(#[$doc])* $var, )*
        }

        impl PixelFormat {
            const ALL: &'static [PixelFormat] = &[ $( PixelFormat::$var, )* ];

            /// The 32-bit PFNC code, e.g. `0x01080001` for `Mono8`.
            pub const fn code(self) -> u32 {
                match self { $( PixelFormat::$var => $code, )* }
            }

            /// The format with PFNC code `code`, if supported.
            pub const fn from_code(code: u32) -> Option<PixelFormat> {
                match code { $( $code => Some(PixelFormat::$var), )* _ => None }
            }

            /// The PFNC name, e.g. `"BayerRG12p"` or `"YUV422_8_UYVY"`.
            pub const fn name(self) -> &'static str {
                match self { $( PixelFormat::$var => $name, )* }
            }

            /// The format whose PFNC name is exactly `name` (case-sensitive).
            pub fn from_name(name: &str) -> Option<PixelFormat> {
                match name { $( $name => Some(PixelFormat::$var), )* _ => None }
            }
        }
    };
}

formats! {
    /// 8-bit monochrome.
    Mono8 = 0x0108_0001, "Mono8";
    /// 10-bit monochrome in 16-bit little-endian containers.
    Mono10 = 0x0110_0003, "Mono10";
    /// 12-bit monochrome in 16-bit little-endian containers.
    Mono12 = 0x0110_0005, "Mono12";
    /// 16-bit monochrome, little endian.
    Mono16 = 0x0110_0007, "Mono16";
    /// 10-bit monochrome, PFNC LSB-first packed (4 pixels in 5 bytes).
    Mono10p = 0x010A_0046, "Mono10p";
    /// 12-bit monochrome, PFNC LSB-first packed (2 pixels in 3 bytes).
    Mono12p = 0x010C_0047, "Mono12p";
    /// 10-bit monochrome, GigE Vision packed (2 pixels in 3 bytes).
    Mono10Packed = 0x010C_0004, "Mono10Packed";
    /// 12-bit monochrome, GigE Vision packed (2 pixels in 3 bytes).
    Mono12Packed = 0x010C_0006, "Mono12Packed";
    /// 8-bit Bayer, `G R / B G`.
    BayerGR8 = 0x0108_0008, "BayerGR8";
    /// 8-bit Bayer, `R G / G B`.
    BayerRG8 = 0x0108_0009, "BayerRG8";
    /// 8-bit Bayer, `G B / R G`.
    BayerGB8 = 0x0108_000A, "BayerGB8";
    /// 8-bit Bayer, `B G / G R`.
    BayerBG8 = 0x0108_000B, "BayerBG8";
    /// 10-bit Bayer `G R / B G` in 16-bit containers.
    BayerGR10 = 0x0110_000C, "BayerGR10";
    /// 10-bit Bayer `R G / G B` in 16-bit containers.
    BayerRG10 = 0x0110_000D, "BayerRG10";
    /// 10-bit Bayer `G B / R G` in 16-bit containers.
    BayerGB10 = 0x0110_000E, "BayerGB10";
    /// 10-bit Bayer `B G / G R` in 16-bit containers.
    BayerBG10 = 0x0110_000F, "BayerBG10";
    /// 12-bit Bayer `G R / B G` in 16-bit containers.
    BayerGR12 = 0x0110_0010, "BayerGR12";
    /// 12-bit Bayer `R G / G B` in 16-bit containers.
    BayerRG12 = 0x0110_0011, "BayerRG12";
    /// 12-bit Bayer `G B / R G` in 16-bit containers.
    BayerGB12 = 0x0110_0012, "BayerGB12";
    /// 12-bit Bayer `B G / G R` in 16-bit containers.
    BayerBG12 = 0x0110_0013, "BayerBG12";
    /// 16-bit Bayer `G R / B G`.
    BayerGR16 = 0x0110_002E, "BayerGR16";
    /// 16-bit Bayer `R G / G B`.
    BayerRG16 = 0x0110_002F, "BayerRG16";
    /// 16-bit Bayer `G B / R G`.
    BayerGB16 = 0x0110_0030, "BayerGB16";
    /// 16-bit Bayer `B G / G R`.
    BayerBG16 = 0x0110_0031, "BayerBG16";
    /// 10-bit Bayer `B G / G R`, PFNC LSB-first packed.
    BayerBG10p = 0x010A_0052, "BayerBG10p";
    /// 10-bit Bayer `G B / R G`, PFNC LSB-first packed.
    BayerGB10p = 0x010A_0054, "BayerGB10p";
    /// 10-bit Bayer `G R / B G`, PFNC LSB-first packed.
    BayerGR10p = 0x010A_0056, "BayerGR10p";
    /// 10-bit Bayer `R G / G B`, PFNC LSB-first packed.
    BayerRG10p = 0x010A_0058, "BayerRG10p";
    /// 12-bit Bayer `B G / G R`, PFNC LSB-first packed.
    BayerBG12p = 0x010C_0053, "BayerBG12p";
    /// 12-bit Bayer `G B / R G`, PFNC LSB-first packed.
    BayerGB12p = 0x010C_0055, "BayerGB12p";
    /// 12-bit Bayer `G R / B G`, PFNC LSB-first packed.
    BayerGR12p = 0x010C_0057, "BayerGR12p";
    /// 12-bit Bayer `R G / G B`, PFNC LSB-first packed.
    BayerRG12p = 0x010C_0059, "BayerRG12p";
    /// 8-bit RGB, bytes `R G B`.
    RGB8 = 0x0218_0014, "RGB8";
    /// 8-bit BGR, bytes `B G R`.
    BGR8 = 0x0218_0015, "BGR8";
    /// 8-bit RGBA, bytes `R G B A`.
    RGBa8 = 0x0220_0016, "RGBa8";
    /// 8-bit BGRA, bytes `B G R A`.
    BGRa8 = 0x0220_0017, "BGRa8";
    /// YUV 4:2:2, 8-bit, bytes `Y0 U Y1 V` (YUYV).
    YUV422_8 = 0x0210_0032, "YUV422_8";
    /// YUV 4:2:2, 8-bit, bytes `U Y0 V Y1` (UYVY).
    YUV422_8_UYVY = 0x0210_001F, "YUV422_8_UYVY";
}

/// How samples are laid out in memory (internal helper for the kernels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// One byte per sample.
    U8,
    /// One little-endian u16 container per sample.
    U16Le,
    /// PFNC LSB-first bit packing with the given bits per sample.
    LsbPacked(u32),
    /// GigE Vision packed (2 samples in 3 bytes) with the given bits.
    GigePacked(u32),
    /// Interleaved 8-bit colour / YUV.
    Other,
}

impl PixelFormat {
    /// Every supported format, in declaration order.
    pub fn all() -> &'static [PixelFormat] {
        Self::ALL
    }

    /// Bits per pixel on the wire (bits 16–23 of the PFNC code), e.g. 12 for
    /// `Mono12p` and for `Mono10Packed`, 16 for `Mono10` and `YUV422_8`.
    pub const fn bits_per_pixel(self) -> u32 {
        (self.code() >> 16) & 0xFF
    }

    /// Significant bits of one sample: 8, 10, 12 or 16 (8 for RGB/YUV).
    pub const fn pixel_bits(self) -> u32 {
        use PixelFormat::*;
        match self {
            Mono10 | Mono10p | Mono10Packed | BayerGR10 | BayerRG10 | BayerGB10 | BayerBG10
            | BayerBG10p | BayerGB10p | BayerGR10p | BayerRG10p => 10,
            Mono12 | Mono12p | Mono12Packed | BayerGR12 | BayerRG12 | BayerGB12 | BayerBG12
            | BayerBG12p | BayerGB12p | BayerGR12p | BayerRG12p => 12,
            Mono16 | BayerGR16 | BayerRG16 | BayerGB16 | BayerBG16 => 16,
            _ => 8,
        }
    }

    /// Samples per pixel: 1 for mono and Bayer, 3 for RGB8/BGR8, 4 for
    /// RGBa8/BGRa8, and 2 for YUV 4:2:2 (one luma plus, on average, one
    /// chroma sample).
    pub const fn channels(self) -> u32 {
        use PixelFormat::*;
        match self {
            RGB8 | BGR8 => 3,
            RGBa8 | BGRa8 => 4,
            YUV422_8 | YUV422_8_UYVY => 2,
            _ => 1,
        }
    }

    /// The Bayer pattern of a Bayer format, `None` for other formats.
    pub const fn bayer(self) -> Option<BayerPattern> {
        use PixelFormat::*;
        match self {
            BayerRG8 | BayerRG10 | BayerRG12 | BayerRG16 | BayerRG10p | BayerRG12p => {
                Some(BayerPattern::RG)
            }
            BayerGR8 | BayerGR10 | BayerGR12 | BayerGR16 | BayerGR10p | BayerGR12p => {
                Some(BayerPattern::GR)
            }
            BayerGB8 | BayerGB10 | BayerGB12 | BayerGB16 | BayerGB10p | BayerGB12p => {
                Some(BayerPattern::GB)
            }
            BayerBG8 | BayerBG10 | BayerBG12 | BayerBG16 | BayerBG10p | BayerBG12p => {
                Some(BayerPattern::BG)
            }
            _ => None,
        }
    }

    /// `true` for the bit-packed formats (`*10p`, `*12p`, `Mono10Packed`,
    /// `Mono12Packed`).
    pub const fn is_packed(self) -> bool {
        matches!(self.layout(), Layout::LsbPacked(_) | Layout::GigePacked(_))
    }

    /// `true` for formats holding one sample per pixel (mono and Bayer).
    pub const fn is_single_sample(self) -> bool {
        !matches!(self.layout(), Layout::Other)
    }

    pub(crate) const fn layout(self) -> Layout {
        use PixelFormat::*;
        match self {
            Mono8 | BayerGR8 | BayerRG8 | BayerGB8 | BayerBG8 => Layout::U8,
            Mono10Packed => Layout::GigePacked(10),
            Mono12Packed => Layout::GigePacked(12),
            RGB8 | BGR8 | RGBa8 | BGRa8 | YUV422_8 | YUV422_8_UYVY => Layout::Other,
            _ => {
                if self.bits_per_pixel() == 16 {
                    Layout::U16Le
                } else {
                    Layout::LsbPacked(self.pixel_bits())
                }
            }
        }
    }

    /// Bytes in one line of `width` pixels (see the
    /// [module documentation](self) for the rounding of packed and YUV
    /// formats); `None` on arithmetic overflow.
    pub fn line_bytes(self, width: usize) -> Option<usize> {
        match self {
            PixelFormat::Mono10Packed | PixelFormat::Mono12Packed => {
                width.div_ceil(2).checked_mul(3)
            }
            PixelFormat::YUV422_8 | PixelFormat::YUV422_8_UYVY => width.div_ceil(2).checked_mul(4),
            _ => {
                let bits = width.checked_mul(self.bits_per_pixel() as usize)?;
                Some(bits.div_ceil(8))
            }
        }
    }

    /// Bytes in an image of `width` × `height` pixels
    /// (`height * line_bytes(width)`); `None` on arithmetic overflow.
    pub fn image_bytes(self, width: usize, height: usize) -> Option<usize> {
        self.line_bytes(width)?.checked_mul(height)
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PixelFormat {
    type Err = FormatError;

    /// Parses a case-sensitive PFNC name such as `"BayerRG12p"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PixelFormat::from_name(s).ok_or_else(|| FormatError::UnknownName(s.to_string()))
    }
}

impl TryFrom<u32> for PixelFormat {
    type Error = FormatError;

    /// Looks up a PFNC code.
    fn try_from(code: u32) -> Result<Self, Self::Error> {
        PixelFormat::from_code(code).ok_or(FormatError::UnknownCode(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_roundtrip() {
        assert_eq!(PixelFormat::all().len(), 38);
        for &f in PixelFormat::all() {
            assert_eq!(PixelFormat::from_code(f.code()), Some(f));
            assert_eq!(f.name().parse::<PixelFormat>(), Ok(f));
            assert_eq!(PixelFormat::try_from(f.code()), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!(
            "bayerRG12p".parse::<PixelFormat>(),
            Err(FormatError::UnknownName("bayerRG12p".into()))
        );
        assert_eq!(PixelFormat::from_code(0), None);
    }

    #[test]
    fn sizes() {
        use PixelFormat::*;
        assert_eq!(Mono12p.line_bytes(3), Some(5));
        assert_eq!(Mono10p.line_bytes(3), Some(4));
        assert_eq!(Mono10p.line_bytes(4), Some(5));
        assert_eq!(Mono12Packed.line_bytes(3), Some(6));
        assert_eq!(Mono10Packed.line_bytes(1), Some(3));
        assert_eq!(Mono16.line_bytes(3), Some(6));
        assert_eq!(RGBa8.line_bytes(3), Some(12));
        assert_eq!(YUV422_8.line_bytes(3), Some(8));
        assert_eq!(Mono12p.image_bytes(3, 2), Some(10));
        assert_eq!(Mono16.image_bytes(usize::MAX, 2), None);
        assert_eq!(Mono8.image_bytes(0, 7), Some(0));
        assert_eq!(Mono10Packed.bits_per_pixel(), 12);
        assert_eq!(Mono10Packed.pixel_bits(), 10);
        assert!(BayerGB10p.is_packed());
        assert!(!BayerGB10.is_packed());
        assert_eq!(BayerGB10p.bayer(), Some(BayerPattern::GB));
        assert_eq!(RGB8.bayer(), None);
        assert_eq!(RGB8.channels(), 3);
    }
}
