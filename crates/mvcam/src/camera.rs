//! [`Camera`]: an opened device with exclusive access, its node map on the
//! GenCP port, typed feature access, commands, the GenICam file,
//! configuration files, user sets and events.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use genapi::{NodeMap, Port, PortError};
use u3v::bootstrap::{sbrm, U3vcpCapability};
use u3v::control_channel::{fetch_device_file, ChannelConfig, ControlChannel, ControlError};
use u3v::event_channel::{EventError, EventReceiver};
use u3v::{DeviceDescriptors, UsbLink};

use crate::error::{Error, Result};
use crate::events::{device_event_name, Event, EventHub};
use crate::feature::{self, FeatureFilter, FeatureInfo, Value};
use crate::system::DeviceInfo;

/// How long [`Camera::execute`] waits for a command by default.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// The genapi port over the control channel.
struct ChannelPort(Arc<ControlChannel>);

impl Port for ChannelPort {
    fn read(&mut self, address: u64, buf: &mut [u8]) -> Result<(), PortError> {
        self.0
            .read(address, buf)
            .map_err(|e| port_error(address, buf.len(), e))
    }
    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), PortError> {
        self.0
            .write(address, data)
            .map_err(|e| port_error(address, data.len(), e))
    }
}

fn port_error(address: u64, length: usize, e: ControlError) -> PortError {
    match e {
        ControlError::Disconnected => PortError::Disconnected,
        ControlError::Timeout { .. } => PortError::Timeout { address },
        e => PortError::Refused {
            address,
            length,
            reason: e.to_string(),
        },
    }
}

/// What a user set operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSetAction {
    /// Loads the set into the camera's settings.
    Load,
    /// Saves the current settings into the set.
    Save,
    /// Makes the set the one loaded at power-up.
    MakeDefault,
}

/// A feature that a configuration file could not set, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFailure {
    /// Line in the file (1-based; 0 when not tied to a line).
    pub line: usize,
    /// The feature.
    pub feature: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for ConfigFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.feature, self.reason)
    }
}

/// What loading a configuration file did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigReport {
    /// Feature lines in the file.
    pub lines: usize,
    /// Every feature that could not be set.
    pub failures: Vec<ConfigFailure>,
}

pub(crate) struct Shared {
    pub(crate) info: DeviceInfo,
    pub(crate) link: Arc<dyn UsbLink>,
    pub(crate) channel: Arc<ControlChannel>,
    map: Mutex<NodeMap>,
    pub(crate) sirm: u64,
    file: Vec<u8>,
    file_is_zip: bool,
    pub(crate) hub: Arc<EventHub>,
    pub(crate) streaming: AtomicBool,
    pub(crate) disconnected: Arc<AtomicBool>,
    /// Whether the link is in this process (no transfers run ahead).
    pub(crate) in_process: bool,
    event_stop: Arc<AtomicBool>,
    event_thread: Mutex<Option<JoinHandle<()>>>,
    /// Keeps a virtual camera powered while it is open.
    _device: Option<Arc<camera::Camera>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.event_stop.store(true, Ordering::SeqCst);
        let t = self
            .event_thread
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(t) = t {
            let _ = t.join();
        }
    }
}

/// An opened camera. Clones share the one connection; the device is
/// released (another host may open it) when the last clone and every
/// [`Stream`](crate::Stream) of it are dropped.
///
/// Every call goes through the USB3 Vision protocol: GenCP register access
/// through the GenICam node map read from the device.
#[derive(Clone)]
pub struct Camera {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Camera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Camera")
            .field("device", &self.shared.info.id())
            .finish_non_exhaustive()
    }
}

fn control_error(device: &str, e: ControlError) -> Error {
    match e {
        ControlError::Disconnected => Error::Disconnected {
            device: device.to_string(),
        },
        other => Error::Protocol {
            device: device.to_string(),
            reason: other.to_string(),
        },
    }
}

