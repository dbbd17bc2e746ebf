//! Event messages on the USB3 Vision event endpoint.
//!
//! An event message is a GenCP EVENT command with prefix `U3VE`: the 12-byte
//! command header (flags, command id [`EVENT_CMD`], SCD length, request id)
//! followed by one or more events. Each event is
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | event size (see below) |
//! | 2 | 2 | event id |
//! | 4 | 8 | timestamp (device ticks, ns on USB3 Vision) |
//! | 12 | n | event data |
//!
//! **Per-event size.** The first field is *reserved* (0) when the device
//! sends one event per message, which is the only mode unless the host sets
//! the multi-event enable bit in the ABRM device configuration. In multi-event
//! mode it holds the size of this event *including* its 12-byte header, so the
//! events can be walked. This follows GenCP's EVENT_CMD definition as
//! implemented by cameleon (`device/src/u3v/protocol/event.rs`), whose decoder
//! treats a 0 size as "this event runs to the end of the SCD" and a non-zero
//! size as the full event size; Wireshark's `packet-u3v.c` decodes the
//! single-event layout (data = SCD minus 12 bytes). The decoder here accepts
//! both in any mix: a 0 size consumes the rest of the SCD, a non-zero one must
//! be at least 12 and fit the SCD.
//!
//! The event endpoint is bulk-in only, so there is no event acknowledge on
//! USB3 Vision; [`EVENT_ACK`] is defined for completeness.

use crate::error::{DecodeError, EncodeError};
use crate::gencp::{framed_scd, CommandHeader, Flags, HEADER_LEN};
use crate::wire::{append_with, len_u16, Reader, Writer};

/// Prefix of event messages, `"U3VE"` read as a little-endian `u32`.
pub const EVENT_PREFIX: u32 = 0x4556_3355;
/// EVENT command id.
pub const EVENT_CMD: u16 = 0x0C00;
/// EVENT acknowledge id (not used on USB3 Vision).
pub const EVENT_ACK: u16 = 0x0C01;
/// Length of the per-event header (size, id, timestamp).
pub const EVENT_HEADER_LEN: usize = 12;

const WHAT: &str = "event message";

/// One event, borrowing its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventRef<'a> {
    /// Event id (0x0000–0x8000 standard, 0x8001–0x8FFF errors, 0x9000– device-specific).
    pub event_id: u16,
    /// Timestamp of the event.
    pub timestamp: u64,
    /// Event data.
    pub data: &'a [u8],
}

/// How the per-event size field is filled when encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventLayout {
    /// One event per message, size field 0 (multi-event disabled).
    Single,
    /// Any number of events, each with its full size (multi-event enabled).
    Multi,
}

