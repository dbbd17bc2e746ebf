//! The USB3 Vision stream end to end: a device with a GenCP control pipe and
//! a `StreamSender` on endpoint 0x83, the host's `ControlChannel` and
//! `StreamReceiver`, joined by `MemoryLink`.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use u3v::bootstrap::{abrm, sbrm, sirm};
use u3v::control_channel::{ChannelConfig, ControlChannel, ControlError};
use u3v::control_server::{ControlPipe, ControlServer, RegisterSpace, ServerConfig};
use u3v::gencp::Status;
use u3v::link::{DeviceError, LinkError, MemoryLink, SetupPacket, UsbDevice, UsbLink};
use u3v::stream::ImageInfo;
use u3v::stream_receiver::{FrameInfo, Phase, StreamError, StreamReceiver, DEFAULT_IN_FLIGHT};
use u3v::stream_sender::{
    Fault, Frame, Overflow, PushError, SenderConfig, StreamSender, TRUNCATED_TRAILER_LEN,
};

const SBRM_AT: u64 = 0x1000;
const SIRM_AT: u64 = 0x2000;
const SIZE: usize = 0x3000;
const EP: u8 = 0x83;
const MONO8: u32 = 0x0108_0001;
const MONO16: u32 = 0x0110_0007;
const T: Duration = Duration::from_secs(2);

struct Registers {
    mem: Mutex<Vec<u8>>,
    stream: Arc<StreamSender>,
}

fn sirm_offset(address: u64, len: usize) -> Option<u64> {
    let end = address.checked_add(len as u64)?;
    (address >= SIRM_AT && end <= SIRM_AT + sirm::LEN as u64).then(|| address - SIRM_AT)
}

impl RegisterSpace for Registers {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), Status> {
        if let Some(off) = sirm_offset(address, buf.len()) {
            return self.stream.read_register(off, buf);
        }
        let m = self.mem.lock().unwrap();
        let src = usize::try_from(address)
            .ok()
            .and_then(|a| m.get(a..a.checked_add(buf.len())?))
            .ok_or(Status::INVALID_ADDRESS)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn write(&self, address: u64, data: &[u8]) -> Result<(), Status> {
        if let Some(off) = sirm_offset(address, data.len()) {
            return self.stream.write_register(off, data);
        }
        Err(Status::WRITE_PROTECT)
    }
}

struct Device {
    control: ControlPipe<Registers>,
    stream: Arc<StreamSender>,
    /// When set, the stream endpoint sends garbage from this generator.
    garbage: Option<Mutex<u64>>,
}

impl UsbDevice for Device {
    fn control_in(&self, _: &SetupPacket, _: &mut [u8]) -> Result<usize, DeviceError> {
        Err(DeviceError::Stall)
    }
    fn control_out(&self, _: &SetupPacket, _: &[u8]) -> Result<(), DeviceError> {
        Err(DeviceError::Stall)
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
            EP => match &self.garbage {
                Some(g) => Ok(garbage(g, buf)),
                None => self.stream.bulk_in(buf, deadline),
            },
            _ => Err(DeviceError::NoEndpoint),
        }
    }
    fn clear_halt(&self, endpoint: u8) -> Result<(), DeviceError> {
        match endpoint {
            EP => self.stream.clear_halt(),
            _ => Ok(()),
        }
    }
}

struct Rig {
    link: Arc<MemoryLink>,
    channel: ControlChannel,
    sender: Arc<StreamSender>,
    receiver: StreamReceiver,
}

/// Transfers in flight of the queued mode under test (0: single transfers).
const IN_FLIGHT: usize = DEFAULT_IN_FLIGHT;

/// Runs a test body taking the number of transfers in flight in both
/// receiver modes: `NAME::single` and `NAME::in_flight`.
macro_rules! both_modes {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn single() {
                super::$name(0)
            }
            #[test]
            fn in_flight() {
                super::$name(super::IN_FLIGHT)
            }
        }
    )*};
}

fn rig(config: SenderConfig, n: usize) -> Rig {
    rig_with(config, None, n)
}

fn rig_with(config: SenderConfig, garbage_seed: Option<u64>, n: usize) -> Rig {
    let mut m = vec![0u8; SIZE];
    let mut put =
        |at: u64, bytes: &[u8]| m[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
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
    let sender = Arc::new(StreamSender::new(config));
    let regs = Registers {
        mem: Mutex::new(m),
        stream: sender.clone(),
    };
    let server = ControlServer::new(regs, ServerConfig::default().with_response_time(100));
    let device = Arc::new(Device {
        control: ControlPipe::new(server),
        stream: sender.clone(),
        garbage: garbage_seed.map(Mutex::new),
    });
    let link = Arc::new(MemoryLink::new(device));
    let channel = ControlChannel::open(link.clone(), ChannelConfig::default()).unwrap();
    let receiver = StreamReceiver::new(link.clone(), EP).with_in_flight(n);
    assert_eq!(receiver.in_flight(), n);
    Rig {
        link,
        channel,
        sender,
        receiver,
    }
}

fn config(required: u64) -> SenderConfig {
    SenderConfig {
        alignment_exponent: 6,
        required_payload_size: required,
        queue_capacity: 4,
        overflow: Overflow::Block,
    }
}

fn content(block: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64 * 7 + block * 13 + (i as u64 >> 8)) as u8)
        .collect()
}

