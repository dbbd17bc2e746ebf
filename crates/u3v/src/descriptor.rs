//! USB descriptors of a USB3 Vision device: building them for a device model,
//! and walking a configuration blob to find the USB3 Vision interfaces.
//!
//! Layout of the configuration built by [`DeviceDescriptors::new`]:
//!
//! ```text
//! configuration (9)                       wTotalLength = 116, 3 interfaces
//!  interface association (8)              function class 0xEF / 0x05 / 0x00
//!  interface 0 (9)                        control: 0xEF / 0x05 / protocol 0
//!   U3V device info (20)                  type 0x24, subtype 0x01
//!   endpoint 0x01 bulk OUT 1024 (7) + SuperSpeed companion (6)
//!   endpoint 0x81 bulk IN 1024 (7)  + SuperSpeed companion (6)
//!  interface 1 (9)                        event: protocol 1
//!   endpoint 0x82 bulk IN 1024 (7)  + SuperSpeed companion (6)
//!  interface 2 (9)                        streaming: protocol 2
//!   endpoint 0x83 bulk IN 1024 (7)  + SuperSpeed companion (6)
//! ```
//!
//! The device info descriptor layout (20 bytes) is the one Wireshark's
//! `epan/dissectors/packet-u3v.c` (`dissect_u3v_descriptors`) decodes:
//! bLength, bDescriptorType 0x24, bDescriptorSubtype 0x01, bGenCPVersion
//! u32 (major << 16 | minor), bU3VVersion u32, then one-byte string indices
//! iDeviceGUID, iVendorName, iModelName, iFamilyName, iDeviceVersion,
//! iManufacturerInfo, iSerialNumber, iUserDefinedName, and bmSpeedSupport
//! (bit 0 low, 1 full, 2 high, 3 SuperSpeed).
//!
//! [`parse_configuration`] accepts descriptors in any order and ignores the
//! ones it does not know; it requires a well-formed walk (every bLength ≥ 2
//! and inside wTotalLength) and a control interface with bulk IN and OUT.
//! Bytes past wTotalLength are ignored.

use crate::error::{DecodeError, EncodeError};
use crate::wire::{append_with, Reader, Writer};

/// Descriptor type: device.
pub const TYPE_DEVICE: u8 = 0x01;
/// Descriptor type: configuration.
pub const TYPE_CONFIGURATION: u8 = 0x02;
/// Descriptor type: string.
pub const TYPE_STRING: u8 = 0x03;
/// Descriptor type: interface.
pub const TYPE_INTERFACE: u8 = 0x04;
/// Descriptor type: endpoint.
pub const TYPE_ENDPOINT: u8 = 0x05;
/// Descriptor type: interface association.
pub const TYPE_INTERFACE_ASSOCIATION: u8 = 0x0B;
/// Descriptor type: binary device object store.
pub const TYPE_BOS: u8 = 0x0F;
/// Descriptor type: device capability (inside the BOS).
pub const TYPE_DEVICE_CAPABILITY: u8 = 0x10;
/// Descriptor type: SuperSpeed endpoint companion.
pub const TYPE_SS_ENDPOINT_COMPANION: u8 = 0x30;
/// Descriptor type: USB3 Vision class-specific interface descriptor.
pub const TYPE_U3V_INTERFACE: u8 = 0x24;
/// Descriptor subtype: USB3 Vision device info.
pub const SUBTYPE_U3V_DEVICE_INFO: u8 = 0x01;

/// Class code "miscellaneous".
pub const CLASS_MISC: u8 = 0xEF;
/// Device subclass "common class" (with [`PROTOCOL_IAD`]: uses interface association).
pub const SUBCLASS_COMMON: u8 = 0x02;
/// Device protocol "interface association descriptor".
pub const PROTOCOL_IAD: u8 = 0x01;
/// Interface subclass "USB3 Vision".
pub const SUBCLASS_U3V: u8 = 0x05;
/// Interface protocol of the control interface.
pub const PROTOCOL_CONTROL: u8 = 0x00;
/// Interface protocol of the event interface.
pub const PROTOCOL_EVENT: u8 = 0x01;
/// Interface protocol of the streaming interface.
pub const PROTOCOL_STREAM: u8 = 0x02;

