//! Bootstrap register maps: ABRM, SBRM, SIRM, EIRM, and the usual host sizing
//! of the SIRM transfer registers.
//!
//! Each map has its register offsets as constants in a sub-module ([`abrm`],
//! [`sbrm`], [`sirm`], [`eirm`]) and a typed struct decoded from / encoded to
//! the whole block. Decoders need at least the block length and ignore bytes
//! past it (a register read may cover more).
//!
//! **Strings** (64-byte fields) are read up to the first NUL (or all 64 bytes
//! if there is none) and decoded *lossily*: invalid UTF-8 becomes U+FFFD
//! rather than an error, because a device with a badly encoded serial number
//! must still be usable; [`decode_string`] is the same rule for single
//! registers. Encoding requires at most 63 bytes so that a NUL always follows.

use crate::error::{DecodeError, EncodeError, SizingError};
use crate::wire::{append_with, Reader, Writer};

/// Length of a bootstrap string register.
pub const STRING_LEN: usize = 64;

/// Decodes a NUL-padded string register lossily (see the module docs).
pub fn decode_string(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(raw.get(..end).unwrap_or(raw)).into_owned()
}

/// Encodes a string register: the bytes of `s` then NULs up to 64 bytes.
pub fn encode_string(field: &'static str, s: &str) -> Result<[u8; STRING_LEN], EncodeError> {
    if s.len() >= STRING_LEN {
        return Err(EncodeError::TooLarge {
            what: "bootstrap string",
            field,
            value: s.len() as u64,
            max: (STRING_LEN - 1) as u64,
        });
    }
    if s.as_bytes().contains(&0) {
        return Err(EncodeError::Invalid {
            what: "bootstrap string",
            field,
            reason: "contains a NUL byte",
        });
    }
    let mut out = [0u8; STRING_LEN];
    if let Some(dst) = out.get_mut(..s.len()) {
        dst.copy_from_slice(s.as_bytes());
    }
    Ok(out)
}

fn need(buf: &[u8], len: usize, what: &'static str) -> Result<(), DecodeError> {
    if buf.len() < len {
        return Err(DecodeError::Truncated {
            what,
            needed: len,
            available: buf.len(),
        });
    }
    Ok(())
}

fn string(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    Ok(decode_string(r.bytes(STRING_LEN)?))
}

// ---------------------------------------------------------------------------
// ABRM
// ---------------------------------------------------------------------------

/// Technology-agnostic bootstrap register map (at address 0): offsets.
pub mod abrm {
    /// GenCP version (major << 16 | minor), 4 bytes.
    pub const GENCP_VERSION: u64 = 0x000;
    /// Manufacturer name, 64 bytes.
    pub const MANUFACTURER_NAME: u64 = 0x004;
    /// Model name, 64 bytes.
    pub const MODEL_NAME: u64 = 0x044;
    /// Family name, 64 bytes.
    pub const FAMILY_NAME: u64 = 0x084;
    /// Device version, 64 bytes.
    pub const DEVICE_VERSION: u64 = 0x0C4;
    /// Manufacturer info, 64 bytes.
    pub const MANUFACTURER_INFO: u64 = 0x104;
    /// Serial number, 64 bytes.
    pub const SERIAL_NUMBER: u64 = 0x144;
    /// User-defined name, 64 bytes.
    pub const USER_DEFINED_NAME: u64 = 0x184;
    /// Device capability, 8 bytes.
    pub const DEVICE_CAPABILITY: u64 = 0x1C4;
    /// Maximum device response time in ms, 4 bytes.
    pub const MAX_DEVICE_RESPONSE_TIME: u64 = 0x1CC;
    /// Manifest table address, 8 bytes.
    pub const MANIFEST_TABLE_ADDRESS: u64 = 0x1D0;
    /// SBRM address, 8 bytes.
    pub const SBRM_ADDRESS: u64 = 0x1D8;
    /// Device configuration, 8 bytes.
    pub const DEVICE_CONFIGURATION: u64 = 0x1E0;
    /// Heartbeat timeout, 4 bytes.
    pub const HEARTBEAT_TIMEOUT: u64 = 0x1E8;
    /// Message channel id, 4 bytes.
    pub const MESSAGE_CHANNEL_ID: u64 = 0x1EC;
    /// Timestamp in ns, 8 bytes.
    pub const TIMESTAMP: u64 = 0x1F0;
    /// Timestamp latch, 4 bytes.
    pub const TIMESTAMP_LATCH: u64 = 0x1F8;
    /// Timestamp increment, 8 bytes.
    pub const TIMESTAMP_INCREMENT: u64 = 0x1FC;
    /// Access privilege, 4 bytes.
    pub const ACCESS_PRIVILEGE: u64 = 0x204;
    /// Protocol endianness, 4 bytes.
    pub const PROTOCOL_ENDIANNESS: u64 = 0x208;
    /// Implementation endianness, 4 bytes.
    pub const IMPLEMENTATION_ENDIANNESS: u64 = 0x20C;
    /// Device software interface version, 64 bytes.
    pub const DEVICE_SOFTWARE_INTERFACE_VERSION: u64 = 0x210;
    /// Length of the map.
    pub const LEN: usize = 0x250;
}

