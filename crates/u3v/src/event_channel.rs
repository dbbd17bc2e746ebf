//! The USB3 Vision event channel, both ends: the device's [`EventSender`]
//! (event interface registers and the event IN endpoint) and the host's
//! [`EventReceiver`].
//!
//! # Device side
//!
//! An [`EventSender`] owns the EIRM of the device and a bounded queue of
//! [`Event`]s raised by the camera. The device's register space forwards
//! accesses of the EIRM address range to
//! [`read_register`](EventSender::read_register) /
//! [`write_register`](EventSender::write_register), and the device's
//! [`UsbDevice::bulk_in`](crate::link::UsbDevice::bulk_in) for the event
//! endpoint (usually [`DEFAULT_EVENT_ENDPOINT`]) calls
//! [`EventSender::bulk_in`], which writes one event message straight into
//! the host's buffer.
//!
//! | EIRM register | access | behaviour |
//! |---|---|---|
//! | EI control (0x0) | read/write | bit 0 enables events; clearing it flushes the queue |
//! | maximum event transfer length (0x4) | read-only (`WRITE_PROTECT` on change) | the device's choice, [`SenderConfig::max_transfer_length`] |
//! | event test control (0x8) | read/write, reads 0 | writing 1 raises a test event with id [`TEST_EVENT_ID`], no data |
//!
//! Accesses outside `0..eirm::LEN` answer `INVALID_ADDRESS`.
//!
//! **Test event id.** The test event a device emits when the event test
//! control register is written carries event id 0x4FFF, the GenCP test
//! event id. This value has *not* been checked against the GenCP standard
//! text (which was not available, and no public source found states it), so
//! it lives in one named constant, [`TEST_EVENT_ID`], that is easy to
//! correct.
//!
//! Events sent while events are disabled are ignored and counted
//! ([`SenderStats::ignored_disabled`]). A full queue drops its *oldest*
//! event and counts it ([`SenderStats::dropped_overflow`]): fresh events are
//! worth more than stale ones, and the camera is never blocked.
//!
//! Each bulk IN transfer carries one event message with the next request
//! id (incrementing, wrapping at `u16::MAX`). Without multi-event (the
//! default, see [`EventSender::set_multi_event`], which the device's ABRM
//! device configuration register should drive) a message holds exactly one
//! event with a size field of 0; with multi-event it holds as many queued
//! events as fit, each with its size. A message is never longer than the
//! maximum event transfer length; an event too large for it is refused by
//! [`EventSender::send`]. A host buffer smaller than the message is a
//! sizing violation: counted, and only what fits is written.
//!
//! [`halt`](EventSender::halt) stalls the endpoint until the host clears
//! the halt; queued events survive the halt.
//!
//! # Host side
//!
//! [`EventReceiver::configure`] reads the EIRM, sizes the receive buffer
//! from the maximum event transfer length and sets the enable bit.
//! [`EventReceiver::next`] then returns the events of the next valid
//! message, skipping (and counting) malformed ones until its timeout;
//! [`EventReceiver::next_message`] reports a malformed message as
//! [`EventError::Malformed`] instead. A stalled endpoint is cleared before
//! [`EventError::Stalled`] is returned. Gaps in the message request ids are
//! counted ([`ReceiverStats::request_id_gaps`], and
//! [`ReceiverStats::messages_missing`] for the number of ids skipped); the
//! events a device dropped from its own queue are not observable on the
//! wire. No device bytes can make the receiver panic and every wait is
//! bounded by the caller's timeout.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::bootstrap::{eirm, Eirm};
use crate::control_channel::{ControlChannel, ControlError};
use crate::error::DecodeError;
use crate::event::{self, EventLayout, EventRef, EVENT_HEADER_LEN};
use crate::gencp::{Flags, Status, HEADER_LEN};
use crate::link::{DeviceError, LinkError, UsbLink};

/// The usual event IN endpoint of a USB3 Vision device.
pub const DEFAULT_EVENT_ENDPOINT: u8 = 0x82;

/// Event id of the test event raised through the event test control
/// register (GenCP test event, see the module docs).
pub const TEST_EVENT_ID: u16 = 0x4FFF;

/// Smallest useful maximum event transfer length: one message with one
/// event without data.
pub const MIN_TRANSFER_LENGTH: u32 = (HEADER_LEN + EVENT_HEADER_LEN) as u32;

