//! The device-side GenCP server: byte-level answers to commands, limits,
//! errors, PENDING, and the control pipe over the in-memory link.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use u3v::control_server::{ControlPipe, ControlServer, RegisterSpace, ServerConfig};
use u3v::gencp::{
    decode_ack, AckRef, Command, Flags, Status, PENDING_ACK, READMEM_ACK, READMEM_STACKED_ACK,
    WRITEMEM_ACK, WRITEMEM_STACKED_ACK,
};
use u3v::link::{DeviceError, LinkError, MemoryLink, SetupPacket, UsbDevice, UsbLink};

// ---------------------------------------------------------------------------
// Test register space
// ---------------------------------------------------------------------------

const SIZE: usize = 0x1000;
/// 0x000..0x100 is read-only.
const RO_END: u64 = 0x100;
/// 0x800..0x900 is unmapped.
const HOLE: std::ops::Range<u64> = 0x800..0x900;
/// 0xF00..0x1000 is slow: the hint says `slow_hint`, writes sleep `sleep_ms`.
const SLOW: u64 = 0xF00;

struct MemoryRegisters {
    mem: Mutex<Vec<u8>>,
    slow_hint: Duration,
    sleep_ms: AtomicU64,
}

impl MemoryRegisters {
    fn new() -> Self {
        MemoryRegisters {
            mem: Mutex::new((0..SIZE).map(|i| (i * 7 + 3) as u8).collect()),
            slow_hint: Duration::from_millis(500),
            sleep_ms: AtomicU64::new(0),
        }
    }

    fn range(address: u64, len: usize) -> Result<std::ops::Range<usize>, Status> {
        let end = address
            .checked_add(len as u64)
            .ok_or(Status::INVALID_ADDRESS)?;
        if end > SIZE as u64 || (address < HOLE.end && end > HOLE.start) {
            return Err(Status::INVALID_ADDRESS);
        }
        Ok(address as usize..end as usize)
    }

    fn snapshot(&self, address: u64, len: usize) -> Vec<u8> {
        self.mem.lock().unwrap()[address as usize..address as usize + len].to_vec()
    }
}

impl RegisterSpace for MemoryRegisters {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), Status> {
        let r = Self::range(address, buf.len())?;
        buf.copy_from_slice(&self.mem.lock().unwrap()[r]);
        Ok(())
    }

    fn write(&self, address: u64, data: &[u8]) -> Result<(), Status> {
        let r = Self::range(address, data.len())?;
        if address < RO_END {
            return Err(Status::WRITE_PROTECT);
        }
        if address >= SLOW {
            thread::sleep(Duration::from_millis(self.sleep_ms.load(Ordering::SeqCst)));
        }
        self.mem.lock().unwrap()[r].copy_from_slice(data);
        Ok(())
    }

    fn duration_hint(&self, address: u64, _len: usize, _write: bool) -> Duration {
        if address >= SLOW && address < SIZE as u64 {
            self.slow_hint
        } else {
            Duration::ZERO
        }
    }
}

fn server() -> ControlServer<MemoryRegisters> {
    ControlServer::new(MemoryRegisters::new(), ServerConfig::default())
}

fn encode(cmd: &Command, flags: Flags, id: u16) -> Vec<u8> {
    let mut buf = Vec::new();
    cmd.encode(flags, id, &mut buf).unwrap();
    buf
}

fn run<R: RegisterSpace>(s: &ControlServer<R>, cmd: &Command, id: u16) -> Vec<Vec<u8>> {
    let mut acks = Vec::new();
    s.handle(&encode(cmd, Flags::REQUEST_ACK, id), &mut acks);
    acks
}

/// Exactly one acknowledge; returns it.
fn one<R: RegisterSpace>(s: &ControlServer<R>, cmd: &Command, id: u16) -> Vec<u8> {
    let mut acks = run(s, cmd, id);
    assert_eq!(acks.len(), 1, "one acknowledge for {cmd:?}");
    acks.pop().unwrap()
}

/// Asserts an error acknowledge: status, ack id, request id, empty SCD.
fn assert_error(ack: &[u8], status: Status, ack_id: u16, request_id: u16) {
    let d = decode_ack(ack).expect("a well-formed acknowledge");
    assert_eq!(d.header.status, status);
    assert_eq!(d.header.command_id, ack_id);
    assert_eq!(d.header.request_id, request_id);
    assert_eq!(d.header.scd_len, 0);
}

// ---------------------------------------------------------------------------
// READMEM / WRITEMEM
// ---------------------------------------------------------------------------

#[test]
fn readmem_ack_bytes() {
    let s = server();
    let ack = one(
        &s,
        &Command::ReadMem {
            address: 0x10,
            count: 4,
        },
        0x1234,
    );
    let m = MemoryRegisters::new().snapshot(0x10, 4);
    let mut expected = vec![
        0x55, 0x33, 0x56, 0x43, // U3VC
        0x00, 0x00, // SUCCESS
        0x01, 0x08, // READMEM_ACK
        0x04, 0x00, // scd length
        0x34, 0x12, // request id
    ];
    expected.extend_from_slice(&m);
    assert_eq!(ack, expected);
}

