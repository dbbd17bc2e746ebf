//! Conformance with the reference GenApi: every description in
//! `$MVCAM_SHARED/genicam-xml` (default `../shared` beside the workspace),
//! dumped over the synthetic register space with `--zero` and `--seed 7`, must
//! agree node for node with the reference's dump (`genapi-ref-dump.py`) as
//! judged by `genapi-compare.py`.
//!
//! Skips, saying why, when the shared folder or the reference (PyPI `genicam`)
//! is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("MVCAM_SHARED") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    dir.join("genicam-xml").is_dir().then_some(dir)
}

fn reference_available() -> bool {
    Command::new("python3")
        .args(["-c", "from genicam import genapi"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn every_description_agrees_with_the_reference() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIPPED: no shared folder with genicam-xml/ (set MVCAM_SHARED)");
        return;
    };
    if !reference_available() {
        eprintln!(
            "SKIPPED: the reference GenApi (python3 -m pip install genicam) is not installed"
        );
        return;
    }
    let tools = shared.join("tools");
    let out = std::env::temp_dir().join(format!("mvcam-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(shared.join("genicam-xml"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "xml" || e == "zip"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    for file in &files {
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        for (label, args) in [("zero", vec!["--zero"]), ("seed7", vec!["--seed", "7"])] {
            let reference = out.join(format!("{stem}.{label}.ref.jsonl"));
            let ours = out.join(format!("{stem}.{label}.mvcam.jsonl"));
            let r = Command::new("python3")
                .arg(tools.join("genapi-ref-dump.py"))
                .arg(file)
                .args(&args)
                .output()
                .unwrap();
            assert!(
                r.status.success(),
                "reference dump of {stem} failed: {}",
                String::from_utf8_lossy(&r.stderr)
            );
            std::fs::write(&reference, &r.stdout).unwrap();
            let m = Command::new(env!("CARGO_BIN_EXE_mvcam"))
                .args(["genapi", "dump"])
                .arg(file)
                .args(&args)
                .output()
                .unwrap();
            assert!(
                m.status.success(),
                "mvcam genapi dump {stem} failed: {}",
                String::from_utf8_lossy(&m.stderr)
            );
            std::fs::write(&ours, &m.stdout).unwrap();
            let c = Command::new("python3")
                .arg(tools.join("genapi-compare.py"))
                .arg(&reference)
                .arg(&ours)
                .output()
                .unwrap();
            let report = String::from_utf8_lossy(&c.stdout).to_string();
            let last = report.lines().last().unwrap_or("").to_string();
            eprintln!("{stem} {label}: {last}");
            if !c.status.success() {
                failures.push(format!("{stem} {label}:\n{report}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "disagreements with the reference GenApi:\n{}",
        failures.join("\n")
    );
}
