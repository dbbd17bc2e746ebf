//! Cross-check of our wire bytes against an independent decoder: Wireshark's
//! USB3 Vision dissector (`epan/dissectors/packet-u3v.c`), run through
//! `tshark` (checked with Debian's `tshark` 4.0.17-0+deb12u3).
//!
//! The test encodes a control session, an event and a streamed frame with
//! this crate's codecs, wraps every transfer in a Linux usbmon record (link
//! type 220, `LINKTYPE_USB_LINUX_MMAPPED`, see `support/pcap.rs`), writes a
//! pcap file and reads it back with
//!
//! ```text
//! tshark -r FILE -T fields -E separator=/t -E occurrence=a -E aggregator=, -e frame.number -e ...
//! ```
//!
//! then asserts that every field Wireshark decoded is what we sent.
//!
//! How Wireshark finds the protocol: the capture has no descriptors, so USB
//! does not know the interface class. The dissector registers a heuristic on
//! the `usb.bulk` table (enabled by default) that accepts any bulk transfer
//! starting with `U3VC`, `U3VE`, `U3VL` or `U3VT`, so no `-d`, `-o` or
//! "Decode As" option is needed. Payload transfers have no prefix: they are
//! recognised because the leader marked their endpoint as the stream
//! endpoint of the conversation. Acknowledges are matched to their command
//! by request id, which is how Wireshark knows which register a READMEM
//! acknowledge carries, and it learns the SBRM and SIRM addresses from the
//! READMEM acknowledges of ABRM 0x1D8 and SBRM + 0x20, so a WRITEMEM into the
//! SIRM is decoded by register name.
//!
//! Wireshark quirks found on the way (none is a disagreement with our
//! encoding):
//! - Event data is only shown when the SCD is longer than 24 bytes (it
//!   compares the SCD length with an absolute offset), so the event here
//!   carries 16 data bytes.
//! - A WRITEMEM whose data is shorter than the register Wireshark believes
//!   is at that address (e.g. 4 bytes at SBRM + 4, the 8-byte U3VCP
//!   capability register) is flagged "Malformed Packet (Exception
//!   occurred)"; the WRITEMEM here goes to the 4-byte SIRM SI_Control.
//!
//! When `tshark` is not installed the test prints `SKIPPED: tshark not found`
//! and passes.

#[path = "support/pcap.rs"]
mod pcap;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command as Process;

use u3v::bootstrap::{abrm, sbrm};
use u3v::event::{self, EventLayout};
use u3v::gencp::{self, Ack, Command, Flags};
use u3v::stream::{self, ImageInfo, Leader, LeaderKind, Trailer, TrailerKind};
use u3v::{EventRef, Status};

use pcap::UsbmonPcap;

const EP_CONTROL_OUT: u8 = 0x01;
const EP_CONTROL_IN: u8 = 0x81;
const EP_EVENT_IN: u8 = 0x82;
const EP_STREAM_IN: u8 = 0x83;

const MANUFACTURER: &str = "mvcam project";
const SBRM_ADDRESS: u64 = 0x1000;
const SIRM_ADDRESS: u64 = 0x2000;
/// SIRM SI_Control (SIRM + 4): the WRITEMEM target.
const WRITE_ADDRESS: u64 = 0x2004;
const PIXEL_FORMAT_MONO8: u32 = 0x0108_0001;
const WIDTH: u32 = 64;
const HEIGHT: u32 = 48;
const BLOCK_ID: u64 = 7;
const TIMESTAMP: u64 = 0x0011_2233_4455_6677;
const EVENT_ID: u16 = 0x9001;
const EVENT_TIMESTAMP: u64 = 0x0000_0123_4567_89ab;
const EVENT_DATA: [u8; 16] = *b"\xde\xad\xbe\xef0123456789ab";

