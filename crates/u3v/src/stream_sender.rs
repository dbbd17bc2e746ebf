//! The device side of the USB3 Vision stream: the streaming interface
//! registers (SIRM) and the stream IN endpoint.
//!
//! A [`StreamSender`] holds the SIRM of one stream channel and a bounded
//! queue of [`Frame`]s pushed by the camera. The device's register space
//! forwards accesses of the SIRM address range to
//! [`read_register`](StreamSender::read_register) /
//! [`write_register`](StreamSender::write_register), and the device's
//! [`UsbDevice::bulk_in`](crate::link::UsbDevice::bulk_in) for the stream
//! endpoint calls [`StreamSender::bulk_in`], which writes the next transfer
//! of the current frame straight into the host's buffer (the "pull" model
//! of [`link`](crate::link)): payload bytes are copied once, from the
//! frame to the host.
//!
//! # Transfers of a frame
//!
//! 1. the leader (52 bytes for images);
//! 2. up to *payload transfer count* transfers of *payload transfer size*;
//! 3. final transfer 1, then final transfer 2 (when their sizes are not 0);
//! 4. the trailer (status, valid payload size, size y actually sent).
//!
//! Only real bytes are sent: when the payload ends inside a transfer, that
//! transfer is short, and the transfers after it are skipped (the trailer
//! follows). A payload larger than the negotiated transfers can carry is cut
//! to their capacity and the trailer says [`Status::DATA_OVERRUN`].
//!
//! # SIRM rules
//!
//! | access | answer |
//! |---|---|
//! | outside `0..sirm::LEN` | `INVALID_ADDRESS` |
//! | write changing SI info or a required size | `WRITE_PROTECT` |
//! | write changing a transfer register while streaming | `ACCESS_DENIED` |
//! | enable with transfer sizes not multiples of the alignment, transfers not covering the required payload, or maximum leader / trailer sizes below the required ones | `SI_REGISTERS_INCONSISTENT` (0xA004), stream stays disabled |
//!
//! Disabling the stream drops the frame in progress and the queued frames.
//! Frames pushed while the stream is disabled wait in the queue and go out
//! once the host enables streaming.
//!
//! # Host buffers
//!
//! The host must offer buffers at least as large as the transfer the device
//! is about to send (the SIRM size of that stage). A smaller buffer is a
//! *sizing violation*: it is counted ([`SenderStats::sizing_violations`])
//! and only what fits is sent.
//!
//! # Halt and faults
//!
//! [`halt`](StreamSender::halt) stalls the endpoint: every transfer answers
//! [`DeviceError::Stall`] until the host clears the halt
//! ([`clear_halt`](StreamSender::clear_halt)), which drops the frame in
//! progress. [`inject`](StreamSender::inject) arms one-shot [`Fault`]s for
//! tests and simulation features.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::bootstrap::{sirm, Sirm};
use crate::gencp::Status;
use crate::link::DeviceError;
use crate::stream::{
    ImageInfo, Leader, LeaderKind, PayloadType, Trailer, TrailerKind, IMAGE_LEADER_LEN,
    IMAGE_TRAILER_LEN,
};

/// Length a trailer is cut to by [`Fault::TruncateTrailer`].
pub const TRUNCATED_TRAILER_LEN: usize = 20;

/// The payload bytes of a frame, shared or owned, never copied by the sender
/// except into the host's buffers.
#[derive(Clone)]
pub enum Payload {
    /// A buffer shared with the camera (e.g. a pool buffer).
    Shared(Arc<[u8]>),
    /// A buffer handed over to the sender.
    Owned(Vec<u8>),
}

impl Payload {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Payload::Shared(a) => a,
            Payload::Owned(v) => v,
        }
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Payload({} bytes)", self.len())
    }
}

impl From<Vec<u8>> for Payload {
    fn from(v: Vec<u8>) -> Self {
        Payload::Owned(v)
    }
}

impl From<Arc<[u8]>> for Payload {
    fn from(a: Arc<[u8]>) -> Self {
        Payload::Shared(a)
    }
}