#[test]
fn readmem_every_size_up_to_the_ack_limit() {
    let s = server();
    let max = s.config().max_read_len();
    assert_eq!(max, 1024 - 12);
    let regs = MemoryRegisters::new();
    for count in 1..=max {
        let address = 0x100 + (count as u64 % 7);
        let ack = one(
            &s,
            &Command::ReadMem {
                address,
                count: count as u16,
            },
            count as u16,
        );
        assert_eq!(ack.len(), 12 + count);
        let d = decode_ack(&ack).unwrap();
        assert_eq!(d.header.request_id, count as u16);
        assert_eq!(d.ack, AckRef::ReadMem(&regs.snapshot(address, count)));
    }
    for count in [0, max + 1, usize::from(u16::MAX)] {
        let ack = one(
            &s,
            &Command::ReadMem {
                address: 0x100,
                count: count as u16,
            },
            9,
        );
        assert_error(&ack, Status::INVALID_PARAMETER, READMEM_ACK, 9);
    }
    assert_eq!(s.stats().bytes_read, (max * (max + 1) / 2) as u64);
}

#[test]
fn writemem_every_size_up_to_the_command_limit() {
    let s = server();
    let max = s.config().max_write_len();
    assert_eq!(max, 1024 + 8 - 12 - 8);
    for n in 1..=max {
        let data: Vec<u8> = (0..n).map(|i| (i + n) as u8).collect();
        let address = 0x200 + (n as u64 % 5);
        let ack = one(
            &s,
            &Command::WriteMem {
                address,
                data: data.clone(),
            },
            n as u16,
        );
        let d = decode_ack(&ack).unwrap();
        assert_eq!(d.header.command_id, WRITEMEM_ACK);
        assert_eq!(d.header.request_id, n as u16);
        assert_eq!(
            d.ack,
            AckRef::WriteMem {
                bytes_written: n as u16
            }
        );
        assert_eq!(s.registers().snapshot(address, n), data);
    }
    // One byte more than the command limit, and an empty write.
    for n in [max + 1, 0] {
        let ack = one(
            &s,
            &Command::WriteMem {
                address: 0x200,
                data: vec![1; n],
            },
            3,
        );
        assert_error(&ack, Status::INVALID_PARAMETER, WRITEMEM_ACK, 3);
    }
}

#[test]
fn writemem_ack_bytes() {
    let s = server();
    let ack = one(
        &s,
        &Command::WriteMem {
            address: 0x300,
            data: vec![9; 6],
        },
        2,
    );
    assert_eq!(
        ack,
        [0x55, 0x33, 0x56, 0x43, 0, 0, 0x03, 0x08, 4, 0, 2, 0, 0, 0, 6, 0]
    );
}

#[test]
fn register_space_refusals_become_statuses() {
    let s = server();
    let cases = [
        (
            Command::ReadMem {
                address: 0x850,
                count: 4,
            },
            Status::INVALID_ADDRESS,
            READMEM_ACK,
        ),
        (
            Command::ReadMem {
                address: 0x7FE,
                count: 4,
            },
            Status::INVALID_ADDRESS,
            READMEM_ACK,
        ),
        (
            Command::ReadMem {
                address: SIZE as u64 - 2,
                count: 4,
            },
            Status::INVALID_ADDRESS,
            READMEM_ACK,
        ),
        (
            Command::ReadMem {
                address: u64::MAX - 1,
                count: 4,
            },
            Status::INVALID_ADDRESS,
            READMEM_ACK,
        ),
        (
            Command::WriteMem {
                address: 0x10,
                data: vec![0; 4],
            },
            Status::WRITE_PROTECT,
            WRITEMEM_ACK,
        ),
        (
            Command::WriteMem {
                address: 0x8F0,
                data: vec![0; 4],
            },
            Status::INVALID_ADDRESS,
            WRITEMEM_ACK,
        ),
        (
            Command::WriteMem {
                address: u64::MAX,
                data: vec![0; 2],
            },
            Status::INVALID_ADDRESS,
            WRITEMEM_ACK,
        ),
    ];
    for (i, (cmd, status, ack_id)) in cases.iter().enumerate() {
        // The end of memory is in the slow region: PENDING comes first there.
        let ack = run(&s, cmd, 100 + i as u16).pop().unwrap();
        assert_error(&ack, *status, *ack_id, 100 + i as u16);
    }
    // The read-only region is untouched.
    assert_eq!(
        s.registers().snapshot(0x10, 4),
        MemoryRegisters::new().snapshot(0x10, 4)
    );
    let st = s.stats();
    assert_eq!(st.error_acks, cases.len() as u64);
    assert_eq!(st.bytes_written, 0);
}

