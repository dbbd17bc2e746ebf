//! The host side of the USB3 Vision control channel: GenCP READMEM and
//! WRITEMEM transactions over the control bulk endpoints of a [`UsbLink`].
//!
//! A [`ControlChannel`] runs one transaction at a time (a mutex holds the
//! transaction state: next request id, limits, timeout, buffers), so it can
//! be shared between threads. [`ControlChannel::open`] reads the bootstrap
//! registers and adopts the device's limits and response time;
//! [`fetch_device_file`] reads the GenICam description file through the
//! manifest.
//!
//! # Limits and splitting
//!
//! Before the SBRM is read the channel assumes command and acknowledge
//! transfers of at most [`INITIAL_MAX_CMD_LEN`] / [`INITIAL_MAX_ACK_LEN`]
//! bytes (128, the value cameleon's `ControlHandle` uses until it has read the
//! bootstrap registers; every bootstrap register read during
//! [`configure`](ControlChannel::configure) fits in it). Then the device's
//! `MaxCmdTransferLength` (SBRM 0x14) and `MaxAckTransferLength` (SBRM 0x18)
//! are adopted, capped at 12 + 65535 (the SCD length is a `u16`).
//!
//! The exact splitting rule, with `cmd` and `ack` the adopted limits:
//!
//! * a read is split into READMEMs of at most `ack - 12` bytes (the ack header
//!   is 12 bytes), consecutive, the last one shorter;
//! * a write is split into WRITEMEMs of at most `min(cmd - 20, ack - 12)`
//!   bytes (a WRITEMEM carries a 12-byte header and an 8-byte address). The
//!   second bound copies Aravis (`arv_uv_device_write_memory` splits writes by
//!   the acknowledge limit), so a device sized for Aravis sees the same
//!   transfers from this host.
//!
//! A multi-transaction read or write holds the channel for all its
//! transactions, so concurrent callers never see each other's halves.
//!
//! # Request ids
//!
//! Every command sent, including each retry, takes a new request id: `u16`,
//! incremented, wrapping from 0xFFFF to 1 (0 is never used). This is what
//! Aravis does (`arv_uvcp_next_packet_id`, a new id per try, no resend flag).
//! With [`ChannelConfig::resend_flag`] set, a retry instead repeats the same
//! request id with the GenCP `COMMAND_RESEND` flag (0x8000), as the GenCP
//! standard allows for devices that support it. Acknowledges whose request id
//! is not the one outstanding (late answers to an earlier attempt) are
//! discarded and the wait goes on; so are transfers that do not even carry an
//! acknowledge header.
//!
//! # Timeouts
//!
//! Until the ABRM is read an attempt waits [`ChannelConfig::initial_timeout`]
//! (1 s by default; Aravis starts at 32 ms, cameleon at 500 ms). After it,
//! the wait is `max(MaxDeviceResponseTime, min_response_time) + margin`
//! (Aravis uses `MAX (5 ms, response time)` with no margin; the default margin
//! here is 50 ms to absorb USB and scheduling latency). A PENDING_ACK moves the
//! deadline to `now + its timeout + margin`. When the deadline passes the
//! command is sent again, up to [`ChannelConfig::retries`] times (default 3,
//! so 4 attempts; Aravis makes 5 tries), then the call fails with
//! [`ControlError::Timeout`].
//!
//! A stalled control endpoint is cleared (`clear_halt`) once per transaction
//! and the transfer retried; a second stall fails with
//! [`ControlError::Stall`].

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

use crate::bootstrap::{abrm, sbrm, DeviceCapability};
use crate::error::EncodeError;
use crate::gencp::{
    decode_ack, encode_write_mem, AckHeader, AckRef, Command, Flags, Status, HEADER_LEN,
    MAX_SCD_LEN, READMEM_ACK, WRITEMEM_ACK,
};
use crate::link::{LinkError, UsbLink};
use crate::manifest::{FileInfo, LocalUrl, Manifest, ManifestEntry, COUNT_LEN, ENTRY_LEN};

