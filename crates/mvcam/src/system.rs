//! Discovery: the virtual cameras in this process, the devices of the
//! USB/IP servers the user names, and USB3 Vision cameras on the USB bus;
//! opening one of them by index, serial number, user id or address.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use camera::{ClockMode, Model};
use u3v::bootstrap::{abrm, decode_string};
use u3v::control_channel::{ChannelConfig, ControlChannel};
use u3v::UsbLink;
use usbip::client::{Client, ClientError};

use crate::camera::Camera;
use crate::error::{Error, Result};

/// Environment variable listing the virtual cameras: models separated by
/// commas (`color5mp,mono5mp,highspeed`), a count of colour 5 MP cameras,
/// or `0` for none.
pub const ENV_VIRTUAL: &str = "MVCAM_VIRTUAL";
/// Environment variable listing USB/IP servers, `host:port` separated by
/// commas.
pub const ENV_USBIP: &str = "MVCAM_USBIP";

/// How long opening a USB/IP device retries while the server still holds
/// the connection a listing just closed.
const USBIP_BUSY_GRACE: Duration = Duration::from_millis(500);

/// Where a device is reached.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transport {
    /// A virtual camera in this process (index among them).
    Virtual(usize),
    /// A device exported by a USB/IP server.
    UsbIp {
        /// The server, `host:port`.
        server: String,
        /// The device's bus id on the server.
        busid: String,
    },
    /// A camera on this machine's USB bus.
    Usb {
        /// Bus number.
        bus: u8,
        /// Device address on the bus.
        address: u8,
    },
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Virtual(i) => write!(f, "virtual://{i}"),
            Transport::UsbIp { server, busid } => write!(f, "usbip://{server}/{busid}"),
            Transport::Usb { bus, address } => write!(f, "usb://{bus}-{address}"),
        }
    }
}

/// Whether a device can be opened.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Access {
    /// Free.
    Available,
    /// Another host holds it.
    InUse,
    /// Unplugged.
    Disconnected,
    /// Not known (the text says why), e.g. no permission to the USB device.
    Unknown(String),
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Access::Available => f.write_str("available"),
            Access::InUse => f.write_str("in use"),
            Access::Disconnected => f.write_str("disconnected"),
            Access::Unknown(why) => write!(f, "unknown ({why})"),
        }
    }
}

/// What a listing tells about a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Manufacturer.
    pub vendor: String,
    /// Model name.
    pub model: String,
    /// Serial number.
    pub serial: String,
    /// The name the user gave the camera (DeviceUserID).
    pub user_id: String,
    /// Where it is reached.
    pub transport: Transport,
    /// The USB link speed, e.g. `SuperSpeed (5 Gbit/s)`.
    pub link_speed: String,
    /// Whether it can be opened now.
    pub access: Access,
}

impl DeviceInfo {
    /// A short name for messages: the serial number, else the address.
    pub fn id(&self) -> String {
        if self.serial.is_empty() {
            self.transport.to_string()
        } else {
            format!("camera {}", self.serial)
        }
    }

    /// The device as a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "vendor": self.vendor,
            "model": self.model,
            "serial": self.serial,
            "user_id": self.user_id,
            "interface": match &self.transport {
                Transport::Virtual(_) => "virtual",
                Transport::UsbIp { .. } => "usbip",
                Transport::Usb { .. } => "usb",
            },
            "address": self.transport.to_string(),
            "link_speed": self.link_speed,
            "access": self.access.to_string(),
        })
    }
}

/// A device listing: the devices, and a warning per source that could not
/// be listed (an unreachable USB/IP server, no USB access).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Discovery {
    /// The devices, virtual first, then USB/IP, then USB.
    pub devices: Vec<DeviceInfo>,
    /// One line per source that failed.
    pub warnings: Vec<String>,
}

