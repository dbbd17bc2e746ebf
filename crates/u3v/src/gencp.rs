//! GenCP messages on the USB3 Vision control channel.
//!
//! A command is a 12-byte header (prefix `U3VC`, flags, command id, SCD
//! length, request id) followed by the command-specific data (SCD); an
//! acknowledge has the same shape with a [`Status`] where the command carries
//! its flags. All fields are little-endian.
//!
//! # Framing policy
//!
//! One USB bulk transfer carries exactly one message, so the decoders are
//! strict: the buffer must be exactly `12 + SCD length` bytes. A shorter buffer
//! is [`DecodeError::Truncated`], a longer one is [`DecodeError::TrailingBytes`].
//! A caller holding a longer receive buffer can slice it with
//! [`CommandHeader::message_len`] / [`AckHeader::message_len`] first.
//!
//! Semantic checks (a zero read count, an empty stacked list, an address out
//! of range) are not the codec's business: they decode fine and the server
//! answers them with a GenCP status.
//!
//! # Borrowing
//!
//! [`decode_command`] and [`decode_ack`] borrow from the input: WRITEMEM data,
//! READMEM ack data and stacked lists are views into the receive buffer.
//! [`Command`] and [`Ack`] are owned forms for building messages and for tests.

use core::fmt;

use crate::error::{DecodeError, EncodeError};
use crate::wire::{append_with, len_u16, Reader, Writer};

/// Prefix of every control-channel message, `"U3VC"` read as a little-endian `u32`.
pub const CONTROL_PREFIX: u32 = 0x4356_3355;
/// Length of a command or acknowledge header.
pub const HEADER_LEN: usize = 12;
/// Largest SCD a message can carry (the SCD length is a `u16`).
pub const MAX_SCD_LEN: usize = u16::MAX as usize;

/// READMEM command id.
pub const READMEM_CMD: u16 = 0x0800;
/// READMEM acknowledge id.
pub const READMEM_ACK: u16 = 0x0801;
/// WRITEMEM command id.
pub const WRITEMEM_CMD: u16 = 0x0802;
/// WRITEMEM acknowledge id.
pub const WRITEMEM_ACK: u16 = 0x0803;
/// PENDING acknowledge id (the device needs more time).
pub const PENDING_ACK: u16 = 0x0805;
/// READMEM_STACKED command id.
pub const READMEM_STACKED_CMD: u16 = 0x0806;
/// READMEM_STACKED acknowledge id.
pub const READMEM_STACKED_ACK: u16 = 0x0807;
/// WRITEMEM_STACKED command id.
pub const WRITEMEM_STACKED_CMD: u16 = 0x0808;
/// WRITEMEM_STACKED acknowledge id.
pub const WRITEMEM_STACKED_ACK: u16 = 0x0809;

/// Size of one READMEM_STACKED entry: address u64, reserved u16, count u16.
pub const STACKED_READ_ENTRY_LEN: usize = 12;
/// Size of a WRITEMEM_STACKED entry header (address u64, reserved u16, length u16); data follows.
pub const STACKED_WRITE_ENTRY_HEADER_LEN: usize = 12;

const WHAT_CMD: &str = "GenCP command";
const WHAT_ACK: &str = "GenCP acknowledge";

// ---------------------------------------------------------------------------
// Flags and status
// ---------------------------------------------------------------------------

/// The flags field of a command header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u16);

impl Flags {
    /// No flag set.
    pub const NONE: Flags = Flags(0);
    /// The host requests an acknowledge (bit 14).
    pub const REQUEST_ACK: Flags = Flags(0x4000);
    /// The command is a resend of the previous one (bit 15).
    pub const COMMAND_RESEND: Flags = Flags(0x8000);

    /// The raw bits.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether every bit of `other` is set in `self`.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether an acknowledge is requested.
    pub const fn request_ack(self) -> bool {
        self.contains(Flags::REQUEST_ACK)
    }

    /// Whether the command is marked as a resend.
    pub const fn is_resend(self) -> bool {
        self.contains(Flags::COMMAND_RESEND)
    }
}

