//! Operation messages: the device list and the import handshake.
//!
//! Every operation message starts with the 8-byte common header
//! (`struct op_common` of the kernel's userspace tools): the protocol version
//! (0x0111), a 16-bit command or reply code and a 32-bit status, all
//! big-endian. Requests carry status 0; replies carry one of the `ST_*`
//! codes.
//!
//! ```text
//! OP_REQ_DEVLIST  header
//! OP_REP_DEVLIST  header, u32 n, n x (device block, bNumInterfaces x interface)
//! OP_REQ_IMPORT   header, busid[32]
//! OP_REP_IMPORT   header, device block (only when status is ST_OK)
//! ```
//!
//! The device block is `struct usbip_usb_device` (312 bytes): `path[256]`,
//! `busid[32]`, busnum, devnum, speed (u32 each), idVendor, idProduct,
//! bcdDevice (u16 each), then six single bytes. An interface entry is
//! `struct usbip_usb_interface` (4 bytes: class, subclass, protocol, padding).
//!
//! [`decode`] works on a growing buffer and returns `Ok(None)` until a whole
//! message is present; it never allocates in proportion to a count field it
//! has not yet seen the bytes for.

use crate::error::Error;

/// Protocol version carried by every operation header (v1.1.1).
pub const USBIP_VERSION: u16 = 0x0111;

/// Request the list of exported devices.
pub const OP_REQ_DEVLIST: u16 = 0x8005;
/// Reply with the list of exported devices.
pub const OP_REP_DEVLIST: u16 = 0x0005;
/// Request to import (attach) an exported device.
pub const OP_REQ_IMPORT: u16 = 0x8003;
/// Reply to an import request.
pub const OP_REP_IMPORT: u16 = 0x0003;

/// Operation status: success.
pub const ST_OK: u32 = 0x00;
/// Operation status: the requested device is not available.
pub const ST_NA: u32 = 0x01;
/// Operation status: the requested device is busy (already imported).
pub const ST_DEV_BUSY: u32 = 0x02;
/// Operation status: the requested device is in an error state.
pub const ST_DEV_ERR: u32 = 0x03;
/// Operation status: no such device.
pub const ST_NODEV: u32 = 0x04;
/// Operation status: unspecified error.
pub const ST_ERROR: u32 = 0x05;

/// Length of the common operation header.
pub const OP_HEADER_LEN: usize = 8;
/// Size of the NUL-padded `path` field.
pub const PATH_LEN: usize = 256;
/// Size of the NUL-padded `busid` field.
pub const BUSID_LEN: usize = 32;
/// Size of a device block (`struct usbip_usb_device`).
pub const DEVICE_INFO_LEN: usize = 0x138;
/// Size of an interface entry (`struct usbip_usb_interface`).
pub const INTERFACE_INFO_LEN: usize = 4;
/// Largest device count accepted in an OP_REP_DEVLIST.
pub const MAX_DEVLIST_DEVICES: u32 = 4096;

/// USB device speed, as the kernel's `enum usb_device_speed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u32)]
pub enum Speed {
    /// `USB_SPEED_UNKNOWN` (0).
    #[default]
    Unknown = 0,
    /// `USB_SPEED_LOW` (1): 1.5 Mbit/s.
    Low = 1,
    /// `USB_SPEED_FULL` (2): 12 Mbit/s.
    Full = 2,
    /// `USB_SPEED_HIGH` (3): 480 Mbit/s.
    High = 3,
    /// `USB_SPEED_WIRELESS` (4): wireless USB.
    Wireless = 4,
    /// `USB_SPEED_SUPER` (5): 5 Gbit/s.
    Super = 5,
    /// `USB_SPEED_SUPER_PLUS` (6): 10 Gbit/s and above.
    SuperPlus = 6,
}

impl Speed {
    /// Wire value of the speed.
    pub const fn to_u32(self) -> u32 {
        self as u32
    }