/// Encoded length of an event message carrying `events`.
pub fn encoded_len(events: &[EventRef<'_>]) -> usize {
    HEADER_LEN
        + events
            .iter()
            .map(|e| EVENT_HEADER_LEN + e.data.len())
            .sum::<usize>()
}

/// Encodes an event message into `out`, returning its length.
///
/// [`EventLayout::Single`] requires exactly one event; [`EventLayout::Multi`]
/// requires at least one.
pub fn encode_into(
    flags: Flags,
    request_id: u16,
    layout: EventLayout,
    events: &[EventRef<'_>],
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    match (layout, events.len()) {
        (_, 0) => {
            return Err(EncodeError::Invalid {
                what: WHAT,
                field: "events",
                reason: "no event to send",
            })
        }
        (EventLayout::Single, n) if n > 1 => {
            return Err(EncodeError::Invalid {
                what: WHAT,
                field: "events",
                reason: "several events need the multi-event layout",
            })
        }
        _ => {}
    }
    let total = encoded_len(events);
    let scd_len = len_u16(WHAT, "scd_len", total - HEADER_LEN)?;
    for e in events {
        len_u16(WHAT, "event_size", EVENT_HEADER_LEN + e.data.len())?;
    }
    let header = CommandHeader {
        flags,
        command_id: EVENT_CMD,
        scd_len,
        request_id,
    };
    let mut w = Writer::new(out, total)?;
    let mut head = [0u8; HEADER_LEN];
    header.encode_with_prefix(&mut head, EVENT_PREFIX)?;
    w.bytes(&head);
    for e in events {
        let size = match layout {
            EventLayout::Single => 0,
            EventLayout::Multi => (EVENT_HEADER_LEN + e.data.len()) as u16,
        };
        w.u16(size);
        w.u16(e.event_id);
        w.u64(e.timestamp);
        w.bytes(e.data);
    }
    Ok(w.pos())
}

/// Appends an event message to `out`, returning its length.
pub fn encode(
    flags: Flags,
    request_id: u16,
    layout: EventLayout,
    events: &[EventRef<'_>],
    out: &mut Vec<u8>,
) -> Result<usize, EncodeError> {
    append_with(out, encoded_len(events), |b| {
        encode_into(flags, request_id, layout, events, b)
    })
}

/// A decoded, validated event message borrowing from the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket<'a> {
    /// The command header (prefix `U3VE`).
    pub header: CommandHeader,
    scd: &'a [u8],
    count: usize,
    sized: bool,
}

impl<'a> EventPacket<'a> {
    /// Number of events in the message.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Always false: a valid message carries at least one event.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The layout the message was sent with: `Multi` if every event carried
    /// its size, `Single` otherwise.
    pub fn layout(&self) -> EventLayout {
        if self.sized {
            EventLayout::Multi
        } else {
            EventLayout::Single
        }
    }

    /// Iterates over the events.
    pub fn events(&self) -> EventIter<'a> {
        EventIter { rest: self.scd }
    }
}

/// Iterator over the events of an [`EventPacket`].
#[derive(Debug, Clone)]
pub struct EventIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for EventIter<'a> {
    type Item = EventRef<'a>;
    fn next(&mut self) -> Option<EventRef<'a>> {
        let (ev, _, rest) = split_event(self.rest).ok()??;
        self.rest = rest;
        Some(ev)
    }
}

/// An event, whether it carried its size, and the SCD after it.
type Split<'a> = (EventRef<'a>, bool, &'a [u8]);

/// Splits the first event off `scd`: `None` when `scd` is empty.
fn split_event(scd: &[u8]) -> Result<Option<Split<'_>>, DecodeError> {
    if scd.is_empty() {
        return Ok(None);
    }
    let mut r = Reader::new(scd, WHAT);
    if r.remaining() < EVENT_HEADER_LEN {
        return Err(DecodeError::BadLength {
            what: WHAT,
            field: "scd_len",
            value: scd.len() as u64,
            reason: "ends inside an event header",
        });
    }
    let size = r.u16()?;
    let event_id = r.u16()?;
    let timestamp = r.u64()?;
    let data_len = if size == 0 {
        r.remaining()
    } else {
        let size = usize::from(size);
        if size < EVENT_HEADER_LEN {
            return Err(DecodeError::BadLength {
                what: WHAT,
                field: "event_size",
                value: size as u64,
                reason: "smaller than the 12-byte event header",
            });
        }
        if size - EVENT_HEADER_LEN > r.remaining() {
            return Err(DecodeError::BadLength {
                what: WHAT,
                field: "event_size",
                value: size as u64,
                reason: "runs past the end of the SCD",
            });
        }
        size - EVENT_HEADER_LEN
    };
    let data = r.bytes(data_len)?;
    Ok(Some((
        EventRef {
            event_id,
            timestamp,
            data,
        },
        size != 0,
        r.rest(),
    )))
}

/// Decodes one event message (exactly `12 + SCD length` bytes).
pub fn decode(buf: &[u8]) -> Result<EventPacket<'_>, DecodeError> {
    let header = CommandHeader::decode_with_prefix(buf, EVENT_PREFIX, WHAT)?;
    if header.command_id != EVENT_CMD {
        return Err(DecodeError::UnknownCommand {
            what: WHAT,
            id: header.command_id,
        });
    }
    let scd = framed_scd(buf, header.scd_len, WHAT)?;
    if scd.is_empty() {
        return Err(DecodeError::BadLength {
            what: WHAT,
            field: "scd_len",
            value: 0,
            reason: "an event message carries at least one event",
        });
    }
    let mut rest = scd;
    let mut count = 0;
    let mut sized = true;
    while let Some((_, has_size, r)) = split_event(rest)? {
        sized &= has_size;
        count += 1;
        rest = r;
    }
    Ok(EventPacket {
        header,
        scd,
        count,
        sized,
    })
}
