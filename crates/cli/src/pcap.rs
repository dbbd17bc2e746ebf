//! `acquire --pcap`: the session's USB3 Vision traffic as a pcap file with
//! link type 220 (`LINKTYPE_USB_LINUX_MMAPPED`), which Wireshark decodes
//! with its USB3 Vision dissector (it recognises the `U3VC`, `U3VL` and
//! `U3VT` prefixes, so no descriptors are needed).
//!
//! Each bulk transfer is two records, as usbmon writes them: a submit
//! (`'S'`, with the data for OUT transfers) and a completion (`'C'`, with
//! the data for IN transfers). Each record is the 64-byte usbmon header of
//! the Linux kernel's `Documentation/usb/usbmon.rst` ("Raw binary format")
//! followed by the data, of which at most [`SNAPLEN`] bytes are kept:
//! commands, acknowledges, leaders and trailers are whole; large payload
//! transfers are cut, with their full length in the header.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use u3v::link::{InTransfer, LinkError, SetupPacket, UsbLink};

/// Link type of usbmon captures with the 64-byte header.
const LINKTYPE_USB_LINUX_MMAPPED: u32 = 220;
/// Bytes of transfer data kept per record.
pub const SNAPLEN: usize = 4096;
const HEADER_LEN: usize = 64;
const XFER_BULK: u8 = 3;
const EINPROGRESS: i32 = -115;

/// A capture file being written, shared by the links it records.
pub struct Capture {
    out: Mutex<BufWriter<File>>,
    next_id: AtomicU64,
    error: Mutex<Option<io::Error>>,
}

impl Capture {
    /// Creates `path` and writes the pcap file header.
    pub fn create(path: &Path) -> io::Result<Arc<Capture>> {
        let mut out = BufWriter::new(File::create(path)?);
        let mut g = Vec::with_capacity(24);
        g.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        g.extend_from_slice(&2u16.to_le_bytes());
        g.extend_from_slice(&4u16.to_le_bytes());
        g.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        g.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        g.extend_from_slice(&((HEADER_LEN + SNAPLEN) as u32).to_le_bytes());
        g.extend_from_slice(&LINKTYPE_USB_LINUX_MMAPPED.to_le_bytes());
        out.write_all(&g)?;
        Ok(Arc::new(Capture {
            out: Mutex::new(out),
            next_id: AtomicU64::new(1),
            error: Mutex::new(None),
        }))
    }

    /// Wraps `link` so that its bulk transfers are recorded.
    pub fn wrap(self: &Arc<Self>, link: Arc<dyn UsbLink>) -> Arc<dyn UsbLink> {
        Arc::new(PcapLink {
            inner: link,
            capture: self.clone(),
        })
    }

