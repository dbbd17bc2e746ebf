//! Packing and unpacking of single-sample formats to and from `u16`.
//!
//! Samples are `u16` values in the low bits (`0..=1023` for 10-bit formats,
//! `0..=4095` for 12-bit ones). When packing, bits above the format's sample
//! width are ignored (masked off); when unpacking, padding bits of the source
//! are ignored, so every unpacked value is in range.
//!
//! Lines are laid out as described in [`crate::format`]: each line of a
//! PFNC `p` format is its own bitstream rounded up to whole bytes, and each
//! line of a GigE `Packed` format holds `ceil(width / 2)` byte triples.
//!
//! # Bit layouts
//!
//! **PFNC LSB-first (`Mono10p`, `Mono12p`, `Bayer**10p`, `Bayer**12p`)**:
//! the `N`-bit samples form a little-endian bitstream; sample `i` occupies
//! bits `[i*N, i*N + N)`, bit 0 being the LSB of byte 0.
//!
//! * 12p, 2 pixels in 3 bytes: `b0 = p0[7:0]`, `b1 = p0[11:8] | p1[3:0] << 4`,
//!   `b2 = p1[11:4]`.
//! * 10p, 4 pixels in 5 bytes: `b0 = p0[7:0]`, `b1 = p0[9:8] | p1[5:0] << 2`,
//!   `b2 = p1[9:6] | p2[3:0] << 4`, `b3 = p2[9:4] | p3[1:0] << 6`,
//!   `b4 = p3[9:2]`.
//!
//! Unused bits at the end of a line are written as zero.
//!
//! **GigE Vision packed (`Mono12Packed`, `Mono10Packed`)**, 2 pixels in
//! 3 bytes:
//!
//! * `Mono12Packed`: `b0 = p0[11:4]`, `b1 = p0[3:0] | p1[3:0] << 4`,
//!   `b2 = p1[11:4]`.
//! * `Mono10Packed`: `b0 = p0[9:2]`, `b1 = p0[1:0] | p1[1:0] << 4`,
//!   `b2 = p1[9:2]` (bits 2, 3, 6 and 7 of `b1` are zero).
//!
//! With an odd width the second pixel of the last triple of each line is
//! written as zero and ignored when unpacking.
//!
//! **Unpacked** formats (`Mono8`, `Bayer**8`: one byte; `Mono10/12/16`,
//! `Bayer**10/12/16`: little-endian `u16` containers) are also handled by
//! [`unpack_to_u16`] and [`pack_from_u16`].
//!
//! # Performance
//!
//! The 12p and 10p unpackers process 8 pixels per 12 (resp. 10) bytes with
//! two unaligned little-endian loads and no per-pixel bounds checks; images
//! whose lines have no padding bits are processed as one stream.

use crate::format::{Layout, PixelFormat};

