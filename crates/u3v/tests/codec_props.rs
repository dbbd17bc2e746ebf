//! Property tests: encode then decode is the identity for every message type,
//! no decoder panics on random bytes, and the host stream sizing keeps its
//! guarantees on any input.

use proptest::prelude::*;
use u3v::bootstrap::{
    Abrm, DeviceCapability, DeviceConfiguration, Eirm, Sbrm, Sirm, StreamSizing, U3vcpCapability,
};
use u3v::descriptor::{self, DeviceDescriptors, DeviceIdentity};
use u3v::event::{self, EventLayout, EventRef};
use u3v::gencp::{self, Ack, Command, Flags, Status};
use u3v::manifest::{FileInfo, FileVersion, LocalUrl, Manifest, ManifestEntry};
use u3v::stream::{self, ImageInfo, Leader, LeaderKind, PayloadType, Trailer, TrailerKind};

fn cfg() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        ..ProptestConfig::default()
    }
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (any::<u64>(), any::<u16>())
            .prop_map(|(address, count)| Command::ReadMem { address, count }),
        (any::<u64>(), bytes(300)).prop_map(|(address, data)| Command::WriteMem { address, data }),
        prop::collection::vec((any::<u64>(), any::<u16>()), 0..20)
            .prop_map(Command::ReadMemStacked),
        prop::collection::vec((any::<u64>(), bytes(40)), 0..10).prop_map(Command::WriteMemStacked),
    ]
}

fn ack() -> impl Strategy<Value = Ack> {
    prop_oneof![
        bytes(300).prop_map(Ack::ReadMem),
        any::<u16>().prop_map(|bytes_written| Ack::WriteMem { bytes_written }),
        any::<u16>().prop_map(|timeout_ms| Ack::Pending { timeout_ms }),
        bytes(300).prop_map(Ack::ReadMemStacked),
        prop::collection::vec(any::<u16>(), 0..20).prop_map(Ack::WriteMemStacked),
        (1u16.., any::<u16>(), bytes(16)).prop_map(|(s, command_id, scd)| Ack::Error {
            status: Status(s),
            command_id,
            scd
        }),
    ]
}

fn image_info() -> impl Strategy<Value = ImageInfo> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u16>(),
    )
        .prop_map(
            |(pixel_format, size_x, size_y, offset_x, offset_y, padding_x)| ImageInfo {
                pixel_format,
                size_x,
                size_y,
                offset_x,
                offset_y,
                padding_x,
            },
        )
}

fn leader() -> impl Strategy<Value = Leader> {
    let kind = prop_oneof![
        image_info().prop_map(LeaderKind::Image),
        image_info().prop_map(LeaderKind::ImageExtendedChunk),
        Just(LeaderKind::Chunk),
    ];
    (any::<u64>(), any::<u64>(), kind).prop_map(|(block_id, timestamp, kind)| Leader {
        block_id,
        timestamp,
        kind,
    })
}

fn trailer() -> impl Strategy<Value = Trailer> {
    let kind = prop_oneof![
        any::<u32>().prop_map(|size_y| TrailerKind::Image { size_y }),
        (any::<u32>(), any::<u32>()).prop_map(|(size_y, chunk_layout_id)| {
            TrailerKind::ImageExtendedChunk {
                size_y,
                chunk_layout_id,
            }
        }),
        any::<u32>().prop_map(|chunk_layout_id| TrailerKind::Chunk { chunk_layout_id }),
    ];
    (any::<u64>(), any::<u16>(), any::<u64>(), kind).prop_map(
        |(block_id, s, valid_payload_size, kind)| Trailer {
            block_id,
            status: Status(s),
            valid_payload_size,
            kind,
        },
    )
}

fn ascii(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(0x20u8..0x7f, 0..max).prop_map(|v| String::from_utf8(v).unwrap())
}

fn entry() -> impl Strategy<Value = ManifestEntry> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u64>(),
        any::<u64>(),
        any::<[u8; 20]>(),
    )
        .prop_map(|(v, i, address, size, sha1)| ManifestEntry {
            file_version: FileVersion::from_u32(v),
            file_info: FileInfo(i),
            address,
            size,
            sha1,
        })
}

