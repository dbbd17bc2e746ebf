//! Saving and loading camera images: PNG, TIFF, BMP and raw wire data with a
//! JSON sidecar.
//!
//! An [`Image`] owns one frame in the PFNC wire layout of its
//! [`PixelFormat`] (exactly as the camera sends it, see [`crate::format`]).
//! It is written with [`save`] / [`save_as`] and read with [`load`] /
//! [`load_as`]; the in-memory functions [`encode`], [`decode`],
//! [`encode_raw`] and [`decode_raw`] do the same without touching the disk.
//! The file type is a [`FileFormat`], chosen explicitly or from the file
//! extension (`.png`, `.tif` / `.tiff`, `.bmp`, `.raw`, case-insensitive).
//!
//! # Saving: pixel format → file
//!
//! | pixel format                                        | PNG / TIFF                 | BMP                  | raw        |
//! |-----------------------------------------------------|----------------------------|----------------------|------------|
//! | `Mono8`, `Bayer**8`                                 | 8-bit grey                 | 8-bit grey (palette) | wire bytes |
//! | `Mono10/12/16`, `Bayer**10/12/16`, `*10p`, `*12p`, `Mono10Packed`, `Mono12Packed` | 16-bit grey, samples **unscaled** | error ([`FileError::Unsupported`]) | wire bytes |
//! | `RGB8`                                              | 8-bit RGB                  | 24-bit RGB           | wire bytes |
//! | `BGR8`, `RGBa8`, `BGRa8`, `YUV422_8`, `YUV422_8_UYVY` | 8-bit RGB via [`crate::convert::to_rgb8`] | 24-bit RGB | wire bytes |
//!
//! * 10- and 12-bit samples are stored with their original values (a 12-bit
//!   sample of 4095 is stored as 4095, not 65520), so they round-trip
//!   exactly; an image viewer shows such files dark. PNG files of 10/12-bit
//!   data also get an `sBIT` chunk giving the significant bits.
//! * Bayer data is stored as the raw grey mosaic (not demosaiced).
//! * Alpha of `RGBa8` / `BGRa8` is dropped; YUV is converted to RGB
//!   (BT.601, as in [`crate::convert`]).
//! * PNG files get a `tEXt` chunk with keyword `PixelFormat` and the PFNC
//!   name (e.g. `BayerRG12p`), TIFF files an `ImageDescription` tag
//!   `PixelFormat=BayerRG12p`. BMP has no place for metadata.
//!
//! # Loading: file → pixel format
//!
//! A PNG/TIFF/BMP file decodes to `Mono8` (8-bit grey), `Mono16` (16-bit
//! grey), `RGB8` (8-bit RGB) or `RGBa8` (8-bit RGBA). Other colour types
//! (grey + alpha, 16-bit RGB/RGBA — there is no 16-bit RGB PFNC format in
//! [`PixelFormat`] — float, CMYK, ...) give [`FileError::Unsupported`]
//! naming the colour type. A BMP with a palette (≤ 8 bits per pixel) whose
//! pixels are all grey loads as `Mono8`.
//!
//! If the file carries the `PixelFormat` metadata written above, the
//! recorded format is restored when that is exact: a single-sample (mono or
//! Bayer) format is restored from 8-bit grey (8-bit formats) or 16-bit grey
//! (10/12/16-bit formats, re-packed for `p` / `Packed` formats) if every
//! sample fits the format's bit depth; `BGR8` is restored from RGB. In any
//! other case (recorded `RGBa8`, `BGRa8`, YUV — whose conversion was lossy —
//! an unknown name, or samples that do not fit) the metadata is ignored and
//! the plain mapping above applies. [`Image::repack`] re-interprets loaded
//! samples in another mono/Bayer format by hand (e.g. for BMP).
//!
//! # What round-trips exactly (save → load)
//!
//! * **raw**: every [`PixelFormat`] in [`PixelFormat::all`], byte for byte
//!   (including padding bits), with its format and size.
//! * **PNG and TIFF**: every mono and Bayer format (8, 10, 12, 16 bits,
//!   packed or not) with its format, and `RGB8` and `BGR8`. The wire bytes
//!   are identical when the padding bits are zero, as on the wire; non-zero
//!   padding bits (above the sample in a 16-bit container, or at the end of
//!   a packed line) are not kept. `RGBa8`, `BGRa8` and YUV load as the
//!   `RGB8` image [`crate::convert::to_rgb8`] gives.
//! * **BMP**: `Mono8` and `RGB8` exactly; `Bayer**8` loads as `Mono8` with
//!   identical bytes (use [`Image::repack`] to restore the pattern); `BGR8`,
//!   `RGBa8`, `BGRa8` and YUV load as the converted `RGB8`.
//!
//! # Raw files and the sidecar
//!
//! `name.raw` holds exactly [`Image::data`]. The sidecar `name.raw.json`
//! (see [`sidecar_path`]) is a JSON object:
//!
//! ```json
//! {"pixel_format": "BayerRG12p", "pfnc": 17563737, "width": 640, "height": 480, "bytes": 460800}
//! ```
//!
//! `pfnc` is the PFNC code as a JSON number (a string such as
//! `"0x010C0059"` is accepted when reading). All five fields are required;
//! `pixel_format` must be a known PFNC name, `pfnc` must be its code,
//! `width`/`height` must fit in `u32`, `bytes` must equal
//! `image_bytes(width, height)` and the length of the raw data. Other fields
//! are ignored.
//!
//! # Errors
//!
//! Every function returns a [`FileError`] naming the file (the in-memory
//! functions use the name `<memory>`) and what was wrong. No input —
//! truncated, corrupt or hostile file or sidecar — makes these functions
//! panic; decoding uses the `image` crate's default memory limit (512 MiB).

