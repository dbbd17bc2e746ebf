//! The USB/IP server and client over TCP on the loopback interface, with a
//! small device model: a loopback bulk OUT 0x01 -> IN 0x81 and a streaming
//! IN endpoint 0x83 producing numbered transfers.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use u3v::descriptor::{DeviceDescriptors, DeviceIdentity};
use u3v::link::{DeviceError, LinkError, SetupPacket, UsbDevice, UsbLink};
use usbip::client::{Client, ClientError, UsbipLink};
use usbip::op;
use usbip::server::{Server, ServerHandle};

const OUT: u8 = 0x01;
const IN: u8 = 0x81;
const STREAM: u8 = 0x83;
const MIB: usize = 1 << 20;
const T: Duration = Duration::from_secs(5);

struct TestDevice {
    descriptors: DeviceDescriptors,
    queue: Mutex<VecDeque<Vec<u8>>>,
    changed: Condvar,
    halted: AtomicBool,
    /// Number of the next streamed transfer.
    frame: AtomicU32,
}

impl TestDevice {
    fn new() -> Arc<Self> {
        let id = DeviceIdentity::new(0x1234, 0x5678, "Acme", "Loop", "SN1");
        Arc::new(TestDevice {
            descriptors: DeviceDescriptors::new(&id).unwrap(),
            queue: Mutex::new(VecDeque::new()),
            changed: Condvar::new(),
            halted: AtomicBool::new(false),
            frame: AtomicU32::new(0),
        })
    }
}

impl UsbDevice for TestDevice {
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
        Err(DeviceError::Stall)
    }
    fn bulk_out(&self, endpoint: u8, data: &[u8]) -> Result<(), DeviceError> {
        if endpoint != OUT {
            return Err(DeviceError::NoEndpoint);
        }
        self.queue.lock().unwrap().push_back(data.to_vec());
        self.changed.notify_all();
        Ok(())
    }
    fn bulk_in(
        &self,
        endpoint: u8,
        buf: &mut [u8],
        deadline: Instant,
    ) -> Result<usize, DeviceError> {
        if endpoint == STREAM {
            let n = buf.len().min(MIB);
            let frame = self.frame.fetch_add(1, Ordering::SeqCst);
            buf[..n].fill(frame as u8);
            if n >= 4 {
                buf[..4].copy_from_slice(&frame.to_le_bytes());
            }
            return Ok(n);
        }
        if endpoint != IN {
            return Err(DeviceError::NoEndpoint);
        }
        if self.halted.load(Ordering::SeqCst) {
            return Err(DeviceError::Stall);
        }
        let mut q = self.queue.lock().unwrap();
        loop {
            if let Some(front) = q.front_mut() {
                let n = front.len().min(buf.len());
                buf[..n].copy_from_slice(&front[..n]);
                front.drain(..n);
                if front.is_empty() {
                    q.pop_front();
                }
                return Ok(n);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(DeviceError::Timeout);
            }
            q = self.changed.wait_timeout(q, deadline - now).unwrap().0;
        }
    }
    fn clear_halt(&self, _endpoint: u8) -> Result<(), DeviceError> {
        self.halted.store(false, Ordering::SeqCst);
        Ok(())
    }
}

fn serve(device: Arc<TestDevice>) -> (ServerHandle, SocketAddr) {
    let mut server = Server::bind("127.0.0.1:0").unwrap();
    assert_eq!(server.export(device).unwrap(), "1-1");
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr();
    (handle, addr)
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(31).wrapping_add(seed) as u8)
        .collect()
}

#[test]
fn list_shows_the_device_from_its_descriptors() {
    let (_server, addr) = serve(TestDevice::new());
    let list = Client::list(addr).unwrap();
    assert_eq!(list.len(), 1);
    let d = &list[0];
    assert_eq!(d.info.busid, "1-1");
    assert_eq!((d.info.id_vendor, d.info.id_product), (0x1234, 0x5678));
    assert_eq!(d.info.speed, usbip::Speed::Super);
    assert_eq!(d.info.device_class, 0xEF);
    assert_eq!(d.info.num_configurations, 1);
    assert_eq!(d.info.configuration_value, 1);
    // U3V: control, event and streaming interfaces, class misc / U3V.
    assert_eq!(d.info.num_interfaces, 3);
    let protocols: Vec<u8> = d.interfaces.iter().map(|i| i.protocol).collect();
    assert_eq!(protocols, [0, 1, 2]);
    assert!(d
        .interfaces
        .iter()
        .all(|i| i.class == 0xEF && i.subclass == 5));
}

