//! Test support: a tiny pcap writer for Linux usbmon captures.
//!
//! Writes classic libpcap files (magic 0xa1b2c3d4, version 2.4, written
//! little-endian so readers take every field as little-endian) with link
//! type 220, `LINKTYPE_USB_LINUX_MMAPPED`: each record is the 64-byte usbmon
//! binary header followed by the captured transfer data.
//!
//! The header layout is `struct usbmon_packet` from the Linux kernel's
//! `Documentation/usb/usbmon.rst`, section "Raw binary format and API":
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | id (URB id, same for submit and callback) |
//! | 8 | 1 | type: `'S'` submit, `'C'` callback, `'E'` error |
//! | 9 | 1 | xfer_type: ISO 0, interrupt 1, control 2, bulk 3 |
//! | 10 | 1 | epnum, 0x80 set for IN |
//! | 11 | 1 | devnum |
//! | 12 | 2 | busnum |
//! | 14 | 1 | flag_setup (`'-'` when there is no setup packet) |
//! | 15 | 1 | flag_data (binary zero: data present) |
//! | 16 | 8 | ts_sec |
//! | 24 | 4 | ts_usec |
//! | 28 | 4 | status (`-EINPROGRESS` on submit) |
//! | 32 | 4 | length (submitted or actual) |
//! | 36 | 4 | len_cap (delivered length) |
//! | 40 | 8 | setup packet / ISO error count and descriptor count |
//! | 48 | 4 | interval |
//! | 52 | 4 | start_frame |
//! | 56 | 4 | xfer_flags (URB transfer_flags) |
//! | 60 | 4 | ndesc |
//!
//! Multi-byte fields are in the capturing host's byte order; this writer
//! uses little-endian for both the file header and the usbmon header.

#![allow(dead_code)]

use std::io::{self, Write};

/// `LINKTYPE_USB_LINUX_MMAPPED`.
pub const LINKTYPE_USB_LINUX_MMAPPED: u32 = 220;
/// Size of the usbmon binary header for the mmapped link type.
pub const USBMON_HEADER_LEN: usize = 64;
/// usbmon transfer type of bulk transfers.
pub const XFER_BULK: u8 = 3;
/// usbmon transfer type of interrupt transfers.
pub const XFER_INTERRUPT: u8 = 1;
/// `-EINPROGRESS`, the status of a submit event.
pub const EINPROGRESS: i32 = -115;

/// Direction bit of an endpoint address.
pub const EP_IN: u8 = 0x80;

/// One usbmon event: the fields of `struct usbmon_packet` that a bulk
/// capture needs (the setup/ISO union, interval, start_frame and ndesc are
/// written as zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbmonHeader {
    /// URB id.
    pub id: u64,
    /// `b'S'` (submit) or `b'C'` (callback).
    pub event_type: u8,
    /// Transfer type, e.g. [`XFER_BULK`].
    pub xfer_type: u8,
    /// Endpoint address including the direction bit [`EP_IN`].
    pub epnum: u8,
    /// Device address.
    pub devnum: u8,
    /// Bus number.
    pub busnum: u16,
    /// Timestamp, seconds.
    pub ts_sec: i64,
    /// Timestamp, microseconds.
    pub ts_usec: i32,
    /// URB status (0, or [`EINPROGRESS`] for a submit).
    pub status: i32,
    /// Transfer length (submitted or actual).
    pub length: u32,
    /// Number of data bytes following the header.
    pub len_cap: u32,
    /// URB transfer flags.
    pub xfer_flags: u32,
}

