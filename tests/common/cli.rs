//! Running the `srgate` binary on a test's configuration, as an operator would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The `srgate` command line for one configuration file.
pub struct Cli {
    config: PathBuf,
}

impl Cli {
    /// The command line for `dir/srgate.toml`.
    pub fn in_dir(dir: &Path) -> Cli {
        Cli { config: dir.join("srgate.toml") }
    }

    /// `srgate --config CONFIG`, to add arguments, environment or redirections to.
    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_srgate"));
        c.arg("--config").arg(&self.config);
        c
    }

    /// `srgate --config CONFIG ARGS…`, whatever its exit status.
    pub fn output(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// `ARGS…` must succeed; their standard output read as JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.output(args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `run --once --now NOW` must succeed.
    pub fn run_at(&self, now: &str) {
        let out = self.output(&["run", "--once", "--now", now]);
        assert!(out.status.success(), "run --once failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// `sr show ID --json`.
    pub fn sr(&self, id: u64) -> Value {
        self.json(&["sr", "show", &id.to_string(), "--json"])
    }
}
