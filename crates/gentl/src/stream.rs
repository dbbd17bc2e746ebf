//! The DataStream module (`DS_HANDLE`) and its buffers: announcing
//! (consumer memory or producer-allocated), the input pool and output
//! queue, the acquisition engine that fills buffers from the SDK's
//! stream, and the NEW_BUFFER event.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use mvcam::{AcquisitionMode, FrameInfo, StreamOptions};

use crate::abi::*;
use crate::error::{GcError, GcResult};
use crate::local_port::{ro, FeatureKind, FeatureValue, ModuleFeatures, PortDescription};
use crate::modules::{DeviceModule, ModuleCore, STREAM_ID};
use crate::registry::{self, Object};

/// How long the engine waits for a frame or an input buffer before it
/// looks at its stop flag.
const POLL: Duration = Duration::from_millis(50);

/// A raw address that crosses threads. The memory it points to is the
/// consumer's (announced) or ours (allocated); the stream's state lock
/// decides who may touch it.
#[derive(Debug, Clone, Copy)]
struct RawPtr(*mut u8);
// SAFETY: the pointer is only dereferenced by the engine thread while the
// buffer is marked Acquiring, during which no other call touches it.
unsafe impl Send for RawPtr {}

/// Where a buffer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Announced, not queued.
    Announced,
    /// In the input pool.
    Input,
    /// Being filled.
    Acquiring,
    /// In the output queue (a NEW_BUFFER event names it).
    Output,
    /// Handed to the consumer by EventGetData.
    Delivered,
}

/// What the last fill put into a buffer.
#[derive(Debug, Clone)]
struct Filled {
    info: FrameInfo,
    size_filled: usize,
    larger_than_buffer: bool,
    chunks: Vec<SingleChunkData>,
}

struct BufferSlot {
    handle: usize,
    base: RawPtr,
    size: usize,
    user: usize,
    /// Producer-allocated memory (DSAllocAndAnnounceBuffer).
    owned: Option<Vec<u8>>,
    place: Place,
    new_data: bool,
    filled: Option<Filled>,
}