/// Fields asked from tshark, one column each.
const FIELDS: &[&str] = &[
    "frame.number",
    "frame.protocols",
    "usb.endpoint_address",
    "usb.urb_type",
    "_ws.malformed",
    "_ws.expert.message",
    "u3v.gencp.prefix",
    "u3v.gencp.flags",
    "u3v.gencp.command_id",
    "u3v.gencp.payloadlength",
    "u3v.gencp.req_id",
    "u3v.gencp.status",
    "u3v.gencp.address",
    "u3v.gencp.count",
    "u3v.gencp.custom_addr",
    "u3v.gencp.custom_data",
    "u3v.bootstrap.Manufacturer_Name",
    "u3v.bootstrap.SBRM_Address",
    "u3v.bootstrap.SIRM_Address",
    "u3v.bootstrap.SI_Control",
    "u3v.cmd.event.id",
    "u3v.cmd.event.devicespecificid",
    "u3v.cmd.event.timestamp",
    "u3v.cmd.event.data",
    "u3v.stream.prefix",
    "u3v.stream.leader_size",
    "u3v.stream.trailer_size",
    "u3v.stream.block_id",
    "u3v.stream.payload_type",
    "u3v.stream.timestamp",
    "u3v.stream.pixel_format",
    "u3v.stream.sizex",
    "u3v.stream.sizey",
    "u3v.stream.offsetx",
    "u3v.stream.offsety",
    "u3v.stream.paddingx",
    "u3v.stream.valid_payload_size",
    "u3v.stream.status",
    "u3v.stream_payload",
    "u3v.stream.data",
];

fn tshark_version() -> Option<String> {
    let out = Process::new("tshark").arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.lines().next().unwrap_or("tshark").to_string())
}

fn cmd(c: &Command, req: u16) -> Vec<u8> {
    let mut v = Vec::new();
    c.encode(Flags::REQUEST_ACK, req, &mut v).unwrap();
    v
}

fn ack(a: &Ack, req: u16) -> Vec<u8> {
    let mut v = Vec::new();
    a.encode(req, &mut v).unwrap();
    v
}