impl core::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// The namespace of a [`Status`] code (bits 13–14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusNamespace {
    /// Codes defined by GenCP (0).
    GenCp,
    /// Codes defined by the USB3 Vision specification (1).
    Usb3Vision,
    /// Device-specific codes (2).
    DeviceSpecific,
    /// The reserved namespace value (3).
    Reserved,
}

/// A GenCP / USB3 Vision status code, as carried by acknowledges and stream trailers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Status(pub u16);

impl Status {
    /// Success.
    pub const SUCCESS: Status = Status(0x0000);
    /// The command is not implemented.
    pub const NOT_IMPLEMENTED: Status = Status(0x8001);
    /// A parameter of the command is invalid.
    pub const INVALID_PARAMETER: Status = Status(0x8002);
    /// The address is not accessible.
    pub const INVALID_ADDRESS: Status = Status(0x8003);
    /// The address is write-protected.
    pub const WRITE_PROTECT: Status = Status(0x8004);
    /// The address or length is not correctly aligned.
    pub const BAD_ALIGNMENT: Status = Status(0x8005);
    /// The access was denied.
    pub const ACCESS_DENIED: Status = Status(0x8006);
    /// The device is busy.
    pub const BUSY: Status = Status(0x8007);
    /// A message timed out.
    pub const MSG_TIMEOUT: Status = Status(0x800B);
    /// The header of the command is invalid.
    pub const INVALID_HEADER: Status = Status(0x800E);
    /// The current configuration does not allow the command.
    pub const WRONG_CONFIG: Status = Status(0x800F);
    /// A generic error.
    pub const ERROR: Status = Status(0x8FFF);
    /// USB3 Vision: command resend is not supported.
    pub const RESEND_NOT_SUPPORTED: Status = Status(0xA001);
    /// USB3 Vision: the stream endpoint is halted.
    pub const STREAM_ENDPOINT_HALTED: Status = Status(0xA002);
    /// USB3 Vision: the payload transfer size is not aligned.
    pub const PAYLOAD_SIZE_NOT_ALIGNED: Status = Status(0xA003);
    /// USB3 Vision: the streaming interface registers are inconsistent.
    pub const SI_REGISTERS_INCONSISTENT: Status = Status(0xA004);
    /// USB3 Vision: the event endpoint is halted.
    pub const EVENT_ENDPOINT_HALTED: Status = Status(0xA005);
    /// USB3 Vision stream: data was discarded.
    pub const DATA_DISCARDED: Status = Status(0xA100);
    /// USB3 Vision stream: data overrun (the block did not fit the transfers).
    pub const DATA_OVERRUN: Status = Status(0xA101);

    /// The raw code.
    pub const fn code(self) -> u16 {
        self.0
    }

    /// Whether this is [`Status::SUCCESS`].
    pub const fn is_success(self) -> bool {
        self.0 == 0
    }

    /// Whether bit 15 (error) is set.
    pub const fn is_error(self) -> bool {
        self.0 & 0x8000 != 0
    }

    /// The namespace in bits 13–14.
    pub const fn namespace(self) -> StatusNamespace {
        match (self.0 >> 13) & 0x3 {
            0 => StatusNamespace::GenCp,
            1 => StatusNamespace::Usb3Vision,
            2 => StatusNamespace::DeviceSpecific,
            _ => StatusNamespace::Reserved,
        }
    }