impl Camera {
    /// Connects over `link`: bootstrap registers, the GenICam file, the
    /// node map, the event channel.
    pub(crate) fn connect(
        info: DeviceInfo,
        link: Arc<dyn UsbLink>,
        device: Option<Arc<camera::Camera>>,
        in_process: bool,
    ) -> Result<Camera> {
        let id = info.id();
        let cerr = |e| control_error(&id, e);
        let channel =
            Arc::new(ControlChannel::open(link.clone(), ChannelConfig::default()).map_err(cerr)?);
        let boot = channel.configure().map_err(cerr)?;
        let file = fetch_device_file(&channel).map_err(cerr)?;
        let mut map = NodeMap::from_bytes(&file.bytes).map_err(|e| Error::Protocol {
            device: id.clone(),
            reason: format!("its GenICam file does not load: {e}"),
        })?;
        map.connect("Device", Box::new(ChannelPort(channel.clone())))
            .map_err(|e| Error::Protocol {
                device: id.clone(),
                reason: format!("GenICam port: {e}"),
            })?;
        let sirm = channel
            .read_u64(boot.sbrm_address + sbrm::SIRM_ADDRESS)
            .map_err(cerr)?;
        let caps = U3vcpCapability(
            channel
                .read_u64(boot.sbrm_address + sbrm::U3VCP_CAPABILITY)
                .map_err(cerr)?,
        );
        let hub = Arc::new(EventHub::default());
        let disconnected = Arc::new(AtomicBool::new(false));
        let event_stop = Arc::new(AtomicBool::new(false));
        let mut event_thread = None;
        if caps.eirm_available() {
            let eirm = channel
                .read_u64(boot.sbrm_address + sbrm::EIRM_ADDRESS)
                .map_err(cerr)?;
            let rx = EventReceiver::new(link.clone(), DeviceDescriptors::EVENT_IN_EP);
            if rx.configure(&channel, eirm).is_ok() {
                let (hub, stop, gone) = (hub.clone(), event_stop.clone(), disconnected.clone());
                event_thread = std::thread::Builder::new()
                    .name("mvcam-events".into())
                    .spawn(move || event_loop(rx, hub, stop, gone))
                    .ok();
            }
        }
        Ok(Camera {
            shared: Arc::new(Shared {
                info,
                link,
                channel,
                map: Mutex::new(map),
                sirm,
                file: file.bytes,
                file_is_zip: file.is_zip,
                hub,
                streaming: AtomicBool::new(false),
                disconnected,
                in_process,
                event_stop,
                event_thread: Mutex::new(event_thread),
                _device: device,
            }),
        })
    }

    /// What the device said about itself when it was listed.
    pub fn info(&self) -> &DeviceInfo {
        &self.shared.info
    }

    pub(crate) fn map(&self) -> MutexGuard<'_, NodeMap> {
        self.shared.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fills in the device name of a disconnect error and remembers it.
    pub(crate) fn fix(&self, e: Error) -> Error {
        match e {
            Error::Disconnected { .. } => {
                if !self.shared.disconnected.swap(true, Ordering::SeqCst) {
                    self.shared.hub.emit(Event::Disconnected);
                }
                Error::Disconnected {
                    device: self.shared.info.id(),
                }
            }
            Error::NotWritable { feature, reason } | Error::Refused { feature, reason }
                if self.is_streaming() =>
            {
                Error::NotWritable {
                    feature,
                    reason: format!("locked while acquiring ({reason})"),
                }
            }
            other => other,
        }
    }

    fn check_connected(&self) -> Result<()> {
        if self.shared.disconnected.load(Ordering::SeqCst) {
            return Err(Error::Disconnected {
                device: self.shared.info.id(),
            });
        }
        Ok(())
    }

    /// Reads the device's registers directly (GenCP READMEM, split by the
    /// transfer limits): for transport layers such as a GenTL producer
    /// that hand the remote device's port to another GenApi.
    pub fn read_registers(&self, address: u64, buf: &mut [u8]) -> Result<()> {
        self.check_connected()?;
        self.shared
            .channel
            .read(address, buf)
            .map_err(|e| self.fix(control_error(&self.shared.info.id(), e)))
    }

