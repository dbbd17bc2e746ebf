//! The device side of the USB3 Vision control channel: a GenCP server over a
//! [`RegisterSpace`], and the [`ControlPipe`] that connects it to the control
//! endpoints of a [`UsbDevice`](crate::link::UsbDevice) model.
//!
//! [`ControlServer`] is sans-IO: it takes one command message (one bulk OUT
//! transfer) and produces the acknowledge messages to send back, in order.
//! [`ControlPipe`] adds the endpoint plumbing: commands in through
//! [`ControlPipe::bulk_out`], acknowledges out through
//! [`ControlPipe::bulk_in`], which follows the "pull" model of
//! [`link`](crate::link).
//!
//! # Answers
//!
//! | command | answer |
//! |---|---|
//! | fewer than 12 bytes, or a prefix other than `U3VC` | `INVALID_HEADER` (see below) |
//! | no `REQUEST_ACK` flag | nothing; the command is still carried out if it is valid |
//! | longer than `max_cmd_len` | `INVALID_PARAMETER` |
//! | length other than `12 + scd_len` | `INVALID_HEADER` |
//! | unknown command id, or stacked while stacked is off | `NOT_IMPLEMENTED` |
//! | SCD inconsistent with its command (bad size, list overrun) | `INVALID_PARAMETER` |
//! | another command still being processed | `BUSY` |
//! | READMEM of 0 bytes or of more than `max_ack_len − 12` | `INVALID_PARAMETER` |
//! | WRITEMEM of 0 bytes | `INVALID_PARAMETER` |
//! | an access running past `u64::MAX` | `INVALID_ADDRESS` |
//! | the register space refuses | the status it returns |
//!
//! A message too short to hold a header or with a wrong prefix still gets
//! an `INVALID_HEADER` acknowledge, since a host waiting for an answer
//! fails faster on it than on a timeout. The request id (bytes 10–11) and
//! the command id (bytes 6–7) are echoed when the message is long enough
//! to hold them, 0 otherwise; the acknowledge id is the command id plus one,
//! as for every GenCP acknowledge.
//!
//! # Error acknowledges
//!
//! An acknowledge whose status is not `SUCCESS` has an empty SCD, for every
//! command. That is what the cameleon device emulator sends
//! (`device/src/u3v/emulator`, `ErrorAck` with `scd_len` 0), and hosts
//! (Aravis, this crate's `control_channel`) look only at the status of a
//! failed acknowledge. In particular a failed WRITEMEM reports no "bytes
//! written" count, and a WRITEMEM_STACKED that fails part-way stops at the
//! failing entry (the entries before it stay written) and answers with the
//! error status alone.
//!
//! # PENDING_ACK
//!
//! Before carrying out a command, the server asks the register space how
//! long it will take ([`RegisterSpace::duration_hint`], summed over stacked
//! entries). When that exceeds [`ServerConfig::pending_threshold`] (by
//! default half the maximum device response time, so the host's deadline
//! is never reached), a PENDING acknowledge with the expected time in
//! milliseconds (rounded up, clamped to `1..=65535`) goes out first, then
//! the final acknowledge once the operation is done. [`ControlPipe`] queues
//! the PENDING acknowledge before the operation starts, so the host sees it
//! while the device works.
//!
//! # Access privilege
//!
//! A server made [`with_access`](ControlServer::with_access) serves the
//! ABRM access-privilege register (0x204) itself from the device's shared
//! [`AccessPrivilege`]: reads of 0x204 show the holder's value, a write of
//! exactly those 4 bytes claims or releases the privilege, and while
//! another host holds it every write of this server's host is answered
//! with `ACCESS_DENIED` (reads are always served). A write covering only
//! part of the register, or the register and more, is refused with
//! `INVALID_PARAMETER`; the register space never sees 0x204. Dropping the
//! server releases what its host held. See [`access`](crate::access) for
//! the rules. Without `with_access`, 0x204 is an ordinary register of the
//! register space.
//!
//! # Resend
//!
//! A command with the `COMMAND_RESEND` flag is carried out like any other
//! by default (register accesses of a camera are idempotent in practice);
//! with [`ServerConfig::accept_resend`] off it is answered with
//! `RESEND_NOT_SUPPORTED` (0xA001).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::access::{self, AccessPrivilege, HostId, Overlap};
use crate::gencp::{
    decode_command, Ack, AckHeader, CommandHeader, CommandRef, Flags, Status, HEADER_LEN,
    READMEM_ACK, READMEM_CMD, READMEM_STACKED_ACK, READMEM_STACKED_CMD, WRITEMEM_CMD,
    WRITEMEM_STACKED_CMD,
};
use crate::link::DeviceError;