fn payload() -> Vec<u8> {
    (0..WIDTH * HEIGHT).map(|i| (i % 251) as u8).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Writes the capture and returns the number of records.
fn write_capture(path: &Path) -> usize {
    let file = std::fs::File::create(path).unwrap();
    let mut p = UsbmonPcap::new(std::io::BufWriter::new(file), 2, 5).unwrap();
    let mut n = 0;
    let mut transaction = |p: &mut UsbmonPcap<_>, c: Command, a: Ack, req: u16| {
        p.bulk_out(EP_CONTROL_OUT, &cmd(&c, req)).unwrap();
        p.bulk_in(EP_CONTROL_IN, &ack(&a, req)).unwrap();
        n += 2;
    };

    // Frames 1-2: READMEM of the ABRM SBRM address (0x1D8, 8 bytes).
    transaction(
        &mut p,
        Command::ReadMem {
            address: abrm::SBRM_ADDRESS,
            count: 8,
        },
        Ack::ReadMem(SBRM_ADDRESS.to_le_bytes().to_vec()),
        1,
    );
    // Frames 3-4: READMEM of the SBRM SIRM address.
    transaction(
        &mut p,
        Command::ReadMem {
            address: SBRM_ADDRESS + sbrm::SIRM_ADDRESS,
            count: 8,
        },
        Ack::ReadMem(SIRM_ADDRESS.to_le_bytes().to_vec()),
        2,
    );
    // Frames 5-6: READMEM of the manufacturer name (ABRM 0x004, 64 bytes).
    let mut name = MANUFACTURER.as_bytes().to_vec();
    name.resize(64, 0);
    transaction(
        &mut p,
        Command::ReadMem {
            address: abrm::MANUFACTURER_NAME,
            count: 64,
        },
        Ack::ReadMem(name),
        3,
    );
    // Frames 7-8: WRITEMEM of 4 bytes at 0x2004 (SIRM SI_Control = enable).
    transaction(
        &mut p,
        Command::WriteMem {
            address: WRITE_ADDRESS,
            data: 1u32.to_le_bytes().to_vec(),
        },
        Ack::WriteMem { bytes_written: 4 },
        4,
    );

    // Frame 9: one event on the event endpoint.
    let mut ev = Vec::new();
    event::encode(
        Flags::NONE,
        1,
        EventLayout::Single,
        &[EventRef {
            event_id: EVENT_ID,
            timestamp: EVENT_TIMESTAMP,
            data: &EVENT_DATA,
        }],
        &mut ev,
    )
    .unwrap();
    p.bulk_in(EP_EVENT_IN, &ev).unwrap();
    n += 1;

    // Frames 10-12: one frame: leader, one payload transfer, trailer.
    let leader = Leader {
        block_id: BLOCK_ID,
        timestamp: TIMESTAMP,
        kind: LeaderKind::Image(ImageInfo {
            pixel_format: PIXEL_FORMAT_MONO8,
            size_x: WIDTH,
            size_y: HEIGHT,
            ..ImageInfo::default()
        }),
    };
    let mut l = Vec::new();
    leader.encode(&mut l).unwrap();
    p.bulk_in(EP_STREAM_IN, &l).unwrap();
    p.bulk_in(EP_STREAM_IN, &payload()).unwrap();
    let trailer = Trailer {
        block_id: BLOCK_ID,
        status: Status::SUCCESS,
        valid_payload_size: u64::from(WIDTH * HEIGHT),
        kind: TrailerKind::Image { size_y: HEIGHT },
    };
    let mut t = Vec::new();
    trailer.encode(&mut t).unwrap();
    p.bulk_in(EP_STREAM_IN, &t).unwrap();
    n += 3;

    p.finish().unwrap();
    n
}

/// One decoded frame: field name to value (absent when Wireshark did not
/// produce the field).
struct Row(HashMap<&'static str, String>);

impl Row {
    fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    fn str(&self, field: &str) -> &str {
        self.get(field)
            .unwrap_or_else(|| panic!("Wireshark did not decode {field}"))
    }

    /// A numeric field, printed by tshark in decimal or `0x` hex.
    fn num(&self, field: &str) -> u64 {
        let s = self.str(field);
        let parsed = match s.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16),
            None => s.parse(),
        };
        parsed.unwrap_or_else(|e| panic!("{field} = {s:?}: {e}"))
    }
}

fn run_fields(file: &Path) -> Vec<Row> {
    let mut args: Vec<String> = vec![
        "-r".into(),
        file.display().to_string(),
        "-T".into(),
        "fields".into(),
        "-E".into(),
        "separator=/t".into(),
        "-E".into(),
        "occurrence=a".into(),
        "-E".into(),
        "aggregator=,".into(),
    ];
    for f in FIELDS {
        args.push("-e".into());
        args.push((*f).into());
    }
    println!("$ tshark {}", args.join(" "));
    let out = Process::new("tshark").args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), FIELDS.len(), "bad tshark line {line:?}");
            Row(FIELDS
                .iter()
                .zip(cols)
                .filter(|(_, v)| !v.is_empty())
                .map(|(f, v)| (*f, v.to_string()))
                .collect())
        })
        .collect()
}

fn print_row(r: &Row) {
    let mut v: Vec<_> =
        r.0.iter()
            .filter(|(k, _)| **k != "u3v.stream.data")
            .collect();
    v.sort_by_key(|(k, _)| FIELDS.iter().position(|f| f == *k));
    println!("{v:?}");
}

