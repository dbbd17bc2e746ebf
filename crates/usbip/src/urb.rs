//! URB traffic: USBIP_CMD_SUBMIT, USBIP_RET_SUBMIT, USBIP_CMD_UNLINK and
//! USBIP_RET_UNLINK.
//!
//! Every message starts with a 48-byte header: the 20-byte basic header
//! (command, seqnum, devid, direction, ep) and a command-specific part
//! padded to 28 bytes. All header fields are big-endian 32-bit integers,
//! except the 8 `setup` bytes of CMD_SUBMIT, which are the USB setup packet
//! copied as is (its own 16-bit fields are therefore little-endian, as on
//! the USB bus).
//!
//! After the header come
//! - the transfer buffer: `transfer_buffer_length` bytes in a CMD_SUBMIT
//!   whose direction is OUT, `actual_length` bytes in a RET_SUBMIT answering
//!   an IN transfer, nothing otherwise (for isochronous IN transfers the
//!   packets' data is sent back to back, without the gaps between packets);
//! - for isochronous transfers, `number_of_packets` 16-byte ISO packet
//!   descriptors (offset, length, actual_length, status; big-endian like the
//!   header, see `usbip_iso_packet_correct_endian` in the kernel).
//!
//! The kernel decides whether descriptors follow from the endpoint type; a
//! codec without the device's descriptors uses `number_of_packets` instead:
//! `0` and `-1` (0xffffffff, "not ISO") mean none, `1..=`[`MAX_ISO_PACKETS`]
//! that many, anything else is rejected.
//!
//! # The direction of a RET_SUBMIT
//!
//! A server sets the direction (and ep and devid) of its replies to 0, so a
//! RET_SUBMIT does not say whether it carries IN data: only the client that
//! sent the matching CMD_SUBMIT knows. [`decode_with`] therefore takes a
//! [`ReplyDirection`], usually a closure looking the seqnum up among the
//! pending submissions. [`decode`] trusts the header's direction field,
//! which is right for commands (the server side) but not for replies from a
//! conforming server.
//!
//! # Large transfers
//!
//! Two ways avoid copying payloads more than once:
//! - from a growing buffer, [`decode`]/[`decode_with`] return messages that
//!   borrow the payload from the buffer;
//! - reading straight from a socket, read [`HEADER_LEN`] bytes, ask
//!   [`layout`] how long the payload and the descriptors are, read the
//!   payload into its final buffer and the descriptors into a small one, and
//!   assemble the message with [`decode_parts`].
//!
//! For sending, [`Message::encode_header`] gives the 48 header bytes,
//! [`Message::payload`] the data to write after them unchanged, and
//! [`encode_iso_packets`] the trailing descriptors.

use crate::error::Error;

/// Command code of USBIP_CMD_SUBMIT (client to server).
pub const USBIP_CMD_SUBMIT: u32 = 0x0001;
/// Command code of USBIP_CMD_UNLINK (client to server).
pub const USBIP_CMD_UNLINK: u32 = 0x0002;
/// Command code of USBIP_RET_SUBMIT (server to client).
pub const USBIP_RET_SUBMIT: u32 = 0x0003;
/// Command code of USBIP_RET_UNLINK (server to client).
pub const USBIP_RET_UNLINK: u32 = 0x0004;

/// Wire value of the OUT direction (host to device).
pub const USBIP_DIR_OUT: u32 = 0;
/// Wire value of the IN direction (device to host).
pub const USBIP_DIR_IN: u32 = 1;

/// Length of every URB message header.
pub const HEADER_LEN: usize = 48;
/// Length of the basic header shared by the four commands.
pub const BASIC_HEADER_LEN: usize = 20;
/// Length of one ISO packet descriptor.
pub const ISO_PACKET_DESCRIPTOR_LEN: usize = 16;
/// Largest `transfer_buffer_length` / `actual_length` accepted: 64 MiB.
pub const MAX_TRANSFER_LEN: u32 = 64 << 20;
/// Largest `number_of_packets` accepted.
pub const MAX_ISO_PACKETS: u32 = 1024;
/// `number_of_packets` of a non-isochronous transfer as the protocol
/// document specifies it (0xffffffff); the Linux client sends 0.
pub const NO_ISO_PACKETS: i32 = -1;
/// Largest endpoint number.
pub const MAX_EP: u8 = 15;