// ---------------------------------------------------------------------------
// Register space
// ---------------------------------------------------------------------------

/// The registers a device exposes on its control channel.
///
/// The camera implements this; the server calls it from whichever thread
/// delivers the command. A refusal is a GenCP / USB3 Vision [`Status`] such
/// as [`Status::INVALID_ADDRESS`], [`Status::WRITE_PROTECT`],
/// [`Status::ACCESS_DENIED`] or [`Status::BUSY`], sent to the host as is
/// ([`Status::SUCCESS`] returned as an error is sent as [`Status::ERROR`]).
pub trait RegisterSpace: Send + Sync {
    /// Reads `buf.len()` bytes (at least 1) at `address` into `buf`.
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), Status>;

    /// Writes `data` (at least 1 byte) at `address`.
    fn write(&self, address: u64, data: &[u8]) -> Result<(), Status>;

    /// How long the access will take, for the PENDING acknowledge. The
    /// default is zero: every access is quick.
    fn duration_hint(&self, address: u64, len: usize, write: bool) -> Duration {
        let _ = (address, len, write);
        Duration::ZERO
    }
}

impl<T: RegisterSpace + ?Sized> RegisterSpace for Arc<T> {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), Status> {
        (**self).read(address, buf)
    }
    fn write(&self, address: u64, data: &[u8]) -> Result<(), Status> {
        (**self).write(address, data)
    }
    fn duration_hint(&self, address: u64, len: usize, write: bool) -> Duration {
        (**self).duration_hint(address, len, write)
    }
}

impl<T: RegisterSpace + ?Sized> RegisterSpace for Box<T> {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), Status> {
        (**self).read(address, buf)
    }
    fn write(&self, address: u64, data: &[u8]) -> Result<(), Status> {
        (**self).write(address, data)
    }
    fn duration_hint(&self, address: u64, len: usize, write: bool) -> Duration {
        (**self).duration_hint(address, len, write)
    }
}

// ---------------------------------------------------------------------------
// Configuration and statistics
// ---------------------------------------------------------------------------

/// What the server accepts; these must agree with what the device
/// advertises in its bootstrap registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConfig {
    /// SBRM MaxCmdTransferLength: the longest command accepted, header
    /// included.
    pub max_cmd_len: u32,
    /// SBRM MaxAckTransferLength: the longest acknowledge sent, header
    /// included. A READMEM may ask for at most this minus 12 bytes.
    pub max_ack_len: u32,
    /// Whether READMEM_STACKED and WRITEMEM_STACKED are served (ABRM device
    /// capability bit 13); otherwise they get `NOT_IMPLEMENTED`.
    pub stacked: bool,
    /// An operation expected to take longer than this is announced with a
    /// PENDING acknowledge first.
    pub pending_threshold: Duration,
    /// Whether commands flagged `COMMAND_RESEND` are carried out (`true`)
    /// or answered with `RESEND_NOT_SUPPORTED`.
    pub accept_resend: bool,
}

impl ServerConfig {
    /// A configuration for a device advertising `max_response_ms` as its
    /// maximum device response time (ABRM 0x1CC): PENDING is sent for
    /// anything expected to take more than half of it.
    pub fn with_response_time(mut self, max_response_ms: u32) -> Self {
        self.pending_threshold = Duration::from_millis(u64::from(max_response_ms) / 2);
        self
    }