/// Length of a device descriptor.
pub const DEVICE_DESCRIPTOR_LEN: usize = 18;
/// Length of the USB3 Vision device info descriptor.
pub const DEVICE_INFO_LEN: usize = 20;
/// SuperSpeed bulk max packet size.
pub const SUPERSPEED_BULK_MAX_PACKET: u16 = 1024;
/// US English, the only language of the built string descriptors.
pub const LANGID_EN_US: u16 = 0x0409;

/// Speed-support bit: low speed.
pub const SPEED_LOW: u8 = 1 << 0;
/// Speed-support bit: full speed.
pub const SPEED_FULL: u8 = 1 << 1;
/// Speed-support bit: high speed.
pub const SPEED_HIGH: u8 = 1 << 2;
/// Speed-support bit: SuperSpeed.
pub const SPEED_SUPER: u8 = 1 << 3;

// ---------------------------------------------------------------------------
// Device descriptor
// ---------------------------------------------------------------------------

/// A standard device descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DeviceDescriptor {
    /// USB version, BCD (0x0320 for USB 3.2).
    pub bcd_usb: u16,
    /// Device class.
    pub class: u8,
    /// Device subclass.
    pub subclass: u8,
    /// Device protocol.
    pub protocol: u8,
    /// bMaxPacketSize0 (an exponent, 9 = 512 bytes, at SuperSpeed).
    pub max_packet_size0: u8,
    /// Vendor id.
    pub vendor_id: u16,
    /// Product id.
    pub product_id: u16,
    /// Device release, BCD.
    pub bcd_device: u16,
    /// Manufacturer string index.
    pub i_manufacturer: u8,
    /// Product string index.
    pub i_product: u8,
    /// Serial number string index.
    pub i_serial_number: u8,
    /// Number of configurations.
    pub num_configurations: u8,
}

impl DeviceDescriptor {
    /// Decodes a device descriptor (at least 18 bytes, type 1).
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "device descriptor";
        let mut r = Reader::new(buf, WHAT);
        let len = r.u8()?;
        let ty = r.u8()?;
        if ty != TYPE_DEVICE {
            return Err(DecodeError::InvalidField {
                what: WHAT,
                field: "bDescriptorType",
                reason: "not 1",
            });
        }
        if usize::from(len) < DEVICE_DESCRIPTOR_LEN {
            return Err(DecodeError::BadLength {
                what: WHAT,
                field: "bLength",
                value: u64::from(len),
                reason: "below 18",
            });
        }
        Ok(DeviceDescriptor {
            bcd_usb: r.u16()?,
            class: r.u8()?,
            subclass: r.u8()?,
            protocol: r.u8()?,
            max_packet_size0: r.u8()?,
            vendor_id: r.u16()?,
            product_id: r.u16()?,
            bcd_device: r.u16()?,
            i_manufacturer: r.u8()?,
            i_product: r.u8()?,
            i_serial_number: r.u8()?,
            num_configurations: r.u8()?,
        })
    }

    /// Encodes the descriptor into `out`, returning 18.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, DEVICE_DESCRIPTOR_LEN)?;
        w.u8(DEVICE_DESCRIPTOR_LEN as u8);
        w.u8(TYPE_DEVICE);
        w.u16(self.bcd_usb);
        w.u8(self.class);
        w.u8(self.subclass);
        w.u8(self.protocol);
        w.u8(self.max_packet_size0);
        w.u16(self.vendor_id);
        w.u16(self.product_id);
        w.u16(self.bcd_device);
        w.u8(self.i_manufacturer);
        w.u8(self.i_product);
        w.u8(self.i_serial_number);
        w.u8(self.num_configurations);
        Ok(w.pos())
    }

    /// Whether the class triple is the one USB3 Vision devices use (0xEF/0x02/0x01).
    pub fn is_iad_device(&self) -> bool {
        self.class == CLASS_MISC
            && self.subclass == SUBCLASS_COMMON
            && self.protocol == PROTOCOL_IAD
    }
}

// ---------------------------------------------------------------------------
// Device info descriptor
// ---------------------------------------------------------------------------