/// URB transfer flags as carried in CMD_SUBMIT (`USBIP_URB_*` of the
/// kernel's `include/uapi/linux/usbip.h`).
pub mod transfer_flags {
    /// Report short IN transfers as errors.
    pub const URB_SHORT_NOT_OK: u32 = 0x0001;
    /// Isochronous: start as soon as possible, ignore `start_frame`.
    pub const URB_ISO_ASAP: u32 = 0x0002;
    /// The transfer buffer is already DMA-mapped (host-side detail).
    pub const URB_NO_TRANSFER_DMA_MAP: u32 = 0x0004;
    /// Bulk OUT: end with a zero-length packet if the length is a multiple
    /// of the maximum packet size.
    pub const URB_ZERO_PACKET: u32 = 0x0040;
    /// Hint: no completion interrupt needed.
    pub const URB_NO_INTERRUPT: u32 = 0x0080;
    /// Free the transfer buffer with the URB (host-side detail).
    pub const URB_FREE_BUFFER: u32 = 0x0100;
    /// The transfer is IN (device to host).
    pub const URB_DIR_IN: u32 = 0x0200;
    /// The transfer is OUT (no bit set).
    pub const URB_DIR_OUT: u32 = 0;
    /// Mask of the direction bit.
    pub const URB_DIR_MASK: u32 = URB_DIR_IN;
}

/// URB status values: 0 or a negated Linux errno.
///
/// The values are the generic Linux errno numbers (x86, ARM, RISC-V and
/// most other architectures); the protocol passes them through untranslated.
pub mod status {
    /// Success.
    pub const OK: i32 = 0;
    /// `-ENOENT`: URB unlinked synchronously (`usb_kill_urb`).
    pub const ENOENT: i32 = -2;
    /// `-ENOMEM`: out of memory.
    pub const ENOMEM: i32 = -12;
    /// `-EXDEV`: isochronous transfer only partially completed.
    pub const EXDEV: i32 = -18;
    /// `-ENODEV`: the device was removed.
    pub const ENODEV: i32 = -19;
    /// `-EINVAL`: invalid URB (e.g. bad ISO setup).
    pub const EINVAL: i32 = -22;
    /// `-EPIPE`: endpoint stalled.
    pub const EPIPE: i32 = -32;
    /// `-ETIME`: no response packet (USB 1.x "timeout").
    pub const ETIME: i32 = -62;
    /// `-ENOSR`: buffer error (host controller underrun/overrun).
    pub const ENOSR: i32 = -63;
    /// `-ECOMM`: data received faster than it could be written.
    pub const ECOMM: i32 = -70;
    /// `-EPROTO`: bitstuff error, no response or other protocol error.
    pub const EPROTO: i32 = -71;
    /// `-EOVERFLOW`: the device sent more data than requested (babble).
    pub const EOVERFLOW: i32 = -75;
    /// `-EILSEQ`: CRC mismatch.
    pub const EILSEQ: i32 = -84;
    /// `-EOPNOTSUPP`: operation not supported.
    pub const EOPNOTSUPP: i32 = -95;
    /// `-ECONNRESET`: URB unlinked asynchronously; the status of a
    /// successful RET_UNLINK.
    pub const ECONNRESET: i32 = -104;
    /// `-ESHUTDOWN`: the device or host controller is shutting down.
    pub const ESHUTDOWN: i32 = -108;
    /// `-ETIMEDOUT`: transfer timed out.
    pub const ETIMEDOUT: i32 = -110;
    /// `-EINPROGRESS`: URB still pending.
    pub const EINPROGRESS: i32 = -115;
    /// `-EREMOTEIO`: short packet with `URB_SHORT_NOT_OK` set.
    pub const EREMOTEIO: i32 = -121;
}

/// Direction of a transfer, seen from the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Host to device ([`USBIP_DIR_OUT`]); also what servers write in replies.
    #[default]
    Out,
    /// Device to host ([`USBIP_DIR_IN`]).
    In,
}