    /// Speed for a wire value, `None` if the kernel defines no such speed.
    pub const fn from_u32(value: u32) -> Option<Speed> {
        Some(match value {
            0 => Speed::Unknown,
            1 => Speed::Low,
            2 => Speed::Full,
            3 => Speed::High,
            4 => Speed::Wireless,
            5 => Speed::Super,
            6 => Speed::SuperPlus,
            _ => return None,
        })
    }
}

/// One exported USB device (`struct usbip_usb_device`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsbDeviceInfo {
    /// Path of the device on the exporting host, e.g.
    /// `/sys/devices/pci0000:00/0000:00:1d.1/usb3/3-2` (at most 255 bytes).
    pub path: String,
    /// Bus ID of the device, e.g. `3-2` (at most 31 bytes).
    pub busid: String,
    /// Bus number.
    pub busnum: u32,
    /// Device number on the bus.
    pub devnum: u32,
    /// Connection speed.
    pub speed: Speed,
    /// `idVendor` of the device descriptor.
    pub id_vendor: u16,
    /// `idProduct` of the device descriptor.
    pub id_product: u16,
    /// `bcdDevice` of the device descriptor.
    pub bcd_device: u16,
    /// `bDeviceClass`.
    pub device_class: u8,
    /// `bDeviceSubClass`.
    pub device_subclass: u8,
    /// `bDeviceProtocol`.
    pub device_protocol: u8,
    /// `bConfigurationValue` of the active configuration.
    pub configuration_value: u8,
    /// `bNumConfigurations`.
    pub num_configurations: u8,
    /// `bNumInterfaces` of the active configuration.
    pub num_interfaces: u8,
}

impl UsbDeviceInfo {
    /// The `devid` a client puts in URB headers for this device:
    /// `(busnum << 16) | devnum`.
    pub const fn devid(&self) -> u32 {
        (self.busnum << 16) | self.devnum
    }

    /// Appends the 312-byte device block.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        put_string(out, "path", &self.path, PATH_LEN)?;
        put_string(out, "busid", &self.busid, BUSID_LEN)?;
        out.extend_from_slice(&self.busnum.to_be_bytes());
        out.extend_from_slice(&self.devnum.to_be_bytes());
        out.extend_from_slice(&self.speed.to_u32().to_be_bytes());
        out.extend_from_slice(&self.id_vendor.to_be_bytes());
        out.extend_from_slice(&self.id_product.to_be_bytes());
        out.extend_from_slice(&self.bcd_device.to_be_bytes());
        out.extend_from_slice(&[
            self.device_class,
            self.device_subclass,
            self.device_protocol,
            self.configuration_value,
            self.num_configurations,
            self.num_interfaces,
        ]);
        Ok(())
    }

    /// Decodes a device block from the first [`DEVICE_INFO_LEN`] bytes of
    /// `buf`; `Ok(None)` if `buf` is shorter.
    pub fn decode(buf: &[u8]) -> Result<Option<UsbDeviceInfo>, Error> {
        let Some(block) = buf.get(..DEVICE_INFO_LEN) else {
            return Ok(None);
        };
        let mut r = Reader(block);
        let path = r.string("path", PATH_LEN)?;
        let busid = r.string("busid", BUSID_LEN)?;
        let busnum = r.u32()?;
        let devnum = r.u32()?;
        let speed_raw = r.u32()?;
        let speed = Speed::from_u32(speed_raw).ok_or(Error::InvalidField {
            field: "speed",
            value: i64::from(speed_raw),
        })?;
        Ok(Some(UsbDeviceInfo {
            path,
            busid,
            busnum,
            devnum,
            speed,
            id_vendor: r.u16()?,
            id_product: r.u16()?,
            bcd_device: r.u16()?,
            device_class: r.u8()?,
            device_subclass: r.u8()?,
            device_protocol: r.u8()?,
            configuration_value: r.u8()?,
            num_configurations: r.u8()?,
            num_interfaces: r.u8()?,
        }))
    }
}

