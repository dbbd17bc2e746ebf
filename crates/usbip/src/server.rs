//! A USB/IP server exporting [`UsbDevice`] models over TCP.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn device() -> Arc<dyn u3v::link::UsbDevice> { unimplemented!() }
//! use usbip::server::Server;
//!
//! let mut server = Server::bind_default()?; // 127.0.0.1:3240
//! let busid = server.export(device())?; // "1-1"
//! let handle = server.spawn()?;
//! // ... `usbip attach -r 127.0.0.1 -b 1-1`, or usbip::client::Client::import
//! handle.stop();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Connections
//!
//! Every accepted connection gets its own thread. It answers one operation
//! message: OP_REQ_DEVLIST (the reply lists every exported device, built
//! from the device's own descriptors, then the connection closes) or
//! OP_REQ_IMPORT. A successful import switches the connection to URB
//! traffic for that device until the client disconnects; a device is
//! imported by at most one connection at a time (a second import is
//! answered with `ST_DEV_BUSY`).
//!
//! # URBs
//!
//! Each endpoint and direction has its own worker thread and queue, so a
//! bulk IN transfer waiting for data never holds up another endpoint; URBs
//! of one endpoint complete in submission order. Workers call the device
//! with short deadlines ([`SLICE`]) and loop, so that CMD_UNLINK can cancel
//! a transfer that is queued or waiting for data: it is answered with
//! RET_UNLINK status `-ECONNRESET` and no RET_SUBMIT. A transfer that
//! completed first gets its RET_SUBMIT, then a RET_UNLINK with status 0.
//! Replies go through one writer thread per connection, which keeps
//! messages whole and lets a worker fill its next buffer while the previous
//! one is being sent.
//!
//! Device results map to URB statuses: stall `-EPIPE`, no such endpoint
//! `-ENOENT` (what `usb_submit_urb` returns), device gone `-ENODEV`,
//! timeout of a control or OUT transfer `-ETIMEDOUT`.
//!
//! Malformed messages close the connection (the reason is written to
//! standard error); they never panic the server nor affect other
//! connections.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use u3v::link::{DeviceError, SetupPacket, UsbDevice, ENDPOINT_IN};

use crate::op::{self, ExportedDevice, InterfaceInfo, OpMessage, Speed, UsbDeviceInfo};
use crate::urb::{self, status, Direction, FromHeader, Message, HEADER_LEN};
use crate::urb::{BasicHeader, RetSubmit, RetUnlink};

/// How long a worker lets a device wait for data before checking for an
/// unlink or a closed connection.
pub const SLICE: Duration = Duration::from_millis(20);

/// How long the operation phase (the first request) may take.
const OP_TIMEOUT: Duration = Duration::from_secs(10);

/// Replies queued to the writer thread before workers wait.
const WRITE_QUEUE: usize = 2;

/// Why the server could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A socket operation failed.
    #[error("USB/IP server socket error: {0}")]
    Io(#[from] io::Error),
    /// The bus id is empty, too long for the 32-byte field, or has a NUL.
    #[error("invalid bus id {0:?}")]
    InvalidBusId(String),
    /// Another device is exported under this bus id.
    #[error("bus id {0:?} is already exported")]
    DuplicateBusId(String),
}

struct Export {
    busid: String,
    busnum: u32,
    devnum: u32,
    device: Arc<dyn UsbDevice>,
    imported: AtomicBool,
}

struct Shared {
    exports: Vec<Export>,
    stop: AtomicBool,
    /// Open connections, to shut them down when the server stops.
    conns: Mutex<HashMap<u64, TcpStream>>,
    next_conn: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // State behind these locks stays consistent across a panic (plain
    // queues and flags), so a poisoned lock is used as is.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A USB/IP server: a listening socket and the devices it exports.
pub struct Server {
    listener: TcpListener,
    exports: Vec<Export>,
}

impl Server {
    /// Listens on `addr`. Pass `127.0.0.1:0` for an ephemeral port (see
    /// [`Server::local_addr`]). The server is reachable from other machines
    /// only if the caller passes such an address (e.g. `0.0.0.0:3240`):
    /// USB/IP has no authentication.
    pub fn bind(addr: impl ToSocketAddrs) -> Result<Server, ServerError> {
        let listener = TcpListener::bind(addr)?;
        Ok(Server {
            listener,
            exports: Vec::new(),
        })
    }

