//! The firmware: the camera's state behind its features, the acquisition
//! engine, calibration, and the register space the GenCP server serves.

mod calib;
pub mod clock;
pub(crate) mod engine;
mod geometry;
pub mod nvstore;
pub(crate) mod registers;
mod rules;
pub mod values;

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use pixel::defect::DefectList;
use pixel::ffc::FlatField;
use pixel::format::PixelFormat;
use pixel::lut::Lut12;
use u3v::event_channel::{Event, EventSender};
use u3v::stream_sender::StreamSender;

use crate::features::{FeatureTable, Value};
use crate::lines::Lines;
use crate::model::ModelSpec;
use crate::scene::Scene;
use crate::schedule::Schedule;
use crate::sensor::Sensor;

pub use clock::{Clock, ClockMode};
pub use engine::FrameJob;
pub use geometry::Geometry;
pub use nvstore::{NvData, NvError, NvStore};
pub(crate) use registers::CameraRegisters;
pub use values::{UserSetData, Values};

/// FFCStatus values.
pub mod ffc_status {
    /// No calibration.
    pub const NOT_CALIBRATED: i64 = 0;
    /// The dark field is taken.
    pub const DARK_FIELD_DONE: i64 = 1;
    /// The bright field is taken.
    pub const BRIGHT_FIELD_DONE: i64 = 2;
    /// Coefficients are stored.
    pub const CALIBRATED: i64 = 3;
    /// The bright field was refused (brightest/darkest ratio above 2).
    pub const BRIGHT_FIELD_REJECTED: i64 = 4;
}

/// How long a DeviceReset keeps the camera away.
pub const RESET_TIME: std::time::Duration = std::time::Duration::from_millis(500);

/// Things the device does outside the firmware's state (unplugging).
pub trait DeviceHooks: Send + Sync {
    /// The camera unplugs itself (SimulationDisconnect, DeviceReset).
    fn disconnect(&self);
    /// The camera is plugged back in (after a DeviceReset, or by the
    /// simulation's owner).
    fn plug_in(&self);
}

/// Everything the firmware keeps that the engine and the registers share.
pub struct State {
    table: Arc<FeatureTable>,
    /// Feature values.
    pub values: Values,
    /// Non-volatile data as last loaded or saved.
    pub nv: NvData,
    /// The factory defect list (the sensor's hot and dead pixels).
    pub factory_defects: Arc<DefectList>,
    /// The user defect list.
    pub user_defects: Arc<DefectList>,
    /// Flat-field coefficients.
    pub ffc: Option<Arc<FlatField>>,
    /// FFCStatus.
    pub ffc_status: i64,
    /// The averaged dark field of a calibration in progress.
    pub ffc_dark: Option<Vec<u16>>,
    /// The averaged bright field of a calibration in progress.
    pub ffc_bright: Option<Vec<u16>>,
    /// The LUT.
    pub lut: Arc<Lut12>,
    /// I/O lines.
    pub lines: Lines,
    /// Acquisition and triggers.
    pub schedule: Schedule,
    /// The camera clock.
    pub clock: Clock,
    /// The scene and the settings it was made from.
    pub scene: Arc<Scene>,
    scene_key: String,
    /// Block id of the next frame.
    pub next_block_id: u64,
    /// Frame triggers missed since the acquisition started.
    pub missed: u64,
    /// TimestampLatchValue.
    pub latched: i64,
    /// Last event of each kind: (timestamp, frame id).
    pub last_events: Vec<(u64, u64)>,
    /// Frames read out and waiting to be made, with what each needs.
    pub pending: std::collections::VecDeque<engine::FrameJob>,
    /// Whether the engine is making a frame (outside the lock) and has not
    /// queued it on the stream yet.
    pub making: bool,
    /// ExposureMode TriggerWidth: when the pending trigger pulse began.
    pub width_start: Option<u64>,
    /// The width of the last trigger pulse, ns.
    pub trigger_width_ns: Option<u64>,
    /// Payload transfers still to drop (SimulationFaultDropTransfers).
    pub drop_transfers: i64,
    /// The engine is to stop.
    pub shutdown: bool,
}

