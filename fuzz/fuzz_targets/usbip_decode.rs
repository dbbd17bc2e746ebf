//! Decodes arbitrary bytes as USB/IP operation and URB streams; whatever
//! decodes must re-encode and decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use usbip::urb::{self, BasicHeader, Direction, Message};
use usbip::op;

/// Re-encodes a decoded URB message and checks it decodes back the same.
fn check_urb(m: &Message<'_>, dir: Option<Direction>) {
    let bytes = m.to_vec().expect("a decoded message re-encodes");
    let mut ctx = |_: &BasicHeader| dir;
    let again = match dir {
        Some(_) => urb::decode_with(&bytes, &mut ctx),
        None => urb::decode(&bytes),
    };
    let (again, n) = again.expect("re-decodes").expect("complete");
    assert_eq!(n, bytes.len());
    assert_eq!(&again, m);
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the direction a client would know for replies.
    let Some((&sel, rest)) = data.split_first() else { return };
    let dir = match sel % 3 {
        0 => None,
        1 => Some(Direction::In),
        _ => Some(Direction::Out),
    };

    // A URB stream, message after message, as a reader would consume it.
    let mut buf = rest;
    loop {
        let mut ctx = |_: &BasicHeader| dir;
        let r = match dir {
            Some(_) => urb::decode_with(buf, &mut ctx),
            None => urb::decode(buf),
        };
        match r {
            Ok(Some((m, n))) => {
                check_urb(&m, dir);
                buf = &buf[n..];
            }
            Ok(None) | Err(_) => break,
        }
    }

    // An operation message; strings that fill their field without a NUL
    // decode but are refused on encode, so only check what re-encodes.
    if let Ok(Some((m, n))) = op::decode(rest) {
        assert!(n <= rest.len());
        if let Ok(bytes) = m.to_vec() {
            assert_eq!(op::decode(&bytes), Ok(Some((m, bytes.len()))));
        }
    }
    let _ = op::message_len(rest);
});
