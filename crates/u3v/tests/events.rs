//! The USB3 Vision event channel end to end: a device with a GenCP control
//! pipe and an `EventSender` on endpoint 0x82, the host's `ControlChannel`
//! and `EventReceiver`, joined by `MemoryLink`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use u3v::bootstrap::{abrm, eirm, sbrm};
use u3v::control_channel::{ChannelConfig, ControlChannel, ControlError};
use u3v::control_server::{ControlPipe, ControlServer, RegisterSpace, ServerConfig};
use u3v::event::{self, EventLayout, EventRef};
use u3v::event_channel::{
    Event, EventError, EventReceiver, EventSender, SendError, SendOutcome, SenderConfig,
    TEST_EVENT_ID,
};
use u3v::gencp::{Flags, Status};
use u3v::link::{DeviceError, MemoryLink, SetupPacket, UsbDevice, UsbLink};

const SBRM_AT: u64 = 0x1000;
const EIRM_AT: u64 = 0x2000;
const SIZE: usize = 0x3000;
const EP: u8 = 0x82;
const T: Duration = Duration::from_secs(2);
const SHORT: Duration = Duration::from_millis(50);

struct Registers {
    mem: Mutex<Vec<u8>>,
    events: Arc<EventSender>,
}

fn eirm_offset(address: u64, len: usize) -> Option<u64> {
    let end = address.checked_add(len as u64)?;
    (address >= EIRM_AT && end <= EIRM_AT + eirm::LEN as u64).then(|| address - EIRM_AT)
}

impl RegisterSpace for Registers {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), Status> {
        if let Some(off) = eirm_offset(address, buf.len()) {
            return self.events.read_register(off, buf);
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
        if let Some(off) = eirm_offset(address, data.len()) {
            return self.events.write_register(off, data);
        }
        Err(Status::WRITE_PROTECT)
    }
}

struct Device {
    control: ControlPipe<Registers>,
    events: Arc<EventSender>,
    /// Raw transfers served on the event endpoint before the sender's.
    raw: Mutex<VecDeque<Vec<u8>>>,
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
            EP => {
                if let Some(raw) = self.raw.lock().unwrap().pop_front() {
                    let n = raw.len().min(buf.len());
                    buf[..n].copy_from_slice(&raw[..n]);
                    return Ok(n);
                }
                self.events.bulk_in(buf, deadline)
            }
            _ => Err(DeviceError::NoEndpoint),
        }
    }
    fn clear_halt(&self, endpoint: u8) -> Result<(), DeviceError> {
        match endpoint {
            EP => self.events.clear_halt(),
            _ => Ok(()),
        }
    }
}

struct Rig {
    link: Arc<MemoryLink>,
    device: Arc<Device>,
    channel: ControlChannel,
    sender: Arc<EventSender>,
    receiver: EventReceiver,
}

fn rig(config: SenderConfig) -> Rig {
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
    put(SBRM_AT + sbrm::EIRM_ADDRESS, &EIRM_AT.to_le_bytes());
    let sender = Arc::new(EventSender::new(config));
    let regs = Registers {
        mem: Mutex::new(m),
        events: sender.clone(),
    };
    let server = ControlServer::new(regs, ServerConfig::default().with_response_time(100));
    let device = Arc::new(Device {
        control: ControlPipe::new(server),
        events: sender.clone(),
        raw: Mutex::new(VecDeque::new()),
    });
    let link = Arc::new(MemoryLink::new(device.clone()));
    let channel = ControlChannel::open(link.clone(), ChannelConfig::default()).unwrap();
    let receiver = EventReceiver::new(link.clone(), EP);
    Rig {
        link,
        device,
        channel,
        sender,
        receiver,
    }
}

fn config(max: u32, cap: usize, multi: bool) -> SenderConfig {
    SenderConfig {
        max_transfer_length: max,
        queue_capacity: cap,
        multi_event: multi,
    }
}

