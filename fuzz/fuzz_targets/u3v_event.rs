//! Decodes arbitrary bytes as an event message; whatever decodes must
//! re-encode and decode to the same events.
#![no_main]

use libfuzzer_sys::fuzz_target;
use u3v::event;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = event::decode(data) {
        let events: Vec<_> = p.events().collect();
        assert_eq!(events.len(), p.len());
        let layout = if events.len() > 1 {
            event::EventLayout::Multi
        } else {
            p.layout()
        };
        let mut out = Vec::new();
        event::encode(
            p.header.flags,
            p.header.request_id,
            layout,
            &events,
            &mut out,
        )
        .expect("re-encode events");
        let again = event::decode(&out).expect("decode re-encoded events");
        assert_eq!(again.events().collect::<Vec<_>>(), events);
    }
});
