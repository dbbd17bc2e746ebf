//! The whole USB3 Vision protocol over USB/IP on loopback: a device model
//! with a GenCP server and a stream sender is exported by the server, and
//! the host's control channel and stream receiver run unchanged on the
//! client's `UsbLink`.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use u3v::bootstrap::{abrm, sbrm};
use u3v::control_channel::{ChannelConfig, ControlChannel};
use u3v::control_server::{ControlPipe, ControlServer, RegisterSpace, ServerConfig};
use u3v::descriptor::{DeviceDescriptors, DeviceIdentity};
use u3v::gencp::Status;
use u3v::link::{DeviceError, SetupPacket, UsbDevice, UsbLink};
use u3v::stream::ImageInfo;
use u3v::stream_receiver::{StreamReceiver, DEFAULT_IN_FLIGHT};
use u3v::stream_sender::{Frame, SenderConfig, StreamSender};
use usbip::client::Client;
use usbip::server::Server;

const SBRM_AT: u64 = 0x1000;
const SIRM_AT: u64 = 0x2000;
const MONO8: u32 = 0x0108_0001;
const T: Duration = Duration::from_secs(5);

struct Registers {
    mem: Mutex<Vec<u8>>,
    stream: Arc<StreamSender>,
}

impl RegisterSpace for Registers {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), Status> {
        if address >= SIRM_AT {
            return self.stream.read_register(address - SIRM_AT, buf);
        }
        let m = self.mem.lock().map_err(|_| Status::ERROR)?;
        let src = usize::try_from(address)
            .ok()
            .and_then(|a| m.get(a..a.checked_add(buf.len())?))
            .ok_or(Status::INVALID_ADDRESS)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn write(&self, address: u64, data: &[u8]) -> Result<(), Status> {
        if address >= SIRM_AT {
            return self.stream.write_register(address - SIRM_AT, data);
        }
        Err(Status::WRITE_PROTECT)
    }
}

/// A USB3 Vision device: descriptors, control OUT 0x01 / IN 0x81, stream
/// IN 0x83.
struct Camera {
    descriptors: DeviceDescriptors,
    control: ControlPipe<Registers>,
    stream: Arc<StreamSender>,
}

impl UsbDevice for Camera {
    fn control_in(&self, setup: &SetupPacket, buf: &mut [u8]) -> Result<usize, DeviceError> {
        if setup.request != 6 {
            return Err(DeviceError::Stall);
        }
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
            0x83 => self.stream.bulk_in(buf, deadline),
            _ => Err(DeviceError::NoEndpoint),
        }
    }
    fn clear_halt(&self, endpoint: u8) -> Result<(), DeviceError> {
        match endpoint {
            0x83 => self.stream.clear_halt(),
            _ => Ok(()),
        }
    }
}

fn camera(payload: u64) -> (Arc<Camera>, Arc<StreamSender>) {
    let mut m = vec![0u8; SIRM_AT as usize];
    let mut put = |at: u64, b: &[u8]| m[at as usize..at as usize + b.len()].copy_from_slice(b);
    put(abrm::MAX_DEVICE_RESPONSE_TIME, &100u32.to_le_bytes());
    put(abrm::SBRM_ADDRESS, &SBRM_AT.to_le_bytes());
    put(
        SBRM_AT + sbrm::MAX_CMD_TRANSFER_LENGTH,
        &1032u32.to_le_bytes(),
    );
    put(
        SBRM_AT + sbrm::MAX_ACK_TRANSFER_LENGTH,
        &1024u32.to_le_bytes(),
    );
    put(SBRM_AT + sbrm::SIRM_ADDRESS, &SIRM_AT.to_le_bytes());
    let stream = Arc::new(StreamSender::new(SenderConfig {
        required_payload_size: payload,
        ..SenderConfig::default()
    }));
    let regs = Registers {
        mem: Mutex::new(m),
        stream: stream.clone(),
    };
    let id = DeviceIdentity::new(0x1234, 0x5678, "Acme", "Cam", "SN7");
    let cam = Arc::new(Camera {
        descriptors: DeviceDescriptors::new(&id).expect("descriptors"),
        control: ControlPipe::new(ControlServer::new(
            regs,
            ServerConfig::default().with_response_time(100),
        )),
        stream: stream.clone(),
    });
    (cam, stream)
}