    /// The symbolic name of a known code.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0000 => "SUCCESS",
            0x8001 => "NOT_IMPLEMENTED",
            0x8002 => "INVALID_PARAMETER",
            0x8003 => "INVALID_ADDRESS",
            0x8004 => "WRITE_PROTECT",
            0x8005 => "BAD_ALIGNMENT",
            0x8006 => "ACCESS_DENIED",
            0x8007 => "BUSY",
            0x800B => "MSG_TIMEOUT",
            0x800E => "INVALID_HEADER",
            0x800F => "WRONG_CONFIG",
            0x8FFF => "ERROR",
            0xA001 => "RESEND_NOT_SUPPORTED",
            0xA002 => "STREAM_ENDPOINT_HALTED",
            0xA003 => "PAYLOAD_SIZE_NOT_ALIGNED",
            0xA004 => "SI_REGISTERS_INCONSISTENT",
            0xA005 => "EVENT_ENDPOINT_HALTED",
            0xA100 => "DATA_DISCARDED",
            0xA101 => "DATA_OVERRUN",
            _ => return None,
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({:#06x})", self.0),
            None => {
                let ns = match self.namespace() {
                    StatusNamespace::GenCp => "GenCP",
                    StatusNamespace::Usb3Vision => "USB3 Vision",
                    StatusNamespace::DeviceSpecific => "device-specific",
                    StatusNamespace::Reserved => "reserved-namespace",
                };
                let kind = if self.is_error() { "error" } else { "status" };
                write!(f, "{ns} {kind} {:#06x}", self.0)
            }
        }
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "Status({:#06x} {n})", self.0),
            None => write!(f, "Status({:#06x})", self.0),
        }
    }
}

// ---------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------

/// The 12-byte header of a command (also used, with another prefix, by events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandHeader {
    /// Flags (request ack, resend).
    pub flags: Flags,
    /// Command id, e.g. [`READMEM_CMD`].
    pub command_id: u16,
    /// Length of the SCD that follows the header.
    pub scd_len: u16,
    /// Request id, echoed by the acknowledge.
    pub request_id: u16,
}

impl CommandHeader {
    /// Decodes a command header (prefix `U3VC`) from the start of `buf`.
    ///
    /// Only the header is checked; the buffer may be longer or shorter than
    /// the message it announces.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_with_prefix(buf, CONTROL_PREFIX, WHAT_CMD)
    }

    pub(crate) fn decode_with_prefix(
        buf: &[u8],
        prefix: u32,
        what: &'static str,
    ) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf, what);
        let found = r.u32()?;
        if found != prefix {
            return Err(DecodeError::BadPrefix {
                what,
                expected: prefix,
                found,
            });
        }
        Ok(CommandHeader {
            flags: Flags(r.u16()?),
            command_id: r.u16()?,
            scd_len: r.u16()?,
            request_id: r.u16()?,
        })
    }

    /// Writes the header (prefix `U3VC`) into `out`, returning 12.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        self.encode_with_prefix(out, CONTROL_PREFIX)
    }

    pub(crate) fn encode_with_prefix(
        &self,
        out: &mut [u8],
        prefix: u32,
    ) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, HEADER_LEN)?;
        w.u32(prefix);
        w.u16(self.flags.0);
        w.u16(self.command_id);
        w.u16(self.scd_len);
        w.u16(self.request_id);
        Ok(w.pos())
    }

    /// Length of the whole message: header plus SCD.
    pub fn message_len(&self) -> usize {
        HEADER_LEN + usize::from(self.scd_len)
    }
}

/// The 12-byte header of an acknowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AckHeader {
    /// Status of the command.
    pub status: Status,
    /// Acknowledge id, e.g. [`READMEM_ACK`].
    pub command_id: u16,
    /// Length of the SCD that follows the header.
    pub scd_len: u16,
    /// Request id of the command this acknowledges.
    pub request_id: u16,
}

impl AckHeader {
    /// Decodes an acknowledge header from the start of `buf` (the rest is not checked).
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf, WHAT_ACK);
        let found = r.u32()?;
        if found != CONTROL_PREFIX {
            return Err(DecodeError::BadPrefix {
                what: WHAT_ACK,
                expected: CONTROL_PREFIX,
                found,
            });
        }
        Ok(AckHeader {
            status: Status(r.u16()?),
            command_id: r.u16()?,
            scd_len: r.u16()?,
            request_id: r.u16()?,
        })
    }

    /// Writes the header into `out`, returning 12.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, HEADER_LEN)?;
        w.u32(CONTROL_PREFIX);
        w.u16(self.status.0);
        w.u16(self.command_id);
        w.u16(self.scd_len);
        w.u16(self.request_id);
        Ok(w.pos())
    }

    /// Length of the whole message: header plus SCD.
    pub fn message_len(&self) -> usize {
        HEADER_LEN + usize::from(self.scd_len)
    }
}

