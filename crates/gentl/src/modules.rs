//! The System (TL), Interface and Device modules, their ports, the remote
//! device port and closing any module with everything opened under it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use mvcam::{Access, Camera, DeviceInfo, System};

use crate::abi::*;
use crate::error::{GcError, GcResult};
use crate::event::EventQueue;
use crate::local_port::{ro, rw, FeatureKind, FeatureValue, ModuleFeatures, PortDescription};
use crate::registry::{self, Object};
use crate::stream::StreamModule;

/// The transport layer type every module reports.
pub const TL_TYPE: &str = "U3V";
/// The id of the one interface: every camera mvcam reaches.
pub const INTERFACE_ID: &str = "mvcam";
/// The id of a device's one data stream.
pub const STREAM_ID: &str = "Stream0";

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What every module keeps: the handles opened under it and its events.
#[derive(Default)]
pub struct ModuleCore {
    children: Mutex<Vec<usize>>,
    events: Mutex<HashMap<i32, (usize, Arc<EventQueue>)>>,
}

impl ModuleCore {
    /// Remembers a handle to close with this module.
    pub fn adopt(&self, handle: usize) {
        lock(&self.children).push(handle);
    }

    /// Registers an event of `event_type`; one per type.
    pub fn register_event(&self, event_type: i32) -> GcResult<usize> {
        let mut events = lock(&self.events);
        if events.contains_key(&event_type) {
            return Err(GcError::ResourceInUse(format!(
                "event type {event_type} is already registered"
            )));
        }
        let queue = Arc::new(EventQueue::new(event_type));
        let handle = registry::insert(Object::Event(queue.clone()))?;
        events.insert(event_type, (handle, queue));
        Ok(handle)
    }

    /// Unregisters the event of `event_type`.
    pub fn unregister_event(&self, event_type: i32) -> GcResult<()> {
        let (handle, queue) = lock(&self.events).remove(&event_type).ok_or_else(|| {
            GcError::NotAvailable(format!("event type {event_type} is not registered"))
        })?;
        registry::remove(handle);
        queue.close();
        Ok(())
    }

    /// The registered event of `event_type`.
    pub fn event(&self, event_type: i32) -> Option<Arc<EventQueue>> {
        lock(&self.events).get(&event_type).map(|(_, q)| q.clone())
    }

    pub(crate) fn close_all(&self) {
        let children: Vec<usize> = std::mem::take(&mut *lock(&self.children));
        for h in children {
            close_handle(h);
        }
        let events: Vec<(usize, Arc<EventQueue>)> =
            lock(&self.events).drain().map(|(_, v)| v).collect();
        for (h, q) in events {
            registry::remove(h);
            q.close();
        }
    }
}

/// Closes `handle` and everything opened under it; unknown handles are
/// ignored. Returns whether it was open.
pub fn close_handle(handle: usize) -> bool {
    match registry::remove(handle) {
        Some(object) => {
            shut_down(object);
            true
        }
        None => false,
    }
}

/// Releases what an object holds (its children first).
pub(crate) fn shut_down(object: Object) {
    match object {
        Object::System(s) => s.core.close_all(),
        Object::Interface(i) => {
            i.core.close_all();
            lock(&i.system.open_interfaces).retain(|id| id != &i.id);
        }
        Object::Device(d) => d.close(),
        Object::Stream(s) => s.close(),
        Object::Event(q) => q.close(),
        Object::Remote(_) | Object::Buffer(_) => {}
    }
}

// ---------------------------------------------------------------- System

const SYSTEM_PORT: PortDescription = PortDescription {
    port_name: "TLPort",
    module: "TLSystem",
    model: "mvcamSystem",
    features: &[
        ro("TLVendorName", FeatureKind::Str),
        ro("TLModelName", FeatureKind::Str),
        ro("TLID", FeatureKind::Str),
        ro("TLVersion", FeatureKind::Str),
        ro("TLType", FeatureKind::Str),
        ro("GenTLVersionMajor", FeatureKind::Int),
        ro("GenTLVersionMinor", FeatureKind::Int),
        rw("InterfaceSelector", FeatureKind::Int),
        ro("InterfaceID", FeatureKind::Str),
    ],
};

