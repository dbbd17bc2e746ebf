//! Running `mvcam` as a user runs it, with a state directory of its own,
//! and `mvcam emulate` as a second process.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "mvcam-cli-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `mvcam` with a state directory of its own and no device options from
/// the environment.
pub struct Mvcam {
    pub state: TempDir,
    pub args: Vec<String>,
}

impl Mvcam {
    pub fn new(tag: &str) -> Mvcam {
        Mvcam {
            state: TempDir::new(tag),
            args: Vec::new(),
        }
    }

    /// Adds arguments given before every command (e.g. `--virtual 0`).
    pub fn with_args(mut self, args: &[&str]) -> Mvcam {
        self.args.extend(args.iter().map(|s| s.to_string()));
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mvcam"));
        c.env("MVCAM_STATE_DIR", self.state.path())
            .env_remove("MVCAM_USBIP")
            .env_remove("MVCAM_VIRTUAL")
            .args(&self.args)
            .args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("mvcam runs")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "mvcam {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs and expects a failure with a one-line error; returns it.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "mvcam {args:?} succeeded");
        assert_eq!(err.lines().count(), 1, "one-line error expected: {err}");
        assert!(err.starts_with("mvcam: "), "{err}");
        err
    }

    /// Runs with `--json` output of one object.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args);
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    /// Runs with `--json` output of one object per line.
    pub fn json_lines(&self, args: &[&str]) -> Vec<serde_json::Value> {
        self.ok(args)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// A single feature's value as `get` prints it.
    pub fn get(&self, feature: &str) -> String {
        self.ok(&["get", feature]).trim().to_string()
    }
}

/// `mvcam emulate` in a second process on a free loopback port; killed on
/// drop, also when a test panics.
pub struct Emulator {
    child: Child,
    /// The `usbip://` URL of each served camera.
    pub urls: Vec<String>,
    /// `host:port` of the server.
    pub server: String,
}

impl Emulator {
    pub fn start(args: &[&str]) -> Emulator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mvcam"))
            .args(["emulate", "--usbip", "127.0.0.1:0"])
            .args(args)
            .env_remove("MVCAM_USBIP")
            .env_remove("MVCAM_VIRTUAL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mvcam emulate starts");
        let cameras = args.iter().filter(|a| **a == "--model").count().max(1);
        let stdout = child.stdout.take().expect("piped stdout");
        let mut guard = Emulator {
            child,
            urls: Vec::new(),
            server: String::new(),
        };
        let mut lines = BufReader::new(stdout).lines();
        for _ in 0..cameras {
            let line = lines
                .next()
                .expect("emulate prints a URL per camera")
                .expect("readable stdout");
            guard.urls.push(line.trim().to_string());
        }
        let first = guard.urls[0].strip_prefix("usbip://").expect("usbip URL");
        guard.server = first.rsplit_once('/').expect("busid").0.to_string();
        guard
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