fn mono8(block: u64, w: u32, h: u32) -> Frame {
    let info = ImageInfo {
        pixel_format: MONO8,
        size_x: w,
        size_y: h,
        offset_x: 3,
        offset_y: 5,
        padding_x: 0,
    };
    Frame::image(block, 1_000 * block, info, content(block, (w * h) as usize))
}

fn recv(r: &Rig, buf: &mut [u8]) -> Result<FrameInfo, StreamError> {
    r.receiver.receive(buf, T)
}

fn check_frame(r: &Rig, buf: &mut [u8], block: u64, w: u32, h: u32) -> FrameInfo {
    let info = recv(r, buf).unwrap_or_else(|e| panic!("block {block}: {e}"));
    let len = (w * h) as usize;
    assert_eq!(info.block_id, block);
    assert_eq!(info.timestamp, 1_000 * block);
    assert_eq!(info.image.pixel_format, MONO8);
    assert_eq!((info.image.size_x, info.image.size_y), (w, h));
    assert_eq!((info.image.offset_x, info.image.offset_y), (3, 5));
    assert_eq!(info.valid_payload_size, len as u64);
    assert_eq!(info.status, Status::SUCCESS);
    assert_eq!(info.size_y_sent, h);
    assert!(
        buf[..len] == content(block, len)[..],
        "block {block} payload"
    );
    info
}

/// Runs `f` in a thread and fails if it does not finish within 10 s.
fn bounded<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("test body hung")
}

fn frames_of_every_shape_arrive_byte_exact(n: usize) {
    bounded(move || {
        for (w, h, max) in [
            (1000u32, 700u32, 64 * 1024u32),
            (1001, 3, 1024),
            (1, 1, 1 << 20),
            (333, 1, 256),
            (4096, 256, 1 << 20),
        ] {
            let len = u64::from(w * h);
            let r = rig(config(len), n);
            let sizing = r.receiver.configure(&r.channel, SIRM_AT, max).unwrap();
            assert!(r.sender.is_enabled());
            let s = r.sender.sirm();
            assert_eq!(s.payload_transfer_size, sizing.payload_transfer_size);
            assert_eq!(s.final_transfer1_size, sizing.final_transfer1_size);
            assert!(sizing.total_payload_capacity() >= len);

            let sender = r.sender.clone();
            let camera = thread::spawn(move || {
                for b in 1..=6 {
                    sender.push(mono8(b, w, h), T).unwrap();
                }
            });
            // A frame buffer of exactly the payload size: the final transfer
            // (rounded up to the alignment) goes through the scratch buffer.
            let mut buf = vec![0u8; len as usize];
            for b in 1..=6 {
                let info = check_frame(&r, &mut buf, b, w, h);
                assert_eq!(info.lost_before, 0);
            }
            camera.join().unwrap();
            let st = r.receiver.stats();
            assert_eq!((st.frames, st.errors, st.incomplete, st.lost), (6, 0, 0, 0));
            assert_eq!(st.bytes, 6 * len);
            let ds = r.sender.stats();
            assert_eq!(ds.sizing_violations, 0, "{w}x{h}");
            assert_eq!(ds.frames_sent, 6);
        }
    });
}

fn a_larger_frame_buffer_receives_every_transfer_in_place(n: usize) {
    bounded(move || {
        let r = rig(config(1001 * 3), n);
        r.receiver.configure(&r.channel, SIRM_AT, 512).unwrap();
        let mut buf = vec![0xEEu8; 8192];
        r.sender.push(mono8(1, 1001, 3), T).unwrap();
        check_frame(&r, &mut buf, 1, 1001, 3);
        // A smaller frame than required: the trailer comes early, legitimately.
        r.sender.push(mono8(2, 100, 3), T).unwrap();
        check_frame(&r, &mut buf, 2, 100, 3);
        // 100x5 = 500 bytes: a multiple-free size ending inside a transfer.
        r.sender.push(mono8(3, 512, 1), T).unwrap();
        check_frame(&r, &mut buf, 3, 512, 1);
        assert_eq!(r.receiver.stats().errors, 0);
    });
}

fn a_frame_buffer_too_small_is_reported_and_the_stream_recovers(n: usize) {
    bounded(move || {
        let r = rig(config(4000), n);
        r.receiver.configure(&r.channel, SIRM_AT, 1024).unwrap();
        r.sender.push(mono8(1, 1000, 4), T).unwrap();
        r.sender.push(mono8(2, 1000, 4), T).unwrap();
        let mut small = vec![0u8; 1500];
        assert!(matches!(
            recv(&r, &mut small),
            Err(StreamError::BufferTooSmall {
                block_id: 1,
                available: 1500
            })
        ));
        let mut buf = vec![0u8; 4000];
        check_frame(&r, &mut buf, 2, 1000, 4);
    });
}

