//! The host side of the USB3 Vision stream: SIRM configuration and frame
//! reassembly with validation, statistics and resynchronisation.
//!
//! [`StreamReceiver::configure`] reads the device's SIRM, computes the usual
//! sizing ([`StreamSizing::compute`]), writes the transfer registers and
//! enables streaming. [`StreamReceiver::receive`] then reads one block:
//!
//! * the leader, into a small buffer of the negotiated leader size;
//! * the payload transfers, straight into the caller's frame buffer (no
//!   extra copy); a transfer that could run past the end of the caller's
//!   buffer goes through a scratch buffer and only its valid part is
//!   copied;
//! * the trailer.
//!
//! A short transfer ends the payload (the device sends only real bytes); the
//! trailer must follow and announce exactly the bytes received.
//!
//! # Errors and resynchronisation
//!
//! Every inconsistency is a [`StreamError`] and is counted in
//! [`ReceiverStats`]. After an error the receiver is out of step with the
//! device: the next [`receive`](StreamReceiver::receive) discards transfers
//! (reading them into a scratch buffer as large as any transfer) until a
//! valid leader arrives, within its timeout, so the next frame arrives
//! normally. A leader met where payload or a trailer was expected is kept
//! and starts the next frame. A stalled endpoint is cleared before the
//! error is returned.
//!
//! Block id gaps are not errors: the frame that follows a gap is returned
//! normally with [`FrameInfo::lost_before`] set, and the gap is added to
//! [`ReceiverStats::lost`]. A block whose leader was corrupted is therefore
//! counted twice: once as an error, once as lost.
//!
//! No device bytes can make the receiver panic, and every wait is bounded by
//! the timeout given to `receive`.
//!
//! # Transfers in flight
//!
//! By default each transfer is one [`UsbLink::bulk_in`] call: the device
//! waits for the host between transfers, but payload lands straight in the
//! caller's frame buffer. [`StreamReceiver::with_in_flight`] makes
//! `receive` keep several transfers queued ([`UsbLink::submit_in`] /
//! [`UsbLink::reap_in`]) in the order the device sends them: leader,
//! payload transfers, final transfers, trailer, then the next block's
//! leader, and so on, each into an owned buffer of exactly its SIRM size
//! (as a real host does: a bulk IN buffer larger than the transfer would
//! run on into the next one). The queue is kept topped up across calls, so
//! the next block's transfers are already waiting while the caller works on
//! this one. Each payload transfer is then copied once into the caller's
//! frame buffer, except where [`StreamReceiver::receive_vec`] can hand the
//! caller the transfer's own buffer: when the whole payload arrives in one
//! transfer, the caller's vector and the transfer's are exchanged, and the
//! frame costs the host no copy at all.
//!
//! Whenever the device leaves the expected sequence (an error, a block
//! shorter than the negotiated transfers, a stall), the queued transfers
//! are cancelled ([`UsbLink::cancel_in`]) and the queue restarts at the next
//! leader (resynchronisation itself uses single transfers). On a link where
//! transfers really run ahead of the host (USB/IP, real USB), transfers
//! that had already completed when cancelled are lost with their data, so
//! a deviation can cost the following block too; it is then reported and
//! resynchronised as usual.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::bootstrap::{sirm, Sirm, StreamSizing};
use crate::control_channel::{ControlChannel, ControlError};
use crate::error::{DecodeError, SizingError};
use crate::gencp::Status;
use crate::link::{LinkError, UsbLink};
use crate::stream::{classify, ImageInfo, Leader, PayloadType, Trailer, TrailerKind, TransferKind};

/// The usual stream IN endpoint of a USB3 Vision device.
pub const DEFAULT_STREAM_ENDPOINT: u8 = 0x83;

/// Largest payload transfer size [`StreamReceiver::configure`] accepts, to
/// bound the scratch buffer.
pub const MAX_TRANSFER_LIMIT: u32 = 64 << 20;

/// A good number of transfers in flight for
/// [`StreamReceiver::with_in_flight`].
pub const DEFAULT_IN_FLIGHT: usize = 8;

/// Largest number of transfers [`StreamReceiver::with_in_flight`] queues.
pub const MAX_IN_FLIGHT: usize = 64;

