//! The camera's register space: the bootstrap registers (ABRM, SBRM, SIRM,
//! EIRM), the manifest and the zipped GenICam file, and the feature
//! registers of the table.
//!
//! | address | what |
//! |---|---|
//! | 0x0000 | ABRM |
//! | 0x1000 | SBRM |
//! | 0x2000 | SIRM (the stream sender's registers) |
//! | 0x3000 | EIRM (the event sender's registers) |
//! | 0x4000 | manifest table |
//! | 0x1_0000 | the GenICam file, zipped |
//! | 0x10_0000 … | feature registers ([`FEATURE_BASE`](crate::features::FEATURE_BASE)) |

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use sha1::{Digest, Sha1};
use u3v::bootstrap::{
    abrm, eirm, sirm, Abrm, DeviceCapability, DeviceConfiguration, Sbrm, U3vcpCapability,
};
use u3v::control_server::RegisterSpace;
use u3v::gencp::Status;
use u3v::manifest::{FileFormat, FileInfo, FileVersion, Manifest, ManifestEntry};

use super::Core;
use crate::features::{Value, FEATURE_BASE, FEATURE_END};

/// SBRM address.
pub const SBRM_ADDRESS: u64 = 0x1000;
/// SIRM address.
pub const SIRM_ADDRESS: u64 = 0x2000;
/// EIRM address.
pub const EIRM_ADDRESS: u64 = 0x3000;
/// Manifest table address.
pub const MANIFEST_ADDRESS: u64 = 0x4000;
/// Address of the zipped GenICam file.
pub const XML_ADDRESS: u64 = 0x1_0000;
/// Longest command the camera takes (MaxCmdTransferLength).
pub const MAX_CMD_LEN: u32 = 1024 + 8;
/// Longest acknowledge it sends (MaxAckTransferLength).
pub const MAX_ACK_LEN: u32 = 1024;
/// Maximum device response time, ms.
pub const MAX_RESPONSE_MS: u32 = 200;

/// The register space of one camera.
pub struct CameraRegisters {
    core: Arc<Core>,
    /// ABRM then SBRM then manifest bytes, fixed at power-up except for the
    /// live fields served separately.
    abrm: Vec<u8>,
    sbrm: Vec<u8>,
    manifest: Vec<u8>,
    xml_zip: Vec<u8>,
}

/// The GenICam file zipped, as the manifest serves it.
fn zip_xml(name: &str, xml: &str) -> Result<Vec<u8>, std::io::Error> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file(name, opts).map_err(std::io::Error::other)?;
        z.write_all(xml.as_bytes())?;
        z.finish().map_err(std::io::Error::other)?;
    }
    Ok(buf.into_inner())
}