/// The USB3 Vision device info descriptor (class-specific, after the control interface).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DeviceInfoDescriptor {
    /// GenCP version (major << 16 | minor).
    pub gencp_version: u32,
    /// USB3 Vision version (major << 16 | minor).
    pub u3v_version: u32,
    /// String index of the device GUID.
    pub i_device_guid: u8,
    /// String index of the vendor name.
    pub i_vendor_name: u8,
    /// String index of the model name.
    pub i_model_name: u8,
    /// String index of the family name (0: none).
    pub i_family_name: u8,
    /// String index of the device version.
    pub i_device_version: u8,
    /// String index of the manufacturer info.
    pub i_manufacturer_info: u8,
    /// String index of the serial number.
    pub i_serial_number: u8,
    /// String index of the user-defined name (0: none).
    pub i_user_defined_name: u8,
    /// Supported speeds ([`SPEED_SUPER`] etc.).
    pub speed_support: u8,
}

impl DeviceInfoDescriptor {
    /// Decodes the descriptor (bLength ≥ 20; extra bytes are ignored).
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "U3V device info descriptor";
        let mut r = Reader::new(buf, WHAT);
        let len = r.u8()?;
        if r.u8()? != TYPE_U3V_INTERFACE {
            return Err(DecodeError::InvalidField {
                what: WHAT,
                field: "bDescriptorType",
                reason: "not 0x24",
            });
        }
        if r.u8()? != SUBTYPE_U3V_DEVICE_INFO {
            return Err(DecodeError::InvalidField {
                what: WHAT,
                field: "bDescriptorSubtype",
                reason: "not 0x01",
            });
        }
        if usize::from(len) < DEVICE_INFO_LEN {
            return Err(DecodeError::BadLength {
                what: WHAT,
                field: "bLength",
                value: u64::from(len),
                reason: "below 20",
            });
        }
        Ok(DeviceInfoDescriptor {
            gencp_version: r.u32()?,
            u3v_version: r.u32()?,
            i_device_guid: r.u8()?,
            i_vendor_name: r.u8()?,
            i_model_name: r.u8()?,
            i_family_name: r.u8()?,
            i_device_version: r.u8()?,
            i_manufacturer_info: r.u8()?,
            i_serial_number: r.u8()?,
            i_user_defined_name: r.u8()?,
            speed_support: r.u8()?,
        })
    }

    /// Encodes the descriptor into `out`, returning 20.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, DEVICE_INFO_LEN)?;
        w.u8(DEVICE_INFO_LEN as u8);
        w.u8(TYPE_U3V_INTERFACE);
        w.u8(SUBTYPE_U3V_DEVICE_INFO);
        w.u32(self.gencp_version);
        w.u32(self.u3v_version);
        for i in [
            self.i_device_guid,
            self.i_vendor_name,
            self.i_model_name,
            self.i_family_name,
            self.i_device_version,
            self.i_manufacturer_info,
            self.i_serial_number,
            self.i_user_defined_name,
            self.speed_support,
        ] {
            w.u8(i);
        }
        Ok(w.pos())
    }
}

// ---------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------

/// Decodes a string descriptor (UTF-16LE); unpaired surrogates become U+FFFD.
pub fn decode_string_descriptor(buf: &[u8]) -> Result<String, DecodeError> {
    let units = string_units(buf, "string descriptor")?;
    Ok(char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect())
}

/// Decodes string descriptor 0: the list of supported language ids.
pub fn decode_language_ids(buf: &[u8]) -> Result<Vec<u16>, DecodeError> {
    Ok(string_units(buf, "language id descriptor")?.collect())
}

fn string_units<'a>(
    buf: &'a [u8],
    what: &'static str,
) -> Result<impl Iterator<Item = u16> + 'a, DecodeError> {
    let mut r = Reader::new(buf, what);
    let len = usize::from(r.u8()?);
    if r.u8()? != TYPE_STRING {
        return Err(DecodeError::InvalidField {
            what,
            field: "bDescriptorType",
            reason: "not 3",
        });
    }
    if len < 2 || len % 2 != 0 {
        return Err(DecodeError::BadLength {
            what,
            field: "bLength",
            value: len as u64,
            reason: "not an even length >= 2",
        });
    }
    if buf.len() < len {
        return Err(DecodeError::Truncated {
            what,
            needed: len,
            available: buf.len(),
        });
    }
    let body = buf.get(2..len).unwrap_or(&[]);
    Ok(body.chunks_exact(2).map(|c| {
        u16::from_le_bytes([
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        ])
    }))
}