struct Engine {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

#[derive(Default)]
struct StreamState {
    buffers: Vec<BufferSlot>,
    input: VecDeque<usize>,
    output: VecDeque<usize>,
    armed: bool,
    num_to_acquire: u64,
    delivered: u64,
    started: u64,
    underruns: u64,
    engine: Option<Engine>,
    closed: bool,
}

impl StreamState {
    fn slot(&mut self, handle: usize) -> GcResult<&mut BufferSlot> {
        self.buffers
            .iter_mut()
            .find(|b| b.handle == handle)
            .ok_or_else(|| {
                GcError::InvalidBuffer(format!("{handle:#x} is not a buffer of this stream"))
            })
    }
}

const BUFFER_HANDLING: &[(&str, i64)] = &[("OldestFirst", 0)];
const ACQUISITION_MODE: &[(&str, i64)] = &[("Default", 0)];

const STREAM_PORT: PortDescription = PortDescription {
    port_name: "StreamPort",
    module: "TLDataStream",
    model: "mvcamStream",
    features: &[
        ro("StreamID", FeatureKind::Str),
        ro("StreamType", FeatureKind::Str),
        ro("StreamAnnouncedBufferCount", FeatureKind::Int),
        ro("StreamAnnounceBufferMinimum", FeatureKind::Int),
        ro(
            "StreamAcquisitionModeSelector",
            FeatureKind::Enum(ACQUISITION_MODE),
        ),
        ro(
            "StreamBufferHandlingMode",
            FeatureKind::Enum(BUFFER_HANDLING),
        ),
        ro("StreamDeliveredFrameCount", FeatureKind::Int),
        ro("StreamLostFrameCount", FeatureKind::Int),
        ro("StreamInputBufferCount", FeatureKind::Int),
        ro("StreamOutputBufferCount", FeatureKind::Int),
        ro("StreamIsGrabbing", FeatureKind::Int),
        ro("PayloadSize", FeatureKind::Int),
    ],
};

const BUFFER_PORT: PortDescription = PortDescription {
    port_name: "BufferPort",
    module: "TLBuffer",
    model: "mvcamBuffer",
    features: &[
        ro("BufferSize", FeatureKind::Int),
        ro("BufferSizeFilled", FeatureKind::Int),
        ro("BufferFrameID", FeatureKind::Int),
        ro("BufferTimestamp", FeatureKind::Int),
        ro("BufferWidth", FeatureKind::Int),
        ro("BufferHeight", FeatureKind::Int),
        ro("BufferPixelFormat", FeatureKind::Int),
        ro("BufferIsIncomplete", FeatureKind::Int),
    ],
};

/// The DataStream module.
pub struct StreamModule {
    pub(crate) id: String,
    pub(crate) device: Arc<DeviceModule>,
    state: Mutex<StreamState>,
    cond: Condvar,
    pub(crate) core: ModuleCore,
}

impl StreamModule {
    /// Opens data stream `id` of `device`.
    pub fn open(device: Arc<DeviceModule>, id: &str) -> GcResult<StreamModule> {
        if id != STREAM_ID {
            return Err(GcError::InvalidId(id.to_string()));
        }
        let mut open = crate::modules::lock(&device.open_streams);
        if open.iter().any(|s| s == id) {
            return Err(GcError::ResourceInUse(format!(
                "data stream {id} is already open"
            )));
        }
        open.push(id.to_string());
        drop(open);
        Ok(StreamModule {
            id: id.to_string(),
            device,
            state: Mutex::new(StreamState::default()),
            cond: Condvar::new(),
            core: ModuleCore::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, StreamState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The stream's port description.
    pub fn port(&self) -> &'static PortDescription {
        &STREAM_PORT
    }

    /// The buffers' port description.
    pub fn buffer_port(&self) -> &'static PortDescription {
        &BUFFER_PORT
    }

    /// The camera's PayloadSize.
    pub fn payload_size(&self) -> GcResult<usize> {
        let v = self
            .device
            .camera()?
            .integer("PayloadSize")
            .map_err(GcError::from)?;
        usize::try_from(v).map_err(|_| GcError::Io(format!("PayloadSize {v}")))
    }

    /// Announces `size` bytes at `base` (or allocates them when `base` is
    /// None) with the consumer's `user` pointer; returns the buffer handle.
    pub fn announce(
        self: &Arc<Self>,
        base: Option<*mut u8>,
        size: usize,
        user: usize,
    ) -> GcResult<usize> {
        if size == 0 {
            return Err(GcError::InvalidParameter("buffer size 0".into()));
        }
        let mut owned = match base {
            Some(_) => None,
            None => {
                let mut v = Vec::new();
                v.try_reserve_exact(size).map_err(|_| {
                    GcError::ResourceExhausted(format!("cannot allocate {size} bytes"))
                })?;
                v.resize(size, 0);
                Some(v)
            }
        };
        let base = match (base, owned.as_mut()) {
            (Some(p), _) => p,
            (None, Some(v)) => v.as_mut_ptr(),
            (None, None) => return Err(GcError::Other("no memory".into())),
        };
        let mut st = self.lock();
        if st.closed {
            return Err(GcError::InvalidHandle);
        }
        if st.buffers.iter().any(|b| b.base.0 == base) {
            return Err(GcError::ResourceInUse(
                "this memory is already announced".into(),
            ));
        }
        let handle = registry::insert(Object::Buffer(self.clone()))?;
        st.buffers.push(BufferSlot {
            handle,
            base: RawPtr(base),
            size,
            user,
            owned,
            place: Place::Announced,
            new_data: false,
            filled: None,
        });
        Ok(handle)
    }

    /// Revokes a buffer that is not queued; returns its memory and user
    /// pointer.
    pub fn revoke(&self, handle: usize) -> GcResult<(usize, usize)> {
        let mut st = self.lock();
        let slot = st.slot(handle)?;
        match slot.place {
            Place::Input | Place::Output => {
                return Err(GcError::Busy(
                    "the buffer is queued: flush the queues first".into(),
                ))
            }
            Place::Acquiring => return Err(GcError::Busy("the buffer is being filled".into())),
            Place::Announced | Place::Delivered => {}
        }
        let pos = st
            .buffers
            .iter()
            .position(|b| b.handle == handle)
            .ok_or(GcError::InvalidHandle)?;
        let slot = st.buffers.remove(pos);
        registry::remove(handle);
        let base = if slot.owned.is_some() {
            0
        } else {
            slot.base.0 as usize
        };
        Ok((base, slot.user))
    }

    /// Puts a buffer into the input pool.
    pub fn queue(&self, handle: usize) -> GcResult<()> {
        let mut st = self.lock();
        let slot = st.slot(handle)?;
        match slot.place {
            Place::Announced | Place::Delivered => {}
            _ => {
                return Err(GcError::ResourceInUse(
                    "the buffer is already queued".into(),
                ))
            }
        }
        slot.place = Place::Input;
        slot.new_data = false;
        st.input.push_back(handle);
        self.cond.notify_all();
        Ok(())
    }

    /// `DSFlushQueue`.
    pub fn flush(&self, operation: i32) -> GcResult<()> {
        let event = self.core.event(EVENT_NEW_BUFFER);
        let mut st = self.lock();
        let set = |st: &mut StreamState, h: usize, p: Place| {
            if let Ok(s) = st.slot(h) {
                s.place = p;
            }
        };
        match operation {
            ACQ_QUEUE_INPUT_TO_OUTPUT => {
                while let Some(h) = st.input.pop_front() {
                    set(&mut st, h, Place::Output);
                    st.output.push_back(h);
                    if let Some(ev) = &event {
                        let user = st.slot(h).map(|s| s.user).unwrap_or(0);
                        ev.push(new_buffer_data(h, user));
                    }
                }
            }
            ACQ_QUEUE_OUTPUT_DISCARD => {
                let out: Vec<usize> = st.output.drain(..).collect();
                for h in &out {
                    set(&mut st, *h, Place::Announced);
                }
                drop_events(&event, &out);
            }
            ACQ_QUEUE_ALL_TO_INPUT => {
                let out: Vec<usize> = st.output.drain(..).collect();
                for h in &out {
                    set(&mut st, *h, Place::Input);
                    st.input.push_back(*h);
                }
                drop_events(&event, &out);
            }
            ACQ_QUEUE_UNQUEUED_TO_INPUT => {
                let idle: Vec<usize> = st
                    .buffers
                    .iter()
                    .filter(|b| matches!(b.place, Place::Announced | Place::Delivered))
                    .map(|b| b.handle)
                    .collect();
                for h in idle {
                    set(&mut st, h, Place::Input);
                    st.input.push_back(h);
                }
            }
            ACQ_QUEUE_ALL_DISCARD => {
                let mut all: Vec<usize> = st.input.drain(..).collect();
                all.extend(st.output.drain(..));
                for h in &all {
                    set(&mut st, *h, Place::Announced);
                }
                drop_events(&event, &all);
            }
            other => {
                return Err(GcError::InvalidParameter(format!(
                    "flush operation {other}"
                )))
            }
        }
        self.cond.notify_all();
        Ok(())
    }

    /// `DSStartAcquisition`: arms the stream; the engine starts when the
    /// consumer executes AcquisitionStart on the remote device.
    pub fn start(self: &Arc<Self>, num_to_acquire: u64) -> GcResult<()> {
        {
            let mut st = self.lock();
            if st.armed {
                return Err(GcError::ResourceInUse(
                    "the acquisition is already started".into(),
                ));
            }
            if st.buffers.is_empty() {
                return Err(GcError::ResourceExhausted("announce buffers first".into()));
            }
            st.armed = true;
            st.num_to_acquire = if num_to_acquire == 0 {
                GENTL_INFINITE
            } else {
                num_to_acquire
            };
            st.delivered = 0;
            st.started = 0;
            st.underruns = 0;
        }
        if !self.device.arm(self) {
            if let Err(e) = self.start_engine() {
                self.lock().armed = false;
                self.device.disarm();
                return Err(e);
            }
        }
        Ok(())
    }

    /// Starts the SDK stream and the engine thread, in the acquisition mode
    /// the camera is set to. Returns false when an engine already runs.
    pub(crate) fn start_engine(self: &Arc<Self>) -> GcResult<bool> {
        let mut st = self.lock();
        if !st.armed {
            return Ok(false);
        }
        if let Some(engine) = st.engine.take() {
            if !engine.thread.is_finished() {
                st.engine = Some(engine);
                return Ok(false);
            }
            let _ = engine.thread.join();
        }
        let camera = self.device.camera()?;
        // The consumer locks the transport parameters before it starts; the
        // SDK sets the acquisition mode itself and locks them again.
        let _ = camera.set("TLParamsLocked", 0i64);
        let mode = match camera.get_str("AcquisitionMode").as_deref() {
            Ok("SingleFrame") => AcquisitionMode::SingleFrame,
            Ok("MultiFrame") => {
                let n = camera.integer("AcquisitionFrameCount").unwrap_or(1);
                AcquisitionMode::MultiFrame(u32::try_from(n).unwrap_or(1))
            }
            _ => AcquisitionMode::Continuous,
        };
        let options = StreamOptions {
            mode,
            buffers: st.buffers.len().clamp(2, 16),
            ..StreamOptions::default()
        };
        let sdk = camera.start_stream(&options).map_err(GcError::from)?;
        let stop = Arc::new(AtomicBool::new(false));
        let me = self.clone();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("mvcam-gentl-stream".into())
            .spawn(move || me.run_engine(sdk, flag))
            .map_err(|e| GcError::Other(format!("cannot start the stream thread: {e}")))?;
        st.engine = Some(Engine { stop, thread });
        Ok(true)
    }

    fn run_engine(&self, sdk: mvcam::Stream, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::SeqCst) {
            {
                let st = self.lock();
                if st.input.is_empty() {
                    let _ = self.cond.wait_timeout(st, POLL);
                    continue;
                }
            }
            let frame = match sdk.next_frame(POLL) {
                Ok(f) => f,
                Err(mvcam::Error::Timeout(_)) => continue,
                Err(_) => break,
            };
            let target = {
                let mut st = self.lock();
                match st.input.pop_front() {
                    Some(h) => {
                        st.started += 1;
                        st.slot(h).ok().map(|s| {
                            s.place = Place::Acquiring;
                            (h, s.base, s.size)
                        })
                    }
                    None => {
                        st.underruns += 1;
                        None
                    }
                }
            };
            let Some((handle, base, size)) = target else {
                continue;
            };
            let payload = frame.payload();
            let n = payload.len().min(size);
            // SAFETY: `base` is valid for `size` bytes (announced by the
            // consumer or allocated here), and the buffer is marked
            // Acquiring, so neither revoke nor queue touches it meanwhile.
            unsafe { std::ptr::copy_nonoverlapping(payload.as_ptr(), base.0, n) };
            let chunks = if frame.info().has_chunks {
                chunk_table(payload, frame.data().len())
            } else {
                Vec::new()
            };
            let filled = Filled {
                info: *frame.info(),
                size_filled: n,
                larger_than_buffer: payload.len() > size,
                chunks,
            };
            drop(frame);
            let (user, done) = {
                let mut st = self.lock();
                let user = match st.slot(handle) {
                    Ok(s) => {
                        s.place = Place::Output;
                        s.new_data = true;
                        s.filled = Some(filled);
                        s.user
                    }
                    Err(_) => continue,
                };
                st.output.push_back(handle);
                st.delivered += 1;
                (user, st.delivered >= st.num_to_acquire)
            };
            if let Some(ev) = self.core.event(EVENT_NEW_BUFFER) {
                ev.push(new_buffer_data(handle, user));
            }
            if done {
                break;
            }
        }
        let _ = sdk.stop();
    }