#[test]
fn a_register_space_returning_success_as_error_sends_generic_error() {
    struct Weird;
    impl RegisterSpace for Weird {
        fn read(&self, _: u64, _: &mut [u8]) -> Result<(), Status> {
            Err(Status::SUCCESS)
        }
        fn write(&self, _: u64, _: &[u8]) -> Result<(), Status> {
            Err(Status(0xC123))
        }
    }
    let s = ControlServer::new(Arc::new(Weird), ServerConfig::default());
    let mut acks = Vec::new();
    let cmd = Command::ReadMem {
        address: 0,
        count: 4,
    };
    s.handle(&encode(&cmd, Flags::REQUEST_ACK, 1), &mut acks);
    assert_error(&acks[0], Status::ERROR, READMEM_ACK, 1);
    let cmd = Command::WriteMem {
        address: 0,
        data: vec![1],
    };
    s.handle(&encode(&cmd, Flags::REQUEST_ACK, 2), &mut acks);
    assert_error(&acks[1], Status(0xC123), WRITEMEM_ACK, 2);
}

// ---------------------------------------------------------------------------
// Stacked
// ---------------------------------------------------------------------------

#[test]
fn readmem_stacked_concatenates() {
    let s = server();
    let regs = MemoryRegisters::new();
    let ack = one(
        &s,
        &Command::ReadMemStacked(vec![(0x10, 4), (0x400, 1), (0x20, 8)]),
        5,
    );
    let d = decode_ack(&ack).unwrap();
    assert_eq!(d.header.command_id, READMEM_STACKED_ACK);
    let mut want = regs.snapshot(0x10, 4);
    want.extend(regs.snapshot(0x400, 1));
    want.extend(regs.snapshot(0x20, 8));
    assert_eq!(d.ack, AckRef::ReadMemStacked(&want));

    // Exactly the ack limit in total, then one byte more.
    let ack = one(
        &s,
        &Command::ReadMemStacked(vec![(0, 500), (0x200, 512)]),
        6,
    );
    assert_eq!(ack.len(), 1024);
    let ack = one(
        &s,
        &Command::ReadMemStacked(vec![(0, 500), (0x200, 513)]),
        6,
    );
    assert_error(&ack, Status::INVALID_PARAMETER, READMEM_STACKED_ACK, 6);
    // A zero count, an empty list, a hole.
    for (list, status) in [
        (vec![(0, 4), (4, 0)], Status::INVALID_PARAMETER),
        (vec![], Status::INVALID_PARAMETER),
        (vec![(0, 4), (0x880, 4)], Status::INVALID_ADDRESS),
    ] {
        let ack = one(&s, &Command::ReadMemStacked(list), 7);
        assert_error(&ack, status, READMEM_STACKED_ACK, 7);
    }
}

#[test]
fn writemem_stacked_reports_each_entry_and_stops_at_a_failure() {
    let s = server();
    let ack = one(
        &s,
        &Command::WriteMemStacked(vec![(0x300, vec![1, 2, 3]), (0x400, vec![4; 10])]),
        8,
    );
    let d = decode_ack(&ack).unwrap();
    assert_eq!(d.header.command_id, WRITEMEM_STACKED_ACK);
    match d.ack {
        AckRef::WriteMemStacked(l) => assert_eq!(l.iter().collect::<Vec<_>>(), [3, 10]),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.registers().snapshot(0x300, 3), [1, 2, 3]);

    // The second entry is write-protected: the first stays written, the
    // third is not carried out.
    let before = s.registers().snapshot(0x500, 2);
    let ack = one(
        &s,
        &Command::WriteMemStacked(vec![
            (0x310, vec![7, 7]),
            (0x20, vec![1]),
            (0x500, vec![9, 9]),
        ]),
        9,
    );
    assert_error(&ack, Status::WRITE_PROTECT, WRITEMEM_STACKED_ACK, 9);
    assert_eq!(s.registers().snapshot(0x310, 2), [7, 7]);
    assert_eq!(s.registers().snapshot(0x500, 2), before);

    for list in [vec![], vec![(0x300, vec![1]), (0x301, vec![])]] {
        let ack = one(&s, &Command::WriteMemStacked(list), 10);
        assert_error(&ack, Status::INVALID_PARAMETER, WRITEMEM_STACKED_ACK, 10);
    }
}

#[test]
fn stacked_commands_can_be_turned_off() {
    let cfg = ServerConfig {
        stacked: false,
        ..ServerConfig::default()
    };
    let s = ControlServer::new(MemoryRegisters::new(), cfg);
    let ack = one(&s, &Command::ReadMemStacked(vec![(0, 4)]), 11);
    assert_error(&ack, Status::NOT_IMPLEMENTED, READMEM_STACKED_ACK, 11);
    let ack = one(&s, &Command::WriteMemStacked(vec![(0x300, vec![1])]), 12);
    assert_error(&ack, Status::NOT_IMPLEMENTED, WRITEMEM_STACKED_ACK, 12);
    assert_eq!(
        s.registers().snapshot(0x300, 1),
        MemoryRegisters::new().snapshot(0x300, 1)
    );
}