/// Default control OUT endpoint (host to device).
pub const DEFAULT_OUT_ENDPOINT: u8 = 0x01;
/// Default control IN endpoint (device to host).
pub const DEFAULT_IN_ENDPOINT: u8 = 0x81;
/// Command transfer limit assumed before the SBRM is read (cameleon's value).
pub const INITIAL_MAX_CMD_LEN: u32 = 128;
/// Acknowledge transfer limit assumed before the SBRM is read (cameleon's value).
pub const INITIAL_MAX_ACK_LEN: u32 = 128;
/// Largest transfer a limit is capped at: a header plus the largest SCD.
pub const MAX_TRANSFER_LEN: u32 = (HEADER_LEN + MAX_SCD_LEN) as u32;
/// Smallest `MaxCmdTransferLength` accepted: a WRITEMEM of one byte.
pub const MIN_CMD_LEN: u32 = (HEADER_LEN + 8 + 1) as u32;
/// Smallest `MaxAckTransferLength` accepted: a WRITEMEM or PENDING acknowledge.
pub const MIN_ACK_LEN: u32 = (HEADER_LEN + 4) as u32;
/// Largest device description file [`fetch_device_file`] accepts (64 MiB).
pub const MAX_DEVICE_FILE_SIZE: u64 = 64 << 20;
/// Most manifest entries [`fetch_device_file`] reads.
pub const MAX_MANIFEST_ENTRIES: u64 = 64;

/// Why a control-channel operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// No acknowledge arrived in time, after every retry.
    #[error("no acknowledge for the command at address {address:#x} after {attempts} attempts")]
    Timeout {
        /// Register address of the command that timed out.
        address: u64,
        /// Commands sent (first attempt plus retries).
        attempts: u32,
    },
    /// The device answered with an error status.
    #[error("device answered {status} for the command at address {address:#x}")]
    Status {
        /// The status of the acknowledge.
        status: Status,
        /// Register address of the command.
        address: u64,
    },
    /// The device broke the protocol (the text says how).
    #[error("control protocol error: {0}")]
    Protocol(String),
    /// The device is disconnected.
    #[error("the device is disconnected")]
    Disconnected,
    /// A control endpoint stalled again after its halt was cleared.
    #[error("control endpoint {endpoint:#04x} is stalled")]
    Stall {
        /// The stalled endpoint.
        endpoint: u8,
    },
    /// Another link failure.
    #[error(transparent)]
    Link(LinkError),
    /// The request cannot be expressed (address range overflows, ...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The manifest lists no file.
    #[error("the device manifest lists no file")]
    NoDeviceFile,
    /// The manifest announces a file larger than [`MAX_DEVICE_FILE_SIZE`].
    #[error("the device file is {size} bytes, more than the {max} accepted")]
    FileTooLarge {
        /// Size announced by the manifest.
        size: u64,
        /// The accepted maximum.
        max: u64,
    },
    /// The file read does not have the SHA-1 the manifest announces.
    #[error("device file SHA-1 mismatch: manifest says {expected}, file hashes to {actual}")]
    HashMismatch {
        /// Hex SHA-1 from the manifest.
        expected: String,
        /// Hex SHA-1 of the bytes read.
        actual: String,
    },
}

impl From<LinkError> for ControlError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Disconnected => ControlError::Disconnected,
            LinkError::Stall(endpoint) => ControlError::Stall { endpoint },
            other => ControlError::Link(other),
        }
    }
}

fn encode_error(e: EncodeError) -> ControlError {
    ControlError::InvalidRequest(e.to_string())
}

/// Settings of a [`ControlChannel`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    /// Control OUT endpoint (default 0x01).
    pub out_endpoint: u8,
    /// Control IN endpoint (default 0x81).
    pub in_endpoint: u8,
    /// Acknowledge wait before the ABRM response time is known (default 1 s).
    pub initial_timeout: Duration,
    /// Added to the device's response time and to PENDING_ACK timeouts
    /// (default 50 ms).
    pub timeout_margin: Duration,
    /// Lower bound of the device response time (default 5 ms, Aravis'
    /// `ARV_UVCP_DEFAULT_RESPONSE_TIME_MS`).
    pub min_response_time: Duration,
    /// Resends after a timeout before giving up (default 3).
    pub retries: u32,
    /// Resend with the same request id and the COMMAND_RESEND flag instead of
    /// a new request id (default false, as Aravis).
    pub resend_flag: bool,
    /// Command transfer limit until the SBRM is read (default 128).
    pub initial_max_cmd_len: u32,
    /// Acknowledge transfer limit until the SBRM is read (default 128).
    pub initial_max_ack_len: u32,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            out_endpoint: DEFAULT_OUT_ENDPOINT,
            in_endpoint: DEFAULT_IN_ENDPOINT,
            initial_timeout: Duration::from_secs(1),
            timeout_margin: Duration::from_millis(50),
            min_response_time: Duration::from_millis(5),
            retries: 3,
            resend_flag: false,
            initial_max_cmd_len: INITIAL_MAX_CMD_LEN,
            initial_max_ack_len: INITIAL_MAX_ACK_LEN,
        }
    }
}