/// Appends a string descriptor for `s` (at most 126 UTF-16 units) to `out`.
pub fn encode_string_descriptor(s: &str, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
    let units: Vec<u16> = s.encode_utf16().collect();
    let len = 2 + 2 * units.len();
    if len > 255 {
        return Err(EncodeError::TooLarge {
            what: "string descriptor",
            field: "bLength",
            value: len as u64,
            max: 254,
        });
    }
    append_with(out, len, |b| {
        let mut w = Writer::new(b, len)?;
        w.u8(len as u8);
        w.u8(TYPE_STRING);
        for u in &units {
            w.u16(*u);
        }
        Ok(w.pos())
    })
}

// ---------------------------------------------------------------------------
// Builder
// ---------------------------------------------------------------------------

/// What a device model tells [`DeviceDescriptors::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdentity {
    /// USB vendor id.
    pub vendor_id: u16,
    /// USB product id.
    pub product_id: u16,
    /// Device release, BCD.
    pub bcd_device: u16,
    /// Manufacturer (USB iManufacturer and U3V vendor name).
    pub manufacturer: String,
    /// Model (USB iProduct and U3V model name).
    pub model: String,
    /// Serial number (USB iSerialNumber and U3V serial number).
    pub serial_number: String,
    /// Device GUID string.
    pub guid: String,
    /// Family name; empty for none (index 0).
    pub family_name: String,
    /// Device version.
    pub device_version: String,
    /// Manufacturer info.
    pub manufacturer_info: String,
    /// User-defined name; empty for none (index 0).
    pub user_defined_name: String,
    /// GenCP version (major << 16 | minor).
    pub gencp_version: u32,
    /// USB3 Vision version (major << 16 | minor).
    pub u3v_version: u32,
    /// Speed-support bitmask of the device info descriptor.
    pub speed_support: u8,
    /// Maximum power in mA (encoded in 8 mA units).
    pub max_power_ma: u16,
    /// Whether the device is self-powered.
    pub self_powered: bool,
    /// bMaxBurst of the streaming endpoint (0–15).
    pub stream_max_burst: u8,
}

impl DeviceIdentity {
    /// An identity with the usual defaults: GenCP 1.0, U3V 1.0, SuperSpeed,
    /// 896 mA bus power, stream bursts of 16 packets.
    pub fn new(
        vendor_id: u16,
        product_id: u16,
        manufacturer: &str,
        model: &str,
        serial_number: &str,
    ) -> Self {
        DeviceIdentity {
            vendor_id,
            product_id,
            bcd_device: 0x0100,
            manufacturer: manufacturer.to_owned(),
            model: model.to_owned(),
            serial_number: serial_number.to_owned(),
            guid: format!("{vendor_id:04X}{serial_number}"),
            family_name: String::new(),
            device_version: "1.0".to_owned(),
            manufacturer_info: String::new(),
            user_defined_name: String::new(),
            gencp_version: 1 << 16,
            u3v_version: 1 << 16,
            speed_support: SPEED_SUPER,
            max_power_ma: 896,
            self_powered: false,
            stream_max_burst: 15,
        }
    }
}

/// The complete descriptor set of a USB3 Vision device, ready to answer
/// GET_DESCRIPTOR requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDescriptors {
    device: [u8; DEVICE_DESCRIPTOR_LEN],
    configuration: Vec<u8>,
    bos: Vec<u8>,
    /// Encoded string descriptors; index 0 is the language id table.
    strings: Vec<Vec<u8>>,
}