impl CameraRegisters {
    /// The registers of `core`, serving `xml`.
    pub fn new(core: Arc<Core>, xml: &str) -> Result<CameraRegisters, std::io::Error> {
        let spec = &core.spec;
        let file_name = format!("{}_{}.xml", crate::model::VENDOR_NAME, spec.model_name);
        let xml_zip = zip_xml(&file_name, xml)?;
        let user_id = core.lock().string("DeviceUserID");
        let a = Abrm {
            gencp_version: 1 << 16,
            manufacturer_name: crate::model::VENDOR_NAME.into(),
            model_name: spec.model_name.into(),
            family_name: spec.family_name.into(),
            device_version: crate::model::FIRMWARE_VERSION.into(),
            manufacturer_info: crate::model::MANUFACTURER_INFO.into(),
            serial_number: core.serial.clone(),
            user_defined_name: user_id,
            device_capability: DeviceCapability(
                DeviceCapability::USER_DEFINED_NAME
                    | DeviceCapability::FAMILY_NAME
                    | DeviceCapability::STACKED_COMMANDS,
            ),
            max_device_response_time_ms: MAX_RESPONSE_MS,
            manifest_table_address: MANIFEST_ADDRESS,
            sbrm_address: SBRM_ADDRESS,
            device_configuration: DeviceConfiguration(0),
            heartbeat_timeout: 3000,
            message_channel_id: 0,
            timestamp: 0,
            timestamp_latch: 0,
            timestamp_increment: 1,
            access_privilege: 0,
            protocol_endianness: 0xFFFF_FFFF,
            implementation_endianness: 0xFFFF_FFFF,
            device_software_interface_version: String::new(),
        };
        let mut abrm = Vec::new();
        a.encode(&mut abrm).map_err(std::io::Error::other)?;
        let s = Sbrm {
            u3v_version: 1 << 16,
            u3vcp_capability: U3vcpCapability(
                U3vcpCapability::SIRM_AVAILABLE | U3vcpCapability::EIRM_AVAILABLE,
            ),
            u3vcp_configuration: 0,
            max_cmd_transfer_length: MAX_CMD_LEN,
            max_ack_transfer_length: MAX_ACK_LEN,
            num_stream_channels: 1,
            sirm_address: SIRM_ADDRESS,
            sirm_length: sirm::LEN as u32,
            eirm_address: EIRM_ADDRESS,
            eirm_length: eirm::LEN as u32,
            iidc2_address: 0,
            current_speed: 0b1000, // SuperSpeed
        };
        let mut sbrm = Vec::new();
        s.encode(&mut sbrm).map_err(std::io::Error::other)?;
        let manifest = Manifest {
            entries: vec![ManifestEntry {
                file_version: FileVersion {
                    major: 1,
                    minor: 0,
                    subminor: 0,
                },
                file_info: FileInfo::new(FileInfo::TYPE_DEVICE_XML, FileFormat::Zip, 1, 1),
                address: XML_ADDRESS,
                size: xml_zip.len() as u64,
                sha1: Sha1::digest(&xml_zip).into(),
            }],
        };
        let mut table = Vec::new();
        manifest.encode(&mut table).map_err(std::io::Error::other)?;
        Ok(CameraRegisters {
            core,
            abrm,
            sbrm,
            manifest: table,
            xml_zip,
        })
    }

    /// The zipped GenICam file.
    pub fn xml_zip(&self) -> &[u8] {
        &self.xml_zip
    }
}

/// Copies `buf.len()` bytes at `offset` of `block`.
fn copy_from(block: &[u8], offset: u64, buf: &mut [u8]) -> Result<(), Status> {
    let start = usize::try_from(offset).map_err(|_| Status::INVALID_ADDRESS)?;
    let src = start
        .checked_add(buf.len())
        .and_then(|end| block.get(start..end))
        .ok_or(Status::INVALID_ADDRESS)?;
    buf.copy_from_slice(src);
    Ok(())
}

fn within(address: u64, len: usize, base: u64, size: u64) -> Option<u64> {
    let off = address.checked_sub(base)?;
    (off.checked_add(len as u64)? <= size).then_some(off)
}