impl State {
    fn id(&self, name: &str) -> usize {
        self.table.id(name).unwrap_or(usize::MAX)
    }

    /// The value of `name` at `index`.
    pub fn value(&self, name: &str, index: usize) -> Option<&Value> {
        self.values.get(self.id(name), index)
    }

    /// An integer feature (enumerations, booleans) at index 0.
    pub fn int(&self, name: &str) -> i64 {
        self.int_at(name, 0)
    }

    /// An integer feature at `index`.
    pub fn int_at(&self, name: &str, index: usize) -> i64 {
        self.value(name, index).and_then(Value::as_int).unwrap_or(0)
    }

    /// A float feature at index 0.
    pub fn float(&self, name: &str) -> f64 {
        self.float_at(name, 0)
    }

    /// A float feature at `index`.
    pub fn float_at(&self, name: &str, index: usize) -> f64 {
        self.value(name, index)
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    }

    /// A string feature.
    pub fn string(&self, name: &str) -> String {
        match self.value(name, 0) {
            Some(Value::Str(s)) => s.clone(),
            _ => String::new(),
        }
    }

    /// Stores a value.
    pub fn put(&mut self, name: &str, index: usize, value: Value) {
        let id = self.id(name);
        self.values.set(id, index, value);
    }

    /// The current pixel format.
    pub fn pixel_format(&self) -> PixelFormat {
        let code = self.int("PixelFormat");
        PixelFormat::all()
            .iter()
            .copied()
            .find(|f| i64::from(f.code()) == code)
            .unwrap_or(PixelFormat::Mono8)
    }

    /// Whether `AcquisitionStop` is still pending: the acquisition is
    /// ending, or has ended with frames not yet queued on the stream.
    pub fn stop_pending(&self) -> bool {
        self.schedule.is_stopping()
            || (!self.schedule.is_acquiring() && (self.making || !self.pending.is_empty()))
    }

    /// Whether the camera acquires (or the transport layer locked the
    /// parameters).
    pub fn params_locked(&self) -> bool {
        self.schedule.is_acquiring() || self.int("TLParamsLocked") != 0
    }
}

/// The camera's firmware, shared by the register space and the engine.
pub struct Core {
    /// The model.
    pub spec: ModelSpec,
    /// The serial number.
    pub serial: String,
    /// The feature table.
    pub table: Arc<FeatureTable>,
    /// The sensor.
    pub sensor: Arc<Sensor>,
    /// The stream endpoint.
    pub stream: StreamSender,
    /// The event endpoint.
    pub events: EventSender,
    /// Non-volatile memory.
    pub nv: NvStore,
    state: Mutex<State>,
    /// Wakes the engine.
    pub wake: Condvar,
    hooks: Mutex<Option<Arc<dyn DeviceHooks>>>,
}

