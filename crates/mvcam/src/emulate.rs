//! Serving virtual cameras over USB/IP, for `mvcam emulate` and for
//! testing hosts against a camera in another process.

use std::net::SocketAddr;

use camera::{ClockMode, Model};
use usbip::server::{Server, ServerHandle};

use crate::error::{Error, Result};
use crate::system::{power_up, serials};

/// What to serve.
#[derive(Debug, Clone, PartialEq)]
pub struct EmulatorOptions {
    /// The cameras (default: one colour 5 MP camera).
    pub models: Vec<Model>,
    /// Serial numbers, in the order of `models`; missing ones get the
    /// model's default serials.
    pub serials: Vec<String>,
    /// Where to listen (default `127.0.0.1:3240`; port 0 picks a free
    /// one). USB/IP has no authentication: bind to loopback unless the
    /// network is trusted.
    pub address: String,
    /// The cameras' clock.
    pub clock: ClockMode,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            models: vec![Model::Color5MP],
            serials: Vec::new(),
            address: format!("127.0.0.1:{}", usbip::USBIP_PORT),
            clock: ClockMode::WallTime,
        }
    }
}

/// One served camera.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatedDevice {
    /// Its bus id on the server.
    pub busid: String,
    /// Its serial number.
    pub serial: String,
    /// Its address for [`System::open`](crate::System::open).
    pub url: String,
}

/// Running virtual cameras served over USB/IP; dropping it (or
/// [`stop`](Self::stop)) stops the server and powers them off.
pub struct Emulator {
    server: Option<ServerHandle>,
    devices: Vec<EmulatedDevice>,
    _cameras: Vec<camera::Camera>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("devices", &self.devices)
            .finish_non_exhaustive()
    }
}

/// Powers up the cameras and serves them until the returned handle stops.
pub fn emulate(options: &EmulatorOptions) -> Result<Emulator> {
    if options.models.is_empty() {
        return Err(Error::InvalidArgument("no camera to emulate".into()));
    }
    let mut server = Server::bind(options.address.as_str()).map_err(|e| Error::Unreachable {
        address: options.address.clone(),
        reason: format!("cannot listen: {e}"),
    })?;
    let addr = server
        .local_addr()
        .map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let defaults = serials(&options.models);
    let mut cameras = Vec::new();
    let mut devices = Vec::new();
    for (i, model) in options.models.iter().enumerate() {
        let serial = options
            .serials
            .get(i)
            .cloned()
            .unwrap_or_else(|| defaults.get(i).cloned().unwrap_or_default());
        let cam = power_up(*model, serial.clone(), options.clock, None)?;
        let busid = server
            .export(cam.device())
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        devices.push(EmulatedDevice {
            url: format!("usbip://{addr}/{busid}"),
            busid,
            serial,
        });
        cameras.push(cam);
    }
    let server = server
        .spawn()
        .map_err(|e| Error::InvalidArgument(e.to_string()))?;
    Ok(Emulator {
        server: Some(server),
        devices,
        _cameras: cameras,
    })
}

impl Emulator {
    /// The address the server listens on.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(ServerHandle::local_addr)
    }

    /// The served cameras.
    pub fn devices(&self) -> &[EmulatedDevice] {
        &self.devices
    }

    /// Stops serving and powers the cameras off.
    pub fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop();
        }
    }
}
