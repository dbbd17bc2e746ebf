//! The host control channel against a small GenCP responder built from the
//! codecs, with fault knobs.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};
use u3v::bootstrap::{Abrm, Sbrm};
use u3v::control_channel::{fetch_device_file, ChannelConfig, ControlChannel, ControlError};
use u3v::gencp::{decode_command, Ack, CommandRef, Flags, Status};
use u3v::link::{DeviceError, MemoryLink, SetupPacket, UsbDevice};
use u3v::manifest::{FileFormat, FileInfo, FileVersion, Manifest, ManifestEntry};

const OUT: u8 = 0x01;
const IN: u8 = 0x81;
const SBRM_AT: u64 = 0x1000;
const MANIFEST_AT: u64 = 0x2000;
const FILE_AT: u64 = 0x3000;
const SCRATCH: u64 = 0x10000;
const SPACE: usize = 0x20000;
const RESPONSE_MS: u32 = 20;

fn xml() -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\"?>\n<RegisterDescription ModelName=\"Test\">\n");
    for i in 0..60 {
        s.push_str(&format!(
            "  <Integer Name=\"Reg{i}\"><Value>{i}</Value></Integer>\n"
        ));
    }
    s.push_str("</RegisterDescription>\n");
    s.into_bytes()
}

/// Rewrites an acknowledge's bytes before it is sent.
type Mangle = Box<dyn FnOnce(&mut Vec<u8>) + Send>;

#[derive(Default)]
struct Faults {
    drop_acks: u32,
    stale_first: bool,
    /// (pending timeout ms, delay of the real answer)
    pending: Option<(u16, Duration)>,
    error_status: Option<Status>,
    wrong_length: bool,
    wrong_written: bool,
    wrong_ack_id: bool,
    stall_in: bool,
    /// Mutates the next real acknowledge's bytes.
    mangle: Option<Mangle>,
}

struct DevState {
    mem: Vec<u8>,
    max_cmd: usize,
    max_ack: usize,
    queue: VecDeque<(Instant, Vec<u8>)>,
    faults: Faults,
    /// (request id, flags) of every command received.
    seen: Vec<(u16, Flags)>,
    /// Commands that broke the announced limits.
    violations: u32,
    halted: bool,
    clears: u32,
}

struct Responder {
    state: Mutex<DevState>,
    changed: Condvar,
}

impl Responder {
    fn new(max_cmd: u32, max_ack: u32) -> Arc<Self> {
        Self::with_file(max_cmd, max_ack, xml(), true)
    }

    fn with_file(max_cmd: u32, max_ack: u32, file: Vec<u8>, good_hash: bool) -> Arc<Self> {
        let mut mem = vec![0u8; SPACE];
        let abrm = Abrm {
            gencp_version: 0x0001_0000,
            manufacturer_name: "Acme".into(),
            model_name: "Test Cam".into(),
            serial_number: "SN1".into(),
            max_device_response_time_ms: RESPONSE_MS,
            manifest_table_address: MANIFEST_AT,
            sbrm_address: SBRM_AT,
            ..Abrm::default()
        };
        let mut b = Vec::new();
        abrm.encode(&mut b).unwrap();
        mem[..b.len()].copy_from_slice(&b);
        let sbrm = Sbrm {
            u3v_version: 0x0001_0000,
            max_cmd_transfer_length: max_cmd,
            max_ack_transfer_length: max_ack,
            ..Sbrm::default()
        };
        b.clear();
        sbrm.encode(&mut b).unwrap();
        mem[SBRM_AT as usize..SBRM_AT as usize + b.len()].copy_from_slice(&b);
        let mut sha1: [u8; 20] = Sha1::digest(&file).into();
        if !good_hash {
            sha1[0] ^= 0xFF;
        }
        let manifest = Manifest {
            entries: vec![ManifestEntry {
                file_version: FileVersion {
                    major: 1,
                    minor: 0,
                    subminor: 0,
                },
                file_info: FileInfo::new(FileInfo::TYPE_DEVICE_XML, FileFormat::Plain, 1, 1),
                address: FILE_AT,
                size: file.len() as u64,
                sha1,
            }],
        };
        b.clear();
        manifest.encode(&mut b).unwrap();
        mem[MANIFEST_AT as usize..MANIFEST_AT as usize + b.len()].copy_from_slice(&b);
        mem[FILE_AT as usize..FILE_AT as usize + file.len()].copy_from_slice(&file);
        Arc::new(Responder {
            state: Mutex::new(DevState {
                mem,
                max_cmd: max_cmd as usize,
                max_ack: max_ack as usize,
                queue: VecDeque::new(),
                faults: Faults::default(),
                seen: Vec::new(),
                violations: 0,
                halted: false,
                clears: 0,
            }),
            changed: Condvar::new(),
        })
    }