fn inconsistent_sirm_refuses_the_enable(n: usize) {
    let r = rig(config(10_000), n);
    let at = |off| SIRM_AT + off;
    let refused = |res: Result<(), ControlError>| {
        matches!(
            res,
            Err(ControlError::Status {
                status: Status::SI_REGISTERS_INCONSISTENT,
                ..
            })
        )
    };
    let ch = &r.channel;
    ch.write_u32(at(sirm::MAX_LEADER_SIZE), 64).unwrap();
    ch.write_u32(at(sirm::MAX_TRAILER_SIZE), 64).unwrap();
    // Not aligned to 64.
    ch.write_u32(at(sirm::PAYLOAD_TRANSFER_SIZE), 1000).unwrap();
    ch.write_u32(at(sirm::PAYLOAD_TRANSFER_COUNT), 10).unwrap();
    assert!(refused(ch.write_u32(at(sirm::SI_CONTROL), 1)));
    assert!(!r.sender.is_enabled());
    // Aligned but too small: 1024 * 9 + 512 < 10000.
    ch.write_u32(at(sirm::PAYLOAD_TRANSFER_SIZE), 1024).unwrap();
    ch.write_u32(at(sirm::PAYLOAD_TRANSFER_COUNT), 9).unwrap();
    ch.write_u32(at(sirm::PAYLOAD_FINAL_TRANSFER1_SIZE), 512)
        .unwrap();
    assert!(refused(ch.write_u32(at(sirm::SI_CONTROL), 1)));
    // Misaligned final transfer 2.
    ch.write_u32(at(sirm::PAYLOAD_FINAL_TRANSFER2_SIZE), 1000)
        .unwrap();
    assert!(refused(ch.write_u32(at(sirm::SI_CONTROL), 1)));
    // Leader buffer below the required leader size.
    ch.write_u32(at(sirm::PAYLOAD_FINAL_TRANSFER2_SIZE), 1024)
        .unwrap();
    ch.write_u32(at(sirm::MAX_LEADER_SIZE), 32).unwrap();
    assert!(refused(ch.write_u32(at(sirm::SI_CONTROL), 1)));
    assert_eq!(r.sender.stats().enables_refused, 4);
    // Consistent now: 9216 + 512 + 1024 >= 10000.
    ch.write_u32(at(sirm::MAX_LEADER_SIZE), 64).unwrap();
    ch.write_u32(at(sirm::SI_CONTROL), 1).unwrap();
    assert!(r.sender.is_enabled());
    // Transfer registers are locked while streaming; read-only ones always.
    assert!(matches!(
        ch.write_u32(at(sirm::PAYLOAD_TRANSFER_SIZE), 2048),
        Err(ControlError::Status {
            status: Status::ACCESS_DENIED,
            ..
        })
    ));
    assert!(matches!(
        ch.write_u32(at(sirm::REQUIRED_LEADER_SIZE), 8),
        Err(ControlError::Status {
            status: Status::WRITE_PROTECT,
            ..
        })
    ));
    assert_eq!(ch.read_u32(at(sirm::SI_INFO)).unwrap() >> 24, 6);
    assert_eq!(
        ch.read_u64(at(sirm::REQUIRED_PAYLOAD_SIZE)).unwrap(),
        10_000
    );
    // The receiver's own configuration disables, resizes and re-enables.
    let sizing = r.receiver.configure(ch, SIRM_AT, 4096).unwrap();
    assert_eq!(sizing.payload_transfer_size, 4096);
    assert_eq!(r.sender.sirm().payload_transfer_size, 4096);
    r.receiver.disable(ch).unwrap();
    assert!(!r.sender.is_enabled());
}

fn the_device_counts_host_buffers_below_the_sirm_sizes(n: usize) {
    let r = rig(config(4096), n);
    r.receiver.configure(&r.channel, SIRM_AT, 1024).unwrap();
    r.sender.push(mono8(1, 64, 64), T).unwrap();
    let mut small = [0u8; 16];
    // The leader (52 bytes) does not fit 16.
    assert_eq!(r.link.bulk_in(EP, &mut small, T).unwrap(), 16);
    assert_eq!(r.sender.stats().sizing_violations, 1);
    // The host notices: the next receive resynchronises on the next frame.
    r.sender.push(mono8(2, 64, 64), T).unwrap();
    let mut buf = vec![0u8; 4096];
    check_frame(&r, &mut buf, 2, 64, 64);
    assert!(r.receiver.stats().discarded > 0);
}