fn ev(i: u16) -> Event {
    Event::new(
        0x9000 + i,
        1_000_000 + u64::from(i) * 17,
        (0..usize::from(i % 40))
            .map(|b| (b as u16 * 3 + i) as u8)
            .collect::<Vec<u8>>(),
    )
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

fn message(request_id: u16, layout: EventLayout, events: &[Event]) -> Vec<u8> {
    let refs: Vec<EventRef<'_>> = events.iter().map(Event::as_ref).collect();
    let mut out = Vec::new();
    event::encode(Flags::NONE, request_id, layout, &refs, &mut out).unwrap();
    out
}

#[test]
fn configure_reads_eirm_and_enables() {
    bounded(|| {
        let r = rig(config(512, 8, false));
        assert!(matches!(
            r.receiver.next(SHORT),
            Err(EventError::NotConfigured)
        ));
        let e = r.receiver.configure(&r.channel, EIRM_AT).unwrap();
        assert_eq!(e.max_event_transfer_length, 512);
        assert!(!e.enabled());
        assert!(r.sender.is_enabled());
        // The maximum length is the device's: writing it is refused.
        let err = r
            .channel
            .write_u32(EIRM_AT + eirm::MAX_EVENT_TRANSFER_LENGTH, 4096)
            .unwrap_err();
        assert!(
            matches!(err, ControlError::Status { status, .. } if status == Status::WRITE_PROTECT)
        );
        // Past the EIRM is not the EIRM.
        assert_eq!(
            r.sender.read_register(8, &mut [0u8; 8]),
            Err(Status::INVALID_ADDRESS)
        );
        r.receiver.disable(&r.channel).unwrap();
        assert!(!r.sender.is_enabled());
    });
}

#[test]
fn events_arrive_in_order_with_ids_timestamps_and_data() {
    bounded(|| {
        let r = rig(config(1024, 256, false));
        r.receiver.configure(&r.channel, EIRM_AT).unwrap();
        let sender = r.sender.clone();
        let camera = thread::spawn(move || {
            for i in 0..200 {
                assert_eq!(sender.send(ev(i)), Ok(SendOutcome::Queued));
            }
        });
        let mut got = Vec::new();
        while got.len() < 200 {
            let events = r.receiver.next(T).unwrap();
            assert_eq!(events.len(), 1, "single-event mode");
            got.extend(events);
        }
        camera.join().unwrap();
        let want: Vec<Event> = (0..200).map(ev).collect();
        assert_eq!(got, want);
        let s = r.receiver.stats();
        assert_eq!((s.events, s.messages, s.malformed), (200, 200, 0));
        assert_eq!(s.request_id_gaps, 0);
        assert_eq!(r.sender.stats().events_sent, 200);
        assert!(matches!(r.receiver.next(SHORT), Err(EventError::Timeout)));
    });
}

#[test]
fn disabled_delivers_nothing() {
    bounded(|| {
        let r = rig(config(1024, 8, false));
        r.receiver.configure(&r.channel, EIRM_AT).unwrap();
        r.receiver.disable(&r.channel).unwrap();
        assert_eq!(r.sender.send(ev(1)), Ok(SendOutcome::IgnoredDisabled));
        assert_eq!(r.sender.queued(), 0);
        assert!(matches!(r.receiver.next(SHORT), Err(EventError::Timeout)));
        assert_eq!(r.sender.stats().ignored_disabled, 1);

        // Disabling flushes what was queued.
        r.receiver.configure(&r.channel, EIRM_AT).unwrap();
        r.sender.send(ev(2)).unwrap();
        r.sender.send(ev(3)).unwrap();
        r.receiver.disable(&r.channel).unwrap();
        assert_eq!(r.sender.stats().flushed, 2);
        assert!(matches!(r.receiver.next(SHORT), Err(EventError::Timeout)));
        // Test events are ignored too while disabled.
        r.receiver.fire_test_event(&r.channel).unwrap();
        assert!(matches!(r.receiver.next(SHORT), Err(EventError::Timeout)));
        assert_eq!(r.sender.stats().test_events, 0);
    });
}

#[test]
fn test_event_via_event_test_control() {
    bounded(|| {
        let r = rig(config(1024, 8, false));
        r.receiver.configure(&r.channel, EIRM_AT).unwrap();
        r.receiver.fire_test_event(&r.channel).unwrap();
        let events = r.receiver.next(T).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_id, TEST_EVENT_ID);
        assert!(events[0].data.is_empty());
        assert!(events[0].timestamp <= r.sender.now_ns());
        // The register reads back 0 (self-clearing).
        assert_eq!(
            r.channel
                .read_u32(EIRM_AT + eirm::EVENT_TEST_CONTROL)
                .unwrap(),
            0
        );
        assert_eq!(r.sender.stats().test_events, 1);
    });
}

