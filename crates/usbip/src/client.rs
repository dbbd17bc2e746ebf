//! A USB/IP client: lists a server's devices and imports one as a
//! [`UsbLink`].
//!
//! ```no_run
//! use std::time::Duration;
//! use u3v::link::{SetupPacket, UsbLink};
//! use usbip::client::Client;
//!
//! for d in Client::list("127.0.0.1:3240")? {
//!     println!("{} {:04x}:{:04x}", d.info.busid, d.info.id_vendor, d.info.id_product);
//! }
//! let link = Client::import("127.0.0.1:3240", "1-1")?;
//! let mut desc = [0u8; 18];
//! link.control_in(SetupPacket::get_descriptor(1, 0, 18), &mut desc, Duration::from_secs(1))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How transfers travel
//!
//! Every transfer is a CMD_SUBMIT with a fresh seqnum. One reader thread
//! per link reads the replies and hands each RET_SUBMIT to the caller
//! waiting for its seqnum. The payload of an IN reply is read from the
//! socket straight into the buffer given to [`UsbLink::submit_in`]; the
//! synchronous calls ([`UsbLink::bulk_in`], [`UsbLink::control_in`]) read
//! into a buffer of the link and copy once into the caller's slice.
//!
//! A transfer that times out is unlinked (CMD_UNLINK) and the call waits
//! up to [`UNLINK_WAIT`] for the server's answer, so that the endpoint is
//! free again when it returns. If the device completed the transfer before
//! the unlink took effect, its data is returned rather than lost.
//!
//! [`UsbLink::submit_in`] keeps several IN transfers in flight on an
//! endpoint, which is what makes bulk throughput over TCP good: the server
//! fills the next buffer while the previous one is on the wire.
//!
//! When the connection drops (or the server stops), every waiting call and
//! every later one fails with [`LinkError::Disconnected`].

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use u3v::link::{InTransfer, LinkError, SetupPacket, UsbLink, ENDPOINT_IN};

use crate::op::{self, ExportedDevice, OpMessage, UsbDeviceInfo};
use crate::sockopt;
use crate::urb::{self, status, transfer_flags, BasicHeader, CmdSubmit, CmdUnlink, Direction};
use crate::urb::{Message, HEADER_LEN};

/// How long a timed-out transfer waits for the answer to its CMD_UNLINK.
pub const UNLINK_WAIT: Duration = Duration::from_secs(1);

/// Default time allowed to connect and for the operation phase (list,
/// import).
pub const OP_TIMEOUT: Duration = Duration::from_secs(5);

