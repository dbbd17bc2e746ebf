//! Stream leader, trailer and chunk data on the USB3 Vision streaming endpoint.
//!
//! A block travels as a leader transfer, payload transfers sized by the SIRM
//! (see [`StreamSizing`](crate::StreamSizing)) and a trailer transfer.
//!
//! Leader layout (little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | prefix `U3VL` 0x4C563355 |
//! | 4 | 2 | reserved |
//! | 6 | 2 | leader size |
//! | 8 | 8 | block id |
//! | 16 | 2 | reserved |
//! | 18 | 2 | payload type |
//! | 20 | 8 | timestamp |
//! | 28 | 4 | pixel format (image types only, as the rest) |
//! | 32 | 16 | size x, size y, offset x, offset y |
//! | 48 | 2 | padding x |
//! | 50 | 2 | reserved |
//!
//! Image leaders are 52 bytes, chunk leaders 28 (up to the timestamp).
//!
//! Trailer layout: prefix `U3VT`, reserved u16, trailer size u16, block id
//! u64, status u16, reserved u16, valid payload size u64 (28 bytes), then for
//! images size y u32 (32 bytes), for images with extended chunk size y and
//! chunk layout id (36 bytes), for chunk payloads chunk layout id (32 bytes).
//! The trailer does not carry the payload type, so [`Trailer::decode`] takes
//! the one from the leader.
//!
//! **Size fields.** The buffer must be exactly the leader/trailer size the
//! message announces (a transfer is one message). The size may exceed the
//! layout known here (a later revision may append fields): the extra bytes
//! are ignored. A size below the layout of the payload type is an error.

use core::ops::Range;

use crate::error::{DecodeError, EncodeError};
use crate::gencp::Status;
use crate::wire::{append_with, Reader, Writer};

/// Leader prefix, `"U3VL"` read as a little-endian `u32`.
pub const LEADER_PREFIX: u32 = 0x4C56_3355;
/// Trailer prefix, `"U3VT"` read as a little-endian `u32`.
pub const TRAILER_PREFIX: u32 = 0x5456_3355;
/// Size of an image (or image with extended chunk) leader.
pub const IMAGE_LEADER_LEN: usize = 52;
/// Size of a chunk leader.
pub const CHUNK_LEADER_LEN: usize = 28;
/// Size of an image trailer.
pub const IMAGE_TRAILER_LEN: usize = 32;
/// Size of an image-with-extended-chunk trailer.
pub const IMAGE_EXTENDED_CHUNK_TRAILER_LEN: usize = 36;
/// Size of a chunk trailer.
pub const CHUNK_TRAILER_LEN: usize = 32;
/// Size of the part of a trailer common to all payload types.
pub const TRAILER_COMMON_LEN: usize = 28;
/// Size of a chunk trailer tag (chunk id u32 + length u32) in a payload.
pub const CHUNK_TAG_LEN: usize = 8;

/// The payload type of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadType {
    /// Uncompressed image (0x0001).
    Image,
    /// Chunk data only (0x4000).
    Chunk,
    /// Image followed by chunks, the image itself being the first chunk (0x4001).
    ImageExtendedChunk,
}

impl PayloadType {
    /// The wire value.
    pub const fn to_u16(self) -> u16 {
        match self {
            PayloadType::Image => 0x0001,
            PayloadType::Chunk => 0x4000,
            PayloadType::ImageExtendedChunk => 0x4001,
        }
    }

    /// Parses a wire value.
    pub const fn from_u16(v: u16) -> Option<Self> {
        match v {
            0x0001 => Some(PayloadType::Image),
            0x4000 => Some(PayloadType::Chunk),
            0x4001 => Some(PayloadType::ImageExtendedChunk),
            _ => None,
        }
    }

    /// Whether the payload carries chunk trailers that [`parse_chunks`] can walk.
    pub const fn has_chunks(self) -> bool {
        !matches!(self, PayloadType::Image)
    }

    /// Size of a leader of this payload type.
    pub const fn leader_len(self) -> usize {
        match self {
            PayloadType::Chunk => CHUNK_LEADER_LEN,
            _ => IMAGE_LEADER_LEN,
        }
    }

