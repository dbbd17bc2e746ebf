//! Byte-for-byte tests of every message type against hand-written arrays.
//!
//! Values taken from public material are marked with their source:
//! - Wireshark `epan/dissectors/packet-u3v.c`: prefixes, command ids, status
//!   codes, payload types, leader/trailer field order, device info descriptor.
//! - Allied Vision "Goldeye Camera Link Register Controls Reference" (GenCP
//!   over serial, tables 12–14): WRITEMEM_ACK id 0x0803, SCD length 4,
//!   reserved 0, then length written.
//! - Toshiba Teli BU/BC series manual (GenCP packet layouts, p. 32): WRITEMEM
//!   command flags 0x4000 (request ack), id 0x0802.
//! - cameleon `device/src/u3v/protocol/event.rs` tests: single event with
//!   size 0, id 0x10, timestamp 0x0123_4567_89ab_cdef, data 12 34; multi-event
//!   with sizes 14 and 12.

use u3v::bootstrap::{self, Abrm, DeviceCapability, Eirm, Sbrm, Sirm, StreamSizing};
use u3v::descriptor::{self, DeviceDescriptors, DeviceIdentity, DeviceInfoDescriptor};
use u3v::event::{self, EventLayout, EventRef};
use u3v::gencp::{self, Ack, AckRef, Command, CommandRef, Flags, Status, StatusNamespace};
use u3v::manifest::{FileFormat, FileInfo, FileVersion, LocalUrl, Manifest, ManifestEntry};
use u3v::stream::{self, ImageInfo, Leader, LeaderKind, PayloadType, Trailer, TrailerKind};
use u3v::DecodeError;