/// Checks the exact framing of a message and returns its SCD.
pub(crate) fn framed_scd<'a>(
    buf: &'a [u8],
    scd_len: u16,
    what: &'static str,
) -> Result<&'a [u8], DecodeError> {
    let total = HEADER_LEN + usize::from(scd_len);
    if buf.len() < total {
        return Err(DecodeError::Truncated {
            what,
            needed: total,
            available: buf.len(),
        });
    }
    if buf.len() > total {
        return Err(DecodeError::TrailingBytes {
            what,
            extra: buf.len() - total,
        });
    }
    Ok(buf.get(HEADER_LEN..).unwrap_or(&[]))
}

// ---------------------------------------------------------------------------
// Stacked list views
// ---------------------------------------------------------------------------

/// A validated READMEM_STACKED list borrowed from a command's SCD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadStack<'a> {
    scd: &'a [u8],
}

impl<'a> ReadStack<'a> {
    /// Validates a READMEM_STACKED SCD: a whole number of 12-byte entries.
    pub fn parse(scd: &'a [u8]) -> Result<Self, DecodeError> {
        if scd.len() % STACKED_READ_ENTRY_LEN != 0 {
            return Err(DecodeError::BadLength {
                what: "READMEM_STACKED command",
                field: "scd_len",
                value: scd.len() as u64,
                reason: "not a multiple of the 12-byte entry size",
            });
        }
        Ok(ReadStack { scd })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.scd.len() / STACKED_READ_ENTRY_LEN
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.scd.is_empty()
    }

    /// The raw SCD bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.scd
    }

    /// Iterates over `(address, count)` entries.
    pub fn iter(&self) -> ReadStackIter<'a> {
        ReadStackIter { rest: self.scd }
    }
}

impl<'a> IntoIterator for ReadStack<'a> {
    type Item = (u64, u16);
    type IntoIter = ReadStackIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over the entries of a [`ReadStack`].
#[derive(Debug, Clone)]
pub struct ReadStackIter<'a> {
    rest: &'a [u8],
}

impl Iterator for ReadStackIter<'_> {
    type Item = (u64, u16);
    fn next(&mut self) -> Option<(u64, u16)> {
        let mut r = Reader::new(self.rest, "");
        let address = r.u64().ok()?;
        r.skip(2).ok()?;
        let count = r.u16().ok()?;
        self.rest = r.rest();
        Some((address, count))
    }
}

/// A validated WRITEMEM_STACKED list borrowed from a command's SCD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStack<'a> {
    scd: &'a [u8],
    len: usize,
}

impl<'a> WriteStack<'a> {
    /// Validates a WRITEMEM_STACKED SCD: entries of a 12-byte header
    /// (address, reserved, length) followed by `length` data bytes, exactly
    /// filling the SCD.
    pub fn parse(scd: &'a [u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "WRITEMEM_STACKED command";
        let mut r = Reader::new(scd, WHAT);
        let mut len = 0;
        while r.remaining() > 0 {
            if r.remaining() < STACKED_WRITE_ENTRY_HEADER_LEN {
                return Err(DecodeError::BadLength {
                    what: WHAT,
                    field: "scd_len",
                    value: scd.len() as u64,
                    reason: "ends inside an entry header",
                });
            }
            r.skip(10)?;
            let n = r.u16()?;
            if usize::from(n) > r.remaining() {
                return Err(DecodeError::BadLength {
                    what: WHAT,
                    field: "length",
                    value: u64::from(n),
                    reason: "entry data runs past the end of the SCD",
                });
            }
            r.skip(usize::from(n))?;
            len += 1;
        }
        Ok(WriteStack { scd, len })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw SCD bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.scd
    }

    /// Iterates over `(address, data)` entries.
    pub fn iter(&self) -> WriteStackIter<'a> {
        WriteStackIter { rest: self.scd }
    }
}