/// The producer's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The System module (`TL_HANDLE`): the SDK's device discovery.
pub struct SystemModule {
    pub(crate) system: System,
    pub(crate) core: ModuleCore,
    open_interfaces: Mutex<Vec<String>>,
    /// Devices opened through this system: id → device.
    open_devices: Mutex<HashMap<String, Weak<DeviceModule>>>,
}

impl SystemModule {
    /// Powers up the SDK's system from the environment.
    pub fn open() -> GcResult<SystemModule> {
        let system = System::from_env().map_err(GcError::from)?;
        Ok(SystemModule {
            system,
            core: ModuleCore::default(),
            open_interfaces: Mutex::new(Vec::new()),
            open_devices: Mutex::new(HashMap::new()),
        })
    }

    /// The interface ids.
    pub fn interfaces(&self) -> Vec<&'static str> {
        vec![INTERFACE_ID]
    }

    /// The system's port description.
    pub fn port(&self) -> &'static PortDescription {
        &SYSTEM_PORT
    }

    /// Marks interface `id` open; fails when it already is.
    pub(crate) fn claim_interface(&self, id: &str) -> GcResult<()> {
        if !self.interfaces().contains(&id) {
            return Err(GcError::InvalidId(id.to_string()));
        }
        let mut open = lock(&self.open_interfaces);
        if open.iter().any(|i| i == id) {
            return Err(GcError::ResourceInUse(format!(
                "interface {id} is already open"
            )));
        }
        open.push(id.to_string());
        Ok(())
    }

    fn opened(&self, id: &str) -> Option<Arc<DeviceModule>> {
        lock(&self.open_devices).get(id).and_then(Weak::upgrade)
    }
}

impl ModuleFeatures for SystemModule {
    fn feature(&self, name: &str) -> FeatureValue {
        match name {
            "TLVendorName" => FeatureValue::Str("mvcam".into()),
            "TLModelName" => FeatureValue::Str("mvcam GenTL producer".into()),
            "TLID" => FeatureValue::Str("mvcam".into()),
            "TLVersion" => FeatureValue::Str(VERSION.into()),
            "TLType" => FeatureValue::Str(TL_TYPE.into()),
            "GenTLVersionMajor" => FeatureValue::Int(1),
            "GenTLVersionMinor" => FeatureValue::Int(6),
            "InterfaceID" => FeatureValue::Str(INTERFACE_ID.into()),
            _ => FeatureValue::Int(0),
        }
    }
    fn set_feature(&self, _name: &str, value: i64) -> GcResult<()> {
        if value != 0 {
            return Err(GcError::InvalidValue(format!(
                "interface {value}: there is one"
            )));
        }
        Ok(())
    }
}

// ------------------------------------------------------------- Interface

const ACCESS_STATUS: &[(&str, i64)] = &[
    ("Unknown", 0),
    ("ReadWrite", 1),
    ("ReadOnly", 2),
    ("NoAccess", 3),
    ("Busy", 4),
    ("OpenReadWrite", 5),
    ("OpenReadOnly", 6),
];

const INTERFACE_PORT: PortDescription = PortDescription {
    port_name: "InterfacePort",
    module: "TLInterface",
    model: "mvcamInterface",
    features: &[
        ro("InterfaceID", FeatureKind::Str),
        ro("InterfaceType", FeatureKind::Str),
        rw("DeviceSelector", FeatureKind::Int),
        ro("DeviceID", FeatureKind::Str),
        ro("DeviceVendorName", FeatureKind::Str),
        ro("DeviceModelName", FeatureKind::Str),
        ro("DeviceSerialNumber", FeatureKind::Str),
        ro("DeviceUserID", FeatureKind::Str),
        ro("DeviceAccessStatus", FeatureKind::Enum(ACCESS_STATUS)),
    ],
};

/// The device id a listing entry gets: its address (`virtual://0`,
/// `usbip://host:port/busid`, `usb://bus-address`).
pub fn device_id(info: &DeviceInfo) -> String {
    info.transport.to_string()
}

/// The Interface module (`IF_HANDLE`): the devices the system lists.
pub struct InterfaceModule {
    pub(crate) id: String,
    pub(crate) system: Arc<SystemModule>,
    devices: Mutex<Vec<DeviceInfo>>,
    selector: Mutex<i64>,
    pub(crate) core: ModuleCore,
}

