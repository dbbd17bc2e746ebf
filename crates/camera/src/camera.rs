//! [`Camera`]: a powered virtual camera, its USB device, and the in-process
//! cable a host plugs into it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use u3v::descriptor::DeviceIdentity;
use u3v::link::{InTransfer, LinkError, MemoryLink, SetupPacket, UsbDevice, UsbLink};

use crate::device::CameraDevice;
use crate::features::{generate_xml, XmlIdentity};
use crate::firmware::{CameraRegisters, ClockMode, Core, NvStore, StartError};
use crate::model::{Model, USB_VENDOR_ID, VENDOR_NAME};

/// How to build a camera.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraConfig {
    /// The model.
    pub model: Model,
    /// Serial number: seeds the sensor's fixed patterns and defects.
    pub serial: String,
    /// Directory of the non-volatile store (user sets, FFC, defects,
    /// DeviceUserID); `None` keeps them in memory only.
    pub store: Option<PathBuf>,
    /// The camera clock at power-up.
    pub clock: ClockMode,
}

impl CameraConfig {
    /// A camera of `model` with the model's first serial number, no store,
    /// on wall time.
    pub fn new(model: Model) -> CameraConfig {
        CameraConfig {
            model,
            serial: default_serial(model, 1),
            store: None,
            clock: ClockMode::WallTime,
        }
    }
}

/// The serial number of the `n`th camera of `model`, e.g. `MVC500C0001`.
pub fn default_serial(model: Model, n: u32) -> String {
    let code = match model {
        Model::Color5MP => "500C",
        Model::Mono5MP => "500M",
        Model::HighSpeed1_6MP => "160C",
    };
    format!("MV{code}{n:04}")
}

/// Why a camera could not be made or reached.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    /// The camera could not power up.
    #[error("camera {serial}: {source}")]
    Start {
        /// The camera.
        serial: String,
        /// Why.
        source: StartError,
    },
    /// The serial number cannot be used.
    #[error("serial number {0:?}: 1 to 63 printable ASCII characters expected")]
    Serial(String),
    /// The camera's descriptors or bootstrap registers could not be built.
    #[error("camera {serial}: {reason}")]
    Build {
        /// The camera.
        serial: String,
        /// Why.
        reason: String,
    },
    /// Another host holds the camera.
    #[error("camera {0} is in use by another host")]
    InUse(String),
}

/// A virtual camera, powered and running. Dropping it powers it off.
pub struct Camera {
    config: CameraConfig,
    core: Arc<Core>,
    device: Arc<CameraDevice>,
    registers: Arc<CameraRegisters>,
    xml: String,
    /// The plug-in generation of the cable that holds the camera, if any.
    claimed: Arc<Mutex<Option<u64>>>,
    engine: Option<JoinHandle<()>>,
}