use std::borrow::Cow;
use std::fmt;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ExtendedColorType, ImageEncoder, ImageError, ImageFormat};
use serde_json::Value;

use crate::format::PixelFormat;
use crate::pack::{pack_from_u16, unpack_to_u16};

/// The name used in errors of the in-memory functions.
const MEMORY: &str = "<memory>";
/// PNG `tEXt` keyword and TIFF `ImageDescription` prefix for the format.
const META_KEY: &str = "PixelFormat";

/// A file type for images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// PNG: 8/16-bit grey, 8-bit RGB (16-bit RGB is not produced).
    Png,
    /// Baseline TIFF, uncompressed: 8/16-bit grey, 8-bit RGB.
    Tiff,
    /// Windows bitmap: 8-bit grey (palette) and 24-bit RGB only.
    Bmp,
    /// The exact wire bytes, with a JSON sidecar (see the
    /// [module documentation](self)).
    Raw,
}

impl FileFormat {
    /// Every file format.
    pub const ALL: [FileFormat; 4] = [
        FileFormat::Png,
        FileFormat::Tiff,
        FileFormat::Bmp,
        FileFormat::Raw,
    ];

    /// The format for a file extension (without the dot, case-insensitive):
    /// `png`, `tif`, `tiff`, `bmp` or `raw`.
    pub fn from_extension(ext: &str) -> Option<FileFormat> {
        match ext.to_ascii_lowercase().as_str() {
            "png" => Some(FileFormat::Png),
            "tif" | "tiff" => Some(FileFormat::Tiff),
            "bmp" => Some(FileFormat::Bmp),
            "raw" => Some(FileFormat::Raw),
            _ => None,
        }
    }

    /// The format for `path`'s extension, or [`FileError::UnknownExtension`].
    pub fn from_path(path: &Path) -> Result<FileFormat, FileError> {
        path.extension()
            .and_then(|e| e.to_str())
            .and_then(FileFormat::from_extension)
            .ok_or_else(|| FileError::UnknownExtension {
                path: path.to_path_buf(),
            })
    }

    /// The format whose signature starts `bytes` (PNG, TIFF or BMP magic
    /// numbers); raw data has no signature and gives `None`.
    pub fn from_magic(bytes: &[u8]) -> Option<FileFormat> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileFormat::Png)
        } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
            Some(FileFormat::Tiff)
        } else if bytes.starts_with(b"BM") {
            Some(FileFormat::Bmp)
        } else {
            None
        }
    }

    /// The usual extension, without the dot (`png`, `tif`, `bmp`, `raw`).
    pub const fn extension(self) -> &'static str {
        match self {
            FileFormat::Png => "png",
            FileFormat::Tiff => "tif",
            FileFormat::Bmp => "bmp",
            FileFormat::Raw => "raw",
        }
    }

    fn image_format(self) -> Option<ImageFormat> {
        match self {
            FileFormat::Png => Some(ImageFormat::Png),
            FileFormat::Tiff => Some(ImageFormat::Tiff),
            FileFormat::Bmp => Some(ImageFormat::Bmp),
            FileFormat::Raw => None,
        }
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileFormat::Png => "PNG",
            FileFormat::Tiff => "TIFF",
            FileFormat::Bmp => "BMP",
            FileFormat::Raw => "raw",
        })
    }
}