/// Why listing or importing failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection failed.
    #[error("USB/IP connection error: {0}")]
    Io(#[from] io::Error),
    /// The server sent bytes that are not a valid reply.
    #[error("invalid USB/IP reply: {0}")]
    Protocol(#[from] crate::Error),
    /// The server sent a valid message that does not answer the request.
    #[error("unexpected USB/IP reply: {0}")]
    Unexpected(&'static str),
    /// The server refused the request with this `ST_*` status.
    #[error("the server refused: {}", status_text(*.0))]
    Refused(u32),
    /// The address resolved to nothing.
    #[error("the address resolves to no socket address")]
    NoAddress,
}

fn status_text(st: u32) -> String {
    match st {
        op::ST_NA => "device not available (ST_NA)".into(),
        op::ST_DEV_BUSY => "device busy: already imported (ST_DEV_BUSY)".into(),
        op::ST_DEV_ERR => "device in error (ST_DEV_ERR)".into(),
        op::ST_NODEV => "no such device (ST_NODEV)".into(),
        op::ST_ERROR => "error (ST_ERROR)".into(),
        other => format!("status {other}"),
    }
}

/// Entry points: listing a server's devices and importing one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Client;

impl Client {
    /// The devices `addr` exports (OP_REQ_DEVLIST).
    pub fn list(addr: impl ToSocketAddrs) -> Result<Vec<ExportedDevice>, ClientError> {
        let mut s = connect(addr)?;
        s.write_all(&OpMessage::ReqDevlist.to_vec()?)?;
        match read_op(&mut s)? {
            OpMessage::RepDevlist { status, devices } if status == op::ST_OK => Ok(devices),
            OpMessage::RepDevlist { status, .. } => Err(ClientError::Refused(status)),
            _ => Err(ClientError::Unexpected("not an OP_REP_DEVLIST")),
        }
    }

    /// Imports device `busid` of `addr` (OP_REQ_IMPORT) and returns a link
    /// to it. Fails with [`ClientError::Refused`]`(ST_DEV_BUSY)` if another
    /// client has it.
    pub fn import(addr: impl ToSocketAddrs, busid: &str) -> Result<UsbipLink, ClientError> {
        let mut s = connect(addr)?;
        s.write_all(
            &OpMessage::ReqImport {
                busid: busid.to_owned(),
            }
            .to_vec()?,
        )?;
        let info = match read_op(&mut s)? {
            OpMessage::RepImport {
                status,
                device: Some(info),
            } if status == op::ST_OK => info,
            OpMessage::RepImport { status, .. } => return Err(ClientError::Refused(status)),
            _ => return Err(ClientError::Unexpected("not an OP_REP_IMPORT")),
        };
        s.set_read_timeout(None)?;
        UsbipLink::start(s, info)
    }
}

fn connect(addr: impl ToSocketAddrs) -> Result<TcpStream, ClientError> {
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, OP_TIMEOUT) {
            Ok(s) => {
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(OP_TIMEOUT))?;
                s.set_write_timeout(Some(OP_TIMEOUT))?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or(ClientError::NoAddress, ClientError::Io))
}

fn read_op(s: &mut TcpStream) -> Result<OpMessage, ClientError> {
    let mut buf = vec![0u8; op::OP_HEADER_LEN];
    s.read_exact(&mut buf)?;
    loop {
        // message_len bounds the device count, so the length is bounded.
        if let Some(len) = op::message_len(&buf)? {
            if buf.len() < len {
                let have = buf.len();
                buf.resize(len, 0);
                s.read_exact(&mut buf[have..])?;
            }
            let (m, _) = op::decode(&buf)?.ok_or(ClientError::Unexpected("truncated reply"))?;
            return Ok(m);
        }
        // A device list whose length is not known yet: read a bit more.
        let have = buf.len();
        buf.resize(have + 4096, 0);
        let n = s.read(&mut buf[have..])?;
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
        }
        buf.truncate(have + n);
    }
}

/// A transfer waiting for its RET_SUBMIT.
struct Pending {
    /// Endpoint address (with the direction bit); 0 for control.
    endpoint: u8,
    direction: Direction,
    /// IN destination (taken by the reader while it reads into it).
    buf: Option<Vec<u8>>,
    /// `Ok(actual_length)` or the URB status.
    result: Option<Result<usize, i32>>,
    /// Nobody waits any more: the reader drops the reply.
    abandoned: bool,
}

#[derive(Default)]
struct State {
    pending: HashMap<u32, Pending>,
    /// CMD_UNLINK seqnum -> seqnum of the transfer it cancels.
    unlinks: HashMap<u32, u32>,
    /// Seqnums from submit_in, per endpoint address, oldest first.
    queued: HashMap<u8, VecDeque<u32>>,
    disconnected: bool,
}

struct Inner {
    state: Mutex<State>,
    /// One wake-up per endpoint address ([`waker_slot`]): a completion
    /// wakes only the thread waiting on its endpoint, not (say) the event
    /// thread at every frame of the stream.
    changed: [Condvar; 32],
    writer: Mutex<TcpStream>,
    next_seqnum: AtomicU32,
    devid: u32,
}

/// The slot of `endpoint` (number and direction) in [`Inner::changed`].
fn waker_slot(endpoint: u8) -> usize {
    usize::from(endpoint & 0x0f) | if endpoint & ENDPOINT_IN != 0 { 16 } else { 0 }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain maps and a socket: consistent even after a panic elsewhere.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A [`UsbLink`] to a device imported from a USB/IP server. Dropping it
/// closes the connection (the server frees the device).
pub struct UsbipLink {
    inner: Arc<Inner>,
    stream: TcpStream,
    reader: Option<JoinHandle<()>>,
    info: UsbDeviceInfo,
}

impl std::fmt::Debug for UsbipLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbipLink")
            .field("busid", &self.info.busid)
            .finish_non_exhaustive()
    }
}