/// Errors reported by the packing functions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// The format does not hold one sample per pixel (RGB, YUV), or — for
    /// [`pack`] / [`unpack`] — is not a packed format.
    #[error("pixel format {0} is not supported by this operation")]
    UnsupportedFormat(PixelFormat),
    /// The image size overflows `usize`.
    #[error("image size {width}x{height} overflows")]
    SizeOverflow {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
    /// The source buffer is too short (`needed` / `actual` are in elements
    /// of the source slice: bytes or `u16` samples).
    #[error("source buffer too short: need {needed} elements, got {actual}")]
    SourceTooShort {
        /// Required length.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// The destination buffer is too short (`needed` / `actual` are in
    /// elements of the destination slice: bytes or `u16` samples).
    #[error("destination buffer too short: need {needed} elements, got {actual}")]
    DestinationTooShort {
        /// Required length.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
}

/// Sizes of a validated operation.
struct Dims {
    /// Number of samples (`width * height`).
    pixels: usize,
    /// Bytes per line.
    line: usize,
    /// Bytes in the image.
    bytes: usize,
}

fn dims(format: PixelFormat, width: usize, height: usize) -> Result<Dims, PackError> {
    if !format.is_single_sample() {
        return Err(PackError::UnsupportedFormat(format));
    }
    let overflow = PackError::SizeOverflow { width, height };
    let pixels = width.checked_mul(height).ok_or(overflow.clone())?;
    let line = format.line_bytes(width).ok_or(overflow.clone())?;
    let bytes = line.checked_mul(height).ok_or(overflow)?;
    Ok(Dims {
        pixels,
        line,
        bytes,
    })
}

/// Checks `(actual, needed)` lengths of the source and the destination.
fn check_lengths(src: (usize, usize), dst: (usize, usize)) -> Result<(), PackError> {
    if src.0 < src.1 {
        return Err(PackError::SourceTooShort {
            needed: src.1,
            actual: src.0,
        });
    }
    if dst.0 < dst.1 {
        return Err(PackError::DestinationTooShort {
            needed: dst.1,
            actual: dst.0,
        });
    }
    Ok(())
}

/// Unpacks a packed image (`Mono10p`, `Mono12p`, `Bayer**10p`,
/// `Bayer**12p`, `Mono10Packed`, `Mono12Packed`) into `width * height`
/// `u16` samples.
///
/// Only the first `image_bytes(width, height)` bytes of `src` and the first
/// `width * height` elements of `dst` are used.
pub fn unpack(
    format: PixelFormat,
    width: usize,
    height: usize,
    src: &[u8],
    dst: &mut [u16],
) -> Result<(), PackError> {
    if !format.is_packed() {
        return Err(PackError::UnsupportedFormat(format));
    }
    unpack_to_u16(format, width, height, src, dst)
}

/// Packs `width * height` `u16` samples into a packed format (`Mono10p`,
/// `Mono12p`, `Bayer**10p`, `Bayer**12p`, `Mono10Packed`, `Mono12Packed`).
///
/// Bits above the sample width are ignored; padding bits are written as 0.
pub fn pack(
    format: PixelFormat,
    width: usize,
    height: usize,
    src: &[u16],
    dst: &mut [u8],
) -> Result<(), PackError> {
    if !format.is_packed() {
        return Err(PackError::UnsupportedFormat(format));
    }
    pack_from_u16(format, width, height, src, dst)
}

/// Unpacks any single-sample format (mono or Bayer, 8 to 16 bits, packed
/// or not) into `width * height` `u16` samples (values in the low bits,
/// padding bits of 16-bit containers masked off).
///
/// RGB and YUV formats give [`PackError::UnsupportedFormat`].
pub fn unpack_to_u16(
    format: PixelFormat,
    width: usize,
    height: usize,
    src: &[u8],
    dst: &mut [u16],
) -> Result<(), PackError> {
    let d = dims(format, width, height)?;
    check_lengths((src.len(), d.bytes), (dst.len(), d.pixels))?;
    if d.pixels == 0 {
        return Ok(());
    }
    let src = &src[..d.bytes];
    let dst = &mut dst[..d.pixels];
    match format.layout() {
        Layout::U8 => {
            for (o, &i) in dst.iter_mut().zip(src) {
                *o = i as u16;
            }
        }
        Layout::U16Le => {
            let mask = low_mask(format.pixel_bits());
            for (o, i) in dst.iter_mut().zip(src.chunks_exact(2)) {
                *o = u16::from_le_bytes([i[0], i[1]]) & mask;
            }
        }
        Layout::LsbPacked(bits) => {
            if (width * bits as usize) % 8 == 0 {
                // No padding: the whole image is one bitstream.
                unpack_lsb_line(bits, src, dst);
            } else {
                for (s, o) in src.chunks_exact(d.line).zip(dst.chunks_exact_mut(width)) {
                    unpack_lsb_line(bits, s, o);
                }
            }
        }
        Layout::GigePacked(bits) => {
            if width % 2 == 0 {
                unpack_gige_line(bits, src, dst);
            } else {
                for (s, o) in src.chunks_exact(d.line).zip(dst.chunks_exact_mut(width)) {
                    unpack_gige_line(bits, s, o);
                }
            }
        }
        Layout::Other => unreachable!("checked by dims"),
    }
    Ok(())
}

/// Packs `width * height` `u16` samples into any single-sample format (mono
/// or Bayer, 8 to 16 bits, packed or not).
///
/// Bits above the format's sample width are ignored. RGB and YUV formats
/// give [`PackError::UnsupportedFormat`].
pub fn pack_from_u16(
    format: PixelFormat,
    width: usize,
    height: usize,
    src: &[u16],
    dst: &mut [u8],
) -> Result<(), PackError> {
    let d = dims(format, width, height)?;
    check_lengths((src.len(), d.pixels), (dst.len(), d.bytes))?;
    if d.pixels == 0 {
        return Ok(());
    }
    let src = &src[..d.pixels];
    let dst = &mut dst[..d.bytes];
    let mask = low_mask(format.pixel_bits());
    match format.layout() {
        Layout::U8 => {
            for (o, &i) in dst.iter_mut().zip(src) {
                *o = i as u8;
            }
        }
        Layout::U16Le => {
            for (o, &i) in dst.chunks_exact_mut(2).zip(src) {
                o.copy_from_slice(&(i & mask).to_le_bytes());
            }
        }
        Layout::LsbPacked(bits) => {
            for (o, s) in dst.chunks_exact_mut(d.line).zip(src.chunks_exact(width)) {
                pack_lsb_line(bits, s, o);
            }
        }
        Layout::GigePacked(bits) => {
            for (o, s) in dst.chunks_exact_mut(d.line).zip(src.chunks_exact(width)) {
                pack_gige_line(bits, s, o);
            }
        }
        Layout::Other => unreachable!("checked by dims"),
    }
    Ok(())
}

#[inline(always)]
fn low_mask(bits: u32) -> u16 {
    if bits >= 16 {
        u16::MAX
    } else {
        (1u16 << bits) - 1
    }
}

/// Unpacks `dst.len()` samples of `bits` (10 or 12) bits from an LSB-first
/// bitstream; `src` holds at least `ceil(dst.len() * bits / 8)` bytes.
fn unpack_lsb_line(bits: u32, src: &[u8], dst: &mut [u16]) {
    match bits {
        12 => unpack12p(src, dst),
        10 => unpack10p(src, dst),
        _ => unpack_lsb_generic(bits, src, dst, 0),
    }
}

#[inline(always)]
fn load_u64(s: &[u8]) -> u64 {
    u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]])
}