/// The ABRM device capability register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DeviceCapability(pub u64);

impl DeviceCapability {
    /// Bit 0: the user-defined name register is supported.
    pub const USER_DEFINED_NAME: u64 = 1 << 0;
    /// Bit 8: the family name register is supported.
    pub const FAMILY_NAME: u64 = 1 << 8;
    /// Bit 12: multiple events per event message are supported.
    pub const MULTI_EVENT: u64 = 1 << 12;
    /// Bit 13: stacked READMEM/WRITEMEM are supported.
    pub const STACKED_COMMANDS: u64 = 1 << 13;
    /// Bit 14: the device software interface version register is supported.
    pub const SOFTWARE_INTERFACE_VERSION: u64 = 1 << 14;

    /// Whether every bit of `mask` is set.
    pub const fn has(self, mask: u64) -> bool {
        self.0 & mask == mask
    }
    /// Bit 0.
    pub const fn user_defined_name(self) -> bool {
        self.has(Self::USER_DEFINED_NAME)
    }
    /// Bit 8.
    pub const fn family_name(self) -> bool {
        self.has(Self::FAMILY_NAME)
    }
    /// Bit 12.
    pub const fn multi_event(self) -> bool {
        self.has(Self::MULTI_EVENT)
    }
    /// Bit 13.
    pub const fn stacked_commands(self) -> bool {
        self.has(Self::STACKED_COMMANDS)
    }
    /// Bit 14.
    pub const fn software_interface_version(self) -> bool {
        self.has(Self::SOFTWARE_INTERFACE_VERSION)
    }
}

/// The ABRM device configuration register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DeviceConfiguration(pub u64);

impl DeviceConfiguration {
    /// Bit 1: multi-event enable.
    pub const MULTI_EVENT_ENABLE: u64 = 1 << 1;

    /// Whether multi-event is enabled.
    pub const fn multi_event_enabled(self) -> bool {
        self.0 & Self::MULTI_EVENT_ENABLE != 0
    }
}

/// The decoded ABRM.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Abrm {
    /// GenCP version (major << 16 | minor).
    pub gencp_version: u32,
    /// Manufacturer name.
    pub manufacturer_name: String,
    /// Model name.
    pub model_name: String,
    /// Family name.
    pub family_name: String,
    /// Device version.
    pub device_version: String,
    /// Manufacturer info.
    pub manufacturer_info: String,
    /// Serial number.
    pub serial_number: String,
    /// User-defined name.
    pub user_defined_name: String,
    /// Device capability.
    pub device_capability: DeviceCapability,
    /// Maximum device response time, ms.
    pub max_device_response_time_ms: u32,
    /// Manifest table address.
    pub manifest_table_address: u64,
    /// SBRM address.
    pub sbrm_address: u64,
    /// Device configuration.
    pub device_configuration: DeviceConfiguration,
    /// Heartbeat timeout.
    pub heartbeat_timeout: u32,
    /// Message channel id.
    pub message_channel_id: u32,
    /// Timestamp, ns.
    pub timestamp: u64,
    /// Timestamp latch.
    pub timestamp_latch: u32,
    /// Timestamp increment.
    pub timestamp_increment: u64,
    /// Access privilege.
    pub access_privilege: u32,
    /// Protocol endianness.
    pub protocol_endianness: u32,
    /// Implementation endianness.
    pub implementation_endianness: u32,
    /// Device software interface version.
    pub device_software_interface_version: String,
}

