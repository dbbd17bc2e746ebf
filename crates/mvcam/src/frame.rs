//! [`Frame`]: one received image in a pooled buffer, its metadata and
//! chunk data, conversion to display formats, saving, and recording
//! sequences with a file-name pattern.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pixel::file::{FileFormat, Image};
use pixel::format::PixelFormat;
use u3v::stream::PayloadType;

use crate::error::{Error, Result};
use crate::stream::Pool;

/// One of `pixel::convert`'s conversions.
type ConvertFn =
    fn(PixelFormat, usize, usize, &[u8], &mut [u8]) -> Result<(), pixel::convert::ConvertError>;

/// A frame's metadata, from the stream leader and trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// Block id (increments by one per frame the camera sends).
    pub block_id: u64,
    /// Device timestamp, ns.
    pub timestamp: u64,
    /// PFNC pixel format code.
    pub pixel_format_code: u32,
    /// Width, pixels.
    pub width: u32,
    /// Height, lines.
    pub height: u32,
    /// Horizontal offset of the region of interest.
    pub offset_x: u32,
    /// Vertical offset of the region of interest.
    pub offset_y: u32,
    /// Padding bytes at the end of each line.
    pub padding_x: u16,
    /// Whether chunk data follows the image.
    pub has_chunks: bool,
    /// Valid payload bytes (image and chunks).
    pub payload_len: usize,
    /// Frames lost (block-id gap) just before this one.
    pub lost_before: u64,
}

/// One chunk of a frame's chunk data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// Chunk id (the `ChunkID` of the GenICam file).
    pub id: u32,
    /// Its bytes.
    pub data: &'a [u8],
}

impl Chunk<'_> {
    /// The data as a little-endian unsigned integer (up to 8 bytes).
    pub fn as_u64(&self) -> Option<u64> {
        if self.data.is_empty() || self.data.len() > 8 {
            return None;
        }
        let mut b = [0u8; 8];
        b[..self.data.len()].copy_from_slice(self.data);
        Some(u64::from_le_bytes(b))
    }

    /// The data as a little-endian `f64` (8 bytes).
    pub fn as_f64(&self) -> Option<f64> {
        let b: [u8; 8] = self.data.try_into().ok()?;
        Some(f64::from_le_bytes(b))
    }
}

/// A received frame. Its buffer goes back to the stream's pool when the
/// frame is dropped.
pub struct Frame {
    buf: Vec<u8>,
    info: FrameInfo,
    pool: Option<Arc<Pool>>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame").field("info", &self.info).finish()
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        if let Some(p) = self.pool.take() {
            p.give_back(std::mem::take(&mut self.buf));
        }
    }
}

impl Frame {
    pub(crate) fn new(buf: Vec<u8>, info: FrameInfo, pool: Option<Arc<Pool>>) -> Frame {
        Frame { buf, info, pool }
    }

    pub(crate) fn from_receiver(info: &u3v::stream_receiver::FrameInfo) -> FrameInfo {
        FrameInfo {
            block_id: info.block_id,
            timestamp: info.timestamp,
            pixel_format_code: info.image.pixel_format,
            width: info.image.size_x,
            height: info.image.size_y,
            offset_x: info.image.offset_x,
            offset_y: info.image.offset_y,
            padding_x: info.image.padding_x,
            has_chunks: info.payload_type != PayloadType::Image,
            payload_len: usize::try_from(info.valid_payload_size).unwrap_or(usize::MAX),
            lost_before: info.lost_before,
        }
    }

    /// A frame of the given image, not tied to a stream (for tests and
    /// for converting images that come from elsewhere).
    pub fn from_image(image: Image, block_id: u64) -> Frame {
        let info = FrameInfo {
            block_id,
            timestamp: 0,
            pixel_format_code: image.format().code(),
            width: image.width(),
            height: image.height(),
            offset_x: 0,
            offset_y: 0,
            padding_x: 0,
            has_chunks: false,
            payload_len: image.data().len(),
            lost_before: 0,
        };
        Frame::new(image.into_data(), info, None)
    }

    /// The metadata.
    pub fn info(&self) -> &FrameInfo {
        &self.info
    }

    /// The pixel format, if the SDK knows it.
    pub fn pixel_format(&self) -> Option<PixelFormat> {
        PixelFormat::try_from(self.info.pixel_format_code).ok()
    }

