//! Byte-exact tests of every USB/IP message against hand-written bytes.
//!
//! Layouts follow the tables of the Linux kernel's
//! Documentation/usb/usbip_protocol.rst; the HID capture in
//! `kernel_doc_hid_capture_*` is the "EXAMPLE" section of that document.

use usbip::op::{
    self, OP_REP_DEVLIST, OP_REP_IMPORT, OP_REQ_DEVLIST, OP_REQ_IMPORT, ST_NODEV, ST_OK,
};
use usbip::urb::{self, status, transfer_flags, Layout, HEADER_LEN, MAX_TRANSFER_LEN};
use usbip::{
    BasicHeader, CmdSubmit, CmdUnlink, Direction, Error, ExportedDevice, InterfaceInfo,
    IsoPacketDescriptor, Message, OpMessage, RetSubmit, RetUnlink, Speed, UsbDeviceInfo,
};

/// Bytes from a hex string; whitespace is ignored.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len() % 2 == 0, "odd hex string");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// A NUL-padded fixed-size string field.
fn padded(s: &str, size: usize) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.resize(size, 0);
    v
}

/// Decodes exactly one URB message that fills `bytes`.
fn decode_one<'a>(bytes: &'a [u8], dir: &mut dyn usbip::ReplyDirection) -> Message<'a> {
    let (m, n) = urb::decode_with(bytes, dir).unwrap().expect("complete");
    assert_eq!(n, bytes.len());
    m
}

// ---------------------------------------------------------------------------
// The capture of the kernel document's EXAMPLE section (HID interrupt
// endpoint 1, device 1-15 -> devid 0x0001000f). Note that the capture has
// start_frame = -1 and number_of_packets = 0 for these interrupt URBs, unlike
// the tables' "0 / 0xffffffff if not ISO".
// ---------------------------------------------------------------------------

const CMD_INTR_IN: &str = "00000001 00000d05 0001000f 00000001 00000001 00000200 00000040 ffffffff 00000000 00000004 00000000 00000000";
const CMD_INTR_OUT: &str = "00000001 00000d06 0001000f 00000000 00000001 00000000 00000040 ffffffff 00000000 00000004 00000000 00000000
    ffffffff860008a784ce5ae212376300000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";
const RET_INTR_OUT: &str = "00000003 00000d06 00000000 00000000 00000000 00000000 00000040 ffffffff 00000000 00000000 00000000 00000000";
const RET_INTR_IN: &str = "00000003 00000d05 00000000 00000000 00000000 00000000 00000040 ffffffff 00000000 00000000 00000000 00000000
    ffffffff860011a784ce5ae2123763612891b1020100000400000000000000000000000000000000000000000000000000000000000000000000000000000000";

/// The client's knowledge of its pending submissions in that capture.
fn capture_directions(h: &BasicHeader) -> Option<Direction> {
    match h.seqnum {
        0xd05 => Some(Direction::In),
        0xd06 => Some(Direction::Out),
        _ => None,
    }
}

#[test]
fn kernel_doc_hid_capture_cmd_submit() {
    let in_bytes = hex(CMD_INTR_IN);
    let expected_in = Message::CmdSubmit(CmdSubmit {
        base: BasicHeader::new(0xd05, 0x0001_000f, Direction::In, 1),
        transfer_flags: transfer_flags::URB_DIR_IN,
        transfer_buffer_length: 64,
        start_frame: -1,
        number_of_packets: 0,
        interval: 4,
        setup: [0; 8],
        data: &[],
        iso_packets: vec![],
    });
    assert_eq!(decode_one(&in_bytes, &mut usbip::FromHeader), expected_in);
    assert_eq!(expected_in.to_vec().unwrap(), in_bytes);

    let out_bytes = hex(CMD_INTR_OUT);
    let payload = &out_bytes[HEADER_LEN..];
    assert_eq!(payload.len(), 64);
    assert_eq!(&payload[..8], &hex("ffffffff860008a7")[..]);
    let expected_out = Message::CmdSubmit(CmdSubmit {
        base: BasicHeader::new(0xd06, 0x0001_000f, Direction::Out, 1),
        transfer_flags: 0,
        transfer_buffer_length: 64,
        start_frame: -1,
        number_of_packets: 0,
        interval: 4,
        setup: [0; 8],
        data: payload,
        iso_packets: vec![],
    });
    assert_eq!(decode_one(&out_bytes, &mut usbip::FromHeader), expected_out);
    assert_eq!(expected_out.to_vec().unwrap(), out_bytes);
}