/// 12p: 8 pixels per 12 bytes.
fn unpack12p(src: &[u8], dst: &mut [u16]) {
    let blocks = (dst.len() / 8).min(src.len() / 12);
    let (sh, _) = src.split_at(blocks * 12);
    let (dh, _) = dst.split_at_mut(blocks * 8);
    for (s, d) in sh.chunks_exact(12).zip(dh.chunks_exact_mut(8)) {
        let a = load_u64(&s[0..8]);
        let b = u32::from_le_bytes([s[8], s[9], s[10], s[11]]);
        d[0] = (a & 0xFFF) as u16;
        d[1] = ((a >> 12) & 0xFFF) as u16;
        d[2] = ((a >> 24) & 0xFFF) as u16;
        d[3] = ((a >> 36) & 0xFFF) as u16;
        d[4] = ((a >> 48) & 0xFFF) as u16;
        d[5] = (((a >> 60) as u32 | (b << 4)) & 0xFFF) as u16;
        d[6] = ((b >> 8) & 0xFFF) as u16;
        d[7] = ((b >> 20) & 0xFFF) as u16;
    }
    unpack_lsb_generic(12, src, dst, blocks * 8);
}

/// 10p: 8 pixels per 10 bytes.
fn unpack10p(src: &[u8], dst: &mut [u16]) {
    let blocks = (dst.len() / 8).min(src.len() / 10);
    let (sh, _) = src.split_at(blocks * 10);
    let (dh, _) = dst.split_at_mut(blocks * 8);
    for (s, d) in sh.chunks_exact(10).zip(dh.chunks_exact_mut(8)) {
        let a = load_u64(&s[0..8]);
        let b = u16::from_le_bytes([s[8], s[9]]) as u32;
        d[0] = (a & 0x3FF) as u16;
        d[1] = ((a >> 10) & 0x3FF) as u16;
        d[2] = ((a >> 20) & 0x3FF) as u16;
        d[3] = ((a >> 30) & 0x3FF) as u16;
        d[4] = ((a >> 40) & 0x3FF) as u16;
        d[5] = ((a >> 50) & 0x3FF) as u16;
        d[6] = (((a >> 60) as u32 | (b << 4)) & 0x3FF) as u16;
        d[7] = ((b >> 6) & 0x3FF) as u16;
    }
    unpack_lsb_generic(10, src, dst, blocks * 8);
}