    /// `DSStopAcquisition`: stops the engine and the camera's stream.
    pub fn stop(&self) -> GcResult<()> {
        let engine = {
            let mut st = self.lock();
            if !st.armed {
                return Err(GcError::ResourceInUse(
                    "the acquisition is not started".into(),
                ));
            }
            st.armed = false;
            st.engine.take()
        };
        self.device.disarm();
        if let Some(e) = engine {
            e.stop.store(true, Ordering::SeqCst);
            self.cond.notify_all();
            let _ = e.thread.join();
        }
        let mut st = self.lock();
        let acquiring: Vec<usize> = st
            .buffers
            .iter()
            .filter(|b| b.place == Place::Acquiring)
            .map(|b| b.handle)
            .collect();
        for h in acquiring {
            if let Ok(s) = st.slot(h) {
                s.place = Place::Input;
            }
            st.input.push_front(h);
        }
        Ok(())
    }

    /// A NEW_BUFFER event's buffer was handed to the consumer.
    pub(crate) fn mark_delivered(&self, handle: usize) {
        let mut st = self.lock();
        if let Some(pos) = st.output.iter().position(|&h| h == handle) {
            st.output.remove(pos);
            if let Ok(s) = st.slot(handle) {
                s.place = Place::Delivered;
            }
        }
    }