#[test]
fn multi_event_packs_within_the_max_transfer_length() {
    bounded(|| {
        let max = 200u32;
        let r = rig(config(max, 64, false));
        r.sender.set_multi_event(true);
        r.receiver.configure(&r.channel, EIRM_AT).unwrap();
        let want: Vec<Event> = (0..30)
            .map(|i| Event::new(i, u64::from(i), vec![i as u8; 20]))
            .collect();
        for e in &want {
            r.sender.send(e.clone()).unwrap();
        }
        // 12 + n * (12 + 20) <= 200 gives 5 events per message.
        let mut got = Vec::new();
        let mut messages = 0;
        while got.len() < want.len() {
            let events = r.receiver.next(T).unwrap();
            assert_eq!(events.len(), 5);
            messages += 1;
            got.extend(events);
        }
        assert_eq!(messages, 6);
        assert_eq!(got, want);
        assert!(r.sender.stats().bytes <= u64::from(max) * 6);
        assert_eq!(r.receiver.stats().request_id_gaps, 0);

        // Too large for one message: refused.
        assert_eq!(
            r.sender.send(Event::new(1, 1, vec![0; 200])),
            Err(SendError::TooLarge { len: 224, max })
        );
        assert_eq!(r.sender.stats().too_large, 1);
    });
}

#[test]
fn full_queue_drops_oldest_and_counts() {
    bounded(|| {
        let r = rig(config(1024, 4, false));
        r.receiver.configure(&r.channel, EIRM_AT).unwrap();
        for i in 0..4 {
            assert_eq!(r.sender.send(ev(i)), Ok(SendOutcome::Queued));
        }
        for i in 4..10 {
            assert_eq!(r.sender.send(ev(i)), Ok(SendOutcome::QueuedDroppedOldest));
        }
        assert_eq!(r.sender.stats().dropped_overflow, 6);
        let got: Vec<Event> = (0..4).flat_map(|_| r.receiver.next(T).unwrap()).collect();
        assert_eq!(got, (6..10).map(ev).collect::<Vec<_>>());
        assert!(matches!(r.receiver.next(SHORT), Err(EventError::Timeout)));
        // Device-side drops do not show as request id gaps.
        assert_eq!(r.receiver.stats().request_id_gaps, 0);
    });
}

#[test]
fn garbage_is_skipped_and_counted() {
    bounded(|| {
        let r = rig(config(1024, 16, false));
        r.receiver.configure(&r.channel, EIRM_AT).unwrap();
        let good = message(0, EventLayout::Single, &[ev(7)]);
        let mut wrong_cmd = good.clone();
        wrong_cmd[6] = 0x01; // command id 0x0C01
        let mut bad_size = message(0, EventLayout::Multi, &[ev(7)]);
        bad_size[12] = 5; // event size below the 12-byte header
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut noise = Vec::new();
        for len in [0usize, 1, 11, 12, 23, 24, 100, 1024] {
            let mut v = Vec::with_capacity(len);
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                v.push(seed as u8);
            }
            noise.push(v);
        }
        let mut garbage = vec![
            good[..good.len() - 1].to_vec(), // truncated
            wrong_cmd,
            bad_size,
            b"U3VC\0\0\0\0\0\0\0\0".to_vec(),
        ];
        garbage.extend(noise);
        // A prefix with a huge SCD length.
        let mut huge = good.clone();
        huge[4..6].copy_from_slice(&0u16.to_le_bytes());
        huge[8..10].copy_from_slice(&0xFFFFu16.to_le_bytes());
        garbage.push(huge);
        let n = garbage.len() as u64;
        r.device.raw.lock().unwrap().extend(garbage);
        r.sender.send(ev(3)).unwrap();
        // `next` skips every malformed message and delivers the real event.
        assert_eq!(r.receiver.next(T).unwrap(), vec![ev(3)]);
        assert_eq!(r.receiver.stats().malformed, n);

        // `next_message` reports a malformed message as a typed error.
        r.device.raw.lock().unwrap().push_back(vec![0xAA; 30]);
        assert!(matches!(
            r.receiver.next_message(T),
            Err(EventError::Malformed { len: 30, .. })
        ));
        assert_eq!(r.receiver.stats().malformed, n + 1);
    });
}