/// Bit-by-bit reference unpacker for samples `start..dst.len()`.
fn unpack_lsb_generic(bits: u32, src: &[u8], dst: &mut [u16], start: usize) {
    let mask = low_mask(bits) as u32;
    for (i, o) in dst.iter_mut().enumerate().skip(start) {
        let pos = i * bits as usize;
        let byte = pos / 8;
        let shift = pos % 8;
        let b = |k: usize| src.get(byte + k).copied().unwrap_or(0) as u32;
        let v = b(0) | (b(1) << 8) | (b(2) << 16);
        *o = ((v >> shift) & mask) as u16;
    }
}

/// Packs one line as an LSB-first bitstream; `dst` is exactly the line.
/// 12- and 10-bit lines go through whole groups (2 pixels in 3 bytes, 4 in
/// 5) with one 64-bit shift-and-or per group instead of a bit loop; the
/// rest of the line (a partial group) takes the general path.
fn pack_lsb_line(bits: u32, src: &[u16], dst: &mut [u8]) {
    let (px, by) = match bits {
        12 => (2, 3),
        10 => (4, 5),
        _ => (0, 0),
    };
    if let (Some(src_groups), Some(dst_groups)) =
        (src.len().checked_div(px), dst.len().checked_div(by))
    {
        let groups = src_groups.min(dst_groups);
        let mask = u64::from(low_mask(bits));
        for (s, d) in src
            .chunks_exact(px)
            .zip(dst.chunks_exact_mut(by))
            .take(groups)
        {
            let mut acc = 0u64;
            for (i, &v) in s.iter().enumerate() {
                acc |= (u64::from(v) & mask) << (i as u32 * bits);
            }
            d.copy_from_slice(&acc.to_le_bytes()[..by]);
        }
        let (src, dst) = (&src[groups * px..], &mut dst[groups * by..]);
        return pack_lsb_bits(bits, src, dst);
    }
    pack_lsb_bits(bits, src, dst)
}

/// The general LSB-first bit packer (any width, any length).
fn pack_lsb_bits(bits: u32, src: &[u16], dst: &mut [u8]) {
    let mask = low_mask(bits) as u64;
    let mut acc: u64 = 0;
    let mut n: u32 = 0;
    let mut out = dst.iter_mut();
    for &s in src {
        acc |= (s as u64 & mask) << n;
        n += bits;
        while n >= 8 {
            if let Some(o) = out.next() {
                *o = acc as u8;
            }
            acc >>= 8;
            n -= 8;
        }
    }
    if n > 0 {
        if let Some(o) = out.next() {
            *o = acc as u8;
        }
    }
    for o in out {
        *o = 0;
    }
}

/// Unpacks GigE Vision packed samples: `dst.len()` samples from
/// `ceil(dst.len() / 2)` triples.
fn unpack_gige_line(bits: u32, src: &[u8], dst: &mut [u16]) {
    let lo = bits - 8; // low bits stored in the middle byte: 4 or 2
    let lmask = (1u16 << lo) - 1;
    let mut dch = dst.chunks_exact_mut(2);
    let mut sch = src.chunks_exact(3);
    for (d, s) in (&mut dch).zip(&mut sch) {
        d[0] = ((s[0] as u16) << lo) | (s[1] as u16 & lmask);
        d[1] = ((s[2] as u16) << lo) | ((s[1] as u16 >> 4) & lmask);
    }
    if let ([d], Some(s)) = (dch.into_remainder(), sch.next()) {
        *d = ((s[0] as u16) << lo) | (s[1] as u16 & lmask);
    }
}

/// Packs one line in GigE Vision packed layout; `dst` is exactly the line.
fn pack_gige_line(bits: u32, src: &[u16], dst: &mut [u8]) {
    let lo = bits - 8;
    let mask = low_mask(bits);
    let lmask = (1u16 << lo) - 1;
    let enc = |p0: u16, p1: u16, d: &mut [u8]| {
        let (p0, p1) = (p0 & mask, p1 & mask);
        d[0] = (p0 >> lo) as u8;
        d[1] = ((p0 & lmask) | ((p1 & lmask) << 4)) as u8;
        d[2] = (p1 >> lo) as u8;
    };
    let mut sch = src.chunks_exact(2);
    let mut dch = dst.chunks_exact_mut(3);
    for (s, d) in (&mut sch).zip(&mut dch) {
        enc(s[0], s[1], d);
    }
    if let ([s], Some(d)) = (sch.remainder(), dch.next()) {
        enc(*s, 0, d);
    }
}