fn content(k: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u64).wrapping_mul(31) ^ k) as u8)
        .collect()
}

/// CPU time (user + system) of the whole process so far, where
/// `/proc/self/stat` exists (Linux; clock ticks assumed 100 Hz).
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Streams `frames` frames of `w`×`h` Mono8 with `in_flight` transfers
/// queued (0: single transfers) and returns MB/s and the process CPU
/// seconds per GB (client, server and camera threads alike).
fn stream_over_usbip(w: u32, h: u32, frames: u64, in_flight: usize) -> (f64, Option<f64>) {
    let len = (w * h) as usize;
    let (cam, sender) = camera(len as u64);
    let mut server = Server::bind("127.0.0.1:0").unwrap();
    let busid = server.export(cam).unwrap();
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr();
    let devices = Client::list(addr).unwrap();
    assert_eq!(devices.len(), 1);
    let link: Arc<dyn UsbLink> = Arc::new(Client::import(addr, &busid).unwrap());
    let channel = ControlChannel::open(link.clone(), ChannelConfig::default()).unwrap();
    let receiver = StreamReceiver::new(link, 0x83).with_in_flight(in_flight);
    receiver.configure(&channel, SIRM_AT, 1 << 20).unwrap();
    let payloads: Vec<Arc<[u8]>> = (0..4).map(|k| content(k, len).into()).collect();
    let info = ImageInfo {
        pixel_format: MONO8,
        size_x: w,
        size_y: h,
        ..ImageInfo::default()
    };
    let camera = {
        let payloads = payloads.clone();
        thread::spawn(move || {
            for b in 1..=frames {
                let p = payloads[(b % 4) as usize].clone();
                sender.push(Frame::image(b, b, info, p), T).unwrap();
            }
        })
    };
    let mut buf = vec![0u8; len];
    let cpu0 = process_cpu_time();
    let t = Instant::now();
    for b in 1..=frames {
        let i = receiver.receive(&mut buf, T).unwrap();
        assert_eq!(i.block_id, b);
        assert_eq!((i.image.size_x, i.image.size_y), (w, h));
        assert_eq!(i.valid_payload_size, len as u64);
        assert!(buf[..] == payloads[(b % 4) as usize][..], "frame {b}");
    }
    let dt = t.elapsed().as_secs_f64();
    let cpu = cpu0.and_then(|c0| Some(process_cpu_time()?.saturating_sub(c0)));
    camera.join().unwrap();
    let st = receiver.stats();
    assert_eq!((st.lost, st.errors, st.frames), (0, 0, frames));
    let mb = frames as f64 * len as f64 / 1e6;
    (mb / dt, cpu.map(|c| c.as_secs_f64() / (mb / 1e3)))
}

#[test]
fn control_and_stream_run_unchanged_over_usbip() {
    for n in [0, DEFAULT_IN_FLIGHT] {
        stream_over_usbip(640, 480, 20, n);
        stream_over_usbip(1001, 3, 5, n);
    }
}

/// `cargo test --release -p usbip --test u3v_over_usbip -- --ignored --nocapture`
#[test]
#[ignore]
fn throughput_of_5mp_mono8_frames_over_usbip() {
    report(0);
}

/// The same with transfers in flight.
#[test]
#[ignore]
fn throughput_of_5mp_mono8_frames_over_usbip_in_flight() {
    report(DEFAULT_IN_FLIGHT);
}

fn report(in_flight: usize) {
    let (mbs, cpu) = stream_over_usbip(2448, 2048, 200, in_flight);
    let cpu = cpu.map_or("n/a".into(), |c| format!("{c:.2} s CPU/GB (process)"));
    println!(
        "2448x2048 Mono8 over USB/IP on loopback, {in_flight} in flight: {mbs:.0} MB/s, {cpu}"
    );
}