// ---------------------------------------------------------------------------
// Malformed and unknown commands
// ---------------------------------------------------------------------------

fn header(flags: u16, id: u16, scd_len: u16, request_id: u16) -> Vec<u8> {
    let mut b = 0x4356_3355u32.to_le_bytes().to_vec();
    for v in [flags, id, scd_len, request_id] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b
}

fn raw(s: &ControlServer<MemoryRegisters>, msg: &[u8]) -> Vec<Vec<u8>> {
    let mut acks = Vec::new();
    s.handle(msg, &mut acks);
    acks
}

#[test]
fn unknown_command_ids_are_not_implemented() {
    let s = server();
    for id in [0x0000, 0x0804, 0x0C00, 0x0801, 0xFFFF] {
        let acks = raw(&s, &header(0x4000, id, 0, 77));
        assert_eq!(acks.len(), 1);
        assert_error(&acks[0], Status::NOT_IMPLEMENTED, id.wrapping_add(1), 77);
    }
    // With a body too.
    let mut msg = header(0x4000, 0x0A00, 3, 78);
    msg.extend_from_slice(&[1, 2, 3]);
    assert_error(&raw(&s, &msg)[0], Status::NOT_IMPLEMENTED, 0x0A01, 78);
}

#[test]
fn bad_headers_and_lengths() {
    let s = server();
    // Wrong prefix: request id still echoed.
    let mut msg = encode(
        &Command::ReadMem {
            address: 0,
            count: 4,
        },
        Flags::REQUEST_ACK,
        0x4242,
    );
    msg[0] = b'X';
    assert_error(
        &raw(&s, &msg)[0],
        Status::INVALID_HEADER,
        READMEM_ACK,
        0x4242,
    );
    // Too short to hold a request id, or anything.
    assert_error(
        &raw(&s, &msg[..8])[0],
        Status::INVALID_HEADER,
        READMEM_ACK,
        0,
    );
    assert_error(&raw(&s, &[])[0], Status::INVALID_HEADER, 0, 0);
    // Length disagreeing with the header: one byte more, one byte less.
    let mut good = encode(
        &Command::ReadMem {
            address: 0,
            count: 4,
        },
        Flags::REQUEST_ACK,
        21,
    );
    good.push(0);
    assert_error(&raw(&s, &good)[0], Status::INVALID_HEADER, READMEM_ACK, 21);
    good.truncate(good.len() - 2);
    assert_error(&raw(&s, &good)[0], Status::INVALID_HEADER, READMEM_ACK, 21);
    // A READMEM SCD of the wrong size, a WRITEMEM without its address, a
    // stacked list that is not whole entries.
    let mut m = header(0x4000, 0x0800, 8, 22);
    m.extend_from_slice(&[0; 8]);
    assert_error(&raw(&s, &m)[0], Status::INVALID_PARAMETER, READMEM_ACK, 22);
    let mut m = header(0x4000, 0x0802, 4, 23);
    m.extend_from_slice(&[0; 4]);
    assert_error(&raw(&s, &m)[0], Status::INVALID_PARAMETER, WRITEMEM_ACK, 23);
    let mut m = header(0x4000, 0x0806, 13, 24);
    m.extend_from_slice(&[0; 13]);
    assert_error(
        &raw(&s, &m)[0],
        Status::INVALID_PARAMETER,
        READMEM_STACKED_ACK,
        24,
    );
    let mut m = header(0x4000, 0x0808, 14, 25);
    m.extend_from_slice(&[0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 2]);
    assert_error(
        &raw(&s, &m)[0],
        Status::INVALID_PARAMETER,
        WRITEMEM_STACKED_ACK,
        25,
    );
    // A message longer than the command limit.
    let mut m = header(0x4000, 0x0A00, 2000, 26);
    m.resize(12 + 2000, 0);
    assert_error(&raw(&s, &m)[0], Status::INVALID_PARAMETER, 0x0A01, 26);
    assert!(s.stats().malformed >= 5);
}

#[test]
fn no_ack_without_request_ack() {
    let s = server();
    let mut acks = Vec::new();
    let w = Command::WriteMem {
        address: 0x300,
        data: vec![0xAB; 4],
    };
    assert_eq!(s.handle(&encode(&w, Flags::NONE, 1), &mut acks), 0);
    assert_eq!(
        s.registers().snapshot(0x300, 4),
        [0xAB; 4],
        "still carried out"
    );
    // Errors, unknown ids and slow operations are silent too.
    let w = Command::WriteMem {
        address: 0x10,
        data: vec![0; 4],
    };
    assert_eq!(s.handle(&encode(&w, Flags::NONE, 2), &mut acks), 0);
    assert_eq!(s.handle(&header(0, 0x0A00, 0, 3), &mut acks), 0);
    let w = Command::WriteMem {
        address: SLOW,
        data: vec![1],
    };
    assert_eq!(s.handle(&encode(&w, Flags::NONE, 4), &mut acks), 0);
    assert!(acks.is_empty());
    assert_eq!(s.stats().acks, 0);
}