impl DeviceDescriptors {
    /// Interface number of the control interface.
    pub const CONTROL_INTERFACE: u8 = 0;
    /// Interface number of the event interface.
    pub const EVENT_INTERFACE: u8 = 1;
    /// Interface number of the streaming interface.
    pub const STREAM_INTERFACE: u8 = 2;
    /// Control bulk OUT endpoint.
    pub const CONTROL_OUT_EP: u8 = 0x01;
    /// Control bulk IN endpoint.
    pub const CONTROL_IN_EP: u8 = 0x81;
    /// Event bulk IN endpoint.
    pub const EVENT_IN_EP: u8 = 0x82;
    /// Streaming bulk IN endpoint.
    pub const STREAM_IN_EP: u8 = 0x83;
    /// bConfigurationValue of the only configuration.
    pub const CONFIGURATION_VALUE: u8 = 1;

    /// Builds the descriptors of a device.
    pub fn new(id: &DeviceIdentity) -> Result<Self, EncodeError> {
        if id.stream_max_burst > 15 {
            return Err(EncodeError::TooLarge {
                what: "endpoint companion",
                field: "bMaxBurst",
                value: u64::from(id.stream_max_burst),
                max: 15,
            });
        }
        let mut texts: Vec<String> = Vec::new();
        let mut index = |s: &str| -> Result<u8, EncodeError> {
            if s.is_empty() {
                return Ok(0);
            }
            if let Some(p) = texts.iter().position(|t| t == s) {
                return Ok((p + 1) as u8);
            }
            if texts.len() >= 254 {
                return Err(EncodeError::TooLarge {
                    what: "string descriptors",
                    field: "index",
                    value: 255,
                    max: 254,
                });
            }
            texts.push(s.to_owned());
            Ok(texts.len() as u8)
        };
        let i_manufacturer = index(&id.manufacturer)?;
        let i_product = index(&id.model)?;
        let i_serial = index(&id.serial_number)?;
        let info = DeviceInfoDescriptor {
            gencp_version: id.gencp_version,
            u3v_version: id.u3v_version,
            i_device_guid: index(&id.guid)?,
            i_vendor_name: i_manufacturer,
            i_model_name: i_product,
            i_family_name: index(&id.family_name)?,
            i_device_version: index(&id.device_version)?,
            i_manufacturer_info: index(&id.manufacturer_info)?,
            i_serial_number: i_serial,
            i_user_defined_name: index(&id.user_defined_name)?,
            speed_support: id.speed_support,
        };

        let mut strings = Vec::with_capacity(texts.len() + 1);
        strings.push(vec![
            4,
            TYPE_STRING,
            LANGID_EN_US as u8,
            (LANGID_EN_US >> 8) as u8,
        ]);
        for t in &texts {
            let mut v = Vec::new();
            encode_string_descriptor(t, &mut v)?;
            strings.push(v);
        }

        let dev = DeviceDescriptor {
            bcd_usb: 0x0320,
            class: CLASS_MISC,
            subclass: SUBCLASS_COMMON,
            protocol: PROTOCOL_IAD,
            max_packet_size0: 9,
            vendor_id: id.vendor_id,
            product_id: id.product_id,
            bcd_device: id.bcd_device,
            i_manufacturer,
            i_product,
            i_serial_number: i_serial,
            num_configurations: 1,
        };
        let mut device = [0u8; DEVICE_DESCRIPTOR_LEN];
        dev.encode_into(&mut device)?;

        let mut c: Vec<u8> = Vec::with_capacity(128);
        let max_power = id.max_power_ma.div_ceil(8).min(255) as u8;
        let attributes = 0x80 | if id.self_powered { 0x40 } else { 0 };
        c.extend_from_slice(&[
            9,
            TYPE_CONFIGURATION,
            0,
            0,
            3,
            Self::CONFIGURATION_VALUE,
            0,
            attributes,
            max_power,
        ]);
        c.extend_from_slice(&[
            8,
            TYPE_INTERFACE_ASSOCIATION,
            0,
            3,
            CLASS_MISC,
            SUBCLASS_U3V,
            0,
            0,
        ]);
        let iface = |c: &mut Vec<u8>, n: u8, eps: u8, proto: u8| {
            c.extend_from_slice(&[
                9,
                TYPE_INTERFACE,
                n,
                0,
                eps,
                CLASS_MISC,
                SUBCLASS_U3V,
                proto,
                0,
            ]);
        };
        let ep = |c: &mut Vec<u8>, addr: u8, burst: u8| {
            let mps = SUPERSPEED_BULK_MAX_PACKET.to_le_bytes();
            c.extend_from_slice(&[7, TYPE_ENDPOINT, addr, 0x02, mps[0], mps[1], 0]);
            c.extend_from_slice(&[6, TYPE_SS_ENDPOINT_COMPANION, burst, 0, 0, 0]);
        };
        iface(&mut c, Self::CONTROL_INTERFACE, 2, PROTOCOL_CONTROL);
        let mut di = [0u8; DEVICE_INFO_LEN];
        info.encode_into(&mut di)?;
        c.extend_from_slice(&di);
        ep(&mut c, Self::CONTROL_OUT_EP, 0);
        ep(&mut c, Self::CONTROL_IN_EP, 0);
        iface(&mut c, Self::EVENT_INTERFACE, 1, PROTOCOL_EVENT);
        ep(&mut c, Self::EVENT_IN_EP, 0);
        iface(&mut c, Self::STREAM_INTERFACE, 1, PROTOCOL_STREAM);
        ep(&mut c, Self::STREAM_IN_EP, id.stream_max_burst);
        let total = (c.len() as u16).to_le_bytes();
        if let Some(t) = c.get_mut(2..4) {
            t.copy_from_slice(&total);
        }

        // BOS: USB 2.0 extension (LPM) and SuperSpeed device capability.
        let mut bos = vec![5, TYPE_BOS, 0, 0, 2];
        bos.extend_from_slice(&[7, TYPE_DEVICE_CAPABILITY, 0x02, 0x02, 0, 0, 0]);
        let speeds = u16::from(id.speed_support & 0x0F).to_le_bytes();
        bos.extend_from_slice(&[
            10,
            TYPE_DEVICE_CAPABILITY,
            0x03,
            0,
            speeds[0],
            speeds[1],
            3,
            0x0A,
            0xFF,
            0x07,
        ]);
        let total = (bos.len() as u16).to_le_bytes();
        if let Some(t) = bos.get_mut(2..4) {
            t.copy_from_slice(&total);
        }

        Ok(DeviceDescriptors {
            device,
            configuration: c,
            bos,
            strings,
        })
    }