/// How a [`System`] discovers devices.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemOptions {
    /// The virtual cameras to power up (default: one colour 5 MP camera).
    pub virtual_models: Vec<Model>,
    /// USB/IP servers to list, `host:port`.
    pub usbip_servers: Vec<String>,
    /// Whether to look for cameras on the USB bus.
    pub usb: bool,
    /// The virtual cameras' clock.
    pub clock: ClockMode,
    /// Directory for the virtual cameras' non-volatile memory (one
    /// sub-directory per serial number); `None` keeps it in memory.
    pub store: Option<PathBuf>,
}

impl Default for SystemOptions {
    fn default() -> Self {
        SystemOptions {
            virtual_models: vec![Model::Color5MP],
            usbip_servers: Vec::new(),
            usb: true,
            clock: ClockMode::WallTime,
            store: None,
        }
    }
}

/// Parses a list of virtual camera models: `color5mp,mono5mp`, a count of
/// colour 5 MP cameras, or `0` / empty for none.
pub fn parse_models(text: &str) -> Result<Vec<Model>> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(Vec::new());
    }
    if let Ok(n) = t.parse::<usize>() {
        if n > 64 {
            return Err(Error::InvalidArgument(format!(
                "{n} virtual cameras: at most 64"
            )));
        }
        return Ok(vec![Model::Color5MP; n]);
    }
    t.split(',')
        .map(|m| {
            Model::from_name(m.trim()).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "unknown camera model {m:?}; models: color5mp, mono5mp, highspeed"
                ))
            })
        })
        .collect()
}