impl RegisterSpace for CameraRegisters {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), Status> {
        if let Some(off) = within(address, buf.len(), 0, abrm::LEN as u64) {
            copy_from(&self.abrm, off, buf)?;
            // Live fields: the user-defined name and the timestamp.
            let st = self.core.lock();
            let mut live = self.abrm.clone();
            let name = st.string("DeviceUserID");
            if let Some(dst) = live
                .get_mut(abrm::USER_DEFINED_NAME as usize..abrm::USER_DEFINED_NAME as usize + 64)
            {
                dst.fill(0);
                let n = name.len().min(63);
                dst[..n].copy_from_slice(&name.as_bytes()[..n]);
            }
            let ts = st.clock.timestamp(st.clock.now_ns());
            if let Some(dst) = live.get_mut(abrm::TIMESTAMP as usize..abrm::TIMESTAMP as usize + 8)
            {
                dst.copy_from_slice(&ts.to_le_bytes());
            }
            return copy_from(&live, off, buf);
        }
        if let Some(off) = within(address, buf.len(), SBRM_ADDRESS, self.sbrm.len() as u64) {
            return copy_from(&self.sbrm, off, buf);
        }
        if let Some(off) = within(address, buf.len(), SIRM_ADDRESS, sirm::LEN as u64) {
            return self.core.stream.read_register(off, buf);
        }
        if let Some(off) = within(address, buf.len(), EIRM_ADDRESS, eirm::LEN as u64) {
            return self.core.events.read_register(off, buf);
        }
        if let Some(off) = within(
            address,
            buf.len(),
            MANIFEST_ADDRESS,
            self.manifest.len() as u64,
        ) {
            return copy_from(&self.manifest, off, buf);
        }
        if let Some(off) = within(address, buf.len(), XML_ADDRESS, self.xml_zip.len() as u64) {
            return copy_from(&self.xml_zip, off, buf);
        }
        if (FEATURE_BASE..FEATURE_END).contains(&address) {
            return self.core.table.read(self.core.as_ref(), address, buf);
        }
        Err(Status::INVALID_ADDRESS)
    }

    fn write(&self, address: u64, data: &[u8]) -> Result<(), Status> {
        if address == abrm::USER_DEFINED_NAME && data.len() <= 64 {
            let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
            let s = std::str::from_utf8(&data[..end]).map_err(|_| Status::INVALID_PARAMETER)?;
            let id = self.core.table.id("DeviceUserID").ok_or(Status::ERROR)?;
            if s.len() >= 16 {
                return Err(Status::INVALID_PARAMETER);
            }
            return crate::features::Backend::set(self.core.as_ref(), id, 0, Value::Str(s.into()));
        }
        if address == abrm::DEVICE_CONFIGURATION && data.len() == 8 {
            let v = u64::from_le_bytes(data.try_into().map_err(|_| Status::INVALID_PARAMETER)?);
            self.core
                .events
                .set_multi_event(DeviceConfiguration(v).multi_event_enabled());
            return Ok(());
        }
        if matches!(address, abrm::HEARTBEAT_TIMEOUT | abrm::TIMESTAMP_LATCH) && data.len() == 4 {
            return Ok(());
        }
        if within(address, data.len(), 0, abrm::LEN as u64).is_some()
            || within(address, data.len(), SBRM_ADDRESS, self.sbrm.len() as u64).is_some()
            || within(
                address,
                data.len(),
                MANIFEST_ADDRESS,
                self.manifest.len() as u64,
            )
            .is_some()
            || within(address, data.len(), XML_ADDRESS, self.xml_zip.len() as u64).is_some()
        {
            return Err(Status::WRITE_PROTECT);
        }
        if let Some(off) = within(address, data.len(), SIRM_ADDRESS, sirm::LEN as u64) {
            return self.core.stream.write_register(off, data);
        }
        if let Some(off) = within(address, data.len(), EIRM_ADDRESS, eirm::LEN as u64) {
            return self.core.events.write_register(off, data);
        }
        if (FEATURE_BASE..FEATURE_END).contains(&address) {
            return self.core.table.write(self.core.as_ref(), address, data);
        }
        Err(Status::INVALID_ADDRESS)
    }

    fn duration_hint(&self, address: u64, _len: usize, write: bool) -> Duration {
        if !write || !(FEATURE_BASE..FEATURE_END).contains(&address) {
            return Duration::ZERO;
        }
        let slow = ["FFCCalibrate", "DefectPixelDetect"];
        let hit = slow
            .iter()
            .any(|n| self.core.table.def(n).is_some_and(|d| d.address == address));
        if hit {
            let frames = self.core.lock().int("FFCFrameCount").clamp(1, 64) as u32;
            super::calib::FRAME_TIME_HINT * frames
        } else {
            Duration::ZERO
        }
    }
}