/// The transfer limits and acknowledge timeout a channel works with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest command transfer, bytes (header included).
    pub max_cmd_len: u32,
    /// Largest acknowledge transfer, bytes (header included).
    pub max_ack_len: u32,
    /// How long an attempt waits for its acknowledge.
    pub ack_timeout: Duration,
}

impl Limits {
    /// Largest READMEM count: `max_ack_len - 12`.
    pub fn max_read_chunk(&self) -> usize {
        (self.max_ack_len as usize)
            .saturating_sub(HEADER_LEN)
            .min(MAX_SCD_LEN)
    }

    /// Largest WRITEMEM data: `min(max_cmd_len - 20, max_ack_len - 12)`.
    pub fn max_write_chunk(&self) -> usize {
        (self.max_cmd_len as usize)
            .saturating_sub(HEADER_LEN + 8)
            .min(MAX_SCD_LEN - 8)
            .min(self.max_read_chunk())
    }
}

/// What [`ControlChannel::configure`] read from the bootstrap registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootstrapInfo {
    /// ABRM device capability.
    pub device_capability: DeviceCapability,
    /// ABRM maximum device response time, ms.
    pub max_device_response_time_ms: u32,
    /// ABRM manifest table address.
    pub manifest_table_address: u64,
    /// ABRM SBRM address.
    pub sbrm_address: u64,
    /// SBRM MaxCmdTransferLength, as reported.
    pub max_cmd_transfer_length: u32,
    /// SBRM MaxAckTransferLength, as reported.
    pub max_ack_transfer_length: u32,
}

struct State {
    next_id: u16,
    limits: Limits,
    cmd: Vec<u8>,
    ack: Vec<u8>,
}

impl State {
    fn take_id(&mut self) -> u16 {
        let id = if self.next_id == 0 { 1 } else { self.next_id };
        self.next_id = if id == u16::MAX { 1 } else { id + 1 };
        id
    }
}

/// What the outstanding command expects back.
enum Expect<'a> {
    Read(&'a mut [u8]),
    Write(usize),
}

enum Wait {
    Done,
    TimedOut,
}

/// The host end of the USB3 Vision control channel. See the module docs.
pub struct ControlChannel {
    link: Arc<dyn UsbLink>,
    config: ChannelConfig,
    state: Mutex<State>,
}

impl std::fmt::Debug for ControlChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlChannel")
            .field("config", &self.config)
            .field("limits", &self.limits())
            .finish_non_exhaustive()
    }
}

impl ControlChannel {
    /// A channel with the initial (pre-bootstrap) limits; no transfer is made.
    pub fn new(link: Arc<dyn UsbLink>, config: ChannelConfig) -> Self {
        let limits = Limits {
            max_cmd_len: config
                .initial_max_cmd_len
                .clamp(MIN_CMD_LEN, MAX_TRANSFER_LEN),
            max_ack_len: config
                .initial_max_ack_len
                .clamp(MIN_ACK_LEN, MAX_TRANSFER_LEN),
            ack_timeout: config.initial_timeout,
        };
        ControlChannel {
            link,
            config,
            state: Mutex::new(State {
                next_id: 1,
                limits,
                cmd: Vec::new(),
                ack: Vec::new(),
            }),
        }
    }

    /// A channel that has read the bootstrap registers and adopted the
    /// device's limits and response time ([`configure`](Self::configure)).
    pub fn open(link: Arc<dyn UsbLink>, config: ChannelConfig) -> Result<Self, ControlError> {
        let channel = Self::new(link, config);
        channel.configure()?;
        Ok(channel)
    }

