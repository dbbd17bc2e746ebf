//! USB3 Vision cameras on this machine's USB bus, found through `nusb` and
//! recognised by the USB3 Vision class codes of their configuration
//! descriptor.

use std::time::Duration;

use u3v::descriptor::{CLASS_MISC, SUBCLASS_U3V};
use u3v::U3vConfiguration;

use crate::error::{Error, Result};
use crate::system::{Access, DeviceInfo, Transport};

/// GET_DESCRIPTOR type of a configuration descriptor.
const CONFIGURATION_DESCRIPTOR: u8 = 2;

/// The USB3 Vision interfaces of a configuration descriptor blob, if it
/// has a USB3 Vision control interface (class 0xEF, subclass 0x05,
/// protocol 0) with bulk IN and OUT endpoints.
pub fn u3v_configuration(blob: &[u8]) -> Option<U3vConfiguration> {
    let c = u3v::parse_configuration(blob).ok()?;
    (c.control.bulk_in.is_bulk() && c.control.bulk_out.is_bulk()).then_some(c)
}

/// Whether a device's interface list (class, subclass) names a USB3 Vision
/// interface: a cheap first filter before reading descriptors.
pub fn has_u3v_interface(interfaces: impl IntoIterator<Item = (u8, u8)>) -> bool {
    interfaces
        .into_iter()
        .any(|(class, subclass)| class == CLASS_MISC && subclass == SUBCLASS_U3V)
}

fn speed_text(s: Option<nusb::Speed>) -> String {
    match s {
        Some(nusb::Speed::Low) => "LowSpeed (1.5 Mbit/s)",
        Some(nusb::Speed::Full) => "FullSpeed (12 Mbit/s)",
        Some(nusb::Speed::High) => "HighSpeed (480 Mbit/s)",
        Some(nusb::Speed::Super) => "SuperSpeed (5 Gbit/s)",
        Some(nusb::Speed::SuperPlus) => "SuperSpeedPlus (10 Gbit/s)",
        _ => "unknown",
    }
    .to_string()
}

/// The USB3 Vision cameras on the bus.
pub(crate) fn list() -> Result<Vec<DeviceInfo>> {
    let devices = match nusb::list_devices() {
        Ok(d) => d,
        // No USB subsystem (a container, a sandbox): nothing to list.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::Usb(format!("cannot list USB devices: {e}"))),
    };
    let mut out = Vec::new();
    for d in devices {
        if !has_u3v_interface(d.interfaces().map(|i| (i.class(), i.subclass()))) {
            continue;
        }
        let mut access = Access::Available;
        match d.open() {
            Ok(dev) => {
                let blob =
                    dev.get_descriptor(CONFIGURATION_DESCRIPTOR, 0, 0, Duration::from_millis(500));
                match blob {
                    Ok(b) if u3v_configuration(&b).is_none() => continue,
                    Ok(_) => {}
                    Err(e) => access = Access::Unknown(e.to_string()),
                }
            }
            Err(e) => access = Access::Unknown(e.to_string()),
        }
        out.push(DeviceInfo {
            vendor: d.manufacturer_string().unwrap_or_default().to_string(),
            model: d.product_string().unwrap_or_default().to_string(),
            serial: d.serial_number().unwrap_or_default().to_string(),
            user_id: String::new(),
            transport: Transport::Usb {
                bus: d.bus_number(),
                address: d.device_address(),
            },
            link_speed: speed_text(d.speed()),
            access,
        });
    }
    Ok(out)
}

/// Opens a camera on the USB bus.
pub(crate) fn open(info: &DeviceInfo) -> Result<crate::Camera> {
    Err(Error::Usb(format!(
        "{}: streaming from USB devices is not available in this build; export the camera over USB/IP instead",
        info.id()
    )))
}
