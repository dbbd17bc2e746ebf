//! [`Stream`]: acquisition from a [`Camera`] into a pool of buffers, on a
//! receive thread of its own, with the statistics of the manual's
//! statistics panel.
//!
//! The receive thread takes a free buffer from the pool and lets the
//! stream receiver write the frame straight into it (no copy on the
//! in-process link). A complete frame goes to the output queue; a frame
//! that arrives while no buffer is free is drained into a scratch buffer,
//! dropped and counted as an underrun. Dropping a [`Frame`] gives its
//! buffer back to the pool.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use u3v::stream_receiver::{Phase, StreamError, StreamReceiver, DEFAULT_IN_FLIGHT};
use u3v::DeviceDescriptors;

use crate::camera::Camera;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::feature::Value;
use crate::frame::Frame;

/// How long one receive call waits before the thread checks for stop.
const POLL: Duration = Duration::from_millis(100);

/// How long a stopped stream keeps receiving what the camera still sends.
const DRAIN: Duration = Duration::from_secs(1);

/// How long the rest of a frame may take once its leader has arrived: a
/// frame is never cut in two by the receive loop's short poll, however
/// slow the link or busy the host.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// How many frames one acquisition captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcquisitionMode {
    /// Until stopped.
    Continuous,
    /// One frame.
    SingleFrame,
    /// This many frames (1 to 255 on the virtual camera).
    MultiFrame(u32),
}

impl AcquisitionMode {
    /// `continuous`, `single` or `multi` (with `count` frames).
    pub fn from_name(name: &str, count: u32) -> Option<AcquisitionMode> {
        match name.to_ascii_lowercase().as_str() {
            "continuous" => Some(AcquisitionMode::Continuous),
            "single" | "singleframe" => Some(AcquisitionMode::SingleFrame),
            "multi" | "multiframe" => Some(AcquisitionMode::MultiFrame(count)),
            _ => None,
        }
    }

    fn frames(self) -> Option<u64> {
        match self {
            AcquisitionMode::Continuous => None,
            AcquisitionMode::SingleFrame => Some(1),
            AcquisitionMode::MultiFrame(n) => Some(u64::from(n)),
        }
    }
}

/// Which frames [`Stream::next_frame`] hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueuePolicy {
    /// Every frame, oldest first; a frame that finds no free buffer is
    /// dropped (an underrun).
    OldestFirst,
    /// Only the newest frame: older frames not yet taken go back to the
    /// pool when a new one arrives.
    NewestOnly,
}

/// The default largest payload transfer: 16 MiB, so that a whole frame of
/// the largest format of the cameras (5 MP RGB8, 15 MB) is one transfer.
pub const DEFAULT_MAX_TRANSFER: u32 = 16 << 20;

/// How to stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOptions {
    /// The acquisition mode (default continuous).
    pub mode: AcquisitionMode,
    /// Buffers in the pool (default 8, at least 1).
    pub buffers: usize,
    /// The queue policy (default oldest first).
    pub policy: QueuePolicy,
    /// Largest payload transfer, bytes (default [`DEFAULT_MAX_TRANSFER`]).
    /// A frame whose payload fits in one transfer reaches the pool without
    /// being copied on the host.
    pub max_transfer: u32,
    /// Transfers kept in flight; `None` chooses: single transfers straight
    /// into the pool buffers in process, several in flight over a network
    /// or a real bus.
    pub in_flight: Option<usize>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            mode: AcquisitionMode::Continuous,
            buffers: 8,
            policy: QueuePolicy::OldestFirst,
            max_transfer: DEFAULT_MAX_TRANSFER,
            in_flight: None,
        }
    }
}

/// Stream statistics, as the manual's statistics panel shows them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Statistics {
    /// The frame rate the camera is set to: AcquisitionFrameRate when
    /// enabled, else ResultingFrameRate (Hz).
    pub configured_frame_rate: f64,
    /// Frames per second received.
    pub measured_frame_rate: f64,
    /// Payload bytes per second received.
    pub bandwidth: f64,
    /// Complete frames received.
    pub images_received: u64,
    /// Frames that never arrived (block-id gaps).
    pub frames_lost: u64,
    /// Lost frames over all frames the camera sent.
    pub frame_loss_rate: f64,
    /// Frames that arrived incomplete or with an error status.
    pub error_images: u64,
    /// Error images over all frames the camera sent.
    pub error_image_rate: f64,
    /// Frames dropped because no buffer was free.
    pub underruns: u64,
    /// Payload bytes received.
    pub bytes: u64,
    /// Time since the first frame arrived.
    pub elapsed: Duration,
}