#[test]
fn resend_policy() {
    let s = server();
    let cmd = Command::ReadMem {
        address: 0,
        count: 2,
    };
    let mut acks = Vec::new();
    s.handle(
        &encode(&cmd, Flags::REQUEST_ACK | Flags::COMMAND_RESEND, 31),
        &mut acks,
    );
    assert!(decode_ack(&acks[0]).unwrap().header.status.is_success());
    let cfg = ServerConfig {
        accept_resend: false,
        ..ServerConfig::default()
    };
    let s = ControlServer::new(MemoryRegisters::new(), cfg);
    acks.clear();
    s.handle(
        &encode(&cmd, Flags::REQUEST_ACK | Flags::COMMAND_RESEND, 32),
        &mut acks,
    );
    assert_error(&acks[0], Status::RESEND_NOT_SUPPORTED, READMEM_ACK, 32);
}

// ---------------------------------------------------------------------------
// PENDING_ACK
// ---------------------------------------------------------------------------

#[test]
fn slow_operations_are_announced_with_pending() {
    let s = server();
    let acks = run(
        &s,
        &Command::WriteMem {
            address: SLOW,
            data: vec![5; 4],
        },
        40,
    );
    assert_eq!(acks.len(), 2);
    let p = decode_ack(&acks[0]).unwrap();
    assert_eq!(p.header.command_id, PENDING_ACK);
    assert_eq!(p.header.request_id, 40);
    assert_eq!(p.ack, AckRef::Pending { timeout_ms: 500 });
    assert_eq!(
        acks[0],
        [0x55, 0x33, 0x56, 0x43, 0, 0, 0x05, 0x08, 4, 0, 40, 0, 0, 0, 0xF4, 0x01]
    );
    let f = decode_ack(&acks[1]).unwrap();
    assert_eq!(f.header.request_id, 40);
    assert_eq!(f.ack, AckRef::WriteMem { bytes_written: 4 });

    // A read, and a stacked read summing the hints.
    let acks = run(
        &s,
        &Command::ReadMem {
            address: SLOW,
            count: 4,
        },
        41,
    );
    assert_eq!(acks.len(), 2);
    assert_eq!(
        decode_ack(&acks[0]).unwrap().ack,
        AckRef::Pending { timeout_ms: 500 }
    );
    let acks = run(
        &s,
        &Command::ReadMemStacked(vec![(SLOW, 4), (SLOW + 8, 4)]),
        42,
    );
    assert_eq!(
        decode_ack(&acks[0]).unwrap().ack,
        AckRef::Pending { timeout_ms: 1000 }
    );
    assert_eq!(
        decode_ack(&acks[1]).unwrap().header.command_id,
        READMEM_STACKED_ACK
    );

    // Quick operations get none; a failed slow one gets pending then the error.
    assert_eq!(
        run(
            &s,
            &Command::ReadMem {
                address: 0,
                count: 4
            },
            43
        )
        .len(),
        1
    );
    let acks = run(
        &s,
        &Command::WriteMem {
            address: SIZE as u64 - 2,
            data: vec![1; 4],
        },
        44,
    );
    assert_eq!(acks.len(), 2);
    assert_error(&acks[1], Status::INVALID_ADDRESS, WRITEMEM_ACK, 44);
    assert_eq!(s.stats().pending_acks, 4);
}

#[test]
fn pending_timeout_is_clamped_and_threshold_follows_response_time() {
    let mut regs = MemoryRegisters::new();
    regs.slow_hint = Duration::from_secs(1000);
    let cfg = ServerConfig::default().with_response_time(2000);
    assert_eq!(cfg.pending_threshold, Duration::from_millis(1000));
    let s = ControlServer::new(regs, cfg);
    let acks = run(
        &s,
        &Command::ReadMem {
            address: SLOW,
            count: 1,
        },
        1,
    );
    assert_eq!(
        decode_ack(&acks[0]).unwrap().ack,
        AckRef::Pending {
            timeout_ms: u16::MAX
        }
    );
    // Under the threshold: no pending.
    let mut regs = MemoryRegisters::new();
    regs.slow_hint = Duration::from_micros(999_999);
    let s = ControlServer::new(regs, cfg);
    assert_eq!(
        run(
            &s,
            &Command::ReadMem {
                address: SLOW,
                count: 1
            },
            1
        )
        .len(),
        1
    );
    // Sub-millisecond remainders round up.
    let mut regs = MemoryRegisters::new();
    regs.slow_hint = Duration::from_micros(150_001);
    let s = ControlServer::new(regs, ServerConfig::default());
    let acks = run(
        &s,
        &Command::ReadMem {
            address: SLOW,
            count: 1,
        },
        1,
    );
    assert_eq!(
        decode_ack(&acks[0]).unwrap().ack,
        AckRef::Pending { timeout_ms: 151 }
    );
}