    /// Largest READMEM count accepted: `max_ack_len − 12`, capped to `u16`.
    pub fn max_read_len(&self) -> usize {
        (self.max_ack_len as usize)
            .saturating_sub(HEADER_LEN)
            .min(usize::from(u16::MAX))
    }

    /// Largest WRITEMEM data accepted: `max_cmd_len − 12 − 8`, capped to
    /// what an SCD can carry.
    pub fn max_write_len(&self) -> usize {
        (self.max_cmd_len as usize)
            .saturating_sub(HEADER_LEN + 8)
            .min(usize::from(u16::MAX) - 8)
    }
}

impl Default for ServerConfig {
    /// 1024-byte acknowledges, commands of up to 1032 bytes (so that a
    /// host splitting writes by the acknowledge limit, as Aravis does, is
    /// served), stacked commands on, PENDING beyond 100 ms (half of a
    /// 200 ms maximum response time), resends accepted.
    fn default() -> Self {
        ServerConfig {
            max_cmd_len: 1024 + 8,
            max_ack_len: 1024,
            stacked: true,
            pending_threshold: Duration::from_millis(100),
            accept_resend: true,
        }
    }
}

/// Counters of a [`ControlServer`], as returned by [`ControlServer::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerStats {
    /// Command messages handed to the server.
    pub commands: u64,
    /// Messages rejected before their body was looked at (bad header,
    /// wrong length, too long, unknown id).
    pub malformed: u64,
    /// Acknowledges produced, PENDING included.
    pub acks: u64,
    /// Acknowledges with an error status.
    pub error_acks: u64,
    /// PENDING acknowledges.
    pub pending_acks: u64,
    /// Bytes read from the register space.
    pub bytes_read: u64,
    /// Bytes written to the register space.
    pub bytes_written: u64,
}

#[derive(Debug, Default)]
struct Counters {
    commands: AtomicU64,
    malformed: AtomicU64,
    acks: AtomicU64,
    error_acks: AtomicU64,
    pending_acks: AtomicU64,
    bytes_read: AtomicU64,
    bytes_written: AtomicU64,
}

fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

/// A GenCP server over a [`RegisterSpace`]: turns command messages into
/// acknowledge messages. See the [module docs](self) for the answers.
#[derive(Debug)]
pub struct ControlServer<R> {
    registers: R,
    config: ServerConfig,
    busy: AtomicBool,
    counters: Counters,
    access: Option<(Arc<AccessPrivilege>, HostId)>,
}

impl<R> Drop for ControlServer<R> {
    fn drop(&mut self) {
        if let Some((privilege, host)) = &self.access {
            privilege.release(*host);
        }
    }
}

/// Where an error acknowledge goes: request id and acknowledge id.
#[derive(Debug, Clone, Copy)]
struct Reply {
    request_id: u16,
    ack_id: u16,
}

impl<R: RegisterSpace> ControlServer<R> {
    /// A server over `registers`.
    pub fn new(registers: R, config: ServerConfig) -> Self {
        ControlServer {
            registers,
            config,
            busy: AtomicBool::new(false),
            counters: Counters::default(),
            access: None,
        }
    }

    /// The server takes part in the device's access privilege as a host
    /// of its own (see the [module docs](self#access-privilege)).
    pub fn with_access(mut self, privilege: Arc<AccessPrivilege>) -> Self {
        if let Some((old, host)) = self.access.take() {
            old.release(host);
        }
        let host = privilege.new_host();
        self.access = Some((privilege, host));
        self
    }

    /// This server's host identity in the device's access privilege.
    pub fn host(&self) -> Option<HostId> {
        self.access.as_ref().map(|(_, h)| *h)
    }