/// Parses "55 33 56 43 ..." into bytes.
fn h(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

fn enc_cmd(c: &Command, flags: Flags, req: u16) -> Vec<u8> {
    let mut v = Vec::new();
    let n = c.encode(flags, req, &mut v).unwrap();
    assert_eq!(n, v.len());
    v
}

fn enc_ack(a: &Ack, req: u16) -> Vec<u8> {
    let mut v = Vec::new();
    a.encode(req, &mut v).unwrap();
    v
}

// ---------------------------------------------------------------------------
// GenCP
// ---------------------------------------------------------------------------

#[test]
fn prefixes_spell_ascii() {
    // Wireshark: U3V_CONTROL_PREFIX 0x43563355, U3V_EVENT_PREFIX 0x45563355,
    // U3V_STREAM_LEADER_PREFIX 0x4C563355, U3V_STREAM_TRAILER_PREFIX 0x54563355.
    assert_eq!(&gencp::CONTROL_PREFIX.to_le_bytes(), b"U3VC");
    assert_eq!(&event::EVENT_PREFIX.to_le_bytes(), b"U3VE");
    assert_eq!(&stream::LEADER_PREFIX.to_le_bytes(), b"U3VL");
    assert_eq!(&stream::TRAILER_PREFIX.to_le_bytes(), b"U3VT");
}

#[test]
fn readmem_command() {
    let c = Command::ReadMem {
        address: 0x144,
        count: 64,
    };
    let bytes = enc_cmd(&c, Flags::REQUEST_ACK, 1);
    let expected = [
        0x55, 0x33, 0x56, 0x43, // "U3VC"
        0x00, 0x40, // flags: request ack
        0x00, 0x08, // READMEM_CMD
        0x0c, 0x00, // SCD length 12
        0x01, 0x00, // request id 1
        0x44, 0x01, 0, 0, 0, 0, 0, 0, // address 0x144 (serial number register)
        0x00, 0x00, // reserved
        0x40, 0x00, // count 64
    ];
    assert_eq!(bytes, expected);
    let d = gencp::decode_command(&expected).unwrap();
    assert_eq!(d.header.flags, Flags::REQUEST_ACK);
    assert!(d.header.flags.request_ack());
    assert_eq!(d.header.request_id, 1);
    assert_eq!(
        d.command,
        CommandRef::ReadMem {
            address: 0x144,
            count: 64
        }
    );
}

#[test]
fn writemem_command() {
    // Toshiba Teli manual: WRITEMEM_CMD with flags 0x4000 and id 0x0802.
    let expected = h("55 33 56 43  00 40  02 08  0c 00  2a 00  \
                      00 00 01 00 00 00 00 00  de ad be ef");
    let c = Command::WriteMem {
        address: 0x10000,
        data: vec![0xde, 0xad, 0xbe, 0xef],
    };
    assert_eq!(enc_cmd(&c, Flags::REQUEST_ACK, 42), expected);
    let mut slice = [0u8; 64];
    let n = gencp::encode_write_mem(
        Flags::REQUEST_ACK,
        42,
        0x10000,
        &[0xde, 0xad, 0xbe, 0xef],
        &mut slice,
    )
    .unwrap();
    assert_eq!(&slice[..n], &expected[..]);
    let d = gencp::decode_command(&expected).unwrap();
    match d.command {
        CommandRef::WriteMem { address, data } => {
            assert_eq!(address, 0x10000);
            assert_eq!(data, [0xde, 0xad, 0xbe, 0xef]);
            // Borrowed: the data is a view into the input buffer.
            assert_eq!(data.as_ptr(), expected[20..].as_ptr());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn resend_flag() {
    let bytes = enc_cmd(
        &Command::ReadMem {
            address: 0,
            count: 4,
        },
        Flags::REQUEST_ACK | Flags::COMMAND_RESEND,
        9,
    );
    assert_eq!(&bytes[4..6], &[0x00, 0xC0]);
    assert!(gencp::decode_command(&bytes)
        .unwrap()
        .header
        .flags
        .is_resend());
}

#[test]
fn stacked_commands() {
    let reads = Command::ReadMemStacked(vec![(0x1000, 4), (0x2000_0000_0000, 8)]);
    let expected = h("55 33 56 43 00 40 06 08 18 00 03 00 \
                      00 10 00 00 00 00 00 00  00 00  04 00 \
                      00 00 00 00 00 20 00 00  00 00  08 00");
    assert_eq!(enc_cmd(&reads, Flags::REQUEST_ACK, 3), expected);
    match gencp::decode_command(&expected).unwrap().command {
        CommandRef::ReadMemStacked(s) => {
            assert_eq!(s.len(), 2);
            assert_eq!(
                s.iter().collect::<Vec<_>>(),
                vec![(0x1000, 4), (0x2000_0000_0000, 8)]
            );
        }
        other => panic!("{other:?}"),
    }

    let writes = Command::WriteMemStacked(vec![(0x10, vec![1, 2, 3]), (0x20, vec![])]);
    let expected = h("55 33 56 43 00 40 08 08 1b 00 04 00 \
                      10 00 00 00 00 00 00 00  00 00  03 00  01 02 03 \
                      20 00 00 00 00 00 00 00  00 00  00 00");
    assert_eq!(enc_cmd(&writes, Flags::REQUEST_ACK, 4), expected);
    let d = gencp::decode_command(&expected).unwrap();
    assert_eq!(d.command.to_owned(), writes);
}

#[test]
fn acknowledges() {
    // READMEM ack carrying "MV\0\0".
    let expected = h("55 33 56 43 00 00 01 08 04 00 01 00 4d 56 00 00");
    assert_eq!(enc_ack(&Ack::ReadMem(b"MV\0\0".to_vec()), 1), expected);
    let d = gencp::decode_ack(&expected).unwrap();
    assert_eq!(d.ack, AckRef::ReadMem(b"MV\0\0"));
    assert_eq!(d.header.status, Status::SUCCESS);

    // Allied Vision Goldeye tables 13-14: WRITEMEM_ACK id 0x0803, length 4,
    // reserved 0, length written.
    let expected = h("55 33 56 43 00 00 03 08 04 00 2a 00 00 00 04 00");
    assert_eq!(enc_ack(&Ack::WriteMem { bytes_written: 4 }, 42), expected);
    assert_eq!(
        gencp::decode_ack(&expected).unwrap().ack,
        AckRef::WriteMem { bytes_written: 4 }
    );

    // PENDING ack: reserved, time to completion 500 ms (Wireshark: u3v.gencp.timetocompletion at SCD+2).
    let expected = h("55 33 56 43 00 00 05 08 04 00 07 00 00 00 f4 01");
    assert_eq!(enc_ack(&Ack::Pending { timeout_ms: 500 }, 7), expected);
    assert_eq!(
        gencp::decode_ack(&expected).unwrap().ack,
        AckRef::Pending { timeout_ms: 500 }
    );

    // Error ack: INVALID_ADDRESS on a READMEM, no SCD.
    let expected = h("55 33 56 43 03 80 01 08 00 00 05 00");
    let e = Ack::Error {
        status: Status::INVALID_ADDRESS,
        command_id: gencp::READMEM_ACK,
        scd: vec![],
    };
    assert_eq!(enc_ack(&e, 5), expected);
    assert_eq!(
        gencp::decode_ack(&expected).unwrap().ack,
        AckRef::Error {
            status: Status::INVALID_ADDRESS,
            command_id: 0x0801,
            scd: &[]
        }
    );

    // Stacked acks.
    let expected = h("55 33 56 43 00 00 07 08 06 00 02 00 01 02 03 04 05 06");
    assert_eq!(
        enc_ack(&Ack::ReadMemStacked(vec![1, 2, 3, 4, 5, 6]), 2),
        expected
    );
    let expected = h("55 33 56 43 00 00 09 08 08 00 02 00 00 00 03 00 00 00 00 00");
    assert_eq!(enc_ack(&Ack::WriteMemStacked(vec![3, 0]), 2), expected);
    match gencp::decode_ack(&expected).unwrap().ack {
        AckRef::WriteMemStacked(l) => assert_eq!(l.iter().collect::<Vec<_>>(), vec![3, 0]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn encode_into_slice_reports_small_buffer() {
    let mut small = [0u8; 20];
    let err = Command::ReadMem {
        address: 0,
        count: 4,
    }
    .encode_into(Flags::NONE, 1, &mut small)
    .unwrap_err();
    assert_eq!(
        err,
        u3v::EncodeError::BufferTooSmall {
            needed: 24,
            available: 20
        }
    );
    let mut exact = [0u8; 24];
    assert_eq!(
        Command::ReadMem {
            address: 0,
            count: 4
        }
        .encode_into(Flags::NONE, 1, &mut exact),
        Ok(24)
    );
    // An error ack cannot carry SUCCESS.
    let bad = Ack::Error {
        status: Status::SUCCESS,
        command_id: 0x0801,
        scd: vec![],
    };
    assert!(bad.encode(1, &mut Vec::new()).is_err());
    // A write too large for the 16-bit SCD length.
    let big = Command::WriteMem {
        address: 0,
        data: vec![0; 65536],
    };
    assert!(matches!(
        big.encode(Flags::NONE, 1, &mut Vec::new()),
        Err(u3v::EncodeError::TooLarge { .. })
    ));
}

#[test]
fn gencp_decode_errors() {
    let good = h("55 33 56 43 00 40 00 08 0c 00 01 00 44 01 00 00 00 00 00 00 00 00 40 00");
    // Bad prefix.
    let mut b = good.clone();
    b[3] = 0x44;
    assert!(matches!(
        gencp::decode_command(&b),
        Err(DecodeError::BadPrefix {
            found: 0x4456_3355,
            ..
        })
    ));
    // Truncated SCD.
    assert!(matches!(
        gencp::decode_command(&good[..20]),
        Err(DecodeError::Truncated {
            needed: 24,
            available: 20,
            ..
        })
    ));
    // Truncated header.
    assert!(matches!(
        gencp::decode_command(&good[..5]),
        Err(DecodeError::Truncated { .. })
    ));
    // Trailing bytes are an error.
    let mut b = good.clone();
    b.push(0);
    assert_eq!(
        gencp::decode_command(&b),
        Err(DecodeError::TrailingBytes {
            what: "GenCP command",
            extra: 1
        })
    );
    // Unknown command id.
    let mut b = good.clone();
    b[6] = 0x10;
    assert!(matches!(
        gencp::decode_command(&b),
        Err(DecodeError::UnknownCommand { id: 0x0810, .. })
    ));
    // READMEM with the wrong SCD length.
    let b = h("55 33 56 43 00 40 00 08 08 00 01 00 44 01 00 00 00 00 00 00");
    assert!(matches!(
        gencp::decode_command(&b),
        Err(DecodeError::BadLength {
            field: "scd_len",
            ..
        })
    ));
    // Stacked read not a multiple of 12.
    let b = h("55 33 56 43 00 40 06 08 0d 00 01 00 00 00 00 00 00 00 00 00 00 00 04 00 ff");
    assert!(matches!(
        gencp::decode_command(&b),
        Err(DecodeError::BadLength { .. })
    ));
    // Stacked write whose entry length overruns the SCD.
    let b = h("55 33 56 43 00 40 08 08 0d 00 01 00 10 00 00 00 00 00 00 00 00 00 05 00 01");
    assert!(matches!(
        gencp::decode_command(&b),
        Err(DecodeError::BadLength {
            field: "length",
            ..
        })
    ));
    // Stacked write ending inside an entry header.
    let b = h("55 33 56 43 00 40 08 08 0e 00 01 00 10 00 00 00 00 00 00 00 00 00 01 00 01 00");
    assert!(matches!(
        gencp::decode_command(&b),
        Err(DecodeError::BadLength {
            field: "scd_len",
            ..
        })
    ));
    // WRITEMEM ack with a 2-byte SCD.
    let b = h("55 33 56 43 00 00 03 08 02 00 01 00 00 00");
    assert!(gencp::decode_ack(&b).is_err());
    // Successful ack with an unknown id.
    let b = h("55 33 56 43 00 00 0b 08 00 00 01 00");
    assert!(matches!(
        gencp::decode_ack(&b),
        Err(DecodeError::UnknownCommand { id: 0x080b, .. })
    ));
}

#[test]
fn status_codes() {
    // Wireshark status table.
    assert_eq!(Status::NOT_IMPLEMENTED.code(), 0x8001);
    assert_eq!(Status::MSG_TIMEOUT.code(), 0x800B);
    assert_eq!(Status::ERROR.code(), 0x8FFF);
    assert_eq!(Status::SI_REGISTERS_INCONSISTENT.code(), 0xA004);
    assert_eq!(Status::DATA_DISCARDED.code(), 0xA100);
    assert!(Status::BUSY.is_error());
    assert!(!Status::SUCCESS.is_error());
    assert_eq!(Status::BUSY.namespace(), StatusNamespace::GenCp);
    assert_eq!(
        Status::RESEND_NOT_SUPPORTED.namespace(),
        StatusNamespace::Usb3Vision
    );
    assert_eq!(Status(0xC001).namespace(), StatusNamespace::DeviceSpecific);
    assert_eq!(
        Status::INVALID_ADDRESS.to_string(),
        "INVALID_ADDRESS (0x8003)"
    );
    assert_eq!(Status(0xC001).to_string(), "device-specific error 0xc001");
    assert_eq!(Status::DATA_OVERRUN.name(), Some("DATA_OVERRUN"));
}

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

#[test]
fn single_event() {
    // cameleon test_single_event: size 0, id 0x10, timestamp 0x0123456789abcdef, data 12 34.
    let expected = h("55 33 56 45  00 00  00 0c  0e 00  01 00 \
                      00 00  10 00  ef cd ab 89 67 45 23 01  12 34");
    let ev = EventRef {
        event_id: 0x10,
        timestamp: 0x0123_4567_89ab_cdef,
        data: &[0x12, 0x34],
    };
    let mut v = Vec::new();
    event::encode(Flags::NONE, 1, EventLayout::Single, &[ev], &mut v).unwrap();
    assert_eq!(v, expected);
    let p = event::decode(&expected).unwrap();
    assert_eq!(p.header.request_id, 1);
    assert_eq!(p.len(), 1);
    assert_eq!(p.layout(), EventLayout::Single);
    assert_eq!(p.events().collect::<Vec<_>>(), vec![ev]);
}

#[test]
fn multi_event() {
    // cameleon test_multi_event: sizes 14 (2 data bytes) and 12 (none).
    let expected = h("55 33 56 45  00 40  00 0c  1a 00  01 00 \
                      0e 00  10 00  ef cd ab 89 67 45 23 01  12 34 \
                      0c 00  11 00  01 00 00 00 00 00 00 00");
    let evs = [
        EventRef {
            event_id: 0x10,
            timestamp: 0x0123_4567_89ab_cdef,
            data: &[0x12, 0x34],
        },
        EventRef {
            event_id: 0x11,
            timestamp: 1,
            data: &[],
        },
    ];
    let mut v = Vec::new();
    event::encode(Flags::REQUEST_ACK, 1, EventLayout::Multi, &evs, &mut v).unwrap();
    assert_eq!(v, expected);
    let p = event::decode(&expected).unwrap();
    assert_eq!(p.layout(), EventLayout::Multi);
    assert_eq!(p.events().collect::<Vec<_>>(), evs.to_vec());
    // Several events cannot use the single layout.
    assert!(event::encode(Flags::NONE, 1, EventLayout::Single, &evs, &mut Vec::new()).is_err());
}

#[test]
fn event_errors() {
    // Event size smaller than its header.
    let b = h("55 33 56 45 00 00 00 0c 0c 00 01 00 0b 00 10 00 00 00 00 00 00 00 00 00");
    assert!(matches!(
        event::decode(&b),
        Err(DecodeError::BadLength {
            field: "event_size",
            ..
        })
    ));
    // Event size past the SCD.
    let b = h("55 33 56 45 00 00 00 0c 0c 00 01 00 10 00 10 00 00 00 00 00 00 00 00 00");
    assert!(matches!(
        event::decode(&b),
        Err(DecodeError::BadLength {
            field: "event_size",
            ..
        })
    ));
    // Wrong command id.
    let b = h("55 33 56 45 00 00 00 08 0c 00 01 00 00 00 10 00 00 00 00 00 00 00 00 00");
    assert!(matches!(
        event::decode(&b),
        Err(DecodeError::UnknownCommand { id: 0x0800, .. })
    ));
    // A control prefix on the event endpoint.
    let b = h("55 33 56 43 00 00 00 0c 0c 00 01 00 00 00 10 00 00 00 00 00 00 00 00 00");
    assert!(matches!(
        event::decode(&b),
        Err(DecodeError::BadPrefix { .. })
    ));
    // Empty SCD.
    let b = h("55 33 56 45 00 00 00 0c 00 00 01 00");
    assert!(event::decode(&b).is_err());
}

// ---------------------------------------------------------------------------
// Stream
// ---------------------------------------------------------------------------

#[test]
fn image_leader() {
    let leader = Leader {
        block_id: 1,
        timestamp: 0x1122_3344_5566_7788,
        kind: LeaderKind::Image(ImageInfo {
            pixel_format: 0x0108_0001, // Mono8 (PFNC; Wireshark PFNC_U3V_MONO8)
            size_x: 640,
            size_y: 480,
            offset_x: 8,
            offset_y: 16,
            padding_x: 2,
        }),
    };
    let expected = h(
        "55 33 56 4c  00 00  34 00  01 00 00 00 00 00 00 00  00 00  01 00 \
                      88 77 66 55 44 33 22 11  01 00 08 01  80 02 00 00  e0 01 00 00 \
                      08 00 00 00  10 00 00 00  02 00  00 00",
    );
    assert_eq!(expected.len(), 52);
    let mut v = Vec::new();
    leader.encode(&mut v).unwrap();
    assert_eq!(v, expected);
    assert_eq!(Leader::decode(&expected).unwrap(), leader);
    assert_eq!(stream::classify(&expected), stream::TransferKind::Leader);
}

#[test]
fn chunk_leader_and_trailers() {
    let leader = Leader {
        block_id: 0x0203,
        timestamp: 5,
        kind: LeaderKind::Chunk,
    };
    let expected =
        h("55 33 56 4c 00 00 1c 00 03 02 00 00 00 00 00 00 00 00 00 40 05 00 00 00 00 00 00 00");
    let mut v = Vec::new();
    leader.encode(&mut v).unwrap();
    assert_eq!(v, expected);
    assert_eq!(Leader::decode(&expected).unwrap(), leader);

    let ext = Leader {
        kind: LeaderKind::ImageExtendedChunk(ImageInfo::default()),
        ..leader
    };
    let mut v = Vec::new();
    ext.encode(&mut v).unwrap();
    assert_eq!(&v[18..20], &[0x01, 0x40]);
    assert_eq!(
        Leader::decode(&v).unwrap().payload_type(),
        PayloadType::ImageExtendedChunk
    );

    // Image trailer, 32 bytes.
    let t = Trailer {
        block_id: 1,
        status: Status::SUCCESS,
        valid_payload_size: 307_200,
        kind: TrailerKind::Image { size_y: 480 },
    };
    let expected = h(
        "55 33 56 54  00 00  20 00  01 00 00 00 00 00 00 00  00 00  00 00 \
                      00 b0 04 00 00 00 00 00  e0 01 00 00",
    );
    let mut v = Vec::new();
    t.encode(&mut v).unwrap();
    assert_eq!(v, expected);
    assert_eq!(Trailer::decode(&expected, PayloadType::Image).unwrap(), t);
    assert_eq!(stream::classify(&expected), stream::TransferKind::Trailer);

    // Image with extended chunk, 36 bytes, status DATA_OVERRUN.
    let t = Trailer {
        block_id: 2,
        status: Status::DATA_OVERRUN,
        valid_payload_size: 16,
        kind: TrailerKind::ImageExtendedChunk {
            size_y: 2,
            chunk_layout_id: 0xAABBCCDD,
        },
    };
    let expected = h(
        "55 33 56 54 00 00 24 00 02 00 00 00 00 00 00 00 01 a1 00 00 \
                      10 00 00 00 00 00 00 00 02 00 00 00 dd cc bb aa",
    );
    let mut v = Vec::new();
    t.encode(&mut v).unwrap();
    assert_eq!(v, expected);
    assert_eq!(
        Trailer::decode(&expected, PayloadType::ImageExtendedChunk).unwrap(),
        t
    );

    // Chunk trailer, 32 bytes: chunk layout id right after the valid payload size.
    let t = Trailer {
        block_id: 3,
        status: Status::SUCCESS,
        valid_payload_size: 0,
        kind: TrailerKind::Chunk { chunk_layout_id: 7 },
    };
    let mut v = Vec::new();
    t.encode(&mut v).unwrap();
    assert_eq!(v.len(), 32);
    assert_eq!(&v[28..32], &[7, 0, 0, 0]);
    assert_eq!(Trailer::decode(&v, PayloadType::Chunk).unwrap(), t);
}

#[test]
fn stream_errors() {
    let mut leader = Vec::new();
    Leader {
        block_id: 1,
        timestamp: 0,
        kind: LeaderKind::Image(ImageInfo::default()),
    }
    .encode(&mut leader)
    .unwrap();
    // Unknown payload type.
    let mut b = leader.clone();
    b[18] = 0x02;
    assert_eq!(
        Leader::decode(&b),
        Err(DecodeError::UnknownPayloadType {
            what: "stream leader",
            value: 0x0002
        })
    );
    // Leader size field below the image layout.
    let mut b = leader.clone();
    b[6] = 28;
    assert!(matches!(
        Leader::decode(&b),
        Err(DecodeError::BadLength {
            field: "leader_size",
            value: 28,
            ..
        })
    ));
    // Leader size field larger than the buffer.
    let mut b = leader.clone();
    b[6] = 60;
    assert!(matches!(
        Leader::decode(&b),
        Err(DecodeError::Truncated {
            needed: 60,
            available: 52,
            ..
        })
    ));
    // Buffer larger than the leader size field.
    let mut b = leader.clone();
    b.extend_from_slice(&[0; 4]);
    assert!(matches!(
        Leader::decode(&b),
        Err(DecodeError::TrailingBytes { extra: 4, .. })
    ));
    // A larger announced size with matching buffer (future fields) is accepted.
    let mut b = leader.clone();
    b[6] = 56;
    b.extend_from_slice(&[0; 4]);
    assert!(Leader::decode(&b).is_ok());
    // Bad prefix.
    let mut b = leader.clone();
    b[3] = 0x54;
    assert!(matches!(
        Leader::decode(&b),
        Err(DecodeError::BadPrefix { .. })
    ));
    // Trailer of an image decoded as extended chunk: size field 32 < 36.
    let mut t = Vec::new();
    Trailer {
        block_id: 1,
        status: Status::SUCCESS,
        valid_payload_size: 0,
        kind: TrailerKind::Image { size_y: 1 },
    }
    .encode(&mut t)
    .unwrap();
    assert!(matches!(
        Trailer::decode(&t, PayloadType::ImageExtendedChunk),
        Err(DecodeError::BadLength {
            field: "trailer_size",
            ..
        })
    ));
}

#[test]
fn chunk_payload() {
    // Image chunk (id 1, 6 bytes) then a timestamp chunk (id 0x1000, 8 bytes),
    // each followed by its id and length, little-endian.
    let payload = h("a0 a1 a2 a3 a4 a5  01 00 00 00  06 00 00 00 \
                     10 11 12 13 14 15 16 17  00 10 00 00  08 00 00 00");
    let chunks = stream::parse_chunks(&payload).unwrap();
    assert_eq!(
        chunks,
        vec![
            stream::Chunk { id: 1, data: 0..6 },
            stream::Chunk {
                id: 0x1000,
                data: 14..22
            }
        ]
    );
    let mut built = Vec::new();
    stream::encode_chunk(1, &payload[0..6], &mut built).unwrap();
    stream::encode_chunk(0x1000, &payload[14..22], &mut built).unwrap();
    assert_eq!(built, payload);
    assert_eq!(stream::parse_chunks(&[]).unwrap(), vec![]);

    // Inconsistent lengths.
    let mut b = payload.clone();
    b[26] = 0x40; // last chunk claims 0x48 bytes
    assert!(matches!(
        stream::parse_chunks(&b),
        Err(DecodeError::BadLength {
            field: "chunk_length",
            ..
        })
    ));
    let mut b = payload.clone();
    b[10] = 5; // first chunk one byte short: one stray byte remains at the start
    assert!(stream::parse_chunks(&b).is_err());
    assert!(stream::parse_chunks(&payload[1..]).is_err());
}

// ---------------------------------------------------------------------------
// Bootstrap registers
// ---------------------------------------------------------------------------

#[test]
fn abrm_layout() {
    let abrm = Abrm {
        gencp_version: 0x0001_0000,
        manufacturer_name: "mvcam".into(),
        model_name: "MV-CS050".into(),
        serial_number: "SN0001".into(),
        device_capability: DeviceCapability(
            DeviceCapability::STACKED_COMMANDS | DeviceCapability::USER_DEFINED_NAME,
        ),
        max_device_response_time_ms: 300,
        manifest_table_address: 0x0008_0000,
        sbrm_address: 0x0001_0000,
        protocol_endianness: 0xFFFF_FFFF,
        implementation_endianness: 0xFFFF_FFFF,
        device_software_interface_version: "1.0".into(),
        ..Abrm::default()
    };
    let mut v = Vec::new();
    assert_eq!(abrm.encode(&mut v).unwrap(), 0x250);
    assert_eq!(&v[0..4], &[0, 0, 1, 0]);
    assert_eq!(&v[0x004..0x00A], b"mvcam\0");
    assert_eq!(&v[0x044..0x04D], b"MV-CS050\0");
    assert_eq!(&v[0x144..0x14B], b"SN0001\0");
    assert_eq!(&v[0x1C4..0x1CC], &[0x01, 0x20, 0, 0, 0, 0, 0, 0]);
    assert_eq!(&v[0x1CC..0x1D0], &300u32.to_le_bytes());
    assert_eq!(&v[0x1D0..0x1D8], &[0, 0, 8, 0, 0, 0, 0, 0]);
    assert_eq!(&v[0x1D8..0x1E0], &[0, 0, 1, 0, 0, 0, 0, 0]);
    assert_eq!(&v[0x210..0x214], b"1.0\0");
    let d = Abrm::decode(&v).unwrap();
    assert_eq!(d, abrm);
    assert!(d.device_capability.stacked_commands());
    assert!(!d.device_capability.multi_event());
    assert!(Abrm::decode(&v[..0x24F]).is_err());
    // Strings: 64 bytes without NUL are accepted; invalid UTF-8 is replaced.
    assert_eq!(bootstrap::decode_string(&[b'A'; 64]), "A".repeat(64));
    assert_eq!(
        bootstrap::decode_string(&[b'A', 0xFF, 0, b'B']),
        "A\u{FFFD}"
    );
    assert!(bootstrap::encode_string("x", &"A".repeat(64)).is_err());
}

#[test]
fn sbrm_sirm_eirm_layout() {
    let sbrm = Sbrm {
        u3v_version: 0x0001_0000,
        max_cmd_transfer_length: 1024,
        max_ack_transfer_length: 1024,
        num_stream_channels: 1,
        sirm_address: 0x0002_0000,
        sirm_length: 0x30,
        eirm_address: 0x0003_0000,
        eirm_length: 0x0C,
        current_speed: 4,
        ..Sbrm::default()
    };
    let mut v = Vec::new();
    assert_eq!(sbrm.encode(&mut v).unwrap(), 0x44);
    assert_eq!(&v[0x14..0x18], &1024u32.to_le_bytes());
    assert_eq!(&v[0x20..0x28], &0x0002_0000u64.to_le_bytes());
    assert_eq!(&v[0x2C..0x34], &0x0003_0000u64.to_le_bytes());
    assert_eq!(&v[0x40..0x44], &4u32.to_le_bytes());
    assert_eq!(Sbrm::decode(&v).unwrap(), sbrm);
    assert_eq!(sbrm.max_read_len(), 1012);
    assert_eq!(sbrm.max_write_len(), 1004);

    let mut sirm = Sirm {
        si_info: 10 << 24,
        si_control: 1,
        required_payload_size: 2448 * 2048,
        ..Sirm::default()
    };
    assert_eq!(sirm.alignment(), Some(1024));
    assert!(sirm.stream_enabled());
    let sizing = StreamSizing::compute(sirm.required_payload_size, 52, 36, 1024, 1 << 20).unwrap();
    sirm.apply(&sizing);
    let mut v = Vec::new();
    sirm.encode(&mut v).unwrap();
    assert_eq!(&v[0..4], &[0, 0, 0, 10]);
    assert_eq!(&v[0x08..0x10], &5_013_504u64.to_le_bytes());
    assert_eq!(&v[0x1C..0x20], &(1u32 << 20).to_le_bytes());
    assert_eq!(&v[0x20..0x24], &4u32.to_le_bytes());
    assert_eq!(&v[0x24..0x28], &819_200u32.to_le_bytes());
    assert_eq!(Sirm::decode(&v).unwrap(), sirm);

    let eirm = Eirm {
        ei_control: 1,
        max_event_transfer_length: 256,
        event_test_control: 0,
    };
    let mut v = Vec::new();
    eirm.encode(&mut v).unwrap();
    assert_eq!(v, h("01 00 00 00 00 01 00 00 00 00 00 00"));
    assert_eq!(Eirm::decode(&v).unwrap(), eirm);
}

#[test]
fn stream_sizing_examples() {
    // 5 MP Mono8, 1 KiB alignment, 1 MiB transfers: 4 x 1 MiB + 800 KiB.
    let s = StreamSizing::compute(5_013_504, 52, 36, 1024, 1 << 20).unwrap();
    assert_eq!(
        (s.payload_transfer_size, s.payload_transfer_count),
        (1 << 20, 4)
    );
    assert_eq!(
        (s.final_transfer1_size, s.final_transfer2_size),
        (819_200, 0)
    );
    assert_eq!((s.leader_size, s.trailer_size), (1024, 1024));
    // A payload that fits in one transfer: that transfer, rounded up.
    let s = StreamSizing::compute(1000, 52, 32, 64, 1 << 20).unwrap();
    assert_eq!(
        (
            s.payload_transfer_size,
            s.payload_transfer_count,
            s.final_transfer1_size
        ),
        (1024, 1, 0)
    );
    let s = StreamSizing::compute(5_013_504, 52, 36, 1024, 16 << 20).unwrap();
    assert_eq!(
        (s.payload_transfer_size, s.payload_transfer_count),
        (5_013_504, 1)
    );
    // Just too large for one transfer once rounded up: the usual split.
    let s = StreamSizing::compute(1000, 52, 32, 64, 990).unwrap();
    assert_eq!(
        (
            s.payload_transfer_size,
            s.payload_transfer_count,
            s.final_transfer1_size
        ),
        (960, 1, 64)
    );
    // Payload below the alignment.
    let s = StreamSizing::compute(10, 52, 32, 64, 1 << 20).unwrap();
    assert_eq!(
        (
            s.payload_transfer_size,
            s.payload_transfer_count,
            s.final_transfer1_size
        ),
        (64, 1, 0)
    );
    assert!(StreamSizing::compute(10, 52, 32, 3, 1 << 20).is_err());
    assert!(StreamSizing::compute(10, 52, 32, 1024, 1000).is_err());
    assert!(StreamSizing::compute(u64::MAX, 52, 32, 1, 1).is_err());
}

// ---------------------------------------------------------------------------
// Manifest
// ---------------------------------------------------------------------------

#[test]
fn manifest_table() {
    let entry = ManifestEntry {
        file_version: FileVersion {
            major: 1,
            minor: 2,
            subminor: 3,
        },
        file_info: FileInfo::new(FileInfo::TYPE_DEVICE_XML, FileFormat::Zip, 1, 1),
        address: 0x0010_0000,
        size: 0x1A2B,
        sha1: [0x11; 20],
    };
    let table = Manifest {
        entries: vec![entry],
    };
    let mut v = Vec::new();
    assert_eq!(table.encode(&mut v).unwrap(), 72);
    let mut expected = h("01 00 00 00 00 00 00 00 \
                          03 00 02 01  00 04 01 01  00 00 10 00 00 00 00 00  2b 1a 00 00 00 00 00 00");
    expected.extend_from_slice(&[0x11; 20]);
    expected.extend_from_slice(&[0; 20]);
    assert_eq!(v, expected);
    let d = Manifest::decode(&v).unwrap();
    assert_eq!(d, table);
    let e = d.entries[0];
    assert_eq!(e.file_info.format(), FileFormat::Zip);
    assert_eq!(
        (e.file_info.schema_major(), e.file_info.schema_minor()),
        (1, 1)
    );
    assert_eq!(e.file_version.to_string(), "1.2.3");
    // Count larger than the buffer.
    let mut b = v.clone();
    b[0] = 2;
    assert!(matches!(
        Manifest::decode(&b),
        Err(DecodeError::Truncated { needed: 136, .. })
    ));
    let mut b = v.clone();
    b[0..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(Manifest::decode(&b).is_err());
}

#[test]
fn local_urls() {
    let entry = ManifestEntry {
        file_info: FileInfo::new(0, FileFormat::Zip, 1, 1),
        address: 0x0010_0000,
        size: 0x1A2B,
        ..ManifestEntry::default()
    };
    let url = entry.local_url("mvcam");
    assert_eq!(url.to_string(), "local:///mvcam.zip;100000;1a2b");
    assert!(url.is_zip());
    assert_eq!(
        LocalUrl::parse("local:///mvcam.zip;100000;1a2b").unwrap(),
        url
    );
    // GenICam-style variants seen in devices: capitalised scheme, no slashes,
    // upper-case hex, 0x prefix, schema version query.
    assert_eq!(LocalUrl::parse("Local:mvcam.zip;100000;1A2B").unwrap(), url);
    assert_eq!(
        LocalUrl::parse("local:mvcam.zip;0x100000;0X1a2b?SchemaVersion=1.1.0").unwrap(),
        url
    );
    let plain = ManifestEntry {
        file_info: FileInfo::new(0, FileFormat::Plain, 1, 0),
        ..entry
    };
    assert_eq!(
        plain.local_url("mvcam").to_string(),
        "local:///mvcam.xml;100000;1a2b"
    );
    for bad in [
        "file:///a.xml;1;2",
        "local:///a.xml;1",
        "local:///;1;2",
        "local:///a.xml;g;2",
        "local:///a.xml;1;2;3",
        "local:///a.xml;11111111111111111;2",
    ] {
        assert!(LocalUrl::parse(bad).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------------------
// USB descriptors
// ---------------------------------------------------------------------------

fn identity() -> DeviceIdentity {
    let mut id = DeviceIdentity::new(0x1234, 0x5678, "mvcam", "MV-CS050", "SN0001");
    id.guid = "1234SN0001".into();
    id.family_name = "MV".into();
    id
}

#[test]
fn device_info_descriptor_bytes() {
    // Wireshark dissect_u3v_descriptors: bLength, 0x24, 0x01, bGenCPVersion u32,
    // bU3VVersion u32, 8 string indices, bmSpeedSupport (bit 3 SuperSpeed).
    let d = DeviceInfoDescriptor {
        gencp_version: 0x0001_0000,
        u3v_version: 0x0001_0000,
        i_device_guid: 4,
        i_vendor_name: 1,
        i_model_name: 2,
        i_family_name: 5,
        i_device_version: 6,
        i_manufacturer_info: 0,
        i_serial_number: 3,
        i_user_defined_name: 0,
        speed_support: descriptor::SPEED_SUPER,
    };
    let expected = [
        0x14, 0x24, 0x01, 0, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 5, 6, 0, 3, 0, 0x08,
    ];
    let mut b = [0u8; 20];
    d.encode_into(&mut b).unwrap();
    assert_eq!(b, expected);
    assert_eq!(DeviceInfoDescriptor::decode(&expected).unwrap(), d);
}

#[test]
fn built_descriptors() {
    let dd = DeviceDescriptors::new(&identity()).unwrap();
    assert_eq!(
        dd.device(),
        [18, 1, 0x20, 0x03, 0xEF, 0x02, 0x01, 9, 0x34, 0x12, 0x78, 0x56, 0x00, 0x01, 1, 2, 3, 1]
    );
    let c = dd.configuration();
    assert_eq!(c.len(), 116);
    assert_eq!(&c[0..9], &[9, 2, 116, 0, 3, 1, 0, 0x80, 112]);
    assert_eq!(&c[9..17], &[8, 0x0B, 0, 3, 0xEF, 0x05, 0, 0]);
    assert_eq!(&c[17..26], &[9, 4, 0, 0, 2, 0xEF, 0x05, 0, 0]);
    assert_eq!(&c[26..29], &[20, 0x24, 0x01]);
    assert_eq!(
        &c[46..59],
        &[7, 5, 0x01, 2, 0x00, 0x04, 0, 6, 0x30, 0, 0, 0, 0]
    );
    assert_eq!(&c[59..66], &[7, 5, 0x81, 2, 0x00, 0x04, 0]);
    assert_eq!(&c[72..81], &[9, 4, 1, 0, 1, 0xEF, 0x05, 1, 0]);
    assert_eq!(&c[94..103], &[9, 4, 2, 0, 1, 0xEF, 0x05, 2, 0]);
    assert_eq!(
        &c[103..116],
        &[7, 5, 0x83, 2, 0x00, 0x04, 0, 6, 0x30, 15, 0, 0, 0]
    );
    assert_eq!(dd.string(0).unwrap(), [4, 3, 0x09, 0x04]);
    assert_eq!(
        dd.string(1).unwrap(),
        [12, 3, b'm', 0, b'v', 0, b'c', 0, b'a', 0, b'm', 0]
    );
    assert_eq!(
        descriptor::decode_string_descriptor(dd.string(3).unwrap()).unwrap(),
        "SN0001"
    );
    assert_eq!(
        descriptor::decode_language_ids(dd.string(0).unwrap()).unwrap(),
        vec![0x0409]
    );
    assert_eq!(
        dd.get_descriptor(descriptor::TYPE_STRING, 2).unwrap(),
        dd.string(2).unwrap()
    );
    assert!(dd.get_descriptor(descriptor::TYPE_STRING, 200).is_none());
    let bos = dd.bos();
    assert_eq!(&bos[0..5], &[5, 0x0F, 22, 0, 2]);
    assert_eq!(bos.len(), 22);

    let dev = descriptor::DeviceDescriptor::decode(dd.device()).unwrap();
    assert!(dev.is_iad_device());
    assert_eq!((dev.vendor_id, dev.product_id), (0x1234, 0x5678));

    let cfg = descriptor::parse_configuration(c).unwrap();
    assert_eq!(cfg.configuration_value, 1);
    assert_eq!(cfg.control.interface, 0);
    assert_eq!(cfg.control.bulk_out.address, 0x01);
    assert_eq!(cfg.control.bulk_in.address, 0x81);
    assert_eq!(cfg.control.bulk_in.max_packet_size, 1024);
    assert_eq!(cfg.event.unwrap().bulk_in.address, 0x82);
    let s = cfg.stream.unwrap();
    assert_eq!(
        (s.interface, s.bulk_in.address, s.bulk_in.max_burst),
        (2, 0x83, Some(15))
    );
    let info = cfg.control.device_info.unwrap();
    assert_eq!(info.i_vendor_name, dev.i_manufacturer);
    assert_eq!(info.i_serial_number, dev.i_serial_number);
    assert_eq!(
        descriptor::decode_string_descriptor(dd.string(info.i_device_guid).unwrap()).unwrap(),
        "1234SN0001"
    );
    assert_eq!(info.i_user_defined_name, 0);
}

#[test]
fn configuration_errors() {
    let dd = DeviceDescriptors::new(&identity()).unwrap();
    let c = dd.configuration().to_vec();
    // Truncated blob.
    assert!(matches!(
        descriptor::parse_configuration(&c[..100]),
        Err(DecodeError::Truncated { needed: 116, .. })
    ));
    // A zero bLength inside.
    let mut b = c.clone();
    b[9] = 0;
    assert!(matches!(
        descriptor::parse_configuration(&b),
        Err(DecodeError::BadLength {
            field: "bLength",
            ..
        })
    ));
    // A descriptor running past wTotalLength.
    let mut b = c.clone();
    b[103] = 20;
    assert!(descriptor::parse_configuration(&b).is_err());
    // No control interface (protocol changed to 7).
    let mut b = c.clone();
    b[24] = 7;
    assert!(matches!(
        descriptor::parse_configuration(&b),
        Err(DecodeError::InvalidField {
            reason: "no USB3 Vision control interface",
            ..
        })
    ));
    // Control OUT endpoint turned into interrupt: no bulk OUT.
    let mut b = c.clone();
    b[49] = 3;
    assert!(descriptor::parse_configuration(&b).is_err());
    // Truncated device info descriptor.
    let mut b = c.clone();
    b[26] = 10;
    assert!(descriptor::parse_configuration(&b).is_err());
    // Extra bytes past wTotalLength are ignored.
    let mut b = c.clone();
    b.extend_from_slice(&[0, 0, 0]);
    assert!(descriptor::parse_configuration(&b).is_ok());
    // Odd string descriptor length.
    assert!(descriptor::decode_string_descriptor(&[3, 3, 0x41]).is_err());
    assert!(descriptor::decode_string_descriptor(&[6, 3, 0x41, 0]).is_err());
}