impl InterfaceModule {
    /// Opens interface `id` of `system`.
    pub fn open(system: Arc<SystemModule>, id: &str) -> GcResult<InterfaceModule> {
        system.claim_interface(id)?;
        let module = InterfaceModule {
            id: id.to_string(),
            system,
            devices: Mutex::new(Vec::new()),
            selector: Mutex::new(0),
            core: ModuleCore::default(),
        };
        module.update();
        Ok(module)
    }

    /// The interface's port description.
    pub fn port(&self) -> &'static PortDescription {
        &INTERFACE_PORT
    }

    /// Lists the devices again; true when the list changed.
    pub fn update(&self) -> bool {
        let fresh = self.system.system.devices().devices;
        let mut devices = lock(&self.devices);
        let changed = devices
            .iter()
            .map(device_id)
            .ne(fresh.iter().map(device_id));
        *devices = fresh;
        changed
    }

    /// The device ids of the last listing.
    pub fn device_ids(&self) -> Vec<String> {
        lock(&self.devices).iter().map(device_id).collect()
    }

    /// The listing entry of device `id`.
    pub fn device(&self, id: &str) -> GcResult<DeviceInfo> {
        lock(&self.devices)
            .iter()
            .find(|d| device_id(d) == id)
            .cloned()
            .ok_or_else(|| GcError::InvalidId(id.to_string()))
    }

    /// `DEVICE_ACCESS_STATUS` of a listed device, as seen from here.
    pub fn access_status(&self, info: &DeviceInfo) -> i32 {
        if let Some(d) = self.system.opened(&device_id(info)) {
            return if d.read_only {
                DEVICE_ACCESS_STATUS_OPEN_READONLY
            } else {
                DEVICE_ACCESS_STATUS_OPEN_READWRITE
            };
        }
        match info.access {
            Access::Available => DEVICE_ACCESS_STATUS_READWRITE,
            Access::InUse => DEVICE_ACCESS_STATUS_BUSY,
            Access::Disconnected => DEVICE_ACCESS_STATUS_NOACCESS,
            Access::Unknown(_) => DEVICE_ACCESS_STATUS_UNKNOWN,
        }
    }

    /// Opens device `id` with access `flags` (`DEVICE_ACCESS_READONLY`,
    /// `_CONTROL` or `_EXCLUSIVE`; the SDK holds every opened camera
    /// exclusively, read-only only refuses writes to the remote port).
    pub fn open_device(self: &Arc<Self>, id: &str, flags: i32) -> GcResult<Arc<DeviceModule>> {
        let read_only = match flags {
            DEVICE_ACCESS_READONLY => true,
            DEVICE_ACCESS_CONTROL | DEVICE_ACCESS_EXCLUSIVE => false,
            other => {
                return Err(GcError::InvalidParameter(format!(
                    "access flag {other}: use READONLY (2), CONTROL (3) or EXCLUSIVE (4)"
                )))
            }
        };
        let info = self.device(id)?;
        let mut open = lock(&self.system.open_devices);
        if open.get(id).and_then(Weak::upgrade).is_some() {
            return Err(GcError::ResourceInUse(format!(
                "device {id} is already open"
            )));
        }
        let camera = self.system.system.open_device(&info).map_err(|e| match e {
            mvcam::Error::InUse { .. } => GcError::ResourceInUse(e.to_string()),
            other => GcError::from(other),
        })?;
        let device = Arc::new(DeviceModule::new(
            id.to_string(),
            info,
            camera,
            read_only,
            self.system.clone(),
        ));
        open.insert(id.to_string(), Arc::downgrade(&device));
        Ok(device)
    }

    fn selected(&self) -> Option<DeviceInfo> {
        let i = usize::try_from(*lock(&self.selector)).ok()?;
        lock(&self.devices).get(i).cloned()
    }
}