    /// Size of a trailer of this payload type.
    pub const fn trailer_len(self) -> usize {
        match self {
            PayloadType::Image => IMAGE_TRAILER_LEN,
            PayloadType::ImageExtendedChunk => IMAGE_EXTENDED_CHUNK_TRAILER_LEN,
            PayloadType::Chunk => CHUNK_TRAILER_LEN,
        }
    }
}

/// Image description carried by image leaders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ImageInfo {
    /// PFNC pixel format code.
    pub pixel_format: u32,
    /// Width in pixels.
    pub size_x: u32,
    /// Height in lines.
    pub size_y: u32,
    /// Horizontal offset of the region of interest.
    pub offset_x: u32,
    /// Vertical offset of the region of interest.
    pub offset_y: u32,
    /// Padding bytes at the end of each line.
    pub padding_x: u16,
}

/// The payload-type specific part of a leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaderKind {
    /// An image.
    Image(ImageInfo),
    /// An image followed by chunks.
    ImageExtendedChunk(ImageInfo),
    /// Chunk data only.
    Chunk,
}

impl LeaderKind {
    /// The payload type.
    pub const fn payload_type(&self) -> PayloadType {
        match self {
            LeaderKind::Image(_) => PayloadType::Image,
            LeaderKind::ImageExtendedChunk(_) => PayloadType::ImageExtendedChunk,
            LeaderKind::Chunk => PayloadType::Chunk,
        }
    }

    /// The image description, if any.
    pub const fn image(&self) -> Option<&ImageInfo> {
        match self {
            LeaderKind::Image(i) | LeaderKind::ImageExtendedChunk(i) => Some(i),
            LeaderKind::Chunk => None,
        }
    }
}

/// A stream leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Leader {
    /// Block id, incremented by one per block.
    pub block_id: u64,
    /// Timestamp of the block (device clock, ns).
    pub timestamp: u64,
    /// Payload type and image description.
    pub kind: LeaderKind,
}

const WHAT_LEADER: &str = "stream leader";
const WHAT_TRAILER: &str = "stream trailer";

fn check_size(
    what: &'static str,
    field: &'static str,
    size: u16,
    min: usize,
    buf_len: usize,
) -> Result<(), DecodeError> {
    let size = usize::from(size);
    if size < min {
        return Err(DecodeError::BadLength {
            what,
            field,
            value: size as u64,
            reason: "smaller than the layout of its payload type",
        });
    }
    if buf_len < size {
        return Err(DecodeError::Truncated {
            what,
            needed: size,
            available: buf_len,
        });
    }
    if buf_len > size {
        return Err(DecodeError::TrailingBytes {
            what,
            extra: buf_len - size,
        });
    }
    Ok(())
}

impl Leader {
    /// The payload type.
    pub const fn payload_type(&self) -> PayloadType {
        self.kind.payload_type()
    }

    /// Encoded length (the leader size field).
    pub const fn encoded_len(&self) -> usize {
        self.payload_type().leader_len()
    }

    /// Decodes a leader; the buffer must be exactly the announced leader size.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf, WHAT_LEADER);
        let found = r.u32()?;
        if found != LEADER_PREFIX {
            return Err(DecodeError::BadPrefix {
                what: WHAT_LEADER,
                expected: LEADER_PREFIX,
                found,
            });
        }
        r.skip(2)?;
        let size = r.u16()?;
        let block_id = r.u64()?;
        r.skip(2)?;
        let pt = r.u16()?;
        let payload_type = PayloadType::from_u16(pt).ok_or(DecodeError::UnknownPayloadType {
            what: WHAT_LEADER,
            value: pt,
        })?;
        check_size(
            WHAT_LEADER,
            "leader_size",
            size,
            payload_type.leader_len(),
            buf.len(),
        )?;
        let timestamp = r.u64()?;
        let kind = match payload_type {
            PayloadType::Chunk => LeaderKind::Chunk,
            _ => {
                let info = ImageInfo {
                    pixel_format: r.u32()?,
                    size_x: r.u32()?,
                    size_y: r.u32()?,
                    offset_x: r.u32()?,
                    offset_y: r.u32()?,
                    padding_x: r.u16()?,
                };
                if payload_type == PayloadType::Image {
                    LeaderKind::Image(info)
                } else {
                    LeaderKind::ImageExtendedChunk(info)
                }
            }
        };
        Ok(Leader {
            block_id,
            timestamp,
            kind,
        })
    }

    /// Encodes the leader into `out`, returning its length.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let len = self.encoded_len();
        let mut w = Writer::new(out, len)?;
        w.u32(LEADER_PREFIX);
        w.u16(0);
        w.u16(len as u16);
        w.u64(self.block_id);
        w.u16(0);
        w.u16(self.payload_type().to_u16());
        w.u64(self.timestamp);
        if let Some(i) = self.kind.image() {
            w.u32(i.pixel_format);
            w.u32(i.size_x);
            w.u32(i.size_y);
            w.u32(i.offset_x);
            w.u32(i.offset_y);
            w.u16(i.padding_x);
            w.u16(0);
        }
        Ok(w.pos())
    }

    /// Appends the encoded leader to `out`, returning its length.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
        append_with(out, self.encoded_len(), |b| self.encode_into(b))
    }
}