/// One block to stream: its leader fields and payload.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Block id (the camera numbers its blocks).
    pub block_id: u64,
    /// Timestamp, ns on the device clock.
    pub timestamp: u64,
    /// Payload type of the leader.
    pub payload_type: PayloadType,
    /// Image description (ignored for chunk payloads).
    pub image: ImageInfo,
    /// Trailer status of the block ([`Status::SUCCESS`] normally).
    pub status: Status,
    /// Chunk layout id for payload types with chunks.
    pub chunk_layout_id: u32,
    /// The payload bytes.
    pub payload: Payload,
    /// [`Fault::DropPayloadTransfer`] for this frame: its first payload
    /// transfer is not sent. Unlike [`StreamSender::inject`], which hits
    /// whichever frame is sent next, this stays with the frame however
    /// many frames are queued before it.
    pub drop_payload_transfer: bool,
}

impl Frame {
    /// An image block with a success status.
    pub fn image(
        block_id: u64,
        timestamp: u64,
        image: ImageInfo,
        payload: impl Into<Payload>,
    ) -> Self {
        Frame {
            block_id,
            timestamp,
            payload_type: PayloadType::Image,
            image,
            status: Status::SUCCESS,
            chunk_layout_id: 0,
            payload: payload.into(),
            drop_payload_transfer: false,
        }
    }

    fn leader(&self) -> Leader {
        let kind = match self.payload_type {
            PayloadType::Image => LeaderKind::Image(self.image),
            PayloadType::ImageExtendedChunk => LeaderKind::ImageExtendedChunk(self.image),
            PayloadType::Chunk => LeaderKind::Chunk,
        };
        Leader {
            block_id: self.block_id,
            timestamp: self.timestamp,
            kind,
        }
    }

    /// Lines fully contained in the first `bytes` payload bytes.
    fn lines_in(&self, bytes: usize) -> u32 {
        if bytes >= self.payload.len() {
            return self.image.size_y;
        }
        let bpp = u64::from((self.image.pixel_format >> 16) & 0xFF);
        let line =
            (u64::from(self.image.size_x) * bpp).div_ceil(8) + u64::from(self.image.padding_x);
        if line == 0 {
            return 0;
        }
        u32::try_from(bytes as u64 / line)
            .unwrap_or(u32::MAX)
            .min(self.image.size_y)
    }
}

/// What [`StreamSender::push`] does when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Wait (up to the push timeout) for room: back-pressure on the camera.
    #[default]
    Block,
    /// Drop the oldest queued frame to make room.
    DropOldest,
}

/// Settings of a [`StreamSender`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderConfig {
    /// Payload alignment exponent (SI info bits 24–31), alignment = 2^n.
    pub alignment_exponent: u8,
    /// Initial SIRM required payload size.
    pub required_payload_size: u64,
    /// Frames the queue holds.
    pub queue_capacity: usize,
    /// Behaviour of a full queue.
    pub overflow: Overflow,
}

impl Default for SenderConfig {
    fn default() -> Self {
        SenderConfig {
            alignment_exponent: 6,
            required_payload_size: 0,
            queue_capacity: 4,
            overflow: Overflow::Block,
        }
    }
}

/// A one-shot fault for the next occasion it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The next payload transfer (of any payload stage) is not sent; the
    /// trailer still announces the full payload.
    DropPayloadTransfer,
    /// The next trailer is cut to [`TRUNCATED_TRAILER_LEN`] bytes.
    TruncateTrailer,
    /// The prefix of the next leader is corrupted.
    CorruptLeader,
    /// The endpoint halts in the middle of the next frame (after its leader
    /// and first payload transfer); it stalls until the halt is cleared.
    StallMidFrame,
    /// The device disconnects in the middle of the next frame.
    DisconnectMidFrame,
}