impl Abrm {
    /// Decodes the ABRM from a buffer of at least [`abrm::LEN`] bytes.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        need(buf, abrm::LEN, "ABRM")?;
        let mut r = Reader::new(buf, "ABRM");
        Ok(Abrm {
            gencp_version: r.u32()?,
            manufacturer_name: string(&mut r)?,
            model_name: string(&mut r)?,
            family_name: string(&mut r)?,
            device_version: string(&mut r)?,
            manufacturer_info: string(&mut r)?,
            serial_number: string(&mut r)?,
            user_defined_name: string(&mut r)?,
            device_capability: DeviceCapability(r.u64()?),
            max_device_response_time_ms: r.u32()?,
            manifest_table_address: r.u64()?,
            sbrm_address: r.u64()?,
            device_configuration: DeviceConfiguration(r.u64()?),
            heartbeat_timeout: r.u32()?,
            message_channel_id: r.u32()?,
            timestamp: r.u64()?,
            timestamp_latch: r.u32()?,
            timestamp_increment: r.u64()?,
            access_privilege: r.u32()?,
            protocol_endianness: r.u32()?,
            implementation_endianness: r.u32()?,
            device_software_interface_version: string(&mut r)?,
        })
    }

    /// Encodes the ABRM into `out`, returning [`abrm::LEN`].
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let strings = [
            encode_string("manufacturer_name", &self.manufacturer_name)?,
            encode_string("model_name", &self.model_name)?,
            encode_string("family_name", &self.family_name)?,
            encode_string("device_version", &self.device_version)?,
            encode_string("manufacturer_info", &self.manufacturer_info)?,
            encode_string("serial_number", &self.serial_number)?,
            encode_string("user_defined_name", &self.user_defined_name)?,
        ];
        let sw = encode_string(
            "device_software_interface_version",
            &self.device_software_interface_version,
        )?;
        let mut w = Writer::new(out, abrm::LEN)?;
        w.u32(self.gencp_version);
        for s in &strings {
            w.bytes(s);
        }
        w.u64(self.device_capability.0);
        w.u32(self.max_device_response_time_ms);
        w.u64(self.manifest_table_address);
        w.u64(self.sbrm_address);
        w.u64(self.device_configuration.0);
        w.u32(self.heartbeat_timeout);
        w.u32(self.message_channel_id);
        w.u64(self.timestamp);
        w.u32(self.timestamp_latch);
        w.u64(self.timestamp_increment);
        w.u32(self.access_privilege);
        w.u32(self.protocol_endianness);
        w.u32(self.implementation_endianness);
        w.bytes(&sw);
        Ok(w.pos())
    }

    /// Appends the encoded ABRM to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
        append_with(out, abrm::LEN, |b| self.encode_into(b))
    }
}

// ---------------------------------------------------------------------------
// SBRM
// ---------------------------------------------------------------------------

