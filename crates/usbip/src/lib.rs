//! The Linux kernel's USB/IP protocol (USB over TCP, port 3240), as
//! documented in the kernel's `Documentation/usb/usbip_protocol.rst`.
//!
//! This crate is the sans-IO codec: pure functions from messages to bytes
//! and back, for the server that exports a USB device and the client that
//! imports it. A connection has two phases:
//!
//! 1. operation messages ([`op`]): OP_REQ_DEVLIST / OP_REP_DEVLIST to list
//!    the exported devices (then the connection closes), or OP_REQ_IMPORT /
//!    OP_REP_IMPORT to attach one;
//! 2. after a successful import, URB traffic on the same connection
//!    ([`urb`]): USBIP_CMD_SUBMIT / USBIP_RET_SUBMIT and USBIP_CMD_UNLINK /
//!    USBIP_RET_UNLINK.
//!
//! All fields are big-endian, except the 8 setup bytes of a CMD_SUBMIT,
//! which are the USB setup packet as is. Both decoders take a buffer that
//! may hold a partial message and return `Ok(None)` until it holds a whole
//! one, so a reader can append whatever a socket returns and retry; URB
//! payloads are borrowed from that buffer, or read directly into their
//! final buffer with [`urb::layout`] and [`urb::decode_parts`].
//!
//! Decoding never panics and never allocates in proportion to an unchecked
//! length: transfers above [`urb::MAX_TRANSFER_LEN`] (64 MiB), more than
//! [`urb::MAX_ISO_PACKETS`] ISO packets or [`op::MAX_DEVLIST_DEVICES`]
//! devices are rejected with an [`Error`] naming the field.
//!
//! ```
//! use usbip::{decode_urb, BasicHeader, CmdSubmit, Direction, Message};
//!
//! let cmd = Message::CmdSubmit(CmdSubmit {
//!     base: BasicHeader::new(1, 0x0001_0002, Direction::Out, 2),
//!     transfer_buffer_length: 4,
//!     data: &[1, 2, 3, 4],
//!     ..CmdSubmit::default()
//! });
//! let bytes = cmd.to_vec()?;
//! assert_eq!(bytes.len(), 48 + 4);
//! assert_eq!(decode_urb(&bytes[..50])?, None); // incomplete
//! let (decoded, consumed) = decode_urb(&bytes)?.expect("whole message");
//! assert_eq!((decoded, consumed), (cmd, 52));
//! # Ok::<(), usbip::Error>(())
//! ```

#![warn(missing_docs)]

pub mod client;
pub mod error;
pub mod op;
pub mod server;
mod sockopt;
pub mod urb;

pub use error::Error;
pub use op::{
    decode as decode_op, ExportedDevice, InterfaceInfo, OpMessage, Speed, UsbDeviceInfo,
    USBIP_VERSION,
};
pub use urb::{
    decode as decode_urb, decode_with as decode_urb_with, BasicHeader, CmdSubmit, CmdUnlink,
    Direction, FromHeader, IsoPacketDescriptor, Layout, Message, ReplyDirection, RetSubmit,
    RetUnlink, USBIP_DIR_IN, USBIP_DIR_OUT,
};

/// The TCP port USB/IP servers listen on.
pub const USBIP_PORT: u16 = 3240;