impl UsbmonHeader {
    /// Serialises the 64-byte header, little-endian.
    pub fn to_bytes(self) -> [u8; USBMON_HEADER_LEN] {
        let mut b = [0u8; USBMON_HEADER_LEN];
        b[0..8].copy_from_slice(&self.id.to_le_bytes());
        b[8] = self.event_type;
        b[9] = self.xfer_type;
        b[10] = self.epnum;
        b[11] = self.devnum;
        b[12..14].copy_from_slice(&self.busnum.to_le_bytes());
        b[14] = b'-'; // flag_setup: no setup packet
        b[15] = 0; // flag_data: data present
        b[16..24].copy_from_slice(&self.ts_sec.to_le_bytes());
        b[24..28].copy_from_slice(&self.ts_usec.to_le_bytes());
        b[28..32].copy_from_slice(&self.status.to_le_bytes());
        b[32..36].copy_from_slice(&self.length.to_le_bytes());
        b[36..40].copy_from_slice(&self.len_cap.to_le_bytes());
        // 40..48 setup / iso union, 48 interval, 52 start_frame: zero.
        b[56..60].copy_from_slice(&self.xfer_flags.to_le_bytes());
        // 60 ndesc: zero.
        b
    }
}

/// Writes a pcap file of usbmon records for one device.
pub struct UsbmonPcap<W: Write> {
    out: W,
    busnum: u16,
    devnum: u8,
    next_id: u64,
    /// Fake clock, microseconds since the epoch.
    clock_us: i64,
}

impl<W: Write> UsbmonPcap<W> {
    /// Writes the global header (snaplen 262144) and returns the writer.
    pub fn new(mut out: W, busnum: u16, devnum: u8) -> io::Result<Self> {
        let mut g = Vec::with_capacity(24);
        g.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // magic
        g.extend_from_slice(&2u16.to_le_bytes()); // version major
        g.extend_from_slice(&4u16.to_le_bytes()); // version minor
        g.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        g.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        g.extend_from_slice(&262_144u32.to_le_bytes()); // snaplen
        g.extend_from_slice(&LINKTYPE_USB_LINUX_MMAPPED.to_le_bytes());
        out.write_all(&g)?;
        Ok(UsbmonPcap {
            out,
            busnum,
            devnum,
            next_id: 0xffff_8880_0000_1000,
            clock_us: 1_700_000_000_000_000,
        })
    }

    fn record(&mut self, mut hdr: UsbmonHeader, data: &[u8]) -> io::Result<()> {
        self.clock_us += 125;
        hdr.ts_sec = self.clock_us / 1_000_000;
        hdr.ts_usec = (self.clock_us % 1_000_000) as i32;
        let caplen = (USBMON_HEADER_LEN + data.len()) as u32;
        let mut r = Vec::with_capacity(16 + caplen as usize);
        r.extend_from_slice(&(hdr.ts_sec as u32).to_le_bytes());
        r.extend_from_slice(&(hdr.ts_usec as u32).to_le_bytes());
        r.extend_from_slice(&caplen.to_le_bytes()); // incl_len
        r.extend_from_slice(&caplen.to_le_bytes()); // orig_len
        r.extend_from_slice(&hdr.to_bytes());
        r.extend_from_slice(data);
        self.out.write_all(&r)
    }

    fn header(&mut self, event_type: u8, epnum: u8, status: i32, data: &[u8]) -> UsbmonHeader {
        let id = self.next_id;
        self.next_id += 0x100;
        UsbmonHeader {
            id,
            event_type,
            xfer_type: XFER_BULK,
            epnum,
            devnum: self.devnum,
            busnum: self.busnum,
            ts_sec: 0,
            ts_usec: 0,
            status,
            length: data.len() as u32,
            len_cap: data.len() as u32,
            xfer_flags: 0,
        }
    }

    /// A bulk OUT transfer: one `'S'` submit record carrying the data.
    pub fn bulk_out(&mut self, ep: u8, data: &[u8]) -> io::Result<()> {
        let h = self.header(b'S', ep & !EP_IN, EINPROGRESS, data);
        self.record(h, data)
    }

    /// A bulk IN transfer: one `'C'` callback record carrying the data.
    pub fn bulk_in(&mut self, ep: u8, data: &[u8]) -> io::Result<()> {
        let h = self.header(b'C', ep | EP_IN, 0, data);
        self.record(h, data)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