    pub(crate) fn close(&self) {
        let _ = self.stop();
        self.core.close_all();
        let handles: Vec<usize> = {
            let mut st = self.lock();
            st.closed = true;
            st.input.clear();
            st.output.clear();
            st.buffers.drain(..).map(|b| b.handle).collect()
        };
        for h in handles {
            registry::remove(h);
        }
        crate::modules::lock(&self.device.open_streams).retain(|s| s != &self.id);
    }

    /// `DSGetInfo`.
    pub fn info(&self, cmd: i32) -> GcResult<crate::info::InfoValue> {
        use crate::info::InfoValue as V;
        let st = self.lock();
        Ok(match cmd {
            STREAM_INFO_ID => V::String(self.id.clone()),
            STREAM_INFO_NUM_DELIVERED => V::U64(st.delivered),
            STREAM_INFO_NUM_UNDERRUN => V::U64(st.underruns),
            STREAM_INFO_NUM_ANNOUNCED => V::SizeT(st.buffers.len()),
            STREAM_INFO_NUM_QUEUED => V::SizeT(st.input.len()),
            STREAM_INFO_NUM_AWAIT_DELIVERY => V::SizeT(st.output.len()),
            STREAM_INFO_NUM_STARTED => V::U64(st.started),
            STREAM_INFO_PAYLOAD_SIZE => {
                drop(st);
                V::SizeT(self.payload_size()?)
            }
            STREAM_INFO_IS_GRABBING => V::Bool(st.armed),
            STREAM_INFO_DEFINES_PAYLOADSIZE => V::Bool(true),
            STREAM_INFO_TLTYPE => V::String(crate::modules::TL_TYPE.into()),
            STREAM_INFO_BUF_ANNOUNCE_MIN => V::SizeT(1),
            STREAM_INFO_BUF_ALIGNMENT => V::SizeT(1),
            STREAM_INFO_NUM_CHUNKS_MAX => {
                return Err(GcError::NotAvailable(
                    "the chunk count is not known in advance".into(),
                ))
            }
            other => {
                return Err(GcError::InvalidParameter(format!(
                    "stream info command {other}"
                )))
            }
        })
    }