/// Errors from saving and loading images.
///
/// File-related variants carry the path of the file concerned (`<memory>`
/// for the in-memory functions).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Reading or writing the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file extension is not one of `.png`, `.tif`, `.tiff`, `.bmp`,
    /// `.raw`.
    #[error(
        "{}: unknown image file extension (expected .png, .tif, .tiff, .bmp or .raw)",
        path.display()
    )]
    UnknownExtension {
        /// The file.
        path: PathBuf,
    },
    /// The file type cannot hold this image, or the file holds an image this
    /// crate has no pixel format for.
    #[error("{}: {file_format}: {reason}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The file type.
        file_format: FileFormat,
        /// What is not supported (names the pixel format or colour type).
        reason: String,
    },
    /// The raw sidecar is not valid JSON.
    #[error("{}: sidecar is not valid JSON: {source}", path.display())]
    SidecarJson {
        /// The sidecar file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A field of the raw sidecar is missing or wrong.
    #[error("{}: sidecar field `{field}`: {reason}", path.display())]
    Sidecar {
        /// The sidecar file.
        path: PathBuf,
        /// The field name (`(root)` if the sidecar is not a JSON object).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The raw file length differs from the size its sidecar describes.
    #[error(
        "{}: raw data is {actual} bytes but the sidecar {} says {expected}",
        path.display(),
        sidecar.display()
    )]
    SizeMismatch {
        /// The raw data file.
        path: PathBuf,
        /// The sidecar file.
        sidecar: PathBuf,
        /// Bytes the sidecar describes.
        expected: u64,
        /// Bytes in the raw file.
        actual: u64,
    },
    /// The `image` crate could not decode the file (corrupt, truncated or
    /// too large).
    #[error("{}: cannot decode {file_format}: {source}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// The file type it was decoded as.
        file_format: FileFormat,
        /// The decoder's error.
        #[source]
        source: ImageError,
    },
    /// The `image` crate could not encode the image (e.g. a zero-sized image
    /// for PNG).
    #[error("{}: cannot encode {file_format}: {source}", path.display())]
    Encode {
        /// The file.
        path: PathBuf,
        /// The file type.
        file_format: FileFormat,
        /// The encoder's error.
        #[source]
        source: ImageError,
    },
    /// [`Image::new`]: the data length does not match the format and size.
    #[error(
        "{format} {width}x{height} needs {} bytes, got {actual}",
        expected.map_or_else(|| "more than usize::MAX".to_string(), |e| e.to_string())
    )]
    DataLength {
        /// The pixel format.
        format: PixelFormat,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Required bytes (`None` if the size overflows `usize`).
        expected: Option<usize>,
        /// Bytes given.
        actual: usize,
    },
    /// [`Image::repack`]: the samples cannot be expressed in the target
    /// format.
    #[error("cannot repack {from} as {to}: {reason}")]
    Repack {
        /// The image's format.
        from: PixelFormat,
        /// The requested format.
        to: PixelFormat,
        /// Why not.
        reason: String,
    },
}

impl FileError {
    /// The file the error is about (`<memory>` for the in-memory
    /// functions), or `None` for [`FileError::DataLength`] and
    /// [`FileError::Repack`].
    pub fn path(&self) -> Option<&Path> {
        match self {
            FileError::Io { path, .. }
            | FileError::UnknownExtension { path }
            | FileError::Unsupported { path, .. }
            | FileError::SidecarJson { path, .. }
            | FileError::Sidecar { path, .. }
            | FileError::SizeMismatch { path, .. }
            | FileError::Decode { path, .. }
            | FileError::Encode { path, .. } => Some(path),
            FileError::DataLength { .. } | FileError::Repack { .. } => None,
        }
    }
}

/// An owned image in the PFNC wire layout of its pixel format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Image {
    format: PixelFormat,
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl Image {
    /// An image of `width` × `height` pixels whose `data` is in the layout of
    /// `format`; `data.len()` must be exactly
    /// `format.image_bytes(width, height)`, otherwise
    /// [`FileError::DataLength`].
    pub fn new(
        format: PixelFormat,
        width: u32,
        height: u32,
        data: Vec<u8>,
    ) -> Result<Image, FileError> {
        let expected = format.image_bytes(width as usize, height as usize);
        if expected != Some(data.len()) {
            return Err(FileError::DataLength {
                format,
                width,
                height,
                expected,
                actual: data.len(),
            });
        }
        Ok(Image {
            format,
            width,
            height,
            data,
        })
    }

    /// The pixel format.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The wire bytes (`format().image_bytes(width, height)` of them).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The wire bytes, consuming the image.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// The same samples in another mono or Bayer format, e.g. a `Mono16`
    /// image loaded from a TIFF without metadata as `BayerRG12p`, or a
    /// `Mono8` from a BMP as `BayerGB8`. Values are not scaled.
    ///
    /// Both formats must hold one sample per pixel and every sample must fit
    /// the target's bit depth, otherwise [`FileError::Repack`].
    pub fn repack(&self, target: PixelFormat) -> Result<Image, FileError> {
        let err = |reason: String| FileError::Repack {
            from: self.format,
            to: target,
            reason,
        };
        if !self.format.is_single_sample() || !target.is_single_sample() {
            return Err(err("only mono and Bayer formats can be repacked".into()));
        }
        let samples = self.samples_u16().map_err(|e| err(e.to_string()))?;
        let max = (1u32 << target.pixel_bits()) - 1;
        if let Some(i) = samples.iter().position(|&v| u32::from(v) > max) {
            let w = self.width.max(1) as usize;
            return Err(err(format!(
                "sample {} at ({}, {}) exceeds {} bits",
                samples[i],
                i % w,
                i / w,
                target.pixel_bits()
            )));
        }
        let (w, h) = (self.width as usize, self.height as usize);
        let bytes = target
            .image_bytes(w, h)
            .ok_or_else(|| err("image size overflows".into()))?;
        let mut data = vec![0u8; bytes];
        pack_from_u16(target, w, h, &samples, &mut data).map_err(|e| err(e.to_string()))?;
        Image::new(target, self.width, self.height, data)
    }

    /// The samples of a mono or Bayer image as `u16` values.
    fn samples_u16(&self) -> Result<Vec<u16>, crate::pack::PackError> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut samples = vec![0u16; w.saturating_mul(h)];
        unpack_to_u16(self.format, w, h, &self.data, &mut samples)?;
        Ok(samples)
    }
}

