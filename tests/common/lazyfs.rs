//! Power cuts for tests: LazyFS, a FUSE file system that keeps every written byte in its own
//! cache until the writer calls `fsync(2)`/`fdatasync(2)` on the file, and on command drops every
//! byte that was not synced, as a power cut drops a real page cache.
//!
//! [`LazyFs::mount`] mounts a LazyFS over a backing folder (`root/`, "the disk") at `mnt/`, both in
//! a temporary folder under /tmp; the test puts the data it wants to see survive under
//! [`LazyFs::path`]. [`LazyFs::power_cut`] drops the unsynced bytes (the writer must already be
//! SIGKILLed and reaped, or frozen: a writer that runs on writes "after the power cut");
//! [`LazyFs::remount`] is the reboot. Dropping a `LazyFs` unmounts it, also when the test panics;
//! a detached watchdog unmounts it if the test process is killed.
//!
//! What LazyFS does not simulate (see tests/tools/lazyfs/README.md): metadata (create, rename,
//! mkdir, unlink) always survives, so a missing directory fsync goes unseen; `sync(2)` and
//! `syncfs(2)` persist nothing; `mknod` is not implemented, so no unix socket can be bound on the
//! mount. When its cache is full, LazyFS writes straight through and a cut loses nothing: size the
//! cache above what a test writes between two cuts; [`LazyFs::power_cut`] fails when it was full.
//!
//! LazyFS runs single-threaded (FUSE's `-s`): multi-threaded, it reads the std::map of its
//! per-file locks without holding the lock that guards it (`Cache::unlockItem` after
//! `put_data_blocks`, libs/libpcache/src/cache.cpp) while other threads insert and erase entries,
//! and under srgate's load it died of SIGSEGV about once in 20 to 40 mounts. Should it still die,
//! [`LazyFs::died`] says so and the test fails with that reason, not with a loss.
//!
//! The binary is built once per test binary by `scripts/lazyfs.sh build` (from the sources
//! vendored in tests/tools/lazyfs/, into target/lazyfs/). Needs root (or FUSE rights) and
//! /dev/fuse; every command that touches the mount runs under a deadline.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::wait_until;

/// Deadline for mounting, unmounting, and for each fault command to be carried out.
const DEADLINE: Duration = Duration::from_secs(30);
/// Cache use (in % of its pages) at which a cut no longer proves anything: writes went through.
const CACHE_FULL_PERCENT: f64 = 95.0;

static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The LazyFS binary, built on first use by `scripts/lazyfs.sh build` (which installs the Debian
/// packages it needs). Panics with the reason when it cannot be had or /dev/fuse is missing.
pub fn binary() -> &'static Path {
    match BINARY.get_or_init(build) {
        Ok(p) => p,
        Err(e) => panic!("LazyFS unavailable: {e}"),
    }
}