fn check_command(r: &Row, id: u16, req: u16, scd_len: u64, address: u64) {
    assert_eq!(r.num("usb.endpoint_address"), u64::from(EP_CONTROL_OUT));
    assert_eq!(r.num("u3v.gencp.prefix"), u64::from(gencp::CONTROL_PREFIX));
    assert_eq!(
        r.num("u3v.gencp.flags"),
        u64::from(Flags::REQUEST_ACK.bits())
    );
    assert_eq!(r.num("u3v.gencp.command_id"), u64::from(id));
    assert_eq!(r.num("u3v.gencp.payloadlength"), scd_len);
    assert_eq!(r.num("u3v.gencp.req_id"), u64::from(req));
    assert_eq!(r.num("u3v.gencp.address"), address);
}

fn check_ack(r: &Row, id: u16, req: u16, scd_len: u64, address: u64) {
    assert_eq!(r.num("usb.endpoint_address"), u64::from(EP_CONTROL_IN));
    assert_eq!(r.num("u3v.gencp.prefix"), u64::from(gencp::CONTROL_PREFIX));
    assert_eq!(r.num("u3v.gencp.status"), 0);
    assert_eq!(r.num("u3v.gencp.command_id"), u64::from(id));
    assert_eq!(r.num("u3v.gencp.payloadlength"), scd_len);
    assert_eq!(r.num("u3v.gencp.req_id"), u64::from(req));
    // Wireshark matched the ack to its command by request id.
    assert_eq!(r.num("u3v.gencp.address"), address);
}