/// Largest maximum event transfer length the host accepts (bounds its
/// receive buffer). The SCD length is 16 bits, so no message is larger.
pub const MAX_TRANSFER_LIMIT: u32 = (HEADER_LEN + u16::MAX as usize) as u32;

/// One event, owning its data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Event {
    /// Event id.
    pub event_id: u16,
    /// Timestamp, ns on the device clock.
    pub timestamp: u64,
    /// Event data.
    pub data: Vec<u8>,
}

impl Event {
    /// An event.
    pub fn new(event_id: u16, timestamp: u64, data: impl Into<Vec<u8>>) -> Self {
        Event {
            event_id,
            timestamp,
            data: data.into(),
        }
    }

    /// The event borrowed, for the codec.
    pub fn as_ref(&self) -> EventRef<'_> {
        EventRef {
            event_id: self.event_id,
            timestamp: self.timestamp,
            data: &self.data,
        }
    }

    /// Length of a single-event message carrying this event.
    pub fn message_len(&self) -> usize {
        HEADER_LEN + EVENT_HEADER_LEN + self.data.len()
    }
}

impl From<EventRef<'_>> for Event {
    fn from(e: EventRef<'_>) -> Self {
        Event::new(e.event_id, e.timestamp, e.data)
    }
}

// ---------------------------------------------------------------------------
// Device side
// ---------------------------------------------------------------------------

/// Settings of an [`EventSender`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderConfig {
    /// EIRM maximum event transfer length (clamped to
    /// [`MIN_TRANSFER_LENGTH`]..=[`MAX_TRANSFER_LIMIT`]).
    pub max_transfer_length: u32,
    /// Events the queue holds (at least 1).
    pub queue_capacity: usize,
    /// Whether several events may share a message initially.
    pub multi_event: bool,
}

impl Default for SenderConfig {
    fn default() -> Self {
        SenderConfig {
            max_transfer_length: 1024,
            queue_capacity: 64,
            multi_event: false,
        }
    }
}

/// What [`EventSender::send`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendOutcome {
    /// Queued.
    Queued,
    /// Queued after dropping the oldest queued event (queue full).
    QueuedDroppedOldest,
    /// Ignored: events are disabled.
    IgnoredDisabled,
}

/// Why [`EventSender::send`] refused an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The event does not fit one message of the maximum event transfer
    /// length.
    #[error(
        "an event message of {len} bytes exceeds the {max}-byte maximum event transfer length"
    )]
    TooLarge {
        /// Length of the message the event needs.
        len: usize,
        /// The maximum event transfer length.
        max: u32,
    },
    /// The device is disconnected.
    #[error("the device is disconnected")]
    Disconnected,
}

/// Counters of an [`EventSender`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderStats {
    /// Events accepted into the queue (test events included).
    pub events_queued: u64,
    /// Events written into host buffers.
    pub events_sent: u64,
    /// Messages written into host buffers.
    pub messages: u64,
    /// Bytes written into host buffers.
    pub bytes: u64,
    /// Events dropped from a full queue (oldest first).
    pub dropped_overflow: u64,
    /// Events ignored because events were disabled.
    pub ignored_disabled: u64,
    /// Events refused as too large for one message.
    pub too_large: u64,
    /// Queued events discarded when the host disabled events.
    pub flushed: u64,
    /// Test events raised through the event test control register.
    pub test_events: u64,
    /// Host buffers smaller than the message to send.
    pub sizing_violations: u64,
}

struct SenderInner {
    ei_control: u32,
    multi_event: bool,
    queue: VecDeque<Event>,
    next_request_id: u16,
    halted: bool,
    disconnected: bool,
    stats: SenderStats,
}

/// The device's event channel: EIRM, event queue and event IN endpoint.
/// See the [module docs](self).
pub struct EventSender {
    config: SenderConfig,
    epoch: Instant,
    inner: Mutex<SenderInner>,
    /// Signalled when an event is queued or the endpoint state changes.
    data: Condvar,
}

impl fmt::Debug for EventSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSender")
            .field("config", &self.config)
            .field("eirm", &self.eirm())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

fn eirm_range(offset: u64, len: usize) -> Result<std::ops::Range<usize>, Status> {
    let start = usize::try_from(offset).map_err(|_| Status::INVALID_ADDRESS)?;
    let end = start.checked_add(len).ok_or(Status::INVALID_ADDRESS)?;
    if end > eirm::LEN {
        return Err(Status::INVALID_ADDRESS);
    }
    Ok(start..end)
}