impl SystemOptions {
    /// The defaults, changed by [`ENV_VIRTUAL`] and [`ENV_USBIP`].
    pub fn from_env() -> Result<SystemOptions> {
        let mut o = SystemOptions::default();
        if let Ok(v) = std::env::var(ENV_VIRTUAL) {
            o.virtual_models = parse_models(&v)?;
        }
        if let Ok(v) = std::env::var(ENV_USBIP) {
            o.usbip_servers = v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        Ok(o)
    }
}

struct VirtualSlot {
    config: camera::CameraConfig,
    camera: Arc<camera::Camera>,
}

/// The devices this process can reach. Virtual cameras live as long as
/// the `System` (and any [`Camera`] opened on them).
pub struct System {
    options: SystemOptions,
    virtuals: Mutex<Vec<VirtualSlot>>,
    /// Identities of USB/IP devices seen, by address, for listing them
    /// while another host holds them.
    known: Mutex<HashMap<String, Identity>>,
    /// Wraps every link a camera is opened over (e.g. a capture).
    link_wrapper: Option<LinkWrapper>,
}

/// A function the [`System`] passes every link through before opening a
/// camera on it: a recorder of the USB traffic, a fault injector.
pub type LinkWrapper = Arc<dyn Fn(Arc<dyn UsbLink>) -> Arc<dyn UsbLink> + Send + Sync>;

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("System")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Serial numbers for `models`: the `n`th camera of a model gets that
/// model's `n`th serial.
pub(crate) fn serials(models: &[Model]) -> Vec<String> {
    let mut counts: Vec<(Model, u32)> = Vec::new();
    models
        .iter()
        .map(|&m| {
            let n = match counts.iter_mut().find(|(k, _)| *k == m) {
                Some((_, c)) => {
                    *c += 1;
                    *c
                }
                None => {
                    counts.push((m, 1));
                    1
                }
            };
            camera::default_serial(m, n)
        })
        .collect()
}

pub(crate) fn power_up(
    model: Model,
    serial: String,
    clock: ClockMode,
    store: Option<&PathBuf>,
) -> Result<camera::Camera> {
    let mut config = camera::CameraConfig::new(model);
    config.store = store.map(|d| d.join(&serial));
    config.serial = serial;
    config.clock = clock;
    camera::Camera::new(config).map_err(|e| Error::VirtualCamera(e.to_string()))
}

fn virtual_info(index: usize, cam: &camera::Camera) -> DeviceInfo {
    DeviceInfo {
        vendor: camera::model::VENDOR_NAME.to_string(),
        model: cam.config().model.spec().model_name.to_string(),
        serial: cam.serial().to_string(),
        user_id: cam.user_id(),
        transport: Transport::Virtual(index),
        link_speed: "SuperSpeed (5 Gbit/s)".into(),
        access: if !cam.is_plugged() {
            Access::Disconnected
        } else if cam.is_in_use() {
            Access::InUse
        } else {
            Access::Available
        },
    }
}

fn speed_text(s: usbip::Speed) -> String {
    match s {
        usbip::Speed::Low => "LowSpeed (1.5 Mbit/s)",
        usbip::Speed::Full => "FullSpeed (12 Mbit/s)",
        usbip::Speed::High => "HighSpeed (480 Mbit/s)",
        usbip::Speed::Super => "SuperSpeed (5 Gbit/s)",
        usbip::Speed::SuperPlus => "SuperSpeedPlus (10 Gbit/s)",
        _ => "unknown",
    }
    .to_string()
}

/// Vendor, model, serial number and user id.
type Identity = (String, String, String, String);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads vendor, model, serial and user id from a device's ABRM.
fn read_identity(link: Arc<dyn UsbLink>) -> Option<Identity> {
    let ch = ControlChannel::open(link, ChannelConfig::default()).ok()?;
    ch.configure().ok()?;
    let text = |at: u64| {
        let mut b = [0u8; 64];
        ch.read(at, &mut b).ok().map(|_| decode_string(&b))
    };
    Some((
        text(abrm::MANUFACTURER_NAME)?,
        text(abrm::MODEL_NAME)?,
        text(abrm::SERIAL_NUMBER)?,
        text(abrm::USER_DEFINED_NAME).unwrap_or_default(),
    ))
}

fn unreachable(address: &str, e: impl std::fmt::Display) -> Error {
    Error::Unreachable {
        address: address.to_string(),
        reason: e.to_string(),
    }
}

fn resolve(address: &str) -> Result<SocketAddr> {
    address
        .to_socket_addrs()
        .map_err(|e| unreachable(address, e))?
        .next()
        .ok_or_else(|| unreachable(address, "the address resolves to nothing"))
}

/// Lists the devices of one USB/IP server, reading each free one's
/// identity from its bootstrap registers.
fn list_usbip(server: &str, known: &Mutex<HashMap<String, Identity>>) -> Result<Vec<DeviceInfo>> {
    let addr = resolve(server)?;
    let exported = Client::list(addr).map_err(|e| unreachable(server, e))?;
    let mut out = Vec::new();
    for d in exported {
        let busid = d.info.busid.clone();
        let mut info = DeviceInfo {
            vendor: format!("{:04x}", d.info.id_vendor),
            model: format!("{:04x}", d.info.id_product),
            serial: String::new(),
            user_id: String::new(),
            transport: Transport::UsbIp {
                server: server.to_string(),
                busid: busid.clone(),
            },
            link_speed: speed_text(d.info.speed),
            access: Access::Available,
        };
        match Client::import(addr, &busid) {
            Ok(link) => {
                let link = Arc::new(link);
                if let Some(id) = read_identity(link.clone()) {
                    lock(known).insert(info.transport.to_string(), id.clone());
                    (info.vendor, info.model, info.serial, info.user_id) = id;
                }
                link.close();
            }
            Err(ClientError::Refused(st)) if st == usbip::op::ST_DEV_BUSY => {
                info.access = Access::InUse;
                // Held by someone: what it said when it was last seen.
                if let Some(id) = lock(known).get(&info.transport.to_string()) {
                    (info.vendor, info.model, info.serial, info.user_id) = id.clone();
                }
            }
            Err(e) => info.access = Access::Unknown(e.to_string()),
        }
        out.push(info);
    }
    Ok(out)
}

/// Parses `usbip://host:port/busid`.
pub fn parse_usbip_url(url: &str) -> Result<(String, String)> {
    let rest = url
        .strip_prefix("usbip://")
        .ok_or_else(|| Error::BadAddress(url.to_string()))?;
    let (server, busid) = rest
        .rsplit_once('/')
        .ok_or_else(|| Error::BadAddress(url.to_string()))?;
    if server.is_empty() || busid.is_empty() {
        return Err(Error::BadAddress(url.to_string()));
    }
    let server = if server.contains(':') {
        server.to_string()
    } else {
        format!("{server}:{}", usbip::USBIP_PORT)
    };
    Ok((server, busid.to_string()))
}

impl System {
    /// Powers up the virtual cameras the options ask for.
    pub fn new(options: SystemOptions) -> Result<System> {
        let mut virtuals = Vec::new();
        for (model, serial) in options
            .virtual_models
            .iter()
            .zip(serials(&options.virtual_models))
        {
            let camera = power_up(*model, serial, options.clock, options.store.as_ref())?;
            virtuals.push(VirtualSlot {
                config: camera.config().clone(),
                camera: Arc::new(camera),
            });
        }
        Ok(System {
            options,
            virtuals: Mutex::new(virtuals),
            known: Mutex::new(HashMap::new()),
            link_wrapper: None,
        })
    }