impl Direction {
    /// Wire value.
    pub const fn to_u32(self) -> u32 {
        match self {
            Direction::Out => USBIP_DIR_OUT,
            Direction::In => USBIP_DIR_IN,
        }
    }

    /// Direction for a wire value, `None` for anything but 0 and 1.
    pub const fn from_u32(v: u32) -> Option<Direction> {
        match v {
            USBIP_DIR_OUT => Some(Direction::Out),
            USBIP_DIR_IN => Some(Direction::In),
            _ => None,
        }
    }
}

/// The basic header fields after the command code
/// (`struct usbip_header_basic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BasicHeader {
    /// Sequence number: identifies a request and its reply; incremented per
    /// connection by the client.
    pub seqnum: u32,
    /// Device id: `(busnum << 16) | devnum` from the client, 0 from the server.
    pub devid: u32,
    /// Transfer direction (client); [`Direction::Out`] from the server.
    pub direction: Direction,
    /// Endpoint number 0..=15 (client); 0 from the server and in UNLINK.
    pub ep: u8,
}

impl BasicHeader {
    /// A client header.
    pub const fn new(seqnum: u32, devid: u32, direction: Direction, ep: u8) -> BasicHeader {
        BasicHeader {
            seqnum,
            devid,
            direction,
            ep,
        }
    }

    /// The header a server puts on a reply: devid, direction and ep 0.
    pub const fn reply(seqnum: u32) -> BasicHeader {
        BasicHeader {
            seqnum,
            devid: 0,
            direction: Direction::Out,
            ep: 0,
        }
    }
}

/// One ISO packet descriptor (`struct usbip_iso_packet_descriptor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IsoPacketDescriptor {
    /// Offset of the packet in the (uncompacted) transfer buffer.
    pub offset: u32,
    /// Expected length of the packet.
    pub length: u32,
    /// Bytes actually transferred.
    pub actual_length: u32,
    /// Packet status: 0 or a negated errno (see [`status`]).
    pub status: i32,
}

impl IsoPacketDescriptor {
    /// The 16 wire bytes.
    pub fn to_bytes(&self) -> [u8; ISO_PACKET_DESCRIPTOR_LEN] {
        let mut b = [0u8; ISO_PACKET_DESCRIPTOR_LEN];
        b[0..4].copy_from_slice(&self.offset.to_be_bytes());
        b[4..8].copy_from_slice(&self.length.to_be_bytes());
        b[8..12].copy_from_slice(&self.actual_length.to_be_bytes());
        b[12..16].copy_from_slice(&self.status.to_be_bytes());
        b
    }

    /// Decodes 16 wire bytes.
    pub fn from_bytes(b: &[u8; ISO_PACKET_DESCRIPTOR_LEN]) -> IsoPacketDescriptor {
        IsoPacketDescriptor {
            offset: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            length: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            actual_length: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
            status: i32::from_be_bytes([b[12], b[13], b[14], b[15]]),
        }
    }
}

/// Appends the wire bytes of ISO packet descriptors.
pub fn encode_iso_packets(packets: &[IsoPacketDescriptor], out: &mut Vec<u8>) {
    out.reserve(packets.len() * ISO_PACKET_DESCRIPTOR_LEN);
    for p in packets {
        out.extend_from_slice(&p.to_bytes());
    }
}

/// Decodes ISO packet descriptors; `bytes.len()` must be a multiple of 16.
pub fn decode_iso_packets(bytes: &[u8]) -> Result<Vec<IsoPacketDescriptor>, Error> {
    if bytes.len() % ISO_PACKET_DESCRIPTOR_LEN != 0 {
        return Err(Error::LengthMismatch {
            field: "ISO packet descriptor bytes",
            expected: (bytes.len() / ISO_PACKET_DESCRIPTOR_LEN * ISO_PACKET_DESCRIPTOR_LEN) as u64,
            actual: bytes.len() as u64,
        });
    }
    Ok(bytes
        .chunks_exact(ISO_PACKET_DESCRIPTOR_LEN)
        .map(|c| {
            let mut b = [0u8; ISO_PACKET_DESCRIPTOR_LEN];
            b.copy_from_slice(c);
            IsoPacketDescriptor::from_bytes(&b)
        })
        .collect())
}