impl Statistics {
    /// The statistics as a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "configured_frame_rate": self.configured_frame_rate,
            "measured_frame_rate": self.measured_frame_rate,
            "bandwidth_mb_per_s": self.bandwidth / 1e6,
            "images_received": self.images_received,
            "frames_lost": self.frames_lost,
            "frame_loss_rate": self.frame_loss_rate,
            "error_images": self.error_images,
            "error_image_rate": self.error_image_rate,
            "underruns": self.underruns,
            "bytes": self.bytes,
            "elapsed_s": self.elapsed.as_secs_f64(),
        })
    }
}

#[derive(Default)]
struct Counters {
    received: u64,
    lost: u64,
    errors: u64,
    underruns: u64,
    bytes: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

struct PoolState {
    free: Vec<Vec<u8>>,
    ready: VecDeque<(Vec<u8>, crate::frame::FrameInfo)>,
    counters: Counters,
    /// The thread ended: the acquisition finished, or this error.
    ended: bool,
    failure: Option<Error>,
}

/// The buffers of a stream and its output queue.
pub(crate) struct Pool {
    state: Mutex<PoolState>,
    cond: Condvar,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn give_back(&self, buf: Vec<u8>) {
        if !buf.is_empty() {
            self.lock().free.push(buf);
        }
    }
}

/// A running acquisition. Stop it with [`stop`](Self::stop) (dropping it
/// stops it too).
pub struct Stream {
    camera: Camera,
    pool: Arc<Pool>,
    receiver: Arc<StreamReceiver>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    configured_frame_rate: f64,
    policy: QueuePolicy,
    stopped: bool,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("camera", &self.camera)
            .field("statistics", &self.statistics())
            .finish_non_exhaustive()
    }
}

impl Camera {
    /// The frame rate the camera is set to: AcquisitionFrameRate when
    /// AcquisitionFrameRateEnable is on, else ResultingFrameRate.
    pub fn configured_frame_rate(&self) -> Result<f64> {
        if self.boolean("AcquisitionFrameRateEnable").unwrap_or(false) {
            self.float("AcquisitionFrameRate")
        } else {
            self.float("ResultingFrameRate")
        }
    }

    /// Starts an acquisition: sets the mode, locks the transport
    /// parameters, configures the stream channel, starts the receive
    /// thread and executes AcquisitionStart.
    pub fn start_stream(&self, options: &StreamOptions) -> Result<Stream> {
        if self.is_disconnected() {
            return Err(Error::Disconnected {
                device: self.info().id(),
            });
        }
        if self.shared.streaming.swap(true, Ordering::SeqCst) {
            return Err(Error::AlreadyStreaming {
                device: self.info().id(),
            });
        }
        match self.start_inner(options) {
            Ok(s) => Ok(s),
            Err(e) => {
                self.shared.streaming.store(false, Ordering::SeqCst);
                let _ = self.set("TLParamsLocked", 0i64);
                Err(e)
            }
        }
    }