// ---------------------------------------------------------------------------
// Path-based API

/// The sidecar path of a raw file: `path` with `.json` appended
/// (`frame.raw` → `frame.raw.json`).
pub fn sidecar_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".json");
    PathBuf::from(s)
}

/// Saves `image` to `path`, the file type chosen by the extension (see
/// [`FileFormat::from_extension`]). For `.raw` the sidecar
/// [`sidecar_path`]`(path)` is written too.
pub fn save(image: &Image, path: impl AsRef<Path>) -> Result<(), FileError> {
    let path = path.as_ref();
    save_as(image, path, FileFormat::from_path(path)?)
}

/// Saves `image` to `path` as `format`, whatever the extension. For
/// [`FileFormat::Raw`] the sidecar [`sidecar_path`]`(path)` is written too.
pub fn save_as(image: &Image, path: impl AsRef<Path>, format: FileFormat) -> Result<(), FileError> {
    let path = path.as_ref();
    let write = |p: &Path, bytes: &[u8]| {
        std::fs::write(p, bytes).map_err(|source| FileError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    if format == FileFormat::Raw {
        let (data, sidecar) = encode_raw(image);
        write(path, &data)?;
        return write(&sidecar_path(path), &sidecar);
    }
    let bytes = encode_named(image, format, path)?;
    write(path, &bytes)
}

/// Loads an image from `path`, the file type chosen by the extension. For
/// `.raw` the sidecar [`sidecar_path`]`(path)` is read too.
pub fn load(path: impl AsRef<Path>) -> Result<Image, FileError> {
    let path = path.as_ref();
    load_as(path, FileFormat::from_path(path)?)
}

/// Loads an image from `path` as `format`, whatever the extension. For
/// [`FileFormat::Raw`] the sidecar [`sidecar_path`]`(path)` is read too.
pub fn load_as(path: impl AsRef<Path>, format: FileFormat) -> Result<Image, FileError> {
    let path = path.as_ref();
    let read = |p: &Path| {
        std::fs::read(p).map_err(|source| FileError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    if format == FileFormat::Raw {
        let side = sidecar_path(path);
        let sidecar = read(&side)?;
        let data = read(path)?;
        return decode_raw_named(data, path, &sidecar, &side);
    }
    decode_named(&read(path)?, format, path)
}

// ---------------------------------------------------------------------------
// In-memory API

/// Encodes `image` as a PNG, TIFF or BMP file in memory (see the
/// [module documentation](self) for the mapping).
///
/// [`FileFormat::Raw`] gives [`FileError::Unsupported`]: raw data needs its
/// sidecar, use [`encode_raw`].
pub fn encode(image: &Image, format: FileFormat) -> Result<Vec<u8>, FileError> {
    encode_named(image, format, Path::new(MEMORY))
}

/// Decodes a PNG, TIFF or BMP file held in memory (see the
/// [module documentation](self) for the resulting pixel formats).
///
/// [`FileFormat::Raw`] gives [`FileError::Unsupported`]: use [`decode_raw`].
pub fn decode(bytes: &[u8], format: FileFormat) -> Result<Image, FileError> {
    decode_named(bytes, format, Path::new(MEMORY))
}

/// The raw file contents of `image`: the wire bytes and the JSON sidecar.
pub fn encode_raw(image: &Image) -> (Vec<u8>, Vec<u8>) {
    (image.data.clone(), raw_sidecar(image).into_bytes())
}

/// The JSON sidecar text describing `image` (see the
/// [module documentation](self)).
pub fn raw_sidecar(image: &Image) -> String {
    let v = serde_json::json!({
        "pixel_format": image.format.name(),
        "pfnc": image.format.code(),
        "width": image.width,
        "height": image.height,
        "bytes": image.data.len(),
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string());
    s.push('\n');
    s
}

/// Builds an image from raw wire bytes and their JSON sidecar, validating
/// the sidecar (see the [module documentation](self)).
pub fn decode_raw(data: &[u8], sidecar: &[u8]) -> Result<Image, FileError> {
    let memory = Path::new(MEMORY);
    decode_raw_named(data.to_vec(), memory, sidecar, memory)
}

// ---------------------------------------------------------------------------
// Raw + sidecar

/// The validated contents of a sidecar.
struct Sidecar {
    format: PixelFormat,
    width: u32,
    height: u32,
    bytes: u64,
}

fn parse_sidecar(json: &[u8], path: &Path) -> Result<Sidecar, FileError> {
    let bad = |field: &str, reason: String| FileError::Sidecar {
        path: path.to_path_buf(),
        field: field.to_string(),
        reason,
    };
    let value: Value = serde_json::from_slice(json).map_err(|source| FileError::SidecarJson {
        path: path.to_path_buf(),
        source,
    })?;
    let obj = value
        .as_object()
        .ok_or_else(|| bad("(root)", "expected a JSON object".into()))?;
    let get = |field: &str| {
        obj.get(field)
            .ok_or_else(|| bad(field, "missing".to_string()))
    };
    let uint = |field: &str, max: u64| -> Result<u64, FileError> {
        let v = get(field)?;
        match v.as_u64() {
            Some(n) if n <= max => Ok(n),
            _ => Err(bad(
                field,
                format!("expected an integer from 0 to {max}, got {v}"),
            )),
        }
    };

    let name_value = get("pixel_format")?;
    let name = name_value.as_str().ok_or_else(|| {
        bad(
            "pixel_format",
            format!("expected a string, got {name_value}"),
        )
    })?;
    let format = PixelFormat::from_name(name).ok_or_else(|| {
        bad(
            "pixel_format",
            format!("unknown PFNC pixel format name {name:?}"),
        )
    })?;

    let pfnc_value = get("pfnc")?;
    let pfnc = match pfnc_value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => {
            let s = s.trim();
            match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            }
        }
        _ => None,
    }
    .ok_or_else(|| {
        bad(
            "pfnc",
            format!("expected a PFNC code (number or \"0x...\" string), got {pfnc_value}"),
        )
    })?;
    if pfnc != u64::from(format.code()) {
        return Err(bad(
            "pfnc",
            format!(
                "{pfnc:#010x} is not the code of {name} ({:#010x})",
                format.code()
            ),
        ));
    }

    let width = uint("width", u64::from(u32::MAX))? as u32;
    let height = uint("height", u64::from(u32::MAX))? as u32;
    let bytes = uint("bytes", u64::MAX)?;
    let expected = format
        .image_bytes(width as usize, height as usize)
        .ok_or_else(|| {
            bad(
                "width",
                format!("{width}x{height} {name} image is too large"),
            )
        })?;
    if u64::try_from(expected).ok() != Some(bytes) {
        return Err(bad(
            "bytes",
            format!("{bytes}, but a {width}x{height} {name} image has {expected} bytes"),
        ));
    }
    Ok(Sidecar {
        format,
        width,
        height,
        bytes,
    })
}

fn decode_raw_named(
    data: Vec<u8>,
    path: &Path,
    sidecar: &[u8],
    sidecar_path: &Path,
) -> Result<Image, FileError> {
    let side = parse_sidecar(sidecar, sidecar_path)?;
    let actual = data.len() as u64;
    if actual != side.bytes {
        return Err(FileError::SizeMismatch {
            path: path.to_path_buf(),
            sidecar: sidecar_path.to_path_buf(),
            expected: side.bytes,
            actual,
        });
    }
    Image::new(side.format, side.width, side.height, data)
}

// ---------------------------------------------------------------------------
// Encoding

/// What an image is written as: colour type and native-endian sample bytes.
struct Planar<'a> {
    color: ExtendedColorType,
    bytes: Cow<'a, [u8]>,
    /// Significant bits of a 16-bit grey image with fewer than 16 bits.
    sbit: Option<u8>,
}

fn planar<'a>(
    image: &'a Image,
    file_format: FileFormat,
    path: &Path,
) -> Result<Planar<'a>, FileError> {
    use PixelFormat::*;
    let (w, h) = (image.width as usize, image.height as usize);
    let f = image.format;
    if f.is_single_sample() && f.bits_per_pixel() == 8 {
        return Ok(Planar {
            color: ExtendedColorType::L8,
            bytes: Cow::Borrowed(&image.data),
            sbit: None,
        });
    }
    if f.is_single_sample() {
        if file_format == FileFormat::Bmp {
            return Err(FileError::Unsupported {
                path: path.to_path_buf(),
                file_format,
                reason: format!(
                    "cannot hold {}-bit samples ({f}); use PNG, TIFF or raw",
                    f.pixel_bits()
                ),
            });
        }
        let samples = image.samples_u16().map_err(|e| FileError::Unsupported {
            path: path.to_path_buf(),
            file_format,
            reason: format!("cannot unpack {f}: {e}"),
        })?;
        let bytes = samples.iter().flat_map(|v| v.to_ne_bytes()).collect();
        let bits = f.pixel_bits();
        return Ok(Planar {
            color: ExtendedColorType::L16,
            bytes: Cow::Owned(bytes),
            sbit: (bits < 16).then_some(bits as u8),
        });
    }
    let bytes = if f == RGB8 {
        Cow::Borrowed(&image.data[..])
    } else {
        let mut rgb = vec![0u8; w.saturating_mul(h).saturating_mul(3)];
        crate::convert::to_rgb8(f, w, h, &image.data, &mut rgb).map_err(|e| {
            FileError::Unsupported {
                path: path.to_path_buf(),
                file_format,
                reason: format!("cannot convert {f} to RGB8: {e}"),
            }
        })?;
        Cow::Owned(rgb)
    };
    Ok(Planar {
        color: ExtendedColorType::Rgb8,
        bytes,
        sbit: None,
    })
}