impl<'a> IntoIterator for WriteStack<'a> {
    type Item = (u64, &'a [u8]);
    type IntoIter = WriteStackIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over the entries of a [`WriteStack`].
#[derive(Debug, Clone)]
pub struct WriteStackIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for WriteStackIter<'a> {
    type Item = (u64, &'a [u8]);
    fn next(&mut self) -> Option<(u64, &'a [u8])> {
        let mut r = Reader::new(self.rest, "");
        let address = r.u64().ok()?;
        r.skip(2).ok()?;
        let n = r.u16().ok()?;
        let data = r.bytes(usize::from(n)).ok()?;
        self.rest = r.rest();
        Some((address, data))
    }
}

/// A validated WRITEMEM_STACKED acknowledge list (bytes written per entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrittenList<'a> {
    scd: &'a [u8],
}

impl<'a> WrittenList<'a> {
    /// Validates a WRITEMEM_STACKED_ACK SCD: entries of reserved u16 + length written u16.
    pub fn parse(scd: &'a [u8]) -> Result<Self, DecodeError> {
        if scd.len() % 4 != 0 {
            return Err(DecodeError::BadLength {
                what: "WRITEMEM_STACKED acknowledge",
                field: "scd_len",
                value: scd.len() as u64,
                reason: "not a multiple of the 4-byte entry size",
            });
        }
        Ok(WrittenList { scd })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.scd.len() / 4
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.scd.is_empty()
    }

    /// Iterates over the bytes-written counts.
    pub fn iter(&self) -> impl Iterator<Item = u16> + 'a {
        self.scd.chunks_exact(4).map(|c| {
            u16::from_le_bytes([
                c.get(2).copied().unwrap_or(0),
                c.get(3).copied().unwrap_or(0),
            ])
        })
    }
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

/// An owned GenCP command, for building messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Read `count` bytes at `address`.
    ReadMem {
        /// Register address.
        address: u64,
        /// Number of bytes to read.
        count: u16,
    },
    /// Write `data` at `address`.
    WriteMem {
        /// Register address.
        address: u64,
        /// Bytes to write.
        data: Vec<u8>,
    },
    /// Several reads in one command: `(address, count)` pairs.
    ReadMemStacked(Vec<(u64, u16)>),
    /// Several writes in one command: `(address, data)` pairs.
    WriteMemStacked(Vec<(u64, Vec<u8>)>),
}

impl Command {
    /// The command id this command is sent with.
    pub fn command_id(&self) -> u16 {
        match self {
            Command::ReadMem { .. } => READMEM_CMD,
            Command::WriteMem { .. } => WRITEMEM_CMD,
            Command::ReadMemStacked(_) => READMEM_STACKED_CMD,
            Command::WriteMemStacked(_) => WRITEMEM_STACKED_CMD,
        }
    }

    /// Length of the SCD (may exceed [`MAX_SCD_LEN`]; encoding then fails).
    pub fn scd_len(&self) -> usize {
        match self {
            Command::ReadMem { .. } => 12,
            Command::WriteMem { data, .. } => 8 + data.len(),
            Command::ReadMemStacked(v) => v.len() * STACKED_READ_ENTRY_LEN,
            Command::WriteMemStacked(v) => v
                .iter()
                .map(|(_, d)| STACKED_WRITE_ENTRY_HEADER_LEN + d.len())
                .sum(),
        }
    }

    /// Length of the encoded message.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.scd_len()
    }

    /// Encodes the command into `out`, returning the message length.
    pub fn encode_into(
        &self,
        flags: Flags,
        request_id: u16,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let scd_len = len_u16(WHAT_CMD, "scd_len", self.scd_len())?;
        if let Command::WriteMemStacked(v) = self {
            for (_, d) in v {
                len_u16("WRITEMEM_STACKED command", "length", d.len())?;
            }
        }
        let total = HEADER_LEN + usize::from(scd_len);
        let mut w = Writer::new(out, total)?;
        w.u32(CONTROL_PREFIX);
        w.u16(flags.0);
        w.u16(self.command_id());
        w.u16(scd_len);
        w.u16(request_id);
        match self {
            Command::ReadMem { address, count } => {
                w.u64(*address);
                w.u16(0);
                w.u16(*count);
            }
            Command::WriteMem { address, data } => {
                w.u64(*address);
                w.bytes(data);
            }
            Command::ReadMemStacked(v) => {
                for (a, c) in v {
                    w.u64(*a);
                    w.u16(0);
                    w.u16(*c);
                }
            }
            Command::WriteMemStacked(v) => {
                for (a, d) in v {
                    w.u64(*a);
                    w.u16(0);
                    w.u16(d.len() as u16);
                    w.bytes(d);
                }
            }
        }
        Ok(w.pos())
    }

    /// Appends the encoded command to `out`, returning the message length.
    pub fn encode(
        &self,
        flags: Flags,
        request_id: u16,
        out: &mut Vec<u8>,
    ) -> Result<usize, EncodeError> {
        append_with(out, self.encoded_len(), |b| {
            self.encode_into(flags, request_id, b)
        })
    }
}