#[test]
fn kernel_doc_hid_capture_ret_submit() {
    let mut dirs = capture_directions;

    let out_bytes = hex(RET_INTR_OUT);
    let expected_out = Message::RetSubmit(RetSubmit {
        base: BasicHeader::reply(0xd06),
        status: status::OK,
        actual_length: 64,
        start_frame: -1,
        number_of_packets: 0,
        error_count: 0,
        data: &[],
        iso_packets: vec![],
    });
    assert_eq!(decode_one(&out_bytes, &mut dirs), expected_out);
    assert_eq!(expected_out.to_vec().unwrap(), out_bytes);

    let in_bytes = hex(RET_INTR_IN);
    let payload = &in_bytes[HEADER_LEN..];
    assert_eq!(payload.len(), 64);
    let expected_in = Message::RetSubmit(RetSubmit {
        base: BasicHeader::reply(0xd05),
        status: status::OK,
        actual_length: 64,
        start_frame: -1,
        number_of_packets: 0,
        error_count: 0,
        data: payload,
        iso_packets: vec![],
    });
    assert_eq!(decode_one(&in_bytes, &mut dirs), expected_in);
    assert_eq!(expected_in.to_vec().unwrap(), in_bytes);

    // The server wrote direction 0, so trusting the header (plain `decode`)
    // sees no payload: only the client's context gets this right.
    let (m, n) = urb::decode(&in_bytes).unwrap().unwrap();
    assert_eq!(n, HEADER_LEN);
    assert!(m.payload().is_empty());

    // A seqnum the client does not know cannot be framed.
    let mut none = |_: &BasicHeader| None;
    assert_eq!(
        urb::decode_with(&in_bytes, &mut none),
        Err(Error::UnknownSeqnum(0xd05))
    );
}

#[test]
fn kernel_doc_hid_capture_as_streams() {
    // Client to server: both commands back to back, in 7-byte TCP segments.
    let cmds = [hex(CMD_INTR_IN), hex(CMD_INTR_OUT)].concat();
    let mut rx = Vec::new();
    let mut got = Vec::new();
    for seg in cmds.chunks(7) {
        rx.extend_from_slice(seg);
        while let Some((m, n)) = urb::decode(&rx).unwrap() {
            got.push(m.seqnum());
            rx.drain(..n);
        }
    }
    assert_eq!(got, [0xd05, 0xd06]);
    assert!(rx.is_empty());

    // Server to client: replies in the capture's order.
    let rets = [hex(RET_INTR_OUT), hex(RET_INTR_IN)].concat();
    let mut dirs = capture_directions;
    let (a, n1) = urb::decode_with(&rets, &mut dirs).unwrap().unwrap();
    let (b, n2) = urb::decode_with(&rets[n1..], &mut dirs).unwrap().unwrap();
    assert_eq!((a.seqnum(), n1), (0xd06, 48));
    assert_eq!((b.seqnum(), n2), (0xd05, 48 + 64));
}