    /// Reads from the register space, with the access-privilege register
    /// overlaid when the server serves it.
    fn read_registers(&self, address: u64, buf: &mut [u8]) -> Result<(), Status> {
        let Some((privilege, _)) = &self.access else {
            return self.registers.read(address, buf);
        };
        match access::overlap(address, buf.len()) {
            Overlap::None => self.registers.read(address, buf),
            Overlap::Exact => {
                buf.copy_from_slice(&privilege.value().to_le_bytes());
                Ok(())
            }
            Overlap::Partial => {
                self.registers.read(address, buf)?;
                access::patch_read(address, buf, privilege.value());
                Ok(())
            }
        }
    }

    /// Writes to the register space, or to the access privilege, as the
    /// privilege allows.
    fn write_registers(&self, address: u64, data: &[u8]) -> Result<(), Status> {
        let Some((privilege, host)) = &self.access else {
            return self.registers.write(address, data);
        };
        match access::overlap(address, data.len()) {
            Overlap::None => {
                privilege.check_write(*host)?;
                self.registers.write(address, data)
            }
            Overlap::Exact => {
                let value = data
                    .try_into()
                    .map(u32::from_le_bytes)
                    .map_err(|_| Status::INVALID_PARAMETER)?;
                privilege.write(*host, value)
            }
            Overlap::Partial => Err(Status::INVALID_PARAMETER),
        }
    }

    /// The register space.
    pub fn registers(&self) -> &R {
        &self.registers
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> ServerStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ServerStats {
            commands: get(&c.commands),
            malformed: get(&c.malformed),
            acks: get(&c.acks),
            error_acks: get(&c.error_acks),
            pending_acks: get(&c.pending_acks),
            bytes_read: get(&c.bytes_read),
            bytes_written: get(&c.bytes_written),
        }
    }

    /// Handles one command message and appends the acknowledges to send,
    /// in order, to `acks`; returns how many were appended (0 when the
    /// command did not ask for one).
    pub fn handle(&self, command: &[u8], acks: &mut Vec<Vec<u8>>) -> usize {
        let before = acks.len();
        self.handle_with(command, |a| acks.push(a));
        acks.len() - before
    }

