//! Walks arbitrary bytes as USB descriptors (configuration, device, device
//! info, strings) and as bootstrap registers, manifest and URLs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use u3v::{bootstrap, descriptor, manifest};

fuzz_target!(|data: &[u8]| {
    if let Ok(cfg) = descriptor::parse_configuration(data) {
        assert!(cfg.control.bulk_in.is_in() && !cfg.control.bulk_out.is_in());
    }
    let _ = descriptor::DeviceDescriptor::decode(data);
    let _ = descriptor::DeviceInfoDescriptor::decode(data);
    let _ = descriptor::decode_string_descriptor(data);
    let _ = descriptor::decode_language_ids(data);
    let _ = bootstrap::Abrm::decode(data);
    let _ = bootstrap::Sbrm::decode(data);
    let _ = bootstrap::Sirm::decode(data).map(|s| s.alignment());
    let _ = bootstrap::Eirm::decode(data);
    if let Ok(m) = manifest::Manifest::decode(data) {
        let mut out = Vec::new();
        m.encode(&mut out).expect("re-encode manifest");
        assert_eq!(manifest::Manifest::decode(&out), Ok(m));
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = manifest::LocalUrl::parse(s);
    }
    // Sizing must never panic either.
    if data.len() >= 20 {
        let u = |i: usize| u32::from_le_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
        let payload = u64::from(u(0)) << 32 | u64::from(u(4));
        let _ = bootstrap::StreamSizing::compute(payload, u(8), u(12), u(16), u(16).rotate_left(7));
    }
});