/// USBIP_CMD_SUBMIT: submit a URB (client to server).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CmdSubmit<'a> {
    /// Basic header (seqnum, devid, direction, ep).
    pub base: BasicHeader,
    /// URB transfer flags (see [`transfer_flags`]).
    pub transfer_flags: u32,
    /// Length of the transfer buffer, at most [`MAX_TRANSFER_LEN`].
    pub transfer_buffer_length: u32,
    /// First frame of an isochronous transfer, otherwise 0 (Linux clients
    /// send -1 for interrupt transfers).
    pub start_frame: i32,
    /// Number of ISO packets; 0 or [`NO_ISO_PACKETS`] for other transfers.
    pub number_of_packets: i32,
    /// Polling interval for interrupt and isochronous endpoints.
    pub interval: i32,
    /// The USB setup packet of a control transfer, zeros otherwise (raw bytes).
    pub setup: [u8; 8],
    /// OUT data: exactly `transfer_buffer_length` bytes when the direction
    /// is OUT, empty when IN.
    pub data: &'a [u8],
    /// ISO packet descriptors: `number_of_packets` of them for isochronous
    /// transfers, none otherwise.
    pub iso_packets: Vec<IsoPacketDescriptor>,
}

/// USBIP_RET_SUBMIT: the completion of a URB (server to client).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetSubmit<'a> {
    /// Basic header; a server sets only `seqnum` (see [`BasicHeader::reply`]).
    pub base: BasicHeader,
    /// URB status: 0 or a negated errno (see [`status`]).
    pub status: i32,
    /// Bytes transferred, at most [`MAX_TRANSFER_LEN`].
    pub actual_length: u32,
    /// First frame of an isochronous transfer.
    pub start_frame: i32,
    /// Number of ISO packets; 0 or [`NO_ISO_PACKETS`] for other transfers.
    pub number_of_packets: i32,
    /// Number of ISO packets that completed with an error.
    pub error_count: i32,
    /// IN data: `actual_length` bytes for an IN transfer, empty for OUT.
    /// On encode, an empty `data` with a non-zero `actual_length` means OUT.
    pub data: &'a [u8],
    /// ISO packet descriptors: `number_of_packets` of them for isochronous
    /// transfers, none otherwise.
    pub iso_packets: Vec<IsoPacketDescriptor>,
}

/// USBIP_CMD_UNLINK: cancel a submitted URB (client to server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CmdUnlink {
    /// Basic header; its own seqnum is new, ep is 0.
    pub base: BasicHeader,
    /// Seqnum of the CMD_SUBMIT to cancel.
    pub unlink_seqnum: u32,
}

/// USBIP_RET_UNLINK: the result of an unlink (server to client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RetUnlink {
    /// Basic header; `seqnum` is the CMD_UNLINK's.
    pub base: BasicHeader,
    /// [`status::ECONNRESET`] if the URB was unlinked (and gets no
    /// RET_SUBMIT), 0 if it had already completed.
    pub status: i32,
}

/// A URB message, borrowing its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// USBIP_CMD_SUBMIT.
    CmdSubmit(CmdSubmit<'a>),
    /// USBIP_RET_SUBMIT.
    RetSubmit(RetSubmit<'a>),
    /// USBIP_CMD_UNLINK.
    CmdUnlink(CmdUnlink),
    /// USBIP_RET_UNLINK.
    RetUnlink(RetUnlink),
}

impl<'a> From<CmdSubmit<'a>> for Message<'a> {
    fn from(m: CmdSubmit<'a>) -> Self {
        Message::CmdSubmit(m)
    }
}
impl<'a> From<RetSubmit<'a>> for Message<'a> {
    fn from(m: RetSubmit<'a>) -> Self {
        Message::RetSubmit(m)
    }
}
impl From<CmdUnlink> for Message<'_> {
    fn from(m: CmdUnlink) -> Self {
        Message::CmdUnlink(m)
    }
}
impl From<RetUnlink> for Message<'_> {
    fn from(m: RetUnlink) -> Self {
        Message::RetUnlink(m)
    }
}