/// Technology-specific (USB3 Vision) bootstrap register map: offsets from the SBRM address.
pub mod sbrm {
    /// U3V version, 4 bytes.
    pub const U3V_VERSION: u64 = 0x00;
    /// U3VCP capability, 8 bytes.
    pub const U3VCP_CAPABILITY: u64 = 0x04;
    /// U3VCP configuration, 8 bytes.
    pub const U3VCP_CONFIGURATION: u64 = 0x0C;
    /// Maximum command transfer length, 4 bytes.
    pub const MAX_CMD_TRANSFER_LENGTH: u64 = 0x14;
    /// Maximum acknowledge transfer length, 4 bytes.
    pub const MAX_ACK_TRANSFER_LENGTH: u64 = 0x18;
    /// Number of stream channels, 4 bytes.
    pub const NUM_STREAM_CHANNELS: u64 = 0x1C;
    /// SIRM address, 8 bytes.
    pub const SIRM_ADDRESS: u64 = 0x20;
    /// SIRM length, 4 bytes.
    pub const SIRM_LENGTH: u64 = 0x28;
    /// EIRM address, 8 bytes.
    pub const EIRM_ADDRESS: u64 = 0x2C;
    /// EIRM length, 4 bytes.
    pub const EIRM_LENGTH: u64 = 0x34;
    /// IIDC2 address, 8 bytes.
    pub const IIDC2_ADDRESS: u64 = 0x38;
    /// Current speed, 4 bytes.
    pub const CURRENT_SPEED: u64 = 0x40;
    /// Length of the map.
    pub const LEN: usize = 0x44;
}

/// The SBRM U3VCP capability register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct U3vcpCapability(pub u64);

impl U3vcpCapability {
    /// Bit 0: a SIRM is available.
    pub const SIRM_AVAILABLE: u64 = 1 << 0;
    /// Bit 1: an EIRM is available.
    pub const EIRM_AVAILABLE: u64 = 1 << 1;
    /// Bit 2: IIDC2 registers are available.
    pub const IIDC2_AVAILABLE: u64 = 1 << 2;

    /// Bit 0.
    pub const fn sirm_available(self) -> bool {
        self.0 & Self::SIRM_AVAILABLE != 0
    }
    /// Bit 1.
    pub const fn eirm_available(self) -> bool {
        self.0 & Self::EIRM_AVAILABLE != 0
    }
    /// Bit 2.
    pub const fn iidc2_available(self) -> bool {
        self.0 & Self::IIDC2_AVAILABLE != 0
    }
}

/// The decoded SBRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Sbrm {
    /// U3V version (major << 16 | minor).
    pub u3v_version: u32,
    /// U3VCP capability.
    pub u3vcp_capability: U3vcpCapability,
    /// U3VCP configuration.
    pub u3vcp_configuration: u64,
    /// Maximum command transfer length, bytes.
    pub max_cmd_transfer_length: u32,
    /// Maximum acknowledge transfer length, bytes.
    pub max_ack_transfer_length: u32,
    /// Number of stream channels.
    pub num_stream_channels: u32,
    /// SIRM address.
    pub sirm_address: u64,
    /// SIRM length.
    pub sirm_length: u32,
    /// EIRM address.
    pub eirm_address: u64,
    /// EIRM length.
    pub eirm_length: u32,
    /// IIDC2 address.
    pub iidc2_address: u64,
    /// Current bus speed.
    pub current_speed: u32,
}

impl Sbrm {
    /// Decodes the SBRM from a buffer of at least [`sbrm::LEN`] bytes.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        need(buf, sbrm::LEN, "SBRM")?;
        let mut r = Reader::new(buf, "SBRM");
        Ok(Sbrm {
            u3v_version: r.u32()?,
            u3vcp_capability: U3vcpCapability(r.u64()?),
            u3vcp_configuration: r.u64()?,
            max_cmd_transfer_length: r.u32()?,
            max_ack_transfer_length: r.u32()?,
            num_stream_channels: r.u32()?,
            sirm_address: r.u64()?,
            sirm_length: r.u32()?,
            eirm_address: r.u64()?,
            eirm_length: r.u32()?,
            iidc2_address: r.u64()?,
            current_speed: r.u32()?,
        })
    }

    /// Encodes the SBRM into `out`, returning [`sbrm::LEN`].
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, sbrm::LEN)?;
        w.u32(self.u3v_version);
        w.u64(self.u3vcp_capability.0);
        w.u64(self.u3vcp_configuration);
        w.u32(self.max_cmd_transfer_length);
        w.u32(self.max_ack_transfer_length);
        w.u32(self.num_stream_channels);
        w.u64(self.sirm_address);
        w.u32(self.sirm_length);
        w.u64(self.eirm_address);
        w.u32(self.eirm_length);
        w.u64(self.iidc2_address);
        w.u32(self.current_speed);
        Ok(w.pos())
    }

    /// Appends the encoded SBRM to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
        append_with(out, sbrm::LEN, |b| self.encode_into(b))
    }

    /// Largest READMEM count the host may ask for: the acknowledge limit minus
    /// the 12-byte header, capped to `u16` (0 if the limit is below 12).
    pub fn max_read_len(&self) -> u16 {
        let n = (self.max_ack_transfer_length as usize).saturating_sub(crate::gencp::HEADER_LEN);
        u16::try_from(n).unwrap_or(u16::MAX)
    }

    /// Largest WRITEMEM data the host may send: the command limit minus the
    /// header and the 8-byte address, capped to what the SCD can carry.
    pub fn max_write_len(&self) -> u16 {
        let n =
            (self.max_cmd_transfer_length as usize).saturating_sub(crate::gencp::HEADER_LEN + 8);
        u16::try_from(n.min(crate::gencp::MAX_SCD_LEN - 8)).unwrap_or(u16::MAX)
    }
}