/// The payload-type specific part of a trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrailerKind {
    /// Image trailer.
    Image {
        /// Lines actually sent (may be below the leader's size y).
        size_y: u32,
    },
    /// Image with extended chunk trailer.
    ImageExtendedChunk {
        /// Lines actually sent.
        size_y: u32,
        /// Changes whenever the chunk layout changes.
        chunk_layout_id: u32,
    },
    /// Chunk trailer.
    Chunk {
        /// Changes whenever the chunk layout changes.
        chunk_layout_id: u32,
    },
}

impl TrailerKind {
    /// The payload type.
    pub const fn payload_type(&self) -> PayloadType {
        match self {
            TrailerKind::Image { .. } => PayloadType::Image,
            TrailerKind::ImageExtendedChunk { .. } => PayloadType::ImageExtendedChunk,
            TrailerKind::Chunk { .. } => PayloadType::Chunk,
        }
    }
}

/// A stream trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Trailer {
    /// Block id, equal to the leader's.
    pub block_id: u64,
    /// Status of the block (e.g. [`Status::DATA_OVERRUN`]).
    pub status: Status,
    /// Number of payload bytes that are valid.
    pub valid_payload_size: u64,
    /// Payload-type specific fields.
    pub kind: TrailerKind,
}

impl Trailer {
    /// Encoded length (the trailer size field).
    pub const fn encoded_len(&self) -> usize {
        self.kind.payload_type().trailer_len()
    }

    /// Decodes a trailer of a block whose leader announced `payload_type`;
    /// the buffer must be exactly the announced trailer size.
    pub fn decode(buf: &[u8], payload_type: PayloadType) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf, WHAT_TRAILER);
        let found = r.u32()?;
        if found != TRAILER_PREFIX {
            return Err(DecodeError::BadPrefix {
                what: WHAT_TRAILER,
                expected: TRAILER_PREFIX,
                found,
            });
        }
        r.skip(2)?;
        let size = r.u16()?;
        check_size(
            WHAT_TRAILER,
            "trailer_size",
            size,
            payload_type.trailer_len(),
            buf.len(),
        )?;
        let block_id = r.u64()?;
        let status = Status(r.u16()?);
        r.skip(2)?;
        let valid_payload_size = r.u64()?;
        let kind = match payload_type {
            PayloadType::Image => TrailerKind::Image { size_y: r.u32()? },
            PayloadType::ImageExtendedChunk => TrailerKind::ImageExtendedChunk {
                size_y: r.u32()?,
                chunk_layout_id: r.u32()?,
            },
            PayloadType::Chunk => TrailerKind::Chunk {
                chunk_layout_id: r.u32()?,
            },
        };
        Ok(Trailer {
            block_id,
            status,
            valid_payload_size,
            kind,
        })
    }

    /// Encodes the trailer into `out`, returning its length.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let len = self.encoded_len();
        let mut w = Writer::new(out, len)?;
        w.u32(TRAILER_PREFIX);
        w.u16(0);
        w.u16(len as u16);
        w.u64(self.block_id);
        w.u16(self.status.0);
        w.u16(0);
        w.u64(self.valid_payload_size);
        match self.kind {
            TrailerKind::Image { size_y } => w.u32(size_y),
            TrailerKind::ImageExtendedChunk {
                size_y,
                chunk_layout_id,
            } => {
                w.u32(size_y);
                w.u32(chunk_layout_id);
            }
            TrailerKind::Chunk { chunk_layout_id } => w.u32(chunk_layout_id),
        }
        Ok(w.pos())
    }

    /// Appends the encoded trailer to `out`, returning its length.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
        append_with(out, self.encoded_len(), |b| self.encode_into(b))
    }
}