    /// The device descriptor.
    pub fn device(&self) -> &[u8] {
        &self.device
    }

    /// The full configuration descriptor blob (wTotalLength bytes).
    pub fn configuration(&self) -> &[u8] {
        &self.configuration
    }

    /// The BOS descriptor blob.
    pub fn bos(&self) -> &[u8] {
        &self.bos
    }

    /// String descriptor `index` (0 is the language id table).
    pub fn string(&self, index: u8) -> Option<&[u8]> {
        self.strings.get(usize::from(index)).map(Vec::as_slice)
    }

    /// Answers a GET_DESCRIPTOR request (`wValue` high byte = type, low byte = index).
    pub fn get_descriptor(&self, descriptor_type: u8, index: u8) -> Option<&[u8]> {
        match (descriptor_type, index) {
            (TYPE_DEVICE, 0) => Some(self.device()),
            (TYPE_CONFIGURATION, 0) => Some(self.configuration()),
            (TYPE_BOS, 0) => Some(self.bos()),
            (TYPE_STRING, i) => self.string(i),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

/// An endpoint found in a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EndpointInfo {
    /// bEndpointAddress (bit 7 set for IN).
    pub address: u8,
    /// bmAttributes (bits 0–1: transfer type, 2 = bulk).
    pub attributes: u8,
    /// wMaxPacketSize.
    pub max_packet_size: u16,
    /// bMaxBurst from the SuperSpeed companion, if one follows the endpoint.
    pub max_burst: Option<u8>,
}

impl EndpointInfo {
    /// Whether this is an IN endpoint.
    pub const fn is_in(&self) -> bool {
        self.address & 0x80 != 0
    }

    /// Whether this is a bulk endpoint.
    pub const fn is_bulk(&self) -> bool {
        self.attributes & 0x03 == 0x02
    }
}

/// The USB3 Vision control interface of a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ControlInterface {
    /// Interface number.
    pub interface: u8,
    /// Bulk IN endpoint (acknowledges).
    pub bulk_in: EndpointInfo,
    /// Bulk OUT endpoint (commands).
    pub bulk_out: EndpointInfo,
    /// The device info descriptor, if the device provides one.
    pub device_info: Option<DeviceInfoDescriptor>,
}

/// The USB3 Vision event or streaming interface of a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataInterface {
    /// Interface number.
    pub interface: u8,
    /// Bulk IN endpoint.
    pub bulk_in: EndpointInfo,
}