    fn faults(&self, f: impl FnOnce(&mut Faults)) {
        f(&mut self.state.lock().unwrap().faults);
    }

    fn st(&self) -> std::sync::MutexGuard<'_, DevState> {
        self.state.lock().unwrap()
    }
}

fn answer(st: &mut DevState, data: &[u8]) -> Option<(u16, Ack)> {
    let Ok(cmd) = decode_command(data) else {
        return None;
    };
    let id = cmd.header.request_id;
    st.seen.push((id, cmd.header.flags));
    if data.len() > st.max_cmd {
        st.violations += 1;
    }
    if let Some(status) = st.faults.error_status.take() {
        return Some((
            id,
            Ack::Error {
                status,
                command_id: cmd.command.ack_id(),
                scd: Vec::new(),
            },
        ));
    }
    let space = st.mem.len() as u64;
    let ack = match cmd.command {
        CommandRef::ReadMem { address, count } => {
            if 12 + usize::from(count) > st.max_ack {
                st.violations += 1;
            }
            let end = address.checked_add(u64::from(count));
            match end {
                Some(end) if end <= space => {
                    let mut d = st.mem[address as usize..end as usize].to_vec();
                    if std::mem::take(&mut st.faults.wrong_length) {
                        d.pop();
                    }
                    if std::mem::take(&mut st.faults.wrong_ack_id) {
                        Ack::WriteMem {
                            bytes_written: count,
                        }
                    } else {
                        Ack::ReadMem(d)
                    }
                }
                _ => Ack::Error {
                    status: Status::INVALID_ADDRESS,
                    command_id: 0x0801,
                    scd: Vec::new(),
                },
            }
        }
        CommandRef::WriteMem { address, data } => {
            if data.len() + 12 > st.max_ack {
                // Aravis' habit, which the host copies: writes also fit the ack limit.
                st.violations += 1;
            }
            match address.checked_add(data.len() as u64) {
                Some(end) if end <= space => {
                    st.mem[address as usize..end as usize].copy_from_slice(data);
                    let mut n = data.len() as u16;
                    if std::mem::take(&mut st.faults.wrong_written) {
                        n -= 1;
                    }
                    Ack::WriteMem { bytes_written: n }
                }
                _ => Ack::Error {
                    status: Status::INVALID_ADDRESS,
                    command_id: 0x0803,
                    scd: Vec::new(),
                },
            }
        }
        _ => Ack::Error {
            status: Status::NOT_IMPLEMENTED,
            command_id: cmd.command.ack_id(),
            scd: Vec::new(),
        },
    };
    Some((id, ack))
}

