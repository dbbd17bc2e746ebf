//! Throughput and host CPU figures of `mvcam` (run with `--ignored
//! --nocapture`; prints, never asserts timings).

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use support::{Emulator, Mvcam};

/// Bytes of a 5 MP Mono8 frame.
const FRAME: usize = 2448 * 2048;

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
    // rate (400 MB/s): full Mono8 frames over USB/IP, a test image so that
    // the camera process keeps up on a small machine.
    let emu = Emulator::start(&["--model", "mono5mp"]);
    let stats = m.json(&[
        "-d",
        &emu.urls[0],
        "acquire",
        "-n",
        "1000",
        "--set",
        "PixelFormat=Mono8",
        "--set",
        "TestImageSelector=GreyHorizontalRamp",
        "--json",
    ]);
    let mb_per_s = stats["bandwidth_mb_per_s"].as_f64().unwrap_or(0.0);
    let cpu = stats["host_cpu_fraction_of_one_core"]
        .as_f64()
        .unwrap_or(f64::NAN);
    println!(
        "acquire -n 1000 over USB/IP: {:.0} MB/s, {} frames, {} lost, {} errors, host CPU {:.3} s = {:.1} % of one core",
        mb_per_s,
        stats["images_received"],
        stats["frames_lost"],
        stats["error_images"],
        stats["host_cpu_s"].as_f64().unwrap_or(f64::NAN),
        cpu * 100.0
    );
    // The reference: the same bytes at the same rate through a bare
    // loopback TCP socket into one reused buffer, no protocol at all —
    // the kernel's share that any USB/IP host pays. Its sender uses the
    // congestion control the USB/IP server uses (cubic).
    let floor = bare_tcp_receive_cpu(mb_per_s.max(1.0), Duration::from_secs(5));
    println!(
        "bare TCP receive at {mb_per_s:.0} MB/s: {:.1} % of one core; mvcam over USB/IP costs {:.2}x that",
        floor * 100.0,
        cpu / floor
    );
}

/// The CPU fraction of one core a thread spends receiving frame-sized
/// messages at `mb_per_s` over loopback TCP for `duration`.
fn bare_tcp_receive_cpu(mb_per_s: f64, duration: Duration) -> f64 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let period = Duration::from_secs_f64(FRAME as f64 / (mb_per_s * 1e6));
    let frames = (duration.as_secs_f64() / period.as_secs_f64()) as usize;
    let writer = thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        use_cubic(&s);
        let data = vec![0x5au8; FRAME];
        let start = Instant::now();
        for i in 0..frames {
            let due = start + period * i as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            }
            s.write_all(&data).expect("write");
        }
    });
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut buf = vec![0u8; FRAME];
    s.read_exact(&mut buf).expect("first frame");
    let (cpu0, t0) = (thread_cpu_seconds(), Instant::now());
    for _ in 1..frames {
        s.read_exact(&mut buf).expect("frame");
    }
    let (cpu, wall) = (thread_cpu_seconds() - cpu0, t0.elapsed().as_secs_f64());
    writer.join().expect("writer");
    cpu / wall
}

/// Sets the socket's congestion control to cubic, as the USB/IP server
/// does for its connections.
#[cfg(target_os = "linux")]
fn use_cubic(s: &TcpStream) {
    use std::os::fd::AsRawFd;
    let name = b"cubic";
    // SAFETY: an open socket; the value is `name`'s bytes and their length.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            name.as_ptr().cast(),
            name.len() as libc::socklen_t,
        )
    };
    if rc != 0 {
        println!("(the reference keeps the system's congestion control: no cubic here)");
    }
}

#[cfg(not(target_os = "linux"))]
fn use_cubic(_s: &TcpStream) {}

/// CPU seconds of the calling thread (user + system), from
/// `/proc/thread-self/stat` at 100 ticks per second.
fn thread_cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = s.rfind(')').map_or("", |i| &s[i + 2..]);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}
