//! The USB connection between a host and a device: the [`UsbLink`] trait the
//! host side programs against, the [`UsbDevice`] trait device models
//! implement, and [`MemoryLink`], which joins the two inside one process.
//!
//! # Transfers
//!
//! A bulk IN transfer hands the device the host's buffer; the device writes
//! one of its transfers into it (at most the buffer's length) and says how
//! many bytes it wrote. This "pull" shape is how USB works (the host offers
//! a buffer, the device fills it) and it is what makes the in-memory link
//! cheap: frame data is copied once, from the device's frame straight into
//! the host's buffer, with no queue of packets in between. The same call
//! serves a USB/IP server, which receives the host's buffer size in a
//! `CMD_SUBMIT` and answers with the bytes the device wrote.
//!
//! Back-pressure comes for free: a device has nothing to send until a host
//! buffer is offered, and a host waits (up to its timeout) until the device
//! has data.
//!
//! Several IN transfers can be queued with [`UsbLink::submit_in`] and
//! collected in order with [`UsbLink::reap_in`], as a stream receiver does
//! to keep a real link busy.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Largest packet of a SuperSpeed bulk endpoint.
pub const SUPERSPEED_BULK_PACKET: usize = 1024;

/// Bit 7 of an endpoint address: the IN direction (device to host).
pub const ENDPOINT_IN: u8 = 0x80;

/// The 8-byte setup packet of a control transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetupPacket {
    /// `bmRequestType`: direction, type and recipient.
    pub request_type: u8,
    /// `bRequest`.
    pub request: u8,
    /// `wValue`.
    pub value: u16,
    /// `wIndex`.
    pub index: u16,
    /// `wLength`: bytes of the data stage.
    pub length: u16,
}

impl SetupPacket {
    /// Standard `GET_DESCRIPTOR` for descriptor `kind` number `index`.
    pub const fn get_descriptor(kind: u8, index: u8, length: u16) -> Self {
        SetupPacket {
            request_type: 0x80,
            request: 6,
            value: (kind as u16) << 8 | index as u16,
            index: 0,
            length,
        }
    }

    /// The packet's wire bytes (little-endian fields).
    pub fn to_bytes(&self) -> [u8; 8] {
        let [v0, v1] = self.value.to_le_bytes();
        let [i0, i1] = self.index.to_le_bytes();
        let [l0, l1] = self.length.to_le_bytes();
        [self.request_type, self.request, v0, v1, i0, i1, l0, l1]
    }

    /// A packet from its wire bytes.
    pub fn from_bytes(b: [u8; 8]) -> Self {
        SetupPacket {
            request_type: b[0],
            request: b[1],
            value: u16::from_le_bytes([b[2], b[3]]),
            index: u16::from_le_bytes([b[4], b[5]]),
            length: u16::from_le_bytes([b[6], b[7]]),
        }
    }

    /// Whether the data stage goes from device to host.
    pub const fn is_in(&self) -> bool {
        self.request_type & 0x80 != 0
    }
}

/// Why a transfer failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Nothing arrived before the deadline (the device kept answering NAK).
    #[error("USB transfer timed out")]
    Timeout,
    /// The endpoint is halted; the host must clear it before using it again.
    #[error("endpoint {0:#04x} is halted (stall)")]
    Stall(u8),
    /// The device is gone.
    #[error("the device is disconnected")]
    Disconnected,
    /// The device has no such endpoint.
    #[error("the device has no endpoint {0:#04x}")]
    NoEndpoint(u8),
    /// The transfer was cancelled by the host.
    #[error("the transfer was cancelled")]
    Cancelled,
    /// [`UsbLink::reap_in`] found no queued transfer on the endpoint.
    #[error("no transfer is queued on endpoint {0:#04x}")]
    NotQueued(u8),
    /// The transport failed in another way (the text says how).
    #[error("USB transport error: {0}")]
    Transport(String),
}