fn encode_named(image: &Image, file_format: FileFormat, path: &Path) -> Result<Vec<u8>, FileError> {
    if file_format == FileFormat::Raw {
        return Err(FileError::Unsupported {
            path: path.to_path_buf(),
            file_format,
            reason: "raw data needs a sidecar: use encode_raw or save".into(),
        });
    }
    let p = planar(image, file_format, path)?;
    let (w, h) = (image.width, image.height);
    // `write_image` panics on a length mismatch; `Image::new` and `planar`
    // guarantee the lengths, but check anyway rather than panic.
    let expected = u64::from(w) * u64::from(h) * (u64::from(p.color.bits_per_pixel()) / 8);
    if expected != p.bytes.len() as u64 {
        return Err(FileError::Unsupported {
            path: path.to_path_buf(),
            file_format,
            reason: format!("internal size error for {} {w}x{h}", image.format),
        });
    }
    let enc_err = |source: ImageError| FileError::Encode {
        path: path.to_path_buf(),
        file_format,
        source,
    };
    let mut out = Cursor::new(Vec::new());
    match file_format {
        FileFormat::Png => image::codecs::png::PngEncoder::new(&mut out)
            .write_image(&p.bytes, w, h, p.color)
            .map_err(enc_err)?,
        FileFormat::Tiff => image::codecs::tiff::TiffEncoder::new(&mut out)
            .write_image(&p.bytes, w, h, p.color)
            .map_err(enc_err)?,
        FileFormat::Bmp => image::codecs::bmp::BmpEncoder::new(&mut out)
            .write_image(&p.bytes, w, h, p.color)
            .map_err(enc_err)?,
        FileFormat::Raw => unreachable!("handled above"),
    }
    let mut bytes = out.into_inner();
    let name = image.format.name();
    let internal = |what: &str| {
        enc_err(ImageError::Encoding(image::error::EncodingError::new(
            image::error::ImageFormatHint::Exact(
                file_format.image_format().unwrap_or(ImageFormat::Png),
            ),
            format!("cannot add metadata: {what}"),
        )))
    };
    match file_format {
        FileFormat::Png => {
            bytes = png_add_metadata(&bytes, name, p.sbit).ok_or_else(|| internal("bad PNG"))?;
        }
        FileFormat::Tiff => {
            let desc = format!("{META_KEY}={name}");
            bytes = tiff_add_description(bytes, &desc).ok_or_else(|| internal("bad TIFF"))?;
        }
        _ => {}
    }
    Ok(bytes)
}

