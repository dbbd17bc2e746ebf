//! The manifest table that lists the device description files, and the
//! `local:` URL hosts build from an entry.
//!
//! Table layout at the ABRM manifest table address: entry count u64, then
//! 64-byte entries:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0x00 | 4 | file version: subminor bits 0–15, minor 16–23, major 24–31 |
//! | 0x04 | 4 | file info: type bits 0–2, format bits 10–15, schema minor 16–23, schema major 24–31 |
//! | 0x08 | 8 | register address of the file |
//! | 0x10 | 8 | file size |
//! | 0x18 | 20 | SHA-1 of the file (zeros when not provided) |
//! | 0x2C | 20 | reserved |
//!
//! # URL conventions
//!
//! GenICam `local:` URLs are `local:[///]<file name>;<address>;<length>[?SchemaVersion=x.y.z]`
//! with address and length in hexadecimal *without* a `0x` prefix. Hosts
//! differ in details (Aravis parses the numbers with `strtoll(.., 16)`, which
//! takes either case and an optional `0x`; devices write both `local:` and
//! `Local:`). [`LocalUrl`] formats the canonical `local:///name;addr;size`
//! with lower-case hex and no prefix, and parses leniently: scheme in any
//! case, zero to three slashes, hex digits in any case with an optional
//! `0x`, and a `?query` that is ignored.

use core::fmt;
use core::str::FromStr;

use crate::error::{DecodeError, EncodeError};
use crate::wire::{append_with, Reader, Writer};

/// Size of one manifest entry.
pub const ENTRY_LEN: usize = 64;
/// Size of the entry-count field at the start of the table.
pub const COUNT_LEN: usize = 8;

/// A GenICam file version (major.minor.subminor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct FileVersion {
    /// Major version (bits 24–31).
    pub major: u8,
    /// Minor version (bits 16–23).
    pub minor: u8,
    /// Subminor version (bits 0–15).
    pub subminor: u16,
}

impl FileVersion {
    /// Unpacks the register value.
    pub const fn from_u32(v: u32) -> Self {
        FileVersion {
            major: (v >> 24) as u8,
            minor: (v >> 16) as u8,
            subminor: v as u16,
        }
    }

    /// Packs into the register value.
    pub const fn to_u32(self) -> u32 {
        (self.major as u32) << 24 | (self.minor as u32) << 16 | self.subminor as u32
    }
}

impl fmt::Display for FileVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.subminor)
    }
}

/// How a file is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// Uncompressed XML (0).
    Plain,
    /// Zip archive holding the XML (1).
    Zip,
    /// Any other value of the 6-bit field.
    Other(u8),
}

impl FileFormat {
    /// From the 6-bit field value.
    pub const fn from_bits(v: u8) -> Self {
        match v & 0x3F {
            0 => FileFormat::Plain,
            1 => FileFormat::Zip,
            o => FileFormat::Other(o),
        }
    }

    /// The 6-bit field value.
    pub const fn bits(self) -> u8 {
        match self {
            FileFormat::Plain => 0,
            FileFormat::Zip => 1,
            FileFormat::Other(o) => o & 0x3F,
        }
    }

    /// The file extension hosts use in the URL.
    pub const fn extension(self) -> &'static str {
        match self {
            FileFormat::Zip => "zip",
            _ => "xml",
        }
    }
}

/// The file info word of a manifest entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FileInfo(pub u32);

impl FileInfo {
    /// File type 0: the device description XML.
    pub const TYPE_DEVICE_XML: u8 = 0;

    /// Packs the fields (the type is 3 bits, the format 6).
    pub const fn new(
        file_type: u8,
        format: FileFormat,
        schema_major: u8,
        schema_minor: u8,
    ) -> Self {
        FileInfo(
            (file_type as u32 & 0x7)
                | (format.bits() as u32) << 10
                | (schema_minor as u32) << 16
                | (schema_major as u32) << 24,
        )
    }

    /// File type (bits 0–2).
    pub const fn file_type(self) -> u8 {
        (self.0 & 0x7) as u8
    }

    /// File format (bits 10–15).
    pub const fn format(self) -> FileFormat {
        FileFormat::from_bits(((self.0 >> 10) & 0x3F) as u8)
    }

    /// GenApi schema minor version (bits 16–23).
    pub const fn schema_minor(self) -> u8 {
        (self.0 >> 16) as u8
    }

    /// GenApi schema major version (bits 24–31).
    pub const fn schema_major(self) -> u8 {
        (self.0 >> 24) as u8
    }
}

/// One manifest entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ManifestEntry {
    /// Version of the file.
    pub file_version: FileVersion,
    /// Type, format and schema version.
    pub file_info: FileInfo,
    /// Register address where the file can be read.
    pub address: u64,
    /// File size in bytes.
    pub size: u64,
    /// SHA-1 of the file, zeros when not provided.
    pub sha1: [u8; 20],
}