/// Sizes of the parts following a URB header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Layout {
    /// Bytes of transfer buffer right after the header.
    pub payload_len: usize,
    /// Number of ISO packet descriptors after the payload.
    pub iso_packets: usize,
}

impl Layout {
    /// Bytes of ISO packet descriptors.
    pub const fn iso_len(&self) -> usize {
        self.iso_packets * ISO_PACKET_DESCRIPTOR_LEN
    }

    /// Length of the whole message, header included.
    pub const fn total_len(&self) -> usize {
        HEADER_LEN + self.payload_len + self.iso_len()
    }
}

/// Tells the decoder the direction of the transfer a RET_SUBMIT completes,
/// which decides whether it carries data.
///
/// Implemented by closures `FnMut(&BasicHeader) -> Option<Direction>`
/// (return `None` for an unknown seqnum) and by [`FromHeader`].
pub trait ReplyDirection {
    /// Direction of the CMD_SUBMIT that `reply` answers, `None` if unknown.
    fn direction_of(&mut self, reply: &BasicHeader) -> Option<Direction>;
}

impl<F: FnMut(&BasicHeader) -> Option<Direction>> ReplyDirection for F {
    fn direction_of(&mut self, reply: &BasicHeader) -> Option<Direction> {
        self(reply)
    }
}

/// Takes the direction of a RET_SUBMIT from its own header field. Fine for
/// peers that echo the direction; a conforming server writes 0 there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FromHeader;

impl ReplyDirection for FromHeader {
    fn direction_of(&mut self, reply: &BasicHeader) -> Option<Direction> {
        Some(reply.direction)
    }
}

/// Decodes one URB message from the start of `buf`, taking the direction
/// of a RET_SUBMIT from its header (see [`FromHeader`]; a client talking to
/// a conforming server uses [`decode_with`]).
///
/// Returns `Ok(None)` while `buf` holds only part of a message (use
/// [`frame_len`] to learn how many bytes are needed), and
/// `Ok(Some((message, consumed)))` once it holds a whole one. The payload
/// is borrowed from `buf`.
pub fn decode(buf: &[u8]) -> Result<Option<(Message<'_>, usize)>, Error> {
    decode_with(buf, &mut FromHeader)
}

/// Decodes one URB message from the start of `buf`; `dir` gives the
/// direction of the transfer a RET_SUBMIT completes. Otherwise as [`decode`].
pub fn decode_with<'a, D: ReplyDirection + ?Sized>(
    buf: &'a [u8],
    dir: &mut D,
) -> Result<Option<(Message<'a>, usize)>, Error> {
    let Some(header) = header_of(buf) else {
        check_command_prefix(buf)?;
        return Ok(None);
    };
    let (msg, layout) = parse_header(header, dir)?;
    let total = layout.total_len();
    let Some(rest) = buf.get(HEADER_LEN..total) else {
        return Ok(None);
    };
    let (payload, iso) = rest.split_at(layout.payload_len);
    Ok(Some((attach(msg, payload, iso)?, total)))
}

/// Length of the URB message at the start of `buf`: `Ok(None)` while the
/// 48-byte header is incomplete, then the total length (header, payload
/// and descriptors). The header is validated as by [`decode_with`].
pub fn frame_len<D: ReplyDirection + ?Sized>(
    buf: &[u8],
    dir: &mut D,
) -> Result<Option<usize>, Error> {
    match header_of(buf) {
        None => {
            check_command_prefix(buf)?;
            Ok(None)
        }
        Some(h) => Ok(Some(layout(h, dir)?.total_len())),
    }
}

/// Validates a 48-byte header and tells how many payload bytes and ISO
/// descriptors follow it.
pub fn layout<D: ReplyDirection + ?Sized>(
    header: &[u8; HEADER_LEN],
    dir: &mut D,
) -> Result<Layout, Error> {
    parse_header(header, dir).map(|(_, l)| l)
}