fn a_disabled_or_idle_stream_times_out_promptly(n: usize) {
    let r = rig(config(4096), n);
    let mut buf = vec![0u8; 4096];
    assert_eq!(recv(&r, &mut buf), Err(StreamError::NotConfigured));
    r.receiver.configure(&r.channel, SIRM_AT, 1024).unwrap();
    r.receiver.disable(&r.channel).unwrap();
    r.sender.push(mono8(1, 64, 64), T).unwrap(); // queued while disabled
    let t = Instant::now();
    assert_eq!(
        r.receiver.receive(&mut buf, Duration::from_millis(50)),
        Err(StreamError::Timeout {
            phase: Phase::Leader
        })
    );
    assert!(t.elapsed() < Duration::from_millis(500));
    // The frame queued while disabled goes out once streaming is enabled.
    r.receiver.configure(&r.channel, SIRM_AT, 1024).unwrap();
    check_frame(&r, &mut buf, 1, 64, 64);
    r.sender.push(mono8(2, 64, 64), T).unwrap();
    check_frame(&r, &mut buf, 2, 64, 64);
    // Enabled but idle.
    assert_eq!(
        r.receiver.receive(&mut buf, Duration::from_millis(30)),
        Err(StreamError::Timeout {
            phase: Phase::Leader
        })
    );
}

/// A link that counts the queued-transfer calls reaching the memory link.
struct CountingLink {
    inner: Arc<MemoryLink>,
    calls: Mutex<[u64; 4]>,
    /// Delays the second single transfer of every three (the payload of
    /// a one-transfer block) by this much.
    late_payload: Option<Duration>,
}

impl CountingLink {
    fn count(&self, i: usize) {
        self.calls.lock().unwrap()[i] += 1;
    }
    /// bulk_in, submit_in, reap_in, cancel_in calls on the stream endpoint.
    fn calls(&self) -> [u64; 4] {
        *self.calls.lock().unwrap()
    }
}

