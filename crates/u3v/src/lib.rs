//! USB3 Vision wire formats, sans-IO.
//!
//! Pure encode/decode functions over byte slices, little-endian, with typed
//! errors and no panics on any input. Transports and state machines (control
//! channel, stream receiver, GenCP server) are built on top of these codecs.
//!
//! | module | what |
//! |---|---|
//! | [`gencp`] | control channel: commands, acknowledges, [`Status`] |
//! | [`event`] | event messages on the event endpoint |
//! | [`stream`] | stream leader, trailer, chunk data |
//! | [`bootstrap`] | ABRM, SBRM, SIRM, EIRM registers and [`StreamSizing`] |
//! | [`manifest`] | manifest table and `local:` URLs |
//! | [`descriptor`] | USB descriptors: building and parsing |
//! | [`access`] | the device's access privilege (ABRM 0x204) across its control pipes |
//! | [`link`] | the host's [`UsbLink`], device models' [`UsbDevice`], and [`MemoryLink`] joining them |
//!
//! Decoders borrow from their input where it matters (WRITEMEM data, READMEM
//! acknowledge data, stacked lists, event data), so a receiver can hand frame
//! data on without copying.
//!
//! ```
//! use u3v::gencp::{decode_ack, decode_command, Ack, AckRef, Command, CommandRef, Flags};
//!
//! let mut buf = Vec::new();
//! Command::ReadMem { address: 0x144, count: 64 }.encode(Flags::REQUEST_ACK, 7, &mut buf)?;
//! let cmd = decode_command(&buf)?;
//! assert_eq!(cmd.command, CommandRef::ReadMem { address: 0x144, count: 64 });
//!
//! let mut ack = Vec::new();
//! Ack::ReadMem(b"SN0001".to_vec()).encode(cmd.header.request_id, &mut ack)?;
//! assert_eq!(decode_ack(&ack)?.ack, AckRef::ReadMem(b"SN0001"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod bootstrap;
pub mod control_channel;
pub mod control_server;
pub mod descriptor;
mod error;
pub mod event;
pub mod event_channel;
pub mod gencp;
pub mod link;
pub mod manifest;
pub mod stream;
pub mod stream_receiver;
pub mod stream_sender;
mod wire;

pub use bootstrap::{Abrm, Eirm, Sbrm, Sirm, StreamSizing};
pub use descriptor::{parse_configuration, DeviceDescriptors, DeviceIdentity, U3vConfiguration};
pub use error::{DecodeError, EncodeError, SizingError};
pub use event::{EventPacket, EventRef};
pub use gencp::{decode_ack, decode_command, Ack, AckRef, Command, CommandRef, Flags, Status};
pub use link::{DeviceError, InTransfer, LinkError, MemoryLink, SetupPacket, UsbDevice, UsbLink};
pub use manifest::{LocalUrl, Manifest, ManifestEntry};
pub use stream::{parse_chunks, Chunk, Leader, PayloadType, Trailer};