    fn start_inner(&self, options: &StreamOptions) -> Result<Stream> {
        let device = self.info().id();
        let (mode, count) = match options.mode {
            AcquisitionMode::Continuous => ("Continuous", None),
            AcquisitionMode::SingleFrame => ("SingleFrame", None),
            AcquisitionMode::MultiFrame(n) => ("MultiFrame", Some(n)),
        };
        self.set("AcquisitionMode", Value::Enumeration(mode.into()))?;
        if let Some(n) = count {
            self.set("AcquisitionFrameCount", i64::from(n))?;
        }
        let configured_frame_rate = self.configured_frame_rate().unwrap_or(0.0);
        let payload = self.integer("PayloadSize")?;
        let in_flight = options.in_flight.unwrap_or(if self.shared.in_process {
            0
        } else {
            DEFAULT_IN_FLIGHT
        });
        let receiver = Arc::new(
            StreamReceiver::new(self.shared.link.clone(), DeviceDescriptors::STREAM_IN_EP)
                .with_in_flight(in_flight)
                .with_block_timeout(BLOCK_TIMEOUT),
        );
        receiver
            .configure(&self.shared.channel, self.shared.sirm, options.max_transfer)
            .map_err(|e| match e {
                StreamError::Disconnected => Error::Disconnected {
                    device: device.clone(),
                },
                other => Error::Stream {
                    device: device.clone(),
                    reason: other.to_string(),
                },
            })?;
        let size = usize::try_from(receiver.required_payload_size().max(payload.max(0) as u64))
            .map_err(|_| Error::Stream {
                device: device.clone(),
                reason: "payload size overflows".into(),
            })?;
        let buffers = options.buffers.clamp(1, 1024);
        let pool = Arc::new(Pool {
            state: Mutex::new(PoolState {
                free: (0..buffers).map(|_| vec![0u8; size]).collect(),
                ready: VecDeque::new(),
                counters: Counters::default(),
                ended: false,
                failure: None,
            }),
            cond: Condvar::new(),
        });
        // The transport layer locks the image format while it streams.
        let _ = self.set("TLParamsLocked", 1i64);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let ctx = ReceiveLoop {
                receiver: receiver.clone(),
                pool: pool.clone(),
                stop: stop.clone(),
                policy: options.policy,
                frames: options.mode.frames(),
                scratch: Vec::new(),
                size,
                camera: self.clone(),
            };
            std::thread::Builder::new()
                .name("mvcam-stream".into())
                .spawn(move || ctx.run())
                .map_err(|e| Error::Stream {
                    device: device.clone(),
                    reason: e.to_string(),
                })?
        };
        let mut stream = Stream {
            camera: self.clone(),
            pool,
            receiver,
            stop,
            thread: Some(thread),
            configured_frame_rate,
            policy: options.policy,
            stopped: false,
        };
        if let Err(e) = self.execute("AcquisitionStart") {
            let _ = stream.shutdown();
            return Err(e);
        }
        Ok(stream)
    }
}

struct ReceiveLoop {
    receiver: Arc<StreamReceiver>,
    pool: Arc<Pool>,
    stop: Arc<AtomicBool>,
    policy: QueuePolicy,
    frames: Option<u64>,
    scratch: Vec<u8>,
    size: usize,
    camera: Camera,
}

impl ReceiveLoop {
    fn run(mut self) {
        let mut seen = 0u64;
        let mut drain_until: Option<Instant> = None;
        loop {
            // Once stopped, frames the camera still sends are received
            // (so that it finishes its acquisition) until the link is
            // quiet for one poll, or for at most DRAIN.
            if self.stop.load(Ordering::SeqCst) {
                let until = *drain_until.get_or_insert_with(|| Instant::now() + DRAIN);
                if Instant::now() >= until {
                    break;
                }
            }
            if self.frames.is_some_and(|n| seen >= n) {
                break;
            }
            let (mut buf, pooled) = {
                let mut st = self.pool.lock();
                match st.free.pop() {
                    Some(b) => (b, true),
                    None if self.policy == QueuePolicy::NewestOnly && !st.ready.is_empty() => (
                        st.ready.pop_front().map(|(b, _)| b).unwrap_or_default(),
                        true,
                    ),
                    None => (std::mem::take(&mut self.scratch), false),
                }
            };
            if buf.len() < self.size {
                buf.resize(self.size, 0);
            }
            // The receiver may hand back a different buffer holding the
            // frame (its transfer's), keeping this one for a later
            // transfer: the pool's buffers and the receiver's circulate.
            let r = self.receiver.receive_vec(&mut buf, POLL);
            let now = Instant::now();
            let pool = self.pool.clone();
            let mut st = pool.lock();
            match r {
                Ok(info) => {
                    seen += 1;
                    let c = &mut st.counters;
                    c.first.get_or_insert(now);
                    c.last = Some(now);
                    c.lost += info.lost_before;
                    c.bytes += info.valid_payload_size;
                    if pooled {
                        c.received += 1;
                        if self.policy == QueuePolicy::NewestOnly {
                            let old: Vec<Vec<u8>> = st.ready.drain(..).map(|(b, _)| b).collect();
                            st.free.extend(old);
                        }
                        st.ready.push_back((buf, Frame::from_receiver(&info)));
                        self.pool.cond.notify_all();
                    } else {
                        c.underruns += 1;
                        let count = c.underruns;
                        self.scratch = buf;
                        drop(st);
                        self.camera.shared.hub.emit(Event::StreamUnderrun { count });
                    }
                    continue;
                }
                // Nothing started: the link is quiet.
                Err(StreamError::Timeout {
                    phase: Phase::Leader,
                }) => {
                    if drain_until.is_some() {
                        self.give(&mut st, buf, pooled);
                        break;
                    }
                }
                Err(StreamError::Disconnected) => {
                    st.failure = Some(Error::Disconnected {
                        device: self.camera.info().id(),
                    });
                    self.give(&mut st, buf, pooled);
                    drop(st);
                    let _ = self.camera.fix(Error::Disconnected {
                        device: String::new(),
                    });
                    break;
                }
                Err(e) => {
                    seen += 1;
                    let c = &mut st.counters;
                    c.first.get_or_insert(now);
                    c.last = Some(now);
                    c.errors += 1;
                    if let StreamError::TrailerStatus(info) = &e {
                        c.lost += info.lost_before;
                    }
                }
            }
            self.give(&mut st, buf, pooled);
        }
        let mut st = self.pool.lock();
        st.ended = true;
        self.pool.cond.notify_all();
    }