    /// Writes the device's registers directly (GenCP WRITEMEM). The node
    /// map's cached values are invalidated, since a feature may have
    /// changed behind it.
    pub fn write_registers(&self, address: u64, data: &[u8]) -> Result<()> {
        self.check_connected()?;
        let r = self
            .shared
            .channel
            .write(address, data)
            .map_err(|e| self.fix(control_error(&self.shared.info.id(), e)));
        self.map().invalidate_all();
        r
    }

    /// Whether the camera went away (see [`Error::Disconnected`]).
    pub fn is_disconnected(&self) -> bool {
        self.shared.disconnected.load(Ordering::SeqCst)
    }

    /// Whether a [`Stream`](crate::Stream) is running.
    pub fn is_streaming(&self) -> bool {
        self.shared.streaming.load(Ordering::SeqCst)
    }

    /// A feature's value.
    pub fn get(&self, name: &str) -> Result<Value> {
        self.check_connected()?;
        let mut map = self.map();
        feature::get(&mut map, name).map_err(|e| self.fix(e))
    }

    /// A feature's value as text (what [`set_str`](Self::set_str) takes).
    pub fn get_str(&self, name: &str) -> Result<String> {
        self.get(name).map(|v| v.to_string())
    }

    /// An integer feature.
    pub fn integer(&self, name: &str) -> Result<i64> {
        match self.get(name)? {
            Value::Integer(v) => Ok(v),
            other => Err(self.type_error(name, &other, "an integer")),
        }
    }

    /// A float feature (integers are converted).
    pub fn float(&self, name: &str) -> Result<f64> {
        match self.get(name)? {
            Value::Float(v) => Ok(v),
            Value::Integer(v) => Ok(v as f64),
            other => Err(self.type_error(name, &other, "a number")),
        }
    }

    /// A boolean feature.
    pub fn boolean(&self, name: &str) -> Result<bool> {
        match self.get(name)? {
            Value::Boolean(v) => Ok(v),
            other => Err(self.type_error(name, &other, "a boolean")),
        }
    }

    /// An enumeration's entry name, or a string feature.
    pub fn string(&self, name: &str) -> Result<String> {
        match self.get(name)? {
            Value::Enumeration(v) | Value::String(v) => Ok(v),
            other => Err(self.type_error(name, &other, "an enumeration or a string")),
        }
    }

    fn type_error(&self, name: &str, v: &Value, expected: &str) -> Error {
        Error::WrongType {
            feature: name.into(),
            text: v.to_string(),
            expected: expected.into(),
        }
    }

    /// Writes a typed value.
    pub fn set(&self, name: &str, value: impl Into<Value>) -> Result<()> {
        self.check_connected()?;
        let value = value.into();
        {
            let mut map = self.map();
            feature::set(&mut map, name, &value).map_err(|e| self.fix(e))?;
        }
        self.shared
            .hub
            .emit(Event::FeatureChanged { name: name.into() });
        Ok(())
    }

    /// Writes a value given as text: a number, an entry name, a boolean
    /// (`true`/`false`/`1`/`0`), a string. Commands are refused: use
    /// [`execute`](Self::execute).
    pub fn set_str(&self, name: &str, text: &str) -> Result<()> {
        self.check_connected()?;
        {
            let mut map = self.map();
            feature::set_text(&mut map, name, text).map_err(|e| self.fix(e))?;
        }
        self.shared
            .hub
            .emit(Event::FeatureChanged { name: name.into() });
        Ok(())
    }