impl UsbipLink {
    fn start(stream: TcpStream, info: UsbDeviceInfo) -> Result<UsbipLink, ClientError> {
        stream.set_write_timeout(None)?;
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            changed: std::array::from_fn(|_| Condvar::new()),
            writer: Mutex::new(stream.try_clone()?),
            next_seqnum: AtomicU32::new(1),
            devid: info.devid(),
        });
        let reader = {
            let inner = inner.clone();
            let stream = stream.try_clone()?;
            thread::Builder::new()
                .name("usbip-client-reader".into())
                .spawn(move || read_loop(&inner, stream))?
        };
        Ok(UsbipLink {
            inner,
            stream,
            reader: Some(reader),
            info,
        })
    }

    /// The device as the server described it on import.
    pub fn device_info(&self) -> &UsbDeviceInfo {
        &self.info
    }

    /// The server's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// Closes the connection: pending and later calls fail with
    /// [`LinkError::Disconnected`].
    pub fn close(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

impl Drop for UsbipLink {
    fn drop(&mut self) {
        self.close();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// Reads replies until the connection ends, then fails everything pending.
fn read_loop(inner: &Inner, mut stream: TcpStream) {
    if let Err(e) = read_replies(inner, &mut stream) {
        if e.kind() != io::ErrorKind::UnexpectedEof {
            // Only a protocol violation is worth reporting; a closed
            // socket is the normal end.
            if e.kind() == io::ErrorKind::InvalidData {
                eprintln!("usbip client: closing the connection: {e}");
            }
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    let mut st = lock(&inner.state);
    st.disconnected = true;
    for c in &inner.changed {
        c.notify_all();
    }
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

fn read_replies(inner: &Inner, stream: &mut TcpStream) -> io::Result<()> {
    let mut header = [0u8; HEADER_LEN];
    let mut scratch = Vec::new();
    loop {
        stream.read_exact(&mut header)?;
        let layout = {
            let st = lock(&inner.state);
            urb::layout(&header, &mut |h: &BasicHeader| {
                st.pending.get(&h.seqnum).map(|p| p.direction)
            })
            .map_err(invalid)?
        };
        let seqnum = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        // The destination buffer, if the payload fits it.
        let mut dest = None;
        if layout.payload_len > 0 {
            let mut st = lock(&inner.state);
            if let Some(p) = st.pending.get_mut(&seqnum) {
                if !p.abandoned
                    && p.buf
                        .as_ref()
                        .is_some_and(|b| b.len() >= layout.payload_len)
                {
                    dest = p.buf.take();
                }
            }
        }
        let read = match dest.as_mut() {
            Some(b) => read_payload(stream, &mut b[..layout.payload_len]),
            None => {
                scratch.resize(layout.payload_len, 0);
                stream.read_exact(&mut scratch)
            }
        };
        let mut iso = vec![0u8; layout.iso_len()];
        let read = read.and_then(|()| stream.read_exact(&mut iso));
        // Give the buffer back before anything else, even on error.
        if let Some(b) = dest.take() {
            if let Some(p) = lock(&inner.state).pending.get_mut(&seqnum) {
                p.buf = Some(b);
            }
        }
        read?;
        // `layout` validated the header: only the RET_* fields remain.
        let field = |off: usize| {
            u32::from_be_bytes([
                header[off],
                header[off + 1],
                header[off + 2],
                header[off + 3],
            ])
        };
        let msg = match field(0) {
            urb::USBIP_RET_SUBMIT => Reply::Submit {
                seqnum,
                status: field(20) as i32,
                actual: field(24),
            },
            urb::USBIP_RET_UNLINK => Reply::Unlink {
                seqnum,
                status: field(20) as i32,
            },
            _ => return Err(invalid("a CMD_* message from the server")),
        };
        let mut st = lock(&inner.state);
        // The endpoint whose waiter this reply concerns.
        let mut woken = None;
        match msg {
            Reply::Submit {
                seqnum,
                status,
                actual,
            } => {
                let Some(p) = st.pending.get_mut(&seqnum) else {
                    return Err(invalid(format!("RET_SUBMIT for unknown seqnum {seqnum}")));
                };
                woken = Some(p.endpoint);
                if p.direction == Direction::In && actual as usize != layout.payload_len {
                    return Err(invalid("RET_SUBMIT length mismatch"));
                }
                if p.buf.as_ref().is_some_and(|b| b.len() < actual as usize) {
                    // More than requested (babble): report, don't trust.
                    p.result = Some(Err(status::EOVERFLOW));
                } else {
                    p.result = Some(if status == 0 {
                        Ok(actual as usize)
                    } else {
                        Err(status)
                    });
                }
                if p.abandoned {
                    st.pending.remove(&seqnum);
                }
            }
            Reply::Unlink { seqnum, status } => {
                if let Some(target) = st.unlinks.remove(&seqnum) {
                    if let Some(p) = st.pending.get_mut(&target) {
                        woken = Some(p.endpoint);
                        // -ECONNRESET: unlinked, no RET_SUBMIT follows.
                        // 0: it completed; its RET_SUBMIT came first (or,
                        // from a server that orders them otherwise, comes
                        // later).
                        if p.result.is_none() && status == status::ECONNRESET {
                            p.result = Some(Err(status::ECONNRESET));
                            if p.abandoned {
                                st.pending.remove(&target);
                            }
                        }
                    }
                }
            }
        }
        if let Some(ep) = woken {
            inner.changed[waker_slot(ep)].notify_all();
        }
    }
}

/// Payloads from this size on are read with a raised receive low-water
/// mark.
const LOW_WATER_FROM: usize = 256 * 1024;

/// Highest low-water mark while a large payload is read.
const LOW_WATER: usize = 1 << 20;

/// Lowest mark worth a system call.
const LOW_WATER_MIN: usize = 64 * 1024;

/// The low-water mark for reading the last `remaining` bytes of a message:
/// at most half of them. A read that has already copied part of the
/// queued data still waits for the kernel to see a full mark of new bytes,
/// so the bytes still to come must always be at least the mark; with at
/// most half, they are, whatever the read has copied.
fn low_water_for(remaining: usize) -> usize {
    let half = remaining / 2;
    if half < LOW_WATER_MIN {
        1
    } else {
        half.min(LOW_WATER)
    }
}

/// Reads exactly `buf.len()` payload bytes. A large payload (a frame) is
/// read with the socket's receive low-water mark raised
/// ([`low_water_for`]), so that the kernel wakes this thread about once
/// per megabyte rather than at every segment that arrives: at hundreds of
/// MB/s, waking and switching threads is, after the copy itself, the
/// largest cost of receiving. The mark is back at 1 byte afterwards.
fn read_payload(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<()> {
    if buf.len() < LOW_WATER_FROM {
        return stream.read_exact(buf);
    }
    let mut at = 0;
    let mut mark = 1;
    let r = loop {
        if at == buf.len() {
            break Ok(());
        }
        let want = low_water_for(buf.len() - at);
        if want != mark {
            match sockopt::set_receive_low_water(stream, want) {
                Ok(()) => mark = want,
                // The socket keeps its old mark: go on with one byte.
                Err(_) if mark != 1 => {
                    if sockopt::set_receive_low_water(stream, 1).is_ok() {
                        mark = 1;
                    }
                }
                Err(_) => {}
            }
        }
        match stream.read(&mut buf[at..]) {
            Ok(0) => break Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    if mark != 1 {
        let _ = sockopt::set_receive_low_water(stream, 1);
    }
    r
}

enum Reply {
    Submit {
        seqnum: u32,
        status: i32,
        actual: u32,
    },
    Unlink {
        seqnum: u32,
        status: i32,
    },
}

/// Maps a URB status to a link error.
fn link_error(status: i32, endpoint: u8) -> LinkError {
    match status {
        status::EPIPE => LinkError::Stall(endpoint),
        status::ENODEV | status::ESHUTDOWN => LinkError::Disconnected,
        status::ENOENT => LinkError::NoEndpoint(endpoint),
        status::ECONNRESET => LinkError::Cancelled,
        status::ETIMEDOUT => LinkError::Timeout,
        other => LinkError::Transport(format!("URB status {other}")),
    }
}

impl Inner {
    fn seqnum(&self) -> u32 {
        loop {
            let s = self.next_seqnum.fetch_add(1, Ordering::Relaxed);
            if s != 0 {
                return s;
            }
        }
    }

    /// Registers and sends a CMD_SUBMIT; returns its seqnum.
    fn submit(
        &self,
        endpoint: u8,
        direction: Direction,
        setup: [u8; 8],
        out: &[u8],
        in_buf: Option<Vec<u8>>,
        queue: bool,
    ) -> Result<u32, (LinkError, Option<Vec<u8>>)> {
        let len = match direction {
            Direction::Out => out.len(),
            Direction::In => in_buf.as_ref().map_or(0, Vec::len),
        };
        let transfer_buffer_length = match u32::try_from(len) {
            Ok(l) if l <= urb::MAX_TRANSFER_LEN => l,
            _ => {
                return Err((
                    LinkError::Transport(format!("transfer of {len} bytes is too large")),
                    in_buf,
                ))
            }
        };
        let seqnum = self.seqnum();
        let cmd = Message::CmdSubmit(CmdSubmit {
            base: BasicHeader::new(seqnum, self.devid, direction, endpoint & 0x0f),
            transfer_flags: if direction == Direction::In {
                transfer_flags::URB_DIR_IN
            } else {
                0
            },
            transfer_buffer_length,
            data: if direction == Direction::Out {
                out
            } else {
                &[]
            },
            setup,
            ..CmdSubmit::default()
        });
        let header = match cmd.encode_header() {
            Ok(h) => h,
            Err(e) => return Err((LinkError::Transport(e.to_string()), in_buf)),
        };
        {
            let mut st = lock(&self.state);
            if st.disconnected {
                return Err((LinkError::Disconnected, in_buf));
            }
            st.pending.insert(
                seqnum,
                Pending {
                    endpoint,
                    direction,
                    buf: in_buf,
                    result: None,
                    abandoned: false,
                },
            );
            if queue {
                st.queued.entry(endpoint).or_default().push_back(seqnum);
            }
        }
        if let Err(e) = self.write(&header, cmd.payload()) {
            let mut st = lock(&self.state);
            let buf = st.pending.remove(&seqnum).and_then(|p| p.buf);
            if let Some(q) = st.queued.get_mut(&endpoint) {
                q.retain(|s| *s != seqnum);
            }
            return Err((e, buf));
        }
        Ok(seqnum)
    }

    fn write(&self, header: &[u8; HEADER_LEN], payload: &[u8]) -> Result<(), LinkError> {
        let mut w = lock(&self.writer);
        let r = if payload.len() <= 16 * 1024 {
            let mut v = Vec::with_capacity(HEADER_LEN + payload.len());
            v.extend_from_slice(header);
            v.extend_from_slice(payload);
            w.write_all(&v)
        } else {
            w.write_all(header).and_then(|()| w.write_all(payload))
        };
        r.map_err(|_| {
            let _ = w.shutdown(Shutdown::Both);
            LinkError::Disconnected
        })
    }

    /// Waits for transfer `seqnum` until `deadline`; `None` on timeout.
    fn wait<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        seqnum: u32,
        deadline: Instant,
    ) -> (MutexGuard<'a, State>, Option<Result<(), LinkError>>) {
        loop {
            let endpoint = match st.pending.get(&seqnum) {
                None => return (st, Some(Err(LinkError::Disconnected))),
                // The reader sets the result after giving the buffer back.
                Some(p) if p.result.is_some() => return (st, Some(Ok(()))),
                Some(p) => p.endpoint,
            };
            if st.disconnected {
                return (st, Some(Err(LinkError::Disconnected)));
            }
            let now = Instant::now();
            if now >= deadline {
                return (st, None);
            }
            st = self.changed[waker_slot(endpoint)]
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Sends CMD_UNLINK for `target` and waits (at most [`UNLINK_WAIT`])
    /// for the transfer to end either way.
    fn unlink(&self, target: u32) -> bool {
        let seqnum = self.seqnum();
        {
            let mut st = lock(&self.state);
            if st.disconnected {
                return false;
            }
            st.unlinks.insert(seqnum, target);
        }
        let msg = Message::CmdUnlink(CmdUnlink {
            base: BasicHeader::new(seqnum, self.devid, Direction::Out, 0),
            unlink_seqnum: target,
        });
        let Ok(header) = msg.encode_header() else {
            return false;
        };
        self.write(&header, &[]).is_ok()
    }

    /// Runs one transfer to completion: returns the IN buffer (if any) and
    /// the outcome. On timeout the transfer is unlinked.
    fn transfer(
        &self,
        endpoint: u8,
        direction: Direction,
        setup: [u8; 8],
        out: &[u8],
        in_buf: Option<Vec<u8>>,
        timeout: Duration,
    ) -> (Option<Vec<u8>>, Result<usize, LinkError>) {
        let seqnum = match self.submit(endpoint, direction, setup, out, in_buf, false) {
            Ok(s) => s,
            Err((e, buf)) => return (buf, Err(e)),
        };
        let deadline = Instant::now() + timeout;
        let st = lock(&self.state);
        let (st, r) = self.wait(st, seqnum, deadline);
        match r {
            Some(Ok(())) => self.finish(st, seqnum, endpoint),
            Some(Err(e)) => {
                let mut st = st;
                let buf = st.pending.remove(&seqnum).and_then(|p| p.buf);
                (buf, Err(e))
            }
            None => {
                drop(st);
                let sent = self.unlink(seqnum);
                let st = lock(&self.state);
                let (mut st, r) = if sent {
                    self.wait(st, seqnum, Instant::now() + UNLINK_WAIT)
                } else {
                    (st, Some(Err(LinkError::Disconnected)))
                };
                match r {
                    Some(Ok(())) => {
                        // Completed before the unlink took effect: keep it.
                        let (buf, res) = self.finish(st, seqnum, endpoint);
                        (
                            buf,
                            match res {
                                Err(LinkError::Cancelled) => Err(LinkError::Timeout),
                                other => other,
                            },
                        )
                    }
                    Some(Err(e)) => {
                        let buf = st.pending.remove(&seqnum).and_then(|p| p.buf);
                        (buf, Err(e))
                    }
                    None => {
                        let buf = abandon(&mut st, seqnum);
                        (buf, Err(LinkError::Timeout))
                    }
                }
            }
        }
    }

    /// Removes a completed transfer and maps its result.
    fn finish(
        &self,
        mut st: MutexGuard<'_, State>,
        seqnum: u32,
        endpoint: u8,
    ) -> (Option<Vec<u8>>, Result<usize, LinkError>) {
        match st.pending.remove(&seqnum) {
            Some(Pending {
                buf,
                result: Some(r),
                ..
            }) => (buf, r.map_err(|s| link_error(s, endpoint))),
            Some(p) => (p.buf, Err(LinkError::Disconnected)),
            None => (None, Err(LinkError::Disconnected)),
        }
    }
}

/// Marks a transfer whose answer will be dropped; returns its buffer if the
/// reader is not using it.
fn abandon(st: &mut State, seqnum: u32) -> Option<Vec<u8>> {
    let p = st.pending.get_mut(&seqnum)?;
    p.abandoned = true;
    let buf = p.buf.take();
    if p.result.is_some() {
        st.pending.remove(&seqnum);
    }
    buf
}

impl UsbLink for UsbipLink {
    fn control_in(
        &self,
        setup: SetupPacket,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, LinkError> {
        let len = buf.len().min(usize::from(setup.length));
        let (data, r) = self.inner.transfer(
            0,
            Direction::In,
            setup.to_bytes(),
            &[],
            Some(vec![0u8; len]),
            timeout,
        );
        copy_back(data, r, buf)
    }

    fn control_out(
        &self,
        setup: SetupPacket,
        data: &[u8],
        timeout: Duration,
    ) -> Result<(), LinkError> {
        self.inner
            .transfer(0, Direction::Out, setup.to_bytes(), data, None, timeout)
            .1
            .map(|_| ())
    }

    fn bulk_out(&self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<(), LinkError> {
        if endpoint & ENDPOINT_IN != 0 || endpoint & 0x0f == 0 {
            return Err(LinkError::NoEndpoint(endpoint));
        }
        self.inner
            .transfer(endpoint, Direction::Out, [0; 8], data, None, timeout)
            .1
            .map(|_| ())
    }

    fn bulk_in(&self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        if endpoint & ENDPOINT_IN == 0 || endpoint & 0x0f == 0 {
            return Err(LinkError::NoEndpoint(endpoint));
        }
        let (data, r) = self.inner.transfer(
            endpoint,
            Direction::In,
            [0; 8],
            &[],
            Some(vec![0u8; buf.len()]),
            timeout,
        );
        copy_back(data, r, buf)
    }

    fn submit_in(&self, endpoint: u8, buf: Vec<u8>) -> Result<(), LinkError> {
        if endpoint & ENDPOINT_IN == 0 || endpoint & 0x0f == 0 {
            return Err(LinkError::NoEndpoint(endpoint));
        }
        self.inner
            .submit(endpoint, Direction::In, [0; 8], &[], Some(buf), true)
            .map(|_| ())
            .map_err(|(e, _)| e)
    }

    fn reap_in(&self, endpoint: u8, timeout: Duration) -> Result<InTransfer, LinkError> {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.inner.state);
        let seqnum = *st
            .queued
            .get(&endpoint)
            .and_then(VecDeque::front)
            .ok_or(LinkError::NotQueued(endpoint))?;
        let r;
        (st, r) = self.inner.wait(st, seqnum, deadline);
        match r {
            None => Err(LinkError::Timeout),
            Some(outcome) => {
                if let Some(q) = st.queued.get_mut(&endpoint) {
                    q.pop_front();
                }
                let (buf, result) = match outcome {
                    Ok(()) => self.inner.finish(st, seqnum, endpoint),
                    Err(e) => (st.pending.remove(&seqnum).and_then(|p| p.buf), Err(e)),
                };
                Ok(InTransfer {
                    buf: buf.unwrap_or_default(),
                    result,
                })
            }
        }
    }

    fn cancel_in(&self, endpoint: u8) -> Vec<Vec<u8>> {
        let seqnums: Vec<u32> = lock(&self.inner.state)
            .queued
            .remove(&endpoint)
            .map(Vec::from)
            .unwrap_or_default();
        for &s in &seqnums {
            if !self.inner.unlink(s) {
                break;
            }
        }
        let deadline = Instant::now() + UNLINK_WAIT;
        let mut st = lock(&self.inner.state);
        let mut bufs = Vec::with_capacity(seqnums.len());
        for s in seqnums {
            let r;
            (st, r) = self.inner.wait(st, s, deadline);
            let buf = match r {
                Some(_) => st.pending.remove(&s).and_then(|p| p.buf),
                None => abandon(&mut st, s),
            };
            bufs.extend(buf);
        }
        bufs
    }

    fn clear_halt(&self, endpoint: u8) -> Result<(), LinkError> {
        // CLEAR_FEATURE(ENDPOINT_HALT) to the endpoint.
        let setup = SetupPacket {
            request_type: 0x02,
            request: 1,
            value: 0,
            index: u16::from(endpoint),
            length: 0,
        };
        self.control_out(setup, &[], Duration::from_secs(5))
            .map_err(|e| match e {
                LinkError::Stall(_) => LinkError::Stall(endpoint),
                other => other,
            })
    }
}

fn copy_back(
    data: Option<Vec<u8>>,
    r: Result<usize, LinkError>,
    buf: &mut [u8],
) -> Result<usize, LinkError> {
    let n = r?;
    let data = data.ok_or(LinkError::Disconnected)?;
    let n = n.min(data.len()).min(buf.len());
    buf[..n].copy_from_slice(&data[..n]);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::mpsc;

    #[test]
    fn the_low_water_mark_is_at_most_half_of_what_is_still_owed() {
        for remaining in [
            0,
            1,
            1000,
            128 * 1024 - 1,
            128 * 1024,
            300_000,
            5_013_504,
            64 << 20,
        ] {
            let m = low_water_for(remaining);
            assert!(m == 1 || (m >= LOW_WATER_MIN && m <= remaining / 2 && m <= LOW_WATER));
        }
        assert_eq!(low_water_for(5_013_504), LOW_WATER);
        assert_eq!(low_water_for(1000), 1);
    }

    /// Payloads streaming in continuously, in pieces of many sizes: every
    /// byte is read, in order, and no read waits for bytes that are not
    /// coming (a mark above what is still owed once part of the queue has
    /// been copied would wait forever at the end of a payload).
    #[test]
    fn large_payloads_arriving_in_pieces_are_read_whole() {
        const PAYLOADS: usize = 20;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let len = 2 * LOW_WATER + 12_345;
        let data: Vec<u8> = (0..len).map(|i| (i * 31 + i / 4096) as u8).collect();
        let sent = data.clone();
        let writer = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut piece = 1000;
            for _ in 0..PAYLOADS {
                let mut at = 0;
                while at < sent.len() {
                    let n = piece.min(sent.len() - at);
                    s.write_all(&sent[at..at + n]).unwrap();
                    at += n;
                    piece = piece * 7 % 70_001 + 1;
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_micros(20) {}
                }
            }
            // Keep the connection open: the reader must not need more.
            thread::sleep(Duration::from_secs(3));
        });
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            let mut buf = vec![0u8; len];
            for _ in 0..PAYLOADS {
                buf.fill(0);
                if let Err(e) = read_payload(&mut s, &mut buf) {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
                let _ = tx.send(Ok(buf == data));
            }
        });
        for i in 0..PAYLOADS {
            let whole = rx
                .recv_timeout(Duration::from_secs(2))
                .unwrap_or_else(|_| panic!("payload {i}: the read waits for bytes that never come"))
                .unwrap();
            assert!(whole, "payload {i} differs");
        }
        writer.join().unwrap();
    }
}
