//! Register access and the device-file fetch through the manifest, over
//! USB/IP on loopback: the host's control channel on the client's
//! `UsbLink`, the device's GenCP server behind the server.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use sha1::{Digest, Sha1};
use u3v::bootstrap::{abrm, sbrm};
use u3v::control_channel::{fetch_device_file, ChannelConfig, ControlChannel, ControlError};
use u3v::control_server::{ControlPipe, ControlServer, RegisterSpace, ServerConfig};
use u3v::descriptor::{DeviceDescriptors, DeviceIdentity};
use u3v::gencp::Status;
use u3v::link::{DeviceError, SetupPacket, UsbDevice, UsbLink};
use u3v::manifest::{FileFormat, FileInfo, FileVersion, Manifest, ManifestEntry};
use usbip::client::Client;
use usbip::server::Server;

const SBRM_AT: u64 = 0x1000;
const MANIFEST_AT: u64 = 0x2000;
const SCRATCH: std::ops::Range<u64> = 0x8000..0xC000;
const FILE_AT: u64 = 0x10000;
const MAX_CMD: u32 = 532;
const MAX_ACK: u32 = 524;

struct Registers(Mutex<Vec<u8>>);

impl RegisterSpace for Registers {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), Status> {
        let m = self.0.lock().map_err(|_| Status::ERROR)?;
        let src = usize::try_from(address)
            .ok()
            .and_then(|a| m.get(a..a.checked_add(buf.len())?))
            .ok_or(Status::INVALID_ADDRESS)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn write(&self, address: u64, data: &[u8]) -> Result<(), Status> {
        let end = address
            .checked_add(data.len() as u64)
            .ok_or(Status::INVALID_ADDRESS)?;
        if address < SCRATCH.start || end > SCRATCH.end {
            return Err(Status::WRITE_PROTECT);
        }
        let mut m = self.0.lock().map_err(|_| Status::ERROR)?;
        m[address as usize..end as usize].copy_from_slice(data);
        Ok(())
    }
}

struct Camera {
    descriptors: DeviceDescriptors,
    control: ControlPipe<Registers>,
}

impl UsbDevice for Camera {
    fn control_in(&self, setup: &SetupPacket, buf: &mut [u8]) -> Result<usize, DeviceError> {
        let d = self
            .descriptors
            .get_descriptor((setup.value >> 8) as u8, setup.value as u8)
            .ok_or(DeviceError::Stall)?;
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        Ok(n)
    }
    fn control_out(&self, _: &SetupPacket, _: &[u8]) -> Result<(), DeviceError> {
        Ok(())
    }
    fn bulk_out(&self, endpoint: u8, data: &[u8]) -> Result<(), DeviceError> {
        match endpoint {
            0x01 => self.control.bulk_out(data),
            _ => Err(DeviceError::NoEndpoint),
        }
    }
    fn bulk_in(
        &self,
        endpoint: u8,
        buf: &mut [u8],
        deadline: Instant,
    ) -> Result<usize, DeviceError> {
        match endpoint {
            0x81 => self.control.bulk_in(buf, deadline),
            _ => Err(DeviceError::NoEndpoint),
        }
    }
    fn clear_halt(&self, _: u8) -> Result<(), DeviceError> {
        Ok(())
    }
}

/// A device description of a few kilobytes, so that fetching it takes many
/// reads at the device's ack limit.
fn description() -> Vec<u8> {
    let mut xml =
        String::from("<?xml version=\"1.0\"?>\n<RegisterDescription ModelName=\"Cam\">\n");
    for i in 0..200 {
        xml.push_str(&format!(
            "  <Integer Name=\"F{i}\"><Value>{i}</Value></Integer>\n"
        ));
    }
    xml.push_str("</RegisterDescription>\n");
    xml.into_bytes()
}

fn serve() -> (usbip::server::ServerHandle, String) {
    let file = description();
    let mut m = vec![0u8; FILE_AT as usize + file.len()];
    let mut put = |at: u64, b: &[u8]| m[at as usize..at as usize + b.len()].copy_from_slice(b);
    put(abrm::MAX_DEVICE_RESPONSE_TIME, &50u32.to_le_bytes());
    put(abrm::MANIFEST_TABLE_ADDRESS, &MANIFEST_AT.to_le_bytes());
    put(abrm::SBRM_ADDRESS, &SBRM_AT.to_le_bytes());
    put(
        SBRM_AT + sbrm::MAX_CMD_TRANSFER_LENGTH,
        &MAX_CMD.to_le_bytes(),
    );
    put(
        SBRM_AT + sbrm::MAX_ACK_TRANSFER_LENGTH,
        &MAX_ACK.to_le_bytes(),
    );
    let manifest = Manifest {
        entries: vec![ManifestEntry {
            file_version: FileVersion {
                major: 1,
                minor: 2,
                subminor: 3,
            },
            file_info: FileInfo::new(FileInfo::TYPE_DEVICE_XML, FileFormat::Plain, 1, 1),
            address: FILE_AT,
            size: file.len() as u64,
            sha1: Sha1::digest(&file).into(),
        }],
    };
    let mut table = Vec::new();
    manifest.encode(&mut table).unwrap();
    put(MANIFEST_AT, &table);
    put(FILE_AT, &file);
    let config = ServerConfig {
        max_cmd_len: MAX_CMD,
        max_ack_len: MAX_ACK,
        ..ServerConfig::default()
    }
    .with_response_time(50);
    let id = DeviceIdentity::new(0x1234, 0x5678, "Acme", "Cam", "SN9");
    let cam = Arc::new(Camera {
        descriptors: DeviceDescriptors::new(&id).unwrap(),
        control: ControlPipe::new(ControlServer::new(Registers(Mutex::new(m)), config)),
    });
    let mut server = Server::bind("127.0.0.1:0").unwrap();
    let busid = server.export(cam).unwrap();
    (server.spawn().unwrap(), busid)
}

#[test]
fn registers_and_the_device_file_over_usbip() {
    let (handle, busid) = serve();
    let link: Arc<dyn UsbLink> = Arc::new(Client::import(handle.local_addr(), &busid).unwrap());
    let ch = ControlChannel::open(link, ChannelConfig::default()).unwrap();
    assert_eq!(ch.limits().max_ack_len, MAX_ACK);
    // Every size from 1 to beyond two ack payloads, at unaligned addresses.
    for len in (1..=1100).step_by(37).chain([511, 512, 513, 1024, 1025]) {
        let at = SCRATCH.start + 3 + (len as u64 % 13);
        let data: Vec<u8> = (0..len).map(|i| (i * 5 + len) as u8).collect();
        ch.write(at, &data).unwrap();
        let mut back = vec![0u8; len];
        ch.read(at, &mut back).unwrap();
        assert_eq!(back, data, "{len} bytes");
    }
    assert!(matches!(
        ch.write(0x100, &[1]),
        Err(ControlError::Status {
            status: Status::WRITE_PROTECT,
            address: 0x100
        })
    ));
    let file = fetch_device_file(&ch).unwrap();
    assert_eq!(file.bytes, description());
    assert!(file.sha1_verified);
    assert!(!file.is_zip);
    assert_eq!(file.url.address, FILE_AT);
    handle.stop();
}