/// The part of a block being received when something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Waiting for (or discarding until) a leader.
    Leader,
    /// Payload transfers.
    Payload,
    /// The trailer.
    Trailer,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Leader => "leader",
            Phase::Payload => "payload",
            Phase::Trailer => "trailer",
        })
    }
}

/// A received block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameInfo {
    /// Block id.
    pub block_id: u64,
    /// Timestamp, ns on the device clock.
    pub timestamp: u64,
    /// Payload type.
    pub payload_type: PayloadType,
    /// Pixel format, size, offsets and padding from the leader (zero for
    /// chunk payloads).
    pub image: ImageInfo,
    /// Payload bytes received and announced valid by the trailer; they are
    /// at the start of the frame buffer.
    pub valid_payload_size: u64,
    /// Trailer status.
    pub status: Status,
    /// Lines actually sent (trailer size y; the leader's for chunk payloads).
    pub size_y_sent: u32,
    /// Blocks missing between the previous block received and this one.
    pub lost_before: u64,
}

/// Why a block was not received.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// [`StreamReceiver::configure`] has not succeeded yet.
    #[error("the stream is not configured")]
    NotConfigured,
    /// A register access during configuration failed (an enable refused as
    /// inconsistent shows as status 0xA004).
    #[error("stream configuration failed: {0}")]
    Control(#[from] ControlError),
    /// The device's SIRM admits no sizing.
    #[error("no stream sizing for the device's SIRM: {0}")]
    Sizing(#[from] SizingError),
    /// The device's SIRM is unusable (the text says why).
    #[error("unusable SIRM: {0}")]
    BadSirm(String),
    /// Nothing (more) arrived before the timeout.
    #[error("stream timed out waiting for the {phase}")]
    Timeout {
        /// Where the block was.
        phase: Phase,
    },
    /// The stream endpoint stalled; the halt has been cleared.
    #[error("stream endpoint {endpoint:#04x} stalled during the {phase}")]
    Stalled {
        /// The endpoint.
        endpoint: u8,
        /// Where the block was.
        phase: Phase,
    },
    /// The device is gone.
    #[error("the device is disconnected")]
    Disconnected,
    /// Another link failure.
    #[error("stream link error during the {phase}: {source}")]
    Link {
        /// Where the block was.
        phase: Phase,
        /// The failure.
        source: LinkError,
    },
    /// A transfer that should have been a leader does not decode as one.
    #[error("bad stream leader: {0}")]
    BadLeader(DecodeError),
    /// A leader arrived where payload or a trailer was expected; it starts
    /// the next block.
    #[error("block {block_id}: a new leader arrived during the {phase}")]
    UnexpectedLeader {
        /// The interrupted block.
        block_id: u64,
        /// Where the block was.
        phase: Phase,
    },
    /// A transfer that should have been the trailer is payload data (more
    /// payload than the negotiated transfers, or a lost trailer).
    #[error("block {block_id}: expected the trailer, got {len} bytes of payload")]
    MissingTrailer {
        /// The block.
        block_id: u64,
        /// Length of the transfer received instead.
        len: usize,
    },
    /// The trailer does not decode.
    #[error("block {block_id}: bad trailer: {source}")]
    BadTrailer {
        /// The block.
        block_id: u64,
        /// Why.
        source: DecodeError,
    },
    /// The trailer's block id is not the leader's.
    #[error("trailer of block {trailer} follows the leader of block {leader}")]
    BlockIdMismatch {
        /// Block id of the leader.
        leader: u64,
        /// Block id of the trailer.
        trailer: u64,
    },
    /// The payload received differs from the trailer's valid payload size
    /// (a missing or short transfer).
    #[error("block {block_id}: trailer announces {announced} payload bytes, {received} arrived")]
    PayloadSizeMismatch {
        /// The block.
        block_id: u64,
        /// Valid payload size from the trailer.
        announced: u64,
        /// Bytes received.
        received: u64,
    },
    /// The payload does not fit the caller's frame buffer.
    #[error("block {block_id}: payload needs more than the {available}-byte frame buffer")]
    BufferTooSmall {
        /// The block.
        block_id: u64,
        /// Size of the frame buffer.
        available: usize,
    },
    /// The block arrived complete but its trailer status is not success;
    /// the data is in the frame buffer as described.
    #[error("block {}: trailer status {}", .0.block_id, .0.status)]
    TrailerStatus(Box<FrameInfo>),
}

/// Counters of a [`StreamReceiver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReceiverStats {
    /// Blocks received complete and with success status.
    pub frames: u64,
    /// Valid payload bytes of those blocks.
    pub bytes: u64,
    /// Blocks whose leader arrived but that failed afterwards.
    pub incomplete: u64,
    /// Blocks missing according to block id gaps.
    pub lost: u64,
    /// Errors returned by [`StreamReceiver::receive`].
    pub errors: u64,
    /// Transfers discarded while resynchronising.
    pub discarded: u64,
    /// Halts cleared.
    pub stalls: u64,
}