// ---------------------------------------------------------------------------
// SIRM
// ---------------------------------------------------------------------------

/// Streaming interface register map: offsets from the SIRM address.
pub mod sirm {
    /// SI info (bits 24–31: alignment exponent), 4 bytes.
    pub const SI_INFO: u64 = 0x00;
    /// SI control (bit 0: stream enable), 4 bytes.
    pub const SI_CONTROL: u64 = 0x04;
    /// Required payload size, 8 bytes.
    pub const REQUIRED_PAYLOAD_SIZE: u64 = 0x08;
    /// Required leader size, 4 bytes.
    pub const REQUIRED_LEADER_SIZE: u64 = 0x10;
    /// Required trailer size, 4 bytes.
    pub const REQUIRED_TRAILER_SIZE: u64 = 0x14;
    /// Maximum leader size, 4 bytes.
    pub const MAX_LEADER_SIZE: u64 = 0x18;
    /// Payload transfer size, 4 bytes.
    pub const PAYLOAD_TRANSFER_SIZE: u64 = 0x1C;
    /// Payload transfer count, 4 bytes.
    pub const PAYLOAD_TRANSFER_COUNT: u64 = 0x20;
    /// Payload final transfer 1 size, 4 bytes.
    pub const PAYLOAD_FINAL_TRANSFER1_SIZE: u64 = 0x24;
    /// Payload final transfer 2 size, 4 bytes.
    pub const PAYLOAD_FINAL_TRANSFER2_SIZE: u64 = 0x28;
    /// Maximum trailer size, 4 bytes.
    pub const MAX_TRAILER_SIZE: u64 = 0x2C;
    /// Length of the map.
    pub const LEN: usize = 0x30;
    /// SI control bit 0: stream enable.
    pub const SI_CONTROL_STREAM_ENABLE: u32 = 1;
}

/// The decoded SIRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Sirm {
    /// SI info.
    pub si_info: u32,
    /// SI control.
    pub si_control: u32,
    /// Required payload size, bytes.
    pub required_payload_size: u64,
    /// Required leader size, bytes.
    pub required_leader_size: u32,
    /// Required trailer size, bytes.
    pub required_trailer_size: u32,
    /// Maximum leader size, bytes.
    pub max_leader_size: u32,
    /// Payload transfer size, bytes.
    pub payload_transfer_size: u32,
    /// Payload transfer count.
    pub payload_transfer_count: u32,
    /// Final transfer 1 size, bytes.
    pub final_transfer1_size: u32,
    /// Final transfer 2 size, bytes.
    pub final_transfer2_size: u32,
    /// Maximum trailer size, bytes.
    pub max_trailer_size: u32,
}