    /// The whole valid payload (image, then chunks when present).
    pub fn payload(&self) -> &[u8] {
        let n = self.info.payload_len.min(self.buf.len());
        &self.buf[..n]
    }

    /// The image bytes in the wire layout of the pixel format (line
    /// padding included).
    pub fn data(&self) -> &[u8] {
        let p = self.payload();
        let Some(fmt) = self.pixel_format() else {
            return p;
        };
        let (w, h) = (self.info.width as usize, self.info.height as usize);
        let len = fmt
            .line_bytes(w)
            .and_then(|l| l.checked_add(usize::from(self.info.padding_x)))
            .and_then(|l| l.checked_mul(h));
        match len {
            Some(n) if n <= p.len() => &p[..n],
            _ => p,
        }
    }

    /// The chunks after the image, first first (empty without chunk data).
    pub fn chunks(&self) -> Vec<Chunk<'_>> {
        if !self.info.has_chunks {
            return Vec::new();
        }
        let p = self.payload();
        match u3v::parse_chunks(p) {
            Ok(v) => v
                .into_iter()
                .filter_map(|c| p.get(c.data.clone()).map(|data| Chunk { id: c.id, data }))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The chunk with id `id`.
    pub fn chunk(&self, id: u32) -> Option<Chunk<'_>> {
        self.chunks().into_iter().find(|c| c.id == id)
    }

    fn format_or_err(&self) -> Result<PixelFormat> {
        self.pixel_format().ok_or_else(|| {
            Error::Image(format!(
                "unknown pixel format {:#010x}",
                self.info.pixel_format_code
            ))
        })
    }

    /// The image, copied, in its wire pixel format (padding removed).
    pub fn to_image(&self) -> Result<Image> {
        let fmt = self.format_or_err()?;
        let (w, h) = (self.info.width as usize, self.info.height as usize);
        let line = fmt
            .line_bytes(w)
            .ok_or_else(|| Error::Image("image size overflows".into()))?;
        let stride = line + usize::from(self.info.padding_x);
        let mut out = Vec::with_capacity(line.saturating_mul(h));
        let d = self.data();
        for y in 0..h {
            let row = y
                .checked_mul(stride)
                .and_then(|s| d.get(s..s.checked_add(line)?))
                .ok_or_else(|| Error::Image(format!("frame {} is short", self.info.block_id)))?;
            out.extend_from_slice(row);
        }
        Image::new(fmt, self.info.width, self.info.height, out)
            .map_err(|e| Error::Image(e.to_string()))
    }

    fn convert(&self, target: PixelFormat, channels: usize, f: ConvertFn) -> Result<Image> {
        let img = self.to_image()?;
        let (w, h) = (img.width() as usize, img.height() as usize);
        let n = w
            .checked_mul(h)
            .and_then(|p| p.checked_mul(channels))
            .ok_or_else(|| Error::Image("image size overflows".into()))?;
        let mut dst = vec![0u8; n];
        f(img.format(), w, h, img.data(), &mut dst).map_err(|e| Error::Image(e.to_string()))?;
        Image::new(target, img.width(), img.height(), dst).map_err(|e| Error::Image(e.to_string()))
    }

    /// The image as 8-bit grey.
    pub fn to_mono8(&self) -> Result<Image> {
        self.convert(PixelFormat::Mono8, 1, pixel::convert::to_mono8)
    }

    /// The image as 8-bit RGB (Bayer demosaiced).
    pub fn to_rgb8(&self) -> Result<Image> {
        self.convert(PixelFormat::RGB8, 3, pixel::convert::to_rgb8)
    }

    /// The image as 8-bit BGRa (for display surfaces).
    pub fn to_bgra8(&self) -> Result<Image> {
        self.convert(PixelFormat::BGRa8, 4, pixel::convert::to_bgra8)
    }