/// A completed bulk IN transfer: the buffer handed to
/// [`UsbLink::submit_in`], and how it ended.
#[derive(Debug)]
pub struct InTransfer {
    /// The buffer, as submitted (its length unchanged).
    pub buf: Vec<u8>,
    /// Bytes received at the start of `buf`, or why nothing was.
    pub result: Result<usize, LinkError>,
}

/// The host's side of a connection to one USB device.
///
/// Implementations: [`MemoryLink`] (a device model in this process), the
/// USB/IP client, and real devices. All methods may be called from several
/// threads at once.
pub trait UsbLink: Send + Sync {
    /// A control transfer with an IN data stage into `buf`; returns the
    /// bytes received.
    fn control_in(
        &self,
        setup: SetupPacket,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, LinkError>;
    /// A control transfer with an OUT data stage (possibly empty).
    fn control_out(
        &self,
        setup: SetupPacket,
        data: &[u8],
        timeout: Duration,
    ) -> Result<(), LinkError>;
    /// Sends `data` as one bulk OUT transfer on `endpoint`.
    fn bulk_out(&self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<(), LinkError>;
    /// One bulk IN transfer on `endpoint` into `buf`; returns the bytes
    /// received (fewer than `buf.len()` when the device sent less).
    fn bulk_in(&self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError>;
    /// Queues a bulk IN transfer of `buf.len()` bytes on `endpoint`.
    fn submit_in(&self, endpoint: u8, buf: Vec<u8>) -> Result<(), LinkError>;
    /// The oldest queued IN transfer of `endpoint`, once complete. On
    /// [`LinkError::Timeout`] the transfer stays queued.
    fn reap_in(&self, endpoint: u8, timeout: Duration) -> Result<InTransfer, LinkError>;
    /// Cancels every queued IN transfer of `endpoint` and returns their
    /// buffers.
    fn cancel_in(&self, endpoint: u8) -> Vec<Vec<u8>>;
    /// Clears a halt (stall) of `endpoint` (the standard CLEAR_FEATURE).
    fn clear_halt(&self, endpoint: u8) -> Result<(), LinkError>;
}

/// Why a device did not complete a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceError {
    /// No data before the deadline (NAK).
    Timeout,
    /// The endpoint (or the control request) is stalled.
    Stall,
    /// No such endpoint.
    NoEndpoint,
    /// The device has gone away.
    Disconnected,
}

/// A USB device model: what a device answers on its endpoints. Methods may
/// be called from several threads at once.
pub trait UsbDevice: Send + Sync {
    /// Answers a control request with an IN data stage, writing at most
    /// `buf.len()` bytes (standard requests such as GET_DESCRIPTOR
    /// included); [`DeviceError::Stall`] refuses it.
    fn control_in(&self, setup: &SetupPacket, buf: &mut [u8]) -> Result<usize, DeviceError>;
    /// Takes a control request with an OUT data stage.
    fn control_out(&self, setup: &SetupPacket, data: &[u8]) -> Result<(), DeviceError>;
    /// Takes one bulk OUT transfer from the host.
    fn bulk_out(&self, endpoint: u8, data: &[u8]) -> Result<(), DeviceError>;
    /// Writes the device's next transfer on IN `endpoint` into `buf` (at
    /// most `buf.len()` bytes) and returns its length, waiting until
    /// `deadline` at the latest for something to send.
    fn bulk_in(
        &self,
        endpoint: u8,
        buf: &mut [u8],
        deadline: Instant,
    ) -> Result<usize, DeviceError>;
    /// The host cleared a halt of `endpoint`.
    fn clear_halt(&self, endpoint: u8) -> Result<(), DeviceError>;
}

/// A [`UsbLink`] to a [`UsbDevice`] in the same process.
///
/// Every transfer is a direct call into the device from the host's thread,
/// so IN data is written by the device straight into the host's buffer.
/// [`disconnect`](MemoryLink::disconnect) unplugs the cable: every later
/// call fails with [`LinkError::Disconnected`].
pub struct MemoryLink {
    device: Arc<dyn UsbDevice>,
    unplugged: AtomicBool,
    queued: Mutex<HashMap<u8, VecDeque<Vec<u8>>>>,
}

impl MemoryLink {
    /// A link to `device`.
    pub fn new(device: Arc<dyn UsbDevice>) -> Self {
        MemoryLink {
            device,
            unplugged: AtomicBool::new(false),
            queued: Mutex::new(HashMap::new()),
        }
    }

    /// Unplugs the device: later transfers fail with
    /// [`LinkError::Disconnected`].
    pub fn disconnect(&self) {
        self.unplugged.store(true, Ordering::SeqCst);
    }

    fn plugged(&self) -> Result<(), LinkError> {
        if self.unplugged.load(Ordering::SeqCst) {
            Err(LinkError::Disconnected)
        } else {
            Ok(())
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, HashMap<u8, VecDeque<Vec<u8>>>> {
        // A panic while the lock was held leaves only plain buffers behind,
        // so the poisoned map is still consistent.
        self.queued.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn link_error(e: DeviceError, endpoint: u8) -> LinkError {
    match e {
        DeviceError::Timeout => LinkError::Timeout,
        DeviceError::Stall => LinkError::Stall(endpoint),
        DeviceError::NoEndpoint => LinkError::NoEndpoint(endpoint),
        DeviceError::Disconnected => LinkError::Disconnected,
    }
}

impl UsbLink for MemoryLink {
    fn control_in(
        &self,
        setup: SetupPacket,
        buf: &mut [u8],
        _timeout: Duration,
    ) -> Result<usize, LinkError> {
        self.plugged()?;
        let len = buf.len().min(usize::from(setup.length));
        let n = self
            .device
            .control_in(&setup, &mut buf[..len])
            .map_err(|e| link_error(e, 0))?;
        Ok(n.min(len))
    }

    fn control_out(
        &self,
        setup: SetupPacket,
        data: &[u8],
        _timeout: Duration,
    ) -> Result<(), LinkError> {
        self.plugged()?;
        self.device
            .control_out(&setup, data)
            .map_err(|e| link_error(e, 0))
    }

    fn bulk_out(&self, endpoint: u8, data: &[u8], _timeout: Duration) -> Result<(), LinkError> {
        self.plugged()?;
        self.device
            .bulk_out(endpoint, data)
            .map_err(|e| link_error(e, endpoint))
    }

    fn bulk_in(&self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        self.plugged()?;
        let deadline = Instant::now() + timeout;
        let n = self
            .device
            .bulk_in(endpoint, buf, deadline)
            .map_err(|e| link_error(e, endpoint))?;
        // A device model that claims more than it was given is clipped
        // rather than trusted.
        Ok(n.min(buf.len()))
    }

    fn submit_in(&self, endpoint: u8, buf: Vec<u8>) -> Result<(), LinkError> {
        self.plugged()?;
        self.queue().entry(endpoint).or_default().push_back(buf);
        Ok(())
    }

    fn reap_in(&self, endpoint: u8, timeout: Duration) -> Result<InTransfer, LinkError> {
        // The transfer runs when it is reaped: the device fills the buffer
        // then, which for an in-process device is the same as having had it
        // in flight all along.
        let mut buf = self
            .queue()
            .get_mut(&endpoint)
            .and_then(VecDeque::pop_front)
            .ok_or(LinkError::NotQueued(endpoint))?;
        let result = self.bulk_in(endpoint, &mut buf, timeout);
        if result == Err(LinkError::Timeout) {
            self.queue().entry(endpoint).or_default().push_front(buf);
            return Err(LinkError::Timeout);
        }
        Ok(InTransfer { buf, result })
    }

    fn cancel_in(&self, endpoint: u8) -> Vec<Vec<u8>> {
        self.queue()
            .remove(&endpoint)
            .map(Vec::from)
            .unwrap_or_default()
    }

    fn clear_halt(&self, endpoint: u8) -> Result<(), LinkError> {
        self.plugged()?;
        self.device
            .clear_halt(endpoint)
            .map_err(|e| link_error(e, endpoint))
    }
}