    fn give(&mut self, st: &mut PoolState, buf: Vec<u8>, pooled: bool) {
        if pooled {
            st.free.push(buf);
        } else {
            self.scratch = buf;
        }
    }
}

impl Stream {
    /// The next frame (the oldest waiting, or the newest with
    /// [`QueuePolicy::NewestOnly`]) within `timeout`. Fails with
    /// [`Error::Timeout`], [`Error::StreamEnded`] once a SingleFrame or
    /// MultiFrame acquisition has delivered everything, or
    /// [`Error::Disconnected`].
    pub fn next_frame(&self, timeout: Duration) -> Result<Frame> {
        let deadline = Instant::now() + timeout;
        let mut st = self.pool.lock();
        loop {
            if let Some((buf, info)) = st.ready.pop_front() {
                return Ok(Frame::new(buf, info, Some(self.pool.clone())));
            }
            if st.ended {
                return Err(match &st.failure {
                    Some(Error::Disconnected { device }) => Error::Disconnected {
                        device: device.clone(),
                    },
                    _ => Error::StreamEnded,
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout(timeout));
            }
            st = self
                .pool
                .cond
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The queue policy.
    pub fn policy(&self) -> QueuePolicy {
        self.policy
    }

    /// The camera streaming.
    pub fn camera(&self) -> &Camera {
        &self.camera
    }

    /// The statistics so far.
    pub fn statistics(&self) -> Statistics {
        StatsView {
            pool: &self.pool,
            configured: self.configured_frame_rate,
        }
        .get()
    }

    /// The stream receiver's own counters (transfers discarded, stalls).
    pub fn receiver_counters(&self) -> u3v::stream_receiver::ReceiverStats {
        self.receiver.stats()
    }

    /// Calls `f` with every frame on a thread of its own until `f` returns
    /// false, the acquisition ends or [`CallbackStream::stop`] is called.
    pub fn on_frame(self, mut f: impl FnMut(Frame) -> bool + Send + 'static) -> CallbackStream {
        let quit = Arc::new(AtomicBool::new(false));
        let q = quit.clone();
        let pool = self.pool.clone();
        let configured = self.configured_frame_rate;
        let handle = std::thread::Builder::new()
            .name("mvcam-callback".into())
            .spawn(move || {
                let s = self;
                while !q.load(Ordering::SeqCst) {
                    match s.next_frame(POLL) {
                        Ok(frame) => {
                            if !f(frame) {
                                break;
                            }
                        }
                        Err(Error::Timeout(_)) => {}
                        Err(e) => return (s, Some(e)),
                    }
                }
                (s, None)
            })
            .ok();
        CallbackStream {
            quit,
            handle,
            pool,
            configured,
        }
    }

    fn shutdown(&mut self) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let gone = self.camera.is_disconnected();
        let mut result = Ok(());
        if !gone {
            // AcquisitionStop is done once the frame in flight is complete
            // (the receive thread still takes it): when stop returns, the
            // image format is writable again.
            result = self.camera.execute("AcquisitionStop");
        }
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if !self.camera.is_disconnected() {
            // The camera must not stay locked for the next user: a failure
            // here is the stop's failure.
            let disabled = self
                .receiver
                .disable(&self.camera.shared.channel)
                .map_err(|e| Error::Stream {
                    device: self.camera.info().id(),
                    reason: format!("disabling the stream channel: {e}"),
                });
            let unlocked = self.camera.set("TLParamsLocked", 0i64);
            if result.is_ok() {
                result = disabled.and(unlocked);
            }
        }
        self.camera.shared.streaming.store(false, Ordering::SeqCst);
        if self.camera.is_disconnected() {
            return Err(Error::Disconnected {
                device: self.camera.info().id(),
            });
        }
        result
    }

    /// Stops the acquisition (AcquisitionStop, waiting until the camera
    /// has finished the frame in flight, which is still received), the
    /// receive thread and the stream channel; returns the final
    /// statistics. The image format is writable again when it returns.
    /// Frames still held stay valid.
    pub fn stop(mut self) -> Result<Statistics> {
        self.shutdown()?;
        Ok(self.statistics())
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let _ = self.shutdown();
        // Frames still queued give their buffers back to nobody.
        let mut st = self.pool.lock();
        st.ready.clear();
    }
}

/// A stream delivering frames to a callback (see [`Stream::on_frame`]).
pub struct CallbackStream {
    quit: Arc<AtomicBool>,
    handle: Option<JoinHandle<(Stream, Option<Error>)>>,
    pool: Arc<Pool>,
    configured: f64,
}

impl CallbackStream {
    /// Whether the callback thread has ended (the callback returned false,
    /// or the acquisition ended).
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().map_or(true, |h| h.is_finished())
    }

    /// Stops the callbacks and the acquisition; returns the statistics,
    /// or the error that ended the stream (e.g. disconnected).
    pub fn stop(mut self) -> Result<Statistics> {
        self.quit.store(true, Ordering::SeqCst);
        let Some(h) = self.handle.take() else {
            return Err(Error::Stream {
                device: String::new(),
                reason: "callback thread did not start".into(),
            });
        };
        let (stream, err) = h.join().map_err(|_| Error::Stream {
            device: String::new(),
            reason: "the frame callback panicked".into(),
        })?;
        let stats = stream.statistics();
        let stopped = stream.stop();
        if let Some(e) = err {
            if !matches!(e, Error::StreamEnded) {
                return Err(e);
            }
        }
        stopped.map(|_| stats)
    }

    /// The statistics so far.
    pub fn statistics(&self) -> Statistics {
        let tmp = StatsView {
            pool: &self.pool,
            configured: self.configured,
        };
        tmp.get()
    }
}

struct StatsView<'a> {
    pool: &'a Arc<Pool>,
    configured: f64,
}

impl StatsView<'_> {
    fn get(&self) -> Statistics {
        let st = self.pool.lock();
        let c = &st.counters;
        let elapsed = match (c.first, c.last) {
            (Some(a), Some(b)) => b.duration_since(a),
            _ => Duration::ZERO,
        };
        let delivered = c.received + c.underruns;
        let sent = delivered + c.errors + c.lost;
        let rate = |n: u64| {
            if sent == 0 {
                0.0
            } else {
                n as f64 / sent as f64
            }
        };
        let secs = elapsed.as_secs_f64();
        let events = delivered + c.errors;
        Statistics {
            configured_frame_rate: self.configured,
            measured_frame_rate: if secs > 0.0 && events > 1 {
                (events - 1) as f64 / secs
            } else {
                0.0
            },
            bandwidth: if secs > 0.0 {
                c.bytes as f64 / secs
            } else {
                0.0
            },
            images_received: c.received,
            frames_lost: c.lost,
            frame_loss_rate: rate(c.lost),
            error_images: c.errors,
            error_image_rate: rate(c.errors),
            underruns: c.underruns,
            bytes: c.bytes,
            elapsed,
        }
    }
}
