//! Decodes arbitrary bytes as GenCP commands and acknowledges; whatever
//! decodes must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use u3v::gencp::{self, AckRef, Flags};

fuzz_target!(|data: &[u8]| {
    if let Ok(cmd) = gencp::decode_command(data) {
        let owned = cmd.command.to_owned();
        let mut out = Vec::new();
        owned
            .encode(cmd.header.flags, cmd.header.request_id, &mut out)
            .expect("re-encode command");
        // Reserved fields are not kept, so compare after a second decode.
        let again = gencp::decode_command(&out).expect("decode re-encoded command");
        assert_eq!(again.command.to_owned(), owned);
        assert_eq!(again.header.flags, Flags(cmd.header.flags.0));
    }
    if let Ok(ack) = gencp::decode_ack(data) {
        let owned = ack.ack.to_owned();
        let mut out = Vec::new();
        owned
            .encode(ack.header.request_id, &mut out)
            .expect("re-encode ack");
        let again = gencp::decode_ack(&out).expect("decode re-encoded ack");
        assert_eq!(again.ack.to_owned(), owned);
        if let AckRef::ReadMem(d) = ack.ack {
            assert_eq!(d.len(), usize::from(ack.header.scd_len));
        }
    }
});