/// A decoded GenCP command borrowing from the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandRef<'a> {
    /// Read `count` bytes at `address`.
    ReadMem {
        /// Register address.
        address: u64,
        /// Number of bytes to read.
        count: u16,
    },
    /// Write `data` at `address`.
    WriteMem {
        /// Register address.
        address: u64,
        /// Bytes to write (a view into the command).
        data: &'a [u8],
    },
    /// Several reads.
    ReadMemStacked(ReadStack<'a>),
    /// Several writes.
    WriteMemStacked(WriteStack<'a>),
}

impl CommandRef<'_> {
    /// The command id.
    pub fn command_id(&self) -> u16 {
        match self {
            CommandRef::ReadMem { .. } => READMEM_CMD,
            CommandRef::WriteMem { .. } => WRITEMEM_CMD,
            CommandRef::ReadMemStacked(_) => READMEM_STACKED_CMD,
            CommandRef::WriteMemStacked(_) => WRITEMEM_STACKED_CMD,
        }
    }

    /// The acknowledge id that answers this command.
    pub fn ack_id(&self) -> u16 {
        self.command_id() + 1
    }

    /// Copies into an owned [`Command`].
    pub fn to_owned(&self) -> Command {
        match *self {
            CommandRef::ReadMem { address, count } => Command::ReadMem { address, count },
            CommandRef::WriteMem { address, data } => Command::WriteMem {
                address,
                data: data.to_vec(),
            },
            CommandRef::ReadMemStacked(s) => Command::ReadMemStacked(s.iter().collect()),
            CommandRef::WriteMemStacked(s) => {
                Command::WriteMemStacked(s.iter().map(|(a, d)| (a, d.to_vec())).collect())
            }
        }
    }
}

/// A decoded command: its header and its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedCommand<'a> {
    /// The header (flags, request id, ...).
    pub header: CommandHeader,
    /// The typed body.
    pub command: CommandRef<'a>,
}

/// Encodes a WRITEMEM command straight from a borrowed slice, returning the message length.
pub fn encode_write_mem(
    flags: Flags,
    request_id: u16,
    address: u64,
    data: &[u8],
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let scd_len = len_u16(WHAT_CMD, "scd_len", 8 + data.len())?;
    let mut w = Writer::new(out, HEADER_LEN + usize::from(scd_len))?;
    w.u32(CONTROL_PREFIX);
    w.u16(flags.0);
    w.u16(WRITEMEM_CMD);
    w.u16(scd_len);
    w.u16(request_id);
    w.u64(address);
    w.bytes(data);
    Ok(w.pos())
}

/// Decodes one command message (exactly one message, see the module docs).
pub fn decode_command(buf: &[u8]) -> Result<DecodedCommand<'_>, DecodeError> {
    let header = CommandHeader::decode(buf)?;
    let scd = framed_scd(buf, header.scd_len, WHAT_CMD)?;
    let command = match header.command_id {
        READMEM_CMD => {
            let mut r = exact(scd, 12, "READMEM command")?;
            let address = r.u64()?;
            r.skip(2)?;
            CommandRef::ReadMem {
                address,
                count: r.u16()?,
            }
        }
        WRITEMEM_CMD => {
            if scd.len() < 8 {
                return Err(DecodeError::BadLength {
                    what: "WRITEMEM command",
                    field: "scd_len",
                    value: scd.len() as u64,
                    reason: "shorter than the 8-byte address",
                });
            }
            let mut r = Reader::new(scd, "WRITEMEM command");
            let address = r.u64()?;
            CommandRef::WriteMem {
                address,
                data: r.rest(),
            }
        }
        READMEM_STACKED_CMD => CommandRef::ReadMemStacked(ReadStack::parse(scd)?),
        WRITEMEM_STACKED_CMD => CommandRef::WriteMemStacked(WriteStack::parse(scd)?),
        id => return Err(DecodeError::UnknownCommand { what: WHAT_CMD, id }),
    };
    Ok(DecodedCommand { header, command })
}