/// One interface of an exported device (`struct usbip_usb_interface`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct InterfaceInfo {
    /// `bInterfaceClass`.
    pub class: u8,
    /// `bInterfaceSubClass`.
    pub subclass: u8,
    /// `bInterfaceProtocol`.
    pub protocol: u8,
}

impl InterfaceInfo {
    /// The 4 wire bytes (the padding byte is zero).
    pub const fn to_bytes(self) -> [u8; INTERFACE_INFO_LEN] {
        [self.class, self.subclass, self.protocol, 0]
    }

    /// Decodes an interface entry; the padding byte is ignored.
    pub const fn from_bytes(b: [u8; INTERFACE_INFO_LEN]) -> InterfaceInfo {
        InterfaceInfo {
            class: b[0],
            subclass: b[1],
            protocol: b[2],
        }
    }
}

/// A device entry of OP_REP_DEVLIST: the device block and its interfaces.
///
/// On encode, `info.num_interfaces` must equal `interfaces.len()`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportedDevice {
    /// The device block.
    pub info: UsbDeviceInfo,
    /// One entry per interface of the active configuration.
    pub interfaces: Vec<InterfaceInfo>,
}

/// An operation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpMessage {
    /// OP_REQ_DEVLIST: ask for the exported devices.
    ReqDevlist,
    /// OP_REP_DEVLIST: the exported devices. A non-OK `status` ends the
    /// message after the header (and `devices` must then be empty).
    RepDevlist {
        /// Reply status (`ST_*`), [`ST_OK`] in practice.
        status: u32,
        /// The exported devices.
        devices: Vec<ExportedDevice>,
    },
    /// OP_REQ_IMPORT: import the device with this bus ID.
    ReqImport {
        /// Bus ID of the device to import (at most 31 bytes).
        busid: String,
    },
    /// OP_REP_IMPORT: the result of an import. The device block is present
    /// if and only if `status` is [`ST_OK`].
    RepImport {
        /// Reply status (`ST_*`).
        status: u32,
        /// The imported device, present exactly when `status == ST_OK`.
        device: Option<UsbDeviceInfo>,
    },
}

impl OpMessage {
    /// The command or reply code of the message.
    pub const fn code(&self) -> u16 {
        match self {
            OpMessage::ReqDevlist => OP_REQ_DEVLIST,
            OpMessage::RepDevlist { .. } => OP_REP_DEVLIST,
            OpMessage::ReqImport { .. } => OP_REQ_IMPORT,
            OpMessage::RepImport { .. } => OP_REP_IMPORT,
        }
    }

    /// The status field of the header (0 for requests).
    pub const fn status(&self) -> u32 {
        match self {
            OpMessage::ReqDevlist | OpMessage::ReqImport { .. } => 0,
            OpMessage::RepDevlist { status, .. } | OpMessage::RepImport { status, .. } => *status,
        }
    }