#[test]
fn kernel_doc_hid_capture_via_layout_and_parts() {
    // The socket-reading path: header, then payload straight into the
    // caller's buffer, then descriptors.
    let bytes = hex(RET_INTR_IN);
    let header: [u8; HEADER_LEN] = bytes[..HEADER_LEN].try_into().unwrap();
    let mut dirs = capture_directions;
    let layout = urb::layout(&header, &mut dirs).unwrap();
    assert_eq!(
        layout,
        Layout {
            payload_len: 64,
            iso_packets: 0
        }
    );
    let mut frame_buffer = vec![0u8; 4096];
    frame_buffer[..64].copy_from_slice(&bytes[HEADER_LEN..]);
    let m = urb::decode_parts(&header, &frame_buffer[..64], &[], &mut dirs).unwrap();
    assert_eq!(m, decode_one(&bytes, &mut dirs));
    assert_eq!(
        urb::decode_parts(&header, &frame_buffer[..63], &[], &mut dirs),
        Err(Error::LengthMismatch {
            field: "transfer buffer",
            expected: 64,
            actual: 63
        })
    );
    assert_eq!(
        urb::frame_len(&bytes[..47], &mut dirs).unwrap(),
        None,
        "header incomplete"
    );
    assert_eq!(urb::frame_len(&bytes[..48], &mut dirs).unwrap(), Some(112));
}

// ---------------------------------------------------------------------------
// Hand-written URB messages.
// ---------------------------------------------------------------------------