impl Sirm {
    /// Decodes the SIRM from a buffer of at least [`sirm::LEN`] bytes.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        need(buf, sirm::LEN, "SIRM")?;
        let mut r = Reader::new(buf, "SIRM");
        Ok(Sirm {
            si_info: r.u32()?,
            si_control: r.u32()?,
            required_payload_size: r.u64()?,
            required_leader_size: r.u32()?,
            required_trailer_size: r.u32()?,
            max_leader_size: r.u32()?,
            payload_transfer_size: r.u32()?,
            payload_transfer_count: r.u32()?,
            final_transfer1_size: r.u32()?,
            final_transfer2_size: r.u32()?,
            max_trailer_size: r.u32()?,
        })
    }

    /// Encodes the SIRM into `out`, returning [`sirm::LEN`].
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, sirm::LEN)?;
        w.u32(self.si_info);
        w.u32(self.si_control);
        w.u64(self.required_payload_size);
        w.u32(self.required_leader_size);
        w.u32(self.required_trailer_size);
        w.u32(self.max_leader_size);
        w.u32(self.payload_transfer_size);
        w.u32(self.payload_transfer_count);
        w.u32(self.final_transfer1_size);
        w.u32(self.final_transfer2_size);
        w.u32(self.max_trailer_size);
        Ok(w.pos())
    }

    /// Appends the encoded SIRM to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
        append_with(out, sirm::LEN, |b| self.encode_into(b))
    }

    /// The alignment exponent (SI info bits 24–31).
    pub const fn alignment_exponent(&self) -> u8 {
        (self.si_info >> 24) as u8
    }

    /// The payload alignment in bytes, 2^exponent; `None` if it does not fit a `u32`.
    pub const fn alignment(&self) -> Option<u32> {
        let e = self.alignment_exponent();
        if e < 32 {
            Some(1u32 << e)
        } else {
            None
        }
    }

    /// Whether streaming is enabled (SI control bit 0).
    pub const fn stream_enabled(&self) -> bool {
        self.si_control & sirm::SI_CONTROL_STREAM_ENABLE != 0
    }

    /// Copies a host sizing into the transfer registers.
    pub fn apply(&mut self, sizing: &StreamSizing) {
        self.payload_transfer_size = sizing.payload_transfer_size;
        self.payload_transfer_count = sizing.payload_transfer_count;
        self.final_transfer1_size = sizing.final_transfer1_size;
        self.final_transfer2_size = sizing.final_transfer2_size;
        self.max_leader_size = sizing.leader_size;
        self.max_trailer_size = sizing.trailer_size;
    }
}

// ---------------------------------------------------------------------------
// EIRM
// ---------------------------------------------------------------------------

/// Event interface register map: offsets from the EIRM address.
pub mod eirm {
    /// EI control (bit 0: event enable), 4 bytes.
    pub const EI_CONTROL: u64 = 0x0;
    /// Maximum event transfer length, 4 bytes.
    pub const MAX_EVENT_TRANSFER_LENGTH: u64 = 0x4;
    /// Event test control, 4 bytes.
    pub const EVENT_TEST_CONTROL: u64 = 0x8;
    /// Length of the map.
    pub const LEN: usize = 0xC;
    /// EI control bit 0: event enable.
    pub const EI_CONTROL_ENABLE: u32 = 1;
}

/// The decoded EIRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Eirm {
    /// EI control.
    pub ei_control: u32,
    /// Maximum event transfer length, bytes.
    pub max_event_transfer_length: u32,
    /// Event test control.
    pub event_test_control: u32,
}

impl Eirm {
    /// Decodes the EIRM from a buffer of at least [`eirm::LEN`] bytes.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        need(buf, eirm::LEN, "EIRM")?;
        let mut r = Reader::new(buf, "EIRM");
        Ok(Eirm {
            ei_control: r.u32()?,
            max_event_transfer_length: r.u32()?,
            event_test_control: r.u32()?,
        })
    }

    /// Encodes the EIRM into `out`, returning [`eirm::LEN`].
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, eirm::LEN)?;
        w.u32(self.ei_control);
        w.u32(self.max_event_transfer_length);
        w.u32(self.event_test_control);
        Ok(w.pos())
    }

    /// Appends the encoded EIRM to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
        append_with(out, eirm::LEN, |b| self.encode_into(b))
    }

    /// Whether events are enabled (EI control bit 0).
    pub const fn enabled(&self) -> bool {
        self.ei_control & eirm::EI_CONTROL_ENABLE != 0
    }
}