impl ModuleFeatures for InterfaceModule {
    fn feature(&self, name: &str) -> FeatureValue {
        let s = |v: Option<String>| FeatureValue::Str(v.unwrap_or_default());
        let d = self.selected();
        match name {
            "InterfaceID" => FeatureValue::Str(self.id.clone()),
            "InterfaceType" => FeatureValue::Str(TL_TYPE.into()),
            "DeviceSelector" => FeatureValue::Int(*lock(&self.selector)),
            "DeviceID" => s(d.as_ref().map(device_id)),
            "DeviceVendorName" => s(d.map(|d| d.vendor)),
            "DeviceModelName" => s(d.map(|d| d.model)),
            "DeviceSerialNumber" => s(d.map(|d| d.serial)),
            "DeviceUserID" => s(d.map(|d| d.user_id)),
            "DeviceAccessStatus" => {
                FeatureValue::Int(d.map_or(0, |d| i64::from(self.access_status(&d))))
            }
            _ => FeatureValue::Int(0),
        }
    }
    fn set_feature(&self, _name: &str, value: i64) -> GcResult<()> {
        let n = lock(&self.devices).len();
        if usize::try_from(value).map_or(true, |v| v >= n.max(1)) {
            return Err(GcError::InvalidValue(format!("device {value} of {n}")));
        }
        *lock(&self.selector) = value;
        Ok(())
    }
}

// ---------------------------------------------------------------- Device

const DEVICE_PORT: PortDescription = PortDescription {
    port_name: "DevicePort",
    module: "TLDevice",
    model: "mvcamDevice",
    features: &[
        ro("DeviceID", FeatureKind::Str),
        ro("DeviceVendorName", FeatureKind::Str),
        ro("DeviceModelName", FeatureKind::Str),
        ro("DeviceSerialNumber", FeatureKind::Str),
        ro("DeviceUserID", FeatureKind::Str),
        ro("DeviceTLType", FeatureKind::Str),
        ro("DeviceAccessStatus", FeatureKind::Enum(ACCESS_STATUS)),
        ro("DeviceLinkSpeed", FeatureKind::Str),
    ],
};

/// Where the remote device's GenICam file is, from its manifest table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// `local:` URL.
    pub url: String,
    /// Register address.
    pub address: u64,
    /// Size in bytes.
    pub size: u64,
    /// SHA-1 when the device gives one.
    pub sha1: Option<[u8; 20]>,
    /// File version (major, minor, subminor).
    pub version: (u8, u8, u16),
    /// Schema version (major, minor).
    pub schema: (u8, u8),
}

/// The register write that executing a command feature makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommandWrite {
    address: u64,
    data: Vec<u8>,
}

/// The Device module (`DEV_HANDLE`) and its remote device port.
pub struct DeviceModule {
    pub(crate) id: String,
    pub(crate) info: DeviceInfo,
    camera: Mutex<Option<Camera>>,
    pub(crate) read_only: bool,
    system: Arc<SystemModule>,
    pub(crate) remote_handle: Mutex<usize>,
    file: OnceLock<GcResult<RemoteFile>>,
    acquisition_start: OnceLock<Option<CommandWrite>>,
    armed: Mutex<Option<Weak<StreamModule>>>,
    pub(crate) open_streams: Mutex<Vec<String>>,
    pub(crate) core: ModuleCore,
}

impl DeviceModule {
    fn new(
        id: String,
        info: DeviceInfo,
        camera: Camera,
        read_only: bool,
        system: Arc<SystemModule>,
    ) -> DeviceModule {
        DeviceModule {
            id,
            info,
            camera: Mutex::new(Some(camera)),
            read_only,
            system,
            remote_handle: Mutex::new(0),
            file: OnceLock::new(),
            acquisition_start: OnceLock::new(),
            armed: Mutex::new(None),
            open_streams: Mutex::new(Vec::new()),
            core: ModuleCore::default(),
        }
    }