    /// Passes the link of every camera opened from now on through
    /// `wrapper` (for example to record the USB3 Vision traffic).
    pub fn set_link_wrapper(&mut self, wrapper: LinkWrapper) {
        self.link_wrapper = Some(wrapper);
    }

    fn wrap(&self, link: Arc<dyn UsbLink>) -> Arc<dyn UsbLink> {
        match &self.link_wrapper {
            Some(w) => w(link),
            None => link,
        }
    }

    /// A system configured from the environment ([`SystemOptions::from_env`]).
    pub fn from_env() -> Result<System> {
        System::new(SystemOptions::from_env()?)
    }

    /// The options it was made with.
    pub fn options(&self) -> &SystemOptions {
        &self.options
    }

    fn slots(&self) -> MutexGuard<'_, Vec<VirtualSlot>> {
        self.virtuals.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The virtual camera `index` itself (for exporting it, or for tests
    /// that look at it from the device side).
    pub fn virtual_camera(&self, index: usize) -> Option<Arc<camera::Camera>> {
        self.slots().get(index).map(|s| s.camera.clone())
    }

    /// A virtual camera that unplugged itself (SimulationDisconnect,
    /// DeviceReset) and that no handle holds any more comes back powered
    /// up afresh, as a real camera plugged in again would.
    fn replug(&self) {
        for slot in self.slots().iter_mut() {
            if !slot.camera.is_plugged() && Arc::strong_count(&slot.camera) == 1 {
                if let Ok(c) = camera::Camera::new(slot.config.clone()) {
                    slot.camera = Arc::new(c);
                }
            }
        }
    }

    /// Lists every device. Sources that fail give warnings, not errors.
    pub fn devices(&self) -> Discovery {
        self.replug();
        let mut d = Discovery::default();
        for (i, slot) in self.slots().iter().enumerate() {
            d.devices.push(virtual_info(i, &slot.camera));
        }
        for server in &self.options.usbip_servers {
            match list_usbip(server, &self.known) {
                Ok(v) => d.devices.extend(v),
                Err(e) => d.warnings.push(e.to_string()),
            }
        }
        if self.options.usb {
            match crate::usb::list() {
                Ok(v) => d.devices.extend(v),
                Err(e) => d.warnings.push(e.to_string()),
            }
        }
        d
    }

    /// Opens a device with exclusive access. `selector` is an index into
    /// [`devices`](Self::devices), a serial number, a user id, an address
    /// as listed (`virtual://0`, `usbip://host:port/busid`,
    /// `usb://bus-address`), or empty for the first device.
    ///
    /// A virtual camera that disconnected comes back once every handle on
    /// it is dropped: open it again by the same selector ("reopen").
    pub fn open(&self, selector: &str) -> Result<Camera> {
        let sel = selector.trim();
        if sel.starts_with("usbip://") {
            let (server, busid) = parse_usbip_url(sel)?;
            return self.open_usbip(&server, &busid, None);
        }
        let listing = self.devices();
        let devices = &listing.devices;
        let found = if sel.is_empty() {
            devices.first()
        } else if let Ok(i) = sel.parse::<usize>() {
            devices.get(i)
        } else {
            devices
                .iter()
                .find(|d| d.serial == sel || d.transport.to_string() == sel)
                .or_else(|| {
                    devices
                        .iter()
                        .find(|d| !d.user_id.is_empty() && d.user_id == sel)
                })
        };
        let Some(info) = found else {
            return Err(Error::NoDevice {
                selector: if sel.is_empty() {
                    "the first device".into()
                } else {
                    sel.into()
                },
                count: devices.len(),
            });
        };
        self.open_device(info)
    }

    /// Opens a listed device.
    pub fn open_device(&self, info: &DeviceInfo) -> Result<Camera> {
        match &info.transport {
            Transport::Virtual(i) => {
                let cam = self.virtual_camera(*i).ok_or_else(|| Error::NoDevice {
                    selector: info.transport.to_string(),
                    count: 0,
                })?;
                let fresh = virtual_info(*i, &cam);
                if fresh.access == Access::Disconnected {
                    return Err(Error::Disconnected { device: fresh.id() });
                }
                let link = cam.connect().map_err(|e| match e {
                    camera::CameraError::InUse(_) => Error::InUse { device: fresh.id() },
                    other => Error::VirtualCamera(other.to_string()),
                })?;
                Camera::connect(fresh, self.wrap(link), Some(cam), true)
            }
            Transport::UsbIp { server, busid } => {
                self.open_usbip(server, busid, Some(info.clone()))
            }
            Transport::Usb { .. } => crate::usb::open(info),
        }
    }

    fn open_usbip(&self, server: &str, busid: &str, info: Option<DeviceInfo>) -> Result<Camera> {
        let addr = resolve(server)?;
        let url = format!("usbip://{server}/{busid}");
        let deadline = Instant::now() + USBIP_BUSY_GRACE;
        let link = loop {
            match Client::import(addr, busid) {
                Ok(l) => break l,
                Err(ClientError::Refused(st)) if st == usbip::op::ST_DEV_BUSY => {
                    if Instant::now() >= deadline {
                        return Err(Error::InUse {
                            device: info.map(|i| i.id()).unwrap_or(url),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(ClientError::Refused(st)) if st == usbip::op::ST_NODEV => {
                    return Err(Error::NoDevice {
                        selector: url,
                        count: 0,
                    })
                }
                Err(e) => return Err(unreachable(server, e)),
            }
        };
        let speed = speed_text(link.device_info().speed);
        let link: Arc<dyn UsbLink> = Arc::new(link);
        let info = match info {
            Some(i) => i,
            None => {
                let id = read_identity(link.clone()).unwrap_or_default();
                lock(&self.known).insert(url.clone(), id.clone());
                let (vendor, model, serial, user_id) = id;
                DeviceInfo {
                    vendor,
                    model,
                    serial,
                    user_id,
                    transport: Transport::UsbIp {
                        server: server.into(),
                        busid: busid.into(),
                    },
                    link_speed: speed,
                    access: Access::InUse,
                }
            }
        };
        Camera::connect(info, self.wrap(link), None, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usbip_urls_parse_with_a_default_port() {
        assert_eq!(
            parse_usbip_url("usbip://127.0.0.1:4000/1-2").unwrap(),
            ("127.0.0.1:4000".to_string(), "1-2".to_string())
        );
        assert_eq!(
            parse_usbip_url("usbip://localhost/1-1").unwrap(),
            ("localhost:3240".to_string(), "1-1".to_string())
        );
        for bad in [
            "usbip://",
            "usbip://host",
            "usbip:///1-1",
            "usbip://h:1/",
            "tcp://h/1-1",
        ] {
            assert!(
                matches!(parse_usbip_url(bad), Err(Error::BadAddress(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn serials_count_per_model() {
        assert_eq!(
            serials(&[Model::Color5MP, Model::Mono5MP, Model::Color5MP]),
            vec!["MV500C0001", "MV500M0001", "MV500C0002"]
        );
    }
}