struct State {
    sizing: Option<StreamSizing>,
    sirm_address: u64,
    required_payload: u64,
    leader_buf: Vec<u8>,
    trailer_buf: Vec<u8>,
    scratch: Vec<u8>,
    in_sync: bool,
    pending_leader: Option<Leader>,
    last_block_id: Option<u64>,
    stats: ReceiverStats,
    /// Transfers to keep queued; 0 or 1: single transfers.
    in_flight: usize,
    /// See [`StreamReceiver::with_block_timeout`].
    block_timeout: Option<Duration>,
    /// The transfers of one block, in the device's order: (role, size).
    plan: Vec<(Slot, usize)>,
    /// Plan indices of the transfers queued on the link, oldest first.
    queued: VecDeque<usize>,
    /// Plan index of the next transfer to queue.
    cursor: usize,
    /// Buffers of completed or cancelled transfers, for reuse.
    free: Vec<Vec<u8>>,
}

/// The role of a queued transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Leader,
    Payload,
    Trailer,
}

/// One completed queued transfer.
struct Done {
    /// Its plan index.
    slot: usize,
    buf: Vec<u8>,
    /// Bytes received.
    n: usize,
}

/// The host's stream channel on one IN endpoint. See the [module docs](self).
pub struct StreamReceiver {
    link: Arc<dyn UsbLink>,
    endpoint: u8,
    state: Mutex<State>,
}

impl fmt::Debug for StreamReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReceiver")
            .field("endpoint", &self.endpoint)
            .field("sizing", &self.sizing())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

fn link_err(e: LinkError, phase: Phase) -> StreamError {
    match e {
        LinkError::Timeout => StreamError::Timeout { phase },
        LinkError::Disconnected => StreamError::Disconnected,
        LinkError::Stall(endpoint) => StreamError::Stalled { endpoint, phase },
        source => StreamError::Link { phase, source },
    }
}

/// Where a payload transfer lands.
enum Dst {
    Frame,
    Scratch,
}

/// The caller's frame buffer: a slice to fill, or a vector that may instead
/// be exchanged with the transfer buffer that holds the whole payload.
enum FrameBuf<'a> {
    Slice(&'a mut [u8]),
    Vec(&'a mut Vec<u8>),
}

impl FrameBuf<'_> {
    fn bytes(&mut self) -> &mut [u8] {
        match self {
            FrameBuf::Slice(s) => s,
            FrameBuf::Vec(v) => v.as_mut_slice(),
        }
    }
}

impl StreamReceiver {
    /// A receiver on `endpoint` of `link`; call [`configure`](Self::configure)
    /// before receiving.
    pub fn new(link: Arc<dyn UsbLink>, endpoint: u8) -> Self {
        StreamReceiver {
            link,
            endpoint,
            state: Mutex::new(State {
                sizing: None,
                sirm_address: 0,
                required_payload: 0,
                leader_buf: Vec::new(),
                trailer_buf: Vec::new(),
                scratch: Vec::new(),
                in_sync: false,
                pending_leader: None,
                last_block_id: None,
                stats: ReceiverStats::default(),
                in_flight: 0,
                block_timeout: None,
                plan: Vec::new(),
                queued: VecDeque::new(),
                cursor: 0,
                free: Vec::new(),
            }),
        }
    }

    /// Keeps up to `n` transfers queued on the link while receiving (at
    /// most [`MAX_IN_FLIGHT`]); `n` of 0 or 1 selects single transfers (the
    /// default). See the [module docs](self#transfers-in-flight).
    pub fn with_in_flight(self, n: usize) -> Self {
        {
            let mut st = self.lock();
            self.drop_queue(&mut st);
            st.in_flight = n.min(MAX_IN_FLIGHT);
        }
        self
    }