impl UsbLink for CountingLink {
    fn control_in(
        &self,
        setup: SetupPacket,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, LinkError> {
        self.inner.control_in(setup, buf, timeout)
    }
    fn control_out(
        &self,
        setup: SetupPacket,
        data: &[u8],
        timeout: Duration,
    ) -> Result<(), LinkError> {
        self.inner.control_out(setup, data, timeout)
    }
    fn bulk_out(&self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<(), LinkError> {
        self.inner.bulk_out(endpoint, data, timeout)
    }
    fn bulk_in(&self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        if endpoint == EP {
            self.count(0);
            if let Some(d) = self.late_payload {
                if self.calls()[0] % 3 == 2 {
                    thread::sleep(d);
                }
            }
        }
        self.inner.bulk_in(endpoint, buf, timeout)
    }
    fn submit_in(&self, endpoint: u8, buf: Vec<u8>) -> Result<(), LinkError> {
        self.count(1);
        self.inner.submit_in(endpoint, buf)
    }
    fn reap_in(&self, endpoint: u8, timeout: Duration) -> Result<u3v::link::InTransfer, LinkError> {
        self.count(2);
        self.inner.reap_in(endpoint, timeout)
    }
    fn cancel_in(&self, endpoint: u8) -> Vec<Vec<u8>> {
        self.count(3);
        self.inner.cancel_in(endpoint)
    }
    fn clear_halt(&self, endpoint: u8) -> Result<(), LinkError> {
        self.inner.clear_halt(endpoint)
    }
}

#[test]
fn in_flight_transfers_stay_queued_across_frames() {
    bounded(|| {
        let (w, h) = (1000u32, 70u32);
        let r = rig(config(u64::from(w * h)), 0);
        let link = Arc::new(CountingLink {
            inner: r.link.clone(),
            calls: Mutex::new([0; 4]),
            late_payload: None,
        });
        let receiver = StreamReceiver::new(link.clone(), EP).with_in_flight(IN_FLIGHT);
        let sizing = receiver.configure(&r.channel, SIRM_AT, 8192).unwrap();
        // 8 payload transfers of 8192 + final 4544: 11 transfers a block.
        let per_block = 2 + u64::from(sizing.payload_transfer_count) + 1;
        assert_eq!(per_block, 11);
        let sender = r.sender.clone();
        let camera = thread::spawn(move || {
            for b in 1..=6 {
                sender.push(mono8(b, w, h), T).unwrap();
            }
        });
        let mut buf = vec![0u8; (w * h) as usize];
        for b in 1..=6u64 {
            let info = receiver.receive(&mut buf, T).unwrap();
            assert_eq!(info.block_id, b);
            assert!(buf[..] == content(b, buf.len())[..]);
        }
        camera.join().unwrap();
        let [bulk, submit, reap, cancel] = link.calls();
        // The first leader is found by resynchronisation (one bulk_in after
        // configure); every other transfer was queued ahead and reaped in
        // order, and the queue was never cancelled.
        assert_eq!(bulk, 1);
        assert_eq!(reap, 6 * per_block - 1);
        // The queue is topped up before each reap: all but one remain.
        assert_eq!(submit, reap + IN_FLIGHT as u64 - 1);
        assert_eq!(cancel, 0);
        // A fault cancels the queue once, and the stream goes on.
        r.sender.inject(Fault::DropPayloadTransfer);
        for b in 7..=8 {
            r.sender.push(mono8(b, w, h), T).unwrap();
        }
        assert!(matches!(
            receiver.receive(&mut buf, T),
            Err(StreamError::PayloadSizeMismatch { block_id: 7, .. })
        ));
        assert_eq!(link.calls()[3], 1);
        let info = receiver.receive(&mut buf, T).unwrap();
        assert_eq!(info.block_id, 8);
        assert!(buf[..] == content(8, buf.len())[..]);
    });
}

/// A dropped transfer marked on the frame stays with that frame, however
/// many frames are queued: two marked frames queued together both fail.
#[test]
fn frames_marked_to_drop_a_transfer_each_lose_one() {
    bounded(|| {
        let (w, h) = (1000u32, 70u32);
        let len = (w * h) as usize;
        for n in [0, IN_FLIGHT] {
            let r = rig(config(len as u64), n);
            r.receiver.configure(&r.channel, SIRM_AT, 8192).unwrap();
            for b in 1..=3 {
                let mut f = mono8(b, w, h);
                f.drop_payload_transfer = b < 3;
                r.sender.push(f, T).unwrap();
            }
            let mut buf = vec![0u8; len];
            for b in 1..=2 {
                match recv(&r, &mut buf) {
                    Err(StreamError::PayloadSizeMismatch { block_id, .. }) => {
                        assert_eq!(block_id, b)
                    }
                    other => panic!("block {b}: {other:?}"),
                }
            }
            check_frame(&r, &mut buf, 3, w, h);
        }
    });
}

/// A payload arriving after the receive timeout but within the block
/// timeout completes its block; without a block timeout, the block fails.
#[test]
fn a_block_timeout_lets_a_late_payload_complete_its_block() {
    bounded(|| {
        let (w, h) = (1000u32, 70u32);
        let len = (w * h) as usize;
        for block_timeout in [None, Some(Duration::from_secs(2))] {
            let r = rig(config(len as u64), 0);
            let link = Arc::new(CountingLink {
                inner: r.link.clone(),
                calls: Mutex::new([0; 4]),
                late_payload: Some(Duration::from_millis(150)),
            });
            let mut receiver = StreamReceiver::new(link.clone(), EP);
            if let Some(t) = block_timeout {
                receiver = receiver.with_block_timeout(t);
            }
            let sizing = receiver.configure(&r.channel, SIRM_AT, 1 << 20).unwrap();
            assert_eq!(sizing.payload_transfer_count, 1);
            r.sender.push(mono8(1, w, h), T).unwrap();
            let mut buf = vec![0u8; len];
            let poll = Duration::from_millis(50);
            match (block_timeout, receiver.receive(&mut buf, poll)) {
                (Some(_), Ok(info)) => {
                    assert_eq!(info.block_id, 1);
                    assert!(buf == content(1, len));
                }
                // Cut after its leader: the payload came late, so the
                // trailer missed the receive deadline.
                (None, Err(StreamError::Timeout { phase })) => assert_eq!(phase, Phase::Trailer),
                (t, other) => panic!("block timeout {t:?}: {other:?}"),
            }
        }
    });
}

#[test]
fn receive_vec_hands_over_whole_frame_transfers_without_copying() {
    bounded(|| {
        let (w, h) = (1000u32, 70u32);
        let len = (w * h) as usize;
        let r = rig(config(len as u64), IN_FLIGHT);
        // The payload fits in one transfer: one transfer carries it.
        let sizing = r.receiver.configure(&r.channel, SIRM_AT, 1 << 20).unwrap();
        assert_eq!(sizing.payload_transfer_count, 1);
        assert_eq!(sizing.final_transfer1_size, 0);
        let sender = r.sender.clone();
        let camera = thread::spawn(move || {
            for b in 1..=40 {
                sender.push(mono8(b, w, h), T).unwrap();
            }
        });
        let mut frame = vec![0u8; len];
        let mut seen = std::collections::HashSet::new();
        let mut exchanged = 0;
        for b in 1..=40u64 {
            let before = frame.as_ptr();
            let info = r.receiver.receive_vec(&mut frame, T).unwrap();
            assert_eq!(info.block_id, b);
            assert!(frame.len() >= len);
            assert!(frame[..len] == content(b, len)[..], "block {b} payload");
            // After the first leader (found by resynchronisation) every
            // frame is a transfer buffer of its own, not a copy.
            if frame.as_ptr() != before {
                exchanged += 1;
            }
            seen.insert(frame.as_ptr() as usize);
        }
        assert!(exchanged >= 39, "{exchanged} of 40 frames exchanged");
        // The buffers circulate: no new allocation per frame.
        assert!(
            seen.len() <= IN_FLIGHT + 2,
            "{} distinct buffers",
            seen.len()
        );
        camera.join().unwrap();
        // A transfer lost in block 41: the error, then block 42 whole.
        r.sender.inject(Fault::DropPayloadTransfer);
        for b in 41..=42 {
            r.sender.push(mono8(b, w, h), T).unwrap();
        }
        assert!(matches!(
            r.receiver.receive_vec(&mut frame, T),
            Err(StreamError::PayloadSizeMismatch { block_id: 41, .. })
        ));
        let info = r.receiver.receive_vec(&mut frame, T).unwrap();
        assert_eq!(info.block_id, 42);
        assert!(frame[..len] == content(42, len)[..]);
    });
}

#[test]
fn receive_vec_copies_payloads_split_over_transfers() {
    bounded(|| {
        let (w, h) = (1000u32, 70u32);
        let len = (w * h) as usize;
        for n in [0, IN_FLIGHT] {
            let r = rig(config(len as u64), n);
            let sizing = r.receiver.configure(&r.channel, SIRM_AT, 8192).unwrap();
            assert!(sizing.payload_transfer_count > 1);
            let mut frame = vec![0u8; len];
            let at = frame.as_ptr();
            for b in 1..=3u64 {
                r.sender.push(mono8(b, w, h), T).unwrap();
                let info = r.receiver.receive_vec(&mut frame, T).unwrap();
                assert_eq!(info.block_id, b);
                assert_eq!(frame.as_ptr(), at, "the caller's buffer is filled in place");
                assert_eq!(frame.len(), len);
                assert!(frame[..] == content(b, len)[..]);
            }
        }
    });
}

/// Streams blocks 1..=4 with `fault` armed before block 2; block 2 fails as
/// `expect` says, blocks 3 and 4 arrive normally.
fn fault_case(n: usize, fault: Fault, expect: impl Fn(&StreamError) -> bool) -> Rig {
    let (w, h) = (1000, 70);
    let r = rig(config(u64::from(w * h)), n);
    r.receiver.configure(&r.channel, SIRM_AT, 8192).unwrap();
    let mut buf = vec![0u8; (w * h) as usize];
    r.sender.push(mono8(1, w, h), T).unwrap();
    check_frame(&r, &mut buf, 1, w, h);
    r.sender.inject(fault);
    for b in 2..=4 {
        r.sender.push(mono8(b, w, h), T).unwrap();
    }
    let e = recv(&r, &mut buf).expect_err("the faulty block must fail");
    assert!(expect(&e), "{fault:?}: unexpected {e:?}");
    check_frame(&r, &mut buf, 3, w, h);
    check_frame(&r, &mut buf, 4, w, h);
    assert_eq!(r.sender.stats().faults_injected, 1);
    let st = r.receiver.stats();
    assert_eq!(st.frames, 3);
    assert!(st.errors >= 1);
    r
}

fn a_dropped_payload_transfer_fails_that_frame_only(n: usize) {
    bounded(move || {
        let r = fault_case(n, Fault::DropPayloadTransfer, |e| {
            matches!(
                e,
                StreamError::PayloadSizeMismatch {
                    block_id: 2,
                    announced: 70_000,
                    received: 61_808,
                }
            )
        });
        let st = r.receiver.stats();
        assert_eq!((st.incomplete, st.lost, st.errors), (1, 0, 1));
    });
}

fn a_truncated_trailer_fails_that_frame_only(n: usize) {
    bounded(move || {
        let r = fault_case(n, Fault::TruncateTrailer, |e| {
            matches!(e, StreamError::BadTrailer { block_id: 2, .. })
        });
        let st = r.receiver.stats();
        assert_eq!((st.incomplete, st.lost, st.errors), (1, 0, 1));
        const { assert!(TRUNCATED_TRAILER_LEN < 32) };
    });
}

fn a_corrupted_leader_loses_that_frame_and_resynchronises(n: usize) {
    bounded(move || {
        let r = fault_case(n, Fault::CorruptLeader, |e| {
            matches!(e, StreamError::BadLeader(_))
        });
        let st = r.receiver.stats();
        // The block was never identified: an error, then a block id gap.
        assert_eq!((st.incomplete, st.lost, st.errors), (0, 1, 1));
        assert!(st.discarded > 0);
    });
}

fn a_stall_mid_frame_is_cleared_and_the_stream_goes_on(n: usize) {
    bounded(move || {
        let r = fault_case(n, Fault::StallMidFrame, |e| {
            matches!(
                e,
                StreamError::Stalled {
                    endpoint: EP,
                    phase: Phase::Payload
                }
            )
        });
        let st = r.receiver.stats();
        assert_eq!((st.incomplete, st.lost, st.stalls), (1, 0, 1));
        assert!(!r.sender.is_halted());
        assert_eq!(r.sender.stats().frames_aborted, 1);
    });
}

fn a_halted_endpoint_stalls_until_cleared(n: usize) {
    let r = rig(config(4096), n);
    r.receiver.configure(&r.channel, SIRM_AT, 1024).unwrap();
    r.sender.halt();
    let mut b = [0u8; 64];
    assert_eq!(r.link.bulk_in(EP, &mut b, T), Err(LinkError::Stall(EP)));
    assert_eq!(r.link.bulk_in(EP, &mut b, T), Err(LinkError::Stall(EP)));
    r.link.clear_halt(EP).unwrap();
    r.sender.push(mono8(1, 64, 64), T).unwrap();
    let mut buf = vec![0u8; 4096];
    check_frame(&r, &mut buf, 1, 64, 64);
}

fn a_disconnect_mid_frame_is_a_clean_error(n: usize) {
    bounded(move || {
        let r = rig(config(70_000), n);
        r.receiver.configure(&r.channel, SIRM_AT, 8192).unwrap();
        let mut buf = vec![0u8; 70_000];
        r.sender.push(mono8(1, 1000, 70), T).unwrap();
        r.sender.inject(Fault::DisconnectMidFrame);
        assert_eq!(recv(&r, &mut buf), Err(StreamError::Disconnected));
        assert_eq!(recv(&r, &mut buf), Err(StreamError::Disconnected));
        assert!(matches!(
            r.sender.push(mono8(2, 1000, 70), T),
            Err(PushError::Disconnected(_))
        ));
        let st = r.receiver.stats();
        assert_eq!((st.incomplete, st.errors), (1, 2));
        // The cable itself.
        let r = rig(config(4096), n);
        r.receiver.configure(&r.channel, SIRM_AT, 1024).unwrap();
        r.link.disconnect();
        assert_eq!(recv(&r, &mut buf), Err(StreamError::Disconnected));
    });
}

fn block_id_gaps_and_bad_status_are_reported(n: usize) {
    let r = rig(config(4096), n);
    r.receiver.configure(&r.channel, SIRM_AT, 1024).unwrap();
    let mut buf = vec![0u8; 4096];
    r.sender.push(mono8(1, 64, 64), T).unwrap();
    r.sender.push(mono8(4, 64, 64), T).unwrap();
    check_frame(&r, &mut buf, 1, 64, 64);
    assert_eq!(check_frame(&r, &mut buf, 4, 64, 64).lost_before, 2);
    let mut f = mono8(5, 64, 64);
    f.status = Status::DATA_DISCARDED;
    r.sender.push(f, T).unwrap();
    match recv(&r, &mut buf) {
        Err(StreamError::TrailerStatus(info)) => {
            assert_eq!(info.block_id, 5);
            assert_eq!(info.status, Status::DATA_DISCARDED);
            assert_eq!(info.valid_payload_size, 4096);
        }
        other => panic!("{other:?}"),
    }
    r.sender.push(mono8(6, 64, 64), T).unwrap();
    check_frame(&r, &mut buf, 6, 64, 64);
    let st = r.receiver.stats();
    assert_eq!((st.frames, st.lost, st.errors, st.incomplete), (3, 2, 1, 1));
}

fn a_payload_over_the_negotiated_size_is_cut_with_overrun_status(n: usize) {
    let r = rig(config(4096), n);
    r.receiver.configure(&r.channel, SIRM_AT, 1024).unwrap();
    // 64x40 Mono16 = 5120 bytes > 4096: 32 full lines fit.
    let info = ImageInfo {
        pixel_format: MONO16,
        size_x: 64,
        size_y: 40,
        ..ImageInfo::default()
    };
    r.sender
        .push(Frame::image(1, 0, info, content(1, 5120)), T)
        .unwrap();
    let mut buf = vec![0u8; 4096];
    match recv(&r, &mut buf) {
        Err(StreamError::TrailerStatus(i)) => {
            assert_eq!(i.status, Status::DATA_OVERRUN);
            assert_eq!(i.valid_payload_size, 4096);
            assert_eq!(i.size_y_sent, 32);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(buf, content(1, 5120)[..4096]);
}

fn the_queue_blocks_or_drops_the_oldest(n: usize) {
    let r = rig(
        SenderConfig {
            queue_capacity: 2,
            ..config(4096)
        },
        n,
    );
    for b in 1..=2 {
        r.sender.push(mono8(b, 64, 64), T).unwrap();
    }
    let t = Instant::now();
    match r.sender.push(mono8(3, 64, 64), Duration::from_millis(30)) {
        Err(PushError::Timeout(f)) => assert_eq!(f.block_id, 3),
        other => panic!("{other:?}"),
    }
    assert!(t.elapsed() >= Duration::from_millis(30));

    let r = rig(
        SenderConfig {
            queue_capacity: 2,
            overflow: Overflow::DropOldest,
            ..config(4096)
        },
        n,
    );
    r.receiver.configure(&r.channel, SIRM_AT, 1024).unwrap();
    for b in 1..=5 {
        r.sender.push(mono8(b, 64, 64), T).unwrap();
    }
    assert_eq!(r.sender.stats().frames_dropped, 3);
    let mut buf = vec![0u8; 4096];
    check_frame(&r, &mut buf, 4, 64, 64);
    check_frame(&r, &mut buf, 5, 64, 64);
}

fn garbage_from_the_device_never_panics(n: usize) {
    bounded(move || {
        let r = rig_with(config(5000), Some(0x9E37_79B9_7F4A_7C15), n);
        r.receiver.configure(&r.channel, SIRM_AT, 1024).unwrap();
        for len in [0usize, 1, 3000, 5000, 9000] {
            let mut buf = vec![0u8; len];
            for _ in 0..300 {
                // Any outcome but a panic or a hang.
                let _ = r.receiver.receive(&mut buf, Duration::from_millis(2));
            }
        }
        let st = r.receiver.stats();
        assert!(st.errors > 0 && st.discarded > 0);
    });
}

/// Transfers of random content and length, now and then with a leader or
/// trailer prefix and a random size field.
fn garbage(state: &Mutex<u64>, buf: &mut [u8]) -> usize {
    let mut s = state.lock().unwrap();
    let mut next = || {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    };
    let n = (next() as usize) % (buf.len() + 1);
    let kind = next() % 4;
    for b in buf[..n].iter_mut() {
        *b = next() as u8;
    }
    if n >= 8 && kind < 2 {
        let prefix: &[u8; 4] = if kind == 0 { b"U3VL" } else { b"U3VT" };
        buf[..4].copy_from_slice(prefix);
        let len = if next() % 2 == 0 {
            n as u16
        } else {
            (next() % 80) as u16
        };
        buf[6..8].copy_from_slice(&len.to_le_bytes());
        if n >= 20 && kind == 0 {
            buf[18..20].copy_from_slice(&1u16.to_le_bytes());
        }
    }
    n
}

/// CPU time (user + system) of the whole process so far, where
/// `/proc/self/stat` exists (Linux; clock ticks assumed 100 Hz).
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

#[test]
#[ignore = "throughput figure; run with --ignored --nocapture"]
fn throughput_of_5mp_mono8_frames_over_memory_link() {
    throughput_over_memory_link(0);
}

#[test]
#[ignore = "throughput figure; run with --ignored --nocapture"]
fn throughput_of_5mp_mono8_frames_over_memory_link_in_flight() {
    throughput_over_memory_link(IN_FLIGHT);
}

fn throughput_over_memory_link(n: usize) {
    let (w, h) = (2448u32, 2048u32);
    let len = (w * h) as usize;
    let r = rig(config(len as u64), n);
    let sizing = r.receiver.configure(&r.channel, SIRM_AT, 1 << 20).unwrap();
    // Eight distinct source frames and eight frame buffers (80 MB in all),
    // so that the copies are not served from cache.
    let payloads: Vec<Arc<[u8]>> = (0..8).map(|k| content(k, len).into()).collect();
    let info = ImageInfo {
        pixel_format: MONO8,
        size_x: w,
        size_y: h,
        ..ImageInfo::default()
    };
    const FRAMES: u64 = 400;
    let sender = r.sender.clone();
    let camera = thread::spawn(move || {
        for b in 1..=FRAMES {
            let p = payloads[(b % 8) as usize].clone();
            sender.push(Frame::image(b, b, info, p), T).unwrap();
        }
    });
    let mut bufs: Vec<Vec<u8>> = (0..8).map(|_| vec![0u8; len]).collect();
    let cpu0 = process_cpu_time();
    let t = Instant::now();
    for b in 1..=FRAMES {
        let i = recv(&r, &mut bufs[(b % 8) as usize]).unwrap();
        assert_eq!(i.block_id, b);
    }
    let dt = t.elapsed().as_secs_f64();
    camera.join().unwrap();
    let cpu = cpu0.and_then(|c0| Some(process_cpu_time()?.saturating_sub(c0)));
    for (k, buf) in bufs.iter().enumerate() {
        assert!(buf[..] == content(k as u64, len)[..]);
    }
    let mb = (FRAMES as f64 * len as f64) / 1e6;
    let cpu_per_gb = cpu.map_or("n/a".into(), |c| {
        format!("{:.2} s CPU/GB", c.as_secs_f64() / (mb / 1e3))
    });
    let mode = match n {
        0 | 1 => "single transfers".to_string(),
        n => format!("{n} transfers in flight"),
    };
    println!(
        "{mode}: {FRAMES} frames of {w}x{h} Mono8 ({} transfers of {} + final {}): {:.0} MB/s, {:.0} frames/s, {cpu_per_gb} (process)",
        sizing.payload_transfer_count,
        sizing.payload_transfer_size,
        sizing.final_transfer1_size,
        mb / dt,
        FRAMES as f64 / dt
    );
}

both_modes!(
    frames_of_every_shape_arrive_byte_exact,
    a_larger_frame_buffer_receives_every_transfer_in_place,
    a_frame_buffer_too_small_is_reported_and_the_stream_recovers,
    inconsistent_sirm_refuses_the_enable,
    the_device_counts_host_buffers_below_the_sirm_sizes,
    a_disabled_or_idle_stream_times_out_promptly,
    a_dropped_payload_transfer_fails_that_frame_only,
    a_truncated_trailer_fails_that_frame_only,
    a_corrupted_leader_loses_that_frame_and_resynchronises,
    a_stall_mid_frame_is_cleared_and_the_stream_goes_on,
    a_halted_endpoint_stalls_until_cleared,
    a_disconnect_mid_frame_is_a_clean_error,
    block_id_gaps_and_bad_status_are_reported,
    a_payload_over_the_negotiated_size_is_cut_with_overrun_status,
    the_queue_blocks_or_drops_the_oldest,
    garbage_from_the_device_never_panics,
);
