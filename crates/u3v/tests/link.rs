//! The in-memory link carries transfers between a host and a device model
//! on different threads, with the USB behaviours the host side relies on.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use u3v::descriptor::{DeviceDescriptors, DeviceIdentity};
use u3v::link::{DeviceError, LinkError, MemoryLink, SetupPacket, UsbDevice, UsbLink};

const OUT: u8 = 0x01;
const IN: u8 = 0x81;

/// A device that returns on IN endpoint 0x81 what it received on OUT
/// endpoint 0x01, holding at most `capacity` transfers; it answers
/// GET_DESCRIPTOR from a U3V descriptor set.
struct Loopback {
    descriptors: DeviceDescriptors,
    queue: Mutex<VecDeque<Vec<u8>>>,
    changed: Condvar,
    capacity: usize,
    halted: AtomicBool,
}

impl Loopback {
    fn new(capacity: usize) -> Arc<Self> {
        let id = DeviceIdentity::new(0x1234, 0x5678, "Acme", "Loop", "SN1");
        Arc::new(Loopback {
            descriptors: DeviceDescriptors::new(&id).unwrap(),
            queue: Mutex::new(VecDeque::new()),
            changed: Condvar::new(),
            capacity,
            halted: AtomicBool::new(false),
        })
    }
}

impl UsbDevice for Loopback {
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
        let mut q = self.queue.lock().unwrap();
        // Back-pressure: a full device does not take more (NAK) until the
        // host has read.
        while q.len() >= self.capacity {
            q = self.changed.wait(q).unwrap();
        }
        q.push_back(data.to_vec());
        self.changed.notify_all();
        Ok(())
    }
    fn bulk_in(
        &self,
        endpoint: u8,
        buf: &mut [u8],
        deadline: Instant,
    ) -> Result<usize, DeviceError> {
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
                self.changed.notify_all();
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

const T: Duration = Duration::from_secs(5);

#[test]
fn descriptors_come_through_control_transfers() {
    let link = MemoryLink::new(Loopback::new(4));
    let mut buf = [0u8; 18];
    let n = link
        .control_in(SetupPacket::get_descriptor(1, 0, 18), &mut buf, T)
        .unwrap();
    assert_eq!(n, 18);
    assert_eq!(&buf[..2], &[18, 1], "a device descriptor");
    // wLength limits the data stage even with a larger buffer.
    let mut big = [0u8; 64];
    let n = link
        .control_in(SetupPacket::get_descriptor(1, 0, 8), &mut big, T)
        .unwrap();
    assert_eq!(n, 8);
    assert_eq!(
        link.control_in(SetupPacket::get_descriptor(9, 7, 8), &mut big, T),
        Err(LinkError::Stall(0))
    );
    let s = SetupPacket::get_descriptor(2, 0, 9);
    assert_eq!(SetupPacket::from_bytes(s.to_bytes()), s);
    assert_eq!(s.to_bytes(), [0x80, 6, 0, 2, 0, 0, 9, 0]);
}

#[test]
fn bulk_data_crosses_threads_with_back_pressure() {
    let device = Loopback::new(2);
    let link = Arc::new(MemoryLink::new(device.clone()));
    let sender = {
        let link = link.clone();
        thread::spawn(move || {
            for i in 0..200u32 {
                let data: Vec<u8> = (0..1000 + i).map(|b| (b ^ i) as u8).collect();
                link.bulk_out(OUT, &data, T).unwrap();
                // Never more than the device holds.
                assert!(device.queue.lock().unwrap().len() <= 2);
            }
        })
    };
    for i in 0..200u32 {
        let mut buf = vec![0u8; 4096];
        let n = link.bulk_in(IN, &mut buf, T).unwrap();
        let want: Vec<u8> = (0..1000 + i).map(|b| (b ^ i) as u8).collect();
        assert_eq!(&buf[..n], &want[..], "transfer {i}");
    }
    sender.join().unwrap();
}

#[test]
fn a_short_buffer_takes_the_rest_on_the_next_transfer() {
    let link = MemoryLink::new(Loopback::new(4));
    link.bulk_out(OUT, &[1, 2, 3, 4, 5], T).unwrap();
    let mut buf = [0u8; 3];
    assert_eq!(link.bulk_in(IN, &mut buf, T), Ok(3));
    assert_eq!(buf, [1, 2, 3]);
    assert_eq!(link.bulk_in(IN, &mut buf, T), Ok(2));
    assert_eq!(&buf[..2], &[4, 5]);
}

#[test]
fn waits_are_bounded_and_errors_are_typed() {
    let device = Loopback::new(4);
    let link = MemoryLink::new(device.clone());
    let mut buf = [0u8; 8];
    let t = Instant::now();
    assert_eq!(
        link.bulk_in(IN, &mut buf, Duration::from_millis(50)),
        Err(LinkError::Timeout)
    );
    assert!(t.elapsed() >= Duration::from_millis(50));
    assert_eq!(
        link.bulk_in(0x85, &mut buf, T),
        Err(LinkError::NoEndpoint(0x85))
    );
    device.halted.store(true, Ordering::SeqCst);
    assert_eq!(link.bulk_in(IN, &mut buf, T), Err(LinkError::Stall(IN)));
    link.clear_halt(IN).unwrap();
    link.bulk_out(OUT, &[9], T).unwrap();
    assert_eq!(link.bulk_in(IN, &mut buf, T), Ok(1));
    link.disconnect();
    assert_eq!(link.bulk_out(OUT, &[9], T), Err(LinkError::Disconnected));
    assert_eq!(link.bulk_in(IN, &mut buf, T), Err(LinkError::Disconnected));
    assert_eq!(link.clear_halt(IN), Err(LinkError::Disconnected));
}

#[test]
fn queued_transfers_complete_in_order_and_cancel_returns_buffers() {
    let link = MemoryLink::new(Loopback::new(8));
    for i in 0..3u8 {
        link.submit_in(IN, vec![0xEE; 4 + i as usize]).unwrap();
    }
    for i in 0..2u8 {
        link.bulk_out(OUT, &[i; 2], T).unwrap();
    }
    for i in 0..2u8 {
        let t = link.reap_in(IN, T).unwrap();
        assert_eq!(t.buf.len(), 4 + i as usize, "buffers come back in order");
        assert_eq!(t.result, Ok(2));
        assert_eq!(&t.buf[..2], &[i; 2]);
    }
    // Nothing sent for the third: it times out and stays queued.
    assert!(matches!(
        link.reap_in(IN, Duration::from_millis(20)),
        Err(LinkError::Timeout)
    ));
    let back = link.cancel_in(IN);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].len(), 6);
    assert!(matches!(link.reap_in(IN, T), Err(LinkError::NotQueued(IN))));
}