/// What a stream transfer is, judged from its first four bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferKind {
    /// Starts with `U3VL`.
    Leader,
    /// Starts with `U3VT`.
    Trailer,
    /// Anything else (payload data).
    Payload,
}

/// Classifies a stream transfer by its prefix (payload that happens to start
/// with a prefix is misclassified; a receiver should rely on its state).
pub fn classify(buf: &[u8]) -> TransferKind {
    match buf
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    {
        Some(LEADER_PREFIX) => TransferKind::Leader,
        Some(TRAILER_PREFIX) => TransferKind::Trailer,
        _ => TransferKind::Payload,
    }
}

// ---------------------------------------------------------------------------
// Chunk data
// ---------------------------------------------------------------------------

/// One chunk found in a payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Chunk {
    /// Chunk id (matches `ChunkID` in the device XML).
    pub id: u32,
    /// Byte range of the chunk data within the payload (the tag excluded).
    pub data: Range<usize>,
}

/// Iterator over chunks walking backward from the end of a payload.
///
/// GenICam chunk layout: every chunk is its data followed by a tag of chunk
/// id u32 and data length u32, both little-endian on USB3 Vision (Aravis
/// `arvuvstream.c` sets the chunk endianness to little-endian for U3V; the
/// tag struct is `U3V_CHUNK_TRAILER {ChunkID, ChunkLength}` in the GenICam
/// reference `ChunkAdapterU3V.h`). The walk starts at the end of the valid
/// payload; it must land exactly on offset 0.
#[derive(Debug, Clone)]
pub struct ChunkWalker<'a> {
    payload: &'a [u8],
    end: usize,
    failed: bool,
}

impl<'a> ChunkWalker<'a> {
    /// Starts a walk over `payload` (pass only the valid payload bytes).
    pub fn new(payload: &'a [u8]) -> Self {
        ChunkWalker {
            payload,
            end: payload.len(),
            failed: false,
        }
    }
}

impl Iterator for ChunkWalker<'_> {
    type Item = Result<Chunk, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        const WHAT: &str = "chunk data";
        if self.end == 0 || self.failed {
            return None;
        }
        let r = (|| {
            let tag_start = self
                .end
                .checked_sub(CHUNK_TAG_LEN)
                .ok_or(DecodeError::BadLength {
                    what: WHAT,
                    field: "payload",
                    value: self.end as u64,
                    reason: "bytes left before the first chunk are fewer than a chunk tag",
                })?;
            let tag = self
                .payload
                .get(tag_start..self.end)
                .ok_or(DecodeError::Truncated {
                    what: WHAT,
                    needed: self.end,
                    available: self.payload.len(),
                })?;
            let mut r = Reader::new(tag, WHAT);
            let id = r.u32()?;
            let len = r.u32()?;
            let start = usize::try_from(len)
                .ok()
                .and_then(|l| tag_start.checked_sub(l))
                .ok_or(DecodeError::BadLength {
                    what: WHAT,
                    field: "chunk_length",
                    value: u64::from(len),
                    reason: "longer than the payload before its tag",
                })?;
            self.end = start;
            Ok(Chunk {
                id,
                data: start..tag_start,
            })
        })();
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

/// Parses all chunks of a payload, returned in payload order (first chunk first).
pub fn parse_chunks(payload: &[u8]) -> Result<Vec<Chunk>, DecodeError> {
    let mut v = ChunkWalker::new(payload).collect::<Result<Vec<_>, _>>()?;
    v.reverse();
    Ok(v)
}

/// Appends one chunk (its data, then its id and length tag) to a payload being built.
pub fn encode_chunk(id: u32, data: &[u8], out: &mut Vec<u8>) -> Result<usize, EncodeError> {
    let len = u32::try_from(data.len()).map_err(|_| EncodeError::TooLarge {
        what: "chunk data",
        field: "chunk_length",
        value: data.len() as u64,
        max: u64::from(u32::MAX),
    })?;
    out.extend_from_slice(data);
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    Ok(data.len() + CHUNK_TAG_LEN)
}