impl EventSender {
    /// A sender with events disabled.
    pub fn new(config: SenderConfig) -> Self {
        let config = SenderConfig {
            max_transfer_length: config
                .max_transfer_length
                .clamp(MIN_TRANSFER_LENGTH, MAX_TRANSFER_LIMIT),
            queue_capacity: config.queue_capacity.max(1),
            multi_event: config.multi_event,
        };
        EventSender {
            config,
            epoch: Instant::now(),
            inner: Mutex::new(SenderInner {
                ei_control: 0,
                multi_event: config.multi_event,
                queue: VecDeque::new(),
                next_request_id: 0,
                halted: false,
                disconnected: false,
                stats: SenderStats::default(),
            }),
            data: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SenderInner> {
        // Every update leaves the state consistent, so a poisoned lock is usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The settings (after clamping).
    pub fn config(&self) -> &SenderConfig {
        &self.config
    }

    /// The current EIRM.
    pub fn eirm(&self) -> Eirm {
        Eirm {
            ei_control: self.lock().ei_control,
            max_event_transfer_length: self.config.max_transfer_length,
            event_test_control: 0,
        }
    }

    /// The counters.
    pub fn stats(&self) -> SenderStats {
        self.lock().stats
    }

    /// Whether the host has enabled events.
    pub fn is_enabled(&self) -> bool {
        self.lock().ei_control & eirm::EI_CONTROL_ENABLE != 0
    }

    /// Events waiting in the queue.
    pub fn queued(&self) -> usize {
        self.lock().queue.len()
    }

    /// Whether several events may share a message (the ABRM device
    /// configuration multi-event enable bit, forwarded by the device).
    pub fn set_multi_event(&self, enabled: bool) {
        self.lock().multi_event = enabled;
    }

    /// Whether multi-event messages are enabled.
    pub fn multi_event(&self) -> bool {
        self.lock().multi_event
    }

    /// The request id the next message will carry.
    pub fn next_request_id(&self) -> u16 {
        self.lock().next_request_id
    }

    /// Nanoseconds since the sender was created: the timestamp of test
    /// events.
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Reads EIRM bytes at `offset` (from the EIRM address) into `buf`.
    pub fn read_register(&self, offset: u64, buf: &mut [u8]) -> Result<(), Status> {
        let range = eirm_range(offset, buf.len())?;
        let mut img = [0u8; eirm::LEN];
        self.eirm()
            .encode_into(&mut img)
            .map_err(|_| Status::ERROR)?;
        buf.copy_from_slice(&img[range]);
        Ok(())
    }

    /// Writes EIRM bytes at `offset`; see the module docs for the answers.
    pub fn write_register(&self, offset: u64, data: &[u8]) -> Result<(), Status> {
        let range = eirm_range(offset, data.len())?;
        let cur = self.eirm();
        let mut img = [0u8; eirm::LEN];
        cur.encode_into(&mut img).map_err(|_| Status::ERROR)?;
        img[range].copy_from_slice(data);
        let new = Eirm::decode(&img).map_err(|_| Status::ERROR)?;
        if new.max_event_transfer_length != cur.max_event_transfer_length {
            return Err(Status::WRITE_PROTECT);
        }
        let mut g = self.lock();
        if g.disconnected {
            return Err(Status::ERROR);
        }
        let was_enabled = g.ei_control & eirm::EI_CONTROL_ENABLE != 0;
        g.ei_control = new.ei_control;
        if was_enabled && !new.enabled() {
            let n = g.queue.len() as u64;
            g.queue.clear();
            g.stats.flushed += n;
        }
        if new.event_test_control & 1 != 0 {
            let ev = Event::new(TEST_EVENT_ID, self.now_ns(), Vec::new());
            if matches!(
                self.enqueue(&mut g, ev),
                Ok(SendOutcome::Queued | SendOutcome::QueuedDroppedOldest)
            ) {
                g.stats.test_events += 1;
            }
        }
        drop(g);
        self.data.notify_all();
        Ok(())
    }

    fn enqueue(&self, g: &mut SenderInner, event: Event) -> Result<SendOutcome, SendError> {
        if g.disconnected {
            return Err(SendError::Disconnected);
        }
        let len = event.message_len();
        if len > self.config.max_transfer_length as usize {
            g.stats.too_large += 1;
            return Err(SendError::TooLarge {
                len,
                max: self.config.max_transfer_length,
            });
        }
        if g.ei_control & eirm::EI_CONTROL_ENABLE == 0 {
            g.stats.ignored_disabled += 1;
            return Ok(SendOutcome::IgnoredDisabled);
        }
        let mut outcome = SendOutcome::Queued;
        while g.queue.len() >= self.config.queue_capacity {
            g.queue.pop_front();
            g.stats.dropped_overflow += 1;
            outcome = SendOutcome::QueuedDroppedOldest;
        }
        g.queue.push_back(event);
        g.stats.events_queued += 1;
        Ok(outcome)
    }

    /// Queues an event for the host; never blocks. See the module docs.
    pub fn send(&self, event: Event) -> Result<SendOutcome, SendError> {
        let r = self.enqueue(&mut self.lock(), event);
        if matches!(
            r,
            Ok(SendOutcome::Queued | SendOutcome::QueuedDroppedOldest)
        ) {
            self.data.notify_all();
        }
        r
    }

    /// Halts (stalls) the event endpoint until the host clears it.
    pub fn halt(&self) {
        self.lock().halted = true;
        self.data.notify_all();
    }

    /// Whether the endpoint is halted.
    pub fn is_halted(&self) -> bool {
        self.lock().halted
    }

    /// The host cleared the halt: the endpoint answers again (queued events
    /// are kept).
    pub fn clear_halt(&self) -> Result<(), DeviceError> {
        let mut g = self.lock();
        if g.disconnected {
            return Err(DeviceError::Disconnected);
        }
        g.halted = false;
        drop(g);
        self.data.notify_all();
        Ok(())
    }

    /// Unplugs the device: transfers and sends fail from now on.
    pub fn disconnect(&self) {
        self.lock().disconnected = true;
        self.data.notify_all();
    }

    /// Plugs the device back in after [`disconnect`](Self::disconnect):
    /// events are disabled and the queue is emptied.
    pub fn reconnect(&self) {
        let mut g = self.lock();
        g.disconnected = false;
        g.halted = false;
        g.ei_control = 0;
        g.queue.clear();
        drop(g);
        self.data.notify_all();
    }

    /// Serves one bulk IN transfer of the event endpoint: writes the next
    /// event message into `buf`, waiting until `deadline` for an event.
    pub fn bulk_in(&self, buf: &mut [u8], deadline: Instant) -> Result<usize, DeviceError> {
        let mut g = self.lock();
        loop {
            if g.disconnected {
                return Err(DeviceError::Disconnected);
            }
            if g.halted {
                return Err(DeviceError::Stall);
            }
            if !g.queue.is_empty() {
                return Ok(self.next_message(&mut g, buf));
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

    /// Takes the events of the next message off the queue and writes it.
    fn next_message(&self, g: &mut SenderInner, buf: &mut [u8]) -> usize {
        let max = self.config.max_transfer_length as usize;
        let (layout, events) = if g.multi_event {
            // As many events as fit the maximum transfer length and, when
            // possible, the host's buffer.
            let limit = max.min(buf.len()).max(MIN_TRANSFER_LENGTH as usize);
            let mut events = Vec::new();
            let mut len = HEADER_LEN;
            while let Some(e) = g.queue.front() {
                let add = EVENT_HEADER_LEN + e.data.len();
                if !events.is_empty() && len + add > limit {
                    break;
                }
                len += add;
                if let Some(e) = g.queue.pop_front() {
                    events.push(e);
                }
            }
            (EventLayout::Multi, events)
        } else {
            (
                EventLayout::Single,
                g.queue.pop_front().into_iter().collect(),
            )
        };
        let refs: Vec<EventRef<'_>> = events.iter().map(Event::as_ref).collect();
        let request_id = g.next_request_id;
        g.next_request_id = request_id.wrapping_add(1);
        let total = event::encoded_len(&refs);
        let written = if total <= buf.len() {
            event::encode_into(Flags::NONE, request_id, layout, &refs, buf).unwrap_or(0)
        } else {
            g.stats.sizing_violations += 1;
            let mut tmp = Vec::with_capacity(total);
            match event::encode(Flags::NONE, request_id, layout, &refs, &mut tmp) {
                Ok(_) => {
                    let n = tmp.len().min(buf.len());
                    buf[..n].copy_from_slice(&tmp[..n]);
                    n
                }
                Err(_) => 0,
            }
        };
        g.stats.messages += 1;
        g.stats.events_sent += events.len() as u64;
        g.stats.bytes += written as u64;
        written
    }
}

// ---------------------------------------------------------------------------
// Host side
// ---------------------------------------------------------------------------

/// Why no events were received.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// [`EventReceiver::configure`] has not succeeded yet.
    #[error("the event channel is not configured")]
    NotConfigured,
    /// A register access failed.
    #[error("event channel register access failed: {0}")]
    Control(#[from] ControlError),
    /// The device's EIRM is unusable (the text says why).
    #[error("unusable EIRM: {0}")]
    BadEirm(String),
    /// No event message arrived before the timeout.
    #[error("no event message before the timeout")]
    Timeout,
    /// A message on the event endpoint is not a valid event message; it was
    /// skipped.
    #[error("malformed event message ({len} bytes): {source}")]
    Malformed {
        /// Length of the transfer.
        len: usize,
        /// Why it does not decode.
        source: DecodeError,
    },
    /// The event endpoint stalled; the halt has been cleared.
    #[error("event endpoint {endpoint:#04x} stalled (halt cleared: {cleared})")]
    Stalled {
        /// The endpoint.
        endpoint: u8,
        /// Whether clearing the halt succeeded.
        cleared: bool,
    },
    /// The device is gone.
    #[error("the device is disconnected")]
    Disconnected,
    /// Another link failure.
    #[error("event link error: {0}")]
    Link(LinkError),
}

/// Counters of an [`EventReceiver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReceiverStats {
    /// Events delivered.
    pub events: u64,
    /// Valid event messages received.
    pub messages: u64,
    /// Malformed messages skipped.
    pub malformed: u64,
    /// Times the request id of a message was not the previous one plus 1.
    pub request_id_gaps: u64,
    /// Request ids skipped over by those gaps (messages presumably lost).
    pub messages_missing: u64,
    /// Halts cleared.
    pub stalls: u64,
}

struct ReceiverState {
    eirm_address: Option<u64>,
    buf: Vec<u8>,
    last_request_id: Option<u16>,
    stats: ReceiverStats,
}

/// The host's event channel on one IN endpoint. See the [module docs](self).
pub struct EventReceiver {
    link: Arc<dyn UsbLink>,
    endpoint: u8,
    state: Mutex<ReceiverState>,
}

impl fmt::Debug for EventReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventReceiver")
            .field("endpoint", &self.endpoint)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl EventReceiver {
    /// A receiver on `endpoint` of `link`; call
    /// [`configure`](Self::configure) before receiving.
    pub fn new(link: Arc<dyn UsbLink>, endpoint: u8) -> Self {
        EventReceiver {
            link,
            endpoint,
            state: Mutex::new(ReceiverState {
                eirm_address: None,
                buf: Vec::new(),
                last_request_id: None,
                stats: ReceiverStats::default(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ReceiverState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The endpoint.
    pub fn endpoint(&self) -> u8 {
        self.endpoint
    }

    /// The counters.
    pub fn stats(&self) -> ReceiverStats {
        self.lock().stats
    }

    /// Reads the EIRM at `eirm_address`, sizes the receive buffer from the
    /// maximum event transfer length and enables events. Returns the EIRM
    /// as read (before enabling).
    pub fn configure(
        &self,
        channel: &ControlChannel,
        eirm_address: u64,
    ) -> Result<Eirm, EventError> {
        let control_at = eirm_address
            .checked_add(eirm::EI_CONTROL)
            .filter(|a| a.checked_add(eirm::LEN as u64).is_some())
            .ok_or_else(|| EventError::BadEirm("EIRM address overflows".into()))?;
        let mut raw = [0u8; eirm::LEN];
        channel.read(eirm_address, &mut raw)?;
        let e = Eirm::decode(&raw).map_err(|err| EventError::BadEirm(err.to_string()))?;
        let max = e.max_event_transfer_length;
        if !(MIN_TRANSFER_LENGTH..=MAX_TRANSFER_LIMIT).contains(&max) {
            return Err(EventError::BadEirm(format!(
                "maximum event transfer length {max} outside {MIN_TRANSFER_LENGTH}..={MAX_TRANSFER_LIMIT}"
            )));
        }
        {
            let mut st = self.lock();
            st.buf = vec![0; max as usize];
            st.eirm_address = Some(eirm_address);
            st.last_request_id = None;
        }
        channel.write_u32(control_at, e.ei_control | eirm::EI_CONTROL_ENABLE)?;
        Ok(e)
    }

    /// Disables events (EI control bit 0 cleared).
    pub fn disable(&self, channel: &ControlChannel) -> Result<(), EventError> {
        let at = self.lock().eirm_address.ok_or(EventError::NotConfigured)?;
        let v = channel.read_u32(at)?;
        channel.write_u32(at, v & !eirm::EI_CONTROL_ENABLE)?;
        Ok(())
    }

    /// Triggers a test event by writing 1 to the event test control
    /// register.
    pub fn fire_test_event(&self, channel: &ControlChannel) -> Result<(), EventError> {
        let at = self.lock().eirm_address.ok_or(EventError::NotConfigured)?;
        let at = at
            .checked_add(eirm::EVENT_TEST_CONTROL)
            .ok_or_else(|| EventError::BadEirm("EIRM address overflows".into()))?;
        channel.write_u32(at, 1)?;
        Ok(())
    }

    /// The events of the next valid message, skipping malformed messages
    /// (counted) until `timeout`.
    pub fn next(&self, timeout: Duration) -> Result<Vec<Event>, EventError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_message(left) {
                Err(EventError::Malformed { .. }) if Instant::now() < deadline => continue,
                Err(EventError::Malformed { .. }) => return Err(EventError::Timeout),
                r => return r,
            }
        }
    }

    /// Reads one message within `timeout` and returns its events; a message
    /// that does not decode is counted and returned as
    /// [`EventError::Malformed`].
    pub fn next_message(&self, timeout: Duration) -> Result<Vec<Event>, EventError> {
        let mut guard = self.lock();
        let st = &mut *guard;
        if st.eirm_address.is_none() || st.buf.is_empty() {
            return Err(EventError::NotConfigured);
        }
        let n = match self.link.bulk_in(self.endpoint, &mut st.buf, timeout) {
            Ok(n) => n.min(st.buf.len()),
            Err(LinkError::Timeout) => return Err(EventError::Timeout),
            Err(LinkError::Disconnected) => return Err(EventError::Disconnected),
            Err(LinkError::Stall(endpoint)) => {
                st.stats.stalls += 1;
                let cleared = match self.link.clear_halt(self.endpoint) {
                    Ok(()) => true,
                    Err(LinkError::Disconnected) => return Err(EventError::Disconnected),
                    Err(_) => false,
                };
                return Err(EventError::Stalled { endpoint, cleared });
            }
            Err(e) => return Err(EventError::Link(e)),
        };
        let msg = &st.buf[..n];
        let packet = match event::decode(msg) {
            Ok(p) => p,
            Err(source) => {
                st.stats.malformed += 1;
                return Err(EventError::Malformed { len: n, source });
            }
        };
        let events: Vec<Event> = packet.events().map(Event::from).collect();
        let id = packet.header.request_id;
        if let Some(last) = st.last_request_id {
            let expected = last.wrapping_add(1);
            if id != expected {
                st.stats.request_id_gaps += 1;
                st.stats.messages_missing += u64::from(id.wrapping_sub(expected));
            }
        }
        st.last_request_id = Some(id);
        st.stats.messages += 1;
        st.stats.events += events.len() as u64;
        Ok(events)
    }

    /// Calls `f` with every event received until `timeout` elapses or `f`
    /// returns false; returns the number of events handed to `f`.
    /// Malformed messages are skipped; a stall, disconnection or link
    /// failure ends the loop with its error.
    pub fn for_each(
        &self,
        timeout: Duration,
        mut f: impl FnMut(Event) -> bool,
    ) -> Result<u64, EventError> {
        let deadline = Instant::now() + timeout;
        let mut count = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(count);
            }
            match self.next(left) {
                Ok(events) => {
                    for e in events {
                        count += 1;
                        if !f(e) {
                            return Ok(count);
                        }
                    }
                }
                Err(EventError::Timeout) => return Ok(count),
                Err(e) => return Err(e),
            }
        }
    }
}