impl UsbDevice for Responder {
    fn control_in(&self, _: &SetupPacket, _: &mut [u8]) -> Result<usize, DeviceError> {
        Err(DeviceError::Stall)
    }
    fn control_out(&self, _: &SetupPacket, _: &[u8]) -> Result<(), DeviceError> {
        Err(DeviceError::Stall)
    }
    fn bulk_out(&self, endpoint: u8, data: &[u8]) -> Result<(), DeviceError> {
        if endpoint != OUT {
            return Err(DeviceError::NoEndpoint);
        }
        let mut st = self.st();
        let Some((id, ack)) = answer(&mut st, data) else {
            return Ok(());
        };
        let now = Instant::now();
        if st.faults.drop_acks > 0 {
            st.faults.drop_acks -= 1;
            return Ok(());
        }
        if std::mem::take(&mut st.faults.stale_first) {
            // A late answer to an earlier request: same shape, wrong bytes.
            let stale = match &ack {
                Ack::ReadMem(d) => Ack::ReadMem(vec![0xEE; d.len()]),
                other => other.clone(),
            };
            let mut b = Vec::new();
            stale.encode(id.wrapping_sub(1), &mut b).unwrap();
            st.queue.push_back((now, b));
        }
        let mut ready = now;
        if let Some((ms, delay)) = st.faults.pending.take() {
            let mut b = Vec::new();
            Ack::Pending { timeout_ms: ms }.encode(id, &mut b).unwrap();
            st.queue.push_back((now, b));
            ready = now + delay;
        }
        let mut b = Vec::new();
        ack.encode(id, &mut b).unwrap();
        if let Some(m) = st.faults.mangle.take() {
            m(&mut b);
        }
        st.queue.push_back((ready, b));
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
        let mut st = self.st();
        if std::mem::take(&mut st.faults.stall_in) {
            st.halted = true;
        }
        if st.halted {
            return Err(DeviceError::Stall);
        }
        loop {
            let now = Instant::now();
            if let Some((ready, _)) = st.queue.front() {
                if *ready <= now {
                    let (_, msg) = st.queue.pop_front().unwrap();
                    let n = msg.len().min(buf.len());
                    buf[..n].copy_from_slice(&msg[..n]);
                    return Ok(n);
                }
            }
            if now >= deadline {
                return Err(DeviceError::Timeout);
            }
            let wake = match st.queue.front() {
                Some((ready, _)) => (*ready).min(deadline),
                None => deadline,
            };
            st = self.changed.wait_timeout(st, wake - now).unwrap().0;
        }
    }
    fn clear_halt(&self, _endpoint: u8) -> Result<(), DeviceError> {
        let mut st = self.st();
        st.halted = false;
        st.clears += 1;
        Ok(())
    }
}

fn config() -> ChannelConfig {
    ChannelConfig {
        initial_timeout: Duration::from_millis(200),
        timeout_margin: Duration::from_millis(10),
        ..ChannelConfig::default()
    }
}