/// Why a camera could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The feature table is inconsistent (a bug).
    #[error("feature table: {0}")]
    Table(#[from] crate::features::TableError),
    /// The non-volatile store could not be read.
    #[error("non-volatile store: {0}")]
    Store(#[from] NvError),
}

impl Core {
    /// Powers a camera up: builds the feature table, reads the
    /// non-volatile store and loads the power-up user set.
    pub fn new(
        spec: ModelSpec,
        serial: &str,
        store: NvStore,
        clock: ClockMode,
    ) -> Result<Core, StartError> {
        let table = Arc::new(FeatureTable::new(crate::features::table::features(&spec))?);
        let sensor = Arc::new(Sensor::new(spec.sensor, serial));
        let nv = store.load(&table)?;
        let (w, h) = (spec.sensor.width, spec.sensor.height);
        let factory = DefectList::from_points(
            sensor
                .hot_pixels()
                .iter()
                .chain(sensor.dead_pixels())
                .copied()
                .filter(|&(x, y)| x < w && y < h),
        );
        let values = Values::defaults(&table, &spec);
        let stream = StreamSender::new(u3v::stream_sender::SenderConfig::default());
        let events = EventSender::new(u3v::event_channel::SenderConfig::default());
        let schedule_placeholder = crate::schedule::ScheduleConfig {
            mode: crate::schedule::AcquisitionMode::Continuous,
            frame_count: 1,
            frame_start: Default::default(),
            acquisition_start: Default::default(),
            period_ns: 1_000_000_000,
            exposure_ns: 1_000_000,
            readout_ns: 1_000_000,
            overlapped: true,
        };
        let ffc = nv.ffc.clone().map(Arc::new);
        let user_defects = Arc::new(nv.user_defects.clone().unwrap_or_default());
        let state = State {
            table: table.clone(),
            values,
            ffc_status: if ffc.is_some() {
                ffc_status::CALIBRATED
            } else {
                ffc_status::NOT_CALIBRATED
            },
            ffc,
            nv,
            factory_defects: Arc::new(factory),
            user_defects,
            ffc_dark: None,
            ffc_bright: None,
            lut: Arc::new(Lut12::identity()),
            lines: Lines::new(),
            schedule: Schedule::new(schedule_placeholder),
            clock: Clock::new(clock),
            scene: Arc::new(Scene::synthetic()),
            scene_key: String::new(),
            next_block_id: 1,
            missed: 0,
            latched: 0,
            last_events: vec![(0, 0); crate::features::table::EVENTS.len()],
            pending: Default::default(),
            making: false,
            width_start: None,
            trigger_width_ns: None,
            drop_transfers: 0,
            shutdown: false,
        };
        let core = Core {
            spec,
            serial: serial.to_owned(),
            table,
            sensor,
            stream,
            events,
            nv: store,
            state: Mutex::new(state),
            wake: Condvar::new(),
            hooks: Mutex::new(None),
        };
        {
            let mut st = core.lock();
            let clock_value = match clock {
                ClockMode::WallTime => 0,
                ClockMode::AsFastAsPossible => 1,
            };
            let set = st.nv.user_set_default;
            if core.load_user_set(&mut st, set).is_err() {
                // A power-up set that no longer loads falls back to Default.
                let _ = core.load_user_set(&mut st, 0);
            }
            let user_id = st.nv.device_user_id.clone();
            st.put("DeviceUserID", 0, Value::Str(user_id));
            let default_set = st.nv.user_set_default;
            st.put("UserSetDefault", 0, Value::Int(default_set));
            st.put("SimulationClockMode", 0, Value::Int(clock_value));
            core.apply_all(&mut st);
        }
        Ok(core)
    }

    /// Stops the engine thread.
    pub fn shutdown(&self) {
        self.lock().shutdown = true;
        self.wake.notify_all();
    }

    /// Locks the state. The state holds plain values; a panic elsewhere
    /// cannot leave it half-updated in a way that matters more than a
    /// stopped camera, so a poisoned lock is taken over.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Installs the device hooks.
    pub fn set_hooks(&self, hooks: Arc<dyn DeviceHooks>) {
        *self.hooks.lock().unwrap_or_else(|e| e.into_inner()) = Some(hooks);
    }

    fn hooks(&self) -> Option<Arc<dyn DeviceHooks>> {
        self.hooks.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn disconnect(&self) {
        if let Some(h) = self.hooks() {
            h.disconnect();
        }
    }

    /// A DeviceReset: unplugged now, back with the power-up settings after
    /// the time a camera takes to boot.
    fn reset_device(&self) {
        if let Some(h) = self.hooks() {
            h.disconnect();
            std::thread::spawn(move || {
                std::thread::sleep(RESET_TIME);
                h.plug_in();
            });
        }
    }

    /// Sends event `which` (an index into [`EVENTS`](crate::features::table::EVENTS))
    /// if its notification is on, and records it for the event features.
    pub fn send_event(&self, st: &mut State, which: usize, t_ns: u64, frame_id: u64) {
        let Some(&(_, id, _)) = crate::features::table::EVENTS.get(which) else {
            return;
        };
        let timestamp = st.clock.timestamp(t_ns);
        if let Some(slot) = st.last_events.get_mut(which) {
            *slot = (timestamp, frame_id);
        }
        if st.int_at("EventNotification", which) == 1 {
            // A full event queue drops the event; the host sees a gap in
            // nothing but its own counters, as with a real camera.
            let _ = self
                .events
                .send(Event::new(id, timestamp, frame_id.to_le_bytes().to_vec()));
        }
    }
}
