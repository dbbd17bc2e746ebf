//! The camera as a USB device: its descriptors and its three interfaces'
//! endpoints (control, event, stream), each served by the u3v crate's
//! device-side state machines.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use u3v::control_server::{ControlPipe, ControlServer, ServerConfig};
use u3v::descriptor::{DeviceDescriptors, DeviceIdentity};
use u3v::link::{DeviceError, SetupPacket, UsbDevice};

use crate::firmware::{CameraRegisters, Core, DeviceHooks};

/// GET_DESCRIPTOR.
const REQUEST_GET_DESCRIPTOR: u8 = 6;

/// The camera's USB face.
pub struct CameraDevice {
    descriptors: DeviceDescriptors,
    control: ControlPipe<Arc<CameraRegisters>>,
    core: Arc<Core>,
    plugged: AtomicBool,
    /// Counts plug-ins: a host's cable from an earlier plug-in is dead.
    generation: AtomicU64,
}

impl CameraDevice {
    /// The device of `core`, answering control commands from `registers`.
    pub fn new(
        core: Arc<Core>,
        registers: Arc<CameraRegisters>,
        identity: &DeviceIdentity,
    ) -> Result<CameraDevice, u3v::EncodeError> {
        use crate::firmware::registers::{MAX_ACK_LEN, MAX_CMD_LEN, MAX_RESPONSE_MS};
        let config = ServerConfig {
            max_cmd_len: MAX_CMD_LEN,
            max_ack_len: MAX_ACK_LEN,
            ..ServerConfig::default()
        }
        .with_response_time(MAX_RESPONSE_MS);
        Ok(CameraDevice {
            descriptors: DeviceDescriptors::new(identity)?,
            control: ControlPipe::new(ControlServer::new(registers, config)),
            core,
            plugged: AtomicBool::new(true),
            generation: AtomicU64::new(0),
        })
    }

    /// How many times the camera was plugged back in.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether the camera is plugged in.
    pub fn is_plugged(&self) -> bool {
        self.plugged.load(Ordering::Acquire)
    }

    fn check(&self) -> Result<(), DeviceError> {
        if self.is_plugged() {
            Ok(())
        } else {
            Err(DeviceError::Disconnected)
        }
    }

    /// The GenCP server's counters.
    pub fn control_stats(&self) -> u3v::control_server::ServerStats {
        self.control.server().stats()
    }
}

impl DeviceHooks for CameraDevice {
    fn disconnect(&self) {
        self.plugged.store(false, Ordering::Release);
        self.core.stream.disconnect();
        self.core.events.disconnect();
        self.control.clear();
    }

    fn plug_in(&self) {
        if self.is_plugged() {
            return;
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.control.clear();
        self.core.stream.reconnect();
        self.core.events.reconnect();
        self.plugged.store(true, Ordering::Release);
    }
}

impl UsbDevice for CameraDevice {
    fn control_in(&self, setup: &SetupPacket, buf: &mut [u8]) -> Result<usize, DeviceError> {
        self.check()?;
        if setup.request != REQUEST_GET_DESCRIPTOR {
            return Err(DeviceError::Stall);
        }
        let d = self
            .descriptors
            .get_descriptor((setup.value >> 8) as u8, setup.value as u8)
            .ok_or(DeviceError::Stall)?;
        let n = d.len().min(buf.len()).min(usize::from(setup.length));
        buf[..n].copy_from_slice(&d[..n]);
        Ok(n)
    }

    fn control_out(&self, _setup: &SetupPacket, _data: &[u8]) -> Result<(), DeviceError> {
        // SET_CONFIGURATION, SET_INTERFACE and the like: one configuration,
        // nothing to change.
        self.check()
    }

    fn bulk_out(&self, endpoint: u8, data: &[u8]) -> Result<(), DeviceError> {
        self.check()?;
        match endpoint {
            DeviceDescriptors::CONTROL_OUT_EP => self.control.bulk_out(data),
            _ => Err(DeviceError::NoEndpoint),
        }
    }

    fn bulk_in(
        &self,
        endpoint: u8,
        buf: &mut [u8],
        deadline: Instant,
    ) -> Result<usize, DeviceError> {
        self.check()?;
        match endpoint {
            DeviceDescriptors::CONTROL_IN_EP => self.control.bulk_in(buf, deadline),
            DeviceDescriptors::EVENT_IN_EP => self.core.events.bulk_in(buf, deadline),
            DeviceDescriptors::STREAM_IN_EP => self.core.stream.bulk_in(buf, deadline),
            _ => Err(DeviceError::NoEndpoint),
        }
    }

    fn clear_halt(&self, endpoint: u8) -> Result<(), DeviceError> {
        self.check()?;
        match endpoint {
            DeviceDescriptors::CONTROL_IN_EP => {
                self.control.clear();
                Ok(())
            }
            DeviceDescriptors::CONTROL_OUT_EP => Ok(()),
            DeviceDescriptors::EVENT_IN_EP => self.core.events.clear_halt(),
            DeviceDescriptors::STREAM_IN_EP => self.core.stream.clear_halt(),
            _ => Err(DeviceError::NoEndpoint),
        }
    }
}