/// Assembles a message from a header and separately read payload and ISO
/// descriptor bytes, whose lengths must match [`layout`] for the header.
pub fn decode_parts<'a, D: ReplyDirection + ?Sized>(
    header: &[u8; HEADER_LEN],
    payload: &'a [u8],
    iso: &[u8],
    dir: &mut D,
) -> Result<Message<'a>, Error> {
    let (msg, layout) = parse_header(header, dir)?;
    if payload.len() != layout.payload_len {
        return Err(Error::LengthMismatch {
            field: "transfer buffer",
            expected: layout.payload_len as u64,
            actual: payload.len() as u64,
        });
    }
    if iso.len() != layout.iso_len() {
        return Err(Error::LengthMismatch {
            field: "ISO packet descriptor bytes",
            expected: layout.iso_len() as u64,
            actual: iso.len() as u64,
        });
    }
    attach(msg, payload, iso)
}

/// The first 48 bytes of `buf` as an array, if present.
fn header_of(buf: &[u8]) -> Option<&[u8; HEADER_LEN]> {
    buf.get(..HEADER_LEN).and_then(|h| h.try_into().ok())
}

/// Rejects an unknown command as soon as its 4 bytes are in.
fn check_command_prefix(buf: &[u8]) -> Result<(), Error> {
    if let Some(c) = buf.get(..4) {
        let command = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        if !(USBIP_CMD_SUBMIT..=USBIP_RET_UNLINK).contains(&command) {
            return Err(Error::UnknownCommand(command));
        }
    }
    Ok(())
}

fn be_u32(h: &[u8; HEADER_LEN], off: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&h[off..off + 4]);
    u32::from_be_bytes(b)
}

fn be_i32(h: &[u8; HEADER_LEN], off: usize) -> i32 {
    be_u32(h, off) as i32
}

fn put_u32(h: &mut [u8; HEADER_LEN], off: usize, v: u32) {
    h[off..off + 4].copy_from_slice(&v.to_be_bytes());
}

fn put_i32(h: &mut [u8; HEADER_LEN], off: usize, v: i32) {
    put_u32(h, off, v as u32);
}

fn check_len(field: &'static str, value: u32) -> Result<usize, Error> {
    if value > MAX_TRANSFER_LEN {
        return Err(Error::TooLarge {
            field,
            value: u64::from(value),
            max: u64::from(MAX_TRANSFER_LEN),
        });
    }
    Ok(value as usize)
}

/// Number of ISO descriptors implied by `number_of_packets`.
fn iso_count(number_of_packets: i32) -> Result<usize, Error> {
    match number_of_packets {
        NO_ISO_PACKETS | 0 => Ok(0),
        n if n > 0 && n as u32 <= MAX_ISO_PACKETS => Ok(n as usize),
        n if n > 0 => Err(Error::TooLarge {
            field: "number_of_packets",
            value: n as u64,
            max: u64::from(MAX_ISO_PACKETS),
        }),
        n => Err(Error::InvalidField {
            field: "number_of_packets",
            value: i64::from(n),
        }),
    }
}

fn check_ep(ep: u32) -> Result<u8, Error> {
    if ep > u32::from(MAX_EP) {
        return Err(Error::InvalidField {
            field: "ep",
            value: i64::from(ep),
        });
    }
    Ok(ep as u8)
}

