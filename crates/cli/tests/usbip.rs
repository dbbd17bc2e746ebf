//! `mvcam` against `mvcam emulate` running in a second process, over
//! USB/IP on loopback.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use support::{Emulator, Mvcam, TempDir};

#[test]
fn list_set_get_and_acquire_over_usbip() {
    let emu = Emulator::start(&["--model", "mono5mp", "--serial", "EMU-LIST"]);
    let m = Mvcam::new("usbip").with_args(&["--virtual", "0", "--usbip", &emu.server]);
    let devices: Vec<_> = m
        .json_lines(&["list", "--json"])
        .into_iter()
        .filter(|d| d["interface"] == "usbip")
        .collect();
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(devices[0]["serial"], "EMU-LIST");
    assert_eq!(devices[0]["address"], emu.urls[0].as_str());

    // Chosen by serial, then by URL without listing the server.
    m.ok(&["-d", "EMU-LIST", "set", "Width=1024", "Height=128"]);
    let direct = Mvcam::new("usbip-direct");
    let url = emu.urls[0].as_str();
    let v = direct.json(&["-d", url, "get", "Width", "Height", "PixelFormat", "--json"]);
    assert_eq!(
        v,
        serde_json::json!({"Width": 1024, "Height": 128, "PixelFormat": "Mono8"})
    );
    // Nothing about the remote camera is kept in the state directory.
    assert_eq!(std::fs::read_dir(direct.state.path()).unwrap().count(), 0);

    let out = TempDir::new("usbip-frames");
    let stats = direct.json(&[
        "-d",
        url,
        "acquire",
        "-n",
        "4",
        "--set",
        "TestImageSelector=GreyHorizontalRamp",
        "--format",
        "raw",
        "--out",
        out.path().to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(stats["images_received"], 4);
    assert_eq!(stats["frames_lost"], 0);
    for n in 0..4 {
        let bytes = std::fs::read(out.path().join(format!("frame_{n:05}.raw"))).unwrap();
        assert_eq!(bytes.len(), 1024 * 128);
        assert_eq!(bytes[1024 + 700], (700 % 256) as u8);
    }
    let err = direct.fails(&["-d", url, "set", "Width=100000"]);
    assert!(err.contains("Width") && err.contains("range"), "{err}");
    assert_eq!(direct.ok(&["-d", url, "get", "Width"]).trim(), "1024");
}

#[test]
fn a_second_open_is_refused_while_one_holds_the_camera() {
    let emu = Emulator::start(&["--serial", "EMU-BUSY"]);
    let url = emu.urls[0].clone();
    let m = Mvcam::new("busy").with_args(&["--virtual", "0", "-d", &url]);
    let mut holder = m
        .command(&["stats", "--seconds", "3", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The first line of statistics: the holder has the camera open.
    let mut lines = BufReader::new(holder.stdout.take().unwrap()).lines();
    let first = lines.next().expect("stats prints").unwrap();
    assert!(first.contains("images_received"), "{first}");
    let err = m.fails(&["get", "Width"]);
    assert!(err.contains("in use"), "{err}");
    let listed = Mvcam::new("busy-list")
        .with_args(&["--virtual", "0", "--usbip", &emu.server])
        .json_lines(&["list", "--json"]);
    assert!(listed.iter().any(|d| d["access"] == "in use"), "{listed:?}");
    let rest: Vec<_> = lines.map(|l| l.unwrap()).collect();
    assert!(holder.wait().unwrap().success());
    assert_eq!(rest.len(), 2, "{rest:?}");
    // Released: opens again.
    assert_eq!(m.ok(&["get", "Width"]).trim(), "2448");
}

#[test]
fn an_unreachable_server_is_one_line() {
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let m = Mvcam::new("unreachable").with_args(&["--virtual", "0"]);
    let url = format!("usbip://127.0.0.1:{port}/1-1");
    let err = m.fails(&["-d", &url, "get", "Width"]);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    // Listing warns but succeeds.
    let out = m.run(&["--usbip", &format!("127.0.0.1:{port}"), "list"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
}