    /// The handle of announced buffer `index`.
    pub fn buffer_at(&self, index: usize) -> GcResult<usize> {
        self.lock()
            .buffers
            .get(index)
            .map(|b| b.handle)
            .ok_or(GcError::InvalidIndex(index as u64))
    }

    /// `DSGetBufferInfo`.
    pub fn buffer_info(&self, handle: usize, cmd: i32) -> GcResult<crate::info::InfoValue> {
        use crate::info::InfoValue as V;
        let mut st = self.lock();
        let s = st.slot(handle)?;
        let filled = s.filled.clone();
        let need = |what: &str| {
            filled.clone().ok_or_else(|| {
                GcError::NotAvailable(format!("{what}: the buffer was never filled"))
            })
        };
        Ok(match cmd {
            BUFFER_INFO_BASE => V::Ptr(s.base.0 as usize),
            BUFFER_INFO_SIZE => V::SizeT(s.size),
            BUFFER_INFO_USER_PTR => V::Ptr(s.user),
            BUFFER_INFO_TIMESTAMP | BUFFER_INFO_TIMESTAMP_NS => {
                V::U64(need("timestamp")?.info.timestamp)
            }
            BUFFER_INFO_NEW_DATA => {
                let v = s.new_data;
                s.new_data = false;
                V::Bool(v)
            }
            BUFFER_INFO_IS_QUEUED => V::Bool(matches!(s.place, Place::Input | Place::Output)),
            BUFFER_INFO_IS_ACQUIRING => V::Bool(s.place == Place::Acquiring),
            BUFFER_INFO_IS_INCOMPLETE => V::Bool(filled.is_some_and(|f| f.larger_than_buffer)),
            BUFFER_INFO_TLTYPE => V::String(crate::modules::TL_TYPE.into()),
            BUFFER_INFO_SIZE_FILLED => V::SizeT(filled.map_or(0, |f| f.size_filled)),
            BUFFER_INFO_DATA_SIZE => V::SizeT(need("data size")?.info.payload_len),
            BUFFER_INFO_WIDTH => V::SizeT(need("width")?.info.width as usize),
            BUFFER_INFO_HEIGHT | BUFFER_INFO_DELIVERED_IMAGEHEIGHT => {
                V::SizeT(need("height")?.info.height as usize)
            }
            BUFFER_INFO_XOFFSET => V::SizeT(need("offset")?.info.offset_x as usize),
            BUFFER_INFO_YOFFSET => V::SizeT(need("offset")?.info.offset_y as usize),
            BUFFER_INFO_XPADDING => V::SizeT(usize::from(need("padding")?.info.padding_x)),
            BUFFER_INFO_YPADDING => V::SizeT(0),
            BUFFER_INFO_FRAMEID => V::U64(need("frame id")?.info.block_id),
            BUFFER_INFO_IMAGEPRESENT => V::Bool(filled.is_some()),
            BUFFER_INFO_IMAGEOFFSET => V::SizeT(0),
            BUFFER_INFO_PAYLOADTYPE => V::SizeT(PAYLOAD_TYPE_IMAGE),
            BUFFER_INFO_PIXELFORMAT => {
                V::U64(u64::from(need("pixel format")?.info.pixel_format_code))
            }
            BUFFER_INFO_PIXELFORMAT_NAMESPACE => V::U64(PIXELFORMAT_NAMESPACE_PFNC_32BIT),
            BUFFER_INFO_PIXEL_ENDIANNESS => V::I32(PIXELENDIANNESS_LITTLE),
            // U3V chunk data is a chain of chunks that ends the payload (the
            // image is its first chunk): chunk parsers walk it backwards
            // from the end of the filled bytes.
            BUFFER_INFO_DELIVERED_CHUNKPAYLOADSIZE => V::SizeT(need("chunk payload")?.size_filled),
            BUFFER_INFO_CHUNKLAYOUTID => V::U64(0),
            BUFFER_INFO_DATA_LARGER_THAN_BUFFER => {
                V::Bool(filled.is_some_and(|f| f.larger_than_buffer))
            }
            BUFFER_INFO_CONTAINS_CHUNKDATA => V::Bool(filled.is_some_and(|f| f.info.has_chunks)),
            BUFFER_INFO_IS_COMPOSITE => V::Bool(false),
            other => {
                return Err(GcError::InvalidParameter(format!(
                    "buffer info command {other}"
                )))
            }
        })
    }