/// Parses and validates a header; the returned message has empty data and
/// no ISO descriptors yet.
fn parse_header<D: ReplyDirection + ?Sized>(
    h: &[u8; HEADER_LEN],
    dir: &mut D,
) -> Result<(Message<'static>, Layout), Error> {
    let command = be_u32(h, 0);
    if !(USBIP_CMD_SUBMIT..=USBIP_RET_UNLINK).contains(&command) {
        return Err(Error::UnknownCommand(command));
    }
    let raw_dir = be_u32(h, 12);
    let base = BasicHeader {
        seqnum: be_u32(h, 4),
        devid: be_u32(h, 8),
        direction: Direction::from_u32(raw_dir).ok_or(Error::InvalidField {
            field: "direction",
            value: i64::from(raw_dir),
        })?,
        ep: check_ep(be_u32(h, 16))?,
    };
    Ok(match command {
        USBIP_CMD_SUBMIT => {
            let m = CmdSubmit {
                base,
                transfer_flags: be_u32(h, 20),
                transfer_buffer_length: be_u32(h, 24),
                start_frame: be_i32(h, 28),
                number_of_packets: be_i32(h, 32),
                interval: be_i32(h, 36),
                setup: {
                    let mut s = [0u8; 8];
                    s.copy_from_slice(&h[40..48]);
                    s
                },
                data: &[],
                iso_packets: Vec::new(),
            };
            let len = check_len("transfer_buffer_length", m.transfer_buffer_length)?;
            let layout = Layout {
                payload_len: if base.direction == Direction::Out {
                    len
                } else {
                    0
                },
                iso_packets: iso_count(m.number_of_packets)?,
            };
            (Message::CmdSubmit(m), layout)
        }
        USBIP_RET_SUBMIT => {
            let m = RetSubmit {
                base,
                status: be_i32(h, 20),
                actual_length: be_u32(h, 24),
                start_frame: be_i32(h, 28),
                number_of_packets: be_i32(h, 32),
                error_count: be_i32(h, 36),
                data: &[],
                iso_packets: Vec::new(),
            };
            let len = check_len("actual_length", m.actual_length)?;
            let iso_packets = iso_count(m.number_of_packets)?;
            let payload_len = if len == 0 {
                0
            } else {
                match dir.direction_of(&base) {
                    Some(Direction::In) => len,
                    Some(Direction::Out) => 0,
                    None => return Err(Error::UnknownSeqnum(base.seqnum)),
                }
            };
            (
                Message::RetSubmit(m),
                Layout {
                    payload_len,
                    iso_packets,
                },
            )
        }
        USBIP_CMD_UNLINK => (
            Message::CmdUnlink(CmdUnlink {
                base,
                unlink_seqnum: be_u32(h, 20),
            }),
            Layout::default(),
        ),
        _ => (
            Message::RetUnlink(RetUnlink {
                base,
                status: be_i32(h, 20),
            }),
            Layout::default(),
        ),
    })
}

/// Puts payload and descriptors into a message from [`parse_header`].
fn attach<'a>(msg: Message<'static>, payload: &'a [u8], iso: &[u8]) -> Result<Message<'a>, Error> {
    Ok(match msg {
        Message::CmdSubmit(m) => Message::CmdSubmit(CmdSubmit {
            data: payload,
            iso_packets: decode_iso_packets(iso)?,
            ..m
        }),
        Message::RetSubmit(m) => Message::RetSubmit(RetSubmit {
            data: payload,
            iso_packets: decode_iso_packets(iso)?,
            ..m
        }),
        other => other,
    })
}

/// Checks that `iso_packets` agrees with `number_of_packets`.
fn check_iso(number_of_packets: i32, iso_packets: &[IsoPacketDescriptor]) -> Result<(), Error> {
    let n = iso_count(number_of_packets)?;
    if n != iso_packets.len() {
        return Err(Error::LengthMismatch {
            field: "ISO packet descriptors",
            expected: n as u64,
            actual: iso_packets.len() as u64,
        });
    }
    Ok(())
}

impl<'a> Message<'a> {
    /// The command code.
    pub const fn command(&self) -> u32 {
        match self {
            Message::CmdSubmit(_) => USBIP_CMD_SUBMIT,
            Message::RetSubmit(_) => USBIP_RET_SUBMIT,
            Message::CmdUnlink(_) => USBIP_CMD_UNLINK,
            Message::RetUnlink(_) => USBIP_RET_UNLINK,
        }
    }

    /// The basic header.
    pub const fn base(&self) -> &BasicHeader {
        match self {
            Message::CmdSubmit(m) => &m.base,
            Message::RetSubmit(m) => &m.base,
            Message::CmdUnlink(m) => &m.base,
            Message::RetUnlink(m) => &m.base,
        }
    }

    /// The sequence number.
    pub const fn seqnum(&self) -> u32 {
        self.base().seqnum
    }