#[test]
fn wireshark_decodes_our_wire_bytes() {
    let Some(version) = tshark_version() else {
        println!("SKIPPED: tshark not found");
        return;
    };
    println!("using {version}");
    let dir = std::env::temp_dir().join(format!("u3v-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("session.pcap");
    let records = write_capture(&file);

    // The full dissection, for the log.
    let verbose = Process::new("tshark")
        .arg("-r")
        .arg(&file)
        .arg("-V")
        .output()
        .unwrap();
    let verbose = String::from_utf8_lossy(&verbose.stdout);
    // Only the frame headings and the USB3 Vision part of each frame.
    let mut in_u3v = false;
    for line in verbose.lines() {
        if line.starts_with("Frame ") {
            in_u3v = false;
            println!("{line}");
        } else if line.starts_with("USB 3 Vision") || line.starts_with("[Malformed") {
            in_u3v = true;
        }
        if in_u3v {
            println!("{line}");
        }
    }

    let rows = run_fields(&file);
    rows.iter().for_each(print_row);
    assert_eq!(rows.len(), records, "one tshark line per record");

    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.num("frame.number"), i as u64 + 1);
        assert!(
            r.str("frame.protocols").ends_with(":u3v"),
            "frame {} not dissected as U3V: {}",
            i + 1,
            r.str("frame.protocols")
        );
        assert!(
            r.get("_ws.malformed").is_none(),
            "frame {} malformed",
            i + 1
        );
        assert!(
            r.get("_ws.expert.message").is_none(),
            "frame {} expert info: {}",
            i + 1,
            r.str("_ws.expert.message")
        );
    }

    // Control channel.
    check_command(&rows[0], gencp::READMEM_CMD, 1, 12, abrm::SBRM_ADDRESS);
    assert_eq!(rows[0].num("u3v.gencp.count"), 8);
    check_ack(&rows[1], gencp::READMEM_ACK, 1, 8, abrm::SBRM_ADDRESS);
    assert_eq!(rows[1].num("u3v.bootstrap.SBRM_Address"), SBRM_ADDRESS);

    let sirm_ptr = SBRM_ADDRESS + sbrm::SIRM_ADDRESS;
    check_command(&rows[2], gencp::READMEM_CMD, 2, 12, sirm_ptr);
    assert_eq!(rows[2].num("u3v.gencp.count"), 8);
    check_ack(&rows[3], gencp::READMEM_ACK, 2, 8, sirm_ptr);
    assert_eq!(rows[3].num("u3v.bootstrap.SIRM_Address"), SIRM_ADDRESS);

    check_command(&rows[4], gencp::READMEM_CMD, 3, 12, abrm::MANUFACTURER_NAME);
    assert_eq!(rows[4].num("u3v.gencp.count"), 64);
    check_ack(&rows[5], gencp::READMEM_ACK, 3, 64, abrm::MANUFACTURER_NAME);
    assert_eq!(rows[5].str("u3v.bootstrap.Manufacturer_Name"), MANUFACTURER);

    check_command(&rows[6], gencp::WRITEMEM_CMD, 4, 12, WRITE_ADDRESS);
    assert_eq!(rows[6].num("u3v.bootstrap.SI_Control"), 1);
    check_ack(&rows[7], gencp::WRITEMEM_ACK, 4, 4, WRITE_ADDRESS);
    // Wireshark shows WRITEMEM_ACK's "length written" as Count.
    assert_eq!(rows[7].num("u3v.gencp.count"), 4);

    // Event channel.
    let e = &rows[8];
    assert_eq!(e.num("usb.endpoint_address"), u64::from(EP_EVENT_IN));
    assert_eq!(e.num("u3v.gencp.prefix"), u64::from(event::EVENT_PREFIX));
    assert_eq!(e.num("u3v.gencp.command_id"), u64::from(event::EVENT_CMD));
    assert_eq!(e.num("u3v.gencp.payloadlength"), 12 + 16);
    assert_eq!(e.num("u3v.gencp.req_id"), 1);
    assert_eq!(e.num("u3v.cmd.event.devicespecificid"), u64::from(EVENT_ID));
    assert_eq!(e.num("u3v.cmd.event.timestamp"), EVENT_TIMESTAMP);
    assert_eq!(e.str("u3v.cmd.event.data"), hex(&EVENT_DATA));

    // Stream channel.
    let l = &rows[9];
    assert_eq!(l.num("usb.endpoint_address"), u64::from(EP_STREAM_IN));
    assert_eq!(l.num("u3v.stream.prefix"), u64::from(stream::LEADER_PREFIX));
    assert_eq!(l.num("u3v.stream.leader_size"), 52);
    assert_eq!(l.num("u3v.stream.block_id"), BLOCK_ID);
    assert_eq!(l.num("u3v.stream.payload_type"), 0x0001);
    assert_eq!(l.num("u3v.stream.timestamp"), TIMESTAMP);
    assert_eq!(
        l.num("u3v.stream.pixel_format"),
        u64::from(PIXEL_FORMAT_MONO8)
    );
    assert_eq!(l.num("u3v.stream.sizex"), u64::from(WIDTH));
    assert_eq!(l.num("u3v.stream.sizey"), u64::from(HEIGHT));
    assert_eq!(l.num("u3v.stream.offsetx"), 0);
    assert_eq!(l.num("u3v.stream.offsety"), 0);
    assert_eq!(l.num("u3v.stream.paddingx"), 0);

    let d = &rows[10];
    assert_eq!(d.num("usb.endpoint_address"), u64::from(EP_STREAM_IN));
    assert!(
        d.get("u3v.stream_payload").is_some(),
        "payload not recognised"
    );
    assert_eq!(d.str("u3v.stream.data"), hex(&payload()));

    let t = &rows[11];
    assert_eq!(t.num("usb.endpoint_address"), u64::from(EP_STREAM_IN));
    assert_eq!(
        t.num("u3v.stream.prefix"),
        u64::from(stream::TRAILER_PREFIX)
    );
    assert_eq!(t.num("u3v.stream.trailer_size"), 32);
    assert_eq!(t.num("u3v.stream.block_id"), BLOCK_ID);
    assert_eq!(t.num("u3v.stream.status"), 0);
    assert_eq!(
        t.num("u3v.stream.valid_payload_size"),
        u64::from(WIDTH * HEIGHT)
    );
    assert_eq!(t.num("u3v.stream.sizey"), u64::from(HEIGHT));

    let _ = std::fs::remove_dir_all(&dir);
}