    /// Handles one command message, passing each acknowledge to `emit` as
    /// soon as it is ready: a PENDING acknowledge before the operation is
    /// carried out, the final one after.
    pub fn handle_with(&self, command: &[u8], mut emit: impl FnMut(Vec<u8>)) {
        bump(&self.counters.commands, 1);
        let header = match CommandHeader::decode(command) {
            Ok(h) => h,
            Err(_) => {
                bump(&self.counters.malformed, 1);
                let field = |at: usize| {
                    command
                        .get(at..at + 2)
                        .map(|b| u16::from_le_bytes([b[0], b[1]]))
                };
                let reply = Reply {
                    request_id: field(10).unwrap_or(0),
                    ack_id: field(6).map_or(0, |id| id.wrapping_add(1)),
                };
                self.error(reply, Status::INVALID_HEADER, &mut emit);
                return;
            }
        };
        let want_ack = header.flags.request_ack();
        let reply = Reply {
            request_id: header.request_id,
            ack_id: header.command_id.wrapping_add(1),
        };
        let mut out = Out {
            server: self,
            reply,
            want_ack,
            emit: &mut emit,
        };

        if let Some(status) = self.check_envelope(command, &header) {
            bump(&self.counters.malformed, 1);
            out.error(status);
            return;
        }
        if self
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            out.error(Status::BUSY);
            return;
        }
        let cmd = match decode_command(command) {
            Ok(c) => c.command,
            Err(_) => {
                self.busy.store(false, Ordering::Release);
                out.error(Status::INVALID_PARAMETER);
                return;
            }
        };
        match cmd {
            CommandRef::ReadMem { address, count } => self.read_mem(address, count, &mut out),
            CommandRef::WriteMem { address, data } => self.write_mem(address, data, &mut out),
            CommandRef::ReadMemStacked(list) => {
                let entries: Vec<(u64, u16)> = list.iter().collect();
                self.read_stacked(&entries, &mut out)
            }
            CommandRef::WriteMemStacked(list) => {
                let entries: Vec<(u64, &[u8])> = list.iter().collect();
                self.write_stacked(&entries, &mut out)
            }
        }
        self.busy.store(false, Ordering::Release);
    }

    /// Checks what does not depend on the body: length limits, framing,
    /// command id, resend.
    fn check_envelope(&self, command: &[u8], header: &CommandHeader) -> Option<Status> {
        if command.len() > self.config.max_cmd_len as usize {
            return Some(Status::INVALID_PARAMETER);
        }
        if command.len() != header.message_len() {
            return Some(Status::INVALID_HEADER);
        }
        match header.command_id {
            READMEM_CMD | WRITEMEM_CMD => {}
            READMEM_STACKED_CMD | WRITEMEM_STACKED_CMD if self.config.stacked => {}
            _ => return Some(Status::NOT_IMPLEMENTED),
        }
        if header.flags.contains(Flags::COMMAND_RESEND) && !self.config.accept_resend {
            return Some(Status::RESEND_NOT_SUPPORTED);
        }
        None
    }

    fn read_mem(&self, address: u64, count: u16, out: &mut Out<'_, '_, R, impl FnMut(Vec<u8>)>) {
        let count = usize::from(count);
        if count == 0 || count > self.config.max_read_len() {
            return out.error(Status::INVALID_PARAMETER);
        }
        if !in_range(address, count) {
            return out.error(Status::INVALID_ADDRESS);
        }
        out.maybe_pending(self.registers.duration_hint(address, count, false));
        let mut msg = vec![0u8; HEADER_LEN + count];
        let res = match msg.get_mut(HEADER_LEN..) {
            Some(body) => self.read_registers(address, body),
            None => Err(Status::ERROR),
        };
        match res {
            Ok(()) => {
                bump(&self.counters.bytes_read, count as u64);
                out.data(msg, READMEM_ACK);
            }
            Err(s) => out.error(s),
        }
    }

    fn write_mem(&self, address: u64, data: &[u8], out: &mut Out<'_, '_, R, impl FnMut(Vec<u8>)>) {
        if data.is_empty() || data.len() > self.config.max_write_len() {
            return out.error(Status::INVALID_PARAMETER);
        }
        if !in_range(address, data.len()) {
            return out.error(Status::INVALID_ADDRESS);
        }
        out.maybe_pending(self.registers.duration_hint(address, data.len(), true));
        match self.write_registers(address, data) {
            Ok(()) => {
                bump(&self.counters.bytes_written, data.len() as u64);
                // max_write_len keeps the count within u16.
                let n = u16::try_from(data.len()).unwrap_or(u16::MAX);
                out.ack(&Ack::WriteMem { bytes_written: n });
            }
            Err(s) => out.error(s),
        }
    }

    fn read_stacked(&self, entries: &[(u64, u16)], out: &mut Out<'_, '_, R, impl FnMut(Vec<u8>)>) {
        if entries.is_empty() {
            return out.error(Status::INVALID_PARAMETER);
        }
        let mut total = 0usize;
        let mut hint = Duration::ZERO;
        for &(address, count) in entries {
            let count = usize::from(count);
            if count == 0 {
                return out.error(Status::INVALID_PARAMETER);
            }
            if !in_range(address, count) {
                return out.error(Status::INVALID_ADDRESS);
            }
            total += count;
            hint = hint.saturating_add(self.registers.duration_hint(address, count, false));
        }
        if total > self.config.max_read_len() {
            return out.error(Status::INVALID_PARAMETER);
        }
        out.maybe_pending(hint);
        let mut msg = vec![0u8; HEADER_LEN + total];
        let mut at = HEADER_LEN;
        for &(address, count) in entries {
            let count = usize::from(count);
            let res = match msg.get_mut(at..at + count) {
                Some(body) => self.read_registers(address, body),
                None => Err(Status::ERROR),
            };
            if let Err(s) = res {
                return out.error(s);
            }
            at += count;
        }
        bump(&self.counters.bytes_read, total as u64);
        out.data(msg, READMEM_STACKED_ACK);
    }

    fn write_stacked(
        &self,
        entries: &[(u64, &[u8])],
        out: &mut Out<'_, '_, R, impl FnMut(Vec<u8>)>,
    ) {
        if entries.is_empty() {
            return out.error(Status::INVALID_PARAMETER);
        }
        // The acknowledge carries 4 bytes per entry.
        if HEADER_LEN + 4 * entries.len() > self.config.max_ack_len as usize {
            return out.error(Status::INVALID_PARAMETER);
        }
        let mut hint = Duration::ZERO;
        for &(address, data) in entries {
            if data.is_empty() {
                return out.error(Status::INVALID_PARAMETER);
            }
            if !in_range(address, data.len()) {
                return out.error(Status::INVALID_ADDRESS);
            }
            hint = hint.saturating_add(self.registers.duration_hint(address, data.len(), true));
        }
        out.maybe_pending(hint);
        let mut written = Vec::with_capacity(entries.len());
        for &(address, data) in entries {
            if let Err(s) = self.write_registers(address, data) {
                return out.error(s);
            }
            bump(&self.counters.bytes_written, data.len() as u64);
            // An entry's length field is a u16 on the wire.
            written.push(u16::try_from(data.len()).unwrap_or(u16::MAX));
        }
        out.ack(&Ack::WriteMemStacked(written));
    }

    fn error(&self, reply: Reply, status: Status, emit: &mut impl FnMut(Vec<u8>)) {
        Out {
            server: self,
            reply,
            want_ack: true,
            emit,
        }
        .error(status)
    }
}