    /// The transfer buffer sent after the header (empty for UNLINKs).
    pub const fn payload(&self) -> &'a [u8] {
        match self {
            Message::CmdSubmit(m) => m.data,
            Message::RetSubmit(m) => m.data,
            _ => &[],
        }
    }

    /// The ISO packet descriptors sent after the payload.
    pub fn iso_packets(&self) -> &[IsoPacketDescriptor] {
        match self {
            Message::CmdSubmit(m) => &m.iso_packets,
            Message::RetSubmit(m) => &m.iso_packets,
            _ => &[],
        }
    }

    /// Checks the message can be encoded: ep at most 15, lengths within
    /// [`MAX_TRANSFER_LEN`], the payload consistent with its length field
    /// and direction, the descriptors with `number_of_packets`.
    pub fn validate(&self) -> Result<(), Error> {
        check_ep(u32::from(self.base().ep))?;
        match self {
            Message::CmdSubmit(m) => {
                let len = check_len("transfer_buffer_length", m.transfer_buffer_length)?;
                let expected = match m.base.direction {
                    Direction::Out => len,
                    Direction::In => 0,
                };
                if m.data.len() != expected {
                    return Err(Error::LengthMismatch {
                        field: "CMD_SUBMIT transfer buffer",
                        expected: expected as u64,
                        actual: m.data.len() as u64,
                    });
                }
                check_iso(m.number_of_packets, &m.iso_packets)
            }
            Message::RetSubmit(m) => {
                let len = check_len("actual_length", m.actual_length)?;
                if !m.data.is_empty() && m.data.len() != len {
                    return Err(Error::LengthMismatch {
                        field: "RET_SUBMIT transfer buffer",
                        expected: len as u64,
                        actual: m.data.len() as u64,
                    });
                }
                check_iso(m.number_of_packets, &m.iso_packets)
            }
            Message::CmdUnlink(_) | Message::RetUnlink(_) => Ok(()),
        }
    }

    /// The 48 header bytes, after [`Message::validate`]. Write
    /// [`Message::payload`] and the encoded [`Message::iso_packets`] after
    /// them to send the message without copying the payload.
    pub fn encode_header(&self) -> Result<[u8; HEADER_LEN], Error> {
        self.validate()?;
        let mut h = [0u8; HEADER_LEN];
        let base = self.base();
        put_u32(&mut h, 0, self.command());
        put_u32(&mut h, 4, base.seqnum);
        put_u32(&mut h, 8, base.devid);
        put_u32(&mut h, 12, base.direction.to_u32());
        put_u32(&mut h, 16, u32::from(base.ep));
        match self {
            Message::CmdSubmit(m) => {
                put_u32(&mut h, 20, m.transfer_flags);
                put_u32(&mut h, 24, m.transfer_buffer_length);
                put_i32(&mut h, 28, m.start_frame);
                put_i32(&mut h, 32, m.number_of_packets);
                put_i32(&mut h, 36, m.interval);
                h[40..48].copy_from_slice(&m.setup);
            }
            Message::RetSubmit(m) => {
                put_i32(&mut h, 20, m.status);
                put_u32(&mut h, 24, m.actual_length);
                put_i32(&mut h, 28, m.start_frame);
                put_i32(&mut h, 32, m.number_of_packets);
                put_i32(&mut h, 36, m.error_count);
            }
            Message::CmdUnlink(m) => put_u32(&mut h, 20, m.unlink_seqnum),
            Message::RetUnlink(m) => put_i32(&mut h, 20, m.status),
        }
        Ok(h)
    }

    /// The layout of the encoded message.
    pub fn layout(&self) -> Layout {
        Layout {
            payload_len: self.payload().len(),
            iso_packets: self.iso_packets().len(),
        }
    }

    /// Number of bytes [`Message::encode`] appends.
    pub fn encoded_len(&self) -> usize {
        self.layout().total_len()
    }

    /// Appends the whole message (header, payload, descriptors) to `out`.
    /// On error `out` is unchanged.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let header = self.encode_header()?;
        out.reserve(self.encoded_len());
        out.extend_from_slice(&header);
        out.extend_from_slice(self.payload());
        encode_iso_packets(self.iso_packets(), out);
        Ok(())
    }

    /// The whole message in a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }
}