    /// Appends the wire bytes of the message to `out`. On error nothing
    /// useful has been appended (`out` may hold a partial message).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(&USBIP_VERSION.to_be_bytes());
        out.extend_from_slice(&self.code().to_be_bytes());
        out.extend_from_slice(&self.status().to_be_bytes());
        match self {
            OpMessage::ReqDevlist => {}
            OpMessage::RepDevlist { status, devices } => {
                if *status != ST_OK {
                    if !devices.is_empty() {
                        return Err(Error::Inconsistent(
                            "OP_REP_DEVLIST with an error status carries no devices",
                        ));
                    }
                    return Ok(());
                }
                let n = u32::try_from(devices.len())
                    .ok()
                    .filter(|n| *n <= MAX_DEVLIST_DEVICES)
                    .ok_or(Error::TooLarge {
                        field: "number of exported devices",
                        value: devices.len() as u64,
                        max: u64::from(MAX_DEVLIST_DEVICES),
                    })?;
                out.extend_from_slice(&n.to_be_bytes());
                for dev in devices {
                    if usize::from(dev.info.num_interfaces) != dev.interfaces.len() {
                        return Err(Error::LengthMismatch {
                            field: "bNumInterfaces",
                            expected: u64::from(dev.info.num_interfaces),
                            actual: dev.interfaces.len() as u64,
                        });
                    }
                    dev.info.encode(out)?;
                    for i in &dev.interfaces {
                        out.extend_from_slice(&i.to_bytes());
                    }
                }
            }
            OpMessage::ReqImport { busid } => put_string(out, "busid", busid, BUSID_LEN)?,
            OpMessage::RepImport { status, device } => match (*status == ST_OK, device) {
                (true, Some(dev)) => dev.encode(out)?,
                (false, None) => {}
                (true, None) => {
                    return Err(Error::Inconsistent(
                        "OP_REP_IMPORT with status ST_OK needs the device block",
                    ))
                }
                (false, Some(_)) => {
                    return Err(Error::Inconsistent(
                        "OP_REP_IMPORT with an error status carries no device block",
                    ))
                }
            },
        }
        Ok(())
    }

    /// The wire bytes of the message in a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out)?;
        Ok(out)
    }

    /// Number of bytes [`OpMessage::encode`] appends.
    pub fn encoded_len(&self) -> usize {
        OP_HEADER_LEN
            + match self {
                OpMessage::ReqDevlist => 0,
                OpMessage::RepDevlist { status, devices } => {
                    if *status != ST_OK {
                        0
                    } else {
                        4 + devices
                            .iter()
                            .map(|d| DEVICE_INFO_LEN + INTERFACE_INFO_LEN * d.interfaces.len())
                            .sum::<usize>()
                    }
                }
                OpMessage::ReqImport { .. } => BUSID_LEN,
                OpMessage::RepImport { device, .. } => {
                    if device.is_some() {
                        DEVICE_INFO_LEN
                    } else {
                        0
                    }
                }
            }
    }
}

/// Decodes one operation message from the start of `buf`.
///
/// Returns `Ok(None)` while `buf` holds only part of a message, and
/// `Ok(Some((message, consumed)))` once it holds a whole one; bytes after
/// `consumed` (e.g. the first URB after OP_REP_IMPORT) are left alone.
/// The status of request headers ("unused, shall be 0") and the padding
/// bytes of interface entries are ignored.
pub fn decode(buf: &[u8]) -> Result<Option<(OpMessage, usize)>, Error> {
    let Some(len) = message_len(buf)? else {
        return Ok(None);
    };
    let Some(msg) = buf.get(..len) else {
        return Ok(None);
    };
    let mut r = Reader(msg);
    r.skip(2)?; // version, checked by message_len
    let code = r.u16()?;
    let status = r.u32()?;
    let m = match code {
        OP_REQ_DEVLIST => OpMessage::ReqDevlist,
        OP_REQ_IMPORT => OpMessage::ReqImport {
            busid: r.string("busid", BUSID_LEN)?,
        },
        OP_REP_IMPORT => {
            let device = if status == ST_OK {
                UsbDeviceInfo::decode(r.take(DEVICE_INFO_LEN)?)?
            } else {
                None
            };
            OpMessage::RepImport { status, device }
        }
        OP_REP_DEVLIST => {
            let mut devices = Vec::new();
            if status == ST_OK {
                let n = r.u32()?;
                for _ in 0..n {
                    let info = UsbDeviceInfo::decode(r.take(DEVICE_INFO_LEN)?)?
                        .ok_or(Error::Inconsistent("truncated device block"))?;
                    let mut interfaces = Vec::with_capacity(usize::from(info.num_interfaces));
                    for _ in 0..info.num_interfaces {
                        let b = r.take(INTERFACE_INFO_LEN)?;
                        interfaces.push(InterfaceInfo::from_bytes([b[0], b[1], b[2], b[3]]));
                    }
                    devices.push(ExportedDevice { info, interfaces });
                }
            }
            OpMessage::RepDevlist { status, devices }
        }
        other => return Err(Error::UnknownOpCode(other)),
    };
    Ok(Some((m, len)))
}