    /// Flushes the file and reports the first write error, if any.
    pub fn finish(&self) -> io::Result<()> {
        if let Some(e) = self.error.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(e);
        }
        self.out.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }

    fn new_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// One record: `event` `b'S'` or `b'C'`, the endpoint address, the
    /// transfer's full `length` and the bytes to keep.
    fn record(&self, id: u64, event: u8, endpoint: u8, status: i32, length: usize, data: &[u8]) {
        let kept = &data[..data.len().min(SNAPLEN)];
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        let mut h = [0u8; HEADER_LEN];
        h[0..8].copy_from_slice(&id.to_le_bytes());
        h[8] = event;
        h[9] = XFER_BULK;
        h[10] = endpoint;
        h[11] = 1; // devnum
        h[12..14].copy_from_slice(&1u16.to_le_bytes()); // busnum
        h[14] = b'-'; // no setup packet
        h[15] = if kept.is_empty() { b'<' } else { 0 };
        h[16..24].copy_from_slice(&now.as_secs().to_le_bytes());
        h[24..28].copy_from_slice(&now.subsec_micros().to_le_bytes());
        h[28..32].copy_from_slice(&status.to_le_bytes());
        h[32..36].copy_from_slice(&(length.min(u32::MAX as usize) as u32).to_le_bytes());
        h[36..40].copy_from_slice(&(kept.len() as u32).to_le_bytes());
        let mut rec = Vec::with_capacity(16 + HEADER_LEN + kept.len());
        rec.extend_from_slice(&(now.as_secs() as u32).to_le_bytes());
        rec.extend_from_slice(&now.subsec_micros().to_le_bytes());
        rec.extend_from_slice(&((HEADER_LEN + kept.len()) as u32).to_le_bytes());
        rec.extend_from_slice(&((HEADER_LEN + length).min(u32::MAX as usize) as u32).to_le_bytes());
        rec.extend_from_slice(&h);
        rec.extend_from_slice(kept);
        let result = self
            .out
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .write_all(&rec);
        if let Err(e) = result {
            let mut slot = self.error.lock().unwrap_or_else(|e| e.into_inner());
            slot.get_or_insert(e);
        }
    }

    fn completion(&self, id: u64, endpoint: u8, result: &Result<usize, LinkError>, data: &[u8]) {
        match result {
            Ok(n) => self.record(id, b'C', endpoint, 0, *n, data.get(..*n).unwrap_or(data)),
            // -EPIPE for a stall, -ETIMEDOUT otherwise: enough for a reader
            // to see the transfer failed.
            Err(LinkError::Stall(_)) => self.record(id, b'C', endpoint, -32, 0, &[]),
            Err(_) => self.record(id, b'C', endpoint, -110, 0, &[]),
        }
    }
}

/// A link whose bulk transfers are written to a [`Capture`].
struct PcapLink {
    inner: Arc<dyn UsbLink>,
    capture: Arc<Capture>,
}

impl UsbLink for PcapLink {
    fn control_in(
        &self,
        setup: SetupPacket,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, LinkError> {
        self.inner.control_in(setup, buf, timeout)
    }

    fn control_out(
        &self,
        setup: SetupPacket,
        data: &[u8],
        timeout: Duration,
    ) -> Result<(), LinkError> {
        self.inner.control_out(setup, data, timeout)
    }

    fn bulk_out(&self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<(), LinkError> {
        let id = self.capture.new_id();
        self.capture
            .record(id, b'S', endpoint, EINPROGRESS, data.len(), data);
        let r = self.inner.bulk_out(endpoint, data, timeout);
        let done = r.as_ref().map(|_| data.len()).map_err(Clone::clone);
        self.capture.completion(id, endpoint, &done, &[]);
        r
    }

    fn bulk_in(&self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        let id = self.capture.new_id();
        self.capture
            .record(id, b'S', endpoint, EINPROGRESS, buf.len(), &[]);
        let r = self.inner.bulk_in(endpoint, buf, timeout);
        self.capture.completion(id, endpoint, &r, buf);
        r
    }

    fn submit_in(&self, endpoint: u8, buf: Vec<u8>) -> Result<(), LinkError> {
        // The submit is recorded with its own id; the completion, reaped
        // later, gets the next id (a reader pairs them by order).
        let id = self.capture.new_id();
        self.capture
            .record(id, b'S', endpoint, EINPROGRESS, buf.len(), &[]);
        self.inner.submit_in(endpoint, buf)
    }

    fn reap_in(&self, endpoint: u8, timeout: Duration) -> Result<InTransfer, LinkError> {
        let t = self.inner.reap_in(endpoint, timeout)?;
        let id = self.capture.new_id();
        self.capture.completion(id, endpoint, &t.result, &t.buf);
        Ok(t)
    }

    fn cancel_in(&self, endpoint: u8) -> Vec<Vec<u8>> {
        self.inner.cancel_in(endpoint)
    }

    fn clear_halt(&self, endpoint: u8) -> Result<(), LinkError> {
        self.inner.clear_halt(endpoint)
    }
}