// ---------------------------------------------------------------------------
// Garbage never panics
// ---------------------------------------------------------------------------

fn check_acks(acks: &[Vec<u8>], max_ack: usize) {
    assert!(acks.len() <= 2, "at most pending + final");
    for (i, a) in acks.iter().enumerate() {
        assert!(a.len() <= max_ack);
        let d = decode_ack(a).expect("every acknowledge decodes");
        if i + 1 < acks.len() {
            assert_eq!(d.header.command_id, PENDING_ACK);
        }
    }
}

fn arb_command() -> impl Strategy<Value = Command> {
    let addr = prop_oneof![0u64..0x1100, Just(u64::MAX - 3), any::<u64>()];
    prop_oneof![
        (addr.clone(), any::<u16>())
            .prop_map(|(address, count)| Command::ReadMem { address, count }),
        (addr.clone(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(address, data)| Command::WriteMem { address, data }),
        prop::collection::vec((addr.clone(), 0u16..600), 0..6).prop_map(Command::ReadMemStacked),
        prop::collection::vec((addr, prop::collection::vec(any::<u8>(), 0..20)), 0..6)
            .prop_map(Command::WriteMemStacked),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        let s = server();
        let mut acks = Vec::new();
        s.handle(&bytes, &mut acks);
        check_acks(&acks, 1024);
    }

    #[test]
    fn random_headers_never_panic(
        flags in any::<u16>(), id in 0x07FEu16..0x080B, scd_len in any::<u16>(),
        rid in any::<u16>(), body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let s = server();
        let mut msg = header(flags, id, scd_len, rid);
        msg.extend_from_slice(&body);
        let mut acks = Vec::new();
        s.handle(&msg, &mut acks);
        check_acks(&acks, 1024);
        if flags & 0x4000 != 0 {
            prop_assert!(!acks.is_empty());
            for a in &acks {
                prop_assert_eq!(decode_ack(a).unwrap().header.request_id, rid);
            }
        } else {
            prop_assert!(acks.is_empty());
        }
    }

    #[test]
    fn valid_and_mutated_commands(
        cmd in arb_command(), rid in any::<u16>(), flip in any::<(usize, u8)>(), mutate in any::<bool>(),
    ) {
        let s = server();
        let mut msg = Vec::new();
        if cmd.encode(Flags::REQUEST_ACK, rid, &mut msg).is_err() {
            // Too long for one message: nothing to send.
            return Ok(());
        }
        if mutate && !msg.is_empty() {
            let i = flip.0 % msg.len();
            msg[i] ^= flip.1 | 1;
        }
        let mut acks = Vec::new();
        s.handle(&msg, &mut acks);
        check_acks(&acks, 1024);
        if !mutate {
            // An intact command is always answered, with its request id.
            prop_assert!(!acks.is_empty());
            for a in &acks {
                prop_assert_eq!(decode_ack(a).unwrap().header.request_id, rid);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Through the in-memory link
// ---------------------------------------------------------------------------

const OUT: u8 = 0x01;
const IN: u8 = 0x81;
const T: Duration = Duration::from_secs(5);

/// A device whose only interface is the control channel.
struct ControlDevice {
    pipe: ControlPipe<Arc<MemoryRegisters>>,
}

impl UsbDevice for ControlDevice {
    fn control_in(&self, _: &SetupPacket, _: &mut [u8]) -> Result<usize, DeviceError> {
        Err(DeviceError::Stall)
    }
    fn control_out(&self, _: &SetupPacket, _: &[u8]) -> Result<(), DeviceError> {
        Err(DeviceError::Stall)
    }
    fn bulk_out(&self, endpoint: u8, data: &[u8]) -> Result<(), DeviceError> {
        match endpoint {
            OUT => self.pipe.bulk_out(data),
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
            IN => self.pipe.bulk_in(buf, deadline),
            _ => Err(DeviceError::NoEndpoint),
        }
    }
    fn clear_halt(&self, _: u8) -> Result<(), DeviceError> {
        Ok(())
    }
}

fn link() -> (Arc<MemoryLink>, Arc<ControlDevice>, Arc<MemoryRegisters>) {
    let regs = Arc::new(MemoryRegisters::new());
    let dev = Arc::new(ControlDevice {
        pipe: ControlPipe::new(ControlServer::new(regs.clone(), ServerConfig::default())),
    });
    (Arc::new(MemoryLink::new(dev.clone())), dev, regs)
}

#[test]
fn commands_and_acks_through_memory_link() {
    let (link, dev, regs) = link();
    let host = thread::spawn(move || {
        let mut buf = vec![0u8; 1024];
        // Nothing queued yet: the device times out.
        assert_eq!(
            link.bulk_in(IN, &mut buf, Duration::from_millis(20)),
            Err(LinkError::Timeout)
        );
        for id in 1..=50u16 {
            let w = Command::WriteMem {
                address: 0x300 + u64::from(id),
                data: vec![id as u8],
            };
            link.bulk_out(OUT, &encode(&w, Flags::REQUEST_ACK, id), T)
                .unwrap();
            let n = link.bulk_in(IN, &mut buf, T).unwrap();
            let d = decode_ack(&buf[..n]).unwrap();
            assert_eq!(d.header.request_id, id);
            assert_eq!(d.ack, AckRef::WriteMem { bytes_written: 1 });

            let r = Command::ReadMem {
                address: 0x300 + u64::from(id),
                count: 1,
            };
            link.bulk_out(OUT, &encode(&r, Flags::REQUEST_ACK, id + 1000), T)
                .unwrap();
            let n = link.bulk_in(IN, &mut buf, T).unwrap();
            assert_eq!(
                decode_ack(&buf[..n]).unwrap().ack,
                AckRef::ReadMem(&[id as u8])
            );
        }
        // The wrong endpoints.
        assert_eq!(
            link.bulk_out(0x02, &[0], T),
            Err(LinkError::NoEndpoint(0x02))
        );
        assert_eq!(
            link.bulk_in(0x82, &mut buf, T),
            Err(LinkError::NoEndpoint(0x82))
        );
    });
    host.join().unwrap();
    assert_eq!(regs.snapshot(0x301, 3), [1, 2, 3]);
    assert_eq!(dev.pipe.queued(), 0);
    assert_eq!(dev.pipe.server().stats().acks, 100);
}

#[test]
fn an_ack_longer_than_the_host_buffer_comes_in_pieces() {
    let (link, dev, regs) = link();
    let r = Command::ReadMem {
        address: 0x40,
        count: 100,
    };
    link.bulk_out(OUT, &encode(&r, Flags::REQUEST_ACK, 7), T)
        .unwrap();
    let mut whole = Vec::new();
    let mut buf = [0u8; 48];
    while whole.len() < 112 {
        let n = link.bulk_in(IN, &mut buf, T).unwrap();
        assert!(n > 0);
        whole.extend_from_slice(&buf[..n]);
    }
    assert_eq!(whole.len(), 112);
    assert_eq!(
        decode_ack(&whole).unwrap().ack,
        AckRef::ReadMem(&regs.snapshot(0x40, 100))
    );
    assert_eq!(dev.pipe.queued(), 0);
    // Queued acks are delivered in order, and clear() drops them.
    for id in [1u16, 2, 3] {
        let r = Command::ReadMem {
            address: 0,
            count: 1,
        };
        link.bulk_out(OUT, &encode(&r, Flags::REQUEST_ACK, id), T)
            .unwrap();
    }
    let mut big = [0u8; 64];
    let n = link.bulk_in(IN, &mut big, T).unwrap();
    assert_eq!(decode_ack(&big[..n]).unwrap().header.request_id, 1);
    assert_eq!(dev.pipe.clear(), 2);
    assert_eq!(
        link.bulk_in(IN, &mut big, Duration::from_millis(10)),
        Err(LinkError::Timeout)
    );
}

#[test]
fn pending_reaches_the_host_while_the_device_works() {
    let (link, _dev, regs) = link();
    regs.sleep_ms.store(300, Ordering::SeqCst);
    let reader = {
        let link = link.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 64];
            let n = link.bulk_in(IN, &mut buf, T).unwrap();
            let first = (buf[..n].to_vec(), Instant::now());
            let n = link.bulk_in(IN, &mut buf, T).unwrap();
            (first, buf[..n].to_vec())
        })
    };
    let w = Command::WriteMem {
        address: SLOW,
        data: vec![1, 2],
    };
    let started = Instant::now();
    link.bulk_out(OUT, &encode(&w, Flags::REQUEST_ACK, 99), T)
        .unwrap();
    let done = Instant::now();
    let ((pending, pending_at), fin) = reader.join().unwrap();
    assert!(done - started >= Duration::from_millis(300));
    assert!(
        pending_at < done,
        "the PENDING acknowledge arrived before the write finished"
    );
    let p = decode_ack(&pending).unwrap();
    assert_eq!(
        (p.header.request_id, p.ack),
        (99, AckRef::Pending { timeout_ms: 500 })
    );
    let f = decode_ack(&fin).unwrap();
    assert_eq!(
        (f.header.request_id, f.ack),
        (99, AckRef::WriteMem { bytes_written: 2 })
    );
}

// ---------------------------------------------------------------------------
// Access privilege
// ---------------------------------------------------------------------------

fn status_of<R: RegisterSpace>(s: &ControlServer<R>, cmd: &Command) -> Status {
    decode_ack(&one(s, cmd, 1)).unwrap().header.status
}

fn read_of<R: RegisterSpace>(s: &ControlServer<R>, address: u64, count: u16) -> Vec<u8> {
    let ack = one(s, &Command::ReadMem { address, count }, 2);
    match decode_ack(&ack).unwrap().ack {
        AckRef::ReadMem(d) => d.to_vec(),
        other => panic!("not a READMEM ack: {other:?}"),
    }
}

fn write_cmd(address: u64, data: &[u8]) -> Command {
    Command::WriteMem {
        address,
        data: data.to_vec(),
    }
}

#[test]
fn access_privilege_arbitrates_between_hosts_of_one_device() {
    use u3v::access::AccessPrivilege;
    let regs = Arc::new(MemoryRegisters::new());
    let privilege = Arc::new(AccessPrivilege::new());
    let a =
        ControlServer::new(regs.clone(), ServerConfig::default()).with_access(privilege.clone());
    let b =
        ControlServer::new(regs.clone(), ServerConfig::default()).with_access(privilege.clone());
    assert_ne!(a.host(), b.host());
    let underlying = regs.snapshot(0x204, 4);

    // Nobody holds it: both write freely, 0x204 reads 0.
    assert_eq!(read_of(&a, 0x204, 4), [0, 0, 0, 0]);
    assert_eq!(status_of(&a, &write_cmd(0x300, &[1])), Status::SUCCESS);
    assert_eq!(status_of(&b, &write_cmd(0x301, &[2])), Status::SUCCESS);

    // A claims it.
    assert_eq!(
        status_of(&a, &write_cmd(0x204, &5u32.to_le_bytes())),
        Status::SUCCESS
    );
    assert_eq!(privilege.holder(), a.host());
    assert_eq!(read_of(&b, 0x204, 4), 5u32.to_le_bytes());
    // A read across the register shows it in place, the rest from the space.
    let wide = read_of(&b, 0x200, 12);
    assert_eq!(&wide[4..8], &5u32.to_le_bytes());
    assert_eq!(&wide[..4], &regs.snapshot(0x200, 4)[..]);
    assert_eq!(&wide[8..], &regs.snapshot(0x208, 4)[..]);

    // B may read but not write, nor take or free the privilege.
    assert_eq!(read_of(&b, 0x300, 2), [1, 2]);
    assert_eq!(
        status_of(&b, &write_cmd(0x300, &[9])),
        Status::ACCESS_DENIED
    );
    assert_eq!(
        status_of(&b, &write_cmd(0x204, &[1, 0, 0, 0])),
        Status::ACCESS_DENIED
    );
    assert_eq!(
        status_of(&b, &write_cmd(0x204, &[0, 0, 0, 0])),
        Status::ACCESS_DENIED
    );
    let stacked = Command::WriteMemStacked(vec![(0x310, vec![1]), (0x311, vec![2])]);
    assert_eq!(status_of(&b, &stacked), Status::ACCESS_DENIED);
    assert_eq!(regs.snapshot(0x300, 1), [1]);
    assert_eq!(status_of(&a, &write_cmd(0x300, &[7])), Status::SUCCESS);

    // Partial writes of the register are refused for everyone.
    assert_eq!(
        status_of(&a, &write_cmd(0x204, &[1, 0])),
        Status::INVALID_PARAMETER
    );
    assert_eq!(
        status_of(&a, &write_cmd(0x200, &[0; 8])),
        Status::INVALID_PARAMETER
    );
    // The register space never saw 0x204.
    assert_eq!(regs.snapshot(0x204, 4), underlying);

    // A releases; B claims through a stacked write with another entry.
    assert_eq!(status_of(&a, &write_cmd(0x204, &[0; 4])), Status::SUCCESS);
    assert_eq!(privilege.holder(), None);
    let claim = Command::WriteMemStacked(vec![(0x204, vec![1, 0, 0, 0]), (0x320, vec![3])]);
    assert_eq!(status_of(&b, &claim), Status::SUCCESS);
    assert_eq!(privilege.holder(), b.host());
    assert_eq!(
        status_of(&a, &write_cmd(0x320, &[4])),
        Status::ACCESS_DENIED
    );
    assert_eq!(regs.snapshot(0x320, 1), [3]);

    // B goes away: the privilege is free again.
    drop(b);
    assert_eq!(privilege.holder(), None);
    assert_eq!(read_of(&a, 0x204, 4), [0; 4]);
    assert_eq!(status_of(&a, &write_cmd(0x320, &[4])), Status::SUCCESS);
}

#[test]
fn without_access_privilege_0x204_is_an_ordinary_register() {
    let s = server();
    assert_eq!(
        status_of(&s, &write_cmd(0x204, &[1, 2, 3, 4])),
        Status::SUCCESS
    );
    assert_eq!(read_of(&s, 0x204, 4), [1, 2, 3, 4]);
    assert_eq!(status_of(&s, &write_cmd(0x204, &[9])), Status::SUCCESS);
    assert_eq!(s.host(), None);
}