#[test]
fn descriptors_read_through_the_link_equal_the_device_bytes() {
    let device = TestDevice::new();
    let (_server, addr) = serve(device.clone());
    let link = Client::import(addr, "1-1").unwrap();
    assert_eq!(link.device_info().id_vendor, 0x1234);
    let mut buf = [0u8; 18];
    let n = link
        .control_in(SetupPacket::get_descriptor(1, 0, 18), &mut buf, T)
        .unwrap();
    assert_eq!(&buf[..n], device.descriptors.device());
    let cfg = device.descriptors.configuration();
    let mut buf = vec![0u8; 512];
    let n = link
        .control_in(
            SetupPacket::get_descriptor(2, 0, cfg.len() as u16),
            &mut buf,
            T,
        )
        .unwrap();
    assert_eq!(&buf[..n], cfg);
    // wLength limits the data stage.
    let n = link
        .control_in(SetupPacket::get_descriptor(2, 0, 9), &mut buf, T)
        .unwrap();
    assert_eq!(n, 9);
    // A refused request stalls endpoint 0.
    assert_eq!(
        link.control_in(SetupPacket::get_descriptor(9, 7, 8), &mut buf, T),
        Err(LinkError::Stall(0))
    );
}

#[test]
fn loopback_data_of_many_sizes() {
    let (_server, addr) = serve(TestDevice::new());
    let link = Client::import(addr, "1-1").unwrap();
    let sizes = [
        0,
        1,
        2,
        63,
        512,
        1023,
        1024,
        1025,
        16 * 1024,
        16 * 1024 + 1,
        65536,
        100_000,
        MIB + 7,
    ];
    for (i, &len) in sizes.iter().enumerate() {
        let data = pattern(len, i as u32);
        link.bulk_out(OUT, &data, T).unwrap();
        let mut buf = vec![0u8; len + 100];
        let n = link.bulk_in(IN, &mut buf, T).unwrap();
        assert_eq!(n, len, "size {len}");
        assert_eq!(&buf[..n], &data[..], "size {len}");
    }
    // A short buffer takes the rest on the next transfer.
    link.bulk_out(OUT, &[1, 2, 3, 4, 5], T).unwrap();
    let mut buf = [0u8; 3];
    assert_eq!(link.bulk_in(IN, &mut buf, T), Ok(3));
    assert_eq!(buf, [1, 2, 3]);
    assert_eq!(link.bulk_in(IN, &mut buf, T), Ok(2));
    assert_eq!(&buf[..2], &[4, 5]);
    // Unknown endpoints.
    assert_eq!(
        link.bulk_out(0x05, &[1], T),
        Err(LinkError::NoEndpoint(0x05))
    );
}

#[test]
fn many_in_urbs_in_flight_complete_in_order() {
    let (_server, addr) = serve(TestDevice::new());
    let link = Client::import(addr, "1-1").unwrap();
    for _ in 0..8 {
        link.submit_in(STREAM, vec![0u8; MIB]).unwrap();
    }
    for expected in 0..64u32 {
        let t = link.reap_in(STREAM, T).unwrap();
        let n = t.result.unwrap();
        assert_eq!(n, MIB);
        assert_eq!(t.buf.len(), MIB);
        let frame = u32::from_le_bytes(t.buf[..4].try_into().unwrap());
        assert_eq!(frame, expected, "in order");
        assert!(t.buf[4..n].iter().all(|&b| b == frame as u8));
        link.submit_in(STREAM, t.buf).unwrap();
    }
    // Cancelling returns every buffer; the link still works.
    let bufs = link.cancel_in(STREAM);
    assert_eq!(bufs.len(), 8);
    assert_eq!(
        link.reap_in(STREAM, T).unwrap_err(),
        LinkError::NotQueued(STREAM)
    );
    let mut buf = vec![0u8; 64];
    assert_eq!(link.bulk_in(STREAM, &mut buf, T), Ok(64));
}