impl ManifestEntry {
    /// Decodes one entry from the first 64 bytes of `buf`.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf, "manifest entry");
        if buf.len() < ENTRY_LEN {
            return Err(DecodeError::Truncated {
                what: "manifest entry",
                needed: ENTRY_LEN,
                available: buf.len(),
            });
        }
        Ok(ManifestEntry {
            file_version: FileVersion::from_u32(r.u32()?),
            file_info: FileInfo(r.u32()?),
            address: r.u64()?,
            size: r.u64()?,
            sha1: r.array()?,
        })
    }

    /// Encodes the entry into `out`, returning 64.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, ENTRY_LEN)?;
        w.u32(self.file_version.to_u32());
        w.u32(self.file_info.0);
        w.u64(self.address);
        w.u64(self.size);
        w.bytes(&self.sha1);
        w.zeros(20);
        Ok(w.pos())
    }

    /// Whether a SHA-1 is provided (not all zeros).
    pub fn has_sha1(&self) -> bool {
        self.sha1.iter().any(|&b| b != 0)
    }

    /// The host URL for this entry, naming the file `<stem>.xml` or `<stem>.zip`.
    pub fn local_url(&self, stem: &str) -> LocalUrl {
        LocalUrl {
            file_name: format!("{stem}.{}", self.file_info.format().extension()),
            address: self.address,
            size: self.size,
        }
    }
}

/// The manifest table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    /// The entries, in table order.
    pub entries: Vec<ManifestEntry>,
}

impl Manifest {
    /// Reads the entry count from the first 8 bytes of the table.
    pub fn decode_count(buf: &[u8]) -> Result<u64, DecodeError> {
        Reader::new(buf, "manifest table").u64()
    }

    /// Bytes needed to hold a table of `count` entries, `None` on overflow.
    pub fn table_len(count: u64) -> Option<usize> {
        usize::try_from(count)
            .ok()?
            .checked_mul(ENTRY_LEN)?
            .checked_add(COUNT_LEN)
    }

    /// Decodes the table; bytes past the last entry are ignored.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let count = Self::decode_count(buf)?;
        let needed = Self::table_len(count).ok_or(DecodeError::BadLength {
            what: "manifest table",
            field: "entry_count",
            value: count,
            reason: "table size overflows",
        })?;
        if buf.len() < needed {
            return Err(DecodeError::Truncated {
                what: "manifest table",
                needed,
                available: buf.len(),
            });
        }
        let body = buf.get(COUNT_LEN..needed).unwrap_or(&[]);
        let entries = body
            .chunks_exact(ENTRY_LEN)
            .map(ManifestEntry::decode)
            .collect::<Result<_, _>>()?;
        Ok(Manifest { entries })
    }

    /// Encoded length.
    pub fn encoded_len(&self) -> usize {
        COUNT_LEN + self.entries.len() * ENTRY_LEN
    }

    /// Encodes the table into `out`, returning its length.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, self.encoded_len())?;
        w.u64(self.entries.len() as u64);
        let mut e = [0u8; ENTRY_LEN];
        for entry in &self.entries {
            entry.encode_into(&mut e)?;
            w.bytes(&e);
        }
        Ok(w.pos())
    }

    /// Appends the encoded table to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
        append_with(out, self.encoded_len(), |b| self.encode_into(b))
    }
}

/// A GenICam `local:` URL: a file in the device's register space.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalUrl {
    /// File name, e.g. `mvcam.zip`.
    pub file_name: String,
    /// Register address of the file.
    pub address: u64,
    /// File size in bytes.
    pub size: u64,
}

impl LocalUrl {
    /// Whether the file name ends in `.zip` (any case).
    pub fn is_zip(&self) -> bool {
        self.file_name.len() >= 4
            && self
                .file_name
                .get(self.file_name.len() - 4..)
                .is_some_and(|e| e.eq_ignore_ascii_case(".zip"))
    }

    /// Parses a `local:` URL (see the module docs for what is accepted).
    pub fn parse(s: &str) -> Result<Self, DecodeError> {
        const WHAT: &str = "local URL";
        let bad = |field, reason| DecodeError::InvalidField {
            what: WHAT,
            field,
            reason,
        };
        let rest = match s.get(..6) {
            Some(p) if p.eq_ignore_ascii_case("local:") => s.get(6..).unwrap_or(""),
            _ => return Err(bad("scheme", "not a `local:` URL")),
        };
        let rest = rest
            .strip_prefix("///")
            .or_else(|| rest.strip_prefix("//"))
            .unwrap_or(rest);
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let rest = rest.split_once('?').map_or(rest, |(a, _)| a);
        let mut parts = rest.split(';');
        let file_name = parts.next().unwrap_or("");
        if file_name.is_empty() {
            return Err(bad("file_name", "empty"));
        }
        let address = parse_hex(parts.next().ok_or(bad("address", "missing"))?)
            .ok_or(bad("address", "not a hexadecimal u64"))?;
        let size = parse_hex(parts.next().ok_or(bad("size", "missing"))?)
            .ok_or(bad("size", "not a hexadecimal u64"))?;
        if parts.next().is_some() {
            return Err(bad("size", "unexpected `;` after the size"));
        }
        Ok(LocalUrl {
            file_name: file_name.to_owned(),
            address,
            size,
        })
    }
}

fn parse_hex(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

impl fmt::Display for LocalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "local:///{};{:x};{:x}",
            self.file_name, self.address, self.size
        )
    }
}

impl FromStr for LocalUrl {
    type Err = DecodeError;
    fn from_str(s: &str) -> Result<Self, DecodeError> {
        LocalUrl::parse(s)
    }
}