// ---------------------------------------------------------------------------
// Decoding

fn decode_named(bytes: &[u8], file_format: FileFormat, path: &Path) -> Result<Image, FileError> {
    let Some(image_format) = file_format.image_format() else {
        return Err(FileError::Unsupported {
            path: path.to_path_buf(),
            file_format,
            reason: "raw data needs its sidecar: use decode_raw or load".into(),
        });
    };
    let dec_err = |source: ImageError| FileError::Decode {
        path: path.to_path_buf(),
        file_format,
        source,
    };
    // `ImageReader::with_format` applies the default limits (512 MiB).
    let dynamic = image::ImageReader::with_format(Cursor::new(bytes), image_format)
        .decode()
        .map_err(dec_err)?;
    let (w, h) = (dynamic.width(), dynamic.height());
    let color = dynamic.color();
    let unsupported = |reason: String| FileError::Unsupported {
        path: path.to_path_buf(),
        file_format,
        reason,
    };
    let (format, data) = match dynamic {
        DynamicImage::ImageLuma8(b) => (PixelFormat::Mono8, b.into_raw()),
        DynamicImage::ImageLuma16(b) => (
            PixelFormat::Mono16,
            b.into_raw().iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
        DynamicImage::ImageRgb8(b) => (PixelFormat::RGB8, b.into_raw()),
        DynamicImage::ImageRgba8(b) => (PixelFormat::RGBa8, b.into_raw()),
        DynamicImage::ImageRgb16(_) => {
            return Err(unsupported(format!(
                "16-bit RGB ({color:?}) has no PFNC pixel format in this crate"
            )))
        }
        _ => {
            return Err(unsupported(format!(
                "colour type {color:?} has no PFNC pixel format in this crate"
            )))
        }
    };
    let mut image = Image::new(format, w, h, data).map_err(|e| unsupported(e.to_string()))?;

    if file_format == FileFormat::Bmp && image.format == PixelFormat::RGB8 {
        let paletted = bmp_bits_per_pixel(bytes).is_some_and(|b| b <= 8);
        if paletted
            && image
                .data
                .chunks_exact(3)
                .all(|p| p[0] == p[1] && p[1] == p[2])
        {
            let grey = image.data.chunks_exact(3).map(|p| p[0]).collect();
            image = Image::new(PixelFormat::Mono8, w, h, grey)
                .map_err(|e| unsupported(e.to_string()))?;
        }
    }

    let recorded = match file_format {
        FileFormat::Png => png_text(bytes, META_KEY),
        FileFormat::Tiff => tiff_description(bytes).and_then(|d| {
            d.strip_prefix(META_KEY)?
                .strip_prefix('=')
                .map(str::to_string)
        }),
        _ => None,
    };
    if let Some(target) = recorded.as_deref().and_then(PixelFormat::from_name) {
        if let Some(restored) = restore(&image, target) {
            image = restored;
        }
    }
    Ok(image)
}

/// The image in its recorded format `target`, if that is exact.
fn restore(image: &Image, target: PixelFormat) -> Option<Image> {
    let from = image.format;
    if target.is_single_sample() {
        let depth_matches = match from {
            PixelFormat::Mono8 => target.bits_per_pixel() == 8,
            PixelFormat::Mono16 => target.pixel_bits() > 8,
            _ => false,
        };
        return if depth_matches {
            image.repack(target).ok()
        } else {
            None
        };
    }
    match (from, target) {
        (PixelFormat::RGB8, PixelFormat::BGR8) => {
            let mut data = image.data.clone();
            for p in data.chunks_exact_mut(3) {
                p.swap(0, 2);
            }
            Image::new(target, image.width, image.height, data).ok()
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Container helpers (metadata). All parsing is bounds-checked.

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// CRC-32 (ISO-HDLC, as PNG uses) of `parts` concatenated.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for part in parts {
        for &b in *part {
            crc ^= u32::from(b);
            for _ in 0..8 {
                let mask = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
            }
        }
    }
    !crc
}

/// One PNG chunk at `pos`: (type, data, position of the next chunk).
fn png_chunk(bytes: &[u8], pos: usize) -> Option<([u8; 4], &[u8], usize)> {
    let len = u32::from_be_bytes(bytes.get(pos..pos.checked_add(4)?)?.try_into().ok()?) as usize;
    let ty: [u8; 4] = bytes.get(pos + 4..pos + 8)?.try_into().ok()?;
    let start = pos.checked_add(8)?;
    let end = start.checked_add(len)?;
    let data = bytes.get(start..end)?;
    let crc = bytes.get(end..end.checked_add(4)?)?;
    if crc32(&[&ty, data]).to_be_bytes() != crc {
        return None;
    }
    Some((ty, data, end + 4))
}

fn png_make_chunk(ty: &[u8; 4], data: &[u8]) -> Option<Vec<u8>> {
    let mut c = Vec::with_capacity(data.len() + 12);
    c.extend_from_slice(&u32::try_from(data.len()).ok()?.to_be_bytes());
    c.extend_from_slice(ty);
    c.extend_from_slice(data);
    c.extend_from_slice(&crc32(&[ty, data]).to_be_bytes());
    Some(c)
}

/// Inserts `sBIT` (if given) and a `tEXt` chunk with the format name right
/// after `IHDR`.
fn png_add_metadata(png: &[u8], name: &str, sbit: Option<u8>) -> Option<Vec<u8>> {
    if !png.starts_with(PNG_SIGNATURE) {
        return None;
    }
    let (ty, _, after_ihdr) = png_chunk(png, PNG_SIGNATURE.len())?;
    if &ty != b"IHDR" {
        return None;
    }
    let mut out = Vec::with_capacity(png.len() + 64);
    out.extend_from_slice(&png[..after_ihdr]);
    if let Some(bits) = sbit {
        out.extend(png_make_chunk(b"sBIT", &[bits])?);
    }
    let mut text = META_KEY.as_bytes().to_vec();
    text.push(0);
    text.extend_from_slice(name.as_bytes());
    out.extend(png_make_chunk(b"tEXt", &text)?);
    out.extend_from_slice(&png[after_ihdr..]);
    Some(out)
}

/// The text of the first valid `tEXt` chunk with `keyword` before `IDAT`.
fn png_text(png: &[u8], keyword: &str) -> Option<String> {
    if !png.starts_with(PNG_SIGNATURE) {
        return None;
    }
    let mut pos = PNG_SIGNATURE.len();
    while let Some((ty, data, next)) = png_chunk(png, pos) {
        match &ty {
            b"IDAT" | b"IEND" => return None,
            b"tEXt" => {
                if let Some(nul) = data.iter().position(|&b| b == 0) {
                    if &data[..nul] == keyword.as_bytes() {
                        return std::str::from_utf8(&data[nul + 1..])
                            .ok()
                            .map(str::to_string);
                    }
                }
            }
            _ => {}
        }
        pos = next;
    }
    None
}

/// Byte order of a classic TIFF file.
#[derive(Clone, Copy)]
struct Tiff {
    little: bool,
}

impl Tiff {
    fn parse(bytes: &[u8]) -> Option<(Tiff, u32)> {
        let t = match bytes.get(0..4)? {
            b"II*\0" => Tiff { little: true },
            b"MM\0*" => Tiff { little: false },
            _ => return None,
        };
        Some((t, t.u32_at(bytes, 4)?))
    }

    fn u16_at(self, b: &[u8], pos: usize) -> Option<u16> {
        let a: [u8; 2] = b.get(pos..pos.checked_add(2)?)?.try_into().ok()?;
        Some(if self.little {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        })
    }

    fn u32_at(self, b: &[u8], pos: usize) -> Option<u32> {
        let a: [u8; 4] = b.get(pos..pos.checked_add(4)?)?.try_into().ok()?;
        Some(if self.little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }

    fn u16_bytes(self, v: u16) -> [u8; 2] {
        if self.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    }

    fn u32_bytes(self, v: u32) -> [u8; 4] {
        if self.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    }

    /// The entries (12 bytes each) of the IFD at `offset`, and the offset
    /// of the next IFD.
    fn ifd(self, b: &[u8], offset: u32) -> Option<(Vec<[u8; 12]>, u32)> {
        let start = offset as usize;
        let count = self.u16_at(b, start)? as usize;
        let entries_start = start.checked_add(2)?;
        let entries_end = entries_start.checked_add(count.checked_mul(12)?)?;
        let entries = b
            .get(entries_start..entries_end)?
            .chunks_exact(12)
            .filter_map(|e| e.try_into().ok())
            .collect();
        Some((entries, self.u32_at(b, entries_end)?))
    }
}

const TIFF_IMAGE_DESCRIPTION: u16 = 270;
const TIFF_ASCII: u16 = 2;

/// Sets the `ImageDescription` of the first IFD: appends a copy of the IFD
/// with the tag added (or replaced) and the string, and points the header
/// at it.
fn tiff_add_description(mut tiff: Vec<u8>, desc: &str) -> Option<Vec<u8>> {
    let (t, first) = Tiff::parse(&tiff)?;
    let (entries, next) = t.ifd(&tiff, first)?;
    let mut text = desc.as_bytes().to_vec();
    text.push(0);
    let count = u32::try_from(text.len()).ok()?;

    let mut entry = [0u8; 12];
    entry[0..2].copy_from_slice(&t.u16_bytes(TIFF_IMAGE_DESCRIPTION));
    entry[2..4].copy_from_slice(&t.u16_bytes(TIFF_ASCII));
    entry[4..8].copy_from_slice(&t.u32_bytes(count));
    if text.len() <= 4 {
        entry[8..8 + text.len()].copy_from_slice(&text);
    } else {
        if tiff.len() % 2 == 1 {
            tiff.push(0);
        }
        let at = u32::try_from(tiff.len()).ok()?;
        entry[8..12].copy_from_slice(&t.u32_bytes(at));
        tiff.extend_from_slice(&text);
    }
    let mut entries: Vec<[u8; 12]> = entries
        .into_iter()
        .filter(|e| t.u16_at(e, 0) != Some(TIFF_IMAGE_DESCRIPTION))
        .collect();
    entries.push(entry);
    entries.sort_by_key(|e| t.u16_at(e, 0).unwrap_or(u16::MAX));

    if tiff.len() % 2 == 1 {
        tiff.push(0);
    }
    let ifd_at = u32::try_from(tiff.len()).ok()?;
    tiff.extend_from_slice(&t.u16_bytes(u16::try_from(entries.len()).ok()?));
    for e in &entries {
        tiff.extend_from_slice(e);
    }
    tiff.extend_from_slice(&t.u32_bytes(next));
    u32::try_from(tiff.len()).ok()?;
    tiff.get_mut(4..8)?.copy_from_slice(&t.u32_bytes(ifd_at));
    Some(tiff)
}

/// The `ImageDescription` of the first IFD, if present and valid UTF-8.
fn tiff_description(bytes: &[u8]) -> Option<String> {
    let (t, first) = Tiff::parse(bytes)?;
    let (entries, _) = t.ifd(bytes, first)?;
    let e = entries
        .iter()
        .find(|e| t.u16_at(&e[..], 0) == Some(TIFF_IMAGE_DESCRIPTION))?;
    if t.u16_at(e, 2)? != TIFF_ASCII {
        return None;
    }
    let count = t.u32_at(e, 4)? as usize;
    let text = if count <= 4 {
        e.get(8..8 + count)?
    } else {
        let at = t.u32_at(e, 8)? as usize;
        bytes.get(at..at.checked_add(count)?)?
    };
    let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    std::str::from_utf8(&text[..end]).ok().map(str::to_string)
}

/// Bits per pixel from a BMP header (core or info header).
fn bmp_bits_per_pixel(bytes: &[u8]) -> Option<u16> {
    if !bytes.starts_with(b"BM") {
        return None;
    }
    let dib = u32::from_le_bytes(bytes.get(14..18)?.try_into().ok()?);
    let at = if dib == 12 { 24 } else { 28 };
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_png_iend() {
        // The CRC of an empty IEND chunk is fixed: AE 42 60 82.
        assert_eq!(crc32(&[b"IEND", b""]), 0xAE42_6082);
    }

    #[test]
    fn tiff_description_roundtrip_inline_and_offset() {
        let img = Image::new(PixelFormat::Mono8, 2, 1, vec![1, 2]).unwrap();
        let raw = {
            let mut out = Cursor::new(Vec::new());
            image::codecs::tiff::TiffEncoder::new(&mut out)
                .write_image(&img.data, 2, 1, ExtendedColorType::L8)
                .unwrap();
            out.into_inner()
        };
        for desc in ["abc", "PixelFormat=BayerRG12p"] {
            let t = tiff_add_description(raw.clone(), desc).unwrap();
            assert_eq!(tiff_description(&t).as_deref(), Some(desc));
            let again = tiff_add_description(t, "x=y z").unwrap();
            assert_eq!(tiff_description(&again).as_deref(), Some("x=y z"));
        }
    }
}
