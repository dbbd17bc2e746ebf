//! Loads arbitrary bytes as a description and, when they load, reads every feature.
#![no_main]

use genapi::{MemoryPort, NodeMap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut map) = NodeMap::from_bytes(data) {
        let ports: Vec<String> = map.port_names().iter().map(|s| s.to_string()).collect();
        for p in ports {
            let _ = map.connect(&p, Box::new(MemoryPort::new(4096)));
        }
        let names: Vec<String> = map.node_names().map(str::to_string).collect();
        for n in &names {
            let _ = map.access_mode(n);
            let _ = map.value_text(n);
            let _ = map.integer_min(n);
            let _ = map.float_max(n);
            let _ = map.register_address(n);
        }
        let _ = map.save_features();
    }
});