#[test]
fn in_urbs_on_one_endpoint_do_not_block_another() {
    let (_server, addr) = serve(TestDevice::new());
    let link = Arc::new(Client::import(addr, "1-1").unwrap());
    // A waiting IN on 0x81 (nothing to read yet).
    link.submit_in(IN, vec![0u8; 16]).unwrap();
    let mut buf = vec![0u8; 1024];
    assert_eq!(link.bulk_in(STREAM, &mut buf, T), Ok(1024));
    let t0 = Instant::now();
    link.bulk_out(OUT, &[7; 10], T).unwrap();
    let t = link.reap_in(IN, T).unwrap();
    assert_eq!(t.result, Ok(10));
    assert!(t0.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_timed_out_bulk_in_is_unlinked_and_the_link_still_works() {
    let (_server, addr) = serve(TestDevice::new());
    let link = Client::import(addr, "1-1").unwrap();
    let mut buf = vec![0u8; 4096];
    for _ in 0..3 {
        let t0 = Instant::now();
        assert_eq!(
            link.bulk_in(IN, &mut buf, Duration::from_millis(100)),
            Err(LinkError::Timeout)
        );
        let took = t0.elapsed();
        assert!(took >= Duration::from_millis(100));
        assert!(took < Duration::from_millis(900), "took {took:?}");
    }
    // The unlinked URBs took nothing: the next data goes to the next URB.
    let data = pattern(3000, 9);
    link.bulk_out(OUT, &data, T).unwrap();
    let n = link.bulk_in(IN, &mut buf, T).unwrap();
    assert_eq!(&buf[..n], &data[..]);
    // A reap timeout leaves the transfer queued.
    link.submit_in(IN, vec![0u8; 100]).unwrap();
    assert_eq!(
        link.reap_in(IN, Duration::from_millis(50)).unwrap_err(),
        LinkError::Timeout
    );
    link.bulk_out(OUT, &[1, 2, 3], T).unwrap();
    let t = link.reap_in(IN, T).unwrap();
    assert_eq!(t.result, Ok(3));
    assert_eq!(&t.buf[..3], &[1, 2, 3]);
    // Cancelling a waiting transfer gives its buffer back.
    link.submit_in(IN, vec![0u8; 100]).unwrap();
    assert_eq!(link.cancel_in(IN).len(), 1);
    link.bulk_out(OUT, &[4], T).unwrap();
    assert_eq!(link.bulk_in(IN, &mut buf, T), Ok(1));
}

#[test]
fn stall_and_clear_halt() {
    let device = TestDevice::new();
    let (_server, addr) = serve(device.clone());
    let link = Client::import(addr, "1-1").unwrap();
    device.halted.store(true, Ordering::SeqCst);
    let mut buf = [0u8; 8];
    assert_eq!(link.bulk_in(IN, &mut buf, T), Err(LinkError::Stall(IN)));
    link.clear_halt(IN).unwrap();
    assert!(!device.halted.load(Ordering::SeqCst));
    link.bulk_out(OUT, &[9], T).unwrap();
    assert_eq!(link.bulk_in(IN, &mut buf, T), Ok(1));
}

#[test]
fn a_device_is_imported_once_and_freed_on_disconnect() {
    let (_server, addr) = serve(TestDevice::new());
    let link = Client::import(addr, "1-1").unwrap();
    match Client::import(addr, "1-1") {
        Err(ClientError::Refused(op::ST_DEV_BUSY)) => {}
        other => panic!("second import: {other:?}"),
    }
    match Client::import(addr, "9-9") {
        Err(ClientError::Refused(op::ST_NODEV)) => {}
        other => panic!("unknown bus id: {other:?}"),
    }
    // Leave a transfer waiting on the server, then disconnect.
    link.submit_in(IN, vec![0u8; 64]).unwrap();
    drop(link);
    let t0 = Instant::now();
    let link = loop {
        match Client::import(addr, "1-1") {
            Ok(l) => break l,
            Err(ClientError::Refused(op::ST_DEV_BUSY)) if t0.elapsed() < T => {
                thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("re-import: {e}"),
        }
    };
    link.bulk_out(OUT, &[5, 6], T).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(link.bulk_in(IN, &mut buf, T), Ok(2));
}

#[test]
fn a_stopped_server_fails_calls_with_disconnected_quickly() {
    let (server, addr) = serve(TestDevice::new());
    let link = Arc::new(Client::import(addr, "1-1").unwrap());
    link.submit_in(IN, vec![0u8; 64]).unwrap();
    let waiting = {
        let link = link.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 8];
            link.bulk_in(IN, &mut buf, Duration::from_secs(30))
        })
    };
    thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    server.stop();
    assert_eq!(waiting.join().unwrap(), Err(LinkError::Disconnected));
    let t = link.reap_in(IN, T).unwrap();
    assert_eq!(t.result, Err(LinkError::Disconnected));
    assert_eq!(t.buf.len(), 64);
    let mut buf = [0u8; 8];
    assert_eq!(
        link.bulk_in(IN, &mut buf, Duration::from_secs(30)),
        Err(LinkError::Disconnected)
    );
    assert_eq!(link.bulk_out(OUT, &[1], T), Err(LinkError::Disconnected));
    assert_eq!(link.submit_in(IN, vec![0; 8]), Err(LinkError::Disconnected));
    assert_eq!(link.clear_halt(IN), Err(LinkError::Disconnected));
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert!(Client::list(addr).is_err());
}