/// Whether `len` bytes at `address` stay within the 64-bit address space.
fn in_range(address: u64, len: usize) -> bool {
    len == 0 || address.checked_add(len as u64 - 1).is_some()
}

/// The acknowledge sink of one command.
struct Out<'s, 'e, R, F> {
    server: &'s ControlServer<R>,
    reply: Reply,
    want_ack: bool,
    emit: &'e mut F,
}

impl<R, F: FnMut(Vec<u8>)> Out<'_, '_, R, F> {
    fn send(&mut self, msg: Vec<u8>) {
        bump(&self.server.counters.acks, 1);
        (self.emit)(msg);
    }

    fn ack(&mut self, ack: &Ack) {
        if !self.want_ack {
            return;
        }
        let mut msg = Vec::with_capacity(ack.encoded_len());
        // Every acknowledge built here fits a u16 SCD and carries a valid
        // status, so encoding does not fail; if it did, nothing is sent
        // and the host times out.
        if ack.encode(self.reply.request_id, &mut msg).is_ok() {
            if !ack.status().is_success() {
                bump(&self.server.counters.error_acks, 1);
            }
            self.send(msg);
        }
    }

    fn error(&mut self, status: Status) {
        let status = if status.is_success() {
            Status::ERROR
        } else {
            status
        };
        self.ack(&Ack::Error {
            status,
            command_id: self.reply.ack_id,
            scd: Vec::new(),
        });
    }

    /// Sends a data acknowledge whose body is already in `msg[12..]`.
    fn data(&mut self, mut msg: Vec<u8>, ack_id: u16) {
        if !self.want_ack {
            return;
        }
        let Ok(scd_len) = u16::try_from(msg.len().saturating_sub(HEADER_LEN)) else {
            return self.error(Status::ERROR);
        };
        let header = AckHeader {
            status: Status::SUCCESS,
            command_id: ack_id,
            scd_len,
            request_id: self.reply.request_id,
        };
        if header.encode_into(&mut msg).is_ok() {
            self.send(msg);
        }
    }