    /// Listens on `127.0.0.1:3240`, the USB/IP port on the loopback
    /// interface only.
    pub fn bind_default() -> Result<Server, ServerError> {
        Server::bind(("127.0.0.1", crate::USBIP_PORT))
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        Ok(self.listener.local_addr()?)
    }

    /// Exports `device` under the next free bus id `1-N` and returns it.
    pub fn export(&mut self, device: Arc<dyn UsbDevice>) -> Result<String, ServerError> {
        let mut n = self.exports.len() + 1;
        while self.exports.iter().any(|e| e.busid == format!("1-{n}")) {
            n += 1;
        }
        let busid = format!("1-{n}");
        self.export_as(&busid, device)?;
        Ok(busid)
    }

    /// Exports `device` under `busid` (at most 31 bytes, e.g. `"1-1"`).
    pub fn export_as(
        &mut self,
        busid: &str,
        device: Arc<dyn UsbDevice>,
    ) -> Result<(), ServerError> {
        if busid.is_empty() || busid.len() >= op::BUSID_LEN || busid.contains('\0') {
            return Err(ServerError::InvalidBusId(busid.to_owned()));
        }
        if self.exports.iter().any(|e| e.busid == busid) {
            return Err(ServerError::DuplicateBusId(busid.to_owned()));
        }
        let devnum = self.exports.len() as u32 + 2;
        self.exports.push(Export {
            busid: busid.to_owned(),
            busnum: 1,
            devnum,
            device,
            imported: AtomicBool::new(false),
        });
        Ok(())
    }

    fn into_shared(self) -> (TcpListener, Arc<Shared>) {
        (
            self.listener,
            Arc::new(Shared {
                exports: self.exports,
                stop: AtomicBool::new(false),
                conns: Mutex::new(HashMap::new()),
                next_conn: AtomicU64::new(0),
            }),
        )
    }

    /// Serves on the calling thread until `stop` becomes true (checked
    /// every 20 ms), then closes every connection.
    pub fn run(self, stop: Arc<AtomicBool>) -> Result<(), ServerError> {
        let (listener, shared) = self.into_shared();
        accept_loop(&listener, &shared, &stop)
    }

