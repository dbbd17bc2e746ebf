//! Throughput and host CPU figures of `mvcam` (run with `--ignored
//! --nocapture`; prints, never asserts timings).

mod support;

use support::{Emulator, Mvcam};

#[test]
#[ignore]
fn stream_throughput_and_host_cpu() {
    let m = Mvcam::new("bench").with_args(&["--virtual", "0"]);
    for link in ["memory", "usbip"] {
        let r = m.json(&[
            "bench",
            "stream",
            "--link",
            link,
            "--seconds",
            "5",
            "--json",
        ]);
        println!("bench stream --link {link}: {r}");
    }
    // Receiving from a camera in a second process at its link-limited
    // rate: full Mono8 frames over USB/IP.
    let emu = Emulator::start(&["--model", "mono5mp"]);
    let stats = m.json(&[
        "-d",
        &emu.urls[0],
        "acquire",
        "-n",
        "400",
        "--set",
        "PixelFormat=Mono8",
        "--json",
    ]);
    println!(
        "acquire -n 400 over USB/IP: {:.0} MB/s, {} frames, {} lost, {} errors, host CPU {:.3} s = {:.1} % of one core",
        stats["bandwidth_mb_per_s"].as_f64().unwrap_or(0.0),
        stats["images_received"],
        stats["frames_lost"],
        stats["error_images"],
        stats["host_cpu_s"].as_f64().unwrap_or(f64::NAN),
        stats["host_cpu_fraction_of_one_core"].as_f64().unwrap_or(f64::NAN) * 100.0
    );
}
