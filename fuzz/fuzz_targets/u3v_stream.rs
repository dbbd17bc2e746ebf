//! Decodes arbitrary bytes as stream leaders, trailers and chunk payloads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use u3v::stream::{self, Leader, PayloadType, Trailer};

fuzz_target!(|data: &[u8]| {
    if let Ok(l) = Leader::decode(data) {
        let mut out = Vec::new();
        l.encode(&mut out).expect("re-encode leader");
        assert_eq!(Leader::decode(&out), Ok(l));
    }
    for pt in [
        PayloadType::Image,
        PayloadType::Chunk,
        PayloadType::ImageExtendedChunk,
    ] {
        if let Ok(t) = Trailer::decode(data, pt) {
            let mut out = Vec::new();
            t.encode(&mut out).expect("re-encode trailer");
            assert_eq!(Trailer::decode(&out, pt), Ok(t));
        }
    }
    if let Ok(chunks) = stream::parse_chunks(data) {
        let mut expected_start = 0;
        for c in &chunks {
            assert_eq!(c.data.start, expected_start);
            assert!(c.data.end + stream::CHUNK_TAG_LEN <= data.len());
            expected_start = c.data.end + stream::CHUNK_TAG_LEN;
        }
        assert_eq!(expected_start, data.len());
    }
    let _ = stream::classify(data);
});