    /// The device's port description.
    pub fn port(&self) -> &'static PortDescription {
        &DEVICE_PORT
    }

    /// The open camera.
    pub fn camera(&self) -> GcResult<Camera> {
        lock(&self.camera)
            .clone()
            .ok_or_else(|| GcError::Io(format!("device {} is closed", self.id)))
    }

    /// The data stream ids.
    pub fn stream_ids(&self) -> Vec<&'static str> {
        vec![STREAM_ID]
    }

    /// Forwards the camera's events into `queue` (an `EVENT_REMOTE_DEVICE`
    /// registration) until the queue is closed or the camera goes away.
    /// Each event's data is a USB3 Vision event message carrying one of
    /// the camera's events (`U3VE` prefix, GenCP header, then the event's
    /// id, timestamp and data as the camera sent them), the form a GenApi
    /// U3V event adapter takes.
    pub fn forward_remote_events(&self, queue: Arc<EventQueue>) -> GcResult<()> {
        let events = self.camera()?.events();
        std::thread::Builder::new()
            .name("gentl-remote-events".into())
            .spawn(move || {
                let mut request_id = 0u16;
                loop {
                    match events.recv_timeout(std::time::Duration::from_millis(100)) {
                        Ok(mvcam::Event::Device {
                            id,
                            timestamp,
                            data,
                            ..
                        }) => {
                            request_id = request_id.wrapping_add(1).max(1);
                            if let Some(message) =
                                u3v_event_message(request_id, id, timestamp, &data)
                            {
                                queue.push(message);
                            }
                        }
                        Ok(_) | Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                    if queue.is_closed() {
                        break;
                    }
                }
            })
            .map(|_| ())
            .map_err(|e| GcError::Io(format!("cannot start the event thread: {e}")))
    }

    fn close(&self) {
        self.core.close_all();
        *lock(&self.armed) = None;
        lock(&self.system.open_devices).remove(&self.id);
        let camera = lock(&self.camera).take();
        drop(camera);
    }

    /// Reads the camera's registers.
    pub fn remote_read(&self, address: u64, buf: &mut [u8]) -> GcResult<()> {
        self.camera()?
            .read_registers(address, buf)
            .map_err(GcError::from)
    }

    /// Writes the camera's registers. The write that AcquisitionStart
    /// makes starts the armed data stream's acquisition engine first, so
    /// that the stream channel is ready before the camera sends.
    pub fn remote_write(&self, address: u64, data: &[u8]) -> GcResult<()> {
        if self.read_only {
            return Err(GcError::AccessDenied(format!(
                "device {} is open read-only",
                self.id
            )));
        }
        let camera = self.camera()?;
        let armed = lock(&self.armed).as_ref().and_then(Weak::upgrade);
        if let Some(stream) = armed {
            if let Some(cmd) = self.acquisition_start_write() {
                if cmd.address == address && cmd.data == data && stream.start_engine()? {
                    return Ok(());
                }
            }
        }
        camera.write_registers(address, data).map_err(GcError::from)
    }

    /// Arms `stream`: the next AcquisitionStart starts it. Returns false
    /// when the camera's description has no AcquisitionStart command (the
    /// stream then starts at once).
    pub(crate) fn arm(&self, stream: &Arc<StreamModule>) -> bool {
        *lock(&self.armed) = Some(Arc::downgrade(stream));
        self.acquisition_start_write().is_some()
    }

    /// Forgets the armed stream.
    pub(crate) fn disarm(&self) {
        *lock(&self.armed) = None;
    }

    /// The register write of AcquisitionStart, found once by executing the
    /// command on the camera's own description with a port that reads the
    /// camera and records writes instead of making them.
    fn acquisition_start_write(&self) -> Option<CommandWrite> {
        self.acquisition_start
            .get_or_init(|| {
                let camera = self.camera().ok()?;
                let (bytes, _) = camera.genicam_file();
                let mut map = genapi::NodeMap::from_bytes(bytes).ok()?;
                let writes = Arc::new(Mutex::new(Vec::new()));
                map.connect(
                    "Device",
                    Box::new(RecordingPort {
                        camera: camera.clone(),
                        writes: writes.clone(),
                    }),
                )
                .ok()?;
                map.execute("AcquisitionStart").ok()?;
                let last = lock(&writes).pop();
                last
            })
            .clone()
    }

    /// The camera's GenICam file, from its manifest table.
    pub fn remote_file(&self) -> GcResult<RemoteFile> {
        self.file.get_or_init(|| self.read_manifest()).clone()
    }

    fn read_manifest(&self) -> GcResult<RemoteFile> {
        let camera = self.camera()?;
        let mut word = [0u8; 8];
        camera
            .read_registers(u3v::bootstrap::abrm::MANIFEST_TABLE_ADDRESS, &mut word)
            .map_err(GcError::from)?;
        let table = u64::from_le_bytes(word);
        camera
            .read_registers(table, &mut word)
            .map_err(GcError::from)?;
        let count = u64::from_le_bytes(word).min(16);
        let len = u3v::Manifest::table_len(count)
            .ok_or_else(|| GcError::Io("manifest table size overflows".into()))?;
        let mut raw = vec![0u8; len];
        camera
            .read_registers(table, &mut raw)
            .map_err(GcError::from)?;
        if let Some(c) = raw.get_mut(..8) {
            c.copy_from_slice(&count.to_le_bytes());
        }
        let manifest =
            u3v::Manifest::decode(&raw).map_err(|e| GcError::Io(format!("manifest table: {e}")))?;
        let entry = manifest
            .entries
            .iter()
            .find(|e| e.file_info.file_type() == u3v::manifest::FileInfo::TYPE_DEVICE_XML)
            .or_else(|| manifest.entries.first())
            .copied()
            .ok_or_else(|| GcError::NotAvailable("the device lists no GenICam file".into()))?;
        let name: String = format!("{}_{}", self.info.vendor, self.info.model)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        Ok(RemoteFile {
            url: format!(
                "local:{name}.{};{:X};{:X}",
                entry.file_info.format().extension(),
                entry.address,
                entry.size
            ),
            address: entry.address,
            size: entry.size,
            sha1: entry.has_sha1().then_some(entry.sha1),
            version: (
                entry.file_version.major,
                entry.file_version.minor,
                entry.file_version.subminor,
            ),
            schema: (
                entry.file_info.schema_major(),
                entry.file_info.schema_minor(),
            ),
        })
    }

    /// `DEVICE_ACCESS_STATUS` of the open device.
    pub fn access_status(&self) -> i32 {
        if self.read_only {
            DEVICE_ACCESS_STATUS_OPEN_READONLY
        } else {
            DEVICE_ACCESS_STATUS_OPEN_READWRITE
        }
    }
}