    /// Lets the rest of a block take up to `t` once its leader has arrived,
    /// even past the timeout given to [`receive`](Self::receive), which then
    /// bounds only the wait for a leader. A caller polling with a short
    /// timeout (to notice a stop request) thus never cuts a block in two
    /// that a slow link or a busy host delivers a little late.
    pub fn with_block_timeout(self, t: Duration) -> Self {
        self.lock().block_timeout = Some(t);
        self
    }

    /// The number of transfers kept in flight (0 or 1: single transfers).
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    /// Cancels the queued transfers; the queue restarts at a leader.
    fn drop_queue(&self, st: &mut State) {
        if !st.queued.is_empty() {
            st.queued.clear();
            let bufs = self.link.cancel_in(self.endpoint);
            st.free.extend(bufs);
            st.free.truncate(2 * MAX_IN_FLIGHT);
        }
        st.cursor = 0;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The endpoint.
    pub fn endpoint(&self) -> u8 {
        self.endpoint
    }

    /// The negotiated sizing, once configured.
    pub fn sizing(&self) -> Option<StreamSizing> {
        self.lock().sizing
    }

    /// The device's required payload size read by the last configuration:
    /// the frame buffer size that always suffices.
    pub fn required_payload_size(&self) -> u64 {
        self.lock().required_payload
    }

    /// The counters.
    pub fn stats(&self) -> ReceiverStats {
        self.lock().stats
    }

    /// Reads the SIRM at `sirm_address`, computes the sizing with payload
    /// transfers of at most `max_transfer` bytes, writes the transfer
    /// registers and enables streaming. Streaming is disabled first if it
    /// was on.
    pub fn configure(
        &self,
        channel: &ControlChannel,
        sirm_address: u64,
        max_transfer: u32,
    ) -> Result<StreamSizing, StreamError> {
        let control_at = sirm_address
            .checked_add(sirm::SI_CONTROL)
            .ok_or_else(|| StreamError::BadSirm("SIRM address overflows".into()))?;
        let mut raw = [0u8; sirm::LEN];
        channel.read(sirm_address, &mut raw)?;
        let s = Sirm::decode(&raw).map_err(|e| StreamError::BadSirm(e.to_string()))?;
        if s.stream_enabled() {
            channel.write_u32(control_at, s.si_control & !sirm::SI_CONTROL_STREAM_ENABLE)?;
        }
        let alignment = s.alignment().ok_or_else(|| {
            StreamError::BadSirm(format!("alignment exponent {}", s.alignment_exponent()))
        })?;
        let sizing = StreamSizing::compute(
            s.required_payload_size,
            s.required_leader_size,
            s.required_trailer_size,
            alignment,
            max_transfer.min(MAX_TRANSFER_LIMIT),
        )?;
        if sizing.leader_size as usize > 1 << 16
            || sizing.trailer_size as usize > 1 << 16
            || sizing.final_transfer1_size > MAX_TRANSFER_LIMIT
        {
            return Err(StreamError::BadSirm(
                "leader, trailer or final transfer too large".into(),
            ));
        }
        let mut regs = [0u8; 24];
        for (i, v) in [
            sizing.leader_size,
            sizing.payload_transfer_size,
            sizing.payload_transfer_count,
            sizing.final_transfer1_size,
            sizing.final_transfer2_size,
            sizing.trailer_size,
        ]
        .into_iter()
        .enumerate()
        {
            regs[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        channel.write(sirm_address + sirm::MAX_LEADER_SIZE, &regs)?;
        {
            let mut st = self.lock();
            let big = [
                sizing.leader_size,
                sizing.trailer_size,
                sizing.payload_transfer_size,
                sizing.final_transfer1_size,
                sizing.final_transfer2_size,
            ]
            .into_iter()
            .max()
            .unwrap_or(0) as usize;
            self.drop_queue(&mut st);
            st.free.clear();
            let mut plan = vec![(Slot::Leader, sizing.leader_size as usize)];
            for _ in 0..sizing.payload_transfer_count {
                plan.push((Slot::Payload, sizing.payload_transfer_size as usize));
            }
            for f in [sizing.final_transfer1_size, sizing.final_transfer2_size] {
                if f != 0 {
                    plan.push((Slot::Payload, f as usize));
                }
            }
            plan.push((Slot::Trailer, sizing.trailer_size as usize));
            st.plan = plan;
            st.leader_buf = vec![0; sizing.leader_size as usize];
            st.trailer_buf = vec![0; sizing.trailer_size as usize];
            st.scratch = vec![0; big];
            st.sizing = Some(sizing);
            st.sirm_address = sirm_address;
            st.required_payload = s.required_payload_size;
            st.in_sync = false;
            st.pending_leader = None;
        }
        channel.write_u32(control_at, s.si_control | sirm::SI_CONTROL_STREAM_ENABLE)?;
        Ok(sizing)
    }

    /// Disables streaming (SI control bit 0 cleared).
    pub fn disable(&self, channel: &ControlChannel) -> Result<(), StreamError> {
        let at = {
            let mut st = self.lock();
            self.drop_queue(&mut st);
            st.in_sync = false;
            st.pending_leader = None;
            st.sirm_address
        };
        let at = at
            .checked_add(sirm::SI_CONTROL)
            .ok_or_else(|| StreamError::BadSirm("SIRM address overflows".into()))?;
        let v = channel.read_u32(at)?;
        channel.write_u32(at, v & !sirm::SI_CONTROL_STREAM_ENABLE)?;
        Ok(())
    }

    /// Receives one block into `frame_buf` within `timeout`; see the
    /// [module docs](self).
    pub fn receive(
        &self,
        frame_buf: &mut [u8],
        timeout: Duration,
    ) -> Result<FrameInfo, StreamError> {
        self.receive_with(FrameBuf::Slice(frame_buf), timeout)
    }

    /// Receives one block like [`receive`](Self::receive), into `frame`
    /// (its length is the room), without copying the payload when it can:
    /// with transfers in flight and the whole payload in one transfer (as
    /// [`StreamSizing::compute`] arranges when the payload fits in
    /// `max_transfer`), `frame` is exchanged with that transfer's buffer,
    /// which holds the payload at its start, and the caller's old buffer
    /// is queued for a later transfer. `frame`'s length is then the
    /// transfer size, at least the valid payload size. Otherwise the
    /// payload is copied into `frame` as `receive` does.
    pub fn receive_vec(
        &self,
        frame: &mut Vec<u8>,
        timeout: Duration,
    ) -> Result<FrameInfo, StreamError> {
        self.receive_with(FrameBuf::Vec(frame), timeout)
    }

    fn receive_with(
        &self,
        mut frame: FrameBuf<'_>,
        timeout: Duration,
    ) -> Result<FrameInfo, StreamError> {
        let deadline = Instant::now() + timeout;
        let mut guard = self.lock();
        let st = &mut *guard;
        let Some(sizing) = st.sizing else {
            return Err(StreamError::NotConfigured);
        };
        let mut started = false;
        let queued = st.in_flight > 1 && !st.plan.is_empty();
        let mut in_step = true;
        let r = if queued {
            self.receive_queued(st, &mut frame, deadline, &mut started, &mut in_step)
        } else {
            self.receive_inner(st, &sizing, frame.bytes(), deadline, &mut started)
        };
        match &r {
            Ok(info) => {
                st.in_sync = true;
                st.stats.frames += 1;
                st.stats.bytes += info.valid_payload_size;
            }
            Err(e) => {
                st.stats.errors += 1;
                if started {
                    st.stats.incomplete += 1;
                }
                // Still in step when the block was whole (bad status) or
                // when nothing was consumed (no leader before the timeout).
                st.in_sync = match e {
                    StreamError::TrailerStatus(_) => true,
                    StreamError::Timeout { .. } => st.in_sync && !started,
                    _ => false,
                };
                if !st.in_sync {
                    in_step = false;
                }
                if queued && !in_step {
                    // Transfers queued behind the failure are out of step
                    // (and, after a stall, failed anyway).
                    self.drop_queue(st);
                }
                if let StreamError::Stalled { endpoint, .. } = e {
                    st.stats.stalls += 1;
                    // Best effort: if clearing fails, the next transfer
                    // reports the stall or the disconnection again.
                    let _ = self.link.clear_halt(*endpoint);
                }
            }
        }
        if queued && r.is_ok() && !in_step {
            self.drop_queue(st);
        }
        r
    }

    /// One bulk IN transfer, bounded by `deadline`.
    fn read(&self, buf: &mut [u8], deadline: Instant, phase: Phase) -> Result<usize, StreamError> {
        let now = Instant::now();
        if now >= deadline {
            return Err(StreamError::Timeout { phase });
        }
        let n = self
            .link
            .bulk_in(self.endpoint, buf, deadline - now)
            .map_err(|e| link_err(e, phase))?;
        Ok(n.min(buf.len()))
    }

    fn receive_inner(
        &self,
        st: &mut State,
        sizing: &StreamSizing,
        frame_buf: &mut [u8],
        deadline: Instant,
        started: &mut bool,
    ) -> Result<FrameInfo, StreamError> {
        // 1. The leader.
        let leader = match st.pending_leader.take() {
            Some(l) => l,
            None if st.in_sync => {
                let n = self.read(&mut st.leader_buf, deadline, Phase::Leader)?;
                Leader::decode(&st.leader_buf[..n]).map_err(StreamError::BadLeader)?
            }
            None => loop {
                let n = self.read(&mut st.scratch, deadline, Phase::Leader)?;
                let t = &st.scratch[..n];
                if classify(t) == TransferKind::Leader {
                    if let Ok(l) = Leader::decode(t) {
                        break l;
                    }
                }
                st.stats.discarded += 1;
            },
        };
        *started = true;
        let block_id = leader.block_id;
        let (lost_before, deadline) = Self::start_block(st, block_id, deadline);

        // 2. The payload.
        let stages = [
            (sizing.payload_transfer_size, sizing.payload_transfer_count),
            (sizing.final_transfer1_size, 1),
            (sizing.final_transfer2_size, 1),
        ];
        let mut received = 0usize;
        let mut early_trailer: Option<usize> = None;
        'payload: for (size, count) in stages {
            let size = size as usize;
            if size == 0 {
                continue;
            }
            for _ in 0..count {
                let room = frame_buf.len().saturating_sub(received);
                let (n, dst) = if size <= room {
                    let buf = &mut frame_buf[received..received + size];
                    (self.read(buf, deadline, Phase::Payload)?, Dst::Frame)
                } else {
                    let buf = &mut st.scratch[..size];
                    (self.read(buf, deadline, Phase::Payload)?, Dst::Scratch)
                };
                let t: &[u8] = match dst {
                    Dst::Frame => &frame_buf[received..received + n],
                    Dst::Scratch => &st.scratch[..n],
                };
                // A leader or trailer where payload was expected.
                match classify(t) {
                    TransferKind::Leader if n <= st.leader_buf.len() => {
                        if let Ok(l) = Leader::decode(t) {
                            st.pending_leader = Some(l);
                            return Err(StreamError::UnexpectedLeader {
                                block_id,
                                phase: Phase::Payload,
                            });
                        }
                    }
                    TransferKind::Trailer if n <= st.trailer_buf.len() => {
                        st.trailer_buf[..n].copy_from_slice(t);
                        early_trailer = Some(n);
                        break 'payload;
                    }
                    _ => {}
                }
                if let Dst::Scratch = dst {
                    if n > room {
                        return Err(StreamError::BufferTooSmall {
                            block_id,
                            available: frame_buf.len(),
                        });
                    }
                    frame_buf[received..received + n].copy_from_slice(&st.scratch[..n]);
                }
                received += n;
                if n < size {
                    break 'payload;
                }
            }
        }

        // 3. The trailer.
        let n = match early_trailer {
            Some(n) => n,
            None => self.read(&mut st.trailer_buf, deadline, Phase::Trailer)?,
        };
        let tb = std::mem::take(&mut st.trailer_buf);
        let r = self.finish_block(st, &leader, &tb[..n.min(tb.len())], received, lost_before);
        st.trailer_buf = tb;
        r
    }

    /// Counts the blocks missing before `block_id`, and returns that count
    /// with the deadline for the rest of the block.
    fn start_block(st: &mut State, block_id: u64, deadline: Instant) -> (u64, Instant) {
        let mut lost_before = 0;
        if let Some(prev) = st.last_block_id {
            if block_id > prev.wrapping_add(1) && prev != u64::MAX {
                lost_before = block_id - prev - 1;
            }
        }
        st.stats.lost += lost_before;
        st.last_block_id = Some(block_id);
        let deadline = match st.block_timeout {
            Some(t) => deadline.max(Instant::now() + t),
            None => deadline,
        };
        (lost_before, deadline)
    }

    /// Queues transfers until `in_flight` are queued.
    fn top_up(&self, st: &mut State, phase: Phase) -> Result<(), StreamError> {
        while st.queued.len() < st.in_flight {
            let Some(&(_, size)) = st.plan.get(st.cursor) else {
                st.cursor = 0;
                return Ok(());
            };
            // The smallest free buffer that holds the transfer: leaders
            // and trailers keep to small buffers, payload to large ones.
            let fit = st
                .free
                .iter()
                .enumerate()
                .filter(|(_, b)| b.capacity() >= size)
                .min_by_key(|(_, b)| b.capacity())
                .map(|(i, _)| i);
            let buf = match fit {
                Some(i) => {
                    let mut b = st.free.swap_remove(i);
                    // Within the capacity: no reallocation.
                    b.resize(size, 0);
                    b
                }
                None => vec![0; size],
            };
            self.link
                .submit_in(self.endpoint, buf)
                .map_err(|e| link_err(e, phase))?;
            st.queued.push_back(st.cursor);
            st.cursor = (st.cursor + 1) % st.plan.len();
        }
        Ok(())
    }

    /// The oldest queued transfer, once complete, bounded by `deadline`.
    fn reap(&self, st: &mut State, deadline: Instant, phase: Phase) -> Result<Done, StreamError> {
        self.top_up(st, phase)?;
        let now = Instant::now();
        if now >= deadline {
            return Err(StreamError::Timeout { phase });
        }
        let t = self
            .link
            .reap_in(self.endpoint, deadline - now)
            .map_err(|e| link_err(e, phase))?;
        let slot = st.queued.pop_front().unwrap_or(usize::MAX);
        match t.result {
            Ok(n) => Ok(Done {
                slot,
                n: n.min(t.buf.len()),
                buf: t.buf,
            }),
            Err(e) => {
                st.free.push(t.buf);
                Err(link_err(e, phase))
            }
        }
    }

    /// Returns a transfer's buffer to the pool.
    fn recycle(st: &mut State, buf: Vec<u8>) {
        if st.free.len() < 2 * MAX_IN_FLIGHT {
            st.free.push(buf);
        }
    }

    /// [`receive_inner`](Self::receive_inner) with transfers in flight.
    /// `in_step` is cleared when the queue no longer follows the device.
    fn receive_queued(
        &self,
        st: &mut State,
        frame: &mut FrameBuf<'_>,
        deadline: Instant,
        started: &mut bool,
        in_step: &mut bool,
    ) -> Result<FrameInfo, StreamError> {
        // 1. The leader. A queue not starting at a leader is out of step.
        let expect_leader = st.pending_leader.is_none() && st.in_sync;
        let head = st.queued.front().copied().unwrap_or(st.cursor);
        if (expect_leader && head != 0) || (!expect_leader && !st.queued.is_empty()) {
            self.drop_queue(st);
        }
        let leader = match st.pending_leader.take() {
            Some(l) => {
                st.cursor = 1;
                l
            }
            None if st.in_sync => {
                let d = self.reap(st, deadline, Phase::Leader)?;
                let r = Leader::decode(&d.buf[..d.n]);
                Self::recycle(st, d.buf);
                if d.slot != 0 {
                    *in_step = false;
                }
                r.map_err(StreamError::BadLeader)?
            }
            None => {
                // Resynchronisation: single transfers into the scratch
                // buffer (nothing is queued).
                let l = loop {
                    let n = self.read(&mut st.scratch, deadline, Phase::Leader)?;
                    let t = &st.scratch[..n];
                    if classify(t) == TransferKind::Leader {
                        if let Ok(l) = Leader::decode(t) {
                            break l;
                        }
                    }
                    st.stats.discarded += 1;
                };
                st.cursor = 1;
                l
            }
        };
        *started = true;
        let block_id = leader.block_id;
        let (lost_before, deadline) = Self::start_block(st, block_id, deadline);

        // 2. The payload: every payload slot of the plan, until a short
        // transfer or an early trailer.
        let payload_slots = st.plan.len().saturating_sub(2);
        let mut received = 0usize;
        let mut trailer: Option<Done> = None;
        for _ in 0..payload_slots {
            let d = self.reap(st, deadline, Phase::Payload)?;
            let size = st.plan.get(d.slot).map_or(0, |p| p.1);
            if st.plan.get(d.slot).map(|p| p.0) != Some(Slot::Payload) {
                *in_step = false;
            }
            let t = &d.buf[..d.n];
            match classify(t) {
                TransferKind::Leader if d.n <= st.leader_buf.len() => {
                    if let Ok(l) = Leader::decode(t) {
                        st.pending_leader = Some(l);
                        Self::recycle(st, d.buf);
                        return Err(StreamError::UnexpectedLeader {
                            block_id,
                            phase: Phase::Payload,
                        });
                    }
                }
                TransferKind::Trailer if d.n <= st.trailer_buf.len() => {
                    trailer = Some(d);
                    break;
                }
                _ => {}
            }
            let available = frame.bytes().len();
            if d.n > available.saturating_sub(received) {
                Self::recycle(st, d.buf);
                return Err(StreamError::BufferTooSmall {
                    block_id,
                    available,
                });
            }
            let short = d.n < size;
            let mut buf = d.buf;
            match frame {
                // The whole payload in one transfer: hand its buffer over.
                FrameBuf::Vec(v) if payload_slots == 1 => std::mem::swap(*v, &mut buf),
                _ => frame.bytes()[received..received + d.n].copy_from_slice(&buf[..d.n]),
            }
            received += d.n;
            Self::recycle(st, buf);
            if short {
                break;
            }
        }

        // 3. The trailer.
        let d = match trailer {
            Some(d) => d,
            None => self.reap(st, deadline, Phase::Trailer)?,
        };
        if d.slot + 1 != st.plan.len() {
            // The block ended early (or late): the transfers queued after
            // it were meant for the rest of the negotiated payload.
            *in_step = false;
        }
        let r = self.finish_block(st, &leader, &d.buf[..d.n], received, lost_before);
        Self::recycle(st, d.buf);
        r
    }

    /// Checks the trailer `t` against the leader and the payload received.
    fn finish_block(
        &self,
        st: &mut State,
        leader: &Leader,
        t: &[u8],
        received: usize,
        lost_before: u64,
    ) -> Result<FrameInfo, StreamError> {
        let block_id = leader.block_id;
        let payload_type = leader.payload_type();
        let n = t.len();
        let trailer = match Trailer::decode(t, payload_type) {
            Ok(tr) => tr,
            Err(source) => {
                return Err(match classify(t) {
                    TransferKind::Leader => match Leader::decode(t) {
                        Ok(l) => {
                            st.pending_leader = Some(l);
                            StreamError::UnexpectedLeader {
                                block_id,
                                phase: Phase::Trailer,
                            }
                        }
                        Err(_) => StreamError::MissingTrailer { block_id, len: n },
                    },
                    TransferKind::Payload => StreamError::MissingTrailer { block_id, len: n },
                    TransferKind::Trailer => StreamError::BadTrailer { block_id, source },
                });
            }
        };
        if trailer.block_id != block_id {
            return Err(StreamError::BlockIdMismatch {
                leader: block_id,
                trailer: trailer.block_id,
            });
        }
        if trailer.valid_payload_size != received as u64 {
            return Err(StreamError::PayloadSizeMismatch {
                block_id,
                announced: trailer.valid_payload_size,
                received: received as u64,
            });
        }
        let image = leader.kind.image().copied().unwrap_or_default();
        let size_y_sent = match trailer.kind {
            TrailerKind::Image { size_y } | TrailerKind::ImageExtendedChunk { size_y, .. } => {
                size_y
            }
            TrailerKind::Chunk { .. } => image.size_y,
        };
        let info = FrameInfo {
            block_id,
            timestamp: leader.timestamp,
            payload_type,
            image,
            valid_payload_size: trailer.valid_payload_size,
            status: trailer.status,
            size_y_sent,
            lost_before,
        };
        if trailer.status != Status::SUCCESS {
            return Err(StreamError::TrailerStatus(Box::new(info)));
        }
        Ok(info)
    }
}