    /// Serves on a new thread; the handle stops it.
    pub fn spawn(self) -> Result<ServerHandle, ServerError> {
        let addr = self.local_addr()?;
        let (listener, shared) = self.into_shared();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            thread::Builder::new()
                .name("usbip-server".into())
                .spawn(move || {
                    if let Err(e) = accept_loop(&listener, &shared, &stop) {
                        eprintln!("usbip server: {e}");
                    }
                })?
        };
        Ok(ServerHandle {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

/// A running server (see [`Server::spawn`]); dropping it stops the server.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes every connection and waits for the accept
    /// thread. Connection threads finish on their own as their sockets
    /// close.
    pub fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop_now();
    }
}

fn accept_loop(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    stop: &AtomicBool,
) -> Result<(), ServerError> {
    listener.set_nonblocking(true)?;
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, peer)) => {
                if let Err(e) = start_connection(shared, stream, peer) {
                    eprintln!("usbip server: connection from {peer}: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(20));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                // Resource exhaustion (EMFILE...) is transient: back off.
                eprintln!("usbip server: accept: {e}");
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
    shared.stop.store(true, Ordering::SeqCst);
    for (_, s) in lock(&shared.conns).drain() {
        let _ = s.shutdown(Shutdown::Both);
    }
    Ok(())
}

fn start_connection(shared: &Arc<Shared>, stream: TcpStream, peer: SocketAddr) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_nodelay(true)?;
    // A device on a real link sends from its own processor. On loopback,
    // a sender held back by its congestion window sends the rest from
    // inside the host's receive calls, as each acknowledgement frees the
    // window: the host pays the device's transmit work. BBR (a common
    // default) keeps the window near the tiny loopback bandwidth-delay
    // product, so that is most of the stream; cubic's window opens on a
    // lossless link and the server's own writes send the data. Best
    // effort: without cubic the system's choice stays.
    let _ = crate::sockopt::set_congestion_control(&stream, "cubic");
    let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
    lock(&shared.conns).insert(id, stream.try_clone()?);
    let shared = shared.clone();
    let spawned = thread::Builder::new()
        .name(format!("usbip-conn-{id}"))
        .spawn({
            let shared = shared.clone();
            move || {
                if let Err(reason) = serve_connection(&shared, stream) {
                    eprintln!("usbip server: closing connection from {peer}: {reason}");
                }
                if let Some(s) = lock(&shared.conns).remove(&id) {
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
        });
    if let Err(e) = spawned {
        if let Some(s) = lock(&shared.conns).remove(&id) {
            let _ = s.shutdown(Shutdown::Both);
        }
        return Err(e);
    }
    // A stop that raced with the insertion above.
    if shared.stop.load(Ordering::SeqCst) {
        if let Some(s) = lock(&shared.conns).remove(&id) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
    Ok(())
}

/// Why a connection was closed (reported, never returned to a caller).
#[derive(Debug, thiserror::Error)]
enum CloseReason {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("malformed message: {0}")]
    Protocol(#[from] crate::Error),
    #[error("unexpected message: {0}")]
    Unexpected(&'static str),
}

/// Answers the operation request, then serves URBs after an import.
fn serve_connection(shared: &Arc<Shared>, mut stream: TcpStream) -> Result<(), CloseReason> {
    stream.set_read_timeout(Some(OP_TIMEOUT))?;
    let mut buf = vec![0u8; op::OP_HEADER_LEN];
    stream.read_exact(&mut buf)?;
    let len = op::message_len(&buf)?.ok_or(CloseReason::Unexpected("operation header"))?;
    if len > op::OP_HEADER_LEN + op::BUSID_LEN {
        return Err(CloseReason::Unexpected(
            "a reply where a request was expected",
        ));
    }
    buf.resize(len, 0);
    stream.read_exact(&mut buf[op::OP_HEADER_LEN..])?;
    let (msg, _) = op::decode(&buf)?.ok_or(CloseReason::Unexpected("truncated operation"))?;
    match msg {
        OpMessage::ReqDevlist => {
            let devices = shared
                .exports
                .iter()
                .map(|e| exported_device(e).map_err(|why| (e, why)))
                .filter_map(|r| match r {
                    Ok(d) => Some(d),
                    Err((e, why)) => {
                        eprintln!("usbip server: not listing {}: {why}", e.busid);
                        None
                    }
                })
                .collect();
            let reply = OpMessage::RepDevlist {
                status: op::ST_OK,
                devices,
            };
            stream.write_all(&reply.to_vec()?)?;
            Ok(())
        }
        OpMessage::ReqImport { busid } => {
            let Some(export) = shared.exports.iter().find(|e| e.busid == busid) else {
                let reply = OpMessage::RepImport {
                    status: op::ST_NODEV,
                    device: None,
                };
                stream.write_all(&reply.to_vec()?)?;
                return Ok(());
            };
            let info = match exported_device(export) {
                Ok(d) => d.info,
                Err(why) => {
                    eprintln!("usbip server: cannot import {busid}: {why}");
                    let reply = OpMessage::RepImport {
                        status: op::ST_DEV_ERR,
                        device: None,
                    };
                    stream.write_all(&reply.to_vec()?)?;
                    return Ok(());
                }
            };
            if export
                .imported
                .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                let reply = OpMessage::RepImport {
                    status: op::ST_DEV_BUSY,
                    device: None,
                };
                stream.write_all(&reply.to_vec()?)?;
                return Ok(());
            }
            let result = (|| {
                let reply = OpMessage::RepImport {
                    status: op::ST_OK,
                    device: Some(info),
                };
                stream.write_all(&reply.to_vec()?)?;
                stream.set_read_timeout(None)?;
                serve_urbs(shared, export, stream)
            })();
            export.imported.store(false, Ordering::SeqCst);
            result
        }
        OpMessage::RepDevlist { .. } | OpMessage::RepImport { .. } => Err(CloseReason::Unexpected(
            "a reply where a request was expected",
        )),
    }
}

/// Why the device info could not be built.
#[derive(Debug, thiserror::Error)]
enum InfoError {
    #[error("GET_DESCRIPTOR failed: {0:?}")]
    Device(DeviceError),
    #[error("bad descriptor: {0}")]
    Descriptor(&'static str),
}

/// The device info and interfaces from the device's own descriptors.
fn exported_device(e: &Export) -> Result<ExportedDevice, InfoError> {
    let mut dev = [0u8; 18];
    let n = e
        .device
        .control_in(&SetupPacket::get_descriptor(1, 0, 18), &mut dev)
        .map_err(InfoError::Device)?;
    if n < 18 || dev[1] != 1 {
        return Err(InfoError::Descriptor("device descriptor too short"));
    }
    let mut head = [0u8; 9];
    let n = e
        .device
        .control_in(&SetupPacket::get_descriptor(2, 0, 9), &mut head)
        .map_err(InfoError::Device)?;
    if n < 9 || head[1] != 2 {
        return Err(InfoError::Descriptor("configuration descriptor too short"));
    }
    let total = u16::from_le_bytes([head[2], head[3]]);
    let mut cfg = vec![0u8; usize::from(total)];
    let n = e
        .device
        .control_in(&SetupPacket::get_descriptor(2, 0, total), &mut cfg)
        .map_err(InfoError::Device)?;
    cfg.truncate(n.min(cfg.len()));
    let interfaces = interfaces_of(&cfg);
    let num_interfaces =
        u8::try_from(interfaces.len()).map_err(|_| InfoError::Descriptor("too many interfaces"))?;
    Ok(ExportedDevice {
        info: UsbDeviceInfo {
            path: format!("/sys/devices/mvcam/usb{}/{}", e.busnum, e.busid),
            busid: e.busid.clone(),
            busnum: e.busnum,
            devnum: e.devnum,
            speed: Speed::Super,
            id_vendor: u16::from_le_bytes([dev[8], dev[9]]),
            id_product: u16::from_le_bytes([dev[10], dev[11]]),
            bcd_device: u16::from_le_bytes([dev[12], dev[13]]),
            device_class: dev[4],
            device_subclass: dev[5],
            device_protocol: dev[6],
            configuration_value: head[5],
            num_configurations: dev[17],
            num_interfaces,
        },
        interfaces,
    })
}

/// Class triples of the interfaces (alternate setting 0) of a
/// configuration descriptor set.
fn interfaces_of(cfg: &[u8]) -> Vec<InterfaceInfo> {
    let mut out = Vec::new();
    let mut rest = cfg;
    while let [len, kind, ..] = *rest {
        let len = usize::from(len);
        if len < 2 || len > rest.len() {
            break;
        }
        if kind == 4 && len >= 9 && rest[3] == 0 {
            out.push(InterfaceInfo {
                class: rest[5],
                subclass: rest[6],
                protocol: rest[7],
            });
        }
        rest = &rest[len..];
    }
    out
}

/// The endpoint workers of a connection, by endpoint number and direction.
type Workers = HashMap<(u8, Direction), (Arc<Endpoint>, JoinHandle<()>)>;

/// A reply for the writer thread: header, then payload.
struct Outgoing {
    header: [u8; HEADER_LEN],
    payload: Vec<u8>,
}

/// One URB waiting in an endpoint queue.
struct Urb {
    seqnum: u32,
    setup: [u8; 8],
    length: usize,
    data: Vec<u8>,
}

#[derive(Default)]
struct EpState {
    queue: VecDeque<Urb>,
    /// Seqnum of the URB the worker is running.
    current: Option<u32>,
    /// Seqnum of the CMD_UNLINK for the current URB, if one came.
    unlink: Option<u32>,
    closed: bool,
}

#[derive(Default)]
struct Endpoint {
    state: Mutex<EpState>,
    changed: Condvar,
}

/// The result of asking an endpoint to unlink a URB.
enum Unlinked {
    /// It was still queued: removed.
    Removed,
    /// It is running: the worker answers the unlink.
    Running,
    /// Not here.
    NotFound,
}

impl Endpoint {
    fn unlink(&self, target: u32, unlink_seqnum: u32) -> Unlinked {
        let mut st = lock(&self.state);
        if let Some(i) = st.queue.iter().position(|u| u.seqnum == target) {
            st.queue.remove(i);
            return Unlinked::Removed;
        }
        if st.current == Some(target) {
            st.unlink = Some(unlink_seqnum);
            return Unlinked::Running;
        }
        Unlinked::NotFound
    }
}

/// Per connection state shared by the reader and the workers.
struct Conn {
    device: Arc<dyn UsbDevice>,
    out: SyncSender<Outgoing>,
    dead: Arc<AtomicBool>,
    /// Payload buffers the writer has finished with.
    pool: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Conn {
    fn send(&self, msg: &Message<'_>, payload: Vec<u8>) {
        match msg.encode_header() {
            Ok(header) => {
                if self.out.send(Outgoing { header, payload }).is_err() {
                    self.dead.store(true, Ordering::SeqCst);
                }
            }
            Err(e) => eprintln!("usbip server: cannot encode a reply: {e}"),
        }
    }

    fn ret_submit(&self, seqnum: u32, status: i32, actual_length: usize, data: Vec<u8>) {
        let actual = u32::try_from(actual_length).unwrap_or(u32::MAX);
        let payload_len = data.len();
        let msg = Message::RetSubmit(RetSubmit {
            base: BasicHeader::reply(seqnum),
            status,
            actual_length: actual,
            // The writer sends `data`; the header only needs the length.
            data: &[],
            ..RetSubmit::default()
        });
        debug_assert!(payload_len == 0 || payload_len == actual_length);
        self.send(&msg, data);
    }

    fn ret_unlink(&self, seqnum: u32, status: i32) {
        self.send(
            &Message::RetUnlink(RetUnlink {
                base: BasicHeader::reply(seqnum),
                status,
            }),
            Vec::new(),
        );
    }

    /// A buffer of `len` bytes from the pool. Only the bytes a device or
    /// the client writes are ever sent or decoded (replies are truncated
    /// to the device's count), so a reused buffer is not cleared first:
    /// clearing a frame-sized buffer per transfer would cost as much as
    /// the frame's own copy.
    fn buffer(&self, len: usize) -> Vec<u8> {
        let mut b = {
            let mut pool = lock(&self.pool);
            // The smallest that holds `len`: frames keep to frame-sized
            // buffers, control replies to small ones.
            let fit = pool
                .iter()
                .enumerate()
                .filter(|(_, b)| b.capacity() >= len)
                .min_by_key(|(_, b)| b.capacity())
                .map(|(i, _)| i);
            match fit {
                Some(i) => pool.swap_remove(i),
                None => Vec::new(),
            }
        };
        if b.len() >= len {
            b.truncate(len);
        } else {
            b.resize(len, 0);
        }
        b
    }
}

/// Serves URB traffic for `export` until the connection ends.
fn serve_urbs(shared: &Arc<Shared>, export: &Export, stream: TcpStream) -> Result<(), CloseReason> {
    let (tx, rx) = mpsc::sync_channel(WRITE_QUEUE);
    let conn = Arc::new(Conn {
        device: export.device.clone(),
        out: tx,
        dead: Arc::new(AtomicBool::new(false)),
        pool: Arc::new(Mutex::new(Vec::new())),
    });
    let writer = {
        let stream = stream.try_clone()?;
        let (dead, pool) = (conn.dead.clone(), conn.pool.clone());
        thread::Builder::new()
            .name("usbip-writer".into())
            .spawn(move || write_loop(stream, rx, &dead, &pool))?
    };
    let mut endpoints: Workers = HashMap::new();
    let result = read_loop(shared, &conn, &stream, &mut endpoints);
    // Stop the workers, then the writer (when the last sender is gone).
    for (ep, _) in endpoints.values() {
        let mut st = lock(&ep.state);
        st.closed = true;
        st.queue.clear();
        ep.changed.notify_all();
    }
    conn.dead.store(true, Ordering::SeqCst);
    let _ = stream.shutdown(Shutdown::Both);
    for (_, (_, worker)) in endpoints.drain() {
        let _ = worker.join();
    }
    drop(conn);
    let _ = writer.join();
    result
}

fn read_loop(
    shared: &Shared,
    conn: &Arc<Conn>,
    mut stream: &TcpStream,
    endpoints: &mut Workers,
) -> Result<(), CloseReason> {
    let mut header = [0u8; HEADER_LEN];
    loop {
        if let Err(e) = stream.read_exact(&mut header) {
            if shared.stop.load(Ordering::SeqCst)
                || conn.dead.load(Ordering::SeqCst)
                || e.kind() == io::ErrorKind::UnexpectedEof
            {
                return Ok(()); // the client went away, or we stopped
            }
            return Err(e.into());
        }
        let layout = urb::layout(&header, &mut FromHeader)?;
        let mut payload = conn.buffer(layout.payload_len);
        stream.read_exact(&mut payload)?;
        let mut iso = vec![0u8; layout.iso_len()];
        stream.read_exact(&mut iso)?;
        let msg = urb::decode_parts(&header, &payload, &iso, &mut FromHeader)?;
        match msg {
            Message::CmdSubmit(cmd) => {
                if !cmd.iso_packets.is_empty() {
                    // No isochronous endpoints on the devices served here.
                    conn.ret_submit(cmd.base.seqnum, status::EINVAL, 0, Vec::new());
                    continue;
                }
                let key = (cmd.base.ep, cmd.base.direction);
                let urb = Urb {
                    seqnum: cmd.base.seqnum,
                    setup: cmd.setup,
                    length: cmd.transfer_buffer_length as usize,
                    data: Vec::new(),
                };
                let data = if key.1 == Direction::Out {
                    payload
                } else {
                    Vec::new()
                };
                submit(conn, endpoints, key, Urb { data, ..urb })?;
            }
            Message::CmdUnlink(cmd) => {
                let mut answered = false;
                for (ep, _) in endpoints.values() {
                    match ep.unlink(cmd.unlink_seqnum, cmd.base.seqnum) {
                        Unlinked::Removed => {
                            conn.ret_unlink(cmd.base.seqnum, status::ECONNRESET);
                            answered = true;
                            break;
                        }
                        Unlinked::Running => {
                            answered = true;
                            break;
                        }
                        Unlinked::NotFound => {}
                    }
                }
                if !answered {
                    // Already completed (its RET_SUBMIT is sent or queued).
                    conn.ret_unlink(cmd.base.seqnum, 0);
                }
            }
            Message::RetSubmit(_) | Message::RetUnlink(_) => {
                return Err(CloseReason::Unexpected("a RET_* message from the client"));
            }
        }
    }
}

fn submit(
    conn: &Arc<Conn>,
    endpoints: &mut Workers,
    key: (u8, Direction),
    urb: Urb,
) -> Result<(), CloseReason> {
    let (ep, _) = match endpoints.entry(key) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(v) => {
            let ep = Arc::new(Endpoint::default());
            let worker = {
                let ep = ep.clone();
                let conn = conn.clone();
                let dir = if key.1 == Direction::In { "in" } else { "out" };
                thread::Builder::new()
                    .name(format!("usbip-ep{}{dir}", key.0))
                    .spawn(move || worker_loop(&conn, &ep, key))?
            };
            v.insert((ep, worker))
        }
    };
    let mut st = lock(&ep.state);
    st.queue.push_back(urb);
    ep.changed.notify_all();
    Ok(())
}

fn worker_loop(conn: &Conn, ep: &Endpoint, (num, dir): (u8, Direction)) {
    loop {
        let urb = {
            let mut st = lock(&ep.state);
            loop {
                if st.closed {
                    return;
                }
                if let Some(u) = st.queue.pop_front() {
                    st.current = Some(u.seqnum);
                    st.unlink = None;
                    break u;
                }
                st = ep.changed.wait(st).unwrap_or_else(|e| e.into_inner());
            }
        };
        let seqnum = urb.seqnum;
        let outcome = run_urb(conn, ep, num, dir, urb);
        // The RET_SUBMIT is queued while the URB still counts as running,
        // so that an unlink arriving meanwhile is answered after it.
        let completed = outcome.is_some();
        if let Some((status, actual, data)) = outcome {
            conn.ret_submit(seqnum, status, actual, data);
        }
        let unlink = {
            let mut st = lock(&ep.state);
            st.current = None;
            st.unlink.take()
        };
        if let Some(u) = unlink {
            // Completed: 0. Cancelled while waiting for data: -ECONNRESET,
            // and no RET_SUBMIT.
            conn.ret_unlink(u, if completed { 0 } else { status::ECONNRESET });
        }
    }
}

fn status_of(e: DeviceError) -> i32 {
    match e {
        DeviceError::Timeout => status::ETIMEDOUT,
        DeviceError::Stall => status::EPIPE,
        DeviceError::NoEndpoint => status::ENOENT,
        DeviceError::Disconnected => status::ENODEV,
    }
}

/// Runs one URB: `Some((status, actual_length, IN data))`, or `None` if it
/// was unlinked (or the connection closed) before it completed.
fn run_urb(
    conn: &Conn,
    ep: &Endpoint,
    num: u8,
    dir: Direction,
    urb: Urb,
) -> Option<(i32, usize, Vec<u8>)> {
    let device = &*conn.device;
    if num == 0 {
        let setup = SetupPacket::from_bytes(urb.setup);
        return Some(match dir {
            Direction::In => {
                let len = urb.length.min(usize::from(setup.length));
                let mut buf = conn.buffer(len);
                match device.control_in(&setup, &mut buf) {
                    Ok(n) => {
                        let n = n.min(len);
                        buf.truncate(n);
                        (status::OK, n, buf)
                    }
                    Err(e) => (status_of(e), 0, Vec::new()),
                }
            }
            Direction::Out => {
                let r = standard_out(device, &setup, &urb.data);
                match r {
                    Ok(()) => (status::OK, urb.data.len(), Vec::new()),
                    Err(e) => (status_of(e), 0, Vec::new()),
                }
            }
        });
    }
    match dir {
        Direction::Out => Some(match device.bulk_out(num, &urb.data) {
            Ok(()) => (status::OK, urb.data.len(), Vec::new()),
            Err(e) => (status_of(e), 0, Vec::new()),
        }),
        Direction::In => {
            let mut buf = conn.buffer(urb.length);
            loop {
                {
                    let st = lock(&ep.state);
                    if st.closed || st.unlink.is_some() || conn.dead.load(Ordering::SeqCst) {
                        return None;
                    }
                }
                match device.bulk_in(num | ENDPOINT_IN, &mut buf, Instant::now() + SLICE) {
                    Ok(n) => {
                        let n = n.min(buf.len());
                        buf.truncate(n);
                        return Some((status::OK, n, buf));
                    }
                    Err(DeviceError::Timeout) => {}
                    Err(e) => return Some((status_of(e), 0, Vec::new())),
                }
            }
        }
    }
}

/// Control OUT requests, with the standard ones the server handles itself:
/// CLEAR_FEATURE(ENDPOINT_HALT) clears the halt through
/// [`UsbDevice::clear_halt`]; SET_CONFIGURATION and SET_INTERFACE succeed
/// even if the device model does not handle them (it has one
/// configuration and no alternate settings).
fn standard_out(
    device: &dyn UsbDevice,
    setup: &SetupPacket,
    data: &[u8],
) -> Result<(), DeviceError> {
    const CLEAR_FEATURE: u8 = 1;
    const SET_CONFIGURATION: u8 = 9;
    const SET_INTERFACE: u8 = 11;
    match (setup.request_type, setup.request) {
        (0x02, CLEAR_FEATURE) if setup.value == 0 => device.clear_halt(setup.index as u8),
        (0x00, SET_CONFIGURATION) | (0x01, SET_INTERFACE) => {
            match device.control_out(setup, data) {
                Err(DeviceError::Stall) => Ok(()),
                other => other,
            }
        }
        _ => device.control_out(setup, data),
    }
}

fn write_loop(
    mut stream: TcpStream,
    rx: Receiver<Outgoing>,
    dead: &AtomicBool,
    pool: &Mutex<Vec<Vec<u8>>>,
) {
    // Small replies are gathered into one write; large payloads are
    // written from their own buffer.
    let mut small = Vec::with_capacity(64 * 1024);
    while let Ok(msg) = rx.recv() {
        if dead.load(Ordering::SeqCst) {
            // Keep draining so that no worker blocks on a full queue.
            continue;
        }
        let result = (|| -> io::Result<()> {
            small.clear();
            small.extend_from_slice(&msg.header);
            if msg.payload.len() <= 16 * 1024 {
                small.extend_from_slice(&msg.payload);
                stream.write_all(&small)
            } else {
                stream.write_all(&small)?;
                stream.write_all(&msg.payload)
            }
        })();
        if msg.payload.capacity() > 0 {
            let mut pool = lock(pool);
            if pool.len() < 16 {
                pool.push(msg.payload);
            }
        }
        if let Err(e) = result {
            eprintln!("usbip server: write failed: {e}");
            dead.store(true, Ordering::SeqCst);
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}