fn open(dev: &Arc<Responder>) -> (Arc<MemoryLink>, ControlChannel) {
    let link = Arc::new(MemoryLink::new(dev.clone()));
    let ch = ControlChannel::open(link.clone(), config()).unwrap();
    (link, ch)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn open_adopts_bootstrap_limits() {
    let dev = Responder::new(1024, 512);
    let link = Arc::new(MemoryLink::new(dev.clone()));
    let ch = ControlChannel::new(link, config());
    assert_eq!(ch.limits().max_ack_len, 128);
    assert_eq!(ch.limits().ack_timeout, Duration::from_millis(200));
    let info = ch.configure().unwrap();
    assert_eq!(info.sbrm_address, SBRM_AT);
    assert_eq!(info.manifest_table_address, MANIFEST_AT);
    assert_eq!(info.max_device_response_time_ms, RESPONSE_MS);
    let l = ch.limits();
    assert_eq!((l.max_cmd_len, l.max_ack_len), (1024, 512));
    assert_eq!(
        l.ack_timeout,
        Duration::from_millis(u64::from(RESPONSE_MS) + 10)
    );
    assert_eq!(l.max_read_chunk(), 500);
    assert_eq!(l.max_write_chunk(), 500);
    assert_eq!(dev.st().violations, 0);
}

#[test]
fn reads_and_writes_of_many_sizes_round_trip() {
    // cmd limit smaller than the ack limit, then the reverse.
    for (cmd, ack) in [(64u32, 100u32), (100, 48)] {
        let dev = Responder::new(cmd, ack);
        let (_link, ch) = open(&dev);
        let limit = ch
            .limits()
            .max_read_chunk()
            .max(ch.limits().max_write_chunk());
        for len in 1..=3 * limit {
            let addr = SCRATCH + 3 + (len as u64 * 7) % 61;
            let data = pattern(len, len as u8);
            ch.write(addr, &data).unwrap();
            let mut back = vec![0u8; len];
            ch.read(addr, &mut back).unwrap();
            assert_eq!(back, data, "len {len} at {addr:#x} (cmd {cmd}, ack {ack})");
        }
        let st = dev.st();
        assert_eq!(st.violations, 0, "a command broke the limits");
    }
}

#[test]
fn request_ids_wrap_skipping_zero() {
    let dev = Responder::new(256, 256);
    let (_link, ch) = open(&dev);
    ch.set_next_request_id(0xFFFD);
    dev.st().seen.clear();
    let mut b = [0u8; 4];
    for _ in 0..5 {
        ch.read(SCRATCH, &mut b).unwrap();
    }
    let ids: Vec<u16> = dev.st().seen.iter().map(|s| s.0).collect();
    assert_eq!(ids, [0xFFFD, 0xFFFE, 0xFFFF, 1, 2]);
    assert_eq!(ch.next_request_id(), 3);
    ch.set_next_request_id(0);
    assert_eq!(ch.next_request_id(), 1);
}

#[test]
fn dropped_ack_is_retried_with_a_new_id() {
    let dev = Responder::new(256, 256);
    let (_link, ch) = open(&dev);
    ch.write(SCRATCH, &[1, 2, 3, 4]).unwrap();
    dev.faults(|f| f.drop_acks = 2);
    dev.st().seen.clear();
    let t = Instant::now();
    let mut b = [0u8; 4];
    ch.read(SCRATCH, &mut b).unwrap();
    assert_eq!(b, [1, 2, 3, 4]);
    assert!(t.elapsed() < Duration::from_secs(1));
    let seen = dev.st().seen.clone();
    assert_eq!(seen.len(), 3);
    assert!(seen[0].0 != seen[1].0 && seen[1].0 != seen[2].0);
    assert!(seen.iter().all(|s| s.1 == Flags::REQUEST_ACK));
}

#[test]
fn resend_flag_mode_keeps_the_id() {
    let dev = Responder::new(256, 256);
    let link = Arc::new(MemoryLink::new(dev.clone()));
    let ch = ControlChannel::open(
        link,
        ChannelConfig {
            resend_flag: true,
            ..config()
        },
    )
    .unwrap();
    dev.faults(|f| f.drop_acks = 1);
    dev.st().seen.clear();
    ch.write(SCRATCH, &[9]).unwrap();
    let seen = dev.st().seen.clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0, seen[1].0);
    assert_eq!(seen[1].1, Flags::REQUEST_ACK | Flags::COMMAND_RESEND);
}