/// xorshift: reproducible garbage without a dependency.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn send_and_close(addr: SocketAddr, prefix: &[u8], bytes: &[u8]) {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = s.write_all(prefix);
    let _ = s.write_all(bytes);
    let mut sink = [0u8; 4096];
    let _ = s.read(&mut sink);
}

#[test]
fn garbage_never_panics_the_server() {
    let (_server, addr) = serve(TestDevice::new());
    // A client in the middle of a session is not disturbed.
    let link = Client::import(addr, "1-1").unwrap();
    let import_1_1 = OpMessage::ReqImport {
        busid: "1-1".into(),
    }
    .to_vec()
    .unwrap();
    let mut devlist_prefix = OpMessage::ReqDevlist.to_vec().unwrap();
    devlist_prefix.truncate(2); // the right version, then garbage
    for seed in 0..40u64 {
        let len = (seed as usize * 37) % 300 + 1;
        send_and_close(addr, &[], &garbage(seed + 1, len));
        send_and_close(addr, &devlist_prefix, &garbage(seed + 100, len));
    }
    // Garbage URB traffic after a valid import (device 1-1 is busy, so
    // use a second server's device).
    let (_other, addr2) = serve(TestDevice::new());
    for seed in 0..20u64 {
        let mut bad = garbage(seed + 1000, 48 + seed as usize * 11);
        // A plausible command code, so the header is parsed further.
        bad[..4].copy_from_slice(&(1 + (seed as u32 % 4)).to_be_bytes());
        send_and_close(addr2, &import_1_1, &bad);
    }
    // Both servers still serve.
    link.bulk_out(OUT, &[1, 2, 3], T).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(link.bulk_in(IN, &mut buf, T), Ok(3));
    assert_eq!(Client::list(addr).unwrap().len(), 1);
    let t0 = Instant::now();
    let link2 = loop {
        match Client::import(addr2, "1-1") {
            Ok(l) => break l,
            Err(ClientError::Refused(op::ST_DEV_BUSY)) if t0.elapsed() < T => {
                thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("import after garbage: {e}"),
        }
    };
    assert_eq!(link2.bulk_in(STREAM, &mut buf, T), Ok(8));
}

use usbip::OpMessage;

fn throughput(link: &UsbipLink, in_flight: usize, transfers: usize) -> f64 {
    for _ in 0..in_flight {
        link.submit_in(STREAM, vec![0u8; MIB]).unwrap();
    }
    let t0 = Instant::now();
    let mut bytes = 0usize;
    for i in 0..transfers {
        let t = link.reap_in(STREAM, T).unwrap();
        bytes += t.result.unwrap();
        if i + in_flight < transfers {
            link.submit_in(STREAM, t.buf).unwrap();
        }
    }
    bytes as f64 / t0.elapsed().as_secs_f64() / 1e6
}

#[test]
#[ignore = "benchmark: cargo test --release -p usbip --test loopback -- --ignored --nocapture"]
fn bulk_in_throughput() {
    let (_server, addr) = serve(TestDevice::new());
    let link = Client::import(addr, "1-1").unwrap();
    throughput(&link, 4, 32); // warm up
    for in_flight in [1, 2, 4, 8] {
        let mbs = throughput(&link, in_flight, 1000);
        println!("1 MiB bulk IN over USB/IP on loopback, {in_flight} in flight: {mbs:.0} MB/s");
    }
}

#[test]
fn throughput_smoke() {
    let (_server, addr) = serve(TestDevice::new());
    let link = Client::import(addr, "1-1").unwrap();
    assert!(throughput(&link, 4, 16) > 0.0);
}