fn exact<'a>(scd: &'a [u8], len: usize, what: &'static str) -> Result<Reader<'a>, DecodeError> {
    if scd.len() != len {
        return Err(DecodeError::BadLength {
            what,
            field: "scd_len",
            value: scd.len() as u64,
            reason: if scd.len() < len {
                "shorter than the fixed SCD"
            } else {
                "longer than the fixed SCD"
            },
        });
    }
    Ok(Reader::new(scd, what))
}

// ---------------------------------------------------------------------------
// Acknowledges
// ---------------------------------------------------------------------------

/// An owned GenCP acknowledge, for building messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// Data read by READMEM.
    ReadMem(Vec<u8>),
    /// WRITEMEM done.
    WriteMem {
        /// Number of bytes written.
        bytes_written: u16,
    },
    /// The device needs more time: the host extends its deadline.
    Pending {
        /// Time to completion in milliseconds.
        timeout_ms: u16,
    },
    /// Data read by READMEM_STACKED, all entries concatenated.
    ReadMemStacked(Vec<u8>),
    /// Bytes written per WRITEMEM_STACKED entry.
    WriteMemStacked(Vec<u16>),
    /// An acknowledge with a status other than success.
    Error {
        /// The status (must not be [`Status::SUCCESS`]).
        status: Status,
        /// The acknowledge id (e.g. [`READMEM_ACK`]).
        command_id: u16,
        /// The SCD as sent, usually empty.
        scd: Vec<u8>,
    },
}

impl Ack {
    /// The acknowledge id.
    pub fn command_id(&self) -> u16 {
        match self {
            Ack::ReadMem(_) => READMEM_ACK,
            Ack::WriteMem { .. } => WRITEMEM_ACK,
            Ack::Pending { .. } => PENDING_ACK,
            Ack::ReadMemStacked(_) => READMEM_STACKED_ACK,
            Ack::WriteMemStacked(_) => WRITEMEM_STACKED_ACK,
            Ack::Error { command_id, .. } => *command_id,
        }
    }

    /// The status carried by the header.
    pub fn status(&self) -> Status {
        match self {
            Ack::Error { status, .. } => *status,
            _ => Status::SUCCESS,
        }
    }

    /// Length of the SCD.
    pub fn scd_len(&self) -> usize {
        match self {
            Ack::ReadMem(d) | Ack::ReadMemStacked(d) => d.len(),
            Ack::WriteMem { .. } | Ack::Pending { .. } => 4,
            Ack::WriteMemStacked(v) => v.len() * 4,
            Ack::Error { scd, .. } => scd.len(),
        }
    }

    /// Length of the encoded message.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.scd_len()
    }

    /// Encodes the acknowledge into `out`, returning the message length.
    pub fn encode_into(&self, request_id: u16, out: &mut [u8]) -> Result<usize, EncodeError> {
        if let Ack::Error { status, .. } = self {
            if status.is_success() {
                return Err(EncodeError::Invalid {
                    what: WHAT_ACK,
                    field: "status",
                    reason: "an error acknowledge cannot carry SUCCESS",
                });
            }
        }
        let scd_len = len_u16(WHAT_ACK, "scd_len", self.scd_len())?;
        let header = AckHeader {
            status: self.status(),
            command_id: self.command_id(),
            scd_len,
            request_id,
        };
        let mut w = Writer::new(out, header.message_len())?;
        w.u32(CONTROL_PREFIX);
        w.u16(header.status.0);
        w.u16(header.command_id);
        w.u16(header.scd_len);
        w.u16(header.request_id);
        match self {
            Ack::ReadMem(d) | Ack::ReadMemStacked(d) => w.bytes(d),
            Ack::WriteMem { bytes_written: n } | Ack::Pending { timeout_ms: n } => {
                w.u16(0);
                w.u16(*n);
            }
            Ack::WriteMemStacked(v) => {
                for n in v {
                    w.u16(0);
                    w.u16(*n);
                }
            }
            Ack::Error { scd, .. } => w.bytes(scd),
        }
        Ok(w.pos())
    }

    /// Appends the encoded acknowledge to `out`, returning the message length.
    pub fn encode(&self, request_id: u16, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
        append_with(out, self.encoded_len(), |b| self.encode_into(request_id, b))
    }
}

