//! Whatever a host writes, the camera answers with a GenCP status and keeps
//! working: random register writes and reads over the whole feature map.

mod support;

use camera::features::{FEATURE_BASE, HELPER_BASE};
use camera::Model;
use proptest::prelude::*;
use support::Host;

fn host() -> Host {
    let mut h = Host::new(Model::Color5MP);
    // Keep frames small so that a random AcquisitionStart is cheap.
    h.map.set_integer("Width", 64).unwrap();
    h.map.set_integer("Height", 16).unwrap();
    h
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn random_register_traffic_never_breaks_the_camera(
        ops in prop::collection::vec(
            (any::<bool>(), 0u64..0x1_0000, prop::collection::vec(any::<u8>(), 1..24)),
            1..200,
        )
    ) {
        let mut h = host();
        let span = (HELPER_BASE - FEATURE_BASE).min(0x1_0000);
        for (write, offset, data) in ops {
            let address = FEATURE_BASE + offset % span;
            if write {
                let _ = h.channel.write(address, &data);
            } else {
                let mut buf = vec![0u8; data.len()];
                let _ = h.channel.read(address, &mut buf);
            }
        }
        // Still answering, and the main features still read (unless the
        // traffic happened to execute SimulationDisconnect or DeviceReset,
        // both legitimate commands).
        if h.camera.is_plugged() {
            prop_assert!(h.map.string("DeviceModelName").is_ok());
            for name in ["Width", "Height", "PayloadSize", "OffsetX"] {
                prop_assert!(h.map.integer(name).is_ok(), "{name}");
            }
            prop_assert!(h.map.float("ResultingFrameRate").is_ok());
        }
    }
}