    /// Reads ABRM 0x1C4..0x1E0 (capability, response time, manifest and SBRM
    /// addresses) and SBRM MaxCmd/MaxAckTransferLength, and adopts them.
    pub fn configure(&self) -> Result<BootstrapInfo, ControlError> {
        let mut a = [0u8; 28];
        self.read(abrm::DEVICE_CAPABILITY, &mut a)?;
        let rt = le_u32(&a, 8);
        let info_abrm = (
            DeviceCapability(le_u64(&a, 0)),
            rt,
            le_u64(&a, 12),
            le_u64(&a, 20),
        );
        let timeout = Duration::from_millis(u64::from(rt))
            .max(self.config.min_response_time)
            .saturating_add(self.config.timeout_margin);
        self.lock().limits.ack_timeout = timeout;

        let sbrm_address = info_abrm.3;
        let at = sbrm_address
            .checked_add(sbrm::MAX_CMD_TRANSFER_LENGTH)
            .ok_or_else(|| {
                ControlError::Protocol(format!("SBRM address {sbrm_address:#x} overflows"))
            })?;
        let mut s = [0u8; 8];
        self.read(at, &mut s)?;
        let (cmd, ack) = (le_u32(&s, 0), le_u32(&s, 4));
        if cmd < MIN_CMD_LEN || ack < MIN_ACK_LEN {
            return Err(ControlError::Protocol(format!(
                "device reports MaxCmdTransferLength {cmd} and MaxAckTransferLength {ack}; \
                 at least {MIN_CMD_LEN} and {MIN_ACK_LEN} are needed"
            )));
        }
        {
            let mut st = self.lock();
            st.limits.max_cmd_len = cmd.min(MAX_TRANSFER_LEN);
            st.limits.max_ack_len = ack.min(MAX_TRANSFER_LEN);
        }
        Ok(BootstrapInfo {
            device_capability: info_abrm.0,
            max_device_response_time_ms: rt,
            manifest_table_address: info_abrm.2,
            sbrm_address,
            max_cmd_transfer_length: cmd,
            max_ack_transfer_length: ack,
        })
    }

    /// The limits and acknowledge timeout in use.
    pub fn limits(&self) -> Limits {
        self.lock().limits
    }

    /// Replaces the limits (clamped to the accepted range) and timeout.
    pub fn set_limits(&self, limits: Limits) {
        self.lock().limits = Limits {
            max_cmd_len: limits.max_cmd_len.clamp(MIN_CMD_LEN, MAX_TRANSFER_LEN),
            max_ack_len: limits.max_ack_len.clamp(MIN_ACK_LEN, MAX_TRANSFER_LEN),
            ack_timeout: limits.ack_timeout,
        };
    }

    /// The settings the channel was made with.
    pub fn config(&self) -> &ChannelConfig {
        &self.config
    }

    /// The request id the next command will carry (never 0).
    pub fn next_request_id(&self) -> u16 {
        self.lock().next_id.max(1)
    }

    /// Sets the request id of the next command (0 is taken as 1); for tests
    /// and for continuing a numbering across reconnects.
    pub fn set_next_request_id(&self, id: u16) {
        self.lock().next_id = id.max(1);
    }