    /// The chunks of a filled buffer.
    pub fn chunks(&self, handle: usize) -> GcResult<Vec<SingleChunkData>> {
        let mut st = self.lock();
        let s = st.slot(handle)?;
        match &s.filled {
            Some(f) if f.info.has_chunks => Ok(f.chunks.clone()),
            Some(_) => Err(GcError::NoData("the buffer holds no chunk data".into())),
            None => Err(GcError::NotAvailable("the buffer was never filled".into())),
        }
    }

    /// A buffer's port features.
    pub(crate) fn buffer_features(&self, handle: usize) -> BufferFeatures {
        let mut st = self.lock();
        let v = st.slot(handle).ok().map(|s| (s.size, s.filled.clone()));
        BufferFeatures(v)
    }
}

/// Feature values of one buffer for its port.
pub(crate) struct BufferFeatures(Option<(usize, Option<Filled>)>);

impl ModuleFeatures for BufferFeatures {
    fn feature(&self, name: &str) -> FeatureValue {
        let Some((size, filled)) = &self.0 else {
            return FeatureValue::Int(0);
        };
        let f = filled.as_ref();
        let v: u64 = match name {
            "BufferSize" => *size as u64,
            "BufferSizeFilled" => f.map_or(0, |f| f.size_filled as u64),
            "BufferFrameID" => f.map_or(0, |f| f.info.block_id),
            "BufferTimestamp" => f.map_or(0, |f| f.info.timestamp),
            "BufferWidth" => f.map_or(0, |f| u64::from(f.info.width)),
            "BufferHeight" => f.map_or(0, |f| u64::from(f.info.height)),
            "BufferPixelFormat" => f.map_or(0, |f| u64::from(f.info.pixel_format_code)),
            "BufferIsIncomplete" => f.map_or(0, |f| u64::from(f.larger_than_buffer)),
            _ => 0,
        };
        FeatureValue::Int(v as i64)
    }
    fn set_feature(&self, name: &str, _value: i64) -> GcResult<()> {
        Err(GcError::AccessDenied(format!("{name} is read-only")))
    }
}

impl ModuleFeatures for StreamModule {
    fn feature(&self, name: &str) -> FeatureValue {
        if name == "PayloadSize" {
            return FeatureValue::Int(self.payload_size().map_or(0, |v| v as i64));
        }
        let st = self.lock();
        match name {
            "StreamID" => FeatureValue::Str(self.id.clone()),
            "StreamType" => FeatureValue::Str(crate::modules::TL_TYPE.into()),
            "StreamAnnouncedBufferCount" => FeatureValue::Int(st.buffers.len() as i64),
            "StreamAnnounceBufferMinimum" => FeatureValue::Int(1),
            "StreamDeliveredFrameCount" => FeatureValue::Int(st.delivered as i64),
            "StreamLostFrameCount" => FeatureValue::Int(st.underruns as i64),
            "StreamInputBufferCount" => FeatureValue::Int(st.input.len() as i64),
            "StreamOutputBufferCount" => FeatureValue::Int(st.output.len() as i64),
            "StreamIsGrabbing" => FeatureValue::Int(i64::from(st.armed)),
            _ => FeatureValue::Int(0),
        }
    }
    fn set_feature(&self, name: &str, _value: i64) -> GcResult<()> {
        Err(GcError::AccessDenied(format!("{name} is read-only")))
    }
}

/// The chunks of a payload, last first: walks the chunk tags backward
/// from the end until it reaches the start of the payload (a layout
/// where the image is itself a tagged chunk) or the end of the image (a
/// layout where only the chunks after the image are tagged). A malformed
/// tag ends the walk.
pub fn chunk_table(payload: &[u8], image_len: usize) -> Vec<SingleChunkData> {
    let mut out = Vec::new();
    for chunk in u3v::stream::ChunkWalker::new(payload) {
        let Ok(c) = chunk else { break };
        out.push(SingleChunkData {
            chunk_id: u64::from(c.id),
            chunk_offset: c.data.start as isize,
            chunk_length: c.data.len(),
        });
        if c.data.start == image_len || c.data.start == 0 {
            break;
        }
    }
    out
}

/// The bytes of an `EVENT_NEW_BUFFER_DATA`.
fn new_buffer_data(handle: usize, user: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(2 * std::mem::size_of::<usize>());
    v.extend_from_slice(&handle.to_ne_bytes());
    v.extend_from_slice(&user.to_ne_bytes());
    v
}

/// The buffer handle of an `EVENT_NEW_BUFFER_DATA`.
pub(crate) fn new_buffer_handle(data: &[u8]) -> Option<usize> {
    let n = std::mem::size_of::<usize>();
    data.get(..n)
        .and_then(|b| b.try_into().ok())
        .map(usize::from_ne_bytes)
}

fn drop_events(event: &Option<Arc<crate::event::EventQueue>>, handles: &[usize]) {
    if let Some(ev) = event {
        ev.retain(|d| new_buffer_handle(d).map_or(true, |h| !handles.contains(&h)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged(data: &[u8], id: u32) -> Vec<u8> {
        let mut v = data.to_vec();
        v.extend_from_slice(&id.to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v
    }

    #[test]
    fn chunk_walk_stops_at_the_image_whether_or_not_it_is_tagged() {
        let image = [7u8; 12];
        let mut untagged = image.to_vec();
        untagged.extend(tagged(&[1, 0, 0, 0, 0, 0, 0, 0], 0x0A00_0002));
        let t = chunk_table(&untagged, 12);
        assert_eq!(t.len(), 1);
        let c = t[0];
        let (id, off, len) = (c.chunk_id, c.chunk_offset, c.chunk_length);
        assert_eq!((id, off, len), (0x0A00_0002, 12, 8));

        let mut all = tagged(&image, 0x1);
        all.extend(tagged(&[5; 4], 0x0A00_0001));
        let t = chunk_table(&all, 12);
        let ids: Vec<u64> = t.iter().map(|c| c.chunk_id).collect();
        assert_eq!(ids, vec![0x0A00_0001, 0x1]);

        // A tag longer than the payload ends the walk without a chunk.
        let mut bad = vec![0u8; 4];
        bad.extend_from_slice(&1u32.to_le_bytes());
        bad.extend_from_slice(&100u32.to_le_bytes());
        assert!(chunk_table(&bad, 0).is_empty());
    }
}