#[test]
fn cmd_submit_control_in_get_device_descriptor() {
    // GET_DESCRIPTOR(DEVICE), wLength 18 on ep 0: the setup bytes go on the
    // wire as the USB setup packet (little-endian wValue/wIndex/wLength),
    // not byte-swapped like the header fields.
    let bytes = hex("00000001 00000001 00010002 00000001 00000000
         00000200 00000012 00000000 ffffffff 00000000
         80060001 00001200");
    let m = Message::CmdSubmit(CmdSubmit {
        base: BasicHeader::new(1, 0x0001_0002, Direction::In, 0),
        transfer_flags: transfer_flags::URB_DIR_IN,
        transfer_buffer_length: 18,
        start_frame: 0,
        number_of_packets: urb::NO_ISO_PACKETS,
        interval: 0,
        setup: [0x80, 0x06, 0x00, 0x01, 0x00, 0x00, 0x12, 0x00],
        data: &[],
        iso_packets: vec![],
    });
    assert_eq!(m.to_vec().unwrap(), bytes);
    assert_eq!(decode_one(&bytes, &mut usbip::FromHeader), m);
    assert_eq!(
        &bytes[0x28..0x30],
        &[0x80, 0x06, 0x00, 0x01, 0x00, 0x00, 0x12, 0x00]
    );
}

#[test]
fn cmd_submit_bulk_out_with_payload() {
    let bytes = hex("00000001 0000002a 00030004 00000000 00000002
         00000040 00000005 00000000 ffffffff 00000000
         00000000 00000000
         0102030405");
    let m = Message::CmdSubmit(CmdSubmit {
        base: BasicHeader::new(42, 0x0003_0004, Direction::Out, 2),
        transfer_flags: transfer_flags::URB_ZERO_PACKET,
        transfer_buffer_length: 5,
        start_frame: 0,
        number_of_packets: -1,
        interval: 0,
        setup: [0; 8],
        data: &[1, 2, 3, 4, 5],
        iso_packets: vec![],
    });
    assert_eq!(m.to_vec().unwrap(), bytes);
    assert_eq!(decode_one(&bytes, &mut usbip::FromHeader), m);
    // Header and payload separately, as a sender writes them.
    assert_eq!(m.encode_header().unwrap()[..], bytes[..48]);
    assert_eq!(m.payload(), &bytes[48..]);
}

#[test]
fn ret_submit_stall() {
    // -EPIPE = 0xffffffe0, no data.
    let bytes = hex("00000003 00000007 00000000 00000000 00000000
         ffffffe0 00000000 00000000 ffffffff 00000000
         00000000 00000000");
    let m = Message::RetSubmit(RetSubmit {
        base: BasicHeader::reply(7),
        status: status::EPIPE,
        actual_length: 0,
        start_frame: 0,
        number_of_packets: -1,
        error_count: 0,
        data: &[],
        iso_packets: vec![],
    });
    assert_eq!(m.to_vec().unwrap(), bytes);
    assert_eq!(decode_one(&bytes, &mut |_: &BasicHeader| None), m);
}

#[test]
fn cmd_unlink_and_ret_unlink() {
    // The document's sequence: CMD_UNLINK(seqnum p+1, unlink_seqnum p),
    // RET_UNLINK(seqnum p+1, status -ECONNRESET).
    let cmd = hex("00000002 00000011 00010002 00000000 00000000
         00000010 00000000 00000000 00000000 00000000
         00000000 00000000");
    let m = Message::CmdUnlink(CmdUnlink {
        base: BasicHeader::new(0x11, 0x0001_0002, Direction::Out, 0),
        unlink_seqnum: 0x10,
    });
    assert_eq!(m.to_vec().unwrap(), cmd);
    assert_eq!(decode_one(&cmd, &mut usbip::FromHeader), m);

    let ret = hex("00000004 00000011 00000000 00000000 00000000
         ffffff98 00000000 00000000 00000000 00000000
         00000000 00000000");
    let m = Message::RetUnlink(RetUnlink {
        base: BasicHeader::reply(0x11),
        status: status::ECONNRESET,
    });
    assert_eq!(m.to_vec().unwrap(), ret);
    assert_eq!(decode_one(&ret, &mut usbip::FromHeader), m);

    let ok = Message::RetUnlink(RetUnlink {
        base: BasicHeader::reply(0x12),
        status: status::OK,
    });
    assert_eq!(&ok.to_vec().unwrap()[20..24], &[0, 0, 0, 0]);
}

#[test]
fn iso_out_submit_and_in_return() {
    // Two ISO packets of 3 and 2 bytes on ep 3; descriptors are big-endian:
    // offset, length, actual_length, status.
    let cmd = hex("00000001 00000020 00010002 00000000 00000003
         00000002 00000005 00000100 00000002 00000001
         00000000 00000000
         aabbcc ddee
         00000000 00000003 00000000 00000000
         00000003 00000002 00000000 00000000");
    let packets = vec![
        IsoPacketDescriptor {
            offset: 0,
            length: 3,
            actual_length: 0,
            status: 0,
        },
        IsoPacketDescriptor {
            offset: 3,
            length: 2,
            actual_length: 0,
            status: 0,
        },
    ];
    let m = Message::CmdSubmit(CmdSubmit {
        base: BasicHeader::new(0x20, 0x0001_0002, Direction::Out, 3),
        transfer_flags: transfer_flags::URB_ISO_ASAP,
        transfer_buffer_length: 5,
        start_frame: 0x100,
        number_of_packets: 2,
        interval: 1,
        setup: [0; 8],
        data: &[0xaa, 0xbb, 0xcc, 0xdd, 0xee],
        iso_packets: packets,
    });
    assert_eq!(m.to_vec().unwrap(), cmd);
    assert_eq!(decode_one(&cmd, &mut usbip::FromHeader), m);

    // An ISO IN completion: 4 bytes of data (3 + 1, packed without the gap),
    // the second packet short with -EXDEV... as the descriptor shows.
    let ret = hex("00000003 00000021 00000000 00000000 00000000
         00000000 00000004 00000104 00000002 00000001
         00000000 00000000
         01020304
         00000000 00000003 00000003 00000000
         00000003 00000003 00000001 ffffffee");
    let m = Message::RetSubmit(RetSubmit {
        base: BasicHeader::reply(0x21),
        status: 0,
        actual_length: 4,
        start_frame: 0x104,
        number_of_packets: 2,
        error_count: 1,
        data: &[1, 2, 3, 4],
        iso_packets: vec![
            IsoPacketDescriptor {
                offset: 0,
                length: 3,
                actual_length: 3,
                status: 0,
            },
            IsoPacketDescriptor {
                offset: 3,
                length: 3,
                actual_length: 1,
                status: status::EXDEV,
            },
        ],
    });
    assert_eq!(m.to_vec().unwrap(), ret);
    assert_eq!(
        decode_one(&ret, &mut |_: &BasicHeader| Some(Direction::In)),
        m
    );
    let h: [u8; 48] = ret[..48].try_into().unwrap();
    assert_eq!(
        urb::layout(&h, &mut |_: &BasicHeader| Some(Direction::In)).unwrap(),
        Layout {
            payload_len: 4,
            iso_packets: 2
        }
    );
}

// ---------------------------------------------------------------------------
// URB decoding errors and limits.
// ---------------------------------------------------------------------------

fn header_with(command: u32, words: &[(usize, u32)]) -> Vec<u8> {
    let mut h = vec![0u8; HEADER_LEN];
    h[..4].copy_from_slice(&command.to_be_bytes());
    for &(off, v) in words {
        h[off..off + 4].copy_from_slice(&v.to_be_bytes());
    }
    h
}

#[test]
fn urb_limits_are_typed_errors() {
    // transfer_buffer_length above 64 MiB, even for IN (no payload follows).
    let h = header_with(1, &[(0x0c, 1), (0x18, MAX_TRANSFER_LEN + 1)]);
    assert_eq!(
        urb::decode(&h),
        Err(Error::TooLarge {
            field: "transfer_buffer_length",
            value: u64::from(MAX_TRANSFER_LEN) + 1,
            max: u64::from(MAX_TRANSFER_LEN)
        })
    );
    // Negative lengths read as huge.
    let h = header_with(3, &[(0x18, 0xffff_ffff)]);
    assert!(matches!(
        urb::decode(&h),
        Err(Error::TooLarge {
            field: "actual_length",
            ..
        })
    ));
    // Exactly 64 MiB OUT is fine: the decoder just waits for the bytes.
    let h = header_with(1, &[(0x18, MAX_TRANSFER_LEN)]);
    assert_eq!(urb::decode(&h), Ok(None));
    assert_eq!(
        urb::frame_len(&h, &mut usbip::FromHeader),
        Ok(Some(48 + (64 << 20)))
    );
    // number_of_packets.
    let h = header_with(1, &[(0x20, 1025)]);
    assert!(matches!(
        urb::decode(&h),
        Err(Error::TooLarge {
            field: "number_of_packets",
            value: 1025,
            ..
        })
    ));
    let h = header_with(3, &[(0x20, 0xffff_fffe)]);
    assert_eq!(
        urb::decode(&h),
        Err(Error::InvalidField {
            field: "number_of_packets",
            value: -2
        })
    );
    // 1024 packets: waits for 16 KiB of descriptors.
    let h = header_with(1, &[(0x20, 1024)]);
    assert_eq!(urb::decode(&h), Ok(None));
    // direction and ep.
    let h = header_with(1, &[(0x0c, 2)]);
    assert_eq!(
        urb::decode(&h),
        Err(Error::InvalidField {
            field: "direction",
            value: 2
        })
    );
    let h = header_with(2, &[(0x10, 16)]);
    assert_eq!(
        urb::decode(&h),
        Err(Error::InvalidField {
            field: "ep",
            value: 16
        })
    );
    // Unknown commands are rejected as soon as the command word is in.
    assert_eq!(urb::decode(&[0, 0, 0]), Ok(None));
    assert_eq!(urb::decode(&[0, 0, 0, 5]), Err(Error::UnknownCommand(5)));
    assert_eq!(urb::decode(&[0, 0, 0, 0]), Err(Error::UnknownCommand(0)));
    assert_eq!(urb::decode(&[]), Ok(None));
}

#[test]
fn urb_encode_rejects_inconsistent_messages() {
    let base = CmdSubmit {
        base: BasicHeader::new(1, 0, Direction::Out, 1),
        transfer_buffer_length: 4,
        data: &[1, 2, 3],
        ..CmdSubmit::default()
    };
    assert_eq!(
        Message::CmdSubmit(base.clone()).to_vec(),
        Err(Error::LengthMismatch {
            field: "CMD_SUBMIT transfer buffer",
            expected: 4,
            actual: 3
        })
    );
    let in_with_data = CmdSubmit {
        base: BasicHeader::new(1, 0, Direction::In, 1),
        ..base.clone()
    };
    assert!(Message::CmdSubmit(in_with_data).to_vec().is_err());
    let iso_mismatch = CmdSubmit {
        data: &[1, 2, 3, 4],
        number_of_packets: 2,
        iso_packets: vec![IsoPacketDescriptor::default()],
        ..base.clone()
    };
    assert_eq!(
        Message::CmdSubmit(iso_mismatch).to_vec(),
        Err(Error::LengthMismatch {
            field: "ISO packet descriptors",
            expected: 2,
            actual: 1
        })
    );
    let bad_ep = CmdUnlink {
        base: BasicHeader::new(1, 0, Direction::Out, 16),
        unlink_seqnum: 0,
    };
    assert!(matches!(
        Message::CmdUnlink(bad_ep).to_vec(),
        Err(Error::InvalidField { field: "ep", .. })
    ));
    let ret = RetSubmit {
        actual_length: 3,
        data: &[1, 2],
        ..RetSubmit::default()
    };
    assert!(Message::RetSubmit(ret).to_vec().is_err());
}

// ---------------------------------------------------------------------------
// Operation messages.
// ---------------------------------------------------------------------------

fn camera_info(num_interfaces: u8) -> UsbDeviceInfo {
    UsbDeviceInfo {
        // The path and bus id examples of the kernel document.
        path: "/sys/devices/pci0000:00/0000:00:1d.1/usb3/3-2".into(),
        busid: "3-2".into(),
        busnum: 3,
        devnum: 2,
        speed: Speed::Super,
        id_vendor: 0x1234,
        id_product: 0x5678,
        bcd_device: 0x0100,
        device_class: 0xef,
        device_subclass: 0x02,
        device_protocol: 0x01,
        configuration_value: 1,
        num_configurations: 1,
        num_interfaces,
    }
}

/// The 312-byte device block of `camera_info`, written out field by field.
fn camera_block(num_interfaces: u8) -> Vec<u8> {
    [
        padded("/sys/devices/pci0000:00/0000:00:1d.1/usb3/3-2", 256),
        padded("3-2", 32),
        hex("00000003 00000002 00000005 1234 5678 0100 ef 02 01 01 01"),
        vec![num_interfaces],
    ]
    .concat()
}

#[test]
fn op_req_devlist() {
    let bytes = hex("0111 8005 00000000");
    assert_eq!(OpMessage::ReqDevlist.to_vec().unwrap(), bytes);
    assert_eq!(
        op::decode(&bytes).unwrap(),
        Some((OpMessage::ReqDevlist, 8))
    );
    assert_eq!(OpMessage::ReqDevlist.code(), OP_REQ_DEVLIST);
}

#[test]
fn op_rep_devlist_one_device_three_interfaces() {
    // A USB3 Vision camera: control, event and streaming interfaces
    // (class 0xef, subclass 0x05, protocols 0, 1, 2).
    let bytes = [
        hex("0111 0005 00000000 00000001"),
        camera_block(3),
        hex("ef050000 ef050100 ef050200"),
    ]
    .concat();
    // Offsets of the document's table.
    assert_eq!(&bytes[0x0c..0x0d], b"/");
    assert_eq!(&bytes[0x10c..0x10f], b"3-2");
    assert_eq!(&bytes[0x12c..0x130], &[0, 0, 0, 3]);
    assert_eq!(&bytes[0x134..0x138], &[0, 0, 0, 5]);
    assert_eq!(&bytes[0x138..0x13a], &[0x12, 0x34]);
    assert_eq!(bytes[0x143], 3);
    assert_eq!(&bytes[0x144..0x148], &[0xef, 0x05, 0x00, 0x00]);
    assert_eq!(bytes.len(), 0x0c + 0x138 + 3 * 4);

    let iface = |protocol| InterfaceInfo {
        class: 0xef,
        subclass: 0x05,
        protocol,
    };
    let m = OpMessage::RepDevlist {
        status: ST_OK,
        devices: vec![ExportedDevice {
            info: camera_info(3),
            interfaces: vec![iface(0), iface(1), iface(2)],
        }],
    };
    assert_eq!(m.to_vec().unwrap(), bytes);
    assert_eq!(m.encoded_len(), bytes.len());
    assert_eq!(op::decode(&bytes).unwrap(), Some((m.clone(), bytes.len())));
    // Every strict prefix is incomplete.
    for n in 0..bytes.len() {
        assert_eq!(op::decode(&bytes[..n]), Ok(None), "prefix {n}");
    }
    assert_eq!(m.code(), OP_REP_DEVLIST);
}

#[test]
fn op_rep_devlist_empty_and_two_devices() {
    let empty = hex("0111 0005 00000000 00000000");
    let m = OpMessage::RepDevlist {
        status: ST_OK,
        devices: vec![],
    };
    assert_eq!(m.to_vec().unwrap(), empty);
    assert_eq!(op::decode(&empty).unwrap(), Some((m, 12)));

    // Second device starts at 0xC + 0x138 + m_0 * 4.
    let mut second = camera_info(0);
    second.busid = "3-3".into();
    second.devnum = 4;
    let m = OpMessage::RepDevlist {
        status: ST_OK,
        devices: vec![
            ExportedDevice {
                info: camera_info(1),
                interfaces: vec![InterfaceInfo {
                    class: 0xff,
                    subclass: 0,
                    protocol: 0,
                }],
            },
            ExportedDevice {
                info: second,
                interfaces: vec![],
            },
        ],
    };
    let bytes = m.to_vec().unwrap();
    let start2 = 0x0c + 0x138 + 4;
    assert_eq!(bytes.len(), start2 + 0x138);
    assert_eq!(&bytes[start2 + 0x100..start2 + 0x103], b"3-3");
    assert_eq!(op::decode(&bytes).unwrap(), Some((m, bytes.len())));
}

#[test]
fn op_req_import() {
    let bytes = [hex("0111 8003 00000000"), padded("3-2", 32)].concat();
    let m = OpMessage::ReqImport {
        busid: "3-2".into(),
    };
    assert_eq!(m.to_vec().unwrap(), bytes);
    assert_eq!(op::decode(&bytes).unwrap(), Some((m.clone(), 40)));
    assert_eq!(m.code(), OP_REQ_IMPORT);
}

#[test]
fn op_rep_import_ok_and_error() {
    let ok = [hex("0111 0003 00000000"), camera_block(3)].concat();
    // Offsets of the document's OP_REP_IMPORT table.
    assert_eq!(&ok[0x108..0x10b], b"3-2");
    assert_eq!(&ok[0x128..0x12c], &[0, 0, 0, 3]);
    assert_eq!(ok[0x13f], 3);
    assert_eq!(ok.len(), 0x140);
    let m = OpMessage::RepImport {
        status: ST_OK,
        device: Some(camera_info(3)),
    };
    assert_eq!(m.to_vec().unwrap(), ok);
    assert_eq!(m.code(), OP_REP_IMPORT);
    // URB traffic may follow in the same buffer; it is left alone.
    let mut stream = ok.clone();
    stream.extend_from_slice(&hex(CMD_INTR_IN));
    assert_eq!(op::decode(&stream).unwrap(), Some((m, 0x140)));

    let err = hex("0111 0003 00000004");
    let m = OpMessage::RepImport {
        status: ST_NODEV,
        device: None,
    };
    assert_eq!(m.to_vec().unwrap(), err);
    assert_eq!(op::decode(&err).unwrap(), Some((m, 8)));
}

#[test]
fn op_strings_and_devid() {
    let mut info = camera_info(0);
    assert_eq!(info.devid(), 0x0003_0002);
    // 255 bytes of path fit (NUL-terminated), 256 do not.
    info.path = "p".repeat(255);
    let m = OpMessage::RepImport {
        status: ST_OK,
        device: Some(info.clone()),
    };
    let bytes = m.to_vec().unwrap();
    assert_eq!(bytes[8 + 255], 0);
    assert_eq!(op::decode(&bytes).unwrap(), Some((m, bytes.len())));
    info.path = "p".repeat(256);
    assert_eq!(
        OpMessage::RepImport {
            status: ST_OK,
            device: Some(info)
        }
        .to_vec(),
        Err(Error::StringTooLong {
            field: "path",
            len: 256,
            max: 255
        })
    );
    assert_eq!(
        OpMessage::ReqImport {
            busid: "x".repeat(32)
        }
        .to_vec(),
        Err(Error::StringTooLong {
            field: "busid",
            len: 32,
            max: 31
        })
    );
    assert_eq!(
        OpMessage::ReqImport {
            busid: "1-1\0".into()
        }
        .to_vec(),
        Err(Error::StringHasNul { field: "busid" })
    );
    // Decoding stops at the first NUL; bytes after it are ignored.
    let mut req = [hex("0111 8003 00000000"), padded("1-1", 32)].concat();
    req[8 + 5] = b'z';
    assert_eq!(
        op::decode(&req).unwrap(),
        Some((
            OpMessage::ReqImport {
                busid: "1-1".into()
            },
            40
        ))
    );
    // Non-UTF-8 is an error, not a lossy conversion.
    req[8] = 0xff;
    assert_eq!(
        op::decode(&req),
        Err(Error::InvalidString { field: "busid" })
    );
}

#[test]
fn op_decoding_errors() {
    assert_eq!(
        op::decode(&hex("0106")),
        Err(Error::UnsupportedVersion(0x0106))
    );
    assert_eq!(op::decode(&hex("01")), Ok(None));
    assert_eq!(
        op::decode(&hex("0111 8002 00000000")),
        Err(Error::UnknownOpCode(0x8002))
    );
    assert_eq!(
        op::decode(&hex("0111 0005 00000000 00001001")),
        Err(Error::TooLarge {
            field: "number of exported devices",
            value: 4097,
            max: 4096
        })
    );
    let mut block = [hex("0111 0003 00000000"), camera_block(0)].concat();
    // speed sits at 0x130 of OP_REP_IMPORT (offsets of the document table).
    block[0x130..0x134].copy_from_slice(&7u32.to_be_bytes());
    assert_eq!(
        op::decode(&block),
        Err(Error::InvalidField {
            field: "speed",
            value: 7
        })
    );
    assert!(matches!(
        OpMessage::RepImport {
            status: ST_OK,
            device: None
        }
        .to_vec(),
        Err(Error::Inconsistent(_))
    ));
    assert!(matches!(
        OpMessage::RepDevlist {
            status: ST_OK,
            devices: vec![ExportedDevice {
                info: camera_info(2),
                interfaces: vec![]
            }]
        }
        .to_vec(),
        Err(Error::LengthMismatch {
            field: "bNumInterfaces",
            ..
        })
    ));
}

#[test]
fn speeds_match_the_kernel_enum() {
    for (v, s) in [
        (0, Speed::Unknown),
        (1, Speed::Low),
        (2, Speed::Full),
        (3, Speed::High),
        (4, Speed::Wireless),
        (5, Speed::Super),
        (6, Speed::SuperPlus),
    ] {
        assert_eq!(s.to_u32(), v);
        assert_eq!(Speed::from_u32(v), Some(s));
    }
    assert_eq!(Speed::from_u32(7), None);
    assert_eq!(usbip::USBIP_DIR_OUT, 0);
    assert_eq!(usbip::USBIP_DIR_IN, 1);
    assert_eq!(usbip::USBIP_VERSION, 0x0111);
    assert_eq!(status::ECONNRESET, -104);
    assert_eq!(status::EPIPE, -32);
    assert_eq!(status::ENODEV, -19);
    assert_eq!(status::ESHUTDOWN, -108);
}