/// The USB3 Vision interfaces found in a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct U3vConfiguration {
    /// bConfigurationValue to select.
    pub configuration_value: u8,
    /// The control interface.
    pub control: ControlInterface,
    /// The event interface, if any.
    pub event: Option<DataInterface>,
    /// The streaming interface, if any.
    pub stream: Option<DataInterface>,
}

#[derive(Default)]
struct Found {
    interface: u8,
    endpoints: Vec<EndpointInfo>,
    device_info: Option<DeviceInfoDescriptor>,
}

const WHAT_CFG: &str = "configuration descriptor";

/// Walks a configuration blob and finds the USB3 Vision interfaces.
///
/// Only alternate setting 0 of interfaces with class 0xEF, subclass 0x05 is
/// considered; the first interface of each protocol wins.
pub fn parse_configuration(blob: &[u8]) -> Result<U3vConfiguration, DecodeError> {
    let mut r = Reader::new(blob, WHAT_CFG);
    let len = r.u8()?;
    let ty = r.u8()?;
    if ty != TYPE_CONFIGURATION {
        return Err(DecodeError::InvalidField {
            what: WHAT_CFG,
            field: "bDescriptorType",
            reason: "not 2",
        });
    }
    if len < 9 {
        return Err(DecodeError::BadLength {
            what: WHAT_CFG,
            field: "bLength",
            value: u64::from(len),
            reason: "below 9",
        });
    }
    let total = usize::from(r.u16()?);
    r.skip(1)?;
    let configuration_value = r.u8()?;
    if total < usize::from(len) {
        return Err(DecodeError::BadLength {
            what: WHAT_CFG,
            field: "wTotalLength",
            value: total as u64,
            reason: "below the configuration descriptor's own length",
        });
    }
    let body = blob.get(..total).ok_or(DecodeError::Truncated {
        what: WHAT_CFG,
        needed: total,
        available: blob.len(),
    })?;

    // Slots: control, event, stream.
    let mut found: [Option<Found>; 3] = [None, None, None];
    // Index into `found` of the interface being walked, if it is a U3V one we keep.
    let mut current: Option<usize> = None;
    let mut pos = 0usize;
    while pos < total {
        let d = body.get(pos..).unwrap_or(&[]);
        let (dlen, dtype) = match d {
            [l, t, ..] => (usize::from(*l), *t),
            _ => {
                return Err(DecodeError::BadLength {
                    what: WHAT_CFG,
                    field: "wTotalLength",
                    value: total as u64,
                    reason: "ends inside a descriptor header",
                })
            }
        };
        if dlen < 2 {
            return Err(DecodeError::BadLength {
                what: WHAT_CFG,
                field: "bLength",
                value: dlen as u64,
                reason: "a descriptor is at least 2 bytes",
            });
        }
        let desc = d.get(..dlen).ok_or(DecodeError::BadLength {
            what: WHAT_CFG,
            field: "bLength",
            value: dlen as u64,
            reason: "descriptor runs past wTotalLength",
        })?;
        match dtype {
            TYPE_INTERFACE => {
                let [_, _, number, alt, _, class, subclass, protocol, ..] = *desc else {
                    return Err(DecodeError::BadLength {
                        what: "interface descriptor",
                        field: "bLength",
                        value: dlen as u64,
                        reason: "below 9",
                    });
                };
                if dlen < 9 {
                    return Err(DecodeError::BadLength {
                        what: "interface descriptor",
                        field: "bLength",
                        value: dlen as u64,
                        reason: "below 9",
                    });
                }
                current = None;
                if class == CLASS_MISC && subclass == SUBCLASS_U3V && alt == 0 {
                    let slot = match protocol {
                        PROTOCOL_CONTROL => Some(0),
                        PROTOCOL_EVENT => Some(1),
                        PROTOCOL_STREAM => Some(2),
                        _ => None,
                    };
                    if let Some(s) = slot {
                        if let Some(f @ None) = found.get_mut(s) {
                            *f = Some(Found {
                                interface: number,
                                ..Found::default()
                            });
                            current = Some(s);
                        }
                    }
                }
            }
            TYPE_ENDPOINT => {
                let [_, _, address, attributes, lo, hi, ..] = *desc else {
                    return Err(DecodeError::BadLength {
                        what: "endpoint descriptor",
                        field: "bLength",
                        value: dlen as u64,
                        reason: "below 7",
                    });
                };
                if dlen < 7 {
                    return Err(DecodeError::BadLength {
                        what: "endpoint descriptor",
                        field: "bLength",
                        value: dlen as u64,
                        reason: "below 7",
                    });
                }
                if let Some(f) = current
                    .and_then(|s| found.get_mut(s))
                    .and_then(Option::as_mut)
                {
                    f.endpoints.push(EndpointInfo {
                        address,
                        attributes,
                        max_packet_size: u16::from_le_bytes([lo, hi]),
                        max_burst: None,
                    });
                }
            }
            TYPE_SS_ENDPOINT_COMPANION => {
                let [_, _, burst, ..] = *desc else {
                    return Err(DecodeError::BadLength {
                        what: "endpoint companion descriptor",
                        field: "bLength",
                        value: dlen as u64,
                        reason: "below 6",
                    });
                };
                if dlen < 6 {
                    return Err(DecodeError::BadLength {
                        what: "endpoint companion descriptor",
                        field: "bLength",
                        value: dlen as u64,
                        reason: "below 6",
                    });
                }
                if let Some(f) = current
                    .and_then(|s| found.get_mut(s))
                    .and_then(Option::as_mut)
                {
                    if let Some(ep) = f.endpoints.last_mut() {
                        ep.max_burst = Some(burst);
                    }
                }
            }
            TYPE_U3V_INTERFACE
                if current == Some(0) && desc.get(2) == Some(&SUBTYPE_U3V_DEVICE_INFO) =>
            {
                let info = DeviceInfoDescriptor::decode(desc)?;
                if let Some(Some(f)) = found.get_mut(0) {
                    f.device_info.get_or_insert(info);
                }
            }
            _ => {}
        }
        pos += dlen;
    }

    let [control, event, stream] = found;
    let control = control.ok_or(DecodeError::InvalidField {
        what: WHAT_CFG,
        field: "interfaces",
        reason: "no USB3 Vision control interface",
    })?;
    let bulk = |f: &Found, want_in: bool| {
        f.endpoints
            .iter()
            .copied()
            .find(|e| e.is_bulk() && e.is_in() == want_in)
    };
    let control = ControlInterface {
        interface: control.interface,
        bulk_in: bulk(&control, true).ok_or(DecodeError::InvalidField {
            what: WHAT_CFG,
            field: "control interface",
            reason: "no bulk IN endpoint",
        })?,
        bulk_out: bulk(&control, false).ok_or(DecodeError::InvalidField {
            what: WHAT_CFG,
            field: "control interface",
            reason: "no bulk OUT endpoint",
        })?,
        device_info: control.device_info,
    };
    let data =
        |f: Option<Found>, field: &'static str| -> Result<Option<DataInterface>, DecodeError> {
            match f {
                None => Ok(None),
                Some(f) => Ok(Some(DataInterface {
                    interface: f.interface,
                    bulk_in: bulk(&f, true).ok_or(DecodeError::InvalidField {
                        what: WHAT_CFG,
                        field,
                        reason: "no bulk IN endpoint",
                    })?,
                })),
            }
        };
    Ok(U3vConfiguration {
        configuration_value,
        control,
        event: data(event, "event interface")?,
        stream: data(stream, "streaming interface")?,
    })
}
