//! The host's control channel against the device's GenCP server, joined by
//! the in-memory link: the two halves of the protocol agree.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use u3v::bootstrap::{abrm, sbrm};
use u3v::control_channel::{ChannelConfig, ControlChannel, ControlError};
use u3v::control_server::{ControlPipe, ControlServer, RegisterSpace, ServerConfig};
use u3v::gencp::Status;
use u3v::link::{DeviceError, MemoryLink, SetupPacket, UsbDevice};

const SBRM_AT: u64 = 0x1000;
const READ_ONLY: std::ops::Range<u64> = 0x2000..0x2100;
const SLOW: u64 = 0x3000;
const SIZE: usize = 0x10000;
const RESPONSE_MS: u32 = 40;

/// Registers with an ABRM and SBRM describing the server's limits, a
/// write-protected block and a register that takes 200 ms to write.
struct Registers(Mutex<Vec<u8>>);

impl Registers {
    fn new(max_cmd: u32, max_ack: u32) -> Self {
        let mut m = vec![0u8; SIZE];
        let mut put = |at: u64, bytes: &[u8]| {
            m[at as usize..at as usize + bytes.len()].copy_from_slice(bytes)
        };
        put(abrm::MAX_DEVICE_RESPONSE_TIME, &RESPONSE_MS.to_le_bytes());
        put(abrm::SBRM_ADDRESS, &SBRM_AT.to_le_bytes());
        put(
            SBRM_AT + sbrm::MAX_CMD_TRANSFER_LENGTH,
            &max_cmd.to_le_bytes(),
        );
        put(
            SBRM_AT + sbrm::MAX_ACK_TRANSFER_LENGTH,
            &max_ack.to_le_bytes(),
        );
        Registers(Mutex::new(m))
    }
}

impl RegisterSpace for Registers {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), Status> {
        let m = self.0.lock().unwrap();
        let src = usize::try_from(address)
            .ok()
            .and_then(|a| m.get(a..a.checked_add(buf.len())?))
            .ok_or(Status::INVALID_ADDRESS)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn write(&self, address: u64, data: &[u8]) -> Result<(), Status> {
        if READ_ONLY.contains(&address) {
            return Err(Status::WRITE_PROTECT);
        }
        if address == SLOW {
            std::thread::sleep(Duration::from_millis(200));
        }
        let mut m = self.0.lock().unwrap();
        let dst = usize::try_from(address)
            .ok()
            .and_then(|a| m.get_mut(a..a.checked_add(data.len())?))
            .ok_or(Status::INVALID_ADDRESS)?;
        dst.copy_from_slice(data);
        Ok(())
    }
    fn duration_hint(&self, address: u64, _len: usize, write: bool) -> Duration {
        if write && address == SLOW {
            Duration::from_millis(200)
        } else {
            Duration::ZERO
        }
    }
}

/// The control interface of a device: OUT 0x01, IN 0x81.
struct Device(ControlPipe<Registers>);

impl UsbDevice for Device {
    fn control_in(&self, _: &SetupPacket, _: &mut [u8]) -> Result<usize, DeviceError> {
        Err(DeviceError::Stall)
    }
    fn control_out(&self, _: &SetupPacket, _: &[u8]) -> Result<(), DeviceError> {
        Err(DeviceError::Stall)
    }
    fn bulk_out(&self, endpoint: u8, data: &[u8]) -> Result<(), DeviceError> {
        match endpoint {
            0x01 => self.0.bulk_out(data),
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
            0x81 => self.0.bulk_in(buf, deadline),
            _ => Err(DeviceError::NoEndpoint),
        }
    }
    fn clear_halt(&self, _: u8) -> Result<(), DeviceError> {
        Ok(())
    }
}

fn connect(max_cmd: u32, max_ack: u32) -> ControlChannel {
    let config = ServerConfig {
        max_cmd_len: max_cmd,
        max_ack_len: max_ack,
        ..ServerConfig::default()
    }
    .with_response_time(RESPONSE_MS);
    let server = ControlServer::new(Registers::new(max_cmd, max_ack), config);
    let device = Arc::new(Device(ControlPipe::new(server)));
    ControlChannel::open(Arc::new(MemoryLink::new(device)), ChannelConfig::default()).unwrap()
}

#[test]
fn the_host_adopts_the_device_limits_and_moves_data_of_every_size() {
    for (cmd, ack) in [(1032, 1024), (100, 300), (300, 64)] {
        let ch = connect(cmd, ack);
        assert_eq!(ch.limits().max_cmd_len, cmd);
        assert_eq!(ch.limits().max_ack_len, ack);
        for len in [1usize, 7, 51, 52, 53, 500, 1013, 2500] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            let at = 0x4003 + len as u64;
            ch.write(at, &data).unwrap();
            let mut back = vec![0u8; len];
            ch.read(at, &mut back).unwrap();
            assert_eq!(back, data, "{len} bytes with limits {cmd}/{ack}");
        }
    }
}

#[test]
fn device_refusals_and_slow_writes_reach_the_host() {
    let ch = connect(1032, 1024);
    assert!(matches!(
        ch.write(READ_ONLY.start, &[1, 2, 3, 4]),
        Err(ControlError::Status { status: Status::WRITE_PROTECT, address }) if address == READ_ONLY.start
    ));
    let mut buf = [0u8; 8];
    assert!(matches!(
        ch.read(SIZE as u64 - 4, &mut buf),
        Err(ControlError::Status {
            status: Status::INVALID_ADDRESS,
            ..
        })
    ));
    // 200 ms is far beyond the 40 ms response time: the device's
    // PENDING_ACK keeps the host waiting instead of retrying.
    let t = Instant::now();
    ch.write(SLOW, &[9; 4]).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(200));
    ch.read(SLOW, &mut buf[..4]).unwrap();
    assert_eq!(&buf[..4], &[9; 4]);
}