proptest! {
    #![proptest_config(cfg())]

    // ----- round trips -----

    #[test]
    fn command_roundtrip(c in command(), flags in any::<u16>(), req in any::<u16>()) {
        let mut buf = Vec::new();
        let n = c.encode(Flags(flags), req, &mut buf).unwrap();
        prop_assert_eq!(n, buf.len());
        prop_assert_eq!(n, c.encoded_len());
        let d = gencp::decode_command(&buf).unwrap();
        prop_assert_eq!(d.header.flags, Flags(flags));
        prop_assert_eq!(d.header.request_id, req);
        prop_assert_eq!(d.header.command_id, c.command_id());
        prop_assert_eq!(d.command.to_owned(), c);
    }

    #[test]
    fn ack_roundtrip(a in ack(), req in any::<u16>()) {
        let mut buf = Vec::new();
        a.encode(req, &mut buf).unwrap();
        let d = gencp::decode_ack(&buf).unwrap();
        prop_assert_eq!(d.header.request_id, req);
        prop_assert_eq!(d.header.status, a.status());
        prop_assert_eq!(d.ack.to_owned(), a);
    }

    #[test]
    fn event_roundtrip(
        evs in prop::collection::vec((any::<u16>(), any::<u64>(), bytes(64)), 1..6),
        multi in any::<bool>(),
        flags in any::<u16>(),
        req in any::<u16>(),
    ) {
        let evs: Vec<EventRef<'_>> = evs.iter().map(|(id, ts, d)| EventRef { event_id: *id, timestamp: *ts, data: d }).collect();
        let layout = if multi || evs.len() > 1 { EventLayout::Multi } else { EventLayout::Single };
        let mut buf = Vec::new();
        event::encode(Flags(flags), req, layout, &evs, &mut buf).unwrap();
        let p = event::decode(&buf).unwrap();
        prop_assert_eq!(p.layout(), layout);
        prop_assert_eq!(p.len(), evs.len());
        prop_assert_eq!(p.header.request_id, req);
        prop_assert_eq!(p.events().collect::<Vec<_>>(), evs);
    }

    #[test]
    fn leader_roundtrip(l in leader()) {
        let mut buf = Vec::new();
        l.encode(&mut buf).unwrap();
        prop_assert_eq!(buf.len(), l.encoded_len());
        prop_assert_eq!(Leader::decode(&buf).unwrap(), l);
    }

    #[test]
    fn trailer_roundtrip(t in trailer()) {
        let mut buf = Vec::new();
        t.encode(&mut buf).unwrap();
        prop_assert_eq!(Trailer::decode(&buf, t.kind.payload_type()).unwrap(), t);
    }

    #[test]
    fn chunks_roundtrip(chunks in prop::collection::vec((any::<u32>(), bytes(40)), 0..8)) {
        let mut payload = Vec::new();
        let mut expected = Vec::new();
        for (id, data) in &chunks {
            let start = payload.len();
            stream::encode_chunk(*id, data, &mut payload).unwrap();
            expected.push(stream::Chunk { id: *id, data: start..start + data.len() });
        }
        let parsed = stream::parse_chunks(&payload).unwrap();
        prop_assert_eq!(&parsed, &expected);
        for (c, (_, data)) in parsed.iter().zip(&chunks) {
            prop_assert_eq!(&payload[c.data.clone()], &data[..]);
        }
    }

    #[test]
    fn abrm_roundtrip(
        strings in prop::collection::vec(ascii(64), 8),
        words in prop::collection::vec(any::<u64>(), 14),
    ) {
        let w32 = |i: usize| words[i] as u32;
        let a = Abrm {
            gencp_version: w32(0),
            manufacturer_name: strings[0].clone(),
            model_name: strings[1].clone(),
            family_name: strings[2].clone(),
            device_version: strings[3].clone(),
            manufacturer_info: strings[4].clone(),
            serial_number: strings[5].clone(),
            user_defined_name: strings[6].clone(),
            device_capability: DeviceCapability(words[1]),
            max_device_response_time_ms: w32(2),
            manifest_table_address: words[3],
            sbrm_address: words[4],
            device_configuration: DeviceConfiguration(words[5]),
            heartbeat_timeout: w32(6),
            message_channel_id: w32(7),
            timestamp: words[8],
            timestamp_latch: w32(9),
            timestamp_increment: words[10],
            access_privilege: w32(11),
            protocol_endianness: w32(12),
            implementation_endianness: w32(13),
            device_software_interface_version: strings[7].clone(),
        };
        let mut buf = Vec::new();
        let r = a.encode(&mut buf);
        if strings.iter().any(|s| s.len() >= 64) {
            prop_assert!(r.is_err());
            prop_assert!(buf.is_empty());
        } else {
            prop_assert_eq!(r.unwrap(), 0x250);
            prop_assert_eq!(Abrm::decode(&buf).unwrap(), a);
        }
    }

    #[test]
    fn sbrm_sirm_eirm_roundtrip(w in prop::collection::vec(any::<u64>(), 12)) {
        let s = Sbrm {
            u3v_version: w[0] as u32, u3vcp_capability: U3vcpCapability(w[1]), u3vcp_configuration: w[2],
            max_cmd_transfer_length: w[3] as u32, max_ack_transfer_length: w[4] as u32,
            num_stream_channels: w[5] as u32, sirm_address: w[6], sirm_length: w[7] as u32,
            eirm_address: w[8], eirm_length: w[9] as u32, iidc2_address: w[10], current_speed: w[11] as u32,
        };
        let mut buf = Vec::new();
        s.encode(&mut buf).unwrap();
        prop_assert_eq!(Sbrm::decode(&buf).unwrap(), s);
        let si = Sirm {
            si_info: w[0] as u32, si_control: w[1] as u32, required_payload_size: w[2],
            required_leader_size: w[3] as u32, required_trailer_size: w[4] as u32, max_leader_size: w[5] as u32,
            payload_transfer_size: w[6] as u32, payload_transfer_count: w[7] as u32,
            final_transfer1_size: w[8] as u32, final_transfer2_size: w[9] as u32, max_trailer_size: w[10] as u32,
        };
        let mut buf = Vec::new();
        si.encode(&mut buf).unwrap();
        prop_assert_eq!(Sirm::decode(&buf).unwrap(), si);
        let e = Eirm { ei_control: w[0] as u32, max_event_transfer_length: w[1] as u32, event_test_control: w[2] as u32 };
        let mut buf = Vec::new();
        e.encode(&mut buf).unwrap();
        prop_assert_eq!(Eirm::decode(&buf).unwrap(), e);
    }

    #[test]
    fn manifest_roundtrip(entries in prop::collection::vec(entry(), 0..6)) {
        let m = Manifest { entries };
        let mut buf = Vec::new();
        m.encode(&mut buf).unwrap();
        prop_assert_eq!(Manifest::decode(&buf).unwrap(), m);
    }

    #[test]
    fn local_url_roundtrip(
        name in "[A-Za-z0-9_.-]{1,40}",
        address in any::<u64>(),
        size in any::<u64>(),
        upper in any::<bool>(),
    ) {
        let url = LocalUrl { file_name: name, address, size };
        let s = url.to_string();
        prop_assert_eq!(LocalUrl::parse(&s).unwrap(), url.clone());
        let alt = if upper {
            format!("Local:{};0X{:X};{:X}", url.file_name, address, size)
        } else {
            format!("local:{};0x{:x};{:x}?SchemaVersion=1.1.0", url.file_name, address, size)
        };
        prop_assert_eq!(LocalUrl::parse(&alt).unwrap(), url);
    }

    #[test]
    fn descriptors_roundtrip(
        vid in any::<u16>(), pid in any::<u16>(),
        manufacturer in ascii(40), model in ascii(40), serial in ascii(40),
        family in ascii(20), burst in 0u8..16,
    ) {
        let mut id = DeviceIdentity::new(vid, pid, &manufacturer, &model, &serial);
        id.family_name = family.clone();
        id.stream_max_burst = burst;
        let dd = DeviceDescriptors::new(&id).unwrap();
        let c = dd.configuration();
        prop_assert_eq!(u16::from_le_bytes([c[2], c[3]]) as usize, c.len());
        let cfg = descriptor::parse_configuration(c).unwrap();
        prop_assert_eq!(cfg.stream.unwrap().bulk_in.max_burst, Some(burst));
        let dev = descriptor::DeviceDescriptor::decode(dd.device()).unwrap();
        prop_assert_eq!((dev.vendor_id, dev.product_id), (vid, pid));
        let info = cfg.control.device_info.unwrap();
        let text = |i: u8| if i == 0 { String::new() } else {
            descriptor::decode_string_descriptor(dd.string(i).unwrap()).unwrap()
        };
        prop_assert_eq!(text(info.i_vendor_name), manufacturer);
        prop_assert_eq!(text(info.i_model_name), model);
        prop_assert_eq!(text(info.i_serial_number), serial);
        prop_assert_eq!(text(info.i_family_name), family);
    }

    #[test]
    fn string_descriptor_roundtrip(s in "\\PC{0,100}") {
        let mut v = Vec::new();
        match descriptor::encode_string_descriptor(&s, &mut v) {
            Ok(_) => prop_assert_eq!(descriptor::decode_string_descriptor(&v).unwrap(), s),
            Err(_) => prop_assert!(s.encode_utf16().count() > 126),
        }
    }

    // ----- stream sizing -----

    #[test]
    fn stream_sizing_properties(
        payload in prop_oneof![any::<u64>(), 0u64..100_000_000],
        leader in any::<u32>(),
        trailer in any::<u32>(),
        exp in 0u32..34,
        max_transfer in prop_oneof![any::<u32>(), 0u32..(4 << 20)],
    ) {
        let alignment = if exp >= 32 { 3 } else { 1u32 << exp };
        match StreamSizing::compute(payload, leader, trailer, alignment, max_transfer) {
            Ok(s) => {
                let a = u64::from(alignment);
                for v in [s.payload_transfer_size, s.final_transfer1_size, s.final_transfer2_size, s.leader_size, s.trailer_size] {
                    prop_assert_eq!(u64::from(v) % a, 0);
                }
                prop_assert!(s.payload_transfer_size <= max_transfer);
                let total = s.total_payload_capacity();
                prop_assert!(total >= payload, "transfers {} do not cover payload {}", total, payload);
                prop_assert!(total - payload < a.max(1), "transfers {} overshoot payload {}", total, payload);
                prop_assert!(s.leader_size >= leader && u64::from(s.leader_size - leader) < a);
                prop_assert!(s.trailer_size >= trailer && u64::from(s.trailer_size - trailer) < a);
                prop_assert!(s.final_transfer1_size <= s.payload_transfer_size);
                // A payload that fits in one transfer gets exactly one.
                let m = u64::from(max_transfer) & !(a - 1);
                if payload > 0 && payload.div_ceil(a).checked_mul(a).is_some_and(|r| r <= m) {
                    prop_assert_eq!(
                        (s.payload_transfer_count, s.final_transfer1_size, s.final_transfer2_size),
                        (1, 0, 0)
                    );
                }
            }
            Err(_) => {
                // Only impossible inputs fail.
                let bad_alignment = !alignment.is_power_of_two();
                let small_max = alignment.is_power_of_two() && max_transfer < alignment;
                let overflow = alignment.is_power_of_two()
                    && (u64::from(leader) + u64::from(alignment) - 1 > u64::from(u32::MAX)
                        || u64::from(trailer) + u64::from(alignment) - 1 > u64::from(u32::MAX));
                let too_many = alignment.is_power_of_two() && max_transfer >= alignment
                    && payload / u64::from(max_transfer & !(alignment - 1)) > u64::from(u32::MAX);
                prop_assert!(bad_alignment || small_max || overflow || too_many);
            }
        }
    }

    // ----- no panics on random input -----

    #[test]
    fn decoders_never_panic(data in bytes(600)) {
        let _ = gencp::decode_command(&data);
        let _ = gencp::decode_ack(&data);
        let _ = gencp::CommandHeader::decode(&data);
        let _ = gencp::AckHeader::decode(&data);
        let _ = gencp::ReadStack::parse(&data).map(|s| s.iter().count());
        let _ = gencp::WriteStack::parse(&data).map(|s| s.iter().count());
        let _ = gencp::WrittenList::parse(&data).map(|s| s.iter().count());
        if let Ok(p) = event::decode(&data) {
            prop_assert_eq!(p.events().count(), p.len());
        }
        let _ = Leader::decode(&data);
        for pt in [PayloadType::Image, PayloadType::Chunk, PayloadType::ImageExtendedChunk] {
            let _ = Trailer::decode(&data, pt);
        }
        let _ = stream::classify(&data);
        if let Ok(chunks) = stream::parse_chunks(&data) {
            for c in chunks {
                prop_assert!(c.data.end <= data.len());
            }
        }
        let _ = Abrm::decode(&data);
        let _ = Sbrm::decode(&data);
        let _ = Sirm::decode(&data).map(|s| s.alignment());
        let _ = Eirm::decode(&data);
        let _ = Manifest::decode(&data);
        let _ = Manifest::decode_count(&data);
        let _ = ManifestEntry::decode(&data);
        let _ = descriptor::DeviceDescriptor::decode(&data);
        let _ = descriptor::DeviceInfoDescriptor::decode(&data);
        let _ = descriptor::parse_configuration(&data);
        let _ = descriptor::decode_string_descriptor(&data);
        let _ = descriptor::decode_language_ids(&data);
        let _ = LocalUrl::parse(&String::from_utf8_lossy(&data));
    }

    /// Random bytes behind a valid header reach the SCD parsers.
    #[test]
    fn framed_random_scd_never_panics(id in prop::sample::select(vec![
        0x0800u16, 0x0801, 0x0802, 0x0803, 0x0805, 0x0806, 0x0807, 0x0808, 0x0809, 0x0C00,
    ]), status in prop_oneof![Just(0u16), any::<u16>()], scd in bytes(120)) {
        let mut cmd = Vec::new();
        cmd.extend_from_slice(&gencp::CONTROL_PREFIX.to_le_bytes());
        cmd.extend_from_slice(&status.to_le_bytes());
        cmd.extend_from_slice(&id.to_le_bytes());
        cmd.extend_from_slice(&(scd.len() as u16).to_le_bytes());
        cmd.extend_from_slice(&1u16.to_le_bytes());
        cmd.extend_from_slice(&scd);
        let _ = gencp::decode_command(&cmd);
        let _ = gencp::decode_ack(&cmd);
        cmd[..4].copy_from_slice(&event::EVENT_PREFIX.to_le_bytes());
        if let Ok(p) = event::decode(&cmd) {
            prop_assert_eq!(p.events().count(), p.len());
        }
    }

    /// Random descriptors behind a valid configuration header.
    #[test]
    fn framed_random_configuration_never_panics(body in bytes(200), extra in 0usize..4) {
        let total = (9 + body.len()) as u16;
        let mut c = vec![9, 2, total as u8, (total >> 8) as u8, 3, 1, 0, 0x80, 100];
        c.extend_from_slice(&body);
        c.extend(std::iter::repeat(0).take(extra));
        let _ = descriptor::parse_configuration(&c);
    }

    /// Random stream bodies behind valid prefixes and size fields.
    #[test]
    fn framed_random_stream_never_panics(body in bytes(60), pt in any::<u16>()) {
        let mut l = Vec::new();
        l.extend_from_slice(&stream::LEADER_PREFIX.to_le_bytes());
        l.extend_from_slice(&[0, 0]);
        l.extend_from_slice(&((20 + body.len()) as u16).to_le_bytes());
        l.extend_from_slice(&[0; 10]);
        l.extend_from_slice(&pt.to_le_bytes());
        l.extend_from_slice(&body);
        let _ = Leader::decode(&l);
        l[..4].copy_from_slice(&stream::TRAILER_PREFIX.to_le_bytes());
        for pt in [PayloadType::Image, PayloadType::Chunk, PayloadType::ImageExtendedChunk] {
            let _ = Trailer::decode(&l, pt);
        }
    }
}