// ---------------------------------------------------------------------------
// Host sizing
// ---------------------------------------------------------------------------

/// The SIRM transfer sizes a host writes before enabling the stream.
///
/// [`StreamSizing::compute`] implements the usual host choice:
///
/// * `a` = alignment (a power of two), `m` = `max_transfer` rounded down to `a`;
/// * a payload that fits in one transfer of at most `m` bytes once rounded
///   up to `a` is that one transfer (count 1, no final transfers), so that a
///   whole frame arrives in one host buffer, which a receiver can hand on
///   without copying;
/// * otherwise payload transfer size = the required payload rounded down to
///   `a`, capped at `m`; count = required payload / size; final transfer 1
///   = the remainder rounded up to `a`; final transfer 2 = 0;
/// * a zero payload is all zeros;
/// * leader and trailer buffers are the required sizes rounded up to `a`.
///
/// Guarantees (tested by property tests): every size is a multiple of `a`,
/// the payload transfer size is at most `max_transfer`, the transfers cover
/// the payload with less than `a` bytes to spare, and no input panics or
/// overflows: impossible inputs return a [`SizingError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StreamSizing {
    /// SIRM payload transfer size.
    pub payload_transfer_size: u32,
    /// SIRM payload transfer count.
    pub payload_transfer_count: u32,
    /// SIRM final transfer 1 size.
    pub final_transfer1_size: u32,
    /// SIRM final transfer 2 size.
    pub final_transfer2_size: u32,
    /// Leader buffer size (SIRM maximum leader size).
    pub leader_size: u32,
    /// Trailer buffer size (SIRM maximum trailer size).
    pub trailer_size: u32,
}

impl StreamSizing {
    /// Computes the usual host sizing; see the type docs.
    pub fn compute(
        required_payload: u64,
        required_leader: u32,
        required_trailer: u32,
        alignment: u32,
        max_transfer: u32,
    ) -> Result<Self, SizingError> {
        if !alignment.is_power_of_two() {
            return Err(SizingError::BadAlignment(alignment));
        }
        let a = alignment;
        let m = max_transfer & !(a - 1);
        if m == 0 {
            return Err(SizingError::MaxTransferBelowAlignment {
                max_transfer,
                alignment,
            });
        }
        let round_up = |field: &'static str, v: u32| -> Result<u32, SizingError> {
            v.checked_add(a - 1)
                .map(|x| x & !(a - 1))
                .ok_or(SizingError::Overflow { field, value: v })
        };
        let leader_size = round_up("required_leader", required_leader)?;
        let trailer_size = round_up("required_trailer", required_trailer)?;
        let a64 = u64::from(a);
        let (size, count, final1) = if required_payload == 0 {
            (0, 0, 0)
        } else if required_payload <= u64::from(m) {
            // m is a multiple of a, so rounding up stays <= m.
            let one = (required_payload - 1) / a64 * a64 + a64;
            (one as u32, 1, 0)
        } else {
            let down = required_payload & !(a64 - 1);
            let size = down.min(u64::from(m)) as u32;
            let count = required_payload / u64::from(size);
            let count = u32::try_from(count).map_err(|_| SizingError::TooManyTransfers {
                payload: required_payload,
                transfer_size: size,
            })?;
            // rem < size and size is a multiple of a, so rounding up stays <= size.
            let rem = (required_payload % u64::from(size)) as u32;
            let final1 = if rem == 0 { 0 } else { (rem - 1) / a * a + a };
            (size, count, final1)
        };
        Ok(StreamSizing {
            payload_transfer_size: size,
            payload_transfer_count: count,
            final_transfer1_size: final1,
            final_transfer2_size: 0,
            leader_size,
            trailer_size,
        })
    }

    /// Total payload bytes the transfers can receive.
    pub fn total_payload_capacity(&self) -> u64 {
        u64::from(self.payload_transfer_size) * u64::from(self.payload_transfer_count)
            + u64::from(self.final_transfer1_size)
            + u64::from(self.final_transfer2_size)
    }
}