impl Camera {
    /// Powers up a camera.
    pub fn new(config: CameraConfig) -> Result<Camera, CameraError> {
        let serial = config.serial.clone();
        if serial.is_empty() || serial.len() > 63 || !serial.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(CameraError::Serial(serial));
        }
        let spec = config.model.spec();
        let store = NvStore::new(config.store.clone());
        let core = Core::new(spec.clone(), &serial, store, config.clock).map_err(|source| {
            CameraError::Start {
                serial: serial.clone(),
                source,
            }
        })?;
        let core = Arc::new(core);
        let build = |reason: String| CameraError::Build {
            serial: serial.clone(),
            reason,
        };
        let xml = generate_xml(
            &core.table,
            &XmlIdentity {
                model_name: spec.model_name.into(),
                vendor_name: VENDOR_NAME.into(),
                version: (1, 0, 0),
                product_guid: format!("6d766361-6d00-4000-8000-{:012x}", spec.product_id),
                version_guid: format!("6d766361-6d00-4001-8000-{:012x}", spec.product_id),
            },
        );
        let registers =
            Arc::new(CameraRegisters::new(core.clone(), &xml).map_err(|e| build(e.to_string()))?);
        let mut identity = DeviceIdentity::new(
            USB_VENDOR_ID,
            spec.product_id,
            VENDOR_NAME,
            spec.model_name,
            &serial,
        );
        identity.family_name = spec.family_name.into();
        identity.device_version = crate::model::FIRMWARE_VERSION.into();
        identity.manufacturer_info = crate::model::MANUFACTURER_INFO.into();
        identity.user_defined_name = core.lock().string("DeviceUserID");
        let device = Arc::new(
            CameraDevice::new(core.clone(), registers.clone(), &identity)
                .map_err(|e| build(e.to_string()))?,
        );
        core.set_hooks(device.clone());
        let engine_core = core.clone();
        let engine = std::thread::Builder::new()
            .name(format!("camera {serial}"))
            .spawn(move || engine_core.run_engine())
            .map_err(|e| build(e.to_string()))?;
        Ok(Camera {
            config,
            core,
            device,
            registers,
            xml,
            claimed: Arc::new(Mutex::new(None)),
            engine: Some(engine),
        })
    }

    /// How the camera was made.
    pub fn config(&self) -> &CameraConfig {
        &self.config
    }

    /// The serial number.
    pub fn serial(&self) -> &str {
        &self.config.serial
    }

    /// DeviceUserID.
    pub fn user_id(&self) -> String {
        self.core.lock().string("DeviceUserID")
    }

    /// The GenICam description it serves.
    pub fn xml(&self) -> &str {
        &self.xml
    }

    /// The zipped GenICam file as the manifest serves it.
    pub fn xml_zip(&self) -> &[u8] {
        self.registers.xml_zip()
    }

    /// The USB device, for exporting it (e.g. over USB/IP).
    pub fn device(&self) -> Arc<dyn UsbDevice> {
        self.device.clone()
    }

    /// Whether a host holds the in-process cable.
    pub fn is_in_use(&self) -> bool {
        let claim = *self.claimed.lock().unwrap_or_else(|e| e.into_inner());
        claim == Some(self.device.generation()) && self.device.is_plugged()
    }

    /// Whether the camera is plugged in (not disconnected by
    /// SimulationDisconnect or DeviceReset).
    pub fn is_plugged(&self) -> bool {
        self.device.is_plugged()
    }

    /// Plugs the camera back in after SimulationDisconnect (a DeviceReset
    /// comes back by itself). Cables from before stay dead: a host
    /// connects again.
    pub fn plug_in(&self) {
        crate::firmware::DeviceHooks::plug_in(self.device.as_ref());
    }

    /// Plugs an in-process cable in: the host side's [`UsbLink`] to this
    /// camera. One host at a time, as on USB; the cable is released when
    /// the returned link is dropped.
    pub fn connect(&self) -> Result<Arc<dyn UsbLink>, CameraError> {
        let generation = self.device.generation();
        {
            // A cable from before an unplug is dead and holds nothing.
            let mut claim = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
            if *claim == Some(generation) {
                return Err(CameraError::InUse(self.config.serial.clone()));
            }
            *claim = Some(generation);
        }
        Ok(Arc::new(Cable {
            link: MemoryLink::new(self.device.clone()),
            claimed: self.claimed.clone(),
            device: self.device.clone(),
            generation,
        }))
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        self.core.shutdown();
        self.core.stream.disconnect();
        self.core.events.disconnect();
        if let Some(e) = self.engine.take() {
            let _ = e.join();
        }
    }
}

/// The in-process cable: a [`MemoryLink`] that frees the camera for the
/// next host when dropped.
struct Cable {
    link: MemoryLink,
    claimed: Arc<Mutex<Option<u64>>>,
    device: Arc<CameraDevice>,
    /// The device's plug-in count when the cable was plugged.
    generation: u64,
}

impl Cable {
    /// A cable into a camera that was unplugged since is dead for good.
    fn alive(&self) -> Result<(), LinkError> {
        if self.device.generation() == self.generation {
            Ok(())
        } else {
            Err(LinkError::Disconnected)
        }
    }
}

impl Drop for Cable {
    fn drop(&mut self) {
        let mut claim = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
        if *claim == Some(self.generation) {
            *claim = None;
        }
    }
}

impl UsbLink for Cable {
    fn control_in(
        &self,
        setup: SetupPacket,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, LinkError> {
        self.alive()?;
        self.link.control_in(setup, buf, timeout)
    }
    fn control_out(
        &self,
        setup: SetupPacket,
        data: &[u8],
        timeout: Duration,
    ) -> Result<(), LinkError> {
        self.alive()?;
        self.link.control_out(setup, data, timeout)
    }
    fn bulk_out(&self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<(), LinkError> {
        self.alive()?;
        self.link.bulk_out(endpoint, data, timeout)
    }
    fn bulk_in(&self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        self.alive()?;
        self.link.bulk_in(endpoint, buf, timeout)
    }
    fn submit_in(&self, endpoint: u8, buf: Vec<u8>) -> Result<(), LinkError> {
        self.alive()?;
        self.link.submit_in(endpoint, buf)
    }
    fn reap_in(&self, endpoint: u8, timeout: Duration) -> Result<InTransfer, LinkError> {
        self.alive()?;
        self.link.reap_in(endpoint, timeout)
    }
    fn cancel_in(&self, endpoint: u8) -> Vec<Vec<u8>> {
        self.link.cancel_in(endpoint)
    }
    fn clear_halt(&self, endpoint: u8) -> Result<(), LinkError> {
        self.alive()?;
        self.link.clear_halt(endpoint)
    }
}