    fn maybe_pending(&mut self, expected: Duration) {
        if !self.want_ack || expected <= self.server.config.pending_threshold {
            return;
        }
        let ms = expected.as_nanos().div_ceil(1_000_000);
        let timeout_ms = u16::try_from(ms).unwrap_or(u16::MAX).max(1);
        bump(&self.server.counters.pending_acks, 1);
        self.ack(&Ack::Pending { timeout_ms });
    }
}

// ---------------------------------------------------------------------------
// Pipe
// ---------------------------------------------------------------------------

/// Acknowledges kept waiting for the host at most; older ones are dropped
/// first (their host gave up on them long ago).
pub const MAX_QUEUED_ACKS: usize = 64;

#[derive(Debug, Default)]
struct PipeQueue {
    acks: VecDeque<Vec<u8>>,
    /// Bytes of the front acknowledge already delivered.
    sent: usize,
    dropped: u64,
}

/// The control endpoints of a device: commands arrive through
/// [`bulk_out`](Self::bulk_out), acknowledges leave through
/// [`bulk_in`](Self::bulk_in). A [`UsbDevice`](crate::link::UsbDevice)
/// model forwards its control OUT and IN endpoints here. Thread-safe.
///
/// An acknowledge longer than the host's buffer is delivered in pieces:
/// what fits now, the rest in the next IN transfers, as USB would.
#[derive(Debug)]
pub struct ControlPipe<R> {
    server: ControlServer<R>,
    queue: Mutex<PipeQueue>,
    ready: Condvar,
}

impl<R: RegisterSpace> ControlPipe<R> {
    /// A pipe serving `server`.
    pub fn new(server: ControlServer<R>) -> Self {
        ControlPipe {
            server,
            queue: Mutex::new(PipeQueue::default()),
            ready: Condvar::new(),
        }
    }

    /// The server behind the pipe.
    pub fn server(&self) -> &ControlServer<R> {
        &self.server
    }

    fn lock(&self) -> MutexGuard<'_, PipeQueue> {
        // The queue holds plain byte buffers; a panic elsewhere cannot
        // leave it inconsistent.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A command arrives on the control OUT endpoint: it is handled at once
    /// and its acknowledges are queued (a PENDING acknowledge is queued, and
    /// the host woken, before the operation is carried out).
    pub fn bulk_out(&self, data: &[u8]) -> Result<(), DeviceError> {
        self.server.handle_with(data, |ack| {
            let mut q = self.lock();
            if q.acks.len() >= MAX_QUEUED_ACKS {
                q.acks.pop_front();
                q.sent = 0;
                q.dropped += 1;
            }
            q.acks.push_back(ack);
            drop(q);
            self.ready.notify_all();
        });
        Ok(())
    }

    /// The host offers `buf` on the control IN endpoint: the next queued
    /// acknowledge (or what is left of it) is copied in, at most
    /// `buf.len()` bytes. Waits until `deadline` for one, then fails with
    /// [`DeviceError::Timeout`].
    pub fn bulk_in(&self, buf: &mut [u8], deadline: Instant) -> Result<usize, DeviceError> {
        let mut q = self.lock();
        loop {
            let sent = q.sent;
            if let Some(front) = q.acks.front() {
                let rest = front.get(sent..).unwrap_or(&[]);
                let n = rest.len().min(buf.len());
                if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
                    dst.copy_from_slice(src);
                }
                if sent + n >= front.len() {
                    q.acks.pop_front();
                    q.sent = 0;
                } else {
                    q.sent = sent + n;
                }
                return Ok(n);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(DeviceError::Timeout);
            }
            q = self
                .ready
                .wait_timeout(q, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Acknowledges waiting for the host.
    pub fn queued(&self) -> usize {
        self.lock().acks.len()
    }

    /// Acknowledges dropped because more than [`MAX_QUEUED_ACKS`] waited.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Drops every queued acknowledge (a USB reset, or the host clearing a
    /// halt of the IN endpoint); returns how many there were.
    pub fn clear(&self) -> usize {
        let mut q = self.lock();
        let n = q.acks.len();
        q.acks.clear();
        q.sent = 0;
        n
    }
}