    /// Saves the image as PNG, TIFF, BMP or raw, chosen by the extension.
    /// Formats a file type cannot hold (e.g. Bayer in BMP) are converted
    /// to RGB8 first.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let format = FileFormat::from_path(path).map_err(|e| Error::Image(e.to_string()))?;
        self.save_as(path, format)
    }

    /// Saves the image as `format` whatever the extension.
    pub fn save_as(&self, path: impl AsRef<Path>, format: FileFormat) -> Result<()> {
        let path = path.as_ref();
        let img = self.to_image()?;
        match pixel::file::save_as(&img, path, format) {
            Ok(()) => Ok(()),
            Err(first) if format != FileFormat::Raw => {
                let rgb = self.to_rgb8()?;
                pixel::file::save_as(&rgb, path, format)
                    .map_err(|_| Error::Image(first.to_string()))
            }
            Err(e) => Err(Error::Image(e.to_string())),
        }
    }
}

/// Saves frames one after another under names made from a pattern.
///
/// The pattern is a file name in which `{n}` is the frame's sequence
/// number (0, 1, ...), `{n:05}` the same padded with zeros to 5 digits, and
/// `{block}` the frame's block id; e.g. `frame_{n:05}.png`. The file type
/// follows the extension unless [`with_format`](Self::with_format) says
/// otherwise.
#[derive(Debug, Clone)]
pub struct Recorder {
    dir: PathBuf,
    pattern: String,
    format: Option<FileFormat>,
    next: u64,
}

impl Recorder {
    /// Records into `dir` (created if missing) with `pattern`.
    pub fn new(dir: impl AsRef<Path>, pattern: &str) -> Result<Recorder> {
        let dir = dir.as_ref().to_path_buf();
        if !pattern.contains("{n") && !pattern.contains("{block}") {
            return Err(Error::InvalidArgument(format!(
                "file name pattern {pattern:?} has no {{n}} or {{block}}: every frame would overwrite the last"
            )));
        }
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Recorder {
            dir,
            pattern: pattern.to_string(),
            format: None,
            next: 0,
        })
    }

    /// Saves as `format` whatever the pattern's extension.
    pub fn with_format(mut self, format: FileFormat) -> Recorder {
        self.format = Some(format);
        self
    }

    /// The file name for sequence number `n` and block id `block`.
    pub fn file_name(&self, n: u64, block: u64) -> Result<String> {
        let mut out = String::new();
        let mut rest = self.pattern.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let end = after.find('}').ok_or_else(|| {
                Error::InvalidArgument(format!("unterminated {{ in pattern {:?}", self.pattern))
            })?;
            let spec = &after[..end];
            match spec.split_once(':') {
                None if spec == "n" => out.push_str(&n.to_string()),
                None if spec == "block" => out.push_str(&block.to_string()),
                Some((key, width)) if key == "n" || key == "block" => {
                    let v = if key == "n" { n } else { block };
                    let w: usize = width
                        .trim_start_matches('0')
                        .parse()
                        .ok()
                        .filter(|w| *w <= 20)
                        .ok_or_else(|| {
                            Error::InvalidArgument(format!("bad width {width:?} in pattern"))
                        })?;
                    out.push_str(&format!("{v:0w$}"));
                }
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "unknown field {{{spec}}} in pattern {:?}; fields: n, block",
                        self.pattern
                    )))
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Saves `frame` under the next name; returns its path.
    pub fn record(&mut self, frame: &Frame) -> Result<PathBuf> {
        let path = self
            .dir
            .join(self.file_name(self.next, frame.info().block_id)?);
        match self.format {
            Some(f) => frame.save_as(&path, f)?,
            None => frame.save(&path)?,
        }
        self.next += 1;
        Ok(path)
    }

    /// Frames recorded so far.
    pub fn count(&self) -> u64 {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_name_patterns() {
        let dir = std::env::temp_dir().join(format!("mvcam-rec-{}", std::process::id()));
        let r = Recorder::new(&dir, "f_{n:05}_{block}.tiff").unwrap();
        assert_eq!(r.file_name(7, 1234).unwrap(), "f_00007_1234.tiff");
        let r = Recorder::new(&dir, "{n}.png").unwrap();
        assert_eq!(r.file_name(12, 0).unwrap(), "12.png");
        let r = Recorder::new(&dir, "{n:x}.png").unwrap();
        assert!(r.file_name(1, 0).is_err());
        let r = Recorder::new(&dir, "{n}{other}.png").unwrap();
        assert!(r.file_name(1, 0).is_err());
        let r = Recorder::new(&dir, "{n.png").unwrap();
        assert!(r.file_name(1, 0).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