/// A decoded acknowledge borrowing from the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckRef<'a> {
    /// Data read by READMEM (a view into the acknowledge).
    ReadMem(&'a [u8]),
    /// WRITEMEM done.
    WriteMem {
        /// Number of bytes written.
        bytes_written: u16,
    },
    /// The device needs more time.
    Pending {
        /// Time to completion in milliseconds.
        timeout_ms: u16,
    },
    /// Data read by READMEM_STACKED, all entries concatenated.
    ReadMemStacked(&'a [u8]),
    /// Bytes written per WRITEMEM_STACKED entry.
    WriteMemStacked(WrittenList<'a>),
    /// Any acknowledge whose status is not success.
    Error {
        /// The status.
        status: Status,
        /// The acknowledge id as sent.
        command_id: u16,
        /// The SCD as sent.
        scd: &'a [u8],
    },
}

impl AckRef<'_> {
    /// Copies into an owned [`Ack`].
    pub fn to_owned(&self) -> Ack {
        match *self {
            AckRef::ReadMem(d) => Ack::ReadMem(d.to_vec()),
            AckRef::WriteMem { bytes_written } => Ack::WriteMem { bytes_written },
            AckRef::Pending { timeout_ms } => Ack::Pending { timeout_ms },
            AckRef::ReadMemStacked(d) => Ack::ReadMemStacked(d.to_vec()),
            AckRef::WriteMemStacked(l) => Ack::WriteMemStacked(l.iter().collect()),
            AckRef::Error {
                status,
                command_id,
                scd,
            } => Ack::Error {
                status,
                command_id,
                scd: scd.to_vec(),
            },
        }
    }
}

/// A decoded acknowledge: its header and its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedAck<'a> {
    /// The header (status, request id, ...).
    pub header: AckHeader,
    /// The typed body.
    pub ack: AckRef<'a>,
}

/// Decodes one acknowledge message (exactly one message, see the module docs).
///
/// An acknowledge whose status is not [`Status::SUCCESS`] decodes as
/// [`AckRef::Error`] whatever its id, with its SCD left raw. A successful
/// acknowledge with an unknown id is [`DecodeError::UnknownCommand`].
pub fn decode_ack(buf: &[u8]) -> Result<DecodedAck<'_>, DecodeError> {
    let header = AckHeader::decode(buf)?;
    let scd = framed_scd(buf, header.scd_len, WHAT_ACK)?;
    if !header.status.is_success() {
        return Ok(DecodedAck {
            header,
            ack: AckRef::Error {
                status: header.status,
                command_id: header.command_id,
                scd,
            },
        });
    }
    let ack = match header.command_id {
        READMEM_ACK => AckRef::ReadMem(scd),
        WRITEMEM_ACK => {
            let mut r = exact(scd, 4, "WRITEMEM acknowledge")?;
            r.skip(2)?;
            AckRef::WriteMem {
                bytes_written: r.u16()?,
            }
        }
        PENDING_ACK => {
            let mut r = exact(scd, 4, "PENDING acknowledge")?;
            r.skip(2)?;
            AckRef::Pending {
                timeout_ms: r.u16()?,
            }
        }
        READMEM_STACKED_ACK => AckRef::ReadMemStacked(scd),
        WRITEMEM_STACKED_ACK => AckRef::WriteMemStacked(WrittenList::parse(scd)?),
        id => return Err(DecodeError::UnknownCommand { what: WHAT_ACK, id }),
    };
    Ok(DecodedAck { header, ack })
}