    /// Reads `buf.len()` bytes at `address`, in as many READMEMs as the
    /// acknowledge limit requires.
    pub fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), ControlError> {
        check_range(address, buf.len())?;
        let mut st = self.lock();
        let chunk = st.limits.max_read_chunk().max(1);
        let mut offset = 0usize;
        for piece in buf.chunks_mut(chunk) {
            let at = address + offset as u64;
            let count = piece.len();
            st.cmd.clear();
            // `count` <= max_read_chunk <= u16::MAX.
            Command::ReadMem {
                address: at,
                count: u16::try_from(count).unwrap_or(u16::MAX),
            }
            .encode(Flags::REQUEST_ACK, 0, &mut st.cmd)
            .map_err(encode_error)?;
            self.transact(&mut st, at, Expect::Read(piece))?;
            offset += count;
        }
        Ok(())
    }

    /// Writes `data` at `address`, in as many WRITEMEMs as the command and
    /// acknowledge limits require.
    pub fn write(&self, address: u64, data: &[u8]) -> Result<(), ControlError> {
        check_range(address, data.len())?;
        let mut st = self.lock();
        let chunk = st.limits.max_write_chunk().max(1);
        let mut offset = 0usize;
        for piece in data.chunks(chunk) {
            let at = address + offset as u64;
            let len = HEADER_LEN + 8 + piece.len();
            st.cmd.clear();
            st.cmd.resize(len, 0);
            encode_write_mem(Flags::REQUEST_ACK, 0, at, piece, &mut st.cmd)
                .map_err(encode_error)?;
            self.transact(&mut st, at, Expect::Write(piece.len()))?;
            offset += piece.len();
        }
        Ok(())
    }

    /// Reads a little-endian `u32` register.
    pub fn read_u32(&self, address: u64) -> Result<u32, ControlError> {
        let mut b = [0u8; 4];
        self.read(address, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Reads a little-endian `u64` register.
    pub fn read_u64(&self, address: u64) -> Result<u64, ControlError> {
        let mut b = [0u8; 8];
        self.read(address, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Writes a little-endian `u32` register.
    pub fn write_u32(&self, address: u64, value: u32) -> Result<(), ControlError> {
        self.write(address, &value.to_le_bytes())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is plain data; a panic mid-transaction leaves it usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One command (already encoded in `st.cmd`, request id and flags are
    /// patched here) with its retries.
    fn transact(
        &self,
        st: &mut State,
        address: u64,
        mut expect: Expect<'_>,
    ) -> Result<(), ControlError> {
        let attempts = self.config.retries.saturating_add(1);
        let mut stall_cleared = false;
        let mut id = 0u16;
        for attempt in 0..attempts {
            let flags = if attempt > 0 && self.config.resend_flag {
                Flags::REQUEST_ACK | Flags::COMMAND_RESEND
            } else {
                id = st.take_id();
                Flags::REQUEST_ACK
            };
            if let Some(h) = st.cmd.get_mut(4..6) {
                h.copy_from_slice(&flags.bits().to_le_bytes());
            }
            if let Some(h) = st.cmd.get_mut(10..12) {
                h.copy_from_slice(&id.to_le_bytes());
            }
            match self.send(st, &mut stall_cleared)? {
                Wait::TimedOut => continue,
                Wait::Done => {}
            }
            match self.await_ack(st, id, address, &mut expect, &mut stall_cleared)? {
                Wait::Done => return Ok(()),
                Wait::TimedOut => continue,
            }
        }
        Err(ControlError::Timeout { address, attempts })
    }

    fn send(&self, st: &State, stall_cleared: &mut bool) -> Result<Wait, ControlError> {
        let ep = self.config.out_endpoint;
        loop {
            match self.link.bulk_out(ep, &st.cmd, st.limits.ack_timeout) {
                Ok(()) => return Ok(Wait::Done),
                Err(LinkError::Timeout) => return Ok(Wait::TimedOut),
                Err(LinkError::Stall(e)) if !*stall_cleared => {
                    *stall_cleared = true;
                    self.link.clear_halt(e)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn await_ack(
        &self,
        st: &mut State,
        id: u16,
        address: u64,
        expect: &mut Expect<'_>,
        stall_cleared: &mut bool,
    ) -> Result<Wait, ControlError> {
        let ep = self.config.in_endpoint;
        let needed = match expect {
            Expect::Read(b) => HEADER_LEN + b.len(),
            Expect::Write(_) => HEADER_LEN + 4,
        };
        let size = (st.limits.max_ack_len as usize).max(needed);
        if st.ack.len() != size {
            st.ack.resize(size, 0);
        }
        let mut deadline = deadline_after(st.limits.ack_timeout);
        loop {
            let now = Instant::now();
            let Some(left) = deadline
                .checked_duration_since(now)
                .filter(|d| !d.is_zero())
            else {
                return Ok(Wait::TimedOut);
            };
            let n = match self.link.bulk_in(ep, &mut st.ack, left) {
                Ok(n) => n,
                Err(LinkError::Timeout) => return Ok(Wait::TimedOut),
                Err(LinkError::Stall(e)) if !*stall_cleared => {
                    *stall_cleared = true;
                    self.link.clear_halt(e)?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let msg = st.ack.get(..n).unwrap_or(&[]);
            // Not an acknowledge at all, or one for another request: a late
            // answer to an earlier attempt. Keep waiting.
            let Ok(header) = AckHeader::decode(msg) else {
                continue;
            };
            if header.request_id != id {
                continue;
            }
            let ack = decode_ack(msg).map_err(|e| {
                ControlError::Protocol(format!(
                    "malformed acknowledge (request id {id}) for address {address:#x}: {e}"
                ))
            })?;
            match (ack.ack, &mut *expect) {
                (AckRef::Error { status, .. }, _) => {
                    return Err(ControlError::Status { status, address })
                }
                (AckRef::Pending { timeout_ms }, _) => {
                    deadline = deadline_after(
                        Duration::from_millis(u64::from(timeout_ms))
                            .saturating_add(self.config.timeout_margin),
                    );
                }
                (AckRef::ReadMem(data), Expect::Read(out)) => {
                    if data.len() != out.len() {
                        return Err(ControlError::Protocol(format!(
                            "READMEM of {} bytes at {address:#x} answered with {} bytes",
                            out.len(),
                            data.len()
                        )));
                    }
                    out.copy_from_slice(data);
                    return Ok(Wait::Done);
                }
                (AckRef::WriteMem { bytes_written }, Expect::Write(sent)) => {
                    if usize::from(bytes_written) != *sent {
                        return Err(ControlError::Protocol(format!(
                            "WRITEMEM of {sent} bytes at {address:#x} acknowledged {bytes_written} bytes written"
                        )));
                    }
                    return Ok(Wait::Done);
                }
                (_, e) => {
                    let want = match e {
                        Expect::Read(_) => READMEM_ACK,
                        Expect::Write(_) => WRITEMEM_ACK,
                    };
                    return Err(ControlError::Protocol(format!(
                        "expected acknowledge id {want:#06x} for address {address:#x}, got {:#06x}",
                        header.command_id
                    )));
                }
            }
        }
    }
}

/// `now + d`, or about a year from now when that overflows.
fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

fn check_range(address: u64, len: usize) -> Result<(), ControlError> {
    if len > 0 && address.checked_add(len as u64 - 1).is_none() {
        return Err(ControlError::InvalidRequest(format!(
            "{len} bytes at {address:#x} run past the end of the address space"
        )));
    }
    Ok(())
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut v = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        v.copy_from_slice(s);
    }
    u32::from_le_bytes(v)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        v.copy_from_slice(s);
    }
    u64::from_le_bytes(v)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A device description file read from the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceFile {
    /// The file's bytes (XML, or a zip holding it).
    pub bytes: Vec<u8>,
    /// Whether the manifest says the file is a zip archive.
    pub is_zip: bool,
    /// The `local:` URL naming the file (`<model>.xml|zip;address;size`).
    pub url: LocalUrl,
    /// The manifest entry the file was read from.
    pub entry: ManifestEntry,
    /// Whether the manifest had a SHA-1 and the bytes matched it.
    pub sha1_verified: bool,
}

/// Reads the device description file: the manifest table address from ABRM
/// 0x1D0, the manifest (the first device-XML entry, else the first entry),
/// then the file itself, checking its SHA-1 when the manifest gives one.
///
/// The URL's file name is the ABRM model name (characters outside
/// `[A-Za-z0-9._-]` replaced by `_`; `device` when empty).
pub fn fetch_device_file(channel: &ControlChannel) -> Result<DeviceFile, ControlError> {
    let table = channel.read_u64(abrm::MANIFEST_TABLE_ADDRESS)?;
    let count = channel.read_u64(table)?;
    if count == 0 {
        return Err(ControlError::NoDeviceFile);
    }
    let n = count.min(MAX_MANIFEST_ENTRIES);
    let len = COUNT_LEN + ENTRY_LEN * n as usize;
    let mut raw = vec![0u8; len];
    channel.read(table, &mut raw)?;
    // The count just read may differ from the first one; decode the entries
    // that were read regardless.
    if let Some(c) = raw.get_mut(..COUNT_LEN) {
        c.copy_from_slice(&n.to_le_bytes());
    }
    let manifest =
        Manifest::decode(&raw).map_err(|e| ControlError::Protocol(format!("manifest: {e}")))?;
    let entry = manifest
        .entries
        .iter()
        .find(|e| e.file_info.file_type() == FileInfo::TYPE_DEVICE_XML)
        .or_else(|| manifest.entries.first())
        .copied()
        .ok_or(ControlError::NoDeviceFile)?;
    if entry.size > MAX_DEVICE_FILE_SIZE {
        return Err(ControlError::FileTooLarge {
            size: entry.size,
            max: MAX_DEVICE_FILE_SIZE,
        });
    }
    if entry.size == 0 {
        return Err(ControlError::NoDeviceFile);
    }
    let mut bytes = vec![0u8; entry.size as usize];
    channel.read(entry.address, &mut bytes)?;
    let sha1_verified = if entry.has_sha1() {
        let actual: [u8; 20] = Sha1::digest(&bytes).into();
        if actual != entry.sha1 {
            return Err(ControlError::HashMismatch {
                expected: hex(&entry.sha1),
                actual: hex(&actual),
            });
        }
        true
    } else {
        false
    };
    let mut model = [0u8; 64];
    channel.read(abrm::MODEL_NAME, &mut model)?;
    let name: String = crate::bootstrap::decode_string(&model)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = if name.is_empty() { "device" } else { &name };
    let url = entry.local_url(stem);
    Ok(DeviceFile {
        is_zip: url.is_zip(),
        bytes,
        url,
        entry,
        sha1_verified,
    })
}