/// Why [`StreamSender::push`] did not queue a frame; the frame is handed back.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The queue stayed full until the timeout ([`Overflow::Block`]).
    #[error("the stream queue stayed full until the push timeout")]
    Timeout(Box<Frame>),
    /// The device is disconnected.
    #[error("the device is disconnected")]
    Disconnected(Box<Frame>),
}

/// Counters of a [`StreamSender`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderStats {
    /// Frames accepted by [`StreamSender::push`].
    pub frames_pushed: u64,
    /// Frames whose trailer was sent.
    pub frames_sent: u64,
    /// Frames dropped from a full queue ([`Overflow::DropOldest`]).
    pub frames_dropped: u64,
    /// Frames abandoned in progress or flushed from the queue (disable,
    /// clear halt).
    pub frames_aborted: u64,
    /// Transfers written into host buffers.
    pub transfers: u64,
    /// Bytes written into host buffers.
    pub bytes: u64,
    /// Host buffers smaller than the transfer to send.
    pub sizing_violations: u64,
    /// Enable writes refused with `SI_REGISTERS_INCONSISTENT`.
    pub enables_refused: u64,
    /// Faults that took effect.
    pub faults_injected: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Leader,
    Payload(u32),
    Final1,
    Final2,
    Trailer,
}

struct Current {
    frame: Frame,
    stage: Stage,
    /// Payload bytes consumed (sent or dropped by a fault).
    sent: usize,
    /// Payload bytes the negotiated transfers can carry for this frame.
    limit: usize,
    transfers: u32,
}

#[derive(Default)]
struct Faults {
    drop_payload: bool,
    truncate_trailer: bool,
    corrupt_leader: bool,
    stall_mid_frame: bool,
    disconnect_mid_frame: bool,
}

struct Inner {
    sirm: Sirm,
    queue: VecDeque<Frame>,
    current: Option<Current>,
    halted: bool,
    disconnected: bool,
    faults: Faults,
    stats: SenderStats,
}

/// The device's stream channel: SIRM, frame queue and stream IN endpoint.
/// See the [module docs](self).
pub struct StreamSender {
    config: SenderConfig,
    inner: Mutex<Inner>,
    /// Signalled when a frame is queued, the stream is enabled or the
    /// endpoint state changes.
    data: Condvar,
    /// Signalled when the queue has room.
    space: Condvar,
}

impl fmt::Debug for StreamSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamSender")
            .field("config", &self.config)
            .field("sirm", &self.sirm())
            .finish_non_exhaustive()
    }
}

fn capacity(s: &Sirm) -> u64 {
    u64::from(s.payload_transfer_size) * u64::from(s.payload_transfer_count)
        + u64::from(s.final_transfer1_size)
        + u64::from(s.final_transfer2_size)
}

/// Whether the host-written transfer registers of `s` are consistent.
fn consistent(s: &Sirm) -> bool {
    let Some(a) = s.alignment() else {
        return false;
    };
    let aligned = |v: u32| v % a == 0;
    aligned(s.payload_transfer_size)
        && aligned(s.final_transfer1_size)
        && aligned(s.final_transfer2_size)
        && (s.payload_transfer_count == 0 || s.payload_transfer_size > 0)
        && capacity(s) >= s.required_payload_size
        && s.max_leader_size >= s.required_leader_size
        && s.max_trailer_size >= s.required_trailer_size
}