#[test]
fn request_id_gaps_are_counted() {
    bounded(|| {
        let r = rig(config(1024, 16, false));
        r.receiver.configure(&r.channel, EIRM_AT).unwrap();
        r.sender.send(ev(1)).unwrap();
        r.receiver.next(T).unwrap(); // request id 0
                                     // A foreign message with request id 5: ids 1..=4 are missing.
        r.device
            .raw
            .lock()
            .unwrap()
            .push_back(message(5, EventLayout::Single, &[ev(2)]));
        assert_eq!(r.receiver.next(T).unwrap(), vec![ev(2)]);
        let s = r.receiver.stats();
        assert_eq!((s.request_id_gaps, s.messages_missing), (1, 4));
    });
}

#[test]
fn stall_is_cleared_and_reported() {
    bounded(|| {
        let r = rig(config(1024, 16, false));
        r.receiver.configure(&r.channel, EIRM_AT).unwrap();
        r.sender.send(ev(1)).unwrap();
        r.sender.halt();
        assert_eq!(
            r.receiver.next(T),
            Err(EventError::Stalled {
                endpoint: EP,
                cleared: true
            })
        );
        assert!(!r.sender.is_halted());
        assert_eq!(r.receiver.stats().stalls, 1);
        // The queued event survived the halt.
        assert_eq!(r.receiver.next(T).unwrap(), vec![ev(1)]);
    });
}

#[test]
fn disconnect_gives_a_clean_error() {
    bounded(|| {
        let r = rig(config(1024, 16, false));
        r.receiver.configure(&r.channel, EIRM_AT).unwrap();
        // A receiver waiting when the device goes away returns promptly.
        let sender = r.sender.clone();
        let unplug = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            sender.disconnect();
        });
        let start = Instant::now();
        assert_eq!(r.receiver.next(T), Err(EventError::Disconnected));
        assert!(start.elapsed() < Duration::from_secs(1));
        unplug.join().unwrap();
        assert_eq!(r.sender.send(ev(1)), Err(SendError::Disconnected));
        // The cable pulled too.
        r.link.disconnect();
        assert_eq!(r.receiver.next(SHORT), Err(EventError::Disconnected));
        assert_eq!(
            r.link.bulk_in(EP, &mut [0; 64], SHORT),
            Err(u3v::LinkError::Disconnected)
        );
    });
}

#[test]
fn callback_style_and_small_host_buffer() {
    bounded(|| {
        let r = rig(config(1024, 64, true));
        r.receiver.configure(&r.channel, EIRM_AT).unwrap();
        for i in 0..10 {
            r.sender.send(ev(i)).unwrap();
        }
        let mut seen = Vec::new();
        let n = r
            .receiver
            .for_each(Duration::from_millis(200), |e| {
                seen.push(e);
                true
            })
            .unwrap();
        assert_eq!(n, 10);
        assert_eq!(seen, (0..10).map(ev).collect::<Vec<_>>());

        // A host buffer smaller than the message: counted, cut.
        r.sender.send(ev(30)).unwrap();
        let mut small = [0u8; 20];
        let got = r.link.bulk_in(EP, &mut small, T).unwrap();
        assert_eq!(got, 20);
        assert_eq!(r.sender.stats().sizing_violations, 1);
    });
}