impl ModuleFeatures for DeviceModule {
    fn feature(&self, name: &str) -> FeatureValue {
        let i = &self.info;
        match name {
            "DeviceID" => FeatureValue::Str(self.id.clone()),
            "DeviceVendorName" => FeatureValue::Str(i.vendor.clone()),
            "DeviceModelName" => FeatureValue::Str(i.model.clone()),
            "DeviceSerialNumber" => FeatureValue::Str(i.serial.clone()),
            "DeviceUserID" => FeatureValue::Str(i.user_id.clone()),
            "DeviceTLType" => FeatureValue::Str(TL_TYPE.into()),
            "DeviceLinkSpeed" => FeatureValue::Str(i.link_speed.clone()),
            "DeviceAccessStatus" => FeatureValue::Int(i64::from(self.access_status())),
            _ => FeatureValue::Int(0),
        }
    }
    fn set_feature(&self, name: &str, _value: i64) -> GcResult<()> {
        Err(GcError::AccessDenied(format!("{name} is read-only")))
    }
}

/// A genapi port that reads the camera and records writes.
struct RecordingPort {
    camera: Camera,
    writes: Arc<Mutex<Vec<CommandWrite>>>,
}

impl genapi::Port for RecordingPort {
    fn read(&mut self, address: u64, buf: &mut [u8]) -> Result<(), genapi::PortError> {
        self.camera
            .read_registers(address, buf)
            .map_err(|e| genapi::PortError::Other(e.to_string()))
    }
    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), genapi::PortError> {
        lock(&self.writes).push(CommandWrite {
            address,
            data: data.to_vec(),
        });
        Ok(())
    }
}

/// Whether `device` is among the handles opened under `core`.
pub(crate) fn lock_children_contains(core: &ModuleCore, device: &DeviceModule) -> bool {
    lock(&core.children).iter().any(|h| {
        matches!(registry::get(*h as *mut std::ffi::c_void), Ok(Object::Device(d)) if std::ptr::eq(d.as_ref(), device))
    })
}

/// A single-event USB3 Vision event message; `None` if the data is too
/// large for one message.
fn u3v_event_message(request_id: u16, id: u16, timestamp: u64, data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    u3v::event::encode(
        u3v::Flags::NONE,
        request_id,
        u3v::event::EventLayout::Single,
        &[u3v::event::EventRef {
            event_id: id,
            timestamp,
            data,
        }],
        &mut out,
    )
    .ok()?;
    Some(out)
}