#[test]
fn timeout_after_all_retries_names_the_address() {
    let dev = Responder::new(256, 256);
    let (_link, ch) = open(&dev);
    dev.faults(|f| f.drop_acks = 100);
    let t = Instant::now();
    let err = ch.read(SCRATCH + 8, &mut [0u8; 4]).unwrap_err();
    assert_eq!(
        err,
        ControlError::Timeout {
            address: SCRATCH + 8,
            attempts: 4
        }
    );
    assert!(err.to_string().contains("0x10008"));
    // 4 attempts of 30 ms.
    assert!(
        t.elapsed() < Duration::from_millis(600),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn stale_ack_is_discarded() {
    let dev = Responder::new(256, 256);
    let (_link, ch) = open(&dev);
    let data = pattern(40, 5);
    ch.write(SCRATCH, &data).unwrap();
    dev.faults(|f| f.stale_first = true);
    let mut back = vec![0u8; 40];
    ch.read(SCRATCH, &mut back).unwrap();
    assert_eq!(back, data);
    // The stale write ack is skipped too.
    dev.faults(|f| f.stale_first = true);
    ch.write(SCRATCH, &data).unwrap();
}

#[test]
fn pending_ack_extends_the_deadline() {
    let dev = Responder::new(256, 256);
    let (_link, ch) = open(&dev);
    let base = ch.limits().ack_timeout;
    let delay = Duration::from_millis(150);
    assert!(delay > base * 2);
    dev.faults(|f| f.pending = Some((300, delay)));
    dev.st().seen.clear();
    ch.write(SCRATCH, &[7, 7]).unwrap();
    // Answered without a resend.
    assert_eq!(dev.st().seen.len(), 1);
}

#[test]
fn error_status_becomes_typed_error() {
    let dev = Responder::new(256, 256);
    let (_link, ch) = open(&dev);
    dev.faults(|f| f.error_status = Some(Status::WRITE_PROTECT));
    let err = ch.write(0x44, b"x").unwrap_err();
    assert_eq!(
        err,
        ControlError::Status {
            status: Status::WRITE_PROTECT,
            address: 0x44
        }
    );
    // Out of range from the device's own checks, on the second chunk.
    let mut big = vec![0u8; 300];
    let err = ch.read(SPACE as u64 - 250, &mut big).unwrap_err();
    assert_eq!(
        err,
        ControlError::Status {
            status: Status::INVALID_ADDRESS,
            address: SPACE as u64 - 250 + 244
        }
    );
}

#[test]
fn protocol_errors() {
    let dev = Responder::new(256, 256);
    let (_link, ch) = open(&dev);
    dev.faults(|f| f.wrong_length = true);
    let err = ch.read(SCRATCH, &mut [0u8; 16]).unwrap_err();
    assert!(
        matches!(&err, ControlError::Protocol(m) if m.contains("16 bytes")),
        "{err}"
    );
    dev.faults(|f| f.wrong_written = true);
    let err = ch.write(SCRATCH, &[1, 2, 3]).unwrap_err();
    assert!(
        matches!(&err, ControlError::Protocol(m) if m.contains("2 bytes written")),
        "{err}"
    );
    dev.faults(|f| f.wrong_ack_id = true);
    let err = ch.read(SCRATCH, &mut [0u8; 4]).unwrap_err();
    assert!(
        matches!(&err, ControlError::Protocol(m) if m.contains("0x0801")),
        "{err}"
    );
    // The channel still works afterwards.
    ch.read(SCRATCH, &mut [0u8; 4]).unwrap();
}

#[test]
fn stall_is_cleared_once() {
    let dev = Responder::new(256, 256);
    let (_link, ch) = open(&dev);
    ch.write(SCRATCH, &[5, 6]).unwrap();
    dev.faults(|f| f.stall_in = true);
    let mut b = [0u8; 2];
    ch.read(SCRATCH, &mut b).unwrap();
    assert_eq!(b, [5, 6]);
    assert_eq!(dev.st().clears, 1);
}

#[test]
fn disconnect_is_typed() {
    let dev = Responder::new(256, 256);
    let (link, ch) = open(&dev);
    link.disconnect();
    let t = Instant::now();
    assert_eq!(ch.read(0, &mut [0u8; 4]), Err(ControlError::Disconnected));
    assert_eq!(ch.write(SCRATCH, &[0]), Err(ControlError::Disconnected));
    assert!(t.elapsed() < Duration::from_millis(100));
}

#[test]
fn address_overflow_is_refused() {
    let dev = Responder::new(256, 256);
    let (_link, ch) = open(&dev);
    assert!(matches!(
        ch.read(u64::MAX - 1, &mut [0u8; 4]),
        Err(ControlError::InvalidRequest(_))
    ));
    ch.read(u64::MAX, &mut []).unwrap();
}

#[test]
fn concurrent_callers_get_their_own_data() {
    let dev = Responder::new(80, 64);
    let (_link, ch) = open(&dev);
    let ch = Arc::new(ch);
    let threads: Vec<_> = (0..6u8)
        .map(|t| {
            let ch = ch.clone();
            thread::spawn(move || {
                let base = SCRATCH + u64::from(t) * 0x1000;
                for i in 0..40usize {
                    let len = 1 + (i * 13 + usize::from(t)) % 200;
                    let data = pattern(len, t.wrapping_mul(17).wrapping_add(i as u8));
                    ch.write(base + i as u64, &data).unwrap();
                    let mut back = vec![0u8; len];
                    ch.read(base + i as u64, &mut back).unwrap();
                    assert_eq!(back, data, "thread {t} iteration {i}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(dev.st().violations, 0);
}

#[test]
fn device_file_is_fetched_and_verified() {
    let dev = Responder::new(512, 300);
    let (_link, ch) = open(&dev);
    let f = fetch_device_file(&ch).unwrap();
    assert_eq!(f.bytes, xml());
    assert!(f.bytes.len() > 3 * 288, "the file spans several reads");
    assert!(!f.is_zip);
    assert!(f.sha1_verified);
    assert_eq!(f.url.address, FILE_AT);
    assert_eq!(f.url.size, xml().len() as u64);
    assert_eq!(f.url.file_name, "Test_Cam.xml");
}

#[test]
fn device_file_with_bad_hash_is_refused() {
    let dev = Responder::with_file(512, 300, xml(), false);
    let (_link, ch) = open(&dev);
    let err = fetch_device_file(&ch).unwrap_err();
    assert!(matches!(err, ControlError::HashMismatch { .. }), "{err}");
}

#[test]
fn device_file_errors_for_empty_and_absurd_manifests() {
    let dev = Responder::new(512, 300);
    let (_link, ch) = open(&dev);
    // Absurd size.
    ch.write(MANIFEST_AT + 8 + 0x10, &(1u64 << 40).to_le_bytes())
        .unwrap();
    assert!(matches!(
        fetch_device_file(&ch),
        Err(ControlError::FileTooLarge { .. })
    ));
    // No entries.
    ch.write(MANIFEST_AT, &0u64.to_le_bytes()).unwrap();
    assert_eq!(fetch_device_file(&ch), Err(ControlError::NoDeviceFile));
}

#[test]
fn mangled_acks_never_panic() {
    let dev = Responder::new(256, 256);
    let link = Arc::new(MemoryLink::new(dev.clone()));
    let ch = ControlChannel::open(
        link,
        ChannelConfig {
            retries: 0,
            ..config()
        },
    )
    .unwrap();
    let mut l = ch.limits();
    l.ack_timeout = Duration::from_millis(5);
    ch.set_limits(l);
    let t = Instant::now();
    let mut ok = 0;
    // A 12-byte header plus 8 bytes of data: truncate at every length,
    // flip every byte, grow.
    let mut cases: Vec<Mangle> = Vec::new();
    for n in 0..20usize {
        cases.push(Box::new(move |b: &mut Vec<u8>| b.truncate(n)));
        cases.push(Box::new(move |b: &mut Vec<u8>| b[n] ^= 0xFF));
        cases.push(Box::new(move |b: &mut Vec<u8>| {
            b.extend(std::iter::repeat(0xA5).take(n + 1))
        }));
    }
    for m in cases {
        dev.faults(|f| f.mangle = Some(m));
        let mut buf = [0u8; 8];
        match ch.read(SCRATCH, &mut buf) {
            Ok(()) => ok += 1,
            Err(
                ControlError::Timeout { .. }
                | ControlError::Protocol(_)
                | ControlError::Status { .. },
            ) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
        // Drain whatever is left and check the channel still works.
        ch.read(SCRATCH, &mut buf).unwrap();
    }
    // Flipping data bytes still decodes as a valid (if different) answer.
    assert!(ok >= 8);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}
