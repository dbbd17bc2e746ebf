//! Runs the Harvesters suite (`tests/python/test_harvesters.py`) against
//! the built `mvcam.cti` when python3, pytest and harvesters are there.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `target/release/mvcam.cti`, copied from the cdylib this test build made
/// when it is missing or older.
fn cti() -> Option<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    let release = target.join("release");
    let lib = release.join("libmvcam_gentl.so");
    let cti = release.join("mvcam.cti");
    let modified = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    if lib.exists() && modified(&lib) > modified(&cti) {
        std::fs::copy(&lib, &cti).ok()?;
    }
    cti.exists().then_some(cti)
}

#[test]
fn harvesters_suite() {
    let importable = Command::new("python3")
        .args(["-c", "import pytest, harvesters, numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !importable {
        println!("skipped: python3 with pytest, harvesters and numpy is not available");
        return;
    }
    let Some(cti) = cti() else {
        println!("skipped: no mvcam.cti (run scripts/build-cti.sh)");
        return;
    };
    let out = Command::new("python3")
        .args(["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/test_harvesters.py"))
        .env("MVCAM_CTI", &cti)
        .env("MVCAM_VIRTUAL", "1")
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains("fps") || l.contains("passed") || l.contains("failed") || l.contains("Error")
        })
        .collect();
    println!("{}", summary.join("\n"));
    assert!(
        out.status.success(),
        "the Harvesters suite failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