fn build() -> Result<PathBuf, String> {
    if !Path::new("/dev/fuse").exists() {
        return Err("/dev/fuse is missing: LazyFS (FUSE) cannot mount on this machine, and the power-loss test needs it \
                    (load the fuse module, or start the container with --device /dev/fuse --cap-add SYS_ADMIN)"
            .into());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lazyfs.sh");
    let out =
        Command::new(&script).arg("build").stdin(Stdio::null()).output().map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let bin = stdout.lines().rev().find_map(|l| l.strip_prefix("LAZYFS_BIN=")).map(PathBuf::from);
    match bin {
        Some(bin) if out.status.success() && bin.is_file() => Ok(bin),
        _ => Err(format!(
            "{} build exited with {}\n--- stdout\n{stdout}--- stderr\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

/// A mounted LazyFS (see the module docs).
pub struct LazyFs {
    dir: tempfile::TempDir,
    process: Option<Child>,
    /// Our end of the completion FIFO, held open while LazyFS runs: without a reader LazyFS
    /// carries out no fault command at all.
    done: Option<File>,
    /// Bytes read from the completion FIFO and not yet matched.
    pending: String,
}

impl LazyFs {
    /// Mounts a fresh LazyFS with a cache of `cache_mb` MB (resident memory is about that much).
    /// Panics, with LazyFS's output, when it does not come up within the deadline.
    pub fn mount(cache_mb: u64) -> LazyFs {
        let bin = binary();
        let dir = tempfile::Builder::new().prefix("srgate-lazyfs-").tempdir_in("/tmp").expect("temp dir for LazyFS");
        std::fs::create_dir(dir.path().join("root")).expect("backing folder");
        std::fs::create_dir(dir.path().join("mnt")).expect("mount point");
        let d = dir.path().display();
        // The keys LazyFS reads (section [filesystem], sizes in "mb"; see tests/tools/lazyfs/README.md).
        let config = format!(
            "[faults]\nfifo_path=\"{d}/faults.fifo\"\nfifo_path_completed=\"{d}/done.fifo\"\n\
             [cache]\napply_eviction=false\n[cache.simple]\ncustom_size=\"{cache_mb}mb\"\nblocks_per_page=1\n\
             [filesystem]\nlog_all_operations=false\nlogfile=\"{d}/lazyfs.log\"\n"
        );
        std::fs::write(dir.path().join("lazyfs.toml"), config).expect("LazyFS config");
        spawn_watchdog(dir.path());
        let mut fs = LazyFs { dir, process: None, done: None, pending: String::new() };
        fs.start(bin);
        fs
    }

    /// The mount point: what the application reads and writes.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("mnt")
    }

    /// The backing folder: what "the disk" holds (only synced bytes survive a cut there).
    pub fn backing(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// The power cut: every byte not fsynced is dropped, and LazyFS confirms it through its
    /// completion FIFO. The writer must already be dead (SIGKILLed and reaped) or frozen.
    /// Returns how full the cache was just before (% of its pages); panics when it was full,
    /// since writes then went straight to the disk and the cut proved nothing.
    pub fn power_cut(&mut self) -> f64 {
        if let Some(why) = self.died() {
            panic!("no power cut: {why}\n{}", self.log_tail(20));
        }
        let usage = self.cache_usage();
        assert!(
            usage < CACHE_FULL_PERCENT,
            "LazyFS's cache was {usage:.0}% full before the cut: writes went straight to the disk; make the cache larger"
        );
        self.command("lazyfs::clear-cache");
        self.wait_done("finished::clear-cache");
        usage
    }

    /// Unmounts and mounts again on the same backing folder: the reboot after a cut (also drops
    /// the kernel's caches of the mount). Panics when either half fails.
    pub fn remount(&mut self) {
        if let Err(e) = self.stop() {
            panic!("LazyFS unmount: {e}");
        }
        self.start(binary());
    }

    /// Why LazyFS is no longer running, if it ended on its own (a crash of LazyFS itself: the
    /// mount answers "Transport endpoint is not connected" from then on).
    pub fn died(&mut self) -> Option<String> {
        let status = self.process.as_mut()?.try_wait().ok()??;
        Some(format!("LazyFS ended on its own ({status}): a LazyFS failure, not the application's"))
    }

    /// The last `n` lines of LazyFS's log (for failure messages).
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("lazyfs.out")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Starts LazyFS and waits for its mount. A LazyFS that ends before mounting (seen rarely on a
    /// loaded machine) is started once more before the test is failed.
    fn start(&mut self, bin: &Path) {
        if let Err(first) = self.try_start(bin) {
            eprintln!("lazyfs: {first}; starting it once more");
            if let Err(second) = self.try_start(bin) {
                panic!("{second}");
            }
        }
    }

    fn try_start(&mut self, bin: &Path) -> Result<(), String> {
        let dir = self.dir.path();
        let out = OpenOptions::new().create(true).append(true).open(dir.join("lazyfs.out")).expect("LazyFS output file");
        let mnt = self.path();
        // No core file from the SIGABRT with which LazyFS ends after every unmount.
        let child = Command::new("sh")
            .arg("-c")
            .arg("ulimit -c 0; exec \"$0\" \"$@\"")
            .arg(bin)
            .arg(&mnt)
            .arg("--config-path")
            .arg(dir.join("lazyfs.toml"))
            .arg("-o")
            .arg(format!("modules=subdir,subdir={}", self.backing().display()))
            .arg("-f") // foreground: our child, its PID is LazyFS's
            .arg("-s") // single-threaded: see the module docs
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("LazyFS output file"))
            .stderr(out)
            .spawn()
            .expect("start LazyFS");
        self.process = Some(child);
        let up = wait_until(DEADLINE, Duration::from_millis(20), || {
            mounted(&mnt) || self.process.as_mut().is_none_or(|c| c.try_wait().ok().flatten().is_some())
        });
        if !(up && mounted(&mnt)) {
            let status = self.process.as_mut().and_then(|c| c.try_wait().ok().flatten());
            let tail = self.log_tail(20);
            let _ = self.stop();
            let how = match status {
                Some(s) => format!("LazyFS ended before mounting {} ({s})", mnt.display()),
                None => format!("LazyFS did not mount {} within {DEADLINE:?}", mnt.display()),
            };
            return Err(format!("{how}\n{tail}"));
        }
        // LazyFS made the FIFOs before mounting. O_RDWR never blocks, O_NONBLOCK lets reads time out.
        let nonblock = rustix::fs::OFlags::NONBLOCK.bits() as i32;
        let done = OpenOptions::new().read(true).write(true).custom_flags(nonblock).open(dir.join("done.fifo"));
        self.done = Some(done.map_err(|e| format!("cannot open LazyFS's completion FIFO: {e}"))?);
        self.pending.clear();
        Ok(())
    }

    /// Writes one fault command (one write per command: LazyFS reads each write as one).
    fn command(&mut self, cmd: &str) {
        let nonblock = rustix::fs::OFlags::NONBLOCK.bits() as i32;
        // Non-blocking: fails at once (ENXIO) instead of hanging when LazyFS is gone.
        let mut fifo = OpenOptions::new()
            .write(true)
            .custom_flags(nonblock)
            .open(self.dir.path().join("faults.fifo"))
            .unwrap_or_else(|e| panic!("LazyFS's fault FIFO ({cmd}): {e}\n{}", self.log_tail(20)));
        fifo.write_all(format!("{cmd}\n").as_bytes()).unwrap_or_else(|e| panic!("LazyFS's fault FIFO ({cmd}): {e}"));
    }

    /// Waits until `line` comes out of the completion FIFO.
    fn wait_done(&mut self, line: &str) {
        let Some(done) = self.done.as_mut() else { panic!("LazyFS is not mounted") };
        let pending = &mut self.pending;
        let ok = wait_until(DEADLINE, Duration::from_millis(5), || {
            let mut buf = [0u8; 256];
            loop {
                match done.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => pending.push_str(&String::from_utf8_lossy(&buf[..n])),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("reading LazyFS's completion FIFO: {e}"),
                }
            }
            match pending.find(&format!("{line}\n")) {
                Some(i) => {
                    pending.replace_range(..i + line.len() + 1, "");
                    true
                }
                None => false,
            }
        });
        assert!(ok, "LazyFS did not confirm {line:?} within {DEADLINE:?}\n{}", self.log_tail(20));
    }

    /// How full the cache is, in % of its pages (`lazyfs::display-cache-usage`, read from the log).
    fn cache_usage(&mut self) -> f64 {
        const MARK: &str = "cache usage (%pages) is ";
        let log = self.dir.path().join("lazyfs.log");
        let usages = || -> Vec<f64> {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            text.lines()
                .filter_map(|l| l.split(MARK).nth(1))
                .filter_map(|rest| rest.trim_end().trim_end_matches('%').parse().ok())
                .collect()
        };
        let before = usages().len();
        self.command("lazyfs::display-cache-usage");
        let mut now = Vec::new();
        let ok = wait_until(DEADLINE, Duration::from_millis(5), || {
            now = usages();
            now.len() > before
        });
        assert!(ok, "LazyFS did not report its cache usage within {DEADLINE:?}\n{}", self.log_tail(20));
        now.last().copied().unwrap_or(0.0)
    }

    /// Unmounts and waits for LazyFS to end; forces both when they do not happen in time.
    /// Unsynced bytes are lost here too. Errors say what had to be forced.
    fn stop(&mut self) -> Result<(), String> {
        let Some(mut child) = self.process.take() else { return Ok(()) };
        let mnt = self.path();
        let mut problems = Vec::new();
        if mounted(&mnt) && !fusermount("-u", &mnt) {
            problems.push("fusermount3 -u failed (busy?): unmounted lazily".to_string());
            fusermount("-uz", &mnt);
        }
        // After an unmount LazyFS ends by itself, with SIGABRT (status 134): expected.
        let ended = wait_until(DEADLINE, Duration::from_millis(20), || child.try_wait().map_or(true, |s| s.is_some()));
        if !ended {
            problems.push(format!("LazyFS still ran {DEADLINE:?} after the unmount: killed"));
            let _ = child.kill();
            let _ = child.wait();
        }
        if mounted(&mnt) {
            problems.push("the mount was still there: connection aborted".into());
            abort_connection(&mnt);
            fusermount("-uz", &mnt);
        }
        self.done = None;
        if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
    }
}

impl Drop for LazyFs {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("lazyfs: {e}");
        }
    }
}

/// True when `mnt` is a mount point (read from /proc: never touches the mount, so never hangs).
fn mounted(mnt: &Path) -> bool {
    let Some(mnt) = mnt.to_str() else { return false };
    std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default().lines().any(|l| l.split(' ').nth(4) == Some(mnt))
}

/// `timeout 10 fusermount3 FLAG MNT` succeeded.
fn fusermount(flag: &str, mnt: &Path) -> bool {
    Command::new("timeout")
        .args(["10", "fusermount3", flag])
        .arg(mnt)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The way out of a hung FUSE mount: abort its connection through fusectl.
fn abort_connection(mnt: &Path) {
    let Some(m) = mnt.to_str() else { return };
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    // Field 3 is the device, "0:NN": NN names the FUSE connection.
    let Some(conn) = info.lines().find(|l| l.split(' ').nth(4) == Some(m)).and_then(|l| l.split(' ').nth(2)?.split(':').nth(1)) else {
        return;
    };
    let ctl = Path::new("/sys/fs/fuse/connections");
    if !ctl.join(conn).exists() {
        let _ = Command::new("timeout").args(["10", "mount", "-t", "fusectl", "fusectl"]).arg(ctl).status();
    }
    let _ = std::fs::write(ctl.join(conn).join("abort"), "1");
}

/// A detached process (own session) that, once this test process is gone (e.g. SIGKILLed, when
/// no destructor runs), unmounts `dir/mnt` lazily and removes `dir` (never crossing into a mount).
fn spawn_watchdog(dir: &Path) {
    const WATCH: &str = r#"
        while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
        [ -d "$2" ] || exit 0
        timeout 10 fusermount3 -uz "$2/mnt" >/dev/null 2>&1
        rm -rf --one-file-system "$2"
    "#;
    let spawned = Command::new("setsid")
        .args(["sh", "-c", WATCH, "srgate-lazyfs-watchdog"])
        .arg(std::process::id().to_string())
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        eprintln!("lazyfs: no clean-up watchdog (setsid: {e}); a killed test may leave {} mounted", dir.display());
    }
}