/// Length of the operation message at the start of `buf`, `Ok(None)` if
/// more bytes are needed to know it. Checks the version and the code, and
/// bounds the device count of OP_REP_DEVLIST.
pub fn message_len(buf: &[u8]) -> Result<Option<usize>, Error> {
    let Some(h) = buf.get(..OP_HEADER_LEN) else {
        // Reject a wrong version as early as possible.
        if let Some(v) = buf.get(..2) {
            let version = u16::from_be_bytes([v[0], v[1]]);
            if version != USBIP_VERSION {
                return Err(Error::UnsupportedVersion(version));
            }
        }
        return Ok(None);
    };
    let version = u16::from_be_bytes([h[0], h[1]]);
    if version != USBIP_VERSION {
        return Err(Error::UnsupportedVersion(version));
    }
    let code = u16::from_be_bytes([h[2], h[3]]);
    let status = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    Ok(match code {
        OP_REQ_DEVLIST => Some(OP_HEADER_LEN),
        OP_REQ_IMPORT => Some(OP_HEADER_LEN + BUSID_LEN),
        OP_REP_IMPORT if status == ST_OK => Some(OP_HEADER_LEN + DEVICE_INFO_LEN),
        OP_REP_IMPORT => Some(OP_HEADER_LEN),
        OP_REP_DEVLIST if status != ST_OK => Some(OP_HEADER_LEN),
        OP_REP_DEVLIST => devlist_len(buf)?,
        other => return Err(Error::UnknownOpCode(other)),
    })
}

/// Length of an OK OP_REP_DEVLIST, walking the device blocks without
/// allocating; `Ok(None)` if incomplete.
fn devlist_len(buf: &[u8]) -> Result<Option<usize>, Error> {
    let Some(n) = buf.get(OP_HEADER_LEN..OP_HEADER_LEN + 4) else {
        return Ok(None);
    };
    let n = u32::from_be_bytes([n[0], n[1], n[2], n[3]]);
    if n > MAX_DEVLIST_DEVICES {
        return Err(Error::TooLarge {
            field: "number of exported devices",
            value: u64::from(n),
            max: u64::from(MAX_DEVLIST_DEVICES),
        });
    }
    let mut pos = OP_HEADER_LEN + 4;
    for _ in 0..n {
        let Some(&num_interfaces) = buf.get(pos + DEVICE_INFO_LEN - 1) else {
            return Ok(None);
        };
        pos += DEVICE_INFO_LEN + INTERFACE_INFO_LEN * usize::from(num_interfaces);
    }
    Ok(if buf.len() >= pos { Some(pos) } else { None })
}

/// Appends `s` as a NUL-padded field of `size` bytes (at most `size - 1`
/// bytes of text, so the field is always NUL-terminated).
fn put_string(out: &mut Vec<u8>, field: &'static str, s: &str, size: usize) -> Result<(), Error> {
    let b = s.as_bytes();
    if b.len() >= size {
        return Err(Error::StringTooLong {
            field,
            len: b.len(),
            max: size - 1,
        });
    }
    if b.contains(&0) {
        return Err(Error::StringHasNul { field });
    }
    out.extend_from_slice(b);
    out.resize(out.len() + (size - b.len()), 0);
    Ok(())
}

/// A bounds-checked big-endian reader. Callers check lengths up front; the
/// errors here only guard against mistakes, never panic.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.0.len() < n {
            return Err(Error::Inconsistent("message shorter than its layout"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn skip(&mut self, n: usize) -> Result<(), Error> {
        self.take(n).map(|_| ())
    }

    fn u8(&mut self) -> Result<u8, Error> {
        let b = self.take(1)?;
        Ok(b[0])
    }

    fn u16(&mut self) -> Result<u16, Error> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, Error> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A NUL-padded string field: the bytes up to the first NUL (or the
    /// whole field if it has none), which must be UTF-8.
    fn string(&mut self, field: &'static str, size: usize) -> Result<String, Error> {
        let b = self.take(size)?;
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        std::str::from_utf8(&b[..end])
            .map(str::to_owned)
            .map_err(|_| Error::InvalidString { field })
    }
}