    /// Applies `NAME=VALUE` assignments in order; stops at the first
    /// that fails.
    pub fn set_all<'a>(&self, assignments: impl IntoIterator<Item = &'a str>) -> Result<()> {
        for a in assignments {
            let (name, value) = a
                .split_once('=')
                .ok_or_else(|| Error::InvalidArgument(format!("{a:?}: expected FEATURE=VALUE")))?;
            self.set_str(name.trim(), value)?;
        }
        Ok(())
    }

    /// Executes a command and waits until the camera reports it done
    /// (up to [`COMMAND_TIMEOUT`]).
    pub fn execute(&self, name: &str) -> Result<()> {
        self.execute_timeout(name, COMMAND_TIMEOUT)
    }

    /// Executes a command and waits up to `timeout` for it to complete.
    pub fn execute_timeout(&self, name: &str, timeout: Duration) -> Result<()> {
        self.check_connected()?;
        let mut map = self.map();
        if feature::kind(&map, name)? != feature::FeatureKind::Command {
            return Err(Error::WrongType {
                feature: name.into(),
                text: String::new(),
                expected: "a command".into(),
            });
        }
        // A command that unplugs the camera may lose its acknowledge.
        let unplugs = name == "SimulationDisconnect" || name == "DeviceReset";
        match map.execute(name) {
            Ok(()) => {}
            Err(e) => {
                let e = self.fix(feature::convert(&mut map, name, e, true));
                if unplugs && e.is_disconnected() {
                    return Ok(());
                }
                return Err(e);
            }
        }
        let deadline = Instant::now() + timeout;
        loop {
            match map.is_done(name) {
                Ok(true) => break,
                Ok(false) if Instant::now() >= deadline => {
                    return Err(Error::CommandTimeout {
                        feature: name.into(),
                        timeout,
                    })
                }
                Ok(false) => std::thread::sleep(Duration::from_millis(2)),
                // A command that disconnects the camera has done its job.
                Err(_) if unplugs => break,
                Err(e) => return Err(self.fix(feature::convert(&mut map, name, e, false))),
            }
        }
        drop(map);
        self.shared
            .hub
            .emit(Event::FeatureChanged { name: name.into() });
        Ok(())
    }

    /// Describes one feature.
    pub fn feature(&self, name: &str) -> Result<FeatureInfo> {
        self.check_connected()?;
        let mut map = self.map();
        let category = feature::walk(&map)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
            .unwrap_or_default();
        feature::info(&mut map, name, &category).map_err(|e| self.fix(e))
    }

    /// The features visible at a user level whose name or category
    /// contains a text, in category order.
    pub fn features(&self, filter: &FeatureFilter) -> Result<Vec<FeatureInfo>> {
        self.check_connected()?;
        let mut map = self.map();
        Ok(feature::list(&mut map, filter))
    }

    /// The GenICam file as the device serves it (XML, or zip).
    pub fn genicam_file(&self) -> (&[u8], bool) {
        (&self.shared.file, self.shared.file_is_zip)
    }

    /// The GenICam XML text (unzipped when the device serves a zip).
    pub fn genicam_xml(&self) -> Result<String> {
        let bytes = &self.shared.file;
        if !self.shared.file_is_zip {
            return String::from_utf8(bytes.clone()).map_err(|e| Error::Protocol {
                device: self.shared.info.id(),
                reason: format!("GenICam file is not UTF-8: {e}"),
            });
        }
        let bad = |e: String| Error::Protocol {
            device: self.shared.info.id(),
            reason: format!("GenICam zip: {e}"),
        };
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.as_slice()))
            .map_err(|e| bad(e.to_string()))?;
        for i in 0..z.len() {
            let mut f = z.by_index(i).map_err(|e| bad(e.to_string()))?;
            if f.name().to_ascii_lowercase().ends_with(".xml") {
                let mut s = String::new();
                f.read_to_string(&mut s).map_err(|e| bad(e.to_string()))?;
                return Ok(s);
            }
        }
        Err(bad("no .xml file in the archive".into()))
    }

    /// The camera's settings in the GenApi persistence format.
    pub fn save_config(&self) -> Result<String> {
        self.check_connected()?;
        let text = self.map().save_features();
        self.check_connected()?;
        Ok(text)
    }

    /// Writes [`save_config`](Self::save_config) to a file.
    pub fn save_config_file(&self, path: impl AsRef<Path>) -> Result<()> {
        let text = self.save_config()?;
        std::fs::write(path.as_ref(), text).map_err(|source| Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        })
    }

    /// Loads settings in the GenApi persistence format. A file that is not
    /// in that format, or names features this camera does not have, is
    /// refused whole ([`Error::MalformedConfig`], nothing changed);
    /// otherwise every line is applied and every feature that failed is
    /// reported with the reason.
    pub fn load_config(&self, text: &str) -> Result<ConfigReport> {
        self.check_connected()?;
        let mut map = self.map();
        let mut problems = Vec::new();
        let mut lines = 0;
        for (i, raw) in text.lines().enumerate() {
            let l = raw.trim_end_matches('\r');
            if l.trim().is_empty() || l.starts_with('#') {
                continue;
            }
            lines += 1;
            let Some((name, rest)) = l.split_once('\t') else {
                problems.push(format!("line {}: expected FEATURE<TAB>VALUE", i + 1));
                continue;
            };
            let name = name.trim();
            if !map.contains(name) {
                problems.push(format!("line {}: no feature named {name:?}", i + 1));
                continue;
            }
            let rest = rest.trim_start();
            if rest.starts_with('{') && !rest.contains("}\t") {
                problems.push(format!(
                    "line {}: {name}: unterminated selector block",
                    i + 1
                ));
            }
        }
        if !text.lines().any(|l| l.trim() == genapi::persist::MAGIC) && lines == 0 {
            problems.push("no GenApi persistence header and no feature lines".into());
        }
        if !problems.is_empty() {
            return Err(Error::MalformedConfig { problems });
        }
        let failures = map.load_features(text);
        drop(map);
        if self.shared.disconnected.load(Ordering::SeqCst)
            || failures.iter().any(|f| f.reason.contains("disconnected"))
        {
            return Err(self.fix(Error::Disconnected {
                device: String::new(),
            }));
        }
        self.shared
            .hub
            .emit(Event::FeatureChanged { name: "*".into() });
        Ok(ConfigReport {
            lines,
            failures: failures
                .into_iter()
                .map(|f| ConfigFailure {
                    line: f.line,
                    feature: f.feature,
                    reason: f.reason,
                })
                .collect(),
        })
    }

    /// Reads a configuration file and [`load_config`](Self::load_config)s it.
    pub fn load_config_file(&self, path: impl AsRef<Path>) -> Result<ConfigReport> {
        let text = std::fs::read_to_string(path.as_ref()).map_err(|source| Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        })?;
        self.load_config(&text)
    }

    /// The user sets (`Default`, `UserSet1`, ...).
    pub fn user_sets(&self) -> Result<Vec<String>> {
        self.check_connected()?;
        let mut map = self.map();
        if !map.contains("UserSetSelector") {
            return Ok(Vec::new());
        }
        Ok(map
            .enum_entries("UserSetSelector")
            .map_err(|e| self.fix(feature::convert(&mut map, "UserSetSelector", e, false)))?
            .into_iter()
            .map(|e| e.symbolic)
            .collect())
    }

    /// Loads, saves or makes default the user set `name`.
    pub fn user_set(&self, action: UserSetAction, name: &str) -> Result<()> {
        match action {
            UserSetAction::MakeDefault => {
                self.set("UserSetDefault", Value::Enumeration(name.into()))
            }
            UserSetAction::Load => {
                self.set("UserSetSelector", Value::Enumeration(name.into()))?;
                self.execute("UserSetLoad")
            }
            UserSetAction::Save => {
                self.set("UserSetSelector", Value::Enumeration(name.into()))?;
                self.execute("UserSetSave")
            }
        }
    }

    /// A new subscription to this camera's events: device events (turn
    /// them on with `EventSelector` / `EventNotification`) and SDK events.
    pub fn events(&self) -> Receiver<Event> {
        self.shared.hub.subscribe()
    }
}

fn event_loop(rx: EventReceiver, hub: Arc<EventHub>, stop: Arc<AtomicBool>, gone: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        match rx.next(Duration::from_millis(100)) {
            Ok(events) => {
                for e in events {
                    hub.emit(Event::Device {
                        name: device_event_name(e.event_id),
                        id: e.event_id,
                        timestamp: e.timestamp,
                        data: e.data,
                    });
                }
            }
            Err(EventError::Timeout) | Err(EventError::Stalled { .. }) => {}
            Err(EventError::Disconnected) => {
                if !gone.swap(true, Ordering::SeqCst) {
                    hub.emit(Event::Disconnected);
                }
                return;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Integer(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Boolean(v)
    }
}

impl From<&str> for Value {
    /// Text: an enumeration entry or a string, as the feature takes it.
    fn from(v: &str) -> Value {
        Value::String(v.to_string())
    }
}
