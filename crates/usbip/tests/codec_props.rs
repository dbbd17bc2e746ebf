//! Property tests: encode then decode is the identity for every message,
//! decoding a byte at a time equals decoding at once, and random bytes
//! never make a decoder panic.

use proptest::collection::vec;
use proptest::prelude::*;
use usbip::op;
use usbip::urb::{self, MAX_ISO_PACKETS};
use usbip::{
    BasicHeader, CmdSubmit, CmdUnlink, Direction, ExportedDevice, InterfaceInfo,
    IsoPacketDescriptor, Message, OpMessage, RetSubmit, RetUnlink, Speed, UsbDeviceInfo,
};

// ---------------------------------------------------------------------------
// Owned generators (messages borrow their payload, so strategies produce an
// owned form that is then viewed as a `Message`).
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Owned {
    CmdSubmit(CmdSubmit<'static>, Vec<u8>),
    RetSubmit(RetSubmit<'static>, Vec<u8>),
    CmdUnlink(CmdUnlink),
    RetUnlink(RetUnlink),
}

impl Owned {
    fn message(&self) -> Message<'_> {
        match self {
            Owned::CmdSubmit(m, d) => Message::CmdSubmit(CmdSubmit {
                data: d,
                ..m.clone()
            }),
            Owned::RetSubmit(m, d) => Message::RetSubmit(RetSubmit {
                data: d,
                ..m.clone()
            }),
            Owned::CmdUnlink(m) => Message::CmdUnlink(*m),
            Owned::RetUnlink(m) => Message::RetUnlink(*m),
        }
    }

    /// The direction the client knows for this message's seqnum.
    fn reply_direction(&self) -> Direction {
        match self {
            Owned::RetSubmit(_, d) if !d.is_empty() => Direction::In,
            _ => Direction::Out,
        }
    }
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![Just(Direction::Out), Just(Direction::In)]
}

fn basic() -> impl Strategy<Value = BasicHeader> {
    (any::<u32>(), any::<u32>(), direction(), 0u8..=15)
        .prop_map(|(s, d, dir, ep)| BasicHeader::new(s, d, dir, ep))
}

fn iso_packet() -> impl Strategy<Value = IsoPacketDescriptor> {
    (any::<u32>(), any::<u32>(), any::<u32>(), any::<i32>()).prop_map(
        |(offset, length, actual_length, status)| IsoPacketDescriptor {
            offset,
            length,
            actual_length,
            status,
        },
    )
}

/// `(number_of_packets, descriptors)`: non-ISO (0 or -1) or 1..=8 packets,
/// with an occasional large count.
fn iso_part() -> impl Strategy<Value = (i32, Vec<IsoPacketDescriptor>)> {
    prop_oneof![
        3 => prop_oneof![Just(0i32), Just(-1i32)].prop_map(|n| (n, vec![])),
        2 => vec(iso_packet(), 1..8).prop_map(|v| (v.len() as i32, v)),
        1 => (MAX_ISO_PACKETS as usize - 2..=MAX_ISO_PACKETS as usize).prop_flat_map(|n| {
            vec(iso_packet(), n).prop_map(|v| (v.len() as i32, v))
        }),
    ]
}

fn cmd_submit() -> impl Strategy<Value = Owned> {
    (
        basic(),
        any::<u32>(),
        vec(any::<u8>(), 0..300),
        0u32..=5000,
        any::<i32>(),
        any::<i32>(),
        any::<[u8; 8]>(),
        iso_part(),
    )
        .prop_map(
            |(base, flags, data, in_len, start_frame, interval, setup, (n, iso))| {
                let (len, data) = match base.direction {
                    Direction::Out => (data.len() as u32, data),
                    Direction::In => (in_len, vec![]),
                };
                Owned::CmdSubmit(
                    CmdSubmit {
                        base,
                        transfer_flags: flags,
                        transfer_buffer_length: len,
                        start_frame,
                        number_of_packets: n,
                        interval,
                        setup,
                        data: &[],
                        iso_packets: iso,
                    },
                    data,
                )
            },
        )
}

fn ret_submit() -> impl Strategy<Value = Owned> {
    (
        basic(),
        any::<i32>(),
        direction(),
        vec(any::<u8>(), 0..300),
        0u32..=5000,
        any::<i32>(),
        any::<i32>(),
        iso_part(),
    )
        .prop_map(
            |(base, status, dir, data, out_len, start_frame, errors, (n, iso))| {
                let (len, data) = match dir {
                    Direction::In => (data.len() as u32, data),
                    Direction::Out => (out_len, vec![]),
                };
                Owned::RetSubmit(
                    RetSubmit {
                        base,
                        status,
                        actual_length: len,
                        start_frame,
                        number_of_packets: n,
                        error_count: errors,
                        data: &[],
                        iso_packets: iso,
                    },
                    data,
                )
            },
        )
}

fn urb_message() -> impl Strategy<Value = Owned> {
    prop_oneof![
        cmd_submit(),
        ret_submit(),
        (basic(), any::<u32>()).prop_map(|(base, unlink_seqnum)| Owned::CmdUnlink(CmdUnlink {
            base,
            unlink_seqnum
        })),
        (basic(), any::<i32>())
            .prop_map(|(base, status)| Owned::RetUnlink(RetUnlink { base, status })),
    ]
}

/// Strings that fit a NUL-padded field of `size` bytes, non-ASCII included.
fn field_string(size: usize) -> impl Strategy<Value = String> {
    "[a-zA-Z0-9/:._\\-é€]{0,40}"
        .prop_filter_map("too long", move |s: String| (s.len() < size).then_some(s))
}

fn speed() -> impl Strategy<Value = Speed> {
    (0u32..=6).prop_map(|v| Speed::from_u32(v).unwrap_or_default())
}

fn device_info() -> impl Strategy<Value = UsbDeviceInfo> {
    (
        (
            field_string(256),
            field_string(32),
            any::<u32>(),
            any::<u32>(),
            speed(),
        ),
        (any::<u16>(), any::<u16>(), any::<u16>()),
        any::<[u8; 6]>(),
    )
        .prop_map(
            |((path, busid, busnum, devnum, speed), (v, p, bcd), b)| UsbDeviceInfo {
                path,
                busid,
                busnum,
                devnum,
                speed,
                id_vendor: v,
                id_product: p,
                bcd_device: bcd,
                device_class: b[0],
                device_subclass: b[1],
                device_protocol: b[2],
                configuration_value: b[3],
                num_configurations: b[4],
                num_interfaces: b[5],
            },
        )
}

fn exported_device() -> impl Strategy<Value = ExportedDevice> {
    (device_info(), vec(any::<[u8; 3]>(), 0..6)).prop_map(|(mut info, ifs)| {
        info.num_interfaces = ifs.len() as u8;
        ExportedDevice {
            info,
            interfaces: ifs
                .into_iter()
                .map(|[class, subclass, protocol]| InterfaceInfo {
                    class,
                    subclass,
                    protocol,
                })
                .collect(),
        }
    })
}

fn op_message() -> impl Strategy<Value = OpMessage> {
    prop_oneof![
        Just(OpMessage::ReqDevlist),
        vec(exported_device(), 0..4).prop_map(|devices| OpMessage::RepDevlist {
            status: op::ST_OK,
            devices
        }),
        (1u32..=5).prop_map(|status| OpMessage::RepDevlist {
            status,
            devices: vec![]
        }),
        field_string(32).prop_map(|busid| OpMessage::ReqImport { busid }),
        device_info().prop_map(|d| OpMessage::RepImport {
            status: op::ST_OK,
            device: Some(d)
        }),
        (1u32..=5).prop_map(|status| OpMessage::RepImport {
            status,
            device: None
        }),
    ]
}

// ---------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn urb_round_trip(owned in urb_message(), trailing in vec(any::<u8>(), 0..8)) {
        let msg = owned.message();
        let bytes = msg.to_vec().unwrap();
        prop_assert_eq!(bytes.len(), msg.encoded_len());
        let dir = owned.reply_direction();
        let mut ctx = |_: &BasicHeader| Some(dir);

        // Whole buffer, with unrelated bytes after it.
        let mut buf = bytes.clone();
        buf.extend_from_slice(&trailing);
        let (decoded, used) = urb::decode_with(&buf, &mut ctx).unwrap().unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(&decoded, &msg);

        // Header, payload and descriptors read separately.
        let header: [u8; urb::HEADER_LEN] = bytes[..urb::HEADER_LEN].try_into().unwrap();
        let layout = urb::layout(&header, &mut ctx).unwrap();
        prop_assert_eq!(layout, msg.layout());
        let payload = &bytes[urb::HEADER_LEN..urb::HEADER_LEN + layout.payload_len];
        let iso = &bytes[urb::HEADER_LEN + layout.payload_len..];
        prop_assert_eq!(urb::decode_parts(&header, payload, iso, &mut ctx).unwrap(), msg.clone());

        // Header plus payload plus descriptors as a sender writes them.
        let mut pieces = msg.encode_header().unwrap().to_vec();
        pieces.extend_from_slice(msg.payload());
        urb::encode_iso_packets(msg.iso_packets(), &mut pieces);
        prop_assert_eq!(pieces, bytes.clone());

        // Messages whose header direction tells the truth also decode
        // without a context.
        let header_truthful = match &msg {
            Message::RetSubmit(m) => m.data.is_empty() == (m.base.direction == Direction::Out)
                || m.actual_length == 0,
            _ => true,
        };
        if header_truthful {
            prop_assert_eq!(urb::decode(&bytes).unwrap(), Some((msg.clone(), bytes.len())));
        }
    }

    #[test]
    fn urb_byte_by_byte_equals_one_shot(owned in urb_message()) {
        let msg = owned.message();
        let bytes = msg.to_vec().unwrap();
        let dir = owned.reply_direction();
        let mut ctx = |_: &BasicHeader| Some(dir);
        let one_shot = urb::decode_with(&bytes, &mut ctx).unwrap().unwrap();
        let mut buf = Vec::new();
        let mut result = None;
        for (i, &b) in bytes.iter().enumerate() {
            buf.push(b);
            match urb::decode_with(&buf, &mut ctx).unwrap() {
                None => prop_assert!(i + 1 < bytes.len(), "complete buffer reported partial"),
                Some((m, n)) => {
                    prop_assert_eq!(i + 1, bytes.len(), "partial buffer reported complete");
                    result = Some((m.snapshot(), n));
                }
            }
            let expect_len = (buf.len() >= urb::HEADER_LEN).then_some(bytes.len());
            prop_assert_eq!(urb::frame_len(&buf, &mut ctx).unwrap(), expect_len);
        }
        prop_assert_eq!(result, Some((one_shot.0.snapshot(), one_shot.1)));
    }

    #[test]
    fn urb_stream_of_messages(msgs in vec(urb_message(), 1..6), seg in 1usize..200) {
        // Several messages in one TCP stream, arriving in segments.
        let mut stream = Vec::new();
        for m in &msgs {
            m.message().encode(&mut stream).unwrap();
        }
        let dirs: Vec<Direction> = msgs.iter().map(Owned::reply_direction).collect();
        let mut next = 0usize;
        let mut rx = Vec::new();
        for chunk in stream.chunks(seg) {
            rx.extend_from_slice(chunk);
            while let Some(&d) = dirs.get(next) {
                let mut ctx = |_: &BasicHeader| Some(d);
                let Some((m, n)) = urb::decode_with(&rx, &mut ctx).unwrap() else { break };
                prop_assert_eq!(&m, &msgs[next].message());
                rx.drain(..n);
                next += 1;
            }
        }
        prop_assert_eq!(next, msgs.len());
        prop_assert!(rx.is_empty());
    }

    #[test]
    fn op_round_trip(msg in op_message(), trailing in vec(any::<u8>(), 0..8)) {
        let bytes = msg.to_vec().unwrap();
        prop_assert_eq!(bytes.len(), msg.encoded_len());
        let mut buf = bytes.clone();
        buf.extend_from_slice(&trailing);
        prop_assert_eq!(op::decode(&buf).unwrap(), Some((msg.clone(), bytes.len())));
        prop_assert_eq!(op::message_len(&bytes).unwrap(), Some(bytes.len()));
    }

    #[test]
    fn op_byte_by_byte_equals_one_shot(msg in op_message()) {
        let bytes = msg.to_vec().unwrap();
        let one_shot = op::decode(&bytes).unwrap();
        for n in 0..bytes.len() {
            prop_assert_eq!(op::decode(&bytes[..n]).unwrap(), None);
        }
        prop_assert_eq!(one_shot, Some((msg, bytes.len())));
    }

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..600), dir in direction()) {
        let _ = urb::decode(&bytes);
        let _ = urb::decode_with(&bytes, &mut |_: &BasicHeader| Some(dir));
        let _ = urb::decode_with(&bytes, &mut |_: &BasicHeader| None);
        let _ = urb::frame_len(&bytes, &mut urb::FromHeader);
        let _ = op::decode(&bytes);
        let _ = op::message_len(&bytes);
        let _ = urb::decode_iso_packets(&bytes);
        if let Ok(h) = <[u8; urb::HEADER_LEN]>::try_from(bytes.get(..urb::HEADER_LEN).unwrap_or(&[])) {
            let _ = urb::layout(&h, &mut urb::FromHeader);
            let _ = urb::decode_parts(&h, &bytes[urb::HEADER_LEN..], &[], &mut urb::FromHeader);
        }
    }

    #[test]
    fn random_headers_decode_consistently(
        command in 1u32..=4,
        words in vec(prop_oneof![any::<u32>(), 0u32..2, 0u32..16, 0u32..300], 11),
        tail in vec(any::<u8>(), 0..400),
    ) {
        // Plausible headers: whatever decodes must re-encode to the same
        // header (padding aside) and payload.
        let mut bytes = command.to_be_bytes().to_vec();
        for w in &words {
            bytes.extend_from_slice(&w.to_be_bytes());
        }
        bytes.extend_from_slice(&tail);
        if let Ok(Some((m, n))) = urb::decode(&bytes) {
            let again = m.to_vec().unwrap();
            prop_assert_eq!(again.len(), n);
            prop_assert_eq!(&again[..24], &bytes[..24]);
            prop_assert_eq!(&again[urb::HEADER_LEN..], &bytes[urb::HEADER_LEN..n]);
            prop_assert_eq!(urb::decode(&again).unwrap(), Some((m, n)));
        }
    }
}

/// An owned, comparable snapshot of a message (to keep results across
/// buffer mutations).
trait Snapshot {
    fn snapshot(&self) -> (String, Vec<u8>);
}

impl Snapshot for Message<'_> {
    fn snapshot(&self) -> (String, Vec<u8>) {
        (format!("{self:?}"), self.payload().to_vec())
    }
}