impl StreamSender {
    /// A sender with its SIRM read-only registers set from `config` and the
    /// stream disabled.
    pub fn new(config: SenderConfig) -> Self {
        let sirm = Sirm {
            si_info: u32::from(config.alignment_exponent) << 24,
            required_payload_size: config.required_payload_size,
            required_leader_size: IMAGE_LEADER_LEN as u32,
            required_trailer_size: IMAGE_TRAILER_LEN as u32,
            ..Sirm::default()
        };
        StreamSender {
            config,
            inner: Mutex::new(Inner {
                sirm,
                queue: VecDeque::new(),
                current: None,
                halted: false,
                disconnected: false,
                faults: Faults::default(),
                stats: SenderStats::default(),
            }),
            data: Condvar::new(),
            space: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update leaves the state consistent, so a poisoned lock is usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The settings.
    pub fn config(&self) -> &SenderConfig {
        &self.config
    }

    /// The current SIRM.
    pub fn sirm(&self) -> Sirm {
        self.lock().sirm
    }

    /// The counters.
    pub fn stats(&self) -> SenderStats {
        self.lock().stats
    }

    /// Whether the host has enabled streaming.
    pub fn is_enabled(&self) -> bool {
        self.lock().sirm.stream_enabled()
    }

    /// Frames waiting in the queue (the frame in progress excluded).
    pub fn queued(&self) -> usize {
        self.lock().queue.len()
    }

    /// Sets the SIRM required payload size (the camera does so when the
    /// image size or pixel format changes).
    pub fn set_required_payload_size(&self, size: u64) {
        self.lock().sirm.required_payload_size = size;
    }

    /// Reads SIRM bytes at `offset` (from the SIRM address) into `buf`.
    pub fn read_register(&self, offset: u64, buf: &mut [u8]) -> Result<(), Status> {
        let range = sirm_range(offset, buf.len())?;
        let mut img = [0u8; sirm::LEN];
        self.lock()
            .sirm
            .encode_into(&mut img)
            .map_err(|_| Status::ERROR)?;
        buf.copy_from_slice(&img[range]);
        Ok(())
    }

    /// Writes SIRM bytes at `offset`; see the module docs for the answers.
    pub fn write_register(&self, offset: u64, data: &[u8]) -> Result<(), Status> {
        let range = sirm_range(offset, data.len())?;
        let mut g = self.lock();
        let cur = g.sirm;
        let mut img = [0u8; sirm::LEN];
        cur.encode_into(&mut img).map_err(|_| Status::ERROR)?;
        img[range].copy_from_slice(data);
        let new = Sirm::decode(&img).map_err(|_| Status::ERROR)?;
        if new.si_info != cur.si_info
            || new.required_payload_size != cur.required_payload_size
            || new.required_leader_size != cur.required_leader_size
            || new.required_trailer_size != cur.required_trailer_size
        {
            return Err(Status::WRITE_PROTECT);
        }
        let transfer_regs = |s: &Sirm| {
            (
                s.max_leader_size,
                s.payload_transfer_size,
                s.payload_transfer_count,
                s.final_transfer1_size,
                s.final_transfer2_size,
                s.max_trailer_size,
            )
        };
        if cur.stream_enabled() && transfer_regs(&new) != transfer_regs(&cur) {
            return Err(Status::ACCESS_DENIED);
        }
        if new.stream_enabled() && !cur.stream_enabled() && !consistent(&new) {
            g.stats.enables_refused += 1;
            return Err(Status::SI_REGISTERS_INCONSISTENT);
        }
        if cur.stream_enabled() && !new.stream_enabled() {
            let flushed = g.queue.len() as u64 + u64::from(g.current.is_some());
            g.queue.clear();
            g.current = None;
            g.stats.frames_aborted += flushed;
            self.space.notify_all();
        }
        g.sirm = new;
        self.data.notify_all();
        Ok(())
    }

    /// Queues a frame. When the queue is full, [`Overflow::Block`] waits up
    /// to `timeout` for room and [`Overflow::DropOldest`] drops the oldest
    /// queued frame.
    pub fn push(&self, frame: Frame, timeout: Duration) -> Result<(), PushError> {
        let deadline = Instant::now() + timeout;
        let cap = self.config.queue_capacity.max(1);
        let mut g = self.lock();
        loop {
            if g.disconnected {
                return Err(PushError::Disconnected(Box::new(frame)));
            }
            if g.queue.len() < cap {
                break;
            }
            if self.config.overflow == Overflow::DropOldest {
                g.queue.pop_front();
                g.stats.frames_dropped += 1;
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(PushError::Timeout(Box::new(frame)));
            }
            g = self
                .space
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        g.queue.push_back(frame);
        g.stats.frames_pushed += 1;
        self.data.notify_all();
        Ok(())
    }

    /// Arms a one-shot fault.
    pub fn inject(&self, fault: Fault) {
        let mut g = self.lock();
        let f = &mut g.faults;
        match fault {
            Fault::DropPayloadTransfer => f.drop_payload = true,
            Fault::TruncateTrailer => f.truncate_trailer = true,
            Fault::CorruptLeader => f.corrupt_leader = true,
            Fault::StallMidFrame => f.stall_mid_frame = true,
            Fault::DisconnectMidFrame => f.disconnect_mid_frame = true,
        }
    }

    /// Halts (stalls) the endpoint until the host clears it.
    pub fn halt(&self) {
        self.lock().halted = true;
        self.data.notify_all();
    }

    /// Whether the endpoint is halted.
    pub fn is_halted(&self) -> bool {
        self.lock().halted
    }

    /// The host cleared the halt: the endpoint answers again and the frame
    /// in progress is dropped.
    pub fn clear_halt(&self) -> Result<(), DeviceError> {
        let mut g = self.lock();
        if g.disconnected {
            return Err(DeviceError::Disconnected);
        }
        g.halted = false;
        if g.current.take().is_some() {
            g.stats.frames_aborted += 1;
        }
        self.data.notify_all();
        Ok(())
    }

    /// Unplugs the device: transfers and pushes fail from now on.
    pub fn disconnect(&self) {
        self.lock().disconnected = true;
        self.data.notify_all();
        self.space.notify_all();
    }

    /// Plugs the device back in after [`disconnect`](Self::disconnect), as
    /// after a power cycle: the stream is disabled, the queue and any frame
    /// in progress are dropped, the halt is cleared. The SIRM sizing stays
    /// (a host programs it again before enabling).
    pub fn reconnect(&self) {
        let mut g = self.lock();
        g.disconnected = false;
        g.halted = false;
        g.sirm.si_control &= !sirm::SI_CONTROL_STREAM_ENABLE;
        let dropped = g.queue.len() as u64 + u64::from(g.current.take().is_some());
        g.queue.clear();
        g.stats.frames_aborted += dropped;
        drop(g);
        self.data.notify_all();
        self.space.notify_all();
    }

    /// Serves one bulk IN transfer of the stream endpoint: writes the next
    /// transfer of the current frame into `buf`, waiting until `deadline`
    /// for a frame (and for the stream to be enabled).
    pub fn bulk_in(&self, buf: &mut [u8], deadline: Instant) -> Result<usize, DeviceError> {
        let mut g = self.lock();
        loop {
            if g.disconnected {
                return Err(DeviceError::Disconnected);
            }
            if g.halted {
                return Err(DeviceError::Stall);
            }
            if g.sirm.stream_enabled() {
                if g.current.is_none() {
                    if let Some(frame) = g.queue.pop_front() {
                        self.space.notify_one();
                        if frame.drop_payload_transfer {
                            g.faults.drop_payload = true;
                        }
                        let limit = usize::try_from(capacity(&g.sirm))
                            .unwrap_or(usize::MAX)
                            .min(frame.payload.len());
                        g.current = Some(Current {
                            frame,
                            stage: Stage::Leader,
                            sent: 0,
                            limit,
                            transfers: 0,
                        });
                    }
                }
                if g.current.is_some() {
                    return next_transfer(&mut g, buf);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(DeviceError::Timeout);
            }
            g = self
                .data
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

fn sirm_range(offset: u64, len: usize) -> Result<std::ops::Range<usize>, Status> {
    let start = usize::try_from(offset).map_err(|_| Status::INVALID_ADDRESS)?;
    let end = start.checked_add(len).ok_or(Status::INVALID_ADDRESS)?;
    if end > sirm::LEN {
        return Err(Status::INVALID_ADDRESS);
    }
    Ok(start..end)
}

/// Copies `src` into `buf`, counting a violation when it does not fit.
fn put(stats: &mut SenderStats, buf: &mut [u8], src: &[u8]) -> usize {
    let n = src.len().min(buf.len());
    if n < src.len() {
        stats.sizing_violations += 1;
    }
    buf[..n].copy_from_slice(&src[..n]);
    stats.transfers += 1;
    stats.bytes += n as u64;
    n
}

fn next_transfer(g: &mut Inner, buf: &mut [u8]) -> Result<usize, DeviceError> {
    let Inner {
        sirm,
        current,
        faults,
        stats,
        halted,
        disconnected,
        ..
    } = g;
    let Some(cur) = current.as_mut() else {
        return Err(DeviceError::Timeout);
    };
    loop {
        if cur.stage != Stage::Leader && (cur.transfers >= 2 || cur.stage == Stage::Trailer) {
            if faults.stall_mid_frame {
                faults.stall_mid_frame = false;
                stats.faults_injected += 1;
                *halted = true;
                return Err(DeviceError::Stall);
            }
            if faults.disconnect_mid_frame {
                faults.disconnect_mid_frame = false;
                stats.faults_injected += 1;
                *disconnected = true;
                return Err(DeviceError::Disconnected);
            }
        }
        let (size, next) = match cur.stage {
            Stage::Leader => {
                let mut bytes = [0u8; IMAGE_LEADER_LEN];
                let len = cur
                    .frame
                    .leader()
                    .encode_into(&mut bytes)
                    .map_err(|_| DeviceError::Stall)?;
                if faults.corrupt_leader {
                    faults.corrupt_leader = false;
                    stats.faults_injected += 1;
                    bytes[..4].copy_from_slice(b"XXXX");
                }
                cur.stage = Stage::Payload(0);
                cur.transfers += 1;
                return Ok(put(stats, buf, &bytes[..len]));
            }
            Stage::Payload(i) if i < sirm.payload_transfer_count => {
                (sirm.payload_transfer_size, Stage::Payload(i + 1))
            }
            Stage::Payload(_) => (0, Stage::Final1),
            Stage::Final1 => (sirm.final_transfer1_size, Stage::Final2),
            Stage::Final2 => (sirm.final_transfer2_size, Stage::Trailer),
            Stage::Trailer => {
                let f = &cur.frame;
                let status = if f.status == Status::SUCCESS && cur.limit < f.payload.len() {
                    Status::DATA_OVERRUN
                } else {
                    f.status
                };
                let size_y = f.lines_in(cur.sent);
                let kind = match f.payload_type {
                    PayloadType::Image => TrailerKind::Image { size_y },
                    PayloadType::ImageExtendedChunk => TrailerKind::ImageExtendedChunk {
                        size_y,
                        chunk_layout_id: f.chunk_layout_id,
                    },
                    PayloadType::Chunk => TrailerKind::Chunk {
                        chunk_layout_id: f.chunk_layout_id,
                    },
                };
                let trailer = Trailer {
                    block_id: f.block_id,
                    status,
                    valid_payload_size: cur.sent as u64,
                    kind,
                };
                let mut bytes = [0u8; 64];
                let mut len = trailer
                    .encode_into(&mut bytes)
                    .map_err(|_| DeviceError::Stall)?;
                if faults.truncate_trailer {
                    faults.truncate_trailer = false;
                    stats.faults_injected += 1;
                    len = TRUNCATED_TRAILER_LEN;
                }
                let n = put(stats, buf, &bytes[..len]);
                stats.frames_sent += 1;
                *current = None;
                return Ok(n);
            }
        };
        let remaining = cur.limit - cur.sent;
        if remaining == 0 {
            cur.stage = Stage::Trailer;
            continue;
        }
        cur.stage = next;
        if size == 0 {
            continue;
        }
        let len = remaining.min(size as usize);
        if faults.drop_payload {
            faults.drop_payload = false;
            stats.faults_injected += 1;
            cur.sent += len;
            continue;
        }
        let data = &cur.frame.payload.as_slice()[cur.sent..cur.sent + len];
        let n = put(stats, buf, data);
        cur.sent += n;
        cur.transfers += 1;
        return Ok(n);
    }
}
